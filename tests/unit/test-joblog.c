/* Per-job logs: the JSON lines on disk, the bounded list in memory, reload
 * after a restart (torn and malformed lines, files over the read limit),
 * hostile message text, and a disk that is full. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "joblog/joblog.h"
#include "util/fileio.h"
#include "util/json-util.h"
#include "util/log.h"
#include "util/time-util.h"

#define ID "00112233445566778899aabbccddeeff"
#define FULL_DISK_PADDING 65536

DEFINE_TRIVIAL_CLEANUP_FUNC(Job *, job_free);

static char tmpdir[] = "/tmp/test-joblog-XXXXXX";
static char *log_dir;
static int saved_stderr = -1;

static int setup(void **state) {
        assert_non_null(mkdtemp(tmpdir));
        log_force_stderr(true);
        return 0;
}

static int teardown(void **state) {
        char cmd[128];

        (void) snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
        assert_int_equal(system(cmd), 0);
        return 0;
}

static int each_setup(void **state) {
        static unsigned counter;

        assert_true(asprintf(&log_dir, "%s/logs-%u", tmpdir, counter++) > 0);
        return 0;
}

static int each_teardown(void **state) {
        free(log_dir);
        log_dir = NULL;
        return 0;
}

/* Sends stderr to PATH (or /dev/null) while a test writes many entries. */
static void redirect_stderr(const char *path) {
        int fd = open(path ? path : "/dev/null", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

        assert_true(fd >= 0);
        fflush(stderr);
        saved_stderr = dup(STDERR_FILENO);
        assert_true(saved_stderr >= 0);
        assert_int_equal(dup2(fd, STDERR_FILENO), STDERR_FILENO);
        close(fd);
}

static void restore_stderr(void) {
        fflush(stderr);
        assert_int_equal(dup2(saved_stderr, STDERR_FILENO), STDERR_FILENO);
        close(saved_stderr);
        saved_stderr = -1;
}

static char *log_path(void) {
        char *p = NULL;

        assert_true(asprintf(&p, "%s/%s.log", log_dir, ID) > 0);
        return p;
}

static char *read_log(size_t *ret_len) {
        _cleanup_free_ char *path = log_path();
        char *data = NULL;

        assert_int_equal(read_file_bounded(path, 64 << 20, &data, ret_len), 0);
        return data;
}

static Job *test_job(void) {
        Job *j = NULL;

        assert_int_equal(job_new(JOB_MODE_DASHBOARD, "latest", NULL, &j), 0);
        memcpy(j->id, ID, JOB_ID_MAX);
        return j;
}

/* The entries in memory, as the API serves them. */
static size_t entry_count(JobLog *l) {
        struct json_object *a = joblog_to_json(l);
        size_t n;

        assert_non_null(a);
        n = json_object_array_length(a);
        json_object_put(a);
        return n;
}

static const char *entry_field(struct json_object *a, size_t i, const char *key) {
        return json_get_string(json_object_array_get_idx(a, i), key);
}

static void test_file_lines(void **state) {
        _cleanup_(joblog_freep) JobLog *l = NULL;
        _cleanup_(job_freep) Job *j = test_job();
        _cleanup_free_ char *data = NULL, *path = NULL;
        struct stat st;
        size_t len, lines = 0;
        const char *levels[] = { "info", "warning", "error" };
        char *p, *nl;

        assert_int_equal(joblog_open(log_dir, ID, &l), 0);
        joblog_add(l, j, JOBLOG_INFO, NULL, "Fetching policy from %s", "https://example.com/p.json");
        joblog_add(l, j, JOBLOG_WARNING, NULL, "Policy unavailable: %d", 503);
        joblog_add(l, j, JOBLOG_ERROR, "0f5c2b1ad1f34d1b9d43c0b3b0a5c0de", "Manifest \"invalid\"");

        path = log_path();
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_mode & 0137, 0); /* at most 0640 */

        data = read_log(&len);
        assert_int_equal(data[len - 1], '\n');
        for (p = data; (nl = strchr(p, '\n')); p = nl + 1) {
                const char *err = NULL;

                *nl = '\0';
                struct json_object *o = json_parse_strict(p, strlen(p), &err);

                assert_non_null(o);
                assert_true(lines < 3);
                assert_string_equal(json_get_string(o, "level"), levels[lines]);
                assert_int_equal(strlen(json_get_string(o, "time")), RFC3339_MAX - 1);
                assert_int_equal(json_get_string(o, "time")[RFC3339_MAX - 2], 'Z');
                if (lines == 0)
                        assert_string_equal(json_get_string(o, "message"),
                                            "Fetching policy from https://example.com/p.json");
                if (lines == 2)
                        assert_string_equal(json_get_string(o, "message"), "Manifest \"invalid\"");
                json_object_put(o);
                lines++;
        }
        assert_int_equal(lines, 3);

        struct json_object *a = joblog_to_json(l);
        assert_int_equal(json_object_array_length(a), 3);
        assert_string_equal(entry_field(a, 1, "message"), "Policy unavailable: 503");
        assert_string_equal(entry_field(a, 1, "level"), "warning");
        json_object_put(a);
}

