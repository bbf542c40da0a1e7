/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A worker: one thread, one NFQUEUE queue, one libevent base, optionally
 * pinned to a CPU.  Every packet it receives gets exactly one verdict.
 */
#ifndef ESPMASQ_WORKER_H
#define ESPMASQ_WORKER_H

#include <stdbool.h>
#include <stdint.h>

#include "offload.h"
#include "packet.h"
#include "queue.h"
#include "translate.h"

struct daemon;
struct worker;

#define WORKER_BATCH_BUCKETS 8	/* 1, 2-3, 4-7, ... 64-127, 128+ */

struct worker_counters {
	uint64_t packets;		/* = accepted + dropped + held now */
	uint64_t accepted;
	uint64_t dropped;
	uint64_t rewritten;
	uint64_t csum_partial;		/* partial checksums completed */
	uint64_t truncated;		/* copy shorter than the packet */
	uint64_t held;			/* negotiations held for a gate */
	uint64_t held_released;		/* ...given their verdict later */
	uint64_t held_expired;		/* ...dropped: waited too long */
	uint64_t held_full;		/* ...dropped: no slot free */
	uint64_t held_wait_ms_total;	/* waits of the released ones */
	uint64_t held_wait_ms_max;
	uint64_t bursts;
	uint64_t batch_hist[WORKER_BATCH_BUCKETS];
	uint64_t malformed[PKT_ERR_MAX];
	uint64_t xlate[XL_MAX];
	uint64_t gw_marked;		/* gateway: outbound mark changed */
	uint64_t offloaded;		/* SAs handed to the kernel */
	uint64_t offload_errors;	/* ...that it refused, or not sent */
	uint64_t kind[PKT_KIND_MAX];
};

/*
 * Packets waiting for a shared alias's gate.  An IKE request that would
 * start a negotiation while another client of the same alias and server
 * negotiates is not dropped: the worker keeps a copy and leaves the packet
 * in the kernel queue without a verdict, then decides it again when the
 * gate may have opened (after each burst, and on a short timer while
 * anything waits).  Slots are allocated on first use and reused; a packet
 * that finds none free, or waits longer than twice the gate's hold, is
 * dropped and counted (its peer sends it again).
 */
#define WORKER_HOLD_SLOTS 64

struct hold_slot {
	uint32_t id;
	uint32_t len;
	uint32_t mark;
	uint32_t skbinfo;
	uint32_t since_ms;
	uint32_t cap;
	uint8_t *data;
};

struct hold_pool {
	struct hold_slot slot[WORKER_HOLD_SLOTS];
	unsigned n;			/* slot[0..n-1], oldest first */
};

/* worker_decide()'s answer for a packet to hold (not a kernel verdict) */
#define WORKER_HOLD 0x100u

/* Keeps a copy of @pkt; false (nothing kept) when no slot is free. */
bool hold_put(struct hold_pool *h, const struct queue_pkt *pkt,
	      uint32_t now_ms);
void hold_free(struct hold_pool *h);

typedef void (*hold_emit_fn)(void *ctx, uint32_t id, uint32_t verdict,
			     bool set_mark, uint32_t mark, const void *payload,
			     uint32_t len);

/*
 * Decides the held packets again, oldest first (the caller holds the table
 * lock): each one that no longer waits gets its verdict through @emit,
 * whose payload points into the pool and stays valid until the next
 * hold_put().  Returns how many still wait.
 */
unsigned hold_retry(struct daemon *d, struct worker_counters *c,
		    struct hold_pool *h, uint32_t now, uint32_t now_ms,
		    hold_emit_fn emit, void *ctx);

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
 * packet (the caller holds the table lock) and returns the verdict, or
 * WORKER_HOLD for a negotiation that must wait for its gate (nothing in
 * the packet changed); *@payload is set when the packet was rewritten,
 * *@mark when a mark applies.
 */
uint32_t worker_decide(struct daemon *d, struct worker_counters *c,
		       struct queue_pkt *pkt, uint32_t now, uint32_t now_ms,
		       bool *payload, bool *set_mark, uint32_t *mark);
/* The same, and with offload on, when the packet's SA is to be handed to
 * the kernel now, its entry in *@off (@off->map OFFLOAD_MAPS: none). */
uint32_t worker_decide_off(struct daemon *d, struct worker_counters *c,
			   struct queue_pkt *pkt, uint32_t now,
			   uint32_t now_ms, bool *payload, bool *set_mark,
			   uint32_t *mark, struct offload_entry *off);

#endif
