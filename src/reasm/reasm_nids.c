/* reasm_nids.c - the libnids adapter (--engine libnids, the reference engine), the only file that
 * includes nids.h. It owns libnids' settings (docs/design.md: libnids), takes IPv4 only, maps
 * streams to SMTP sessions, ends sessions on close, reset, eviction, idle timeout and end of input,
 * and frees per-stream state in every case. */
#include "reasm/reasm_internal.h"

#include <arpa/inet.h>
#include <nids.h>
#include <pcap/pcap.h>
#include <stdlib.h>
#include <string.h>

#include "smtp/smtp_core.h"
#include "smtpsniff/limits.h"

struct rstream {
    struct smtp_session *sess;
    struct tcp_stream *ns;   /* libnids' stream; valid while libnids keeps it */
    struct tuple4 addr;
    long ns_ts;              /* libnids' creation stamp, to tell a reused slot from ours */
    bool gap[2];             /* a hole was reported for that direction (enum smtp_dir) */
    struct timeval last;     /* capture time of the last byte */
    struct rstream *prev, *next; /* idle list, least recently active first */
};

static struct {
    struct reasm_opts o;
    uint16_t ports[32];
    pcap_t *dead;
    struct nids_chksum_ctl nocheck[1]; /* libnids keeps the pointer: static storage */
    struct rstream *head, *tail;
    uint64_t next_id;
    struct timeval now;
    time_t last_sweep;
    struct reasm_stats st;
} R;

/* --- idle list ----------------------------------------------------------------------------- */

static void list_unlink(struct rstream *r)
{
    if (r->prev)
        r->prev->next = r->next;
    else
        R.head = r->next;
    if (r->next)
        r->next->prev = r->prev;
    else
        R.tail = r->prev;
    r->prev = r->next = NULL;
}

static void list_append(struct rstream *r)
{
    r->prev = R.tail;
    r->next = NULL;
    if (R.tail)
        R.tail->next = r;
    else
        R.head = r;
    R.tail = r;
}

/* --- sessions ------------------------------------------------------------------------------ */

static void endpoint_of(struct smtp_endpoint *e, u_int addr, u_short port)
{
    reasm_ipv4_text(e->ip, (const uint8_t *)&addr);
    e->port = port;
}

static bool is_server_port(u_short port)
{
    for (unsigned i = 0; i < R.o.nports; i++)
        if (R.o.ports[i] == port)
            return true;
    return false;
}

static void stream_end(struct rstream *r, enum smtp_end_reason why, const struct timeval *ts)
{
    smtp_session_end(r->sess, why, ts);
    smtp_session_free(r->sess);
    list_unlink(r);
    R.st.sessions_ended++;
    R.st.sessions_active--;
    free(r);
}

static struct rstream *stream_begin(struct tcp_stream *a)
{
    /* Not calloc, and no memset GCC would fold into one: glibc's calloc skips the tcache. Every
     * member is set here or by list_append. */
    struct rstream *r = malloc(sizeof(*r));
    if (r == NULL)
        abort();
    r->gap[SMTP_DIR_CLIENT] = r->gap[SMTP_DIR_SERVER] = false;
    struct smtp_endpoint c, s;
    endpoint_of(&c, a->addr.saddr, a->addr.source);
    endpoint_of(&s, a->addr.daddr, a->addr.dest);
    unsigned flags = R.o.session_flags;
    if (a->addr.dest == 465)
        flags |= SMTP_SESS_IMPLICIT_TLS;
    r->sess = smtp_session_new(++R.next_id, &c, &s, &R.now, R.o.sink, flags);
    a->user = r; /* libnids leaves `user` to us (zeroed for every new stream): warnings find r */
    r->ns = a;
    r->addr = a->addr;
    r->ns_ts = a->ts;
    r->last = R.now;
    list_append(r);
    R.st.sessions_started++;
    R.st.sessions_active++;
    return r;
}

