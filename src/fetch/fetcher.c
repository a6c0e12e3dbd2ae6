/* Fetching documents over http, https and file without blocking the event
 * loop.  One curl multi handle per Fetcher; curl tells us which sockets to
 * watch and when to wake it (socket and timer callbacks), we map those onto
 * sd-event I/O sources and one monotonic timer, and every wake-up goes back
 * to curl through curl_multi_socket_action().  User callbacks never run
 * inside a curl callback: finished transfers are first taken out of the
 * multi handle and marked, then reported one by one, so a callback may start,
 * cancel or free anything, including the Fetcher itself. */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/stat.h>

#include <curl/curl.h>

#include "fetch/fetcher.h"
#include "util/url-util.h"
#include "util/log.h"
#include "util/macros.h"

#if defined(__has_include)
#  if __has_include("build-config.h")
#    include "build-config.h"
#  endif
#endif
#ifndef PACKAGE_VERSION
#  define PACKAGE_VERSION "0"
#endif

#define FETCH_USER_AGENT "payram-updater/" PACKAGE_VERSION
#define FETCH_MAX_REDIRECTS 5L
/* Establishing a connection should never take long; the whole-transfer
 * timeout still applies when it is shorter. */
#define FETCH_CONNECT_TIMEOUT_MAX_USEC (10 * USEC_PER_SEC)
/* sd-event's default accuracy (250 ms) would delay every curl wake-up. */
#define FETCH_TIMER_ACCURACY_USEC USEC_PER_MSEC
/* First allocation for a body; grows by doubling up to the cap. */
#define FETCH_BODY_INITIAL_BYTES ((size_t) 16 * 1024)
/* Characters kept as they are when a bare path is turned into a file URL. */
#define FILE_URL_SAFE_CHARS "-._~/!$&'()*+,;=:@"

struct FetchRequest {
        Fetcher *fetcher;
        FetchRequest *prev, *next;

        CURL *easy;
        bool in_multi;
        bool finished;
        bool notifying;
        CURLcode result;

        char *url;
        char *url_redacted;
        uint64_t timeout_usec;
        size_t max_bytes;

        char *body;
        size_t len, allocated;
        bool too_large;
        bool out_of_memory;

        fetch_done_t callback;
        void *userdata;

        char error_buffer[CURL_ERROR_SIZE];
};

/* One socket curl asked us to watch, handed back to us by curl as socketp. */
typedef struct FetchSocket {
        Fetcher *fetcher;
        struct FetchSocket *prev, *next;
        curl_socket_t fd;
        sd_event_source *source;
} FetchSocket;

struct Fetcher {
        unsigned n_ref;
        bool freeing;

        sd_event *event;
        CURLM *multi;
        sd_event_source *timer;

        FetchRequest *requests;
        FetchSocket *sockets;
};

/* Intrusive doubly-linked lists: each node has prev and next. */
#define LIST_PREPEND(head, item)                        \
        do {                                            \
                (item)->prev = NULL;                    \
                (item)->next = (head);                  \
                if (head)                               \
                        (head)->prev = (item);          \
                (head) = (item);                        \
        } while (0)

#define LIST_REMOVE(head, item)                                 \
        do {                                                    \
                if ((item)->next)                               \
                        (item)->next->prev = (item)->prev;      \
                if ((item)->prev)                               \
                        (item)->prev->next = (item)->next;      \
                else                                            \
                        (head) = (item)->next;                  \
                (item)->prev = (item)->next = NULL;             \
        } while (0)

static bool curl_initialized;

static void fetcher_unref(Fetcher *f);

/* ---- URL checks and redaction ---- */

static bool has_prefix_nocase(const char *s, const char *prefix) {
        return strncasecmp(s, prefix, strlen(prefix)) == 0;
}

/* Turns "/some/path" into "file:///some/path", escaping what a URL parser
 * would otherwise read as a query, a fragment or an escape. */
