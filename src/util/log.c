/* Where service-level messages go.  Under systemd (stderr connected to
 * the journal, or started as a unit) journald gets them natively, with the
 * priority and, where given, a MESSAGE_ID.  Run by hand from a terminal or
 * a test harness they go to stderr as plain lines, even on a host where
 * journald runs: whoever started the program is watching stderr. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <systemd/sd-journal.h>

#include "util/log.h"

#define JOURNAL_SOCKET "/run/systemd/journal/socket"
#define LOG_LINE_MAX 4096

static int log_target = -1; /* -1 unknown, 0 stderr, 1 journal */
static bool force_stderr;

/* systemd sets JOURNAL_STREAM to "DEVICE:INODE" of the stream it connected
 * stderr to; it only counts while stderr is still that stream. */
static bool stderr_is_journal(void) {
        const char *e = getenv("JOURNAL_STREAM");
        unsigned long long dev, ino;
        struct stat st;

        if (!e || sscanf(e, "%llu:%llu", &dev, &ino) != 2)
                return false;
        if (fstat(STDERR_FILENO, &st) < 0)
                return false;
        return st.st_dev == (dev_t) dev && st.st_ino == (ino_t) ino;
}

void log_open(void) {
        bool under_systemd;

        if (log_target >= 0)
                return;
        under_systemd = stderr_is_journal() || getenv("INVOCATION_ID");
        log_target = !force_stderr && under_systemd && access(JOURNAL_SOCKET, W_OK) == 0;
}

void log_force_stderr(bool b) {
        force_stderr = b;
        log_target = b ? 0 : -1;
}

bool log_to_journal(void) {
        log_open();
        return log_target == 1;
}

static void log_emit(int priority, const char *message_id, const char *text) {
        if (log_to_journal()) {
                if (message_id)
                        sd_journal_send("MESSAGE=%s", text, "PRIORITY=%i", priority,
                                        "MESSAGE_ID=%s", message_id, NULL);
                else
                        sd_journal_send("MESSAGE=%s", text, "PRIORITY=%i", priority, NULL);
                return;
        }
        fprintf(stderr, "%s\n", text);
}

/* Debug lines (one per refused request, say) are for someone looking into
 * a problem: off unless PAYRAM_UPDATER_DEBUG=1, so that a peer cannot
 * decide how much the service logs. */
static bool debug_enabled(void) {
        static int enabled = -1;

        if (enabled < 0) {
                const char *e = getenv("PAYRAM_UPDATER_DEBUG");
                enabled = e && streq(e, "1");
        }
        return enabled;
}

int log_full(int priority, int err, const char *message_id, const char *format, ...) {
        char text[LOG_LINE_MAX];
        va_list ap;
        int saved_errno = errno;
        int n;

        if (priority >= LOG_DEBUG && !debug_enabled())
                return err > 0 ? -err : err;

        va_start(ap, format);
        n = vsnprintf(text, sizeof(text), format, ap);
        va_end(ap);

        /* Append the cause so that every failure line says why. */
        if (err != 0 && n >= 0 && (size_t) n < sizeof(text))
                (void) snprintf(text + n, sizeof(text) - (size_t) n, ": %s", strerror(err > 0 ? err : -err));

        log_emit(priority, message_id, text);
        errno = saved_errno;
        return err > 0 ? -err : err;
}
