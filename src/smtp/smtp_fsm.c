/* smtp_fsm.c - the state machine: the only code that changes the session's state (through
 * smtp_fsm_enter) and its facts. It decides on the (command, reply) pair, never on the command
 * alone (a passive observer only knows a command took effect once the server said so), builds
 * the mail transactions (RFC 5321 3.3), and says what each reply means where it came. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "lib/pool.h"
#include "lib/xalloc.h"
#include "smtp/smtp_base64.h"
#include "smtp/smtp_internal.h"
#include "smtp/smtp_parse.h"
#include "smtp/smtp_text.h"
#include "smtpsniff/reply.h"

/* --- the door ------------------------------------------------------------------------------ */

static smtp_trace_fn *trace_fn;
static void *trace_ctx;

void smtp_core_set_trace(smtp_trace_fn *fn, void *ctx)
{
    trace_fn = fn;
    trace_ctx = ctx;
}

/* Every change of state goes through here, with the reason: greppable, and traced. */
static void smtp_fsm_enter(struct smtp_session *s, enum smtp_state to, const char *why)
{
    struct smtp_transition t = {.from = s->state, .to = to, .why = why};
    s->state = to;
    if (trace_fn)
        trace_fn(trace_ctx, s->info.id, &t);
}

/* --- transactions -------------------------------------------------------------------------- */

_Static_assert(offsetof(struct smtp_transaction, message) + sizeof(struct smtp_message_info) ==
                   sizeof(struct smtp_transaction),
               "txn_new clears what precedes the message and resets the message");

/* Ended transactions kept for reuse, each with the recipient array it grew. */
static struct pool txn_pool = POOL_INIT(struct smtp_transaction);

static bool positive(const struct smtp_reply *r)
{
    return r->code >= 200 && r->code < 400;
}

static void txn_free(struct smtp_transaction *t)
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

static struct smtp_txq *txq_tail(struct smtp_session *s)
{
    return s->txq_len ? &s->txq[s->txq_len - 1] : NULL;
}

/* The current transaction (the oldest open one) and its serial; NULL / 0 when none. */
static struct smtp_transaction *cur_txn(const struct smtp_session *s)
{
    return s->txq_len ? s->txq[0].t : NULL;
}

static unsigned cur_serial(const struct smtp_session *s)
{
    return s->txq_len ? s->txq[0].serial : 0;
}

/* The newest open transaction: new recipients and message content belong to it. */
static struct smtp_transaction *content_txn(struct smtp_session *s)
{
    return s->txq_len ? txq_tail(s)->t : NULL;
}

static struct smtp_message_info *content_msg(struct smtp_session *s)
{
    struct smtp_transaction *t = content_txn(s);
    return t ? &t->message : NULL;
}

/* A line that ends the newest open transaction was sent. */
static void txn_closing(struct smtp_session *s)
{
    if (s->txq_len)
        txq_tail(s)->closing = true;
}

/* Open a transaction behind the ones open now (false: SMTP_MAX_OPEN_TXNS are open). */
static struct smtp_transaction *txn_open(struct smtp_session *s, unsigned *serial)
{
    if (s->txq_len == SMTP_MAX_OPEN_TXNS)
        return NULL;
    struct pool_aux aux;
    struct smtp_transaction *t = pool_get(&txn_pool, &aux);
    if (t != NULL) {
        memset(t, 0, offsetof(struct smtp_transaction, message)); /* the message is last */
        smtp_message_reset(&t->message);
        t->rcpt = aux.p[0]; /* entries are set as recipients are added */
        t->rcpt_cap = (unsigned)aux.n[0];
    } else {
        t = xcalloc(1, sizeof(*t));
    }
    memcpy(t->helo, s->info.helo, sizeof(t->helo));
    *serial = ++s->serial_counter;
    s->txq[s->txq_len++] = (struct smtp_txq){.t = t, .serial = *serial};
    return t;
}

static bool all_rcpts_refused(const struct smtp_transaction *t)
{
    if (t->nrcpt == 0)
        return false;
    for (unsigned i = 0; i < t->nrcpt; i++)
        if (t->rcpt[i].code < 400)
            return false;
    return true;
}

static bool aborts(enum smtp_verb v)
{
    return v == SMTP_VERB_RSET || v == SMTP_VERB_HELO || v == SMTP_VERB_EHLO || v == SMTP_VERB_LHLO ||
           v == SMTP_VERB_STARTTLS;
}

/* What a transaction became, from its replies; the one place a status is decided. `how` is the
 * verb whose reply ended it (QUIT: the session ended after the client sent QUIT; UNKNOWN: it
 * ended otherwise). */
static enum smtp_txn_status txn_status(const struct smtp_transaction *t, enum smtp_verb how, enum smtp_verb *at)
{
    *at = how;
    if (t->mail_code >= 400) {
        *at = SMTP_VERB_MAIL;
        return SMTP_TXN_REJECTED;
    }
    if (t->have_data_reply) /* the message's own reply: DATA refused, ".", BDAT */
        return t->data_reply.code >= 200 && t->data_reply.code < 300 ? SMTP_TXN_ACCEPTED : SMTP_TXN_REJECTED;
    if (all_rcpts_refused(t) && (aborts(how) || how == SMTP_VERB_QUIT)) {
        /* the client gave up on it (RSET, QUIT, ...) with every recipient refused */
        *at = SMTP_VERB_RCPT;
        return SMTP_TXN_REJECTED;
    }
    return aborts(how) ? SMTP_TXN_ABORTED : SMTP_TXN_INCOMPLETE;
}

/* The current transaction ends with the reply to `how`. */
static void txn_finish(struct smtp_session *s, enum smtp_verb how)
{
    struct smtp_transaction *t = cur_txn(s);
    if (t == NULL)
        return;
    memmove(&s->txq[0], &s->txq[1], (s->txq_len - 1) * sizeof(s->txq[0]));
    s->txq_len--; /* the pipelined next one, if any, becomes current */
    t->depth = s->info.transactions + 1;
    t->status = txn_status(t, how, &t->rejected_at);
    t->ts = s->info.end; /* time of the bytes being handled: the deciding reply */
    s->info.transactions++;
    if (s->nt.sink->transaction)
        s->nt.sink->transaction(s->nt.sink->ctx, &s->info, t);
    txn_free(t);
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
        t->rcpt = xrealloc(t->rcpt, cap * sizeof(*t->rcpt));
        t->rcpt_cap = cap;
    }
    struct smtp_rcpt *r = &t->rcpt[t->nrcpt++];
    memset(&r->params, 0, sizeof(r->params));
    if (!smtp_parse_path(c->arg.p, c->arg.len, "TO:", r->addr, sizeof(r->addr), &r->params))
        esc_to_cstr(r->addr, sizeof(r->addr), c->arg.p, c->arg.len);
    r->code = 0;
    r->enhanced[0] = r->text[0] = '\0';
    r->context = NULL;
    return (int)t->nrcpt - 1;
}

/* The transaction a pending line was sent in, if it is still the open one. */
static struct smtp_transaction *txn_of(struct smtp_session *s, const struct smtp_pending *pc)
{
    return (pc->txn_serial && pc->txn_serial == cur_serial(s)) ? cur_txn(s) : NULL;
}

/* --- client lines -------------------------------------------------------------------------- */

/* The command's verb made printable for a notice detail. */
#define VERB_TEXT_SIZE (4 * SMTP_MAX_VERB + 1)
static const char *verb_text(const struct smtp_command *c, char buf[VERB_TEXT_SIZE])
{
    esc_to_cstr(buf, VERB_TEXT_SIZE, (const uint8_t *)c->verb, c->verb_len);
    return buf;
}

