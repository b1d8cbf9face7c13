/* smtp_session.c - one SMTP session: direction dispatch, reply assembly, the pipelining queue,
 * notices, and the end of the session. State changes live in smtp_fsm.c. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/pool.h"
#include "smtp/smtp_internal.h"

/* Notices of one type beyond this many per session are counted, not emitted. */
#define SMTP_NOTICE_TYPE_CAP 16

/* Ended sessions kept for reuse, each with the buffers it grew: the pending ring, the reply
 * text and the header value (both bounded, so the pool is too). Without them every session
 * grew two buffers from nothing (malloc, realloc, free: ~2% of a run). */
enum { AUX_PENDING, AUX_REPLY_TEXT, AUX_HEADER_VALUE };
static struct pool session_pool = POOL_INIT(struct smtp_session);

static struct smtp_session *session_alloc(void)
{
    struct pool_aux aux = {0}; /* a new session starts with no buffers */
    struct smtp_session *s = pool_get(&session_pool, &aux);
    if (s == NULL) {
        s = calloc(1, sizeof(*s));
        if (s == NULL)
            abort();
    } else {
        memset(s, 0, sizeof(*s));
    }
    s->q = aux.p[AUX_PENDING]; /* entries are cleared as they are pushed */
    s->q_cap = (unsigned)aux.n[AUX_PENDING];
    sb_init_buffer(&s->reply_text, aux.p[AUX_REPLY_TEXT], aux.n[AUX_REPLY_TEXT], SMTP_MAX_REPLY_TEXT);
    sb_init_buffer(&s->body.cur, aux.p[AUX_HEADER_VALUE], aux.n[AUX_HEADER_VALUE], SMTP_MAX_HEADER_VALUE);
    return s;
}

static void aux_free(struct pool_aux *aux)
{
    for (unsigned i = 0; i < POOL_AUX; i++)
        free(aux->p[i]);
}

void smtp_core_cleanup(void)
{
    struct pool_aux aux;
    struct smtp_session *s;
    while ((s = pool_get(&session_pool, &aux)) != NULL) {
        aux_free(&aux);
        free(s);
    }
    smtp_txn_pool_drain();
}

struct smtp_session *smtp_session_new(uint64_t id, const struct smtp_endpoint *client,
                                      const struct smtp_endpoint *server, const struct timeval *ts,
                                      const struct smtp_sink *sink, unsigned flags)
{
    struct smtp_session *s = session_alloc();
    s->info.id = id;
    s->info.client = *client;
    s->info.server = *server;
    s->info.start = *ts;
    s->info.end = *ts;
    s->sink = sink;
    s->flags = flags;
    sb_init(&s->tls_hello, SMTP_MAX_CLIENT_HELLO);
    sb_init(&s->held, SMTP_MAX_HELD);
    if (flags & SMTP_SESS_IMPLICIT_TLS) {
        /* RFC 8314 3.3: port 465 is TLS from the first byte. */
        s->info.tls = SMTP_TLS_IMPLICIT;
        s->cmode = SMTP_MODE_TLS;
        s->server_tls = true;
    } else {
        /* The server speaks first (RFC 5321 3.1): its greeting answers this pseudo-command. */
        smtp_pending_push(s, SMTP_VERB_GREETING, "", 0, NULL, 0, ts);
    }
    if (sink->session_start)
        sink->session_start(sink->ctx, &s->info);
    return s;
}

const struct smtp_session_info *smtp_session_info(const struct smtp_session *s)
{
    return &s->info;
}

void smtp_notice(struct smtp_session *s, enum smtp_notice_id id, enum smtp_dir dir,
                 const struct timeval *ts, const char *fmt, ...)
{
    if (s->notice_count[id]++ >= SMTP_NOTICE_TYPE_CAP || s->info.notices >= SMTP_MAX_NOTICES_PER_SESSION) {
        s->info.notices_dropped++;
        return;
    }
    struct smtp_notice n = {.id = id, .dir = dir, .ts = *ts};
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(n.detail, sizeof(n.detail), fmt, ap);
    va_end(ap);
    s->info.notices++;
    if (s->sink->notice)
        s->sink->notice(s->sink->ctx, &s->info, &n);
}

void smtp_session_notice(struct smtp_session *s, enum smtp_notice_id id, enum smtp_dir dir,
                         const struct timeval *ts, const char *detail)
{
    smtp_notice(s, id, dir, ts, "%s", detail);
}

