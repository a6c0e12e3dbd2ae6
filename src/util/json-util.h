/* Thin helpers over json-c for the shapes this service reads and writes. */
#pragma once

#include <stdbool.h>
#include <json-c/json.h>

#include "util/macros.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(struct json_object *, json_object_put);
#define _cleanup_json_ _cleanup_(json_object_putp)

/* The string member KEY of OBJ, or NULL when absent or not a string. */
const char *json_get_string(struct json_object *obj, const char *key);

/* Parses exactly LEN bytes as one JSON document; trailing garbage, NUL bytes
 * and nesting deeper than JSON_MAX_DEPTH fail.  Returns NULL on error with a
 * short reason in *ret_error (static storage). */
struct json_object *json_parse_strict(const char *data, size_t len, const char **ret_error);

#define JSON_MAX_DEPTH 32

/* Adds KEY with a copy of VALUE ("" for NULL).  Returns -ENOMEM on failure. */
int json_add_string(struct json_object *obj, const char *key, const char *value);
