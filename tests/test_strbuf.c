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

/* UTF-8 of one code point (1 to 4 bytes) at o; returns its length. */
static size_t utf8_put(char *o, uint32_t cp)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xC0 | cp >> 6);
        o[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | cp >> 12);
        o[1] = (char)(0x80 | (cp >> 6 & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | cp >> 18);
    o[1] = (char)(0x80 | (cp >> 12 & 0x3F));
    o[2] = (char)(0x80 | (cp >> 6 & 0x3F));
    o[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* The terminal text and the JSON string of "a" cp "b". */
static void render_cp(uint32_t cp, char *term, size_t tsize, char *json, size_t jsize)
{
    char in[8] = "a";
    size_t n = 1 + utf8_put(in + 1, cp);
    in[n++] = 'b';
    struct strbuf sb;
    sb_init(&sb, 256);
    sb_term_str(&sb, (const uint8_t *)in, n, false);
    snprintf(term, tsize, "%s", sb.p);
    sb_reset(&sb);
    sb_json_str(&sb, (const uint8_t *)in, n);
    snprintf(json, jsize, "%s", sb.p);
    sb_free(&sb);
}

/* Unicode's format characters (Cf) and U+2028/2029 hide or reorder text on a terminal: escaped
 * byte by byte like C1 controls; JSON keeps them as \u escapes (surrogate pairs past the BMP). */
Test(strbuf, terminal_escapes_invisible_and_bidi_code_points)
{
    static const uint32_t hidden[] = {
        0x00AD, 0x0600, 0x0605, 0x061C, 0x06DD, 0x070F, 0x0890, 0x08E2, 0x180E, 0x200B, 0x200C, 0x200D,
        0x200E, 0x200F, 0x2028, 0x2029, 0x202A, 0x202B, 0x202C, 0x202D, 0x202E, 0x2060, 0x2061, 0x2064,
        0x2066, 0x2067, 0x2068, 0x2069, 0x206A, 0x206F, 0xFEFF, 0xFFF9, 0xFFFA, 0xFFFB, 0x110BD, 0x110CD,
        0x13430, 0x1343F, 0x1BCA0, 0x1BCA3, 0x1D173, 0x1D17A, 0xE0001, 0xE0020, 0xE0041, 0xE007F,
    };
    for (size_t k = 0; k < sizeof(hidden) / sizeof(hidden[0]); k++) {
        char utf8[4], want[64], term[64], json[64];
        size_t u = utf8_put(utf8, hidden[k]);
        int w = snprintf(want, sizeof(want), "a");
        for (size_t i = 0; i < u; i++)
            w += snprintf(want + w, sizeof(want) - (size_t)w, "\\x%02x", (unsigned char)utf8[i]);
        snprintf(want + w, sizeof(want) - (size_t)w, "b");
        render_cp(hidden[k], term, sizeof(term), json, sizeof(json));
        cr_assert_str_eq(term, want, "U+%04X", hidden[k]);
        if (hidden[k] < 0x10000) {
            snprintf(want, sizeof(want), "\"a\\u%04x" "b\"", hidden[k]);
        } else {
            uint32_t v = hidden[k] - 0x10000;
            snprintf(want, sizeof(want), "\"a\\u%04x\\u%04x" "b\"", 0xD800 | v >> 10, 0xDC00 | (v & 0x3FF));
        }
        cr_assert_str_eq(json, want, "U+%04X", hidden[k]);
    }
}

Test(strbuf, visible_neighbours_of_hidden_code_points_pass_as_they_are)
{
    static const uint32_t shown[] = {0x00A0, 0x00AC, 0x00AE, 0x00E9, 0x05FF, 0x0606, 0x061B, 0x061D, 0x180D,
                                     0x180F, 0x200A, 0x2010, 0x2027, 0x202F, 0x205F, 0x2065, 0x2070, 0xFEFE,
                                     0xFF00, 0xFFF8, 0xFFFC, 0xFFFD, 0x1F4E7, 0xE0000, 0xE0002, 0xE0080};
    for (size_t k = 0; k < sizeof(shown) / sizeof(shown[0]); k++) {
        char in[8] = "a", want[16], term[64], json[64];
        size_t n = 1 + utf8_put(in + 1, shown[k]);
        in[n++] = 'b';
        in[n] = '\0';
        render_cp(shown[k], term, sizeof(term), json, sizeof(json));
        cr_assert_str_eq(term, in, "U+%04X", shown[k]);
        snprintf(want, sizeof(want), "\"%s\"", in);
        cr_assert_str_eq(json, want, "U+%04X", shown[k]);
    }
}

Test(strbuf, terminal_shows_a_reversed_address_as_escapes)
{
    /* U+202E RIGHT-TO-LEFT OVERRIDE: "moc.elpmaxe@ecila" would show as "alice@example.com" */
    const char in[] = "<\xe2\x80\xaemoc.elpmaxe@ecila\xe2\x80\xac> \xef\xbb\xbfx\xe2\x80\x8by \xff\xe2\x80";
    struct strbuf sb;
    sb_init(&sb, 256);
    sb_term_str(&sb, (const uint8_t *)in, sizeof(in) - 1, false);
    cr_assert_str_eq(sb.p, "<\\xe2\\x80\\xaemoc.elpmaxe@ecila\\xe2\\x80\\xac> \\xef\\xbb\\xbfx\\xe2\\x80\\x8by "
                           "\\xff\\xe2\\x80");
    sb_free(&sb);
}

/* Capture times RFC 3339 cannot write say so; the first time formatted in a process may be any
 * second (the per-second cache has no sentinel a time can equal). */
static const char *time_text(time_t sec, long usec)
{
    static char out[64];
    struct strbuf sb;
    sb_init(&sb, 64);
    struct timeval tv = {sec, usec};
    sb_time_rfc3339(&sb, &tv);
    sb_putc(&sb, ' ');
    sb_json_time(&sb, &tv);
    snprintf(out, sizeof(out), "%s", sb.p);
    sb_free(&sb);
    return out;
}

Test(strbuf, rfc3339_minus_one_first_is_invalid_not_a_cache_hit)
{
    cr_assert_str_eq(time_text(-1, 5), "invalid-time null");
    cr_assert_str_eq(time_text(0, 0), "1970-01-01T00:00:00.000000Z \"1970-01-01T00:00:00.000000Z\"");
}

Test(strbuf, rfc3339_edges_of_the_four_digit_year)
{
    cr_assert_str_eq(time_text(4294967295, 999999), "2106-02-07T06:28:15.999999Z \"2106-02-07T06:28:15.999999Z\"");
    cr_assert_str_eq(time_text(253402300799, 999999), "9999-12-31T23:59:59.999999Z \"9999-12-31T23:59:59.999999Z\"");
    cr_assert_str_eq(time_text(253402300800, 0), "invalid-time null");
    cr_assert_str_eq(time_text((time_t)1 << 62, 0), "invalid-time null"); /* gmtime_r fails here */
    cr_assert_str_eq(time_text(INT64_MAX, 0), "invalid-time null");
    cr_assert_str_eq(time_text(1704067200, 1000000), "invalid-time null");
    cr_assert_str_eq(time_text(1704067200, -1), "invalid-time null");
    cr_assert_str_eq(time_text(1704067200, 0), "2024-01-01T00:00:00.000000Z \"2024-01-01T00:00:00.000000Z\"");
}

/* The run scanner hands every byte >= 0x80 to the slow path: U+202E at every offset of every
 * length up to 48 (16-byte blocks, overlapping tails) is escaped, the ASCII around it kept. */
Test(strbuf, hidden_code_point_found_at_every_offset_and_length)
{
    for (size_t n = 3; n <= 48; n++) {
        for (size_t at = 0; at + 3 <= n; at++) {
            uint8_t in[48];
            for (size_t i = 0; i < n; i++)
                in[i] = (uint8_t)('a' + i % 26);
            memcpy(in + at, "\xe2\x80\xae", 3);
            char want[160];
            snprintf(want, sizeof(want), "%.*s\\xe2\\x80\\xae%.*s", (int)at, (const char *)in, (int)(n - at - 3),
                     (const char *)in + at + 3);
            struct strbuf sb;
            sb_init(&sb, 256);
            sb_term_str(&sb, in, n, false);
            cr_assert_str_eq(sb.p, want, "n=%zu at=%zu", n, at);
            sb_reset(&sb);
            sb_json_str(&sb, in, n);
            snprintf(want, sizeof(want), "\"%.*s\\u202e%.*s\"", (int)at, (const char *)in, (int)(n - at - 3),
                     (const char *)in + at + 3);
            cr_assert_str_eq(sb.p, want, "json n=%zu at=%zu", n, at);
            sb_free(&sb);
        }
    }
}
