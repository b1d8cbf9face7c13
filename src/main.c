/* main.c - smtpsniff's command line: options, wiring capture -> reassembly -> SMTP core ->
 * sinks, signals, progress and exit status. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "capture/capture.h"
#include "content/content.h"
#include "reasm/reasm.h"
#include "sinks/sinks.h"
#include "smtp/smtp_core.h"
#include "smtpsniff/limits.h"
#include "smtpsniff/reply.h"
#include "lib/strbuf.h"

#define MAX_FILES 1024

enum { EXIT_INPUT = 1, EXIT_USAGE = 2 };

struct options {
    struct capture_opts cap;
    const char *files[MAX_FILES];
    bool json, errors_only, quiet, show_credentials, no_progress;
    int color; /* -1 auto, 0 never, 1 always */
    const char *summary_path;
    int summary_fmt; /* -1: from the file name */
    unsigned long max_sessions_seen, duration;
    bool want_files;           /* --files: MIME parts and hashes in the transaction records */
    const char *extract_dir;   /* --extract DIR */
    unsigned long long extract_max_bytes;
    unsigned max_streams, idle_timeout;
    unsigned long long memcap;
    enum reasm_engine engine;
};

static struct {
    struct capture *cap;
    struct summary *summary;
    const struct options *o;
    uint64_t sessions_done;
    time_t started;
    bool progress_shown;
} G;

static const char usage_text[] =
    "Usage: smtpsniff [options] (-r FILE... | -i IFACE) [BPF expression]\n"
    "       smtpsniff explain [--json] CODE [CODE]\n"
    "Follows SMTP sessions (ports 25, 465, 587) and explains every reply code.\n"
    "\n"
    "Input:\n"
    "  -r FILE             read a pcap/pcapng file ('-' = stdin); repeat: one continuous capture\n"
    "  -i IFACE            capture live on IFACE (promiscuous unless --no-promisc)\n"
    "      --no-promisc    do not put the interface in promiscuous mode\n"
    "  -B KIB              capture buffer of -i in KiB (default %u)\n"
    "      --ports LIST    SMTP server ports (default 25,465,587)\n"
    "  -c N                stop after N sessions have ended\n"
    "      --duration S    stop after S seconds (live)\n"
    "Output (default: live feed on stdout):\n"
    "      --json          JSON Lines on stdout (docs/json.md)\n"
    "      --color[=WHEN]  auto (default), always (a bare --color) or never; live feed; also --colour\n"
    "      --errors        only sessions with a 4xx/5xx reply or a notice (live feed)\n"
    "  -q                  one line per session (live feed; --json writes every record)\n"
    "      --summary FILE  write a summary when input ends or on SIGINT/SIGTERM\n"
    "      --summary-format json|text   (default: text for *.txt, else json)\n"
    "      --show-credentials   print AUTH secrets instead of [redacted]\n"
    "      --files         MIME parts with type, sniffed type and hashes in transaction records\n"
    "      --extract DIR   write every message (.eml), every decoded part (by SHA-256) and\n"
    "                      DIR/index.jsonl (implies --files; docs/extract.md)\n"
    "      --extract-max-bytes N   bytes written under DIR in all (K, M, G; default 4G)\n"
    "      --no-progress   no progress line on stderr (shown when only stderr is a terminal)\n"
    "Limits:\n"
    "      --max-sessions N     concurrent sessions kept (default %u)\n"
    "      --idle-timeout S     end a session after S idle capture seconds (default %u)\n"
    "      --memcap BYTES       bytes all streams may hold out of order, k/M/G suffix (default %uM)\n"
    "Reassembly:\n"
    "      --engine own|libnids own engine (default: IPv4+IPv6, fragments, gaps, midstream)\n"
    "                           or libnids, the reference (IPv4 only)\n"
    "  -h, --help          this help;  -V, --version   version\n"
    "Exit status: 0 done, 1 unusable or damaged input, 2 bad usage.\n";

static void usage(FILE *f)
{
    fprintf(f, usage_text, CAP_BUFFER_BYTES / 1024, SMTP_DEFAULT_MAX_STREAMS, SMTP_DEFAULT_IDLE_TIMEOUT,
            REASM_DEFAULT_MEMCAP >> 20);
}

