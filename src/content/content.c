/* content.c - the content stage: each message as the server received it (DATA content
 * dot-unstuffed, RFC 5321 4.5.2; BDAT chunks joined, RFC 3030), its holes, and its MIME parts
 * (GMime) with MD5/SHA-1/SHA-256 (libcrypto EVP) and the type sniffed from the bytes (libmagic).
 *
 * The SMTP core hands content bytes for the newest open transaction; the stage keeps them per
 * transaction and, when the core reports that transaction, parses and hashes the message and
 * passes the transaction on with `content` set. Every other record passes straight through. */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gmime/gmime.h>
#include <magic.h>
#include <openssl/evp.h>

#include "content/content.h"
#include "lib/strbuf.h"
#include "lib/xalloc.h"

#define CONTENT_BUCKETS 1024

/* One message in progress, keyed by its session and the core's transaction (stable until it is
 * reported; the session number keeps a pointer reused by another session from matching). */
struct msg {
    struct msg *next;
    const struct smtp_transaction *key;
    uint64_t session;
    uint8_t *buf; /* what was kept, holes left out */
    size_t len, cap;
    uint64_t size;     /* message bytes, holes included */
    bool line_start;   /* DATA: the next byte starts a line (a leading dot is stuffing) */
    bool tail_kept;    /* the last byte of the message so far is in buf */
    bool noticed;      /* content-not-kept raised for this message */
    unsigned nholes, holes_dropped;
    struct content_hole hole[CONTENT_MAX_HOLES];
};

/* Notices this stage (or the extraction writer) raised for a session: its session record counts
 * them with the core's. */
struct extra {
    struct extra *next;
    uint64_t session;
    unsigned notices;
};

struct content {
    struct smtp_sink sink;   /* sink.ctx points back here */
    struct smtp_sink report; /* notices raised after the core: counted, then handed on */
    struct extra *extra[CONTENT_BUCKETS];
    const struct smtp_sink *next;
    struct content_opts o;
    size_t kept; /* bytes in every msg buf */
    struct msg *bucket[CONTENT_BUCKETS];
    magic_t magic;
};

static size_t bucket_of(const struct smtp_transaction *t)
{
    return ((uintptr_t)t >> 4) % CONTENT_BUCKETS;
}

static struct msg **find_slot(struct content *C, uint64_t session, const struct smtp_transaction *t)
{
    struct msg **pp = &C->bucket[bucket_of(t)];
    while (*pp && ((*pp)->key != t || (*pp)->session != session))
        pp = &(*pp)->next;
    return pp;
}

static void msg_free(struct content *C, struct msg *m)
{
    C->kept -= m->cap;
    free(m->buf);
    free(m);
}

static void add_hole(struct msg *m, uint64_t n, enum content_hole_kind kind)
{
    if (m->nholes && m->hole[m->nholes - 1].kind == kind &&
        m->hole[m->nholes - 1].offset + m->hole[m->nholes - 1].len == m->size) {
        m->hole[m->nholes - 1].len += n; /* grows the hole just before */
    } else if (m->nholes < CONTENT_MAX_HOLES) {
        m->hole[m->nholes++] = (struct content_hole){.offset = m->size, .len = n, .kind = kind};
    } else {
        m->holes_dropped++;
    }
    m->size += n;
    m->tail_kept = false;
}

static struct extra **extra_slot(struct content *C, uint64_t session)
{
    struct extra **pp = &C->extra[session % CONTENT_BUCKETS];
    while (*pp && (*pp)->session != session)
        pp = &(*pp)->next;
    return pp;
}

static void on_report(void *ctx, const struct smtp_session_info *s, const struct smtp_notice *n)
{
    struct content *C = ctx;
    struct extra **pp = extra_slot(C, s->id);
    if (*pp == NULL) {
        *pp = xcalloc(1, sizeof(**pp));
        (*pp)->session = s->id;
    }
    (*pp)->notices++;
    if (C->next->notice)
        C->next->notice(C->next->ctx, s, n);
}

