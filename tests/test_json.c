/* test_json.c - the one JSON writer (lib/json.h): its pretty layout (summary, explain --json) and
 * its compact value writers (JSON Lines), escaping included. */
#include <criterion/criterion.h>
#include <string.h>

#include "lib/json.h"

Test(json_writer, pretty_nesting_and_empty_containers)
{
    struct strbuf sb;
    sb_init(&sb, 4096);
    struct json_pretty j = json_pretty_begin(&sb);
    jp_open(&j, NULL, '{');
    jp_u64(&j, "n", 18446744073709551615ULL);
    jp_i64(&j, "neg", -5);
    jp_open(&j, "empty", '{');
    jp_close(&j, '}');
    jp_open(&j, "list", '[');
    jp_str(&j, NULL, "a\"b");
    jp_str(&j, NULL, NULL);
    jp_open(&j, NULL, '[');
    jp_close(&j, ']');
    jp_close(&j, ']');
    jp_bool(&j, "yes", true);
    jp_time(&j, "never", &(struct timeval){0, 0}, false);
    jp_time(&j, "epoch", &(struct timeval){0, 0}, true);
    jp_time(&j, "at", &(struct timeval){1714557600, 123456}, true);
    jp_name(&j, "name\n", "ab\xff", 2);
    jp_close(&j, '}');
    cr_assert_str_eq(sb.p, "{\n"
                           "  \"n\": 18446744073709551615,\n"
                           "  \"neg\": -5,\n"
                           "  \"empty\": {},\n"
                           "  \"list\": [\n"
                           "    \"a\\\"b\",\n"
                           "    null,\n"
                           "    []\n"
                           "  ],\n"
                           "  \"yes\": true,\n"
                           "  \"never\": null,\n"
                           "  \"epoch\": \"1970-01-01T00:00:00.000000Z\",\n"
                           "  \"at\": \"2024-05-01T10:00:00.123456Z\",\n"
                           "  \"name\\n\": \"ab\"\n"
                           "}");
    sb_free(&sb);
}

Test(json_writer, compact_values)
{
    struct strbuf sb;
    sb_init(&sb, 4096);
    sb_putc(&sb, '{');
    SB_LIT(&sb, "\"a\":");
    json_null(&sb);
    JSON_KEY(&sb, "b");
    json_bool(&sb, false);
    JSON_KEY(&sb, "c");
    json_cstr_or_null(&sb, "");
    JSON_KEY(&sb, "d");
    json_cstr_or_null(&sb, "x");
    JSON_KEY(&sb, "e");
    json_str(&sb, (const uint8_t *)"\x01\xc3\xa9\xc3", 4);
    JSON_KEY(&sb, "f");
    json_time(&sb, &(struct timeval){1714557600, 5});
    sb_putc(&sb, '}');
    cr_assert_str_eq(sb.p, "{\"a\":null,\"b\":false,\"c\":null,\"d\":\"x\",\"e\":\"\\u0001\xc3\xa9\\u00c3\","
                           "\"f\":\"2024-05-01T10:00:00.000005Z\"}");
    sb_free(&sb);
}
