/* reply_codes.c - basic SMTP reply codes: a const row for every code 000..999, the codes RFCs
 * name, and what a code means as the answer to a given command. */
#include "smtpsniff/reply.h"

#include <stddef.h>
#include <string.h>

/* ---- Rows for codes no RFC names, generated from their digits (RFC 5321 4.2.1) ------------- */

#define REPLY_CLS_2 "2xx Positive Completion"
#define REPLY_CLS_3 "3xx Positive Intermediate"
#define REPLY_CLS_4 "4xx Transient Negative Completion"
#define REPLY_CLS_5 "5xx Permanent Negative Completion"

#define REPLY_CAT_0 "Syntax"
#define REPLY_CAT_1 "Information"
#define REPLY_CAT_2 "Connections"
#define REPLY_CAT_3 "Unspecified"
#define REPLY_CAT_4 "Unspecified"
#define REPLY_CAT_5 "Mail system"

#define REPLY_CLS_MEAN_2 "The server carried out the requested action; the client may go on."
#define REPLY_CLS_MEAN_3                                                                          \
    "The server accepted the command but holds the action until the client sends more."
#define REPLY_CLS_MEAN_4                                                                          \
    "The server refused the command for a temporary reason: the same command may work later."
#define REPLY_CLS_MEAN_5                                                                          \
    "The server refused the command and will refuse it again if it is repeated unchanged."

#define REPLY_CAT_MEAN_0 "Its second digit (0) puts it among syntax replies."
#define REPLY_CAT_MEAN_1 "Its second digit (1) puts it among replies to requests for information."
#define REPLY_CAT_MEAN_2 "Its second digit (2) puts it among replies about the connection."
#define REPLY_CAT_MEAN_3 "Its second digit (3) has no category assigned by RFC 5321."
#define REPLY_CAT_MEAN_4 "Its second digit (4) has no category assigned by RFC 5321."
#define REPLY_CAT_MEAN_5 "Its second digit (5) puts it among replies about the mail system."

#define REPLY_UNLISTED_WHEN                                                                       \
    "No RFC names this exact code: it comes from a server's own choice of codes. A client "      \
    "acts on the first digit of a code it does not know (RFC 5321 4.2)."

#define REPLY_CLS_RESOLVE_2 "Nothing to fix: the server reports success. The reply text may say more."
#define REPLY_CLS_RESOLVE_3 "Send what the server waits for; the reply text says what it is."
#define REPLY_CLS_RESOLVE_4                                                                       \
    "Try again later. The reply text or an enhanced status code usually names the cause."
#define REPLY_CLS_RESOLVE_5                                                                       \
    "Do not resend unchanged: fix the cause named in the reply text or enhanced status code."

/* First digit 2-5 but second digit 6-9: no category is defined for them (RFC 5321 4.2.1), yet
 * servers send such codes (a real 472 is seen in the wild) and a client acts on the first digit
 * (4.2.1, 4.3.2). Such a code is valid and unlisted: never called invalid (STYLE 13). */
#define REPLY_ODD_RESOLVE                                                                         \
    "Treat it by its first digit, as a client must; the reply text usually says more. The "      \
    "server's administrator can tell what the code means locally."

#define REPLY_BAD_NAME "Invalid reply code"
#define REPLY_BAD_MEAN                                                                            \
    "Not an SMTP reply code: RFC 5321 4.2 allows only 2, 3, 4 or 5 as the first digit and 0 to " \
    "5 as the second."
#define REPLY_BAD_WHEN                                                                            \
    "From a broken or non-SMTP peer, a proxy that rewrites replies, or bytes that are not a "    \
    "reply at all."
#define REPLY_BAD_RESOLVE                                                                         \
    "Treat it as a protocol error: check which service answers on the port and capture the "     \
    "exchange."

#define REPLY_CODE(h, t, u) ((h) * 100 + (t) * 10 + (u))
#define REPLY_GEN(h, t, u)                                                                        \
    { REPLY_CODE(h, t, u), false, true, "Unlisted code (" REPLY_CLS_##h ", " REPLY_CAT_##t ")",   \
      REPLY_CLS_MEAN_##h " " REPLY_CAT_MEAN_##t, REPLY_UNLISTED_WHEN, REPLY_CLS_RESOLVE_##h,      \
      "RFC 5321 4.2.1" },
#define REPLY_ODD(h, t, u)                                                                        \
    { REPLY_CODE(h, t, u), false, true,                                                           \
      "Unlisted code (" REPLY_CLS_##h ", undefined category " #t ")",                             \
      REPLY_CLS_MEAN_##h " No category is defined for a second digit of " #t " (RFC 5321 4.2.1 "  \
      "names 0 to 5): act on the first digit.", REPLY_UNLISTED_WHEN, REPLY_ODD_RESOLVE,          \
      "RFC 5321 4.2" },
