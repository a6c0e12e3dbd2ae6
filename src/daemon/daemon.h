/* The service: configuration, listening sockets, the event loop and its
 * conversation with systemd (readiness, status, reload, watchdog, stop). */
#pragma once

#include <stdbool.h>

/* `payram-updater reload --pid PID` (the unit's ExecReload=) queues SIGHUP
 * with this value and waits for the answer: SIGUSR1 carrying 0 when the new
 * configuration is in effect, 1 when it was refused.  A plain SIGHUP gets
 * no answer. */
#define RELOAD_REQUEST_MAGIC 0x52454c44 /* "RELD" */

/* Runs the service until SIGTERM/SIGINT (or the idle exit); returns the
 * process exit status.  The default configuration file may be missing (the
 * environment may say it all); one named on the command line
 * (CONFIG_MUST_EXIST) must exist. */
int daemon_run(const char *config_path, bool config_must_exist);
