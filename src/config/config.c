/* The service configuration.  /etc/payram/updater.env is read with the
 * syntax systemd uses for EnvironmentFile= (so the same file can be handed
 * to a unit), the process environment overrides it key by key, and then
 * every value is validated.  A bad value stops the load with a message that
 * names the key, the value and where it came from; nothing silently falls
 * back to a default.
 *
 * Where this parser differs from systemd it is stricter, never looser: a
 * line without "=", an invalid key, an unterminated quote, a NUL byte or an
 * over-long value is an error here, where systemd skips or truncates.
 * "export KEY=VALUE" is refused too: systemd would ignore the line, so
 * accepting it here would make the unit and the daemon disagree. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <curl/curl.h>

#include "config/config.h"
#include "util/url-util.h"
#include "util/fileio.h"
#include "util/parse-util.h"

#define CONFIG_MAX_KEY_BYTES   256
#define MESSAGE_MAX_VALUE_SHOWN 80 /* bytes of a bad value quoted in an error */

/* ---- The environment-file syntax -------------------------------------- */

typedef enum ParseState {
        STATE_PRE_KEY,
        STATE_KEY,
        STATE_PRE_VALUE,
        STATE_VALUE,
        STATE_VALUE_ESCAPE,
        STATE_SINGLE_QUOTE,
        STATE_DOUBLE_QUOTE,
        STATE_DOUBLE_QUOTE_ESCAPE,
        STATE_COMMENT,
} ParseState;

typedef struct EnvParser {
        const char *origin;
        config_assignment_t callback;
        void *userdata;
        char **ret_error;

        ParseState state;
        unsigned line;        /* line of the byte being read */
        unsigned start_line;  /* line where the current assignment began */

        char key[CONFIG_MAX_KEY_BYTES + 1];
        size_t n_key;
        char *value;          /* CONFIG_MAX_VALUE_BYTES + 1 */
        size_t n_value;
        size_t trim_at;       /* start of trailing unquoted whitespace, or SIZE_MAX */
} EnvParser;

/* "ORIGIN:LINE: MESSAGE" in *ret_error; returns -EINVAL (-ENOMEM if even
 * that fails). */
_printf_(3, 4) static int parser_error(EnvParser *p, unsigned line, const char *format, ...) {
        _cleanup_free_ char *m = NULL;
        char *full = NULL;
        va_list ap;
        int r;

        va_start(ap, format);
        r = vasprintf(&m, format, ap);
        va_end(ap);
        if (r < 0) {
                m = NULL;
                return -ENOMEM;
        }

        if (asprintf(&full, "%s:%u: %s", p->origin ? p->origin : "(text)", line, m) < 0)
                return -ENOMEM;
        if (p->ret_error)
                *p->ret_error = full;
        else
                free(full);
        return -EINVAL;
}

static bool is_newline(char c) {
        return c == '\n' || c == '\r';
}

static bool is_blank(char c) {
        return c == ' ' || c == '\t';
}

static bool key_is_valid(const char *k) {
        if (!((*k >= 'A' && *k <= 'Z') || (*k >= 'a' && *k <= 'z') || *k == '_'))
                return false;
        for (k++; *k; k++)
                if (!((*k >= 'A' && *k <= 'Z') || (*k >= 'a' && *k <= 'z') || (*k >= '0' && *k <= '9') ||
                      *k == '_'))
                        return false;
        return true;
}

/* Called at "=": trims the key and checks it. */
static int finish_key(EnvParser *p) {
        while (p->n_key > 0 && is_blank(p->key[p->n_key - 1]))
                p->n_key--;
        p->key[p->n_key] = '\0';

        if (p->n_key == 0)
                return parser_error(p, p->start_line, "no key before '='");
        if (strncmp(p->key, "export", 6) == 0 && is_blank(p->key[6]))
                return parser_error(p, p->start_line,
                                    "'export' is not supported in an environment file (systemd ignores "
                                    "such lines); write KEY=VALUE");
        if (!key_is_valid(p->key))
                return parser_error(p, p->start_line,
                                    "invalid key (must match [A-Za-z_][A-Za-z0-9_]*)");

        p->n_value = 0;
        p->trim_at = SIZE_MAX;
        return 0;
}

static int append_key(EnvParser *p, char c) {
        if (p->n_key >= CONFIG_MAX_KEY_BYTES)
                return parser_error(p, p->start_line, "key longer than %d bytes", CONFIG_MAX_KEY_BYTES);
        p->key[p->n_key++] = c;
        return 0;
}

