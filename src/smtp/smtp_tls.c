/* smtp_tls.c - after STARTTLS or on port 465, read the server name (SNI, RFC 6066 3) from the
 * client's TLS ClientHello (RFC 8446 4.1.2); everything after it is opaque. */
#include <string.h>

#include "smtp/smtp_internal.h"

struct cursor {
    const uint8_t *p;
    size_t n;
};

static bool take(struct cursor *c, size_t k, const uint8_t **out)
{
    if (c->n < k)
        return false;
    if (out)
        *out = c->p;
    c->p += k;
    c->n -= k;
    return true;
}

static bool take_u8(struct cursor *c, size_t *v)
{
    const uint8_t *b;
    if (!take(c, 1, &b))
        return false;
    *v = b[0];
    return true;
}

static bool take_u16(struct cursor *c, size_t *v)
{
    const uint8_t *b;
    if (!take(c, 2, &b))
        return false;
    *v = (size_t)b[0] << 8 | b[1];
    return true;
}

/* server_name extension body: list of (type, name); type 0 is host_name. */
static bool sni_from_ext(struct smtp_session *s, struct cursor e)
{
    size_t list, type, len;
    const uint8_t *name;
    if (!take_u16(&e, &list) || !take_u8(&e, &type) || !take_u16(&e, &len) || type != 0 ||
        !take(&e, len, &name))
        return false;
    esc_to_cstr(s->info.sni, sizeof(s->info.sni), name, len);
    return true;
}

/* Parse a complete ClientHello handshake body. */
static void client_hello(struct smtp_session *s, struct cursor c)
{
    size_t len, exts;
    if (!take(&c, 2 + 32, NULL) || !take_u8(&c, &len) || !take(&c, len, NULL) || /* version, random, sid */
        !take_u16(&c, &len) || !take(&c, len, NULL) ||                           /* cipher suites */
        !take_u8(&c, &len) || !take(&c, len, NULL) ||                            /* compression */
        !take_u16(&c, &exts))
        return;
    if (exts < c.n)
        c.n = exts;
    size_t type;
    while (take_u16(&c, &type) && take_u16(&c, &len)) {
        struct cursor e = {c.p, len};
        if (!take(&c, len, NULL))
            return;
        if (type == 0 && sni_from_ext(s, e))
            return;
    }
}

void smtp_tls_client_bytes(struct smtp_session *s, const uint8_t *p, size_t n, const struct timeval *ts)
{
    struct strbuf *h = &s->tls_hello;
    sb_put(h, p, n);
    const uint8_t *b = (const uint8_t *)h->p;
    if (h->len >= 1 && b[0] != 0x16) { /* not a handshake record */
        if (s->info.tls == SMTP_TLS_IMPLICIT)
            smtp_notice(s, SMTP_NOTICE_TLS_NOT_CLIENT_HELLO, SMTP_DIR_CLIENT, ts,
                        "first client byte 0x%02x is not a TLS handshake record", b[0]);
        s->cmode = SMTP_MODE_IGNORE;
    } else if (h->len >= 9) {
        size_t rec = (size_t)b[3] << 8 | b[4];
        size_t hs = (size_t)b[6] << 16 | (size_t)b[7] << 8 | b[8];
        if (b[5] != 1) { /* not a ClientHello */
            s->cmode = SMTP_MODE_IGNORE;
        } else if (h->len >= 5 + rec || h->truncated) {
            size_t body = rec >= 4 ? rec - 4 : 0;
            if (hs < body)
                body = hs;
            if (body > h->len - 9)
                body = h->len - 9;
            client_hello(s, (struct cursor){b + 9, body});
            s->cmode = SMTP_MODE_IGNORE;
        }
    }
    if (s->cmode == SMTP_MODE_IGNORE)
        sb_free(h);
}
