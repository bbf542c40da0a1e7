/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "gateway.h"

/* Packets are built byte by byte from the RFC layouts (RFC 791, 768,
 * 2661), as in test_l2tp.c, so a misreading shared with the code under
 * test cannot hide. */

#define NAT_ADDR	0xc6336407u	/* 198.51.100.7: every client */
#define OTHER_NAT	0xcb00710au	/* 203.0.113.10 */
#define GW_ADDR		0xc0000201u	/* 192.0.2.1 */
#define TIMEOUT		300
#define AVP_M		0x8000
#define AVP_H		0x4000

struct msg {
	uint8_t b[512];
	size_t len;
};

static void put8(struct msg *m, uint8_t v)
{
	assert_true(m->len < sizeof(m->b));
	m->b[m->len++] = v;
}

static void put16(struct msg *m, uint16_t v)
{
	put8(m, (uint8_t)(v >> 8));
	put8(m, (uint8_t)v);
}

static void put32(struct msg *m, uint32_t v)
{
	put16(m, (uint16_t)(v >> 16));
	put16(m, (uint16_t)v);
}

static void set16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void avp16(struct msg *m, uint16_t bits, uint16_t attr, uint16_t v)
{
	put16(m, (uint16_t)(bits | 8));
	put16(m, 0);
	put16(m, attr);
	put16(m, v);
}

/* A control message: T, L, S, version 2, then Message Type and, when
 * not 0, Assigned Tunnel ID @atid and Assigned Session ID @asid. */
static void ctrl(struct msg *m, uint16_t tid, uint16_t sid, uint16_t type,
		 uint16_t atid, uint16_t asid)
{
	m->len = 0;
	put16(m, 0xc802);
	put16(m, 0);
	put16(m, tid);
	put16(m, sid);
	put16(m, 1);		/* Ns */
	put16(m, 1);		/* Nr */
	if (type != 0xffff) {
		avp16(m, AVP_M, 0, type);
		avp16(m, AVP_M, 2, 0x0100);	/* Protocol Version 1.0 */
		if (atid)
			avp16(m, AVP_M, 9, atid);
		if (asid)
			avp16(m, AVP_M, 14, asid);
	}
	set16(m->b + 2, (uint16_t)m->len);
}

/* A ZLB acknowledgement: a control message without AVPs. */
static void zlb(struct msg *m, uint16_t tid, uint16_t sid)
{
	ctrl(m, tid, sid, 0xffff, 0, 0);
}

/* A data message with @flags (L, S, O in any mix) and a short PPP frame. */
static void data(struct msg *m, uint16_t flags, uint16_t tid, uint16_t sid)
{
	size_t lenat = 0;

	m->len = 0;
	put16(m, (uint16_t)(flags | 2));
	if (flags & 0x4000) {
		lenat = m->len;
		put16(m, 0);
	}
	put16(m, tid);
	put16(m, sid);
	if (flags & 0x0800) {
		put16(m, 7);
		put16(m, 3);
	}
	if (flags & 0x0200) {
		put16(m, 2);
		put16(m, 0);	/* two bytes of padding */
	}
	put16(m, 0xff03);	/* PPP address/control */
	put16(m, 0xc021);	/* LCP */
	put32(m, 0x09010008);	/* echo request */
	put32(m, 0);
	if (flags & 0x4000)
		set16(m->b + lenat, (uint16_t)m->len);
}

/* An IPv4 datagram around @pl: UDP (@proto 17) or a bare TCP header
 * (@proto 6).  Addresses in host order here, as written. */
static size_t ip4(uint8_t *b, uint8_t proto, uint32_t src, uint32_t dst,
		  uint16_t sport, uint16_t dport, const struct msg *pl)
{
	size_t l4 = proto == 6 ? 20 : 8 + (pl ? pl->len : 0);
	size_t tot = 20 + l4;
	struct msg m = { .len = 0 };

	put16(&m, 0x4500);
	put16(&m, (uint16_t)tot);
	put16(&m, 0x1234);	/* IP ID */
	put16(&m, 0x4000);	/* DF */
	put8(&m, 64);
	put8(&m, proto);
	put16(&m, 0);		/* checksum: not read */
	put32(&m, src);
	put32(&m, dst);
	put16(&m, sport);
	put16(&m, dport);
	if (proto == 6) {
		put32(&m, 1);	/* seq */
		put32(&m, 0);	/* ack */
		put16(&m, 0x5002);	/* doff 5, SYN */
		put16(&m, 65535);
		put32(&m, 0);
	} else {
		put16(&m, (uint16_t)l4);
		put16(&m, 0);
		if (pl) {
			assert_true(m.len + pl->len <= sizeof(m.b));
			memcpy(m.b + m.len, pl->b, pl->len);
			m.len += pl->len;
		}
	}
	assert_int_equal(m.len, tot);
	memcpy(b, m.b, m.len);
	return m.len;
}

/* One L2TP client behind the NAT: its SA's mark, its IDs (C: the ones it
 * assigned, carried by the gateway's packets) and the gateway's (G). */
struct client {
	uint32_t addr;
	uint32_t mark;
	uint16_t ctid, csid;
	uint16_t gtid, gsid;
};

static enum gw_res l2tp_in(struct gw_table *t, const struct client *c,
			   const struct msg *m, uint32_t mark, uint32_t now)
{
	uint8_t b[600];
	size_t n = ip4(b, 17, c->addr, GW_ADDR, 1701, 1701, m);

	return gw_packet(t, b, n, GW_IN, mark, now, TIMEOUT, NULL);
}

