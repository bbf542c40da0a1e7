/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "bigmem.h"

#define HUGE_SZ ((size_t)2 << 20)

static size_t big_len(size_t n, size_t size)
{
	return (n * size + HUGE_SZ - 1) & ~(HUGE_SZ - 1);
}

/* an array below HUGE_SZ: an ordinary allocation, whole lines */
static size_t small_len(size_t len)
{
	return ((len ? len : 1) + 63) & ~(size_t)63;
}

void *big_calloc(size_t n, size_t size)
{
	size_t len;
	void *p;

	if (size && n > SIZE_MAX / 2 / size) {
		errno = ENOMEM;
		return NULL;
	}
	if (n * size < HUGE_SZ) {
		/* cache-line aligned, as the pages below are: an SA is one
		 * line (session.c) */
		len = small_len(n * size);
		p = aligned_alloc(64, len);
		if (p)
			memset(p, 0, len);
		return p;
	}
	len = big_len(n, size);
	p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	/* advice only: without THP (or with it off) small pages still work */
	(void)madvise(p, len, MADV_HUGEPAGE);
	return p;
}

void big_free(void *p, size_t n, size_t size)
{
	if (!p)
		return;
	if (n * size < HUGE_SZ)
		free(p);
	else
		munmap(p, big_len(n, size));
}

size_t big_resident(const void *p, size_t n, size_t size)
{
	size_t len, pg, i, in = 0;
	unsigned char vec[4096];

	if (!p)
		return 0;
	if (n * size < HUGE_SZ)
		return small_len(n * size);
	len = big_len(n, size);
	pg = (size_t)sysconf(_SC_PAGESIZE);
	/* a window of pages at a time: no allocation here */
	for (i = 0; i < len; i += sizeof(vec) * pg) {
		size_t w = len - i < sizeof(vec) * pg ? len - i : sizeof(vec) * pg;
		size_t k;

		if (mincore((char *)p + i, w, vec))
			return 0;
		for (k = 0; k < (w + pg - 1) / pg; k++)
			in += vec[k] & 1;
	}
	return in * pg;
}
