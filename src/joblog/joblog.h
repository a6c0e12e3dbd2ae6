/* Per-job log: each entry goes to LOG_DIR/<job-id>.log as one JSON line
 * ({"time","level","message"}), to the journal with the PAYRAM_* fields of
 * the job (or to stderr without a journal), and to an in-memory list that
 * GET /upgrade/logs serves.  The file lets the list be rebuilt after a
 * restart.
 *
 * Nothing here can tell a secret from other text: callers must never pass
 * one.  URLs go through url_redact() (util/url-util.h) before they reach a
 * message, and container environments are never logged.  Messages are
 * bounded and their control characters replaced, so text from outside
 * cannot forge entries. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "upgrade/job.h"
#include "util/macros.h"

#define JOBLOG_MAX_ENTRIES       1000 /* older entries are dropped from memory, not from the file */
#define JOBLOG_MAX_MESSAGE_BYTES 2048 /* longer messages are cut, marked with "..." */
#define JOBLOG_MAX_FILE_BYTES    ((size_t) 4 << 20)

typedef enum JobLogLevel {
        JOBLOG_INFO,
        JOBLOG_WARNING,
        JOBLOG_ERROR,
        _JOBLOG_LEVEL_MAX,
} JobLogLevel;

typedef struct JobLog JobLog;

/* Opens (creating) LOG_DIR/<job id>.log for appending.  Only an invalid id
 * or a lack of memory is an error: when the file cannot be opened that is
 * reported once and the log keeps entries in memory and the journal. */
int joblog_open(const char *log_dir, const char *job_id, JobLog **ret);

/* Opens an existing job's log and loads its entries (after a restart): at
 * most the last JOBLOG_MAX_FILE_BYTES, skipping malformed lines and a torn
 * last line.  A missing or unreadable file leaves the list empty. */
int joblog_load(const char *log_dir, const char *job_id, JobLog **ret);

JobLog *joblog_free(JobLog *l);
DEFINE_TRIVIAL_CLEANUP_FUNC(JobLog *, joblog_free);

/* Records one entry.  JOB supplies the journal fields (state, mode, targets,
 * error code) as they are at this moment.  MESSAGE_ID may be NULL; when set
 * it becomes the journal's MESSAGE_ID so the catalog explains the entry.
 * Failing to write the file is reported once and does not stop the job. */
void joblog_add(JobLog *l, const Job *job, JobLogLevel level, const char *message_id,
                const char *format, ...) _printf_(5, 6);

/* {"logs":[...]} is built from this: a new array of the entries in memory. */
struct json_object *joblog_to_json(const JobLog *l);
