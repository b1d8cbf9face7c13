/* smtp_cmd.c - client command lines as facts: verb and argument, paths and ESMTP parameters,
 * BDAT sizes, and what the line's framing says (bare LF or CR, 8-bit bytes). */
#include <string.h>

#include "smtp/smtp_parse.h"
#include "smtp/smtp_text.h"

static const struct {
    const char *verb;
    size_t len;
    enum smtp_verb id;
} verb_table[] = {
#define SMTP_VERB_ROW(id, text) {text, sizeof(text) - 1, SMTP_VERB_##id},
    SMTP_VERB_LIST(SMTP_VERB_ROW)
#undef SMTP_VERB_ROW
};

enum smtp_verb smtp_verb_lookup(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < sizeof(verb_table) / sizeof(verb_table[0]); i++) {
        if (verb_table[i].len != n || n == 0 || verb_table[i].id == SMTP_VERB_END_OF_DATA ||
            verb_table[i].id == SMTP_VERB_SASL)
            continue;
        if (ascii_ieq(p, verb_table[i].verb, n))
            return verb_table[i].id;
    }
    return SMTP_VERB_UNKNOWN;
}

/* Case-insensitive ASCII prefix match. */
static bool has_prefix_ci(const uint8_t *p, size_t n, const char *kw)
{
    size_t k = strlen(kw);
    return n >= k && ascii_ieq(p, kw, k);
}

/* The ESMTP parameters after a path: SP-separated keyword["=" value] (RFC 5321 4.1.2). */
static void parse_params(const uint8_t *p, size_t n, struct smtp_params *out)
{
    size_t i = 0;
    while (i < n) {
        while (i < n && p[i] == ' ')
            i++;
        size_t start = i;
        while (i < n && p[i] != ' ')
            i++;
        if (i == start)
            break;
        if (out->n == SMTP_MAX_PARAMS) {
            out->dropped++;
            continue;
        }
        struct smtp_param *pa = &out->p[out->n++];
        const uint8_t *eq = memchr(p + start, '=', i - start);
        size_t kl = eq ? (size_t)(eq - (p + start)) : i - start;
        if (kl >= sizeof(pa->key))
            kl = sizeof(pa->key) - 1;
        for (size_t k = 0; k < kl; k++) {
            uint8_t c = ascii_upper(p[start + k]);
            pa->key[k] = (char)(c > 0x20 && c < 0x7f ? c : '?');
        }
        pa->key[kl] = '\0';
        if (eq)
            esc_to_cstr(pa->value, sizeof(pa->value), eq + 1, (size_t)(p + i - eq - 1));
        else
            pa->value[0] = '\0';
    }
}

/* "FROM:<a@b> SIZE=10" -> "a@b" and {SIZE: 10} (RFC 5321 4.1.2 Reverse-path / Forward-path);
 * tolerates a space after the colon and a missing <> as real clients send them. */
bool smtp_parse_path(const uint8_t *p, size_t n, const char *kw, char *out, size_t outsz,
                     struct smtp_params *params)
{
    if (!has_prefix_ci(p, n, kw))
        return false;
    size_t i = strlen(kw);
    while (i < n && p[i] == ' ')
        i++;
    size_t start = i, end;
    if (i < n && p[i] == '<') {
        start = ++i;
        while (i < n && p[i] != '>')
            i++;
        end = i;
        if (i < n)
            i++;
    } else {
        while (i < n && p[i] != ' ')
            i++;
        end = i;
    }
    esc_to_cstr(out, outsz, p + start, end - start);
    if (params)
        parse_params(p + i, n - i, params);
    return true;
}

/* RFC 3030 2: "BDAT" SP chunk-size [ SP end-marker ]; chunk-size is 1*DIGIT, end-marker "LAST".
 * A size past INT64_MAX is malformed: no server can count that many bytes (postfix 3.7 parses it
 * into a signed 64-bit off_t, answers "521 5.5.4 Syntax" and hangs up without reading further;
 * INT64_MAX itself it takes, and reads what follows as chunk data). */
struct smtp_bdat_facts smtp_bdat_parse(const uint8_t *p, size_t n)
{
    struct smtp_bdat_facts f = {0};
    size_t i = 0;
    uint64_t v = 0;
    if (n == 0 || p[0] < '0' || p[0] > '9')
        return f;
    for (; i < n && p[i] >= '0' && p[i] <= '9'; i++) {
        uint64_t d = (uint64_t)(p[i] - '0');
        if (v > ((uint64_t)INT64_MAX - d) / 10)
            return f;
        v = v * 10 + d;
    }
    f.size = v;
    if (i == n) {
        f.ok = true;
        return f;
    }
    if (p[i] != ' ')
        return f;
    while (i < n && p[i] == ' ')
        i++;
    if (n - i == 4 && has_prefix_ci(p + i, 4, "LAST"))
        f.ok = f.last = true;
    return f;
}

void smtp_line_check(const struct smtp_line *l, bool want_8bit, struct smtp_line_facts *out)
{
    out->bare_lf = !l->crlf && !l->dropped && l->wire_len > l->len;
    out->bare_cr = !out->bare_lf && smtp_find_byte(l->p, l->len, '\r') != NULL;
    out->eightbit = -1;
    if (want_8bit)
        for (size_t i = 0; i < l->len; i++)
            if (l->p[i] & 0x80) {
                out->eightbit = (ptrdiff_t)i;
                break;
            }
}

void smtp_cmd_parse(const uint8_t *p, size_t n, struct smtp_cmd_facts *out)
{
    const uint8_t *sp = smtp_find_byte(p, n, ' ');
    size_t vlen = sp ? (size_t)(sp - p) : n;
    out->arg = sp ? sp + 1 : p + n;
    out->arg_len = sp ? n - vlen - 1 : 0;
    out->id = smtp_verb_lookup(p, vlen);
    size_t keep = vlen < SMTP_MAX_VERB ? vlen : SMTP_MAX_VERB;
    for (size_t i = 0; i < keep; i++)
        out->verb[i] = p[i] ? (char)ascii_upper(p[i]) : '?';
    out->verb[keep] = '\0';
    out->verb_len = keep;
}
