/* out_live.c - the live feed: one terminal line per command, reply, transaction and notice, by session. */
#include <stdlib.h>
#include <string.h>

#include "sinks/sink_fmt.h"
#include "sinks/sinks.h"
#include "smtpsniff/reply.h"
#include "lib/strbuf.h"
#include "lib/xalloc.h"

#define LIVE_OUT_CHUNK (64u * 1024)         /* formatted lines are written in chunks of this size */
#define LIVE_GROUP_MAX (4u << 20)           /* the lines of one record (a 64-line reply, escaped) */
#define LIVE_FIELD_MAX LIVE_GROUP_MAX       /* one shortened field (arg_width columns, escaped) */
#define LIVE_HELD_SESSION_MAX (256u * 1024) /* --errors: lines held per open session */
#define LIVE_HELD_TOTAL_MAX (128u << 20)    /* --errors: lines held over all open sessions */
#define LIVE_BUCKETS 4096                   /* --errors: hash buckets of open sessions */
/* Unwritten lines: under a chunk, plus one record, plus one held session. */
#define LIVE_OUT_MAX (2 * LIVE_OUT_CHUNK + LIVE_GROUP_MAX + LIVE_HELD_SESSION_MAX)

#define LIVE_RESET "\033[0m"
#define LIVE_NOTICE_COLOR "\033[1;35m"

/* --errors: the lines of one open session, printed at its end if it failed. */
struct live_held {
    uint64_t id;
    struct strbuf sb;
    unsigned dropped; /* lines past the caps */
    bool failed;      /* a 4xx/5xx reply or a notice was seen */
    struct live_held *next;
};

struct out_live {
    struct smtp_sink sink; /* sink.ctx points back here */
    struct out_live_opts o;
    struct strbuf *w;       /* where records are formatted: &out, or &grp under --errors */
    struct strbuf grp;      /* --errors: the lines of the record being formatted */
    struct strbuf out;      /* formatted lines not yet written */
    struct strbuf field;    /* one escaped field, before shortening */
    struct sink_annot_cache annot;
    struct timeval last_ts; /* time of the latest record (capture order): transactions carry none */
    size_t held_bytes;
    struct live_held *held[LIVE_BUCKETS];
};

/* ---- output ---- */

static void live_write(struct out_live *L, bool force)
{
    if (L->out.len && (force || L->o.flush_each || L->out.len >= LIVE_OUT_CHUNK))
        (void)sb_flush(&L->out, L->o.out);
    if (force || L->o.flush_each)
        fflush(L->o.out);
}

static unsigned live_count_lines(const struct strbuf *sb)
{
    unsigned n = 0;
    for (const char *q = sb->p; q && (q = memchr(q, '\n', (size_t)(sb->p + sb->len - q))) != NULL; q++)
        n++;
    return n;
}

/* ---- --errors: sessions held until their end ---- */

static struct live_held **live_held_slot(struct out_live *L, uint64_t id)
{
    struct live_held **pp = &L->held[(id * 0x9E3779B97F4A7C15ULL) >> 52 & (LIVE_BUCKETS - 1)];
    while (*pp && (*pp)->id != id)
        pp = &(*pp)->next;
    return pp;
}

static struct live_held *live_held_get(struct out_live *L, uint64_t id)
{
    struct live_held **pp = live_held_slot(L, id);
    if (*pp == NULL) {
        struct live_held *h = xcalloc(1, sizeof(*h));
        h->id = id;
        sb_init(&h->sb, LIVE_HELD_SESSION_MAX);
        *pp = h;
    }
    return *pp;
}

static void live_held_drop(struct out_live *L, struct live_held **pp)
{
    struct live_held *h = *pp;
    *pp = h->next;
    L->held_bytes -= h->sb.len;
    sb_free(&h->sb);
    free(h);
}

/* Keep the record's lines for later, or count them when the session or the total is full. */
static void live_held_add(struct out_live *L, struct live_held *h)
{
    if (h->sb.len + L->grp.len > LIVE_HELD_SESSION_MAX || L->held_bytes + L->grp.len > LIVE_HELD_TOTAL_MAX) {
        h->dropped += live_count_lines(&L->grp);
        return;
    }
    sb_put(&h->sb, L->grp.p, L->grp.len);
    L->held_bytes += L->grp.len;
}

static void live_held_emit(struct out_live *L, struct live_held *h)
{
    sb_put(&L->out, h->sb.p, h->sb.len);
    if (h->dropped) {
        SB_LIT(&L->out, "    (");
        sb_u64(&L->out, h->dropped);
        SB_LIT(&L->out, " lines of this session not kept)\n");
    }
}