static enum gw_res l2tp_out(struct gw_table *t, const struct client *c,
			    const struct msg *m, uint32_t now, uint32_t *mark)
{
	uint8_t b[600];
	size_t n = ip4(b, 17, GW_ADDR, c->addr, 1701, 1701, m);

	*mark = 0;
	return gw_packet(t, b, n, GW_OUT, 0, now, TIMEOUT, mark);
}

/* The outbound messages the gateway sends a client, control and data,
 * with and without L and S; each must get @c's mark. */
static void expect_out(struct gw_table *t, const struct client *c,
		       uint32_t now)
{
	static const uint16_t dflags[] = {
		0, 0x4000, 0x0800, 0x4800, 0x0200, 0x4a00, 0x0100,
	};
	struct msg m;
	uint32_t mark;
	size_t i;

	zlb(&m, c->ctid, 0);
	assert_int_equal(l2tp_out(t, c, &m, now, &mark), GW_OK);
	assert_int_equal(mark, c->mark);
	ctrl(&m, c->ctid, 0, L2TP_MT_HELLO, 0, 0);
	assert_int_equal(l2tp_out(t, c, &m, now, &mark), GW_OK);
	assert_int_equal(mark, c->mark);
	ctrl(&m, c->ctid, c->csid, L2TP_MT_CDN, 0, c->gsid);
	assert_int_equal(l2tp_out(t, c, &m, now, &mark), GW_OK);
	assert_int_equal(mark, c->mark);
	for (i = 0; i < sizeof(dflags) / sizeof(dflags[0]); i++) {
		data(&m, dflags[i], c->ctid, c->csid);
		assert_int_equal(l2tp_out(t, c, &m, now, &mark), GW_OK);
		assert_int_equal(mark, c->mark);
	}
}

/* The set-up of RFC 2661 section 5: SCCRQ/SCCRP/SCCCN for the tunnel,
 * ICRQ/ICRP/ICCN for a session, each inbound one on the client's SA. */
static void establish(struct gw_table *t, const struct client *c,
		      uint32_t now)
{
	struct msg m;
	uint32_t mark;

	ctrl(&m, 0, 0, L2TP_MT_SCCRQ, c->ctid, 0);
	assert_int_equal(l2tp_in(t, c, &m, c->mark, now), GW_OK);
	ctrl(&m, c->ctid, 0, L2TP_MT_SCCRP, c->gtid, 0);
	assert_int_equal(l2tp_out(t, c, &m, now, &mark), GW_OK);
	assert_int_equal(mark, c->mark);
	ctrl(&m, c->gtid, 0, L2TP_MT_SCCCN, 0, 0);
	assert_int_equal(l2tp_in(t, c, &m, c->mark, now), GW_OK);
	zlb(&m, c->ctid, 0);
	assert_int_equal(l2tp_out(t, c, &m, now, &mark), GW_OK);
	assert_int_equal(mark, c->mark);
	ctrl(&m, c->gtid, 0, L2TP_MT_ICRQ, 0, c->csid);
	assert_int_equal(l2tp_in(t, c, &m, c->mark, now), GW_OK);
	ctrl(&m, c->ctid, c->csid, L2TP_MT_ICRP, 0, c->gsid);
	assert_int_equal(l2tp_out(t, c, &m, now, &mark), GW_OK);
	assert_int_equal(mark, c->mark);
	ctrl(&m, c->gtid, c->gsid, L2TP_MT_ICCN, 0, 0);
	assert_int_equal(l2tp_in(t, c, &m, c->mark, now), GW_OK);
	data(&m, 0, c->gtid, c->gsid);
	assert_int_equal(l2tp_in(t, c, &m, c->mark, now), GW_OK);
}

static void make_clients(struct client *c, unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++) {
		c[i].addr = NAT_ADDR;
		c[i].mark = 0x100 + i;
		/* Windows picks its IDs itself, so clients' IDs are
		 * unrelated; the gateway's come from one counter */
		c[i].ctid = (uint16_t)(0x4a21 + 7919 * i);
		c[i].csid = (uint16_t)(1 + i % 2);
		c[i].gtid = (uint16_t)(10 + i);
		c[i].gsid = (uint16_t)(20 + i);
	}
}

static void run_clients(unsigned n)
{
	struct gw_table *t = gw_new(64);
	struct gw_counters cnt;
	struct client c[8];
	unsigned i, round;

	assert_non_null(t);
	assert_true(n <= 8);
	make_clients(c, n);
	for (i = 0; i < n; i++)
		establish(t, &c[i], 1000);
	/* interleaved, twice, with inbound traffic of every client between
	 * rounds: whoever spoke last must not take the others' packets */
	for (round = 0; round < 2; round++) {
		for (i = 0; i < n; i++) {
			struct msg m;

			expect_out(t, &c[i], 1001 + round);
			data(&m, 0x4800, c[i].gtid, c[i].gsid);
			assert_int_equal(l2tp_in(t, &c[i], &m, c[i].mark,
						 1001 + round), GW_OK);
		}
		for (i = n; i-- > 0;)
			expect_out(t, &c[i], 1001 + round);
	}
	gw_counters(t, &cnt);
	assert_int_equal(cnt.learned, n);
	assert_int_equal(cnt.active, n);
	assert_int_equal(cnt.updated, 0);
	assert_int_equal(cnt.l2tp_gw_tid, n);
	assert_int_equal(cnt.lookup_miss, 0);
	assert_int_equal(cnt.res[GW_OUT][GW_UNKNOWN], 0);
	assert_int_equal(cnt.res[GW_IN][GW_UNKNOWN], 0);
	gw_free(t);
}

