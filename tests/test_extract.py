#!/usr/bin/env python3
"""--extract and --files on real traffic (pcaps/extract-attachments.pcap, tools/make-extract-pcaps):
every .eml must be what Postfix stored (its pipe transport's copy, tests/extract/stored/, less the
Received header Postfix put on top), every attachment must hash to its source file
(tests/extract/sources.sha256), files are stored once by SHA-256, names never come from the wire,
modes are 0700/0600, and the JSON Lines parts under --files match the index.

  test_extract.py SMTPSNIFF SRCDIR
"""
import hashlib
import json
import os
import resource
import signal
import stat
import struct
import subprocess
import sys
import tempfile

failures = 0


def check(cond, what):
    global failures
    if not cond:
        failures += 1
        print(f"FAIL: {what}")


def sha256(b):
    return hashlib.sha256(b).hexdigest()


def run(binary, *args):
    return subprocess.run([binary, *args], capture_output=True, env=dict(os.environ, TZ="UTC", LC_ALL="C"))


def pcap_records(path):
    """(file header, [(client port, record bytes), ...]) of a little-endian EN10MB IPv4 capture."""
    data = open(path, "rb").read()
    off, recs = 24, []
    while off + 16 <= len(data):
        caplen = struct.unpack("<I", data[off + 8:off + 12])[0]
        rec = data[off:off + 16 + caplen]
        ip = rec[16 + 14:]
        sport, dport = struct.unpack(">HH", ip[(ip[0] & 15) * 4:][:4])
        recs.append((sport if dport == 25 else dport, rec))
        off += 16 + caplen
    return data[:24], recs


