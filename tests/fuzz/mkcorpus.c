/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Writes the seed corpora of the fuzz harnesses:
 *
 *   mkcorpus OUTDIR CONF
 *
 * makes OUTDIR/fuzz_packet, fuzz_rewrite, fuzz_gateway, fuzz_config and
 * fuzz_ctl with small valid inputs: IKEv1/IKEv2 on 500 and 4500, NAT-T
 * keepalives, ESP raw and in UDP, fragments, ICMP errors quoting them;
 * packet sequences through both set-ups of fuzz_rewrite.c; L2TP clients
 * behind one NAT and flows through fuzz_gateway.c; the reference
 * configuration CONF and one file per directive; every control request.
 * Seeds are named seed-*, so that regenerating them leaves crash-*
 * regressions be.  Documentation addresses only: inside 192.0.2.0/24,
 * aliases and servers in 203.0.113.0/24; for gateway mode, the gateway
 * 192.0.2.1 and its clients behind 198.51.100.7 and 203.0.113.10.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz_csum.h"

#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | \
			(uint32_t)(c) << 8 | (uint32_t)(d))
#define CL(i)	IP(192, 0, 2, i)
#define EX(i)	IP(203, 0, 113, i)
#define SRV	EX(100)

static const char *outdir;

static void wr32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static void wr64(uint8_t *p, uint64_t v)
{
	wr32(p, (uint32_t)(v >> 32));
	wr32(p + 4, (uint32_t)v);
}

static void save(const char *harness, const char *name, const void *data,
		 size_t len)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", outdir, harness);
	if (mkdir(path, 0755) && errno != EEXIST) {
		perror(path);
		exit(1);
	}
	snprintf(path, sizeof(path), "%s/%s/seed-%s", outdir, harness, name);
	f = fopen(path, "wb");
	if (!f || fwrite(data, 1, len, f) != len || fclose(f)) {
		perror(path);
		exit(1);
	}
}

/* ---- packets ---- */

struct pkt {
	uint8_t b[1600];
	size_t len;
};

/* An IPv4 header (IHL 5, or 6 with a NOP option word when @opts) and
 * @pl of payload; lengths and checksums finished by ip_done(). */
static uint8_t *ip_start(struct pkt *p, uint32_t src, uint32_t dst,
			 uint8_t proto, bool opts)
{
	unsigned ihl = opts ? 24 : 20;

	memset(p, 0, sizeof(*p));
	p->b[0] = (uint8_t)(0x40 | ihl / 4);
	fz_wr16(p->b + 4, 0x1234);		/* IP ID */
	p->b[8] = 64;
	p->b[9] = proto;
	wr32(p->b + 12, src);
	wr32(p->b + 16, dst);
	if (opts)
		memset(p->b + 20, 1, 4);	/* NOP options */
	p->len = ihl;
	return p->b + ihl;
}

static unsigned ihl(const struct pkt *p)
{
	return (p->b[0] & 15u) * 4u;
}

/* Sets total length, UDP length and checksum (unless @no_udp_csum or
 * fragmented), ICMP checksum, IP checksum. */
static void ip_done(struct pkt *p, bool no_udp_csum)
{
	unsigned h = ihl(p);
	uint16_t fw = fz_rd16(p->b + 6);

	fz_wr16(p->b + 2, (uint16_t)p->len);
	if (p->b[9] == 17 && !(fw & 0x3fff)) {
		fz_wr16(p->b + h + 4, (uint16_t)(p->len - h));
		if (no_udp_csum)
			fz_wr16(p->b + h + 6, 0);
		else
			fz_set_udp(p->b, p->b + h, p->len - h);
	} else if (p->b[9] == 1) {
		fz_set(p->b + h, p->len - h, p->b + h + 2, 0);
	}
	fz_set(p->b, h, p->b + 10, 0);
}

static void udp_hdr(struct pkt *p, uint16_t sport, uint16_t dport)
{
	uint8_t *u = p->b + p->len;

	fz_wr16(u, sport);
	fz_wr16(u + 2, dport);
	p->len += 8;
}

/* An IKE header and @extra bytes of payload stand-in. */
static void ike_hdr(struct pkt *p, uint64_t ispi, uint64_t rspi,
		    unsigned version, uint8_t exchange, uint8_t flags,
		    uint32_t msgid, size_t extra)
{
	uint8_t *h = p->b + p->len;

	wr64(h, ispi);
	wr64(h + 8, rspi);
	h[16] = version == 2 ? 33 : 1;		/* SA payload next */
	h[17] = (uint8_t)(version << 4);
	h[18] = exchange;
	h[19] = flags;
	wr32(h + 20, msgid);
	wr32(h + 24, (uint32_t)(28 + extra));
	memset(h + 28, 0xa5, extra);
	p->len += 28 + extra;
}

static void esp_hdr(struct pkt *p, uint32_t spi, uint32_t seq, size_t extra)
{
	uint8_t *h = p->b + p->len;

	wr32(h, spi);
	wr32(h + 4, seq);
	memset(h + 8, 0x5a, extra);
	p->len += 8 + extra;
}

static void ike(struct pkt *p, uint32_t src, uint32_t dst, bool natt,
		uint64_t ispi, uint64_t rspi, unsigned version,
		uint8_t exchange, uint8_t flags, uint32_t msgid)
{
	uint16_t port = natt ? 4500 : 500;

	ip_start(p, src, dst, 17, false);
	udp_hdr(p, port, port);
	if (natt) {
		memset(p->b + p->len, 0, 4);	/* non-ESP marker */
		p->len += 4;
	}
	ike_hdr(p, ispi, rspi, version, exchange, flags, msgid, 40);
	ip_done(p, false);
}

static void esp(struct pkt *p, uint32_t src, uint32_t dst, bool udp,
		uint16_t sport, uint16_t dport, uint32_t spi, uint32_t seq)
{
	ip_start(p, src, dst, udp ? 17 : 50, false);
	if (udp)
		udp_hdr(p, sport, dport);
	esp_hdr(p, spi, seq, 48);
	ip_done(p, false);
}

static void keepalive(struct pkt *p, uint32_t src, uint32_t dst)
{
	ip_start(p, src, dst, 17, false);
	udp_hdr(p, 4500, 4500);
	p->b[p->len++] = 0xff;
	ip_done(p, false);
}

