/* Strict decimal parsing for configuration values and protocol fields. */
#include <errno.h>

#include "util/parse-util.h"

int safe_atou64_max(const char *s, uint64_t max, uint64_t *ret) {
        uint64_t v = 0;

        if (!s || !*s)
                return -EINVAL;

        for (; *s; s++) {
                unsigned d;

                if (*s < '0' || *s > '9')
                        return -EINVAL;
                d = (unsigned) (*s - '0');
                if (v > (UINT64_MAX - d) / 10)
                        return -ERANGE;
                v = v * 10 + d;
        }

        if (v > max)
                return -ERANGE;
        *ret = v;
        return 0;
}