/* Appends C to the value.  Unquoted whitespace is remembered so that it
 * can be chomped if nothing but whitespace follows on the line. */
static int append_value(EnvParser *p, char c, bool unquoted_blank) {
        if (p->n_value >= CONFIG_MAX_VALUE_BYTES)
                return parser_error(p, p->start_line, "%s: value longer than %zu bytes", p->key,
                                    CONFIG_MAX_VALUE_BYTES);

        if (!unquoted_blank)
                p->trim_at = SIZE_MAX;
        else if (p->trim_at == SIZE_MAX)
                p->trim_at = p->n_value;
        p->value[p->n_value++] = c;
        return 0;
}

/* Hands the finished assignment to the callback; a message it returns is
 * prefixed with "ORIGIN:LINE: " so that it names the line. */
static int push_assignment(EnvParser *p) {
        char *error = NULL;
        int r;

        if (p->trim_at != SIZE_MAX)
                p->n_value = p->trim_at;
        p->value[p->n_value] = '\0';
        p->state = STATE_PRE_KEY;

        r = p->callback(p->key, p->value, p->start_line, p->userdata, &error);
        if (r >= 0)
                return 0;
        if (!error)
                return r;

        r = parser_error(p, p->start_line, "%s", error);
        free(error);
        return r;
}

/* A line break consumed inside a value: "\r\n" counts as one. */
static size_t skip_newline(EnvParser *p, const char *text, size_t len, size_t i) {
        if (text[i] == '\r' && i + 1 < len && text[i + 1] == '\n')
                i++;
        if (text[i] == '\n')
                p->line++;
        return i;
}

static int step_key(EnvParser *p, char c) {
        if (is_newline(c))
                return parser_error(p, p->start_line, "line is not KEY=VALUE (missing '=')");
        if (c == '=') {
                p->state = STATE_PRE_VALUE;
                return finish_key(p);
        }
        return append_key(p, c);
}

static int step_pre_key(EnvParser *p, char c) {
        if (is_blank(c) || is_newline(c))
                return 0;
        if (c == '#' || c == ';') {
                p->state = STATE_COMMENT;
                return 0;
        }

        p->state = STATE_KEY;
        p->start_line = p->line;
        p->n_key = 0;
        return step_key(p, c);
}

static int step_pre_value(EnvParser *p, char c) {
        switch (c) {
        case ' ':
        case '\t':
                return 0;
        case '\n':
        case '\r':
                return push_assignment(p);
        case '\'':
                p->state = STATE_SINGLE_QUOTE;
                return 0;
        case '"':
                p->state = STATE_DOUBLE_QUOTE;
                return 0;
        case '\\':
                p->state = STATE_VALUE_ESCAPE;
                return 0;
        default:
                p->state = STATE_VALUE;
                return append_value(p, c, false);
        }
}

static int step_value(EnvParser *p, char c) {
        if (is_newline(c))
                return push_assignment(p);
        if (c == '\\') {
                p->state = STATE_VALUE_ESCAPE;
                p->trim_at = SIZE_MAX;
                return 0;
        }
        return append_value(p, c, is_blank(c));
}

/* Feeds byte I; may consume the "\n" of a "\r\n" pair.  Returns the index
 * of the last byte consumed, or a negative errno. */
static ssize_t parser_step(EnvParser *p, const char *text, size_t len, size_t i) {
        char c = text[i];
        int r = 0;

        switch (p->state) {
        case STATE_PRE_KEY:
                r = step_pre_key(p, c);
                break;
        case STATE_KEY:
                r = step_key(p, c);
                break;
        case STATE_PRE_VALUE:
                r = step_pre_value(p, c);
                break;
        case STATE_VALUE:
                r = step_value(p, c);
                break;
        case STATE_VALUE_ESCAPE:
                /* A backslash continues the line or makes the next byte literal. */
                p->state = STATE_VALUE;
                if (is_newline(c))
                        return (ssize_t) skip_newline(p, text, len, i);
                r = append_value(p, c, false);
                break;
        case STATE_SINGLE_QUOTE:
                if (c == '\'')
                        p->state = STATE_PRE_VALUE;
                else
                        r = append_value(p, c, false);
                break;
        case STATE_DOUBLE_QUOTE:
                if (c == '"')
                        p->state = STATE_PRE_VALUE;
                else if (c == '\\')
                        p->state = STATE_DOUBLE_QUOTE_ESCAPE;
                else
                        r = append_value(p, c, false);
                break;
        case STATE_DOUBLE_QUOTE_ESCAPE:
                /* As in a shell: only \" \\ \` \$ and line continuation are escapes. */
                p->state = STATE_DOUBLE_QUOTE;
                if (is_newline(c))
                        return (ssize_t) skip_newline(p, text, len, i);
                if (!strchr("\"\\`$", c))
                        r = append_value(p, '\\', false);
                if (r >= 0)
                        r = append_value(p, c, false);
                break;
        case STATE_COMMENT:
                if (is_newline(c))
                        p->state = STATE_PRE_KEY;
                break;
        }

        if (c == '\n')
                p->line++;
        return r < 0 ? r : (ssize_t) i;
}

