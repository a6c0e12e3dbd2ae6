/* The service process.
 *
 * Start-up: load the configuration (fatal when invalid), take the
 * listening sockets from systemd or bind 127.0.0.1:UPDATER_PORT, recover
 * the last job, then serve on one sd-event loop and tell systemd READY=1.
 *
 * Signals arrive as event sources: SIGHUP reloads the configuration with
 * the RELOADING=1/READY=1 handshake, SIGTERM and SIGINT stop accepting,
 * interrupt an active job (persisted as FAILED/INTERRUPTED), let answers in
 * flight go out and exit 0.  The loop pings the watchdog itself
 * (sd_event_set_watchdog), so a stalled loop is what systemd detects. */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>
#include <systemd/sd-event.h>

#include "api/api.h"
#include "build-config.h"
#include "config/config.h"
#include "daemon/daemon.h"
#include "manager/manager.h"
#include "server/http-server.h"
#include "util/log.h"
#include "util/message-ids.h"
#include "util/time-util.h"

/* How long answers in flight may take to go out once stopping. */
#define SHUTDOWN_GRACE_USEC (5 * USEC_PER_SEC)
#define LISTEN_BACKLOG 256
/* sysexits.h's EX_CONFIG: the unit does not restart on it (a restart cannot
 * fix a file). */
#define EXIT_CONFIG 78

typedef struct Daemon {
        sd_event *event;
        const char *config_path;
        Config config;
        bool socket_activated;
        bool stopping;

        Manager *manager;
        HttpServer *server;
        Api *api;

        sd_event_source *idle_timer;
        sd_event_source *grace_timer;
} Daemon;

/* ---- systemd status ---- */

static void daemon_update_status(Daemon *d) {
        const Job *job = manager_current_job(d->manager);

        if (!job) {
                (void) sd_notify(false, "STATUS=Idle, no upgrade job yet");
                return;
        }
        if (!job_state_is_terminal(job->state))
                (void) sd_notifyf(false, "STATUS=Job %s: %s (%s, target %s)", job->id,
                                  job_state_to_string(job->state), job_mode_to_string(job->mode),
                                  job->requested_target);
        else if (job->state == JOB_STATE_FAILED)
                (void) sd_notifyf(false, "STATUS=Idle; last job %s FAILED: %s", job->id,
                                  strempty(job->error_code));
        else
                (void) sd_notifyf(false, "STATUS=Idle; last job %s READY for %s", job->id,
                                  strempty(job->resolved_target));
}

/* ---- idle exit ---- */

static bool daemon_is_idle(Daemon *d) {
        return http_server_n_connections(d->server) == 0 && !manager_is_busy(d->manager);
}

/* Only a socket-activated service may exit when idle: systemd keeps the
 * listening socket and starts it again on the next connection. */
static void daemon_rearm_idle_exit(Daemon *d) {
        if (!d->idle_timer)
                return;
        if (d->stopping || d->config.idle_exit_sec == 0 || !daemon_is_idle(d)) {
                (void) sd_event_source_set_enabled(d->idle_timer, SD_EVENT_OFF);
                return;
        }
        (void) sd_event_source_set_time_relative(d->idle_timer, d->config.idle_exit_sec * USEC_PER_SEC);
        (void) sd_event_source_set_enabled(d->idle_timer, SD_EVENT_ONESHOT);
}

static int on_idle_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        Daemon *d = userdata;

        if (!daemon_is_idle(d))
                return 0;
        log_info("No connection and no job for %" PRIu64 " s, exiting until the next request",
                 d->config.idle_exit_sec);
        (void) sd_notify(false, "STOPPING=1\nSTATUS=Exiting while idle");
        return sd_event_exit(d->event, EXIT_SUCCESS);
}

/* ---- callbacks from the parts ---- */

static void on_manager_changed(Manager *m, void *userdata) {
        Daemon *d = userdata;

        daemon_update_status(d);
        daemon_rearm_idle_exit(d);
}

static void on_server_activity(HttpServer *s, void *userdata) {
        Daemon *d = userdata;

        if (d->stopping && http_server_n_connections(s) == 0) {
                (void) sd_event_exit(d->event, EXIT_SUCCESS);
                return;
        }
        daemon_rearm_idle_exit(d);
}

static void job_sources(JobSources *ret, void *userdata) {
        Daemon *d = userdata;

        *ret = (JobSources) {
                .policy_url = d->config.policy_url,
                .manifest_url = d->config.manifest_url,
                .fetch_timeout_usec = d->config.fetch_timeout_sec * USEC_PER_SEC,
        };
}

static HttpServerSettings server_settings(const Config *c) {
        HttpServerSettings s = {
                .limits = HTTP_LIMITS_DEFAULT,
                .max_connections = c->http_max_connections,
                .request_timeout_usec = c->http_request_timeout_sec * USEC_PER_SEC,
                .idle_timeout_usec = c->http_idle_timeout_sec * USEC_PER_SEC,
        };

        s.limits.max_header_bytes = c->http_max_header_bytes;
        s.limits.max_body_bytes = c->http_max_body_bytes;
        return s;
}

