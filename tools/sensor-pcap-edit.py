#!/usr/bin/python3
"""Post-processing of real captures for tools/make-sensor-pcaps (needs python3-scapy), and a checker.

    sensor-pcap-edit.py check FILE...          per stream and direction: bytes, holes, retransmitted
                                               bytes (own sequence-space count) and tshark's follow count
    sensor-pcap-edit.py before SMTPSNIFF FILE... what `SMTPSNIFF --json -r FILE` reports, in short: per session
                                               its end, bytes each way, exchanges, messages and notices
    sensor-pcap-edit.py cut-in-reply IN OUT    drop every packet before the EHLO reply's second segment
    sensor-pcap-edit.py reply-first IN OUT     move each server data segment ahead of the client data
                                               segment it acknowledges
    sensor-pcap-edit.py ack-first IN OUT       swap the SYN-ACK and the client's handshake ACK
    sensor-pcap-edit.py drop-close IN OUT      remove the first connection's packets from its first FIN on
    sensor-pcap-edit.py drop-segments IN OUT   remove four client data segments (three holes) of DATA content
    sensor-pcap-edit.py frag IN OUT            cut every TCP segment that carries payload into IP fragments
    sensor-pcap-edit.py overlap IN OUT         hand-built: MAIL FROM sent as IPv4 fragments that overlap
                                               with different bytes, then retransmitted whole

Every edit keeps the captured packets byte for byte except where it says otherwise, and prints what it
did (the numbers pcaps/README.md quotes). Timestamps stay in file order: a moved packet takes the
timestamp of the slot it moves into.
"""
import collections
import subprocess
import sys

from scapy.all import IP, IPv6, TCP, IPv6ExtHdrFragment, Ether, Raw, fragment, fragment6, rdpcap, wrpcap


def ip_of(p):
    if IP in p:
        return p[IP]
    if IPv6 in p:
        return p[IPv6]
    return None


def key(p):
    ip, t = ip_of(p), p[TCP]
    return (ip.src, t.sport, ip.dst, t.dport)


def payload_len(p):
    return len(bytes(p[TCP].payload))


def is_client(p):
    return p[TCP].dport == 25


def retime(pkts, times):
    """Gives the packets (in their new order) the timestamps of the original slots."""
    for p, t in zip(pkts, times):
        p.time = t
    return pkts


def write(out, pkts):
    wrpcap(out, pkts, linktype=1)
    print("%s: %d packets" % (out, len(pkts)))


# ------------------------------------------------------------------------------------------------------
def reassemble(pkts):
    """IPv4/IPv6 fragments -> whole datagrams (first-come bytes stand), each where its last piece was."""
    groups, out = {}, []
    for p in pkts:
        if IP in p and (p[IP].flags.MF or p[IP].frag):
            ip = p[IP]
            k, off, more, data = (4, ip.src, ip.dst, ip.id, ip.proto), ip.frag * 8, bool(ip.flags.MF), bytes(ip.payload)
        elif IPv6ExtHdrFragment in p:
            fh = p[IPv6ExtHdrFragment]
            k, off, more, data = (6, p[IPv6].src, p[IPv6].dst, fh.id, fh.nh), fh.offset * 8, bool(fh.m), bytes(fh.payload)
        else:
            out.append(p)
            continue
        g = groups.setdefault(k, {"buf": {}, "total": None})
        for i, b in enumerate(data):
            g["buf"].setdefault(off + i, b)
        if not more:
            g["total"] = off + len(data)
        if g["total"] is not None and all(i in g["buf"] for i in range(g["total"])):
            body = bytes(g["buf"][i] for i in range(g["total"]))
            whole = IP(src=k[1], dst=k[2], proto=k[4]) / Raw(body) if k[0] == 4 else \
                IPv6(src=k[1], dst=k[2], nh=k[4]) / Raw(body)
            whole = (IP if k[0] == 4 else IPv6)(bytes(whole))
            whole.time = p.time
            out.append(whole)
            del groups[k]
    return out


