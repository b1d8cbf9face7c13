/* test_reply.c - the reply-code knowledge base: every basic code 000..999 resolves to its own
 * row, the RFC-named codes and the IANA enhanced status registry are all present. */
#include <criterion/criterion.h>
#include <string.h>

#include "smtpsniff/reply.h"

/* Every basic code an RFC names, kept here independently of the table. */
static const int listed_codes[] = {
    211, 214, 220, 221, 235, 250, 251, 252, 253, 334, 354, 355, 421, 432, 450, 451, 452, 453,
    454, 455, 458, 459, 500, 501, 502, 503, 504, 521, 523, 525, 530, 534, 535, 538, 550, 551,
    552, 553, 554, 555, 556,
};
#define NLISTED (sizeof(listed_codes) / sizeof(listed_codes[0]))

/* The IANA "Enumerated Status Codes" registry (RFC 5248 and later additions). */
static const char *const registry[] = {
    "X.0.0",
    "X.1.0", "X.1.1", "X.1.2", "X.1.3", "X.1.4", "X.1.5", "X.1.6", "X.1.7", "X.1.8", "X.1.9",
    "X.1.10",
    "X.2.0", "X.2.1", "X.2.2", "X.2.3", "X.2.4",
    "X.3.0", "X.3.1", "X.3.2", "X.3.3", "X.3.4", "X.3.5", "X.3.6",
    "X.4.0", "X.4.1", "X.4.2", "X.4.3", "X.4.4", "X.4.5", "X.4.6", "X.4.7",
    "X.5.0", "X.5.1", "X.5.2", "X.5.3", "X.5.4", "X.5.5", "X.5.6",
    "X.6.0", "X.6.1", "X.6.2", "X.6.3", "X.6.4", "X.6.5", "X.6.6", "X.6.7", "X.6.8", "X.6.9",
    "X.6.10",
    "X.7.0", "X.7.1", "X.7.2", "X.7.3", "X.7.4", "X.7.5", "X.7.6", "X.7.7", "X.7.8", "X.7.9",
    "X.7.10", "X.7.11", "X.7.12", "X.7.13", "X.7.14", "X.7.15", "X.7.16", "X.7.17", "X.7.18",
    "X.7.19", "X.7.20", "X.7.21", "X.7.22", "X.7.23", "X.7.24", "X.7.25", "X.7.26", "X.7.27",
    "X.7.28", "X.7.29", "X.7.30",
};
#define NREGISTRY (sizeof(registry) / sizeof(registry[0]))

static bool is_listed(int code)
{
    for (size_t i = 0; i < NLISTED; i++)
        if (listed_codes[i] == code)
            return true;
    return false;
}

static bool printable_ascii(const char *s)
{
    for (; *s; s++)
        if (*s < 0x20 || *s > 0x7e)
            return false;
    return true;
}

Test(reply, every_row_code_equals_its_index)
{
    for (int code = 0; code <= 999; code++) {
        const struct reply_entry *e = reply_lookup(code);
        cr_assert_not_null(e);
        cr_assert_eq(e->code, code, "row for %d holds %d", code, e->code);
        cr_assert(e->name && e->meaning && e->when && e->resolve && e->source);
        cr_assert(printable_ascii(e->name) && printable_ascii(e->meaning), "%d", code);
        cr_assert(printable_ascii(e->when) && printable_ascii(e->resolve), "%d", code);
    }
}

Test(reply, out_of_range_is_invalid_not_null)
{
    const int bad[] = { -1, -1000, 1000, 123456 };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        const struct reply_entry *e = reply_lookup(bad[i]);
        cr_assert_not_null(e);
        cr_assert_eq(e->code, -1);
        cr_assert(!e->valid && !e->listed);
        cr_assert_str_eq(reply_class_label(bad[i]), "invalid");
    }
}

Test(reply, class_and_category_of_200_to_599)
{
    static const char *const labels[] = { "2xx", "3xx", "4xx", "5xx" };
    static const char *const names[] = { "Positive Completion", "Positive Intermediate",
                                         "Transient Negative Completion",
                                         "Permanent Negative Completion" };
    static const char *const cats[] = { "Syntax", "Information", "Connections", "Unspecified",
                                        "Unspecified", "Mail system", "Undefined", "Undefined",
                                        "Undefined", "Undefined" };
    for (int code = 200; code <= 599; code++) {
        int h = code / 100, t = code / 10 % 10;
        cr_assert_str_eq(reply_class_label(code), labels[h - 2], "%d", code);
        cr_assert_str_eq(reply_class_name(code), names[h - 2], "%d", code);
        cr_assert_str_eq(reply_category_name(code), cats[t], "%d", code);
        cr_assert(reply_lookup(code)->valid, "%d: every code 200-599 is valid", code);
        (void)t;
    }
}

