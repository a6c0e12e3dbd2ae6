/* The job store: save and load, a restart (reopening the same directory),
 * damage from outside (corrupt records, a dangling or hostile "current"),
 * the history bound, and a directory the service cannot write. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "store/store.h"
#include "util/fileio.h"
#include "util/log.h"

#define UNPRIVILEGED_ID 65534 /* "nobody", for the read-only test when run as root */

DEFINE_TRIVIAL_CLEANUP_FUNC(Job *, job_free);

static char tmpdir[] = "/tmp/test-store-XXXXXX";
static char *state_dir;

static int setup(void **state) {
        assert_non_null(mkdtemp(tmpdir));
        log_force_stderr(true);
        return 0;
}

static int teardown(void **state) {
        char cmd[128];

        (void) snprintf(cmd, sizeof(cmd), "chmod -R u+w '%s'; rm -rf '%s'", tmpdir, tmpdir);
        assert_int_equal(system(cmd), 0);
        return 0;
}

/* Each test gets a fresh state directory (not yet existing) below tmpdir. */
static int each_setup(void **state) {
        static unsigned counter;

        assert_true(asprintf(&state_dir, "%s/state-%u/lib", tmpdir, counter++) > 0);
        return 0;
}

static int each_teardown(void **state) {
        free(state_dir);
        state_dir = NULL;
        return 0;
}

static char *path_in(const char *name) {
        char *p = NULL;

        assert_true(asprintf(&p, "%s/%s", state_dir, name) > 0);
        return p;
}

static bool exists(const char *name) {
        _cleanup_free_ char *p = path_in(name);

        return access(p, F_OK) == 0;
}

static void put_file(const char *name, const char *content) {
        _cleanup_free_ char *p = path_in(name);
        FILE *f = fopen(p, "we");

        assert_non_null(f);
        assert_true(fputs(content, f) >= 0);
        assert_int_equal(fclose(f), 0);
}

static Job *new_job(JobMode mode, const char *target) {
        Job *j = NULL;

        assert_int_equal(job_new(mode, target, NULL, &j), 0);
        return j;
}

