/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "bigmem.h"

#define HUGE_SZ ((size_t)2 << 20)

static size_t big_len(size_t n, size_t size)
{
	return (n * size + HUGE_SZ - 1) & ~(HUGE_SZ - 1);
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
		len = n * size;
		len = ((len ? len : 1) + 63) & ~(size_t)63;
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
