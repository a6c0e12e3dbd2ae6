/* Reads the upgrade policy Payram publishes (latest, releases, breakpoints)
 * into a Policy.  The document comes from the network, so every field is
 * checked for type, shape and size before anything else looks at it, and
 * an error names the field ("releases[3] is not a string").  Keys this
 * version does not know (schema_version, dashboard_max, ...) are ignored so
 * that the publisher can add fields without breaking deployed updaters. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "upgrade/policy.h"
#include "upgrade/version.h"
#include "util/json-util.h"

/* Stores a formatted message in *ret_error and returns -EINVAL, or -ENOMEM
 * when even the message cannot be allocated. */
_printf_(2, 3) static int policy_error(char **ret_error, const char *format, ...) {
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

/* JSON strings may carry \u0000; as C strings they would be cut short
 * silently ("3.3.0\u0000x" read as "3.3.0"), so they are refused. */
static bool string_has_nul(struct json_object *v) {
        return strlen(json_object_get_string(v)) != (size_t) json_object_get_string_len(v);
}

/* Reasons and links end up in HTTP answers, log files and the journal: one
 * line of printable text, nothing that could forge another log line. */
/* True for the UTF-8 encoding at S of a character that changes how a
 * line reads in a terminal or log viewer: C1 controls (U+0080-U+009F), the
 * line and paragraph separators (U+2028, U+2029) and the bidirectional
 * marks and overrides (U+200E, U+200F, U+202A-U+202E, U+2066-U+2069).
 * The JSON parser has already checked that the text is valid UTF-8. */
static bool is_disguising_character(const unsigned char *s) {
        if (s[0] == 0xc2 && s[1] >= 0x80 && s[1] <= 0x9f)
                return true;
        if (s[0] != 0xe2)
                return false;
        if (s[1] == 0x80)
                return s[2] == 0x8e || s[2] == 0x8f || (s[2] >= 0xa8 && s[2] <= 0xae);
        return s[1] == 0x81 && s[2] >= 0xa6 && s[2] <= 0xa9;
}

/* Reason and docs end up in job logs and HTTP answers: one plain line,
 * nothing that could forge or disguise a log entry. */
static bool text_is_one_line(const char *s) {
        for (const unsigned char *p = (const unsigned char *) s; *p; p++)
                if (*p < 0x20 || *p == 0x7f || is_disguising_character(p))
                        return false;
        return true;
}

static bool docs_url_is_valid(const char *s) {
        const char *rest;

        if (strncmp(s, "https://", 8) == 0)
                rest = s + 8;
        else if (strncmp(s, "http://", 7) == 0)
                rest = s + 7;
        else
                return false;

        if (*rest == '\0' || *rest == '/')
                return false;
        for (; *rest; rest++)
                if ((unsigned char) *rest <= 0x20 || *rest == 0x7f)
                        return false;
        return true;
}

/* A version that is also usable as an image tag.  Echoes the value in the
 * message only when it is a tag, i.e. short and printable. */
static int check_version_field(const char *field, const char *value, char **ret_error) {
        bool is_version = version_parse(value, NULL) >= 0, is_tag = version_is_valid_tag(value);

        if (is_version && is_tag)
                return 0;
        if (is_version) /* "1.2.3+build": semver allows "+", Docker tags do not. */
                return policy_error(ret_error, "%s is not usable as an image tag", field);
        if (is_tag)
                return policy_error(ret_error, "%s is not a semantic version: %s", field, value);
        return policy_error(ret_error, "%s is not a semantic version", field);
}

static int parse_latest(struct json_object *root, Policy *p, char **ret_error) {
        struct json_object *v;
        int r;

        if (!json_object_object_get_ex(root, "latest", &v))
                return policy_error(ret_error, "latest is missing");
        if (!json_object_is_type(v, json_type_string))
                return policy_error(ret_error, "latest is not a string");
        if (string_has_nul(v))
                return policy_error(ret_error, "latest contains a NUL byte");

        r = check_version_field("latest", json_object_get_string(v), ret_error);
        if (r < 0)
                return r;

        p->latest = strdup(json_object_get_string(v));
        return p->latest ? 0 : -ENOMEM;
}

static int parse_releases(struct json_object *root, Policy *p, char **ret_error) {
        struct json_object *arr;
        size_t n;

        if (!json_object_object_get_ex(root, "releases", &arr))
                return policy_error(ret_error, "releases is missing");
        if (!json_object_is_type(arr, json_type_array))
                return policy_error(ret_error, "releases is not an array");

        n = json_object_array_length(arr);
        if (n > POLICY_MAX_RELEASES)
                return policy_error(ret_error, "releases has %zu entries, more than %d", n,
                                    POLICY_MAX_RELEASES);

        p->releases = calloc(n ? n : 1, sizeof(char *));
        if (!p->releases)
                return -ENOMEM;

        for (size_t i = 0; i < n; i++) {
                struct json_object *e = json_object_array_get_idx(arr, i);
                const char *s;

                if (!json_object_is_type(e, json_type_string))
                        return policy_error(ret_error, "releases[%zu] is not a string", i);
                s = json_object_get_string(e);
                if (string_has_nul(e) || !version_is_valid_tag(s))
                        return policy_error(ret_error, "releases[%zu] is not a valid image tag", i);

                p->releases[i] = strdup(s);
                if (!p->releases[i])
                        return -ENOMEM;
                p->n_releases = i + 1;
        }
        return 0;
}

/* A bounded, one-line string member KEY of breakpoints[I]: *ret is NULL
 * when absent and optional. */
static int get_text(struct json_object *obj, size_t i, const char *key, bool required, const char **ret,
                    char **ret_error) {
        struct json_object *v;
        const char *s;

        *ret = NULL;
        if (!json_object_object_get_ex(obj, key, &v)) {
                if (required)
                        return policy_error(ret_error, "breakpoints[%zu].%s is missing", i, key);
                return 0;
        }
        if (!json_object_is_type(v, json_type_string))
                return policy_error(ret_error, "breakpoints[%zu].%s is not a string", i, key);
        if (string_has_nul(v))
                return policy_error(ret_error, "breakpoints[%zu].%s contains a NUL byte", i, key);

        s = json_object_get_string(v);
        if (strnlen(s, POLICY_MAX_TEXT_BYTES + 1) > POLICY_MAX_TEXT_BYTES)
                return policy_error(ret_error, "breakpoints[%zu].%s is longer than %d bytes", i, key,
                                    POLICY_MAX_TEXT_BYTES);
        if (!text_is_one_line(s))
                return policy_error(ret_error,
                                    "breakpoints[%zu].%s contains control or direction characters", i, key);

        *ret = s;
        return 0;
}

static int parse_breakpoint(struct json_object *obj, size_t i, Breakpoint *ret, char **ret_error) {
        const char *version, *reason, *docs;
        char field[64];
        int r;

        if (!json_object_is_type(obj, json_type_object))
                return policy_error(ret_error, "breakpoints[%zu] is not an object", i);

        r = get_text(obj, i, "version", true, &version, ret_error);
        if (r < 0)
                return r;
        (void) snprintf(field, sizeof(field), "breakpoints[%zu].version", i);
        r = check_version_field(field, version, ret_error);
        if (r < 0)
                return r;

        r = get_text(obj, i, "reason", true, &reason, ret_error);
        if (r < 0)
                return r;
        if (*reason == '\0')
                return policy_error(ret_error, "breakpoints[%zu].reason is empty", i);

        r = get_text(obj, i, "docs", false, &docs, ret_error);
        if (r < 0)
                return r;
        if (docs && !docs_url_is_valid(docs))
                return policy_error(ret_error, "breakpoints[%zu].docs is not an http(s) URL", i);

        ret->version = strdup(version);
        ret->reason = strdup(reason);
        ret->docs = docs ? strdup(docs) : NULL;
        if (!ret->version || !ret->reason || (docs && !ret->docs))
                return -ENOMEM;
        return 0;
}

/* Breakpoints are optional: the first published policy had none. */
static int parse_breakpoints(struct json_object *root, Policy *p, char **ret_error) {
        struct json_object *arr;
        size_t n;

        if (!json_object_object_get_ex(root, "breakpoints", &arr))
                return 0;
        if (!json_object_is_type(arr, json_type_array))
                return policy_error(ret_error, "breakpoints is not an array");

        n = json_object_array_length(arr);
        if (n > POLICY_MAX_BREAKPOINTS)
                return policy_error(ret_error, "breakpoints has %zu entries, more than %d", n,
                                    POLICY_MAX_BREAKPOINTS);
        if (n == 0)
                return 0;

        p->breakpoints = calloc(n, sizeof(Breakpoint));
        if (!p->breakpoints)
                return -ENOMEM;

        for (size_t i = 0; i < n; i++) {
                struct json_object *e = json_object_array_get_idx(arr, i);
                int r;

                /* Counted before filling so that policy_done() frees a half-built entry. */
                p->n_breakpoints = i + 1;
                r = parse_breakpoint(e, i, &p->breakpoints[i], ret_error);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int policy_parse_document(struct json_object *root, Policy *p, char **ret_error) {
        int r;

        if (!json_object_is_type(root, json_type_object))
                return policy_error(ret_error, "policy is not a JSON object");

        r = parse_latest(root, p, ret_error);
        if (r < 0)
                return r;
        r = parse_releases(root, p, ret_error);
        if (r < 0)
                return r;
        return parse_breakpoints(root, p, ret_error);
}

int policy_parse(const char *data, size_t len, Policy *ret, char **ret_error) {
        _cleanup_json_ struct json_object *root = NULL;
        Policy p = {};
        const char *jerr;
        int r;

        *ret = (Policy) {};
        if (ret_error)
                *ret_error = NULL;

        root = json_parse_strict(data, len, &jerr);
        if (!root)
                return policy_error(ret_error, "policy is not valid JSON: %s",
                                    jerr ? jerr : "unknown error");

        r = policy_parse_document(root, &p, ret_error);
        if (r < 0) {
                policy_done(&p);
                return r;
        }

        *ret = p;
        return 0;
}

void policy_done(Policy *p) {
        if (!p)
                return;

        free(p->latest);
        for (size_t i = 0; i < p->n_releases; i++)
                free(p->releases[i]);
        free(p->releases);
        for (size_t i = 0; i < p->n_breakpoints; i++) {
                free(p->breakpoints[i].version);
                free(p->breakpoints[i].reason);
                free(p->breakpoints[i].docs);
        }
        free(p->breakpoints);
        *p = (Policy) {};
}
