/* Every conformance input parsed with an unreadable page right after its last
 * byte, and again right before its first, so that a parser reading even one
 * byte outside what it was given crashes here instead of passing quietly.
 * Each feed is copied into the guarded spot, overwriting the previous one,
 * which also catches a parser that keeps pointers into the caller's buffer. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/mman.h>
#include <cmocka.h>

#include "http-cases.h"

typedef struct Guarded {
        char *base;     /* first readable byte, right after the leading guard page */
        size_t size;    /* readable bytes, a whole number of pages */
        size_t map_size;
        bool at_start;  /* place pieces against the leading guard instead of the trailing one */
} Guarded;

static int guarded_setup(void **state) {
        size_t page = (size_t) sysconf(_SC_PAGESIZE), longest = 0;
        Guarded *g;
        char *map;

        for (size_t i = 0; i < ELEMENTSOF(http_cases); i++)
                if (http_cases[i].len > longest)
                        longest = http_cases[i].len;

        g = calloc(1, sizeof(*g));
        if (!g)
                return -1;
        g->size = (longest / page + 1) * page;
        g->map_size = g->size + 2 * page;

        map = mmap(NULL, g->map_size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (map == MAP_FAILED || mprotect(map + page, g->size, PROT_READ | PROT_WRITE) < 0) {
                free(g);
                return -1;
        }
        g->base = map + page;
        *state = g;
        return 0;
}

static int guarded_teardown(void **state) {
        Guarded *g = *state;
        size_t page = (size_t) sysconf(_SC_PAGESIZE);

        (void) munmap(g->base - page, g->map_size);
        free(g);
        return 0;
}

static const char *guarded_place(const char *data, size_t len, void *userdata) {
        Guarded *g = userdata;
        char *to = g->at_start ? g->base : g->base + g->size - len;

        /* Scribble over the whole area first: stale bytes from an earlier feed
         * must not be able to make a wrong read look right. */
        memset(g->base, 'Z', g->size);
        memcpy(to, data, len);
        return to;
}

static void run_guarded(Guarded *g, bool at_start) {
        g->at_start = at_start;

        for (size_t i = 0; i < ELEMENTSOF(http_cases); i++) {
                const HttpCase *c = &http_cases[i];
                _cleanup_free_ size_t *cuts = NULL;
                HttpOutcome expected, got;
                char why[4 * HTTP_CASE_MAX_TEXT];

                http_case_expected(c, &expected);

                assert_int_equal(http_case_run(c, NULL, 0, guarded_place, g, &got), 0);
                if (http_outcome_differs(&expected, &got, why, sizeof(why)))
                        fail_msg("case '%s' fed whole: %s", c->name, why);

                if (c->len < 2)
                        continue;
                cuts = calloc(c->len - 1, sizeof(size_t));
                assert_non_null(cuts);
                for (size_t k = 0; k < c->len - 1; k++)
                        cuts[k] = k + 1;
                assert_int_equal(http_case_run(c, cuts, c->len - 1, guarded_place, g, &got), 0);
                if (http_outcome_differs(&expected, &got, why, sizeof(why)))
                        fail_msg("case '%s' fed byte by byte: %s", c->name, why);
        }
}

static void test_guard_after(void **state) {
        run_guarded(*state, false);
}

static void test_guard_before(void **state) {
        run_guarded(*state, true);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_guard_after),
                cmocka_unit_test(test_guard_before),
        };

        return cmocka_run_group_tests(tests, guarded_setup, guarded_teardown);
}
