/* Focused tests of the chunked decoder on its own: what reaches the sink,
 * where decoding stops, the edges of each limit, and sticky end states. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "http/http-chunked.h"
#include "util/macros.h"

#define STR_LEN(s) (sizeof(s) - 1)
#define COLLECT_MAX 256

typedef struct Collect {
        char data[COLLECT_MAX];
        size_t len;
        size_t calls;
        bool fail;
} Collect;

static int collect(const char *data, size_t len, void *userdata) {
        Collect *c = userdata;

        if (c->fail)
                return -EIO;
        assert_true(c->len + len <= COLLECT_MAX);
        memcpy(c->data + c->len, data, len);
        c->len += len;
        c->calls++;
        return 0;
}

static HttpChunkedDecoder *decoder_new(size_t max_body, size_t max_line, size_t max_trailer) {
        HttpChunkedDecoder *d = NULL;

        assert_int_equal(http_chunked_new(max_body, max_line, max_trailer, &d), 0);
        return d;
}

static void test_new_and_free(void **state) {
        HttpChunkedDecoder *d = NULL;

        assert_int_equal(http_chunked_new(1, 1, 1, NULL), -EINVAL);
        assert_int_equal(http_chunked_new(1, 0, 1, &d), -EINVAL);
        assert_null(d);
        assert_null(http_chunked_free(NULL));
        d = decoder_new(1, 1, 1);
        assert_null(http_chunked_free(d));
}

static void test_decode_and_stop(void **state) {
        HttpChunkedDecoder *d = decoder_new(1024, 64, 256);
        static const char in[] = "4\r\nWiki\r\n5;name=val\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n"
                                 "0\r\n\r\nREST";
        Collect c = {};
        size_t used;

        assert_int_equal(http_chunked_feed(d, in, STR_LEN(in), collect, &c, &used), HTTP_CHUNKED_DONE);
        assert_int_equal(used, STR_LEN(in) - 4);
        assert_int_equal(c.len, 23);
        assert_memory_equal(c.data, "Wikipedia in\r\n\r\nchunks.", 23);

        /* Done is final until a reset. */
        assert_int_equal(http_chunked_feed(d, "REST", 4, collect, &c, &used), HTTP_CHUNKED_DONE);
        assert_int_equal(used, 0);

        http_chunked_reset(d);
        c.len = 0;
        assert_int_equal(http_chunked_feed(d, "1\r\nx\r\n0\r\n\r\n", 11, collect, &c, &used),
                         HTTP_CHUNKED_DONE);
        assert_int_equal(c.len, 1);
        http_chunked_free(d);
}

/* Any split gives the same bytes to the sink and the same end. */
static void test_every_split(void **state) {
        static const char in[] = "3;a=\"q\"\r\nabc\r\n10\r\n0123456789abcdef\r\n0\r\nT: v\r\n\r\n";

        for (size_t at = 0; at <= STR_LEN(in); at++) {
                HttpChunkedDecoder *d = decoder_new(1024, 64, 256);
                Collect c = {};
                size_t used1, used2 = 0;
                HttpChunkedStatus s;

                s = http_chunked_feed(d, in, at, collect, &c, &used1);
                assert_int_equal(used1, at);
                if (at < STR_LEN(in)) {
                        assert_int_equal(s, HTTP_CHUNKED_NEED_MORE);
                        s = http_chunked_feed(d, in + at, STR_LEN(in) - at, collect, &c, &used2);
                }
                assert_int_equal(s, HTTP_CHUNKED_DONE);
                assert_int_equal(used1 + used2, STR_LEN(in));
                assert_int_equal(c.len, 19);
                assert_memory_equal(c.data, "abc0123456789abcdef", 19);
                http_chunked_free(d);
        }
}

static HttpChunkedStatus decode(size_t max_body, size_t max_line, size_t max_trailer, const char *in,
                                int *ret_status) {
        HttpChunkedDecoder *d = decoder_new(max_body, max_line, max_trailer);
        HttpChunkedStatus s;
        size_t used;

        s = http_chunked_feed(d, in, strlen(in), NULL, NULL, &used);
        *ret_status = http_chunked_error_status(d);
        if (s == HTTP_CHUNKED_ERROR)
                assert_non_null(http_chunked_error_reason(d));
        http_chunked_free(d);
        return s;
}

