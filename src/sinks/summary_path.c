/* summary_path.c - where the summary goes: the path resolved one component at a time so that a
 * symlink another user may have planted is not followed, refused when it names an input, checked
 * at start-up, and written atomically (or into a device, a FIFO, or stdout's or stderr's stream). */
#define _GNU_SOURCE /* O_PATH */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sinks/sink_fmt.h"
#include "sinks/summary_state.h"

#define SM_MAX_LINKS 40 /* symlinks followed in one path, as the kernel's MAXSYMLINKS */

/* The summary's place once every symlink is followed: a directory and a name in it. */
struct sm_place {
    int dir; /* O_PATH descriptor */
    char name[NAME_MAX + 1];
    bool exists;
    struct stat st; /* what is there (not a symlink), when it exists */
};

/* A symlink refused, for the message. */
struct sm_refused {
    char link[NAME_MAX + 1];
    unsigned long owner;
};

/* A symlink is followed only if the invoking user (the real uid) or root owns it, or no one else
 * can write the directory it sits in; otherwise another user may have planted it (the /tmp attack
 * on root: like fs.protected_symlinks, but for every directory others can write). */
static bool sm_link_trusted(const struct stat *link, const struct stat *dir)
{
    uid_t me = getuid();
    if (link->st_uid == me || link->st_uid == 0)
        return true;
    return (dir->st_uid == me || dir->st_uid == 0) && (dir->st_mode & (S_IWGRP | S_IWOTH)) == 0;
}

/* The next component of *rest into comp (slashes skipped); *last: nothing follows, not even a
 * slash ("dir/" names a directory). Returns 1, 0 at the end, -1 (ENAMETOOLONG). */
static int sm_next_comp(const char **rest, char comp[NAME_MAX + 1], bool *last)
{
    const char *p = *rest + strspn(*rest, "/");
    if (*p == '\0')
        return 0;
    size_t n = strcspn(p, "/");
    if (n > NAME_MAX) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(comp, p, n);
    comp[n] = '\0';
    *rest = p + n;
    *last = **rest == '\0';
    return 1;
}

/* Steps through the symlink fd (in dir): its target goes in front of what is left of the path
 * (buf, from rest on). Returns the directory to go on from: dir itself, or "/" opened anew for an
 * absolute target; -1 on error. */