/* Bookkeeping when a pending line leaves the queue (answered, dropped or flushed). */
static void pending_left(struct smtp_session *s, const struct smtp_pending *pc)
{
    if (pc->lost && s->f.lost_pending)
        s->f.lost_pending--;
    if ((pc->cmd.id == SMTP_VERB_AUTH || pc->cmd.id == SMTP_VERB_SASL) && s->f.auth_unanswered)
        s->f.auth_unanswered--;
    if (pc->cmd.id == SMTP_VERB_DATA && s->f.data_unanswered)
        s->f.data_unanswered--;
}

static void pending_drop_oldest(struct smtp_session *s, const struct timeval *ts)
{
    struct smtp_pending old;
    smtp_queue_take(&s->q, &old);
    char verb[VERB_TEXT_SIZE];
    smtp_notice(&s->nt, SMTP_NOTICE_PENDING_OVERFLOW, SMTP_DIR_CLIENT, ts,
                "more than %d client lines without a reply; dropped %s", SMTP_MAX_PENDING,
                old.cmd.verb_len ? verb_text(&old.cmd, verb) : "(greeting)");
    pending_left(s, &old);
    smtp_pending_release(&old);
}

static void auth_set_user(struct smtp_session *s, const uint8_t *d, size_t n)
{
    const char *m = s->info.auth.mechanism;
    const uint8_t *u;
    size_t ul;
    if (strncmp(m, "SCRAM-", 6) == 0 && s->info.auth.user[0])
        return; /* the first message names the user; later ones do not */
    if (smtp_sasl_user(m, d, n, s->f.auth_login_user_next, &u, &ul) && ul)
        esc_to_cstr(s->info.auth.user, sizeof(s->info.auth.user), u, ul);
    if (strcmp(m, "LOGIN") == 0)
        s->f.auth_login_user_next = false; /* once: the line after it is the password */
}

static void sasl_decode(struct smtp_session *s, const uint8_t *p, size_t n)
{
    uint8_t buf[SMTP_MAX_ARG];
    size_t dn = smtp_base64_decode(p, n, buf, sizeof(buf));
    auth_set_user(s, buf, dn);
}

/* Keep `keep` bytes of the argument and replace the rest with a "[redacted]" tag. */
static void redact(struct smtp_session *s, struct smtp_pending *pc, size_t keep)
{
    if (s->flags & SMTP_SESS_SHOW_CREDENTIALS || pc->cmd.arg.len <= keep)
        return;
    static const char tag[] = "[redacted]";
    size_t n = keep + (keep ? 1 : 0) + sizeof(tag) - 1;
    uint8_t *dst = xmalloc(n);
    memcpy(dst, pc->cmd.arg.p, keep);
    if (keep)
        dst[keep++] = ' ';
    memcpy(dst + keep, tag, sizeof(tag) - 1);
    smtp_pending_set_arg(pc, dst, n);
    pc->cmd.arg_redacted = true;
}

/* AUTH or a SASL line was sent (RFC 4954 4): the user where the mechanism shows it; secrets
 * redacted. */
static void on_auth_sent(struct smtp_session *s, struct smtp_pending *pc)
{
    const uint8_t *a = pc->cmd.arg.p;
    size_t n = pc->cmd.arg.len;
    if (pc->cmd.id == SMTP_VERB_SASL) {
        if (n == 1 && a[0] == '*')
            return; /* RFC 4954 4: the client cancels */
        sasl_decode(s, a, n);
        redact(s, pc, 0);
        return;
    }
    struct smtp_auth_facts af;
    smtp_auth_parse(a, n, &af);
    struct smtp_auth_info *ai = &s->info.auth;
    memset(ai, 0, sizeof(*ai));
    memcpy(ai->mechanism, af.mechanism, sizeof(ai->mechanism));
    s->info.auth_seen = true;
    s->f.auth_login_user_next = false;
    if (af.ir) {
        /* LOGIN has no RFC; clients that send an initial response send the username. */
        s->f.auth_login_user_next = strcmp(ai->mechanism, "LOGIN") == 0;
        if (!(af.ir_len == 1 && af.ir[0] == '=')) /* "=" is an empty initial response */
            sasl_decode(s, af.ir, af.ir_len);
        s->f.auth_login_user_next = false;
    }
    if (af.more)
        redact(s, pc, af.mech_len);
}

/* MAIL and RCPT open their records when sent (pipelined content may follow before any reply,
 * RFC 2920); the replies decide what they became. */
static void on_mail_sent(struct smtp_session *s, struct smtp_pending *pc)
{
    pc->txn_serial = 0;
    s->f.start_unknown = false; /* a MAIL seen: from here a missing one is an anomaly again */
    struct smtp_txq *tail = txq_tail(s);
    if (tail && !tail->closing)
        return; /* MAIL inside a transaction: its 503 (RFC 5321 4.1.4) must not close the open one */
    unsigned serial;
    struct smtp_transaction *t = txn_open(s, &serial);
    if (t == NULL)
        return;
    t->have_mail_from = smtp_parse_path(pc->cmd.arg.p, pc->cmd.arg.len, "FROM:", t->mail_from,
                                        sizeof(t->mail_from), &t->mail_params);
    pc->txn_serial = serial;
}

static void on_rcpt_sent(struct smtp_session *s, struct smtp_pending *pc)
{
    pc->rcpt_idx = -1;
    struct smtp_txq *tail = txq_tail(s);
    unsigned serial;
    if ((tail == NULL || tail->closing) && s->f.start_unknown && txn_open(s, &serial))
        tail = txq_tail(s); /* its MAIL was before the capture or in a hole: unknown sender */
    if (tail == NULL || tail->closing)
        return; /* no transaction takes recipients now: the server will say 503 */
    pc->txn_serial = tail->serial;
    pc->rcpt_idx = txn_add_rcpt(tail->t, &pc->cmd);
}

/* DATA or BDAT belongs to the newest open transaction; it is in sequence when that one has a
 * recipient not (yet) refused: RFC 2920 lets it follow RCPTs whose replies have not come. */
static void on_content_cmd_sent(struct smtp_session *s, struct smtp_pending *pc)
{
    struct smtp_txq *tail = txq_tail(s);
    pc->txn_serial = 0;
    unsigned serial;
    if ((tail == NULL || tail->closing) && s->f.start_unknown && txn_open(s, &serial)) {
        tail = txq_tail(s); /* MAIL and RCPT before the capture or in a hole */
        pc->seq_ok = true;
    }
    if (tail == NULL || tail->closing)
        return;
    pc->txn_serial = tail->serial;
    for (unsigned i = 0; i < tail->t->nrcpt && !pc->seq_ok; i++)
        pc->seq_ok = tail->t->rcpt[i].code == 0 || tail->t->rcpt[i].code < 400;
}

static void start_bdat(struct smtp_session *s, struct smtp_pending *pc, const struct timeval *ts)
{
    struct smtp_bdat_facts b = smtp_bdat_parse(pc->cmd.arg.p, pc->cmd.arg.len);
    if (!b.ok) {
        char shown[64];
        esc_to_cstr(shown, sizeof(shown), pc->cmd.arg.p, pc->cmd.arg.len < 40 ? pc->cmd.arg.len : 40);
        smtp_notice(&s->nt, SMTP_NOTICE_MALFORMED_BDAT, SMTP_DIR_CLIENT, ts,
                    "BDAT \"%s\": chunk size is not a number the server can read", shown);
        pc->variant = REPLY_VARIANT_BDAT_BAD_SIZE;
        return; /* refused (501; postfix 521 and hangs up): what follows is read as commands */
    }
    s->bdat_left = b.size;
    s->bdat_last = b.last;
    if (b.last) {
        pc->variant = REPLY_VARIANT_BDAT_LAST;
        txn_closing(s); /* its reply ends the transaction (RFC 3030 2) */
    }
    struct smtp_transaction *t = content_txn(s);
    if (t && !t->have_message) { /* first chunk of this message */
        smtp_body_begin(&s->body);
        t->have_message = true;
    }
    if (t)
        t->chunked = true;
    if (b.size > 0)
        smtp_fsm_enter(s, SMTP_STATE_BDAT, "BDAT chunk follows");
    else if (t && b.last)
        t->content_ended = true; /* BDAT 0 LAST */
}

