/* Reading the published policy and manifest files in unit tests: the
 * meson test sets PAYRAM_SHARED_DATA to tests/data/payram-scripts. */
#pragma once

#include <stdlib.h>

#include "util/fileio.h"
#include "util/macros.h"

#define DATA_MAX_BYTES (1024 * 1024)

static inline char *read_shared(const char *name, size_t *ret_len) {
        const char *dir = getenv("PAYRAM_SHARED_DATA");
        _cleanup_free_ char *path = NULL;
        char *data = NULL;

        assert_non_null(dir);
        assert_true(asprintf(&path, "%s/%s", dir, name) > 0);
        assert_int_equal(read_file_bounded(path, DATA_MAX_BYTES, &data, ret_len), 0);
        return data;
}
