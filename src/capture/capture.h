/* capture.h - the libpcap front end: files (-r, several form one capture) or an interface (-i),
 * our own link-layer and IP decode, and IPv4 and IPv6 packets handed to reassembly. */
#ifndef SMTPSNIFF_CAPTURE_H
#define SMTPSNIFF_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/time.h>

#define CAPTURE_MAX_PORTS 32

/* What the front end skipped, one X-macro row each: X(field, "name", "label", lost).
 * `name` is the summary's key (docs/summary.md), `label` the end-of-run line's words. lost: the
 * packet may have carried bytes of an SMTP session (its loss is always reported); the others are
 * traffic nobody asked for. */
#define CAPTURE_COUNTER_LIST(X)                                                                    \
    X(not_ip, "not_ip", "not IP", false)                                                           \
    X(not_tcp, "not_tcp", "not TCP", false)                                                        \
    X(other_port, "other_port", "other ports", false)                                              \
    X(ip_bad, "bad_ip_header", "bad IP header", true)                                              \
    X(truncated, "truncated", "cut by the snaplen", true)

/* Counters of what the front end skipped, for the summary, the end-of-run line and tests. */
struct capture_counters {
#define CAPTURE_COUNTER_FIELD(field, name, label, lost) uint64_t field;
    CAPTURE_COUNTER_LIST(CAPTURE_COUNTER_FIELD)
#undef CAPTURE_COUNTER_FIELD
};

/* Capture-level facts the front end knows and the sinks do not. */
struct capture_stats {
    struct capture_counters skipped;
    unsigned nsources;
    const char *const *sources; /* file names or interface names */
    uint64_t packets, bytes;
    bool live;
    uint64_t ps_recv, ps_drop, ps_ifdrop; /* pcap_stats, live only */
    struct timeval first, last;
};

struct capture_opts {
    const char *const *files; /* NULL-free list; "-" is standard input */
    unsigned nfiles;
    const char *iface;        /* live capture when set */
    bool promisc;
    unsigned buffer_kib;      /* live ring size (-B), 0: CAP_BUFFER_BYTES */
    uint16_t ports[CAPTURE_MAX_PORTS];
    unsigned nports;
    const char *bpf;          /* user expression, ANDed with the ports, or NULL */
    bool progress;            /* offline progress line on stderr */
};

/* One IPv4 or IPv6 packet, the bytes of it captured (fewer than its IP length when the snaplen
 * cut it), and its capture time. */
typedef void (*capture_packet_fn)(void *ctx, const uint8_t *ip, size_t len, const struct timeval *ts);
/* Called about once a second of wall time while capturing (progress, -c / --duration checks). */
typedef void (*capture_tick_fn)(void *ctx);

struct capture;
/* Open every source first (so a bad one is reported before any output). Returns NULL with a
 * one-line message in err. */
struct capture *capture_open(const struct capture_opts *o, char *err, size_t errlen);
/* Read until the end of the last file, an error, or capture_stop(). Returns 0, or -1 with a
 * one-line message in err (what was read before the error has been delivered). */
int capture_run(struct capture *c, capture_packet_fn fn, capture_tick_fn tick, void *ctx, char *err,
                size_t errlen);
/* Async-signal-safe: ask capture_run to return after the current packet. */
void capture_stop(struct capture *c);
void capture_stats(struct capture *c, struct capture_stats *cs);
/* Bytes of input read so far and in all (0 when unknown), for the progress line. */
void capture_progress(struct capture *c, uint64_t *done, uint64_t *total);
const struct capture_counters *capture_counters(const struct capture *c);
/* Live capture: "listening on IFACE, link-type NAME (DESCRIPTION), snapshot length N bytes", as
 * tcpdump says it once its handle is active; false (buf untouched) when reading files. */
bool capture_listening(const struct capture *c, char *buf, size_t n);
void capture_close(struct capture *c);

/* Parse "25,465,587" into o->ports; returns -1 on a bad list. */
int capture_parse_ports(struct capture_opts *o, const char *list);
/* Exposed for tests: decode one link-layer frame into an IP packet. Returns the bytes of it
 * captured and sets *ip, or 0 when the frame is skipped. */
size_t capture_decode(struct capture *c, int dlt, const uint8_t *p, size_t caplen, const uint8_t **ip);

#endif
