/* Atomic writes and bounded reads.  The crash test kills a writer with
 * SIGKILL at random instants and checks that the file is always exactly
 * one of the two contents it alternates between, never a mix or a prefix. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "util/fileio.h"
#include "util/macros.h"

#define CRASH_ITERATIONS 150
#define CRASH_MAX_DELAY_USEC 3000
#define CONTENT_A_LEN 5000
#define CONTENT_B_LEN 9000

static char tmpdir[] = "/tmp/test-fileio-XXXXXX";

static int setup(void **state) {
        assert_non_null(mkdtemp(tmpdir));
        return 0;
}

static int teardown(void **state) {
        char cmd[128];

        (void) snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
        assert_int_equal(system(cmd), 0);
        return 0;
}

static char *path_in(const char *name) {
        char *p = NULL;

        assert_true(asprintf(&p, "%s/%s", tmpdir, name) > 0);
        return p;
}

/* Counts the entries of DIR other than "." and "..". */
static size_t count_entries(const char *dir) {
        DIR *d = opendir(dir);
        struct dirent *de;
        size_t n = 0;

        assert_non_null(d);
        while ((de = readdir(d)))
                if (!streq(de->d_name, ".") && !streq(de->d_name, ".."))
                        n++;
        closedir(d);
        return n;
}

static void test_write_content_mode(void **state) {
        _cleanup_free_ char *path = path_in("a"), *data = NULL;
        struct stat st;
        size_t len;
        mode_t old = umask(0);

        assert_int_equal(write_file_atomic(tmpdir, "a", "hello\n", 6, 0600), 0);
        assert_int_equal(read_file_bounded(path, 100, &data, &len), 0);
        assert_int_equal(len, 6);
        assert_string_equal(data, "hello\n");
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0600);
        assert_int_equal(count_entries(tmpdir), 1);

        /* Replacing: new content, new mode, still no temporary left. */
        free(data);
        data = NULL;
        assert_int_equal(write_file_atomic(tmpdir, "a", "bye", 3, 0640), 0);
        assert_int_equal(read_file_bounded(path, 100, &data, &len), 0);
        assert_string_equal(data, "bye");
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0640);
        assert_int_equal(count_entries(tmpdir), 1);

        /* Empty content is a valid file. */
        free(data);
        data = NULL;
        assert_int_equal(write_file_atomic(tmpdir, "a", "", 0, 0600), 0);
        assert_int_equal(read_file_bounded(path, 100, &data, &len), 0);
        assert_int_equal(len, 0);

        umask(old);
        assert_int_equal(unlink(path), 0);
}

static void test_write_errors(void **state) {
        _cleanup_free_ char *missing = path_in("no/such/dir"), *sub = path_in("sub");

        assert_int_equal(write_file_atomic(missing, "a", "x", 1, 0600), -ENOENT);

        /* The target is a directory: rename fails and the temporary goes. */
        assert_int_equal(mkdir(sub, 0700), 0);
        assert_true(write_file_atomic(tmpdir, "sub", "x", 1, 0600) < 0);
        assert_int_equal(count_entries(tmpdir), 1);
        assert_int_equal(rmdir(sub), 0);
}

static void fill(char *buf, size_t len, char c) {
        memset(buf, c, len);
}

/* The child: alternates between two contents until killed. */
_Noreturn static void writer(const char *a, const char *b) {
        for (unsigned i = 0;; i++) {
                const char *p = i % 2 ? b : a;
                size_t len = i % 2 ? CONTENT_B_LEN : CONTENT_A_LEN;
                if (write_file_atomic(tmpdir, "crash", p, len, 0600) < 0)
                        _exit(EXIT_FAILURE);
        }
}

static void check_old_or_new(const char *path, const char *a, const char *b) {
        _cleanup_free_ char *data = NULL;
        size_t len;

        assert_int_equal(read_file_bounded(path, CONTENT_B_LEN, &data, &len), 0);
        if (len == CONTENT_A_LEN)
                assert_memory_equal(data, a, CONTENT_A_LEN);
        else {
                assert_int_equal(len, CONTENT_B_LEN);
                assert_memory_equal(data, b, CONTENT_B_LEN);
        }
}

static void test_kill_at_random_instants(void **state) {
        _cleanup_free_ char *path = path_in("crash");
        _cleanup_free_ char *a = malloc(CONTENT_A_LEN), *b = malloc(CONTENT_B_LEN);
        unsigned seed = (unsigned) time(NULL) ^ (unsigned) getpid();

        assert_non_null(a);
        assert_non_null(b);
        fill(a, CONTENT_A_LEN, 'a');
        fill(b, CONTENT_B_LEN, 'b');
        assert_int_equal(write_file_atomic(tmpdir, "crash", a, CONTENT_A_LEN, 0600), 0);

        for (int i = 0; i < CRASH_ITERATIONS; i++) {
                int status;
                pid_t pid = fork();

                assert_true(pid >= 0);
                if (pid == 0)
                        writer(a, b);

                (void) usleep((useconds_t) (rand_r(&seed) % CRASH_MAX_DELAY_USEC));
                assert_int_equal(kill(pid, SIGKILL), 0);
                assert_int_equal(waitpid(pid, &status, 0), pid);
                /* Killed, not exited: the writer never saw an error. */
                assert_true(WIFSIGNALED(status));

                check_old_or_new(path, a, b);
        }
}

static void write_n(const char *name, size_t n) {
        _cleanup_free_ char *buf = malloc(n + 1);

        assert_non_null(buf);
        memset(buf, 'x', n);
        assert_int_equal(write_file_atomic(tmpdir, name, buf, n, 0600), 0);
}

static void test_read_bounded(void **state) {
        _cleanup_free_ char *path = path_in("bounded"), *data = NULL;
        size_t len = 0;

        write_n("bounded", 100);
        assert_int_equal(read_file_bounded(path, 100, &data, &len), 0);
        assert_int_equal(len, 100);
        assert_int_equal(data[100], '\0');
        free(data);
        data = NULL;

        write_n("bounded", 101);
        assert_int_equal(read_file_bounded(path, 100, &data, &len), -EFBIG);
        assert_null(data);

        write_n("bounded", 0);
        assert_int_equal(read_file_bounded(path, 0, &data, &len), 0);
        assert_int_equal(len, 0);
        free(data);
        data = NULL;

        write_n("bounded", 1);
        assert_int_equal(read_file_bounded(path, 0, &data, NULL), -EFBIG);
        assert_int_equal(unlink(path), 0);

        assert_int_equal(read_file_bounded(path, 100, &data, &len), -ENOENT);
        assert_true(read_file_bounded(tmpdir, 100, &data, &len) < 0);
        assert_null(data);
}

static void test_mkdir_parents(void **state) {
        _cleanup_free_ char *deep = path_in("x/y/z");
        struct stat st;

        assert_int_equal(mkdir_parents_and_self(deep, 0700), 0);
        assert_int_equal(mkdir_parents_and_self(deep, 0700), 0);
        assert_int_equal(stat(deep, &st), 0);
        assert_true(S_ISDIR(st.st_mode));
        assert_int_equal(fsync_directory(deep), 0);
        assert_int_equal(fsync_directory("/nonexistent-dir-for-test"), -ENOENT);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_write_content_mode),
                cmocka_unit_test(test_write_errors),
                cmocka_unit_test(test_kill_at_random_instants),
                cmocka_unit_test(test_read_bounded),
                cmocka_unit_test(test_mkdir_parents),
        };

        return cmocka_run_group_tests(tests, setup, teardown);
}
