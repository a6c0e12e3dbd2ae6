/* libFuzzer harness for the HTTP request parser.
 *
 * The first input byte picks the limits (default or tiny, so that limit paths
 * are reached too) and where the rest is cut into two reads.  The rest is
 * parsed like a server would on one connection: whole, cut in two, and, when
 * short, one byte at a time.  Besides the sanitizers catching memory errors,
 * the harness aborts when the parser breaks its contract or when the three
 * ways of feeding disagree about what was received. */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/http-parser.h"

/* Inputs up to this size are also fed one byte at a time. */
#define FUZZ_BYTEWISE_MAX 2048

static const HttpLimits fuzz_tiny_limits = {
        .max_header_bytes = 96,
        .max_headers = 3,
        .max_body_bytes = 24,
        .max_chunk_line_bytes = 12,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* FNV-1a over everything the API layer would see, so runs can be compared. */
static uint64_t mix(uint64_t h, const void *p, size_t n) {
        const unsigned char *b = p;

        for (size_t i = 0; i < n; i++)
                h = (h ^ b[i]) * UINT64_C(1099511628211);
        return h;
}

static uint64_t mix_str(uint64_t h, const char *s) {
        return mix(h, s, strlen(s) + 1);
}

static void check_request(const HttpRequest *req, const HttpLimits *limits) {
        if (!req || !req->method || !req->target || !req->path || !req->body || !req->headers)
                abort();
        if (!*req->method || req->version_minor > 1 || req->n_headers > limits->max_headers)
                abort();
        if (req->body_len > limits->max_body_bytes || req->body[req->body_len] != '\0')
                abort();
        if (req->path[0] != '/' && !streq(req->path, "*"))
                abort();
        for (size_t i = 0; i < req->n_headers; i++)
                if (!req->headers[i].name[0] || !req->headers[i].value)
                        abort();
}

static bool status_expected(int status) {
        static const int statuses[] = { 400, 413, 417, 431, 501, 505 };

        for (size_t i = 0; i < ELEMENTSOF(statuses); i++)
                if (status == statuses[i])
                        return true;
        return false;
}

/* One read: returns true when the connection ends.  *h accumulates what was seen. */
static bool feed(HttpParser *p, const HttpLimits *limits, const char *buf, size_t len, uint64_t *h) {
        size_t off = 0;

        while (off < len) {
                size_t used = SIZE_MAX;
                HttpParseStatus s = http_parser_feed(p, buf + off, len - off, &used);
                const HttpRequest *req;

                if (used > len - off || (s == HTTP_PARSE_NEED_MORE && used != len - off))
                        abort();
                off += used;

                if (s == HTTP_PARSE_ERROR) {
                        int status = http_parser_error_status(p);

                        if (!status_expected(status) || !http_parser_error_reason(p))
                                abort();
                        *h = mix(*h, &status, sizeof(status));
                        return true;
                }
                if (s == HTTP_PARSE_HEADERS_DONE) {
                        if (used == 0 || !http_parser_request(p) || !http_parser_request(p)->has_body)
                                abort();
                        continue;
                }
                if (s == HTTP_PARSE_NEED_MORE)
                        continue;

                req = http_parser_request(p);
                check_request(req, limits);
                *h = mix_str(*h, req->method);
                *h = mix_str(*h, req->path);
                *h = mix(*h, req->body, req->body_len + 1);
                *h = mix(*h, &req->keep_alive, sizeof(req->keep_alive));
                if (!req->keep_alive)
                        return true;
                http_parser_reset(p);
        }
        return false;
}

/* Parses BUF cut before each offset in CUTS; each read gets its own heap copy
 * so that ASan sees any access past it. */
static uint64_t run(const HttpLimits *limits, const char *buf, size_t len, const size_t *cuts,
                    size_t n_cuts) {
        _cleanup_(http_parser_freep) HttpParser *p = NULL;
        uint64_t h = UINT64_C(14695981039346656037);
        size_t start = 0;

        if (http_parser_new(limits, &p) < 0)
                abort();

        for (size_t k = 0; k <= n_cuts; k++) {
                size_t end = k < n_cuts ? cuts[k] : len;
                _cleanup_free_ char *piece = malloc(end - start + 1);
                bool done;

                if (!piece)
                        abort();
                memcpy(piece, buf + start, end - start);
                done = feed(p, limits, piece, end - start, &h);
                if (done)
                        return h;
                start = end;
        }

        return mix(h, "incomplete", http_parser_in_request(p) ? 10 : 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        const HttpLimits *limits;
        HttpLimits defaults = HTTP_LIMITS_DEFAULT;
        const char *buf;
        size_t len, cut;
        uint64_t whole, split;

        if (size == 0)
                return 0;

        limits = data[0] & 0x80 ? &fuzz_tiny_limits : &defaults;
        buf = (const char *) data + 1;
        len = size - 1;
        cut = (size_t) (data[0] & 0x7f) * len / 0x7f;

        whole = run(limits, buf, len, NULL, 0);
        split = run(limits, buf, len, &cut, 1);
        if (whole != split)
                abort();

        if (len > 1 && len <= FUZZ_BYTEWISE_MAX) {
                size_t cuts[FUZZ_BYTEWISE_MAX];

                for (size_t i = 0; i < len - 1; i++)
                        cuts[i] = i + 1;
                if (run(limits, buf, len, cuts, len - 1) != whole)
                        abort();
        }
        return 0;
}
