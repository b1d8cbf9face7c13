/* test_resync.c - the SMTP core resynchronising after capture gaps and at a midstream start
 * (docs/design.md, "Resynchronising"), as scripted dialogues split at every byte offset. A gap
 * step (GAP_C / GAP_S) tells the core that those bytes are missing, as the reassembly does. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "dialogue.c"
#include "smtp/smtp_core.h"

#define EHLO_REPLY "250-mx\r\n250-PIPELINING\r\n250-CHUNKING\r\n250 8BITMIME\r\n"
#define N_STEPS(d) (sizeof(d) / sizeof((d)[0]))
#define OPENING                                                                                    \
    S("220 mx ESMTP\r\n"), C("EHLO c\r\n"), S(EHLO_REPLY), C("MAIL FROM:<a@b>\r\n"), S("250 ok\r\n"), \
        C("RCPT TO:<x@y>\r\n"), S("250 ok\r\n")

/* The transaction line the dialogue must show, with sizes computed from the steps' text. */
static void want_txn(const char *t, const char *fmt, size_t size) __attribute__((format(printf, 2, 0)));
static void want_txn(const char *t, const char *fmt, size_t size)
{
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
    char want[256];
    snprintf(want, sizeof(want), fmt, size);
#pragma GCC diagnostic pop
    cr_assert(has_line(t, want), "want \"%s\" in\n%s", want, t);
}

#define HEAD "Subject: gap\r\n\r\nline one\r\nline t"
#define HOLE "wo\r\nline three\r\nline fo"

Test(resync, gap_inside_data_keeps_the_message_with_its_hole)
{
    static const struct step d[] = {
        OPENING, C("DATA\r\n"), S("354 go\r\n"), C(HEAD), GAP_C(HOLE), C("ur\r\n.\r\n"),
        S("250 queued\r\n"), C("QUIT\r\n"), S("221 bye\r\n"),
    };
    char *t = dialogue_run_all_splits(d, N_STEPS(d), 0);
    cr_assert(has_line(t, "X .  -> 250 queued {command: message accepted for delivery}\n"), "%s", t);
    cr_assert(has_line(t, "X QUIT  -> 221"), "%s", t);
    want_txn(t, "T 1 accepted from=a@b rcpt=x@y:250 size=%zu data=250 subj=gap helo=c missing=23 ended",
             strlen(HEAD) + strlen(HOLE) + strlen("ur\r\n"));
    cr_assert(has_line(t, "G content 23"), "the content stage hears of the hole\n%s", t);
    cr_assert_eq(count_lines(t, "N "), 1, "%s", t);
    cr_assert(has_line(t, "N capture-gap"), "%s", t);
    free(t);
}

/* The line the hole cut ends with ".": its tail ".\r\n" is no end of data. */
Test(resync, a_line_cut_by_a_hole_is_no_end_of_data)
{
    static const struct step d[] = {
        OPENING, C("DATA\r\n"), S("354 go\r\n"), C("a\r\nabc"), GAP_C("def"), C(".\r\nmore\r\n.\r\n"),
        S("250 queued\r\n"), C("QUIT\r\n"), S("221 bye\r\n"),
    };
    char *t = dialogue_run_all_splits(d, N_STEPS(d), 0);
    cr_assert(!has_line(t, "X MORE"), "content after the hole read as a command\n%s", t);
    cr_assert(has_line(t, "X .  -> 250 queued"), "%s", t);
    want_txn(t, "T 1 accepted from=a@b rcpt=x@y:250 size=%zu data=250 helo=c missing=3 ended",
             strlen("a\r\nabcdef.\r\nmore\r\n"));
    cr_assert_eq(count_lines(t, "N "), 1, "%s", t);
    free(t);
}

/* The end of data was in the hole: the server's 250 ends the message, with no smuggling notice
 * (the bytes do not show one), and it still pairs with the end of data. */
