/* content_json.c - the JSON of a message's content facts, shared by JSON Lines (--files: the
 * transaction's `parts`) and the extraction index (index.jsonl), so both say the same thing. */
#include <string.h>

#include "sinks/sinks.h"

static void kv_str(struct strbuf *sb, const char *k, const char *v, bool first)
{
    if (!first)
        sb_putc(sb, ',');
    sb_json_cstr(sb, k);
    sb_putc(sb, ':');
    if (v == NULL || v[0] == '\0')
        SB_LIT(sb, "null");
    else
        sb_json_cstr(sb, v);
}

static void kv_u64(struct strbuf *sb, const char *k, uint64_t v)
{
    sb_putc(sb, ',');
    sb_json_cstr(sb, k);
    sb_putc(sb, ':');
    sb_u64(sb, v);
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
        if (p->type_mismatch)
            SB_LIT(sb, "true");
        else
            SB_LIT(sb, "false");
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
    sb_u64(sb, cm->size);
    kv_str(sb, "sha256", cm->sha256, false);
    SB_LIT(sb, ",\"chunked\":");
    sb_puts(sb, cm->chunked ? "true" : "false");
    SB_LIT(sb, ",\"ended\":");
    sb_puts(sb, cm->ended ? "true" : "false");
    SB_LIT(sb, ",\"partial\":");
    sb_puts(sb, cm->partial ? "true" : "false");
    SB_LIT(sb, ",\"holes\":[");
    for (unsigned i = 0; i < cm->nholes; i++) {
        if (i)
            sb_putc(sb, ',');
        SB_LIT(sb, "{\"offset\":");
        sb_u64(sb, cm->hole[i].offset);
        SB_LIT(sb, ",\"length\":");
        sb_u64(sb, cm->hole[i].len);
        SB_LIT(sb, ",\"kind\":");
        sb_json_cstr(sb, cm->hole[i].kind == CONTENT_HOLE_GAP ? "capture-gap" : "not-kept");
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
        sb_u64(sb, cm->split[i].end);
        SB_LIT(sb, ",\"resume\":");
        sb_u64(sb, cm->split[i].resume);
        sb_putc(sb, '}');
    }
    sb_putc(sb, ']');
    SB_LIT(sb, ",\"mime_error\":");
    sb_puts(sb, cm->mime_error ? "true" : "false");
}
