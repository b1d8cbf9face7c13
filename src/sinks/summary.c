/* summary.c - the saved summary: counts accumulated from the sink records, written atomically. */
#define _GNU_SOURCE /* strverscmp */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sinks/summary_state.h"
#include "smtpsniff/reply.h"
#include "lib/xalloc.h"

/* ---- bounded counting tables ---- */

static void sm_table_init(struct sm_table *t, size_t max)
{
    memset(t, 0, sizeof(*t));
    t->max = max;
}

static uint64_t sm_hash(const char *key, int code)
{
    uint64_t h = 0xcbf29ce484222325ULL ^ (uint64_t)(unsigned)code;
    for (const unsigned char *p = (const unsigned char *)key; *p; p++)
        h = (h ^ *p) * 0x100000001b3ULL;
    return h ^ h >> 29;
}

static struct sm_entry *sm_table_find(struct sm_entry *slot, size_t cap, const char *key, int code)
{
    size_t i = sm_hash(key, code) & (cap - 1);
    while (slot[i].used && (slot[i].code != code || strcmp(slot[i].key, key) != 0))
        i = (i + 1) & (cap - 1);
    return &slot[i];
}

static void sm_table_grow(struct sm_table *t)
{
    size_t cap = t->cap ? t->cap * 2 : 64;
    struct sm_entry *slot = xcalloc(cap, sizeof(*slot));
    for (size_t i = 0; i < t->cap; i++)
        if (t->slot[i].used)
            *sm_table_find(slot, cap, t->slot[i].key, t->slot[i].code) = t->slot[i];
    free(t->slot);
    t->slot = slot;
    t->cap = cap;
}

/* Add v0, v1 to the counts of (key, code); key is cut to SM_KEY - 1 bytes. */
static void sm_table_add(struct sm_table *t, const char *key, int code, uint64_t v0, uint64_t v1)
{
    char k[SM_KEY];
    size_t n = strnlen(key, sizeof(k) - 1);
    memcpy(k, key, n);
    k[n] = '\0';
    if ((t->n + 1) * 10 > t->cap * 7 && t->n < t->max)
        sm_table_grow(t);
    struct sm_entry *e = t->cap ? sm_table_find(t->slot, t->cap, k, code) : NULL;
    if (e == NULL || (!e->used && t->n >= t->max)) {
        t->other[0] += v0;
        t->other[1] += v1;
        return;
    }
    if (!e->used) {
        e->used = true;
        e->code = code;
        memcpy(e->key, k, n + 1);
        t->n++;
    }
    e->v[0] += v0;
    e->v[1] += v1;
}

static void sm_table_free(struct sm_table *t)
{
    free(t->slot);
    memset(t, 0, sizeof(*t));
}

const struct sm_entry **sm_table_sorted(const struct sm_table *t, int (*cmp)(const void *, const void *),
                                        size_t *n)
{
    *n = 0;
    if (t->n == 0)
        return NULL;
    const struct sm_entry **v = xmalloc(t->n * sizeof(*v));
    for (size_t i = 0; i < t->cap; i++)
        if (t->slot[i].used)
            v[(*n)++] = &t->slot[i];
    qsort(v, *n, sizeof(*v), cmp);
    return v;
}

int sm_cmp_key(const void *a, const void *b)
{
    const struct sm_entry *x = *(const struct sm_entry *const *)a, *y = *(const struct sm_entry *const *)b;
    int c = strverscmp(x->key, y->key);
    return c ? c : (x->code > y->code) - (x->code < y->code);
}

static int sm_cmp_v_desc(const void *a, const void *b, int i)
{
    const struct sm_entry *x = *(const struct sm_entry *const *)a, *y = *(const struct sm_entry *const *)b;
    if (x->v[i] != y->v[i])
        return x->v[i] < y->v[i] ? 1 : -1;
    return sm_cmp_key(a, b);
}

int sm_cmp_v0_desc(const void *a, const void *b)
{
    return sm_cmp_v_desc(a, b, 0);
}

int sm_cmp_v1_desc(const void *a, const void *b)
{
    return sm_cmp_v_desc(a, b, 1);
}


/* ---- accumulation ---- */

static void sm_note_ts(struct summary *sm, const struct timeval *ts)
{
    if (ts->tv_sec || ts->tv_usec)
        sm->last_ts = *ts;
}

