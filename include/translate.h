/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The per-packet decision: which session a parsed packet belongs to, what
 * address it leaves with, which mark it carries.  No I/O; the caller holds
 * the session table lock.
 */
#ifndef ESPMASQ_TRANSLATE_H
#define ESPMASQ_TRANSLATE_H

#include <stdbool.h>
#include <stdint.h>

#include "alias.h"
#include "config.h"
#include "packet.h"
#include "session.h"

enum xlate_result {
	XL_OUT = 0,		/* client -> server, source rewritten */
	XL_IN,			/* server -> alias, destination rewritten */
	XL_DROP_NOT_OURS,	/* neither direction matches the config */
	XL_DROP_NO_ALIAS,	/* no alias free toward that server */
	XL_DROP_FULL,		/* session table full */
	XL_DROP_UNKNOWN,	/* inbound to an alias with no session, or an
				 * ICMP error about an IPsec flow espmasq
				 * does not know */
	XL_PASS,		/* ICMP error about a flow that is not
				 * espmasq's: accepted unchanged */
	XL_DROP_AMBIGUOUS,	/* shared alias: no single owner */
	XL_DROP_GATE,		/* shared alias: another client negotiates
				 * (the worker holds the packet) */
	XL_DROP_NO_PORT,	/* natt-ports: none free on the alias */
	XL_DROP_CLIENT_LIMIT,	/* the client has max-sessions-per-client */
	XL_MAX
};

struct xlate_ctx {
	struct session_table *table;
	const struct config *cfg;
	const struct alias_pool *pool;
	bool offload;		/* claim established SAs for the kernel */
};

struct xlate_out {
	uint32_t mark_value;
	uint32_t mark_mask;	/* 0: leave the mark alone */
	uint32_t client, alias, server;	/* host order, for logging */
	bool created;		/* a new session was made for this packet */
	bool spi_learned;	/* an unknown inbound SPI was assigned */
	bool ike_learned;	/* ...an unknown established IKE SA */
	bool sa_new;		/* an SA new to the session: */
	uint8_t sa_kind;	/* ...its enum sa_kind */
	uint64_t sa_spi;	/* ...and SPI (IKE: initiator SPI) */
	bool offload;		/* an SA to hand to the kernel now (set
				 * only with xlate_ctx.offload): */
	bool offload_udp;	/* ...in UDP on port 4500, */
	bool offload_ike;	/* ...an IKE SA's INFORMATIONAL exchanges
				 * (else ESP), */
	uint64_t offload_spi;	/* ...its SPI (IKE: the initiator's; client,
				 * alias, server above) */
};

/*
 * Translates the packet in @buf, parsed into @pi, in place.  @l4_partial:
 * the kernel flagged the L4 checksum as not yet computed.  Returns XL_OUT or
 * XL_IN when the packet was rewritten and is to be accepted, XL_PASS when it
 * is to be accepted unchanged, otherwise the reason to drop it (nothing in
 * @buf changed).
 *
 * ICMP errors follow the session of the packet they quote: one sent to an
 * alias about a packet from that alias to a server goes to the session's
 * client, with the quoted source made the client's address again; one a
 * client sends to a server about a packet from that server leaves from the
 * alias, quoting the alias.  They neither create nor refresh sessions.
 *
 * Only packets from the client keep a session alive (a NAT refreshes its
 * mappings on outbound traffic, RFC 4787 REQ-6): a client that has gone
 * away loses its alias after the timeout even while the server keeps
 * sending to it.
 */
enum xlate_result xlate_packet(const struct xlate_ctx *x, uint8_t *buf,
			       struct pkt_info *pi, bool l4_partial,
			       uint32_t now, uint32_t now_ms,
			       struct xlate_out *out);

/*
 * The first step of the fast path for a burst of @n packets (@bufs, @lens:
 * raw, not yet parsed; a NULL one of length 0), ahead of their xlate_esp_fast(), when the table
 * has outgrown the cache: the checks and lookups of all, a step for all at
 * a time, so that their cache misses overlap (see session_esp_prefetch()).
 * Returns true with each packet's @hints entry set, or false (a table in
 * the cache: nothing to gain).  Nothing is changed either way.  A hint is
 * the packet's lookup, its SA's kind telling the direction, and its tag
 * the packet's kind: PKT_ESP or PKT_ESP_UDP, or PKT_KIND_MAX when it is
 * not of the fast path's shape (which then declines it at once).  It holds
 * while the config and the alias pool stay (the table lock held); the
 * table may change meanwhile.  The IKE packets of the burst (on 500, or
 * 4500 with the non-ESP marker) get no hint, but their lookups are warmed
 * as well (session_warm_start()): the lines of their sessions and IKE SAs
 * are in the cache when the full path reads them.
 */
bool xlate_prefetch(const struct xlate_ctx *x, uint8_t *const *bufs,
		    const uint32_t *lens, unsigned n, struct session_pf *hints);

/*
 * The fast path of an established ESP flow, to try before pkt_parse():
 * a whole IPv4 packet without options of ESP, or of ESP in UDP when
 * natt-ports is off, on an SA of a session alone on its alias.  Checks
 * what pkt_parse() would of such a packet, then translates it exactly as
 * pkt_parse() and xlate_packet() would: returns XL_OUT or XL_IN, with
 * *@kind set to PKT_ESP or PKT_ESP_UDP; or XL_MAX, nothing changed, when
 * the packet needs the full path.  Declining, it leaves *@kind
 * PKT_KIND_MAX, or the packet's kind when it got as far as the lookup:
 * then the caller sets esp_missed in the packet's pkt_info, so that
 * xlate_packet() does not look it up again.  @hint: what xlate_prefetch()
 * found of this packet, or NULL; the result is the same either way.
 */
enum xlate_result xlate_esp_fast(const struct xlate_ctx *x, uint8_t *buf,
				 uint32_t len, bool l4_partial, uint32_t now,
				 struct xlate_out *out, uint8_t *kind,
				 const struct session_pf *hint);

const char *xlate_result_name(enum xlate_result r);

#endif
