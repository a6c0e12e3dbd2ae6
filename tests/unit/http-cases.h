/* The HTTP conformance table shared by test-http-conformance (every case fed
 * whole, byte by byte and split in two at every position) and test-http-guard
 * (every case placed against an unreadable page).
 *
 * A case is a byte string as a client would send it on one connection and
 * what the API layer must see: the requests parsed, in order, and then either
 * nothing more (status 0), an error status, or an unfinished request.  The
 * runner plays the server: it answers nothing, resets the parser after every
 * keep-alive request and stops at the first request that closes the
 * connection. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "http/http-parser.h"

#define HTTP_CASE_MAX_REQUESTS 4
#define HTTP_CASE_MAX_TEXT     256

/* Status of a case whose input ends inside a request. */
#define HTTP_INCOMPLETE (-1)
/* Status when the parser broke its own contract (consumed too much or too little). */
#define HTTP_CONTRACT_BROKEN (-2)

typedef struct HttpCaseRequest {
        const char *method;
        const char *path;
        const char *body;
        bool keep_alive;
} HttpCaseRequest;

typedef struct HttpCase {
        const char *name;
        const char *input;
        size_t len;
        int status;               /* 0, an HTTP error status, or HTTP_INCOMPLETE */
        bool close;               /* the connection must close after the input */
        HttpCaseRequest requests[HTTP_CASE_MAX_REQUESTS];
        const HttpLimits *limits; /* NULL for HTTP_LIMITS_DEFAULT */
        const char *header;       /* when set: a header of the first request ... */
        const char *header_value; /* ... and its expected value */
} HttpCase;

/* Small limits, so that the limit cases stay readable. */
static const HttpLimits http_small_limits = {
        .max_header_bytes = 128,
        .max_headers = 4,
        .max_body_bytes = 32,
        .max_chunk_line_bytes = 16,
};

#define IN(s) .input = (s), .len = sizeof(s) - 1
#define OK(n, in, m, p, b, ka) \
        { .name = (n), IN(in), .close = !(ka), .requests = { { (m), (p), (b), (ka) } } }
#define OKL(n, in, m, p, b, ka)                                                          \
        { .name = (n), IN(in), .close = !(ka), .requests = { { (m), (p), (b), (ka) } },  \
          .limits = &http_small_limits }
#define OKH(n, in, h, v) \
        { .name = (n), IN(in), .requests = { { "GET", "/", "", true } }, .header = (h), .header_value = (v) }
#define BAD(n, in, st) { .name = (n), IN(in), .status = (st), .close = true }
#define BADL(n, in, st) { .name = (n), IN(in), .status = (st), .close = true, .limits = &http_small_limits }
#define A40 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define GET_ "GET / HTTP/1.1\r\nHost: h\r\n"
#define POST_ "POST /upgrade HTTP/1.1\r\nHost: h\r\n"
#define CHUNKED_ POST_ "Transfer-Encoding: chunked\r\n\r\n"

