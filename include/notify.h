/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Readiness notification to a service manager (systemd's Type=notify):
 * one datagram to the unix socket named by $NOTIFY_SOCKET, written here
 * rather than linking libsystemd for one sendmsg.  Does nothing when the
 * variable is unset.
 */
#ifndef ESPMASQ_NOTIFY_H
#define ESPMASQ_NOTIFY_H

/* Sends @state ("READY=1", "RELOADING=1", "STOPPING=1", "STATUS=...").
 * Returns 0, or a negative errno (nothing is retried). */
int notify(const char *state);

#endif
