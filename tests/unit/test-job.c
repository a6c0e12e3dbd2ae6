/* The job record: string tables, the status object the API shows, and the
 * stored form the store keeps (round trip, forward compatibility, and the
 * records it must refuse). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "upgrade/job.h"
#include "util/json-util.h"
#include "util/macros.h"

#define ID_A "0123456789abcdef0123456789abcdef"

static void test_state_table(void **state) {
        for (JobState s = 0; s < _JOB_STATE_MAX; s++) {
                const char *name = job_state_to_string(s);
                assert_non_null(name);
                assert_int_equal(job_state_from_string(name), s);
        }
        assert_string_equal(job_state_to_string(JOB_STATE_MANIFEST_FETCHING), "MANIFEST_FETCHING");
        assert_null(job_state_to_string(_JOB_STATE_MAX));
        assert_null(job_state_to_string(_JOB_STATE_INVALID));
        assert_int_equal(job_state_from_string("ready"), _JOB_STATE_INVALID);
        assert_int_equal(job_state_from_string(""), _JOB_STATE_INVALID);
        assert_int_equal(job_state_from_string(NULL), _JOB_STATE_INVALID);

        assert_true(job_state_is_terminal(JOB_STATE_READY));
        assert_true(job_state_is_terminal(JOB_STATE_FAILED));
        assert_false(job_state_is_terminal(JOB_STATE_POLICY_FETCHING));
        assert_false(job_state_is_terminal(JOB_STATE_IDLE));
}

static void test_mode_table(void **state) {
        for (JobMode m = 0; m < _JOB_MODE_MAX; m++)
                assert_int_equal(job_mode_from_string(job_mode_to_string(m)), m);
        assert_string_equal(job_mode_to_string(JOB_MODE_DASHBOARD), "DASHBOARD");
        assert_string_equal(job_mode_to_string(JOB_MODE_MANUAL), "MANUAL");
        assert_int_equal(job_mode_from_string("Manual"), _JOB_MODE_INVALID);
        assert_null(job_mode_to_string(_JOB_MODE_MAX));
}

static void test_id_validity(void **state) {
        assert_true(job_id_is_valid(ID_A));
        assert_false(job_id_is_valid(NULL));
        assert_false(job_id_is_valid(""));
        assert_false(job_id_is_valid("0123456789ABCDEF0123456789abcdef"));
        assert_false(job_id_is_valid("0123456789abcdef0123456789abcde"));
        assert_false(job_id_is_valid("0123456789abcdef0123456789abcdef0"));
        assert_false(job_id_is_valid("../../../../etc/passwd"));
        assert_false(job_id_is_valid("0123456789abcdef0123456789abcde/"));
}

static void test_new_and_fail(void **state) {
        Job *a = NULL, *b = NULL;
        char big[JOB_MESSAGE_MAX + 100];

        assert_int_equal(job_new(JOB_MODE_DASHBOARD, "latest", NULL, &a), 0);
        assert_int_equal(job_new(JOB_MODE_DASHBOARD, "latest", "1.0.0", &b), 0);
        assert_true(job_id_is_valid(a->id));
        assert_string_not_equal(a->id, b->id);
        assert_int_equal(a->state, JOB_STATE_POLICY_FETCHING);
        assert_null(a->resolved_target);
        assert_null(a->current_version);
        assert_string_equal(b->current_version, "1.0.0");
        assert_true(a->created_usec > 0 && a->updated_usec == a->created_usec);

        memset(big, 'x', sizeof(big) - 1);
        big[sizeof(big) - 1] = '\0';
        assert_int_equal(job_fail(a, JOB_ERROR_POLICY_INVALID, big), 0);
        assert_int_equal(a->state, JOB_STATE_FAILED);
        assert_string_equal(a->error_code, "POLICY_INVALID");
        assert_int_equal(strlen(a->error_message), JOB_MESSAGE_MAX);

        job_free(a);
        job_free(b);

        /* Invalid arguments. */
        assert_int_equal(job_new(_JOB_MODE_INVALID, "latest", NULL, &a), -EINVAL);
        assert_int_equal(job_new(JOB_MODE_MANUAL, NULL, NULL, &a), -EINVAL);
        big[JOB_FIELD_MAX + 1] = '\0';
        assert_int_equal(job_new(JOB_MODE_MANUAL, big, NULL, &a), -EINVAL);
        assert_null(job_free(NULL));
}

