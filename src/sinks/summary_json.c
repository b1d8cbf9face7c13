/* summary_json.c - the summary as pretty-printed JSON, keys in a fixed order (docs/summary.md). */
#include <stdlib.h>
#include <string.h>

#include "sinks/sink_fmt.h"
#include "smtpsniff/reply.h"
#include "sinks/summary_state.h"

#define SM_SCHEMA 1

/* A JSON writer with 2-space indentation: `empty` says whether the open container has no member yet. */
struct jw {
    struct strbuf *sb;
    unsigned depth;
    bool empty;
};

static void jw_sep(struct jw *j)
{
    if (j->depth == 0)
        return;
    if (!j->empty)
        sb_putc(j->sb, ',');
    sb_putc(j->sb, '\n');
    for (unsigned i = 0; i < j->depth; i++)
        sb_puts(j->sb, "  ");
    j->empty = false;
}

static void jw_key(struct jw *j, const char *k)
{
    jw_sep(j);
    if (k) {
        sb_json_cstr(j->sb, k);
        sb_puts(j->sb, ": ");
    }
}

static void jw_open(struct jw *j, const char *k, char c)
{
    jw_key(j, k);
    sb_putc(j->sb, c);
    j->depth++;
    j->empty = true;
}

static void jw_close(struct jw *j, char c)
{
    j->depth--;
    if (!j->empty) {
        sb_putc(j->sb, '\n');
        for (unsigned i = 0; i < j->depth; i++)
            sb_puts(j->sb, "  ");
    }
    sb_putc(j->sb, c);
    j->empty = false;
}

static void jw_u64(struct jw *j, const char *k, uint64_t v)
{
    jw_key(j, k);
    sb_u64(j->sb, v);
}

static void jw_int(struct jw *j, const char *k, int64_t v)
{
    jw_key(j, k);
    sb_i64(j->sb, v);
}

static void jw_bool(struct jw *j, const char *k, bool v)
{
    jw_key(j, k);
    sb_puts(j->sb, v ? "true" : "false");
}

/* A static string of ours, or NULL for null. */
static void jw_str(struct jw *j, const char *k, const char *v)
{
    jw_key(j, k);
    sb_json_cstr(j->sb, v);
}

/* A name stored in a fixed array (bytes as the core kept them). */
static void jw_name(struct jw *j, const char *k, const char *v, size_t max)
{
    jw_key(j, k);
    sb_json_str(j->sb, (const uint8_t *)v, strnlen(v, max));
}

/* null when there is no time (`have` false: no packet read) or RFC 3339 cannot write it; a
 * packet at exactly 1970-01-01T00:00:00Z still has its time. */
static void jw_time(struct jw *j, const char *k, const struct timeval *tv, bool have)
{
    jw_key(j, k);
    if (!have) {
        sb_puts(j->sb, "null");
        return;
    }
    sb_json_time(j->sb, tv);
}

/* ---- sections ---- */

static void sm_json_pcap(struct jw *j, const struct capture_stats *cs)
{
    if (!cs->live) {
        jw_key(j, "pcap_stats");
        sb_puts(j->sb, "null");
        return;
    }
    jw_open(j, "pcap_stats", '{');
    jw_u64(j, "received", cs->ps_recv);
    jw_u64(j, "dropped", cs->ps_drop);
    jw_u64(j, "if_dropped", cs->ps_ifdrop);
    jw_close(j, '}');
}

static void sm_json_capture(struct jw *j, const struct capture_stats *cs)
{
    static const struct capture_stats none;
    if (cs == NULL)
        cs = &none;
    jw_open(j, "capture", '{');
    jw_open(j, "sources", '[');
    for (unsigned i = 0; i < cs->nsources && cs->sources; i++)
        jw_str(j, NULL, cs->sources[i] ? cs->sources[i] : "");
    jw_close(j, ']');
    jw_bool(j, "live", cs->live);
    jw_u64(j, "packets", cs->packets);
    jw_u64(j, "bytes", cs->bytes);
    jw_time(j, "first", &cs->first, cs->packets > 0);
    jw_time(j, "last", &cs->last, cs->packets > 0);
    long long us;
    jw_key(j, "duration_s");
    if (sink_duration_us(&cs->first, &cs->last, &us))
        sb_printf(j->sb, "%.6f", (double)us / 1e6);
    else
        sb_puts(j->sb, "null");
    sm_json_pcap(j, cs);
    jw_open(j, "skipped", '{');
#define SM_JSON_SKIPPED(field, name, label, lost) jw_u64(j, name, cs->skipped.field);
    CAPTURE_COUNTER_LIST(SM_JSON_SKIPPED)
#undef SM_JSON_SKIPPED
    jw_close(j, '}');
    jw_close(j, '}');
}

