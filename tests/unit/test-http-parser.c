/* Focused tests of the request parser's API contract: what each status
 * means for *ret_consumed, when the request becomes visible, how errors
 * stick, and the exact edges of each limit.  The wide syntax coverage lives
 * in the conformance table. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "http/http-parser.h"

#define STR_LEN(s) (sizeof(s) - 1)

static HttpParser *parser_new(const HttpLimits *limits) {
        HttpParser *p = NULL;

        assert_int_equal(http_parser_new(limits, &p), 0);
        assert_non_null(p);
        return p;
}

static void test_new_rejects_bad_limits(void **state) {
        HttpLimits l = HTTP_LIMITS_DEFAULT;
        HttpParser *p = NULL;

        assert_int_equal(http_parser_new(NULL, NULL), -EINVAL);

        l.max_header_bytes = 0;
        assert_int_equal(http_parser_new(&l, &p), -EINVAL);
        l = HTTP_LIMITS_DEFAULT;
        l.max_headers = 0;
        assert_int_equal(http_parser_new(&l, &p), -EINVAL);
        l = HTTP_LIMITS_DEFAULT;
        l.max_chunk_line_bytes = 0;
        assert_int_equal(http_parser_new(&l, &p), -EINVAL);
        assert_null(p);

        /* NULL means the defaults. */
        p = parser_new(NULL);
        http_parser_free(p);
        assert_null(http_parser_free(NULL));
}

static void test_get_complete_at_once(void **state) {
        _cleanup_(http_parser_freep) HttpParser *p = parser_new(NULL);
        static const char in[] = "GET /upgrade/status?verbose=1 HTTP/1.1\r\nHost: localhost\r\n"
                                 "Accept: */*\r\n\r\n";
        const HttpRequest *req;
        size_t used;

        assert_false(http_parser_in_request(p));
        assert_null(http_parser_request(p));

        assert_int_equal(http_parser_feed(p, in, STR_LEN(in), &used), HTTP_PARSE_COMPLETE);
        assert_int_equal(used, STR_LEN(in));

        req = http_parser_request(p);
        assert_non_null(req);
        assert_string_equal(req->method, "GET");
        assert_string_equal(req->target, "/upgrade/status?verbose=1");
        assert_string_equal(req->path, "/upgrade/status");
        assert_int_equal(req->version_minor, 1);
        assert_int_equal(req->n_headers, 2);
        assert_string_equal(req->headers[1].name, "Accept");
        assert_string_equal(req->headers[1].value, "*/*");
        assert_true(req->keep_alive);
        assert_false(req->has_body);
        assert_false(req->expect_continue);
        assert_non_null(req->body);
        assert_int_equal(req->body_len, 0);
        assert_string_equal(req->body, "");
}

static void test_header_lookup(void **state) {
        _cleanup_(http_parser_freep) HttpParser *p = parser_new(NULL);
        static const char in[] = "GET / HTTP/1.1\r\nHost: h\r\ncontent-TYPE: application/json\r\n\r\n";
        const HttpRequest *req;
        size_t used;

        assert_int_equal(http_parser_feed(p, in, STR_LEN(in), &used), HTTP_PARSE_COMPLETE);
        req = http_parser_request(p);
        assert_string_equal(http_request_header(req, "Content-Type"), "application/json");
        assert_string_equal(http_request_header(req, "host"), "h");
        assert_null(http_request_header(req, "Content-Length"));
        assert_null(http_request_header(NULL, "Host"));
        assert_null(http_request_header(req, NULL));
}

/* HEADERS_DONE comes once, stops right after the header block, and the
 * request (without its body) can be looked at before the body arrives. */
static void test_headers_done_then_body(void **state) {
        _cleanup_(http_parser_freep) HttpParser *p = parser_new(NULL);
        static const char head[] = "POST /upgrade HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\n"
                                   "Content-Length: 7\r\n\r\n";
        static const char in[] = "POST /upgrade HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\n"
                                 "Content-Length: 7\r\n\r\n{\"a\":1}GET";
        const HttpRequest *req;
        size_t used;

        assert_int_equal(http_parser_feed(p, in, STR_LEN(in), &used), HTTP_PARSE_HEADERS_DONE);
        assert_int_equal(used, STR_LEN(head));
        req = http_parser_request(p);
        assert_non_null(req);
        assert_true(req->has_body);
        assert_true(req->expect_continue);

        assert_int_equal(http_parser_feed(p, in + used, STR_LEN(in) - used, &used), HTTP_PARSE_COMPLETE);
        assert_int_equal(used, 7);
        req = http_parser_request(p);
        assert_int_equal(req->body_len, 7);
        assert_string_equal(req->body, "{\"a\":1}");

        /* Without a reset the parser stays on the finished request. */
        assert_int_equal(http_parser_feed(p, "GET", 3, &used), HTTP_PARSE_COMPLETE);
        assert_int_equal(used, 0);
}

