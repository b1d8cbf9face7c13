/* smtp_body.c - message content: the exact end of DATA (RFC 5321 4.1.1.4), smuggling-style
 * ends, dot-unstuffing (4.5.2), size, and the top-level headers (RFC 5322 2.2, RFC 2047 words). */
#define _GNU_SOURCE /* memmem */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "smtp/smtp_base64.h"
#include "smtp/smtp_body.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif

void smtp_body_begin(struct smtp_body *b)
{
    b->prev_crlf = true; /* the DATA line itself ended with CRLF */
    b->smuggle_seen = false;
    b->in_headers = true;
    b->fed = false;
    b->after_hole = b->holed = false;
    b->header_bytes = 0;
    b->cur_name[0] = '\0';
    sb_reset(&b->cur);
    smtp_line_reset(&b->bdat_lines);
}

/* --- RFC 2047 encoded words ---------------------------------------------------------------- */

static int hexval(uint8_t c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* Append decoded text of one word, converting ISO-8859-1 to UTF-8; other charsets pass bytes. */
static void put_charset(struct strbuf *out, const uint8_t *p, size_t n, bool latin1)
{
    for (size_t i = 0; i < n; i++) {
        if (latin1 && p[i] >= 0x80) {
            sb_putc(out, (char)(0xC0 | (p[i] >> 6)));
            sb_putc(out, (char)(0x80 | (p[i] & 0x3F)));
        } else {
            sb_putc(out, (char)p[i]);
        }
    }
}

/* Decode "=?charset?enc?text?=" at p (n bytes) into out (NULL: only tell whether one is there).
 * Returns bytes consumed, 0 if not a word. */
static size_t rfc2047_word(const uint8_t *p, size_t n, struct strbuf *out)
{
    if (n < 8 || p[0] != '=' || p[1] != '?')
        return 0;
    const uint8_t *cs = p + 2, *q1 = memchr(cs, '?', n - 2);
    if (q1 == NULL || (size_t)(q1 - p) + 3 >= n || q1[2] != '?')
        return 0;
    uint8_t enc = q1[1] | 0x20;
    const uint8_t *txt = q1 + 3, *end = NULL;
    for (const uint8_t *k = txt; k + 1 < p + n; k++)
        if (k[0] == '?' && k[1] == '=') {
            end = k;
            break;
        }
    if (end == NULL || (enc != 'b' && enc != 'q'))
        return 0;
    if (out == NULL)
        return (size_t)(end + 2 - p);
    size_t cslen = (size_t)(q1 - cs);
    bool latin1 = (cslen == 10 && strncasecmp((const char *)cs, "iso-8859-1", 10) == 0) ||
                  (cslen == 12 && strncasecmp((const char *)cs, "windows-1252", 12) == 0);
    uint8_t tmp[SMTP_MAX_HEADER_VALUE];
    size_t tl = 0, tn = (size_t)(end - txt);
    if (enc == 'b') {
        tl = smtp_base64_decode(txt, tn, tmp, sizeof(tmp));
    } else {
        for (size_t i = 0; i < tn && tl < sizeof(tmp); i++) {
            int h, l;
            if (txt[i] == '_')
                tmp[tl++] = ' ';
            else if (txt[i] == '=' && i + 2 < tn && (h = hexval(txt[i + 1])) >= 0 &&
                     (l = hexval(txt[i + 2])) >= 0) {
                tmp[tl++] = (uint8_t)(h * 16 + l);
                i += 2;
            } else
                tmp[tl++] = txt[i];
        }
    }
    put_charset(out, tmp, tl, latin1);
    return (size_t)(end + 2 - p);
}

/* A header value as it was sent, unescaped (each sink escapes it once for its output); a NUL,
 * which a C string cannot hold, becomes the text "\x00" (smtp.h). Cut at dsz - 1 bytes. */
static void value_to_cstr(char *dst, size_t dsz, const uint8_t *p, size_t n)
{
    size_t o = 0;
    while (n && o + 1 < dsz) {
        const uint8_t *z = memchr(p, 0, n);
        size_t run = z ? (size_t)(z - p) : n;
        if (run > dsz - 1 - o)
            run = dsz - 1 - o;
        memcpy(dst + o, p, run);
        o += run;
        p += run;
        n -= run;
        if (n == 0 || *p != 0 || o + 4 >= dsz)
            break;
        memcpy(dst + o, "\\x00", 4); /* a NUL, which the C string cannot hold */
        o += 4;
        p++;
        n--;
    }
    dst[o] = '\0';
}

/* RFC 2047 6.2: whitespace between adjacent encoded words is dropped. */
static void rfc2047_decode(const uint8_t *p, size_t n, char *dst, size_t dsz)
{
    if (memmem(p, n, "=?", 2) == NULL) { /* no encoded word: most values */
        value_to_cstr(dst, dsz, p, n);
        return;
    }
    char buf[SMTP_MAX_HEADER_VALUE + 1]; /* fixed storage: never grows, never allocates */
    struct strbuf out = {.p = buf, .cap = sizeof(buf), .max = sizeof(buf) - 1};
    size_t i = 0;
    bool last_was_word = false;
    while (i < n) {
        size_t used = rfc2047_word(p + i, n - i, &out);
        if (used) {
            i += used;
            last_was_word = true;
            continue;
        }
        size_t ws = i;
        while (ws < n && (p[ws] == ' ' || p[ws] == '\t'))
            ws++;
        if (last_was_word && ws > i && ws < n && rfc2047_word(p + ws, n - ws, NULL)) {
            i = ws; /* whitespace between two encoded words: dropped, the next loop decodes */
            continue;
        }
        if (i < n)
            sb_putc(&out, (char)p[i++]);
        last_was_word = false;
    }
    value_to_cstr(dst, dsz, (const uint8_t *)out.p, out.len);
}

/* --- headers ------------------------------------------------------------------------------- */

/* The headers kept, from SMTP_HEADER_LIST (smtp.h): where each one goes, and whether RFC 2047
 * words are decoded. A list header (MANY) also names its counter. */
static const struct {
    const char *name;
    size_t len, off, count_off; /* count_off SIZE_MAX: a single value */
    unsigned max;
    bool decode;
} header_slots[] = {
#define HDR_ONE(f, hdr, dec) {hdr, sizeof(hdr) - 1, offsetof(struct smtp_message_info, f), SIZE_MAX, 1, dec},
#define HDR_MANY(f, hdr, mx)                                                                       \
    {hdr, sizeof(hdr) - 1, offsetof(struct smtp_message_info, f),                                  \
     offsetof(struct smtp_message_info, n##f), mx, false},
    SMTP_HEADER_LIST(HDR_ONE, HDR_ONE, HDR_MANY)
#undef HDR_ONE
#undef HDR_MANY
};

void smtp_message_reset(struct smtp_message_info *m)
{
    /* Empty strings and empty lists: what a zeroed struct reads as, without clearing its 6 KB
     * of text (a transaction is reset for every mail). */
    m->size = 0;
    m->missing = 0;
    m->start_missing = false;
#define RESET_ONE(f, hdr, dec) m->f[0] = '\0';
#define RESET_ALSO(f, hdr, dec)
#define RESET_MANY(f, hdr, mx) m->n##f = 0;
    SMTP_HEADER_LIST(RESET_ONE, RESET_ALSO, RESET_MANY)
#undef RESET_ONE
#undef RESET_ALSO
#undef RESET_MANY
}

/* Where a header's value is kept (NULL: not kept); `decode`: RFC 2047 words are decoded. */
static char *header_slot(struct smtp_message_info *m, const char *name, bool *decode)
{
    size_t nl = strlen(name);
    for (size_t i = 0; i < sizeof(header_slots) / sizeof(header_slots[0]); i++) {
        if (header_slots[i].len != nl || strcasecmp(name, header_slots[i].name) != 0)
            continue;
        *decode = header_slots[i].decode;
        char *slot = (char *)m + header_slots[i].off;
        if (header_slots[i].count_off != SIZE_MAX) {
            unsigned *n = (unsigned *)(void *)((char *)m + header_slots[i].count_off);
            return *n < header_slots[i].max ? slot + (size_t)(*n)++ * SMTP_MAX_NAME : NULL;
        }
        return slot[0] ? NULL : slot; /* first occurrence wins */
    }
    return NULL;
}

static void header_commit(struct smtp_body *b, struct smtp_message_info *m)
{
    if (b->cur_name[0] && m) {
        bool decode;
        char *slot = header_slot(m, b->cur_name, &decode);
        const uint8_t *v = (const uint8_t *)(b->cur.p ? b->cur.p : "");
        if (slot && decode)
            rfc2047_decode(v, b->cur.len, slot, SMTP_MAX_NAME);
        else if (slot)
            value_to_cstr(slot, SMTP_MAX_NAME, v, b->cur.len);
    }
    b->cur_name[0] = '\0';
    sb_reset(&b->cur);
}

static void header_line(struct smtp_body *b, struct smtp_message_info *m, const uint8_t *p, size_t n)
{
    b->header_bytes += n + 2;
    if (n == 0 || b->header_bytes > SMTP_MAX_HEADER_BLOCK) {
        header_commit(b, m);
        b->in_headers = false; /* RFC 5322 2.1: an empty line ends the header block */
        return;
    }
    if (p[0] == ' ' || p[0] == '\t') { /* RFC 5322 2.2.3 folding */
        if (b->cur_name[0])
            sb_put(&b->cur, p, n);
        return;
    }
    header_commit(b, m);
    const uint8_t *colon = smtp_find_byte(p, n, ':');
    size_t nl = colon ? (size_t)(colon - p) : 0;
    if (colon == NULL || nl == 0 || nl >= sizeof(b->cur_name))
        return;
    for (size_t i = 0; i < nl; i++) /* RFC 5322 2.2: printable US-ASCII, no colon */
        if (p[i] < 33 || p[i] > 126)
            return;
    memcpy(b->cur_name, p, nl);
    b->cur_name[nl] = '\0';
    size_t v = nl + 1;
    while (v < n && (p[v] == ' ' || p[v] == '\t'))
        v++;
    sb_put(&b->cur, p + v, n - v);
}

/* --- DATA content lines -------------------------------------------------------------------- */

/* A lone '.' next to a bare CR inside one LF-framed line: "\r.\r" anywhere, a line ending in
 * "\r." or starting with ".\r". Servers that take a bare CR as a line end see an end of data.
 * Returns the dot's index in the line and sets *after to where such a server reads on, or
 * returns -1. */
static ptrdiff_t bare_cr_dot(const struct smtp_line *l, size_t *after)
{
    const uint8_t *p = l->p;
    size_t n = l->len;
    if (n >= 2 && p[0] == '.' && p[1] == '\r') {
        *after = 2;
        return 0;
    }
    for (size_t i = 0; i + 2 < n; i++)
        if (p[i] == '\r' && p[i + 1] == '.' && p[i + 2] == '\r') {
            *after = i + 3;
            return (ptrdiff_t)i + 1;
        }
    if (n >= 2 && p[n - 2] == '\r' && p[n - 1] == '.') {
        *after = l->wire_len;
        return (ptrdiff_t)n - 1;
    }
    return -1;
}

/* A smuggling-style end at line bytes [dot, after) of a line that starts at message offset
 * `base`: where a lenient server ends the message and reads on, in message (unstuffed) offsets. */
static void smuggling(struct smtp_body *b, struct smtp_content_line *r, const char *form, uint64_t base, size_t dot,
                      size_t after, bool stuffed)
{
    b->smuggle_seen = true;
    size_t lead = stuffed ? 1 : 0; /* the stuffed dot is not in the message */
    r->smuggling = form;
    r->split.end = base + (dot > lead ? dot - lead : 0);
    r->split.resume = base + (after > lead ? after - lead : 0);
}

/* The line after a hole: its start may be in the hole, so neither its dot nor its CRs say
 * anything (a gap is never read as an end of data or smuggling); it counts as sent. */
static struct smtp_content_line line_after_hole(struct smtp_body *b, struct smtp_message_info *m,
                                                const struct smtp_line *l)
{
    b->after_hole = false;
    if (m)
        m->size += l->wire_len;
    b->prev_crlf = l->crlf;
    return (struct smtp_content_line){.too_long = false};
}

struct smtp_content_line smtp_body_line(struct smtp_body *b, struct smtp_message_info *m, const struct smtp_line *l)
{
    struct smtp_content_line r = {0};
    b->fed = true;
    if (b->after_hole)
        return line_after_hole(b, m, l);
    bool lone_dot = l->len == 1 && l->p[0] == '.' && l->dropped == 0;
    if (lone_dot && l->crlf && b->prev_crlf) {
        r.end = true; /* <CRLF>.<CRLF> */
        return r;
    }
    bool stuffed = l->len > 0 && l->p[0] == '.'; /* RFC 5321 4.5.2: leading dot removed */
    uint64_t base = m ? m->size : 0; /* where this line starts in the message */
    size_t after;
    ptrdiff_t dot;
    if (lone_dot)
        smuggling(b, &r, !l->crlf ? (b->prev_crlf ? "<CRLF>.<LF>" : "<LF>.<LF>") : "<LF>.<CRLF>", base, 0,
                  l->wire_len, stuffed);
    else if (smtp_find_byte(l->p, l->len, '\r') && (dot = bare_cr_dot(l, &after)) >= 0)
        smuggling(b, &r, "<CR>.<CR>", base, (size_t)dot, after, stuffed);
    r.too_long = l->wire_len > SMTP_RFC_TEXT_LINE;
    if (m)
        m->size += l->wire_len - (stuffed ? 1 : 0);
    if (b->in_headers)
        header_line(b, m, l->p, l->len);
    b->prev_crlf = l->crlf;
    return r;
}

/* Index of the first CR or LF in p[0..n), or n. */
static size_t find_cr_lf(const uint8_t *p, size_t n)
{
    size_t k = 0;
    while (k < n && p[k] != '\r' && p[k] != '\n')
        k++;
    return k;
}

bool smtp_content_line_plain(const uint8_t *p, size_t len)
{
    if (len == 0 || p[0] == '.' || len > SMTP_RFC_TEXT_LINE || p[len - 1] != '\n')
        return false;
    size_t k = find_cr_lf(p, len - 1);
    return k == len - 1 || (k == len - 2 && p[k] == '\r');
}

/* Plain lines one at a time from p[i], a line start: the bytes the block scan leaves (fewer
 * than a block, or from a line that stopped it), each decided by smtp_content_line_plain.
 * Returns where the run ends. */
static size_t plain_lines(const uint8_t *p, size_t n, size_t i)
{
    while (i < n) {
        const uint8_t *lf = smtp_find_byte(p + i, n - i, '\n');
        if (lf == NULL)
            break; /* the line goes on in the next segment */
        size_t len = (size_t)(lf - (p + i)) + 1;
        if (!smtp_content_line_plain(p + i, len))
            break;
        i += len;
    }
    return i;
}

#if defined(__x86_64__) && defined(__GNUC__)
/* 64 bytes a step, as bit masks of LF, CR and '.', whatever the lines' lengths: `start` moves
 * past each whole line that passes; a line stops the run if it starts with '.', holds a CR not
 * followed by LF, or is too long (checked at each block's first LF, and when a block has none).
 * On return, lines before p + start are taken; the caller goes on from there. MASKS(q, lf, cr,
 * dot) loads the three masks of the 64 bytes at q. */
#define CONTENT_BLOCKS(MASKS)                                                                      \
    uint64_t carry = 1; /* bit 0 of the next block starts a line */                              \
    for (size_t b = 0; b + 64 <= n; b += 64) {                                                   \
        uint64_t lf, cr, dot;                                                                    \
        MASKS(p + b, lf, cr, dot);                                                               \
        uint64_t next_lf = b + 64 < n && p[b + 64] == '\n';                                      \
        uint64_t bad = (cr & ~((lf >> 1) | next_lf << 63)) | (dot & ((lf << 1) | carry));        \
        if (lf ? b + (size_t)__builtin_ctzll(lf) + 1 - start > SMTP_RFC_TEXT_LINE                \
               : b + 64 - start > SMTP_RFC_TEXT_LINE)                                            \
            return start;                                                                        \
        if (bad) {                                                                               \
            uint64_t before = lf & ((1ULL << __builtin_ctzll(bad)) - 1);                          \
            return before ? b + 64 - (size_t)__builtin_clzll(before) : start;                     \
        }                                                                                        \
        if (lf)                                                                                  \
            start = b + 64 - (size_t)__builtin_clzll(lf);                                        \
        carry = lf >> 63;                                                                        \
    }                                                                                            \
    return start

static inline uint64_t sse2_eq(const uint8_t *q, __m128i c)
{
    uint64_t m = 0;
    for (int k = 0; k < 4; k++) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(q + 16 * k));
        m |= (uint64_t)(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x, c)) << (16 * k);
    }
    return m;
}

