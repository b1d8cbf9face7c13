/* smtp_fsm.c - session state changes, made on the (command, reply) pair and nowhere else
 * (a passive observer only knows a command took effect once the server said so), plus the
 * mail transactions they build (RFC 5321 3.3). */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "lib/pool.h"
#include "smtp/smtp_internal.h"

_Static_assert(offsetof(struct smtp_transaction, message) + sizeof(struct smtp_message_info) ==
                   sizeof(struct smtp_transaction),
               "txn_new clears what precedes the message and resets the message");

/* Ended transactions kept for reuse, each with the recipient array it grew. */
static struct pool txn_pool = POOL_INIT(struct smtp_transaction);

static bool positive(const struct smtp_reply *r)
{
    return r->code >= 200 && r->code < 400;
}

void smtp_txn_free(struct smtp_transaction *t)
{
    if (t && !pool_put(&txn_pool, t, &(struct pool_aux){.p = {t->rcpt}, .n = {t->rcpt_cap}})) {
        free(t->rcpt);
        free(t);
    }
}

void smtp_txn_pool_drain(void)
{
    struct pool_aux aux;
    struct smtp_transaction *t;
    while ((t = pool_get(&txn_pool, &aux)) != NULL) {
        free(aux.p[0]);
        free(t);
    }
}

/* A new transaction: the open one, or the next one behind a transaction that is ending. */
static struct smtp_transaction *txn_new(struct smtp_session *s, unsigned *serial)
{
    struct pool_aux aux;
    struct smtp_transaction *t = pool_get(&txn_pool, &aux);
    if (t != NULL) {
        memset(t, 0, offsetof(struct smtp_transaction, message)); /* the message is last */
        smtp_message_reset(&t->message);
        t->rcpt = aux.p[0]; /* entries are set as recipients are added */
        t->rcpt_cap = (unsigned)aux.n[0];
    } else if ((t = calloc(1, sizeof(*t))) == NULL) {
        abort();
    }
    memcpy(t->helo, s->info.helo, sizeof(t->helo));
    *serial = ++s->serial_counter;
    return t;
}

static struct smtp_txq *txq_tail(struct smtp_session *s)
{
    return s->txq_len ? &s->txq[s->txq_len - 1] : NULL;
}

struct smtp_transaction *smtp_content_txn(struct smtp_session *s)
{
    return s->txq_len ? txq_tail(s)->t : NULL;
}

void smtp_txn_closing(struct smtp_session *s)
{
    if (s->txq_len)
        txq_tail(s)->closing = true;
}

void smtp_txn_finish(struct smtp_session *s, enum smtp_txn_status st, enum smtp_verb at)
{
    struct smtp_transaction *t = smtp_cur_txn(s);
    if (t == NULL)
        return;
    memmove(&s->txq[0], &s->txq[1], (s->txq_len - 1) * sizeof(s->txq[0]));
    s->txq_len--; /* the pipelined next one, if any, becomes current */
    t->depth = s->info.transactions + 1;
    t->status = st;
    t->rejected_at = at;
    t->ts = s->info.end; /* time of the bytes being handled: the deciding reply */
    s->info.transactions++;
    if (s->sink->transaction)
        s->sink->transaction(s->sink->ctx, &s->info, t);
    smtp_txn_free(t);
}

static int txn_add_rcpt(struct smtp_transaction *t, const struct smtp_command *c)
{
    if (t->nrcpt == SMTP_MAX_RCPTS) {
        t->rcpts_dropped++;
        return -1;
    }
    if (t->nrcpt == t->rcpt_cap) {
        unsigned cap = t->rcpt_cap ? t->rcpt_cap * 2 : 4;
        if (cap > SMTP_MAX_RCPTS)
            cap = SMTP_MAX_RCPTS;
        struct smtp_rcpt *nr = realloc(t->rcpt, cap * sizeof(*nr));
        if (nr == NULL)
            abort();
        t->rcpt = nr;
        t->rcpt_cap = cap;
    }
    struct smtp_rcpt *r = &t->rcpt[t->nrcpt++];
    memset(&r->params, 0, sizeof(r->params));
    if (!smtp_parse_path(c->arg.p, c->arg.len, "TO:", r->addr, sizeof(r->addr), &r->params))
        esc_to_cstr(r->addr, sizeof(r->addr), c->arg.p, c->arg.len);
    r->code = 0;
    r->enhanced[0] = r->text[0] = '\0';
    return (int)t->nrcpt - 1;
}

