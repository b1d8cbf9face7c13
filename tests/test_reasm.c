/* test_reasm.c - the own reassembly engine fed hand-built IPv4/IPv6 packets in memory: ordering
 * across directions, midstream, one-sided streams, exact gaps, bounds against hostile streams,
 * every way a stream ends, fragments, and packets a receiver would drop. Records are written as
 * one line each into a transcript the tests search. */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reasm/reasm.h"
#include "smtp/smtp_core.h"

static char log_buf[1 << 16];
static size_t log_len;

__attribute__((format(printf, 1, 2))) static void logf_(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(log_buf + log_len, sizeof(log_buf) - log_len, fmt, ap);
    va_end(ap);
    if (n > 0 && (size_t)n < sizeof(log_buf) - log_len)
        log_len += (size_t)n;
}

static void on_exchange(void *ctx, const struct smtp_session_info *s, const struct smtp_exchange *x)
{
    (void)ctx;
    logf_("x%llu %.*s/%d\n", (unsigned long long)s->id, x->cmd ? (int)x->cmd->verb_len : 1,
          x->cmd ? x->cmd->verb : "-", x->reply ? x->reply->code : 0);
}

static void on_notice(void *ctx, const struct smtp_session_info *s, const struct smtp_notice *n)
{
    (void)ctx;
    logf_("n%llu %s: %s\n", (unsigned long long)s->id, smtp_notice_name(n->id), n->detail);
}

static void on_end(void *ctx, const struct smtp_session_info *s)
{
    (void)ctx;
    logf_("end%llu %s c=%llu s=%llu mid=%d start=%ld.%06ld end=%ld.%06ld\n", (unsigned long long)s->id,
          smtp_end_reason_name(s->end_reason), (unsigned long long)s->bytes[0], (unsigned long long)s->bytes[1],
          s->midstream, (long)s->start.tv_sec, (long)s->start.tv_usec, (long)s->end.tv_sec, (long)s->end.tv_usec);
}

static const struct smtp_sink sink = {.exchange = on_exchange, .notice = on_notice, .session_end = on_end};
static const uint16_t ports[] = {25};

static void start(unsigned max_streams, uint64_t memcap)
{
    log_len = 0;
    log_buf[0] = '\0';
    struct reasm_opts o = {.engine = REASM_ENGINE_OWN, .sink = &sink, .ports = ports, .nports = 1,
                           .max_streams = max_streams, .idle_timeout = 600, .memcap = memcap};
    char err[128];
    cr_assert_eq(reasm_init(&o, err, sizeof(err)), 0, "%s", err);
}

static void finish(void)
{
    reasm_finish();
    smtp_core_cleanup();
}

/* --- packets --------------------------------------------------------------------------------- */

enum { FIN = 1, SYN = 2, RST = 4, PSH = 8, ACK = 16 };

static struct timeval now = {1704067200, 0};

static void tick(long usec)
{
    now.tv_usec += usec;
    now.tv_sec += now.tv_usec / 1000000;
    now.tv_usec %= 1000000;
}

static size_t tcp_header(uint8_t *t, uint16_t sp, uint16_t dp, uint32_t seq, uint32_t ack, uint8_t flags,
                         unsigned doff)
{
    memset(t, 0, 20);
    t[0] = (uint8_t)(sp >> 8), t[1] = (uint8_t)sp, t[2] = (uint8_t)(dp >> 8), t[3] = (uint8_t)dp;
    for (int i = 0; i < 4; i++) {
        t[4 + i] = (uint8_t)(seq >> (24 - 8 * i));
        t[8 + i] = (uint8_t)(ack >> (24 - 8 * i));
    }
    t[12] = (uint8_t)(doff << 4);
    t[13] = flags;
    t[14] = 0xff, t[15] = 0xff;
    return 20;
}

/* An IPv4 packet from 10.0.0.1:cport to 10.0.0.2:25 (client) or back; `caplen` 0 = whole. */
static void send4(bool from_client, uint16_t cport, uint32_t seq, uint32_t ack, uint8_t flags, const char *data,
                  size_t caplen, unsigned doff)
{
    static uint8_t p[2048];
    size_t n = data ? strlen(data) : 0;
    memset(p, 0, 20);
    p[0] = 0x45;
    p[2] = (uint8_t)((40 + n) >> 8), p[3] = (uint8_t)(40 + n);
    p[8] = 64, p[9] = 6;
    uint8_t c[4] = {10, 0, 0, 1}, s[4] = {10, 0, 0, 2};
    memcpy(p + 12, from_client ? c : s, 4);
    memcpy(p + 16, from_client ? s : c, 4);
    tcp_header(p + 20, from_client ? cport : 25, from_client ? 25 : cport, seq, ack, flags, doff);
    memcpy(p + 40, data ? data : "", n);
    tick(1000);
    reasm_packet(NULL, p, caplen ? caplen : 40 + n, &now);
}

