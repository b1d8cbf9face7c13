/* smtp_notice.h - raising a typed notice (a leaf): per-type and per-session caps, then the sink. */
#ifndef SMTPSNIFF_SMTP_NOTICE_H
#define SMTPSNIFF_SMTP_NOTICE_H

#include "smtpsniff/smtp.h"

struct smtp_notifier {
    const struct smtp_sink *sink;
    struct smtp_session_info *info; /* counts notices and dropped notices */
    unsigned count[SMTP_NOTICE_COUNT];
};

void smtp_notice(struct smtp_notifier *nt, enum smtp_notice_id id, enum smtp_dir dir,
                 const struct timeval *ts, const char *fmt, ...) __attribute__((format(printf, 5, 6)));

#endif
