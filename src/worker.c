/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink_queue.h>

#include "counter.h"
#include "daemon.h"
#include "log.h"
#include "worker.h"

/* Bursts handled per wake-up before going back to the event loop, so that
 * a stop request is seen even under full load. */
#define BURSTS_PER_WAKEUP 16
/* How often held packets are decided again while nothing arrives. */
#define HOLD_RETRY_US 10000

struct worker {
	struct daemon *d;
	unsigned index;
	uint16_t qnum;
	int cpu;
	uint32_t batch;		/* a copy: the config may be reloaded */
	struct queue *q;
	struct queue_pkt *pkts;
	uint8_t **pf_buf;		/* the burst, for xlate_prefetch() */
	uint32_t *pf_len;
	struct session_pf *hints;	/* ...and what it found of each */
	struct offload *off;		/* offload on: this thread's socket */
	struct offload_entry *off_req;	/* SAs to hand over after the burst */
	unsigned off_n;
	struct event_base *base;
	struct event *ev;
	struct event *hold_ev;		/* retries held packets */
	struct hold_pool hold;
	pthread_t thread;
	int started;
	struct worker_counters cnt;	/* written by this thread only */
};


uint32_t daemon_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	/* +1: 0 never appears as a time, so it can mean "unset" */
	return (uint32_t)ts.tv_sec + 1;
}

static char *fmt_addr(uint32_t host, char *buf)
{
	uint32_t n = htonl(host);

	inet_ntop(AF_INET, &n, buf, INET_ADDRSTRLEN);
	return buf;
}

uint32_t daemon_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint32_t)ts.tv_sec * 1000u + (uint32_t)(ts.tv_nsec / 1000000);
}

/* What a decision did to the table, for watchers (under the lock). */
static void note_events(struct event_ring *ev, enum xlate_result r,
			const struct xlate_out *xo, const struct pkt_info *pi)
{
	struct sess_event e = { .client = xo->client, .server = xo->server,
			   .alias = xo->alias };

	if (r == XL_DROP_NO_ALIAS || r == XL_DROP_FULL ||
	    r == XL_DROP_NO_PORT || r == XL_DROP_CLIENT_LIMIT) {
		e.kind = EV_REFUSED;
		e.reason = (uint8_t)r;
		events_push(ev, &e);
		return;
	}
	if (r != XL_OUT && r != XL_IN)
		return;
	if (xo->created) {
		e.kind = EV_CREATED;
		events_push(ev, &e);
	}
	if (xo->spi_learned || xo->ike_learned) {
		e.kind = xo->spi_learned ? EV_SPI : EV_IKE;
		e.spi = xo->spi_learned ? pi->spi : pi->ike.ispi;
		events_push(ev, &e);
	}
	if (xo->sa_new) {
		e.kind = EV_SA;
		e.sa_kind = xo->sa_kind;
		e.spi = xo->sa_spi;
		events_push(ev, &e);
	}
}

/* The verdict of a packet translated: accepted with its new bytes and
 * mark.  @csum_partial: a UDP checksum the kernel left to compute. */
static uint32_t accept_rewritten(struct worker_counters *c,
				 const struct xlate_out *xo, bool csum_partial,
				 uint32_t pkt_mark, bool *payload,
				 bool *set_mark, uint32_t *mark)
{
	if (csum_partial)
		counter_add(&c->csum_partial, 1);
	counter_add(&c->accepted, 1);
	counter_add(&c->rewritten, 1);
	*payload = true;
	if (xo->mark_mask) {
		*set_mark = true;
		*mark = (pkt_mark & ~xo->mark_mask) | xo->mark_value;
	}
	return NF_ACCEPT;
}

/* An SA the translation claimed for the kernel (xlate_out.offload) as
 * the entry to add: keyed as its packets arrive, to the address this
 * packet got. */
static void offload_request(const struct daemon *d,
			    const struct xlate_out *xo, enum xlate_result r,
			    struct offload_entry *off)
{
	bool in = r == XL_IN;