static void test_stderr_format(void **state) {
        _cleanup_(joblog_freep) JobLog *l = NULL;
        _cleanup_(job_freep) Job *j = test_job();
        _cleanup_free_ char *out = NULL, *err_path = NULL;
        size_t len;

        assert_true(asprintf(&err_path, "%s/stderr-format", tmpdir) > 0);
        assert_int_equal(joblog_open(log_dir, ID, &l), 0);
        redirect_stderr(err_path);
        joblog_add(l, j, JOBLOG_WARNING, NULL, "Careful");
        joblog_add(l, NULL, JOBLOG_ERROR, NULL, "No job at hand");
        restore_stderr();

        assert_int_equal(read_file_bounded(err_path, 4096, &out, &len), 0);
        assert_string_equal(out, "[job " ID "] Warning: Careful\n[job " ID "] Error: No job at hand\n");
}

static void test_memory_cap(void **state) {
        _cleanup_(joblog_freep) JobLog *l = NULL;
        _cleanup_(job_freep) Job *j = test_job();
        _cleanup_free_ char *data = NULL;
        struct json_object *a;
        size_t len, lines = 0;

        assert_int_equal(joblog_open(log_dir, ID, &l), 0);
        redirect_stderr(NULL);
        for (int i = 0; i < JOBLOG_MAX_ENTRIES + 5; i++)
                joblog_add(l, j, JOBLOG_INFO, NULL, "entry %d", i);
        restore_stderr();

        a = joblog_to_json(l);
        assert_int_equal(json_object_array_length(a), JOBLOG_MAX_ENTRIES);
        assert_string_equal(entry_field(a, 0, "message"), "entry 5");
        assert_string_equal(entry_field(a, JOBLOG_MAX_ENTRIES - 1, "message"), "entry 1004");
        json_object_put(a);

        /* The file keeps everything. */
        data = read_log(&len);
        for (size_t i = 0; i < len; i++)
                lines += data[i] == '\n';
        assert_int_equal(lines, JOBLOG_MAX_ENTRIES + 5);
}

static void test_reload(void **state) {
        _cleanup_(joblog_freep) JobLog *l = NULL;
        _cleanup_(job_freep) Job *j = test_job();
        struct json_object *a;

        assert_int_equal(joblog_open(log_dir, ID, &l), 0);
        joblog_add(l, j, JOBLOG_INFO, NULL, "first");
        joblog_add(l, j, JOBLOG_ERROR, NULL, "second");
        l = joblog_free(l);

        assert_int_equal(joblog_load(log_dir, ID, &l), 0);
        a = joblog_to_json(l);
        assert_int_equal(json_object_array_length(a), 2);
        assert_string_equal(entry_field(a, 0, "message"), "first");
        assert_string_equal(entry_field(a, 1, "level"), "error");
        json_object_put(a);

        /* Appending goes on after a reload. */
        joblog_add(l, j, JOBLOG_INFO, NULL, "third");
        l = joblog_free(l);
        assert_int_equal(joblog_load(log_dir, ID, &l), 0);
        assert_int_equal(entry_count(l), 3);
}

static void test_load_missing_file(void **state) {
        _cleanup_(joblog_freep) JobLog *l = NULL;
        _cleanup_free_ char *path = NULL;

        assert_int_equal(joblog_load(log_dir, ID, &l), 0);
        assert_int_equal(entry_count(l), 0);
        path = log_path();
        assert_int_equal(access(path, F_OK), 0);
}

