/* ipfrag.c - IPv4 and IPv6 fragment reassembly for the own engine: bounded (datagrams, bytes,
 * fragments per datagram), expired in capture time, and one overlap policy for both families,
 * Linux's (net/ipv4/inet_fragment.c since 4.19; RFC 5722 for IPv6): a fragment that lies inside
 * one already held is a duplicate and dropped (the first bytes stand); any other overlap discards
 * the whole datagram. A duplicate with different bytes is reported all the same. */
#include <stdlib.h>
#include <string.h>

#include "lib/xalloc.h"
#include "reasm/reasm_internal.h"
#include "smtpsniff/limits.h"

#define FRAG_BUCKETS 2048 /* power of two, twice REASM_MAX_FRAG_DATAGRAMS */

struct frag {
    struct frag *next; /* by offset */
    size_t off, len;
    uint8_t data[];
};

struct datagram {
    struct datagram *hnext, *prev, *next; /* hash chain; age list, oldest first */
    uint8_t family, proto, src[16], dst[16];
    uint32_t id;
    unsigned hidx; /* its bucket */
    struct timeval first;
    struct frag *frags;
    unsigned nfrags;
    size_t total; /* known once the last fragment (MF clear) arrived, else 0 */
    size_t bytes;
};

static struct {
    struct datagram *bucket[FRAG_BUCKETS];
    struct datagram *oldest, *newest;
    unsigned count;
    uint64_t bytes;
    struct reasm_stats *st;
    uint8_t *whole; /* the last completed datagram, handed out until the next call */
    uint64_t seed;
    unsigned chain_peak; /* the longest hash chain walked */
} F;

/* Keyed by the engine's per-run secret, every input bit reaching the bucket bits (as the flow
 * hash, reasm_tcp.c): with a fixed multiply chain, ids and addresses that share a bucket are
 * easy to pick, and every fragment then walks the whole chain. */
static unsigned frag_hash(const struct reasm_ip *ip, uint32_t id)
{
    uint64_t h = F.seed ^ ((uint64_t)id << 8 | ip->proto);
    for (int i = 0; i < 16; i += 8) {
        uint64_t a, b;
        memcpy(&a, ip->src + i, 8);
        memcpy(&b, ip->dst + i, 8);
        h = (h ^ a) * 0xBF58476D1CE4E5B9ull;
        h ^= h >> 32;
        h = (h ^ b) * 0xBF58476D1CE4E5B9ull;
        h ^= h >> 32;
    }
    h = (h ^ (h >> 29)) * 0x94D049BB133111EBull;
    return (unsigned)(h ^ (h >> 32)) & (FRAG_BUCKETS - 1);
}

static bool same_datagram(const struct datagram *d, const struct reasm_ip *ip, uint32_t id)
{
    return d->id == id && d->family == ip->family && d->proto == ip->proto && memcmp(d->src, ip->src, 16) == 0 &&
           memcmp(d->dst, ip->dst, 16) == 0;
}

static void datagram_free(struct datagram *d)
{
    struct datagram **pp = &F.bucket[d->hidx];
    while (*pp != d)
        pp = &(*pp)->hnext;
    *pp = d->hnext;
    if (d->prev)
        d->prev->next = d->next;
    else
        F.oldest = d->next;
    if (d->next)
        d->next->prev = d->prev;
    else
        F.newest = d->prev;
    for (struct frag *f = d->frags, *n; f; f = n) {
        n = f->next;
        free(f);
    }
    F.bytes -= d->bytes;
    F.count--;
    free(d);
}

static struct datagram *datagram_get(const struct reasm_ip *ip, uint32_t id, const struct timeval *ts)
{
    unsigned h = frag_hash(ip, id), n = 0;
    for (struct datagram *d = F.bucket[h]; d; d = d->hnext, n++)
        if (same_datagram(d, ip, id))
            return d;
    if (n > F.chain_peak)
        F.chain_peak = n;
    if (F.count == REASM_MAX_FRAG_DATAGRAMS) {
        F.st->frag_dropped++; /* the oldest makes room: it would likely have expired first */
        datagram_free(F.oldest);
    }
    struct datagram *d = xcalloc(1, sizeof(*d));
    d->family = ip->family;
    d->proto = ip->proto;
    memcpy(d->src, ip->src, 16);
    memcpy(d->dst, ip->dst, 16);
    d->id = id;
    d->first = *ts;
    d->hidx = h;
    d->hnext = F.bucket[h];
    F.bucket[h] = d;
    d->prev = F.newest;
    if (F.newest)
        F.newest->next = d;
    else
        F.oldest = d;
    F.newest = d;
    F.count++;
    return d;
}

/* Where a fragment [off, end) goes: *at is the link to insert at. Returns IPFRAG_HELD when it
 * fits, IPFRAG_DROPPED for a duplicate with the same bytes, IPFRAG_OVERLAP otherwise. */
