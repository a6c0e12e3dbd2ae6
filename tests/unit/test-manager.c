/* The job manager on a real event loop with file:// sources: the steps of a
 * dry run, persistence of every outcome, the single active job, recovery of
 * an interrupted job, waiters, and bounded history. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "manager/manager.h"
#include "util/fileio.h"
#include "util/json-util.h"
#include "util/log.h"
#include "util/time-util.h"

#define LOOP_DEADLINE_USEC (10 * USEC_PER_SEC)

typedef struct Env {
        char dir[64];
        char state_dir[128];
        char log_dir[128];
        char *policy_url;
        char *manifest_url;
        sd_event *event;
        Manager *manager;
} Env;

static const char *data_dir(void) {
        const char *d = getenv("PAYRAM_SHARED_DATA");
        return d ? d : "tests/data/payram-scripts";
}

static int setup(void **state) {
        Env *env = calloc(1, sizeof(*env));

        assert_non_null(env);
        (void) snprintf(env->dir, sizeof(env->dir), "/tmp/test-manager-XXXXXX");
        assert_non_null(mkdtemp(env->dir));
        (void) snprintf(env->state_dir, sizeof(env->state_dir), "%s/state", env->dir);
        (void) snprintf(env->log_dir, sizeof(env->log_dir), "%s/log", env->dir);
        assert_true(asprintf(&env->policy_url, "file://%s/upgrade-policy.json", data_dir()) > 0);
        assert_true(asprintf(&env->manifest_url, "file://%s/runtime-manifest.json", data_dir()) > 0);
        assert_int_equal(sd_event_new(&env->event), 0);
        assert_int_equal(manager_new(env->event, env->state_dir, env->log_dir, &env->manager), 0);
        assert_int_equal(manager_recover(env->manager), 0);
        *state = env;
        return 0;
}

static int teardown(void **state) {
        Env *env = *state;
        char cmd[128];

        manager_free(env->manager);
        sd_event_unref(env->event);
        free(env->policy_url);
        free(env->manifest_url);
        (void) snprintf(cmd, sizeof(cmd), "rm -rf '%s'", env->dir);
        assert_int_equal(system(cmd), 0);
        free(env);
        return 0;
}

static JobSources sources(const Env *env) {
        return (JobSources) {
                .policy_url = env->policy_url,
                .manifest_url = env->manifest_url,
                .fetch_timeout_usec = 5 * USEC_PER_SEC,
        };
}

/* Runs the loop until the current job has ended. */
static void run_until_done(Env *env) {
        uint64_t start = now_monotonic_usec();

        while (manager_is_busy(env->manager)) {
                assert_true(sd_event_run(env->event, 100 * USEC_PER_MSEC) >= 0);
                assert_true(now_monotonic_usec() - start < LOOP_DEADLINE_USEC);
        }
}

static void reopen(Env *env) {
        manager_free(env->manager);
        assert_int_equal(manager_new(env->event, env->state_dir, env->log_dir, &env->manager), 0);
        assert_int_equal(manager_recover(env->manager), 0);
}

static const Job *start(Env *env, JobMode mode, const char *target, const char *current) {
        JobSources src = sources(env);
        const Job *job = NULL;

        assert_int_equal(manager_start_job(env->manager, &src, mode, target, current, &job), 0);
        assert_non_null(job);
        return job;
}

static void test_dashboard_ready_and_persisted(void **state) {
        Env *env = *state;
        char id[JOB_ID_MAX];
        const Job *job;

        assert_null(manager_current_job(env->manager));
        job = start(env, JOB_MODE_DASHBOARD, "latest", "2.0.5");
        assert_int_equal(job->state, JOB_STATE_POLICY_FETCHING);
        memcpy(id, job->id, sizeof(id));
        run_until_done(env);

        job = manager_current_job(env->manager);
        assert_int_equal(job->state, JOB_STATE_READY);
        assert_string_equal(job->resolved_target, "3.3.0");

        /* What a restart finds: the same job, READY, with its log. */
        reopen(env);
        job = manager_current_job(env->manager);
        assert_non_null(job);
        assert_string_equal(job->id, id);
        assert_int_equal(job->state, JOB_STATE_READY);
        _cleanup_json_ struct json_object *logs = joblog_to_json(manager_current_log(env->manager));
        assert_true(json_object_array_length(logs) >= 5);
}

static void test_breakpoint_refused(void **state) {
        Env *env = *state;
        const Job *job;

        start(env, JOB_MODE_DASHBOARD, "latest", "1.9.1");
        run_until_done(env);
        job = manager_current_job(env->manager);
        assert_int_equal(job->state, JOB_STATE_FAILED);
        assert_string_equal(job->error_code, JOB_ERROR_MANUAL_UPGRADE_REQUIRED);
        assert_non_null(strstr(job->error_message, "2.0.0"));

        /* The same request in MANUAL mode goes through. */
        start(env, JOB_MODE_MANUAL, "latest", "1.9.1");
        run_until_done(env);
        assert_int_equal(manager_current_job(env->manager)->state, JOB_STATE_READY);
}