/* One line on stderr, "smtpsniff: " and the message escaped as the live feed escapes wire bytes:
 * a message quotes file names, option values and filters as given, and a name with a newline or
 * an ESC (a glob over a directory others can write) must neither split the line nor reach the
 * terminal. */
__attribute__((format(printf, 2, 0))) static void vsay(const char *tail, const char *fmt, va_list ap)
{
    char msg[1024];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    struct strbuf sb;
    sb_init(&sb, 4 * sizeof(msg));
    sb_puts(&sb, "smtpsniff: ");
    sb_term_str(&sb, (const uint8_t *)msg, strlen(msg), false);
    sb_puts(&sb, tail);
    (void)sb_flush(&sb, stderr);
    sb_free(&sb);
}

__attribute__((format(printf, 1, 2))) static void say(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsay("\n", fmt, ap);
    va_end(ap);
}

__attribute__((format(printf, 1, 2))) static int bad_usage(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsay(" (see smtpsniff --help)\n", fmt, ap);
    va_end(ap);
    return -1;
}

static int parse_ulong(const char *s, unsigned long lo, unsigned long hi, unsigned long *out)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (end == s || *end || errno || v < lo || v > hi || s[0] == '-')
        return -1;
    *out = v;
    return 0;
}

enum {
    OPT_NO_PROMISC = 256, OPT_PORTS, OPT_DURATION, OPT_JSON, OPT_COLOR, OPT_ERRORS, OPT_SUMMARY,
    OPT_SUMMARY_FMT, OPT_SHOW_CREDS, OPT_MAX_SESSIONS, OPT_IDLE, OPT_NO_PROGRESS, OPT_FILES, OPT_EXTRACT,
    OPT_EXTRACT_MAX, OPT_ENGINE, OPT_MEMCAP
};

static const struct option long_opts[] = {
    {"no-promisc", no_argument, NULL, OPT_NO_PROMISC},
    {"ports", required_argument, NULL, OPT_PORTS},
    {"duration", required_argument, NULL, OPT_DURATION},
    {"json", no_argument, NULL, OPT_JSON},
    {"color", optional_argument, NULL, OPT_COLOR},
    {"colour", optional_argument, NULL, OPT_COLOR},
    {"errors", no_argument, NULL, OPT_ERRORS},
    {"summary", required_argument, NULL, OPT_SUMMARY},
    {"summary-format", required_argument, NULL, OPT_SUMMARY_FMT},
    {"show-credentials", no_argument, NULL, OPT_SHOW_CREDS},
    {"max-sessions", required_argument, NULL, OPT_MAX_SESSIONS},
    {"idle-timeout", required_argument, NULL, OPT_IDLE},
    {"no-progress", no_argument, NULL, OPT_NO_PROGRESS},
    {"files", no_argument, NULL, OPT_FILES},
    {"extract", required_argument, NULL, OPT_EXTRACT},
    {"extract-max-bytes", required_argument, NULL, OPT_EXTRACT_MAX},
    {"engine", required_argument, NULL, OPT_ENGINE},
    {"memcap", required_argument, NULL, OPT_MEMCAP},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
};

/* "4096", "64K", "500M", "4G" (powers of 1024). */
static int parse_size(const char *s, unsigned long long *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (end == s || errno || s[0] == '-')
        return -1;
    unsigned shift = 0;
    if (*end == 'K' || *end == 'k')
        shift = 10;
    else if (*end == 'M' || *end == 'm')
        shift = 20;
    else if (*end == 'G' || *end == 'g')
        shift = 30;
    if (shift)
        end++;
    if (*end || v == 0 || v > (ULLONG_MAX >> shift))
        return -1;
    *out = v << shift;
    return 0;
}

