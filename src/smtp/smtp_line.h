/* smtp_line.h - per-direction line framing over an explicit length, with a hard cap. */
#ifndef SMTPSNIFF_SMTP_LINE_H
#define SMTPSNIFF_SMTP_LINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

struct smtp_line_framer {
    uint8_t *buf;     /* partial line carried across segments; grows up to SMTP_MAX_LINE */
    size_t len, cap;
    size_t dropped;   /* bytes of the current line beyond the cap, discarded until LF */
    uint8_t last;     /* last byte of the current line seen so far, kept or dropped */
    bool emitted;     /* buf holds the line handed out last time: reset before reuse */
};

struct smtp_line {
    const uint8_t *p; /* content without the terminator; valid until the next call */
    size_t len;
    bool crlf;        /* ended by CRLF (false: a bare LF) */
    size_t dropped;   /* bytes past the cap that were not kept */
    size_t wire_len;  /* bytes the line took on the wire, terminator and dropped bytes included */
};

/* memchr for the short stretches of a line: the first `c` in p[0..n), or NULL. The first 64
 * bytes are searched inline, 16 at a time (the last block overlapping what was searched, never
 * past p + n); longer stretches go to memchr. A call to memchr for every line was ~1.5% of a
 * run. */
static inline const uint8_t *smtp_find_byte(const uint8_t *p, size_t n, uint8_t c)
{
#ifdef __SSE2__
    if (n >= 16) {
        const __m128i v = _mm_set1_epi8((char)c);
        size_t i = 0;
        for (; i + 16 <= n && i < 64; i += 16) {
            unsigned m = (unsigned)_mm_movemask_epi8(
                _mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(const void *)(p + i)), v));
            if (m)
                return p + i + __builtin_ctz(m);
        }
        if (i == n)
            return NULL;
        if (i + 16 > n) { /* a tail under 16 bytes: bytes before i are known not to be c */
            unsigned m = (unsigned)_mm_movemask_epi8(
                _mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(const void *)(p + n - 16)), v));
            return m ? p + n - 16 + __builtin_ctz(m) : NULL;
        }
        return memchr(p + i, c, n - i);
    }
    for (size_t i = 0; i < n; i++)
        if (p[i] == c)
            return p + i;
    return NULL;
#else
    return n ? memchr(p, c, n) : NULL;
#endif
}

/* Take the next complete line from (*p, *n), advancing them. Returns false when everything left
 * was buffered as a partial line. */
bool smtp_line_next(struct smtp_line_framer *f, const uint8_t **p, size_t *n, struct smtp_line *out);
/* The buffered partial line (no terminator seen yet), if any: for streams cut mid-line. */
bool smtp_line_partial(struct smtp_line_framer *f, struct smtp_line *out);
void smtp_line_reset(struct smtp_line_framer *f);
/* Nothing of a line is buffered: the next byte starts a line. */
static inline bool smtp_line_at_start(const struct smtp_line_framer *f)
{
    return f->emitted || (f->len == 0 && f->dropped == 0);
}
void smtp_line_free(struct smtp_line_framer *f);

#endif
