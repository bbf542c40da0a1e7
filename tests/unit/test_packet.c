/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "csum.h"
#include "packet.h"

/* Reference checksum, written independently of src/csum.c: big-endian
 * 16-bit words summed in a plain loop. */
static uint16_t ref_sum(const uint8_t *p, size_t len, uint32_t acc)
{
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		acc += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		acc += (uint32_t)p[len - 1] << 8;
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	return (uint16_t)acc;
}

static bool ip_ok(const uint8_t *p)
{
	return ref_sum(p, (p[0] & 15) * 4u, 0) == 0xffff;
}

/* true if the UDP checksum verifies (or is 0 = none) */
static bool udp_ok(const uint8_t *p)
{
	unsigned ihl = (p[0] & 15) * 4u;
	unsigned len = (unsigned)(p[2] << 8 | p[3]) - ihl;
	const uint8_t *u = p + ihl;
	uint8_t ph[12];

	if (u[6] == 0 && u[7] == 0)
		return true;
	memcpy(ph, p + 12, 8);
	ph[8] = 0;
	ph[9] = 17;
	ph[10] = (uint8_t)(len >> 8);
	ph[11] = (uint8_t)len;
	return ref_sum(u, len, ref_sum(ph, 12, 0)) == 0xffff;
}

static void set_ip_csum(uint8_t *p)
{
	unsigned ihl = (p[0] & 15) * 4u;
	uint16_t s;

	p[10] = p[11] = 0;
	s = (uint16_t)~ref_sum(p, ihl, 0);
	p[10] = (uint8_t)(s >> 8);
	p[11] = (uint8_t)s;
}

static void set_udp_csum(uint8_t *p, bool partial)
{
	unsigned ihl = (p[0] & 15) * 4u;
	unsigned len = (unsigned)(p[2] << 8 | p[3]) - ihl;
	uint8_t *u = p + ihl, ph[12];
	uint16_t s;

	memcpy(ph, p + 12, 8);
	ph[8] = 0;
	ph[9] = 17;
	ph[10] = (uint8_t)(len >> 8);
	ph[11] = (uint8_t)len;
	u[6] = u[7] = 0;
	if (partial) {
		/* what a sender with checksum offload leaves: the plain
		 * pseudo-header sum */
		s = ref_sum(ph, 12, 0);
	} else {
		s = (uint16_t)~ref_sum(u, len, ref_sum(ph, 12, 0));
		if (!s)
			s = 0xffff;
	}
	u[6] = (uint8_t)(s >> 8);
	u[7] = (uint8_t)s;
}

/* Builds an IPv4 packet; returns its length. */
static size_t build(uint8_t *p, unsigned opt_words, uint8_t proto,
		    uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport,
		    const uint8_t *payload, size_t plen, bool udp_csum)
{
	unsigned ihl = 20 + opt_words * 4;
	size_t len = ihl + (proto == 17 ? 8 : 0) + plen;
	uint32_t s = htonl(src), d = htonl(dst);

	memset(p, 0, len);
	p[0] = (uint8_t)(0x40 | (ihl / 4));
	p[2] = (uint8_t)(len >> 8);
	p[3] = (uint8_t)len;
	p[4] = 0x12;
	p[8] = 64;
	p[9] = proto;
	memcpy(p + 12, &s, 4);
	memcpy(p + 16, &d, 4);
	memset(p + 20, 1, opt_words * 4);	/* NOP options */
	if (proto == 17) {
		uint8_t *u = p + ihl;

		u[0] = (uint8_t)(sport >> 8);
		u[1] = (uint8_t)sport;
		u[2] = (uint8_t)(dport >> 8);
		u[3] = (uint8_t)dport;
		u[4] = (uint8_t)((plen + 8) >> 8);
		u[5] = (uint8_t)(plen + 8);
		memcpy(u + 8, payload, plen);
		if (udp_csum)
			set_udp_csum(p, false);
	} else {
		memcpy(p + ihl, payload, plen);
	}
	set_ip_csum(p);
	return len;
}

static size_t ike_hdr(uint8_t *b, uint64_t ispi, uint64_t rspi, uint8_t ver,
		      uint8_t exch, uint8_t flags, uint32_t msgid, uint32_t len)
{
	int i;

	for (i = 0; i < 8; i++) {
		b[i] = (uint8_t)(ispi >> (56 - 8 * i));
		b[8 + i] = (uint8_t)(rspi >> (56 - 8 * i));
	}
	b[16] = 33;
	b[17] = (uint8_t)(ver << 4);
	b[18] = exch;
	b[19] = flags;
	b[20] = (uint8_t)(msgid >> 24);
	b[21] = (uint8_t)(msgid >> 16);
	b[22] = (uint8_t)(msgid >> 8);
	b[23] = (uint8_t)msgid;
	b[24] = (uint8_t)(len >> 24);
	b[25] = (uint8_t)(len >> 16);
	b[26] = (uint8_t)(len >> 8);
	b[27] = (uint8_t)len;
	return 28;
}

