/* smtp_core.h - the SMTP core's entry points: it is fed "session, direction, bytes" and raises
 * records to a sink. It never sees packets, pcap or libnids. */
#ifndef SMTPSNIFF_SMTP_CORE_H
#define SMTPSNIFF_SMTP_CORE_H

#include "smtpsniff/smtp.h"

enum {
    SMTP_SESS_IMPLICIT_TLS = 1u << 0,    /* port 465: TLS from the first byte (RFC 8314) */
    SMTP_SESS_SHOW_CREDENTIALS = 1u << 1, /* print AUTH secrets instead of redacting them */
    SMTP_SESS_MIDSTREAM = 1u << 2        /* the stream was picked up without its handshake */
};

struct smtp_session;

/* What the client's bytes are, as the server reads them: the session's one state. Only the state
 * machine changes it, through one door that reports every transition to the trace hook.
 * X(ID, "name") */
#define SMTP_STATE_LIST(X)                                                                         \
    X(COMMAND, "command") /* command lines */                                                      \
    X(AUTH, "auth")       /* lines are SASL responses after a 334 (RFC 4954 4) */                  \
    X(DATA, "data")       /* message content after 354, up to CRLF.CRLF (RFC 5321 4.1.1.4) */      \
    X(BDAT, "bdat")       /* the bytes of a BDAT chunk (RFC 3030 2) */                             \
    X(TLS, "tls")         /* a TLS ClientHello is expected (RFC 3207, RFC 8314) */                 \
    X(IGNORE, "ignore")   /* encrypted or opaque: nothing more worth parsing */                    \
    X(RESYNC, "resync")   /* picked up mid-session: what the client's lines are is not known yet */

enum smtp_state {
#define SMTP_STATE_ENUM(id, name) SMTP_STATE_##id,
    SMTP_STATE_LIST(SMTP_STATE_ENUM)
#undef SMTP_STATE_ENUM
    SMTP_STATE_COUNT
};
const char *smtp_state_name(enum smtp_state st);

/* One change of state: from, to, and why (a static text). */
struct smtp_transition {
    enum smtp_state from, to;
    const char *why;
};
/* Called for every transition of every session (tests, debugging); NULL turns it off. */
typedef void smtp_trace_fn(void *ctx, uint64_t session_id, const struct smtp_transition *t);
void smtp_core_set_trace(smtp_trace_fn *fn, void *ctx);

struct smtp_session *smtp_session_new(uint64_t id, const struct smtp_endpoint *client,
                                      const struct smtp_endpoint *server, const struct timeval *ts,
                                      const struct smtp_sink *sink, unsigned flags);
/* Bytes sent by `dir`, in stream order. */
void smtp_session_data(struct smtp_session *s, enum smtp_dir dir, const uint8_t *p, size_t n,
                       const struct timeval *ts);
/* Bytes sent by `dir` are missing from the capture (count unknown when 0): exactly `n` bytes at
 * the current position of that direction (bytes delivered plus bytes reported missing so far). */
void smtp_session_gap(struct smtp_session *s, enum smtp_dir dir, size_t n, const struct timeval *ts);
/* Raise a notice from outside the core (the reassembly adapter). */
void smtp_session_notice(struct smtp_session *s, enum smtp_notice_id id, enum smtp_dir dir,
                         const struct timeval *ts, const char *detail);
/* Flush what is pending and emit the session record. Call once, then free. */
void smtp_session_end(struct smtp_session *s, enum smtp_end_reason why, const struct timeval *ts);
void smtp_session_free(struct smtp_session *s);
/* Free the sessions and transactions kept for reuse (at exit). */
void smtp_core_cleanup(void);

#endif
