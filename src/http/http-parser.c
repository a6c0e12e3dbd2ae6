/* Incremental, strict HTTP/1.1 request parser (RFC 9112).
 *
 * The header block is read one byte at a time into a buffer sized by
 * max_header_bytes: line endings are checked as they arrive (CRLF only), and
 * each complete line is then split in place into the request line or one
 * header field.  When the empty line arrives, the fields that decide how the
 * message is framed (Host, Content-Length, Transfer-Encoding) are checked
 * together, because request smuggling lives in the disagreement between
 * them; anything ambiguous is refused rather than interpreted.  The body is
 * copied into a buffer of at most max_body_bytes, through the chunked decoder
 * when the request is chunked.
 *
 * Decisions where the RFC leaves room, made for a loopback control API that
 * only curl and the Payram dashboard talk to:
 *   - CONNECT is answered 501: it is a valid method this server does not
 *     implement, whatever its target.
 *   - Only HTTP/1.0 and HTTP/1.1 are served; any other well-formed version,
 *     HTTP/1.2 included, is 505.
 *   - Transfer-Encoding must be exactly "chunked".  A single other coding is
 *     501; any list ("gzip, chunked", "chunked, gzip") or parameter is 400, as
 *     is Transfer-Encoding together with Content-Length or in HTTP/1.0.
 *   - Content-Length may appear once, as plain digits; an equal duplicate is
 *     400 too.
 *   - Host must be present once in HTTP/1.1, at most once in HTTP/1.0, and be
 *     a plain host[:port] (no whitespace, commas, userinfo or paths).
 *   - A request target may not carry a fragment ("#").
 *   - An expectation in an HTTP/1.0 request is ignored if it is 100-continue,
 *     as RFC 9110 requires; any other expectation is 417 in every version. */

#include <stdint.h>
#include <strings.h>

#include "http/http-chunked.h"
#include "http/http-parser.h"
#include "http/http-syntax-internal.h"

/* Length of "HTTP/x.y". */
#define HTTP_VERSION_LEN 8
/* First allocation of the body buffer for chunked bodies; it then doubles. */
#define HTTP_BODY_INITIAL_ALLOC ((size_t) 1024)

typedef enum ParserState {
        PARSER_IDLE,        /* before the request line; empty lines are skipped */
        PARSER_IDLE_LF,     /* CR of a leading empty line seen */
        PARSER_LINE,        /* inside the request line or a header field */
        PARSER_LINE_LF,     /* CR at the end of a line seen */
        PARSER_BODY_LENGTH, /* Content-Length body */
        PARSER_BODY_CHUNKED,
        PARSER_COMPLETE,
        PARSER_FAILED,
} ParserState;

/* What a byte of the header block led to. */
typedef enum HeadResult {
        HEAD_CONTINUE,
        HEAD_END,           /* header block complete, p->state says what follows */
        HEAD_ERROR,
} HeadResult;

struct HttpParser {
        HttpLimits limits;
        ParserState state;

        char *head;          /* lines of the header block, NUL-terminated in place */
        size_t head_len;     /* bytes stored in head */
        size_t line_start;   /* offset of the line being collected */
        size_t head_bytes;   /* bytes received for the header block, CRLFs included */
        char *uri;           /* rewritten target and path, 2 * (max_header_bytes + 1) */
        HttpHeader *headers; /* max_headers entries */
        bool have_request_line;

        HttpRequest req;
        bool in_request;

        char *body;
        size_t body_alloc;
        uint64_t body_left;  /* Content-Length bytes still to come */
        HttpChunkedDecoder *chunked;

        int error_status;
        const char *error_reason;
};

