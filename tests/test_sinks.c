/* test_sinks.c - the live feed, the summary and the tee, driven with hand-made core records. */
#include <criterion/criterion.h>
#include <errno.h>
#include <glob.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sinks/sinks.h"
#include "smtpsniff/reply.h"

/* ---- hand-made records ---- */

static struct smtp_session_info mk_session(uint64_t id)
{
    struct smtp_session_info s;
    memset(&s, 0, sizeof(s));
    s.id = id;
    memcpy(s.client.ip, "192.0.2.7", 10);
    s.client.port = 40022;
    memcpy(s.server.ip, "198.51.100.25", 14);
    s.server.port = 25;
    s.start = (struct timeval){1714557600, 123456}; /* 2024-05-01T10:00:00.123456Z */
    s.end = (struct timeval){1714557605, 0};
    s.end_reason = SMTP_END_CLOSE;
    memcpy(s.helo, "client.example.net", 19);
    return s;
}

static struct smtp_command mk_cmd(enum smtp_verb id, const char *verb, const char *arg)
{
    struct smtp_command c;
    memset(&c, 0, sizeof(c));
    c.id = id;
    c.verb_len = strlen(verb);
    memcpy(c.verb, verb, c.verb_len);
    c.arg.p = (const uint8_t *)arg;
    c.arg.len = strlen(arg);
    c.ts = (struct timeval){1714557601, 0};
    return c;
}

/* A reply of n lines given as strings (the text after "NNN-"/"NNN "). */
static struct smtp_reply mk_reply(int code, const char *enh, unsigned n, const char *const *lines)
{
    struct smtp_reply r;
    memset(&r, 0, sizeof(r));
    r.code = code;
    memcpy(r.enhanced, enh, strlen(enh));
    size_t used; /* parsed as the core parses it */
    enhanced_parse_span((const uint8_t *)enh, strlen(enh), &r.enh, &used);
    r.nlines = n;
    for (unsigned i = 0; i < n; i++)
        r.line[i] = (struct smtp_span){(const uint8_t *)lines[i], strlen(lines[i])};
    r.ts = (struct timeval){1714557601, 500};
    return r;
}

static void feed_exchange(struct smtp_sink *k, struct smtp_session_info *s, const struct smtp_command *c,
                          const struct smtp_reply *r)
{
    /* What the core says of the reply: the command's answer, or the greeting's. */
    struct smtp_exchange x = {.cmd = c, .reply = r, .answers = c ? SMTP_ANSWER_COMMAND : SMTP_ANSWER_GREETING};
    if (r)
        x.context = reply_context(x.answers, c ? c->id : SMTP_VERB_GREETING, REPLY_VARIANT_NONE, r->code,
                                  &x.context_id);
    if (r)
        s->replies_by_class[r->code / 100]++;
    if (c)
        s->commands++;
    k->exchange(k->ctx, s, &x);
}

