/* explain.c - `smtpsniff explain`: what a reply code or enhanced status code means, alone or
 * side by side with a second one, as text for an 80-column terminal or as one JSON object.
 *
 * Exit status: 0 explained; 1 a code that is not valid (999, 1.1.1, abc); 2 usage error (no
 * code, three codes, unknown option); 1 also when the output cannot be written.
 *
 * JSON (--json) is one object, pretty-printed, ending in "}\n":
 *   basic code     {"kind": "basic", "code": 550, "name", "class": "5xx", "class_name",
 *                   "category", "listed", "valid", "meaning", "when", "resolve", "source",
 *                   "contexts": [{"command", "meaning"}], "enhanced": [{"code", "name"}]}
 *   enhanced code  {"kind": "enhanced", "code": "5.1.1", "class": 5, "class_name",
 *                   "subject": 1, "subject_name", "detail": 1, "registered",
 *                   "registry_code": "X.1.1" or null, "name" (null when unregistered),
 *                   "meaning", "source", "usual_replies": [550, ...]}
 *   two codes      {"kind": "comparison", "codes": [object, object], "same_class",
 *                   "summary", "differences": [string, ...]}; when one code is basic and the
 *                   other enhanced, also "consistent" (classes agree, RFC 2034) and
 *                   "registry_pairs" (the registry lists that reply with that status). */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "smtpsniff/reply.h"
#include "lib/json.h"
#include "lib/strbuf.h"

#define EXPLAIN_WIDTH 78           /* text wraps before this column */
#define EXPLAIN_LABEL 14           /* label column of tables and context lists */
#define EXPLAIN_COL 30             /* width of one column in a comparison table */
#define EXPLAIN_MAX_OUT (256 * 1024)
#define EXPLAIN_MAX_SUBJECT 7      /* highest subject in the registry */
#define EXPLAIN_MAX_DETAIL 99      /* enumerate details up to this when searching the registry */
#define EXPLAIN_USAGE "usage: smtpsniff explain [--json] CODE [CODE]"

enum explain_kind { EXPLAIN_BASIC, EXPLAIN_ENHANCED };

/* One code from the command line, checked. */
struct explain_code {
    enum explain_kind kind;
    char text[16];
    int code;                         /* basic */
    const struct reply_entry *reply;  /* basic */
    int cls, subject, detail;         /* enhanced */
    const struct enhanced_entry *enh; /* enhanced; NULL when not in the registry */
};

/* ---- Plain-text layout ------------------------------------------------------------------- */

static void explain_pad(struct strbuf *sb, size_t n)
{
    while (n--)
        sb_putc(sb, ' ');
}

/* Length of the first line of `s` wrapped at `width` columns; *skip gets where the next line
 * starts. A word longer than the line is cut. */
static size_t explain_line(const char *s, size_t width, size_t *skip)
{
    size_t n = strlen(s);
    if (n <= width) {
        *skip = n;
        return n;
    }
    size_t cut = width;
    while (cut > 0 && s[cut] != ' ')
        cut--;
    if (cut == 0) {
        *skip = width;
        return width;
    }
    size_t len = cut;
    while (s[cut] == ' ')
        cut++;
    while (len > 0 && s[len - 1] == ' ')
        len--;
    *skip = cut;
    return len;
}

/* `text` wrapped, starting at column `col`; continuation lines indented by `indent`. */
static void explain_para(struct strbuf *sb, size_t col, size_t indent, const char *text)
{
    size_t width = EXPLAIN_WIDTH > col ? EXPLAIN_WIDTH - col : 1;
    while (*text) {
        size_t skip, len = explain_line(text, width, &skip);
        sb_put(sb, text, len);
        sb_putc(sb, '\n');
        text += skip;
        if (*text)
            explain_pad(sb, indent);
        width = EXPLAIN_WIDTH - indent;
    }
    if (sb->len == 0 || sb->p[sb->len - 1] != '\n')
        sb_putc(sb, '\n');
}

/* "  label         text..." with the text wrapped under itself. */
static void explain_field(struct strbuf *sb, const char *label, const char *text)
{
    sb_puts(sb, "  ");
    sb_puts(sb, label);
    size_t n = strlen(label);
    explain_pad(sb, n < EXPLAIN_LABEL ? EXPLAIN_LABEL - n : 1);
    explain_para(sb, 2 + (n < EXPLAIN_LABEL ? EXPLAIN_LABEL : n + 1), 2 + EXPLAIN_LABEL, text);
}

