/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The verdict path without the kernel: worker_decide() on prepared
 * packets, with the real config, table, pool and translation. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "worker.h"

static const char *const one_client[] = {
	"inside 192.0.2.0/24", "alias 203.0.113.11", "alias-clients 1",
	"mark 0x100/0xff00", NULL,
};

static struct daemon *mkd_cfg(const char *const *lines)
{
	struct daemon *d = calloc(1, sizeof(*d));
	struct config_errors e = { .n = 0 };
	struct session_limits lim = { 16, 64, 0 };
	unsigned i;

	assert_non_null(d);
	d->cfg = calloc(1, sizeof(*d->cfg));
	config_init(d->cfg);
	for (i = 0; lines[i]; i++)
		assert_int_equal(config_line(d->cfg, "w", i + 1, lines[i], &e), 0);
	assert_int_equal(config_finish(d->cfg, "w", &e), 0);
	d->table = session_table_new(&lim);
	d->pool = alias_pool_new(d->cfg);
	d->xlate = (struct xlate_ctx){ d->table, d->cfg, d->pool, false };
	log_init("test", true, LOG_ERR);
	return d;
}

static struct daemon *mkd(void)
{
	return mkd_cfg(one_client);
}

static void freed(struct daemon *d)
{
	session_table_free(d->table);
	alias_pool_free(d->pool);
	free(d->cfg);
	free(d);
}

/* An IPv4 header of @len bytes in all, zeroed after it; the IP checksum
 * is not needed for the decision. */
static void ip4(uint8_t *p, uint8_t len, uint8_t proto, uint32_t src,
		uint32_t dst)
{
	uint32_t s = htonl(src), t = htonl(dst);

	memset(p, 0, len);
	p[0] = 0x45;
	p[3] = len;
	p[8] = 64;
	p[9] = proto;
	memcpy(p + 12, &s, 4);
	memcpy(p + 16, &t, 4);
}

/* raw ESP, 36 bytes */
static void esp(uint8_t *p, uint32_t src, uint32_t dst, uint32_t spi)
{
	uint32_t v = htonl(spi);

	ip4(p, 36, 50, src, dst);
	memcpy(p + 20, &v, 4);
}

/* An IKEv2 INFORMATIONAL request on udp/500 of the established IKE SA
 * @ispi (responder SPI 1), 56 bytes. */
static void ike_info(uint8_t *p, uint32_t src, uint32_t dst, uint64_t ispi)
{
	int i;

	ip4(p, 56, 17, src, dst);
	p[20] = p[22] = 500 >> 8;
	p[21] = p[23] = 500 & 0xff;
	p[25] = 36;
	for (i = 0; i < 8; i++)
		p[28 + i] = (uint8_t)(ispi >> (56 - 8 * i));
	p[28 + 15] = 1;
	p[28 + 16] = 46;
	p[28 + 17] = 0x20;
	p[28 + 18] = 37;
	p[28 + 19] = 0x08;
	p[28 + 27] = 28;
}

/* An L2TP control message from/to 198.51.100.7:1701 (the NAT all
 * clients share) to/from the gateway 192.0.2.1:1701: header tunnel ID
 * @tid, Message Type @type and, when not 0, Assigned Tunnel ID @atid.
 * 56 bytes with @atid, 48 without. */