static void write_raw_log(const char *content) {
        _cleanup_free_ char *name = NULL;

        assert_int_equal(mkdir_parents_and_self(log_dir, 0750), 0);
        assert_true(asprintf(&name, "%s.log", ID) > 0);
        assert_int_equal(write_file_atomic(log_dir, name, content, strlen(content), 0640), 0);
}

#define GOOD_LINE(m) "{\"time\":\"2026-01-01T00:00:00.000Z\",\"level\":\"info\",\"message\":\"" m "\"}\n"

static void test_torn_and_malformed(void **state) {
        _cleanup_(joblog_freep) JobLog *l = NULL;
        _cleanup_(job_freep) Job *j = test_job();
        struct json_object *a;

        write_raw_log(GOOD_LINE("one")
                      "not json\n"
                      "{\"time\":\"2026-01-01T00:00:00.000Z\",\"level\":\"loud\",\"message\":\"x\"}\n"
                      "{\"time\":\"2026-01-01T00:00:00.000Z\",\"level\":\"info\"}\n"
                      "\n"
                      GOOD_LINE("two")
                      "{\"time\":\"2026-01-01T00:00:00.000Z\",\"level\":\"info\",\"mess");

        assert_int_equal(joblog_load(log_dir, ID, &l), 0);
        a = joblog_to_json(l);
        assert_int_equal(json_object_array_length(a), 2);
        assert_string_equal(entry_field(a, 0, "message"), "one");
        assert_string_equal(entry_field(a, 1, "message"), "two");
        assert_string_equal(entry_field(a, 1, "time"), "2026-01-01T00:00:00.000Z");
        json_object_put(a);

        /* The next entry starts a line of its own: nothing is glued to the
         * torn fragment and lost on the next load. */
        joblog_add(l, j, JOBLOG_INFO, NULL, "three");
        l = joblog_free(l);
        assert_int_equal(joblog_load(log_dir, ID, &l), 0);
        a = joblog_to_json(l);
        assert_int_equal(json_object_array_length(a), 3);
        assert_string_equal(entry_field(a, 2, "message"), "three");
        json_object_put(a);
}

static void test_load_tail_of_large_file(void **state) {
        _cleanup_(joblog_freep) JobLog *l = NULL;
        _cleanup_free_ char *name = NULL, *path = NULL;
        struct json_object *a;
        FILE *f;
        size_t written = 0;
        int i;

        assert_int_equal(mkdir_parents_and_self(log_dir, 0750), 0);
        path = log_path();
        f = fopen(path, "we");
        assert_non_null(f);
        for (i = 0; written <= JOBLOG_MAX_FILE_BYTES + 4096; i++) {
                int n = fprintf(f, "{\"time\":\"2026-01-01T00:00:00.000Z\",\"level\":\"info\","
                                   "\"message\":\"line %d with some padding to make it longer\"}\n", i);
                assert_true(n > 0);
                written += (size_t) n;
        }
        assert_int_equal(fclose(f), 0);

        assert_int_equal(joblog_load(log_dir, ID, &l), 0);
        a = joblog_to_json(l);
        assert_int_equal(json_object_array_length(a), JOBLOG_MAX_ENTRIES);
        assert_true(asprintf(&name, "line %d with some padding to make it longer", i - 1) > 0);
        assert_string_equal(entry_field(a, JOBLOG_MAX_ENTRIES - 1, "message"), name);
        json_object_put(a);
}

static void test_control_characters(void **state) {
        _cleanup_(joblog_freep) JobLog *l = NULL;
        _cleanup_(job_freep) Job *j = test_job();
        _cleanup_free_ char *data = NULL;
        struct json_object *a;
        size_t len, lines = 0;

        assert_int_equal(joblog_open(log_dir, ID, &l), 0);
        redirect_stderr(NULL);
        joblog_add(l, j, JOBLOG_ERROR, NULL, "reason: %s",
                   "ok\n{\"time\":\"x\",\"level\":\"info\",\"message\":\"forged\"}\r\x1b[2K\x7f\tend");
        restore_stderr();

        a = joblog_to_json(l);
        assert_string_equal(entry_field(a, 0, "message"),
                            "reason: ok {\"time\":\"x\",\"level\":\"info\",\"message\":\"forged\"}"
                            "  [2K \tend");
        json_object_put(a);

        data = read_log(&len);
        for (size_t i = 0; i < len; i++)
                lines += data[i] == '\n';
        assert_int_equal(lines, 1);
}

