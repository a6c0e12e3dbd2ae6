/* The job store: one file per job record under STATE_DIR/jobs and a small
 * "current" file in STATE_DIR naming the newest job.
 *
 * Crash ordering.  store_save() writes the record first and the pointer
 * second, each with write_file_atomic() (temporary file, fsync, rename,
 * fsync of the directory).  The record's directory is synced before the
 * pointer is even written, so on disk the pointer can only ever name a
 * record that is already durable:
 *   - crash before or during the record: old record (or none) and old
 *     pointer, consistent;
 *   - crash between the two: the new record exists but the old job is still
 *     current; the new record is an orphan that history keeps and prune ages
 *     out, and the old current record was never touched.  (Such an orphan
 *     keeps its non-final state: store_list() finds it if the manager wants
 *     to mark it INTERRUPTED too.);
 *   - crash during the pointer: the old or the new pointer, both naming
 *     records that exist.
 * store_prune() never removes the current record, so no later step can make
 * the pointer dangle either.  Only outside damage can; loading treats that
 * like a corrupt file: reported, moved aside, and the service starts clean.
 *
 * Everything read back is untrusted: bounded reads, strict JSON, the record
 * validated by job_from_stored_json(), the id in "current" checked to be 32
 * hex digits before it becomes part of a path. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/store.h"
#include "util/fileio.h"
#include "util/json-util.h"
#include "util/log.h"
#include "util/macros.h"

#define STORE_DIR_MODE      0700
#define STORE_FILE_MODE     0600
#define STORE_JOBS_SUBDIR   "jobs"
#define STORE_CURRENT_NAME  "current"
#define STORE_RECORD_SUFFIX ".json"
#define STORE_CORRUPT_SUFFIX ".corrupt"
#define STORE_TMP_PREFIX    ".#tmp-"   /* what write_file_atomic() names its temporary files */
#define STORE_CURRENT_MAX   ((size_t) 256) /* an id and a newline; anything longer is not ours */
#define STORE_NAME_MAX      (JOB_ID_MAX + sizeof(STORE_RECORD_SUFFIX) + sizeof(STORE_CORRUPT_SUFFIX))

DEFINE_TRIVIAL_CLEANUP_FUNC(Job *, job_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(DIR *, closedir);

struct Store {
        char *state_dir;
        char *jobs_dir;
        char current_id[JOB_ID_MAX]; /* what "current" was last read or written as; "" unknown */
};

static void record_name(const char *id, char buf[static STORE_NAME_MAX]) {
        (void) snprintf(buf, STORE_NAME_MAX, "%s" STORE_RECORD_SUFFIX, id);
}

static char *path_join(const char *dir, const char *name) {
        char *p = NULL;

        if (asprintf(&p, "%s/%s", dir, name) < 0)
                return NULL;
        return p;
}

/* A crash inside write_file_atomic() leaves its temporary file behind; at
 * start-up nothing else writes here, so any such file is garbage. */
static void remove_stale_temporaries(const char *dir) {
        _cleanup_(closedirp) DIR *d = opendir(dir);
        struct dirent *de;

        if (!d)
                return;
        while ((de = readdir(d)))
                if (strncmp(de->d_name, STORE_TMP_PREFIX, strlen(STORE_TMP_PREFIX)) == 0)
                        (void) unlinkat(dirfd(d), de->d_name, 0);
}

static void move_aside(const char *dir, const char *name, const char *reason);

static int ensure_directory(const char *path) {
        struct stat st;
        int r;

        /* STATE_DIR may belong to systemd's StateDirectory=: create it only
         * when missing and leave the mode of an existing one alone. */
        r = mkdir_parents_and_self(path, STORE_DIR_MODE);
        if (r < 0)
                return log_error_errno(r, "Failed to create job store directory %s", path);
        if (stat(path, &st) < 0)
                return log_error_errno(errno, "Failed to access job store directory %s", path);
        if (!S_ISDIR(st.st_mode))
                return log_error_errno(ENOTDIR, "Job store path %s is not a directory", path);
        return 0;
}

int store_open(const char *state_dir, Store **ret) {
        _cleanup_(store_freep) Store *s = NULL;
        int r;

        if (isempty(state_dir))
                return -EINVAL;

        s = calloc(1, sizeof(Store));
        if (!s)
                return -ENOMEM;
        s->state_dir = strdup(state_dir);
        s->jobs_dir = path_join(state_dir, STORE_JOBS_SUBDIR);
        if (!s->state_dir || !s->jobs_dir)
                return -ENOMEM;

        r = ensure_directory(s->state_dir);
        if (r < 0)
                return r;
        r = ensure_directory(s->jobs_dir);
        if (r == -ENOTDIR) {
                /* Something else took the name: keep it aside, start a fresh history. */
                move_aside(s->state_dir, STORE_JOBS_SUBDIR, "not a directory");
                r = ensure_directory(s->jobs_dir);
        }
        if (r < 0)
                return r;

        remove_stale_temporaries(s->state_dir);
        remove_stale_temporaries(s->jobs_dir);

        *ret = TAKE_PTR(s);
        return 0;
}

Store *store_free(Store *s) {
        if (!s)
                return NULL;
        free(s->state_dir);
        free(s->jobs_dir);
        free(s);
        return NULL;
}

/* Serialises J, and checks that what is about to be written loads again: a
 * record the service cannot read back would be moved aside on the next
 * start, so refusing it now keeps the failure where it is caused. */
static int serialise_record(const Job *j, char **ret, size_t *ret_len) {
        _cleanup_json_ struct json_object *o = job_to_stored_json(j);
        _cleanup_(job_freep) Job *check = NULL;
        const char *text, *reason = NULL;
        size_t len = 0;
        int r;

        if (!o)
                return -ENOMEM;
        r = job_from_stored_json(o, &check, &reason);
        if (r < 0)
                return log_error_errno(r, "Refusing to store job %s: %s", j->id, strempty(reason));

        text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
                                                 JSON_C_TO_STRING_NOSLASHESCAPE);
        if (!text)
                return -ENOMEM;
        len = strlen(text);
        if (len + 1 > STORE_MAX_RECORD_BYTES)
                return log_error_errno(EFBIG, "Refusing to store job %s: record is larger than %zu bytes",
                                       j->id, STORE_MAX_RECORD_BYTES);

        if (asprintf(ret, "%s\n", text) < 0)
                return -ENOMEM;
        *ret_len = len + 1;
        return 0;
}

