/* smtp.h - what the SMTP core tells its sinks: sessions, exchanges, transactions and notices.
 *
 * The core is fed "session, direction, bytes" (smtp_core.h) and never prints; sinks receive the
 * records below through struct smtp_sink and never parse. Wire bytes reach sinks as
 * (pointer, length) pairs that are valid only during the callback; sinks escape them. */
#ifndef SMTPSNIFF_SMTP_H
#define SMTPSNIFF_SMTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/time.h>

#include "smtpsniff/limits.h"
#include "smtpsniff/notice.h"

/* Which side sent the bytes. */
enum smtp_dir { SMTP_DIR_CLIENT = 0, SMTP_DIR_SERVER = 1 };

/* The small enums below are each defined by one X-macro, X(ID, "name"): the enum, its COUNT and
 * its name table (smtp_names.c) come from the same rows, so a value cannot lack a name. */

/* Why a session ended. */
#define SMTP_END_REASON_LIST(X)                                                                    \
    X(NONE, "none") X(CLOSE, "close") X(RESET, "reset") X(TIMEOUT, "timeout") X(EOF, "end of input")     \
    X(REUSE, "port reused") /* a new SYN on the same addresses and ports while the session was open */
enum smtp_end_reason {
#define SMTP_END_ENUM(id, name) SMTP_END_##id,
    SMTP_END_REASON_LIST(SMTP_END_ENUM)
#undef SMTP_END_ENUM
    SMTP_END_COUNT
};

/* Whether and how the session went into TLS. */
#define SMTP_TLS_LIST(X) X(NONE, "none") X(STARTTLS, "starttls") X(IMPLICIT, "implicit")
enum smtp_tls {
#define SMTP_TLS_ENUM(id, name) SMTP_TLS_##id,
    SMTP_TLS_LIST(SMTP_TLS_ENUM)
#undef SMTP_TLS_ENUM
    SMTP_TLS_COUNT
};

/* Commands, defined once (RFC 5321 4.1, 3030, 4954, 3207, 1985, 2645, 2033).
 * X(ID, "VERB") ; GREETING and END_OF_DATA are pseudo-commands with no wire verb of their own. */
#define SMTP_VERB_LIST(X)                                                                          \
    X(UNKNOWN, "")                                                                                 \
    X(GREETING, "")                                                                                \
    X(HELO, "HELO") X(EHLO, "EHLO") X(LHLO, "LHLO") X(MAIL, "MAIL") X(RCPT, "RCPT")               \
    X(DATA, "DATA") X(BDAT, "BDAT") X(RSET, "RSET") X(VRFY, "VRFY") X(EXPN, "EXPN")               \
    X(HELP, "HELP") X(NOOP, "NOOP") X(QUIT, "QUIT") X(STARTTLS, "STARTTLS") X(AUTH, "AUTH")      \
    X(ETRN, "ETRN") X(TURN, "TURN") X(ATRN, "ATRN") X(XCLIENT, "XCLIENT") X(XFORWARD, "XFORWARD") \
    X(END_OF_DATA, ".")                                                                            \
    X(SASL, "SASL")

enum smtp_verb {
#define SMTP_VERB_ENUM(id, text) SMTP_VERB_##id,
    SMTP_VERB_LIST(SMTP_VERB_ENUM)
#undef SMTP_VERB_ENUM
    SMTP_VERB_COUNT
};

/* A span of wire bytes (not NUL-terminated, may hold any byte). */
struct smtp_span {
    const uint8_t *p;
    size_t len;
};

struct smtp_endpoint {
    char ip[46]; /* textual IPv4 or IPv6 address */
    uint16_t port;
};

struct smtp_command {
    enum smtp_verb id;
    char verb[SMTP_MAX_VERB + 1]; /* as sent, upper-cased ASCII; may hold any byte but NUL */
    size_t verb_len;
    struct smtp_span arg;         /* after the first space, without CRLF; cut at SMTP_MAX_ARG */
    bool arg_redacted;            /* a credential the user did not ask to see */
    struct timeval ts;
};

/* An enhanced status code parsed (RFC 3463 2, enhanced_parse_span in reply.h); cls 0: none. */
struct smtp_enhanced {
    uint8_t cls;             /* 2, 4 or 5 */
    uint16_t subject, detail; /* 0..999 */
};

struct smtp_reply {
    int code;           /* 200..599 normally; 0 never reaches a sink */
    char enhanced[16];  /* "2.1.5" as sent, or "" */
    struct smtp_enhanced enh; /* the same code parsed; cls 0 when there is none */
    unsigned nlines;    /* lines kept in line[] */
    unsigned lines_dropped;
    struct timeval ts;  /* time of the final line */
    struct smtp_span line[SMTP_MAX_REPLY_LINES]; /* text after "NNN-" / "NNN ", no CRLF */
    char challenge[SMTP_MAX_NAME]; /* 334 inside AUTH: the base64 challenge decoded ("Username:"),
                                      printable; "" otherwise (RFC 4954 4) */
};

/* What a server reply answers, as the core decides it (RFC 5321 3.1, 3.8, 4.2; RFC 2920).
 * X(ID, "stable-name") */
