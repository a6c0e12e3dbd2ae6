/* Per-job log entries: a JSON line in LOG_DIR/<job id>.log, a journal entry
 * carrying the job's PAYRAM_* fields, and a bounded in-memory list for the
 * API.  Logging must never be the reason a job stops: a failing write is
 * reported once and the entry is still kept in memory and sent to the
 * journal.
 *
 * Lines are not fsynced one by one.  The log is a record for people, not
 * state the service resumes from; syncing each line would put a disk flush
 * on every step of a job for little gain.  What a crash can cost is the last
 * few lines (still in the journal) or a torn last line, which loading skips
 * and the next write starts a fresh line after. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <syslog.h>
#include <unistd.h>

#include <systemd/sd-journal.h>

#include "joblog/joblog.h"
#include "util/fileio.h"
#include "util/json-util.h"
#include "util/log.h"
#include "util/time-util.h"

#define JOBLOG_DIR_MODE     0750
#define JOBLOG_FILE_MODE    0640
#define JOBLOG_SUFFIX       ".log"
#define JOBLOG_CUT_MARK     "..."
#define JOBLOG_JOURNAL_FIELDS 11
#define SYSLOG_IDENTIFIER   "payram-updater"

typedef struct JobLogEntry {
        char time[RFC3339_MAX];
        JobLogLevel level;
        char *message;
} JobLogEntry;

struct JobLog {
        char id[JOB_ID_MAX];
        char *path;
        int fd;
        bool need_newline;  /* the file may end in a torn line: start the next one afresh */
        bool write_failed;  /* reported once; cleared by the next successful write */
        JobLogEntry *entries; /* ring of JOBLOG_MAX_ENTRIES */
        size_t first, n;
};

static const char *const level_table[_JOBLOG_LEVEL_MAX] = {
        [JOBLOG_INFO]    = "info",
        [JOBLOG_WARNING] = "warning",
        [JOBLOG_ERROR]   = "error",
};

static const int level_priority[_JOBLOG_LEVEL_MAX] = {
        [JOBLOG_INFO]    = LOG_INFO,
        [JOBLOG_WARNING] = LOG_WARNING,
        [JOBLOG_ERROR]   = LOG_ERR,
};

/* On stderr (no journal) the level is all that tells entries apart. */
static const char *const level_prefix[_JOBLOG_LEVEL_MAX] = {
        [JOBLOG_INFO]    = "",
        [JOBLOG_WARNING] = "Warning: ",
        [JOBLOG_ERROR]   = "Error: ",
};

static int level_from_string(const char *s) {
        for (size_t i = 0; s && i < _JOBLOG_LEVEL_MAX; i++)
                if (streq(level_table[i], s))
                        return (int) i;
        return -EINVAL;
}

/* Bounds MESSAGE to JOBLOG_MAX_MESSAGE_BYTES (cutting on a UTF-8 boundary
 * and marking the cut) and replaces control characters other than tab, so
 * that text from outside (a policy's reason, a server's error) cannot start
 * a new line in the file or on a terminal and pass for an entry of its own. */
static char *sanitise_message(const char *message) {
        size_t n = strlen(message), keep = n;
        bool cut = n > JOBLOG_MAX_MESSAGE_BYTES;
        char *s;

        if (cut) {
                keep = JOBLOG_MAX_MESSAGE_BYTES - strlen(JOBLOG_CUT_MARK);
                while (keep > 0 && ((unsigned char) message[keep] & 0xC0) == 0x80)
                        keep--;
        }

        s = malloc(keep + strlen(JOBLOG_CUT_MARK) + 1);
        if (!s)
                return NULL;
        for (size_t i = 0; i < keep; i++) {
                unsigned char c = (unsigned char) message[i];
                s[i] = (c < 0x20 && c != '\t') || c == 0x7f ? ' ' : (char) c;
        }
        s[keep] = '\0';
        if (cut)
                memcpy(s + keep, JOBLOG_CUT_MARK, strlen(JOBLOG_CUT_MARK) + 1);
        return s;
}