static int write_current(Store *s, const char *id) {
        char line[JOB_ID_MAX + 1];
        int r;

        if (streq(s->current_id, id))
                return 0;

        (void) snprintf(line, sizeof(line), "%s\n", id);
        r = write_file_atomic(s->state_dir, STORE_CURRENT_NAME, line, strlen(line), STORE_FILE_MODE);
        if (r < 0)
                return log_error_errno(r, "Failed to write %s/" STORE_CURRENT_NAME, s->state_dir);
        memcpy(s->current_id, id, JOB_ID_MAX);
        return 0;
}

int store_save_record(Store *s, const Job *j) {
        _cleanup_free_ char *data = NULL;
        char name[STORE_NAME_MAX];
        size_t len = 0;
        int r;

        if (!job_id_is_valid(j->id))
                return -EINVAL;

        r = serialise_record(j, &data, &len);
        if (r < 0)
                return r;

        record_name(j->id, name);
        r = write_file_atomic(s->jobs_dir, name, data, len, STORE_FILE_MODE);
        if (r < 0)
                return log_error_errno(r, "Failed to write job record %s/%s", s->jobs_dir, name);
        return 0;
}

bool store_has_record(Store *s, const char *id) {
        char name[STORE_NAME_MAX];
        _cleanup_free_ char *path = NULL;

        if (!job_id_is_valid(id))
                return false;
        record_name(id, name);
        path = path_join(s->jobs_dir, name);
        return path && access(path, F_OK) == 0;
}

int store_save(Store *s, const Job *j) {
        int r;

        /* Record first, pointer second: see the comment at the top. */
        r = store_save_record(s, j);
        if (r < 0)
                return r;
        return write_current(s, j->id);
}

/* Moves a damaged file out of the way so that the next start does not trip
 * over it again, keeping it for whoever investigates. */
static void move_aside(const char *dir, const char *name, const char *reason) {
        _cleanup_free_ char *from = path_join(dir, name), *to = NULL;

        if (!from || asprintf(&to, "%s" STORE_CORRUPT_SUFFIX, from) < 0) {
                log_error("Ignoring corrupt job store file %s/%s: %s", dir, name, reason);
                return;
        }
        if (rename(from, to) < 0) {
                log_error_errno(errno, "Ignoring corrupt job store file %s (%s), could not move it to %s",
                                from, reason, to);
                return;
        }
        (void) fsync_directory(dir);
        log_error("Moved corrupt job store file %s to %s: %s", from, to, reason);
}