static void test_two_clients(void **state)
{
	(void)state;
	run_clients(2);
}

static void test_five_clients(void **state)
{
	(void)state;
	run_clients(5);
}

static void test_unknown_tunnel(void **state)
{
	struct gw_table *t = gw_new(16);
	struct client c[2], stranger;
	struct gw_counters cnt;
	struct msg m;
	uint32_t mark;

	(void)state;
	make_clients(c, 2);
	establish(t, &c[0], 10);
	/* a tunnel ID nobody assigned, to the same NAT */
	data(&m, 0, c[1].ctid, 1);
	assert_int_equal(l2tp_out(t, &c[1], &m, 11, &mark), GW_UNKNOWN);
	assert_int_equal(mark, 0);
	/* a known ID, but to another address */
	stranger = c[0];
	stranger.addr = OTHER_NAT;
	data(&m, 0, c[0].ctid, c[0].csid);
	assert_int_equal(l2tp_out(t, &stranger, &m, 11, &mark), GW_UNKNOWN);
	/* the gateway's own ID in an outbound header is not the client's:
	 * outbound lookups never use the inbound index */
	data(&m, 0, c[0].gtid, c[0].csid);
	assert_int_equal(l2tp_out(t, &c[0], &m, 11, &mark), GW_UNKNOWN);
	/* an SCCRQ the gateway starts: header tunnel 0 */
	ctrl(&m, 0, 0, L2TP_MT_SCCRQ, 77, 0);
	assert_int_equal(l2tp_out(t, &c[0], &m, 11, &mark), GW_UNKNOWN);
	/* inbound on a gateway ID never paired: not learned */
	data(&m, 0, 999, 1);
	assert_int_equal(l2tp_in(t, &c[0], &m, 0x555, 11), GW_UNKNOWN);
	/* an SCCRQ without Assigned Tunnel ID teaches nothing */
	ctrl(&m, 0, 0, L2TP_MT_SCCRQ, 0, 0);
	assert_int_equal(l2tp_in(t, &c[1], &m, 0x555, 11), GW_UNKNOWN);
	gw_counters(t, &cnt);
	assert_int_equal(cnt.res[GW_OUT][GW_UNKNOWN], 4);
	assert_int_equal(cnt.lookup_miss, 4);
	assert_int_equal(cnt.res[GW_IN][GW_UNKNOWN], 2);
	assert_int_equal(cnt.active, 1);
	assert_int_equal(cnt.updated, 0);
	expect_out(t, &c[0], 12);
	gw_free(t);
}

static void test_rekey(void **state)
{
	struct gw_table *t = gw_new(16);
	struct gw_counters cnt;
	struct client c[2];
	struct msg m;

	(void)state;
	make_clients(c, 2);
	establish(t, &c[0], 10);
	establish(t, &c[1], 10);
	/* client 0 rekeyed: its packets now come in on a new SA; the
	 * first one of any kind moves it, and only it */
	c[0].mark = 0x900;
	data(&m, 0, c[0].gtid, c[0].gsid);
	assert_int_equal(l2tp_in(t, &c[0], &m, c[0].mark, 20), GW_OK);
	expect_out(t, &c[0], 21);
	expect_out(t, &c[1], 21);
	/* a control message (HELLO) moves it again */
	c[0].mark = 0x901;
	ctrl(&m, c[0].gtid, 0, L2TP_MT_HELLO, 0, 0);
	assert_int_equal(l2tp_in(t, &c[0], &m, c[0].mark, 30), GW_OK);
	expect_out(t, &c[0], 31);
	/* a late packet of the old SA wins back (the newest packet
	 * decides, whatever its SA) */
	data(&m, 0x4000, c[0].gtid, c[0].gsid);
	assert_int_equal(l2tp_in(t, &c[0], &m, 0x900, 32), GW_OK);
	c[0].mark = 0x900;
	expect_out(t, &c[0], 33);
	expect_out(t, &c[1], 33);
	gw_counters(t, &cnt);
	assert_int_equal(cnt.updated, 3);
	assert_int_equal(cnt.learned, 2);
	assert_int_equal(cnt.active, 2);
	gw_free(t);
}

static void test_rekey_flow(void **state)
{
	struct gw_table *t = gw_new(4);
	uint32_t mark;

	(void)state;
	assert_int_equal(gw_learn_flow(t, 17, htonl(NAT_ADDR), 40000, 53, 5,
				       0, TIMEOUT), 1);
	assert_int_equal(gw_learn_flow(t, 17, htonl(NAT_ADDR), 40000, 53, 6,
				       1, TIMEOUT), 0);
	assert_int_equal(gw_lookup_flow(t, 17, htonl(NAT_ADDR), 40000, 53, 2,
					&mark), 0);
	assert_int_equal(mark, 6);
	gw_free(t);
}

