/* Planning: turns a request and the policy into the version to install or
 * the reason it is refused.  Pure logic, so every rule is a table test.
 *
 * MANUAL mode is the operator taking responsibility: any well-formed tag,
 * breakpoints ignored, the policy needed only to resolve "latest".
 *
 * DASHBOARD mode fails closed.  Beyond the breakpoint rules of the
 * contract (a target that is a breakpoint, or that lies past one seen from
 * a known current version, needs a manual upgrade), it also refuses:
 *
 *  - a target that is not a semantic version (INVALID_TARGET): a breakpoint
 *    check cannot be made against a tag such as "nightly";
 *  - an explicit target that is not among the policy's releases
 *    (INVALID_TARGET): the dashboard only offers published versions, so
 *    anything else is a mistake or a forged request.  "latest" is exempt:
 *    it is the publisher's own choice;
 *  - a current version that cannot be compared (MANUAL_UPGRADE_REQUIRED):
 *    the target is fine but whether a breakpoint lies between cannot be
 *    known, so an operator has to decide;
 *  - a downgrade (MANUAL_UPGRADE_REQUIRED): Payram migrates its database
 *    forward on start, and an older release may not run on the migrated
 *    schema.  Re-installing the current version is allowed. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "upgrade/plan.h"
#include "upgrade/version.h"

/* Refuses with CODE and a formatted message. */
_printf_(3, 4) static int plan_refuse(PlanResult *r, const char *code, const char *format, ...) {
        va_list ap;
        int n;

        va_start(ap, format);
        n = vasprintf(&r->error_message, format, ap);
        va_end(ap);
        if (n < 0) {
                r->error_message = NULL;
                return -ENOMEM;
        }

        r->error_code = code;
        return 0;
}

/* Strings from the request are echoed only when they are tags: short and
 * printable. */
static const char *printable(const char *s) {
        return version_is_valid_tag(s) ? s : "(not shown)";
}

static int refuse_breakpoint(PlanResult *r, const char *prefix, const Breakpoint *bp) {
        return plan_refuse(r, JOB_ERROR_MANUAL_UPGRADE_REQUIRED, "%s: %s%s%s", prefix, bp->reason,
                           bp->docs ? " See: " : "", strempty(bp->docs));
}

/* The release as the policy spells it ("3.3.0" for a request of
 * "v3.3.0"), or NULL when the policy does not list it. */
static const char *policy_find_release(const Policy *policy, const Version *target) {
        for (size_t i = 0; i < policy->n_releases; i++) {
                Version v;

                if (version_parse(policy->releases[i], &v) >= 0 && version_compare(&v, target) == 0)
                        return policy->releases[i];
        }
        return NULL;
}

static bool policy_lists_release(const Policy *policy, const Version *target) {
        return policy_find_release(policy, target);
}

/* A breakpoint that does not parse cannot be checked: the policy is bad.
 * policy_parse() already refuses these; this guards hand-built policies. */
static int parse_breakpoints(const Policy *policy, Version *versions, PlanResult *r) {
        for (size_t i = 0; i < policy->n_breakpoints; i++)
                if (version_parse(policy->breakpoints[i].version, &versions[i]) < 0)
                        return plan_refuse(r, JOB_ERROR_POLICY_INVALID,
                                           "Breakpoint %s in the upgrade policy is not a semantic version",
                                           printable(policy->breakpoints[i].version));
        return 0;
}

/* The lowest breakpoint B with CURRENT < B <= TARGET, or -1. */
static ssize_t lowest_crossed(const Policy *policy, const Version *bps, const Version *current,
                              const Version *target) {
        ssize_t best = -1;

        for (size_t i = 0; i < policy->n_breakpoints; i++) {
                if (version_compare(current, &bps[i]) >= 0 || version_compare(&bps[i], target) > 0)
                        continue;
                if (best < 0 || version_compare(&bps[i], &bps[best]) < 0)
                        best = (ssize_t) i;
        }
        return best;
}

