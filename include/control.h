/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The control socket of espmasqd, served from the main thread's event
 * loop.  Answers are built from a snapshot taken under the table lock and
 * written without blocking, so a slow reader never delays a verdict.
 */
#ifndef ESPMASQ_CONTROL_H
#define ESPMASQ_CONTROL_H

struct daemon;
struct control;
struct evbuffer;

/* Creates the socket at the configured path (mode 0660, parent directory
 * created 0750 if missing, a stale socket replaced).  Returns 0 or -errno. */
int control_open(struct daemon *d, struct control **out);
void control_close(struct control *c);

/* The stat records ("stat scope=... key=value ...", one a line) of
 * espmasqctl stats, for the control socket and the metrics file. */
void control_stats(struct daemon *d, struct evbuffer *o);

#endif