/* --- the pending queue ------------------------------------------------------------------- */

static struct smtp_pending *pending_at(struct smtp_session *s, unsigned i)
{
    return &s->q[(s->q_head + i) & (s->q_cap - 1)]; /* q_cap is a power of two */
}

_Static_assert((SMTP_MAX_PENDING & (SMTP_MAX_PENDING - 1)) == 0, "the pending ring doubles up to SMTP_MAX_PENDING");

/* The oldest entry leaves the ring (its contents are the caller's to release). */
static void pending_pop(struct smtp_session *s)
{
    s->q_head = (s->q_head + 1) & (s->q_cap - 1);
    s->q_len--;
}

/* Bookkeeping when a pending line leaves the queue (answered, dropped or flushed). */
static void pending_left(struct smtp_session *s, const struct smtp_pending *pc)
{
    if ((pc->cmd.id == SMTP_VERB_AUTH || pc->cmd.id == SMTP_VERB_SASL) && s->auth_unanswered)
        s->auth_unanswered--;
    if (pc->cmd.id == SMTP_VERB_DATA && s->data_unanswered && --s->data_unanswered == 0)
        s->hold_overflowed = false;
}

static void pending_release(struct smtp_pending *pc)
{
    free(pc->heap_arg);
    memset(pc, 0, sizeof(*pc));
}

static void pending_drop_oldest(struct smtp_session *s, const struct timeval *ts)
{
    struct smtp_pending *old = pending_at(s, 0);
    char verb[SMTP_VERB_TEXT_SIZE];
    smtp_notice(s, SMTP_NOTICE_PENDING_OVERFLOW, SMTP_DIR_CLIENT, ts,
                "more than %d client lines without a reply; dropped %s", SMTP_MAX_PENDING,
                old->cmd.verb_len ? smtp_verb_text(&old->cmd, verb) : "(greeting)");
    pending_left(s, old);
    pending_release(old);
    pending_pop(s);
}

static void pending_grow(struct smtp_session *s)
{
    unsigned cap = s->q_cap ? s->q_cap * 2 : 4;
    if (cap > SMTP_MAX_PENDING)
        cap = SMTP_MAX_PENDING;
    struct smtp_pending *nq = calloc(cap, sizeof(*nq));
    if (nq == NULL)
        abort();
    for (unsigned i = 0; i < s->q_len; i++)
        nq[i] = *pending_at(s, i);
    for (unsigned i = 0; i < s->q_len; i++)
        if (nq[i].heap_arg == NULL)
            nq[i].cmd.arg.p = nq[i].inline_arg; /* inline copies moved with the entry */
    free(s->q);
    s->q = nq;
    s->q_cap = cap;
    s->q_head = 0;
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

void smtp_pending_push(struct smtp_session *s, enum smtp_verb id, const char *verb, size_t verb_len,
                       const uint8_t *arg, size_t arg_len, const struct timeval *ts)
{
    if (s->q_len == SMTP_MAX_PENDING)
        pending_drop_oldest(s, ts);
    if (s->q_len == s->q_cap)
        pending_grow(s);
    struct smtp_pending *pc = pending_at(s, s->q_len);
    /* Every member is set below (no memset: this runs for every client line). */
    pc->cmd.id = id;
    pc->cmd.arg_redacted = false;
    pc->heap_arg = NULL;
    pc->bdat_last = false;
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
        dst = pc->heap_arg = malloc(arg_len);
        if (dst == NULL)
            abort();
        memcpy(dst, arg, arg_len);
    } else {
        copy_short(dst, arg, arg_len);
    }
    pc->cmd.arg.p = dst;
    pc->cmd.arg.len = arg_len;
    pc->txn_serial = smtp_cur_serial(s);
    pc->rcpt_idx = -1;
    s->q_len++;
    smtp_fsm_command(s, pc);
}

const char *smtp_verb_text(const struct smtp_command *c, char buf[SMTP_VERB_TEXT_SIZE])
{
    esc_to_cstr(buf, SMTP_VERB_TEXT_SIZE, (const uint8_t *)c->verb, c->verb_len);
    return buf;
}

struct smtp_pending *smtp_pending_last(struct smtp_session *s)
{
    return pending_at(s, s->q_len - 1);
}

static void emit_exchange(struct smtp_session *s, const struct smtp_pending *pc, const struct smtp_reply *r)
{
    struct smtp_exchange x = {.cmd = NULL, .reply = r};
    if (pc != NULL && pc->cmd.id != SMTP_VERB_GREETING)
        x.cmd = &pc->cmd;
    if (s->sink->exchange)
        s->sink->exchange(s->sink->ctx, &s->info, &x);
}

