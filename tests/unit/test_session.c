/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "offload.h"
#include "session.h"

#define C(i) (0xc0000200u + (i))	/* 192.0.2.i */
#define S(i) (0xcb007100u + (i))	/* 203.0.113.i */

static struct session_table *mk(uint32_t max, uint32_t max_sa)
{
	struct session_limits lim = { max, max_sa, 0 };
	struct session_table *t = session_table_new(&lim);

	assert_non_null(t);
	return t;
}

/* The session on (alias, server), which these tests never share. */
static session_id in_first(const struct session_table *t, uint32_t alias,
			   uint32_t server)
{
	session_id first;

	assert_true(session_group(t, alias, server, &first) <= 1);
	return first;
}

/* The per-client count map against a plain array, through many adds and
 * removals (its deletions move entries back; none may get lost): with
 * @clients clients of at most @per sessions each in a table of @max. */
static void per_client_run(uint32_t max, unsigned clients, unsigned per)
{
	struct session_limits lim = { max, 2 * max, per };
	struct session_table *t = session_table_new(&lim);
	unsigned ref[256] = { 0 }, i, c;
	uint32_t rnd = 12345;

	assert_non_null(t);
	assert_true(clients <= 256 && clients * per <= max);
	for (i = 0; i < 50000; i++) {
		rnd = rnd * 1103515245u + 12345u;
		c = (rnd >> 8) % clients;
		if ((rnd >> 20) % 4) {
			if (ref[c] >= per) {
				assert_true(session_client_full(t, C(c)));
				continue;
			}
			assert_false(session_client_full(t, C(c)));
			assert_int_not_equal(session_add(t, C(c), S(ref[c] + 1),
							 S(100), 0, 0, 0, 1,
							 30), SESSION_NONE);
			ref[c]++;
		} else {
			assert_int_equal(session_flush_client(t, C(c)), ref[c]);
			ref[c] = 0;
		}
	}
	for (c = 0; c < clients; c++)
		assert_int_equal(session_client_full(t, C(c)), ref[c] >= per);
	session_table_free(t);
}

static void test_per_client_counts(void **state)
{
	(void)state;
	per_client_run(512, 64, 3);
	/* nearly as many clients as the map has room for: long probes,
	 * many entries moved back on deletion */
	per_client_run(128, 120, 1);
}

/* One session holds at most SESSION_MAX_SAS SAs (a flood of spoofed SPIs
 * on its alias cannot take the pool); others still get theirs, and an SA
 * that expires makes room again. */
static void test_sas_per_session(void **state)
{
	struct session_table *t = mk(4, 256);
	struct session_counters sc;
	session_id a, b;
	uint32_t i;

	(void)state;
	a = session_add(t, C(1), S(100), S(11), 0, 0, 0, 1, 30);
	b = session_add(t, C(2), S(100), S(12), 0, 0, 0, 1, 30);
	for (i = 0; i < SESSION_MAX_SAS + 8; i++)
		assert_int_equal(session_sa_touch(t, a, S(100), SA_ESP_IN,
						  0x1000 + i, 0, 0, 0, 0, 60,
						  1 + i % 2, 10),
				 i < SESSION_MAX_SAS ? 1 : -ENOSPC);
	/* known ones are still touched */
	assert_int_equal(session_sa_touch(t, a, S(100), SA_ESP_IN, 0x1000, 0,
					  0, 0, 0, 60, 20, 10), 0);
	assert_int_equal(session_sa_touch(t, b, S(100), SA_ESP_IN, 0x9000, 0,
					  0, 0, 0, 60, 1, 10), 1);
	session_counters(t, &sc);
	assert_int_equal(sc.sa_refused_session, 8);
	assert_int_equal(sc.sa_refused_full, 0);
	/* those last touched at 1 expire at 11; the one touched at 20
	 * stays: room for new ones again */
	session_expire(t, 12);
	assert_int_equal(session_sa_touch(t, a, S(100), SA_ESP_IN, 0x7777, 0,
					  0, 0, 0, 60, 12, 10), 1);
	session_table_free(t);
}

static void test_add_lookup(void **state)
{
	struct session_table *t = mk(16, 64);
	session_id a, b;

	(void)state;
	assert_int_equal(session_lookup_out(t, C(11), S(100)), SESSION_NONE);
	a = session_add(t, C(11), S(100), S(11), 0, 0, 0, 100, 30);
	b = session_add(t, C(12), S(100), S(12), SESSION_F_PINNED, 0x10,
			0xff, 100, 30);
	assert_int_not_equal(a, SESSION_NONE);
	assert_int_not_equal(b, SESSION_NONE);
	assert_int_not_equal(a, b);
	assert_int_equal(session_lookup_out(t, C(11), S(100)), a);
	assert_int_equal(session_lookup_out(t, C(12), S(100)), b);
	assert_int_equal(in_first(t, S(11), S(100)), a);
	assert_int_equal(in_first(t, S(12), S(100)), b);
	/* other server, other client: not found */
	assert_int_equal(session_lookup_out(t, C(11), S(101)), SESSION_NONE);
	assert_int_equal(in_first(t, S(11), S(101)), SESSION_NONE);
	assert_int_equal(session_client(t, b), C(12));
	assert_int_equal(session_alias(t, a), S(11));
	{
		uint32_t v, m;

		session_mark(t, b, &v, &m);
		assert_int_equal(v, 0x10);
		assert_int_equal(m, 0xff);
	}
	session_table_free(t);
}

static void test_capacity(void **state)
{
	struct session_table *t = mk(3, 8);
	struct session_counters c;
	uint32_t i;

	(void)state;
	for (i = 0; i < 3; i++)
		assert_int_not_equal(session_add(t, C(i + 1), S(100), S(i + 1),
						 0, 0, 0, 10, 30), SESSION_NONE);
	assert_int_equal(session_add(t, C(9), S(100), S(9), 0, 0, 0, 10, 30),
			 SESSION_NONE);
	session_counters(t, &c);
	assert_int_equal(c.active, 3);
	assert_int_equal(c.refused_full, 1);
	/* the old ones are all still there */
	for (i = 0; i < 3; i++)
		assert_int_not_equal(session_lookup_out(t, C(i + 1), S(100)),
				     SESSION_NONE);
	/* once one expires, a new one fits */
	session_touch(t, session_lookup_out(t, C(1), S(100)), true, 10, 20,
		      1000, 30);
	session_touch(t, session_lookup_out(t, C(2), S(100)), true, 10, 20,
		      1000, 30);
	assert_int_equal(session_expire(t, 41), 1);
	assert_int_equal(session_lookup_out(t, C(3), S(100)), SESSION_NONE);
	assert_int_equal(in_first(t, S(3), S(100)), SESSION_NONE);
	assert_int_not_equal(session_add(t, C(9), S(100), S(9), 0, 0, 0, 41,
					 30), SESSION_NONE);
	session_table_free(t);
}

