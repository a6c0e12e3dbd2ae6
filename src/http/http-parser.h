/* Incremental HTTP/1.1 request parser.
 *
 * A byte-driven state machine: the caller feeds whatever arrived, in any
 * split, and the parser copies what it needs into its own bounded storage,
 * so it never looks past the bytes it was given and never keeps pointers
 * into the caller's buffer.  Every size a client controls has a limit in
 * HttpLimits; exceeding one is an error with the HTTP status to answer. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/macros.h"

typedef struct HttpLimits {
        size_t max_header_bytes;     /* request line + header fields (+ trailers): 431 */
        size_t max_headers;          /* header field count: 431 */
        size_t max_body_bytes;       /* decoded body: 413 */
        size_t max_chunk_line_bytes; /* chunk-size line including extensions: 400 */
} HttpLimits;

#define HTTP_DEFAULT_MAX_HEADER_BYTES     ((size_t) 8192)
#define HTTP_DEFAULT_MAX_HEADERS          ((size_t) 64)
#define HTTP_DEFAULT_MAX_BODY_BYTES       ((size_t) 65536)
#define HTTP_DEFAULT_MAX_CHUNK_LINE_BYTES ((size_t) 1024)

#define HTTP_LIMITS_DEFAULT                                      \
        ((HttpLimits) {                                          \
                .max_header_bytes = HTTP_DEFAULT_MAX_HEADER_BYTES, \
                .max_headers = HTTP_DEFAULT_MAX_HEADERS,         \
                .max_body_bytes = HTTP_DEFAULT_MAX_BODY_BYTES,   \
                .max_chunk_line_bytes = HTTP_DEFAULT_MAX_CHUNK_LINE_BYTES, \
        })

typedef struct HttpHeader {
        const char *name;  /* as sent; compare case-insensitively */
        const char *value; /* surrounding whitespace removed */
} HttpHeader;

/* Valid until the next http_parser_reset() or http_parser_free(). */
typedef struct HttpRequest {
        const char *method;   /* token, case-sensitive: "GET", "POST", ... */
        const char *target;   /* origin-form path+query, or "*" for OPTIONS */
        const char *path;     /* target without query; absolute-form reduced to its path */
        unsigned version_minor; /* HTTP/1.<minor>: 0 or 1 */
        const HttpHeader *headers;
        size_t n_headers;
        bool keep_alive;      /* connection may be reused after this request */
        bool expect_continue; /* "Expect: 100-continue" was sent */
        bool has_body;        /* Content-Length > 0 or chunked */
        const char *body;     /* NUL-terminated for convenience; body_len excludes it */
        size_t body_len;
} HttpRequest;

typedef enum HttpParseStatus {
        HTTP_PARSE_NEED_MORE,    /* all input consumed, request not complete */
        HTTP_PARSE_HEADERS_DONE, /* header block complete, body still to come: returned once per
                                  * request so the caller can answer 100 Continue; feed again */
        HTTP_PARSE_COMPLETE,     /* request complete; bytes after *ret_consumed belong to the next */
        HTTP_PARSE_ERROR,        /* see http_parser_error_status(); the connection must close */
} HttpParseStatus;

typedef struct HttpParser HttpParser;

int http_parser_new(const HttpLimits *limits, HttpParser **ret);
HttpParser *http_parser_free(HttpParser *p);
DEFINE_TRIVIAL_CLEANUP_FUNC(HttpParser *, http_parser_free);

/* Prepares for the next request on the same connection. */
void http_parser_reset(HttpParser *p);

/* Consumes bytes from DATA.  *ret_consumed says how many were used; on
 * COMPLETE the rest is the start of a pipelined request. */
HttpParseStatus http_parser_feed(HttpParser *p, const char *data, size_t len, size_t *ret_consumed);

/* The request parsed so far: headers after HEADERS_DONE or COMPLETE, the
 * body after COMPLETE.  NULL before the header block is complete. */
const HttpRequest *http_parser_request(const HttpParser *p);

/* After ERROR: the status to answer (400, 413, 417, 431, 501, 505) and a
 * short reason for the log (a static string).  500 only when memory for the
 * body could not be allocated. */
int http_parser_error_status(const HttpParser *p);
const char *http_parser_error_reason(const HttpParser *p);

/* True once any byte of a request has been received (so an idle keep-alive
 * connection can be told from a request that is slow to arrive). */
bool http_parser_in_request(const HttpParser *p);

/* The value of header NAME (case-insensitive), NULL when absent. */
const char *http_request_header(const HttpRequest *req, const char *name);