#define REPLY_BAD(h, t, u)                                                                        \
    { REPLY_CODE(h, t, u), false, false, REPLY_BAD_NAME, REPLY_BAD_MEAN, REPLY_BAD_WHEN,         \
      REPLY_BAD_RESOLVE, "RFC 5321 4.2" },
#define REPLY_TEN(h, t, ROW)                                                                      \
    ROW(h, t, 0) ROW(h, t, 1) ROW(h, t, 2) ROW(h, t, 3) ROW(h, t, 4)                              \
    ROW(h, t, 5) ROW(h, t, 6) ROW(h, t, 7) ROW(h, t, 8) ROW(h, t, 9)
#define REPLY_HUNDRED_CLASS(h)                                                                    \
    REPLY_TEN(h, 0, REPLY_GEN) REPLY_TEN(h, 1, REPLY_GEN) REPLY_TEN(h, 2, REPLY_GEN)              \
    REPLY_TEN(h, 3, REPLY_GEN) REPLY_TEN(h, 4, REPLY_GEN) REPLY_TEN(h, 5, REPLY_GEN)              \
    REPLY_TEN(h, 6, REPLY_ODD) REPLY_TEN(h, 7, REPLY_ODD) REPLY_TEN(h, 8, REPLY_ODD)              \
    REPLY_TEN(h, 9, REPLY_ODD)
#define REPLY_HUNDRED_NOCLASS(h)                                                                  \
    REPLY_TEN(h, 0, REPLY_BAD) REPLY_TEN(h, 1, REPLY_BAD) REPLY_TEN(h, 2, REPLY_BAD)              \
    REPLY_TEN(h, 3, REPLY_BAD) REPLY_TEN(h, 4, REPLY_BAD) REPLY_TEN(h, 5, REPLY_BAD)              \
    REPLY_TEN(h, 6, REPLY_BAD) REPLY_TEN(h, 7, REPLY_BAD) REPLY_TEN(h, 8, REPLY_BAD)              \
    REPLY_TEN(h, 9, REPLY_BAD)

/* Indexed by code: row i describes code i. */
static const struct reply_entry reply_generic[1000] = {
    REPLY_HUNDRED_NOCLASS(0) REPLY_HUNDRED_NOCLASS(1)
    REPLY_HUNDRED_CLASS(2) REPLY_HUNDRED_CLASS(3) REPLY_HUNDRED_CLASS(4) REPLY_HUNDRED_CLASS(5)
    REPLY_HUNDRED_NOCLASS(6) REPLY_HUNDRED_NOCLASS(7) REPLY_HUNDRED_NOCLASS(8)
    REPLY_HUNDRED_NOCLASS(9)
};

/* What reply_lookup() returns for an int outside 0..999: its code is -1, since no index fits. */
static const struct reply_entry reply_out_of_range = {
    -1, false, false, REPLY_BAD_NAME,
    "Not an SMTP reply code: a reply code is exactly three digits (RFC 5321 4.2).",
    REPLY_BAD_WHEN, REPLY_BAD_RESOLVE, "RFC 5321 4.2"
};

/* ---- Codes the RFCs name, sorted by code ------------------------------------------------- */

#define REPLY_ROW(c, name, meaning, when, resolve, source) \
    { c, true, true, name, meaning, when, resolve, source }

