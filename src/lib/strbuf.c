/* strbuf.c - bounded output buffer and the escaping of wire bytes for JSON and terminals. */
#include "lib/strbuf.h"
#include "lib/xalloc.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

void sb_init(struct strbuf *sb, size_t max)
{
    memset(sb, 0, sizeof(*sb));
    sb->max = max;
}

void sb_init_buffer(struct strbuf *sb, char *p, size_t cap, size_t max)
{
    *sb = (struct strbuf){.p = p, .cap = cap, .max = max};
    if (p)
        p[0] = '\0';
}

void sb_free(struct strbuf *sb)
{
    free(sb->p);
    memset(sb, 0, sizeof(*sb));
}

void sb_reset(struct strbuf *sb)
{
    sb->len = 0;
    sb->truncated = false;
}

/* Make room for n more bytes; returns how many fit (fewer only at the maximum). */
static size_t sb_reserve(struct strbuf *sb, size_t n)
{
    size_t room = sb->max - sb->len;
    if (n > room) {
        n = room;
        sb->truncated = true;
    }
    if (sb->len + n + 1 > sb->cap) {
        size_t cap = sb->cap ? sb->cap : 256;
        while (cap < sb->len + n + 1)
            cap *= 2;
        if (cap > sb->max + 1)
            cap = sb->max + 1;
        sb->p = xrealloc(sb->p, cap); /* out of memory: one line and abort (lib/xalloc.h) */
        sb->cap = cap;
    }
    return n;
}

void sb_put_slow(struct strbuf *sb, const void *p, size_t n)
{
    n = sb_reserve(sb, n);
    memcpy(sb->p + sb->len, p, n);
    sb->len += n;
    sb->p[sb->len] = '\0';
}

void sb_puts(struct strbuf *sb, const char *s)
{
    sb_put(sb, s, strlen(s));
}

/* "00" to "99": two digits per step. */
static const char digit_pairs[] = "00010203040506070809101112131415161718192021222324252627282930313233"
                                  "34353637383940414243444546474849505152535455565758596061626364656667"
                                  "6869707172737475767778798081828384858687888990919293949596979899";

void fmt_digits2(char d[2], unsigned v)
{
    memcpy(d, digit_pairs + 2 * (v % 100), 2);
}

void fmt_digits6(char d[6], unsigned v)
{
    memcpy(d, digit_pairs + 2 * (v / 10000 % 100), 2);
    memcpy(d + 2, digit_pairs + 2 * (v / 100 % 100), 2);
    memcpy(d + 4, digit_pairs + 2 * (v % 100), 2);
}

void sb_u64(struct strbuf *sb, uint64_t v)
{
    if (v < 10) { /* codes' digits, counts, small ids: the common case */
        sb_putc(sb, (char)('0' + v));
        return;
    }
    static const uint64_t pow10[] = {1ULL, 10ULL, 100ULL, 1000ULL, 10000ULL, 100000ULL, 1000000ULL,
                                     10000000ULL, 100000000ULL, 1000000000ULL, 10000000000ULL,
                                     100000000000ULL, 1000000000000ULL, 10000000000000ULL,
                                     100000000000000ULL, 1000000000000000ULL, 10000000000000000ULL,
                                     100000000000000000ULL, 1000000000000000000ULL,
                                     10000000000000000000ULL};
    size_t nd = 2;
    while (nd < 20 && v >= pow10[nd])
        nd++;
    char tmp[20];
    /* Straight into the output when it fits (no copy of a scratch buffer); digits from the end. */
    char *o = sb->len + nd < sb->cap ? sb->p + sb->len : tmp;
    size_t i = nd;
    while (v >= 100) {
        i -= 2;
        memcpy(o + i, digit_pairs + 2 * (v % 100), 2);
        v /= 100;
    }
    if (v >= 10)
        memcpy(o, digit_pairs + 2 * v, 2);
    else
        o[0] = (char)('0' + v);
    if (o == tmp) {
        sb_put(sb, tmp, nd);
        return;
    }
    sb->len += nd;
    sb->p[sb->len] = '\0';
}

