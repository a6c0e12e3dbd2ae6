/* Where service-level messages go.  journald gets them natively (with the
 * priority and, where given, a MESSAGE_ID); without a journal they go to
 * stderr with the "<N>" priority prefix that systemd's stream logging
 * understands, so they are still classified when stderr is a journal
 * stream. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <systemd/sd-journal.h>

#include "util/log.h"

#define JOURNAL_SOCKET "/run/systemd/journal/socket"
#define LOG_LINE_MAX 4096

static int log_target = -1; /* -1 unknown, 0 stderr, 1 journal */
static bool force_stderr;

void log_open(void) {
        if (log_target >= 0)
                return;
        log_target = !force_stderr && access(JOURNAL_SOCKET, W_OK) == 0;
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
        fprintf(stderr, "<%i>%s\n", priority, text);
}

int log_full(int priority, int err, const char *message_id, const char *format, ...) {
        char text[LOG_LINE_MAX];
        va_list ap;
        int saved_errno = errno;
        int n;

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