def check(path):
    pkts = [p for p in reassemble(rdpcap(path)) if TCP in p]
    streams = collections.OrderedDict()
    gen = collections.Counter()            # a new SYN on a 4-tuple starts a new connection
    for p in pkts:
        t = p[TCP]
        if t.flags & 0x02 and not t.flags & 0x10:
            gen[key(p)] += 1
        if t.flags & 0x02:
            rev = (key(p)[2], key(p)[3], key(p)[0], key(p)[1])
            k = key(p) + (gen[key(p)] if not t.flags & 0x10 else gen[rev],)
        else:
            k = key(p) + (max(gen[key(p)], gen[(key(p)[2], key(p)[3], key(p)[0], key(p)[1])]),)
        d = streams.setdefault(k, {"isn": None, "fin": None, "ranges": [], "bytes_seen": 0})
        if t.flags & 0x02:
            d["isn"] = t.seq
        if d["isn"] is None:
            d["isn"] = t.seq - 1           # no SYN captured: offsets from the first sequence number seen
        n = payload_len(p)
        rel = (t.seq - d["isn"] - 1) % (1 << 32)
        if n:
            d["ranges"].append((rel, rel + n))
            d["bytes_seen"] += n
        if t.flags & 0x01:
            d["fin"] = rel + n
    for k, d in streams.items():
        rs = sorted(d["ranges"])
        end, holes, covered = 0, [], 0
        for a, b in rs:
            if a > end:
                holes.append((end, a - end))
            if b > end:
                covered += b - max(a, end)
                end = b
        if d["fin"] is not None and d["fin"] > end:
            holes.append((end, d["fin"] - end))
        print("%s:%d -> %s:%d  %d bytes%s, %d holes%s, %d bytes seen twice or more" % (
            k[0], k[1], k[2], k[3], end, " to FIN" if d["fin"] is not None else " (no FIN)",
            len(holes), "" if not holes else " " + ", ".join("at %d: %d bytes" % h for h in holes),
            d["bytes_seen"] - covered))
    # tshark's view: bytes each node sent in each stream, as Follow TCP Stream reassembles them
    out = subprocess.run(["tshark", "-r", path, "-T", "fields", "-e", "tcp.stream"],
                         capture_output=True, text=True).stdout.split()
    for s in sorted(set(int(x) for x in out if x)):
        f = subprocess.run(["tshark", "-r", path, "-q", "-z", "follow,tcp,raw,%d" % s],
                           capture_output=True, text=True).stdout.splitlines()
        c2s = s2c = 0
        for ln in f:
            if not ln.strip() or ln.startswith(("=", "Follow", "Filter", "Node")):
                continue
            n = len(ln.strip()) // 2
            if ln.startswith("\t"):
                s2c += n
            else:
                c2s += n
        print("tshark follow stream %d: node 0 sent %d bytes, node 1 sent %d bytes" % (s, c2s, s2c))


def before(smtpsniff, path):
    import json
    r = subprocess.run([smtpsniff, "--json", "--no-progress", "-r", path], capture_output=True, text=True)
    sess = collections.OrderedDict()
    for ln in r.stdout.splitlines():
        o = json.loads(ln)
        s = sess.setdefault(o.get("session"), {"ex": 0, "msgs": [], "notices": [], "end": None})
        if o["type"] == "exchange":
            s["ex"] += 1
        elif o["type"] == "transaction":
            m = o.get("message") or {}
            s["msgs"].append("%s size=%s status=%s" % (o.get("mail_from"), m.get("size"), o.get("status")))
        elif o["type"] == "notice":
            s["notices"].append("%s(%s): %s" % (o["notice"], o["severity"], o.get("detail", "")[:90]))
        elif o["type"] == "session":
            s["end"] = "%s:%s end=%s bytes c=%s s=%s" % (o["client"]["ip"], o["client"]["port"], o.get("end_reason"),
                                                       o["bytes"]["client"], o["bytes"]["server"])
    print("exit %d, %d sessions%s" % (r.returncode, len(sess), "; stderr: " + r.stderr.strip()[:200] if r.stderr.strip() else ""))
    for k, s in sess.items():
        print("  session %s: %s, %d exchanges" % (k, s["end"], s["ex"]))
        for m in s["msgs"]:
            print("    message " + m)
        for n in collections.Counter(s["notices"]).items():
            print("    notice %s x%d" % n)


