/* Planning rules as one table over the policies Payram really published,
 * plus a synthetic policy for what they do not exercise (docs links,
 * several breakpoints). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "upgrade/plan.h"
#include "util/fileio.h"
#include "util/macros.h"

#define DATA_MAX_BYTES (1024 * 1024)

typedef enum PolicyId {
        NO_POLICY,
        CURRENT,     /* upgrade-policy.json: latest 3.3.0, breakpoint 2.0.0 */
        BREAKPOINT,  /* bf2fca9: latest 2.0.0 == breakpoint */
        INITIAL,     /* 5aeff19: latest 1.7.7, unsorted, no breakpoints */
        SYNTHETIC,   /* breakpoints with docs, 2.0.0 and 3.0.0 */
        _POLICY_MAX,
} PolicyId;

static const char synthetic_policy[] =
        "{\"latest\":\"4.0.0\",\"releases\":[\"4.0.0\",\"3.1.0\",\"3.0.0\",\"2.1.0\",\"2.0.0\",\"1.0.0\","
        "\"nightly\"],\"breakpoints\":["
        "{\"version\":\"v3.0.0\",\"reason\":\"Database engine upgrade.\","
        "\"docs\":\"https://docs.payram.com/upgrades/3.0.0\"},"
        "{\"version\":\"2.0.0\",\"reason\":\"Breaking change.\","
        "\"docs\":\"https://docs.payram.com/upgrades/2.0.0\"}]}";

static Policy policies[_POLICY_MAX];

static void load_policy(PolicyId id, const char *name) {
        const char *dir = getenv("PAYRAM_SHARED_DATA");
        _cleanup_free_ char *path = NULL, *data = NULL, *error = NULL;
        size_t len;

        assert_non_null(dir);
        assert_true(asprintf(&path, "%s/%s", dir, name) > 0);
        assert_int_equal(read_file_bounded(path, DATA_MAX_BYTES, &data, &len), 0);
        assert_int_equal(policy_parse(data, len, &policies[id], &error), 0);
}

static int setup(void **state) {
        _cleanup_free_ char *error = NULL;

        load_policy(CURRENT, "upgrade-policy.json");
        load_policy(BREAKPOINT, "upgrade-policy.breakpoint-2.0.0-bf2fca9.json");
        load_policy(INITIAL, "upgrade-policy.initial-5aeff19.json");
        assert_int_equal(policy_parse(synthetic_policy, strlen(synthetic_policy), &policies[SYNTHETIC],
                                      &error),
                         0);
        return 0;
}

static int teardown(void **state) {
        for (size_t i = 0; i < _POLICY_MAX; i++)
                policy_done(&policies[i]);
        return 0;
}

#define D JOB_MODE_DASHBOARD
#define M JOB_MODE_MANUAL
#define OK NULL
#define MANUAL_REQUIRED JOB_ERROR_MANUAL_UPGRADE_REQUIRED
#define INVALID JOB_ERROR_INVALID_TARGET
#define NO_FETCH JOB_ERROR_POLICY_FETCH_FAILED

static const char reason_2_0_0[] = "Breaking change: manual upgrade required before proceeding to 2.0.0.";