static uint32_t l2tp_pkt(uint8_t *p, bool to_client, uint16_t tid,
			 uint16_t type, uint16_t atid)
{
	static const uint8_t nat[4] = { 198, 51, 100, 7 };
	static const uint8_t gw[4] = { 192, 0, 2, 1 };
	uint32_t len = atid ? 56 : 48;
	uint8_t *u = p + 20, *l = p + 28;

	memset(p, 0, len);
	p[0] = 0x45;
	p[3] = (uint8_t)len;
	p[8] = 64;
	p[9] = 17;
	memcpy(p + 12, to_client ? gw : nat, 4);
	memcpy(p + 16, to_client ? nat : gw, 4);
	u[0] = 1701 >> 8, u[1] = 1701 & 0xff;
	u[2] = 1701 >> 8, u[3] = 1701 & 0xff;
	u[5] = (uint8_t)(len - 20);
	l[0] = 0xc8, l[1] = 0x02;		/* T L S, version 2 */
	l[3] = (uint8_t)(len - 28);
	l[4] = (uint8_t)(tid >> 8), l[5] = (uint8_t)tid;
	l[12] = 0x80, l[13] = 8;		/* M, length 8 */
	l[19] = (uint8_t)type;			/* Message Type */
	if (atid) {
		l[20] = 0x80, l[21] = 8;
		l[25] = 9;			/* Assigned Tunnel ID */
		l[26] = (uint8_t)(atid >> 8), l[27] = (uint8_t)atid;
	}
	return len;
}

/* Mode gateway: the hook tells the direction; a client's SCCRQ (INPUT)
 * teaches its mark, and packets to it (OUTPUT) get that mark in the
 * mask's bits, the other bits kept; nothing is rewritten or dropped. */
static void test_decide_gateway(void **state)
{
	static const char *const gw[] = {
		"mode gateway", "gateway-mark 0xff", NULL,
	};
	struct daemon *d = mkd_cfg(gw);
	struct worker_counters c;
	struct gw_counters g;
	uint8_t buf[64];
	struct queue_pkt pkt = { .data = buf };
	bool payload, set_mark;
	uint32_t mark, v;
	unsigned i;

	(void)state;
	memset(&c, 0, sizeof(c));
	d->gw = gw_new(16);
	assert_non_null(d->gw);
	/* two clients behind one NAT, both udp/1701, SA marks 1 and 2 */
	for (i = 0; i < 2; i++) {
		pkt.len = pkt.orig_len = l2tp_pkt(buf, false, 0, 1,
						  (uint16_t)(0x1000 + i));
		pkt.hook = NF_INET_LOCAL_IN;
		pkt.mark = 0x500 | (i + 1);
		v = worker_decide(d, &c, &pkt, 100, 100000, &payload,
				  &set_mark, &mark);
		assert_int_equal(v, NF_ACCEPT);
		assert_false(payload);
		assert_false(set_mark);
	}
	for (i = 0; i < 2; i++) {
		mark = 0;
		pkt.len = pkt.orig_len = l2tp_pkt(buf, true,
						  (uint16_t)(0x1000 + i), 2,
						  (uint16_t)(7 + i));
		pkt.hook = NF_INET_LOCAL_OUT;
		pkt.mark = 0x7000;	/* what conntrack restored, say */
		v = worker_decide(d, &c, &pkt, 101, 101000, &payload,
				  &set_mark, &mark);
		assert_int_equal(v, NF_ACCEPT);
		assert_false(payload);
		assert_true(set_mark);
		assert_int_equal(mark, 0x7000 | (i + 1));
	}
	/* already the right mark: no change asked */
	pkt.len = pkt.orig_len = l2tp_pkt(buf, true, 0x1001, 6, 0);
	pkt.mark = 0x7002;
	v = worker_decide(d, &c, &pkt, 101, 101000, &payload, &set_mark,
			  &mark);
	assert_int_equal(v, NF_ACCEPT);
	assert_false(set_mark);
	/* a tunnel nobody set up keeps its mark and is counted */
	pkt.len = pkt.orig_len = l2tp_pkt(buf, true, 0x2222, 6, 0);
	pkt.mark = 0x7000;
	v = worker_decide(d, &c, &pkt, 101, 101000, &payload, &set_mark,
			  &mark);
	assert_int_equal(v, NF_ACCEPT);
	assert_false(set_mark);
	/* cut short by the copy: accepted untouched, counted */
	pkt.orig_len = pkt.len + 100;
	v = worker_decide(d, &c, &pkt, 101, 101000, &payload, &set_mark,
			  &mark);
	assert_int_equal(v, NF_ACCEPT);
	assert_false(set_mark);
	gw_counters(d->gw, &g);
	assert_int_equal(g.learned, 2);
	assert_int_equal(g.lookup_hit, 3);
	assert_int_equal(g.lookup_miss, 1);
	assert_int_equal(g.res[GW_OUT][GW_UNKNOWN], 1);
	assert_int_equal(c.packets, 7);
	assert_int_equal(c.accepted, 7);
	assert_int_equal(c.dropped, 0);
	assert_int_equal(c.gw_marked, 2);
	assert_int_equal(c.truncated, 1);
	gw_free(d->gw);
	freed(d);
}