static char *file_url_from_path(const char *path) {
        static const char hex[] = "0123456789ABCDEF";
        size_t n = strlen(path);
        char *url, *p;

        url = malloc(strlen("file://") + 3 * n + 1);
        if (!url)
                return NULL;

        p = mempcpy(url, "file://", strlen("file://"));
        for (const unsigned char *c = (const unsigned char *) path; *c; c++) {
                if ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
                    strchr(FILE_URL_SAFE_CHARS, *c))
                        *p++ = (char) *c;
                else {
                        *p++ = '%';
                        *p++ = hex[*c >> 4];
                        *p++ = hex[*c & 0xf];
                }
        }
        *p = '\0';
        return url;
}

/* curl opens and reads file URLs synchronously, without O_NONBLOCK: a FIFO
 * or a device would block the loop, so only regular files (or paths that
 * do not exist, which curl then reports) are let through. */
static int file_url_check_regular(const char *url) {
        const char *path = url + strlen("file://");
        char *decoded;
        struct stat st;
        int r = 0;

        if (has_prefix_nocase(path, "localhost/"))
                path += strlen("localhost");
        if (path[0] != '/')
                return 0; /* curl refuses other hosts itself */

        decoded = curl_easy_unescape(NULL, path, 0, NULL);
        if (!decoded)
                return -ENOMEM;
        if (stat(decoded, &st) == 0 && !S_ISREG(st.st_mode))
                r = -EINVAL;
        curl_free(decoded);
        return r;
}

/* Accepts what fetcher_start() promises to fetch and returns the URL to give
 * curl; anything else is refused before a transfer exists. */
static int fetch_url_normalize(const char *url, char **ret) {
        char *copy;

        if (isempty(url) || strlen(url) > FETCH_MAX_URL_BYTES)
                return -EINVAL;

        if (url[0] == '/')
                copy = file_url_from_path(url);
        else {
                if (!has_prefix_nocase(url, "http://") && !has_prefix_nocase(url, "https://") &&
                    !has_prefix_nocase(url, "file://"))
                        return -EINVAL;
                /* Whitespace and control characters are never valid in a
                 * URL; refuse them here rather than let curl guess. */
                for (const unsigned char *c = (const unsigned char *) url; *c; c++)
                        if (*c <= ' ' || *c == 0x7f)
                                return -EINVAL;
                copy = strdup(url);
        }
        if (!copy)
                return -ENOMEM;

        *ret = copy;
        return 0;
}

/* ---- requests ---- */

static FetchRequest *fetch_request_free(FetchRequest *req) {
        if (!req)
                return NULL;

        if (req->fetcher) {
                if (req->in_multi)
                        (void) curl_multi_remove_handle(req->fetcher->multi, req->easy);
                LIST_REMOVE(req->fetcher->requests, req);
        }
        if (req->easy)
                curl_easy_cleanup(req->easy);

        free(req->url);
        free(req->url_redacted);
        free(req->body);
        free(req);
        return NULL;
}
DEFINE_TRIVIAL_CLEANUP_FUNC(FetchRequest *, fetch_request_free);

void fetch_request_cancel(FetchRequest *req) {
        /* From inside its own callback: it is freed once that returns. */
        if (req && req->notifying)
                return;
        fetch_request_free(req);
}

/* Appends received data, refusing anything past the cap.  A server need
 * not announce a length, so CURLOPT_MAXFILESIZE alone is not enough. */
static size_t on_write(char *data, size_t size, size_t nmemb, void *userdata) {
        FetchRequest *req = userdata;
        size_t n = size * nmemb;

        if (n > req->max_bytes - req->len) {
                req->too_large = true;
                return 0;
        }

        if (req->len + n + 1 > req->allocated) {
                size_t want = req->allocated > 0 ? req->allocated : FETCH_BODY_INITIAL_BYTES;
                char *p;

                while (want < req->len + n + 1 && want <= SIZE_MAX / 2)
                        want *= 2;
                if (want > req->max_bytes + 1)
                        want = req->max_bytes + 1;

                p = realloc(req->body, want);
                if (!p) {
                        req->out_of_memory = true;
                        return 0;
                }
                req->body = p;
                req->allocated = want;
        }

        memcpy(req->body + req->len, data, n);
        req->len += n;
        req->body[req->len] = '\0';
        return n;
}