/* Bytes that never arrived: segments still queued behind a hole when the stream ends. libnids
 * never skips a hole. Not checked while data flows: segments merely reordered sit in the same
 * queue until the missing one arrives, and calling that a gap would be wrong. */
static void stream_gaps(struct rstream *r, struct tcp_stream *a)
{
    if (a->server.list && !r->gap[SMTP_DIR_CLIENT]) { /* server half holds what the client sent */
        r->gap[SMTP_DIR_CLIENT] = true;
        smtp_session_gap(r->sess, SMTP_DIR_CLIENT, 0, &R.now);
    }
    if (a->client.list && !r->gap[SMTP_DIR_SERVER]) {
        r->gap[SMTP_DIR_SERVER] = true;
        smtp_session_gap(r->sess, SMTP_DIR_SERVER, 0, &R.now);
    }
}

static void deliver(struct rstream *r, struct half_stream *h, enum smtp_dir dir)
{
    if (h->count_new <= 0)
        return;
    /* New bytes sit at the end of what the half-stream holds (nids_discard is not used). */
    const uint8_t *p = (const uint8_t *)h->data + (h->count - h->offset) - h->count_new;
    smtp_session_data(r->sess, dir, p, (size_t)h->count_new, &R.now);
    /* The idle sweep works in whole seconds: the list only needs to stay in order of them. */
    if (r->last.tv_sec != R.now.tv_sec) {
        list_unlink(r);
        list_append(r);
    }
    r->last = R.now;
}

/* libnids' stream of r, or NULL when libnids has freed and reused the slot (tcp_flow_timeout). */
static struct tcp_stream *stream_nids(struct rstream *r)
{
    struct tcp_stream *ns = nids_find_tcp_stream(&r->addr);
    return ns != NULL && ns == r->ns && ns->ts == r->ns_ts ? ns : NULL;
}

static void stream_evicted(struct rstream *r)
{
    R.st.evicted++;
    smtp_session_notice(r->sess, SMTP_NOTICE_SESSION_EVICTED, SMTP_DIR_CLIENT, &R.now,
                        "dropped to make room for newer sessions (--max-sessions)");
}

/* --max-sessions is exact: a new session past it ends the least recently active one. libnids'
 * own table (n_tcp_streams) is larger and evicts only when it is full. The libnids stream is
 * freed too, so its callbacks never see the freed session (it is not the one being called). */
static void evict_oldest(void)
{
    struct rstream *r = R.head;
    struct tcp_stream *ns = stream_nids(r);
    if (ns)
        stream_gaps(r, ns);
    stream_evicted(r);
    stream_end(r, SMTP_END_TIMEOUT, &R.now);
    if (ns) {
        ns->user = NULL;
        nids_free_tcp_stream(ns);
    }
}

static void on_tcp(struct tcp_stream *a, void **param)
{
    if (a->nids_state == NIDS_JUST_EST) { /* *param is not initialised yet */
        if (!is_server_port(a->addr.dest))
            return; /* not towards an SMTP port: do not collect */
        a->client.collect++;
        a->server.collect++;
        if (R.st.sessions_active >= R.o.max_streams && R.head)
            evict_oldest();
        *param = stream_begin(a);
        return;
    }
    struct rstream *r = *param;
    switch (a->nids_state) {
    case NIDS_DATA:
        if (r == NULL)
            return;
        deliver(r, &a->server, SMTP_DIR_CLIENT);
        deliver(r, &a->client, SMTP_DIR_SERVER);
        return;
    default:
        break;
    }
    if (r == NULL)
        return;
    a->user = NULL; /* libnids frees the stream when this returns */
    stream_gaps(r, a);
    enum smtp_end_reason why = SMTP_END_EOF;
    if (a->nids_state == NIDS_CLOSE)
        why = SMTP_END_CLOSE;
    else if (a->nids_state == NIDS_RESET)
        why = SMTP_END_RESET;
    else if (a->nids_state == NIDS_TIMED_OUT) {
        why = SMTP_END_TIMEOUT;
        stream_evicted(r);
    }
    *param = NULL;
    stream_end(r, why, &R.now);
}

