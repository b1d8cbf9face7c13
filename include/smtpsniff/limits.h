/* limits.h - every bound smtpsniff puts on what the wire can make it hold, in one place. */
#ifndef SMTPSNIFF_LIMITS_H
#define SMTPSNIFF_LIMITS_H

/* RFC 5321 4.5.3.1: command line 512, reply line 512, text line 1000 octets (CRLF included).
 * Longer lines are reported (notice) but still parsed up to SMTP_MAX_LINE. */
#define SMTP_RFC_CMD_LINE 512
#define SMTP_RFC_REPLY_LINE 512
#define SMTP_RFC_TEXT_LINE 1000

/* Hard cap on one framed line in either direction; beyond it the rest of the line is
 * discarded until LF and a line-too-long notice is raised. */
#define SMTP_MAX_LINE 4096
/* Longest verb kept (unknown verbs are reported as sent, cut here). */
#define SMTP_MAX_VERB 16
/* Longest command argument kept for output. */
#define SMTP_MAX_ARG 1024
/* Lines kept per multi-line reply; further lines are counted, not kept. */
#define SMTP_MAX_REPLY_LINES 64
/* Bytes of reply text kept per reply (all lines). */
#define SMTP_MAX_REPLY_TEXT 8192
/* Client lines waiting for a reply (RFC 2920 pipelining); overflow drops the oldest with a notice. */
#define SMTP_MAX_PENDING 128
/* Transactions open at once: the current one plus those pipelined behind its end (RFC 2920). */
#define SMTP_MAX_OPEN_TXNS 4
/* Recipients kept per transaction; further ones are counted. */
#define SMTP_MAX_RCPTS 256
/* ESMTP parameters kept per MAIL and per RCPT (RFC 5321 4.1.2), and bytes per value. */
#define SMTP_MAX_PARAMS 6
#define SMTP_MAX_PARAM_VALUE 96
/* EHLO extensions kept per session, packed in one buffer of this many bytes. */
#define SMTP_MAX_EXTENSIONS 48
#define SMTP_MAX_EXTENSION_BYTES 1024
/* HELO/EHLO argument, addresses, AUTH user, SNI. */
#define SMTP_MAX_NAME 256
/* Message header capture: header block bytes examined, and bytes kept per header value. */
#define SMTP_MAX_HEADER_BLOCK 65536
#define SMTP_MAX_HEADER_VALUE 998
#define SMTP_MAX_RECEIVED 16
/* Client bytes held while DATA waits for its reply (content sent before the 354 is read as
 * content only if the server says 354); past this, they are read as commands at once. */
#define SMTP_MAX_HELD 65536
/* Capture gaps kept in order among the held bytes (more: holding stops, as past SMTP_MAX_HELD). */
#define SMTP_MAX_HELD_GAPS 8
/* Replies with no command waiting before any client byte, whose notice waits to see whether the
 * capture is one-sided (the notice's own cap per session). */
#define SMTP_MAX_SILENT_UNSOLICITED 16
/* Replies kept while the core counts how many answer commands lost in a capture gap (a client
 * that pipelined across the hole); past this they are paired as they come. */
#define SMTP_MAX_DEFERRED_REPLIES 16
/* Notices raised per session; further ones are counted, not emitted. */
#define SMTP_MAX_NOTICES_PER_SESSION 256
/* TLS ClientHello bytes buffered to find the SNI on port 465. */
#define SMTP_MAX_CLIENT_HELLO 16384

/* Smuggling-style ends recorded per message (offsets for the content stage). */
#define SMTP_MAX_SPLITS 8

/* Content stage (--files, --extract): bytes of one message kept for MIME parsing and extraction
 * (past it the rest is counted, not kept: the message is partial), all messages in progress
 * together, holes listed per message, MIME parts per message, and what --extract writes in one
 * run unless --extract-max-bytes says otherwise. */
#define CONTENT_MAX_MESSAGE (64u * 1024 * 1024)
#define CONTENT_MEMCAP (512u * 1024 * 1024)
#define CONTENT_MAX_HOLES 16
#define CONTENT_MAX_SPLITS SMTP_MAX_SPLITS
#define CONTENT_MAX_PARTS 256
#define CONTENT_MAX_DEPTH 16
#define EXTRACT_DEFAULT_MAX_BYTES (4ull * 1024 * 1024 * 1024)

/* Ended sessions and transactions kept for reuse by new ones (each pool), instead of freed. */
#define SMTP_POOL_KEEP 64

/* Reassembly: concurrent TCP streams, exactly (both engines evict past it; libnids' own table,
 * n_tcp_streams, is 4/3 of this + 4 and also holds handshakes not yet done) and the idle timeout
 * in capture seconds. */
#define SMTP_DEFAULT_MAX_STREAMS 16384
#define SMTP_DEFAULT_IDLE_TIMEOUT 600

/* Own reassembly engine (src/reasm/reasm_tcp.c, docs/design.md). --memcap: bytes all streams may
 * hold out of order (segments behind a hole, or replies waiting for the commands they
 * acknowledge); past it the oldest holder's holes are skipped as gaps. */
#define REASM_DEFAULT_MEMCAP (32u << 20)
/* One stream's store: bytes and runs (contiguous pieces). Large enough for a receive window a
 * fast lossy link fills before the retransmission (Linux autotunes up to ~6 MB). */
#define REASM_MAX_STREAM_STORE (8u << 20)
#define REASM_MAX_STREAM_RUNS 512
/* A run grows by appending contiguous bytes up to this size, then a new one starts. */
#define REASM_RUN_MAX 65536
/* A hole the other side has acknowledged (the endpoint got bytes the capture shows later or
 * never) is waited for this long in capture time, then skipped as a gap. */
#define REASM_ACKED_HOLE_WAIT_MS 1000
/* Streams that closed or were reset, remembered for this many capture seconds so that copies of
 * their last segments seen afterwards are not taken for new streams (a power of two). */
#define REASM_TOMBSTONES 4096
#define REASM_TOMB_SECONDS 10
/* IP fragments: datagrams in reassembly at once, bytes held, fragments per datagram, and the
 * capture-time expiry (Linux ipfrag_time). */
#define REASM_MAX_FRAG_DATAGRAMS 1024
#define REASM_MAX_FRAG_BYTES (4u << 20)
#define REASM_MAX_FRAGS_PER_DATAGRAM 128
#define REASM_FRAG_TIMEOUT 30

/* Live capture handle. libpcap 1.10 on Linux captures into a TPACKET_V3 ring (immediate mode
 * off): blocks of 256 KB (its MAXIMUM_SNAPLEN) that packets fill back to back, so the buffer
 * holds bytes, not a fixed number of packets. The kernel hands a block over when it is full or
 * CAP_TIMEOUT_MS after it was opened: that is the live feed's latency on a quiet link. -B KiB
 * sets the buffer; the default holds ~0.5 s of 1 Gbps (docs/benchmark.md: live capture). */
#define CAP_SNAPLEN 262144
#define CAP_BUFFER_BYTES (64 * 1024 * 1024)
#define CAP_TIMEOUT_MS 50

#endif
