/* Service-level logging: one line per meaningful event, to the journal when
 * journald is there and to stderr otherwise.  Per-job entries go through
 * joblog/, which adds the PAYRAM_* fields; this is for everything else. */
#pragma once

#include <stdbool.h>
#include <syslog.h>

#include "util/macros.h"

/* Decides once where messages go; cheap to call again. */
void log_open(void);

/* Forces stderr even when a journal exists (command-line client, tests). */
void log_force_stderr(bool b);

/* True when entries are sent to journald rather than printed. */
bool log_to_journal(void);

/* Logs at PRIORITY; when MESSAGE_ID is non-NULL it is attached as the
 * journal's MESSAGE_ID field so that catalog entries apply.  Returns -err
 * when err is non-zero, 0 otherwise, so callers can write
 * `return log_error_errno(r, ...)`. */
int log_full(int priority, int err, const char *message_id, const char *format, ...) _printf_(4, 5);

#define log_debug(...)   log_full(LOG_DEBUG, 0, NULL, __VA_ARGS__)
#define log_info(...)    log_full(LOG_INFO, 0, NULL, __VA_ARGS__)
#define log_notice(...)  log_full(LOG_NOTICE, 0, NULL, __VA_ARGS__)
#define log_warning(...) log_full(LOG_WARNING, 0, NULL, __VA_ARGS__)
#define log_error(...)   log_full(LOG_ERR, 0, NULL, __VA_ARGS__)
#define log_error_errno(err, ...)   log_full(LOG_ERR, (err), NULL, __VA_ARGS__)
#define log_warning_errno(err, ...) log_full(LOG_WARNING, (err), NULL, __VA_ARGS__)

/* Out of memory is reported once and mapped to -ENOMEM. */
#define log_oom() log_full(LOG_ERR, ENOMEM, NULL, "Out of memory")