static int parse_reasm_option(struct options *o, int c, const char *arg)
{
    if (c == OPT_MEMCAP) {
        if (parse_size(arg, &o->memcap) || o->memcap < 65536 || o->memcap > (1ull << 40))
            return bad_usage("--memcap needs a size from 64k to 1024G (k, M or G suffix), not '%s'", arg);
        return 0;
    }
    if (strcmp(arg, "own") == 0)
        o->engine = REASM_ENGINE_OWN;
    else if (strcmp(arg, "libnids") == 0)
        o->engine = REASM_ENGINE_LIBNIDS;
    else
        return bad_usage("--engine takes own or libnids, not '%s'", arg);
    return 0;
}

/* Returns 1 to exit 0 (help, version), 0 to run, -1 on bad usage. */
static int parse_option(struct options *o, int c, const char *arg)
{
    unsigned long v;
    switch (c) {
    case 'r':
        if (arg[0] == '\0')
            return bad_usage("-r needs a file name ('-' for standard input)");
        if (o->cap.nfiles == MAX_FILES)
            return bad_usage("too many -r files (at most %d)", MAX_FILES);
        for (unsigned i = 0; i < o->cap.nfiles && strcmp(arg, "-") == 0; i++)
            if (strcmp(o->files[i], "-") == 0)
                return bad_usage("-r - given twice: standard input can be read only once");
        o->files[o->cap.nfiles++] = arg;
        return 0;
    case 'i':
        if (arg[0] == '\0')
            return bad_usage("-i needs an interface name");
        o->cap.iface = arg;
        return 0;
    case 'c':
        if (parse_ulong(arg, 1, ULONG_MAX, &v))
            return bad_usage("-c needs a positive number, not '%s'", arg);
        o->max_sessions_seen = v;
        return 0;
    case 'q': o->quiet = true; return 0;
    case 'B':
        if (parse_ulong(arg, 256, INT_MAX / 1024, &v))
            return bad_usage("-B needs a buffer size in KiB from 256 to %d, not '%s'", INT_MAX / 1024, arg);
        o->cap.buffer_kib = (unsigned)v;
        return 0;
    case OPT_NO_PROMISC: o->cap.promisc = false; return 0;
    case OPT_PORTS:
        if (capture_parse_ports(&o->cap, arg))
            return bad_usage("--ports needs a comma-separated list of ports 1-65535, not '%s'", arg);
        return 0;
    case OPT_DURATION:
        if (parse_ulong(arg, 1, 100000000, &v))
            return bad_usage("--duration needs a number of seconds, not '%s'", arg);
        o->duration = v;
        return 0;
    case OPT_JSON: o->json = true; return 0;
    case OPT_COLOR:
        if (arg == NULL || strcmp(arg, "always") == 0)
            o->color = 1;
        else if (strcmp(arg, "never") == 0)
            o->color = 0;
        else if (strcmp(arg, "auto") == 0)
            o->color = -1;
        else
            return bad_usage("--color takes auto, always or never, not '%s'", arg);
        return 0;
    case OPT_ERRORS: o->errors_only = true; return 0;
    case OPT_SUMMARY:
        if (arg[0] == '\0')
            return bad_usage("--summary needs a file name");
        o->summary_path = arg;
        return 0;
    case OPT_SUMMARY_FMT:
        if (strcmp(arg, "json") == 0)
            o->summary_fmt = SUMMARY_JSON;
        else if (strcmp(arg, "text") == 0)
            o->summary_fmt = SUMMARY_TEXT;
        else
            return bad_usage("--summary-format takes json or text, not '%s'", arg);
        return 0;
    case OPT_SHOW_CREDS: o->show_credentials = true; return 0;
    case OPT_MAX_SESSIONS:
        if (parse_ulong(arg, 16, 4000000, &v))
            return bad_usage("--max-sessions needs a number from 16 to 4000000, not '%s'", arg);
        o->max_streams = (unsigned)v;
        return 0;
    case OPT_IDLE:
        if (parse_ulong(arg, 1, 86400 * 7, &v))
            return bad_usage("--idle-timeout needs a number of seconds from 1 to %d, not '%s'", 86400 * 7, arg);
        o->idle_timeout = (unsigned)v;
        return 0;
    case OPT_NO_PROGRESS: o->no_progress = true; return 0;
    case OPT_FILES: o->want_files = true; return 0;
    case OPT_EXTRACT:
        if (arg[0] == '\0')
            return bad_usage("--extract needs a directory");
        o->extract_dir = arg;
        o->want_files = true;
        return 0;
    case OPT_EXTRACT_MAX:
        if (parse_size(arg, &o->extract_max_bytes))
            return bad_usage("--extract-max-bytes needs a size such as 500M or 4G, not '%s'", arg);
        return 0;
    case OPT_ENGINE:
    case OPT_MEMCAP: return parse_reasm_option(o, c, arg);
    case 'h': usage(stdout); return 1;
    case 'V': printf("smtpsniff %s\n", SMTPSNIFF_VERSION); return 1;
    default: return bad_usage("unknown option");
    }
}

