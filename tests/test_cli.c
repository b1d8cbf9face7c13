/* test_cli.c - the command line from the outside: unusable input and bad usage give one line
 * on stderr, nothing on stdout and a non-zero exit; --help and --version; `-r -`; the summary
 * file (format by extension, unwritable path, atomic replacement, mode, symlinks, FIFOs,
 * stdout's and stderr's own files); and the golden summaries listed in tests/golden/SUMMARIES,
 * compared byte for byte.
 *
 * Every command runs through sh -c in the source tree with TZ=UTC, stdout and stderr going to
 * files in a private temporary directory (tests run in parallel). */
#define _GNU_SOURCE
#include <criterion/criterion.h>

#include "testutil.h"
#include <criterion/parameterized.h>
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* One timeout for every test of this binary, a hang guard only. With 30, 60 and 120 s mixed,
 * LeakSanitizer found a 48-byte block left by Criterion 2.4.1's timeout queue (BoxFort, in the
 * runner process) in 3 of 6 runs and failed the binary; with one value, in none of 8. */
#define CLI_TIMEOUT 120

static struct {
    char dir[64];
    void *kept[64]; /* freed by the fixture, so a failed assertion leaks nothing */
    int nkept;
} T;

static void *keep(void *p)
{
    cr_assert(T.nkept < 64, "too many kept buffers");
    return T.kept[T.nkept++] = p;
}

/* The whole file, NUL-terminated and kept for the teardown to free; NULL if unreadable. */
static char *slurp(const char *path, size_t *len)
{
    return keep(tu_read_file(path, len));
}

static void setup(void)
{
    snprintf(T.dir, sizeof(T.dir), "/tmp/smtpsniff-cli-XXXXXX");
    cr_assert_not_null(mkdtemp(T.dir), "mkdtemp: %s", strerror(errno));
}

static void teardown(void)
{
    while (T.nkept > 0)
        free(T.kept[--T.nkept]);
    if (T.dir[0]) {
        char cmd[128];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", T.dir);
        if (system(cmd) != 0)
            fprintf(stderr, "test_cli: could not remove %s\n", T.dir);
    }
}

static char *tpath(const char *name)
{
    static char paths[16][192];
    static int next;
    char *p = paths[next++ % 16];
    snprintf(p, sizeof(paths[0]), "%s/%s", T.dir, name);
    return p;
}

/* The whole file, NUL-terminated (kept); NULL if it cannot be read. */

struct run {
    int status; /* exit status, or -1 if killed */
    char *out, *err;
    size_t out_len;
    int err_lines;
    char cmd[2048];
};

/* Runs `smtpsniff ARGS` (ARGS is shell text: quotes and redirections allowed) in the source
 * tree. `pre` goes before the program (a pipe, an umask ...). */
__attribute__((format(printf, 2, 3))) static struct run run_sniff(const char *pre, const char *fmt, ...)
{
    struct run r;
    char args[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof(args), fmt, ap);
    va_end(ap);
    snprintf(r.cmd, sizeof(r.cmd), "cd '%s' && export TZ=UTC LC_ALL=C && %s '%s' %s >'%s/out' 2>'%s/err'",
             SRCDIR, pre ? pre : "", SMTPSNIFF_BIN, args, T.dir, T.dir);
    int st = system(r.cmd);
    r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    r.out = slurp(tpath("out"), &r.out_len);
    r.err = slurp(tpath("err"), NULL);
    cr_assert(r.out && r.err, "%s: no output files", r.cmd);
    r.err_lines = 0;
    for (const char *p = r.err; *p; p++)
        r.err_lines += *p == '\n';
    return r;
}