#define C(port, seq, ack, data) send4(true, port, seq, ack, PSH | ACK, data, 0, 5)
#define S(port, seq, ack, data) send4(false, port, seq, ack, PSH | ACK, data, 0, 5)

static void handshake_at(uint16_t port, uint32_t cisn, uint32_t sisn)
{
    send4(true, port, cisn, 0, SYN, NULL, 0, 5);
    send4(false, port, sisn, cisn + 1, SYN | ACK, NULL, 0, 5);
    send4(true, port, cisn + 1, sisn + 1, ACK, NULL, 0, 5);
}

/* Client ISN 1000, server ISN 5000: data starts at 1001 and 5001. */
static void handshake(uint16_t port)
{
    handshake_at(port, 1000, 5000);
}

static void close_both(uint16_t port, uint32_t cseq, uint32_t sseq)
{
    send4(false, port, sseq, cseq, FIN | ACK, NULL, 0, 5);
    send4(true, port, cseq, sseq + 1, FIN | ACK, NULL, 0, 5);
    send4(false, port, sseq + 1, cseq + 1, ACK, NULL, 0, 5);
}

#define GREET "220 mx ESMTP\r\n"   /* 14 */
#define EHLO "EHLO c.example\r\n" /* 16 */
#define OK "250 ok\r\n"            /* 8 */

static void expect_log(const char *needle)
{
    cr_expect(strstr(log_buf, needle) != NULL, "missing \"%s\" in:\n%s", needle, log_buf);
}

static void expect_no_log(const char *needle)
{
    cr_expect(strstr(log_buf, needle) == NULL, "unexpected \"%s\" in:\n%s", needle, log_buf);
}

/* --- ordering -------------------------------------------------------------------------------- */

Test(reasm, in_order_session_closes)
{
    start(64, 0);
    handshake(40000);
    S(40000, 5001, 1001, GREET);
    C(40000, 1001, 5015, EHLO);
    S(40000, 5015, 1017, OK);
    close_both(40000, 1017, 5023);
    finish();
    expect_log("x1 -/220\n");
    expect_log("x1 EHLO/250\n");
    expect_log("end1 close c=16 s=22 mid=0");
    expect_no_log("n1 ");
}

/* A reply captured before the command it acknowledges still pairs with it. */
Test(reasm, reply_captured_before_its_command)
{
    start(64, 0);
    handshake(40001);
    S(40001, 5001, 1001, GREET);
    S(40001, 5015, 1017, OK);  /* acknowledges the EHLO, which the capture shows next */
    C(40001, 1001, 5015, EHLO);
    close_both(40001, 1017, 5023);
    finish();
    expect_log("x1 EHLO/250\n");
    expect_no_log("reply-without-command");
    expect_no_log("capture-gap");
}

/* The same, with the client's segments reordered among themselves too. */
Test(reasm, client_segments_reordered)
{
    start(64, 0);
    handshake(40002);
    S(40002, 5001, 1001, GREET);
    C(40002, 1009, 5015, "xample\r\n"); /* second half first */
    C(40002, 1001, 5015, "EHLO c.e");
    S(40002, 5015, 1017, OK);
    close_both(40002, 1017, 5023);
    finish();
    expect_log("x1 EHLO/250\n");
    expect_log("end1 close c=16");
    expect_no_log("capture-gap");
}

/* --- midstream and one-sided ----------------------------------------------------------------- */

Test(reasm, midstream_pickup_is_marked)
{
    start(64, 0);
    C(40003, 7001, 9001, "NOOP\r\n");
    S(40003, 9001, 7007, OK);
    finish();
    expect_log("end1 end of input c=6 s=8 mid=1");
}

Test(reasm, one_sided_server_only)
{
    start(64, 0);
    S(40004, 9001, 7001, GREET);
    S(40004, 9015, 7017, OK);
    finish();
    expect_log("end1 end of input c=0 s=22 mid=1");
    struct reasm_stats st;
    reasm_get_stats(&st);
    cr_expect_eq(st.one_sided, 1);
}

