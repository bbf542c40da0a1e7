/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "control.h"
#include "ctlproto.h"
#include "ctlreq.h"
#include "daemon.h"
#include "filter.h"
#include "log.h"
#include "worker.h"

/* A watcher whose unsent output passes this skips events (and is told
 * how many): a slow or stuck client never holds up anything else. */
#define WATCH_MAX_BACKLOG	(256 * 1024)
#define WATCH_BATCH		256	/* events read per watcher per tick */
#define WATCH_TICK_MS		100

struct control {
	struct daemon *d;
	struct evconnlistener *lis;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	unsigned n_clients;
	struct ctl_client *watchers;	/* list */
	struct event *watch_tick;
	gid_t group;			/* control-group; (gid_t)-1: none */
};

struct ctl_client {
	struct control *ctl;
	struct bufferevent *bev;
	bool watching;
	uint64_t next;			/* next event sequence number */
	uint64_t missed;		/* not yet reported */
	struct ctl_client *next_watcher;
};

static const char *sa_kind_name(uint8_t k)
{
	return k == SA_IKE ? "ike" : k == SA_ESP_OUT ? "esp-out" :
	       k == SA_ESP_IN ? "esp-in" : "?";
}

static void put_addr(struct evbuffer *o, const char *key, uint32_t host)
{
	char s[INET_ADDRSTRLEN];
	uint32_t n = htonl(host);

	inet_ntop(AF_INET, &n, s, sizeof(s));
	evbuffer_add_printf(o, " %s=%s", key, s);
}

static uint32_t left(uint32_t deadline, uint32_t now)
{
	return (int32_t)(deadline - now) > 0 ? deadline - now : 0;
}

static void put_session(struct evbuffer *o, const struct session_view *s,
			uint32_t now, uint32_t now_ms)
{
	evbuffer_add_printf(o, "session id=%" PRIu32, s->id);
	put_addr(o, "client", s->client);
	put_addr(o, "alias", s->alias);
	put_addr(o, "server", s->server);
	evbuffer_add_printf(o,
		" state=%s pinned=%d pkts_out=%" PRIu64
		" pkts_in=%" PRIu64 " bytes_out=%" PRIu64
		" bytes_in=%" PRIu64 " age=%" PRIu32 " idle=%" PRIu32
		" expires=%" PRIu32,
		(s->flags & SESSION_F_REPLIED) ? "established" :
		"pending", !!(s->flags & SESSION_F_PINNED),
		s->pkts_out, s->pkts_in, s->bytes_out, s->bytes_in,
		now - s->created, now - s->last_seen,
		left(s->deadline, now));
	if (s->mark_mask)
		evbuffer_add_printf(o, " mark=0x%" PRIx32 "/0x%" PRIx32,
				    s->mark_value, s->mark_mask);
	if (s->natt_xport && s->natt_xport != s->natt_cport)
		evbuffer_add_printf(o, " natt_port=%u client_port=%u",
				    s->natt_xport, s->natt_cport);
	/* shared aliases: holding the gate, waiting for an SPI */
	if (s->gate_until_ms &&
	    (int32_t)(s->gate_until_ms - now_ms) > 0)
		evbuffer_add_printf(o, " gate_ms=%" PRIu32,
				    s->gate_until_ms - now_ms);
	if ((s->flags & SESSION_F_SPI_WAIT) &&
	    (int32_t)(s->wait_until - now) > 0)
		evbuffer_add_printf(o, " spi_wait=%" PRIu32,
				    s->wait_until - now);
	/* exchanges that may have made an IKE SA it has not used */
	if ((s->ike_pend[0] || s->ike_pend[1]) &&
	    (int32_t)(s->ike_wait_until - now) > 0)
		evbuffer_add_printf(o, " ike_wait=%u/%u",
				    s->ike_pend[0], s->ike_pend[1]);
	evbuffer_add_printf(o, "\n");
}