static void entry_clear(JobLogEntry *e) {
        free(e->message);
        e->message = NULL;
}

/* Appends an entry to the ring, dropping the oldest when full.  Takes
 * ownership of MESSAGE. */
static void remember(JobLog *l, const char *time, JobLogLevel level, char *message) {
        JobLogEntry *e;

        if (l->n == JOBLOG_MAX_ENTRIES) {
                entry_clear(&l->entries[l->first]);
                l->first = (l->first + 1) % JOBLOG_MAX_ENTRIES;
                l->n--;
        }
        e = &l->entries[(l->first + l->n) % JOBLOG_MAX_ENTRIES];
        (void) snprintf(e->time, sizeof(e->time), "%s", time);
        e->level = level;
        e->message = message;
        l->n++;
}

/* Writes one JSON line.  A failed or short write may leave part of a line
 * behind, so the next write starts with a newline to keep that fragment on
 * a line of its own (loading skips it). */
static int append_line(JobLog *l, const char *time, JobLogLevel level, const char *message) {
        _cleanup_json_ struct json_object *o = json_object_new_object();
        _cleanup_free_ char *line = NULL;
        const char *text;
        int r, n;

        if (l->fd < 0)
                return -EBADF;
        if (!o || json_add_string(o, "time", time) < 0 ||
            json_add_string(o, "level", level_table[level]) < 0 ||
            json_add_string(o, "message", message) < 0)
                return -ENOMEM;
        text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
        if (!text)
                return -ENOMEM;

        n = asprintf(&line, "%s%s\n", l->need_newline ? "\n" : "", text);
        if (n < 0)
                return -ENOMEM;

        r = write_all(l->fd, line, (size_t) n);
        l->need_newline = r < 0;
        return r;
}

/* One report per episode: the first failure is logged, the rest are
 * silent until a write succeeds again. */
static void report_write(JobLog *l, int r) {
        if (r >= 0) {
                l->write_failed = false;
                return;
        }
        if (l->write_failed)
                return;
        l->write_failed = true;
        log_error_errno(r, "Failed to write job log %s, entries are kept in memory and the journal only",
                        l->path);
}

static int add_field(struct iovec *iov, size_t *n, const char *key, const char *value) {
        char *s = NULL;

        if (asprintf(&s, "%s=%s", key, strempty(value)) < 0)
                return -ENOMEM;
        iov[(*n)++] = (struct iovec) { .iov_base = s, .iov_len = strlen(s) };
        return 0;
}

static void send_to_journal(const JobLog *l, const Job *job, int priority, const char *message_id,
                            const char *message) {
        struct iovec iov[JOBLOG_JOURNAL_FIELDS];
        char prio[2] = { (char) ('0' + priority), '\0' };
        size_t n = 0;

        if (add_field(iov, &n, "MESSAGE", message) >= 0 &&
            add_field(iov, &n, "PRIORITY", prio) >= 0 &&
            add_field(iov, &n, "SYSLOG_IDENTIFIER", SYSLOG_IDENTIFIER) >= 0 &&
            add_field(iov, &n, "PAYRAM_JOB_ID", l->id) >= 0 &&
            add_field(iov, &n, "PAYRAM_STATE", job ? job_state_to_string(job->state) : NULL) >= 0 &&
            add_field(iov, &n, "PAYRAM_MODE", job ? job_mode_to_string(job->mode) : NULL) >= 0 &&
            add_field(iov, &n, "PAYRAM_REQUESTED_TARGET", job ? job->requested_target : NULL) >= 0 &&
            add_field(iov, &n, "PAYRAM_RESOLVED_TARGET", job ? job->resolved_target : NULL) >= 0 &&
            add_field(iov, &n, "PAYRAM_ERROR_CODE", job ? job->error_code : NULL) >= 0 &&
            (!message_id || add_field(iov, &n, "MESSAGE_ID", message_id) >= 0))
                (void) sd_journal_sendv(iov, (int) n);

        for (size_t i = 0; i < n; i++)
                free(iov[i].iov_base);
}

