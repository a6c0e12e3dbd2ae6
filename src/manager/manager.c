/* The job manager drives a dry-run job through its steps:
 *
 *   start -> POLICY_FETCHING -> (plan) -> MANIFEST_FETCHING -> READY
 *                 \________________\_____________\___________> FAILED
 *
 * Every step is a callback from the fetcher on the event loop; nothing here
 * blocks.  Every transition is persisted before it is announced (log,
 * journal, waiters), so what an observer saw is never newer than what a
 * restart would find. */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fetch/fetcher.h"
#include "manager/manager.h"
#include "upgrade/manifest.h"
#include "upgrade/plan.h"
#include "upgrade/policy.h"
#include "util/fileio.h"
#include "util/log.h"
#include "util/message-ids.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(Job *, job_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(DIR *, closedir);

struct ManagerWaiter {
        Manager *manager;
        ManagerWaiter *prev, *next;
        char job_id[JOB_ID_MAX];
        manager_job_done_t cb;
        void *userdata;
};

struct Manager {
        sd_event *event;
        Fetcher *fetcher;
        Store *store;
        char *log_dir;

        Job *job;         /* current or last job, NULL when there never was one */
        JobLog *log;      /* its log */
        FetchRequest *fetch;

        /* Copied from the configuration when the job started. */
        char *policy_url;
        char *manifest_url;
        uint64_t fetch_timeout_usec;

        bool stopping;    /* the service is stopping: no new job starts */

        ManagerWaiter *waiters;
        manager_changed_t changed_cb;
        void *changed_userdata;
};

/* ---- bookkeeping ---- */

static void manager_changed(Manager *m) {
        if (m->changed_cb)
                m->changed_cb(m, m->changed_userdata);
}

static void manager_persist(Manager *m) {
        int r = store_save(m->store, m->job);

        /* Only a failed job's record gets here: it is still served from
         * memory, and a restart reports the job INTERRUPTED. */
        if (r < 0)
                joblog_add(m->log, m->job, JOBLOG_ERROR, NULL,
                           "Failed to save job state in the state directory: %s", strerror(-r));
}

static ManagerWaiter *find_waiter(Manager *m, const char *job_id) {
        for (ManagerWaiter *w = m->waiters; w; w = w->next)
                if (streq(w->job_id, job_id))
                        return w;
        return NULL;
}

static void waiter_unlink(ManagerWaiter *w) {
        Manager *m = w->manager;

        if (w->prev)
                w->prev->next = w->next;
        else
                m->waiters = w->next;
        if (w->next)
                w->next->prev = w->prev;
        w->prev = w->next = NULL;
}

/* Each waiter is unlinked before its callback runs, and the list is
 * searched afresh each time, so callbacks may cancel waiters or start the
 * next job. */
static void manager_notify_waiters(Manager *m) {
        char id[JOB_ID_MAX];
        ManagerWaiter *w;

        memcpy(id, m->job->id, sizeof(id));
        while ((w = find_waiter(m, id))) {
                waiter_unlink(w);
                w->cb(m, m->job, w->userdata);
                free(w);
        }
}

static void manager_finish(Manager *m) {
        m->fetch = NULL;
        manager_changed(m);
        manager_notify_waiters(m);
}

static void manager_fail(Manager *m, const char *code, const char *message) {
        if (job_fail(m->job, code, message) < 0)
                (void) job_fail(m->job, JOB_ERROR_INTERNAL, "Out of memory");
        manager_persist(m);
        joblog_add(m->log, m->job, JOBLOG_ERROR, MESSAGE_ID_JOB_FAILED, "Upgrade job failed (%s): %s",
                   m->job->error_code, m->job->error_message);
        manager_finish(m);
}

static void manager_failf(Manager *m, const char *code, const char *format, ...) _printf_(3, 4);
static void manager_failf(Manager *m, const char *code, const char *format, ...) {
        _cleanup_free_ char *message = NULL;
        va_list ap;
        int n;

        va_start(ap, format);
        n = vasprintf(&message, format, ap);
        va_end(ap);
        if (n < 0)
                message = NULL;
        manager_fail(m, code, message ? message : "Out of memory");
}

/* The same wording whether the service was stopped or died: the state the
 * job was in, and why it ended. */
static void manager_fail_interrupted(Manager *m, const char *why) {
        manager_failf(m, JOB_ERROR_INTERRUPTED, "Interrupted in state %s: %s",
                      job_state_to_string(m->job->state), why);
}

/* A job whose progress cannot be recorded does not go on: after a crash
 * the store would tell another story than the one the caller was told.
 * Returns false when the job failed instead. */
