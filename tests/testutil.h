/* testutil.h - small helpers shared by the test programs (each test file is its own binary). */
#ifndef SMTPSNIFF_TESTUTIL_H
#define SMTPSNIFF_TESTUTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Everything left in the stream, NUL-terminated (malloc'd); its length in *len when len != NULL. */
static inline char *tu_read_stream(FILE *f, size_t *len)
{
    size_t cap = 1 << 16, n = 0, got;
    char *buf = malloc(cap + 1);
    while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap)
            buf = realloc(buf, (cap *= 2) + 1);
    }
    if (buf == NULL)
        abort();
    buf[n] = '\0';
    if (len)
        *len = n;
    return buf;
}

/* The whole file, NUL-terminated (malloc'd); NULL if it cannot be opened. */
static inline char *tu_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    char *buf = tu_read_stream(f, len);
    fclose(f);
    return buf;
}

/* The next entry of a golden list (tests/golden/MANIFEST, SUMMARIES): "EXPECTED [STATUS] ARGS...",
 * '#' lines and blank lines skipped. STATUS is read only when status != NULL. Returns the line
 * number, or 0 at the end of the file. */
static inline int tu_next_golden(FILE *m, int *lineno, char expected[128], int *status, char args[512])
{
    char line[1024];
    while (fgets(line, sizeof(line), m)) {
        ++*lineno;
        int used = 0;
        if (line[0] == '#' || line[0] == '\n')
            continue;
        if (status ? sscanf(line, "%127s %d %n", expected, status, &used) < 2
                   : sscanf(line, "%127s %n", expected, &used) < 1)
            continue;
        snprintf(args, 512, "%s", line + used);
        args[strcspn(args, "\n")] = '\0';
        return *lineno;
    }
    return 0;
}

#endif