static void put_sa(struct evbuffer *o, uint32_t session,
		   const struct sa_view *a, uint32_t now)
{
	/* what the kernel rewrites of it: of an ESP SA raw ESP, in UDP;
	 * of an IKE SA the INFORMATIONAL exchanges, out, in */
	static const char *const offloaded[4] = { "no", "esp", "udp",
						  "esp+udp" };
	static const char *const ike_offloaded[4] = { "no", "out", "in",
						      "out+in" };
	uint8_t f = a->flags;

	evbuffer_add_printf(o, "sa session=%" PRIu32 " kind=%s", session,
			    sa_kind_name(a->kind));
	if (a->kind == SA_IKE)
		evbuffer_add_printf(o,
			" version=%u ispi=%016" PRIx64
			" rspi=%016" PRIx64 " exchange=%u",
			a->version, a->spi_i, a->spi_r, a->exchange);
	else
		evbuffer_add_printf(o, " spi=%08" PRIx64, a->spi_i);
	evbuffer_add_printf(o,
		" natt=%d offloaded=%s pkts=%" PRIu64 " bytes=%" PRIu64
		" idle=%" PRIu32 " expires=%" PRIu32 "\n",
		!!(a->flags & SA_F_NATT),
		a->kind == SA_IKE ?
		ike_offloaded[(f & (SA_F_IKE_OFF_OUT | SA_F_IKE_OFF_NATT_OUT) ?
			       1 : 0) +
			      (f & (SA_F_IKE_OFF_IN | SA_F_IKE_OFF_NATT_IN) ?
			       2 : 0)] :
		offloaded[(f & SA_F_OFFLOADED ? 1 : 0) +
			  (f & SA_F_OFFLOADED_UDP ? 2 : 0)],
		a->pkts, a->bytes,
		now - a->last_seen, left(a->deadline, now));
}

/* One learned client of mode gateway: a "client" record. */
static void put_gw(struct evbuffer *o, const struct gw_view *g, uint32_t now)
{
	put_addr(o, "client peer", ntohl(g->peer));
	/* udp/4500 from a client is ESP-in-UDP: its SA's NAT-T port */
	evbuffer_add_printf(o, " port=%u kind=%s mark=0x%08" PRIx32,
			    g->pport, g->l2tp ? "l2tp" : g->proto == 6 ? "tcp" :
			    g->id == 4500 ? "nat-t" : "udp", g->mark);
	if (g->l2tp) {
		evbuffer_add_printf(o, " tunnel=%u gw_tunnel=%u calls=%u",
				    g->id, g->gid, g->calls);
		if (g->csid)
			evbuffer_add_printf(o, " session=%u gw_session=%u",
					    g->csid, g->gsid);
	} else {
		evbuffer_add_printf(o, " local_port=%u", g->id);
	}
	evbuffer_add_printf(o, " pkts_in=%" PRIu32 " pkts_out=%" PRIu32
			    " age=%" PRIu32 " idle=%" PRIu32
			    " expires=%" PRIu32 "\n", g->pkts_in, g->pkts_out,
			    now - g->created, now - g->last_seen,
			    left(g->deadline, now));
}

/* Mode gateway's "sessions [client ADDR]": the learned clients. */
static int gw_sessions(struct control *c, struct evbuffer *o,
		       const struct session_filter *f)
{
	struct daemon *d = c->d;
	struct gw_view *gv;
	uint32_t now = daemon_now();
	size_t n, i;
	int err;

	if (f->have & ~FILTER_CLIENT) {
		evbuffer_add_printf(o, "error mode gateway filters by client "
				    "only\n");
		return 0;
	}
	pthread_mutex_lock(&d->table_lock);
	err = gw_snapshot(d->gw, now, &gv, &n);
	pthread_mutex_unlock(&d->table_lock);
	if (err)
		return err;
	evbuffer_add_printf(o, "ok\n");
	for (i = 0; i < n; i++)
		if (!gv[i].expired && (!(f->have & FILTER_CLIENT) ||
				       ntohl(gv[i].peer) == f->client))
			put_gw(o, &gv[i], now);
	free(gv);
	return 0;
}

/* "sessions [client ADDR] [server ADDR|CIDR] [alias ADDR] [spi HEX]":
 * the filters are matched on the snapshot, so the workers wait for the
 * copy only. */
