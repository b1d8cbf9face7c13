/* reasm_tcp.c - the own TCP reassembly engine (docs/design.md: the engine): IPv4 and IPv6, one
 * flow table keyed by addresses and ports, midstream pickup, per-direction in-order delivery
 * straight from the packet buffer, a bounded out-of-order store, exact gaps, cross-direction
 * order by ACK numbers, first-bytes-win overlaps, and every way a stream ends. */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "lib/xalloc.h"
#include "reasm/reasm_internal.h"
#include "smtp/smtp_core.h"
#include "smtpsniff/limits.h"

/* Sequence-space comparisons (RFC 9293 3.4: modulo 2^32). */
#define SEQ_LT(a, b) ((int32_t)((uint32_t)(a) - (uint32_t)(b)) < 0)
#define SEQ_LEQ(a, b) ((int32_t)((uint32_t)(a) - (uint32_t)(b)) <= 0)
/* Farther than this from what a direction expects is not a sequence number of this stream. */
#define SEQ_WINDOW (1u << 30)
#define RECENT 4 /* fingerprints of delivered segments kept per direction */

enum { TH_FIN = 0x01, TH_SYN = 0x02, TH_RST = 0x04, TH_ACK = 0x10 };

/* A run of stored bytes: [seq, seq + len) in sequence space, of which the first `cap` bytes are
 * in data[] (fewer when the snaplen cut them). Carries the ACK its sender had sent with it. */
struct run {
    struct run *next;
    uint32_t seq, len, cap, size; /* size: bytes allocated for data[] */
    uint32_t ack;
    bool has_ack;
    struct timeval ts;
    uint8_t data[];
};

/* One direction: the bytes one side sent. */
struct half {
    struct run *head, *tail;   /* stored runs by sequence number, none before `next` */
    unsigned nruns;
    size_t stored;             /* bytes allocated by the runs */
    uint32_t next;             /* next sequence number to deliver */
    uint32_t base;             /* sequence number of the first byte (offsets in notices) */
    uint32_t ack;              /* highest ACK this side sent: the other side's bytes it got */
    uint32_t fin_seq;
    bool known, ack_known, syn, fin, fin_done, fin_acked, seen;
    bool hole_acked;           /* the other side acknowledged bytes from `next` we lack */
    struct timeval hole_since;
    uint64_t gap_pending;      /* bytes skipped, told to the core before the next delivery */
    struct timeval gap_ts;
    struct { uint32_t seq, len; uint64_t print; } recent[RECENT];
    unsigned recent_at;
};

struct flow_key {
    union {
        struct {
            uint8_t a[16], b[16];
            uint16_t pa, pb;
            uint8_t family, pad[3];
        };
        uint64_t w[5]; /* compared and hashed as words */
    };
};

struct flow {
    struct flow *hnext;              /* hash chain */
    struct flow *prev, *next;        /* activity list, least recently active first */
    struct flow *sprev, *snext;      /* store list: flows holding bytes, oldest holder first */
    bool in_store_list;
    struct flow *wprev, *wnext;      /* wait list: flows waiting for an acknowledged hole */
    bool in_wait_list;
    struct flow_key key;
    bool client_is_a;                /* key.a is the client */
    struct half h[2];                /* by enum smtp_dir */
    struct smtp_session *sess;       /* made when the handshake completes or data flows */
    struct timeval first, last;
    bool midstream, told_truncated, told_full;
    bool reset;                      /* a RST came while bytes before it were still missing */
    bool evicted;
    struct timeval reset_ts;
    struct timeval fin_acked_ts;     /* when the second FIN was acknowledged */
};

/* What is left of a stream that closed, was reset or evicted: where each side's bytes ended, so that a
 * copy of its last segments the capture shows afterwards (reordered, retransmitted) is known as
 * such instead of starting a stream of its own. A fixed ring: the oldest is reused. */
struct tomb {
    struct tomb *hnext;
    struct flow_key key;
    uint32_t end_a, end_b; /* next sequence number of the key's a and b ends */
    struct timeval ts;     /* when the stream ended */
    bool used;
};

static struct {
    struct reasm_opts o;
    struct tomb tombs[REASM_TOMBSTONES];
    struct tomb *tomb_bucket[REASM_TOMBSTONES];
    unsigned tomb_at;
    uint16_t ports[32];
    uint64_t port_bits[65536 / 64];
    struct flow **bucket;
    size_t nbuckets;                 /* power of two */
    struct flow *lru_head, *lru_tail, *store_head, *store_tail, *wait_head;
    uint64_t next_id, mem;
    uint64_t hash_seed;
    struct timeval now;
    time_t last_sweep;
    struct reasm_stats st;
} T;

/* --- lists ------------------------------------------------------------------------------------ */

static void lru_unlink(struct flow *f)
{
    if (f->prev)
        f->prev->next = f->next;
    else
        T.lru_head = f->next;
    if (f->next)
        f->next->prev = f->prev;
    else
        T.lru_tail = f->prev;
    f->prev = f->next = NULL;
}

static void lru_append(struct flow *f)
{
    f->prev = T.lru_tail;
    f->next = NULL;
    if (T.lru_tail)
        T.lru_tail->next = f;
    else
        T.lru_head = f;
    T.lru_tail = f;
}

static void store_list_update(struct flow *f)
{
    bool holds = f->h[0].head || f->h[1].head;
    if (holds == f->in_store_list)
        return;
    f->in_store_list = holds;
    if (holds) {
        f->sprev = T.store_tail;
        f->snext = NULL;
        if (T.store_tail)
            T.store_tail->snext = f;
        else
            T.store_head = f;
        T.store_tail = f;
        return;
    }
    if (f->sprev)
        f->sprev->snext = f->snext;
    else
        T.store_head = f->snext;
    if (f->snext)
        f->snext->sprev = f->sprev;
    else
        T.store_tail = f->sprev;
    f->sprev = f->snext = NULL;
}

/* The idle sweep looks at these once per capture second: a hole's wait ends even when no packet
 * of its stream comes after it (both sides closed right behind the lost bytes). */
static void wait_list_update(struct flow *f, bool waits)
{
    if (waits == f->in_wait_list)
        return;
    f->in_wait_list = waits;
    if (waits) {
        f->wprev = NULL;
        f->wnext = T.wait_head;
        if (T.wait_head)
            T.wait_head->wprev = f;
        T.wait_head = f;
        return;
    }
    if (f->wprev)
        f->wprev->wnext = f->wnext;
    else
        T.wait_head = f->wnext;
    if (f->wnext)
        f->wnext->wprev = f->wprev;
    f->wprev = f->wnext = NULL;
}

/* --- flow table ------------------------------------------------------------------------------ */

/* Keyed by a secret chosen per run, and every input bit reaches the bucket bits: a plain
 * multiply chain kept the low bits a function of the inputs' low bits only, so clients of one
 * IPv6 /64 that differ in their last two address bytes all shared one chain (hash flooding;
 * Suricata and Zeek seed their flow hashes for the same reason). */
