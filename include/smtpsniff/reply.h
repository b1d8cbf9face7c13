/* reply.h - the reply-code knowledge base: basic codes (RFC 5321 4.2 and extensions) and enhanced
 * status codes (RFC 3463, IANA registry of RFC 5248). Const tables; lookups never fail. */
#ifndef SMTPSNIFF_REPLY_H
#define SMTPSNIFF_REPLY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "smtpsniff/smtp.h"

/* One basic reply code. Every code 000..999 has an entry: codes an RFC names are `listed`; every
 * other code with a first digit 2-5 is valid and gets class and category from its digits (a
 * second digit 6-9 has category "Undefined"); anything else is class "invalid" (RFC 5321 4.2:
 * first digit 2-5). Never a NULL. */
struct reply_entry {
    int code;             /* equals the index it is looked up by */
    bool listed;          /* named by an RFC */
    bool valid;           /* first digit 2..5 */
    const char *name;     /* "OK", "Service Ready", or "Unlisted 2.7 code" style text */
    const char *meaning;  /* one line: what it means */
    const char *when;     /* when you see it */
    const char *resolve;  /* what to do about it */
    const char *source;   /* "RFC 5321 4.2.3", ... or "" */
};

const struct reply_entry *reply_lookup(int code);   /* never NULL */
/* Length of the entry's one-line meaning: its first sentence (the whole `meaning` is the full
 * text that `explain` prints). */
size_t reply_meaning_line_len(const struct reply_entry *e);
/* The class comes from the first digit alone (RFC 5321 4.2.1): 2 to 5, else 0 ("invalid").
 * Inline: the summary and the live feed ask once per reply. */
static inline int reply_class(int code)
{
    return code >= 200 && code <= 599 ? code / 100 : 0;
}
const char *reply_class_label(int code);            /* "2xx", ..., "invalid" */
const char *reply_class_name(int code);             /* "Positive Completion", ... */
const char *reply_category_name(int code);          /* second digit, RFC 5321 4.2.1: "Syntax", ... */
/* The meaning of `code` as an answer to `verb` ("recipient accepted" for 250 after RCPT), or NULL
 * where the command does not change the meaning. */
const char *reply_context_meaning(enum smtp_verb verb, int code);

/* What tells two answers to one verb apart. */
enum reply_variant {
    REPLY_VARIANT_NONE,
    REPLY_VARIANT_BDAT_LAST,     /* BDAT ... LAST: its reply is the message's (RFC 3030 2) */
    REPLY_VARIANT_BDAT_BAD_SIZE  /* BDAT whose size the server cannot read */
};
/* Context ids are below this (0: no context). */
#define REPLY_CONTEXT_IDS 128
/* The meaning of `code` where the SMTP core met it: as the answer to `verb` (told apart by
 * `variant`) when `answers` is SMTP_ANSWER_COMMAND or GREETING, else as a reply to no command for
 * the reason `answers` gives. NULL when the context adds nothing to the code's own meaning. *id
 * (may be NULL) gets the row's id, 1..REPLY_CONTEXT_IDS-1, or 0 with NULL: one id, one text. */
const char *reply_context(enum smtp_answer answers, enum smtp_verb verb, enum reply_variant variant,
                          int code, unsigned *id);

/* One enhanced status code class.subject.detail (RFC 3463 / RFC 5248 registry). */
struct enhanced_entry {
    const char *code;     /* "X.1.1" form: class digit replaced by X, as in the registry */
    const char *name;     /* "Bad destination mailbox address" */
    const char *meaning;
    const char *source;   /* "RFC 3463", ... */
};

/* The one grammar of enhanced status codes, for the core, the summary and `explain` (RFC 3463 2:
 * status-code = class "." subject "." detail; class "2" / "4" / "5"; subject and detail 1*3digit,
 * so leading zeros are allowed and "5.01.1" is 5.1.1). A code at the start of p[0..n) that ends
 * there or at a space: returns 0, fills *e and sets *used to its length; otherwise -1 and *e,
 * *used untouched. */
int enhanced_parse_span(const uint8_t *p, size_t n, struct smtp_enhanced *e, size_t *used);
/* The whole of `text` is one code (enhanced_parse_span): returns 0 and fills class/subject/detail,
 * or -1 and leaves them alone. */
int enhanced_parse(const char *text, int *cls, int *subject, int *detail);
/* Entry for subject.detail (class ignored), or NULL when the registry has none. */
const struct enhanced_entry *enhanced_lookup(int subject, int detail);
/* Basic reply codes the registry pairs with subject.detail ("451, 550"), "" when it names none. */
const char *enhanced_usual_replies(int subject, int detail);
const char *enhanced_class_name(int cls);       /* 2 "Success", 4 "Persistent Transient Failure", 5 "Permanent Failure" */
const char *enhanced_subject_name(int subject); /* 0 "Other or Undefined Status", 1 "Addressing Status", ... */

/* `smtpsniff explain CODE [CODE] [--json]`: returns the process exit status. */
int explain_main(int argc, char **argv, FILE *out, FILE *err);

#endif
