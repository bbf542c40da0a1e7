/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Translation and alias picking, through the real config parser. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "alias.h"
#include "csum.h"
#include "config.h"
#include "packet.h"
#include "session.h"
#include "translate.h"

#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (b) << 16 | (c) << 8 | (d))
#define CL(i) IP(192, 0, 2, i)
#define EX(i) IP(203, 0, 113, i)

struct fx {
	struct config cfg;
	struct session_table *t;
	struct alias_pool *pool;
	struct xlate_ctx x;
};

static struct fx *setup_cfg(const char *const *lines, uint32_t max)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct config_errors e = { .n = 0 };
	struct session_limits lim = { max, max * 4, 0 };
	unsigned i;

	assert_non_null(f);
	config_init(&f->cfg);
	for (i = 0; lines[i]; i++)
		assert_int_equal(config_line(&f->cfg, "t.conf", i + 1, lines[i],
					     &e), 0);
	assert_int_equal(config_finish(&f->cfg, "t.conf", &e), 0);
	lim.per_client = f->cfg.client_sessions;
	f->t = session_table_new(&lim);
	f->pool = alias_pool_new(&f->cfg);
	assert_non_null(f->t);
	assert_non_null(f->pool);
	f->x = (struct xlate_ctx){ f->t, &f->cfg, f->pool, false };
	return f;
}

static void teardown_fx(struct fx *f)
{
	session_table_free(f->t);
	alias_pool_free(f->pool);
	free(f);
}

/* Minimal ESP or IKE packet with valid checksums; the checksum details
 * are covered in test_packet.c. */
static size_t mkpkt(uint8_t *p, bool esp, uint32_t src, uint32_t dst,
		    uint32_t spi_or_ispi)
{
	size_t len = esp ? 20 + 16 : 20 + 8 + 28;
	uint32_t s = htonl(src), d = htonl(dst), v = htonl(spi_or_ispi);

	memset(p, 0, len);
	p[0] = 0x45;
	p[2] = (uint8_t)(len >> 8);
	p[3] = (uint8_t)len;
	p[8] = 64;
	p[9] = esp ? 50 : 17;
	memcpy(p + 12, &s, 4);
	memcpy(p + 16, &d, 4);
	if (esp) {
		memcpy(p + 20, &v, 4);
		p[27] = 1;
	} else {
		p[20] = 0x01;	/* 500 */
		p[21] = 0xf4;
		p[22] = 0x01;
		p[23] = 0xf4;
		p[25] = 36;
		memcpy(p + 28 + 4, &v, 4);	/* low half of the ispi */
		p[28 + 17] = 0x20;
		p[28 + 18] = 34;
		p[28 + 27] = 28;
	}
	return len;
}

static enum xlate_result run(struct fx *f, bool esp, uint32_t src,
			     uint32_t dst, uint32_t spi, uint32_t now,
			     uint32_t *new_src, uint32_t *new_dst,
			     struct xlate_out *xo)
{
	uint8_t p[128];
	struct pkt_info pi;
	size_t n = mkpkt(p, esp, src, dst, spi);
	enum xlate_result r;
	uint32_t a;

	assert_int_equal(pkt_parse(p, n, &pi), PKT_OK);
	r = xlate_packet(&f->x, p, &pi, false, now, now * 1000u, xo);
	memcpy(&a, p + 12, 4);
	*new_src = ntohl(a);
	memcpy(&a, p + 16, 4);
	*new_dst = ntohl(a);
	return r;
}

/* one client per alias and server: no sharing */
static const char *const basic[] = {
	"inside 192.0.2.0/24",
	"alias 203.0.113.11-203.0.113.13",
	"pin 192.0.2.20 203.0.113.20",
	"server 203.0.113.100/31",
	"alias-clients 1",
	NULL,
};

static void test_alias_per_client_per_server(void **state)
{
	struct fx *f = setup_cfg(basic, 64);
	struct xlate_out xo;
	uint32_t s, d, alias[3], i, j;

	(void)state;
	for (i = 0; i < 3; i++) {
		assert_int_equal(run(f, false, CL(1 + i), EX(100), 0x100 + i,
				     10, &s, &d, &xo), XL_OUT);
		assert_true(xo.created);
		assert_int_equal(d, EX(100));
		assert_true(s >= EX(11) && s <= EX(13));
		alias[i] = s;
		for (j = 0; j < i; j++)
			assert_int_not_equal(alias[i], alias[j]);
	}
	/* each client keeps its alias for IKE and ESP */
	for (i = 0; i < 3; i++) {
		assert_int_equal(run(f, true, CL(1 + i), EX(100), 0x1000 + i,
				     11, &s, &d, &xo), XL_OUT);
		assert_false(xo.created);
		assert_int_equal(s, alias[i]);
	}
	/* a fourth client toward the same server: none free */
	assert_int_equal(run(f, false, CL(4), EX(100), 0x104, 12, &s, &d, &xo),
			 XL_DROP_NO_ALIAS);
	assert_int_equal(s, CL(4));	/* untouched */
	/* but toward another server the aliases serve again */
	assert_int_equal(run(f, false, CL(4), EX(101), 0x105, 12, &s, &d, &xo),
			 XL_OUT);
	assert_true(s >= EX(11) && s <= EX(13));
	teardown_fx(f);
}

static void test_return_path(void **state)
{
	struct fx *f = setup_cfg(basic, 64);
	struct xlate_out xo;
	uint32_t s, d, a1, a2;

	(void)state;
	run(f, true, CL(1), EX(100), 0x1001, 10, &a1, &d, &xo);
	run(f, true, CL(2), EX(100), 0x1002, 10, &a2, &d, &xo);
	assert_int_equal(run(f, true, EX(100), a1, 0x2001, 11, &s, &d, &xo),
			 XL_IN);
	assert_int_equal(d, CL(1));
	assert_int_equal(s, EX(100));
	assert_int_equal(run(f, false, EX(100), a2, 0x77, 11, &s, &d, &xo),
			 XL_IN);
	assert_int_equal(d, CL(2));
	/* the same alias from a server it has no session with */
	assert_int_equal(run(f, true, EX(101), a1, 0x2001, 11, &s, &d, &xo),
			 XL_DROP_UNKNOWN);
	assert_int_equal(d, a1);
	/* an unused alias */
	assert_int_equal(run(f, true, EX(100), EX(13) == a1 || EX(13) == a2 ?
			     EX(11) + EX(12) + EX(13) - a1 - a2 : EX(13),
			     0x2001, 11, &s, &d, &xo), XL_DROP_UNKNOWN);
	/* nothing was created by the unknown inbound packets */
	{
		struct session_counters c;

		session_counters(f->t, &c);
		assert_int_equal(c.active, 2);
	}
	teardown_fx(f);
}

static void test_pins_and_not_ours(void **state)
{
	struct fx *f = setup_cfg(basic, 64);
	struct xlate_out xo;
	uint32_t s, d, i;

	(void)state;
	for (i = 0; i < 2; i++) {
		assert_int_equal(run(f, true, CL(20), EX(100 + i), 0x1020, 10,
				     &s, &d, &xo), XL_OUT);
		assert_int_equal(s, EX(20));
	}
	assert_int_equal(run(f, true, EX(101), EX(20), 0x2020, 10, &s, &d, &xo),
			 XL_IN);
	assert_int_equal(d, CL(20));
	/* the pinned alias is never handed to anyone else */
	for (i = 1; i <= 3; i++)
		assert_int_equal(run(f, true, CL(i), EX(100), 0x1000 + i, 10,
				     &s, &d, &xo), XL_OUT);
	assert_int_equal(run(f, true, CL(4), EX(100), 0x1004, 10, &s, &d, &xo),
			 XL_DROP_NO_ALIAS);
	/* a server that is not configured, a client not inside */
	assert_int_equal(run(f, true, CL(1), EX(102), 0x1001, 10, &s, &d, &xo),
			 XL_DROP_NOT_OURS);
	assert_int_equal(run(f, true, IP(198, 51, 100, 1), EX(100), 0x1001, 10,
			     &s, &d, &xo), XL_DROP_NOT_OURS);
	teardown_fx(f);
}

static void test_expiry_frees_alias(void **state)
{
	struct fx *f = setup_cfg(basic, 64);
	struct xlate_out xo;
	uint32_t s, d, a4;

	(void)state;
	run(f, true, CL(1), EX(100), 0x1001, 10, &s, &d, &xo);
	run(f, true, CL(2), EX(100), 0x1002, 10, &s, &d, &xo);
	run(f, true, CL(3), EX(100), 0x1003, 10, &s, &d, &xo);
	assert_int_equal(run(f, true, CL(4), EX(100), 0x1004, 11, &s, &d, &xo),
			 XL_DROP_NO_ALIAS);
	/* client 1 got replies and is kept; 2 and 3 only sent: pending */
	run(f, true, CL(1), EX(100), 0x1001, 20, &s, &d, &xo);
	run(f, true, EX(100), s, 0x2001, 20, &s, &d, &xo);
	assert_int_equal(session_expire(f->t, 10 + f->cfg.timeout_pending), 2);
	assert_int_equal(run(f, true, CL(4), EX(100), 0x1004, 50, &a4, &d, &xo),
			 XL_OUT);
	assert_true(a4 >= EX(11) && a4 <= EX(13));
	/* client 1 still has its own */
	assert_int_equal(run(f, true, CL(1), EX(100), 0x1001, 51, &s, &d, &xo),
			 XL_OUT);
	assert_int_not_equal(s, a4);
	teardown_fx(f);
}

/* A dead client: the server keeps sending to its alias, but only packets
 * from the client keep the session, so the alias is freed on time. */
static void test_replies_do_not_hold_alias(void **state)
{
	struct fx *f = setup_cfg(basic, 64);
	struct xlate_out xo;
	uint32_t s, d, a1, t;

	(void)state;
	run(f, false, CL(1), EX(100), 0x1001, 10, &a1, &d, &xo);
	run(f, false, EX(100), a1, 0x1001, 11, &s, &d, &xo);	/* reply */
	for (t = 12; t < 12 + f->cfg.timeout_ike; t += 60)
		assert_int_equal(run(f, false, EX(100), a1, 0x1001, t, &s, &d,
				     &xo), XL_IN);
	/* the life the first reply gave it, no more */
	assert_int_equal(session_expire(f->t, 11 + f->cfg.timeout_ike - 1), 0);
	assert_int_equal(session_expire(f->t, 11 + f->cfg.timeout_ike), 1);
	assert_int_equal(run(f, false, EX(100), a1, 0x1001, t, &s, &d, &xo),
			 XL_DROP_UNKNOWN);
	teardown_fx(f);
}