/* With offload on, an SA is handed to the kernel by the first packet the
 * table already knew it for, once, keyed as its packets arrive, with the
 * address and the mark they get; off, never. */
static void test_decide_offload(void **state)
{
	struct daemon *d = mkd();
	struct worker_counters c;
	struct offload_entry e;
	uint8_t buf[64];
	struct queue_pkt pkt = { .id = 1, .data = buf, .len = 36,
				 .orig_len = 36 };
	bool payload, set_mark;
	uint32_t mark = 0;
	unsigned i;

	(void)state;
	memset(&c, 0, sizeof(c));
	d->xlate.offload = true;
	for (i = 0; i < 3; i++) {
		esp(buf, 0xc000020b, 0xcb007164, 0x1001);
		memset(&e, 0xee, sizeof(e));
		assert_int_equal(worker_decide_off(d, &c, &pkt, 5, 5000,
						   &payload, &set_mark, &mark,
						   &e), NF_ACCEPT);
		if (i != 1) {
			/* the first made the SA; the third finds it given */
			assert_int_equal(e.map, OFFLOAD_MAPS);
			continue;
		}
		assert_int_equal(e.map, OFFLOAD_OUT_ESP);
		assert_int_equal(e.src, 0xc000020b);
		assert_int_equal(e.dst, 0xcb007164);
		assert_int_equal(e.spi, 0x1001);
		assert_int_equal(e.addr, 0xcb00710b);
		assert_int_equal(e.mark_value, 0x100);
		assert_int_equal(e.mark_mask, 0xff00);
	}
	/* the reply's SPI: learned by its first packet, handed over by the
	 * second */
	for (i = 0; i < 2; i++) {
		esp(buf, 0xcb007164, 0xcb00710b, 0x2002);
		assert_int_equal(worker_decide_off(d, &c, &pkt, 5, 5000,
						   &payload, &set_mark, &mark,
						   &e), NF_ACCEPT);
		assert_int_equal(e.map, i ? OFFLOAD_IN_ESP : OFFLOAD_MAPS);
	}
	assert_int_equal(e.src, 0xcb007164);
	assert_int_equal(e.dst, 0xcb00710b);
	assert_int_equal(e.spi, 0x2002);
	assert_int_equal(e.addr, 0xc000020b);
	/* an IKEv2 SA's INFORMATIONAL exchanges: by the first one, keyed
	 * by the initiator SPI */
	pkt.len = pkt.orig_len = 56;
	for (i = 0; i < 2; i++) {
		ike_info(buf, 0xc000020b, 0xcb007164, 0x1ce0000100000002ull);
		assert_int_equal(worker_decide_off(d, &c, &pkt, 5, 5000,
						   &payload, &set_mark, &mark,
						   &e), NF_ACCEPT);
		assert_int_equal(e.map, i ? OFFLOAD_MAPS : OFFLOAD_OUT_IKE);
		if (i)
			continue;
		assert_int_equal(e.src, 0xc000020b);
		assert_int_equal(e.dst, 0xcb007164);
		assert_true(e.spi == 0x1ce0000100000002ull);
		assert_int_equal(e.addr, 0xcb00710b);
		assert_int_equal(e.mark_value, 0x100);
		assert_int_equal(e.mark_mask, 0xff00);
	}
	ike_info(buf, 0xcb007164, 0xcb00710b, 0x1ce0000100000002ull);
	assert_int_equal(worker_decide_off(d, &c, &pkt, 5, 5000, &payload,
					   &set_mark, &mark, &e), NF_ACCEPT);
	assert_int_equal(e.map, OFFLOAD_IN_IKE);
	assert_int_equal(e.addr, 0xc000020b);
	pkt.len = pkt.orig_len = 36;
	/* what is dropped is never handed over */
	esp(buf, 0xc000020c, 0xcb007164, 0x1002);
	assert_int_equal(worker_decide_off(d, &c, &pkt, 5, 5000, &payload,
					   &set_mark, &mark, &e), NF_DROP);
	assert_int_equal(e.map, OFFLOAD_MAPS);
	/* offload off */
	d->xlate.offload = false;
	for (i = 0; i < 3; i++) {
		esp(buf, 0xc000020b, 0xcb007164, 0x1003);
		assert_int_equal(worker_decide_off(d, &c, &pkt, 5, 5000,
						   &payload, &set_mark, &mark,
						   &e), NF_ACCEPT);
		assert_int_equal(e.map, OFFLOAD_MAPS);
	}
	assert_int_equal(c.rewritten, 3 + 2 + 3 + 3);
	freed(d);
}