static void explain_section(struct strbuf *sb, const char *title, const char *text)
{
    sb_putc(sb, '\n');
    sb_puts(sb, title);
    sb_puts(sb, "\n  ");
    explain_para(sb, 2, 2, text);
}

/* One table row with two wrapped cells: "  label  a...  b...". */
static void explain_row(struct strbuf *sb, const char *label, const char *a, const char *b)
{
    bool first = true;
    while (first || *a || *b) {
        size_t sa, sbk, la = explain_line(a, EXPLAIN_COL, &sa);
        size_t lb = explain_line(b, EXPLAIN_COL, &sbk);
        sb_puts(sb, "  ");
        size_t n = first ? strlen(label) : 0;
        sb_put(sb, label, n);
        explain_pad(sb, n < EXPLAIN_LABEL ? EXPLAIN_LABEL - n : 1);
        sb_put(sb, a, la);
        if (lb)
            explain_pad(sb, EXPLAIN_COL + 2 - la);
        sb_put(sb, b, lb);
        sb_putc(sb, '\n');
        a += sa;
        b += sbk;
        first = false;
    }
}

/* ---- Facts derived from the tables ------------------------------------------------------- */

static const char *explain_outcome(int first_digit)
{
    static const char *const outcome[] = { "success", "waiting for more input",
                                           "temporary failure", "permanent failure" };
    return first_digit >= 2 && first_digit <= 5 ? outcome[first_digit - 2] : "invalid";
}

static const char *explain_retry(int first_digit)
{
    static const char *const retry[] = { "not needed", "send what is asked for",
                                         "later, unchanged", "not without a change" };
    return first_digit >= 2 && first_digit <= 5 ? retry[first_digit - 2] : "no";
}

/* RFC 3463 2: what each enhanced class and subject covers. */
static const char *explain_enh_class_text(int cls)
{
    switch (cls) {
    case 2: return "The action succeeded; the detail may report a change made on the way.";
    case 4: return "A temporary condition stopped delivery; the message as sent is fine and "
                   "sending later may work.";
    default: return "Resending the same message will not work: the message or the destination "
                    "must change first.";
    }
}

static const char *explain_enh_subject_text(int subject)
{
    static const char *const text[] = {
        "No subject information is given.",
        "It concerns the sender's or recipient's address (syntax or validity), which the "
        "sender can usually fix.",
        "It concerns the recipient's mailbox, which the recipient controls.",
        "It concerns the destination mail system, which its administrator controls.",
        "It concerns the network or routing between systems, DNS included.",
        "It concerns the mail delivery protocol: commands, their syntax and order.",
        "It concerns the message content or media: types, encodings, conversions.",
        "It concerns security or policy: authentication, authorization, filtering, "
        "cryptography.",
    };
    if (subject < 0 || subject > EXPLAIN_MAX_SUBJECT)
        return "Its subject is not in the registry.";
    return text[subject];
}

static int explain_number(const char **p)
{
    int v = -1;
    while (**p >= '0' && **p <= '9') {
        v = (v < 0 ? 0 : v * 10) + (**p - '0');
        (*p)++;
    }
    return v;
}

/* Whether a registry list such as "250-253, 451, 501-503" names `code`. */
static bool explain_usual_has(const char *list, int code)
{
    const char *p = list;
    while (*p) {
        const char *start = p;
        int lo = explain_number(&p), hi = lo;
        if (*p == '-') {
            p++;
            hi = explain_number(&p);
        }
        if (lo >= 0 && code >= lo && code <= hi)
            return true;
        while (*p == ',' || *p == ' ')
            p++;
        if (p == start)
            p++;
    }
    return false;
}

static const char *const explain_verb_text[] = {
#define EXPLAIN_VERB_TEXT(id, text) text,
    SMTP_VERB_LIST(EXPLAIN_VERB_TEXT)
#undef EXPLAIN_VERB_TEXT
};

static const char *explain_verb_label(enum smtp_verb v)
{
    if (v == SMTP_VERB_GREETING)
        return "greeting";
    if (v == SMTP_VERB_END_OF_DATA)
        return "end of data";
    return explain_verb_text[v];
}

/* Calls fn for each command after which `code` has its own meaning; "any command" first.
 * LHLO and SASL share EHLO's and AUTH's meanings and are not repeated. */