Test(resync, end_of_data_in_a_hole_is_no_smuggling)
{
    static const struct step d[] = {
        OPENING, C("DATA\r\n"), S("354 go\r\n"), C("Subject: s\r\n\r\nbody\r\n"), GAP_C("last\r\n.\r\n"),
        S("250 2.0.0 queued\r\n"), C("QUIT\r\n"), S("221 bye\r\n"),
    };
    char *t = dialogue_run_all_splits(d, N_STEPS(d), 0);
    cr_assert(!has_line(t, "N smuggling-end-of-data"), "%s", t);
    cr_assert(has_line(t, "X .  -> 250 2.0.0"), "%s", t);
    cr_assert(has_line(t, "X QUIT  -> 221"), "%s", t);
    want_txn(t, "T 1 accepted from=a@b rcpt=x@y:250 size=%zu data=250 subj=s helo=c missing=9\n",
             strlen("Subject: s\r\n\r\nbody\r\nlast\r\n.\r\n"));
    cr_assert_eq(count_lines(t, "N "), 1, "%s", t);
    free(t);
}

/* RFC 3030 2: a chunk is its size; the hole's bytes count against it. */
Test(resync, gap_inside_bdat_counts_against_the_chunk)
{
    static const struct step d[] = {
        OPENING, C("BDAT 20\r\n0123456789"), GAP_C("abcde"), C("fghijBDAT 5 LAST\r\nvwxyz"),
        S("250 2.0.0 20 bytes\r\n250 2.0.0 queued\r\n"), C("QUIT\r\n"), S("221 bye\r\n"),
    };
    char *t = dialogue_run_all_splits(d, N_STEPS(d), 0);
    cr_assert(has_line(t, "X BDAT 20 -> 250 2.0.0"), "%s", t);
    cr_assert(has_line(t, "X BDAT 5 LAST -> 250 2.0.0 2.0.0 queued"), "%s", t);
    cr_assert(has_line(t, "T 1 accepted from=a@b rcpt=x@y:250 size=25 data=250 helo=c missing=5 ended"), "%s", t);
    cr_assert(has_line(t, "G content 5"), "%s", t);
    cr_assert_eq(count_lines(t, "N "), 1, "%s", t);
    free(t);
}

/* A hole past a chunk's end: its rest is commands, lost (RSET here; its 250 answers it). */
Test(resync, gap_past_a_bdat_chunk_loses_the_commands_after_it)
{
    static const struct step d[] = {
        OPENING, C("BDAT 10\r\n01234"), GAP_C("56789RSET\r\n"), S("250 2.0.0 10 bytes\r\n"),
        S("250 2.0.0 reset\r\n"), C("QUIT\r\n"), S("221 bye\r\n"),
    };
    char *t = dialogue_run_all_splits(d, N_STEPS(d), 0);
    cr_assert(has_line(t, "X BDAT 10 -> 250 2.0.0 2.0.0 10 bytes"), "%s", t);
    cr_assert(has_line(t, "X - -> 250 2.0.0 2.0.0 reset {capture-gap: "), "%s", t);
    cr_assert(has_line(t, "X QUIT  -> 221 bye {command: "), "%s", t);
    cr_assert(!has_line(t, "X QUIT  -> 221 bye {command: -} [resync]"), "%s", t);
    cr_assert(has_line(t, "T 1 incomplete from=a@b rcpt=x@y:250 size=10 helo=c missing=5"), "%s", t);
    free(t);
}

/* Command mode: the replies to what the server had before the hole pair with it; the tail of
 * the line the hole cut is no command; the reply to the lost one answers "capture-gap". */
