/* smtp_tls.c - after STARTTLS or on port 465, read the server name (SNI, RFC 6066 3) from the
 * client's TLS ClientHello (RFC 8446 4.1.2); everything after it is opaque. */
#include <string.h>

#include "smtp/smtp_parse.h"

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
static bool sni_from_ext(struct cursor e, char *sni, size_t snisz)
{
    size_t list, type, len;
    const uint8_t *name;
    if (!take_u16(&e, &list) || !take_u8(&e, &type) || !take_u16(&e, &len) || type != 0 ||
        !take(&e, len, &name))
        return false;
    esc_to_cstr(sni, snisz, name, len);
    return true;
}

/* Parse a complete ClientHello handshake body. */
static void client_hello(struct cursor c, char *sni, size_t snisz)
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
        if (type == 0 && sni_from_ext(e, sni, snisz))
            return;
    }
}

enum smtp_tls_scan smtp_tls_scan(struct strbuf *h, const uint8_t *p, size_t n, char *sni, size_t snisz)
{
    sb_put(h, p, n);
    const uint8_t *b = (const uint8_t *)h->p;
    if (h->len >= 1 && b[0] != 0x16) /* not a handshake record */
        return SMTP_TLS_NOT_HANDSHAKE;
    if (h->len < 9)
        return SMTP_TLS_MORE;
    size_t rec = (size_t)b[3] << 8 | b[4];
    size_t hs = (size_t)b[6] << 16 | (size_t)b[7] << 8 | b[8];
    if (b[5] != 1) /* not a ClientHello */
        return SMTP_TLS_DONE;
    if (h->len < 5 + rec && !h->truncated)
        return SMTP_TLS_MORE;
    size_t body = rec >= 4 ? rec - 4 : 0;
    if (hs < body)
        body = hs;
    if (body > h->len - 9)
        body = h->len - 9;
    client_hello((struct cursor){b + 9, body}, sni, snisz);
    return SMTP_TLS_DONE;
}
