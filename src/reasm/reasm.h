/* reasm.h - TCP reassembly behind one interface: IP packets in, SMTP sessions (smtp_core.h) fed
 * with ordered bytes and exact gaps out. Two engines: our own (reasm_tcp.c, the default: IPv4 and
 * IPv6, fragments, midstream pickup, gaps) and libnids (reasm_nids.c, IPv4 only, the reference). */
#ifndef SMTPSNIFF_REASM_H
#define SMTPSNIFF_REASM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/time.h>

#include "smtpsniff/smtp.h"

enum reasm_engine { REASM_ENGINE_OWN, REASM_ENGINE_LIBNIDS };

struct reasm_opts {
    enum reasm_engine engine;
    const struct smtp_sink *sink;
    const uint16_t *ports; /* server ports: a stream with one of them at one end is SMTP */
    unsigned nports;
    unsigned max_streams;  /* concurrent streams kept; the least recently active is evicted past it */
    unsigned idle_timeout; /* seconds of capture time without a packet before a session ends */
    uint64_t memcap;       /* bytes held out of order by all streams (own engine; IP fragments have
                              their own bound, REASM_MAX_FRAG_BYTES) */
    unsigned session_flags; /* SMTP_SESS_SHOW_CREDENTIALS */
};

/* What reassembly discarded or cut short, and the other ways sessions ended, one X-macro row each:
 * X(field, "name", "label", lost), as CAPTURE_COUNTER_LIST (capture.h). The lost ones are told as
 * "discarded" in the end-of-run line, the others as "sessions ended by". Each one that concerns a
 * session also raises a notice on it. libnids fills queue_overflows, bad_tcp, ip_warnings,
 * evicted, idle_timeouts, ipv6_skipped, truncated_segments and ip_bad; the own engine all but
 * queue_overflows, ip_warnings and ipv6_skipped. */
#define REASM_COUNTER_LIST(X)                                                                      \
    X(queue_overflows, "queue_overflows", "reassembly queue overflows", true)                       \
    X(bad_tcp, "bad_tcp_segments", "bad TCP segments", true)                                        \
    X(ip_warnings, "ip_warnings", "IP reassembly warnings", true)                                   \
    X(evicted, "evicted", "sessions evicted", true)                                                 \
    X(ipv6_skipped, "ipv6_skipped", "IPv6 packets (libnids engine)", true)                          \
    X(ip_bad, "bad_ip_packets", "bad IP packets", true)                                             \
    X(truncated_segments, "snaplen_cut_segments", "segments cut by the snaplen", true)              \
    X(truncated_bytes, "snaplen_cut_bytes", "bytes cut by the snaplen", true)                       \
    X(gaps, "gaps", "holes skipped", true)                                                          \
    X(gap_bytes, "gap_bytes", "bytes missing in holes", true)                                       \
    X(store_full, "store_full", "stream store full", true)                                          \
    X(memcap_hits, "memcap_hits", "--memcap reached", true)                                         \
    X(frag_overlaps, "fragment_overlaps", "overlapping IP fragments", true)                         \
    X(frag_expired, "fragments_expired", "IP fragment datagrams expired", true)                     \
    X(frag_dropped, "fragments_dropped", "IP fragments dropped", true)                              \
    X(after_end_bytes, "after_end_bytes", "bytes after their stream ended", true)                   \
    X(idle_timeouts, "idle_timeouts", "idle timeouts", false)                                       \
    X(resets, "resets", "resets", false)                                                            \
    X(port_reuse, "port_reuse", "ports reused", false)

struct reasm_stats {
    uint64_t sessions_started, sessions_ended, sessions_active;
#define REASM_COUNTER_FIELD(field, name, label, lost) uint64_t field;
    REASM_COUNTER_LIST(REASM_COUNTER_FIELD)
#undef REASM_COUNTER_FIELD
    /* What the own engine saw besides, for tests and the bench (not in the summary). */
    uint64_t midstream, one_sided, acked_holes, packets_no_stream, overlap_conflicts;
    uint64_t ooo_segments, ooo_peak_bytes, retransmitted_bytes, frag_packets, frag_reassembled;
    uint64_t flow_chain_peak, frag_chain_peak; /* the longest hash chains walked: flows, fragments */
};

/* Returns 0, or -1 with a message in err. One instance per process. */
int reasm_init(const struct reasm_opts *o, char *err, size_t errlen);
/* One IPv4 or IPv6 packet: `len` bytes captured (may be less than its IP length: snaplen). */
void reasm_packet(void *ctx, const uint8_t *ip, size_t len, const struct timeval *ts);
/* End every open session with reason "end of input" and release everything. */
void reasm_finish(void);
void reasm_get_stats(struct reasm_stats *st);

#endif