static Job *fixed_job(void) {
        Job *j = NULL;

        assert_int_equal(job_new(JOB_MODE_DASHBOARD, "latest", NULL, &j), 0);
        memcpy(j->id, ID_A, JOB_ID_MAX);
        j->resolved_target = strdup("2.0.0");
        j->created_usec = 1764780000123456ULL;
        j->updated_usec = 1764780001999999ULL;
        assert_int_equal(job_fail(j, JOB_ERROR_MANUAL_UPGRADE_REQUIRED, "Breakpoint \"2.0.0\""), 0);
        j->updated_usec = 1764780001999999ULL;
        return j;
}

static void test_status_json(void **state) {
        static const char *const order[] = {
                "state", "mode", "requested_target", "resolved_target", "error_code", "error_message",
                "job_id", "created_at", "updated_at", "current_version",
        };
        Job *j = fixed_job();
        struct json_object *o = job_to_status_json(j);
        size_t i = 0;

        assert_non_null(o);
        json_object_object_foreach(o, key, val) {
                assert_true(i < ELEMENTSOF(order));
                assert_string_equal(key, order[i]);
                assert_true(json_object_is_type(val, json_type_string));
                i++;
        }
        assert_int_equal(i, ELEMENTSOF(order));

        assert_string_equal(json_get_string(o, "state"), "FAILED");
        assert_string_equal(json_get_string(o, "mode"), "DASHBOARD");
        assert_string_equal(json_get_string(o, "requested_target"), "latest");
        assert_string_equal(json_get_string(o, "resolved_target"), "2.0.0");
        assert_string_equal(json_get_string(o, "error_code"), "MANUAL_UPGRADE_REQUIRED");
        assert_string_equal(json_get_string(o, "error_message"), "Breakpoint \"2.0.0\"");
        assert_string_equal(json_get_string(o, "job_id"), ID_A);
        assert_string_equal(json_get_string(o, "created_at"), "2025-12-03T16:40:00.123Z");
        assert_string_equal(json_get_string(o, "updated_at"), "2025-12-03T16:40:01.999Z");
        assert_string_equal(json_get_string(o, "current_version"), "");

        json_object_put(o);
        job_free(j);
}

static void test_status_json_fresh(void **state) {
        Job *j = NULL;
        struct json_object *o;

        assert_int_equal(job_new(JOB_MODE_MANUAL, "3.3.0", NULL, &j), 0);
        o = job_to_status_json(j);
        assert_string_equal(json_get_string(o, "state"), "POLICY_FETCHING");
        assert_string_equal(json_get_string(o, "resolved_target"), "");
        assert_string_equal(json_get_string(o, "error_code"), "");
        assert_string_equal(json_get_string(o, "error_message"), "");
        json_object_put(o);
        job_free(j);
}

static void assert_jobs_equal(const Job *a, const Job *b) {
        assert_string_equal(a->id, b->id);
        assert_int_equal(a->state, b->state);
        assert_int_equal(a->mode, b->mode);
        assert_true(streq_ptr(a->requested_target, b->requested_target));
        assert_true(streq_ptr(a->resolved_target, b->resolved_target));
        assert_true(streq_ptr(a->current_version, b->current_version));
        assert_true(streq_ptr(a->error_code, b->error_code));
        assert_true(streq_ptr(a->error_message, b->error_message));
        assert_true(a->created_usec == b->created_usec);
        assert_true(a->updated_usec == b->updated_usec);
}

/* Serialises and parses back through text, as the store does. */
static int reparse(struct json_object *o, Job **ret, const char **ret_error) {
        const char *err = NULL;
        const char *text = json_object_to_json_string(o);
        struct json_object *p = json_parse_strict(text, strlen(text), &err);
        int r;

        assert_non_null(p);
        r = job_from_stored_json(p, ret, ret_error);
        json_object_put(p);
        return r;
}

static void test_stored_round_trip(void **state) {
        Job *j = fixed_job(), *back = NULL;
        struct json_object *o = job_to_stored_json(j), *v;
        const char *err = NULL;

        assert_non_null(o);
        assert_true(json_object_object_get_ex(o, "schema_version", &v));
        assert_int_equal(json_object_get_int(v), JOB_SCHEMA_VERSION);
        assert_true(json_object_object_get_ex(o, "updated_usec", &v));
        assert_true((uint64_t) json_object_get_int64(v) == j->updated_usec);

        assert_int_equal(reparse(o, &back, &err), 0);
        assert_null(err);
        assert_jobs_equal(j, back);

        job_free(back);
        back = NULL;

        /* A fresh job: NULL strings come back as NULL. */
        json_object_put(o);
        job_free(j);
        assert_int_equal(job_new(JOB_MODE_MANUAL, "v1.2.3", "1.0.0", &j), 0);
        o = job_to_stored_json(j);
        assert_int_equal(reparse(o, &back, &err), 0);
        assert_jobs_equal(j, back);
        assert_null(back->resolved_target);

        json_object_put(o);
        job_free(back);
        job_free(j);
}