static const char *read_error_reason(int r) {
        switch (r) {
        case -EFBIG:  return "record is larger than the limit";
        case -EBADFD: return "not a regular file";
        default:      return strerror(-r);
        }
}

/* Parses and validates the record text of ID.  -EBADMSG with a reason
 * means the content is bad; other errors are the caller's to pass on. */
static int parse_record(const char *id, const char *data, size_t len, Job **ret, const char **ret_reason) {
        _cleanup_json_ struct json_object *o = NULL;
        _cleanup_(job_freep) Job *j = NULL;
        int r;

        o = json_parse_strict(data, len, ret_reason);
        if (!o)
                return -EBADMSG;

        r = job_from_stored_json(o, &j, ret_reason);
        if (r == -ENOMEM && !*ret_reason)
                return r;
        if (r < 0)
                return -EBADMSG;

        if (!streq(j->id, id)) {
                *ret_reason = "job_id does not match the file name";
                return -EBADMSG;
        }
        *ret = TAKE_PTR(j);
        return 0;
}

/* Loads the record of ID.  A record that is damaged is moved aside and is
 * -EBADMSG, so that callers can tell it from one that was never there. */
static int load_record(Store *s, const char *id, Job **ret) {
        _cleanup_free_ char *path = NULL, *data = NULL;
        char name[STORE_NAME_MAX];
        const char *reason = NULL;
        size_t len = 0;
        int r;

        if (!job_id_is_valid(id))
                return -EINVAL;

        record_name(id, name);
        path = path_join(s->jobs_dir, name);
        if (!path)
                return -ENOMEM;

        r = read_file_bounded(path, STORE_MAX_RECORD_BYTES, &data, &len);
        if (r == -ENOENT || r == -ENOMEM)
                return r;
        if (r < 0) {
                /* Whatever makes a record unreadable (too large, not a file,
                 * no permission, I/O error), the service must still start. */
                move_aside(s->jobs_dir, name, read_error_reason(r));
                return -EBADMSG;
        }

        r = parse_record(id, data, len, ret, &reason);
        if (r == -EBADMSG)
                move_aside(s->jobs_dir, name, strempty(reason));
        return r;
}

int store_load(Store *s, const char *id, Job **ret) {
        int r = load_record(s, id, ret);

        return r == -EBADMSG ? -ENOENT : r;
}

/* Reads the id that "current" names into RET_ID.  Returns 0 with an empty
 * id when there is none (absent, or damaged and moved aside). */
static int read_current(Store *s, char ret_id[static JOB_ID_MAX]) {
        _cleanup_free_ char *path = path_join(s->state_dir, STORE_CURRENT_NAME), *data = NULL;
        size_t len = 0;
        int r;

        ret_id[0] = '\0';
        if (!path)
                return -ENOMEM;

        r = read_file_bounded(path, STORE_CURRENT_MAX, &data, &len);
        if (r == -ENOENT)
                return 0;
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                move_aside(s->state_dir, STORE_CURRENT_NAME,
                           r == -EFBIG ? "file is too large to hold a job id" : read_error_reason(r));
                return 0;
        }

        /* One id and an optional newline: strip the newline, and the id
         * must then be exactly 32 hex digits before it goes near a path. */
        if (len > 0 && data[len - 1] == '\n')
                data[--len] = '\0';
        if (strlen(data) != len || !job_id_is_valid(data)) {
                move_aside(s->state_dir, STORE_CURRENT_NAME, "does not hold a valid job id");
                return 0;
        }
        memcpy(ret_id, data, JOB_ID_MAX);
        return 0;
}

int store_load_current(Store *s, Job **ret) {
        char id[JOB_ID_MAX];
        int r;

        *ret = NULL;
        r = read_current(s, id);
        if (r < 0)
                return r;
        if (isempty(id))
                return 0;

        r = load_record(s, id, ret);
        if (r == -EBADMSG)
                return 0; /* reported and moved aside already */
        if (r == -ENOENT) {
                /* Outside damage only (see the top of this file). */
                log_error("Job store %s/" STORE_CURRENT_NAME " names job %s, which has no record; "
                          "starting without a current job", s->state_dir, id);
                return 0;
        }
        if (r < 0)
                return r;

        memcpy(s->current_id, id, JOB_ID_MAX);
        return 0;
}