/* Every stream on an SMTP port yields a record, a lone SYN too. */
Test(reasm, syn_only_stream_has_a_record)
{
    start(64, 0);
    send4(true, 40005, 1000, 0, SYN, NULL, 0, 5);
    finish();
    expect_log("end1 end of input c=0 s=0 mid=0");
}

/* --- gaps ------------------------------------------------------------------------------------ */

/* The server acknowledged client bytes the capture lacks: after the wait they are a gap of
 * exactly that size, and what follows is delivered. */
Test(reasm, acked_hole_is_an_exact_gap)
{
    start(64, 0);
    handshake(40006);
    S(40006, 5001, 1001, GREET);
    /* "EHLO c.example\r\n" (16 bytes at 1001) never captured */
    S(40006, 5015, 1017, OK);
    tick(1500000);
    C(40006, 1017, 5023, "NOOP\r\n");
    S(40006, 5023, 1023, OK);
    finish();
    expect_log("capture-gap: 16 client bytes missing from the capture");
    expect_log("x1 NOOP/250\n");
}

/* A hole nobody acknowledged, at the end of the stream: the stored bytes after it still come
 * out, behind a gap of the hole's size. */
Test(reasm, hole_at_end_is_reported)
{
    start(64, 0);
    handshake(40007);
    S(40007, 5001, 1001, GREET);
    C(40007, 1011, 5015, "NOOP\r\n"); /* 10 bytes at 1001 missing */
    finish();
    expect_log("capture-gap: 10 client bytes missing from the capture");
    struct reasm_stats st;
    reasm_get_stats(&st);
    cr_expect_eq(st.gap_bytes, 10);
}

Test(reasm, snaplen_cut_segment_is_a_gap)
{
    start(64, 0);
    handshake(40008);
    send4(false, 40008, 5001, 1001, PSH | ACK, GREET, 40 + 4, 5); /* 4 of 14 bytes captured */
    finish();
    expect_log("snaplen-truncated");
    expect_log("capture-gap: 10 server bytes missing from the capture");
    expect_log("end1 end of input c=0 s=4");
}

/* --- bounds ---------------------------------------------------------------------------------- */

/* Behind a hole that never fills, 200,000 one-byte segments each followed by a hole: memory
 * stays under the per-stream bound and --memcap, the excess is skipped as gaps. */
Test(reasm, hostile_out_of_order_stream_is_bounded, .timeout = 120)
{
    uint64_t cap = 1u << 20;
    start(64, cap);
    handshake(40009);
    for (uint32_t i = 0; i < 200000; i++)
        send4(true, 40009, 2001 + 2 * i, 5001, PSH | ACK, "x", 0, 5);
    struct reasm_stats st;
    reasm_get_stats(&st);
    cr_expect_leq(st.ooo_peak_bytes, cap, "peak %llu", (unsigned long long)st.ooo_peak_bytes);
    cr_expect_gt(st.store_full + st.memcap_hits, 0);
    finish();
    expect_log("reassembly-store-full");
}

/* Many streams, each with a hole that never fills and bytes behind it: the oldest holder is
 * flushed when --memcap is reached. */
Test(reasm, memcap_bounds_all_streams)
{
    uint64_t cap = 256u << 10;
    start(1024, cap);
    char chunk[1001];
    memset(chunk, 'a', 1000);
    chunk[1000] = '\0';
    for (uint16_t s = 0; s < 100; s++) {
        handshake((uint16_t)(41000 + s));
        for (uint32_t k = 0; k < 10; k++)
            C((uint16_t)(41000 + s), 1101 + 1000 * k, 5001, chunk);
    }
    struct reasm_stats st;
    reasm_get_stats(&st);
    cr_expect_leq(st.ooo_peak_bytes, cap);
    cr_expect_gt(st.memcap_hits, 0);
    finish();
}

Test(reasm, eviction_at_exactly_max_sessions)
{
    start(16, 0);
    for (uint16_t s = 0; s < 16; s++)
        handshake((uint16_t)(42000 + s));
    struct reasm_stats st;
    reasm_get_stats(&st);
    cr_expect_eq(st.evicted, 0);
    cr_expect_eq(st.sessions_active, 16);
    handshake(42016);
    reasm_get_stats(&st);
    cr_expect_eq(st.evicted, 1);
    cr_expect_eq(st.sessions_active, 16);
    finish();
    expect_log("n1 session-evicted");
}

/* --- ends ------------------------------------------------------------------------------------ */

