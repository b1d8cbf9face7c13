/* sinks.h - the writers: live feed, JSON Lines and summary. Each only reads the records the SMTP
 * core hands it (smtpsniff/smtp.h); none of them parses wire bytes. */
#ifndef SMTPSNIFF_SINKS_H
#define SMTPSNIFF_SINKS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "capture/capture.h" /* struct capture_stats */
#include "lib/strbuf.h"
#include "smtpsniff/content.h"
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
struct reasm_stats;
struct summary *summary_new(void);
struct smtp_sink *summary_sink(struct summary *sm);
/* What reassembly counted (reasm.h), for the summary's "reassembly" section; before summary_write. */
void summary_set_reasm(struct summary *sm, const struct reasm_stats *st);
/* The error that ended the input before its end (a capture cut in the middle): the summary says
 * the run was not whole. */
void summary_set_input_error(struct summary *sm, const char *msg);
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

/* --- extraction (extract.c): --extract DIR --- */
struct extract_opts {
    const char *dir;
    uint64_t max_bytes; /* --extract-max-bytes: bytes written in all, past it a notice */
};
struct extract_stats {
    uint64_t messages, partial, files, files_deduplicated, bytes_written, limit_hits, errors;
};
/* Opens (creating 0700) DIR, DIR/messages and DIR/files and creates DIR/index.jsonl; NULL with a
 * one-line message in err when it cannot, or when DIR holds an earlier extraction. */
struct smtp_sink *extract_new(const struct extract_opts *o, char *err, size_t errlen);
/* Where the sink's own notices (extract-limit, extract-error) go: the sink that feeds the
 * others, so they reach JSON, the live feed and the summary like every notice. */
void extract_set_report(struct smtp_sink *s, const struct smtp_sink *report);
void extract_get_stats(const struct smtp_sink *s, struct extract_stats *st);
void extract_free(struct smtp_sink *s);

/* --- content facts and envelope pieces as JSON (content_json.c), for JSON Lines and the
 * extraction index --- */
/* {"ip":"...","port":N} */
void content_json_endpoint(struct strbuf *sb, const struct smtp_endpoint *e);
/* {"KEYWORD":"value",...}: ESMTP parameters */
void content_json_params(struct strbuf *sb, const struct smtp_params *ps);
/* [{"addr":...,"code":...,"enhanced":...[,"params":{...}]},...] */
void content_json_rcpts(struct strbuf *sb, const struct smtp_transaction *t, bool params);
/* {"code":...,"enhanced":...,"text":...}, or null when the content got no reply */
void content_json_data_reply(struct strbuf *sb, const struct smtp_transaction *t);
/* `"parts":[...]`'s array; `stored` (NULL: none) names each part's stored file or NULL. */
void content_json_parts(struct strbuf *sb, const struct content_message *cm, const char *const *stored);
/* The message's members: "size":...,"sha256":...,"partial":...,"holes":[...],... */
void content_json_message(struct strbuf *sb, const struct content_message *cm);

/* --- fan-out (sink_tee.c) --- */
struct smtp_sink *sink_tee_new(struct smtp_sink *const *sinks, unsigned n);
void sink_tee_free(struct smtp_sink *s);

#endif
