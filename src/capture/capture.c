/* capture.c - libpcap front end: opens files or an interface, decodes Ethernet (any number of
 * 802.1Q/802.1ad tags), Linux SLL/SLL2, raw IP and BSD loopback itself, keeps TCP on the
 * chosen ports (and IP fragments, whose ports only reassembly can see) and hands IPv4 and IPv6
 * packets on as captured: one cut by the snapshot length goes on too, reassembly reports it. */
#include "capture/capture.h"

#include <arpa/inet.h>
#include <errno.h>
#include <pcap/pcap.h>
#include <signal.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "smtpsniff/limits.h"
#include "lib/strbuf.h"

#ifndef DLT_LINUX_SLL2
#define DLT_LINUX_SLL2 276
#endif

struct capture_src {
    pcap_t *h;
    const char *name;
    int dlt;
    uint64_t size; /* file size, 0 when unknown */
    char *iobuf;   /* stdio buffer of a file, freed after pcap_close */
    bool ts_u32;   /* classic pcap file: its 32-bit seconds are unsigned, libpcap sign-extends them */
    /* Classic pcap from a regular file is read here in blocks, records parsed in place: libpcap
     * copies every packet out of the stdio buffer (a third of the engine-alone floor's
     * instructions, docs/benchmark.md). pcapng, stdin and live capture go through libpcap. */
    bool fast, swapped, nsec;
    struct bpf_program prog; /* the user's filter, applied with pcap_offline_filter */
    bool have_prog;
    uint8_t *blk;
    size_t blk_off, blk_len;
};

struct capture {
    const struct capture_opts *o;
    struct capture_src *src;
    unsigned nsrc, cur;
    volatile sig_atomic_t stop;
    capture_packet_fn fn;
    capture_tick_fn tick;
    void *ctx;
    struct capture_counters cnt;
    uint64_t packets, bytes, done_bytes;
    struct timeval first, last;
    time_t last_tick;
    uint64_t port_bits[65536 / 64]; /* the ports of o->ports as a bit set: one load per port */
};

static bool dlt_supported(int dlt)
{
    switch (dlt) {
    case DLT_EN10MB:
    case DLT_LINUX_SLL:
    case DLT_LINUX_SLL2:
    case DLT_RAW:
    case DLT_IPV4:
    case DLT_IPV6:
    case DLT_NULL:
    case DLT_LOOP:
        return true;
    default:
        return false;
    }
}

int capture_parse_ports(struct capture_opts *o, const char *list)
{
    o->nports = 0;
    const char *p = list;
    while (*p) {
        char *end;
        errno = 0;
        long v = strtol(p, &end, 10);
        if (end == p || errno || v < 1 || v > 65535 || (*end != ',' && *end != '\0') ||
            o->nports == CAPTURE_MAX_PORTS)
            return -1;
        o->ports[o->nports++] = (uint16_t)v;
        p = *end ? end + 1 : end;
    }
    return o->nports ? 0 : -1;
}

static bool port_wanted(const struct capture *c, uint16_t sport, uint16_t dport)
{
    return ((c->port_bits[sport >> 6] >> (sport & 63)) | (c->port_bits[dport >> 6] >> (dport & 63))) & 1;
}

static uint16_t rd16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

/* The IP packet as captured: its own length, or fewer bytes when the snaplen cut it. */
static size_t ip_captured(size_t ip_len, size_t n)
{
    return ip_len <= n ? ip_len : n;
}

