/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * In-core benchmark: prepared packets from many clients, outbound and
 * inbound, through parse + session lookup + rewrite, without the kernel.
 * Prints packets per second and the memory a session costs.  It never fails
 * on timing.  Under `valgrind --tool=callgrind --toggle-collect=core_burst`
 * the instruction count divided by the packets is the cost of one packet of
 * that kind, parse to rewrite (deterministic; bench/bench-core.sh does this
 * per kind).
 *
 *   bench_core [-s SESSIONS] [-n PACKETS] [-k esp|esp-udp|ike|natt-ike|mix]
 *   bench_core -m [-s SESSIONS] [-n READS]
 *
 * -m measures the memory instead: the time of one random cache-line read
 * in an array as big as the session table of SESSIONS sessions, one read
 * at a time (each address from the last line read) and 64 at a time
 * (prefetched together, as a worker's burst does).  The second is the
 * least any lookup that reads even one line of its own per packet can
 * cost at that size.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "alias.h"
#include "bigmem.h"
#include "config.h"
#include "csum.h"
#include "packet.h"
#include "session.h"
#include "translate.h"

#define PKT_LEN 120

enum kind { K_ESP, K_ESP_UDP, K_IKE, K_NATT_IKE, K_MIX, K_MAX };

static const char *const kind_names[K_MAX] = {
	"esp", "esp-udp", "ike", "natt-ike", "mix",
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void put32(uint8_t *p, uint32_t v)
{
	v = htonl(v);
	memcpy(p, &v, 4);
}

static void put16(uint8_t *p, uint16_t v)
{
	v = htons(v);
	memcpy(p, &v, 2);
}

/* IKEv2 header at @p: SPIs @ispi/@rspi, exchange @exch, from the
 * initiator or the responder */
static void put_ike(uint8_t *p, uint64_t ispi, uint64_t rspi, uint8_t exch,
		    bool initiator)
{
	put32(p, (uint32_t)(ispi >> 32));
	put32(p + 4, (uint32_t)ispi);
	put32(p + 8, (uint32_t)(rspi >> 32));
	put32(p + 12, (uint32_t)rspi);
	p[16] = 46;			/* next payload: encrypted */
	p[17] = 0x20;			/* version 2.0 */
	p[18] = exch;
	p[19] = initiator ? 0x08 : 0x20;
	put32(p + 20, 2);		/* message id */
	put32(p + 24, PKT_LEN - 28);
}

/*
 * One IPv4 packet of @k from @src to @dst: ESP with @spi, ESP in UDP
 * (4500, @spi), IKE on 500 or with the NAT-T marker on 4500 (SPIs
 * @ispi/@rspi, exchange @exch).  Checksums valid, as on the wire.
 */
static void mk_pkt(uint8_t *p, enum kind k, uint32_t src, uint32_t dst,
		   uint32_t spi, uint64_t ispi, uint64_t rspi, uint8_t exch,
		   bool initiator)
{
	uint16_t c;
	uint8_t *u = p + 20;

	memset(p, 0x5a, PKT_LEN);
	memset(p, 0, 20);
	p[0] = 0x45;
	put16(p + 2, PKT_LEN);
	p[8] = 64;
	p[9] = k == K_ESP ? 50 : 17;
	put32(p + 12, src);
	put32(p + 16, dst);
	if (k == K_ESP) {
		put32(p + 20, spi);
		put32(p + 24, 1);
	} else {
		uint16_t port = k == K_IKE ? 500 : 4500;

		put16(u, port);
		put16(u + 2, port);
		put16(u + 4, PKT_LEN - 20);
		put16(u + 6, 0);
		if (k == K_ESP_UDP) {
			put32(u + 8, spi);
			put32(u + 12, 1);
		} else if (k == K_IKE) {
			put_ike(u + 8, ispi, rspi, exch, initiator);
		} else {
			memset(u + 8, 0, 4);
			put_ike(u + 12, ispi, rspi, exch, initiator);
			put32(u + 12 + 24, PKT_LEN - 32);
		}
		c = csum_udp4(htonl(src), htonl(dst), u, PKT_LEN - 20);
		memcpy(u + 6, &c, 2);
	}
	c = (uint16_t)~csum_fold16(csum_partial(p, 20, 0));
	memcpy(p + 10, &c, 2);
}

/* the daemon's default batch (batch 64) */
#define BURST 64

struct bench {
	struct xlate_ctx x;
	uint8_t *pk;		/* 2 packets per session: out, then in */
	uint8_t *stream;	/* the same, in the order they are sent */
	unsigned long sessions;
	enum kind kind;
};

static enum kind kind_of(const struct bench *b, unsigned long s)
{
	return b->kind == K_MIX ? (enum kind)(s % 4) : b->kind;
}

/*
 * A burst of @n packets through the core, as a worker takes one from its
 * queue: prefetched over the burst, then each packet tried on the ESP
 * fast path and, failing that, parsed and translated.  What callgrind
 * counts (not inlined, so that --toggle-collect=core_burst sees it alone).
 * Returns how many came out translated in the direction @dir says (bit i:
 * packet i is inbound).
 */
__attribute__((noinline)) unsigned
core_burst(const struct bench *b, uint8_t (*work)[PKT_LEN], unsigned n,
	   uint64_t dir);
__attribute__((noinline)) unsigned
core_burst(const struct bench *b, uint8_t (*work)[PKT_LEN], unsigned n,
	   uint64_t dir)
{
	uint8_t *bufs[BURST] = { 0 };
	uint32_t lens[BURST] = { 0 };
	struct session_pf hints[BURST];
	struct pkt_info pi;
	struct xlate_out xo;
	unsigned i, ok = 0;
	uint8_t kind;
	bool hinted;

	for (i = 0; i < n; i++) {
		bufs[i] = work[i];
		lens[i] = PKT_LEN;
	}
	hinted = xlate_prefetch(&b->x, bufs, lens, n, hints);
	for (i = 0; i < n; i++) {
		enum xlate_result r;

		r = xlate_esp_fast(&b->x, work[i], PKT_LEN, false, 2, &xo,
				   &kind, hinted ? &hints[i] : NULL);
		if (r == XL_MAX) {
			if (pkt_parse(work[i], PKT_LEN, &pi) != PKT_OK)
				continue;
			pi.esp_missed = kind != PKT_KIND_MAX;
			r = xlate_packet(&b->x, work[i], &pi, false, 2, 2000,
					 &xo);
		}
		ok += r == (dir >> i & 1 ? XL_IN : XL_OUT);
	}
	return ok;
}

/*
 * Packets go through in the order of the stream: sessions in a scattered
 * order, so that lookups miss the cache as they would with many clients.
 * Only the core is timed (the sum goes in *@ns): STAGE bursts are copied
 * out of the stream first, as the kernel copies a batch into a worker's
 * receive buffer, so that the packets are in the cache when the core reads
 * them, as there.  Timing the copy too would charge the core with reading
 * the stream itself from memory: 2 lines a packet at 1M sessions, which
 * cost 14 ns more a packet than at 1k (measured).
 */
#define STAGE 4

static int run_packets(const struct bench *b, unsigned long packets,
		       double *ns)
{
	static uint8_t work[STAGE][BURST][PKT_LEN];
	unsigned long i, total = 2 * b->sessions, at = 0;
	uint64_t dir[STAGE];
	unsigned cnt[STAGE];
	double sum = 0;

	for (i = 0; i < packets;) {
		unsigned g, j, m = 0;
		double t0;

		for (g = 0; g < STAGE && i < packets; g++, m++) {
			unsigned n = packets - i < BURST ?
				     (unsigned)(packets - i) : BURST;

			dir[g] = 0;
			for (j = 0; j < n; j++) {
				const uint8_t *p = b->stream +
						   at * (PKT_LEN + 1);

				memcpy(work[g][j], p, PKT_LEN);
				dir[g] |= (uint64_t)p[PKT_LEN] << j;
				if (++at == total)
					at = 0;
			}
			cnt[g] = n;
			i += n;
		}
		t0 = now_s();
		for (g = 0; g < m; g++)
			if (core_burst(b, work[g], cnt[g], dir[g]) != cnt[g])
				return -1;
		sum += now_s() - t0;
	}
	*ns = sum * 1e9;
	return 0;
}

/* The stream: every session's two packets once, scattered; after each
 * packet a byte saying whether it is the inbound one. */
static int make_stream(struct bench *b)
{
	unsigned long total = 2 * b->sessions, i;

	b->stream = malloc(total * (PKT_LEN + 1));
	if (!b->stream)
		return -1;
	for (i = 0; i < total; i++) {
		/* a multiplier prime to the total: a permutation */
		unsigned long k = (i * 2654435761ul) % total;
		uint8_t *p = b->stream + i * (PKT_LEN + 1);

		memcpy(p, b->pk + k * PKT_LEN, PKT_LEN);
		p[PKT_LEN] = k & 1;
	}
	return 0;
}

/* Sets up session @s (client to server, out and in, as a real one would
 * start) and stores its two measured packets. */
static int establish(struct bench *b, unsigned long s, uint32_t server)
{
	uint32_t client = 0x0a000000u + (uint32_t)s, alias;
	uint64_t ispi = 0x1000000000000000ull + s, rspi = 0x2000000000000000ull + s;
	uint32_t spi_o = 0x1000 + (uint32_t)s, spi_i = 0x2000 + (uint32_t)s;
	enum kind k = kind_of(b, s);
	uint8_t work[PKT_LEN];
	struct pkt_info pi;
	struct xlate_out xo;

	/* IKE_SA_INIT out and back (on 500, as clients start), then the
	 * measured kind's SA */
	mk_pkt(work, K_IKE, client, server, 0, ispi, 0, 34, true);
	pkt_parse(work, PKT_LEN, &pi);
	if (xlate_packet(&b->x, work, &pi, false, 1, 1000, &xo) != XL_OUT)
		return -1;
	memcpy(&alias, work + 12, 4);
	alias = ntohl(alias);
	mk_pkt(work, K_IKE, server, alias, 0, ispi, rspi, 34, false);
	pkt_parse(work, PKT_LEN, &pi);
	if (xlate_packet(&b->x, work, &pi, false, 1, 1001, &xo) != XL_IN)
		return -1;
	if (k == K_ESP || k == K_ESP_UDP) {
		mk_pkt(work, k, client, server, spi_o, 0, 0, 0, true);
		pkt_parse(work, PKT_LEN, &pi);
		if (xlate_packet(&b->x, work, &pi, false, 1, 1002, &xo) !=
		    XL_OUT)
			return -1;
		mk_pkt(work, k, server, alias, spi_i, 0, 0, 0, false);
		pkt_parse(work, PKT_LEN, &pi);
		if (xlate_packet(&b->x, work, &pi, false, 1, 1003, &xo) !=
		    XL_IN)
			return -1;
	}
	/* measured: INFORMATIONAL for IKE, data for ESP */
	mk_pkt(b->pk + 2 * s * PKT_LEN, k, client, server, spi_o, ispi, rspi,
	       37, true);
	mk_pkt(b->pk + (2 * s + 1) * PKT_LEN, k, server, alias, spi_i, ispi,
	       rspi, 37, false);
	return 0;
}

#define LINE 64
#define PROBE_BURST BURST

static uint64_t xorshift(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/*
 * ns per random line read in @bytes of memory (THP, as the table), @reads
 * reads: one at a time, each line holding the index of the next (a random
 * cycle through all lines, so nothing can be read ahead), and in bursts of
 * PROBE_BURST prefetched lines then read.  The sums are printed so that
 * the compiler keeps the reads.
 */
static int mem_probe(size_t bytes, unsigned long reads)
{
	size_t n = bytes / LINE, i, j;
	uint64_t *m, x = 0x9e3779b97f4a7c15ull, sum = 0, cur = 0;
	double t0, dep, par, upd;
	unsigned long r;

	if (n < 2)
		n = 2;
	m = big_calloc(n, LINE);
	if (!m) {
		fprintf(stderr, "bench_core: out of memory\n");
		return 1;
	}
	/* Sattolo's shuffle: one cycle through every line */
	for (i = 0; i < n; i++)
		m[i * (LINE / 8)] = i;
	for (i = n - 1; i > 0; i--) {
		uint64_t tmp;

		j = (size_t)(xorshift(&x) % i);
		tmp = m[i * (LINE / 8)];
		m[i * (LINE / 8)] = m[j * (LINE / 8)];
		m[j * (LINE / 8)] = tmp;
	}
	t0 = now_s();
	for (r = 0; r < reads; r++)
		cur = m[cur * (LINE / 8)];
	dep = (now_s() - t0) * 1e9 / reads;
	t0 = now_s();
	for (r = 0; r < reads; r += PROBE_BURST) {
		size_t at[PROBE_BURST];
		unsigned k;

		for (k = 0; k < PROBE_BURST; k++) {
			at[k] = (size_t)(xorshift(&x) % n) * (LINE / 8);
			__builtin_prefetch(&m[at[k]]);
		}
		for (k = 0; k < PROBE_BURST; k++)
			sum += m[at[k]];
	}
	par = (now_s() - t0) * 1e9 / r;
	/* the same, each line also written (a count in it incremented, as
	 * a packet's SA counts it): the line goes back to memory dirty */
	t0 = now_s();
	for (r = 0; r < reads; r += PROBE_BURST) {
		size_t at[PROBE_BURST];
		unsigned k;

		for (k = 0; k < PROBE_BURST; k++) {
			at[k] = (size_t)(xorshift(&x) % n) * (LINE / 8);
			__builtin_prefetch(&m[at[k]], 1);
		}
		for (k = 0; k < PROBE_BURST; k++)
			m[at[k] + 7] += m[at[k]];
	}
	upd = (now_s() - t0) * 1e9 / r;
	printf("bench-core: memory of %zu bytes (%zu lines): %.1f ns per "
	       "random line read alone, %.1f ns with %d in flight, %.1f ns "
	       "with %d in flight each also written (sums %llu %llu)\n",
	       n * LINE, n, dep, par, PROBE_BURST, upd, PROBE_BURST,
	       (unsigned long long)cur, (unsigned long long)(sum & 0xff));
	big_free(m, n, LINE);
	return 0;
}

int main(int argc, char **argv)
{
	unsigned long sessions = 1000, packets = 2000000, i, n_srv;
	struct config *cfg = calloc(1, sizeof(*cfg));
	struct config_errors e = { .n = 0 };
	struct session_limits lim;
	struct session_table *t;
	struct alias_pool *pool;
	struct bench b = { .kind = K_MIX };
	struct session_counters cnt;
	double t0, t1, ns;
	size_t resident;
	int opt, kk, probe = 0;
	char line[128];

	while ((opt = getopt(argc, argv, "s:n:k:m")) != -1) {
		if (opt == 'm') {
			probe = 1;
		} else if (opt == 's') {
			sessions = strtoul(optarg, NULL, 0);
		} else if (opt == 'n') {
			packets = strtoul(optarg, NULL, 0);
		} else if (opt == 'k') {
			for (kk = 0; kk < K_MAX; kk++)
				if (!strcmp(optarg, kind_names[kk]))
					break;
			if (kk == K_MAX) {
				fprintf(stderr, "bench_core: unknown kind %s "
					"(esp, esp-udp, ike, natt-ike, mix)\n",
					optarg);
				return 2;
			}
			b.kind = (enum kind)kk;
		} else {
			fprintf(stderr, "usage: bench_core [-s SESSIONS] "
				"[-n PACKETS] [-k KIND] | -m [-s SESSIONS] "
				"[-n READS]\n");
			return 2;
		}
	}
	if (!cfg || !sessions || sessions > 4000000 || !packets)
		return 2;
	lim.max_sessions = (uint32_t)sessions;
	lim.max_sas = (uint32_t)sessions * 4;
	lim.per_client = 0;
	if (probe) {
		free(cfg);
		return mem_probe(session_table_bytes(&lim), packets);
	}
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
	t = session_table_new(&lim);
	pool = alias_pool_new(cfg);
	b.pk = malloc(2 * sessions * PKT_LEN);
	if (!t || !pool || !b.pk)
		return 1;
	b.x = (struct xlate_ctx){ t, cfg, pool, false };
	b.sessions = sessions;

	for (i = 0; i < sessions; i++)
		if (establish(&b, i, 0xc6336400u + (uint32_t)(i % n_srv))) {
			fprintf(stderr, "setup failed at session %lu\n", i);
			return 1;
		}

	/* what the sessions and their SAs take of the table, in memory:
	 * the pools are written only as far as they are used */
	resident = session_table_resident(t);
	session_counters(t, &cnt);
	if (make_stream(&b)) {
		fprintf(stderr, "bench_core: out of memory\n");
		return 1;
	}
	free(b.pk);
	b.pk = NULL;
	if (run_packets(&b, packets, &ns)) {
		fprintf(stderr, "bench_core: a packet was not translated\n");
		return 1;
	}
	printf("bench-core: %lu sessions, %lu %s packets (both directions): "
	       "%.2f Mpkt/s, %.0f ns/pkt\n", sessions, packets,
	       kind_names[b.kind], packets / ns * 1e3, ns / packets);
	/* how long expiry holds the table (nothing is due here, so this is
	 * the scan alone): the whole table at once, and the slice the
	 * daemon does every 100 ms */
	t0 = now_s();
	session_expire(t, 3);
	t1 = now_s();
	session_expire_step(t, 3, SESSION_EXPIRE_SLICE, NULL, NULL);
	printf("bench-core: expiry of %lu sessions holds the table %.2f ms "
	       "at once, %.2f ms per slice of %u (the daemon's)\n", sessions,
	       (t1 - t0) * 1e3, (now_s() - t1) * 1e3, SESSION_EXPIRE_SLICE);
	printf("bench-core: memory per session (table + 4 SA slots + hash "
	       "buckets): %zu bytes", session_table_bytes(&lim) / sessions);
	/* the daemon counts sessions per client too, by default */
	lim.per_client = 256;
	printf(", %zu with max-sessions-per-client (the default); in memory "
	       "(mincore) with %.2f SAs a session: %zu bytes\n",
	       session_table_bytes(&lim) / sessions,
	       (double)cnt.sa_active / (double)cnt.active,
	       resident / sessions);
	free(b.stream);
	session_table_free(t);
	alias_pool_free(pool);
	free(cfg);
	return 0;
}
