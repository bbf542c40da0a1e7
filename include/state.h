/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The session table across restarts: written to the `state` file on
 * shutdown and every STATE_INTERVAL seconds, read back at start.
 *
 * The file is text, one record per line, written to FILE.tmp and renamed
 * over FILE, so it is whole or absent:
 *
 *   espmasq-state 1 written=UNIX_SECONDS
 *   session client=A server=A alias=A flags=N mark=V/M age=S idle=S
 *           left=S pkts_out=N pkts_in=N bytes_out=N bytes_in=N
 *           natt_cport=N natt_xport=N ike_pend=C/S ike_left=S
 *   sa kind=ike|esp-out|esp-in spi_i=HEX spi_r=HEX version=N exchange=N
 *      flags=N idle=S left=S pkts=N bytes=N        (of the session above)
 *   end
 *
 * Times are relative to the writing (age, idle, seconds left), so that
 * the time between writing and reading counts: what expired meanwhile is
 * not restored.
 */
#ifndef ESPMASQ_STATE_H
#define ESPMASQ_STATE_H

#include <stdint.h>

struct daemon;

#define STATE_INTERVAL	30	/* seconds between periodic writes */

/* Writes the table to the configured state file (main thread).  Returns
 * 0 or a negative errno (logged). */
int state_write(struct daemon *d);

struct state_counts {
	unsigned sessions;	/* restored */
	unsigned sas;
	unsigned expired;	/* sessions whose time ran out meanwhile */
	unsigned refused;	/* alias no longer configured, table full, ... */
	unsigned bad;		/* lines that do not parse */
	unsigned gw;		/* mode gateway entries restored */
	unsigned gw_dropped;	/* ...expired meanwhile or refused */
};

/* Reads the state file into the empty table, before the workers start.
 * A missing file is no error.  Returns 0 or a negative errno (logged). */
int state_load(struct daemon *d, struct state_counts *n);

#endif