#define C1 0xc000020bu	/* 192.0.2.11 */
#define S1 0xcb007164u	/* 203.0.113.100 */
#define A1 0xcb00710bu	/* 203.0.113.11 */

static void test_ike_v2(void **state)
{
	uint8_t pl[64], p[256];
	struct pkt_info pi;
	size_t n;

	(void)state;
	memset(pl, 0xab, sizeof(pl));
	ike_hdr(pl, 0x0102030405060708ull, 0, 2, 34, IKE2_FLAG_INITIATOR, 0, 64);
	n = build(p, 0, 17, C1, S1, 500, 500, pl, 64, true);
	assert_int_equal(pkt_parse(p, n, &pi), PKT_OK);
	assert_int_equal(pi.kind, PKT_IKE);
	assert_int_equal(pi.frag, FRAG_NONE);
	assert_true(pi.has_ike);
	assert_true(pi.ike.ispi == 0x0102030405060708ull);
	assert_true(pi.ike.rspi == 0);
	assert_int_equal(pi.ike.version, 2);
	assert_int_equal(pi.ike.exchange, 34);
	assert_int_equal(pi.ike.flags, IKE2_FLAG_INITIATOR);
	assert_int_equal(pi.ike.length, 64);
	assert_int_equal(pi.sport, 500);
	assert_int_equal(pi.dport, 500);
	assert_int_equal(ntohl(pi.saddr), C1);
	assert_int_equal(ntohl(pi.daddr), S1);
}

static void test_ike_v1_with_options(void **state)
{
	uint8_t pl[40], p[256];
	struct pkt_info pi;
	size_t n;

	(void)state;
	memset(pl, 0, sizeof(pl));
	ike_hdr(pl, 0xaaaabbbbccccddddull, 0x1111222233334444ull, 1, 2, 0,
		0x01020304, 40);
	n = build(p, 3, 17, C1, S1, 500, 500, pl, 40, true);
	assert_int_equal(pkt_parse(p, n, &pi), PKT_OK);
	assert_int_equal(pi.l4off, 32);
	assert_int_equal(pi.kind, PKT_IKE);
	assert_int_equal(pi.ike.version, 1);
	assert_int_equal(pi.ike.exchange, 2);
	assert_true(pi.ike.rspi == 0x1111222233334444ull);
	assert_int_equal(pi.ike.msgid, 0x01020304);
}

static void test_ike_errors(void **state)
{
	uint8_t pl[40], p[256];
	struct pkt_info pi;
	size_t n;

	(void)state;
	memset(pl, 0, sizeof(pl));
	/* too short for the IKE header */
	n = build(p, 0, 17, C1, S1, 500, 500, pl, 27, true);
	assert_int_equal(pkt_parse(p, n, &pi), PKT_ERR_IKE_SHORT);
	/* version 3 */
	ike_hdr(pl, 1, 0, 3, 34, 0, 0, 28);
	n = build(p, 0, 17, C1, S1, 500, 500, pl, 28, true);
	assert_int_equal(pkt_parse(p, n, &pi), PKT_ERR_IKE_VERSION);
	/* length beyond the datagram */
	ike_hdr(pl, 1, 0, 2, 34, 0, 0, 29);
	n = build(p, 0, 17, C1, S1, 500, 500, pl, 28, true);
	assert_int_equal(pkt_parse(p, n, &pi), PKT_ERR_IKE_LEN);
	/* length below the header */
	ike_hdr(pl, 1, 0, 2, 34, 0, 0, 27);
	n = build(p, 0, 17, C1, S1, 500, 500, pl, 28, true);
	assert_int_equal(pkt_parse(p, n, &pi), PKT_ERR_IKE_LEN);
	/* zero initiator SPI */
	ike_hdr(pl, 0, 0, 2, 34, 0, 0, 28);
	n = build(p, 0, 17, C1, S1, 500, 500, pl, 28, true);
	assert_int_equal(pkt_parse(p, n, &pi), PKT_ERR_IKE_SPI);
	/* UDP on another port */
	ike_hdr(pl, 1, 0, 2, 34, 0, 0, 28);
	n = build(p, 0, 17, C1, S1, 501, 502, pl, 28, true);
	assert_int_equal(pkt_parse(p, n, &pi), PKT_ERR_PORT);
}