/* A record's lines are done: they are in the output already, or held for the session's end
 * under --errors. */
static void live_emit(struct out_live *L, const struct smtp_session_info *s, bool failed)
{
    if (L->o.errors_only) {
        struct live_held *h = live_held_get(L, s->id);
        h->failed |= failed;
        live_held_add(L, h);
        sb_reset(&L->grp);
    } else {
        live_write(L, false);
    }
}

/* ---- pieces of a line ---- */

static void live_color(struct out_live *L, const char *esc)
{
    if (L->o.color && esc)
        sb_puts(L->w, esc);
}

static void live_uncolor(struct out_live *L, const char *esc)
{
    if (L->o.color && esc)
        sb_puts(L->w, LIVE_RESET);
}

static const char *live_class_color(int code)
{
    switch (reply_class(code)) {
    case 2:
        return "\033[32m";
    case 3:
        return "\033[36m";
    case 4:
        return "\033[33m";
    case 5:
        return "\033[31m";
    default:
        return NULL;
    }
}

/* "10:00:00.123456 #1" */
static void live_stamp(struct out_live *L, const struct timeval *ts, uint64_t id)
{
    sink_put_clock(L->w, ts);
    SB_LIT(L->w, " #");
    sb_u64(L->w, id);
}

/* "10:00:00.123456 #1 C: " (every marker is two characters) */
static void live_prefix(struct out_live *L, const struct timeval *ts, uint64_t id, const char marker[2])
{
    live_stamp(L, ts, id);
    char m[4] = {' ', marker[0], marker[1], ' '};
    sb_put(L->w, m, sizeof(m));
}

/* text then a number: the per-line paths avoid printf (this runs once per command and reply). */
static void live_num(struct out_live *L, const char *text, uint64_t v)
{
    sb_puts(L->w, text);
    sb_u64(L->w, v);
}

static void live_pad(struct out_live *L, size_t n)
{
    static const char spaces[] = "                                                                ";
    for (; n > sizeof(spaces) - 1; n -= sizeof(spaces) - 1)
        sb_put(L->w, spaces, sizeof(spaces) - 1);
    sb_put(L->w, spaces, n);
}

static void live_note_ts(struct out_live *L, const struct timeval *ts)
{
    if (ts->tv_sec || ts->tv_usec)
        L->last_ts = *ts;
}

/* How many wire bytes to escape as one unit when shortening: a UTF-8 sequence as its lead byte
 * announces it (sb_term_str decides whether it is valid), otherwise one byte. */
static size_t live_wire_unit(const uint8_t *p, size_t n)
{
    size_t k = p[0] >= 0xF0 && p[0] <= 0xF7 ? 4 : p[0] >= 0xE0 ? 3 : p[0] >= 0xC0 ? 2 : 1;
    return k < n ? k : n;
}

/* Terminal columns of escaped text: one per character, UTF-8 continuation bytes excluded. */
static size_t live_columns(const char *q, size_t n)
{
    size_t cols = 0;
    for (size_t i = 0; i < n; i++)
        cols += ((unsigned char)q[i] & 0xC0) != 0x80;
    return cols;
}

/* The first units of p escaped into L->field, as many as fit in `width` columns; returns the
 * number of wire bytes they cover. */
static size_t live_fit(struct out_live *L, const uint8_t *p, size_t n, size_t width)
{
    size_t i = 0, cols = 0;
    sb_reset(&L->field);
    while (i < n) {
        size_t k = live_wire_unit(p + i, n - i), mark = L->field.len;
        sb_term_str(&L->field, p + i, k, false);
        size_t c = live_columns(L->field.p + mark, L->field.len - mark);
        if (cols + c > width) {
            L->field.len = mark;
            break;
        }
        cols += c;
        i += k;
    }
    return i;
}

/* Wire bytes escaped for the terminal, cut past arg_width columns with "... (+N bytes)". */
static void live_put_field(struct out_live *L, const uint8_t *p, size_t n)
{
    size_t width = L->o.arg_width;
    size_t at = L->w->len;
    sb_term_str(L->w, p, n, false);
    if (width == 0 || L->w->len - at <= width || live_columns(L->w->p + at, L->w->len - at) <= width)
        return;
    L->w->len = at;
    size_t shown = live_fit(L, p, n, width);
    sb_put(L->w, L->field.p, L->field.len);
    SB_LIT(L->w, "... (+");
    sb_u64(L->w, n - shown);
    SB_LIT(L->w, " bytes)");
}