static long usec_to_msec_long(uint64_t usec) {
        uint64_t ms = (usec + USEC_PER_MSEC - 1) / USEC_PER_MSEC;

        return ms > LONG_MAX ? LONG_MAX : (long) ms;
}

static int fetch_request_setup_easy(FetchRequest *req) {
        uint64_t connect_usec = req->timeout_usec < FETCH_CONNECT_TIMEOUT_MAX_USEC ?
                                        req->timeout_usec :
                                        FETCH_CONNECT_TIMEOUT_MAX_USEC;
        /* Never let an https URL be redirected to plain http: TLS was
         * asked for and must hold to the end. */
        const char *redirect_protocols = has_prefix_nocase(req->url, "https://") ? "https" : "http,https";
        CURL *e;

        e = req->easy = curl_easy_init();
        if (!e)
                return -ENOMEM;

        /* Each option is checked: an unknown option means a libcurl we
         * were not built for, and running with a default there would be
         * unsafe (a missing size cap or protocol limit). */
        if (curl_easy_setopt(e, CURLOPT_URL, req->url) != CURLE_OK ||
            curl_easy_setopt(e, CURLOPT_PRIVATE, req) != CURLE_OK ||
            curl_easy_setopt(e, CURLOPT_ERRORBUFFER, req->error_buffer) != CURLE_OK ||
            curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
            curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https,file") != CURLE_OK ||
            curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, redirect_protocols) != CURLE_OK ||
            curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L) != CURLE_OK ||
            curl_easy_setopt(e, CURLOPT_MAXREDIRS, FETCH_MAX_REDIRECTS) != CURLE_OK ||
            curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, usec_to_msec_long(req->timeout_usec)) != CURLE_OK ||
            curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, usec_to_msec_long(connect_usec)) != CURLE_OK ||
            curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t) req->max_bytes) != CURLE_OK ||
            curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write) != CURLE_OK ||
            curl_easy_setopt(e, CURLOPT_WRITEDATA, req) != CURLE_OK ||
            curl_easy_setopt(e, CURLOPT_USERAGENT, FETCH_USER_AGENT) != CURLE_OK ||
            /* Fetches are minutes apart; an idle connection kept for
             * reuse would only hold a socket open in between. */
            curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L) != CURLE_OK)
                return -EOPNOTSUPP;

        return 0;
}

int fetcher_start(Fetcher *f, const char *url, uint64_t timeout_usec, size_t max_bytes, fetch_done_t cb,
                  void *userdata, FetchRequest **ret) {
        _cleanup_(fetch_request_freep) FetchRequest *req = NULL;
        int r;

        if (!f || f->freeing || !cb || timeout_usec == 0 || max_bytes == 0 || max_bytes >= SIZE_MAX)
                return -EINVAL;

        req = calloc(1, sizeof(*req));
        if (!req)
                return -ENOMEM;
        req->timeout_usec = timeout_usec;
        req->max_bytes = max_bytes;
        req->callback = cb;
        req->userdata = userdata;

        r = fetch_url_normalize(url, &req->url);
        if (r < 0)
                return r;
        if (has_prefix_nocase(req->url, "file://")) {
                r = file_url_check_regular(req->url);
                if (r < 0)
                        return r;
        }
        req->url_redacted = url_redact(req->url);
        if (!req->url_redacted)
                return -ENOMEM;

        r = fetch_request_setup_easy(req);
        if (r < 0)
                return r;

        req->fetcher = f;
        LIST_PREPEND(f->requests, req);

        if (curl_multi_add_handle(f->multi, req->easy) != CURLM_OK)
                return -EIO;
        req->in_multi = true;

        if (ret)
                *ret = req;
        TAKE_PTR(req);
        return 0;
}

/* ---- completion ---- */