static size_t key_hash(const struct flow_key *k)
{
    uint64_t h = T.hash_seed;
    for (int i = 0; i < 5; i++) {
        h = (h ^ k->w[i]) * 0xBF58476D1CE4E5B9ull;
        h ^= h >> 32;
    }
    h = (h ^ (h >> 29)) * 0x94D049BB133111EBull;
    return (size_t)(h ^ (h >> 32)) & (T.nbuckets - 1);
}

static uint64_t hash_seed_new(void)
{
    uint64_t seed;
    if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) != (ssize_t)sizeof(seed))
        seed = (uint64_t)time(NULL) * 0x9E3779B97F4A7C15ull ^ (uint64_t)getpid() ^ (uint64_t)(uintptr_t)&seed;
    return seed | 1;
}

static bool key_eq(const struct flow_key *x, const struct flow_key *y)
{
    return ((x->w[0] ^ y->w[0]) | (x->w[1] ^ y->w[1]) | (x->w[2] ^ y->w[2]) | (x->w[3] ^ y->w[3]) |
            (x->w[4] ^ y->w[4])) == 0;
}

static struct flow **flow_slot(const struct flow_key *k)
{
    struct flow **pp = &T.bucket[key_hash(k)];
    uint64_t n = 0;
    while (*pp && !key_eq(&(*pp)->key, k)) {
        pp = &(*pp)->hnext;
        n++;
    }
    if (n > T.st.flow_chain_peak)
        T.st.flow_chain_peak = n;
    return pp;
}

/* Some total order on addresses (not lexicographic): two word compares instead of memcmp. */
static int addr_cmp(const uint8_t *x, const uint8_t *y)
{
    uint64_t a[2], b[2];
    memcpy(a, x, 16);
    memcpy(b, y, 16);
    if (a[0] != b[0])
        return a[0] < b[0] ? -1 : 1;
    return a[1] < b[1] ? -1 : a[1] > b[1];
}

/* The key names the lower endpoint first, so both directions find one flow; *src_is_a says
 * which end sent this packet. */
static void key_make(struct flow_key *k, const struct reasm_ip *ip, uint16_t sport, uint16_t dport, bool *src_is_a)
{
    int c = addr_cmp(ip->src, ip->dst);
    *src_is_a = c < 0 || (c == 0 && sport <= dport);
    memcpy(k->a, *src_is_a ? ip->src : ip->dst, 16);
    memcpy(k->b, *src_is_a ? ip->dst : ip->src, 16);
    k->pa = *src_is_a ? sport : dport;
    k->pb = *src_is_a ? dport : sport;
    k->family = ip->family;
    memset(k->pad, 0, sizeof(k->pad));
}

static bool is_server_port(uint16_t p)
{
    return (T.port_bits[p >> 6] >> (p & 63)) & 1;
}

/* --- telling the core ------------------------------------------------------------------------ */

/* Dotted quad of 4 address bytes: inet_ntop goes through sprintf, which was 3% of a run at two
 * calls per session. */
void reasm_ipv4_text(char *dst, const uint8_t *b)
{
    char *o = dst;
    for (int i = 0; i < 4; i++) {
        unsigned v = b[i];
        if (v >= 100)
            *o++ = (char)('0' + v / 100);
        if (v >= 10)
            *o++ = (char)('0' + v / 10 % 10);
        *o++ = (char)('0' + v % 10);
        *o++ = i < 3 ? '.' : '\0';
    }
}

static void endpoint_of(struct smtp_endpoint *e, uint8_t family, const uint8_t *addr, uint16_t port)
{
    if (family == 6)
        inet_ntop(AF_INET6, addr, e->ip, sizeof(e->ip));
    else
        reasm_ipv4_text(e->ip, addr);
    e->port = port;
}

/* The session is made when the handshake completes or the first byte flows (the time libnids
 * reports a stream), or at the end for a stream that never got that far. */
static void session_make(struct flow *f, const struct timeval *ts)
{
    if (f->sess)
        return;
    struct smtp_endpoint c, s;
    const struct flow_key *k = &f->key;
    endpoint_of(&c, k->family, f->client_is_a ? k->a : k->b, f->client_is_a ? k->pa : k->pb);
    endpoint_of(&s, k->family, f->client_is_a ? k->b : k->a, f->client_is_a ? k->pb : k->pa);
    unsigned flags = T.o.session_flags;
    if (s.port == 465)
        flags |= SMTP_SESS_IMPLICIT_TLS;
    if (f->midstream)
        flags |= SMTP_SESS_MIDSTREAM;
    f->sess = smtp_session_new(++T.next_id, &c, &s, ts, T.o.sink, flags);
    T.st.sessions_started++;
}

