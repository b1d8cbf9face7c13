/* sink_fmt.h - small text-formatting helpers shared by the sinks. */
#ifndef SMTPSNIFF_SINK_FMT_H
#define SMTPSNIFF_SINK_FMT_H

#include <stddef.h>
#include <sys/time.h>

#include "smtpsniff/smtp.h"
#include "lib/strbuf.h"

/* "HH:MM:SS.uuuuuu", UTC, without gmtime (time_t has no leap seconds); "HH:MM:SS" kept per second.
 * "--:--:--.------" for a time that is not sb_time_valid. */
void sink_put_clock(struct strbuf *sb, const struct timeval *tv);
/* end - start in microseconds, 0 if end precedes start; false when either is not sb_time_valid. */
bool sink_duration_us(const struct timeval *start, const struct timeval *end, long long *us);
/* "12.345s": end - start in seconds with milliseconds; "0.000s" if end precedes start; "-" when
 * either time is not sb_time_valid. */
void sink_put_duration(struct strbuf *sb, const struct timeval *start, const struct timeval *end);
/* A name the core stored in a fixed char array (helo, address, mechanism, notice detail), through
 * sb_term_str. Reads at most `max` bytes, stops at NUL. */
void sink_put_name(struct strbuf *sb, const char *s, size_t max);
/* "addr:port", IPv6 addresses in brackets. */
void sink_put_endpoint(struct strbuf *sb, const struct smtp_endpoint *e);
/* write(2) all n bytes, again after EINTR and short writes; 0, or -1 with errno set. */
int sink_write_all(int fd, const void *p, size_t n);
/* What a reply means where the core met it: the context the core gave (x->context, a
 * transaction's rcpt or data_reply context), else the code's name. Never NULL. */
const char *sink_reply_meaning(const char *context, int code);

/* A reply's annotation depends only on (code, context id): each sink renders it once per pair,
 * at first sight, and copies it after that (it is most of every reply a sink writes). */
struct sink_annot_cache {
    struct sink_annot {
        char *p;
        size_t len;
    } *row[1000]; /* by code, each REPLY_CONTEXT_IDS entries, allocated at first use */
};
typedef void sink_annot_render_fn(struct strbuf *sb, int code, const char *context);
void sink_annot_put(struct sink_annot_cache *c, struct strbuf *sb, int code, const struct smtp_exchange *x,
                    sink_annot_render_fn *render);
void sink_annot_free(struct sink_annot_cache *c);

#endif