/* ---- signals ---- */

static int on_grace_timeout(sd_event_source *s, uint64_t usec, void *userdata) {
        Daemon *d = userdata;

        log_warning("Answers still in flight after %" PRIu64 " s, exiting anyway",
                    SHUTDOWN_GRACE_USEC / USEC_PER_SEC);
        return sd_event_exit(d->event, EXIT_SUCCESS);
}

static int on_stop_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        Daemon *d = userdata;

        if (d->stopping)
                return 0;
        d->stopping = true;

        log_info("Received %s, stopping", strsignal((int) si->ssi_signo));
        (void) sd_notify(false, "STOPPING=1\nSTATUS=Stopping");

        /* Shut the server down first, so that the answer to a caller waiting
         * on the job (sent by the interrupt) already says "Connection: close";
         * the job is persisted as interrupted. */
        http_server_shutdown(d->server);
        manager_stop(d->manager, "the service was stopped before the job finished");
        if (http_server_n_connections(d->server) == 0)
                return sd_event_exit(d->event, EXIT_SUCCESS);

        return sd_event_add_time_relative(d->event, &d->grace_timer, CLOCK_MONOTONIC, SHUTDOWN_GRACE_USEC, 0,
                                          on_grace_timeout, d);
}

static void daemon_note_fixed_keys(const Config *old, const Config *new) {
        if (old->port != new->port)
                log_notice("UPDATER_PORT changed to %u: it applies when the service is restarted",
                           (unsigned) new->port);
        if (!streq(old->state_dir, new->state_dir) || !streq(old->log_dir, new->log_dir))
                log_notice("STATE_DIR and LOG_DIR changes apply when the service is restarted");
}

static int on_reload_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        Daemon *d = userdata;
        _cleanup_free_ char *error = NULL;
        Config fresh = {};
        int r;

        (void) sd_notifyf(false, "RELOADING=1\nSTATUS=Reloading configuration\nMONOTONIC_USEC=%" PRIu64,
                          now_monotonic_usec());

        r = config_load(d->config_path, environ, &fresh, &error);
        if (r < 0)
                log_full(LOG_ERR, 0, MESSAGE_ID_CONFIG_REFUSED,
                         "Refusing the reloaded configuration, keeping the previous one: %s",
                         error ? error : strerror(-r));
        else {
                daemon_note_fixed_keys(&d->config, &fresh);
                /* Directories are fixed for the life of the process: the store is open there. */
                SWAP_PTR(fresh.state_dir, d->config.state_dir);
                SWAP_PTR(fresh.log_dir, d->config.log_dir);
                fresh.port = d->config.port;
                config_done(&d->config);
                d->config = fresh;
                HttpServerSettings st = server_settings(&d->config);
                http_server_set_settings(d->server, &st);
                log_full(LOG_INFO, 0, MESSAGE_ID_CONFIG_RELOADED, "Configuration reloaded from %s",
                         d->config_path);
                daemon_rearm_idle_exit(d);
        }

        (void) sd_notify(false, "READY=1");
        daemon_update_status(d);

        /* Tell a waiting `payram-updater reload` how it went, so that
         * `systemctl reload` returns only now, and fails when refused. */
        if (si->ssi_code == SI_QUEUE && si->ssi_int == RELOAD_REQUEST_MAGIC && si->ssi_pid > 0) {
                union sigval v = { .sival_int = r < 0 };

                if (sigqueue((pid_t) si->ssi_pid, SIGUSR1, v) < 0)
                        log_warning_errno(errno, "Failed to answer the reload request of PID %u",
                                          si->ssi_pid);
        }
        return 0;
}

#if PAYRAM_TEST_HOOKS
/* Test builds only: SIGUSR2 stalls the loop so the watchdog can be seen to
 * kill and restart the service. */
static int on_stall_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        log_warning("Test hook: stalling the event loop");
        for (;;)
                (void) pause();
        return 0;
}
#endif

static int daemon_add_signals(Daemon *d) {
        sigset_t mask;
        int r;

        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGHUP);
#if PAYRAM_TEST_HOOKS
        sigaddset(&mask, SIGUSR2);
#endif
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
                return -errno;

        r = sd_event_add_signal(d->event, NULL, SIGTERM, on_stop_signal, d);
        if (r >= 0)
                r = sd_event_add_signal(d->event, NULL, SIGINT, on_stop_signal, d);
        if (r >= 0)
                r = sd_event_add_signal(d->event, NULL, SIGHUP, on_reload_signal, d);
#if PAYRAM_TEST_HOOKS
        if (r >= 0)
                r = sd_event_add_signal(d->event, NULL, SIGUSR2, on_stall_signal, d);
#endif
        return r;
}

/* ---- sockets ---- */