	if (!off || !d->xlate.offload || !xo->offload)
		return;
	offload_entry_of(off, in, xo->offload_udp, xo->offload_ike,
			 xo->client, xo->server, xo->alias, xo->offload_spi);
	off->mark_value = xo->mark_value;
	off->mark_mask = xo->mark_mask;
}

/*
 * Decides a packet that was copied whole.  @first: its first decision
 * (a held packet decided again is not counted again while it waits).
 */
static uint32_t decide(struct daemon *d, struct worker_counters *c,
		       uint8_t *data, uint32_t len, uint32_t skbinfo,
		       uint32_t pkt_mark, uint32_t now, uint32_t now_ms,
		       bool first, bool *payload, bool *set_mark,
		       uint32_t *mark, struct offload_entry *off,
		       const struct session_pf *hint)
{
	struct pkt_info pi;
	struct xlate_out xo;
	enum pkt_err perr;
	uint8_t fast_kind;
	enum xlate_result r;
	bool partial;

	partial = skbinfo & NFQA_SKB_CSUMNOTREADY;
	r = xlate_esp_fast(&d->xlate, data, len, partial, now, &xo, &pi.kind,
			   hint);
	if (r != XL_MAX) {
		/* an established ESP flow: nothing to log, nobody to tell */
		if (first)
			counter_add(&c->kind[pi.kind], 1);
		counter_add(&c->xlate[r], 1);
		offload_request(d, &xo, r, off);
		return accept_rewritten(c, &xo, partial &&
					pi.kind == PKT_ESP_UDP, pkt_mark,
					payload, set_mark, mark);
	}
	fast_kind = pi.kind;
	perr = pkt_parse(data, len, &pi);
	if (perr != PKT_OK) {
		counter_add(&c->malformed[perr], 1);
		counter_add(&c->dropped, 1);
		log_limited(&d->lim_malformed, now, LOG_INFO,
			    "dropped malformed packet (%s), %u bytes",
			    pkt_err_name(perr), len);
		return NF_DROP;
	}
	pi.esp_missed = fast_kind != PKT_KIND_MAX;
	if (first)
		counter_add(&c->kind[pi.kind], 1);
	r = xlate_packet(&d->xlate, data, &pi, partial, now, now_ms, &xo);
	if (r == XL_DROP_GATE) {
		if (first) {
			char a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN];

			counter_add(&c->xlate[r], 1);
			session_count_event(d->table, SESSION_EV_GATE_DEFERRED);
			log_limited(&d->lim_drop[r], now, LOG_INFO,
				    "holding %s %s -> %s: another client of "
				    "the alias holds its gate toward that "
				    "server",
				    pkt_kind_name((enum pkt_kind)pi.kind),
				    fmt_addr(ntohl(pi.saddr), a),
				    fmt_addr(ntohl(pi.daddr), b));
		}
		return WORKER_HOLD;
	}
	counter_add(&c->xlate[r], 1);
	if (r == XL_PASS) {
		/* an ICMP error about someone else's flow: not ours to
		 * change, nor to drop */
		counter_add(&c->accepted, 1);
		return NF_ACCEPT;
	}
	if (d->events && d->events->watchers)
		note_events(d->events, r, &xo, &pi);
	if (r != XL_OUT && r != XL_IN) {
		char a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN];

		counter_add(&c->dropped, 1);
		if (pi.kind == PKT_IKE || pi.kind == PKT_NATT_IKE)
			log_limited(&d->lim_drop[r], now, LOG_WARNING,
				    "dropped %s %s -> %s: %s (IKEv%u SPIs "
				    "%016" PRIx64 ":%016" PRIx64 ", exchange "
				    "%u, message %" PRIu32 ", flags 0x%02x)",
				    pkt_kind_name((enum pkt_kind)pi.kind),
				    fmt_addr(ntohl(pi.saddr), a),
				    fmt_addr(ntohl(pi.daddr), b),
				    xlate_result_name(r), pi.ike.version,
				    pi.ike.ispi, pi.ike.rspi, pi.ike.exchange,
				    pi.ike.msgid, pi.ike.flags);
		else if (pi.kind == PKT_ESP || pi.kind == PKT_ESP_UDP)
			log_limited(&d->lim_drop[r], now, LOG_WARNING,
				    "dropped %s %s -> %s: %s (SPI %08" PRIx32
				    ")", pkt_kind_name((enum pkt_kind)pi.kind),
				    fmt_addr(ntohl(pi.saddr), a),
				    fmt_addr(ntohl(pi.daddr), b),
				    xlate_result_name(r), pi.spi);
		else
			log_limited(&d->lim_drop[r], now, LOG_WARNING,
				    "dropped %s %s -> %s: %s",
				    pkt_kind_name((enum pkt_kind)pi.kind),
				    fmt_addr(ntohl(pi.saddr), a),
				    fmt_addr(ntohl(pi.daddr), b),
				    xlate_result_name(r));
		return NF_DROP;
	}
	if (xo.spi_learned) {
		char a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN], s[INET_ADDRSTRLEN];

		log_limited(&d->lim_created, now, LOG_INFO,
			    "session %s -> %s on shared alias %s: inbound SPI "
			    "%08x is its (the one client waiting for one)",
			    fmt_addr(xo.client, a), fmt_addr(xo.server, s),
			    fmt_addr(xo.alias, b), pi.spi);
	}
	if (xo.created) {
		char a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN], s[INET_ADDRSTRLEN];

		log_limited(&d->lim_created, now, LOG_INFO,
			    "session %s -> %s created on alias %s",
			    fmt_addr(xo.client, a), fmt_addr(xo.server, s),
			    fmt_addr(xo.alias, b));
	}
	offload_request(d, &xo, r, off);
	return accept_rewritten(c, &xo, partial && pi.proto == 17, pkt_mark,
				payload, set_mark, mark);
}

