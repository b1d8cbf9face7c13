/* xalloc.c - allocation that never returns NULL: out of memory is one line on stderr and abort(). */
#include "lib/xalloc.h"

#include <stdio.h>
#include <stdlib.h>

_Noreturn void xalloc_failed(size_t n)
{
    fprintf(stderr, "smtpsniff: out of memory (an allocation of %zu bytes failed)\n", n);
    abort();
}

void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (p == NULL)
        xalloc_failed(n);
    return p;
}

void *xcalloc(size_t count, size_t size)
{
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (p == NULL)
        xalloc_failed(count * size);
    return p;
}

void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (q == NULL)
        xalloc_failed(n);
    return q;
}