/* An ICMP error from @src to @dst quoting the first @quote bytes of @q
 * (all of it if @quote is 0). */
static void icmp(struct pkt *p, uint32_t src, uint32_t dst, uint8_t type,
		 uint8_t code, const struct pkt *q, size_t quote)
{
	uint8_t *h = ip_start(p, src, dst, 1, false);

	if (!quote || quote > q->len)
		quote = q->len;
	h[0] = type;
	h[1] = code;
	if (type == 3 && code == 4)
		fz_wr16(h + 6, 1400);		/* next-hop MTU */
	memcpy(h + 8, q->b, quote);
	p->len += 8 + quote;
	ip_done(p, false);
}

/* The first fragment of a UDP datagram @whole (a multiple of 8 bytes of
 * IP payload kept), or a later one with the rest. */
static void frag(struct pkt *p, const struct pkt *whole, size_t first,
		 bool later)
{
	unsigned h = ihl(whole);

	memcpy(p->b, whole->b, h);
	if (!later) {
		memcpy(p->b + h, whole->b + h, first);
		p->len = h + first;
		fz_wr16(p->b + 6, 0x2000);
	} else {
		memcpy(p->b + h, whole->b + h + first, whole->len - h - first);
		p->len = whole->len - first;
		fz_wr16(p->b + 6, (uint16_t)(first / 8));
	}
	fz_wr16(p->b + 2, (uint16_t)p->len);
	fz_set(p->b, h, p->b + 10, 0);
}

static void packet_seeds(void)
{
	struct pkt p, q, w;
	uint64_t ci = 0x1122334455667788ull, sr = 0x99aabbccddeeff00ull;

	ike(&p, CL(11), SRV, false, ci, 0, 2, 34, 0x08, 0);
	save("fuzz_packet", "ikev2-init", p.b, p.len);
	ike(&p, SRV, EX(11), false, ci, sr, 2, 34, 0x20, 0);
	save("fuzz_packet", "ikev2-init-resp", p.b, p.len);
	ike(&p, CL(11), SRV, true, ci, sr, 2, 35, 0x08, 1);
	save("fuzz_packet", "natt-ikev2-auth", p.b, p.len);
	ike(&p, CL(12), SRV, false, 0x0102030405060708ull, 0, 1, 2, 0, 0);
	save("fuzz_packet", "ikev1-main", p.b, p.len);
	ike(&p, CL(12), SRV, true, 0x0102030405060708ull, sr, 1, 32, 1,
	    0x7f000001);
	save("fuzz_packet", "natt-ikev1-quick", p.b, p.len);
	keepalive(&p, CL(11), SRV);
	save("fuzz_packet", "natt-keepalive", p.b, p.len);
	esp(&p, CL(11), SRV, true, 4500, 4500, 0xc0ffee01, 1);
	save("fuzz_packet", "esp-udp", p.b, p.len);
	esp(&p, CL(11), SRV, false, 0, 0, 0xc0ffee02, 7);
	save("fuzz_packet", "esp", p.b, p.len);
	esp(&p, SRV, EX(11), false, 0, 0, 0xbeef0001, 3);
	save("fuzz_packet", "esp-in", p.b, p.len);
	/* no UDP checksum, as many NAT-T senders do */
	ip_start(&p, CL(13), SRV, 17, false);
	udp_hdr(&p, 4500, 4500);
	esp_hdr(&p, 0xc0ffee03, 9, 40);
	ip_done(&p, true);
	save("fuzz_packet", "esp-udp-nocsum", p.b, p.len);
	/* IP options */
	ip_start(&p, CL(11), SRV, 17, true);
	udp_hdr(&p, 500, 500);
	ike_hdr(&p, ci, 0, 2, 34, 0x08, 0, 16);
	ip_done(&p, false);
	save("fuzz_packet", "ike-ipopts", p.b, p.len);
	/* a big IKE message in two fragments, and a first fragment too
	 * short for the IKE header */
	ip_start(&w, CL(11), SRV, 17, false);
	udp_hdr(&w, 500, 500);
	ike_hdr(&w, ci, sr, 2, 35, 0x08, 1, 1200);
	ip_done(&w, false);
	frag(&p, &w, 1000, false);
	save("fuzz_packet", "frag-first", p.b, p.len);
	frag(&p, &w, 1000, true);
	save("fuzz_packet", "frag-later", p.b, p.len);
	frag(&p, &w, 24, false);
	save("fuzz_packet", "frag-first-short", p.b, p.len);
	/* ICMP errors: frag-needed about ESP the alias sent, port
	 * unreachable quoting a whole IKE datagram, time exceeded about
	 * NAT-T ESP, one about a later fragment, one from a client */
	esp(&q, EX(11), SRV, false, 0, 0, 0xc0ffee02, 7);
	icmp(&p, SRV, EX(11), 3, 4, &q, 28);
	save("fuzz_packet", "icmp-fragneeded-esp", p.b, p.len);
	ike(&q, EX(11), SRV, false, ci, 0, 2, 34, 0x08, 0);
	icmp(&p, SRV, EX(11), 3, 3, &q, 0);
	save("fuzz_packet", "icmp-unreach-ike-whole", p.b, p.len);
	esp(&q, EX(11), SRV, true, 4500, 4500, 0xc0ffee01, 1);
	icmp(&p, IP(203, 0, 113, 1), EX(11), 11, 0, &q, 36);
	save("fuzz_packet", "icmp-ttl-natt", p.b, p.len);
	frag(&q, &w, 1000, true);
	icmp(&p, SRV, EX(11), 3, 1, &q, 28);
	save("fuzz_packet", "icmp-quotes-later-frag", p.b, p.len);
	ike(&q, SRV, CL(11), false, ci, sr, 2, 34, 0x20, 0);
	icmp(&p, CL(11), SRV, 3, 3, &q, 48);
	save("fuzz_packet", "icmp-from-client", p.b, p.len);
}

/* ---- packet sequences for fuzz_rewrite ---- */

struct seq {
	uint8_t b[8192];
	size_t len;
};

static void seq_start(struct seq *s, uint8_t setup)
{
	s->b[0] = setup;
	s->len = 1;
}