def interrupted(binary, pcap, tmp):
    """SIGINT while a message is in progress: the capture arrives on stdin, the first session cut
    inside its DATA content, then a whole later session; once that session's record is out,
    everything before it has been read, and smtpsniff gets SIGINT with the first message open."""
    head, recs = pcap_records(pcap)
    first, last = recs[0][0], recs[-1][0]
    own = [r for port, r in recs if port == first]
    # Up to the first content segment after the server's 354: the message is open.
    at = next(i for i, r in enumerate(own) if b"354 " in r)
    cut = own[: at + 2]
    later = [r for port, r in recs if port == last]
    out = os.path.join(tmp, "sigint")
    p = subprocess.Popen([binary, "--json", "--extract", out, "-r", "-"], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    p.stdin.write(head + b"".join(cut) + b"".join(later))
    p.stdin.flush()
    for line in p.stdout:  # records go out one by one when the capture is on stdin
        if b'"type":"session"' in line:
            break
    p.send_signal(signal.SIGINT)
    p.stdin.close()
    p.stdout.read()
    p.wait(timeout=60)
    return p.returncode, out


def main(binary, src):
    pcap = os.path.join(src, "pcaps/extract-attachments.pcap")
    sources = {}
    for line in open(os.path.join(src, "tests/extract/sources.sha256")):
        if not line.startswith("#"):
            digest, name = line.split(None, 1)
            sources[name.strip()] = digest
    stored_dir = os.path.join(src, "tests/extract/stored")
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "out")
        os.umask(0o022)
        r = run(binary, "-q", "--json", "--extract", out, "-r", pcap)
        check(r.returncode == 0, f"exit {r.returncode}: {r.stderr.decode()}")
        records = [json.loads(l) for l in r.stdout.splitlines()]
        index = [json.loads(l) for l in open(os.path.join(out, "index.jsonl"))]
        check(len(index) == 4, f"4 messages in the index, not {len(index)}")
        # The index's envelope has the JSON Lines' field names and values (a script joins them).
        txns = {(t["session"], t["depth"]): t for t in records if t["type"] == "transaction"}
        for rec in index:
            t = txns.get((rec["session"], rec["transaction"]), {})
            want = [{k: x[k] for k in ("addr", "code", "enhanced")} for x in t.get("rcpt_to", [])]
            check(rec["rcpt_to"] == want and rec["mail_from"] == t.get("mail_from")
                  and rec["data_reply"] == t.get("data_reply"),
                  f"index envelope of {rec['session']}-{rec['transaction']} as in JSON Lines: {rec['rcpt_to']} / {want}")

        # Modes: the directory and its folders 0700, every file 0600 (umask 022 notwithstanding).
        for d in (out, os.path.join(out, "messages"), os.path.join(out, "files")):
            check(stat.S_IMODE(os.stat(d).st_mode) == 0o700, f"{d} is 0700")
        for d in ("messages", "files"):
            for name in os.listdir(os.path.join(out, d)):
                p = os.path.join(out, d, name)
                check(stat.S_IMODE(os.stat(p).st_mode) == 0o600, f"{p} is 0600")
                check(not name.startswith(".tmp"), f"no temporary file left: {name}")

        seen_hashes = set()
        for rec in index:
            eml = open(os.path.join(out, rec["eml"]), "rb").read()
            check(sha256(eml) == rec["sha256"], f"{rec['eml']}: sha256 in the index")
            check(len(eml) == rec["size"] and not rec["partial"], f"{rec['eml']}: whole, size {rec['size']}")
            queue_id = rec["data_reply"]["text"].split()[-1]
            stored = open(os.path.join(stored_dir, queue_id), "rb").read()
            # The pipe transport writes LF line ends; Postfix put its Received header on top.
            lf = eml.replace(b"\r\n", b"\n")
            check(stored.endswith(lf), f"{rec['eml']}: equals Postfix's stored copy {queue_id}")
            head = stored[: len(stored) - len(lf)]
            check(head.startswith(b"Received: ") and head.count(b"\n") <= 4,
                  f"{rec['eml']}: only Postfix's Received header precedes it ({head[:60]!r})")
            for p in rec["parts"]:
                if p.get("stored"):
                    data = open(os.path.join(out, p["stored"]), "rb").read()
                    check(sha256(data) == p["sha256"] == os.path.basename(p["stored"]),
                          f"{p['stored']}: named by its SHA-256")
                    check(hashlib.md5(data).hexdigest() == p["md5"] and hashlib.sha1(data).hexdigest() == p["sha1"],
                          f"{p['stored']}: md5 and sha1")
                    check(len(data) == p["size"], f"{p['stored']}: size")
                    seen_hashes.add(p["sha256"])

        by_name = {}
        for rec in index:
            for p in rec["parts"]:
                if p.get("filename"):
                    by_name.setdefault(p["filename"], []).append(p)
        for name in ("blob.bin", "invoice.pdf", "pixel.png", "empty.dat"):
            check(sources[name] in seen_hashes, f"{name}'s source hash among the extracted files")
            check(all(p["sha256"] == sources[name] for p in by_name.get(name, [None])), f"{name} hashes to its source")
        # The text part, quoted-printable on the wire, decodes to the source text (CRLF line ends, RFC 2046 4.1.1).
        texts = [open(os.path.join(out, p["stored"]), "rb").read() for rec in index[:1] for p in rec["parts"]
                 if p.get("type") == "text/plain"]
        check(texts and sha256(texts[0].replace(b"\r\n", b"\n")) == sources["notes.txt"],
              "the quoted-printable text decodes to notes.txt")
        check(by_name.get("Präsentation – final.bin", [{}])[0].get("sha256") == sources["blob.bin"],
              "the RFC 2231 UTF-8 filename is decoded")
        check(len(os.listdir(os.path.join(out, "files"))) == len(seen_hashes),
              "a file seen several times is stored once")
        empty = by_name.get("empty.dat", [{}])[0]
        check(empty.get("size") == 0 and os.path.exists(os.path.join(out, "files", sources["empty.dat"])),
              "the zero-byte attachment is stored")
        pdf = by_name.get("invoice.pdf", [{}])[0]
        check(pdf.get("type") == "application/pdf" and pdf.get("type_mismatch") is True,
              "an executable declared as PDF is a mismatch")
        check(any(r["type"] == "notice" and r["notice"] == "content-type-mismatch" for r in records),
              "content-type-mismatch notice")
        check(any(p["path"] == "1.2.1.2" and p.get("filename") == "pixel.png" for p in index[2]["parts"]),
              "the attachment inside the message/rfc822 part is found")
        check(index[3]["chunked"] and index[3]["ended"], "the BDAT message is chunked and ended")
        # --files alone: the same parts in the transaction records, with no stored paths.
        r2 = run(binary, "--json", "--files", "-r", pcap)
        txns = [json.loads(l) for l in r2.stdout.splitlines() if b'"type":"transaction"' in l]
        check(len(txns) == 4, "4 transaction records under --files")
        for t, rec in zip(txns, index):
            want = [{k: v for k, v in p.items() if k != "stored"} for p in rec["parts"]]
            check(t.get("parts") == want, f"transaction {t['session']}: parts as in the index")
            check(t.get("content", {}).get("sha256") == rec["sha256"], "content.sha256 as in the index")
        # A message with a hole: written, marked partial, its bytes up to the hole as received, never filled.
        hole = os.path.join(tmp, "hole")
        r8 = run(binary, "-q", "--extract", hole, "-r", os.path.join(src, "pcaps/extract-hole.pcap"))
        hidx = [json.loads(l) for l in open(os.path.join(hole, "index.jsonl"))] if r8.returncode == 0 else []
        h1 = [r for r in hidx if r["data_reply"] and r["data_reply"]["text"] == index[0]["data_reply"]["text"]]
        check(len(h1) == 1 and h1[0]["partial"], "the message with a hole is written and partial")
        if h1:
            cut = open(os.path.join(hole, h1[0]["eml"]), "rb").read()
            whole = open(os.path.join(out, index[0]["eml"]), "rb").read()
            upto = h1[0]["holes"][0]["offset"] if h1[0]["holes"] else len(cut)
            check(len(cut) < len(whole) and cut[:upto] == whole[:upto], "bytes before the hole as received")
            check(h1[0]["size"] >= len(cut) and h1[0]["sha256"] == sha256(cut), "the hole is not filled")
        # Smuggling, from both sides: the message a lenient server would have read after the bare-LF dot.
        smug = os.path.join(tmp, "smug")
        r9 = run(binary, "-q", "--extract", smug, "-r", os.path.join(src, "pcaps/adv-smuggling.pcap"))
        sidx = [json.loads(l) for l in open(os.path.join(smug, "index.jsonl"))] if r9.returncode == 0 else []
        with_split = [r for r in sidx if r["smuggling_ends"]]
        check(with_split and all(r["smuggled_eml"] for r in with_split), "every smuggling end gets a .smuggled.eml")
        for r in with_split:
            eml = open(os.path.join(smug, r["eml"]), "rb").read()
            rest = open(os.path.join(smug, r["smuggled_eml"]), "rb").read()
            check(rest == eml[r["smuggling_ends"][0]["resume"]:] and b"MAIL FROM" in rest.upper(),
                  f"{r['smuggled_eml']}: what follows the lenient end")
        # SIGINT with a message in progress: it is written as partial and indexed, nothing half-written.
        rc, sig = interrupted(binary, pcap, tmp)
        sidx = [json.loads(l) for l in open(os.path.join(sig, "index.jsonl"))] if os.path.exists(sig) else []
        part = [r for r in sidx if r["session"] == 1]
        check(rc == 0 and len(part) == 1 and part[0]["partial"] and not part[0]["ended"] and part[0]["eml"],
              f"SIGINT: the message in progress is indexed as partial ({rc}, {part})")
        check(not [n for d in ("messages", "files") for n in os.listdir(os.path.join(sig, d)) if n.startswith(".tmp")],
              "SIGINT: no temporary file left")
        # A write that fails (here RLIMIT_FSIZE: EFBIG past 3000 bytes, SIGXFSZ ignored) is an
        # extract-error notice for each object, the index record included, the end line says how
        # many, and the exit status is 1: nothing is lost silently.
        def small_files():
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (3000, 3000))
        full = os.path.join(tmp, "full")
        rf = subprocess.run([binary, "--json", "--extract", full, "-r", pcap], capture_output=True,
                            preexec_fn=small_files)
        errs = [json.loads(l) for l in rf.stdout.splitlines() if b'"extract-error"' in l]
        check(rf.returncode == 1 and b"writes failed" in rf.stderr, f"failed writes: exit {rf.returncode}, {rf.stderr!r}")
        check(any("index record" in e["detail"] for e in errs) and any("message" in e["detail"] for e in errs),
              f"extract-error notices for the messages and the index records ({len(errs)})")
        # The summary counts messages, parts by sniffed type, mismatches, and the files seen most often.
        summ = os.path.join(tmp, "summary.json")
        r7 = run(binary, "-q", "--files", "--summary", summ, "-r", pcap)
        c = json.load(open(summ)).get("content", {}) if r7.returncode == 0 else {}
        check(c.get("messages") == 4 and c.get("type_mismatches") == 1, f"summary content counts: {c}")
        top = c.get("top_files", [{}])[0]
        check(top.get("sha256") == sources["blob.bin"] and top.get("seen") == 4 and top.get("name") == "blob.bin",
              f"blob.bin is the file seen most often: {top}")
        # The text form names the same files; one without a name reads "-" (JSON: null).
        summt = os.path.join(tmp, "summary.txt")
        r12 = run(binary, "-q", "--files", "--summary", summt, "-r", pcap)
        rows = open(summt).read().split("files seen most often")[1].split("\n\n")[0].splitlines()[1:] \
            if r12.returncode == 0 else []
        check(rows and all(not l.endswith(" ") for l in rows) and any(l.endswith("  -") for l in rows)
              and any(l.endswith("  blob.bin") for l in rows), f"text summary files: {rows}")
        # Without --files nothing of it appears (and nothing is paid for).
        r3 = run(binary, "--json", "-r", pcap)
        check(b'"parts"' not in r3.stdout, "no parts without --files")
        # An earlier extraction is never overwritten.
        r4 = run(binary, "-q", "--extract", out, "-r", pcap)
        check(r4.returncode != 0 and b"earlier extraction" in r4.stderr, "a used directory is refused")
        # A symlink in place of the directory is not followed.
        link = os.path.join(tmp, "link")
        os.symlink(os.path.join(tmp, "elsewhere"), link)
        os.mkdir(os.path.join(tmp, "elsewhere"))
        r5 = run(binary, "-q", "--extract", link, "-r", pcap)
        check(r5.returncode != 0 and os.listdir(os.path.join(tmp, "elsewhere")) == [], "a symlinked DIR is refused")
        check(b"is a symlink" in r5.stderr, f"the refusal says it is a symlink: {r5.stderr!r}")
        # Folders others can write into are refused: a file planted in files/ would be taken as
        # "seen before" and never written, and the index would name the planted bytes.
        planted = os.path.join(tmp, "planted")
        os.makedirs(os.path.join(planted, "files"))
        os.chmod(os.path.join(planted, "files"), 0o777)
        fake = os.path.join(planted, "files", sources["blob.bin"])
        open(fake, "wb").write(b"not the attachment")
        r9 = run(binary, "-q", "--extract", planted, "-r", pcap)
        check(r9.returncode == 1 and b"files: writable by other users" in r9.stderr
              and not os.path.exists(os.path.join(planted, "index.jsonl")),
              f"a world-writable files/ is refused: {r9.stderr!r}")
        if os.geteuid() == 0:
            foreign = os.path.join(tmp, "foreign")
            os.makedirs(os.path.join(foreign, "messages"))
            os.chown(os.path.join(foreign, "messages"), 65534, 65534)
            r10 = run(binary, "-q", "--extract", foreign, "-r", pcap)
            check(r10.returncode == 1 and b"messages: owned by another user" in r10.stderr,
                  f"a messages/ of another user is refused: {r10.stderr!r}")
        # A sticky directory such as /tmp may hold DIR's folders: nobody else can remove them.
        sticky = os.path.join(tmp, "sticky")
        os.mkdir(sticky)
        os.chmod(sticky, 0o1777)
        r11 = run(binary, "-q", "--extract", sticky, "-r", pcap)
        check(r11.returncode == 0 and os.path.exists(os.path.join(sticky, "index.jsonl")),
              f"a sticky DIR is used: {r11.stderr!r}")
        # A regular file in place of the directory is named as such, not as a symlink.
        r8 = run(binary, "-q", "--extract", os.path.join(out, "index.jsonl"), "-r", pcap)
        check(r8.returncode == 1 and b"not a directory" in r8.stderr and b"symlink" not in r8.stderr,
              f"a file as DIR: one line saying it is not a directory: {r8.stderr!r}")
        # --extract-max-bytes: past it, a notice per object not written, and the index says so.
        small = os.path.join(tmp, "small")
        r6 = run(binary, "--json", "--extract", small, "--extract-max-bytes", "60K", "-r", pcap)
        notices = [json.loads(l) for l in r6.stdout.splitlines() if b'"extract-limit"' in l]
        check(r6.returncode == 0 and notices, "extract-limit notices when the bound is reached")
        total = sum(os.path.getsize(os.path.join(small, d, f)) for d in ("messages", "files")
                    for f in os.listdir(os.path.join(small, d)))
        check(total <= 60 * 1024, f"no more than 60K written ({total})")
        idx = [json.loads(l) for l in open(os.path.join(small, "index.jsonl"))]
        check(len(idx) == 4 and any(r["eml"] is None for r in idx), "messages not written are indexed with eml null")
    print(f"test_extract: {failures} failed" if failures else "test_extract: all passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
