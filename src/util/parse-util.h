/* Number parsing that refuses what atoi/strtol would quietly accept. */
#pragma once

#include <stdint.h>

/* Parses a non-empty string of ASCII digits into *ret.  Signs, spaces,
 * other bases and trailing bytes are -EINVAL; a value above MAX is -ERANGE. */
int safe_atou64_max(const char *s, uint64_t max, uint64_t *ret);

static inline int safe_atou64(const char *s, uint64_t *ret) {
        return safe_atou64_max(s, UINT64_MAX, ret);
}
