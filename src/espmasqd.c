/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/thread.h>

#include "alias.h"
#include "config.h"
#include "control.h"
#include "daemon.h"
#include "log.h"
#include "metrics.h"
#include "notify.h"
#include "offload.h"
#include "privs.h"
#include "queue.h"
#include "rules.h"
#include "session.h"
#include "state.h"
#include "worker.h"

#ifndef ESPMASQ_VERSION
#define ESPMASQ_VERSION "0.1"
#endif

/* SA entries per session on average: an IKE SA, two ESP SAs, room to
 * rekey. */
#define SA_PER_SESSION 4

static void usage(FILE *f)
{
	fprintf(f,
"usage: espmasqd [-f FILE] [-d] [-t] [--print-rules[=iptables|nft|offload]]\n"
"  -f FILE   configuration (default " CONFIG_DEFAULT_PATH ")\n"
"  -d        stay in the foreground and log to stderr\n"
"  -t        check the configuration and exit\n"
"  -v        verbose (debug) logging\n"
"  --print-rules[=FORMAT]  print the netfilter rules this configuration\n"
"            needs: iptables (iptables-restore --noflush input, default)\n"
"            or nft (nft -f input, the offload table included), or\n"
"            offload (nft -f input: only the offload table, which\n"
"            'offload on' or auto needs beside iptables rules)\n"
"  -V, --version\n");
}

static void print_errors(const struct config_errors *e)
{
	unsigned i;

	for (i = 0; i < e->n && i < CONFIG_ERR_KEEP; i++)
		fprintf(stderr, "%s\n", e->msg[i]);
	if (e->n > CONFIG_ERR_KEEP)
		fprintf(stderr, "... and %u more errors\n",
			e->n - CONFIG_ERR_KEEP);
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct daemon *d = arg;

	(void)what;
	if (sig == SIGHUP) {
		struct config_errors e = { .n = 0 };
		struct reload_result res;
		int err = daemon_reload(d, &e, &res);

		daemon_reload_log("SIGHUP", err, &e, &res);
		return;
	}
	log_info("signal %d: shutting down", (int)sig);
	event_base_loopbreak(d->base);
}

static void note_expired(void *ctx, uint32_t client, uint32_t server,
			 uint32_t alias)
{
	struct sess_event e = { .kind = EV_EXPIRED, .client = client,
			   .server = server, .alias = alias };

	events_push(ctx, &e);
}

/*
 * A queue that overflows (the daemon stalled, or was outrun) loses packets
 * in the kernel.  Said once when it begins and once when it is over, with
 * the count, however long it lasts: a flood cannot fill the log.
 */
static void watch_loss(struct daemon *d, uint32_t now)
{
	unsigned long waiting, qd, ud, n;
	struct queue_loss *l;
	unsigned i, q;

	for (i = 0; i < d->n_workers; i++) {
		l = &d->loss[i];
		q = worker_queue_num(d->workers[i]);
		if (!queue_kernel_counters(q, &waiting, &qd, &ud))
			continue;
		n = l->known ? (qd - l->qdrop) + (ud - l->udrop) : 0;
		if (n && !l->active) {
			l->active = true;
			l->since = now;
			l->lost = 0;
			log_msg(LOG_WARNING, "queue %u: the kernel is dropping "
				"packets (queue full: %lu, socket buffer full: "
				"%lu so far)", q, qd, ud);
		}
		l->lost += n;
		if (!n && l->active) {
			l->active = false;
			log_msg(LOG_WARNING, "queue %u: the kernel dropped %lu "
				"packets in %u s; none since", q, l->lost,
				now - l->since);
		}
		l->qdrop = qd;
		l->udrop = ud;
		l->known = true;
	}
}

/*
 * Sessions are expired a slice at a time, SESSION_EXPIRE_SLICE session
 * slots every EXPIRE_EVERY_MS, so that the workers never wait long for the table: a
 * scan of a million sessions at once holds it for tens of milliseconds
 * (bench_core measures it).  The default table (65536) is visited whole
 * every 0.4 s; a million sessions every 6 s.
 */
#define EXPIRE_EVERY_MS 100

static void offload_drop_gone(struct daemon *d);

