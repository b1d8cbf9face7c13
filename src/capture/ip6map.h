/* ip6map.h - maps each IPv6 address to a placeholder IPv4 address in 240.0.0.0/4 so that
 * libnids (IPv4-only) can reassemble IPv6 TCP; the adapter maps back when reporting. */
#ifndef SMTPSNIFF_IP6MAP_H
#define SMTPSNIFF_IP6MAP_H

#include <stdbool.h>
#include <stdint.h>

/* Placeholder (network byte order) for `addr`, added when `add` and absent; 0 when absent and
 * not added, or when the table is full. */
uint32_t ip6map_get(const uint8_t addr[16], bool add);
/* True for addresses in the placeholder range. */
bool ip6map_is_placeholder(uint32_t addr_be);
/* The IPv6 address behind a placeholder; false when it is not one we handed out. */
bool ip6map_reverse(uint32_t addr_be, uint8_t out[16]);
void ip6map_clear(void);
unsigned ip6map_count(void);

#endif
