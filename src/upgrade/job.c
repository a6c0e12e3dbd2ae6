/* The job record and its two JSON forms.  The status form is what the API
 * answers; the stored form adds a schema version and exact times so that the
 * store can bring a job back after a restart.  Loading is strict about what
 * it needs (id, state, mode, times, bounded strings) and ignores keys it does
 * not know, so that a newer service can add fields without breaking an older
 * record, and an older service refuses a newer schema instead of misreading
 * it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <systemd/sd-id128.h>

#include "upgrade/job.h"
#include "util/json-util.h"
#include "util/macros.h"
#include "util/time-util.h"

/* Local rather than in job.h so that no other file's definition collides. */
DEFINE_TRIVIAL_CLEANUP_FUNC(Job *, job_free);

static const char *const job_state_table[_JOB_STATE_MAX] = {
        [JOB_STATE_IDLE]              = "IDLE",
        [JOB_STATE_POLICY_FETCHING]   = "POLICY_FETCHING",
        [JOB_STATE_MANIFEST_FETCHING] = "MANIFEST_FETCHING",
        [JOB_STATE_READY]             = "READY",
        [JOB_STATE_FAILED]            = "FAILED",
};

static const char *const job_mode_table[_JOB_MODE_MAX] = {
        [JOB_MODE_DASHBOARD] = "DASHBOARD",
        [JOB_MODE_MANUAL]    = "MANUAL",
};

static int lookup(const char *const *table, size_t n, const char *s) {
        if (!s)
                return -EINVAL;
        for (size_t i = 0; i < n; i++)
                if (table[i] && streq(table[i], s))
                        return (int) i;
        return -EINVAL;
}

const char *job_state_to_string(JobState s) {
        if (s < 0 || s >= _JOB_STATE_MAX)
                return NULL;
        return job_state_table[s];
}

JobState job_state_from_string(const char *s) {
        return (JobState) lookup(job_state_table, ELEMENTSOF(job_state_table), s);
}

const char *job_mode_to_string(JobMode m) {
        if (m < 0 || m >= _JOB_MODE_MAX)
                return NULL;
        return job_mode_table[m];
}

JobMode job_mode_from_string(const char *s) {
        return (JobMode) lookup(job_mode_table, ELEMENTSOF(job_mode_table), s);
}

bool job_state_is_terminal(JobState s) {
        return s == JOB_STATE_READY || s == JOB_STATE_FAILED;
}

bool job_id_is_valid(const char *id) {
        size_t i;

        if (!id)
                return false;
        for (i = 0; id[i]; i++)
                if (!strchr("0123456789abcdef", id[i]) || i >= JOB_ID_MAX - 1)
                        return false;
        return i == JOB_ID_MAX - 1;
}

static bool field_fits(const char *s) {
        return !s || strlen(s) <= JOB_FIELD_MAX;
}

int job_new(JobMode mode, const char *requested_target, const char *current_version, Job **ret) {
        _cleanup_(job_freep) Job *j = NULL;
        sd_id128_t rnd;
        int r;

        if (!job_mode_to_string(mode) || !requested_target)
                return -EINVAL;
        if (!field_fits(requested_target) || !field_fits(current_version))
                return -EINVAL;

        j = calloc(1, sizeof(Job));
        if (!j)
                return -ENOMEM;

        r = sd_id128_randomize(&rnd);
        if (r < 0)
                return r;
        (void) snprintf(j->id, sizeof(j->id), SD_ID128_FORMAT_STR, SD_ID128_FORMAT_VAL(rnd));

        j->mode = mode;
        j->state = JOB_STATE_POLICY_FETCHING;
        if (free_and_strdup(&j->requested_target, requested_target) < 0 ||
            free_and_strdup(&j->current_version, current_version) < 0)
                return -ENOMEM;
        j->created_usec = j->updated_usec = now_realtime_usec();

        *ret = TAKE_PTR(j);
        return 0;
}

Job *job_free(Job *j) {
        if (!j)
                return NULL;
        free(j->requested_target);
        free(j->resolved_target);
        free(j->current_version);
        free(j->error_code);
        free(j->error_message);
        free(j);
        return NULL;
}