# ------------------------------------------------------------------------------------------------------
def cut_in_reply(src, out):
    pkts = rdpcap(src)
    ehlo = next(i for i, p in enumerate(pkts) if TCP in p and is_client(p) and bytes(p[TCP].payload).startswith(b"EHLO"))
    replies = [i for i, p in enumerate(pkts) if i > ehlo and TCP in p and not is_client(p) and payload_len(p)]
    first, second = replies[0], replies[1]
    assert bytes(pkts[first][TCP].payload).startswith(b"250-"), "EHLO reply does not start its own segment"
    cut = bytes(pkts[first][TCP].payload)
    print("dropped packets 1..%d (handshake, greeting, EHLO and the reply's first %d bytes %r)" % (
        second, len(cut), cut))
    print("first kept server bytes: %r" % bytes(pkts[second][TCP].payload)[:60])
    write(out, pkts[second:])


def reply_first(src, out):
    pkts = list(rdpcap(src))
    times = [p.time for p in pkts]
    i, swaps = 0, []
    while i < len(pkts):
        p = pkts[i]
        if TCP in p and is_client(p) and payload_len(p):
            end = p[TCP].seq + payload_len(p)
            for j in range(i + 1, len(pkts)):
                q = pkts[j]
                if TCP in q and not is_client(q) and payload_len(q) and q[TCP].ack >= end:
                    swaps.append((bytes(q[TCP].payload).split(b"\r\n")[0], bytes(p[TCP].payload).split(b"\r\n")[0][:40], i + 1, j + 1))
                    pkts.insert(i, pkts.pop(j))
                    i += 1
                    break
        i += 1
    for s in swaps:
        print("server %r (was packet %d) now ahead of client %r (was packet %d)" % (s[0][:50], s[3], s[1], s[2]))
    write(out, retime(pkts, times))


def ack_first(src, out):
    pkts = list(rdpcap(src))
    times = [p.time for p in pkts]
    sa = next(i for i, p in enumerate(pkts) if TCP in p and (p[TCP].flags & 0x12) == 0x12)
    ack = next(i for i, p in enumerate(pkts) if i > sa and TCP in p and is_client(p) and p[TCP].flags == 0x10)
    pkts[sa], pkts[ack] = pkts[ack], pkts[sa]
    print("swapped packet %d (SYN-ACK) and packet %d (client ACK)" % (sa + 1, ack + 1))
    write(out, retime(pkts, times))


def drop_close(src, out):
    pkts = list(rdpcap(src))
    syn = next(i for i, p in enumerate(pkts) if TCP in p and p[TCP].flags == 0x02)
    first = (pkts[syn][TCP].seq, key(pkts[syn]))
    conn, drop, closing = {}, set(), False
    for i, p in enumerate(pkts):
        if TCP not in p:
            continue
        t = p[TCP]
        if t.flags == 0x02 and i != syn:
            break                                  # the next connection starts: stop
        if t.flags & 0x01:
            closing = True
        if closing:
            drop.add(i)
    print("removed packets %s (the first connection's close: FIN, ACKs) of %d" % (
        ",".join(str(i + 1) for i in sorted(drop)), len(pkts)))
    write(out, [p for i, p in enumerate(pkts) if i not in drop])


