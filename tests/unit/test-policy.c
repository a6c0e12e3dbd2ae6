/* The policy parser against the files production hosts really fetch, and
 * against documents that are wrong in every way a field can be wrong. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "upgrade/policy.h"
#include "util/fileio.h"
#include "util/macros.h"

#include "test-data.h"

/* A policy whose breakpoints follow. */
#define BPS "{\"latest\":\"3.3.0\",\"releases\":[],\"breakpoints\":"

static int parse_string(const char *s, Policy *p, char **error) {
        return policy_parse(s, strlen(s), p, error);
}

static void test_real_current(void **state) {
        _cleanup_free_ char *data = NULL, *error = NULL;
        Policy p;
        size_t len;

        data = read_shared("upgrade-policy.json", &len);
        assert_int_equal(policy_parse(data, len, &p, &error), 0);
        assert_null(error);
        assert_string_equal(p.latest, "3.3.0");
        assert_int_equal(p.n_releases, 60);
        assert_string_equal(p.releases[0], "3.3.0");
        assert_string_equal(p.releases[59], "1.0.0");
        assert_int_equal(p.n_breakpoints, 1);
        assert_string_equal(p.breakpoints[0].version, "2.0.0");
        assert_string_equal(p.breakpoints[0].reason,
                            "Breaking change: manual upgrade required before proceeding to 2.0.0.");
        assert_null(p.breakpoints[0].docs);
        policy_done(&p);
        assert_null(p.latest);
        assert_null(p.releases);
        policy_done(&p);
}

static void test_real_breakpoint_day(void **state) {
        _cleanup_free_ char *data = NULL, *error = NULL;
        Policy p;
        size_t len;

        data = read_shared("upgrade-policy.breakpoint-2.0.0-bf2fca9.json", &len);
        assert_int_equal(policy_parse(data, len, &p, &error), 0);
        assert_string_equal(p.latest, "2.0.0");
        assert_int_equal(p.n_releases, 42);
        assert_int_equal(p.n_breakpoints, 1);
        assert_string_equal(p.breakpoints[0].version, "2.0.0");
        policy_done(&p);
}

static void test_real_initial(void **state) {
        _cleanup_free_ char *data = NULL, *error = NULL;
        Policy p;
        size_t len;

        data = read_shared("upgrade-policy.initial-5aeff19.json", &len);
        assert_int_equal(policy_parse(data, len, &p, &error), 0);
        assert_string_equal(p.latest, "1.7.7");
        assert_int_equal(p.n_releases, 27);
        /* Kept as published: not sorted. */
        assert_string_equal(p.releases[24], "1.2.3");
        assert_int_equal(p.n_breakpoints, 0);
        assert_null(p.breakpoints);
        policy_done(&p);
}

static void test_minimal_and_extras(void **state) {
        _cleanup_free_ char *error = NULL;
        Policy p;

        assert_int_equal(parse_string("{\"latest\":\"v1.2.3\",\"releases\":[]}", &p, &error), 0);
        assert_string_equal(p.latest, "v1.2.3");
        assert_int_equal(p.n_releases, 0);
        policy_done(&p);

        assert_int_equal(parse_string("{\"latest\":\"1.2.3\",\"releases\":[\"1.2.3\",\"nightly\"],"
                                      "\"future\":{\"x\":[1,2,{}]},\"breakpoints\":[{\"version\":\"1.0.0\","
                                      "\"reason\":\"r\",\"docs\":\"https://docs.payram.com/x?y=1\","
                                      "\"extra\":true}]}",
                                      &p, &error),
                         0);
        assert_string_equal(p.releases[1], "nightly");
        assert_string_equal(p.breakpoints[0].docs, "https://docs.payram.com/x?y=1");
        policy_done(&p);
}