/* RSET and a new greeting end the open transaction (RFC 5321 4.1.4) unless the server refuses. */
static bool ends_transaction(enum smtp_verb id)
{
    return id == SMTP_VERB_RSET || id == SMTP_VERB_HELO || id == SMTP_VERB_EHLO || id == SMTP_VERB_LHLO;
}

/* A client line was queued; only bookkeeping that needs no reply happens here. */
static void on_command(struct smtp_session *s, struct smtp_pending *pc)
{
    enum smtp_verb id = pc->cmd.id;
    pc->txn_serial = cur_serial(s);
    if (id == SMTP_VERB_GREETING)
        return;
    if (id == SMTP_VERB_END_OF_DATA) {
        txn_closing(s);
        return;
    }
    /* RFC 2920 3.1: without PIPELINING a client waits for each reply. */
    if (s->q.len > 1 && !(s->f.ext & SMTP_EXT_PIPELINING) && !(s->f.noticed & SMTP_NOTICED_PIPELINING) &&
        s->f.greeted && !s->f.ext_unknown) {
        s->f.noticed |= SMTP_NOTICED_PIPELINING;
        char verb[VERB_TEXT_SIZE];
        smtp_notice(&s->nt, SMTP_NOTICE_PIPELINING_NOT_OFFERED, SMTP_DIR_CLIENT, &pc->cmd.ts,
                    "%s sent with %u command(s) unanswered, PIPELINING not advertised",
                    verb_text(&pc->cmd, verb), s->q.len - 1);
    }
    if (s->f.data_refused && id == SMTP_VERB_UNKNOWN) {
        char verb[VERB_TEXT_SIZE];
        smtp_notice(&s->nt, SMTP_NOTICE_DATA_AFTER_REJECTED_DATA, SMTP_DIR_CLIENT, &pc->cmd.ts,
                    "line \"%s\" after a refused DATA looks like message content", verb_text(&pc->cmd, verb));
    }
    if (id != SMTP_VERB_UNKNOWN)
        s->f.data_refused = false;
    if (id == SMTP_VERB_DATA)
        s->f.data_unanswered++;
    if (ends_transaction(id)) {
        txn_closing(s);
        pc->serial_mark = s->serial_counter;
    }
    switch (id) {
    case SMTP_VERB_MAIL: on_mail_sent(s, pc); break;
    case SMTP_VERB_RCPT: on_rcpt_sent(s, pc); break;
    case SMTP_VERB_DATA:
    case SMTP_VERB_BDAT: on_content_cmd_sent(s, pc); break;
    case SMTP_VERB_QUIT: s->f.quit_sent = true; break;
    case SMTP_VERB_STARTTLS: s->f.starttls_sent = true; break;
    case SMTP_VERB_AUTH:
    case SMTP_VERB_SASL:
        s->f.auth_unanswered++;
        on_auth_sent(s, pc);
        break;
    default: break;
    }
}

static struct smtp_pending *push(struct smtp_session *s, enum smtp_verb id, const char *verb, size_t verb_len,
                                 const uint8_t *arg, size_t arg_len, const struct timeval *ts)
{
    if (s->q.len == SMTP_MAX_PENDING)
        pending_drop_oldest(s, ts);
    struct smtp_pending *pc = smtp_queue_push(&s->q, id, verb, verb_len, arg, arg_len, ts);
    pc->resync = s->f.lost_pending > 0; /* its pairing waits on how the lost entry ahead resolves */
    on_command(s, pc);
    return pc;
}

/* Client lines were lost in the capture here: one entry marks their place in the queue, so the
 * replies to the lines before it still pair with them and the replies to the lost ones pair
 * with none (docs/design.md, "Resynchronising"). Consecutive holes share one entry. */
static void push_lost(struct smtp_session *s, const struct timeval *ts)
{
    if (s->q.len && smtp_queue_at(&s->q, s->q.len - 1)->lost)
        return;
    if (s->q.len == SMTP_MAX_PENDING)
        pending_drop_oldest(s, ts);
    struct smtp_pending *pc = smtp_queue_push(&s->q, SMTP_VERB_UNKNOWN, "", 0, NULL, 0, ts);
    pc->lost = pc->resync = true;
    pc->lost_replies = 0;
    s->f.lost_pending++;
}

static void line_notices(struct smtp_session *s, const struct smtp_line *l, bool sasl, const struct timeval *ts)
{
    struct smtp_line_facts f;
    bool want_8bit = !(s->f.ext & SMTP_EXT_SMTPUTF8) && !(s->f.noticed & SMTP_NOTICED_EIGHTBIT) && !sasl;
    smtp_line_check(l, want_8bit, &f);
    if (l->dropped)
        smtp_notice(&s->nt, SMTP_NOTICE_LINE_TRUNCATED, SMTP_DIR_CLIENT, ts, "command line of %zu bytes cut at %d",
                    l->wire_len, SMTP_MAX_LINE);
    else if (l->len + 2 > SMTP_RFC_CMD_LINE && !sasl)
        smtp_notice(&s->nt, SMTP_NOTICE_LINE_TOO_LONG, SMTP_DIR_CLIENT, ts,
                    "command line of %zu bytes (RFC 5321 4.5.3.1.4: 512)", l->len + 2);
    if (f.bare_lf)
        smtp_notice(&s->nt, SMTP_NOTICE_BARE_LF_CR_IN_COMMAND, SMTP_DIR_CLIENT, ts, "command line ended by a bare LF");
    else if (f.bare_cr)
        smtp_notice(&s->nt, SMTP_NOTICE_BARE_LF_CR_IN_COMMAND, SMTP_DIR_CLIENT, ts, "bare CR inside a command line");
    if (f.eightbit >= 0) {
        s->f.noticed |= SMTP_NOTICED_EIGHTBIT;
        smtp_notice(&s->nt, SMTP_NOTICE_EIGHTBIT_COMMAND, SMTP_DIR_CLIENT, ts,
                    "8-bit byte 0x%02x at offset %td without SMTPUTF8", l->p[f.eightbit], f.eightbit);
    }
}

static void resync_client_line(struct smtp_session *s, const struct smtp_line *l, const struct timeval *ts);

/* The line starts with a verb the core knows (RFC 5321 4.1): read as a command. */
static bool line_is_command(const struct smtp_line *l)
{
    struct smtp_cmd_facts c;
    smtp_cmd_parse(l->p, l->len, &c);
    return c.id != SMTP_VERB_UNKNOWN;
}

void smtp_fsm_client_line(struct smtp_session *s, const struct smtp_line *l, const struct timeval *ts)
{
    if (s->state == SMTP_STATE_RESYNC) {
        resync_client_line(s, l, ts);
        return;
    }
    /* RFC 4954 4: inside AUTH, client lines are SASL responses, not commands. A line sent while
     * an AUTH or SASL line is still unanswered is read as SASL too: it may be a credential sent
     * ahead of the 334, and redacting too much is the safe mistake. */
    bool sasl = s->state == SMTP_STATE_AUTH || s->f.auth_unanswered;
    if (s->f.cmd_fragment) {
        /* The first line after a hole: unless it starts with a verb, it is the tail of a line
         * lost in the hole, part of the lost entry's commands. */
        s->f.cmd_fragment = false;
        if (!sasl && !line_is_command(l))
            return;
    }
    line_notices(s, l, sasl, ts);
    if (s->f.quit_sent && !(s->f.noticed & SMTP_NOTICED_QUIT)) {
        s->f.noticed |= SMTP_NOTICED_QUIT;
        smtp_notice(&s->nt, SMTP_NOTICE_COMMAND_AFTER_QUIT, SMTP_DIR_CLIENT, ts, "client line after QUIT");
    }
    if (s->f.starttls_sent)
        smtp_notice(&s->nt, SMTP_NOTICE_STARTTLS_INJECTION, SMTP_DIR_CLIENT, ts,
                    "client line sent after STARTTLS before the server's reply");
    s->info.commands++;
    if (sasl) {
        push(s, SMTP_VERB_SASL, "SASL", 4, l->p, l->len, ts);
        return;
    }
    struct smtp_cmd_facts c;
    smtp_cmd_parse(l->p, l->len, &c);
    struct smtp_pending *pc = push(s, c.id, c.verb, c.verb_len, c.arg, c.arg_len, ts);
    if (c.id == SMTP_VERB_BDAT)
        start_bdat(s, pc, ts);
}