static int fetch_result_to_errno(const FetchRequest *req, long status) {
        if (req->too_large)
                return -EFBIG;
        if (req->out_of_memory)
                return -ENOMEM;

        switch (req->result) {
        case CURLE_OK:
                return status == 404 || status == 410 ? -ENOENT : -EREMOTEIO;
        case CURLE_OPERATION_TIMEDOUT:
                return -ETIMEDOUT;
        case CURLE_FILESIZE_EXCEEDED:
                return -EFBIG;
        case CURLE_FILE_COULDNT_READ_FILE:
                return -ENOENT;
        case CURLE_COULDNT_RESOLVE_HOST:
        case CURLE_COULDNT_RESOLVE_PROXY:
                return -EHOSTUNREACH;
        case CURLE_COULDNT_CONNECT:
                return -ECONNREFUSED;
        case CURLE_UNSUPPORTED_PROTOCOL:
                return -EPROTONOSUPPORT;
        case CURLE_TOO_MANY_REDIRECTS:
                return -ELOOP;
        case CURLE_OUT_OF_MEMORY:
                return -ENOMEM;
        case CURLE_PEER_FAILED_VERIFICATION:
        case CURLE_SSL_CONNECT_ERROR:
        case CURLE_SSL_CERTPROBLEM:
        case CURLE_SSL_CACERT_BADFILE:
                return -EPERM;
        default:
                return -EIO;
        }
}

/* curl's own message is more precise than curl_easy_strerror() (it names
 * the TLS problem, the host that did not resolve), but it may quote the URL
 * it worked on.  It is used only when neither the URL asked for nor the one
 * a redirect led to holds anything that redaction would hide. */
static const char *fetch_curl_cause(FetchRequest *req) {
        const char *effective = NULL;

        if (req->error_buffer[0] == '\0' || url_has_secrets(req->url))
                return curl_easy_strerror(req->result);
        if (curl_easy_getinfo(req->easy, CURLINFO_EFFECTIVE_URL, &effective) != CURLE_OK ||
            url_has_secrets(effective))
                return curl_easy_strerror(req->result);
        return req->error_buffer;
}

/* Decides how the transfer ended: 0, or a negative errno and, in
 * *ret_error, a message for the job log. */
static int fetch_request_verdict(FetchRequest *req, char **ret_error) {
        long status = 0;
        int r = 0, n;

        *ret_error = NULL;
        if (req->result == CURLE_OK)
                (void) curl_easy_getinfo(req->easy, CURLINFO_RESPONSE_CODE, &status);

        /* file:// has no status; for HTTP only a 2xx answer is a document. */
        if (req->result == CURLE_OK && (status == 0 || (status >= 200 && status <= 299)))
                return 0;

        r = fetch_result_to_errno(req, status);
        if (req->too_large || req->result == CURLE_FILESIZE_EXCEEDED)
                n = asprintf(ret_error, "Failed to fetch %s: larger than %zu bytes", req->url_redacted,
                             req->max_bytes);
        else if (req->out_of_memory)
                n = asprintf(ret_error, "Failed to fetch %s: out of memory", req->url_redacted);
        else if (req->result == CURLE_OK)
                n = asprintf(ret_error, "Failed to fetch %s: HTTP %ld", req->url_redacted, status);
        else if (req->result == CURLE_OPERATION_TIMEDOUT)
                n = asprintf(ret_error, "Failed to fetch %s: timed out after %" PRIu64 " ms",
                             req->url_redacted, (req->timeout_usec + USEC_PER_MSEC - 1) / USEC_PER_MSEC);
        else
                n = asprintf(ret_error, "Failed to fetch %s: %s", req->url_redacted, fetch_curl_cause(req));
        if (n < 0)
                *ret_error = NULL;
        return r;
}

/* Reports one finished request and frees it.  The request is unlinked
 * first, so that whatever the callback does to the Fetcher cannot reach it. */
static void fetch_request_complete(FetchRequest *req) {
        _cleanup_free_ char *error = NULL;
        int r;

        r = fetch_request_verdict(req, &error);

        LIST_REMOVE(req->fetcher->requests, req);
        req->fetcher = NULL;
        req->notifying = true;

        if (r >= 0)
                req->callback(req, 0, req->body ? req->body : "", req->len, NULL, req->userdata);
        else
                req->callback(req, r, NULL, 0, error ? error : "Failed to fetch: out of memory",
                              req->userdata);

        fetch_request_free(req);
}

