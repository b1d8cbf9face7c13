/* fuzz_core.c - libFuzzer target for the SMTP core and the JSON sink. Input: one flags byte
 * (bit 0 implicit TLS, bit 1 show credentials, bit 2 through the content stage of --files: message
 * bytes, GMime, hashes, libmagic, bit 3 picked up midstream), then records of [direction byte]
 * [u16 length BE][bytes], each copied into its own exact-size allocation so ASan catches
 * over-reads; a direction byte with bit 1 set is a capture gap of `length` bytes (no bytes). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "content/content.h"
#include "sinks/sinks.h"
#include "smtp/smtp_core.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static FILE *devnull;
    static struct smtp_sink *json, *content; /* made once: libmagic's database loads slowly */
    if (devnull == NULL) {
        char err[128];
        devnull = fopen("/dev/null", "w");
        struct out_json_opts jo = {.out = devnull};
        json = out_json_new(&jo);
        struct content_opts co = {.max_message = 1 << 20, .memcap = 1 << 22};
        content = content_new(&co, json, err, sizeof(err));
        if (content == NULL)
            abort();
    }
    if (size < 1)
        return 0;
    unsigned flags = 0;
    if (data[0] & 1)
        flags |= SMTP_SESS_IMPLICIT_TLS;
    if (data[0] & 2)
        flags |= SMTP_SESS_SHOW_CREDENTIALS;
    if (data[0] & 8)
        flags |= SMTP_SESS_MIDSTREAM;
    struct smtp_endpoint c = {"192.0.2.1", 40000}, s = {"192.0.2.25", 25};
    struct timeval ts = {1700000000, 0};
    struct smtp_session *sess = smtp_session_new(1, &c, &s, &ts, (data[0] & 4) ? content : json, flags);
    size_t i = 1;
    while (i + 3 <= size) {
        enum smtp_dir dir = (data[i] & 1) ? SMTP_DIR_SERVER : SMTP_DIR_CLIENT;
        size_t len = (size_t)data[i + 1] << 8 | data[i + 2];
        i += 3;
        ts.tv_usec = (ts.tv_usec + 1000) % 1000000;
        if (data[i - 3] & 2) {
            smtp_session_gap(sess, dir, len, &ts);
            continue;
        }
        if (len > size - i)
            len = size - i;
        uint8_t *chunk = malloc(len ? len : 1);
        memcpy(chunk, data + i, len);
        smtp_session_data(sess, dir, chunk, len, &ts);
        free(chunk);
        i += len;
    }
    smtp_session_end(sess, SMTP_END_EOF, &ts);
    smtp_session_free(sess);
    return 0;
}