/* --- client content ------------------------------------------------------------------------ */

size_t smtp_fsm_content_plain(struct smtp_session *s, const uint8_t *p, size_t n)
{
    return smtp_body_plain(&s->body, content_msg(s), p, n);
}

/* Message content to a sink that asked for it (the content stage, --files). */
void smtp_fsm_content_out(struct smtp_session *s, const uint8_t *p, size_t n)
{
    struct smtp_transaction *t;
    if (s->nt.sink->content && n && (t = content_txn(s)) != NULL)
        s->nt.sink->content(s->nt.sink->ctx, &s->info, t, p, n);
}

static void content_gap_out(struct smtp_session *s, uint64_t n)
{
    struct smtp_transaction *t;
    if (s->nt.sink->content_gap && (t = content_txn(s)) != NULL)
        s->nt.sink->content_gap(s->nt.sink->ctx, &s->info, t, n);
}

static void end_of_data(struct smtp_session *s, const char *why, const struct timeval *ts)
{
    smtp_fsm_enter(s, SMTP_STATE_COMMAND, why);
    smtp_body_end(&s->body, content_msg(s));
    push(s, SMTP_VERB_END_OF_DATA, ".", 1, NULL, 0, ts);
}

void smtp_fsm_end_of_data(struct smtp_session *s, const struct timeval *ts)
{
    struct smtp_transaction *t = content_txn(s);
    if (t)
        t->content_ended = true;
    end_of_data(s, "<CRLF>.<CRLF> ends the content", ts);
}

bool smtp_fsm_content_line(struct smtp_session *s, const struct smtp_line *l, const struct timeval *ts)
{
    struct smtp_transaction *t = content_txn(s);
    struct smtp_content_line r = smtp_body_line(&s->body, t ? &t->message : NULL, l);
    if (r.end)
        return true;
    if (r.smuggling) {
        if (t && t->nsplits < SMTP_MAX_SPLITS)
            t->split[t->nsplits++] = r.split;
        smtp_notice(&s->nt, SMTP_NOTICE_SMUGGLING_END_OF_DATA, SMTP_DIR_CLIENT, ts,
                    "%s inside message content: not an RFC 5321 end of data, but some servers end there",
                    r.smuggling);
    }
    if (r.too_long)
        smtp_notice(&s->nt, SMTP_NOTICE_LINE_TOO_LONG, SMTP_DIR_CLIENT, ts,
                    "message text line of %zu bytes (RFC 5321 4.5.3.1.6: 1000)", l->wire_len);
    return false;
}

void smtp_fsm_chunk(struct smtp_session *s, const uint8_t *p, size_t n)
{
    struct smtp_transaction *t = content_txn(s);
    if (t)
        t->have_message = true;
    smtp_body_bytes(&s->body, t ? &t->message : NULL, p, n);
    smtp_fsm_content_out(s, p, n);
    s->bdat_left -= n;
    if (s->bdat_left)
        return;
    if (t && s->bdat_last)
        t->content_ended = true; /* the LAST chunk's last byte (RFC 3030 2) */
    smtp_fsm_enter(s, SMTP_STATE_COMMAND, "BDAT chunk complete");
}

void smtp_fsm_tls_bytes(struct smtp_session *s, const uint8_t *p, size_t n, const struct timeval *ts)
{
    enum smtp_tls_scan r = smtp_tls_scan(&s->tls_hello, p, n, s->info.sni, sizeof(s->info.sni));
    if (r == SMTP_TLS_MORE)
        return;
    if (r == SMTP_TLS_NOT_HANDSHAKE && s->info.tls == SMTP_TLS_IMPLICIT)
        smtp_notice(&s->nt, SMTP_NOTICE_TLS_NOT_CLIENT_HELLO, SMTP_DIR_CLIENT, ts,
                    "first client byte 0x%02x is not a TLS handshake record", (uint8_t)s->tls_hello.p[0]);
    smtp_fsm_enter(s, SMTP_STATE_IGNORE, r == SMTP_TLS_DONE ? "ClientHello read" : "not a TLS handshake");
    sb_free(&s->tls_hello);
}

void smtp_fsm_server_in_content(struct smtp_session *s, uint8_t first, const struct timeval *ts)
{
    if (!s->body.fed && smtp_line_at_start(&s->framer[SMTP_DIR_CLIENT])) {
        /* No content at all since the 354 (msmtp closes right there when a recipient was
         * refused): nothing ended the message, so no "." is made up; what the server says now
         * answers no command. */
        s->f.content_lost = true;
        smtp_notice(&s->nt, SMTP_NOTICE_SESSION_CUT, SMTP_DIR_CLIENT, ts,
                    "no message content after 354 before the server spoke again: the client closed "
                    "before content");
        smtp_body_end(&s->body, content_msg(s));
        smtp_fsm_enter(s, SMTP_STATE_COMMAND, "server spoke after 354 before any content");
        return;
    }
    /* The server ended the message where RFC 5321 sees none. After a bare-LF/CR dot, or when it
     * accepts (2xx), that is an end of data it takes that the RFC does not (SMTP smuggling); a
     * 4xx/5xx may be the server giving up on the message (552 too big, 421). Either way, follow
     * the server. */
    struct smtp_message_info *m = content_msg(s);
    bool unseen = s->body.holed || (m && m->start_missing); /* the end may be in a hole */
    if (s->body.smuggle_seen || (first == '2' && !unseen))
        smtp_notice(&s->nt, SMTP_NOTICE_SMUGGLING_END_OF_DATA, SMTP_DIR_SERVER, ts,
                    "server replied before <CRLF>.<CRLF>: it ended the message elsewhere");
    smtp_line_reset(&s->framer[SMTP_DIR_CLIENT]);
    end_of_data(s, unseen ? "server replied inside content with a hole: its end was not captured"
                          : "server replied inside the content", ts);
}

/* --- resynchronising (docs/design.md) ------------------------------------------------------ */

/* Content is being read whose start was not captured (a midstream start inside DATA content,
 * or a hole that took the DATA line): it goes into the open transaction, or one with an unknown
 * sender; no header block is read (its start is missing). */
static void content_unknown_start(struct smtp_session *s, const char *why)
{
    struct smtp_txq *tail = txq_tail(s);
    unsigned serial;
    if (tail == NULL || tail->closing)
        txn_open(s, &serial);
    smtp_fsm_enter(s, SMTP_STATE_DATA, why);
    s->f.cmd_fragment = false;
    smtp_body_begin(&s->body);
    bool seen = s->f.content_start_seen; /* after a DATA whose reply was in a hole */
    s->f.content_start_seen = false;
    s->body.in_headers = seen;
    s->body.after_hole = !seen;
    struct smtp_transaction *t = content_txn(s);
    if (t) {
        t->have_message = true;
        t->message.start_missing = !seen;
    }
}

/* A line as it was on the wire (its terminator back), for the content sink. */
static void line_wire(struct strbuf *sb, const struct smtp_line *l)
{
    sb_put(sb, l->p, l->len);
    sb_put(sb, l->crlf ? "\r\n" : "\n", l->crlf ? 2 : 1);
}

/* RESYNC (a midstream start): what the client's lines are is settled by what they are. A line
 * with a known verb is a command; a lone "." ends content whose start was not captured; two
 * lines that are not commands are content (one may be the tail of a command line cut by the
 * start of the capture: it is kept until the next line or reply tells). */