static void sm_json_reasm(struct jw *j, const struct reasm_stats *st)
{
    jw_open(j, "reassembly", '{');
#define SM_JSON_REASM(field, name, label, lost) jw_u64(j, name, st->field);
    REASM_COUNTER_LIST(SM_JSON_REASM)
#undef SM_JSON_REASM
    jw_close(j, '}');
}

static void sm_json_sessions(struct jw *j, const struct summary *sm)
{
    jw_open(j, "sessions", '{');
    jw_u64(j, "total", sm->sessions);
    jw_u64(j, "ended", sm->ended);
    jw_u64(j, "open", sm->sessions > sm->ended ? sm->sessions - sm->ended : 0);
    jw_open(j, "by_end_reason", '{');
    for (int r = 0; r < SMTP_END_COUNT; r++)
        jw_u64(j, smtp_end_reason_name((enum smtp_end_reason)r), sm->by_end[r]);
    jw_close(j, '}');
    jw_open(j, "by_tls", '{');
    for (int t = 0; t < SMTP_TLS_COUNT; t++)
        jw_u64(j, smtp_tls_name((enum smtp_tls)t), sm->by_tls[t]);
    jw_close(j, '}');
    jw_open(j, "bytes", '{');
    jw_u64(j, "client", sm->bytes[SMTP_DIR_CLIENT]);
    jw_u64(j, "server", sm->bytes[SMTP_DIR_SERVER]);
    jw_close(j, '}');
    jw_close(j, '}');
}

static void sm_json_by_code(struct jw *j, const struct summary *sm)
{
    jw_open(j, "by_code", '{');
    for (int c = 0; c < SM_CODES; c++) {
        if (sm->by_code[c] == 0)
            continue;
        const struct reply_entry *e = reply_lookup(c);
        char key[4] = {(char)('0' + c / 100), (char)('0' + c / 10 % 10), (char)('0' + c % 10), '\0'};
        jw_open(j, key, '{');
        jw_u64(j, "count", sm->by_code[c]);
        jw_str(j, "class", reply_class_label(c));
        jw_str(j, "class_name", reply_class_name(c));
        jw_str(j, "name", e->name);
        jw_str(j, "meaning", e->meaning);
        jw_bool(j, "listed", e->listed);
        jw_close(j, '}');
    }
    jw_close(j, '}');
    jw_u64(j, "code_other", sm->code_other);
}

static void sm_json_enhanced(struct jw *j, const struct summary *sm)
{
    size_t n;
    const struct sm_entry **v = sm_table_sorted(&sm->enhanced, sm_cmp_key, &n);
    jw_open(j, "by_enhanced", '{');
    for (size_t i = 0; i < n; i++) {
        struct smtp_enhanced c = sm_enhanced_unpack(v[i]->code);
        const struct enhanced_entry *e = enhanced_lookup(c.subject, c.detail);
        jw_open(j, v[i]->key, '{');
        jw_u64(j, "count", v[i]->v[0]);
        jw_str(j, "name", e ? e->name : NULL);
        jw_close(j, '}');
    }
    jw_close(j, '}');
    jw_u64(j, "enhanced_other", sm->enhanced.other[0]);
    free(v);
}

static void sm_json_replies(struct jw *j, const struct summary *sm)
{
    static const char *const label[6] = {"invalid", NULL, "2xx", "3xx", "4xx", "5xx"};
    jw_open(j, "replies", '{');
    jw_u64(j, "total", sm->replies);
    jw_open(j, "by_class", '{');
    for (int c = 2; c <= 5; c++)
        jw_u64(j, label[c], sm->by_class[c]);
    jw_u64(j, label[0], sm->by_class[0]);
    jw_close(j, '}');
    sm_json_by_code(j, sm);
    sm_json_enhanced(j, sm);
    jw_close(j, '}');
}

/* Known verbs by name in table order; unknown verbs (escaped) in their own bounded table. */
static void sm_json_commands(struct jw *j, const struct summary *sm)
{
    jw_open(j, "commands", '{');
    jw_u64(j, "total", sm->commands);
    jw_open(j, "by_verb", '{');
    for (int v = 0; v < SMTP_VERB_COUNT; v++)
        if (v != SMTP_VERB_UNKNOWN && sm->by_verb[v])
            jw_u64(j, smtp_verb_name((enum smtp_verb)v), sm->by_verb[v]);
    jw_close(j, '}');
    size_t n;
    uint64_t total = sm->unknown_verbs.other[0];
    const struct sm_entry **u = sm_table_sorted(&sm->unknown_verbs, sm_cmp_key, &n);
    for (size_t i = 0; i < n; i++)
        total += u[i]->v[0];
    jw_open(j, "unknown", '{');
    jw_u64(j, "total", total);
    jw_open(j, "by_verb", '{');
    for (size_t i = 0; i < n; i++)
        jw_u64(j, u[i]->key, u[i]->v[0]);
    jw_close(j, '}');
    jw_u64(j, "other", sm->unknown_verbs.other[0]);
    jw_close(j, '}');
    jw_close(j, '}');
    free(u);
}