static int count_lines(const char *s)
{
    int n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

/* ---- unusable input and bad usage ---------------------------------------------------------- */

struct bad_case {
    const char *args;   /* smtpsniff arguments, shell text */
    int status;         /* expected exit status */
    const char *names;  /* the error line must contain this (names the problem) */
    const char *names2; /* and this, if not NULL */
};

ParameterizedTestParameters(cli, bad_input)
{
    static struct bad_case cases[] = {
        /* unusable input: exit 1 */
        {"-r pcaps/no-such-file.pcap", 1, "pcaps/no-such-file.pcap", "No such file"},
        {"-r pcaps", 1, "pcaps", "directory"},
        {"-r pcaps/not-a-capture.pcap", 1, "pcaps/not-a-capture.pcap", "not a pcap"},
        {"-r pcaps/empty.pcap", 1, "pcaps/empty.pcap", "empty"},
        {"-r - </dev/null", 1, "-:", "not a pcap"},
        {"-r - <pcaps/not-a-capture.pcap", 1, "-:", "not a pcap"},
        {"-r pcaps/postfix-basic.pcap -r pcaps/no-such-file.pcap", 1, "pcaps/no-such-file.pcap", NULL},
        {"-r pcaps/postfix-basic.pcap 'tcp port'", 1, "tcp port", "filter"},
        {"-r pcaps/postfix-basic.pcap tcp and nosuchkeyword", 1, "nosuchkeyword", "filter"},
        {"-i nosuchif0", 1, "nosuchif0", NULL},
        /* a name with a newline or an ESC is quoted escaped, on one line */
        {"-r \"$(printf 'pcaps/no\\nsuch\\033[31m.pcap')\"", 1, "pcaps/no\\nsuch\\x1b[31m.pcap", "No such file"},
        {"-r pcaps/postfix-basic.pcap \"$(printf 'port\\nnosuchkw')\"", 1, "port\\nnosuchkw", "filter"},
        /* bad usage: exit 2 */
        {"", 2, "-r", "-i"},
        {"-r pcaps/postfix-basic.pcap -i lo", 2, "-r", "-i"},
        {"--ports 0 -r pcaps/postfix-basic.pcap", 2, "--ports", "'0'"},
        {"--ports 65536 -r pcaps/postfix-basic.pcap", 2, "--ports", "65536"},
        {"--ports 25,,587 -r pcaps/postfix-basic.pcap", 2, "--ports", "25,,587"},
        {"--ports 25x -r pcaps/postfix-basic.pcap", 2, "--ports", "25x"},
        {"--ports '' -r pcaps/postfix-basic.pcap", 2, "--ports", NULL},
        {"-c 0 -r pcaps/postfix-basic.pcap", 2, "-c", "'0'"},
        {"-c -1 -r pcaps/postfix-basic.pcap", 2, "-c", "-1"},
        {"-c abc -r pcaps/postfix-basic.pcap", 2, "-c", "abc"},
        {"-c 1x -r pcaps/postfix-basic.pcap", 2, "-c", "1x"},
        {"--color=blue -r pcaps/postfix-basic.pcap", 2, "--color", "blue"},
        {"--color= -r pcaps/postfix-basic.pcap", 2, "--color", NULL},
        {"--summary-format xml --summary x -r pcaps/postfix-basic.pcap", 2, "--summary-format", "xml"},
        {"--duration 0 -i lo", 2, "--duration", "'0'"},
        {"--max-sessions 1 -r pcaps/postfix-basic.pcap", 2, "--max-sessions", "'1'"},
        {"-B 10 -i lo", 2, "-B", "'10'"},
        {"-B 2097152 -i lo", 2, "-B", "2097152"},
        {"-B 64k -i lo", 2, "-B", "64k"},
        {"--idle-timeout soon -r pcaps/postfix-basic.pcap", 2, "--idle-timeout", "soon"},
        {"--engine nids -r pcaps/postfix-basic.pcap", 2, "--engine", "nids"},
        {"--memcap 1k -r pcaps/postfix-basic.pcap", 2, "--memcap", "1k"},
        {"--memcap lots -r pcaps/postfix-basic.pcap", 2, "--memcap", "lots"},
        {"--frobnicate -r pcaps/postfix-basic.pcap", 2, "frobnicate", NULL},
        {"-Z -r pcaps/postfix-basic.pcap", 2, "Z", NULL},
        {"-r", 2, "-r", NULL},
        {"-r ''", 2, "-r needs a file name", NULL},
        {"-i ''", 2, "-i needs an interface", NULL},
        {"-r pcaps/postfix-basic.pcap --summary ''", 2, "--summary needs a file name", NULL},
        {"--idle-timeout 604801 -r pcaps/postfix-basic.pcap", 2, "--idle-timeout", "1 to 604800"},
        {"--ports \"$(printf '25\\n\\033]0;x\\007')\" -r pcaps/postfix-basic.pcap", 2, "--ports", "25\\n\\x1b]0;x\\x07"},
        {"-r pcaps/postfix-basic.pcap --summary", 2, "--summary", NULL},
        {"-r - -r pcaps/postfix-basic.pcap -r - <pcaps/postfix-basic.pcap", 2, "-r -", "twice"},
        /* explain */
        {"explain 99x", 1, "99x", NULL},
        {"explain 6.1.1", 1, "6.1.1", NULL},
        {"explain", 2, "code", NULL},
        {"explain 250 251 252", 2, "codes", NULL},
        {"explain --frob 250", 2, "--frob", NULL},
    };
    return cr_make_param_array(struct bad_case, cases, sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct bad_case *c, cli, bad_input, .init = setup, .fini = teardown, .timeout = CLI_TIMEOUT)
{
    struct run r = run_sniff(NULL, "%s", c->args);
    cr_expect_eq(r.status, c->status, "smtpsniff %s: exit %d, want %d", c->args, r.status, c->status);
    cr_expect_eq(r.out_len, 0, "smtpsniff %s: wrote %zu bytes on stdout:\n%s", c->args, r.out_len, r.out);
    cr_expect_eq(r.err_lines, 1, "smtpsniff %s: %d lines on stderr, want exactly 1:\n%.300s", c->args,
                 r.err_lines, r.err);
    for (const char *p = r.err; *p; p++)
        if ((unsigned char)*p < 0x20 && *p != '\n')
            cr_expect(false, "smtpsniff %s: control byte 0x%02x on stderr:\n%s", c->args, (unsigned char)*p, r.err);
    cr_expect(strncmp(r.err, "smtpsniff", 9) == 0,
              "smtpsniff %s: error does not start with the program name:\n%.300s", c->args, r.err);
    cr_expect(strstr(r.err, c->names) != NULL, "smtpsniff %s: error does not name '%s':\n%s", c->args,
              c->names, r.err);
    if (c->names2)
        cr_expect(strstr(r.err, c->names2) != NULL, "smtpsniff %s: error does not name '%s':\n%s", c->args,
                  c->names2, r.err);
}

/* A capture damaged in the middle: the records before the damage, then exit 1 with one line. */
Test(cli, truncated_capture, .init = setup, .fini = teardown, .timeout = CLI_TIMEOUT)
{
    struct run full = run_sniff(NULL, "--json -r pcaps/postfix-basic.pcap");
    cr_assert_eq(full.status, 0);
    struct run r = run_sniff(NULL, "--json -r pcaps/postfix-basic-truncated.pcap");
    cr_expect_eq(r.status, 1, "exit %d, want 1", r.status);
    cr_expect_eq(r.err_lines, 1, "%d lines on stderr, want 1:\n%s", r.err_lines, r.err);
    cr_expect(strstr(r.err, "pcaps/postfix-basic-truncated.pcap") && strstr(r.err, "truncated"),
              "error does not name the file and the damage:\n%s", r.err);
    /* Exchanges before the damage: the same lines, in the same order, as the whole capture's. */
    int exchanges = 0;
    const char *want = full.out;
    for (char *line = r.out; *line;) {
        char *nl = strchr(line, '\n');
        cr_assert_not_null(nl, "last record not ended by a newline");
        *nl = '\0';
        if (strstr(line, "\"type\":\"exchange\"")) {
            const char *at = strstr(want, line);
            cr_expect_not_null(at, "exchange not in the whole capture's output:\n%s", line);
            if (at)
                want = at + strlen(line);
            exchanges++;
        }
        if (nl[1] == '\0')
            cr_expect(strstr(line, "\"type\":\"session\"") && strstr(line, "\"end_reason\":\"end of input\""),
                      "last record is not the session, ended by the end of input:\n%s", line);
        line = nl + 1;
    }
    cr_expect_geq(exchanges, 3, "only %d exchanges before the damage (greeting, EHLO, MAIL expected)",
                  exchanges);
}

/* The summary of a capture cut in the middle says so (it read like a whole capture's before);
 * a whole capture's has no such member (the golden summaries hold that). */
Test(cli, summary_names_input_error, .init = setup, .fini = teardown, .timeout = CLI_TIMEOUT)
{
    static const char *const names[] = {"cut.json", "cut.txt"};
    static const char *const want[] = {"\"input_error\": \"pcaps/postfix-basic-truncated.pcap: truncated",
                                       "  input error                        pcaps/postfix-basic-truncated.pcap: "
                                       "truncated"};
    for (int i = 0; i < 2; i++) {
        struct run r = run_sniff(NULL, "-q -r pcaps/postfix-basic-truncated.pcap --summary '%s'", tpath(names[i]));
        cr_expect_eq(r.status, 1, "exit %d, want 1", r.status);
        char *s = slurp(tpath(names[i]), NULL);
        cr_assert_not_null(s, "%s: no summary written", names[i]);
        cr_expect(strstr(s, want[i]) != NULL, "%s does not name the input error:\n%.1200s", names[i], s);
    }
}

/* ---- the end-of-run line ------------------------------------------------------------------- */

/* Everything skipped or discarded is counted and told in one line on stderr (docs/smtpsniff.1):
 * pcaps/adv-discards.pcap holds one of each, and 20 sessions at once that --max-sessions 16 cuts.
 * The own engine: the 240/4 source is an address like any other (one more session, so one more
 * eviction), the source-routed packet is dropped as Linux drops it, the IPv6 fragment and the
 * 4-byte IPv4 fragment are held and dropped, the hole before the 60 segments is skipped exactly
 * (115 bytes), the segments of evicted sessions seen later are counted, not made sessions. */
Test(cli, end_of_run_line_counts_discards, .init = setup, .fini = teardown, .timeout = CLI_TIMEOUT)
{
    struct run r = run_sniff(NULL, "-q --max-sessions 16 -r pcaps/adv-discards.pcap");
    cr_expect_eq(r.status, 0, "exit %d: %s", r.status, r.err);
    cr_expect_str_eq(r.err, "smtpsniff: 236 packets read; not SMTP: not IP 1, not TCP 1, other ports 1; "
                            "discarded: bad IP header 1, cut by the snaplen 1, bad TCP segments 1, sessions "
                            "evicted 5, bad IP packets 1, segments cut by the snaplen 1, bytes cut by the snaplen "
                            "100, holes skipped 1, bytes missing in holes 115, IP fragments dropped 2, bytes after "
                            "their stream ended 144\n");
}

Test(cli, end_of_run_line_counts_libnids_discards, .init = setup, .fini = teardown, .timeout = CLI_TIMEOUT)
{
    struct run r = run_sniff(NULL, "-q --engine libnids --max-sessions 16 -r pcaps/adv-discards.pcap");
    cr_expect_eq(r.status, 0, "exit %d: %s", r.status, r.err);
    cr_expect_str_eq(r.err, "smtpsniff: 236 packets read; not SMTP: not IP 1, not TCP 1, other ports 1; "
                            "discarded: bad IP header 1, cut by the snaplen 1, reassembly queue overflows 1, "
                            "bad TCP segments 1, IP reassembly warnings 1, sessions evicted 4, IPv6 packets "
                            "(libnids engine) 2, bad IP packets 1, segments cut by the snaplen 1\n");
}

/* A file read whole with nothing discarded says nothing on stderr (stderr is no terminal here). */
Test(cli, end_of_run_line_quiet_when_nothing_lost, .init = setup, .fini = teardown, .timeout = CLI_TIMEOUT)
{
    struct run r = run_sniff(NULL, "-q --idle-timeout 600 -r pcaps/adv-no-fin.pcap -r pcaps/postfix-basic.pcap");
    cr_expect_eq(r.status, 0, "exit %d: %s", r.status, r.err);
    cr_expect_str_empty(r.err, "%s", r.err);
}

/* ---- help and version ---------------------------------------------------------------------- */

static void check_help(const char *opt)
{
    struct run r = run_sniff(NULL, "%s", opt);
    cr_expect_eq(r.status, 0, "%s: exit %d", opt, r.status);
    cr_expect_str_empty(r.err, "%s wrote on stderr:\n%s", opt, r.err);
    int lines = count_lines(r.out), widest = 0;
    for (const char *l = r.out; *l;) {
        int w = (int)strcspn(l, "\n");
        widest = w > widest ? w : widest;
        l += w + (l[w] ? 1 : 0);
    }
    cr_expect_leq(lines, 50, "%s: %d lines, want at most 50", opt, lines);
    cr_expect_leq(widest, 100, "%s: a line of %d columns, want at most 100", opt, widest);
    static const char *const options[] = {
        "-r FILE",
        "-i IFACE",
        "--no-promisc",
        "--ports",
        "-c N",
        "--duration",
        "--json",
        "--color",
        "--errors",
        "-q",
        "--summary FILE",
        "--summary-format",
        "--show-credentials",
        "--no-progress",
        "-B KIB",
        "--max-sessions",
        "--idle-timeout",
        "--memcap",
        "--engine",
        "--help",
        "--version",
        "explain",
        "BPF expression",
    };
    for (size_t i = 0; i < sizeof(options) / sizeof(options[0]); i++)
        cr_expect(strstr(r.out, options[i]) != NULL, "%s does not mention %s", opt, options[i]);
}

/* Every option the man page gives an entry (a .TP paragraph under OPTIONS) appears in --help, so
 * the two cannot drift apart. */
Test(cli, help_lists_every_man_page_option, .init = setup, .fini = teardown)
{
    struct run r = run_sniff(NULL, "--help");
    char *man = slurp(SRCDIR "/docs/smtpsniff.1", NULL);
    cr_assert_not_null(man, "docs/smtpsniff.1 missing");
    bool in_options = false, after_tp = false;
    int checked = 0;
    for (char *line = man; *line;) {
        size_t len = strcspn(line, "\n");
        if (strncmp(line, ".SH ", 4) == 0)
            in_options = strncmp(line, ".SH OPTIONS", 11) == 0;
        for (size_t i = 0; in_options && after_tp && i + 1 < len; i++) {
            if (line[i] != '\\' || line[i + 1] != '-' || (i >= 2 && line[i - 2] == '\\' && line[i - 1] == '-'))
                continue;
            char opt[64];
            size_t n = 0;
            for (size_t j = i; j < len && n + 1 < sizeof(opt); j++) {
                if (line[j] == '\\' && j + 1 < len && line[j + 1] == '-') {
                    opt[n++] = '-';
                    j++;
                } else if ((line[j] >= 'a' && line[j] <= 'z') || (line[j] >= 'A' && line[j] <= 'Z')) {
                    opt[n++] = line[j];
                } else {
                    break;
                }
            }
            opt[n] = '\0';
            cr_expect(strstr(r.out, opt) != NULL, "the man page lists %s, --help does not", opt);
            checked++;
        }
        after_tp = strncmp(line, ".TP", 3) == 0 && len == 3;
        line += len + (line[len] ? 1 : 0);
    }
    cr_expect_geq(checked, 20, "only %d options found in the man page's OPTIONS", checked);
}

Test(cli, help_long, .init = setup, .fini = teardown)
{
    check_help("--help");
}

Test(cli, help_short, .init = setup, .fini = teardown)
{
    check_help("-h");
}

static void check_version(const char *opt)
{
    struct run r = run_sniff(NULL, "%s", opt);
    cr_expect_eq(r.status, 0, "%s: exit %d", opt, r.status);
    cr_expect_str_empty(r.err);
    unsigned a, b, c;
    int used = 0;
    cr_expect(sscanf(r.out, "smtpsniff %u.%u.%u\n%n", &a, &b, &c, &used) == 3 && (size_t)used == r.out_len,
              "%s printed '%s', want \"smtpsniff X.Y.Z\" and nothing else", opt, r.out);
    cr_expect(strcmp(r.out, "smtpsniff " SMTPSNIFF_VERSION "\n") == 0, "%s: '%s'", opt, r.out);
}

Test(cli, version_long, .init = setup, .fini = teardown)
{
    check_version("--version");
}

Test(cli, version_short, .init = setup, .fini = teardown)
{
    check_version("-V");
}

/* ---- reading standard input ---------------------------------------------------------------- */

Test(cli, stdin_same_as_file, .init = setup, .fini = teardown, .timeout = CLI_TIMEOUT)
{
    struct run file = run_sniff(NULL, "--json -r pcaps/postfix-basic.pcap");
    cr_assert_eq(file.status, 0);
    cr_assert_gt(file.out_len, 0);
    cr_expect_str_empty(file.err, "reading a file wrote on stderr (\"listening on\" is live only):\n%s",
                        file.err);
    struct run pipe = run_sniff("cat pcaps/postfix-basic.pcap |", "--json -r -");
    cr_expect_eq(pipe.status, 0, "exit %d: %s", pipe.status, pipe.err);
    cr_expect_str_empty(pipe.err, "reading standard input wrote on stderr:\n%s", pipe.err);
    cr_expect(pipe.out_len == file.out_len && memcmp(pipe.out, file.out, file.out_len) == 0,
              "-r - from a pipe differs from -r FILE (%zu vs %zu bytes)", pipe.out_len, file.out_len);
    struct run ng = run_sniff(NULL, "--json -r - < pcaps/postfix-basic.pcapng");
    cr_expect_eq(ng.status, 0, "pcapng on stdin: exit %d: %s", ng.status, ng.err);
    cr_expect(ng.out_len == file.out_len && memcmp(ng.out, file.out, file.out_len) == 0,
              "pcapng on stdin differs from -r FILE");
}

/* --ports chooses the streams followed: port 587 alone keeps the submission session and drops
 * the port-25 one; a list holding both gives what the default list gives. */
Test(cli, ports_select_streams, .init = setup, .fini = teardown, .timeout = CLI_TIMEOUT)
{
    const char *both = "-r pcaps/postfix-basic.pcap -r pcaps/postfix-auth.pcap";
    struct run def = run_sniff(NULL, "--json %s", both);
    cr_assert_eq(def.status, 0, "%s", def.err);
    cr_assert_not_null(strstr(def.out, "\"port\":25}"));
    cr_assert_not_null(strstr(def.out, "\"port\":587}"));
    struct run sub = run_sniff(NULL, "--json --ports 587 %s", both);
    cr_expect_eq(sub.status, 0, "%s", sub.err);
    cr_expect_null(strstr(sub.out, "\"port\":25}"), "a port-25 session with --ports 587");
    cr_expect_not_null(strstr(sub.out, "\"port\":587}"), "no port-587 session with --ports 587");
    struct run two = run_sniff(NULL, "--json --ports 65535,587,25 %s", both);
    cr_expect(two.out_len == def.out_len && memcmp(two.out, def.out, def.out_len) == 0,
              "--ports 65535,587,25 differs from the default list");
}

/* A capture arriving on stdin (tcpdump -U -w - | smtpsniff -r -) is followed as it comes:
 * records are written while the input is still open, not held until its end. The writer keeps
 * the pipe open until the output file has grown (or 60 s, a failure bound only), then notes its
 * size: that size was reached before the end of input, whatever the machine's speed. */
Test(cli, stdin_records_before_eof, .init = setup, .fini = teardown, .timeout = CLI_TIMEOUT)
{
    char cmd[1536];
    snprintf(cmd, sizeof(cmd),
             "cd '%s' && { cat pcaps/postfix-basic.pcap; i=0; while [ ! -s '%s' ] && [ $i -lt 1200 ]; do "
             "sleep 0.05; i=$((i+1)); done; wc -c <'%s' >'%s'; } | '%s' --json -r - >'%s' 2>/dev/null",
             SRCDIR, tpath("out"), tpath("out"), tpath("early"), SMTPSNIFF_BIN, tpath("out"));
    cr_assert_eq(system(cmd), 0, "%s", cmd);
    char *early = slurp(tpath("early"), NULL);
    size_t out_len;
    slurp(tpath("out"), &out_len);
    cr_assert_not_null(early);
    cr_expect_gt(strtoul(early, NULL, 10), 0, "no record before the end of standard input");
    cr_expect_gt(out_len, 0);
}

/* ---- the summary file ---------------------------------------------------------------------- */

/* A summary that cannot be written is found at start-up, before anything is read: exit 1, one
 * line naming the path, nothing on stdout (a day-long live capture must not lose its summary at
 * the end). The old code read the whole capture and failed only then. */
Test(cli, summary_unwritable_at_start, .init = setup, .fini = teardown, .timeout = CLI_TIMEOUT)
{
    FILE *f = fopen(tpath("file"), "w");
    cr_assert_not_null(f);
    fclose(f);
    static const char *const paths[] = {"missing/x.json", "file/x.json", ".", "missing/"};
    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        const char *path = strcmp(paths[i], ".") == 0 ? T.dir : tpath(paths[i]);
        struct run r = run_sniff(NULL, "--json -r pcaps/postfix-basic.pcap --summary '%s'", path);
        cr_expect_eq(r.status, 1, "--summary %s: exit %d, want 1", paths[i], r.status);
        cr_expect_eq(r.err_lines, 1, "--summary %s: %d lines on stderr, want 1:\n%s", paths[i], r.err_lines,
                     r.err);
        cr_expect(strstr(r.err, path) != NULL, "--summary %s: error does not name the path:\n%s", paths[i], r.err);
        cr_expect_eq(r.out_len, 0, "--summary %s: %zu bytes on stdout before the error", paths[i], r.out_len);
    }
    struct stat st;
    cr_expect(stat(tpath("missing"), &st) != 0, "the missing directory was created");
}

static bool is_json_summary(const char *s)
{
    return s && strncmp(s, "{\n  \"schema\": 1,\n", 17) == 0 && s[strlen(s) - 2] == '}';
}

static bool is_text_summary(const char *s)
{
    return s && strncmp(s, "smtpsniff summary\n", 18) == 0 && strstr(s, "\nFailed deliveries\n");
}

Test(cli, summary_format_by_extension, .init = setup, .fini = teardown, .timeout = CLI_TIMEOUT)
{
    static const struct {
        const char *name, *fmt;
        bool text;
    } cases[] = {
        {"a.txt", "", true},
        {"b.json", "", false},
        {"c.out", "", false},
        {"d", "", false},
        {"e.json", "--summary-format text", true},
        {"f.txt", "--summary-format json", false},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct run r = run_sniff(NULL, "-q -r pcaps/postfix-basic.pcap --summary '%s' %s",
                                 tpath(cases[i].name), cases[i].fmt);
        cr_expect_eq(r.status, 0, "%s: exit %d: %s", r.cmd, r.status, r.err);
        char *s = slurp(tpath(cases[i].name), NULL);
        if (cases[i].text)
            cr_expect(is_text_summary(s), "--summary %s %s: not a text summary:\n%.200s", cases[i].name,
                      cases[i].fmt, s ? s : "(none)");
        else
            cr_expect(is_json_summary(s), "--summary %s %s: not a JSON summary:\n%.200s", cases[i].name,
                      cases[i].fmt, s ? s : "(none)");
    }
}

/* No FILE.XXXXXX left in the temporary directory. */
static void expect_no_temp(const char *prefix)
{
    DIR *d = opendir(T.dir);
    cr_assert_not_null(d);
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        cr_expect(strncmp(e->d_name, prefix, strlen(prefix)) != 0, "temporary file left: %s", e->d_name);
    closedir(d);
}

static void write_file(const char *path, const char *text, mode_t mode)
{
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f, "%s: %s", path, strerror(errno));
    fputs(text, f);
    cr_assert(fclose(f) == 0 && chmod(path, mode) == 0, "%s: %s", path, strerror(errno));
}

