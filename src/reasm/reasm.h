/* reasm.h - TCP reassembly behind one interface (implemented over libnids in reasm_nids.c):
 * IPv4 packets in, SMTP sessions (smtp_core.h) fed with ordered bytes out. */
#ifndef SMTPSNIFF_REASM_H
#define SMTPSNIFF_REASM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/time.h>

#include "smtpsniff/smtp.h"

struct reasm_opts {
    const struct smtp_sink *sink;
    const uint16_t *ports; /* server ports: a stream whose destination is one of them is SMTP */
    unsigned nports;
    unsigned max_streams;  /* concurrent streams kept; the oldest is evicted past it */
    unsigned idle_timeout; /* seconds of capture time without a byte before a session ends */
    unsigned session_flags; /* SMTP_SESS_SHOW_CREDENTIALS */
};

/* What reassembly discarded or cut short, one X-macro row each: X(field, "name", "label", lost),
 * as CAPTURE_COUNTER_LIST (capture.h). Each one that concerns a session also raises a notice on it. */
#define REASM_COUNTER_LIST(X)                                                                      \
    X(queue_overflows, "queue_overflows", "reassembly queue overflows", true)                       \
    X(bad_tcp, "bad_tcp_segments", "bad TCP segments", true)                                        \
    X(ip_warnings, "ip_warnings", "IP reassembly warnings", true)                                   \
    X(evicted, "evicted", "sessions evicted", true)                                                 \
    X(idle_timeouts, "idle_timeouts", "idle timeouts", false)

struct reasm_stats {
    uint64_t sessions_started, sessions_ended, sessions_active;
#define REASM_COUNTER_FIELD(field, name, label, lost) uint64_t field;
    REASM_COUNTER_LIST(REASM_COUNTER_FIELD)
#undef REASM_COUNTER_FIELD
};

/* Returns 0, or -1 with a message in err. One instance per process (libnids is global). */
int reasm_init(const struct reasm_opts *o, char *err, size_t errlen);
void reasm_packet(void *ctx, const uint8_t *ip, size_t len, const struct timeval *ts);
/* End every open session with reason "end of input" and release everything. */
void reasm_finish(void);
void reasm_get_stats(struct reasm_stats *st);

#endif
