/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "log.h"
#include "notify.h"
#include "offload.h"
#include "rules.h"

static void problem(struct config_errors *e, const char *what)
{
	if (e->n < CONFIG_ERR_KEEP)
		snprintf(e->msg[e->n], CONFIG_ERR_LEN,
			 "'%s' changed: it takes a restart, not a reload",
			 what);
	e->n++;
}

/* Settings the running daemon built its queues, table and socket from. */
static void restart_only(const struct config *o, const struct config *n,
			 struct config_errors *e)
{
	if (o->mode != n->mode)
		problem(e, "mode");
	if (o->n_queues != n->n_queues ||
	    memcmp(o->queues, n->queues, sizeof(o->queues[0]) * o->n_queues))
		problem(e, "queues");
	else if (memcmp(o->cpu, n->cpu, sizeof(o->cpu[0]) * o->n_queues))
		problem(e, "cpu");
	if (o->max_sessions != n->max_sessions)
		problem(e, "max-sessions");
	if (o->client_sessions != n->client_sessions)
		problem(e, "max-sessions-per-client");
	if (o->queue_maxlen != n->queue_maxlen)
		problem(e, "queue-maxlen");
	if (config_rcvbuf(o) != config_rcvbuf(n))
		problem(e, "rcvbuf");
	if (o->batch != n->batch)
		problem(e, "batch");
	if (strcmp(o->control, n->control))
		problem(e, "control");
	if (strcmp(o->state, n->state))
		problem(e, "state");
	if (strcmp(o->control_group, n->control_group))
		problem(e, "control-group");
	if (strcmp(o->user, n->user))
		problem(e, "user");
	/* what auto comes to, and offload-scan, change without a restart
	 * (daemon_offload_reconf()) */
	if (o->offload_mode != n->offload_mode)
		problem(e, "offload");
	if (o->fail_policy != n->fail_policy)
		problem(e, "fail-policy");
	if (o->bypass_mark.value != n->bypass_mark.value ||
	    o->bypass_mark.mask != n->bypass_mark.mask)
		problem(e, "bypass-mark");
}

/* The rules @c needs, as text (NULL when out of memory). */
static char *rules_text(const struct config *c)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	if (rules_print(f, c, RULES_IPTABLES) < 0) {
		fclose(f);
		free(buf);
		return NULL;
	}
	fclose(f);
	return buf;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* Aliases that sessions use and @c no longer lists: sorted, unique, in
 * *@keep (to free).  Returns their number, or -ENOMEM.  Caller holds the
 * table lock. */
static int draining(struct daemon *d, const struct config *c,
		    uint32_t **keep)
{
	struct session_view *sv = NULL;
	struct sa_view *av = NULL;
	size_t nsv = 0, nav = 0, i;
	unsigned n = 0;
	int err;

	*keep = NULL;
	err = session_snapshot(d->table, &sv, &nsv, &av, &nav);
	free(av);
	if (err < 0)
		return err;
	*keep = calloc(nsv + 1, sizeof(**keep));
	if (!*keep) {
		free(sv);
		return -ENOMEM;
	}
	for (i = 0; i < nsv; i++) {
		uint32_t a = sv[i].alias;
		unsigned j;
		bool listed = false;

		for (j = 0; j < c->n_aliases && !listed; j++)
			listed = c->aliases[j] == a;
		for (j = 0; j < c->n_pins && !listed; j++)
			listed = c->pins[j].alias == a;
		if (!listed)
			(*keep)[n++] = a;
	}
	free(sv);
	qsort(*keep, n, sizeof(**keep), cmp_u32);
	for (i = 0, nsv = 0; i < n; i++)
		if (!nsv || (*keep)[nsv - 1] != (*keep)[i])
			(*keep)[nsv++] = (*keep)[i];
	return (int)nsv;
}

static int reload_into(struct daemon *d, struct config *n,
		       struct config_errors *e, struct reload_result *res);

int daemon_reload(struct daemon *d, struct config_errors *e,
		  struct reload_result *res)
{
	struct config *n = calloc(1, sizeof(*n));
	int err;

	memset(res, 0, sizeof(*res));
	if (!n)
		return -ENOMEM;
	notify("RELOADING=1");
	err = reload_into(d, n, e, res);
	notify("READY=1");
	return err;
}

static int reload_into(struct daemon *d, struct config *n,
		       struct config_errors *e, struct reload_result *res)
{
	struct alias_pool *pool, *old_pool;
	char *rules_old = NULL, *rules_new = NULL;
	struct config *old;
	uint32_t *keep = NULL;
	int nk, err;

	config_init(n);
	err = config_load(n, d->config_path, e);
	if (!err) {
		restart_only(d->cfg, n, e);
		if (e->n)
			err = -EINVAL;
	}
	if (err) {
		free(n);
		return err;
	}
	rules_old = rules_text(d->cfg);
	rules_new = rules_text(n);
	res->rules_changed = !rules_old || !rules_new ||
			     strcmp(rules_old, rules_new);
	free(rules_old);
	free(rules_new);

	/* the aliases in use are read and the new pool swapped in under
	 * one hold of the lock: a session made in between would lose an
	 * alias the new file drops.  Workers read the config and the pool
	 * only under the lock: once it is released, nobody holds the old
	 * ones. */
	pthread_mutex_lock(&d->table_lock);
	nk = draining(d, n, &keep);
	pool = nk < 0 ? NULL : alias_pool_new_keep(n, keep, (unsigned)nk);
	free(keep);
	if (!pool) {
		pthread_mutex_unlock(&d->table_lock);
		free(n);
		return nk < 0 ? nk : -ENOMEM;
	}
	old = d->cfg;
	old_pool = d->pool;
	d->cfg = n;
	d->pool = pool;
	d->xlate.cfg = n;
	d->xlate.pool = pool;
	if (d->off) {
		/* the kernel's entries carry the old file's marks: they
		 * go, and each SA is handed over again by its next packet */
		err = offload_flush(d->off);
		if (err)
			log_msg(LOG_ERR, "offload: cannot empty table ip %s: "
				"%s", RULES_OFFLOAD_TABLE, strerror(-err));
		session_offload_forget(d->table);
	}
	pthread_mutex_unlock(&d->table_lock);
	if (!d->gw)
		daemon_offload_reconf(d, old);
	free(old);
	alias_pool_free(old_pool);
	res->aliases = n->n_aliases;
	res->draining = (unsigned)nk;
	return 0;
}

void daemon_reload_log(const char *why, int err, const struct config_errors *e,
		       const struct reload_result *res)
{
	unsigned i;

	if (!err) {
		log_info("%s: configuration reloaded: %u alias(es)%s", why,
			 res->aliases,
			 res->draining ? ", some dropped ones drained by "
			 "their sessions" : "");
		if (res->draining)
			log_info("%s: %u alias(es) no longer listed stay with "
				 "their sessions until these expire", why,
				 res->draining);
		if (res->rules_changed)
			log_warnx("%s: the netfilter rules differ for the new "
				  "configuration: apply them (espmasq-rules "
				  "apply), after drained aliases have no "
				  "sessions left", why);
		return;
	}
	log_msg(LOG_ERR, "%s: configuration refused, the running one stays:"
		" %s", why, e->n ? "" : strerror(-err));
	for (i = 0; i < e->n && i < CONFIG_ERR_KEEP; i++)
		log_msg(LOG_ERR, "  %s", e->msg[i]);
	if (e->n > CONFIG_ERR_KEEP)
		log_msg(LOG_ERR, "  ... and %u more", e->n - CONFIG_ERR_KEEP);
}