#define SSE2_MASKS(q, lf, cr, dot)                                                                 \
    ((lf) = sse2_eq((q), _mm_set1_epi8('\n')), (cr) = sse2_eq((q), _mm_set1_epi8('\r')),          \
     (dot) = sse2_eq((q), _mm_set1_epi8('.')))

static size_t blocks_sse2(const uint8_t *p, size_t n)
{
    size_t start = 0;
    CONTENT_BLOCKS(SSE2_MASKS);
}

__attribute__((target("avx2"))) static inline uint64_t avx2_eq(__m256i a, __m256i b, __m256i c)
{
    return (uint64_t)(unsigned)_mm256_movemask_epi8(_mm256_cmpeq_epi8(a, c)) |
           (uint64_t)(unsigned)_mm256_movemask_epi8(_mm256_cmpeq_epi8(b, c)) << 32;
}

#define AVX2_MASKS(q, lf, cr, dot)                                                                 \
    do {                                                                                         \
        __m256i a_ = _mm256_loadu_si256((const __m256i *)(const void *)(q));                     \
        __m256i b_ = _mm256_loadu_si256((const __m256i *)(const void *)((q) + 32));              \
        (lf) = avx2_eq(a_, b_, _mm256_set1_epi8('\n'));                                          \
        (cr) = avx2_eq(a_, b_, _mm256_set1_epi8('\r'));                                          \
        (dot) = avx2_eq(a_, b_, _mm256_set1_epi8('.'));                                          \
    } while (0)