Test(reply, no_class_outside_2_to_5)
{
    for (int code = 0; code <= 999; code++) {
        if (code >= 200 && code <= 599)
            continue;
        cr_assert(!reply_lookup(code)->valid, "%d", code);
        cr_assert(!reply_lookup(code)->listed, "%d", code);
        cr_assert_str_eq(reply_class_label(code), "invalid", "%d", code);
        cr_assert_str_eq(reply_class_name(code), "invalid", "%d", code);
        cr_assert_str_eq(reply_category_name(code), "invalid", "%d", code);
    }
}

Test(reply, listed_set_is_exactly_the_rfc_codes)
{
    for (int code = 0; code <= 999; code++) {
        const struct reply_entry *e = reply_lookup(code);
        cr_assert_eq(e->listed, is_listed(code), "%d listed=%d", code, e->listed);
        if (!e->listed)
            continue;
        cr_assert(e->valid, "%d", code);
        cr_assert(strncmp(e->source, "RFC ", 4) == 0, "%d source '%s'", code, e->source);
        cr_assert(*e->name && *e->meaning && *e->when && *e->resolve, "%d", code);
        cr_assert(strstr(e->name, "Unlisted") == NULL, "%d", code);
    }
}

static void assert_has(int code, const char *field, const char *text, const char *phrase)
{
    cr_assert(strstr(text, phrase) != NULL, "%d %s lacks \"%s\": %s", code, field, phrase, text);
}

Test(reply, seed_220_service_ready)
{
    const struct reply_entry *e = reply_lookup(220);
    cr_assert_str_eq(e->name, "Service Ready");
    assert_has(220, "meaning", e->meaning, "ready to begin a mail transaction");
    assert_has(220, "meaning", e->meaning, "first reply");
    assert_has(220, "meaning", e->meaning, "host name and software");
    assert_has(220, "when", e->when, "25, 465 or 587");
    assert_has(220, "resolve", e->resolve, "firewall");
}

Test(reply, seed_250_ok)
{
    const struct reply_entry *e = reply_lookup(250);
    cr_assert_str_eq(e->name, "OK");
    assert_has(250, "meaning", e->meaning, "most common positive reply");
    assert_has(250, "meaning", e->meaning, "HELO/EHLO, MAIL FROM, RCPT TO and the completion of DATA");
    assert_has(250, "resolve", e->resolve, "Nothing to fix");
    assert_has(250, "resolve", e->resolve, "syntax");
}

Test(reply, seed_252_cannot_verify)
{
    const struct reply_entry *e = reply_lookup(252);
    cr_assert_str_eq(e->name, "Cannot Verify User");
    assert_has(252, "meaning", e->meaning, "cannot verify the user");
    assert_has(252, "meaning", e->meaning, "accept the message and attempt delivery");
    assert_has(252, "meaning", e->meaning, "VRFY");
    assert_has(252, "when", e->when, "neither confirm nor deny");
    assert_has(252, "resolve", e->resolve, "bounce");
}

Test(reply, seed_500_syntax_error)
{
    const struct reply_entry *e = reply_lookup(500);
    cr_assert_str_eq(e->name, "Syntax Error");
    assert_has(500, "meaning", e->meaning, "syntax error");
    assert_has(500, "when", e->when, "typo");
    assert_has(500, "when", e->when, "too long");
    assert_has(500, "resolve", e->resolve, "512 characters");
    assert_has(500, "resolve", e->resolve, "CRLF");
}

Test(reply, seed_502_not_implemented)
{
    const struct reply_entry *e = reply_lookup(502);
    cr_assert_str_eq(e->name, "Command Not Implemented");
    assert_has(502, "meaning", e->meaning, "does not implement it");
    assert_has(502, "meaning", e->meaning, "understands the command");
    assert_has(502, "when", e->when, "VRFY, EXPN or TURN");
    assert_has(502, "when", e->when, "administrator has disabled");
    assert_has(502, "resolve", e->resolve, "send a test message");
    assert_has(502, "resolve", e->resolve, "EHLO");
}

Test(reply, seed_504_parameter_not_implemented)
{
    const struct reply_entry *e = reply_lookup(504);
    cr_assert_str_eq(e->name, "Parameter Not Implemented");
    assert_has(504, "meaning", e->meaning, "parameter is not implemented");
    assert_has(504, "meaning", e->meaning, "command itself is valid");
    assert_has(504, "when", e->when, "AUTH mechanism");
    assert_has(504, "when", e->when, "MAIL FROM parameter");
    assert_has(504, "resolve", e->resolve, "EHLO");
}