int http_parser_new(const HttpLimits *limits, HttpParser **ret) {
        _cleanup_(http_parser_freep) HttpParser *p = NULL;
        int r;

        if (!ret)
                return -EINVAL;

        p = calloc(1, sizeof(*p));
        if (!p)
                return -ENOMEM;

        p->limits = limits ? *limits : HTTP_LIMITS_DEFAULT;
        if (p->limits.max_header_bytes == 0 || p->limits.max_headers == 0 ||
            p->limits.max_chunk_line_bytes == 0 ||
            p->limits.max_header_bytes > SIZE_MAX / 2 - 2 ||
            p->limits.max_body_bytes > SIZE_MAX - 1)
                return -EINVAL;

        p->head = malloc(p->limits.max_header_bytes + 1);
        p->uri = malloc(2 * (p->limits.max_header_bytes + 1));
        p->headers = calloc(p->limits.max_headers, sizeof(HttpHeader));
        if (!p->head || !p->uri || !p->headers)
                return -ENOMEM;

        /* Trailers are bounded like a header block of their own. */
        r = http_chunked_new(p->limits.max_body_bytes, p->limits.max_chunk_line_bytes,
                             p->limits.max_header_bytes, &p->chunked);
        if (r < 0)
                return r;

        http_parser_reset(p);
        *ret = TAKE_PTR(p);
        return 0;
}

HttpParser *http_parser_free(HttpParser *p) {
        if (!p)
                return NULL;

        http_chunked_free(p->chunked);
        free(p->body);
        free(p->headers);
        free(p->uri);
        free(p->head);
        free(p);
        return NULL;
}

void http_parser_reset(HttpParser *p) {
        if (!p)
                return;

        p->state = PARSER_IDLE;
        p->head_len = 0;
        p->line_start = 0;
        p->head_bytes = 0;
        p->have_request_line = false;
        p->req = (HttpRequest) {};
        p->in_request = false;
        p->body_left = 0;
        p->error_status = 0;
        p->error_reason = NULL;
        http_chunked_reset(p->chunked);
}

static HeadResult parser_fail(HttpParser *p, int status, const char *reason) {
        p->state = PARSER_FAILED;
        p->error_status = status;
        p->error_reason = reason;
        return HEAD_ERROR;
}

static const char *request_header_n(const HttpRequest *req, const char *name, size_t *ret_count) {
        const char *first = NULL;
        size_t count = 0;

        for (size_t i = 0; i < req->n_headers; i++) {
                if (strcasecmp(req->headers[i].name, name) != 0)
                        continue;
                if (!first)
                        first = req->headers[i].value;
                count++;
        }

        if (ret_count)
                *ret_count = count;
        return first;
}

const char *http_request_header(const HttpRequest *req, const char *name) {
        if (!req || !name)
                return NULL;
        return request_header_n(req, name, NULL);
}

static bool is_token(const char *s) {
        if (!*s)
                return false;
        for (; *s; s++)
                if (!http_is_tchar(*s))
                        return false;
        return true;
}

/* "HTTP/" DIGIT "." DIGIT, case-sensitive.  Returns the minor version, or
 * the status to answer (400 malformed, 505 well-formed but not served). */
static int parse_version(const char *v, size_t len, unsigned *ret_minor) {
        if (len != HTTP_VERSION_LEN || strncmp(v, "HTTP/", 5) != 0 ||
            v[5] < '0' || v[5] > '9' || v[6] != '.' || v[7] < '0' || v[7] > '9')
                return 400;

        if (v[5] != '1' || (v[7] != '0' && v[7] != '1'))
                return 505;

        *ret_minor = (unsigned) (v[7] - '0');
        return 0;
}

/* Copies the part of TARGET before any query into the uri buffer at OFFSET. */
static const char *store_path(HttpParser *p, size_t offset, const char *target) {
        size_t n = strcspn(target, "?");
        char *path = p->uri + offset;

        memcpy(path, target, n);
        path[n] = '\0';
        return path;
}

