/* smtp_names.c - names of the core's enums, from the X-macro tables in the public headers. */
#include "smtp/smtp_core.h"
#include "smtpsniff/notice.h"
#include "smtpsniff/smtp.h"

static const char *const verb_names[] = {
#define SMTP_VERB_NAME(id, text) text,
    SMTP_VERB_LIST(SMTP_VERB_NAME)
#undef SMTP_VERB_NAME
};

static const struct {
    const char *name;
    enum smtp_severity sev;
    const char *desc;
} notice_rows[] = {
#define SMTP_NOTICE_ROW(id, name, sev, desc) {name, sev, desc},
    SMTP_NOTICE_LIST(SMTP_NOTICE_ROW)
#undef SMTP_NOTICE_ROW
};

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
    static const char *const n[] = {"info", "low", "medium", "high"};
    return (unsigned)sev < 4 ? n[sev] : "info";
}

const char *smtp_end_reason_name(enum smtp_end_reason r)
{
    static const char *const n[] = {"none", "close", "reset", "timeout", "end of input"};
    return (unsigned)r < 5 ? n[r] : "none";
}

const char *smtp_tls_name(enum smtp_tls t)
{
    static const char *const n[] = {"none", "starttls", "implicit"};
    return (unsigned)t < 3 ? n[t] : "none";
}

const char *smtp_txn_status_name(enum smtp_txn_status st)
{
    static const char *const n[] = {"accepted", "rejected", "aborted", "incomplete"};
    return (unsigned)st < 4 ? n[st] : "incomplete";
}

const char *smtp_answer_name(enum smtp_answer a)
{
    static const char *const n[] = {
#define SMTP_ANSWER_NAME(id, name) name,
        SMTP_ANSWER_LIST(SMTP_ANSWER_NAME)
#undef SMTP_ANSWER_NAME
    };
    return (unsigned)a < SMTP_ANSWER_COUNT ? n[a] : "command";
}

const char *smtp_state_name(enum smtp_state st)
{
    static const char *const n[] = {
#define SMTP_STATE_NAME(id, name) name,
        SMTP_STATE_LIST(SMTP_STATE_NAME)
#undef SMTP_STATE_NAME
    };
    return (unsigned)st < SMTP_STATE_COUNT ? n[st] : "command";
}