static int parser_finish(EnvParser *p) {
        switch (p->state) {
        case STATE_KEY:
                return parser_error(p, p->start_line, "line is not KEY=VALUE (missing '=')");
        case STATE_PRE_VALUE:
        case STATE_VALUE:
        case STATE_VALUE_ESCAPE:
                return push_assignment(p);
        case STATE_SINGLE_QUOTE:
        case STATE_DOUBLE_QUOTE:
        case STATE_DOUBLE_QUOTE_ESCAPE:
                return parser_error(p, p->start_line, "%s: unterminated quoted value", p->key);
        default:
                return 0;
        }
}

int config_parse_env_text(const char *text, size_t len, const char *origin, config_assignment_t cb,
                          void *userdata, char **ret_error) {
        _cleanup_free_ char *value = NULL;
        EnvParser p = {
                .origin = origin,
                .callback = cb,
                .userdata = userdata,
                .ret_error = ret_error,
                .state = STATE_PRE_KEY,
                .line = 1,
                .trim_at = SIZE_MAX,
        };

        if (ret_error)
                *ret_error = NULL;

        value = malloc(CONFIG_MAX_VALUE_BYTES + 1);
        if (!value)
                return -ENOMEM;
        p.value = value;

        for (size_t i = 0; i < len; i++) {
                ssize_t r;

                if (text[i] == '\0')
                        return parser_error(&p, p.line, "contains a NUL byte");
                r = parser_step(&p, text, len, i);
                if (r < 0)
                        return (int) r;
                i = (size_t) r;
        }
        return parser_finish(&p);
}

/* ---- Keys, sources and validation ------------------------------------- */

typedef enum ConfigKey {
        KEY_PORT,
        KEY_POLICY_URL,
        KEY_MANIFEST_URL,
        KEY_FETCH_TIMEOUT,
        KEY_STATE_DIR,
        KEY_LOG_DIR,
        KEY_HTTP_MAX_CONNECTIONS,
        KEY_HTTP_MAX_HEADER_BYTES,
        KEY_HTTP_MAX_BODY_BYTES,
        KEY_HTTP_REQUEST_TIMEOUT,
        KEY_HTTP_IDLE_TIMEOUT,
        KEY_IDLE_EXIT,
        _KEY_MAX,
} ConfigKey;

static const char *const key_names[_KEY_MAX] = {
        [KEY_PORT] = "UPDATER_PORT",
        [KEY_POLICY_URL] = "POLICY_URL",
        [KEY_MANIFEST_URL] = "RUNTIME_MANIFEST_URL",
        [KEY_FETCH_TIMEOUT] = "FETCH_TIMEOUT_SECONDS",
        [KEY_STATE_DIR] = "STATE_DIR",
        [KEY_LOG_DIR] = "LOG_DIR",
        [KEY_HTTP_MAX_CONNECTIONS] = "HTTP_MAX_CONNECTIONS",
        [KEY_HTTP_MAX_HEADER_BYTES] = "HTTP_MAX_HEADER_BYTES",
        [KEY_HTTP_MAX_BODY_BYTES] = "HTTP_MAX_BODY_BYTES",
        [KEY_HTTP_REQUEST_TIMEOUT] = "HTTP_REQUEST_TIMEOUT_SECONDS",
        [KEY_HTTP_IDLE_TIMEOUT] = "HTTP_IDLE_TIMEOUT_SECONDS",
        [KEY_IDLE_EXIT] = "IDLE_EXIT_SECONDS",
};

typedef struct NumberSetting {
        ConfigKey key;
        size_t offset;        /* of a uint64_t in Config; the port is special-cased */
        uint64_t min, max, def;
        const char *what;     /* "not a <what> (min-max)" */
} NumberSetting;

