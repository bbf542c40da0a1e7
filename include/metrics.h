/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The `metrics-file`: espmasqctl stats in Prometheus' text format,
 * rewritten every METRICS_INTERVAL seconds (to FILE.tmp, then renamed, so
 * a collector such as node_exporter's textfile collector never reads half
 * a file).
 */
#ifndef ESPMASQ_METRICS_H
#define ESPMASQ_METRICS_H

struct daemon;

#define METRICS_INTERVAL	15	/* seconds */

/* Writes the file if one is configured (main thread).  Returns 0 or a
 * negative errno (logged, at most once a minute). */
int metrics_write(struct daemon *d);

#endif
