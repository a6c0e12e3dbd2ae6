/* Command-line client.  libcurl's easy interface is fine here: the client
 * is a short-lived process that waits for one answer.
 *
 *   payram-updater [--url URL] status            the current or last job
 *   payram-updater [--url URL] logs [--json]     its log entries
 *   payram-updater [--url URL] upgrade [--mode MANUAL|DASHBOARD] [--target T]
 *                  [--current-version V] [--async]
 *   payram-updater [--url URL] health
 *
 * The service address is --url, else $PAYRAM_UPDATER_URL, else
 * http://127.0.0.1:PORT with PORT from $UPDATER_PORT or the UPDATER_PORT of
 * /etc/payram/updater.env (default 2359), as the service itself reads it. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <json-c/json.h>

#include "client/client.h"
#include "build-config.h"
#include "config/config.h"
#include "util/fileio.h"
#include "upgrade/job.h"
#include "util/json-util.h"
#include "util/parse-util.h"
#include "util/url-util.h"

#define CLIENT_MAX_ANSWER_BYTES ((size_t) 8 << 20)
/* A dry run takes at most two fetches; leave room for slow servers. */
#define CLIENT_TIMEOUT_SEC 600L
#define CLIENT_MAX_URL_BYTES 512

typedef struct Answer {
        char *data;
        size_t len;
} Answer;

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *userdata) {
        Answer *a = userdata;
        size_t n = size * nmemb;
        char *p;

        if (a->len + n > CLIENT_MAX_ANSWER_BYTES)
                return 0;
        p = realloc(a->data, a->len + n + 1);
        if (!p)
                return 0;
        memcpy(p + a->len, ptr, n);
        a->data = p;
        a->len += n;
        a->data[a->len] = '\0';
        return n;
}

typedef struct PortLookup {
        const char *path;
        uint64_t port;
        bool bad;
} PortLookup;

static int on_assignment(const char *key, const char *value, unsigned line, void *userdata,
                         char **ret_error) {
        PortLookup *l = userdata;

        if (!streq(key, "UPDATER_PORT"))
                return 0;
        l->bad = safe_atou64_max(value, 65535, &l->port) < 0 || l->port == 0;
        if (l->bad)
                fprintf(stderr, "%s:%u: UPDATER_PORT=%s is not a port number\n", l->path, line, value);
        return 0;
}

/* The port the service listens on when it binds by itself: the environment
 * first, then the configuration file, as the service reads them. */
static int service_port(uint64_t *ret) {
        _cleanup_free_ char *text = NULL, *error = NULL;
        const char *env = getenv("UPDATER_PORT");
        PortLookup l = { .path = DEFAULT_CONFIG_PATH, .port = CONFIG_DEFAULT_PORT };
        size_t len = 0;

        if (env) {
                if (safe_atou64_max(env, 65535, ret) < 0 || *ret == 0) {
                        fprintf(stderr, "UPDATER_PORT=%s is not a port number\n", env);
                        return -EINVAL;
                }
                return 0;
        }

        /* An unreadable or broken file is the service's to report; the
         * client then tries the default port. */
        if (read_file_bounded(l.path, CONFIG_MAX_FILE_BYTES, &text, &len) >= 0)
                (void) config_parse_env_text(text, len, l.path, on_assignment, &l, &error);
        if (l.bad)
                return -EINVAL;
        *ret = l.port;
        return 0;
}

/* The service address is scheme, host and port only: a path or query
 * would be sent along with every request and answered 404. */
static int check_service_url(const char *url) {
        _cleanup_free_ char *shown = url_redact(url);
        CURLU *u = curl_url();
        char *path = NULL, *query = NULL, *scheme = NULL;
        bool ok;

        if (!u)
                return -ENOMEM;
        ok = curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
             curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
             (streq(scheme, "http") || streq(scheme, "https")) &&
             curl_url_get(u, CURLUPART_PATH, &path, 0) == CURLUE_OK && streq(path, "/") &&
             curl_url_get(u, CURLUPART_QUERY, &query, 0) == CURLUE_NO_QUERY;
        curl_free(scheme);
        curl_free(path);
        curl_free(query);
        curl_url_cleanup(u);

        if (!ok) {
                fprintf(stderr, "%s is not a service address (http://HOST:PORT)\n", strempty(shown));
                return -EINVAL;
        }
        return 0;
}

