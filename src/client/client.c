/* Command-line client.  libcurl's easy interface is fine here: the client
 * is a short-lived process that waits for one answer.
 *
 *   payram-updater status            the current or last job
 *   payram-updater logs [--json]     its log entries
 *   payram-updater upgrade [--mode MANUAL|DASHBOARD] [--target T]
 *                          [--current-version V] [--async]
 *   payram-updater health
 *
 * The service address is --url, else $PAYRAM_UPDATER_URL, else
 * http://127.0.0.1:$UPDATER_PORT (2359). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <json-c/json.h>

#include "client/client.h"
#include "config/config.h"
#include "util/json-util.h"
#include "util/parse-util.h"

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

static int base_url(const char *given, char *buf, size_t size) {
        const char *env = getenv("PAYRAM_UPDATER_URL"), *port = getenv("UPDATER_PORT");
        uint64_t p = CONFIG_DEFAULT_PORT;

        if (given || env)
                return snprintf(buf, size, "%s", given ? given : env) < (int) size ? 0 : -E2BIG;
        if (port && safe_atou64_max(port, 65535, &p) < 0) {
                fprintf(stderr, "UPDATER_PORT=%s is not a port number\n", port);
                return -EINVAL;
        }
        (void) snprintf(buf, size, "http://127.0.0.1:%u", (unsigned) p);
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
        if (rc != CURLE_OK)
                fprintf(stderr, "Cannot reach payram-updater at %s: %s\n", base, curl_easy_strerror(rc));
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
        printf("Usage: payram-updater [--url URL] status|logs [--json]|health\n"
               "       payram-updater [--url URL] upgrade [--mode MANUAL|DASHBOARD]\n"
               "                      [--target VERSION|latest] [--current-version VERSION] [--async]\n");
}

bool client_is_command(const char *arg) {
        static const char *const commands[] = { "status", "logs", "upgrade", "health" };

        for (size_t i = 0; i < ELEMENTSOF(commands); i++)
                if (streq(arg, commands[i]))
                        return true;
        return false;
}

int client_main(int argc, char **argv) {
        static const struct option options[] = {
                { "url",             required_argument, NULL, 'u' },
                { "mode",            required_argument, NULL, 'm' },
                { "target",          required_argument, NULL, 't' },
                { "current-version", required_argument, NULL, 'c' },
                { "async",           no_argument,       NULL, 'a' },
                { "json",            no_argument,       NULL, 'j' },
                { "help",            no_argument,       NULL, 'h' },
                {}
        };
        const char *url = NULL, *mode = "MANUAL", *target = "latest", *current = NULL, *command = argv[0];
        _cleanup_free_ char *body = NULL;
        char base[CLIENT_MAX_URL_BYTES];
        bool async = false, json = false;
        Answer answer = {};
        long status;
        int c;

        optind = 1;
        while ((c = getopt_long(argc, argv, "u:m:t:c:ajh", options, NULL)) >= 0)
                switch (c) {
                case 'u': url = optarg; break;
                case 'm': mode = optarg; break;
                case 't': target = optarg; break;
                case 'c': current = optarg; break;
                case 'a': async = true; break;
                case 'j': json = true; break;
                case 'h': usage(); return 0;
                default: usage(); return 2;
                }
        if (optind != argc) {
                usage();
                return 2;
        }
        if (base_url(url, base, sizeof(base)) < 0)
                return 2;

        curl_global_init(CURL_GLOBAL_DEFAULT);
        if (streq(command, "upgrade")) {
                body = upgrade_body(mode, target, current);
                status = body ? request(base, "/upgrade", body, async, &answer) : -1;
        } else if (streq(command, "logs"))
                status = request(base, "/upgrade/logs", NULL, false, &answer);
        else if (streq(command, "status"))
                status = request(base, "/upgrade/status", NULL, false, &answer);
        else
                status = request(base, "/health", NULL, false, &answer);

        if (status >= 0) {
                if (streq(command, "logs") && !json && status == 200)
                        print_logs(&answer);
                else
                        print_json(&answer);
        }
        free(answer.data);
        curl_global_cleanup();
        return exit_status_for(status);
}
