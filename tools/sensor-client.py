#!/usr/bin/env python3
"""Scripted SMTP clients for tools/make-sensor-pcaps (addresses of its own namespaces only).

    sensor-client.py pause HOST PORT DIR        pauses after MAIL FROM's reply
    sensor-client.py pause-data HOST PORT DIR   pauses inside DATA content (after 20 of 40 lines)
    sensor-client.py reuse HOST PORT LPORT      two sessions, one after the other, from local port LPORT

A pause: the client creates DIR/paused, then waits until DIR/go exists (the capture is started in
between). Each client waits for every reply, as a plain client does.
"""
import ipaddress
import os
import socket
import sys
import time

HELO = "client.example.net"
ALLOWED = [ipaddress.ip_network(n) for n in ("127.0.0.0/8", "::1/128", "198.18.0.0/15", "fd15::/16")]


class Client:
    def __init__(self, host, port, lport=None):
        addr = ipaddress.ip_address(host)
        if not any(addr in n for n in ALLOWED):
            sys.exit("refusing address %s (loopback and the fixture namespaces only)" % host)
        fam = socket.AF_INET6 if addr.version == 6 else socket.AF_INET
        self.s = socket.socket(fam, socket.SOCK_STREAM)
        if lport is not None:
            self.s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self.s.bind(("::" if fam == socket.AF_INET6 else "0.0.0.0", lport))
        self.s.settimeout(30)
        self.s.connect((host, port))
        self.buf = b""
        self.reply()

    def reply(self):
        while True:
            while b"\n" not in self.buf:
                d = self.s.recv(65536)
                if not d:
                    raise EOFError("server closed")
                self.buf += d
            ln, self.buf = self.buf.split(b"\n", 1)
            sys.stdout.write("S: " + ln.decode("latin-1") + "\n")
            if len(ln) < 4 or ln[3:4] != b"-":
                return ln

    def cmd(self, text):
        sys.stdout.write("C: " + text + "\n")
        self.s.sendall(text.encode() + b"\r\n")
        return self.reply()

    def quit(self):
        self.cmd("QUIT")
        self.s.close()


def content(subject, lines):
    head = ("Date: Mon, 01 Jan 2024 00:00:00 +0000\r\nFrom: <sender@example.net>\r\n"
            "To: <alice@example.org>\r\nSubject: %s\r\n\r\n" % subject).encode()
    return head, [b"line %02d of the %s body\r\n" % (i, subject.encode()) for i in range(1, lines + 1)]


def pause_point(d):
    open(os.path.join(d, "paused"), "w").close()
    go = os.path.join(d, "go")
    for _ in range(600):
        if os.path.exists(go):
            return
        time.sleep(0.05)
    sys.exit("sensor-client: nobody created %s" % go)


def pause(host, port, d):
    c = Client(host, port)
    c.cmd("EHLO " + HELO)
    c.cmd("MAIL FROM:<sender@example.net>")
    pause_point(d)
    c.cmd("RCPT TO:<alice@example.org>")
    c.cmd("RCPT TO:<bob@example.org>")
    c.cmd("DATA")
    head, body = content("started during a pause", 10)
    c.s.sendall(head + b"".join(body) + b".\r\n")
    c.reply()
    c.quit()


def pause_data(host, port, d):
    c = Client(host, port)
    c.cmd("EHLO " + HELO)
    c.cmd("MAIL FROM:<sender@example.net>")
    c.cmd("RCPT TO:<alice@example.org>")
    c.cmd("DATA")
    head, body = content("started inside DATA", 40)
    c.s.sendall(head + b"".join(body[:20]))
    pause_point(d)
    c.s.sendall(b"".join(body[20:]) + b".\r\n")
    c.reply()
    c.cmd("MAIL FROM:<second@example.net>")
    c.cmd("RCPT TO:<bob@example.org>")
    c.cmd("DATA")
    head, body = content("second message after the late start", 3)
    c.s.sendall(head + b"".join(body) + b".\r\n")
    c.reply()
    c.quit()


def reuse(host, port, lport):
    for n in (1, 2):
        c = Client(host, port, lport)
        c.cmd("EHLO " + HELO)
        c.cmd("MAIL FROM:<reuse%d@example.net>" % n)
        c.cmd("RCPT TO:<alice@example.org>")
        c.cmd("DATA")
        head, body = content("session %d from the same port" % n, 2)
        c.s.sendall(head + b"".join(body) + b".\r\n")
        c.reply()
        c.quit()
        time.sleep(1.0)


def main():
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    sc, host, port, arg = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    if sc == "pause":
        pause(host, port, arg)
    elif sc == "pause-data":
        pause_data(host, port, arg)
    elif sc == "reuse":
        reuse(host, port, int(arg))
    else:
        sys.exit("unknown scenario " + sc)


if __name__ == "__main__":
    main()
