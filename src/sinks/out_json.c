/* out_json.c - JSON Lines sink (contract version 1, docs/json.md): one object per exchange,
 * transaction, notice and session, in the JSON writer's compact layout (lib/json.h). Reads
 * records; never parses wire bytes. */
#include <stdlib.h>
#include <string.h>

#include "sinks/sink_fmt.h"
#include "sinks/sinks.h"
#include "smtpsniff/reply.h"
#include "lib/json.h"
#include "lib/strbuf.h"
#include "lib/xalloc.h"

#define OUT_JSON_MAX_RECORD (1u << 20)
/* Records are written in batches of about this many bytes (each one at once when flush_each). */
#define OUT_JSON_BATCH (64u * 1024)
/* Sessions whose "session", "client" and "server" members are kept rendered (direct-mapped by
 * id: a slot serves one session at a time, which covers the usual few hundred open at once). */
#define OUT_JSON_PREFIX_SLOTS 1024

/* The rendered members of the sessions open now, by slot. The keys sit apart from the text, so
 * finding a slot reads one small line, and the text is two lines: an IPv4 session's members fit
 * (ids below 10^10); longer ones (IPv6) are rendered each time. */
#define PREFIX_TEXT 128
struct session_prefixes {
    const struct smtp_session_info *s[OUT_JSON_PREFIX_SLOTS]; /* rendered for this session, or NULL */
    uint64_t id[OUT_JSON_PREFIX_SLOTS];
    uint8_t len[OUT_JSON_PREFIX_SLOTS];
    char text[OUT_JSON_PREFIX_SLOTS][PREFIX_TEXT] __attribute__((aligned(64)));
};

struct out_json {
    struct smtp_sink sink;
    struct out_json_opts o;
    struct strbuf sb;
    struct sink_annot_cache annot;
    struct session_prefixes prefix;
};

/* Members with a literal key, in the JSON writer's compact layout (lib/json.h). */
#define KEY(sb, k) JSON_KEY(sb, k)
#define KV_STR(sb, k, v) (JSON_KEY(sb, k), json_cstr((sb), (v)))
#define KV_U64(sb, k, v) (JSON_KEY(sb, k), json_u64((sb), (v)))
#define KV_TIME(sb, k, tv) (JSON_KEY(sb, k), json_time((sb), (tv)))

static void session_members_render(struct strbuf *sb, const struct smtp_session_info *s)
{
    SB_LIT(sb, ",\"session\":");
    sb_u64(sb, s->id);
    KEY(sb, "client");
    content_json_endpoint(sb, &s->client);
    KEY(sb, "server");
    content_json_endpoint(sb, &s->server);
}

/* ,"session":N,"client":{...},"server":{...}: the same in every record of a session, so it is
 * rendered once per session (it was ~6% of a run, most of it number and address formatting). */
static void session_members(struct out_json *j, const struct smtp_session_info *s)
{
    struct session_prefixes *c = &j->prefix;
    struct strbuf *sb = &j->sb;
    size_t k = s->id % OUT_JSON_PREFIX_SLOTS;
    if (c->s[k] != s || c->id[k] != s->id) {
        char tmp[PREFIX_TEXT + 1];
        struct strbuf t = {.p = tmp, .cap = sizeof(tmp), .max = sizeof(tmp) - 1};
        session_members_render(&t, s);
        if (t.truncated) { /* too long to keep: render it in place */
            c->s[k] = NULL;
            session_members_render(sb, s);
            return;
        }
        memcpy(c->text[k], tmp, t.len);
        c->s[k] = s;
        c->id[k] = s->id;
        c->len[k] = (uint8_t)t.len;
    }
    if (sb->len + PREFIX_TEXT < sb->cap) { /* 32-byte pieces of known size, no call */
        for (size_t i = 0; i < c->len[k]; i += 32)
            memcpy(sb->p + sb->len + i, c->text[k] + i, 32);
        sb->len += c->len[k];
        sb->p[sb->len] = '\0';
    } else {
        sb_put(sb, c->text[k], c->len[k]);
    }
}