static void test_natt_kinds(void **state)
{
	uint8_t pl[64], p[256];
	struct pkt_info pi;
	size_t n;

	(void)state;
	/* keepalive */
	pl[0] = 0xff;
	n = build(p, 0, 17, C1, S1, 4500, 4500, pl, 1, true);
	assert_int_equal(pkt_parse(p, n, &pi), PKT_OK);
	assert_int_equal(pi.kind, PKT_NATT_KEEPALIVE);
	/* one byte that is not 0xff is not a keepalive */
	pl[0] = 0xfe;
	n = build(p, 0, 17, C1, S1, 4500, 4500, pl, 1, true);
	assert_int_equal(pkt_parse(p, n, &pi), PKT_ERR_ESP_SHORT);
	/* non-ESP marker + IKE */
	memset(pl, 0, 4);
	ike_hdr(pl + 4, 0x77, 0x88, 2, 37, IKE2_FLAG_RESPONSE, 5, 28);
	n = build(p, 0, 17, S1, A1, 4500, 4500, pl, 32, true);
	assert_int_equal(pkt_parse(p, n, &pi), PKT_OK);
	assert_int_equal(pi.kind, PKT_NATT_IKE);
	assert_true(pi.ike.ispi == 0x77 && pi.ike.rspi == 0x88);
	assert_int_equal(pi.ike.exchange, 37);
	/* marker only */
	n = build(p, 0, 17, C1, S1, 4500, 4500, pl, 4, true);
	assert_int_equal(pkt_parse(p, n, &pi), PKT_ERR_IKE_SHORT);
	/* ESP in UDP */
	memcpy(pl, "\x00\x00\x10\x01\x00\x00\x00\x07", 8);
	memset(pl + 8, 0x5a, 40);
	n = build(p, 0, 17, C1, S1, 4500, 4500, pl, 48, true);
	assert_int_equal(pkt_parse(p, n, &pi), PKT_OK);
	assert_int_equal(pi.kind, PKT_ESP_UDP);
	assert_int_equal(pi.spi, 0x1001);
	assert_int_equal(pi.seq, 7);
	/* ESP in UDP with a reserved SPI */
	memcpy(pl, "\x00\x00\x00\xff\x00\x00\x00\x07", 8);
	n = build(p, 0, 17, C1, S1, 4500, 4500, pl, 48, true);
	assert_int_equal(pkt_parse(p, n, &pi), PKT_ERR_ESP_SPI);
	/* ESP in UDP shorter than SPI + sequence */
	memcpy(pl, "\x00\x00\x10\x01\x00\x00", 6);
	n = build(p, 0, 17, C1, S1, 4500, 4500, pl, 6, true);
	assert_int_equal(pkt_parse(p, n, &pi), PKT_ERR_ESP_SHORT);
}

static void test_esp(void **state)
{
	uint8_t pl[64], p[256];
	struct pkt_info pi;
	size_t n;

	(void)state;
	memcpy(pl, "\x12\x34\x56\x78\x00\x00\x00\x01", 8);
	memset(pl + 8, 0x33, 40);
	n = build(p, 0, 50, C1, S1, 0, 0, pl, 48, false);
	assert_int_equal(pkt_parse(p, n, &pi), PKT_OK);
	assert_int_equal(pi.kind, PKT_ESP);
	assert_int_equal(pi.spi, 0x12345678);
	assert_int_equal(pi.seq, 1);
	n = build(p, 0, 50, C1, S1, 0, 0, pl, 7, false);
	assert_int_equal(pkt_parse(p, n, &pi), PKT_ERR_ESP_SHORT);
	memset(pl, 0, 8);
	n = build(p, 0, 50, C1, S1, 0, 0, pl, 8, false);
	assert_int_equal(pkt_parse(p, n, &pi), PKT_ERR_ESP_SPI);
	n = build(p, 0, 6, C1, S1, 0, 0, pl, 8, false);
	assert_int_equal(pkt_parse(p, n, &pi), PKT_ERR_PROTO);
}