static int cmd_sessions(struct control *c, struct evbuffer *o, int argc,
			char **argv)
{
	struct daemon *d = c->d;
	struct session_filter f;
	struct session_view *sv;
	struct sa_view *av;
	char msg[FILTER_ERR_LEN];
	size_t nsv, nav, i, j;
	uint32_t now, now_ms;
	int err;

	if (filter_parse(&f, argc, argv, msg, sizeof(msg))) {
		evbuffer_add_printf(o, "error %s\n", msg);
		return 0;
	}
	if (d->gw)
		return gw_sessions(c, o, &f);
	daemon_offload_sync(d);
	pthread_mutex_lock(&d->table_lock);
	err = session_snapshot(d->table, &sv, &nsv, &av, &nav);
	pthread_mutex_unlock(&d->table_lock);
	if (err)
		return err;
	now = daemon_now();
	now_ms = daemon_now_ms();
	evbuffer_add_printf(o, "ok\n");
	for (i = 0; i < nsv; i++) {
		const struct session_view *s = &sv[i];

		if (!filter_match(&f, s, av, nav))
			continue;
		put_session(o, s, now, now_ms);
		for (j = s->first_sa; j < s->first_sa + s->n_sa && j < nav; j++)
			put_sa(o, s->id, &av[j], now);
	}
	free(sv);
	free(av);
	return 0;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* Sessions by alias, then server, then client. */
static int cmp_by_alias(const void *a, const void *b)
{
	const struct session_view *x = a, *y = b;

	if (x->alias != y->alias)
		return x->alias < y->alias ? -1 : 1;
	if (x->server != y->server)
		return x->server < y->server ? -1 : 1;
	return x->client < y->client ? -1 : x->client > y->client;
}

/* " key=A,B,C" from sorted @v, each address once; nothing when empty. */
static void put_addr_list(struct evbuffer *o, const char *key,
			  const uint32_t *v, size_t n)
{
	char s[INET_ADDRSTRLEN];
	size_t i;

	for (i = 0; i < n; i++) {
		uint32_t a = htonl(v[i]);

		if (i && v[i] == v[i - 1])
			continue;
		inet_ntop(AF_INET, &a, s, sizeof(s));
		if (!i)
			evbuffer_add_printf(o, " %s=%s", key, s);
		else
			evbuffer_add_printf(o, ",%s", s);
	}
}

/*
 * One alias record: the sessions on @a are @g[0..@n), sorted by server
 * then client; @tmp has room for @n addresses.  Shared: two clients of it
 * toward one server.
 */
static void put_alias(struct evbuffer *o, const struct daemon *d, uint32_t a,
		      const struct session_view *g, size_t n, uint32_t *tmp)
{
	bool pinned = config_alias_pinned(d->cfg, a), shared = false;
	size_t i;

	evbuffer_add_printf(o, "alias");
	put_addr(o, "addr", a);
	evbuffer_add_printf(o, " pinned=%d", pinned);
	if (pinned)
		put_addr(o, "pinned_to", config_pin_client(d->cfg, a));
	for (i = 1; i < n; i++)
		shared |= g[i].server == g[i - 1].server;
	evbuffer_add_printf(o, " drained=%d shared=%d sessions=%zu",
			    alias_pool_drained(d->pool, a), shared, n);
	for (i = 0; i < n; i++)
		tmp[i] = g[i].client;
	qsort(tmp, n, sizeof(*tmp), cmp_u32);
	put_addr_list(o, "clients", tmp, n);
	for (i = 0; i < n; i++)
		tmp[i] = g[i].server;
	put_addr_list(o, "servers", tmp, n);
	evbuffer_add_printf(o, "\n");
}

/*
 * "aliases": every address of the pool, free or not, with the clients
 * and servers of its sessions.  The pool and the config are swapped by
 * reloads, which run on this thread too, so they are read unlocked.
 */
static int cmd_aliases(struct control *c, struct evbuffer *o)
{
	struct daemon *d = c->d;
	struct session_view *sv;
	struct sa_view *av;
	size_t nsv, nav, j = 0, k;
	uint32_t *tmp;
	unsigned i;
	int err;

	pthread_mutex_lock(&d->table_lock);
	err = session_snapshot(d->table, &sv, &nsv, &av, &nav);
	pthread_mutex_unlock(&d->table_lock);
	if (err)
		return err;
	free(av);
	tmp = calloc(nsv ? nsv : 1, sizeof(*tmp));
	if (!tmp) {
		free(sv);
		return -ENOMEM;
	}
	qsort(sv, nsv, sizeof(*sv), cmp_by_alias);
	evbuffer_add_printf(o, "ok\n");
	for (i = 0; i < alias_pool_size(d->pool); i++) {
		uint32_t a = alias_pool_addr(d->pool, i);

		/* both ascending: skip sessions on addresses the pool
		 * does not know (none, unless a reload raced a new one) */
		while (j < nsv && sv[j].alias < a)
			j++;
		for (k = j; k < nsv && sv[k].alias == a; k++)
			;
		put_alias(o, d, a, &sv[j], k - j, tmp);
		j = k;
	}
	free(tmp);
	free(sv);
	return 0;
}

/* "flush all" or "flush client ADDR" (checked by ctlreq_flush). */
static int cmd_flush(struct control *c, struct evbuffer *o, int argc,
		     char **argv)
{
	struct daemon *d = c->d;
	struct session_filter f;
	char msg[FILTER_ERR_LEN];
	unsigned n;

	if (ctlreq_flush(argc, argv, &f, msg, sizeof(msg))) {
		evbuffer_add_printf(o, "error %s\n", msg);
		return 0;
	}
	pthread_mutex_lock(&d->table_lock);
	if (d->gw)
		n = gw_flush(d->gw, !f.have, htonl(f.client));
	else
		n = f.have ? session_flush_client(d->table, f.client) :
			     session_flush(d->table);
	if (n && !d->gw) {
		struct sess_event e = { .kind = EV_FLUSHED, .count = n,
				   .client = f.have ? f.client : 0 };

		events_push(d->events, &e);
	}
	pthread_mutex_unlock(&d->table_lock);
	log_info("espmasqctl flush %s%s%s: %u %s removed", argv[0],
		 argc > 1 ? " " : "", argc > 1 ? argv[1] : "", n,
		 d->gw ? "gateway entries" : "session(s)");
	evbuffer_add_printf(o, "ok\nflush %s=%u\n",
			    d->gw ? "entries" : "sessions", n);
	return 0;
}

static int cmd_stats(struct control *c, struct evbuffer *o)
{
	/* the packets the kernel carried so far, counted */
	daemon_offload_sync(c->d);
	evbuffer_add_printf(o, "ok\n");
	control_stats(c->d, o);
	return 0;
}

/* " PREFIXname=v", the name's '-' written '_' (keys are identifiers). */
static void put_count(struct evbuffer *o, const char *prefix,
		      const char *name, uint64_t v)
{
	char key[48];
	size_t i;

	snprintf(key, sizeof(key), "%s%s", prefix, name);
	for (i = 0; key[i]; i++)
		if (key[i] == '-')
			key[i] = '_';
	evbuffer_add_printf(o, " %s=%" PRIu64, key, v);
}

/* Mode gateway's counters: the table, then why packets were not used
 * (in_*: from clients, out_*: to them), then why L2TP was refused. */
static void gw_stats(struct daemon *d, struct evbuffer *o)
{
	struct gw_counters g;
	unsigned k;

	pthread_mutex_lock(&d->table_lock);
	gw_counters(d->gw, &g);
	pthread_mutex_unlock(&d->table_lock);
	evbuffer_add_printf(o,
		"stat scope=gateway active=%" PRIu32 " capacity=%" PRIu32
		" learned=%" PRIu64 " updated=%" PRIu64 " refreshed=%" PRIu64
		" expired=%" PRIu64 " flushed=%" PRIu64
		" refused_full=%" PRIu64
		" lookup_hit=%" PRIu64 " lookup_miss=%" PRIu64
		" l2tp_gw_tunnels=%" PRIu64 " l2tp_rebound=%" PRIu64,
		g.active, g.capacity, g.learned, g.updated, g.refreshed,
		g.expired, g.flushed, g.refused_full, g.lookup_hit, g.lookup_miss,
		g.l2tp_gw_tid, g.l2tp_rebound);
	for (k = 0; k < GW_RES_MAX; k++)
		put_count(o, "in_", gw_res_name((enum gw_res)k),
			  g.res[GW_IN][k]);
	for (k = 0; k < GW_RES_MAX; k++)
		put_count(o, "out_", gw_res_name((enum gw_res)k),
			  g.res[GW_OUT][k]);
	for (k = 1; k < L2TP_ERR_MAX; k++)
		put_count(o, "refused_", l2tp_err_name((enum l2tp_err)k),
			  g.l2tp_err[k]);
	evbuffer_add_printf(o, "\n");
}

void control_stats(struct daemon *d, struct evbuffer *o)
{
	struct session_counters sc;
	unsigned i, k;

	pthread_mutex_lock(&d->table_lock);
	session_counters(d->table, &sc);
	pthread_mutex_unlock(&d->table_lock);
	evbuffer_add_printf(o,
		"stat scope=sessions active=%" PRIu32 " created=%" PRIu64
		" expired=%" PRIu64 " refused_full=%" PRIu64
		" refused_client=%" PRIu64 " sa_active=%" PRIu32 " sa_created=%" PRIu64
		" sa_expired=%" PRIu64 " sa_refused_full=%" PRIu64
		" sa_refused_session=%" PRIu64
		" flushed=%" PRIu64 " table_bytes=%zu table_resident_bytes=%zu\n",
		sc.active, sc.created, sc.expired, sc.refused_full,
		sc.refused_client, sc.sa_active, sc.sa_created, sc.sa_expired,
		sc.sa_refused_full, sc.sa_refused_session, sc.flushed,
		session_table_reserved(d->table),
		session_table_resident(d->table));
	evbuffer_add_printf(o,
		"stat scope=shared gate_holds=%" PRIu64 " gate_released=%" PRIu64
		" gate_timeouts=%" PRIu64 " gate_deferred=%" PRIu64
		" gate_held_ms_total=%" PRIu64 " gate_held_ms_max=%" PRIu64
		" spi_assigned=%" PRIu64 " spi_ambiguous=%" PRIu64
		" spi_unknown=%" PRIu64 " spi_wait_cancelled=%" PRIu64
		" ike_assigned=%" PRIu64 "\n",
		sc.gate_holds, sc.gate_released, sc.gate_timeouts,
		sc.gate_deferred, sc.gate_held_ms_total, sc.gate_held_ms_max,
		sc.spi_assigned, sc.spi_ambiguous,
		sc.spi_unknown, sc.spi_wait_cancelled, sc.ike_assigned);
	if (d->gw)
		gw_stats(d, o);
	if (d->cfg->offload) {
		const struct offload_stats *f = &d->off_stats;

		evbuffer_add_printf(o,
			"stat scope=offload state=%s entries=%" PRIu32
			" ike_entries=%" PRIu32
			" scans=%" PRIu64 " scan_errors=%" PRIu64
			" last_scan_ms=%" PRIu32 " packets=%" PRIu64
			" ike_packets=%" PRIu64
			" bytes=%" PRIu64 " stale_removed=%" PRIu64
			" gone_removed=%" PRIu64 " missing=%" PRIu64
			" resyncs=%" PRIu64 " read_each=%" PRIu32
			" scan_every_ms=%" PRIu32 " each_failed=%d"
			" errors=%" PRIu64 "%s%s\n",
			f->on ? "on" : "off", f->last_entries,
			f->last_ike_entries, f->scans, f->scan_errors,
			f->last_scan_ms, f->pkts, f->ike_pkts, f->bytes,
			f->stale, f->gone, f->missing, f->resyncs,
			f->last_read_each, f->scan_every_ms,
			d->off_each_failed ? 1 : 0, f->errors,
			f->on ? "" : " why=",
			f->on ? "" : f->why_off);
	}
	for (i = 0; i < d->n_workers; i++) {
		struct worker_counters w;
		struct queue_counters q;

		worker_counters(d->workers[i], &w);
		worker_queue_counters(d->workers[i], &q);
		evbuffer_add_printf(o,
			"stat scope=queue queue=%u cpu=%d packets=%" PRIu64
			" accepted=%" PRIu64 " dropped=%" PRIu64
			" rewritten=%" PRIu64 " csum_completed=%" PRIu64
			" truncated=%" PRIu64 " held=%" PRIu64
			" held_released=%" PRIu64 " held_expired=%" PRIu64
			" held_full=%" PRIu64 " held_wait_ms_total=%" PRIu64
			" held_wait_ms_max=%" PRIu64 " bursts=%" PRIu64
			" recv_calls=%" PRIu64 " send_calls=%" PRIu64
			" send_errors=%" PRIu64 " netlink_errors=%" PRIu64
			" enobufs=%" PRIu64,
			worker_queue_num(d->workers[i]),
			worker_cpu(d->workers[i]), w.packets, w.accepted,
			w.dropped, w.rewritten, w.csum_partial, w.truncated,
			w.held, w.held_released, w.held_expired, w.held_full,
			w.held_wait_ms_total, w.held_wait_ms_max,
			w.bursts, q.recv_calls, q.send_calls, q.send_errors,
			q.nl_errors, q.enobufs);
		for (k = 1; k < PKT_ERR_MAX; k++)
			evbuffer_add_printf(o, " drop_%s=%" PRIu64,
					    pkt_err_name((enum pkt_err)k),
					    w.malformed[k]);
		for (k = XL_DROP_NOT_OURS; k < XL_MAX; k++)
			if (k != XL_PASS && k != XL_DROP_GATE)
				evbuffer_add_printf(o, " drop_%s=%" PRIu64,
						    xlate_result_name((enum xlate_result)k),
						    w.xlate[k]);
		evbuffer_add_printf(o, " icmp_passed=%" PRIu64,
				    w.xlate[XL_PASS]);
		if (d->gw)
			evbuffer_add_printf(o, " gw_marked=%" PRIu64,
					    w.gw_marked);
		if (d->cfg->offload)
			evbuffer_add_printf(o, " offloaded=%" PRIu64
					    " offload_errors=%" PRIu64,
					    w.offloaded, w.offload_errors);
		for (k = 0; k < PKT_KIND_MAX; k++)
			evbuffer_add_printf(o, " kind_%s=%" PRIu64,
					    pkt_kind_name((enum pkt_kind)k),
					    w.kind[k]);
		for (k = 0; k < WORKER_BATCH_BUCKETS; k++)
			evbuffer_add_printf(o, " batch_%u=%" PRIu64, 1u << k,
					    w.batch_hist[k]);
		{
			unsigned long waiting, qd, ud;

			if (queue_kernel_counters(worker_queue_num(d->workers[i]),
					 &waiting, &qd, &ud))
				evbuffer_add_printf(o,
					" kernel_waiting=%lu kernel_queue_dropped=%lu"
					" kernel_user_dropped=%lu", waiting, qd, ud);
		}
		evbuffer_add_printf(o, "\n");
	}
}

/* Reloads the configuration: "ok" and a reload record, or "error" and
 * one "detail" line per problem (file:line messages). */
static void cmd_reload(struct control *c, struct evbuffer *o)
{
	struct config_errors e = { .n = 0 };
	struct reload_result res;
	int err = daemon_reload(c->d, &e, &res);
	unsigned i;

	daemon_reload_log("espmasqctl reload", err, &e, &res);
	if (!err) {
		evbuffer_add_printf(o, "ok\nreload aliases=%u draining=%u "
				    "rules_changed=%d\n", res.aliases,
				    res.draining, res.rules_changed);
		return;
	}
	evbuffer_add_printf(o, "error configuration refused, the running "
			    "one stays%s%s\n", e.n ? "" : ": ",
			    e.n ? "" : strerror(-err));
	for (i = 0; i < e.n && i < CONFIG_ERR_KEEP; i++)
		evbuffer_add_printf(o, "detail %s\n", e.msg[i]);
	if (e.n > CONFIG_ERR_KEEP)
		evbuffer_add_printf(o, "detail ... and %u more\n",
				    e.n - CONFIG_ERR_KEEP);
}

static void watch_stop(struct ctl_client *cl)
{
	struct control *c = cl->ctl;
	struct ctl_client **pp = &c->watchers;

	while (*pp && *pp != cl)
		pp = &(*pp)->next_watcher;
	if (*pp)
		*pp = cl->next_watcher;
	cl->watching = false;
	pthread_mutex_lock(&c->d->table_lock);
	c->d->events->watchers--;
	pthread_mutex_unlock(&c->d->table_lock);
	if (!c->watchers)
		evtimer_del(c->watch_tick);
}

static void client_free(struct ctl_client *cl)
{
	if (cl->watching)
		watch_stop(cl);
	cl->ctl->n_clients--;
	bufferevent_free(cl->bev);
	free(cl);
}

static void put_event(struct evbuffer *o, const struct sess_event *e)
{
	evbuffer_add_printf(o, "event seq=%" PRIu64 " time=%" PRId64
			    " kind=%s", e->seq, e->time,
			    event_kind_name(e->kind));
	if (e->client)
		put_addr(o, "client", e->client);
	if (e->server)
		put_addr(o, "server", e->server);
	if (e->alias)
		put_addr(o, "alias", e->alias);
	switch (e->kind) {
	case EV_SA:
		evbuffer_add_printf(o, " sa=%s spi=%0*" PRIx64,
				    sa_kind_name(e->sa_kind),
				    e->sa_kind == SA_IKE ? 16 : 8, e->spi);
		break;
	case EV_SPI:
		evbuffer_add_printf(o, " spi=%08" PRIx64, e->spi);
		break;
	case EV_IKE:
		evbuffer_add_printf(o, " spi=%016" PRIx64, e->spi);
		break;
	case EV_REFUSED:
		evbuffer_add_printf(o, " reason=%s",
				    xlate_result_name(e->reason));
		break;
	case EV_FLUSHED:
		evbuffer_add_printf(o, " sessions=%" PRIu32, e->count);
		break;
	default:
		break;
	}
	evbuffer_add_printf(o, "\n");
}

/* Sends each watcher what happened since its last tick. */
static void on_watch_tick(evutil_socket_t fd, short what, void *arg)
{
	static const struct timeval tv = { 0, WATCH_TICK_MS * 1000 };
	struct control *c = arg;
	struct sess_event ev[WATCH_BATCH];
	struct ctl_client *cl;

	(void)fd;
	(void)what;
	for (cl = c->watchers; cl; cl = cl->next_watcher) {
		struct evbuffer *o = bufferevent_get_output(cl->bev);
		uint64_t missed;
		size_t n, i;

		if (evbuffer_get_length(o) > WATCH_MAX_BACKLOG)
			continue;	/* it will learn what it missed */
		pthread_mutex_lock(&c->d->table_lock);
		n = events_read(c->d->events, &cl->next, ev, WATCH_BATCH,
				&missed);
		pthread_mutex_unlock(&c->d->table_lock);
		cl->missed += missed;
		if (cl->missed) {
			evbuffer_add_printf(o, "event kind=missed count=%"
					    PRIu64 "\n", cl->missed);
			cl->missed = 0;
		}
		for (i = 0; i < n; i++)
			put_event(o, &ev[i]);
	}
	if (c->watchers)
		evtimer_add(c->watch_tick, &tv);
}

/* "watch": the connection stays open and gets one event record a line. */
static void cmd_watch(struct ctl_client *cl)
{
	static const struct timeval tv = { 0, WATCH_TICK_MS * 1000 };
	struct control *c = cl->ctl;

	pthread_mutex_lock(&c->d->table_lock);
	c->d->events->watchers++;
	cl->next = c->d->events->next;
	pthread_mutex_unlock(&c->d->table_lock);
	cl->watching = true;
	cl->next_watcher = c->watchers;
	c->watchers = cl;
	evbuffer_add_printf(bufferevent_get_output(cl->bev), "ok\n");
	if (!evtimer_pending(c->watch_tick, NULL))
		evtimer_add(c->watch_tick, &tv);
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	(void)what;
	client_free(arg);
}

static void on_discard(struct bufferevent *bev, void *arg)
{
	(void)arg;
	evbuffer_drain(bufferevent_get_input(bev),
		       evbuffer_get_length(bufferevent_get_input(bev)));
}

static void on_drained(struct bufferevent *bev, void *arg)
{
	/* Closing with unread input would reset the connection and could
	 * destroy the answer before the client reads it (an over-long
	 * request leaves input behind): half-close, then drop what still
	 * comes until the client closes or a timeout. */
	struct timeval tv = { 2, 0 };

	shutdown(bufferevent_getfd(bev), SHUT_WR);
	bufferevent_setwatermark(bev, EV_READ, 0, 0);
	bufferevent_set_timeouts(bev, &tv, NULL);
	bufferevent_setcb(bev, on_discard, NULL, on_event, arg);
	bufferevent_enable(bev, EV_READ);
}

static void reply_and_close(struct ctl_client *cl)
{
	evbuffer_add_printf(bufferevent_get_output(cl->bev), "end\n");
	bufferevent_disable(cl->bev, EV_READ);
	bufferevent_setcb(cl->bev, NULL, on_drained, on_event, cl);
}

static void on_read(struct bufferevent *bev, void *arg)
{
	struct ctl_client *cl = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	struct evbuffer *out = bufferevent_get_output(bev);
	struct ctl_request r;
	char *line, msg[CTLREQ_ERR_LEN];
	size_t n;
	int err = 0;

	line = evbuffer_readln(in, &n, EVBUFFER_EOL_LF);
	if (!line) {
		if (evbuffer_get_length(in) > CTL_MAX_REQUEST) {
			evbuffer_add_printf(out, "error request too long\n");
			reply_and_close(cl);
		}
		return;
	}
	if (ctlreq_parse(line, n, &r, msg, sizeof(msg))) {
		evbuffer_add_printf(out, "error %s\n", msg);
		goto done;
	}
	switch (r.cmd) {
	case CTL_CMD_SESSIONS:
		err = cmd_sessions(cl->ctl, out, r.argc, r.argv);
		break;
	case CTL_CMD_ALIASES:
		err = cmd_aliases(cl->ctl, out);
		break;
	case CTL_CMD_FLUSH:
		err = cmd_flush(cl->ctl, out, r.argc, r.argv);
		break;
	case CTL_CMD_STATS:
		err = cmd_stats(cl->ctl, out);
		break;
	case CTL_CMD_RELOAD:
		cmd_reload(cl->ctl, out);
		break;
	case CTL_CMD_WATCH:
		/* no "end": events until the client goes; what it sends
		 * from now on is read and thrown away */
		cmd_watch(cl);
		free(line);
		bufferevent_setcb(bev, on_discard, NULL, on_event, cl);
		return;
	case CTL_CMD_VERSION:
		evbuffer_add_printf(out, "ok\nversion protocol=%d\n",
				    CTL_PROTO_VERSION);
		break;
	}
	if (err)
		evbuffer_add_printf(out, "error %s\n", strerror(-err));
done:
	free(line);
	reply_and_close(cl);
}

/* Whether the peer on @fd belongs to @group, as its primary group or one
 * of its supplementary groups. */
static bool in_group(int fd, const struct ucred *cred, gid_t group)
{
	gid_t groups[64];
	socklen_t len = sizeof(groups);
	unsigned i;

	if (group == (gid_t)-1)
		return false;
	if (cred->gid == group)
		return true;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) < 0)
		return false;
	for (i = 0; i < len / sizeof(groups[0]); i++)
		if (groups[i] == group)
			return true;
	return false;
}