static bool manager_set_state(Manager *m, JobState state) {
        int r;

        job_set_state(m->job, state);
        r = store_save(m->store, m->job);
        if (r < 0) {
                const char *name = job_state_to_string(state);

                manager_failf(m, JOB_ERROR_STATE_WRITE_FAILED,
                              "Cannot record state %s in the state directory: %s", name, strerror(-r));
                return false;
        }
        manager_changed(m);
        return true;
}

/* ---- steps ---- */

/* fetcher_start() refuses before any transfer: say what that means. */
static const char *fetch_start_error(int r) {
        return r == -EINVAL ? "not an http, https or file URL of a regular file" : strerror(-r);
}

static void on_manifest_fetched(FetchRequest *req, int r, const char *body, size_t len, const char *error,
                                void *userdata);

static void manager_fetch_manifest(Manager *m) {
        _cleanup_free_ char *shown = url_redact(m->manifest_url);
        int r;

        if (!manager_set_state(m, JOB_STATE_MANIFEST_FETCHING))
                return;
        joblog_add(m->log, m->job, JOBLOG_INFO, NULL, "Fetching runtime manifest from %s", strempty(shown));

        r = fetcher_start(m->fetcher, m->manifest_url, m->fetch_timeout_usec, FETCH_MAX_BYTES,
                          on_manifest_fetched, m, &m->fetch);
        if (r < 0)
                manager_failf(m, JOB_ERROR_MANIFEST_FETCH_FAILED, "Cannot fetch %s: %s", strempty(shown),
                              fetch_start_error(r));
}

static void on_manifest_fetched(FetchRequest *req, int r, const char *body, size_t len, const char *error,
                                void *userdata) {
        Manager *m = userdata;
        _cleanup_free_ char *parse_error = NULL;
        Manifest manifest = {};

        m->fetch = NULL;
        if (r < 0) {
                /* The fetcher's message names the (redacted) URL and the cause. */
                manager_fail(m, JOB_ERROR_MANIFEST_FETCH_FAILED, strempty(error));
                return;
        }
        if (manifest_parse(body, len, &manifest, &parse_error) < 0) {
                manager_failf(m, JOB_ERROR_MANIFEST_INVALID, "The runtime manifest is invalid: %s",
                              parse_error ? parse_error : "out of memory");
                return;
        }

        joblog_add(m->log, m->job, JOBLOG_INFO, NULL,
                   "Runtime manifest: image %s:%s, container %s, health check %s", manifest.image_repo,
                   m->job->resolved_target,
                   manifest.container_name ? manifest.container_name : "name not set (the running one)",
                   manifest.health_endpoint);
        manifest_done(&manifest);

        if (!manager_set_state(m, JOB_STATE_READY))
                return;
        joblog_add(m->log, m->job, JOBLOG_INFO, MESSAGE_ID_JOB_READY,
                   "Dry run complete: ready to upgrade to %s", m->job->resolved_target);
        manager_finish(m);
}

/* Applies the plan; returns false when the job failed. */
static bool manager_plan(Manager *m, const Policy *policy) {
        PlanRequest req = {
                .mode = m->job->mode,
                .requested_target = m->job->requested_target,
                .current_version = m->job->current_version,
        };
        PlanResult result = {};
        bool ok;

        if (plan_resolve(&req, policy, &result) < 0) {
                manager_fail(m, JOB_ERROR_INTERNAL, "Out of memory while planning the upgrade");
                return false;
        }

        if (result.resolved_target)
                (void) free_and_strdup(&m->job->resolved_target, result.resolved_target);

        ok = !result.error_code;
        if (ok)
                joblog_add(m->log, m->job, JOBLOG_INFO, NULL, "Target %s resolved to %s",
                           m->job->requested_target, m->job->resolved_target);
        else
                manager_fail(m, result.error_code,
                             result.error_message ? result.error_message : result.error_code);
        if (ok && result.unpublished)
                joblog_add(m->log, m->job, JOBLOG_WARNING, NULL,
                           "%s is not among the releases the upgrade policy lists", m->job->resolved_target);

        plan_result_done(&result);
        return ok;
}

/* DASHBOARD jobs stop on a policy problem; MANUAL jobs note it and go on. */
static bool manager_policy_problem(Manager *m, const char *code, const char *message) {
        if (m->job->mode == JOB_MODE_DASHBOARD) {
                manager_fail(m, code, message);
                return false;
        }
        /* "latest" is the policy's to say: without it MANUAL cannot go on
         * either, and the error is the policy's, not a generic one. */
        if (streq(m->job->requested_target, "latest")) {
                manager_failf(m, code, "%s; target \"latest\" needs the policy", message);
                return false;
        }
        joblog_add(m->log, m->job, JOBLOG_WARNING, NULL, "%s; continuing without a policy (MANUAL mode)",
                   message);
        return true;
}