static void test_ip_errors(void **state)
{
	uint8_t pl[40], p[256];
	struct pkt_info pi;
	size_t n;

	(void)state;
	memset(pl, 0, sizeof(pl));
	ike_hdr(pl, 1, 0, 2, 34, 0, 0, 28);
	n = build(p, 0, 17, C1, S1, 500, 500, pl, 28, true);
	assert_int_equal(pkt_parse(p, 19, &pi), PKT_ERR_SHORT);
	assert_int_equal(pkt_parse(p, 0, &pi), PKT_ERR_SHORT);
	/* total length smaller and larger than the data */
	assert_int_equal(pkt_parse(p, n - 1, &pi), PKT_ERR_TOTLEN);
	p[3]--;
	assert_int_equal(pkt_parse(p, n, &pi), PKT_ERR_TOTLEN);
	p[3]++;
	p[0] = 0x44;
	assert_int_equal(pkt_parse(p, n, &pi), PKT_ERR_IHL);
	/* n is 56: a 52-byte header fits, a 60-byte one does not */
	p[0] = 0x4d;
	assert_int_not_equal(pkt_parse(p, n, &pi), PKT_ERR_IHL);
	p[0] = 0x4f;
	assert_int_equal(pkt_parse(p, n, &pi), PKT_ERR_IHL);
	p[0] = 0x65;
	assert_int_equal(pkt_parse(p, n, &pi), PKT_ERR_VERSION);
	p[0] = 0x45;
	/* UDP length disagreeing with the IP length */
	p[20 + 5]++;
	assert_int_equal(pkt_parse(p, n, &pi), PKT_ERR_UDP_LEN);
	p[20 + 5] -= 2;
	assert_int_equal(pkt_parse(p, n, &pi), PKT_ERR_UDP_LEN);
	/* no room for a UDP header */
	n = build(p, 0, 17, C1, S1, 500, 500, pl, 0, true);
	p[3] = 27;
	assert_int_equal(pkt_parse(p, 27, &pi), PKT_ERR_UDP_SHORT);
}

static void test_fragments(void **state)
{
	uint8_t pl[600], p[700];
	struct pkt_info pi;
	size_t n;

	(void)state;
	memset(pl, 0x44, sizeof(pl));
	ike_hdr(pl, 9, 0, 2, 35, 0, 1, 1400);
	n = build(p, 0, 17, C1, S1, 500, 500, pl, 600, false);
	/* first fragment of a 1408-byte UDP datagram */
	p[6] = 0x20;
	p[20 + 4] = (uint8_t)(1408 >> 8);
	p[20 + 5] = (uint8_t)1408;
	set_ip_csum(p);
	assert_int_equal(pkt_parse(p, n, &pi), PKT_OK);
	assert_int_equal(pi.frag, FRAG_FIRST);
	assert_int_equal(pi.kind, PKT_IKE);
	assert_int_equal(pi.ike.length, 1400);
	/* a later fragment: addresses only */
	p[6] = 0x00;
	p[7] = 75;		/* offset 600 */
	assert_int_equal(pkt_parse(p, n, &pi), PKT_OK);
	assert_int_equal(pi.frag, FRAG_LATER);
	assert_int_equal(pi.kind, PKT_FRAG);
	assert_int_equal(ntohl(pi.saddr), C1);
	/* a fragment running past 64 KiB */
	p[6] = 0x1f;
	p[7] = 0xff;
	assert_int_equal(pkt_parse(p, n, &pi), PKT_ERR_FRAG);
	/* a later ESP fragment */
	n = build(p, 0, 50, C1, S1, 0, 0, pl, 100, false);
	p[7] = 10;
	assert_int_equal(pkt_parse(p, n, &pi), PKT_OK);
	assert_int_equal(pi.kind, PKT_FRAG);
	/* a first UDP fragment too short for the IKE header */
	n = build(p, 0, 17, C1, S1, 500, 500, pl, 16, false);
	p[6] = 0x20;
	p[20 + 5] = 200;
	assert_int_equal(pkt_parse(p, n, &pi), PKT_OK);
	assert_int_equal(pi.kind, PKT_FRAG);
	assert_int_equal(pi.frag, FRAG_FIRST);
}

/* Rewrites random UDP packets both ways and checks every checksum from
 * scratch with the reference implementation. */
static void test_rewrite_random(void **state)
{
	uint8_t pl[1500], p[1600];
	unsigned round;

	(void)state;
	srand(12345);
	for (round = 0; round < 20000; round++) {
		size_t plen = 28 + (size_t)(rand() % 1400), n, i;
		uint32_t src = (uint32_t)rand() << 1 ^ (uint32_t)rand();
		uint32_t dst = (uint32_t)rand() << 1 ^ (uint32_t)rand();
		uint32_t to = (uint32_t)rand() << 1 ^ (uint32_t)rand();
		bool partial = round % 3 == 0, zero = round % 7 == 0;
		bool dir = round & 1;
		unsigned opts = (unsigned)(rand() % 3);
		struct pkt_info pi;

		for (i = 0; i < plen; i++)
			pl[i] = (uint8_t)rand();
		ike_hdr(pl, (uint64_t)rand() + 1, 0, 2, 34, 0, 0,
			(uint32_t)plen);
		n = build(p, opts, 17, src, dst, 500, 500, pl, plen, true);
		if (partial)
			set_udp_csum(p, true);
		if (zero) {
			partial = false;
			p[20 + opts * 4 + 6] = p[20 + opts * 4 + 7] = 0;
		}
		assert_int_equal(pkt_parse(p, n, &pi), PKT_OK);
		pkt_rewrite_addr(p, &pi, dir, htonl(to), partial);
		assert_true(ip_ok(p));
		assert_true(udp_ok(p));
		if (zero)
			assert_true(p[20 + opts * 4 + 6] == 0 &&
				    p[20 + opts * 4 + 7] == 0);
		else
			assert_false(p[20 + opts * 4 + 6] == 0 &&
				     p[20 + opts * 4 + 7] == 0);
		assert_int_equal(ntohl(dir ? pi.daddr : pi.saddr), to);
		{
			uint32_t a;

			memcpy(&a, p + (dir ? 16 : 12), 4);
			assert_int_equal(ntohl(a), to);
		}
	}
}