/* ICMP error @type/@code from @from to @to quoting the IKE or ESP
 * packet @qsrc -> @qdst (8 bytes of its L4 header at least). */
static enum xlate_result run_icmp(struct fx *f, uint32_t from, uint32_t to,
				  bool esp, bool tcp, uint32_t qsrc,
				  uint32_t qdst, uint32_t now, uint8_t *p,
				  struct xlate_out *xo)
{
	uint32_t s = htonl(from), d = htonl(to);
	struct pkt_info pi;
	size_t q = mkpkt(p + 28, esp, qsrc, qdst, 0x4242), len = 28 + q;

	if (tcp)
		p[28 + 9] = 6;
	memset(p, 0, 28);
	p[0] = 0x45;
	p[2] = (uint8_t)(len >> 8);
	p[3] = (uint8_t)len;
	p[8] = 64;
	p[9] = 1;
	memcpy(p + 12, &s, 4);
	memcpy(p + 16, &d, 4);
	p[20] = 3;
	p[21] = 4;
	assert_int_equal(pkt_parse(p, len, &pi), PKT_OK);
	assert_int_equal(pi.kind, PKT_ICMP_ERR);
	return xlate_packet(&f->x, p, &pi, false, now, now * 1000u, xo);
}

static uint32_t at(const uint8_t *p, size_t off)
{
	uint32_t a;

	memcpy(&a, p + off, 4);
	return ntohl(a);
}

static void test_icmp_errors(void **state)
{
	struct fx *f = setup_cfg(basic, 64);
	struct xlate_out xo;
	uint32_t s, d, a1, a2;
	uint8_t p[256];

	(void)state;
	run(f, false, CL(1), EX(100), 0x1001, 10, &a1, &d, &xo);
	run(f, true, CL(2), EX(100), 0x2001, 10, &a2, &d, &xo);
	run(f, false, EX(100), a1, 0x1001, 11, &s, &d, &xo);

	/* from a router on the path, about client 1's IKE: to client 1,
	 * quoting client 1 */
	assert_int_equal(run_icmp(f, EX(2), a1, false, false, a1, EX(100), 12,
				  p, &xo), XL_IN);
	assert_int_equal(xo.client, CL(1));
	assert_int_equal(at(p, 16), CL(1));
	assert_int_equal(at(p, 28 + 12), CL(1));
	assert_int_equal(at(p, 28 + 16), EX(100));
	assert_int_equal(at(p, 12), EX(2));
	/* about client 2's raw ESP: to client 2 */
	assert_int_equal(run_icmp(f, EX(100), a2, true, false, a2, EX(100), 12,
				  p, &xo), XL_IN);
	assert_int_equal(at(p, 16), CL(2));
	assert_int_equal(at(p, 28 + 12), CL(2));
	/* about a flow from an alias to a server nobody uses: dropped */
	assert_int_equal(run_icmp(f, EX(2), a1, false, false, a1, EX(101), 12,
				  p, &xo), XL_DROP_UNKNOWN);
	assert_int_equal(at(p, 16), a1);
	/* about something not IPsec, or not from the alias: left alone */
	assert_int_equal(run_icmp(f, EX(2), a1, false, true, a1, EX(100), 12,
				  p, &xo), XL_PASS);
	assert_int_equal(at(p, 16), a1);
	assert_int_equal(run_icmp(f, EX(2), a1, false, false, EX(7), EX(100),
				  12, p, &xo), XL_PASS);

	/* client 1 reports an error about the server's packet: it leaves
	 * from the alias, quoting the alias */
	assert_int_equal(run_icmp(f, CL(1), EX(100), false, false, EX(100),
				  CL(1), 12, p, &xo), XL_OUT);
	assert_int_equal(at(p, 12), a1);
	assert_int_equal(at(p, 28 + 16), a1);
	assert_int_equal(at(p, 28 + 12), EX(100));
	/* a client without a session there: not let out with its inside
	 * address */
	assert_int_equal(run_icmp(f, CL(3), EX(100), false, false, EX(100),
				  CL(3), 12, p, &xo), XL_DROP_UNKNOWN);
	assert_int_equal(run_icmp(f, CL(1), EX(100), false, true, EX(100),
				  CL(1), 12, p, &xo), XL_PASS);
	/* this router could not deliver the server's packet to client 1:
	 * its error keeps its own source but quotes the alias */
	assert_int_equal(run_icmp(f, EX(1), EX(100), false, false, EX(100),
				  CL(1), 12, p, &xo), XL_OUT);
	assert_int_equal(at(p, 12), EX(1));
	assert_int_equal(at(p, 28 + 16), a1);
	/* a client reporting on another client's flow: never let out */
	assert_int_equal(run_icmp(f, CL(2), EX(100), false, false, EX(100),
				  CL(1), 12, p, &xo), XL_DROP_NOT_OURS);
	assert_int_equal(at(p, 28 + 16), CL(1));
	/* to a host that is not a server: not ours */
	assert_int_equal(run_icmp(f, CL(1), EX(50), false, false, EX(50),
				  CL(1), 12, p, &xo), XL_DROP_NOT_OURS);
	/* errors create nothing and keep nothing alive: client 2 never
	 * got a reply, so it goes after `pending` however many errors */
	assert_int_equal(session_expire(f->t, 10 + f->cfg.timeout_pending), 1);
	assert_int_equal(run_icmp(f, EX(100), a2, true, false, a2, EX(100), 50,
				  p, &xo), XL_DROP_UNKNOWN);
	teardown_fx(f);
}

/* NAT-T packet @src:@sport -> @dst:@dport, with a valid UDP checksum:
 * IKE (non-ESP marker, IKEv2 @exch request, initiator SPI @id) or ESP in
 * UDP (SPI @id). */
static size_t natt(uint8_t *p, uint32_t src, uint16_t sport, uint32_t dst,
		   uint16_t dport, bool ike_msg, uint8_t exch, uint32_t id)
{
	size_t len = ike_msg ? 20 + 8 + 4 + 28 : 20 + 8 + 16;
	uint32_t s = htonl(src), d = htonl(dst), v = htonl(id);
	uint16_t sum;

	memset(p, 0, len);
	p[0] = 0x45;
	p[3] = (uint8_t)len;
	p[8] = 64;
	p[9] = 17;
	memcpy(p + 12, &s, 4);
	memcpy(p + 16, &d, 4);
	p[20] = (uint8_t)(sport >> 8);
	p[21] = (uint8_t)sport;
	p[22] = (uint8_t)(dport >> 8);
	p[23] = (uint8_t)dport;
	p[25] = (uint8_t)(len - 20);
	if (ike_msg) {
		memcpy(p + 32 + 4, &v, 4);	/* after the zero marker */
		p[32 + 17] = 0x20;
		p[32 + 18] = exch;
		p[32 + 19] = 0x08;
		p[32 + 27] = 28;
	} else {
		memcpy(p + 28, &v, 4);
		p[35] = 1;
	}
	sum = csum_udp4(s, d, p + 20, len - 20);
	memcpy(p + 26, &sum, 2);
	return len;
}

/* The UDP checksum of @p verifies from scratch. */
static bool udp_ok(const uint8_t *p, size_t len)
{
	uint32_t s, d;
	uint16_t have;

	memcpy(&s, p + 12, 4);
	memcpy(&d, p + 16, 4);
	memcpy(&have, p + 26, 2);
	return have == csum_udp4(s, d, p + 20, len - 20);
}

static enum xlate_result run_natt(struct fx *f, uint8_t *p, size_t len,
				  uint32_t now_ms, struct xlate_out *xo)
{
	struct pkt_info pi;

	assert_int_equal(pkt_parse(p, len, &pi), PKT_OK);
	return xlate_packet(&f->x, p, &pi, false, now_ms / 1000, now_ms, xo);
}

static uint16_t port_at(const uint8_t *p, size_t off)
{
	return (uint16_t)(p[off] << 8 | p[off + 1]);
}

static const char *const natt_cfg[] = {
	"inside 192.0.2.0/24",
	"alias 203.0.113.11",
	"server 203.0.113.100",
	"alias-clients unlimited",
	"natt-ports 40000-40001",
	NULL,
};

/* natt-ports: on a shared alias each client's NAT-T flow shows the server
 * a port of its own, so replies, new SPIs and negotiations need no SPI
 * guessing and no gate; a full range refuses the next client, counted. */
