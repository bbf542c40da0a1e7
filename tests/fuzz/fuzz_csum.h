/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * From-scratch Internet checksums for the fuzz harnesses and the corpus
 * generator, written apart from src/csum.c on purpose: an oracle that
 * shared the code under test would share its mistakes.  Big-endian 16-bit
 * words summed one at a time, an odd last byte padded with zero.
 */
#ifndef ESPMASQ_FUZZ_CSUM_H
#define ESPMASQ_FUZZ_CSUM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

static inline uint32_t fz_sum(const uint8_t *p, size_t len, uint32_t acc)
{
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		acc += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		acc += (uint32_t)p[len - 1] << 8;
	return acc;
}

static inline uint16_t fz_fold(uint32_t acc)
{
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	return (uint16_t)acc;
}

static inline uint16_t fz_rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline void fz_wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* Sum of the UDP pseudo-header: addresses at @ip + 12, protocol 17 and
 * the UDP length @ulen. */
static inline uint32_t fz_pseudo(const uint8_t *ip, size_t ulen)
{
	return fz_sum(ip + 12, 8, 0) + 17 + (uint32_t)ulen;
}

/* True if the @len bytes at @p, checksum field included, sum to all
 * ones: the checksum verifies. */
static inline bool fz_ok(const uint8_t *p, size_t len, uint32_t acc)
{
	return fz_fold(fz_sum(p, len, acc)) == 0xffff;
}

/* Stores at @field the checksum of the @len bytes at @p (the field
 * counted as zero) plus @acc. */
static inline void fz_set(uint8_t *p, size_t len, uint8_t *field,
			  uint32_t acc)
{
	fz_wr16(field, 0);
	fz_wr16(field, (uint16_t)~fz_fold(fz_sum(p, len, acc)));
}

/* UDP: 0 stored as 0xffff, since 0 means "no checksum" (RFC 768). */
static inline void fz_set_udp(const uint8_t *ip, uint8_t *udp, size_t ulen)
{
	fz_set(udp, ulen, udp + 6, fz_pseudo(ip, ulen));
	if (!udp[6] && !udp[7])
		fz_wr16(udp + 6, 0xffff);
}

#endif
