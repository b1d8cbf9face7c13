/* content_json.c - the JSON of a message's content facts, shared by JSON Lines (--files: the
 * transaction's `parts`) and the extraction index (index.jsonl), so both say the same thing. */
#include <string.h>

#include "lib/json.h"
#include "sinks/sinks.h"

static void kv_str(struct strbuf *sb, const char *k, const char *v, bool first)
{
    if (!first)
        sb_putc(sb, ',');
    json_cstr(sb, k);
    sb_putc(sb, ':');
    json_cstr_or_null(sb, v);
}

static void kv_u64(struct strbuf *sb, const char *k, uint64_t v)
{
    sb_putc(sb, ',');
    json_cstr(sb, k);
    sb_putc(sb, ':');
    json_u64(sb, v);
}

void content_json_parts(struct strbuf *sb, const struct content_message *cm, const char *const *stored)
{
    sb_putc(sb, '[');
    for (unsigned i = 0; i < cm->nparts; i++) {
        const struct content_part *p = &cm->part[i];
        if (i)
            sb_putc(sb, ',');
        sb_putc(sb, '{');
        kv_str(sb, "path", p->path, true);
        kv_u64(sb, "depth", p->depth);
        kv_str(sb, "type", p->type, false);
        if (!p->leaf) {
            sb_putc(sb, '}');
            continue;
        }
        kv_str(sb, "sniffed", p->sniffed, false);
        SB_LIT(sb, ",\"type_mismatch\":");
        json_bool(sb, p->type_mismatch);
        kv_str(sb, "charset", p->charset, false);
        kv_str(sb, "filename", p->filename, false);
        kv_str(sb, "disposition", p->disposition, false);
        kv_str(sb, "encoding", p->encoding, false);
        kv_u64(sb, "size", p->size);
        kv_str(sb, "md5", p->md5, false);
        kv_str(sb, "sha1", p->sha1, false);
        kv_str(sb, "sha256", p->sha256, false);
        if (stored)
            kv_str(sb, "stored", stored[i], false);
        sb_putc(sb, '}');
    }
    sb_putc(sb, ']');
    if (cm->parts_dropped)
        kv_u64(sb, "parts_dropped", cm->parts_dropped);
}

void content_json_message(struct strbuf *sb, const struct content_message *cm)
{
    SB_LIT(sb, "\"size\":");
    json_u64(sb, cm->size);
    kv_str(sb, "sha256", cm->sha256, false);
    SB_LIT(sb, ",\"chunked\":");
    json_bool(sb, cm->chunked);
    SB_LIT(sb, ",\"ended\":");
    json_bool(sb, cm->ended);
    SB_LIT(sb, ",\"partial\":");
    json_bool(sb, cm->partial);
    SB_LIT(sb, ",\"holes\":[");
    for (unsigned i = 0; i < cm->nholes; i++) {
        if (i)
            sb_putc(sb, ',');
        SB_LIT(sb, "{\"offset\":");
        json_u64(sb, cm->hole[i].offset);
        SB_LIT(sb, ",\"length\":");
        json_u64(sb, cm->hole[i].len);
        SB_LIT(sb, ",\"kind\":");
        json_cstr(sb, cm->hole[i].kind == CONTENT_HOLE_GAP ? "capture-gap" : "not-kept");
        sb_putc(sb, '}');
    }
    sb_putc(sb, ']');
    if (cm->holes_dropped)
        kv_u64(sb, "holes_dropped", cm->holes_dropped);
    SB_LIT(sb, ",\"smuggling_ends\":[");
    for (unsigned i = 0; i < cm->nsplits; i++) {
        if (i)
            sb_putc(sb, ',');
        SB_LIT(sb, "{\"end\":");
        json_u64(sb, cm->split[i].end);
        SB_LIT(sb, ",\"resume\":");
        json_u64(sb, cm->split[i].resume);
        sb_putc(sb, '}');
    }
    sb_putc(sb, ']');
    SB_LIT(sb, ",\"mime_error\":");
    json_bool(sb, cm->mime_error);
}