/* A whole session: greeting, EHLO (multi-line), MAIL, RCPT (rcpt_code), QUIT; 550 adds a transaction. */
static void feed_session(struct smtp_sink *k, uint64_t id, int rcpt_code)
{
    struct smtp_session_info s = mk_session(id);
    k->session_start(k->ctx, &s);
    static const char *const greet[] = {"mx.example.org ESMTP"};
    static const char *const ehlo[] = {"mx.example.org", "PIPELINING", "SIZE 10240000", "8BITMIME"};
    static const char *const ok[] = {"2.1.0 Ok"};
    static const char *const rcpt_ok[] = {"2.1.5 Ok"};
    static const char *const rcpt_bad[] = {"5.1.1 <bob@example.org>: Recipient address rejected"};
    static const char *const bye[] = {"2.0.0 Bye"};
    struct smtp_reply r = mk_reply(220, "", 1, greet);
    feed_exchange(k, &s, NULL, &r);
    struct smtp_command c = mk_cmd(SMTP_VERB_EHLO, "EHLO", "client.example.net");
    r = mk_reply(250, "", 4, ehlo);
    feed_exchange(k, &s, &c, &r);
    c = mk_cmd(SMTP_VERB_MAIL, "MAIL", "FROM:<alice@example.net>");
    r = mk_reply(250, "2.1.0", 1, ok);
    feed_exchange(k, &s, &c, &r);
    c = mk_cmd(SMTP_VERB_RCPT, "RCPT", "TO:<bob@example.org>");
    r = rcpt_code >= 400 ? mk_reply(rcpt_code, "5.1.1", 1, rcpt_bad)
                         : mk_reply(rcpt_code, "2.1.5", 1, rcpt_ok);
    feed_exchange(k, &s, &c, &r);
    if (rcpt_code >= 400) {
        static struct smtp_transaction t;
        static struct smtp_rcpt rc[1];
        memset(&t, 0, sizeof(t));
        memset(rc, 0, sizeof(rc));
        t.rcpt = rc;
        t.depth = 1;
        memcpy(t.mail_from, "alice@example.net", 18);
        t.have_mail_from = true;
        t.mail_code = 250;
        t.nrcpt = 1;
        memcpy(t.rcpt[0].addr, "bob@example.org", 16);
        t.rcpt[0].code = rcpt_code;
        t.status = SMTP_TXN_REJECTED;
        t.rejected_at = SMTP_VERB_RCPT;
        t.ts = r.ts; /* ended by the RCPT reply */
        s.transactions++;
        k->transaction(k->ctx, &s, &t);
    }
    c = mk_cmd(SMTP_VERB_QUIT, "QUIT", "");
    r = mk_reply(221, "2.0.0", 1, bye);
    feed_exchange(k, &s, &c, &r);
    k->session_end(k->ctx, &s);
}

/* ---- capturing the live feed ---- */

struct capture {
    FILE *f;
    char *buf;
    size_t len;
};

static struct smtp_sink *live_open(struct capture *cap, struct out_live_opts o)
{
    cap->buf = NULL;
    cap->len = 0;
    cap->f = open_memstream(&cap->buf, &cap->len);
    cr_assert_not_null(cap->f);
    o.out = cap->f;
    struct smtp_sink *k = out_live_new(&o);
    cr_assert_not_null(k);
    return k;
}

/* Free the sink (it flushes) and close the stream; cap->buf then holds everything written. */
static void live_close(struct capture *cap, struct smtp_sink *k)
{
    out_live_free(k);
    fclose(cap->f);
}

static unsigned count_char(const char *s, size_t n, char c)
{
    unsigned k = 0;
    for (size_t i = 0; i < n; i++)
        k += s[i] == c;
    return k;
}

static void assert_terminal_safe(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        cr_assert(c >= 0x20 || c == '\n', "control byte 0x%02x at offset %zu", c, i);
        cr_assert(c != 0x7f, "DEL at offset %zu", i);
    }
}

/* ---- JSON Lines: the members every record of a session carries ---- */

/* The "session", "client" and "server" members are kept rendered per session: records of two
 * sessions sharing a slot, of a session whose members are too long to keep (full IPv6 addresses,
 * a 20-digit id), and of a new session reusing an ended one's id must each carry their own. */
