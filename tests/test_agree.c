/* test_agree.c - the live feed, JSON Lines and the summary say the same thing about each reply:
 * the same dialogues go through the core into all three sinks at once, and the meaning each one
 * prints is compared with the context the core handed over. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capture/capture.h"
#include "sinks/sink_fmt.h"
#include "sinks/sinks.h"
#include "smtp/smtp_core.h"
#include "smtpsniff/reply.h"

#define MAXR 64

/* What the core said: each reply's context, each refused recipient's and data reply's. */
struct said {
    unsigned n;
    const char *ctx[MAXR];
    int code[MAXR];
    unsigned nfail;
    char fail_rcpt[MAXR][SMTP_MAX_NAME];
    const char *fail_ctx[MAXR];
    int fail_code[MAXR];
};

static void said_exchange(void *ctx, const struct smtp_session_info *s, const struct smtp_exchange *x)
{
    struct said *w = ctx;
    (void)s;
    if (x->reply && w->n < MAXR) {
        w->ctx[w->n] = x->context;
        w->code[w->n++] = x->reply->code;
    }
}

static void said_txn(void *ctx, const struct smtp_session_info *s, const struct smtp_transaction *t)
{
    struct said *w = ctx;
    (void)s;
    for (unsigned i = 0; i < t->nrcpt && w->nfail < MAXR; i++) {
        const struct smtp_rcpt *rc = &t->rcpt[i];
        bool data_failed = t->have_data_reply && t->data_reply.code >= 400;
        if (rc->code < 400 && !(data_failed && rc->code))
            continue;
        snprintf(w->fail_rcpt[w->nfail], sizeof(w->fail_rcpt[0]), "%s", rc->addr);
        w->fail_ctx[w->nfail] = rc->code >= 400 ? rc->context : t->data_reply.context;
        w->fail_code[w->nfail++] = rc->code >= 400 ? rc->code : t->data_reply.code;
    }
}

struct step {
    char dir;
    const char *bytes;
};

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f);
    static char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    return buf;
}

/* The JSON string value after `key` at p, unescaped for the few escapes these texts hold. */
static const char *json_value(const char *p, const char *key, char *out, size_t outsz)
{
    const char *k = strstr(p, key);
    if (k == NULL)
        return NULL;
    k += strlen(key);
    while (*k == ' ')
        k++;
    if (strncmp(k, "null", 4) == 0) {
        out[0] = '\0';
        return k + 4;
    }
    cr_assert_eq(*k, '"', "%s", p);
    size_t o = 0;
    for (k++; *k && *k != '"' && o + 1 < outsz; k++)
        out[o++] = *k == '\\' ? *++k : *k;
    out[o] = '\0';
    return k;
}

static void run(const struct step *st, size_t n)
{
    struct said w = {0};
    struct smtp_sink rec = {.ctx = &w, .exchange = said_exchange, .transaction = said_txn};
    char *jbuf = NULL, *lbuf = NULL;
    size_t jlen = 0, llen = 0;
    FILE *jf = open_memstream(&jbuf, &jlen), *lf = open_memstream(&lbuf, &llen);
    struct out_json_opts jo = {.out = jf};
    struct out_live_opts lo = {.out = lf};
    struct smtp_sink *js = out_json_new(&jo), *ls = out_live_new(&lo);
    struct summary *sm = summary_new();
    struct smtp_sink *all[] = {&rec, js, ls, summary_sink(sm)};
    struct smtp_sink *tee = sink_tee_new(all, 4);
    struct smtp_endpoint c = {"192.0.2.1", 40000}, sv = {"192.0.2.25", 25};
    struct timeval ts = {1700000000, 0};
    struct smtp_session *s = smtp_session_new(1, &c, &sv, &ts, tee, 0);
    for (size_t i = 0; i < n; i++) {
        ts.tv_usec += 1000;
        smtp_session_data(s, st[i].dir == 'C' ? SMTP_DIR_CLIENT : SMTP_DIR_SERVER, (const uint8_t *)st[i].bytes,
                          strlen(st[i].bytes), &ts);
    }
    smtp_session_end(s, SMTP_END_CLOSE, &ts);
    smtp_session_free(s);
    out_json_free(js);
    out_live_free(ls);
    fclose(jf);
    fclose(lf);
    char path[] = "/tmp/smtpsniff-agree-XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    close(fd);
    struct capture_stats cs = {0};
    cr_assert_eq(summary_write(sm, &cs, path, SUMMARY_JSON), 0);

    /* JSON: each exchange's reply.context is the core's context, null where it gave none. */
    unsigned k = 0;
    for (const char *p = strstr(jbuf, "\"reply\":{"); p; p = strstr(p + 1, "\"reply\":{"), k++) {
        char v[256];
        cr_assert(json_value(p, "\"context\":", v, sizeof(v)), "%s", p);
        cr_assert_lt(k, w.n);
        cr_assert_str_eq(v, w.ctx[k] ? w.ctx[k] : "", "JSON reply %u", k);
    }
    cr_assert_eq(k, w.n, "%s", jbuf);
    /* Live: the note after each reply's first line is the same context (or the code's name). */
    k = 0;
    for (const char *p = strstr(lbuf, " S: "); p; p = strstr(p + 1, " S: "), k++) {
        const char *open = strstr(p, "  [");
        const char *colon = open ? strstr(open, ": ") : NULL;
        const char *close = colon ? strchr(colon, ']') : NULL;
        cr_assert(close, "%s", p);
        cr_assert_lt(k, w.n);
        const char *want = sink_reply_meaning(w.ctx[k], w.code[k]);
        cr_assert_eq((size_t)(close - colon - 2), strlen(want), "live reply %u: %.80s", k, colon);
        cr_assert(strncmp(colon + 2, want, strlen(want)) == 0, "live reply %u: %.80s vs %s", k, colon, want);
    }
    cr_assert_eq(k, w.n, "%s", lbuf);
    /* Summary: each failure row's meaning is the context of the reply that refused it. */
    const char *sj = slurp(path);
    unlink(path);
    const char *p = strstr(sj, "\"rows\"");
    for (unsigned i = 0; i < w.nfail; i++) {
        char rcpt[SMTP_MAX_NAME], meaning[256];
        cr_assert(p && (p = json_value(p, "\"recipient\":", rcpt, sizeof(rcpt))), "%s", sj);
        cr_assert(p = json_value(p, "\"meaning\":", meaning, sizeof(meaning)));
        cr_assert_str_eq(rcpt, w.fail_rcpt[i]);
        cr_assert_str_eq(meaning, sink_reply_meaning(w.fail_ctx[i], w.fail_code[i]), "summary row %u", i);
    }
    summary_free(sm);
    sink_tee_free(tee);
    free(jbuf);
    free(lbuf);
    smtp_core_cleanup();
}