/* A record: flags (with "fix up" set unless @raw), op, addr, port. */
static void rec(struct seq *s, const struct pkt *p, uint8_t flags, uint8_t op,
		uint32_t addr, uint16_t port)
{
	uint8_t *h = s->b + s->len;

	if (s->len + 10 + p->len > sizeof(s->b))
		abort();
	h[0] = flags;
	h[1] = op;
	wr32(h + 2, addr);
	fz_wr16(h + 6, port);
	fz_wr16(h + 8, (uint16_t)p->len);
	memcpy(h + 10, p->b, p->len);
	s->len += 10 + p->len;
}

#define FIX	0x02
#define PARTIAL	0x01
#define DIRECT	0x04
#define SECS(n)	((uint8_t)((n) << 3))

/* The packet @make makes, once toward each alias it could have got. */
#define EACH_ALIAS(s, lo, hi, p, stmt) do {				\
		unsigned a_;						\
		for (a_ = (lo); a_ <= (hi); a_++) {			\
			uint32_t A = EX(a_);				\
			stmt;						\
			rec(s, p, FIX, 0, 0, 0);			\
		}							\
	} while (0)

static void rewrite_seeds(void)
{
	uint64_t ci = 0x1122334455667788ull, sr = 0x99aabbccddeeff00ull;
	struct pkt p, q, w;
	struct seq s;
	unsigned port;

	/* one client, IKEv2 then ESP both ways (plain set-up) */
	seq_start(&s, 0);
	ike(&p, CL(1), SRV, false, ci, 0, 2, 34, 0x08, 0);
	rec(&s, &p, FIX, 0, 0, 0);
	EACH_ALIAS(&s, 11, 13, &p,
		   ike(&p, SRV, A, false, ci, sr, 2, 34, 0x20, 0));
	ike(&p, CL(1), SRV, true, ci, sr, 2, 35, 0x08, 1);
	rec(&s, &p, FIX | SECS(1), 0, 0, 0);
	esp(&p, CL(1), SRV, false, 0, 0, 0xc0ffee01, 1);
	rec(&s, &p, FIX, 0, 0, 0);
	EACH_ALIAS(&s, 11, 13, &p,
		   esp(&p, SRV, A, false, 0, 0, 0xbeef0001, 1));
	save("fuzz_rewrite", "plain-ike-esp", s.b, s.len);

	/* the same flow established, then ESP both ways by the fast path,
	 * with the prefetch's hint (op 0x60) and without (op 0x40) */
	seq_start(&s, 0);
	ike(&p, CL(1), SRV, false, ci, 0, 2, 34, 0x08, 0);
	rec(&s, &p, FIX, 0, 0, 0);
	EACH_ALIAS(&s, 11, 13, &p,
		   ike(&p, SRV, A, false, ci, sr, 2, 34, 0x20, 0));
	esp(&p, CL(1), SRV, false, 0, 0, 0xc0ffee01, 1);
	rec(&s, &p, FIX, 0, 0, 0);
	EACH_ALIAS(&s, 11, 13, &p,
		   esp(&p, SRV, A, false, 0, 0, 0xbeef0001, 1));
	for (port = 2; port <= 5; port++) {
		uint8_t op = port & 1 ? 0x40 : 0x60;
		unsigned a;

		esp(&p, CL(1), SRV, false, 0, 0, 0xc0ffee01, port);
		rec(&s, &p, FIX, op, 0, 0);
		for (a = 11; a <= 13; a++) {
			esp(&p, SRV, EX(a), false, 0, 0, 0xbeef0001, port);
			rec(&s, &p, FIX, op, 0, 0);
		}
	}
	/* an SPI the table does not know, hinted */
	esp(&p, CL(1), SRV, false, 0, 0, 0xc0ffee99, 1);
	rec(&s, &p, FIX, 0x60, 0, 0);
	save("fuzz_rewrite", "fast-hinted-esp", s.b, s.len);

	/* NAT-T, a pinned client, keepalives, the L4 checksum partial,
	 * and a session expiring */
	seq_start(&s, 0);
	ike(&p, CL(20), SRV, true, ci, sr, 2, 35, 0x08, 1);
	rec(&s, &p, FIX | PARTIAL, 0, 0, 0);
	esp(&p, CL(20), SRV, true, 4500, 4500, 0xc0ffee05, 1);
	rec(&s, &p, FIX | PARTIAL, 0, 0, 0);
	esp(&p, SRV, EX(20), true, 4500, 4500, 0xbeef0005, 1);
	rec(&s, &p, FIX, 0, 0, 0);
	keepalive(&p, CL(20), SRV);
	rec(&s, &p, FIX | SECS(20), 0, 0, 0);
	rec(&s, &p, FIX | SECS(31), 0, 0, 0);
	esp(&p, SRV, EX(20), true, 4500, 4500, 0xbeef0005, 2);
	rec(&s, &p, FIX, 0, 0, 0);
	save("fuzz_rewrite", "natt-pinned-expire", s.b, s.len);

	/* ICMP errors both ways about a known flow */
	seq_start(&s, 0);
	esp(&p, CL(2), SRV, false, 0, 0, 0xc0ffee02, 1);
	rec(&s, &p, FIX, 0, 0, 0);
	EACH_ALIAS(&s, 11, 13, &p, (esp(&q, A, SRV, false, 0, 0, 0xc0ffee02,
					1), icmp(&p, SRV, A, 3, 4, &q, 28)));
	EACH_ALIAS(&s, 11, 13, &p, (ike(&q, A, SRV, false, ci, 0, 2, 34, 8,
					0), icmp(&p, SRV, A, 3, 3, &q, 0)));
	ike(&q, SRV, CL(2), false, ci, sr, 2, 34, 0x20, 0);
	icmp(&p, CL(2), SRV, 3, 3, &q, 0);
	rec(&s, &p, FIX, 0, 0, 0);
	icmp(&p, IP(192, 0, 2, 254), SRV, 3, 1, &q, 0);
	rec(&s, &p, FIX, 0, 0, 0);
	save("fuzz_rewrite", "icmp-both-ways", s.b, s.len);

	/* shared aliases with NAT-T ports: two clients negotiate at once,
	 * ESP comes back to their ports, an unknown SPI, fragments */
	seq_start(&s, 1);
	ike(&p, CL(1), SRV, true, ci, sr, 2, 35, 0x08, 1);
	rec(&s, &p, FIX, 0, 0, 0);
	ike(&p, CL(2), SRV, true, ci + 1, sr + 1, 2, 35, 0x08, 1);
	rec(&s, &p, FIX, 0, 0, 0);
	esp(&p, CL(1), SRV, true, 4500, 4500, 0xc0ffee11, 1);
	rec(&s, &p, FIX, 0, 0, 0);
	esp(&p, CL(2), SRV, true, 4500, 4500, 0xc0ffee12, 1);
	rec(&s, &p, FIX, 0, 0, 0);
	/* three clients on two aliases: two of them share one */
	esp(&p, CL(5), SRV, true, 4500, 4500, 0xc0ffee15, 1);
	rec(&s, &p, FIX, 0, 0, 0);
	/* the first client keeps 4500, the second gets one of the range */
	for (port = 39999; port <= 40003; port++)
		EACH_ALIAS(&s, 11, 12, &p,
			   esp(&p, SRV, A, true, 4500,
			       (uint16_t)(port == 39999 ? 4500 : port),
			       0xbeef0011, 1));
	ike(&p, CL(3), SRV, false, ci + 2, sr + 2, 2, 36, 0x08, 2);
	rec(&s, &p, FIX | SECS(1), 0, 0, 0);
	ike(&p, CL(4), SRV, false, ci + 3, sr + 3, 2, 36, 0x08, 2);
	rec(&s, &p, FIX, 0, 0, 0);
	EACH_ALIAS(&s, 11, 12, &p,
		   esp(&p, SRV, A, false, 0, 0, 0xbeef0099, 1));
	ip_start(&w, SRV, EX(11), 17, false);
	udp_hdr(&w, 500, 500);
	ike_hdr(&w, ci + 2, sr + 2, 2, 36, 0x20, 2, 1200);
	ip_done(&w, false);
	frag(&p, &w, 1000, false);
	rec(&s, &p, 0, 0, 0, 0);
	frag(&p, &w, 1000, true);
	rec(&s, &p, 0, 0, 0, 0);
	for (port = 39999; port <= 40001; port++)
		EACH_ALIAS(&s, 11, 12, &p,
			   (esp(&q, A, SRV, true,
				(uint16_t)(port == 39999 ? 4500 : port), 4500,
				0xc0ffee11, 1),
			    icmp(&p, SRV, A, 3, 4, &q, 36)));
	/* ...and quoting the whole datagram, with its UDP checksum */
	for (port = 40000; port <= 40001; port++)
		EACH_ALIAS(&s, 11, 12, &p,
			   (esp(&q, A, SRV, true, (uint16_t)port, 4500,
				0xc0ffee12, 1),
			    icmp(&p, SRV, A, 3, 3, &q, 0)));
	save("fuzz_rewrite", "shared-natt-ports", s.b, s.len);

	/* ICMP errors toward the server about what it sent a client:
	 * from the client itself and from a router on the way, on a NAT-T
	 * port of the client's own; the clients behind NATs of their own
	 * (source ports other than 4500), until the ports run out */
	seq_start(&s, 1);
	for (port = 0; port < 4; port++) {
		esp(&p, CL(1 + port), SRV, true, (uint16_t)(1024 + port), 4500,
		    0xc0ffee21 + port, 1);
		rec(&s, &p, FIX, 0, 0, 0);
	}
	for (port = 0; port < 2; port++) {
		esp(&q, SRV, CL(1 + port), true, 4500, (uint16_t)(1024 + port),
		    0xbeef0021 + port, 1);
		icmp(&p, CL(1 + port), SRV, 3, 3, &q, 0);
		rec(&s, &p, FIX, 0, 0, 0);
		icmp(&p, IP(203, 0, 113, 1), SRV, 11, 0, &q, 36);
		rec(&s, &p, FIX, 0, 0, 0);
	}
	save("fuzz_rewrite", "icmp-to-server-natt", s.b, s.len);

	/* more SAs than the table holds: rekeys every second */
	seq_start(&s, 2);
	for (port = 0; port < 16; port++) {
		esp(&p, CL(1 + port % 2), SRV, false, 0, 0, 0xc0ff0000 + port,
		    1);
		rec(&s, &p, FIX | SECS(1), 0, 0, 0);
	}
	save("fuzz_rewrite", "many-sas", s.b, s.len);

	/* the rewriters alone, on one packet of each kind */
	seq_start(&s, 0);
	ike(&p, CL(1), SRV, false, ci, 0, 2, 34, 0x08, 0);
	rec(&s, &p, FIX | DIRECT, 0x00, EX(11), 0);
	rec(&s, &p, FIX | DIRECT | PARTIAL, 0x80, EX(11), 0);
	rec(&s, &p, FIX | DIRECT, 0x01, 0, 40000);
	rec(&s, &p, FIX | DIRECT | PARTIAL, 0x81, 0, 4500);
	esp(&p, CL(1), SRV, true, 4500, 4500, 0xc0ffee01, 1);
	rec(&s, &p, FIX | DIRECT, 0x00, EX(11), 0);
	rec(&s, &p, FIX | DIRECT, 0x01, 0, 40001);
	esp(&q, EX(11), SRV, true, 40000, 4500, 0xc0ffee01, 1);
	icmp(&p, SRV, EX(11), 3, 4, &q, 0);
	rec(&s, &p, FIX | DIRECT, 0x02, CL(11), 0);
	rec(&s, &p, FIX | DIRECT, 0x82, CL(11), 0);
	rec(&s, &p, FIX | DIRECT, 0x03, CL(11), 0);
	rec(&s, &p, FIX | DIRECT, 0x04, 0, 4500);
	rec(&s, &p, FIX | DIRECT, 0x84, 0, 4500);
	frag(&p, &w, 1000, false);
	rec(&s, &p, DIRECT, 0x00, CL(11), 0);
	rec(&s, &p, DIRECT, 0x01, 0, 4500);
	save("fuzz_rewrite", "direct", s.b, s.len);
}