static void test_manual_goes_on_without_policy(void **state) {
        Env *env = *state;
        const Job *job;

        free(env->policy_url);
        assert_true(asprintf(&env->policy_url, "file://%s/missing.json", env->dir) > 0);

        start(env, JOB_MODE_MANUAL, "3.2.0", NULL);
        run_until_done(env);
        job = manager_current_job(env->manager);
        assert_int_equal(job->state, JOB_STATE_READY);
        assert_string_equal(job->resolved_target, "3.2.0");

        start(env, JOB_MODE_DASHBOARD, "3.2.0", NULL);
        run_until_done(env);
        job = manager_current_job(env->manager);
        assert_int_equal(job->state, JOB_STATE_FAILED);
        assert_string_equal(job->error_code, JOB_ERROR_POLICY_FETCH_FAILED);
}

static void test_invalid_manifest(void **state) {
        Env *env = *state;
        const Job *job;

        free(env->manifest_url);
        assert_true(asprintf(&env->manifest_url, "file://%s/upgrade-policy.json", data_dir()) > 0);
        start(env, JOB_MODE_MANUAL, "latest", NULL);
        run_until_done(env);
        job = manager_current_job(env->manager);
        assert_int_equal(job->state, JOB_STATE_FAILED);
        assert_string_equal(job->error_code, JOB_ERROR_MANIFEST_INVALID);
}

static void test_one_active_job(void **state) {
        Env *env = *state;
        JobSources src = sources(env);
        const Job *second = NULL;

        start(env, JOB_MODE_MANUAL, "latest", NULL);
        assert_true(manager_is_busy(env->manager));
        assert_int_equal(manager_start_job(env->manager, &src, JOB_MODE_MANUAL, "latest", NULL, &second),
                         -EBUSY);
        assert_null(second);
        run_until_done(env);

        /* Once it ended, the next one may start. */
        start(env, JOB_MODE_MANUAL, "latest", NULL);
        run_until_done(env);
}

static void test_crash_mid_job_becomes_interrupted(void **state) {
        Env *env = *state;
        char id[JOB_ID_MAX];
        const Job *job;

        /* The record on disk says POLICY_FETCHING; dropping the manager
         * without running the loop is what a kill -9 leaves behind. */
        job = start(env, JOB_MODE_DASHBOARD, "latest", "2.0.5");
        memcpy(id, job->id, sizeof(id));
        reopen(env);

        job = manager_current_job(env->manager);
        assert_non_null(job);
        assert_string_equal(job->id, id);
        assert_int_equal(job->state, JOB_STATE_FAILED);
        assert_string_equal(job->error_code, JOB_ERROR_INTERRUPTED);
        assert_false(manager_is_busy(env->manager));

        /* And it stays so across another restart. */
        reopen(env);
        assert_string_equal(manager_current_job(env->manager)->error_code, JOB_ERROR_INTERRUPTED);
}

/* A crash between a new job's record and the "current" pointer leaves an
 * unfinished record that is not current: start-up closes it too. */
static void test_orphan_closed(void **state) {
        Env *env = *state;
        _cleanup_(store_freep) Store *store = NULL;
        Job *orphan = NULL, *loaded = NULL;
        char id[JOB_ID_MAX];

        start(env, JOB_MODE_MANUAL, "latest", NULL);
        run_until_done(env);

        assert_int_equal(store_open(env->state_dir, &store), 0);
        assert_int_equal(job_new(JOB_MODE_DASHBOARD, "latest", NULL, &orphan), 0);
        memcpy(id, orphan->id, sizeof(id));
        assert_int_equal(store_save_record(store, orphan), 0);
        job_free(orphan);

        reopen(env);
        assert_int_equal(manager_current_job(env->manager)->state, JOB_STATE_READY);
        assert_int_equal(store_load(store, id, &loaded), 0);
        assert_int_equal(loaded->state, JOB_STATE_FAILED);
        assert_string_equal(loaded->error_code, JOB_ERROR_INTERRUPTED);
        job_free(loaded);
}

/* When a step cannot be recorded the job stops there, FAILED, rather than
 * going on with a story the disk does not tell.  The record is made
 * unwritable by putting a non-empty directory in its place. */