static void test_expiry(void **state)
{
	struct gw_table *t = gw_new(16);
	struct gw_counters cnt;
	struct client c[2];
	struct msg m;
	uint32_t mark;

	(void)state;
	make_clients(c, 2);
	establish(t, &c[0], 100);
	establish(t, &c[1], 100);
	/* client 1 keeps talking, client 0 goes quiet */
	data(&m, 0, c[1].gtid, c[1].gsid);
	assert_int_equal(l2tp_in(t, &c[1], &m, c[1].mark, 200), GW_OK);
	/* outbound traffic alone does not keep an entry alive */
	expect_out(t, &c[0], 100 + TIMEOUT - 1);
	data(&m, 0, c[0].ctid, c[0].csid);
	/* past its deadline, an entry is not used even before expiry */
	assert_int_equal(l2tp_out(t, &c[0], &m, 100 + TIMEOUT, &mark),
			 GW_UNKNOWN);
	assert_int_equal(gw_expire(t, 100 + TIMEOUT - 1), 0);
	assert_int_equal(gw_expire(t, 100 + TIMEOUT), 1);
	gw_counters(t, &cnt);
	assert_int_equal(cnt.expired, 1);
	assert_int_equal(cnt.active, 1);
	expect_out(t, &c[1], 100 + TIMEOUT);
	/* its gateway ID went with it: the client's traffic does not
	 * bring it back, only a new tunnel set-up would */
	data(&m, 0, c[0].gtid, c[0].gsid);
	assert_int_equal(l2tp_in(t, &c[0], &m, c[0].mark, 100 + TIMEOUT),
			 GW_UNKNOWN);
	assert_int_equal(gw_expire(t, 200 + TIMEOUT), 1);
	gw_counters(t, &cnt);
	assert_int_equal(cnt.active, 0);
	assert_int_equal(cnt.expired, 2);
	/* the slots are reusable */
	establish(t, &c[0], 1000);
	establish(t, &c[1], 1000);
	expect_out(t, &c[0], 1001);
	expect_out(t, &c[1], 1001);
	gw_free(t);
}

static void test_full(void **state)
{
	struct gw_table *t = gw_new(2);
	struct gw_counters cnt;
	struct client c[3];
	struct msg m;
	uint32_t mark;
	uint8_t b[100];
	size_t n;

	(void)state;
	make_clients(c, 3);
	establish(t, &c[0], 10);
	establish(t, &c[1], 10);
	ctrl(&m, 0, 0, L2TP_MT_SCCRQ, c[2].ctid, 0);
	assert_int_equal(l2tp_in(t, &c[2], &m, c[2].mark, 20), GW_FULL);
	n = ip4(b, 17, NAT_ADDR, GW_ADDR, 40000, 53, NULL);
	assert_int_equal(gw_packet(t, b, n, GW_IN, 7, 20, TIMEOUT, NULL),
			 GW_FULL);
	assert_int_equal(gw_learn_flow(t, 6, 1, 2, 3, 4, 20, TIMEOUT),
			 -ENOSPC);
	data(&m, 0, c[2].ctid, 1);
	assert_int_equal(l2tp_out(t, &c[2], &m, 20, &mark), GW_UNKNOWN);
	/* the known ones still work and may still be refreshed */
	ctrl(&m, c[0].gtid, 0, L2TP_MT_HELLO, 0, 0);
	assert_int_equal(l2tp_in(t, &c[0], &m, c[0].mark, 20), GW_OK);
	expect_out(t, &c[0], 20);
	expect_out(t, &c[1], 20);
	gw_counters(t, &cnt);
	assert_int_equal(cnt.refused_full, 3);
	assert_int_equal(cnt.res[GW_IN][GW_FULL], 2);
	assert_int_equal(cnt.active, 2);
	assert_int_equal(cnt.capacity, 2);
	/* once one expires, the third fits */
	assert_int_equal(gw_expire(t, 10 + TIMEOUT), 1);
	establish(t, &c[2], 10 + TIMEOUT);
	expect_out(t, &c[2], 10 + TIMEOUT);
	expect_out(t, &c[0], 10 + TIMEOUT);
	gw_free(t);
}