static void test_expiry_pending_vs_replied(void **state)
{
	struct session_table *t = mk(8, 8);
	session_id a, b;

	(void)state;
	a = session_add(t, C(1), S(100), S(1), 0, 0, 0, 100, 30);
	b = session_add(t, C(2), S(100), S(2), 0, 0, 0, 100, 30);
	/* a never hears back: outbound packets keep it for `pending` */
	session_touch(t, a, false, 100, 110, 3600, 30);
	/* b got a reply: it lives for the kind's timeout */
	session_touch(t, b, false, 100, 110, 3600, 30);
	session_touch(t, b, true, 100, 111, 3600, 30);
	assert_int_equal(session_expire(t, 139), 0);
	assert_int_equal(session_expire(t, 140), 1);
	assert_int_equal(session_lookup_out(t, C(1), S(100)), SESSION_NONE);
	assert_int_equal(session_lookup_out(t, C(2), S(100)), b);
	assert_int_equal(session_expire(t, 111 + 3599), 0);
	assert_int_equal(session_expire(t, 111 + 3600), 1);
	assert_int_equal(session_lookup_out(t, C(2), S(100)), SESSION_NONE);
	session_table_free(t);
}

/* An SA of session @a, whose server is S(100). */
static int sa(struct session_table *t, session_id a, enum sa_kind kind,
	      uint64_t spi_i, uint64_t spi_r, uint8_t version, uint8_t exch,
	      uint8_t flags, uint32_t bytes, uint32_t now, uint32_t timeout)
{
	return session_sa_touch(t, a, S(100), kind, spi_i, spi_r, version, exch,
				flags, bytes, now, timeout);
}

static void test_sa_tracking(void **state)
{
	struct session_table *t = mk(8, 4);
	struct session_view *sv = NULL;
	struct sa_view *av = NULL;
	struct session_counters c;
	size_t nsv = 0, nav = 0, i;
	session_id a;
	bool seen_ike = false, seen_out = false, seen_in = false;

	(void)state;
	a = session_add(t, C(1), S(100), S(1), 0, 0, 0, 100, 30);
	/* 1: a new SA, 0: one already known */
	assert_int_equal(sa(t, a, SA_IKE, 0xabc, 0, 2, 34, 0,
					  300, 100, 3600), 1);
	/* the reply teaches the responder SPI */
	assert_int_equal(sa(t, a, SA_IKE, 0xabc, 0xdef, 2, 34, 0,
					  300, 101, 3600), 0);
	assert_int_equal(sa(t, a, SA_ESP_OUT, 0x1001, 0, 0, 0, 0,
					  100, 102, 900), 1);
	assert_int_equal(sa(t, a, SA_ESP_IN, 0x2001, 0, 0, 0,
					  SA_F_NATT, 100, 103, 300), 1);
	/* the same SPI in the other direction is another SA */
	assert_int_equal(sa(t, a, SA_ESP_IN, 0x1001, 0, 0, 0, 0,
					  100, 103, 900), 1);
	/* pool of 4 is full now: counted, refused */
	assert_int_equal(sa(t, a, SA_ESP_IN, 0x3001, 0, 0, 0, 0,
					  100, 103, 900), -ENOSPC);
	session_counters(t, &c);
	assert_int_equal(c.sa_active, 4);
	assert_int_equal(c.sa_refused_full, 1);

	assert_int_equal(session_snapshot(t, &sv, &nsv, &av, &nav), 0);
	assert_int_equal(nsv, 1);
	assert_int_equal(nav, 4);
	assert_int_equal(sv[0].n_sa, 4);
	assert_int_equal(sv[0].client, C(1));
	for (i = 0; i < nav; i++) {
		if (av[i].kind == SA_IKE) {
			assert_true(av[i].spi_i == 0xabc && av[i].spi_r == 0xdef);
			assert_int_equal(av[i].pkts, 2);
			assert_int_equal(av[i].bytes, 600);
			assert_int_equal(av[i].version, 2);
			seen_ike = true;
		} else if (av[i].kind == SA_ESP_OUT) {
			assert_true(av[i].spi_i == 0x1001);
			seen_out = true;
		} else if (av[i].spi_i == 0x2001) {
			assert_int_equal(av[i].flags, SA_F_NATT);
			assert_int_equal(av[i].deadline, 403);
			seen_in = true;
		}
	}
	assert_true(seen_ike && seen_out && seen_in);
	free(sv);
	free(av);

	/* SAs expire on their own; the session stays while it lives */
	session_touch(t, a, true, 1, 104, 10000, 30);
	session_expire(t, 403);
	session_counters(t, &c);
	assert_int_equal(c.sa_active, 3);
	assert_int_equal(c.sa_expired, 1);
	/* a freed SA slot is reused */
	assert_int_equal(sa(t, a, SA_ESP_IN, 0x3001, 0, 0, 0, 0,
					  100, 404, 900), 1);
	session_flush(t);
	session_counters(t, &c);
	assert_int_equal(c.active, 0);
	assert_int_equal(c.sa_active, 0);
	session_table_free(t);
}

/* Flushing one client takes its sessions toward every server, with their
 * SAs, and nobody else's; flushing all empties the table, which then
 * fills again. */
static void test_flush(void **state)
{
	struct session_table *t = mk(8, 16);
	struct session_counters c;
	unsigned owners;
	session_id a, b, d;

	(void)state;
	a = session_add(t, C(1), S(100), S(1), 0, 0, 0, 100, 30);
	b = session_add(t, C(1), S(101), S(1), 0, 0, 0, 100, 30);
	d = session_add(t, C(2), S(100), S(2), 0, 0, 0, 100, 30);
	assert_int_equal(sa(t, a, SA_ESP_OUT, 0x1001, 0, 0, 0, 0, 100, 100,
			    900), 1);
	assert_int_equal(session_sa_touch(t, b, S(101), SA_ESP_OUT, 0x1001, 0,
					  0, 0, 0, 100, 100, 900), 1);
	assert_int_equal(sa(t, d, SA_ESP_OUT, 0x1002, 0, 0, 0, 0, 100, 100,
			    900), 1);

	assert_int_equal(session_flush_client(t, C(3)), 0);
	assert_int_equal(session_flush_client(t, C(1)), 2);
	assert_int_equal(session_lookup_out(t, C(1), S(100)), SESSION_NONE);
	assert_int_equal(session_lookup_out(t, C(1), S(101)), SESSION_NONE);
	assert_int_equal(in_first(t, S(1), S(100)), SESSION_NONE);
	assert_int_equal(session_by_spi(t, S(1), S(100), SA_ESP_OUT, 0x1001,
					&owners), SESSION_NONE);
	assert_int_equal(owners, 0);
	assert_int_equal(session_lookup_out(t, C(2), S(100)), d);
	assert_int_equal(session_by_spi(t, S(2), S(100), SA_ESP_OUT, 0x1002,
					&owners), d);
	session_counters(t, &c);
	assert_int_equal(c.active, 1);
	assert_int_equal(c.sa_active, 1);
	assert_int_equal(c.flushed, 2);
	assert_int_equal(c.expired, 0);

	assert_int_equal(session_flush(t), 1);
	assert_int_equal(session_flush(t), 0);
	session_counters(t, &c);
	assert_int_equal(c.active, 0);
	assert_int_equal(c.sa_active, 0);
	assert_int_equal(c.flushed, 3);
	/* the freed slots serve new sessions */
	a = session_add(t, C(1), S(100), S(1), 0, 0, 0, 200, 30);
	assert_int_not_equal(a, SESSION_NONE);
	assert_int_equal(session_lookup_out(t, C(1), S(100)), a);
	assert_int_equal(in_first(t, S(1), S(100)), a);
	session_table_free(t);
}

