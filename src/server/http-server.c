/* Connection handling for the HTTP server.
 *
 * Each connection is a small state machine driven by one edge-triggered
 * I/O source, one timer and, when needed, one deferred source on the
 * event loop:
 *
 *   READING   waiting for or parsing a request (request or idle timeout)
 *   HANDLING  a complete request is with the handler; input is paused so
 *             pipelined requests wait their turn and are answered in order
 *   CLOSING   an answer is being flushed, then the connection closes
 *
 * Reads go into one scratch buffer shared by the whole server; only bytes
 * left over while a connection is paused are copied into the connection,
 * and the parser exists only while a request is arriving, so a thousand
 * idle or slow connections cost little memory.  Writes are queued and
 * flushed as the socket allows; past HTTP_MAX_PENDING_OUTPUT the connection
 * stops reading, so a client that pipelines without reading its answers
 * cannot make the queue grow without bound.  Each turn of the loop gives a
 * connection a bounded number of reads and requests, so no client holds
 * the loop while others (and the watchdog) wait. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "server/http-server.h"
#include "util/log.h"
#include "util/time-util.h"

#define READ_CHUNK_BYTES   ((size_t) 16384)
#define ACCEPTS_PER_WAKEUP 64
#define READS_PER_WAKEUP   4
#define REQUESTS_PER_TURN  32
#define ACCEPT_RETRY_USEC  (100 * USEC_PER_MSEC)
#define MAX_HEAD_BYTES     ((size_t) 1024)

typedef enum ConnectionState {
        CONNECTION_READING,
        CONNECTION_HANDLING,
        CONNECTION_CLOSING,
        CONNECTION_CLOSED,
} ConnectionState;

struct HttpConnection {
        unsigned n_ref;
        HttpServer *server;
        HttpConnection *prev, *next;

        int fd;
        sd_event_source *io;
        sd_event_source *timer;
        sd_event_source *resume; /* deferred processing of stashed input, made on first use */
        ConnectionState state;
        HttpParser *parser;
        HttpLimits limits;
        bool processing;        /* inside connection_process(): no recursion */
        bool keep_alive;        /* of the request being handled */
        bool head;              /* the request being handled is HEAD */

        char *in;               /* bytes received but not yet fed (only while paused) */
        size_t in_len;

        char *out;
        size_t out_len, out_off, out_allocated;

        uint64_t request_start_usec; /* first byte of the current request, 0 when none */
        uint64_t last_activity_usec;
};

struct HttpServer {
        sd_event *event;
        HttpServerSettings settings;
        http_handler_t handler;
        void *userdata;
        http_activity_t activity_cb;
        void *activity_userdata;

        sd_event_source **listeners;
        size_t n_listeners;
        sd_event_source *accept_retry;
        bool shutting_down;

        HttpConnection *connections; /* newest first */
        size_t n_connections;
        char scratch[READ_CHUNK_BYTES];
};

static void connection_process(HttpConnection *c);
static void connection_update(HttpConnection *c);

const char *http_status_reason(int status) {
        switch (status) {
        case 100: return "Continue";
        case 200: return "OK";
        case 201: return "Created";
        case 202: return "Accepted";
        case 204: return "No Content";
        case 400: return "Bad Request";
        case 404: return "Not Found";
        case 405: return "Method Not Allowed";
        case 408: return "Request Timeout";
        case 409: return "Conflict";
        case 411: return "Length Required";
        case 413: return "Content Too Large";
        case 414: return "URI Too Long";
        case 415: return "Unsupported Media Type";
        case 417: return "Expectation Failed";
        case 422: return "Unprocessable Content";
        case 431: return "Request Header Fields Too Large";
        case 500: return "Internal Server Error";
        case 501: return "Not Implemented";
        case 503: return "Service Unavailable";
        case 505: return "HTTP Version Not Supported";
        default:  return "Unknown";
        }
}

static void server_notify_activity(HttpServer *s) {
        if (s->activity_cb)
                s->activity_cb(s, s->activity_userdata);
}

