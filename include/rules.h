/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The netfilter rules a configuration needs, as iptables-restore
 * (--noflush) input or as an nft script.  Only espmasq's own chains and
 * table are created; the built-in chains get one jump each.
 *
 * Mode gateway (on the VPN gateway, nothing translated): mangle INPUT
 * queues udp/1701 and each gateway-service that arrive with an SA mark,
 * mangle OUTPUT queues the same toward the clients, for espmasqd to set
 * their client's mark.  One ESP-in-UDP packet a minute per client port
 * is queued too, so that espmasqctl shows each client's NAT-T port.
 *
 * Outbound (inside -> server): untracked in raw PREROUTING so conntrack's
 * NAT never touches it, queued in mangle POSTROUTING (after routing, as
 * SNAT would be).  Inbound (server -> alias): untracked in raw PREROUTING,
 * queued in mangle PREROUTING so the rewritten destination is routed to
 * the client.
 *
 * With fail-policy bypass (iptables only), espmasqd writes a heartbeat
 * into the xt_recent list RULES_HEARTBEAT_NAME every second, and the raw
 * rules untrack espmasq's flows only while that heartbeat is younger than
 * RULES_HEARTBEAT_SECONDS.  Without it, conntrack sees the flows: the
 * first packet of each bypasses the queue and gets the kernel's SNAT to
 * the first alias range (nat table, chain RULES_CHAIN_NAT).  Outbound
 * packets that conntrack does not see NATed or new are queued without
 * bypass, so in the seconds before the heartbeat runs out they are dropped,
 * never leaked.  Packets espmasqd translated carry bypass-mark, which the
 * nat chain leaves alone (a daemon that stalled past its heartbeat).
 *
 * With offload on, the nft table RULES_OFFLOAD_TABLE (in either format;
 * with iptables rules it is printed apart, --print-rules=offload) rewrites
 * established ESP flows in the kernel, from maps espmasqd fills (see
 * offload.h).  Its chains run just before the mangle ones; a packet they
 * rewrote no longer matches the queue rules, which expect it untranslated.
 */
#ifndef ESPMASQ_RULES_H
#define ESPMASQ_RULES_H

#include <stdio.h>

#include "config.h"

enum rules_format {
	RULES_IPTABLES = 0,
	RULES_NFT,
	RULES_OFFLOAD,		/* only the offload table, for nft -f */
};

#define RULES_CHAIN_RAW		"ESPMASQ-RAW"
#define RULES_CHAIN_IN		"ESPMASQ-IN"
#define RULES_CHAIN_OUT		"ESPMASQ-OUT"
#define RULES_CHAIN_OUTQ	"ESPMASQ-OUTQ"	/* fail-policy bypass */
#define RULES_CHAIN_NAT		"ESPMASQ-NAT"	/* fail-policy bypass */
#define RULES_CHAIN_GWIN	"ESPMASQ-GWIN"	/* mode gateway, INPUT */
#define RULES_CHAIN_GWOUT	"ESPMASQ-GWOUT"	/* mode gateway, OUTPUT */
#define RULES_NATT_METER	"espmasq-natt"	/* mode gateway */
#define RULES_NFT_TABLE		"espmasq"
#define RULES_OFFLOAD_TABLE	"espmasq_offload"	/* offload on */
#define RULES_HEARTBEAT_NAME	"espmasq"	/* /proc/net/xt_recent/ */
#define RULES_HEARTBEAT_SECONDS	3

/* Writes the rules for @c to @f.  Returns 0, or -EINVAL (with a message
 * on stderr) when the configuration cannot be expressed. */
int rules_print(FILE *f, const struct config *c, enum rules_format fmt);

#endif