static void resync_client_line(struct smtp_session *s, const struct smtp_line *l, const struct timeval *ts)
{
    bool dot = l->len == 1 && l->p[0] == '.' && l->crlf && !l->dropped;
    if (!dot && line_is_command(l)) {
        if (s->f.resync_lines)
            smtp_notice(&s->nt, SMTP_NOTICE_MIDSTREAM_SKIPPED, SMTP_DIR_CLIENT, ts,
                        "picked up mid-session: the first %zu client bytes are the tail of a line, not read",
                        s->resync_line.len);
        s->f.resync_lines = 0;
        sb_reset(&s->resync_line);
        smtp_fsm_enter(s, SMTP_STATE_COMMAND, "a command line: the client is in command mode");
        smtp_fsm_client_line(s, l, ts);
        return;
    }
    if (!dot && s->f.resync_lines == 0) {
        s->f.resync_lines = 1;
        sb_reset(&s->resync_line);
        line_wire(&s->resync_line, l);
        return;
    }
    content_unknown_start(s, dot ? "<CRLF>.<CRLF> ends content whose start was not captured"
                                 : "lines that are not commands: the capture started inside content");
    struct smtp_transaction *t = content_txn(s);
    if (s->f.resync_lines) { /* the kept line (its start before the capture, unless after_hole is off) */
        const uint8_t *k = (const uint8_t *)s->resync_line.p;
        size_t kn = s->resync_line.len;
        bool crlf = kn >= 2 && k[kn - 2] == '\r' && k[kn - 1] == '\n';
        size_t term = crlf ? 2 : (kn >= 1 && k[kn - 1] == '\n');
        struct smtp_line first = {.p = k, .len = kn - term, .crlf = crlf, .wire_len = kn};
        smtp_body_line(&s->body, t ? &t->message : NULL, &first);
        smtp_fsm_content_out(s, (const uint8_t *)s->resync_line.p, s->resync_line.len);
    }
    s->body.after_hole = false; /* this line starts after a whole line */
    s->f.resync_lines = 0;
    sb_reset(&s->resync_line);
    line_wire(&s->resync_line, l);
    bool ended = smtp_fsm_content_line(s, l, ts);
    smtp_fsm_content_out(s, (const uint8_t *)s->resync_line.p, s->resync_line.len);
    sb_reset(&s->resync_line);
    if (ended)
        smtp_fsm_end_of_data(s, ts);
}

/* A reply in RESYNC: a kept line that got a reply was the tail of a command, not content. */
static void resync_reply(struct smtp_session *s, const struct smtp_reply *r)
{
    if (s->f.resync_lines) {
        smtp_notice(&s->nt, SMTP_NOTICE_MIDSTREAM_SKIPPED, SMTP_DIR_CLIENT, &r->ts,
                    "picked up mid-session: the first %zu client bytes are the tail of a line, not read",
                    s->resync_line.len);
        s->f.resync_lines = 0;
        sb_reset(&s->resync_line);
    }
}

/* A reply answers a command lost in the capture: what it says still moves the state (RFC 5321
 * 4.1.1.4: only DATA gets 354; RFC 4954 4: only AUTH and SASL lines get 334). */
static void lost_reply_apply(struct smtp_session *s, const struct smtp_reply *r)
{
    if ((r->code == 354 || r->code == 334) && s->q.len == 1 && smtp_queue_at(&s->q, 0)->lost) {
        struct smtp_pending lost; /* the lost line was that DATA or AUTH: pairing is exact again */
        smtp_queue_take(&s->q, &lost);
        pending_left(s, &lost);
        smtp_pending_release(&lost);
    }
    if (r->code == 354 && (s->state == SMTP_STATE_COMMAND || s->state == SMTP_STATE_RESYNC)) {
        s->f.resync_lines = 0;
        sb_reset(&s->resync_line);
        content_unknown_start(s, "354 to a DATA lost in the capture");
        s->body.in_headers = true; /* content starts here: its header block is in view */
        s->body.after_hole = false;
        struct smtp_transaction *t = content_txn(s);
        if (t)
            t->message.start_missing = false;
    } else if (r->code == 334 && (s->state == SMTP_STATE_COMMAND || s->state == SMTP_STATE_RESYNC)) {
        smtp_fsm_enter(s, SMTP_STATE_AUTH, "334 to an AUTH lost in the capture");
    }
}

void smtp_fsm_client_gap(struct smtp_session *s, size_t n, size_t partial, const struct timeval *ts)
{
    struct smtp_message_info *m = content_msg(s);
    switch (s->state) {
    case SMTP_STATE_DATA:
        /* The hole is message content (its end, if it was in the hole, shows as the server's
         * reply: smtp_fsm_server_in_content). The bytes of the cut line before it count. */
        if (m)
            m->size += partial;
        smtp_body_hole(&s->body, m, n);
        content_gap_out(s, n);
        return;
    case SMTP_STATE_BDAT: {
        if (n == 0) { /* the chunk's end cannot be counted any more */
            smtp_body_hole(&s->body, m, 0);
            content_gap_out(s, 0);
            smtp_fsm_enter(s, SMTP_STATE_RESYNC, "a hole of unknown size inside a BDAT chunk");
            push_lost(s, ts);
            return;
        }
        /* RFC 3030 2: the chunk is exactly its size; the hole's bytes count against it. */
        uint64_t take = n < s->bdat_left ? n : s->bdat_left;
        smtp_body_hole(&s->body, m, take);
        content_gap_out(s, take);
        s->bdat_left -= take;
        if (s->bdat_left)
            return;
        struct smtp_transaction *t = content_txn(s);
        if (t && s->bdat_last)
            t->content_ended = true;
        smtp_fsm_enter(s, SMTP_STATE_COMMAND, "BDAT chunk complete (its last bytes in a hole)");
        n -= (size_t)take;
        if (n == 0)
            return;
        break; /* the rest of the hole is in command mode */
    }
    case SMTP_STATE_COMMAND:
    case SMTP_STATE_AUTH:
    case SMTP_STATE_RESYNC: break;
    case SMTP_STATE_TLS:
        smtp_fsm_enter(s, SMTP_STATE_IGNORE, "a hole in the TLS handshake");
        sb_free(&s->tls_hello);
        return;
    case SMTP_STATE_IGNORE:
    case SMTP_STATE_COUNT: return;
    }
    /* Command mode: the lines in the hole (and the one it cut) are lost; the next line may be
     * the tail of one; a MAIL may be among them. */
    s->f.resync_lines = 0;
    sb_reset(&s->resync_line);
    push_lost(s, ts);
    s->f.cmd_fragment = true;
    s->f.start_unknown = true;
}

/* --- replies ------------------------------------------------------------------------------- */

static void data_reply_keep(struct smtp_transaction *t, const struct smtp_reply *r, const char *context)
{
    t->have_data_reply = true;
    t->data_reply.code = r->code;
    memcpy(t->data_reply.enhanced, r->enhanced, sizeof(r->enhanced));
    if (r->nlines)
        esc_to_cstr(t->data_reply.text, sizeof(t->data_reply.text), r->line[0].p, r->line[0].len);
    t->data_reply.context = context;
}

/* EHLO keywords (RFC 5321 4.1.1.1): the lines after the first. */
static void ehlo_extensions(struct smtp_session *s, const struct smtp_reply *r)
{
    s->info.nextensions = 0;
    s->f.ext = 0;
    size_t used = 0;
    for (unsigned i = 1; i < r->nlines && s->info.nextensions < SMTP_MAX_EXTENSIONS; i++) {
        size_t room = sizeof(s->info.extensions) - used;
        if (room < 2)
            break;
        used += esc_to_cstr(s->info.extensions + used, room, r->line[i].p, r->line[i].len) + 1;
        s->info.nextensions++;
        s->f.ext |= smtp_ehlo_keyword(r->line[i].p, r->line[i].len);
    }
}

