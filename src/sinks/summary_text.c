/* summary_text.c - the summary as a human-readable report: headings, aligned columns, failed deliveries. */
#include <stdlib.h>
#include <string.h>

#include "sinks/sink_fmt.h"
#include "smtpsniff/reply.h"
#include "sinks/summary_state.h"

#define TX_LABEL 34    /* width of the label column: "4xx Transient Negative Completion" */
#define TX_CELL_MAX 40 /* widest column that failed-delivery rows are aligned to */

static void tx_heading(struct strbuf *sb, const char *title)
{
    sb_putc(sb, '\n');
    sb_puts(sb, title);
    sb_putc(sb, '\n');
    for (size_t i = strlen(title); i; i--)
        sb_putc(sb, '-');
    sb_putc(sb, '\n');
}

static void tx_u64(struct strbuf *sb, const char *label, uint64_t v)
{
    sb_printf(sb, "  %-*s %12llu\n", TX_LABEL, label, (unsigned long long)v);
}

static void tx_str(struct strbuf *sb, const char *label, const char *v)
{
    sb_printf(sb, "  %-*s %s\n", TX_LABEL, label, v);
}

static void tx_pad(struct strbuf *sb, size_t have, size_t want)
{
    for (; have < want; have++)
        sb_putc(sb, ' ');
}

/* A stored name, escaped, padded to `width` columns (longer names are kept whole). */
static void tx_name(struct strbuf *sb, const char *s, size_t max, size_t width)
{
    size_t at = sb->len;
    sink_put_name(sb, s, max);
    tx_pad(sb, sb->len - at, width);
}

static size_t tx_name_width(const char *s, size_t max)
{
    struct strbuf tmp;
    sb_init(&tmp, 4 * SMTP_MAX_NAME + 16);
    sink_put_name(&tmp, s, max);
    size_t n = tmp.len;
    sb_free(&tmp);
    return n < TX_CELL_MAX ? n : TX_CELL_MAX;
}

/* ---- sections ---- */

static void tx_time(struct strbuf *sb, const char *label, const struct timeval *tv, bool have)
{
    sb_printf(sb, "  %-*s ", TX_LABEL, label);
    if (have)
        sb_time_rfc3339(sb, tv); /* SB_TIME_INVALID for a time RFC 3339 cannot write */
    else
        sb_putc(sb, '-');
    sb_putc(sb, '\n');
}

static void tx_capture(struct strbuf *sb, const struct capture_stats *cs, const char *input_error)
{
    static const struct capture_stats none;
    if (cs == NULL)
        cs = &none;
    tx_heading(sb, "Capture");
    sb_printf(sb, "  %-*s ", TX_LABEL, "sources");
    for (unsigned i = 0; i < cs->nsources && cs->sources; i++) {
        if (i)
            sb_puts(sb, ", ");
        if (cs->sources[i])
            sink_put_name(sb, cs->sources[i], 4096);
    }
    sb_puts(sb, cs->nsources ? "\n" : "-\n");
    tx_str(sb, "live", cs->live ? "yes" : "no");
    tx_u64(sb, "packets", cs->packets);
    tx_u64(sb, "bytes", cs->bytes);
    tx_time(sb, "first packet", &cs->first, cs->packets > 0);
    tx_time(sb, "last packet", &cs->last, cs->packets > 0);
    sb_printf(sb, "  %-*s ", TX_LABEL, "duration");
    sink_put_duration(sb, &cs->first, &cs->last);
    sb_putc(sb, '\n');
    if (input_error[0]) {
        sb_printf(sb, "  %-*s ", TX_LABEL, "input error");
        sink_put_name(sb, input_error, 512);
        sb_putc(sb, '\n');
    }
    if (cs->live) {
        tx_u64(sb, "pcap received", cs->ps_recv);
        tx_u64(sb, "pcap dropped", cs->ps_drop);
        tx_u64(sb, "pcap dropped by interface", cs->ps_ifdrop);
    }
#define TX_SKIPPED(field, name, label, lost) tx_u64(sb, "skipped: " label, cs->skipped.field);
    CAPTURE_COUNTER_LIST(TX_SKIPPED)
#undef TX_SKIPPED
}

static void tx_reasm(struct strbuf *sb, const struct reasm_stats *st)
{
    tx_heading(sb, "Reassembly");
#define TX_REASM(field, name, label, lost) tx_u64(sb, label, st->field);
    REASM_COUNTER_LIST(TX_REASM)
#undef TX_REASM
}