static size_t decode_ipv4(struct capture *c, const uint8_t *p, size_t n, const uint8_t **ip)
{
    if (n < 20 || (p[0] >> 4) != 4) {
        c->cnt.ip_bad++;
        return 0;
    }
    size_t ihl = (size_t)(p[0] & 15) * 4, len = rd16(p + 2);
    if (ihl < 20 || len < ihl || n < ihl) {
        c->cnt.ip_bad++;
        return 0;
    }
    if (p[9] != 6) {
        c->cnt.not_tcp++;
        return 0;
    }
    uint16_t frag = rd16(p + 6);
    if ((frag & 0x1FFF) != 0 || ((frag & 0x2000) && len < ihl + 20)) {
        *ip = p; /* a fragment without the TCP ports: reassembly puts it together first */
        return ip_captured(len, n);
    }
    if (len < ihl + 20 || n < ihl + 4) {
        c->cnt.truncated += len >= ihl + 20; /* cut before the ports */
        c->cnt.ip_bad += len < ihl + 20;
        return 0;
    }
    if (!port_wanted(c, rd16(p + ihl), rd16(p + ihl + 2))) {
        c->cnt.other_port++;
        return 0;
    }
    if (len > n)
        c->cnt.truncated++;
    *ip = p;
    return ip_captured(len, n);
}

/* RFC 8200 4: walk extension headers to TCP; a fragment header hands the packet on as it is. */
static size_t decode_ipv6(struct capture *c, const uint8_t *p, size_t n, const uint8_t **ip)
{
    if (n < 40 || (p[0] >> 4) != 6) {
        c->cnt.ip_bad++;
        return 0;
    }
    size_t plen = rd16(p + 4), off = 40;
    if (plen == 0) {
        c->cnt.ip_bad++; /* a jumbogram (RFC 2675) or nothing: not SMTP on any link we read */
        return 0;
    }
    uint8_t nh = p[6];
    size_t end = ip_captured(40 + plen, n);
    while (nh != 6) {
        if (off + 8 > end) {
            c->cnt.truncated += 40 + plen > n;
            c->cnt.ip_bad += 40 + plen <= n;
            return 0;
        }
        if (nh == 0 || nh == 43 || nh == 60) {
            nh = p[off];
            off += ((size_t)p[off + 1] + 1) * 8;
        } else if (nh == 51) {
            nh = p[off];
            off += ((size_t)p[off + 1] + 2) * 4;
        } else if (nh == 44) {
            *ip = p; /* reassembly puts the fragments together and then looks at the ports */
            return end;
        } else {
            c->cnt.not_tcp++;
            return 0;
        }
    }
    if (off + 4 > end) {
        c->cnt.truncated += 40 + plen > n;
        c->cnt.ip_bad += 40 + plen <= n;
        return 0;
    }
    if (!port_wanted(c, rd16(p + off), rd16(p + off + 2))) {
        c->cnt.other_port++;
        return 0;
    }
    if (40 + plen > n)
        c->cnt.truncated++;
    *ip = p;
    return end;
}

static size_t decode_l3(struct capture *c, unsigned etype, const uint8_t *p, size_t n, const uint8_t **ip)
{
    if (etype == 0x0800)
        return decode_ipv4(c, p, n, ip);
    if (etype == 0x86DD)
        return decode_ipv6(c, p, n, ip);
    c->cnt.not_ip++;
    return 0;
}

/* BSD loopback AF values: 2 is AF_INET everywhere; AF_INET6 is 24, 28 or 30 by OS. */
static unsigned af_to_etype(uint32_t af)
{
    if (af == 2)
        return 0x0800;
    if (af == 24 || af == 28 || af == 30 || af == 10)
        return 0x86DD;
    return 0;
}

