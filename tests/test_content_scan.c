/* test_content_scan.c - the core's vector scans against plain byte loops. The DATA content fast
 * path (smtp_content_plain, a 64-byte block scan, AVX2 or SSE2) against a line-by-line reading
 * of the same rule, on crafted and random content: it must take exactly the whole lines that
 * need no look of their own, and say how the last one ended. The line framer's LF search (16
 * bytes a step, an overlapping tail) on lines of every length, cut at every point. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "smtp/smtp_body.h"
#include "smtp/smtp_line.h"

/* The rule, one line at a time: a line is plain if it does not start with '.', every CR in it
 * is the one right before its LF, and it is at most SMTP_RFC_TEXT_LINE bytes with the LF. */
static size_t reference(const uint8_t *p, size_t n, bool *crlf)
{
    size_t i = 0;
    while (i < n && p[i] != '.') {
        size_t j = i;
        while (j < n && p[j] != '\n')
            j++;
        if (j == n || j + 1 - i > SMTP_RFC_TEXT_LINE)
            break;
        bool bad_cr = false;
        for (size_t k = i; k < j; k++)
            if (p[k] == '\r' && k + 1 != j)
                bad_cr = true;
        if (bad_cr)
            break;
        *crlf = j > i && p[j - 1] == '\r';
        i = j + 1;
    }
    return i;
}

/* The core's one readable rule, smtp_content_line_plain, says the same of every whole line. */
static void check_rule(const uint8_t *p, size_t n, const char *what)
{
    for (size_t i = 0; i < n;) {
        const uint8_t *lf = memchr(p + i, '\n', n - i);
        if (lf == NULL)
            return;
        size_t len = (size_t)(lf - (p + i)) + 1;
        bool dummy = true;
        bool plain = reference(p + i, len, &dummy) == len;
        cr_assert_eq(smtp_content_line_plain(p + i, len), plain, "%s: line at %zu (%zu bytes)", what, i, len);
        i += len;
    }
}

static void check(const uint8_t *p, size_t n, const char *what)
{
    check_rule(p, n, what);
    bool c1 = true, c2 = true;
    size_t got = smtp_content_plain(p, n, &c1), want = reference(p, n, &c2);
    cr_assert_eq(got, want, "%s (%zu bytes): took %zu, want %zu", what, n, got, want);
    cr_assert_eq(c1, c2, "%s (%zu bytes): last line crlf %d, want %d", what, n, c1, c2);
}

static size_t put_line(uint8_t *buf, size_t at, size_t len, const char *end)
{
    for (size_t i = 0; i < len; i++)
        buf[at + i] = (uint8_t)('a' + i % 26);
    memcpy(buf + at + len, end, strlen(end));
    return at + len + strlen(end);
}

static void crafted(void)
{
    static uint8_t buf[8192];
    /* every line length around the block size and the RFC limit, CRLF and bare LF */
    const size_t lens[] = {0, 1, 14, 15, 16, 31, 62, 63, 64, 65, 127, 128, 500, 997, 998, 999, 1000, 1500};
    for (size_t a = 0; a < sizeof(lens) / sizeof(lens[0]); a++) {
        for (size_t b = 0; b < sizeof(lens) / sizeof(lens[0]); b++) {
            for (int e = 0; e < 4; e++) {
                size_t n = put_line(buf, 0, lens[a], e & 1 ? "\r\n" : "\n");
                n = put_line(buf, n, lens[b], e & 2 ? "\r\n" : "\n");
                n = put_line(buf, n, 70, "\r\n");
                check(buf, n, "line lengths");
                check(buf, n - 1, "last line cut before its LF");
                check(buf, n - 2, "last line cut before its CRLF");
            }
        }
    }
    /* a line starting with '.', a bare CR, a CR at a block edge, at every offset of a block */
    const char *bad[] = {".", "\r", "x\ry", "\r\r\n", "..", ".\r\n"};
    for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
        for (size_t off = 0; off < 200; off++) {
            size_t n = 0;
            while (n < off)
                n = put_line(buf, n, 9, "\r\n");
            memcpy(buf + n, bad[k], strlen(bad[k]));
            n += strlen(bad[k]);
            n = put_line(buf, n, 40, "\r\n");
            n = put_line(buf, n, 300, "\r\n");
            check(buf, n, bad[k]);
        }
    }
}

