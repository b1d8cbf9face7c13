#!/usr/bin/env python3
"""Hand-built SMTP-over-TCP captures for what no real peer sends (stdlib only).

    make-adversarial.py [OUTDIR]        (default: the pcaps/ directory beside tools/)

Writes OUTDIR/adv-*.pcap, OUTDIR/not-a-capture.pcap (a text file), OUTDIR/empty.pcap (0 bytes) and
OUTDIR/unsupported-linktype.pcap (a valid one-packet IEEE 802.11 capture).
Every adv-*.pcap is classic pcap, EN10MB (zero MAC addresses, as Linux lo), IPv4 127.0.0.1 only,
microsecond timestamps starting 2024-01-01T00:00:00Z and 1 ms apart (the time-edges scenarios set other
starting seconds; adv-time-edges.pcapng is pcapng with whole-second timestamps). Each session is a whole TCP
session unless the scenario says otherwise: SYN, SYN-ACK, ACK, one data segment per script step (with
correct seq/ack), FIN/ACK both ways and a final ACK; IPv4 and TCP checksums are correct; each session
has its own client port (40001 and up, unique across all files). The output is deterministic: running
the script twice gives byte-identical files.
"""
import base64
import os
import random
import struct
import sys

BASE_SEC = 1704067200          # 2024-01-01T00:00:00Z
CLIENT_IP = bytes([127, 0, 0, 1])
SERVER_IP = bytes([127, 0, 0, 1])
FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10

_next_port = [40001]


def csum(data):
    if len(data) % 2:
        data += b"\x00"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


class Pcap:
    def __init__(self):
        self.frames = []
        self.marks = {}          # frame index -> the seconds from which the frames after it count

    def add(self, frame):
        self.frames.append(frame)

    def mark(self, sec):
        """The frames from here on are at sec, sec + 1 ms, ... (time-edges scenarios)."""
        self.marks[len(self.frames)] = sec

    def times(self):
        base, start = BASE_SEC, 0
        for i in range(len(self.frames)):
            if i in self.marks:
                base, start = self.marks[i], i
            us = (i - start) * 1000
            yield base + us // 1000000, us % 1000000

    def bytes(self):
        out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1)]
        for (sec, us), fr in zip(self.times(), self.frames):
            out.append(struct.pack("<IIII", sec, us, len(fr), len(fr)) + fr)
        return b"".join(out)


class Pcapng(Pcap):
    """The same frames as pcapng: SHB, one IDB (EN10MB) with if_tsresol 10^0 (whole seconds) so a
    64-bit timestamp can say any second, one EPB per frame. Marks are in seconds."""

    @staticmethod
    def block(btype, body):
        body += b"\x00" * (-len(body) % 4)
        return struct.pack("<II", btype, len(body) + 12) + body + struct.pack("<I", len(body) + 12)

    def bytes(self):
        out = [self.block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1)),
               self.block(1, struct.pack("<HHI", 1, 0, 262144) +
                          struct.pack("<HHB3x", 9, 1, 0) + struct.pack("<HH", 0, 0))]
        for (sec, _), fr in zip(self.times(), self.frames):
            out.append(self.block(6, struct.pack("<IIIII", 0, sec >> 32, sec & 0xFFFFFFFF, len(fr), len(fr)) + fr))
        return b"".join(out)


class Tcp:
    """One TCP connection; 'C' is the client, 'S' the server."""

    def __init__(self, pcap, sport=25):
        self.pcap = pcap
        self.cport = _next_port[0]
        _next_port[0] += 1
        self.sport = sport
        self.seq = {"C": 1000000 + self.cport * 1000, "S": 2000000000 + self.cport * 1000}
        self.ipid = {"C": 0x1000 + self.cport % 1000 * 16, "S": 0x8000 + self.cport % 1000 * 16}

    def other(self, d):
        return "S" if d == "C" else "C"

    def tcp_bytes(self, d, flags, payload, seq=None, doff=5):
        """The TCP header and payload from side d, checksum filled in; returns (src, dst, tcp)."""
        if d == "C":
            src, dst, sp, dp = CLIENT_IP, SERVER_IP, self.cport, self.sport
        else:
            src, dst, sp, dp = SERVER_IP, CLIENT_IP, self.sport, self.cport
        seq = self.seq[d] if seq is None else seq
        ack = self.seq[self.other(d)] if flags & ACK else 0
        tcp = struct.pack("!HHIIBBHHH", sp, dp, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF, doff << 4, flags,
                          65535, 0, 0) + payload
        pseudo = src + dst + struct.pack("!BBH", 0, 6, len(tcp))
        c = csum(pseudo + tcp)
        return src, dst, tcp[:16] + struct.pack("!H", c) + tcp[18:]

    def ip_packet(self, d, src, dst, body, frag=0x4000, ipid=None):
        if ipid is None:
            self.ipid[d] += 1
            ipid = self.ipid[d]
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(body), ipid & 0xFFFF, frag, 64, 6, 0, src, dst)
        ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
        self.pcap.add(b"\x00" * 12 + b"\x08\x00" + ip + body)

    def segment(self, d, flags, payload=b"", write=True, seq=None, doff=5):
        src, dst, tcp = self.tcp_bytes(d, flags, payload, seq, doff)
        if write:
            self.ip_packet(d, src, dst, tcp)
        else:
            self.ipid[d] += 1  # the packet was sent, only the capture lacks it
        if seq is None:
            self.seq[d] += len(payload) + (1 if flags & (SYN | FIN) else 0)

    def open(self):
        self.segment("C", SYN)
        self.segment("S", SYN | ACK)
        self.segment("C", ACK)

    def data(self, d, payload, write=True):
        self.segment(d, PSH | ACK, payload, write)

    def close(self, first="S"):
        self.segment(first, FIN | ACK)
        self.segment(self.other(first), FIN | ACK)
        self.segment(first, ACK)