static void on_hello(struct smtp_session *s, const struct smtp_pending *pc, const struct smtp_reply *r)
{
    const struct smtp_command *c = &pc->cmd;
    if (!positive(r))
        return;
    /* RFC 5321 4.1.4: a HELO/EHLO after one was accepted resets the transaction it interrupts. */
    if (txn_of(s, pc))
        txn_finish(s, c->id);
    size_t n = c->arg.len;
    const uint8_t *sp = memchr(c->arg.p, ' ', n);
    if (sp)
        n = (size_t)(sp - c->arg.p);
    esc_to_cstr(s->info.helo, sizeof(s->info.helo), c->arg.p, n);
    /* MAIL pipelined behind it (RFC 2920) opened its transaction before this reply named the
     * client: those transactions are in the session it opened. */
    for (unsigned i = 0; i < s->txq_len; i++)
        if (s->txq[i].serial > pc->serial_mark)
            memcpy(s->txq[i].t->helo, s->info.helo, sizeof(s->info.helo));
    if (c->id == SMTP_VERB_HELO) {
        s->info.nextensions = 0;
        s->f.ext = 0;
    } else {
        ehlo_extensions(s, r);
    }
}

static void on_mail(struct smtp_session *s, struct smtp_pending *pc, const struct smtp_reply *r)
{
    struct smtp_transaction *t = txn_of(s, pc);
    if (t == NULL && positive(r) && cur_txn(s) == NULL) {
        on_mail_sent(s, pc); /* accepted although sent while another was open */
        t = cur_txn(s);
    }
    if (t == NULL)
        return;
    t->mail_code = r->code;
    if (!positive(r))
        txn_finish(s, SMTP_VERB_MAIL);
}

static void on_rcpt(struct smtp_session *s, struct smtp_pending *pc, const struct smtp_reply *r,
                    const char *context)
{
    struct smtp_transaction *t = txn_of(s, pc);
    if (t == NULL) {
        smtp_notice(&s->nt, SMTP_NOTICE_BAD_SEQUENCE, SMTP_DIR_CLIENT, &pc->cmd.ts,
                    "RCPT before an accepted MAIL (reply %d)", r->code);
        return;
    }
    if (pc->rcpt_idx >= 0) {
        struct smtp_rcpt *rc = &t->rcpt[pc->rcpt_idx];
        rc->code = r->code;
        memcpy(rc->enhanced, r->enhanced, sizeof(rc->enhanced));
        if (r->nlines)
            esc_to_cstr(rc->text, sizeof(rc->text), r->line[0].p, r->line[0].len);
        rc->context = context;
    }
}

/* 354 with no transaction open (a lenient server, or a MAIL lost in a gap): the message still
 * goes somewhere, into a transaction with an unknown sender. */
static void data_without_mail(struct smtp_session *s, const struct smtp_pending *pc)
{
    struct smtp_txq *tail = txq_tail(s);
    unsigned serial;
    if ((tail && !tail->closing) || txn_open(s, &serial) == NULL)
        return;
    smtp_notice(&s->nt, SMTP_NOTICE_BAD_SEQUENCE, SMTP_DIR_CLIENT, &pc->cmd.ts,
                "DATA accepted with no MAIL seen: the message has an unknown sender");
}

static void on_data(struct smtp_session *s, const struct smtp_pending *pc, const struct smtp_reply *r,
                    const char *context)
{
    const struct smtp_command *c = &pc->cmd;
    if (r->code == 354) {
        /* RFC 5321 4.1.1.4: content starts only once the server said 354. */
        data_without_mail(s, pc);
        smtp_fsm_enter(s, SMTP_STATE_DATA, "354 to DATA");
        smtp_body_begin(&s->body);
        struct smtp_transaction *t = content_txn(s);
        if (t)
            t->have_message = true;
        return;
    }
    s->f.data_refused = true;
    struct smtp_transaction *t = txn_of(s, pc);
    if (!pc->seq_ok) /* RFC 2920: behind RCPTs not yet answered, a refusal is its ordinary outcome */
        smtp_notice(&s->nt, SMTP_NOTICE_BAD_SEQUENCE, SMTP_DIR_CLIENT, &c->ts,
                    t ? "DATA with no accepted recipient (reply %d)" : "DATA with no transaction (reply %d)",
                    r->code);
    if (t == NULL)
        return;
    data_reply_keep(t, r, context);
    txn_finish(s, SMTP_VERB_DATA);
}

static void on_message_end(struct smtp_session *s, enum smtp_verb how, const struct smtp_reply *r,
                           const char *context)
{
    struct smtp_transaction *t = cur_txn(s);
    if (t == NULL)
        return;
    data_reply_keep(t, r, context);
    txn_finish(s, how);
}

static void on_bdat(struct smtp_session *s, const struct smtp_pending *pc, const struct smtp_reply *r,
                    const char *context)
{
    struct smtp_transaction *t = txn_of(s, pc);
    if (t == NULL) {
        if (!pc->seq_ok && pc->variant != REPLY_VARIANT_BDAT_BAD_SIZE) /* that one was refused for its size */
            smtp_notice(&s->nt, SMTP_NOTICE_BAD_SEQUENCE, SMTP_DIR_CLIENT, &pc->cmd.ts,
                        "BDAT with no transaction (reply %d)", r->code);
        return;
    }
    /* RFC 3030 2: a failed chunk ends the transaction; the LAST chunk's reply is the message's. */
    if (!positive(r) || pc->variant == REPLY_VARIANT_BDAT_LAST) {
        smtp_body_end(&s->body, content_msg(s));
        on_message_end(s, SMTP_VERB_BDAT, r, context);
    }
}

static void on_starttls(struct smtp_session *s, const struct smtp_pending *pc, const struct smtp_reply *r)
{
    s->f.starttls_sent = false;
    if (r->code != 220)
        return; /* RFC 3207 4: refused, the session stays in cleartext */
    if (s->q.len)
        smtp_notice(&s->nt, SMTP_NOTICE_STARTTLS_INJECTION, SMTP_DIR_CLIENT, &r->ts,
                    "%u client line(s) were queued behind STARTTLS in cleartext", s->q.len);
    s->info.tls = SMTP_TLS_STARTTLS;
    smtp_fsm_enter(s, SMTP_STATE_TLS, "220 to STARTTLS");
    s->f.server_tls = true;
    smtp_line_reset(&s->framer[SMTP_DIR_CLIENT]);
    if (txn_of(s, pc))
        txn_finish(s, SMTP_VERB_STARTTLS); /* RFC 3207 4.2: state is discarded */
}

/* The server's answer to AUTH or to a SASL line. */
static void on_auth(struct smtp_session *s, enum smtp_verb verb, const struct smtp_reply *r)
{
    if (r->code == 334) {
        /* RFC 4954 4: 334 carries a base64 challenge; client lines are SASL until it ends. */
        if (s->state == SMTP_STATE_COMMAND)
            smtp_fsm_enter(s, SMTP_STATE_AUTH, "334 challenge");
        s->f.auth_login_user_next = smtp_auth_asks_user(r);
        return;
    }
    bool was_in_exchange = s->state == SMTP_STATE_AUTH || verb == SMTP_VERB_AUTH;
    if (s->state == SMTP_STATE_AUTH)
        smtp_fsm_enter(s, SMTP_STATE_COMMAND, "AUTH exchange ended");
    s->f.auth_login_user_next = false;
    if (!was_in_exchange)
        return; /* a line read as SASL only to keep it redacted: not part of the exchange */
    s->info.auth.result = r->code;
    if (r->code >= 400)
        smtp_notice(&s->nt, SMTP_NOTICE_AUTH_FAILURE, SMTP_DIR_SERVER, &r->ts, "AUTH %s%s%s refused with %d",
                    s->info.auth.mechanism, s->info.auth.user[0] ? " for user " : "", s->info.auth.user,
                    r->code);
}