/* ---- packet sequences for fuzz_gateway ---- */

/* An L2TPv2 message (RFC 2661), as the UDP payload. */
struct l2m {
	uint8_t b[512];
	size_t len;
	size_t lenat;		/* where its Length field is, 0: none */
};

static void l2_put16(struct l2m *m, uint16_t v)
{
	if (m->len + 2 > sizeof(m->b))
		abort();
	fz_wr16(m->b + m->len, v);
	m->len += 2;
}

/* An AVP with the M bit (and @h, the H bit, when hidden), vendor 0. */
static void l2_avp(struct l2m *m, bool h, uint16_t attr, const uint8_t *val,
		   size_t vlen)
{
	l2_put16(m, (uint16_t)(0x8000 | (h ? 0x4000 : 0) | (6 + vlen)));
	l2_put16(m, 0);
	l2_put16(m, attr);
	if (m->len + vlen > sizeof(m->b))
		abort();
	memcpy(m->b + m->len, val, vlen);
	m->len += vlen;
}

static void l2_avp16(struct l2m *m, uint16_t attr, uint16_t v)
{
	uint8_t b[2];

	fz_wr16(b, v);
	l2_avp(m, false, attr, b, 2);
}

static void l2_done(struct l2m *m)
{
	if (m->lenat)
		fz_wr16(m->b + m->lenat, (uint16_t)m->len);
}