static enum ipfrag_result frag_place(struct datagram *d, size_t off, size_t end, const uint8_t *p,
                                     struct frag ***at, bool *discard)
{
    struct frag **pp = &d->frags;
    for (; *pp; pp = &(*pp)->next) {
        struct frag *f = *pp;
        if (end <= f->off)
            break;
        if (off >= f->off + f->len)
            continue;
        if (off >= f->off && end <= f->off + f->len) { /* inside one held: Linux's IPFRAG_DUP */
            *discard = false;
            return memcmp(f->data + (off - f->off), p, end - off) == 0 ? IPFRAG_DROPPED : IPFRAG_OVERLAP;
        }
        *discard = true; /* any other overlap: Linux's IPFRAG_OVERLAP drops the datagram */
        return IPFRAG_OVERLAP;
    }
    *at = pp;
    return IPFRAG_HELD;
}

/* The datagram is whole when its fragments cover [0, total) without a hole. */
static bool datagram_whole(const struct datagram *d)
{
    if (d->total == 0)
        return false;
    size_t at = 0;
    for (const struct frag *f = d->frags; f; f = f->next) {
        if (f->off != at)
            return false;
        at += f->len;
    }
    return at == d->total;
}

static void datagram_emit(struct datagram *d, struct reasm_ip *out)
{
    free(F.whole);
    F.whole = xmalloc(d->total ? d->total : 1);
    for (const struct frag *f = d->frags; f; f = f->next)
        memcpy(F.whole + f->off, f->data, f->len);
    out->family = d->family;
    out->proto = d->proto;
    memcpy(out->src, d->src, 16);
    memcpy(out->dst, d->dst, 16);
    out->l4 = F.whole;
    out->l4_len = out->l4_wire = d->total;
    F.st->frag_reassembled++;
    datagram_free(d);
}

/* For a notice on the stream: the addresses and the start of the first fragment (the ports),
 * when it is held. */
static void datagram_head(const struct datagram *d, struct reasm_ip *out)
{
    static uint8_t head[20];
    memset(out, 0, sizeof(*out));
    out->family = d->family;
    out->proto = d->proto;
    memcpy(out->src, d->src, 16);
    memcpy(out->dst, d->dst, 16);
    out->l4 = head;
    if (d->frags && d->frags->off == 0) {
        size_t n = d->frags->len < sizeof(head) ? d->frags->len : sizeof(head);
        memcpy(head, d->frags->data, n);
        out->l4_len = out->l4_wire = n;
    }
}

enum ipfrag_result ipfrag_add(const struct reasm_ip *ip, const struct reasm_frag *fr, const struct timeval *ts,
                              struct reasm_ip *out)
{
    F.st->frag_packets++;
    size_t len = ip->l4_len, end = fr->off + len;
    /* Cut by the snaplen, empty while more follow, or past 64 KB: no receiver can use it. */
    if (len < ip->l4_wire || (len == 0 && fr->more) || end > 65535 || (fr->more && (len & 7))) {
        F.st->frag_dropped++;
        return IPFRAG_DROPPED;
    }
    struct datagram *d = datagram_get(ip, fr->id, ts);
    struct frag **at = NULL;
    bool discard = false;
    enum ipfrag_result r = frag_place(d, fr->off, end, ip->l4, &at, &discard);
    if (r != IPFRAG_HELD || (!fr->more && d->total && d->total != end) || (d->total && end > d->total)) {
        if (r == IPFRAG_OVERLAP) {
            F.st->frag_overlaps++;
            datagram_head(d, out);
        }
        else
            F.st->frag_dropped++;
        if (discard || r == IPFRAG_HELD)
            datagram_free(d);
        return r == IPFRAG_HELD ? IPFRAG_DROPPED : r;
    }
    if (d->nfrags == REASM_MAX_FRAGS_PER_DATAGRAM || F.bytes + len > REASM_MAX_FRAG_BYTES) {
        F.st->frag_dropped++;
        datagram_free(d);
        return IPFRAG_DROPPED;
    }
    struct frag *f = xmalloc(sizeof(*f) + len);
    f->off = fr->off;
    f->len = len;
    memcpy(f->data, ip->l4, len);
    f->next = *at;
    *at = f;
    d->nfrags++;
    d->bytes += len;
    F.bytes += len;
    if (!fr->more)
        d->total = end;
    if (!datagram_whole(d))
        return IPFRAG_HELD;
    datagram_emit(d, out);
    return IPFRAG_DONE;
}

void ipfrag_init(struct reasm_stats *st, uint64_t seed)
{
    memset(&F, 0, sizeof(F));
    F.st = st;
    F.seed = seed;
}

unsigned ipfrag_chain_peak(void)
{
    return F.chain_peak;
}

void ipfrag_expire(const struct timeval *now)
{
    while (F.oldest && reasm_secs_between(&F.oldest->first, now) > REASM_FRAG_TIMEOUT) {
        F.st->frag_expired++;
        datagram_free(F.oldest);
    }
}

void ipfrag_finish(void)
{
    while (F.oldest) {
        F.st->frag_expired++;
        datagram_free(F.oldest);
    }
    free(F.whole);
    F.whole = NULL;
}

uint64_t ipfrag_bytes(void)
{
    return F.bytes;
}