/* Many sessions: every one is found by both keys, none by a wrong key,
 * and deleting half leaves the other half intact. */
static void test_many(void **state)
{
	enum { N = 20000 };
	struct session_table *t = mk(N, N);
	uint32_t i;

	(void)state;
	for (i = 0; i < N; i++) {
		/* clients 10.x, servers varied, aliases one per server */
		session_id s = session_add(t, 0x0a000000u + i, S(i % 7),
					   0x0b000000u + i, 0, 0, 0, 100,
					   i % 2 ? 10 : 1000);

		assert_int_not_equal(s, SESSION_NONE);
	}
	for (i = 0; i < N; i++) {
		session_id s = session_lookup_out(t, 0x0a000000u + i, S(i % 7));

		assert_int_not_equal(s, SESSION_NONE);
		assert_int_equal(session_alias(t, s), 0x0b000000u + i);
		assert_int_equal(in_first(t, 0x0b000000u + i, S(i % 7)),
				 s);
		assert_int_equal(session_lookup_out(t, 0x0a000000u + i,
						    S((i + 1) % 7)),
				 SESSION_NONE);
	}
	assert_int_equal(session_expire(t, 110), N / 2);
	for (i = 0; i < N; i++) {
		session_id s = session_lookup_out(t, 0x0a000000u + i, S(i % 7));

		if (i % 2)
			assert_int_equal(s, SESSION_NONE);
		else
			assert_int_equal(session_client(t, s), 0x0a000000u + i);
	}
	session_table_free(t);
}

/* Expiry a slice at a time: each call visits @budget slots from where the
 * last one stopped, so due sessions go within max / budget calls, and
 * none that is not due. */
static void test_expire_step(void **state)
{
	enum { N = 1000, BUDGET = 300 };
	struct session_table *t = mk(N, N);
	unsigned calls, gone = 0;
	uint32_t i;

	(void)state;
	for (i = 0; i < N; i++)
		assert_int_not_equal(session_add(t, 0x0a000000u + i, S(1),
						 0x0b000000u + i, 0, 0, 0, 100,
						 i % 3 ? 1000 : 10),
				     SESSION_NONE);
	/* one slice cannot see them all */
	gone = session_expire_step(t, 200, BUDGET, NULL, NULL);
	assert_true(gone <= BUDGET / 3 + 1);
	assert_true(gone > 0);
	for (calls = 1; calls < (N + BUDGET - 1) / BUDGET; calls++)
		gone += session_expire_step(t, 200, BUDGET, NULL, NULL);
	/* every third one was due: all gone after a full round */
	assert_int_equal(gone, (N + 2) / 3);
	for (i = 0; i < N; i++)
		assert_true((session_lookup_out(t, 0x0a000000u + i, S(1)) ==
			     SESSION_NONE) == (i % 3 == 0));
	/* the next round wraps and finds nothing more */
	for (calls = 0; calls < 4; calls++)
		assert_int_equal(session_expire_step(t, 200, BUDGET, NULL,
						     NULL), 0);
	/* a budget of 0 (or more than the table) is the whole table */
	assert_int_equal(session_expire_step(t, 2000, 0, NULL, NULL),
			 N - (N + 2) / 3);
	session_table_free(t);
}

/* Offload: the first packet of an SA claims it, once; what the kernel
 * counted later comes back as session_esp_credit(), which touches it as
 * packets would, and refuses what the table would not translate so. */