size_t capture_decode(struct capture *c, int dlt, const uint8_t *p, size_t caplen, const uint8_t **ip)
{
    size_t off = 0;
    unsigned etype = 0;
    switch (dlt) {
    case DLT_EN10MB:
        if (caplen < 14)
            break;
        etype = rd16(p + 12);
        off = 14;
        /* 802.1Q, 802.1ad (QinQ) and the old 0x9100 tag, any depth. */
        while ((etype == 0x8100 || etype == 0x88A8 || etype == 0x9100) && caplen >= off + 4) {
            etype = rd16(p + off + 2);
            off += 4;
        }
        break;
    case DLT_LINUX_SLL:
        if (caplen >= 16)
            etype = rd16(p + 14), off = 16;
        break;
    case DLT_LINUX_SLL2:
        if (caplen >= 20)
            etype = rd16(p), off = 20;
        break;
    case DLT_NULL:
        if (caplen >= 4) {
            uint32_t le = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
            uint32_t be = (uint32_t)p[3] | (uint32_t)p[2] << 8 | (uint32_t)p[1] << 16 | (uint32_t)p[0] << 24;
            etype = af_to_etype(le) ? af_to_etype(le) : af_to_etype(be);
            off = 4;
        }
        break;
    case DLT_LOOP:
        if (caplen >= 4)
            etype = af_to_etype((uint32_t)p[3] | (uint32_t)p[2] << 8 | (uint32_t)p[1] << 16 |
                                (uint32_t)p[0] << 24),
            off = 4;
        break;
    default: /* DLT_RAW, DLT_IPV4, DLT_IPV6: the IP version says which */
        if (caplen >= 1)
            etype = (p[0] >> 4) == 6 ? 0x86DD : 0x0800;
        break;
    }
    if (etype == 0) {
        c->cnt.not_ip++;
        return 0;
    }
    return decode_l3(c, etype, p + off, caplen - off, ip);
}

/* --- opening ------------------------------------------------------------------------------- */

/* For the block reader: keep the compiled user filter instead of setting it on the handle. */
static int keep_filter(struct capture_src *s, const char *expr, char *err, size_t errlen)
{
    if (pcap_compile(s->h, &s->prog, expr, 1, PCAP_NETMASK_UNKNOWN) != 0) {
        snprintf(err, errlen, "bad filter expression '%s': %s", expr, pcap_geterr(s->h));
        return -1;
    }
    s->have_prog = true;
    return 0;
}

static int set_filter(pcap_t *h, const char *name, const char *expr, char *err, size_t errlen)
{
    struct bpf_program prog;
    if (pcap_compile(h, &prog, expr, 1, PCAP_NETMASK_UNKNOWN) != 0) {
        snprintf(err, errlen, "bad filter expression '%s': %s", expr, pcap_geterr(h));
        return -1;
    }
    int rc = pcap_setfilter(h, &prog);
    pcap_freecode(&prog);
    if (rc != 0)
        snprintf(err, errlen, "%s: cannot set filter: %s", name, pcap_geterr(h));
    return rc;
}

/* Classic pcap magics (RFC draft-ietf-opsawg-pcap 4): micro- or nanosecond stamps, either byte
 * order. Anything else (pcapng, the rare modified formats) stays with libpcap. */
static void block_reader_probe(struct capture_src *s, FILE *f)
{
    uint8_t m[4];
    if (fread(m, 1, 4, f) == 4) {
        uint32_t be = (uint32_t)m[0] << 24 | (uint32_t)m[1] << 16 | (uint32_t)m[2] << 8 | m[3];
        uint32_t le = (uint32_t)m[3] << 24 | (uint32_t)m[2] << 16 | (uint32_t)m[1] << 8 | m[0];
        s->fast = be == 0xA1B2C3D4 || be == 0xA1B23C4D || le == 0xA1B2C3D4 || le == 0xA1B23C4D;
        s->swapped = be == 0xA1B2C3D4 || be == 0xA1B23C4D; /* the fields are big-endian */
        s->nsec = be == 0xA1B23C4D || le == 0xA1B23C4D;
    }
    rewind(f);
}

/* stdio's own buffer for a file is st_blksize (4 KB): about 120,000 read(2) calls per GB. With
 * 256 KB there are ~4,000, and a --json run took 6-17% less CPU (three interleaved series on
 * 250 MB, docs/benchmark.md). From a pipe, a read returns at most what the pipe holds (64 KB). */
#define CAPTURE_FILE_BUFFER (256u * 1024)
/* The block reader's buffer: larger than the stdio buffer, so fread reads straight into it, and
 * than the largest record (CAP_SNAPLEN + 16). */
