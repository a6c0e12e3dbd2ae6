/* json-c does the parsing; these wrappers add the limits and checks that
 * every document from outside gets. */
#include <errno.h>
#include <string.h>

#include "util/json-util.h"

const char *json_get_string(struct json_object *obj, const char *key) {
        struct json_object *v;

        if (!obj || !json_object_is_type(obj, json_type_object))
                return NULL;
        if (!json_object_object_get_ex(obj, key, &v) || !json_object_is_type(v, json_type_string))
                return NULL;
        return json_object_get_string(v);
}

struct json_object *json_parse_strict(const char *data, size_t len, const char **ret_error) {
        struct json_tokener *tok;
        struct json_object *obj;
        enum json_tokener_error jerr;
        size_t parsed;

        *ret_error = NULL;
        if (len > INT32_MAX || memchr(data, '\0', len)) {
                *ret_error = "document contains NUL bytes or is too large";
                return NULL;
        }

        tok = json_tokener_new_ex(JSON_MAX_DEPTH);
        if (!tok) {
                *ret_error = "out of memory";
                return NULL;
        }
        /* Strict JSON, and valid UTF-8 only: text from outside ends up in
         * answers and logs, which must stay valid JSON and readable. */
        json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);

        obj = json_tokener_parse_ex(tok, data, (int) len);
        jerr = json_tokener_get_error(tok);
        parsed = json_tokener_get_parse_end(tok);
        if (jerr == json_tokener_continue) {
                /* A bare number or literal ("null", "42") is only complete
                 * once something follows it: give the tokener the end. */
                obj = json_tokener_parse_ex(tok, " ", 1);
                jerr = json_tokener_get_error(tok);
                parsed = len;
        }
        json_tokener_free(tok);

        if (jerr != json_tokener_success) {
                json_object_put(obj);
                *ret_error = jerr == json_tokener_continue ? "document is truncated"
                                                           : json_tokener_error_desc(jerr);
                return NULL;
        }
        if (!obj) {
                /* json-c represents a document that is just "null" as NULL. */
                *ret_error = "document is null";
                return NULL;
        }

        /* Only whitespace may follow the document. */
        for (; parsed < len; parsed++)
                if (!strchr(" \t\r\n", data[parsed])) {
                        json_object_put(obj);
                        *ret_error = "unexpected data after the JSON document";
                        return NULL;
                }
        return obj;
}

int json_add_string(struct json_object *obj, const char *key, const char *value) {
        struct json_object *s = json_object_new_string(value ? value : "");

        if (!s)
                return -ENOMEM;
        if (json_object_object_add(obj, key, s) < 0) {
                json_object_put(s);
                return -ENOMEM;
        }
        return 0;
}
