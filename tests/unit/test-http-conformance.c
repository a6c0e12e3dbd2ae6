/* Runs every case of the conformance table (http-cases.h) three ways: fed
 * whole, one byte at a time, and split in two at every position.  All must
 * give the outcome the table expects, which is also how the parser is shown
 * not to depend on where a read happened to end. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "http-cases.h"

/* Compares, and names the case and the way it was fed on failure. */
static void check_outcome(const HttpCase *c, const char *how, const HttpOutcome *expected,
                          const HttpOutcome *got) {
        char why[4 * HTTP_CASE_MAX_TEXT];

        if (http_outcome_differs(expected, got, why, sizeof(why)))
                fail_msg("case '%s' fed %s: expected vs got: %s", c->name, how, why);
}

static void run_case(void **state) {
        const HttpCase *c = *state;
        HttpOutcome expected, got;
        _cleanup_free_ size_t *cuts = NULL;
        char how[64];

        http_case_expected(c, &expected);

        assert_int_equal(http_case_run(c, NULL, 0, NULL, NULL, &got), 0);
        check_outcome(c, "whole", &expected, &got);

        if (c->len > 1) {
                cuts = calloc(c->len - 1, sizeof(size_t));
                assert_non_null(cuts);
                for (size_t i = 0; i < c->len - 1; i++)
                        cuts[i] = i + 1;
                assert_int_equal(http_case_run(c, cuts, c->len - 1, NULL, NULL, &got), 0);
                check_outcome(c, "byte by byte", &expected, &got);
        }

        for (size_t at = 1; at < c->len; at++) {
                assert_int_equal(http_case_run(c, &at, 1, NULL, NULL, &got), 0);
                (void) snprintf(how, sizeof(how), "split at %zu", at);
                check_outcome(c, how, &expected, &got);
        }
}

/* Guards the table itself: a case that expects success must say what was
 * parsed, and one that expects an error must say the connection closes. */
static void test_table_is_consistent(void **state) {
        assert_true(ELEMENTSOF(http_cases) >= 150);

        for (size_t i = 0; i < ELEMENTSOF(http_cases); i++) {
                const HttpCase *c = &http_cases[i];

                if (c->status == 0)
                        assert_non_null(c->requests[0].method);
                if (c->status > 0)
                        assert_true(c->close);
                for (size_t j = 0; j < i; j++)
                        if (streq(http_cases[j].name, c->name))
                                fail_msg("duplicate case name '%s'", c->name);
        }
}

int main(void) {
        size_t n = ELEMENTSOF(http_cases) + 1;
        _cleanup_free_ struct CMUnitTest *tests = calloc(n, sizeof(struct CMUnitTest));

        if (!tests)
                return EXIT_FAILURE;

        tests[0] = (struct CMUnitTest) cmocka_unit_test(test_table_is_consistent);
        for (size_t i = 1; i < n; i++)
                tests[i] = (struct CMUnitTest) {
                        .name = http_cases[i - 1].name,
                        .test_func = run_case,
                        .initial_state = (void *) &http_cases[i - 1],
                };

        return _cmocka_run_group_tests("http-conformance", tests, n, NULL, NULL);
}