static void test_flow(void **state)
{
	struct gw_table *t = gw_new(16);
	struct gw_counters cnt;
	uint32_t mark;
	uint8_t b[100];
	size_t n;

	(void)state;
	/* two clients behind one NAT, UDP from different source ports to
	 * the same local port, and one TCP connection */
	n = ip4(b, 17, NAT_ADDR, GW_ADDR, 40000, 53, NULL);
	assert_int_equal(gw_packet(t, b, n, GW_IN, 5, 0, TIMEOUT, NULL),
			 GW_OK);
	n = ip4(b, 17, NAT_ADDR, GW_ADDR, 40001, 53, NULL);
	assert_int_equal(gw_packet(t, b, n, GW_IN, 6, 0, TIMEOUT, NULL),
			 GW_OK);
	n = ip4(b, 6, NAT_ADDR, GW_ADDR, 40000, 22, NULL);
	assert_int_equal(gw_packet(t, b, n, GW_IN, 7, 0, TIMEOUT, NULL),
			 GW_OK);
	/* no mark: not from an SA, nothing to learn */
	n = ip4(b, 17, NAT_ADDR, GW_ADDR, 40002, 53, NULL);
	assert_int_equal(gw_packet(t, b, n, GW_IN, 0, 0, TIMEOUT, NULL),
			 GW_UNMARKED);

	n = ip4(b, 17, GW_ADDR, NAT_ADDR, 53, 40000, NULL);
	assert_int_equal(gw_packet(t, b, n, GW_OUT, 0, 1, TIMEOUT, &mark),
			 GW_OK);
	assert_int_equal(mark, 5);
	n = ip4(b, 17, GW_ADDR, NAT_ADDR, 53, 40001, NULL);
	assert_int_equal(gw_packet(t, b, n, GW_OUT, 0, 1, TIMEOUT, &mark),
			 GW_OK);
	assert_int_equal(mark, 6);
	n = ip4(b, 6, GW_ADDR, NAT_ADDR, 22, 40000, NULL);
	assert_int_equal(gw_packet(t, b, n, GW_OUT, 0, 1, TIMEOUT, &mark),
			 GW_OK);
	assert_int_equal(mark, 7);
	/* each part of the 5-tuple counts */
	n = ip4(b, 6, GW_ADDR, NAT_ADDR, 53, 40000, NULL);
	assert_int_equal(gw_packet(t, b, n, GW_OUT, 0, 1, TIMEOUT, &mark),
			 GW_UNKNOWN);
	n = ip4(b, 17, GW_ADDR, NAT_ADDR, 54, 40000, NULL);
	assert_int_equal(gw_packet(t, b, n, GW_OUT, 0, 1, TIMEOUT, &mark),
			 GW_UNKNOWN);
	n = ip4(b, 17, GW_ADDR, OTHER_NAT, 53, 40000, NULL);
	assert_int_equal(gw_packet(t, b, n, GW_OUT, 0, 1, TIMEOUT, &mark),
			 GW_UNKNOWN);
	n = ip4(b, 17, GW_ADDR, NAT_ADDR, 53, 40002, NULL);
	assert_int_equal(gw_packet(t, b, n, GW_OUT, 0, 1, TIMEOUT, &mark),
			 GW_UNKNOWN);
	/* the reverse direction is not the learned one */
	n = ip4(b, 17, GW_ADDR, NAT_ADDR, 40000, 53, NULL);
	assert_int_equal(gw_packet(t, b, n, GW_OUT, 0, 1, TIMEOUT, &mark),
			 GW_UNKNOWN);
	gw_counters(t, &cnt);
	assert_int_equal(cnt.learned, 3);
	assert_int_equal(cnt.lookup_hit, 3);
	assert_int_equal(cnt.lookup_miss, 5);
	assert_int_equal(cnt.res[GW_IN][GW_UNMARKED], 1);
	gw_free(t);
}

/* udp/1701 that l2tp_parse() refuses is never learned, neither as a
 * tunnel nor as a flow (whose 5-tuple every client shares). */
static void test_malformed_l2tp(void **state)
{
	struct gw_table *t = gw_new(16);
	struct gw_counters cnt;
	struct client c[1];
	struct msg m;
	uint32_t mark;
	uint8_t b[600];
	size_t n;

	(void)state;
	make_clients(c, 1);

	/* L2TPv3 */
	ctrl(&m, 0, 0, L2TP_MT_SCCRQ, c[0].ctid, 0);
	m.b[1] = (uint8_t)((m.b[1] & 0xf0) | 3);
	assert_int_equal(l2tp_in(t, c, &m, c[0].mark, 1), GW_L2TP_BAD);
	/* Length larger than the datagram */
	ctrl(&m, 0, 0, L2TP_MT_SCCRQ, c[0].ctid, 0);
	set16(m.b + 2, (uint16_t)(m.len + 2));
	assert_int_equal(l2tp_in(t, c, &m, c[0].mark, 1), GW_L2TP_BAD);
	/* an AVP length of 5 (the Protocol Version AVP, before the ID) */
	ctrl(&m, 0, 0, L2TP_MT_SCCRQ, c[0].ctid, 0);
	m.b[12 + 8] = 0x80;
	m.b[12 + 9] = 5;
	assert_int_equal(l2tp_in(t, c, &m, c[0].mark, 1), GW_L2TP_BAD);
	/* a control message without L and S */
	ctrl(&m, 0, 0, L2TP_MT_SCCRQ, c[0].ctid, 0);
	m.b[0] = 0x80;
	assert_int_equal(l2tp_in(t, c, &m, c[0].mark, 1), GW_L2TP_BAD);
	/* two Assigned Tunnel IDs */
	ctrl(&m, 0, 0, L2TP_MT_SCCRQ, c[0].ctid, 0);
	avp16(&m, AVP_M, 9, 0x1111);
	set16(m.b + 2, (uint16_t)m.len);
	assert_int_equal(l2tp_in(t, c, &m, c[0].mark, 1), GW_L2TP_BAD);
	/* an Assigned Tunnel ID of 0 */
	ctrl(&m, 0, 0, L2TP_MT_SCCRQ, 0, 0);
	avp16(&m, AVP_M, 9, 0);
	set16(m.b + 2, (uint16_t)m.len);
	assert_int_equal(l2tp_in(t, c, &m, c[0].mark, 1), GW_L2TP_BAD);
	/* cut short: one byte of L2TP */
	m.len = 1;
	assert_int_equal(l2tp_in(t, c, &m, c[0].mark, 1), GW_L2TP_BAD);
	/* an empty UDP payload on 1701 */
	n = ip4(b, 17, NAT_ADDR, GW_ADDR, 1701, 1701, NULL);
	assert_int_equal(gw_packet(t, b, n, GW_IN, c[0].mark, 1, TIMEOUT,
				   NULL), GW_L2TP_BAD);
	/* 1701 on one side only is L2TP too (a NAT may move the other) */
	ctrl(&m, 0, 0, L2TP_MT_SCCRQ, c[0].ctid, 0);
	m.b[0] = 0x80;
	n = ip4(b, 17, NAT_ADDR, GW_ADDR, 4321, 1701, &m);
	assert_int_equal(gw_packet(t, b, n, GW_IN, c[0].mark, 1, TIMEOUT,
				   NULL), GW_L2TP_BAD);

	gw_counters(t, &cnt);
	assert_int_equal(cnt.learned, 0);
	assert_int_equal(cnt.active, 0);
	assert_int_equal(cnt.res[GW_IN][GW_L2TP_BAD], 9);
	assert_int_equal(cnt.l2tp_err[L2TP_ERR_VERSION3], 1);
	assert_int_equal(cnt.l2tp_err[L2TP_ERR_LENGTH], 1);
	assert_int_equal(cnt.l2tp_err[L2TP_ERR_AVP_LEN], 1);
	assert_int_equal(cnt.l2tp_err[L2TP_ERR_CTRL_FLAGS], 2);
	assert_int_equal(cnt.l2tp_err[L2TP_ERR_AVP_DUP], 1);
	assert_int_equal(cnt.l2tp_err[L2TP_ERR_AVP_VALUE], 1);
	assert_int_equal(cnt.l2tp_err[L2TP_ERR_SHORT], 2);

	data(&m, 0, c[0].ctid, 1);
	assert_int_equal(l2tp_out(t, c, &m, 2, &mark), GW_UNKNOWN);
	/* a broken outbound message is not attributed either */
	m.b[0] = 0x80;
	assert_int_equal(l2tp_out(t, c, &m, 2, &mark), GW_L2TP_BAD);
	gw_free(t);
}

