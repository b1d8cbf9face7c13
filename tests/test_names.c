/* test_names.c - every value of the core's enums has its own name, derived from the X-macro that
 * defines the enum, and values past the end get the documented fallback instead of a stray read. */
#include <criterion/criterion.h>
#include <string.h>

#include "smtp/smtp_core.h"
#include "smtpsniff/notice.h"
#include "smtpsniff/smtp.h"

typedef const char *(*name_fn)(int);

static const char *end_name(int v) { return smtp_end_reason_name((enum smtp_end_reason)v); }
static const char *tls_name(int v) { return smtp_tls_name((enum smtp_tls)v); }
static const char *txn_name(int v) { return smtp_txn_status_name((enum smtp_txn_status)v); }
static const char *sev_name(int v) { return smtp_severity_name((enum smtp_severity)v); }
static const char *notice_name(int v) { return smtp_notice_name((enum smtp_notice_id)v); }
static const char *notice_desc(int v) { return smtp_notice_description((enum smtp_notice_id)v); }
static const char *answer_name(int v) { return smtp_answer_name((enum smtp_answer)v); }
static const char *state_name(int v) { return smtp_state_name((enum smtp_state)v); }

/* Values 0..count-1 have non-empty names, no two the same. */
static void check_names(const char *what, name_fn fn, int count)
{
    for (int i = 0; i < count; i++) {
        const char *a = fn(i);
        cr_assert(a != NULL && a[0] != '\0', "%s %d has no name", what, i);
        for (int k = 0; k < i; k++)
            cr_expect(strcmp(a, fn(k)) != 0, "%s %d and %d are both named \"%s\"", what, k, i, a);
    }
}

Test(names, every_value_named_once)
{
    check_names("end reason", end_name, SMTP_END_COUNT);
    check_names("tls", tls_name, SMTP_TLS_COUNT);
    check_names("transaction status", txn_name, SMTP_TXN_COUNT);
    check_names("severity", sev_name, SMTP_SEV_COUNT);
    check_names("notice", notice_name, SMTP_NOTICE_COUNT);
    check_names("notice description", notice_desc, SMTP_NOTICE_COUNT);
    check_names("answer", answer_name, SMTP_ANSWER_COUNT);
    check_names("state", state_name, SMTP_STATE_COUNT);
}

/* The names that reach JSON and the summary (docs/json.md, docs/summary.md). */
Test(names, contract_names)
{
    cr_expect_str_eq(smtp_end_reason_name(SMTP_END_EOF), "end of input");
    cr_expect_str_eq(smtp_end_reason_name(SMTP_END_TIMEOUT), "timeout");
    cr_expect_str_eq(smtp_tls_name(SMTP_TLS_IMPLICIT), "implicit");
    cr_expect_str_eq(smtp_txn_status_name(SMTP_TXN_INCOMPLETE), "incomplete");
    cr_expect_str_eq(smtp_severity_name(SMTP_SEV_HIGH), "high");
    cr_expect_str_eq(smtp_notice_name(SMTP_NOTICE_SMUGGLING_END_OF_DATA), "smuggling-end-of-data");
}

Test(names, out_of_range_falls_back)
{
    cr_expect_str_eq(smtp_end_reason_name((enum smtp_end_reason)SMTP_END_COUNT), "none");
    cr_expect_str_eq(smtp_tls_name((enum smtp_tls)SMTP_TLS_COUNT), "none");
    cr_expect_str_eq(smtp_txn_status_name((enum smtp_txn_status)SMTP_TXN_COUNT), "incomplete");
    cr_expect_str_eq(smtp_severity_name((enum smtp_severity)SMTP_SEV_COUNT), "info");
    cr_expect_str_eq(smtp_notice_name((enum smtp_notice_id)SMTP_NOTICE_COUNT), "unknown");
    cr_expect_str_eq(smtp_verb_name((enum smtp_verb)SMTP_VERB_COUNT), "");
    cr_expect_str_eq(smtp_answer_name((enum smtp_answer)SMTP_ANSWER_COUNT), "command");
    cr_expect_str_eq(smtp_state_name((enum smtp_state)SMTP_STATE_COUNT), "command");
}
