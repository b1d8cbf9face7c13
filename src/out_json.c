/* out_json.c - JSON Lines sink (contract version 1, docs/json.md): one object per exchange,
 * transaction, notice and session. Reads records; never parses wire bytes. */
#include <stdlib.h>
#include <string.h>

#include "sinks.h"
#include "smtpsniff/reply.h"
#include "strbuf.h"

#define OUT_JSON_MAX_RECORD (1u << 20)

struct out_json {
    struct smtp_sink sink;
    struct out_json_opts o;
    struct strbuf sb;
};

static void key(struct strbuf *sb, const char *k)
{
    sb_putc(sb, ',');
    sb_putc(sb, '"');
    sb_puts(sb, k);
    sb_puts(sb, "\":");
}

static void kv_str(struct strbuf *sb, const char *k, const char *v)
{
    key(sb, k);
    sb_json_cstr(sb, v);
}

static void kv_u64(struct strbuf *sb, const char *k, uint64_t v)
{
    key(sb, k);
    sb_u64(sb, v);
}

static void kv_time(struct strbuf *sb, const char *k, const struct timeval *tv)
{
    key(sb, k);
    sb_putc(sb, '"');
    sb_time_rfc3339(sb, tv);
    sb_putc(sb, '"');
}

static void endpoint(struct strbuf *sb, const char *k, const struct smtp_endpoint *e)
{
    key(sb, k);
    sb_puts(sb, "{\"ip\":");
    sb_json_cstr(sb, e->ip);
    sb_puts(sb, ",\"port\":");
    sb_u64(sb, e->port);
    sb_putc(sb, '}');
}

static void record_begin(struct strbuf *sb, const char *type, const struct timeval *ts,
                         const struct smtp_session_info *s)
{
    sb_puts(sb, "{\"type\":\"");
    sb_puts(sb, type);
    sb_puts(sb, "\",\"ts\":\"");
    sb_time_rfc3339(sb, ts);
    sb_puts(sb, "\",\"session\":");
    sb_u64(sb, s->id);
    endpoint(sb, "client", &s->client);
    endpoint(sb, "server", &s->server);
}

static void record_end(struct out_json *j)
{
    sb_puts(&j->sb, "}\n");
    sb_flush(&j->sb, j->o.out);
    if (j->o.flush_each)
        fflush(j->o.out);
}

static void str_or_null(struct strbuf *sb, const char *s)
{
    if (s && s[0])
        sb_json_cstr(sb, s);
    else
        sb_puts(sb, "null");
}

static void reply_obj(struct strbuf *sb, const struct smtp_reply *r, enum smtp_verb verb)
{
    const struct reply_entry *e = reply_lookup(r->code);
    sb_puts(sb, "{\"code\":");
    sb_u64(sb, (uint64_t)r->code);
    key(sb, "enhanced");
    str_or_null(sb, r->enhanced);
    key(sb, "lines");
    sb_putc(sb, '[');
    for (unsigned i = 0; i < r->nlines; i++) {
        if (i)
            sb_putc(sb, ',');
        sb_json_str(sb, r->line[i].p, r->line[i].len);
    }
    sb_putc(sb, ']');
    if (r->lines_dropped) {
        key(sb, "lines_dropped");
        sb_u64(sb, r->lines_dropped);
    }
    kv_str(sb, "class", reply_class_label(r->code));
    kv_str(sb, "class_name", reply_class_name(r->code));
    kv_str(sb, "name", e->name);
    kv_str(sb, "meaning", e->meaning);
    kv_str(sb, "context", reply_context_meaning(verb, r->code));
    key(sb, "listed");
    sb_puts(sb, e->listed ? "true" : "false");
    if (r->challenge[0]) {
        key(sb, "challenge");
        sb_json_cstr(sb, r->challenge);
    }
    kv_time(sb, "ts", &r->ts);
    sb_putc(sb, '}');
}

