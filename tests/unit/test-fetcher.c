/* Tests of the fetcher against real files and a real local HTTP server
 * (tests/unit/fetcher/http-server.py on 127.0.0.1, an ephemeral port), each
 * driven by a real sd-event loop, so that timeouts, caps, cancellation and
 * re-entrancy are exercised the way the daemon uses them. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <curl/curl.h>
#include <systemd/sd-event.h>

#include "fetch/fetcher.h"
#include "util/macros.h"
#include "util/time-util.h"

#define PYTHON "/usr/bin/python3"
#define SERVER_SCRIPT "fetcher/http-server.py"
#define SERVER_START_TIMEOUT_MSEC 10000
/* Every loop run ends by this deadline even when a callback never comes. */
#define LOOP_DEADLINE_USEC (15 * USEC_PER_SEC)
#define TEST_TIMEOUT_USEC (10 * USEC_PER_SEC)
#define SMALL_CAP ((size_t) 4096)
#define TICK_USEC (50 * USEC_PER_MSEC)
/* How late a tick may fire before the loop counts as blocked; generous,
 * since sanitizer builds are slow. */
#define TICK_MAX_LATENESS_USEC (250 * USEC_PER_MSEC)

static pid_t server_pid = -1;
static int server_stdin = -1;
static unsigned server_port;
static char tmp_dir[] = "/tmp/test-fetcher-XXXXXX";

/* What one request's callback saw. */
typedef struct Result {
        struct Env *env;
        unsigned calls;
        int r;
        char *body;
        size_t len;
        char *error;
        FetchRequest *req;
        /* The request being reported, valid only inside the callback. */
        FetchRequest *current;
        /* Optional extra action run from the callback. */
        void (*then)(struct Result *res);
        void *then_data;
} Result;

typedef struct Env {
        sd_event *event;
        Fetcher *fetcher;
        unsigned pending;
        /* Set by a timer to end run_loop() early; an sd-event loop that
         * was told to exit cannot run again, so tests use this instead. */
        bool stop;
        bool deadline_hit;
} Env;

/* ---- the local server ---- */

static int server_start(void) {
        const char *tests_dir = getenv("PAYRAM_TESTS_DIR");
        int out[2], in[2];
        char path[PATH_MAX], line[32] = {};
        size_t got = 0;
        struct pollfd p;

        if (!tests_dir)
                return -ENOENT;
        if (snprintf(path, sizeof(path), "%s/" SERVER_SCRIPT, tests_dir) >= (int) sizeof(path))
                return -ENAMETOOLONG;
        if (pipe2(out, O_CLOEXEC) < 0)
                return -errno;
        if (pipe2(in, O_CLOEXEC) < 0)
                return -errno;

        server_pid = fork();
        if (server_pid < 0)
                return -errno;
        if (server_pid == 0) {
                /* The server also dies with us should stdin's EOF not reach it. */
                (void) prctl(PR_SET_PDEATHSIG, SIGTERM);
                if (dup2(in[0], STDIN_FILENO) < 0 || dup2(out[1], STDOUT_FILENO) < 0)
                        _exit(127);
                execl(PYTHON, PYTHON, path, (char *) NULL);
                _exit(127);
        }
        close(in[0]);
        close(out[1]);
        server_stdin = in[1];

        /* The first line is the port it bound. */
        p = (struct pollfd) { .fd = out[0], .events = POLLIN };
        while (!memchr(line, '\n', got) && got < sizeof(line) - 1) {
                ssize_t n;

                if (poll(&p, 1, SERVER_START_TIMEOUT_MSEC) <= 0)
                        break;
                n = read(out[0], line + got, sizeof(line) - 1 - got);
                if (n <= 0)
                        break;
                got += (size_t) n;
        }
        close(out[0]);

        char *end = NULL;
        unsigned long port;
        errno = 0;
        port = strtoul(line, &end, 10);
        if (errno != 0 || end == line || *end != '\n' || port == 0 || port > 65535)
                return -EPROTO;
        server_port = (unsigned) port;
        return 0;
}

