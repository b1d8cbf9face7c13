/* test_live.c - live capture end to end: real captures replayed onto loopback with tcpreplay
 * while `smtpsniff -i lo` runs; the transcript must match the offline run of the same file,
 * and SIGINT/SIGTERM must leave a complete summary and flushed output.
 *
 * Needs root (or CAP_NET_RAW), tcpreplay and python3 (to parse the summary); skipped without.
 * Only the real captures are replayed: their TCP checksums are unfinished (loopback offload),
 * so the kernel drops the injected copies and never answers them; the hand-built adv-* files
 * have good checksums and would draw RSTs. Loopback is shared with everything else on the
 * machine, so every run filters on the replayed sessions' address and client ports, and the
 * tests take a lock (flock) around capture + replay so two copies of this suite never see each
 * other. Readiness is what smtpsniff says on stderr ("listening on lo, ..."), never inferred
 * from /proc; every wait polls for its event and has a deadline that only bounds a failure. */
#define _GNU_SOURCE
#include <criterion/criterion.h>

#include "smtpsniff/limits.h"
#include "testutil.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PCAPS SRCDIR "/pcaps/"
#define LOCK_PATH "/tmp/smtpsniff-test-live.lock"
#define LISTENING "smtpsniff: listening on lo, link-type "
/* Failure bounds only, generous so a loaded machine (ASan build, a CPU hog, one core) never
 * reaches them: every wait ends as soon as what it waits for has happened. */
#define READY_MS 60000  /* smtpsniff must say it is listening by then */
#define OUTPUT_MS 60000 /* replayed records must reach stdout by then */
#define EXIT_MS 60000   /* smtpsniff must exit by then once it should */

/* One test's state; the fixture's fini kills the child whatever happened. */
static struct {
    char dir[64];
    pid_t child;
    int lock_fd;
    void *kept[64]; /* freed by the fixture, so a failed assertion leaks nothing */
    int nkept;
} T = {.child = -1, .lock_fd = -1};

/* ---- small helpers ------------------------------------------------------------------------- */

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}


static void *keep(void *p)
{
    cr_assert(T.nkept < 64, "too many kept buffers");
    return T.kept[T.nkept++] = p;
}

static char *tpath(const char *name)
{
    static char paths[32][128];
    static int next;
    char *p = paths[next++ % 32];
    snprintf(p, sizeof(paths[0]), "%s/%s", T.dir, name);
    return p;
}

/* The child's stderr, for failure messages. */
static const char *child_err(void)
{
    static char buf[2048];
    char *s = tu_read_file(tpath("stderr"), NULL);
    snprintf(buf, sizeof(buf), "%s", s ? s : "(none)");
    free(s);
    return buf;
}

static bool have_program(const char *name)
{
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "command -v %s >/dev/null 2>&1", name);
    return system(cmd) == 0;
}

/* Skips the test (does not fail it) when this machine cannot capture or replay. */
static void require_live(void)
{
    int s = socket(AF_PACKET, SOCK_RAW, 0);
    if (s < 0)
        cr_skip_test("no CAP_NET_RAW (%s): live tests need root", strerror(errno));
    close(s);
    if (!have_program("tcpreplay"))
        cr_skip_test("tcpreplay not installed");
    if (!have_program("python3"))
        cr_skip_test("python3 not installed (used to parse the summary)");
}

static void setup(void)
{
    snprintf(T.dir, sizeof(T.dir), "/tmp/smtpsniff-live-XXXXXX");
    cr_assert_not_null(mkdtemp(T.dir), "mkdtemp: %s", strerror(errno));
}

static void teardown(void)
{
    if (T.child > 0) {
        kill(T.child, SIGKILL);
        waitpid(T.child, NULL, 0);
        T.child = -1;
    }
    while (T.nkept > 0)
        free(T.kept[--T.nkept]);
    if (T.lock_fd >= 0)
        close(T.lock_fd); /* releases the flock */
    T.lock_fd = -1;
    if (T.dir[0]) {
        char cmd[128];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", T.dir);
        if (system(cmd) != 0)
            fprintf(stderr, "test_live: could not remove %s\n", T.dir);
    }
}

/* Loopback is one shared medium: one capture + replay at a time across processes, whichever
 * checkout or user runs them. flock needs only a read-only descriptor; the file is opened
 * without O_CREAT when it exists (fs.protected_regular refuses O_CREAT on another user's file
 * in /tmp, even to root) and made readable by all when created (whatever the umask). */
