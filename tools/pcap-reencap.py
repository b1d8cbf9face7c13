#!/usr/bin/env python3
"""Re-encapsulates the IP packets of a capture in another link layer (stdlib only).

    pcap-reencap.py --to KIND IN.pcap OUT     one variant
    pcap-reencap.py --all DIR                 the standard variants of DIR/postfix-basic.pcap and
                                              DIR/postfix-ipv6.pcap (called by tools/make-pcaps)

Input: a classic pcap (either byte order, micro- or nanosecond magic) with link type EN10MB (with or
without 802.1Q/QinQ tags), LINUX_SLL, LINUX_SLL2, RAW, NULL or LOOP. Every IPv4/IPv6 packet is kept
byte for byte (timestamps too); other packets are dropped.

KIND:
  ether    plain Ethernet II (EN10MB, 1), zero MAC addresses as on Linux lo
  vlan     Ethernet + one 802.1Q tag (TPID 0x8100, VID 100, PCP 0)
  qinq     Ethernet + 802.1ad outer tag (TPID 0x88a8, VID 200) + 802.1Q inner tag (0x8100, VID 100)
  sll      LINUX_SLL (113): 16-byte cooked header, ARPHRD_LOOPBACK, packet type "host"
  sll2     LINUX_SLL2 (276): 20-byte cooked header, interface index 1
  raw      LINKTYPE_RAW (101): the IP header starts the frame
  null     DLT_NULL (0): 4-byte address family in the writer's (here: the file's, little-endian) byte
           order; AF_INET = 2, AF_INET6 = 30 (the Darwin/macOS value; BSDs also use 24 and 28)
  loop     DLT_LOOP (108): 4-byte address family in network byte order; AF_INET = 2,
           AF_INET6 = 24 (the OpenBSD value, OpenBSD being where DLT_LOOP comes from)
  pcapng   pcapng: one SHB, one IDB (EN10MB, default microsecond resolution), one EPB per packet
  split    two classic pcaps OUT-1.pcap and OUT-2.pcap (OUT without .pcap), cut at the middle packet
  truncated  classic pcap (EN10MB) whose last record is cut in the middle of its packet data
  snap60   classic pcap (EN10MB) as `tcpdump -s 60` writes it: snapshot length 60, every frame cut
           to its first 60 bytes, the original length kept in the record
"""
import os
import struct
import sys

LINKTYPE_NULL, LINKTYPE_EN10MB, LINKTYPE_RAW, LINKTYPE_LOOP = 0, 1, 101, 108
LINKTYPE_SLL, LINKTYPE_SLL2 = 113, 276
ETH_IPV4, ETH_IPV6, ETH_VLAN, ETH_QINQ = 0x0800, 0x86DD, 0x8100, 0x88A8
SNAPLEN = 262144