static void test_natt_ports(void **state)
{
	struct fx *f = setup_cfg(natt_cfg, 64);
	struct session_counters sc;
	struct xlate_out xo;
	uint8_t p[128], q[128];
	uint16_t x2, x3;
	uint32_t t = 50000;
	size_t n;

	(void)state;
	/* the first client keeps 4500, checksum still right */
	n = natt(p, CL(1), 4500, EX(100), 4500, true, 34, 0x11);
	assert_int_equal(run_natt(f, p, n, t, &xo), XL_OUT);
	assert_int_equal(port_at(p, 20), 4500);
	assert_int_equal(at(p, 12), EX(11));
	assert_true(udp_ok(p, n));
	/* the next ones get ports of their own from the range */
	n = natt(p, CL(2), 4500, EX(100), 4500, true, 34, 0x22);
	assert_int_equal(run_natt(f, p, n, t, &xo), XL_OUT);
	x2 = port_at(p, 20);
	assert_true(x2 == 40000 || x2 == 40001);
	assert_true(udp_ok(p, n));
	n = natt(p, CL(3), 4500, EX(100), 4500, true, 34, 0x33);
	assert_int_equal(run_natt(f, p, n, t, &xo), XL_OUT);
	x3 = port_at(p, 20);
	assert_true(x3 == 40000 || x3 == 40001);
	assert_true(x3 != x2);
	/* and keep them */
	n = natt(p, CL(2), 4500, EX(100), 4500, false, 0, 0x1002);
	assert_int_equal(run_natt(f, p, n, t, &xo), XL_OUT);
	assert_int_equal(port_at(p, 20), x2);
	/* the range is used up: a fourth client is refused, not given a
	 * port that another client shows */
	n = natt(p, CL(4), 4500, EX(100), 4500, true, 34, 0x44);
	assert_int_equal(run_natt(f, p, n, t, &xo), XL_DROP_NO_PORT);
	assert_int_equal(at(p, 12), CL(4));

	/* all three negotiate at once: no gate between their own ports */
	n = natt(p, CL(1), 4500, EX(100), 4500, true, 35, 0x11);
	assert_int_equal(run_natt(f, p, n, t + 1, &xo), XL_OUT);
	n = natt(p, CL(2), 4500, EX(100), 4500, true, 35, 0x22);
	assert_int_equal(run_natt(f, p, n, t + 2, &xo), XL_OUT);
	n = natt(p, CL(3), 4500, EX(100), 4500, true, 36, 0x33);
	assert_int_equal(run_natt(f, p, n, t + 3, &xo), XL_OUT);
	/* all three use new SAs; the new inbound SPIs go by port, each to
	 * its client, with the client's port back in place */
	n = natt(p, CL(1), 4500, EX(100), 4500, false, 0, 0x1001);
	assert_int_equal(run_natt(f, p, n, t + 4, &xo), XL_OUT);
	n = natt(p, CL(3), 4500, EX(100), 4500, false, 0, 0x1003);
	assert_int_equal(run_natt(f, p, n, t + 4, &xo), XL_OUT);
	n = natt(p, EX(100), 4500, EX(11), x3, false, 0, 0xa003);
	assert_int_equal(run_natt(f, p, n, t + 5, &xo), XL_IN);
	assert_int_equal(at(p, 16), CL(3));
	assert_int_equal(port_at(p, 22), 4500);
	assert_true(udp_ok(p, n));
	n = natt(p, EX(100), 4500, EX(11), x2, false, 0, 0xa002);
	assert_int_equal(run_natt(f, p, n, t + 6, &xo), XL_IN);
	assert_int_equal(at(p, 16), CL(2));
	n = natt(p, EX(100), 4500, EX(11), 4500, false, 0, 0xa001);
	assert_int_equal(run_natt(f, p, n, t + 7, &xo), XL_IN);
	assert_int_equal(at(p, 16), CL(1));
	/* a new IKE SA the server starts toward one of them */
	n = natt(p, EX(100), 4500, EX(11), x2, true, 34, 0x99);
	assert_int_equal(run_natt(f, p, n, t + 8, &xo), XL_IN);
	assert_int_equal(at(p, 16), CL(2));
	/* a port nobody shows: nobody's, even with a known SPI */
	n = natt(p, EX(100), 4500, EX(11), 40002, false, 0, 0xa001);
	assert_int_equal(run_natt(f, p, n, t + 9, &xo), XL_DROP_UNKNOWN);
	assert_int_equal(at(p, 16), EX(11));

	/* an ICMP error about client 3's packet reaches client 3, quoting
	 * its own port, with the ICMP checksum still verifying */
	n = natt(q + 28, EX(11), x3, EX(100), 4500, false, 0, 0x1003);
	{
		uint32_t fr = htonl(EX(65)), to = htonl(EX(11));
		struct pkt_info pi;
		size_t len = 28 + n;
		uint16_t ck;

		memset(q, 0, 28);
		q[0] = 0x45;
		q[3] = (uint8_t)len;
		q[8] = 64;
		q[9] = 1;
		memcpy(q + 12, &fr, 4);
		memcpy(q + 16, &to, 4);
		q[20] = 3;
		q[21] = 4;
		ck = csum_ip_verify(q + 20, len - 20);
		memcpy(q + 22, &ck, 2);
		assert_int_equal(pkt_parse(q, len, &pi), PKT_OK);
		assert_int_equal(xlate_packet(&f->x, q, &pi, false, t / 1000,
					      t + 10, &xo), XL_IN);
		assert_int_equal(at(q, 16), CL(3));
		assert_int_equal(port_at(q, 48), 4500);
		assert_int_equal(at(q, 28 + 12), CL(3));
		assert_int_equal(csum_ip_verify(q + 20, len - 20), 0);
	}

	session_counters(f->t, &sc);
	assert_int_equal(sc.gate_holds, 0);
	assert_int_equal(sc.spi_ambiguous, 0);
	teardown_fx(f);
}

/* Several clients on one alias toward one server. */
static const char *const shared_cfg[] = {
	"inside 192.0.2.0/24",
	"alias 203.0.113.11",
	"server 203.0.113.100/31",
	"alias-clients 8",
	"gate-hold 2000",
	NULL,
};

static uint32_t ike_msgid;
static bool ike_rtx;

/* IKEv2 message: @exch, header @flags, SPIs @ispi/@rspi. */
static enum xlate_result ike_f(struct fx *f, uint32_t src, uint32_t dst,
			       uint64_t ispi, uint64_t rspi, uint8_t exch,
			       uint8_t flags, uint32_t now_ms,
			       uint32_t *new_dst)
{
	uint8_t p[128];
	struct pkt_info pi;
	struct xlate_out xo;
	size_t n = mkpkt(p, false, src, dst, 0);
	enum xlate_result r;
	int i;

	for (i = 0; i < 8; i++) {
		p[28 + i] = (uint8_t)(ispi >> (56 - 8 * i));
		p[36 + i] = (uint8_t)(rspi >> (56 - 8 * i));
	}
	p[28 + 18] = exch;
	p[28 + 19] = flags;
	/* each request its own message ID (a retransmission is asked
	 * about with ike_rtx) */
	if (!(flags & IKE2_FLAG_RESPONSE) && !ike_rtx)
		ike_msgid++;
	for (i = 0; i < 4; i++)
		p[28 + 20 + i] = (uint8_t)(ike_msgid >> (24 - 8 * i));
	assert_int_equal(pkt_parse(p, n, &pi), PKT_OK);
	r = xlate_packet(&f->x, p, &pi, false, now_ms / 1000, now_ms, &xo);
	*new_dst = at(p, 16);
	return r;
}

/* ...a request or a response on an IKE SA the client started: the
 * initiator flag is set on the client's messages */
static enum xlate_result ike(struct fx *f, uint32_t src, uint32_t dst,
			     uint64_t ispi, uint64_t rspi, uint8_t exch,
			     bool resp, uint32_t now_ms, uint32_t *new_dst)
{
	uint8_t flags = (uint8_t)((resp ? IKE2_FLAG_RESPONSE : 0) |
				  ((src >> 8) == (CL(0) >> 8) ?
				   IKE2_FLAG_INITIATOR : 0));

	return ike_f(f, src, dst, ispi, rspi, exch, flags, now_ms, new_dst);
}

static enum xlate_result esp_at(struct fx *f, uint32_t src, uint32_t dst,
				uint32_t spi, uint32_t now_ms, uint32_t *new_dst,
				bool *learned)
{
	uint8_t p[128];
	struct pkt_info pi;
	struct xlate_out xo;
	size_t n = mkpkt(p, true, src, dst, spi);
	enum xlate_result r;

	assert_int_equal(pkt_parse(p, n, &pi), PKT_OK);
	r = xlate_packet(&f->x, p, &pi, false, now_ms / 1000, now_ms, &xo);
	*new_dst = at(p, 16);
	*learned = xo.spi_learned;
	return r;
}

#define A EX(11)
#define SRV EX(100)