/* End sessions idle for longer than the timeout (libnids has no idle timeout of its own). */
static void sweep_idle(void)
{
    while (R.head && reasm_secs_between(&R.head->last, &R.now) > (int64_t)R.o.idle_timeout) {
        struct rstream *r = R.head;
        struct tcp_stream *ns = stream_nids(r);
        R.st.idle_timeouts++;
        stream_end(r, SMTP_END_TIMEOUT, &r->last); /* it ended when it went quiet */
        if (ns) {
            ns->user = NULL;
            nids_free_tcp_stream(ns);
        }
    }
}

/* The session the segment at ip/th belongs to and the side that sent it; NULL when no session
 * follows it. th must hold the ports (the caller checks the length). Packets sit unaligned in
 * the capture buffer: fields are read byte by byte. */
static struct rstream *segment_stream(const uint8_t *ip, const uint8_t *th, enum smtp_dir *dir)
{
    struct tuple4 a = {.source = (u_short)(th[0] << 8 | th[1]), .dest = (u_short)(th[2] << 8 | th[3])};
    memcpy(&a.saddr, ip + 12, 4);
    memcpy(&a.daddr, ip + 16, 4);
    struct tuple4 b = {.source = a.dest, .dest = a.source, .saddr = a.daddr, .daddr = a.saddr};
    struct tcp_stream *ns = nids_find_tcp_stream(&a);
    *dir = SMTP_DIR_CLIENT;
    if (ns == NULL) {
        ns = nids_find_tcp_stream(&b);
        *dir = SMTP_DIR_SERVER;
    }
    struct rstream *r = ns ? ns->user : NULL;
    return r && r->ns == ns && r->ns_ts == ns->ts ? r : NULL;
}

/* libnids discarded a stream's out-of-order queue (NIDS_WARN_TCP_BIGQUEUE, docs/design.md):
 * those bytes were acknowledged and never come back, so the direction is lost from here. */
static void queue_overflow(const uint8_t *ip, const uint8_t *th)
{
    R.st.queue_overflows++;
    enum smtp_dir dir;
    struct rstream *r = segment_stream(ip, th, &dir);
    if (r == NULL || r->gap[dir])
        return;
    r->gap[dir] = true; /* said once; the end of the stream adds no capture-gap for it */
    smtp_session_notice(r->sess, SMTP_NOTICE_REASM_QUEUE_OVERFLOW, dir, &R.now,
                        dir == SMTP_DIR_CLIENT ? "libnids discarded the client bytes it held out of order"
                                               : "libnids discarded the server bytes it held out of order");
}

/* A segment libnids refused (NIDS_WARN_TCP_HDR: data offset past the end, no address). */
static void bad_segment(const uint8_t *ip, const uint8_t *th)
{
    R.st.bad_tcp++;
    enum smtp_dir dir;
    size_t ihl = (size_t)(ip[0] & 15) * 4, len = (size_t)ip[2] << 8 | ip[3];
    struct rstream *r = len >= ihl + 4 ? segment_stream(ip, th, &dir) : NULL;
    if (r)
        smtp_session_notice(r->sess, SMTP_NOTICE_BAD_TCP_SEGMENT, dir, &R.now,
                            "a segment whose TCP header does not fit the packet was discarded");
}

/* libnids' warnings: counted, never sent to syslog. NIDS_WARN_TCP_TOOMUCH is the eviction that
 * on_tcp has already counted (libnids warns after ending the oldest stream). */
static void on_nids_warning(int type, int err, struct ip *iph, void *data)
{
    const uint8_t *ip = (const uint8_t *)iph, *th = data;
    if (type == NIDS_WARN_TCP && err == NIDS_WARN_TCP_BIGQUEUE && ip && th)
        queue_overflow(ip, th);
    else if (type == NIDS_WARN_TCP && err == NIDS_WARN_TCP_HDR && ip && th)
        bad_segment(ip, th);
    else if (type == NIDS_WARN_TCP && err != NIDS_WARN_TCP_TOOMUCH)
        R.st.bad_tcp++;
    else if (type == NIDS_WARN_IP)
        R.st.ip_warnings++;
}