Test(json, session_members_per_session)
{
    struct capture cap = {0};
    cap.f = open_memstream(&cap.buf, &cap.len);
    cr_assert_not_null(cap.f);
    struct smtp_sink *k = out_json_new(&(struct out_json_opts){.out = cap.f});
    struct smtp_session_info a = mk_session(5), b = mk_session(5 + 1024), c = mk_session(18446744073709551615ULL);
    memcpy(b.client.ip, "203.0.113.9", 12);
    memcpy(c.client.ip, "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", 39);
    memcpy(c.server.ip, "2001:db8:eeee:eeee:eeee:eeee:eeee:eeee", 39);
    static const char *const greet[] = {"mx.example.org ESMTP"};
    struct smtp_reply r = mk_reply(220, "", 1, greet);
    struct smtp_session_info *order[] = {&a, &b, &c, &a, &c, &b};
    for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++)
        feed_exchange(k, order[i], NULL, &r);
    k->session_end(k->ctx, &a);
    /* The same struct (the core reuses ended sessions) and the same id, another client. */
    memcpy(a.client.ip, "192.0.2.99", 11);
    feed_exchange(k, &a, NULL, &r);
    out_json_free(k);
    fclose(cap.f);
    const char *want[] = {
        "\"session\":5,\"client\":{\"ip\":\"192.0.2.7\",\"port\":40022}",
        "\"session\":1029,\"client\":{\"ip\":\"203.0.113.9\",\"port\":40022}",
        "\"session\":18446744073709551615,\"client\":{\"ip\":\"2001:db8:ffff:ffff:ffff:ffff:ffff:ffff\","
        "\"port\":40022},\"server\":{\"ip\":\"2001:db8:eeee:eeee:eeee:eeee:eeee:eeee\",\"port\":25}",
        "\"session\":5,\"client\":{\"ip\":\"192.0.2.7\",\"port\":40022}",
        "\"session\":18446744073709551615,\"client\":{\"ip\":\"2001:db8:ffff:ffff:ffff:ffff:ffff:ffff\"",
        "\"session\":1029,\"client\":{\"ip\":\"203.0.113.9\",\"port\":40022}",
        "\"type\":\"session\",\"ts\":\"2024-05-01T10:00:05.000000Z\",\"session\":5,\"client\":{\"ip\":\"192.0.2.7\"",
        "\"session\":5,\"client\":{\"ip\":\"192.0.2.99\",\"port\":40022}",
    };
    char *line = cap.buf;
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        cr_assert_not_null(line, "record %zu missing", i);
        char *nl = strchr(line, '\n');
        cr_assert_not_null(nl);
        *nl = '\0';
        cr_expect(strstr(line, want[i]) != NULL, "record %zu: %s\nwant: %s", i, line, want[i]);
        line = nl + 1;
    }
    cr_expect_str_eq(line, "", "more records than expected");
    free(cap.buf);
}

/* ---- live feed ---- */

Test(live, plain_session_lines)
{
    struct capture cap;
    struct smtp_sink *k = live_open(&cap, (struct out_live_opts){0});
    feed_session(k, 1, 250);
    live_close(&cap, k);
    cr_assert(strstr(cap.buf, "10:00:00.123456 #1 ++ 192.0.2.7:40022 -> 198.51.100.25:25 (2024-05-01)\n"),
              "%s", cap.buf);
    cr_assert(strstr(cap.buf, "10:00:01.000000 #1 C: RCPT TO:<bob@example.org>\n"), "%s", cap.buf);
    cr_assert(strstr(cap.buf, "10:00:01.000500 #1 S: 250 2.1.5 Ok  [2xx "), "%s", cap.buf);
    cr_assert(strstr(cap.buf, "#1 S: 250-mx.example.org  [2xx"), "%s", cap.buf);
    cr_assert(strstr(cap.buf, "\n                      250-PIPELINING\n"), "%s", cap.buf);
    cr_assert(strstr(cap.buf, "\n                      250 8BITMIME\n"), "%s", cap.buf);
    cr_assert(strstr(cap.buf, "#1 -- end close, tls none, 4 commands"), "%s", cap.buf);
    free(cap.buf);
}

Test(live, escapes_wire_bytes)
{
    struct capture cap;
    struct smtp_sink *k = live_open(&cap, (struct out_live_opts){.color = false});
    struct smtp_session_info s = mk_session(3);
    k->session_start(k->ctx, &s);
    struct smtp_command c =
        mk_cmd(SMTP_VERB_UNKNOWN, "X\x1b[2J", "a\x1b]0;pwned\x07 b\r\n\t\x7f \xff\xfe \xc3(");
    static const char *const lines[] = {"ok \x1b[31mred\x9b\x01 \xc2\x9b done"};
    struct smtp_reply r = mk_reply(500, "", 1, lines);
    feed_exchange(k, &s, &c, &r);
    struct smtp_notice n = {.id = SMTP_NOTICE_MALFORMED_REPLY, .ts = r.ts};
    memcpy(n.detail, "bad \x1b[0m detail", 16);
    k->notice(k->ctx, &s, &n);
    k->session_end(k->ctx, &s);
    live_close(&cap, k);
    assert_terminal_safe(cap.buf, cap.len);
    cr_assert_null(memchr(cap.buf, 0x1b, cap.len));
    cr_assert(strstr(cap.buf, "C: X\\x1b[2J a\\x1b]0;pwned\\x07 b\\r\\n\\t\\x7f \\xff\\xfe \\xc3("), "%s",
              cap.buf);
    cr_assert(strstr(cap.buf, "\\xc2\\x9b"), "C1 control passed: %s", cap.buf);
    cr_assert(strstr(cap.buf, "!! malformed-reply (medium): bad \\x1b[0m detail"), "%s", cap.buf);
    free(cap.buf);
}

