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
 * Requests:
 *   sessions [client ADDR] [server ADDR|CIDR] [alias ADDR] [spi HEX]
 *            the sessions matching every filter given, each with its SAs
 *   aliases  every alias of the pool
 *   flush all | flush client ADDR
 *            removes sessions; bare "flush" is refused
 *   stats, reload, version
 *   watch    "ok", then event records as they happen, with no "end";
 *            the connection stays open until the client closes it
 *
 * Record types so far:
 *   session  one session (client, alias, server, state, counters, times)
 *   sa       one SA of the session printed just before it
 *   client   mode gateway: one learned client (peer, port, kind l2tp,
 *            udp or tcp, mark; tunnel, gw_tunnel, calls, session and
 *            gw_session for L2TP; local_port for a flow; pkts_in,
 *            pkts_out, age, idle, expires)
 *   stat     one counter group: "stat scope=... key=value ..."
 *   alias    addr, pinned (and pinned_to), drained, shared, sessions, and
 *            when it has sessions: clients and servers (comma-separated)
 *   flush    sessions (mode gateway: entries): how many were removed
 *   reload   aliases, draining, rules_changed
 *   event    seq, time (Unix seconds), kind (created, refused, spi-learned,
 *            ike-learned, new-sa, expired, flushed, or missed with count),
 *            client, server, alias when known, sa and spi (new-sa), spi
 *            (spi-learned, ike-learned), reason (refused), sessions
 *            (flushed)
 */
#ifndef ESPMASQ_CTLPROTO_H
#define ESPMASQ_CTLPROTO_H

#define CTL_PROTO_VERSION	1
#define CTL_MAX_REQUEST		512
#define CTL_MAX_CLIENTS		16
#define CTL_MAX_WORDS		16	/* after the command */

#endif