/* Replaced by rename: a hard link to the old file keeps the old bytes and no FILE.XXXXXX is left.
 * The new file keeps the old one's mode and (as root) owner whatever the umask: root rewriting an
 * operator's summary must not leave it root's, nor readable by more people. The old code gave it
 * the umask's mode and root as owner. */
Test(cli, summary_replace_keeps_mode_owner, .init = setup, .fini = teardown, .timeout = CLI_TIMEOUT)
{
    bool root = geteuid() == 0;
    uid_t uid = root ? 65534 : getuid(); /* as root any other uid will do: no account is needed */
    gid_t gid = root ? 65534 : getgid();
    static const struct {
        const char *umask;
        mode_t mode;
    } cases[] = {{"077", 0640}, {"000", 0600}, {"022", 0604}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        unlink(tpath("old.json"));
        write_file(tpath("s.json"), "old\n", cases[i].mode);
        cr_assert(chown(tpath("s.json"), uid, gid) == 0, "chown: %s", strerror(errno));
        cr_assert(link(tpath("s.json"), tpath("old.json")) == 0, "link: %s", strerror(errno));
        char pre[32];
        snprintf(pre, sizeof(pre), "umask %s &&", cases[i].umask);
        struct run r = run_sniff(pre, "-q -r pcaps/postfix-basic.pcap --summary '%s'", tpath("s.json"));
        cr_expect_eq(r.status, 0, "exit %d: %s", r.status, r.err);
        cr_expect(is_json_summary(slurp(tpath("s.json"), NULL)), "s.json not replaced by a summary");
        cr_expect_str_eq(slurp(tpath("old.json"), NULL), "old\n", "the old file was rewritten in place");
        struct stat st;
        cr_assert(stat(tpath("s.json"), &st) == 0);
        cr_expect_eq(st.st_mode & 07777, cases[i].mode, "umask %s: mode %o, want the old file's %o",
                     cases[i].umask, st.st_mode & 07777, cases[i].mode);
        cr_expect(st.st_uid == uid && st.st_gid == gid, "owner %u:%u, want the old file's %u:%u",
                  (unsigned)st.st_uid, (unsigned)st.st_gid, (unsigned)uid, (unsigned)gid);
        expect_no_temp("s.json.");
    }
}

