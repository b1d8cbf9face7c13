/* summary_json.c - the summary as pretty-printed JSON (the JSON writer's pretty layout, lib/json.h),
 * keys in a fixed order (docs/summary.md). */
#include <stdlib.h>
#include <string.h>

#include "sinks/sink_fmt.h"
#include "smtpsniff/reply.h"
#include "sinks/summary_state.h"
#include "lib/json.h"

#define SM_SCHEMA 1

/* ---- sections ---- */

static void sm_json_pcap(struct json_pretty *j, const struct capture_stats *cs)
{
    if (!cs->live) {
        jp_key(j, "pcap_stats");
        json_null(j->sb);
        return;
    }
    jp_open(j, "pcap_stats", '{');
    jp_u64(j, "received", cs->ps_recv);
    jp_u64(j, "dropped", cs->ps_drop);
    jp_u64(j, "if_dropped", cs->ps_ifdrop);
    jp_close(j, '}');
}

static void sm_json_capture(struct json_pretty *j, const struct capture_stats *cs, const char *input_error)
{
    static const struct capture_stats none;
    if (cs == NULL)
        cs = &none;
    jp_open(j, "capture", '{');
    jp_open(j, "sources", '[');
    for (unsigned i = 0; i < cs->nsources && cs->sources; i++)
        jp_str(j, NULL, cs->sources[i] ? cs->sources[i] : "");
    jp_close(j, ']');
    jp_bool(j, "live", cs->live);
    jp_u64(j, "packets", cs->packets);
    jp_u64(j, "bytes", cs->bytes);
    jp_time(j, "first", &cs->first, cs->packets > 0);
    jp_time(j, "last", &cs->last, cs->packets > 0);
    long long us;
    jp_key(j, "duration_s");
    if (sink_duration_us(&cs->first, &cs->last, &us))
        sb_printf(j->sb, "%.6f", (double)us / 1e6);
    else
        json_null(j->sb);
    sm_json_pcap(j, cs);
    jp_open(j, "skipped", '{');
#define SM_JSON_SKIPPED(field, name, label, lost) jp_u64(j, name, cs->skipped.field);
    CAPTURE_COUNTER_LIST(SM_JSON_SKIPPED)
#undef SM_JSON_SKIPPED
    jp_close(j, '}');
    if (input_error[0]) /* only then: a whole input's summary is as before */
        jp_str(j, "input_error", input_error);
    jp_close(j, '}');
}

static void sm_json_reasm(struct json_pretty *j, const struct reasm_stats *st)
{
    jp_open(j, "reassembly", '{');
#define SM_JSON_REASM(field, name, label, lost) jp_u64(j, name, st->field);
    REASM_COUNTER_LIST(SM_JSON_REASM)
#undef SM_JSON_REASM
    jp_close(j, '}');
}

static void sm_json_sessions(struct json_pretty *j, const struct summary *sm)
{
    jp_open(j, "sessions", '{');
    jp_u64(j, "total", sm->sessions);
    jp_u64(j, "ended", sm->ended);
    jp_u64(j, "open", sm->sessions > sm->ended ? sm->sessions - sm->ended : 0);
    jp_open(j, "by_end_reason", '{');
    for (int r = 0; r < SMTP_END_COUNT; r++)
        jp_u64(j, smtp_end_reason_name((enum smtp_end_reason)r), sm->by_end[r]);
    jp_close(j, '}');
    jp_open(j, "by_tls", '{');
    for (int t = 0; t < SMTP_TLS_COUNT; t++)
        jp_u64(j, smtp_tls_name((enum smtp_tls)t), sm->by_tls[t]);
    jp_close(j, '}');
    jp_open(j, "bytes", '{');
    jp_u64(j, "client", sm->bytes[SMTP_DIR_CLIENT]);
    jp_u64(j, "server", sm->bytes[SMTP_DIR_SERVER]);
    jp_close(j, '}');
    jp_close(j, '}');
}

