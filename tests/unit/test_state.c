/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The state file: what comes back, what does not, and a round trip. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "alias.h"
#include "daemon.h"
#include "state.h"

#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (b) << 16 | (c) << 8 | (d))

static const char *const lines[] = {
	"inside 192.0.2.0/24",
	"alias 203.0.113.11-203.0.113.12",
	"pin 192.0.2.13 203.0.113.13",
	"server 203.0.113.100/31",
	NULL,
};

static char dir[64];

static const char *const gw_lines[] = {
	"mode gateway", "gateway-mark 0xff", NULL,
};

static struct daemon *daemon_up_cfg(const char *const *lines_, const char *state)
{
	struct daemon *d = calloc(1, sizeof(*d));
	struct config_errors e = { .n = 0 };
	struct session_limits lim = { 64, 256, 0 };
	unsigned i;

	assert_non_null(d);
	d->cfg = calloc(1, sizeof(*d->cfg));
	assert_non_null(d->cfg);
	config_init(d->cfg);
	for (i = 0; lines_[i]; i++)
		assert_int_equal(config_line(d->cfg, "t.conf", i + 1, lines_[i],
					     &e), 0);
	assert_int_equal(config_finish(d->cfg, "t.conf", &e), 0);
	snprintf(d->cfg->state, sizeof(d->cfg->state), "%s/%s", dir, state);
	d->table = session_table_new(&lim);
	d->pool = alias_pool_new(d->cfg);
	assert_non_null(d->table);
	assert_non_null(d->pool);
	pthread_mutex_init(&d->table_lock, NULL);
	if (d->cfg->mode == MODE_GATEWAY) {
		d->gw = gw_new(8);
		assert_non_null(d->gw);
	}
	return d;
}

static struct daemon *daemon_up(const char *state)
{
	return daemon_up_cfg(lines, state);
}

static void daemon_down(struct daemon *d)
{
	gw_free(d->gw);
	pthread_mutex_destroy(&d->table_lock);
	session_table_free(d->table);
	alias_pool_free(d->pool);
	free(d->cfg);
	free(d);
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/espmasq-state-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[96];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void put(const char *name, long long written, const char *body)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "espmasq-state 1 written=%lld\n%s", written, body);
	fclose(f);
}

#define S(c, a, left) "session client=192.0.2." c " server=203.0.113.100 " \
	"alias=203.0.113." a " flags=1 mark=0/0 age=50 idle=1 left=" left \
	" pkts_out=7 pkts_in=6 bytes_out=700 bytes_in=600 natt_cport=0 " \
	"natt_xport=0 ike_pend=0/0 ike_left=0\n"
#define SA(kind, spi, left) "sa kind=" kind " spi_i=" spi " spi_r=0 " \
	"version=0 exchange=0 flags=0 idle=1 left=" left " pkts=3 bytes=300\n"

static void test_load(void **state)
{
	struct daemon *d = daemon_up("a");
	struct state_counts n;
	unsigned owners;
	session_id s;

	(void)state;
	/* written 100 s ago */
	put("a", (long long)time(NULL) - 100,
	    S("11", "11", "900")		/* comes back */
	    SA("esp-in", "c0ffee01", "800")	/* comes back */
	    SA("esp-out", "c0ffee02", "60")	/* expired meanwhile */
	    S("12", "12", "90")			/* expired meanwhile */
	    SA("esp-in", "c0ffee03", "900")	/* its session did not */
	    S("14", "14", "900")		/* alias no longer listed */
	    S("15", "13", "900")		/* another client's pin */
	    S("13", "13", "900")		/* its pin: pinned */
	    "session client=192.0.2.16 server=nowhere\n"
	    "sa kind=esp-in spi_i=zz\n"
	    "what is this\n"
	    "end\n");
	assert_int_equal(state_load(d, &n), 0);
	assert_int_equal(n.sessions, 2);
	assert_int_equal(n.sas, 1);
	assert_int_equal(n.expired, 1);
	assert_int_equal(n.refused, 2);
	assert_int_equal(n.bad, 3);
	s = session_lookup_out(d->table, IP(192, 0, 2, 11), IP(203, 0, 113, 100));
	assert_int_not_equal(s, SESSION_NONE);
	assert_int_equal(session_alias(d->table, s), IP(203, 0, 113, 11));
	assert_int_equal(session_by_spi(d->table, IP(203, 0, 113, 11),
					IP(203, 0, 113, 100), SA_ESP_IN,
					0xc0ffee01, &owners), s);
	assert_int_equal(session_by_spi(d->table, IP(203, 0, 113, 11),
					IP(203, 0, 113, 100), SA_ESP_OUT,
					0xc0ffee02, &owners), SESSION_NONE);
	s = session_lookup_out(d->table, IP(192, 0, 2, 13), IP(203, 0, 113, 100));
	assert_int_not_equal(s, SESSION_NONE);
	assert_true(session_flags(d->table, s) & SESSION_F_PINNED);
	assert_int_equal(session_lookup_out(d->table, IP(192, 0, 2, 12),
					    IP(203, 0, 113, 100)),
			 SESSION_NONE);

	/* what is there is written, and read back whole */
	snprintf(d->cfg->state, sizeof(d->cfg->state), "%s/b", dir);
	assert_int_equal(state_write(d), 0);
	daemon_down(d);
	d = daemon_up("b");
	assert_int_equal(state_load(d, &n), 0);
	assert_int_equal(n.sessions, 2);
	assert_int_equal(n.sas, 1);
	assert_int_equal(n.expired + n.refused + n.bad, 0);
	s = session_lookup_out(d->table, IP(192, 0, 2, 11), IP(203, 0, 113, 100));
	assert_int_equal(session_by_spi(d->table, IP(203, 0, 113, 11),
					IP(203, 0, 113, 100), SA_ESP_IN,
					0xc0ffee01, &owners), s);
	daemon_down(d);
}