static void test_shared_alias_gate(void **state)
{
	struct fx *f = setup_cfg(shared_cfg, 64);
	struct session_counters sc;
	uint32_t d, t = 10000;
	bool l;

	(void)state;
	/* two clients start IKE at once: both on the one alias */
	assert_int_equal(ike(f, CL(1), SRV, 0x11, 0, 34, false, t, &d), XL_OUT);
	assert_int_equal(ike(f, CL(2), SRV, 0x22, 0, 34, false, t, &d), XL_OUT);
	/* IKE replies go by the initiator SPI */
	assert_int_equal(ike(f, SRV, A, 0x22, 0x92, 34, true, t, &d), XL_IN);
	assert_int_equal(d, CL(2));
	assert_int_equal(ike(f, SRV, A, 0x11, 0x91, 34, true, t, &d), XL_IN);
	assert_int_equal(d, CL(1));
	/* an IKE SA nobody started, with no negotiation under way */
	assert_int_equal(ike(f, SRV, A, 0x99, 0, 34, false, t, &d),
			 XL_DROP_AMBIGUOUS);
	assert_int_equal(d, A);

	/* client 1 negotiates its CHILD SA: it holds the gate, client 2
	 * waits (its request is refused; its peer sends it again) */
	assert_int_equal(ike(f, CL(1), SRV, 0x11, 0x91, 35, false, t, &d),
			 XL_OUT);
	assert_int_equal(ike(f, CL(2), SRV, 0x22, 0x92, 35, false, t + 10, &d),
			 XL_DROP_GATE);
	assert_int_equal(ike(f, SRV, A, 0x11, 0x91, 35, true, t + 20, &d),
			 XL_IN);
	assert_int_equal(esp_at(f, CL(1), SRV, 0x1001, t + 30, &d, &l),
			 XL_OUT);
	/* the first unknown inbound SPI is the gate holder's */
	assert_int_equal(esp_at(f, SRV, A, 0xa001, t + 40, &d, &l), XL_IN);
	assert_int_equal(d, CL(1));
	assert_true(l);
	/* the gate is free: client 2's retransmission passes */
	assert_int_equal(ike(f, CL(2), SRV, 0x22, 0x92, 35, false, t + 50, &d),
			 XL_OUT);
	assert_int_equal(esp_at(f, SRV, A, 0xa001, t + 60, &d, &l), XL_IN);
	assert_int_equal(d, CL(1));
	assert_false(l);
	assert_int_equal(esp_at(f, SRV, A, 0xa002, t + 70, &d, &l), XL_IN);
	assert_int_equal(d, CL(2));
	assert_true(l);

	/* client 2 rekeys; client 1's rekey and the server's rekey of
	 * client 1 wait for the gate */
	t += 1000;
	assert_int_equal(ike(f, CL(2), SRV, 0x22, 0x92, 36, false, t, &d),
			 XL_OUT);
	assert_int_equal(ike(f, CL(1), SRV, 0x11, 0x91, 36, false, t, &d),
			 XL_DROP_GATE);
	assert_int_equal(ike(f, SRV, A, 0x11, 0x91, 36, false, t, &d),
			 XL_DROP_GATE);
	assert_int_equal(d, A);
	/* ...until the hold runs out: client 2 never used a new SA (an
	 * IKE rekey, say), so it waits for nothing */
	t += 2001;
	assert_int_equal(ike(f, SRV, A, 0x11, 0x91, 36, false, t, &d), XL_IN);
	assert_int_equal(d, CL(1));
	assert_int_equal(esp_at(f, CL(1), SRV, 0x1003, t + 10, &d, &l), XL_OUT);
	assert_int_equal(esp_at(f, SRV, A, 0xa003, t + 20, &d, &l), XL_IN);
	assert_int_equal(d, CL(1));
	assert_true(l);
	/* an IKE SA the server speaks first on, established (both SPIs)
	 * but new to the table: made by a CREATE_CHILD_SA exchange that
	 * made no CHILD SA.  Client 2's rekey above made none, and client
	 * 1 now rekeys: two candidates, dropped */
	t += 3000;
	assert_int_equal(ike(f, CL(1), SRV, 0x11, 0x91, 36, false, t, &d),
			 XL_OUT);
	assert_int_equal(ike(f, SRV, A, 0x77, 0x17, 37, false, t + 5, &d),
			 XL_DROP_AMBIGUOUS);
	assert_int_equal(d, A);
	/* client 2 speaks first on its new IKE SA: client 1 is left */
	assert_int_equal(ike(f, CL(2), SRV, 0x2b, 0x9b, 37, false, t + 6, &d),
			 XL_OUT);
	assert_int_equal(ike(f, SRV, A, 0x77, 0x17, 37, false, t + 7, &d),
			 XL_IN);
	assert_int_equal(d, CL(1));
	assert_int_equal(ike(f, SRV, A, 0x77, 0x17, 37, true, t + 8, &d),
			 XL_IN);
	assert_int_equal(d, CL(1));
	assert_int_equal(ike(f, SRV, A, 0x2b, 0x9b, 37, true, t + 9, &d),
			 XL_IN);
	assert_int_equal(d, CL(2));
	/* a new IKE SA the server opens (no responder SPI): anyone's,
	 * even with client 1 holding the gate */
	assert_int_equal(ike(f, SRV, A, 0x88, 0, 34, false, t + 9, &d),
			 XL_DROP_AMBIGUOUS);

	/* a hold that ran out while its client used a new SA: that client
	 * waits on only until another takes the gate, which ends its wait;
	 * the newcomer is then the one waiter, and a reply to the first
	 * that comes later still is nobody's (dropped, never guessed) */
	assert_int_equal(esp_at(f, CL(1), SRV, 0x1004, t + 10, &d, &l), XL_OUT);
	t += 2100;
	assert_int_equal(ike(f, CL(2), SRV, 0x22, 0x92, 36, false, t, &d),
			 XL_OUT);
	assert_int_equal(esp_at(f, CL(2), SRV, 0x2004, t + 10, &d, &l), XL_OUT);
	assert_int_equal(esp_at(f, SRV, A, 0xa004, t + 20, &d, &l), XL_IN);
	assert_int_equal(d, CL(2));
	assert_true(l);
	assert_int_equal(esp_at(f, SRV, A, 0xa014, t + 25, &d, &l),
			 XL_DROP_UNKNOWN);
	assert_int_equal(d, A);
	/* known SPIs keep flowing meanwhile */
	assert_int_equal(esp_at(f, SRV, A, 0xa002, t + 30, &d, &l), XL_IN);
	assert_int_equal(d, CL(2));
	/* nobody waits any more: unknown, dropped */
	t += 31000;
	assert_int_equal(esp_at(f, SRV, A, 0xa005, t, &d, &l), XL_DROP_UNKNOWN);

	session_counters(f->t, &sc);
	/* waits are the worker's to count, once per packet it holds, not
	 * at each decision */
	assert_int_equal(sc.gate_deferred, 0);
	assert_true(sc.gate_timeouts >= 2);
	/* holds released by an SPI: 40, 20, 20 and 20 ms */
	assert_int_equal(sc.gate_held_ms_max, 40);
	assert_int_equal(sc.gate_held_ms_total, 100);
	assert_int_equal(sc.spi_assigned, 4);
	assert_int_equal(sc.spi_ambiguous, 0);
	assert_int_equal(sc.spi_unknown, 2);
	assert_int_equal(sc.spi_wait_cancelled, 1);
	assert_int_equal(sc.ike_assigned, 1);
	teardown_fx(f);
}

/*
 * Tunnels that come up idle, then carry traffic: the first packet of each
 * new SA goes through the gate too, so that when several clients start
 * using new SAs at once, each unknown inbound SPI has one candidate.
 */
static void test_shared_first_use_gate(void **state)
{
	struct fx *f = setup_cfg(shared_cfg, 64);
	struct session_counters sc;
	uint32_t d, t = 10000;
	bool l;

	(void)state;
	/* both negotiate their first CHILD SA, one after the other, and
	 * send nothing for longer than the hold */
	assert_int_equal(ike(f, CL(1), SRV, 0x11, 0, 34, false, t, &d), XL_OUT);
	assert_int_equal(ike(f, CL(2), SRV, 0x22, 0, 34, false, t, &d), XL_OUT);
	assert_int_equal(ike(f, CL(1), SRV, 0x11, 0x91, 35, false, t, &d),
			 XL_OUT);
	assert_int_equal(ike(f, SRV, A, 0x11, 0x91, 35, true, t + 5, &d), XL_IN);
	t += 2001;
	assert_int_equal(ike(f, CL(2), SRV, 0x22, 0x92, 35, false, t, &d),
			 XL_OUT);
	assert_int_equal(ike(f, SRV, A, 0x22, 0x92, 35, true, t + 5, &d), XL_IN);
	t += 2001;
	/* then traffic starts on both at once: client 2's first packet
	 * waits while client 1's new SA is in first use */
	assert_int_equal(esp_at(f, CL(1), SRV, 0x1001, t, &d, &l), XL_OUT);
	assert_int_equal(esp_at(f, CL(2), SRV, 0x2001, t + 1, &d, &l),
			 XL_DROP_GATE);
	assert_int_equal(esp_at(f, SRV, A, 0xa001, t + 8, &d, &l), XL_IN);
	assert_int_equal(d, CL(1));
	assert_true(l);
	/* client 1's reply freed the gate: client 2's packet goes on */
	assert_int_equal(esp_at(f, CL(2), SRV, 0x2001, t + 9, &d, &l), XL_OUT);
	assert_int_equal(esp_at(f, CL(1), SRV, 0x1001, t + 10, &d, &l), XL_OUT);
	assert_int_equal(esp_at(f, SRV, A, 0xa002, t + 12, &d, &l), XL_IN);
	assert_int_equal(d, CL(2));
	assert_true(l);
	assert_int_equal(esp_at(f, SRV, A, 0xa001, t + 13, &d, &l), XL_IN);
	assert_int_equal(d, CL(1));

	/* the server rekeys client 1 and uses the new SA first: the
	 * inbound SPI is client 1's, and client 1's first packet on its new
	 * outbound SA pairs with it, taking no gate; client 2 meanwhile
	 * rekeys without waiting for client 1 */
	t += 1000;
	assert_int_equal(ike(f, SRV, A, 0x11, 0x91, 36, false, t, &d), XL_IN);
	assert_int_equal(d, CL(1));
	assert_int_equal(ike(f, CL(1), SRV, 0x11, 0x91, 36, true, t + 1, &d),
			 XL_OUT);
	assert_int_equal(esp_at(f, SRV, A, 0xa011, t + 2, &d, &l), XL_IN);
	assert_int_equal(d, CL(1));
	assert_true(l);
	assert_int_equal(esp_at(f, CL(1), SRV, 0x1011, t + 3, &d, &l), XL_OUT);
	assert_int_equal(esp_at(f, CL(2), SRV, 0x2011, t + 4, &d, &l), XL_OUT);
	assert_int_equal(esp_at(f, SRV, A, 0xa012, t + 6, &d, &l), XL_IN);
	assert_int_equal(d, CL(2));
	assert_true(l);

	/* a new SA whose reply never comes holds the gate no longer than
	 * the hold: the next client goes on, ending the first one's wait */
	t += 1000;
	assert_int_equal(esp_at(f, CL(1), SRV, 0x1021, t, &d, &l), XL_OUT);
	assert_int_equal(esp_at(f, CL(2), SRV, 0x2021, t + 1999, &d, &l),
			 XL_DROP_GATE);
	assert_int_equal(esp_at(f, CL(2), SRV, 0x2021, t + 2001, &d, &l),
			 XL_OUT);
	assert_int_equal(esp_at(f, SRV, A, 0xa022, t + 2005, &d, &l), XL_IN);
	assert_int_equal(d, CL(2));
	assert_int_equal(esp_at(f, SRV, A, 0xa021, t + 2010, &d, &l),
			 XL_DROP_UNKNOWN);

	session_counters(f->t, &sc);
	assert_int_equal(sc.spi_assigned, 5);
	assert_int_equal(sc.spi_ambiguous, 0);
	assert_int_equal(sc.spi_unknown, 1);
	assert_int_equal(sc.spi_wait_cancelled, 1);
	teardown_fx(f);
}

/* The server rekeys one client's IKE SA on a shared alias and speaks
 * first on the new one a minute later, after others have negotiated. */
