/* ip6map.c - IPv6 address <-> 240.0.0.0/4 placeholder table: open addressing, bounded by
 * SMTP_MAX_V6_ADDRS, never shrinking (addresses are few next to sessions). */
#include "capture/ip6map.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "smtpsniff/limits.h"

#define IP6MAP_SLOTS (SMTP_MAX_V6_ADDRS * 2) /* power of two, load <= 1/2 */
#define IP6MAP_BASE 0xF0000001u               /* 240.0.0.1 */

static uint8_t (*addrs)[16]; /* index -> address */
static uint32_t *slots;      /* hash slot -> index + 1, 0 empty */
static unsigned count;

static uint32_t hash16(const uint8_t a[16])
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (int i = 0; i < 16; i++)
        h = (h ^ a[i]) * 16777619u;
    return h;
}

uint32_t ip6map_get(const uint8_t addr[16], bool add)
{
    if (slots == NULL) {
        slots = calloc(IP6MAP_SLOTS, sizeof(*slots));
        addrs = calloc(SMTP_MAX_V6_ADDRS, sizeof(*addrs));
        if (slots == NULL || addrs == NULL)
            abort();
    }
    uint32_t i = hash16(addr) & (IP6MAP_SLOTS - 1);
    while (slots[i]) {
        if (memcmp(addrs[slots[i] - 1], addr, 16) == 0)
            return htonl(IP6MAP_BASE + slots[i] - 1);
        i = (i + 1) & (IP6MAP_SLOTS - 1);
    }
    if (!add || count == SMTP_MAX_V6_ADDRS)
        return 0;
    memcpy(addrs[count], addr, 16);
    slots[i] = ++count;
    return htonl(IP6MAP_BASE + count - 1);
}

bool ip6map_is_placeholder(uint32_t addr_be)
{
    return (ntohl(addr_be) & 0xF0000000u) == 0xF0000000u;
}

bool ip6map_reverse(uint32_t addr_be, uint8_t out[16])
{
    uint32_t v = ntohl(addr_be);
    if (v < IP6MAP_BASE || v - IP6MAP_BASE >= count)
        return false;
    memcpy(out, addrs[v - IP6MAP_BASE], 16);
    return true;
}

void ip6map_clear(void)
{
    free(slots);
    free(addrs);
    slots = NULL;
    addrs = NULL;
    count = 0;
}

unsigned ip6map_count(void)
{
    return count;
}