Test(resync, gap_in_command_mode_marks_the_lost_command)
{
    static const struct step d[] = {
        S("220 mx ESMTP\r\n"), C("EHLO c\r\n"), S(EHLO_REPLY), C("MAIL FROM:<a@b>\r\n"), S("250 2.1.0 ok\r\n"),
        C("RCPT TO:<al"), GAP_C("ice@example.org>\r"), C("\n"), S("250 2.1.5 ok\r\n"), C("DATA\r\n"),
        S("354 go\r\n"), C("x\r\n.\r\n"), S("250 queued\r\n"), C("QUIT\r\n"), S("221 bye\r\n"),
    };
    char *t = dialogue_run_all_splits(d, N_STEPS(d), 0);
    cr_assert(has_line(t, "X MAIL FROM:<a@b> -> 250 2.1.0"), "%s", t);
    cr_assert(has_line(t, "X - -> 250 2.1.5 2.1.5 ok {capture-gap: "), "%s", t);
    cr_assert(has_line(t, "X DATA  -> 354 go {command: "), "%s", t);
    cr_assert(!has_line(t, "X  "), "the line's tail read as a command\n%s", t);
    cr_assert(has_line(t, "T 1 accepted from=a@b rcpt= size=3 data=250 helo=c ended"), "%s", t);
    cr_assert_eq(count_lines(t, "N "), 1, "%s", t);
    free(t);
}

/* A DATA lost in a hole: its 354 still starts content (only DATA gets 354). */
Test(resync, lost_data_line_still_starts_content_at_354)
{
    static const struct step d[] = {
        OPENING, GAP_C("DATA\r\n"), S("354 go\r\n"), C("Subject: lost data\r\n\r\nbody\r\n.\r\n"),
        S("250 queued\r\n"), C("QUIT\r\n"), S("221 bye\r\n"),
    };
    char *t = dialogue_run_all_splits(d, N_STEPS(d), 0);
    cr_assert(has_line(t, "X - -> 354 go {capture-gap: "), "%s", t);
    cr_assert(has_line(t, "X .  -> 250 queued {command: message accepted for delivery}\n"), "%s", t);
    want_txn(t, "T 1 accepted from=a@b rcpt=x@y:250 size=%zu data=250 subj=lost data helo=c ended",
             strlen("Subject: lost data\r\n\r\nbody\r\n"));
    cr_assert(!has_line(t, "N bad-command-sequence"), "%s", t);
    free(t);
}

/* Content pipelined behind DATA before its 354 with a hole in it: the hole waits among the
 * held bytes and lands in the message where it was. */
Test(resync, gap_among_bytes_held_for_an_unanswered_data)
{
    static const struct step d[] = {
        OPENING, C("DATA\r\nSubject: a\r\n"), GAP_C("\r\nbody\r\n"), C("more\r\n.\r\n"), S("354 go\r\n"),
        S("250 queued\r\n"), C("QUIT\r\n"), S("221 bye\r\n"),
    };
    char *t = dialogue_run_all_splits(d, N_STEPS(d), 0);
    cr_assert(has_line(t, "X .  -> 250 queued"), "%s", t);
    want_txn(t, "T 1 accepted from=a@b rcpt=x@y:250 size=%zu data=250 subj=a helo=c missing=8 ended",
             strlen("Subject: a\r\n\r\nbody\r\nmore\r\n"));
    free(t);
}

/* --- midstream: picked up without the handshake (the reassembly's SMTP_SESS_MIDSTREAM) ------ */

/* sensor-midsession-pause: the capture starts during a pause after MAIL's 250. */
Test(resync, midstream_in_command_mode)
{
    static const struct step d[] = {
        C("RCPT TO:<alice@example.org>\r\n"), S("250 2.1.5 Ok\r\n"), C("RCPT TO:<bob@example.org>\r\n"),
        S("250 2.1.5 Ok\r\n"), C("DATA\r\n"), S("354 go\r\n"), C("Subject: pause\r\n\r\nbody\r\n.\r\n"),
        S("250 2.0.0 Ok: queued\r\n"), C("QUIT\r\n"), S("221 2.0.0 Bye\r\n"),
    };
    char *t = dialogue_run_all_splits(d, N_STEPS(d), SMTP_SESS_MIDSTREAM);
    cr_assert(has_line(t, "X RCPT TO:<alice@example.org> -> 250 2.1.5 2.1.5 Ok {command: recipient accepted} [resync]"),
              "%s", t);
    cr_assert(has_line(t, "X RCPT TO:<bob@example.org> -> 250 2.1.5 2.1.5 Ok {command: recipient accepted}\n"), "%s",
              t);
    cr_assert(has_line(t, "X QUIT  -> 221"), "%s", t);
    cr_assert(has_line(t, "T 1 accepted from=- rcpt=alice@example.org:250,bob@example.org:250 size=24 data=250 "
                          "subj=pause helo=- ended"),
              "%s", t);
    cr_assert_eq(count_lines(t, "N "), 0, "no notice the missing start explains\n%s", t);
    free(t);
}

