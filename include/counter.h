/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Counters written by one thread and read by another.  Relaxed atomics
 * make the cross-thread read well defined while compiling to plain loads
 * and stores: the single writer needs no read-modify-write instruction.
 */
#ifndef ESPMASQ_COUNTER_H
#define ESPMASQ_COUNTER_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

static inline void counter_add(uint64_t *c, uint64_t v)
{
	_Atomic uint64_t *a = (_Atomic uint64_t *)c;

	atomic_store_explicit(a, atomic_load_explicit(a, memory_order_relaxed)
			      + v, memory_order_relaxed);
}

/* Copies a struct made only of uint64_t counters. */
static inline void counters_load(void *dst, const void *src, size_t bytes)
{
	const _Atomic uint64_t *s = src;
	uint64_t *d = dst;
	size_t i;

	for (i = 0; i < bytes / sizeof(uint64_t); i++)
		d[i] = atomic_load_explicit(&s[i], memory_order_relaxed);
}

#endif