static void test_need_more_and_in_request(void **state) {
        _cleanup_(http_parser_freep) HttpParser *p = parser_new(NULL);
        size_t used;

        assert_int_equal(http_parser_feed(p, "", 0, &used), HTTP_PARSE_NEED_MORE);
        assert_int_equal(used, 0);
        assert_false(http_parser_in_request(p));

        assert_int_equal(http_parser_feed(p, "G", 1, &used), HTTP_PARSE_NEED_MORE);
        assert_int_equal(used, 1);
        assert_true(http_parser_in_request(p));
        assert_null(http_parser_request(p));

        http_parser_reset(p);
        assert_false(http_parser_in_request(p));
}

static void test_pipelined_with_reset(void **state) {
        _cleanup_(http_parser_freep) HttpParser *p = parser_new(NULL);
        static const char in[] = "GET /a HTTP/1.1\r\nHost: h\r\n\r\nGET /b HTTP/1.0\r\n\r\n";
        const HttpRequest *req;
        size_t used, off;

        assert_int_equal(http_parser_feed(p, in, STR_LEN(in), &used), HTTP_PARSE_COMPLETE);
        assert_string_equal(http_parser_request(p)->path, "/a");
        off = used;

        http_parser_reset(p);
        assert_null(http_parser_request(p));
        assert_int_equal(http_parser_feed(p, in + off, STR_LEN(in) - off, &used), HTTP_PARSE_COMPLETE);
        assert_int_equal(off + used, STR_LEN(in));
        req = http_parser_request(p);
        assert_string_equal(req->path, "/b");
        assert_int_equal(req->version_minor, 0);
        assert_false(req->keep_alive);
        assert_int_equal(req->n_headers, 0);
}

static void test_error_sticks(void **state) {
        _cleanup_(http_parser_freep) HttpParser *p = parser_new(NULL);
        static const char in[] = "GET / HTTP/1.1\r\nHost : h\r\n\r\n";
        size_t used;

        assert_int_equal(http_parser_feed(p, in, STR_LEN(in), &used), HTTP_PARSE_ERROR);
        assert_int_equal(http_parser_error_status(p), 400);
        assert_non_null(http_parser_error_reason(p));
        assert_true(used <= STR_LEN(in));

        assert_int_equal(http_parser_feed(p, "GET / HTTP/1.1\r\n", 16, &used), HTTP_PARSE_ERROR);
        assert_int_equal(used, 0);
        assert_int_equal(http_parser_error_status(p), 400);

        /* A reset starts over (the server closes instead, but it must work). */
        http_parser_reset(p);
        assert_int_equal(http_parser_error_status(p), 0);
        assert_int_equal(http_parser_feed(p, "GET / HTTP/1.0\r\n\r\n", 18, &used), HTTP_PARSE_COMPLETE);
}

/* 413 is answered when the header block ends, before any body byte. */
static void test_content_length_too_large_early(void **state) {
        _cleanup_(http_parser_freep) HttpParser *p = parser_new(NULL);
        static const char in[] = "POST /upgrade HTTP/1.1\r\nHost: h\r\nContent-Length: 65537\r\n\r\n";
        size_t used;

        assert_int_equal(http_parser_feed(p, in, STR_LEN(in), &used), HTTP_PARSE_ERROR);
        assert_int_equal(used, STR_LEN(in));
        assert_int_equal(http_parser_error_status(p), 413);
}

static void test_body_at_default_limit(void **state) {
        _cleanup_(http_parser_freep) HttpParser *p = parser_new(NULL);
        static const char head[] = "POST /upgrade HTTP/1.1\r\nHost: h\r\nContent-Length: 65536\r\n\r\n";
        _cleanup_free_ char *body = malloc(HTTP_DEFAULT_MAX_BODY_BYTES);
        const HttpRequest *req;
        size_t used;

        assert_non_null(body);
        memset(body, 'x', HTTP_DEFAULT_MAX_BODY_BYTES);

        assert_int_equal(http_parser_feed(p, head, STR_LEN(head), &used), HTTP_PARSE_HEADERS_DONE);
        assert_int_equal(http_parser_feed(p, body, HTTP_DEFAULT_MAX_BODY_BYTES, &used),
                         HTTP_PARSE_COMPLETE);
        req = http_parser_request(p);
        assert_int_equal(req->body_len, HTTP_DEFAULT_MAX_BODY_BYTES);
        assert_int_equal(req->body[HTTP_DEFAULT_MAX_BODY_BYTES], '\0');
}

/* Feeds IN one byte at a time and returns the final status. */
static HttpParseStatus feed_bytes(HttpParser *p, const char *in, size_t len) {
        HttpParseStatus s = HTTP_PARSE_NEED_MORE;

        for (size_t i = 0; i < len; i++) {
                size_t used;

                s = http_parser_feed(p, in + i, 1, &used);
                assert_int_equal(used, 1);
                if (s != HTTP_PARSE_NEED_MORE && s != HTTP_PARSE_HEADERS_DONE)
                        break;
        }
        return s;
}

/* The header block limit counts every byte up to and including the final
 * CRLF: exactly the limit passes, one more is 431. */