void job_set_state(Job *j, JobState state) {
        j->state = state;
        j->updated_usec = now_realtime_usec();
}

/* Copies at most MAX bytes of S, backing off to a UTF-8 character boundary
 * so that the cut never leaves half a character behind. */
static char *strdup_cut(const char *s, size_t max) {
        size_t n = strlen(s);

        if (n > max) {
                n = max;
                while (n > 0 && ((unsigned char) s[n] & 0xC0) == 0x80)
                        n--;
        }
        return strndup(s, n);
}

int job_fail(Job *j, const char *code, const char *message) {
        char *c = NULL, *m = NULL;

        /* The state moves first: a job that failed must never look alive,
         * even when there is no memory left to say why. */
        job_set_state(j, JOB_STATE_FAILED);

        if (code)
                c = strdup_cut(code, JOB_FIELD_MAX);
        if (message)
                m = strdup_cut(message, JOB_MESSAGE_MAX);
        free(j->error_code);
        free(j->error_message);
        j->error_code = c;
        j->error_message = m;

        if ((code && !c) || (message && !m))
                return -ENOMEM;
        return 0;
}

static int add_time(struct json_object *o, const char *key, uint64_t usec) {
        char buf[RFC3339_MAX];

        return json_add_string(o, key, format_rfc3339(usec, buf));
}

static int add_status_fields(struct json_object *o, const Job *j) {
        if (json_add_string(o, "state", job_state_to_string(j->state)) < 0 ||
            json_add_string(o, "mode", job_mode_to_string(j->mode)) < 0 ||
            json_add_string(o, "requested_target", j->requested_target) < 0 ||
            json_add_string(o, "resolved_target", j->resolved_target) < 0 ||
            json_add_string(o, "error_code", j->error_code) < 0 ||
            json_add_string(o, "error_message", j->error_message) < 0 ||
            json_add_string(o, "job_id", j->id) < 0 ||
            add_time(o, "created_at", j->created_usec) < 0 ||
            add_time(o, "updated_at", j->updated_usec) < 0 ||
            json_add_string(o, "current_version", j->current_version) < 0)
                return -ENOMEM;
        return 0;
}

struct json_object *job_to_status_json(const Job *j) {
        _cleanup_json_ struct json_object *o = json_object_new_object();

        if (!o || add_status_fields(o, j) < 0)
                return NULL;
        return TAKE_PTR(o);
}

static int64_t usec_to_int64(uint64_t usec) {
        return usec > (uint64_t) INT64_MAX ? INT64_MAX : (int64_t) usec;
}

static int add_int(struct json_object *o, const char *key, int64_t v) {
        struct json_object *n = json_object_new_int64(v);

        if (!n)
                return -ENOMEM;
        if (json_object_object_add(o, key, n) < 0) {
                json_object_put(n);
                return -ENOMEM;
        }
        return 0;
}

struct json_object *job_to_stored_json(const Job *j) {
        _cleanup_json_ struct json_object *o = json_object_new_object();

        /* Times above INT64_MAX cannot occur before the year 292277; clamp
         * rather than store a negative number. */
        if (!o ||
            add_int(o, "schema_version", JOB_SCHEMA_VERSION) < 0 ||
            add_status_fields(o, j) < 0 ||
            add_int(o, "created_usec", usec_to_int64(j->created_usec)) < 0 ||
            add_int(o, "updated_usec", usec_to_int64(j->updated_usec)) < 0)
                return NULL;
        return TAKE_PTR(o);
}

/* Reads the string KEY: absent, not a string, with an embedded NUL or longer
 * than MAX is an error.  An empty string becomes NULL when NULLABLE. */
static int get_string(struct json_object *obj, const char *key, size_t max, bool nullable, char **ret) {
        struct json_object *v;
        const char *s;
        size_t n;

        if (!json_object_object_get_ex(obj, key, &v) || !json_object_is_type(v, json_type_string))
                return -EINVAL;
        s = json_object_get_string(v);
        n = (size_t) json_object_get_string_len(v);
        if (n > max || strlen(s) != n)
                return -EINVAL;

        free(*ret);
        *ret = NULL;
        if (nullable && n == 0)
                return 0;
        *ret = strdup(s);
        return *ret ? 0 : -ENOMEM;
}

