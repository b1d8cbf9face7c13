/* dialogue.c - the scripted-dialogue harness (see dialogue.h). Included by test files. */
#include "dialogue.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "smtp/smtp_core.h"
#include "lib/strbuf.h"

static void rec_exchange(void *ctx, const struct smtp_session_info *s, const struct smtp_exchange *x)
{
    struct strbuf *sb = ctx;
    (void)s;
    sb_puts(sb, "X ");
    if (x->cmd) {
        sb_put(sb, x->cmd->verb, x->cmd->verb_len);
        sb_putc(sb, ' ');
        sb_term_str(sb, x->cmd->arg.p, x->cmd->arg.len, true);
    } else {
        sb_puts(sb, "-");
    }
    sb_puts(sb, " -> ");
    if (x->reply) {
        sb_i64(sb, x->reply->code);
        if (x->reply->enhanced[0]) {
            sb_putc(sb, ' ');
            sb_puts(sb, x->reply->enhanced);
        }
        sb_putc(sb, ' ');
        for (unsigned i = 0; i < x->reply->nlines; i++) {
            if (i)
                sb_putc(sb, '|');
            sb_term_str(sb, x->reply->line[i].p, x->reply->line[i].len, true);
        }
    } else {
        sb_puts(sb, "-");
    }
    if (x->reply) /* what the core says the reply answers, and means there */
        sb_printf(sb, " {%s: %s}", smtp_answer_name(x->answers), x->context ? x->context : "-");
    if (x->resync)
        sb_puts(sb, " [resync]");
    sb_putc(sb, '\n');
}

static void rec_transaction(void *ctx, const struct smtp_session_info *s, const struct smtp_transaction *t)
{
    struct strbuf *sb = ctx;
    (void)s;
    sb_printf(sb, "T %u %s", t->depth, smtp_txn_status_name(t->status));
    if (t->status == SMTP_TXN_REJECTED || t->status == SMTP_TXN_ABORTED)
        sb_printf(sb, " at %s", smtp_verb_name(t->rejected_at));
    sb_printf(sb, " from=%s rcpt=", t->have_mail_from ? t->mail_from : "-");
    for (unsigned i = 0; i < t->nrcpt; i++)
        sb_printf(sb, "%s%s:%d", i ? "," : "", t->rcpt[i].addr, t->rcpt[i].code);
    if (t->have_message)
        sb_printf(sb, " size=%llu", (unsigned long long)t->message.size);
    if (t->have_data_reply)
        sb_printf(sb, " data=%d", t->data_reply.code);
    if (t->have_message && t->message.subject[0])
        sb_printf(sb, " subj=%s", t->message.subject);
    if (t->have_message && t->message.from[0])
        sb_printf(sb, " hfrom=%s", t->message.from);
    if (t->have_message && t->message.message_id[0])
        sb_printf(sb, " mid=%s", t->message.message_id);
    for (unsigned i = 0; i < t->mail_params.n; i++)
        sb_printf(sb, " mp:%s=%s", t->mail_params.p[i].key, t->mail_params.p[i].value);
    for (unsigned r = 0; r < t->nrcpt; r++)
        for (unsigned i = 0; i < t->rcpt[r].params.n; i++)
            sb_printf(sb, " rp%u:%s=%s", r, t->rcpt[r].params.p[i].key, t->rcpt[r].params.p[i].value);
    sb_printf(sb, " helo=%s", t->helo[0] ? t->helo : "-");
    if (t->have_message && t->message.missing)
        sb_printf(sb, " missing=%llu", (unsigned long long)t->message.missing);
    if (t->have_message && t->message.start_missing)
        sb_puts(sb, " start-missing");
    if (t->content_ended)
        sb_puts(sb, " ended");
    sb_putc(sb, '\n');
}