static void test_offload_claim_credit(void **state)
{
	struct session_table *t = mk(8, 32);
	struct session_hit hit;
	struct session_view *sv;
	struct sa_view *av;
	size_t nsv, nav;
	session_id a;

	(void)state;
	a = session_add(t, C(1), S(100), S(11), 0, 0x100, 0xff00, 10, 30);
	/* as the full path does: the session, then its SA */
	session_touch(t, a, true, 60, 10, 30, 30);
	assert_int_equal(session_sa_touch(t, a, S(100), SA_ESP_IN, 0x5000, 0,
					  0, 0, 0, 60, 10, 30), 1);
	/* without a claim nothing is handed over: the credit below finds
	 * the SA not offloaded */
	assert_int_equal(session_esp_known(t, 0, S(100), SA_ESP_IN, 0x5000, S(11),
					   0, 100, 11, 30, 5, &hit), a);
	assert_int_equal(session_esp_credit(t, S(100), SA_ESP_IN, 0x5000,
					    S(11), C(1), 0, 3, 300, 12, 30, 5),
			 -ESTALE);
	assert_int_equal(session_esp_known(t, 0, S(100), SA_ESP_IN, 0x5000, S(11),
					   SESSION_ESP_CLAIM, 100, 12, 30, 5,
					   &hit), a);
	assert_true(hit.offload_new);
	assert_int_equal(hit.peer, C(1));
	assert_int_equal(hit.mark_value, 0x100);
	assert_int_equal(hit.mark_mask, 0xff00);
	assert_int_equal(session_esp_known(t, 0, S(100), SA_ESP_IN, 0x5000, S(11),
					   SESSION_ESP_CLAIM, 100, 13, 30, 5,
					   &hit), a);
	assert_false(hit.offload_new);

	/* the kernel's counts: 40 packets, 4000 bytes, at 50 */
	assert_int_equal(session_esp_credit(t, S(100), SA_ESP_IN, 0x5000,
					    S(11), C(1), 0, 40, 4000, 50, 30,
					    5), 0);
	assert_int_equal(session_snapshot(t, &sv, &nsv, &av, &nav), 0);
	assert_int_equal(nsv, 1);
	assert_int_equal(nav, 1);
	/* one packet of 60 and three of 100 bytes came through the daemon */
	assert_int_equal(sv[0].pkts_in, 1 + 3 + 40);
	assert_int_equal(sv[0].bytes_in, 60 + 300 + 4000);
	assert_int_equal(sv[0].last_seen, 50);
	assert_int_equal(av[0].pkts, 1 + 3 + 40);
	assert_int_equal(av[0].bytes, 60 + 300 + 4000);
	assert_int_equal(av[0].deadline, 50 + 30);
	assert_true(av[0].flags & SA_F_OFFLOADED);
	free(sv);
	free(av);
	/* nothing counted: nothing touched */
	assert_int_equal(session_esp_credit(t, S(100), SA_ESP_IN, 0x5000,
					    S(11), C(1), 0, 0, 0, 70, 30, 5),
			 0);
	/* another peer, the NAT-T flag, an unknown SPI or alias */
	assert_int_equal(session_esp_credit(t, S(100), SA_ESP_IN, 0x5000,
					    S(11), C(2), 0, 1, 1, 71, 30, 5),
			 -ESTALE);
	assert_int_equal(session_esp_credit(t, S(100), SA_ESP_IN, 0x5000,
					    S(11), C(1), SA_F_NATT, 1, 1, 71,
					    30, 5), -ESTALE);
	assert_int_equal(session_esp_credit(t, S(100), SA_ESP_IN, 0x5001,
					    S(11), C(1), 0, 1, 1, 71, 30, 5),
			 -ENOENT);
	assert_int_equal(session_esp_credit(t, S(100), SA_ESP_IN, 0x5000,
					    S(12), C(1), 0, 1, 1, 71, 30, 5),
			 -ENOENT);

	/* forgotten: claimed again by the next packet */
	session_offload_forget(t);
	assert_int_equal(session_esp_credit(t, S(100), SA_ESP_IN, 0x5000,
					    S(11), C(1), 0, 1, 1, 72, 30, 5),
			 -ESTALE);
	assert_int_equal(session_esp_known(t, 0, S(100), SA_ESP_IN, 0x5000, S(11),
					   SESSION_ESP_CLAIM, 100, 72, 30, 5,
					   &hit), a);
	assert_true(hit.offload_new);

	/* outbound, the kernel's counts keep the session as packets do:
	 * due at 80 + 30, while the inbound SA is due at 72 + 30 */
	session_touch(t, a, false, 60, 73, 30, 5);
	assert_int_equal(session_sa_touch(t, a, S(100), SA_ESP_OUT, 0x6000, 0,
					  0, 0, 0, 60, 73, 30), 1);
	assert_int_equal(session_esp_known(t, 0, S(100), SA_ESP_OUT, 0x6000,
					   C(1), SESSION_ESP_CLAIM, 100, 73, 30, 5,
					   &hit),
			 a);
	assert_true(hit.offload_new);
	assert_int_equal(hit.peer, S(11));
	assert_int_equal(session_esp_credit(t, S(100), SA_ESP_OUT, 0x6000,
					    C(1), S(11), 0, 5, 500, 80, 30, 5),
			 0);
	assert_int_equal(session_expire(t, 105), 0);
	assert_int_equal(session_esp_credit(t, S(100), SA_ESP_IN, 0x5000,
					    S(11), C(1), 0, 1, 1, 105, 30, 5),
			 -ENOENT);
	/* gone with its session: the kernel's entry is stale */
	assert_int_equal(session_expire(t, 111), 1);
	assert_int_equal(session_esp_credit(t, S(100), SA_ESP_OUT, 0x6000,
					    C(1), S(11), 0, 1, 1, 111, 30, 5),
			 -ENOENT);
	session_table_free(t);
}

/* the entry of @map keyed (src, dst, spi) among @n of @e, or -1 */
static int find_entry(const struct offload_entry *e, size_t n,
		      enum offload_map map, uint32_t src, uint32_t dst,
		      uint64_t spi, uint32_t addr)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (e[i].map == map && e[i].src == src && e[i].dst == dst &&
		    e[i].spi == spi && e[i].addr == addr)
			return (int)i;
	return -1;
}

/* test_offload_entries' session a: its four entries among @n of @e */
static void assert_entries_of_a(const struct offload_entry *e, size_t n)
{
	assert_true(find_entry(e, n, OFFLOAD_IN_ESP, S(100), S(11), 0x5000,
			       C(1)) >= 0);
	assert_true(find_entry(e, n, OFFLOAD_OUT_UDP, C(1), S(100), 0x6000,
			       S(11)) >= 0);
	assert_true(find_entry(e, n, OFFLOAD_OUT_IKE, C(1), S(100), 0x77,
			       S(11)) >= 0);
	assert_true(find_entry(e, n, OFFLOAD_IN_IKE, S(100), S(11), 0x77,
			       C(1)) >= 0);
}

/* What the kernel holds of the table's SAs: listed from their flags as
 * the worker asked for them, handed back once they go (expired,
 * flushed), and no longer claimed once the kernel lost one. */