def session(pcap, steps, close="S", sport=25):
    """Runs a script of steps on a new connection.

    Steps: ('C', bytes) / ('S', bytes): one data segment from that side;
           ('C', [b1, b2, ...]): several segments;
           ('Cgap', bytes) / ('Sgap', bytes): a segment that was sent but is missing from the capture;
           ('Crst',) / ('Srst',): that side sends RST|ACK (nothing follows);
    close: 'S' or 'C' (who sends FIN first), or None (the capture just ends).
    """
    t = Tcp(pcap, sport)
    t.open()
    for st in steps:
        kind = st[0]
        if kind in ("C", "S"):
            parts = st[1] if isinstance(st[1], list) else [st[1]]
            for p in parts:
                t.data(kind, p)
        elif kind in ("Cgap", "Sgap"):
            t.data(kind[0], st[1], write=False)
        elif kind in ("Crst", "Srst"):
            t.segment(kind[0], RST | ACK)
            return t
        else:
            raise ValueError(kind)
    if close:
        t.close(close)
    return t


BANNER = b"220 mail.example.org ESMTP fixture\r\n"
EHLO = b"EHLO client.example.net\r\n"
EHLO_REPLY = (b"250-mail.example.org\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-STARTTLS\r\n"
              b"250-AUTH PLAIN LOGIN\r\n250-ENHANCEDSTATUSCODES\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n"
              b"250 CHUNKING\r\n")
OK = b"250 2.0.0 Ok\r\n"
MAIL_OK = b"250 2.1.0 Ok\r\n"
RCPT_OK = b"250 2.1.5 Ok\r\n"
GO_AHEAD = b"354 End data with <CR><LF>.<CR><LF>\r\n"
QUEUED = b"250 2.0.0 Ok: queued as %s\r\n"
BYE = b"221 2.0.0 Bye\r\n"


def greet():
    return [("S", BANNER), ("C", EHLO), ("S", EHLO_REPLY)]


def envelope(frm=b"sender@example.net", to=b"alice@example.org"):
    return [("C", b"MAIL FROM:<" + frm + b">\r\n"), ("S", MAIL_OK),
            ("C", b"RCPT TO:<" + to + b">\r\n"), ("S", RCPT_OK)]


def quit_():
    return [("C", b"QUIT\r\n"), ("S", BYE)]


# ---------------------------------------------------------------------------------------------------
def adv_smuggling(p):
    """Four transactions; each body holds one bare-LF / bare-CR end-of-data look-alike followed by a
    smuggled envelope, then the real CRLF.CRLF. The (conforming) server sees one message each time."""
    variants = [(b"lf-dot-lf", b"\n.\n"), (b"crlf-dot-lf", b"\r\n.\n"),
                (b"lf-dot-crlf", b"\n.\r\n"), (b"cr-dot-cr", b"\r.\r")]
    steps = greet()
    for i, (name, fake_end) in enumerate(variants):
        body = (b"From: <sender@example.net>\r\nTo: <alice@example.org>\r\nSubject: smuggling " + name +
                b"\r\n\r\nInnocent first line.\r\nlast line before the fake end" + fake_end +
                b"MAIL FROM:<admin@example.org>\r\nRCPT TO:<victim@example.org>\r\nDATA\r\n"
                b"From: <admin@example.org>\r\nSubject: spoofed\r\n\r\nsmuggled body\r\n"
                b"\r\n.\r\n")
        steps += envelope() + [("C", b"DATA\r\n"), ("S", GO_AHEAD), ("C", body),
                               ("S", QUEUED % (b"SMUG%d" % (i + 1)))]
    session(p, steps + quit_())