static void reply_apply(struct smtp_session *s, struct smtp_pending *pc, const struct smtp_reply *r,
                        const char *context)
{
    const struct smtp_command *c = &pc->cmd;
    switch (c->id) {
    case SMTP_VERB_HELO:
    case SMTP_VERB_EHLO:
    case SMTP_VERB_LHLO: on_hello(s, pc, r); break;
    case SMTP_VERB_MAIL: on_mail(s, pc, r); break;
    case SMTP_VERB_RCPT: on_rcpt(s, pc, r, context); break;
    case SMTP_VERB_DATA: on_data(s, pc, r, context); break;
    case SMTP_VERB_END_OF_DATA: on_message_end(s, SMTP_VERB_END_OF_DATA, r, context); break;
    case SMTP_VERB_BDAT: on_bdat(s, pc, r, context); break;
    case SMTP_VERB_RSET:
        if (positive(r) && txn_of(s, pc))
            txn_finish(s, SMTP_VERB_RSET);
        break;
    case SMTP_VERB_QUIT: s->f.quit_answered = true; break;
    case SMTP_VERB_STARTTLS: on_starttls(s, pc, r); break;
    case SMTP_VERB_AUTH:
    case SMTP_VERB_SASL: on_auth(s, c->id, r); break;
    default: break;
    }
    if (ends_transaction(c->id) && s->txq_len == 1 && pc->txn_serial == cur_serial(s))
        s->txq[0].closing = false; /* refused: the transaction goes on */
}

static void emit(struct smtp_session *s, const struct smtp_exchange *x)
{
    if (s->nt.sink->exchange)
        s->nt.sink->exchange(s->nt.sink->ctx, &s->info, x);
}

/* A reply with no command waiting: why (RFC 5321 3.8 lets a server send 421 at any time). */
static enum smtp_answer answers_none(struct smtp_session *s, const struct smtp_reply *r)
{
    if (s->f.content_lost) {
        s->f.content_lost = false;
        return SMTP_ANSWER_CONNECTION_LOST;
    }
    /* No client byte in the capture yet: if none ever comes, the capture is one-sided (only
     * the server's packets seen) and the reply answers a command it does not hold; the notice
     * waits for the first client byte (smtp_fsm_client_spoke). */
    if (s->f.greeted && s->info.bytes[SMTP_DIR_CLIENT] == 0 && !s->gap[SMTP_DIR_CLIENT] && r->code != 421) {
        if (s->f.silent_unsolicited < SMTP_MAX_SILENT_UNSOLICITED)
            s->silent_unsolicited[s->f.silent_unsolicited++] = (struct smtp_deferred){.code = r->code, .ts = r->ts};
        return SMTP_ANSWER_UNSOLICITED;
    }
    /* Not an anomaly: after a client gap the command is lost, and RFC 5321 3.8 lets a server
     * send 421 at any time before it closes. */
    if (s->f.greeted && !s->gap[SMTP_DIR_CLIENT] && r->code != 421)
        smtp_notice(&s->nt, SMTP_NOTICE_UNSOLICITED_REPLY, SMTP_DIR_SERVER, &r->ts,
                    "reply %d with no command waiting for it", r->code);
    if (s->gap[SMTP_DIR_CLIENT])
        return SMTP_ANSWER_CAPTURE_GAP;
    return s->f.quit_answered ? SMTP_ANSWER_AFTER_QUIT : SMTP_ANSWER_UNSOLICITED;
}

static void reply_pair(struct smtp_session *s, struct smtp_reply *r);

/* A reply that answers a line lost in the capture. */
static void reply_lost(struct smtp_session *s, struct smtp_reply *r, enum smtp_answer answers)
{
    struct smtp_exchange x = {.reply = r, .answers = answers, .resync = answers == SMTP_ANSWER_CAPTURE_GAP};
    s->f.greeted = true;
    x.context = reply_context(x.answers, SMTP_VERB_UNKNOWN, REPLY_VARIANT_NONE, r->code, &x.context_id);
    emit(s, &x);
    if (answers == SMTP_ANSWER_CAPTURE_GAP) {
        smtp_queue_at(&s->q, 0)->lost_replies++;
        lost_reply_apply(s, r);
    }
}

static void drop_lost_head(struct smtp_session *s)
{
    struct smtp_pending lost;
    smtp_queue_take(&s->q, &lost);
    pending_left(s, &lost);
    smtp_pending_release(&lost);
}

/* The lost entry heads the queue with lines read behind it and no reply of its own yet: the
 * client sent lines after the hole before the replies to the lost ones came (it pipelined
 * across the hole). How many of the replies answer lost lines is a count, known once the
 * flight's replies are in: those past the lines read behind it (RFC 2920: replies come in
 * order, and a client sends its next group only after the last reply of one). Until then the
 * replies are kept. */
static bool reply_counts_pending(struct smtp_session *s)
{
    return s->ndeferred ||
           (s->q.len > 1 && smtp_queue_at(&s->q, 0)->lost && smtp_queue_at(&s->q, 0)->lost_replies == 0);
}

static void defer_reply(struct smtp_session *s, const struct smtp_reply *r)
{
    if (s->deferred == NULL)
        s->deferred = xcalloc(SMTP_MAX_DEFERRED_REPLIES, sizeof(*s->deferred));
    struct smtp_deferred_reply *d = &s->deferred[s->ndeferred++];
    d->r = *r;
    sb_init(&d->text, SMTP_MAX_REPLY_TEXT + 1);
    for (unsigned i = 0; i < r->nlines; i++) {
        d->r.line[i].p = (const uint8_t *)(uintptr_t)d->text.len; /* an offset until the text stops growing */
        sb_put(&d->text, r->line[i].p, r->line[i].len);
    }
    for (unsigned i = 0; i < r->nlines; i++)
        d->r.line[i].p = (const uint8_t *)d->text.p + (uintptr_t)d->r.line[i].p;
}

void smtp_fsm_server_gap(struct smtp_session *s)
{
    if (s->q.len && !smtp_queue_at(&s->q, 0)->lost && !s->ndeferred)
        s->f.server_hole = true;
}

/* The client's next bytes after a server hole: it sent them once it had the replies it waited
 * for, so every line queued now is answered, in the hole or by the j replies kept since: those
 * answer the newest j, and the oldest (m - j) had theirs in the hole (reply null, resync). A
 * DATA among them leaves the client's mode unknown (354 or a refusal): resynchronised by its
 * lines, content from its start if they are content. At the end of the session nothing says
 * how many were answered: the replies pair in order. */
static void resolve_server_hole(struct smtp_session *s, bool force)
{
    s->f.server_hole = false;
    unsigned j = s->ndeferred, m = s->q.len;
    unsigned k = !force && j < m ? m - j : 0;
    bool data = false;
    for (unsigned i = 0; i < k; i++) {
        struct smtp_pending pc;
        smtp_queue_take(&s->q, &pc);
        pending_left(s, &pc);
        if (pc.cmd.id != SMTP_VERB_GREETING && !pc.lost)
            emit(s, &(struct smtp_exchange){.cmd = &pc.cmd, .answers = SMTP_ANSWER_COMMAND, .resync = true});
        data = pc.cmd.id == SMTP_VERB_DATA;
        smtp_pending_release(&pc);
    }
    if (data && s->state == SMTP_STATE_COMMAND) {
        s->f.content_start_seen = true;
        s->f.resync_lines = 0;
        smtp_fsm_enter(s, SMTP_STATE_RESYNC, "the reply to DATA was in a hole: the client's mode is not known");
    }
}