/* A new summary is 0600 whatever the umask: it holds addresses and user names. The old code
 * gave it 0666 less the umask (0644 under 022, 0666 under 000). A dangling symlink's target is a
 * new file too. */
Test(cli, summary_new_file_0600, .init = setup, .fini = teardown, .timeout = CLI_TIMEOUT)
{
    cr_assert(symlink("target.json", tpath("dangling.json")) == 0, "symlink: %s", strerror(errno));
    static const char *const masks[] = {"022", "000", "077", "002"};
    for (size_t i = 0; i < sizeof(masks) / sizeof(masks[0]); i++) {
        const char *names[] = {"new.json", "dangling.json"};
        for (size_t j = 0; j < 2; j++) {
            const char *made = j == 0 ? tpath("new.json") : tpath("target.json");
            unlink(made);
            char pre[32];
            snprintf(pre, sizeof(pre), "umask %s &&", masks[i]);
            struct run r = run_sniff(pre, "-q -r pcaps/postfix-basic.pcap --summary '%s'", tpath(names[j]));
            cr_expect_eq(r.status, 0, "umask %s, %s: exit %d: %s", masks[i], names[j], r.status, r.err);
            struct stat st;
            cr_assert(stat(made, &st) == 0, "umask %s, %s: no summary", masks[i], names[j]);
            cr_expect_eq(st.st_mode & 07777, 0600, "umask %s, --summary %s: mode %o, want 600", masks[i],
                         names[j], st.st_mode & 07777);
            cr_expect(is_json_summary(slurp(made, NULL)), "umask %s, %s: not a summary", masks[i], names[j]);
        }
    }
    struct stat st;
    cr_expect(lstat(tpath("dangling.json"), &st) == 0 && S_ISLNK(st.st_mode), "the dangling link was replaced");
}

