/* Microbenchmark of the HTTP request parser alone (src/http/http-parser.c).
 *
 * For each sample request: feed the whole request (again after HEADERS_DONE,
 * as the server does), check it is COMPLETE, reset; repeat ITERS times between two clock_gettime() calls.
 * That is one run; the figure is the median ns/request over RUNS runs.
 * The iteration count is calibrated so that one run lasts about 100 ms.
 *
 * Output: one JSON object on stdout, e.g.
 *   {"runs":9,"cases":[{"name":"api_post_upgrade","bytes":171,"ns_median":...},...]}
 *
 * Usage: parser-bench [RUNS] [TARGET_MS_PER_RUN] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "http/http-parser.h"

typedef struct Case {
        const char *name;
        const char *what;
        const char *data;
        const char *expect_method;
        const char *expect_path;
        size_t expect_body_len;
        size_t expect_headers;
} Case;

#define BODY "{\"mode\":\"MANUAL\",\"requested_target\":\"latest\"}"

static const Case cases[] = {
        {
                .name = "api_post_upgrade",
                .what = "curl POST /upgrade with a 45-byte JSON body",
                .data = "POST /upgrade HTTP/1.1\r\n"
                        "Host: 127.0.0.1:2359\r\n"
                        "User-Agent: curl/7.88.1\r\n"
                        "Accept: */*\r\n"
                        "Content-Type: application/json\r\n"
                        "Content-Length: 45\r\n"
                        "\r\n" BODY,
                .expect_method = "POST",
                .expect_path = "/upgrade",
                .expect_body_len = 45,
                .expect_headers = 5,
        },
        {
                .name = "api_get_status",
                .what = "curl GET /upgrade/status, 3 headers",
                .data = "GET /upgrade/status HTTP/1.1\r\n"
                        "Host: 127.0.0.1:2359\r\n"
                        "User-Agent: curl/7.88.1\r\n"
                        "Accept: */*\r\n"
                        "\r\n",
                .expect_method = "GET",
                .expect_path = "/upgrade/status",
                .expect_body_len = 0,
                .expect_headers = 3,
        },
        {
                .name = "browser_get_700",
                .what = "Chrome-like GET /upgrade/status?... with 14 headers (~700 bytes)",
                .data = "GET /upgrade/status?job=1f0c2a9e&verbose=1 HTTP/1.1\r\n"
                        "Host: 172.17.0.1:2359\r\n"
                        "Connection: keep-alive\r\n"
                        "sec-ch-ua: \"Chromium\";v=\"124\", \"Google Chrome\";v=\"124\", \"Not-A.Brand\";v=\"99\"\r\n"
                        "sec-ch-ua-mobile: ?0\r\n"
                        "sec-ch-ua-platform: \"Linux\"\r\n"
                        "User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
                        "Chrome/124.0.0.0 Safari/537.36\r\n"
                        "Accept: application/json, text/plain, */*\r\n"
                        "Sec-Fetch-Site: same-origin\r\n"
                        "Sec-Fetch-Mode: cors\r\n"
                        "Sec-Fetch-Dest: empty\r\n"
                        "Referer: http://172.17.0.1:8080/settings/updates\r\n"
                        "Accept-Encoding: gzip, deflate, br, zstd\r\n"
                        "Accept-Language: en-US,en;q=0.9,de;q=0.8\r\n"
                        "Cookie: payram_session=eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0"
                        ".dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U\r\n"
                        "\r\n",
                .expect_method = "GET",
                .expect_path = "/upgrade/status",
                .expect_body_len = 0,
                .expect_headers = 14,
        },
};

static double now_ns(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec * 1e9 + (double) ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
        double x = *(const double *) a, y = *(const double *) b;
        return (x > y) - (x < y);
}

/* Feeds the whole buffer as the server does: again after HEADERS_DONE (a
 * request with a body), until COMPLETE.  Returns the last status. */
