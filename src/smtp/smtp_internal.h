/* smtp_internal.h - the SMTP core's session: its state and facts, and the doors between the
 * layers. The core is a tree; calls go one way:
 *
 *   smtp_session.c (framing: directions, lines, replies assembled, held bytes)
 *     -> smtp_fsm.c (the state machine: the only code that changes state and facts)
 *       -> parsers: smtp_cmd.c, smtp_reply.c, smtp_auth.c, smtp_tls.c, smtp_body.c (bytes in, facts out)
 *         -> leaves: smtp_notice.c, smtp_queue.c, smtp_base64.c, smtp_line.c, smtp_names.c
 *
 * tools/check-callgraph checks that no call goes back up. */
#ifndef SMTPSNIFF_SMTP_INTERNAL_H
#define SMTPSNIFF_SMTP_INTERNAL_H

#include "smtp/smtp_body.h"
#include "smtp/smtp_core.h"
#include "smtp/smtp_line.h"
#include "smtp/smtp_notice.h"
#include "smtp/smtp_queue.h"
#include "lib/strbuf.h"

/* Session facts learnt from (command, reply) pairs; changed by smtp_fsm.c only. */
struct smtp_facts {
    bool greeted;          /* the server has spoken */
    bool server_tls;       /* server bytes are TLS */
    bool quit_sent, quit_answered, starttls_sent, data_refused;
    bool auth_login_user_next; /* the next SASL line of LOGIN is the user name */
    bool content_lost;     /* DATA got 354 and the server spoke again before any content */
    /* Resynchronising (docs/design.md): a midstream start or a client gap. */
    bool start_unknown;    /* a MAIL may be missing: a RCPT or DATA with no transaction opens one
                              with an unknown sender, and no sequence notice (cleared by MAIL) */
    bool ext_unknown;      /* the EHLO reply was not captured: PIPELINING may have been offered */
    bool cmd_fragment;     /* the next client line may be the tail of a line cut by a hole */
    bool server_hole;      /* replies may be in a server hole: the next ones are kept and
                              counted when the client's next bytes come */
    bool content_start_seen; /* RESYNC after a DATA whose reply was in a hole: content, if the
                                lines are content, starts here (its header block in view) */
    unsigned resync_lines; /* RESYNC: lines seen that are not commands */
    unsigned lost_pending; /* lost entries in the pipelining queue */
    unsigned silent_unsolicited; /* replies with nothing waiting before any client byte */
    unsigned ext;          /* SMTP_EXT_* the last EHLO reply advertised */
    unsigned noticed;      /* SMTP_NOTICED_*: notices raised once per session */
    unsigned auth_unanswered; /* AUTH or SASL lines waiting for a reply: what follows is SASL */
    unsigned data_unanswered; /* DATA lines waiting for a reply: client bytes are held */
};
enum { SMTP_NOTICED_QUIT = 1u << 0, SMTP_NOTICED_PIPELINING = 1u << 1, SMTP_NOTICED_EIGHTBIT = 1u << 2 };

/* Members in the order a segment touches them: what every segment and line reads comes first,
 * the large and rarely used buffers last (about 300 sessions are open at once; fewer cache
 * lines per segment is a measurable share of the run). */
struct smtp_session {
    enum smtp_state state;
    bool reply_open;
    bool hold_overflowed; /* the held bytes reached their bound: stop holding until DATA is answered */
    bool gap[2];          /* bytes of that direction are missing: pairing is best effort */
    unsigned flags;
    uint64_t bdat_left;
    bool bdat_last;       /* the chunk being read is the BDAT LAST one */
    struct smtp_facts f;
    struct smtp_notifier nt;
    struct smtp_line_framer framer[2];
    struct smtp_queue q;  /* client lines waiting for replies */

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
    struct smtp_held_gap {         /* capture gaps among them, in order */
        size_t at, n;              /* before held byte `at`, n bytes missing */
        struct timeval ts;
    } held_gap[SMTP_MAX_HELD_GAPS];
    unsigned nheld_gaps;
    struct smtp_deferred { int code; struct timeval ts; } silent_unsolicited[SMTP_MAX_SILENT_UNSOLICITED];
    struct smtp_deferred_reply {   /* replies kept while lost lines' replies are counted */
        struct smtp_reply r;
        struct strbuf text;
    } *deferred;                   /* SMTP_MAX_DEFERRED_REPLIES, allocated when first needed */
    unsigned ndeferred;
    bool server_skip;              /* the next server line may be the tail of one: read it only
                                      if it is a reply line (midstream start, server gap) */
    struct strbuf tls_hello;       /* ClientHello bytes buffered to read the SNI */
    struct strbuf resync_line;     /* RESYNC: the one line seen that is not a command (content?) */
};

/* smtp_fsm.c: the state machine. Framing (smtp_session.c) reports what it read; these decide. */
void smtp_fsm_open(struct smtp_session *s, const struct timeval *ts);
void smtp_fsm_client_line(struct smtp_session *s, const struct smtp_line *l, const struct timeval *ts);
/* DATA content: whole plain lines (bytes taken returned); one line (true: it ended the content,
 * then smtp_fsm_end_of_data); the bytes as sent, for a content sink; BDAT chunk bytes. */
size_t smtp_fsm_content_plain(struct smtp_session *s, const uint8_t *p, size_t n);
bool smtp_fsm_content_line(struct smtp_session *s, const struct smtp_line *l, const struct timeval *ts);
void smtp_fsm_end_of_data(struct smtp_session *s, const struct timeval *ts);
void smtp_fsm_content_out(struct smtp_session *s, const uint8_t *p, size_t n);
void smtp_fsm_chunk(struct smtp_session *s, const uint8_t *p, size_t n);
/* n client bytes are missing from the capture (0: unknown), `partial` bytes of a line read
 * before them cut off: in content they count in the message, in command mode the lines in them
 * are lost. */
void smtp_fsm_client_gap(struct smtp_session *s, size_t n, size_t partial, const struct timeval *ts);
/* Server bytes are missing: replies to the commands waiting may be among them. */
void smtp_fsm_server_gap(struct smtp_session *s);
void smtp_fsm_tls_bytes(struct smtp_session *s, const uint8_t *p, size_t n, const struct timeval *ts);
/* Server bytes arrive while the client is inside DATA content (`first`: their first byte). */
void smtp_fsm_server_in_content(struct smtp_session *s, uint8_t first, const struct timeval *ts);
/* A complete reply (s->reply) arrived: pair it, say what it means, act on it. */
void smtp_fsm_reply(struct smtp_session *s, const struct timeval *ts);
/* The session ends with bytes held behind an unanswered DATA and no server byte captured at all
 * (a one-sided capture): they are read as content, as a server that said 354 reads them. */
void smtp_fsm_one_sided_content(struct smtp_session *s);
/* The first client bytes arrived: unsolicited replies before them were no one-sided capture. */
void smtp_fsm_client_spoke(struct smtp_session *s);
/* Client bytes arrived: replies kept to count the lost lines' ones are paired now, if all of the
 * flight's replies are in (force: whatever is in). */
void smtp_fsm_resolve_deferred(struct smtp_session *s, bool force);
/* The session ends: unanswered lines are reported, open transactions end incomplete. */
void smtp_fsm_end(struct smtp_session *s, const struct timeval *ts);
void smtp_fsm_free(struct smtp_session *s);
void smtp_txn_pool_drain(void);

#endif
