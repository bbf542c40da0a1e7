/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What reading the offload counters costs the kernel and espmasqd, by the
 * two ways offload-read knows: a dump of the map (GETSETELEM_RESET with
 * NLM_F_DUMP) and requests naming every entry (offload_read()).  Fills
 * map out_esp of table espmasq_offload (which must be loaded in this
 * network namespace, and is emptied first) with each size in turn and
 * times both ways, alternating, ROUNDS times each; prints the median time
 * per entry of each and their ratio.  Never fails on timing; fails when a
 * read does not see every entry.
 *
 *   bench_offload [-r ROUNDS] SIZE...
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "offload.h"

#define MAX_ROUNDS 15

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void count_fn(void *ctx, const struct offload_entry *e,
		     uint64_t packets, uint64_t bytes)
{
	(void)e;
	(void)packets;
	(void)bytes;
	++*(size_t *)ctx;
}

/* entry @i of the benchmark: client 10.x, one server, SPI i */
static void entry(struct offload_entry *e, size_t i)
{
	memset(e, 0, sizeof(*e));
	e->map = OFFLOAD_OUT_ESP;
	e->src = 0x0a000000u + (uint32_t)(i / 64);
	e->dst = 0xcb007164u;		/* 203.0.113.100 */
	e->spi = 0x100 + i;
	e->addr = 0xcb00710bu;		/* 203.0.113.11 */
}

static int fill(struct offload *o, struct offload_entry *es, size_t n)
{
	size_t i;
	int err, last;

	err = offload_flush(o);
	if (err)
		return err;
	for (i = 0; i < n; i++) {
		entry(&es[i], i);
		err = offload_add(o, &es[i]);
		if (err == -ENOSPC) {
			if (offload_send(o) < 0)
				return -errno;
			err = offload_add(o, &es[i]);
		}
		if (err)
			return err;
	}
	if (offload_pending(o) && offload_send(o) < 0)
		return -errno;
	if (offload_reap(o, &last) > 0)
		return last;
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return v[n / 2];
}

int main(int argc, char **argv)
{
	double dump[MAX_ROUNDS], each[MAX_ROUNDS], t0;
	struct offload_entry *es = NULL;
	struct offload *o;
	int rounds = 3, opt, err, r, status = 0;

	while ((opt = getopt(argc, argv, "r:")) != -1) {
		if (opt != 'r')
			goto usage;
		rounds = atoi(optarg);
		if (rounds < 1 || rounds > MAX_ROUNDS)
			goto usage;
	}
	if (optind == argc)
		goto usage;
	o = offload_open(&err);
	if (!o) {
		fprintf(stderr, "bench_offload: %s\n", strerror(-err));
		return 1;
	}
	printf("%10s %12s %12s %10s\n", "entries", "dump us/ent", "each us/ent",
	       "dump/each");
	for (; optind < argc; optind++) {
		size_t n = strtoul(argv[optind], NULL, 10), seen;
		struct offload_entry *p;

		if (!n || n > 4000000)
			goto usage;
		p = realloc(es, n * sizeof(*es));
		if (!p) {
			fprintf(stderr, "bench_offload: out of memory\n");
			return 1;
		}
		es = p;
		err = fill(o, es, n);
		if (err) {
			fprintf(stderr, "bench_offload: cannot fill the map: "
				"%s (is table ip %s loaded here?)\n",
				strerror(-err), OFFLOAD_TABLE);
			return 1;
		}
		for (r = 0; r < rounds; r++) {
			seen = 0;
			t0 = now_s();
			err = offload_scan_maps(o, 1u << OFFLOAD_OUT_ESP,
						count_fn, &seen);
			dump[r] = (now_s() - t0) * 1e6 / (double)n;
			if (err < 0 || seen != n) {
				fprintf(stderr, "bench_offload: dump of %zu "
					"saw %zu (%d)\n", n, seen, err);
				status = 1;
			}
			seen = 0;
			t0 = now_s();
			err = offload_read(o, es, n, count_fn, NULL, &seen);
			each[r] = (now_s() - t0) * 1e6 / (double)n;
			if (err < 0 || seen != n) {
				fprintf(stderr, "bench_offload: reading %zu one "
					"by one saw %zu (%d)\n", n, seen, err);
				status = 1;
			}
		}
		{
			double d = median(dump, rounds), e = median(each, rounds);

			printf("%10zu %12.2f %12.2f %9.2fx\n", n, d, e, d / e);
			fflush(stdout);
		}
	}
	offload_flush(o);
	offload_close(o);
	free(es);
	return status;
usage:
	fprintf(stderr, "usage: bench_offload [-r ROUNDS] SIZE...\n");
	return 2;
}