static void on_accept(struct evconnlistener *lis, evutil_socket_t fd,
		      struct sockaddr *sa, int salen, void *arg)
{
	struct control *c = arg;
	struct ctl_client *cl;
	struct ucred cred;
	socklen_t len = sizeof(cred);

	(void)lis;
	(void)sa;
	(void)salen;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 ||
	    (cred.uid != 0 && cred.uid != geteuid() &&
	     !in_group(fd, &cred, c->group))) {
		/* the socket mode already keeps others out; this also
		 * covers a socket directory with loose permissions */
		log_debug("control: refused peer uid %d", (int)cred.uid);
		close(fd);
		return;
	}
	if (c->n_clients >= CTL_MAX_CLIENTS) {
		close(fd);
		return;
	}
	cl = calloc(1, sizeof(*cl));
	if (!cl) {
		close(fd);
		return;
	}
	cl->ctl = c;
	cl->bev = bufferevent_socket_new(evconnlistener_get_base(lis), fd,
					 BEV_OPT_CLOSE_ON_FREE);
	if (!cl->bev) {
		free(cl);
		close(fd);
		return;
	}
	c->n_clients++;
	bufferevent_setcb(cl->bev, on_read, NULL, on_event, cl);
	bufferevent_setwatermark(cl->bev, EV_READ, 0, CTL_MAX_REQUEST + 2);
	bufferevent_enable(cl->bev, EV_READ);
}

