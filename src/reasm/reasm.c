/* reasm.c - picks the reassembly engine (--engine): our own (reasm_tcp.c) or libnids (reasm_nids.c). */
#include "reasm/reasm_internal.h"

static enum reasm_engine engine;

int reasm_init(const struct reasm_opts *o, char *err, size_t errlen)
{
    engine = o->engine;
    return engine == REASM_ENGINE_LIBNIDS ? reasm_nids_init(o, err, errlen) : reasm_tcp_init(o, err, errlen);
}

void reasm_packet(void *ctx, const uint8_t *ip, size_t len, const struct timeval *ts)
{
    (void)ctx;
    if (engine == REASM_ENGINE_LIBNIDS)
        reasm_nids_packet(ip, len, ts);
    else
        reasm_tcp_packet(ip, len, ts);
}

void reasm_finish(void)
{
    if (engine == REASM_ENGINE_LIBNIDS)
        reasm_nids_finish();
    else
        reasm_tcp_finish();
}

void reasm_get_stats(struct reasm_stats *st)
{
    if (engine == REASM_ENGINE_LIBNIDS)
        reasm_nids_stats(st);
    else
        reasm_tcp_stats(st);
}