void sb_i64(struct strbuf *sb, int64_t v)
{
    if (v < 0) {
        sb_putc(sb, '-');
        sb_u64(sb, (uint64_t)0 - (uint64_t)v);
    } else {
        sb_u64(sb, (uint64_t)v);
    }
}

void sb_printf(struct strbuf *sb, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n <= 0)
        return;
    size_t fit = sb_reserve(sb, (size_t)n);
    va_start(ap, fmt);
    vsnprintf(sb->p + sb->len, fit + 1, fmt, ap);
    va_end(ap);
    sb->len += fit;
}

static void put2(struct strbuf *sb, unsigned v)
{
    char d[2];
    fmt_digits2(d, v);
    sb_put(sb, d, sizeof(d));
}

static bool sb_time_prefix(struct strbuf *sb, time_t t);

bool sb_time_valid(const struct timeval *tv)
{
    return tv->tv_sec >= 0 && tv->tv_sec <= SB_TIME_MAX && tv->tv_usec >= 0 && tv->tv_usec < 1000000;
}

bool sb_time_rfc3339(struct strbuf *sb, const struct timeval *tv)
{
    /* Records come in bursts within one second: format "YYYY-MM-DDTHH:MM:SS." once per second,
     * then write only the microseconds, straight into the output (digits stored to a buffer and
     * read back at once by a wide copy stall the store forwarding). */
    static bool have;
    static time_t cached;
    static char prefix[40];
    static size_t prefix_len;
    if (!sb_time_valid(tv)) {
        SB_LIT(sb, SB_TIME_INVALID);
        return false;
    }
    if (!have || tv->tv_sec != cached) {
        struct strbuf tmp = {.p = prefix, .cap = sizeof(prefix), .max = sizeof(prefix) - 1};
        if (!sb_time_prefix(&tmp, tv->tv_sec)) {
            SB_LIT(sb, SB_TIME_INVALID);
            return false;
        }
        sb_putc(&tmp, '.');
        prefix_len = tmp.len;
        cached = tv->tv_sec;
        have = true;
    }
    unsigned us = (unsigned)tv->tv_usec;
    if (sb->len + 27 < sb->cap) { /* four-digit years (sb_time_valid): sizes known */
        char *o = sb->p + sb->len;
        memcpy(o, prefix, 20);
        fmt_digits6(o + 20, us);
        o[26] = 'Z';
        o[27] = '\0';
        sb->len += 27;
        return true;
    }
    char d[7];
    fmt_digits6(d, us);
    d[6] = 'Z';
    sb_put(sb, prefix, prefix_len);
    sb_put(sb, d, sizeof(d));
    return true;
}

void sb_json_time(struct strbuf *sb, const struct timeval *tv)
{
    if (!sb_time_valid(tv)) {
        SB_LIT(sb, "null");
        return;
    }
    sb_putc(sb, '"');
    sb_time_rfc3339(sb, tv);
    sb_putc(sb, '"');
}

static bool sb_time_prefix(struct strbuf *sb, time_t t)
{
    struct tm tm;
    if (gmtime_r(&t, &tm) == NULL)
        return false;
    char y[4] = {(char)('0' + (tm.tm_year + 1900) / 1000 % 10), (char)('0' + (tm.tm_year + 1900) / 100 % 10),
                 (char)('0' + (tm.tm_year + 1900) / 10 % 10), (char)('0' + (tm.tm_year + 1900) % 10)};
    sb_put(sb, y, sizeof(y));
    sb_putc(sb, '-');
    put2(sb, (unsigned)tm.tm_mon + 1);
    sb_putc(sb, '-');
    put2(sb, (unsigned)tm.tm_mday);
    sb_putc(sb, 'T');
    put2(sb, (unsigned)tm.tm_hour);
    sb_putc(sb, ':');
    put2(sb, (unsigned)tm.tm_min);
    sb_putc(sb, ':');
    put2(sb, (unsigned)tm.tm_sec);
    return true;
}

