/* Routes and answers.
 *
 *   GET  /health          {"status":"healthy"}
 *   GET  /upgrade/status  the current or last job (IDLE when none)
 *   GET  /upgrade/logs    {"logs":[...]} of that job
 *   POST /upgrade         start a job; answer when it ends, or at once
 *                         with 202 for "Prefer: respond-async"
 *
 * A POST that waits holds a reference on its connection and a waiter on
 * the manager; whichever side goes first, nothing dangles. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/api.h"
#include "upgrade/version.h"
#include "util/json-util.h"
#include "util/log.h"

typedef struct PendingUpgrade PendingUpgrade;

struct PendingUpgrade {
        Api *api;
        PendingUpgrade *prev, *next;
        HttpConnection *connection;
        ManagerWaiter *waiter;
};

struct Api {
        Manager *manager;
        api_sources_t sources;
        void *sources_userdata;
        PendingUpgrade *pending;
};

typedef struct UpgradeRequest {
        JobMode mode;
        const char *requested_target;
        const char *current_version; /* NULL when not given */
} UpgradeRequest;

/* ---- answers ---- */

static void respond_json(HttpConnection *c, int status, const char *extra_headers, struct json_object *obj) {
        const char *text;

        if (!obj) {
                static const char oom[] = "{\"error\":\"out of memory\"}";
                (void) http_connection_respond(c, 500, NULL, oom, sizeof(oom) - 1);
                return;
        }
        text = json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
        (void) http_connection_respond(c, status, extra_headers, text, strlen(text));
}

static void respond_error(HttpConnection *c, int status, const char *extra_headers, const char *message) {
        _cleanup_json_ struct json_object *obj = json_object_new_object();

        if (obj && json_add_string(obj, "error", message) < 0)
                obj = (json_object_put(obj), NULL);
        respond_json(c, status, extra_headers, obj);
}

static struct json_object *idle_status_json(void) {
        static const char *const fields[] = {
                "state", "mode", "requested_target", "resolved_target", "error_code", "error_message",
                "job_id", "created_at", "updated_at", "current_version",
        };
        struct json_object *obj = json_object_new_object();

        if (!obj)
                return NULL;
        for (size_t i = 0; i < ELEMENTSOF(fields); i++)
                if (json_add_string(obj, fields[i], i == 0 ? "IDLE" : "") < 0) {
                        json_object_put(obj);
                        return NULL;
                }
        return obj;
}

static struct json_object *status_json(const Api *a) {
        const Job *job = manager_current_job(a->manager);

        return job ? job_to_status_json(job) : idle_status_json();
}

/* {"message": ..., then every status field}. */
static struct json_object *message_with_status(const Job *job, const char *message) {
        _cleanup_json_ struct json_object *status = job_to_status_json(job);
        struct json_object *obj = json_object_new_object();

        if (!obj || !status || json_add_string(obj, "message", message) < 0) {
                json_object_put(obj);
                return NULL;
        }
        json_object_object_foreach(status, key, value)
                if (json_object_object_add(obj, key, json_object_get(value)) < 0) {
                        json_object_put(obj);
                        return NULL;
                }
        return obj;
}

/* 201 when the dry run reached READY, 422 with the status when it failed. */
static void respond_job_result(HttpConnection *c, const Job *job) {
        _cleanup_free_ char *message = NULL;
        _cleanup_json_ struct json_object *obj = NULL;

        if (job->state == JOB_STATE_FAILED) {
                obj = job_to_status_json(job);
                respond_json(c, 422, NULL, obj);
                return;
        }

        if (asprintf(&message, "Upgrade job created successfully. State: %s",
                     job_state_to_string(job->state)) < 0)
                message = NULL;
        obj = message ? message_with_status(job, message) : NULL;
        respond_json(c, 201, NULL, obj);
}

/* ---- POST /upgrade ---- */

/* A string member holding "\u0000" would be cut short as a C string, so
 * that what was checked differs from what was sent: refuse it. */
