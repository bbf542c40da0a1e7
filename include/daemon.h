/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * State shared by the main thread (control socket, timers, signals) and
 * the queue workers.  Passed around explicitly; there is no global.
 */
#ifndef ESPMASQ_DAEMON_H
#define ESPMASQ_DAEMON_H

#include <pthread.h>
#include <stdint.h>

#include "alias.h"
#include "config.h"
#include "log.h"
#include "session.h"
#include "translate.h"

struct worker;
struct control;
struct event_base;

struct daemon {
	struct config *cfg;
	struct alias_pool *pool;
	struct session_table *table;
	pthread_mutex_t table_lock;	/* guards table; held per burst */
	struct xlate_ctx xlate;

	struct worker **workers;
	unsigned n_workers;

	struct event_base *base;
	struct control *ctl;

	struct log_limit lim_drop[XL_MAX];
	struct log_limit lim_malformed;
	struct log_limit lim_created;
};

/* Seconds on the monotonic clock: cheap (vDSO), read once per burst. */
uint32_t daemon_now(void);
/* A millisecond monotonic clock (wraps every 49 days). */
uint32_t daemon_now_ms(void);

#endif