Test(reasm, reset_ends_the_session)
{
    start(64, 0);
    handshake(40010);
    S(40010, 5001, 1001, GREET);
    send4(true, 40010, 1001, 5015, RST | ACK, NULL, 0, 5);
    finish();
    expect_log("end1 reset");
}

Test(reasm, new_syn_on_open_tuple_is_port_reuse)
{
    start(64, 0);
    handshake(40011);
    S(40011, 5001, 1001, GREET);
    send4(true, 40011, 777000, 0, SYN, NULL, 0, 5);
    send4(false, 40011, 888000, 777001, SYN | ACK, NULL, 0, 5);
    send4(true, 40011, 777001, 888001, ACK, NULL, 0, 5);
    finish();
    expect_log("n1 port-reuse");
    expect_log("end1 port reused");
    expect_log("end2 end of input");
}

/* A SYN sent again (same ISN) is the same connection. */
Test(reasm, syn_retransmission_is_not_reuse)
{
    start(64, 0);
    send4(true, 40012, 1000, 0, SYN, NULL, 0, 5);
    handshake(40012);
    finish();
    expect_no_log("port-reuse");
    expect_no_log("end2");
}

Test(reasm, idle_timeout_in_capture_time)
{
    start(64, 0);
    handshake(40013);
    S(40013, 5001, 1001, GREET);
    struct timeval last = now;
    tick(601 * 1000000L);
    handshake(40014); /* another stream moves capture time on */
    finish();
    char want[96];
    snprintf(want, sizeof(want), "end1 timeout c=0 s=14 mid=0 start=%ld.", (long)last.tv_sec);
    expect_log(want);
    snprintf(want, sizeof(want), "end=%ld.%06ld", (long)last.tv_sec, (long)last.tv_usec);
    expect_log(want);
}

/* --- packets a receiver drops ---------------------------------------------------------------- */

Test(reasm, data_offset_below_five_is_dropped)
{
    start(64, 0);
    handshake(40015);
    send4(false, 40015, 5001, 1001, PSH | ACK, "554 INJECTED\r\n", 0, 4);
    S(40015, 5001, 1001, GREET);
    finish();
    expect_log("bad-tcp-segment");
    expect_log("x1 -/220\n");
    expect_no_log("/554");
}

Test(reasm, conflicting_retransmission_keeps_first_bytes)
{
    start(64, 0);
    handshake(40016);
    S(40016, 5001, 1001, GREET);
    C(40016, 1001, 5015, "NOOP\r\n");
    C(40016, 1001, 5015, "QUIT\r\n");
    S(40016, 5015, 1007, OK);
    finish();
    expect_log("overlap-conflict");
    expect_log("x1 NOOP/250\n");
    expect_no_log("QUIT");
}

/* --- fragments ------------------------------------------------------------------------------- */

/* The client's EHLO segment as IPv4 fragments [0, 24) and [24, 36); `overlap` makes the second
 * start at 16 with other bytes. */
static void ehlo_fragments(uint16_t port, bool overlap)
{
    uint8_t whole[20 + 16], p[2][128];
    tcp_header(whole, port, 25, 1001, 5015, PSH | ACK, 5);
    memcpy(whole + 20, EHLO, 16);
    size_t off[2] = {0, overlap ? 16 : 24}, len[2] = {24, overlap ? 20 : 12};
    for (int i = 0; i < 2; i++) {
        memset(p[i], 0, 20);
        p[i][0] = 0x45;
        p[i][2] = 0, p[i][3] = (uint8_t)(20 + len[i]);
        p[i][4] = 0x12, p[i][5] = 0x34;
        unsigned fo = (unsigned)(off[i] / 8) | (i == 0 ? 0x2000 : 0);
        p[i][6] = (uint8_t)(fo >> 8), p[i][7] = (uint8_t)fo;
        p[i][8] = 64, p[i][9] = 6;
        uint8_t c[4] = {10, 0, 0, 1}, s[4] = {10, 0, 0, 2};
        memcpy(p[i] + 12, c, 4);
        memcpy(p[i] + 16, s, 4);
        memcpy(p[i] + 20, whole + off[i], len[i]);
        if (overlap && i == 1)
            memset(p[i] + 20, 'X', 8);
    }
    tick(1000);
    reasm_packet(NULL, p[1], 20 + len[1], &now); /* out of order on purpose */
    tick(1000);
    reasm_packet(NULL, p[0], 20 + len[0], &now);
}