static void on_exchange(void *ctx, const struct smtp_session_info *s, const struct smtp_exchange *x)
{
    struct out_json *j = ctx;
    struct strbuf *sb = &j->sb;
    record_begin(sb, "exchange", x->cmd ? &x->cmd->ts : &x->reply->ts, s);
    key(sb, "command");
    if (x->cmd) {
        sb_puts(sb, "{\"verb\":");
        sb_json_str(sb, (const uint8_t *)x->cmd->verb, x->cmd->verb_len);
        sb_puts(sb, ",\"arg\":");
        sb_json_str(sb, x->cmd->arg.p, x->cmd->arg.len);
        if (x->cmd->arg_redacted)
            sb_puts(sb, ",\"redacted\":true");
        sb_putc(sb, '}');
    } else {
        sb_puts(sb, "null");
    }
    key(sb, "reply");
    if (x->reply)
        reply_obj(sb, x->reply, x->cmd ? x->cmd->id : SMTP_VERB_GREETING);
    else
        sb_puts(sb, "null");
    record_end(j);
}

static void params_obj(struct strbuf *sb, const struct smtp_params *ps)
{
    sb_putc(sb, '{');
    for (unsigned i = 0; i < ps->n; i++) {
        if (i)
            sb_putc(sb, ',');
        sb_json_cstr(sb, ps->p[i].key);
        sb_putc(sb, ':');
        sb_json_cstr(sb, ps->p[i].value);
    }
    sb_putc(sb, '}');
}

static void message_obj(struct strbuf *sb, const struct smtp_message_info *m)
{
    sb_puts(sb, "{\"size\":");
    sb_u64(sb, m->size);
    static const struct {
        const char *k;
        size_t off;
    } f[] = {
        {"date", offsetof(struct smtp_message_info, date)},
        {"from", offsetof(struct smtp_message_info, from)},
        {"to", offsetof(struct smtp_message_info, to)},
        {"cc", offsetof(struct smtp_message_info, cc)},
        {"reply_to", offsetof(struct smtp_message_info, reply_to)},
        {"message_id", offsetof(struct smtp_message_info, message_id)},
        {"in_reply_to", offsetof(struct smtp_message_info, in_reply_to)},
        {"subject", offsetof(struct smtp_message_info, subject)},
        {"user_agent", offsetof(struct smtp_message_info, user_agent)},
        {"x_originating_ip", offsetof(struct smtp_message_info, x_originating_ip)},
    };
    for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
        key(sb, f[i].k);
        str_or_null(sb, (const char *)m + f[i].off);
    }
    key(sb, "received");
    sb_putc(sb, '[');
    for (unsigned i = 0; i < m->nreceived; i++) {
        if (i)
            sb_putc(sb, ',');
        sb_json_cstr(sb, m->received[i]);
    }
    sb_puts(sb, "]}");
}

static void on_transaction(void *ctx, const struct smtp_session_info *s, const struct smtp_transaction *t)
{
    struct out_json *j = ctx;
    struct strbuf *sb = &j->sb;
    record_begin(sb, "transaction", &t->ts, s);
    kv_u64(sb, "depth", t->depth);
    key(sb, "helo");
    str_or_null(sb, t->helo);
    key(sb, "mail_from");
    if (t->have_mail_from)
        sb_json_cstr(sb, t->mail_from);
    else
        sb_puts(sb, "null");
    key(sb, "mail_params");
    params_obj(sb, &t->mail_params);
    key(sb, "rcpt_to");
    sb_putc(sb, '[');
    for (unsigned i = 0; i < t->nrcpt; i++) {
        sb_puts(sb, i ? ",{\"addr\":" : "{\"addr\":");
        sb_json_cstr(sb, t->rcpt[i].addr);
        sb_puts(sb, ",\"code\":");
        if (t->rcpt[i].code)
            sb_u64(sb, (uint64_t)t->rcpt[i].code);
        else
            sb_puts(sb, "null");
        key(sb, "enhanced");
        str_or_null(sb, t->rcpt[i].enhanced);
        key(sb, "params");
        params_obj(sb, &t->rcpt[i].params);
        sb_putc(sb, '}');
    }
    sb_putc(sb, ']');
    if (t->rcpts_dropped) {
        key(sb, "rcpts_dropped");
        sb_u64(sb, t->rcpts_dropped);
    }
    key(sb, "data_reply");
    if (t->have_data_reply) {
        sb_puts(sb, "{\"code\":");
        sb_u64(sb, (uint64_t)t->data_reply.code);
        key(sb, "enhanced");
        str_or_null(sb, t->data_reply.enhanced);
        key(sb, "text");
        sb_json_cstr(sb, t->data_reply.text);
        sb_putc(sb, '}');
    } else {
        sb_puts(sb, "null");
    }
    key(sb, "message");
    if (t->have_message)
        message_obj(sb, &t->message);
    else
        sb_puts(sb, "null");
    kv_str(sb, "status", smtp_txn_status_name(t->status));
    key(sb, "rejected_at");
    if (t->status == SMTP_TXN_REJECTED || t->status == SMTP_TXN_ABORTED)
        sb_json_cstr(sb, smtp_verb_name(t->rejected_at));
    else
        sb_puts(sb, "null");
    record_end(j);
}

