#!/usr/bin/env python3
"""Turn the clean fixture captures in pcaps/ into fuzz seeds for tests/fuzz/fuzz_core.c.

Each TCP stream on an SMTP port becomes one seed: a flags byte, then one record per segment
with payload ([direction][u16 length][bytes]) in capture order; a stream with DATA or BDAT also
becomes a "-files" seed (flags bit 2: through the content stage). Retransmissions are skipped by
sequence number; the fixtures have no loss, so this is enough for seeds (not a reassembler).
Usage: tools/make-fuzz-seeds.py OUTDIR PCAP...
"""
import os
import struct
import sys

PORTS = {25, 465, 587}


def frames(path):
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24 or data[:4] not in (b"\xd4\xc3\xb2\xa1", b"\xa1\xb2\xc3\xd4"):
        return
    end = "<" if data[:4] == b"\xd4\xc3\xb2\xa1" else ">"
    linktype = struct.unpack(end + "I", data[20:24])[0]
    off = 24
    while off + 16 <= len(data):
        incl = struct.unpack(end + "I", data[off + 8:off + 12])[0]
        yield linktype, data[off + 16:off + 16 + incl]
        off += 16 + incl


def ip_payload(linktype, fr):
    if linktype == 1:
        et, off = struct.unpack(">H", fr[12:14])[0], 14
        while et in (0x8100, 0x88A8):
            et, off = struct.unpack(">H", fr[off + 2:off + 4])[0], off + 4
    elif linktype == 276:
        et, off = struct.unpack(">H", fr[0:2])[0], 20
    elif linktype == 113:
        et, off = struct.unpack(">H", fr[14:16])[0], 16
    else:
        return None
    p = fr[off:]
    if et == 0x0800 and len(p) >= 20 and p[9] == 6:
        ihl = (p[0] & 15) * 4
        tot = struct.unpack(">H", p[2:4])[0]
        return p[12:16], p[16:20], p[ihl:tot]
    if et == 0x86DD and len(p) >= 40 and p[6] == 6:
        plen = struct.unpack(">H", p[4:6])[0]
        return p[8:24], p[24:40], p[40:40 + plen]
    return None


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    n = 0
    for path in sys.argv[2:]:
        streams = {}
        for lt, fr in frames(path):
            r = ip_payload(lt, fr)
            if r is None or len(r[2]) < 20:
                continue
            src, dst, tcp = r
            sport, dport, seq = struct.unpack(">HHI", tcp[:8])
            doff = (tcp[12] >> 4) * 4
            payload = tcp[doff:]
            if dport in PORTS:
                key, direction = (src, sport, dst, dport), 0
            elif sport in PORTS:
                key, direction = (dst, dport, src, sport), 1
            else:
                continue
            st = streams.setdefault(key, {"recs": [], "seen": set(), "tls": 1 if key[3] == 465 else 0})
            if payload and (direction, seq) not in st["seen"]:
                st["seen"].add((direction, seq))
                st["recs"].append(struct.pack(">BH", direction, len(payload)) + payload)
        for i, st in enumerate(streams.values()):
            blob = bytes([st["tls"]]) + b"".join(st["recs"])
            name = "%s-%d" % (os.path.basename(path).rsplit(".", 1)[0], i)
            with open(os.path.join(out, name), "wb") as f:
                f.write(blob[:1 << 20])
            n += 1
            if b"\r\nDATA" in blob or b"BDAT " in blob:  # the same stream through the content stage
                with open(os.path.join(out, name + "-files"), "wb") as f:
                    f.write((bytes([st["tls"] | 4]) + blob[1:])[:1 << 20])
                n += 1
    print("make-fuzz-seeds: %d seeds in %s" % (n, out))


if __name__ == "__main__":
    main()