static void test_decide(void **state)
{
	struct daemon *d = mkd();
	struct worker_counters c;
	uint8_t buf[64];
	struct queue_pkt pkt = { .id = 1, .data = buf, .len = 36,
				 .orig_len = 36, .mark = 0x12345 };
	bool payload, set_mark;
	uint32_t mark = 0, a;

	(void)state;
	memset(&c, 0, sizeof(c));
	esp(buf, 0xc000020b, 0xcb007164, 0x1001);
	assert_int_equal(worker_decide(d, &c, &pkt, 5, 5000, &payload, &set_mark,
				       &mark), NF_ACCEPT);
	assert_true(payload);
	assert_true(set_mark);
	/* bits outside the mask survive, the masked part is ours */
	assert_int_equal(mark, 0x10145);
	memcpy(&a, buf + 12, 4);
	assert_int_equal(ntohl(a), 0xcb00710b);
	assert_int_equal(c.rewritten, 1);
	assert_int_equal(c.kind[PKT_ESP], 1);

	/* a second client finds no free alias: dropped, counted, unchanged */
	esp(buf, 0xc000020c, 0xcb007164, 0x1002);
	assert_int_equal(worker_decide(d, &c, &pkt, 5, 5000, &payload, &set_mark,
				       &mark), NF_DROP);
	assert_false(payload);
	memcpy(&a, buf + 12, 4);
	assert_int_equal(ntohl(a), 0xc000020c);
	assert_int_equal(c.xlate[XL_DROP_NO_ALIAS], 1);

	/* malformed: counted under its reason */
	esp(buf, 0xc000020b, 0xcb007164, 0x10);
	assert_int_equal(worker_decide(d, &c, &pkt, 5, 5000, &payload, &set_mark,
				       &mark), NF_DROP);
	assert_int_equal(c.malformed[PKT_ERR_ESP_SPI], 1);

	/* only part of the packet was copied: never rewritten or passed */
	esp(buf, 0xc000020b, 0xcb007164, 0x1001);
	pkt.orig_len = 1500;
	assert_int_equal(worker_decide(d, &c, &pkt, 5, 5000, &payload, &set_mark,
				       &mark), NF_DROP);
	assert_int_equal(c.truncated, 1);
	pkt.orig_len = 36;
	pkt.data = NULL;
	assert_int_equal(worker_decide(d, &c, &pkt, 5, 5000, &payload, &set_mark,
				       &mark), NF_DROP);
	assert_int_equal(c.truncated, 2);

	assert_int_equal(c.packets, 5);
	assert_int_equal(c.accepted + c.dropped, c.packets);
	freed(d);
}