static void explain_each_context(int code, void (*fn)(void *ctx, const char *cmd, const char *m),
                                 void *ctx)
{
    const char *any = reply_context_meaning(SMTP_VERB_COUNT, code); /* no verb: the rows for any command */
    if (any)
        fn(ctx, "any command", any);
    for (int v = SMTP_VERB_GREETING; v < SMTP_VERB_COUNT; v++) {
        if (v == SMTP_VERB_LHLO || v == SMTP_VERB_SASL)
            continue;
        const char *m = reply_context_meaning((enum smtp_verb)v, code);
        if (m && m != any)
            fn(ctx, explain_verb_label((enum smtp_verb)v), m);
    }
}

/* Calls fn for each registry entry the registry pairs with basic `code`. */
static void explain_each_enhanced(int code,
                                  void (*fn)(void *ctx, int s, int d, const struct enhanced_entry *),
                                  void *ctx)
{
    if (code / 100 == 3)
        return; /* RFC 2034: 3xx replies carry no enhanced status */
    for (int s = 0; s <= EXPLAIN_MAX_SUBJECT; s++)
        for (int d = 0; d <= EXPLAIN_MAX_DETAIL; d++) {
            const struct enhanced_entry *e = enhanced_lookup(s, d);
            if (e && explain_usual_has(enhanced_usual_replies(s, d), code))
                fn(ctx, s, d, e);
        }
}

/* ---- Parsing the command line ------------------------------------------------------------ */

static bool explain_is_basic(const char *s)
{
    return strlen(s) == 3 && s[0] >= '0' && s[0] <= '9' && s[1] >= '0' && s[1] <= '9' &&
           s[2] >= '0' && s[2] <= '9';
}

static void explain_error(FILE *err, const char *arg, const char *problem)
{
    char shown[24]; /* keeps the line within 80 columns for any sane argument */
    esc_to_cstr(shown, sizeof(shown), (const uint8_t *)arg, strlen(arg));
    fprintf(err, "smtpsniff explain: '%s' %s\n", shown, problem);
}

static int explain_parse_basic(const char *arg, struct explain_code *c, FILE *err)
{
    c->kind = EXPLAIN_BASIC;
    c->code = (arg[0] - '0') * 100 + (arg[1] - '0') * 10 + (arg[2] - '0');
    c->reply = reply_lookup(c->code);
    if (c->code < 200 || c->code > 599) {
        explain_error(err, arg, "is not a reply code (first digit 2-5, RFC 5321 4.2)");
        return 1;
    }
    return 0;
}

static int explain_parse(const char *arg, struct explain_code *c, FILE *err)
{
    memset(c, 0, sizeof(*c));
    size_t n = strlen(arg);
    memcpy(c->text, arg, n < sizeof(c->text) - 1 ? n : sizeof(c->text) - 1);
    if (explain_is_basic(arg))
        return explain_parse_basic(arg, c, err);
    if (!strchr(arg, '.')) {
        explain_error(err, arg, "is neither a reply code (550) nor a status (5.1.1)");
        return 1;
    }
    c->kind = EXPLAIN_ENHANCED;
    if (arg[0] >= '0' && arg[0] <= '9' && arg[1] == '.' && arg[0] != '2' && arg[0] != '4' &&
        arg[0] != '5') {
        explain_error(err, arg, "has no valid class: want 2, 4 or 5 (RFC 3463)");
        return 1;
    }
    if (enhanced_parse(arg, &c->cls, &c->subject, &c->detail) != 0) {
        explain_error(err, arg, "is not a status code like 5.1.1 (RFC 3463)");
        return 1;
    }
    c->enh = enhanced_lookup(c->subject, c->detail);
    return 0;
}

struct explain_args {
    bool json, help;
    int ncodes;
    const char *codes[2];
};

static int explain_args(int argc, char **argv, struct explain_args *a, FILE *err)
{
    memset(a, 0, sizeof(*a));
    for (int i = 1; i < argc; i++) {
        const char *s = argv[i];
        if (strcmp(s, "--json") == 0) {
            a->json = true;
        } else if (strcmp(s, "-h") == 0 || strcmp(s, "--help") == 0) {
            a->help = true;
        } else if (s[0] == '-' && s[1] != '\0') {
            explain_error(err, s, "is not an option (try --help)");
            return 2;
        } else if (a->ncodes == 2) {
            fprintf(err, "smtpsniff explain: too many codes: give one or two\n");
            return 2;
        } else {
            a->codes[a->ncodes++] = s;
        }
    }
    if (a->ncodes == 0 && !a->help) {
        fprintf(err, "smtpsniff explain: no code given (try --help)\n");
        return 2;
    }
    return 0;
}