/* sensor-midsession-data: the capture starts inside DATA content. */
Test(resync, midstream_inside_content)
{
    static const struct step d[] = {
        C("line 21\r\nline 22\r\n.line 23\r\n.\r\n"), S("250 2.0.0 Ok: queued\r\n"),
        C("MAIL FROM:<second@example.net>\r\n"), S("250 2.1.0 Ok\r\n"), C("RCPT TO:<bob@example.org>\r\n"),
        S("250 2.1.5 Ok\r\n"), C("DATA\r\n"), S("354 go\r\n"), C("Subject: second\r\n\r\nbody\r\n.\r\n"),
        S("250 2.0.0 Ok: queued\r\n"), C("QUIT\r\n"), S("221 2.0.0 Bye\r\n"),
    };
    char *t = dialogue_run_all_splits(d, N_STEPS(d), SMTP_SESS_MIDSTREAM);
    cr_assert(!has_line(t, "X LINE"), "content read as commands\n%s", t);
    cr_assert(has_line(t, "X .  -> 250 2.0.0 2.0.0 Ok: queued {command: message accepted for delivery} [resync]"),
              "%s", t);
    cr_assert(has_line(t, "T 1 accepted from=- rcpt= size=27 data=250 helo=- start-missing ended"), "%s", t);
    cr_assert(has_line(t, "X MAIL FROM:<second@example.net> -> 250 2.1.0 2.1.0 Ok {command: sender accepted}\n"),
              "%s", t);
    cr_assert(has_line(t, "T 2 accepted from=second@example.net rcpt=bob@example.org:250 size=25 data=250 "
                          "subj=second helo=- ended"),
              "%s", t);
    cr_assert_eq(count_lines(t, "N "), 0, "%s", t);
    free(t);
}

/* sensor-midsession-reply: the capture starts inside a multi-line reply. */
Test(resync, midstream_inside_a_reply)
{
    static const struct step d[] = {
        S("50-ETRN\r\n250-ENHANCEDSTATUSCODES\r\n250 CHUNKING\r\n"), C("MAIL FROM:<sender@example.net>\r\n"),
        S("250 2.1.0 Ok\r\n"), C("RCPT TO:<alice@example.org>\r\n"), S("250 2.1.5 Ok\r\n"), C("QUIT\r\n"),
        S("221 2.0.0 Bye\r\n"),
    };
    char *t = dialogue_run_all_splits(d, N_STEPS(d), SMTP_SESS_MIDSTREAM);
    cr_assert(has_line(t, "X - -> 250 ENHANCEDSTATUSCODES|CHUNKING {capture-gap: "), "%s", t);
    cr_assert(has_line(t, "X MAIL FROM:<sender@example.net> -> 250 2.1.0"), "%s", t);
    cr_assert(has_line(t, "X RCPT TO:<alice@example.org> -> 250 2.1.5 2.1.5 Ok {command: recipient accepted}\n"), "%s",
              t);
    cr_assert(has_line(t, "N midstream-skipped"), "the skipped tail is counted\n%s", t);
    cr_assert_eq(count_lines(t, "N "), 1, "%s", t);
    cr_assert(!has_line(t, "N malformed-reply"), "%s", t);
    free(t);
}