static void test_rewrite_esp_and_fragment(void **state)
{
	uint8_t pl[200], p[300], before[300];
	struct pkt_info pi;
	size_t n;

	(void)state;
	memset(pl, 0x61, sizeof(pl));
	memcpy(pl, "\x00\x01\x00\x00\x00\x00\x00\x01", 8);
	n = build(p, 0, 50, C1, S1, 0, 0, pl, 100, false);
	memcpy(before, p, n);
	assert_int_equal(pkt_parse(p, n, &pi), PKT_OK);
	pkt_rewrite_addr(p, &pi, false, htonl(A1), true);
	assert_true(ip_ok(p));
	/* only the source and the header checksum changed */
	assert_memory_equal(p + 20, before + 20, n - 20);
	assert_memory_equal(p + 16, before + 16, 4);

	/* a later UDP fragment: no UDP header to touch */
	n = build(p, 0, 17, C1, S1, 500, 500, pl, 100, true);
	p[7] = 20;
	set_ip_csum(p);
	memcpy(before, p, n);
	assert_int_equal(pkt_parse(p, n, &pi), PKT_OK);
	pkt_rewrite_addr(p, &pi, false, htonl(A1), false);
	assert_true(ip_ok(p));
	assert_memory_equal(p + 20, before + 20, n - 20);
}

/* ICMP checksum (no pseudo-header) verifies */
static bool icmp_ok(const uint8_t *p)
{
	unsigned ihl = (p[0] & 15) * 4u;
	unsigned len = (unsigned)(p[2] << 8 | p[3]) - ihl;

	return ref_sum(p + ihl, len, 0) == 0xffff;
}

/* An ICMP error from @from to @to quoting the first @qlen bytes of the
 * packet @orig (as a router would, TTL already lowered). */
static size_t build_icmp(uint8_t *p, uint32_t from, uint32_t to,
			 uint8_t type, uint8_t code, const uint8_t *orig,
			 size_t qlen)
{
	uint8_t body[600];
	size_t n;
	uint16_t s;

	memset(body, 0, 8);
	body[0] = type;
	body[1] = code;
	body[6] = 0x03;		/* next-hop MTU 1000, for frag-needed */
	body[7] = 0xe8;
	memcpy(body + 8, orig, qlen);
	n = build(p, 0, 1, from, to, 0, 0, body, 8 + qlen, false);
	s = (uint16_t)~ref_sum(p + 20, 8 + qlen, 0);
	p[22] = (uint8_t)(s >> 8);
	p[23] = (uint8_t)s;
	return n;
}