Test(reasm, ipv4_fragments_reassembled)
{
    start(64, 0);
    handshake(40017);
    S(40017, 5001, 1001, GREET);
    ehlo_fragments(40017, false);
    S(40017, 5015, 1017, OK);
    finish();
    expect_log("x1 EHLO/250\n");
}

Test(reasm, overlapping_ipv4_fragments_discard_the_datagram)
{
    start(64, 0);
    handshake(40018);
    S(40018, 5001, 1001, GREET);
    ehlo_fragments(40018, true);
    finish();
    expect_no_log("EHLO");
    struct reasm_stats st;
    reasm_get_stats(&st);
    cr_expect_eq(st.frag_overlaps, 1);
}

/* IPv6 with a fragment header (RFC 8200 4.5), natively: the session names the IPv6 addresses. */
static void send6_frag(const uint8_t *tcp, size_t off, size_t len, bool more, const uint8_t *src, const uint8_t *dst)
{
    uint8_t p[256];
    memset(p, 0, 48);
    p[0] = 0x60;
    p[4] = 0, p[5] = (uint8_t)(8 + len);
    p[6] = 44, p[7] = 64;
    memcpy(p + 8, src, 16);
    memcpy(p + 24, dst, 16);
    p[40] = 6;
    unsigned fo = (unsigned)off | (more ? 1 : 0);
    p[42] = (uint8_t)(fo >> 8), p[43] = (uint8_t)fo;
    p[47] = 7;
    memcpy(p + 48, tcp + off, len);
    tick(1000);
    reasm_packet(NULL, p, 48 + len, &now);
}

Test(reasm, ipv6_fragments_reassembled)
{
    start(64, 0);
    uint8_t c[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1}, s[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 2};
    uint8_t tcp[20 + 14];
    tcp_header(tcp, 25, 40019, 5001, 1001, PSH | ACK, 5);
    memcpy(tcp + 20, GREET, 14);
    send6_frag(tcp, 0, 16, true, s, c);
    send6_frag(tcp, 16, 18, false, s, c);
    finish();
    expect_log("x1 -/220\n");
    expect_log("end1 end of input c=0 s=14 mid=1");
}

/* --- reordered ends -------------------------------------------------------------------------- */

/* A reset captured before a segment it follows: the segment still belongs to the session. */
Test(reasm, reset_waits_for_bytes_acknowledged_before_it)
{
    start(64, 0);
    handshake(40020);
    S(40020, 5001, 1001, GREET);
    S(40020, 5015, 1017, OK);                                /* acknowledges the EHLO */
    send4(true, 40020, 1017, 5023, RST | ACK, NULL, 0, 5);   /* captured before the EHLO */
    C(40020, 1001, 5015, EHLO);
    finish();
    expect_log("x1 EHLO/250\n");
    expect_log("end1 reset c=16 s=22");
    expect_no_log("end2");
}

/* Copies of a closed stream's segments seen after its end start no stream of their own. */
Test(reasm, segments_after_close_start_no_stream)
{
    start(64, 0);
    handshake(40021);
    S(40021, 5001, 1001, GREET);
    close_both(40021, 1001, 5015);
    S(40021, 5001, 1001, GREET); /* a duplicate, late */
    C(40021, 1002, 5016, "late\r\n"); /* sent after the FIN: reaches nobody */
    finish();
    expect_log("end1 close");
    expect_no_log("end2");
    struct reasm_stats st;
    reasm_get_stats(&st);
    cr_expect_eq(st.after_end_bytes, 6);
}

/* --- sequence numbers across 2^32 ------------------------------------------------------------ */

/* Client ISN 0xfffffff9: the EHLO starts at 0xfffffffa and crosses zero; its three pieces arrive
 * last first. Then a NOOP across zero again is lost and the one behind it arrives: a gap of
 * exactly 6 bytes, the second NOOP still delivered. */
