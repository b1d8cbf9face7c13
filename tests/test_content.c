/* test_content.c - the content stage over the SMTP core: the message bytes the server received
 * (dot-unstuffed, the final CRLF kept, chunks joined), holes, smuggling offsets and MIME parts,
 * each dialogue re-run with its content step split at every byte offset. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "content/content.h"
#include "smtp/smtp_core.h"

/* What the recording sink keeps of the last transaction with content. */
static struct {
    char eml[8192];
    size_t eml_len;
    uint64_t size;
    bool partial, ended, chunked, mime_error;
    unsigned nholes, nsplits, nparts, ntxn, mismatch_notices;
    struct content_hole hole[CONTENT_MAX_HOLES];
    struct content_split split[CONTENT_MAX_SPLITS];
    struct content_part part[8];
    uint64_t core_size; /* the core's own message.size */
} R;

static void rec_txn(void *ctx, const struct smtp_session_info *s, const struct smtp_transaction *t)
{
    (void)ctx;
    (void)s;
    R.ntxn++;
    const struct content_message *cm = t->content;
    if (cm == NULL)
        return;
    cr_assert_leq(cm->eml_len, sizeof(R.eml));
    memcpy(R.eml, cm->eml, cm->eml_len);
    R.eml_len = cm->eml_len;
    R.size = cm->size;
    R.partial = cm->partial;
    R.ended = cm->ended;
    R.chunked = cm->chunked;
    R.mime_error = cm->mime_error;
    R.nholes = cm->nholes;
    memcpy(R.hole, cm->hole, sizeof(R.hole));
    R.nsplits = cm->nsplits;
    memcpy(R.split, cm->split, sizeof(R.split));
    R.nparts = cm->nparts < 8 ? cm->nparts : 8;
    memcpy(R.part, cm->part, R.nparts * sizeof(R.part[0]));
    R.core_size = t->message.size;
}

static void rec_notice(void *ctx, const struct smtp_session_info *s, const struct smtp_notice *n)
{
    (void)ctx;
    (void)s;
    if (n->id == SMTP_NOTICE_CONTENT_TYPE_MISMATCH)
        R.mismatch_notices++;
}

struct step {
    char dir; /* 'C', 'S', or 'G' (a gap of `len` client bytes) */
    const char *p;
    size_t len;
};
#define C(s) {'C', (s), sizeof(s) - 1}
#define S(s) {'S', (s), sizeof(s) - 1}

/* Run the steps, feeding step `cut` in two writes split at `at`; end with `end`. */
static void run(const struct step *st, size_t n, size_t cut, size_t at, enum smtp_end_reason end)
{
    memset(&R, 0, sizeof(R));
    struct smtp_sink rec = {.transaction = rec_txn, .notice = rec_notice};
    char err[128];
    struct content_opts o = {.max_message = 1 << 20, .memcap = 1 << 22};
    struct smtp_sink *cs = content_new(&o, &rec, err, sizeof(err));
    cr_assert_not_null(cs, "%s", err);
    struct smtp_endpoint c = {"127.0.0.1", 40000}, sv = {"127.0.0.1", 25};
    struct timeval ts = {1700000000, 0};
    struct smtp_session *s = smtp_session_new(1, &c, &sv, &ts, cs, 0);
    for (size_t i = 0; i < n; i++) {
        ts.tv_usec += 10;
        if (st[i].dir == 'G') {
            smtp_session_gap(s, SMTP_DIR_CLIENT, st[i].len, &ts);
            continue;
        }
        enum smtp_dir d = st[i].dir == 'C' ? SMTP_DIR_CLIENT : SMTP_DIR_SERVER;
        size_t k = i == cut && at < st[i].len ? at : st[i].len;
        smtp_session_data(s, d, (const uint8_t *)st[i].p, k, &ts);
        if (k < st[i].len)
            smtp_session_data(s, d, (const uint8_t *)st[i].p + k, st[i].len - k, &ts);
    }
    smtp_session_end(s, end, &ts);
    smtp_session_free(s);
    content_free(cs);
}