void joblog_add(JobLog *l, const Job *job, JobLogLevel level, const char *message_id,
                const char *format, ...) {
        char raw[JOBLOG_MAX_MESSAGE_BYTES + 2], time[RFC3339_MAX];
        char *message;
        va_list ap;

        if (!l)
                return;
        if (level < 0 || level >= _JOBLOG_LEVEL_MAX)
                level = JOBLOG_ERROR;

        /* One byte more than the limit is enough to know that a cut is due. */
        va_start(ap, format);
        if (vsnprintf(raw, sizeof(raw), format, ap) < 0)
                raw[0] = '\0';
        va_end(ap);

        message = sanitise_message(raw);
        if (!message) {
                (void) log_oom();
                return;
        }
        format_rfc3339(now_realtime_usec(), time);

        if (log_to_journal())
                send_to_journal(l, job, level_priority[level], message_id, message);
        else
                fprintf(stderr, "[job %s] %s%s\n", l->id, level_prefix[level], message);

        report_write(l, append_line(l, time, level, message));
        remember(l, time, level, message);
}

static int joblog_new(const char *log_dir, const char *job_id, JobLog **ret) {
        _cleanup_(joblog_freep) JobLog *l = NULL;

        if (isempty(log_dir) || !job_id_is_valid(job_id))
                return -EINVAL;

        l = calloc(1, sizeof(JobLog));
        if (!l)
                return -ENOMEM;
        l->fd = -1;
        memcpy(l->id, job_id, JOB_ID_MAX);
        l->entries = calloc(JOBLOG_MAX_ENTRIES, sizeof(JobLogEntry));
        if (!l->entries || asprintf(&l->path, "%s/%s" JOBLOG_SUFFIX, log_dir, job_id) < 0)
                return -ENOMEM;

        *ret = TAKE_PTR(l);
        return 0;
}

/* Opens the file for appending.  A log directory that cannot be created or
 * written does not stop the job: the failure is reported once, and entries
 * still go to the journal and to memory. */
static void open_file(JobLog *l, const char *log_dir) {
        int r;

        /* LOG_DIR normally belongs to systemd's LogsDirectory=; create it
         * only when running without one. */
        r = mkdir_parents_and_self(log_dir, JOBLOG_DIR_MODE);
        if (r >= 0) {
                l->fd = open(l->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY,
                             JOBLOG_FILE_MODE);
                r = l->fd < 0 ? -errno : 0;
        }
        if (r < 0) {
                l->write_failed = true;
                log_error_errno(r, "Failed to open job log %s, entries go to the journal only", l->path);
        }
}

int joblog_open(const char *log_dir, const char *job_id, JobLog **ret) {
        _cleanup_(joblog_freep) JobLog *l = NULL;
        int r;

        r = joblog_new(log_dir, job_id, &l);
        if (r < 0)
                return r;
        open_file(l, log_dir);

        *ret = TAKE_PTR(l);
        return 0;
}

JobLog *joblog_free(JobLog *l) {
        if (!l)
                return NULL;
        if (l->entries)
                for (size_t i = 0; i < l->n; i++)
                        entry_clear(&l->entries[(l->first + i) % JOBLOG_MAX_ENTRIES]);
        free(l->entries);
        free(l->path);
        if (l->fd >= 0)
                (void) close(l->fd);
        free(l);
        return NULL;
}

/* Reads the last JOBLOG_MAX_FILE_BYTES of the log.  When the file is larger
 * the read starts inside a line; *ret_partial_head says so. */