def adv_bdat_malformed(p):
    steps = greet() + envelope() + [
        ("C", b"BDAT -5\r\n"), ("S", b"501 5.5.4 Syntax: BDAT count [LAST]\r\n"),
        ("C", b"BDAT 99999999999999999999\r\n"), ("S", b"552 5.3.4 Message size exceeds file system imposed limit\r\n"),
        ("C", b"BDAT abc\r\n"), ("S", b"501 5.5.4 Syntax: BDAT count [LAST]\r\n"),
        ("C", b"BDAT 3 LAST extra\r\n"), ("S", b"501 5.5.4 Syntax: BDAT count [LAST]\r\n"),
        # miscounted chunk: 5 announced, 11 sent; the server takes "Hello" and reads "RSET\r\n" as a command
        ("C", b"BDAT 5\r\nHelloRSET\r\n"), ("S", b"250 2.0.0 Ok: 5 bytes\r\n250 2.0.0 Ok\r\n"),
        ("C", b"BDAT 0 LAST\r\n"), ("S", b"503 5.5.1 Error: need MAIL command\r\n"),
    ] + quit_()
    session(p, steps)
    # second session: "BDAT 10 LAST" with only 4 bytes of the chunk, then the client closes
    session(p, greet() + envelope() + [("C", b"BDAT 10 LAST\r\n1234")], close="C")


def adv_starttls_injection(p):
    rnd = random.Random(7)
    junk_c = bytes(rnd.getrandbits(8) for _ in range(96))
    junk_s = bytes(rnd.getrandbits(8) for _ in range(64))
    steps = greet() + [
        ("C", b"STARTTLS\r\nMAIL FROM:<evil@x>\r\n"),
        ("S", b"220 2.0.0 Ready to start TLS\r\n"),
        ("C", junk_c), ("S", junk_s), ("C", junk_c[:40]),
    ]
    session(p, steps, close="C")


def adv_overlong(p):
    cmd = b"MAIL FROM:<" + b"a" * (5000 - len(b"MAIL FROM:<@example.net>\r\n")) + b"@example.net>\r\n"
    assert len(cmd) == 5000
    reply = b"250 " + b"r" * (700 - 6) + b"\r\n"
    assert len(reply) == 700
    steps = [("S", BANNER), ("C", EHLO), ("S", reply),
             ("C", [cmd[i:i + 1460] for i in range(0, len(cmd), 1460)]),
             ("S", b"500 5.5.2 Error: line too long\r\n")] + quit_()
    session(p, steps)


def adv_garbage(p):
    rnd = random.Random(1234)
    g1 = bytes(rnd.getrandbits(8) for _ in range(150)).replace(b"\n", b"\x00") + b"\r\n"
    g2 = bytes(rnd.getrandbits(8) for _ in range(300)).replace(b"\n", b"\x00") + b"\r\n"
    g3 = bytes(rnd.getrandbits(8) for _ in range(64)).replace(b"\n", b"\x00")
    steps = [("S", BANNER),
             ("C", g1), ("S", b"500 5.5.2 Error: command not recognized\r\n"),
             ("C", g2), ("S", b"500 5.5.2 Error: command not recognized\r\n"),
             ("C", g3), ("S", b"421 4.7.0 mail.example.org Error: too many errors\r\n")]
    session(p, steps)


def adv_unsolicited(p):
    steps = greet() + [
        ("C", b"MAIL FROM:<sender@example.net>\r\n"), ("S", MAIL_OK),
        ("S", b"250 2.0.0 this reply answers nothing\r\n"),          # extra, unsolicited
        ("C", b"RCPT TO:<alice@example.org>\r\n"), ("S", RCPT_OK),
        ("C", b"DATA\r\n"), ("S", GO_AHEAD),
        ("C", b"Subject: unsolicited\r\n\r\nbody\r\n.\r\n"), ("S", QUEUED % b"UNSOL1"),
        ("S", b"421 4.4.2 mail.example.org Error: timeout exceeded\r\n"),  # unsolicited, before QUIT
        ("C", b"QUIT\r\n"),
    ]
    session(p, steps)


def adv_multiline_mismatch(p):
    steps = [("S", BANNER), ("C", EHLO),
             ("S", b"250-mail.example.org\r\n251 b\r\n"),
             ("C", b"MAIL FROM:<sender@example.net>\r\n"),
             ("S", b"250-2.1.0 first line\r\n550-5.1.0 second line, other code\r\n250 2.1.0 Ok\r\n"),
             ("C", b"RCPT TO:<alice@example.org>\r\n"),
             ("S", b"250-\r\n250 2.1.5 Ok\r\n"),
             ("C", b"RSET\r\n"), ("S", b"250 2.0.0 Ok\r\n")] + quit_()
    session(p, steps)


