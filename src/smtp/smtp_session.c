/* smtp_session.c - session framing: one SMTP session's two directions cut into lines, replies
 * assembled (multi-line, RFC 5321 4.2.1), client bytes held while a DATA is unanswered, and the
 * end of the session. What the lines mean is the state machine's (smtp_fsm.c); this file reads
 * the state and never changes it. */
#include <stdlib.h>
#include <string.h>

#include "lib/pool.h"
#include "lib/xalloc.h"
#include "smtp/smtp_internal.h"
#include "smtp/smtp_parse.h"
#include "smtp/smtp_text.h"

/* Ended sessions kept for reuse, each with the buffers it grew: the pending ring, the reply
 * text and the header value (both bounded, so the pool is too). Without them every session
 * grew two buffers from nothing (malloc, realloc, free: ~2% of a run). */
enum { AUX_PENDING, AUX_REPLY_TEXT, AUX_HEADER_VALUE };
static struct pool session_pool = POOL_INIT(struct smtp_session);

static struct smtp_session *session_alloc(void)
{
    struct pool_aux aux = {0}; /* a new session starts with no buffers */
    struct smtp_session *s = pool_get(&session_pool, &aux);
    if (s == NULL)
        s = xcalloc(1, sizeof(*s));
    else
        memset(s, 0, sizeof(*s));
    s->q.q = aux.p[AUX_PENDING]; /* entries are cleared as they are pushed */
    s->q.cap = (unsigned)aux.n[AUX_PENDING];
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
    s->info.midstream = (flags & SMTP_SESS_MIDSTREAM) != 0;
    s->server_skip = s->info.midstream;
    s->nt.sink = sink;
    s->nt.info = &s->info;
    s->flags = flags;
    sb_init(&s->tls_hello, SMTP_MAX_CLIENT_HELLO);
    sb_init(&s->held, SMTP_MAX_HELD);
    sb_init(&s->resync_line, SMTP_MAX_LINE + 2);
    smtp_fsm_open(s, ts);
    if (sink->session_start)
        sink->session_start(sink->ctx, &s->info);
    return s;
}

void smtp_session_notice(struct smtp_session *s, enum smtp_notice_id id, enum smtp_dir dir,
                         const struct timeval *ts, const char *detail)
{
    smtp_notice(&s->nt, id, dir, ts, "%s", detail);
}

/* --- server replies (RFC 5321 4.2) ------------------------------------------------------- */

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
static void client_gap(struct smtp_session *s, size_t n, const struct timeval *ts);

/* The DATA the held bytes waited for is answered: read them as the server did (content after
 * 354, commands after a refusal, RFC 5321 4.1.1.4), with the capture's gaps where they were. */
static void release_held(struct smtp_session *s)
{
    if (s->f.data_unanswered)
        return;
    s->hold_overflowed = false;
    if (s->held.len == 0 && s->nheld_gaps == 0)
        return;
    struct strbuf h = s->held; /* take them: reading may hold bytes again */
    struct smtp_held_gap g[SMTP_MAX_HELD_GAPS];
    unsigned ng = s->nheld_gaps;
    memcpy(g, s->held_gap, ng * sizeof(g[0]));
    s->nheld_gaps = 0;
    sb_init(&s->held, SMTP_MAX_HELD);
    size_t at = 0;
    for (unsigned i = 0; i <= ng; i++) {
        size_t to = i < ng ? g[i].at : h.len;
        if (to > at)
            client_bytes(s, (const uint8_t *)h.p + at, to - at, &s->held_ts);
        at = to;
        if (i < ng)
            client_gap(s, g[i].n, &g[i].ts);
    }
    sb_free(&h);
}

static void reply_complete(struct smtp_session *s, const struct timeval *ts)
{
    struct smtp_reply *r = &s->reply;
    for (unsigned i = 0; i < r->nlines; i++)
        r->line[i].p = (const uint8_t *)s->reply_text.p + s->line_off[i];
    r->ts = *ts;
    bool answered = s->q.len > 0;
    smtp_fsm_reply(s, ts);
    if (answered)
        release_held(s);
    s->reply_open = false;
}

static void reply_begin(struct smtp_session *s, int code)
{
    /* Reset what a reply reads; the line spans are set as lines arrive. */
    s->reply.nlines = s->reply.lines_dropped = 0;
    s->reply.enhanced[0] = s->reply.challenge[0] = '\0';
    s->reply.enh.cls = 0;
    sb_reset(&s->reply_text);
    s->reply.code = code;
    s->reply_open = true;
}

