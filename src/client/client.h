/* The command-line client: `payram-updater status|logs|upgrade|health`
 * talks to a running service over its HTTP API. */
#pragma once

#include <stdbool.h>

/* True when ARG names a client subcommand. */
bool client_is_command(const char *arg);

/* Asks the service with PID to reload and waits for its answer; returns
 * the process exit status (0 reloaded, 1 refused or no answer, 2 usage). */
int client_reload(const char *pid_text);

/* "status, logs, upgrade, health", for messages. */
const char *client_commands_list(void);

/* Runs the subcommand in ARGV[0]; returns the process exit status:
 * 0 success, 1 the job failed or the service said no, 2 usage or
 * connection errors. */
int client_main(int argc, char **argv);