/* ---- a summary path that is an input -------------------------------------------------------- */

/* Byte-compares path with the fixture it was copied from. */
static void expect_capture_intact(const char *path, const char *what)
{
    size_t want_len = 0, got_len = 0;
    char *want = slurp(SRCDIR "/pcaps/postfix-basic.pcap", &want_len);
    char *got = slurp(path, &got_len);
    cr_assert_not_null(want);
    cr_expect(got && got_len == want_len && memcmp(got, want, want_len) == 0,
              "%s: the input capture was changed (%zu bytes, want %zu)", what, got_len, want_len);
}

/* A fresh copy of the fixture as cap.pcap, with a hard link, a symlink, and a link to fd 0. */
static void make_inputs(void)
{
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "cd '%s' && rm -f cap.pcap hard.pcap soft.pcap stdin && cp '%s/pcaps/postfix-basic.pcap' "
             "cap.pcap && ln cap.pcap hard.pcap && ln -s cap.pcap soft.pcap && ln -s /proc/self/fd/0 stdin",
             T.dir, SRCDIR);
    cr_assert(system(cmd) == 0, "%s", cmd);
}

/* The summary path is an input: refused before anything is read (exit 2, one line, no output),
 * the capture byte for byte as it was. Same file by device and inode: the file itself, a hard
 * link, a symlink, and standard input (a link of our own to /proc/self/fd/0 stands in for
 * /dev/stdin, so that a regression cannot replace the machine's). The old code replaced the
 * capture with the summary (or wrote the summary into the pipe it read). */