static void server_stop(void) {
        if (server_stdin >= 0)
                close(server_stdin);
        server_stdin = -1;
        if (server_pid > 0) {
                (void) kill(server_pid, SIGTERM);
                (void) waitpid(server_pid, NULL, 0);
        }
        server_pid = -1;
}

static char *server_url(const char *path) {
        char *url = NULL;

        assert_true(asprintf(&url, "http://127.0.0.1:%u%s", server_port, path) > 0);
        return url;
}

/* ---- files ---- */

static char *tmp_path(const char *name) {
        char *path = NULL;

        assert_true(asprintf(&path, "%s/%s", tmp_dir, name) > 0);
        return path;
}

static void write_file(const char *name, char fill, size_t size) {
        _cleanup_free_ char *path = tmp_path(name), *data = malloc(size + 1);
        _cleanup_fclose_ FILE *f = NULL;

        assert_non_null(data);
        memset(data, fill, size);
        f = fopen(path, "we");
        assert_non_null(f);
        assert_int_equal(fwrite(data, 1, size, f), size);
}

static void remove_file(const char *name) {
        _cleanup_free_ char *path = tmp_path(name);

        (void) unlink(path);
}

/* ---- fixtures ---- */

static int group_setup(void **state) {
        int r;

        /* A proxy from the environment must not see the test's requests. */
        unsetenv("http_proxy");
        unsetenv("https_proxy");
        unsetenv("HTTPS_PROXY");
        unsetenv("all_proxy");
        unsetenv("ALL_PROXY");

        if (!mkdtemp(tmp_dir))
                return -1;
        write_file("policy.json", 'p', 100);
        write_file("file with #?%.json", 's', 10);
        write_file("under-cap", 'u', SMALL_CAP - 1);
        write_file("at-cap", 'a', SMALL_CAP);
        write_file("over-cap", 'o', SMALL_CAP + 1);
        write_file("far-over-cap", 'f', 50 * SMALL_CAP);
        write_file("empty", 'e', 0);

        r = server_start();
        if (r < 0) {
                fprintf(stderr, "Failed to start the test HTTP server: %s\n", strerror(-r));
                server_stop();
                return -1;
        }
        return 0;
}

static int group_teardown(void **state) {
        static const char *const names[] = {
                "policy.json", "file with #?%.json", "under-cap", "at-cap",
                "over-cap",    "far-over-cap",       "empty",
        };

        server_stop();
        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                remove_file(names[i]);
        (void) rmdir(tmp_dir);
        return 0;
}

static int env_setup(void **state) {
        Env *env = calloc(1, sizeof(Env));

        if (!env || sd_event_new(&env->event) < 0 || fetcher_new(env->event, &env->fetcher) < 0)
                return -1;
        *state = env;
        return 0;
}

static int env_teardown(void **state) {
        Env *env = *state;

        fetcher_free(env->fetcher);
        sd_event_unref(env->event);
        free(env);
        return 0;
}

static void result_done(Result *res) {
        free(res->body);
        free(res->error);
        *res = (Result) {};
}

static void on_done(FetchRequest *req, int r, const char *body, size_t len, const char *error,
                    void *userdata) {
        Result *res = userdata;

        res->calls++;
        res->r = r;
        res->req = NULL;
        if (r >= 0) {
                assert_non_null(body);
                assert_int_equal(body[len], '\0');
                res->body = malloc(len + 1);
                assert_non_null(res->body);
                memcpy(res->body, body, len + 1);
                res->len = len;
                assert_null(error);
        } else {
                assert_null(body);
                assert_non_null(error);
                res->error = strdup(error);
                if (getenv("TEST_FETCHER_VERBOSE"))
                        fprintf(stderr, "fetch failed (%s): %s\n", strerror(-r), error);
        }

        if (res->then) {
                res->current = req;
                res->then(res);
                res->current = NULL;
        }

        assert_true(res->env->pending > 0);
        res->env->pending--;
}

static int on_deadline(sd_event_source *s, uint64_t usec, void *userdata) {
        Env *env = userdata;

        env->deadline_hit = true;
        return 0;
}