/* An SCCRQ whose Assigned Tunnel ID is hidden (encrypted with the tunnel
 * secret) cannot be learned from. */
static void test_hidden_id(void **state)
{
	struct gw_table *t = gw_new(4);
	struct client c[1];
	struct msg m;

	(void)state;
	make_clients(c, 1);
	ctrl(&m, 0, 0, L2TP_MT_SCCRQ, 0, 0);
	avp16(&m, AVP_M | AVP_H, 9, c[0].ctid);
	set16(m.b + 2, (uint16_t)m.len);
	assert_int_equal(l2tp_in(t, c, &m, c[0].mark, 1), GW_HIDDEN);
	gw_free(t);
}

/* The gateway started the tunnel: the client's SCCRP carries its ID in
 * the AVP and the gateway's in the header, both learned at once. */
static void test_gateway_initiated(void **state)
{
	struct gw_table *t = gw_new(4);
	struct client c[1];
	struct msg m;

	(void)state;
	make_clients(c, 1);
	ctrl(&m, c[0].gtid, 0, L2TP_MT_SCCRP, c[0].ctid, 0);
	assert_int_equal(l2tp_in(t, c, &m, c[0].mark, 1), GW_OK);
	expect_out(t, &c[0], 2);
	c[0].mark = 0x777;
	data(&m, 0, c[0].gtid, c[0].gsid);
	assert_int_equal(l2tp_in(t, c, &m, c[0].mark, 3), GW_OK);
	expect_out(t, &c[0], 4);
	gw_free(t);
}

/* Two clients behind one NAT that picked the same tunnel ID cannot be
 * told apart outbound: the newest set-up wins, and it is counted. */
static void test_same_client_tid(void **state)
{
	struct gw_table *t = gw_new(4);
	struct gw_counters cnt;
	struct client c[2];
	struct msg m;

	(void)state;
	make_clients(c, 2);
	c[1].ctid = c[0].ctid;
	establish(t, &c[0], 1);
	establish(t, &c[1], 2);
	expect_out(t, &c[1], 3);
	/* the first client's gateway ID no longer leads to the entry */
	data(&m, 0, c[0].gtid, c[0].gsid);
	assert_int_equal(l2tp_in(t, &c[0], &m, c[0].mark, 4), GW_UNKNOWN);
	gw_counters(t, &cnt);
	assert_int_equal(cnt.l2tp_rebound, 1);
	assert_int_equal(cnt.active, 1);
	gw_free(t);
}