/*
 * Mode gateway: nothing is rewritten and nothing dropped.  A packet from
 * a client (queued in INPUT, after IPsec) teaches which SA mark its
 * client has; a packet to a client (OUTPUT) gets that mark, which makes
 * the kernel route it again, over that client's SA.  What cannot be
 * attributed keeps its mark; gw_packet() counts why.
 */
static uint32_t decide_gateway(struct daemon *d, struct worker_counters *c,
			       const struct queue_pkt *pkt, uint32_t now,
			       bool *set_mark, uint32_t *mark)
{
	uint32_t mask = d->cfg->gateway_mask, m = 0;
	enum gw_dir dir = pkt->hook == NF_INET_LOCAL_IN ||
			  pkt->hook == NF_INET_PRE_ROUTING ? GW_IN : GW_OUT;
	enum gw_res r;

	counter_add(&c->accepted, 1);
	if (!pkt->data || pkt->orig_len > pkt->len) {
		counter_add(&c->truncated, 1);
		return NF_ACCEPT;
	}
	r = gw_packet(d->gw, pkt->data, pkt->len, dir, pkt->mark & mask, now,
		      d->cfg->timeout_gateway, &m);
	if (dir == GW_OUT && r == GW_OK &&
	    (pkt->mark & mask) != (m & mask)) {
		*set_mark = true;
		*mark = (pkt->mark & ~mask) | (m & mask);
		counter_add(&c->gw_marked, 1);
	}
	return NF_ACCEPT;
}

uint32_t worker_decide(struct daemon *d, struct worker_counters *c,
		       struct queue_pkt *pkt, uint32_t now, uint32_t now_ms,
		       bool *payload, bool *set_mark, uint32_t *mark)
{
	return worker_decide_off(d, c, pkt, now, now_ms, payload, set_mark,
				 mark, NULL);
}

/* worker_decide_off(), with what xlate_prefetch() found of the packet
 * (@hint, or NULL) */