static void notice(struct content *C, const struct smtp_session_info *s, enum smtp_notice_id id,
                   const struct timeval *ts, const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void notice(struct content *C, const struct smtp_session_info *s, enum smtp_notice_id id,
                   const struct timeval *ts, const char *fmt, ...)
{
    struct smtp_notice n = {.id = id, .dir = SMTP_DIR_CLIENT, .ts = *ts};
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(n.detail, sizeof(n.detail), fmt, ap);
    va_end(ap);
    on_report(C, s, &n);
}

/* Keep n message bytes, or count them as not kept past a bound. */
static void keep(struct content *C, const struct smtp_session_info *s, struct msg *m, const uint8_t *p,
                 size_t n)
{
    if (m->len + n > m->cap) {
        size_t want = m->cap ? m->cap * 2 : 16384;
        while (want < m->len + n)
            want *= 2;
        if (want > C->o.max_message)
            want = C->o.max_message;
        if (want < m->len + n || C->kept - m->cap + want > C->o.memcap) {
            if (!m->noticed) {
                m->noticed = true;
                notice(C, s, SMTP_NOTICE_CONTENT_NOT_KEPT, &s->end,
                       "message bytes from offset %llu on are counted, not kept (%zu bytes per message, "
                       "%zu for all messages in progress)",
                       (unsigned long long)m->size, C->o.max_message, C->o.memcap);
            }
            add_hole(m, n, CONTENT_HOLE_LIMIT);
            return;
        }
        C->kept += want - m->cap;
        m->buf = xrealloc(m->buf, want);
        m->cap = want;
    }
    memcpy(m->buf + m->len, p, n);
    m->len += n;
    m->size += n;
    m->tail_kept = true;
}

static struct msg *msg_get(struct content *C, uint64_t session, const struct smtp_transaction *t)
{
    struct msg **pp = find_slot(C, session, t);
    if (*pp)
        return *pp;
    struct msg *m = xcalloc(1, sizeof(*m));
    m->key = t;
    m->session = session;
    m->line_start = true;
    *pp = m;
    return m;
}

static void on_content(void *ctx, const struct smtp_session_info *s, const struct smtp_transaction *t,
                       const uint8_t *p, size_t n)
{
    struct content *C = ctx;
    struct msg *m = msg_get(C, s->id, t);
    if (t->chunked) {
        keep(C, s, m, p, n);
        return;
    }
    /* RFC 5321 4.5.2: a line's leading dot was added by the client; the server removes it. */
    size_t i = 0;
    while (i < n) {
        if (m->line_start && p[i] == '.')
            i++;
        m->line_start = false;
        const uint8_t *lf = memchr(p + i, '\n', n - i);
        size_t end = lf ? (size_t)(lf - p) + 1 : n;
        keep(C, s, m, p + i, end - i);
        m->line_start = lf != NULL;
        i = end;
    }
}

static void on_content_gap(void *ctx, const struct smtp_session_info *s, const struct smtp_transaction *t,
                           uint64_t n)
{
    struct content *C = ctx;
    struct msg *m = msg_get(C, s->id, t);
    add_hole(m, n, CONTENT_HOLE_GAP);
    m->line_start = true; /* the core reads on from a line start too */
}

/* --- MIME ---------------------------------------------------------------------------------- */

static void hex(char *out, const unsigned char *md, unsigned n)
{
    static const char digits[] = "0123456789abcdef";
    for (unsigned i = 0; i < n; i++) {
        out[2 * i] = digits[md[i] >> 4];
        out[2 * i + 1] = digits[md[i] & 15];
    }
    out[2 * n] = '\0';
}

static void digest(const EVP_MD *type, const uint8_t *p, size_t n, char *out)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned len = 0;
    if (EVP_Digest(p, n, md, &len, type, NULL) != 1)
        len = 0;
    hex(out, md, len);
}

/* A printable copy of a string from the message (header values may hold any byte). */
static void copy_text(char *dst, size_t dsz, const char *src)
{
    if (src == NULL) {
        dst[0] = '\0';
        return;
    }
    esc_to_cstr(dst, dsz, (const uint8_t *)src, strlen(src));
}

static void lower(char *s)
{
    for (; *s; s++)
        *s = (char)tolower((unsigned char)*s);
}