static FetchRequest *fetcher_first_finished(Fetcher *f) {
        for (FetchRequest *req = f->requests; req; req = req->next)
                if (req->finished)
                        return req;
        return NULL;
}

/* Called after every curl_multi_socket_action(), outside any curl
 * callback: takes finished transfers out of the multi handle, then runs
 * their callbacks.  The reference keeps the Fetcher alive should a callback
 * free it; its pending requests are then cancelled and nothing more runs. */
static void fetcher_process_finished(Fetcher *f) {
        CURLMsg *msg;
        int left;

        f->n_ref++;

        while ((msg = curl_multi_info_read(f->multi, &left))) {
                FetchRequest *req = NULL;
                char *p = NULL;

                if (msg->msg != CURLMSG_DONE)
                        continue;
                if (curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &p) != CURLE_OK || !p)
                        continue;

                req = (FetchRequest *) p;
                req->result = msg->data.result;
                req->finished = true;
                /* msg is not valid past this call. */
                (void) curl_multi_remove_handle(f->multi, req->easy);
                req->in_multi = false;
        }

        for (FetchRequest *req; !f->freeing && (req = fetcher_first_finished(f));)
                fetch_request_complete(req);

        fetcher_unref(f);
}

/* ---- sd-event glue ---- */

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        FetchSocket *fs = userdata;
        Fetcher *f = fs->fetcher;
        int action = 0, running;

        if (revents & (EPOLLIN | EPOLLHUP))
                action |= CURL_CSELECT_IN;
        if (revents & EPOLLOUT)
                action |= CURL_CSELECT_OUT;
        if (revents & EPOLLERR)
                action |= CURL_CSELECT_ERR;

        /* fs may be freed by curl's socket callback from here on. */
        if (curl_multi_socket_action(f->multi, fd, action, &running) != CURLM_OK)
                log_debug("curl_multi_socket_action() failed for fd %d", fd);

        fetcher_process_finished(f);
        return 0;
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        Fetcher *f = userdata;
        int running;

        if (curl_multi_socket_action(f->multi, CURL_SOCKET_TIMEOUT, 0, &running) != CURLM_OK)
                log_debug("curl_multi_socket_action() failed on timeout");

        fetcher_process_finished(f);
        return 0;
}

static FetchSocket *fetch_socket_free(FetchSocket *fs) {
        if (!fs)
                return NULL;
        sd_event_source_disable_unref(fs->source);
        if (fs->fetcher)
                LIST_REMOVE(fs->fetcher->sockets, fs);
        free(fs);
        return NULL;
}

static uint32_t curl_poll_to_epoll(int what) {
        switch (what) {
        case CURL_POLL_IN:
                return EPOLLIN;
        case CURL_POLL_OUT:
                return EPOLLOUT;
        case CURL_POLL_INOUT:
                return EPOLLIN | EPOLLOUT;
        default:
                return 0;
        }
}

static int fetch_socket_watch(Fetcher *f, curl_socket_t fd, uint32_t events, FetchSocket *fs) {
        int r;

        if (fs)
                return sd_event_source_set_io_events(fs->source, events);

        /* A source left on this number means curl closed a socket without
         * CURL_POLL_REMOVE and got the number again; the old one is dead. */
        for (FetchSocket *stale = f->sockets; stale; stale = stale->next)
                if (stale->fd == fd) {
                        fetch_socket_free(stale);
                        break;
                }

        fs = calloc(1, sizeof(*fs));
        if (!fs)
                return -ENOMEM;
        fs->fd = fd;

        r = sd_event_add_io(f->event, &fs->source, fd, events, on_io, fs);
        if (r < 0) {
                free(fs);
                return r;
        }
        (void) sd_event_source_set_description(fs->source, "fetch-io");

        if (curl_multi_assign(f->multi, fd, fs) != CURLM_OK) {
                fetch_socket_free(fs);
                return -EIO;
        }
        fs->fetcher = f;
        LIST_PREPEND(f->sockets, fs);
        return 0;
}

