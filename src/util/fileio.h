/* File helpers with the guarantees the job store depends on. */
#pragma once

#include <stddef.h>
#include <sys/types.h>

/* Writes all of DATA to FD, retrying on EINTR and short writes. */
int write_all(int fd, const void *data, size_t len);

/* Replaces DIR/NAME with DATA atomically: writes a temporary file in DIR,
 * fsyncs it, renames it over NAME and fsyncs DIR, so a crash at any instant
 * leaves either the old or the new content.  MODE applies to the new file. */
int write_file_atomic(const char *dir, const char *name, const void *data, size_t len, mode_t mode);

/* Reads at most MAX bytes of PATH into a NUL-terminated buffer.  A larger
 * file is -EFBIG rather than a truncated read; a directory is -EISDIR and
 * anything else that is not a regular file -EBADFD, without blocking. */
int read_file_bounded(const char *path, size_t max, char **ret, size_t *ret_len);

/* mkdir -p with MODE for every created component. */
int mkdir_parents_and_self(const char *path, mode_t mode);

/* fsyncs a directory so that renames and unlinks inside it are durable. */
int fsync_directory(const char *dir);