/* Length of the valid UTF-8 sequence at p (RFC 3629: no overlongs, no surrogates), or 0. */
static size_t utf8_seq_len(const uint8_t *p, size_t n)
{
    uint8_t c = p[0];
    size_t need;
    uint8_t lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF)
        need = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        need = 3;
        if (c == 0xE0)
            lo = 0xA0;
        if (c == 0xED)
            hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 4;
        if (c == 0xF0)
            lo = 0x90;
        if (c == 0xF4)
            hi = 0x8F;
    } else
        return 0;
    if (n < need || p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 2; i < need; i++)
        if (p[i] < 0x80 || p[i] > 0xBF)
            return 0;
    return need;
}

static const char hexdig[] = "0123456789abcdef";

/* Code points that a terminal draws as nothing or that reorder the text around them: Unicode's Cf
 * (format) category (soft hyphen, bidi marks, embeddings, overrides and isolates, zero-width space
 * and joiners, word joiner, invisible operators, BOM, interlinear annotation, tags, ...) and the
 * line and paragraph separators U+2028/2029 (Zl, Zp). A peer could hide or visually reverse an
 * address with them. From UnicodeData.txt 15.0, adjacent ranges merged. */
static const uint32_t hidden_cp[][2] = {
    {0x00AD, 0x00AD},   {0x0600, 0x0605},   {0x061C, 0x061C},   {0x06DD, 0x06DD},   {0x070F, 0x070F},
    {0x0890, 0x0891},   {0x08E2, 0x08E2},   {0x180E, 0x180E},   {0x200B, 0x200F},   {0x2028, 0x202E},
    {0x2060, 0x2064},   {0x2066, 0x206F},   {0xFEFF, 0xFEFF},   {0xFFF9, 0xFFFB},   {0x110BD, 0x110BD},
    {0x110CD, 0x110CD}, {0x13430, 0x1343F}, {0x1BCA0, 0x1BCA3}, {0x1D173, 0x1D17A}, {0xE0001, 0xE0001},
    {0xE0020, 0xE007F},
};

/* The code point of the valid u-byte UTF-8 sequence at p (u from utf8_seq_len, 2 to 4). */
static uint32_t utf8_cp(const uint8_t *p, size_t u)
{
    uint32_t cp = p[0] & (0x7F >> u);
    for (size_t i = 1; i < u; i++)
        cp = cp << 6 | (p[i] & 0x3F);
    return cp;
}

/* The first bytes of the UTF-8 sequences of those code points: most text never gets to the search. */
static const uint8_t hidden_lead[256] = {[0xC2] = 1, [0xD8] = 1, [0xDB] = 1, [0xDC] = 1, [0xE0] = 1, [0xE1] = 1,
                                         [0xE2] = 1, [0xEF] = 1, [0xF0] = 1, [0xF3] = 1};

static bool cp_hidden(uint32_t cp)
{
    size_t lo = 0, hi = sizeof(hidden_cp) / sizeof(hidden_cp[0]);
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (cp < hidden_cp[mid][0])
            hi = mid;
        else if (cp > hidden_cp[mid][1])
            lo = mid + 1;
        else
            return true;
    }
    return false;
}

/* Valid UTF-8 that a terminal must not get as it is: C1 controls (U+0080..U+009F, terminal
 * controls too) and the hidden code points above. */
static bool utf8_term_unsafe(const uint8_t *p, size_t u)
{
    if (u == 2 && p[0] == 0xC2 && p[1] < 0xA0)
        return true;
    return hidden_lead[p[0]] && cp_hidden(utf8_cp(p, u));
}

/* Bytes the escapers copy as they are: printable ASCII (0x20-0x7E); for JSON not '"' or '\\'. */
static const uint8_t plain_print[256] = {[0x20 ... 0x7E] = 1};
static const uint8_t plain_json[256] = {[0x20 ... 0x21] = 1, [0x23 ... 0x5B] = 1, [0x5D ... 0x7E] = 1};