int control_open(struct daemon *d, struct control **out)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct control *c;
	char dir[sizeof(sun.sun_path)];
	mode_t old;
	bool made_dir;
	int fd, err;

	if (strlen(d->cfg->control) >= sizeof(sun.sun_path))
		return -ENAMETOOLONG;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->d = d;
	c->group = (gid_t)-1;
	if (d->cfg->control_group[0]) {
		struct group *g = getgrnam(d->cfg->control_group);

		if (!g) {
			log_msg(LOG_ERR, "control-group %s: no such group",
				d->cfg->control_group);
			free(c);
			return -ENOENT;
		}
		c->group = g->gr_gid;
	}
	strcpy(sun.sun_path, d->cfg->control);
	strcpy(c->path, d->cfg->control);
	strcpy(dir, d->cfg->control);
	made_dir = mkdir(dirname(dir), 0750) == 0;
	if (!made_dir && errno != EEXIST) {
		err = -errno;
		log_warn("control: mkdir %s", dir);
		free(c);
		return err;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		err = -errno;
		free(c);
		return err;
	}
	/* a leftover socket from a crash would make bind fail */
	if (unlink(sun.sun_path) < 0 && errno != ENOENT)
		log_warn("control: unlink %s", sun.sun_path);
	old = umask(0117);
	err = bind(fd, (struct sockaddr *)&sun, sizeof(sun));
	umask(old);
	/* the group may connect: the socket is its, and so is the directory
	 * if it was made here (one that existed is left as it is: it may be
	 * /run) */
	if (!err && c->group != (gid_t)-1 &&
	    (chown(sun.sun_path, (uid_t)-1, c->group) < 0 ||
	     (made_dir && chown(dir, (uid_t)-1, c->group) < 0)))
		err = -1;
	if (err < 0 || chmod(sun.sun_path, 0660) < 0) {
		err = -errno;
		log_warn("control: bind %s", sun.sun_path);
		close(fd);
		free(c);
		return err;
	}
	c->lis = evconnlistener_new(d->base, on_accept, c,
				    LEV_OPT_CLOSE_ON_FREE, 16, fd);
	c->watch_tick = evtimer_new(d->base, on_watch_tick, c);
	if (!c->lis || !c->watch_tick) {
		if (c->lis)
			evconnlistener_free(c->lis);
		else
			close(fd);
		if (c->watch_tick)
			event_free(c->watch_tick);
		unlink(c->path);
		free(c);
		return -ENOMEM;
	}
	*out = c;
	return 0;
}

void control_close(struct control *c)
{
	if (!c)
		return;
	while (c->watchers)
		client_free(c->watchers);
	event_free(c->watch_tick);
	evconnlistener_free(c->lis);
	unlink(c->path);
	free(c);
}