static const NumberSetting number_settings[] = {
        { KEY_PORT, offsetof(Config, port), 1, 65535, CONFIG_DEFAULT_PORT, "port number" },
        { KEY_FETCH_TIMEOUT, offsetof(Config, fetch_timeout_sec), 1, CONFIG_MAX_FETCH_TIMEOUT_SEC,
          CONFIG_DEFAULT_FETCH_TIMEOUT_SEC, "number of seconds" },
        { KEY_HTTP_MAX_CONNECTIONS, offsetof(Config, http_max_connections), 1, 100000, 256,
          "number of connections" },
        { KEY_HTTP_MAX_HEADER_BYTES, offsetof(Config, http_max_header_bytes), 1024, 1048576, 8192,
          "number of bytes" },
        { KEY_HTTP_MAX_BODY_BYTES, offsetof(Config, http_max_body_bytes), 1024, 16777216, 65536,
          "number of bytes" },
        { KEY_HTTP_REQUEST_TIMEOUT, offsetof(Config, http_request_timeout_sec), 1, 3600, 10,
          "number of seconds" },
        { KEY_HTTP_IDLE_TIMEOUT, offsetof(Config, http_idle_timeout_sec), 1, 86400, 60,
          "number of seconds" },
        { KEY_IDLE_EXIT, offsetof(Config, idle_exit_sec), 0, 604800, 0, "number of seconds" },
};

/* One key's winning assignment: from the file (line > 0) or the
 * environment (line 0). */
typedef struct Setting {
        char *value;
        unsigned line;
} Setting;

typedef struct Loader {
        const char *path;
        Setting settings[_KEY_MAX];
} Loader;

static void loader_done(Loader *l) {
        for (size_t i = 0; i < _KEY_MAX; i++)
                free(l->settings[i].value);
}

static int key_from_name(const char *name, size_t n) {
        for (size_t i = 0; i < _KEY_MAX; i++)
                if (strlen(key_names[i]) == n && strncmp(key_names[i], name, n) == 0)
                        return (int) i;
        return -1;
}

/* A value as it may appear in a message: URLs redacted, control bytes
 * replaced, long values shortened. */
static char *value_for_message(ConfigKey k, const char *value) {
        _cleanup_free_ char *redacted = NULL;
        char *out;
        size_t n;

        if (k == KEY_POLICY_URL || k == KEY_MANIFEST_URL) {
                redacted = url_redact(value);
                if (!redacted)
                        return NULL;
                value = redacted;
        }

        n = strnlen(value, MESSAGE_MAX_VALUE_SHOWN + 1);
        out = malloc(MESSAGE_MAX_VALUE_SHOWN + sizeof("..."));
        if (!out)
                return NULL;
        for (size_t i = 0; i < n && i < MESSAGE_MAX_VALUE_SHOWN; i++)
                out[i] = ((unsigned char) value[i] < 0x20 || value[i] == 0x7f) ? '?' : value[i];
        if (n > MESSAGE_MAX_VALUE_SHOWN)
                memcpy(out + MESSAGE_MAX_VALUE_SHOWN, "...", sizeof("..."));
        else
                out[n] = '\0';
        return out;
}

/* "<where>: KEY=VALUE: REASON", where is "path:line" or "environment". */
static int setting_error(const Loader *l, ConfigKey k, const char *name, const char *reason,
                         char **ret_error) {
        const Setting *s = &l->settings[k];
        _cleanup_free_ char *shown = NULL, *where = NULL;
        char *m = NULL;

        shown = value_for_message(k, s->value);
        if (!shown)
                return -ENOMEM;
        if (s->line == 0)
                where = strdup("environment");
        else if (asprintf(&where, "%s:%u", l->path, s->line) < 0)
                where = NULL;
        if (!where)
                return -ENOMEM;

        if (asprintf(&m, "%s: %s=%s: %s", where, name ? name : key_names[k], shown, reason) < 0)
                return -ENOMEM;
        if (ret_error)
                *ret_error = m;
        else
                free(m);
        return -EINVAL;
}

static int record_from_file(const char *key, const char *value, unsigned line, void *userdata,
                            char **ret_error) {
        Loader *l = userdata;
        int k = key_from_name(key, strlen(key));

        /* The file is shared with other Payram settings. */
        if (k < 0)
                return 0;

        /* As with systemd, a later assignment replaces an earlier one. */
        if (free_and_strdup(&l->settings[k].value, value) < 0)
                return -ENOMEM;
        l->settings[k].line = line;
        return 0;
}

