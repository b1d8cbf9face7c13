/* smtp_parse.h - the core's parsers: each takes bytes and returns facts. None sees the session;
 * the state machine (smtp_fsm.c) decides what the facts change. */
#ifndef SMTPSNIFF_SMTP_PARSE_H
#define SMTPSNIFF_SMTP_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "smtpsniff/smtp.h"
#include "smtp/smtp_line.h"
#include "lib/strbuf.h"

/* --- command lines (smtp_cmd.c, RFC 5321 4.1) --- */
enum smtp_verb smtp_verb_lookup(const uint8_t *p, size_t n);

struct smtp_cmd_facts {
    enum smtp_verb id;
    char verb[SMTP_MAX_VERB + 1]; /* upper-cased, NUL bytes as '?', cut at SMTP_MAX_VERB */
    size_t verb_len;
    const uint8_t *arg; /* after the first space */
    size_t arg_len;
};
void smtp_cmd_parse(const uint8_t *p, size_t n, struct smtp_cmd_facts *out);

/* What a client line's framing says (the notices they raise are the state machine's). */
struct smtp_line_facts {
    bool bare_lf;      /* ended by a bare LF */
    bool bare_cr;      /* holds a CR (not ended by a bare LF) */
    ptrdiff_t eightbit; /* offset of the first byte >= 0x80, or -1 (checked only when asked) */
};
void smtp_line_check(const struct smtp_line *l, bool want_8bit, struct smtp_line_facts *out);

/* "FROM:<a@b> SIZE=10" -> "a@b" and {SIZE: 10} (RFC 5321 4.1.2); false when `kw` is not there. */
bool smtp_parse_path(const uint8_t *p, size_t n, const char *kw, char *out, size_t outsz,
                     struct smtp_params *params);

/* RFC 3030 2: "BDAT" SP chunk-size [ SP "LAST" ]. */
struct smtp_bdat_facts {
    bool ok;       /* a size the server can read */
    bool last;
    uint64_t size;
};
struct smtp_bdat_facts smtp_bdat_parse(const uint8_t *p, size_t n);

/* --- reply lines (smtp_reply.c, RFC 5321 4.2) --- */
struct smtp_reply_line {
    int code;
    bool last;           /* "NNN " or "NNN": the final line */
    const uint8_t *text; /* after "NNN-" / "NNN " */
    size_t text_len;
};
/* False when the line does not start with a three-digit code 2xx-5xx and a space or hyphen. */
bool smtp_reply_line_parse(const uint8_t *p, size_t n, struct smtp_reply_line *out);
/* Enhanced status code at the start of reply text, in the one grammar (enhanced_parse_span, RFC
 * 3463 2): copies it to out (NUL-terminated), fills *e and returns its length, or 0. */
size_t smtp_enhanced_parse(const uint8_t *p, size_t n, char out[16], struct smtp_enhanced *e);
/* EHLO keywords the core follows (RFC 5321 4.1.1.1), as SMTP_EXT_* bits; 0 for others. */
enum { SMTP_EXT_PIPELINING = 1u << 0, SMTP_EXT_CHUNKING = 1u << 1, SMTP_EXT_SMTPUTF8 = 1u << 2,
       SMTP_EXT_STARTTLS = 1u << 3 };
unsigned smtp_ehlo_keyword(const uint8_t *p, size_t n);

/* --- AUTH (smtp_auth.c, RFC 4954) --- */
struct smtp_auth_facts {
    char mechanism[32];    /* upper-cased, printable */
    size_t mech_len;       /* bytes of the argument the mechanism takes */
    bool more;             /* something follows the mechanism: may be a credential */
    const uint8_t *ir;     /* initial response (base64), or NULL; "=" is an empty one */
    size_t ir_len;
};
void smtp_auth_parse(const uint8_t *p, size_t n, struct smtp_auth_facts *out);
/* The user name a decoded client SASL message reveals for `mech` (PLAIN, LOGIN when
 * `login_user_next`, CRAM-MD5, SCRAM-*, XOAUTH2, OAUTHBEARER): true with (*u, *ulen). */
bool smtp_sasl_user(const char *mech, const uint8_t *d, size_t n, bool login_user_next, const uint8_t **u,
                    size_t *ulen);
/* A 334 challenge decoded into r->challenge (printable) for the record. */
void smtp_auth_challenge_text(struct smtp_reply *r);
/* The 334 challenge asks for the user name ("Username:", LOGIN). */
bool smtp_auth_asks_user(const struct smtp_reply *r);

/* --- TLS ClientHello (smtp_tls.c, RFC 8446 4.1.2, RFC 6066 3) --- */
enum smtp_tls_scan {
    SMTP_TLS_MORE,          /* buffered; more bytes needed */
    SMTP_TLS_NOT_HANDSHAKE, /* the first byte is not a handshake record */
    SMTP_TLS_DONE           /* read (SNI copied when there was one), or not a ClientHello */
};
/* Adds p[0..n) to `hello` (bounded) and reads the ClientHello once it is complete. */
enum smtp_tls_scan smtp_tls_scan(struct strbuf *hello, const uint8_t *p, size_t n, char *sni, size_t snisz);

#endif
