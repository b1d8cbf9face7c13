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
    uint64_t memcap;       /* bytes held out of order by all streams and fragments (own engine) */
    unsigned session_flags; /* SMTP_SESS_SHOW_CREDENTIALS */
};

/* What reassembly discarded, cut short or decided, one X-macro row each: X(field, "name", "label",
 * lost), as CAPTURE_COUNTER_LIST (capture.h). Each one that concerns a session also raises a notice
 * on it. libnids fills the first five and ipv6_skipped, snaplen_cut_segments and bad_ip_packets;
 * the own engine all but queue_overflows and ip_warnings. */
#define REASM_COUNTER_LIST(X)                                                                      \
    X(queue_overflows, "queue_overflows", "reassembly queue overflows", true)                       \
    X(bad_tcp, "bad_tcp_segments", "bad TCP segments", true)                                        \
    X(ip_warnings, "ip_warnings", "IP reassembly warnings", true)                                   \
    X(evicted, "evicted", "sessions evicted", true)                                                 \
    X(idle_timeouts, "idle_timeouts", "idle timeouts", false)                                       \
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
    X(overlap_conflicts, "overlap_conflicts", "retransmissions with other bytes", false)            \
    X(packets_no_stream, "packets_no_stream", "packets of no stream", false)                        \
    X(after_end_bytes, "after_end_bytes", "bytes after their stream ended", false)                  \
    X(midstream, "midstream", "streams picked up midstream", false)                                 \
    X(one_sided, "one_sided", "one-sided streams", false)                                           \
    X(port_reuse, "port_reuse", "ports reused", false)                                              \
    X(resets, "resets", "resets", false)                                                            \
    X(acked_holes, "acked_holes", "holes acknowledged past", false)                                 \
    X(ooo_segments, "out_of_order_segments", "segments stored out of order", false)                 \
    X(ooo_peak_bytes, "out_of_order_peak_bytes", "peak bytes stored out of order", false)           \
    X(retransmitted_bytes, "retransmitted_bytes", "bytes seen again", false)                        \
    X(frag_packets, "fragments", "IP fragments", false)                                             \
    X(frag_reassembled, "fragment_datagrams", "IP datagrams reassembled", false)

struct reasm_stats {
    uint64_t sessions_started, sessions_ended, sessions_active;
#define REASM_COUNTER_FIELD(field, name, label, lost) uint64_t field;
    REASM_COUNTER_LIST(REASM_COUNTER_FIELD)
#undef REASM_COUNTER_FIELD
};

/* Returns 0, or -1 with a message in err. One instance per process. */
int reasm_init(const struct reasm_opts *o, char *err, size_t errlen);
/* One IPv4 or IPv6 packet: `len` bytes captured (may be less than its IP length: snaplen). */
void reasm_packet(void *ctx, const uint8_t *ip, size_t len, const struct timeval *ts);
/* End every open session with reason "end of input" and release everything. */
void reasm_finish(void);
void reasm_get_stats(struct reasm_stats *st);

#endif