static void test_shared_ike_rekey_by_server(void **state)
{
	struct fx *f = setup_cfg(shared_cfg, 64);
	struct session_counters sc;
	uint32_t d, t = 10000;
	bool l;

	(void)state;
	assert_int_equal(ike(f, CL(1), SRV, 0x11, 0, 34, false, t, &d), XL_OUT);
	assert_int_equal(ike(f, CL(2), SRV, 0x22, 0, 34, false, t, &d), XL_OUT);
	assert_int_equal(ike(f, SRV, A, 0x11, 0x91, 34, true, t, &d), XL_IN);
	assert_int_equal(ike(f, SRV, A, 0x22, 0x92, 34, true, t, &d), XL_IN);
	/* the server's CREATE_CHILD_SA: client 1 answers, the old IKE
	 * SA is deleted, and nothing new comes back: an IKE rekey */
	assert_int_equal(ike(f, SRV, A, 0x11, 0x91, 36, false, t + 1, &d),
			 XL_IN);
	assert_int_equal(d, CL(1));
	/* (a retransmission counts once) */
	ike_rtx = true;
	assert_int_equal(ike(f, SRV, A, 0x11, 0x91, 36, false, t + 1, &d),
			 XL_IN);
	ike_rtx = false;
	assert_int_equal(ike(f, CL(1), SRV, 0x11, 0x91, 36, true, t + 2, &d),
			 XL_OUT);
	assert_int_equal(ike(f, SRV, A, 0x11, 0x91, 37, false, t + 3, &d),
			 XL_IN);
	/* client 2 rekeys its CHILD SA after the hold: a new SPI shows
	 * that its exchange made a CHILD SA */
	t += 2500;
	assert_int_equal(ike(f, CL(2), SRV, 0x22, 0x92, 36, false, t, &d),
			 XL_OUT);
	assert_int_equal(ike(f, SRV, A, 0x22, 0x92, 36, true, t + 1, &d),
			 XL_IN);
	assert_int_equal(esp_at(f, CL(2), SRV, 0x2001, t + 2, &d, &l), XL_OUT);
	assert_int_equal(esp_at(f, SRV, A, 0xa002, t + 3, &d, &l), XL_IN);
	assert_int_equal(d, CL(2));
	/* client 2 then rekeys its own IKE SA (no new SPI follows) */
	t += 2500;
	assert_int_equal(ike(f, CL(2), SRV, 0x22, 0x92, 36, false, t, &d),
			 XL_OUT);
	assert_int_equal(ike(f, SRV, A, 0x22, 0x92, 36, true, t + 1, &d),
			 XL_IN);
	/* a minute later the server speaks first on the IKE SA it made
	 * (its initiator flag set), with a CREATE_CHILD_SA while client 2
	 * holds the gate: the only client with an exchange the server
	 * started that made no CHILD SA is client 1, and it still is when
	 * the request goes on */
	t += 60000;
	assert_int_equal(ike(f, CL(2), SRV, 0x22, 0x92, 36, false, t, &d),
			 XL_OUT);
	assert_int_equal(ike_f(f, SRV, A, 0x5a, 0x1a, 36, IKE2_FLAG_INITIATOR,
			       t + 1, &d), XL_DROP_GATE);
	assert_int_equal(ike_f(f, SRV, A, 0x5a, 0x1a, 36, IKE2_FLAG_INITIATOR,
			       t + 2, &d), XL_DROP_GATE);
	assert_int_equal(esp_at(f, CL(2), SRV, 0x2002, t + 3, &d, &l), XL_OUT);
	assert_int_equal(esp_at(f, SRV, A, 0xa003, t + 4, &d, &l), XL_IN);
	assert_int_equal(d, CL(2));
	assert_int_equal(ike_f(f, SRV, A, 0x5a, 0x1a, 36, IKE2_FLAG_INITIATOR,
			       t + 5, &d), XL_IN);
	assert_int_equal(d, CL(1));
	assert_int_equal(ike_f(f, CL(1), SRV, 0x5a, 0x1a, 36,
			       IKE2_FLAG_RESPONSE, t + 6, &d), XL_OUT);
	/* that exchange made a CHILD SA, the server using it first */
	assert_int_equal(esp_at(f, SRV, A, 0xa011, t + 7, &d, &l), XL_IN);
	assert_int_equal(d, CL(1));
	assert_true(l);
	/* learned: another unknown IKE SA the server started now has no
	 * candidate */
	assert_int_equal(ike_f(f, SRV, A, 0x6b, 0x2b, 37, IKE2_FLAG_INITIATOR,
			       t + 2, &d), XL_DROP_UNKNOWN);
	assert_int_equal(ike_f(f, SRV, A, 0x5a, 0x1a, 37, IKE2_FLAG_INITIATOR,
			       t + 3, &d), XL_IN);
	assert_int_equal(d, CL(1));
	/* the server speaks first on the IKE SA client 2 made (its
	 * initiator flag clear): client 2's */
	assert_int_equal(ike(f, SRV, A, 0x2c, 0x9c, 37, false, t + 4, &d),
			 XL_IN);
	assert_int_equal(d, CL(2));
	session_counters(f->t, &sc);
	assert_int_equal(sc.ike_assigned, 2);
	teardown_fx(f);
}

/* The same SPI from two clients toward different servers is no clash:
 * SPIs are looked up per (alias, server). */
static void test_shared_spi_per_server(void **state)
{
	struct fx *f = setup_cfg(shared_cfg, 64);
	uint32_t d, t = 5000;
	bool l;

	(void)state;
	assert_int_equal(esp_at(f, CL(1), SRV, 0x1001, t, &d, &l), XL_OUT);
	assert_int_equal(esp_at(f, CL(2), EX(101), 0x1001, t, &d, &l), XL_OUT);
	assert_int_equal(esp_at(f, SRV, A, 0xb001, t + 1, &d, &l), XL_IN);
	assert_int_equal(d, CL(1));
	assert_int_equal(esp_at(f, EX(101), A, 0xb001, t + 2, &d, &l), XL_IN);
	assert_int_equal(d, CL(2));
	/* each alone toward its server: unknown SPIs are simply its own */
	assert_int_equal(esp_at(f, EX(101), A, 0xb002, t + 3, &d, &l), XL_IN);
	assert_int_equal(d, CL(2));
	teardown_fx(f);
}

static void test_table_full(void **state)
{
	struct fx *f = setup_cfg(basic, 2);
	struct xlate_out xo;
	uint32_t s, d;

	(void)state;
	assert_int_equal(run(f, true, CL(1), EX(100), 1001, 10, &s, &d, &xo),
			 XL_OUT);
	assert_int_equal(run(f, true, CL(2), EX(100), 1002, 10, &s, &d, &xo),
			 XL_OUT);
	assert_int_equal(run(f, true, CL(3), EX(100), 1003, 10, &s, &d, &xo),
			 XL_DROP_FULL);
	assert_int_equal(s, CL(3));
	/* the existing ones keep working */
	assert_int_equal(run(f, true, CL(1), EX(100), 1001, 11, &s, &d, &xo),
			 XL_OUT);
	teardown_fx(f);
}

static void test_marks(void **state)
{
	static const char *const lines[] = {
		"inside 192.0.2.0/24",
		"alias 203.0.113.11-203.0.113.13",
		"mark 0x100/0xff00",
		"mark client 192.0.2.5 0x7/0xf",
		NULL,
	};
	struct fx *f = setup_cfg(lines, 8);
	struct xlate_out xo;
	uint32_t s, d;

	(void)state;
	assert_int_equal(run(f, true, CL(1), EX(100), 1001, 10, &s, &d, &xo),
			 XL_OUT);
	assert_int_equal(xo.mark_value, 0x100);
	assert_int_equal(xo.mark_mask, 0xff00);
	assert_int_equal(run(f, true, EX(100), s, 2001, 10, &s, &d, &xo),
			 XL_IN);
	assert_int_equal(xo.mark_value, 0x100);
	assert_int_equal(run(f, true, CL(5), EX(100), 1005, 10, &s, &d, &xo),
			 XL_OUT);
	assert_int_equal(xo.mark_value, 0x7);
	assert_int_equal(xo.mark_mask, 0xf);
	teardown_fx(f);
}

/* fail-policy bypass: what leaves translated carries bypass-mark on top
 * of its own mark (so the kernel's NAT leaves it alone); what comes in
 * does not need it. */
static void test_bypass_mark(void **state)
{
	static const char *const lines[] = {
		"inside 192.0.2.0/24",
		"alias 203.0.113.11-203.0.113.13",
		"mark 0x100/0xff00",
		"fail-policy bypass",
		"bypass-mark 0x10000/0x30000",
		NULL,
	};
	struct fx *f = setup_cfg(lines, 8);
	struct xlate_out xo;
	uint32_t s, d;

	(void)state;
	assert_int_equal(run(f, true, CL(1), EX(100), 1001, 10, &s, &d, &xo),
			 XL_OUT);
	assert_int_equal(xo.mark_value, 0x10100);
	assert_int_equal(xo.mark_mask, 0x3ff00);
	assert_int_equal(run(f, true, EX(100), s, 2001, 10, &s, &d, &xo),
			 XL_IN);
	assert_int_equal(xo.mark_value, 0x100);
	assert_int_equal(xo.mark_mask, 0xff00);
	teardown_fx(f);
}

static void test_sa_learning(void **state)
{
	struct fx *f = setup_cfg(basic, 8);
	struct session_view *sv;
	struct sa_view *av;
	size_t nsv, nav, i;
	struct xlate_out xo;
	uint32_t s, d, alias;
	unsigned ike = 0, out = 0, in = 0;

	(void)state;
	run(f, false, CL(1), EX(100), 0xaaaa, 10, &alias, &d, &xo);
	run(f, false, EX(100), alias, 0xaaaa, 10, &s, &d, &xo);
	run(f, true, CL(1), EX(100), 0x1001, 11, &s, &d, &xo);
	run(f, true, EX(100), alias, 0x2001, 11, &s, &d, &xo);
	assert_int_equal(session_snapshot(f->t, &sv, &nsv, &av, &nav), 0);
	assert_int_equal(nsv, 1);
	assert_true(sv[0].flags & SESSION_F_REPLIED);
	assert_int_equal(sv[0].pkts_out, 2);
	assert_int_equal(sv[0].pkts_in, 2);
	for (i = 0; i < nav; i++) {
		if (av[i].kind == SA_IKE && av[i].spi_i == 0xaaaa) {
			assert_int_equal(av[i].pkts, 2);
			ike++;
		}
		if (av[i].kind == SA_ESP_OUT && av[i].spi_i == 0x1001)
			out++;
		if (av[i].kind == SA_ESP_IN && av[i].spi_i == 0x2001)
			in++;
	}
	assert_int_equal(ike, 1);
	assert_int_equal(out, 1);
	assert_int_equal(in, 1);
	free(sv);
	free(av);
	teardown_fx(f);
}

/* max-sessions-per-client: a client with that many servers gets no
 * session toward one more (refused, counted), others still do, and a
 * session gone makes room again. */