#define RECORD_BEGIN(j, type, ts, s)                                                              \
    (SB_LIT(&(j)->sb, "{\"type\":\"" type "\",\"ts\":"), sb_json_time(&(j)->sb, (ts)),                \
     session_members((j), (s)))

static void json_flush(struct out_json *j)
{
    sb_flush(&j->sb, j->o.out);
    if (j->o.flush_each)
        fflush(j->o.out);
}

static void record_end(struct out_json *j)
{
    SB_LIT(&j->sb, "}\n");
    if (j->o.flush_each || j->sb.len >= OUT_JSON_BATCH)
        json_flush(j);
}

static void annot_render(struct strbuf *sb, int code, const char *context)
{
    const struct reply_entry *e = reply_lookup(code);
    KV_STR(sb, "class", reply_class_label(code));
    KV_STR(sb, "class_name", reply_class_name(code));
    KV_STR(sb, "name", e->name);
    KEY(sb, "meaning");
    json_str(sb, (const uint8_t *)e->meaning, reply_meaning_line_len(e));
    KV_STR(sb, "context", context);
    KEY(sb, "listed");
    json_bool(sb, e->listed);
}

/* ,"answers":"NAME": the names are fixed ASCII words, written as they are (no escaping pass). */
static void answers_put(struct strbuf *sb, enum smtp_answer a)
{
    SB_LIT(sb, ",\"answers\":\"");
    sb_puts(sb, smtp_answer_name(a));
    sb_putc(sb, '"');
}

static void reply_obj(struct out_json *j, const struct smtp_exchange *x)
{
    const struct smtp_reply *r = x->reply;
    struct strbuf *sb = &j->sb;
    SB_LIT(sb, "{\"code\":");
    sb_u64(sb, (uint64_t)r->code);
    KEY(sb, "enhanced");
    json_cstr_or_null(sb, r->enhanced);
    KEY(sb, "lines");
    sb_putc(sb, '[');
    for (unsigned i = 0; i < r->nlines; i++) {
        if (i)
            sb_putc(sb, ',');
        json_str(sb, r->line[i].p, r->line[i].len);
    }
    sb_putc(sb, ']');
    if (r->lines_dropped) {
        KEY(sb, "lines_dropped");
        sb_u64(sb, r->lines_dropped);
    }
    sink_annot_put(&j->annot, sb, r->code, x, annot_render);
    answers_put(sb, x->answers);
    if (r->challenge[0]) {
        KEY(sb, "challenge");
        json_cstr(sb, r->challenge);
    }
    KV_TIME(sb, "ts", &r->ts);
    sb_putc(sb, '}');
}

static void on_exchange(void *ctx, const struct smtp_session_info *s, const struct smtp_exchange *x)
{
    struct out_json *j = ctx;
    struct strbuf *sb = &j->sb;
    RECORD_BEGIN(j, "exchange", x->cmd ? &x->cmd->ts : &x->reply->ts, s);
    KEY(sb, "command");
    if (x->cmd) {
        SB_LIT(sb, "{\"verb\":");
        json_str(sb, (const uint8_t *)x->cmd->verb, x->cmd->verb_len);
        SB_LIT(sb, ",\"arg\":");
        json_str(sb, x->cmd->arg.p, x->cmd->arg.len);
        if (x->cmd->arg_redacted)
            SB_LIT(sb, ",\"redacted\":true");
        sb_putc(sb, '}');
    } else {
        json_null(sb);
    }
    KEY(sb, "reply");
    if (x->reply)
        reply_obj(j, x);
    else
        json_null(sb);
    if (x->resync) /* 1.3: paired while the core resynchronised */
        SB_LIT(sb, ",\"resync\":true");
    record_end(j);
}