/* getopt's own messages are multi-line and carry argv[0]: report in one line instead. */
static int option_error(int c, char **argv)
{
    const char *opt = argv[optind - 1];
    if (c == ':')
        return bad_usage("option '%s' needs an argument", opt);
    if (optopt && strncmp(opt, "--", 2) != 0)
        return bad_usage("unknown option '-%c'", optopt);
    return bad_usage("unknown option '%s'", opt);
}

/* The BPF expression is what follows the options, joined by spaces as tcpdump does. */
static int join_expression(struct options *o, int argc, char **argv, struct strbuf *expr)
{
    for (int i = optind; i < argc; i++) {
        if (i > optind)
            sb_putc(expr, ' ');
        sb_puts(expr, argv[i]);
    }
    if (expr->truncated)
        return bad_usage("filter expression too long");
    o->cap.bpf = expr->len ? expr->p : NULL;
    return 0;
}

static int parse_args(struct options *o, int argc, char **argv, struct strbuf *expr)
{
    memset(o, 0, sizeof(*o));
    o->cap.promisc = true;
    o->color = -1;
    o->summary_fmt = -1;
    o->max_streams = SMTP_DEFAULT_MAX_STREAMS;
    o->idle_timeout = SMTP_DEFAULT_IDLE_TIMEOUT;
    o->extract_max_bytes = EXTRACT_DEFAULT_MAX_BYTES;
    o->memcap = REASM_DEFAULT_MEMCAP;
    o->engine = REASM_ENGINE_OWN;
    capture_parse_ports(&o->cap, "25,465,587");
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+:r:i:c:B:qhV", long_opts, NULL)) != -1) {
        int rc = (c == '?' || c == ':') ? option_error(c, argv) : parse_option(o, c, optarg);
        if (rc)
            return rc;
    }
    if (o->cap.iface && o->cap.nfiles)
        return bad_usage("give either -r or -i, not both");
    if (!o->cap.iface && !o->cap.nfiles)
        return bad_usage("nothing to read: give -r FILE or -i INTERFACE");
    o->cap.files = o->files;
    if (o->summary_fmt < 0 && o->summary_path) {
        size_t n = strlen(o->summary_path);
        o->summary_fmt = n > 4 && strcmp(o->summary_path + n - 4, ".txt") == 0 ? SUMMARY_TEXT : SUMMARY_JSON;
    }
    return join_expression(o, argc, argv, expr);
}

/* --- run-time callbacks -------------------------------------------------------------------- */

/* SIGINT, SIGTERM, and SIGALRM for --duration: a quiet interface never returns from libpcap's
 * poll on its own, and pcap_breakloop (in capture_stop) wakes it. */
static void on_signal(int sig)
{
    (void)sig;
    capture_stop(G.cap);
}

static void count_session_end(void *ctx, const struct smtp_session_info *s)
{
    (void)ctx;
    (void)s;
    G.sessions_done++;
    if (G.o->max_sessions_seen && G.sessions_done >= G.o->max_sessions_seen)
        capture_stop(G.cap);
}

static void human_bytes(char *buf, size_t n, uint64_t v)
{
    if (v >= 1u << 30)
        snprintf(buf, n, "%.2f GB", (double)v / (1u << 30));
    else
        snprintf(buf, n, "%.1f MB", (double)v / (1u << 20));
}