/* ---- records ---- */

static void live_session_start(void *ctx, const struct smtp_session_info *s)
{
    struct out_live *L = ctx;
    live_note_ts(L, &s->start);
    if (L->o.quiet)
        return;
    live_prefix(L, &s->start, s->id, "++");
    sink_put_endpoint(L->w, &s->client);
    SB_LIT(L->w, " -> ");
    sink_put_endpoint(L->w, &s->server);
    SB_LIT(L->w, " (");
    size_t at = L->w->len;
    if (sb_time_rfc3339(L->w, &s->start) && L->w->len >= at + 10)
        L->w->len = at + 10; /* the date part */
    SB_LIT(L->w, ")\n");
    live_emit(L, s, false);
}

static void live_verb(struct out_live *L, const struct smtp_command *c)
{
    size_t n = c->verb_len < sizeof(c->verb) ? c->verb_len : strnlen(c->verb, sizeof(c->verb));
    const char *name = smtp_verb_name(c->id);
    if (n)
        sb_term_str(L->w, (const uint8_t *)c->verb, n, false);
    else if (name && name[0])
        sb_puts(L->w, name);
    else
        SB_LIT(L->w, "?");
}

static void live_command(struct out_live *L, const struct smtp_session_info *s, const struct smtp_command *c)
{
    live_note_ts(L, &c->ts);
    live_prefix(L, &c->ts, s->id, "C:");
    live_verb(L, c);
    /* a redacted argument is the core's: the secret already replaced, the mechanism kept
     * ("PLAIN [redacted]"), as JSON prints it */
    if (c->arg.len) {
        sb_putc(L->w, ' ');
        live_put_field(L, c->arg.p, c->arg.len);
    }
    sb_putc(L->w, '\n');
}

/* "250-text", or "250 text" for the final line (when no line was dropped after it). */
static void live_reply_text(struct out_live *L, const struct smtp_reply *r, unsigned i)
{
    sb_i64(L->w, r->code);
    if (r->nlines == 0)
        return;
    sb_putc(L->w, i + 1 < r->nlines || r->lines_dropped ? '-' : ' ');
    live_put_field(L, r->line[i].p, r->line[i].len);
}

static void live_annot_render(struct strbuf *sb, int code, const char *context)
{
    SB_LIT(sb, "  [");
    sb_puts(sb, reply_class_label(code));
    sb_putc(sb, ' ');
    sb_puts(sb, reply_class_name(code));
    SB_LIT(sb, ": ");
    sb_puts(sb, sink_reply_meaning(context, code));
}

static void live_reply_note(struct out_live *L, const struct smtp_exchange *x, int code, const char *challenge)
{
    sink_annot_put(&L->annot, L->w, code, x, live_annot_render);
    if (challenge[0]) {
        SB_LIT(L->w, ": \"");
        sink_put_name(L->w, challenge, SMTP_MAX_NAME);
        sb_putc(L->w, '"');
    }
    sb_putc(L->w, ']');
}

/* First line annotated; the others indented under it, as on the wire, so EHLO lists stay readable. */
static void live_reply(struct out_live *L, const struct smtp_session_info *s, const struct smtp_exchange *x)
{
    const struct smtp_reply *r = x->reply;
    const char *color = live_class_color(r->code);
    unsigned n = r->nlines < SMTP_MAX_REPLY_LINES ? r->nlines : SMTP_MAX_REPLY_LINES;
    live_note_ts(L, &r->ts);
    size_t bol = L->w->len;
    live_prefix(L, &r->ts, s->id, "S:");
    size_t indent = L->w->len - bol;
    live_color(L, color);
    live_reply_text(L, r, 0);
    live_reply_note(L, x, r->code, r->challenge);
    live_uncolor(L, color);
    sb_putc(L->w, '\n');
    for (unsigned i = 1; i < n; i++) {
        live_pad(L, indent);
        live_color(L, color);
        live_reply_text(L, r, i);
        live_uncolor(L, color);
        sb_putc(L->w, '\n');
    }
    if (r->lines_dropped) {
        live_pad(L, indent);
        live_num(L, "(+", r->lines_dropped);
        SB_LIT(L->w, " lines not kept)\n");
    }
}

