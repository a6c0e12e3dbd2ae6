/* The configuration: the environment-file syntax as a table of texts and
 * what they assign, then loading and validation of every key from a real
 * file in a temporary directory and from an environment array. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "config/config.h"
#include "util/macros.h"

/* ---- Syntax ----------------------------------------------------------- */

/* Collects "KEY=VALUE@LINE;" for every assignment. */
static int collect(const char *key, const char *value, unsigned line, void *userdata, char **ret_error) {
        char **out = userdata;
        char *n = NULL;

        assert_true(asprintf(&n, "%s%s=%s@%u;", strempty(*out), key, value, line) > 0);
        free(*out);
        *out = n;
        return 0;
}

static int parse(const char *text, size_t len, char **out, char **error) {
        return config_parse_env_text(text, len, "t.env", collect, out, error);
}

static void test_syntax_valid(void **state) {
        static const struct {
                const char *text, *expected;
        } cases[] = {
                { "", "" },
                { "\n\n \t \n", "" },
                { "A=1", "A=1@1;" },
                { "A=1\n", "A=1@1;" },
                { "  A  =  1  \n", "A=1@1;" },
                { "_a9=x", "_a9=x@1;" },
                { "A=\n", "A=@1;" },
                { "A=", "A=@1;" },
                { "A=1 # not a comment", "A=1 # not a comment@1;" },
                { "# comment\n; comment too\n  # indented\nA=1", "A=1@4;" },
                { "# comment with a backslash \\\nA=1", "A=1@2;" },
                { "A='x y  '\n", "A=x y  @1;" },
                { "A='a\\b\"$`'", "A=a\\b\"$`@1;" },
                { "A=\"a\\\"b\\\\c\\$d\\`e\\nf\"", "A=a\"b\\c$d`e\\nf@1;" },
                { "A=\"one\\\ntwo\"\nB=2", "A=onetwo@1;B=2@3;" },
                { "A=one\\\ntwo\nB=3", "A=onetwo@1;B=3@3;" },
                { "A=one \\\n two", "A=one  two@1;" },
                { "A=x\\ \n", "A=x @1;" },
                { "A=x\\#y", "A=x#y@1;" },
                { "A='multi\nline'\nB=1", "A=multi\nline@1;B=1@3;" },
                { "A=\"x\"   \n", "A=x@1;" },
                { "A=  'x'", "A=x@1;" },
                { "A='x'y", "A=xy@1;" },
                { "A=1\nA=2\n", "A=1@1;A=2@2;" },
                { "A=1\r\nB=2\r\n\r\nC=3", "A=1@1;B=2@2;C=3@4;" },
                { "A=one\\\r\ntwo\r\nB=1", "A=onetwo@1;B=1@3;" },
                { "A=a=b=c", "A=a=b=c@1;" },
                { "URL=https://u:p@h/p?t=1&x=2", "URL=https://u:p@h/p?t=1&x=2@1;" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *out = NULL, *error = NULL;
                int r;

                r = config_parse_env_text(cases[i].text, strlen(cases[i].text), "t.env", collect, &out,
                                          &error);
                if (r < 0)
                        fail_msg("case %zu: %s", i, strempty(error));
                if (!streq(strempty(out), cases[i].expected))
                        fail_msg("case %zu: got \"%s\", expected \"%s\"", i, strempty(out),
                                 cases[i].expected);
        }
}

static void test_syntax_errors(void **state) {
        static const struct {
                const char *text, *expected;
        } cases[] = {
                { "1A=1", "t.env:1: invalid key (must match [A-Za-z_][A-Za-z0-9_]*)" },
                { "A B=1", "t.env:1: invalid key (must match [A-Za-z_][A-Za-z0-9_]*)" },
                { "A-B=1", "t.env:1: invalid key (must match [A-Za-z_][A-Za-z0-9_]*)" },
                { "\n=1", "t.env:2: no key before '='" },
                { "A\nB=1", "t.env:1: line is not KEY=VALUE (missing '=')" },
                { "A=1\n\nJUSTAWORD", "t.env:3: line is not KEY=VALUE (missing '=')" },
                { "A=1\r\nB\r\n", "t.env:2: line is not KEY=VALUE (missing '=')" },
                { "export A=1", "t.env:1: 'export' is not supported in an environment file (systemd ignores "
                                "such lines); write KEY=VALUE" },
                { "A=1\nB='x\n\n", "t.env:2: B: unterminated quoted value" },
                { "A=\"x\\\"", "t.env:1: A: unterminated quoted value" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *out = NULL, *error = NULL;
                int r;

                r = config_parse_env_text(cases[i].text, strlen(cases[i].text), "t.env", collect, &out,
                                          &error);
                assert_int_equal(r, -EINVAL);
                if (!streq(strempty(error), cases[i].expected))
                        fail_msg("case %zu: got \"%s\", expected \"%s\"", i, strempty(error),
                                 cases[i].expected);
        }
}

static void test_syntax_nul_and_limits(void **state) {
        static const char with_nul[] = "A=1\nB=x\0y\n";
        _cleanup_free_ char *out = NULL, *error = NULL, *text = NULL;
        size_t n = CONFIG_MAX_VALUE_BYTES + 16;

        assert_int_equal(parse(with_nul, sizeof(with_nul) - 1, &out, &error), -EINVAL);
        assert_string_equal(error, "t.env:2: contains a NUL byte");
        free(error);
        error = NULL;
        free(out);
        out = NULL;

        /* A value of exactly the limit, then one byte more, quoted or not. */
        text = malloc(n);
        assert_non_null(text);
        memcpy(text, "A=", 2);
        memset(text + 2, 'v', CONFIG_MAX_VALUE_BYTES);
        assert_int_equal(parse(text, 2 + CONFIG_MAX_VALUE_BYTES, &out, &error), 0);
        assert_int_equal(strlen(out), 2 + CONFIG_MAX_VALUE_BYTES + strlen("@1;"));

        text[2 + CONFIG_MAX_VALUE_BYTES] = 'v';
        assert_int_equal(parse(text, 3 + CONFIG_MAX_VALUE_BYTES, &out, &error), -EINVAL);
        assert_string_equal(error, "t.env:1: A: value longer than 4096 bytes");
        free(error);
        error = NULL;

        /* 'v...v' with one v too many. */
        text[2] = '\'';
        text[3 + CONFIG_MAX_VALUE_BYTES] = 'v';
        text[4 + CONFIG_MAX_VALUE_BYTES] = '\'';
        assert_int_equal(parse(text, 5 + CONFIG_MAX_VALUE_BYTES, &out, &error), -EINVAL);
        assert_non_null(strstr(error, "value longer than"));
        free(error);
        error = NULL;

        /* An over-long key. */
        memset(text, 'K', n - 2);
        text[n - 2] = '=';
        assert_int_equal(parse(text, n - 1, &out, &error), -EINVAL);
        assert_string_equal(error, "t.env:1: key longer than 256 bytes");
}

static int refuse(const char *key, const char *value, unsigned line, void *userdata, char **ret_error) {
        if (!streq(key, "BAD"))
                return 0;
        *ret_error = strdup("BAD is refused");
        return -EINVAL;
}

static void test_syntax_callback_error(void **state) {
        _cleanup_free_ char *error = NULL;
        static const char text[] = "A=1\n# x\nBAD=2\n";

        assert_int_equal(config_parse_env_text(text, strlen(text), "t.env", refuse, NULL, &error), -EINVAL);
        assert_string_equal(error, "t.env:3: BAD is refused");
}

/* ---- Loading ---------------------------------------------------------- */

static char tmpdir[] = "/tmp/test-config-XXXXXX";
static char env_path[sizeof(tmpdir) + 32];

static int setup(void **state) {
        assert_non_null(mkdtemp(tmpdir));
        (void) snprintf(env_path, sizeof(env_path), "%s/updater.env", tmpdir);
        return 0;
}

static int teardown(void **state) {
        _cleanup_free_ char *p = NULL;

        (void) unlink(env_path);
        assert_true(asprintf(&p, "%s/dir.env", tmpdir) > 0);
        (void) rmdir(p);
        (void) rmdir(tmpdir);
        return 0;
}

static void write_env(const char *text) {
        FILE *f = fopen(env_path, "we");

        assert_non_null(f);
        assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
        assert_int_equal(fclose(f), 0);
}

#define BASE                                                    \
        "POLICY_URL=https://raw.example.com/policy.json\n"       \
        "RUNTIME_MANIFEST_URL=/etc/payram/manifest.json\n"

static void test_defaults(void **state) {
        _cleanup_free_ char *error = NULL;
        char *const env[] = { NULL };
        Config c;

        write_env("# Payram settings\nPAYRAM_DB_PASSWORD='secret'\nOTHER=1\n" BASE);
        assert_int_equal(config_load(env_path, env, &c, &error), 0);
        assert_null(error);
        assert_int_equal(c.port, 2359);
        assert_string_equal(c.policy_url, "https://raw.example.com/policy.json");
        assert_string_equal(c.manifest_url, "/etc/payram/manifest.json");
        assert_int_equal(c.fetch_timeout_sec, 10);
        assert_string_equal(c.state_dir, "/var/lib/payram");
        assert_string_equal(c.log_dir, "/var/log/payram");
        assert_int_equal(c.http_max_connections, 256);
        assert_int_equal(c.http_max_header_bytes, 8192);
        assert_int_equal(c.http_max_body_bytes, 65536);
        assert_int_equal(c.http_request_timeout_sec, 10);
        assert_int_equal(c.http_idle_timeout_sec, 60);
        assert_int_equal(c.idle_exit_sec, 0);
        config_done(&c);
        assert_null(c.policy_url);
        config_done(&c);

        /* NULL environment works like an empty one. */
        assert_int_equal(config_load(env_path, NULL, &c, &error), 0);
        config_done(&c);
}

static void test_all_keys(void **state) {
        _cleanup_free_ char *error = NULL;
        Config c;

        write_env("UPDATER_PORT=65535\n"
                  "POLICY_URL=\"file:///srv/policy.json\"\n"
                  "RUNTIME_MANIFEST_URL='http://10.0.0.1:8080/m.json'\n"
                  "FETCH_TIMEOUT_SECONDS=3600\n"
                  "STATE_DIR=/srv/state\n"
                  "LOG_DIR=/srv/log\n"
                  "HTTP_MAX_CONNECTIONS=100000\n"
                  "HTTP_MAX_HEADER_BYTES=1024\n"
                  "HTTP_MAX_BODY_BYTES=16777216\n"
                  "HTTP_REQUEST_TIMEOUT_SECONDS=1\n"
                  "HTTP_IDLE_TIMEOUT_SECONDS=86400\n"
                  "IDLE_EXIT_SECONDS=604800\n");
        assert_int_equal(config_load(env_path, NULL, &c, &error), 0);
        assert_int_equal(c.port, 65535);
        assert_string_equal(c.policy_url, "file:///srv/policy.json");
        assert_string_equal(c.manifest_url, "http://10.0.0.1:8080/m.json");
        assert_int_equal(c.fetch_timeout_sec, 3600);
        assert_string_equal(c.state_dir, "/srv/state");
        assert_string_equal(c.log_dir, "/srv/log");
        assert_int_equal(c.http_max_connections, 100000);
        assert_int_equal(c.http_max_header_bytes, 1024);
        assert_int_equal(c.http_max_body_bytes, 16777216);
        assert_int_equal(c.http_request_timeout_sec, 1);
        assert_int_equal(c.http_idle_timeout_sec, 86400);
        assert_int_equal(c.idle_exit_sec, 604800);
        config_done(&c);
}

/* Each line goes on line 3 of a file that is otherwise valid. */
static void test_validation(void **state) {
        static const struct {
                const char *line, *expected; /* expected follows "<path>:3: " */
        } cases[] = {
                { "UPDATER_PORT=70000", "UPDATER_PORT=70000: not a port number (1-65535)" },
                { "UPDATER_PORT=0", "UPDATER_PORT=0: not a port number (1-65535)" },
                { "UPDATER_PORT=-1", "UPDATER_PORT=-1: not a port number (1-65535)" },
                { "UPDATER_PORT=' 80'", "UPDATER_PORT= 80: not a port number (1-65535)" },
                { "UPDATER_PORT=0x50", "UPDATER_PORT=0x50: not a port number (1-65535)" },
                { "UPDATER_PORT=", "UPDATER_PORT=: not a port number (1-65535)" },
                { "UPDATER_PORT=99999999999999999999999", "UPDATER_PORT=99999999999999999999999: not a port "
                                                           "number (1-65535)" },
                { "FETCH_TIMEOUT_SECONDS=ten",
                  "FETCH_TIMEOUT_SECONDS=ten: not a number of seconds (1-3600)" },
                { "FETCH_TIMEOUT_SECONDS=0", "FETCH_TIMEOUT_SECONDS=0: not a number of seconds (1-3600)" },
                { "FETCH_TIMEOUT_SECONDS=3601",
                  "FETCH_TIMEOUT_SECONDS=3601: not a number of seconds (1-3600)" },
                { "FETCH_TIMEOUT_SECONDS=10s",
                  "FETCH_TIMEOUT_SECONDS=10s: not a number of seconds (1-3600)" },
                { "HTTP_MAX_CONNECTIONS=0",
                  "HTTP_MAX_CONNECTIONS=0: not a number of connections (1-100000)" },
                { "HTTP_MAX_CONNECTIONS=100001",
                  "HTTP_MAX_CONNECTIONS=100001: not a number of connections (1-100000)" },
                { "HTTP_MAX_HEADER_BYTES=1023",
                  "HTTP_MAX_HEADER_BYTES=1023: not a number of bytes (1024-1048576)" },
                { "HTTP_MAX_HEADER_BYTES=1048577",
                  "HTTP_MAX_HEADER_BYTES=1048577: not a number of bytes (1024-1048576)" },
                { "HTTP_MAX_BODY_BYTES=1023",
                  "HTTP_MAX_BODY_BYTES=1023: not a number of bytes (1024-16777216)" },
                { "HTTP_MAX_BODY_BYTES=16777217",
                  "HTTP_MAX_BODY_BYTES=16777217: not a number of bytes (1024-16777216)" },
                { "HTTP_REQUEST_TIMEOUT_SECONDS=0",
                  "HTTP_REQUEST_TIMEOUT_SECONDS=0: not a number of seconds (1-3600)" },
                { "HTTP_REQUEST_TIMEOUT_SECONDS=3601",
                  "HTTP_REQUEST_TIMEOUT_SECONDS=3601: not a number of seconds (1-3600)" },
                { "HTTP_IDLE_TIMEOUT_SECONDS=0",
                  "HTTP_IDLE_TIMEOUT_SECONDS=0: not a number of seconds (1-86400)" },
                { "HTTP_IDLE_TIMEOUT_SECONDS=86401",
                  "HTTP_IDLE_TIMEOUT_SECONDS=86401: not a number of seconds (1-86400)" },
                { "IDLE_EXIT_SECONDS=-1", "IDLE_EXIT_SECONDS=-1: not a number of seconds (0-604800)" },
                { "IDLE_EXIT_SECONDS=604801",
                  "IDLE_EXIT_SECONDS=604801: not a number of seconds (0-604800)" },
                { "STATE_DIR=var/lib/payram", "STATE_DIR=var/lib/payram: not an absolute path" },
                { "STATE_DIR=", "STATE_DIR=: not an absolute path" },
                { "LOG_DIR=\"/var/log/a\nb\"", "LOG_DIR=/var/log/a?b: not an absolute path" },
                { "POLICY_URL=", "POLICY_URL=: empty, a URL is required" },
                { "POLICY_URL=ftp://mirror/policy.json",
                  "POLICY_URL=ftp://mirror/policy.json: not an http://, https:// or file:// URL or an "
                  "absolute path" },
                { "POLICY_URL=policy.json",
                  "POLICY_URL=policy.json: not an http://, https:// or file:// URL or an absolute path" },
                { "POLICY_URL=https://",
                  "POLICY_URL=https://: not an http://, https:// or file:// URL or an absolute path" },
                { "RUNTIME_MANIFEST_URL='https://host/a b'",
                  "RUNTIME_MANIFEST_URL=https://host/a b: not an http://, https:// or file:// URL or an "
                  "absolute path" },
                { "RUNTIME_MANIFEST_URL=file://host/m.json",
                  "RUNTIME_MANIFEST_URL=file://host/m.json: a file:// URL names a local absolute path: "
                  "file:///path" },
                /* Credentials and tokens never reach the message. */
                { "POLICY_URL='ftp://admin:hunter2@host/p.json?token=abc123#frag'",
                  "POLICY_URL=ftp://***@host/p.json?***#***: not an http://, https:// or file:// URL or an "
                  "absolute path" },
                { "POLICY_URL='https://admin:hunter2@host/p json?token=abc123'",
                  "POLICY_URL=https://***@host/p json?***: not an http://, https:// or file:// URL or an "
                  "absolute path" },
                /* A password with an unencoded '/' or '?': curl cannot parse the URL,
                 * and the message still hides the password. */
                { "POLICY_URL='http://admin:s3cr/et@127.0.0.1:8080/p'",
                  "POLICY_URL=http://***@127.0.0.1:8080/p: not a URL curl can parse (encode special "
                  "characters in a user name or password with %XX)" },
                { "POLICY_URL='http://admin:pa55?w0rd@127.0.0.1/p'",
                  "POLICY_URL=http://***@127.0.0.1/p: not a URL curl can parse (encode special "
                  "characters in a user name or password with %XX)" },
                /* The userinfo ends at the last '@' of the authority, as curl reads it. */
                { "POLICY_URL='ftp://admin:p@ssW0RD@host/x?token=T'",
                  "POLICY_URL=ftp://***@host/x?***: not an http://, https:// or file:// URL or an "
                  "absolute path" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *text = NULL, *error = NULL, *expected = NULL;
                Config c;

                assert_true(asprintf(&text, BASE "%s\n", cases[i].line) > 0);
                assert_true(asprintf(&expected, "%s:3: %s", env_path, cases[i].expected) > 0);
                write_env(text);

                assert_int_equal(config_load(env_path, NULL, &c, &error), -EINVAL);
                if (!streq(strempty(error), expected))
                        fail_msg("case %zu: got \"%s\"\n expected \"%s\"", i, strempty(error), expected);
                assert_null(c.policy_url);
                assert_null(c.manifest_url);
                assert_null(c.state_dir);
                assert_int_equal(c.port, 0);
        }
}

static void test_valid_urls(void **state) {
        static const char *const urls[] = {
                "http://h/p", "https://h", "HTTPS://H/P", "file:///srv/p.json", "/srv/p.json",
                "https://user:pw@h/p?token=1",
        };

        for (size_t i = 0; i < ELEMENTSOF(urls); i++) {
                _cleanup_free_ char *text = NULL, *error = NULL;
                Config c;

                assert_true(asprintf(&text, "POLICY_URL=%s\nRUNTIME_MANIFEST_URL=%s\n", urls[i], urls[i]) >
                            0);
                write_env(text);
                if (config_load(env_path, NULL, &c, &error) < 0)
                        fail_msg("%s refused: %s", urls[i], strempty(error));
                assert_string_equal(c.policy_url, urls[i]);
                config_done(&c);
        }
}

static void test_missing_required(void **state) {
        _cleanup_free_ char *error = NULL, *expected = NULL;
        Config c;

        write_env("RUNTIME_MANIFEST_URL=/m.json\n");
        assert_int_equal(config_load(env_path, NULL, &c, &error), -EINVAL);
        assert_true(asprintf(&expected, "POLICY_URL is not set (in %s or the environment)", env_path) > 0);
        assert_string_equal(error, expected);
        free(error);
        free(expected);

        write_env("POLICY_URL=/p.json\n");
        assert_int_equal(config_load(env_path, NULL, &c, &error), -EINVAL);
        assert_true(asprintf(&expected, "RUNTIME_MANIFEST_URL is not set (in %s or the environment)",
                             env_path) > 0);
        assert_string_equal(error, expected);
}

static void test_environment(void **state) {
        _cleanup_free_ char *error = NULL;
        char *const env[] = {
                (char *) "PATH=/usr/bin",
                (char *) "UPDATER_PORT=2000",
                (char *) "UPDATER_PORT=3000", /* getenv() would see the first */
                (char *) "NOEQUALS",
                (char *) "POLICY_URL=https://env.example.com/p.json",
                NULL,
        };
        char *const bad_env[] = { (char *) "FETCH_TIMEOUT_SECONDS=ten", NULL };
        Config c;

        /* The file's bad port is overridden and so never used. */
        write_env(BASE "UPDATER_PORT=70000\nFETCH_TIMEOUT_SECONDS=20\n");
        assert_int_equal(config_load(env_path, env, &c, &error), 0);
        assert_int_equal(c.port, 2000);
        assert_string_equal(c.policy_url, "https://env.example.com/p.json");
        assert_string_equal(c.manifest_url, "/etc/payram/manifest.json");
        assert_int_equal(c.fetch_timeout_sec, 20);
        config_done(&c);

        write_env(BASE);
        assert_int_equal(config_load(env_path, bad_env, &c, &error), -EINVAL);
        assert_string_equal(error,
                            "environment: FETCH_TIMEOUT_SECONDS=ten: not a number of seconds (1-3600)");
}

static void test_environment_only(void **state) {
        _cleanup_free_ char *error = NULL, *missing = NULL;
        char *const env[] = { (char *) "POLICY_URL=/p.json", (char *) "RUNTIME_MANIFEST_URL=/m.json", NULL };
        Config c;

        assert_true(asprintf(&missing, "%s/does-not-exist.env", tmpdir) > 0);
        assert_int_equal(config_load(missing, env, &c, &error), 0);
        assert_string_equal(c.policy_url, "/p.json");
        config_done(&c);

        assert_int_equal(config_load(NULL, env, &c, &error), 0);
        config_done(&c);

        assert_int_equal(config_load(missing, NULL, &c, &error), -EINVAL);
        assert_non_null(strstr(error, "POLICY_URL is not set"));
}

static void test_directories_from_systemd(void **state) {
        _cleanup_free_ char *error = NULL;
        char *const env[] = {
                (char *) "STATE_DIRECTORY=/var/lib/payram-updater:/var/lib/other",
                (char *) "LOGS_DIRECTORY=/var/log/payram-updater",
                NULL,
        };
        char *const bad[] = { (char *) "STATE_DIRECTORY=relative:/abs", NULL };
        char *const empty[] = { (char *) "STATE_DIRECTORY=", (char *) "LOGS_DIRECTORY=", NULL };
        char *const explicit[] = {
                (char *) "STATE_DIRECTORY=/from/systemd",
                (char *) "LOG_DIR=/from/env",
                NULL,
        };
        Config c;

        write_env(BASE);
        assert_int_equal(config_load(env_path, env, &c, &error), 0);
        assert_string_equal(c.state_dir, "/var/lib/payram-updater");
        assert_string_equal(c.log_dir, "/var/log/payram-updater");
        config_done(&c);

        assert_int_equal(config_load(env_path, empty, &c, &error), 0);
        assert_string_equal(c.state_dir, "/var/lib/payram");
        assert_string_equal(c.log_dir, "/var/log/payram");
        config_done(&c);

        /* STATE_DIR in the file wins over $STATE_DIRECTORY; LOG_DIR in the
         * environment over the file. */
        write_env(BASE "STATE_DIR=/from/file\nLOG_DIR=/from/file/log\n");
        assert_int_equal(config_load(env_path, explicit, &c, &error), 0);
        assert_string_equal(c.state_dir, "/from/file");
        assert_string_equal(c.log_dir, "/from/env");
        config_done(&c);

        write_env(BASE);
        assert_int_equal(config_load(env_path, bad, &c, &error), -EINVAL);
        assert_string_equal(error, "environment: STATE_DIRECTORY=relative: not an absolute path");
}

static void test_unreadable(void **state) {
        _cleanup_free_ char *error = NULL, *dir = NULL;
        Config c;

        /* A directory where the file should be. */
        assert_true(asprintf(&dir, "%s/dir.env", tmpdir) > 0);
        assert_int_equal(mkdir(dir, 0700), 0);
        assert_int_equal(config_load(dir, NULL, &c, &error), -EISDIR);
        assert_non_null(strstr(error, "Failed to read"));
        assert_non_null(strstr(error, "dir.env"));
        free(error);
        error = NULL;

        /* No read permission (root reads anyway, so only checked as a user). */
        write_env(BASE);
        assert_int_equal(chmod(env_path, 0), 0);
        if (geteuid() != 0) {
                assert_int_equal(config_load(env_path, NULL, &c, &error), -EACCES);
                assert_non_null(strstr(error, "Permission denied"));
                free(error);
                error = NULL;
        }
        assert_int_equal(chmod(env_path, 0600), 0);

        /* Too large. */
        {
                _cleanup_free_ char *big = malloc(CONFIG_MAX_FILE_BYTES + 2);

                assert_non_null(big);
                memset(big, '#', CONFIG_MAX_FILE_BYTES + 1);
                big[CONFIG_MAX_FILE_BYTES + 1] = '\0';
                write_env(big);
                assert_int_equal(config_load(env_path, NULL, &c, &error), -EFBIG);
                assert_non_null(strstr(error, "larger than 65536 bytes"));
                assert_null(c.policy_url);
        }
}

static void test_syntax_error_in_file(void **state) {
        _cleanup_free_ char *error = NULL, *expected = NULL;
        Config c;

        write_env(BASE "export UPDATER_PORT=80\n");
        assert_int_equal(config_load(env_path, NULL, &c, &error), -EINVAL);
        assert_true(asprintf(&expected, "%s:3: 'export' is not supported", env_path) > 0);
        assert_non_null(strstr(error, expected));
        assert_null(c.policy_url);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_syntax_valid),
                cmocka_unit_test(test_syntax_errors),
                cmocka_unit_test(test_syntax_nul_and_limits),
                cmocka_unit_test(test_syntax_callback_error),
                cmocka_unit_test(test_defaults),
                cmocka_unit_test(test_all_keys),
                cmocka_unit_test(test_validation),
                cmocka_unit_test(test_valid_urls),
                cmocka_unit_test(test_missing_required),
                cmocka_unit_test(test_environment),
                cmocka_unit_test(test_environment_only),
                cmocka_unit_test(test_directories_from_systemd),
                cmocka_unit_test(test_unreadable),
                cmocka_unit_test(test_syntax_error_in_file),
        };

        return cmocka_run_group_tests(tests, setup, teardown);
}
