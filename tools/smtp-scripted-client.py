#!/usr/bin/env python3
"""Scripted raw SMTP clients used by tools/make-pcaps (loopback only).

    smtp-scripted-client.py SCENARIO [HOST] [PORT]

Each scenario talks to a real server over a plain socket and waits for every
reply (or sends several commands in one write where the scenario says so), so
that the capture shows exactly the bytes a misbehaving or unusual client sends.
Only loopback addresses are accepted.
"""
import ipaddress
import socket
import sys

HELO = "client.example.net"


class Client:
    def __init__(self, host, port, read_banner=True, lport=None):
        if not ipaddress.ip_address(host).is_loopback:
            sys.exit("refusing non-loopback address %s" % host)
        fam = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.s = socket.socket(fam, socket.SOCK_STREAM)
        if lport is not None:  # a fixed client port (tools/sensor-client.py reuses one)
            self.s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self.s.bind(("::" if fam == socket.AF_INET6 else "0.0.0.0", lport))
        self.s.settimeout(20)
        self.s.connect((host, port))
        self.buf = b""
        if read_banner:
            self.reply()

    def line(self):
        while b"\n" not in self.buf:
            d = self.s.recv(65536)
            if not d:
                raise EOFError("server closed")
            self.buf += d
        ln, self.buf = self.buf.split(b"\n", 1)
        return ln + b"\n"

    def reply(self):
        """Read one complete (possibly multi-line) reply."""
        lines = []
        while True:
            ln = self.line()
            lines.append(ln)
            sys.stdout.write("S: " + ln.decode("latin-1"))
            if len(ln) < 4 or ln[3:4] != b"-":
                return lines

    def send(self, data):
        for ln in data.split(b"\r\n"):
            if ln:
                sys.stdout.write("C: " + ln.decode("latin-1")[:200] + "\n")
        self.s.sendall(data)

    def cmd(self, text):
        self.send(text.encode() + b"\r\n")
        return self.reply()

    def close(self):
        self.s.close()


def message(subject, to, extra_headers=b"", body=b"Hello.\r\n"):
    return (b"Date: Mon, 01 Jan 2024 00:00:00 +0000\r\n"
            b"From: Sender <sender@example.net>\r\n"
            b"To: <" + to.encode() + b">\r\n"
            b"Subject: " + subject.encode() + b"\r\n" + extra_headers +
            b"\r\n" + body)


def rejects(host, port):
    c = Client(host, port)
    c.cmd("HELO " + HELO)
    c.cmd("VRFY alice")
    c.cmd("VRFY nosuchuser")
    c.cmd("EXPN list")
    c.cmd("HELP")
    c.cmd("NOOP")
    c.cmd("XYZZY plugh")
    c.cmd("RCPT TO:<alice@example.org>")          # 503: need MAIL first
    c.cmd("MAIL FROM:<>")                          # null sender
    c.cmd("RCPT TO:<nosuchuser@example.org>")     # 550 5.1.1
    c.cmd("DATA")                                  # 554 5.5.1 no valid recipients
    # The client does not notice the rejection and sends its message anyway:
    # after a rejected DATA these lines are commands, not body.
    c.cmd("hello, this body line is a command now")
    c.cmd("second body line")
    # (a lone "." or a header-like line here would make Postfix hang up: see the second session)
    c.cmd("RSET")
    c.cmd("QUIT")
    c.close()
    # Second session: same mistake, but the first body line looks like a message header;
    # Postfix then answers 221 "I can break rules, too" and closes the connection itself.
    c = Client(host, port)
    c.cmd("HELO " + HELO)
    c.cmd("MAIL FROM:<sender@example.net>")
    c.cmd("RCPT TO:<nosuchuser@example.org>")
    c.cmd("DATA")
    c.cmd("Subject: this header line is a command now")
    try:
        c.cmd("QUIT")          # server has closed: no reply
    except (EOFError, OSError):
        pass
    c.close()


def multi(host, port):
    c = Client(host, port)
    c.cmd("EHLO " + HELO)
    c.cmd("MAIL FROM:<sender@example.net>")
    c.cmd("RCPT TO:<alice@example.org>")
    c.cmd("RCPT TO:<bob@example.org>")
    c.cmd("DATA")
    hdrs = (b"Date: Mon, 01 Jan 2024 00:00:00 +0000\r\n"
            b"From: Sender Example <sender@example.net>\r\n"
            b"To: Alice <alice@example.org>\r\n"
            b"Cc: Bob <bob@example.org>\r\n"
            b"Subject: =?UTF-8?B?UsOpc3Vtw6kgZHUgdHJpbWVzdHJl?= report\r\n"
            b"Message-ID: <multi-1.20240101@client.example.net>\r\n"
            b"X-Mailer: smtpsniff-fixture 1.0\r\n"
            b"MIME-Version: 1.0\r\n"
            b"Content-Type: text/plain; charset=utf-8\r\n")
    body = (b"First line of the body.\r\n"
            b"..leading dot (dot-stuffed: the message line is \".leading dot\")\r\n"
            b"...\r\n"
            b"Last line.\r\n")
    c.send(hdrs + b"\r\n" + body + b".\r\n")
    c.reply()
    c.cmd("RSET")
    # second transaction, abandoned by a second EHLO (which resets it)
    c.cmd("MAIL FROM:<sender@example.net>")
    c.cmd("RCPT TO:<bob@example.org>")
    c.cmd("EHLO " + HELO)
    # third transaction, completed
    c.cmd("MAIL FROM:<sender@example.net>")
    c.cmd("RCPT TO:<bob@example.org>")
    c.cmd("DATA")
    c.send(message("second message", "bob@example.org",
                   b"Message-ID: <multi-2.20240101@client.example.net>\r\n",
                   b"Second body.\r\n") + b".\r\n")
    c.reply()
    c.cmd("QUIT")
    c.close()