static void test_icmp_parse(void **state)
{
	uint8_t pl[300], orig[400], p[700];
	struct pkt_info pi;
	size_t n, on;

	(void)state;
	memset(pl, 0x5a, sizeof(pl));
	memcpy(pl, "\x00\x00\x00\x00", 4);
	ike_hdr(pl + 4, 0x1122334455667788ull, 0, 2, 34, 8, 0, 200);
	on = build(orig, 1, 17, A1, S1, 4500, 4500, pl, 204, true);

	/* frag needed about NAT-T IKE from the alias, quoting 28+ bytes */
	n = build_icmp(p, 0xcb007102u, A1, 3, 4, orig, 24 + 8 + 8);
	assert_int_equal(pkt_parse(p, n, &pi), PKT_OK);
	assert_int_equal(pi.kind, PKT_ICMP_ERR);
	assert_int_equal(pi.icmp.type, 3);
	assert_int_equal(pi.icmp.code, 4);
	assert_int_equal(pi.icmp.in_off, 28);
	assert_int_equal(pi.icmp.in_l4off, 28 + 24);
	assert_int_equal(pi.icmp.in_proto, 17);
	assert_int_equal(ntohl(pi.icmp.in_saddr), A1);
	assert_int_equal(ntohl(pi.icmp.in_daddr), S1);
	assert_true(pi.icmp.in_ports);
	assert_int_equal(pi.icmp.in_sport, 4500);
	assert_int_equal(pi.icmp.in_dport, 4500);
	/* the non-ESP marker is zero: no SPI, and half the IKE SPI is not
	 * enough */
	assert_false(pi.icmp.in_has_spi);
	assert_false(pi.icmp.in_has_ispi);
	/* marker and the whole initiator SPI quoted */
	n = build_icmp(p, 0xcb007102u, A1, 3, 4, orig, 24 + 8 + 12);
	assert_int_equal(pkt_parse(p, n, &pi), PKT_OK);
	assert_false(pi.icmp.in_has_spi);
	assert_true(pi.icmp.in_has_ispi);
	assert_true(pi.icmp.in_ispi == 0x1122334455667788ull);
	/* IKE on udp/500: the SPI right after the UDP header */
	on = build(orig, 0, 17, A1, S1, 500, 500, pl + 4, 200, true);
	n = build_icmp(p, S1, A1, 3, 3, orig, 20 + 8 + 8);
	assert_int_equal(pkt_parse(p, n, &pi), PKT_OK);
	assert_true(pi.icmp.in_has_ispi);
	assert_true(pi.icmp.in_ispi == 0x1122334455667788ull);
	n = build_icmp(p, S1, A1, 3, 3, orig, 20 + 8 + 7);
	assert_int_equal(pkt_parse(p, n, &pi), PKT_OK);
	assert_false(pi.icmp.in_has_ispi);
	on = build(orig, 1, 17, A1, S1, 4500, 4500, pl, 204, true);

	/* ESP-in-UDP quoted: its SPI is read */
	memcpy(pl, "\x00\x00\x12\x34", 4);
	on = build(orig, 0, 17, A1, S1, 4500, 4500, pl, 100, true);
	n = build_icmp(p, S1, A1, 3, 3, orig, on);
	assert_int_equal(pkt_parse(p, n, &pi), PKT_OK);
	assert_true(pi.icmp.in_has_spi);
	assert_int_equal(pi.icmp.in_spi, 0x1234);
	assert_int_equal(pi.icmp.in_end, n);

	/* raw ESP quoted with only 8 bytes after its header */
	on = build(orig, 0, 50, A1, S1, 0, 0, pl, 100, false);
	n = build_icmp(p, S1, A1, 11, 0, orig, 28);
	assert_int_equal(pkt_parse(p, n, &pi), PKT_OK);
	assert_true(pi.icmp.in_has_spi);
	assert_false(pi.icmp.in_ports);
	assert_int_equal(pi.icmp.in_spi, 0x1234);

	/* UDP quoted with fewer than 8 bytes of header: no ports */
	on = build(orig, 0, 17, A1, S1, 500, 500, pl, 100, true);
	n = build_icmp(p, S1, A1, 3, 1, orig, 24);
	assert_int_equal(pkt_parse(p, n, &pi), PKT_OK);
	assert_false(pi.icmp.in_ports);

	/* quoting a later fragment */
	orig[7] = 8;
	n = build_icmp(p, S1, A1, 3, 1, orig, 28);
	assert_int_equal(pkt_parse(p, n, &pi), PKT_OK);
	assert_true(pi.icmp.in_later);
	assert_false(pi.icmp.in_ports);
	orig[7] = 0;

	/* errors */
	n = build_icmp(p, S1, A1, 8, 0, orig, 28);	/* echo request */
	assert_int_equal(pkt_parse(p, n, &pi), PKT_ERR_ICMP_TYPE);
	n = build_icmp(p, S1, A1, 3, 1, orig, 19);	/* quote too short */
	assert_int_equal(pkt_parse(p, n, &pi), PKT_ERR_ICMP_INNER);
	n = build_icmp(p, S1, A1, 3, 1, orig, 28);
	p[28] = 0x65;					/* quoted IPv6 */
	assert_int_equal(pkt_parse(p, n, &pi), PKT_ERR_ICMP_INNER);
	p[28] = 0x44;					/* IHL 16 */
	assert_int_equal(pkt_parse(p, n, &pi), PKT_ERR_ICMP_INNER);
	p[28] = 0x4f;					/* IHL beyond the data */
	assert_int_equal(pkt_parse(p, n, &pi), PKT_ERR_ICMP_INNER);
	n = build(p, 0, 1, S1, A1, 0, 0, pl, 4, false);	/* no ICMP header */
	assert_int_equal(pkt_parse(p, n, &pi), PKT_ERR_ICMP_SHORT);
	n = build_icmp(p, S1, A1, 3, 1, orig, 28);
	p[6] = 0x20;					/* fragmented error */
	set_ip_csum(p);
	assert_int_equal(pkt_parse(p, n, &pi), PKT_ERR_ICMP_FRAG);
	n = build(p, 0, 6, S1, A1, 0, 0, pl, 40, false);	/* TCP */
	assert_int_equal(pkt_parse(p, n, &pi), PKT_ERR_PROTO);
}