static void take_lock(void)
{
    for (int tries = 0; T.lock_fd < 0 && tries < 100; tries++) {
        T.lock_fd = open(LOCK_PATH, O_RDONLY | O_CLOEXEC);
        if (T.lock_fd < 0 && errno == ENOENT) {
            T.lock_fd = open(LOCK_PATH, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
            if (T.lock_fd >= 0)
                fchmod(T.lock_fd, 0644);
            else if (errno == EEXIST)
                continue; /* created by another copy meanwhile: open it */
        }
        break;
    }
    cr_assert(T.lock_fd >= 0, "%s: %s", LOCK_PATH, strerror(errno));
    cr_assert(flock(T.lock_fd, LOCK_EX) == 0, "flock: %s", strerror(errno));
}

/* ---- the child ----------------------------------------------------------------------------- */

/* Starts smtpsniff with stdout on out_fd and stderr in DIR/stderr. The child dies with the
 * test process (PR_SET_PDEATHSIG), and the fixture kills it too. */
static void start_sniffer(const char *const argv[], int out_fd)
{
    int err_fd = open(tpath("stderr"), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    cr_assert(err_fd >= 0);
    pid_t pid = fork();
    cr_assert(pid >= 0, "fork: %s", strerror(errno));
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        signal(SIGPIPE, SIG_DFL);
        dup2(out_fd, STDOUT_FILENO);
        dup2(err_fd, STDERR_FILENO);
        int nul = open("/dev/null", O_RDONLY);
        dup2(nul, STDIN_FILENO);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    close(err_fd);
    T.child = pid;
}

/* True when the child's stderr holds the whole line smtpsniff prints once it captures:
 * "smtpsniff: listening on lo, link-type ..., snapshot length N bytes\n". */
static bool child_listening(void)
{
    char *err = tu_read_file(tpath("stderr"), NULL);
    const char *at = err ? strstr(err, LISTENING) : NULL;
    const char *nl = at ? strchr(at, '\n') : NULL;
    bool ready = nl && nl - at > 6 && memcmp(nl - 6, " bytes", 6) == 0;
    free(err);
    return ready;
}

/* Waits until smtpsniff says it is listening: it prints the line once its handle is active,
 * the filter set and its signal handlers installed, so from then on every packet on lo is
 * seen (the kernel queues it until the capture loop reads it) and SIGINT/SIGTERM end it
 * cleanly. The deadline only bounds a failure. Fails if the child exits first. */
static void wait_capturing(void)
{
    for (long deadline = now_ms() + READY_MS;; sleep_ms(10)) {
        int st;
        if (child_listening())
            return;
        if (waitpid(T.child, &st, WNOHANG) == T.child) {
            T.child = -1;
            cr_assert_fail("smtpsniff exited (status 0x%x) before listening; stderr: %s", st, child_err());
        }
        if (now_ms() > deadline)
            cr_assert_fail("smtpsniff not listening after %d ms; stderr: %s", READY_MS, child_err());
    }
}

/* Waits for the child to exit; returns its wait status, or fails (the fixture kills it). */
static int wait_exit(long ms, const char *why)
{
    long deadline = now_ms() + ms;
    while (now_ms() < deadline) {
        int st;
        if (waitpid(T.child, &st, WNOHANG) == T.child) {
            T.child = -1;
            return st;
        }
        sleep_ms(20);
    }
    cr_assert_fail("smtpsniff still running %ld ms after %s; stderr: %s", ms, why, child_err());
    return -1;
}

static void assert_exit_0(int st)
{
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "smtpsniff: %s %d, want exit 0; stderr: %s",
              WIFEXITED(st) ? "exit" : "signal", WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st), child_err());
}

static void replay(const char *pcap)
{
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "tcpreplay -q -i lo '%s' > '%s' 2>&1", pcap, tpath("tcpreplay.log"));
    int st = system(cmd);
    char *log = keep(tu_read_file(tpath("tcpreplay.log"), NULL));
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "%s failed: %s", cmd, log ? log : "");
}

/* Polls FILE until it holds `needle` n times. */
static void wait_for_output(const char *file, const char *needle, int n)
{
    long deadline = now_ms() + OUTPUT_MS;
    int seen = 0;
    while (now_ms() < deadline) {
        char *s = tu_read_file(file, NULL);
        seen = 0;
        for (const char *p = s ? s : ""; (p = strstr(p, needle)) != NULL; p++)
            seen++;
        free(s);
        if (seen >= n)
            return;
        sleep_ms(20);
    }
    cr_assert_fail("%s: %d of %d '%s' after %d ms (output not flushed live?); stderr: %s", file, seen, n,
                   needle, OUTPUT_MS, child_err());
}

