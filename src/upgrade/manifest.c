/* Reads the runtime manifest: which image repository to pull, what the
 * container is called and where its health check answers.  These strings
 * later become arguments to Docker and parts of a URL, so each must have
 * the shape Docker itself accepts, checked here once, before any use.
 * Keys this version does not know are ignored. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "upgrade/manifest.h"
#include "util/json-util.h"
#include "util/macros.h"

#define PORT_MAX_DIGITS 5

_printf_(2, 3) static int manifest_error(char **ret_error, const char *format, ...) {
        va_list ap;
        char *m = NULL;
        int r;

        va_start(ap, format);
        r = vasprintf(&m, format, ap);
        va_end(ap);
        if (r < 0)
                return -ENOMEM;

        if (ret_error)
                *ret_error = m;
        else
                free(m);
        return -EINVAL;
}

static bool is_lower_alnum(char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* Docker's path component: lowercase alphanumeric runs joined by one of
 * ".", "_", "__" or any number of "-". */
static bool path_component_is_valid(const char *s, size_t n) {
        size_t i = 0;

        for (;;) {
                size_t start = i;

                while (i < n && is_lower_alnum(s[i]))
                        i++;
                if (i == start)
                        return false;
                if (i == n)
                        return true;

                if (s[i] == '.')
                        i++;
                else if (s[i] == '_')
                        i += (i + 1 < n && s[i + 1] == '_') ? 2 : 1;
                else if (s[i] == '-')
                        while (i < n && s[i] == '-')
                                i++;
                else
                        return false;
        }
}

static bool port_is_valid(const char *s, size_t n) {
        unsigned v = 0;

        if (n == 0 || n > PORT_MAX_DIGITS || s[0] == '0')
                return false;
        for (size_t i = 0; i < n; i++) {
                if (s[i] < '0' || s[i] > '9')
                        return false;
                v = v * 10 + (unsigned) (s[i] - '0');
        }
        return v <= 65535;
}

/* A registry host: lowercase DNS labels, optionally ":port". */
static bool registry_is_valid(const char *s, size_t n) {
        const char *colon = memchr(s, ':', n);
        size_t host_len = colon ? (size_t) (colon - s) : n;
        size_t label = 0;

        if (host_len == 0)
                return false;
        for (size_t i = 0; i <= host_len; i++) {
                if (i == host_len || s[i] == '.') {
                        if (label == 0 || s[i - 1] == '-' || s[i - label] == '-')
                                return false;
                        label = 0;
                } else if (is_lower_alnum(s[i]) || s[i] == '-')
                        label++;
                else
                        return false;
        }

        return !colon || port_is_valid(colon + 1, n - host_len - 1);
}

/* "payramapp/payram", "ghcr.io/payram/payram", "localhost:5000/payram".  A
 * tag or digest is refused: the updater appends the tag itself. */
bool manifest_repo_is_valid(const char *s) {
        size_t len = strnlen(s, MANIFEST_MAX_REPO_BYTES + 1);
        const char *slash = strchr(s, '/');

        if (len == 0 || len > MANIFEST_MAX_REPO_BYTES)
                return false;

        /* As in Docker: a first component with a dot or a port, or
         * "localhost", names a registry, not a namespace. */
        if (slash) {
                size_t n = (size_t) (slash - s);
                bool is_host = memchr(s, '.', n) || memchr(s, ':', n) ||
                               (n == strlen("localhost") && strncmp(s, "localhost", n) == 0);

                if (is_host) {
                        if (!registry_is_valid(s, n))
                                return false;
                        s = slash + 1;
                }
        }

        for (;;) {
                size_t n = strcspn(s, "/");

                if (!path_component_is_valid(s, n))
                        return false;
                if (s[n] == '\0')
                        return true;
                s += n + 1;
        }
}