#define MT_NONE	0xffff		/* a ZLB: no Message Type */

/* A control message (T, L, S) to tunnel @tid, session @sid: the Message
 * Type AVP, then what the caller adds; l2_done() sets its Length. */
static void l2_ctrl(struct l2m *m, uint16_t tid, uint16_t sid, uint16_t ns,
		    uint16_t nr, uint16_t type)
{
	m->len = 0;
	l2_put16(m, 0xc802);
	m->lenat = m->len;
	l2_put16(m, 0);
	l2_put16(m, tid);
	l2_put16(m, sid);
	l2_put16(m, ns);
	l2_put16(m, nr);
	if (type != MT_NONE)
		l2_avp16(m, 0, type);
}

/* SCCRQ or SCCRP: Protocol Version, Framing Capabilities, Host Name and
 * the Assigned Tunnel ID @atid. */
static void l2_sccr(struct l2m *m, uint16_t tid, uint16_t type,
		    uint16_t atid, const char *host)
{
	uint8_t caps[4] = { 0, 0, 0, 3 };

	l2_ctrl(m, tid, 0, 0, type == 1 ? 0 : 1, type);
	l2_avp16(m, 2, 0x0100);
	l2_avp(m, false, 3, caps, 4);
	l2_avp(m, false, 7, (const uint8_t *)host, strlen(host));
	l2_avp16(m, 9, atid);
	l2_put16(m, 0x8008);		/* Receive Window Size 4 */
	l2_put16(m, 0);
	l2_put16(m, 10);
	l2_put16(m, 4);
	l2_done(m);
}

/* ICRQ/ICRP: the Assigned Session ID @asid (and a Call Serial Number). */
static void l2_icr(struct l2m *m, uint16_t tid, uint16_t sid, uint16_t ns,
		   uint16_t nr, uint16_t type, uint16_t asid)
{
	uint8_t serial[4] = { 0, 0, 0, 1 };

	l2_ctrl(m, tid, sid, ns, nr, type);
	l2_avp16(m, 14, asid);
	if (type == 10)
		l2_avp(m, false, 15, serial, 4);
	l2_done(m);
}

/* A data message with @flags (L, S, O, P) and an LCP echo request. */
static void l2_data(struct l2m *m, uint16_t flags, uint16_t tid,
		    uint16_t sid)
{
	static const uint8_t ppp[] = {
		0xff, 0x03, 0xc0, 0x21, 0x09, 0x01, 0x00, 0x08,
		0x00, 0x00, 0x00, 0x00,
	};

	m->len = 0;
	m->lenat = 0;
	l2_put16(m, (uint16_t)(flags | 2));
	if (flags & 0x4000) {
		m->lenat = m->len;
		l2_put16(m, 0);
	}
	l2_put16(m, tid);
	l2_put16(m, sid);
	if (flags & 0x0800) {
		l2_put16(m, 5);
		l2_put16(m, 3);
	}
	if (flags & 0x0200) {
		l2_put16(m, 2);
		l2_put16(m, 0);		/* two bytes of padding */
	}
	memcpy(m->b + m->len, ppp, sizeof(ppp));
	m->len += sizeof(ppp);
	l2_done(m);
}

struct gseq {
	uint8_t b[8192];
	size_t len;
};

/* The set-up byte of fuzz_gateway.c: capacity, timeout (index into
 * 1, 2, 5, 30, 300, 3600, 86400, 30 d), the clock near its wrap. */
#define G_CAP(n)	((uint8_t)((n) - 1))
#define G_TMO(i)	((uint8_t)((i) << 3))
#define G_WRAPCLK	0x40
/* ctl: outbound, the mark (index into 0, 1, 2, 3, 0x10, 0x100,
 * 0x80000000, 0xffffffff), the clock step (index into 0, 0, 1, 2,
 * timeout - 1, timeout, timeout + 1, 3600) */
#define G_OUT		0x01
#define G_MARK(i)	((uint8_t)((i) << 1))
#define G_STEP(i)	((uint8_t)((i) << 4))
/* op: an action first, then wrapped (peer, ports) or raw (fix-ups) */
#define G_RESTART	3
#define G_EXPIRE	4
#define G_FLUSH		5
#define G_FLUSH_PEER	6
#define G_SHADOW	7
#define G_WRAP		0x08
#define G_PEER(i)	((uint8_t)((i) << 4))
#define G_PORTS(i)	((uint8_t)((i) << 6))	/* 1701-1701, 1024-1701,
						 * 4500-4500, tcp */
#define G_FIXLEN	0x10
#define G_FIXL2TP	0x20

static void gseq_start(struct gseq *s, uint8_t setup)
{
	s->b[0] = setup;
	s->len = 1;
}

static void grec(struct gseq *s, uint8_t ctl, uint8_t op, const void *b,
		 size_t len)
{
	uint8_t *h = s->b + s->len;

	if (s->len + 4 + len > sizeof(s->b))
		abort();
	h[0] = ctl;
	h[1] = op;
	fz_wr16(h + 2, (uint16_t)len);
	memcpy(h + 4, b, len);
	s->len += 4 + len;
}

static void grec_l2(struct gseq *s, uint8_t ctl, uint8_t op,
		    const struct l2m *m)
{
	grec(s, ctl, op | G_WRAP, m->b, m->len);
}