static void sm_json_by_code(struct json_pretty *j, const struct summary *sm)
{
    jp_open(j, "by_code", '{');
    for (int c = 0; c < SM_CODES; c++) {
        if (sm->by_code[c] == 0)
            continue;
        const struct reply_entry *e = reply_lookup(c);
        char key[4] = {(char)('0' + c / 100), (char)('0' + c / 10 % 10), (char)('0' + c % 10), '\0'};
        jp_open(j, key, '{');
        jp_u64(j, "count", sm->by_code[c]);
        jp_str(j, "class", reply_class_label(c));
        jp_str(j, "class_name", reply_class_name(c));
        jp_str(j, "name", e->name);
        jp_str(j, "meaning", e->meaning);
        jp_bool(j, "listed", e->listed);
        jp_close(j, '}');
    }
    jp_close(j, '}');
    jp_u64(j, "code_other", sm->code_other);
}

static void sm_json_enhanced(struct json_pretty *j, const struct summary *sm)
{
    size_t n;
    const struct sm_entry **v = sm_table_sorted(&sm->enhanced, sm_cmp_key, &n);
    jp_open(j, "by_enhanced", '{');
    for (size_t i = 0; i < n; i++) {
        struct smtp_enhanced c = sm_enhanced_unpack(v[i]->code);
        const struct enhanced_entry *e = enhanced_lookup(c.subject, c.detail);
        jp_open(j, v[i]->key, '{');
        jp_u64(j, "count", v[i]->v[0]);
        jp_str(j, "name", e ? e->name : NULL);
        jp_close(j, '}');
    }
    jp_close(j, '}');
    jp_u64(j, "enhanced_other", sm->enhanced.other[0]);
    free(v);
}

static void sm_json_replies(struct json_pretty *j, const struct summary *sm)
{
    static const char *const label[6] = {"invalid", NULL, "2xx", "3xx", "4xx", "5xx"};
    jp_open(j, "replies", '{');
    jp_u64(j, "total", sm->replies);
    jp_open(j, "by_class", '{');
    for (int c = 2; c <= 5; c++)
        jp_u64(j, label[c], sm->by_class[c]);
    jp_u64(j, label[0], sm->by_class[0]);
    jp_close(j, '}');
    sm_json_by_code(j, sm);
    sm_json_enhanced(j, sm);
    jp_close(j, '}');
}

/* Known verbs by name in table order; unknown verbs (escaped) in their own bounded table. */
static void sm_json_commands(struct json_pretty *j, const struct summary *sm)
{
    jp_open(j, "commands", '{');
    jp_u64(j, "total", sm->commands);
    jp_open(j, "by_verb", '{');
    for (int v = 0; v < SMTP_VERB_COUNT; v++)
        if (v != SMTP_VERB_UNKNOWN && sm->by_verb[v])
            jp_u64(j, smtp_verb_name((enum smtp_verb)v), sm->by_verb[v]);
    jp_close(j, '}');
    size_t n;
    uint64_t total = sm->unknown_verbs.other[0];
    const struct sm_entry **u = sm_table_sorted(&sm->unknown_verbs, sm_cmp_key, &n);
    for (size_t i = 0; i < n; i++)
        total += u[i]->v[0];
    jp_open(j, "unknown", '{');
    jp_u64(j, "total", total);
    jp_open(j, "by_verb", '{');
    for (size_t i = 0; i < n; i++)
        jp_u64(j, u[i]->key, u[i]->v[0]);
    jp_close(j, '}');
    jp_u64(j, "other", sm->unknown_verbs.other[0]);
    jp_close(j, '}');
    jp_close(j, '}');
    free(u);
}

