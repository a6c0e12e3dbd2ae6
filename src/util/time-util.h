/* Clock readings and their text form. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define RFC3339_MAX sizeof("YYYY-MM-DDTHH:MM:SS.mmmZ")

uint64_t now_realtime_usec(void);
uint64_t now_monotonic_usec(void);

/* Formats USEC since the epoch as RFC 3339 UTC with milliseconds, e.g.
 * 2026-12-03T16:37:13.123Z.  BUF must hold RFC3339_MAX bytes. */
char *format_rfc3339(uint64_t usec, char buf[static RFC3339_MAX]);