Test(live, color_off_has_no_escape)
{
    struct capture cap;
    struct smtp_sink *k = live_open(&cap, (struct out_live_opts){.color = false});
    feed_session(k, 1, 550);
    live_close(&cap, k);
    cr_assert_null(memchr(cap.buf, 0x1b, cap.len));
    cr_assert(strstr(cap.buf, "S: 550 5.1.1"));
    free(cap.buf);
}

Test(live, color_on_makes_5xx_red)
{
    struct capture cap;
    struct smtp_sink *k = live_open(&cap, (struct out_live_opts){.color = true});
    feed_session(k, 1, 550);
    live_close(&cap, k);
    cr_assert(strstr(cap.buf, "S: \033[31m550 5.1.1"), "%s", cap.buf);
    cr_assert(strstr(cap.buf, "S: \033[32m250 2.1.0"), "%s", cap.buf);
    /* every coloured stretch ends before its newline */
    for (char *nl = strchr(cap.buf, '\n'); nl; nl = strchr(nl + 1, '\n'))
        if (nl - cap.buf >= 4 && memchr(cap.buf, 0x1b, (size_t)(nl - cap.buf)))
            cr_assert(nl[-1] != 'm' || strncmp(nl - 4, "\033[0m", 4) == 0);
    free(cap.buf);
}

Test(live, errors_only_skips_clean_sessions)
{
    struct capture cap;
    struct smtp_sink *k = live_open(&cap, (struct out_live_opts){.errors_only = true});
    feed_session(k, 1, 250);
    live_close(&cap, k);
    cr_assert_eq(cap.len, 0, "unexpected output: %s", cap.buf);
    free(cap.buf);
}

Test(live, errors_only_prints_failed_session_at_its_end)
{
    struct capture cap;
    struct smtp_sink *k = live_open(&cap, (struct out_live_opts){.errors_only = true, .flush_each = true});
    struct smtp_session_info s = mk_session(7);
    k->session_start(k->ctx, &s);
    struct smtp_command c = mk_cmd(SMTP_VERB_RCPT, "RCPT", "TO:<bob@example.org>");
    static const char *const bad[] = {"5.1.1 no such user"};
    struct smtp_reply r = mk_reply(550, "5.1.1", 1, bad);
    feed_exchange(k, &s, &c, &r);
    fflush(cap.f);
    cr_assert_eq(cap.len, 0, "printed before the session ended");
    k->session_end(k->ctx, &s);
    fflush(cap.f);
    cr_assert(cap.len > 0);
    cr_assert(strstr(cap.buf, "#7 ++ 192.0.2.7"), "%s", cap.buf);
    cr_assert(strstr(cap.buf, "#7 C: RCPT TO:<bob@example.org>"), "%s", cap.buf);
    cr_assert(strstr(cap.buf, "#7 S: 550 5.1.1 no such user"), "%s", cap.buf);
    cr_assert(strstr(cap.buf, "#7 -- end close"), "%s", cap.buf);
    live_close(&cap, k);
    free(cap.buf);
}

Test(live, errors_only_interleaved_sessions)
{
    struct capture cap;
    struct smtp_sink *k = live_open(&cap, (struct out_live_opts){.errors_only = true});
    feed_session(k, 1, 250);
    feed_session(k, 2, 550);
    feed_session(k, 3, 250);
    live_close(&cap, k);
    cr_assert_null(strstr(cap.buf, "#1 "));
    cr_assert_null(strstr(cap.buf, "#3 "));
    cr_assert(strstr(cap.buf, "#2 S: 550"), "%s", cap.buf);
    free(cap.buf);
}

