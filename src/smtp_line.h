/* smtp_line.h - per-direction line framing over an explicit length, with a hard cap. */
#ifndef SMTPSNIFF_SMTP_LINE_H
#define SMTPSNIFF_SMTP_LINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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
