/* Fetching policy and manifest without blocking the event loop: libcurl's
 * multi interface with its socket and timer callbacks mapped onto sd-event
 * I/O and time sources.  http, https and file URLs (a bare absolute path
 * means file://), a whole-transfer timeout, a size cap, TLS verified. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <systemd/sd-event.h>

#include "util/macros.h"
/* URLs shown in messages go through url_redact(). */
#include "util/url-util.h"

#define FETCH_MAX_BYTES ((size_t) 1 << 20)
#define FETCH_MAX_URL_BYTES 4096

typedef struct Fetcher Fetcher;
typedef struct FetchRequest FetchRequest;

/* Called once per request, from the event loop.  On success R is 0 and
 * BODY/LEN hold the document (NUL-terminated); on failure R is negative and
 * ERROR is a message fit for the job log: it names the URL with any
 * user:password part removed and says why (HTTP status, timeout, size cap,
 * TLS, DNS, ...).  The request is freed after the callback returns. */
typedef void (*fetch_done_t)(FetchRequest *req, int r, const char *body, size_t len, const char *error,
                             void *userdata);

int fetcher_new(sd_event *event, Fetcher **ret);
Fetcher *fetcher_free(Fetcher *f);
DEFINE_TRIVIAL_CLEANUP_FUNC(Fetcher *, fetcher_free);

/* Starts fetching URL.  TIMEOUT_USEC bounds the whole transfer, MAX_BYTES
 * the body.  Returns -EINVAL (with nothing started) for a URL whose scheme
 * is not http, https or file.  *ret (optional) may be used to cancel.
 * Also -EINVAL: a relative path, a URL longer than FETCH_MAX_URL_BYTES or
 * with spaces or control characters, a zero TIMEOUT_USEC or MAX_BYTES. */
int fetcher_start(Fetcher *f, const char *url, uint64_t timeout_usec, size_t max_bytes, fetch_done_t cb,
                  void *userdata, FetchRequest **ret);

/* Cancels a request in flight; its callback is not called.  REQ must not be
 * used once its callback has returned; cancelling it from inside its own
 * callback does nothing (it is freed when the callback returns). */
void fetch_request_cancel(FetchRequest *req);