/* ---- connection lifetime ---- */

static void connection_unlink(HttpConnection *c) {
        HttpServer *s = c->server;

        if (c->prev)
                c->prev->next = c->next;
        else
                s->connections = c->next;
        if (c->next)
                c->next->prev = c->prev;
        c->prev = c->next = NULL;
        s->n_connections--;
}

/* Closes the socket and detaches from the server; the memory goes when the
 * last reference does, so a handler holding one can still call respond. */
static void connection_close(HttpConnection *c) {
        if (c->state == CONNECTION_CLOSED)
                return;

        c->state = CONNECTION_CLOSED;
        c->io = sd_event_source_disable_unref(c->io);
        c->timer = sd_event_source_disable_unref(c->timer);
        c->resume = sd_event_source_disable_unref(c->resume);
        closep(&c->fd);
        c->fd = -1;
        connection_unlink(c);
        server_notify_activity(c->server);
        http_connection_unref(c);  /* the server's own reference */
}

static HttpConnection *connection_free(HttpConnection *c) {
        http_parser_free(c->parser);
        free(c->in);
        free(c->out);
        free(c);
        return NULL;
}

HttpConnection *http_connection_ref(HttpConnection *c) {
        if (c)
                c->n_ref++;
        return c;
}

HttpConnection *http_connection_unref(HttpConnection *c) {
        if (!c)
                return NULL;
        if (--c->n_ref == 0)
                connection_free(c);
        return NULL;
}

bool http_connection_is_open(const HttpConnection *c) {
        return c && c->state == CONNECTION_HANDLING;
}

/* ---- output ---- */

static int output_reserve(HttpConnection *c, size_t extra) {
        size_t need, n;
        char *p;

        /* Drop what has already been written before growing. */
        if (c->out_off > 0) {
                memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
                c->out_len -= c->out_off;
                c->out_off = 0;
        }

        need = c->out_len + extra;
        if (need <= c->out_allocated)
                return 0;

        n = c->out_allocated ? c->out_allocated : 1024;
        while (n < need)
                n *= 2;
        p = realloc(c->out, n);
        if (!p)
                return -ENOMEM;
        c->out = p;
        c->out_allocated = n;
        return 0;
}

static int output_append(HttpConnection *c, const void *data, size_t len) {
        int r = output_reserve(c, len);

        if (r < 0)
                return r;
        memcpy(c->out + c->out_len, data, len);
        c->out_len += len;
        return 0;
}

static size_t output_pending(const HttpConnection *c) {
        return c->out_len - c->out_off;
}

/* Writes as much as the socket takes; closes the connection on a hard
 * error or when a CLOSING connection has nothing left to send. */
static void connection_flush(HttpConnection *c) {
        while (output_pending(c) > 0) {
                ssize_t n = send(c->fd, c->out + c->out_off, output_pending(c), MSG_NOSIGNAL | MSG_DONTWAIT);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno == EAGAIN)
                                return;
                        connection_close(c);
                        return;
                }
                c->out_off += (size_t) n;
                c->last_activity_usec = now_monotonic_usec();
        }

        c->out_off = c->out_len = 0;
        if (c->state == CONNECTION_CLOSING) {
                /* Half-close first so a client still sending gets our answer
                 * rather than a reset. */
                (void) shutdown(c->fd, SHUT_WR);
                connection_close(c);
        }
}

static int queue_response(HttpConnection *c, int status, const char *extra_headers, const char *body,
                          size_t body_len, bool keep_alive, bool head) {
        char head_buf[MAX_HEAD_BYTES];
        int n, r;

        n = snprintf(head_buf, sizeof(head_buf),
                     "HTTP/1.1 %d %s\r\n"
                     "Content-Type: application/json\r\n"
                     "Content-Length: %zu\r\n"
                     "Cache-Control: no-store\r\n"
                     "Connection: %s\r\n"
                     "%s"
                     "\r\n",
                     status, http_status_reason(status), body_len, keep_alive ? "keep-alive" : "close",
                     strempty(extra_headers));
        if (n < 0 || (size_t) n >= sizeof(head_buf))
                return -E2BIG;

        r = output_append(c, head_buf, (size_t) n);
        if (r < 0)
                return r;
        if (!head && body_len > 0)
                return output_append(c, body, body_len);
        return 0;
}

