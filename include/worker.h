/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A worker: one thread, one NFQUEUE queue, one libevent base, optionally
 * pinned to a CPU.  Every packet it receives gets exactly one verdict.
 */
#ifndef ESPMASQ_WORKER_H
#define ESPMASQ_WORKER_H

#include <stdint.h>

#include "packet.h"
#include "queue.h"
#include "translate.h"

struct daemon;
struct worker;

#define WORKER_BATCH_BUCKETS 8	/* 1, 2-3, 4-7, ... 64-127, 128+ */

struct worker_counters {
	uint64_t packets;
	uint64_t accepted;
	uint64_t dropped;
	uint64_t rewritten;
	uint64_t csum_partial;		/* partial checksums completed */
	uint64_t truncated;		/* copy shorter than the packet */
	uint64_t bursts;
	uint64_t batch_hist[WORKER_BATCH_BUCKETS];
	uint64_t malformed[PKT_ERR_MAX];
	uint64_t xlate[XL_MAX];
	uint64_t kind[PKT_KIND_MAX];
};

/* Opens the queue (errors are reported and returned as -errno). */
int worker_new(struct daemon *d, unsigned index, uint16_t queue, int cpu,
	       struct worker **out);
int worker_start(struct worker *w);
/* Asks the thread to stop and waits for it. */
void worker_stop(struct worker *w);
void worker_free(struct worker *w);

uint16_t worker_queue_num(const struct worker *w);
int worker_cpu(const struct worker *w);
void worker_counters(const struct worker *w, struct worker_counters *out);
void worker_queue_counters(const struct worker *w, struct queue_counters *out);

/*
 * The packet path without I/O, for tests and benchmarks: decides one
 * packet (the caller holds the table lock) and returns the verdict;
 * *@payload is set when the packet was rewritten, *@mark when a mark
 * applies.
 */
uint32_t worker_decide(struct daemon *d, struct worker_counters *c,
		       struct queue_pkt *pkt, uint32_t now, uint32_t now_ms,
		       bool *payload, bool *set_mark, uint32_t *mark);

#endif