static void server_line(struct smtp_session *s, const struct smtp_line *l, const struct timeval *ts)
{
    if (l->dropped)
        smtp_notice(&s->nt, SMTP_NOTICE_LINE_TRUNCATED, SMTP_DIR_SERVER, ts,
                    "reply line of %zu bytes cut at %d", l->wire_len, SMTP_MAX_LINE);
    else if (l->len + 2 > SMTP_RFC_REPLY_LINE)
        smtp_notice(&s->nt, SMTP_NOTICE_LINE_TOO_LONG, SMTP_DIR_SERVER, ts,
                    "reply line of %zu bytes (RFC 5321 4.5.3.1.5: 512)", l->len + 2);
    else if (!l->crlf)
        smtp_notice(&s->nt, SMTP_NOTICE_BARE_LF_CR_IN_COMMAND, SMTP_DIR_SERVER, ts, "reply line ended by a bare LF");
    struct smtp_reply_line rl;
    if (!smtp_reply_line_parse(l->p, l->len, &rl)) {
        char shown[64];
        esc_to_cstr(shown, sizeof(shown), l->p, l->len < 40 ? l->len : 40);
        smtp_notice(&s->nt, SMTP_NOTICE_MALFORMED_REPLY, SMTP_DIR_SERVER, ts, "server line \"%s\"", shown);
        if (s->reply_open)
            reply_add_line(s, l->p, l->len); /* keep it as text of the reply in progress */
        return;
    }
    if (!s->reply_open)
        reply_begin(s, rl.code);
    else if (rl.code != s->reply.code)
        smtp_notice(&s->nt, SMTP_NOTICE_REPLY_CODE_MISMATCH, SMTP_DIR_SERVER, ts,
                    "line with code %d inside a %d reply", rl.code, s->reply.code);
    if (s->reply.nlines == 0 && smtp_enhanced_parse(rl.text, rl.text_len, s->reply.enhanced, &s->reply.enh) &&
        s->reply.enhanced[0] - '0' != s->reply.code / 100)
        smtp_notice(&s->nt, SMTP_NOTICE_ENHANCED_CLASS_MISMATCH, SMTP_DIR_SERVER, ts,
                    "reply %d carries enhanced code %s", s->reply.code, s->reply.enhanced);
    reply_add_line(s, rl.text, rl.text_len);
    if (rl.last)
        reply_complete(s, ts);
}

/* After a hole or at a midstream start, the first server line may be the tail of one: it is
 * read only if it is a reply line (decided on the whole line, so however it was segmented). */
static bool server_line_skipped(struct smtp_session *s, const struct smtp_line *l, const struct timeval *ts)
{
    s->server_skip = false;
    struct smtp_reply_line rl;
    if (smtp_reply_line_parse(l->p, l->len, &rl))
        return false;
    if (!s->gap[SMTP_DIR_SERVER]) /* a hole's own notice covers the tail of a line after it */
        smtp_notice(&s->nt, SMTP_NOTICE_MIDSTREAM_SKIPPED, SMTP_DIR_SERVER, ts,
                    "picked up mid-session: the first %zu server bytes are the tail of a line, not read",
                    l->wire_len);
    return true;
}

