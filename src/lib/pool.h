/* pool.h - a bounded stock of same-size objects: ended sessions and transactions are kept for
 * the next ones instead of going back to malloc (their large chunks cost ~5% of a run there).
 * Each kept object may keep up to POOL_AUX buffers it grew (the session's pending ring, reply
 * text and header value; the transaction's recipient array). The pool holds those pointers
 * itself, so a kept object is poisoned whole under AddressSanitizer: a use after release is
 * still caught, and LeakSanitizer still sees the buffers. */
#ifndef SMTPSNIFF_POOL_H
#define SMTPSNIFF_POOL_H

#include <stdbool.h>
#include <stddef.h>

#include "smtpsniff/limits.h"

#define POOL_AUX 3

/* The buffers kept with an object: pointer and size (capacity) of each, unused ones NULL. */
struct pool_aux {
    void *p[POOL_AUX];
    size_t n[POOL_AUX];
};

struct pool {
    size_t size;
    unsigned n;
    struct pool_slot {
        void *obj;
        struct pool_aux aux;
    } slot[SMTP_POOL_KEEP];
};

#define POOL_INIT(type) {.size = sizeof(type)}

/* A kept object (its contents as released, for the caller to reset) and its buffers, or NULL. */
void *pool_get(struct pool *p, struct pool_aux *aux);
/* Keep `o` and its buffers; false when the pool is full (the caller frees them). */
bool pool_put(struct pool *p, void *o, const struct pool_aux *aux);

#endif
