/* notice.h - the typed anomalies the SMTP core raises: one X-macro row per notice. */
#ifndef SMTPSNIFF_NOTICE_H
#define SMTPSNIFF_NOTICE_H

/* X(ID, "name"), as the enums of smtp.h. */
#define SMTP_SEVERITY_LIST(X) X(INFO, "info") X(LOW, "low") X(MEDIUM, "medium") X(HIGH, "high")
enum smtp_severity {
#define SMTP_SEV_ENUM(id, name) SMTP_SEV_##id,
    SMTP_SEVERITY_LIST(SMTP_SEV_ENUM)
#undef SMTP_SEV_ENUM
    SMTP_SEV_COUNT
};

/* X(ID, "stable-name", severity, "what it means") */
#define SMTP_NOTICE_LIST(X)                                                                        \
    X(SMUGGLING_END_OF_DATA, "smuggling-end-of-data", SMTP_SEV_HIGH,                               \
      "a bare LF or CR around '.' in message content: an end-of-data some servers accept (SMTP smuggling)") \
    X(BARE_LF_CR_IN_COMMAND, "bare-lf-cr-in-line", SMTP_SEV_MEDIUM,                                \
      "a command or reply line ended by a bare LF, or holding a bare CR")                          \
    X(LINE_TOO_LONG, "line-too-long", SMTP_SEV_LOW,                                                \
      "a line longer than RFC 5321 4.5.3.1 allows (512 for commands and replies, 1000 for text)")  \
    X(LINE_TRUNCATED, "line-truncated", SMTP_SEV_MEDIUM,                                           \
      "a line longer than smtpsniff's hard cap; the rest of it up to LF was skipped")              \
    X(MALFORMED_REPLY, "malformed-reply", SMTP_SEV_MEDIUM,                                         \
      "a server line that does not start with a three-digit code and a space or hyphen")          \
    X(REPLY_CODE_MISMATCH, "reply-code-mismatch", SMTP_SEV_MEDIUM,                                 \
      "lines of one multi-line reply carry different codes")                                       \
    X(ENHANCED_CLASS_MISMATCH, "enhanced-class-mismatch", SMTP_SEV_LOW,                            \
      "the enhanced status code's class digit differs from the reply code's (RFC 3463)")          \
    X(UNSOLICITED_REPLY, "reply-without-command", SMTP_SEV_MEDIUM,                                 \
      "a server reply with no client command waiting for it")                                      \
    X(PENDING_OVERFLOW, "pending-queue-overflow", SMTP_SEV_MEDIUM,                                 \
      "more unanswered client lines than smtpsniff keeps; the oldest was dropped")                 \
    X(PIPELINING_NOT_OFFERED, "pipelining-without-extension", SMTP_SEV_LOW,                        \
      "the client sent a command before the previous reply without PIPELINING advertised")        \
    X(COMMAND_AFTER_QUIT, "command-after-quit", SMTP_SEV_MEDIUM,                                   \
      "client bytes after QUIT")                                                                   \
    X(DATA_AFTER_REJECTED_DATA, "data-after-rejected-data", SMTP_SEV_MEDIUM,                       \
      "the client kept sending after DATA was refused; those lines are read as commands")         \
    X(STARTTLS_INJECTION, "starttls-injection", SMTP_SEV_HIGH,                                     \
      "client bytes sent after STARTTLS and before the server's 220 (CVE-2011-0411 class)")       \
    X(MALFORMED_BDAT, "malformed-bdat", SMTP_SEV_HIGH,                                             \
      "a BDAT size that is missing, negative, too large or not a number (RFC 3030)")             \
    X(AUTH_FAILURE, "auth-failure", SMTP_SEV_MEDIUM,                                               \
      "the server refused an AUTH exchange")                                                       \
    X(BAD_SEQUENCE, "bad-command-sequence", SMTP_SEV_LOW,                                          \
      "a transaction command out of order (RCPT before MAIL, DATA before RCPT, ...)")            \
    X(EIGHTBIT_COMMAND, "8bit-in-command", SMTP_SEV_LOW,                                           \
      "8-bit bytes in a command without SMTPUTF8 advertised and requested")                       \
    X(CAPTURE_GAP, "capture-gap", SMTP_SEV_MEDIUM,                                                 \
      "bytes missing from the capture; the session was followed as far as possible")             \
    X(MIDSTREAM_SKIPPED, "midstream-skipped", SMTP_SEV_INFO,                                       \
      "picked up mid-session: bytes before the first whole line were the tail of a line, not read") \
    X(SESSION_CUT, "session-cut", SMTP_SEV_INFO,                                                   \
      "the session ended (reset, timeout, end of input) with a command or message unfinished")    \
    X(SESSION_EVICTED, "session-evicted", SMTP_SEV_MEDIUM,                                         \
      "the session was dropped to make room for newer ones (--max-sessions)")                     \
    X(REASM_QUEUE_OVERFLOW, "reassembly-queue-overflow", SMTP_SEV_MEDIUM,                          \
      "reassembly discarded the bytes it held out of order (libnids keeps 64 KB a direction); "   \
      "the rest of that direction is lost")                                                        \
    X(BAD_TCP_SEGMENT, "bad-tcp-segment", SMTP_SEV_MEDIUM,                                         \
      "a TCP segment of the session with a malformed header was discarded before reassembly")     \
    X(TLS_NOT_CLIENT_HELLO, "tls-unexpected", SMTP_SEV_LOW,                                        \
      "bytes on an implicit-TLS port that are not a TLS handshake")                               \
    X(CONTENT_TYPE_MISMATCH, "content-type-mismatch", SMTP_SEV_HIGH,                               \
      "a MIME part whose bytes are not the type it declares (an executable sent as a PDF)")       \
    X(CONTENT_NOT_KEPT, "content-not-kept", SMTP_SEV_LOW,                                          \
      "message bytes past smtpsniff's bound for one message or for all in progress were counted, not kept") \
    X(EXTRACT_LIMIT, "extract-limit", SMTP_SEV_MEDIUM,                                             \
      "--extract-max-bytes reached: this message or part was not written")                        \
    X(EXTRACT_ERROR, "extract-error", SMTP_SEV_MEDIUM,                                             \
      "a message or part could not be written to the extraction directory")                       \
    X(OVERLAP_CONFLICT, "overlap-conflict", SMTP_SEV_HIGH,                                         \
      "a retransmission carried different bytes for sequence numbers already seen; the first bytes "\
      "stand, as a Linux receiver keeps them (an evasion technique)")                              \
    X(IP_FRAGMENT_OVERLAP, "ip-fragment-overlap", SMTP_SEV_HIGH,                                   \
      "IP fragments that overlap: the datagram was discarded (or, for a fragment inside one "      \
      "already held, the first bytes kept), as Linux does")                                        \
    X(SNAPLEN_TRUNCATED, "snaplen-truncated", SMTP_SEV_MEDIUM,                                     \
      "segments cut by the capture's snapshot length: their missing bytes are reported as gaps")  \
    X(STORE_FULL, "reassembly-store-full", SMTP_SEV_MEDIUM,                                        \
      "the out-of-order store of this stream (or --memcap) filled: a hole was skipped as a gap")   \
    X(PORT_REUSE, "port-reuse", SMTP_SEV_LOW,                                                      \
      "a new SYN on a connection still open: the old session ended, a new one started")

enum smtp_notice_id {
#define SMTP_NOTICE_ENUM(id, name, sev, desc) SMTP_NOTICE_##id,
    SMTP_NOTICE_LIST(SMTP_NOTICE_ENUM)
#undef SMTP_NOTICE_ENUM
    SMTP_NOTICE_COUNT
};

const char *smtp_notice_name(enum smtp_notice_id id);
const char *smtp_notice_description(enum smtp_notice_id id);
enum smtp_severity smtp_notice_severity(enum smtp_notice_id id);
const char *smtp_severity_name(enum smtp_severity sev);

#endif