def adv_pipelining_unadvertised(p):
    steps = [("S", BANNER), ("C", EHLO),
             ("S", b"250-mail.example.org\r\n250-SIZE 10240000\r\n250 8BITMIME\r\n"),
             ("C", b"MAIL FROM:<sender@example.net>\r\nRCPT TO:<alice@example.org>\r\nDATA\r\n"),
             ("S", MAIL_OK + RCPT_OK + GO_AHEAD),
             ("C", b"Subject: pipelined without PIPELINING\r\n\r\nbody\r\n.\r\n"), ("S", QUEUED % b"PIPE1")] + quit_()
    session(p, steps)


def adv_gap(p):
    """The client's RCPT segment is missing from the capture; the server's reply to it is there."""
    steps = greet() + [
        ("C", b"MAIL FROM:<sender@example.net>\r\n"), ("S", MAIL_OK),
        ("Cgap", b"RCPT TO:<alice@example.org>\r\n"), ("S", RCPT_OK),
        ("C", b"DATA\r\n"), ("S", GO_AHEAD),
        ("C", b"Subject: gap\r\n\r\nbody after a capture gap\r\n.\r\n"), ("S", QUEUED % b"GAP1"),
    ] + quit_()
    session(p, steps)


def adv_reset(p):
    steps = greet() + envelope() + [
        ("C", b"DATA\r\n"), ("S", GO_AHEAD),
        ("C", b"Subject: reset\r\n\r\nfirst body line\r\nsecond body line\r\n"),
        ("Crst",)]
    session(p, steps)


def adv_no_fin(p):
    steps = greet() + envelope() + [
        ("C", b"DATA\r\n"), ("S", GO_AHEAD),
        ("C", b"Subject: no fin\r\n\r\nThe capture ends before the session does.\r\n.\r\n"),
        ("S", QUEUED % b"NOFIN1")]
    session(p, steps, close=None)


def adv_cut_midstream(p):
    steps = greet() + [("C", b"MAIL FROM:<sender@example.net>\r\n"), ("S", MAIL_OK),
                       ("C", b"RCPT TO:<bob@exa")]
    session(p, steps, close=None)


def adv_8bit(p):
    steps = greet() + [
        ("C", "MAIL FROM:<jörg@exämple.net>\r\n".encode()), ("S", MAIL_OK),
        ("C", "RCPT TO:<josé@example.org>\r\n".encode()), ("S", RCPT_OK),
        ("C", b"DATA\r\n"), ("S", GO_AHEAD),
        ("C", "Subject: Grüße\r\n\r\n8-bit body: ünïcødé, 日本語\r\n.\r\n".encode()),
        ("S", QUEUED % b"EIGHT1")] + quit_()
    session(p, steps)


def adv_terminal_escape(p):
    steps = [("S", b"220 mail.example.org \x1b[31mRED\x1b[0m ESMTP \x07\x08\x08\x7f\r\n"),
             ("C", b"EHLO \x1b]0;pwned-title\x07client.example.net\r\n"),
             ("S", b"250-mail.example.org \x1b[2J\x1b[H\r\n250 8BITMIME\x1b[5m\r\n"),
             ("C", b"MAIL FROM:<a\x1b[1;32mb@example.net>\r\n"), ("S", b"250 2.1.0 Ok \x1b[31m\x00\x0b\x0c\r\n"),
             ("C", b"RCPT TO:<alice@example.org>\r\n"), ("S", RCPT_OK),
             ("C", b"RSET\r\n"), ("S", OK)] + quit_()
    session(p, steps)


def adv_auth_plain(p):
    ir = base64.b64encode(b"\x00mallory\x00hunter2-secret")
    steps = greet() + [
        ("C", b"AUTH PLAIN " + ir + b"\r\n"), ("S", b"235 2.7.0 Authentication successful\r\n"),
    ] + envelope() + [("C", b"DATA\r\n"), ("S", GO_AHEAD),
                      ("C", b"Subject: sent by mallory\r\n\r\nbody\r\n.\r\n"), ("S", QUEUED % b"AUTH1")] + quit_()
    session(p, steps)
    # second session: AUTH LOGIN with 334 challenges, wrong password (535), then AUTH PLAIN without
    # an initial response (empty 334) and a '*' cancel
    steps = greet() + [
        ("C", b"AUTH LOGIN\r\n"), ("S", b"334 VXNlcm5hbWU6\r\n"),
        ("C", base64.b64encode(b"mallory") + b"\r\n"), ("S", b"334 UGFzc3dvcmQ6\r\n"),
        ("C", base64.b64encode(b"hunter2-wrong") + b"\r\n"),
        ("S", b"535 5.7.8 Error: authentication failed: authentication failure\r\n"),
        ("C", b"AUTH PLAIN\r\n"), ("S", b"334 \r\n"),
        ("C", b"*\r\n"), ("S", b"501 5.7.0 Authentication aborted\r\n"),
    ] + quit_()
    session(p, steps)