Test(cli, summary_is_input, .init = setup, .fini = teardown, .timeout = CLI_TIMEOUT)
{
    char cap[192];
    snprintf(cap, sizeof(cap), "%s", tpath("cap.pcap"));
    enum { FILE_ARG, REDIRECT, PIPE };
    static const struct {
        int how; /* -r CAP, -r - <CAP, cat CAP | -r - */
        const char *before, *summary;
    } cases[] = {
        {FILE_ARG, "", "cap.pcap"},    {FILE_ARG, "-r pcaps/postfix-auth.pcap", "cap.pcap"},
        {FILE_ARG, "", "hard.pcap"},   {FILE_ARG, "", "soft.pcap"},
        {REDIRECT, "", "stdin"},       {REDIRECT, "", "cap.pcap"},
        {REDIRECT, "", "hard.pcap"},   {PIPE, "", "stdin"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char in[512], pre[256] = "";
        make_inputs();
        if (cases[i].how == FILE_ARG)
            snprintf(in, sizeof(in), "%s -r '%s'", cases[i].before, cap);
        else
            snprintf(in, sizeof(in), "%s -r - %s%s%s", cases[i].before, cases[i].how == REDIRECT ? "<'" : "",
                     cases[i].how == REDIRECT ? cap : "", cases[i].how == REDIRECT ? "'" : "");
        if (cases[i].how == PIPE)
            snprintf(pre, sizeof(pre), "cat '%s' |", cap);
        struct run r = run_sniff(pre, "--json %s --summary '%s'", in, tpath(cases[i].summary));
        cr_expect_eq(r.status, 2, "%s: exit %d, want 2", r.cmd, r.status);
        cr_expect_eq(r.out_len, 0, "%s: %zu bytes on stdout", r.cmd, r.out_len);
        cr_expect_eq(r.err_lines, 1, "%s: %d lines on stderr, want 1:\n%s", r.cmd, r.err_lines, r.err);
        cr_expect(strstr(r.err, "--summary") && strstr(r.err, "input"), "%s: error does not name the clash:\n%s",
                  r.cmd, r.err);
        expect_capture_intact(cap, r.cmd);
        expect_capture_intact(tpath("hard.pcap"), r.cmd);
        struct stat st;
        cr_expect(lstat(tpath("soft.pcap"), &st) == 0 && S_ISLNK(st.st_mode), "%s: soft.pcap replaced", r.cmd);
    }
}

/* ---- symlinks another user may have planted (as root) ---------------------------------------- */

static void plant_link(const char *target, const char *link, uid_t owner)
{
    cr_assert(symlink(target, link) == 0, "symlink %s: %s", link, strerror(errno));
    cr_assert(lchown(link, owner, owner) == 0, "lchown %s: %s", link, strerror(errno));
}

/* The /tmp attack on root: another user plants, in a directory others can write, a symlink named
 * as the summary and pointing at a file root owns. smtpsniff does not follow it (exit 1 at
 * start-up, one line naming the link), nor one planted as a directory on the way; the victim
 * keeps its bytes, mode and owner. Everything here lives in the test's own directory: a sticky
 * world-writable "pub" stands in for /tmp, uid 65534 for the other user, "victim" for /etc/shadow.
 * The old code replaced the victim with the summary (root:root, umask mode). */
Test(cli, summary_foreign_symlink, .init = setup, .fini = teardown, .timeout = CLI_TIMEOUT)
{
    if (geteuid() != 0)
        cr_skip_test("needs root: only root can create a symlink owned by another user");
    cr_assert(mkdir(tpath("pub"), 0700) == 0 && chmod(tpath("pub"), 01777) == 0, "pub: %s", strerror(errno));
    write_file(tpath("victim"), "secret\n", 0640);
    plant_link("../victim", tpath("pub/sum.json"), 65534);
    plant_link("..", tpath("pub/up"), 65534);
    plant_link("../victim", tpath("pub/mine.json"), 0);
    static const char *const attacks[] = {"pub/sum.json", "pub/up/victim", "pub/up/pub/sum.json"};
    for (size_t i = 0; i < sizeof(attacks) / sizeof(attacks[0]); i++) {
        struct run r = run_sniff(NULL, "-q -r pcaps/postfix-basic.pcap --summary '%s'", tpath(attacks[i]));
        cr_expect_eq(r.status, 1, "--summary %s: exit %d, want 1", attacks[i], r.status);
        cr_expect_eq(r.out_len, 0, "--summary %s: %zu bytes on stdout", attacks[i], r.out_len);
        cr_expect_eq(r.err_lines, 1, "--summary %s: %d lines on stderr:\n%s", attacks[i], r.err_lines, r.err);
        cr_expect(strstr(r.err, "symlink") && strstr(r.err, "65534"),
                  "--summary %s: error does not name the symlink and its owner:\n%s", attacks[i], r.err);
        cr_expect_str_eq(slurp(tpath("victim"), NULL), "secret\n", "--summary %s: the victim was rewritten",
                         attacks[i]);
        struct stat st;
        cr_assert(stat(tpath("victim"), &st) == 0);
        cr_expect(st.st_uid == 0 && (st.st_mode & 07777) == 0640, "--summary %s: victim now %u, mode %o",
                  attacks[i], (unsigned)st.st_uid, st.st_mode & 07777);
        cr_expect(lstat(tpath("pub/sum.json"), &st) == 0 && S_ISLNK(st.st_mode), "the planted link is gone");
    }
    /* Followed: a link the invoking user owns, even there; another user's link in a directory no
     * one else can write (the test's own, mode 0700). */
    struct run r = run_sniff(NULL, "-q -r pcaps/postfix-basic.pcap --summary '%s'", tpath("pub/mine.json"));
    cr_expect_eq(r.status, 0, "own link: exit %d: %s", r.status, r.err);
    cr_expect(is_json_summary(slurp(tpath("victim"), NULL)), "own link in pub/ not followed");
    plant_link("victim", tpath("theirs.json"), 65534);
    r = run_sniff(NULL, "--summary-format text -q -r pcaps/postfix-basic.pcap --summary '%s'", tpath("theirs.json"));
    cr_expect_eq(r.status, 0, "link in a private directory: exit %d: %s", r.status, r.err);
    cr_expect(is_text_summary(slurp(tpath("victim"), NULL)), "link in a private directory not followed");
}

/* Through a symlink: the file it names is replaced, and the link stays a link. */
Test(cli, summary_through_symlink, .init = setup, .fini = teardown, .timeout = CLI_TIMEOUT)
{
    FILE *f = fopen(tpath("real.json"), "w");
    cr_assert_not_null(f);
    fputs("old\n", f);
    fclose(f);
    cr_assert(symlink("real.json", tpath("link.json")) == 0, "symlink: %s", strerror(errno));
    struct run r = run_sniff(NULL, "-q -r pcaps/postfix-basic.pcap --summary '%s'", tpath("link.json"));
    cr_expect_eq(r.status, 0, "exit %d: %s", r.status, r.err);
    struct stat st;
    cr_assert(lstat(tpath("link.json"), &st) == 0);
    cr_expect(S_ISLNK(st.st_mode), "link.json was replaced by a regular file");
    cr_expect(is_json_summary(slurp(tpath("real.json"), NULL)), "real.json does not hold the summary");
}

/* Onto what is not a regular file (a device, a FIFO): written into it, never renamed over it.
 * Renaming over /dev/null as root would leave a regular file there. A FIFO stands in here (its
 * reader gives up after 60 s, a failure bound only, so a FIFO renamed away fails the test
 * instead of hanging it). */
Test(cli, summary_into_fifo, .init = setup, .fini = teardown, .timeout = CLI_TIMEOUT)
{
    cr_assert(mkfifo(tpath("fifo"), 0600) == 0, "mkfifo: %s", strerror(errno));
    char cmd[2048];
    snprintf(cmd, sizeof(cmd),
             "cd '%s' && timeout 60 cat '%s' >'%s' & pid=$!; cd '%s' && '%s' -q -r pcaps/postfix-basic.pcap --summary '%s' "
             "--summary-format text >/dev/null 2>'%s'; st=$?; wait $pid; exit $st",
             T.dir, tpath("fifo"), tpath("got"), SRCDIR, SMTPSNIFF_BIN, tpath("fifo"), tpath("err"));
    int st = system(cmd);
    cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 0, "exit status %d: %s", st, slurp(tpath("err"), NULL));
    struct stat sb;
    cr_assert(lstat(tpath("fifo"), &sb) == 0);
    cr_expect(S_ISFIFO(sb.st_mode), "the FIFO was replaced (mode %o)", sb.st_mode);
    cr_expect(is_text_summary(slurp(tpath("got"), NULL)), "the reader did not get the summary");
}

