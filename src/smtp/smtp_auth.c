/* smtp_auth.c - AUTH (RFC 4954): mechanism, initial response, 334 challenges, the username
 * where the mechanism reveals it, the outcome; secrets redacted unless asked for. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "smtp/smtp_internal.h"

static int b64val(uint8_t c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

/* RFC 4648 4 decoding; stops at '=' or the first byte outside the alphabet. */
size_t smtp_base64_decode(const uint8_t *in, size_t n, uint8_t *out, size_t outsz)
{
    uint32_t acc = 0;
    int bits = 0;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        int v = b64val(in[i]);
        if (v < 0)
            break;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (o < outsz)
                out[o++] = (uint8_t)(acc >> bits);
        }
    }
    return o;
}

static void set_user(struct smtp_session *s, const uint8_t *p, size_t n)
{
    if (n)
        esc_to_cstr(s->info.auth.user, sizeof(s->info.auth.user), p, n);
}

/* Value of "key" in a list like "n,,n=user,r=..." (SCRAM, RFC 5802 5.1) or
 * "user=x\x01auth=..." (XOAUTH2). */
static void user_from_attr(struct smtp_session *s, const uint8_t *p, size_t n, const char *key, uint8_t sep)
{
    size_t kl = strlen(key);
    for (size_t i = 0; i + kl <= n; i++) {
        if ((i == 0 || p[i - 1] == sep) && memcmp(p + i, key, kl) == 0) {
            const uint8_t *v = p + i + kl;
            const uint8_t *e = memchr(v, sep, n - i - kl);
            set_user(s, v, e ? (size_t)(e - v) : n - i - kl);
            return;
        }
    }
}

/* One client-side SASL message, already base64-decoded. */
static void sasl_message(struct smtp_session *s, const uint8_t *d, size_t n)
{
    const char *m = s->info.auth.mechanism;
    if (strcmp(m, "PLAIN") == 0) { /* RFC 4616 2: authzid NUL authcid NUL passwd */
        const uint8_t *z1 = memchr(d, 0, n);
        if (z1) {
            const uint8_t *u = z1 + 1, *z2 = memchr(u, 0, n - (size_t)(u - d));
            set_user(s, u, z2 ? (size_t)(z2 - u) : 0);
        }
    } else if (strcmp(m, "LOGIN") == 0) {
        if (s->auth_login_user_next) { /* once: the line after it is the password */
            set_user(s, d, n);
            s->auth_login_user_next = false;
        }
    } else if (strcmp(m, "CRAM-MD5") == 0) { /* RFC 2195: "user digest" */
        const uint8_t *sp = memchr(d, ' ', n);
        set_user(s, d, sp ? (size_t)(sp - d) : 0);
    } else if (strncmp(m, "SCRAM-", 6) == 0) {
        if (s->info.auth.user[0] == '\0')
            user_from_attr(s, d, n, "n=", ',');
    } else if (strcmp(m, "XOAUTH2") == 0 || strcmp(m, "OAUTHBEARER") == 0) {
        user_from_attr(s, d, n, strcmp(m, "XOAUTH2") == 0 ? "user=" : "a=", strcmp(m, "XOAUTH2") == 0 ? 1 : ',');
    }
}

static void sasl_decode(struct smtp_session *s, const uint8_t *p, size_t n)
{
    uint8_t buf[SMTP_MAX_ARG];
    size_t dn = smtp_base64_decode(p, n, buf, sizeof(buf));
    sasl_message(s, buf, dn);
}

/* Keep `keep` bytes of the argument and replace the rest with a "[redacted]" tag. */
static void redact(struct smtp_session *s, struct smtp_pending *pc, size_t keep)
{
    if (s->flags & SMTP_SESS_SHOW_CREDENTIALS || pc->cmd.arg.len <= keep)
        return;
    static const char tag[] = "[redacted]";
    size_t n = keep + (keep ? 1 : 0) + sizeof(tag) - 1;
    uint8_t *dst = malloc(n);
    if (dst == NULL)
        abort();
    memcpy(dst, pc->cmd.arg.p, keep);
    if (keep)
        dst[keep++] = ' ';
    memcpy(dst + keep, tag, sizeof(tag) - 1);
    free(pc->heap_arg);
    pc->heap_arg = dst;
    pc->cmd.arg.p = dst;
    pc->cmd.arg.len = n;
    pc->cmd.arg_redacted = true;
}