static void test_partial_checksum_counted(void **state)
{
	struct daemon *d = mkd();
	struct worker_counters c;
	uint8_t buf[64];
	struct queue_pkt pkt = { .id = 2, .data = buf, .len = 57,
				 .orig_len = 57,
				 .skbinfo = NFQA_SKB_CSUMNOTREADY };
	bool payload, set_mark;
	uint32_t mark;
	uint32_t s = htonl(0xc000020b), t = htonl(0xcb007164);

	(void)state;
	memset(&c, 0, sizeof(c));
	memset(buf, 0, sizeof(buf));
	buf[0] = 0x45;
	buf[3] = 57;
	buf[9] = 17;
	memcpy(buf + 12, &s, 4);
	memcpy(buf + 16, &t, 4);
	buf[20] = 0x11;		/* 4500 -> 4500, a keepalive */
	buf[21] = 0x94;
	buf[22] = 0x11;
	buf[23] = 0x94;
	buf[25] = 37;
	buf[28] = 0;		/* non-ESP marker, then an IKE header */
	buf[32 + 7] = 1;	/* ispi 1 */
	buf[32 + 17] = 0x20;
	buf[32 + 27] = 28;
	pkt.len = pkt.orig_len = 57 + 3;
	buf[3] = 60;
	buf[25] = 40;
	assert_int_equal(worker_decide(d, &c, &pkt, 5, 5000, &payload, &set_mark,
				       &mark), NF_ACCEPT);
	assert_int_equal(c.csum_partial, 1);
	assert_int_equal(c.kind[PKT_NATT_IKE], 1);
	/* the completed checksum is not the partial one left in place */
	assert_false(buf[26] == 0 && buf[27] == 0);
	freed(d);
}

/* an IKEv2 request from udp/500 with initiator SPI @ispi, 56 bytes */
static void ike(uint8_t *p, uint32_t src, uint32_t dst, uint8_t ispi,
		uint8_t exch)
{
	uint32_t s = htonl(src), t = htonl(dst);

	memset(p, 0, 56);
	p[0] = 0x45;
	p[3] = 56;
	p[8] = 64;
	p[9] = 17;
	memcpy(p + 12, &s, 4);
	memcpy(p + 16, &t, 4);
	p[20] = 0x01;		/* 500 -> 500 */
	p[21] = 0xf4;
	p[22] = 0x01;
	p[23] = 0xf4;
	p[25] = 36;
	p[28 + 7] = ispi;
	p[28 + 15] = (uint8_t)(ispi + 0x80);	/* rspi */
	p[28 + 17] = 0x20;	/* IKEv2 */
	p[28 + 18] = exch;
	p[28 + 19] = 0x08;	/* initiator, request */
	p[28 + 27] = 28;
}

struct emitted {
	unsigned n;
	uint32_t id[8], verdict[8], len[8];
	uint8_t data[8][64];
};

static void emit(void *ctx, uint32_t id, uint32_t verdict, bool set_mark,
		 uint32_t mark, const void *payload, uint32_t len)
{
	struct emitted *e = ctx;

	(void)set_mark;
	(void)mark;
	assert_true(e->n < 8);
	e->id[e->n] = id;
	e->verdict[e->n] = verdict;
	e->len[e->n] = payload ? len : 0;
	if (payload)
		memcpy(e->data[e->n], payload, len < 64 ? len : 64);
	e->n++;
}

static uint32_t decide_one(struct daemon *d, struct worker_counters *c,
			   uint8_t *buf, uint32_t len, uint32_t id,
			   uint32_t now_ms)
{
	struct queue_pkt pkt = { .id = id, .data = buf, .len = len,
				 .orig_len = len };
	bool payload, set_mark;
	uint32_t mark;

	return worker_decide(d, c, &pkt, now_ms / 1000, now_ms, &payload,
			     &set_mark, &mark);
}