static void server_bytes(struct smtp_session *s, const uint8_t *p, size_t n, const struct timeval *ts)
{
    struct smtp_line l;
    bool was_tls = s->f.server_tls;
    while (n && !s->f.server_tls) {
        if (!smtp_line_next(&s->framer[SMTP_DIR_SERVER], &p, &n, &l))
            break;
        if (s->server_skip && server_line_skipped(s, &l, ts))
            continue;
        server_line(s, &l, ts);
    }
    /* The server speaks TLS only after the client's ClientHello: bytes right behind its 220
     * to STARTTLS are cleartext injected into what the client will read as TLS. */
    if (!was_tls && s->f.server_tls && n)
        smtp_notice(&s->nt, SMTP_NOTICE_STARTTLS_INJECTION, SMTP_DIR_SERVER, ts,
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

/* One step through DATA content: a run of plain lines, then one line. Returns true when that
 * line was the end of data; *p and *n move past what was taken. */
static bool data_step(struct smtp_session *s, const uint8_t **p, size_t *n, const struct timeval *ts)
{
    if (!s->body.in_headers && smtp_line_at_start(&s->framer[SMTP_DIR_CLIENT])) {
        size_t k = smtp_fsm_content_plain(s, *p, *n);
        *p += k;
        *n -= k;
        if (*n == 0)
            return false;
    }
    struct smtp_line l;
    if (!smtp_line_next(&s->framer[SMTP_DIR_CLIENT], p, n, &l))
        return false;
    return smtp_fsm_content_line(s, &l, ts);
}

static void client_bytes(struct smtp_session *s, const uint8_t *p, size_t n, const struct timeval *ts)
{
    struct smtp_line l;
    while (n) {
        switch (s->state) {
        case SMTP_STATE_COMMAND:
        case SMTP_STATE_AUTH:
        case SMTP_STATE_RESYNC:
            if (s->f.data_unanswered && hold(s, p, n, ts))
                return;
            if (!smtp_line_next(&s->framer[SMTP_DIR_CLIENT], &p, &n, &l))
                return;
            smtp_fsm_client_line(s, &l, ts);
            break;
        case SMTP_STATE_DATA: {
            const uint8_t *p0 = p; /* what this step takes is message content as sent */
            bool ended = data_step(s, &p, &n, ts);
            smtp_fsm_content_out(s, p0, (size_t)(p - p0));
            if (ended)
                smtp_fsm_end_of_data(s, ts);
            break;
        }
        case SMTP_STATE_BDAT: {
            size_t take = n < s->bdat_left ? n : (size_t)s->bdat_left;
            smtp_fsm_chunk(s, p, take);
            p += take;
            n -= take;
            break;
        }
        case SMTP_STATE_TLS:
            smtp_fsm_tls_bytes(s, p, n, ts);
            return;
        case SMTP_STATE_IGNORE:
        case SMTP_STATE_COUNT:
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
         * where RFC 5321 sees none, or never got one. */
        if (s->state == SMTP_STATE_DATA && !s->f.server_tls)
            smtp_fsm_server_in_content(s, n ? p[0] : 0, ts);
        server_bytes(s, p, n, ts);
    } else {
        if (s->f.silent_unsolicited && n)
            smtp_fsm_client_spoke(s);
        if ((s->ndeferred || s->f.server_hole) && n) { /* the flight's replies may all be in */
            bool was = s->f.data_unanswered != 0;
            smtp_fsm_resolve_deferred(s, false);
            if (was)
                release_held(s);
        }
        client_bytes(s, p, n, ts);
    }
}

/* Bytes of a line read before a hole (cut off by it). */
static size_t partial_line(const struct smtp_line_framer *f)
{
    return smtp_line_at_start(f) ? 0 : f->len + f->dropped;
}

/* A client hole: while a DATA is unanswered it waits among the held bytes (what it was depends
 * on the reply, as theirs does); else the state machine places it. */
static void client_gap(struct smtp_session *s, size_t n, const struct timeval *ts)
{
    bool holding = s->f.data_unanswered && !s->hold_overflowed &&
                   (s->state == SMTP_STATE_COMMAND || s->state == SMTP_STATE_AUTH || s->state == SMTP_STATE_RESYNC);
    if (holding && s->nheld_gaps < SMTP_MAX_HELD_GAPS) {
        s->held_gap[s->nheld_gaps++] = (struct smtp_held_gap){.at = s->held.len, .n = n, .ts = *ts};
        if (s->held.len == 0)
            s->held_ts = *ts;
        return;
    }
    if (holding)
        s->hold_overflowed = true; /* more holes than kept: read on at once, as past the bound */
    size_t partial = partial_line(&s->framer[SMTP_DIR_CLIENT]);
    /* Whatever was half-read before the hole cannot be trusted to continue after it. */
    smtp_line_reset(&s->framer[SMTP_DIR_CLIENT]);
    smtp_fsm_client_gap(s, n, partial, ts);
}

void smtp_session_gap(struct smtp_session *s, enum smtp_dir dir, size_t n, const struct timeval *ts)
{
    if (n)
        smtp_notice(&s->nt, SMTP_NOTICE_CAPTURE_GAP, dir, ts, "%zu %s bytes missing from the capture", n,
                    dir == SMTP_DIR_CLIENT ? "client" : "server");
    else
        smtp_notice(&s->nt, SMTP_NOTICE_CAPTURE_GAP, dir, ts, "%s bytes missing from the capture; the rest of "
                    "that direction could not be reassembled", dir == SMTP_DIR_CLIENT ? "client" : "server");
    s->gap[dir] = true;
    if (dir == SMTP_DIR_CLIENT) {
        client_gap(s, n, ts);
        return;
    }
    if (!s->f.server_tls) {
        if (s->reply_open) /* its last lines are in the hole */
            smtp_notice(&s->nt, SMTP_NOTICE_SESSION_CUT, SMTP_DIR_SERVER, ts, "a multi-line reply cut by a hole");
        s->reply_open = false;
        smtp_line_reset(&s->framer[SMTP_DIR_SERVER]);
        s->server_skip = true;
        smtp_fsm_server_gap(s);
    }
}

/* --- end of session ---------------------------------------------------------------------- */

static void flush_partial_lines(struct smtp_session *s, const struct timeval *ts)
{
    struct smtp_line l;
    bool commands = s->state == SMTP_STATE_COMMAND || s->state == SMTP_STATE_AUTH || s->state == SMTP_STATE_RESYNC;
    if (commands && smtp_line_partial(&s->framer[SMTP_DIR_CLIENT], &l)) {
        char shown[64];
        /* Never quote what may be a credential: a SASL line or an AUTH initial response. */
        bool secret = s->state == SMTP_STATE_AUTH || s->f.auth_unanswered ||
                      smtp_verb_lookup(l.p, l.len < 4 ? l.len : 4) == SMTP_VERB_AUTH;
        esc_to_cstr(shown, sizeof(shown), l.p, secret ? 0 : (l.len < 40 ? l.len : 40));
        smtp_notice(&s->nt, SMTP_NOTICE_SESSION_CUT, SMTP_DIR_CLIENT, ts, "stream ended inside a command line \"%s\"",
                    secret ? "[redacted]" : shown);
        smtp_fsm_client_line(s, &l, ts);
    }
    if (!s->f.server_tls && smtp_line_partial(&s->framer[SMTP_DIR_SERVER], &l))
        smtp_notice(&s->nt, SMTP_NOTICE_SESSION_CUT, SMTP_DIR_SERVER, ts, "stream ended inside a reply line");
}

void smtp_session_end(struct smtp_session *s, enum smtp_end_reason why, const struct timeval *ts)
{
    s->info.end = *ts;
    s->info.end_reason = why;
    if (s->ndeferred) { /* replies kept to count lost lines' ones: paired with what is in */
        smtp_fsm_resolve_deferred(s, true);
        release_held(s);
    }
    if (s->held.len && s->info.bytes[SMTP_DIR_SERVER] == 0 && s->state == SMTP_STATE_COMMAND) {
        struct strbuf h = s->held; /* one-sided: read as content, as after a 354 */
        sb_init(&s->held, SMTP_MAX_HELD);
        s->nheld_gaps = 0; /* no server bytes, so no reply told where a gap among them was */
        smtp_fsm_one_sided_content(s);
        client_bytes(s, (const uint8_t *)h.p, h.len, &s->held_ts);
        sb_free(&h);
    }
    if (s->held.len)
        smtp_notice(&s->nt, SMTP_NOTICE_SESSION_CUT, SMTP_DIR_CLIENT, ts,
                    "%zu client bytes sent after DATA were never answered; not read", s->held.len);
    flush_partial_lines(s, ts);
    if (s->state == SMTP_STATE_DATA || s->state == SMTP_STATE_BDAT)
        smtp_notice(&s->nt, SMTP_NOTICE_SESSION_CUT, SMTP_DIR_CLIENT, ts, "stream ended inside message content");
    if (s->reply_open) {
        s->reply_open = false;
        smtp_notice(&s->nt, SMTP_NOTICE_SESSION_CUT, SMTP_DIR_SERVER, ts, "stream ended inside a multi-line reply");
    }
    smtp_fsm_end(s, ts);
    if (s->nt.sink->session_end)
        s->nt.sink->session_end(s->nt.sink->ctx, &s->info);
}

void smtp_session_free(struct smtp_session *s)
{
    if (s == NULL)
        return;
    smtp_queue_clear(&s->q);
    smtp_line_free(&s->framer[0]);
    smtp_line_free(&s->framer[1]);
    smtp_line_free(&s->body.bdat_lines);
    sb_free(&s->tls_hello);
    sb_free(&s->held);
    sb_free(&s->resync_line);
    smtp_fsm_free(s);
    struct pool_aux aux = {.p = {[AUX_PENDING] = s->q.q, [AUX_REPLY_TEXT] = s->reply_text.p,
                                 [AUX_HEADER_VALUE] = s->body.cur.p},
                           .n = {[AUX_PENDING] = s->q.cap, [AUX_REPLY_TEXT] = s->reply_text.cap,
                                 [AUX_HEADER_VALUE] = s->body.cur.cap}};
    if (!pool_put(&session_pool, s, &aux)) {
        aux_free(&aux);
        free(s);
    }
}