static void test_unrecordable_step_fails_the_job(void **state) {
        Env *env = *state;
        _cleanup_free_ char *record = NULL, *inside = NULL;
        const Job *job;

        job = start(env, JOB_MODE_MANUAL, "latest", NULL);
        assert_true(asprintf(&record, "%s/jobs/%s.json", env->state_dir, job->id) > 0);
        assert_true(asprintf(&inside, "%s/x", record) > 0);
        assert_int_equal(unlink(record), 0);
        assert_int_equal(mkdir(record, 0700), 0);
        assert_int_equal(mkdir(inside, 0700), 0);

        run_until_done(env);
        job = manager_current_job(env->manager);
        assert_int_equal(job->state, JOB_STATE_FAILED);
        assert_string_equal(job->error_code, JOB_ERROR_STATE_WRITE_FAILED);
        assert_non_null(strstr(job->error_message, "MANIFEST_FETCHING"));
}

typedef struct Waited {
        unsigned calls;
        JobState state;
} Waited;

static void on_done(Manager *m, const Job *job, void *userdata) {
        Waited *w = userdata;

        w->calls++;
        w->state = job->state;
}

static void test_waiters(void **state) {
        Env *env = *state;
        Waited a = {}, b = {};
        ManagerWaiter *wb;

        assert_null(manager_wait(env->manager, on_done, &a)); /* nothing to wait for */

        start(env, JOB_MODE_MANUAL, "latest", NULL);
        assert_non_null(manager_wait(env->manager, on_done, &a));
        wb = manager_wait(env->manager, on_done, &b);
        assert_non_null(wb);
        manager_waiter_cancel(wb);
        run_until_done(env);
        assert_int_equal(a.calls, 1);
        assert_int_equal(a.state, JOB_STATE_READY);
        assert_int_equal(b.calls, 0);
}

static void test_interrupt(void **state) {
        Env *env = *state;
        Waited a = {};

        start(env, JOB_MODE_MANUAL, "latest", NULL);
        assert_non_null(manager_wait(env->manager, on_done, &a));
        manager_stop(env->manager, "stopping");
        assert_int_equal(a.calls, 1);
        assert_int_equal(a.state, JOB_STATE_FAILED);
        assert_string_equal(manager_current_job(env->manager)->error_code, JOB_ERROR_INTERRUPTED);

        /* Nothing is left running: the loop has no job callback to deliver. */
        for (unsigned i = 0; i < 5; i++)
                assert_true(sd_event_run(env->event, 10 * USEC_PER_MSEC) >= 0);
        assert_int_equal(a.calls, 1);

        /* And nothing new starts once stopping. */
        JobSources src = sources(env);
        const Job *job = NULL;
        assert_int_equal(manager_start_job(env->manager, &src, JOB_MODE_MANUAL, "latest", NULL, &job),
                         -ESHUTDOWN);
        assert_string_equal(manager_current_job(env->manager)->error_code, JOB_ERROR_INTERRUPTED);
}

static size_t count_entries(const char *dir, const char *suffix) {
        DIR *d = opendir(dir);
        struct dirent *de;
        size_t n = 0;

        assert_non_null(d);
        while ((de = readdir(d)))
                if (endswith(de->d_name, suffix))
                        n++;
        closedir(d);
        return n;
}

static void test_history_bounded(void **state) {
        Env *env = *state;
        char jobs_dir[160];

        (void) snprintf(jobs_dir, sizeof(jobs_dir), "%s/jobs", env->state_dir);
        for (unsigned i = 0; i < STORE_MAX_HISTORY + 5; i++) {
                start(env, JOB_MODE_DASHBOARD, "latest", "1.9.1");
                run_until_done(env);
        }
        assert_int_equal(count_entries(jobs_dir, ".json"), STORE_MAX_HISTORY);
        assert_int_equal(count_entries(env->log_dir, ".log"), STORE_MAX_HISTORY);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_dashboard_ready_and_persisted, setup, teardown),
                cmocka_unit_test_setup_teardown(test_breakpoint_refused, setup, teardown),
                cmocka_unit_test_setup_teardown(test_manual_goes_on_without_policy, setup, teardown),
                cmocka_unit_test_setup_teardown(test_invalid_manifest, setup, teardown),
                cmocka_unit_test_setup_teardown(test_one_active_job, setup, teardown),
                cmocka_unit_test_setup_teardown(test_crash_mid_job_becomes_interrupted, setup, teardown),
                cmocka_unit_test_setup_teardown(test_orphan_closed, setup, teardown),
                cmocka_unit_test_setup_teardown(test_unrecordable_step_fails_the_job, setup, teardown),
                cmocka_unit_test_setup_teardown(test_waiters, setup, teardown),
                cmocka_unit_test_setup_teardown(test_interrupt, setup, teardown),
                cmocka_unit_test_setup_teardown(test_history_bounded, setup, teardown),
        };

        log_force_stderr(true);
        return cmocka_run_group_tests(tests, NULL, NULL);
}