/* A one-shot timer DELAY_USEC from now on the test's loop. */
static sd_event_source *add_timer(Env *env, uint64_t delay_usec, sd_event_time_handler_t cb,
                                  void *userdata) {
        uint64_t when = now_monotonic_usec() + delay_usec;
        sd_event_source *s = NULL;

        assert_int_equal(sd_event_add_time(env->event, &s, CLOCK_MONOTONIC, when, 1, cb, userdata), 0);
        return s;
}

/* Runs the loop until every started request has reported or a timer
 * sets env->stop. */
static int run_loop(Env *env) {
        sd_event_source *deadline = NULL;
        int r = 0;

        deadline = add_timer(env, LOOP_DEADLINE_USEC, on_deadline, env);
        env->stop = env->deadline_hit = false;
        while (r >= 0 && env->pending > 0 && !env->stop && !env->deadline_hit)
                r = sd_event_run(env->event, UINT64_MAX);
        sd_event_source_disable_unref(deadline);
        if (r < 0)
                return r;
        return env->deadline_hit ? -ETIMEDOUT : 0;
}

static void start(Env *env, Result *res, const char *url, uint64_t timeout_usec, size_t max_bytes) {
        res->env = env;
        assert_int_equal(fetcher_start(env->fetcher, url, timeout_usec, max_bytes, on_done, res, &res->req),
                         0);
        env->pending++;
}

static void fetch_one(Env *env, Result *res, const char *url, size_t max_bytes) {
        start(env, res, url, TEST_TIMEOUT_USEC, max_bytes);
        assert_int_equal(run_loop(env), 0);
        assert_int_equal(res->calls, 1);
}

/* ---- file:// ---- */

static void test_file_success(void **state) {
        Env *env = *state;
        _cleanup_free_ char *path = tmp_path("policy.json"), *url = NULL;
        Result res = {};

        assert_true(asprintf(&url, "file://%s", path) > 0);
        fetch_one(env, &res, url, FETCH_MAX_BYTES);
        assert_int_equal(res.r, 0);
        assert_int_equal(res.len, 100);
        assert_int_equal(strspn(res.body, "p"), 100);
        result_done(&res);

        /* A bare absolute path means file://. */
        fetch_one(env, &res, path, FETCH_MAX_BYTES);
        assert_int_equal(res.r, 0);
        assert_int_equal(res.len, 100);
        result_done(&res);
}

static void test_file_bare_path_escaped(void **state) {
        Env *env = *state;
        _cleanup_free_ char *path = tmp_path("file with #?%.json");
        Result res = {};

        fetch_one(env, &res, path, FETCH_MAX_BYTES);
        assert_int_equal(res.r, 0);
        assert_string_equal(res.body, "ssssssssss");
        result_done(&res);
}

static void test_file_empty(void **state) {
        Env *env = *state;
        _cleanup_free_ char *path = tmp_path("empty");
        Result res = {};

        fetch_one(env, &res, path, FETCH_MAX_BYTES);
        assert_int_equal(res.r, 0);
        assert_int_equal(res.len, 0);
        assert_string_equal(res.body, "");
        result_done(&res);
}

static void test_file_missing(void **state) {
        Env *env = *state;
        _cleanup_free_ char *path = tmp_path("does-not-exist.json");
        Result res = {};

        fetch_one(env, &res, path, FETCH_MAX_BYTES);
        assert_true(res.r < 0);
        assert_non_null(strstr(res.error, "does-not-exist.json"));
        assert_non_null(strstr(res.error, "Failed to fetch"));
        result_done(&res);
}

static void assert_start_refused(Env *env, Result *res, const char *url, uint64_t timeout_usec,
                                 size_t max_bytes) {
        FetchRequest *req = NULL;

        assert_int_equal(fetcher_start(env->fetcher, url, timeout_usec, max_bytes, on_done, res, &req),
                         -EINVAL);
        assert_null(req);
}