static void test_limits(void **state) {
        int status;

        /* Body: exactly the limit passes, across chunks too; one more is 413. */
        assert_int_equal(decode(4, 64, 64, "2\r\nab\r\n2\r\ncd\r\n0\r\n\r\n", &status), HTTP_CHUNKED_DONE);
        assert_int_equal(decode(4, 64, 64, "2\r\nab\r\n3\r\n", &status), HTTP_CHUNKED_ERROR);
        assert_int_equal(status, 413);
        assert_int_equal(decode(0, 64, 64, "0\r\n\r\n", &status), HTTP_CHUNKED_DONE);
        assert_int_equal(decode(0, 64, 64, "1\r\n", &status), HTTP_CHUNKED_ERROR);
        assert_int_equal(status, 413);

        /* Size line, CRLF included: "1;ab\r\n" is 6 bytes. */
        assert_int_equal(decode(16, 6, 64, "1;ab\r\nx\r\n0\r\n\r\n", &status), HTTP_CHUNKED_DONE);
        assert_int_equal(decode(16, 5, 64, "1;ab\r\nx\r\n0\r\n\r\n", &status), HTTP_CHUNKED_ERROR);
        assert_int_equal(status, 400);
        /* Leading zeros are bounded by the same limit. */
        assert_int_equal(decode(16, 8, 64, "000000000001\r\nx\r\n0\r\n\r\n", &status), HTTP_CHUNKED_ERROR);
        assert_int_equal(status, 400);

        /* Trailer section, final CRLF included: "T: v\r\n\r\n" is 8 bytes. */
        assert_int_equal(decode(16, 8, 8, "0\r\nT: v\r\n\r\n", &status), HTTP_CHUNKED_DONE);
        assert_int_equal(decode(16, 8, 7, "0\r\nT: v\r\n\r\n", &status), HTTP_CHUNKED_ERROR);
        assert_int_equal(status, 431);
}

static void test_syntax_errors(void **state) {
        static const char *const bad[] = {
                "x\r\n", "\r\n", "-1\r\n", "0x1\r\n", "1 \r\n", " 1\r\n", "1\n", "1\rx",
                "1\r\nab", "1\r\na\n", "1\r\na\rx", "1;\x01\r\n", "0\r\nX\r\n", "0\r\nX : y\r\n",
                "0\r\n y: z\r\n", "0\r\nX: \x7f\r\n", "0\r\n\n", "0\r\nX: y\n", "0\r\n\rx",
                "10000000000000000\r\n",
        };
        int status;

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                if (decode(SIZE_MAX, 64, 64, bad[i], &status) != HTTP_CHUNKED_ERROR)
                        fail_msg("'%s' was accepted", bad[i]);
                assert_int_equal(status, 400);
        }
}

static void test_sink_failure_sticks(void **state) {
        HttpChunkedDecoder *d = decoder_new(64, 64, 64);
        Collect c = { .fail = true };
        size_t used;

        assert_int_equal(http_chunked_feed(d, "2\r\nab\r\n", 7, collect, &c, &used), HTTP_CHUNKED_ERROR);
        assert_int_equal(http_chunked_error_status(d), 500);
        assert_int_equal(http_chunked_feed(d, "0\r\n\r\n", 5, collect, &c, &used), HTTP_CHUNKED_ERROR);
        assert_int_equal(used, 0);
        http_chunked_free(d);
}

static void test_large_sizes(void **state) {
        int status;

        /* The largest size that fits is a size, refused only by the body limit. */
        assert_int_equal(decode(SIZE_MAX / 2, 64, 64, "ffffffffffffffff\r\n", &status), HTTP_CHUNKED_ERROR);
        assert_int_equal(status, 413);
        assert_int_equal(decode(SIZE_MAX, 64, 64, "7fffffff\r\n", &status), HTTP_CHUNKED_NEED_MORE);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_new_and_free),
                cmocka_unit_test(test_decode_and_stop),
                cmocka_unit_test(test_every_split),
                cmocka_unit_test(test_limits),
                cmocka_unit_test(test_syntax_errors),
                cmocka_unit_test(test_sink_failure_sticks),
                cmocka_unit_test(test_large_sizes),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