static bool is_executable(const char *t)
{
    static const char *const exe[] = {"application/x-dosexec", "application/x-executable",
                                      "application/x-sharedlib", "application/x-pie-executable",
                                      "application/x-mach-binary", "application/vnd.microsoft.portable-executable",
                                      "application/x-msdownload"};
    for (size_t i = 0; i < sizeof(exe) / sizeof(exe[0]); i++)
        if (strcmp(t, exe[i]) == 0)
            return true;
    return false;
}

static size_t top_len(const char *t)
{
    const char *slash = strchr(t, '/');
    return slash ? (size_t)(slash - t) : strlen(t);
}

/* The declared type and the bytes disagree (docs/extract.md states the rule): an executable
 * declared as anything else; a PDF that is not one; or a different top-level type, where
 * neither side is a generic answer (octet-stream declared; octet-stream, empty or plain text
 * sniffed). */
static bool type_mismatch(const char *declared, const char *sniffed)
{
    if (sniffed[0] == '\0' || strcmp(declared, sniffed) == 0)
        return false;
    if (is_executable(sniffed))
        return !is_executable(declared);
    if (strcmp(declared, "application/pdf") == 0)
        return strcmp(sniffed, "application/pdf") != 0 && strcmp(sniffed, "inode/x-empty") != 0 &&
               strcmp(sniffed, "application/x-empty") != 0;
    if (strcmp(declared, "application/octet-stream") == 0 || strcmp(sniffed, "application/octet-stream") == 0 ||
        strcmp(sniffed, "inode/x-empty") == 0 || strcmp(sniffed, "application/x-empty") == 0 ||
        strcmp(sniffed, "text/plain") == 0)
        return false;
    size_t a = top_len(declared), b = top_len(sniffed);
    return a != b || strncmp(declared, sniffed, a) != 0;
}

struct walk {
    struct content *C;
    struct content_part *part;
    unsigned n, cap, dropped;
    GPtrArray *keep; /* decoded byte arrays, freed after the transaction is handed on */
};

static struct content_part *walk_add(struct walk *w)
{
    if (w->n == CONTENT_MAX_PARTS) {
        w->dropped++;
        return NULL;
    }
    if (w->n == w->cap) {
        unsigned cap = w->cap ? w->cap * 2 : 8;
        w->part = xrealloc(w->part, cap * sizeof(*w->part));
        w->cap = cap;
    }
    struct content_part *cp = &w->part[w->n++];
    memset(cp, 0, sizeof(*cp));
    return cp;
}

static void part_decode(struct walk *w, GMimePart *part, struct content_part *cp)
{
    GMimeDataWrapper *dw = g_mime_part_get_content(part);
    GMimeStream *out = g_mime_stream_mem_new();
    if (dw)
        g_mime_data_wrapper_write_to_stream(dw, out); /* undoes the transfer encoding */
    GByteArray *arr = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(out));
    g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(out), FALSE);
    g_object_unref(out);
    g_ptr_array_add(w->keep, arr);
    cp->data = arr->data;
    cp->size = arr->len;
    digest(EVP_md5(), arr->data, arr->len, cp->md5);
    digest(EVP_sha1(), arr->data, arr->len, cp->sha1);
    digest(EVP_sha256(), arr->data, arr->len, cp->sha256);
    const char *sniffed = magic_buffer(w->C->magic, arr->len ? arr->data : (const void *)"", arr->len);
    copy_text(cp->sniffed, sizeof(cp->sniffed), sniffed ? sniffed : "");
    cp->type_mismatch = type_mismatch(cp->type, cp->sniffed);
    GMimeContentEncoding enc = g_mime_part_get_content_encoding(part);
    if (enc != GMIME_CONTENT_ENCODING_DEFAULT)
        copy_text(cp->encoding, sizeof(cp->encoding), g_mime_content_encoding_to_string(enc));
    copy_text(cp->filename, sizeof(cp->filename), g_mime_part_get_filename(part));
}

