/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Alias pool: the external addresses espmasq puts on clients' traffic.
 * Immutable once built, so workers read it without locking.
 */
#ifndef ESPMASQ_ALIAS_H
#define ESPMASQ_ALIAS_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"

struct alias_pool;

/* Callback: how many sessions use @alias toward @server? */
typedef unsigned (*alias_users_fn)(void *ctx, uint32_t alias, uint32_t server);

/* Builds the pool from the config's aliases and pins.  Returns NULL with
 * errno set on failure. */
struct alias_pool *alias_pool_new(const struct config *c);
/* ...and keeps @n_keep more addresses known (alias_pool_has) but never
 * picked: aliases a reloaded config dropped, drained by their sessions. */
struct alias_pool *alias_pool_new_keep(const struct config *c,
				       const uint32_t *keep, unsigned n_keep);
void alias_pool_free(struct alias_pool *p);

/* True if @addr (host order) is one of the aliases, pinned or not. */
bool alias_pool_has(const struct alias_pool *p, uint32_t addr);

/* Every address the pool knows (config aliases, pinned ones, drained
 * ones), in ascending order: alias_pool_addr(p, i) for i below
 * alias_pool_size(p). */
unsigned alias_pool_size(const struct alias_pool *p);
uint32_t alias_pool_addr(const struct alias_pool *p, unsigned i);

/* True if @addr is in the pool only to drain: the configuration the pool
 * was built from neither lists nor pins it. */
bool alias_pool_drained(const struct alias_pool *p, uint32_t addr);

/* Number of aliases available for automatic picking (not pinned). */
unsigned alias_pool_free_count(const struct alias_pool *p);

/*
 * Chooses the alias for a new session of @client toward @server: its pin
 * if it has one and nobody else uses it, otherwise an unpinned alias that
 * no session uses toward @server, trying first the one the client's address
 * hashes to so that a client tends to keep one alias toward every server.
 * When none is free, the unpinned alias with the fewest clients toward
 * @server, if that is fewer than @max_clients (0: no limit; 1: never share),
 * with *@shared set.  Pinned aliases are never shared.  Returns 0 when
 * there is no alias to give.
 */
uint32_t alias_pick(const struct alias_pool *p, uint32_t client,
		    uint32_t server, alias_users_fn users, void *ctx,
		    uint32_t max_clients, bool *pinned, bool *shared);

#endif