/* A client's original packet, translated out, the error about it from a
 * router, translated back: the client gets an error quoting exactly what
 * it sent (but for the TTL the router lowered), every checksum good. */
static void test_icmp_rewrite_roundtrip(void **state)
{
	uint8_t pl[1500], sent[1600], fwd[1600], p[700];
	unsigned round;

	(void)state;
	srand(777);
	for (round = 0; round < 5000; round++) {
		size_t plen = 40 + (size_t)(rand() % 1200), n, on, i, q;
		uint32_t client = (uint32_t)rand() << 1 ^ (uint32_t)rand();
		uint32_t alias = (uint32_t)rand() << 1 ^ (uint32_t)rand();
		uint32_t server = (uint32_t)rand() << 1 ^ (uint32_t)rand();
		uint32_t rtr = (uint32_t)rand() << 1 ^ (uint32_t)rand();
		unsigned opts = (unsigned)(rand() % 3), kind = round % 3;
		struct pkt_info pi;

		for (i = 0; i < plen; i++)
			pl[i] = (uint8_t)rand();
		if (kind == 0)
			ike_hdr(pl, (uint64_t)rand() + 1, 0, 2, 34, 8, 0,
				(uint32_t)plen);
		else
			pl[0] |= 0x80;	/* an SPI, not a marker */
		if (kind == 2)
			on = build(sent, opts, 50, client, server, 0, 0, pl,
				   plen, false);
		else
			on = build(sent, opts, 17, client, server,
				   kind ? 4500 : 500, kind ? 4500 : 500, pl,
				   plen, round % 5 != 0);
		memcpy(fwd, sent, on);
		assert_int_equal(pkt_parse(fwd, on, &pi), PKT_OK);
		pkt_rewrite_addr(fwd, &pi, false, htonl(alias), false);
		fwd[8]--;		/* the router forwarded it */
		set_ip_csum(fwd);
		/* quote 8 bytes of L4 up to the whole packet */
		q = 20 + opts * 4 + 8 + (size_t)(rand() % 540);
		if (q > on)
			q = on;
		n = build_icmp(p, rtr, alias, 3, 4, fwd, q);
		assert_int_equal(pkt_parse(p, n, &pi), PKT_OK);
		pkt_rewrite_icmp(p, &pi, true, htonl(client));
		assert_true(ip_ok(p));
		assert_true(icmp_ok(p));
		assert_true(ip_ok(p + 28));
		assert_int_equal(ntohl(pi.daddr), client);
		assert_int_equal(ntohl(pi.icmp.in_saddr), client);
		/* the quote is what the client sent, TTL and its checksum
		 * aside */
		p[28 + 8]++;
		set_ip_csum(p + 28);
		assert_memory_equal(p + 28, sent, q);
		assert_memory_equal(p + 16, sent + 12, 4);
	}
}

/* The other way: a client reports an error about a server's packet; it
 * leaves from the alias, quoting the packet as the server sent it. */
static void test_icmp_rewrite_outbound(void **state)
{
	uint8_t pl[200], from_srv[300], at_client[300], p[400];
	struct pkt_info pi;
	size_t on, n;

	(void)state;
	memset(pl, 0x33, sizeof(pl));
	ike_hdr(pl, 0x0102030405060708ull, 0x1112131415161718ull, 2, 37, 0,
		1, 100);
	on = build(from_srv, 0, 17, S1, A1, 500, 500, pl, 100, true);
	memcpy(at_client, from_srv, on);
	assert_int_equal(pkt_parse(at_client, on, &pi), PKT_OK);
	pkt_rewrite_addr(at_client, &pi, true, htonl(C1), false);
	n = build_icmp(p, C1, S1, 3, 3, at_client, 28 + 40);
	assert_int_equal(pkt_parse(p, n, &pi), PKT_OK);
	pkt_rewrite_icmp(p, &pi, false, htonl(A1));
	assert_true(ip_ok(p));
	assert_true(icmp_ok(p));
	assert_int_equal(ntohl(pi.saddr), A1);
	assert_memory_equal(p + 28, from_srv, 28 + 40);
	assert_true(udp_ok(from_srv));

	/* the same error sent by the router itself: only the quote changes */
	n = build_icmp(p, 0xcb007101u, S1, 3, 1, at_client, 28 + 40);
	assert_int_equal(pkt_parse(p, n, &pi), PKT_OK);
	pkt_rewrite_icmp_quote(p, &pi, false, htonl(A1));
	assert_true(ip_ok(p));
	assert_true(icmp_ok(p));
	assert_int_equal(ntohl(pi.saddr), 0xcb007101u);
	assert_memory_equal(p + 28, from_srv, 28 + 40);
}