Test(live, quiet_one_line_per_session)
{
    struct capture cap;
    struct smtp_sink *k = live_open(&cap, (struct out_live_opts){.quiet = true});
    feed_session(k, 1, 250);
    feed_session(k, 2, 550);
    live_close(&cap, k);
    cr_assert_eq(count_char(cap.buf, cap.len, '\n'), 2, "%s", cap.buf);
    cr_assert(strstr(cap.buf,
                     "10:00:00.123456 #1 192.0.2.7:40022 -> 198.51.100.25:25 helo=client.example.net "
                     "tls=none 2xx:5 3xx:0 4xx:0 5xx:0 mails=0 notices=0 end=close 4.876s\n"),
              "%s", cap.buf);
    cr_assert(strstr(cap.buf, "#2 ") && strstr(cap.buf, "5xx:1 mails=1"), "%s", cap.buf);
    free(cap.buf);
}

Test(live, quiet_with_errors_only)
{
    struct capture cap;
    struct smtp_sink *k = live_open(&cap, (struct out_live_opts){.quiet = true, .errors_only = true});
    feed_session(k, 1, 250);
    feed_session(k, 2, 550);
    live_close(&cap, k);
    cr_assert_eq(count_char(cap.buf, cap.len, '\n'), 1, "%s", cap.buf);
    cr_assert(strstr(cap.buf, "#2 "), "%s", cap.buf);
    free(cap.buf);
}

/* The core replaces the secret and keeps the mechanism; the feed shows what the core kept, the
 * mechanism included (it printed a bare "AUTH [redacted]", hiding PLAIN, before). */
Test(live, redacted_arg_keeps_mechanism)
{
    struct capture cap;
    struct smtp_sink *k = live_open(&cap, (struct out_live_opts){0});
    struct smtp_session_info s = mk_session(4);
    k->session_start(k->ctx, &s);
    struct smtp_command c = mk_cmd(SMTP_VERB_AUTH, "AUTH", "PLAIN [redacted]");
    c.arg_redacted = true;
    static const char *const ok[] = {"2.7.0 Authentication successful"};
    struct smtp_reply r = mk_reply(235, "2.7.0", 1, ok);
    feed_exchange(k, &s, &c, &r);
    k->session_end(k->ctx, &s);
    live_close(&cap, k);
    cr_assert(strstr(cap.buf, "C: AUTH PLAIN [redacted]\n"), "%s", cap.buf);
    free(cap.buf);
}

Test(live, long_arg_shortened)
{
    struct capture cap;
    struct smtp_sink *k = live_open(&cap, (struct out_live_opts){.arg_width = 20});
    struct smtp_session_info s = mk_session(5);
    k->session_start(k->ctx, &s);
    struct smtp_command c =
        mk_cmd(SMTP_VERB_MAIL, "MAIL", "FROM:<a\x01@example.org> SIZE=123456789 BODY=8BITMIME");
    feed_exchange(k, &s, &c, NULL);
    k->session_end(k->ctx, &s);
    live_close(&cap, k);
    /* 20 columns: "FROM:<a" (7) + "\x01" (4) + "@example." (9); 17 of the 50 wire bytes shown */
    cr_assert(strstr(cap.buf, "C: MAIL FROM:<a\\x01@example.... (+33 bytes)\n"), "%s", cap.buf);
    free(cap.buf);
}

Test(live, transaction_and_notice_lines)
{
    struct capture cap;
    struct smtp_sink *k = live_open(&cap, (struct out_live_opts){.color = true});
    feed_session(k, 9, 550);
    live_close(&cap, k);
    cr_assert(strstr(cap.buf, "#9 == \033[31mmail 1 rejected at RCPT\033[0m: from alice@example.net, rcpt 0 "
                              "accepted / 1 rejected\n"),
              "%s", cap.buf);
    free(cap.buf);
}

/* ---- summary ---- */

