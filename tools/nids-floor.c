/* nids-floor.c - the floor for any libnids-based SMTP tool: read a capture through libnids and
 * only reassemble. Collects both directions of TCP streams to ports 25/465/587 and counts their
 * bytes; nothing is parsed or printed per stream. Used by tools/bench as the reference row.
 *
 * Same libnids settings as smtpsniff (src/reasm_nids.c): checksums off, scan detector off,
 * n_tcp_streams from max_streams 16384 (16384 / 3 * 4 + 4 = 21848). With --verify-checksums,
 * libnids checks IP and TCP checksums as it does by default (and as mailsnarf does): what a bare
 * libnids program costs out of the box.
 *
 *     gcc -O2 -o nids-floor tools/nids-floor.c -lnids -lpcap
 *     ./nids-floor [--verify-checksums] FILE.pcap    # prints streams and bytes on stderr
 */
#include <nids.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned long long n_streams, n_closed, n_bytes_c2s, n_bytes_s2c, n_warnings;

static int is_smtp_port(unsigned short p)
{
    return p == 25 || p == 465 || p == 587;
}

static void on_tcp(struct tcp_stream *a, void **param)
{
    (void)param;
    switch (a->nids_state) {
    case NIDS_JUST_EST:
        if (!is_smtp_port(a->addr.dest))
            return;
        a->client.collect++;
        a->server.collect++;
        n_streams++;
        return;
    case NIDS_DATA:
        /* server half = bytes the client sent; client half = bytes the server sent */
        if (a->server.count_new > 0)
            n_bytes_c2s += (unsigned long long)a->server.count_new;
        if (a->client.count_new > 0)
            n_bytes_s2c += (unsigned long long)a->client.count_new;
        return;
    default: /* NIDS_CLOSE, NIDS_RESET, NIDS_TIMED_OUT, NIDS_EXITING */
        n_closed++;
        return;
    }
}

static void on_warning(int type, int err, struct ip *iph, void *data)
{
    (void)type;
    (void)err;
    (void)iph;
    (void)data;
    n_warnings++; /* counted, not sent to syslog (as smtpsniff does) */
}

int main(int argc, char **argv)
{
    int verify = argc == 3 && strcmp(argv[1], "--verify-checksums") == 0;
    if (argc != 2 + verify) {
        fprintf(stderr, "usage: %s [--verify-checksums] FILE.pcap\n", argv[0]);
        return 2;
    }
    static struct nids_chksum_ctl nocheck[1] = {{0, 0, NIDS_DONT_CHKSUM, 0}};
    nids_params.filename = argv[1 + verify];
    nids_params.device = NULL;
    nids_params.n_tcp_streams = 16384 / 3 * 4 + 4;
    nids_params.scan_num_hosts = 0;
    nids_params.syslog = (__typeof__(nids_params.syslog))(void *)on_warning;
    nids_params.pcap_filter = NULL;
    nids_params.multiproc = 0;
    if (!nids_init()) {
        fprintf(stderr, "nids-floor: %s\n", nids_errbuf);
        return 1;
    }
    if (!verify)
        nids_register_chksum_ctl(nocheck, 1);
    nids_register_tcp((void *)on_tcp);
    nids_run();
    nids_exit();
    fprintf(stderr, "nids-floor: %llu streams, %llu ended, %llu bytes client->server, %llu bytes "
                    "server->client, %llu warnings\n",
            n_streams, n_closed, n_bytes_c2s, n_bytes_s2c, n_warnings);
    return 0;
}
