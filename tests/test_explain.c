/* test_explain.c - `smtpsniff explain`: one code, two codes, --json, and bad input, run through
 * explain_main() with temporary files for its output and error streams. */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smtpsniff/reply.h"

struct run {
    int rc;
    char *out, *err;
};

static char *slurp(FILE *f)
{
    long n = ftell(f);
    cr_assert(n >= 0);
    char *buf = malloc((size_t)n + 1);
    cr_assert_not_null(buf);
    rewind(f);
    size_t got = fread(buf, 1, (size_t)n, f);
    cr_assert_eq(got, (size_t)n);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

/* explain_main("explain", args..., NULL). */
static struct run run_explain(const char *first, ...)
{
    char *argv[8];
    int argc = 0;
    argv[argc++] = (char *)"explain";
    va_list ap;
    va_start(ap, first);
    for (const char *a = first; a && argc < 7; a = va_arg(ap, const char *))
        argv[argc++] = (char *)a;
    va_end(ap);
    argv[argc] = NULL;
    FILE *out = tmpfile(), *err = tmpfile();
    cr_assert(out && err);
    struct run r;
    r.rc = explain_main(argc, argv, out, err);
    r.out = slurp(out);
    r.err = slurp(err);
    return r;
}

static void run_free(struct run *r)
{
    free(r->out);
    free(r->err);
}

static size_t count_lines(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

/* Every line fits an 80-column terminal and holds printable ASCII only. */
static void assert_terminal_text(const char *s, const char *what)
{
    size_t col = 0;
    for (; *s; s++) {
        if (*s == '\n') {
            col = 0;
            continue;
        }
        cr_assert(*s >= 0x20 && *s < 0x7f, "%s: byte 0x%02x", what, (unsigned char)*s);
        cr_assert(++col <= 80, "%s: line longer than 80 columns", what);
    }
}

/* Brackets balance outside strings, and the text is one object. */
static void assert_one_json_object(const char *s)
{
    size_t n = strlen(s);
    cr_assert(n > 2 && s[0] == '{' && s[n - 2] == '}' && s[n - 1] == '\n', "%s", s);
    int depth = 0;
    bool in_str = false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (in_str) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_str = false;
            continue;
        }
        if (c == '"')
            in_str = true;
        else if (c == '{' || c == '[')
            depth++;
        else if (c == '}' || c == ']')
            depth--;
        cr_assert(depth >= 0);
        cr_assert(depth > 0 || i >= n - 2, "text after the object at %zu", i);
    }
    cr_assert_eq(depth, 0);
    cr_assert(!in_str);
}

Test(explain, one_basic_code)
{
    struct run r = run_explain("550", NULL);
    cr_assert_eq(r.rc, 0);
    cr_assert_str_empty(r.err);
    cr_assert(strstr(r.out, "550  Mailbox unavailable"), "%s", r.out);
    cr_assert(strstr(r.out, "5xx Permanent Negative Completion"));
    cr_assert(strstr(r.out, "Mail system"));
    cr_assert(strstr(r.out, "RFC 5321 4.2.3"));
    cr_assert(strstr(r.out, "When you see it"));
    cr_assert(strstr(r.out, "How to resolve"));
    cr_assert(strstr(r.out, "recipient rejected"));
    cr_assert(strstr(r.out, "5.1.1"));
    assert_terminal_text(r.out, "550");
    run_free(&r);
}

Test(explain, one_enhanced_code)
{
    struct run r = run_explain("5.7.26", NULL);
    cr_assert_eq(r.rc, 0);
    cr_assert(strstr(r.out, "Multiple authentication checks failed"), "%s", r.out);
    cr_assert(strstr(r.out, "Permanent Failure"));
    cr_assert(strstr(r.out, "Security or Policy Status"));
    cr_assert(strstr(r.out, "RFC 7372"));
    cr_assert(strstr(r.out, "550"));
    assert_terminal_text(r.out, "5.7.26");
    run_free(&r);
}

Test(explain, unregistered_enhanced_and_unlisted_basic)
{
    struct run r = run_explain("4.7.99", NULL);
    cr_assert_eq(r.rc, 0);
    cr_assert(strstr(r.out, "not in the IANA registry"), "%s", r.out);
    run_free(&r);
    r = run_explain("472", NULL);
    cr_assert_eq(r.rc, 0);
    cr_assert(strstr(r.out, "4xx Transient Negative Completion"), "%s", r.out);
    cr_assert(strstr(r.out, "Unlisted code") && strstr(r.out, "invalid") == NULL, "%s", r.out);
    run_free(&r);
}

Test(explain, two_codes_side_by_side)
{
    struct run r = run_explain("250", "502", NULL);
    cr_assert_eq(r.rc, 0);
    cr_assert_str_empty(r.err);
    cr_assert(strstr(r.out, "SMTP 250 OK vs 502 Command Not Implemented"), "%s", r.out);
    cr_assert(strstr(r.out, "Positive Completion"));
    cr_assert(strstr(r.out, "Permanent Negative"));
    cr_assert(strstr(r.out, "Key differences"));
    cr_assert(strstr(r.out, "After VRFY: 250 means \"address verified\""), "%s", r.out);
    cr_assert(strstr(r.out, "What to do"));
    assert_terminal_text(r.out, "250 502");
    run_free(&r);
}

Test(explain, two_codes_same_class)
{
    struct run r = run_explain("250", "252", NULL);
    cr_assert_eq(r.rc, 0);
    cr_assert(strstr(r.out, "Both 250 (OK) and 252 (Cannot Verify User)"), "%s", r.out);
    run_free(&r);
}

