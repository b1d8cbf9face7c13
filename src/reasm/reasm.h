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

struct reasm_stats {
    uint64_t sessions_started, sessions_ended, sessions_active, evicted, idle_timeouts;
    uint64_t warnings_ip, warnings_tcp, queue_overflows;
};

/* Returns 0, or -1 with a message in err. One instance per process (libnids is global). */
int reasm_init(const struct reasm_opts *o, char *err, size_t errlen);
void reasm_packet(void *ctx, const uint8_t *ip, size_t len, const struct timeval *ts);
/* End every open session with reason "end of input" and release everything. */
void reasm_finish(void);
void reasm_get_stats(struct reasm_stats *st);

#endif