static void on_no_mem(char *where)
{
    (void)where;
    abort();
}

int reasm_nids_init(const struct reasm_opts *o, char *err, size_t errlen)
{
    memset(&R, 0, sizeof(R));
    R.o = *o;
    memcpy(R.ports, o->ports, o->nports * sizeof(o->ports[0]));
    R.o.ports = R.ports;
    /* We decode the link layer ourselves and feed bare IPv4 (docs/design.md: SLL2, QinQ, IPv6). */
    R.dead = pcap_open_dead(DLT_RAW, CAP_SNAPLEN);
    if (R.dead == NULL) {
        snprintf(err, errlen, "cannot create the reassembly handle");
        return -1;
    }
    nids_params.pcap_desc = R.dead;
    nids_params.filename = NULL;
    nids_params.device = NULL;
    nids_params.n_tcp_streams = (int)(o->max_streams / 3 * 4 + 4);
    nids_params.scan_num_hosts = 0;   /* the scan detector uses wall-clock time */
    nids_params.syslog = (__typeof__(nids_params.syslog))(void *)on_nids_warning;
    nids_params.no_mem = on_no_mem;
    nids_params.pcap_filter = NULL;
    nids_params.multiproc = 0;
    nids_params.tcp_workarounds = 0;
    if (!nids_init()) {
        snprintf(err, errlen, "libnids: %s", nids_errbuf);
        pcap_close(R.dead);
        return -1;
    }
    /* Checksums from the sending host or loopback are unfinished (offload): never check. */
    R.nocheck[0].netaddr = 0;
    R.nocheck[0].mask = 0;
    R.nocheck[0].action = NIDS_DONT_CHKSUM;
    nids_register_chksum_ctl(R.nocheck, 1);
    nids_register_tcp((void *)on_tcp);
    return 0;
}

/* What libnids cannot take: IPv6, packets cut by the snaplen, and IPv4 fragments too short for
 * its defragmenter, which reads ihl+8 bytes of every fragment (docs/design.md). */
static bool nids_can_take(const uint8_t *ip, size_t len)
{
    if (len < 20 || (ip[0] >> 4) != 4) {
        R.st.ipv6_skipped += len >= 1 && (ip[0] >> 4) == 6;
        return false;
    }
    size_t ihl = (size_t)(ip[0] & 15) * 4, tot = (size_t)ip[2] << 8 | ip[3];
    if (tot > len) {
        R.st.truncated_segments++;
        return false;
    }
    if (((ip[6] << 8 | ip[7]) & 0x3FFF) && tot < ihl + 8) {
        R.st.ip_bad++;
        return false;
    }
    return true;
}

void reasm_nids_packet(const uint8_t *ip, size_t len, const struct timeval *ts)
{
    if (!nids_can_take(ip, len))
        return;
    R.now = *ts;
    struct pcap_pkthdr h = {.ts = *ts, .caplen = (bpf_u_int32)len, .len = (bpf_u_int32)len};
    nids_pcap_handler(NULL, &h, (u_char *)(uintptr_t)ip);
    if (ts->tv_sec != R.last_sweep) {
        R.last_sweep = ts->tv_sec;
        sweep_idle();
    }
}

void reasm_nids_finish(void)
{
    nids_exit(); /* NIDS_EXITING for every stream still open */
    while (R.head) /* streams libnids no longer knew (freed silently) */
        stream_end(R.head, SMTP_END_EOF, &R.now);
    if (R.dead)
        pcap_close(R.dead);
    R.dead = NULL;
}

void reasm_nids_stats(struct reasm_stats *st)
{
    *st = R.st;
}