def read_pcap(path):
    """Returns (linktype, [(ts_sec, ts_usec, orig_len, frame), ...])."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        raise ValueError("%s: not a pcap file" % path)
    magic = data[:4]
    table = {b"\xd4\xc3\xb2\xa1": ("<", 1), b"\xa1\xb2\xc3\xd4": (">", 1),
             b"\x4d\x3c\xb2\xa1": ("<", 1000), b"\xa1\xb2\x3c\x4d": (">", 1000)}
    if magic not in table:
        raise ValueError("%s: not a classic pcap file" % path)
    bo, div = table[magic]
    linktype = struct.unpack(bo + "I", data[20:24])[0] & 0x0FFFFFFF
    off, pkts = 24, []
    while off + 16 <= len(data):
        sec, frac, incl, orig = struct.unpack(bo + "IIII", data[off:off + 16])
        frame = data[off + 16:off + 16 + incl]
        if len(frame) < incl:
            break
        pkts.append((sec, frac // div, orig, frame))
        off += 16 + incl
    return linktype, pkts


def ip_of(linktype, frame):
    """The IP packet inside a frame, or None."""
    if linktype == LINKTYPE_EN10MB:
        if len(frame) < 14:
            return None
        et, off = struct.unpack("!H", frame[12:14])[0], 14
        while et in (ETH_VLAN, ETH_QINQ) and len(frame) >= off + 4:
            et, off = struct.unpack("!H", frame[off + 2:off + 4])[0], off + 4
        ip = frame[off:] if et in (ETH_IPV4, ETH_IPV6) else None
    elif linktype == LINKTYPE_SLL:
        ip = frame[16:] if len(frame) >= 16 and struct.unpack("!H", frame[14:16])[0] in (ETH_IPV4, ETH_IPV6) else None
    elif linktype == LINKTYPE_SLL2:
        ip = frame[20:] if len(frame) >= 20 and struct.unpack("!H", frame[0:2])[0] in (ETH_IPV4, ETH_IPV6) else None
    elif linktype in (LINKTYPE_RAW, 12, 14):
        ip = frame
    elif linktype in (LINKTYPE_NULL, LINKTYPE_LOOP):
        ip = frame[4:]
    else:
        raise ValueError("unsupported link type %d" % linktype)
    if not ip or (ip[0] >> 4) not in (4, 6):
        return None
    return ip


def ethertype(ip):
    return ETH_IPV6 if ip[0] >> 4 == 6 else ETH_IPV4


ZERO_MACS = b"\x00" * 12


def frame_for(kind, ip):
    et = ethertype(ip)
    v6 = et == ETH_IPV6
    if kind in ("ether", "pcapng", "split", "truncated", "snap60"):
        return ZERO_MACS + struct.pack("!H", et) + ip
    if kind == "vlan":
        return ZERO_MACS + struct.pack("!HHH", ETH_VLAN, 100, et) + ip
    if kind == "qinq":
        return ZERO_MACS + struct.pack("!HHHHH", ETH_QINQ, 200, ETH_VLAN, 100, et) + ip
    if kind == "sll":
        # packet type 0 (host), ARPHRD_LOOPBACK 772, address length 6, address (8 bytes), protocol
        return struct.pack("!HHH8sH", 0, 772, 6, b"\x00" * 8, et) + ip
    if kind == "sll2":
        # protocol, reserved, interface index, ARPHRD_LOOPBACK, packet type, address length, address
        return struct.pack("!HHIHBB8s", et, 0, 1, 772, 0, 6, b"\x00" * 8) + ip
    if kind == "raw":
        return ip
    if kind == "null":
        return struct.pack("<I", 30 if v6 else 2) + ip
    if kind == "loop":
        return struct.pack("!I", 24 if v6 else 2) + ip
    raise ValueError("unknown kind %s" % kind)


LINKTYPE_OF = {"ether": LINKTYPE_EN10MB, "vlan": LINKTYPE_EN10MB, "qinq": LINKTYPE_EN10MB,
               "sll": LINKTYPE_SLL, "sll2": LINKTYPE_SLL2, "raw": LINKTYPE_RAW, "null": LINKTYPE_NULL,
               "loop": LINKTYPE_LOOP, "pcapng": LINKTYPE_EN10MB, "split": LINKTYPE_EN10MB,
               "truncated": LINKTYPE_EN10MB, "snap60": LINKTYPE_EN10MB}


def pcap_bytes(linktype, recs, snaplen=SNAPLEN):
    out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, snaplen, linktype)]
    for sec, usec, _orig, frame in recs:
        cut = frame[:snaplen]
        out.append(struct.pack("<IIII", sec, usec, len(cut), len(frame)) + cut)
    return b"".join(out)


def pad4(b):
    return b + b"\x00" * (-len(b) % 4)


def pcapng_bytes(linktype, recs):
    def block(btype, body):
        body = pad4(body)
        n = 12 + len(body)
        return struct.pack("<II", btype, n) + body + struct.pack("<I", n)

    def opt(code, val):
        return struct.pack("<HH", code, len(val)) + pad4(val)

    shb = block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1)
                + opt(4, b"smtpsniff tools/pcap-reencap.py") + opt(0, b""))
    idb = block(0x00000001, struct.pack("<HHI", linktype, 0, SNAPLEN) + opt(2, b"lo") + opt(0, b""))
    epbs = []
    for sec, usec, _orig, frame in recs:
        ts = sec * 1000000 + usec
        epbs.append(block(0x00000006, struct.pack("<IIIII", 0, ts >> 32, ts & 0xFFFFFFFF, len(frame),
                                                  len(frame)) + pad4(frame)))
    return shb + idb + b"".join(epbs)


def convert(kind, src, dst):
    lt, pkts = read_pcap(src)
    recs = []
    for sec, usec, _orig, frame in pkts:
        ip = ip_of(lt, frame)
        if ip is not None:
            recs.append((sec, usec, len(ip), frame_for(kind, ip)))
    if not recs:
        raise ValueError("%s: no IP packets" % src)
    link = LINKTYPE_OF[kind]
    written = []
    if kind == "pcapng":
        data = {dst: pcapng_bytes(link, recs)}
    elif kind == "split":
        base = dst[:-5] if dst.endswith(".pcap") else dst
        half = len(recs) // 2
        data = {base + "-1.pcap": pcap_bytes(link, recs[:half]),
                base + "-2.pcap": pcap_bytes(link, recs[half:])}
    elif kind == "truncated":
        # keep the first half of the packets whole, then the middle packet's record header and
        # half of its data: the file ends inside a packet record
        half = len(recs) // 2
        whole = pcap_bytes(link, recs[:half + 1])
        cut = len(whole) - (len(recs[half][3]) // 2)
        data = {dst: whole[:cut]}
    elif kind == "snap60":
        data = {dst: pcap_bytes(link, recs, 60)}
    else:
        data = {dst: pcap_bytes(link, recs)}
    for path, b in data.items():
        with open(path + ".tmp", "wb") as f:
            f.write(b)
        os.replace(path + ".tmp", path)
        written.append(path)
    return written


STANDARD = [
    ("postfix-basic", ["vlan", "qinq", "sll", "sll2", "raw", "null", "loop"]),
    ("postfix-ipv6", ["vlan", "sll2"]),
]


def all_variants(d):
    out = []
    for base, kinds in STANDARD:
        src = os.path.join(d, base + ".pcap")
        if not os.path.exists(src):
            print("pcap-reencap: %s missing, skipped" % src, file=sys.stderr)
            continue
        for k in kinds:
            out += convert(k, src, os.path.join(d, "%s-%s.pcap" % (base, k)))
        if base == "postfix-basic":
            out += convert("pcapng", src, os.path.join(d, base + ".pcapng"))
            out += convert("split", src, os.path.join(d, base + "-split.pcap"))
            out += convert("truncated", src, os.path.join(d, base + "-truncated.pcap"))
            out += convert("snap60", src, os.path.join(d, base + "-snap60.pcap"))
    for p in out:
        print("pcap-reencap: wrote %s (%d bytes)" % (p, os.path.getsize(p)), file=sys.stderr)


def main(argv):
    if len(argv) == 3 and argv[1] == "--all":
        all_variants(argv[2])
    elif len(argv) == 5 and argv[1] == "--to" and argv[2] in LINKTYPE_OF:
        for p in convert(argv[2], argv[3], argv[4]):
            print("pcap-reencap: wrote %s" % p, file=sys.stderr)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