static int base_url(const char *given, char *buf, size_t size) {
        const char *env = getenv("PAYRAM_UPDATER_URL");
        uint64_t port;
        size_t n;

        if (given || env) {
                if (snprintf(buf, size, "%s", given ? given : env) >= (int) size) {
                        fprintf(stderr, "Service URL too long\n");
                        return -E2BIG;
                }
                /* "http://host:port/" and "http://host:port" mean the same. */
                n = strlen(buf);
                while (n > 0 && buf[n - 1] == '/')
                        buf[--n] = '\0';
                return check_service_url(buf);
        }

        if (service_port(&port) < 0)
                return -EINVAL;
        (void) snprintf(buf, size, "http://127.0.0.1:%u", (unsigned) port);
        return 0;
}

/* Sends one request; returns the HTTP status or -1 with a message printed. */
static long request(const char *base, const char *path, const char *body, bool async, Answer *ret) {
        char url[CLIENT_MAX_URL_BYTES];
        struct curl_slist *headers = NULL;
        CURL *curl;
        CURLcode rc;
        long status = -1;

        if (snprintf(url, sizeof(url), "%s%s", base, path) >= (int) sizeof(url)) {
                fprintf(stderr, "Service URL too long\n");
                return -1;
        }

        curl = curl_easy_init();
        if (!curl)
                return -1;
        (void) curl_easy_setopt(curl, CURLOPT_URL, url);
        (void) curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
        (void) curl_easy_setopt(curl, CURLOPT_TIMEOUT, CLIENT_TIMEOUT_SEC);
        (void) curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
        (void) curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_data);
        (void) curl_easy_setopt(curl, CURLOPT_WRITEDATA, ret);
        if (body) {
                headers = curl_slist_append(headers, "Content-Type: application/json");
                if (async)
                        headers = curl_slist_append(headers, "Prefer: respond-async");
                (void) curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
                (void) curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
        }

        rc = curl_easy_perform(curl);
        if (rc != CURLE_OK) {
                _cleanup_free_ char *shown = url_redact(base);

                fprintf(stderr,
                        "Cannot reach payram-updater at %s: %s\n"
                        "Is it running? See: systemctl status payram-updater.socket "
                        "payram-updater.service\n",
                        strempty(shown), curl_easy_strerror(rc));
        }
        else
                (void) curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);

        curl_slist_free_all(headers);
        curl_easy_cleanup(curl);
        return status;
}

static void print_json(const Answer *a) {
        const char *err = NULL;
        _cleanup_json_ struct json_object *obj = a->data ? json_parse_strict(a->data, a->len, &err) : NULL;

        if (!obj) {
                printf("%s\n", a->data ? a->data : "");
                return;
        }
        printf("%s\n", json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PRETTY |
                                                                   JSON_C_TO_STRING_NOSLASHESCAPE));
}

static void print_logs(const Answer *a) {
        const char *err = NULL;
        _cleanup_json_ struct json_object *obj = a->data ? json_parse_strict(a->data, a->len, &err) : NULL;
        struct json_object *logs;

        if (!obj || !json_object_object_get_ex(obj, "logs", &logs) ||
            !json_object_is_type(logs, json_type_array)) {
                print_json(a);
                return;
        }
        if (json_object_array_length(logs) == 0)
                fprintf(stderr, "No upgrade job yet: no log entries\n");
        for (size_t i = 0; i < json_object_array_length(logs); i++) {
                struct json_object *e = json_object_array_get_idx(logs, i);
                printf("%s %-7s %s\n", strempty(json_get_string(e, "time")),
                       strempty(json_get_string(e, "level")), strempty(json_get_string(e, "message")));
        }
}

static int exit_status_for(long status) {
        if (status < 0)
                return 2;
        return status >= 200 && status < 300 ? 0 : 1;
}

static char *upgrade_body(const char *mode, const char *target, const char *current) {
        _cleanup_json_ struct json_object *obj = json_object_new_object();

        if (!obj || json_add_string(obj, "mode", mode) < 0 ||
            json_add_string(obj, "requested_target", target) < 0)
                return NULL;
        if (current && json_add_string(obj, "current_version", current) < 0)
                return NULL;
        return strdup(json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN));
}

static void usage(void) {
        printf("Usage: payram-updater [--url URL] status\n"
               "       payram-updater [--url URL] logs [--json]\n"
               "       payram-updater [--url URL] upgrade [--mode MANUAL|DASHBOARD]\n"
               "                      [--target VERSION|latest] [--current-version VERSION] [--async]\n"
               "       payram-updater [--url URL] health\n"
               "       payram-updater reload --pid PID          (the unit's ExecReload=)\n"
               "\n"
               "  --url URL                service address (default $PAYRAM_UPDATER_URL, else\n"
               "                           http://127.0.0.1:UPDATER_PORT)\n"
               "  --mode MODE              upgrade: MANUAL (default) or DASHBOARD\n"
               "  --target VERSION         upgrade: a version or latest (default)\n"
               "  --current-version V      upgrade: the version running now\n"
               "  --async                  upgrade: return at once, poll with status\n"
               "  --json                   logs: print the entries as JSON\n"
               "  --pid PID                reload: the service's main PID\n");
}