Test(reply, unlisted_well_formed_codes_keep_class)
{
    const struct reply_entry *e = reply_lookup(259);
    cr_assert(e->valid && !e->listed);
    cr_assert_str_eq(e->name, "Unlisted code (2xx Positive Completion, Mail system)");
    e = reply_lookup(432 + 1);
    cr_assert(e->valid && !e->listed);
    cr_assert_str_eq(e->name, "Unlisted code (4xx Transient Negative Completion, Unspecified)");
    e = reply_lookup(571);
    cr_assert_str_eq(reply_class_label(571), "5xx");
    cr_assert(!e->listed);
}

Test(reply, second_digit_6_to_9_is_valid_unlisted_and_classed)
{
    /* A real 472 is seen in the wild: valid, unlisted, class from its first digit (STYLE 13). */
    const int codes[] = { 472, 262, 299, 596 };
    for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
        const struct reply_entry *e = reply_lookup(codes[i]);
        cr_assert(e->valid && !e->listed, "%d", codes[i]);
        cr_assert_str_neq(reply_class_label(codes[i]), "invalid", "%d", codes[i]);
        cr_assert_str_eq(reply_category_name(codes[i]), "Undefined", "%d", codes[i]);
        cr_assert(strstr(e->name, "Unlisted") != NULL, "%d", codes[i]);
    }
    cr_assert_str_eq(reply_class_name(472), "Transient Negative Completion");
}

Test(reply, first_digit_outside_2_to_5_is_invalid)
{
    const int codes[] = { 0, 99, 100, 199, 600, 654, 999 };
    for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
        const struct reply_entry *e = reply_lookup(codes[i]);
        cr_assert(!e->valid && !e->listed, "%d", codes[i]);
        cr_assert_str_eq(e->name, "Invalid reply code");
        assert_has(codes[i], "meaning", e->meaning, "RFC 5321 4.2");
    }
}

Test(reply, context_meanings)
{
    cr_assert_str_eq(reply_context_meaning(SMTP_VERB_RCPT, 250), "recipient accepted");
    cr_assert_str_eq(reply_context_meaning(SMTP_VERB_MAIL, 250), "sender accepted");
    cr_assert_str_eq(reply_context_meaning(SMTP_VERB_END_OF_DATA, 250),
                     "message accepted for delivery");
    cr_assert(strstr(reply_context_meaning(SMTP_VERB_BDAT, 250), "chunk accepted"));
    cr_assert(strstr(reply_context_meaning(SMTP_VERB_EHLO, 250), "greeting accepted"));
    cr_assert(strstr(reply_context_meaning(SMTP_VERB_LHLO, 250), "greeting accepted"));
    cr_assert_str_eq(reply_context_meaning(SMTP_VERB_HELO, 250), "greeting accepted");
    cr_assert_str_eq(reply_context_meaning(SMTP_VERB_RSET, 250), "transaction reset");
    cr_assert_str_eq(reply_context_meaning(SMTP_VERB_AUTH, 334), "server challenge (base64)");
    cr_assert_str_eq(reply_context_meaning(SMTP_VERB_SASL, 334), "server challenge (base64)");
    cr_assert_str_eq(reply_context_meaning(SMTP_VERB_AUTH, 235), "authentication succeeded");
    cr_assert_str_eq(reply_context_meaning(SMTP_VERB_SASL, 535), "credentials rejected");
    cr_assert_str_eq(reply_context_meaning(SMTP_VERB_DATA, 354),
                     "start mail input; end with <CRLF>.<CRLF>");
    cr_assert_str_eq(reply_context_meaning(SMTP_VERB_QUIT, 221), "closing connection");
    cr_assert_str_eq(reply_context_meaning(SMTP_VERB_STARTTLS, 220), "ready to start TLS");
    cr_assert(strstr(reply_context_meaning(SMTP_VERB_GREETING, 220), "server greeting"));
    cr_assert_str_eq(reply_context_meaning(SMTP_VERB_RCPT, 550), "recipient rejected");
    cr_assert_str_eq(reply_context_meaning(SMTP_VERB_END_OF_DATA, 554), "message rejected");
    cr_assert(strstr(reply_context_meaning(SMTP_VERB_END_OF_DATA, 451), "message deferred"));
    cr_assert(strstr(reply_context_meaning(SMTP_VERB_VRFY, 252), "cannot verify"));
    /* RFC 5321 4.2.4: 502 is "command not implemented"; nothing says an administrator did it. */
    cr_assert_str_eq(reply_context_meaning(SMTP_VERB_VRFY, 502), "command not implemented");
    cr_assert_str_eq(reply_context_meaning(SMTP_VERB_EXPN, 502), "command not implemented");
    cr_assert_str_eq(reply_context_meaning(SMTP_VERB_UNKNOWN, 500), "command not recognised");
    /* postfix answers HELP and EXPN with "500 5.5.2 Error: command not recognized": not the
     * code's name, "Syntax Error", which blames the client's syntax */
    cr_assert_str_eq(reply_context_meaning(SMTP_VERB_HELP, 500), "command not recognised");
    cr_assert_str_eq(reply_context_meaning(SMTP_VERB_EXPN, 500), "command not recognised");
    cr_assert_str_eq(reply_context_meaning(SMTP_VERB_HELP, 214), "help text");
    cr_assert_str_eq(reply_context_meaning(SMTP_VERB_HELP, 250), "help text");
    cr_assert_str_eq(reply_context(SMTP_ANSWER_COMMAND, SMTP_VERB_BDAT, REPLY_VARIANT_NONE, 250, NULL),
                     "chunk accepted");
    cr_assert_str_eq(reply_context(SMTP_ANSWER_COMMAND, SMTP_VERB_BDAT, REPLY_VARIANT_BDAT_LAST, 250, NULL),
                     "message accepted for delivery");
    cr_assert(strstr(reply_context(SMTP_ANSWER_CONNECTION_LOST, SMTP_VERB_UNKNOWN, REPLY_VARIANT_NONE, 421, NULL),
                     "client left"));
    /* A 554 nobody asked for is not a refusal at greeting. */
    cr_assert_null(reply_context(SMTP_ANSWER_UNSOLICITED, SMTP_VERB_UNKNOWN, REPLY_VARIANT_NONE, 554, NULL));
    cr_assert(strstr(reply_context_meaning(SMTP_VERB_GREETING, 554), "connection refused"));
}