static int bind_loopback(uint16_t port) {
        struct sockaddr_in sa = {
                .sin_family = AF_INET,
                .sin_port = htons(port),
                .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
        };
        _cleanup_close_ int fd = -1;
        int one = 1;

        fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0)
                return -errno;
        if (bind(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0)
                return -errno;
        if (listen(fd, LISTEN_BACKLOG) < 0)
                return -errno;
        return TAKE_FD(fd);
}

static int daemon_add_listeners(Daemon *d) {
        int n, r;

        n = sd_listen_fds(true);
        if (n < 0)
                return log_error_errno(n, "Failed to read the sockets passed by systemd");

        for (int fd = SD_LISTEN_FDS_START; fd < SD_LISTEN_FDS_START + n; fd++) {
                r = sd_is_socket_inet(fd, AF_UNSPEC, SOCK_STREAM, 1, 0);
                if (r < 0)
                        return log_error_errno(r, "Failed to inspect socket fd %d passed by systemd", fd);
                if (r == 0) {
                        log_error("Socket fd %d passed by systemd is not a listening TCP socket", fd);
                        return -EINVAL;
                }
                r = http_server_add_listener(d->server, fd);
                if (r < 0)
                        return log_error_errno(r, "Failed to listen on socket fd %d", fd);
        }
        if (n > 0) {
                d->socket_activated = true;
                log_info("Serving on %d socket(s) passed by systemd", n);
                return 0;
        }

        r = bind_loopback(d->config.port);
        if (r < 0)
                return log_error_errno(r, "Failed to listen on 127.0.0.1:%u", (unsigned) d->config.port);
        log_info("Listening on 127.0.0.1:%u", (unsigned) d->config.port);
        return http_server_add_listener(d->server, r);
}

/* ---- life cycle ---- */

static int daemon_setup(Daemon *d) {
        HttpServerSettings st = server_settings(&d->config);
        int r;

        r = sd_event_default(&d->event);
        if (r < 0)
                return log_error_errno(r, "Failed to create the event loop");
        r = daemon_add_signals(d);
        if (r < 0)
                return log_error_errno(r, "Failed to set up signal handling");
        r = sd_event_set_watchdog(d->event, true);
        if (r < 0)
                return log_error_errno(r, "Failed to enable the watchdog");

        r = manager_new(d->event, d->config.state_dir, d->config.log_dir, &d->manager);
        if (r < 0)
                return r;
        r = manager_recover(d->manager);
        if (r < 0)
                return r;
        manager_set_changed_callback(d->manager, on_manager_changed, d);

        r = api_new(d->manager, job_sources, d, &d->api);
        if (r < 0)
                return log_oom();
        r = http_server_new(d->event, &st, api_handle_request, d->api, &d->server);
        if (r < 0)
                return log_oom();
        http_server_set_activity_callback(d->server, on_server_activity, d);

        r = daemon_add_listeners(d);
        if (r < 0)
                return r;

        if (d->socket_activated) {
                r = sd_event_add_time(d->event, &d->idle_timer, CLOCK_MONOTONIC, UINT64_MAX, 0,
                                      on_idle_timer, d);
                if (r < 0)
                        return log_error_errno(r, "Failed to set up the idle timer");
                daemon_rearm_idle_exit(d);
        }
        return 0;
}

static void daemon_done(Daemon *d) {
        /* A job still active (the loop failed, or answers outlived the grace
         * period) is recorded as interrupted, not left looking alive. */
        if (d->manager)
                manager_stop(d->manager, "the service was stopped before the job finished");

        /* Closing the remaining connections calls back into the daemon:
         * detach first, then free the parts before the timers they touch. */
        if (d->server)
                http_server_set_activity_callback(d->server, NULL, NULL);
        d->api = api_free(d->api);
        d->server = http_server_free(d->server);
        d->manager = manager_free(d->manager);
        d->idle_timer = sd_event_source_disable_unref(d->idle_timer);
        d->grace_timer = sd_event_source_disable_unref(d->grace_timer);
        config_done(&d->config);
        d->event = sd_event_unref(d->event);
}

int daemon_run(const char *config_path, bool config_must_exist) {
        _cleanup_free_ char *error = NULL;
        Daemon d = { .config_path = config_path };
        int r;

        log_open();

        if (config_must_exist && access(config_path, F_OK) < 0) {
                log_error_errno(errno, "Configuration file %s", config_path);
                return EXIT_CONFIG;
        }

        r = config_load(config_path, environ, &d.config, &error);
        if (r < 0) {
                log_error("Invalid configuration: %s", error ? error : strerror(-r));
                return EXIT_CONFIG;
        }

        r = daemon_setup(&d);
        if (r >= 0) {
                (void) sd_notify(false, "READY=1");
                daemon_update_status(&d);
                r = sd_event_loop(d.event);
                if (r < 0)
                        log_error_errno(r, "Event loop failed");
        }

        daemon_done(&d);
        return r < 0 ? EXIT_FAILURE : r;
}