static int load_file(Loader *l, char **ret_error) {
        _cleanup_free_ char *text = NULL;
        struct stat st;
        size_t len;
        int r;

        if (!l->path)
                return 0;

        /* No file is fine: the environment alone may configure the service. */
        if (stat(l->path, &st) < 0) {
                if (errno == ENOENT)
                        return 0;
                r = -errno;
        } else if (S_ISDIR(st.st_mode))
                r = -EISDIR;
        else if (!S_ISREG(st.st_mode))
                r = -EINVAL;
        else
                r = read_file_bounded(l->path, CONFIG_MAX_FILE_BYTES, &text, &len);

        if (r == -EFBIG) {
                if (ret_error && asprintf(ret_error, "%s: larger than %zu bytes", l->path,
                                          CONFIG_MAX_FILE_BYTES) < 0)
                        *ret_error = NULL;
                return r;
        }
        if (r < 0) {
                if (ret_error && asprintf(ret_error, "Failed to read %s: %s", l->path,
                                          r == -EINVAL ? "not a regular file" : strerror(-r)) < 0)
                        *ret_error = NULL;
                return r;
        }

        return config_parse_env_text(text, len, l->path, record_from_file, l, ret_error);
}

/* The first occurrence wins, as with getenv(). */
static int load_environment(Loader *l, char *const *envp, char **ret_error) {
        bool seen[_KEY_MAX] = {};

        for (; envp && *envp; envp++) {
                const char *eq = strchr(*envp, '=');
                int k;

                if (!eq)
                        continue;
                k = key_from_name(*envp, (size_t) (eq - *envp));
                if (k < 0 || seen[k])
                        continue;
                seen[k] = true;

                if (free_and_strdup(&l->settings[k].value, eq + 1) < 0)
                        return -ENOMEM;
                l->settings[k].line = 0;
                if (strlen(eq + 1) > CONFIG_MAX_VALUE_BYTES) {
                        char reason[64];

                        (void) snprintf(reason, sizeof(reason), "value longer than %zu bytes",
                                        CONFIG_MAX_VALUE_BYTES);
                        return setting_error(l, k, NULL, reason, ret_error);
                }
        }
        return 0;
}

static const char *env_lookup(char *const *envp, const char *name) {
        size_t n = strlen(name);

        for (; envp && *envp; envp++)
                if (strncmp(*envp, name, n) == 0 && (*envp)[n] == '=')
                        return *envp + n + 1;
        return NULL;
}

static bool has_control_chars(const char *s) {
        for (; *s; s++)
                if ((unsigned char) *s < 0x20 || *s == 0x7f)
                        return true;
        return false;
}

static bool url_is_valid(const char *s) {
        const char *rest;

        for (const char *c = s; *c; c++)
                if ((unsigned char) *c <= 0x20 || *c == 0x7f)
                        return false;

        if (s[0] == '/')
                return true;
        if (strncasecmp(s, "file://", 7) == 0)
                return s[7] == '/';
        if (strncasecmp(s, "https://", 8) == 0)
                rest = s + 8;
        else if (strncasecmp(s, "http://", 7) == 0)
                rest = s + 7;
        else
                return false;
        return *rest != '\0' && *rest != '/';
}

static int number_from_setting(const Loader *l, const NumberSetting *n, uint64_t *ret, char **ret_error) {
        const char *v = l->settings[n->key].value;
        uint64_t x;
        char reason[96];

        if (!v) {
                *ret = n->def;
                return 0;
        }
        if (safe_atou64_max(v, n->max, &x) >= 0 && x >= n->min) {
                *ret = x;
                return 0;
        }

        (void) snprintf(reason, sizeof(reason), "not a %s (%" PRIu64 "-%" PRIu64 ")", n->what, n->min,
                        n->max);
        return setting_error(l, n->key, NULL, reason, ret_error);
}

static int numbers_from_loader(const Loader *l, Config *c, char **ret_error) {
        for (size_t i = 0; i < ELEMENTSOF(number_settings); i++) {
                const NumberSetting *n = &number_settings[i];
                uint64_t x = 0;
                int r;

                r = number_from_setting(l, n, &x, ret_error);
                if (r < 0)
                        return r;
                if (n->key == KEY_PORT)
                        c->port = (uint16_t) x;
                else
                        *(uint64_t *) ((char *) c + n->offset) = x;
        }
        return 0;
}

