/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Internet checksum helpers (RFC 1071, incremental update per RFC 1624).
 * Checksums are handled as the 16-bit values stored in the packet, in
 * network byte order, so no swapping is needed: the one's complement sum
 * is byte-order independent.
 */
#ifndef ESPMASQ_CSUM_H
#define ESPMASQ_CSUM_H

#include <stddef.h>
#include <stdint.h>

/* One's complement sum of @len bytes added to @sum (not folded). */
uint32_t csum_partial(const void *buf, size_t len, uint32_t sum);

/* Folds a 32-bit sum to 16 bits (not complemented). */
static inline uint16_t csum_fold16(uint32_t sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/*
 * Updates a stored checksum @check when a 32-bit field changes from @from to
 * @to (both as stored in the packet).  RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m').
 */
static inline uint16_t csum_replace4(uint16_t check, uint32_t from, uint32_t to)
{
	uint32_t sum = (uint16_t)~check;

	sum += (uint16_t)~(from & 0xffff) + (uint16_t)~(from >> 16);
	sum += (to & 0xffff) + (to >> 16);
	return (uint16_t)~csum_fold16(sum);
}

/* The same for a 16-bit field. */
static inline uint16_t csum_replace2(uint16_t check, uint16_t from, uint16_t to)
{
	uint32_t sum = (uint16_t)~check;

	sum += (uint16_t)~from;
	sum += to;
	return (uint16_t)~csum_fold16(sum);
}

/*
 * The same for a field that holds the plain (non-complemented) sum, as the
 * L4 checksum of a CHECKSUM_PARTIAL packet does: S' = S + ~m + m'.
 */
static inline uint16_t csum_replace4_plain(uint16_t sum16, uint32_t from, uint32_t to)
{
	uint32_t sum = sum16;

	sum += (uint16_t)~(from & 0xffff) + (uint16_t)~(from >> 16);
	sum += (to & 0xffff) + (to >> 16);
	return csum_fold16(sum);
}

/* Checksum of an IPv4 header of @len bytes with its checksum field as is;
 * 0 means the header verifies. */
uint16_t csum_ip_verify(const void *iph, size_t len);

/*
 * Full UDP checksum of @udp (header + data, @len bytes, checksum field
 * treated as zero) with the IPv4 pseudo-header of @saddr/@daddr (as stored).
 * Returns the value to store: never 0 (0 becomes 0xffff, RFC 768).
 */
uint16_t csum_udp4(uint32_t saddr, uint32_t daddr, const void *udp, size_t len);

#endif