Test(reasm, sequence_wrap_with_reordering_and_a_hole)
{
    start(64, 0);
    uint16_t port = 40022;
    uint32_t c0 = 0xfffffff9u, s0 = 0xfffffff0u;
    handshake_at(port, c0, s0);
    S(port, s0 + 1, c0 + 1, GREET);                          /* 0xfffffff1 .. 0xffffffff */
    uint32_t ca = c0 + 1, sa = s0 + 15;                      /* 0xfffffffa, 0xffffffff */
    C(port, ca + 12, sa, "le\r\n");
    C(port, ca + 6, sa, ".examp");                           /* at 0: the first piece past the wrap */
    C(port, ca, sa, "EHLO c");
    S(port, sa, ca + 16, OK);                                /* 0xffffffff .. 7 */
    /* A second client stream, data from 0xfffffffd: its first NOOP (crossing 0) is lost. */
    uint16_t p2 = 40023;
    uint32_t d0 = 0xfffffffcu;
    handshake_at(p2, d0, 5000);
    S(p2, 5001, d0 + 1, GREET);
    C(p2, d0 + 7, 5015, "NOOP\r\n");                         /* 3 .. 9, behind the lost 0xfffffffd .. 3 */
    struct reasm_stats st;
    reasm_get_stats(&st);
    cr_expect_eq(st.bad_tcp, 0);
    finish();
    expect_log("x1 EHLO/250\n");
    expect_no_log("n1 ");
    expect_log("end1 end of input c=16 s=22 mid=0");
    expect_log("n2 capture-gap: 6 client bytes missing from the capture");
    expect_log("x2 NOOP/0\n");
    expect_log("end2 end of input c=6 s=14");
    reasm_get_stats(&st);
    cr_expect_eq(st.gap_bytes, 6);
}

/* The same wrap with the server acknowledging past the lost bytes: the wait ends in a gap of
 * exactly the lost bytes, and the reply behind them pairs with the NOOP after the hole. */
Test(reasm, sequence_wrap_acked_hole)
{
    start(64, 0);
    uint16_t port = 40024;
    uint32_t c0 = 0xfffffffcu;
    handshake_at(port, c0, 5000);
    S(port, 5001, c0 + 1, GREET);
    S(port, 5015, c0 + 7, OK);                               /* acknowledges a lost NOOP across 0 */
    tick(1500000);
    C(port, c0 + 7, 5023, "NOOP\r\n");
    S(port, 5023, c0 + 13, OK);
    close_both(port, c0 + 13, 5031);
    finish();
    expect_log("capture-gap: 6 client bytes missing from the capture");
    expect_log("x1 NOOP/250\n");
    expect_log("end1 close");
}

/* --- hostile flow keys ----------------------------------------------------------------------- */

/* One IPv6 SYN from 2001:db8::1:<hi><lo> port 40000 to 2001:db8::2 port 25. */
static void syn6_from(uint8_t hi, uint8_t lo)
{
    uint8_t p[60];
    memset(p, 0, 40);
    p[0] = 0x60;
    p[5] = 20, p[6] = 6, p[7] = 64;
    uint8_t c[16] = {0x20, 0x01, 0x0d, 0xb8, [11] = 1, [14] = hi, [15] = lo};
    uint8_t s[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 2};
    memcpy(p + 8, c, 16);
    memcpy(p + 24, s, 16);
    tcp_header(p + 40, 40000, 25, 1000, 0, SYN, 5);
    tick(1000);
    reasm_packet(NULL, p, 60, &now);
}

/* Hash flooding: 4,096 clients of one /64 that differ only in the last two address bytes (which
 * anyone with a /64 picks freely) must not share a hash chain, or every packet of the sensor
 * walks all of them. */
Test(reasm, flow_keys_of_one_prefix_spread_over_buckets)
{
    start(8192, 0);
    for (unsigned i = 0; i < 4096; i++)
        syn6_from((uint8_t)(i >> 4), (uint8_t)(i << 4));
    struct reasm_stats st;
    reasm_get_stats(&st);
    cr_expect_eq(st.sessions_active, 4096);
    cr_expect_lt(st.flow_chain_peak, 16, "a hash chain of %llu flows", (unsigned long long)st.flow_chain_peak);
    finish();
}

/* --- hostile timestamps ---------------------------------------------------------------------- */

/* Capture time is whatever the file says (pcapng gives 64-bit times): an acknowledged hole
 * waited for at one time and looked at again 2^57 seconds later (or earlier), a tombstone, the
 * idle sweep and fragment expiry all take the difference without overflowing (the fuzzer's
 * input in capture-regressions/ts-overflow-acked-hole.pcapng found the first). */
