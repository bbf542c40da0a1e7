/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "prom.h"

struct prom_sample {
	char name[128];
	char labels[160];
	char value[24];
	char help[96];
	unsigned order;		/* its family's first appearance */
	unsigned seq;		/* its own */
	bool gauge;
};

/* Keys that are levels, not counts since start. */
static bool gauge(const char *scope, const char *key)
{
	static const char *const g[] = {
		"active", "sa_active", "gate_held_ms_max", "held_wait_ms_max",
		"kernel_waiting", "capacity", "entries", "ike_entries",
		"last_scan_ms", "table_bytes", "table_resident_bytes",
		"read_each", "scan_every_ms", "each_failed",
	};
	unsigned i;

	(void)scope;
	for (i = 0; i < sizeof(g) / sizeof(g[0]); i++)
		if (!strcmp(key, g[i]))
			return true;
	return false;
}

/* A metric name part: letters, digits and '_' only. */
static void clean(char *dst, size_t len, const char *src)
{
	size_t i;

	for (i = 0; src[i] && i + 1 < len; i++)
		dst[i] = (src[i] >= 'a' && src[i] <= 'z') ||
			 (src[i] >= '0' && src[i] <= '9') ? src[i] : '_';
	dst[i] = '\0';
}

/* Prometheus takes numbers only: words (offload state=on, why=...) are
 * for people. */
static bool numeric(const char *v)
{
	if (!*v)
		return false;
	for (; *v; v++)
		if ((*v < '0' || *v > '9') && *v != '.')
			return false;
	return true;
}

static void add(struct prom *p, const char *name, const char *labels,
		const char *value, const char *help, bool gauge)
{
	struct prom_sample *x;
	unsigned i, order = p->n;

	if (p->n == p->cap) {
		unsigned cap = p->cap ? 2 * p->cap : 256;

		x = realloc(p->s, cap * sizeof(*x));
		if (!x) {
			p->err = -ENOMEM;
			return;
		}
		p->s = x;
		p->cap = cap;
	}
	for (i = 0; i < p->n; i++)
		if (!strcmp(p->s[i].name, name)) {
			order = p->s[i].order;
			break;
		}
	x = &p->s[p->n++];
	snprintf(x->name, sizeof(x->name), "%s", name);
	snprintf(x->labels, sizeof(x->labels), "%s", labels);
	snprintf(x->value, sizeof(x->value), "%s", value);
	snprintf(x->help, sizeof(x->help), "%s", help);
	x->seq = p->n - 1;
	x->gauge = gauge;
	x->order = order;
}

static int by_family(const void *a, const void *b)
{
	const struct prom_sample *x = a, *y = b;

	if (x->order != y->order)
		return x->order < y->order ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

int prom_print(struct prom *p, FILE *f)
{
	unsigned i;
	int err = p->err;

	/* by family, in the order they came, samples in theirs */
	qsort(p->s, p->n, sizeof(*p->s), by_family);
	for (i = 0; i < p->n; i++) {
		const struct prom_sample *x = &p->s[i];

		if (!i || strcmp(p->s[i - 1].name, x->name))
			fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", x->name,
				x->help, x->name,
				x->gauge ? "gauge" : "counter");
		fprintf(f, "%s%s%s%s %s\n", x->name, *x->labels ? "{" : "",
			x->labels, *x->labels ? "}" : "", x->value);
	}
	prom_free(p);
	return err;
}

void prom_free(struct prom *p)
{
	free(p->s);
	p->s = NULL;
	p->n = p->cap = 0;
	p->err = 0;
}

/* Families of keys with a label: prefix, label name, metric, help. */
static const struct family {
	const char *prefix, *label, *metric, *help;
} families[] = {
	{ "drop_", "reason", "dropped_by_reason", "packets dropped, by reason" },
	{ "kind_", "kind", "packets_by_kind", "packets received, by kind" },
	{ "batch_", "size", "bursts_by_size",
	  "receive bursts, by size class (up to twice the label)" },
};

void prom_record(struct prom *p, char *const *key, char *const *val,
		 unsigned n)
{
	const char *scope = "", *queue = NULL;
	char name[128], part[64], labels[160], help[96];
	unsigned i, j;

	for (i = 0; i < n; i++) {
		if (!strcmp(key[i], "scope"))
			scope = val[i];
		else if (!strcmp(key[i], "queue"))
			queue = val[i];
	}
	if (!*scope)
		return;
	for (i = 0; i < n; i++) {
		const struct family *fam = NULL;
		bool g;

		if (!strcmp(key[i], "scope") || !strcmp(key[i], "queue") ||
		    !strcmp(key[i], "cpu") || !numeric(val[i]))
			continue;
		for (j = 0; j < sizeof(families) / sizeof(families[0]); j++)
			if (!strncmp(key[i], families[j].prefix,
				     strlen(families[j].prefix)))
				fam = &families[j];
		labels[0] = '\0';
		if (queue)
			snprintf(labels, sizeof(labels), "queue=\"%s\"", queue);
		if (fam) {
			clean(part, sizeof(part),
			      key[i] + strlen(fam->prefix));
			snprintf(labels + strlen(labels),
				 sizeof(labels) - strlen(labels), "%s%s=\"%s\"",
				 queue ? "," : "", fam->label,
				 key[i] + strlen(fam->prefix));
			clean(part, sizeof(part), fam->metric);
		} else {
			clean(part, sizeof(part), key[i]);
		}
		g = !fam && gauge(scope, key[i]);
		snprintf(name, sizeof(name), "espmasq_%s_%s%s", scope, part,
			 g ? "" : "_total");
		snprintf(help, sizeof(help), "espmasqctl stats: %s %s",
			 scope, key[i]);
		add(p, name, labels, val[i], fam ? fam->help : help, g);
	}
}
