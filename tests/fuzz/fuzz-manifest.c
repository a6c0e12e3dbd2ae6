/* libFuzzer harness for manifest_parse(): a parsed manifest has its required
 * fields (a health endpoint starting with "/"), a refused one has a message;
 * never a crash or a leak. */

#include <stdint.h>
#include <stdlib.h>

#include "upgrade/manifest.h"
#include "util/macros.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_free_ char *error = NULL;
        Manifest m;
        int r;

        r = manifest_parse((const char *) data, size, &m, &error);
        if (r < 0) {
                if (!error && r != -ENOMEM)
                        abort();
                return 0;
        }

        if (!m.image_repo || !m.health_endpoint || m.health_endpoint[0] != '/')
                abort();
        manifest_done(&m);
        return 0;
}