static int check_from_current(const PlanRequest *req, const Policy *policy, const Version *bps,
                              const Version *target, PlanResult *r) {
        _cleanup_free_ char *prefix = NULL;
        Version current;
        ssize_t i;

        if (version_parse(req->current_version, &current) < 0)
                return plan_refuse(r, JOB_ERROR_MANUAL_UPGRADE_REQUIRED,
                                   "Dashboard upgrades need a comparable current version; %s is not a "
                                   "semantic version, so breakpoints cannot be checked",
                                   printable(req->current_version));

        if (version_compare(target, &current) < 0)
                return plan_refuse(r, JOB_ERROR_MANUAL_UPGRADE_REQUIRED,
                                   "Dashboard downgrades from %s to %s are not allowed",
                                   req->current_version, r->resolved_target);

        i = lowest_crossed(policy, bps, &current, target);
        if (i < 0)
                return 0;

        if (asprintf(&prefix, "Dashboard upgrade from %s to %s crosses breakpoint %s", req->current_version,
                     r->resolved_target, policy->breakpoints[i].version) < 0) {
                prefix = NULL;
                return -ENOMEM;
        }
        return refuse_breakpoint(r, prefix, &policy->breakpoints[i]);
}

static int check_dashboard(const PlanRequest *req, const Policy *policy, PlanResult *r) {
        _cleanup_free_ Version *bps = NULL;
        Version target;
        int k;

        if (!policy)
                return plan_refuse(r, JOB_ERROR_POLICY_FETCH_FAILED,
                                   "Dashboard upgrades need the upgrade policy, which is not available");

        if (version_parse(r->resolved_target, &target) < 0)
                return plan_refuse(r, JOB_ERROR_INVALID_TARGET,
                                   "Dashboard upgrades need a semantic version; %s cannot be compared "
                                   "with the upgrade policy", r->resolved_target);

        if (!streq(req->requested_target, "latest") && !policy_lists_release(policy, &target))
                return plan_refuse(r, JOB_ERROR_INVALID_TARGET,
                                   "Dashboard upgrades to %s are not allowed: it is not a published release",
                                   r->resolved_target);

        bps = calloc(policy->n_breakpoints ? policy->n_breakpoints : 1, sizeof(Version));
        if (!bps)
                return -ENOMEM;
        k = parse_breakpoints(policy, bps, r);
        if (k < 0 || r->error_code)
                return k;

        for (size_t i = 0; i < policy->n_breakpoints; i++) {
                _cleanup_free_ char *prefix = NULL;

                if (version_compare(&bps[i], &target) != 0)
                        continue;
                if (asprintf(&prefix, "Dashboard upgrades to %s are not allowed",
                             policy->breakpoints[i].version) < 0) {
                        prefix = NULL;
                        return -ENOMEM;
                }
                return refuse_breakpoint(r, prefix, &policy->breakpoints[i]);
        }

        if (isempty(req->current_version))
                return 0;
        return check_from_current(req, policy, bps, &target, r);
}

static int resolve_target(const PlanRequest *req, const Policy *policy, PlanResult *r) {
        const char *t = req->requested_target;

        if (isempty(t))
                return plan_refuse(r, JOB_ERROR_INVALID_TARGET, "No target version was requested");

        if (streq(t, "latest")) {
                if (!policy)
                        return plan_refuse(r, JOB_ERROR_POLICY_FETCH_FAILED,
                                           "Target \"latest\" needs the upgrade policy, which is not "
                                           "available");
                t = policy->latest;
        } else if (!version_is_valid_tag(t))
                return plan_refuse(r, JOB_ERROR_INVALID_TARGET,
                                   "Target is not a valid image tag ([A-Za-z0-9_][A-Za-z0-9_.-]{0,127})");

        /* A published release resolves to the tag as published, since that is
         * the image tag that exists; anything else is kept as requested. */
        if (policy && !streq(req->requested_target, "latest")) {
                Version v;
                const char *published = version_parse(t, &v) >= 0 ? policy_find_release(policy, &v) : NULL;

                if (published)
                        t = published;
                else
                        r->unpublished = true;
        }

        r->resolved_target = strdup(t);
        return r->resolved_target ? 0 : -ENOMEM;
}

int plan_resolve(const PlanRequest *req, const Policy *policy, PlanResult *ret) {
        PlanResult r = {};
        int k;

        *ret = (PlanResult) {};
        if (req->mode != JOB_MODE_DASHBOARD && req->mode != JOB_MODE_MANUAL)
                return -EINVAL;

        k = resolve_target(req, policy, &r);
        if (k >= 0 && !r.error_code && req->mode == JOB_MODE_DASHBOARD)
                k = check_dashboard(req, policy, &r);
        if (k < 0) {
                plan_result_done(&r);
                return k;
        }

        *ret = r;
        return 0;
}

void plan_result_done(PlanResult *r) {
        if (!r)
                return;

        free(r->resolved_target);
        free(r->error_message);
        *r = (PlanResult) {};
}
