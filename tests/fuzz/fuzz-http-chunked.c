/* libFuzzer harness for the chunked decoder.
 *
 * The first byte picks the limits and where the rest is cut in two; the rest
 * is decoded whole, cut, and (when short) byte by byte.  All three must hand
 * the same bytes to the sink and end the same way, and the decoder must never
 * exceed its body limit or claim more input than it was given. */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/http-chunked.h"
#include "util/macros.h"

#define FUZZ_BYTEWISE_MAX 2048
#define FUZZ_MAX_BODY     4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct Outcome {
        char body[FUZZ_MAX_BODY];
        size_t body_len;
        size_t consumed;
        HttpChunkedStatus status;
        int error_status;
} Outcome;

typedef struct Limits {
        size_t body, line, trailer;
} Limits;

static int sink(const char *d, size_t n, void *userdata) {
        Outcome *o = userdata;

        if (n == 0 || o->body_len + n > FUZZ_MAX_BODY)
                abort();
        memcpy(o->body + o->body_len, d, n);
        o->body_len += n;
        return 0;
}

static void run(const Limits *l, const char *buf, size_t len, const size_t *cuts, size_t n_cuts,
                Outcome *o) {
        HttpChunkedDecoder *d = NULL;
        size_t start = 0;

        *o = (Outcome) { .status = HTTP_CHUNKED_NEED_MORE };
        if (http_chunked_new(l->body, l->line, l->trailer, &d) < 0)
                abort();

        for (size_t k = 0; k <= n_cuts && o->status == HTTP_CHUNKED_NEED_MORE; k++) {
                size_t end = k < n_cuts ? cuts[k] : len, used = SIZE_MAX;
                char *piece = malloc(end - start + 1);

                if (!piece)
                        abort();
                memcpy(piece, buf + start, end - start);
                o->status = http_chunked_feed(d, piece, end - start, sink, o, &used);
                free(piece);

                if (used > end - start || (o->status == HTTP_CHUNKED_NEED_MORE && used != end - start))
                        abort();
                o->consumed += used;
                start = end;
        }

        o->error_status = http_chunked_error_status(d);
        if (o->status == HTTP_CHUNKED_ERROR && !http_chunked_error_reason(d))
                abort();
        if (o->body_len > l->body)
                abort();
        http_chunked_free(d);
}

static bool same(const Outcome *a, const Outcome *b) {
        return a->status == b->status && a->error_status == b->error_status &&
               a->consumed == b->consumed && a->body_len == b->body_len &&
               memcmp(a->body, b->body, a->body_len) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static Outcome whole, other;
        Limits l;
        const char *buf;
        size_t len, cut;

        if (size == 0)
                return 0;

        /* Tiny limits half of the time, so that every limit is reachable. */
        l = data[0] & 0x80 ? (Limits) { 16, 8, 24 } : (Limits) { FUZZ_MAX_BODY, 256, 1024 };
        buf = (const char *) data + 1;
        len = size - 1;
        cut = (size_t) (data[0] & 0x7f) * len / 0x7f;

        run(&l, buf, len, NULL, 0, &whole);
        run(&l, buf, len, &cut, 1, &other);
        if (!same(&whole, &other))
                abort();

        if (len > 1 && len <= FUZZ_BYTEWISE_MAX) {
                size_t cuts[FUZZ_BYTEWISE_MAX];

                for (size_t i = 0; i < len - 1; i++)
                        cuts[i] = i + 1;
                run(&l, buf, len, cuts, len - 1, &other);
                if (!same(&whole, &other))
                        abort();
        }
        return 0;
}