static void test_refused(void **state) {
        static const char *const urls[] = {
                "ftp://127.0.0.1/policy.json",
                "gopher://127.0.0.1/",
                "policy.json",
                "./policy.json",
                "",
                "127.0.0.1/policy.json",
                "http://127.0.0.1/a b",
                "javascript:alert(1)",
        };
        Env *env = *state;
        _cleanup_free_ char *long_url = NULL;
        Result res = { .env = env };

        for (size_t i = 0; i < ELEMENTSOF(urls); i++)
                assert_start_refused(env, &res, urls[i], TEST_TIMEOUT_USEC, FETCH_MAX_BYTES);
        assert_start_refused(env, &res, NULL, TEST_TIMEOUT_USEC, FETCH_MAX_BYTES);
        assert_start_refused(env, &res, "http://127.0.0.1/", 0, FETCH_MAX_BYTES);
        assert_start_refused(env, &res, "http://127.0.0.1/", TEST_TIMEOUT_USEC, 0);

        /* One byte over the limit. */
        long_url = malloc(FETCH_MAX_URL_BYTES + 2);
        assert_non_null(long_url);
        memset(long_url, 'a', FETCH_MAX_URL_BYTES + 1);
        memcpy(long_url, "http://127.0.0.1/", strlen("http://127.0.0.1/"));
        long_url[FETCH_MAX_URL_BYTES + 1] = '\0';
        assert_start_refused(env, &res, long_url, TEST_TIMEOUT_USEC, FETCH_MAX_BYTES);

        /* Nothing was started, so nothing may ever call back. */
        for (unsigned i = 0; i < 10; i++)
                assert_true(sd_event_run(env->event, 10 * USEC_PER_MSEC) >= 0);
        assert_int_equal(res.calls, 0);
}

/* A FIFO or a directory would block the loop or mean nothing: refused
 * before curl opens it, in both URL forms. */
static void test_file_not_regular(void **state) {
        Env *env = *state;
        _cleanup_free_ char *fifo = tmp_path("policy.fifo"), *dir = tmp_path("a-directory"), *url = NULL;
        Result res = { .env = env };

        assert_int_equal(mkfifo(fifo, 0600), 0);
        assert_int_equal(mkdir(dir, 0700), 0);
        assert_true(asprintf(&url, "file://%s", fifo) > 0);

        assert_start_refused(env, &res, fifo, TEST_TIMEOUT_USEC, FETCH_MAX_BYTES);
        assert_start_refused(env, &res, url, TEST_TIMEOUT_USEC, FETCH_MAX_BYTES);
        assert_start_refused(env, &res, dir, TEST_TIMEOUT_USEC, FETCH_MAX_BYTES);
        assert_int_equal(res.calls, 0);

        (void) unlink(fifo);
        (void) rmdir(dir);
}

static void test_size_cap_file(void **state) {
        Env *env = *state;
        Result res = {};
        _cleanup_free_ char *under = tmp_path("under-cap"), *at = tmp_path("at-cap"),
                            *over = tmp_path("over-cap"), *far = tmp_path("far-over-cap");
        char expected[64];

        fetch_one(env, &res, under, SMALL_CAP);
        assert_int_equal(res.r, 0);
        assert_int_equal(res.len, SMALL_CAP - 1);
        result_done(&res);

        fetch_one(env, &res, at, SMALL_CAP);
        assert_int_equal(res.r, 0);
        assert_int_equal(res.len, SMALL_CAP);
        assert_int_equal(strlen(res.body), SMALL_CAP);
        result_done(&res);

        (void) snprintf(expected, sizeof(expected), "larger than %zu bytes", SMALL_CAP);
        fetch_one(env, &res, over, SMALL_CAP);
        assert_int_equal(res.r, -EFBIG);
        assert_non_null(strstr(res.error, expected));
        result_done(&res);

        fetch_one(env, &res, far, SMALL_CAP);
        assert_int_equal(res.r, -EFBIG);
        assert_non_null(strstr(res.error, expected));
        result_done(&res);
}

/* ---- http:// ---- */

static void test_http_success(void **state) {
        Env *env = *state;
        _cleanup_free_ char *ok = server_url("/ok"), *ua = server_url("/user-agent"),
                            *empty = server_url("/empty");
        Result res = {};

        fetch_one(env, &res, ok, FETCH_MAX_BYTES);
        assert_int_equal(res.r, 0);
        assert_string_equal(res.body, "hello from http\n");
        assert_int_equal(res.len, strlen("hello from http\n"));
        result_done(&res);

        fetch_one(env, &res, ua, FETCH_MAX_BYTES);
        assert_int_equal(res.r, 0);
        assert_true(strncmp(res.body, "payram-updater/", strlen("payram-updater/")) == 0);
        result_done(&res);

        fetch_one(env, &res, empty, FETCH_MAX_BYTES);
        assert_int_equal(res.r, 0);
        assert_string_equal(res.body, "");
        result_done(&res);
}