static const struct reply_entry reply_listed[] = {
    REPLY_ROW(211, "System status",
        "A system status report, or a help reply about the system as a whole.",
        "Rarely: in answer to HELP or to a status request on some servers.",
        "Informational; nothing to fix.", "RFC 5321 4.2.3"),
    REPLY_ROW(214, "Help message",
        "Help text meant for a person: how to use the server, or what a non-standard command "
        "does.",
        "In answer to HELP.", "Informational; read the text.", "RFC 5321 4.2.3"),
    REPLY_ROW(220, "Service Ready",
        "The server is ready to begin a mail transaction. This greeting is the first reply a "
        "client gets after connecting, and usually carries the server's host name and software. "
        "After STARTTLS the same code means the server is ready to start the TLS handshake.",
        "Right after the TCP connection to the mail server opens (ports 25, 465 or 587): the "
        "welcome banner saying the server accepts commands. Also in answer to STARTTLS.",
        "Nothing to fix: the connection works. If this greeting never comes, check that the "
        "server runs, that the port is right and that no firewall blocks the connection.",
        "RFC 5321 4.2.3, 3.1; RFC 3207 4"),
    REPLY_ROW(221, "Service closing transmission channel",
        "The server is closing the connection.",
        "In answer to QUIT: the session ended cleanly. Some servers also send it before "
        "dropping a client.",
        "Nothing to fix.", "RFC 5321 4.2.3, 4.1.1.10"),
    REPLY_ROW(235, "Authentication Succeeded",
        "The AUTH exchange succeeded: the client is authenticated for the rest of the session.",
        "At the end of an AUTH exchange, typically on submission ports 587 and 465.",
        "Nothing to fix.", "RFC 4954 4, 6"),
    REPLY_ROW(250, "OK",
        "The requested mail action was completed. It is the most common positive reply in "
        "SMTP, returned after HELO/EHLO, MAIL FROM, RCPT TO and the completion of DATA.",
        "After almost every command that succeeds: the greeting exchange, naming the sender, "
        "adding each recipient, and finishing the message. It is the usual confirmation.",
        "Nothing to fix: the command was accepted. If a command that should succeed gets "
        "another code, check its syntax and the server's policies.",
        "RFC 5321 4.2.3"),
    REPLY_ROW(251, "User not local; will forward",
        "The recipient is not local, but the server takes the message and will forward it to "
        "the path it names.",
        "After RCPT TO (or VRFY) for an address that has moved; rare today.",
        "Nothing to fix; you may update the address to the one given.", "RFC 5321 3.4, 4.2.3"),
    REPLY_ROW(252, "Cannot Verify User",
        "The server cannot verify the user, but it will accept the message and attempt "
        "delivery. It is often the answer to VRFY when the server deliberately hides which "
        "users exist.",
        "When VRFY is used to check that a recipient exists and the server will neither confirm "
        "nor deny the address, usually to stop address harvesting by spammers.",
        "Nothing to fix: delivery will still be attempted. To verify addresses, ask the mail "
        "administrator or rely on bounce messages instead.",
        "RFC 5321 3.5.3, 4.2.3"),
    REPLY_ROW(253, "Pending messages for node started",
        "ETRN: the server started delivering the given number of messages queued for the node.",
        "In answer to ETRN from a host that collects its queued mail.",
        "Nothing to fix; the mail arrives over a new connection.", "RFC 1985"),
    REPLY_ROW(334, "Server challenge",
        "AUTH in progress: the server sends a base64 challenge (possibly empty) and waits for "
        "the client's base64 response.",
        "After AUTH, once per round of the SASL mechanism (LOGIN asks twice: user name, then "
        "password).",
        "Answer with the next base64 response, or send \"*\" to cancel the exchange.",
        "RFC 4954 4"),
    REPLY_ROW(354, "Start mail input",
        "The server accepted DATA and waits for the message, ended by a line holding only a "
        "dot (<CRLF>.<CRLF>).",
        "After DATA, once at least one recipient was accepted.",
        "Send the message with lines starting with \".\" dot-stuffed, then the final \".\" line.",
        "RFC 5321 4.2.3, 4.1.1.4"),
    REPLY_ROW(355, "Octet offset is the transaction offset",
        "Experimental checkpoint/restart extension: the server gives the octet offset from "
        "which an interrupted transaction can resume.",
        "Only with servers that implement the experimental CHECKPOINT extension; almost never.",
        "Resume the transfer from the offset given.", "RFC 1845 (Experimental)"),
    REPLY_ROW(421, "Service not available, closing transmission channel",
        "The server cannot serve the client now and closes the connection. It may answer any "
        "command, the greeting included.",
        "When the server shuts down, is overloaded, limits the client's rate or connections, or "
        "times out an idle client.",
        "Temporary: connect again later. A sending MTA keeps the message queued and retries.",
        "RFC 5321 4.2.3, 3.8"),
    REPLY_ROW(432, "A password transition is needed",
        "The account must move to the selected AUTH mechanism, usually by authenticating once "
        "with PLAIN.",
        "After AUTH with a mechanism the account is not yet set up for.",
        "Authenticate once with PLAIN over an encrypted connection, then use the mechanism.",
        "RFC 4954 6"),
    REPLY_ROW(450, "Mailbox unavailable (temporary)",
        "Requested mail action not taken: the mailbox is unavailable for now, for example busy "
        "or temporarily blocked by policy.",
        "After RCPT TO or at the end of the message; greylisting servers often use it for the "
        "first attempt from an unknown sender.",
        "Retry later, as a proper MTA does. If it persists, read the text for a policy reason.",
        "RFC 5321 4.2.3"),
    REPLY_ROW(451, "Local error in processing",
        "The server aborted the action because of a local problem (a failing filter, DNS "
        "lookup, database or disk).",
        "After MAIL, RCPT or the end of the message; greylisting also uses it.",
        "Retry later. If it persists, the receiving side's administrator must fix it.",
        "RFC 5321 4.2.3"),
    REPLY_ROW(452, "Insufficient system storage",
        "Action not taken: the server lacks storage now. After RCPT it also means too many "
        "recipients for this transaction.",
        "After MAIL (declared SIZE too large for free space), after RCPT (recipient limit "
        "reached) or at the end of the message.",
        "Retry later; after a recipient limit, send the remaining recipients in a new "
        "transaction.",
        "RFC 5321 4.2.3, 4.5.3.1.10"),
    REPLY_ROW(453, "You have no mail",
        "On-Demand Mail Relay: no mail is queued for the domains named in ATRN.",
        "In answer to ATRN.", "Nothing to fetch; ask again later.", "RFC 2645"),
    REPLY_ROW(454, "Temporary authentication failure",
        "AUTH failed for a temporary reason (the credential back end is unreachable, say). In "
        "answer to STARTTLS it means TLS is not available for a temporary reason.",
        "After AUTH or STARTTLS.",
        "Retry later; the server's authentication back end or TLS setup needs attention.",
        "RFC 4954 6; RFC 3207 4"),
    REPLY_ROW(455, "Server unable to accommodate parameters",
        "The server understood the MAIL FROM or RCPT TO parameters but cannot meet them now.",
        "After MAIL or RCPT carrying ESMTP parameters.",
        "Retry later, or without the parameter.", "RFC 5321 4.2.3, 4.1.1.11"),
    REPLY_ROW(458, "Unable to queue messages for node",
        "ETRN: the server cannot start delivering the mail queued for the node.",
        "In answer to ETRN.", "Retry later; ask the server's administrator if it persists.",
        "RFC 1985"),
    REPLY_ROW(459, "Node not allowed",
        "ETRN: the client may not start the queue of the node it named.",
        "In answer to ETRN for a node the client is not authorized for.",
        "Ask only for your own node, or have the administrator allow it.", "RFC 1985"),
    REPLY_ROW(500, "Syntax Error",
        "The server could not recognize the command because of a syntax error: the command "
        "line was malformed, or this server does not know the command.",
        "When a command is sent that the server does not understand, often because of a typo, "
        "an unsupported command or a line that is too long.",
        "Check the command's spelling and syntax against the SMTP specification. Keep command "
        "lines within 512 characters, CRLF included, and end them with CRLF.",
        "RFC 5321 4.2.3, 4.5.3.1.4"),
    REPLY_ROW(501, "Syntax error in parameters or arguments",
        "The command was recognized but its arguments are malformed, such as a bad address in "
        "MAIL FROM:<...>.",
        "MAIL or RCPT with a malformed address, HELO without a domain, STARTTLS with arguments, "
        "or an AUTH exchange the client cancelled with \"*\".",
        "Fix the argument syntax (RFC 5321 4.1.2); addresses go inside angle brackets.",
        "RFC 5321 4.2.3"),
    REPLY_ROW(502, "Command Not Implemented",
        "The command is defined by the SMTP specification, but this server does not implement "
        "it. The server understands the command and has chosen not to support it.",
        "When using optional commands such as VRFY, EXPN or TURN that the administrator has "
        "disabled, often for security or anti-spam reasons.",
        "Take another route: if VRFY is disabled, send a test message instead of verifying the "
        "address. Check the server's EHLO reply for the extensions it supports.",
        "RFC 5321 4.2.3, 4.2.4"),
    REPLY_ROW(503, "Bad sequence of commands",
        "The command is valid but not allowed at this point, such as RCPT before MAIL, or DATA "
        "with no accepted recipient.",
        "Commands out of order, MAIL before EHLO or AUTH, or a client that ignored an earlier "
        "failure and went on.",
        "Keep the order EHLO, MAIL, RCPT..., DATA, and check earlier replies for a failure.",
        "RFC 5321 4.2.3, 4.1.4"),
    REPLY_ROW(504, "Parameter Not Implemented",
        "A command parameter is not implemented on this server: the command itself is valid, "
        "but the parameter or extension used is not supported.",
        "When using extensions or parameters the server does not support, such as an "
        "unsupported AUTH mechanism or an unrecognized MAIL FROM parameter.",
        "Check the server's EHLO reply for the extensions and parameters it supports, and use "
        "only the mechanisms and parameters it advertises.",
        "RFC 5321 4.2.3; RFC 4954 4"),
    REPLY_ROW(521, "Host does not accept mail",
        "This host never accepts mail; it exists only to say so.",
        "At the greeting or in answer to any command, from a host without a mail service. Some "
        "sites also send it to clients they block.",
        "Do not retry this host; check that the domain's MX records point to real mail servers.",
        "RFC 7504"),
    REPLY_ROW(523, "Encryption Needed",
        "The requested AUTH mechanism needs an external privacy layer such as TLS (enhanced "
        "status 5.7.10).",
        "After AUTH with a clear-text mechanism on an unencrypted connection.",
        "Run STARTTLS (or use port 465) first, or pick a stronger mechanism.", "RFC 5248 2.4"),
    REPLY_ROW(525, "User Account Disabled",
        "Authentication worked but the account is disabled (enhanced status 5.7.13).",
        "After AUTH for an account an administrator has suspended.",
        "Ask the mail administrator to enable the account; retrying the password will not help.",
        "RFC 5248 2.4"),
    REPLY_ROW(530, "Authentication required",
        "The server wants authentication before this command, or a STARTTLS first (\"Must "
        "issue a STARTTLS command first\").",
        "MAIL FROM on a submission port without AUTH, or any command before STARTTLS on a "
        "server that requires TLS.",
        "Run STARTTLS and AUTH before sending; configure the client's credentials.",
        "RFC 4954 6; RFC 3207 4"),
    REPLY_ROW(534, "Authentication mechanism is too weak",
        "The chosen AUTH mechanism is weaker than the server's policy allows for this user.",
        "After AUTH.", "Retry with a stronger mechanism from the server's EHLO reply.",
        "RFC 4954 6"),
    REPLY_ROW(535, "Authentication credentials invalid",
        "The AUTH exchange failed: wrong user name or password, or credentials the server "
        "otherwise refuses.",
        "At the end of an AUTH exchange; repeated failures may get the client blocked.",
        "Check the user name and password (app passwords, locked accounts); do not loop on "
        "retries.",
        "RFC 4954 6"),
    REPLY_ROW(538, "Encryption required for requested authentication mechanism",
        "The chosen AUTH mechanism is allowed only over an encrypted connection.",
        "AUTH PLAIN or LOGIN before STARTTLS.",
        "Run STARTTLS first, or connect with implicit TLS on port 465.", "RFC 4954 6"),
    REPLY_ROW(550, "Mailbox unavailable",
        "Requested action not taken: the mailbox is unavailable (not found, no access) or the "
        "command was refused by policy (spam filter, relaying denied).",
        "After RCPT TO for an unknown user; after MAIL or at the end of the message for policy "
        "rejections.",
        "Check the recipient address. If a policy reason is given, fix what it names (sender "
        "reputation, SPF, DKIM, DMARC) or contact the postmaster.",
        "RFC 5321 4.2.3"),
    REPLY_ROW(551, "User not local; please try another path",
        "The recipient is not local and the server will not forward; it may name the address "
        "to try.",
        "After RCPT TO; rare. Some servers use it to deny relaying.",
        "Resend to the address given, if any.", "RFC 5321 3.4, 4.2.3"),
    REPLY_ROW(552, "Exceeded storage allocation",
        "Requested mail action aborted: the mailbox is over its quota or the message is larger "
        "than a limit allows.",
        "After RCPT (mailbox full), after MAIL (declared SIZE too big) or at the end of the "
        "message (message too big).",
        "Send a smaller message, or ask the recipient to free space; check the SIZE limit in "
        "the EHLO reply.",
        "RFC 5321 4.2.3"),
    REPLY_ROW(553, "Mailbox name not allowed",
        "Requested action not taken: the mailbox name is not allowed, such as an address with "
        "bad syntax or a sender the server will not accept.",
        "After MAIL FROM or RCPT TO with an address the server refuses, or a sender address the "
        "authenticated user may not use.",
        "Correct the address; when submitting, send from an address your account owns.",
        "RFC 5321 4.2.3"),
    REPLY_ROW(554, "Transaction failed",
        "The transaction failed. As the greeting it means \"no SMTP service here\" for this "
        "client. It is the generic permanent refusal, often for spam or blocklisting.",
        "At the greeting (connection refused), after DATA with no valid recipient, or at the "
        "end of the message (content rejected).",
        "Read the text and the enhanced status code; check blocklists and the content; "
        "contact the postmaster.",
        "RFC 5321 4.2.3, 3.1, 3.3"),
    REPLY_ROW(555, "MAIL FROM/RCPT TO parameters not recognized or not implemented",
        "The server does not recognize or implement an ESMTP parameter given on MAIL FROM or "
        "RCPT TO.",
        "Parameters such as SIZE=, BODY=8BITMIME or SMTPUTF8 sent to a server that did not "
        "advertise the extension.",
        "Use only parameters for extensions the server lists in its EHLO reply.",
        "RFC 5321 4.2.3, 4.1.1.11"),
    REPLY_ROW(556, "Domain does not accept mail",
        "The recipient's domain accepts no mail at all, for example because it publishes a "
        "null MX.",
        "From a relay after RCPT TO for such a domain, usually with enhanced status 5.1.10.",
        "Check the address's domain: it cannot receive mail.", "RFC 7504; RFC 7505"),
};

