/* enhanced_codes.c - enhanced mail system status codes: the RFC 3463 syntax and the IANA
 * "Enumerated Status Codes" registry (RFC 5248 and the RFCs that added codes since). */
#include "smtpsniff/reply.h"

#include <stddef.h>
#include <string.h>

struct enhanced_row {
    int subject, detail;
    const char *usual; /* basic reply codes the registry pairs it with; "" when it names none */
    struct enhanced_entry e;
};

#define ENH(s, d, usual, name, meaning, source) \
    { s, d, usual, { "X." #s "." #d, name, meaning, source } }

/* Sorted by subject, then detail. */
static const struct enhanced_row enhanced_rows[] = {
    ENH(0, 0, "", "Other undefined Status",
        "Only the class is known; nothing more specific applies.", "RFC 3463"),

    ENH(1, 0, "", "Other address status",
        "Something about an address in the message caused this status.", "RFC 3463"),
    ENH(1, 1, "451, 550", "Bad destination mailbox address",
        "The mailbox does not exist: the part left of the \"@\" is not valid there.", "RFC 3463"),
    ENH(1, 2, "", "Bad destination system address",
        "The destination system does not exist or takes no mail: the part right of the \"@\" "
        "is not valid for mail.", "RFC 3463"),
    ENH(1, 3, "501", "Bad destination mailbox address syntax",
        "The destination address is syntactically invalid.", "RFC 3463"),
    ENH(1, 4, "", "Destination mailbox address ambiguous",
        "The address matches more than one recipient on the destination system.", "RFC 3463"),
    ENH(1, 5, "250", "Destination address valid",
        "The destination address is valid; used in positive replies and reports.", "RFC 3463"),
    ENH(1, 6, "", "Destination mailbox has moved, No forwarding address",
        "The address was once valid but no longer takes mail, and no new address is known.",
        "RFC 3463"),
    ENH(1, 7, "", "Bad sender's mailbox address syntax",
        "The sender's address is syntactically invalid.", "RFC 3463"),
    ENH(1, 8, "451, 501", "Bad sender's system address",
        "The sender's domain does not exist or cannot take return mail.", "RFC 3463"),
    ENH(1, 9, "", "Message relayed to non-compliant mailer",
        "The address was valid, but the message went on to a system that cannot report "
        "further status.", "RFC 3886"),
    ENH(1, 10, "556", "Recipient address has null MX",
        "The recipient's domain publishes a null MX: it accepts no mail.", "RFC 7505"),

    ENH(2, 0, "", "Other or undefined mailbox status",
        "The mailbox exists, but something about it caused this status.", "RFC 3463"),
    ENH(2, 1, "", "Mailbox disabled, not accepting messages",
        "The mailbox exists but does not accept messages, for now or for good.", "RFC 3463"),
    ENH(2, 2, "552", "Mailbox full",
        "The mailbox is over its quota or capacity; the recipient can free space.", "RFC 3463"),
    ENH(2, 3, "552", "Message length exceeds administrative limit",
        "The message is longer than this mailbox's own size limit.", "RFC 3463"),
    ENH(2, 4, "450, 452", "Mailing list expansion problem",
        "The address is a mailing list that could not be expanded.", "RFC 3463"),

    ENH(3, 0, "221, 250, 421, 451, 550, 554", "Other or undefined mail system status",
        "The destination system normally takes mail, but something about it caused this "
        "status.", "RFC 3463"),
    ENH(3, 1, "452", "Mail system full",
        "The mail system's storage is exhausted; the recipient cannot fix it alone.",
        "RFC 3463"),
    ENH(3, 2, "453, 521", "System not accepting network messages",
        "The host does not accept messages now (shutdown, load, maintenance) or at all.",
        "RFC 3463"),
    ENH(3, 3, "", "System not capable of selected features",
        "The destination does not support features asked for with the message.", "RFC 3463"),
    ENH(3, 4, "552, 554", "Message too big for system",
        "The message is larger than the system's per-message limit.", "RFC 3463"),
    ENH(3, 5, "", "System incorrectly configured",
        "The system is not set up in a way that lets it accept this message.", "RFC 3463"),
    ENH(3, 6, "", "Requested priority was changed",
        "The message was accepted, but at another priority than the one asked for.",
        "RFC 6710"),

    ENH(4, 0, "", "Other or undefined network or routing status",
        "A network or routing problem that no other detail code describes.", "RFC 3463"),
    ENH(4, 1, "451", "No answer from host",
        "The connection attempt to the next host got no answer.", "RFC 3463"),
    ENH(4, 2, "421", "Bad connection",
        "The connection opened but broke or timed out before the transaction finished.",
        "RFC 3463"),
    ENH(4, 3, "451, 550", "Directory server failure",
        "A directory server (such as DNS) needed to route the message was unavailable.",
        "RFC 3463"),
    ENH(4, 4, "", "Unable to route",
        "No next hop could be determined from the routing information (such as DNS).",
        "RFC 3463"),
    ENH(4, 5, "451", "Mail system congestion",
        "The mail system was too congested to deliver the message.", "RFC 3463"),
    ENH(4, 6, "", "Routing loop detected",
        "The message was forwarded too many times: a routing or forwarding loop.", "RFC 3463"),
    ENH(4, 7, "", "Delivery time expired",
        "The message was too old: it waited too long or outlived its time limit.", "RFC 3463"),

    ENH(5, 0, "220, 250-253, 451, 452, 454, 458, 459, 501-503, 554",
        "Other or undefined protocol status",
        "A problem with the delivery protocol that no other detail code describes.",
        "RFC 3463"),
    ENH(5, 1, "430, 500, 501, 503, 530, 550, 554, 555", "Invalid command",
        "A protocol command was out of sequence or not supported.", "RFC 3463"),
    ENH(5, 2, "500, 501, 502, 550, 555", "Syntax error",
        "A protocol command could not be understood: bad syntax or an unknown command.",
        "RFC 3463"),
    ENH(5, 3, "451", "Too many recipients",
        "More recipients than the protocol could take in one transaction.", "RFC 3463"),
    ENH(5, 4, "451, 501, 502, 503, 504, 550, 555", "Invalid command arguments",
        "A valid command had invalid arguments: out of range or unknown features.",
        "RFC 3463"),
    ENH(5, 5, "", "Wrong protocol version",
        "The two sides could not agree on a protocol version.", "RFC 3463"),
    ENH(5, 6, "500", "Authentication Exchange line is too long",
        "A base64 AUTH response was longer than the server's buffer for the mechanism.",
        "RFC 4954"),

    ENH(6, 0, "", "Other or undefined media error",
        "Something about the message content made it undeliverable.", "RFC 3463"),
    ENH(6, 1, "", "Media not supported",
        "The content's media type is not supported on the path to the recipient.", "RFC 3463"),
    ENH(6, 2, "", "Conversion required and prohibited",
        "The content had to be converted, but conversion was forbidden.", "RFC 3463"),
    ENH(6, 3, "554", "Conversion required but not supported",
        "The content had to be converted (8-bit to 7-bit, say) and a host could not do it.",
        "RFC 3463"),
    ENH(6, 4, "250", "Conversion with loss performed",
        "The message was delivered after a conversion that lost some data.", "RFC 3463"),
    ENH(6, 5, "", "Conversion Failed",
        "A required conversion was attempted and failed.", "RFC 3463"),
    ENH(6, 6, "554", "Message content not available",
        "Content referenced by URL (BURL) could not be fetched.", "RFC 4468"),
    ENH(6, 7, "553, 550", "Non-ASCII addresses not permitted for that sender/recipient",
        "An address holds non-ASCII characters and the path cannot carry it.", "RFC 6531"),
    ENH(6, 8, "252, 553, 550", "UTF-8 string reply is required, but not permitted by the SMTP client",
        "The reply would need UTF-8 to show the mailbox, and the client did not allow it.",
        "RFC 6531"),
    ENH(6, 9, "550", "UTF-8 header message cannot be transferred to one or more recipients",
        "The message has UTF-8 header fields that some recipient's path cannot accept, so it "
        "is rejected.", "RFC 6531"),
    ENH(6, 10, "", "Duplicate of X.6.8 (deprecated)",
        "Registered by mistake as a copy of X.6.8; do not send it.", "RFC 6531"),

    ENH(7, 0, "220, 235, 450, 454, 500, 501, 503, 504, 530, 535, 550",
        "Other or undefined security status",
        "A security or policy problem that no other detail code describes, or that policy "
        "forbids describing.", "RFC 3463"),
    ENH(7, 1, "451, 454, 502, 503, 533, 550, 551", "Delivery not authorized, message refused",
        "The sender may not send to this destination: per-host or per-recipient filtering.",
        "RFC 3463"),
    ENH(7, 2, "550", "Mailing list expansion prohibited",
        "The sender may not send to this mailing list.", "RFC 3463"),
    ENH(7, 3, "", "Security conversion required but not possible",
        "Delivery needed a conversion between secure messaging protocols that could not be "
        "done.", "RFC 3463"),
    ENH(7, 4, "504", "Security features not supported",
        "The message uses security features the delivery protocol cannot support.",
        "RFC 3463"),
    ENH(7, 5, "", "Cryptographic failure",
        "A system allowed to decrypt or verify the message lacked a valid key to do it.",
        "RFC 3463"),
    ENH(7, 6, "", "Cryptographic algorithm not supported",
        "A system allowed to decrypt or verify the message does not support its algorithm.",
        "RFC 3463"),
    ENH(7, 7, "", "Message integrity failure",
        "The message was found corrupted or altered when checked.", "RFC 3463"),
    ENH(7, 8, "535, 554", "Authentication credentials invalid",
        "AUTH failed: the credentials were wrong or not enough.", "RFC 4954"),
    ENH(7, 9, "534", "Authentication mechanism is too weak",
        "The AUTH mechanism is weaker than policy allows for this user.", "RFC 4954"),
    ENH(7, 10, "523", "Encryption Needed",
        "The AUTH mechanism needs an external privacy layer such as TLS first.", "RFC 5248"),
    ENH(7, 11, "524, 538", "Encryption required for requested authentication mechanism",
        "The AUTH mechanism may only be used over an encrypted connection.", "RFC 4954"),
    ENH(7, 12, "422, 432", "A password transition is needed",
        "The user must move to the selected AUTH mechanism, usually by one PLAIN login.",
        "RFC 4954"),
    ENH(7, 13, "525", "User Account Disabled",
        "Authentication succeeded but the account is disabled until an administrator acts.",
        "RFC 5248"),
    ENH(7, 14, "535, 554", "Trust relationship required",
        "The submission server needs a configured trust relationship with a third party to "
        "fetch the content.", "RFC 5248"),
    ENH(7, 15, "450, 550", "Priority Level is too low",
        "The message's priority is below what the server accepts now.", "RFC 6710"),
    ENH(7, 16, "552", "Message is too big for the specified priority",
        "At this priority the server accepts only smaller messages.", "RFC 6710"),
    ENH(7, 17, "", "Mailbox owner has changed",
        "RRVS: the recipient mailbox changed owner since the date the sender gave.", "RFC 7293"),
    ENH(7, 18, "", "Domain owner has changed",
        "RRVS: the recipient's domain changed owner since the date the sender gave.",
        "RFC 7293"),
    ENH(7, 19, "", "RRVS test cannot be completed",
        "RRVS: the receiver cannot tell, because it did not record the needed date.",
        "RFC 7293"),
    ENH(7, 20, "550", "No passing DKIM signature found",
        "The message carries no DKIM signature that verifies.", "RFC 7372"),
    ENH(7, 21, "550", "No acceptable DKIM signature found",
        "DKIM signatures verify, but none is acceptable under local policy.", "RFC 7372"),
    ENH(7, 22, "550", "No valid author-matched DKIM signature found",
        "No verifying DKIM signature matches the domain of the From address.", "RFC 7372"),
    ENH(7, 23, "550", "SPF validation failed",
        "The SPF check gave \"fail\" and local policy rejects such mail.", "RFC 7372, RFC 7208"),
    ENH(7, 24, "451, 550", "SPF validation error",
        "The SPF check could not be completed because of an error.", "RFC 7372, RFC 7208"),
    ENH(7, 25, "550", "Reverse DNS validation failed",
        "The client's IP address failed a reverse DNS check required by local policy.",
        "RFC 7372"),
    ENH(7, 26, "550", "Multiple authentication checks failed",
        "The message failed more than one authentication check (SPF, DKIM, ...).", "RFC 7372"),
    ENH(7, 27, "550", "Sender address has null MX",
        "The sender's domain publishes a null MX, so no bounce could reach it.", "RFC 7505"),
    ENH(7, 28, "", "Mail flood detected",
        "The message looks like part of a flood of similar unwanted messages.",
        "IANA registry"),
    ENH(7, 29, "", "ARC validation failure",
        "The message's Authenticated Received Chain (ARC) failed validation.", "RFC 8617"),
    ENH(7, 30, "550", "REQUIRETLS support required",
        "The message demands TLS on every hop (REQUIRETLS) and the next hop cannot promise it.",
        "RFC 8689"),
};

#define ENHANCED_NROWS (sizeof(enhanced_rows) / sizeof(enhanced_rows[0]))

static const struct enhanced_row *enhanced_find(int subject, int detail)
{
    for (size_t i = 0; i < ENHANCED_NROWS; i++)
        if (enhanced_rows[i].subject == subject && enhanced_rows[i].detail == detail)
            return &enhanced_rows[i];
    return NULL;
}

const struct enhanced_entry *enhanced_lookup(int subject, int detail)
{
    const struct enhanced_row *r = enhanced_find(subject, detail);
    return r ? &r->e : NULL;
}

const char *enhanced_usual_replies(int subject, int detail)
{
    const struct enhanced_row *r = enhanced_find(subject, detail);
    return r ? r->usual : "";
}

/* 1*3DIGIT at p[*i..n): its value, *i moved past it; -1 when there is no digit or a fourth. */
static int enhanced_number(const uint8_t *p, size_t n, size_t *i)
{
    int v = 0;
    size_t k = *i;
    while (k < n && p[k] >= '0' && p[k] <= '9') {
        if (k - *i == 3)
            return -1;
        v = v * 10 + (p[k] - '0');
        k++;
    }
    if (k == *i)
        return -1;
    *i = k;
    return v;
}

int enhanced_parse_span(const uint8_t *p, size_t n, struct smtp_enhanced *e, size_t *used)
{
    if (n < 5 || (p[0] != '2' && p[0] != '4' && p[0] != '5') || p[1] != '.')
        return -1; /* RFC 3463 2: the class is one digit, 2, 4 or 5 */
    size_t i = 2;
    int subject = enhanced_number(p, n, &i);
    if (subject < 0 || i >= n || p[i] != '.')
        return -1;
    i++;
    int detail = enhanced_number(p, n, &i);
    if (detail < 0 || (i < n && p[i] != ' '))
        return -1;
    *e = (struct smtp_enhanced){.cls = (uint8_t)(p[0] - '0'), .subject = (uint16_t)subject,
                                .detail = (uint16_t)detail};
    *used = i;
    return 0;
}

int enhanced_parse(const char *text, int *cls, int *subject, int *detail)
{
    size_t n = strlen(text), used;
    struct smtp_enhanced e;
    if (enhanced_parse_span((const uint8_t *)text, n, &e, &used) != 0 || used != n)
        return -1;
    *cls = e.cls;
    *subject = e.subject;
    *detail = e.detail;
    return 0;
}

const char *enhanced_class_name(int cls)
{
    switch (cls) {
    case 2: return "Success";
    case 4: return "Persistent Transient Failure";
    case 5: return "Permanent Failure";
    default: return "invalid";
    }
}

const char *enhanced_subject_name(int subject)
{
    static const char *const names[] = {
        "Other or Undefined Status", "Addressing Status", "Mailbox Status",
        "Mail System Status", "Network and Routing Status", "Mail Delivery Protocol Status",
        "Message Content or Media Status", "Security or Policy Status",
    };
    if (subject < 0 || subject >= (int)(sizeof(names) / sizeof(names[0])))
        return "Unregistered subject";
    return names[subject];
}