static void test_malformed(void **state) {
        static const struct {
                const char *doc;
                const char *error; /* a substring of the message */
        } cases[] = {
                { "", "not valid JSON" },
                { "   ", "not valid JSON" },
                { "[]", "not a JSON object" },
                { "\"3.3.0\"", "not a JSON object" },
                { "null", "policy is not" }, /* json-c reads "null" as no object at all */
                { "{\"latest\":\"3.3.0\",\"releases\":[]} x", "not valid JSON" },
                { "{\"latest\":\"3.3.0\",\"releases\":[]", "not valid JSON" },
                { "{\"releases\":[]}", "latest is missing" },
                { "{\"latest\":3,\"releases\":[]}", "latest is not a string" },
                { "{\"latest\":null,\"releases\":[]}", "latest is not a string" },
                { "{\"latest\":\"3.3\",\"releases\":[]}", "latest is not a semantic version: 3.3" },
                { "{\"latest\":\"1.2.3+b\",\"releases\":[]}", "latest is not usable as an image tag" },
                { "{\"latest\":\"3.3.0\\u0000x\",\"releases\":[]}", "latest contains a NUL byte" },
                { "{\"latest\":\"3.3.0\"}", "releases is missing" },
                { "{\"latest\":\"3.3.0\",\"releases\":\"3.3.0\"}", "releases is not an array" },
                { "{\"latest\":\"3.3.0\",\"releases\":{}}", "releases is not an array" },
                { "{\"latest\":\"3.3.0\",\"releases\":[\"a\",\"b\",\"c\",3]}",
                  "releases[3] is not a string" },
                { "{\"latest\":\"3.3.0\",\"releases\":[null]}", "releases[0] is not a string" },
                { "{\"latest\":\"3.3.0\",\"releases\":[\"a b\"]}", "releases[0] is not a valid image tag" },
                { "{\"latest\":\"3.3.0\",\"releases\":[\"\"]}", "releases[0] is not a valid image tag" },
                { BPS "{}}", "breakpoints is not an array" },
                { BPS "null}", "breakpoints is not an array" },
                { BPS "[\"2.0.0\"]}",
                  "breakpoints[0] is not an object" },
                { BPS "[{\"reason\":\"r\"}]}",
                  "breakpoints[0].version is missing" },
                { BPS "[{\"version\":2,\"reason\":\"r\"}]}",
                  "breakpoints[0].version is not a string" },
                { BPS "[{\"version\":\"2.0\",\"reason\":\"r\"}]}",
                  "breakpoints[0].version is not a semantic version: 2.0" },
                { BPS "[{\"version\":\"2.0.0\"}]}",
                  "breakpoints[0].reason is missing" },
                { BPS "[{\"version\":\"2.0.0\",\"reason\":\"\"}]}",
                  "breakpoints[0].reason is empty" },
                { BPS "[{\"version\":\"2.0.0\",\"reason\":7}]}",
                  "breakpoints[0].reason is not a string" },
                { BPS "[{\"version\":\"2.0.0\","
                  "\"reason\":\"a\\nb\"}]}",
                  "breakpoints[0].reason contains control or direction characters" },
                /* C1 control, line separator, right-to-left override: each could
                 * disguise a log line. */
                { BPS "[{\"version\":\"2.0.0\",\"reason\":\"a\\u009bb\"}]}",
                  "breakpoints[0].reason contains control or direction characters" },
                { BPS "[{\"version\":\"2.0.0\",\"reason\":\"a\\u2028b\"}]}",
                  "breakpoints[0].reason contains control or direction characters" },
                { BPS "[{\"version\":\"2.0.0\",\"reason\":\"a\\u202eb\"}]}",
                  "breakpoints[0].reason contains control or direction characters" },
                /* Invalid UTF-8 is refused by the parser. */
                { BPS "[{\"version\":\"2.0.0\",\"reason\":\"a\xff\xfe\"}]}",
                  "not valid JSON" },
                { BPS "[{\"version\":\"2.0.0\",\"reason\":\"r\","
                  "\"docs\":\"ftp://x\"}]}",
                  "breakpoints[0].docs is not an http(s) URL" },
                { BPS "[{\"version\":\"2.0.0\",\"reason\":\"r\","
                  "\"docs\":\"https://a b\"}]}",
                  "breakpoints[0].docs is not an http(s) URL" },
                { BPS "[{\"version\":\"2.0.0\",\"reason\":\"r\","
                  "\"docs\":false}]}",
                  "breakpoints[0].docs is not a string" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *error = NULL;
                Policy p;

                assert_int_equal(parse_string(cases[i].doc, &p, &error), -EINVAL);
                assert_non_null(error);
                if (!strstr(error, cases[i].error))
                        fail_msg("case %zu: \"%s\" does not contain \"%s\"", i, error, cases[i].error);
                assert_null(p.latest);
                assert_null(p.releases);
                assert_null(p.breakpoints);
        }
}

static void test_nul_and_depth(void **state) {
        _cleanup_free_ char *error = NULL, *deep = NULL;
        static const char with_nul[] = "{\"latest\":\"3.3.0\",\"releases\":[]}\0";
        Policy p;
        size_t n = 200, len = 0;

        assert_int_equal(policy_parse(with_nul, sizeof(with_nul) - 1, &p, &error), -EINVAL);
        assert_non_null(error);
        free(error);
        error = NULL;

        /* Far deeper than JSON_MAX_DEPTH, inside an ignored key. */
        deep = malloc(64 + 2 * n);
        assert_non_null(deep);
        len += (size_t) snprintf(deep, 64, "{\"latest\":\"3.3.0\",\"releases\":[],\"x\":");
        memset(deep + len, '[', n);
        len += n;
        memset(deep + len, ']', n);
        len += n;
        deep[len++] = '}';
        assert_int_equal(policy_parse(deep, len, &p, &error), -EINVAL);
        assert_non_null(strstr(error, "not valid JSON"));
}

static void test_limits(void **state) {
        _cleanup_free_ char *error = NULL, *doc = NULL;
        size_t cap = 64 + (POLICY_MAX_RELEASES + 1) * 4 + POLICY_MAX_TEXT_BYTES * 2, len;
        Policy p;

        doc = malloc(cap);
        assert_non_null(doc);

        /* One release too many. */
        len = (size_t) snprintf(doc, cap, "{\"latest\":\"1.0.0\",\"releases\":[");
        for (size_t i = 0; i <= POLICY_MAX_RELEASES; i++)
                len += (size_t) snprintf(doc + len, cap - len, "%s\"a\"", i ? "," : "");
        len += (size_t) snprintf(doc + len, cap - len, "]}");
        assert_int_equal(policy_parse(doc, len, &p, &error), -EINVAL);
        assert_non_null(strstr(error, "releases has 4097 entries"));
        free(error);
        error = NULL;

        /* A reason just at the limit, then one byte over. */
        for (size_t extra = 0; extra <= 1; extra++) {
                len = (size_t) snprintf(doc, cap, "{\"latest\":\"1.0.0\",\"releases\":[],\"breakpoints\":"
                                                  "[{\"version\":\"1.0.0\",\"reason\":\"");
                memset(doc + len, 'r', POLICY_MAX_TEXT_BYTES + extra);
                len += POLICY_MAX_TEXT_BYTES + extra;
                len += (size_t) snprintf(doc + len, cap - len, "\"}]}");

                if (extra == 0) {
                        assert_int_equal(policy_parse(doc, len, &p, &error), 0);
                        assert_int_equal(strlen(p.breakpoints[0].reason), POLICY_MAX_TEXT_BYTES);
                        policy_done(&p);
                } else {
                        assert_int_equal(policy_parse(doc, len, &p, &error), -EINVAL);
                        assert_non_null(strstr(error, "breakpoints[0].reason is longer than 4096 bytes"));
                }
        }

        /* A huge latest is refused without being echoed. */
        free(error);
        error = NULL;
        len = (size_t) snprintf(doc, cap, "{\"releases\":[],\"latest\":\"1.0.0-");
        memset(doc + len, 'x', POLICY_MAX_TEXT_BYTES);
        len += POLICY_MAX_TEXT_BYTES;
        len += (size_t) snprintf(doc + len, cap - len, "\"}");
        assert_int_equal(policy_parse(doc, len, &p, &error), -EINVAL);
        assert_string_equal(error, "latest is not a semantic version");
}

static void test_second_breakpoint_bad_no_leak(void **state) {
        _cleanup_free_ char *error = NULL;
        Policy p;

        assert_int_equal(parse_string("{\"latest\":\"3.3.0\",\"releases\":[\"3.3.0\"],\"breakpoints\":["
                                      "{\"version\":\"2.0.0\",\"reason\":\"r\",\"docs\":\"https://x\"},"
                                      "{\"version\":\"3.0.0\",\"reason\":\"r\",\"docs\":\"x\"}]}",
                                      &p, &error),
                         -EINVAL);
        assert_string_equal(error, "breakpoints[1].docs is not an http(s) URL");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_real_current),
                cmocka_unit_test(test_real_breakpoint_day),
                cmocka_unit_test(test_real_initial),
                cmocka_unit_test(test_minimal_and_extras),
                cmocka_unit_test(test_malformed),
                cmocka_unit_test(test_nul_and_depth),
                cmocka_unit_test(test_limits),
                cmocka_unit_test(test_second_breakpoint_bad_no_leak),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
