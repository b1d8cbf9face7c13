/* summary_state.h - what the summary accumulates, shared by summary.c and its JSON and text writers. */
#ifndef SMTPSNIFF_SUMMARY_STATE_H
#define SMTPSNIFF_SUMMARY_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/time.h>

#include "reasm/reasm.h"
#include "sinks/sinks.h"
#include "smtpsniff/smtp.h"
#include "lib/strbuf.h"

#define SM_KEY 72               /* table key: an IP address, an escaped verb or mechanism, an enhanced code */
#define SM_MAX_IPS 100000       /* distinct client (and server) addresses counted; the rest go to "other" */
#define SM_MAX_VERBS 64         /* distinct unknown verbs */
#define SM_MAX_ENHANCED 1024    /* distinct enhanced status codes */
#define SM_MAX_AUTH 256         /* distinct (mechanism, result) pairs */
#define SM_TOP 10               /* rows in each "top" list */
#define SM_MAX_FAILS 10000      /* failed deliveries kept; the rest are counted */
#define SM_MAX_TYPES 1024      /* distinct sniffed part types */
#define SM_MAX_FILES 100000     /* distinct part SHA-256s counted (--files); the rest go to "other" */
#define SM_CODES 1000           /* reply codes counted one by one: 000..999 */
#define SM_OUT_MAX (512u << 20) /* a summary larger than this is refused (EFBIG) */

/* One counted key; v[] means what the table says (sessions and failures for addresses). */
struct sm_entry {
    bool used;
    int code;
    char key[SM_KEY];
    uint64_t v[2];
};

/* Open addressing, grown on demand up to `max` keys; past that, counts go to other[]. */
struct sm_table {
    struct sm_entry *slot;
    size_t cap, n, max;
    uint64_t other[2];
};

/* One recipient the mail did not reach. */
struct sm_fail {
    uint64_t session;
    struct timeval ts;
    char client[46], server[46];
    char sender[SMTP_MAX_NAME], rcpt[SMTP_MAX_NAME];
    enum smtp_verb stage; /* RCPT or DATA (the final reply after the message) */
    const char *context;  /* what that reply means there, as the core said (static text), or NULL */
    int code;
    char enhanced[16];
    char text[SMTP_MAX_NAME]; /* DATA: the reply's text as the core kept it; RCPT: "" */
};

/* The first filename a part with this SHA-256 was sent under (--files). */
struct sm_fname {
    char sha256[65];
    char name[SMTP_MAX_NAME];
};

/* What --files / --extract found in the messages. */
struct sm_content {
    uint64_t messages, partial, parts, mismatches, mime_errors;
    struct sm_table types; /* key: sniffed type; v[0] parts, v[1] of them declared otherwise */
    struct sm_table files; /* key: SHA-256; v[0] times seen, v[1] size */
    struct sm_fname *fname;
    size_t nfname, fname_cap;
};

struct summary {
    struct smtp_sink sink;  /* sink.ctx points back here */
    struct timeval last_ts; /* time of the latest record (capture order): transactions carry none */
    struct reasm_stats reasm; /* summary_set_reasm; zero when never set */
    char input_error[512];    /* summary_set_input_error: why the input ended early, or "" */

    uint64_t sessions, ended, by_end[SMTP_END_COUNT], by_tls[SMTP_TLS_COUNT], bytes[2];

    uint64_t replies, by_class[6]; /* [2]..[5]; [0] invalid */
    uint64_t by_code[SM_CODES], code_other;
    struct sm_table enhanced;

    uint64_t commands, by_verb[SMTP_VERB_COUNT];
    struct sm_table unknown_verbs;

    uint64_t txns, by_status[SMTP_TXN_COUNT], messages, message_bytes;
    uint64_t rcpt_ok, rcpt_bad, rcpt_none, rcpt_dropped;

    uint64_t auth_sessions;
    struct sm_table auth; /* key mechanism, code result */

    uint64_t notices, by_notice[SMTP_NOTICE_COUNT], notices_dropped;

    struct sm_table clients, servers; /* v[0] sessions, v[1] failed replies */

    struct sm_fail *fail;
    size_t nfail, fail_cap;
    uint64_t fails_total;

    struct sm_content content;
};

/* The first name a file (by SHA-256) was seen under, or "". */
const char *sm_file_name(const struct summary *sm, const char *sha256);
/* The `code` of an entry of the enhanced table: the parsed code, so writers need not parse. */
static inline int sm_enhanced_pack(struct smtp_enhanced e)
{
    return e.cls * 1000000 + e.subject * 1000 + e.detail;
}

static inline struct smtp_enhanced sm_enhanced_unpack(int code)
{
    return (struct smtp_enhanced){.cls = (uint8_t)(code / 1000000), .subject = (uint16_t)(code / 1000 % 1000),
                                  .detail = (uint16_t)(code % 1000)};
}

/* The used entries of a table, sorted with cmp (qsort-style on const struct sm_entry **); the caller
 * frees the array. NULL with *n = 0 when the table is empty. */
const struct sm_entry **sm_table_sorted(const struct sm_table *t, int (*cmp)(const void *, const void *),
                                        size_t *n);
int sm_cmp_key(const void *a, const void *b);     /* key in version order, then code */
/* AUTH exchanges by outcome: 2xx succeeded, 4xx/5xx failed, anything else unfinished. */
struct sm_auth_outcomes {
    uint64_t succeeded, failed, unfinished;
};
struct sm_auth_outcomes sm_auth_tally(const struct sm_entry *const *v, size_t n);
int sm_cmp_v0_desc(const void *a, const void *b); /* v[0] descending, then key */
int sm_cmp_v1_desc(const void *a, const void *b); /* v[1] descending, then key */

/* The finished summary to path (summary_path.c): 0, or -1 with errno. */
int sm_write_file(const char *path, const char *p, size_t n);

void summary_json(const struct summary *sm, const struct capture_stats *cs, struct strbuf *sb);
void summary_text(const struct summary *sm, const struct capture_stats *cs, struct strbuf *sb);

#endif
