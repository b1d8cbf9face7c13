/* dialogue.h - scripted client/server dialogues for the SMTP core, recorded as text lines so a
 * test can assert on them, and replayed with every step split at every byte offset. */
#ifndef SMTPSNIFF_TEST_DIALOGUE_H
#define SMTPSNIFF_TEST_DIALOGUE_H

#include <stddef.h>

#include "smtpsniff/smtp.h"

struct step {
    char dir;          /* 'C' client bytes, 'S' server bytes; 'c' / 's': a gap of `len` bytes */
    const char *bytes;
    size_t len;        /* 0: strlen(bytes) */
};

#define C(s) {'C', (s), sizeof(s) - 1}
#define S(s) {'S', (s), sizeof(s) - 1}
/* n bytes of that side missing from the capture (smtp_session_gap): the bytes of `s`, which
 * the dialogue does not feed (so a test says what was lost). */
#define GAP_C(s) {'c', (s), sizeof(s) - 1}
#define GAP_S(s) {'s', (s), sizeof(s) - 1}

/* Run the dialogue and return the record transcript (malloc'd). Each record is one line:
 *   X <verb> <arg> -> <code> [<enhanced>] <line1>|<line2>... {answers: context} [resync]
 *   T <depth> <status> [at <verb>] from=<addr> rcpt=<addr>:<code>,... size=<n> data=<code> subj=<s>
 *     ... helo=<h> [missing=<n>] [start-missing] [ended]
 *   N <notice-name>
 *   E <end reason> tls=<tls> helo=<helo> auth=<mech>/<user>/<result> sni=<sni>
 * split_step/split_at: feed that step in two writes, cut at that offset (split_step < 0: none). */
char *dialogue_run(const struct step *steps, size_t n, unsigned flags, int split_step, size_t split_at);
/* Assert the transcript is the same with every step split at every offset; returns it. */
char *dialogue_run_all_splits(const struct step *steps, size_t n, unsigned flags);
/* True when `hay` contains the line-prefix `needle` at the start of some line. */
int has_line(const char *hay, const char *needle);
/* Number of lines that start with `prefix`. */
int count_lines(const char *hay, const char *prefix);

#endif