static void on_expire(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;
	unsigned gone;

	(void)fd;
	(void)what;
	pthread_mutex_lock(&d->table_lock);
	gone = session_expire_step(d->table, daemon_now(),
				   SESSION_EXPIRE_SLICE,
				   d->events->watchers ? note_expired : NULL,
				   d->events);
	pthread_mutex_unlock(&d->table_lock);
	if (gone)
		log_debug("%u sessions expired", gone);
	/* their kernel entries go now, before more pile up */
	if (d->off)
		offload_drop_gone(d);
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;
	unsigned gone = 0;

	(void)fd;
	(void)what;
	if (d->gw) {
		pthread_mutex_lock(&d->table_lock);
		gone = gw_expire(d->gw, daemon_now());
		pthread_mutex_unlock(&d->table_lock);
	}
	if (gone)
		log_debug("%u entries expired", gone);
	watch_loss(d, daemon_now());
	if (d->cfg->fail_policy == FAIL_POLICY_BYPASS && !d->gw)
		heartbeat_beat(&d->hb, HEARTBEAT_DIR RULES_HEARTBEAT_NAME);
}

/* One offload scan: entries the kernel keeps, by what the table says of
 * their SAs, and those the table no longer wants. */
struct offload_scan_ctx {
	struct daemon *d;
	uint32_t now;
	struct offload_entry *stale;
	size_t n_stale, cap;
	size_t per_map[OFFLOAD_MAPS];	/* entries seen */
};

static void offload_seen(void *ctx, const struct offload_entry *e,
			 uint64_t pkts, uint64_t bytes)
{
	struct offload_scan_ctx *s = ctx;
	struct daemon *d = s->d;
	bool in = offload_map_inbound(e->map);
	bool udp = offload_map_natt(e->map);
	uint32_t server = offload_entry_server(e);
	uint32_t local = offload_entry_local(e);
	const struct config *c;
	int r;

	pthread_mutex_lock(&d->table_lock);
	c = d->cfg;
	if (offload_map_ike(e->map))
		r = session_ike_credit(d->table, server, e->spi, in, local,
				       e->addr, sa_ike_off_flag(in, udp), pkts,
				       bytes, s->now, c->timeout_ike,
				       c->timeout_pending);
	else
		r = session_esp_credit(d->table, server,
				       in ? SA_ESP_IN : SA_ESP_OUT,
				       (uint32_t)e->spi, local, e->addr,
				       udp ? SA_F_NATT : 0, pkts, bytes, s->now,
				       udp ? c->timeout_natt : c->timeout_esp,
				       c->timeout_pending);
	pthread_mutex_unlock(&d->table_lock);
	s->per_map[e->map]++;
	d->off_stats.entries++;
	d->off_stats.last_entries++;
	d->off_stats.pkts += pkts;
	d->off_stats.bytes += bytes;
	if (offload_map_ike(e->map)) {
		d->off_stats.last_ike_entries++;
		d->off_stats.ike_pkts += pkts;
	}
	if (r >= 0)
		return;
	if (s->n_stale == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 256;
		struct offload_entry *p = realloc(s->stale,
						  cap * sizeof(*p));

		if (!p) {
			/* the next scan finds it again */
			d->off_stats.errors++;
			return;
		}
		s->stale = p;
		s->cap = cap;
	}
	s->stale[s->n_stale++] = *e;
}

/* An entry the table holds offloaded that the kernel no longer has
 * (removed by hand, say): its SA is handed over again by its next packet. */
static void offload_missing(void *ctx, const struct offload_entry *e)
{
	struct offload_scan_ctx *s = ctx;
	struct daemon *d = s->d;

	pthread_mutex_lock(&d->table_lock);
	session_offload_lost(d->table, e);
	pthread_mutex_unlock(&d->table_lock);
	d->off_stats.missing++;
}

/* Queues the removal of @e; false (counted) when it cannot. */
static bool offload_del_one(struct daemon *d, const struct offload_entry *e)
{
	int err = offload_del(d->off, e);

	if (err == -ENOSPC) {
		if (offload_send(d->off) < 0)
			d->off_stats.errors++;
		err = offload_del(d->off, e);
	}
	if (err)
		d->off_stats.errors++;
	return !err;
}

/*
 * Removes from the kernel the entries of the SAs the table let go since
 * the last call (expired, flushed, replaced).  When the table lost count
 * of them, the maps are emptied instead and every SA is handed over again
 * by its next packet.
 */
