/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Invariant checks of the fuzz harnesses: a violation names itself on
 * stderr, then abort()s, which libFuzzer reports as a crash and saves.
 */
#ifndef ESPMASQ_FUZZ_CHECK_H
#define ESPMASQ_FUZZ_CHECK_H

#include <stdio.h>
#include <stdlib.h>

static inline void fuzz_fail(const char *what, const char *file, int line)
{
	fprintf(stderr, "%s:%d: invariant violated: %s\n", file, line, what);
	abort();
}

#define check(c) ((c) ? (void)0 : fuzz_fail(#c, __FILE__, __LINE__))

#endif
