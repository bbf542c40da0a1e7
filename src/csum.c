/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <string.h>

#include "csum.h"

uint32_t csum_partial(const void *buf, size_t len, uint32_t sum)
{
	const uint8_t *p = buf;
	uint64_t acc = sum;

	/* 64-bit accumulator: no carry can be lost for any IPv4 length. */
	while (len >= 8) {
		uint32_t a, b;

		memcpy(&a, p, 4);
		memcpy(&b, p + 4, 4);
		acc += (uint64_t)a + b;
		p += 8;
		len -= 8;
	}
	while (len >= 2) {
		uint16_t w;

		memcpy(&w, p, 2);
		acc += w;
		p += 2;
		len -= 2;
	}
	if (len) {
		/* the odd byte is the high-order byte of a zero-padded word,
		 * in memory order */
		uint16_t w = 0;

		memcpy(&w, p, 1);
		acc += w;
	}
	acc = (acc & 0xffffffffu) + (acc >> 32);
	acc = (acc & 0xffffffffu) + (acc >> 32);
	return (uint32_t)acc;
}

uint16_t csum_ip_verify(const void *iph, size_t len)
{
	return (uint16_t)~csum_fold16(csum_partial(iph, len, 0));
}

uint16_t csum_udp4(uint32_t saddr, uint32_t daddr, const void *udp, size_t len)
{
	const uint8_t *u = udp;
	uint32_t sum = 0;
	/* zero, protocol and length, in wire order */
	const uint8_t pb[4] = { 0, 17, (uint8_t)(len >> 8), (uint8_t)len };
	uint16_t res;

	sum += (saddr & 0xffff) + (saddr >> 16);
	sum += (daddr & 0xffff) + (daddr >> 16);
	sum = csum_partial(pb, 4, sum);
	/* header without its checksum field, then data */
	sum = csum_partial(u, 6, sum);
	if (len > 8)
		sum = csum_partial(u + 8, len - 8, sum);
	res = (uint16_t)~csum_fold16(sum);
	return res ? res : 0xffff;
}
