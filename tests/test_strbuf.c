/* test_strbuf.c - the output buffer: numbers, times, and escaping of wire bytes for JSON and for
 * terminals (every byte value, invalid UTF-8, the bound on growth). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "lib/strbuf.h"

Test(strbuf, u64_matches_printf)
{
    const unsigned long long v[] = {0, 7, 10, 42, 99, 100, 101, 999, 1000, 65535, 1000000, 4294967296ULL,
                                    18446744073709551615ULL};
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        struct strbuf sb;
        sb_init(&sb, 64);
        sb_u64(&sb, v[i]);
        char want[32];
        snprintf(want, sizeof(want), "%llu", v[i]);
        cr_assert_str_eq(sb.p, want);
        sb_free(&sb);
    }
}

Test(strbuf, rfc3339_utc_microseconds)
{
    struct strbuf sb;
    sb_init(&sb, 128);
    struct timeval a = {1704067200, 12}, b = {1704067200, 999999}, c = {1732406400, 500000};
    sb_time_rfc3339(&sb, &a);
    sb_putc(&sb, ' ');
    sb_time_rfc3339(&sb, &b); /* same second: cached date */
    sb_putc(&sb, ' ');
    sb_time_rfc3339(&sb, &c);
    cr_assert_str_eq(sb.p, "2024-01-01T00:00:00.000012Z 2024-01-01T00:00:00.999999Z 2024-11-24T00:00:00.500000Z");
    sb_free(&sb);
}

Test(strbuf, json_escapes_every_byte_value)
{
    uint8_t all[256];
    for (int i = 0; i < 256; i++)
        all[i] = (uint8_t)i;
    struct strbuf sb;
    sb_init(&sb, 1 << 16);
    sb_json_str(&sb, all, sizeof(all));
    /* Valid JSON string: no raw control byte, no raw byte >= 0x80 (none of them is valid UTF-8 alone). */
    for (size_t i = 0; i < sb.len; i++)
        cr_assert(sb.p[i] >= 0x20 && (unsigned char)sb.p[i] < 0x80, "raw byte 0x%02x at %zu", (unsigned char)sb.p[i], i);
    cr_assert(strstr(sb.p, "\\u0000\\u0001") && strstr(sb.p, "\\n") && strstr(sb.p, "\\\"") && strstr(sb.p, "\\\\"));
    cr_assert(strstr(sb.p, "\\u00ff\""), "%s", sb.p);
    sb_free(&sb);
}

Test(strbuf, json_keeps_valid_utf8_rejects_overlong_and_surrogates)
{
    struct strbuf sb;
    sb_init(&sb, 256);
    const char in[] = "caf\xc3\xa9 \xc0\xaf \xed\xa0\x80 \xf0\x9f\x93\xa7";
    sb_json_str(&sb, (const uint8_t *)in, sizeof(in) - 1);
    cr_assert_str_eq(sb.p, "\"caf\xc3\xa9 \\u00c0\\u00af \\u00ed\\u00a0\\u0080 \xf0\x9f\x93\xa7\"");
    sb_free(&sb);
}

Test(strbuf, terminal_never_passes_control_bytes)
{
    const char in[] = "a\x1b[31mb\x07\x9b\xc2\x9b\r\n\xff ok \xc3\xa9";
    struct strbuf sb;
    sb_init(&sb, 256);
    sb_term_str(&sb, (const uint8_t *)in, sizeof(in) - 1, false);
    for (size_t i = 0; i < sb.len; i++)
        cr_assert((unsigned char)sb.p[i] >= 0x20 && sb.p[i] != 0x7f, "control byte at %zu: %s", i, sb.p);
    cr_assert_str_eq(sb.p, "a\\x1b[31mb\\x07\\x9b\\xc2\\x9b\\r\\n\\xff ok \xc3\xa9");
    sb_free(&sb);
}

Test(strbuf, esc_to_cstr_cuts_cleanly)
{
    char out[8];
    esc_to_cstr(out, sizeof(out), (const uint8_t *)"abcdefghij", 10);
    cr_assert_str_eq(out, "abcdefg");
    esc_to_cstr(out, sizeof(out), (const uint8_t *)"ab\x01" "cd", 5);
    cr_assert_str_eq(out, "ab\\x01c");
    esc_to_cstr(out, sizeof(out), (const uint8_t *)"abcd\x01", 5);
    cr_assert_str_eq(out, "abcd"); /* an escape that does not fit is left out whole */
    esc_to_cstr(out, sizeof(out), (const uint8_t *)"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", 8);
    cr_assert_str_eq(out, "\xc3\xa9\xc3\xa9\xc3\xa9"); /* never half a UTF-8 sequence */
}

Test(strbuf, growth_is_bounded)
{
    struct strbuf sb;
    sb_init(&sb, 10);
    sb_puts(&sb, "0123456789abcdef");
    sb_putc(&sb, 'x');
    cr_assert_eq(sb.len, 10);
    cr_assert(sb.truncated);
    cr_assert_str_eq(sb.p, "0123456789");
    sb_free(&sb);
}

/* The escapers look at 16-byte blocks and at overlapping tails (8- and 4-byte loads under 16):
 * one byte that needs escaping, at every position of every length up to 48, must be found, and
 * nothing else escaped. The expected text is built byte by byte here. */
Test(strbuf, escape_found_at_every_offset_and_length)
{
    static const uint8_t specials[] = {'"', '\\', 0x01, 0x1f, 0x7f, 0xff, '\n'};
    for (size_t n = 1; n <= 48; n++) {
        for (size_t at = 0; at < n; at++) {
            for (size_t k = 0; k < sizeof(specials); k++) {
                uint8_t in[48];
                for (size_t i = 0; i < n; i++)
                    in[i] = (uint8_t)('a' + i % 26);
                in[at] = specials[k];
                char want[128];
                int w = snprintf(want, sizeof(want), "\"%.*s", (int)at, (const char *)in);
                const char *esc = specials[k] == '"' ? "\\\"" : specials[k] == '\\' ? "\\\\" : specials[k] == '\n' ? "\\n" : NULL;
                if (esc)
                    w += snprintf(want + w, sizeof(want) - (size_t)w, "%s", esc);
                else
                    w += snprintf(want + w, sizeof(want) - (size_t)w, "\\u00%02x", specials[k]);
                snprintf(want + w, sizeof(want) - (size_t)w, "%.*s\"", (int)(n - at - 1), (const char *)in + at + 1);
                struct strbuf sb;
                sb_init(&sb, 256);
                sb_json_str(&sb, in, n);
                cr_assert_str_eq(sb.p, want, "n=%zu at=%zu byte=0x%02x", n, at, specials[k]);
                sb_free(&sb);

                char cs[256];
                esc_to_cstr(cs, sizeof(cs), in, n);
                const bool kept = specials[k] == '"' || specials[k] == '\\'; /* printable: kept */
                cr_assert_eq(strlen(cs), kept ? n : n + 3, "esc_to_cstr n=%zu at=%zu byte=0x%02x: %s", n, at,
                             specials[k], cs);
            }
        }
    }
}
