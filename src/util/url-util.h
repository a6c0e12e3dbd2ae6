/* What part of a URL may be shown in a message. */
#pragma once

#include <stdbool.h>

/* Copies URL with anything that may be a secret replaced: a
 * "user:password@" part becomes "***@" (up to the last '@' of the URL, see
 * url-util.c), the query string "?***" and a fragment "#***".  Returns NULL
 * on allocation failure (or for NULL). */
char *url_redact(const char *url);

/* True when URL has userinfo, a query string or a fragment. */
bool url_has_secrets(const char *url);