static void offload_drop_gone(struct daemon *d)
{
	struct offload_entry e[256];
	size_t n, i;
	bool lost;
	int err;

	do {
		pthread_mutex_lock(&d->table_lock);
		n = session_offload_gone(d->table, e, 256, &lost);
		if (lost) {
			/* under the lock, as on reload: no worker hands an
			 * SA over between the two (worker.c checks the
			 * table's offload generation) */
			session_offload_forget(d->table);
			err = offload_flush(d->off);
			pthread_mutex_unlock(&d->table_lock);
			d->off_stats.resyncs++;
			if (err) {
				d->off_stats.errors++;
				log_limited(&d->lim_offload, daemon_now(),
					    LOG_WARNING, "offload: cannot empty "
					    "table ip %s: %s",
					    RULES_OFFLOAD_TABLE,
					    strerror(-err));
			}
			return;
		}
		pthread_mutex_unlock(&d->table_lock);
		for (i = 0; i < n; i++)
			d->off_stats.gone += offload_del_one(d, &e[i]);
	} while (n == 256);
	if (offload_pending(d->off) && offload_send(d->off) < 0)
		d->off_stats.errors++;
}

/* entries listed from the table (under its lock) and read at a time */
#define READ_BATCH 4096

/*
 * Whether map @m is read entry by entry.  auto: a map is dumped while it
 * held at most offload_dump_max entries (offload-read auto N) at the
 * last scan, and read entry by entry above, unless that failed since the
 * last reload.  The kernel resumes a dump by walking the map again from
 * its start for every 32 KiB of answer, so that a dump costs the square
 * of the map's size: 1.0 us an entry at 8192 entries, 2.1 at 49152, 6 at
 * 100,000, 16 at 200,000, against 2.3-3.3 read one by one at any size
 * (bench/bench-offload.sh on the 2-CPU test machine).
 */
static bool read_each(const struct daemon *d, enum offload_map m)
{
	switch (d->cfg->offload_read) {
	case OFFLOAD_READ_DUMP:
		return false;
	case OFFLOAD_READ_EACH:
		return true;
	default:
		return !d->off_each_failed &&
		       d->off_count[m] > d->cfg->offload_dump_max;
	}
}

/*
 * The entries of the maps @maps read one by one, listed from the table
 * READ_BATCH at a time and read a map at a time.  Counts those maps'
 * entries in @count.  Returns what offload_read() does: the entries
 * read, or -errno.
 */
static int offload_read_listed(struct daemon *d, struct offload_scan_ctx *s,
			       unsigned maps, size_t *count)
{
	struct offload_entry *list, *by_map;
	size_t n, i, at[OFFLOAD_MAPS + 1], cnt[OFFLOAD_MAPS];
	uint32_t slot = 0;
	int ret = 0, r;
	unsigned m;

	list = malloc(2 * (READ_BATCH + 4) * sizeof(*list));
	if (!list)
		return -ENOMEM;
	by_map = list + READ_BATCH + 4;
	do {
		memset(cnt, 0, sizeof(cnt));
		pthread_mutex_lock(&d->table_lock);
		n = session_offload_list(d->table, &slot, list, READ_BATCH + 4,
					 cnt);
		pthread_mutex_unlock(&d->table_lock);
		/* by map, so that each map's run is one request */
		at[0] = 0;
		for (m = 0; m < OFFLOAD_MAPS; m++) {
			if (!(maps & 1u << m))
				cnt[m] = 0;
			count[m] += cnt[m];
			at[m + 1] = at[m] + cnt[m];
		}
		for (i = 0; i < n; i++)
			if (maps & 1u << list[i].map)
				by_map[at[list[i].map]++] = list[i];
		n = at[OFFLOAD_MAPS - 1];
		r = offload_read(d->off, by_map, n, offload_seen,
				 offload_missing, s);
		if (r < 0) {
			ret = r;
			break;
		}
		ret += r;
	} while (slot);
	free(list);
	return ret;
}

/* offload_scan_maps() of @maps, whose sizes in @count are then what the
 * kernel has. */
