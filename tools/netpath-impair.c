/* netpath-impair: a lossy, delaying, reordering link for test captures (this kernel has no sch_netem).
 *
 *   netpath-impair [-q QUEUE] [-l LOSS%] [-d DELAY_MS] [-r REORDER%] [-x EXTRA_MS] [-s SEED]
 *
 * Reads the packets an iptables NFQUEUE rule hands it (run it inside a network namespace of its own,
 * e.g. the router namespace of tools/make-sensor-pcaps, with `-j NFQUEUE --queue-num QUEUE` on FORWARD).
 * Each packet is held DELAY_MS and then accepted; REORDER% of them are held EXTRA_MS more, so packets
 * queued after them overtake them; LOSS% of the TCP segments that carry payload are dropped (handshake
 * and bare ACKs are never dropped, so the run does not wait on SYN timeouts). Random choices come from a
 * seeded xorshift generator. On SIGINT/SIGTERM it prints what it did on stderr and exits.
 * Built by tools/make-sensor-pcaps: cc -O2 -o BIN netpath-impair.c -lnetfilter_queue
 */
#include <arpa/inet.h>
#include <errno.h>
#include <libnetfilter_queue/libnetfilter_queue.h>
#include <linux/netfilter.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_HELD 16384

struct held {
    uint32_t id;
    uint64_t due_us;
};

static struct held g_held[MAX_HELD];
static size_t g_nheld;
static uint64_t g_rng = 0x9e3779b97f4a7c15ULL;
static double g_loss = 3.0, g_reorder = 10.0;
static uint64_t g_delay_us = 5000, g_extra_us = 10000;
static unsigned long g_seen, g_dropped, g_reordered, g_overfull;
static volatile sig_atomic_t g_stop;

static uint64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static double rnd_percent(void)
{
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 7;
    g_rng ^= g_rng << 17;
    return (double)(g_rng >> 11) / (double)(1ULL << 53) * 100.0;
}

/* 1 if the IPv4/IPv6 packet is TCP with payload */
static int tcp_has_payload(const unsigned char *p, int len)
{
    if (len < 20)
        return 0;
    int ver = p[0] >> 4;
    int off, total;
    if (ver == 4) {
        if (p[9] != 6)
            return 0;
        off = (p[0] & 15) * 4;
        total = (p[2] << 8) | p[3];
    } else if (ver == 6 && len >= 40) {
        if (p[6] != 6)
            return 0;
        off = 40;
        total = 40 + ((p[4] << 8) | p[5]);
    } else {
        return 0;
    }
    if (len < off + 13)
        return 0;
    int doff = (p[off + 12] >> 4) * 4;
    return total > off + doff;
}

static int on_packet(struct nfq_q_handle *qh, struct nfgenmsg *msg, struct nfq_data *nfa, void *data)
{
    (void)msg;
    (void)data;
    struct nfqnl_msg_packet_hdr *ph = nfq_get_msg_packet_hdr(nfa);
    if (ph == NULL)
        return 0;
    uint32_t id = ntohl(ph->packet_id);
    unsigned char *payload = NULL;
    int len = nfq_get_payload(nfa, &payload);
    g_seen++;
    if (tcp_has_payload(payload, len) && rnd_percent() < g_loss) {
        g_dropped++;
        return nfq_set_verdict(qh, id, NF_DROP, 0, NULL);
    }
    if (g_nheld == MAX_HELD) {
        g_overfull++;
        return nfq_set_verdict(qh, id, NF_ACCEPT, 0, NULL);
    }
    uint64_t due = now_us() + g_delay_us;
    if (rnd_percent() < g_reorder) {
        due += g_extra_us;
        g_reordered++;
    }
    g_held[g_nheld].id = id;
    g_held[g_nheld].due_us = due;
    g_nheld++;
    return 0;
}

/* accepts every held packet that is due; returns the microseconds to the next due one (-1: none) */
static long release_due(struct nfq_q_handle *qh)
{
    uint64_t t = now_us();
    long next = -1;
    size_t keep = 0;
    for (size_t i = 0; i < g_nheld; i++) {
        if (g_held[i].due_us <= t) {
            nfq_set_verdict(qh, g_held[i].id, NF_ACCEPT, 0, NULL);
            continue;
        }
        long wait = (long)(g_held[i].due_us - t);
        if (next < 0 || wait < next)
            next = wait;
        g_held[keep++] = g_held[i];
    }
    g_nheld = keep;
    return next;
}

static void on_signal(int sig)
{
    (void)sig;
    g_stop = 1;
}

int main(int argc, char **argv)
{
    unsigned queue = 0;
    for (int i = 1; i + 1 < argc; i += 2) {
        const char *v = argv[i + 1];
        if (strcmp(argv[i], "-q") == 0)
            queue = (unsigned)strtoul(v, NULL, 10);
        else if (strcmp(argv[i], "-l") == 0)
            g_loss = strtod(v, NULL);
        else if (strcmp(argv[i], "-d") == 0)
            g_delay_us = strtoull(v, NULL, 10) * 1000u;
        else if (strcmp(argv[i], "-r") == 0)
            g_reorder = strtod(v, NULL);
        else if (strcmp(argv[i], "-x") == 0)
            g_extra_us = strtoull(v, NULL, 10) * 1000u;
        else if (strcmp(argv[i], "-s") == 0)
            g_rng = strtoull(v, NULL, 10) * 2654435761u + 1u;
        else {
            fprintf(stderr, "netpath-impair: unknown option %s\n", argv[i]);
            return 2;
        }
    }
    struct nfq_handle *h = nfq_open();
    if (h == NULL) {
        perror("netpath-impair: nfq_open");
        return 1;
    }
    struct nfq_q_handle *qh = nfq_create_queue(h, (uint16_t)queue, on_packet, NULL);
    if (qh == NULL) {
        perror("netpath-impair: nfq_create_queue");
        return 1;
    }
    /* 80 bytes: the IP and TCP headers are all this program looks at */
    if (nfq_set_mode(qh, NFQNL_COPY_PACKET, 80) < 0 || nfq_set_queue_maxlen(qh, MAX_HELD) < 0) {
        perror("netpath-impair: nfq_set_mode");
        return 1;
    }
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    int fd = nfq_fd(h);
    char buf[65536];
    fprintf(stderr, "netpath-impair: queue %u loss %.1f%% delay %llu ms reorder %.1f%% (+%llu ms)\n", queue,
            g_loss, (unsigned long long)(g_delay_us / 1000), g_reorder, (unsigned long long)(g_extra_us / 1000));
    while (!g_stop) {
        long next = release_due(qh);
        int timeout = next < 0 ? 200 : (int)((next + 999) / 1000);
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        int n = poll(&pfd, 1, timeout);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            perror("netpath-impair: poll");
            break;
        }
        if (n > 0) {
            ssize_t r = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
            if (r > 0)
                nfq_handle_packet(h, buf, (int)r);
            else if (r < 0 && errno == ENOBUFS)
                fprintf(stderr, "netpath-impair: ENOBUFS (the kernel queue overran)\n");
        }
    }
    for (size_t i = 0; i < g_nheld; i++)
        nfq_set_verdict(qh, g_held[i].id, NF_ACCEPT, 0, NULL);
    fprintf(stderr, "netpath-impair: %lu packets, %lu dropped, %lu reordered, %lu passed unheld (store full)\n",
            g_seen, g_dropped, g_reordered, g_overfull);
    nfq_destroy_queue(qh);
    nfq_close(h);
    return 0;
}