static void test_open_creates_dirs(void **state) {
        _cleanup_(store_freep) Store *s = NULL;
        _cleanup_free_ char *jobs = path_in("jobs");
        struct stat st;

        assert_int_equal(store_open(state_dir, &s), 0);
        assert_int_equal(stat(state_dir, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0700);
        assert_int_equal(stat(jobs, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0700);

        /* An existing directory (StateDirectory=) keeps its mode. */
        assert_int_equal(chmod(state_dir, 0755), 0);
        s = store_free(s);
        assert_int_equal(store_open(state_dir, &s), 0);
        assert_int_equal(stat(state_dir, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0755);
}

static void test_empty_store(void **state) {
        _cleanup_(store_freep) Store *s = NULL;
        Job *j = (Job *) 1;

        assert_int_equal(store_open(state_dir, &s), 0);
        assert_int_equal(store_load_current(s, &j), 0);
        assert_null(j);
        assert_int_equal(store_load(s, "0123456789abcdef0123456789abcdef", &j), -ENOENT);
        assert_int_equal(store_load(s, "../current", &j), -EINVAL);
        assert_int_equal(store_prune(s), 0);
}

static void test_save_load_restart(void **state) {
        _cleanup_(store_freep) Store *s = NULL;
        _cleanup_(job_freep) Job *a = new_job(JOB_MODE_DASHBOARD, "latest"), *b = NULL, *back = NULL;
        _cleanup_free_ char *record = NULL, *rpath = NULL;
        struct stat st;

        assert_int_equal(store_open(state_dir, &s), 0);
        assert_int_equal(store_save(s, a), 0);
        job_set_state(a, JOB_STATE_MANIFEST_FETCHING);
        a->resolved_target = strdup("3.3.0");
        assert_int_equal(store_save(s, a), 0);

        assert_int_equal(store_load_current(s, &back), 0);
        assert_non_null(back);
        assert_string_equal(back->id, a->id);
        assert_int_equal(back->state, JOB_STATE_MANIFEST_FETCHING);
        assert_string_equal(back->resolved_target, "3.3.0");
        back = job_free(back);

        /* Files are private. */
        assert_true(asprintf(&record, "jobs/%s.json", a->id) > 0);
        rpath = path_in(record);
        assert_int_equal(stat(rpath, &st), 0);
        assert_int_equal(st.st_mode & 0077, 0);

        /* A second job becomes current; the first stays readable. */
        b = new_job(JOB_MODE_MANUAL, "3.3.0");
        assert_int_equal(store_save(s, b), 0);

        /* Restart: a new Store on the same directory. */
        s = store_free(s);
        assert_int_equal(store_open(state_dir, &s), 0);
        assert_int_equal(store_load_current(s, &back), 0);
        assert_non_null(back);
        assert_string_equal(back->id, b->id);
        assert_int_equal(back->mode, JOB_MODE_MANUAL);
        back = job_free(back);

        assert_int_equal(store_load(s, a->id, &back), 0);
        assert_string_equal(back->requested_target, "latest");
        assert_true(back->updated_usec == a->updated_usec);
}

static void test_stale_temporaries_removed(void **state) {
        _cleanup_(store_freep) Store *s = NULL;

        assert_int_equal(store_open(state_dir, &s), 0);
        put_file("jobs/.#tmp-0123", "half a record");
        put_file(".#tmp-4567", "half a pointer");
        s = store_free(s);
        assert_int_equal(store_open(state_dir, &s), 0);
        assert_false(exists("jobs/.#tmp-0123"));
        assert_false(exists(".#tmp-4567"));
}

/* Saves a job, then replaces its record with CONTENT; loading must report
 * it, move it aside and carry on without it. */
static void check_corrupt_record(const char *content) {
        _cleanup_(store_freep) Store *s = NULL;
        _cleanup_(job_freep) Job *a = new_job(JOB_MODE_DASHBOARD, "latest"), *back = NULL;
        _cleanup_free_ char *name = NULL, *corrupt = NULL;

        assert_int_equal(store_open(state_dir, &s), 0);
        assert_int_equal(store_save(s, a), 0);
        assert_true(asprintf(&name, "jobs/%s.json", a->id) > 0);
        assert_true(asprintf(&corrupt, "jobs/%s.json.corrupt", a->id) > 0);
        put_file(name, content);

        s = store_free(s);
        assert_int_equal(store_open(state_dir, &s), 0);
        assert_int_equal(store_load_current(s, &back), 0);
        assert_null(back);
        assert_false(exists(name));
        assert_true(exists(corrupt));

        /* The service goes on: a new job saves and becomes current. */
        job_free(a);
        a = new_job(JOB_MODE_MANUAL, "1.0.0");
        assert_int_equal(store_save(s, a), 0);
        assert_int_equal(store_load_current(s, &back), 0);
        assert_non_null(back);
        assert_string_equal(back->id, a->id);
}

static void test_corrupt_garbage(void **state) {
        check_corrupt_record("\x01\x02 not json at all");
}

static void test_corrupt_torn(void **state) {
        check_corrupt_record("{\"schema_version\": 1, \"state\": \"RE");
}

static void test_corrupt_wrong_id(void **state) {
        check_corrupt_record("{\"schema_version\":1,\"state\":\"READY\",\"mode\":\"MANUAL\","
                             "\"requested_target\":\"1\",\"resolved_target\":\"\",\"error_code\":\"\","
                             "\"error_message\":\"\",\"job_id\":\"ffffffffffffffffffffffffffffffff\","
                             "\"current_version\":\"\",\"created_usec\":1,\"updated_usec\":2}");
}

static void test_corrupt_newer_schema(void **state) {
        check_corrupt_record("{\"schema_version\":99}");
}

static void test_corrupt_trailing_garbage(void **state) {
        check_corrupt_record("{} {}");
}

static void test_corrupt_too_large(void **state) {
        _cleanup_free_ char *big = malloc(STORE_MAX_RECORD_BYTES + 2);

        assert_non_null(big);
        memset(big, ' ', STORE_MAX_RECORD_BYTES + 1);
        big[STORE_MAX_RECORD_BYTES + 1] = '\0';
        check_corrupt_record(big);
}

static void test_current_names_missing_record(void **state) {
        _cleanup_(store_freep) Store *s = NULL;
        Job *back = NULL;

        assert_int_equal(store_open(state_dir, &s), 0);
        put_file("current", "0123456789abcdef0123456789abcdef\n");
        assert_int_equal(store_load_current(s, &back), 0);
        assert_null(back);
}

static void check_hostile_current(const char *content) {
        _cleanup_(store_freep) Store *s = NULL;
        _cleanup_(job_freep) Job *a = new_job(JOB_MODE_DASHBOARD, "latest");
        Job *back = NULL;

        assert_int_equal(store_open(state_dir, &s), 0);
        assert_int_equal(store_save(s, a), 0);
        put_file("current", content);

        s = store_free(s);
        assert_int_equal(store_open(state_dir, &s), 0);
        assert_int_equal(store_load_current(s, &back), 0);
        assert_null(back);
        assert_true(exists("current.corrupt"));
        assert_false(exists("current"));

        /* The record the pointer used to name is untouched. */
        assert_int_equal(store_load(s, a->id, &back), 0);
        job_free(back);
}

static void test_current_path_traversal(void **state) {
        /* A real record outside the store must not be reachable. */
        assert_int_equal(mkdir_parents_and_self(state_dir, 0700), 0);
        put_file("../outside.json", "{}");
        check_hostile_current("../outside\n");
}

static void test_current_traversal_hex_length(void **state) {
        check_hostile_current("../../../../../../../etc/passwd");
}

static void test_current_garbage(void **state) {
        check_hostile_current("0123456789abcdef0123456789abcdef\nevil\n");
}

static void test_current_uppercase(void **state) {
        check_hostile_current("0123456789ABCDEF0123456789ABCDEF\n");
}

static void test_prune(void **state) {
        _cleanup_(store_freep) Store *s = NULL;
        _cleanup_(job_freep) Job *oldest = NULL, *back = NULL;
        Job **list = NULL;
        size_t n = 0;
        char first_id[JOB_ID_MAX];
        const size_t total = STORE_MAX_HISTORY + 7;

        assert_int_equal(store_open(state_dir, &s), 0);

        /* Job i has updated time i; the current one is made the oldest. */
        for (size_t i = 0; i < total; i++) {
                _cleanup_(job_freep) Job *j = new_job(JOB_MODE_MANUAL, "1.0.0");
                j->created_usec = j->updated_usec = 1000 + i;
                if (i == 0)
                        memcpy(first_id, j->id, JOB_ID_MAX);
                assert_int_equal(store_save(s, j), 0);
        }
        oldest = new_job(JOB_MODE_MANUAL, "0.0.1");
        oldest->created_usec = oldest->updated_usec = 1;
        assert_int_equal(store_save(s, oldest), 0);

        assert_int_equal(store_prune(s), (int) (total + 1 - STORE_MAX_HISTORY - 1));

        assert_int_equal(store_list(s, &list, &n), 0);
        assert_int_equal(n, STORE_MAX_HISTORY + 1);
        for (size_t i = 0; i + 1 < n; i++)
                assert_true(list[i]->updated_usec >= list[i + 1]->updated_usec);
        assert_true(list[0]->updated_usec == 1000 + total - 1);
        assert_string_equal(list[n - 1]->id, oldest->id);
        store_job_list_free(list, n);

        /* The current job survived; the oldest of the others did not. */
        assert_int_equal(store_load_current(s, &back), 0);
        assert_non_null(back);
        assert_string_equal(back->id, oldest->id);
        back = job_free(back);
        assert_int_equal(store_load(s, first_id, &back), -ENOENT);

        /* Nothing more to do. */
        assert_int_equal(store_prune(s), 0);
}

static void test_list_skips_corrupt(void **state) {
        _cleanup_(store_freep) Store *s = NULL;
        _cleanup_(job_freep) Job *a = new_job(JOB_MODE_MANUAL, "1"), *b = new_job(JOB_MODE_MANUAL, "2");
        _cleanup_free_ char *name = NULL;
        Job **list = NULL;
        size_t n = 0;

        assert_int_equal(store_open(state_dir, &s), 0);
        assert_int_equal(store_save(s, a), 0);
        assert_int_equal(store_save(s, b), 0);
        assert_true(asprintf(&name, "jobs/%s.json", a->id) > 0);
        put_file(name, "garbage");
        put_file("jobs/not-a-record.json", "{}");

        assert_int_equal(store_list(s, &list, &n), 0);
        assert_int_equal(n, 1);
        assert_string_equal(list[0]->id, b->id);
        store_job_list_free(list, n);
        assert_true(exists("jobs/not-a-record.json"));
}

static void test_refuses_unloadable_record(void **state) {
        _cleanup_(store_freep) Store *s = NULL;
        _cleanup_(job_freep) Job *a = new_job(JOB_MODE_MANUAL, "1.0.0");
        char big[JOB_FIELD_MAX + 2];

        memset(big, 'x', sizeof(big) - 1);
        big[sizeof(big) - 1] = '\0';
        a->resolved_target = strdup(big);

        assert_int_equal(store_open(state_dir, &s), 0);
        assert_int_equal(store_save(s, a), -EINVAL);
        assert_false(exists("current"));
}

/* Runs in a child: as root, permissions are no obstacle, so drop to an
 * unprivileged user first. */
static int try_save_read_only(void) {
        _cleanup_(store_freep) Store *s = NULL;
        _cleanup_(job_freep) Job *a = NULL, *back = NULL;
        int r;

        if (geteuid() == 0 && (setgid(UNPRIVILEGED_ID) < 0 || setuid(UNPRIVILEGED_ID) < 0))
                return 10;

        r = store_open(state_dir, &s);
        if (r < 0)
                return 11;
        if (job_new(JOB_MODE_MANUAL, "1.0.0", NULL, &a) < 0)
                return 12;
        r = store_save(s, a);
        if (r != -EACCES)
                return 13;

        /* A corrupt record that cannot be moved aside is still just absent. */
        r = store_load_current(s, &back);
        if (r < 0 || back)
                return 14;
        return 0;
}

static void test_read_only_directory(void **state) {
        _cleanup_(store_freep) Store *s = NULL;
        _cleanup_(job_freep) Job *a = new_job(JOB_MODE_DASHBOARD, "latest");
        _cleanup_free_ char *name = NULL;
        char cmd[256];
        int status;
        pid_t pid;

        assert_int_equal(store_open(state_dir, &s), 0);
        assert_int_equal(store_save(s, a), 0);
        assert_true(asprintf(&name, "jobs/%s.json", a->id) > 0);
        put_file(name, "torn{");

        (void) snprintf(cmd, sizeof(cmd), "chmod -R a+rX,a-w '%s'", tmpdir);
        assert_int_equal(system(cmd), 0);

        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0)
                _exit(try_save_read_only());
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);

        /* Nothing was lost: the record is still there to investigate. */
        assert_true(exists(name));
        (void) snprintf(cmd, sizeof(cmd), "chmod -R u+w,go-rwx '%s'", tmpdir);
        assert_int_equal(system(cmd), 0);
}

static void test_open_on_a_file(void **state) {
        _cleanup_(store_freep) Store *s = NULL;
        _cleanup_free_ char *file = NULL;

        assert_true(asprintf(&file, "%s/plain-file", tmpdir) > 0);
        assert_int_equal(write_file_atomic(tmpdir, "plain-file", "x", 1, 0600), 0);
        assert_true(store_open(file, &s) < 0);
        assert_null(s);
}

/* Things that are not regular files where the store expects one: a FIFO
 * would block a plain open() forever, a directory cannot be read.  Each is
 * moved aside and the store starts clean, never hangs or fails to open. */
static void test_record_is_a_fifo(void **state) {
        _cleanup_(store_freep) Store *s = NULL;
        _cleanup_(job_freep) Job *a = new_job(JOB_MODE_DASHBOARD, "latest"), *back = NULL;
        _cleanup_free_ char *path = NULL, *corrupt = NULL;

        assert_int_equal(store_open(state_dir, &s), 0);
        assert_int_equal(store_save(s, a), 0);
        assert_true(asprintf(&path, "%s/jobs/%s.json", state_dir, a->id) > 0);
        assert_true(asprintf(&corrupt, "jobs/%s.json.corrupt", a->id) > 0);
        assert_int_equal(unlink(path), 0);
        assert_int_equal(mkfifo(path, 0600), 0);

        s = store_free(s);
        assert_int_equal(store_open(state_dir, &s), 0);
        assert_int_equal(store_load_current(s, &back), 0);
        assert_null(back);
        assert_true(exists(corrupt));
}

static void test_current_is_a_directory_or_fifo(void **state) {
        _cleanup_(store_freep) Store *s = NULL;
        _cleanup_free_ char *current = NULL;
        Job *back = NULL;

        assert_int_equal(store_open(state_dir, &s), 0);
        current = path_in("current");
        assert_int_equal(mkdir(current, 0700), 0);
        assert_int_equal(store_load_current(s, &back), 0);
        assert_null(back);
        assert_true(exists("current.corrupt"));

        assert_int_equal(mkfifo(current, 0600), 0);
        assert_int_equal(store_load_current(s, &back), 0);
        assert_null(back);

        /* With the name free again, a new job becomes current. */
        _cleanup_(job_freep) Job *a = new_job(JOB_MODE_MANUAL, "1.0.0");
        (void) unlink(current);
        assert_int_equal(store_save(s, a), 0);
        assert_int_equal(store_load_current(s, &back), 0);
        assert_non_null(back);
        job_free(back);
}

static void test_jobs_is_a_file(void **state) {
        _cleanup_(store_freep) Store *s = NULL;
        _cleanup_(job_freep) Job *a = new_job(JOB_MODE_MANUAL, "1.0.0"), *back = NULL;

        assert_int_equal(mkdir_parents_and_self(state_dir, 0700), 0);
        put_file("jobs", "not a directory");
        assert_int_equal(store_open(state_dir, &s), 0);
        assert_true(exists("jobs.corrupt"));
        assert_int_equal(store_save(s, a), 0);
        assert_int_equal(store_load_current(s, &back), 0);
        assert_non_null(back);
}

#define T(f) cmocka_unit_test_setup_teardown(f, each_setup, each_teardown)

int main(void) {
        const struct CMUnitTest tests[] = {
                T(test_open_creates_dirs),
                T(test_empty_store),
                T(test_save_load_restart),
                T(test_stale_temporaries_removed),
                T(test_corrupt_garbage),
                T(test_corrupt_torn),
                T(test_corrupt_wrong_id),
                T(test_corrupt_newer_schema),
                T(test_corrupt_trailing_garbage),
                T(test_corrupt_too_large),
                T(test_current_names_missing_record),
                T(test_current_path_traversal),
                T(test_current_traversal_hex_length),
                T(test_current_garbage),
                T(test_current_uppercase),
                T(test_prune),
                T(test_list_skips_corrupt),
                T(test_refuses_unloadable_record),
                T(test_read_only_directory),
                T(test_open_on_a_file),
                T(test_record_is_a_fifo),
                T(test_current_is_a_directory_or_fifo),
                T(test_jobs_is_a_file),
        };

        return cmocka_run_group_tests(tests, setup, teardown);
}