__attribute__((target("avx2"))) static size_t blocks_avx2(const uint8_t *p, size_t n)
{
    size_t start = 0;
    CONTENT_BLOCKS(AVX2_MASKS);
}

/* The whole lines the block scan takes at p (a line start); AVX2 where the CPU has it, unless
 * SMTPSNIFF_NO_AVX2 is set (the tests run both). */
static size_t content_blocks(const uint8_t *p, size_t n)
{
    static int avx2 = -1;
    if (avx2 < 0)
        avx2 = __builtin_cpu_supports("avx2") && getenv("SMTPSNIFF_NO_AVX2") == NULL;
    return avx2 ? blocks_avx2(p, n) : blocks_sse2(p, n);
}
#else
static size_t content_blocks(const uint8_t *p, size_t n)
{
    (void)p;
    (void)n;
    return 0; /* no vector scan: line by line */
}
#endif

size_t smtp_content_plain(const uint8_t *p, size_t n, bool *crlf)
{
    size_t start = plain_lines(p, n, content_blocks(p, n));
    if (start >= 2) /* how the last line taken ended */
        *crlf = p[start - 2] == '\r';
    else if (start == 1)
        *crlf = false; /* a lone LF */
    return start;
}

/* Most content lines only add to the size: no leading dot (end of data, stuffing, smuggling), no
 * CR but the one before the LF (bare-CR ends), at most SMTP_RFC_TEXT_LINE bytes. Take a run of
 * them in one scan, with no per-line call; any other line stops the run. */
