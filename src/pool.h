/* pool.h - a bounded stock of same-size objects: ended sessions and transactions are kept for
 * the next ones instead of going back to malloc (their large chunks cost ~5% of a run there).
 * Each kept object may keep one buffer it grew (`aux`, `aux_n`: the session's pending ring, the
 * transaction's recipient array). The pool holds that pointer itself, so a kept object is
 * poisoned whole under AddressSanitizer: a use after release is still caught, and LeakSanitizer
 * still sees the buffer. */
#ifndef SMTPSNIFF_POOL_H
#define SMTPSNIFF_POOL_H

#include <stdbool.h>
#include <stddef.h>

#include "smtpsniff/limits.h"

struct pool {
    size_t size;
    unsigned n;
    struct pool_slot {
        void *obj, *aux;
        size_t aux_n;
    } slot[SMTP_POOL_KEEP];
};

#define POOL_INIT(type) {.size = sizeof(type)}

/* A kept object (its contents as released, for the caller to reset) and its buffer, or NULL. */
void *pool_get(struct pool *p, void **aux, size_t *aux_n);
/* Keep `o` and its buffer; false when the pool is full (the caller frees them). */
bool pool_put(struct pool *p, void *o, void *aux, size_t aux_n);

#endif