def adv_unknown_verbs_pipelined(p):
    steps = greet() + [
        ("C", b"MAIL FROM:<sender@example.net>\r\nXFOO bar\r\nRCPT TO:<alice@example.org>\r\n"
              b"XBAR\r\nRCPT TO:<bob@example.org>\r\nDATA\r\n"),
        ("S", MAIL_OK + b"500 5.5.2 Error: command not recognized\r\n" + RCPT_OK +
         b"500 5.5.2 Error: command not recognized\r\n" + RCPT_OK + GO_AHEAD),
        ("C", b"Subject: unknown verbs\r\n\r\nbody\r\n.\r\nXQUUX\r\nQUIT\r\n"),
        ("S", QUEUED % b"UNK1" + b"500 5.5.2 Error: command not recognized\r\n" + BYE),
    ]
    session(p, steps)


def adv_bdat_huge(p):
    """BDAT sizes past INT64_MAX, then a second transaction in the same segment. Session 1 is what
    postfix 3.7 does (pcaps/postfix-bdat-huge.pcap): 521 and it hangs up unread. Session 2 is a
    server that refuses the size with 501 and reads on, so it sees RSET, MAIL, RCPT, DATA and a
    message that the BDAT line would have swallowed."""
    hidden = (b"RSET\r\nMAIL FROM:<mallory@example.net>\r\nRCPT TO:<bob@example.org>\r\nDATA\r\n")
    session(p, greet() + envelope() + [("C", b"BDAT 9223372036854775808\r\n" + hidden),
                                       ("S", b"521 5.5.4 Syntax: BDAT count [LAST]\r\n")])
    session(p, greet() + envelope() + [
        ("C", b"BDAT 18446744073709551616 LAST\r\n" + hidden),
        ("S", b"501 5.5.4 Syntax: BDAT count [LAST]\r\n" + OK + MAIL_OK + RCPT_OK + GO_AHEAD),
        ("C", b"From: <ceo@example.org>\r\nSubject: wire the money\r\n\r\nPay account 1234 today.\r\n.\r\n"),
        ("S", QUEUED % b"HUGE1")] + quit_())


def adv_terminal_unicode(p):
    """Valid UTF-8 that hides or reorders text: U+202E RIGHT-TO-LEFT OVERRIDE makes the sender
    "moc.elpmaxe@ecila" read as "alice@example.com" (U+202C pops it), U+200B ZERO WIDTH SPACE and
    U+FEFF inside the recipient, U+2066/2069 isolates and U+2028 LINE SEPARATOR in replies, a tag
    character (U+E0041) and a soft hyphen in the subject, and one malformed sequence. A second
    recipient, reversed too, is refused, so that the text summary's failures list it."""
    rlo, pdf, zwsp, bom = "\u202e", "\u202c", "\u200b", "\ufeff"
    steps = [("S", b"220 mail.example.org ESMTP \xe2\x81\xa6fixture\xe2\x81\xa9\r\n"),
             ("C", ("EHLO client" + zwsp + ".example.net\r\n").encode()),
             ("S", b"250-mail.example.org\r\n250-SMTPUTF8\r\n250 8BITMIME\r\n"),
             ("C", ("MAIL FROM:<" + rlo + "moc.elpmaxe@ecila" + pdf + "> SMTPUTF8\r\n").encode()),
             ("S", MAIL_OK),
             ("C", ("RCPT TO:<bob" + zwsp + "@exam" + bom + "ple.org>\r\n").encode()),
             ("S", ("250 2.1.5 Ok\u2028spoofed line\r\n").encode()),
             ("C", ("RCPT TO:<" + rlo + "gro.elpmaxe@nimda" + pdf + ">\r\n").encode()),
             ("S", b"550 5.1.1 <admin@example.org>: Recipient address rejected\r\n"),
             ("C", b"DATA\r\n"), ("S", GO_AHEAD),
             ("C", ("From: <" + rlo + "gro.elpmaxe@oec" + pdf + ">\r\nSubject: pay\u00adment \U000e0041 "
                    "\xe2\x80 now\r\n\r\nbody\r\n.\r\n").encode("utf-8", "surrogateescape")),
             ("S", QUEUED % b"UNI1")] + quit_()
    session(p, steps)