/* True when NAME is "<32 hex>.json"; the id goes to RET_ID. */
static bool entry_is_record(const char *name, char ret_id[static JOB_ID_MAX]) {
        const size_t id_len = JOB_ID_MAX - 1;

        if (strlen(name) != id_len + strlen(STORE_RECORD_SUFFIX) ||
            !streq(name + id_len, STORE_RECORD_SUFFIX))
                return false;
        memcpy(ret_id, name, id_len);
        ret_id[id_len] = '\0';
        return job_id_is_valid(ret_id);
}

void store_job_list_free(Job **jobs, size_t n) {
        for (size_t i = 0; i < n; i++)
                job_free(jobs[i]);
        free(jobs);
}

static int append_job(Job ***jobs, size_t *n, size_t *allocated, Job *j) {
        if (*n == *allocated) {
                size_t want = *allocated ? *allocated * 2 : 16;
                Job **p = reallocarray(*jobs, want, sizeof(Job *));
                if (!p)
                        return -ENOMEM;
                *jobs = p;
                *allocated = want;
        }
        (*jobs)[(*n)++] = j;
        return 0;
}

static int compare_newest_first(const void *a, const void *b) {
        const Job *x = *(Job *const *) a, *y = *(Job *const *) b;

        if (x->updated_usec != y->updated_usec)
                return x->updated_usec < y->updated_usec ? 1 : -1;
        if (x->created_usec != y->created_usec)
                return x->created_usec < y->created_usec ? 1 : -1;
        return strcmp(x->id, y->id); /* any fixed order, so that prune is deterministic */
}

/* Loads every record of the directory; corrupt ones are moved aside by
 * store_load() and skipped. */
static int load_all(Store *s, DIR *d, Job ***jobs, size_t *n) {
        size_t allocated = 0;
        struct dirent *de;

        while ((errno = 0, de = readdir(d))) {
                _cleanup_(job_freep) Job *j = NULL;
                char id[JOB_ID_MAX];
                int r;

                if (!entry_is_record(de->d_name, id))
                        continue;
                r = store_load(s, id, &j);
                if (r == -ENOENT)
                        continue;
                if (r < 0)
                        return r;
                r = append_job(jobs, n, &allocated, j);
                if (r < 0)
                        return r;
                TAKE_PTR(j);
        }
        return errno > 0 ? -errno : 0;
}

int store_list(Store *s, Job ***ret, size_t *ret_n) {
        _cleanup_(closedirp) DIR *d = NULL;
        Job **jobs = NULL;
        size_t n = 0;
        int r;

        d = opendir(s->jobs_dir);
        if (!d)
                return log_error_errno(errno, "Failed to open job store directory %s", s->jobs_dir);

        r = load_all(s, d, &jobs, &n);
        if (r < 0) {
                store_job_list_free(jobs, n);
                return log_error_errno(r, "Failed to list job store directory %s", s->jobs_dir);
        }

        if (n > 1)
                qsort(jobs, n, sizeof(Job *), compare_newest_first);
        *ret = jobs;
        *ret_n = n;
        return 0;
}

static int remove_record(Store *s, const char *id) {
        char name[STORE_NAME_MAX];
        _cleanup_close_ int fd = open(s->jobs_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        if (fd < 0)
                return -errno;
        record_name(id, name);
        if (unlinkat(fd, name, 0) < 0 && errno != ENOENT)
                return -errno;
        return 0;
}

int store_prune(Store *s) {
        char current[JOB_ID_MAX];
        Job **jobs = NULL;
        size_t n = 0, kept = 0, removed = 0;
        int r;

        if (isempty(s->current_id)) {
                r = read_current(s, current);
                if (r < 0)
                        return r;
        } else
                memcpy(current, s->current_id, JOB_ID_MAX);

        r = store_list(s, &jobs, &n);
        if (r < 0)
                return r;

        /* Newest first: the first STORE_MAX_HISTORY stay, and so does the
         * current job wherever it sorts (its clock may have jumped). */
        for (size_t i = 0; i < n; i++) {
                if (streq(jobs[i]->id, current) || kept < STORE_MAX_HISTORY) {
                        kept++;
                        continue;
                }
                r = remove_record(s, jobs[i]->id);
                if (r < 0) {
                        log_error_errno(r, "Failed to remove old job record %s from %s", jobs[i]->id,
                                        s->jobs_dir);
                        break;
                }
                removed++;
        }
        store_job_list_free(jobs, n);

        /* Removal need not be durable: a record that comes back after a
         * crash is pruned again next time. */
        if (r >= 0 && removed > 0)
                (void) fsync_directory(s->jobs_dir);
        return r < 0 ? r : (int) removed;
}
