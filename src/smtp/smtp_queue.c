/* smtp_queue.c - the pipelining queue: a ring of pending client lines, their arguments copied
 * inline when short (most are), on the heap otherwise. */
#include "smtp/smtp_queue.h"

#include <stdlib.h>
#include <string.h>

#include "lib/xalloc.h"

_Static_assert((SMTP_MAX_PENDING & (SMTP_MAX_PENDING - 1)) == 0, "the pending ring doubles up to SMTP_MAX_PENDING");

static void queue_grow(struct smtp_queue *q)
{
    unsigned cap = q->cap ? q->cap * 2 : 4;
    if (cap > SMTP_MAX_PENDING)
        cap = SMTP_MAX_PENDING;
    struct smtp_pending *nq = xcalloc(cap, sizeof(*nq));
    for (unsigned i = 0; i < q->len; i++)
        nq[i] = *smtp_queue_at(q, i);
    for (unsigned i = 0; i < q->len; i++)
        if (nq[i].heap_arg == NULL)
            nq[i].cmd.arg.p = nq[i].inline_arg; /* inline copies moved with the entry */
    free(q->q);
    q->q = nq;
    q->cap = cap;
    q->head = 0;
}

/* n <= 64 bytes as two overlapping moves of a fixed size: GCC turns a memcpy it knows is that
 * short into `rep movsq`, whose start-up cost was a quarter of pushing a command line. */
static void copy_short(uint8_t *d, const uint8_t *s, size_t n)
{
    if (n >= 32) {
        memcpy(d, s, 32);
        memcpy(d + n - 32, s + n - 32, 32);
    } else if (n >= 16) {
        memcpy(d, s, 16);
        memcpy(d + n - 16, s + n - 16, 16);
    } else if (n >= 8) {
        memcpy(d, s, 8);
        memcpy(d + n - 8, s + n - 8, 8);
    } else if (n >= 4) {
        memcpy(d, s, 4);
        memcpy(d + n - 4, s + n - 4, 4);
    } else {
        for (size_t i = 0; i < n; i++)
            d[i] = s[i];
    }
}

struct smtp_pending *smtp_queue_push(struct smtp_queue *q, enum smtp_verb id, const char *verb, size_t verb_len,
                                     const uint8_t *arg, size_t arg_len, const struct timeval *ts)
{
    if (q->len == q->cap)
        queue_grow(q);
    struct smtp_pending *pc = smtp_queue_at(q, q->len);
    /* Every member is set below (no memset: this runs for every client line). */
    pc->cmd.id = id;
    pc->cmd.arg_redacted = false;
    pc->heap_arg = NULL;
    pc->variant = 0;
    pc->txn_serial = pc->serial_mark = 0;
    pc->rcpt_idx = -1;
    pc->seq_ok = pc->lost = pc->resync = false;
    if (verb_len > SMTP_MAX_VERB)
        verb_len = SMTP_MAX_VERB;
    copy_short((uint8_t *)pc->cmd.verb, (const uint8_t *)verb, verb_len);
    pc->cmd.verb[verb_len] = '\0';
    pc->cmd.verb_len = verb_len;
    pc->cmd.ts = *ts;
    if (arg_len > SMTP_MAX_ARG)
        arg_len = SMTP_MAX_ARG;
    uint8_t *dst = pc->inline_arg;
    _Static_assert(sizeof(pc->inline_arg) == 64, "copy_short copies up to 64 bytes");
    if (arg_len > sizeof(pc->inline_arg)) {
        dst = pc->heap_arg = xmalloc(arg_len);
        memcpy(dst, arg, arg_len);
    } else {
        copy_short(dst, arg, arg_len);
    }
    pc->cmd.arg.p = dst;
    pc->cmd.arg.len = arg_len;
    q->len++;
    return pc;
}

void smtp_queue_take(struct smtp_queue *q, struct smtp_pending *out)
{
    struct smtp_pending *pc = smtp_queue_at(q, 0);
    *out = *pc;
    if (out->heap_arg == NULL)
        out->cmd.arg.p = out->inline_arg;
    pc->heap_arg = NULL; /* owned by out now */
    q->head = (q->head + 1) & (q->cap - 1);
    q->len--;
}

void smtp_pending_release(struct smtp_pending *pc)
{
    free(pc->heap_arg);
    pc->heap_arg = NULL;
}

void smtp_pending_set_arg(struct smtp_pending *pc, uint8_t *heap, size_t n)
{
    free(pc->heap_arg);
    pc->heap_arg = heap;
    pc->cmd.arg.p = heap;
    pc->cmd.arg.len = n;
}

void smtp_queue_clear(struct smtp_queue *q)
{
    for (unsigned i = 0; i < q->len; i++)
        smtp_pending_release(smtp_queue_at(q, i));
    q->len = q->head = 0;
}
