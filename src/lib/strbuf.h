/* strbuf.h - a bounded growable byte buffer for building output, with escaping of wire bytes
 * for JSON strings (any input gives valid JSON, invalid UTF-8 included) and for terminals. */
#ifndef SMTPSNIFF_STRBUF_H
#define SMTPSNIFF_STRBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/time.h>

struct strbuf {
    char *p;
    size_t len, cap, max; /* max: the buffer never grows past it; excess is cut, `truncated` set */
    bool truncated;
};

void sb_init(struct strbuf *sb, size_t max);
/* An empty buffer that starts with `p` (from malloc, `cap` bytes, or NULL and 0) already grown. */
void sb_init_buffer(struct strbuf *sb, char *p, size_t cap, size_t max);
void sb_free(struct strbuf *sb);
void sb_reset(struct strbuf *sb);
void sb_put_slow(struct strbuf *sb, const void *p, size_t n);
void sb_puts(struct strbuf *sb, const char *s);

/* Hot paths inline: append when it fits the current allocation, else grow (bounded). */
static inline void sb_put(struct strbuf *sb, const void *p, size_t n)
{
    if (sb->len + n < sb->cap) {
        __builtin_memcpy(sb->p + sb->len, p, n);
        sb->len += n;
        sb->p[sb->len] = '\0';
        return;
    }
    sb_put_slow(sb, p, n);
}

static inline void sb_putc(struct strbuf *sb, char c)
{
    if (sb->len + 1 < sb->cap) {
        sb->p[sb->len++] = c;
        sb->p[sb->len] = '\0';
        return;
    }
    sb_put_slow(sb, &c, 1);
}

/* A string literal, its length known at compile time. */
#define SB_LIT(sb, lit) sb_put((sb), (lit), sizeof(lit) - 1)
void sb_u64(struct strbuf *sb, uint64_t v);
/* v's last two / six decimal digits, zero-padded, written at d (no NUL). */
void fmt_digits2(char d[2], unsigned v);
void fmt_digits6(char d[6], unsigned v);
void sb_i64(struct strbuf *sb, int64_t v);
void sb_printf(struct strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* RFC 3339 5.6 has four-digit years: the last second it can write is 9999-12-31T23:59:59Z. */
#define SB_TIME_MAX 253402300799LL
/* What the text outputs print for a time RFC 3339 cannot write. */
#define SB_TIME_INVALID "invalid-time"
/* A capture time RFC 3339 can write: 1970-01-01 (capture files store unsigned counts, so an
 * earlier one is an overflow) to SB_TIME_MAX, microseconds 0-999999. */
bool sb_time_valid(const struct timeval *tv);
/* "2024-05-01T10:00:00.123456Z" (RFC 3339, UTC, microseconds); SB_TIME_INVALID and false for a
 * time that is not sb_time_valid. */
bool sb_time_rfc3339(struct strbuf *sb, const struct timeval *tv);
/* The same as a JSON value: the quoted string, or null for an invalid time. */
void sb_json_time(struct strbuf *sb, const struct timeval *tv);
/* A JSON string literal, quotes included. Control bytes become \uXXXX; bytes that are not valid
 * UTF-8 become U+FFFD-free escapes "\u00XX" of the byte value (lossless for ASCII readers). */
void sb_json_str(struct strbuf *sb, const uint8_t *p, size_t n);
void sb_json_cstr(struct strbuf *sb, const char *s); /* NULL gives null */
/* Printable for a terminal: printable ASCII as is, valid UTF-8 as is unless `ascii_only`,
 * everything else as \xHH (\r \n \t by name). Never passes ESC, C0 or C1 control bytes. */
void sb_term_str(struct strbuf *sb, const uint8_t *p, size_t n, bool ascii_only);
/* Write and empty the buffer; returns -1 on a write error. */
int sb_flush(struct strbuf *sb, FILE *f);

/* Copy wire bytes into a NUL-terminated printable C string (stored names, addresses, notice
 * details): printable ASCII and valid UTF-8 kept, every other byte as \xHH; cut to fit `size`.
 * Sinks still escape the result for their medium. */
size_t esc_to_cstr(char *dst, size_t size, const uint8_t *p, size_t n); /* returns strlen(dst) */

#endif