#ifdef __SSE2__
/* Bit k set: byte k of x needs an escape (control, DEL, 0x80-0xFF; '"' and '\\' too for JSON). */
static inline unsigned plain_bad16(__m128i x, bool json)
{
    const __m128i lo = _mm_set1_epi8(0x20), del = _mm_set1_epi8(0x7F);
    const __m128i q = _mm_set1_epi8(json ? '"' : 0x7F), bs = _mm_set1_epi8(json ? '\\' : 0x7F);
    /* signed compare: bytes 0x80-0xFF are negative, so below 0x20 too */
    __m128i bad = _mm_or_si128(_mm_or_si128(_mm_cmplt_epi8(x, lo), _mm_cmpeq_epi8(x, del)),
                               _mm_or_si128(_mm_cmpeq_epi8(x, q), _mm_cmpeq_epi8(x, bs)));
    return (unsigned)_mm_movemask_epi8(bad);
}
#endif

/* Length of the run of `plain` bytes at p (`json`: plain_json, else plain_print). Wire text is
 * mostly such runs. SSE2 looks at 16 bytes a step, then at the tail as one more block that
 * overlaps what was checked (or, when n < 16, two overlapping 8- or 4-byte loads): no byte
 * outside p[0..n) is read, and the table only sees strings under 4 bytes. */
static size_t plain_run(const uint8_t *p, size_t n, bool json)
{
    size_t i = 0;
#ifdef __SSE2__
    if (n >= 16) {
        for (; i + 16 <= n; i += 16) {
            unsigned m = plain_bad16(_mm_loadu_si128((const __m128i *)(const void *)(p + i)), json);
            if (m)
                return i + (size_t)__builtin_ctz(m);
        }
        if (i == n)
            return n;
        /* bytes before i are known clean, so the first bit set is at or after i */
        unsigned m = plain_bad16(_mm_loadu_si128((const __m128i *)(const void *)(p + n - 16)), json);
        return m ? n - 16 + (size_t)__builtin_ctz(m) : n;
    }
    if (n >= 4) {
        __m128i x;
        size_t w = n >= 8 ? 8 : 4; /* [0, w) in the low half, [n - w, n) in the high half */
        if (w == 8) {
            x = _mm_unpacklo_epi64(_mm_loadl_epi64((const __m128i *)(const void *)p),
                                   _mm_loadl_epi64((const __m128i *)(const void *)(p + n - 8)));
        } else {
            int32_t a, b;
            memcpy(&a, p, 4);
            memcpy(&b, p + n - 4, 4);
            x = _mm_unpacklo_epi64(_mm_cvtsi32_si128(a), _mm_cvtsi32_si128(b));
        }
        unsigned m = plain_bad16(x, json), valid = (1u << w) - 1; /* 4-byte loads leave zeros */
        unsigned lo = m & valid, hi = (m >> 8) & valid;
        if (lo)
            return (size_t)__builtin_ctz(lo);
        return hi ? n - w + (size_t)__builtin_ctz(hi) : n;
    }
#endif
    const uint8_t *t = json ? plain_json : plain_print;
    while (i < n && t[p[i]])
        i++;
    return i;
}

/* "\uXXXX", or a surrogate pair past the BMP (RFC 8259 7). */
static void json_u_escape(struct strbuf *sb, uint32_t cp)
{
    if (cp > 0xFFFF) {
        cp -= 0x10000;
        json_u_escape(sb, 0xD800 | cp >> 10);
        json_u_escape(sb, 0xDC00 | (cp & 0x3FF));
        return;
    }
    char e[6] = {'\\', 'u', hexdig[cp >> 12], hexdig[cp >> 8 & 15], hexdig[cp >> 4 & 15], hexdig[cp & 15]};
    sb_put(sb, e, sizeof(e));
}

