/* smtp_body.h - message content as facts (a parser): the exact end of DATA (RFC 5321 4.1.1.4)
 * and its smuggling look-alikes, dot-unstuffing, size, the top-level headers. It reads and fills
 * a message record the caller passes (NULL: content of no transaction, only scanned). */
#ifndef SMTPSNIFF_SMTP_BODY_H
#define SMTPSNIFF_SMTP_BODY_H

#include "smtpsniff/smtp.h"
#include "smtp/smtp_line.h"
#include "lib/strbuf.h"

/* The scanner's own state for one message. */
struct smtp_body {
    bool prev_crlf;      /* previous content line ended with CRLF (or content just began) */
    bool smuggle_seen;   /* a bare-LF/CR dot was seen in this message's content */
    bool in_headers;     /* still in the top-level header block */
    bool fed;            /* a content byte arrived since smtp_body_begin */
    bool after_hole;     /* the next line starts after a hole: it may be the tail of a line */
    bool holed;          /* a hole is in this message: a reply inside it may end it */
    size_t header_bytes; /* bytes of header block examined (bounded) */
    char cur_name[32];   /* header being unfolded */
    struct strbuf cur;   /* its value so far (bounded) */
    struct smtp_line_framer bdat_lines; /* header lines inside BDAT chunks */
};

/* What one DATA content line is. */
struct smtp_content_line {
    bool end;              /* <CRLF>.<CRLF>: the end of data */
    const char *smuggling; /* a bare-LF/CR form of it that some servers take as the end, or NULL */
    struct smtp_split split; /* with smuggling: where such a server ends the message and reads on */
    bool too_long;         /* over RFC 5321 4.5.3.1.6's 1000 bytes */
};

void smtp_body_begin(struct smtp_body *b);
struct smtp_content_line smtp_body_line(struct smtp_body *b, struct smtp_message_info *m, const struct smtp_line *l);
/* Past the header block, at a line start: the whole lines ahead that need no look of their own,
 * counted in one step; returns the bytes taken (the rest goes to smtp_body_line). */
size_t smtp_body_plain(struct smtp_body *b, struct smtp_message_info *m, const uint8_t *p, size_t n);
/* The one rule a content line is read by: the line p[0..len) (with its LF) needs no look of its
 * own when it does not start with '.', its only CR is the one right before the LF, and it is at
 * most SMTP_RFC_TEXT_LINE bytes. */
bool smtp_content_line_plain(const uint8_t *p, size_t len);
/* The scan itself, at a line start: bytes of whole plain lines at p, and in *crlf whether the
 * last of them ended with CRLF (unchanged when none). A vector scan finds where the first line
 * that may not be plain starts; smtp_content_line_plain decides from there. */
size_t smtp_content_plain(const uint8_t *p, size_t n, bool *crlf);
void smtp_body_bytes(struct smtp_body *b, struct smtp_message_info *m, const uint8_t *p, size_t n); /* BDAT */
void smtp_body_end(struct smtp_body *b, struct smtp_message_info *m);
/* n bytes of the message are missing (a hole in the capture): counted in its size; the header
 * block is over as far as the record goes, and the next line is read as the tail of a line. */
void smtp_body_hole(struct smtp_body *b, struct smtp_message_info *m, uint64_t n);
/* A message with no size and no headers, as a zeroed one reads (fields are not cleared). */
void smtp_message_reset(struct smtp_message_info *m);

#endif