def time_edge_steps():
    """One accepted and one refused recipient (a failed delivery has a time in the summary), RSET."""
    return greet() + envelope() + [
        ("C", b"RCPT TO:<nobody@example.org>\r\n"),
        ("S", b"550 5.1.1 <nobody@example.org>: Recipient address rejected\r\n"),
        ("C", b"RSET\r\n"), ("S", OK)] + quit_()


def adv_time_edges(p):
    """Capture times at the edges of classic pcap's unsigned 32-bit seconds: a session at 0
    (1970-01-01T00:00:00Z) and one at 0xffffffff (2106-02-07T06:28:15Z; libpcap reads it as -1). Each session: EHLO, MAIL, RCPT accepted, RCPT refused
    (550), RSET, QUIT."""
    for sec in (0, 0xFFFFFFFF):
        p.mark(sec)
        session(p, time_edge_steps())


def adv_time_edges_ng(p):
    """pcapng's 64-bit timestamps (whole seconds here) past what RFC 3339 can write: the last second
    of 9999, the first of 10000, and 2^62 s, where gmtime_r fails (the year does not fit an int)."""
    for sec in (253402300799, 253402300800, 1 << 62):
        p.mark(sec)
        session(p, time_edge_steps())


def adv_reply_context(p):
    """What each reply means where it came (issue 14), in the forms seen on public captures nobody
    here made; each session is one case. 1: the client sends nothing after 354 and closes (msmtp
    does, pcaps/postfix-msmtp-refused.pcap), then the server writes 421 to the closed socket (no
    server here does). 2: a bad-size BDAT pipelined ahead of MAIL, RCPT, BDAT LAST and the content
    in one segment (exim pipelines so), refused with 501. 3: DATA accepted with no MAIL (a lenient
    server). 4: MAIL and RCPT pipelined before the EHLO reply, every recipient refused, then QUIT.
    5: a tab-folded Subject, an unsolicited 554 mid-session, 502 to VRFY and EXPN, HELP 214."""
    t = session(p, greet() + envelope() + [
        ("C", b"RCPT TO:<nobody@example.org>\r\nDATA\r\n"),
        ("S", b"550 5.1.1 <nobody@example.org>: Recipient address rejected\r\n" + GO_AHEAD)], close=None)
    t.segment("C", FIN | ACK)
    t.data("S", b"421 4.4.2 mail.example.org Error: lost connection\r\n")
    t.segment("S", FIN | ACK)
    t.segment("C", ACK)
    session(p, greet() + [
        ("C", b"BDAT 1x\r\nMAIL FROM:<sender@example.net>\r\nRCPT TO:<alice@example.org>\r\nBDAT 27 LAST\r\n"
              b"Subject: chunked\r\n\r\nhello\r\n"),
        ("S", b"501 5.5.4 Syntax: BDAT count [LAST]\r\n" + MAIL_OK + RCPT_OK + QUEUED % b"BDAT1")] + quit_())
    session(p, greet() + [("C", b"DATA\r\n"), ("S", GO_AHEAD),
                          ("C", b"Subject: no envelope\r\n\r\nbody\r\n.\r\n"), ("S", QUEUED % b"NOMAIL1")]
            + quit_())
    session(p, [("S", BANNER),
                ("C", EHLO + b"MAIL FROM:<sender@example.net>\r\nRCPT TO:<nobody@example.org>\r\n"),
                ("S", EHLO_REPLY + MAIL_OK + b"550 5.1.1 <nobody@example.org>: Recipient address rejected\r\n")]
            + quit_())
    session(p, greet() + envelope() + [
        ("C", b"DATA\r\n"), ("S", GO_AHEAD),
        ("C", b"Subject: folded\r\n\twith a tab\r\n\r\nbody\r\n.\r\n"), ("S", QUEUED % b"TAB1"),
        ("S", b"554 5.7.1 mail.example.org: you are on a block list\r\n"),
        ("C", b"VRFY alice\r\n"), ("S", b"502 5.5.1 VRFY command is disabled\r\n"),
        ("C", b"EXPN staff\r\n"), ("S", b"502 5.5.1 EXPN command is disabled\r\n"),
        ("C", b"HELP\r\n"), ("S", b"214 2.0.0 see https://www.rfc-editor.org/rfc/rfc5321\r\n")] + quit_())


def adv_tcp_bad_offset(p):
    """A server segment whose TCP data offset is 4 (16 bytes, below the minimum of 5) carries
    '554 INJECTED' at the greeting's sequence number; Linux drops it (RFC 9293 3.1), so the real
    greeting, sent next with the same sequence number, is what the client reads."""
    t = Tcp(p)
    t.open()
    t.segment("S", PSH | ACK, b"554 INJECTED\r\n", seq=t.seq["S"], doff=4)
    for d, data in greet()[0:] + [("C", b"QUIT\r\n"), ("S", BYE)]:
        t.data(d, data)
    t.close("S")