static bool has_embedded_nul(struct json_object *obj) {
        json_object_object_foreach(obj, key, value) {
                (void) key;
                if (json_object_is_type(value, json_type_string) &&
                    (size_t) json_object_get_string_len(value) != strlen(json_object_get_string(value)))
                        return true;
        }
        return false;
}

static const char *parse_upgrade_body(const HttpRequest *req, UpgradeRequest *ret,
                                      struct json_object **ret_obj) {
        const char *error = NULL, *mode, *target;
        struct json_object *obj, *cv;

        if (req->body_len == 0)
                return "The request body must be a JSON object";
        obj = json_parse_strict(req->body, req->body_len, &error);
        if (!obj)
                return "The request body is not valid JSON (UTF-8)";
        *ret_obj = obj;
        if (!json_object_is_type(obj, json_type_object))
                return "The request body must be a JSON object";
        if (has_embedded_nul(obj))
                return "The request body contains a string with a NUL character";

        mode = json_get_string(obj, "mode");
        if (!mode)
                return "\"mode\" is required and must be \"DASHBOARD\" or \"MANUAL\"";
        ret->mode = job_mode_from_string(mode);
        if (ret->mode < 0)
                return "\"mode\" must be \"DASHBOARD\" or \"MANUAL\"";

        target = json_get_string(obj, "requested_target");
        if (!target)
                return "\"requested_target\" is required: \"latest\" or a version";
        if (!version_is_valid_tag(target))
                return "\"requested_target\" must be \"latest\" or a version tag "
                       "([A-Za-z0-9_][A-Za-z0-9_.-]{0,127})";
        ret->requested_target = target;

        ret->current_version = NULL;
        if (json_object_object_get_ex(obj, "current_version", &cv) &&
            !json_object_is_type(cv, json_type_null)) {
                const char *v = json_get_string(obj, "current_version");
                if (!v)
                        return "\"current_version\" must be a string";
                if (*v && !version_is_valid_tag(v))
                        return "\"current_version\" must be a version tag";
                ret->current_version = *v ? v : NULL;
        }
        return NULL;
}

/* RFC 7240: the preference is one token of a comma-separated list. */
static bool wants_async(const HttpRequest *req) {
        for (size_t i = 0; i < req->n_headers; i++) {
                const char *p;

                if (strcasecmp(req->headers[i].name, "Prefer") != 0)
                        continue;
                for (p = req->headers[i].value; (p = strcasestr(p, "respond-async")); p++) {
                        bool start = p == req->headers[i].value || strchr(" ,\t;", p[-1]);
                        char end = p[strlen("respond-async")];
                        if (start && (end == '\0' || strchr(" ,\t;", end)))
                                return true;
                }
        }
        return false;
}

static void pending_free(PendingUpgrade *p) {
        Api *a = p->api;

        if (p->prev)
                p->prev->next = p->next;
        else
                a->pending = p->next;
        if (p->next)
                p->next->prev = p->prev;
        manager_waiter_cancel(p->waiter);
        http_connection_unref(p->connection);
        free(p);
}

static void on_job_done(Manager *m, const Job *job, void *userdata) {
        PendingUpgrade *p = userdata;

        p->waiter = NULL; /* the manager frees it after this call */
        if (http_connection_is_open(p->connection))
                respond_job_result(p->connection, job);
        pending_free(p);
}

static int wait_for_job(Api *a, HttpConnection *c) {
        PendingUpgrade *p = calloc(1, sizeof(*p));

        if (!p)
                return -ENOMEM;
        p->waiter = manager_wait(a->manager, on_job_done, p);
        if (!p->waiter) {
                free(p);
                return -ENOMEM;
        }
        p->api = a;
        p->connection = http_connection_ref(c);
        p->next = a->pending;
        if (a->pending)
                a->pending->prev = p;
        a->pending = p;
        return 0;
}