static void grec_pkt(struct gseq *s, uint8_t ctl, uint8_t op,
		     const struct pkt *p)
{
	grec(s, ctl, op, p->b, p->len);
}

/* One L2TP client: the mark of its SA, its IDs (tunnel, session) and
 * the gateway's for it. */
struct gcl {
	uint8_t mark;		/* G_MARK index */
	uint16_t ctid, csid, gtid, gsid;
};

/* The set-up of @c's tunnel and one call, both ways, then data both
 * ways, through the records of @s with @op (the peer and its ports). */
static void l2tp_client(struct gseq *s, const struct gcl *c, uint8_t op,
			int part)
{
	uint8_t in = G_MARK(c->mark), out = G_OUT;
	struct l2m m;

	switch (part) {
	case 0:
		l2_sccr(&m, 0, 1, c->ctid, "client");		/* SCCRQ */
		grec_l2(s, in, op, &m);
		l2_sccr(&m, c->ctid, 2, c->gtid, "gw");	/* SCCRP */
		grec_l2(s, out, op, &m);
		break;
	case 1:
		l2_ctrl(&m, c->gtid, 0, 1, 1, 3);		/* SCCCN */
		l2_done(&m);
		grec_l2(s, in, op, &m);
		l2_ctrl(&m, c->ctid, 0, 1, 2, MT_NONE);		/* ZLB */
		l2_done(&m);
		grec_l2(s, out, op, &m);
		break;
	case 2:
		l2_icr(&m, c->gtid, 0, 2, 1, 10, c->csid);	/* ICRQ */
		grec_l2(s, in, op, &m);
		l2_icr(&m, c->ctid, c->csid, 1, 3, 11, c->gsid); /* ICRP */
		grec_l2(s, out, op, &m);
		l2_ctrl(&m, c->gtid, c->gsid, 3, 2, 12);	/* ICCN */
		l2_done(&m);
		grec_l2(s, in, op, &m);
		break;
	default:
		l2_data(&m, 0x4000, c->gtid, c->gsid);
		grec_l2(s, in | G_STEP(2), op, &m);
		l2_data(&m, 0, c->ctid, c->csid);
		grec_l2(s, out, op, &m);
		break;
	}
}

