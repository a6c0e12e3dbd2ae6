/* Chunked transfer coding decoder (RFC 9112 section 7.1).
 *
 * One state per position in the grammar, advanced one byte at a time so that
 * any split of the input gives the same result.  Chunk data is handed to the
 * sink as it arrives; nothing else is kept except counters, so the only
 * memory a client controls is the body the sink collects.  Trailer fields are
 * checked with the header field syntax and thrown away: nothing downstream
 * looks at them, and accepting them unchecked would be a smuggling vector. */

#include <stdint.h>

#include "http/http-chunked.h"
#include "http/http-syntax-internal.h"
#include "util/macros.h"

typedef enum ChunkedState {
        CHUNKED_SIZE_FIRST,   /* first hex digit of a chunk-size */
        CHUNKED_SIZE,         /* further hex digits */
        CHUNKED_EXT_BWS,      /* whitespace after the size: only ";" may follow */
        CHUNKED_EXT,          /* inside the chunk-ext, up to CR */
        CHUNKED_SIZE_LF,      /* CR seen at the end of the size line */
        CHUNKED_DATA,
        CHUNKED_DATA_CR,      /* chunk data done, CRLF must follow */
        CHUNKED_DATA_LF,
        CHUNKED_TRAILER_START, /* start of a trailer line or the final CRLF */
        CHUNKED_TRAILER_NAME,
        CHUNKED_TRAILER_VALUE,
        CHUNKED_TRAILER_LF,   /* CR seen at the end of a trailer field */
        CHUNKED_END_LF,       /* CR of the final empty line seen */
        CHUNKED_DONE,
        CHUNKED_FAILED,
} ChunkedState;

struct HttpChunkedDecoder {
        size_t max_body_bytes;
        size_t max_line_bytes;
        size_t max_trailer_bytes;

        ChunkedState state;
        uint64_t chunk_size;      /* size of the current chunk, as parsed so far */
        uint64_t chunk_left;      /* data bytes of the current chunk still to come */
        uint64_t body_bytes;      /* decoded bytes so far, including announced ones */
        size_t line_bytes;        /* bytes of the current chunk-size line */
        size_t trailer_bytes;     /* bytes of the trailer section so far */

        int error_status;
        const char *error_reason;
};

int http_chunked_new(size_t max_body_bytes, size_t max_line_bytes, size_t max_trailer_bytes,
                     HttpChunkedDecoder **ret) {
        HttpChunkedDecoder *d;

        if (!ret || max_line_bytes == 0)
                return -EINVAL;

        d = calloc(1, sizeof(*d));
        if (!d)
                return -ENOMEM;

        d->max_body_bytes = max_body_bytes;
        d->max_line_bytes = max_line_bytes;
        d->max_trailer_bytes = max_trailer_bytes;
        http_chunked_reset(d);

        *ret = d;
        return 0;
}

HttpChunkedDecoder *http_chunked_free(HttpChunkedDecoder *d) {
        free(d);
        return NULL;
}

void http_chunked_reset(HttpChunkedDecoder *d) {
        if (!d)
                return;

        d->state = CHUNKED_SIZE_FIRST;
        d->chunk_size = 0;
        d->chunk_left = 0;
        d->body_bytes = 0;
        d->line_bytes = 0;
        d->trailer_bytes = 0;
        d->error_status = 0;
        d->error_reason = NULL;
}

static HttpChunkedStatus chunked_fail(HttpChunkedDecoder *d, int status, const char *reason) {
        d->state = CHUNKED_FAILED;
        d->error_status = status;
        d->error_reason = reason;
        return HTTP_CHUNKED_ERROR;
}