static void rec_content_gap(void *ctx, const struct smtp_session_info *s, const struct smtp_transaction *t,
                            uint64_t n)
{
    struct strbuf *sb = ctx;
    (void)s;
    (void)t;
    sb_printf(sb, "G content %llu\n", (unsigned long long)n);
}

static void rec_notice(void *ctx, const struct smtp_session_info *s, const struct smtp_notice *n)
{
    struct strbuf *sb = ctx;
    (void)s;
    sb_printf(sb, "N %s\n", smtp_notice_name(n->id));
}

static void rec_end(void *ctx, const struct smtp_session_info *s)
{
    struct strbuf *sb = ctx;
    sb_printf(sb, "E %s tls=%s helo=%s auth=%s/%s/%d sni=%s\n", smtp_end_reason_name(s->end_reason),
              smtp_tls_name(s->tls), s->helo, s->auth.mechanism, s->auth.user, s->auth.result, s->sni);
}

char *dialogue_run(const struct step *steps, size_t n, unsigned flags, int split_step, size_t split_at)
{
    struct strbuf sb;
    sb_init(&sb, 1 << 20);
    sb_puts(&sb, "");
    struct smtp_sink sink = {.ctx = &sb,
                             .content_gap = rec_content_gap,
                             .exchange = rec_exchange,
                             .transaction = rec_transaction,
                             .notice = rec_notice,
                             .session_end = rec_end};
    struct smtp_endpoint c = {"192.0.2.1", 40000}, sv = {"192.0.2.25", 25};
    struct timeval ts = {1700000000, 0};
    struct smtp_session *s = smtp_session_new(1, &c, &sv, &ts, &sink, flags);
    for (size_t i = 0; i < n; i++) {
        size_t len = steps[i].len ? steps[i].len : strlen(steps[i].bytes);
        enum smtp_dir dir = steps[i].dir == 'C' || steps[i].dir == 'c' ? SMTP_DIR_CLIENT : SMTP_DIR_SERVER;
        ts.tv_usec += 1000;
        if (steps[i].dir == 'c' || steps[i].dir == 's') {
            smtp_session_gap(s, dir, len, &ts);
            continue;
        }
        /* Copy into an exact-size allocation so ASan sees any over-read. */
        uint8_t *buf = malloc(len ? len : 1);
        memcpy(buf, steps[i].bytes, len);
        if ((int)i == split_step && split_at < len) {
            smtp_session_data(s, dir, buf, split_at, &ts);
            smtp_session_data(s, dir, buf + split_at, len - split_at, &ts);
        } else {
            smtp_session_data(s, dir, buf, len, &ts);
        }
        free(buf);
    }
    smtp_session_end(s, SMTP_END_CLOSE, &ts);
    smtp_session_free(s);
    char *out = strdup(sb.p ? sb.p : "");
    sb_free(&sb);
    return out;
}

char *dialogue_run_all_splits(const struct step *steps, size_t n, unsigned flags)
{
    char *ref = dialogue_run(steps, n, flags, -1, 0);
    for (size_t i = 0; i < n; i++) {
        size_t len = steps[i].len ? steps[i].len : strlen(steps[i].bytes);
        if (steps[i].dir == 'c' || steps[i].dir == 's')
            continue; /* a gap is one event */
        for (size_t k = 1; k < len; k++) {
            char *got = dialogue_run(steps, n, flags, (int)i, k);
            cr_assert_str_eq(got, ref, "step %zu split at %zu differs:\n%s\nvs unsplit:\n%s", i, k, got, ref);
            free(got);
        }
    }
    return ref;
}

int has_line(const char *hay, const char *needle)
{
    size_t nl = strlen(needle);
    for (const char *p = hay; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
        if (strncmp(p, needle, nl) == 0)
            return 1;
    return 0;
}

int count_lines(const char *hay, const char *prefix)
{
    int n = 0;
    size_t pl = strlen(prefix);
    for (const char *p = hay; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
        if (strncmp(p, prefix, pl) == 0)
            n++;
    return n;
}
