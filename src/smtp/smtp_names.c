/* smtp_names.c - names of the core's enums, from the X-macro tables in the public headers: every
 * table is generated from the rows that define its enum and checked against the enum's COUNT. */
#include "smtp/smtp_core.h"
#include "smtpsniff/notice.h"
#include "smtpsniff/smtp.h"

#define NAMES_CHECK(table, count) \
    _Static_assert(sizeof(table) / sizeof((table)[0]) == (count), #table " has one row per value")

static const char *const verb_names[] = {
#define SMTP_VERB_NAME(id, text) [SMTP_VERB_##id] = text,
    SMTP_VERB_LIST(SMTP_VERB_NAME)
#undef SMTP_VERB_NAME
};
NAMES_CHECK(verb_names, SMTP_VERB_COUNT);

static const struct {
    const char *name;
    enum smtp_severity sev;
    const char *desc;
} notice_rows[] = {
#define SMTP_NOTICE_ROW(id, name, sev, desc) [SMTP_NOTICE_##id] = {name, sev, desc},
    SMTP_NOTICE_LIST(SMTP_NOTICE_ROW)
#undef SMTP_NOTICE_ROW
};
NAMES_CHECK(notice_rows, SMTP_NOTICE_COUNT);

static const char *const severity_names[] = {
#define SMTP_SEV_NAME(id, name) [SMTP_SEV_##id] = name,
    SMTP_SEVERITY_LIST(SMTP_SEV_NAME)
#undef SMTP_SEV_NAME
};
NAMES_CHECK(severity_names, SMTP_SEV_COUNT);

static const char *const end_reason_names[] = {
#define SMTP_END_NAME(id, name) [SMTP_END_##id] = name,
    SMTP_END_REASON_LIST(SMTP_END_NAME)
#undef SMTP_END_NAME
};
NAMES_CHECK(end_reason_names, SMTP_END_COUNT);

static const char *const tls_names[] = {
#define SMTP_TLS_NAME(id, name) [SMTP_TLS_##id] = name,
    SMTP_TLS_LIST(SMTP_TLS_NAME)
#undef SMTP_TLS_NAME
};
NAMES_CHECK(tls_names, SMTP_TLS_COUNT);

static const char *const txn_status_names[] = {
#define SMTP_TXN_NAME(id, name) [SMTP_TXN_##id] = name,
    SMTP_TXN_STATUS_LIST(SMTP_TXN_NAME)
#undef SMTP_TXN_NAME
};
NAMES_CHECK(txn_status_names, SMTP_TXN_COUNT);

const char *smtp_verb_name(enum smtp_verb v)
{
    return (unsigned)v < SMTP_VERB_COUNT ? verb_names[v] : "";
}

const char *smtp_notice_name(enum smtp_notice_id id)
{
    return (unsigned)id < SMTP_NOTICE_COUNT ? notice_rows[id].name : "unknown";
}

const char *smtp_notice_description(enum smtp_notice_id id)
{
    return (unsigned)id < SMTP_NOTICE_COUNT ? notice_rows[id].desc : "";
}

enum smtp_severity smtp_notice_severity(enum smtp_notice_id id)
{
    return (unsigned)id < SMTP_NOTICE_COUNT ? notice_rows[id].sev : SMTP_SEV_INFO;
}

const char *smtp_severity_name(enum smtp_severity sev)
{
    return (unsigned)sev < SMTP_SEV_COUNT ? severity_names[sev] : severity_names[SMTP_SEV_INFO];
}

const char *smtp_end_reason_name(enum smtp_end_reason r)
{
    return (unsigned)r < SMTP_END_COUNT ? end_reason_names[r] : end_reason_names[SMTP_END_NONE];
}

const char *smtp_tls_name(enum smtp_tls t)
{
    return (unsigned)t < SMTP_TLS_COUNT ? tls_names[t] : tls_names[SMTP_TLS_NONE];
}

const char *smtp_txn_status_name(enum smtp_txn_status st)
{
    return (unsigned)st < SMTP_TXN_COUNT ? txn_status_names[st] : txn_status_names[SMTP_TXN_INCOMPLETE];
}

static const char *const answer_names[] = {
#define SMTP_ANSWER_NAME(id, name) [SMTP_ANSWER_##id] = name,
    SMTP_ANSWER_LIST(SMTP_ANSWER_NAME)
#undef SMTP_ANSWER_NAME
};
NAMES_CHECK(answer_names, SMTP_ANSWER_COUNT);

const char *smtp_answer_name(enum smtp_answer a)
{
    return (unsigned)a < SMTP_ANSWER_COUNT ? answer_names[a] : answer_names[SMTP_ANSWER_COMMAND];
}

static const char *const state_names[] = {
#define SMTP_STATE_NAME(id, name) [SMTP_STATE_##id] = name,
    SMTP_STATE_LIST(SMTP_STATE_NAME)
#undef SMTP_STATE_NAME
};
NAMES_CHECK(state_names, SMTP_STATE_COUNT);

const char *smtp_state_name(enum smtp_state st)
{
    return (unsigned)st < SMTP_STATE_COUNT ? state_names[st] : "command";
}