static void on_policy_fetched(FetchRequest *req, int r, const char *body, size_t len, const char *error,
                              void *userdata) {
        Manager *m = userdata;
        _cleanup_free_ char *message = NULL, *parse_error = NULL;
        Policy policy = {};
        bool have_policy = false, go_on;

        m->fetch = NULL;
        if (r < 0) {
                go_on = manager_policy_problem(m, JOB_ERROR_POLICY_FETCH_FAILED, strempty(error));
        } else if (policy_parse(body, len, &policy, &parse_error) < 0) {
                if (asprintf(&message, "The upgrade policy is invalid: %s", strempty(parse_error)) < 0)
                        message = NULL;
                go_on = manager_policy_problem(m, JOB_ERROR_POLICY_INVALID, strempty(message));
        } else {
                have_policy = true;
                go_on = true;
                joblog_add(m->log, m->job, JOBLOG_INFO, NULL,
                           "Upgrade policy: latest %s; releases: %zu; breakpoints: %zu", policy.latest,
                           policy.n_releases, policy.n_breakpoints);
        }

        if (go_on && manager_plan(m, have_policy ? &policy : NULL))
                manager_fetch_manifest(m);
        policy_done(&policy);
}

static void manager_fetch_policy(Manager *m) {
        _cleanup_free_ char *shown = url_redact(m->policy_url);
        int r;

        joblog_add(m->log, m->job, JOBLOG_INFO, NULL, "Fetching upgrade policy from %s", strempty(shown));
        r = fetcher_start(m->fetcher, m->policy_url, m->fetch_timeout_usec, FETCH_MAX_BYTES,
                          on_policy_fetched, m, &m->fetch);
        if (r < 0) {
                _cleanup_free_ char *why = NULL;

                if (asprintf(&why, "Cannot fetch %s: %s", strempty(shown), fetch_start_error(r)) < 0)
                        why = NULL;
                on_policy_fetched(NULL, r, NULL, 0, why ? why : strerror(-r), m);
        }
}

/* ---- public ---- */

int manager_new(sd_event *event, const char *state_dir, const char *log_dir, Manager **ret) {
        _cleanup_(manager_freep) Manager *m = NULL;
        int r;

        m = calloc(1, sizeof(*m));
        if (!m)
                return -ENOMEM;
        m->event = sd_event_ref(event);

        m->log_dir = strdup(log_dir);
        if (!m->log_dir)
                return -ENOMEM;

        r = fetcher_new(event, &m->fetcher);
        if (r < 0)
                return r;
        r = store_open(state_dir, &m->store);
        if (r < 0)
                return log_error_errno(r, "Failed to open the job store in %s", state_dir);
        r = mkdir_parents_and_self(log_dir, 0750);
        if (r < 0)
                return log_error_errno(r, "Failed to create the log directory %s", log_dir);

        *ret = TAKE_PTR(m);
        return 0;
}

Manager *manager_free(Manager *m) {
        if (!m)
                return NULL;

        while (m->waiters) {
                ManagerWaiter *w = m->waiters;
                waiter_unlink(w);
                free(w);
        }
        if (m->fetch)
                fetch_request_cancel(m->fetch);
        fetcher_free(m->fetcher);
        store_free(m->store);
        joblog_free(m->log);
        job_free(m->job);
        free(m->policy_url);
        free(m->manifest_url);
        free(m->log_dir);
        sd_event_unref(m->event);
        free(m);
        return NULL;
}

/* Job logs go with their records, so LOG_DIR stays as bounded as the
 * history.  Only files named like a job log are considered. */
static void manager_prune_logs(Manager *m) {
        _cleanup_(closedirp) DIR *d = opendir(m->log_dir);
        struct dirent *de;

        if (!d)
                return;
        while ((de = readdir(d))) {
                char id[JOB_ID_MAX];
                size_t len = strlen(de->d_name);

                if (len != JOB_ID_MAX - 1 + strlen(".log") || !endswith(de->d_name, ".log"))
                        continue;
                memcpy(id, de->d_name, JOB_ID_MAX - 1);
                id[JOB_ID_MAX - 1] = '\0';
                if (!job_id_is_valid(id) || store_has_record(m->store, id))
                        continue;
                if (unlinkat(dirfd(d), de->d_name, 0) < 0)
                        log_warning_errno(errno, "Failed to remove old job log %s/%s", m->log_dir,
                                          de->d_name);
        }
}

/* A crash between writing a new job's record and pointing "current" at it
 * leaves that record unfinished and unannounced; it is closed here so that
 * no stored job stays active forever. */