/* ---- comparing live and offline records ---------------------------------------------------- */

/* Replaces every RFC 3339 time ("2026-11-23T22:27:53.510645Z") by "T": the only fields a
 * replay changes. */
static char *strip_times(const char *s)
{
    size_t n = strlen(s);
    char *out = malloc(n + 1), *o = out;
    static const char shape[] = "dddd-dd-ddTdd:dd:dd.ddddddZ\"";
    const size_t k = sizeof(shape) - 1;
    for (size_t i = 0; i < n;) {
        bool match = s[i] == '"' && i + 1 + k <= n;
        for (size_t j = 0; match && j < k; j++) {
            char c = s[i + 1 + j];
            match = shape[j] == 'd' ? (c >= '0' && c <= '9') : c == shape[j];
        }
        if (match) {
            memcpy(o, "\"T\"", 3);
            o += 3;
            i += 1 + k;
        } else {
            *o++ = s[i++];
        }
    }
    *o = '\0';
    return out;
}

/* "VERB ARG -> CODE" per exchange record, one a line: the dialogue without anything else. */
static char *exchanges(const char *jsonl)
{
    size_t cap = strlen(jsonl) + 1, used = 0;
    char *out = malloc(cap);
    out[0] = '\0';
    for (const char *line = jsonl; *line;) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        char *l = strndup(line, len);
        if (strstr(l, "\"type\":\"exchange\"")) {
            const char *c = strstr(l, "\"command\":"), *r = strstr(l, ",\"reply\":");
            const char *code = r ? strstr(r, "\"code\":") : NULL;
            int cl = c && r && r > c ? (int)(r - c - 10) : 0;
            used += (size_t)snprintf(out + used, cap - used, "%.*s -> %.3s\n", cl, c ? c + 10 : "",
                                     code ? code + 7 : "---");
        }
        free(l);
        line += len + (end ? 1 : 0);
    }
    return out;
}

static char *offline_json(const char *pcap, const char *bpf)
{
    char cmd[1024];
    snprintf(cmd, sizeof(cmd), "'%s' --json -r '%s' '%s' > '%s' 2>/dev/null", SMTPSNIFF_BIN, pcap, bpf,
             tpath("offline.jsonl"));
    int st = system(cmd);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "offline run failed: %s", cmd);
    char *s = keep(tu_read_file(tpath("offline.jsonl"), NULL));
    cr_assert(s && *s, "offline run printed nothing: %s", cmd);
    return s;
}

/* The live records must be the offline records, times aside. */
static void assert_same_records(const char *live, const char *offline)
{
    char *lx = keep(exchanges(live)), *ox = keep(exchanges(offline));
    cr_assert(*ox, "offline run has no exchange record");
    cr_expect_str_eq(lx, ox, "live exchanges differ from offline:\n--- live\n%s--- offline\n%s", lx, ox);
    char *ls = keep(strip_times(live)), *os = keep(strip_times(offline));
    cr_expect_str_eq(ls, os, "live JSON records differ from offline (times ignored)");
}

/* Runs python3 on the summary: it must parse as JSON and make `cond` (a Python expression
 * about `d`, passed in the environment to spare quoting) true. */
static void assert_summary(const char *path, const char *cond)
{
    static const char script[] = "import json, os, sys\n"
                                 "d = json.load(open(sys.argv[1], 'rb'))\n"
                                 "sys.exit(0 if eval(os.environ['SMTPSNIFF_TEST_COND']) else 3)\n";
    FILE *f = fopen(tpath("check.py"), "w");
    cr_assert_not_null(f);
    fputs(script, f);
    fclose(f);
    setenv("SMTPSNIFF_TEST_COND", cond, 1);
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "python3 '%s' '%s' 2>'%s'", tpath("check.py"), path, tpath("python.err"));
    int st = system(cmd);
    char *err = keep(tu_read_file(tpath("python.err"), NULL));
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) != 1, "%s is not valid JSON: %s", path, err ? err : "");
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "%s: not true: %s (python: %s)", path, cond,
              err ? err : "");
}