static void test_client_limit(void **state)
{
	static const char *const lines[] = {
		"inside 192.0.2.0/24",
		"alias 203.0.113.11-203.0.113.13",
		"max-sessions-per-client 2",
		NULL,
	};
	struct fx *f = setup_cfg(lines, 16);
	struct session_counters sc;
	struct xlate_out xo;
	uint32_t s, d;

	(void)state;
	assert_int_equal(run(f, true, CL(1), EX(100), 0x101, 10, &s, &d, &xo),
			 XL_OUT);
	assert_int_equal(run(f, true, CL(1), EX(101), 0x102, 10, &s, &d, &xo),
			 XL_OUT);
	assert_int_equal(run(f, true, CL(1), EX(102), 0x103, 10, &s, &d, &xo),
			 XL_DROP_CLIENT_LIMIT);
	assert_int_equal(s, CL(1));	/* untouched */
	/* its existing sessions and other clients go on */
	assert_int_equal(run(f, true, CL(1), EX(101), 0x102, 11, &s, &d, &xo),
			 XL_OUT);
	assert_int_equal(run(f, true, CL(2), EX(102), 0x104, 11, &s, &d, &xo),
			 XL_OUT);
	session_counters(f->t, &sc);
	assert_int_equal(sc.refused_client, 1);
	assert_int_equal(sc.active, 3);
	/* the pending sessions expire (no reply came): room again */
	assert_true(session_expire(f->t, 10 + f->cfg.timeout_pending + 5) >= 2);
	assert_int_equal(run(f, true, CL(1), EX(102), 0x103, 60, &s, &d, &xo),
			 XL_OUT);
	teardown_fx(f);
}

/* Packets of SAs already known (the fast path) count on their session and
 * SA as the first ones did; a packet that reuses another client's SPI, or
 * that is on no session's alias, is not taken for that SA. */
static void test_known_sa_packets(void **state)
{
	struct fx *f = setup_cfg(basic, 8);
	struct session_view *sv;
	struct sa_view *av;
	size_t nsv, nav, i;
	struct xlate_out xo;
	uint32_t s, d, a1, a2;
	unsigned k, out = 0, in = 0;

	(void)state;
	run(f, true, CL(1), EX(100), 0x1001, 10, &a1, &d, &xo);
	run(f, true, EX(100), a1, 0x2001, 10, &s, &d, &xo);
	run(f, true, CL(2), EX(100), 0x1002, 10, &a2, &d, &xo);
	for (k = 0; k < 5; k++) {
		assert_int_equal(run(f, true, CL(1), EX(100), 0x1001, 11 + k,
				     &s, &d, &xo), XL_OUT);
		assert_int_equal(s, a1);
		assert_int_equal(xo.client, CL(1));
		assert_int_equal(xo.alias, a1);
		assert_int_equal(run(f, true, EX(100), a1, 0x2001, 11 + k, &s,
				     &d, &xo), XL_IN);
		assert_int_equal(d, CL(1));
		assert_int_equal(xo.server, EX(100));
	}
	/* client 2 with client 1's outbound SPI: its own session, its own
	 * alias, a new SA of its own */
	assert_int_equal(run(f, true, CL(2), EX(100), 0x1001, 20, &s, &d, &xo),
			 XL_OUT);
	assert_int_equal(s, a2);
	assert_true(xo.sa_new);
	/* client 1's inbound SPI on client 2's alias is client 2's */
	assert_int_equal(run(f, true, EX(100), a2, 0x2001, 20, &s, &d, &xo),
			 XL_IN);
	assert_int_equal(d, CL(2));
	assert_int_equal(session_snapshot(f->t, &sv, &nsv, &av, &nav), 0);
	assert_int_equal(nsv, 2);
	for (i = 0; i < nsv; i++)
		if (sv[i].client == CL(1)) {
			assert_int_equal(sv[i].pkts_out, 6);
			assert_int_equal(sv[i].pkts_in, 6);
			assert_int_equal(sv[i].last_seen, 15);
		}
	for (i = 0; i < nav; i++) {
		if (av[i].kind == SA_ESP_OUT && av[i].spi_i == 0x1001 &&
		    av[i].pkts == 6 && av[i].last_seen == 15)
			out++;
		if (av[i].kind == SA_ESP_IN && av[i].spi_i == 0x2001 &&
		    av[i].pkts == 6)
			in++;
	}
	assert_int_equal(out, 1);
	assert_int_equal(in, 1);
	free(sv);
	free(av);
	teardown_fx(f);
}

/* An ESP packet, raw (@udp false) or in UDP 4500 with a valid checksum,
 * of @len bytes in all. */
static size_t mkesp(uint8_t *p, bool udp, uint32_t src, uint32_t dst,
		    uint32_t spi, size_t len)
{
	uint32_t s = htonl(src), d = htonl(dst), v = htonl(spi);
	uint8_t *l4 = p + 20;
	uint16_t c;

	memset(p, 0x33, len);
	memset(p, 0, 20);
	p[0] = 0x45;
	p[2] = (uint8_t)(len >> 8);
	p[3] = (uint8_t)len;
	p[6] = 0x40;			/* DF, as clients send */
	p[8] = 64;
	p[9] = udp ? 17 : 50;
	memcpy(p + 12, &s, 4);
	memcpy(p + 16, &d, 4);
	if (udp) {
		l4[0] = 0x11;		/* 4500 both ways */
		l4[1] = 0x94;
		l4[2] = 0x11;
		l4[3] = 0x94;
		l4[4] = (uint8_t)((len - 20) >> 8);
		l4[5] = (uint8_t)(len - 20);
		l4[6] = l4[7] = 0;
		memcpy(l4 + 8, &v, 4);
		c = csum_udp4(s, d, l4, len - 20);
		memcpy(l4 + 6, &c, 2);
	} else {
		memcpy(l4, &v, 4);
	}
	c = (uint16_t)~csum_fold16(csum_partial(p, 20, 0));
	memcpy(p + 10, &c, 2);
	return len;
}

/* The worker's way (the ESP fast path first, pkt_parse() and
 * xlate_packet() when it declines) and the full path alone, on two tables
 * fed the same packets: same verdicts, same bytes out, same marks, and in
 * the end the same counts in both tables. */
struct both {
	struct fx *fast, *full;
	unsigned taken;			/* packets the fast path decided */
	bool hinted;			/* the fast path after xlate_prefetch() */
	unsigned hint_sa;		/* ...of them, taken with a hint that
					 * named their SA */
};

static enum xlate_result both_run(struct both *b, const uint8_t *pkt,
				  size_t len, uint32_t now)
{
	/* odd times: the kernel left the UDP checksum to finish */
	bool partial = now & 1;
	uint8_t p1[256], p2[256];
	struct xlate_out o1, o2;
	struct pkt_info pi;
	enum xlate_result r1, r2;
	uint8_t kind;
	enum pkt_err e1 = PKT_OK, e2;

	struct session_pf h = { 0 };

	memcpy(p1, pkt, len);
	memcpy(p2, pkt, len);
	if (b->hinted) {
		uint8_t *bp = p1;
		uint32_t l = (uint32_t)len;

		assert_true(xlate_prefetch(&b->fast->x, &bp, &l, 1, &h));
	}
	r1 = xlate_esp_fast(&b->fast->x, p1, (uint32_t)len, partial, now,
			    &o1, &kind, b->hinted ? &h : NULL);
	if (r1 != XL_MAX) {
		b->taken++;
		b->hint_sa += h.hint != 0;
		assert_true(r1 == XL_OUT || r1 == XL_IN);
		assert_int_equal(pkt_parse(pkt, len, &pi), PKT_OK);
		assert_int_equal(kind, pi.kind);
	} else {
		e1 = pkt_parse(p1, len, &pi);
		pi.esp_missed = kind != PKT_KIND_MAX;
		if (e1 == PKT_OK)
			r1 = xlate_packet(&b->fast->x, p1, &pi, partial,
					  now, now * 1000u, &o1);
	}
	e2 = pkt_parse(p2, len, &pi);
	r2 = XL_MAX;
	if (e2 == PKT_OK)
		r2 = xlate_packet(&b->full->x, p2, &pi, partial, now,
				  now * 1000u, &o2);
	assert_int_equal(e1, e2);
	assert_int_equal(r1, r2);
	assert_memory_equal(p1, p2, len);
	if (r1 == XL_OUT || r1 == XL_IN) {
		assert_int_equal(o1.client, o2.client);
		assert_int_equal(o1.alias, o2.alias);
		assert_int_equal(o1.server, o2.server);
		assert_int_equal(o1.mark_value, o2.mark_value);
		assert_int_equal(o1.mark_mask, o2.mark_mask);
	}
	return r1;
}

static const char *const fast_cfg[] = {
	"inside 192.0.2.0/24",
	"alias 203.0.113.11-203.0.113.12",
	"server 203.0.113.100/31",
	"alias-clients 2",
	"mark 0x100/0xf00",
	"fail-policy bypass",
	NULL,
};

/* @hinted: each packet's fast path after its xlate_prefetch(), in a table
 * that takes the prefetch's lookups at any size */
