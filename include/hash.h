/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The keyed hash of the session table and the gateway table.
 */
#ifndef ESPMASQ_HASH_H
#define ESPMASQ_HASH_H

#include <stdint.h>

/* splitmix64's finalizer: cheap, and keyed with a random @seed so that
 * senders cannot aim their packets at one bucket. */
static inline uint32_t hash_mix(uint64_t x, uint64_t seed)
{
	x ^= seed;
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	x ^= x >> 31;
	return (uint32_t)x;
}

#endif