static void str_list(struct strbuf *sb, const char (*v)[SMTP_MAX_NAME], unsigned n)
{
    sb_putc(sb, '[');
    for (unsigned i = 0; i < n; i++) {
        if (i)
            sb_putc(sb, ',');
        json_cstr(sb, v[i]);
    }
    sb_putc(sb, ']');
}

/* The keys are the field names of SMTP_HEADER_LIST (smtp.h), in its order. */
static void message_obj(struct strbuf *sb, const struct smtp_message_info *m)
{
    SB_LIT(sb, "{\"size\":");
    sb_u64(sb, m->size);
#define JSON_ONE(f, hdr, dec) (KEY(sb, #f), json_cstr_or_null(sb, m->f));
#define JSON_ALSO(f, hdr, dec)
#define JSON_MANY(f, hdr, mx) (KEY(sb, #f), str_list(sb, m->f, m->n##f));
    SMTP_HEADER_LIST(JSON_ONE, JSON_ALSO, JSON_MANY)
#undef JSON_ONE
#undef JSON_ALSO
#undef JSON_MANY
    if (m->missing) /* 1.3: bytes missing from the capture, counted in size */
        KV_U64(sb, "missing", m->missing);
    if (m->start_missing)
        SB_LIT(sb, ",\"start_missing\":true");
    sb_putc(sb, '}');
}

static void on_transaction(void *ctx, const struct smtp_session_info *s, const struct smtp_transaction *t)
{
    struct out_json *j = ctx;
    struct strbuf *sb = &j->sb;
    RECORD_BEGIN(j, "transaction", &t->ts, s);
    KV_U64(sb, "depth", t->depth);
    KEY(sb, "helo");
    json_cstr_or_null(sb, t->helo);
    KEY(sb, "mail_from");
    if (t->have_mail_from)
        json_cstr(sb, t->mail_from);
    else
        json_null(sb);
    KEY(sb, "mail_params");
    content_json_params(sb, &t->mail_params);
    KEY(sb, "rcpt_to");
    content_json_rcpts(sb, t, true);
    if (t->rcpts_dropped) {
        KEY(sb, "rcpts_dropped");
        sb_u64(sb, t->rcpts_dropped);
    }
    KEY(sb, "data_reply");
    content_json_data_reply(sb, t);
    KEY(sb, "message");
    if (t->have_message)
        message_obj(sb, &t->message);
    else
        json_null(sb);
    KV_STR(sb, "status", smtp_txn_status_name(t->status));
    KEY(sb, "rejected_at");
    if (t->status == SMTP_TXN_REJECTED || t->status == SMTP_TXN_ABORTED)
        json_cstr(sb, smtp_verb_name(t->rejected_at));
    else
        json_null(sb);
    if (t->content) { /* --files: what the content stage found (docs/json.md, version 1.1) */
        SB_LIT(sb, ",\"content\":{");
        content_json_message(sb, t->content);
        SB_LIT(sb, "},\"parts\":");
        content_json_parts(sb, t->content, NULL);
    }
    record_end(j);
}

static void on_notice(void *ctx, const struct smtp_session_info *s, const struct smtp_notice *n)
{
    struct out_json *j = ctx;
    struct strbuf *sb = &j->sb;
    RECORD_BEGIN(j, "notice", &n->ts, s);
    KV_STR(sb, "notice", smtp_notice_name(n->id));
    KV_STR(sb, "severity", smtp_severity_name(smtp_notice_severity(n->id)));
    KV_STR(sb, "direction", n->dir == SMTP_DIR_CLIENT ? "client" : "server");
    KV_STR(sb, "detail", n->detail);
    record_end(j);
}

/* Why a session shows no SMTP, from its counters (a sink reads, never parses): nothing was sent,
 * TLS from the first byte, or bytes that framed no command and no reply. NULL when some SMTP was
 * read. */
