/* sinks.h - the writers: live feed, JSON Lines and summary. Each only reads the records the SMTP
 * core hands it (smtpsniff/smtp.h); none of them parses wire bytes. */
#ifndef SMTPSNIFF_SINKS_H
#define SMTPSNIFF_SINKS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "capture/capture.h" /* struct capture_stats */
#include "smtpsniff/smtp.h"

/* --- JSON Lines (out_json.c) --- */
struct out_json_opts {
    FILE *out;
    bool flush_each;  /* write and fflush every record (else batched): live, stdin, a terminal */
};
struct smtp_sink *out_json_new(const struct out_json_opts *o);
void out_json_free(struct smtp_sink *s);

/* --- live feed (out_live.c) --- */
struct out_live_opts {
    FILE *out;
    bool color;        /* ANSI colour by reply class */
    bool errors_only;  /* --errors: only sessions with a 4xx/5xx reply or a notice */
    bool quiet;        /* -q: one line per session */
    bool flush_each;
    unsigned arg_width; /* shorten arguments/reply text past this many columns (0: never) */
};
struct smtp_sink *out_live_new(const struct out_live_opts *o);
void out_live_free(struct smtp_sink *s);

/* --- summary (summary.c) --- */
enum summary_format { SUMMARY_JSON, SUMMARY_TEXT };
struct summary;
struct summary *summary_new(void);
struct smtp_sink *summary_sink(struct summary *sm);
/* Write atomically (temporary file in the same directory, fsync, rename; a new file 0600, a
 * replaced one keeps its mode and owner), into a device or FIFO, or through stdout or stderr when
 * the path is their file (docs/summary.md). Returns 0, or -1 with errno set. Safe to call more
 * than once (SIGINT then end of input). */
int summary_write(struct summary *sm, const struct capture_stats *cs, const char *path,
                  enum summary_format fmt);
void summary_free(struct summary *sm);
/* Start-up check of a summary path (summary_path.c), before any input is read: 2 if it is the same
 * file as an input (inputs: -r files, "-" = standard input), 1 if it cannot be written there (a
 * missing or unwritable directory, a directory, a symlink another user could have planted), else 0.
 * err gets one line. */
int summary_check_path(const char *path, const char *const *inputs, unsigned n, char *err, size_t errlen);

/* --- fan-out (sink_tee.c) --- */
struct smtp_sink *sink_tee_new(struct smtp_sink *const *sinks, unsigned n);
void sink_tee_free(struct smtp_sink *s);

#endif
