#!/usr/bin/env python3
"""Scripted SMTP clients for tools/make-sensor-pcaps (loopback only, inside the script's namespace).

    sensor-client.py pause HOST PORT DIR        pauses after MAIL FROM's reply
    sensor-client.py pause-data HOST PORT DIR   pauses inside DATA content (after 20 of 40 lines)
    sensor-client.py reuse HOST PORT LPORT      two sessions, one after the other, from local port LPORT

A pause: the client creates DIR/paused, then waits until DIR/go exists (the capture is started in
between). Each client waits for every reply, as a plain client does. The socket client is the one
of tools/smtp-scripted-client.py.
"""
import importlib.util
import os
import sys
import time

_spec = importlib.util.spec_from_file_location(
    "smtp_scripted_client", os.path.join(os.path.dirname(os.path.abspath(__file__)), "smtp-scripted-client.py"))
_ssc = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_ssc)
Client, HELO = _ssc.Client, _ssc.HELO


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


def transaction(c, sender, rcpts, subject, lines, pause_after=None, d=None):
    """MAIL, RCPTs, DATA, the message (pausing after line pause_after if given), the final reply."""
    c.cmd("MAIL FROM:<%s>" % sender)
    for r in rcpts:
        c.cmd("RCPT TO:<%s>" % r)
    c.cmd("DATA")
    head, body = content(subject, lines)
    if pause_after is None:
        c.s.sendall(head + b"".join(body) + b".\r\n")
    else:
        c.s.sendall(head + b"".join(body[:pause_after]))
        pause_point(d)
        c.s.sendall(b"".join(body[pause_after:]) + b".\r\n")
    c.reply()


def pause(host, port, d):
    c = Client(host, port)
    c.cmd("EHLO " + HELO)
    c.cmd("MAIL FROM:<sender@example.net>")
    pause_point(d)
    for r in ("alice@example.org", "bob@example.org"):
        c.cmd("RCPT TO:<%s>" % r)
    c.cmd("DATA")
    head, body = content("started during a pause", 10)
    c.s.sendall(head + b"".join(body) + b".\r\n")
    c.reply()
    c.cmd("QUIT")
    c.close()


def pause_data(host, port, d):
    c = Client(host, port)
    c.cmd("EHLO " + HELO)
    transaction(c, "sender@example.net", ["alice@example.org"], "started inside DATA", 40, 20, d)
    transaction(c, "second@example.net", ["bob@example.org"], "second message after the late start", 3)
    c.cmd("QUIT")
    c.close()


def reuse(host, port, lport):
    for n in (1, 2):
        c = Client(host, port, lport=lport)
        c.cmd("EHLO " + HELO)
        transaction(c, "reuse%d@example.net" % n, ["alice@example.org"], "session %d from the same port" % n, 2)
        c.cmd("QUIT")
        c.close()
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