static int hex_value(char c) {
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

static HttpChunkedStatus size_digit(HttpChunkedDecoder *d, int v) {
        /* Checked before the shift: a size that does not fit is refused, never wrapped. */
        if (d->chunk_size > (UINT64_MAX >> 4))
                return chunked_fail(d, 400, "Chunk size overflows");

        d->chunk_size = (d->chunk_size << 4) | (uint64_t) v;
        d->state = CHUNKED_SIZE;
        return HTTP_CHUNKED_NEED_MORE;
}

/* The size line is complete: decide between data, and the last chunk.  The
 * body limit is checked against the announced size so that an oversized body
 * is refused before any of it is sent. */
static HttpChunkedStatus size_line_done(HttpChunkedDecoder *d) {
        if (d->chunk_size > d->max_body_bytes - d->body_bytes)
                return chunked_fail(d, 413, "Chunked body too large");

        d->line_bytes = 0;
        if (d->chunk_size == 0) {
                d->state = CHUNKED_TRAILER_START;
                return HTTP_CHUNKED_NEED_MORE;
        }

        d->body_bytes += d->chunk_size;
        d->chunk_left = d->chunk_size;
        d->chunk_size = 0;
        d->state = CHUNKED_DATA;
        return HTTP_CHUNKED_NEED_MORE;
}

/* One byte of the chunk-size line: 1*HEXDIG [ chunk-ext ] CRLF. */
static HttpChunkedStatus size_line_byte(HttpChunkedDecoder *d, char c) {
        int v;

        d->line_bytes++;
        if (d->line_bytes > d->max_line_bytes)
                return chunked_fail(d, 400, "Chunk size line too long");

        if (d->state == CHUNKED_SIZE_LF) {
                if (c != '\n')
                        return chunked_fail(d, 400, "Bare CR in chunk size line");
                return size_line_done(d);
        }

        if (c == '\n')
                return chunked_fail(d, 400, "Bare LF in chunk size line");

        switch (d->state) {

        case CHUNKED_SIZE_FIRST:
                v = hex_value(c);
                if (v < 0)
                        return chunked_fail(d, 400, "Invalid chunk size");
                return size_digit(d, v);

        case CHUNKED_SIZE:
                v = hex_value(c);
                if (v >= 0)
                        return size_digit(d, v);
                if (c == '\r')
                        d->state = CHUNKED_SIZE_LF;
                else if (c == ';')
                        d->state = CHUNKED_EXT;
                else if (http_is_ows(c))
                        d->state = CHUNKED_EXT_BWS;
                else
                        return chunked_fail(d, 400, "Invalid chunk size");
                return HTTP_CHUNKED_NEED_MORE;

        case CHUNKED_EXT_BWS:
                /* Whitespace is only allowed in front of an extension, never as
                 * padding after the size: "5 " is not a chunk-size line. */
                if (c == ';')
                        d->state = CHUNKED_EXT;
                else if (!http_is_ows(c))
                        return chunked_fail(d, 400, "Invalid chunk extension");
                return HTTP_CHUNKED_NEED_MORE;

        case CHUNKED_EXT:
                /* Extensions are ignored, so only their byte range is checked. */
                if (c == '\r')
                        d->state = CHUNKED_SIZE_LF;
                else if (!http_is_field_byte(c))
                        return chunked_fail(d, 400, "Invalid byte in chunk extension");
                return HTTP_CHUNKED_NEED_MORE;

        default:
                return chunked_fail(d, 400, "Internal chunked decoder error");
        }
}

/* One byte of the trailer section: fields with the header syntax, then CRLF. */
static HttpChunkedStatus trailer_byte(HttpChunkedDecoder *d, char c) {
        d->trailer_bytes++;
        if (d->trailer_bytes > d->max_trailer_bytes)
                return chunked_fail(d, 431, "Trailer section too large");

        switch (d->state) {

        case CHUNKED_TRAILER_START:
                if (c == '\r')
                        d->state = CHUNKED_END_LF;
                else if (c == '\n')
                        return chunked_fail(d, 400, "Bare LF in trailer section");
                else if (http_is_ows(c))
                        return chunked_fail(d, 400, "Obsolete line folding in trailer section");
                else if (!http_is_tchar(c))
                        return chunked_fail(d, 400, "Invalid trailer field name");
                else
                        d->state = CHUNKED_TRAILER_NAME;
                return HTTP_CHUNKED_NEED_MORE;

        case CHUNKED_TRAILER_NAME:
                if (c == ':')
                        d->state = CHUNKED_TRAILER_VALUE;
                else if (!http_is_tchar(c))
                        return chunked_fail(d, 400, "Invalid trailer field name");
                return HTTP_CHUNKED_NEED_MORE;

        case CHUNKED_TRAILER_VALUE:
                if (c == '\r')
                        d->state = CHUNKED_TRAILER_LF;
                else if (c == '\n')
                        return chunked_fail(d, 400, "Bare LF in trailer section");
                else if (!http_is_field_byte(c))
                        return chunked_fail(d, 400, "Invalid byte in trailer field");
                return HTTP_CHUNKED_NEED_MORE;

        case CHUNKED_TRAILER_LF:
                if (c != '\n')
                        return chunked_fail(d, 400, "Bare CR in trailer section");
                d->state = CHUNKED_TRAILER_START;
                return HTTP_CHUNKED_NEED_MORE;

        case CHUNKED_END_LF:
                if (c != '\n')
                        return chunked_fail(d, 400, "Bare CR in trailer section");
                d->state = CHUNKED_DONE;
                return HTTP_CHUNKED_DONE;

        default:
                return chunked_fail(d, 400, "Internal chunked decoder error");
        }
}

/* The CRLF that must close every chunk's data. */
static HttpChunkedStatus data_end_byte(HttpChunkedDecoder *d, char c) {
        if (d->state == CHUNKED_DATA_CR) {
                if (c != '\r')
                        return chunked_fail(d, 400, "Missing CRLF after chunk data");
                d->state = CHUNKED_DATA_LF;
                return HTTP_CHUNKED_NEED_MORE;
        }

        if (c != '\n')
                return chunked_fail(d, 400, "Missing CRLF after chunk data");
        d->state = CHUNKED_SIZE_FIRST;
        return HTTP_CHUNKED_NEED_MORE;
}

/* Passes as much of the current chunk's data as DATA holds to the sink. */
static HttpChunkedStatus data_run(HttpChunkedDecoder *d, const char *data, size_t len,
                                  http_chunked_sink_t sink, void *userdata, size_t *ret_used) {
        size_t n = len;

        if ((uint64_t) n > d->chunk_left)
                n = (size_t) d->chunk_left;

        if (sink && sink(data, n, userdata) < 0) {
                *ret_used = n;
                return chunked_fail(d, 500, "Failed to store chunk data");
        }

        d->chunk_left -= n;
        if (d->chunk_left == 0)
                d->state = CHUNKED_DATA_CR;

        *ret_used = n;
        return HTTP_CHUNKED_NEED_MORE;
}

static HttpChunkedStatus chunked_byte(HttpChunkedDecoder *d, char c) {
        switch (d->state) {
        case CHUNKED_SIZE_FIRST:
        case CHUNKED_SIZE:
        case CHUNKED_EXT_BWS:
        case CHUNKED_EXT:
        case CHUNKED_SIZE_LF:
                return size_line_byte(d, c);
        case CHUNKED_DATA_CR:
        case CHUNKED_DATA_LF:
                return data_end_byte(d, c);
        default:
                return trailer_byte(d, c);
        }
}

HttpChunkedStatus http_chunked_feed(HttpChunkedDecoder *d, const char *data, size_t len,
                                    http_chunked_sink_t sink, void *userdata, size_t *ret_consumed) {
        HttpChunkedStatus r = HTTP_CHUNKED_NEED_MORE;
        size_t i = 0;

        if (ret_consumed)
                *ret_consumed = 0;
        if (!d)
                return HTTP_CHUNKED_ERROR;
        if (d->state == CHUNKED_FAILED)
                return HTTP_CHUNKED_ERROR;
        if (d->state == CHUNKED_DONE)
                return HTTP_CHUNKED_DONE;

        while (i < len) {
                if (d->state == CHUNKED_DATA) {
                        size_t used;

                        r = data_run(d, data + i, len - i, sink, userdata, &used);
                        i += used;
                } else
                        r = chunked_byte(d, data[i++]);

                if (r != HTTP_CHUNKED_NEED_MORE)
                        break;
        }

        if (ret_consumed)
                *ret_consumed = i;
        return r;
}

int http_chunked_error_status(const HttpChunkedDecoder *d) {
        return d ? d->error_status : 0;
}

const char *http_chunked_error_reason(const HttpChunkedDecoder *d) {
        return d ? d->error_reason : NULL;
}
