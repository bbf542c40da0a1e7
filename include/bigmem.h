/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Zeroed arrays for the big tables.  Past 2 MiB they are mapped apart and
 * asked for transparent huge pages: a lookup in a table of a million
 * sessions then misses the cache but rarely the TLB as well.
 */
#ifndef ESPMASQ_BIGMEM_H
#define ESPMASQ_BIGMEM_H

#include <stddef.h>

/* @n zeroed elements of @size bytes, aligned to a cache line (64 bytes),
 * or NULL (errno set). */
void *big_calloc(size_t n, size_t size);
/* Frees what big_calloc(@n, @size) returned (NULL is fine). */
void big_free(void *p, size_t n, size_t size);
/* Bytes of what big_calloc(@n, @size) returned that are in memory: pages
 * of a mapped array only once written (mincore()); a small one in all. */
size_t big_resident(const void *p, size_t n, size_t size);

#endif
