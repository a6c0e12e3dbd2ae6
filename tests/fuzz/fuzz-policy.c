/* libFuzzer harness for policy_parse(): any byte string is either a policy
 * whose fields hold the documented invariants, or an error with a message;
 * never a crash, a leak or an unbounded allocation. */

#include <stdint.h>
#include <stdlib.h>

#include "upgrade/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_free_ char *error = NULL;
        Policy p;
        int r;

        r = policy_parse((const char *) data, size, &p, &error);
        if (r < 0) {
                if (!error && r != -ENOMEM)
                        abort();
                return 0;
        }

        if (!p.latest || p.n_releases > POLICY_MAX_RELEASES || p.n_breakpoints > POLICY_MAX_BREAKPOINTS)
                abort();
        for (size_t i = 0; i < p.n_breakpoints; i++)
                if (!p.breakpoints[i].version || !p.breakpoints[i].reason)
                        abort();
        policy_done(&p);
        return 0;
}