static struct summary *summary_fed(void)
{
    struct summary *sm = summary_new();
    cr_assert_not_null(sm);
    struct smtp_sink *k = summary_sink(sm);
    feed_session(k, 1, 250);
    feed_session(k, 2, 550);
    return sm;
}

static char *temp_path(void)
{
    static char path[] = "/tmp/test_sinks.XXXXXX";
    char *p = strdup(path);
    int fd = mkstemp(p);
    cr_assert(fd >= 0);
    close(fd);
    return p;
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f, "%s: %s", path, strerror(errno));
    char *buf = NULL;
    size_t cap = 0, len = 0;
    FILE *m = open_memstream(&buf, &cap);
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        len += fwrite(chunk, 1, n, m);
    fclose(f);
    fclose(m);
    cr_assert_eq(strlen(buf), len);
    return buf;
}

static void assert_no_temp_left(const char *path)
{
    char pat[256];
    size_t n = strlen(path);
    cr_assert(n + 3 < sizeof(pat));
    memcpy(pat, path, n);
    memcpy(pat + n, ".*", 3);
    glob_t g;
    int rc = glob(pat, 0, NULL, &g);
    cr_assert_eq(rc, GLOB_NOMATCH, "temporary file left: %s", rc == 0 ? g.gl_pathv[0] : "?");
    if (rc == 0)
        globfree(&g);
}

Test(summary, json_complete_and_atomic)
{
    struct summary *sm = summary_fed();
    static const char *const src[] = {"capture.pcap"};
    struct capture_stats cs = {.nsources = 1,
                               .sources = src,
                               .packets = 42,
                               .bytes = 4242,
                               .first = {1714557600, 0},
                               .last = {1714557605, 0}};
    char *path = temp_path();
    cr_assert_eq(summary_write(sm, &cs, path, SUMMARY_JSON), 0, "%s", strerror(errno));
    assert_no_temp_left(path);
    char *j = slurp(path);
    static const char *const keys[] = {"\"schema\": 1",
                                       "\"capture\": {",
                                       "\"sources\": [\n      \"capture.pcap\"\n    ]",
                                       "\"packets\": 42",
                                       "\"first\": \"2024-05-01T10:00:00.000000Z\"",
                                       "\"sessions\": {",
                                       "\"total\": 2",
                                       "\"close\": 2",
                                       "\"by_code\": {",
                                       "\"550\": {",
                                       "\"class\": \"5xx\"",
                                       "\"by_enhanced\": {",
                                       "\"5.1.1\": {",
                                       "\"RCPT\": 2",
                                       "\"rejected\": 1",
                                       "\"failed_deliveries\": {",
                                       "\"recipient\": \"bob@example.org\"",
                                       "\"sender\": \"alice@example.net\"",
                                       "\"stage\": \"RCPT\"",
                                       "\"code\": 550",
                                       "\"top_by_sessions\": [",
                                       "\"ip\": \"198.51.100.25\"",
                                       "\"failures\": 1"};
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        cr_assert(strstr(j, keys[i]), "missing %s in\n%s", keys[i], j);
    cr_assert_eq(j[0], '{');
    cr_assert_eq(strcmp(j + strlen(j) - 2, "}\n"), 0);
    /* callable again (SIGINT, then the end of input): same state, same bytes */
    cr_assert_eq(summary_write(sm, &cs, path, SUMMARY_JSON), 0);
    char *j2 = slurp(path);
    cr_assert_str_eq(j, j2);
    assert_no_temp_left(path);
    unlink(path);
    free(j);
    free(j2);
    free(path);
    summary_free(sm);
}