/* Answers a request the parser refused (or a timeout) and closes. */
static void connection_fail(HttpConnection *c, int status, const char *reason) {
        char body[256];
        int n;

        n = snprintf(body, sizeof(body), "{\"error\":\"%s\"}", reason);
        if (n < 0 || (size_t) n >= sizeof(body))
                n = 0;

        c->state = CONNECTION_CLOSING;
        if (queue_response(c, status, NULL, body, (size_t) n, false, false) < 0) {
                connection_close(c);
                return;
        }
        connection_flush(c);
}

static int on_resume(sd_event_source *source, void *userdata) {
        HttpConnection *c = userdata;

        if (c->state == CONNECTION_READING)
                connection_process(c);
        return 0;
}

/* Pipelined requests already received go on from the loop, not from inside
 * respond(): an answer given from a job or fetch callback must not re-enter
 * the handler (and so the job manager) within that callback. */
static void connection_schedule_resume(HttpConnection *c) {
        if (!c->resume &&
            sd_event_add_defer(c->server->event, &c->resume, on_resume, c) < 0) {
                log_oom();
                connection_close(c);
                return;
        }
        (void) sd_event_source_set_enabled(c->resume, SD_EVENT_ONESHOT);
}

int http_connection_respond(HttpConnection *c, int status, const char *extra_headers, const char *body,
                            size_t body_len) {
        bool keep_alive;
        int r;

        if (!c || c->state != CONNECTION_HANDLING)
                return -ENOTCONN;

        keep_alive = c->keep_alive && !c->server->shutting_down;
        r = queue_response(c, status, extra_headers, body, body_len, keep_alive, c->head);
        if (r < 0) {
                log_error_errno(r, "Failed to queue HTTP %d answer", status);
                connection_close(c);
                return r;
        }

        if (keep_alive) {
                c->state = CONNECTION_READING;
                if (c->parser)
                        http_parser_reset(c->parser);
                c->request_start_usec = 0;
        } else
                c->state = CONNECTION_CLOSING;

        /* Keep the connection alive across the flush, which may close it. */
        _unused_ _cleanup_(http_connection_unrefp) HttpConnection *ref = http_connection_ref(c);
        connection_flush(c);
        if (c->state == CONNECTION_CLOSED)
                return 0;
        if (c->state == CONNECTION_READING && !c->processing && c->in_len > 0)
                connection_schedule_resume(c);
        connection_update(c);
        return 0;
}

/* ---- input ---- */

static bool connection_in_request(const HttpConnection *c) {
        return c->parser && http_parser_in_request(c->parser);
}

/* The parser and its buffers are made when the first byte arrives, so a
 * connection that never sends anything costs only its small struct. */
static int connection_ensure_parser(HttpConnection *c) {
        if (c->parser)
                return 0;
        return http_parser_new(&c->limits, &c->parser);
}

static void connection_deliver(HttpConnection *c) {
        const HttpRequest *req = http_parser_request(c->parser);

        c->state = CONNECTION_HANDLING;
        c->keep_alive = req->keep_alive;
        c->head = streq(req->method, "HEAD");
        c->server->handler(c, req, c->server->userdata);
}

static int send_continue(HttpConnection *c) {
        static const char interim[] = "HTTP/1.1 100 Continue\r\n\r\n";

        return output_append(c, interim, sizeof(interim) - 1);
}

/* Feeds DATA to the parser, delivering every complete request, until the
 * data is used up or the connection has to pause.  Returns how many bytes
 * were used. */