static const char *const shared[] = {
	"inside 192.0.2.0/24", "alias 203.0.113.11", "alias-clients 4",
	"server 203.0.113.100", "gate-hold 500", NULL,
};

#define CL1 0xc000020bu
#define CL2 0xc000020cu
#define CL3 0xc000020du
#define SRV 0xcb007164u
#define ALIAS 0xcb00710bu

/* A negotiation that meets a closed gate is held, not dropped: it gets
 * its verdict, rewritten, once the holder has its SPI; held packets go
 * out oldest first; one that waits too long is dropped and counted. */
static void test_hold_for_gate(void **state)
{
	struct daemon *d = mkd_cfg(shared);
	struct worker_counters c;
	struct hold_pool h;
	struct session_counters sc;
	struct emitted e = { .n = 0 };
	uint8_t buf[64];
	struct queue_pkt pkt = { .data = buf, .len = 56, .orig_len = 56 };
	uint32_t t = 100000, a;

	(void)state;
	memset(&c, 0, sizeof(c));
	memset(&h, 0, sizeof(h));
	/* client 1 negotiates its CHILD SA: it holds the gate */
	ike(buf, CL1, SRV, 1, 34);
	assert_int_equal(decide_one(d, &c, buf, 56, 1, t), NF_ACCEPT);
	ike(buf, CL2, SRV, 2, 34);
	assert_int_equal(decide_one(d, &c, buf, 56, 2, t), NF_ACCEPT);
	ike(buf, CL1, SRV, 1, 35);
	assert_int_equal(decide_one(d, &c, buf, 56, 3, t), NF_ACCEPT);
	/* client 2's IKE_AUTH and client 3's IKE_SA_INIT+IKE_AUTH wait */
	ike(buf, CL2, SRV, 2, 35);
	assert_int_equal(decide_one(d, &c, buf, 56, 4, t + 1), WORKER_HOLD);
	/* nothing in the packet changed: it is copied as it came */
	memcpy(&a, buf + 12, 4);
	assert_int_equal(ntohl(a), CL2);
	pkt.id = 4;
	assert_true(hold_put(&h, &pkt, t + 1));
	ike(buf, CL3, SRV, 3, 34);
	assert_int_equal(decide_one(d, &c, buf, 56, 5, t + 2), NF_ACCEPT);
	ike(buf, CL3, SRV, 3, 35);
	assert_int_equal(decide_one(d, &c, buf, 56, 6, t + 3), WORKER_HOLD);
	pkt.id = 6;
	assert_true(hold_put(&h, &pkt, t + 3));

	/* still closed: both keep waiting, nothing emitted or counted */
	assert_int_equal(hold_retry(d, &c, &h, t / 1000, t + 50, emit, &e), 2);
	assert_int_equal(e.n, 0);

	/* client 1 uses its new SA; the reply's SPI is learned */
	esp(buf, CL1, SRV, 0x1001);
	assert_int_equal(decide_one(d, &c, buf, 36, 7, t + 60), NF_ACCEPT);
	esp(buf, SRV, ALIAS, 0xa001);
	assert_int_equal(decide_one(d, &c, buf, 36, 8, t + 70), NF_ACCEPT);
	memcpy(&a, buf + 16, 4);
	assert_int_equal(ntohl(a), CL1);

	/* the gate opened: the oldest waiter goes, rewritten to the alias;
	 * client 3 now waits for client 2 */
	assert_int_equal(hold_retry(d, &c, &h, t / 1000, t + 80, emit, &e), 1);
	assert_int_equal(e.n, 1);
	assert_int_equal(e.id[0], 4);
	assert_int_equal(e.verdict[0], NF_ACCEPT);
	assert_int_equal(e.len[0], 56);
	memcpy(&a, e.data[0] + 12, 4);
	assert_int_equal(ntohl(a), ALIAS);
	assert_int_equal(c.held_released, 1);
	assert_int_equal(c.held_wait_ms_max, 79);

	/* client 2 never uses a new SA: client 3 gets the gate when the
	 * hold (500 ms) runs out, before its own wait limit (1000 ms) */
	assert_int_equal(hold_retry(d, &c, &h, t / 1000, t + 500, emit, &e), 1);
	assert_int_equal(e.n, 1);
	assert_int_equal(hold_retry(d, &c, &h, t / 1000, t + 590, emit, &e), 0);
	assert_int_equal(e.n, 2);
	assert_int_equal(e.id[1], 6);
	assert_int_equal(e.verdict[1], NF_ACCEPT);
	memcpy(&a, e.data[1] + 12, 4);
	assert_int_equal(ntohl(a), ALIAS);

	/* client 1 rekeys while client 3 holds the gate (until t + 1090)
	 * and never gets an SPI.  Each time the gate opens, a fresh
	 * negotiation from another queue's worker takes it before this
	 * worker looks again; past twice the hold, client 1's packet is
	 * dropped and counted (its peer retransmits) */
	ike(buf, CL1, SRV, 1, 36);
	assert_int_equal(decide_one(d, &c, buf, 56, 9, t + 600), WORKER_HOLD);
	pkt.id = 9;
	assert_true(hold_put(&h, &pkt, t + 600));
	assert_int_equal(hold_retry(d, &c, &h, t / 1000, t + 1000, emit, &e), 1);
	ike(buf, CL2, SRV, 2, 36);
	assert_int_equal(decide_one(d, &c, buf, 56, 10, t + 1095), NF_ACCEPT);
	assert_int_equal(hold_retry(d, &c, &h, t / 1000, t + 1100, emit, &e), 1);
	ike(buf, CL3, SRV, 3, 36);
	assert_int_equal(decide_one(d, &c, buf, 56, 11, t + 1596), NF_ACCEPT);
	assert_int_equal(hold_retry(d, &c, &h, t / 1000, t + 1601, emit, &e), 0);
	assert_int_equal(e.n, 3);
	assert_int_equal(e.id[2], 9);
	assert_int_equal(e.verdict[2], NF_DROP);
	assert_int_equal(e.len[2], 0);
	assert_int_equal(c.held_expired, 1);
	assert_int_equal(c.held_released, 2);

	/* each wait counted once, however often it was decided again */
	session_counters(d->table, &sc);
	assert_int_equal(sc.gate_deferred, 3);
	assert_int_equal(c.xlate[XL_DROP_GATE], 3);
	hold_free(&h);
	freed(d);
}

/* The pool is bounded: a packet that finds no slot is refused. */
static void test_hold_pool_full(void **state)
{
	struct hold_pool h;
	uint8_t buf[3000];
	struct queue_pkt pkt = { .data = buf, .len = 100, .orig_len = 100 };
	unsigned i;

	(void)state;
	memset(&h, 0, sizeof(h));
	memset(buf, 0xab, sizeof(buf));
	for (i = 0; i < WORKER_HOLD_SLOTS; i++) {
		pkt.id = i;
		pkt.len = i == 7 ? 3000 : 100;	/* one bigger than a slot */
		assert_true(hold_put(&h, &pkt, 1));
	}
	assert_false(hold_put(&h, &pkt, 1));
	assert_int_equal(h.n, WORKER_HOLD_SLOTS);
	assert_int_equal(h.slot[7].len, 3000);
	assert_true(h.slot[7].cap >= 3000);
	assert_int_equal(h.slot[7].data[2999], 0xab);
	hold_free(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decide),
		cmocka_unit_test(test_decide_offload),
		cmocka_unit_test(test_decide_gateway),
		cmocka_unit_test(test_partial_checksum_counted),
		cmocka_unit_test(test_hold_for_gate),
		cmocka_unit_test(test_hold_pool_full),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
