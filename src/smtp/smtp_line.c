/* smtp_line.c - line framing: a search for LF over an explicit length, a hard cap per line,
 * and discard-until-LF past the cap (the caller raises the notice from `dropped`). */
#include "smtp/smtp_line.h"

#include <stdlib.h>
#include <string.h>

#include "lib/xalloc.h"
#include "smtpsniff/limits.h"

static void framer_append(struct smtp_line_framer *f, const uint8_t *p, size_t n)
{
    if (n)
        f->last = p[n - 1];
    size_t room = SMTP_MAX_LINE - f->len;
    if (n > room) {
        f->dropped += n - room;
        n = room;
    }
    if (n == 0)
        return;
    if (f->len + n > f->cap) {
        size_t cap = f->cap ? f->cap : 128;
        while (cap < f->len + n)
            cap *= 2;
        if (cap > SMTP_MAX_LINE)
            cap = SMTP_MAX_LINE;
        f->buf = xrealloc(f->buf, cap);
        f->cap = cap;
    }
    memcpy(f->buf + f->len, p, n);
    f->len += n;
}

static void line_fill(struct smtp_line *out, const uint8_t *p, size_t len, size_t dropped, size_t wire,
                      bool ends_cr)
{
    /* RFC 5321 2.3.8: lines end with CRLF; a CR before the LF is part of the terminator.
     * When bytes were dropped past the cap, the CR (if any) went with them. */
    out->crlf = ends_cr;
    out->p = p;
    out->len = ends_cr && dropped == 0 ? len - 1 : len;
    out->dropped = dropped;
    out->wire_len = wire;
}

bool smtp_line_next(struct smtp_line_framer *f, const uint8_t **pp, size_t *np, struct smtp_line *out)
{
    if (f->emitted) {
        f->len = 0;
        f->dropped = 0;
        f->emitted = false;
    }
    const uint8_t *p = *pp;
    size_t n = *np;
    const uint8_t *lf = smtp_find_byte(p, n, '\n');
    if (lf == NULL) {
        framer_append(f, p, n);
        *pp = p + n;
        *np = 0;
        return false;
    }
    size_t take = (size_t)(lf - p);
    *pp = lf + 1;
    *np = n - take - 1;
    if (f->len == 0 && f->dropped == 0 && take <= SMTP_MAX_LINE) {
        line_fill(out, p, take, 0, take + 1, take > 0 && p[take - 1] == '\r'); /* no copy */
        return true;
    }
    framer_append(f, p, take);
    line_fill(out, f->buf, f->len, f->dropped, f->len + f->dropped + 1, (f->len || f->dropped) && f->last == '\r');
    f->emitted = true;
    return true;
}

bool smtp_line_partial(struct smtp_line_framer *f, struct smtp_line *out)
{
    if (f->emitted || (f->len == 0 && f->dropped == 0))
        return false;
    out->p = f->buf;
    out->len = f->len;
    out->crlf = false;
    out->dropped = f->dropped;
    out->wire_len = f->len + f->dropped;
    f->emitted = true;
    return true;
}

void smtp_line_reset(struct smtp_line_framer *f)
{
    f->len = 0;
    f->dropped = 0;
    f->emitted = false;
}

void smtp_line_free(struct smtp_line_framer *f)
{
    free(f->buf);
    memset(f, 0, sizeof(*f));
}
