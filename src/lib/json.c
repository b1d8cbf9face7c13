/* json.c - the pretty layout of the JSON writer (json.h); the value writers are inline there. */
#include "lib/json.h"

#include <string.h>

static void jp_indent(struct strbuf *sb, unsigned depth)
{
    for (unsigned i = 0; i < depth; i++)
        SB_LIT(sb, "  ");
}

void jp_key(struct json_pretty *j, const char *key)
{
    if (j->depth == 0)
        return; /* the top-level value: no separator */
    if (!j->empty)
        sb_putc(j->sb, ',');
    sb_putc(j->sb, '\n');
    jp_indent(j->sb, j->depth);
    j->empty = false;
    if (key) {
        json_cstr(j->sb, key);
        SB_LIT(j->sb, ": ");
    }
}

void jp_open(struct json_pretty *j, const char *key, char bracket)
{
    jp_key(j, key);
    sb_putc(j->sb, bracket);
    j->depth++;
    j->empty = true;
}

void jp_close(struct json_pretty *j, char bracket)
{
    j->depth--;
    if (!j->empty) {
        sb_putc(j->sb, '\n');
        jp_indent(j->sb, j->depth);
    }
    sb_putc(j->sb, bracket);
    j->empty = false; /* the container just closed is a member of its parent */
}

void jp_u64(struct json_pretty *j, const char *key, uint64_t v)
{
    jp_key(j, key);
    json_u64(j->sb, v);
}

void jp_i64(struct json_pretty *j, const char *key, int64_t v)
{
    jp_key(j, key);
    json_i64(j->sb, v);
}

void jp_bool(struct json_pretty *j, const char *key, bool v)
{
    jp_key(j, key);
    json_bool(j->sb, v);
}

void jp_str(struct json_pretty *j, const char *key, const char *v)
{
    jp_key(j, key);
    json_cstr(j->sb, v);
}

void jp_name(struct json_pretty *j, const char *key, const char *v, size_t max)
{
    jp_key(j, key);
    json_str(j->sb, (const uint8_t *)v, strnlen(v, max));
}

void jp_time(struct json_pretty *j, const char *key, const struct timeval *tv, bool have)
{
    jp_key(j, key);
    if (have)
        json_time(j->sb, tv);
    else
        json_null(j->sb);
}