static void test_offload_entries(void **state)
{
	struct session_table *t = mk(64, 256);
	struct offload_entry e[64];
	struct session_hit hit;
	size_t n, count[OFFLOAD_MAPS] = { 0 };
	uint32_t at = 0, gen;
	session_id a, b;
	bool lost;
	int i;

	(void)state;
	a = session_add(t, C(1), S(100), S(11), 0, 0, 0, 10, 30);
	b = session_add(t, C(2), S(100), S(12), 0, 0, 0, 10, 30);
	/* as the full path does: the session, then its SA */
	session_touch(t, a, false, 60, 10, 30, 30);
	session_touch(t, a, true, 60, 10, 30, 30);
	session_touch(t, b, true, 60, 10, 30, 30);
	assert_int_equal(session_sa_touch(t, a, S(100), SA_ESP_IN, 0x5000, 0,
					  0, 0, 0, 60, 10, 30), 1);
	assert_int_equal(session_sa_touch(t, a, S(100), SA_ESP_OUT, 0x6000,
					  0, 0, 0, SA_F_NATT, 60, 10, 30), 1);
	assert_int_equal(session_sa_touch(t, a, S(100), SA_IKE, 0x77, 0x88,
					  2, 37, 0, 60, 10, 30), 1);
	assert_int_equal(session_sa_touch(t, b, S(100), SA_ESP_IN, 0x5001, 0,
					  0, 0, 0, 60, 10, 30), 1);
	/* nothing offloaded yet: nothing listed, nothing gone */
	assert_int_equal(session_offload_list(t, &at, e, 64, count), 0);
	assert_int_equal(at, 0);
	assert_int_equal(session_offload_gone(t, e, 64, &lost), 0);
	assert_false(lost);

	/* a's inbound raw, its outbound in UDP, its IKE SA both ways on
	 * 500; b's inbound raw */
	assert_int_equal(session_esp_known(t, 0, S(100), SA_ESP_IN, 0x5000,
					   S(11), SESSION_ESP_CLAIM, 100, 11,
					   30, 5, &hit), a);
	assert_int_equal(session_esp_known(t, 0, S(100), SA_ESP_OUT, 0x6000,
					   C(1), SESSION_ESP_CLAIM | SA_F_NATT,
					   100, 11, 30, 5, &hit), a);
	assert_int_equal(session_ike_claim(t, a, S(100), 0x77,
					   sa_ike_off_flag(0, 0)), 1);
	assert_int_equal(session_ike_claim(t, a, S(100), 0x77,
					   sa_ike_off_flag(1, 0)), 1);
	assert_int_equal(session_esp_known(t, 0, S(100), SA_ESP_IN, 0x5001,
					   S(12), SESSION_ESP_CLAIM, 100, 11,
					   30, 5, &hit), b);
	n = session_offload_list(t, &at, e, 64, count);
	assert_int_equal(n, 5);
	assert_int_equal(at, 0);
	assert_entries_of_a(e, n);
	assert_true(find_entry(e, n, OFFLOAD_IN_ESP, S(100), S(12), 0x5001,
			       C(2)) >= 0);
	assert_int_equal(count[OFFLOAD_IN_ESP], 2);
	assert_int_equal(count[OFFLOAD_OUT_UDP], 1);
	assert_int_equal(count[OFFLOAD_OUT_ESP], 0);
	/* a little room at a time: an SA's entries all or none, and the
	 * listing goes on where it stopped */
	at = 0;
	n = session_offload_list(t, &at, e, 5, NULL);
	assert_true(n >= 1 && n <= 2);
	assert_int_not_equal(at, 0);
	{
		struct offload_entry f[64];
		size_t m = n, k;

		memcpy(f, e, n * sizeof(*e));
		while (at) {
			k = session_offload_list(t, &at, f + m, 5, NULL);
			m += k;
		}
		assert_int_equal(m, 5);
	}

	/* the kernel lost b's entry: no longer claimed as offloaded, so
	 * that its next packet hands it over again */
	i = find_entry(e, 5, OFFLOAD_IN_ESP, S(100), S(12), 0x5001, C(2));
	if (i < 0) {
		at = 0;
		n = session_offload_list(t, &at, e, 64, NULL);
		i = find_entry(e, n, OFFLOAD_IN_ESP, S(100), S(12), 0x5001,
			       C(2));
	}
	assert_true(i >= 0);
	assert_int_equal(session_offload_lost(t, &e[i]), 0);
	assert_int_equal(session_offload_lost(t, &e[i]), -ENOENT);
	at = 0;
	assert_int_equal(session_offload_list(t, &at, e, 64, NULL), 4);
	assert_int_equal(session_esp_known(t, 0, S(100), SA_ESP_IN, 0x5001,
					   S(12), SESSION_ESP_CLAIM, 100, 12,
					   30, 5, &hit), b);
	assert_true(hit.offload_new);

	/* a goes (flushed): its four entries are handed back, b's not */
	assert_int_equal(session_flush_client(t, C(1)), 1);
	n = session_offload_gone(t, e, 3, &lost);
	assert_int_equal(n, 3);
	assert_false(lost);
	n += session_offload_gone(t, e + 3, 64, &lost);
	assert_int_equal(n, 4);
	assert_entries_of_a(e, n);
	assert_int_equal(session_offload_gone(t, e, 64, &lost), 0);
	/* an SA expiring alone is handed back too */
	assert_int_equal(session_expire(t, 100), 1);
	assert_int_equal(session_offload_gone(t, e, 64, &lost), 1);
	assert_int_equal(e[0].map, OFFLOAD_IN_ESP);
	assert_int_equal(e[0].spi, 0x5001);

	/* forgetting empties the list and starts a generation */
	gen = session_offload_gen(t);
	b = session_add(t, C(2), S(100), S(12), 0, 0, 0, 200, 30);
	session_touch(t, b, true, 60, 200, 30, 30);
	assert_int_equal(session_sa_touch(t, b, S(100), SA_ESP_IN, 0x5002, 0,
					  0, 0, 0, 60, 200, 30), 1);
	assert_int_equal(session_esp_known(t, 0, S(100), SA_ESP_IN, 0x5002,
					   S(12), SESSION_ESP_CLAIM, 100, 200,
					   30, 5, &hit), b);
	session_offload_forget(t);
	assert_int_not_equal(session_offload_gen(t), gen);
	assert_int_equal(session_flush(t), 1);
	assert_int_equal(session_offload_gone(t, e, 64, &lost), 0);
	assert_false(lost);
	session_table_free(t);
}

/* More SAs going at once than the table keeps: it says so, once. */
static void test_offload_gone_lost(void **state)
{
	struct session_table *t = mk(40000, 80000);
	static struct offload_entry e[256];
	struct session_hit hit;
	size_t total = 0, n;
	bool lost, seen_lost = false;
	uint32_t i;

	(void)state;
	for (i = 0; i < 33000; i++) {
		/* an alias each: alone on it, as the fast path wants */
		session_id s = session_add(t, 0x0a000000u + i, S(100),
					   0xc6330000u + i, 0, 0, 0, 10, 30);

		assert_int_not_equal(s, SESSION_NONE);
		session_touch(t, s, false, 60, 10, 30, 30);
		session_touch(t, s, true, 60, 10, 30, 30);
		assert_int_equal(session_sa_touch(t, s, S(100), SA_ESP_IN,
						  0x10000 + i, 0, 0, 0, 0, 60,
						  10, 30), 1);
		assert_int_equal(session_sa_touch(t, s, S(100), SA_ESP_OUT,
						  0x90000 + i, 0, 0, 0, 0, 60,
						  10, 30), 1);
		assert_int_equal(session_esp_known(t, 0, S(100), SA_ESP_IN,
						   0x10000 + i, 0xc6330000u + i,
						   SESSION_ESP_CLAIM, 100, 11,
						   30, 5, &hit), s);
		assert_int_equal(session_esp_known(t, 0, S(100), SA_ESP_OUT,
						   0x90000 + i, 0x0a000000u + i,
						   SESSION_ESP_CLAIM, 100, 11,
						   30, 5, &hit), s);
	}
	/* listed a slice of slots at a time, however much room there is */
	{
		struct offload_entry *all = calloc(70000, sizeof(*all));
		uint32_t at = 0;
		unsigned calls = 0;

		assert_non_null(all);
		do {
			n = session_offload_list(t, &at, all + total,
						 70000 - total, NULL);
			assert_true(n <= 16384);
			total += n;
			calls++;
		} while (at);
		assert_int_equal(total, 66000);
		assert_int_equal(calls, 5);
		free(all);
		total = 0;
	}
	/* 66000 entries go, 65536 are kept */
	assert_int_equal(session_flush(t), 33000);
	do {
		n = session_offload_gone(t, e, 256, &lost);
		total += n;
		seen_lost |= lost;
	} while (n);
	assert_int_equal(total, 65536);
	assert_true(seen_lost);
	assert_int_equal(session_offload_gone(t, e, 256, &lost), 0);
	assert_false(lost);
	session_table_free(t);
}