/* The transaction a pending line was sent in, if it is still the open one. */
static struct smtp_transaction *txn_of(struct smtp_session *s, const struct smtp_pending *pc)
{
    return (pc->txn_serial && pc->txn_serial == smtp_cur_serial(s)) ? smtp_cur_txn(s) : NULL;
}

static bool any_rcpt_accepted(const struct smtp_transaction *t)
{
    for (unsigned i = 0; i < t->nrcpt; i++)
        if (t->rcpt[i].code >= 200 && t->rcpt[i].code < 300)
            return true;
    return false;
}

static void data_reply_keep(struct smtp_transaction *t, const struct smtp_reply *r)
{
    t->have_data_reply = true;
    t->data_reply.code = r->code;
    memcpy(t->data_reply.enhanced, r->enhanced, sizeof(r->enhanced));
    if (r->nlines)
        esc_to_cstr(t->data_reply.text, sizeof(t->data_reply.text), r->line[0].p, r->line[0].len);
}

/* EHLO keywords (RFC 5321 4.1.1.1): the lines after the first. */
static void ehlo_extensions(struct smtp_session *s, const struct smtp_reply *r)
{
    s->info.nextensions = 0;
    s->pipelining = s->chunking = s->smtputf8 = s->starttls_offered = false;
    size_t used = 0;
    for (unsigned i = 1; i < r->nlines && s->info.nextensions < SMTP_MAX_EXTENSIONS; i++) {
        size_t room = sizeof(s->info.extensions) - used;
        if (room < 2)
            break;
        const uint8_t *p = r->line[i].p;
        size_t n = r->line[i].len, kl = 0;
        while (kl < n && p[kl] != ' ' && p[kl] != '=')
            kl++;
        used += esc_to_cstr(s->info.extensions + used, room, p, n) + 1;
        s->info.nextensions++;
        if (kl == 10 && ascii_ieq(p, "PIPELINING", 10))
            s->pipelining = true;
        else if (kl == 8 && ascii_ieq(p, "CHUNKING", 8))
            s->chunking = true;
        else if (kl == 8 && ascii_ieq(p, "SMTPUTF8", 8))
            s->smtputf8 = true;
        else if (kl == 8 && ascii_ieq(p, "STARTTLS", 8))
            s->starttls_offered = true;
    }
}

static void on_hello(struct smtp_session *s, const struct smtp_pending *pc, const struct smtp_reply *r)
{
    const struct smtp_command *c = &pc->cmd;
    if (!positive(r))
        return;
    /* RFC 5321 4.1.4: a HELO/EHLO after one was accepted resets the transaction it interrupts. */
    if (txn_of(s, pc))
        smtp_txn_finish(s, SMTP_TXN_ABORTED, c->id);
    size_t n = c->arg.len;
    const uint8_t *sp = memchr(c->arg.p, ' ', n);
    if (sp)
        n = (size_t)(sp - c->arg.p);
    esc_to_cstr(s->info.helo, sizeof(s->info.helo), c->arg.p, n);
    s->ehlo_done = true;
    if (c->id == SMTP_VERB_HELO)
        s->info.nextensions = 0;
    else
        ehlo_extensions(s, r);
}

/* MAIL and RCPT open their records when sent (pipelined content may follow before any reply,
 * RFC 2920); the replies decide what they became. */
static void on_mail_sent(struct smtp_session *s, struct smtp_pending *pc)
{
    pc->txn_serial = 0;
    struct smtp_txq *tail = txq_tail(s);
    if ((tail && !tail->closing) || s->txq_len == SMTP_MAX_OPEN_TXNS)
        return; /* MAIL inside a transaction: its 503 (RFC 5321 4.1.4) must not close the open one */
    unsigned serial;
    struct smtp_transaction *t = txn_new(s, &serial);
    t->have_mail_from = smtp_parse_path(pc->cmd.arg.p, pc->cmd.arg.len, "FROM:", t->mail_from,
                                        sizeof(t->mail_from), &t->mail_params);
    pc->txn_serial = serial;
    s->txq[s->txq_len++] = (struct smtp_txq){.t = t, .serial = serial};
}

static void on_mail(struct smtp_session *s, struct smtp_pending *pc, const struct smtp_reply *r)
{
    struct smtp_transaction *t = txn_of(s, pc);
    if (t == NULL && positive(r) && smtp_cur_txn(s) == NULL) {
        on_mail_sent(s, pc); /* accepted although sent while another was open */
        t = smtp_cur_txn(s);
    }
    if (t == NULL)
        return;
    t->mail_code = r->code;
    if (!positive(r))
        smtp_txn_finish(s, SMTP_TXN_REJECTED, SMTP_VERB_MAIL);
}

