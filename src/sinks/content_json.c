/* content_json.c - the JSON that JSON Lines and the extraction index (index.jsonl) share, so both
 * say the same thing: a message's content facts (--files: the transaction's `content` and
 * `parts`) and the pieces of its envelope (endpoints, recipients, the reply to the content). */
#include <string.h>

#include "lib/json.h"
#include "sinks/sinks.h"

/* Members with a literal key (lib/json.h's compact layout); an empty string reads null. */
#define KV_STR(sb, k, v) (JSON_KEY(sb, k), json_cstr_or_null((sb), (v)))
#define KV_U64(sb, k, v) (JSON_KEY(sb, k), json_u64((sb), (v)))
#define KV_BOOL(sb, k, v) (JSON_KEY(sb, k), json_bool((sb), (v)))

void content_json_endpoint(struct strbuf *sb, const struct smtp_endpoint *e)
{
    /* The address is inet_ntop's text (digits, hex, '.', ':'): nothing to escape. */
    SB_LIT(sb, "{\"ip\":\"");
    sb_put(sb, e->ip, strnlen(e->ip, sizeof(e->ip)));
    SB_LIT(sb, "\",\"port\":");
    sb_u64(sb, e->port);
    sb_putc(sb, '}');
}

void content_json_params(struct strbuf *sb, const struct smtp_params *ps)
{
    sb_putc(sb, '{');
    for (unsigned i = 0; i < ps->n; i++) {
        if (i)
            sb_putc(sb, ',');
        json_cstr(sb, ps->p[i].key);
        sb_putc(sb, ':');
        json_cstr(sb, ps->p[i].value);
    }
    sb_putc(sb, '}');
}

void content_json_rcpts(struct strbuf *sb, const struct smtp_transaction *t, bool params)
{
    sb_putc(sb, '[');
    for (unsigned i = 0; i < t->nrcpt; i++) {
        sb_puts(sb, i ? ",{\"addr\":" : "{\"addr\":");
        json_cstr(sb, t->rcpt[i].addr);
        SB_LIT(sb, ",\"code\":");
        if (t->rcpt[i].code)
            sb_u64(sb, (uint64_t)t->rcpt[i].code);
        else
            json_null(sb);
        KV_STR(sb, "enhanced", t->rcpt[i].enhanced);
        if (params) {
            JSON_KEY(sb, "params");
            content_json_params(sb, &t->rcpt[i].params);
        }
        sb_putc(sb, '}');
    }
    sb_putc(sb, ']');
}

void content_json_data_reply(struct strbuf *sb, const struct smtp_transaction *t)
{
    if (!t->have_data_reply) {
        json_null(sb);
        return;
    }
    SB_LIT(sb, "{\"code\":");
    sb_u64(sb, (uint64_t)t->data_reply.code);
    KV_STR(sb, "enhanced", t->data_reply.enhanced);
    JSON_KEY(sb, "text");
    json_cstr(sb, t->data_reply.text);
    sb_putc(sb, '}');
}

void content_json_parts(struct strbuf *sb, const struct content_message *cm, const char *const *stored)
{
    sb_putc(sb, '[');
    for (unsigned i = 0; i < cm->nparts; i++) {
        const struct content_part *p = &cm->part[i];
        if (i)
            sb_putc(sb, ',');
        sb_putc(sb, '{');
        SB_LIT(sb, "\"path\":");
        json_cstr_or_null(sb, p->path);
        KV_U64(sb, "depth", p->depth);
        KV_STR(sb, "type", p->type);
        if (!p->leaf) {
            sb_putc(sb, '}');
            continue;
        }
        KV_STR(sb, "sniffed", p->sniffed);
        KV_BOOL(sb, "type_mismatch", p->type_mismatch);
        KV_STR(sb, "charset", p->charset);
        KV_STR(sb, "filename", p->filename);
        KV_STR(sb, "disposition", p->disposition);
        KV_STR(sb, "encoding", p->encoding);
        KV_U64(sb, "size", p->size);
        KV_STR(sb, "md5", p->md5);
        KV_STR(sb, "sha1", p->sha1);
        KV_STR(sb, "sha256", p->sha256);
        if (stored)
            KV_STR(sb, "stored", stored[i]);
        sb_putc(sb, '}');
    }
    sb_putc(sb, ']');
    if (cm->parts_dropped)
        KV_U64(sb, "parts_dropped", cm->parts_dropped);
}

void content_json_message(struct strbuf *sb, const struct content_message *cm)
{
    SB_LIT(sb, "\"size\":");
    json_u64(sb, cm->size);
    KV_STR(sb, "sha256", cm->sha256);
    KV_BOOL(sb, "chunked", cm->chunked);
    KV_BOOL(sb, "ended", cm->ended);
    KV_BOOL(sb, "partial", cm->partial);
    SB_LIT(sb, ",\"holes\":[");
    for (unsigned i = 0; i < cm->nholes; i++) {
        if (i)
            sb_putc(sb, ',');
        SB_LIT(sb, "{\"offset\":");
        json_u64(sb, cm->hole[i].offset);
        KV_U64(sb, "length", cm->hole[i].len);
        JSON_KEY(sb, "kind");
        json_cstr(sb, cm->hole[i].kind == CONTENT_HOLE_GAP ? "capture-gap" : "not-kept");
        sb_putc(sb, '}');
    }
    sb_putc(sb, ']');
    if (cm->holes_dropped)
        KV_U64(sb, "holes_dropped", cm->holes_dropped);
    SB_LIT(sb, ",\"smuggling_ends\":[");
    for (unsigned i = 0; i < cm->nsplits; i++) {
        if (i)
            sb_putc(sb, ',');
        SB_LIT(sb, "{\"end\":");
        json_u64(sb, cm->split[i].end);
        KV_U64(sb, "resume", cm->split[i].resume);
        sb_putc(sb, '}');
    }
    sb_putc(sb, ']');
    KV_BOOL(sb, "mime_error", cm->mime_error);
}