static void sm_session_start(void *ctx, const struct smtp_session_info *s)
{
    struct summary *sm = ctx;
    sm_note_ts(sm, &s->start);
    sm->sessions++;
    sm_table_add(&sm->clients, s->client.ip, 0, 1, 0);
    sm_table_add(&sm->servers, s->server.ip, 0, 1, 0);
}

static void sm_count_command(struct summary *sm, const struct smtp_command *c)
{
    if (c->id == SMTP_VERB_GREETING)
        return;
    sm_note_ts(sm, &c->ts);
    sm->commands++;
    if (c->id != SMTP_VERB_UNKNOWN && (unsigned)c->id < SMTP_VERB_COUNT) {
        sm->by_verb[c->id]++;
        return;
    }
    char key[SM_KEY];
    size_t n = c->verb_len < sizeof(c->verb) ? c->verb_len : strnlen(c->verb, sizeof(c->verb));
    esc_to_cstr(key, sizeof(key), (const uint8_t *)c->verb, n);
    sm_table_add(&sm->unknown_verbs, key, 0, 1, 0);
}

/* "C.S.D" of a parsed code, in decimal (a snprintf here, once per reply, cost 5% of a run). */
static void sm_enhanced_key(char key[SM_KEY], struct smtp_enhanced e)
{
    unsigned part[3] = {e.cls, e.subject, e.detail};
    size_t o = 0;
    for (int i = 0; i < 3; i++) {
        unsigned v = part[i] % 1000;
        if (i)
            key[o++] = '.';
        if (v >= 100)
            key[o++] = (char)('0' + v / 100);
        if (v >= 10)
            key[o++] = (char)('0' + v / 10 % 10);
        key[o++] = (char)('0' + v % 10);
    }
    key[o] = '\0';
}

static void sm_count_reply(struct summary *sm, const struct smtp_session_info *s, const struct smtp_reply *r)
{
    sm_note_ts(sm, &r->ts);
    sm->replies++;
    sm->by_class[reply_class(r->code)]++;
    if (r->code >= 0 && r->code < SM_CODES)
        sm->by_code[r->code]++;
    else
        sm->code_other++;
    if (r->enh.cls) { /* counted by the code the core parsed: "5.01.1" is 5.1.1 */
        char key[SM_KEY];
        sm_enhanced_key(key, r->enh);
        sm_table_add(&sm->enhanced, key, sm_enhanced_pack(r->enh), 1, 0);
    }
    if (r->code >= 400 && r->code < 600) {
        sm_table_add(&sm->clients, s->client.ip, 0, 0, 1);
        sm_table_add(&sm->servers, s->server.ip, 0, 0, 1);
    }
}

static void sm_exchange(void *ctx, const struct smtp_session_info *s, const struct smtp_exchange *x)
{
    struct summary *sm = ctx;
    if (x->cmd)
        sm_count_command(sm, x->cmd);
    if (x->reply)
        sm_count_reply(sm, s, x->reply);
}