static HttpParseStatus feed_all(HttpParser *p, const char *data, size_t len, size_t *ret_used) {
        size_t used = 0;

        for (;;) {
                size_t consumed = 0;
                HttpParseStatus st = http_parser_feed(p, data + used, len - used, &consumed);

                used += consumed;
                if (st != HTTP_PARSE_HEADERS_DONE || used >= len) {
                        *ret_used = used;
                        return st;
                }
        }
}

/* The whole request + reset, ITERS times.  Returns ns per request, or a
 * negative number when the parser did not answer COMPLETE. */
static double run_once(HttpParser *p, const char *data, size_t len, unsigned long iters) {
        double t0 = now_ns();

        for (unsigned long i = 0; i < iters; i++) {
                size_t consumed;
                HttpParseStatus st = feed_all(p, data, len, &consumed);

                if (st != HTTP_PARSE_COMPLETE || consumed != len)
                        return -1;
                http_parser_reset(p);
        }
        return (now_ns() - t0) / (double) iters;
}

static int check_case(HttpParser *p, const Case *c) {
        size_t len = strlen(c->data), consumed;
        const HttpRequest *req;
        HttpParseStatus st;

        http_parser_reset(p);
        st = feed_all(p, c->data, len, &consumed);
        if (st != HTTP_PARSE_COMPLETE || consumed != len) {
                fprintf(stderr, "%s: parser answered %d (consumed %zu of %zu): %s\n", c->name, (int) st, consumed,
                        len, http_parser_error_reason(p) ? http_parser_error_reason(p) : "-");
                return -1;
        }
        req = http_parser_request(p);
        if (!req || strcmp(req->method, c->expect_method) != 0 || strcmp(req->path, c->expect_path) != 0 ||
            req->body_len != c->expect_body_len || req->n_headers != c->expect_headers) {
                fprintf(stderr, "%s: unexpected parse result\n", c->name);
                return -1;
        }
        http_parser_reset(p);
        return 0;
}

int main(int argc, char **argv) {
        unsigned runs = argc > 1 ? (unsigned) strtoul(argv[1], NULL, 10) : 9;
        double target_ms = argc > 2 ? strtod(argv[2], NULL) : 100.0;
        HttpParser *p = NULL;

        if (runs == 0 || runs > 101 || target_ms <= 0) {
                fprintf(stderr, "usage: parser-bench [RUNS 1-101] [TARGET_MS_PER_RUN]\n");
                return 2;
        }
        if (http_parser_new(NULL, &p) < 0) {
                fprintf(stderr, "http_parser_new failed\n");
                return 1;
        }

        printf("{\"runs\":%u,\"cases\":[", runs);
        for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
                const Case *c = &cases[k];
                size_t len = strlen(c->data);
                double samples[101], warm;
                unsigned long iters = 1000;

                if (check_case(p, c) < 0)
                        return 1;

                /* Warm up and calibrate: ITERS such that one run takes about target_ms. */
                warm = run_once(p, c->data, len, iters);
                warm = run_once(p, c->data, len, iters);
                if (warm <= 0)
                        return 1;
                iters = (unsigned long) (target_ms * 1e6 / warm);
                if (iters < 1000)
                        iters = 1000;
                if (iters > 50000000UL)
                        iters = 50000000UL;

                for (unsigned r = 0; r < runs; r++) {
                        samples[r] = run_once(p, c->data, len, iters);
                        if (samples[r] < 0) {
                                fprintf(stderr, "%s: parse failed during the run\n", c->name);
                                return 1;
                        }
                }
                qsort(samples, runs, sizeof(double), cmp_double);
                double med = runs % 2 ? samples[runs / 2] : (samples[runs / 2 - 1] + samples[runs / 2]) / 2;

                printf("%s{\"name\":\"%s\",\"what\":\"%s\",\"bytes\":%zu,\"iters_per_run\":%lu,"
                       "\"ns_median\":%.1f,\"ns_min\":%.1f,\"ns_max\":%.1f,\"mb_per_s\":%.1f}",
                       k ? "," : "", c->name, c->what, len, iters, med, samples[0], samples[runs - 1],
                       (double) len / med * 1e3);
                fflush(stdout);
        }
        printf("]}\n");
        http_parser_free(p);
        return 0;
}