static void test_http_404(void **state) {
        Env *env = *state;
        _cleanup_free_ char *url = server_url("/nothing-here");
        Result res = {};

        fetch_one(env, &res, url, FETCH_MAX_BYTES);
        assert_int_equal(res.r, -ENOENT);
        assert_non_null(strstr(res.error, "HTTP 404"));
        assert_non_null(strstr(res.error, "/nothing-here"));
        result_done(&res);
}

static void test_http_redirects(void **state) {
        Env *env = *state;
        _cleanup_free_ char *ok = server_url("/redirect-ok"), *ftp = server_url("/redirect-ftp"),
                            *loop = server_url("/redirect-loop");
        Result res = {};

        fetch_one(env, &res, ok, FETCH_MAX_BYTES);
        assert_int_equal(res.r, 0);
        assert_string_equal(res.body, "hello from http\n");
        result_done(&res);

        fetch_one(env, &res, ftp, FETCH_MAX_BYTES);
        assert_true(res.r < 0);
        result_done(&res);

        fetch_one(env, &res, loop, FETCH_MAX_BYTES);
        assert_true(res.r < 0);
        result_done(&res);
}

typedef struct Ticker {
        uint64_t interval, next, max_lateness;
        unsigned ticks;
} Ticker;

static int on_tick(sd_event_source *s, uint64_t usec, void *userdata) {
        Ticker *t = userdata;
        uint64_t now = now_monotonic_usec();

        if (now > t->next && now - t->next > t->max_lateness)
                t->max_lateness = now - t->next;
        t->ticks++;
        t->next = now + t->interval;
        assert_int_equal(sd_event_source_set_time(s, t->next), 0);
        return 0;
}

/* A server slower than the timeout: the fetch fails after about a second,
 * and meanwhile a timer on the same loop keeps firing on time. */
static void test_http_timeout_loop_responsive(void **state) {
        Env *env = *state;
        _cleanup_free_ char *url = server_url("/slow");
        sd_event_source *tick = NULL;
        Ticker ticker = { .interval = TICK_USEC };
        uint64_t begin, end;
        Result res = {};

        begin = now_monotonic_usec();
        ticker.next = begin + TICK_USEC;
        tick = add_timer(env, TICK_USEC, on_tick, &ticker);
        assert_int_equal(sd_event_source_set_enabled(tick, SD_EVENT_ON), 0);

        start(env, &res, url, USEC_PER_SEC, FETCH_MAX_BYTES);
        assert_int_equal(run_loop(env), 0);
        end = now_monotonic_usec();
        sd_event_source_disable_unref(tick);

        assert_int_equal(res.calls, 1);
        assert_int_equal(res.r, -ETIMEDOUT);
        assert_non_null(strstr(res.error, "timed out"));
        assert_true(end - begin >= 900 * USEC_PER_MSEC);
        assert_true(end - begin < 3 * USEC_PER_SEC);
        assert_true(ticker.ticks >= 15);
        assert_true(ticker.max_lateness < TICK_MAX_LATENESS_USEC);
        result_done(&res);
}

static void test_http_stream_over_cap(void **state) {
        Env *env = *state;
        _cleanup_free_ char *url = server_url("/stream");
        Result res = {};

        fetch_one(env, &res, url, 64 * 1024);
        assert_int_equal(res.r, -EFBIG);
        assert_non_null(strstr(res.error, "larger than 65536 bytes"));
        result_done(&res);
}

static void test_http_content_length_over_cap(void **state) {
        Env *env = *state;
        _cleanup_free_ char *url = server_url("/big");
        Result res = {};

        fetch_one(env, &res, url, SMALL_CAP);
        assert_int_equal(res.r, -EFBIG);
        assert_non_null(strstr(res.error, "larger than 4096 bytes"));
        result_done(&res);

        /* The same document fits a larger cap. */
        fetch_one(env, &res, url, 100000);
        assert_int_equal(res.r, 0);
        assert_int_equal(res.len, 100000);
        result_done(&res);
}