Test(summary, json_escapes_wire_names)
{
    struct summary *sm = summary_new();
    struct smtp_sink *k = summary_sink(sm);
    struct smtp_session_info s = mk_session(1);
    k->session_start(k->ctx, &s);
    struct smtp_transaction t;
    struct smtp_rcpt rc[1] = {0};
    memset(&t, 0, sizeof(t));
    t.rcpt = rc;
    memcpy(t.mail_from, "ev\"il\x1b\xff@x", 10);
    t.nrcpt = 1;
    memcpy(t.rcpt[0].addr, "b\\o\nb", 6);
    t.rcpt[0].code = 450;
    k->transaction(k->ctx, &s, &t);
    k->session_end(k->ctx, &s);
    char *path = temp_path();
    cr_assert_eq(summary_write(sm, NULL, path, SUMMARY_JSON), 0);
    char *j = slurp(path);
    cr_assert(strstr(j, "\"sender\": \"ev\\\"il\\u001b\\u00ff@x\""), "%s", j);
    cr_assert(strstr(j, "\"recipient\": \"b\\\\o\\nb\""), "%s", j);
    assert_terminal_safe(j, strlen(j));
    cr_assert_eq(summary_write(sm, NULL, path, SUMMARY_TEXT), 0);
    char *t2 = slurp(path);
    assert_terminal_safe(t2, strlen(t2));
    cr_assert_null(strchr(t2, 0x1b));
    unlink(path);
    free(j);
    free(t2);
    free(path);
    summary_free(sm);
}

/* The summary counts enhanced codes by what the core parsed (one grammar): "5.01.1" and "5.1.1" are
 * one code, named from the registry, in JSON and in text. */
Test(summary, enhanced_counted_by_parsed_code)
{
    struct summary *sm = summary_new();
    struct smtp_sink *k = summary_sink(sm);
    struct smtp_session_info s = mk_session(1);
    k->session_start(k->ctx, &s);
    static const char *const l1[] = {"5.01.1 no such user"}, *const l2[] = {"5.1.1 no such user"};
    struct smtp_command c = mk_cmd(SMTP_VERB_RCPT, "RCPT", "TO:<a@example.org>");
    struct smtp_reply r1 = mk_reply(550, "5.01.1", 1, l1), r2 = mk_reply(550, "5.1.1", 1, l2);
    r1.enh = r2.enh = (struct smtp_enhanced){5, 1, 1};
    feed_exchange(k, &s, &c, &r1);
    feed_exchange(k, &s, &c, &r2);
    k->session_end(k->ctx, &s);
    char *path = temp_path();
    cr_assert_eq(summary_write(sm, NULL, path, SUMMARY_JSON), 0);
    char *j = slurp(path);
    cr_expect(strstr(j, "\"5.1.1\": {\n        \"count\": 2,\n        \"name\": \"Bad destination mailbox address\""),
              "%s", j);
    cr_expect_null(strstr(j, "5.01.1"), "%s", j);
    cr_assert_eq(summary_write(sm, NULL, path, SUMMARY_TEXT), 0);
    char *t = slurp(path);
    cr_expect(strstr(t, "5.1.1                   2  Bad destination mailbox address"), "%s", t);
    unlink(path);
    free(j);
    free(t);
    free(path);
    summary_free(sm);
}

Test(summary, text_lists_failed_delivery)
{
    struct summary *sm = summary_fed();
    char *path = temp_path();
    cr_assert_eq(summary_write(sm, NULL, path, SUMMARY_TEXT), 0);
    assert_no_temp_left(path);
    char *t = slurp(path);
    cr_assert(strstr(t, "Failed deliveries\n-----------------\n"), "%s", t);
    const char *row = strstr(t, "  2024-05-01T10:00:01.000500Z  #2");
    cr_assert_not_null(row, "%s", t);
    const char *eol = strchr(row, '\n');
    char line[1024];
    size_t n = (size_t)(eol - row) < sizeof(line) - 1 ? (size_t)(eol - row) : sizeof(line) - 1;
    memcpy(line, row, n);
    line[n] = '\0';
    cr_assert(strstr(line, "192.0.2.7") && strstr(line, "198.51.100.25"), "%s", line);
    cr_assert(strstr(line, "alice@example.net") && strstr(line, "bob@example.org"), "%s", line);
    cr_assert(strstr(line, "RCPT  550 5.1.1") || strstr(line, "RCPT  550 -"), "%s", line);
    cr_assert(strstr(line, "5xx "), "%s", line);
    unlink(path);
    free(t);
    free(path);
    summary_free(sm);
}