static void gateway_seeds(void)
{
	static const struct gcl a = { 1, 0x0a01, 0x0a11, 0x1001, 0x2001 };
	static const struct gcl b = { 2, 0x0b01, 0x0b11, 0x1002, 0x2002 };
	uint8_t pl[64], u1701 = G_WRAP | G_PEER(0) | G_PORTS(0);
	struct pkt p;
	struct gseq s;
	struct l2m m;
	int part;

	/* two clients behind one NAT address, each on its own SA, their
	 * set-ups interleaved, then the gateway's packets to each */
	gseq_start(&s, G_CAP(8) | G_TMO(4));
	for (part = 0; part < 4; part++) {
		l2tp_client(&s, &a, u1701, part);
		l2tp_client(&s, &b, u1701, part);
	}
	save("fuzz_gateway", "l2tp-two-clients", s.b, s.len);

	/* one client behind a NAT that mapped 1701 to 1024, a rekey (new
	 * mark), a restart of the daemon with a shadow table before it,
	 * then time running out */
	gseq_start(&s, G_CAP(8) | G_TMO(3));
	for (part = 0; part < 4; part++)
		l2tp_client(&s, &a, G_PEER(1) | G_PORTS(1), part);
	l2_data(&m, 0x4800, a.gtid, a.gsid);
	grec(&s, G_MARK(3) | G_STEP(2), G_WRAP | G_PEER(1) | G_PORTS(1) |
	     G_SHADOW, m.b, m.len);
	l2_data(&m, 0x0800, a.ctid, a.csid);
	grec(&s, G_OUT, G_WRAP | G_PEER(1) | G_PORTS(1), m.b, m.len);
	grec(&s, G_OUT | G_STEP(4), G_WRAP | G_PEER(1) | G_PORTS(1) |
	     G_RESTART, m.b, m.len);
	grec(&s, G_OUT | G_STEP(2), G_WRAP | G_PEER(1) | G_PORTS(1) |
	     G_EXPIRE, m.b, m.len);
	save("fuzz_gateway", "l2tp-natmap-rekey-restart", s.b, s.len);

	/* two clients pick the same tunnel ID: the second SCCRQ takes the
	 * entry over from the first; the gateway starting a tunnel (SCCRQ
	 * out, to tunnel 0) and the client's SCCRP carrying both IDs */
	gseq_start(&s, G_CAP(8) | G_TMO(4));
	for (part = 0; part < 2; part++)
		l2tp_client(&s, &a, u1701, part);
	l2_sccr(&m, 0, 1, a.ctid, "other");
	grec_l2(&s, G_MARK(2) | G_STEP(2), u1701, &m);
	l2_data(&m, 0, a.ctid, a.csid);
	grec_l2(&s, G_OUT, u1701, &m);
	l2_sccr(&m, 0, 1, 0x3003, "gw");
	grec_l2(&s, G_OUT, G_WRAP | G_PEER(1) | G_PORTS(0), &m);
	l2_sccr(&m, 0x3003, 2, 0x0c01, "client");
	grec_l2(&s, G_MARK(4), G_WRAP | G_PEER(1) | G_PORTS(0), &m);
	l2_ctrl(&m, 0x0c01, 0, 1, 1, 3);
	l2_done(&m);
	grec_l2(&s, G_OUT, G_WRAP | G_PEER(1) | G_PORTS(0), &m);
	/* the gateway gives a new tunnel the ID of one that went silently:
	 * the new one takes it */
	l2_sccr(&m, 0, 1, b.ctid, "client");
	grec_l2(&s, G_MARK(3), u1701, &m);
	l2_sccr(&m, b.ctid, 2, a.gtid, "gw");
	grec_l2(&s, G_OUT, u1701, &m);
	l2_data(&m, 0, a.gtid, a.gsid);
	grec_l2(&s, G_MARK(3), u1701, &m);
	save("fuzz_gateway", "l2tp-rebound-gw-initiated", s.b, s.len);

	/* an SCCRQ whose Assigned Tunnel ID is hidden (a Random Vector
	 * before it, the value encrypted), and a StopCCN */
	gseq_start(&s, G_CAP(8) | G_TMO(4));
	l2_ctrl(&m, 0, 0, 0, 0, 1);
	l2_avp16(&m, 2, 0x0100);
	memset(pl, 0x5c, 16);
	l2_avp(&m, false, 36, pl, 16);		/* Random Vector */
	memset(pl, 0xa7, 16);
	l2_avp(&m, true, 9, pl, 16);		/* hidden Assigned Tunnel */
	l2_done(&m);
	grec_l2(&s, G_MARK(1), u1701, &m);
	l2_ctrl(&m, 0x1001, 0, 1, 1, 4);
	l2_avp16(&m, 9, a.ctid);
	l2_avp16(&m, 1, 1);			/* Result Code */
	l2_done(&m);
	grec_l2(&s, G_MARK(1), u1701, &m);
	save("fuzz_gateway", "l2tp-hidden-sccrq", s.b, s.len);

	/* data messages of every header form both ways */
	gseq_start(&s, G_CAP(4) | G_TMO(4));
	for (part = 0; part < 3; part++)
		l2tp_client(&s, &b, u1701, part);
	{
		static const uint16_t fl[] = { 0, 0x4000, 0x0800, 0x4800,
					       0x0200, 0x4a00, 0x0100 };
		size_t i;

		for (i = 0; i < sizeof(fl) / sizeof(fl[0]); i++) {
			l2_data(&m, fl[i], b.gtid, b.gsid);
			grec_l2(&s, G_MARK(2), u1701, &m);
			l2_data(&m, fl[i], b.ctid, b.csid);
			grec_l2(&s, G_OUT, u1701, &m);
		}
	}
	/* an outgoing call: OCRQ from the gateway, OCRP from the client */
	l2_icr(&m, b.ctid, 0, 4, 3, 7, 0x2102);
	grec_l2(&s, G_OUT, u1701, &m);
	l2_icr(&m, b.gtid, 0x2102, 3, 5, 8, 0x0b12);
	grec_l2(&s, G_MARK(2), u1701, &m);
	save("fuzz_gateway", "l2tp-data-forms", s.b, s.len);

	/* flows: TCP and NAT-T ESP in and out, raw and wrapped; more
	 * than the table holds; a flush of one peer, then of all */
	gseq_start(&s, G_CAP(2) | G_TMO(2));
	memset(pl, 0, sizeof(pl));
	grec(&s, G_MARK(1), G_WRAP | G_PEER(0) | G_PORTS(3), pl, 0);
	grec(&s, G_OUT, G_WRAP | G_PEER(0) | G_PORTS(3), pl, 16);
	ip_start(&p, IP(198, 51, 100, 7), IP(192, 0, 2, 1), 6, false);
	fz_wr16(p.b + 20, 50001);
	fz_wr16(p.b + 22, 443);
	p.b[32] = 0x50;
	p.b[33] = 0x02;				/* SYN */
	p.len += 20;
	ip_done(&p, false);
	grec_pkt(&s, G_MARK(5), 0, &p);
	esp(&p, IP(203, 0, 113, 10), IP(192, 0, 2, 1), true, 4500, 4500,
	    0xc0ffee01, 1);
	grec_pkt(&s, G_MARK(6), 0, &p);		/* full */
	esp(&p, IP(192, 0, 2, 1), IP(198, 51, 100, 7), true, 4500, 4500,
	    0xbeef0001, 1);
	grec_pkt(&s, G_OUT, G_FLUSH_PEER, &p);
	esp(&p, IP(203, 0, 113, 10), IP(192, 0, 2, 1), true, 4500, 4500,
	    0xc0ffee01, 2);
	grec_pkt(&s, G_MARK(7) | G_STEP(3), 0, &p);
	grec(&s, G_OUT, G_WRAP | G_PEER(1) | G_PORTS(2), pl, 8);
	grec(&s, G_OUT | G_STEP(5), G_WRAP | G_PEER(1) | G_PORTS(2), pl, 8);
	grec(&s, G_MARK(1), G_WRAP | G_PEER(1) | G_PORTS(2) | G_FLUSH, pl,
	     8);
	save("fuzz_gateway", "flows-tcp-natt-full", s.b, s.len);

	/* what is refused before any table: a short IP header, lengths
	 * that disagree (IP, UDP, L2TP), a fragment, ICMP, L2TPv3, an AVP
	 * past the message, an unmarked packet; the clock near its wrap */
	gseq_start(&s, G_CAP(8) | G_TMO(0) | G_WRAPCLK);
	l2_sccr(&m, 0, 1, a.ctid, "client");
	ip_start(&p, IP(198, 51, 100, 7), IP(192, 0, 2, 1), 17, false);
	udp_hdr(&p, 1701, 1701);
	memcpy(p.b + p.len, m.b, m.len);
	p.len += m.len;
	ip_done(&p, false);
	grec_pkt(&s, G_MARK(1), 0, &p);			/* accepted */
	grec(&s, G_MARK(1), 0, p.b, 19);		/* cut short */
	grec(&s, G_MARK(1), 0, p.b, p.len - 1);		/* IP length */
	grec(&s, G_MARK(1), G_FIXLEN, p.b, p.len - 1);	/* L2TP Length */
	grec(&s, G_MARK(1), G_FIXLEN | G_FIXL2TP, p.b, p.len - 1);
	fz_wr16(p.b + 24, (uint16_t)(p.len - 21));	/* UDP length */
	grec_pkt(&s, G_MARK(1), 0, &p);
	fz_wr16(p.b + 24, (uint16_t)(p.len - 20));
	fz_wr16(p.b + 6, 0x2000);			/* MF */
	grec_pkt(&s, G_MARK(1), 0, &p);
	fz_wr16(p.b + 6, 0x4000);
	grec_pkt(&s, G_MARK(0), 0, &p);			/* unmarked */
	grec_pkt(&s, G_OUT | G_STEP(2), 0, &p);
	p.b[9] = 1;					/* ICMP */
	grec_pkt(&s, G_MARK(1), 0, &p);
	m.b[1] = 0x03;					/* L2TPv3 */
	grec_l2(&s, G_MARK(1), u1701, &m);
	m.b[1] = 0x02;
	m.b[13] = 0x40;			/* Message Type AVP: length 64 */
	grec_l2(&s, G_MARK(1), u1701, &m);
	m.b[13] = 0x08;
	grec_l2(&s, G_MARK(1) | G_STEP(5), u1701 | G_EXPIRE, &m);
	save("fuzz_gateway", "refused", s.b, s.len);
}