#define BLOCK_READ_BYTES (1024u * 1024)

/* stdin's: static, as stdin outlives capture_close; set once, before stdin's first read. */
static void buffer_stdin(void)
{
    static char buf[CAPTURE_FILE_BUFFER];
    static bool done;
    if (!done)
        setvbuf(stdin, buf, _IOFBF, sizeof(buf));
    done = true;
}

static int open_file(struct capture_src *s, const char *path, char *err, size_t errlen)
{
    char perr[PCAP_ERRBUF_SIZE] = "";
    s->name = path;
    if (strcmp(path, "-") != 0) {
        struct stat st;
        if (stat(path, &st) != 0) {
            snprintf(err, errlen, "%s: %s", path, strerror(errno));
            return -1;
        }
        if (S_ISDIR(st.st_mode)) {
            snprintf(err, errlen, "%s: is a directory, not a capture file", path);
            return -1;
        }
        s->size = (uint64_t)st.st_size;
        if (st.st_size == 0) {
            snprintf(err, errlen, "%s: empty file, not a pcap or pcapng capture", path);
            return -1;
        }
    }
    bool is_stdin = strcmp(path, "-") == 0;
    FILE *f = is_stdin ? stdin : fopen(path, "rb");
    if (f == NULL) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }

    /* Only this thread reads the capture, so stdio need not take the FILE's lock for each of the
     * two freads per packet libpcap makes: those atomic operations were ~5% of a run (libnids
     * links libpthread, so glibc locks every call). libpcap closes f (not stdin) on pcap_close. */
    __fsetlocking(f, FSETLOCKING_BYCALLER);
    if (is_stdin)
        buffer_stdin();
    else if ((s->iobuf = malloc(CAPTURE_FILE_BUFFER)) != NULL)
        setvbuf(f, s->iobuf, _IOFBF, CAPTURE_FILE_BUFFER);
    if (!is_stdin)
        block_reader_probe(s, f); /* after setvbuf: a stream's buffer is set before its first read */
    s->h = pcap_fopen_offline_with_tstamp_precision(f, PCAP_TSTAMP_PRECISION_MICRO, perr);
    if (s->h == NULL) {
        if (!is_stdin)
            fclose(f);
        free(s->iobuf);
        s->iobuf = NULL;
        if (strstr(perr, "unknown file format") || strstr(perr, "truncated dump file") ||
            strstr(perr, "bad dump file format"))
            snprintf(err, errlen, "%s: not a pcap or pcapng capture (%s)", path, perr);
        else
            snprintf(err, errlen, "%s: %s", path, perr);
        return -1;
    }
    s->ts_u32 = pcap_major_version(s->h) == 2; /* pcapng reports its section's version, 1 */
    s->fast = s->fast && s->ts_u32 && (s->blk = malloc(BLOCK_READ_BYTES)) != NULL;
    return 0;
}

static int open_live(struct capture_src *s, const struct capture_opts *o, char *err, size_t errlen)
{
    char perr[PCAP_ERRBUF_SIZE] = "";
    s->name = o->iface;
    s->h = pcap_create(o->iface, perr);
    if (s->h == NULL) {
        snprintf(err, errlen, "%s: %s", o->iface, perr);
        return -1;
    }
    pcap_set_snaplen(s->h, CAP_SNAPLEN); /* libnids' own 16384 cuts GSO segments (docs/design.md) */
    pcap_set_promisc(s->h, o->promisc);
    /* Not immediate mode: that gives a TPACKET_V2 ring of frames each sized for the snaplen,
     * ~128 packets in 32 MB, and a burst at 1 Gbps overflowed it (limits.h: CAP_TIMEOUT_MS). */
    pcap_set_immediate_mode(s->h, 0);
    pcap_set_buffer_size(s->h, o->buffer_kib ? (int)o->buffer_kib * 1024 : CAP_BUFFER_BYTES);
    pcap_set_timeout(s->h, CAP_TIMEOUT_MS);
    int rc = pcap_activate(s->h);
    if (rc < 0) {
        const char *why = pcap_geterr(s->h);
        if (rc == PCAP_ERROR_NO_SUCH_DEVICE)
            snprintf(err, errlen, "%s: no such interface (%s)", o->iface, why);
        else if (rc == PCAP_ERROR_PERM_DENIED)
            snprintf(err, errlen, "%s: no permission to capture (run as root or grant CAP_NET_RAW): %s",
                     o->iface, why);
        else
            snprintf(err, errlen, "%s: cannot start capture: %s", o->iface, why[0] ? why : pcap_statustostr(rc));
        pcap_close(s->h);
        s->h = NULL;
        return -1;
    }
    return 0;
}