/* ---- One code as text -------------------------------------------------------------------- */

static void explain_text_context(void *ctx, const char *cmd, const char *m)
{
    explain_field(ctx, cmd, m);
}

struct explain_enh_list {
    struct strbuf *sb;
    int cls;
    unsigned n;
};

static void explain_text_enh(void *ctx, int s, int d, const struct enhanced_entry *e)
{
    struct explain_enh_list *l = ctx;
    char code[16];
    snprintf(code, sizeof(code), "%d.%d.%d", l->cls, s, d);
    explain_field(l->sb, code, e->name);
    l->n++;
}

static void explain_text_basic(struct strbuf *sb, const struct explain_code *c)
{
    const struct reply_entry *r = c->reply;
    char buf[160];
    sb_printf(sb, "%03d  ", c->code);
    explain_para(sb, 5, 5, r->name);
    sb_putc(sb, '\n');
    snprintf(buf, sizeof(buf), "%s %s", reply_class_label(c->code), reply_class_name(c->code));
    explain_field(sb, "Class", buf);
    snprintf(buf, sizeof(buf), "x%dz %s", c->code / 10 % 10, reply_category_name(c->code));
    explain_field(sb, "Category", buf);
    if (r->listed)
        snprintf(buf, sizeof(buf), "yes: %s", r->source);
    else
        snprintf(buf, sizeof(buf), "no: no RFC names %03d; class and category come from its "
                 "digits (RFC 5321 4.2.1)", c->code);
    explain_field(sb, "Listed", buf);
    explain_section(sb, "Meaning", r->meaning);
    explain_section(sb, "When you see it", r->when);
    explain_section(sb, "How to resolve", r->resolve);
    sb_puts(sb, "\nAfter a command\n");
    size_t before = sb->len;
    explain_each_context(c->code, explain_text_context, sb);
    if (sb->len == before)
        sb_puts(sb, "  (no meaning of its own after any particular command)\n");
    sb_puts(sb, "\nEnhanced status codes often sent with it\n");
    struct explain_enh_list l = { sb, c->code / 100, 0 };
    explain_each_enhanced(c->code, explain_text_enh, &l);
    if (l.n == 0)
        sb_puts(sb, c->code / 100 == 3 ? "  (none: 3xx replies carry no enhanced status, RFC 2034)\n"
                                       : "  (none listed in the registry)\n");
}

static void explain_enh_meaning(char *buf, size_t size, const struct explain_code *c)
{
    snprintf(buf, size, "%s %s %s", c->enh ? c->enh->meaning
                                           : "The registry lists no code with this subject "
                                             "and detail; the server chose it.",
             explain_enh_subject_text(c->subject), explain_enh_class_text(c->cls));
}

static void explain_text_enhanced(struct strbuf *sb, const struct explain_code *c)
{
    char buf[640];
    sb_printf(sb, "%d.%d.%d  ", c->cls, c->subject, c->detail);
    explain_para(sb, strlen(c->text) + 2, 2, c->enh ? c->enh->name : "Unregistered status code");
    sb_putc(sb, '\n');
    snprintf(buf, sizeof(buf), "%d %s", c->cls, enhanced_class_name(c->cls));
    explain_field(sb, "Class", buf);
    snprintf(buf, sizeof(buf), "%d %s", c->subject, enhanced_subject_name(c->subject));
    explain_field(sb, "Subject", buf);
    snprintf(buf, sizeof(buf), "%d %s", c->detail,
             c->enh ? c->enh->name : "(not in the IANA registry)");
    explain_field(sb, "Detail", buf);
    if (c->enh) {
        snprintf(buf, sizeof(buf), "%s: %s", c->enh->code, c->enh->source);
        explain_field(sb, "Registry", buf);
    }
    explain_enh_meaning(buf, sizeof(buf), c);
    explain_section(sb, "Meaning", buf);
    const char *usual = enhanced_usual_replies(c->subject, c->detail);
    explain_section(sb, "Usually sent with", *usual ? usual : "(the registry names no reply)");
}

static void explain_text_one(struct strbuf *sb, const struct explain_code *c)
{
    if (c->kind == EXPLAIN_BASIC)
        explain_text_basic(sb, c);
    else
        explain_text_enhanced(sb, c);
}

/* ---- Two codes --------------------------------------------------------------------------- */

/* Short name of a code for titles and tables. */
static const char *explain_name(const struct explain_code *c)
{
    if (c->kind == EXPLAIN_BASIC)
        return c->reply->name;
    return c->enh ? c->enh->name : "Unregistered status code";
}

