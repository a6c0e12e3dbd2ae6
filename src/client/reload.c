/* `payram-updater reload --pid PID`: the unit's ExecReload=.  It asks the
 * running service to re-read its configuration and waits for the answer,
 * so that `systemctl reload` returns once the new configuration is in
 * effect, and fails (with the reason in the journal) when the file was
 * refused.  A plain `kill -HUP` would return at once. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "client/client.h"
#include "daemon/daemon.h"
#include "util/parse-util.h"

/* Re-reading a small file takes milliseconds; systemd's own reload timeout
 * (TimeoutSec=) bounds this too. */
#define RELOAD_WAIT_SEC 30

int client_reload(const char *pid_text) {
        struct timespec timeout = { .tv_sec = RELOAD_WAIT_SEC };
        union sigval request = { .sival_int = RELOAD_REQUEST_MAGIC };
        siginfo_t answer;
        sigset_t mask;
        uint64_t pid;

        if (!pid_text || safe_atou64_max(pid_text, INT32_MAX, &pid) < 0 || pid < 2) {
                fprintf(stderr, "reload needs --pid with the service's main PID "
                                "(ExecReload=payram-updater reload --pid $MAINPID)\n");
                return 2;
        }

        /* Block the answer before asking, so that it cannot arrive unseen. */
        sigemptyset(&mask);
        sigaddset(&mask, SIGUSR1);
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
                return 2;

        if (sigqueue((pid_t) pid, SIGHUP, request) < 0) {
                fprintf(stderr, "Cannot signal PID %llu: %m\n", (unsigned long long) pid);
                return 1;
        }

        for (;;) {
                int sig = sigtimedwait(&mask, &answer, &timeout);

                if (sig < 0 && errno == EINTR)
                        continue;
                if (sig < 0) {
                        fprintf(stderr, "No answer from PID %llu within %d s\n", (unsigned long long) pid,
                                RELOAD_WAIT_SEC);
                        return 1;
                }
                if (answer.si_pid != (pid_t) pid || answer.si_code != SI_QUEUE)
                        continue; /* not the service's answer */
                if (answer.si_value.sival_int != 0) {
                        fprintf(stderr, "The configuration was refused; the previous one stays in effect "
                                        "(see journalctl -u payram-updater)\n");
                        return 1;
                }
                return 0;
        }
}
