/* Semantic versions (semver.org 2.0) and Docker tags.  Breakpoint checks
 * depend on these comparisons, so the parser is strict: exactly three
 * numeric parts without leading zeros, an optional lowercase "v" in front
 * (Payram publishes "3.3.0", people type "v3.3.0"), and anything else is
 * -EINVAL rather than a best guess.  Numbers too large for 64 bits are
 * refused too: a version we cannot hold is a version we cannot compare. */
#include <errno.h>
#include <string.h>

#include "upgrade/version.h"
#include "util/macros.h"

#define DOCKER_TAG_MAX_BYTES 128

static size_t min_size(size_t a, size_t b) {
        return a < b ? a : b;
}

static bool is_digit(char c) {
        return c >= '0' && c <= '9';
}

static bool is_ident_char(char c) {
        return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-';
}

/* One numeric part at *p: "0" or a digit run without a leading zero. */
static int parse_number(const char **p, uint64_t *ret) {
        const char *s = *p;
        uint64_t v = 0;

        if (!is_digit(*s))
                return -EINVAL;
        if (*s == '0' && is_digit(s[1]))
                return -EINVAL;

        for (; is_digit(*s); s++) {
                unsigned d = (unsigned) (*s - '0');

                if (v > (UINT64_MAX - d) / 10)
                        return -EINVAL;
                v = v * 10 + d;
        }

        *p = s;
        *ret = v;
        return 0;
}

static bool ident_is_numeric(const char *s, size_t n) {
        for (size_t i = 0; i < n; i++)
                if (!is_digit(s[i]))
                        return false;
        return true;
}

/* Checks a dot-separated identifier list starting at *p and ending at one
 * of the bytes in END (or NUL).  Prerelease identifiers that are numeric
 * may not carry leading zeros; build identifiers may. */
static int parse_identifiers(const char **p, const char *end, bool prerelease) {
        const char *s = *p;

        for (;;) {
                size_t n = 0;

                while (is_ident_char(s[n]))
                        n++;
                if (n == 0)
                        return -EINVAL;
                if (prerelease && n > 1 && s[0] == '0' && ident_is_numeric(s, n))
                        return -EINVAL;
                s += n;

                if (*s != '.')
                        break;
                s++;
        }

        if (*s != '\0' && !strchr(end, *s))
                return -EINVAL;
        *p = s;
        return 0;
}

int version_parse(const char *s, Version *ret) {
        Version v = {};
        const char *p, *pre = NULL;
        int r;

        if (!s || strnlen(s, VERSION_MAX_BYTES) >= VERSION_MAX_BYTES)
                return -EINVAL;

        p = s[0] == 'v' ? s + 1 : s;

        r = parse_number(&p, &v.major);
        if (r < 0 || *p++ != '.')
                return -EINVAL;
        r = parse_number(&p, &v.minor);
        if (r < 0 || *p++ != '.')
                return -EINVAL;
        r = parse_number(&p, &v.patch);
        if (r < 0)
                return -EINVAL;

        if (*p == '-') {
                pre = ++p;
                r = parse_identifiers(&p, "+", true);
                if (r < 0)
                        return r;
                /* Fits: the whole string is shorter than the buffer. */
                memcpy(v.prerelease, pre, (size_t) (p - pre));
                v.prerelease[p - pre] = '\0';
        }

        if (*p == '+') {
                p++;
                r = parse_identifiers(&p, "", false);
                if (r < 0)
                        return r;
        }

        if (*p != '\0')
                return -EINVAL;

        if (ret)
                *ret = v;
        return 0;
}

static int compare_u64(uint64_t a, uint64_t b) {
        return (a > b) - (a < b);
}

/* Numeric identifiers have no leading zeros, so the longer one is larger
 * and equal lengths compare as strings: no overflow for any length. */
static int compare_identifier(const char *a, size_t na, const char *b, size_t nb) {
        bool a_num = ident_is_numeric(a, na), b_num = ident_is_numeric(b, nb);
        int c;

        if (a_num && b_num) {
                if (na != nb)
                        return na < nb ? -1 : 1;
                c = memcmp(a, b, na);
                return (c > 0) - (c < 0);
        }
        if (a_num != b_num)
                return a_num ? -1 : 1;

        c = memcmp(a, b, min_size(na, nb));
        if (c != 0)
                return (c > 0) - (c < 0);
        return compare_u64(na, nb);
}

static int compare_prerelease(const char *a, const char *b) {
        /* A version without a prerelease ranks above any prerelease of it. */
        if (!*a || !*b)
                return (!*a) - (!*b);

        for (;;) {
                size_t na = strcspn(a, "."), nb = strcspn(b, ".");
                int c = compare_identifier(a, na, b, nb);

                if (c != 0)
                        return c;
                a += na;
                b += nb;
                if (!*a || !*b)
                        return (*a != '\0') - (*b != '\0');
                a++;
                b++;
        }
}

int version_compare(const Version *a, const Version *b) {
        int c;

        c = compare_u64(a->major, b->major);
        if (c != 0)
                return c;
        c = compare_u64(a->minor, b->minor);
        if (c != 0)
                return c;
        c = compare_u64(a->patch, b->patch);
        if (c != 0)
                return c;
        return compare_prerelease(a->prerelease, b->prerelease);
}

int version_compare_strings(const char *a, const char *b, int *ret) {
        Version va, vb;

        if (version_parse(a, &va) < 0 || version_parse(b, &vb) < 0)
                return -EINVAL;
        *ret = version_compare(&va, &vb);
        return 0;
}

static bool is_tag_char(char c, bool first) {
        if (is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_')
                return true;
        return !first && (c == '.' || c == '-');
}

bool version_is_valid_tag(const char *s) {
        size_t i;

        if (!s)
                return false;
        for (i = 0; s[i]; i++) {
                if (i >= DOCKER_TAG_MAX_BYTES || !is_tag_char(s[i], i == 0))
                        return false;
        }
        return i > 0;
}
