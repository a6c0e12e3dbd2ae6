/* The service: configuration, listening sockets, the event loop and its
 * conversation with systemd (readiness, status, reload, watchdog, stop). */
#pragma once

#include <stdbool.h>

/* Runs the service until SIGTERM/SIGINT (or the idle exit); returns the
 * process exit status.  The default configuration file may be missing (the
 * environment may say it all); one named on the command line
 * (CONFIG_MUST_EXIST) must exist. */
int daemon_run(const char *config_path, bool config_must_exist);
