/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * In-core benchmark: prepared ESP packets from many clients, outbound and
 * inbound, through parse + session lookup + rewrite, without the kernel.
 * Prints packets per second and the memory a session costs.  It never fails
 * on timing.  Run under `valgrind --tool=callgrind` for instructions per
 * packet (deterministic), e.g. with `-n 100000`.
 *
 *   bench_core [-s SESSIONS] [-n PACKETS]
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "alias.h"
#include "config.h"
#include "packet.h"
#include "session.h"
#include "translate.h"

#define PKT_LEN 120

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void mk_esp(uint8_t *p, uint32_t src, uint32_t dst, uint32_t spi)
{
	uint32_t s = htonl(src), d = htonl(dst), v = htonl(spi);

	memset(p, 0x5a, PKT_LEN);
	memset(p, 0, 20);
	p[0] = 0x45;
	p[2] = 0;
	p[3] = PKT_LEN;
	p[8] = 64;
	p[9] = 50;
	memcpy(p + 12, &s, 4);
	memcpy(p + 16, &d, 4);
	memcpy(p + 20, &v, 4);
}

int main(int argc, char **argv)
{
	unsigned long sessions = 1000, packets = 2000000, i;
	struct config *cfg = calloc(1, sizeof(*cfg));
	struct config_errors e = { .n = 0 };
	struct session_limits lim;
	struct session_table *t;
	struct alias_pool *pool;
	struct xlate_ctx x;
	uint8_t *pk, *work;
	uint32_t *alias_of;
	unsigned long n_srv;
	double t0, t1;
	int opt;
	char line[128];

	while ((opt = getopt(argc, argv, "s:n:")) != -1) {
		if (opt == 's')
			sessions = strtoul(optarg, NULL, 0);
		else if (opt == 'n')
			packets = strtoul(optarg, NULL, 0);
		else
			return 2;
	}
	if (!cfg || !sessions || sessions > 4000000)
		return 2;
	/* 250 aliases; enough servers that every client gets one free */
	n_srv = sessions / 250 + 1;
	config_init(cfg);
	config_line(cfg, "bench", 1, "inside 10.0.0.0/8", &e);
	config_line(cfg, "bench", 2, "alias 203.0.113.1-203.0.113.250", &e);
	snprintf(line, sizeof(line), "max-sessions %lu", sessions);
	config_line(cfg, "bench", 3, line, &e);
	if (e.n || config_finish(cfg, "bench", &e)) {
		fprintf(stderr, "%s\n", e.msg[0]);
		return 1;
	}
	lim.max_sessions = (uint32_t)sessions;
	lim.max_sas = (uint32_t)sessions * 4;
	t = session_table_new(&lim);
	pool = alias_pool_new(cfg);
	pk = malloc(2 * sessions * PKT_LEN);
	work = malloc(PKT_LEN);
	alias_of = calloc(sessions, sizeof(*alias_of));
	if (!t || !pool || !pk || !work || !alias_of)
		return 1;
	x = (struct xlate_ctx){ t, cfg, pool };

	/* establish every session with one outbound and one inbound packet */
	for (i = 0; i < sessions; i++) {
		uint32_t client = 0x0a000000u + (uint32_t)i;
		uint32_t server = 0xc6336400u + (uint32_t)(i % n_srv);
		struct pkt_info pi;
		struct xlate_out xo;
		uint32_t a;

		mk_esp(work, client, server, 0x1000 + (uint32_t)i);
		pkt_parse(work, PKT_LEN, &pi);
		if (xlate_packet(&x, work, &pi, false, 1, 1000, &xo) != XL_OUT) {
			fprintf(stderr, "setup failed at session %lu\n", i);
			return 1;
		}
		memcpy(&a, work + 12, 4);
		alias_of[i] = ntohl(a);
		mk_esp(pk + 2 * i * PKT_LEN, client, server,
		       0x1000 + (uint32_t)i);
		mk_esp(pk + (2 * i + 1) * PKT_LEN, server, alias_of[i],
		       0x2000 + (uint32_t)i);
	}

	t0 = now_s();
	for (i = 0; i < packets; i++) {
		/* stride through the sessions so lookups miss the cache as
		 * they would with many clients */
		unsigned long k = (i * 2654435761ul) % (2 * sessions);
		struct pkt_info pi;
		struct xlate_out xo;
		enum xlate_result r;

		memcpy(work, pk + k * PKT_LEN, PKT_LEN);
		if (pkt_parse(work, PKT_LEN, &pi) != PKT_OK)
			return 1;
		r = xlate_packet(&x, work, &pi, false, 2, 2000, &xo);
		if (r != (k & 1 ? XL_IN : XL_OUT))
			return 1;
	}
	t1 = now_s();
	printf("bench-core: %lu sessions, %lu ESP packets (both directions): "
	       "%.2f Mpkt/s, %.0f ns/pkt\n", sessions, packets,
	       packets / (t1 - t0) / 1e6, (t1 - t0) * 1e9 / packets);
	printf("bench-core: memory per session (table + 4 SA slots + hash "
	       "buckets): %zu bytes\n", session_table_bytes(&lim) / sessions);
	free(pk);
	free(work);
	free(alias_of);
	session_table_free(t);
	alias_pool_free(pool);
	free(cfg);
	return 0;
}