static void handle_upgrade(Api *a, HttpConnection *c, const HttpRequest *req) {
        _cleanup_json_ struct json_object *body = NULL, *answer = NULL;
        _cleanup_free_ char *message = NULL;
        UpgradeRequest up = {};
        JobSources src = {};
        const Job *job;
        const char *error;
        int r;

        error = parse_upgrade_body(req, &up, &body);
        if (error) {
                respond_error(c, 400, NULL, error);
                return;
        }

        a->sources(&src, a->sources_userdata);
        r = manager_start_job(a->manager, &src, up.mode, up.requested_target, up.current_version, &job);
        if (r == -EBUSY) {
                respond_error(c, 409, NULL, "An upgrade job is already in progress");
                return;
        }
        if (r == -ESHUTDOWN) {
                respond_error(c, 503, "Retry-After: 10\r\n", "The service is stopping");
                return;
        }
        if (r < 0) {
                if (asprintf(&message, "Cannot start an upgrade job: %s", strerror(-r)) < 0)
                        message = NULL;
                respond_error(c, 500, NULL, message ? message : "Cannot start an upgrade job");
                return;
        }

        if (job_state_is_terminal(job->state)) {
                respond_job_result(c, job);
                return;
        }
        if (wants_async(req)) {
                if (asprintf(&message, "Upgrade job accepted. State: %s",
                             job_state_to_string(job->state)) < 0)
                        message = NULL;
                answer = message ? message_with_status(job, message) : NULL;
                respond_json(c, 202, "Location: /upgrade/status\r\nPreference-Applied: respond-async\r\n",
                             answer);
                return;
        }
        if (wait_for_job(a, c) < 0)
                respond_error(c, 500, NULL, "Out of memory");
}

/* ---- routing ---- */

static void handle_get(Api *a, HttpConnection *c, const char *path) {
        _cleanup_json_ struct json_object *obj = NULL;

        if (streq(path, "/health")) {
                obj = json_object_new_object();
                if (obj && json_add_string(obj, "status", "healthy") < 0)
                        obj = (json_object_put(obj), NULL);
        } else if (streq(path, "/upgrade/status"))
                obj = status_json(a);
        else {
                const JobLog *log = manager_current_log(a->manager);

                obj = json_object_new_object();
                struct json_object *logs = log ? joblog_to_json(log) : json_object_new_array();

                if (!obj || !logs || json_object_object_add(obj, "logs", logs) < 0) {
                        json_object_put(logs);
                        obj = (json_object_put(obj), NULL);
                }
        }
        respond_json(c, 200, NULL, obj);
}

typedef struct Route {
        const char *path;
        const char *allow;     /* for 405 */
        bool get;              /* GET and HEAD */
        bool post;
} Route;

static const Route routes[] = {
        { "/health",         "Allow: GET, HEAD\r\n", true,  false },
        { "/upgrade/status", "Allow: GET, HEAD\r\n", true,  false },
        { "/upgrade/logs",   "Allow: GET, HEAD\r\n", true,  false },
        { "/upgrade",        "Allow: POST\r\n",      false, true  },
};

void api_handle_request(HttpConnection *c, const HttpRequest *req, void *userdata) {
        Api *a = userdata;
        const Route *route = NULL;

        for (size_t i = 0; i < ELEMENTSOF(routes); i++)
                if (streq(req->path, routes[i].path))
                        route = &routes[i];

        if (!route) {
                respond_error(c, 404, NULL, "Not found");
                return;
        }
        if (route->get && (streq(req->method, "GET") || streq(req->method, "HEAD"))) {
                handle_get(a, c, route->path);
                return;
        }
        if (route->post && streq(req->method, "POST")) {
                handle_upgrade(a, c, req);
                return;
        }
        respond_error(c, 405, route->allow, "Method not allowed");
}

int api_new(Manager *manager, api_sources_t sources, void *userdata, Api **ret) {
        Api *a = calloc(1, sizeof(*a));

        if (!a)
                return -ENOMEM;
        a->manager = manager;
        a->sources = sources;
        a->sources_userdata = userdata;
        *ret = a;
        return 0;
}

Api *api_free(Api *a) {
        if (!a)
                return NULL;
        while (a->pending)
                pending_free(a->pending);
        free(a);
        return NULL;
}