/* Live: filter in the kernel on the ports too (with and without a VLAN tag). */
static int live_filter(struct capture_src *s, const struct capture_opts *o, char *err, size_t errlen)
{
    struct strbuf f;
    sb_init(&f, 4096);
    sb_puts(&f, "tcp and (");
    for (unsigned i = 0; i < o->nports; i++)
        sb_printf(&f, "%sport %u", i ? " or " : "", o->ports[i]);
    sb_puts(&f, ")");
    struct strbuf full;
    sb_init(&full, 8192);
    sb_printf(&full, "((%s) or (vlan and %s))", f.p, f.p);
    if (o->bpf)
        sb_printf(&full, " and (%s)", o->bpf);
    int rc = set_filter(s->h, s->name, full.p, err, errlen);
    if (rc != 0 && o->bpf == NULL) /* link types without "vlan": ports alone */
        rc = set_filter(s->h, s->name, f.p, err, errlen);
    else if (rc != 0) { /* report the user's expression, not ours */
        sb_reset(&full);
        sb_printf(&full, "(%s) and (%s)", f.p, o->bpf);
        rc = set_filter(s->h, s->name, full.p, err, errlen);
        if (rc != 0)
            set_filter(s->h, s->name, o->bpf, err, errlen);
    }
    sb_free(&f);
    sb_free(&full);
    return rc;
}

struct capture *capture_open(const struct capture_opts *o, char *err, size_t errlen)
{
    struct capture *c = calloc(1, sizeof(*c));
    unsigned n = o->iface ? 1 : o->nfiles;
    if (c == NULL || n == 0 || (c->src = calloc(n, sizeof(*c->src))) == NULL) {
        snprintf(err, errlen, n == 0 ? "nothing to read: give -r FILE or -i INTERFACE" : "out of memory");
        free(c);
        return NULL;
    }
    c->o = o;
    c->nsrc = n;
    for (unsigned i = 0; i < o->nports; i++)
        c->port_bits[o->ports[i] >> 6] |= 1ULL << (o->ports[i] & 63);
    for (unsigned i = 0; i < n; i++) {
        struct capture_src *s = &c->src[i];
        int rc = o->iface ? open_live(s, o, err, errlen) : open_file(s, o->files[i], err, errlen);
        if (rc == 0) {
            s->dlt = pcap_datalink(s->h);
            if (!dlt_supported(s->dlt)) {
                const char *nm = pcap_datalink_val_to_name(s->dlt);
                snprintf(err, errlen, "%s: link type %d (%s) is not supported", s->name, s->dlt, nm ? nm : "unknown");
                rc = -1;
            } else if (o->iface) {
                rc = live_filter(s, o, err, errlen);
            } else if (o->bpf) {
                rc = s->fast ? keep_filter(s, o->bpf, err, errlen) : set_filter(s->h, s->name, o->bpf, err, errlen);
            }
        }
        if (rc != 0) {
            capture_close(c);
            return NULL;
        }
    }
    return c;
}

/* --- reading ------------------------------------------------------------------------------- */