def adv_frag_overlap(p):
    """The client's MAIL command comes as two IPv4 fragments that overlap with different bytes
    (a decoy sender); Linux discards such a datagram, so the server reads the plain retransmission
    that follows (same sequence number, the real sender)."""
    t = Tcp(p)
    t.open()
    for d, data in greet():
        t.data(d, data)
    decoy = b"MAIL FROM:<decoy@evil.example>\r\n"
    real = b"MAIL FROM:<sender@example.net>\r\n"
    src, dst, tcp = t.tcp_bytes("C", PSH | ACK, decoy)
    t.ipid["C"] += 1
    other = tcp[:16] + b"XXXXXXXX"  # bytes 16..23 again, different
    t.ip_packet("C", src, dst, tcp[:24], frag=0x2000, ipid=t.ipid["C"])            # [0, 24), MF
    t.ip_packet("C", src, dst, other[16:24] + tcp[24:], frag=2, ipid=t.ipid["C"])  # [16, 52)
    t.data("C", real)
    for d, data in [("S", MAIL_OK), ("C", b"QUIT\r\n"), ("S", BYE)]:
        t.data(d, data)
    t.close("S")


def adv_retrans_conflict(p):
    """Retransmissions with other bytes: the RCPT segment is sent again with another recipient
    (same length, same sequence number), and a body segment that arrives ahead of its predecessor
    is sent twice, the second time with other bytes. A Linux receiver keeps the first bytes."""
    t = Tcp(p)
    t.open()
    for d, data in greet() + [("C", b"MAIL FROM:<sender@example.net>\r\n"), ("S", MAIL_OK)]:
        t.data(d, data)
    rcpt = b"RCPT TO:<alice@example.org>\r\n"
    seq = t.seq["C"]
    t.data("C", rcpt)
    t.segment("C", PSH | ACK, b"RCPT TO:<mallo@example.org>\r\n", seq=seq)
    for d, data in [("S", RCPT_OK), ("C", b"DATA\r\n"), ("S", GO_AHEAD)]:
        t.data(d, data)
    first, second = b"Subject: conflict\r\n\r\n", b"the first body line\r\n.\r\n"
    base = t.seq["C"]
    t.segment("C", PSH | ACK, second, seq=base + len(first))
    t.segment("C", PSH | ACK, b"the other body line\r\n.\r\n", seq=base + len(first))
    t.data("C", first)
    t.seq["C"] += len(second)
    for d, data in [("S", QUEUED % b"CONF1")] + quit_():
        t.data(d, data)
    t.close("S")


SCENARIOS = [
    ("smuggling", adv_smuggling), ("bdat-malformed", adv_bdat_malformed),
    ("starttls-injection", adv_starttls_injection), ("overlong", adv_overlong),
    ("garbage", adv_garbage), ("unsolicited", adv_unsolicited),
    ("multiline-mismatch", adv_multiline_mismatch),
    ("pipelining-unadvertised", adv_pipelining_unadvertised), ("gap", adv_gap),
    ("reset", adv_reset), ("no-fin", adv_no_fin), ("cut-midstream", adv_cut_midstream),
    ("8bit", adv_8bit), ("terminal-escape", adv_terminal_escape), ("auth-plain", adv_auth_plain),
    ("unknown-verbs-pipelined", adv_unknown_verbs_pipelined), ("bdat-huge", adv_bdat_huge),
    ("terminal-unicode", adv_terminal_unicode), ("time-edges", adv_time_edges),
    ("time-edges", adv_time_edges_ng, Pcapng), ("reply-context", adv_reply_context),
]


def _eth(ethertype, payload):
    return b"\x00" * 12 + struct.pack("!H", ethertype) + payload


def _ipv4(src, dst, proto, payload, frag=0x4000, ihl=5, total=None, options=b""):
    hl = ihl + len(options) // 4
    ip = struct.pack("!BBHHHBBH4s4s", 0x40 | hl, 0, total if total is not None else 4 * hl + len(payload),
                     0x7000, frag, 64, proto, 0, src, dst) + options
    return ip[:10] + struct.pack("!H", csum(ip)) + ip[12:] + payload


def _tcp_hdr(sport, dport, flags=ACK, off=5):
    return struct.pack("!HHIIBBHHH", sport, dport, 1, 1, off << 4, flags, 65535, 0, 0)