/* The capture starts inside a command line: its tail gets a reply, so it was no content. */
Test(resync, midstream_inside_a_command_line)
{
    static const struct step d[] = {
        C("ple.org>\r\n"), S("250 2.1.5 Ok\r\n"), C("DATA\r\n"), S("354 go\r\n"), C("Subject: t\r\n\r\nb\r\n.\r\n"),
        S("250 2.0.0 queued\r\n"),
    };
    char *t = dialogue_run_all_splits(d, N_STEPS(d), SMTP_SESS_MIDSTREAM);
    cr_assert(has_line(t, "X - -> 250 2.1.5 2.1.5 Ok {capture-gap: "), "%s", t);
    cr_assert(has_line(t, "X DATA  -> 354"), "%s", t);
    cr_assert(has_line(t, "T 1 accepted from=- rcpt= size=17 data=250 subj=t helo=- ended"), "%s", t);
    cr_assert(has_line(t, "N midstream-skipped"), "%s", t);
    cr_assert_eq(count_lines(t, "N "), 1, "%s", t);
    free(t);
}

/* Without the flag, a session is read from its start as before: its first reply is the greeting. */
Test(resync, a_session_with_its_handshake_is_read_from_the_start)
{
    static const struct step d[] = {S("220 mx\r\n"), C("QUIT\r\n"), S("221 bye\r\n")};
    char *t = dialogue_run_all_splits(d, N_STEPS(d), 0);
    cr_assert(has_line(t, "X - -> 220 mx {greeting: "), "%s", t);
    cr_assert(!strstr(t, "[resync]"), "%s", t);
    free(t);
}

/* --- one-sided captures (only one direction's packets seen) ---------------------------------- */

/* sensor-oneway-c2s: no server byte at all. What the client sent is what there is: the message
 * sent after DATA is read as content at the end (as after a 354), the HELO name as given. */
Test(resync, client_side_only)
{
    static const struct step d[] = {
        C("EHLO client.example.net\r\n"), C("MAIL FROM:<a@b>\r\n"), C("RCPT TO:<x@y>\r\n"), C("DATA\r\n"),
        C("Subject: one side\r\n\r\nbody\r\n.\r\n"), C("QUIT\r\n"),
    };
    char *t = dialogue_run_all_splits(d, N_STEPS(d), 0);
    cr_assert(has_line(t, "T 1 incomplete from=a@b rcpt=x@y:0 size=27 subj=one side helo=client.example.net ended"), "%s",
              t);
    cr_assert(has_line(t, "E close tls=none helo=client.example.net"), "%s", t);
    cr_assert(!has_line(t, "X SUBJECT"), "content read as commands\n%s", t);
    cr_assert_eq(count_lines(t, "N "), 0, "%s", t);
    free(t);
}

/* sensor-oneway-s2c: no client byte at all: the replies answer commands the capture does not
 * hold, so none is a reply-without-command. One client byte later and they are. */
Test(resync, server_side_only)
{
    static const struct step d[] = {
        S("220 mx ESMTP\r\n"), S(EHLO_REPLY), S("250 2.1.0 Ok\r\n"), S("550 5.1.1 no\r\n"), S("354 go\r\n"),
        S("250 2.0.0 queued\r\n"), S("221 bye\r\n"),
    };
    char *t = dialogue_run_all_splits(d, N_STEPS(d), 0);
    cr_assert_eq(count_lines(t, "X - -> "), 7, "%s", t);
    cr_assert_eq(count_lines(t, "N "), 0, "%s", t);
    free(t);
    static const struct step d2[] = {S("220 mx ESMTP\r\n"), S("250 nobody asked\r\n"), C("QUIT\r\n"), S("221 bye\r\n")};
    t = dialogue_run_all_splits(d2, N_STEPS(d2), 0);
    cr_assert(has_line(t, "N reply-without-command"), "%s", t);
    free(t);
}

/* A client that pipelined across the hole: the lost RCPT and the lines after it were sent in one
 * flight, so their replies all come after the lines after the hole were read. The count tells
 * them apart: of the replies before the client's next bytes, those past the lines read after the
 * hole answer lost ones. */
