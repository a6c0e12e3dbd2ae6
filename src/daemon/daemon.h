/* The service: configuration, listening sockets, the event loop and its
 * conversation with systemd (readiness, status, reload, watchdog, stop). */
#pragma once

/* Runs the service until SIGTERM/SIGINT (or the idle exit); returns the
 * process exit status. */
int daemon_run(const char *config_path);