static void random_contents(void)
{
    static const uint8_t alphabet[] = {'a', 'b', ' ', '.', '\r', '\n', 0x80, '\t'};
    static uint8_t buf[4096];
    unsigned seed = 20261123;
    for (int round = 0; round < 20000; round++) {
        size_t n = (size_t)rand_r(&seed) % sizeof(buf);
        /* mostly text with rare specials, as mail is; sometimes dense specials */
        unsigned rare = round % 3 == 0 ? 2 : 40;
        for (size_t i = 0; i < n; i++) {
            unsigned r = (unsigned)rand_r(&seed);
            buf[i] = r % rare ? (uint8_t)('a' + r % 26) : alphabet[(r >> 8) % sizeof(alphabet)];
            if (r % 61 == 0)
                buf[i] = '\n';
        }
        check(buf, n, "random");
    }
}

/* Criterion runs each test in its own process: the scan picks its vector width once, at first
 * use, so each width gets its own tests. */
static void sse2_only(void)
{
    setenv("SMTPSNIFF_NO_AVX2", "1", 1);
}

Test(content_scan, crafted)
{
    crafted();
}

Test(content_scan, random)
{
    random_contents();
}

Test(content_scan, crafted_sse2, .init = sse2_only)
{
    crafted();
}

Test(content_scan, random_sse2, .init = sse2_only)
{
    random_contents();
}

/* Lines of every length 0-150 (CRLF or bare LF), followed by a second line, fed whole and cut
 * in two at every point: the framer must give back exactly those lines. */
Test(line_framer, every_length_every_cut)
{
    for (size_t len = 0; len <= 150; len++) {
        for (int bare = 0; bare < 2; bare++) {
            uint8_t in[160 + 8];
            size_t n = 0;
            for (size_t i = 0; i < len; i++)
                in[n++] = (uint8_t)('a' + i % 26);
            if (!bare)
                in[n++] = '\r';
            in[n++] = '\n';
            size_t first = n;
            memcpy(in + n, "QUIT\r\n", 6);
            n += 6;
            for (size_t cut = 0; cut <= n; cut++) {
                struct smtp_line_framer f = {0};
                struct smtp_line l;
                const uint8_t *p = in;
                size_t left = cut;
                int got = 0;
                for (int part = 0; part < 2; part++) {
                    while (smtp_line_next(&f, &p, &left, &l)) {
                        if (got == 0) {
                            cr_assert_eq(l.len, len, "len=%zu bare=%d cut=%zu: got %zu", len, bare, cut, l.len);
                            cr_assert(memcmp(l.p, in, len) == 0);
                            cr_assert_eq(l.crlf, !bare);
                            cr_assert_eq(l.wire_len, first);
                        } else {
                            cr_assert_eq(l.len, 4);
                            cr_assert(memcmp(l.p, "QUIT", 4) == 0);
                        }
                        got++;
                    }
                    p = in + cut;
                    left = n - cut;
                }
                cr_assert_eq(got, 2, "len=%zu bare=%d cut=%zu: %d lines", len, bare, cut, got);
                smtp_line_free(&f);
            }
        }
    }
}

/* smtp_find_byte against memchr: the byte at every position of every length to 200, absent,
 * and twice (the first one must be found). */
Test(line_framer, find_byte_matches_memchr)
{
    uint8_t buf[200];
    for (size_t n = 0; n <= sizeof(buf); n++) {
        for (size_t at = 0; at <= n; at++) {
            memset(buf, 'x', sizeof(buf));
            if (at < n)
                buf[at] = ':';
            if (at + 7 < n)
                buf[at + 7] = ':';
            const uint8_t *want = n ? memchr(buf, ':', n) : NULL;
            cr_assert_eq(smtp_find_byte(buf, n, ':'), want, "n=%zu at=%zu", n, at);
        }
    }
}
