#!/usr/bin/env python3
"""Drops client data segments from a loopback capture (EN10MB, IPv4), to make a message with a
hole out of real traffic (stdlib only).

    pcap-drop-segment.py IN.pcap OUT.pcap PORT N [N...]

Drops the N-th (1-based) TCP segment with payload sent to server port PORT by the first client
connection in the file, and every other copy of the same sequence number (a retransmission would
fill the hole). What remains is byte for byte the captured packets.
"""
import struct
import sys


def main(src, dst, port, wanted):
    data = open(src, "rb").read()
    magic = struct.unpack("<I", data[:4])[0]
    endian = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
    out, off, first, seen, dropped_seq, dropped = [data[:24]], 24, None, 0, set(), 0
    records = []
    while off + 16 <= len(data):
        _, _, caplen, _ = struct.unpack(endian + "IIII", data[off:off + 16])
        records.append((data[off:off + 16], data[off + 16:off + 16 + caplen]))
        off += 16 + caplen
    for hdr, frame in records:
        keep = True
        if len(frame) >= 14 + 20 and frame[12:14] == b"\x08\x00":
            ip = frame[14:]
            ihl = (ip[0] & 15) * 4
            if ip[9] == 6:
                tcp = ip[ihl:]
                sport, dport, seq = struct.unpack(">HHI", tcp[:8])
                payload = len(ip) - ihl - (tcp[12] >> 4) * 4
                if dport == port and payload > 0:
                    first = first or sport
                    if sport == first:
                        seen += 1
                        if seen in wanted:
                            dropped_seq.add(seq)
                        if seq in dropped_seq:
                            keep = False
                            dropped += 1
        if keep:
            out.append(hdr + frame)
    open(dst, "wb").write(b"".join(out))
    print(f"pcap-drop-segment: {dst}: dropped {dropped} packets ({len(dropped_seq)} segments)", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), {int(n) for n in sys.argv[4:]})
