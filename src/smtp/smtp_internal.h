/* smtp_internal.h - the SMTP core's private session state, shared by the smtp_*.c files. */
#ifndef SMTPSNIFF_SMTP_INTERNAL_H
#define SMTPSNIFF_SMTP_INTERNAL_H

#include "smtp/smtp_core.h"
#include "smtp/smtp_line.h"
#include "lib/strbuf.h"

/* What the client's bytes are, as the server reads them. */
enum smtp_client_mode {
    SMTP_MODE_COMMAND, /* command lines */
    SMTP_MODE_DATA,    /* message content after 354, up to CRLF.CRLF (RFC 5321 4.1.1.4) */
    SMTP_MODE_BDAT,    /* `bdat_left` bytes of a BDAT chunk (RFC 3030 2) */
    SMTP_MODE_TLS,     /* encrypted from here on */
    SMTP_MODE_IGNORE   /* nothing more worth parsing */
};

/* A client line waiting for its reply (RFC 2920: replies come in command order). */
struct smtp_pending { /* smtp_pending_push sets every member: add new ones there */
    struct smtp_command cmd;
    uint8_t inline_arg[64];
    uint8_t *heap_arg;
    bool bdat_last;
    unsigned txn_serial; /* transaction open when the line was sent (0: none) */
    int rcpt_idx;        /* RCPT: its slot in that transaction, or -1 */
};

/* DATA content scanner state (smtp_body.c). */
struct smtp_body {
    bool prev_crlf;      /* previous content line ended with CRLF (or content just began) */
    bool smuggle_seen;   /* a bare-LF/CR dot was seen in this message's content */
    bool in_headers;     /* still in the top-level header block */
    size_t header_bytes; /* bytes of header block examined (bounded) */
    char cur_name[32];   /* header being unfolded */
    struct strbuf cur;   /* its value so far (bounded) */
    struct smtp_line_framer bdat_lines; /* header lines inside BDAT chunks */
};

/* Members in the order a segment touches them: what every segment and line reads comes first,
 * the large and rarely used buffers last (about 300 sessions are open at once; fewer cache
 * lines per segment is a measurable share of the run). */
struct smtp_session {
    enum smtp_client_mode cmode;
    bool server_tls;      /* server bytes are TLS */
    bool reply_open;
    bool gap[2];          /* bytes of that direction are missing: pairing is best effort */
    unsigned flags;
    uint64_t bdat_left;
    bool bdat_last;       /* the chunk being read is the BDAT LAST one */
    const struct smtp_sink *sink;
    struct smtp_line_framer framer[2];

    struct smtp_pending *q; /* ring of pending client lines */
    unsigned q_head, q_len, q_cap;

    /* Session facts learnt from (command, reply) pairs. */
    bool greeted, ehlo_done, pipelining, smtputf8, chunking, starttls_offered;
    bool quit_sent, quit_noticed, starttls_sent, in_auth, auth_login_user_next, data_refused;
    bool pipelining_noticed, eightbit_noticed;
    bool hold_overflowed;     /* stop holding until the DATA is answered */
    unsigned auth_unanswered; /* AUTH or SASL lines waiting for a reply: what follows is SASL */
    unsigned data_unanswered; /* DATA lines waiting for a reply: client bytes are held */

    /* Open transactions, oldest first. RFC 2920: MAIL may be pipelined behind what ends the
     * last one (".", BDAT LAST, RSET, a new EHLO); it opens the next, which becomes current
     * when the one before it ends. txq[0] is the one replies are about (smtp_cur_txn). */
    struct smtp_txq {
        struct smtp_transaction *t;
        unsigned serial;
        bool closing; /* a line that ends it was sent */
    } txq[SMTP_MAX_OPEN_TXNS];
    unsigned txq_len, serial_counter;
    struct smtp_body body;

    struct smtp_session_info info; /* counters first, names and extensions last */

    /* The server reply being assembled (multi-line, RFC 5321 4.2.1). */
    struct strbuf reply_text;
    struct smtp_reply reply;
    size_t line_off[SMTP_MAX_REPLY_LINES];
    struct strbuf held;            /* client bytes sent while DATA is unanswered */
    struct timeval held_ts;
    unsigned notice_count[SMTP_NOTICE_COUNT];
    struct strbuf tls_hello;       /* ClientHello bytes buffered to read the SNI */
};

