/* smtp_text.h - ASCII helpers for wire bytes (a leaf: every core file may use it). */
#ifndef SMTPSNIFF_SMTP_TEXT_H
#define SMTPSNIFF_SMTP_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

static inline uint8_t ascii_upper(uint8_t c)
{
    return (c >= 'a' && c <= 'z') ? (uint8_t)(c - 32) : c;
}

/* The n bytes at p are `upper` (upper-case ASCII) in any case. */
static inline bool ascii_ieq(const uint8_t *p, const char *upper, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (ascii_upper(p[i]) != (uint8_t)upper[i])
            return false;
    return true;
}

#endif