static void on_tick(void *ctx)
{
    (void)ctx;
    if (G.o->duration && (unsigned long)(time(NULL) - G.started) >= G.o->duration)
        capture_stop(G.cap);
    if (!G.o->cap.progress)
        return;
    uint64_t done, total;
    capture_progress(G.cap, &done, &total);
    struct reasm_stats st;
    reasm_get_stats(&st);
    double secs = difftime(time(NULL), G.started);
    char d[32], t[32];
    human_bytes(d, sizeof(d), done);
    human_bytes(t, sizeof(t), total);
    fprintf(stderr, "\r\033[K%s of %s (%.0f%%), %.1f MB/s, %llu sessions", d, t,
            total ? 100.0 * (double)done / (double)total : 0.0,
            secs > 0 ? (double)done / (1u << 20) / secs : 0.0, (unsigned long long)st.sessions_started);
    G.progress_shown = true;
}

static void install_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGALRM, &sa, NULL);
    if (G.o->duration)
        alarm((unsigned)G.o->duration);
    signal(SIGPIPE, SIG_IGN);
}

/* --- wiring -------------------------------------------------------------------------------- */

struct sinks {
    struct smtp_sink *list[4], *tee, counter;
    unsigned n;
    struct smtp_sink *json, *live, *extract;
    struct smtp_sink *content; /* --files: the stage in front of them all, else NULL */
    struct smtp_sink *core;    /* what the SMTP core feeds: content, or the tee */
};

/* --extract: the extraction writer, first among the sinks (its notices reach the others before
 * the transaction record they are about). */
static int extract_build(struct sinks *k, const struct options *o, char *err, size_t errlen)
{
    if (o->extract_dir) {
        struct extract_opts xo = {.dir = o->extract_dir, .max_bytes = o->extract_max_bytes};
        if ((k->extract = extract_new(&xo, err, errlen)) == NULL)
            return -1;
        k->list[k->n++] = k->extract;
    }
    return 0;
}

/* --files (and --extract): the content stage in front of the sinks; the core feeds it. */
static int content_wire(struct sinks *k, const struct options *o, char *err, size_t errlen)
{
    k->core = k->tee;
    if (!o->want_files)
        return 0;
    struct content_opts co = {.max_message = CONTENT_MAX_MESSAGE, .memcap = CONTENT_MEMCAP};
    if ((k->content = content_new(&co, k->tee, err, errlen)) == NULL)
        return -1;
    if (k->extract)
        extract_set_report(k->extract, content_report(k->content));
    k->core = k->content;
    return 0;
}

static int sinks_build(struct sinks *k, const struct options *o, char *err, size_t errlen)
{
    memset(k, 0, sizeof(*k));
    if (extract_build(k, o, err, errlen) != 0)
        return -1;
    /* Records someone may be waiting for go out one by one: live capture, a capture arriving
     * on standard input (tcpdump -w - | smtpsniff -r -), a terminal. */
    bool live = o->cap.iface != NULL;
    for (unsigned i = 0; i < o->cap.nfiles; i++)
        live = live || strcmp(o->cap.files[i], "-") == 0;
    bool tty = isatty(STDOUT_FILENO);
    if (o->json) {
        struct out_json_opts jo = {.out = stdout, .flush_each = live || tty};
        k->json = k->list[k->n++] = out_json_new(&jo);
    } else {
        struct out_live_opts lo = {.out = stdout,
                                   .color = o->color == 1 || (o->color < 0 && tty && getenv("NO_COLOR") == NULL),
                                   .errors_only = o->errors_only,
                                   .quiet = o->quiet,
                                   .flush_each = live || tty,
                                   .arg_width = 100};
        k->live = k->list[k->n++] = out_live_new(&lo);
    }
    if (G.summary)
        k->list[k->n++] = summary_sink(G.summary);
    k->counter = (struct smtp_sink){.session_end = count_session_end};
    k->list[k->n++] = &k->counter;
    k->tee = sink_tee_new(k->list, k->n);
    return content_wire(k, o, err, errlen);
}

