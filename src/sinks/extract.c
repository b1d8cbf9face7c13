/* extract.c - --extract DIR: every message as DIR/messages/<session>-<transaction>.eml, every
 * decoded MIME leaf as DIR/files/<sha256> (stored once however often it is seen), and
 * DIR/index.jsonl, one record per message.
 *
 * Safe by construction: no name comes from the wire (names are session and transaction
 * numbers, and hashes); DIR and its subfolders are opened without following symlinks and
 * created 0700, and refused when another user owns them or can write into them; files are created 0600 under a temporary name and renamed into place, so a
 * file in the index is always whole; --extract-max-bytes bounds what is written. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/json.h"
#include "lib/xalloc.h"
#include "sinks/sink_fmt.h"
#include "sinks/sinks.h"

struct extract {
    struct smtp_sink sink; /* sink.ctx points back here */
    const struct smtp_sink *report; /* where our notices go (the tee) */
    int dir, messages, files, index;
    uint64_t max_bytes, tmp_serial;
    struct extract_stats st;
    struct strbuf rec;
};

/* Write n bytes to dirfd/name through a temporary file renamed into place. */
static int store(struct extract *X, int dirfd, const char *name, const uint8_t *p, size_t n)
{
    char tmp[64];
    snprintf(tmp, sizeof(tmp), ".tmp.%ld.%llu", (long)getpid(), (unsigned long long)++X->tmp_serial);
    int fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    int rc = sink_write_all(fd, p, n);
    if (close(fd) != 0)
        rc = -1;
    if (rc == 0 && renameat(dirfd, tmp, dirfd, name) == 0)
        return 0;
    unlinkat(dirfd, tmp, 0);
    return -1;
}

static void notice(struct extract *X, const struct smtp_session_info *s, enum smtp_notice_id id,
                   const struct timeval *ts, const char *what, uint64_t n)
{
    if (!X->report || !X->report->notice)
        return;
    struct smtp_notice no = {.id = id, .dir = SMTP_DIR_CLIENT, .ts = *ts};
    if (id == SMTP_NOTICE_EXTRACT_LIMIT)
        snprintf(no.detail, sizeof(no.detail), "%s of %llu bytes not written: --extract-max-bytes %llu reached",
                 what, (unsigned long long)n, (unsigned long long)X->max_bytes);
    else
        snprintf(no.detail, sizeof(no.detail), "%s of %llu bytes not written: %s", what,
                 (unsigned long long)n, strerror(errno));
    X->report->notice(X->report->ctx, s, &no);
}

/* Store one object within the byte budget; returns 0 when it is on disk. */
static int put(struct extract *X, const struct smtp_session_info *s, const struct timeval *ts, int dirfd,
               const char *name, const char *what, const uint8_t *p, size_t n)
{
    if (X->st.bytes_written + n > X->max_bytes) {
        X->st.limit_hits++;
        notice(X, s, SMTP_NOTICE_EXTRACT_LIMIT, ts, what, n);
        return -1;
    }
    if (store(X, dirfd, name, p, n) != 0) {
        X->st.errors++;
        notice(X, s, SMTP_NOTICE_EXTRACT_ERROR, ts, what, n);
        return -1;
    }
    X->st.bytes_written += n;
    return 0;
}

static void envelope(struct strbuf *sb, const struct smtp_transaction *t)
{
    SB_LIT(sb, ",\"mail_from\":");
    if (t->have_mail_from)
        json_cstr(sb, t->mail_from);
    else
        json_null(sb);
    SB_LIT(sb, ",\"rcpt_to\":");
    content_json_rcpts(sb, t, false);
    SB_LIT(sb, ",\"data_reply\":");
    content_json_data_reply(sb, t);
    SB_LIT(sb, ",\"status\":");
    json_cstr(sb, smtp_txn_status_name(t->status));
}

static void index_record(struct extract *X, const struct smtp_session_info *s, const struct smtp_transaction *t,
                         const char *eml, const char *smuggled, const char *const *stored)
{
    const struct content_message *cm = t->content;
    struct strbuf *sb = &X->rec;
    sb_reset(sb);
    SB_LIT(sb, "{\"session\":");
    json_u64(sb, s->id);
    SB_LIT(sb, ",\"transaction\":");
    json_u64(sb, t->depth);
    SB_LIT(sb, ",\"client\":");
    content_json_endpoint(sb, &s->client);
    SB_LIT(sb, ",\"server\":");
    content_json_endpoint(sb, &s->server);
    SB_LIT(sb, ",\"session_start\":");
    json_time(sb, &s->start);
    SB_LIT(sb, ",\"ts\":");
    json_time(sb, &t->ts);
    envelope(sb, t);
    sb_putc(sb, ',');
    content_json_message(sb, cm);
    JSON_KEY(sb, "eml");
    json_cstr(sb, eml); /* NULL: null */
    JSON_KEY(sb, "smuggled_eml");
    json_cstr(sb, smuggled);
    SB_LIT(sb, ",\"parts\":");
    content_json_parts(sb, cm, stored);
    SB_LIT(sb, "}\n");
    if (sink_write_all(X->index, (const uint8_t *)sb->p, sb->len) != 0) {
        X->st.errors++;
        notice(X, s, SMTP_NOTICE_EXTRACT_ERROR, &t->ts, "index record", sb->len);
    }
}