static int offload_dump_counted(struct daemon *d, struct offload_scan_ctx *s,
				unsigned maps, size_t *count)
{
	enum offload_map m;
	int n = offload_scan_maps(d->off, maps, offload_seen, s);

	for (m = 0; m < OFFLOAD_MAPS; m++)
		if (maps & 1u << m)
			count[m] = s->per_map[m];
	return n;
}

static void offload_scan_now(struct daemon *d)
{
	struct offload_scan_ctx s = { .d = d, .now = daemon_now() };
	uint32_t t0 = daemon_now_ms();
	size_t i, count[OFFLOAD_MAPS] = { 0 };
	unsigned dump = 0, each = 0;
	enum offload_map m;
	int n, r, last = 0;

	n = offload_reap(d->off, &last);
	if (n > 0)
		d->off_stats.errors += (uint64_t)n;
	offload_drop_gone(d);
	d->off_stats.last_entries = 0;
	d->off_stats.last_ike_entries = 0;
	d->off_stats.last_read_each = 0;
	for (m = 0; m < OFFLOAD_MAPS; m++)
		if (read_each(d, m))
			each |= 1u << m;
		else
			dump |= 1u << m;
	n = dump ? offload_dump_counted(d, &s, dump, count) : 0;
	if (n >= 0 && each) {
		r = offload_read_listed(d, &s, each, count);
		if (r < 0 && d->cfg->offload_read == OFFLOAD_READ_AUTO) {
			/* a kernel that reads a whole map but not named
			 * elements, say: the dump is slower, not wrong */
			log_msg(LOG_WARNING, "offload: cannot read the "
				"kernel's counters entry by entry (%s): "
				"dumping the maps instead until a reload",
				strerror(-r));
			d->off_each_failed = true;
			r = offload_dump_counted(d, &s, each, count);
		} else {
			d->off_stats.last_read_each =
				(uint32_t)(r > 0 ? r : 0);
		}
		n = r < 0 ? r : n + r;
	}
	if (n >= 0)
		memcpy(d->off_count, count, sizeof(count));
	d->off_stats.scans++;
	if (n < 0) {
		d->off_stats.scan_errors++;
		log_limited(&d->lim_offload, s.now, LOG_WARNING,
			    "offload: cannot read the kernel's counters: %s",
			    strerror(-n));
	}
	for (i = 0; i < s.n_stale; i++)
		d->off_stats.stale += offload_del_one(d, &s.stale[i]);
	if (offload_pending(d->off) && offload_send(d->off) < 0)
		d->off_stats.errors++;
	free(s.stale);
	d->off_stats.last_scan_ms = daemon_now_ms() - t0;
}

static void offload_start(struct daemon *d, bool first);

void daemon_offload_sync(struct daemon *d)
{
	if (d->off)
		offload_scan_now(d);
}

/* The offload timer, one-shot: each scan sets when the next one comes
 * (config_offload_wait_ms()). */
static void offload_arm(struct daemon *d)
{
	uint32_t ms = d->off ? config_offload_wait_ms(d->cfg,
						     d->off_stats.last_scan_ms) :
			       d->cfg->offload_scan * 1000;
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	d->off_stats.scan_every_ms = ms;
	if (event_add(d->offload_ev, &tv) < 0)
		fatalx("cannot arm the offload timer");
}

static void on_offload_timer(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;

	(void)fd;
	(void)what;
	if (d->off)
		offload_scan_now(d);
	else
		offload_start(d, false);
	if (d->cfg->offload)
		offload_arm(d);
}

/*
 * Offload on: the kernel's maps must be there, empty (entries of an
 * earlier run name SAs this one may not know), and readable with their
 * counters reset.  When they are not, the daemon translates everything
 * itself and says why (at start; @first), and tries again at each
 * offload-scan tick, so that rules applied after the daemon started
 * still count.
 */