/* Applies MUTATE to a valid stored record and returns what loading says. */
static int load_mutated(void (*mutate)(struct json_object *o), Job **ret, const char **ret_error) {
        Job *j = fixed_job();
        struct json_object *o = job_to_stored_json(j);
        int r;

        mutate(o);
        *ret = NULL;
        r = job_from_stored_json(o, ret, ret_error);
        json_object_put(o);
        job_free(j);
        return r;
}

static void add_unknown_keys(struct json_object *o) {
        json_object_object_add(o, "phase", json_object_new_string("PULLING_IMAGE"));
        json_object_object_add(o, "backup", json_object_new_object());
}

static void set_newer_schema(struct json_object *o) {
        json_object_object_add(o, "schema_version", json_object_new_int(JOB_SCHEMA_VERSION + 1));
}

static void drop_schema(struct json_object *o) {
        json_object_object_del(o, "schema_version");
}

static void drop_id(struct json_object *o) {
        json_object_object_del(o, "job_id");
}

static void set_traversal_id(struct json_object *o) {
        json_object_object_add(o, "job_id", json_object_new_string("../../etc/passwd"));
}

static void set_upper_id(struct json_object *o) {
        json_object_object_add(o, "job_id", json_object_new_string("0123456789ABCDEF0123456789ABCDEF"));
}

static void set_unknown_state(struct json_object *o) {
        json_object_object_add(o, "state", json_object_new_string("EXPLODED"));
}

static void set_unknown_mode(struct json_object *o) {
        json_object_object_add(o, "mode", json_object_new_string("ROBOT"));
}

static void set_long_target(struct json_object *o) {
        char big[JOB_FIELD_MAX + 2];

        memset(big, '1', sizeof(big) - 1);
        big[sizeof(big) - 1] = '\0';
        json_object_object_add(o, "resolved_target", json_object_new_string(big));
}

static void set_negative_time(struct json_object *o) {
        json_object_object_add(o, "created_usec", json_object_new_int64(-1));
}

static void set_string_time(struct json_object *o) {
        json_object_object_add(o, "updated_usec", json_object_new_string("1"));
}

static void set_numeric_target(struct json_object *o) {
        json_object_object_add(o, "requested_target", json_object_new_int(3));
}

static void set_nul_in_message(struct json_object *o) {
        json_object_object_add(o, "error_message", json_object_new_string_len("a\0b", 3));
}

static void test_forward_compatible(void **state) {
        Job *j = NULL;
        const char *err = NULL;

        assert_int_equal(load_mutated(add_unknown_keys, &j, &err), 0);
        assert_non_null(j);
        assert_string_equal(j->id, ID_A);
        assert_string_equal(j->resolved_target, "2.0.0");
        job_free(j);
}

static void expect_refused(void (*mutate)(struct json_object *o), const char *reason_part) {
        Job *j = NULL;
        const char *err = NULL;

        assert_int_equal(load_mutated(mutate, &j, &err), -EINVAL);
        assert_null(j);
        assert_non_null(err);
        assert_non_null(strstr(err, reason_part));
}

static void test_refused(void **state) {
        expect_refused(set_newer_schema, "newer");
        expect_refused(drop_schema, "schema_version");
        expect_refused(drop_id, "job_id");
        expect_refused(set_traversal_id, "job_id");
        expect_refused(set_upper_id, "job_id");
        expect_refused(set_unknown_state, "state");
        expect_refused(set_unknown_mode, "mode");
        expect_refused(set_long_target, "too long");
        expect_refused(set_negative_time, "usec");
        expect_refused(set_string_time, "usec");
        expect_refused(set_numeric_target, "string");
        expect_refused(set_nul_in_message, "string");
}

static void test_not_an_object(void **state) {
        struct json_object *a = json_object_new_array();
        Job *j = NULL;
        const char *err = NULL;

        assert_int_equal(job_from_stored_json(a, &j, &err), -EINVAL);
        assert_non_null(err);
        assert_int_equal(job_from_stored_json(NULL, &j, &err), -EINVAL);
        json_object_put(a);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_state_table),
                cmocka_unit_test(test_mode_table),
                cmocka_unit_test(test_id_validity),
                cmocka_unit_test(test_new_and_fail),
                cmocka_unit_test(test_status_json),
                cmocka_unit_test(test_status_json_fresh),
                cmocka_unit_test(test_stored_round_trip),
                cmocka_unit_test(test_forward_compatible),
                cmocka_unit_test(test_refused),
                cmocka_unit_test(test_not_an_object),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