static void sm_json_transactions(struct json_pretty *j, const struct summary *sm)
{
    jp_open(j, "transactions", '{');
    jp_u64(j, "total", sm->txns);
    jp_open(j, "by_status", '{');
    for (int st = 0; st < SMTP_TXN_COUNT; st++)
        jp_u64(j, smtp_txn_status_name((enum smtp_txn_status)st), sm->by_status[st]);
    jp_close(j, '}');
    jp_open(j, "recipients", '{');
    jp_u64(j, "accepted", sm->rcpt_ok);
    jp_u64(j, "rejected", sm->rcpt_bad);
    jp_u64(j, "no_reply", sm->rcpt_none);
    jp_u64(j, "not_kept", sm->rcpt_dropped);
    jp_close(j, '}');
    jp_u64(j, "messages", sm->messages);
    jp_u64(j, "message_bytes", sm->message_bytes);
    jp_close(j, '}');
}

/* --files / --extract only: a summary without them is unchanged. */
static void sm_json_content(struct json_pretty *j, const struct summary *sm)
{
    const struct sm_content *c = &sm->content;
    if (c->messages == 0)
        return;
    jp_open(j, "content", '{');
    jp_u64(j, "messages", c->messages);
    jp_u64(j, "partial", c->partial);
    jp_u64(j, "mime_errors", c->mime_errors);
    jp_u64(j, "parts", c->parts);
    jp_u64(j, "type_mismatches", c->mismatches);
    size_t n;
    const struct sm_entry **v = sm_table_sorted(&c->types, sm_cmp_v0_desc, &n);
    jp_open(j, "by_sniffed_type", '[');
    for (size_t i = 0; i < n; i++) {
        jp_open(j, NULL, '{');
        jp_name(j, "type", v[i]->key, SM_KEY);
        jp_u64(j, "parts", v[i]->v[0]);
        jp_u64(j, "declared_otherwise", v[i]->v[1]);
        jp_close(j, '}');
    }
    jp_close(j, ']');
    free(v);
    v = sm_table_sorted(&c->files, sm_cmp_v0_desc, &n);
    jp_u64(j, "distinct_files", c->files.n + (c->files.other[0] ? 1 : 0));
    jp_open(j, "top_files", '[');
    for (size_t i = 0; i < n && i < SM_TOP; i++) {
        jp_open(j, NULL, '{');
        jp_str(j, "sha256", v[i]->key);
        jp_u64(j, "seen", v[i]->v[0]);
        jp_u64(j, "size", v[i]->v[0] ? v[i]->v[1] / v[i]->v[0] : 0);
        const char *name = sm_file_name(sm, v[i]->key);
        if (name[0])
            jp_name(j, "name", name, SMTP_MAX_NAME);
        else
            jp_str(j, "name", NULL);
        jp_close(j, '}');
    }
    jp_close(j, ']');
    free(v);
    jp_close(j, '}');
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
static void sm_json_auth_mechs(struct json_pretty *j, const struct sm_entry *const *v, size_t n)
{
    jp_open(j, "by_mechanism", '{');
    for (size_t i = 0; i < n;) {
        size_t k = i;
        uint64_t total = 0;
        while (k < n && strcmp(v[k]->key, v[i]->key) == 0)
            total += v[k++]->v[0];
        jp_open(j, v[i]->key, '{');
        jp_u64(j, "total", total);
        jp_open(j, "by_result", '{');
        for (; i < k; i++) {
            char key[8];
            sm_result_key(key, v[i]->code);
            jp_u64(j, key, v[i]->v[0]);
        }
        jp_close(j, '}');
        jp_close(j, '}');
    }
    jp_close(j, '}');
}

static void sm_json_auth(struct json_pretty *j, const struct summary *sm)
{
    size_t n;
    const struct sm_entry **v = sm_table_sorted(&sm->auth, sm_cmp_key, &n);
    struct sm_auth_outcomes o = sm_auth_tally(v, n);
    jp_open(j, "auth", '{');
    jp_u64(j, "sessions", sm->auth_sessions);
    jp_u64(j, "succeeded", o.succeeded);
    jp_u64(j, "failed", o.failed);
    jp_u64(j, "unfinished", o.unfinished);
    sm_json_auth_mechs(j, v, n);
    jp_u64(j, "other", sm->auth.other[0]);
    jp_close(j, '}');
    free(v);
}

static void sm_json_notices(struct json_pretty *j, const struct summary *sm)
{
    jp_open(j, "notices", '{');
    jp_u64(j, "total", sm->notices);
    jp_u64(j, "dropped", sm->notices_dropped);
    jp_open(j, "by_type", '{');
    for (int i = 0; i < SMTP_NOTICE_COUNT; i++) {
        if (sm->by_notice[i] == 0)
            continue;
        enum smtp_notice_id id = (enum smtp_notice_id)i;
        jp_open(j, smtp_notice_name(id), '{');
        jp_u64(j, "count", sm->by_notice[i]);
        jp_str(j, "severity", smtp_severity_name(smtp_notice_severity(id)));
        jp_str(j, "description", smtp_notice_description(id));
        jp_close(j, '}');
    }
    jp_close(j, '}');
    jp_close(j, '}');
}

static void sm_json_top(struct json_pretty *j, const char *k, const struct sm_entry *const *v, size_t n)
{
    jp_open(j, k, '[');
    for (size_t i = 0; i < n && i < SM_TOP; i++) {
        jp_open(j, NULL, '{');
        jp_name(j, "ip", v[i]->key, sizeof(v[i]->key));
        jp_u64(j, "sessions", v[i]->v[0]);
        jp_u64(j, "failures", v[i]->v[1]);
        jp_close(j, '}');
    }
    jp_close(j, ']');
}

static void sm_json_hosts(struct json_pretty *j, const char *k, const struct sm_table *t)
{
    size_t n;
    const struct sm_entry **v = sm_table_sorted(t, sm_cmp_v0_desc, &n);
    jp_open(j, k, '{');
    jp_u64(j, "distinct", t->n);
    jp_open(j, "other", '{');
    jp_u64(j, "sessions", t->other[0]);
    jp_u64(j, "failures", t->other[1]);
    jp_close(j, '}');
    sm_json_top(j, "top_by_sessions", v, n);
    if (n)
        qsort(v, n, sizeof(*v), sm_cmp_v1_desc);
    while (n && v[n - 1]->v[1] == 0)
        n--; /* an address with no failure is not a top failer */
    sm_json_top(j, "top_by_failures", v, n);
    jp_close(j, '}');
    free(v);
}

static void sm_json_fail(struct json_pretty *j, const struct sm_fail *f)
{
    jp_open(j, NULL, '{');
    jp_u64(j, "session", f->session);
    jp_time(j, "time", &f->ts, true);
    jp_name(j, "client", f->client, sizeof(f->client));
    jp_name(j, "server", f->server, sizeof(f->server));
    jp_name(j, "sender", f->sender, sizeof(f->sender));
    jp_name(j, "recipient", f->rcpt, sizeof(f->rcpt));
    jp_str(j, "stage", smtp_verb_name(f->stage));
    jp_i64(j, "code", f->code);
    jp_name(j, "enhanced", f->enhanced, sizeof(f->enhanced));
    jp_str(j, "class", reply_class_label(f->code));
    jp_str(j, "meaning", sink_reply_meaning(f->context, f->code));
    jp_name(j, "text", f->text, sizeof(f->text));
    jp_close(j, '}');
}

static void sm_json_fails(struct json_pretty *j, const struct summary *sm)
{
    jp_open(j, "failed_deliveries", '{');
    jp_u64(j, "total", sm->fails_total);
    jp_u64(j, "kept", sm->nfail);
    jp_u64(j, "not_kept", sm->fails_total - sm->nfail);
    jp_open(j, "rows", '[');
    for (size_t i = 0; i < sm->nfail; i++)
        sm_json_fail(j, &sm->fail[i]);
    jp_close(j, ']');
    jp_close(j, '}');
}

void summary_json(const struct summary *sm, const struct capture_stats *cs, struct strbuf *sb)
{
    struct json_pretty j = json_pretty_begin(sb);
    jp_open(&j, NULL, '{');
    jp_u64(&j, "schema", SM_SCHEMA);
    sm_json_capture(&j, cs, sm->input_error);
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
    jp_close(&j, '}');
    sb_putc(sb, '\n');
}