static uint32_t decide_pkt(struct daemon *d, struct worker_counters *c,
			   struct queue_pkt *pkt, uint32_t now,
			   uint32_t now_ms, bool *payload, bool *set_mark,
			   uint32_t *mark, struct offload_entry *off,
			   const struct session_pf *hint)
{
	if (off)
		off->map = OFFLOAD_MAPS;
	*payload = false;
	*set_mark = false;
	counter_add(&c->packets, 1);
	if (d->gw)
		return decide_gateway(d, c, pkt, now, set_mark, mark);
	if (!pkt->data || pkt->orig_len > pkt->len) {
		/* only part of the packet was copied: it cannot be
		 * rewritten, and must not leave untranslated */
		counter_add(&c->truncated, 1);
		counter_add(&c->dropped, 1);
		return NF_DROP;
	}
	return decide(d, c, pkt->data, pkt->len, pkt->skbinfo, pkt->mark, now,
		      now_ms, true, payload, set_mark, mark, off, hint);
}

uint32_t worker_decide_off(struct daemon *d, struct worker_counters *c,
			   struct queue_pkt *pkt, uint32_t now,
			   uint32_t now_ms, bool *payload, bool *set_mark,
			   uint32_t *mark, struct offload_entry *off)
{
	return decide_pkt(d, c, pkt, now, now_ms, payload, set_mark, mark, off,
			  NULL);
}

bool hold_put(struct hold_pool *h, const struct queue_pkt *pkt,
	      uint32_t now_ms)
{
	struct hold_slot *s;

	if (h->n == WORKER_HOLD_SLOTS)
		return false;
	s = &h->slot[h->n];
	if (s->cap < pkt->len) {
		/* grows to the largest packet held so far, then stays */
		uint32_t cap = pkt->len < 2048 ? 2048 : pkt->len;
		uint8_t *p = realloc(s->data, cap);

		if (!p)
			return false;
		s->data = p;
		s->cap = cap;
	}
	memcpy(s->data, pkt->data, pkt->len);
	s->id = pkt->id;
	s->len = pkt->len;
	s->mark = pkt->mark;
	s->skbinfo = pkt->skbinfo;
	s->since_ms = now_ms;
	h->n++;
	return true;
}

void hold_free(struct hold_pool *h)
{
	unsigned i;

	for (i = 0; i < WORKER_HOLD_SLOTS; i++) {
		free(h->slot[i].data);
		h->slot[i].data = NULL;
		h->slot[i].cap = 0;
	}
	h->n = 0;
}

unsigned hold_retry(struct daemon *d, struct worker_counters *c,
		    struct hold_pool *h, uint32_t now, uint32_t now_ms,
		    hold_emit_fn emit, void *ctx)
{
	uint32_t max_wait = 2 * d->cfg->gate_hold_ms;
	unsigned i, keep = 0;

	for (i = 0; i < h->n; i++) {
		struct hold_slot *s = &h->slot[i];
		bool payload = false, set_mark = false;
		uint32_t mark = 0, v;

		v = decide(d, c, s->data, s->len, s->skbinfo, s->mark, now,
			   now_ms, false, &payload, &set_mark, &mark, NULL, NULL);
		if (v == WORKER_HOLD) {
			if (now_ms - s->since_ms <= max_wait) {
				/* still waits: moves up, order kept (the
				 * buffers move with their slots) */
				if (keep != i) {
					struct hold_slot tmp = h->slot[keep];

					h->slot[keep] = *s;
					*s = tmp;
				}
				keep++;
				continue;
			}
			counter_add(&c->held_expired, 1);
			counter_add(&c->dropped, 1);
			v = NF_DROP;
		} else {
			uint32_t waited = now_ms - s->since_ms;

			counter_add(&c->held_released, 1);
			counter_add(&c->held_wait_ms_total, waited);
			if (waited > c->held_wait_ms_max)
				counter_add(&c->held_wait_ms_max,
					    waited - c->held_wait_ms_max);
		}
		emit(ctx, s->id, v, set_mark, mark, payload ? s->data : NULL,
		     s->len);
	}
	h->n = keep;
	return keep;
}

static unsigned batch_bucket(unsigned n)
{
	unsigned b = 0;

	while (n > 1 && b < WORKER_BATCH_BUCKETS - 1) {
		n >>= 1;
		b++;
	}
	return b;
}