static size_t connection_feed(HttpConnection *c, const char *data, size_t len) {
        size_t used = 0;
        unsigned delivered = 0;

        /* At most REQUESTS_PER_TURN requests per turn of the loop: a client
         * pipelining thousands of small requests waits its turn like the
         * others (what is left is stashed and resumed from the loop). */
        while (c->state == CONNECTION_READING && output_pending(c) <= HTTP_MAX_PENDING_OUTPUT &&
               used < len && delivered < REQUESTS_PER_TURN) {
                size_t consumed = 0;
                HttpParseStatus st;

                if (c->request_start_usec == 0)
                        c->request_start_usec = now_monotonic_usec();
                if (connection_ensure_parser(c) < 0) {
                        log_oom();
                        connection_close(c);
                        return len;
                }

                st = http_parser_feed(c->parser, data + used, len - used, &consumed);
                used += consumed;

                switch (st) {
                case HTTP_PARSE_NEED_MORE:
                        break;
                case HTTP_PARSE_HEADERS_DONE:
                        if (http_parser_request(c->parser)->expect_continue && send_continue(c) < 0) {
                                connection_close(c);
                                return used;
                        }
                        break;
                case HTTP_PARSE_COMPLETE:
                        delivered++;
                        connection_deliver(c);
                        break;
                case HTTP_PARSE_ERROR:
                        log_debug("Refusing HTTP request: %s", http_parser_error_reason(c->parser));
                        connection_fail(c, http_parser_error_status(c->parser),
                                        http_parser_error_reason(c->parser));
                        return len;
                }
        }
        return used;
}

static void connection_schedule_resume(HttpConnection *c);

/* Stashed input of a connection that only stopped for its turn (not
 * waiting on a handler or on its output) goes on from the loop. */
static void connection_continue_later(HttpConnection *c) {
        if (c->state == CONNECTION_READING && c->in_len > 0 && output_pending(c) <= HTTP_MAX_PENDING_OUTPUT)
                connection_schedule_resume(c);
}

/* Keeps bytes that could not be fed yet (the connection paused). */
static int connection_stash(HttpConnection *c, const char *data, size_t len) {
        char *p;

        if (len == 0) {
                free(c->in);
                c->in = NULL;
                c->in_len = 0;
                return 0;
        }
        p = malloc(len);
        if (!p)
                return -ENOMEM;
        memcpy(p, data, len);
        free(c->in);
        c->in = p;
        c->in_len = len;
        return 0;
}

/* Feeds stashed input after a pause ended. */
static void connection_process(HttpConnection *c) {
        _unused_ _cleanup_(http_connection_unrefp) HttpConnection *ref = http_connection_ref(c);
        _cleanup_free_ char *pending = NULL;
        size_t len, used;

        c->processing = true;
        pending = TAKE_PTR(c->in);
        len = c->in_len;
        c->in_len = 0;

        used = pending ? connection_feed(c, pending, len) : 0;
        if (c->state != CONNECTION_CLOSED && used < len &&
            connection_stash(c, pending + used, len - used) < 0)
                connection_close(c);
        connection_continue_later(c);

        c->processing = false;
        if (c->state != CONNECTION_CLOSED) {
                connection_flush(c);
                if (c->state != CONNECTION_CLOSED)
                        connection_update(c);
        }
}

static bool connection_wants_input(const HttpConnection *c);

/* One read: returns false when reading has to stop (nothing more to read
 * now, the peer is done, or the connection closed). */
static bool connection_read_once(HttpConnection *c) {
        HttpServer *s = c->server;
        ssize_t n;
        size_t used;

        n = recv(c->fd, s->scratch, sizeof(s->scratch), MSG_DONTWAIT);
        if (n < 0) {
                if (errno == EINTR)
                        return true;
                if (errno != EAGAIN)
                        connection_close(c);
                return false;
        }
        if (n == 0) {
                /* The peer is done sending: a request half received can
                 * never complete, but an answer still queued goes out. */
                if (output_pending(c) > 0)
                        c->state = CONNECTION_CLOSING;
                else
                        connection_close(c);
                return false;
        }

        c->last_activity_usec = now_monotonic_usec();
        c->processing = true;
        used = connection_feed(c, s->scratch, (size_t) n);
        c->processing = false;
        if (c->state == CONNECTION_CLOSED)
                return false;
        if (used < (size_t) n && connection_stash(c, s->scratch + used, (size_t) n - used) < 0) {
                connection_close(c);
                return false;
        }
        connection_continue_later(c);
        connection_flush(c);

        /* A short read drained the socket; new bytes bring a new edge. */
        return c->state != CONNECTION_CLOSED && (size_t) n == sizeof(s->scratch);
}

