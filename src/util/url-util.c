/* Redacting URLs for messages.  Policy and manifest URLs may carry
 * credentials ("https://user:password@host/...") or tokens in the query
 * string; every message that shows a URL (job logs, the journal, HTTP
 * answers, configuration errors) shows it through url_redact(), the one
 * place that decides what a secret looks like. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "util/url-util.h"

/* The pieces of a URL that may carry a secret, as offsets into it.  By
 * RFC 3986 the authority ends at the first '/', '?' or '#' and the userinfo
 * is everything in it up to the last '@'.  But a password written with an
 * unencoded '/', '?' or '#' hides its '@' from that rule, and such a URL
 * is exactly the kind that fails and gets shown in an error.  So the
 * userinfo is taken to run to the last '@' anywhere in the URL: a path or
 * query that merely contains an '@' is over-redacted, never a password
 * under-redacted. */
typedef struct UrlSecrets {
        size_t userinfo_begin, userinfo_end; /* includes the '@' */
        size_t query_begin, query_end;       /* includes the '?' */
        size_t fragment_begin, fragment_end; /* includes the '#' */
} UrlSecrets;

static size_t url_scheme_length(const char *url) {
        size_t i = 0;

        if (!((url[0] >= 'a' && url[0] <= 'z') || (url[0] >= 'A' && url[0] <= 'Z')))
                return 0;
        while (url[i] && (strchr("+.-", url[i]) || (url[i] >= '0' && url[i] <= '9') ||
                          (url[i] >= 'a' && url[i] <= 'z') || (url[i] >= 'A' && url[i] <= 'Z')))
                i++;
        return strncmp(url + i, "://", 3) == 0 ? i : 0;
}

static void url_find_secrets(const char *url, UrlSecrets *ret) {
        size_t n = strlen(url), scheme = url_scheme_length(url), path;

        *ret = (UrlSecrets) {};

        if (scheme > 0) {
                size_t authority = scheme + 3;
                const char *at = strrchr(url + authority, '@');

                if (at) {
                        ret->userinfo_begin = authority;
                        ret->userinfo_end = (size_t) (at - url) + 1;
                }
                path = ret->userinfo_end > 0 ? ret->userinfo_end : authority;
                path += strcspn(url + path, "/?#");
        } else
                path = 0;

        ret->fragment_begin = ret->fragment_end = path + strcspn(url + path, "#");
        if (ret->fragment_begin < n)
                ret->fragment_end = n;
        ret->query_begin = ret->query_end = path + strcspn(url + path, "?#");
        if (ret->query_begin < ret->fragment_begin)
                ret->query_end = ret->fragment_begin;
}

bool url_has_secrets(const char *url) {
        UrlSecrets s;

        if (!url)
                return false;
        url_find_secrets(url, &s);
        return s.userinfo_end > s.userinfo_begin || s.query_end > s.query_begin ||
               s.fragment_end > s.fragment_begin;
}

char *url_redact(const char *url) {
        UrlSecrets s;
        char *copy, *p;

        if (!url)
                return NULL;
        url_find_secrets(url, &s);

        /* Each redacted part becomes "***" plus its delimiter. */
        copy = malloc(strlen(url) + 3 * strlen("***@") + 1);
        if (!copy)
                return NULL;

        p = mempcpy(copy, url, s.userinfo_begin);
        if (s.userinfo_end > s.userinfo_begin)
                p = mempcpy(p, "***@", 4);
        p = mempcpy(p, url + s.userinfo_end, s.query_begin - s.userinfo_end);
        if (s.query_end > s.query_begin)
                p = mempcpy(p, "?***", 4);
        if (s.fragment_end > s.fragment_begin)
                p = mempcpy(p, "#***", 4);
        *p = '\0';
        return copy;
}