static void sm_json_transactions(struct jw *j, const struct summary *sm)
{
    jw_open(j, "transactions", '{');
    jw_u64(j, "total", sm->txns);
    jw_open(j, "by_status", '{');
    for (int st = 0; st < SMTP_TXN_COUNT; st++)
        jw_u64(j, smtp_txn_status_name((enum smtp_txn_status)st), sm->by_status[st]);
    jw_close(j, '}');
    jw_open(j, "recipients", '{');
    jw_u64(j, "accepted", sm->rcpt_ok);
    jw_u64(j, "rejected", sm->rcpt_bad);
    jw_u64(j, "no_reply", sm->rcpt_none);
    jw_u64(j, "not_kept", sm->rcpt_dropped);
    jw_close(j, '}');
    jw_u64(j, "messages", sm->messages);
    jw_u64(j, "message_bytes", sm->message_bytes);
    jw_close(j, '}');
}

/* --files / --extract only: a summary without them is unchanged. */
static void sm_json_content(struct jw *j, const struct summary *sm)
{
    const struct sm_content *c = &sm->content;
    if (c->messages == 0)
        return;
    jw_open(j, "content", '{');
    jw_u64(j, "messages", c->messages);
    jw_u64(j, "partial", c->partial);
    jw_u64(j, "mime_errors", c->mime_errors);
    jw_u64(j, "parts", c->parts);
    jw_u64(j, "type_mismatches", c->mismatches);
    size_t n;
    const struct sm_entry **v = sm_table_sorted(&c->types, sm_cmp_v0_desc, &n);
    jw_open(j, "by_sniffed_type", '[');
    for (size_t i = 0; i < n; i++) {
        jw_open(j, NULL, '{');
        jw_name(j, "type", v[i]->key, SM_KEY);
        jw_u64(j, "parts", v[i]->v[0]);
        jw_u64(j, "declared_otherwise", v[i]->v[1]);
        jw_close(j, '}');
    }
    jw_close(j, ']');
    free(v);
    v = sm_table_sorted(&c->files, sm_cmp_v0_desc, &n);
    jw_u64(j, "distinct_files", c->files.n + (c->files.other[0] ? 1 : 0));
    jw_open(j, "top_files", '[');
    for (size_t i = 0; i < n && i < SM_TOP; i++) {
        jw_open(j, NULL, '{');
        jw_str(j, "sha256", v[i]->key);
        jw_u64(j, "seen", v[i]->v[0]);
        jw_u64(j, "size", v[i]->v[0] ? v[i]->v[1] / v[i]->v[0] : 0);
        const char *name = sm_file_name(sm, v[i]->key);
        if (name[0])
            jw_name(j, "name", name, SMTP_MAX_NAME);
        else
            jw_str(j, "name", NULL);
        jw_close(j, '}');
    }
    jw_close(j, ']');
    free(v);
    jw_close(j, '}');
}

static void sm_result_key(char key[8], int code)
{
    if (code <= 0 || code > 999) {
        memcpy(key, "none", 5);
        return;
    }
    key[0] = (char)('0' + code / 100);
    key[1] = (char)('0' + code / 10 % 10);
    key[2] = (char)('0' + code % 10);
    key[3] = '\0';
}

/* The (mechanism, result) table, sorted by mechanism then code, grouped by mechanism. */
static void sm_json_auth_mechs(struct jw *j, const struct sm_entry *const *v, size_t n)
{
    jw_open(j, "by_mechanism", '{');
    for (size_t i = 0; i < n;) {
        size_t k = i;
        uint64_t total = 0;
        while (k < n && strcmp(v[k]->key, v[i]->key) == 0)
            total += v[k++]->v[0];
        jw_open(j, v[i]->key, '{');
        jw_u64(j, "total", total);
        jw_open(j, "by_result", '{');
        for (; i < k; i++) {
            char key[8];
            sm_result_key(key, v[i]->code);
            jw_u64(j, key, v[i]->v[0]);
        }
        jw_close(j, '}');
        jw_close(j, '}');
    }
    jw_close(j, '}');
}

static void sm_json_auth(struct jw *j, const struct summary *sm)
{
    size_t n;
    const struct sm_entry **v = sm_table_sorted(&sm->auth, sm_cmp_key, &n);
    struct sm_auth_outcomes o = sm_auth_tally(v, n);
    jw_open(j, "auth", '{');
    jw_u64(j, "sessions", sm->auth_sessions);
    jw_u64(j, "succeeded", o.succeeded);
    jw_u64(j, "failed", o.failed);
    jw_u64(j, "unfinished", o.unfinished);
    sm_json_auth_mechs(j, v, n);
    jw_u64(j, "other", sm->auth.other[0]);
    jw_close(j, '}');
    free(v);
}

