/* smtp_notice.c - typed notices: the caps that keep a hostile session from flooding the sinks. */
#include "smtp/smtp_notice.h"

#include <stdarg.h>
#include <stdio.h>

/* Notices of one type beyond this many per session are counted, not emitted. */
#define SMTP_NOTICE_TYPE_CAP 16

void smtp_notice(struct smtp_notifier *nt, enum smtp_notice_id id, enum smtp_dir dir,
                 const struct timeval *ts, const char *fmt, ...)
{
    if (nt->count[id]++ >= SMTP_NOTICE_TYPE_CAP || nt->info->notices >= SMTP_MAX_NOTICES_PER_SESSION) {
        nt->info->notices_dropped++;
        return;
    }
    struct smtp_notice n = {.id = id, .dir = dir, .ts = *ts};
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(n.detail, sizeof(n.detail), fmt, ap);
    va_end(ap);
    nt->info->notices++;
    if (nt->sink->notice)
        nt->sink->notice(nt->sink->ctx, nt->info, &n);
}
