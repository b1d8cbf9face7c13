#!/usr/bin/env python3
"""Builds the messages of pcaps/extract-attachments.pcap (tools/make-extract-pcaps) and sends the
BDAT one.

  extract-messages.py OUTDIR SOURCES.sha256    write OUTDIR/data-*.eml, OUTDIR/bdat-1.eml and the
                                               list of attachment source files with their SHA-256
  extract-messages.py --send-bdat FILE HOST PORT   send FILE as one message with BDAT (RFC 3030)

The source files are deterministic (a seeded generator), so their hashes are known in advance:
what smtpsniff extracts must hash to them.
"""
import email.generator
import email.policy
import hashlib
import io
import random
import socket
import sys
from email.message import EmailMessage


def sources():
    rnd = random.Random(20261201)
    blob = bytes(rnd.getrandbits(8) for _ in range(40000))
    # An executable's first bytes (an MZ header and a PE signature) sent as "invoice.pdf".
    pe = bytearray(b"MZ" + b"\x90\x00" * 29 + b"\x80\x00\x00\x00")
    pe += b"\x00" * (0x80 - len(pe)) + b"PE\x00\x00\x4c\x01\x03\x00" + bytes(200)
    text = ("Grüße aus Zürich: line with trailing space \n" * 40 +
            "a very long line " + "x" * 300 + "\n=equals= and tabs\tend\n").encode("utf-8")
    png = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                        "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")
    return {"blob.bin": blob, "invoice.pdf": bytes(pe), "notes.txt": text, "pixel.png": png,
            "empty.dat": b""}


def outer(n, subject):
    """Message n as the client sends it to alice, with the headers every one carries."""
    m = EmailMessage(policy=email.policy.SMTP)
    m["From"] = "sender@example.net"
    m["To"] = "alice@example.org"
    m["Subject"] = subject
    m["Date"] = "Tue, 01 Dec 2026 12:00:00 +0000"  # or Postfix adds one, and its copy differs
    m["Message-ID"] = f"<extract-{n}@client.example.net>"
    return m


def build(src):
    msgs = {}
    pol = email.policy.SMTP
    # 1: text in quoted-printable, a binary attachment, a PNG, a zero-byte file.
    m = outer(1, "attachments: binary, image, empty")
    m.set_content(src["notes.txt"].decode("utf-8"), cte="quoted-printable")
    m.add_attachment(src["blob.bin"], maintype="application", subtype="octet-stream", filename="blob.bin")
    m.add_attachment(src["pixel.png"], maintype="image", subtype="png", filename="pixel.png")
    m.add_attachment(src["empty.dat"], maintype="application", subtype="octet-stream", filename="empty.dat")
    msgs["data-1.eml"] = m
    # 2: the same file twice, a UTF-8 filename (RFC 2231), an executable declared as a PDF.
    m = outer(2, "same file twice, UTF-8 name, fake PDF")
    m.set_content("See the attachments.\n")
    m.add_attachment(src["blob.bin"], maintype="application", subtype="octet-stream", filename="blob.bin")
    m.add_attachment(src["blob.bin"], maintype="application", subtype="octet-stream",
                     filename="Präsentation – final.bin")
    m.add_attachment(src["invoice.pdf"], maintype="application", subtype="pdf", filename="invoice.pdf")
    msgs["data-2.eml"] = m
    # 3: a nested message/rfc822 that carries an attachment of its own; a body line starting with a dot.
    inner = EmailMessage(policy=pol)
    inner["From"] = "bob@example.org"
    inner["To"] = "sender@example.net"
    inner["Subject"] = "the forwarded one"
    inner.set_content(".this line starts with a dot\n..and this one with two\n")
    inner.add_attachment(src["pixel.png"], maintype="image", subtype="png", filename="pixel.png")
    m = outer(3, "forwarded message inside")
    m.set_content("Forwarding.\n")
    m.add_attachment(inner)
    msgs["data-3.eml"] = m
    # 4 (BDAT): a text part and the binary again.
    m = outer(4, "sent with BDAT")
    m.set_content("Chunked.\n")
    m.add_attachment(src["blob.bin"], maintype="application", subtype="octet-stream", filename="blob.bin")
    msgs["bdat-1.eml"] = m
    return msgs


def write(outdir, listing):
    src = sources()
    for name, m in build(src).items():
        buf = io.BytesIO()
        email.generator.BytesGenerator(buf, policy=email.policy.SMTP).flatten(m)
        # swaks sends the file as lines and adds CRLF itself: give it LF lines.
        data = buf.getvalue()
        if name.startswith("data-"):
            data = data.replace(b"\r\n", b"\n")
        with open(f"{outdir}/{name}", "wb") as f:
            f.write(data)
    with open(listing, "w") as f:
        f.write("# SHA-256 of the attachment source files of pcaps/extract-attachments.pcap "
                "(tools/extract-messages.py)\n")
        for name, data in sorted(src.items()):
            f.write(f"{hashlib.sha256(data).hexdigest()}  {name}\n")


def send_bdat(path, host, port):
    data = open(path, "rb").read()
    s = socket.create_connection((host, int(port)))
    f = s.makefile("rb")

    def reply():
        lines = []
        while True:
            line = f.readline()
            lines.append(line)
            if len(line) < 4 or line[3:4] != b"-":
                return lines

    def cmd(line):
        s.sendall(line + b"\r\n")
        return reply()

    reply()
    cmd(b"EHLO client.example.net")
    cmd(b"MAIL FROM:<sender@example.net>")
    cmd(b"RCPT TO:<alice@example.org>")
    half = len(data) // 2  # two chunks: the second one LAST
    s.sendall(b"BDAT %d\r\n" % half + data[:half])
    reply()
    s.sendall(b"BDAT %d LAST\r\n" % (len(data) - half) + data[half:])
    print(b"".join(reply()).decode(errors="replace").strip())
    cmd(b"QUIT")
    s.close()


if __name__ == "__main__":
    if sys.argv[1] == "--send-bdat":
        send_bdat(*sys.argv[2:5])
    else:
        write(sys.argv[1], sys.argv[2])