static int explain_first_digit(const struct explain_code *c)
{
    return c->kind == EXPLAIN_BASIC ? c->code / 100 : c->cls;
}

static void explain_class_text(char *buf, size_t size, const struct explain_code *c)
{
    if (c->kind == EXPLAIN_BASIC)
        snprintf(buf, size, "%s %s", reply_class_label(c->code), reply_class_name(c->code));
    else
        snprintf(buf, size, "%d.X.X %s", c->cls, enhanced_class_name(c->cls));
}

static void explain_summary(char *buf, size_t size, const struct explain_code *a,
                            const struct explain_code *b)
{
    char ca[80], cb[80];
    explain_class_text(ca, sizeof(ca), a);
    explain_class_text(cb, sizeof(cb), b);
    if (a->kind != b->kind) {
        const struct explain_code *r = a->kind == EXPLAIN_BASIC ? a : b, *e = r == a ? b : a;
        snprintf(buf, size, "Reply code %s (%s) gives the outcome: %s, %s. Enhanced status %s "
                 "(%s, %s) says more precisely why.", r->text, explain_name(r),
                 r == a ? ca : cb, explain_outcome(explain_first_digit(r)), e->text,
                 explain_name(e), enhanced_subject_name(e->subject));
    } else if (strcmp(ca, cb) == 0)
        snprintf(buf, size, "Both %s (%s) and %s (%s) belong to the %s class: %s.", a->text,
                 explain_name(a), b->text, explain_name(b), ca,
                 explain_outcome(explain_first_digit(a)));
    else
        snprintf(buf, size, "%s (%s) is a %s code (%s), while %s (%s) is a %s code (%s).",
                 a->text, explain_name(a), ca, explain_outcome(explain_first_digit(a)), b->text,
                 explain_name(b), cb, explain_outcome(explain_first_digit(b)));
}

/* Up to EXPLAIN_MAX_DIFFS one-line differences. */
#define EXPLAIN_MAX_DIFFS 8
#define EXPLAIN_DIFF_LEN 240

struct explain_diffs {
    unsigned n;
    char line[EXPLAIN_MAX_DIFFS][EXPLAIN_DIFF_LEN];
};

static char *explain_diff_slot(struct explain_diffs *d)
{
    return d->n < EXPLAIN_MAX_DIFFS ? d->line[d->n++] : NULL;
}

static void explain_diff_class(struct explain_diffs *d, const struct explain_code *a,
                               const struct explain_code *b)
{
    int fa = explain_first_digit(a), fb = explain_first_digit(b);
    char *s = explain_diff_slot(d);
    if (!s)
        return;
    if (fa == fb)
        snprintf(s, EXPLAIN_DIFF_LEN, "Same outcome (%s); retry: %s.", explain_outcome(fa),
                 explain_retry(fa));
    else
        snprintf(s, EXPLAIN_DIFF_LEN, "Outcome: %s is a %s (retry: %s); %s is a %s (retry: %s).",
                 a->text, explain_outcome(fa), explain_retry(fa), b->text, explain_outcome(fb),
                 explain_retry(fb));
}

static void explain_diff_basic(struct explain_diffs *d, const struct explain_code *a,
                               const struct explain_code *b)
{
    char *s;
    if (a->code / 10 % 10 != b->code / 10 % 10 && (s = explain_diff_slot(d)))
        snprintf(s, EXPLAIN_DIFF_LEN, "Category: %s is x%dz %s, %s is x%dz %s.", a->text,
                 a->code / 10 % 10, reply_category_name(a->code), b->text, b->code / 10 % 10,
                 reply_category_name(b->code));
    const struct explain_code *c[2] = { a, b };
    for (int i = 0; i < 2; i++)
        if (!c[i]->reply->listed && (s = explain_diff_slot(d)))
            snprintf(s, EXPLAIN_DIFF_LEN, "%s is named by no RFC: only its digits give it a "
                     "meaning.", c[i]->text);
    for (int v = SMTP_VERB_GREETING; v < SMTP_VERB_COUNT; v++) {
        const char *ma = reply_context_meaning((enum smtp_verb)v, a->code);
        const char *mb = reply_context_meaning((enum smtp_verb)v, b->code);
        if (v != SMTP_VERB_LHLO && v != SMTP_VERB_SASL && ma && mb && ma != mb &&
            (s = explain_diff_slot(d)))
            snprintf(s, EXPLAIN_DIFF_LEN, "After %s: %s means \"%s\"; %s means \"%s\".",
                     explain_verb_label((enum smtp_verb)v), a->text, ma, b->text, mb);
    }
}