Test(summary, data_failure_one_row_per_recipient)
{
    struct summary *sm = summary_new();
    struct smtp_sink *k = summary_sink(sm);
    struct smtp_session_info s = mk_session(1);
    k->session_start(k->ctx, &s);
    struct smtp_transaction t;
    struct smtp_rcpt rc[3] = {0};
    memset(&t, 0, sizeof(t));
    t.rcpt = rc;
    memcpy(t.mail_from, "a@x", 4);
    t.nrcpt = 3;
    memcpy(t.rcpt[0].addr, "r1@y", 5);
    t.rcpt[0].code = 250;
    memcpy(t.rcpt[1].addr, "r2@y", 5);
    t.rcpt[1].code = 550;
    memcpy(t.rcpt[2].addr, "r3@y", 5);
    t.rcpt[2].code = 250;
    t.have_data_reply = true;
    t.data_reply.code = 554;
    memcpy(t.data_reply.enhanced, "5.7.1", 6);
    memcpy(t.data_reply.text, "5.7.1 spam", 11);
    k->transaction(k->ctx, &s, &t);
    k->session_end(k->ctx, &s);
    char *path = temp_path();
    cr_assert_eq(summary_write(sm, NULL, path, SUMMARY_JSON), 0);
    char *j = slurp(path);
    cr_assert(strstr(j, "\"total\": 3,\n    \"kept\": 3"), "%s", j);
    cr_assert(strstr(j, "\"recipient\": \"r1@y\",\n        \"stage\": \"DATA\",\n        \"code\": 554"),
              "%s", j);
    cr_assert(strstr(j, "\"recipient\": \"r2@y\",\n        \"stage\": \"RCPT\",\n        \"code\": 550"),
              "%s", j);
    cr_assert(strstr(j, "\"text\": \"5.7.1 spam\""), "%s", j);
    unlink(path);
    free(j);
    free(path);
    summary_free(sm);
}

Test(summary, missing_directory_fails)
{
    struct summary *sm = summary_fed();
    errno = 0;
    cr_assert_eq(summary_write(sm, NULL, "/tmp/no-such-dir-test_sinks/x/summary.json", SUMMARY_JSON), -1);
    cr_assert_eq(errno, ENOENT);
    summary_free(sm);
}

Test(summary, empty_summary_is_valid)
{
    struct summary *sm = summary_new();
    char *path = temp_path();
    cr_assert_eq(summary_write(sm, NULL, path, SUMMARY_JSON), 0);
    char *j = slurp(path);
    cr_assert(strstr(j, "\"by_code\": {},"), "%s", j);
    cr_assert(strstr(j, "\"rows\": []"), "%s", j);
    cr_assert(strstr(j, "\"first\": null"), "%s", j);
    unlink(path);
    free(j);
    free(path);
    summary_free(sm);
}

/* ---- tee ---- */

struct calls {
    char log[64];
    size_t n;
};

static void rec(void *ctx, char c)
{
    struct calls *k = ctx;
    if (k->n + 1 < sizeof(k->log))
        k->log[k->n++] = c;
}
static void rec_start(void *ctx, const struct smtp_session_info *s)
{
    rec(ctx, 's');
}
static void rec_x(void *ctx, const struct smtp_session_info *s, const struct smtp_exchange *x)
{
    rec(ctx, 'x');
}
static void rec_end(void *ctx, const struct smtp_session_info *s)
{
    rec(ctx, 'e');
}

Test(tee, fans_out_in_order_and_skips_null_callbacks)
{
    struct calls a = {0}, b = {0};
    struct smtp_sink sa = {.ctx = &a, .session_start = rec_start, .exchange = rec_x, .session_end = rec_end};
    struct smtp_sink sb = {.ctx = &b, .session_end = rec_end};
    struct smtp_sink *v[] = {&sa, &sb};
    struct smtp_sink *t = sink_tee_new(v, 2);
    cr_assert_not_null(t);
    feed_session(t, 1, 550); /* includes a transaction: neither sink takes it */
    sink_tee_free(t);
    cr_assert_str_eq(a.log, "sxxxxxe");
    cr_assert_str_eq(b.log, "e");
}