static void offload_start(struct daemon *d, bool first)
{
	bool auto_ = d->cfg->offload_mode == OFFLOAD_AUTO;
	int err;

	d->off = offload_open(&err);
	if (d->off) {
		err = offload_flush(d->off);
		if (!err) {
			err = offload_scan(d->off, NULL, NULL);
			if (err > 0)
				err = 0;
		}
	}
	if (!err) {
		d->off_stats.on = true;
		d->off_stats.why_off[0] = '\0';
		/* the workers read it under the lock, per burst */
		pthread_mutex_lock(&d->table_lock);
		d->xlate.offload = true;
		pthread_mutex_unlock(&d->table_lock);
		log_info("offload %s: established ESP flows are rewritten "
			 "by table ip %s%s", auto_ ? "auto" : "on",
			 RULES_OFFLOAD_TABLE, first ? "" : " (loaded after "
			 "espmasqd started)");
		return;
	}
	offload_close(d->off);
	d->off = NULL;
	/* one word, for the stats line */
	if (err == -ENOENT)
		snprintf(d->off_stats.why_off, sizeof(d->off_stats.why_off),
			 "table-missing");
	else if (err == -EINVAL || err == -EOPNOTSUPP)
		snprintf(d->off_stats.why_off, sizeof(d->off_stats.why_off),
			 "kernel-too-old");
	else if (err == -EPERM)
		snprintf(d->off_stats.why_off, sizeof(d->off_stats.why_off),
			 "not-permitted");
	else
		snprintf(d->off_stats.why_off, sizeof(d->off_stats.why_off),
			 "errno-%d", -err);
	if (!first)
		return;
	/* auto: the admin did not ask for it, and loses nothing */
	log_msg(auto_ ? LOG_NOTICE : LOG_ERR,
		"offload%s: cannot use table ip %s: %s%s; apply its "
		"rules (espmasq-rules apply, or espmasqd --print-rules=offload "
		"| nft -f -).  Translating everything here until it comes",
		auto_ ? " auto" : "", RULES_OFFLOAD_TABLE, strerror(-err),
		err == -ENOENT ? " (table or map missing)" :
		err == -EINVAL || err == -EOPNOTSUPP ? " (needs Linux 6.5 or "
		"later)" : "");
}

void daemon_offload_reconf(struct daemon *d, const struct config *old)
{
	const struct config *c = d->cfg;

	/* a reload tries reading entry by entry again */
	d->off_each_failed = false;
	if (!c->offload) {
		if (c->offload_mode == OFFLOAD_AUTO &&
		    (!old || old->offload))
			log_info("offload auto: off (%s): espmasqd translates "
				 "every packet", c->offload_why);
		if (d->offload_ev)
			event_del(d->offload_ev);
		if (!d->off)
			return;
		/* the kernel must not go on with what it was handed */
		pthread_mutex_lock(&d->table_lock);
		d->xlate.offload = false;
		session_offload_forget(d->table);
		pthread_mutex_unlock(&d->table_lock);
		if (offload_flush(d->off))
			log_msg(LOG_ERR, "offload: cannot empty table ip %s",
				RULES_OFFLOAD_TABLE);
		offload_close(d->off);
		d->off = NULL;
		d->off_stats.on = false;
		snprintf(d->off_stats.why_off, sizeof(d->off_stats.why_off),
			 "off");
		return;
	}
	if (old && old->offload && old->offload_scan == c->offload_scan)
		return;
	if (!d->off)
		offload_start(d, true);
	/* scans, or tries again to open the table */
	if (!d->offload_ev)
		d->offload_ev = event_new(d->base, -1, 0, on_offload_timer, d);
	else
		event_del(d->offload_ev);
	if (!d->offload_ev)
		fatalx("cannot arm the offload timer");
	offload_arm(d);
}

static void on_metrics_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	metrics_write(arg);
}

static void on_state_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	state_write(arg);
}