/* Connection sockets are edge-triggered (a level-triggered source would be
 * reported again by every poll of the loop, costing time in proportion to
 * the number of busy connections), so read until the socket is drained or
 * the connection pauses; a paused connection is re-armed by
 * connection_update(), which makes epoll look at the socket again. */
static void connection_read(HttpConnection *c) {
        /* A budget per wakeup, so that one busy client cannot hold the loop
         * (and the watchdog) while others wait; connection_update() re-arms
         * the edge, so what is left is reported again on the next turn. */
        for (unsigned i = 0; i < READS_PER_WAKEUP; i++)
                if (!connection_wants_input(c) || !connection_read_once(c))
                        return;
}

/* ---- events and timers ---- */

static bool connection_wants_input(const HttpConnection *c) {
        return c->state == CONNECTION_READING && c->in_len == 0 &&
               output_pending(c) <= HTTP_MAX_PENDING_OUTPUT;
}

static uint64_t connection_deadline(const HttpConnection *c) {
        const HttpServerSettings *st = &c->server->settings;

        if (output_pending(c) > 0)
                return c->last_activity_usec + st->request_timeout_usec;
        if (c->state != CONNECTION_READING)
                return 0;
        if (c->request_start_usec != 0 && connection_in_request(c))
                return c->request_start_usec + st->request_timeout_usec;
        return c->last_activity_usec + st->idle_timeout_usec;
}

/* Between requests a keep-alive connection holds no parser and no output
 * buffer: both come back with the next byte, so a thousand idle clients
 * cost a few bytes each rather than the parser's buffers. */
static void connection_trim_idle(HttpConnection *c) {
        if (c->processing || c->state != CONNECTION_READING || connection_in_request(c) || c->in_len > 0 ||
            output_pending(c) > 0)
                return;

        c->parser = http_parser_free(c->parser);
        free(c->out);
        c->out = NULL;
        c->out_len = c->out_off = c->out_allocated = 0;
}

static void connection_update(HttpConnection *c) {
        uint32_t events = 0;
        uint64_t deadline;

        if (c->state == CONNECTION_CLOSED)
                return;

        /* A request that never started does not count towards the request timeout. */
        if (c->state == CONNECTION_READING && !connection_in_request(c) && c->in_len == 0)
                c->request_start_usec = 0;

        if (connection_wants_input(c))
                events |= EPOLLIN;
        if (output_pending(c) > 0)
                events |= EPOLLOUT;
        if (events)
                (void) sd_event_source_set_io_events(c->io, events | EPOLLET);
        (void) sd_event_source_set_enabled(c->io, events ? SD_EVENT_ON : SD_EVENT_OFF);

        connection_trim_idle(c);
        deadline = connection_deadline(c);
        if (deadline == 0) {
                (void) sd_event_source_set_enabled(c->timer, SD_EVENT_OFF);
                return;
        }
        (void) sd_event_source_set_time(c->timer, deadline);
        (void) sd_event_source_set_enabled(c->timer, SD_EVENT_ONESHOT);
}

static int on_connection_io(sd_event_source *source, int fd, uint32_t revents, void *userdata) {
        HttpConnection *c = userdata;
        _unused_ _cleanup_(http_connection_unrefp) HttpConnection *ref = http_connection_ref(c);

        if (revents & EPOLLOUT)
                connection_flush(c);

        /* Answers drained below the limit: resume a pipeline that paused with
         * requests already received. */
        if (c->state == CONNECTION_READING && c->in_len > 0 && output_pending(c) <= HTTP_MAX_PENDING_OUTPUT)
                connection_process(c);

        if (c->state != CONNECTION_CLOSED && (revents & (EPOLLIN | EPOLLHUP | EPOLLERR)) &&
            connection_wants_input(c))
                connection_read(c);
        else if (c->state == CONNECTION_READING && (revents & (EPOLLHUP | EPOLLERR)) &&
                 output_pending(c) == 0)
                connection_close(c);

        connection_update(c);
        return 0;
}

