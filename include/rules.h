/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The netfilter rules a configuration needs, as iptables-restore
 * (--noflush) input or as an nft script.  Only espmasq's own chains and
 * table are created; the built-in chains get one jump each.
 *
 * Outbound (inside -> server): untracked in raw PREROUTING so conntrack's
 * NAT never touches it, queued in mangle POSTROUTING (after routing, as
 * SNAT would be).  Inbound (server -> alias): untracked in raw PREROUTING,
 * queued in mangle PREROUTING so the rewritten destination is routed to
 * the client.
 */
#ifndef ESPMASQ_RULES_H
#define ESPMASQ_RULES_H

#include <stdio.h>

#include "config.h"

enum rules_format {
	RULES_IPTABLES = 0,
	RULES_NFT,
};

#define RULES_CHAIN_RAW		"ESPMASQ-RAW"
#define RULES_CHAIN_IN		"ESPMASQ-IN"
#define RULES_CHAIN_OUT		"ESPMASQ-OUT"
#define RULES_NFT_TABLE		"espmasq"

/* Writes the rules for @c to @f.  Returns 0, or -EINVAL (with a message
 * on stderr) when the configuration cannot be expressed. */
int rules_print(FILE *f, const struct config *c, enum rules_format fmt);

#endif