/* The current transaction (the oldest open one) and its serial; NULL / 0 when none. */
static inline struct smtp_transaction *smtp_cur_txn(const struct smtp_session *s)
{
    return s->txq_len ? s->txq[0].t : NULL;
}

static inline unsigned smtp_cur_serial(const struct smtp_session *s)
{
    return s->txq_len ? s->txq[0].serial : 0;
}

/* smtp_session.c */
void smtp_notice(struct smtp_session *s, enum smtp_notice_id id, enum smtp_dir dir,
                 const struct timeval *ts, const char *fmt, ...) __attribute__((format(printf, 5, 6)));
void smtp_pending_push(struct smtp_session *s, enum smtp_verb id, const char *verb, size_t verb_len,
                       const uint8_t *arg, size_t arg_len, const struct timeval *ts);
struct smtp_pending *smtp_pending_last(struct smtp_session *s);
/* The command's verb made printable for a notice detail (buf holds 4 * SMTP_MAX_VERB + 1). */
#define SMTP_VERB_TEXT_SIZE (4 * SMTP_MAX_VERB + 1)
const char *smtp_verb_text(const struct smtp_command *c, char buf[SMTP_VERB_TEXT_SIZE]);

/* smtp_fsm.c: the only place session state changes on a (command, reply) pair. */
void smtp_fsm_reply(struct smtp_session *s, struct smtp_pending *pc, const struct smtp_reply *r);
void smtp_fsm_command(struct smtp_session *s, struct smtp_pending *pc);
void smtp_txn_finish(struct smtp_session *s, enum smtp_txn_status st, enum smtp_verb at);
void smtp_txn_free(struct smtp_transaction *t); /* back to the pool */
void smtp_txn_pool_drain(void);
/* The newest open transaction: new recipients and message content belong to it. */
struct smtp_transaction *smtp_content_txn(struct smtp_session *s);
/* A line that ends the newest open transaction was sent. */
void smtp_txn_closing(struct smtp_session *s);

static inline uint8_t ascii_upper(uint8_t c)
{
    return (c >= 'a' && c <= 'z') ? (uint8_t)(c - 32) : c;
}

/* The n bytes at p are `upper` (upper-case ASCII) in any case. */
static inline bool ascii_ieq(const uint8_t *p, const char *upper, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (ascii_upper(p[i]) != (uint8_t)upper[i])
            return false;
    return true;
}

/* smtp_cmd.c */
enum smtp_verb smtp_verb_lookup(const uint8_t *p, size_t n);
void smtp_client_line(struct smtp_session *s, const struct smtp_line *l, const struct timeval *ts);
bool smtp_parse_path(const uint8_t *p, size_t n, const char *kw, char *out, size_t outsz,
                     struct smtp_params *params);

/* smtp_body.c */
void smtp_body_begin(struct smtp_session *s);
/* One content line; returns true when it was the end-of-data line. */
bool smtp_body_line(struct smtp_session *s, const struct smtp_line *l, const struct timeval *ts);
/* Past the header block, at a line start: the whole lines ahead that need no look of their own,
 * counted in one step; returns the bytes taken (the rest goes to smtp_body_line). */
size_t smtp_body_plain(struct smtp_session *s, const uint8_t *p, size_t n);
/* The scan itself, at a line start: bytes of whole plain lines at p, and in *crlf whether the
 * last of them ended with CRLF (unchanged when none). */
size_t smtp_content_plain(const uint8_t *p, size_t n, bool *crlf);
void smtp_body_bytes(struct smtp_session *s, const uint8_t *p, size_t n); /* BDAT content */
void smtp_body_end(struct smtp_session *s);
/* A message with no size and no headers, as a zeroed one reads (fields are not cleared). */
void smtp_message_reset(struct smtp_message_info *m);

/* smtp_auth.c */
void smtp_auth_command(struct smtp_session *s, struct smtp_pending *pc);
void smtp_auth_challenge(struct smtp_session *s, enum smtp_verb verb, const struct smtp_reply *r);
void smtp_auth_decode_challenge(struct smtp_reply *r);
size_t smtp_base64_decode(const uint8_t *in, size_t n, uint8_t *out, size_t outsz);

/* smtp_tls.c */
void smtp_tls_client_bytes(struct smtp_session *s, const uint8_t *p, size_t n, const struct timeval *ts);

#endif