#define SMTP_ANSWER_LIST(X)                                                                        \
    X(COMMAND, "command")               /* the command in the exchange */                         \
    X(GREETING, "greeting")             /* the server's greeting: no command (RFC 5321 3.1) */    \
    X(AFTER_QUIT, "after-quit")         /* nothing: QUIT was already answered */                  \
    X(UNSOLICITED, "unsolicited")       /* nothing was waiting for a reply */                     \
    X(CONNECTION_LOST, "connection-lost") /* the client left (it sent no content after 354) */    \
    X(CAPTURE_GAP, "capture-gap")       /* a command lost in a gap of the capture */

enum smtp_answer {
#define SMTP_ANSWER_ENUM(id, name) SMTP_ANSWER_##id,
    SMTP_ANSWER_LIST(SMTP_ANSWER_ENUM)
#undef SMTP_ANSWER_ENUM
    SMTP_ANSWER_COUNT
};

/* One command and its reply, with what the reply means there. Sinks print `context` as given:
 * the core computed it from the reply tables (codes/), so every sink says the same. */
struct smtp_exchange {
    const struct smtp_command *cmd; /* NULL: the reply answers no command (see `answers`) */
    const struct smtp_reply *reply; /* NULL: no reply seen */
    enum smtp_answer answers;       /* what the reply answers (SMTP_ANSWER_COMMAND when cmd) */
    const char *context;            /* the reply's meaning here, or NULL: only the code's own */
    unsigned context_id;            /* 0 with no context; one id, one context text (for caches) */
    bool resync; /* paired while the core resynchronised (a midstream start, a client gap): the
                    command was read before pairing was exact again, or the reply answers a
                    command lost in the capture (docs/design.md, "Resynchronising") */
};

/* How a transaction ended. */
#define SMTP_TXN_STATUS_LIST(X)                                                                    \
    X(ACCEPTED, "accepted") X(REJECTED, "rejected") X(ABORTED, "aborted") X(INCOMPLETE, "incomplete")
enum smtp_txn_status {
#define SMTP_TXN_ENUM(id, name) SMTP_TXN_##id,
    SMTP_TXN_STATUS_LIST(SMTP_TXN_ENUM)
#undef SMTP_TXN_ENUM
    SMTP_TXN_COUNT
};

/* ESMTP parameters of MAIL or RCPT (SIZE, BODY, SMTPUTF8, RET, ENVID, NOTIFY, ORCPT, ...):
 * keyword upper-cased, value as sent (xtext not decoded), "" for a keyword without value. */
struct smtp_params {
    unsigned n, dropped;
    struct smtp_param {
        char key[20];
        char value[SMTP_MAX_PARAM_VALUE];
    } p[SMTP_MAX_PARAMS];
};

struct smtp_rcpt {
    char addr[SMTP_MAX_NAME];
    int code; /* 0: no reply seen */
    char enhanced[16]; /* of that reply, or "" */
    char text[SMTP_MAX_NAME]; /* first line of that reply, printable */
    const char *context; /* what that reply means here (as in its exchange), or NULL */
    struct smtp_params params;
};

/* Header values hold the unfolded bytes as sent (RFC 2047 words decoded), unescaped: each sink
 * escapes them for its output. A NUL byte, which a C string cannot hold, reads "\x00". */
/* The top-level message headers kept (RFC 5322 3.6), defined once: the fields of
 * struct smtp_message_info, the core's header matcher (smtp_body.c) and the JSON keys
 * (out_json.c, docs/json.md) are generated from these rows, in this order.
 *   ONE(field, "header-name", decode)  one value; the first occurrence is kept
 *   ALSO(field, "header-name", decode) another header name stored in that field
 *   MANY(field, "header-name", max)    every occurrence, up to max, as a list (n<field> of them)
 * decode: RFC 2047 encoded words are decoded; otherwise the value is kept as sent. */
#define SMTP_HEADER_LIST(ONE, ALSO, MANY)                                                          \
    ONE(date, "date", false)                                                                       \
    ONE(from, "from", true)                                                                        \
    ONE(to, "to", true)                                                                            \
    ONE(cc, "cc", true)                                                                            \
    ONE(reply_to, "reply-to", false)                                                               \
    ONE(message_id, "message-id", false)                                                           \
    ONE(in_reply_to, "in-reply-to", false)                                                         \
    ONE(subject, "subject", true)                                                                  \
    ONE(user_agent, "x-mailer", false)                                                             \
    ALSO(user_agent, "user-agent", false)                                                          \
    ONE(x_originating_ip, "x-originating-ip", false)                                               \
    MANY(received, "received", SMTP_MAX_RECEIVED)