static void on_notice(void *ctx, const struct smtp_session_info *s, const struct smtp_notice *n)
{
    struct out_json *j = ctx;
    struct strbuf *sb = &j->sb;
    record_begin(sb, "notice", &n->ts, s);
    kv_str(sb, "notice", smtp_notice_name(n->id));
    kv_str(sb, "severity", smtp_severity_name(smtp_notice_severity(n->id)));
    kv_str(sb, "direction", n->dir == SMTP_DIR_CLIENT ? "client" : "server");
    kv_str(sb, "detail", n->detail);
    record_end(j);
}

static void on_session_end(void *ctx, const struct smtp_session_info *s)
{
    struct out_json *j = ctx;
    struct strbuf *sb = &j->sb;
    record_begin(sb, "session", &s->end, s);
    kv_time(sb, "start", &s->start);
    kv_time(sb, "end", &s->end);
    kv_str(sb, "end_reason", smtp_end_reason_name(s->end_reason));
    kv_str(sb, "tls", smtp_tls_name(s->tls));
    key(sb, "sni");
    str_or_null(sb, s->sni);
    key(sb, "helo");
    str_or_null(sb, s->helo);
    key(sb, "extensions");
    sb_putc(sb, '[');
    for (unsigned i = 0; i < s->nextensions; i++) {
        if (i)
            sb_putc(sb, ',');
        sb_json_cstr(sb, s->extension[i]);
    }
    sb_putc(sb, ']');
    key(sb, "auth");
    if (s->auth_seen) {
        sb_puts(sb, "{\"mechanism\":");
        sb_json_cstr(sb, s->auth.mechanism);
        key(sb, "user");
        str_or_null(sb, s->auth.user);
        key(sb, "result");
        if (s->auth.result)
            sb_u64(sb, (uint64_t)s->auth.result);
        else
            sb_puts(sb, "null");
        sb_putc(sb, '}');
    } else {
        sb_puts(sb, "null");
    }
    key(sb, "bytes");
    sb_puts(sb, "{\"client\":");
    sb_u64(sb, s->bytes[SMTP_DIR_CLIENT]);
    sb_puts(sb, ",\"server\":");
    sb_u64(sb, s->bytes[SMTP_DIR_SERVER]);
    sb_putc(sb, '}');
    kv_u64(sb, "commands", s->commands);
    key(sb, "replies");
    sb_puts(sb, "{\"2xx\":");
    sb_u64(sb, s->replies_by_class[2]);
    sb_puts(sb, ",\"3xx\":");
    sb_u64(sb, s->replies_by_class[3]);
    sb_puts(sb, ",\"4xx\":");
    sb_u64(sb, s->replies_by_class[4]);
    sb_puts(sb, ",\"5xx\":");
    sb_u64(sb, s->replies_by_class[5]);
    sb_putc(sb, '}');
    kv_u64(sb, "transactions", s->transactions);
    kv_u64(sb, "notices", (uint64_t)s->notices + s->notices_dropped);
    record_end(j);
}

struct smtp_sink *out_json_new(const struct out_json_opts *o)
{
    struct out_json *j = calloc(1, sizeof(*j));
    if (j == NULL)
        abort();
    j->o = *o;
    sb_init(&j->sb, OUT_JSON_MAX_RECORD);
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
    sb_free(&j->sb);
    free(j);
}
