/* sink_tee.c - one sink that hands every record to several sinks, in the order given. */
#include <stdlib.h>

#include "sinks/sinks.h"
#include "lib/xalloc.h"

struct sink_tee {
    struct smtp_sink sink; /* sink.ctx points back here */
    unsigned n;
    struct smtp_sink **v;
};

static void tee_session_start(void *ctx, const struct smtp_session_info *s)
{
    struct sink_tee *T = ctx;
    for (unsigned i = 0; i < T->n; i++)
        if (T->v[i]->session_start)
            T->v[i]->session_start(T->v[i]->ctx, s);
}

static void tee_exchange(void *ctx, const struct smtp_session_info *s, const struct smtp_exchange *x)
{
    struct sink_tee *T = ctx;
    for (unsigned i = 0; i < T->n; i++)
        if (T->v[i]->exchange)
            T->v[i]->exchange(T->v[i]->ctx, s, x);
}

static void tee_transaction(void *ctx, const struct smtp_session_info *s, const struct smtp_transaction *t)
{
    struct sink_tee *T = ctx;
    for (unsigned i = 0; i < T->n; i++)
        if (T->v[i]->transaction)
            T->v[i]->transaction(T->v[i]->ctx, s, t);
}

static void tee_notice(void *ctx, const struct smtp_session_info *s, const struct smtp_notice *no)
{
    struct sink_tee *T = ctx;
    for (unsigned i = 0; i < T->n; i++)
        if (T->v[i]->notice)
            T->v[i]->notice(T->v[i]->ctx, s, no);
}

static void tee_session_end(void *ctx, const struct smtp_session_info *s)
{
    struct sink_tee *T = ctx;
    for (unsigned i = 0; i < T->n; i++)
        if (T->v[i]->session_end)
            T->v[i]->session_end(T->v[i]->ctx, s);
}

/* NULL entries in `sinks` are skipped; the tee does not own the sinks it feeds. */
struct smtp_sink *sink_tee_new(struct smtp_sink *const *sinks, unsigned n)
{
    struct sink_tee *T = xcalloc(1, sizeof(*T));
    T->v = xcalloc(n ? n : 1, sizeof(*T->v));
    for (unsigned i = 0; i < n; i++)
        if (sinks[i])
            T->v[T->n++] = sinks[i];
    T->sink = (struct smtp_sink){.ctx = T,
                                 .session_start = tee_session_start,
                                 .exchange = tee_exchange,
                                 .transaction = tee_transaction,
                                 .notice = tee_notice,
                                 .session_end = tee_session_end};
    return &T->sink;
}

void sink_tee_free(struct smtp_sink *s)
{
    if (s == NULL)
        return;
    struct sink_tee *T = s->ctx;
    free(T->v);
    free(T);
}