static void on_packet(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes)
{
    struct capture *c = (struct capture *)user;
    struct capture_src *s = &c->src[c->cur];
    struct pcap_pkthdr fixed;
    if (s->ts_u32 && h->ts.tv_sec < 0) { /* 2038-01-19 to 2106-02-07: libpcap read it as negative */
        fixed = *h;
        fixed.ts.tv_sec += (time_t)1 << 32;
        h = &fixed;
    }
    /* Files may come out of time order: keep the earliest and the latest time. */
    if (c->packets++ == 0 || timercmp(&h->ts, &c->first, <))
        c->first = h->ts;
    if (timercmp(&h->ts, &c->last, >))
        c->last = h->ts;
    c->bytes += h->len;
    const uint8_t *ip;
    size_t n = capture_decode(c, s->dlt, bytes, h->caplen, &ip);
    if (n)
        c->fn(c->ctx, ip, n, &h->ts);
    if (c->stop)
        pcap_breakloop(s->h);
}

static void maybe_tick(struct capture *c)
{
    time_t now = time(NULL);
    if (c->tick && now != c->last_tick) {
        c->last_tick = now;
        c->tick(c->ctx);
    }
}

static uint32_t rd32(const struct capture_src *s, const uint8_t *p)
{
    if (s->swapped)
        return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
    return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

/* At least `need` bytes from blk_off, reading on; false at the end of the file. */
static bool block_fill(struct capture_src *s, size_t need)
{
    if (s->blk_len - s->blk_off >= need)
        return true;
    memmove(s->blk, s->blk + s->blk_off, s->blk_len - s->blk_off);
    s->blk_len -= s->blk_off;
    s->blk_off = 0;
    FILE *f = pcap_file(s->h);
    while (s->blk_len < need) {
        size_t got = fread(s->blk + s->blk_len, 1, BLOCK_READ_BYTES - s->blk_len, f);
        if (got == 0)
            return false;
        s->blk_len += got;
    }
    return true;
}

/* Up to `max` records as libpcap would hand them on: 1 when some were read, 0 at the end of the
 * file, -1 on a damaged one (libpcap's words for it). */
static int block_dispatch(struct capture *c, struct capture_src *s, int max, char *err, size_t errlen)
{
    for (int i = 0; i < max && !c->stop; i++) {
        if (!block_fill(s, 16)) {
            if (s->blk_len == s->blk_off)
                return i > 0;
            snprintf(err, errlen, "%s: truncated dump file; tried to read 16 header bytes, only got %zu", s->name,
                     s->blk_len - s->blk_off);
            return -1;
        }
        const uint8_t *r = s->blk + s->blk_off;
        struct pcap_pkthdr h;
        h.ts.tv_sec = (int32_t)rd32(s, r); /* as libpcap: on_packet puts the sign right */
        h.ts.tv_usec = (suseconds_t)(s->nsec ? rd32(s, r + 4) / 1000 : rd32(s, r + 4));
        h.caplen = rd32(s, r + 8);
        h.len = rd32(s, r + 12);
        if (h.caplen > CAP_SNAPLEN) {
            snprintf(err, errlen, "%s: invalid packet capture length %u, bigger than the maximum of %u", s->name,
                     h.caplen, CAP_SNAPLEN);
            return -1;
        }
        if (!block_fill(s, 16 + (size_t)h.caplen)) {
            snprintf(err, errlen, "%s: truncated dump file; tried to read %u captured bytes, only got %zu", s->name,
                     h.caplen, s->blk_len - s->blk_off - 16);
            return -1;
        }
        const uint8_t *data = s->blk + s->blk_off + 16;
        s->blk_off += 16 + (size_t)h.caplen;
        if (!s->have_prog || pcap_offline_filter(&s->prog, &h, data))
            on_packet((u_char *)c, &h, data);
    }
    return 1;
}

static int run_source(struct capture *c, struct capture_src *s, char *err, size_t errlen)
{
    while (s->fast) {
        int rc = block_dispatch(c, s, 4096, err, errlen);
        maybe_tick(c);
        if (rc <= 0 || c->stop)
            return rc < 0 ? -1 : 0;
    }
    for (;;) {
        int rc = pcap_dispatch(s->h, c->o->iface ? -1 : 4096, on_packet, (u_char *)c);
        maybe_tick(c);
        if (c->stop || rc == PCAP_ERROR_BREAK)
            return 0;
        if (rc == PCAP_ERROR) {
            snprintf(err, errlen, "%s: %s", s->name, pcap_geterr(s->h));
            return -1;
        }
        if (rc == 0 && !c->o->iface)
            return 0; /* end of file */
    }
}

int capture_run(struct capture *c, capture_packet_fn fn, capture_tick_fn tick, void *ctx, char *err,
                size_t errlen)
{
    c->fn = fn;
    c->tick = tick;
    c->ctx = ctx;
    for (c->cur = 0; c->cur < c->nsrc && !c->stop; c->cur++) {
        if (run_source(c, &c->src[c->cur], err, errlen) != 0)
            return -1;
        c->done_bytes += c->src[c->cur].size;
    }
    return 0;
}

void capture_stop(struct capture *c)
{
    if (c == NULL)
        return;
    c->stop = 1;
    if (c->cur < c->nsrc && c->src[c->cur].h)
        pcap_breakloop(c->src[c->cur].h);
}

void capture_stats(struct capture *c, struct capture_stats *cs)
{
    memset(cs, 0, sizeof(*cs));
    cs->skipped = c->cnt;
    cs->packets = c->packets;
    cs->bytes = c->bytes;
    cs->first = c->first;
    cs->last = c->last;
    cs->live = c->o->iface != NULL;
    cs->sources = c->o->iface ? &c->o->iface : c->o->files;
    cs->nsources = c->o->iface ? 1 : c->o->nfiles;
    struct pcap_stat ps;
    if (cs->live && c->src[0].h && pcap_stats(c->src[0].h, &ps) == 0) {
        cs->ps_recv = ps.ps_recv;
        cs->ps_drop = ps.ps_drop;
        cs->ps_ifdrop = ps.ps_ifdrop;
    }
}

void capture_progress(struct capture *c, uint64_t *done, uint64_t *total)
{
    *total = 0;
    for (unsigned i = 0; i < c->nsrc; i++)
        *total += c->src[i].size;
    *done = c->done_bytes;
    if (c->cur < c->nsrc && c->src[c->cur].h && !c->o->iface) {
        FILE *f = pcap_file(c->src[c->cur].h);
        long pos = f ? ftell(f) : -1;
        if (pos > 0)
            *done += (uint64_t)pos;
    }
}

/* tcpdump's line, from the active handle: the link type and snaplen it has, not those asked for. */
bool capture_listening(const struct capture *c, char *buf, size_t n)
{
    if (c->o->iface == NULL || c->src[0].h == NULL)
        return false;
    const struct capture_src *s = &c->src[0];
    const char *name = pcap_datalink_val_to_name(s->dlt), *desc = pcap_datalink_val_to_description(s->dlt);
    int snap = pcap_snapshot(s->h);
    if (name)
        snprintf(buf, n, "listening on %s, link-type %s (%s), snapshot length %d bytes", s->name, name,
                 desc ? desc : name, snap);
    else
        snprintf(buf, n, "listening on %s, link-type %d, snapshot length %d bytes", s->name, s->dlt, snap);
    return true;
}

const struct capture_counters *capture_counters(const struct capture *c)
{
    return &c->cnt;
}

void capture_close(struct capture *c)
{
    if (c == NULL)
        return;
    for (unsigned i = 0; i < c->nsrc; i++)
        if (c->src[i].h) {
            if (c->src[i].have_prog)
                pcap_freecode(&c->src[i].prog);
            pcap_close(c->src[i].h);
            free(c->src[i].iobuf);
            free(c->src[i].blk);
        }
    free(c->src);
    free(c);
}