static void live_exchange(void *ctx, const struct smtp_session_info *s, const struct smtp_exchange *x)
{
    struct out_live *L = ctx;
    if (L->o.quiet)
        return;
    if (x->cmd)
        live_command(L, s, x->cmd);
    if (x->reply)
        live_reply(L, s, x);
    live_emit(L, s, x->reply && x->reply->code >= 400);
}

static void live_rcpt_counts(struct out_live *L, const struct smtp_transaction *t)
{
    unsigned ok = 0, bad = 0, none = 0;
    unsigned n = t->rcpt == NULL ? 0 : t->nrcpt < SMTP_MAX_RCPTS ? t->nrcpt : SMTP_MAX_RCPTS;
    for (unsigned i = 0; i < n; i++) {
        if (t->rcpt[i].code == 0)
            none++;
        else if (t->rcpt[i].code < 400)
            ok++;
        else
            bad++;
    }
    SB_LIT(L->w, ", rcpt ");
    sb_u64(L->w, ok);
    SB_LIT(L->w, " accepted / ");
    sb_u64(L->w, bad);
    SB_LIT(L->w, " rejected");
    if (none)
        live_num(L, " / ", none), SB_LIT(L->w, " unanswered");
    if (t->rcpts_dropped)
        sb_printf(L->w, " (+%u not kept)", t->rcpts_dropped);
}

static const char *live_txn_color(enum smtp_txn_status st)
{
    return st == SMTP_TXN_ACCEPTED ? "\033[32m" : st == SMTP_TXN_REJECTED ? "\033[31m" : "\033[33m";
}

static void live_transaction(void *ctx, const struct smtp_session_info *s, const struct smtp_transaction *t)
{
    struct out_live *L = ctx;
    if (L->o.quiet)
        return;
    const char *color = live_txn_color(t->status);
    live_prefix(L, &t->ts, s->id, "==");
    live_color(L, color);
    live_num(L, "mail ", t->depth);
    sb_putc(L->w, ' ');
    sb_puts(L->w, smtp_txn_status_name(t->status));
    if (t->status == SMTP_TXN_REJECTED)
        SB_LIT(L->w, " at "), sb_puts(L->w, smtp_verb_name(t->rejected_at));
    live_uncolor(L, color);
    SB_LIT(L->w, ": from ");
    if (t->mail_from[0])
        sink_put_name(L->w, t->mail_from, sizeof(t->mail_from));
    else
        sb_puts(L->w, t->have_mail_from ? "<>" : "-");
    live_rcpt_counts(L, t);
    if (t->have_message)
        live_num(L, ", ", t->message.size), SB_LIT(L->w, " bytes");
    if (t->have_data_reply)
        live_num(L, ", data ", (uint64_t)t->data_reply.code);
    sb_putc(L->w, '\n');
    live_emit(L, s, t->status == SMTP_TXN_REJECTED);
}

static void live_notice(void *ctx, const struct smtp_session_info *s, const struct smtp_notice *n)
{
    struct out_live *L = ctx;
    live_note_ts(L, &n->ts);
    if (L->o.quiet)
        return;
    live_prefix(L, &n->ts, s->id, "!!");
    live_color(L, LIVE_NOTICE_COLOR);
    sb_puts(L->w, smtp_notice_name(n->id));
    SB_LIT(L->w, " (");
    sb_puts(L->w, smtp_severity_name(smtp_notice_severity(n->id)));
    SB_LIT(L->w, "): ");
    sink_put_name(L->w, n->detail, sizeof(n->detail));
    live_uncolor(L, LIVE_NOTICE_COLOR);
    sb_putc(L->w, '\n');
    live_emit(L, s, true);
}

static void live_class_counts(struct out_live *L, const struct smtp_session_info *s, const char *sep)
{
    static const char *const label[6] = {"", "", "2xx:", "3xx:", "4xx:", "5xx:"};
    for (int c = 2; c <= 5; c++) {
        if (c > 2)
            sb_puts(L->w, sep);
        live_num(L, label[c], s->replies_by_class[c]);
    }
}

static bool live_session_failed(const struct smtp_session_info *s)
{
    return s->replies_by_class[4] || s->replies_by_class[5] || s->notices || s->notices_dropped;
}

static const struct timeval *live_end_time(struct out_live *L, const struct smtp_session_info *s)
{
    return s->end.tv_sec || s->end.tv_usec ? &s->end : &L->last_ts;
}