static void on_transaction(void *ctx, const struct smtp_session_info *s, const struct smtp_transaction *t)
{
    struct extract *X = ctx;
    const struct content_message *cm = t->content;
    if (cm == NULL)
        return; /* no content was sent */
    char name[64], smug[80], eml[96], smug_path[112];
    snprintf(name, sizeof(name), "%llu-%u.eml", (unsigned long long)s->id, t->depth);
    snprintf(eml, sizeof(eml), "messages/%s", name);
    bool have_eml = put(X, s, &t->ts, X->messages, name, "message", cm->eml, cm->eml_len) == 0;
    X->st.messages += have_eml;
    X->st.partial += have_eml && cm->partial;
    /* What a server that takes the first smuggling-style end would have read as a next message. */
    bool have_smug = false;
    if (cm->nsplits && cm->split[0].resume <= cm->eml_len && cm->nholes == 0) {
        snprintf(smug, sizeof(smug), "%llu-%u.smuggled.eml", (unsigned long long)s->id, t->depth);
        snprintf(smug_path, sizeof(smug_path), "messages/%s", smug);
        have_smug = put(X, s, &t->ts, X->messages, smug, "smuggled message", cm->eml + cm->split[0].resume,
                        cm->eml_len - cm->split[0].resume) == 0;
    }
    const char *stored[CONTENT_MAX_PARTS] = {0};
    char paths[CONTENT_MAX_PARTS][72];
    for (unsigned i = 0; i < cm->nparts && i < CONTENT_MAX_PARTS; i++) {
        const struct content_part *p = &cm->part[i];
        if (!p->leaf)
            continue;
        snprintf(paths[i], sizeof(paths[i]), "files/%s", p->sha256);
        struct stat st;
        if (fstatat(X->files, p->sha256, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode)) {
            X->st.files_deduplicated++; /* content-addressed: seen before */
            stored[i] = paths[i];
        } else if (put(X, s, &t->ts, X->files, p->sha256, "MIME part", p->data, p->size) == 0) {
            X->st.files++;
            stored[i] = paths[i];
        }
    }
    index_record(X, s, t, have_eml ? eml : NULL, have_smug ? smug_path : NULL, stored);
}

/* A folder others could write into is refused: in messages/ or files/ another user could
 * replace a message, or plant files/<sha256> so that it is "seen before" and never written,
 * and the index would name their bytes. DIR itself may be a sticky directory such as /tmp
 * (nobody else can then remove what smtpsniff creates, and a planted messages/ or files/ fails
 * the owner check). */
static int check_owner(int fd, const char *path, bool sticky_ok, char *err, size_t errlen)
{
    struct stat st;
    if (fstat(fd, &st) != 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    if (st.st_uid != getuid() && st.st_uid != 0) {
        snprintf(err, errlen, "%s: owned by another user (uid %u): give a directory of your own", path,
                 (unsigned)st.st_uid);
        return -1;
    }
    if ((st.st_mode & (S_IWGRP | S_IWOTH)) && !(sticky_ok && (st.st_mode & S_ISVTX))) {
        snprintf(err, errlen, "%s: writable by other users (mode %04o): give a directory only you can write",
                 path, (unsigned)(st.st_mode & 07777));
        return -1;
    }
    return 0;
}

/* Open (creating 0700 if missing) a directory without following a symlink. */
static int open_dir(int at, const char *path, bool sticky_ok, char *err, size_t errlen)
{
    if (mkdirat(at, path, 0700) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "%s: cannot create directory: %s", path, strerror(errno));
        return -1;
    }
    int fd = openat(at, path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd >= 0 && check_owner(fd, path, sticky_ok, err, errlen) != 0) {
        close(fd);
        return -1;
    }
    if (fd >= 0)
        return fd;
    int e = errno;
    struct stat st;
    if ((e == ELOOP || e == ENOTDIR) && fstatat(at, path, &st, AT_SYMLINK_NOFOLLOW) == 0)
        snprintf(err, errlen, "%s: %s", path,
                 S_ISLNK(st.st_mode) ? "is a symlink, not followed: give the directory itself" : "not a directory");
    else
        snprintf(err, errlen, "%s: %s", path, strerror(e));
    return -1;
}

struct smtp_sink *extract_new(const struct extract_opts *o, char *err, size_t errlen)
{
    struct extract *X = xcalloc(1, sizeof(*X));
    X->dir = X->messages = X->files = X->index = -1;
    X->max_bytes = o->max_bytes;
    X->dir = open_dir(AT_FDCWD, o->dir, true, err, errlen);
    if (X->dir >= 0 && (X->messages = open_dir(X->dir, "messages", false, err, errlen)) >= 0 &&
        (X->files = open_dir(X->dir, "files", false, err, errlen)) >= 0) {
        X->index = openat(X->dir, "index.jsonl", O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (X->index < 0)
            snprintf(err, errlen, "%s/index.jsonl: %s", o->dir,
                     errno == EEXIST ? "exists: the directory holds an earlier extraction; give a new one"
                                     : strerror(errno));
    }
    if (X->index < 0) {
        if (X->dir >= 0 && X->files < 0) { /* a subfolder's message: say where it is */
            char sub[512];
            snprintf(sub, sizeof(sub), "%s", err);
            snprintf(err, errlen, "%s/%s", o->dir, sub);
        }
        extract_free(&X->sink);
        return NULL;
    }
    sb_init(&X->rec, 1u << 20);
    X->sink = (struct smtp_sink){.ctx = X, .transaction = on_transaction};
    return &X->sink;
}

void extract_set_report(struct smtp_sink *s, const struct smtp_sink *report)
{
    struct extract *X = s->ctx;
    X->report = report;
}

void extract_get_stats(const struct smtp_sink *s, struct extract_stats *st)
{
    const struct extract *X = s->ctx;
    *st = X->st;
}

void extract_free(struct smtp_sink *s)
{
    if (s == NULL)
        return;
    struct extract *X = (struct extract *)s; /* sink is the first member: ctx may not be set yet */
    int fds[] = {X->dir, X->messages, X->files, X->index};
    for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
        if (fds[i] >= 0)
            close(fds[i]);
    sb_free(&X->rec);
    free(X);
}