static void test_long_message(void **state) {
        _cleanup_(joblog_freep) JobLog *l = NULL;
        _cleanup_(job_freep) Job *j = test_job();
        _cleanup_free_ char *big = malloc(3 * JOBLOG_MAX_MESSAGE_BYTES);
        struct json_object *a;
        const char *m;

        assert_non_null(big);
        memset(big, 'y', 3 * JOBLOG_MAX_MESSAGE_BYTES - 1);
        big[3 * JOBLOG_MAX_MESSAGE_BYTES - 1] = '\0';

        assert_int_equal(joblog_open(log_dir, ID, &l), 0);
        redirect_stderr(NULL);
        joblog_add(l, j, JOBLOG_INFO, NULL, "%s", big);
        /* Exactly at the limit: kept whole. */
        big[JOBLOG_MAX_MESSAGE_BYTES] = '\0';
        joblog_add(l, j, JOBLOG_INFO, NULL, "%s", big);
        /* A multi-byte character across the cut is not split. */
        memcpy(big + JOBLOG_MAX_MESSAGE_BYTES - 4, "\xc3\xa9", 2);
        memset(big + JOBLOG_MAX_MESSAGE_BYTES - 2, 'z', 3);
        big[JOBLOG_MAX_MESSAGE_BYTES + 1] = '\0';
        joblog_add(l, j, JOBLOG_INFO, NULL, "%s", big);
        restore_stderr();

        a = joblog_to_json(l);
        m = entry_field(a, 0, "message");
        assert_int_equal(strlen(m), JOBLOG_MAX_MESSAGE_BYTES);
        assert_string_equal(m + JOBLOG_MAX_MESSAGE_BYTES - 3, "...");
        assert_int_equal(m[0], 'y');

        m = entry_field(a, 1, "message");
        assert_int_equal(strlen(m), JOBLOG_MAX_MESSAGE_BYTES);
        assert_int_equal(m[JOBLOG_MAX_MESSAGE_BYTES - 1], 'y');

        m = entry_field(a, 2, "message");
        assert_int_equal(strlen(m), JOBLOG_MAX_MESSAGE_BYTES - 4 + 3);
        assert_string_equal(m + JOBLOG_MAX_MESSAGE_BYTES - 4, "...");
        json_object_put(a);
}

static int padding_lines(const char *path) {
        char blank[FULL_DISK_PADDING];
        int fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
        ssize_t n;

        if (fd < 0)
                return -1;
        memset(blank, '\n', sizeof(blank));
        n = write(fd, blank, sizeof(blank));
        close(fd);
        return n == (ssize_t) sizeof(blank) ? 0 : -1;
}

/* Runs in a child so that the file size limit stays there.  Returns 0 when
 * the log behaved, or a number naming the check that failed. */
