/* smtp_reply.c - server reply lines as facts: the code and continuation (RFC 5321 4.2), the
 * enhanced status code (RFC 3463 2, RFC 2034 4), the EHLO keywords the core follows. */
#include "smtp/smtp_parse.h"

#include <string.h>

#include "smtp/smtp_text.h"
#include "smtpsniff/reply.h"

static bool is_digit(uint8_t c)
{
    return c >= '0' && c <= '9';
}

bool smtp_reply_line_parse(const uint8_t *p, size_t n, struct smtp_reply_line *out)
{
    if (!(n >= 3 && p[0] >= '2' && p[0] <= '5' && is_digit(p[1]) && is_digit(p[2]) &&
          (n == 3 || p[3] == ' ' || p[3] == '-')))
        return false;
    out->code = (p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0');
    out->last = n == 3 || p[3] == ' ';
    out->text = n > 4 ? p + 4 : p + n;
    out->text_len = n > 4 ? n - 4 : 0;
    return true;
}

size_t smtp_enhanced_parse(const uint8_t *p, size_t n, char out[16], struct smtp_enhanced *e)
{
    size_t len;
    struct smtp_enhanced code;
    if (enhanced_parse_span(p, n, &code, &len) != 0 || len >= 16)
        return 0; /* the one grammar (codes/enhanced_codes.c) */
    memcpy(out, p, len);
    out[len] = '\0';
    *e = code;
    return len;
}

unsigned smtp_ehlo_keyword(const uint8_t *p, size_t n)
{
    size_t kl = 0;
    while (kl < n && p[kl] != ' ' && p[kl] != '=')
        kl++;
    if (kl == 10 && ascii_ieq(p, "PIPELINING", 10))
        return SMTP_EXT_PIPELINING;
    if (kl == 8 && ascii_ieq(p, "CHUNKING", 8))
        return SMTP_EXT_CHUNKING;
    if (kl == 8 && ascii_ieq(p, "SMTPUTF8", 8))
        return SMTP_EXT_SMTPUTF8;
    if (kl == 8 && ascii_ieq(p, "STARTTLS", 8))
        return SMTP_EXT_STARTTLS;
    return 0;
}