Test(reply, context_421_anywhere_and_null_when_plain)
{
    for (int v = 0; v < SMTP_VERB_COUNT; v++)
        cr_assert(strstr(reply_context_meaning((enum smtp_verb)v, 421), "shutting down"), "%d", v);
    cr_assert_null(reply_context_meaning(SMTP_VERB_NOOP, 500));
    cr_assert_null(reply_context_meaning(SMTP_VERB_RCPT, 354));
    cr_assert_null(reply_context_meaning(SMTP_VERB_UNKNOWN, 250));
}

Test(enhanced, registry_is_complete)
{
    for (size_t i = 0; i < NREGISTRY; i++) {
        int s = -1, d = -1;
        cr_assert_eq(sscanf(registry[i], "X.%d.%d", &s, &d), 2);
        const struct enhanced_entry *e = enhanced_lookup(s, d);
        cr_assert_not_null(e, "%s missing", registry[i]);
        cr_assert_str_eq(e->code, registry[i]);
        cr_assert(*e->name && *e->meaning && *e->source, "%s", registry[i]);
        cr_assert(printable_ascii(e->name) && printable_ascii(e->meaning), "%s", registry[i]);
    }
}

Test(enhanced, nothing_beyond_the_registry)
{
    size_t found = 0;
    for (int s = 0; s <= 20; s++)
        for (int d = 0; d <= 200; d++)
            found += enhanced_lookup(s, d) != NULL;
    cr_assert_eq(found, NREGISTRY);
    cr_assert_null(enhanced_lookup(1, 11));
    cr_assert_null(enhanced_lookup(7, 31));
    cr_assert_null(enhanced_lookup(8, 0));
    cr_assert_null(enhanced_lookup(-1, 0));
}

Test(enhanced, known_names)
{
    cr_assert_str_eq(enhanced_lookup(1, 1)->name, "Bad destination mailbox address");
    cr_assert_str_eq(enhanced_lookup(2, 2)->name, "Mailbox full");
    cr_assert_str_eq(enhanced_lookup(7, 8)->name, "Authentication credentials invalid");
    cr_assert_str_eq(enhanced_lookup(7, 26)->name, "Multiple authentication checks failed");
    cr_assert_str_eq(enhanced_lookup(7, 30)->name, "REQUIRETLS support required");
    cr_assert_str_eq(enhanced_lookup(7, 30)->source, "RFC 8689");
    cr_assert_str_eq(enhanced_usual_replies(1, 1), "451, 550");
    cr_assert_str_eq(enhanced_usual_replies(4, 4), "");
    cr_assert_str_eq(enhanced_usual_replies(9, 9), "");
}

