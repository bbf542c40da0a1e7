/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The stamp bench/gen writes at the end of every packet and bench/sink
 * reads back.  At the end, not at a fixed offset, so the sink needs no
 * parser for ESP, ESP-in-UDP and IKE, and espmasqd (which rewrites only
 * addresses and checksums) leaves it alone.
 */
#ifndef ESPMASQ_BENCH_STAMP_H
#define ESPMASQ_BENCH_STAMP_H

#include <stdint.h>
#include <string.h>

#define STAMP_MAGIC	0x45534d42u	/* "ESMB" */
#define STAMP_LEN	20

struct stamp {
	uint32_t magic;
	uint64_t seq;		/* one counter over every packet gen sent */
	uint64_t mono_ns;	/* CLOCK_MONOTONIC at send */
};

/* Unaligned, in host byte order: sender and receiver share the host. */
static inline void stamp_put(uint8_t *end, const struct stamp *s)
{
	memcpy(end - STAMP_LEN, &s->magic, 4);
	memcpy(end - STAMP_LEN + 4, &s->seq, 8);
	memcpy(end - STAMP_LEN + 12, &s->mono_ns, 8);
}

static inline void stamp_get(const uint8_t *end, struct stamp *s)
{
	memcpy(&s->magic, end - STAMP_LEN, 4);
	memcpy(&s->seq, end - STAMP_LEN + 4, 8);
	memcpy(&s->mono_ns, end - STAMP_LEN + 12, 8);
}

#endif
