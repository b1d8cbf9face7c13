#!/usr/bin/env python3
"""bench-mkcapture.py - builds a large benchmark capture from the real SMTP captures in pcaps/.

Every TCP session of the real (not re-encapsulated, not adversarial) captures becomes a template.
The output repeats templates, chosen at random (seeded) from a fixed mix that is mostly small
sessions, each copy with a new client IPv4 address (10.x.y.z) and client port, and a new server
address (192.168.25.25; the port stays 25/465/587 as captured). A new session starts every
~gap seconds (exponential inter-arrival times, a Poisson process) and each copy keeps its own
internal pacing (optionally stretched with --stretch), so many sessions overlap. The gap is
chosen from --concurrency: by Little's law, mean concurrency = arrival rate x mean duration.

IP and TCP checksums are valid (the templates' loopback checksums are unfinished: they are
computed once per template packet, then each copy is patched with an incremental update).
Output: classic pcap, microsecond timestamps, link type EN10MB. Deterministic for a given
seed and options. The addresses are only written into a file: nothing is sent anywhere.

    tools/bench-mkcapture.py --size 1G -o build-bench/bench-1G.pcap
    tools/bench-mkcapture.py --size 250M --concurrency 3000 -o big.pcap --stats big.json
    tools/bench-mkcapture.py --size 1G --late-pct 3 --late-max 400 --dup-pct 1 -o lossy.pcap
    tools/bench-mkcapture.py --hostile -o hostile.pcap

--late-pct/--dup-pct make the lossy variant of the same capture: that share of the data packets is
written up to --late-max packets later (with the capture time of the packet it follows), and that
share a second time, as late; every byte is still there, so a correct reader reports the same.
--hostile writes streams no reader can complete instead: one stream of a million one-byte
segments each behind a hole, and 2,000 streams with a hole that never fills and 64 KB behind it
(128 MB held if nothing bounded it).

Python standard library only.
"""
import argparse
import calendar
import heapq
import json
import math
import os
import random
import struct
import sys
import time

# Real captures only (see pcaps/README.md). postfix-ipv6 is left out: libnids (and so the bare
# reassembly floor and mailsnarf) is IPv4-only. Weight = relative frequency of each session of
# that file. postfix-large (one 2.1 MB message) gives the volume; it is 1 session in ~400.
TEMPLATES = [
    ("postfix-basic.pcap", 8.0),
    ("postfix-pipelining.pcap", 6.0),
    ("postfix-multi.pcap", 3.0),
    ("postfix-bdat.pcap", 1.0),
    ("postfix-auth.pcap", 2.0),          # 3 sessions: AUTH PLAIN ok, LOGIN wrong password, cancel
    ("postfix-banner-scan.pcap", 2.0),   # 2 sessions without mail
    ("postfix-rejects.pcap", 1.5),       # 2 sessions: VRFY/EXPN probing, rejects
    ("postfix-starttls.pcap", 4.0),
    ("postfix-implicit-tls.pcap", 2.0),
    ("opensmtpd-basic.pcap", 3.0),       # 2 sessions
]
LARGE = ("postfix-large.pcap", None)     # weight set from --large-every
SERVER_IP = bytes([192, 168, 25, 25])
SMTP_PORTS = (25, 465, 587)
BASE_TIME = calendar.timegm((2026, 11, 23, 0, 0, 0))


def parse_size(s):
    s = s.strip().upper()
    mult = 1
    for suf, m in (("K", 1 << 10), ("M", 1 << 20), ("G", 1 << 30)):
        if s.endswith(suf) or s.endswith(suf + "B"):
            mult = m
            s = s[: s.index(suf)]
            break
    return int(float(s) * mult)


def csum_add(data):
    """One's-complement sum (not inverted, folded to 16 bits) of data."""
    if len(data) & 1:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return s


def fold(s):
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return s