static void explain_diff_enhanced(struct explain_diffs *d, const struct explain_code *a,
                                  const struct explain_code *b)
{
    char *s;
    if (a->subject != b->subject && (s = explain_diff_slot(d)))
        snprintf(s, EXPLAIN_DIFF_LEN, "Subject: %s is about %s, %s about %s.", a->text,
                 enhanced_subject_name(a->subject), b->text, enhanced_subject_name(b->subject));
    if (a->subject == b->subject && a->detail != b->detail && (s = explain_diff_slot(d)))
        snprintf(s, EXPLAIN_DIFF_LEN, "Same subject (%s), different detail.",
                 enhanced_subject_name(a->subject));
}

/* A basic reply with an enhanced status: do they fit together? */
struct explain_pair {
    bool consistent, registry_pairs;
};

static struct explain_pair explain_pair_check(const struct explain_code *basic,
                                              const struct explain_code *enh)
{
    struct explain_pair p;
    p.consistent = basic->code / 100 == enh->cls;
    p.registry_pairs = explain_usual_has(enhanced_usual_replies(enh->subject, enh->detail),
                                         basic->code);
    return p;
}

static void explain_diff_pair(struct explain_diffs *d, const struct explain_code *basic,
                              const struct explain_code *enh)
{
    struct explain_pair p = explain_pair_check(basic, enh);
    char *s = explain_diff_slot(d);
    if (s && p.consistent)
        snprintf(s, EXPLAIN_DIFF_LEN, "They fit: the enhanced class %d matches the reply's first "
                 "digit, as RFC 2034 requires.", enh->cls);
    else if (s)
        snprintf(s, EXPLAIN_DIFF_LEN, "They do not fit: a %dxx reply must carry a %d.X.X status "
                 "(RFC 2034)%s.", basic->code / 100, basic->code / 100,
                 basic->code / 100 == 3 ? "; 3xx replies carry none" : "");
    if ((s = explain_diff_slot(d)))
        snprintf(s, EXPLAIN_DIFF_LEN, "The registry %s %d with X.%d.%d.",
                 p.registry_pairs ? "lists" : "does not list", basic->code, enh->subject,
                 enh->detail);
}

static void explain_diffs(struct explain_diffs *d, const struct explain_code *a,
                          const struct explain_code *b)
{
    memset(d, 0, sizeof(*d));
    if (a->kind != b->kind) {
        const struct explain_code *basic = a->kind == EXPLAIN_BASIC ? a : b;
        explain_diff_pair(d, basic, basic == a ? b : a);
        return;
    }
    explain_diff_class(d, a, b);
    if (a->kind == EXPLAIN_BASIC)
        explain_diff_basic(d, a, b);
    else
        explain_diff_enhanced(d, a, b);
}

static void explain_text_table(struct strbuf *sb, const struct explain_code *a,
                               const struct explain_code *b)
{
    char ca[80], cb[80];
    sb_putc(sb, '\n');
    explain_row(sb, "", a->text, b->text);
    explain_row(sb, "Name", explain_name(a), explain_name(b));
    explain_class_text(ca, sizeof(ca), a);
    explain_class_text(cb, sizeof(cb), b);
    explain_row(sb, "Class", ca, cb);
    if (a->kind == EXPLAIN_BASIC && b->kind == EXPLAIN_BASIC) {
        explain_row(sb, "Category", reply_category_name(a->code), reply_category_name(b->code));
        explain_row(sb, "Listed", a->reply->listed ? "yes" : "no", b->reply->listed ? "yes" : "no");
        explain_row(sb, "Source", a->reply->source, b->reply->source);
    } else if (a->kind == EXPLAIN_ENHANCED && b->kind == EXPLAIN_ENHANCED) {
        explain_row(sb, "Subject", enhanced_subject_name(a->subject),
                    enhanced_subject_name(b->subject));
        explain_row(sb, "Usual replies", enhanced_usual_replies(a->subject, a->detail),
                    enhanced_usual_replies(b->subject, b->detail));
        explain_row(sb, "Source", a->enh ? a->enh->source : "-", b->enh ? b->enh->source : "-");
    }
    explain_row(sb, "Outcome", explain_outcome(explain_first_digit(a)),
                explain_outcome(explain_first_digit(b)));
    explain_row(sb, "Retry", explain_retry(explain_first_digit(a)),
                explain_retry(explain_first_digit(b)));
}