static const struct {
        PolicyId policy;
        JobMode mode;
        const char *target, *current;
        const char *code;     /* NULL: allowed */
        const char *resolved; /* NULL: nothing resolved */
        const char *message;  /* exact message, or NULL to skip */
        const char *contains; /* substring of the message, or NULL */
} cases[] = {
        /* The current policy. */
        { CURRENT, D, "latest", "2.0.5", OK, "3.3.0", NULL, NULL },
        { CURRENT, D, "latest", "3.3.0", OK, "3.3.0", NULL, NULL },
        { CURRENT, D, "latest", NULL, OK, "3.3.0", NULL, NULL },
        { CURRENT, D, "latest", "", OK, "3.3.0", NULL, NULL },
        { CURRENT, D, "latest", "2.0.0", OK, "3.3.0", NULL, NULL },
        { CURRENT, D, "latest", "v2.0.0", OK, "3.3.0", NULL, NULL },
        { CURRENT, D, "latest", "1.9.1", MANUAL_REQUIRED, "3.3.0",
          "Dashboard upgrade from 1.9.1 to 3.3.0 crosses breakpoint 2.0.0: Breaking change: manual upgrade "
          "required before proceeding to 2.0.0.", NULL },
        { CURRENT, D, "3.1.0", "v1.9.7", MANUAL_REQUIRED, "3.1.0", NULL, "crosses breakpoint 2.0.0" },
        { CURRENT, D, "2.0.0", "1.9.1", MANUAL_REQUIRED, "2.0.0",
          "Dashboard upgrades to 2.0.0 are not allowed: Breaking change: manual upgrade required before "
          "proceeding to 2.0.0.", NULL },
        { CURRENT, D, "v2.0.0", NULL, MANUAL_REQUIRED, "2.0.0", NULL,
          "Dashboard upgrades to 2.0.0 are not allowed" },
        { CURRENT, D, "v3.2.0", "2.0.5", OK, "3.2.0", NULL, NULL },
        { CURRENT, D, "1.9.7", "1.9.1", OK, "1.9.7", NULL, NULL },
        { CURRENT, D, "3.3.0", "3.3.0", OK, "3.3.0", NULL, NULL },
        { CURRENT, D, "3.0.0", "3.3.0", MANUAL_REQUIRED, "3.0.0",
          "Dashboard downgrades from 3.3.0 to 3.0.0 are not allowed", NULL },
        { CURRENT, D, "1.9.7", "2.0.5", MANUAL_REQUIRED, "1.9.7", NULL, "downgrades" },
        { CURRENT, D, "9.9.9", "2.0.5", INVALID, "9.9.9", NULL, "not a published release" },
        { CURRENT, D, "3.3.0-rc.1", NULL, INVALID, "3.3.0-rc.1", NULL, "not a published release" },
        { CURRENT, D, "nightly", NULL, INVALID, "nightly", NULL, "nightly cannot be compared" },
        { CURRENT, D, "3.3", NULL, INVALID, "3.3", NULL, "cannot be compared" },
        { CURRENT, D, "latest", "garbage", MANUAL_REQUIRED, "3.3.0", NULL,
          "garbage is not a semantic version, so breakpoints cannot be checked" },
        { CURRENT, D, "latest", "2.0", MANUAL_REQUIRED, "3.3.0", NULL, "cannot be checked" },
        { CURRENT, D, "latest", "2.0.0; rm -rf /", MANUAL_REQUIRED, "3.3.0", NULL, "(not shown)" },
        { CURRENT, D, "", NULL, INVALID, NULL, "No target version was requested", NULL },
        { CURRENT, D, NULL, NULL, INVALID, NULL, NULL, NULL },
        { CURRENT, D, "a b", NULL, INVALID, NULL, NULL, "not a valid image tag" },
        { CURRENT, D, ".x", NULL, INVALID, NULL, NULL, "not a valid image tag" },
        /* MANUAL: breakpoints, releases and downgrades are the operator's call. */
        { CURRENT, M, "latest", "1.9.1", OK, "3.3.0", NULL, NULL },
        { CURRENT, M, "3.3.0", "1.9.1", OK, "3.3.0", NULL, NULL },
        { CURRENT, M, "2.0.0", NULL, OK, "2.0.0", NULL, NULL },
        { CURRENT, M, "1.0.0", "3.3.0", OK, "1.0.0", NULL, NULL },
        { CURRENT, M, "nightly", "garbage", OK, "nightly", NULL, NULL },
        { CURRENT, M, "a/b", NULL, INVALID, NULL, NULL, NULL },
        /* The day 2.0.0 was released: latest is the breakpoint. */
        { BREAKPOINT, D, "latest", NULL, MANUAL_REQUIRED, "2.0.0",
          "Dashboard upgrades to 2.0.0 are not allowed: Breaking change: manual upgrade required before "
          "proceeding to 2.0.0.", NULL },
        { BREAKPOINT, D, "latest", "1.9.7", MANUAL_REQUIRED, "2.0.0", NULL, "Dashboard upgrades to 2.0.0" },
        { BREAKPOINT, D, "1.9.7", "1.9.1", OK, "1.9.7", NULL, NULL },
        { BREAKPOINT, M, "latest", "1.9.1", OK, "2.0.0", NULL, NULL },
        /* The first policy: unsorted releases, no breakpoints. */
        { INITIAL, D, "latest", "1.0.0", OK, "1.7.7", NULL, NULL },
        { INITIAL, D, "1.2.3", "1.2.2", OK, "1.2.3", NULL, NULL },
        { INITIAL, D, "v1.2.3", "1.0.0", OK, "1.2.3", NULL, NULL },
        { INITIAL, D, "1.7.8", "1.0.0", INVALID, "1.7.8", NULL, "not a published release" },
        /* Docs links and several breakpoints: the lowest crossed is named. */
        { SYNTHETIC, D, "latest", "1.0.0", MANUAL_REQUIRED, "4.0.0",
          "Dashboard upgrade from 1.0.0 to 4.0.0 crosses breakpoint 2.0.0: Breaking change. See: "
          "https://docs.payram.com/upgrades/2.0.0", NULL },
        { SYNTHETIC, D, "latest", "2.1.0", MANUAL_REQUIRED, "4.0.0",
          "Dashboard upgrade from 2.1.0 to 4.0.0 crosses breakpoint v3.0.0: Database engine upgrade. See: "
          "https://docs.payram.com/upgrades/3.0.0", NULL },
        { SYNTHETIC, D, "3.0.0", "2.1.0", MANUAL_REQUIRED, "3.0.0",
          "Dashboard upgrades to v3.0.0 are not allowed: Database engine upgrade. See: "
          "https://docs.payram.com/upgrades/3.0.0", NULL },
        { SYNTHETIC, D, "latest", "3.0.0", OK, "4.0.0", NULL, NULL },
        { SYNTHETIC, D, "2.1.0", "2.0.0", OK, "2.1.0", NULL, NULL },
        { SYNTHETIC, D, "nightly", "2.0.0", INVALID, "nightly", NULL, "cannot be compared" },
        { SYNTHETIC, M, "nightly", "2.0.0", OK, "nightly", NULL, NULL },
        /* No policy. */
        { NO_POLICY, M, "3.3.0", "1.9.1", OK, "3.3.0", NULL, NULL },
        { NO_POLICY, M, "latest", NULL, NO_FETCH, NULL, NULL, "\"latest\" needs the upgrade policy" },
        { NO_POLICY, D, "latest", NULL, NO_FETCH, NULL, NULL, NULL },
        { NO_POLICY, D, "3.3.0", "2.0.5", NO_FETCH, "3.3.0", NULL, "need the upgrade policy" },
};