/* --- server replies (RFC 5321 4.2) ------------------------------------------------------- */

static bool is_digit(uint8_t c)
{
    return c >= '0' && c <= '9';
}

/* Enhanced status code at the start of the text (RFC 3463 2, RFC 2034 4): "C.S.D" + space/end. */
static void reply_enhanced(struct smtp_session *s, const uint8_t *p, size_t n, const struct timeval *ts)
{
    size_t i = 0;
    int parts = 0;
    while (parts < 3) {
        size_t start = i;
        while (i < n && is_digit(p[i]) && i - start < 3)
            i++;
        if (i == start || (parts == 0 && i - start != 1))
            return;
        parts++;
        if (parts < 3) {
            if (i >= n || p[i] != '.')
                return;
            i++;
        }
    }
    if ((i < n && p[i] != ' ') || i >= sizeof(s->reply.enhanced))
        return;
    if (p[0] != '2' && p[0] != '4' && p[0] != '5')
        return;
    memcpy(s->reply.enhanced, p, i);
    s->reply.enhanced[i] = '\0';
    if (p[0] - '0' != s->reply.code / 100)
        smtp_notice(s, SMTP_NOTICE_ENHANCED_CLASS_MISMATCH, SMTP_DIR_SERVER, ts,
                    "reply %d carries enhanced code %s", s->reply.code, s->reply.enhanced);
}

static void reply_add_line(struct smtp_session *s, const uint8_t *text, size_t n)
{
    if (s->reply.nlines == SMTP_MAX_REPLY_LINES || s->reply_text.truncated) {
        s->reply.lines_dropped++;
        return;
    }
    s->line_off[s->reply.nlines] = s->reply_text.len;
    sb_put(&s->reply_text, text, n);
    s->reply.line[s->reply.nlines].len = s->reply_text.len - s->line_off[s->reply.nlines];
    s->reply.nlines++;
}

static void client_bytes(struct smtp_session *s, const uint8_t *p, size_t n, const struct timeval *ts);

/* The DATA the held bytes waited for is answered: read them as the server did (content after
 * 354, commands after a refusal, RFC 5321 4.1.1.4). */
static void release_held(struct smtp_session *s)
{
    if (s->data_unanswered || s->held.len == 0)
        return;
    struct strbuf h = s->held; /* take it: reading may hold bytes again */
    sb_init(&s->held, SMTP_MAX_HELD);
    client_bytes(s, (const uint8_t *)h.p, h.len, &s->held_ts);
    sb_free(&h);
}

static void reply_complete(struct smtp_session *s, const struct timeval *ts)
{
    struct smtp_reply *r = &s->reply;
    for (unsigned i = 0; i < r->nlines; i++)
        r->line[i].p = (const uint8_t *)s->reply_text.p + s->line_off[i];
    r->ts = *ts;
    unsigned cls = (unsigned)r->code / 100;
    if (cls < 6)
        s->info.replies_by_class[cls]++;
    struct smtp_pending *pc = NULL;
    if (s->q_len)
        pc = pending_at(s, 0);
    /* Not an anomaly: after a client gap the command is lost, and RFC 5321 3.8 lets a server
     * send 421 at any time before it closes. */
    else if (s->greeted && !s->gap[SMTP_DIR_CLIENT] && r->code != 421)
        smtp_notice(s, SMTP_NOTICE_UNSOLICITED_REPLY, SMTP_DIR_SERVER, ts,
                    "reply %d with no command waiting for it", r->code);
    s->greeted = true;
    if (pc != NULL) {
        /* Pop before acting: the state machine may push (END_OF_DATA) or flush the queue. */
        struct smtp_pending cur = *pc;
        if (cur.heap_arg == NULL)
            cur.cmd.arg.p = cur.inline_arg;
        pc->heap_arg = NULL; /* owned by cur now */
        pending_pop(s);
        pending_left(s, &cur);
        if (r->code == 334 && (cur.cmd.id == SMTP_VERB_AUTH || cur.cmd.id == SMTP_VERB_SASL))
            smtp_auth_decode_challenge(r);
        emit_exchange(s, &cur, r);
        smtp_fsm_reply(s, &cur, r);
        free(cur.heap_arg);
        release_held(s);
    } else {
        emit_exchange(s, NULL, r);
    }
    s->reply_open = false;
}