/* "  550  text..." for each code, wrapped under the text. */
static void explain_text_both(struct strbuf *sb, const char *title, const struct explain_code *a,
                              const char *ta, const struct explain_code *b, const char *tb)
{
    sb_putc(sb, '\n');
    sb_puts(sb, title);
    sb_putc(sb, '\n');
    explain_field(sb, a->text, ta);
    explain_field(sb, b->text, tb);
}

static const char *explain_meaning_of(const struct explain_code *c, char *buf, size_t size)
{
    if (c->kind == EXPLAIN_BASIC)
        return c->reply->meaning;
    explain_enh_meaning(buf, size, c);
    return buf;
}

static const char *explain_advice(const struct explain_code *c)
{
    if (c->kind == EXPLAIN_BASIC)
        return c->reply->resolve;
    switch (c->cls) {
    case 2: return "Nothing to fix: the action succeeded.";
    case 4: return "Wait and retry; a sending MTA keeps the message queued meanwhile.";
    default: return "Change what the subject and detail point to (address, mailbox, content, "
                    "authentication or policy) before sending again.";
    }
}

static void explain_text_two(struct strbuf *sb, const struct explain_code *a,
                             const struct explain_code *b)
{
    char buf[800], ma[640], mb[640];
    snprintf(buf, sizeof(buf), "SMTP %s %s %s %s %s", a->text, explain_name(a),
             a->kind == b->kind ? "vs" : "with", b->text, explain_name(b));
    explain_para(sb, 0, 2, buf);
    sb_putc(sb, '\n');
    explain_summary(buf, sizeof(buf), a, b);
    explain_para(sb, 0, 0, buf);
    explain_text_table(sb, a, b);
    explain_text_both(sb, "Meaning", a, explain_meaning_of(a, ma, sizeof(ma)), b,
                      explain_meaning_of(b, mb, sizeof(mb)));
    if (a->kind == EXPLAIN_BASIC && b->kind == EXPLAIN_BASIC)
        explain_text_both(sb, "When you see it", a, a->reply->when, b, b->reply->when);
    struct explain_diffs d;
    explain_diffs(&d, a, b);
    sb_puts(sb, "\nKey differences\n");
    for (unsigned i = 0; i < d.n; i++) {
        sb_puts(sb, "  - ");
        explain_para(sb, 4, 4, d.line[i]);
    }
    explain_text_both(sb, "What to do", a, explain_advice(a), b, explain_advice(b));
}

/* ---- JSON -------------------------------------------------------------------------------- */

static void explain_json_context(void *ctx, const char *cmd, const char *m)
{
    struct json_pretty *j = ctx;
    jp_open(j, NULL, '{');
    jp_str(j, "command", cmd);
    jp_str(j, "meaning", m);
    jp_close(j, '}');
}

struct explain_json_enh {
    struct json_pretty *j;
    int cls;
};

static void explain_json_enh(void *ctx, int s, int d, const struct enhanced_entry *e)
{
    struct explain_json_enh *l = ctx;
    char code[16];
    snprintf(code, sizeof(code), "%d.%d.%d", l->cls, s, d);
    jp_open(l->j, NULL, '{');
    jp_str(l->j, "code", code);
    jp_str(l->j, "name", e->name);
    jp_close(l->j, '}');
}

static void explain_json_basic(struct json_pretty *j, const struct explain_code *c)
{
    const struct reply_entry *r = c->reply;
    jp_str(j, "kind", "basic");
    jp_i64(j, "code", c->code);
    jp_str(j, "name", r->name);
    jp_str(j, "class", reply_class_label(c->code));
    jp_str(j, "class_name", reply_class_name(c->code));
    jp_str(j, "category", reply_category_name(c->code));
    jp_bool(j, "listed", r->listed);
    jp_bool(j, "valid", r->valid);
    jp_str(j, "meaning", r->meaning);
    jp_str(j, "when", r->when);
    jp_str(j, "resolve", r->resolve);
    jp_str(j, "source", r->source);
    jp_open(j, "contexts", '[');
    explain_each_context(c->code, explain_json_context, j);
    jp_close(j, ']');
    jp_open(j, "enhanced", '[');
    struct explain_json_enh l = { j, c->code / 100 };
    explain_each_enhanced(c->code, explain_json_enh, &l);
    jp_close(j, ']');
}

