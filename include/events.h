/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Session events for `espmasqctl watch`: created, refused, SPI learned,
 * new SA (a rekey), expired, flushed.  A fixed ring that the workers and
 * the main thread append to under the table lock, and only while someone
 * watches; watchers read it by sequence number and learn how many events
 * they missed when they fall a ring behind.  No allocation, no syscall.
 */
#ifndef ESPMASQ_EVENTS_H
#define ESPMASQ_EVENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define EVENT_RING	4096	/* a power of two */

enum event_kind {
	EV_CREATED,		/* a session and its alias */
	EV_REFUSED,		/* no session: @reason (xlate result) */
	EV_SPI,			/* an unknown inbound SPI assigned (shared) */
	EV_IKE,			/* a rekeyed IKE SA assigned (shared) */
	EV_SA,			/* an SA new to the session: @sa_kind, @spi */
	EV_EXPIRED,		/* a session timed out */
	EV_FLUSHED,		/* sessions removed by espmasqctl flush */
	EV_KIND_MAX
};

struct sess_event {
	uint64_t seq;
	int64_t time;		/* wall clock, seconds */
	uint64_t spi;
	uint32_t client, server, alias;	/* host order; 0 = not known */
	uint8_t kind;		/* enum event_kind */
	uint8_t sa_kind;	/* enum sa_kind, for EV_SA */
	uint8_t reason;		/* enum xlate_result, for EV_REFUSED */
	uint8_t pad;
	uint32_t count;		/* EV_FLUSHED: how many */
};

struct event_ring {
	struct sess_event ev[EVENT_RING];
	uint64_t next;		/* sequence number of the next event */
	unsigned watchers;	/* events are kept only while > 0 */
};

/* Appends @e (its seq and time are set here).  Caller holds the lock. */
void events_push(struct event_ring *r, const struct sess_event *e);

/*
 * Copies up to @max events from sequence number *@from on into @out and
 * moves *@from past them.  Events that were overwritten before they were
 * read are skipped and counted in *@missed.  Returns the number copied.
 * Caller holds the lock.
 */
size_t events_read(const struct event_ring *r, uint64_t *from,
		   struct sess_event *out, size_t max, uint64_t *missed);

const char *event_kind_name(uint8_t kind);

#endif