static void fast_matches_full(bool hinted)
{
	struct both b = { setup_cfg(fast_cfg, 16), setup_cfg(fast_cfg, 16), 0,
			  hinted, 0 };
	struct session_view *sv1, *sv2;
	struct sa_view *av1, *av2;
	size_t n1, n2, na1, na2, i;
	uint8_t p[256];
	uint32_t a1, a3, now = 10;
	unsigned k, udp;

	if (hinted)
		session_set_prefetch_from(b.fast->t, 0);
	for (udp = 0; udp < 2; udp++) {
		uint32_t spi = udp ? 0x7000 : 0x5000;

		/* client 1 alone on its alias; clients 2 and 3 share one */
		both_run(&b, p, mkesp(p, udp, CL(1), EX(100), spi + 1, 64),
			 now);
		memcpy(&a1, p + 12, 4);
		both_run(&b, p, mkesp(p, udp, CL(2), EX(100), spi + 2, 64),
			 now);
		both_run(&b, p, mkesp(p, udp, CL(3), EX(100), spi + 3, 64),
			 now);
	}
	/* the aliases, as the full path gave them */
	{
		bool sh;
		session_id s1 = session_lookup_out(b.full->t, CL(1), EX(100));
		session_id s3 = session_lookup_out(b.full->t, CL(3), EX(100));

		assert_int_not_equal(s1, SESSION_NONE);
		assert_int_not_equal(s3, SESSION_NONE);
		a1 = session_alias(b.full->t, s1);
		a3 = session_alias(b.full->t, s3);
		assert_int_not_equal(session_lookup_in(b.full->t, a3, EX(100),
						       &sh), SESSION_NONE);
		assert_true(sh);
	}
	/* client 1 learns its inbound SPIs (the full path) */
	for (udp = 0; udp < 2; udp++)
		assert_int_equal(both_run(&b, p, mkesp(p, udp, EX(100), a1,
				 (udp ? 0x7000 : 0x5000) + 0x101, 64), now),
				 XL_IN);
	assert_int_equal(b.taken, 0);
	for (k = 0; k < 4; k++, now++) {
		for (udp = 0; udp < 2; udp++) {
			uint32_t spi = udp ? 0x7000 : 0x5000;
			size_t len = 40 + 20 * k;

			/* known SAs: the fast path, both ways */
			assert_int_equal(both_run(&b, p, mkesp(p, udp, CL(1),
					 EX(100), spi + 1, len), now), XL_OUT);
			assert_int_equal(both_run(&b, p, mkesp(p, udp,
					 EX(100), a1, spi + 0x101, len), now),
					 XL_IN);
			/* a shared alias: the full path */
			both_run(&b, p, mkesp(p, udp, CL(3), EX(100), spi + 3,
					      len), now);
			both_run(&b, p, mkesp(p, udp, EX(100), a3,
					      spi + 0x103, len), now);
			/* an SPI nobody has yet, either way (new each
			 * round: the full path learns it) */
			both_run(&b, p, mkesp(p, udp, EX(100), a1,
					      spi + 0x900 + k, len), now);
			both_run(&b, p, mkesp(p, udp, CL(1), EX(100),
					      spi + 0x800 + k, len), now);
			/* malformed or unusual: reserved SPI, a fragment,
			 * a length that lies, an IP option, too short */
			both_run(&b, p, mkesp(p, udp, CL(1), EX(100), 200,
					      len), now);
			mkesp(p, udp, CL(1), EX(100), spi + 1, len);
			p[6] |= 0x20;
			both_run(&b, p, len, now);
			mkesp(p, udp, CL(1), EX(100), spi + 1, len);
			p[3] ^= 4;
			both_run(&b, p, len, now);
			mkesp(p, udp, CL(1), EX(100), spi + 1, len);
			p[0] = 0x46;
			both_run(&b, p, len, now);
			mkesp(p, udp, CL(1), EX(100), spi + 1, len);
			both_run(&b, p, udp ? 35 : 27, now);
		}
		/* IKE on 500 both ways: the full path, its lookups warmed
		 * by the prefetch first */
		both_run(&b, p, mkpkt(p, false, CL(1), EX(100), 0x4242 + k),
			 now);
		both_run(&b, p, mkpkt(p, false, EX(100), a1, 0x4242 + k),
			 now);
		/* NAT-T keepalive and IKE on 4500 are not ESP */
		mkesp(p, true, CL(1), EX(100), 0, 40);
		both_run(&b, p, 40, now);
	}
	/* 4 rounds x 2 kinds x 2 directions of client 1's known SAs */
	assert_int_equal(b.taken, 16);
	/* ...each with the SA its prefetch found */
	assert_int_equal(b.hint_sa, hinted ? 16 : 0);
	assert_int_equal(session_snapshot(b.fast->t, &sv1, &n1, &av1, &na1), 0);
	assert_int_equal(session_snapshot(b.full->t, &sv2, &n2, &av2, &na2), 0);
	assert_int_equal(n1, n2);
	assert_int_equal(na1, na2);
	for (i = 0; i < n1; i++) {
		size_t j;

		for (j = 0; j < n2 && sv2[j].client != sv1[i].client; j++)
			;
		assert_true(j < n2);
		assert_int_equal(sv1[i].alias, sv2[j].alias);
		assert_int_equal(sv1[i].pkts_out, sv2[j].pkts_out);
		assert_int_equal(sv1[i].pkts_in, sv2[j].pkts_in);
		assert_int_equal(sv1[i].bytes_out, sv2[j].bytes_out);
		assert_int_equal(sv1[i].bytes_in, sv2[j].bytes_in);
		assert_int_equal(sv1[i].deadline, sv2[j].deadline);
		assert_int_equal(sv1[i].flags, sv2[j].flags);
	}
	for (i = 0; i < na1; i++) {
		size_t j;

		for (j = 0; j < na2 && (av2[j].spi_i != av1[i].spi_i ||
					av2[j].kind != av1[i].kind); j++)
			;
		assert_true(j < na2);
		assert_int_equal(av1[i].pkts, av2[j].pkts);
		assert_int_equal(av1[i].bytes, av2[j].bytes);
		assert_int_equal(av1[i].flags, av2[j].flags);
		assert_int_equal(av1[i].deadline, av2[j].deadline);
	}
	free(sv1);
	free(av1);
	free(sv2);
	free(av2);
	teardown_fx(b.fast);
	teardown_fx(b.full);
}

static void test_esp_fast_path_matches_full(void **state)
{
	(void)state;
	fast_matches_full(false);
}

static void test_esp_fast_hinted_matches_full(void **state)
{
	(void)state;
	fast_matches_full(true);
}

/* A later fragment carries no UDP/ESP header: it follows the session of
 * its addresses, both ways, and never creates one. */
static void test_fragments_follow_session(void **state)
{
	struct fx *f = setup_cfg(basic, 8);
	struct xlate_out xo;
	struct pkt_info pi;
	uint8_t p[128];
	uint32_t s, d, alias, a;
	size_t n;

	(void)state;
	/* a fragment before any session: nothing to follow */
	n = mkpkt(p, false, CL(1), EX(100), 0x51);
	p[7] = 10;			/* offset 80: a later fragment */
	assert_int_equal(pkt_parse(p, n, &pi), PKT_OK);
	assert_int_equal(pi.kind, PKT_FRAG);
	assert_int_equal(xlate_packet(&f->x, p, &pi, false, 9, 9000, &xo), XL_OUT);
	/* outbound fragments may open the session like their first
	 * fragment would; the alias is the one later packets get */
	memcpy(&a, p + 12, 4);
	alias = ntohl(a);
	assert_int_equal(run(f, false, CL(1), EX(100), 0x51, 10, &s, &d, &xo),
			 XL_OUT);
	assert_int_equal(s, alias);
	/* inbound later fragment to the alias goes to the client */
	n = mkpkt(p, false, EX(100), alias, 0x51);
	p[7] = 10;
	assert_int_equal(pkt_parse(p, n, &pi), PKT_OK);
	assert_int_equal(xlate_packet(&f->x, p, &pi, false, 11, 11000, &xo), XL_IN);
	memcpy(&a, p + 16, 4);
	assert_int_equal(ntohl(a), CL(1));
	/* an inbound fragment for an alias without session is refused */
	n = mkpkt(p, true, EX(101), alias, 0x2001);
	p[7] = 10;
	assert_int_equal(pkt_parse(p, n, &pi), PKT_OK);
	assert_int_equal(xlate_packet(&f->x, p, &pi, false, 11, 11000, &xo),
			 XL_DROP_UNKNOWN);
	teardown_fx(f);
}

/* IKE message @ispi from the server to the shared alias, fragment with IP
 * ID @id: the first (@later false) or a later one; returns the new
 * destination. */
static enum xlate_result frag_in(struct fx *f, uint8_t ispi, uint16_t id,
				 bool later, uint32_t *new_dst)
{
	uint8_t p[128];
	struct pkt_info pi;
	struct xlate_out xo;
	size_t n = mkpkt(p, false, SRV, A, ispi);
	enum xlate_result r;

	p[4] = (uint8_t)(id >> 8);
	p[5] = (uint8_t)id;
	if (later)
		p[7] = 10;		/* offset 80 */
	else
		p[6] = 0x20;		/* more fragments */
	assert_int_equal(pkt_parse(p, n, &pi), PKT_OK);
	r = xlate_packet(&f->x, p, &pi, false, 20, 20000, &xo);
	*new_dst = at(p, 16);
	return r;
}

/* On a shared alias, later fragments (no ports, no SPI) go where the
 * first fragment of their datagram went; without one, nowhere. */
static void test_fragments_on_shared_alias(void **state)
{
	struct fx *f = setup_cfg(shared_cfg, 64);
	uint32_t d;

	(void)state;
	assert_int_equal(ike(f, CL(1), SRV, 0x11, 0, 34, false, 20000, &d),
			 XL_OUT);
	assert_int_equal(ike(f, CL(2), SRV, 0x22, 0, 34, false, 20000, &d),
			 XL_OUT);
	assert_int_equal(frag_in(f, 0x22, 0x1234, false, &d), XL_IN);
	assert_int_equal(d, CL(2));
	assert_int_equal(frag_in(f, 0x11, 0x1235, false, &d), XL_IN);
	assert_int_equal(d, CL(1));
	assert_int_equal(frag_in(f, 0, 0x1234, true, &d), XL_IN);
	assert_int_equal(d, CL(2));
	assert_int_equal(frag_in(f, 0, 0x1235, true, &d), XL_IN);
	assert_int_equal(d, CL(1));
	/* a later fragment whose first one was not seen: not guessed */
	assert_int_equal(frag_in(f, 0, 0x1236, true, &d), XL_DROP_AMBIGUOUS);
	assert_int_equal(d, A);
	teardown_fx(f);
}

/* An IKEv2 message of 64 bytes from @src to @dst on port 500 or, @natt,
 * 4500 (after the non-ESP marker), translated with offload as set in @f. */
static enum xlate_result ike_off(struct fx *f, uint32_t src, uint32_t dst,
				 uint64_t ispi, uint64_t rspi, uint8_t ver,
				 uint8_t exch, bool natt, uint32_t now,
				 struct xlate_out *xo)
{
	uint8_t p[128];
	struct pkt_info pi;
	uint32_t s = htonl(src), d = htonl(dst);
	uint16_t port = natt ? 4500 : 500;
	size_t len = 64, h = 28 + (natt ? 4 : 0);
	int i;

