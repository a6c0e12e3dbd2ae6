/* Planning: from a request (mode, target, current version) and the policy
 * to the version to install, or the reason it is refused.  Pure logic, no
 * I/O, so every rule is tested as a table. */
#pragma once

#include <stdbool.h>

#include "upgrade/job.h"
#include "upgrade/policy.h"

typedef struct PlanRequest {
        JobMode mode;
        const char *requested_target; /* "latest" or a version tag */
        const char *current_version;  /* NULL or "" when unknown */
} PlanRequest;

typedef struct PlanResult {
        char *resolved_target;  /* set whenever a target could be resolved, even when refused */
        const char *error_code; /* NULL on success; static string otherwise */
        char *error_message;    /* NULL on success */
        bool unpublished;       /* an explicit target the policy does not list (MANUAL may go on) */
} PlanResult;

/* POLICY is NULL when it could not be fetched or parsed (allowed only in
 * MANUAL mode with an explicit target).  Returns 0 when a result was
 * produced (check error_code), -ENOMEM on allocation failure. */
int plan_resolve(const PlanRequest *req, const Policy *policy, PlanResult *ret);
void plan_result_done(PlanResult *r);