static void emit_verdict(void *ctx, uint32_t id, uint32_t verdict,
			 bool set_mark, uint32_t mark, const void *payload,
			 uint32_t len)
{
	queue_verdict(ctx, id, verdict, set_mark, mark, payload, len);
}

static void hold_arm(struct worker *w)
{
	static const struct timeval tv = { 0, HOLD_RETRY_US };

	if (w->hold.n && !evtimer_pending(w->hold_ev, NULL))
		evtimer_add(w->hold_ev, &tv);
}

/* Decides the held packets again and sends what became of them, before
 * any slot is reused. */
static void hold_run(struct worker *w, uint32_t now, uint32_t now_ms)
{
	unsigned before = w->hold.n;

	if (!before)
		return;
	if (hold_retry(w->d, &w->cnt, &w->hold, now, now_ms, emit_verdict,
		       w->q) != before)
		queue_flush(w->q);
}

static void on_hold_timer(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;

	(void)fd;
	(void)what;
	pthread_mutex_lock(&w->d->table_lock);
	hold_run(w, daemon_now(), daemon_now_ms());
	pthread_mutex_unlock(&w->d->table_lock);
	hold_arm(w);
}

/* The first step of the ESP fast path for a whole burst (xlate_prefetch()):
 * in a table larger than the cache, the lookups of all its packets, a
 * step for all at a time, so that their cache misses (bucket, SA, the next
 * SA of a chain) overlap.  Returns the hints, or NULL. */
static const struct session_pf *prefetch_burst(struct worker *w, unsigned n)
{
	unsigned i;

	if (w->d->gw)
		return NULL;
	for (i = 0; i < n; i++) {
		w->pf_buf[i] = w->pkts[i].data;
		w->pf_len[i] = w->pkts[i].data ? w->pkts[i].len : 0;
	}
	return xlate_prefetch(&w->d->xlate, w->pf_buf, w->pf_len, n, w->hints) ?
	       w->hints : NULL;
}

/* One entry the kernel would not take: counted and told, and its SA
 * stays with the daemon. */
static void offload_refused(struct worker *w, int err)
{
	counter_add(&w->cnt.offload_errors, 1);
	log_limited(&w->d->lim_offload, daemon_now(), LOG_WARNING,
		    "queue %u: the kernel refused an offload entry: %s",
		    w->qnum, strerror(-err));
}

/*
 * Hands the SAs this burst claimed to the kernel, after the verdicts
 * (their packets are on their way already), in as few batches as fit.
 * The kernel processes a batch within the send and answers only errors,
 * so a read right after it finds them.  One refused entry (a mark chain
 * missing from an outdated table, say) aborts its whole batch: then each
 * of its entries is sent again alone, so that only the refused ones stay
 * with the daemon.  Under the table's lock, and only if the table has not
 * forgotten its offloaded SAs (the maps emptied: reload, too many SAs
 * gone) since they were claimed under generation @gen: an entry added
 * after the maps were emptied would be one the table does not know of.
 */
static void offload_burst(struct worker *w, uint32_t gen)
{
	unsigned i = 0, start, j;
	int last = 0;

	pthread_mutex_lock(&w->d->table_lock);
	if (session_offload_gen(w->d->table) != gen) {
		w->off_n = 0;
		pthread_mutex_unlock(&w->d->table_lock);
		return;
	}

	if (offload_reap(w->off, &last) > 0)
		offload_refused(w, last);
	while (i < w->off_n) {
		start = i;
		while (i < w->off_n && !offload_add(w->off, &w->off_req[i]))
			i++;
		if (i == start) {
			/* too big for an empty batch: cannot happen */
			offload_refused(w, -EMSGSIZE);
			i++;
			continue;
		}
		if (offload_send(w->off) >= 0 &&
		    offload_reap(w->off, &last) == 0) {
			counter_add(&w->cnt.offloaded, i - start);
			continue;
		}
		for (j = start; j < i; j++) {
			int n = offload_add(w->off, &w->off_req[j]);

			if (!n)
				n = offload_send(w->off);
			if (n >= 0 && offload_reap(w->off, &last) > 0)
				n = last;
			if (n < 0)
				offload_refused(w, n);
			else
				counter_add(&w->cnt.offloaded, 1);
		}
	}
	w->off_n = 0;
	pthread_mutex_unlock(&w->d->table_lock);
}

