/* The upgrade policy that Payram publishes: the latest version, the list of
 * releases and the breakpoints a dashboard upgrade may not cross. */
#pragma once

#include <stddef.h>

#include "util/macros.h"

#define POLICY_MAX_RELEASES    4096
#define POLICY_MAX_BREAKPOINTS 256
#define POLICY_MAX_TEXT_BYTES  4096 /* reason, docs */

typedef struct Breakpoint {
        char *version;
        char *reason;
        char *docs;   /* NULL when absent */
} Breakpoint;

typedef struct Policy {
        char *latest;
        char **releases;   /* n_releases strings, as published (not sorted) */
        size_t n_releases;
        Breakpoint *breakpoints;
        size_t n_breakpoints;
} Policy;

/* Parses and validates a policy document.  Unknown keys are ignored.  On
 * failure returns -EINVAL (or -ENOMEM) and a message in *ret_error saying
 * which field is wrong. */
int policy_parse(const char *data, size_t len, Policy *ret, char **ret_error);
void policy_done(Policy *p);
