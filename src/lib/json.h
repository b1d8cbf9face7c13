/* json.h - the one JSON writer, for JSON Lines (out_json.c, content_json.c), the extraction index
 * (extract.c), the JSON summary (summary_json.c) and `smtpsniff explain --json` (explain.c).
 * Values go straight into a strbuf; strings are escaped by sb_json_str (strbuf.c), so any input
 * gives valid JSON, invalid UTF-8 included (docs/json.md).
 *
 * Two layouts over the same value writers:
 * - compact (JSON Lines, the hot path): the caller writes the brackets; JSON_KEY writes ,"k": for a
 *   literal key, with no strlen and no call; the value writers are inline;
 * - pretty (struct json_pretty): members on their own lines, two spaces per level, "key": value. */
#ifndef SMTPSNIFF_JSON_H
#define SMTPSNIFF_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/time.h>

#include "lib/strbuf.h"

/* ---- values ---- */

static inline void json_null(struct strbuf *sb)
{
    SB_LIT(sb, "null");
}

static inline void json_bool(struct strbuf *sb, bool v)
{
    if (v)
        SB_LIT(sb, "true");
    else
        SB_LIT(sb, "false");
}

static inline void json_u64(struct strbuf *sb, uint64_t v)
{
    sb_u64(sb, v);
}

static inline void json_i64(struct strbuf *sb, int64_t v)
{
    sb_i64(sb, v);
}

/* Any bytes, as a JSON string. */
static inline void json_str(struct strbuf *sb, const uint8_t *p, size_t n)
{
    sb_json_str(sb, p, n);
}

/* A C string as a JSON string; NULL gives null. */
static inline void json_cstr(struct strbuf *sb, const char *s)
{
    sb_json_cstr(sb, s);
}

/* A C string, or null when it is NULL or empty. */
static inline void json_cstr_or_null(struct strbuf *sb, const char *s)
{
    if (s && s[0])
        sb_json_cstr(sb, s);
    else
        json_null(sb);
}

/* "2024-05-01T10:00:00.123456Z" (RFC 3339, UTC), quoted; null for a time RFC 3339 cannot write
 * (docs/json.md). */
static inline void json_time(struct strbuf *sb, const struct timeval *tv)
{
    sb_json_time(sb, tv);
}

/* ---- compact layout ---- */

/* ,"k": for a literal key (a member after the object's first). */
#define JSON_KEY(sb, k) SB_LIT((sb), ",\"" k "\":")

/* ---- pretty layout ---- */

struct json_pretty {
    struct strbuf *sb;
    unsigned depth;
    bool empty; /* the open container has no member yet */
};

static inline struct json_pretty json_pretty_begin(struct strbuf *sb)
{
    return (struct json_pretty){.sb = sb, .depth = 0, .empty = true};
}

/* The next member's separator, indentation and "key": (no key: an array element, or the top). */
void jp_key(struct json_pretty *j, const char *key);
/* A member that is an object ('{') or array ('['), opened; jp_close ends it. */
void jp_open(struct json_pretty *j, const char *key, char bracket);
void jp_close(struct json_pretty *j, char bracket);
void jp_u64(struct json_pretty *j, const char *key, uint64_t v);
void jp_i64(struct json_pretty *j, const char *key, int64_t v);
void jp_bool(struct json_pretty *j, const char *key, bool v);
void jp_str(struct json_pretty *j, const char *key, const char *v); /* NULL gives null */
/* A name stored in a fixed array of `max` bytes (bytes as the core kept them). */
void jp_name(struct json_pretty *j, const char *key, const char *v, size_t max);
/* A time (json_time), or null when there is none (`have` false: a packet at exactly
 * 1970-01-01T00:00:00Z still has its time). */
void jp_time(struct json_pretty *j, const char *key, const struct timeval *tv, bool have);

#endif
