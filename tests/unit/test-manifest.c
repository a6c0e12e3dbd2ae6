/* The manifest parser against the real files and against malformed ones;
 * the repository, container name and endpoint rules as tables. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "upgrade/manifest.h"
#include "util/fileio.h"
#include "util/macros.h"

#include "test-data.h"

/* A valid health check, for documents that are wrong elsewhere. */
#define HC "\"health_check\":{\"endpoint\":\"/\"}"

static void test_real_files(void **state) {
        _cleanup_free_ char *current = NULL, *initial = NULL, *error = NULL;
        Manifest m;
        size_t len;

        current = read_shared("runtime-manifest.json", &len);
        assert_int_equal(manifest_parse(current, len, &m, &error), 0);
        assert_string_equal(m.image_repo, "payramapp/payram");
        assert_null(m.container_name);
        assert_string_equal(m.health_endpoint, "/api/v1/health");
        manifest_done(&m);
        assert_null(m.image_repo);

        initial = read_shared("runtime-manifest.initial-5aeff19.json", &len);
        assert_int_equal(manifest_parse(initial, len, &m, &error), 0);
        assert_string_equal(m.image_repo, "payramapp/payram");
        assert_string_equal(m.container_name, "payram");
        assert_string_equal(m.health_endpoint, "/api/v1/health");
        manifest_done(&m);
        manifest_done(&m);
}

static void test_repo_names(void **state) {
        static const struct {
                const char *s;
                bool valid;
        } cases[] = {
                { "payramapp/payram", true },
                { "payram", true },
                { "ghcr.io/payram/payram", true },
                { "localhost/payram", true },
                { "localhost:5000/payram", true },
                { "registry.example.com:443/a/b/c", true },
                { "a__b/c-d/e.f/g---h", true },
                { "my-registry.io/x", true },
                { "", false },
                { "Payramapp/payram", false },
                { "payramapp/payram:3.3.0", false },
                { "payramapp/payram@sha256:abc", false },
                { "payramapp//payram", false },
                { "/payram", false },
                { "payram/", false },
                { "a___b", false },
                { "a..b", false },
                { "-a", false },
                { "a-", false },
                { "a b", false },
                { "host:0/x", false },
                { "host:70000/x", false },
                { "host:/x", false },
                { "-host.io/x", false },
                { "host-.io/x", false },
                { "ho..st/x", false },
                { "payram\n", false },
        };
        char long_name[MANIFEST_MAX_REPO_BYTES + 2];

        for (size_t i = 0; i < ELEMENTSOF(cases); i++)
                if (manifest_repo_is_valid(cases[i].s) != cases[i].valid)
                        fail_msg("repo \"%s\": expected %s", cases[i].s,
                                 cases[i].valid ? "valid" : "invalid");

        memset(long_name, 'a', sizeof(long_name));
        long_name[MANIFEST_MAX_REPO_BYTES] = '\0';
        assert_true(manifest_repo_is_valid(long_name));
        long_name[MANIFEST_MAX_REPO_BYTES] = 'a';
        long_name[MANIFEST_MAX_REPO_BYTES + 1] = '\0';
        assert_false(manifest_repo_is_valid(long_name));
}

static void test_names_and_endpoints(void **state) {
        char long_name[MANIFEST_MAX_NAME_BYTES + 2];

        assert_true(manifest_container_name_is_valid("payram"));
        assert_true(manifest_container_name_is_valid("Payram_2.x-b"));
        assert_false(manifest_container_name_is_valid(""));
        assert_false(manifest_container_name_is_valid("_payram"));
        assert_false(manifest_container_name_is_valid("pay ram"));
        assert_false(manifest_container_name_is_valid("pay/ram"));

        memset(long_name, 'a', sizeof(long_name));
        long_name[MANIFEST_MAX_NAME_BYTES] = '\0';
        assert_true(manifest_container_name_is_valid(long_name));
        long_name[MANIFEST_MAX_NAME_BYTES] = 'a';
        long_name[MANIFEST_MAX_NAME_BYTES + 1] = '\0';
        assert_false(manifest_container_name_is_valid(long_name));

        assert_true(manifest_endpoint_is_valid("/"));
        assert_true(manifest_endpoint_is_valid("/api/v1/health?full=1"));
        assert_false(manifest_endpoint_is_valid(""));
        assert_false(manifest_endpoint_is_valid("api/v1/health"));
        assert_false(manifest_endpoint_is_valid("/api health"));
        assert_false(manifest_endpoint_is_valid("/api\r\nX: y"));
        assert_false(manifest_endpoint_is_valid("/\x7f"));
        assert_false(manifest_endpoint_is_valid("http://x/health"));
}