/* Docker's container name rule, with a length bound. */
bool manifest_container_name_is_valid(const char *s) {
        size_t i;

        for (i = 0; s[i]; i++) {
                char c = s[i];
                bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');

                if (i >= MANIFEST_MAX_NAME_BYTES)
                        return false;
                if (!alnum && (i == 0 || !strchr("_.-", c)))
                        return false;
        }
        return i > 0;
}

/* An absolute URL path of visible ASCII: it is appended to the container's
 * address as is. */
bool manifest_endpoint_is_valid(const char *s) {
        size_t i;

        if (s[0] != '/')
                return false;
        for (i = 0; s[i]; i++)
                if (i >= MANIFEST_MAX_ENDPOINT_BYTES || (unsigned char) s[i] <= 0x20 ||
                    (unsigned char) s[i] >= 0x7f)
                        return false;
        return true;
}

/* The string at OBJ.KEY, where OBJ is the top-level member SECTION.  *ret
 * is NULL when the section or key is absent and REQUIRED is false. */
static int get_member(struct json_object *root, const char *section, const char *key, bool required,
                      const char **ret, char **ret_error) {
        struct json_object *obj, *v;

        *ret = NULL;
        if (!json_object_object_get_ex(root, section, &obj)) {
                if (!required)
                        return 0;
                return manifest_error(ret_error, "%s.%s is missing", section, key);
        }
        if (!json_object_is_type(obj, json_type_object))
                return manifest_error(ret_error, "%s is not an object", section);

        if (!json_object_object_get_ex(obj, key, &v)) {
                if (!required)
                        return 0;
                return manifest_error(ret_error, "%s.%s is missing", section, key);
        }
        if (!json_object_is_type(v, json_type_string))
                return manifest_error(ret_error, "%s.%s is not a string", section, key);
        if (strlen(json_object_get_string(v)) != (size_t) json_object_get_string_len(v))
                return manifest_error(ret_error, "%s.%s contains a NUL byte", section, key);

        *ret = json_object_get_string(v);
        return 0;
}

static int manifest_parse_document(struct json_object *root, Manifest *m, char **ret_error) {
        const char *repo, *name, *endpoint;
        int r;

        if (!json_object_is_type(root, json_type_object))
                return manifest_error(ret_error, "manifest is not a JSON object");

        r = get_member(root, "image", "repo", true, &repo, ret_error);
        if (r < 0)
                return r;
        if (!manifest_repo_is_valid(repo))
                return manifest_error(ret_error, "image.repo is not a Docker repository name");

        r = get_member(root, "defaults", "container_name", false, &name, ret_error);
        if (r < 0)
                return r;
        if (name && !manifest_container_name_is_valid(name))
                return manifest_error(ret_error, "defaults.container_name is not a Docker container name");

        r = get_member(root, "health_check", "endpoint", true, &endpoint, ret_error);
        if (r < 0)
                return r;
        if (!manifest_endpoint_is_valid(endpoint))
                return manifest_error(ret_error,
                                      "health_check.endpoint is not an absolute path of visible characters");

        m->image_repo = strdup(repo);
        m->container_name = name ? strdup(name) : NULL;
        m->health_endpoint = strdup(endpoint);
        if (!m->image_repo || (name && !m->container_name) || !m->health_endpoint)
                return -ENOMEM;
        return 0;
}

int manifest_parse(const char *data, size_t len, Manifest *ret, char **ret_error) {
        _cleanup_json_ struct json_object *root = NULL;
        Manifest m = {};
        const char *jerr;
        int r;

        *ret = (Manifest) {};
        if (ret_error)
                *ret_error = NULL;

        root = json_parse_strict(data, len, &jerr);
        if (!root)
                return manifest_error(ret_error, "manifest is not valid JSON: %s",
                                      jerr ? jerr : "unknown error");

        r = manifest_parse_document(root, &m, ret_error);
        if (r < 0) {
                manifest_done(&m);
                return r;
        }

        *ret = m;
        return 0;
}

void manifest_done(Manifest *m) {
        if (!m)
                return;

        free(m->image_repo);
        free(m->container_name);
        free(m->health_endpoint);
        *m = (Manifest) {};
}
