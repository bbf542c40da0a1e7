/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "alias.h"
#include "config.h"

#define EX(i) (0xcb007100u + (i))	/* 203.0.113.i */
#define CL(i) (0xc0000200u + (i))	/* 192.0.2.i */

/* A fake occupancy map: taken[alias][server] */
struct occ {
	unsigned taken[256][4];	/* sessions per alias and server */
};

static unsigned is_taken(void *ctx, uint32_t alias, uint32_t server)
{
	struct occ *o = ctx;

	return o->taken[alias & 0xff][server & 3];
}

static struct config *cfg(const char *const *lines)
{
	struct config *c = calloc(1, sizeof(*c));
	struct config_errors e = { .n = 0 };
	unsigned i;

	assert_non_null(c);
	config_init(c);
	for (i = 0; lines[i]; i++)
		assert_int_equal(config_line(c, "a", i + 1, lines[i], &e), 0);
	assert_int_equal(config_finish(c, "a", &e), 0);
	return c;
}

static const char *const conf[] = {
	"inside 192.0.2.0/24",
	"alias 203.0.113.11-203.0.113.14",
	"pin 192.0.2.50 203.0.113.13",	/* pinned alias inside the pool */
	"pin 192.0.2.51 203.0.113.60",	/* pinned alias outside it */
	NULL,
};

static void test_membership(void **state)
{
	struct config *c = cfg(conf);
	struct alias_pool *p = alias_pool_new(c);

	(void)state;
	assert_non_null(p);
	assert_true(alias_pool_has(p, EX(11)));
	assert_true(alias_pool_has(p, EX(14)));
	assert_true(alias_pool_has(p, EX(60)));
	assert_false(alias_pool_has(p, EX(15)));
	assert_false(alias_pool_has(p, EX(10)));
	assert_false(alias_pool_has(p, EX(61)));	/* above the highest */
	assert_false(alias_pool_has(p, CL(50)));
	/* .13 is pinned, so three are left for automatic picking */
	assert_int_equal(alias_pool_free_count(p), 3);
	alias_pool_free(p);
	free(c);
}

/* The pool lists every address in ascending order; one kept for its
 * sessions after a reload is told apart as drained. */
static void test_iterate_and_drained(void **state)
{
	static const uint32_t keep[] = { EX(70), EX(12), EX(5) };
	static const uint32_t want[] = { EX(5), EX(11), EX(12), EX(13),
					 EX(14), EX(60), EX(70) };
	struct config *c = cfg(conf);
	struct alias_pool *p = alias_pool_new_keep(c, keep, 3);
	unsigned i;

	(void)state;
	assert_non_null(p);
	assert_int_equal(alias_pool_size(p), sizeof(want) / sizeof(want[0]));
	for (i = 0; i < alias_pool_size(p); i++)
		assert_int_equal(alias_pool_addr(p, i), want[i]);
	assert_int_equal(alias_pool_addr(p, i), 0);
	assert_true(alias_pool_drained(p, EX(5)));
	assert_true(alias_pool_drained(p, EX(70)));
	/* kept, but listed again: not drained */
	assert_false(alias_pool_drained(p, EX(12)));
	assert_false(alias_pool_drained(p, EX(11)));
	assert_false(alias_pool_drained(p, EX(13)));	/* pinned, listed */
	assert_false(alias_pool_drained(p, EX(60)));	/* pinned only */
	assert_false(alias_pool_drained(p, EX(99)));	/* not in the pool */
	alias_pool_free(p);
	free(c);
}

static void test_pins(void **state)
{
	struct config *c = cfg(conf);
	struct alias_pool *p = alias_pool_new(c);
	struct occ o;
	bool pinned, shared;

	(void)state;
	memset(&o, 0, sizeof(o));
	assert_int_equal(alias_pick(p, CL(50), 1, is_taken, &o, 1, &pinned, &shared), EX(13));
	assert_true(pinned);
	assert_int_equal(alias_pick(p, CL(51), 2, is_taken, &o, 1, &pinned, &shared), EX(60));
	/* a pinned client never falls back to the pool */
	o.taken[60][2] = true;
	assert_int_equal(alias_pick(p, CL(51), 2, is_taken, &o, 1, &pinned, &shared), 0);
	assert_true(pinned);
	alias_pool_free(p);
	free(c);
}