static void test_table(void **state) {
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                PlanRequest req = {
                        .mode = cases[i].mode,
                        .requested_target = cases[i].target,
                        .current_version = cases[i].current,
                };
                PlanResult r;

                const Policy *p = cases[i].policy == NO_POLICY ? NULL : &policies[cases[i].policy];

                assert_int_equal(plan_resolve(&req, p, &r), 0);

                if (!streq_ptr(r.error_code, cases[i].code))
                        fail_msg("case %zu (%s from %s): code %s, expected %s; message: %s", i,
                                 strempty(cases[i].target), strempty(cases[i].current),
                                 strempty(r.error_code), strempty(cases[i].code), strempty(r.error_message));
                if (!streq_ptr(r.resolved_target, cases[i].resolved))
                        fail_msg("case %zu: resolved %s, expected %s", i, strempty(r.resolved_target),
                                 strempty(cases[i].resolved));
                if (cases[i].code)
                        assert_non_null(r.error_message);
                else
                        assert_null(r.error_message);
                if (cases[i].message && !streq(r.error_message, cases[i].message))
                        fail_msg("case %zu: message \"%s\"\n expected \"%s\"", i, r.error_message,
                                 cases[i].message);
                if (cases[i].contains && !strstr(r.error_message, cases[i].contains))
                        fail_msg("case %zu: message \"%s\" lacks \"%s\"", i, r.error_message,
                                 cases[i].contains);
                /* The real policies carry no docs link. */
                if (r.error_message && cases[i].policy != SYNTHETIC)
                        assert_null(strstr(r.error_message, "See:"));

                plan_result_done(&r);
                assert_null(r.resolved_target);
                assert_null(r.error_message);
        }
}

static void test_reason_named(void **state) {
        PlanRequest req = { .mode = D, .requested_target = "latest", .current_version = "1.9.1" };
        PlanResult r;

        assert_int_equal(plan_resolve(&req, &policies[CURRENT], &r), 0);
        assert_non_null(strstr(r.error_message, reason_2_0_0));
        assert_non_null(strstr(r.error_message, "2.0.0"));
        plan_result_done(&r);
}

static void test_invalid_mode(void **state) {
        PlanRequest req = { .mode = _JOB_MODE_INVALID, .requested_target = "latest" };
        PlanResult r;

        assert_int_equal(plan_resolve(&req, &policies[CURRENT], &r), -EINVAL);
        assert_null(r.resolved_target);
        assert_null(r.error_code);
}

/* MANUAL may ask for what the policy does not list (flagged, so the job log
 * can warn); a listed release resolves to its published spelling. */
static void test_unpublished_flag(void **state) {
        static const struct {
                const char *target;
                const char *resolved;
                bool unpublished;
        } targets[] = {
                { "9.9.9", "9.9.9", true },
                { "v3.3.0", "3.3.0", false },
                { "3.2.0", "3.2.0", false },
                { "latest", "3.3.0", false },
                { "nightly", "nightly", true },
        };

        for (size_t i = 0; i < ELEMENTSOF(targets); i++) {
                PlanRequest req = { .mode = JOB_MODE_MANUAL, .requested_target = targets[i].target };
                PlanResult r;

                assert_int_equal(plan_resolve(&req, &policies[CURRENT], &r), 0);
                assert_null(r.error_code);
                assert_string_equal(r.resolved_target, targets[i].resolved);
                assert_int_equal(r.unpublished, targets[i].unpublished);
                plan_result_done(&r);
        }
}

/* A hand-built policy whose breakpoint does not parse fails closed. */
static void test_unparsable_breakpoint(void **state) {
        char *releases[] = { (char *) "3.3.0" };
        Breakpoint bp = { .version = (char *) "two", .reason = (char *) "r" };
        Policy p = { .latest = (char *) "3.3.0", .releases = releases, .n_releases = 1,
                     .breakpoints = &bp, .n_breakpoints = 1 };
        PlanRequest req = { .mode = D, .requested_target = "latest" };
        PlanResult r;

        assert_int_equal(plan_resolve(&req, &p, &r), 0);
        assert_string_equal(r.error_code, JOB_ERROR_POLICY_INVALID);
        plan_result_done(&r);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_table),
                cmocka_unit_test(test_reason_named),
                cmocka_unit_test(test_invalid_mode),
                cmocka_unit_test(test_unparsable_breakpoint),
                cmocka_unit_test(test_unpublished_flag),
        };

        return cmocka_run_group_tests(tests, setup, teardown);
}