/* No FILE.XXXXXX left beside the summary: the temporary file was renamed or removed. */
static void assert_no_temp_left(const char *summary_name)
{
    DIR *d = opendir(T.dir);
    cr_assert_not_null(d);
    size_t n = strlen(summary_name);
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        cr_expect(!(strncmp(e->d_name, summary_name, n) == 0 && e->d_name[n] == '.'),
                  "temporary summary file left behind: %s/%s", T.dir, e->d_name);
    closedir(d);
}

static int open_out(const char *name)
{
    int fd = open(tpath(name), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    cr_assert(fd >= 0, "%s: %s", tpath(name), strerror(errno));
    return fd;
}

/* ---- the tests ----------------------------------------------------------------------------- */

/* The timeout guards against a hang; it includes the wait for the lock, which another copy
 * of this suite may hold for a few tests. */
TestSuite(live, .init = setup, .fini = teardown, .timeout = 300);

/* The readiness line is tcpdump's, from the active handle: lo is Ethernet to libpcap, the
 * snapshot length is CAP_SNAPLEN. -q (one line per session) does not suppress it, as tcpdump's
 * -q does not. Nothing else is on stderr until the end. */
Test(live, listening_line)
{
    require_live();
    int out = open_out("live.txt");
    const char *argv[] = {SMTPSNIFF_BIN, "-i", "lo", "--no-promisc", "-q", "--ports", "9",
                          "tcp port 9 and tcp port 1", NULL};
    start_sniffer(argv, out);
    close(out);
    wait_capturing();
    char *err = keep(tu_read_file(tpath("stderr"), NULL));
    char want[160];
    snprintf(want, sizeof(want), "%sEN10MB (Ethernet), snapshot length %d bytes\n", LISTENING, CAP_SNAPLEN);
    cr_expect_str_eq(err, want, "stderr once listening");
    cr_assert(kill(T.child, SIGINT) == 0);
    assert_exit_0(wait_exit(EXIT_MS, "SIGINT"));
    err = keep(tu_read_file(tpath("stderr"), NULL));
    cr_expect(strncmp(err, want, strlen(want)) == 0 && strstr(err, " dropped by kernel"),
              "stderr at exit: the listening line, then the drop counts:\n%s", err);
}

/* -c 1: one session replayed, smtpsniff stops by itself when it ends. */
Test(live, replay_basic_count)
{
    require_live();
    take_lock();
    const char *bpf = "host 127.0.0.1 and tcp port 60642";
    int out = open_out("live.jsonl");
    const char *argv[] = {SMTPSNIFF_BIN,
                          "-i",
                          "lo",
                          "--no-promisc",
                          "--json",
                          "--summary",
                          tpath("summary.json"),
                          "--ports",
                          "25,465,587",
                          "-c",
                          "1",
                          bpf,
                          NULL};
    start_sniffer(argv, out);
    close(out);
    wait_capturing();
    replay(PCAPS "postfix-basic.pcap");
    assert_exit_0(wait_exit(EXIT_MS, "the replay (-c 1)"));

    char *live = keep(tu_read_file(tpath("live.jsonl"), NULL));
    char *offline = offline_json(PCAPS "postfix-basic.pcap", bpf);
    assert_same_records(live, offline);
    assert_summary(tpath("summary.json"),
                   "d['capture']['live'] is True and d['capture']['sources'] == ['lo'] and "
                   "d['capture']['pcap_stats'] is not None and d['capture']['packets'] == 21 and "
                   "d['sessions']['total'] == 1 and d['sessions']['ended'] == 1 and "
                   "d['sessions']['by_end_reason']['close'] == 1 and d['replies']['total'] == 7 and "
                   "d['transactions']['by_status']['accepted'] == 1");
    assert_no_temp_left("summary.json");
}

/* -c 2 over two sessions with rejections, one ended by RST: same dialogue as offline. */
Test(live, replay_rejects_count)
{
    require_live();
    take_lock();
    const char *bpf = "host 127.0.0.1 and (tcp port 41890 or tcp port 41906)";
    int out = open_out("live.jsonl");
    const char *argv[] = {SMTPSNIFF_BIN,
                          "-i",
                          "lo",
                          "--no-promisc",
                          "--json",
                          "--summary",
                          tpath("summary.json"),
                          "--ports",
                          "25,465,587",
                          "-c",
                          "2",
                          bpf,
                          NULL};
    start_sniffer(argv, out);
    close(out);
    wait_capturing();
    replay(PCAPS "postfix-rejects.pcap");
    assert_exit_0(wait_exit(EXIT_MS, "the replay (-c 2)"));

    char *live = keep(tu_read_file(tpath("live.jsonl"), NULL));
    char *offline = offline_json(PCAPS "postfix-rejects.pcap", bpf);
    assert_same_records(live, offline);
    assert_summary(
        tpath("summary.json"),
        "d['capture']['live'] is True and d['sessions']['total'] == 2 and "
        "d['sessions']['by_end_reason']['close'] == 1 and d['sessions']['by_end_reason']['reset'] == 1 and "
        "d['replies']['by_class']['5xx'] == 11 and d['failed_deliveries']['total'] == 2 and "
        "all(r['recipient'] == 'nosuchuser@example.org' for r in d['failed_deliveries']['rows'])");
    assert_no_temp_left("summary.json");
}

/* SIGINT after the session ended: exit 0, complete summary, no temporary file left. */
static void stop_after_session(int sig, const char *summary_name, const char *cond)
{
    require_live();
    take_lock();
    int out = open_out("live.jsonl");
    const char *argv[] = {
        SMTPSNIFF_BIN,    "-i", "lo", "--no-promisc", "--json", "--summary", tpath(summary_name),
        "host 127.0.0.1 and tcp port 60642", NULL};
    start_sniffer(argv, out);
    close(out);
    wait_capturing();
    replay(PCAPS "postfix-basic.pcap");
    wait_for_output(tpath("live.jsonl"), "\"type\":\"session\"", 1);
    cr_assert(kill(T.child, sig) == 0);
    assert_exit_0(wait_exit(EXIT_MS, sig == SIGINT ? "SIGINT" : "SIGTERM"));

    char *live = keep(tu_read_file(tpath("live.jsonl"), NULL));
    char *offline = offline_json(PCAPS "postfix-basic.pcap", "host 127.0.0.1 and tcp port 60642");
    assert_same_records(live, offline);
    assert_summary(tpath(summary_name), cond);
    assert_no_temp_left(summary_name);
}

Test(live, sigint_writes_summary)
{
    stop_after_session(SIGINT, "summary.json",
                       "d['capture']['live'] is True and d['sessions']['total'] == 1 and "
                       "d['sessions']['ended'] == 1 and d['sessions']['open'] == 0 and "
                       "d['commands']['by_verb']['EHLO'] == 1 and d['transactions']['messages'] == 1");
}

Test(live, sigterm_writes_summary)
{
    stop_after_session(SIGTERM, "summary.json",
                       "d['capture']['live'] is True and d['sessions']['total'] == 1 and "
                       "d['sessions']['by_end_reason']['close'] == 1");
}

/* SIGTERM in the middle of a session (the first half of postfix-basic): the open session and
 * its transaction end as "end of input", in the JSON records and in the summary. */
Test(live, sigterm_mid_session)
{
    require_live();
    take_lock();
    int out = open_out("live.jsonl");
    const char *argv[] = {
        SMTPSNIFF_BIN,    "-i", "lo", "--no-promisc", "--json", "--summary", tpath("s.json"),
        "host 127.0.0.1 and tcp port 60642", NULL};
    start_sniffer(argv, out);
    close(out);
    wait_capturing();
    replay(PCAPS "postfix-basic-split-1.pcap");
    wait_for_output(tpath("live.jsonl"), "\"verb\":\"MAIL\"", 1);
    cr_assert(kill(T.child, SIGTERM) == 0);
    assert_exit_0(wait_exit(EXIT_MS, "SIGTERM"));

    char *live = keep(tu_read_file(tpath("live.jsonl"), NULL));
    char *offline = offline_json(PCAPS "postfix-basic-split-1.pcap", "host 127.0.0.1 and tcp port 60642");
    assert_same_records(live, offline);
    cr_expect(strstr(live, "\"type\":\"session\"") && strstr(live, "\"end_reason\":\"end of input\""),
              "the open session must end as \"end of input\":\n%s", live);
    assert_summary(tpath("s.json"), "d['sessions']['total'] == 1 and d['sessions']['ended'] == 1 and "
                                    "d['sessions']['by_end_reason']['end of input'] == 1 and "
                                    "d['transactions']['by_status']['incomplete'] == 1");
    assert_no_temp_left("s.json");
}

/* Text summary on SIGINT with nothing captured: a complete report, zero sessions. */
Test(live, sigint_idle_text_summary)
{
    require_live();
    int out = open_out("live.txt");
    /* port 9 (discard): nothing on this machine speaks SMTP there */
    const char *argv[] = {SMTPSNIFF_BIN,
                          "-i",
                          "lo",
                          "--no-promisc",
                          "--ports",
                          "9",
                          "--summary",
                          tpath("summary.txt"),
                          "tcp port 9 and tcp port 1",
                          NULL};
    start_sniffer(argv, out);
    close(out);
    wait_capturing();
    cr_assert(kill(T.child, SIGINT) == 0);
    assert_exit_0(wait_exit(EXIT_MS, "SIGINT"));
    char *txt = keep(tu_read_file(tpath("summary.txt"), NULL));
    cr_assert_not_null(txt, "no summary written on SIGINT; stderr: %s", child_err());
    cr_expect(strncmp(txt, "smtpsniff summary\n", 18) == 0, "not a text summary:\n%s", txt);
    cr_expect(strstr(txt, "\nFailed deliveries\n") != NULL, "text summary cut short:\n%s", txt);
    const char *live = strstr(txt, "\n  live ");
    cr_expect(live && strncmp(live + strcspn(live + 1, "\n") - 2, "yes", 3) == 0, "live not reported:\n%s",
              txt);
    char *feed = keep(tu_read_file(tpath("live.txt"), NULL));
    cr_expect_str_empty(feed, "nothing captured, yet the feed printed:\n%s", feed);
    assert_no_temp_left("summary.txt");
}

/* --duration on a quiet interface: smtpsniff must stop on time without any packet. */
Test(live, duration_idle)
{
    require_live();
    int out = open_out("live.txt");
    const char *argv[] = {SMTPSNIFF_BIN,
                          "-i",
                          "lo",
                          "--no-promisc",
                          "--ports",
                          "9",
                          "--duration",
                          "2",
                          "--summary",
                          tpath("summary.json"),
                          "tcp port 9 and tcp port 1",
                          NULL};
    long t0 = now_ms();
    start_sniffer(argv, out);
    close(out);
    assert_exit_0(wait_exit(EXIT_MS, "--duration 2 on a quiet interface"));
    long took = now_ms() - t0;
    cr_expect(took >= 1500, "--duration 2 stopped after %ld ms", took);
    assert_summary(tpath("summary.json"), "d['capture']['live'] is True and d['sessions']['total'] == 0");
}

/* stdout is a pipe: every record must reach the reader as it happens (before any signal),
 * and SIGINT must not lose or add any. */
Test(live, pipe_flushed_before_sigint)
{
    require_live();
    take_lock();
    int p[2];
    cr_assert(pipe2(p, O_CLOEXEC) == 0);
    const char *argv[] = {
        SMTPSNIFF_BIN, "-i", "lo", "--no-promisc", "--json", "host 127.0.0.1 and tcp port 60642", NULL};
    start_sniffer(argv, p[1]);
    close(p[1]);
    wait_capturing();
    replay(PCAPS "postfix-basic.pcap");
    char *offline = offline_json(PCAPS "postfix-basic.pcap", "host 127.0.0.1 and tcp port 60642");
    size_t want = strlen(offline);

    size_t cap = 2 * want + 4096, got = 0;
    char *buf = keep(calloc(1, cap + 1));
    long deadline = now_ms() + OUTPUT_MS;
    bool eof = false;
    while (got < want && !eof && now_ms() < deadline) {
        struct pollfd pfd = {.fd = p[0], .events = POLLIN};
        if (poll(&pfd, 1, 100) > 0) {
            ssize_t k = read(p[0], buf + got, cap - got);
            eof = k <= 0;
            got += k > 0 ? (size_t)k : 0;
        }
    }
    cr_assert(!eof, "stdout closed before SIGINT; stderr: %s", child_err());
    cr_assert(got >= want, "only %zu of %zu bytes reached the pipe before SIGINT:\n%.*s", got, want, (int)got,
              buf);

    cr_assert(kill(T.child, SIGINT) == 0);
    for (deadline = now_ms() + EXIT_MS; !eof && got < cap && now_ms() < deadline;) {
        struct pollfd pfd = {.fd = p[0], .events = POLLIN};
        if (poll(&pfd, 1, 100) > 0) {
            ssize_t k = read(p[0], buf + got, cap - got);
            eof = k <= 0;
            got += k > 0 ? (size_t)k : 0;
        }
    }
    close(p[0]);
    assert_exit_0(wait_exit(EXIT_MS, "SIGINT"));
    buf[got] = '\0';
    assert_same_records(buf, offline);
}