void smtp_auth_command(struct smtp_session *s, struct smtp_pending *pc)
{
    const uint8_t *a = pc->cmd.arg.p;
    size_t n = pc->cmd.arg.len;
    if (pc->cmd.id == SMTP_VERB_SASL) {
        if (n == 1 && a[0] == '*')
            return; /* RFC 4954 4: the client cancels */
        sasl_decode(s, a, n);
        redact(s, pc, 0);
        return;
    }
    /* AUTH mechanism [initial-response]; the mechanism is 1*20(ALPHA/DIGIT/"-"/"_") (RFC 4422 3.1),
     * and anything after it may be a credential. */
    size_t ml = 0;
    while (ml < n && ((a[ml] >= 'A' && a[ml] <= 'Z') || (a[ml] >= 'a' && a[ml] <= 'z') ||
                      (a[ml] >= '0' && a[ml] <= '9') || a[ml] == '-' || a[ml] == '_'))
        ml++;
    const uint8_t *sp = ml < n ? a + ml : NULL;
    struct smtp_auth_info *ai = &s->info.auth;
    memset(ai, 0, sizeof(*ai));
    s->info.auth_seen = true;
    s->auth_login_user_next = false;
    for (size_t i = 0; i < ml && i + 1 < sizeof(ai->mechanism); i++) {
        uint8_t c = a[i];
        ai->mechanism[i] = (char)((c >= 'a' && c <= 'z') ? c - 32 : (c < 0x21 || c > 0x7e ? '?' : c));
    }
    if (sp && n > ml + 1) {
        const uint8_t *ir = sp + 1;
        size_t irl = n - ml - 1;
        /* RFC 4954 4: AUTH mechanism SP initial-response */
        /* LOGIN has no RFC; clients that send an initial response send the username. */
        s->auth_login_user_next = strcmp(ai->mechanism, "LOGIN") == 0;
        if (!(irl == 1 && ir[0] == '=')) /* "=" is an empty initial response */
            sasl_decode(s, ir, irl);
        s->auth_login_user_next = false;
    }
    if (sp)
        redact(s, pc, ml);
}

/* Decode a 334 challenge for the record, before the exchange is emitted. */
void smtp_auth_decode_challenge(struct smtp_reply *r)
{
    uint8_t ch[SMTP_MAX_NAME];
    size_t cn = r->nlines ? smtp_base64_decode(r->line[0].p, r->line[0].len, ch, sizeof(ch)) : 0;
    esc_to_cstr(r->challenge, sizeof(r->challenge), ch, cn);
}

/* The server's answer to AUTH or to a SASL line. */
void smtp_auth_challenge(struct smtp_session *s, enum smtp_verb verb, const struct smtp_reply *r)
{
    if (r->code == 334) {
        /* RFC 4954 4: 334 carries a base64 challenge; client lines are SASL until it ends. */
        s->in_auth = true;
        uint8_t ch[64];
        size_t cn = r->nlines ? smtp_base64_decode(r->line[0].p, r->line[0].len, ch, sizeof(ch)) : 0;
        s->auth_login_user_next = cn >= 8 && strncasecmp((const char *)ch, "username", 8) == 0;
        return;
    }
    bool was_in_exchange = s->in_auth || verb == SMTP_VERB_AUTH;
    s->in_auth = false;
    s->auth_login_user_next = false;
    if (!was_in_exchange)
        return; /* a line read as SASL only to keep it redacted: not part of the exchange */
    s->info.auth.result = r->code;
    if (r->code >= 400)
        smtp_notice(s, SMTP_NOTICE_AUTH_FAILURE, SMTP_DIR_SERVER, &r->ts, "AUTH %s%s%s refused with %d",
                    s->info.auth.mechanism, s->info.auth.user[0] ? " for user " : "", s->info.auth.user,
                    r->code);
}
