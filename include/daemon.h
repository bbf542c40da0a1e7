/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * State shared by the main thread (control socket, timers, signals) and
 * the queue workers.  Passed around explicitly; there is no global.
 */
#ifndef ESPMASQ_DAEMON_H
#define ESPMASQ_DAEMON_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "alias.h"
#include "config.h"
#include "events.h"
#include "gateway.h"
#include "heartbeat.h"
#include "log.h"
#include "offload.h"
#include "session.h"
#include "translate.h"

struct worker;
struct control;
struct event_base;

/* What the kernel dropped on one queue, as last read (main thread). */
struct queue_loss {
	unsigned long qdrop, udrop;	/* the kernel's counters */
	unsigned long lost;		/* in the episode under way */
	uint32_t since;			/* when it began */
	bool known;			/* counters read once */
	bool active;			/* losing in the last tick */
};

/* What the offload's counter scans found (offload on). */
struct offload_stats {
	bool on;			/* the kernel takes established ESP */
	char why_off[32];		/* ...else why not, one word */
	uint64_t scans, scan_errors;
	uint64_t entries;		/* entries seen, summed over scans */
	uint64_t pkts, bytes;		/* what the kernel translated */
	uint64_t ike_pkts;		/* ...of it, IKE messages */
	uint64_t stale;			/* entries removed: the SA is gone */
	uint64_t errors;		/* entries that could not be removed */
	uint64_t missing;		/* entries the kernel no longer had */
	uint64_t gone;			/* entries removed as their SA went */
	uint64_t resyncs;		/* maps emptied: too many SAs went */
	uint32_t last_read_each;	/* of last_entries, read one by one */
	uint32_t scan_every_ms;		/* the wait before the next scan */
	uint32_t last_entries, last_scan_ms;
	uint32_t last_ike_entries;	/* of last_entries, IKE flows */
};

struct daemon {
	const char *config_path;
	struct config *cfg;
	struct alias_pool *pool;
	struct session_table *table;
	pthread_mutex_t table_lock;	/* guards table; held per burst */
	struct xlate_ctx xlate;
	struct gw_table *gw;		/* mode gateway; table_lock */

	struct worker **workers;
	unsigned n_workers;

	struct event_base *base;
	struct control *ctl;

	struct event_ring *events;	/* for espmasqctl watch; table_lock */
	struct heartbeat hb;		/* fail-policy bypass; main thread */
	struct queue_loss loss[CONFIG_MAX_QUEUES];	/* by worker */

	struct log_limit lim_drop[XL_MAX];
	struct log_limit lim_malformed;
	struct log_limit lim_created;
	struct log_limit lim_offload;

	struct offload *off;		/* offload on: the main thread's */
	struct event *offload_ev;	/* its scans; main thread */
	struct offload_stats off_stats;	/* main thread */
	size_t off_count[OFFLOAD_MAPS];	/* entries per map, last scan */
	bool off_each_failed;		/* auto: entry by entry failed, so
					 * dumps only (until reload) */
};

struct reload_result {
	unsigned aliases;	/* in the new configuration */
	unsigned draining;	/* dropped from it, still used by sessions */
	bool rules_changed;	/* the netfilter rules it needs differ */
};

/*
 * Reads the configuration file again and, if it is valid and changes no
 * setting that takes a restart, swaps it in between two bursts: no packet
 * waits longer than one burst, no session is lost.  Aliases it no longer
 * lists stay known to the sessions that use them (drained: no new
 * session gets them).  Returns 0, or a negative errno with the problems
 * in @e (file:line messages); the running configuration then stays.
 * Main thread only.
 */
int daemon_reload(struct daemon *d, struct config_errors *e,
		  struct reload_result *res);
/* Logs what daemon_reload() did (@why: "SIGHUP", "espmasqctl reload"). */
void daemon_reload_log(const char *why, int err, const struct config_errors *e,
		       const struct reload_result *res);

/* Offload on: reads the kernel's counters now, as the timer does, so that
 * what the control socket shows next counts every packet so far.  Main
 * thread only. */
void daemon_offload_sync(struct daemon *d);

/* Starts, stops or re-times the offload as the configuration now says,
 * @old the one before a reload (NULL at start).  Main thread only. */
void daemon_offload_reconf(struct daemon *d, const struct config *old);

/* Seconds on the monotonic clock: cheap (vDSO), read once per burst. */
uint32_t daemon_now(void);
/* A millisecond monotonic clock (wraps every 49 days). */
uint32_t daemon_now_ms(void);

#endif
