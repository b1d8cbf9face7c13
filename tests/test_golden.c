/* test_golden.c - runs smtpsniff on every capture in tests/golden/MANIFEST and compares stdout
 * and the exit status with the stored expectation (tcpdump's tests/TESTLIST style). */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "testutil.h"

struct golden {
    char expected[128];
    int status;
    char args[512];
    int line;
};


ParameterizedTestParameters(golden, capture)
{
    FILE *m = fopen(SRCDIR "/tests/golden/MANIFEST", "r");
    cr_assert_not_null(m, "tests/golden/MANIFEST missing");
    static struct golden rows[256];
    size_t n = 0;
    int lineno = 0;
    while (n < 256 && (rows[n].line = tu_next_golden(m, &lineno, rows[n].expected, &rows[n].status, rows[n].args)))
        n++;
    fclose(m);
    struct golden *copy = cr_malloc(n * sizeof(*copy));
    memcpy(copy, rows, n * sizeof(*copy));
    return cr_make_param_array(struct golden, copy, n);
}

ParameterizedTest(struct golden *g, golden, capture, .timeout = 60)
{
    char cmd[1024];
    snprintf(cmd, sizeof(cmd), "cd '%s' && TZ=UTC LC_ALL=C '%s' %s 2>/dev/null", SRCDIR, SMTPSNIFF_BIN, g->args);
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p);
    size_t got_len, want_len;
    char *got = tu_read_stream(p, &got_len);
    int st = pclose(p);
    char path[512];
    snprintf(path, sizeof(path), "%s/tests/golden/%s", SRCDIR, g->expected);
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f, "MANIFEST line %d: %s missing (run tools/update-golden)", g->line, path);
    char *want = tu_read_stream(f, &want_len);
    fclose(f);
    cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == g->status, "MANIFEST line %d (%s): exit %d, want %d", g->line,
              g->args, WEXITSTATUS(st), g->status);
    cr_expect(got_len == want_len && memcmp(got, want, got_len) == 0,
              "MANIFEST line %d: smtpsniff %s differs from %s (%zu vs %zu bytes)", g->line, g->args, g->expected,
              got_len, want_len);
    free(got);
    free(want);
}