size_t smtp_body_plain(struct smtp_body *b, struct smtp_message_info *m, const uint8_t *p, size_t n)
{
    b->fed = true;
    bool crlf = b->prev_crlf;
    size_t i = smtp_content_plain(p, n, &crlf);
    if (i) {
        b->after_hole = false; /* a plain line says nothing either way: taken as it is */
        if (m)
            m->size += i;
        b->prev_crlf = crlf;
    }
    return i;
}

void smtp_body_bytes(struct smtp_body *b, struct smtp_message_info *m, const uint8_t *p, size_t n)
{
    b->fed = true;
    if (m)
        m->size += n;
    struct smtp_line l;
    while (n && b->in_headers) {
        if (!smtp_line_next(&b->bdat_lines, &p, &n, &l))
            break;
        header_line(b, m, l.p, l.len);
    }
}

void smtp_body_end(struct smtp_body *b, struct smtp_message_info *m)
{
    header_commit(b, m);
    b->in_headers = false;
}

void smtp_body_hole(struct smtp_body *b, struct smtp_message_info *m, uint64_t n)
{
    b->fed = b->holed = b->after_hole = true;
    smtp_body_end(b, m); /* a header line after the hole would be a guess */
    smtp_line_reset(&b->bdat_lines);
    if (m) {
        m->size += n;
        m->missing += n;
    }
}