/* ---- configuration ---- */

static void config_seeds(const char *conf)
{
	static const char *const lines[] = {
		"inside 192.0.2.0/24", "outside eth1",
		"alias 203.0.113.11-203.0.113.13", "alias 203.0.113.20",
		"pin 192.0.2.11 203.0.113.21", "server 203.0.113.200/29",
		"queues 7,0-3,2", "cpu 1 0", "mark 0x100/0xff00",
		"mark client 192.0.2.0/28 0x4000/0xf000",
		"mark server 203.0.113.200/29 0x300",
		"mark alias 203.0.113.2 0x20/0xf0", "timeout ike 2h",
		"timeout esp 90", "timeout pending 45s", "timeout nat-t 1d",
		"max-sessions 65536", "alias-clients unlimited",
		"alias-clients 3", "natt-ports 40000-40999", "natt-ports off",
		"gate-hold 2000", "queue-maxlen 4096", "rcvbuf 8m",
		"batch 64", "control /run/espmasq/espmasq.sock",
		"state /var/lib/espmasq/sessions",
		"metrics-file /var/lib/espmasq/espmasq.prom",
		"control-group espmasq", "fail-policy bypass",
		"include other.conf",
	};
	static const char shared[] =
		"inside 192.0.2.0/24\n"
		"alias 203.0.113.11-203.0.113.12 # two\n"
		"pin 192.0.2.20 203.0.113.20\r\n"
		"alias-clients unlimited\n"
		"natt-ports 40000-40003\n"
		"@file conf.d/pins.conf\n"
		"pin 192.0.2.21 203.0.113.21\n"
		"cpu 0 1\n";
	char name[64], *text;
	unsigned i;
	FILE *f;
	long n;

	f = fopen(conf, "rb");
	if (!f || fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET)) {
		perror(conf);
		exit(1);
	}
	text = malloc((size_t)n + 1);
	if (!text || fread(text, 1, (size_t)n, f) != (size_t)n) {
		perror(conf);
		exit(1);
	}
	fclose(f);
	save("fuzz_config", "reference", text, (size_t)n);
	free(text);
	save("fuzz_config", "shared", shared, sizeof(shared) - 1);
	for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		char buf[256];
		int k = snprintf(buf, sizeof(buf), "inside 192.0.2.0/24\n%s\n",
				 lines[i]);

		snprintf(name, sizeof(name), "line-%02u", i);
		save("fuzz_config", name, buf, (size_t)k);
	}
}

/* Files at the limits of the tables, one past them (not pins: 4096 lines
 * would make every input that long), and other rarely met refusals, so
 * that the fuzzer starts next to them. */
static void config_limit_seeds(void)
{
	static char buf[32 * 1024];
	size_t n;
	unsigned i;

#define ADD(...) (n += (size_t)snprintf(buf + n, sizeof(buf) - n, __VA_ARGS__))
	n = 0;
	for (i = 0; i <= 256; i++)
		ADD("inside 10.%u.%u.0/24\n", i / 256, i % 256);
	for (i = 0; i <= 256; i++)
		ADD("server 198.51.%u.%u\n", i / 256, i % 256);
	ADD("alias 203.0.113.1\n");
	save("fuzz_config", "limit-nets", buf, n);

	n = 0;
	ADD("inside 192.0.2.0/24\nalias 198.18.0.0-198.18.15.255\n"
	    "alias 198.19.0.1\n");
	for (i = 0; i <= 256; i++)
		ADD("mark alias 203.0.113.%u 0x%x\n", i % 256, i + 1);
	for (i = 0; i <= 64; i++)
		ADD("cpu %u 0\n", i);
	ADD("queues 0-64\nqueues 70000\n");
	save("fuzz_config", "limit-aliases-marks-cpus", buf, n);

	n = 0;
	ADD("inside 192.0.2.0/24\nalias 192.0.2.10-192.0.2.12\n"
	    "alias 192.0.2.20\npin 192.0.2.1 192.0.2.30\n"
	    "pin 198.51.100.1 203.0.113.1\nalias 0.0.0.0\n"
	    "pin 192.0.2.2 0.0.0.0\nnatt-ports 5000-4000\n"
	    "natt-ports 4000-5000\n");
	for (i = 0; i <= 16; i++)
		ADD("@file conf.d/%02u.conf\ncpu %u 1\n", i, i);
	ADD("@file %0300u\ncpu 99 1\npin 192.0.2.1 203.0.113.9\n", 0);
	ADD("metrics-file /%0300u\nstate /%0300u\ncontrol /%0200u\n"
	    "control-group %040u\noutside %020u\n", 0, 0, 0, 0, 0);
	ADD("batch %01100u\n", 1);
	save("fuzz_config", "refusals", buf, n);
#undef ADD
}

/* ---- control requests ---- */

static void ctl_seeds(void)
{
	static const char *const reqs[] = {
		"sessions\n", "sessions client 192.0.2.11\n",
		"sessions server 203.0.113.0/24 alias 203.0.113.11 "
		"spi 0xc0ffee01\n",
		"sessions spi 1122334455667788\tserver 203.0.113.100\n",
		"aliases\n", "flush all\n", "flush client 192.0.2.11\n",
		"stats\n", "reload\n", "version\n", "watch\n",
		"stats\nversion\nsessions client 192.0.2.11 client x\n",
	};
	char name[32];
	unsigned i;

	for (i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++) {
		snprintf(name, sizeof(name), "req-%02u", i);
		save("fuzz_ctl", name, reqs[i], strlen(reqs[i]));
	}
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: mkcorpus OUTDIR CONF\n");
		return 2;
	}
	outdir = argv[1];
	if (mkdir(outdir, 0755) && errno != EEXIST) {
		perror(outdir);
		return 1;
	}
	packet_seeds();
	rewrite_seeds();
	gateway_seeds();
	config_seeds(argv[2]);
	config_limit_seeds();
	ctl_seeds();
	return 0;
}
