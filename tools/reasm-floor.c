/* reasm-floor.c - the own reassembly engine alone, as tools/nids-floor.c is libnids alone: reads a
 * capture through smtpsniff's capture stage (src/capture/) and the own engine (src/reasm/
 * reasm_tcp.c, ipfrag.c) and counts what the engine hands on; the SMTP core is replaced by the
 * counting functions below, so nothing is parsed or printed per stream. Used by tools/bench.
 *
 *     gcc -O2 -Iinclude -Isrc -o reasm-floor tools/reasm-floor.c src/capture/capture.c \
 *         src/lib/strbuf.c src/lib/xalloc.c src/reasm/reasm_tcp.c src/reasm/ipfrag.c -lpcap
 *     ./reasm-floor FILE.pcap          # prints streams, bytes and gaps on stderr
 */
#include <stdio.h>
#include <stdlib.h>

#include "capture/capture.h"
#include "reasm/reasm_internal.h"
#include "smtp/smtp_core.h"

static unsigned long long n_streams, n_ended, n_bytes[2], n_gaps, n_gap_bytes, n_notices;

struct smtp_session {
    int unused;
};

static struct smtp_session one;

struct smtp_session *smtp_session_new(uint64_t id, const struct smtp_endpoint *client,
                                      const struct smtp_endpoint *server, const struct timeval *ts,
                                      const struct smtp_sink *sink, unsigned flags)
{
    (void)id, (void)client, (void)server, (void)ts, (void)sink, (void)flags;
    n_streams++;
    return &one;
}

void smtp_session_data(struct smtp_session *s, enum smtp_dir dir, const uint8_t *p, size_t n,
                       const struct timeval *ts)
{
    (void)s, (void)p, (void)ts;
    n_bytes[dir] += n;
}

void smtp_session_gap(struct smtp_session *s, enum smtp_dir dir, size_t n, const struct timeval *ts)
{
    (void)s, (void)dir, (void)ts;
    n_gaps++;
    n_gap_bytes += n;
}

void smtp_session_notice(struct smtp_session *s, enum smtp_notice_id id, enum smtp_dir dir,
                         const struct timeval *ts, const char *detail)
{
    (void)s, (void)id, (void)dir, (void)ts, (void)detail;
    n_notices++;
}

void smtp_session_end(struct smtp_session *s, enum smtp_end_reason why, const struct timeval *ts)
{
    (void)s, (void)why, (void)ts;
    n_ended++;
}

void smtp_session_free(struct smtp_session *s)
{
    (void)s;
}

static void on_packet(void *ctx, const uint8_t *ip, size_t len, const struct timeval *ts)
{
    (void)ctx;
    reasm_tcp_packet(ip, len, ts);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s FILE.pcap\n", argv[0]);
        return 2;
    }
    static const char *files[1];
    files[0] = argv[1];
    static struct capture_opts co;
    co.files = files;
    co.nfiles = 1;
    capture_parse_ports(&co, "25,465,587");
    char err[512];
    struct capture *c = capture_open(&co, err, sizeof(err));
    struct reasm_opts ro = {.ports = co.ports, .nports = co.nports, .max_streams = 16384, .idle_timeout = 600};
    if (c == NULL || reasm_tcp_init(&ro, err, sizeof(err)) != 0) {
        fprintf(stderr, "reasm-floor: %s\n", err);
        return 1;
    }
    int rc = capture_run(c, on_packet, NULL, NULL, err, sizeof(err));
    reasm_tcp_finish();
    capture_close(c);
    fprintf(stderr, "reasm-floor: %llu streams, %llu ended, %llu bytes client->server, %llu bytes "
                    "server->client, %llu gaps (%llu bytes), %llu notices\n",
            n_streams, n_ended, n_bytes[0], n_bytes[1], n_gaps, n_gap_bytes, n_notices);
    return rc != 0;
}