static void test_malformed(void **state) {
        static const struct {
                const char *doc;
                const char *error;
        } cases[] = {
                { "", "not valid JSON" },
                { "[1]", "not a JSON object" },
                { "{\"image\":{\"repo\":\"a\"}," HC "}}", "not valid JSON" },
                { "{\"image\":{\"repo\":\"a\"}," HC "} garbage", "not valid JSON" },
                { "{" HC "}", "image.repo is missing" },
                { "{\"image\":{}," HC "}", "image.repo is missing" },
                { "{\"image\":\"payramapp/payram\"," HC "}", "image is not an object" },
                { "{\"image\":{\"repo\":[]}," HC "}", "image.repo is not a string" },
                { "{\"image\":{\"repo\":\"Bad Repo\"}," HC "}",
                  "image.repo is not a Docker repository name" },
                { "{\"image\":{\"repo\":\"a\\u0000b\"}," HC "}",
                  "image.repo contains a NUL byte" },
                { "{\"image\":{\"repo\":\"a\"},\"defaults\":[]," HC "}",
                  "defaults is not an object" },
                { "{\"image\":{\"repo\":\"a\"},\"defaults\":{\"container_name\":1}," HC "}",
                  "defaults.container_name is not a string" },
                { "{\"image\":{\"repo\":\"a\"},\"defaults\":{\"container_name\":\"-x\"},"
                  HC "}",
                  "defaults.container_name is not a Docker container name" },
                { "{\"image\":{\"repo\":\"a\"}}", "health_check.endpoint is missing" },
                { "{\"image\":{\"repo\":\"a\"},\"health_check\":{\"endpoint\":\"health\"}}",
                  "health_check.endpoint is not an absolute path" },
                { "{\"image\":{\"repo\":\"a\"},\"health_check\":{\"endpoint\":null}}",
                  "health_check.endpoint is not a string" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *error = NULL;
                Manifest m;

                assert_int_equal(manifest_parse(cases[i].doc, strlen(cases[i].doc), &m, &error), -EINVAL);
                assert_non_null(error);
                if (!strstr(error, cases[i].error))
                        fail_msg("case %zu: \"%s\" does not contain \"%s\"", i, error, cases[i].error);
                assert_null(m.image_repo);
                assert_null(m.container_name);
                assert_null(m.health_endpoint);
        }
}

static void test_unknown_keys_and_huge(void **state) {
        static const char doc[] = "{\"image\":{\"repo\":\"payramapp/payram\",\"digest\":1},\"x\":[[[]]],"
                                  "\"defaults\":{\"port\":80},"
                                  "\"health_check\":{\"endpoint\":\"/h\",\"t\":5}}";
        _cleanup_free_ char *error = NULL, *big = NULL;
        size_t n = 100000, len;
        Manifest m;

        assert_int_equal(manifest_parse(doc, strlen(doc), &m, &error), 0);
        assert_null(m.container_name);
        manifest_done(&m);

        big = malloc(n + 128);
        assert_non_null(big);
        len = (size_t) snprintf(big, 128, "{\"image\":{\"repo\":\"payramapp/payram\"},"
                                          "\"health_check\":{\"endpoint\":\"/");
        memset(big + len, 'h', n);
        len += n;
        len += (size_t) snprintf(big + len, 128, "\"}}");
        assert_int_equal(manifest_parse(big, len, &m, &error), -EINVAL);
        assert_non_null(strstr(error, "health_check.endpoint"));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_real_files),
                cmocka_unit_test(test_repo_names),
                cmocka_unit_test(test_names_and_endpoints),
                cmocka_unit_test(test_malformed),
                cmocka_unit_test(test_unknown_keys_and_huge),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