/* ESP SAs carry the fast path while their session is alone on its alias
 * (before its first reply outbound only, giving it the pending life);
 * they count its packets, which it keeps when they go, and once it has
 * had a reply an outbound one keeps it alive as its packets would. */
static void test_esp_fast_sa(void **state)
{
	struct session_table *t = mk(8, 32);
	struct session_hit hit;
	struct session_view *sv;
	struct sa_view *av;
	size_t nsv, nav;
	session_id a, b;
	unsigned i;

	(void)state;
	a = session_add(t, C(1), S(100), S(11), 0, 0x100, 0xff00, 10, 5);
	session_touch(t, a, false, 100, 10, 30, 5);
	assert_int_equal(session_sa_touch(t, a, S(100), SA_ESP_OUT, 0x6000, 0,
					  0, 0, 0, 100, 10, 30), 1);
	/* no reply yet: outbound, the pending life (11 + 5, not 11 + 30) */
	assert_int_equal(session_esp_known(t, 0, S(100), SA_ESP_OUT, 0x6000, C(1),
					   0, 100, 11, 30, 5, &hit), a);
	assert_int_equal(hit.peer, S(11));
	assert_int_equal(session_snapshot(t, &sv, &nsv, &av, &nav), 0);
	assert_int_equal(sv[0].deadline, 11 + 5);
	assert_int_equal(sv[0].pkts_out, 2);
	free(sv);
	free(av);
	/* inbound, the first reply is the full path's (it makes the life a
	 * full one); without it the session goes when pending */
	assert_int_equal(session_flush(t), 1);
	a = session_add(t, C(1), S(100), S(11), 0, 0x100, 0xff00, 10, 5);
	session_touch(t, a, false, 100, 10, 30, 5);
	assert_int_equal(session_sa_touch(t, a, S(100), SA_ESP_OUT, 0x6000, 0,
					  0, 0, 0, 100, 10, 30), 1);
	assert_int_equal(session_sa_touch(t, a, S(100), SA_ESP_IN, 0x5000, 0,
					  0, 0, 0, 100, 10, 30), 1);
	assert_int_equal(session_esp_known(t, 0, S(100), SA_ESP_IN, 0x5000, S(11),
					   0, 100, 11, 30, 5, &hit),
			 SESSION_NONE);
	assert_int_equal(session_expire(t, 15), 1);	/* pending: gone */
	a = session_add(t, C(1), S(100), S(11), 0, 0x100, 0xff00, 10, 5);
	session_touch(t, a, false, 100, 10, 30, 5);
	assert_int_equal(session_sa_touch(t, a, S(100), SA_ESP_OUT, 0x6000, 0,
					  0, 0, 0, 100, 10, 30), 1);
	session_touch(t, a, true, 100, 12, 30, 5);
	assert_int_equal(session_sa_touch(t, a, S(100), SA_ESP_IN, 0x5000, 0,
					  0, 0, 0, 100, 12, 30), 1);
	assert_int_equal(session_esp_known(t, 0, S(100), SA_ESP_IN, 0x5000, S(11),
					   0, 100, 13, 30, 5, &hit), a);
	assert_int_equal(hit.peer, C(1));
	/* the SA learned before the reply is fast now too */
	for (i = 0; i < 10; i++) {
		assert_int_equal(session_esp_known(t, 0, S(100), SA_ESP_OUT,
						   0x6000, C(1), 0, 50, 20,
						   30, 5, &hit), a);
		assert_int_equal(hit.peer, S(11));
		assert_int_equal(hit.mark_value, 0x100);
		assert_int_equal(hit.mark_mask, 0xff00);
	}
	/* another client's SPI, server or address: not this SA */
	assert_int_equal(session_esp_known(t, 0, S(101), SA_ESP_OUT, 0x6000, C(1),
					   0, 50, 20, 30, 5, &hit),
			 SESSION_NONE);
	assert_int_equal(session_esp_known(t, 0, S(100), SA_ESP_OUT, 0x6000, C(2),
					   0, 50, 20, 30, 5, &hit),
			 SESSION_NONE);
	assert_int_equal(session_esp_known(t, 0, S(100), SA_ESP_IN, 0x6000, S(11),
					   0, 50, 20, 30, 5, &hit),
			 SESSION_NONE);
	assert_int_equal(session_snapshot(t, &sv, &nsv, &av, &nav), 0);
	assert_int_equal(nsv, 1);
	assert_int_equal(sv[0].pkts_out, 1 + 10);
	assert_int_equal(sv[0].bytes_out, 100 + 500);
	assert_int_equal(sv[0].pkts_in, 2);
	assert_int_equal(sv[0].bytes_in, 200);
	assert_int_equal(sv[0].last_seen, 20);
	assert_int_equal(sv[0].deadline, 20 + 30);
	assert_int_equal(nav, 2);
	for (i = 0; i < nav; i++) {
		assert_int_equal(av[i].flags, 0);	/* its own flag unshown */
		assert_int_equal(av[i].spi_r, 0);
		assert_int_equal(av[i].pkts, av[i].kind == SA_ESP_OUT ? 11 : 2);
	}
	free(sv);
	free(av);

	/* shared: the full path's again; the session keeps what its SAs
	 * gave it */
	b = session_add(t, C(2), S(100), S(11), 0, 0, 0, 21, 5);
	assert_int_not_equal(b, SESSION_NONE);
	assert_int_equal(session_esp_known(t, 0, S(100), SA_ESP_OUT, 0x6000, C(1),
					   0, 50, 21, 30, 5, &hit),
			 SESSION_NONE);
	assert_int_equal(session_expire(t, 30), 1);	/* b, pending */
	assert_int_equal(session_snapshot(t, &sv, &nsv, &av, &nav), 0);
	assert_int_equal(nsv, 1);
	assert_int_equal(sv[0].deadline, 20 + 30);
	assert_int_equal(sv[0].pkts_out, 11);
	free(sv);
	free(av);
	/* alone again: fast again */
	assert_int_equal(session_esp_known(t, 0, S(100), SA_ESP_OUT, 0x6000, C(1),
					   0, 50, 31, 30, 5, &hit), a);
	/* the inbound SA goes at 13 + 30, its counts stay */
	assert_int_equal(session_expire(t, 44), 0);
	assert_int_equal(session_snapshot(t, &sv, &nsv, &av, &nav), 0);
	assert_int_equal(nav, 1);
	assert_int_equal(sv[0].pkts_in, 2);
	assert_int_equal(sv[0].bytes_in, 200);
	assert_int_equal(sv[0].pkts_out, 12);
	assert_int_equal(sv[0].deadline, 31 + 30);
	free(sv);
	free(av);
	/* the outbound one kept it until 31 + 30 */
	assert_int_equal(session_expire(t, 60), 0);
	assert_int_equal(session_expire(t, 61), 1);
	session_table_free(t);
}