/* The file stdout or stderr writes to (files here): the summary follows what the stream wrote.
 * Links of our own stand in for /dev/stdout and /dev/stderr (a regression must not replace the
 * machine's), and stay links. */
Test(cli, summary_to_own_stream, .init = setup, .fini = teardown, .timeout = CLI_TIMEOUT)
{
    cr_assert(symlink("/proc/self/fd/1", tpath("stdout")) == 0, "symlink: %s", strerror(errno));
    cr_assert(symlink("/proc/self/fd/2", tpath("stderr")) == 0, "symlink: %s", strerror(errno));
    static const char *const names[] = {"stdout", "stderr", "out" /* the stdout file itself */};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        const char *path = tpath(names[i]);
        struct run r = run_sniff(NULL, "-q -r pcaps/postfix-basic.pcap --summary '%s' --summary-format text", path);
        cr_expect_eq(r.status, 0, "--summary %s: exit %d", names[i], r.status);
        cr_expect(count_lines(r.out) > 0 && strncmp(r.out, "smtpsniff summary", 17) != 0,
                  "--summary %s: the session line is gone:\n%s", names[i], r.out);
        const char *text = strcmp(names[i], "stderr") == 0 ? r.err : r.out;
        const char *sum = strstr(text, "smtpsniff summary\n");
        cr_expect(sum != NULL && is_text_summary(sum), "--summary %s: no summary:\n%s", names[i], text);
        struct stat st;
        cr_assert(lstat(path, &st) == 0);
        if (strcmp(names[i], "out") != 0)
            cr_expect(S_ISLNK(st.st_mode), "%s is no longer a symlink", names[i]);
    }
}

