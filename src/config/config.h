/* The service configuration: /etc/payram/updater.env in the syntax systemd
 * uses for EnvironmentFile=, overridden key by key by the process
 * environment, every value validated.  A bad value is an error that names
 * the key and where it came from; nothing falls back to a default silently. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "util/macros.h"

#define CONFIG_DEFAULT_PORT                 2359
#define CONFIG_DEFAULT_FETCH_TIMEOUT_SEC    10
#define CONFIG_MAX_FETCH_TIMEOUT_SEC        3600
#define CONFIG_DEFAULT_STATE_DIR            "/var/lib/payram"
#define CONFIG_DEFAULT_LOG_DIR              "/var/log/payram"
#define CONFIG_MAX_FILE_BYTES               ((size_t) 65536)
#define CONFIG_MAX_VALUE_BYTES              ((size_t) 4096)

typedef struct Config {
        uint16_t port;                 /* UPDATER_PORT */
        char *policy_url;              /* POLICY_URL, required */
        char *manifest_url;            /* RUNTIME_MANIFEST_URL, required */
        uint64_t fetch_timeout_sec;    /* FETCH_TIMEOUT_SECONDS, 1..3600 */
        char *state_dir;               /* STATE_DIR > $STATE_DIRECTORY > default */
        char *log_dir;                 /* LOG_DIR > $LOGS_DIRECTORY > default */

        /* HTTP server limits an operator may need to change. */
        uint64_t http_max_connections;       /* HTTP_MAX_CONNECTIONS, default 256 */
        uint64_t http_max_header_bytes;      /* HTTP_MAX_HEADER_BYTES, default 8192 */
        uint64_t http_max_body_bytes;        /* HTTP_MAX_BODY_BYTES, default 65536 */
        uint64_t http_request_timeout_sec;   /* HTTP_REQUEST_TIMEOUT_SECONDS, default 10 */
        uint64_t http_idle_timeout_sec;      /* HTTP_IDLE_TIMEOUT_SECONDS, default 60 */

        uint64_t idle_exit_sec;        /* IDLE_EXIT_SECONDS, 0 = never */
} Config;

/* Loads PATH (which may be missing: then only the environment counts) and
 * ENVIRON (NULL-terminated KEY=VALUE strings, usually `environ`).  On error
 * returns a negative errno and a human-readable message in *ret_error,
 * e.g. "/etc/payram/updater.env:3: UPDATER_PORT=70000: not a port (1-65535)". */
int config_load(const char *path, char *const *environ, Config *ret, char **ret_error);

void config_done(Config *c);

/* Lower-level: parses the text of an environment file into a callback, one
 * KEY and unquoted VALUE at a time with its 1-based line number.  Exposed for
 * tests. */
typedef int (*config_assignment_t)(const char *key, const char *value, unsigned line, void *userdata,
                                   char **ret_error);
int config_parse_env_text(const char *text, size_t len, const char *origin, config_assignment_t cb,
                          void *userdata, char **ret_error);