static int on_connection_timer(sd_event_source *source, uint64_t usec, void *userdata) {
        HttpConnection *c = userdata;
        _unused_ _cleanup_(http_connection_unrefp) HttpConnection *ref = http_connection_ref(c);

        if (output_pending(c) > 0 || c->state != CONNECTION_READING) {
                /* The peer stopped reading its answers. */
                connection_close(c);
                return 0;
        }
        if (c->request_start_usec != 0 && connection_in_request(c)) {
                connection_fail(c, 408, "request not complete in time");
                connection_update(c);
                return 0;
        }
        connection_close(c);  /* idle keep-alive connection */
        return 0;
}

/* ---- accepting ---- */

/* At the cap, the connection that has waited longest without a request in
 * progress with the handler gives way, so slow or idle clients cannot lock
 * out new ones; only when every connection is busy is the newcomer refused. */
static bool server_evict_one(HttpServer *s) {
        HttpConnection *victim = NULL;

        for (HttpConnection *c = s->connections; c; c = c->next) {
                if (c->state != CONNECTION_READING || output_pending(c) > 0)
                        continue;
                if (!victim || c->last_activity_usec <= victim->last_activity_usec)
                        victim = c;
        }
        if (!victim)
                return false;

        connection_close(victim);
        return true;
}

static void refuse_busy(int fd) {
        static const char answer[] =
                "HTTP/1.1 503 Service Unavailable\r\n"
                "Content-Type: application/json\r\n"
                "Content-Length: 37\r\n"
                "Connection: close\r\n"
                "Retry-After: 1\r\n"
                "\r\n"
                "{\"error\":\"too many open connections\"}";

        char discard[4096];

        /* Best effort: a fresh socket has room for this small answer.  What
         * the client already sent is read first: closing with unread data
         * would reset the connection and could destroy the answer. */
        (void) recv(fd, discard, sizeof(discard), MSG_DONTWAIT);
        (void) send(fd, answer, sizeof(answer) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
        (void) shutdown(fd, SHUT_WR);
        (void) close(fd);
}

static int connection_new(HttpServer *s, int fd) {
        _cleanup_free_ HttpConnection *c = NULL;
        int r;

        c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        c->n_ref = 1;
        c->server = s;
        c->fd = fd;
        c->limits = s->settings.limits;
        c->last_activity_usec = now_monotonic_usec();

        r = sd_event_add_io(s->event, &c->io, fd, EPOLLIN | EPOLLET, on_connection_io, c);
        if (r < 0)
                goto fail;
        r = sd_event_add_time(s->event, &c->timer, CLOCK_MONOTONIC, UINT64_MAX, 0, on_connection_timer, c);
        if (r < 0)
                goto fail;

        c->next = s->connections;
        if (s->connections)
                s->connections->prev = c;
        s->connections = c;
        s->n_connections++;
        connection_update(c);
        TAKE_PTR(c);
        server_notify_activity(s);
        return 0;

fail:
        sd_event_source_disable_unref(c->io);
        sd_event_source_disable_unref(c->timer);
        return r;
}

static int on_accept_retry(sd_event_source *source, uint64_t usec, void *userdata) {
        HttpServer *s = userdata;

        for (size_t i = 0; i < s->n_listeners; i++)
                (void) sd_event_source_set_enabled(s->listeners[i],
                                                   s->shutting_down ? SD_EVENT_OFF : SD_EVENT_ON);
        return 0;
}

/* Out of file descriptors: stop listening briefly instead of spinning on a
 * socket that stays readable. */
static void server_pause_accepting(HttpServer *s) {
        for (size_t i = 0; i < s->n_listeners; i++)
                (void) sd_event_source_set_enabled(s->listeners[i], SD_EVENT_OFF);
        if (!s->accept_retry &&
            sd_event_add_time_relative(s->event, &s->accept_retry, CLOCK_MONOTONIC, ACCEPT_RETRY_USEC, 0,
                                       on_accept_retry, s) >= 0)
                return;
        (void) sd_event_source_set_time_relative(s->accept_retry, ACCEPT_RETRY_USEC);
        (void) sd_event_source_set_enabled(s->accept_retry, SD_EVENT_ONESHOT);
}

static int on_listener(sd_event_source *source, int fd, uint32_t revents, void *userdata) {
        HttpServer *s = userdata;

        for (int i = 0; i < ACCEPTS_PER_WAKEUP; i++) {
                int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
                if (cfd < 0) {
                        if (errno == EINTR || errno == ECONNABORTED)
                                continue;
                        if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                                log_warning_errno(errno, "Failed to accept connection, pausing");
                                server_pause_accepting(s);
                        }
                        return 0;
                }

                if (s->n_connections >= s->settings.max_connections && !server_evict_one(s)) {
                        refuse_busy(cfd);
                        continue;
                }
                if (connection_new(s, cfd) < 0) {
                        log_oom();
                        (void) close(cfd);
                }
        }
        return 0;
}

