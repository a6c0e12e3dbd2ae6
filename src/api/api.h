/* The HTTP API of the SPEC: routes, request validation and the JSON
 * answers.  It sees only complete, well-framed requests (the server has
 * already refused malformed ones) and talks to the job manager. */
#pragma once

#include "manager/manager.h"
#include "server/http-server.h"
#include "util/macros.h"

#define API_MAX_TARGET_BYTES 128

typedef struct Api Api;

/* Where the next job fetches from: asked at every POST /upgrade so that a
 * reloaded configuration applies to the next job. */
typedef void (*api_sources_t)(JobSources *ret, void *userdata);

int api_new(Manager *manager, api_sources_t sources, void *userdata, Api **ret);
Api *api_free(Api *a);
DEFINE_TRIVIAL_CLEANUP_FUNC(Api *, api_free);

/* The http_handler_t of the server; USERDATA is the Api. */
void api_handle_request(HttpConnection *c, const HttpRequest *req, void *userdata);
