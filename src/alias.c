/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdlib.h>

#include "alias.h"

struct alias_pool {
	uint32_t *all;		/* sorted: every alias, pinned ones included */
	unsigned n_all;
	uint32_t *dyn;		/* unpinned aliases, in config order */
	unsigned n_dyn;
	/* every alias again, open addressing (0: empty), at most a
	 * quarter full: alias_pool_has() runs for every packet, mostly
	 * for addresses it does not hold (1.4 probes then, not 2.5 as half
	 * full), the most of them outside its lowest and highest aliases (no
	 * probe at all) */
	uint32_t *set;
	uint32_t set_mask;
	uint32_t lo, span;		/* the lowest alias, the highest - lo */
	const struct config *cfg;
};

static inline uint32_t set_slot(uint32_t addr, uint32_t mask)
{
	/* aliases are mostly consecutive: a multiplicative hash spreads
	 * them over the whole table */
	return (addr * 0x9e3779b1u >> 7) & mask;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

struct alias_pool *alias_pool_new(const struct config *c)
{
	return alias_pool_new_keep(c, NULL, 0);
}

struct alias_pool *alias_pool_new_keep(const struct config *c,
				       const uint32_t *keep, unsigned n_keep)
{
	struct alias_pool *p = calloc(1, sizeof(*p));
	unsigned i, n = 0;

	if (!p)
		return NULL;
	p->all = calloc(c->n_aliases + c->n_pins + n_keep + 1,
			sizeof(uint32_t));
	p->dyn = calloc(c->n_aliases + 1, sizeof(uint32_t));
	if (!p->all || !p->dyn) {
		alias_pool_free(p);
		errno = ENOMEM;
		return NULL;
	}
	for (i = 0; i < c->n_aliases; i++) {
		p->all[n++] = c->aliases[i];
		if (!config_alias_pinned(c, c->aliases[i]))
			p->dyn[p->n_dyn++] = c->aliases[i];
	}
	for (i = 0; i < c->n_pins; i++)
		p->all[n++] = c->pins[i].alias;
	for (i = 0; i < n_keep; i++)
		p->all[n++] = keep[i];
	qsort(p->all, n, sizeof(uint32_t), cmp_u32);
	p->n_all = 0;
	for (i = 0; i < n; i++)
		if (!p->n_all || p->all[p->n_all - 1] != p->all[i])
			p->all[p->n_all++] = p->all[i];
	p->lo = p->n_all ? p->all[0] : 0;
	p->span = p->n_all ? p->all[p->n_all - 1] - p->lo : 0;
	for (p->set_mask = 1; p->set_mask < 4 * p->n_all + 1;)
		p->set_mask <<= 1;
	p->set = calloc(p->set_mask, sizeof(uint32_t));
	if (!p->set) {
		alias_pool_free(p);
		errno = ENOMEM;
		return NULL;
	}
	p->set_mask--;
	for (i = 0; i < p->n_all; i++) {
		uint32_t h = set_slot(p->all[i], p->set_mask);

		while (p->set[h])
			h = (h + 1) & p->set_mask;
		p->set[h] = p->all[i];
	}
	p->cfg = c;
	return p;
}

void alias_pool_free(struct alias_pool *p)
{
	if (!p)
		return;
	free(p->all);
	free(p->dyn);
	free(p->set);
	free(p);
}

bool alias_pool_has(const struct alias_pool *p, uint32_t addr)
{
	uint32_t h = set_slot(addr, p->set_mask);

	if (addr - p->lo > p->span)
		return false;
	/* never full, so an empty slot ends every probe */
	while (p->set[h]) {
		if (p->set[h] == addr)
			return true;
		h = (h + 1) & p->set_mask;
	}
	return false;
}

unsigned alias_pool_size(const struct alias_pool *p)
{
	return p->n_all;
}

uint32_t alias_pool_addr(const struct alias_pool *p, unsigned i)
{
	return i < p->n_all ? p->all[i] : 0;
}

bool alias_pool_drained(const struct alias_pool *p, uint32_t addr)
{
	const struct config *c = p->cfg;

	if (!alias_pool_has(p, addr) || config_alias_pinned(c, addr))
		return false;
	/* config aliases are sorted */
	return !bsearch(&addr, c->aliases, c->n_aliases, sizeof(addr),
			cmp_u32);
}

unsigned alias_pool_free_count(const struct alias_pool *p)
{
	return p->n_dyn;
}

uint32_t alias_pick(const struct alias_pool *p, uint32_t client,
		    uint32_t server, alias_users_fn users, void *ctx,
		    uint32_t max_clients, bool *pinned, bool *shared)
{
	uint32_t pin = config_pin_for(p->cfg, client), best = 0;
	unsigned i, start, best_n = ~0u;

	*pinned = pin != 0;
	*shared = false;
	if (pin)
		return users(ctx, pin, server) ? 0 : pin;
	if (!p->n_dyn)
		return 0;
	/* Fibonacci hashing of the client spreads neighbours apart. */
	start = (unsigned)(((uint64_t)(client * 2654435761u) * p->n_dyn) >> 32);
	for (i = 0; i < p->n_dyn; i++) {
		uint32_t a = p->dyn[(start + i) % p->n_dyn];
		unsigned n = users(ctx, a, server);

		if (!n)
			return a;
		if (n < best_n) {
			best = a;
			best_n = n;
		}
	}
	/* none free: the least shared one, within the limit */
	if (max_clients == 1 || (max_clients && best_n >= max_clients))
		return 0;
	*shared = true;
	return best;
}
