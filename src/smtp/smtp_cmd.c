/* smtp_cmd.c - client command lines: verb matching, argument capture, BDAT sizes, and the
 * per-line notices (bare LF, long lines, 8-bit bytes, commands after QUIT, STARTTLS injection). */
#include <string.h>

#include "smtp/smtp_internal.h"

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
static bool bdat_parse(const uint8_t *p, size_t n, uint64_t *size, bool *last)
{
    size_t i = 0;
    uint64_t v = 0;
    if (n == 0 || p[0] < '0' || p[0] > '9')
        return false;
    for (; i < n && p[i] >= '0' && p[i] <= '9'; i++) {
        uint64_t d = (uint64_t)(p[i] - '0');
        if (v > ((uint64_t)INT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *size = v;
    *last = false;
    if (i == n)
        return true;
    if (p[i] != ' ')
        return false;
    while (i < n && p[i] == ' ')
        i++;
    if (n - i == 4 && has_prefix_ci(p + i, 4, "LAST")) {
        *last = true;
        return true;
    }
    return false;
}

static void line_notices(struct smtp_session *s, const struct smtp_line *l, bool sasl, const struct timeval *ts)
{
    if (l->dropped)
        smtp_notice(s, SMTP_NOTICE_LINE_TRUNCATED, SMTP_DIR_CLIENT, ts, "command line of %zu bytes cut at %d",
                    l->wire_len, SMTP_MAX_LINE);
    else if (l->len + 2 > SMTP_RFC_CMD_LINE && !sasl)
        smtp_notice(s, SMTP_NOTICE_LINE_TOO_LONG, SMTP_DIR_CLIENT, ts,
                    "command line of %zu bytes (RFC 5321 4.5.3.1.4: 512)", l->len + 2);
    if (!l->crlf && !l->dropped && l->wire_len > l->len)
        smtp_notice(s, SMTP_NOTICE_BARE_LF_CR_IN_COMMAND, SMTP_DIR_CLIENT, ts, "command line ended by a bare LF");
    else if (smtp_find_byte(l->p, l->len, '\r'))
        smtp_notice(s, SMTP_NOTICE_BARE_LF_CR_IN_COMMAND, SMTP_DIR_CLIENT, ts, "bare CR inside a command line");
    if (!s->smtputf8 && !s->eightbit_noticed && !sasl) {
        for (size_t i = 0; i < l->len; i++) {
            if (l->p[i] & 0x80) {
                s->eightbit_noticed = true;
                smtp_notice(s, SMTP_NOTICE_EIGHTBIT_COMMAND, SMTP_DIR_CLIENT, ts,
                            "8-bit byte 0x%02x at offset %zu without SMTPUTF8", l->p[i], i);
                break;
            }
        }
    }
}

static void start_bdat(struct smtp_session *s, struct smtp_pending *pc, const uint8_t *arg, size_t n,
                       const struct timeval *ts)
{
    uint64_t size;
    bool last;
    if (!bdat_parse(arg, n, &size, &last)) {
        char shown[64];
        esc_to_cstr(shown, sizeof(shown), arg, n < 40 ? n : 40);
        smtp_notice(s, SMTP_NOTICE_MALFORMED_BDAT, SMTP_DIR_CLIENT, ts,
                    "BDAT \"%s\": chunk size is not a number the server can read", shown);
        return; /* refused (501; postfix 521 and hangs up): what follows is read as commands */
    }
    s->bdat_left = size;
    s->bdat_last = pc->bdat_last = last;
    if (last)
        smtp_txn_closing(s); /* its reply ends the transaction (RFC 3030 2) */
    struct smtp_transaction *t = smtp_content_txn(s);
    if (t && !t->have_message)
        smtp_body_begin(s); /* first chunk of this message */
    if (t)
        t->chunked = true;
    if (size > 0)
        s->cmode = SMTP_MODE_BDAT;
    else if (t && last)
        t->content_ended = true; /* BDAT 0 LAST */
}

void smtp_client_line(struct smtp_session *s, const struct smtp_line *l, const struct timeval *ts)
{
    /* RFC 4954 4: inside AUTH, client lines are SASL responses, not commands. A line sent while
     * an AUTH or SASL line is still unanswered is read as SASL too: it may be a credential sent
     * ahead of the 334, and redacting too much is the safe mistake. */
    bool sasl = s->in_auth || s->auth_unanswered;
    line_notices(s, l, sasl, ts);
    if (s->quit_sent && !s->quit_noticed) {
        s->quit_noticed = true;
        smtp_notice(s, SMTP_NOTICE_COMMAND_AFTER_QUIT, SMTP_DIR_CLIENT, ts, "client line after QUIT");
    }
    if (s->starttls_sent)
        smtp_notice(s, SMTP_NOTICE_STARTTLS_INJECTION, SMTP_DIR_CLIENT, ts,
                    "client line sent after STARTTLS before the server's reply");
    s->info.commands++;
    if (sasl) {
        smtp_pending_push(s, SMTP_VERB_SASL, "SASL", 4, l->p, l->len, ts);
        return;
    }
    const uint8_t *sp = smtp_find_byte(l->p, l->len, ' ');
    size_t vlen = sp ? (size_t)(sp - l->p) : l->len;
    const uint8_t *arg = sp ? sp + 1 : l->p + l->len;
    size_t alen = sp ? l->len - vlen - 1 : 0;
    enum smtp_verb id = smtp_verb_lookup(l->p, vlen);
    char verb[SMTP_MAX_VERB + 1];
    size_t keep = vlen < SMTP_MAX_VERB ? vlen : SMTP_MAX_VERB;
    for (size_t i = 0; i < keep; i++)
        verb[i] = l->p[i] ? (char)ascii_upper(l->p[i]) : '?';
    smtp_pending_push(s, id, verb, keep, arg, alen, ts);
    if (id == SMTP_VERB_BDAT)
        start_bdat(s, smtp_pending_last(s), arg, alen, ts);
}