/* absolute-form: "http://authority/path?query", reduced to "/path?query". */
static HeadResult absolute_form(HttpParser *p, const char *target) {
        size_t scheme_len, authority_len, n;
        const char *rest;
        char *origin = p->uri;

        if (strncasecmp(target, "http://", 7) == 0)
                scheme_len = 7;
        else if (strncasecmp(target, "https://", 8) == 0)
                scheme_len = 8;
        else
                return parser_fail(p, 400, "Invalid request target");

        authority_len = strcspn(target + scheme_len, "/?");
        if (authority_len == 0)
                return parser_fail(p, 400, "Empty authority in request target");
        if (memchr(target + scheme_len, '@', authority_len))
                return parser_fail(p, 400, "Userinfo in request target");

        /* The origin-form is never longer than the absolute-form plus a "/". */
        rest = target + scheme_len + authority_len;
        n = strlen(rest);
        if (*rest != '/')
                *origin++ = '/';
        memcpy(origin, rest, n);
        origin[n] = '\0';

        p->req.target = p->uri;
        p->req.path = store_path(p, strlen(p->uri) + 1, p->uri);
        return HEAD_CONTINUE;
}

static HeadResult request_target(HttpParser *p, char *target) {
        const char *method = p->req.method;

        if (streq(method, "CONNECT"))
                return parser_fail(p, 501, "CONNECT is not supported");

        if (strchr(target, '#'))
                return parser_fail(p, 400, "Fragment in request target");

        if (target[0] == '/') {
                p->req.target = target;
                p->req.path = store_path(p, 0, target);
                return HEAD_CONTINUE;
        }

        if (streq(target, "*")) {
                if (!streq(method, "OPTIONS"))
                        return parser_fail(p, 400, "Asterisk-form target without OPTIONS");
                p->req.target = p->req.path = target;
                return HEAD_CONTINUE;
        }

        return absolute_form(p, target);
}

/* method SP request-target SP HTTP-version, exactly one SP each. */
static HeadResult request_line(HttpParser *p, char *line, size_t len) {
        char *sp1, *sp2, *target;
        int status;

        sp1 = memchr(line, ' ', len);
        if (!sp1)
                return parser_fail(p, 400, "Malformed request line");
        target = sp1 + 1;
        sp2 = memchr(target, ' ', len - (size_t) (target - line));
        if (!sp2 || sp2 == target)
                return parser_fail(p, 400, "Malformed request line");
        *sp1 = *sp2 = '\0';

        if (!is_token(line))
                return parser_fail(p, 400, "Invalid method");
        for (const char *c = target; *c; c++)
                if (!http_is_vchar(*c))
                        return parser_fail(p, 400, "Invalid byte in request target");

        status = parse_version(sp2 + 1, len - (size_t) (sp2 + 1 - line), &p->req.version_minor);
        if (status == 400)
                return parser_fail(p, 400, "Malformed HTTP version");
        if (status != 0)
                return parser_fail(p, status, "HTTP version not supported");

        p->req.method = line;
        p->have_request_line = true;
        return request_target(p, target);
}

/* field-name ":" OWS field-value OWS, the value already checked byte by byte. */
static HeadResult header_line(HttpParser *p, char *line, size_t len) {
        size_t i = 0;
        char *value, *end;

        if (http_is_ows(line[0]))
                return parser_fail(p, 400, "Obsolete line folding");

        while (i < len && http_is_tchar(line[i]))
                i++;
        if (i == len)
                return parser_fail(p, 400, "Header field without colon");
        if (line[i] != ':')
                return parser_fail(p, 400, http_is_ows(line[i]) ?
                                   "Whitespace before colon in header field" :
                                   "Invalid header field name");
        if (i == 0)
                return parser_fail(p, 400, "Empty header field name");

        if (p->req.n_headers >= p->limits.max_headers)
                return parser_fail(p, 431, "Too many header fields");

        line[i] = '\0';
        value = line + i + 1;
        while (http_is_ows(*value))
                value++;
        end = line + len;
        while (end > value && http_is_ows(end[-1]))
                end--;
        *end = '\0';

        p->headers[p->req.n_headers++] = (HttpHeader) { .name = line, .value = value };
        return HEAD_CONTINUE;
}

/* A plain uri-host [ ":" port ], without the characters that would let two
 * parsers disagree about which host was meant. */