#define EHLO "250-mx\r\n250-PIPELINING\r\n250 CHUNKING\r\n"

Test(agree, rejections_chunks_and_replies_to_no_command)
{
    static const struct step d[] = {
        {'S', "220 mx ESMTP\r\n"}, {'C', "EHLO c\r\n"}, {'S', EHLO},
        {'C', "MAIL FROM:<a@b>\r\nRCPT TO:<x@y>\r\nRCPT TO:<bad@y>\r\nBDAT 4\r\nabcdBDAT 2 LAST\r\nef"},
        {'S', "250 ok\r\n250 ok\r\n550 5.1.1 no\r\n250 4 bytes\r\n554 5.6.0 rejected\r\n"},
        {'S', "554 5.7.1 unsolicited\r\n"}, {'C', "VRFY bob\r\nXYZZY\r\n"}, {'S', "502 5.5.1 no\r\n500 5.5.2 what\r\n"},
        {'C', "QUIT\r\n"}, {'S', "221 bye\r\n"},
    };
    run(d, sizeof(d) / sizeof(d[0]));
}

Test(agree, data_refused_and_the_lost_connection)
{
    static const struct step d[] = {
        {'S', "220 mx ESMTP\r\n"}, {'C', "EHLO c\r\n"}, {'S', EHLO},
        {'C', "MAIL FROM:<a@b>\r\nRCPT TO:<x@y>\r\nDATA\r\n"}, {'S', "250 ok\r\n450 4.2.0 later\r\n554 5.5.1 no valid\r\n"},
        {'C', "MAIL FROM:<a@b>\r\nRCPT TO:<x@y>\r\nDATA\r\n"}, {'S', "250 ok\r\n250 ok\r\n354 go\r\n"},
        {'C', "hi\r\n.\r\n"}, {'S', "552 5.3.4 too big\r\n"}, {'C', "DATA\r\n"}, {'S', "354 go\r\n"},
        {'S', "421 4.4.2 timeout\r\n"},
    };
    run(d, sizeof(d) / sizeof(d[0]));
}

/* A header folded with a tab is a tab, escaped once by the JSON writer (docs/json.md). */
Test(agree, folded_header_is_escaped_once)
{
    struct smtp_sink *js;
    char *jbuf = NULL;
    size_t jlen = 0;
    FILE *jf = open_memstream(&jbuf, &jlen);
    struct out_json_opts jo = {.out = jf};
    js = out_json_new(&jo);
    static const char *const st[] = {"220 mx\r\n", "EHLO c\r\n", EHLO, "MAIL FROM:<a@b>\r\nRCPT TO:<x@y>\r\nDATA\r\n",
                                     "250 ok\r\n250 ok\r\n354 go\r\n", "Subject: one\r\n\ttwo\r\n\r\nbody\r\n.\r\n",
                                     "250 queued\r\n"};
    struct smtp_endpoint c = {"192.0.2.1", 40000}, sv = {"192.0.2.25", 25};
    struct timeval ts = {1700000000, 0};
    struct smtp_session *s = smtp_session_new(1, &c, &sv, &ts, js, 0);
    for (size_t i = 0; i < sizeof(st) / sizeof(st[0]); i++)
        smtp_session_data(s, i % 2 ? SMTP_DIR_CLIENT : SMTP_DIR_SERVER, (const uint8_t *)st[i], strlen(st[i]), &ts);
    smtp_session_end(s, SMTP_END_CLOSE, &ts);
    smtp_session_free(s);
    out_json_free(js);
    fclose(jf);
    cr_assert(strstr(jbuf, "\"subject\":\"one\\ttwo\""), "%s", jbuf);
    free(jbuf);
    smtp_core_cleanup();
}
