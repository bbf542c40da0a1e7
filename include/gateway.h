/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Gateway mode (issue 8): on the VPN gateway, learn from inbound packets
 * (after IPsec decryption, carrying the mark of the SA they came in on)
 * which mark belongs to which client, and give each outbound packet the
 * mark of its client, so that it leaves over that client's SA even when
 * conntrack folds several clients into one flow (Windows L2TP clients
 * behind one NAT all use udp/1701 on both ends).
 *
 * Two kinds of entry, one preallocated table:
 *   L2TP:  (peer address, peer port, tunnel ID the client assigned) -> mark
 *   flow:  (protocol, peer address, peer port, local port) -> mark
 * A fixed pool allocated at creation, hash chains linked by index, a
 * random hash seed: the packet path never allocates, and a full table
 * refuses (-ENOSPC, counted).  Addresses are as stored in the packet
 * (network byte order), ports and IDs host order, times seconds on a
 * monotonic clock.  Not thread-safe: callers serialize access.
 */
#ifndef ESPMASQ_GATEWAY_H
#define ESPMASQ_GATEWAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "l2tp.h"

struct gw_table;

enum gw_dir {
	GW_IN = 0,		/* from a client, mark = its SA's */
	GW_OUT,			/* to a client: which mark to set */
	GW_DIR_MAX
};

/* What gw_packet() did with a packet; counted per direction. */
enum gw_res {
	GW_OK = 0,		/* in: learned or refreshed; out: mark found */
	GW_MALFORMED,		/* IPv4/UDP/TCP header broken or cut short */
	GW_FRAGMENT,		/* an IP fragment: no whole L4 message */
	GW_PROTO,		/* neither UDP nor TCP */
	GW_L2TP_BAD,		/* udp/1701 that l2tp_parse() refused */
	GW_UNMARKED,		/* in: mark 0, from no marked SA */
	GW_HIDDEN,		/* in: SCCRQ/SCCRP with a hidden Assigned
				 * Tunnel ID (encrypted, unreadable) */
	GW_UNKNOWN,		/* out: no entry; in: an L2TP tunnel ID
				 * never seen assigned */
	GW_FULL,		/* in: table full, not learned */
	GW_RES_MAX
};

struct gw_counters {
	uint64_t learned;		/* entries created */
	uint64_t updated;		/* ...given a newer mark (rekey) */
	uint64_t refreshed;		/* inbound packets that kept one alive */
	uint64_t expired;
	uint64_t flushed;		/* by gw_flush() */
	uint64_t refused_full;		/* table full: not learned */
	uint64_t lookup_hit;		/* outbound lookups with an entry */
	uint64_t lookup_miss;		/* ...without one (not attributed) */
	uint64_t l2tp_gw_tid;		/* gateway tunnel IDs paired with an
					 * entry (from its SCCRP) */
	uint64_t l2tp_rebound;		/* an SCCRQ took over an entry that
					 * another mark had a tunnel on */
	uint64_t res[GW_DIR_MAX][GW_RES_MAX];	/* gw_packet() outcomes */
	uint64_t l2tp_err[L2TP_ERR_MAX];	/* why udp/1701 was refused */
	uint32_t active;
	uint32_t capacity;
};

/* A table of at most @capacity entries (1 .. 2^26), allocated once.
 * Returns NULL with errno EINVAL or ENOMEM. */
struct gw_table *gw_new(uint32_t capacity);
void gw_free(struct gw_table *t);

/*
 * Learns, from an inbound L2TP control message of client @peer:@pport
 * arriving with @mark, that tunnel @client_tid (the Assigned Tunnel ID the
 * client sent) belongs to @mark until @now + @timeout; @gw_tid, when not
 * 0, is the gateway's own ID of that tunnel (the header of an inbound
 * SCCRP).  A newer mark replaces the old one.  Returns 1 when the entry is
 * new, 0 when it existed, -EINVAL for a zero mark or ID, -ENOSPC when the
 * table is full (counted).
 */
int gw_learn_l2tp(struct gw_table *t, uint32_t peer, uint16_t pport,
		  uint16_t client_tid, uint16_t gw_tid, uint32_t mark,
		  uint32_t now, uint32_t timeout);

/*
 * Records that the gateway calls tunnel @client_tid of @peer:@pport
 * @gw_tid (the Assigned Tunnel ID of an outbound SCCRP), so that inbound
 * packets, which carry @gw_tid in their header, keep the entry alive and
 * move it to a newer mark.  Returns 0, -ENOENT without an entry, -EINVAL
 * for a zero ID.
 */
