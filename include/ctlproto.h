/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Control protocol between espmasqd and espmasqctl, over a unix stream
 * socket.  Text, one record per line, so it stays readable with socat.
 *
 * Request:  one line, at most CTL_MAX_REQUEST bytes:  COMMAND [ARG...]\n
 * Response: "ok\n" or "error MESSAGE\n", then zero or more records, then
 *           "end\n".  A record is TYPE followed by space-separated
 *           key=value pairs; values contain no spaces.  Unknown types and
 *           keys are to be ignored by readers, so new ones can be added.
 *
 * Record types so far:
 *   session  one session (client, alias, server, state, counters, times)
 *   sa       one SA of the session printed just before it
 *   stat     one counter group: "stat scope=... key=value ..."
 */
#ifndef ESPMASQ_CTLPROTO_H
#define ESPMASQ_CTLPROTO_H

#define CTL_PROTO_VERSION	1
#define CTL_MAX_REQUEST		512
#define CTL_MAX_CLIENTS		16

#endif
