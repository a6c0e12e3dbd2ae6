/* The job manager: owns the one active job and drives it through its
 * steps on the event loop (fetch the policy, plan, fetch the manifest),
 * persisting every transition and logging every step.  It is the only
 * place that creates jobs, so "at most one active job" is a single check
 * with no window between the check and the creation. */
#pragma once

#include <stdbool.h>

#include <systemd/sd-event.h>

#include "joblog/joblog.h"
#include "store/store.h"
#include "upgrade/job.h"
#include "util/macros.h"
#include "util/message-ids.h"

typedef struct Manager Manager;
typedef struct ManagerWaiter ManagerWaiter;

/* What a job fetches, copied at its start so that a reload affects only
 * the next job. */
typedef struct JobSources {
        const char *policy_url;
        const char *manifest_url;
        uint64_t fetch_timeout_usec;
} JobSources;

/* Called when the job reaches READY or FAILED. */
typedef void (*manager_job_done_t)(Manager *m, const Job *job, void *userdata);

/* Called on every state change of the current job (for sd_notify STATUS=). */
typedef void (*manager_changed_t)(Manager *m, void *userdata);

int manager_new(sd_event *event, const char *state_dir, const char *log_dir, Manager **ret);
Manager *manager_free(Manager *m);
DEFINE_TRIVIAL_CLEANUP_FUNC(Manager *, manager_free);

/* Loads the last job; one that was not finished becomes FAILED/INTERRUPTED. */
int manager_recover(Manager *m);

/* Starts a job.  -EBUSY when one is active, -ESHUTDOWN once stopping; other errors (the state cannot
 * be persisted) leave no job behind.  *ret_job points at the new job. */
int manager_start_job(Manager *m, const JobSources *src, JobMode mode, const char *requested_target,
                      const char *current_version, const Job **ret_job);

/* Registers CB for the end of the current job; NULL when none is active. */
ManagerWaiter *manager_wait(Manager *m, manager_job_done_t cb, void *userdata);
void manager_waiter_cancel(ManagerWaiter *w);

/* The service is stopping: an active job ends as FAILED/INTERRUPTED with
 * WHY, and no new job starts (manager_start_job() returns -ESHUTDOWN). */
void manager_stop(Manager *m, const char *why);

void manager_set_changed_callback(Manager *m, manager_changed_t cb, void *userdata);

const Job *manager_current_job(const Manager *m);   /* NULL when there never was one */
const JobLog *manager_current_log(const Manager *m); /* NULL when there is no job */
bool manager_is_busy(const Manager *m);
