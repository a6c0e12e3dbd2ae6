/* Decoder for the chunked transfer coding of request bodies (RFC 9112
 * section 7.1): a state machine over the bytes received so far with a limit
 * on the decoded size and on each chunk-size line. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

typedef enum HttpChunkedStatus {
        HTTP_CHUNKED_NEED_MORE,
        HTTP_CHUNKED_DONE,      /* last chunk and trailer section consumed */
        HTTP_CHUNKED_ERROR,     /* see error_status / error_reason */
} HttpChunkedStatus;

typedef struct HttpChunkedDecoder HttpChunkedDecoder;

/* Writes decoded body bytes through this callback; returns <0 to abort. */
typedef int (*http_chunked_sink_t)(const char *data, size_t len, void *userdata);

int http_chunked_new(size_t max_body_bytes, size_t max_line_bytes, size_t max_trailer_bytes,
                     HttpChunkedDecoder **ret);
HttpChunkedDecoder *http_chunked_free(HttpChunkedDecoder *d);
void http_chunked_reset(HttpChunkedDecoder *d);

HttpChunkedStatus http_chunked_feed(HttpChunkedDecoder *d, const char *data, size_t len,
                                    http_chunked_sink_t sink, void *userdata, size_t *ret_consumed);

/* 400 malformed, 413 body too large, 431 trailer section too large, 500 when the
 * sink failed. */
int http_chunked_error_status(const HttpChunkedDecoder *d);
const char *http_chunked_error_reason(const HttpChunkedDecoder *d);
