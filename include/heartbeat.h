/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fail-policy bypass: espmasqd proves it is alive by refreshing one entry
 * (0.0.0.0) of an xt_recent list every second.  The raw rules untrack
 * espmasq's flows only while that entry is fresh (rules.h), so a daemon
 * that died hands its flows to conntrack and the kernel's NAT within
 * RULES_HEARTBEAT_SECONDS.
 */
#ifndef ESPMASQ_HEARTBEAT_H
#define ESPMASQ_HEARTBEAT_H

#include <stdbool.h>
#include <stdint.h>

#define HEARTBEAT_DIR	"/proc/net/xt_recent/"

struct heartbeat {
	int fd;			/* -1 until the list could be opened */
	bool warned;		/* the list was missing once: said so */
	uint64_t beats;		/* written */
	uint64_t failures;	/* could not be written */
};

void heartbeat_init(struct heartbeat *h);
/*
 * Refreshes the entry in the list at @path, opening it on first use (the
 * list exists once the rules are loaded).  Returns 0, or -errno; the
 * first failure is logged, later ones only counted until a beat succeeds.
 */
int heartbeat_beat(struct heartbeat *h, const char *path);
void heartbeat_close(struct heartbeat *h);

#endif