/* -q: the whole session on one line. */
static void live_quiet_line(struct out_live *L, const struct smtp_session_info *s)
{
    const char *color = s->replies_by_class[5]   ? live_class_color(500)
                        : s->replies_by_class[4] ? live_class_color(400)
                                                 : NULL;
    live_color(L, color);
    live_stamp(L, &s->start, s->id);
    sb_putc(L->w, ' ');
    sink_put_endpoint(L->w, &s->client);
    SB_LIT(L->w, " -> ");
    sink_put_endpoint(L->w, &s->server);
    SB_LIT(L->w, " helo=");
    if (s->helo[0])
        sink_put_name(L->w, s->helo, sizeof(s->helo));
    else
        sb_putc(L->w, '-');
    SB_LIT(L->w, " tls=");
    sb_puts(L->w, smtp_tls_name(s->tls));
    sb_putc(L->w, ' ');
    live_class_counts(L, s, " ");
    live_num(L, " mails=", s->transactions);
    live_num(L, " notices=", (uint64_t)s->notices + s->notices_dropped);
    SB_LIT(L->w, " end=");
    sb_puts(L->w, smtp_end_reason_name(s->end_reason));
    sb_putc(L->w, ' ');
    sink_put_duration(L->w, &s->start, live_end_time(L, s));
    live_uncolor(L, color);
    sb_putc(L->w, '\n');
}

static void live_end_line(struct out_live *L, const struct smtp_session_info *s)
{
    live_prefix(L, live_end_time(L, s), s->id, "--");
    SB_LIT(L->w, "end ");
    sb_puts(L->w, smtp_end_reason_name(s->end_reason));
    if (s->midstream)
        SB_LIT(L->w, ", picked up midstream");
    SB_LIT(L->w, ", tls ");
    sb_puts(L->w, smtp_tls_name(s->tls));
    live_num(L, ", ", s->commands);
    SB_LIT(L->w, " commands, replies ");
    live_class_counts(L, s, " ");
    live_num(L, ", mails ", s->transactions);
    live_num(L, ", notices ", (uint64_t)s->notices + s->notices_dropped);
    live_num(L, ", bytes c:", s->bytes[SMTP_DIR_CLIENT]);
    live_num(L, " s:", s->bytes[SMTP_DIR_SERVER]);
    SB_LIT(L->w, ", ");
    sink_put_duration(L->w, &s->start, live_end_time(L, s));
    sb_putc(L->w, '\n');
}

static void live_session_end(void *ctx, const struct smtp_session_info *s)
{
    struct out_live *L = ctx;
    live_note_ts(L, &s->end);
    bool failed = live_session_failed(s);
    struct live_held **pp = L->o.errors_only && !L->o.quiet ? live_held_slot(L, s->id) : NULL;
    if (pp && *pp)
        failed |= (*pp)->failed;
    if (L->o.quiet)
        live_quiet_line(L, s);
    else
        live_end_line(L, s);
    if (L->o.errors_only) { /* the end line is in grp: the session's lines go out before it */
        if (failed) {
            if (pp && *pp)
                live_held_emit(L, *pp);
            sb_put(&L->out, L->grp.p, L->grp.len);
        }
        sb_reset(&L->grp);
    }
    if (pp && *pp)
        live_held_drop(L, pp);
    live_write(L, false);
}

struct smtp_sink *out_live_new(const struct out_live_opts *o)
{
    struct out_live *L = xcalloc(1, sizeof(*L));
    L->o = *o;
    sb_init(&L->grp, LIVE_GROUP_MAX);
    L->w = o->errors_only ? &L->grp : &L->out;
    sb_init(&L->out, LIVE_OUT_MAX);
    sb_init(&L->field, LIVE_FIELD_MAX);
    L->sink = (struct smtp_sink){.ctx = L,
                                 .session_start = live_session_start,
                                 .exchange = live_exchange,
                                 .transaction = live_transaction,
                                 .notice = live_notice,
                                 .session_end = live_session_end};
    return &L->sink;
}

/* Sessions still open under --errors: print the failed ones (the capture was cut short). */
static void live_held_flush_all(struct out_live *L)
{
    for (unsigned b = 0; b < LIVE_BUCKETS; b++) {
        while (L->held[b]) {
            if (L->held[b]->failed)
                live_held_emit(L, L->held[b]);
            live_held_drop(L, &L->held[b]);
            live_write(L, false);
        }
    }
}

void out_live_free(struct smtp_sink *s)
{
    if (s == NULL)
        return;
    struct out_live *L = s->ctx;
    live_held_flush_all(L);
    live_write(L, true);
    sb_free(&L->grp);
    sb_free(&L->out);
    sb_free(&L->field);
    sink_annot_free(&L->annot);
    free(L);
}