def drop_segments(src, out):
    pkts = list(rdpcap(src))
    data = None
    cli = []
    isn = None
    for i, p in enumerate(pkts):
        if TCP not in p or not is_client(p):
            continue
        if p[TCP].flags & 0x02:
            isn = p[TCP].seq
        if payload_len(p):
            if data is None and bytes(p[TCP].payload).startswith(b"DATA"):
                data = len(cli)
            cli.append(i)
    content = cli[data + 2:-2]          # after DATA and the first content segment, before "." and QUIT
    n = len(content)
    pick = [content[n // 4], content[n // 2], content[n // 2 + 1], content[3 * n // 4]]
    for i in pick:
        t = pkts[i][TCP]
        print("removed packet %d: client stream offset %d, %d bytes" % (i + 1, t.seq - isn - 1, payload_len(pkts[i])))
    write(out, [p for i, p in enumerate(pkts) if i not in set(pick)])


# ------------------------------------------------------------------------------------------------------
def fresh_checksums(p):
    """The capture was taken on the sending host (checksum offload): give TCP a real checksum."""
    p = p.copy()
    del p[TCP].chksum
    if IP in p:
        del p[IP].chksum
    return Ether(bytes(p))


def frag(src, out):
    res, n_dgrams, n_frags, ip_id = [], 0, 0, 0x4000
    for p in rdpcap(src):
        t = p.time
        if TCP not in p or not payload_len(p):
            q = fresh_checksums(p)
            q.time = t
            res.append(q)
            continue
        p = fresh_checksums(p)
        if IP in p:
            ip = p[IP]
            ip.flags = 0
            ip.id = ip_id
            ip_id += 1
            pieces = fragment(ip, fragsize=32)
        else:
            ip6 = p[IPv6]
            tcp = ip6[TCP]
            ip6.remove_payload()
            ip6.nh = 44
            base = ip6 / IPv6ExtHdrFragment(id=ip_id, nh=6) / tcp
            ip_id += 1
            pieces = fragment6(base, 40 + 8 + 32)
        n_dgrams += 1
        if n_dgrams % 3 == 0:
            pieces = list(reversed(pieces))      # every third datagram: fragments last to first
        for f in pieces:
            e = Ether(src=p[Ether].src, dst=p[Ether].dst) / f
            e.time = t
            res.append(e)
            n_frags += 1
    print("%d TCP segments with payload sent as %d fragments (32 bytes of IP payload each, so the TCP header fills the first; every third "
          "datagram's fragments written last to first)" % (n_dgrams, n_frags))
    write(out, res)


def overlap(src, out):
    pkts = [fresh_checksums(p) for p in rdpcap(src)]
    src_pkts = rdpcap(src)
    for p, o in zip(pkts, src_pkts):
        p.time = o.time
    i = next(i for i, p in enumerate(pkts) if TCP in p and is_client(p) and bytes(p[TCP].payload).startswith(b"MAIL FROM:"))
    real = pkts[i]
    rp = bytes(real[TCP].payload)
    assert rp == b"MAIL FROM:<sender@example.net>\r\n", rp
    decoy_payload = b"MAIL FROM:<forged@example.com>\r\n"    # same length, different bytes
    decoy = real.copy()
    decoy[TCP].remove_payload()
    decoy = Ether(bytes(decoy[Ether] / Raw(decoy_payload)))
    del decoy[TCP].chksum
    decoy = Ether(bytes(decoy))                               # checksum valid for the decoy bytes
    seg_real, seg_decoy = bytes(real[IP].payload), bytes(decoy[IP].payload)
    hl = len(seg_real) - len(rp)                              # TCP header length
    split = (hl + 8) // 8 * 8                                 # first fragment: header + "MAIL FRO"
    hdr = real[IP].copy()
    hdr.remove_payload()
    hdr.flags, hdr.id = 0, 0x5151

    def piece(data, off, mf):
        f = hdr.copy()
        f.frag, f.flags = off // 8, 1 if mf else 0
        del f.len, f.chksum
        return Ether(src=real[Ether].src, dst=real[Ether].dst) / (f / Raw(data))

    f1 = piece(seg_decoy[:split], 0, True)
    f2 = piece(seg_real[split:], split, False)
    f3 = piece(seg_decoy[split:], split, False)
    for f in (f1, f2, f3):
        f.time = real.time
    print("MAIL FROM segment (packet %d) replaced by 3 fragments: [0,%d) header+%r; [%d,%d) %r; then "
          "[%d,%d) again with %r (TCP checksum valid for the first-come decoy bytes); the original "
          "segment follows as a retransmission" % (i + 1, split, seg_decoy[hl:split], split, len(seg_real),
                                                   seg_decoy[split:], split, len(seg_real), seg_real[split:]))
    write(out, pkts[:i] + [f1, f3, f2] + pkts[i:])


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "check":
        for a in args:
            print("== " + a)
            check(a)
        return
    if cmd == "before":
        for a in args[1:]:
            print("== " + a)
            before(args[0], a)
        return
    fn = {"cut-in-reply": cut_in_reply, "reply-first": reply_first, "ack-first": ack_first,
          "drop-segments": drop_segments, "drop-close": drop_close, "frag": frag, "overlap": overlap}.get(cmd)
    if fn is None or len(args) != 2:
        sys.exit(__doc__)
    fn(*args)


if __name__ == "__main__":
    main()
