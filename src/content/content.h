/* content.h - the content stage: a sink in front of the sinks that collects each message's bytes
 * from the SMTP core and, when the transaction is reported, hands it on with its MIME parts,
 * hashes and sniffed types (smtpsniff/content.h). Used for --files and --extract only: without
 * it the core hands no content anywhere. */
#ifndef SMTPSNIFF_CONTENT_STAGE_H
#define SMTPSNIFF_CONTENT_STAGE_H

#include <stddef.h>
#include <stdint.h>

#include "smtpsniff/content.h"
#include "smtpsniff/smtp.h"

struct content_opts {
    size_t max_message; /* bytes kept per message (CONTENT_MAX_MESSAGE) */
    size_t memcap;      /* bytes kept for all messages in progress (CONTENT_MEMCAP) */
};

/* The stage hands every record on to `next` (not owned). NULL when GMime or libmagic cannot be
 * set up (err says which). */
struct smtp_sink *content_new(const struct content_opts *o, const struct smtp_sink *next, char *err,
                              size_t errlen);
/* Where notices raised after the core (the extraction writer's) go: counted in their session's
 * record, then handed on like every notice. */
const struct smtp_sink *content_report(const struct smtp_sink *s);
void content_free(struct smtp_sink *s);

#endif