static void notice(struct flow *f, enum smtp_notice_id id, enum smtp_dir dir, const struct timeval *ts,
                   const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void notice(struct flow *f, enum smtp_notice_id id, enum smtp_dir dir, const struct timeval *ts,
                   const char *fmt, ...)
{
    char detail[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof(detail), fmt, ap);
    va_end(ap);
    session_make(f, ts);
    smtp_session_notice(f->sess, id, dir, ts, detail);
}

static const char *dir_name(enum smtp_dir d)
{
    return d == SMTP_DIR_CLIENT ? "client" : "server";
}

static void gap_flush(struct flow *f, enum smtp_dir d)
{
    struct half *h = &f->h[d];
    if (h->gap_pending == 0)
        return;
    session_make(f, &h->gap_ts);
    smtp_session_gap(f->sess, d, (size_t)h->gap_pending, &h->gap_ts);
    h->gap_pending = 0;
}

/* Told at once: the core must know of the hole before it reads the other direction's next bytes
 * (a reply to a command lost in it). */
static void gap_add(struct flow *f, enum smtp_dir d, uint32_t n, const struct timeval *ts)
{
    struct half *h = &f->h[d];
    if (h->gap_pending == 0)
        h->gap_ts = *ts;
    h->gap_pending += n;
    T.st.gap_bytes += n;
    gap_flush(f, d);
}

/* A cheap fingerprint of a delivered segment, to tell a retransmission with other bytes from a
 * plain one without keeping the bytes: all of a segment up to 64 bytes (command and reply lines),
 * the first and last 32 bytes of a longer one (a change only in its middle goes unseen). Words,
 * not bytes: a byte loop over 32 bytes was 8% of the engine's instructions. */
static uint64_t fingerprint(const uint8_t *p, uint32_t n)
{
    uint64_t h = n * 0x9E3779B97F4A7C15ull, w;
    uint32_t head = n <= 64 ? n : 32, i = 0;
    for (; i + 8 <= head; i += 8) {
        memcpy(&w, p + i, 8);
        h = (h ^ w) * 0xBF58476D1CE4E5B9ull;
    }
    if (i < head) {
        w = 0;
        memcpy(&w, p + i, head - i);
        h = (h ^ w) * 0xBF58476D1CE4E5B9ull;
    }
    for (i = head; n > 64 && i < 64; i += 8) {
        memcpy(&w, p + n - 64 + i, 8);
        h = (h ^ w) * 0x94D049BB133111EBull;
    }
    return h;
}

/* Bytes [next, next + len) to the core, the first `cap` of them present. */
static void deliver(struct flow *f, enum smtp_dir d, const uint8_t *p, uint32_t len, uint32_t cap,
                    const struct timeval *ts)
{
    struct half *h = &f->h[d];
    session_make(f, ts);
    gap_flush(f, d);
    if (cap) {
        smtp_session_data(f->sess, d, p, cap, ts);
        h->recent[h->recent_at].seq = h->next;
        h->recent[h->recent_at].len = cap;
        h->recent[h->recent_at].print = fingerprint(p, cap);
        h->recent_at = (h->recent_at + 1) % RECENT;
    }
    if (cap < len) {
        T.st.truncated_segments++;
        T.st.truncated_bytes += len - cap;
        if (!f->told_truncated) {
            f->told_truncated = true;
            notice(f, SMTP_NOTICE_SNAPLEN_TRUNCATED, d, ts, "a %s segment of %u bytes was cut to %u by the "
                   "snapshot length", dir_name(d), len, cap);
        }
        gap_add(f, d, len - cap, ts);
    }
    h->next += len;
    h->hole_acked = false;
}

/* --- the store ------------------------------------------------------------------------------- */

static void run_free(struct half *h, struct run *r)
{
    h->stored -= sizeof(*r) + r->size;
    T.mem -= sizeof(*r) + r->size;
    h->nruns--;
    free(r);
}

static struct run *run_pop(struct half *h)
{
    struct run *r = h->head;
    h->head = r->next;
    if (h->head == NULL)
        h->tail = NULL;
    return r;
}

/* Would the other side's bytes have to come first? The sender of `ack` had received the other
 * side's bytes up to it, so those are handed to the core before this (RFC 9293 3.4). */
static bool must_wait(const struct flow *f, enum smtp_dir d, bool has_ack, uint32_t ack)
{
    const struct half *o = &f->h[!d];
    return has_ack && o->known && SEQ_LT(o->next, ack) && ack - o->next < SEQ_WINDOW;
}

static void fin_check(struct flow *f, enum smtp_dir d)
{
    struct half *h = &f->h[d];
    if (h->fin && !h->fin_done && h->next == h->fin_seq) {
        h->fin_done = true;
        h->next++;
    }
}

/* Deliver every stored run that is next in its direction and whose ACK the other direction has
 * caught up with, alternating directions until neither moves. */
static void pump(struct flow *f)
{
    bool moved = true;
    while (moved) {
        moved = false;
        for (int d = 0; d < 2; d++) {
            struct half *h = &f->h[d];
            while (h->head && SEQ_LEQ(h->head->seq, h->next) &&
                   !must_wait(f, (enum smtp_dir)d, h->head->has_ack, h->head->ack)) {
                struct run *r = run_pop(h);
                uint32_t skip = h->next - r->seq; /* never more than len: runs start at or after next */
                if (skip < r->len)
                    deliver(f, (enum smtp_dir)d, r->data + (skip < r->cap ? skip : r->cap), r->len - skip,
                            skip < r->cap ? r->cap - skip : 0, &r->ts);
                run_free(h, r);
                moved = true;
            }
            uint32_t before = h->next;
            fin_check(f, (enum smtp_dir)d);
            moved = moved || before != h->next;
        }
    }
    store_list_update(f);
}

/* Skip [next, to) as a gap. */
static void skip_to(struct flow *f, enum smtp_dir d, uint32_t to, const struct timeval *ts)
{
    struct half *h = &f->h[d];
    if (!SEQ_LT(h->next, to))
        return;
    T.st.gaps++;
    gap_add(f, d, to - h->next, ts);
    h->next = to;
    h->hole_acked = false;
}

/* Make one direction move when waiting cannot help: skip its first hole, or, when its next run
 * waits for the other side's bytes, skip the other side's hole those bytes are in (bytes it
 * acknowledged and the capture never showed). A crafted pair of runs that wait for each other
 * is broken by delivering this one. */
static void force(struct flow *f, enum smtp_dir d, const struct timeval *ts)
{
    struct half *h = &f->h[d], *o = &f->h[!d];
    if (h->head == NULL)
        return;
    if (SEQ_LT(h->next, h->head->seq)) {
        skip_to(f, d, h->head->seq, ts);
    } else if (o->head && SEQ_LT(o->next, o->head->seq) && SEQ_LT(o->head->seq, h->head->ack)) {
        skip_to(f, !d, o->head->seq, ts);
    } else if (o->head == NULL || !SEQ_LEQ(o->head->seq, o->next)) {
        skip_to(f, !d, h->head->ack, ts);
    } else {
        h->head->has_ack = false; /* they wait for each other: no real peer does that */
    }
    pump(f);
}

/* Everything stored goes out, holes skipped as gaps, oldest bytes first. */
static void flush_all(struct flow *f, const struct timeval *ts)
{
    pump(f);
    while (f->h[0].head || f->h[1].head) {
        enum smtp_dir d = SMTP_DIR_CLIENT;
        if (f->h[0].head == NULL || (f->h[1].head && timercmp(&f->h[1].head->ts, &f->h[0].head->ts, <)))
            d = SMTP_DIR_SERVER;
        force(f, d, ts);
    }
}

static void memcap_make_room(size_t need, const struct timeval *ts)
{
    while (T.mem + need > T.o.memcap && T.store_head) {
        struct flow *v = T.store_head;
        T.st.memcap_hits++;
        if (!v->told_full) {
            v->told_full = true;
            notice(v, SMTP_NOTICE_STORE_FULL, SMTP_DIR_CLIENT, ts, "all streams together held --memcap "
                   "(%llu bytes) out of order", (unsigned long long)T.o.memcap);
        }
        flush_all(v, ts);
    }
}

static void stream_make_room(struct flow *f, enum smtp_dir d, size_t need, const struct timeval *ts)
{
    struct half *h = &f->h[d];
    while (h->head && (h->nruns >= REASM_MAX_STREAM_RUNS || h->stored + need > REASM_MAX_STREAM_STORE)) {
        T.st.store_full++;
        if (!f->told_full) {
            f->told_full = true;
            notice(f, SMTP_NOTICE_STORE_FULL, d, ts, "the %s direction held %zu bytes in %u pieces out of "
                   "order", dir_name(d), h->stored, h->nruns);
        }
        force(f, d, ts);
    }
}

/* Compare what a new piece says about bytes a run already holds: the first bytes stand. */
static void overlap_check(struct flow *f, enum smtp_dir d, const struct run *r, uint32_t seq, const uint8_t *p,
                          uint32_t cap, uint32_t from, uint32_t to, const struct timeval *ts)
{
    uint32_t a = from - r->seq, b = from - seq, n = to - from;
    if (a >= r->cap || b >= cap)
        return;
    if (n > r->cap - a)
        n = r->cap - a;
    if (n > cap - b)
        n = cap - b;
    if (memcmp(r->data + a, p + b, n) != 0) {
        T.st.overlap_conflicts++;
        notice(f, SMTP_NOTICE_OVERLAP_CONFLICT, d, ts, "%u %s bytes at offset %u sent again with other "
               "content; the first ones kept", n, dir_name(d), from - f->h[d].base);
    }
}

static struct run *run_new(uint32_t seq, const uint8_t *p, uint32_t len, uint32_t cap, bool has_ack, uint32_t ack,
                           const struct timeval *ts);

/* The part [from, to) of a piece that starts at seq0 with `cap` bytes present at p. */
static struct run *run_part(uint32_t seq0, const uint8_t *p, uint32_t cap, uint32_t from, uint32_t to, bool has_ack,
                            uint32_t ack, const struct timeval *ts)
{
    uint32_t k = from - seq0, avail = k < cap ? cap - k : 0;
    return run_new(from, p + (k < cap ? k : cap), to - from, avail < to - from ? avail : to - from, has_ack, ack, ts);
}

static struct run *run_new(uint32_t seq, const uint8_t *p, uint32_t len, uint32_t cap, bool has_ack, uint32_t ack,
                           const struct timeval *ts)
{
    struct run *r = xmalloc(sizeof(*r) + cap);
    r->next = NULL;
    r->seq = seq;
    r->len = len;
    r->cap = r->size = cap;
    r->has_ack = has_ack;
    r->ack = ack;
    r->ts = *ts;
    memcpy(r->data, p, cap);
    return r;
}

/* Append to the tail run when the piece continues it with the same ACK (bytes behind a hole
 * usually arrive in order): one run grows instead of a list of segments. */
static bool run_extend(struct half *h, uint32_t seq, const uint8_t *p, uint32_t len, uint32_t cap, bool has_ack,
                       uint32_t ack, const struct timeval *ts)
{
    struct run *t = h->tail;
    if (t == NULL || t->seq + t->len != seq || t->cap != t->len || cap != len || t->has_ack != has_ack ||
        t->ack != ack || t->len + len > REASM_RUN_MAX)
        return false;
    if (t->cap + cap > t->size) {
        uint32_t size = t->size * 2 > t->cap + cap ? t->size * 2 : t->cap + cap;
        if (size > REASM_RUN_MAX)
            size = REASM_RUN_MAX;
        /* Room was made for a new run of this piece, not for doubling this one. */
        if (T.mem + (size - t->size) > T.o.memcap || h->stored + (size - t->size) > REASM_MAX_STREAM_STORE)
            return false;
        struct run *n = xrealloc(t, sizeof(*t) + size);
        h->stored += size - n->size;
        T.mem += size - n->size;
        n->size = size;
        struct run **pp = &h->head;
        while (*pp != t)
            pp = &(*pp)->next;
        *pp = h->tail = t = n;
    }
    memcpy(t->data + t->cap, p, cap);
    t->cap += cap;
    t->len += len;
    t->ts = *ts;
    return true;
}

static void run_link(struct half *h, struct run **at, struct run *r)
{
    r->next = *at;
    *at = r;
    if (r->next == NULL)
        h->tail = r;
    h->nruns++;
    h->stored += sizeof(*r) + r->size;
    T.mem += sizeof(*r) + r->size;
}

/* Store [seq, seq + len) minus what runs already hold (first bytes win), as new runs. */
static void store_insert(struct flow *f, enum smtp_dir d, uint32_t seq, const uint8_t *p, uint32_t len,
                         uint32_t cap, bool has_ack, uint32_t ack, const struct timeval *ts)
{
    struct half *h = &f->h[d];
    T.st.ooo_segments++;
    stream_make_room(f, d, sizeof(struct run) + cap, ts);
    memcap_make_room(sizeof(struct run) + cap, ts);
    if (SEQ_LEQ(seq + len, h->next))
        return; /* making room delivered up to here */
    if (SEQ_LT(seq, h->next)) {
        uint32_t k = h->next - seq;
        p += k < cap ? k : cap;
        cap = k < cap ? cap - k : 0;
        len -= k;
        seq = h->next;
    }
    if (h->tail == NULL || SEQ_LEQ(h->tail->seq + h->tail->len, seq)) {
        if (!run_extend(h, seq, p, len, cap, has_ack, ack, ts))
            run_link(h, h->tail ? &h->tail->next : &h->head, run_new(seq, p, len, cap, has_ack, ack, ts));
    } else {
        uint32_t at = seq, end = seq + len;
        struct run **pp = &h->head;
        while (SEQ_LT(at, end)) {
            struct run *r = *pp;
            if (r == NULL || SEQ_LEQ(end, r->seq)) { /* the rest fits before r */
                run_link(h, pp, run_part(seq, p, cap, at, end, has_ack, ack, ts));
                break;
            }
            if (SEQ_LEQ(r->seq + r->len, at)) {
                pp = &r->next;
                continue;
            }
            if (SEQ_LT(at, r->seq)) { /* a piece before r */
                struct run *n = run_part(seq, p, cap, at, r->seq, has_ack, ack, ts);
                run_link(h, pp, n);
                pp = &n->next;
                at = r->seq;
            }
            uint32_t to = SEQ_LT(end, r->seq + r->len) ? end : r->seq + r->len;
            T.st.retransmitted_bytes += to - at;
            overlap_check(f, d, r, seq, p, cap, at, to, ts);
            at = to;
            pp = &r->next;
        }
    }
    if (T.mem > T.st.ooo_peak_bytes)
        T.st.ooo_peak_bytes = T.mem;
    store_list_update(f);
}

/* Bytes before `next` again: already delivered. Compared with what was delivered there when
 * the same segment comes again. */
static void retransmission(struct flow *f, enum smtp_dir d, uint32_t seq, const uint8_t *p, uint32_t len,
                           uint32_t cap, const struct timeval *ts)
{
    struct half *h = &f->h[d];
    T.st.retransmitted_bytes += len;
    for (unsigned i = 0; i < RECENT; i++)
        if (h->recent[i].len && h->recent[i].seq == seq && h->recent[i].len == cap && cap == len &&
            h->recent[i].print != fingerprint(p, cap)) {
            T.st.overlap_conflicts++;
            notice(f, SMTP_NOTICE_OVERLAP_CONFLICT, d, ts, "%u %s bytes at offset %u sent again with other "
                   "content; the first ones kept", len, dir_name(d), seq - h->base);
        }
}

/* --- segments -------------------------------------------------------------------------------- */

struct seg {
    enum smtp_dir dir;
    uint32_t seq, ack;
    uint8_t flags;
    const uint8_t *p;
    uint32_t len, cap; /* payload on the wire, and captured */
};

static void segment_data(struct flow *f, const struct seg *s, const struct timeval *ts)
{
    struct half *h = &f->h[s->dir];
    uint32_t seq = s->seq + ((s->flags & TH_SYN) != 0), len = s->len, cap = s->cap;
    const uint8_t *p = s->p;
    if (len == 0)
        return;
    if (SEQ_LT(seq, h->next) && h->next - seq < SEQ_WINDOW) {
        uint32_t k = h->next - seq;
        if (k >= len) {
            retransmission(f, s->dir, seq, p, len, cap, ts);
            return;
        }
        T.st.retransmitted_bytes += k;
        p += k < cap ? k : cap;
        cap = k < cap ? cap - k : 0;
        len -= k;
        seq = h->next;
    }
    if (seq - h->next >= SEQ_WINDOW) {
        T.st.bad_tcp++; /* not a sequence number of this stream */
        return;
    }
    bool has_ack = (s->flags & TH_ACK) != 0;
    if (seq == h->next && h->head == NULL && !must_wait(f, s->dir, has_ack, s->ack)) {
        deliver(f, s->dir, p, len, cap, ts); /* the common case: from the packet, no copy */
        return;
    }
    store_insert(f, s->dir, seq, p, len, cap, has_ack, s->ack, ts);
}

/* The end of what the other side acknowledged of this one's bytes: a FIN known to be in that
 * range takes a sequence number, not a byte, and must still be seen as the FIN. */
static uint32_t acked_end(const struct half *h, const struct half *o)
{
    return h->fin && !h->fin_done && SEQ_LT(h->fin_seq, o->ack) ? h->fin_seq : o->ack;
}

/* A hole the other side acknowledged is waited for REASM_ACKED_HOLE_WAIT_MS of capture time
 * (`now`), then skipped up to the first byte stored or acknowledged; what that delivers is
 * stamped `ts` (the packet's time, or the stream's last when the idle sweep found the wait over). */
static void acked_holes(struct flow *f, const struct timeval *now, const struct timeval *ts)
{
    for (int d = 0; d < 2; d++) {
        struct half *h = &f->h[d], *o = &f->h[!d];
        bool hole = h->known && o->ack_known && SEQ_LT(h->next, o->ack) && o->ack - h->next < SEQ_WINDOW &&
                    !h->fin_done && (o->ack - h->next > 1 || h->head); /* 1 may be an unseen FIN */
        if (!hole) {
            h->hole_acked = false;
            continue;
        }
        if (!h->hole_acked) {
            h->hole_acked = true;
            h->hole_since = *now;
            continue;
        }
        int64_t secs = reasm_secs_between(&h->hole_since, now);
        if (secs < 0 || (secs <= REASM_ACKED_HOLE_WAIT_MS / 1000 + 1 &&
                         secs * 1000 + (now->tv_usec - h->hole_since.tv_usec) / 1000 <= REASM_ACKED_HOLE_WAIT_MS))
            continue;
        uint32_t to = acked_end(h, o);
        if (h->head && SEQ_LT(h->head->seq, to))
            to = h->head->seq;
        T.st.acked_holes++;
        skip_to(f, (enum smtp_dir)d, to, ts);
        pump(f);
        /* The acknowledged bytes are here but wait for the other side's, which wait for them
         * (an ACK past anything sent): waiting longer cannot help either. The older goes first. */
        if (h->head && SEQ_LEQ(h->head->seq, h->next)) {
            bool other = o->head && SEQ_LEQ(o->head->seq, o->next) && timercmp(&o->head->ts, &h->head->ts, <);
            force(f, other ? (enum smtp_dir)!d : (enum smtp_dir)d, ts);
        }
    }
}

/* --- tombstones ------------------------------------------------------------------------------ */

static struct tomb **tomb_slot(const struct flow_key *k)
{
    struct tomb **pp = &T.tomb_bucket[key_hash(k) & (REASM_TOMBSTONES - 1)];
    while (*pp && !key_eq(&(*pp)->key, k))
        pp = &(*pp)->hnext;
    return pp;
}

static void tomb_remove(struct tomb *t)
{
    struct tomb **pp = tomb_slot(&t->key);
    if (*pp == t)
        *pp = t->hnext;
    t->used = false;
}

static void tomb_add(const struct flow *f)
{
    struct tomb *t = &T.tombs[T.tomb_at];
    T.tomb_at = (T.tomb_at + 1) % REASM_TOMBSTONES;
    if (t->used)
        tomb_remove(t);
    struct tomb **pp = tomb_slot(&f->key);
    if (*pp)
        tomb_remove(*pp);
    t->key = f->key;
    const struct half *a = &f->h[f->client_is_a ? SMTP_DIR_CLIENT : SMTP_DIR_SERVER];
    const struct half *b = &f->h[f->client_is_a ? SMTP_DIR_SERVER : SMTP_DIR_CLIENT];
    t->end_a = a->next;
    t->end_b = b->next;
    t->ts = T.now;
    t->used = true;
    t->hnext = T.tomb_bucket[key_hash(&f->key) & (REASM_TOMBSTONES - 1)];
    T.tomb_bucket[key_hash(&f->key) & (REASM_TOMBSTONES - 1)] = t;
}

/* A packet of a stream that ended less than REASM_TOMB_SECONDS ago: true unless it is a SYN (a
 * new connection; the tombstone goes). Bytes before the end repeat what was delivered; bytes
 * after it were sent after the close, reset or eviction and reach nobody (after_end_bytes). */
static bool tomb_absorbs(const struct flow_key *k, bool src_is_a, const struct seg *s, const struct timeval *ts)
{
    struct tomb *t = *tomb_slot(k);
    if (t == NULL)
        return false;
    if ((s->flags & TH_SYN) || reasm_secs_between(&t->ts, ts) > REASM_TOMB_SECONDS) {
        tomb_remove(t);
        return false;
    }
    uint32_t end = src_is_a ? t->end_a : t->end_b, before = 0;
    if (SEQ_LT(s->seq, end) && end - s->seq < SEQ_WINDOW)
        before = end - s->seq < s->len ? end - s->seq : s->len;
    T.st.retransmitted_bytes += before;
    T.st.after_end_bytes += s->len - before;
    return true;
}

/* --- flows ----------------------------------------------------------------------------------- */

static void half_free(struct half *h)
{
    while (h->head)
        run_free(h, run_pop(h));
}

/* The one place a flow ends: stored bytes out, the session record, everything freed once. */
static void flow_end(struct flow *f, enum smtp_end_reason why, const struct timeval *ts)
{
    if (f->reset && (why == SMTP_END_TIMEOUT || why == SMTP_END_EOF)) {
        why = SMTP_END_RESET; /* the missing bytes never came: it ended with the reset */
        ts = &f->reset_ts;
    }
    flush_all(f, ts);
    /* Both FINs acknowledged, and a hole before one of them only now skipped: a close. */
    if ((why == SMTP_END_EOF || why == SMTP_END_TIMEOUT) && !f->evicted && f->h[0].fin_done && f->h[1].fin_done &&
        f->h[0].fin_acked && f->h[1].fin_acked) {
        why = SMTP_END_CLOSE;
        ts = &f->fin_acked_ts;
    }
    for (int d = 0; d < 2; d++) {
        struct half *h = &f->h[d], *o = &f->h[!d];
        /* Acknowledged and never seen (bar one that may be an unseen FIN): a gap at the end. */
        if (h->known && o->ack_known && SEQ_LT(h->next + 1, o->ack) && o->ack - h->next < SEQ_WINDOW)
            skip_to(f, (enum smtp_dir)d, acked_end(h, o), ts);
        gap_flush(f, (enum smtp_dir)d);
    }
    if (!f->h[0].seen || !f->h[1].seen)
        T.st.one_sided++;
    session_make(f, &f->first);
    if (why == SMTP_END_CLOSE || why == SMTP_END_RESET || f->evicted)
        tomb_add(f); /* an evicted stream's later packets must not come back as a new session */
    smtp_session_end(f->sess, why, ts);
    smtp_session_free(f->sess);
    half_free(&f->h[0]);
    half_free(&f->h[1]);
    store_list_update(f);
    wait_list_update(f, false);
    struct flow **pp = flow_slot(&f->key);
    *pp = f->hnext;
    lru_unlink(f);
    T.st.sessions_ended++;
    T.st.sessions_active--;
    free(f);
}

static struct flow *flow_new(struct flow **slot, const struct flow_key *k, bool client_is_a, bool midstream,
                             const struct timeval *ts)
{
    struct flow *f = xcalloc(1, sizeof(*f));
    f->key = *k;
    f->client_is_a = client_is_a;
    f->midstream = midstream;
    f->first = f->last = *ts;
    f->hnext = *slot;
    *slot = f;
    lru_append(f);
    T.st.sessions_active++;
    T.st.midstream += midstream;
    return f;
}

/* Which side is the client: the one talking to a server port; with server ports at both ends,
 * the sender of a SYN, the receiver of a SYN-ACK, else the receiver of this first packet. */
static bool sender_is_client(uint16_t sport, uint16_t dport, uint8_t flags)
{
    bool ds = is_server_port(dport), ss = is_server_port(sport);
    if (ds != ss)
        return ds;
    if (flags & TH_SYN)
        return !(flags & TH_ACK);
    return true;
}

static void half_open(struct half *h, const struct seg *s)
{
    h->seen = true;
    if ((s->flags & TH_SYN) && !h->syn && (!h->known || SEQ_LEQ(s->seq + 1, h->next))) {
        /* A SYN seen first, or late behind data of this connection (the capture reordered). */
        h->syn = true;
        if (!h->known)
            h->next = s->seq + 1;
        h->base = s->seq + 1;
        h->known = true;
    }
    if (!h->known && (s->len || (s->flags & TH_FIN))) {
        h->known = true;
        h->next = h->base = s->seq;
    }
    if (s->flags & TH_ACK) {
        if (!h->ack_known || SEQ_LT(h->ack, s->ack))
            h->ack = s->ack;
        h->ack_known = true;
    }
    if ((s->flags & TH_FIN) && !h->fin && h->known) {
        h->fin = true;
        h->fin_seq = s->seq + ((s->flags & TH_SYN) != 0) + s->len;
    }
}

/* A new SYN from the client that is not this connection's: the tuple is being reused. */
static bool is_reuse(const struct flow *f, const struct seg *s)
{
    const struct half *h = &f->h[SMTP_DIR_CLIENT];
    if (s->dir != SMTP_DIR_CLIENT || (s->flags & (TH_SYN | TH_ACK)) != TH_SYN || !h->known)
        return false;
    if (h->syn)
        return s->seq + 1 != h->base;
    return !(SEQ_LEQ(s->seq + 1, h->next) && h->next - (s->seq + 1) < SEQ_WINDOW);
}

static void evict_one(const struct timeval *ts)
{
    struct flow *v = T.lru_head;
    T.st.evicted++;
    notice(v, SMTP_NOTICE_SESSION_EVICTED, SMTP_DIR_CLIENT, ts,
           "dropped to make room for newer sessions (--max-sessions)");
    v->evicted = true;
    flow_end(v, SMTP_END_TIMEOUT, ts);
}

static void flow_touch(struct flow *f, const struct timeval *ts)
{
    /* The idle sweep works in whole seconds: the list only needs to stay in order of them. */
    if (f->last.tv_sec != ts->tv_sec) {
        lru_unlink(f);
        lru_append(f);
    }
    f->last = *ts;
}

/* Bytes still missing that the capture may yet show: stored runs behind a hole, or bytes the
 * other side acknowledged (bar one, which may be an unseen FIN). */
static bool flow_has_holes(const struct flow *f)
{
    for (int d = 0; d < 2; d++) {
        const struct half *h = &f->h[d], *o = &f->h[!d];
        if (h->head || (h->known && o->ack_known && SEQ_LT(h->next + 1, o->ack) && o->ack - h->next < SEQ_WINDOW))
            return true;
    }
    return false;
}

/* A receiver takes a reset only at the sequence number it expects next (RFC 5961 3.2; Linux):
 * one anywhere else is dropped or answered with a challenge ACK, and the connection goes on.
 * Not knowing that number exactly, this accepts any from the sender's next byte to the highest it
 * is known to have reached (bytes stored, acknowledged by the other side, its FIN). */
static bool reset_in_window(const struct flow *f, const struct seg *s)
{
    const struct half *h = &f->h[s->dir], *o = &f->h[!s->dir];
    if (!h->known)
        return true; /* nothing to compare with: a reset to a SYN, a one-sided capture */
    uint32_t hi = h->next;
    if (h->tail && SEQ_LT(hi, h->tail->seq + h->tail->len))
        hi = h->tail->seq + h->tail->len;
    if (o->ack_known && SEQ_LT(hi, o->ack) && o->ack - hi < SEQ_WINDOW)
        hi = o->ack;
    if (h->fin && SEQ_LT(hi, h->fin_seq + 1))
        hi = h->fin_seq + 1;
    return SEQ_LEQ(h->next - 1, s->seq) && SEQ_LEQ(s->seq, hi);
}

/* A reset whose missing bytes came, or both FINs delivered and acknowledged: the end. */
static void flow_maybe_end(struct flow *f, const struct timeval *close_ts)
{
    if (f->reset && !flow_has_holes(f))
        flow_end(f, SMTP_END_RESET, &f->reset_ts);
    else if (f->h[0].fin_done && f->h[1].fin_done && f->h[0].fin_acked && f->h[1].fin_acked)
        flow_end(f, SMTP_END_CLOSE, close_ts);
    else
        wait_list_update(f, f->h[0].hole_acked || f->h[1].hole_acked);
}

static void segment(struct flow *f, const struct seg *s, const struct timeval *ts)
{
    struct half *h = &f->h[s->dir], *o = &f->h[!s->dir];
    flow_touch(f, ts);
    half_open(h, s);
    if (o->fin && !o->fin_acked && (s->flags & TH_ACK) && SEQ_LT(o->fin_seq, s->ack)) {
        o->fin_acked = true;
        f->fin_acked_ts = *ts;
    }
    /* libnids' moment: the client's ACK of the SYN-ACK completes the handshake. */
    if (s->dir == SMTP_DIR_CLIENT && o->syn && (s->flags & TH_ACK) && !(s->flags & TH_SYN))
        session_make(f, ts);
    if ((s->flags & TH_RST) && !reset_in_window(f, s)) {
        T.st.bad_tcp++;
        notice(f, SMTP_NOTICE_BAD_TCP_SEGMENT, s->dir, ts, "a %s reset at sequence offset %u, not where its bytes "
               "are: ignored, as its receiver does", dir_name(s->dir), s->seq - h->base);
        return;
    }
    if (s->flags & TH_RST) {
        T.st.resets++;
        /* Bytes the capture shows later (reordered) still belong before the reset. */
        if (!flow_has_holes(f)) {
            flow_end(f, SMTP_END_RESET, ts);
            return;
        }
        f->reset = true;
        f->reset_ts = *ts;
        return;
    }
    if (h->known)
        segment_data(f, s, ts);
    if (f->h[0].head || f->h[1].head)
        pump(f);
    fin_check(f, s->dir);
    /* Only an ACK past the other side's next byte, or a hole already waited for, can matter. */
    if (((s->flags & TH_ACK) && o->known && SEQ_LT(o->next, s->ack)) || h->hole_acked || o->hole_acked)
        acked_holes(f, ts, ts);
    flow_maybe_end(f, ts);
}

/* A TCP header a receiver would take (RFC 9293 3.1: data offset 5..15 words, inside the
 * segment). Returns false for one it drops. */
static bool tcp_parse(const struct reasm_ip *ip, struct seg *s, uint16_t *sport, uint16_t *dport)
{
    const uint8_t *t = ip->l4;
    *sport = (uint16_t)(t[0] << 8 | t[1]);
    *dport = (uint16_t)(t[2] << 8 | t[3]);
    size_t off = (size_t)(t[12] >> 4) * 4;
    if (off < 20 || off > ip->l4_wire)
        return false;
    s->seq = (uint32_t)t[4] << 24 | (uint32_t)t[5] << 16 | (uint32_t)t[6] << 8 | t[7];
    s->ack = (uint32_t)t[8] << 24 | (uint32_t)t[9] << 16 | (uint32_t)t[10] << 8 | t[11];
    s->flags = t[13];
    s->p = t + off;
    s->len = (uint32_t)(ip->l4_wire - off);
    s->cap = ip->l4_len > off ? (uint32_t)(ip->l4_len - off) : 0;
    if (s->cap > s->len)
        s->cap = s->len;
    return true;
}

static void tcp_input(const struct reasm_ip *ip, const struct timeval *ts)
{
    if (ip->l4_len < 20) {
        T.st.truncated_segments += ip->l4_wire >= 20;
        T.st.ip_bad += ip->l4_wire < 20;
        return;
    }
    struct seg s = {0};
    uint16_t sport, dport;
    bool ok = tcp_parse(ip, &s, &sport, &dport);
    if (!is_server_port(sport) && !is_server_port(dport)) {
        T.st.packets_no_stream++; /* a reassembled fragment of another service */
        return;
    }
    bool src_is_a;
    struct flow_key k;
    key_make(&k, ip, sport, dport, &src_is_a);
    struct flow **slot = flow_slot(&k);
    struct flow *f = *slot;
    if (!ok) {
        T.st.bad_tcp++;
        if (f)
            notice(f, SMTP_NOTICE_BAD_TCP_SEGMENT, src_is_a == f->client_is_a ? SMTP_DIR_CLIENT : SMTP_DIR_SERVER,
                   ts, "data offset %u words in a %zu-byte segment: dropped", ip->l4[12] >> 4, ip->l4_wire);
        return;
    }
    if (f) {
        s.dir = src_is_a == f->client_is_a ? SMTP_DIR_CLIENT : SMTP_DIR_SERVER;
        if (is_reuse(f, &s)) {
            T.st.port_reuse++;
            notice(f, SMTP_NOTICE_PORT_REUSE, SMTP_DIR_CLIENT, ts, "a new SYN on this connection");
            flow_end(f, SMTP_END_REUSE, ts);
            slot = flow_slot(&k);
            f = NULL;
        }
    }
    if (f == NULL) {
        /* A stream starts with a SYN or with bytes; a lone ACK, FIN or RST starts none. */
        if (!((s.flags & TH_SYN) || s.len) || (s.flags & TH_RST)) {
            T.st.packets_no_stream++;
            return;
        }
        if (tomb_absorbs(&k, src_is_a, &s, ts))
            return;
        if (T.st.sessions_active >= T.o.max_streams) {
            evict_one(ts);
            slot = flow_slot(&k);
        }
        bool client = sender_is_client(sport, dport, s.flags);
        f = flow_new(slot, &k, client == src_is_a, !(s.flags & TH_SYN), ts);
        s.dir = client ? SMTP_DIR_CLIENT : SMTP_DIR_SERVER;
    }
    segment(f, &s, ts);
}

/* --- IP -------------------------------------------------------------------------------------- */

/* A fragment goes in; the whole datagram may come out. Fragments that overlap are told to the
 * stream their first fragment names. */
static bool fragment_in(struct reasm_ip *ip, const struct reasm_frag *fr, const struct timeval *ts)
{
    /* Only TCP (or IPv6 extension headers in front of it) is ours: other protocols' fragments
     * must not take the bounded store's room. */
    if (ip->proto != 6 && !(ip->family == 6 && (ip->proto == 0 || ip->proto == 43 || ip->proto == 60 ||
                                                 ip->proto == 51))) {
        T.st.packets_no_stream++;
        return false;
    }
    struct reasm_ip whole;
    enum ipfrag_result r = ipfrag_add(ip, fr, ts, &whole);
    if (r == IPFRAG_OVERLAP && whole.proto == 6 && whole.l4_len >= 4) {
        uint16_t sport = (uint16_t)(whole.l4[0] << 8 | whole.l4[1]), dport = (uint16_t)(whole.l4[2] << 8 | whole.l4[3]);
        bool src_is_a;
        struct flow_key k;
        key_make(&k, &whole, sport, dport, &src_is_a);
        struct flow *f = *flow_slot(&k);
        if (f)
            notice(f, SMTP_NOTICE_IP_FRAGMENT_OVERLAP, src_is_a == f->client_is_a ? SMTP_DIR_CLIENT : SMTP_DIR_SERVER,
                   ts, "IPv%u fragments of datagram %u overlap: Linux discards the datagram (or keeps the first bytes of a fragment inside one held)",
                   whole.family, fr->id);
    }
    if (r != IPFRAG_DONE)
        return false;
    *ip = whole;
    return true;
}

/* A source route (RFC 791 3.1, LSRR 131 and SSRR 137): Linux drops such packets unless
 * accept_source_route is set, which it is not by default. */
static bool ipv4_source_routed(const uint8_t *p, size_t ihl)
{
    for (size_t i = 20; i < ihl && p[i] != 0;) {
        if (p[i] == 1) {
            i++;
            continue;
        }
        if (p[i] == 131 || p[i] == 137)
            return true;
        if (i + 1 >= ihl || p[i + 1] < 2)
            return false;
        i += p[i + 1];
    }
    return false;
}

static void ipv4_input(const uint8_t *p, size_t n, const struct timeval *ts)
{
    if (n < 20) {
        T.st.ip_bad++;
        return;
    }
    size_t ihl = (size_t)(p[0] & 15) * 4, tot = (size_t)p[2] << 8 | p[3];
    if (ihl < 20 || tot < ihl || n < ihl || (ihl > 20 && ipv4_source_routed(p, ihl))) {
        T.st.ip_bad++;
        return;
    }
    struct reasm_ip ip = {.family = 4, .proto = p[9], .l4 = p + ihl};
    memcpy(ip.src, p + 12, 4);
    memcpy(ip.dst, p + 16, 4);
    ip.l4_wire = tot - ihl;
    ip.l4_len = (n < tot ? n : tot) - ihl;
    unsigned frag = (unsigned)(p[6] << 8 | p[7]);
    if (frag & 0x3FFF) {
        struct reasm_frag fr = {.id = (uint32_t)(p[4] << 8 | p[5]), .off = (size_t)(frag & 0x1FFF) * 8,
                                .more = (frag & 0x2000) != 0};
        if (!fragment_in(&ip, &fr, ts))
            return;
    }
    if (ip.proto == 6)
        tcp_input(&ip, ts);
}

/* RFC 8200 4: extension headers from p + *off while *nh names one, up to a fragment header
 * (4.5), whose fields go to *fr: what follows it is the fragmentable part, bytes of the
 * datagram that only reassembly puts in place (a later fragment's are payload, not headers).
 * Returns false when a header runs past `cap`. */
static bool ipv6_ext_walk(const uint8_t *p, size_t cap, size_t *off, uint8_t *nh, struct reasm_frag *fr,
                          bool *fragment)
{
    while (*nh == 0 || *nh == 43 || *nh == 60 || *nh == 51 || *nh == 44) {
        if (*off + 8 > cap)
            return false;
        const uint8_t *e = p + *off;
        if (*nh == 44) {
            if (*fragment)
                return false; /* a fragment header inside a reassembled datagram */
            *fragment = true;
            fr->off = (size_t)((e[2] << 8 | e[3]) & 0xFFF8);
            fr->more = (e[3] & 1) != 0;
            fr->id = (uint32_t)e[4] << 24 | (uint32_t)e[5] << 16 | (uint32_t)e[6] << 8 | e[7];
            *off += 8;
            *nh = e[0];
            return true;
        }
        *off += *nh == 51 ? ((size_t)e[1] + 2) * 4 : ((size_t)e[1] + 1) * 8;
        *nh = e[0];
    }
    return *off <= cap;
}

/* The fragment header goes to ipfrag.c, which hands back the reassembled fragmentable part; the
 * extension headers in it are walked then. */
static void ipv6_input(const uint8_t *p, size_t n, const struct timeval *ts)
{
    if (n < 40) {
        T.st.ip_bad++;
        return;
    }
    size_t tot = 40 + ((size_t)p[4] << 8 | p[5]), cap = n < tot ? n : tot, off = 40;
    struct reasm_ip ip = {.family = 6};
    memcpy(ip.src, p + 8, 16);
    memcpy(ip.dst, p + 24, 16);
    uint8_t nh = p[6];
    struct reasm_frag fr;
    bool fragment = false;
    if (!ipv6_ext_walk(p, cap, &off, &nh, &fr, &fragment)) {
        T.st.ip_bad++;
        return;
    }
    ip.proto = nh;
    ip.l4 = p + off;
    ip.l4_len = cap - off;
    ip.l4_wire = tot - off;
    if (fragment) {
        if (!fragment_in(&ip, &fr, ts))
            return;
        off = 0;
        nh = ip.proto;
        if (!ipv6_ext_walk(ip.l4, ip.l4_len, &off, &nh, &fr, &fragment)) {
            T.st.ip_bad++;
            return;
        }
        ip.proto = nh;
        ip.l4 += off;
        ip.l4_len -= off;
        ip.l4_wire -= off;
    }
    if (ip.proto == 6)
        tcp_input(&ip, ts);
}

/* --- the interface --------------------------------------------------------------------------- */

static void sweep_idle(const struct timeval *now)
{
    for (struct flow *f = T.wait_head, *n; f; f = n) {
        n = f->wnext;
        acked_holes(f, now, &f->last);
        flow_maybe_end(f, &f->fin_acked_ts);
    }
    while (T.lru_head && reasm_secs_between(&T.lru_head->last, now) > (int64_t)T.o.idle_timeout) {
        struct flow *f = T.lru_head;
        T.st.idle_timeouts++;
        flow_end(f, SMTP_END_TIMEOUT, &f->last); /* it ended when it went quiet */
    }
    ipfrag_expire(now);
}

int reasm_tcp_init(const struct reasm_opts *o, char *err, size_t errlen)
{
    memset(&T, 0, sizeof(T));
    T.o = *o;
    if (T.o.memcap == 0)
        T.o.memcap = REASM_DEFAULT_MEMCAP;
    for (unsigned i = 0; i < o->nports && i < 32; i++)
        T.port_bits[o->ports[i] >> 6] |= 1ull << (o->ports[i] & 63);
    T.hash_seed = hash_seed_new();
    T.nbuckets = 1024;
    while (T.nbuckets < o->max_streams)
        T.nbuckets <<= 1;
    T.bucket = calloc(T.nbuckets, sizeof(*T.bucket));
    if (T.bucket == NULL) {
        snprintf(err, errlen, "cannot allocate the flow table");
        return -1;
    }
    ipfrag_init(&T.st, T.hash_seed);
    return 0;
}

void reasm_tcp_packet(const uint8_t *ip, size_t len, const struct timeval *ts)
{
    T.now = *ts;
    if (len >= 1 && (ip[0] >> 4) == 4)
        ipv4_input(ip, len, ts);
    else if (len >= 1 && (ip[0] >> 4) == 6)
        ipv6_input(ip, len, ts);
    else
        T.st.ip_bad++;
    if (ts->tv_sec != T.last_sweep) {
        T.last_sweep = ts->tv_sec;
        sweep_idle(ts);
    }
}

void reasm_tcp_finish(void)
{
    while (T.lru_head)
        flow_end(T.lru_head, SMTP_END_EOF, &T.now);
    ipfrag_finish();
    free(T.bucket);
    T.bucket = NULL;
}

void reasm_tcp_stats(struct reasm_stats *st)
{
    *st = T.st;
    st->frag_chain_peak = ipfrag_chain_peak();
}