static void on_rcpt_sent(struct smtp_session *s, struct smtp_pending *pc)
{
    pc->rcpt_idx = -1;
    struct smtp_txq *tail = txq_tail(s);
    if (tail == NULL || tail->closing)
        return; /* no transaction takes recipients now: the server will say 503 */
    pc->txn_serial = tail->serial;
    pc->rcpt_idx = txn_add_rcpt(tail->t, &pc->cmd);
}

static void on_rcpt(struct smtp_session *s, struct smtp_pending *pc, const struct smtp_reply *r)
{
    struct smtp_transaction *t = txn_of(s, pc);
    if (t == NULL) {
        smtp_notice(s, SMTP_NOTICE_BAD_SEQUENCE, SMTP_DIR_CLIENT, &pc->cmd.ts,
                    "RCPT before an accepted MAIL (reply %d)", r->code);
        return;
    }
    if (pc->rcpt_idx >= 0) {
        struct smtp_rcpt *rc = &t->rcpt[pc->rcpt_idx];
        rc->code = r->code;
        memcpy(rc->enhanced, r->enhanced, sizeof(rc->enhanced));
        if (r->nlines)
            esc_to_cstr(rc->text, sizeof(rc->text), r->line[0].p, r->line[0].len);
    }
}

static void on_data(struct smtp_session *s, const struct smtp_pending *pc, const struct smtp_reply *r)
{
    const struct smtp_command *c = &pc->cmd;
    if (r->code == 354) {
        /* RFC 5321 4.1.1.4: content starts only once the server said 354. */
        s->cmode = SMTP_MODE_DATA;
        smtp_body_begin(s);
        return;
    }
    s->data_refused = true;
    struct smtp_transaction *t = txn_of(s, pc);
    if (t == NULL) {
        smtp_notice(s, SMTP_NOTICE_BAD_SEQUENCE, SMTP_DIR_CLIENT, &c->ts, "DATA with no transaction (reply %d)",
                    r->code);
        return;
    }
    if (!any_rcpt_accepted(t))
        smtp_notice(s, SMTP_NOTICE_BAD_SEQUENCE, SMTP_DIR_CLIENT, &c->ts,
                    "DATA with no accepted recipient (reply %d)", r->code);
    data_reply_keep(t, r);
    smtp_txn_finish(s, SMTP_TXN_REJECTED, SMTP_VERB_DATA);
}

static void on_message_end(struct smtp_session *s, enum smtp_verb at, const struct smtp_reply *r)
{
    struct smtp_transaction *t = smtp_cur_txn(s);
    if (t == NULL)
        return;
    data_reply_keep(t, r);
    smtp_txn_finish(s, positive(r) ? SMTP_TXN_ACCEPTED : SMTP_TXN_REJECTED, at);
}

static void on_bdat(struct smtp_session *s, const struct smtp_pending *pc, const struct smtp_reply *r)
{
    if (smtp_cur_txn(s) == NULL) {
        smtp_notice(s, SMTP_NOTICE_BAD_SEQUENCE, SMTP_DIR_CLIENT, &pc->cmd.ts, "BDAT with no transaction (reply %d)",
                    r->code);
        return;
    }
    /* RFC 3030 2: a failed chunk ends the transaction; the LAST chunk's reply is the message's. */
    if (!positive(r) || pc->bdat_last) {
        smtp_body_end(s);
        on_message_end(s, SMTP_VERB_BDAT, r);
    }
}

static void on_starttls(struct smtp_session *s, const struct smtp_pending *pc, const struct smtp_reply *r)
{
    s->starttls_sent = false;
    if (r->code != 220)
        return; /* RFC 3207 4: refused, the session stays in cleartext */
    if (s->q_len)
        smtp_notice(s, SMTP_NOTICE_STARTTLS_INJECTION, SMTP_DIR_CLIENT, &r->ts,
                    "%u client line(s) were queued behind STARTTLS in cleartext", s->q_len);
    s->info.tls = SMTP_TLS_STARTTLS;
    s->cmode = SMTP_MODE_TLS;
    s->server_tls = true;
    smtp_line_reset(&s->framer[SMTP_DIR_CLIENT]);
    if (txn_of(s, pc))
        smtp_txn_finish(s, SMTP_TXN_ABORTED, SMTP_VERB_STARTTLS); /* RFC 3207 4.2: state is discarded */
}