void smtp_fsm_resolve_deferred(struct smtp_session *s, bool force)
{
    if (s->f.server_hole)
        resolve_server_hole(s, force);
    if (s->ndeferred == 0)
        return;
    bool lost_head = s->q.len && smtp_queue_at(&s->q, 0)->lost;
    unsigned b = s->ndeferred, m = s->q.len ? s->q.len - lost_head : 0;
    if (lost_head && b < m && !force)
        return; /* the flight's replies are not all in yet */
    unsigned k = lost_head && b > m ? b - m : 0;
    s->ndeferred = 0; /* pairing below may start keeping replies again: not these */
    struct smtp_deferred_reply *d = s->deferred;
    s->deferred = NULL;
    for (unsigned i = 0; i < b; i++) {
        if (i < k && s->q.len && smtp_queue_at(&s->q, 0)->lost)
            reply_lost(s, &d[i].r, SMTP_ANSWER_CAPTURE_GAP);
        else
            reply_pair(s, &d[i].r);
        if (i + 1 == k && s->q.len > 1 && smtp_queue_at(&s->q, 0)->lost)
            drop_lost_head(s); /* the rest answer the lines read after the hole */
        sb_free(&d[i].text);
    }
    free(d);
}

void smtp_fsm_reply(struct smtp_session *s, const struct timeval *ts)
{
    (void)ts;
    struct smtp_reply *r = &s->reply;
    unsigned cls = (unsigned)r->code / 100;
    if (cls < 6)
        s->info.replies_by_class[cls]++;
    if (s->state == SMTP_STATE_RESYNC)
        resync_reply(s, r);
    if (s->f.server_hole || reply_counts_pending(s)) {
        if (s->ndeferred < SMTP_MAX_DEFERRED_REPLIES) {
            defer_reply(s, r);
            return;
        }
        smtp_fsm_resolve_deferred(s, true); /* too many to keep: count with what is in */
    }
    reply_pair(s, r);
}

static void reply_pair(struct smtp_session *s, struct smtp_reply *r)
{
    struct smtp_exchange x = {.reply = r};
    /* A lost entry with lines read behind it: the server had those lines before it sent this
     * reply (the reassembly hands a reply over only after the client bytes it acknowledges), and
     * a client waits for each reply unless it pipelines, so the lost lines' replies came
     * before: the entry leaves and pairing is exact again from the first line after the hole. */
    if (s->q.len > 1 && smtp_queue_at(&s->q, 0)->lost)
        drop_lost_head(s);
    if (s->q.len == 0 || smtp_queue_at(&s->q, 0)->lost) {
        reply_lost(s, r, s->q.len ? SMTP_ANSWER_CAPTURE_GAP : answers_none(s, r));
        return;
    }
    s->f.greeted = true;
    /* Take it before acting: the state machine may push (END_OF_DATA) or flush the queue. */
    struct smtp_pending cur;
    smtp_queue_take(&s->q, &cur);
    pending_left(s, &cur);
    x.resync = cur.resync;
    if (r->code == 334 && (cur.cmd.id == SMTP_VERB_AUTH || cur.cmd.id == SMTP_VERB_SASL))
        smtp_auth_challenge_text(r);
    x.answers = cur.cmd.id == SMTP_VERB_GREETING ? SMTP_ANSWER_GREETING : SMTP_ANSWER_COMMAND;
    x.cmd = cur.cmd.id == SMTP_VERB_GREETING ? NULL : &cur.cmd;
    x.context = reply_context(x.answers, cur.cmd.id, (enum reply_variant)cur.variant, r->code, &x.context_id);
    emit(s, &x);
    reply_apply(s, &cur, r, x.context);
    smtp_pending_release(&cur);
}

/* --- start and end ------------------------------------------------------------------------- */

void smtp_fsm_open(struct smtp_session *s, const struct timeval *ts)
{
    if (s->flags & SMTP_SESS_MIDSTREAM) {
        /* Picked up without the handshake: the greeting, the EHLO reply and maybe a MAIL were
         * before the capture, and the first bytes may be inside a line or inside content. */
        s->f.start_unknown = s->f.ext_unknown = true;
        if (s->flags & SMTP_SESS_IMPLICIT_TLS) {
            s->info.tls = SMTP_TLS_IMPLICIT;
            s->f.server_tls = true;
            smtp_fsm_enter(s, SMTP_STATE_IGNORE, "implicit TLS port picked up mid-session");
            return;
        }
        smtp_fsm_enter(s, SMTP_STATE_RESYNC, "picked up mid-session");
        push_lost(s, ts);
        return;
    }
    if (s->flags & SMTP_SESS_IMPLICIT_TLS) {
        /* RFC 8314 3.3: port 465 is TLS from the first byte. */
        s->info.tls = SMTP_TLS_IMPLICIT;
        smtp_fsm_enter(s, SMTP_STATE_TLS, "implicit TLS port");
        s->f.server_tls = true;
    } else {
        /* The server speaks first (RFC 5321 3.1): its greeting answers this pseudo-command. */
        push(s, SMTP_VERB_GREETING, "", 0, NULL, 0, ts);
    }
}

/* No server byte in the capture (only the client's packets seen): the HELO/EHLO name as the
 * client gave it is all there is, for the session and the transactions opened after it. */
static void one_sided_hello(struct smtp_session *s, const struct smtp_pending *pc)
{
    const struct smtp_command *c = &pc->cmd;
    if (s->info.bytes[SMTP_DIR_SERVER] != 0 ||
        (c->id != SMTP_VERB_HELO && c->id != SMTP_VERB_EHLO && c->id != SMTP_VERB_LHLO))
        return;
    const uint8_t *sp = memchr(c->arg.p, ' ', c->arg.len);
    esc_to_cstr(s->info.helo, sizeof(s->info.helo), c->arg.p, sp ? (size_t)(sp - c->arg.p) : c->arg.len);
    for (unsigned i = 0; i < s->txq_len; i++)
        if (s->txq[i].serial > pc->serial_mark)
            memcpy(s->txq[i].t->helo, s->info.helo, sizeof(s->info.helo));
}

void smtp_fsm_client_spoke(struct smtp_session *s)
{
    for (unsigned i = 0; i < s->f.silent_unsolicited; i++)
        smtp_notice(&s->nt, SMTP_NOTICE_UNSOLICITED_REPLY, SMTP_DIR_SERVER, &s->silent_unsolicited[i].ts,
                    "reply %d with no command waiting for it", s->silent_unsolicited[i].code);
    s->f.silent_unsolicited = 0;
}

void smtp_fsm_one_sided_content(struct smtp_session *s)
{
    s->f.data_unanswered = 0;
    smtp_fsm_enter(s, SMTP_STATE_DATA, "no server byte in the capture: bytes after DATA read as content");
    smtp_body_begin(&s->body);
    struct smtp_transaction *t = content_txn(s);
    if (t)
        t->have_message = true;
}

void smtp_fsm_end(struct smtp_session *s, const struct timeval *ts)
{
    (void)ts;
    smtp_fsm_resolve_deferred(s, true);
    /* Commands that never got a reply are still reported, in order, with reply null. */
    while (s->q.len) {
        struct smtp_pending pc;
        smtp_queue_take(&s->q, &pc);
        one_sided_hello(s, &pc);
        if (pc.cmd.id != SMTP_VERB_GREETING && !pc.lost)
            emit(s, &(struct smtp_exchange){.cmd = &pc.cmd, .answers = SMTP_ANSWER_COMMAND,
                                            .resync = pc.resync});
        smtp_pending_release(&pc);
    }
    while (cur_txn(s)) /* the open one, then a pipelined next one */
        txn_finish(s, s->f.quit_sent ? SMTP_VERB_QUIT : SMTP_VERB_UNKNOWN);
}

void smtp_fsm_free(struct smtp_session *s)
{
    for (unsigned i = 0; s->deferred && i < s->ndeferred; i++)
        sb_free(&s->deferred[i].text);
    free(s->deferred);
    s->deferred = NULL;
    s->ndeferred = 0;
    for (unsigned i = 0; i < s->txq_len; i++)
        txn_free(s->txq[i].t);
    s->txq_len = 0;
}