static void tx_sessions(struct strbuf *sb, const struct summary *sm)
{
    char label[64];
    tx_heading(sb, "Sessions");
    tx_u64(sb, "total", sm->sessions);
    tx_u64(sb, "ended", sm->ended);
    tx_u64(sb, "still open", sm->sessions > sm->ended ? sm->sessions - sm->ended : 0);
    for (int r = 0; r < SMTP_END_COUNT; r++) {
        const char *name = smtp_end_reason_name((enum smtp_end_reason)r);
        size_t n = strnlen(name, 40);
        memcpy(label, "end: ", 5);
        memcpy(label + 5, name, n + 1);
        tx_u64(sb, label, sm->by_end[r]);
    }
    for (int t = 0; t < SMTP_TLS_COUNT; t++) {
        const char *name = smtp_tls_name((enum smtp_tls)t);
        size_t n = strnlen(name, 40);
        memcpy(label, "tls: ", 5);
        memcpy(label + 5, name, n + 1);
        tx_u64(sb, label, sm->by_tls[t]);
    }
    tx_u64(sb, "bytes from clients", sm->bytes[SMTP_DIR_CLIENT]);
    tx_u64(sb, "bytes from servers", sm->bytes[SMTP_DIR_SERVER]);
}

static void tx_codes(struct strbuf *sb, const struct summary *sm)
{
    sb_printf(sb, "\n  %-4s %-7s %12s  %s\n", "code", "class", "count", "name: meaning");
    for (int c = 0; c < SM_CODES; c++) {
        if (sm->by_code[c] == 0)
            continue;
        const struct reply_entry *e = reply_lookup(c);
        sb_printf(sb, "  %03d  %-7s %12llu  %s: %s\n", c, reply_class_label(c),
                  (unsigned long long)sm->by_code[c], e->name, e->meaning);
    }
    if (sm->code_other)
        sb_printf(sb, "  %-12s %12llu\n", "other", (unsigned long long)sm->code_other);
}

static void tx_enhanced(struct strbuf *sb, const struct summary *sm)
{
    size_t n;
    const struct sm_entry **v = sm_table_sorted(&sm->enhanced, sm_cmp_key, &n);
    if (n || sm->enhanced.other[0])
        sb_printf(sb, "\n  %-12s %12s  %s\n", "enhanced", "count", "name");
    for (size_t i = 0; i < n; i++) {
        struct smtp_enhanced c = sm_enhanced_unpack(v[i]->code);
        const struct enhanced_entry *e = enhanced_lookup(c.subject, c.detail);
        sb_puts(sb, "  ");
        tx_name(sb, v[i]->key, sizeof(v[i]->key), 12);
        sb_printf(sb, " %12llu  %s\n", (unsigned long long)v[i]->v[0], e ? e->name : "-");
    }
    if (sm->enhanced.other[0])
        sb_printf(sb, "  %-12s %12llu\n", "other", (unsigned long long)sm->enhanced.other[0]);
    free(v);
}

static void tx_replies(struct strbuf *sb, const struct summary *sm)
{
    tx_heading(sb, "Replies");
    tx_u64(sb, "total", sm->replies);
    for (int c = 2; c <= 5; c++)
        sb_printf(sb, "  %s %-*s %12llu\n", reply_class_label(c * 100), TX_LABEL - 4,
                  reply_class_name(c * 100), (unsigned long long)sm->by_class[c]);
    tx_u64(sb, "invalid", sm->by_class[0]);
    tx_codes(sb, sm);
    tx_enhanced(sb, sm);
}

static void tx_commands(struct strbuf *sb, const struct summary *sm)
{
    tx_heading(sb, "Commands");
    tx_u64(sb, "total", sm->commands);
    for (int v = 0; v < SMTP_VERB_COUNT; v++)
        if (v != SMTP_VERB_UNKNOWN && sm->by_verb[v])
            tx_u64(sb, smtp_verb_name((enum smtp_verb)v), sm->by_verb[v]);
    size_t n;
    const struct sm_entry **u = sm_table_sorted(&sm->unknown_verbs, sm_cmp_key, &n);
    for (size_t i = 0; i < n; i++) {
        sb_puts(sb, "  unknown ");
        tx_name(sb, u[i]->key, sizeof(u[i]->key), TX_LABEL - 8);
        sb_printf(sb, " %12llu\n", (unsigned long long)u[i]->v[0]);
    }
    if (sm->unknown_verbs.other[0])
        tx_u64(sb, "unknown (other verbs)", sm->unknown_verbs.other[0]);
    free(u);
}

static void tx_transactions(struct strbuf *sb, const struct summary *sm)
{
    tx_heading(sb, "Transactions");
    tx_u64(sb, "total", sm->txns);
    for (int st = 0; st < SMTP_TXN_COUNT; st++)
        tx_u64(sb, smtp_txn_status_name((enum smtp_txn_status)st), sm->by_status[st]);
    tx_u64(sb, "recipients accepted", sm->rcpt_ok);
    tx_u64(sb, "recipients rejected", sm->rcpt_bad);
    tx_u64(sb, "recipients without reply", sm->rcpt_none);
    tx_u64(sb, "recipients not kept", sm->rcpt_dropped);
    tx_u64(sb, "messages", sm->messages);
    tx_u64(sb, "message bytes", sm->message_bytes);
}

