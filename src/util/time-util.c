/* Wall-clock time for records and log entries, monotonic time for timers. */
#include <stdio.h>
#include <time.h>

#include "util/time-util.h"

static uint64_t clock_usec(clockid_t id) {
        struct timespec ts;

        (void) clock_gettime(id, &ts);
        return (uint64_t) ts.tv_sec * 1000000ULL + (uint64_t) ts.tv_nsec / 1000ULL;
}

uint64_t now_realtime_usec(void) {
        return clock_usec(CLOCK_REALTIME);
}

uint64_t now_monotonic_usec(void) {
        return clock_usec(CLOCK_MONOTONIC);
}

char *format_rfc3339(uint64_t usec, char buf[static RFC3339_MAX]) {
        time_t sec = (time_t) (usec / 1000000ULL);
        struct tm tm;

        if (!gmtime_r(&sec, &tm)) {
                buf[0] = '\0';
                return buf;
        }
        (void) snprintf(buf, RFC3339_MAX, "%04u-%02u-%02uT%02u:%02u:%02u.%03uZ",
                        (unsigned) (tm.tm_year + 1900) % 10000u, (unsigned) (tm.tm_mon + 1) % 100u,
                        (unsigned) tm.tm_mday % 100u, (unsigned) tm.tm_hour % 100u,
                        (unsigned) tm.tm_min % 100u, (unsigned) tm.tm_sec % 100u,
                        (unsigned) ((usec / 1000ULL) % 1000ULL));
        return buf;
}