/* ---- the progress line ---------------------------------------------------------------------- */

/* Runs `smtpsniff ARGS` under script(1), so that stderr (and stdout, unless ARGS redirects it) is
 * a terminal; returns what the terminal received. */
static char *run_on_tty(const char *args)
{
    char cmd[1024];
    snprintf(cmd, sizeof(cmd),
             "cd '%s' && export TZ=UTC LC_ALL=C && script -qec \"'%s' %s\" /dev/null >'%s/tty' 2>&1 </dev/null",
             SRCDIR, SMTPSNIFF_BIN, args, T.dir);
    int st = system(cmd);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "%s: exit %d", cmd, WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    char *tty = slurp(tpath("tty"), NULL);
    cr_assert_not_null(tty, "%s: no transcript", cmd);
    return tty;
}

/* The feed on the terminal is the progress: a progress line there ran into the feed's lines
 * ("... 1 sessions22:27:58.145705 #2 ++ ..."). */
Test(cli, no_progress_line_when_stdout_is_a_terminal, .init = setup, .fini = teardown, .timeout = CLI_TIMEOUT)
{
    char *tty = run_on_tty("--color=never -r pcaps/postfix-basic.pcap -r pcaps/postfix-rejects.pcap");
    cr_expect(strstr(tty, "#3 -- end") != NULL, "the feed reached the terminal:\n%s", tty);
    cr_expect(strstr(tty, "MB of") == NULL, "a progress line on the feed's terminal:\n%s", tty);
}

Test(cli, progress_line_when_only_stderr_is_a_terminal, .init = setup, .fini = teardown, .timeout = CLI_TIMEOUT)
{
    char args[512];
    snprintf(args, sizeof(args), "-q -r pcaps/postfix-basic.pcap >'%s'", tpath("out"));
    char *tty = run_on_tty(args);
    cr_expect(strstr(tty, "MB of") != NULL, "no progress line on stderr's terminal:\n%s", tty);
    cr_expect(strstr(tty, "packets read") != NULL, "no end-of-run line after the progress line:\n%s", tty);
}

/* ---- golden summaries ---------------------------------------------------------------------- */

/* tests/golden/SUMMARIES: "EXPECTED-FILE smtpsniff-arguments..." a line; the test adds
 * `--summary FILE` and compares FILE with tests/golden/EXPECTED-FILE byte for byte. */
struct summary_golden {
    char expected[128];
    char args[512];
    int line;
};

ParameterizedTestParameters(summary, golden)
{
    static struct summary_golden rows[64];
    size_t n = 0;
    int lineno = 0;
    FILE *m = fopen(SRCDIR "/tests/golden/SUMMARIES", "r");
    cr_assert_not_null(m, "tests/golden/SUMMARIES missing");
    while (n < 64 && (rows[n].line = tu_next_golden(m, &lineno, rows[n].expected, NULL, rows[n].args)))
        n++;
    fclose(m);
    struct summary_golden *copy = cr_malloc(n * sizeof(*copy));
    memcpy(copy, rows, n * sizeof(*copy));
    return cr_make_param_array(struct summary_golden, copy, n);
}

ParameterizedTest(struct summary_golden *g, summary, golden, .init = setup, .fini = teardown,
                  .timeout = CLI_TIMEOUT)
{
    /* keep the expected file's extension: it picks the format when the line does not */
    struct run r = run_sniff(NULL, "%s --summary '%s'", g->args, tpath(g->expected));
    cr_expect_eq(r.status, 0, "SUMMARIES line %d: %s: exit %d: %s", g->line, r.cmd, r.status, r.err);
    size_t got_len = 0, want_len = 0;
    char *got = slurp(tpath(g->expected), &got_len);
    char want_path[512];
    snprintf(want_path, sizeof(want_path), "%s/tests/golden/%s", SRCDIR, g->expected);
    char *want = slurp(want_path, &want_len);
    cr_assert_not_null(want, "SUMMARIES line %d: %s missing (regenerate, then read it)", g->line, want_path);
    cr_assert_not_null(got, "SUMMARIES line %d: no summary written", g->line);
    if (got_len == want_len && memcmp(got, want, got_len) == 0)
        return;
    size_t i = 0;
    while (i < got_len && i < want_len && got[i] == want[i])
        i++;
    size_t from = i > 200 ? i - 200 : 0;
    cr_expect_fail("SUMMARIES line %d: smtpsniff %s: summary differs from %s at byte %zu (%zu vs %zu bytes)\n"
                   "--- got\n%.400s\n--- want\n%.400s",
                   g->line, g->args, g->expected, i, got_len, want_len, got + from, want + from);
}

/* A capture cut by a small snapshot length is reported, never silent: the end-of-run line counts
 * the cut packets, segments and bytes (with libnids there was no output and nothing on stderr). */
Test(cli, snaplen_cut_capture_is_reported, .init = setup, .fini = teardown, .timeout = CLI_TIMEOUT)
{
    struct run r = run_sniff(NULL, "-q -r pcaps/postfix-basic-snap60.pcap");
    cr_expect_eq(r.status, 0, "exit %d: %s", r.status, r.err);
    cr_expect_str_eq(r.err, "smtpsniff: 21 packets read; discarded: cut by the snaplen 21, segments cut by the "
                            "snaplen 13, bytes cut by the snaplen 684, bytes missing in holes 684\n");
    cr_expect(strstr(r.out, "end=close") != NULL, "no session line: %s", r.out);
}