static void fsm_reply_apply(struct smtp_session *s, struct smtp_pending *pc, const struct smtp_reply *r);

/* RSET and a new greeting end the open transaction (RFC 5321 4.1.4) unless the server refuses. */
static bool ends_transaction(enum smtp_verb id)
{
    return id == SMTP_VERB_RSET || id == SMTP_VERB_HELO || id == SMTP_VERB_EHLO || id == SMTP_VERB_LHLO;
}

/* A client line was queued; only bookkeeping that needs no reply happens here. */
void smtp_fsm_command(struct smtp_session *s, struct smtp_pending *pc)
{
    enum smtp_verb id = pc->cmd.id;
    if (id == SMTP_VERB_GREETING)
        return;
    if (id == SMTP_VERB_END_OF_DATA) {
        smtp_txn_closing(s);
        return;
    }
    /* RFC 2920 3.1: without PIPELINING a client waits for each reply. */
    if (s->q_len > 1 && !s->pipelining && !s->pipelining_noticed && s->greeted) {
        s->pipelining_noticed = true;
        char verb[SMTP_VERB_TEXT_SIZE];
        smtp_notice(s, SMTP_NOTICE_PIPELINING_NOT_OFFERED, SMTP_DIR_CLIENT, &pc->cmd.ts,
                    "%s sent with %u command(s) unanswered, PIPELINING not advertised",
                    smtp_verb_text(&pc->cmd, verb), s->q_len - 1);
    }
    if (s->data_refused && id == SMTP_VERB_UNKNOWN) {
        char verb[SMTP_VERB_TEXT_SIZE];
        smtp_notice(s, SMTP_NOTICE_DATA_AFTER_REJECTED_DATA, SMTP_DIR_CLIENT, &pc->cmd.ts,
                    "line \"%s\" after a refused DATA looks like message content", smtp_verb_text(&pc->cmd, verb));
    }
    if (id != SMTP_VERB_UNKNOWN)
        s->data_refused = false;
    if (id == SMTP_VERB_DATA)
        s->data_unanswered++;
    if (ends_transaction(id))
        smtp_txn_closing(s);
    if (id == SMTP_VERB_MAIL)
        on_mail_sent(s, pc);
    else if (id == SMTP_VERB_RCPT)
        on_rcpt_sent(s, pc);
    else if (id == SMTP_VERB_QUIT)
        s->quit_sent = true;
    else if (id == SMTP_VERB_STARTTLS)
        s->starttls_sent = true;
    else if (id == SMTP_VERB_AUTH || id == SMTP_VERB_SASL) {
        s->auth_unanswered++;
        smtp_auth_command(s, pc);
    }
}

void smtp_fsm_reply(struct smtp_session *s, struct smtp_pending *pc, const struct smtp_reply *r)
{
    fsm_reply_apply(s, pc, r);
    if (ends_transaction(pc->cmd.id) && s->txq_len == 1 && pc->txn_serial == smtp_cur_serial(s))
        s->txq[0].closing = false; /* refused: the transaction goes on */
}

static void fsm_reply_apply(struct smtp_session *s, struct smtp_pending *pc, const struct smtp_reply *r)
{
    const struct smtp_command *c = &pc->cmd;
    switch (c->id) {
    case SMTP_VERB_HELO:
    case SMTP_VERB_EHLO:
    case SMTP_VERB_LHLO: on_hello(s, pc, r); break;
    case SMTP_VERB_MAIL: on_mail(s, pc, r); break;
    case SMTP_VERB_RCPT: on_rcpt(s, pc, r); break;
    case SMTP_VERB_DATA: on_data(s, pc, r); break;
    case SMTP_VERB_END_OF_DATA: on_message_end(s, SMTP_VERB_END_OF_DATA, r); break;
    case SMTP_VERB_BDAT: on_bdat(s, pc, r); break;
    case SMTP_VERB_RSET:
        if (positive(r) && txn_of(s, pc))
            smtp_txn_finish(s, SMTP_TXN_ABORTED, SMTP_VERB_RSET);
        break;
    case SMTP_VERB_STARTTLS: on_starttls(s, pc, r); break;
    case SMTP_VERB_AUTH:
    case SMTP_VERB_SASL: smtp_auth_challenge(s, c->id, r); break;
    default: break;
    }
}
