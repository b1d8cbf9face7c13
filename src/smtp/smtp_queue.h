/* smtp_queue.h - the pipelining queue (a leaf): client lines waiting for their replies, oldest
 * first (RFC 2920: replies come in command order). A ring that doubles up to SMTP_MAX_PENDING. */
#ifndef SMTPSNIFF_SMTP_QUEUE_H
#define SMTPSNIFF_SMTP_QUEUE_H

#include "smtpsniff/smtp.h"

/* A client line waiting for its reply. smtp_queue_push sets cmd, the argument copy and clears the
 * rest; the state machine fills the members below `heap_arg` as it reads the line. */
struct smtp_pending {
    struct smtp_command cmd;
    uint8_t inline_arg[64];
    uint8_t *heap_arg;
    unsigned variant;       /* enum reply_variant: BDAT LAST, or a BDAT size the server cannot read */
    unsigned txn_serial;    /* the transaction the line belongs to (0: none) */
    unsigned serial_mark;   /* HELO/EHLO: transactions opened after it have serials above this */
    int rcpt_idx;           /* RCPT: its slot in that transaction, or -1 */
    bool seq_ok;            /* DATA/BDAT: sent inside a transaction with a recipient not yet refused */
    bool lost;              /* not a line: the place of client lines lost in the capture */
    bool resync;            /* read while the pairing was resynchronising (a lost entry ahead) */
    unsigned lost_replies;  /* lost entry: replies that answered its lines so far */
};

struct smtp_queue {
    struct smtp_pending *q;
    unsigned head, len, cap; /* cap is 0 or a power of two */
};

static inline struct smtp_pending *smtp_queue_at(struct smtp_queue *q, unsigned i)
{
    return &q->q[(q->head + i) & (q->cap - 1)];
}

/* Append a line (the queue must not be full: len < SMTP_MAX_PENDING); returns its entry. The
 * verb is cut at SMTP_MAX_VERB, the argument at SMTP_MAX_ARG. */
struct smtp_pending *smtp_queue_push(struct smtp_queue *q, enum smtp_verb id, const char *verb, size_t verb_len,
                                     const uint8_t *arg, size_t arg_len, const struct timeval *ts);
/* Move the oldest entry to *out, which owns its argument from then on (smtp_pending_release). */
void smtp_queue_take(struct smtp_queue *q, struct smtp_pending *out);
/* Release what an entry owns. */
void smtp_pending_release(struct smtp_pending *pc);
/* Replace the argument with n bytes at p (a redacted copy). */
void smtp_pending_set_arg(struct smtp_pending *pc, uint8_t *heap, size_t n);
/* Release every entry; the ring stays allocated. */
void smtp_queue_clear(struct smtp_queue *q);

#endif