/* Returns -1 when something could not be written (each one also raised an extract-error notice). */
static int report_extract(const struct sinks *k, const struct options *o)
{
    if (k->extract == NULL)
        return 0;
    struct extract_stats st;
    extract_get_stats(k->extract, &st);
    char errors[64] = "";
    if (st.errors)
        snprintf(errors, sizeof(errors), "; %llu writes failed", (unsigned long long)st.errors);
    say("%s: %llu messages extracted (%llu partial), %llu files stored (%llu seen again), "
        "%llu bytes written%s%s",
        o->extract_dir, (unsigned long long)st.messages, (unsigned long long)st.partial,
        (unsigned long long)st.files, (unsigned long long)st.files_deduplicated,
        (unsigned long long)st.bytes_written, st.limit_hits ? "; --extract-max-bytes reached" : "", errors);
    return st.errors ? -1 : 0;
}

static void sinks_free(struct sinks *k)
{
    content_free(k->content);
    extract_free(k->extract);
    sink_tee_free(k->tee);
    out_json_free(k->json);
    out_live_free(k->live);
}

static int write_summary(const struct options *o)
{
    if (!G.summary)
        return 0;
    struct capture_stats cs;
    capture_stats(G.cap, &cs);
    struct reasm_stats st;
    reasm_get_stats(&st);
    summary_set_reasm(G.summary, &st);
    if (summary_write(G.summary, &cs, o->summary_path, (enum summary_format)o->summary_fmt) != 0) {
        say("%s: cannot write summary: %s", o->summary_path, strerror(errno));
        return -1;
    }
    return 0;
}

/* ", label N" for a counter that is not zero, in the group `*group` opens ("; name: ..."). */
static void count_item(struct strbuf *sb, const char **group, const char *label, uint64_t v)
{
    if (v == 0)
        return;
    if (*group) {
        sb_printf(sb, "; %s: ", *group);
        *group = NULL;
    } else {
        sb_puts(sb, ", ");
    }
    sb_printf(sb, "%s %llu", label, (unsigned long long)v);
}

/* Whether any counter of possibly-SMTP data that was dropped (kernel, capture, reassembly) is set. */
static bool counts_lost(const struct capture_stats *cs, const struct reasm_stats *st)
{
    bool lost = cs->ps_drop || cs->ps_ifdrop;
#define LOST_CAP(field, name, label, is_lost) lost = lost || (is_lost && cs->skipped.field != 0);
#define LOST_REASM(field, name, label, is_lost) lost = lost || (is_lost && st->field != 0);
    CAPTURE_COUNTER_LIST(LOST_CAP)
    REASM_COUNTER_LIST(LOST_REASM)
#undef LOST_CAP
#undef LOST_REASM
    return lost;
}

/* The counters that are not zero, by group: not SMTP, discarded, sessions ended by. */
static void counts_groups(struct strbuf *sb, const struct capture_stats *cs, const struct reasm_stats *st)
{
    const char *group = "not SMTP";
#define ITEM_CAP(field, name, label, is_lost)                                                      \
    count_item(sb, &group, label, want_lost == is_lost ? cs->skipped.field : 0);
#define ITEM_REASM(field, name, label, is_lost)                                                    \
    count_item(sb, &group, label, want_lost == is_lost ? st->field : 0);
    bool want_lost = false;
    CAPTURE_COUNTER_LIST(ITEM_CAP)
    group = "discarded";
    want_lost = true;
    CAPTURE_COUNTER_LIST(ITEM_CAP)
    REASM_COUNTER_LIST(ITEM_REASM)
    group = "sessions ended by";
    want_lost = false;
    REASM_COUNTER_LIST(ITEM_REASM)
#undef ITEM_CAP
#undef ITEM_REASM
}

/* The end-of-run line on stderr, like tcpdump's "packets captured / received by filter / dropped
 * by kernel": what was read, then what was not SMTP, then every counter of discarded data. Live
 * capture: always. Files: when something was discarded, or the progress line was on (an
 * interactive run); never after an input error, whose one line says what went wrong. */
