/* reasm_internal.h - what the files of the reassembly stage share: the two engines' entry points
 * (reasm.c picks one) and an IP packet taken apart, which the fragment reassembler also yields. */
#ifndef SMTPSNIFF_REASM_INTERNAL_H
#define SMTPSNIFF_REASM_INTERNAL_H

#include "reasm/reasm.h"

int reasm_nids_init(const struct reasm_opts *o, char *err, size_t errlen);
void reasm_nids_packet(const uint8_t *ip, size_t len, const struct timeval *ts);
void reasm_nids_finish(void);
void reasm_nids_stats(struct reasm_stats *st);

int reasm_tcp_init(const struct reasm_opts *o, char *err, size_t errlen);
void reasm_tcp_packet(const uint8_t *ip, size_t len, const struct timeval *ts);
void reasm_tcp_finish(void);
void reasm_tcp_stats(struct reasm_stats *st);

/* Seconds from `then` to `now` in capture time, saturated: a file's timestamps are whatever it
 * says (pcapng's are 64-bit), so a plain difference can overflow. */
static inline int64_t reasm_secs_between(const struct timeval *then, const struct timeval *now)
{
    int64_t d;
    if (__builtin_sub_overflow((int64_t)now->tv_sec, (int64_t)then->tv_sec, &d))
        return now->tv_sec > then->tv_sec ? INT64_MAX : INT64_MIN;
    return d;
}

/* Dotted quad of 4 address bytes into dst (16 bytes). */
void reasm_ipv4_text(char *dst, const uint8_t *b);

/* One IP datagram's transport payload. Addresses in network order; IPv4 in the first 4 bytes and
 * the rest zero. l4_len bytes are present at l4; the IP header said l4_wire (more when the
 * snapshot length cut the packet). */
struct reasm_ip {
    uint8_t family; /* 4 or 6 */
    uint8_t proto;
    uint8_t src[16], dst[16];
    const uint8_t *l4;
    size_t l4_len, l4_wire;
};

/* A fragment's place in its datagram (RFC 791 3.1, RFC 8200 4.5). */
struct reasm_frag {
    uint32_t id;
    size_t off;  /* bytes */
    bool more;
};

enum ipfrag_result {
    IPFRAG_HELD,     /* kept; the datagram is not complete */
    IPFRAG_DONE,     /* complete: *out is the whole datagram, valid until the next call */
    IPFRAG_DROPPED,  /* dropped: a duplicate, bad, over a bound, or its datagram discarded */
    IPFRAG_OVERLAP   /* overlapped a fragment held with different bytes (Linux's policy applied);
                        *out has the addresses and up to 20 bytes of the first fragment, if held */
};

/* seed: the engine's per-run hash secret. */
void ipfrag_init(struct reasm_stats *st, uint64_t seed);
/* The longest hash chain a fragment walked (tests). */
unsigned ipfrag_chain_peak(void);
enum ipfrag_result ipfrag_add(const struct reasm_ip *ip, const struct reasm_frag *f, const struct timeval *ts,
                              struct reasm_ip *out);
/* Drop datagrams older than REASM_FRAG_TIMEOUT capture seconds. */
void ipfrag_expire(const struct timeval *now);
void ipfrag_finish(void);
uint64_t ipfrag_bytes(void);

#endif