/* What fetches the URL decides whether it is one: a URL curl refuses
 * would only fail later, in a job, with the URL in the message. */
static bool curl_parses_url(const char *url) {
        CURLU *u = curl_url();
        CURLUcode rc;

        if (!u)
                return true; /* out of memory: let the fetch report it */
        rc = curl_url_set(u, CURLUPART_URL, url, 0);
        curl_url_cleanup(u);
        return rc == CURLUE_OK;
}

static int url_from_loader(const Loader *l, ConfigKey k, char **ret, char **ret_error) {
        static const char not_a_url[] = "not an http://, https:// or file:// URL or an absolute path";
        const char *v = l->settings[k].value;

        if (!v) {
                if (ret_error && asprintf(ret_error, "%s is not set (in %s or the environment)",
                                          key_names[k], l->path ? l->path : "the configuration file") < 0)
                        *ret_error = NULL;
                return -EINVAL;
        }
        if (*v == '\0')
                return setting_error(l, k, NULL, "empty, a URL is required", ret_error);
        if (strncasecmp(v, "file://", 7) == 0 && v[7] != '/')
                return setting_error(l, k, NULL, "a file:// URL names a local absolute path: file:///path",
                                     ret_error);
        if (!url_is_valid(v))
                return setting_error(l, k, NULL, not_a_url, ret_error);
        if (v[0] != '/' && !curl_parses_url(v))
                return setting_error(l, k, NULL, "not a URL curl can parse (encode special characters "
                                     "in a user name or password with %XX)", ret_error);

        *ret = strdup(v);
        return *ret ? 0 : -ENOMEM;
}

/* KEY from the file or the environment, else the first path of
 * $FALLBACK (systemd sets it for StateDirectory= and LogsDirectory=, and
 * lists several paths separated by ":" when several are configured), else
 * DEF. */
static int dir_from_loader(Loader *l, ConfigKey k, char *const *envp, const char *fallback, const char *def,
                           char **ret, char **ret_error) {
        const char *v = l->settings[k].value, *name = NULL;

        if (!v) {
                const char *e = env_lookup(envp, fallback);

                if (!isempty(e)) {
                        l->settings[k].value = strndup(e, strcspn(e, ":"));
                        if (!l->settings[k].value)
                                return -ENOMEM;
                        l->settings[k].line = 0;
                        v = l->settings[k].value;
                        name = fallback;
                } else
                        v = def;
        }

        if (v[0] != '/' || has_control_chars(v))
                return setting_error(l, k, name, "not an absolute path", ret_error);

        *ret = strdup(v);
        return *ret ? 0 : -ENOMEM;
}

static int config_from_loader(Loader *l, char *const *envp, Config *c, char **ret_error) {
        int r;

        r = numbers_from_loader(l, c, ret_error);
        if (r < 0)
                return r;
        r = url_from_loader(l, KEY_POLICY_URL, &c->policy_url, ret_error);
        if (r < 0)
                return r;
        r = url_from_loader(l, KEY_MANIFEST_URL, &c->manifest_url, ret_error);
        if (r < 0)
                return r;
        r = dir_from_loader(l, KEY_STATE_DIR, envp, "STATE_DIRECTORY", CONFIG_DEFAULT_STATE_DIR,
                            &c->state_dir, ret_error);
        if (r < 0)
                return r;
        return dir_from_loader(l, KEY_LOG_DIR, envp, "LOGS_DIRECTORY", CONFIG_DEFAULT_LOG_DIR, &c->log_dir,
                               ret_error);
}

int config_load(const char *path, char *const *envp, Config *ret, char **ret_error) {
        _cleanup_(loader_done) Loader l = { .path = path };
        Config c = {};
        int r;

        *ret = (Config) {};
        if (ret_error)
                *ret_error = NULL;

        r = load_file(&l, ret_error);
        if (r >= 0)
                r = load_environment(&l, envp, ret_error);
        if (r >= 0)
                r = config_from_loader(&l, envp, &c, ret_error);
        if (r < 0) {
                config_done(&c);
                return r;
        }

        *ret = c;
        return 0;
}

void config_done(Config *c) {
        if (!c)
                return;

        free(c->policy_url);
        free(c->manifest_url);
        free(c->state_dir);
        free(c->log_dir);
        *c = (Config) {};
}