	memset(p, 0, sizeof(p));
	p[0] = 0x45;
	p[3] = (uint8_t)len;
	p[8] = 64;
	p[9] = 17;
	memcpy(p + 12, &s, 4);
	memcpy(p + 16, &d, 4);
	p[20] = p[22] = (uint8_t)(port >> 8);
	p[21] = p[23] = (uint8_t)port;
	p[25] = (uint8_t)(len - 20);
	for (i = 0; i < 8; i++) {
		p[h + i] = (uint8_t)(ispi >> (56 - 8 * i));
		p[h + 8 + i] = (uint8_t)(rspi >> (56 - 8 * i));
	}
	p[h + 16] = 46;
	p[h + 17] = ver;
	p[h + 18] = exch;
	p[h + 19] = IKE2_FLAG_INITIATOR;
	p[h + 27] = (uint8_t)(len - h);
	assert_int_equal(pkt_parse(p, len, &pi), PKT_OK);
	return xlate_packet(&f->x, p, &pi, false, now, now * 1000u, xo);
}

/*
 * Offload on: an IKEv2 SA's INFORMATIONAL exchanges are claimed for the
 * kernel once per direction and port, for a session alone on its alias;
 * nothing that sets up SAs is, nor IKEv1, nor an SA without its
 * responder SPI, nor what needs a port of its own.  The kernel's counts
 * come back through session_ike_credit().
 */
static void test_offload_ike_claim(void **state)
{
	static const char *const natt_ports[] = {
		"inside 192.0.2.0/24", "alias 203.0.113.11-203.0.113.13",
		"server 203.0.113.100/31", "alias-clients 1",
		"natt-ports 40000-40001", NULL,
	};
	struct fx *f = setup_cfg(basic, 64);
	const uint64_t I = 0x1ce0000000000001ull, R = 0x2e50000000000001ull;
	struct session_view *sv;
	struct sa_view *av;
	size_t nsv, nav;
	struct xlate_out xo;
	uint32_t alias;

	(void)state;
	f->x.offload = true;
	assert_int_equal(ike_off(f, CL(1), SRV, I, 0, 0x20, 34, false, 10, &xo),
			 XL_OUT);
	assert_false(xo.offload);
	alias = xo.alias;
	assert_int_equal(ike_off(f, SRV, alias, I, R, 0x20, 34, false, 10, &xo),
			 XL_IN);
	assert_false(xo.offload);
	/* IKE_AUTH and CREATE_CHILD_SA set up SAs: the daemon sees them */
	assert_int_equal(ike_off(f, CL(1), SRV, I, R, 0x20, 35, false, 10, &xo),
			 XL_OUT);
	assert_false(xo.offload);
	assert_int_equal(ike_off(f, CL(1), SRV, I, R, 0x20, 36, false, 10, &xo),
			 XL_OUT);
	assert_false(xo.offload);
	/* the first INFORMATIONAL out claims the flow, once */
	assert_int_equal(ike_off(f, CL(1), SRV, I, R, 0x20, 37, false, 11, &xo),
			 XL_OUT);
	assert_true(xo.offload);
	assert_true(xo.offload_ike);
	assert_false(xo.offload_udp);
	assert_true(xo.offload_spi == I);
	assert_int_equal(xo.client, CL(1));
	assert_int_equal(xo.alias, alias);
	assert_int_equal(xo.server, SRV);
	assert_int_equal(ike_off(f, CL(1), SRV, I, R, 0x20, 37, false, 11, &xo),
			 XL_OUT);
	assert_false(xo.offload);
	/* inbound is its own flow; on 4500 too */
	assert_int_equal(ike_off(f, SRV, alias, I, R, 0x20, 37, false, 12, &xo),
			 XL_IN);
	assert_true(xo.offload);
	assert_true(xo.offload_ike);
	assert_int_equal(xo.client, CL(1));
	assert_int_equal(ike_off(f, SRV, alias, I, R, 0x20, 37, false, 12, &xo),
			 XL_IN);
	assert_false(xo.offload);
	assert_int_equal(ike_off(f, CL(1), SRV, I, R, 0x20, 37, true, 12, &xo),
			 XL_OUT);
	assert_true(xo.offload);
	assert_true(xo.offload_udp);
	/* an IKEv1 informational (5) is not, nor a version 2.1 header the
	 * kernel's rule would not match */
	assert_int_equal(ike_off(f, CL(2), SRV, I + 1, R, 0x10, 5, false, 12,
				 &xo), XL_OUT);
	assert_int_equal(ike_off(f, CL(2), SRV, I + 1, R, 0x10, 5, false, 12,
				 &xo), XL_OUT);
	assert_false(xo.offload);

	/* the SA shows what was claimed */
	assert_int_equal(session_snapshot(f->t, &sv, &nsv, &av, &nav), 0);
	assert_int_equal(nsv, 2);
	assert_int_equal(sv[0].n_sa + sv[1].n_sa, 2);
	for (size_t i = 0; i < nav; i++)
		if (av[i].spi_i == I)
			assert_int_equal(av[i].flags &
					 (SA_F_IKE_OFF_OUT | SA_F_IKE_OFF_IN |
					  SA_F_IKE_OFF_NATT_OUT |
					  SA_F_IKE_OFF_NATT_IN),
					 SA_F_IKE_OFF_OUT | SA_F_IKE_OFF_IN |
					 SA_F_IKE_OFF_NATT_OUT);
	free(sv);
	free(av);

	/* the kernel's counts: to the right peer only, of a claimed flow */
	assert_int_equal(session_ike_credit(f->t, SRV, I, false, CL(1), alias,
					    SA_F_IKE_OFF_OUT, 5, 500, 40, 30,
					    5), 0);
	assert_int_equal(session_ike_credit(f->t, SRV, I, true, alias, CL(1),
					    SA_F_IKE_OFF_IN, 2, 200, 40, 30,
					    5), 0);
	assert_int_equal(session_ike_credit(f->t, SRV, I, true, alias, CL(2),
					    SA_F_IKE_OFF_IN, 1, 1, 40, 30, 5),
			 -ESTALE);
	assert_int_equal(session_ike_credit(f->t, SRV, I, true, alias, CL(1),
					    SA_F_IKE_OFF_NATT_IN, 1, 1, 40, 30,
					    5), -ESTALE);
	assert_int_equal(session_ike_credit(f->t, SRV, I + 7, false, CL(1),
					    alias, SA_F_IKE_OFF_OUT, 1, 1, 40,
					    30, 5), -ENOENT);
	assert_int_equal(session_ike_credit(f->t, SRV, I, false, CL(3), alias,
					    SA_F_IKE_OFF_OUT, 1, 1, 40, 30, 5),
			 -ENOENT);
	assert_int_equal(session_snapshot(f->t, &sv, &nsv, &av, &nav), 0);
	for (size_t i = 0; i < nav; i++)
		if (av[i].spi_i == I) {
			/* 9 packets seen here, 7 in the kernel */
			assert_int_equal(av[i].pkts, 9 + 7);
			assert_int_equal(av[i].last_seen, 40);
			assert_int_equal(av[i].deadline, 40 + 30);
		}
	for (size_t i = 0; i < nsv; i++)
		if (sv[i].client == CL(1)) {
			assert_int_equal(sv[i].pkts_out, 6 + 5);
			assert_int_equal(sv[i].pkts_in, 3 + 2);
			assert_int_equal(sv[i].last_seen, 40);
		}
	free(sv);
	free(av);
	/* forgotten (the kernel's maps emptied): claimed again */
	session_offload_forget(f->t);
	assert_int_equal(session_ike_credit(f->t, SRV, I, false, CL(1), alias,
					    SA_F_IKE_OFF_OUT, 1, 1, 41, 30, 5),
			 -ESTALE);
	assert_int_equal(ike_off(f, CL(1), SRV, I, R, 0x20, 37, false, 41, &xo),
			 XL_OUT);
	assert_true(xo.offload);
	/* offload off: never */
	f->x.offload = false;
	session_offload_forget(f->t);
	assert_int_equal(ike_off(f, CL(1), SRV, I, R, 0x20, 37, false, 42, &xo),
			 XL_OUT);
	assert_false(xo.offload);
	teardown_fx(f);

	/* natt-ports: IKE on 4500 gets a port of its own, which the kernel
	 * would not give it; on 500 it keeps its ports */
	f = setup_cfg(natt_ports, 64);
	f->x.offload = true;
	assert_int_equal(ike_off(f, CL(1), SRV, I, R, 0x20, 37, true, 10, &xo),
			 XL_OUT);
	assert_int_equal(ike_off(f, CL(1), SRV, I, R, 0x20, 37, true, 10, &xo),
			 XL_OUT);
	assert_false(xo.offload);
	assert_int_equal(ike_off(f, CL(1), SRV, I, R, 0x20, 37, false, 10, &xo),
			 XL_OUT);
	assert_true(xo.offload);
	teardown_fx(f);

	/* a shared alias: the daemon keeps every IKE message */
	f = setup_cfg(shared_cfg, 64);
	f->x.offload = true;
	assert_int_equal(ike_off(f, CL(1), SRV, I, R, 0x20, 37, false, 10, &xo),
			 XL_OUT);
	assert_true(xo.offload);
	assert_int_equal(ike_off(f, CL(2), SRV, I + 2, R, 0x20, 37, false, 10,
				 &xo), XL_OUT);
	assert_false(xo.offload);
	assert_int_equal(ike_off(f, CL(2), SRV, I + 2, R, 0x20, 37, false, 10,
				 &xo), XL_OUT);
	assert_false(xo.offload);
	teardown_fx(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_alias_per_client_per_server),
		cmocka_unit_test(test_return_path),
		cmocka_unit_test(test_pins_and_not_ours),
		cmocka_unit_test(test_expiry_frees_alias),
		cmocka_unit_test(test_replies_do_not_hold_alias),
		cmocka_unit_test(test_icmp_errors),
		cmocka_unit_test(test_shared_alias_gate),
		cmocka_unit_test(test_shared_first_use_gate),
		cmocka_unit_test(test_shared_ike_rekey_by_server),
		cmocka_unit_test(test_shared_spi_per_server),
		cmocka_unit_test(test_natt_ports),
		cmocka_unit_test(test_table_full),
		cmocka_unit_test(test_marks),
		cmocka_unit_test(test_bypass_mark),
		cmocka_unit_test(test_known_sa_packets),
		cmocka_unit_test(test_esp_fast_path_matches_full),
		cmocka_unit_test(test_esp_fast_hinted_matches_full),
		cmocka_unit_test(test_offload_ike_claim),
		cmocka_unit_test(test_client_limit),
		cmocka_unit_test(test_sa_learning),
		cmocka_unit_test(test_fragments_follow_session),
		cmocka_unit_test(test_fragments_on_shared_alias),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