def fixed_size(msg, n):
    """Pad (or cut) a message body so the whole message is exactly n bytes."""
    if len(msg) > n - 2:
        raise ValueError("message header too long")
    pad = n - len(msg) - 2
    return msg + b"x" * pad + b"\r\n"


def bdat(host, port):
    c = Client(host, port)
    c.cmd("EHLO " + HELO)
    c.cmd("MAIL FROM:<sender@example.net>")
    c.cmd("RCPT TO:<alice@example.org>")
    m1 = fixed_size(b"From: <sender@example.net>\r\nSubject: bdat one\r\n\r\nBody: ", 100)
    assert len(m1) == 100
    c.send(b"BDAT 100\r\n" + m1)
    c.reply()
    c.cmd("BDAT 0 LAST")
    # second transaction: one chunk, lowercase verb and LAST
    c.cmd("MAIL FROM:<sender@example.net>")
    c.cmd("RCPT TO:<bob@example.org>")
    m2 = fixed_size(b"Subject: bdat two\r\n\r\n", 50)
    assert len(m2) == 50
    c.send(b"bdat 50 last\r\n" + m2)
    c.reply()
    c.cmd("QUIT")
    c.close()


def reply_or_silence(c, wait):
    """One reply, or None when the server says nothing for `wait` seconds (it is reading a chunk)
    or has closed the connection."""
    c.s.settimeout(wait)
    try:
        return c.reply()
    except socket.timeout:
        sys.stdout.write("S: (no reply in %g s)\n" % wait)
        return None
    except (EOFError, ConnectionResetError):
        sys.stdout.write("S: (connection closed)\n")
        return None
    finally:
        c.s.settimeout(20)


def bdat_huge(host, port):
    """BDAT sizes at and past what the server can hold (postfix: a signed 64-bit off_t). Each
    session sends the BDAT and a second transaction in one write; which replies come back tells
    whether the server read those bytes as commands or as chunk data."""
    after = (b"RSET\r\nMAIL FROM:<mallory@example.net>\r\nRCPT TO:<bob@example.org>\r\n"
             b"DATA\r\n")
    for size in (b"9223372036854775808", b"18446744073709551616", b"18446744073709551617",
                 b"99999999999999999999999", b"+5", b"9223372036854775807"):
        c = Client(host, port)
        c.cmd("EHLO " + HELO)
        c.cmd("MAIL FROM:<sender@example.net>")
        c.cmd("RCPT TO:<alice@example.org>")
        c.send(b"BDAT " + size + b"\r\n" + after)
        r = reply_or_silence(c, 3)
        if r is not None and r[0][:1] in (b"4", b"5"):
            for _ in range(4):         # RSET, MAIL, RCPT, DATA
                if reply_or_silence(c, 3) is None:
                    break
            else:
                c.send(message("wire the money", "bob@example.org",
                               body=b"Pay account 1234 today.\r\n") + b".\r\n")
                c.reply()
                c.cmd("QUIT")
        c.close()


def auth_cancel(host, port):
    c = Client(host, port)
    c.cmd("EHLO " + HELO)
    c.cmd("AUTH LOGIN")        # 334 VXNlcm5hbWU6
    c.cmd("*")                 # 501 5.7.0 Authentication aborted
    c.cmd("QUIT")
    c.close()


def banner_scan(host, port):
    c = Client(host, port)     # read the banner, then just hang up
    c.close()
    c = Client(host, port)
    c.cmd("QUIT")
    c.close()


def second_server(host, port):
    """Extra probing for the second real server scenario."""
    c = Client(host, port)
    c.cmd("EHLO " + HELO)
    c.cmd("VRFY alice")
    c.cmd("NOOP")
    c.cmd("MAIL FROM:<sender@example.net>")
    c.cmd("RCPT TO:<nosuchuser@example.org>")
    c.cmd("RCPT TO:<alice@example.org>")
    c.cmd("RSET")
    c.cmd("QUIT")
    c.close()


def concurrent(host, port, n=19):
    """n sessions open at once (for --max-sessions 16, the smallest: three more than it keeps):
    each greets with EHLO, then all stay open until the last has greeted, then each QUITs."""
    cs = []
    for _ in range(n):
        c = Client(host, port)
        c.cmd("EHLO " + HELO)
        cs.append(c)
    for c in cs:
        c.cmd("QUIT")
        c.close()


SCENARIOS = {
    "rejects": rejects, "multi": multi, "bdat": bdat, "bdat-huge": bdat_huge,
    "auth-cancel": auth_cancel, "banner-scan": banner_scan,
    "second-server": second_server, "concurrent": concurrent,
}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in SCENARIOS:
        sys.exit("usage: %s {%s} [HOST] [PORT]" % (sys.argv[0], "|".join(SCENARIOS)))
    h = sys.argv[2] if len(sys.argv) > 2 else "127.0.0.1"
    p = int(sys.argv[3]) if len(sys.argv) > 3 else 25
    SCENARIOS[sys.argv[1]](h, p)