#define HEAD(content)                                                                              \
    S("220 mx ESMTP\r\n"), C("EHLO c\r\n"), S("250-mx\r\n250-PIPELINING\r\n250 CHUNKING\r\n"),     \
        C("MAIL FROM:<a@x>\r\n"), S("250 ok\r\n"), C("RCPT TO:<b@y>\r\n"), S("250 ok\r\n"),      \
        C("DATA\r\n"), S("354 go\r\n"), C(content)

Test(content, unstuffed_with_the_crlf_before_the_dot_at_every_split)
{
    static const struct step d[] = {HEAD("Subject: s\r\n\r\n..dot line\r\nplain\r\n...\r\n.\r\n"),
                                    S("250 queued\r\n"), C("QUIT\r\n"), S("221 bye\r\n")};
    const char want[] = "Subject: s\r\n\r\n.dot line\r\nplain\r\n..\r\n";
    for (size_t at = 0; at <= d[9].len; at++) {
        run(d, sizeof(d) / sizeof(d[0]), 9, at, SMTP_END_CLOSE);
        cr_assert_eq(R.eml_len, sizeof(want) - 1, "split %zu: %zu bytes", at, R.eml_len);
        cr_assert_arr_eq(R.eml, want, sizeof(want) - 1, "split %zu", at);
        cr_assert_eq(R.size, R.core_size, "split %zu: the stage and the core agree on the size", at);
        cr_assert(R.ended && !R.partial && !R.chunked, "split %zu", at);
    }
}

Test(content, smuggling_end_is_located_in_the_message)
{
    static const struct step d[] = {HEAD("Subject: s\r\n\r\nhello\r\n\n.\nMAIL FROM:<evil@x>\r\n.\r\n"),
                                    S("250 queued\r\n")};
    for (size_t at = 0; at <= d[9].len; at++) {
        run(d, sizeof(d) / sizeof(d[0]), 9, at, SMTP_END_CLOSE);
        cr_assert_eq(R.nsplits, 1, "split %zu", at);
        const char *eml = R.eml;
        /* A lenient server ends the message at the dot and reads the MAIL line as a command. */
        cr_assert_eq(R.split[0].end, strlen("Subject: s\r\n\r\nhello\r\n\n"), "split %zu: end %llu", at,
                     (unsigned long long)R.split[0].end);
        R.eml[R.eml_len] = '\0';
        cr_assert_str_eq(eml + R.split[0].resume, "MAIL FROM:<evil@x>\r\n", "split %zu", at);
    }
}

Test(content, gap_inside_data_is_a_hole_never_filled)
{
    static const struct step d[] = {HEAD("Subject: s\r\n\r\nfirst\r\n"), {'G', NULL, 500},
                                    C("after the hole\r\n.\r\n"), S("250 queued\r\n")};
    run(d, sizeof(d) / sizeof(d[0]), (size_t)-1, 0, SMTP_END_CLOSE);
    cr_assert_eq(R.nholes, 1);
    cr_assert_eq(R.hole[0].offset, strlen("Subject: s\r\n\r\nfirst\r\n"));
    cr_assert_eq(R.hole[0].len, 500);
    cr_assert_eq(R.hole[0].kind, CONTENT_HOLE_GAP);
    cr_assert(R.partial);
    const char want[] = "Subject: s\r\n\r\nfirst\r\nafter the hole\r\n";
    cr_assert_eq(R.eml_len, sizeof(want) - 1);
    cr_assert_arr_eq(R.eml, want, sizeof(want) - 1);
    cr_assert_eq(R.size, R.eml_len + 500);
}

Test(content, cut_by_the_end_of_the_capture_is_partial)
{
    static const struct step d[] = {HEAD("Subject: s\r\n\r\nunfinished\r\n..more")};
    run(d, sizeof(d) / sizeof(d[0]), (size_t)-1, 0, SMTP_END_EOF);
    cr_assert(R.partial && !R.ended);
    const char want[] = "Subject: s\r\n\r\nunfinished\r\n.more";
    cr_assert_eq(R.eml_len, sizeof(want) - 1);
    cr_assert_arr_eq(R.eml, want, sizeof(want) - 1);
}

