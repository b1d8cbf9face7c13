/* pool.c - bounded stocks of reusable objects (pool.h). Single-threaded, like the core. */
#include "lib/pool.h"

#if defined(__SANITIZE_ADDRESS__)
#define POOL_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define POOL_ASAN 1
#endif
#endif

#ifdef POOL_ASAN
#include <sanitizer/asan_interface.h>
#define POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define POISON(p, n) ((void)(p), (void)(n))
#define UNPOISON(p, n) ((void)(p), (void)(n))
#endif

void *pool_get(struct pool *p, struct pool_aux *aux)
{
    if (p->n == 0)
        return NULL;
    struct pool_slot *s = &p->slot[--p->n];
    UNPOISON(s->obj, p->size);
    *aux = s->aux;
    return s->obj;
}

bool pool_put(struct pool *p, void *o, const struct pool_aux *aux)
{
    if (p->n == SMTP_POOL_KEEP)
        return false;
    p->slot[p->n++] = (struct pool_slot){o, *aux};
    POISON(o, p->size);
    return true;
}