static void test_http_truncated(void **state) {
        Env *env = *state;
        _cleanup_free_ char *url = server_url("/truncated");
        Result res = {};

        fetch_one(env, &res, url, FETCH_MAX_BYTES);
        assert_true(res.r < 0);
        assert_non_null(strstr(res.error, "/truncated"));
        result_done(&res);
}

static void pclosep(FILE **p) {
        if (*p)
                (void) pclose(*p);
}

/* Nothing listens on a port we bound and closed again. */
static unsigned closed_port(void) {
        char cmd[] = PYTHON " -c 'import socket; s=socket.socket(); s.bind((\"127.0.0.1\", 0)); "
                     "print(s.getsockname()[1])'";
        _cleanup_(pclosep) FILE *p = NULL;
        unsigned port = 0;

        p = popen(cmd, "re");
        assert_non_null(p);
        assert_int_equal(fscanf(p, "%u", &port), 1);
        return port;
}

static void test_http_secrets_not_in_error(void **state) {
        Env *env = *state;
        _cleanup_free_ char *missing = NULL, *refused = NULL;
        Result res = {};

        assert_true(asprintf(&missing, "http://alice:hunter2@127.0.0.1:%u/missing?token=s3cr3t",
                             server_port) > 0);
        fetch_one(env, &res, missing, FETCH_MAX_BYTES);
        assert_true(res.r < 0);
        assert_null(strstr(res.error, "hunter2"));
        assert_null(strstr(res.error, "alice"));
        assert_null(strstr(res.error, "s3cr3t"));
        assert_non_null(strstr(res.error, "/missing?***"));
        result_done(&res);

        assert_true(asprintf(&refused, "http://bob:pw@127.0.0.1:%u/x?key=k3y", closed_port()) > 0);
        fetch_one(env, &res, refused, FETCH_MAX_BYTES);
        assert_true(res.r < 0);
        assert_null(strstr(res.error, "pw@"));
        assert_null(strstr(res.error, "k3y"));
        result_done(&res);
}

/* ---- cancellation and re-entrancy ---- */

static int on_cancel_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        Result *res = userdata;

        fetch_request_cancel(res->req);
        res->req = NULL;
        return 0;
}

static int on_stop_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        Env *env = userdata;

        env->stop = true;
        return 0;
}

static void test_cancel(void **state) {
        Env *env = *state;
        _cleanup_free_ char *slow = server_url("/slow"), *path = tmp_path("policy.json");
        sd_event_source *cancel = NULL, *stop = NULL;
        Result res_slow = {}, res_file = {};

        /* Cancelled before the loop ever ran. */
        start(env, &res_file, path, TEST_TIMEOUT_USEC, FETCH_MAX_BYTES);
        fetch_request_cancel(res_file.req);
        env->pending--;

        /* Cancelled while the server is still thinking. */
        start(env, &res_slow, slow, TEST_TIMEOUT_USEC, FETCH_MAX_BYTES);
        cancel = add_timer(env, 200 * USEC_PER_MSEC, on_cancel_timer, &res_slow);
        stop = add_timer(env, 600 * USEC_PER_MSEC, on_stop_timer, env);
        assert_int_equal(run_loop(env), 0);

        assert_int_equal(res_file.calls, 0);
        assert_int_equal(res_slow.calls, 0);
        assert_null(res_slow.req);
        sd_event_source_disable_unref(cancel);
        sd_event_source_disable_unref(stop);
}

static void test_concurrent(void **state) {
        Env *env = *state;
        _cleanup_free_ char *ok = server_url("/ok"), *redirect = server_url("/redirect-ok"),
                            *path = tmp_path("policy.json");
        Result a = {}, b = {}, c = {};

        start(env, &a, ok, TEST_TIMEOUT_USEC, FETCH_MAX_BYTES);
        start(env, &b, redirect, TEST_TIMEOUT_USEC, FETCH_MAX_BYTES);
        start(env, &c, path, TEST_TIMEOUT_USEC, FETCH_MAX_BYTES);
        assert_int_equal(run_loop(env), 0);

        assert_int_equal(a.calls, 1);
        assert_int_equal(b.calls, 1);
        assert_int_equal(c.calls, 1);
        assert_string_equal(a.body, "hello from http\n");
        assert_string_equal(b.body, "hello from http\n");
        assert_int_equal(c.len, 100);
        result_done(&a);
        result_done(&b);
        result_done(&c);
}