static void reply_begin(struct smtp_session *s, int code)
{
    /* Reset what a reply reads; the line spans are set as lines arrive. */
    s->reply.nlines = s->reply.lines_dropped = 0;
    s->reply.enhanced[0] = s->reply.challenge[0] = '\0';
    sb_reset(&s->reply_text);
    s->reply.code = code;
    s->reply_open = true;
}

static void server_line(struct smtp_session *s, const struct smtp_line *l, const struct timeval *ts)
{
    if (l->dropped)
        smtp_notice(s, SMTP_NOTICE_LINE_TRUNCATED, SMTP_DIR_SERVER, ts,
                    "reply line of %zu bytes cut at %d", l->wire_len, SMTP_MAX_LINE);
    else if (l->len + 2 > SMTP_RFC_REPLY_LINE)
        smtp_notice(s, SMTP_NOTICE_LINE_TOO_LONG, SMTP_DIR_SERVER, ts,
                    "reply line of %zu bytes (RFC 5321 4.5.3.1.5: 512)", l->len + 2);
    else if (!l->crlf)
        smtp_notice(s, SMTP_NOTICE_BARE_LF_CR_IN_COMMAND, SMTP_DIR_SERVER, ts, "reply line ended by a bare LF");
    const uint8_t *p = l->p;
    size_t n = l->len;
    bool ok = n >= 3 && p[0] >= '2' && p[0] <= '5' && is_digit(p[1]) && is_digit(p[2]) &&
              (n == 3 || p[3] == ' ' || p[3] == '-');
    if (!ok) {
        char shown[64];
        esc_to_cstr(shown, sizeof(shown), p, n < 40 ? n : 40);
        smtp_notice(s, SMTP_NOTICE_MALFORMED_REPLY, SMTP_DIR_SERVER, ts, "server line \"%s\"", shown);
        if (s->reply_open)
            reply_add_line(s, p, n); /* keep it as text of the reply in progress */
        return;
    }
    int code = (p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0');
    bool last = n == 3 || p[3] == ' ';
    if (!s->reply_open)
        reply_begin(s, code);
    else if (code != s->reply.code)
        smtp_notice(s, SMTP_NOTICE_REPLY_CODE_MISMATCH, SMTP_DIR_SERVER, ts,
                    "line with code %d inside a %d reply", code, s->reply.code);
    const uint8_t *text = n > 4 ? p + 4 : p + n;
    size_t tlen = n > 4 ? n - 4 : 0;
    if (s->reply.nlines == 0)
        reply_enhanced(s, text, tlen, ts);
    reply_add_line(s, text, tlen);
    if (last)
        reply_complete(s, ts);
}

static void server_bytes(struct smtp_session *s, const uint8_t *p, size_t n, const struct timeval *ts)
{
    struct smtp_line l;
    bool was_tls = s->server_tls;
    while (n && !s->server_tls) {
        if (!smtp_line_next(&s->framer[SMTP_DIR_SERVER], &p, &n, &l))
            break;
        server_line(s, &l, ts);
    }
    /* The server speaks TLS only after the client's ClientHello: bytes right behind its 220
     * to STARTTLS are cleartext injected into what the client will read as TLS. */
    if (!was_tls && s->server_tls && n)
        smtp_notice(s, SMTP_NOTICE_STARTTLS_INJECTION, SMTP_DIR_SERVER, ts,
                    "%zu cleartext server bytes right after the 220 to STARTTLS", n);
}

/* --- client bytes ------------------------------------------------------------------------- */

/* Hold client bytes while a DATA is unanswered; false when the bound is reached. */
static bool hold(struct smtp_session *s, const uint8_t *p, size_t n, const struct timeval *ts)
{
    if (s->hold_overflowed || s->held.len + n > SMTP_MAX_HELD) {
        s->hold_overflowed = true;
        return false;
    }
    if (s->held.len == 0)
        s->held_ts = *ts;
    sb_put(&s->held, p, n);
    return true;
}

/* Message content to a sink that asked for it (the content stage, --files). */
static void content_out(struct smtp_session *s, const uint8_t *p, size_t n)
{
    struct smtp_transaction *t;
    if (s->sink->content && n && (t = smtp_content_txn(s)) != NULL)
        s->sink->content(s->sink->ctx, &s->info, t, p, n);
}

/* One step through DATA content: a run of plain lines, then one line. Returns true when that
 * line was the end of data; *p and *n move past what was taken. */
static bool data_step(struct smtp_session *s, const uint8_t **p, size_t *n, const struct timeval *ts)
{
    if (!s->body.in_headers && smtp_line_at_start(&s->framer[SMTP_DIR_CLIENT])) {
        size_t k = smtp_body_plain(s, *p, *n);
        *p += k;
        *n -= k;
        if (*n == 0)
            return false;
    }
    struct smtp_line l;
    if (!smtp_line_next(&s->framer[SMTP_DIR_CLIENT], p, n, &l))
        return false;
    return smtp_body_line(s, &l, ts);
}

/* The BDAT chunk's last byte was read (RFC 3030 2). */
static void bdat_chunk_done(struct smtp_session *s)
{
    struct smtp_transaction *t = smtp_content_txn(s);
    if (t && s->bdat_last)
        t->content_ended = true;
    s->cmode = SMTP_MODE_COMMAND;
}

static void client_bytes(struct smtp_session *s, const uint8_t *p, size_t n, const struct timeval *ts)
{
    struct smtp_line l;
    while (n) {
        switch (s->cmode) {
        case SMTP_MODE_COMMAND:
            if (s->data_unanswered && hold(s, p, n, ts))
                return;
            if (!smtp_line_next(&s->framer[SMTP_DIR_CLIENT], &p, &n, &l))
                return;
            smtp_client_line(s, &l, ts);
            break;
        case SMTP_MODE_DATA: {
            const uint8_t *p0 = p; /* what this step takes is message content as sent */
            bool ended = data_step(s, &p, &n, ts);
            content_out(s, p0, (size_t)(p - p0));
            if (ended) {
                struct smtp_transaction *t = smtp_content_txn(s);
                if (t)
                    t->content_ended = true;
                s->cmode = SMTP_MODE_COMMAND;
                smtp_body_end(s);
                smtp_pending_push(s, SMTP_VERB_END_OF_DATA, ".", 1, NULL, 0, ts);
            }
            break;
        }
        case SMTP_MODE_BDAT: {
            size_t take = n < s->bdat_left ? n : (size_t)s->bdat_left;
            smtp_body_bytes(s, p, take);
            content_out(s, p, take);
            p += take;
            n -= take;
            s->bdat_left -= take;
            if (s->bdat_left == 0)
                bdat_chunk_done(s);
            break;
        }
        case SMTP_MODE_TLS:
            smtp_tls_client_bytes(s, p, n, ts);
            return;
        case SMTP_MODE_IGNORE:
            return;
        }
    }
}

void smtp_session_data(struct smtp_session *s, enum smtp_dir dir, const uint8_t *p, size_t n,
                       const struct timeval *ts)
{
    s->info.bytes[dir] += n;
    s->info.end = *ts;
    if (dir == SMTP_DIR_SERVER) {
        /* A reply while the client is still inside DATA content: the server ended the message
         * where RFC 5321 sees none. After a bare-LF/CR dot, or when it accepts (2xx), that is an
         * end of data it takes that the RFC does not (SMTP smuggling); a 4xx/5xx may be the
         * server giving up on the message (552 too big, 421). Either way, follow the server. */
        if (s->cmode == SMTP_MODE_DATA && !s->server_tls) {
            if (s->body.smuggle_seen || (n > 0 && p[0] == '2'))
                smtp_notice(s, SMTP_NOTICE_SMUGGLING_END_OF_DATA, SMTP_DIR_SERVER, ts,
                            "server replied before <CRLF>.<CRLF>: it ended the message elsewhere");
            s->cmode = SMTP_MODE_COMMAND;
            smtp_line_reset(&s->framer[SMTP_DIR_CLIENT]);
            smtp_body_end(s);
            smtp_pending_push(s, SMTP_VERB_END_OF_DATA, ".", 1, NULL, 0, ts);
        }
        server_bytes(s, p, n, ts);
    } else {
        client_bytes(s, p, n, ts);
    }
}

void smtp_session_gap(struct smtp_session *s, enum smtp_dir dir, size_t n, const struct timeval *ts)
{
    if (n)
        smtp_notice(s, SMTP_NOTICE_CAPTURE_GAP, dir, ts, "%zu %s bytes missing from the capture", n,
                    dir == SMTP_DIR_CLIENT ? "client" : "server");
    else
        smtp_notice(s, SMTP_NOTICE_CAPTURE_GAP, dir, ts, "%s bytes missing from the capture; the rest of "
                    "that direction could not be reassembled", dir == SMTP_DIR_CLIENT ? "client" : "server");
    s->gap[dir] = true;
    struct smtp_transaction *t;
    if (dir == SMTP_DIR_CLIENT && (s->cmode == SMTP_MODE_DATA || s->cmode == SMTP_MODE_BDAT) &&
        s->sink->content_gap && (t = smtp_content_txn(s)) != NULL)
        s->sink->content_gap(s->sink->ctx, &s->info, t, n);
    /* Whatever was half-read before the hole cannot be trusted to continue after it. */
    smtp_line_reset(&s->framer[dir]);
}

/* --- end of session ---------------------------------------------------------------------- */

static void flush_partial_lines(struct smtp_session *s, const struct timeval *ts)
{
    struct smtp_line l;
    if (s->cmode == SMTP_MODE_COMMAND && smtp_line_partial(&s->framer[SMTP_DIR_CLIENT], &l)) {
        char shown[64];
        /* Never quote what may be a credential: a SASL line or an AUTH initial response. */
        bool secret = s->in_auth || s->auth_unanswered || smtp_verb_lookup(l.p, l.len < 4 ? l.len : 4) == SMTP_VERB_AUTH;
        esc_to_cstr(shown, sizeof(shown), l.p, secret ? 0 : (l.len < 40 ? l.len : 40));
        smtp_notice(s, SMTP_NOTICE_SESSION_CUT, SMTP_DIR_CLIENT, ts, "stream ended inside a command line \"%s\"",
                    secret ? "[redacted]" : shown);
        smtp_client_line(s, &l, ts);
    }
    if (!s->server_tls && smtp_line_partial(&s->framer[SMTP_DIR_SERVER], &l))
        smtp_notice(s, SMTP_NOTICE_SESSION_CUT, SMTP_DIR_SERVER, ts, "stream ended inside a reply line");
}

void smtp_session_end(struct smtp_session *s, enum smtp_end_reason why, const struct timeval *ts)
{
    s->info.end = *ts;
    s->info.end_reason = why;
    if (s->held.len)
        smtp_notice(s, SMTP_NOTICE_SESSION_CUT, SMTP_DIR_CLIENT, ts,
                    "%zu client bytes sent after DATA were never answered; not read", s->held.len);
    flush_partial_lines(s, ts);
    if (s->cmode == SMTP_MODE_DATA || s->cmode == SMTP_MODE_BDAT)
        smtp_notice(s, SMTP_NOTICE_SESSION_CUT, SMTP_DIR_CLIENT, ts, "stream ended inside message content");
    if (s->reply_open) {
        s->reply_open = false;
        smtp_notice(s, SMTP_NOTICE_SESSION_CUT, SMTP_DIR_SERVER, ts, "stream ended inside a multi-line reply");
    }
    /* Commands that never got a reply are still reported, in order, with reply null. */
    while (s->q_len) {
        struct smtp_pending *pc = pending_at(s, 0);
        if (pc->cmd.id != SMTP_VERB_GREETING)
            emit_exchange(s, pc, NULL);
        pending_release(pc);
        pending_pop(s);
    }
    while (smtp_cur_txn(s)) /* the open one, then a pipelined next one */
        smtp_txn_finish(s, SMTP_TXN_INCOMPLETE, SMTP_VERB_UNKNOWN);
    if (s->sink->session_end)
        s->sink->session_end(s->sink->ctx, &s->info);
}

void smtp_session_free(struct smtp_session *s)
{
    if (s == NULL)
        return;
    for (unsigned i = 0; i < s->q_len; i++)
        pending_release(pending_at(s, i));
    smtp_line_free(&s->framer[0]);
    smtp_line_free(&s->framer[1]);
    smtp_line_free(&s->body.bdat_lines);
    sb_free(&s->tls_hello);
    sb_free(&s->held);
    for (unsigned i = 0; i < s->txq_len; i++)
        smtp_txn_free(s->txq[i].t);
    struct pool_aux aux = {.p = {[AUX_PENDING] = s->q, [AUX_REPLY_TEXT] = s->reply_text.p,
                                 [AUX_HEADER_VALUE] = s->body.cur.p},
                           .n = {[AUX_PENDING] = s->q_cap, [AUX_REPLY_TEXT] = s->reply_text.cap,
                                 [AUX_HEADER_VALUE] = s->body.cur.cap}};
    if (!pool_put(&session_pool, s, &aux)) {
        aux_free(&aux);
        free(s);
    }
}