static void test_malformed_ip(void **state)
{
	struct gw_table *t = gw_new(4);
	struct gw_counters cnt;
	uint8_t b[100], x[100];
	uint32_t mark;
	size_t n;

	(void)state;
	n = ip4(b, 17, NAT_ADDR, GW_ADDR, 40000, 53, NULL);
	assert_int_equal(gw_packet(t, b, 19, GW_IN, 5, 0, TIMEOUT, NULL),
			 GW_MALFORMED);
	memcpy(x, b, n);
	x[0] = 0x65;		/* IPv6 */
	assert_int_equal(gw_packet(t, x, n, GW_IN, 5, 0, TIMEOUT, NULL),
			 GW_MALFORMED);
	memcpy(x, b, n);
	x[0] = 0x44;		/* IHL 4 */
	assert_int_equal(gw_packet(t, x, n, GW_IN, 5, 0, TIMEOUT, NULL),
			 GW_MALFORMED);
	memcpy(x, b, n);
	x[0] = 0x4f;		/* IHL beyond the data */
	assert_int_equal(gw_packet(t, x, n, GW_IN, 5, 0, TIMEOUT, NULL),
			 GW_MALFORMED);
	assert_int_equal(gw_packet(t, b, n - 1, GW_IN, 5, 0, TIMEOUT, NULL),
			 GW_MALFORMED);	/* total length differs */
	memcpy(x, b, n);
	set16(x + 24, 9);	/* UDP length */
	assert_int_equal(gw_packet(t, x, n, GW_IN, 5, 0, TIMEOUT, NULL),
			 GW_MALFORMED);
	memcpy(x, b, n);
	x[6] = 0x20;		/* MF */
	assert_int_equal(gw_packet(t, x, n, GW_IN, 5, 0, TIMEOUT, NULL),
			 GW_FRAGMENT);
	memcpy(x, b, n);
	x[7] = 1;		/* offset 8 */
	assert_int_equal(gw_packet(t, x, n, GW_IN, 5, 0, TIMEOUT, NULL),
			 GW_FRAGMENT);
	memcpy(x, b, n);
	x[9] = 1;		/* ICMP */
	assert_int_equal(gw_packet(t, x, n, GW_IN, 5, 0, TIMEOUT, NULL),
			 GW_PROTO);
	n = ip4(b, 6, NAT_ADDR, GW_ADDR, 40000, 22, NULL);
	memcpy(x, b, n);
	x[32] = 0x40;		/* TCP data offset 4 */
	assert_int_equal(gw_packet(t, x, n, GW_IN, 5, 0, TIMEOUT, NULL),
			 GW_MALFORMED);
	x[32] = 0x60;		/* TCP data offset beyond the data */
	assert_int_equal(gw_packet(t, x, n, GW_IN, 5, 0, TIMEOUT, NULL),
			 GW_MALFORMED);
	/* truncated at every length: never read past, never learned */
	for (size_t k = 0; k < n; k++)
		assert_int_equal(gw_packet(t, b, k, GW_OUT, 0, 0, TIMEOUT,
					   &mark), GW_MALFORMED);
	gw_counters(t, &cnt);
	assert_int_equal(cnt.learned, 0);
	assert_int_equal(cnt.res[GW_IN][GW_MALFORMED], 8);
	assert_int_equal(cnt.res[GW_IN][GW_FRAGMENT], 2);
	assert_int_equal(cnt.res[GW_IN][GW_PROTO], 1);
	assert_int_equal(cnt.res[GW_OUT][GW_MALFORMED], n);
	gw_free(t);
}

static void test_api_edges(void **state)
{
	struct gw_table *t;
	uint32_t mark;

	(void)state;
	errno = 0;
	assert_null(gw_new(0));
	assert_int_equal(errno, EINVAL);
	assert_null(gw_new((1u << 26) + 1));
	gw_free(NULL);
	t = gw_new(4);
	assert_non_null(t);
	assert_int_equal(gw_learn_l2tp(t, 1, 1701, 5, 0, 0, 0, 10), -EINVAL);
	assert_int_equal(gw_learn_l2tp(t, 1, 1701, 0, 0, 3, 0, 10), -EINVAL);
	assert_int_equal(gw_learn_flow(t, 1, 1, 2, 3, 4, 0, 10), -EINVAL);
	assert_int_equal(gw_pair_l2tp(t, 1, 1701, 5, 9, 0), -ENOENT);
	assert_int_equal(gw_touch_l2tp(t, 1, 1701, 9, 3, 0, 10), -ENOENT);
	assert_int_equal(gw_learn_l2tp(t, 1, 1701, 5, 0, 3, 0, 10), 1);
	assert_int_equal(gw_pair_l2tp(t, 1, 1701, 5, 9, 0), 0);
	assert_int_equal(gw_touch_l2tp(t, 1, 1701, 9, 4, 5, 10), 0);
	assert_int_equal(gw_lookup_l2tp(t, 1, 1701, 5, 14, &mark), 0);
	assert_int_equal(mark, 4);
	assert_int_equal(gw_lookup_l2tp(t, 1, 1701, 5, 15, &mark), -ENOENT);
	/* an L2TP ID equal to a flow's local port is another key */
	assert_int_equal(gw_lookup_flow(t, 17, 1, 1701, 5, 0, &mark),
			 -ENOENT);
	assert_string_equal(gw_res_name(GW_OK), "ok");
	assert_string_equal(gw_res_name(GW_UNKNOWN), "unknown");
	assert_string_equal(gw_res_name(GW_RES_MAX), "?");
	for (int i = 0; i < GW_RES_MAX; i++)
		for (int j = 0; j < i; j++)
			assert_string_not_equal(gw_res_name(i),
						gw_res_name(j));
	gw_free(t);
}