def adv_discards(p):
    """Everything the front end and reassembly skip or discard, each once (or a known number of
    times), for the counters of the summary and the end-of-run line (docs/summary.md):
    frames that are not SMTP (ARP, UDP, TCP between other ports); damaged or unusable IP (a header
    length below 5 words, a fragment shorter than 8 bytes, a packet longer than what was captured,
    a 240/4 source, an IPv6 fragment, IPv6 of a stream whose SYN was not seen, a source-routed
    IPv4 packet, which libnids refuses); 20 sessions open at once (--max-sessions 16 evicts the
    4 oldest); a session whose client data behind a lost segment fills libnids'
    out-of-order queue (64 KB, then discarded whole); a session with a segment whose TCP data
    offset points past its end."""
    lo, far = CLIENT_IP, bytes([10, 9, 9, 9])
    p.add(_eth(0x0806, b"\x00\x01\x08\x00\x06\x04\x00\x01" + b"\x00" * 20))              # not IP
    p.add(_eth(0x0800, _ipv4(lo, lo, 17, struct.pack("!HHHH", 5353, 5353, 8, 0))))         # not TCP
    p.add(_eth(0x0800, _ipv4(lo, lo, 6, _tcp_hdr(40000, 80))))                              # other port
    p.add(_eth(0x0800, _ipv4(lo, lo, 6, _tcp_hdr(40000, 25), ihl=4)))                       # bad header
    p.add(_eth(0x0800, _ipv4(lo, lo, 6, b"\x9c\x40\x00\x19", frag=0x2000)))                # short frag
    p.add(_eth(0x0800, _ipv4(lo, lo, 6, _tcp_hdr(40000, 25), total=140)))                   # truncated
    p.add(_eth(0x0800, _ipv4(bytes([240, 1, 2, 3]), lo, 6, _tcp_hdr(40000, 25))))          # reserved
    lsrr = b"\x83\x07\x04" + far + b"\x00"  # loose source route (RFC 791): libnids refuses it
    p.add(_eth(0x0800, _ipv4(far, lo, 6, _tcp_hdr(40000, 25), options=lsrr)))               # libnids IP
    v6 = b"\x00" * 15 + b"\x01"
    frag = struct.pack("!BBHI", 6, 0, 0x0001, 7) + _tcp_hdr(40000, 25)
    p.add(_eth(0x86DD, struct.pack("!IHBB", 0x60000000, len(frag), 44, 64) + v6 + v6 + frag))  # v6 frag
    seg = _tcp_hdr(40000, 25)
    p.add(_eth(0x86DD, struct.pack("!IHBB", 0x60000000, len(seg), 6, 64) + v6 + v6 + seg))    # unmapped
    many = [Tcp(p) for _ in range(20)]
    for t in many:
        t.open()
    for t in many:
        t.data("S", BANNER)
    for t in many:
        t.close("C")
    steps = greet() + envelope() + [("C", b"DATA\r\n"), ("S", GO_AHEAD), ("Cgap", b"Subject: lost\r\n")]
    steps += [("C", b"x" * 998 + b"\r\n") for _ in range(60)]
    session(p, steps, close=None)
    t = session(p, greet(), close=None)
    p.add(_eth(0x0800, _ipv4(lo, lo, 6, _tcp_hdr(t.cport, 25, PSH | ACK, off=15) + b"NOOP\r\n")))
    for st in [("C", b"NOOP\r\n"), ("S", OK)] + quit_():
        t.data(st[0], st[1])
    t.close("S")


SCENARIOS.append(("discards", adv_discards))
SCENARIOS += [("tcp-bad-offset", adv_tcp_bad_offset), ("frag-overlap", adv_frag_overlap),
              ("retrans-conflict", adv_retrans_conflict)]


def write(path, data):
    with open(path + ".tmp", "wb") as f:
        f.write(data)
    os.replace(path + ".tmp", path)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                              "..", "pcaps")
    os.makedirs(out, exist_ok=True)
    for name, fn, *kind in SCENARIOS:
        p = (kind[0] if kind else Pcap)()
        fn(p)
        path = os.path.join(out, "adv-%s.%s" % (name, "pcapng" if kind else "pcap"))
        write(path, p.bytes())
        print("make-adversarial: wrote %s (%d packets)" % (path, len(p.frames)), file=sys.stderr)
    write(os.path.join(out, "not-a-capture.pcap"),
          b"This is a text file named .pcap, not a capture.\n"
          b"smtpsniff must report that it cannot read it and exit non-zero, without crashing.\n")
    write(os.path.join(out, "empty.pcap"), b"")
    # A valid pcap of a link type smtpsniff does not decode (IEEE 802.11, DLT 105), one packet.
    frame = b"\x08\x00" + b"\x00" * 22
    write(os.path.join(out, "unsupported-linktype.pcap"),
          struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 105) +
          struct.pack("<IIII", 1704067200, 0, len(frame), len(frame)) + frame)


if __name__ == "__main__":
    main()