static const HttpCase http_cases[] = {
        /* Request line. */
        OK("simple GET", GET_ "\r\n", "GET", "/", "", true),
        OK("path and query", "GET /upgrade/status?x=1&y HTTP/1.1\r\nHost: h\r\n\r\n",
           "GET", "/upgrade/status", "", true),
        OK("query only", "GET /?x HTTP/1.1\r\nHost: h\r\n\r\n", "GET", "/", "", true),
        OK("leading CRLF", "\r\n" GET_ "\r\n", "GET", "/", "", true),
        OK("two leading CRLFs", "\r\n\r\n" GET_ "\r\n", "GET", "/", "", true),
        BAD("leading bare LF", "\n" GET_ "\r\n", 400),
        BAD("leading bare CR", "\rGET / HTTP/1.1\r\nHost: h\r\n\r\n", 400),
        OK("method is case-sensitive token", "get / HTTP/1.1\r\nHost: h\r\n\r\n", "get", "/", "", true),
        OK("extension method", "M-SEARCH / HTTP/1.1\r\nHost: h\r\n\r\n", "M-SEARCH", "/", "", true),
        OK("method of all tchars", "X!#$%&'*+-.^_`|~9 / HTTP/1.1\r\nHost: h\r\n\r\n",
           "X!#$%&'*+-.^_`|~9", "/", "", true),
        OK("HEAD", "HEAD /health HTTP/1.1\r\nHost: h\r\n\r\n", "HEAD", "/health", "", true),
        OK("DELETE", "DELETE /x HTTP/1.1\r\nHost: h\r\n\r\n", "DELETE", "/x", "", true),
        BAD("method with parenthesis", "GE(T / HTTP/1.1\r\nHost: h\r\n\r\n", 400),
        BAD("method with slash", "GE/T / HTTP/1.1\r\nHost: h\r\n\r\n", 400),
        BAD("method with colon", "GET: / HTTP/1.1\r\nHost: h\r\n\r\n", 400),
        BAD("method with obs-text", "G\xc3\x89T / HTTP/1.1\r\nHost: h\r\n\r\n", 400),
        BAD("empty method", " / HTTP/1.1\r\nHost: h\r\n\r\n", 400),
        BAD("two spaces after method", "GET  / HTTP/1.1\r\nHost: h\r\n\r\n", 400),
        BAD("two spaces before version", "GET /  HTTP/1.1\r\nHost: h\r\n\r\n", 400),
        BAD("tab after method", "GET\t/ HTTP/1.1\r\nHost: h\r\n\r\n", 400),
        BAD("tab before version", "GET /\tHTTP/1.1\r\nHost: h\r\n\r\n", 400),
        BAD("space after version", "GET / HTTP/1.1 \r\nHost: h\r\n\r\n", 400),
        BAD("no version (HTTP/0.9)", "GET /\r\n\r\n", 400),
        BAD("method only", "GET\r\n\r\n", 400),
        BAD("request line of spaces", "  \r\n\r\n", 400),
        BAD("lowercase version", "GET / http/1.1\r\nHost: h\r\n\r\n", 400),
        OK("HTTP/1.0 without Host", "GET / HTTP/1.0\r\n\r\n", "GET", "/", "", false),
        OK("HTTP/1.0 with Host", "GET /a HTTP/1.0\r\nHost: h\r\n\r\n", "GET", "/a", "", false),
        BAD("HTTP/2.0", "GET / HTTP/2.0\r\nHost: h\r\n\r\n", 505),
        BAD("HTTP/0.9", "GET / HTTP/0.9\r\nHost: h\r\n\r\n", 505),
        BAD("HTTP/1.2", "GET / HTTP/1.2\r\nHost: h\r\n\r\n", 505),
        BAD("HTTP/3.0", "GET / HTTP/3.0\r\nHost: h\r\n\r\n", 505),
        BAD("HTTP/9.9", "GET / HTTP/9.9\r\nHost: h\r\n\r\n", 505),
        BAD("version without minor", "GET / HTTP/1\r\nHost: h\r\n\r\n", 400),
        BAD("two-digit minor", "GET / HTTP/1.10\r\nHost: h\r\n\r\n", 400),
        BAD("two-digit major", "GET / HTTP/11.1\r\nHost: h\r\n\r\n", 400),
        BAD("junk after version", "GET / HTTP/1.1x\r\nHost: h\r\n\r\n", 400),
        BAD("comma in version", "GET / HTTP/1,1\r\nHost: h\r\n\r\n", 400),
        BAD("space inside version", "GET / HTTP/ 1.1\r\nHost: h\r\n\r\n", 400),
        BAD("HTTPS version", "GET / HTTPS/1.1\r\nHost: h\r\n\r\n", 400),
        BAD("letter as minor", "GET / HTTP/1.a\r\nHost: h\r\n\r\n", 400),
        BAD("control byte in target", "GET /a\x01" "b HTTP/1.1\r\nHost: h\r\n\r\n", 400),
        BAD("DEL in target", "GET /a\x7f" "b HTTP/1.1\r\nHost: h\r\n\r\n", 400),
        BAD("obs-text in target", "GET /\x80 HTTP/1.1\r\nHost: h\r\n\r\n", 400),
        BAD("0xff in target", "GET /\xff HTTP/1.1\r\nHost: h\r\n\r\n", 400),
        BAD("NUL in target", "GET /\0 HTTP/1.1\r\nHost: h\r\n\r\n", 400),
        BAD("tab in target", "GET /a\tb HTTP/1.1\r\nHost: h\r\n\r\n", 400),
        BAD("fragment in target", "GET /a#b HTTP/1.1\r\nHost: h\r\n\r\n", 400),
        BAD("relative target", "GET foo HTTP/1.1\r\nHost: h\r\n\r\n", 400),
        BAD("authority-form with GET", "GET example.com:80 HTTP/1.1\r\nHost: h\r\n\r\n", 400),
        BAD("CONNECT authority-form", "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n",
            501),
        BAD("CONNECT origin-form", "CONNECT / HTTP/1.1\r\nHost: h\r\n\r\n", 501),
        OK("OPTIONS asterisk", "OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n", "OPTIONS", "*", "", true),
        BAD("asterisk with GET", "GET * HTTP/1.1\r\nHost: h\r\n\r\n", 400),
        BAD("asterisk with suffix", "OPTIONS *x HTTP/1.1\r\nHost: h\r\n\r\n", 400),
        OK("absolute-form", "GET http://h/health HTTP/1.1\r\nHost: h\r\n\r\n", "GET", "/health", "", true),
        OK("absolute-form with query", "GET http://h:2359/a/b?c=d HTTP/1.1\r\nHost: h\r\n\r\n",
           "GET", "/a/b", "", true),
        OK("absolute-form without path", "GET http://h HTTP/1.1\r\nHost: h\r\n\r\n", "GET", "/", "", true),
        OK("absolute-form query without path", "GET http://h?x HTTP/1.1\r\nHost: h\r\n\r\n",
           "GET", "/", "", true),
        OK("absolute-form https", "GET https://h/x HTTP/1.1\r\nHost: h\r\n\r\n", "GET", "/x", "", true),
        OK("absolute-form scheme case", "GET HTTP://h/x HTTP/1.1\r\nHost: h\r\n\r\n", "GET", "/x", "", true),
        BAD("absolute-form ftp", "GET ftp://h/x HTTP/1.1\r\nHost: h\r\n\r\n", 400),
        BAD("absolute-form empty authority", "GET http:///x HTTP/1.1\r\nHost: h\r\n\r\n", 400),
        BAD("absolute-form userinfo", "GET http://u@h/x HTTP/1.1\r\nHost: h\r\n\r\n", 400),
        BAD("absolute-form one slash", "GET http:/x HTTP/1.1\r\nHost: h\r\n\r\n", 400),
        BAD("absolute-form without Host", "GET http://h/x HTTP/1.1\r\n\r\n", 400),
        OK("percent-encoding kept", "GET /a%20b HTTP/1.1\r\nHost: h\r\n\r\n", "GET", "/a%20b", "", true),
        OK("double slash path", "GET //x HTTP/1.1\r\nHost: h\r\n\r\n", "GET", "//x", "", true),
        BAD("bare CR in request line", "GET / HTTP/1.1\r\r\nHost: h\r\n\r\n", 400),
        BAD("bare LF request line", "GET / HTTP/1.1\nHost: h\r\n\r\n", 400),
        BAD("all bare LF", "GET / HTTP/1.1\nHost: h\n\n", 400),
        BAD("NUL before request", "\0GET / HTTP/1.1\r\nHost: h\r\n\r\n", 400),
        BAD("TLS handshake bytes", "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 400),

        /* Header field syntax. */
        OKH("OWS around value trimmed", GET_ "X-A:   v  \r\n\r\n", "X-A", "v"),
        OKH("tab OWS trimmed", GET_ "X-A:\tv\t\r\n\r\n", "X-A", "v"),
        OKH("no OWS", GET_ "X-A:v\r\n\r\n", "X-A", "v"),
        OKH("empty value", GET_ "X-A:\r\n\r\n", "X-A", ""),
        OKH("value of whitespace only", GET_ "X-A:  \t \r\n\r\n", "X-A", ""),
        OKH("inner spaces kept", GET_ "X-A: a  b\tc\r\n\r\n", "X-A", "a  b\tc"),
        OKH("obs-text in value", GET_ "X-A: \xc3\xa9\xff\r\n\r\n", "X-A", "\xc3\xa9\xff"),
        OKH("colon in value", GET_ "X-A: a:b\r\n\r\n", "X-A", "a:b"),
        OKH("name lookup ignores case", GET_ "x-a: v\r\n\r\n", "X-A", "v"),
        OKH("first of repeated field", GET_ "X-A: 1\r\nX-A: 2\r\n\r\n", "X-A", "1"),
        OKH("Host case-insensitive", "GET / HTTP/1.1\r\nhOsT: h\r\n\r\n", "Host", "h"),
        BAD("NUL in value", GET_ "X-A: a\0b\r\n\r\n", 400),
        BAD("control byte in value", GET_ "X-A: a\x01" "b\r\n\r\n", 400),
        BAD("DEL in value", GET_ "X-A: a\x7f" "b\r\n\r\n", 400),
        BAD("vertical tab in value", GET_ "X-A: a\x0b" "b\r\n\r\n", 400),
        BAD("form feed in value", GET_ "X-A: \x0c" "b\r\n\r\n", 400),
        BAD("bare CR in value", GET_ "X-A: a\rb\r\n\r\n", 400),
        BAD("bare LF in value", GET_ "X-A: a\nb\r\n\r\n", 400),
        BAD("header ends with bare LF", GET_ "X-A: a\n\r\n", 400),
        BAD("final empty line bare LF", GET_ "\n", 400),
        BAD("final empty line bare CR", GET_ "\r\r\n", 400),
        BAD("space before colon", "GET / HTTP/1.1\r\nHost : h\r\n\r\n", 400),
        BAD("tab before colon", "GET / HTTP/1.1\r\nHost\t: h\r\n\r\n", 400),
        BAD("missing colon", GET_ "X-A v\r\n\r\n", 400),
        BAD("name only", GET_ "X-A\r\n\r\n", 400),
        BAD("empty name", GET_ ": v\r\n\r\n", 400),
        BAD("parenthesis in name", GET_ "X(a): v\r\n\r\n", 400),
        BAD("obs-text in name", GET_ "X-\xe9: v\r\n\r\n", 400),
        BAD("space inside name", GET_ "X A: v\r\n\r\n", 400),
        BAD("obs-fold with space", GET_ "X-A: a\r\n b\r\n\r\n", 400),
        BAD("obs-fold with tab", GET_ "X-A: a\r\n\tb\r\n\r\n", 400),
        BAD("first field folded", "GET / HTTP/1.1\r\n Host: h\r\n\r\n", 400),

        /* Host. */
        BAD("missing Host", "GET / HTTP/1.1\r\n\r\n", 400),
        BAD("duplicate Host", "GET / HTTP/1.1\r\nHost: h\r\nHost: h\r\n\r\n", 400),
        BAD("duplicate Host differing", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400),
        BAD("duplicate Host in HTTP/1.0", "GET / HTTP/1.0\r\nHost: a\r\nHost: a\r\n\r\n", 400),
        BAD("empty Host", "GET / HTTP/1.1\r\nHost:\r\n\r\n", 400),
        OK("Host with port", "GET / HTTP/1.1\r\nHost: 127.0.0.1:2359\r\n\r\n", "GET", "/", "", true),
        OK("Host IPv6", "GET / HTTP/1.1\r\nHost: [::1]:2359\r\n\r\n", "GET", "/", "", true),
        BAD("Host with space", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400),
        BAD("Host list", "GET / HTTP/1.1\r\nHost: a,b\r\n\r\n", 400),
        BAD("Host with path", "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", 400),
        BAD("Host with userinfo", "GET / HTTP/1.1\r\nHost: u@a\r\n\r\n", 400),

        /* Content-Length. */
        OK("Content-Length body", POST_ "Content-Length: 5\r\n\r\nhello", "POST", "/upgrade", "hello", true),
        OK("Content-Length zero", POST_ "Content-Length: 0\r\n\r\n", "POST", "/upgrade", "", true),
        OK("Content-Length leading zeros", POST_ "Content-Length: 005\r\n\r\nhello",
           "POST", "/upgrade", "hello", true),
        OK("Content-Length OWS trimmed", POST_ "Content-Length:\t5 \r\n\r\nhello",
           "POST", "/upgrade", "hello", true),
        OK("content-length lowercase", POST_ "content-length: 2\r\n\r\n{}", "POST", "/upgrade", "{}", true),
        OK("GET with body", GET_ "Content-Length: 3\r\n\r\nabc", "GET", "/", "abc", true),
        OK("body bytes are opaque", POST_ "Content-Length: 6\r\n\r\n\r\n\x01\xff\r\n",
           "POST", "/upgrade", "\r\n\x01\xff\r\n", true),
        BAD("Content-Length plus sign", POST_ "Content-Length: +5\r\n\r\nhello", 400),
        BAD("Content-Length negative", POST_ "Content-Length: -1\r\n\r\n", 400),
        BAD("Content-Length inner space", POST_ "Content-Length: 1 0\r\n\r\n0123456789", 400),
        BAD("Content-Length list", POST_ "Content-Length: 5, 5\r\n\r\nhello", 400),
        BAD("Content-Length list no space", POST_ "Content-Length: 5,5\r\n\r\nhello", 400),
        BAD("Content-Length duplicate equal", POST_ "Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello",
            400),
        BAD("Content-Length duplicate differing",
            POST_ "Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!", 400),
        BAD("Content-Length hex", POST_ "Content-Length: 0x5\r\n\r\nhello", 400),
        BAD("Content-Length decimal", POST_ "Content-Length: 5.0\r\n\r\nhello", 400),
        BAD("Content-Length empty", POST_ "Content-Length:\r\n\r\n", 400),
        BAD("Content-Length overflow", POST_ "Content-Length: 99999999999999999999999\r\n\r\n", 400),
        BAD("Content-Length 2^64", POST_ "Content-Length: 18446744073709551616\r\n\r\n", 400),
        BAD("Content-Length 2^64-1", POST_ "Content-Length: 18446744073709551615\r\n\r\n", 413),
        BAD("Content-Length over limit, no body sent", POST_ "Content-Length: 65537\r\n\r\n", 413),
        OKL("Content-Length at limit", POST_ "Content-Length: 32\r\n\r\n0123456789abcdef0123456789abcdef",
            "POST", "/upgrade", "0123456789abcdef0123456789abcdef", true),
        BADL("Content-Length one over limit", POST_ "Content-Length: 33\r\n\r\n", 413),
        { .name = "Content-Length body not finished", IN(POST_ "Content-Length: 10\r\n\r\nhello"),
          .status = HTTP_INCOMPLETE },
        BAD("CL.TE", POST_ "Content-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nG", 400),
        BAD("TE.CL", POST_ "Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n1\r\nG\r\n0\r\n\r\n",
            400),
        BAD("CL zero with TE", POST_ "Content-Length: 0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            400),
        OK("Content_Length is another field", GET_ "Content_Length: 5\r\n\r\n", "GET", "/", "", true),

        /* Transfer-Encoding. */
        OK("chunked", CHUNKED_ "5\r\nhello\r\n0\r\n\r\n", "POST", "/upgrade", "hello", true),
        OK("Chunked capitalised", POST_ "Transfer-Encoding: Chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n",
           "POST", "/upgrade", "hi", true),
        OK("CHUNKED", POST_ "Transfer-Encoding: CHUNKED\r\n\r\n2\r\nhi\r\n0\r\n\r\n", "POST", "/upgrade",
           "hi", true),
        OK("chunked trailing OWS", POST_ "Transfer-Encoding: chunked \r\n\r\n2\r\nhi\r\n0\r\n\r\n",
           "POST", "/upgrade", "hi", true),
        OK("chunked leading spaces", POST_ "Transfer-Encoding:   chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n",
           "POST", "/upgrade", "hi", true),
        OK("chunked tab separator", POST_ "Transfer-Encoding:\tchunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n",
           "POST", "/upgrade", "hi", true),
        BAD("gzip", POST_ "Transfer-Encoding: gzip\r\n\r\n", 501),
        BAD("identity", POST_ "Transfer-Encoding: identity\r\n\r\n", 501),
        BAD("xchunked", POST_ "Transfer-Encoding: xchunked\r\n\r\n0\r\n\r\n", 501),
        BAD("chunkedx", POST_ "Transfer-Encoding: chunkedx\r\n\r\n0\r\n\r\n", 501),
        BAD("chunked then gzip", POST_ "Transfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n", 400),
        BAD("gzip then chunked", POST_ "Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", 400),
        BAD("chunked twice in a list", POST_ "Transfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n", 400),
        BAD("chunked with empty list element", POST_ "Transfer-Encoding: chunked,\r\n\r\n0\r\n\r\n", 400),
        BAD("chunked with parameter", POST_ "Transfer-Encoding: chunked;q=1\r\n\r\n0\r\n\r\n", 400),
        BAD("chunked split by space", POST_ "Transfer-Encoding: chun ked\r\n\r\n0\r\n\r\n", 400),
        BAD("chunked quoted", POST_ "Transfer-Encoding: \"chunked\"\r\n\r\n0\r\n\r\n", 400),
        BAD("empty Transfer-Encoding", POST_ "Transfer-Encoding:\r\n\r\n", 400),
        BAD("Transfer-Encoding repeated",
            POST_ "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
        BAD("Transfer-Encoding repeated with identity",
            POST_ "Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n0\r\n\r\n", 400),
        BAD("Transfer-Encoding repeated with gzip",
            POST_ "Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
        BAD("Transfer-Encoding space before colon", POST_ "Transfer-Encoding : chunked\r\n\r\n0\r\n\r\n",
            400),
        BAD("Transfer-Encoding tab before colon", POST_ "Transfer-Encoding\t: chunked\r\n\r\n0\r\n\r\n",
            400),
        BAD("Transfer-Encoding vertical tab", POST_ "Transfer-Encoding:\x0b" "chunked\r\n\r\n0\r\n\r\n",
            400),
        BAD("Transfer-Encoding folded", POST_ "Transfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n", 400),
        BAD("Transfer-Encoding as folded line", POST_ "X-A: a\r\n Transfer-Encoding: chunked\r\n\r\n", 400),
        BAD("Transfer-Encoding in HTTP/1.0",
            "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
        BAD("Transfer-Encoding with NUL", POST_ "Transfer-Encoding: chunked\0\r\n\r\n0\r\n\r\n", 400),
        { .name = "Transfer_Encoding is another field",
          IN(POST_ "Transfer_Encoding: chunked\r\n\r\n0\r\n\r\n"),
          .status = 400, .close = true, .requests = { { "POST", "/upgrade", "", true } } },

        /* Chunked body syntax. */
        OK("two chunks", CHUNKED_ "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", "POST", "/upgrade",
           "hello world", true),
        OK("uppercase hex size", CHUNKED_ "A\r\n0123456789\r\n0\r\n\r\n", "POST", "/upgrade", "0123456789",
           true),
        OK("lowercase hex size", CHUNKED_ "a\r\n0123456789\r\n0\r\n\r\n", "POST", "/upgrade", "0123456789",
           true),
        OK("size with leading zeros", CHUNKED_ "0005\r\nhello\r\n000\r\n\r\n", "POST", "/upgrade", "hello",
           true),
        OK("empty chunked body", CHUNKED_ "0\r\n\r\n", "POST", "/upgrade", "", true),
        OK("chunk data containing CRLF", CHUNKED_ "4\r\n\r\n\r\n\r\n0\r\n\r\n", "POST", "/upgrade",
           "\r\n\r\n", true),
        OK("chunk extension", CHUNKED_ "5;foo=bar\r\nhello\r\n0\r\n\r\n", "POST", "/upgrade", "hello", true),
        OK("chunk extension after BWS", CHUNKED_ "5 ;foo\r\nhello\r\n0\r\n\r\n", "POST", "/upgrade",
           "hello", true),
        OK("quoted chunk extension", CHUNKED_ "5;a=\"b c\"\r\nhello\r\n0\r\n\r\n", "POST", "/upgrade",
           "hello", true),
        OK("extension on last chunk", CHUNKED_ "0;x\r\n\r\n", "POST", "/upgrade", "", true),
        BAD("size 0x prefix", CHUNKED_ "0x5\r\nhello\r\n0\r\n\r\n", 400),
        BAD("size plus sign", CHUNKED_ "+5\r\nhello\r\n0\r\n\r\n", 400),
        BAD("size minus sign", CHUNKED_ "-5\r\nhello\r\n0\r\n\r\n", 400),
        BAD("empty size", CHUNKED_ "\r\nhello\r\n0\r\n\r\n", 400),
        BAD("size not hex", CHUNKED_ "g\r\nhello\r\n0\r\n\r\n", 400),
        BAD("size with leading space", CHUNKED_ " 5\r\nhello\r\n0\r\n\r\n", 400),
        BAD("size with trailing space", CHUNKED_ "5 \r\nhello\r\n0\r\n\r\n", 400),
        BAD("size overflow", CHUNKED_ "10000000000000000\r\nx\r\n0\r\n\r\n", 400),
        BAD("size 2^64-1", CHUNKED_ "ffffffffffffffff\r\nx\r\n0\r\n\r\n", 413),
        BAD("control byte in extension", CHUNKED_ "5;a\x01\r\nhello\r\n0\r\n\r\n", 400),
        BADL("extension over line limit", CHUNKED_ "5;aaaaaaaaaaaaaaaaaaaa\r\nhello\r\n0\r\n\r\n", 400),
        OKL("extension within line limit", CHUNKED_ "5;aaaaaaaaaa\r\nhello\r\n0\r\n\r\n",
            "POST", "/upgrade", "hello", true),
        BAD("bare LF after size", CHUNKED_ "5\nhello\r\n0\r\n\r\n", 400),
        BAD("bare CR after size", CHUNKED_ "5\rhello\r\n0\r\n\r\n", 400),
        BAD("data longer than size", CHUNKED_ "5\r\nhelloX\r\n0\r\n\r\n", 400),
        BAD("data shorter than size", CHUNKED_ "5\r\nhel\r\n0\r\n\r\n", 400),
        BAD("bare LF after data", CHUNKED_ "5\r\nhello\n0\r\n\r\n", 400),
        BAD("bare CR after data", CHUNKED_ "5\r\nhello\r0\r\n\r\n", 400),
        BAD("last chunk bare LF end", CHUNKED_ "0\r\n\n", 400),
        { .name = "last chunk without final CRLF", IN(CHUNKED_ "0\r\n"), .status = HTTP_INCOMPLETE },
        { .name = "chunk data not finished", IN(CHUNKED_ "5\r\nhel"), .status = HTTP_INCOMPLETE },
        OK("trailer field", CHUNKED_ "2\r\nhi\r\n0\r\nX-T: v\r\n\r\n", "POST", "/upgrade", "hi", true),
        OK("two trailer fields", CHUNKED_ "2\r\nhi\r\n0\r\nX-T: v\r\nX-U:\r\n\r\n", "POST", "/upgrade",
           "hi", true),
        BAD("trailer folded", CHUNKED_ "0\r\nX-T: v\r\n w\r\n\r\n", 400),
        BAD("trailer bare LF", CHUNKED_ "0\r\nX-T: v\n\r\n", 400),
        BAD("trailer space before colon", CHUNKED_ "0\r\nX-T : v\r\n\r\n", 400),
        BAD("trailer without colon", CHUNKED_ "0\r\nX-T\r\n\r\n", 400),
        BAD("trailer control byte", CHUNKED_ "0\r\nX-T: \x01\r\n\r\n", 400),
        BAD("trailer empty name", CHUNKED_ "0\r\n: v\r\n\r\n", 400),
        BADL("chunked body over limit", CHUNKED_ "14\r\n01234567890123456789\r\n14\r\n", 413),
        BADL("chunk size over limit", CHUNKED_ "21\r\n", 413),
        OKL("chunked body at limit",
            CHUNKED_ "10\r\n0123456789abcdef\r\n10\r\n0123456789abcdef\r\n0\r\n\r\n",
            "POST", "/upgrade", "0123456789abcdef0123456789abcdef", true),
        BADL("trailer section too large",
             CHUNKED_ "0\r\nX-T: " A40 A40 "aaaaa"
                      A40 A40 "a\r\n\r\n", 431),

        /* Limits on the header block. */
        BADL("header block too large",
             GET_ "X-A: " A40 A40 "aaaaaaaa"
                  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n", 431),
        BADL("request line too long",
             "GET /aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
             "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa HTTP/1.1\r\n", 431),
        BADL("too many header fields", GET_ "A: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n", 431),
        OKL("header fields at the limit", GET_ "A: 1\r\nB: 2\r\nC: 3\r\n\r\n", "GET", "/", "", true),
        BADL("endless empty lines",
             "\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n"
             "\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n"
             "\r\n\r\n\r\n\r\n"
             "\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n",
                     431),

        /* Pipelining. */
        { .name = "two GETs in one read", IN(GET_ "\r\n" "GET /health HTTP/1.1\r\nHost: h\r\n\r\n"),
          .requests = { { "GET", "/", "", true }, { "GET", "/health", "", true } } },
        { .name = "GET after a body", IN(POST_ "Content-Length: 2\r\n\r\n{}" GET_ "\r\n"),
          .requests = { { "POST", "/upgrade", "{}", true }, { "GET", "/", "", true } } },
        { .name = "GET after a chunked body", IN(CHUNKED_ "2\r\n{}\r\n0\r\n\r\n" GET_ "\r\n"),
          .requests = { { "POST", "/upgrade", "{}", true }, { "GET", "/", "", true } } },
        { .name = "empty line between requests", IN(GET_ "\r\n\r\n" GET_ "\r\n"),
          .requests = { { "GET", "/", "", true }, { "GET", "/", "", true } } },
        { .name = "three requests, close in the middle",
          IN(GET_ "\r\n" GET_ "Connection: close\r\n\r\n" GET_ "\r\n"), .close = true,
          .requests = { { "GET", "/", "", true }, { "GET", "/", "", false } } },
        { .name = "garbage after a request", IN(GET_ "\r\nXYZ\r\n\r\n"), .status = 400, .close = true,
          .requests = { { "GET", "/", "", true } } },
        { .name = "partial second request", IN(GET_ "\r\nGET /hea"), .status = HTTP_INCOMPLETE,
          .requests = { { "GET", "/", "", true } } },
        { .name = "HTTP/1.0 closes before the next", IN("GET / HTTP/1.0\r\n\r\n" GET_ "\r\n"), .close = true,
          .requests = { { "GET", "/", "", false } } },
        { .name = "four requests", IN(GET_ "\r\n" GET_ "\r\n" GET_ "\r\n" GET_ "\r\n"),
          .requests = { { "GET", "/", "", true }, { "GET", "/", "", true }, { "GET", "/", "", true },
                        { "GET", "/", "", true } } },
        { .name = "smuggled request after CL body",
          IN(POST_ "Content-Length: 4\r\n\r\nGET / HTTP/1.1\r\n\r\n"),
          .status = 400, .close = true, .requests = { { "POST", "/upgrade", "GET ", true } } },

        /* Connection. */
        OK("Connection close", GET_ "Connection: close\r\n\r\n", "GET", "/", "", false),
        OK("Connection CLOSE", GET_ "Connection: CLOSE\r\n\r\n", "GET", "/", "", false),
        OK("Connection list with close", GET_ "Connection: keep-alive, close\r\n\r\n", "GET", "/", "",
           false),
        OK("Connection close among others", GET_ "Connection: Upgrade,close ,TE\r\n\r\n", "GET", "/", "",
           false),
        OK("Connection keep-alive in 1.1", GET_ "Connection: keep-alive\r\n\r\n", "GET", "/", "", true),
        OK("Connection closed is not close", GET_ "Connection: closed\r\n\r\n", "GET", "/", "", true),
        OK("Connection close in second field", GET_ "Connection: TE\r\nConnection: close\r\n\r\n",
           "GET", "/", "", false),
        OK("HTTP/1.0 keep-alive", "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", "GET", "/", "", true),
        OK("HTTP/1.0 Keep-Alive case", "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", "GET", "/", "",
           true),
        OK("HTTP/1.0 keep-alive and close", "GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n",
           "GET", "/", "", false),
        OK("HTTP/1.0 other token", "GET / HTTP/1.0\r\nConnection: foo\r\n\r\n", "GET", "/", "", false),
        OK("HTTP/1.0 body", "POST /upgrade HTTP/1.0\r\nContent-Length: 2\r\n\r\n{}", "POST", "/upgrade",
           "{}", false),
        { .name = "HTTP/1.0 keep-alive pipelined",
          IN("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /x HTTP/1.0\r\n\r\n"), .close = true,
          .requests = { { "GET", "/", "", true }, { "GET", "/x", "", false } } },

        /* Expect. */
        OK("Expect 100-continue", POST_ "Expect: 100-continue\r\nContent-Length: 2\r\n\r\n{}",
           "POST", "/upgrade", "{}", true),
        OK("Expect 100-Continue case", POST_ "Expect: 100-Continue\r\nContent-Length: 2\r\n\r\n{}",
           "POST", "/upgrade", "{}", true),
        OK("Expect without body", GET_ "Expect: 100-continue\r\n\r\n", "GET", "/", "", true),
        OK("Expect in HTTP/1.0",
           "POST /upgrade HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n{}",
           "POST", "/upgrade", "{}", false),
        BAD("Expect unknown", POST_ "Expect: 200-ok\r\nContent-Length: 2\r\n\r\n{}", 417),
        BAD("Expect empty", POST_ "Expect:\r\nContent-Length: 2\r\n\r\n{}", 417),
        BAD("Expect list", POST_ "Expect: 100-continue, foo\r\nContent-Length: 2\r\n\r\n{}", 417),
        BAD("Expect second field unknown", POST_ "Expect: 100-continue\r\nExpect: x\r\n\r\n", 417),
};

/* What the API layer saw on one connection. */
typedef struct HttpOutcomeRequest {
        char method[HTTP_CASE_MAX_TEXT];
        char path[HTTP_CASE_MAX_TEXT];
        char body[HTTP_CASE_MAX_TEXT];
        size_t body_len;
        bool keep_alive;
} HttpOutcomeRequest;

typedef struct HttpOutcome {
        int status;
        bool close;
        size_t n_requests;
        HttpOutcomeRequest requests[HTTP_CASE_MAX_REQUESTS];
        bool have_header;
        char header_value[HTTP_CASE_MAX_TEXT];
} HttpOutcome;

/* Where the bytes of one feed are put before the parser sees them. */
typedef const char *(*http_place_t)(const char *data, size_t len, void *userdata);

static inline void http_outcome_copy(char *dst, const char *src, size_t len) {
        if (len >= HTTP_CASE_MAX_TEXT)
                len = HTTP_CASE_MAX_TEXT - 1;
        memcpy(dst, src, len);
        dst[len] = '\0';
}

static inline void http_outcome_record(const HttpCase *c, HttpOutcome *out, const HttpRequest *req) {
        HttpOutcomeRequest *o;

        if (c->header && out->n_requests == 0) {
                const char *v = http_request_header(req, c->header);

                out->have_header = v != NULL;
                if (v)
                        http_outcome_copy(out->header_value, v, strlen(v));
        }

        if (out->n_requests >= HTTP_CASE_MAX_REQUESTS) {
                out->n_requests++;
                return;
        }
        o = &out->requests[out->n_requests++];
        http_outcome_copy(o->method, req->method, strlen(req->method));
        http_outcome_copy(o->path, req->path, strlen(req->path));
        http_outcome_copy(o->body, req->body, req->body_len);
        o->body_len = req->body_len;
        o->keep_alive = req->keep_alive;
}

/* Feeds the bytes of one read to the parser the way the server does.
 * Returns true when the connection is finished. */
static inline bool http_case_feed(const HttpCase *c, HttpParser *p, const char *data, size_t len,
                                  HttpOutcome *out) {
        size_t off = 0;

        while (off < len) {
                size_t used = SIZE_MAX;
                HttpParseStatus s = http_parser_feed(p, data + off, len - off, &used);

                if (used > len - off || (s == HTTP_PARSE_NEED_MORE && used != len - off) ||
                    (s == HTTP_PARSE_HEADERS_DONE && (used == 0 || !http_parser_request(p)))) {
                        out->status = HTTP_CONTRACT_BROKEN;
                        out->close = true;
                        return true;
                }
                off += used;

                if (s == HTTP_PARSE_ERROR) {
                        out->status = http_parser_error_status(p);
                        out->close = true;
                        return true;
                }
                if (s != HTTP_PARSE_COMPLETE)
                        continue;

                http_outcome_record(c, out, http_parser_request(p));
                if (!http_parser_request(p)->keep_alive) {
                        out->close = true;
                        return true;
                }
                http_parser_reset(p);
        }
        return false;
}

/* Runs case C with the input cut before each offset in CUTS (ascending, each
 * in 1..len-1), every piece passed through PLACE. */
static inline int http_case_run(const HttpCase *c, const size_t *cuts, size_t n_cuts,
                                http_place_t place, void *userdata, HttpOutcome *ret) {
        _cleanup_(http_parser_freep) HttpParser *p = NULL;
        size_t start = 0;
        int r;

        *ret = (HttpOutcome) {};
        r = http_parser_new(c->limits ? c->limits : &HTTP_LIMITS_DEFAULT, &p);
        if (r < 0)
                return r;

        for (size_t k = 0; k <= n_cuts; k++) {
                size_t end = k < n_cuts ? cuts[k] : c->len;
                const char *piece = c->input + start;

                if (place)
                        piece = place(piece, end - start, userdata);
                if (http_case_feed(c, p, piece, end - start, ret))
                        return 0;
                start = end;
        }

        if (http_parser_in_request(p))
                ret->status = HTTP_INCOMPLETE;
        return 0;
}

/* Explains the first difference between A and B in BUF; false when equal. */
static inline bool http_outcome_differs(const HttpOutcome *a, const HttpOutcome *b, char *buf, size_t size) {
        if (a->status != b->status)
                return snprintf(buf, size, "status %d != %d", a->status, b->status), true;
        if (a->close != b->close)
                return snprintf(buf, size, "close %d != %d", a->close, b->close), true;
        if (a->n_requests != b->n_requests)
                return snprintf(buf, size, "%zu requests != %zu", a->n_requests, b->n_requests), true;
        for (size_t i = 0; i < a->n_requests && i < HTTP_CASE_MAX_REQUESTS; i++) {
                const HttpOutcomeRequest *x = &a->requests[i], *y = &b->requests[i];

                if (!streq(x->method, y->method) || !streq(x->path, y->path))
                        return snprintf(buf, size, "request %zu: %s %s != %s %s", i,
                                        x->method, x->path, y->method, y->path), true;
                if (x->body_len != y->body_len || memcmp(x->body, y->body, x->body_len) != 0)
                        return snprintf(buf, size, "request %zu: body differs (%zu/%zu bytes)", i,
                                        x->body_len, y->body_len), true;
                if (x->keep_alive != y->keep_alive)
                        return snprintf(buf, size, "request %zu: keep_alive %d != %d", i,
                                        x->keep_alive, y->keep_alive), true;
        }
        if (a->have_header != b->have_header || !streq(a->header_value, b->header_value))
                return snprintf(buf, size, "header '%s' != '%s'", a->header_value, b->header_value), true;
        return false;
}

/* The outcome the case expects. */
static inline void http_case_expected(const HttpCase *c, HttpOutcome *ret) {
        *ret = (HttpOutcome) { .status = c->status, .close = c->close };

        for (size_t i = 0; i < HTTP_CASE_MAX_REQUESTS && c->requests[i].method; i++) {
                const HttpCaseRequest *r = &c->requests[i];
                HttpOutcomeRequest *o = &ret->requests[ret->n_requests++];

                http_outcome_copy(o->method, r->method, strlen(r->method));
                http_outcome_copy(o->path, r->path, strlen(r->path));
                http_outcome_copy(o->body, r->body, strlen(r->body));
                o->body_len = strlen(r->body);
                o->keep_alive = r->keep_alive;
        }
        if (c->header) {
                ret->have_header = c->header_value != NULL;
                if (c->header_value)
                        http_outcome_copy(ret->header_value, c->header_value, strlen(c->header_value));
        }
}