/* From the first callback: cancel the other request and start a new one. */
static void cancel_other_and_start(Result *res) {
        Result **others = res->then_data;
        Result *other = others[0] == res ? others[1] : others[0];
        Result *next = others[2];
        _cleanup_free_ char *path = tmp_path("policy.json");

        if (other->calls > 0 || !other->req)
                return;
        fetch_request_cancel(other->req);
        other->req = NULL;
        res->env->pending--;
        start(res->env, next, path, TEST_TIMEOUT_USEC, FETCH_MAX_BYTES);
}

static void test_cancel_and_start_from_callback(void **state) {
        Env *env = *state;
        _cleanup_free_ char *one = tmp_path("policy.json"), *two = tmp_path("at-cap");
        Result a = {}, b = {}, c = {};
        Result *all[] = { &a, &b, &c };

        /* Two file fetches finish in the same curl round, so the second
         * one's completion is already queued when the first is reported. */
        a.then = b.then = cancel_other_and_start;
        a.then_data = b.then_data = all;
        start(env, &a, one, TEST_TIMEOUT_USEC, FETCH_MAX_BYTES);
        start(env, &b, two, TEST_TIMEOUT_USEC, FETCH_MAX_BYTES);
        assert_int_equal(run_loop(env), 0);

        assert_int_equal(a.calls + b.calls, 1);
        assert_int_equal(c.calls, 1);
        assert_int_equal(c.r, 0);
        result_done(&a);
        result_done(&b);
        result_done(&c);
}

static void cancel_self(Result *res) {
        fetch_request_cancel(res->current);
}

static void test_cancel_self_from_callback(void **state) {
        Env *env = *state;
        _cleanup_free_ char *path = tmp_path("policy.json"), *missing = tmp_path("nope");
        Result a = { .then = cancel_self }, b = { .then = cancel_self };

        /* A caller tearing down its own state from the callback may cancel
         * the request being reported; that must not free it twice. */
        start(env, &a, path, TEST_TIMEOUT_USEC, FETCH_MAX_BYTES);
        start(env, &b, missing, TEST_TIMEOUT_USEC, FETCH_MAX_BYTES);
        assert_int_equal(run_loop(env), 0);
        assert_int_equal(a.calls, 1);
        assert_int_equal(a.r, 0);
        assert_int_equal(b.calls, 1);
        assert_true(b.r < 0);
        result_done(&a);
        result_done(&b);
}

static void free_fetcher(Result *res) {
        res->env->fetcher = fetcher_free(res->env->fetcher);
        /* The slow request went with it and will never report. */
        res->env->pending = 1;
}

static void test_free_from_callback(void **state) {
        Env *env = *state;
        _cleanup_free_ char *slow = server_url("/slow"), *ok = server_url("/ok"),
                            *path = tmp_path("policy.json");
        Result a = {}, b = {}, c = {};

        a.then = free_fetcher;
        start(env, &b, slow, TEST_TIMEOUT_USEC, FETCH_MAX_BYTES);
        start(env, &c, ok, TEST_TIMEOUT_USEC, FETCH_MAX_BYTES);
        start(env, &a, path, TEST_TIMEOUT_USEC, FETCH_MAX_BYTES);
        assert_int_equal(run_loop(env), 0);

        assert_null(env->fetcher);
        assert_int_equal(a.calls, 1);
        assert_int_equal(b.calls, 0);
        assert_true(c.calls <= 1);
        result_done(&a);
        result_done(&b);
        result_done(&c);
}