/* The registry's list of replies ("250-253, 451") as numbers, ranges expanded. */
static void explain_json_usual(struct json_pretty *j, const char *list)
{
    jp_open(j, "usual_replies", '[');
    for (int code = 200; code <= 599; code++)
        if (explain_usual_has(list, code)) {
            jp_key(j, NULL);
            sb_i64(j->sb, code);
        }
    jp_close(j, ']');
}

static void explain_json_enhanced(struct json_pretty *j, const struct explain_code *c)
{
    char buf[640];
    snprintf(buf, sizeof(buf), "%d.%d.%d", c->cls, c->subject, c->detail);
    jp_str(j, "kind", "enhanced");
    jp_str(j, "code", buf);
    jp_i64(j, "class", c->cls);
    jp_str(j, "class_name", enhanced_class_name(c->cls));
    jp_i64(j, "subject", c->subject);
    jp_str(j, "subject_name", enhanced_subject_name(c->subject));
    jp_i64(j, "detail", c->detail);
    jp_bool(j, "registered", c->enh != NULL);
    jp_str(j, "registry_code", c->enh ? c->enh->code : NULL);
    jp_str(j, "name", c->enh ? c->enh->name : NULL);
    explain_enh_meaning(buf, sizeof(buf), c);
    jp_str(j, "meaning", buf);
    jp_str(j, "source", c->enh ? c->enh->source : "");
    explain_json_usual(j, enhanced_usual_replies(c->subject, c->detail));
}

static void explain_json_code(struct json_pretty *j, const char *key,
                              const struct explain_code *c)
{
    jp_open(j, key, '{');
    if (c->kind == EXPLAIN_BASIC)
        explain_json_basic(j, c);
    else
        explain_json_enhanced(j, c);
    jp_close(j, '}');
}

static void explain_json_two(struct json_pretty *j, const struct explain_code *a,
                             const struct explain_code *b)
{
    char buf[800];
    jp_open(j, NULL, '{');
    jp_str(j, "kind", "comparison");
    jp_open(j, "codes", '[');
    explain_json_code(j, NULL, a);
    explain_json_code(j, NULL, b);
    jp_close(j, ']');
    jp_bool(j, "same_class", explain_first_digit(a) == explain_first_digit(b));
    explain_summary(buf, sizeof(buf), a, b);
    jp_str(j, "summary", buf);
    struct explain_diffs d;
    explain_diffs(&d, a, b);
    jp_open(j, "differences", '[');
    for (unsigned i = 0; i < d.n; i++)
        jp_str(j, NULL, d.line[i]);
    jp_close(j, ']');
    if (a->kind != b->kind) {
        const struct explain_code *basic = a->kind == EXPLAIN_BASIC ? a : b;
        struct explain_pair p = explain_pair_check(basic, basic == a ? b : a);
        jp_bool(j, "consistent", p.consistent);
        jp_bool(j, "registry_pairs", p.registry_pairs);
    }
    jp_close(j, '}');
}

/* ---- Entry point ------------------------------------------------------------------------- */

static void explain_render(struct strbuf *sb, bool json, const struct explain_code *c, int n)
{
    struct json_pretty j = json_pretty_begin(sb);
    if (json && n == 1)
        explain_json_code(&j, NULL, &c[0]);
    else if (json)
        explain_json_two(&j, &c[0], &c[1]);
    else if (n == 1)
        explain_text_one(sb, &c[0]);
    else
        explain_text_two(sb, &c[0], &c[1]);
    if (json)
        sb_putc(sb, '\n');
}

int explain_main(int argc, char **argv, FILE *out, FILE *err)
{
    struct explain_args a;
    int rc = explain_args(argc, argv, &a, err);
    if (rc != 0)
        return rc;
    if (a.help) {
        fprintf(out, "%s\n  CODE is a reply code (550) or an enhanced status code (5.1.1);\n"
                     "  two codes are compared side by side.\n", EXPLAIN_USAGE);
        return 0;
    }
    struct explain_code c[2];
    for (int i = 0; i < a.ncodes; i++)
        if (explain_parse(a.codes[i], &c[i], err) != 0)
            return 1;
    struct strbuf sb;
    sb_init(&sb, EXPLAIN_MAX_OUT);
    explain_render(&sb, a.json, c, a.ncodes);
    rc = sb_flush(&sb, out) == 0 && fflush(out) == 0 ? 0 : 1;
    sb_free(&sb);
    if (rc != 0)
        fprintf(err, "smtpsniff explain: cannot write the output\n");
    return rc;
}
