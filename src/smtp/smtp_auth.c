/* smtp_auth.c - AUTH (RFC 4954) as facts: the mechanism and initial response of the command,
 * the user name a client SASL message reveals, the 334 challenge's text. What becomes of them
 * (the user kept, the argument redacted) is the state machine's. */
#include <string.h>
#include <strings.h>

#include "smtp/smtp_base64.h"
#include "smtp/smtp_parse.h"

/* Value of "key" in a list like "n,,n=user,r=..." (SCRAM, RFC 5802 5.1) or
 * "user=x\x01auth=..." (XOAUTH2). */
static bool user_from_attr(const uint8_t *p, size_t n, const char *key, uint8_t sep, const uint8_t **u,
                           size_t *ulen)
{
    size_t kl = strlen(key);
    for (size_t i = 0; i + kl <= n; i++) {
        if ((i == 0 || p[i - 1] == sep) && memcmp(p + i, key, kl) == 0) {
            const uint8_t *v = p + i + kl;
            const uint8_t *e = memchr(v, sep, n - i - kl);
            *u = v;
            *ulen = e ? (size_t)(e - v) : n - i - kl;
            return true;
        }
    }
    return false;
}

bool smtp_sasl_user(const char *m, const uint8_t *d, size_t n, bool login_user_next, const uint8_t **u,
                    size_t *ulen)
{
    *ulen = 0;
    if (strcmp(m, "PLAIN") == 0) { /* RFC 4616 2: authzid NUL authcid NUL passwd */
        const uint8_t *z1 = memchr(d, 0, n);
        if (z1 == NULL)
            return false;
        *u = z1 + 1;
        const uint8_t *z2 = memchr(*u, 0, n - (size_t)(*u - d));
        *ulen = z2 ? (size_t)(z2 - *u) : 0;
        return true;
    }
    if (strcmp(m, "LOGIN") == 0) { /* once: the line after it is the password */
        *u = d;
        *ulen = n;
        return login_user_next;
    }
    if (strcmp(m, "CRAM-MD5") == 0) { /* RFC 2195: "user digest" */
        const uint8_t *sp = memchr(d, ' ', n);
        *u = d;
        *ulen = sp ? (size_t)(sp - d) : 0;
        return true;
    }
    if (strncmp(m, "SCRAM-", 6) == 0)
        return user_from_attr(d, n, "n=", ',', u, ulen);
    if (strcmp(m, "XOAUTH2") == 0)
        return user_from_attr(d, n, "user=", 1, u, ulen);
    if (strcmp(m, "OAUTHBEARER") == 0)
        return user_from_attr(d, n, "a=", ',', u, ulen);
    return false;
}

void smtp_auth_parse(const uint8_t *a, size_t n, struct smtp_auth_facts *out)
{
    /* AUTH mechanism [initial-response]; the mechanism is 1*20(ALPHA/DIGIT/"-"/"_") (RFC 4422 3.1),
     * and anything after it may be a credential. */
    size_t ml = 0;
    while (ml < n && ((a[ml] >= 'A' && a[ml] <= 'Z') || (a[ml] >= 'a' && a[ml] <= 'z') ||
                      (a[ml] >= '0' && a[ml] <= '9') || a[ml] == '-' || a[ml] == '_'))
        ml++;
    memset(out, 0, sizeof(*out));
    for (size_t i = 0; i < ml && i + 1 < sizeof(out->mechanism); i++) {
        uint8_t c = a[i];
        out->mechanism[i] = (char)((c >= 'a' && c <= 'z') ? c - 32 : (c < 0x21 || c > 0x7e ? '?' : c));
    }
    out->mech_len = ml;
    out->more = ml < n;
    if (ml < n && n > ml + 1) { /* RFC 4954 4: AUTH mechanism SP initial-response */
        out->ir = a + ml + 1;
        out->ir_len = n - ml - 1;
    }
}

void smtp_auth_challenge_text(struct smtp_reply *r)
{
    uint8_t ch[SMTP_MAX_NAME];
    size_t cn = r->nlines ? smtp_base64_decode(r->line[0].p, r->line[0].len, ch, sizeof(ch)) : 0;
    esc_to_cstr(r->challenge, sizeof(r->challenge), ch, cn);
}

bool smtp_auth_asks_user(const struct smtp_reply *r)
{
    uint8_t ch[64];
    size_t cn = r->nlines ? smtp_base64_decode(r->line[0].p, r->line[0].len, ch, sizeof(ch)) : 0;
    return cn >= 8 && strncasecmp((const char *)ch, "username", 8) == 0;
}
