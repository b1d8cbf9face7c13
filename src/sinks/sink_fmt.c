/* sink_fmt.c - small text-formatting helpers shared by the live feed and the summary. */
#include "sinks/sink_fmt.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "smtpsniff/reply.h"
#include "lib/xalloc.h"

void sink_put_clock(struct strbuf *sb, const struct timeval *tv)
{
    /* "HH:MM:SS." changes once a second: kept; the microseconds go straight to the output. */
    static bool have;
    static time_t cached;
    static char c[9];
    if (!sb_time_valid(tv)) {
        SB_LIT(sb, "--:--:--.------"); /* the width of a time, for the columns */
        return;
    }
    if (!have || tv->tv_sec != cached) {
        unsigned sec = (unsigned)(tv->tv_sec % 86400);
        fmt_digits2(c, sec / 3600);
        c[2] = ':';
        fmt_digits2(c + 3, sec / 60 % 60);
        c[5] = ':';
        fmt_digits2(c + 6, sec % 60);
        c[8] = '.';
        cached = tv->tv_sec;
        have = true;
    }
    unsigned us = (unsigned)tv->tv_usec;
    if (sb->len + 15 < sb->cap) {
        char *o = sb->p + sb->len;
        memcpy(o, c, sizeof(c));
        fmt_digits6(o + 9, us);
        o[15] = '\0';
        sb->len += 15;
        return;
    }
    char d[6];
    fmt_digits6(d, us);
    sb_put(sb, c, sizeof(c));
    sb_put(sb, d, sizeof(d));
}

bool sink_duration_us(const struct timeval *start, const struct timeval *end, long long *us)
{
    if (!sb_time_valid(start) || !sb_time_valid(end))
        return false; /* valid times are under 2^38 s apart: the product below cannot overflow */
    *us = ((long long)end->tv_sec - start->tv_sec) * 1000000LL + (end->tv_usec - start->tv_usec);
    if (*us < 0)
        *us = 0;
    return true;
}

void sink_put_duration(struct strbuf *sb, const struct timeval *start, const struct timeval *end)
{
    long long us;
    if (!sink_duration_us(start, end, &us)) {
        sb_putc(sb, '-');
        return;
    }
    long long ms = us / 1000;
    sb_u64(sb, (uint64_t)(ms / 1000));
    sb_putc(sb, '.');
    char d[3] = {(char)('0' + ms / 100 % 10), (char)('0' + ms / 10 % 10), (char)('0' + ms % 10)};
    sb_put(sb, d, sizeof(d));
    sb_putc(sb, 's');
}

void sink_put_name(struct strbuf *sb, const char *s, size_t max)
{
    sb_term_str(sb, (const uint8_t *)s, strnlen(s, max), false);
}

void sink_put_endpoint(struct strbuf *sb, const struct smtp_endpoint *e)
{
    bool v6 = memchr(e->ip, ':', strnlen(e->ip, sizeof(e->ip))) != NULL;
    if (v6)
        sb_putc(sb, '[');
    sink_put_name(sb, e->ip, sizeof(e->ip));
    if (v6)
        sb_putc(sb, ']');
    sb_putc(sb, ':');
    sb_u64(sb, e->port);
}

const char *sink_reply_meaning(const char *context, int code)
{
    return context ? context : reply_lookup(code)->name;
}

void sink_annot_put(struct sink_annot_cache *c, struct strbuf *sb, int code, const struct smtp_exchange *x,
                    sink_annot_render_fn *render)
{
    unsigned id = x->context_id;
    if (code < 0 || code > 999 || id >= REPLY_CONTEXT_IDS) {
        render(sb, code, x->context);
        return;
    }
    if (c->row[code] == NULL)
        c->row[code] = xcalloc(REPLY_CONTEXT_IDS, sizeof(struct sink_annot));
    struct sink_annot *a = &c->row[code][id];
    if (a->p == NULL) {
        struct strbuf tmp;
        sb_init(&tmp, 1 << 16);
        render(&tmp, code, x->context);
        if (tmp.p == NULL)
            sb_put(&tmp, "", 0);
        a->p = tmp.p; /* owned by the cache */
        a->len = tmp.len;
    }
    sb_put(sb, a->p, a->len);
}

void sink_annot_free(struct sink_annot_cache *c)
{
    for (unsigned code = 0; code < 1000; code++) {
        if (c->row[code] == NULL)
            continue;
        for (unsigned v = 0; v < REPLY_CONTEXT_IDS; v++)
            free(c->row[code][v].p);
        free(c->row[code]);
        c->row[code] = NULL;
    }
}

int sink_write_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n) {
        ssize_t w = write(fd, c, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        c += w;
        n -= (size_t)w;
    }
    return 0;
}
