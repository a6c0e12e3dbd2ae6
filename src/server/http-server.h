/* The HTTP/1.1 server on the event loop: accepts connections on the
 * listening sockets it is given, feeds bytes to the request parser, hands
 * complete requests to one handler and writes the answers back in request
 * order.  Keep-alive, pipelining, 100-continue, timeouts, a connection cap
 * and back-pressure on clients that do not read are all handled here, so
 * the API layer only sees whole, valid requests. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <systemd/sd-event.h>

#include "http/http-parser.h"
#include "util/macros.h"

#define HTTP_DEFAULT_MAX_CONNECTIONS   256
#define HTTP_DEFAULT_REQUEST_TIMEOUT   (10 * USEC_PER_SEC)
#define HTTP_DEFAULT_IDLE_TIMEOUT      (60 * USEC_PER_SEC)
/* Answers queued for a client that does not read; past this the server
 * stops reading that client's requests until it drains. */
#define HTTP_MAX_PENDING_OUTPUT        ((size_t) 256 * 1024)

typedef struct HttpServerSettings {
        HttpLimits limits;
        size_t max_connections;
        uint64_t request_timeout_usec; /* first byte of a request to its end; also a stalled write */
        uint64_t idle_timeout_usec;    /* keep-alive connection with no request */
} HttpServerSettings;

typedef struct HttpServer HttpServer;
typedef struct HttpConnection HttpConnection;

/* Called once per complete request.  The handler answers with
 * http_connection_respond(), now or later; until it does, further
 * pipelined requests on that connection wait.  To answer later it takes a
 * reference (http_connection_ref) and may find the peer gone meanwhile:
 * responding to a closed connection is a harmless no-op. */
typedef void (*http_handler_t)(HttpConnection *c, const HttpRequest *req, void *userdata);

/* Called whenever the number of open connections changes. */
typedef void (*http_activity_t)(HttpServer *s, void *userdata);

int http_server_new(sd_event *event, const HttpServerSettings *settings, http_handler_t handler,
                    void *userdata, HttpServer **ret);
HttpServer *http_server_free(HttpServer *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(HttpServer *, http_server_free);

/* Takes ownership of a listening socket (made non-blocking here). */
int http_server_add_listener(HttpServer *s, int fd);

/* New settings apply at once to timeouts and the connection cap, and to
 * connections accepted from now on for the request limits (a request being
 * parsed keeps the limits it started with). */
void http_server_set_settings(HttpServer *s, const HttpServerSettings *settings);

void http_server_set_activity_callback(HttpServer *s, http_activity_t cb, void *userdata);

/* Stops accepting and closes idle connections; connections with a request
 * in progress finish their answer and then close. */
void http_server_shutdown(HttpServer *s);

size_t http_server_n_connections(const HttpServer *s);

HttpConnection *http_connection_ref(HttpConnection *c);
HttpConnection *http_connection_unref(HttpConnection *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(HttpConnection *, http_connection_unref);

/* Queues the answer to the request being handled.  EXTRA_HEADERS is NULL
 * or complete "Name: value\r\n" lines.  The body is left out for HEAD. */
int http_connection_respond(HttpConnection *c, int status, const char *extra_headers, const char *body,
                            size_t body_len);

/* True while the peer is connected and the answer is still owed. */
bool http_connection_is_open(const HttpConnection *c);

/* The reason phrase of STATUS ("OK", "Not Found", ...). */
const char *http_status_reason(int status);