/* --files / --extract only. */
static void tx_content(struct strbuf *sb, const struct summary *sm)
{
    const struct sm_content *c = &sm->content;
    if (c->messages == 0)
        return;
    tx_heading(sb, "Messages and attachments");
    tx_u64(sb, "messages", c->messages);
    tx_u64(sb, "partial", c->partial);
    tx_u64(sb, "not readable as MIME", c->mime_errors);
    tx_u64(sb, "parts", c->parts);
    tx_u64(sb, "type mismatches", c->mismatches);
    size_t n;
    const struct sm_entry **v = sm_table_sorted(&c->types, sm_cmp_v0_desc, &n);
    if (n)
        sb_puts(sb, "\n  parts by sniffed type\n");
    for (size_t i = 0; i < n; i++) {
        sb_printf(sb, "  %10llu  ", (unsigned long long)v[i]->v[0]);
        tx_name(sb, v[i]->key, SM_KEY, 0);
        if (v[i]->v[1])
            sb_printf(sb, "  (%llu declared otherwise)", (unsigned long long)v[i]->v[1]);
        sb_putc(sb, '\n');
    }
    free(v);
    v = sm_table_sorted(&c->files, sm_cmp_v0_desc, &n);
    if (n)
        sb_puts(sb, "\n  files seen most often (SHA-256, times, size, first name)\n");
    for (size_t i = 0; i < n && i < SM_TOP; i++) {
        sb_printf(sb, "  %s %6llu %10llu  ", v[i]->key, (unsigned long long)v[i]->v[0],
                  (unsigned long long)(v[i]->v[0] ? v[i]->v[1] / v[i]->v[0] : 0));
        const char *name = sm_file_name(sm, v[i]->key);
        tx_name(sb, name[0] ? name : "-", SMTP_MAX_NAME, 0); /* JSON: null */
        sb_putc(sb, '\n');
    }
    free(v);
}

static void tx_auth(struct strbuf *sb, const struct summary *sm)
{
    tx_heading(sb, "AUTH");
    tx_u64(sb, "sessions with AUTH", sm->auth_sessions);
    size_t n;
    const struct sm_entry **v = sm_table_sorted(&sm->auth, sm_cmp_key, &n);
    struct sm_auth_outcomes o = sm_auth_tally(v, n);
    tx_u64(sb, "succeeded", o.succeeded);
    tx_u64(sb, "failed", o.failed);
    tx_u64(sb, "unfinished", o.unfinished);
    if (n)
        sb_printf(sb, "\n  %-20s %-6s %12s\n", "mechanism", "result", "count");
    for (size_t i = 0; i < n; i++) {
        sb_puts(sb, "  ");
        tx_name(sb, v[i]->key, sizeof(v[i]->key), 20);
        if (v[i]->code > 0)
            sb_printf(sb, " %-6d", v[i]->code);
        else
            sb_printf(sb, " %-6s", "none");
        sb_printf(sb, " %12llu\n", (unsigned long long)v[i]->v[0]);
    }
    if (sm->auth.other[0])
        sb_printf(sb, "  %-27s %12llu\n", "other", (unsigned long long)sm->auth.other[0]);
    free(v);
}

static void tx_notices(struct strbuf *sb, const struct summary *sm)
{
    tx_heading(sb, "Notices");
    tx_u64(sb, "total", sm->notices);
    tx_u64(sb, "dropped (per-session cap)", sm->notices_dropped);
    for (int i = 0; i < SMTP_NOTICE_COUNT; i++) {
        if (sm->by_notice[i] == 0)
            continue;
        enum smtp_notice_id id = (enum smtp_notice_id)i;
        sb_printf(sb, "  %-30s %-6s %8llu  %s\n", smtp_notice_name(id),
                  smtp_severity_name(smtp_notice_severity(id)), (unsigned long long)sm->by_notice[i],
                  smtp_notice_description(id));
    }
}

static void tx_top(struct strbuf *sb, const char *title, const struct sm_entry *const *v, size_t n)
{
    sb_printf(sb, "\n  %-40s %12s %12s\n", title, "sessions", "failures");
    for (size_t i = 0; i < n && i < SM_TOP; i++) {
        sb_puts(sb, "  ");
        tx_name(sb, v[i]->key, sizeof(v[i]->key), 40);
        sb_printf(sb, " %12llu %12llu\n", (unsigned long long)v[i]->v[0], (unsigned long long)v[i]->v[1]);
    }
}