static int full_disk_child(const char *err_path) {
        _cleanup_(joblog_freep) JobLog *l = NULL;
        _cleanup_(job_freep) Job *j = test_job();
        _cleanup_free_ char *path = log_path(), *err = NULL;
        struct rlimit old, lim;
        struct stat st;
        struct json_object *a;
        size_t len;
        int n;

        /* The limit applies to every file, stderr's too: start the log
         * large (blank lines, which loading skips) so that the limit just
         * above its size leaves room for the report on stderr. */
        if (joblog_open(log_dir, ID, &l) < 0 || padding_lines(path) < 0)
                return 1;
        joblog_add(l, j, JOBLOG_INFO, NULL, "before the disk filled up");
        if (stat(path, &st) < 0 || getrlimit(RLIMIT_FSIZE, &old) < 0)
                return 2;

        /* Writing past the limit raises SIGXFSZ; ignored, write() fails
         * with EFBIG, as a full disk fails with ENOSPC. */
        (void) signal(SIGXFSZ, SIG_IGN);
        lim = (struct rlimit) { .rlim_cur = (rlim_t) st.st_size + 10, .rlim_max = old.rlim_max };
        if (setrlimit(RLIMIT_FSIZE, &lim) < 0)
                return 3;

        for (int i = 0; i < 5; i++)
                joblog_add(l, j, JOBLOG_ERROR, NULL, "disk full entry %d", i);

        if (setrlimit(RLIMIT_FSIZE, &old) < 0)
                return 4;
        joblog_add(l, j, JOBLOG_INFO, NULL, "space again");

        /* Every entry is in memory; the failure was reported once. */
        a = joblog_to_json(l);
        n = (int) json_object_array_length(a);
        json_object_put(a);
        if (n != 7)
                return 5;

        fflush(stderr);
        if (read_file_bounded(err_path, 1 << 20, &err, &len) < 0)
                return 6;
        if (!strstr(err, "Failed to write job log") ||
            strstr(strstr(err, "Failed to write job log") + 1, "Failed to write job log"))
                return 7;

        /* On reload: the entries that reached the file, the torn fragment
         * skipped, and the entry after the failure intact. */
        l = joblog_free(l);
        if (joblog_load(log_dir, ID, &l) < 0)
                return 8;
        a = joblog_to_json(l);
        n = (int) json_object_array_length(a);
        if (n != 2 || !streq(entry_field(a, 1, "message"), "space again"))
                n = -1;
        json_object_put(a);
        return n == 2 ? 0 : 9;
}

static void test_full_disk(void **state) {
        _cleanup_free_ char *err_path = NULL;
        int status;
        pid_t pid;

        assert_true(asprintf(&err_path, "%s/stderr-full", tmpdir) > 0);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                redirect_stderr(err_path);
                _exit(full_disk_child(err_path));
        }
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
}

static void test_unwritable_log_dir(void **state) {
        _cleanup_(joblog_freep) JobLog *l = NULL;
        _cleanup_(job_freep) Job *j = test_job();
        _cleanup_free_ char *err_path = NULL, *err = NULL;
        size_t len;

        /* LOG_DIR is a plain file: nothing can be created below it. */
        assert_int_equal(write_file_atomic(tmpdir, "not-a-dir", "x", 1, 0600), 0);
        free(log_dir);
        assert_true(asprintf(&log_dir, "%s/not-a-dir", tmpdir) > 0);
        assert_true(asprintf(&err_path, "%s/stderr-unwritable", tmpdir) > 0);

        redirect_stderr(err_path);
        assert_int_equal(joblog_open(log_dir, ID, &l), 0);
        joblog_add(l, j, JOBLOG_INFO, NULL, "still logged");
        joblog_add(l, j, JOBLOG_INFO, NULL, "and again");
        l = joblog_free(l);
        assert_int_equal(joblog_load(log_dir, ID, &l), 0);
        restore_stderr();

        assert_int_equal(entry_count(l), 0);
        joblog_add(l, j, JOBLOG_INFO, NULL, "after reload");
        assert_int_equal(entry_count(l), 1);

        /* Reported at open, not again for each entry. */
        assert_int_equal(read_file_bounded(err_path, 1 << 20, &err, &len), 0);
        assert_non_null(strstr(err, "Failed to open job log"));
        assert_null(strstr(err, "Failed to write job log"));
        assert_non_null(strstr(err, "] and again\n"));
}

static void test_invalid_arguments(void **state) {
        JobLog *l = NULL;

        assert_int_equal(joblog_open(log_dir, "../../etc/passwd", &l), -EINVAL);
        assert_int_equal(joblog_open(log_dir, "", &l), -EINVAL);
        assert_int_equal(joblog_load("", ID, &l), -EINVAL);
        assert_null(l);
        assert_null(joblog_free(NULL));
}

#define T(f) cmocka_unit_test_setup_teardown(f, each_setup, each_teardown)

int main(void) {
        const struct CMUnitTest tests[] = {
                T(test_file_lines),
                T(test_stderr_format),
                T(test_memory_cap),
                T(test_reload),
                T(test_load_missing_file),
                T(test_torn_and_malformed),
                T(test_load_tail_of_large_file),
                T(test_control_characters),
                T(test_long_message),
                T(test_full_disk),
                T(test_unwritable_log_dir),
                T(test_invalid_arguments),
        };

        return cmocka_run_group_tests(tests, setup, teardown);
}