/* ---- server ---- */

int http_server_new(sd_event *event, const HttpServerSettings *settings, http_handler_t handler,
                    void *userdata, HttpServer **ret) {
        HttpServer *s = calloc(1, sizeof(*s));

        if (!s)
                return -ENOMEM;
        s->event = sd_event_ref(event);
        s->settings = *settings;
        s->handler = handler;
        s->userdata = userdata;
        *ret = s;
        return 0;
}

HttpServer *http_server_free(HttpServer *s) {
        if (!s)
                return NULL;

        while (s->connections)
                connection_close(s->connections);
        for (size_t i = 0; i < s->n_listeners; i++) {
                int fd = sd_event_source_get_io_fd(s->listeners[i]);
                sd_event_source_disable_unref(s->listeners[i]);
                (void) close(fd);
        }
        free(s->listeners);
        sd_event_source_disable_unref(s->accept_retry);
        sd_event_unref(s->event);
        free(s);
        return NULL;
}

int http_server_add_listener(HttpServer *s, int fd) {
        sd_event_source **l;
        int flags, r;

        flags = fcntl(fd, F_GETFL);
        if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
                return -errno;

        l = reallocarray(s->listeners, s->n_listeners + 1, sizeof(*l));
        if (!l)
                return -ENOMEM;
        s->listeners = l;

        r = sd_event_add_io(s->event, &s->listeners[s->n_listeners], fd, EPOLLIN, on_listener, s);
        if (r < 0)
                return r;
        s->n_listeners++;
        return 0;
}

void http_server_set_settings(HttpServer *s, const HttpServerSettings *settings) {
        s->settings = *settings;
}

void http_server_set_activity_callback(HttpServer *s, http_activity_t cb, void *userdata) {
        s->activity_cb = cb;
        s->activity_userdata = userdata;
}

void http_server_shutdown(HttpServer *s) {
        HttpConnection *c, *next;

        s->shutting_down = true;
        for (size_t i = 0; i < s->n_listeners; i++)
                (void) sd_event_source_set_enabled(s->listeners[i], SD_EVENT_OFF);

        for (c = s->connections; c; c = next) {
                next = c->next;
                if (c->state != CONNECTION_READING || connection_in_request(c))
                        continue; /* the answer says close: respond() sees shutting_down */
                if (output_pending(c) == 0)
                        connection_close(c);
                else
                        c->state = CONNECTION_CLOSING; /* no further request once this answer is out */
        }
        server_notify_activity(s);
}

size_t http_server_n_connections(const HttpServer *s) {
        return s->n_connections;
}