static void report_counts(const struct options *o, bool input_error)
{
    struct capture_stats cs;
    struct reasm_stats st;
    capture_stats(G.cap, &cs);
    reasm_get_stats(&st);
    if (!cs.live && (input_error || !(counts_lost(&cs, &st) || o->cap.progress)))
        return;
    struct strbuf sb;
    sb_init(&sb, 4096);
    if (cs.live)
        sb_printf(&sb, "smtpsniff: %llu packets captured, %llu packets received by filter, "
                       "%llu packets dropped by kernel, %llu dropped by interface",
                  (unsigned long long)cs.packets, (unsigned long long)cs.ps_recv,
                  (unsigned long long)cs.ps_drop, (unsigned long long)cs.ps_ifdrop);
    else
        sb_printf(&sb, "smtpsniff: %llu packets read", (unsigned long long)cs.packets);
    counts_groups(&sb, &cs, &st);
    fprintf(stderr, "%s\n", sb.p);
    sb_free(&sb);
}

static int run(const struct options *o)
{
    char err[512];
    /* a summary path that is an input, or that cannot be written, fails now, not after a day */
    int bad = o->summary_path ? summary_check_path(o->summary_path, o->files, o->cap.nfiles, err, sizeof(err)) : 0;
    if (bad) {
        say("%s", err);
        return bad == 2 ? EXIT_USAGE : EXIT_INPUT;
    }
    G.cap = capture_open(&o->cap, err, sizeof(err));
    if (G.cap == NULL) {
        say("%s", err);
        return EXIT_INPUT;
    }
    if (o->summary_path)
        G.summary = summary_new();
    struct sinks k;
    if (sinks_build(&k, o, err, sizeof(err)) != 0) {
        say("%s", err);
        sinks_free(&k);
        capture_close(G.cap);
        return EXIT_INPUT;
    }
    struct reasm_opts ro = {.engine = o->engine,
                            .memcap = o->memcap,
                            .sink = k.core,
                            .ports = o->cap.ports,
                            .nports = o->cap.nports,
                            .max_streams = o->max_streams,
                            .idle_timeout = o->idle_timeout,
                            .session_flags = o->show_credentials ? SMTP_SESS_SHOW_CREDENTIALS : 0};
    if (reasm_init(&ro, err, sizeof(err)) != 0) {
        say("%s", err);
        return EXIT_INPUT;
    }
    G.started = time(NULL);
    install_signals();
    /* Once the handle is active, filtered and SIGINT/SIGTERM are ours: from here every packet
     * is seen and a signal ends the capture cleanly. Tests wait for this line; tcpdump prints
     * the same one, -q or not. */
    char line[256];
    if (capture_listening(G.cap, line, sizeof(line)))
        say("%s", line);
    int rc = capture_run(G.cap, reasm_packet, on_tick, NULL, err, sizeof(err));
    if (G.progress_shown)
        fputs("\r\033[K", stderr);
    reasm_finish(); /* every open session ends, "end of input" */
    smtp_core_cleanup();
    fflush(stdout);
    int status = 0;
    if (rc != 0) {
        say("%s", err);
        status = EXIT_INPUT;
        if (G.summary)
            summary_set_input_error(G.summary, err);
    }
    if (report_extract(&k, o) != 0)
        status = status ? status : EXIT_INPUT;
    sinks_free(&k); /* the sinks' last records go out before a summary that shares stdout */
    if (write_summary(o) != 0)
        status = EXIT_INPUT;
    report_counts(o, rc != 0);
    summary_free(G.summary);
    capture_close(G.cap);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        if (errno != EPIPE)
            say("error writing output: %s", strerror(errno));
        status = status ? status : EXIT_INPUT;
    }
    return status;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "explain") == 0)
        return explain_main(argc - 1, argv + 1, stdout, stderr);
    static struct options o;
    struct strbuf expr;
    sb_init(&expr, 8192);
    int rc = parse_args(&o, argc, argv, &expr);
    if (rc != 0) {
        sb_free(&expr);
        return rc > 0 ? 0 : EXIT_USAGE;
    }
    G.o = &o;
    /* not when stdout is a terminal too: the progress line would run into the feed's lines, and
     * the feed is progress enough */
    o.cap.progress = !o.no_progress && !o.cap.iface && isatty(STDERR_FILENO) && !isatty(STDOUT_FILENO);
    setvbuf(stdout, NULL, _IOFBF, 1 << 16);
    rc = run(&o);
    sb_free(&expr);
    return rc;
}