/* CURLMOPT_SOCKETFUNCTION: curl says what it waits for on a socket. */
static int on_curl_socket(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp) {
        Fetcher *f = userp;
        FetchSocket *fs = socketp;
        int r;

        if (what == CURL_POLL_REMOVE) {
                if (fs) {
                        (void) curl_multi_assign(f->multi, fd, NULL);
                        fetch_socket_free(fs);
                }
                return 0;
        }

        r = fetch_socket_watch(f, fd, curl_poll_to_epoll(what), fs);
        if (r < 0) {
                log_debug("Failed to watch fd %d for curl: %s", fd, strerror(-r));
                return -1;
        }
        return 0;
}

/* CURLMOPT_TIMERFUNCTION: curl wants to be called back after TIMEOUT_MS
 * (0: as soon as possible, from the loop, never from here; -1: never). */
static int on_curl_timer(CURLM *multi, long timeout_ms, void *userp) {
        Fetcher *f = userp;
        uint64_t now, when;
        int r;

        if (timeout_ms < 0) {
                if (f->timer && sd_event_source_set_enabled(f->timer, SD_EVENT_OFF) < 0)
                        return -1;
                return 0;
        }

        r = sd_event_now(f->event, CLOCK_MONOTONIC, &now);
        if (r < 0)
                return -1;
        when = now + (uint64_t) timeout_ms * USEC_PER_MSEC;

        if (!f->timer) {
                r = sd_event_add_time(f->event, &f->timer, CLOCK_MONOTONIC, when, FETCH_TIMER_ACCURACY_USEC,
                                      on_timer, f);
                if (r < 0)
                        return -1;
                (void) sd_event_source_set_description(f->timer, "fetch-timer");
                return 0;
        }

        if (sd_event_source_set_time(f->timer, when) < 0 ||
            sd_event_source_set_enabled(f->timer, SD_EVENT_ONESHOT) < 0)
                return -1;
        return 0;
}

/* ---- the Fetcher ---- */

int fetcher_new(sd_event *event, Fetcher **ret) {
        _cleanup_(fetcher_freep) Fetcher *f = NULL;

        if (!event || !ret)
                return -EINVAL;

        /* Not thread-safe, but this program has one thread. */
        if (!curl_initialized) {
                if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
                        return -EIO;
                curl_initialized = true;
        }

        f = calloc(1, sizeof(*f));
        if (!f)
                return -ENOMEM;
        f->n_ref = 1;
        f->event = sd_event_ref(event);

        f->multi = curl_multi_init();
        if (!f->multi)
                return -ENOMEM;

        if (curl_multi_setopt(f->multi, CURLMOPT_SOCKETFUNCTION, on_curl_socket) != CURLM_OK ||
            curl_multi_setopt(f->multi, CURLMOPT_SOCKETDATA, f) != CURLM_OK ||
            curl_multi_setopt(f->multi, CURLMOPT_TIMERFUNCTION, on_curl_timer) != CURLM_OK ||
            curl_multi_setopt(f->multi, CURLMOPT_TIMERDATA, f) != CURLM_OK)
                return -EOPNOTSUPP;

        *ret = TAKE_PTR(f);
        return 0;
}

static void fetcher_unref(Fetcher *f) {
        if (!f || --f->n_ref > 0)
                return;

        /* Requests are gone already (fetcher_free()); cleaning up the multi
         * handle may still call on_curl_socket() to drop sockets. */
        if (f->multi)
                (void) curl_multi_cleanup(f->multi);
        while (f->sockets)
                fetch_socket_free(f->sockets);
        sd_event_source_disable_unref(f->timer);
        sd_event_unref(f->event);
        free(f);
}

Fetcher *fetcher_free(Fetcher *f) {
        if (!f || f->freeing)
                return NULL;

        f->freeing = true;
        while (f->requests)
                fetch_request_free(f->requests);
        fetcher_unref(f);
        return NULL;
}