static void sm_json_notices(struct jw *j, const struct summary *sm)
{
    jw_open(j, "notices", '{');
    jw_u64(j, "total", sm->notices);
    jw_u64(j, "dropped", sm->notices_dropped);
    jw_open(j, "by_type", '{');
    for (int i = 0; i < SMTP_NOTICE_COUNT; i++) {
        if (sm->by_notice[i] == 0)
            continue;
        enum smtp_notice_id id = (enum smtp_notice_id)i;
        jw_open(j, smtp_notice_name(id), '{');
        jw_u64(j, "count", sm->by_notice[i]);
        jw_str(j, "severity", smtp_severity_name(smtp_notice_severity(id)));
        jw_str(j, "description", smtp_notice_description(id));
        jw_close(j, '}');
    }
    jw_close(j, '}');
    jw_close(j, '}');
}

static void sm_json_top(struct jw *j, const char *k, const struct sm_entry *const *v, size_t n)
{
    jw_open(j, k, '[');
    for (size_t i = 0; i < n && i < SM_TOP; i++) {
        jw_open(j, NULL, '{');
        jw_name(j, "ip", v[i]->key, sizeof(v[i]->key));
        jw_u64(j, "sessions", v[i]->v[0]);
        jw_u64(j, "failures", v[i]->v[1]);
        jw_close(j, '}');
    }
    jw_close(j, ']');
}

static void sm_json_hosts(struct jw *j, const char *k, const struct sm_table *t)
{
    size_t n;
    const struct sm_entry **v = sm_table_sorted(t, sm_cmp_v0_desc, &n);
    jw_open(j, k, '{');
    jw_u64(j, "distinct", t->n);
    jw_open(j, "other", '{');
    jw_u64(j, "sessions", t->other[0]);
    jw_u64(j, "failures", t->other[1]);
    jw_close(j, '}');
    sm_json_top(j, "top_by_sessions", v, n);
    if (n)
        qsort(v, n, sizeof(*v), sm_cmp_v1_desc);
    while (n && v[n - 1]->v[1] == 0)
        n--; /* an address with no failure is not a top failer */
    sm_json_top(j, "top_by_failures", v, n);
    jw_close(j, '}');
    free(v);
}

static void sm_json_fail(struct jw *j, const struct sm_fail *f)
{
    jw_open(j, NULL, '{');
    jw_u64(j, "session", f->session);
    jw_time(j, "time", &f->ts, true);
    jw_name(j, "client", f->client, sizeof(f->client));
    jw_name(j, "server", f->server, sizeof(f->server));
    jw_name(j, "sender", f->sender, sizeof(f->sender));
    jw_name(j, "recipient", f->rcpt, sizeof(f->rcpt));
    jw_str(j, "stage", smtp_verb_name(f->stage));
    jw_int(j, "code", f->code);
    jw_name(j, "enhanced", f->enhanced, sizeof(f->enhanced));
    jw_str(j, "class", reply_class_label(f->code));
    jw_str(j, "meaning", sink_reply_meaning(f->context, f->code));
    jw_name(j, "text", f->text, sizeof(f->text));
    jw_close(j, '}');
}

static void sm_json_fails(struct jw *j, const struct summary *sm)
{
    jw_open(j, "failed_deliveries", '{');
    jw_u64(j, "total", sm->fails_total);
    jw_u64(j, "kept", sm->nfail);
    jw_u64(j, "not_kept", sm->fails_total - sm->nfail);
    jw_open(j, "rows", '[');
    for (size_t i = 0; i < sm->nfail; i++)
        sm_json_fail(j, &sm->fail[i]);
    jw_close(j, ']');
    jw_close(j, '}');
}

void summary_json(const struct summary *sm, const struct capture_stats *cs, struct strbuf *sb)
{
    struct jw j = {.sb = sb, .depth = 0, .empty = true};
    jw_open(&j, NULL, '{');
    jw_u64(&j, "schema", SM_SCHEMA);
    sm_json_capture(&j, cs);
    sm_json_reasm(&j, &sm->reasm);
    sm_json_sessions(&j, sm);
    sm_json_replies(&j, sm);
    sm_json_commands(&j, sm);
    sm_json_transactions(&j, sm);
    sm_json_content(&j, sm);
    sm_json_auth(&j, sm);
    sm_json_notices(&j, sm);
    sm_json_hosts(&j, "servers", &sm->servers);
    sm_json_hosts(&j, "clients", &sm->clients);
    sm_json_fails(&j, sm);
    jw_close(&j, '}');
    sb_putc(sb, '\n');
}