static int read_tail(const char *path, char **ret, size_t *ret_len, bool *ret_partial_head) {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
        _cleanup_free_ char *buf = NULL;
        struct stat st;
        off_t offset = 0;
        size_t len = 0;

        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode))
                return -EBADFD;
        if ((uint64_t) st.st_size > JOBLOG_MAX_FILE_BYTES)
                offset = st.st_size - (off_t) JOBLOG_MAX_FILE_BYTES;

        buf = malloc(JOBLOG_MAX_FILE_BYTES + 1);
        if (!buf)
                return -ENOMEM;

        /* The file may grow meanwhile; whatever fits the bound is enough. */
        while (len < JOBLOG_MAX_FILE_BYTES) {
                ssize_t k = pread(fd, buf + len, JOBLOG_MAX_FILE_BYTES - len, offset + (off_t) len);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (k == 0)
                        break;
                len += (size_t) k;
        }

        buf[len] = '\0';
        *ret = TAKE_PTR(buf);
        *ret_len = len;
        *ret_partial_head = offset > 0;
        return 0;
}

/* Parses one line into the in-memory list; false when it is not an entry. */
static bool load_line(JobLog *l, const char *line, size_t len) {
        _cleanup_json_ struct json_object *o = NULL;
        const char *error, *time, *message;
        char *copy;
        int level;

        o = json_parse_strict(line, len, &error);
        if (!o)
                return false;

        time = json_get_string(o, "time");
        level = level_from_string(json_get_string(o, "level"));
        message = json_get_string(o, "message");
        if (isempty(time) || strlen(time) >= RFC3339_MAX || level < 0 || !message)
                return false;

        /* The file is outside the service's control: bound and clean the
         * text again, as if it were new. */
        copy = sanitise_message(message);
        if (!copy)
                return false;
        remember(l, time, (JobLogLevel) level, copy);
        return true;
}

static void load_lines(JobLog *l, const char *data, size_t len, bool partial_head) {
        const char *p = data, *end = data + len;
        size_t skipped = 0;

        /* A read that starts mid-file starts mid-line: drop that piece. */
        if (partial_head) {
                const char *nl = memchr(p, '\n', len);
                p = nl ? nl + 1 : end;
        }

        while (p < end) {
                const char *nl = memchr(p, '\n', (size_t) (end - p));

                /* No newline: a line torn by a crash mid-write. */
                if (!nl) {
                        skipped++;
                        break;
                }
                if (nl > p && !load_line(l, p, (size_t) (nl - p)))
                        skipped++;
                p = nl + 1;
        }

        if (skipped > 0)
                log_warning("Skipped %zu malformed or incomplete line(s) in job log %s", skipped, l->path);
}

int joblog_load(const char *log_dir, const char *job_id, JobLog **ret) {
        _cleanup_(joblog_freep) JobLog *l = NULL;
        _cleanup_free_ char *data = NULL;
        bool partial_head = false;
        size_t len = 0;
        int r;

        /* Creates the file when it is missing (a wiped LOG_DIR): the job
         * then goes on with an empty log rather than none. */
        r = joblog_open(log_dir, job_id, &l);
        if (r < 0)
                return r;

        /* An unreadable file costs the history, not the job. */
        r = read_tail(l->path, &data, &len, &partial_head);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                log_error_errno(r, "Failed to read job log %s, its earlier entries are not shown", l->path);
        else {
                load_lines(l, data, len, partial_head);
                l->need_newline = len > 0 && data[len - 1] != '\n';
        }

        *ret = TAKE_PTR(l);
        return 0;
}

static struct json_object *entry_to_json(const JobLogEntry *e) {
        _cleanup_json_ struct json_object *o = json_object_new_object();

        if (!o || json_add_string(o, "time", e->time) < 0 ||
            json_add_string(o, "level", level_table[e->level]) < 0 ||
            json_add_string(o, "message", e->message) < 0)
                return NULL;
        return TAKE_PTR(o);
}

struct json_object *joblog_to_json(const JobLog *l) {
        _cleanup_json_ struct json_object *a = json_object_new_array();

        if (!a)
                return NULL;
        for (size_t i = 0; l && i < l->n; i++) {
                struct json_object *o = entry_to_json(&l->entries[(l->first + i) % JOBLOG_MAX_ENTRIES]);
                if (!o || json_object_array_add(a, o) < 0) {
                        json_object_put(o);
                        return NULL;
                }
        }
        return TAKE_PTR(a);
}