static const char *const commands[] = { "status", "logs", "upgrade", "health", "reload" };

bool client_is_command(const char *arg) {
        for (size_t i = 0; i < ELEMENTSOF(commands); i++)
                if (streq(arg, commands[i]))
                        return true;
        return false;
}

const char *client_commands_list(void) {
        return "status, logs, upgrade, health, reload";
}

typedef struct ClientOptions {
        const char *url, *mode, *target, *current, *pid;
        bool async, json;
} ClientOptions;

enum {
        OPT_URL = 0x100,
        OPT_MODE,
        OPT_TARGET,
        OPT_CURRENT,
        OPT_ASYNC,
        OPT_JSON,
        OPT_PID,
        OPT_HELP,
};

/* Which command an option belongs to; NULL for every command. */
static const char *option_command(int opt) {
        switch (opt) {
        case OPT_MODE: case OPT_TARGET: case OPT_CURRENT: case OPT_ASYNC:
                return "upgrade";
        case OPT_JSON:
                return "logs";
        case OPT_PID:
                return "reload";
        default:
                return NULL;
        }
}

static int parse_options(const char *command, int argc, char **argv, ClientOptions *o) {
        static const struct option options[] = {
                { "url",             required_argument, NULL, OPT_URL },
                { "mode",            required_argument, NULL, OPT_MODE },
                { "target",          required_argument, NULL, OPT_TARGET },
                { "current-version", required_argument, NULL, OPT_CURRENT },
                { "async",           no_argument,       NULL, OPT_ASYNC },
                { "json",            no_argument,       NULL, OPT_JSON },
                { "pid",             required_argument, NULL, OPT_PID },
                { "help",            no_argument,       NULL, OPT_HELP },
                {}
        };
        int c, index = -1;

        optind = 1;
        while ((c = getopt_long(argc, argv, "h", options, &index)) >= 0) {
                const char *owner = option_command(c);

                if (owner && !streq(owner, command)) {
                        fprintf(stderr, "Option --%s does not apply to '%s' (only to '%s')\n",
                                index >= 0 ? options[index].name : "?", command, owner);
                        return -EINVAL;
                }
                index = -1;
                switch (c) {
                case OPT_URL: o->url = optarg; break;
                case OPT_MODE: o->mode = optarg; break;
                case OPT_TARGET: o->target = optarg; break;
                case OPT_CURRENT: o->current = optarg; break;
                case OPT_ASYNC: o->async = true; break;
                case OPT_JSON: o->json = true; break;
                case OPT_PID: o->pid = optarg; break;
                case 'h': case OPT_HELP: usage(); return 1;
                default: usage(); return -EINVAL;
                }
        }
        if (optind != argc) {
                fprintf(stderr, "Unexpected argument '%s' for '%s'\n", argv[optind], command);
                return -EINVAL;
        }
        if (streq(command, "upgrade") && job_mode_from_string(o->mode) < 0) {
                fprintf(stderr, "--mode must be MANUAL or DASHBOARD, not '%s'\n", o->mode);
                return -EINVAL;
        }
        return 0;
}

int client_main(int argc, char **argv) {
        ClientOptions o = { .mode = "MANUAL", .target = "latest" };
        _cleanup_free_ char *body = NULL;
        char base[CLIENT_MAX_URL_BYTES];
        const char *command = argv[0];
        Answer answer = {};
        long status;
        int r;

        r = parse_options(command, argc, argv, &o);
        if (r != 0)
                return r > 0 ? 0 : 2;
        if (streq(command, "reload"))
                return client_reload(o.pid);
        if (base_url(o.url, base, sizeof(base)) < 0)
                return 2;

        curl_global_init(CURL_GLOBAL_DEFAULT);
        if (streq(command, "upgrade")) {
                body = upgrade_body(o.mode, o.target, o.current);
                status = body ? request(base, "/upgrade", body, o.async, &answer) : -1;
        } else if (streq(command, "logs"))
                status = request(base, "/upgrade/logs", NULL, false, &answer);
        else if (streq(command, "status"))
                status = request(base, "/upgrade/status", NULL, false, &answer);
        else
                status = request(base, "/health", NULL, false, &answer);

        if (status >= 0) {
                if (streq(command, "logs") && !o.json && status == 200)
                        print_logs(&answer);
                else
                        print_json(&answer);
        }
        free(answer.data);
        curl_global_cleanup();
        return exit_status_for(status);
}