Test(reasm, capture_time_jumps_do_not_overflow)
{
    start(64, 0);
    handshake(40025);
    S(40025, 5001, 1001, GREET);
    S(40025, 5015, 1017, OK); /* acknowledges a lost EHLO: the hole is waited for */
    now.tv_sec = (time_t)1 << 57;
    S(40025, 5023, 1017, OK);
    now.tv_sec = -((time_t)1 << 62);
    S(40025, 5031, 1017, OK);
    C(40026, 1001, 5001, "NOOP\r\n");
    close_both(40026, 1007, 5001);
    now.tv_sec = (time_t)1 << 62;
    C(40026, 1008, 5002, "NOOP\r\n"); /* after the close, against its tombstone */
    now.tv_sec = 1704067200;
    finish();
    expect_log("capture-gap: 16 client bytes missing from the capture");
}

/* --- directions waiting for each other ------------------------------------------------------- */

/* A client segment that acknowledges server bytes not yet captured, and the server's reply that
 * acknowledges that segment: each waits for the other. Once the acknowledged-hole wait is over
 * the engine must move on (here: the command first, its ACK past anything seen is no reason to
 * hold it), not keep both directions until the store fills or the stream ends. */
Test(reasm, directions_waiting_for_each_other_move_after_the_wait)
{
    start(64, 0);
    handshake(40027);
    S(40027, 5001, 1001, GREET);
    C(40027, 1001, 5115, "NOOP\r\n"); /* acknowledges 100 server bytes never sent */
    S(40027, 5015, 1007, OK);         /* the reply to the NOOP */
    tick(1500000);
    S(40027, 5023, 1007, "");         /* a later packet: time moves on */
    send4(false, 40027, 5023, 1007, ACK, NULL, 0, 5);
    expect_log("x1 NOOP/250\n");      /* before the end of input */
    finish();
}

/* Extension headers after the fragment header are in the fragmentable part (RFC 8200 4.5): a
 * destination options header there belongs to the reassembled payload, and a later fragment's
 * bytes are payload, not headers. The greeting in two fragments, behind 8 bytes of options. */
Test(reasm, ipv6_options_after_the_fragment_header)
{
    start(64, 0);
    uint8_t c[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1}, s[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 2};
    uint8_t part[8 + 20 + 14] = {6, 0, 1, 4, 0, 0, 0, 0}; /* options: next TCP, 8 bytes, PadN */
    tcp_header(part + 8, 25, 40028, 5001, 1001, PSH | ACK, 5);
    memcpy(part + 28, GREET, 14);
    size_t off[2] = {0, 24}, len[2] = {24, sizeof(part) - 24};
    for (int i = 0; i < 2; i++) {
        uint8_t p[128];
        memset(p, 0, 48);
        p[0] = 0x60;
        p[5] = (uint8_t)(8 + len[i]);
        p[6] = 44, p[7] = 64;
        memcpy(p + 8, s, 16);
        memcpy(p + 24, c, 16);
        p[40] = 60;
        unsigned fo = (unsigned)off[i] | (i == 0 ? 1 : 0);
        p[42] = (uint8_t)(fo >> 8), p[43] = (uint8_t)fo;
        p[47] = 9;
        memcpy(p + 48, part + off[i], len[i]);
        tick(1000);
        reasm_packet(NULL, p, 48 + len[i], &now);
    }
    finish();
    expect_log("x1 -/220\n");
    expect_log("end1 end of input c=0 s=14 mid=1");
}

/* A reset whose sequence number is not the one its receiver expects: Linux ignores it (RFC 5961
 * 3.2: out of the window dropped, in it but not exact answered with a challenge ACK), so the
 * session goes on; taking it ends the record and hides what follows (an evasion). */
Test(reasm, reset_with_a_wrong_sequence_number_is_ignored)
{
    start(64, 0);
    handshake(40029);
    S(40029, 5001, 1001, GREET);
    send4(true, 40029, 1001 + 70000, 5015, RST | ACK, NULL, 0, 5);
    C(40029, 1001, 5015, EHLO);
    S(40029, 5015, 1017, OK);
    send4(true, 40029, 1017, 5023, RST | ACK, NULL, 0, 5); /* the real one */
    finish();
    expect_log("x1 EHLO/250\n");
    expect_log("n1 bad-tcp-segment");
    expect_log("end1 reset c=16 s=22");
    expect_no_log("end2");
}

/* Fragments of other protocols (UDP: DNS, NFS, tunnels) are nothing of ours: 1,100 incomplete UDP
 * datagrams between the two fragments of an EHLO must not push it out of the bounded store. */