def read_pcap(path):
    with open(path, "rb") as f:
        d = f.read()
    magic = struct.unpack("<I", d[:4])[0]
    if magic == 0xA1B2C3D4:
        e, nsdiv = "<", 1
    elif magic == 0xD4C3B2A1:
        e, nsdiv = ">", 1
    elif magic == 0xA1B23C4D:
        e, nsdiv = "<", 1000
    elif magic == 0x4D3CB2A1:
        e, nsdiv = ">", 1000
    else:
        raise ValueError("%s: not a classic pcap" % path)
    linktype = struct.unpack(e + "I", d[20:24])[0]
    off, out = 24, []
    while off + 16 <= len(d):
        sec, frac, caplen, wirelen = struct.unpack(e + "IIII", d[off : off + 16])
        pkt = d[off + 16 : off + 16 + caplen]
        off += 16 + caplen
        if len(pkt) < caplen or caplen != wirelen:
            continue  # cut packet: not a usable template
        out.append((sec * 1000000 + frac // nsdiv, pkt))
    return linktype, out


class Template:
    """One TCP session: packets with the client address/port zeroed, server address set, and
    valid checksums for that; offsets in microseconds from the first packet."""

    __slots__ = ("name", "pkts", "duration", "nbytes", "npkts", "server_port")

    def __init__(self, name):
        self.name = name
        self.pkts = []  # (t_us, c2s, bytearray frame, ip_sum, tcp_sum, tcp_off)


def load_templates(pcapdir):
    out = []
    for fname, weight in TEMPLATES + [LARGE]:
        linktype, pkts = read_pcap(os.path.join(pcapdir, fname))
        if linktype != 1:
            raise ValueError("%s: link type %d, expected EN10MB" % (fname, linktype))
        flows = {}
        for ts, pkt in pkts:
            if len(pkt) < 14 + 20 or pkt[12:14] != b"\x08\x00":
                continue  # IPv4 only
            ip = pkt[14:]
            ihl = (ip[0] & 15) * 4
            if ip[9] != 6 or (struct.unpack("!H", ip[6:8])[0] & 0x3FFF):
                continue  # TCP, unfragmented
            sport, dport = struct.unpack("!HH", ip[ihl : ihl + 4])
            if dport in SMTP_PORTS:
                key, c2s = (ip[12:16], sport, ip[16:20], dport), True
            elif sport in SMTP_PORTS:
                key, c2s = (ip[16:20], dport, ip[12:16], sport), False
            else:
                continue
            flows.setdefault(key, []).append((ts, c2s, pkt))
        sessions = []
        for key, fp in flows.items():
            t = Template("%s:%d" % (fname, key[1]))
            t0 = fp[0][0]
            t.server_port = key[3]
            for ts, c2s, pkt in fp:
                fr = bytearray(pkt)
                ihl = (fr[14] & 15) * 4
                tot = struct.unpack("!H", fr[16:18])[0]
                fr = fr[: 14 + tot]  # no Ethernet padding
                tcp = 14 + ihl
                cli_ip, srv_ip = (26, 30) if c2s else (30, 26)
                cli_port = tcp if c2s else tcp + 2
                fr[cli_ip : cli_ip + 4] = b"\0\0\0\0"
                fr[srv_ip : srv_ip + 4] = SERVER_IP
                fr[cli_port : cli_port + 2] = b"\0\0"
                # IP header checksum
                fr[24:26] = b"\0\0"
                ip_sum = csum_add(bytes(fr[14:tcp]))
                struct.pack_into("!H", fr, 24, ~ip_sum & 0xFFFF)
                # TCP checksum over the pseudo-header + segment
                seg = bytes(fr[tcp : 14 + tot])
                seg = seg[:16] + b"\0\0" + seg[18:]
                pseudo = bytes(fr[26:34]) + struct.pack("!BBH", 0, 6, len(seg))
                tcp_sum = fold(csum_add(pseudo) + csum_add(seg))
                struct.pack_into("!H", fr, tcp + 16, ~tcp_sum & 0xFFFF)
                t.pkts.append((ts - t0, c2s, fr, ip_sum, tcp_sum, tcp))
            t.duration = t.pkts[-1][0]
            t.npkts = len(t.pkts)
            t.nbytes = sum(16 + len(p[2]) for p in t.pkts)
            sessions.append(t)
        sessions.sort(key=lambda t: t.name)
        for t in sessions:
            out.append((t, weight))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-o", "--output", required=True, help="pcap to write ('-' = stdout)")
    ap.add_argument("--size", default="1G", help="approximate file size, e.g. 200M, 1G (default 1G)")
    ap.add_argument("--sessions", type=int, default=0, help="number of sessions instead of --size")
    ap.add_argument("--concurrency", type=float, default=300.0,
                    help="mean number of sessions open at once (default 300)")
    ap.add_argument("--stretch", type=float, default=1.0,
                    help="multiply each session's internal timing (default 1: as captured)")
    ap.add_argument("--large-every", type=float, default=400.0,
                    help="one postfix-large session (2.1 MB) per N sessions on average (default 400)")
    ap.add_argument("--seed", type=int, default=25, help="random seed (default 25)")
    ap.add_argument("--pcaps", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pcaps"))
    ap.add_argument("--stats", help="write what was generated (JSON) to this file")
    ap.add_argument("--late-pct", type=float, default=0.0, help="percent of data packets written late")
    ap.add_argument("--late-max", type=int, default=400, help="at most this many packets late (default 400)")
    ap.add_argument("--dup-pct", type=float, default=0.0, help="percent of data packets written twice")
    ap.add_argument("--hostile", action="store_true", help="write the hostile streams instead (see above)")
    ap.add_argument("-v", "--verbose", action="store_true")
    a = ap.parse_args()
    if a.hostile:
        return hostile(a)
    if a.concurrency <= 0 or a.stretch <= 0:
        ap.error("--concurrency and --stretch must be > 0")

    t_start = time.time()
    templ = load_templates(a.pcaps)
    small_w = sum(w for t, w in templ if w is not None)
    large_w = small_w / max(a.large_every - 1, 1e-9)
    weights = [w if w is not None else large_w for t, w in templ]
    tlist = [t for t, w in templ]
    tot_w = sum(weights)
    mean_dur = sum(t.duration * w for t, w in zip(tlist, weights)) / tot_w * a.stretch  # us
    mean_bytes = sum(t.nbytes * w for t, w in zip(tlist, weights)) / tot_w
    gap_us = mean_dur / a.concurrency
    if a.verbose:
        for t, w in zip(tlist, weights):
            print("template %-34s w=%6.3f pkts=%3d bytes=%8d dur=%7.1f ms"
                  % (t.name, w, t.npkts, t.nbytes, t.duration / 1000), file=sys.stderr)
        print("mean session %.0f bytes, %.2f ms; start gap %.1f us" % (mean_bytes, mean_dur / 1000, gap_us),
              file=sys.stderr)

    # Plan: sessions (start, template, client address, client port), in start order.
    rng = random.Random(a.seed)
    target = parse_size(a.size) if not a.sessions else None
    cum, acc = [], 0.0
    for w in weights:
        acc += w
        cum.append(acc)
    import bisect

    plan = []
    planned = 24
    t_us = 0.0
    addr_seq = rng.sample(range(1, 1 << 24), 1)[0]  # first client address, then a stride
    stride = 0x9E3779 | 1  # odd: visits every /8 address before repeating
    while True:
        if a.sessions and len(plan) >= a.sessions:
            break
        if target is not None and planned >= target:
            break
        ti = bisect.bisect_right(cum, rng.random() * tot_w)
        if ti >= len(tlist):
            ti = len(tlist) - 1
        addr_seq = (addr_seq + stride) & 0xFFFFFF
        if addr_seq in (0, 0xFFFFFF):
            addr_seq = (addr_seq + stride) & 0xFFFFFF
        cport = rng.randrange(1024, 65536)
        plan.append((int(t_us), ti, addr_seq, cport))
        planned += tlist[ti].nbytes
        t_us += rng.expovariate(1.0 / gap_us) if gap_us > 0 else 0.0

    # Per-template precomputation: stretched offsets.
    offs = [[int(p[0] * a.stretch) for p in t.pkts] for t in tlist]

    out = sys.stdout.buffer if a.output == "-" else open(a.output, "wb", buffering=1 << 22)
    out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
    pack_rec = struct.Struct("<IIII").pack
    pack_into_h = struct.Struct("!H").pack_into
    heap = []
    push, pop = heapq.heappush, heapq.heappop
    lossy = a.late_pct > 0 or a.dup_pct > 0
    lrng = random.Random(a.seed * 7919 + 1)
    pending = []  # (release at output packet number, order, frame): late and duplicated packets
    n_late = n_dup = 0
    nplan = len(plan)
    nxt = 0
    npk = 0
    nbytes = 24
    open_now = 0
    max_open = 0
    sum_open = 0  # sampled at every session start
    base_us = BASE_TIME * 1000000
    # Per session state: (client ip bytes, client port bytes, ip delta, tcp delta)
    sess_state = [None] * nplan
    chunks = []
    chunk_bytes = 0
    while nxt < nplan or heap:
        if nxt < nplan and (not heap or plan[nxt][0] <= heap[0][0]):
            st, ti, aseq, cport = plan[nxt]
            ip4 = bytes((10, aseq >> 16, (aseq >> 8) & 255, aseq & 255))
            d_ip = fold((10 << 8 | (aseq >> 16)) + (aseq & 0xFFFF))
            d_tcp = fold(d_ip + cport)
            sess_state[nxt] = (ip4, struct.pack("!H", cport), d_ip, d_tcp)
            push(heap, (st + offs[ti][0], nxt, 0))
            sum_open += open_now
            open_now += 1
            if open_now > max_open:
                max_open = open_now
            nxt += 1
            continue
        t_pk, si, pi = pop(heap)
        st, ti, aseq, cport = plan[si]
        tp = tlist[ti]
        _, c2s, fr, ip_sum, tcp_sum, tcp = tp.pkts[pi]
        ip4, port2, d_ip, d_tcp = sess_state[si]
        b = bytearray(fr)
        if c2s:
            b[26:30] = ip4
            b[tcp : tcp + 2] = port2
        else:
            b[30:34] = ip4
            b[tcp + 2 : tcp + 4] = port2
        s = ip_sum + d_ip
        s = (s & 0xFFFF) + (s >> 16)
        pack_into_h(b, 24, ~((s & 0xFFFF) + (s >> 16)) & 0xFFFF)
        s = tcp_sum + d_tcp
        s = (s & 0xFFFF) + (s >> 16)
        pack_into_h(b, tcp + 16, ~((s & 0xFFFF) + (s >> 16)) & 0xFFFF)
        ts = base_us + t_pk
        n = len(b)
        ihl = (b[14] & 15) * 4
        data = lossy and (b[16] << 8 | b[17]) - ihl - (b[14 + ihl + 12] >> 4) * 4 > 0
        if data and lrng.random() * 100 < a.dup_pct:
            push(pending, (npk + lrng.randint(1, a.late_max), npk, bytes(b)))
            n_dup += 1
        if data and lrng.random() * 100 < a.late_pct:
            push(pending, (npk + lrng.randint(1, a.late_max), npk, bytes(b)))
            n_late += 1
        else:
            chunks.append(pack_rec(ts // 1000000, ts % 1000000, n, n))
            chunks.append(b)
            chunk_bytes += n + 16
            npk += 1
        while pending and (pending[0][0] <= npk or (nxt >= nplan and not heap and pi + 1 >= tp.npkts)):
            _, _, fb = pop(pending)  # written with the capture time of the packet it follows
            chunks.append(pack_rec(ts // 1000000, ts % 1000000, len(fb), len(fb)))
            chunks.append(fb)
            chunk_bytes += len(fb) + 16
            npk += 1
        if pi + 1 < tp.npkts:
            push(heap, (st + offs[ti][pi + 1], si, pi + 1))
        else:
            open_now -= 1
            sess_state[si] = None
        if chunk_bytes >= 1 << 22:
            out.write(b"".join(chunks))
            nbytes += chunk_bytes
            chunks = []
            chunk_bytes = 0
    out.write(b"".join(chunks))
    nbytes += chunk_bytes
    if out is not sys.stdout.buffer:
        out.close()

    per_t = {}
    for st, ti, _, _ in plan:
        per_t[tlist[ti].name] = per_t.get(tlist[ti].name, 0) + 1
    span_us = (plan[-1][0] + offs[plan[-1][1]][-1]) if plan else 0
    stats = {
        "file": a.output,
        "bytes": nbytes,
        "packets": npk,
        "sessions": nplan,
        "sessions_by_template": per_t,
        "seed": a.seed,
        "concurrency_target": a.concurrency,
        "concurrency_mean_at_start": round(sum_open / nplan, 1) if nplan else 0,
        "concurrency_max": max_open,
        "stretch": a.stretch,
        "large_every": a.large_every,
        "start_gap_us": round(gap_us, 2),
        "capture_span_s": round(span_us / 1e6, 3),
        "generation_s": round(time.time() - t_start, 1),
        "late_pct": a.late_pct, "late_max": a.late_max, "dup_pct": a.dup_pct,
        "late_packets": n_late, "duplicated_packets": n_dup,
    }
    if a.stats:
        with open(a.stats, "w") as f:
            json.dump(stats, f, indent=1)
            f.write("\n")
    print("bench-mkcapture: %s: %.1f MB, %d packets, %d sessions, concurrency mean %.0f max %d, %.1f s"
          % (a.output, nbytes / 1e6, npk, nplan, stats["concurrency_mean_at_start"], max_open,
             stats["generation_s"]), file=sys.stderr)


def hostile(a):
    """Streams no reader can complete (see the module docstring), to bound memory against."""
    out = open(a.output, "wb", buffering=1 << 22)
    out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
    t = [BASE_TIME * 1000000]
    n = [0]

    def pkt(cip, cport, c2s, seq, ack, flags, payload=b""):
        src, dst = (cip, SERVER_IP) if c2s else (SERVER_IP, cip)
        sp, dp = (cport, 25) if c2s else (25, cport)
        tcp = struct.pack("!HHIIBBHHH", sp, dp, seq & 0xFFFFFFFF, ack, 5 << 4, flags, 65535, 0, 0) + payload
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 0, 0x4000, 64, 6, 0, src, dst)
        fr = b"\x00" * 12 + b"\x08\x00" + ip + tcp
        t[0] += 1
        out.write(struct.pack("<IIII", t[0] // 1000000, t[0] % 1000000, len(fr), len(fr)) + fr)
        n[0] += 1

    def handshake(cip, cport):
        pkt(cip, cport, True, 1000, 0, 0x02)
        pkt(cip, cport, False, 5000, 1001, 0x12)
        pkt(cip, cport, True, 1001, 5001, 0x10)

    cip = bytes([10, 66, 0, 1])
    handshake(cip, 40000)
    for i in range(1000000):  # byte 1001 never comes; every other byte after it is missing too
        pkt(cip, 40000, True, 1002 + 2 * i, 5001, 0x18, b"x")
    block = b"y" * 1000
    for s_ in range(2000):
        cip = bytes([10, 67, s_ >> 8, s_ & 255])
        handshake(cip, 41000)
        for k in range(64):  # bytes 1001..2000 never come
            pkt(cip, 41000, True, 2001 + 1000 * k, 5001, 0x18, block)
    out.close()
    print("bench-mkcapture: %s: %d packets of hostile streams" % (a.output, n[0]), file=sys.stderr)


if __name__ == "__main__":
    main()