static void walk(struct walk *w, GMimeObject *obj, const char *path, unsigned depth)
{
    struct content_part *cp = walk_add(w);
    if (cp == NULL)
        return;
    size_t idx = (size_t)(cp - w->part);
    snprintf(cp->path, sizeof(cp->path), "%s", path);
    cp->depth = depth;
    GMimeContentType *ct = g_mime_object_get_content_type(obj);
    char *type = ct ? g_mime_content_type_get_mime_type(ct) : NULL;
    copy_text(cp->type, sizeof(cp->type), type ? type : "text/plain");
    g_free(type);
    lower(cp->type);
    copy_text(cp->charset, sizeof(cp->charset), g_mime_object_get_content_type_parameter(obj, "charset"));
    copy_text(cp->disposition, sizeof(cp->disposition), g_mime_object_get_disposition(obj));
    lower(cp->disposition);
    if (depth >= CONTENT_MAX_DEPTH)
        return;
    char sub[sizeof(cp->path)];
    if (GMIME_IS_MULTIPART(obj)) {
        int n = g_mime_multipart_get_count(GMIME_MULTIPART(obj));
        for (int i = 0; i < n; i++) {
            snprintf(sub, sizeof(sub), "%s.%d", path, i + 1);
            walk(w, g_mime_multipart_get_part(GMIME_MULTIPART(obj), i), sub, depth + 1);
        }
    } else if (GMIME_IS_MESSAGE_PART(obj)) {
        GMimeMessage *inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(obj));
        GMimeObject *body = inner ? g_mime_message_get_mime_part(inner) : NULL;
        if (body) {
            snprintf(sub, sizeof(sub), "%s.1", path);
            walk(w, body, sub, depth + 1);
        }
    } else if (GMIME_IS_PART(obj)) {
        w->part[idx].leaf = true;
        part_decode(w, GMIME_PART(obj), &w->part[idx]);
    }
}

/* Parts of the message in buf (its holes left out: GMime reads what there is). */
static int mime_parts(struct content *C, const uint8_t *buf, size_t len, struct walk *w)
{
    GMimeStream *st = g_mime_stream_mem_new_with_buffer((const char *)buf, len);
    GMimeParser *parser = g_mime_parser_new_with_stream(st);
    g_object_unref(st);
    GMimeMessage *msg = g_mime_parser_construct_message(parser, NULL);
    g_object_unref(parser);
    if (msg == NULL)
        return -1;
    GMimeObject *body = g_mime_message_get_mime_part(msg);
    w->C = C;
    if (body)
        walk(w, body, "1", 0);
    g_object_unref(msg);
    return 0;
}

static void release(struct walk *w)
{
    for (unsigned i = 0; w->keep && i < w->keep->len; i++)
        g_byte_array_free(g_ptr_array_index(w->keep, i), TRUE);
    if (w->keep)
        g_ptr_array_free(w->keep, TRUE);
    free(w->part);
}

/* --- records ------------------------------------------------------------------------------- */

static void message_facts(const struct smtp_transaction *t, struct msg *m, struct content_message *cm)
{
    if (!t->chunked && t->content_ended) {
        /* The <CRLF>.<CRLF> line came in as ".\r\n" and was unstuffed to "\r\n": drop it. The
         * CRLF before it belongs to the message (RFC 5321 4.1.1.4). */
        if (m->tail_kept && m->len >= 2)
            m->len -= 2;
        if (m->size >= 2)
            m->size -= 2;
    }
    cm->eml = m->buf ? m->buf : (const uint8_t *)"";
    cm->eml_len = m->len;
    cm->size = m->size;
    digest(EVP_sha256(), cm->eml, cm->eml_len, cm->sha256);
    cm->ended = t->content_ended;
    cm->chunked = t->chunked;
    cm->nholes = m->nholes;
    cm->holes_dropped = m->holes_dropped;
    memcpy(cm->hole, m->hole, m->nholes * sizeof(m->hole[0]));
    cm->partial = m->nholes > 0 || m->holes_dropped > 0 || !t->content_ended;
    cm->nsplits = t->nsplits;
    memcpy(cm->split, t->split, t->nsplits * sizeof(t->split[0]));
}

