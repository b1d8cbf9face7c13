/* smtp_base64.h - RFC 4648 base64 decoding (a leaf: AUTH and RFC 2047 words use it). */
#ifndef SMTPSNIFF_SMTP_BASE64_H
#define SMTPSNIFF_SMTP_BASE64_H

#include <stddef.h>
#include <stdint.h>

/* Decodes up to outsz bytes; stops at '=' or the first byte outside the alphabet. */
size_t smtp_base64_decode(const uint8_t *in, size_t n, uint8_t *out, size_t outsz);

#endif