static int sm_follow(int dir, int fd, const struct stat *lst, char *buf, size_t size, const char **rest,
                     struct sm_refused *why)
{
    struct stat dst;
    char target[PATH_MAX];
    if (fstat(dir, &dst) != 0)
        return -1;
    if (!sm_link_trusted(lst, &dst)) {
        why->owner = (unsigned long)lst->st_uid;
        errno = EACCES;
        return -1;
    }
    ssize_t n = readlinkat(fd, "", target, sizeof(target) - 1);
    if (n < 0)
        return -1;
    target[n] = '\0';
    char joined[2 * PATH_MAX];
    if ((size_t)snprintf(joined, sizeof(joined), "%s%s", target, *rest) >= size) { /* rest: "" or "/..." */
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(buf, joined, strlen(joined) + 1);
    *rest = buf;
    return target[0] == '/' ? open("/", O_PATH | O_DIRECTORY | O_CLOEXEC) : dir;
}

/* Opens the next component; a missing last one is a new file (pl->exists false). Returns 1 when pl
 * is filled, 0 to go on (with *dir the next directory), -1 on error. */
static int sm_step(int *dir, const char *comp, bool last, char *buf, size_t size, const char **rest,
                   int *links, struct sm_place *pl, struct sm_refused *why)
{
    int fd = openat(*dir, comp, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    struct stat st;
    if (fd < 0 && errno == ENOENT && last) {
        pl->exists = false;
        return 1;
    }
    if (fd < 0 || fstat(fd, &st) != 0)
        goto fail;
    if (S_ISLNK(st.st_mode)) {
        snprintf(why->link, sizeof(why->link), "%s", comp);
        if (++*links > SM_MAX_LINKS) {
            errno = ELOOP;
            goto fail;
        }
        int next = sm_follow(*dir, fd, &st, buf, size, rest, why);
        if (next < 0)
            goto fail;
        if (next != *dir)
            close(*dir);
        *dir = next;
        close(fd);
        return 0;
    }
    if (last) {
        pl->exists = true;
        pl->st = st;
        close(fd);
        return 1;
    }
    if (!S_ISDIR(st.st_mode)) {
        errno = ENOTDIR;
        goto fail;
    }
    close(*dir);
    *dir = fd;
    return 0;
fail:;
    int e = errno;
    if (fd >= 0)
        close(fd);
    errno = e;
    return -1;
}

/* Resolves path as the kernel would, one component at a time, so that each symlink met can be
 * judged by who owns it and where it sits. Returns 0 with pl->dir open, or -1 with errno (EACCES
 * and why->owner set for a refused symlink). */
static int sm_resolve(const char *path, struct sm_place *pl, struct sm_refused *why)
{
    char buf[PATH_MAX], comp[NAME_MAX + 1];
    memset(why, 0, sizeof(*why));
    pl->dir = -1;
    why->owner = (unsigned long)-1;
    if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    int dir = open(path[0] == '/' ? "/" : ".", O_PATH | O_DIRECTORY | O_CLOEXEC), links = 0, got = 0;
    const char *rest = buf;
    bool last = false;
    while (dir >= 0 && (got = sm_next_comp(&rest, comp, &last)) > 0) {
        int rc = sm_step(&dir, comp, last, buf, sizeof(buf), &rest, &links, pl, why);
        if (rc == 0)
            continue;
        if (rc > 0) {
            pl->dir = dir;
            snprintf(pl->name, sizeof(pl->name), "%s", comp);
            return 0;
        }
        break;
    }
    int e = errno;
    if (dir >= 0 && got == 0)
        e = path[0] ? EISDIR : ENOENT; /* "/", "dir/.." ...: no name left to write */
    if (dir >= 0)
        close(dir);
    errno = e;
    return -1;
}

/* ---- writing ---- */

/* NAME.XXXXXX beside name, created 0600 whatever the umask: a summary holds addresses and user
 * names. O_EXCL and O_NOFOLLOW: nothing planted under that name is opened. */
static int sm_create_temp(int dir, const char *name, char tmp[NAME_MAX + 1])
{
    static const char az[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    size_t n = strlen(name);
    if (n + 7 > NAME_MAX) {
        errno = ENAMETOOLONG;
        return -1;
    }
    for (int tries = 0; tries < 100; tries++) {
        unsigned char r[6];
        if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
            return -1;
        memcpy(tmp, name, n);
        tmp[n] = '.';
        for (size_t i = 0; i < sizeof(r); i++)
            tmp[n + 1 + i] = az[r[i] % (sizeof(az) - 1)];
        tmp[n + 7] = '\0';
        int fd = openat(dir, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd >= 0 && fchmod(fd, 0600) == 0)
            return fd;
        if (fd >= 0) {
            int e = errno;
            close(fd);
            unlinkat(dir, tmp, 0);
            errno = e;
            return -1;
        }
        if (errno != EEXIST)
            return -1;
    }
    errno = EEXIST;
    return -1;
}

/* The replaced file's owner and mode carry over (root rewriting an operator's summary must not
 * leave it root's, nor make it readable by more people). Set-id bits only with the owner kept. */
static int sm_keep_attrs(int fd, const struct stat *old)
{
    struct stat now;
    if (fstat(fd, &now) != 0)
        return -1;
    mode_t mode = old->st_mode & 07777;
    if ((now.st_uid != old->st_uid || now.st_gid != old->st_gid) && fchown(fd, old->st_uid, old->st_gid) != 0) {
        mode &= 0777;
        (void)fchown(fd, (uid_t)-1, old->st_gid); /* not root: keep the group if we are in it */
    }
    return fchmod(fd, mode);
}

/* Make the rename durable; a failure here loses nothing already written, so it is not reported. */
static void sm_sync_dir(int dir)
{
    int fd = openat(dir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
}

/* A temporary file beside the summary, written and fsynced, renamed over it. */
static int sm_write_atomic(const struct sm_place *pl, const char *p, size_t n)
{
    char tmp[NAME_MAX + 1];
    int fd = sm_create_temp(pl->dir, pl->name, tmp);
    if (fd < 0)
        return -1;
    int rc = (!pl->exists || sm_keep_attrs(fd, &pl->st) == 0) && sink_write_all(fd, p, n) == 0 && fsync(fd) == 0
                 ? 0
                 : -1;
    int e = errno;
    if (close(fd) != 0 && rc == 0) {
        rc = -1;
        e = errno;
    }
    if (rc == 0 && renameat(pl->dir, tmp, pl->dir, pl->name) == 0) {
        sm_sync_dir(pl->dir);
        return 0;
    }
    e = rc == 0 ? errno : e;
    unlinkat(pl->dir, tmp, 0);
    errno = e;
    return -1;
}

/* Into what is there: a device or a FIFO. Renaming over a device would put a regular file in
 * place of /dev/null (as root). */
static int sm_write_in_place(const struct sm_place *pl, const char *p, size_t n)
{
    int fd = openat(pl->dir, pl->name, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = sink_write_all(fd, p, n);
    int e = errno;
    if (close(fd) != 0 && rc == 0) {
        rc = -1;
        e = errno;
    }
    errno = e;
    return rc;
}

/* stdout or stderr, if the summary file is the one it writes to (--summary /dev/stdout, or
 * `> FILE` with FILE): renaming over it would cut off what the stream has written. */
static FILE *sm_own_stream(const struct stat *st)
{
    struct stat o;
    if (fstat(STDOUT_FILENO, &o) == 0 && o.st_dev == st->st_dev && o.st_ino == st->st_ino)
        return stdout;
    if (fstat(STDERR_FILENO, &o) == 0 && o.st_dev == st->st_dev && o.st_ino == st->st_ino)
        return stderr;
    return NULL;
}

/* stdout's or stderr's own file: nothing is opened, the summary goes through the stream (the
 * kernel resolves the path here: only its identity is compared). */
static FILE *sm_own_stream_at(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? sm_own_stream(&st) : NULL;
}

int sm_write_file(const char *path, const char *p, size_t n)
{
    FILE *own = sm_own_stream_at(path);
    if (own)
        return fwrite(p, 1, n, own) == n && fflush(own) == 0 ? 0 : -1;
    struct sm_place pl;
    struct sm_refused why;
    if (sm_resolve(path, &pl, &why) != 0)
        return -1;
    int rc = -1;
    if (!pl.exists || S_ISREG(pl.st.st_mode))
        rc = sm_write_atomic(&pl, p, n);
    else if (S_ISDIR(pl.st.st_mode))
        errno = EISDIR;
    else
        rc = sm_write_in_place(&pl, p, n);
    int e = errno;
    close(pl.dir);
    errno = e;
    return rc;
}

/* ---- the start-up check ---- */

/* The input that is the same file as st: -r FILE by the file it names, -r - by what fd 0 is. */
static const char *sm_input_clash(const struct stat *st, const char *const *inputs, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        struct stat in;
        bool is_stdin = strcmp(inputs[i], "-") == 0;
        if ((is_stdin ? fstat(STDIN_FILENO, &in) : stat(inputs[i], &in)) == 0 && in.st_dev == st->st_dev &&
            in.st_ino == st->st_ino)
            return is_stdin ? "standard input (-r -)" : inputs[i];
    }
    return NULL;
}

/* What the write at exit will need: a temporary file beside a regular (or new) file can be made
 * and removed; a device or FIFO can be written. */
static int sm_probe(const struct sm_place *pl)
{
    if (pl->exists && S_ISDIR(pl->st.st_mode)) {
        errno = EISDIR;
        return -1;
    }
    if (pl->exists && !S_ISREG(pl->st.st_mode))
        return faccessat(pl->dir, pl->name, W_OK, AT_EACCESS);
    char tmp[NAME_MAX + 1];
    int fd = sm_create_temp(pl->dir, pl->name, tmp);
    if (fd < 0)
        return -1;
    close(fd);
    return unlinkat(pl->dir, tmp, 0);
}

int summary_check_path(const char *path, const char *const *inputs, unsigned n, char *err, size_t errlen)
{
    struct stat st;
    const char *in = stat(path, &st) == 0 ? sm_input_clash(&st, inputs, n) : NULL;
    if (in) {
        snprintf(err, errlen, "--summary %s is the input %s (the same file): it would be overwritten", path, in);
        return 2;
    }
    if (sm_own_stream_at(path))
        return 0;
    struct sm_place pl;
    struct sm_refused why;
    int rc = sm_resolve(path, &pl, &why) == 0 ? sm_probe(&pl) : -1;
    int e = errno;
    if (pl.dir >= 0)
        close(pl.dir);
    if (rc == 0)
        return 0;
    if (why.owner == (unsigned long)-1)
        snprintf(err, errlen, "%s: cannot write summary: %s", path, strerror(e));
    else
        snprintf(err, errlen,
                 "%s: cannot write summary: not following symlink '%s' (owner uid %lu) in a directory others "
                 "can write",
                 path, why.link, why.owner);
    return 1;
}