static void manager_close_orphans(Manager *m) {
        Job **jobs = NULL;
        size_t n = 0;

        if (store_list(m->store, &jobs, &n) < 0)
                return;
        for (size_t i = 0; i < n; i++) {
                if (job_state_is_terminal(jobs[i]->state) || (m->job && streq(jobs[i]->id, m->job->id)))
                        continue;
                if (job_fail(jobs[i], JOB_ERROR_INTERRUPTED,
                             "The service stopped before the job started") < 0)
                        continue;
                if (store_save_record(m->store, jobs[i]) >= 0)
                        log_warning("Job %s was never started; marked %s", jobs[i]->id,
                                    JOB_ERROR_INTERRUPTED);
        }
        store_job_list_free(jobs, n);
}

int manager_recover(Manager *m) {
        _cleanup_(job_freep) Job *job = NULL;
        _cleanup_(joblog_freep) JobLog *log = NULL;
        int r;

        r = store_load_current(m->store, &job);
        if (r < 0)
                return log_error_errno(r, "Failed to load the last job");
        if (job) {
                r = joblog_load(m->log_dir, job->id, &log);
                if (r < 0)
                        return log_error_errno(r, "Failed to open the log of job %s", job->id);
                m->job = TAKE_PTR(job);
                m->log = TAKE_PTR(log);
        }

        manager_close_orphans(m);
        if (!m->job || job_state_is_terminal(m->job->state))
                return 0;

        manager_fail_interrupted(m, "the service ended (crash, kill or power loss) before the job finished");
        return 0;
}

int manager_start_job(Manager *m, const JobSources *src, JobMode mode, const char *requested_target,
                      const char *current_version, const Job **ret_job) {
        _cleanup_(job_freep) Job *job = NULL;
        _cleanup_(joblog_freep) JobLog *log = NULL;
        int r;

        if (m->stopping)
                return -ESHUTDOWN;
        if (manager_is_busy(m))
                return -EBUSY;

        r = job_new(mode, requested_target, current_version, &job);
        if (r < 0)
                return r;

        /* Nothing is announced, and no log file made, until the new job is
         * on disk: a full disk refuses the job and leaves nothing behind. */
        r = store_save(m->store, job);
        if (r < 0)
                return log_error_errno(r, "Failed to save new job %s", job->id);
        r = joblog_open(m->log_dir, job->id, &log);
        if (r < 0)
                return log_error_errno(r, "Failed to create the log of job %s in %s", job->id, m->log_dir);

        if (free_and_strdup(&m->policy_url, src->policy_url) < 0 ||
            free_and_strdup(&m->manifest_url, src->manifest_url) < 0)
                return -ENOMEM;
        m->fetch_timeout_usec = src->fetch_timeout_usec;

        job_free(m->job);
        joblog_free(m->log);
        m->job = TAKE_PTR(job);
        m->log = TAKE_PTR(log);

        /* History stays bounded: one record in, the oldest beyond the limit out. */
        r = store_prune(m->store);
        if (r < 0)
                log_warning_errno(r, "Failed to prune old job records");
        else if (r > 0)
                manager_prune_logs(m);

        joblog_add(m->log, m->job, JOBLOG_INFO, MESSAGE_ID_JOB_STARTED,
                   "Upgrade job started: mode %s, target %s, current version %s", job_mode_to_string(mode),
                   m->job->requested_target, m->job->current_version ? m->job->current_version : "unknown");
        manager_changed(m);

        if (ret_job)
                *ret_job = m->job;
        manager_fetch_policy(m);
        return 0;
}

ManagerWaiter *manager_wait(Manager *m, manager_job_done_t cb, void *userdata) {
        ManagerWaiter *w;

        if (!manager_is_busy(m))
                return NULL;

        w = calloc(1, sizeof(*w));
        if (!w)
                return NULL;
        w->manager = m;
        memcpy(w->job_id, m->job->id, sizeof(w->job_id));
        w->cb = cb;
        w->userdata = userdata;
        w->next = m->waiters;
        if (m->waiters)
                m->waiters->prev = w;
        m->waiters = w;
        return w;
}

void manager_waiter_cancel(ManagerWaiter *w) {
        if (!w)
                return;
        waiter_unlink(w);
        free(w);
}

void manager_stop(Manager *m, const char *why) {
        m->stopping = true;
        if (!manager_is_busy(m))
                return;

        if (m->fetch) {
                fetch_request_cancel(m->fetch);
                m->fetch = NULL;
        }
        manager_fail_interrupted(m, why);
}

void manager_set_changed_callback(Manager *m, manager_changed_t cb, void *userdata) {
        m->changed_cb = cb;
        m->changed_userdata = userdata;
}

const Job *manager_current_job(const Manager *m) {
        return m->job;
}

const JobLog *manager_current_log(const Manager *m) {
        return m->log;
}

bool manager_is_busy(const Manager *m) {
        return m->job && !job_state_is_terminal(m->job->state);
}