static void on_readable(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;
	struct daemon *d = w->d;
	unsigned burst;

	(void)fd;
	(void)what;
	for (burst = 0; burst < BURSTS_PER_WAKEUP; burst++) {
		int n = queue_recv_burst(w->q, w->pkts), i;
		const struct session_pf *hints;
		uint32_t now, now_ms, gen;

		if (n <= 0) {
			if (n < 0)
				log_limited(&d->lim_malformed, daemon_now(),
					    LOG_ERR, "queue %u: receive: %s",
					    w->qnum, strerror(-n));
			break;
		}
		counter_add(&w->cnt.bursts, 1);
		counter_add(&w->cnt.batch_hist[batch_bucket((unsigned)n)], 1);
		now = daemon_now();
		now_ms = daemon_now_ms();
		pthread_mutex_lock(&d->table_lock);
		/* held packets came first: they go first if their gate
		 * opened meanwhile */
		hold_run(w, now, now_ms);
		gen = session_offload_gen(d->table);
		hints = prefetch_burst(w, (unsigned)n);
		for (i = 0; i < n; i++) {
			struct queue_pkt *p = &w->pkts[i];
			bool payload, set_mark;
			uint32_t mark = 0, v;

			struct offload_entry *oe = w->off ?
				&w->off_req[w->off_n] : NULL;

			v = decide_pkt(d, &w->cnt, p, now, now_ms, &payload,
				       &set_mark, &mark, oe,
				       hints ? &hints[i] : NULL);
			if (oe && oe->map < OFFLOAD_MAPS)
				w->off_n++;
			if (v == WORKER_HOLD) {
				if (hold_put(&w->hold, p, now_ms)) {
					counter_add(&w->cnt.held, 1);
					continue;	/* no verdict yet */
				}
				counter_add(&w->cnt.held_full, 1);
				counter_add(&w->cnt.dropped, 1);
				v = NF_DROP;
			}
			queue_verdict(w->q, p->id, v, set_mark, mark,
				      payload ? p->data : NULL, p->len);
		}
		/* this burst may have opened a gate (a new SPI learned) */
		if (w->hold.n)
			hold_retry(d, &w->cnt, &w->hold, now, now_ms,
				   emit_verdict, w->q);
		pthread_mutex_unlock(&d->table_lock);
		queue_flush(w->q);
		if (w->off_n)
			offload_burst(w, gen);
		if ((unsigned)n < w->batch)
			break;
	}
	hold_arm(w);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;

	if (w->cpu >= 0) {
		cpu_set_t set;
		int err;

		CPU_ZERO(&set);
		CPU_SET(w->cpu, &set);
		err = pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
		if (err)
			log_warnx("queue %u: cannot pin to CPU %d: %s", w->qnum,
				  w->cpu, strerror(err));
	}
	event_base_dispatch(w->base);
	return NULL;
}

int worker_new(struct daemon *d, unsigned index, uint16_t queue, int cpu,
	       struct worker **out)
{
	struct queue_params qp = {
		.num = queue, .maxlen = d->cfg->queue_maxlen,
		.rcvbuf = config_rcvbuf(d->cfg), .batch = d->cfg->batch,
	};
	struct worker *w = calloc(1, sizeof(*w));
	uint32_t held;
	int err;