static bool host_value_valid(const char *v) {
        if (!*v)
                return false;
        for (; *v; v++) {
                unsigned char u = (unsigned char) *v;

                if ((u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9'))
                        continue;
                if (!strchr("-._~%!$&'()*+;=:[]", u))
                        return false;
        }
        return true;
}

static HeadResult check_host(HttpParser *p) {
        const char *host;
        size_t n;

        host = request_header_n(&p->req, "Host", &n);
        if (n > 1)
                return parser_fail(p, 400, "Duplicate Host header");
        if (n == 0)
                return p->req.version_minor >= 1 ? parser_fail(p, 400, "Missing Host header") :
                                                   HEAD_CONTINUE;
        if (!host_value_valid(host))
                return parser_fail(p, 400, "Invalid Host header");
        return HEAD_CONTINUE;
}

/* 1*DIGIT, nothing else; a value that does not fit is refused. */
static bool parse_content_length(const char *v, uint64_t *ret) {
        uint64_t n = 0;

        if (!*v)
                return false;
        for (; *v; v++) {
                unsigned d;

                if (*v < '0' || *v > '9')
                        return false;
                d = (unsigned) (*v - '0');

                if (n > (UINT64_MAX - d) / 10)
                        return false;
                n = n * 10 + d;
        }

        *ret = n;
        return true;
}

static HeadResult check_transfer_encoding(HttpParser *p, const char *te, size_t n_te, size_t n_cl) {
        if (n_cl > 0)
                return parser_fail(p, 400, "Both Transfer-Encoding and Content-Length");
        if (p->req.version_minor == 0)
                return parser_fail(p, 400, "Transfer-Encoding in an HTTP/1.0 request");
        if (n_te > 1)
                return parser_fail(p, 400, "Repeated Transfer-Encoding header");
        if (strcasecmp(te, "chunked") == 0)
                return HEAD_CONTINUE;
        if (is_token(te))
                return parser_fail(p, 501, "Unsupported transfer coding");
        return parser_fail(p, 400, "Malformed Transfer-Encoding");
}

/* Decides how the body is framed; sets has_body and body_left. */
static HeadResult check_framing(HttpParser *p, bool *ret_chunked) {
        const char *te, *cl;
        size_t n_te, n_cl;
        uint64_t length;

        te = request_header_n(&p->req, "Transfer-Encoding", &n_te);
        cl = request_header_n(&p->req, "Content-Length", &n_cl);
        *ret_chunked = false;

        if (n_te > 0) {
                if (check_transfer_encoding(p, te, n_te, n_cl) == HEAD_ERROR)
                        return HEAD_ERROR;
                *ret_chunked = true;
                p->req.has_body = true;
                return HEAD_CONTINUE;
        }

        if (n_cl == 0)
                return HEAD_CONTINUE;
        if (n_cl > 1)
                return parser_fail(p, 400, "Repeated Content-Length header");
        if (!parse_content_length(cl, &length))
                return parser_fail(p, 400, "Invalid Content-Length");
        if (length > p->limits.max_body_bytes)
                return parser_fail(p, 413, "Content-Length exceeds the body limit");

        p->body_left = length;
        p->req.has_body = length > 0;
        return HEAD_CONTINUE;
}

static HeadResult check_expect(HttpParser *p) {
        for (size_t i = 0; i < p->req.n_headers; i++) {
                if (strcasecmp(p->headers[i].name, "Expect") != 0)
                        continue;
                if (strcasecmp(p->headers[i].value, "100-continue") != 0)
                        return parser_fail(p, 417, "Unsupported expectation");
                if (p->req.version_minor >= 1)
                        p->req.expect_continue = true;
        }
        return HEAD_CONTINUE;
}

/* Looks for TOKEN in a comma-separated list, case-insensitively. */
static bool list_has_token(const char *list, const char *token) {
        size_t token_len = strlen(token);

        while (*list) {
                size_t n;

                while (*list == ',' || http_is_ows(*list))
                        list++;
                n = strcspn(list, ", \t");
                if (n == token_len && strncasecmp(list, token, n) == 0)
                        return true;
                list += n;
        }
        return false;
}

static bool connection_keep_alive(const HttpRequest *req) {
        bool close = false, keep_alive = false;

        for (size_t i = 0; i < req->n_headers; i++) {
                if (strcasecmp(req->headers[i].name, "Connection") != 0)
                        continue;
                close = close || list_has_token(req->headers[i].value, "close");
                keep_alive = keep_alive || list_has_token(req->headers[i].value, "keep-alive");
        }

        if (close)
                return false;
        return req->version_minor >= 1 || keep_alive;
}

static int body_reserve(HttpParser *p, size_t need) {
        size_t n;
        char *b;

        if (need <= p->body_alloc)
                return 0;

        /* Doubling keeps a body that arrives in many small chunks from costing a
         * realloc per chunk; the cap keeps the buffer within the body limit. */
        n = p->body_alloc > HTTP_BODY_INITIAL_ALLOC / 2 ? p->body_alloc * 2 : HTTP_BODY_INITIAL_ALLOC;
        if (n < need)
                n = need;
        if (n > p->limits.max_body_bytes + 1)
                n = p->limits.max_body_bytes + 1;
        if (n < need)
                return -EFBIG;

        b = realloc(p->body, n);
        if (!b)
                return -ENOMEM;
        p->body = b;
        p->body_alloc = n;
        return 0;
}

/* The empty line ending the header block arrived: check the fields that
 * frame the message and pick what comes next. */
static HeadResult headers_end(HttpParser *p) {
        bool chunked;

        p->req.headers = p->headers;
        p->req.body = "";

        if (check_host(p) == HEAD_ERROR ||
            check_framing(p, &chunked) == HEAD_ERROR ||
            check_expect(p) == HEAD_ERROR)
                return HEAD_ERROR;

        p->req.keep_alive = connection_keep_alive(&p->req);

        if (chunked)
                p->state = PARSER_BODY_CHUNKED;
        else if (p->body_left > 0) {
                if (body_reserve(p, (size_t) p->body_left + 1) < 0)
                        return parser_fail(p, 500, "Out of memory for the request body");
                p->state = PARSER_BODY_LENGTH;
        } else
                p->state = PARSER_COMPLETE;

        return HEAD_END;
}

static HeadResult line_done(HttpParser *p) {
        char *line = p->head + p->line_start;
        size_t len = p->head_len - p->line_start;

        p->head[p->head_len++] = '\0';
        p->line_start = p->head_len;
        p->state = PARSER_LINE;

        if (!p->have_request_line)
                return request_line(p, line, len);
        if (len == 0)
                return headers_end(p);
        return header_line(p, line, len);
}

/* A byte of the request line or of a header field. */
static HeadResult line_byte(HttpParser *p, char c) {
        if (c == '\r')
                p->state = PARSER_LINE_LF;
        else if (c == '\n')
                return parser_fail(p, 400, "Bare LF in header block");
        else if (!http_is_field_byte(c))
                return parser_fail(p, 400, "Control character in header block");
        else
                p->head[p->head_len++] = c;
        return HEAD_CONTINUE;
}

/* One byte of the header block.  Storage cannot overflow: every stored byte
 * was counted in head_bytes, and each line's CRLF (two counted bytes) is
 * stored as a single NUL. */
static HeadResult head_byte(HttpParser *p, char c) {
        p->in_request = true;
        if (++p->head_bytes > p->limits.max_header_bytes)
                return parser_fail(p, 431, "Header block too large");

        switch (p->state) {

        case PARSER_IDLE:
                /* RFC 9112 section 2.2: empty lines before the request line are skipped. */
                if (c == '\r') {
                        p->state = PARSER_IDLE_LF;
                        return HEAD_CONTINUE;
                }
                p->state = PARSER_LINE;
                return line_byte(p, c);

        case PARSER_IDLE_LF:
                if (c != '\n')
                        return parser_fail(p, 400, "Bare CR in header block");
                p->state = PARSER_IDLE;
                return HEAD_CONTINUE;

        case PARSER_LINE:
                return line_byte(p, c);

        case PARSER_LINE_LF:
                if (c != '\n')
                        return parser_fail(p, 400, "Bare CR in header block");
                return line_done(p);

        default:
                return parser_fail(p, 500, "Internal parser error");
        }
}

static int body_sink(const char *data, size_t len, void *userdata) {
        HttpParser *p = userdata;
        int r;

        r = body_reserve(p, p->req.body_len + len + 1);
        if (r < 0)
                return r;

        memcpy(p->body + p->req.body_len, data, len);
        p->req.body_len += len;
        return 0;
}

static void body_complete(HttpParser *p) {
        if (p->body) {
                p->body[p->req.body_len] = '\0';
                p->req.body = p->body;
        }
        p->state = PARSER_COMPLETE;
}

static HttpParseStatus feed_body(HttpParser *p, const char *data, size_t len, size_t *ret_used) {
        HttpChunkedStatus s;

        if (p->state == PARSER_BODY_LENGTH) {
                size_t n = (uint64_t) len < p->body_left ? len : (size_t) p->body_left;

                memcpy(p->body + p->req.body_len, data, n);
                p->req.body_len += n;
                p->body_left -= n;
                *ret_used = n;
                if (p->body_left > 0)
                        return HTTP_PARSE_NEED_MORE;
                body_complete(p);
                return HTTP_PARSE_COMPLETE;
        }

        s = http_chunked_feed(p->chunked, data, len, body_sink, p, ret_used);
        if (s == HTTP_CHUNKED_ERROR) {
                (void) parser_fail(p, http_chunked_error_status(p->chunked),
                                   http_chunked_error_reason(p->chunked));
                return HTTP_PARSE_ERROR;
        }
        if (s == HTTP_CHUNKED_NEED_MORE)
                return HTTP_PARSE_NEED_MORE;
        body_complete(p);
        return HTTP_PARSE_COMPLETE;
}

static HttpParseStatus feed_head(HttpParser *p, const char *data, size_t len, size_t *ret_used) {
        size_t i = 0;

        while (i < len) {
                HeadResult r = head_byte(p, data[i++]);

                if (r == HEAD_CONTINUE)
                        continue;
                *ret_used = i;
                if (r == HEAD_ERROR)
                        return HTTP_PARSE_ERROR;
                return p->state == PARSER_COMPLETE ? HTTP_PARSE_COMPLETE : HTTP_PARSE_HEADERS_DONE;
        }

        *ret_used = i;
        return HTTP_PARSE_NEED_MORE;
}

HttpParseStatus http_parser_feed(HttpParser *p, const char *data, size_t len, size_t *ret_consumed) {
        size_t used = 0;
        HttpParseStatus s;

        if (ret_consumed)
                *ret_consumed = 0;
        if (!p)
                return HTTP_PARSE_ERROR;
        if (!data && len > 0)
                return HTTP_PARSE_ERROR;

        switch (p->state) {
        case PARSER_FAILED:
                return HTTP_PARSE_ERROR;
        case PARSER_COMPLETE:
                return HTTP_PARSE_COMPLETE;
        case PARSER_BODY_LENGTH:
        case PARSER_BODY_CHUNKED:
                if (len == 0)
                        return HTTP_PARSE_NEED_MORE;
                s = feed_body(p, data, len, &used);
                break;
        default:
                s = feed_head(p, data, len, &used);
        }

        if (ret_consumed)
                *ret_consumed = used;
        return s;
}

const HttpRequest *http_parser_request(const HttpParser *p) {
        if (!p || !p->req.headers)
                return NULL;
        return &p->req;
}

int http_parser_error_status(const HttpParser *p) {
        return p ? p->error_status : 0;
}

const char *http_parser_error_reason(const HttpParser *p) {
        return p ? p->error_reason : NULL;
}

bool http_parser_in_request(const HttpParser *p) {
        return p && p->in_request;
}
