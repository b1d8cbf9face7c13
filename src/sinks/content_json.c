/* content_json.c - the JSON of a message's content facts, shared by JSON Lines (--files: the
 * transaction's `parts`) and the extraction index (index.jsonl), so both say the same thing. */
#include <string.h>

#include "lib/json.h"
#include "sinks/sinks.h"

/* Members with a literal key (lib/json.h's compact layout); an empty string reads null. */
#define KV_STR(sb, k, v) (JSON_KEY(sb, k), json_cstr_or_null((sb), (v)))
#define KV_U64(sb, k, v) (JSON_KEY(sb, k), json_u64((sb), (v)))
#define KV_BOOL(sb, k, v) (JSON_KEY(sb, k), json_bool((sb), (v)))

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