static void test_free_with_pending(void **state) {
        Env *env = *state;
        _cleanup_free_ char *slow = server_url("/slow"), *ok = server_url("/ok"),
                            *path = tmp_path("policy.json");
        Result a = {}, b = {}, c = {};

        start(env, &a, slow, TEST_TIMEOUT_USEC, FETCH_MAX_BYTES);
        start(env, &b, ok, TEST_TIMEOUT_USEC, FETCH_MAX_BYTES);
        start(env, &c, path, TEST_TIMEOUT_USEC, FETCH_MAX_BYTES);
        /* Let the transfers get going, then drop everything. */
        for (unsigned i = 0; i < 5; i++)
                assert_true(sd_event_run(env->event, 10 * USEC_PER_MSEC) >= 0);
        env->fetcher = fetcher_free(env->fetcher);
        for (unsigned i = 0; i < 5; i++)
                assert_true(sd_event_run(env->event, 10 * USEC_PER_MSEC) >= 0);

        assert_int_equal(a.calls, 0);
        result_done(&a);
        result_done(&b);
        result_done(&c);
}

/* ---- url_redact ---- */

static void test_url_redact(void **state) {
        static const struct {
                const char *in, *out;
        } cases[] = {
                { "https://example.com/policy.json", "https://example.com/policy.json" },
                { "https://user:pass@example.com/policy.json", "https://***@example.com/policy.json" },
                { "https://token@example.com/p", "https://***@example.com/p" },
                { "https://example.com/p?token=abc&x=1", "https://example.com/p?***" },
                { "https://u:p@example.com:8443/p?t=1", "https://***@example.com:8443/p?***" },
                { "https://example.com/p#frag", "https://example.com/p#***" },
                { "https://example.com/p?q#frag", "https://example.com/p?***#***" },
                { "https://example.com?q", "https://example.com?***" },
                { "http://[::1]:8080/p", "http://[::1]:8080/p" },
                { "http://u:p@[fe80::1%25eth0]:8080/p?x", "http://***@[fe80::1%25eth0]:8080/p?***" },
                { "https://a:b@c@example.com/", "https://***@example.com/" },
                /* Unencoded '/', '?' or '#' in a password: the password still goes. */
                { "http://admin:s3cr/et@127.0.0.1:8080/p", "http://***@127.0.0.1:8080/p" },
                { "http://admin:pa55?w0rd@127.0.0.1/p?t=1", "http://***@127.0.0.1/p?***" },
                { "http://admin:pa#55@127.0.0.1/p", "http://***@127.0.0.1/p" },
                /* The price: an '@' in a path is taken for the end of a password. */
                { "https://example.com/@scope/pkg", "https://***@scope/pkg" },
                { "file:///etc/payram/policy.json", "file:///etc/payram/policy.json" },
                { "/etc/payram/policy.json", "/etc/payram/policy.json" },
                { "", "" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *s = url_redact(cases[i].in);

                assert_non_null(s);
                assert_string_equal(s, cases[i].out);
        }
        assert_null(url_redact(NULL));
}

#define TEST(name) cmocka_unit_test_setup_teardown(name, env_setup, env_teardown)

int main(void) {
        const struct CMUnitTest fixture_free_tests[] = {
                cmocka_unit_test(test_url_redact),
        };
        const struct CMUnitTest tests[] = {
                TEST(test_file_success),
                TEST(test_file_bare_path_escaped),
                TEST(test_file_empty),
                TEST(test_file_missing),
                TEST(test_refused),
                TEST(test_file_not_regular),
                TEST(test_size_cap_file),
                TEST(test_http_success),
                TEST(test_http_404),
                TEST(test_http_redirects),
                TEST(test_http_timeout_loop_responsive),
                TEST(test_http_stream_over_cap),
                TEST(test_http_content_length_over_cap),
                TEST(test_http_truncated),
                TEST(test_http_secrets_not_in_error),
                TEST(test_cancel),
                TEST(test_concurrent),
                TEST(test_cancel_and_start_from_callback),
                TEST(test_cancel_self_from_callback),
                TEST(test_free_from_callback),
                TEST(test_free_with_pending),
        };
        int failed;

        failed = cmocka_run_group_tests_name("url_redact", fixture_free_tests, NULL, NULL);
        failed += cmocka_run_group_tests_name("fetcher", tests, group_setup, group_teardown);

        /* Every Fetcher is gone; release what libcurl and its TLS library
         * hold so that LeakSanitizer sees only our own allocations. */
        curl_global_cleanup();
        return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
