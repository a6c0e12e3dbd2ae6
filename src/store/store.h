/* The job store under STATE_DIR.
 *
 * Layout: STATE_DIR/jobs/<job-id>.json holds one job record each (schema
 * version inside), written atomically; STATE_DIR/current names the most
 * recent job.  History is bounded: the oldest records beyond
 * STORE_MAX_HISTORY are removed.  A record that cannot be read is moved
 * aside as <job-id>.json.corrupt and reported, never silently dropped. */
#pragma once

#include <stdbool.h>

#include "upgrade/job.h"
#include "util/macros.h"

#define STORE_MAX_RECORD_BYTES ((size_t) 65536)
#define STORE_MAX_HISTORY      100

typedef struct Store Store;

/* Opens (creating as needed) the store in STATE_DIR. */
int store_open(const char *state_dir, Store **ret);
Store *store_free(Store *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(Store *, store_free);

/* Persists J atomically and makes it the current job. */
int store_save(Store *s, const Job *j);

/* Persists J atomically without making it the current job (for records
 * other than the newest, e.g. one marked INTERRUPTED at start-up). */
int store_save_record(Store *s, const Job *j);

/* True when a record for ID exists. */
bool store_has_record(Store *s, const char *id);

/* Loads the current job; *ret is NULL (and 0 returned) when there is none. */
int store_load_current(Store *s, Job **ret);

/* Loads the job with ID; -ENOENT when unknown. */
int store_load(Store *s, const char *id, Job **ret);

/* Removes records beyond STORE_MAX_HISTORY, oldest first, never the current one.
 * Returns the number of records removed. */
int store_prune(Store *s);

/* Loads every readable record, newest (by updated time) first; corrupt ones
 * are moved aside and left out.  Free the result with store_job_list_free(). */
int store_list(Store *s, Job ***ret, size_t *ret_n);
void store_job_list_free(Job **jobs, size_t n);
