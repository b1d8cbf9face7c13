/* fuzz_capture.c - libFuzzer target for whole capture files: the input is written to a file and
 * read through every stage (capture's link-layer and IP decode, the own reassembly engine with
 * small bounds so eviction and --memcap are reached, the SMTP core, the JSON and live sinks and
 * both summary formats). Seeds: pcaps/ as they are. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capture/capture.h"
#include "reasm/reasm.h"
#include "sinks/sinks.h"
#include "smtp/smtp_core.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *input_path(void)
{
    static char path[256];
    if (path[0] == '\0') {
        const char *dir = getenv("TMPDIR");
        snprintf(path, sizeof(path), "%s/smtpsniff-fuzz-XXXXXX", dir ? dir : "/tmp");
        int fd = mkstemp(path);
        if (fd < 0)
            abort();
        close(fd);
    }
    return path;
}

static void run_capture(const char *path, FILE *devnull)
{
    static const char *files[1];
    files[0] = path;
    struct capture_opts co = {.files = files, .nfiles = 1};
    capture_parse_ports(&co, "25,465,587");
    char err[512];
    struct capture *cap = capture_open(&co, err, sizeof(err));
    if (cap == NULL)
        return;
    struct summary *sm = summary_new();
    struct out_json_opts jo = {.out = devnull};
    struct out_live_opts lo = {.out = devnull, .color = true, .arg_width = 100};
    struct smtp_sink *list[3] = {out_json_new(&jo), out_live_new(&lo), summary_sink(sm)};
    struct smtp_sink *tee = sink_tee_new(list, 3);
    struct reasm_opts ro = {.engine = REASM_ENGINE_OWN, .sink = tee, .ports = co.ports, .nports = co.nports,
                            .max_streams = 16, .idle_timeout = 600, .memcap = 64 << 10,
                            .session_flags = SMTP_SESS_SHOW_CREDENTIALS};
    if (reasm_init(&ro, err, sizeof(err)) == 0) {
        capture_run(cap, reasm_packet, NULL, NULL, err, sizeof(err));
        reasm_finish();
    }
    smtp_core_cleanup();
    struct capture_stats cs;
    capture_stats(cap, &cs);
    summary_write(sm, &cs, "/dev/null", SUMMARY_JSON);
    summary_write(sm, &cs, "/dev/null", SUMMARY_TEXT);
    sink_tee_free(tee);
    out_json_free(list[0]);
    out_live_free(list[1]);
    summary_free(sm);
    capture_close(cap);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static FILE *devnull;
    if (devnull == NULL)
        devnull = fopen("/dev/null", "w");
    const char *path = input_path();
    FILE *f = fopen(path, "wb");
    if (f == NULL)
        abort();
    fwrite(data, 1, size, f);
    fclose(f);
    run_capture(path, devnull);
    return 0;
}