static void on_transaction(void *ctx, const struct smtp_session_info *s, const struct smtp_transaction *t)
{
    struct content *C = ctx;
    struct msg **pp = find_slot(C, s->id, t), *m = *pp;
    if (m == NULL || !C->next->transaction) {
        if (C->next->transaction)
            C->next->transaction(C->next->ctx, s, t);
        if (m) {
            *pp = m->next;
            msg_free(C, m);
        }
        return;
    }
    *pp = m->next;
    struct content_message cm;
    memset(&cm, 0, sizeof(cm));
    message_facts(t, m, &cm);
    struct walk w = {.keep = g_ptr_array_new()};
    cm.mime_error = mime_parts(C, cm.eml, cm.eml_len, &w) != 0;
    cm.part = w.part;
    cm.nparts = w.n;
    cm.parts_dropped = w.dropped;
    for (unsigned i = 0; i < w.n; i++) {
        if (!w.part[i].type_mismatch)
            continue;
        notice(C, s, SMTP_NOTICE_CONTENT_TYPE_MISMATCH, &t->ts,
               "message %u part %s \"%s\" declared %s, its bytes are %s", s->transactions, w.part[i].path,
               w.part[i].filename, w.part[i].type, w.part[i].sniffed);
    }
    struct smtp_transaction copy = *t; /* the core's record, with the content facts added */
    copy.content = &cm;
    C->next->transaction(C->next->ctx, s, &copy);
    release(&w);
    msg_free(C, m);
}

/* Records the stage does not change go straight on. */
static void on_session_start(void *ctx, const struct smtp_session_info *s)
{
    const struct content *C = ctx;
    if (C->next->session_start)
        C->next->session_start(C->next->ctx, s);
}

static void on_exchange(void *ctx, const struct smtp_session_info *s, const struct smtp_exchange *x)
{
    const struct content *C = ctx;
    if (C->next->exchange)
        C->next->exchange(C->next->ctx, s, x);
}

static void on_notice(void *ctx, const struct smtp_session_info *s, const struct smtp_notice *n)
{
    const struct content *C = ctx;
    if (C->next->notice)
        C->next->notice(C->next->ctx, s, n);
}

static void on_session_end(void *ctx, const struct smtp_session_info *s)
{
    struct content *C = ctx;
    struct extra **pp = extra_slot(C, s->id), *e = *pp;
    if (e == NULL) {
        if (C->next->session_end)
            C->next->session_end(C->next->ctx, s);
        return;
    }
    *pp = e->next;
    struct smtp_session_info copy = *s; /* the core's record, with our notices counted */
    copy.notices += e->notices;
    free(e);
    if (C->next->session_end)
        C->next->session_end(C->next->ctx, &copy);
}

struct smtp_sink *content_new(const struct content_opts *o, const struct smtp_sink *next, char *err,
                              size_t errlen)
{
    struct content *C = xcalloc(1, sizeof(*C));
    C->next = next;
    C->o = *o;
    C->magic = magic_open(MAGIC_MIME_TYPE | MAGIC_ERROR);
    if (C->magic == NULL || magic_load(C->magic, NULL) != 0) {
        snprintf(err, errlen, "cannot load libmagic's database: %s",
                 C->magic ? magic_error(C->magic) : "out of memory");
        if (C->magic)
            magic_close(C->magic);
        free(C);
        return NULL;
    }
    static bool gmime_ready; /* once per process: GMime cannot be set up again after shutdown */
    if (!gmime_ready) {
        g_mime_init();
        gmime_ready = true;
    }
    C->sink = (struct smtp_sink){.ctx = C,
                                 .session_start = on_session_start,
                                 .exchange = on_exchange,
                                 .transaction = on_transaction,
                                 .notice = on_notice,
                                 .session_end = on_session_end,
                                 .content = on_content,
                                 .content_gap = on_content_gap};
    C->report = (struct smtp_sink){.ctx = C, .notice = on_report};
    return &C->sink;
}

const struct smtp_sink *content_report(const struct smtp_sink *s)
{
    const struct content *C = s->ctx;
    return &C->report;
}

void content_free(struct smtp_sink *s)
{
    if (s == NULL)
        return;
    struct content *C = s->ctx;
    for (size_t i = 0; i < CONTENT_BUCKETS; i++)
        while (C->bucket[i]) {
            struct msg *m = C->bucket[i];
            C->bucket[i] = m->next;
            msg_free(C, m);
        }
    for (size_t i = 0; i < CONTENT_BUCKETS; i++)
        while (C->extra[i]) {
            struct extra *e = C->extra[i];
            C->extra[i] = e->next;
            free(e);
        }
    magic_close(C->magic);
    free(C);
}