/* The warm-up of IKE packets' lookups (session_warm_*()): on a table
 * whose chains are long (64 sessions in 64 buckets, clients sharing
 * aliases two by two, 3 IKE SAs each in 256 buckets), every pair and SPI
 * asked for, known or not, in or out, finds what the lookups find, and
 * the table is left as it was. */
static void test_warm(void **state)
{
	enum { WS = 64 };
	struct session_table *t = mk(WS, 4 * WS);
	struct session_warm w[SESSION_PF_MAX];
	struct session_view *sv1, *sv2;
	struct sa_view *av1, *av2;
	size_t n1, n2, na1, na2;
	session_id sid[WS];
	unsigned i, n, round, found_s = 0, found_ike = 0;

	(void)state;
	for (i = 0; i < WS; i++) {
		unsigned k;

		sid[i] = session_add(t, C(i), S(100 + i % 5), S(10 + i / 2),
				     0, 0, 0, 10, 100);
		assert_int_not_equal(sid[i], SESSION_NONE);
		for (k = 0; k < 3; k++)
			assert_int_equal(session_sa_touch(t, sid[i],
					 S(100 + i % 5), SA_IKE,
					 0x1000000000ull * (k + 1) + i, 0, 2,
					 34, 0, 100, 10, 100), 1);
	}
	assert_int_equal(session_snapshot(t, &sv1, &n1, &av1, &na1), 0);
	for (round = 0; round < 4; round++) {
		n = 0;
		for (i = 0; i < WS + 16 && n < SESSION_PF_MAX; i += 1 + round) {
			/* clients past WS and SPI round 3 are nobody's */
			bool in = (i + round) & 1;
			uint32_t srv = S(100 + i % 5);

			w[n] = (struct session_warm){
				.spi = 0x1000000000ull * (round + 1) + i,
				.a = in ? S(10 + i / 2) : C(i),
				.server = srv, .in = in,
				.s = 0xdead, .ike = 0xdead };
			n++;
		}
		session_warm_start(t, w, n);
		session_warm_finish(t, w, n);
		for (i = 0; i < n; i++) {
			bool sh;
			unsigned owners;
			session_id s = w[i].in ?
				session_lookup_in(t, w[i].a, w[i].server, &sh) :
				session_lookup_out(t, w[i].a, w[i].server);
			uint32_t alias = w[i].in ? w[i].a :
				(s ? session_alias(t, s) : 0);
			session_id ike = session_by_spi(t, alias, w[i].server,
							SA_IKE, w[i].spi,
							&owners);

			assert_int_equal(w[i].s, s);
			/* every SPI is at most one session's, and those of
			 * pairs without a session nobody's */
			assert_int_equal(w[i].ike, ike);
			found_s += s != SESSION_NONE;
			found_ike += w[i].ike != SESSION_NONE;
		}
	}
	/* known and unknown both asked for */
	assert_true(found_s > 40 && found_ike > 40);
	assert_true(found_s < 4 * SESSION_PF_MAX);
	assert_int_equal(session_snapshot(t, &sv2, &n2, &av2, &na2), 0);
	assert_int_equal(n1, n2);
	assert_int_equal(na1, na2);
	assert_memory_equal(sv1, sv2, n1 * sizeof(*sv1));
	assert_memory_equal(av1, av2, na1 * sizeof(*av1));
	free(sv1);
	free(av1);
	free(sv2);
	free(av2);
	session_table_free(t);
}

/* The prefetch's hints for every SA the churn below may look up, into
 * @hints, as the fast path gets them: bursts of SESSION_PF_MAX. */
enum { NS = 16, MAXSA = 100, SPIS = 40 };

static void churn_hints(const struct session_table *t,
			session_sa_hint hints[NS][2][SPIS])
{
	struct session_pf pf[SESSION_PF_MAX];
	session_sa_hint *out[SESSION_PF_MAX];
	unsigned i, k, j, n = 0;

	for (i = 0; i < NS; i++)
		for (k = 0; k < 2; k++)
			for (j = 0; j < SPIS; j++) {
				pf[n] = (struct session_pf){
					.key = (uint64_t)S(100) << 32 |
					       (0x100 + j),
					.local = k ? S(10 + i) : C(i),
					.kind = k ? SA_ESP_IN : SA_ESP_OUT };
				out[n++] = &hints[i][k][j];
				if (n < SESSION_PF_MAX &&
				    !(i == NS - 1 && k == 1 && j == SPIS - 1))
					continue;
				session_esp_prefetch(t, pf, n);
				while (n--)
					*out[n] = pf[n].hint;
				n = 0;
			}
}

/* The SA pool through random adds and expiries on a small table (the
 * same SPIs in every session, so that their buckets collide): every SA
 * stays found by the fast path, none that went is, and the pool holds
 * exactly its limit.  The lookups take the prefetch's hints, fresh or
 * from 300 changes before (SAs gone, slots taken again), or none: the
 * same answers, and a hint to an SA gone finds nothing. */
