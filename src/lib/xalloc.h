/* xalloc.h - the one out-of-memory policy (docs/design.md): an allocation that fails ends the
 * program with one line on stderr naming the size, then abort(). Every constructor in the core
 * allocates through these, so none returns NULL. */
#ifndef SMTPSNIFF_XALLOC_H
#define SMTPSNIFF_XALLOC_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *p, size_t n);
/* Report the failure of an allocation of n bytes and abort (for allocators of their own). */
_Noreturn void xalloc_failed(size_t n);

#endif