	if (!w)
		return -ENOMEM;
	w->d = d;
	w->index = index;
	w->qnum = queue;
	w->cpu = cpu;
	w->batch = d->cfg->batch;
	w->pkts = calloc(d->cfg->batch, sizeof(*w->pkts));
	w->pf_buf = calloc(d->cfg->batch, sizeof(*w->pf_buf));
	w->pf_len = calloc(d->cfg->batch, sizeof(*w->pf_len));
	w->hints = calloc(d->cfg->batch, sizeof(*w->hints));
	if (!w->pkts || !w->pf_buf || !w->pf_len || !w->hints) {
		err = -ENOMEM;
		goto fail;
	}
	/* offload on or auto: the table may come later, after a reload
	 * too (daemon_offload_reconf()) */
	if (!d->gw && d->cfg->offload_mode != OFFLOAD_OFF) {
		w->off_req = calloc(d->cfg->batch, sizeof(*w->off_req));
		if (!w->off_req) {
			err = -ENOMEM;
			goto fail;
		}
		w->off = offload_open(&err);
		if (!w->off && d->cfg->offload_mode == OFFLOAD_ON) {
			log_msg(LOG_ERR, "queue %u: cannot open the nftables "
				"socket for offload: %s", queue,
				strerror(-err));
			goto fail;
		}
		if (!w->off)
			log_msg(LOG_NOTICE, "queue %u: offload auto: cannot "
				"open the nftables socket (%s): this queue's "
				"packets are all translated here", queue,
				strerror(-err));
	}
	w->q = queue_open(&qp);
	if (!w->q) {
		err = -errno;
		log_warn("queue %u: cannot bind%s", queue,
			 errno == EBUSY ? " (another program owns it)" :
			 errno == EPERM ? " (needs CAP_NET_ADMIN)" : "");
		goto fail;
	}
	held = queue_packets_held(w->q);
	if (held && held < qp.maxlen)
		log_warnx("queue %u: its socket buffer holds about %u packets "
			  "of 1500 bytes waiting for their verdicts, fewer "
			  "than queue-maxlen %u: past that the kernel drops "
			  "them (user_dropped); rcvbuf %um or more would hold "
			  "them all", queue, held, qp.maxlen,
			  (unsigned)(((uint64_t)qp.maxlen * QUEUE_PKT_BUF_MTU
				      / 2 + (1u << 20) - 1) >> 20));
	w->base = event_base_new();
	if (!w->base) {
		err = -ENOMEM;
		goto fail;
	}
	w->ev = event_new(w->base, queue_fd(w->q), EV_READ | EV_PERSIST,
			  on_readable, w);
	w->hold_ev = evtimer_new(w->base, on_hold_timer, w);
	if (!w->ev || !w->hold_ev || event_add(w->ev, NULL) < 0) {
		err = -ENOMEM;
		goto fail;
	}
	*out = w;
	return 0;
fail:
	worker_free(w);
	return err;
}

int worker_start(struct worker *w)
{
	int err = pthread_create(&w->thread, NULL, worker_main, w);

	if (err)
		return -err;
	w->started = 1;
	return 0;
}

void worker_stop(struct worker *w)
{
	if (!w->started)
		return;
	event_base_loopbreak(w->base);
	pthread_join(w->thread, NULL);
	w->started = 0;
}

void worker_free(struct worker *w)
{
	if (!w)
		return;
	worker_stop(w);
	if (w->q && w->hold.n) {
		/* going away: what still waits is dropped, not left to
		 * the kernel (its peers send it again) */
		unsigned i;

		for (i = 0; i < w->hold.n; i++) {
			queue_verdict(w->q, w->hold.slot[i].id, NF_DROP, false,
				      0, NULL, 0);
			counter_add(&w->cnt.held_expired, 1);
			counter_add(&w->cnt.dropped, 1);
		}
		queue_flush(w->q);
		w->hold.n = 0;
	}
	hold_free(&w->hold);
	if (w->hold_ev)
		event_free(w->hold_ev);
	if (w->ev)
		event_free(w->ev);
	if (w->base)
		event_base_free(w->base);
	queue_close(w->q);
	offload_close(w->off);
	free(w->off_req);
	free(w->pkts);
	free(w->pf_buf);
	free(w->pf_len);
	free(w->hints);
	free(w);
}

uint16_t worker_queue_num(const struct worker *w)
{
	return w->qnum;
}

int worker_cpu(const struct worker *w)
{
	return w->cpu;
}

void worker_counters(const struct worker *w, struct worker_counters *out)
{
	counters_load(out, &w->cnt, sizeof(*out));
}

void worker_queue_counters(const struct worker *w, struct queue_counters *out)
{
	queue_counters(w->q, out);
}
