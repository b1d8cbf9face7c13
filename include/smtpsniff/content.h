/* content.h - what the content stage tells the sinks about a message: the bytes the server
 * received, the holes in them, and its MIME parts with their hashes and sniffed types.
 *
 * The content stage (src/content/) sits between the SMTP core and the sinks. It collects the
 * message bytes the core hands it, and when the transaction record comes, parses the message
 * (GMime), hashes each decoded part (libcrypto) and sniffs its type (libmagic), then passes the
 * transaction on with `t->content` pointing at one of these. Spans are valid only during the
 * transaction callback. */
#ifndef SMTPSNIFF_CONTENT_H
#define SMTPSNIFF_CONTENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "smtpsniff/limits.h"

/* A range of the message that is not what the server received. */
struct content_hole {
    uint64_t offset, len;
    enum content_hole_kind {
        CONTENT_HOLE_GAP,     /* bytes missing from the capture */
        CONTENT_HOLE_LIMIT    /* bytes seen but not kept (a message or memory bound) */
    } kind;
};

/* Where a lenient server would have ended the message (SMTP smuggling): it ends the message
 * at `end` and reads what starts at `resume` as the next commands. Offsets in the message. */
struct content_split {
    uint64_t end, resume;
};

struct content_part {
    char path[32];          /* MIME path: "1", "2.1", ... ("1" for a single-part message) */
    unsigned depth;         /* 0 for the top-level part */
    bool leaf;              /* a part with content (else multipart or message/rfc822) */
    char type[96];          /* declared type, lower-cased: "application/pdf" */
    char sniffed[96];       /* type from the bytes (libmagic), leaves only: "application/x-dosexec" */
    char charset[48];
    char filename[256];     /* decoded (RFC 2231, RFC 2047), printable UTF-8; "" when none */
    char disposition[16];   /* "attachment", "inline" or "" */
    char encoding[24];      /* Content-Transfer-Encoding as declared: "base64", ... or "" */
    bool type_mismatch;     /* the declared type and the sniffed one disagree */
    uint64_t size;          /* decoded bytes */
    char md5[33], sha1[41], sha256[65];
    const uint8_t *data;    /* the decoded bytes (leaves), valid during the callback */
};

struct content_message {
    const uint8_t *eml;     /* the message as the server received it (after dot-unstuffing,
                               chunks joined), holes left out; valid during the callback */
    size_t eml_len;
    uint64_t size;          /* message bytes, holes included */
    char sha256[65];        /* of eml */
    bool partial;           /* holes, or cut before its end (capture ended, a gap, a bound) */
    bool ended;             /* the end of the message was seen (CRLF.CRLF or BDAT LAST) */
    bool chunked;           /* sent with BDAT */
    unsigned nholes, holes_dropped;
    struct content_hole hole[CONTENT_MAX_HOLES];
    unsigned nsplits;
    struct content_split split[CONTENT_MAX_SPLITS];
    bool mime_error;        /* GMime could not parse it: parts is empty */
    unsigned nparts, parts_dropped;
    struct content_part *part;
};

#endif