Test(reasm, other_protocols_fragments_do_not_evict_tcp_ones)
{
    start(64, 0);
    handshake(40030);
    S(40030, 5001, 1001, GREET);
    uint8_t whole[20 + 16], p[128];
    tcp_header(whole, 40030, 25, 1001, 5015, PSH | ACK, 5);
    memcpy(whole + 20, EHLO, 16);
    for (unsigned i = 0; i < 1102; i++) {
        bool tcp = i == 0 || i == 1101;
        size_t off = i == 1101 ? 24 : 0, len = i == 1101 ? 12 : 24;
        memset(p, 0, 20);
        p[0] = 0x45;
        p[3] = (uint8_t)(20 + len);
        p[4] = tcp ? 0x12 : (uint8_t)(i >> 8), p[5] = tcp ? 0x34 : (uint8_t)i;
        unsigned fo = (unsigned)(off / 8) | (i == 1101 ? 0 : 0x2000);
        p[6] = (uint8_t)(fo >> 8), p[7] = (uint8_t)fo;
        p[8] = 64, p[9] = tcp ? 6 : 17;
        uint8_t c[4] = {10, 0, 0, 1}, s[4] = {10, 0, 0, 2};
        memcpy(p + 12, c, 4);
        memcpy(p + 16, s, 4);
        memcpy(p + 20, whole + off, len);
        tick(10);
        reasm_packet(NULL, p, 20 + len, &now);
    }
    S(40030, 5015, 1017, OK);
    finish();
    expect_log("x1 EHLO/250\n");
}

/* Hash flooding the fragment store: 1,000 first fragments from IPv6 sources that differ only in
 * the top bits of address bytes 11 and 15 (a fixed multiply chain leaves those out of the
 * bucket bits) must not share a chain. */
Test(reasm, fragment_keys_spread_over_buckets)
{
    start(64, 0);
    uint8_t s[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 2}, tcp[24] = {0};
    for (unsigned i = 0; i < 1000; i++) {
        uint8_t c[16] = {0x20, 0x01, 0x0d, 0xb8, [11] = (uint8_t)((i >> 6) << 4), [15] = (uint8_t)((i & 63) << 2)};
        send6_frag(tcp, 0, 16, true, c, s);
    }
    struct reasm_stats st;
    reasm_get_stats(&st);
    cr_expect_lt(st.frag_chain_peak, 16, "a hash chain of %llu datagrams", (unsigned long long)st.frag_chain_peak);
    finish();
}

/* A session whose QUIT (6 bytes at 1017) is lost; the server answers it and both sides close,
 * the server acknowledging the QUIT and the client's FIN behind it. */
static void lost_quit_then_close(uint16_t port)
{
    handshake(port);
    S(port, 5001, 1001, GREET);
    C(port, 1001, 5015, EHLO);
    S(port, 5015, 1017, OK);
    /* "QUIT\r\n" at 1017 never captured */
    S(port, 5023, 1023, "221 bye\r\n");
    send4(false, port, 5032, 1023, FIN | ACK, NULL, 0, 5);
    send4(true, port, 1023, 5033, FIN | ACK, NULL, 0, 5);
    send4(false, port, 5033, 1024, ACK, NULL, 0, 5);
}

/* The client's QUIT is lost and the server acknowledges it and the client's FIN behind it: the
 * gap is the 6 bytes of the QUIT, not 7 (the FIN takes a sequence number, no byte), and the FIN
 * still counts, so the session ends as a close. */
Test(reasm, acked_hole_before_a_fin_stops_at_the_fin)
{
    start(64, 0);
    lost_quit_then_close(40031);
    tick(1500000);
    send4(false, 40031, 5033, 1024, ACK, NULL, 0, 5); /* a duplicate ACK after the wait */
    expect_log("n1 capture-gap: 6 client bytes missing from the capture");
    expect_log("end1 close c=16 s=31");
    finish();
    struct reasm_stats st;
    reasm_get_stats(&st);
    cr_expect_eq(st.gap_bytes, 6);
}

/* The client's QUIT is lost; the server answers it and both close at once, so no packet of the
 * stream comes after the acknowledged-hole wait. The hole is still skipped when the wait is over
 * (capture time moved on by other streams), and the session ends as a close then, not at the
 * idle timeout or the end of input. */
Test(reasm, acked_hole_at_the_close_is_skipped_without_more_packets)
{
    start(64, 0);
    lost_quit_then_close(40033);
    for (int i = 0; i < 3; i++) {
        tick(1000000);
        send4(true, 40032, 7000, 0, SYN, NULL, 0, 5); /* another stream: capture time moves on */
    }
    expect_log("n1 capture-gap: 6 client bytes missing from the capture");
    expect_log("end1 close");
    finish();
}
