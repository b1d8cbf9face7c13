/* test_json.c - the one JSON writer (lib/json.h): its pretty layout (summary, explain --json) and
 * its compact value writers (JSON Lines), escaping included. */
#include <criterion/criterion.h>
#include <string.h>

#include "lib/json.h"
#include "sinks/sinks.h"
#include "smtp/smtp_core.h"

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

/* ---- JSON Lines through the core: the header list (SMTP_HEADER_LIST) ---- */

static char *core_to_json(const char *const *client, const char *const *server, size_t n)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    cr_assert_not_null(f);
    struct smtp_sink *k = out_json_new(&(struct out_json_opts){.out = f});
    struct smtp_endpoint c = {"192.0.2.1", 40000}, sv = {"192.0.2.25", 25};
    struct timeval ts = {1700000000, 0};
    struct smtp_session *s = smtp_session_new(1, &c, &sv, &ts, k, 0);
    for (size_t i = 0; i < n; i++) {
        ts.tv_usec += 1000;
        if (server[i])
            smtp_session_data(s, SMTP_DIR_SERVER, (const uint8_t *)server[i], strlen(server[i]), &ts);
        if (client[i])
            smtp_session_data(s, SMTP_DIR_CLIENT, (const uint8_t *)client[i], strlen(client[i]), &ts);
    }
    smtp_session_end(s, SMTP_END_CLOSE, &ts);
    smtp_session_free(s);
    out_json_free(k);
    fclose(f);
    return buf;
}

/* Every header the list keeps reaches its field and its JSON key, an ALSO name (X-Mailer) the
 * same field as its ONE name (User-Agent), and a MANY header (Received) every occurrence. */
Test(json_lines, every_kept_header_under_its_key)
{
    static const char *const client[] = {
        "EHLO c.example\r\n",
        "MAIL FROM:<a@example.net>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n",
        NULL,
        "Received: from one\r\nReceived: from two\r\nDate: D1\r\nFrom: F1\r\nTo: T1\r\nCc: C1\r\n"
        "Reply-To: R1\r\nMessage-ID: <M1>\r\nIn-Reply-To: <I1>\r\nSubject: S1\r\nUser-Agent: UA1\r\n"
        "X-Originating-IP: 198.51.100.1\r\n\r\nbody\r\n.\r\n",
        "MAIL FROM:<a@example.net>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n",
        NULL,
        "X-Mailer: XM2\r\nSubject: S2\r\n\r\nbody\r\n.\r\nQUIT\r\n",
        NULL,
    };
    static const char *const server[] = {
        "220 mx ESMTP\r\n",
        "250-mx\r\n250 PIPELINING\r\n",
        "250 ok\r\n250 ok\r\n354 go\r\n",
        NULL,
        "250 queued\r\n",
        "250 ok\r\n250 ok\r\n354 go\r\n",
        NULL,
        "250 queued\r\n221 bye\r\n",
    };
    char *out = core_to_json(client, server, sizeof(client) / sizeof(client[0]));
    static const char *const want[] = {
        "\"message\":{\"size\":", "\"date\":\"D1\",\"from\":\"F1\",\"to\":\"T1\",\"cc\":\"C1\",\"reply_to\":\"R1\","
        "\"message_id\":\"<M1>\",\"in_reply_to\":\"<I1>\",\"subject\":\"S1\",\"user_agent\":\"UA1\","
        "\"x_originating_ip\":\"198.51.100.1\",\"received\":[\"from one\",\"from two\"]}",
        "\"date\":null,\"from\":null,\"to\":null,\"cc\":null,\"reply_to\":null,\"message_id\":null,"
        "\"in_reply_to\":null,\"subject\":\"S2\",\"user_agent\":\"XM2\",\"x_originating_ip\":null,\"received\":[]}",
    };
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
        cr_expect(strstr(out, want[i]) != NULL, "missing %s in\n%s", want[i], out);
    free(out);
}