Test(content, bdat_chunks_are_joined_at_every_split)
{
    static const struct step d[] = {
        S("220 mx ESMTP\r\n"), C("EHLO c\r\n"), S("250-mx\r\n250 CHUNKING\r\n"),
        C("MAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nBDAT 14\r\nSubject: s\r\n\r\nBDAT 8 LAST\r\n.\r\nend\r\n"),
        S("250 ok\r\n250 ok\r\n250 chunk\r\n250 queued\r\n")};
    const char want[] = "Subject: s\r\n\r\n.\r\nend\r\n";
    for (size_t at = 0; at <= d[3].len; at++) {
        run(d, sizeof(d) / sizeof(d[0]), 3, at, SMTP_END_CLOSE);
        cr_assert_eq(R.eml_len, sizeof(want) - 1, "split %zu", at);
        cr_assert_arr_eq(R.eml, want, sizeof(want) - 1, "split %zu: the dot is not stuffing in BDAT", at);
        cr_assert(R.chunked && R.ended && !R.partial, "split %zu: chunked %d ended %d partial %d", at, R.chunked, R.ended, R.partial);
    }
}

Test(content, mime_parts_hashed_and_sniffed)
{
    /* "hello" in base64, declared as a PDF: its bytes are text, not a PDF. */
    static const struct step d[] = {
        HEAD("Subject: s\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n"
             "--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nbody\r\n"
             "--b\r\nContent-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n"
             "Content-Disposition: attachment; filename*=UTF-8''r%C3%A9sum%C3%A9.pdf\r\n\r\naGVsbG8=\r\n"
             "--b--\r\n.\r\n"),
        S("250 queued\r\n")};
    run(d, sizeof(d) / sizeof(d[0]), (size_t)-1, 0, SMTP_END_CLOSE);
    cr_assert(!R.mime_error);
    cr_assert_eq(R.nparts, 3);
    cr_assert_str_eq(R.part[0].type, "multipart/mixed");
    cr_assert_str_eq(R.part[1].path, "1.1");
    cr_assert_str_eq(R.part[1].charset, "utf-8");
    cr_assert_str_eq(R.part[2].path, "1.2");
    cr_assert_str_eq(R.part[2].filename, "r\xc3\xa9sum\xc3\xa9.pdf");
    cr_assert_str_eq(R.part[2].disposition, "attachment");
    cr_assert_str_eq(R.part[2].encoding, "base64");
    cr_assert_eq(R.part[2].size, 5);
    cr_assert_str_eq(R.part[2].sha256, "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");
    cr_assert_str_eq(R.part[2].md5, "5d41402abc4b2a76b9719d911017c592");
    cr_assert_str_eq(R.part[2].sha1, "aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d");
    cr_assert(R.part[2].type_mismatch, "a PDF whose bytes are text (%s)", R.part[2].sniffed);
    cr_assert_eq(R.mismatch_notices, 1);
}

Test(content, no_content_callback_without_the_stage)
{
    /* The default path: the core hands content to nobody (the sink has no content callback), and
     * transaction records carry no content. */
    static const struct step d[] = {HEAD("Subject: s\r\n\r\nx\r\n.\r\n"), S("250 queued\r\n")};
    memset(&R, 0, sizeof(R));
    struct smtp_sink rec = {.transaction = rec_txn};
    struct smtp_endpoint c = {"127.0.0.1", 40000}, sv = {"127.0.0.1", 25};
    struct timeval ts = {1700000000, 0};
    struct smtp_session *s = smtp_session_new(1, &c, &sv, &ts, &rec, 0);
    for (size_t i = 0; i < sizeof(d) / sizeof(d[0]); i++)
        smtp_session_data(s, d[i].dir == 'C' ? SMTP_DIR_CLIENT : SMTP_DIR_SERVER, (const uint8_t *)d[i].p,
                          d[i].len, &ts);
    smtp_session_end(s, SMTP_END_CLOSE, &ts);
    smtp_session_free(s);
    cr_assert_eq(R.ntxn, 1);
    cr_assert_eq(R.eml_len, 0);
}