struct smtp_message_info {
    uint64_t size; /* content bytes after dot-unstuffing (DATA) or chunk bytes (BDAT), holes included */
    uint64_t missing;   /* bytes of it missing from the capture (holes), counted in size */
    bool start_missing; /* its start was not captured (midstream pickup, or a hole before it) */
#define SMTP_HEADER_FIELD_ONE(field, name, decode) char field[SMTP_MAX_NAME];
#define SMTP_HEADER_FIELD_ALSO(field, name, decode)
#define SMTP_HEADER_FIELD_MANY(field, name, max)                                                   \
    unsigned n##field;                                                                             \
    char field[max][SMTP_MAX_NAME];
    SMTP_HEADER_LIST(SMTP_HEADER_FIELD_ONE, SMTP_HEADER_FIELD_ALSO, SMTP_HEADER_FIELD_MANY)
#undef SMTP_HEADER_FIELD_ONE
#undef SMTP_HEADER_FIELD_ALSO
#undef SMTP_HEADER_FIELD_MANY
};

/* Where a lenient server would have ended the message (SMTP smuggling, CVE-2023-51764/5/6): at
 * offset `end` of the message (after dot-unstuffing), reading what starts at `resume` as the next
 * commands. */
struct smtp_split {
    uint64_t end, resume;
};

struct content_message; /* smtpsniff/content.h: set by the content stage, else NULL */

struct smtp_transaction {
    unsigned depth; /* 1, 2, ... within the session */
    struct timeval ts; /* when it ended: its final reply, or the end of the session */
    char helo[SMTP_MAX_NAME];
    char mail_from[SMTP_MAX_NAME];
    bool have_mail_from;
    struct smtp_params mail_params;
    int mail_code;
    unsigned nrcpt, rcpts_dropped; /* rcpt[] grows on demand up to SMTP_MAX_RCPTS */
    unsigned rcpt_cap;
    struct smtp_rcpt *rcpt;
    bool have_data_reply;
    struct smtp_reply_brief {
        int code;
        char enhanced[16];
        char text[SMTP_MAX_NAME];
        const char *context; /* as in its exchange, or NULL */
    } data_reply;
    enum smtp_txn_status status;
    enum smtp_verb rejected_at; /* step that failed, for SMTP_TXN_REJECTED */
    bool have_message;
    bool chunked;        /* the message was sent with BDAT (RFC 3030) */
    bool content_ended;  /* its end was read: <CRLF>.<CRLF>, or the BDAT LAST chunk's last byte */
    unsigned nsplits;    /* smuggling-style ends inside the content, in split[] */
    struct smtp_split split[SMTP_MAX_SPLITS];
    const struct content_message *content; /* --files: parts and hashes (smtpsniff/content.h) */
    struct smtp_message_info message; /* last: a reused transaction resets it field by field */
};

struct smtp_notice {
    enum smtp_notice_id id;
    enum smtp_dir dir;
    struct timeval ts;
    char detail[256]; /* already printable ASCII: the core escapes wire bytes it quotes here */
};

struct smtp_auth_info {
    char mechanism[32];
    char user[SMTP_MAX_NAME];
    int result; /* reply code that ended the exchange, 0 if none */
};

/* What sinks see of a session; the core's private state embeds it. */
struct smtp_session_info {
    /* Counters and times first: they change with every segment and reply. */
    uint64_t bytes[2]; /* by enum smtp_dir */
    struct timeval start, end;
    unsigned replies_by_class[6]; /* index = first digit: [2]..[5] */
    unsigned commands, transactions, notices, notices_dropped;
    uint64_t id;
    struct smtp_endpoint client, server;
    enum smtp_end_reason end_reason;
    bool midstream; /* picked up without its handshake: the first bytes may be mid-line */
    enum smtp_tls tls;
    bool auth_seen;
    struct smtp_auth_info auth;
    char helo[SMTP_MAX_NAME];
    char sni[SMTP_MAX_NAME];
    unsigned nextensions; /* EHLO keywords with parameters, NUL-separated in `extensions` */
    char extensions[SMTP_MAX_EXTENSION_BYTES];
};

/* A sink: any of these may be NULL. Records arrive in protocol order. */
struct smtp_sink {
    void *ctx;
    void (*session_start)(void *ctx, const struct smtp_session_info *s);
    void (*exchange)(void *ctx, const struct smtp_session_info *s, const struct smtp_exchange *x);
    void (*transaction)(void *ctx, const struct smtp_session_info *s, const struct smtp_transaction *t);
    void (*notice)(void *ctx, const struct smtp_session_info *s, const struct smtp_notice *n);
    void (*session_end)(void *ctx, const struct smtp_session_info *s);
    /* Message content for the content stage, only to a sink that sets it: the client's bytes as
     * the server reads them, in order, for the newest open transaction `t`: DATA content as sent
     * (dot-stuffed, the <CRLF>.<CRLF> line included when it came), BDAT chunk bytes. */
    void (*content)(void *ctx, const struct smtp_session_info *s, const struct smtp_transaction *t,
                    const uint8_t *p, size_t n);
    /* n content bytes of `t` are missing from the capture (0: an unknown number). */
    void (*content_gap)(void *ctx, const struct smtp_session_info *s, const struct smtp_transaction *t,
                        uint64_t n);
};

const char *smtp_verb_name(enum smtp_verb v);
const char *smtp_end_reason_name(enum smtp_end_reason r);
const char *smtp_tls_name(enum smtp_tls t);
const char *smtp_txn_status_name(enum smtp_txn_status st);
const char *smtp_answer_name(enum smtp_answer a);

#endif