static void test_missing_and_foreign_files(void **state)
{
	struct daemon *d = daemon_up("none");
	struct state_counts n;
	char path[128];
	FILE *f;

	(void)state;
	/* no file yet: no error, nothing restored */
	assert_int_equal(state_load(d, &n), 0);
	assert_int_equal(n.sessions, 0);
	/* not a state file: refused whole */
	snprintf(path, sizeof(path), "%s/none", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(S("11", "11", "900") "end\n", f);
	fclose(f);
	assert_int_equal(state_load(d, &n), -EINVAL);
	assert_int_equal(n.sessions, 0);
	/* a later version: refused too */
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("espmasq-state 2 written=1\n" S("11", "11", "900"), f);
	fclose(f);
	assert_int_equal(state_load(d, &n), -EINVAL);
	daemon_down(d);
}

/* Mode gateway: the learned clients survive a restart, with the
 * gateway's tunnel IDs, so the clients' ordinary packets still find
 * them (a tunnel's client ID is only ever seen in its SCCRQ). */
static void test_gateway_round_trip(void **state)
{
	struct daemon *d = daemon_up_cfg(gw_lines, "gw");
	struct state_counts n;
	struct gw_view *v;
	uint32_t mark, now = daemon_now();
	size_t nv;

	(void)state;
	/* client 1: L2TP tunnel 0x1111 (gateway's 7); client 2: a flow */
	assert_int_equal(gw_learn_l2tp(d->gw, htonl(IP(198, 51, 100, 7)), 1701,
				       0x1111, 0, 1, now, 300), 1);
	assert_int_equal(gw_pair_l2tp(d->gw, htonl(IP(198, 51, 100, 7)), 1701,
				      0x1111, 7, now), 0);
	assert_int_equal(gw_learn_flow(d->gw, 6, htonl(IP(198, 51, 100, 7)),
				       50000, 8080, 2, now, 300), 1);
	/* one whose time ran out is not written */
	assert_int_equal(gw_learn_flow(d->gw, 17, htonl(IP(198, 51, 100, 8)),
				       4500, 4500, 3, now - 400, 300), 1);
	assert_int_equal(state_write(d), 0);
	daemon_down(d);

	d = daemon_up_cfg(gw_lines, "gw");
	assert_int_equal(state_load(d, &n), 0);
	assert_int_equal(n.gw, 2);
	assert_int_equal(n.bad, 0);
	assert_int_equal(gw_snapshot(d->gw, daemon_now(), &v, &nv), 0);
	assert_int_equal(nv, 2);
	free(v);
	assert_int_equal(gw_lookup_l2tp(d->gw, htonl(IP(198, 51, 100, 7)), 1701,
					0x1111, daemon_now(), &mark), 0);
	assert_int_equal(mark, 1);
	/* the client's packets carry the gateway's ID: still its entry,
	 * and a rekey is followed */
	assert_int_equal(gw_touch_l2tp(d->gw, htonl(IP(198, 51, 100, 7)), 1701,
				       7, 9, daemon_now(), 300), 0);
	assert_int_equal(gw_lookup_l2tp(d->gw, htonl(IP(198, 51, 100, 7)), 1701,
					0x1111, daemon_now(), &mark), 0);
	assert_int_equal(mark, 9);
	assert_int_equal(gw_lookup_flow(d->gw, 6, htonl(IP(198, 51, 100, 7)),
					50000, 8080, daemon_now(), &mark), 0);
	assert_int_equal(mark, 2);
	daemon_down(d);

	/* the same file read in mode masquerade: nothing of it comes in */
	d = daemon_up("gw");
	assert_int_equal(state_load(d, &n), 0);
	assert_int_equal(n.gw, 0);
	assert_int_equal(n.gw_dropped, 2);
	assert_int_equal(n.sessions, 0);
	daemon_down(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_load),
		cmocka_unit_test(test_missing_and_foreign_files),
		cmocka_unit_test(test_gateway_round_trip),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
