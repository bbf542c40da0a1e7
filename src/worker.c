/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <arpa/inet.h>
#include <errno.h>
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

struct worker {
	struct daemon *d;
	unsigned index;
	uint16_t qnum;
	int cpu;
	struct queue *q;
	struct queue_pkt *pkts;
	struct event_base *base;
	struct event *ev;
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

uint32_t worker_decide(struct daemon *d, struct worker_counters *c,
		       struct queue_pkt *pkt, uint32_t now, uint32_t now_ms,
		       bool *payload, bool *set_mark, uint32_t *mark)
{
	struct pkt_info pi;
	struct xlate_out xo;
	enum pkt_err perr;
	enum xlate_result r;
	bool partial;

	*payload = false;
	*set_mark = false;
	counter_add(&c->packets, 1);
	if (!pkt->data || pkt->orig_len > pkt->len) {
		/* only part of the packet was copied: it cannot be
		 * rewritten, and must not leave untranslated */
		counter_add(&c->truncated, 1);
		counter_add(&c->dropped, 1);
		return NF_DROP;
	}
	perr = pkt_parse(pkt->data, pkt->len, &pi);
	if (perr != PKT_OK) {
		counter_add(&c->malformed[perr], 1);
		counter_add(&c->dropped, 1);
		log_limited(&d->lim_malformed, now, LOG_INFO,
			    "dropped malformed packet (%s), %u bytes",
			    pkt_err_name(perr), pkt->len);
		return NF_DROP;
	}
	counter_add(&c->kind[pi.kind], 1);
	partial = pkt->skbinfo & NFQA_SKB_CSUMNOTREADY;
	r = xlate_packet(&d->xlate, pkt->data, &pi, partial, now, now_ms,
			 &xo);
	counter_add(&c->xlate[r], 1);
	if (r == XL_PASS) {
		/* an ICMP error about someone else's flow: not ours to
		 * change, nor to drop */
		counter_add(&c->accepted, 1);
		return NF_ACCEPT;
	}
	if (r != XL_OUT && r != XL_IN) {
		char a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN];

		counter_add(&c->dropped, 1);
		log_limited(&d->lim_drop[r], now, LOG_WARNING,
			    "dropped %s %s -> %s: %s",
			    pkt_kind_name((enum pkt_kind)pi.kind),
			    fmt_addr(ntohl(pi.saddr), a),
			    fmt_addr(ntohl(pi.daddr), b), xlate_result_name(r));
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
	if (partial && pi.proto == 17)
		counter_add(&c->csum_partial, 1);
	counter_add(&c->accepted, 1);
	counter_add(&c->rewritten, 1);
	*payload = true;
	if (xo.mark_mask) {
		*set_mark = true;
		*mark = (pkt->mark & ~xo.mark_mask) | xo.mark_value;
	}
	return NF_ACCEPT;
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

static void on_readable(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;
	struct daemon *d = w->d;
	unsigned burst;

	(void)fd;
	(void)what;
	for (burst = 0; burst < BURSTS_PER_WAKEUP; burst++) {
		int n = queue_recv_burst(w->q, w->pkts), i;
		uint32_t now, now_ms;

		if (n <= 0) {
			if (n < 0)
				log_limited(&d->lim_malformed, daemon_now(),
					    LOG_ERR, "queue %u: receive: %s",
					    w->qnum, strerror(-n));
			return;
		}
		counter_add(&w->cnt.bursts, 1);
		counter_add(&w->cnt.batch_hist[batch_bucket((unsigned)n)], 1);
		now = daemon_now();
		now_ms = daemon_now_ms();
		pthread_mutex_lock(&d->table_lock);
		for (i = 0; i < n; i++) {
			struct queue_pkt *p = &w->pkts[i];
			bool payload, set_mark;
			uint32_t mark = 0, v;

			v = worker_decide(d, &w->cnt, p, now, now_ms,
					  &payload, &set_mark, &mark);
			queue_verdict(w->q, p->id, v, set_mark, mark,
				      payload ? p->data : NULL, p->len);
		}
		pthread_mutex_unlock(&d->table_lock);
		queue_flush(w->q);
		if ((unsigned)n < (unsigned)d->cfg->batch)
			return;
	}
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
		.rcvbuf = d->cfg->rcvbuf, .batch = d->cfg->batch,
		.fail_open = d->cfg->fail_policy == FAIL_POLICY_BYPASS,
	};
	struct worker *w = calloc(1, sizeof(*w));
	int err;

	if (!w)
		return -ENOMEM;
	w->d = d;
	w->index = index;
	w->qnum = queue;
	w->cpu = cpu;
	w->pkts = calloc(d->cfg->batch, sizeof(*w->pkts));
	if (!w->pkts) {
		err = -ENOMEM;
		goto fail;
	}
	w->q = queue_open(&qp);
	if (!w->q) {
		err = -errno;
		log_warn("queue %u: cannot bind%s", queue,
			 errno == EBUSY ? " (another program owns it)" :
			 errno == EPERM ? " (needs CAP_NET_ADMIN)" : "");
		goto fail;
	}
	w->base = event_base_new();
	if (!w->base) {
		err = -ENOMEM;
		goto fail;
	}
	w->ev = event_new(w->base, queue_fd(w->q), EV_READ | EV_PERSIST,
			  on_readable, w);
	if (!w->ev || event_add(w->ev, NULL) < 0) {
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
	if (w->ev)
		event_free(w->ev);
	if (w->base)
		event_base_free(w->base);
	queue_close(w->q);
	free(w->pkts);
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
