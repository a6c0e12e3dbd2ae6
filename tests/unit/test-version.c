/* Semantic version parsing and precedence, and the Docker tag rule, as
 * tables: every breakpoint decision rests on these comparisons. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "upgrade/version.h"
#include "util/macros.h"

static void test_parse_valid(void **state) {
        static const struct {
                const char *s;
                uint64_t major, minor, patch;
                const char *pre;
        } cases[] = {
                { "0.0.0", 0, 0, 0, "" },
                { "3.3.0", 3, 3, 0, "" },
                { "v1.2.3", 1, 2, 3, "" },
                { "10.20.30", 10, 20, 30, "" },
                { "1.0.0-alpha", 1, 0, 0, "alpha" },
                { "1.0.0-alpha.1", 1, 0, 0, "alpha.1" },
                { "1.0.0-0.3.7", 1, 0, 0, "0.3.7" },
                { "1.0.0-x.7.z.92", 1, 0, 0, "x.7.z.92" },
                { "1.0.0-x-y-z.--", 1, 0, 0, "x-y-z.--" },
                { "1.0.0+20130313144700", 1, 0, 0, "" },
                { "1.0.0-beta+exp.sha.5114f85", 1, 0, 0, "beta" },
                { "1.0.0+001", 1, 0, 0, "" },
                { "18446744073709551615.0.0", UINT64_MAX, 0, 0, "" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                Version v;

                assert_int_equal(version_parse(cases[i].s, &v), 0);
                assert_true(v.major == cases[i].major);
                assert_true(v.minor == cases[i].minor);
                assert_true(v.patch == cases[i].patch);
                assert_string_equal(v.prerelease, cases[i].pre);
        }
}

static void test_parse_invalid(void **state) {
        static const char *const cases[] = {
                "", "v", "1", "1.2", "1.2.3.4", "V1.2.3", "vv1.2.3", " 1.2.3", "1.2.3 ", "01.2.3", "1.02.3",
                "1.2.03", "1.2.3-", "1.2.3+", "1.2.3-01", "1.2.3-a..b", "1.2.3-a.", "1.2.3+a..b",
                "1.2.3-a_b", "1.2.3+a_b", "-1.2.3", "+1.2.3", "1.-2.3", "1.2.3-a+b+c",
                "18446744073709551616.0.0",
                "1.99999999999999999999999.0", "latest", "1.2.x", "1.2.3\n", "a.b.c", "1..3",
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                Version v;

                if (version_parse(cases[i], &v) != -EINVAL)
                        fail_msg("accepted \"%s\"", cases[i]);
        }
        assert_int_equal(version_parse(NULL, NULL), -EINVAL);
}

static void test_parse_too_long(void **state) {
        char buf[VERSION_MAX_BYTES + 8];

        /* "1.0.0-aaa...": just fits, then one byte too many. */
        memset(buf, 'a', sizeof(buf));
        memcpy(buf, "1.0.0-", 6);
        buf[VERSION_MAX_BYTES - 1] = '\0';
        assert_int_equal(version_parse(buf, NULL), 0);
        buf[VERSION_MAX_BYTES - 1] = 'a';
        buf[VERSION_MAX_BYTES] = '\0';
        assert_int_equal(version_parse(buf, NULL), -EINVAL);
}

static void test_compare(void **state) {
        static const struct {
                const char *a, *b;
                int expected;
        } cases[] = {
                { "1.2.3", "v1.2.3", 0 },
                { "v2.0.0", "2.0.0", 0 },
                { "1.0.0+build.1", "1.0.0+build.2", 0 },
                { "1.0.0", "2.0.0", -1 },
                { "2.0.0", "2.1.0", -1 },
                { "2.1.0", "2.1.1", -1 },
                { "1.9.1", "2.0.0", -1 },
                { "2.0.5", "2.0.0", 1 },
                { "1.10.0", "1.9.0", 1 },
                { "3.3.0", "10.0.0", -1 },
                /* The ordering example of semver.org, pairwise. */
                { "1.0.0-alpha", "1.0.0-alpha.1", -1 },
                { "1.0.0-alpha.1", "1.0.0-alpha.beta", -1 },
                { "1.0.0-alpha.beta", "1.0.0-beta", -1 },
                { "1.0.0-beta", "1.0.0-beta.2", -1 },
                { "1.0.0-beta.2", "1.0.0-beta.11", -1 },
                { "1.0.0-beta.11", "1.0.0-rc.1", -1 },
                { "1.0.0-rc.1", "1.0.0", -1 },
                { "1.0.0", "1.0.0-rc.1", 1 },
                { "1.0.0-1", "1.0.0-a", -1 },
                { "1.0.0-99999999999999999999999", "1.0.0-100000000000000000000000", -1 },
                { "1.0.0-a", "1.0.0-B", 1 },
                { "18446744073709551615.0.0", "18446744073709551614.9.9", 1 },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                int c = 42, back = 42;

                assert_int_equal(version_compare_strings(cases[i].a, cases[i].b, &c), 0);
                assert_int_equal(version_compare_strings(cases[i].b, cases[i].a, &back), 0);
                if ((c > 0) - (c < 0) != cases[i].expected || (back > 0) - (back < 0) != -cases[i].expected)
                        fail_msg("%s vs %s: got %d/%d, expected %d", cases[i].a, cases[i].b, c, back,
                                 cases[i].expected);
        }
}

static void test_compare_invalid(void **state) {
        int c = 42;

        assert_int_equal(version_compare_strings("1.2.3", "1.2", &c), -EINVAL);
        assert_int_equal(version_compare_strings("nightly", "1.2.3", &c), -EINVAL);
        assert_int_equal(c, 42);
}

static void test_tags(void **state) {
        static const struct {
                const char *s;
                bool valid;
        } cases[] = {
                { "3.3.0", true },      { "v1.2.3", true },   { "latest", true },  { "_x", true },
                { "a-b_c.d", true },    { "1.0.0-rc.1", true }, { "", false },     { ".x", false },
                { "-x", false },        { "a b", false },     { "a/b", false },    { "a:b", false },
                { "1.0.0+build", false }, { "é", false },     { "a\n", false },
        };
        char buf[140];

        for (size_t i = 0; i < ELEMENTSOF(cases); i++)
                if (version_is_valid_tag(cases[i].s) != cases[i].valid)
                        fail_msg("tag \"%s\": expected %s", cases[i].s,
                                 cases[i].valid ? "valid" : "invalid");
        assert_false(version_is_valid_tag(NULL));

        memset(buf, 'a', sizeof(buf));
        buf[128] = '\0';
        assert_true(version_is_valid_tag(buf));
        buf[128] = 'a';
        buf[129] = '\0';
        assert_false(version_is_valid_tag(buf));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_parse_valid),
                cmocka_unit_test(test_parse_invalid),
                cmocka_unit_test(test_parse_too_long),
                cmocka_unit_test(test_compare),
                cmocka_unit_test(test_compare_invalid),
                cmocka_unit_test(test_tags),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