static void test_unique_per_server_and_exhaustion(void **state)
{
	struct config *c = cfg(conf);
	struct alias_pool *p = alias_pool_new(c);
	struct occ o;
	uint32_t got[3];
	bool pinned, shared;
	unsigned i, j;

	(void)state;
	memset(&o, 0, sizeof(o));
	for (i = 0; i < 3; i++) {
		got[i] = alias_pick(p, CL(1 + i), 1, is_taken, &o, 1, &pinned, &shared);
		assert_false(pinned);
		assert_true(got[i] == EX(11) || got[i] == EX(12) ||
			    got[i] == EX(14));	/* never the pinned .13 */
		for (j = 0; j < i; j++)
			assert_int_not_equal(got[i], got[j]);
		o.taken[got[i] & 0xff][1] = true;
	}
	assert_int_equal(alias_pick(p, CL(4), 1, is_taken, &o, 1, &pinned, &shared), 0);
	/* the same aliases are all free toward server 2 */
	assert_int_not_equal(alias_pick(p, CL(4), 2, is_taken, &o, 1, &pinned, &shared), 0);
	alias_pool_free(p);
	free(c);
}

/* No free alias: share the least used one, within the limit; never a
 * pinned one. */
static void test_sharing(void **state)
{
	struct config *c = cfg(conf);
	struct alias_pool *p = alias_pool_new(c);
	struct occ o;
	bool pinned, shared;
	unsigned i, n[256] = { 0 };
	uint32_t a;

	(void)state;
	memset(&o, 0, sizeof(o));
	o.taken[11][1] = 2;
	o.taken[12][1] = 1;
	o.taken[14][1] = 3;
	a = alias_pick(p, CL(9), 1, is_taken, &o, 0, &pinned, &shared);
	assert_int_equal(a, EX(12));
	assert_true(shared);
	assert_false(pinned);
	/* a limit of 1 means no sharing; a limit counts clients */
	assert_int_equal(alias_pick(p, CL(9), 1, is_taken, &o, 1, &pinned,
				    &shared), 0);
	assert_int_equal(alias_pick(p, CL(9), 1, is_taken, &o, 2, &pinned,
				    &shared), EX(12));
	o.taken[12][1] = 2;
	assert_int_equal(alias_pick(p, CL(9), 1, is_taken, &o, 2, &pinned,
				    &shared), 0);
	/* filling up evenly: 30 more clients spread over the three */
	memset(&o, 0, sizeof(o));
	for (i = 0; i < 33; i++) {
		a = alias_pick(p, CL(100 + i), 1, is_taken, &o, 0, &pinned,
			       &shared);
		assert_int_not_equal(a, 0);
		assert_int_not_equal(a, EX(13));
		assert_true(shared == (i >= 3));
		o.taken[a & 0xff][1]++;
		n[a & 0xff]++;
	}
	assert_int_equal(n[11], 11);
	assert_int_equal(n[12], 11);
	assert_int_equal(n[14], 11);
	/* a pinned alias is never shared */
	o.taken[13][1] = 1;
	assert_int_equal(alias_pick(p, CL(50), 1, is_taken, &o, 0, &pinned,
				    &shared), 0);
	assert_true(pinned);
	assert_false(shared);
	alias_pool_free(p);
	free(c);
}

static void test_sticky_across_servers(void **state)
{
	struct config *c = cfg(conf);
	struct alias_pool *p = alias_pool_new(c);
	struct occ o;
	bool pinned, shared;
	unsigned i;

	(void)state;
	memset(&o, 0, sizeof(o));
	/* with nothing taken a client gets the same alias toward any server,
	 * and different clients spread over the pool */
	for (i = 1; i <= 40; i++) {
		uint32_t a = alias_pick(p, CL(i), 0, is_taken, &o, 1, &pinned, &shared);

		assert_int_equal(alias_pick(p, CL(i), 1, is_taken, &o, 1, &pinned, &shared), a);
		assert_int_equal(alias_pick(p, CL(i), 3, is_taken, &o, 1, &pinned, &shared), a);
		o.taken[a & 0xff][2] = true;	/* mark used, in a column no pick reads */
	}
	assert_true(o.taken[11][2] && o.taken[12][2] && o.taken[14][2]);
	assert_false(shared);
	alias_pool_free(p);
	free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_membership),
		cmocka_unit_test(test_pins),
		cmocka_unit_test(test_iterate_and_drained),
		cmocka_unit_test(test_unique_per_server_and_exhaustion),
		cmocka_unit_test(test_sticky_across_servers),
		cmocka_unit_test(test_sharing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