Test(explain, reply_with_enhanced_status)
{
    struct run r = run_explain("550", "5.1.1", NULL);
    cr_assert_eq(r.rc, 0);
    cr_assert(strstr(r.out, "They fit"), "%s", r.out);
    run_free(&r);
    r = run_explain("250", "5.1.1", NULL);
    cr_assert_eq(r.rc, 0);
    cr_assert(strstr(r.out, "They do not fit"), "%s", r.out);
    run_free(&r);
}

Test(explain, json_one_code)
{
    struct run r = run_explain("--json", "550", NULL);
    cr_assert_eq(r.rc, 0);
    cr_assert_str_empty(r.err);
    assert_one_json_object(r.out);
    cr_assert(strstr(r.out, "\"code\": 550"), "%s", r.out);
    cr_assert(strstr(r.out, "\"kind\": \"basic\""));
    cr_assert(strstr(r.out, "\"class_name\": \"Permanent Negative Completion\""));
    cr_assert(strstr(r.out, "\"listed\": true"));
    run_free(&r);
}

Test(explain, json_after_the_code_and_enhanced)
{
    struct run r = run_explain("5.1.1", "--json", NULL);
    cr_assert_eq(r.rc, 0);
    assert_one_json_object(r.out);
    cr_assert(strstr(r.out, "\"code\": \"5.1.1\""), "%s", r.out);
    cr_assert(strstr(r.out, "\"registry_code\": \"X.1.1\""));
    run_free(&r);
}

Test(explain, json_two_codes)
{
    struct run r = run_explain("--json", "250", "502", NULL);
    cr_assert_eq(r.rc, 0);
    assert_one_json_object(r.out);
    cr_assert(strstr(r.out, "\"kind\": \"comparison\""), "%s", r.out);
    cr_assert(strstr(r.out, "\"code\": 250"));
    cr_assert(strstr(r.out, "\"code\": 502"));
    cr_assert(strstr(r.out, "\"same_class\": false"));
    run_free(&r);
    r = run_explain("--json", "550", "5.1.1", NULL);
    assert_one_json_object(r.out);
    cr_assert(strstr(r.out, "\"consistent\": true"), "%s", r.out);
    run_free(&r);
}

static void assert_rejected(struct run r, const char *arg)
{
    cr_assert_neq(r.rc, 0, "%s accepted", arg);
    cr_assert_str_empty(r.out, "%s wrote output", arg);
    cr_assert_eq(count_lines(r.err), 1, "%s: err is not one line: %s", arg, r.err);
    cr_assert(strncmp(r.err, "smtpsniff explain: ", 19) == 0, "%s", r.err);
    assert_terminal_text(r.err, arg);
    run_free(&r);
}

Test(explain, bad_codes)
{
    static const char *const bad[] = { "999", "abc", "5.x", "1.1.1", "6.0.0", "5.1", "199",
                                       "600", "5.1.1000", "55", "5500", "", "\x1b[2J" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct run r = run_explain(bad[i], NULL);
        cr_assert_eq(r.rc, 1, "%s: rc %d", bad[i], r.rc);
        assert_rejected(r, bad[i]);
    }
}

Test(explain, usage_errors)
{
    struct run r = run_explain(NULL, NULL);
    cr_assert_eq(r.rc, 2);
    cr_assert(strstr(r.err, "no code"), "%s", r.err);
    assert_rejected(r, "(none)");
    r = run_explain("250", "251", "252", NULL);
    cr_assert_eq(r.rc, 2);
    cr_assert(strstr(r.err, "too many"), "%s", r.err);
    assert_rejected(r, "three codes");
    r = run_explain("--yaml", "250", NULL);
    cr_assert_eq(r.rc, 2);
    assert_rejected(r, "--yaml");
    r = run_explain("--json", NULL);
    cr_assert_eq(r.rc, 2);
    assert_rejected(r, "--json alone");
}

Test(explain, bad_code_in_a_pair)
{
    struct run r = run_explain("250", "1.1.1", NULL);
    cr_assert_eq(r.rc, 1);
    cr_assert(strstr(r.err, "1.1.1"), "%s", r.err);
    assert_rejected(r, "250 1.1.1");
}

Test(explain, help)
{
    struct run r = run_explain("--help", NULL);
    cr_assert_eq(r.rc, 0);
    cr_assert(strstr(r.out, "usage: smtpsniff explain"));
    cr_assert_str_empty(r.err);
    run_free(&r);
}

Test(explain, every_code_fits_80_columns)
{
    char code[8];
    for (int c = 200; c <= 599; c++) {
        snprintf(code, sizeof(code), "%d", c);
        struct run r = run_explain(code, NULL);
        cr_assert_eq(r.rc, 0, "%s", code);
        assert_terminal_text(r.out, code);
        run_free(&r);
    }
    for (int s = 0; s <= 7; s++)
        for (int d = 0; d <= 30; d++) {
            snprintf(code, sizeof(code), "5.%d.%d", s, d);
            struct run r = run_explain(code, "4.2.2", NULL);
            cr_assert_eq(r.rc, 0, "%s", code);
            assert_terminal_text(r.out, code);
            run_free(&r);
        }
}

Test(explain, every_listed_pair_fits_80_columns)
{
    char a[8], b[8];
    for (int x = 200; x <= 599; x++) {
        if (!reply_lookup(x)->listed)
            continue;
        for (int y = 200; y <= 599; y += 7) {
            snprintf(a, sizeof(a), "%d", x);
            snprintf(b, sizeof(b), "%d", y);
            struct run r = run_explain(a, b, NULL);
            cr_assert_eq(r.rc, 0);
            assert_terminal_text(r.out, a);
            run_free(&r);
        }
    }
}