#define REPLY_NLISTED (sizeof(reply_listed) / sizeof(reply_listed[0]))

static const struct reply_entry *reply_find_listed(int code)
{
    size_t lo = 0, hi = REPLY_NLISTED;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (reply_listed[mid].code == code)
            return &reply_listed[mid];
        if (reply_listed[mid].code < code)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

const struct reply_entry *reply_lookup(int code)
{
    if (code < 0 || code > 999)
        return &reply_out_of_range;
    const struct reply_entry *e = reply_find_listed(code);
    return e ? e : &reply_generic[code];
}

const char *reply_class_label(int code)
{
    static const char *const labels[] = { "2xx", "3xx", "4xx", "5xx" };
    return reply_class(code) ? labels[reply_class(code) - 2] : "invalid";
}

const char *reply_class_name(int code)
{
    static const char *const names[] = {
        "Positive Completion", "Positive Intermediate", "Transient Negative Completion",
        "Permanent Negative Completion",
    };
    return reply_class(code) ? names[reply_class(code) - 2] : "invalid";
}

/* Second digit: RFC 5321 4.2.1 names 0-5; 6-9 are "Undefined" (a malformed code that still
 * has a class); without a class the code is "invalid" as a whole. */
const char *reply_category_name(int code)
{
    static const char *const names[] = {
        "Syntax", "Information", "Connections", "Unspecified", "Unspecified", "Mail system",
        "Undefined", "Undefined", "Undefined", "Undefined",
    };
    return reply_class(code) ? names[code / 10 % 10] : "invalid";
}

/* ---- Meaning in context ------------------------------------------------------------------ */

#define REPLY_ANY_VERB SMTP_VERB_COUNT
#define REPLY_ANY_ANSWER SMTP_ANSWER_COUNT
#define REPLY_ANY_VARIANT 99u

struct reply_context {
    enum smtp_answer answers; /* REPLY_ANY_ANSWER: whatever it answers */
    enum smtp_verb verb;      /* REPLY_ANY_VERB: after any command */
    unsigned variant;         /* enum reply_variant, or REPLY_ANY_VARIANT */
    int lo, hi;               /* code range */
    const char *meaning;
};

#define ANY_CMD SMTP_ANSWER_COMMAND, REPLY_ANY_VERB, REPLY_ANY_VARIANT
#define CMD(v) SMTP_ANSWER_COMMAND, SMTP_VERB_##v, REPLY_ANY_VARIANT
#define CMDV(v, var) SMTP_ANSWER_COMMAND, SMTP_VERB_##v, REPLY_VARIANT_##v##_##var
#define NOCMD(a) SMTP_ANSWER_##a, REPLY_ANY_VERB, REPLY_ANY_VARIANT

/* First match wins: specific rows before the ranges that cover them. */
static const struct reply_context reply_contexts[] = {
    { NOCMD(CONNECTION_LOST), 421, 421, "the server closes the connection the client left" },
    { REPLY_ANY_ANSWER, REPLY_ANY_VERB, REPLY_ANY_VARIANT, 421, 421,
      "service shutting down: the server closes the connection" },
    /* Replies to commands lost in a capture gap (or before a midstream start): what they still say. */
    { NOCMD(CAPTURE_GAP), 354, 354, "start mail input: the DATA it answers is not in the capture" },
    { NOCMD(CAPTURE_GAP), 334, 334, "AUTH challenge: the command it answers is not in the capture" },
    { NOCMD(CAPTURE_GAP), 200, 599, "answers a command that is not in the capture (a gap, or before it started)" },
    { NOCMD(GREETING), 220, 220, "server greeting: ready for commands" },
    { NOCMD(GREETING), 554, 554, "connection refused at greeting: no SMTP service here" },
    { NOCMD(GREETING), 521, 521, "host does not accept mail (RFC 7504)" },
    { CMD(EHLO), 250, 250, "greeting accepted; the reply lists the server's extensions" },
    { CMD(EHLO), 500, 502, "EHLO not supported: the client should fall back to HELO" },
    { CMD(HELO), 250, 250, "greeting accepted" },
    { CMD(MAIL), 250, 250, "sender accepted" },
    { CMD(MAIL), 503, 503, "MAIL out of order (no HELO/EHLO yet, or a transaction is open)" },
    { CMD(MAIL), 400, 499, "sender deferred (temporary)" },
    { CMD(MAIL), 500, 599, "sender rejected" },
    { CMD(RCPT), 250, 250, "recipient accepted" },
    { CMD(RCPT), 251, 251, "recipient accepted; not local, will be forwarded" },
    { CMD(RCPT), 452, 452, "too many recipients or no storage: send the rest later" },
    { CMD(RCPT), 503, 503, "RCPT out of order: no accepted MAIL yet" },
    { CMD(RCPT), 400, 499, "recipient deferred (temporary)" },
    { CMD(RCPT), 500, 599, "recipient rejected" },
    { CMD(DATA), 354, 354, "start mail input; end with <CRLF>.<CRLF>" },
    { CMD(DATA), 503, 503, "DATA refused: no sender or no accepted recipient yet" },
    { CMD(DATA), 554, 554, "DATA refused: no valid recipients" },
    { CMD(DATA), 400, 599, "DATA refused" },
    { CMD(END_OF_DATA), 250, 250, "message accepted for delivery" },
    { CMD(END_OF_DATA), 400, 499, "message deferred (temporary): the client retries" },
    { CMD(END_OF_DATA), 500, 599, "message rejected" },
    /* RFC 3030 2: each chunk is answered; the LAST chunk's reply is the message's. */
    { CMDV(BDAT, BAD_SIZE), 501, 501, "BDAT refused: the chunk size is not a number the server reads" },
    { CMDV(BDAT, BAD_SIZE), 521, 521, "BDAT refused: the chunk size is not a number the server reads" },
    { CMD(BDAT), 503, 503, "BDAT out of order: no accepted MAIL or recipient yet" },
    { CMDV(BDAT, LAST), 250, 250, "message accepted for delivery" },
    { CMDV(BDAT, LAST), 400, 499, "message deferred (temporary): the client retries" },
    { CMDV(BDAT, LAST), 500, 599, "message rejected" },
    { CMD(BDAT), 250, 250, "chunk accepted" },
    { CMD(BDAT), 400, 499, "chunk deferred (temporary): the message is not accepted" },
    { CMD(BDAT), 500, 599, "chunk rejected: the message is not accepted" },
    { CMD(RSET), 250, 250, "transaction reset" },
    { CMD(NOOP), 250, 250, "no-op acknowledged" },
    { CMD(QUIT), 221, 221, "closing connection" },
    { CMD(HELP), 211, 214, "help text" },
    { CMD(HELP), 250, 250, "help text" },
    /* RFC 5321 4.2.4: 502 says the command is not implemented, not that someone disabled it. */
    { CMD(HELP), 502, 502, "command not implemented" },
    /* RFC 5321 4.2.4: 500 to a command the server lacks (postfix answers HELP and EXPN so) is
     * "command unrecognized", not a syntax error in what the client sent. */
    { CMD(HELP), 500, 500, "command not recognised" },
    { CMD(VRFY), 250, 250, "address verified" },
    { CMD(VRFY), 251, 251, "user not local; forwarding address given" },
    { CMD(VRFY), 252, 252, "cannot verify user, but will accept and attempt delivery" },
    { CMD(VRFY), 502, 502, "command not implemented" },
    { CMD(VRFY), 550, 553, "address not verified" },
    { CMD(EXPN), 250, 250, "mailing list expanded" },
    { CMD(EXPN), 252, 252, "will not expand the list, but will accept mail for it" },
    { CMD(EXPN), 500, 500, "command not recognised" },
    { CMD(EXPN), 502, 502, "command not implemented" },
    { CMD(EXPN), 550, 550, "list not expanded: no such list or access denied" },
    { CMD(TURN), 502, 502, "TURN disabled (insecure; obsolete per RFC 5321)" },
    { CMD(UNKNOWN), 500, 500, "command not recognised" },
    { CMD(UNKNOWN), 502, 502, "command not implemented" },
    { CMD(STARTTLS), 220, 220, "ready to start TLS" },
    { CMD(STARTTLS), 454, 454, "TLS not available (temporary)" },
    { CMD(STARTTLS), 501, 501, "syntax error: STARTTLS takes no parameters" },
    { CMD(AUTH), 334, 334, "server challenge (base64)" },
    { CMD(AUTH), 235, 235, "authentication succeeded" },
    { CMD(AUTH), 535, 535, "credentials rejected" },
    { CMD(AUTH), 534, 534, "authentication mechanism too weak" },
    { CMD(AUTH), 538, 538, "mechanism needs an encrypted connection" },
    { CMD(AUTH), 523, 523, "mechanism needs an encrypted connection" },
    { CMD(AUTH), 525, 525, "account disabled" },
    { CMD(AUTH), 432, 432, "password transition needed" },
    { CMD(AUTH), 454, 454, "temporary authentication failure" },
    { CMD(AUTH), 504, 504, "unrecognized authentication mechanism" },
    { CMD(AUTH), 501, 501, "authentication cancelled or malformed response" },
    { CMD(AUTH), 500, 500, "authentication line too long" },
    { CMD(AUTH), 503, 503, "AUTH not allowed now (already authenticated or in a transaction)" },
    { CMD(ETRN), 250, 250, "queuing for node started" },
    { CMD(ETRN), 251, 251, "no messages waiting for node" },
    { CMD(ETRN), 252, 253, "pending messages for node started" },
    { CMD(ETRN), 458, 458, "unable to queue messages for node" },
    { CMD(ETRN), 459, 459, "node not allowed" },
    { CMD(ATRN), 250, 250, "roles reversed: the server delivers the queued mail" },
    { CMD(ATRN), 453, 453, "no mail waiting" },
    { ANY_CMD, 530, 530, "authentication (or STARTTLS) required first" },
};
#undef ANY_CMD
#undef CMD
#undef CMDV
#undef NOCMD

_Static_assert(sizeof(reply_contexts) / sizeof(reply_contexts[0]) < REPLY_CONTEXT_IDS && REPLY_CONTEXT_IDS < 255,
               "context ids fit below REPLY_CONTEXT_IDS");

/* Commands that share another's replies: LMTP's LHLO answers like EHLO (RFC 2033), and the
 * client's base64 lines inside AUTH (SASL) get AUTH's replies (RFC 4954). */
static enum smtp_verb reply_context_verb(enum smtp_verb verb)
{
    if (verb == SMTP_VERB_LHLO)
        return SMTP_VERB_EHLO;
    if (verb == SMTP_VERB_SASL)
        return SMTP_VERB_AUTH;
    return verb;
}

static unsigned reply_context_scan(enum smtp_answer answers, enum smtp_verb v, enum reply_variant variant, int code)
{
    for (size_t i = 0; i < sizeof(reply_contexts) / sizeof(reply_contexts[0]); i++) {
        const struct reply_context *c = &reply_contexts[i];
        if ((c->answers == REPLY_ANY_ANSWER || c->answers == answers) &&
            (c->verb == REPLY_ANY_VERB || c->verb == v || answers != SMTP_ANSWER_COMMAND) &&
            (c->variant == REPLY_ANY_VARIANT || c->variant == (unsigned)variant) && code >= c->lo &&
            code <= c->hi)
            return (unsigned)i + 1;
    }
    return 0;
}

/* The core asks for every reply: each (answers, verb, variant, code) is looked up in the table
 * once, then read from here (0: not looked up yet; else the id + 1). */
#define REPLY_VARIANTS 3
static uint8_t context_memo[SMTP_ANSWER_COUNT][SMTP_VERB_COUNT + 1][REPLY_VARIANTS][600];

const char *reply_context(enum smtp_answer answers, enum smtp_verb verb, enum reply_variant variant,
                          int code, unsigned *id)
{
    enum smtp_verb v = reply_context_verb(verb);
    unsigned row;
    if ((unsigned)answers < SMTP_ANSWER_COUNT && (unsigned)v <= SMTP_VERB_COUNT && (unsigned)variant < REPLY_VARIANTS &&
        code >= 0 && code < 600) {
        uint8_t *m = &context_memo[answers][v][variant][code];
        if (*m == 0)
            *m = (uint8_t)(reply_context_scan(answers, v, variant, code) + 1);
        row = *m - 1u;
    } else {
        row = reply_context_scan(answers, v, variant, code);
    }
    if (id)
        *id = row;
    return row ? reply_contexts[row - 1].meaning : NULL;
}

const char *reply_context_meaning(enum smtp_verb verb, int code)
{
    enum smtp_answer a = verb == SMTP_VERB_GREETING ? SMTP_ANSWER_GREETING : SMTP_ANSWER_COMMAND;
    return reply_context(a, verb, REPLY_VARIANT_NONE, code, NULL);
}

size_t reply_meaning_line_len(const struct reply_entry *e)
{
    const char *m = e->meaning;
    for (size_t i = 0; m[i]; i++)
        if (m[i] == '.' && (m[i + 1] == ' ' || m[i + 1] == '\0'))
            return i + 1;
    return strlen(m);
}