static int get_usec(struct json_object *obj, const char *key, uint64_t *ret) {
        struct json_object *v;
        int64_t n;

        if (!json_object_object_get_ex(obj, key, &v) || !json_object_is_type(v, json_type_int))
                return -EINVAL;
        errno = 0;
        n = json_object_get_int64(v);
        if (n < 0 || errno != 0)
                return -EINVAL;
        *ret = (uint64_t) n;
        return 0;
}

static int check_schema(struct json_object *obj, const char **ret_error) {
        struct json_object *v;
        int64_t version;

        if (!json_object_object_get_ex(obj, "schema_version", &v) ||
            !json_object_is_type(v, json_type_int)) {
                *ret_error = "schema_version is missing or not an integer";
                return -EINVAL;
        }
        version = json_object_get_int64(v);
        if (version < 1) {
                *ret_error = "schema_version is not a positive integer";
                return -EINVAL;
        }
        if (version > JOB_SCHEMA_VERSION) {
                *ret_error = "schema_version is newer than this service understands";
                return -EINVAL;
        }
        return 0;
}

static int read_enums(struct json_object *obj, Job *j, const char **ret_error) {
        j->state = job_state_from_string(json_get_string(obj, "state"));
        if (j->state < 0) {
                *ret_error = "state is missing or unknown";
                return -EINVAL;
        }
        j->mode = job_mode_from_string(json_get_string(obj, "mode"));
        if (j->mode < 0) {
                *ret_error = "mode is missing or unknown";
                return -EINVAL;
        }
        return 0;
}

/* The strings of a record, with the bound each must respect. */
static int read_strings(struct json_object *obj, Job *j, const char **ret_error) {
        const struct {
                const char *key;
                size_t max;
                bool nullable;
                char **dst;
        } fields[] = {
                { "requested_target", JOB_FIELD_MAX,   false, &j->requested_target },
                { "resolved_target",  JOB_FIELD_MAX,   true,  &j->resolved_target },
                { "current_version",  JOB_FIELD_MAX,   true,  &j->current_version },
                { "error_code",       JOB_FIELD_MAX,   true,  &j->error_code },
                { "error_message",    JOB_MESSAGE_MAX, true,  &j->error_message },
        };

        for (size_t i = 0; i < ELEMENTSOF(fields); i++) {
                int r = get_string(obj, fields[i].key, fields[i].max, fields[i].nullable, fields[i].dst);
                if (r == -ENOMEM)
                        return r;
                if (r < 0) {
                        *ret_error = "a string field is missing, not a string, or too long";
                        return r;
                }
        }
        return 0;
}

int job_from_stored_json(struct json_object *obj, Job **ret, const char **ret_error) {
        _cleanup_(job_freep) Job *j = NULL;
        const char *id;
        int r;

        *ret_error = NULL;
        if (!obj || !json_object_is_type(obj, json_type_object)) {
                *ret_error = "record is not a JSON object";
                return -EINVAL;
        }
        r = check_schema(obj, ret_error);
        if (r < 0)
                return r;

        id = json_get_string(obj, "job_id");
        if (!job_id_is_valid(id)) {
                *ret_error = "job_id is missing or not 32 lowercase hex digits";
                return -EINVAL;
        }

        j = calloc(1, sizeof(Job));
        if (!j)
                return -ENOMEM;
        memcpy(j->id, id, JOB_ID_MAX);

        r = read_enums(obj, j, ret_error);
        if (r < 0)
                return r;
        r = read_strings(obj, j, ret_error);
        if (r < 0)
                return r;
        if (get_usec(obj, "created_usec", &j->created_usec) < 0 ||
            get_usec(obj, "updated_usec", &j->updated_usec) < 0) {
                *ret_error = "created_usec or updated_usec is missing or not a non-negative integer";
                return -EINVAL;
        }

        *ret = TAKE_PTR(j);
        return 0;
}