static void test_sa_pool_churn(void **state)
{
	static uint32_t dl[NS][2][SPIS];	/* deadline; 0: none */
	static session_sa_hint fresh[NS][2][SPIS], old[NS][2][SPIS];
	struct session_table *t = mk(NS, MAXSA);
	struct session_counters c;
	struct session_hit hit;
	session_id sid[NS];
	uint32_t rnd = 777, now = 100, alive = 0, i, k, j, step;
	unsigned hinted = 0, stale_gone = 0;

	(void)state;
	memset(dl, 0, sizeof(dl));
	memset(old, 0, sizeof(old));
	for (i = 0; i < NS; i++) {
		sid[i] = session_add(t, C(i), S(100), S(10 + i), 0, 0, 0, now,
				     1000000);
		assert_int_not_equal(sid[i], SESSION_NONE);
		session_touch(t, sid[i], true, 10, now, 1000000, 1000000);
	}
	for (step = 0; step < 30000; step++) {
		uint32_t to;
		enum sa_kind kind;
		int r;

		rnd = rnd * 1103515245u + 12345u;
		i = (rnd >> 4) % NS;
		k = (rnd >> 9) & 1;
		j = (rnd >> 10) % SPIS;
		to = 1 + (rnd >> 20) % 20;
		kind = k ? SA_ESP_IN : SA_ESP_OUT;
		session_touch(t, sid[i], k, 10, now, 1000000, 1000000);
		r = session_sa_touch(t, sid[i], S(100), kind, 0x100 + j, 0, 0,
				     0, 0, 10, now, to);
		if (dl[i][k][j]) {
			assert_int_equal(r, 0);
			dl[i][k][j] = now + to;
		} else if (alive == MAXSA) {
			assert_int_equal(r, -ENOSPC);
		} else {
			assert_int_equal(r, 1);
			dl[i][k][j] = now + to;
			alive++;
		}
		if (step % 10 == 9) {
			now++;
			assert_int_equal(session_expire(t, now), 0);
			for (i = 0; i < NS; i++)
				for (k = 0; k < 2; k++)
					for (j = 0; j < SPIS; j++)
						if (dl[i][k][j] &&
						    (int32_t)(now -
							      dl[i][k][j]) >= 0) {
							dl[i][k][j] = 0;
							alive--;
						}
		}
		if (step % 300 != 299)
			continue;
		session_counters(t, &c);
		assert_int_equal(c.sa_active, alive);
		churn_hints(t, fresh);
		for (i = 0; i < NS; i++)
			for (k = 0; k < 2; k++)
				for (j = 0; j < SPIS; j++) {
					unsigned how = (i + k + j + step / 300) % 3;
					session_sa_hint h = how == 0 ? 0 :
						how == 1 ? fresh[i][k][j] :
						old[i][k][j];
					session_id got;

					/* a hint for every SA there, and
					 * none for one that is not */
					assert_int_equal(!fresh[i][k][j],
							 !dl[i][k][j]);
					hinted += fresh[i][k][j] != 0;
					stale_gone += how == 2 && h &&
						      !dl[i][k][j];
					/* the same deadline back */
					hit.peer = 0xdeadbeef;
					got = session_esp_known(
						t, h, S(100),
						k ? SA_ESP_IN : SA_ESP_OUT,
						0x100 + j, k ? S(10 + i) : C(i),
						0, 10, now, dl[i][k][j] - now,
						1, &hit);
					old[i][k][j] = fresh[i][k][j];
					if (!dl[i][k][j]) {
						assert_int_equal(got,
								 SESSION_NONE);
						assert_int_equal(hit.peer,
								 0xdeadbeef);
						continue;
					}
					assert_int_equal(got, sid[i]);
					assert_int_equal(hit.peer,
							 k ? C(i) : S(10 + i));
				}
	}
	/* it got full at times and emptied at times */
	session_counters(t, &c);
	assert_true(c.sa_refused_full > 0);
	assert_true(c.sa_expired > 1000);
	/* hints were found, and stale ones to SAs that went were tried */
	assert_true(hinted > 1000);
	assert_true(stale_gone > 100);
	session_table_free(t);
}

/* The pools are written a slot at a time as they are first used, so a
 * large table takes memory for what it holds, not for what it could; a
 * slot given back is used again before a new one. */
static void test_untouched_pool(void **state)
{
	enum { NB = 1 << 16, NSA = 4 << 16, USED = 2000 };
	static const enum sa_kind kinds[3] = { SA_IKE, SA_ESP_OUT, SA_ESP_IN };
	struct session_limits lim = { NB, NSA, 0 };
	struct session_table *t = mk(NB, NSA);
	size_t bytes = session_table_bytes(&lim), r0, r1, r2;
	session_id s, last0 = SESSION_NONE;
	uint32_t i, k;

	(void)state;
	r0 = session_table_resident(t);
	/* the hash buckets (written at once: small arrays), not the pools */
	assert_true(r0 > 0);
	assert_true(r0 < bytes / 8);
	for (i = 0; i < USED; i++) {
		s = session_add(t, C(i % 250), S(i / 250 + 1), S(100), 0, 0, 0,
				10, 1000);
		assert_int_not_equal(s, SESSION_NONE);
		if (i % 250 == 0)
			last0 = s;	/* client 0's last */
		for (k = 0; k < 3; k++)
			assert_int_equal(session_sa_touch(t, s, S(i / 250 + 1),
							  kinds[k],
							  0x1000 + i * 4 + k,
							  0, 2, 0, 0, 10, 10,
							  1000), 1);
	}
	r1 = session_table_resident(t);
	/* what the sessions and their SAs wrote is in memory now (a page or
	 * a huge page at a time), the rest of the pools still not */
	assert_true(r1 >= r0 + USED * (size_t)(3 * 64 + 64));
	assert_true(r1 < bytes / 2);
	/* a slot given back comes first (the last one given back), before
	 * the never used ones (USED + 1 on) */
	assert_int_equal(session_flush_client(t, C(0)), (USED + 249) / 250);
	s = session_add(t, C(251), S(200), S(100), 0, 0, 0, 10, 1000);
	assert_int_equal(s, last0);
	r2 = session_table_resident(t);
	assert_int_equal(r2, r1);
	/* expiry still finds every session there */
	assert_int_equal(session_expire(t, 2000),
			 USED - (USED + 249) / 250 + 1);
	session_table_free(t);
}

static void test_bad_limits(void **state)
{
	struct session_limits lim = { 0, 10, 0 };

	(void)state;
	assert_null(session_table_new(&lim));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_per_client_counts),
		cmocka_unit_test(test_sas_per_session),
		cmocka_unit_test(test_add_lookup),
		cmocka_unit_test(test_capacity),
		cmocka_unit_test(test_expiry_pending_vs_replied),
		cmocka_unit_test(test_sa_tracking),
		cmocka_unit_test(test_flush),
		cmocka_unit_test(test_many),
		cmocka_unit_test(test_expire_step),
		cmocka_unit_test(test_offload_claim_credit),
		cmocka_unit_test(test_offload_entries),
		cmocka_unit_test(test_offload_gone_lost),
		cmocka_unit_test(test_esp_fast_sa),
		cmocka_unit_test(test_sa_pool_churn),
		cmocka_unit_test(test_warm),
		cmocka_unit_test(test_untouched_pool),
		cmocka_unit_test(test_bad_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