Test(enhanced, parse_accepts)
{
    int c, s, d;
    cr_assert_eq(enhanced_parse("5.1.1", &c, &s, &d), 0);
    cr_assert(c == 5 && s == 1 && d == 1);
    cr_assert_eq(enhanced_parse("2.0.0", &c, &s, &d), 0);
    cr_assert(c == 2 && s == 0 && d == 0);
    cr_assert_eq(enhanced_parse("4.7.30", &c, &s, &d), 0);
    cr_assert(c == 4 && s == 7 && d == 30);
    cr_assert_eq(enhanced_parse("5.999.999", &c, &s, &d), 0);
    cr_assert(s == 999 && d == 999);
}

/* RFC 3463 2: subject and detail are 1*3digit, so leading zeros are digits like any other. */
Test(enhanced, parse_leading_zeros)
{
    int c, s, d;
    cr_assert_eq(enhanced_parse("5.01.1", &c, &s, &d), 0);
    cr_assert(c == 5 && s == 1 && d == 1);
    cr_assert_eq(enhanced_parse("4.007.000", &c, &s, &d), 0);
    cr_assert(c == 4 && s == 7 && d == 0);
}

/* The span form the core uses: the code ends at the end or at a space, and says how long it is. */
Test(enhanced, parse_span)
{
    static const struct {
        const char *text;
        int ok;
        size_t used;
        unsigned cls, subject, detail;
    } rows[] = {
        {"5.1.1 User unknown", 0, 5, 5, 1, 1},
        {"2.0.0", 0, 5, 2, 0, 0},
        {"4.7.030 greylisted", 0, 7, 4, 7, 30},
        {"5.1.1\tUser", -1, 0, 0, 0, 0},
        {"5.1.1.2 x", -1, 0, 0, 0, 0},
        {"5.1.1000 x", -1, 0, 0, 0, 0},
        {"3.1.1 x", -1, 0, 0, 0, 0},
        {"OK", -1, 0, 0, 0, 0},
        {"5.1", -1, 0, 0, 0, 0},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        struct smtp_enhanced e = {9, 9, 9};
        size_t used = 99;
        int rc = enhanced_parse_span((const uint8_t *)rows[i].text, strlen(rows[i].text), &e, &used);
        cr_expect_eq(rc, rows[i].ok, "\"%s\": %d", rows[i].text, rc);
        if (rows[i].ok == 0)
            cr_expect(used == rows[i].used && e.cls == rows[i].cls && e.subject == rows[i].subject &&
                          e.detail == rows[i].detail,
                      "\"%s\": %zu %u.%u.%u", rows[i].text, used, e.cls, e.subject, e.detail);
        else
            cr_expect(used == 99 && e.cls == 9, "\"%s\" wrote outputs", rows[i].text);
    }
}

Test(enhanced, parse_rejects)
{
    static const char *const bad[] = {
        "5.x", "1.1.1", "6.0.0", "5.1", "", "5.1.1000", "3.1.1", "5.1.1.", "5..1", ".5.1.1",
        "5.0001.1", "5.1.0001", "55.1.1", "5.1.1 ", " 5.1.1", "5.1.-1", "5,1,1", "x.1.1", "05.1.1",
        "5.1.1x", "5.1.", "5.",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int c = -7, s = -7, d = -7;
        cr_assert_eq(enhanced_parse(bad[i], &c, &s, &d), -1, "accepted \"%s\"", bad[i]);
        cr_assert(c == -7 && s == -7 && d == -7, "\"%s\" wrote outputs", bad[i]);
    }
}

Test(enhanced, class_and_subject_names)
{
    cr_assert_str_eq(enhanced_class_name(2), "Success");
    cr_assert_str_eq(enhanced_class_name(4), "Persistent Transient Failure");
    cr_assert_str_eq(enhanced_class_name(5), "Permanent Failure");
    cr_assert_str_eq(enhanced_class_name(3), "invalid");
    static const char *const subjects[] = {
        "Other or Undefined Status", "Addressing Status", "Mailbox Status",
        "Mail System Status", "Network and Routing Status", "Mail Delivery Protocol Status",
        "Message Content or Media Status", "Security or Policy Status",
    };
    for (int i = 0; i < 8; i++)
        cr_assert_str_eq(enhanced_subject_name(i), subjects[i]);
    cr_assert_str_eq(enhanced_subject_name(8), "Unregistered subject");
    cr_assert_str_eq(enhanced_subject_name(-1), "Unregistered subject");
}
