/* testutil.h - small helpers shared by the test programs (each test file is its own binary). */
#ifndef SMTPSNIFF_TESTUTIL_H
#define SMTPSNIFF_TESTUTIL_H

#include <stdio.h>
#include <stdlib.h>

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

#endif