/* The JSON string of p[0..n), the first `i` bytes already known to need no escape. */
static void json_quoted(struct strbuf *sb, const uint8_t *p, size_t n, size_t i)
{
    if (i == n && sb->len + n + 2 < sb->cap) { /* nothing to escape: the usual case */
        char *o = sb->p + sb->len;
        o[0] = '"';
        memcpy(o + 1, p, n);
        o[n + 1] = '"';
        o[n + 2] = '\0';
        sb->len += n + 2;
        return;
    }
    sb_putc(sb, '"');
    sb_put(sb, p, i);
    while (i < n) {
        size_t run = plain_run(p + i, n - i, true);
        if (run) {
            sb_put(sb, p + i, run);
            i += run;
            continue;
        }
        uint8_t c = p[i];
        size_t u = c >= 0x80 ? utf8_seq_len(p + i, n - i) : 0;
        if (u) {
            uint32_t cp = hidden_lead[c] ? utf8_cp(p + i, u) : 0;
            if (cp && cp_hidden(cp))
                json_u_escape(sb, cp); /* kept, but visible to whoever reads the JSON raw */
            else
                sb_put(sb, p + i, u);
            i += u;
            continue;
        }
        switch (c) {
        case '"': sb_puts(sb, "\\\""); break;
        case '\\': sb_puts(sb, "\\\\"); break;
        case '\n': sb_puts(sb, "\\n"); break;
        case '\r': sb_puts(sb, "\\r"); break;
        case '\t': sb_puts(sb, "\\t"); break;
        default: {
            char e[6] = {'\\', 'u', '0', '0', hexdig[c >> 4], hexdig[c & 15]};
            sb_put(sb, e, sizeof(e));
        }
        }
        i++;
    }
    sb_putc(sb, '"');
}

void sb_json_str(struct strbuf *sb, const uint8_t *p, size_t n)
{
    json_quoted(sb, p, n, plain_run(p, n, true));
}

void sb_json_cstr(struct strbuf *sb, const char *s)
{
    if (s == NULL) {
        SB_LIT(sb, "null");
        return;
    }
    sb_json_str(sb, (const uint8_t *)s, strlen(s));
}

void sb_term_str(struct strbuf *sb, const uint8_t *p, size_t n, bool ascii_only)
{
    size_t i = 0;
    while (i < n) {
        size_t run = plain_run(p + i, n - i, false);
        if (run) {
            sb_put(sb, p + i, run);
            i += run;
            continue;
        }
        uint8_t c = p[i];
        size_t u = (!ascii_only && c >= 0x80) ? utf8_seq_len(p + i, n - i) : 0;
        /* C1 controls and hidden code points: each byte escaped, like any other unsafe byte. */
        if (u && !utf8_term_unsafe(p + i, u)) {
            sb_put(sb, p + i, u);
            i += u;
            continue;
        }
        switch (c) {
        case '\r': sb_puts(sb, "\\r"); break;
        case '\n': sb_puts(sb, "\\n"); break;
        case '\t': sb_puts(sb, "\\t"); break;
        default: {
            char e[4] = {'\\', 'x', hexdig[c >> 4], hexdig[c & 15]};
            sb_put(sb, e, sizeof(e));
        }
        }
        i++;
    }
}

int sb_flush(struct strbuf *sb, FILE *f)
{
    int rc = 0;
    if (sb->len && fwrite(sb->p, 1, sb->len, f) != sb->len)
        rc = -1;
    sb_reset(sb);
    return rc;
}

size_t esc_to_cstr(char *dst, size_t size, const uint8_t *p, size_t n)
{
    if (size == 0)
        return 0;
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        size_t room = size - 1 - o;
        size_t run = plain_run(p + i, n - i < room ? n - i : room, false); /* copied at once */
        if (run) {
            memcpy(dst + o, p + i, run);
            o += run;
            i += run;
            if (o == size - 1)
                break;
            continue;
        }
        uint8_t c = p[i];
        size_t u = c >= 0x80 ? utf8_seq_len(p + i, n - i) : 0;
        if (u == 2 && c == 0xC2 && p[i + 1] < 0xA0)
            u = 0; /* C1 control */
        if (c >= 0x20 && c < 0x7F)
            u = 1;
        if (u) {
            if (o + u >= size)
                break;
            memcpy(dst + o, p + i, u);
            o += u;
            i += u;
            continue;
        }
        if (o + 4 >= size)
            break;
        dst[o++] = '\\';
        dst[o++] = 'x';
        dst[o++] = hexdig[c >> 4];
        dst[o++] = hexdig[c & 15];
        i++;
    }
    dst[o] = '\0';
    return o;
}