Test(resync, pipelined_across_a_hole_pairs_by_reply_count)
{
    static const struct step d[] = {
        S("220 mx ESMTP\r\n"), C("EHLO c\r\n"), S(EHLO_REPLY), C("MAIL FROM:<a@b>\r\n"), GAP_C("RCPT TO:<x@y>\r\n"),
        C("RCPT TO:<z@y>\r\nDATA\r\n"), S("250 2.1.0 ok\r\n250 2.1.5 x ok\r\n250 2.1.5 z ok\r\n354 go\r\n"),
        C("body\r\n.\r\n"), S("250 queued\r\n"), C("QUIT\r\n"), S("221 bye\r\n"),
    };
    char *t = dialogue_run_all_splits(d, N_STEPS(d), 0);
    cr_assert(has_line(t, "X MAIL FROM:<a@b> -> 250 2.1.0"), "%s", t);
    cr_assert(has_line(t, "X - -> 250 2.1.5 2.1.5 x ok {capture-gap: "), "%s", t);
    cr_assert(has_line(t, "X RCPT TO:<z@y> -> 250 2.1.5 2.1.5 z ok {command: recipient accepted} [resync]"), "%s", t);
    cr_assert(has_line(t, "X DATA  -> 354 go"), "%s", t);
    cr_assert(has_line(t, "T 1 accepted from=a@b rcpt=z@y:250 size=6 data=250 helo=c ended"), "%s", t);
    cr_assert_eq(count_lines(t, "N "), 1, "%s", t);
    free(t);
}

/* --- server holes: replies missing from the capture ------------------------------------------ */

/* The reply to RCPT is in a hole: the client sent DATA once it had it, so RCPT was answered;
 * the 354 that comes answers DATA, not RCPT. */
Test(resync, reply_in_a_server_hole_leaves_its_command_unanswered)
{
    static const struct step d[] = {
        S("220 mx ESMTP\r\n"), C("EHLO c\r\n"), S(EHLO_REPLY), C("MAIL FROM:<a@b>\r\n"), S("250 ok\r\n"),
        C("RCPT TO:<x@y>\r\n"), GAP_S("250 2.1.5 ok\r\n"), C("DATA\r\n"), S("354 go\r\n"), C("x\r\n.\r\n"),
        S("250 queued\r\n"), C("QUIT\r\n"), S("221 bye\r\n"),
    };
    char *t = dialogue_run_all_splits(d, N_STEPS(d), 0);
    cr_assert(has_line(t, "X RCPT TO:<x@y> -> - [resync]"), "%s", t);
    cr_assert(has_line(t, "X DATA  -> 354 go {command: "), "%s", t);
    cr_assert(has_line(t, "X .  -> 250 queued"), "%s", t);
    cr_assert(has_line(t, "T 1 accepted from=a@b rcpt=x@y:0 size=3 data=250 helo=c ended"), "%s", t);
    free(t);
}

/* The 354 is in the hole: what follows DATA is read by what it is (here content, its headers
 * in view), and the 250 pairs with its end. */
Test(resync, the_354_in_a_server_hole)
{
    static const struct step d[] = {
        OPENING, C("DATA\r\n"), GAP_S("354 go\r\n"), C("Subject: h\r\n\r\nbody\r\n.\r\n"), S("250 queued\r\n"),
        C("QUIT\r\n"), S("221 bye\r\n"),
    };
    char *t = dialogue_run_all_splits(d, N_STEPS(d), 0);
    cr_assert(has_line(t, "X DATA  -> - [resync]"), "%s", t);
    cr_assert(!has_line(t, "X SUBJECT"), "content read as commands\n%s", t);
    cr_assert(has_line(t, "X .  -> 250 queued"), "%s", t);
    cr_assert(has_line(t, "T 1 accepted from=a@b rcpt=x@y:250 size=20 data=250 subj=h helo=c ended"), "%s", t);
    cr_assert(has_line(t, "X QUIT  -> 221"), "%s", t);
    free(t);
}