static void sm_copy_name(char *dst, size_t size, const char *src, size_t max)
{
    size_t n = strnlen(src, max);
    if (n >= size)
        n = size - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

/* One failed delivery row; past SM_MAX_FAILS only counted. */
static void sm_add_fail(struct summary *sm, const struct smtp_session_info *s,
                        const struct smtp_transaction *t, const struct smtp_rcpt *rc, enum smtp_verb stage,
                        int code)
{
    sm->fails_total++;
    if (sm->nfail >= SM_MAX_FAILS)
        return;
    if (sm->nfail == sm->fail_cap) {
        size_t cap = sm->fail_cap ? sm->fail_cap * 2 : 64;
        sm->fail = xrealloc(sm->fail, cap * sizeof(*sm->fail));
        sm->fail_cap = cap;
    }
    struct sm_fail *f = &sm->fail[sm->nfail++];
    memset(f, 0, sizeof(*f));
    f->session = s->id;
    f->ts = t->ts;
    sm_copy_name(f->client, sizeof(f->client), s->client.ip, sizeof(s->client.ip));
    sm_copy_name(f->server, sizeof(f->server), s->server.ip, sizeof(s->server.ip));
    sm_copy_name(f->sender, sizeof(f->sender), t->mail_from, sizeof(t->mail_from));
    sm_copy_name(f->rcpt, sizeof(f->rcpt), rc->addr, sizeof(rc->addr));
    f->stage = stage;
    f->code = code;
    if (stage == SMTP_VERB_DATA) {
        sm_copy_name(f->enhanced, sizeof(f->enhanced), t->data_reply.enhanced,
                     sizeof(t->data_reply.enhanced));
        sm_copy_name(f->text, sizeof(f->text), t->data_reply.text, sizeof(t->data_reply.text));
        f->context = t->data_reply.context;
    } else {
        f->context = rc->context;
        sm_copy_name(f->enhanced, sizeof(f->enhanced), rc->enhanced, sizeof(rc->enhanced));
        sm_copy_name(f->text, sizeof(f->text), rc->text, sizeof(rc->text));
    }
}

/* A recipient refused at RCPT, or accepted and then lost with the message (DATA reply >= 400). */
static void sm_count_rcpts(struct summary *sm, const struct smtp_session_info *s,
                           const struct smtp_transaction *t)
{
    bool data_failed = t->have_data_reply && t->data_reply.code >= 400;
    unsigned n = t->rcpt == NULL ? 0 : t->nrcpt < SMTP_MAX_RCPTS ? t->nrcpt : SMTP_MAX_RCPTS;
    for (unsigned i = 0; i < n; i++) {
        const struct smtp_rcpt *rc = &t->rcpt[i];
        if (rc->code == 0)
            sm->rcpt_none++;
        else if (rc->code < 400)
            sm->rcpt_ok++;
        else
            sm->rcpt_bad++;
        if (rc->code >= 400)
            sm_add_fail(sm, s, t, rc, SMTP_VERB_RCPT, rc->code);
        else if (data_failed)
            sm_add_fail(sm, s, t, rc, SMTP_VERB_DATA, t->data_reply.code);
    }
    sm->rcpt_dropped += t->rcpts_dropped;
}

static void sm_remember_name(struct sm_content *c, const char *sha256, const char *name)
{
    if (c->nfname == c->fname_cap) {
        size_t cap = c->fname_cap ? c->fname_cap * 2 : 64;
        c->fname = xrealloc(c->fname, cap * sizeof(*c->fname));
        c->fname_cap = cap;
    }
    struct sm_fname *f = &c->fname[c->nfname++];
    size_t n = strnlen(sha256, sizeof(f->sha256) - 1), m = strnlen(name, sizeof(f->name) - 1);
    memcpy(f->sha256, sha256, n);
    f->sha256[n] = '\0';
    memcpy(f->name, name, m);
    f->name[m] = '\0';
}

const char *sm_file_name(const struct summary *sm, const char *sha256)
{
    for (size_t i = 0; i < sm->content.nfname; i++)
        if (strcmp(sm->content.fname[i].sha256, sha256) == 0)
            return sm->content.fname[i].name;
    return "";
}

/* --files: messages, parts by sniffed type, mismatches, and each file by its SHA-256. */
static void sm_count_content(struct summary *sm, const struct content_message *cm)
{
    struct sm_content *c = &sm->content;
    c->messages++;
    c->partial += cm->partial;
    c->mime_errors += cm->mime_error;
    for (unsigned i = 0; i < cm->nparts; i++) {
        const struct content_part *p = &cm->part[i];
        if (!p->leaf)
            continue;
        c->parts++;
        c->mismatches += p->type_mismatch;
        sm_table_add(&c->types, p->sniffed[0] ? p->sniffed : "unknown", 0, 1, p->type_mismatch);
        struct sm_entry *e = c->files.cap ? sm_table_find(c->files.slot, c->files.cap, p->sha256, 0) : NULL;
        bool fresh = e == NULL || !e->used;
        sm_table_add(&c->files, p->sha256, 0, 1, p->size);
        if (fresh && c->files.n <= SM_MAX_FILES && p->filename[0])
            sm_remember_name(c, p->sha256, p->filename);
    }
}

static void sm_transaction(void *ctx, const struct smtp_session_info *s, const struct smtp_transaction *t)
{
    struct summary *sm = ctx;
    sm->txns++;
    if ((unsigned)t->status < SMTP_TXN_COUNT)
        sm->by_status[t->status]++;
    if (t->have_message) {
        sm->messages++;
        sm->message_bytes += t->message.size;
    }
    sm_count_rcpts(sm, s, t);
    if (t->content)
        sm_count_content(sm, t->content);
}

static void sm_notice(void *ctx, const struct smtp_session_info *s, const struct smtp_notice *n)
{
    struct summary *sm = ctx;
    sm_note_ts(sm, &n->ts);
    sm->notices++;
    if ((unsigned)n->id < SMTP_NOTICE_COUNT)
        sm->by_notice[n->id]++;
}

static void sm_session_end(void *ctx, const struct smtp_session_info *s)
{
    struct summary *sm = ctx;
    sm_note_ts(sm, &s->end);
    sm->ended++;
    if ((unsigned)s->end_reason < SMTP_END_COUNT)
        sm->by_end[s->end_reason]++;
    if ((unsigned)s->tls < SMTP_TLS_COUNT)
        sm->by_tls[s->tls]++;
    sm->bytes[0] += s->bytes[0];
    sm->bytes[1] += s->bytes[1];
    sm->notices_dropped += s->notices_dropped;
    if (s->auth_seen) {
        char mech[SM_KEY];
        esc_to_cstr(mech, sizeof(mech), (const uint8_t *)s->auth.mechanism,
                    strnlen(s->auth.mechanism, sizeof(s->auth.mechanism)));
        sm->auth_sessions++;
        sm_table_add(&sm->auth, mech, s->auth.result, 1, 0);
    }
}

/* ---- lifetime ---- */

struct summary *summary_new(void)
{
    struct summary *sm = xcalloc(1, sizeof(*sm));
    sm_table_init(&sm->enhanced, SM_MAX_ENHANCED);
    sm_table_init(&sm->unknown_verbs, SM_MAX_VERBS);
    sm_table_init(&sm->auth, SM_MAX_AUTH);
    sm_table_init(&sm->clients, SM_MAX_IPS);
    sm_table_init(&sm->servers, SM_MAX_IPS);
    sm_table_init(&sm->content.types, SM_MAX_TYPES);
    sm_table_init(&sm->content.files, SM_MAX_FILES);
    sm->sink = (struct smtp_sink){.ctx = sm,
                                  .session_start = sm_session_start,
                                  .exchange = sm_exchange,
                                  .transaction = sm_transaction,
                                  .notice = sm_notice,
                                  .session_end = sm_session_end};
    return sm;
}

void summary_set_reasm(struct summary *sm, const struct reasm_stats *st)
{
    sm->reasm = *st;
}

void summary_set_input_error(struct summary *sm, const char *msg)
{
    snprintf(sm->input_error, sizeof(sm->input_error), "%s", msg);
}

struct smtp_sink *summary_sink(struct summary *sm)
{
    return &sm->sink;
}

void summary_free(struct summary *sm)
{
    if (sm == NULL)
        return;
    sm_table_free(&sm->content.types);
    sm_table_free(&sm->content.files);
    free(sm->content.fname);
    sm_table_free(&sm->enhanced);
    sm_table_free(&sm->unknown_verbs);
    sm_table_free(&sm->auth);
    sm_table_free(&sm->clients);
    sm_table_free(&sm->servers);
    free(sm->fail);
    free(sm);
}

int summary_write(struct summary *sm, const struct capture_stats *cs, const char *path,
                  enum summary_format fmt)
{
    struct strbuf sb;
    sb_init(&sb, SM_OUT_MAX);
    if (fmt == SUMMARY_TEXT)
        summary_text(sm, cs, &sb);
    else
        summary_json(sm, cs, &sb);
    int rc;
    if (sb.truncated) {
        errno = EFBIG;
        rc = -1;
    } else {
        rc = sm_write_file(path, sb.p ? sb.p : "", sb.len);
    }
    int e = errno;
    sb_free(&sb);
    errno = e;
    return rc;
}

struct sm_auth_outcomes sm_auth_tally(const struct sm_entry *const *v, size_t n)
{
    struct sm_auth_outcomes o = {0, 0, 0};
    for (size_t i = 0; i < n; i++) {
        int cls = reply_class(v[i]->code);
        if (cls == 2)
            o.succeeded += v[i]->v[0];
        else if (cls == 4 || cls == 5)
            o.failed += v[i]->v[0];
        else
            o.unfinished += v[i]->v[0];
    }
    return o;
}