/*
 * An error about a NAT-T packet that left on a port of the client's own
 * (natt-ports) goes back quoting the client's port: the quoted UDP
 * checksum follows the port as it follows the address, so a quote of the
 * whole datagram is what the client sent, checksum included; a zero one
 * (none) stays zero.  Found by the fuzz_rewrite harness.
 */
static void test_icmp_rewrite_qport(void **state)
{
	uint8_t pl[64], sent[200], fwd[200], p[400];
	struct pkt_info pi;
	size_t on, n;
	unsigned with_csum;

	(void)state;
	memset(pl, 0x5a, sizeof(pl));
	pl[0] = 0xc0;		/* an ESP SPI, not a marker */
	for (with_csum = 0; with_csum < 2; with_csum++) {
		on = build(sent, 0, 17, C1, S1, 4500, 4500, pl, sizeof(pl),
			   with_csum);
		memcpy(fwd, sent, on);
		assert_int_equal(pkt_parse(fwd, on, &pi), PKT_OK);
		pkt_rewrite_port(fwd, &pi, false, 40000, false);
		pkt_rewrite_addr(fwd, &pi, false, htonl(A1), false);
		assert_true(udp_ok(fwd));
		n = build_icmp(p, S1, A1, 3, 3, fwd, on);
		assert_int_equal(pkt_parse(p, n, &pi), PKT_OK);
		assert_true(pi.icmp.in_ports);
		pkt_rewrite_icmp_qport(p, &pi, true, 4500);
		pkt_rewrite_icmp(p, &pi, true, htonl(C1));
		assert_int_equal(pi.icmp.in_sport, 4500);
		assert_true(ip_ok(p));
		assert_true(icmp_ok(p));
		assert_memory_equal(p + 28, sent, on);
		assert_true(udp_ok(p + 28));
	}
	/* the other way, the quoted destination port */
	on = build(sent, 0, 17, S1, C1, 4500, 4500, pl, sizeof(pl), true);
	memcpy(fwd, sent, on);
	assert_int_equal(pkt_parse(fwd, on, &pi), PKT_OK);
	pkt_rewrite_port(fwd, &pi, true, 40000, false);
	pkt_rewrite_addr(fwd, &pi, true, htonl(A1), false);
	n = build_icmp(p, C1, S1, 3, 3, sent, on);
	assert_int_equal(pkt_parse(p, n, &pi), PKT_OK);
	pkt_rewrite_icmp_qport(p, &pi, false, 40000);
	pkt_rewrite_icmp(p, &pi, false, htonl(A1));
	assert_true(ip_ok(p));
	assert_true(icmp_ok(p));
	assert_memory_equal(p + 28, fwd, on);
	assert_true(udp_ok(p + 28));
}

static void test_csum_helpers(void **state)
{
	uint8_t buf[9] = { 1, 2, 3, 4, 5, 6, 7, 8, 9 };
	uint16_t c, stored;

	(void)state;
	/* odd length: the last byte is the high half of a word */
	c = csum_fold16(csum_partial(buf, 9, 0));
	memcpy(&stored, &c, 2);
	assert_int_equal(ntohs(stored), ref_sum(buf, 9, 0));
	assert_string_equal(pkt_err_name(PKT_ERR_IKE_SPI), "ike-spi");
	assert_string_equal(pkt_kind_name(PKT_ESP_UDP), "esp-udp");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ike_v2),
		cmocka_unit_test(test_ike_v1_with_options),
		cmocka_unit_test(test_ike_errors),
		cmocka_unit_test(test_natt_kinds),
		cmocka_unit_test(test_esp),
		cmocka_unit_test(test_ip_errors),
		cmocka_unit_test(test_fragments),
		cmocka_unit_test(test_rewrite_random),
		cmocka_unit_test(test_rewrite_esp_and_fragment),
		cmocka_unit_test(test_icmp_parse),
		cmocka_unit_test(test_icmp_rewrite_roundtrip),
		cmocka_unit_test(test_icmp_rewrite_outbound),
		cmocka_unit_test(test_icmp_rewrite_qport),
		cmocka_unit_test(test_csum_helpers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