static int run(struct daemon *d, bool foreground)
{
	static const int signums[3] = { SIGTERM, SIGINT, SIGHUP };
	struct event *sigs[3] = { 0 }, *tick = NULL, *save = NULL;
	struct event *expire = NULL;
	struct timeval slice = { 0, EXPIRE_EVERY_MS * 1000 };
	struct event *metrics = NULL;
	struct timeval one = { 1, 0 }, every = { STATE_INTERVAL, 0 };
	struct timeval mtv = { METRICS_INTERVAL, 0 };
	struct state_counts restored;
	unsigned i;
	int err = 0;

	heartbeat_init(&d->hb);
	if (!foreground && daemon(0, 0) < 0)
		fatal("daemon");
	evthread_use_pthreads();
	d->base = event_base_new();
	if (!d->base)
		fatalx("cannot create the event loop");
	/* a control client that goes away must not kill the daemon */
	signal(SIGPIPE, SIG_IGN);
	for (i = 0; i < 3; i++) {
		sigs[i] = evsignal_new(d->base, signums[i], on_signal, d);
		if (!sigs[i] || event_add(sigs[i], NULL) < 0)
			fatalx("cannot watch signal %d", signums[i]);
	}
	tick = event_new(d->base, -1, EV_PERSIST, on_tick, d);
	if (!tick || event_add(tick, &one) < 0)
		fatalx("cannot arm the tick timer");
	expire = event_new(d->base, -1, EV_PERSIST, on_expire, d);
	if (!expire || event_add(expire, &slice) < 0)
		fatalx("cannot arm the expiry timer");
	/* always armed: a reload may name a metrics file */
	metrics = event_new(d->base, -1, EV_PERSIST, on_metrics_timer, d);
	if (!metrics || event_add(metrics, &mtv) < 0)
		fatalx("cannot arm the metrics timer");
	if (d->cfg->state[0]) {
		/* the sessions of the last run come back before the first
		 * packet is read */
		state_load(d, &restored);
		save = event_new(d->base, -1, EV_PERSIST, on_state_timer, d);
		if (!save || event_add(save, &every) < 0)
			fatalx("cannot arm the state timer");
	}

	if (!d->gw)
		daemon_offload_reconf(d, NULL);
	d->workers = calloc(d->cfg->n_queues, sizeof(*d->workers));
	if (!d->workers)
		fatalx("out of memory");
	for (i = 0; i < d->cfg->n_queues; i++) {
		err = worker_new(d, i, d->cfg->queues[i], d->cfg->cpu[i],
				 &d->workers[i]);
		if (err)
			goto out;
		d->n_workers++;
	}
	err = control_open(d, &d->ctl);
	if (err) {
		log_msg(LOG_ERR, "control socket %s: %s", d->cfg->control,
			strerror(-err));
		goto out;
	}
	/* before the first packet: what comes from now on is untracked */
	if (d->cfg->fail_policy == FAIL_POLICY_BYPASS && !d->gw)
		heartbeat_beat(&d->hb, HEARTBEAT_DIR RULES_HEARTBEAT_NAME);
	/* everything privileged is open: the workers start with
	 * CAP_NET_ADMIN alone */
	{
		char why[160];

		err = privs_drop(d->cfg->user[0] ? d->cfg->user : NULL, why,
				 sizeof(why));
		if (err) {
			log_msg(LOG_ERR, "cannot drop privileges%s%s: %s",
				d->cfg->user[0] ? " to user " : "",
				d->cfg->user, why);
			goto out;
		}
	}
	for (i = 0; i < d->n_workers; i++) {
		err = worker_start(d->workers[i]);
		if (err) {
			log_msg(LOG_ERR, "cannot start worker: %s",
				strerror(-err));
			goto out;
		}
	}
	if (d->gw)
		log_info("espmasqd %s running in mode gateway: %u queue(s), "
			 "SA marks 0x%08x, %u udp/tcp service(s) besides "
			 "L2TP, max %u entries", ESPMASQ_VERSION,
			 d->n_workers, d->cfg->gateway_mask,
			 d->cfg->n_services, d->cfg->max_sessions);
	else
		log_info("espmasqd %s running: %u queue(s), %u alias(es), "
			 "%u pin(s), max %u sessions", ESPMASQ_VERSION,
			 d->n_workers, d->cfg->n_aliases, d->cfg->n_pins,
			 d->cfg->max_sessions);
	metrics_write(d);
	notify("READY=1\nSTATUS=translating");
	event_base_dispatch(d->base);
	notify("STOPPING=1");
out:
	for (i = 0; i < d->n_workers; i++)
		worker_free(d->workers[i]);
	free(d->workers);
	if (d->off) {
		/* without the daemon, nothing is translated: the kernel
		 * must not go on with what it was handed */
		int ferr = offload_flush(d->off);

		if (ferr)
			log_msg(LOG_ERR, "offload: cannot empty table ip %s: "
				"%s", RULES_OFFLOAD_TABLE, strerror(-ferr));
		offload_close(d->off);
		d->off = NULL;
	}
	if (d->offload_ev)
		event_free(d->offload_ev);
	/* the workers are gone: the table is what the next run gets */
	if (!err && d->cfg->state[0])
		state_write(d);
	if (save)
		event_free(save);
	if (metrics)
		event_free(metrics);
	control_close(d->ctl);
	/* the entry itself stays: a restart within its life drops (as
	 * with fail-policy drop) rather than moving tunnels to the kernel's
	 * NAT and back */
	heartbeat_close(&d->hb);
	for (i = 0; i < 3; i++)
		if (sigs[i])
			event_free(sigs[i]);
	if (tick)
		event_free(tick);
	if (expire)
		event_free(expire);
	event_base_free(d->base);
	return err ? 1 : 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "print-rules", optional_argument, NULL, 'R' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = CONFIG_DEFAULT_PATH;
	char *abs_path;
	bool foreground = false, test = false, print = false, verbose = false;
	enum rules_format fmt = RULES_IPTABLES;
	struct config_errors errs = { .n = 0 };
	struct session_limits lim;
	struct daemon d;
	int opt, err;

	while ((opt = getopt_long(argc, argv, "f:dtvVh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'f':
			path = optarg;
			break;
		case 'd':
			foreground = true;
			break;
		case 't':
			test = true;
			break;
		case 'v':
			verbose = true;
			break;
		case 'R':
			print = true;
			if (!optarg || !strcmp(optarg, "iptables")) {
				fmt = RULES_IPTABLES;
			} else if (!strcmp(optarg, "nft")) {
				fmt = RULES_NFT;
			} else if (!strcmp(optarg, "offload")) {
				fmt = RULES_OFFLOAD;
			} else {
				fprintf(stderr, "espmasqd: unknown rules format "
					"'%s' (iptables, nft or offload)\n", optarg);
				return 2;
			}
			break;
		case 'V':
			printf("espmasqd %s\n", ESPMASQ_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}

	memset(&d, 0, sizeof(d));
	d.cfg = calloc(1, sizeof(*d.cfg));
	if (!d.cfg) {
		fprintf(stderr, "espmasqd: out of memory\n");
		return 1;
	}
	config_init(d.cfg);
	err = config_load(d.cfg, path, &errs);
	if (err) {
		print_errors(&errs);
		free(d.cfg);
		return 1;
	}
	if (test) {
		printf("configuration OK\n");
		free(d.cfg);
		return 0;
	}
	if (print) {
		err = rules_print(stdout, d.cfg, fmt);
		free(d.cfg);
		return err ? 1 : 0;
	}

	/* reloads read it again after daemon() changed to / */
	abs_path = realpath(path, NULL);
	d.config_path = abs_path ? abs_path : path;
	log_init("espmasqd", foreground, verbose ? LOG_DEBUG : LOG_INFO);
	lim.max_sessions = d.cfg->max_sessions;
	lim.max_sas = d.cfg->max_sessions * SA_PER_SESSION;
	lim.per_client = d.cfg->client_sessions;
	if (d.cfg->mode == MODE_GATEWAY) {
		/* max-sessions sizes the learning table; the NAT's session
		 * table stays, empty, for the code that reads it */
		d.gw = gw_new(d.cfg->max_sessions);
		if (!d.gw)
			fatal("cannot allocate the gateway table");
		lim.max_sessions = 1;
		lim.max_sas = SA_PER_SESSION;
	}
	d.table = session_table_new(&lim);
	d.pool = alias_pool_new(d.cfg);
	d.events = calloc(1, sizeof(*d.events));
	if (!d.table || !d.pool || !d.events)
		fatal("cannot allocate the session table");
	pthread_mutex_init(&d.table_lock, NULL);
	d.xlate = (struct xlate_ctx){ d.table, d.cfg, d.pool, false };
	for (unsigned i = 0; i < XL_MAX; i++)
		d.lim_drop[i] = (struct log_limit)LOG_LIMIT_INIT(10, 5);
	d.lim_malformed = (struct log_limit)LOG_LIMIT_INIT(10, 5);
	d.lim_created = (struct log_limit)LOG_LIMIT_INIT(1, 20);
	d.lim_offload = (struct log_limit)LOG_LIMIT_INIT(1, 5);

	err = run(&d, foreground);

	pthread_mutex_destroy(&d.table_lock);
	session_table_free(d.table);
	gw_free(d.gw);
	alias_pool_free(d.pool);
	free(d.events);
	free(d.cfg);
	free(abs_path);
	return err;
}