static void tx_hosts(struct strbuf *sb, const char *title, const struct sm_table *t)
{
    size_t n;
    const struct sm_entry **v = sm_table_sorted(t, sm_cmp_v0_desc, &n);
    tx_heading(sb, title);
    tx_u64(sb, "distinct addresses", t->n);
    if (t->other[0] || t->other[1])
        sb_printf(sb, "  %-*s %12llu sessions, %llu failures\n", TX_LABEL, "other (past the table cap)",
                  (unsigned long long)t->other[0], (unsigned long long)t->other[1]);
    tx_top(sb, "by sessions", v, n);
    if (n)
        qsort(v, n, sizeof(*v), sm_cmp_v1_desc);
    while (n && v[n - 1]->v[1] == 0)
        n--;
    tx_top(sb, "by failures (4xx/5xx replies)", v, n);
    free(v);
}

/* Column widths of the failed-delivery table: client, server, sender, recipient. */
static void tx_fail_widths(const struct summary *sm, size_t w[4])
{
    static const char *const head[4] = {"client", "server", "sender", "recipient"};
    for (int k = 0; k < 4; k++)
        w[k] = strlen(head[k]);
    for (size_t i = 0; i < sm->nfail; i++) {
        const struct sm_fail *f = &sm->fail[i];
        const char *cell[4] = {f->client, f->server, f->sender, f->rcpt};
        const size_t max[4] = {sizeof(f->client), sizeof(f->server), sizeof(f->sender), sizeof(f->rcpt)};
        for (int k = 0; k < 4; k++) {
            size_t cw = tx_name_width(cell[k], max[k]);
            if (cw > w[k])
                w[k] = cw;
        }
    }
}

static void tx_fail_row(struct strbuf *sb, const struct sm_fail *f, const size_t w[4])
{
    sb_puts(sb, "  ");
    size_t at = sb->len;
    sb_time_rfc3339(sb, &f->ts);
    tx_pad(sb, sb->len - at, 27); /* the width of a time, when it is SB_TIME_INVALID */
    sb_printf(sb, "  #%-6llu ", (unsigned long long)f->session);
    tx_name(sb, f->client, sizeof(f->client), w[0]);
    sb_puts(sb, "  ");
    tx_name(sb, f->server, sizeof(f->server), w[1]);
    sb_puts(sb, "  ");
    tx_name(sb, f->sender[0] ? f->sender : "<>", sizeof(f->sender), w[2]);
    sb_puts(sb, "  ");
    tx_name(sb, f->rcpt, sizeof(f->rcpt), w[3]);
    sb_printf(sb, "  %-5s %03d ", smtp_verb_name(f->stage), f->code);
    tx_name(sb, f->enhanced[0] ? f->enhanced : "-", sizeof(f->enhanced), 8);
    sb_printf(sb, " %s %s", reply_class_label(f->code), sink_reply_meaning(f->context, f->code));
    if (f->text[0]) {
        sb_puts(sb, " (\"");
        sink_put_name(sb, f->text, sizeof(f->text));
        sb_puts(sb, "\")");
    }
    sb_putc(sb, '\n');
}

static void tx_fails(struct strbuf *sb, const struct summary *sm)
{
    size_t w[4];
    tx_heading(sb, "Failed deliveries");
    tx_u64(sb, "total", sm->fails_total);
    if (sm->fails_total > sm->nfail)
        tx_u64(sb, "not listed (past the cap)", sm->fails_total - sm->nfail);
    if (sm->nfail == 0)
        return;
    tx_fail_widths(sm, w);
    sb_printf(sb, "\n  %-27s  %-7s %-*s  %-*s  %-*s  %-*s  %-5s %-3s %-8s %s\n", "time", "session", (int)w[0],
              "client", (int)w[1], "server", (int)w[2], "sender", (int)w[3], "recipient", "stage", "code",
              "enhanced", "class meaning");
    for (size_t i = 0; i < sm->nfail; i++)
        tx_fail_row(sb, &sm->fail[i], w);
}

void summary_text(const struct summary *sm, const struct capture_stats *cs, struct strbuf *sb)
{
    sb_puts(sb, "smtpsniff summary\n");
    tx_capture(sb, cs, sm->input_error);
    tx_reasm(sb, &sm->reasm);
    tx_sessions(sb, sm);
    tx_replies(sb, sm);
    tx_commands(sb, sm);
    tx_transactions(sb, sm);
    tx_content(sb, sm);
    tx_auth(sb, sm);
    tx_notices(sb, sm);
    tx_hosts(sb, "Top servers", &sm->servers);
    tx_hosts(sb, "Top clients", &sm->clients);
    tx_fails(sb, sm);
}