static const char *session_unparsed(const struct smtp_session_info *s)
{
    unsigned replies = 0;
    for (int c = 2; c <= 5; c++)
        replies += s->replies_by_class[c];
    if (s->commands || replies)
        return NULL;
    if (s->bytes[SMTP_DIR_CLIENT] == 0 && s->bytes[SMTP_DIR_SERVER] == 0)
        return "no payload";
    if (s->tls == SMTP_TLS_IMPLICIT)
        return "TLS";
    return "not SMTP";
}

static void on_session_end(void *ctx, const struct smtp_session_info *s)
{
    struct out_json *j = ctx;
    struct strbuf *sb = &j->sb;
    RECORD_BEGIN(j, "session", &s->end, s);
    KV_TIME(sb, "start", &s->start);
    KV_TIME(sb, "end", &s->end);
    KV_STR(sb, "end_reason", smtp_end_reason_name(s->end_reason));
    KEY(sb, "midstream");
    json_bool(sb, s->midstream);
    KEY(sb, "unparsed");
    json_cstr_or_null(sb, session_unparsed(s));
    KV_STR(sb, "tls", smtp_tls_name(s->tls));
    KEY(sb, "sni");
    json_cstr_or_null(sb, s->sni);
    KEY(sb, "helo");
    json_cstr_or_null(sb, s->helo);
    KEY(sb, "extensions");
    sb_putc(sb, '[');
    const char *e = s->extensions;
    for (unsigned i = 0; i < s->nextensions; i++) {
        size_t n = strlen(e);
        if (i)
            sb_putc(sb, ',');
        json_str(sb, (const uint8_t *)e, n);
        e += n + 1;
    }
    sb_putc(sb, ']');
    KEY(sb, "auth");
    if (s->auth_seen) {
        SB_LIT(sb, "{\"mechanism\":");
        json_cstr(sb, s->auth.mechanism);
        KEY(sb, "user");
        json_cstr_or_null(sb, s->auth.user);
        KEY(sb, "result");
        if (s->auth.result)
            sb_u64(sb, (uint64_t)s->auth.result);
        else
            json_null(sb);
        sb_putc(sb, '}');
    } else {
        json_null(sb);
    }
    KEY(sb, "bytes");
    SB_LIT(sb, "{\"client\":");
    sb_u64(sb, s->bytes[SMTP_DIR_CLIENT]);
    SB_LIT(sb, ",\"server\":");
    sb_u64(sb, s->bytes[SMTP_DIR_SERVER]);
    sb_putc(sb, '}');
    KV_U64(sb, "commands", s->commands);
    KEY(sb, "replies");
    SB_LIT(sb, "{\"2xx\":");
    sb_u64(sb, s->replies_by_class[2]);
    SB_LIT(sb, ",\"3xx\":");
    sb_u64(sb, s->replies_by_class[3]);
    SB_LIT(sb, ",\"4xx\":");
    sb_u64(sb, s->replies_by_class[4]);
    SB_LIT(sb, ",\"5xx\":");
    sb_u64(sb, s->replies_by_class[5]);
    sb_putc(sb, '}');
    KV_U64(sb, "transactions", s->transactions);
    KV_U64(sb, "notices", (uint64_t)s->notices + s->notices_dropped);
    record_end(j);
    j->prefix.s[s->id % OUT_JSON_PREFIX_SLOTS] = NULL; /* the session's last record */
}

struct smtp_sink *out_json_new(const struct out_json_opts *o)
{
    struct out_json *j = xcalloc(1, sizeof(*j));
    j->o = *o;
    sb_init(&j->sb, OUT_JSON_BATCH + OUT_JSON_MAX_RECORD);
    j->sink = (struct smtp_sink){.ctx = j,
                                 .exchange = on_exchange,
                                 .transaction = on_transaction,
                                 .notice = on_notice,
                                 .session_end = on_session_end};
    return &j->sink;
}

void out_json_free(struct smtp_sink *s)
{
    if (s == NULL)
        return;
    struct out_json *j = s->ctx;
    json_flush(j);
    sb_free(&j->sb);
    sink_annot_free(&j->annot);
    free(j);
}