static int by_tid(const void *a, const void *b)
{
	const struct gw_view *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

/* What espmasqctl shows: each client's IDs, calls and packet counts,
 * from the set-up of establish(); then flushing by peer and all. */
static void test_snapshot_flush(void **state)
{
	struct gw_table *t = gw_new(16);
	struct gw_counters cnt;
	struct gw_view *v;
	struct client c[3];
	uint32_t mark;
	struct msg m;
	size_t n, i;

	(void)state;
	assert_non_null(t);
	assert_int_equal(gw_snapshot(t, 1000, &v, &n), 0);
	assert_null(v);
	assert_int_equal(n, 0);
	make_clients(c, 3);
	c[2].addr = OTHER_NAT;
	for (i = 0; i < 3; i++)
		establish(t, &c[i], 1000);
	/* a second call of client 0: its newest session IDs are shown */
	ctrl(&m, c[0].gtid, 0, L2TP_MT_ICRQ, 0, 77);
	assert_int_equal(l2tp_in(t, &c[0], &m, c[0].mark, 1003), GW_OK);
	ctrl(&m, c[0].ctid, 77, L2TP_MT_ICRP, 0, 88);
	assert_int_equal(l2tp_out(t, &c[0], &m, 1003, &mark), GW_OK);
	assert_int_equal(gw_snapshot(t, 1005, &v, &n), 0);
	assert_int_equal(n, 3);
	qsort(v, n, sizeof(*v), by_tid);
	for (i = 0; i < 3; i++) {
		const struct client *k = NULL;
		size_t j;

		for (j = 0; j < 3; j++)
			if (c[j].ctid == v[i].id)
				k = &c[j];
		assert_non_null(k);
		assert_int_equal(ntohl(v[i].peer), k->addr);
		assert_int_equal(v[i].pport, 1701);
		assert_int_equal(v[i].mark, k->mark);
		assert_int_equal(v[i].gid, k->gtid);
		assert_true(v[i].l2tp);
		assert_int_equal(v[i].created, 1000);
		assert_false(v[i].expired);
		if (k == &c[0]) {
			assert_int_equal(v[i].csid, 77);
			assert_int_equal(v[i].gsid, 88);
			assert_int_equal(v[i].calls, 2);
			assert_int_equal(v[i].last_seen, 1003);
			/* SCCRQ, SCCCN, ICRQ, ICCN, data, ICRQ */
			assert_int_equal(v[i].pkts_in, 6);
			/* SCCRP, ZLB, ICRP, ICRP */
			assert_int_equal(v[i].pkts_out, 4);
		} else {
			assert_int_equal(v[i].csid, k->csid);
			assert_int_equal(v[i].gsid, k->gsid);
			assert_int_equal(v[i].calls, 1);
			assert_int_equal(v[i].pkts_in, 5);
			assert_int_equal(v[i].pkts_out, 3);
		}
	}
	free(v);
	/* past the deadline but not yet expired: flagged */
	assert_int_equal(gw_snapshot(t, 1000 + TIMEOUT + 1, &v, &n), 0);
	assert_int_equal(n, 3);
	for (i = 0; i < n; i++)
		assert_true(v[i].expired == (v[i].last_seen + TIMEOUT <=
					     1000 + TIMEOUT + 1));
	free(v);

	assert_int_equal(gw_flush(t, false, htonl(OTHER_NAT)), 1);
	assert_int_equal(gw_lookup_l2tp(t, htonl(OTHER_NAT), 1701, c[2].ctid,
					1005, &mark), -ENOENT);
	assert_int_equal(gw_lookup_l2tp(t, htonl(NAT_ADDR), 1701, c[1].ctid,
					1005, &mark), 0);
	assert_int_equal(mark, c[1].mark);
	/* the gateway-ID index went with it: its traffic is unknown */
	data(&m, 0, c[2].gtid, c[2].gsid);
	assert_int_equal(l2tp_in(t, &c[2], &m, c[2].mark, 1005), GW_UNKNOWN);
	assert_int_equal(gw_flush(t, true, 0), 2);
	gw_counters(t, &cnt);
	assert_int_equal(cnt.active, 0);
	assert_int_equal(cnt.flushed, 3);
	assert_int_equal(gw_snapshot(t, 1005, &v, &n), 0);
	assert_int_equal(n, 0);
	/* the slots are free again: three new clients fit */
	for (i = 0; i < 3; i++)
		establish(t, &c[i], 1010);
	gw_counters(t, &cnt);
	assert_int_equal(cnt.active, 3);
	gw_free(t);
}

/* gw_restore() takes back whatever gw_snapshot() gave, a flow to local
 * port 0 included (found by fuzz_gateway), and refuses what no packet
 * makes. */
static void test_restore(void **state)
{
	struct gw_table *t = gw_new(4), *u = gw_new(4);
	struct gw_view *v, bad;
	uint32_t mark;
	size_t n;

	(void)state;
	assert_non_null(t);
	assert_non_null(u);
	assert_int_equal(gw_learn_flow(t, 6, htonl(NAT_ADDR), 40000, 0, 3,
				       1000, TIMEOUT), 1);
	assert_int_equal(gw_snapshot(t, 1000, &v, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(gw_restore(u, &v[0]), 0);
	assert_int_equal(gw_restore(u, &v[0]), -EEXIST);
	assert_int_equal(gw_lookup_flow(u, 6, htonl(NAT_ADDR), 40000, 0, 1001,
					&mark), 0);
	assert_int_equal(mark, 3);
	bad = v[0];
	bad.mark = 0;
	assert_int_equal(gw_restore(u, &bad), -EINVAL);
	bad = v[0];
	bad.l2tp = 1;
	bad.proto = 17;
	bad.id = 0;
	assert_int_equal(gw_restore(u, &bad), -EINVAL);
	bad.proto = 6;
	bad.id = 5;
	assert_int_equal(gw_restore(u, &bad), -EINVAL);
	free(v);
	gw_free(t);
	gw_free(u);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_two_clients),
		cmocka_unit_test(test_five_clients),
		cmocka_unit_test(test_unknown_tunnel),
		cmocka_unit_test(test_rekey),
		cmocka_unit_test(test_rekey_flow),
		cmocka_unit_test(test_expiry),
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_flow),
		cmocka_unit_test(test_malformed_l2tp),
		cmocka_unit_test(test_hidden_id),
		cmocka_unit_test(test_gateway_initiated),
		cmocka_unit_test(test_same_client_tid),
		cmocka_unit_test(test_malformed_ip),
		cmocka_unit_test(test_api_edges),
		cmocka_unit_test(test_snapshot_flush),
		cmocka_unit_test(test_restore),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