int gw_pair_l2tp(struct gw_table *t, uint32_t peer, uint16_t pport,
		 uint16_t client_tid, uint16_t gw_tid, uint32_t now);

/*
 * An inbound packet of tunnel @gw_tid (its header's) from @peer:@pport
 * with @mark: refreshes the entry, moving it to @mark if that differs.
 * Returns 0, -ENOENT when no entry has that gateway ID, -EINVAL for a
 * zero mark.
 */
int gw_touch_l2tp(struct gw_table *t, uint32_t peer, uint16_t pport,
		  uint16_t gw_tid, uint32_t mark, uint32_t now,
		  uint32_t timeout);

/* Learns an inbound UDP/TCP flow (@proto 17 or 6) from @peer:@pport to
 * local port @lport with @mark.  Returns as gw_learn_l2tp(). */
int gw_learn_flow(struct gw_table *t, uint8_t proto, uint32_t peer,
		  uint16_t pport, uint16_t lport, uint32_t mark, uint32_t now,
		  uint32_t timeout);

/* The mark for an outbound L2TP packet to @peer:@pport whose header
 * carries tunnel ID @client_tid, or for a flow; an entry whose deadline
 * has passed is not used.  Return 0 and set *@mark, or -ENOENT; each
 * counted as lookup_hit or lookup_miss. */
int gw_lookup_l2tp(struct gw_table *t, uint32_t peer, uint16_t pport,
		   uint16_t client_tid, uint32_t now, uint32_t *mark);
int gw_lookup_flow(struct gw_table *t, uint8_t proto, uint32_t peer,
		   uint16_t pport, uint16_t lport, uint32_t now,
		   uint32_t *mark);

/*
 * The packet path: @buf is an IPv4 packet of @len bytes (from its IP
 * header).  Inbound (@dir GW_IN), learns from it with @mark, the mark it
 * arrived with; outbound, finds the mark to set into *@out.  udp/1701 on
 * either side is L2TP and only ever attributed by tunnel ID, never as a
 * flow (the 5-tuple is what the clients share).  Reads nothing outside
 * @buf.  Returns GW_OK or why not; every outcome is counted.
 */
enum gw_res gw_packet(struct gw_table *t, const uint8_t *buf, size_t len,
		      enum gw_dir dir, uint32_t mark, uint32_t now,
		      uint32_t timeout, uint32_t *out);

/* One entry as gw_snapshot() copies it. */
struct gw_view {
	uint32_t peer;			/* network byte order */
	uint32_t mark;
	uint32_t created, last_seen, deadline;
	uint32_t pkts_in;		/* inbound packets that learned or
					 * refreshed it */
	uint32_t pkts_out;		/* outbound packets it marked */
	uint16_t pport;
	uint16_t id;			/* L2TP: the client's tunnel ID;
					 * flow: the local port */
	uint16_t gid;			/* L2TP: the gateway's, 0 unknown */
	uint16_t csid, gsid;		/* L2TP: newest call's session IDs */
	uint16_t calls;			/* L2TP: calls set up */
	uint8_t l2tp;			/* 1: L2TP tunnel, 0: flow */
	uint8_t proto;			/* 17 or 6 */
	uint8_t expired;		/* deadline passed, not yet freed */
};

/* Copies every entry into a new array (*@out, to free(); NULL when
 * empty).  Returns 0 or -ENOMEM. */
int gw_snapshot(const struct gw_table *t, uint32_t now,
		struct gw_view **out, size_t *n);

/* Puts back an entry as gw_snapshot() copied it (from a state file):
 * its key, mark, times (already on this run's clock), IDs and counts.
 * Returns 0, -EINVAL for a view no packet could have made, -EEXIST when
 * its key is taken, -ENOSPC when the table is full (counted). */
int gw_restore(struct gw_table *t, const struct gw_view *v);

/* Frees the entries whose deadline has passed.  Returns how many. */
unsigned gw_expire(struct gw_table *t, uint32_t now);

/* Frees every entry (@all), or those of peer @peer (network byte
 * order); their clients are learned again from their next packets.
 * Returns how many. */
unsigned gw_flush(struct gw_table *t, bool all, uint32_t peer);

void gw_counters(const struct gw_table *t, struct gw_counters *out);

/* A short fixed name for @res ("unknown"), "?" when out of range. */
const char *gw_res_name(enum gw_res res);

#endif
