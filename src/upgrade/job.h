/* The job record: what a job is, its states and modes with their string
 * forms, and its JSON form.  The same record is what the API shows and what
 * the store keeps; the stored form carries a schema version so that later
 * states and fields load without breaking older files. */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>

#define JOB_ID_MAX 33 /* 32 hex digits + NUL */
#define JOB_SCHEMA_VERSION 1

/* Bounds on the strings of a record, so that every record the service writes
 * fits the store's record limit and loads again. */
#define JOB_FIELD_MAX   256  /* targets, versions, error codes */
#define JOB_MESSAGE_MAX 4096 /* error_message: longer ones are cut */

typedef enum JobState {
        JOB_STATE_IDLE,
        JOB_STATE_POLICY_FETCHING,
        JOB_STATE_MANIFEST_FETCHING,
        JOB_STATE_READY,
        JOB_STATE_FAILED,
        _JOB_STATE_MAX,
        _JOB_STATE_INVALID = -EINVAL,
} JobState;

typedef enum JobMode {
        JOB_MODE_DASHBOARD,
        JOB_MODE_MANUAL,
        _JOB_MODE_MAX,
        _JOB_MODE_INVALID = -EINVAL,
} JobMode;

const char *job_state_to_string(JobState s);
JobState job_state_from_string(const char *s);
const char *job_mode_to_string(JobMode m);
JobMode job_mode_from_string(const char *s);

/* True for exactly 32 lowercase hex digits: the only form an id takes, so
 * that an id read from a file is safe to use in a path. */
bool job_id_is_valid(const char *id);

/* READY and FAILED: a new job may start. */
bool job_state_is_terminal(JobState s);

/* Error codes the API reports (error_code field). */
#define JOB_ERROR_POLICY_FETCH_FAILED     "POLICY_FETCH_FAILED"
#define JOB_ERROR_POLICY_INVALID          "POLICY_INVALID"
#define JOB_ERROR_MANIFEST_FETCH_FAILED   "MANIFEST_FETCH_FAILED"
#define JOB_ERROR_MANIFEST_INVALID        "MANIFEST_INVALID"
#define JOB_ERROR_MANUAL_UPGRADE_REQUIRED "MANUAL_UPGRADE_REQUIRED"
#define JOB_ERROR_INVALID_TARGET          "INVALID_TARGET"
#define JOB_ERROR_INTERRUPTED             "INTERRUPTED"
#define JOB_ERROR_STATE_WRITE_FAILED      "STATE_WRITE_FAILED"
#define JOB_ERROR_INTERNAL                "INTERNAL_ERROR"

typedef struct Job {
        char id[JOB_ID_MAX];
        JobState state;
        JobMode mode;
        char *requested_target;
        char *resolved_target;  /* NULL until resolved */
        char *current_version;  /* NULL when the caller did not say */
        char *error_code;       /* NULL unless FAILED */
        char *error_message;
        uint64_t created_usec;  /* CLOCK_REALTIME */
        uint64_t updated_usec;
} Job;

/* A fresh job with a random id, in POLICY_FETCHING.  A target or version
 * longer than JOB_FIELD_MAX is -EINVAL. */
int job_new(JobMode mode, const char *requested_target, const char *current_version, Job **ret);
Job *job_free(Job *j);

/* Moves to STATE and stamps updated_usec. */
void job_set_state(Job *j, JobState state);

/* Moves to FAILED with CODE and MESSAGE (cut to JOB_MESSAGE_MAX).  The state
 * changes even when copying the strings fails (-ENOMEM). */
int job_fail(Job *j, const char *code, const char *message);

/* The status object of the API: state, mode, requested_target,
 * resolved_target, error_code, error_message first (empty strings for
 * NULL), then job_id, created_at, updated_at, current_version. */
struct json_object *job_to_status_json(const Job *j);

/* The stored form: "schema_version", the status object, then "created_usec"
 * and "updated_usec" (integer microseconds since the epoch; these are what
 * load reads, the RFC 3339 strings are for people).  NULL strings are stored
 * as "" and load back as NULL. */
struct json_object *job_to_stored_json(const Job *j);

/* Reads a stored record.  Unknown keys are ignored; a schema_version newer
 * than JOB_SCHEMA_VERSION, a missing or malformed id, an unknown state or
 * mode, a missing time or an over-long string is -EINVAL with a reason in
 * *ret_error (static string).  -ENOMEM leaves *ret_error NULL. */
int job_from_stored_json(struct json_object *obj, Job **ret, const char **ret_error);