static void test_header_bytes_edge(void **state) {
        static const char in[] = "GET / HTTP/1.1\r\nHost: h\r\nX: 123\r\n\r\n";
        HttpLimits l = HTTP_LIMITS_DEFAULT;
        _cleanup_(http_parser_freep) HttpParser *p = NULL;
        _cleanup_(http_parser_freep) HttpParser *q = NULL;

        l.max_header_bytes = STR_LEN(in);
        p = parser_new(&l);
        assert_int_equal(feed_bytes(p, in, STR_LEN(in)), HTTP_PARSE_COMPLETE);

        l.max_header_bytes = STR_LEN(in) - 1;
        q = parser_new(&l);
        assert_int_equal(feed_bytes(q, in, STR_LEN(in)), HTTP_PARSE_ERROR);
        assert_int_equal(http_parser_error_status(q), 431);
}

static void test_default_header_limit(void **state) {
        _cleanup_(http_parser_freep) HttpParser *p = parser_new(NULL);
        static const char head[] = "GET / HTTP/1.1\r\nHost: h\r\nX-Big: ";
        _cleanup_free_ char *filler = malloc(HTTP_DEFAULT_MAX_HEADER_BYTES);
        size_t used;

        assert_non_null(filler);
        memset(filler, 'a', HTTP_DEFAULT_MAX_HEADER_BYTES);
        assert_int_equal(http_parser_feed(p, head, STR_LEN(head), &used), HTTP_PARSE_NEED_MORE);
        assert_int_equal(http_parser_feed(p, filler, HTTP_DEFAULT_MAX_HEADER_BYTES, &used),
                         HTTP_PARSE_ERROR);
        assert_int_equal(http_parser_error_status(p), 431);
}

static void test_chunked_request(void **state) {
        _cleanup_(http_parser_freep) HttpParser *p = parser_new(NULL);
        static const char head[] = "POST /upgrade HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n";
        static const char body[] = "3\r\n{\"a\r\n4;x=y\r\n\":1}\r\n0\r\nX-Trailer: 1\r\n\r\nNEXT";
        const HttpRequest *req;
        size_t used;

        assert_int_equal(http_parser_feed(p, head, STR_LEN(head), &used), HTTP_PARSE_HEADERS_DONE);
        assert_true(http_parser_request(p)->has_body);
        assert_int_equal(http_parser_feed(p, body, STR_LEN(body), &used), HTTP_PARSE_COMPLETE);
        assert_int_equal(used, STR_LEN(body) - 4);

        req = http_parser_request(p);
        assert_int_equal(req->body_len, 7);
        assert_string_equal(req->body, "{\"a\":1}");
        /* Trailer fields are discarded, never merged into the headers. */
        assert_null(http_request_header(req, "X-Trailer"));
}

static void test_absolute_form_target(void **state) {
        _cleanup_(http_parser_freep) HttpParser *p = parser_new(NULL);
        static const char in[] = "GET http://127.0.0.1:2359/upgrade/logs?tail=5 HTTP/1.1\r\nHost: h\r\n\r\n";
        const HttpRequest *req;
        size_t used;

        assert_int_equal(http_parser_feed(p, in, STR_LEN(in), &used), HTTP_PARSE_COMPLETE);
        req = http_parser_request(p);
        assert_string_equal(req->target, "/upgrade/logs?tail=5");
        assert_string_equal(req->path, "/upgrade/logs");
}

static void test_error_statuses(void **state) {
        static const struct {
                const char *in;
                int status;
        } cases[] = {
                { "GET / HTTP/2.0\r\n", 505 },
                { "CONNECT h:443 HTTP/1.1\r\n", 501 },
                { "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n\r\n", 501 },
                { "POST / HTTP/1.1\r\nHost: h\r\nExpect: nothing\r\n\r\n", 417 },
                { "GET / HTTP/1.1\r\n\r\n", 400 },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_(http_parser_freep) HttpParser *p = parser_new(NULL);
                size_t used;

                assert_int_equal(http_parser_feed(p, cases[i].in, strlen(cases[i].in), &used),
                                 HTTP_PARSE_ERROR);
                assert_int_equal(http_parser_error_status(p), cases[i].status);
                assert_non_null(http_parser_error_reason(p));
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_new_rejects_bad_limits),
                cmocka_unit_test(test_get_complete_at_once),
                cmocka_unit_test(test_header_lookup),
                cmocka_unit_test(test_headers_done_then_body),
                cmocka_unit_test(test_need_more_and_in_request),
                cmocka_unit_test(test_pipelined_with_reset),
                cmocka_unit_test(test_error_sticks),
                cmocka_unit_test(test_content_length_too_large_early),
                cmocka_unit_test(test_body_at_default_limit),
                cmocka_unit_test(test_header_bytes_edge),
                cmocka_unit_test(test_default_header_limit),
                cmocka_unit_test(test_chunked_request),
                cmocka_unit_test(test_absolute_form_target),
                cmocka_unit_test(test_error_statuses),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
