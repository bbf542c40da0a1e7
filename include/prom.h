/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Prometheus text format (version 0.0.4) from espmasqd's stat records
 * ("stat scope=... key=value ..."), for `espmasqctl stats --prometheus`
 * and the daemon's `metrics-file`.
 *
 * Names: espmasq_<scope>_<key>, with _total on counters; per-queue
 * records carry a queue label, and families of keys become labels
 * (drop_REASON: reason, kind_KIND: kind, batch_N: size).  The samples of
 * each metric are printed together, under one HELP and TYPE line.
 */
#ifndef ESPMASQ_PROM_H
#define ESPMASQ_PROM_H

#include <stdio.h>

struct prom_sample;

struct prom {
	struct prom_sample *s;
	unsigned n, cap;
	int err;		/* -ENOMEM once a sample could not be kept */
};

/* Takes in one stat record given as parallel key/value arrays. */
void prom_record(struct prom *p, char *const *key, char *const *val,
		 unsigned n);
/* Prints what was taken in, grouped by metric, and forgets it.  Returns
 * 0, or -ENOMEM when samples were lost (those printed are right). */
int prom_print(struct prom *p, FILE *f);
/* Forgets what was taken in, printing nothing. */
void prom_free(struct prom *p);

#endif
