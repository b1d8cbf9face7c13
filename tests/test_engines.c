/* test_engines.c - the differential test: smtpsniff with its own engine and with libnids
 * (--engine libnids, the reference) must write identical JSON for every clean IPv4 capture in
 * pcaps/. The captures left out, and why, are listed below; each has a golden of its own under
 * the default engine (tests/golden/MANIFEST), and pcaps/README.md says what libnids does there. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "testutil.h"

/* Not clean IPv4 captures, or ones that exercise what libnids gets wrong. */
static const char *const excluded[][2] = {
    {"postfix-ipv6.pcap", "IPv6: libnids is IPv4 only and shows nothing"},
    {"postfix-ipv6-vlan.pcap", "IPv6"},
    {"postfix-ipv6-sll2.pcap", "IPv6"},
    {"adv-gap.pcap", "a segment the server acknowledged is missing: libnids stalls the client direction for "
                     "good, the own engine skips exactly those 29 bytes and pairs the rest"},
    {"adv-tcp-bad-offset.pcap", "a segment with TCP data offset 4: libnids hands its header bytes on as stream "
                                "data ahead of the real greeting, which it then ignores as a retransmission"},
    {"adv-frag-overlap.pcap", "overlapping IPv4 fragments: libnids reassembles the decoy MAIL FROM, a Linux server "
                              "discards the datagram and reads the retransmission"},
    {"adv-retrans-conflict.pcap", "retransmissions with other bytes: both engines keep the first bytes, only the own "
                                  "engine raises overlap-conflict"},
    {"extract-hole.pcap", "a client segment removed: libnids stalls at the hole (a false smuggling-end-of-data, "
                          "replies without command), the own engine skips the hole exactly (server ACKs past it)"},
    {"sensor-midsession-data.pcap", "the capture starts mid-session: libnids reports nothing"},
    {"sensor-midsession-reply.pcap", "the capture starts mid-session: libnids reports nothing"},
    {"sensor-midsession-pause.pcap", "the capture starts mid-session: libnids reports nothing"},
    {"sensor-oneway-c2s.pcap", "one direction captured: libnids reports nothing"},
    {"sensor-oneway-s2c.pcap", "one direction captured: libnids reports nothing"},
    {"sensor-ack-before-synack.pcap", "the client's ACK captured before the SYN-ACK: libnids never establishes it"},
    {"sensor-frag-ipv6.pcap", "IPv6 fragments: libnids is IPv4 only"},
    {"sensor-frag-ipv4.pcap", "last fragments under 8 bytes, which libnids would over-read: dropped for it, so it "
                              "stalls"},
    {"sensor-frag-overlap.pcap", "a fragment inside one held, with other bytes: both keep the first bytes, only the "
                                 "own engine raises overlap-conflict for the retransmission"},
    {"sensor-lossy-client-side.pcap", "a lossy link: libnids discards its 64 KB out-of-order queue and stalls"},
    {"sensor-lossy-server-side.pcap", "a lossy link: libnids discards its 64 KB out-of-order queue and stalls"},
    {"sensor-lost-4m.pcap", "segments removed: libnids stalls at the first hole"},
    {"sensor-port-reuse-stale.pcap", "a tuple reused within libnids' 3600 s flow timeout: libnids ignores the new "
                                     "connection"},
    {"sensor-reply-first.pcap", "server segments captured before the client segments they acknowledge: libnids "
                                "pairs replies with the wrong commands"},
    {"adv-discards.pcap", "one of each packet libnids discards (its queue overflow at 64 KB, a source route, "
                          "240/4 addresses); the own engine skips the hole exactly and follows the rest"},
    {"postfix-basic-snap60.pcap", "every frame cut at 60 bytes: libnids cannot use a cut packet and shows nothing"},
    {"postfix-basic-split-2.pcap", "alone it starts mid-session: libnids never reports a stream without "
                                   "its handshake, the own engine picks it up (midstream)"},
};

struct capture_case {
    char name[128];
};

static bool is_excluded(const char *name)
{
    for (size_t i = 0; i < sizeof(excluded) / sizeof(excluded[0]); i++)
        if (strcmp(excluded[i][0], name) == 0)
            return true;
    return false;
}

ParameterizedTestParameters(engines, same_json)
{
    static struct capture_case rows[256];
    size_t n = 0;
    DIR *d = opendir(SRCDIR "/pcaps");
    cr_assert_not_null(d);
    struct dirent *e;
    while ((e = readdir(d)) != NULL && n < 256) {
        size_t len = strlen(e->d_name);
        if ((len > 5 && strcmp(e->d_name + len - 5, ".pcap") == 0) || (len > 7 && strcmp(e->d_name + len - 7, ".pcapng") == 0))
            if (!is_excluded(e->d_name) && len < sizeof(rows[0].name))
                memcpy(rows[n++].name, e->d_name, len + 1);
    }
    closedir(d);
    struct capture_case *copy = cr_malloc(n * sizeof(*copy));
    memcpy(copy, rows, n * sizeof(*copy));
    return cr_make_param_array(struct capture_case, copy, n);
}

static char *run(const char *engine, const char *name, size_t *len, int *status)
{
    char cmd[1024];
    snprintf(cmd, sizeof(cmd), "cd '%s' && TZ=UTC '%s' --json --engine %s -r 'pcaps/%s' 2>/dev/null", SRCDIR,
             SMTPSNIFF_BIN, engine, name);
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p);
    char *out = tu_read_stream(p, len);
    *status = pclose(p);
    return out;
}

ParameterizedTest(struct capture_case *c, engines, same_json, .timeout = 60)
{
    size_t own_len, nids_len;
    int own_st, nids_st;
    char *own = run("own", c->name, &own_len, &own_st);
    char *nids = run("libnids", c->name, &nids_len, &nids_st);
    cr_expect_eq(own_st, nids_st, "%s: exit status %d (own) vs %d (libnids)", c->name, own_st, nids_st);
    size_t i = 0;
    while (i < own_len && i < nids_len && own[i] == nids[i])
        i++;
    cr_expect(own_len == nids_len && i == own_len, "%s: the engines differ from byte %zu (%zu vs %zu bytes)",
              c->name, i, own_len, nids_len);
    free(own);
    free(nids);
}

/* The test must see the captures it is about: a pcaps/ listing that came back empty or small
 * would pass vacuously. */
Test(engines, covers_the_clean_captures)
{
    DIR *d = opendir(SRCDIR "/pcaps");
    cr_assert_not_null(d);
    unsigned n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        n += strstr(e->d_name, ".pcap") != NULL && !is_excluded(e->d_name);
    closedir(d);
    cr_expect_geq(n, 40, "only %u captures compared", n);
}
