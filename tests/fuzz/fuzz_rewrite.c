/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer harness for the rewriters: parse, then xlate_packet() against
 * a small configuration and session table, or one pkt_rewrite_* call, and
 * check every packet that comes out with checksums computed from scratch.
 *
 * An input is a byte choosing the set-up (modulo 3), then records of
 *
 *   u8 flags   bit 0: the kernel flagged the L4 checksum partial
 *              bit 1: fix lengths and checksums before parsing, so
 *                     that most inputs reach the rewriters valid
 *              bit 2: one pkt_rewrite_* call instead of xlate_packet
 *              bits 3-7: seconds to advance the clock (31: an hour)
 *   u8 op      which pkt_rewrite_* call, and src or dst (bit 7); with
 *              xlate_packet, bit 5: with bit 6, xlate_prefetch() first
 *              and its hint to xlate_esp_fast(), as the worker does on
 *              a large table; bit 6: try xlate_esp_fast() first, as
 *              the worker does; bit 7: with offload on (SAs claimed)
 *   u32 addr   address for it (as stored in the packet)
 *   u16 port   port for it
 *   u16 len    bytes of packet that follow (cut to what is left)
 *
 * Records share the session table, so a sequence of packets builds
 * sessions, SAs, gates and NAT-T ports; it is flushed at the start of
 * each input so that an input replays alone.
 *
 * Invariants (abort() on violation):
 *  - a packet dropped or passed is left byte for byte as it was;
 *  - xlate_esp_fast() declines every packet pkt_parse() refuses, leaving
 *    it as it was, with or without the hint xlate_prefetch() gave, and
 *    takes only ESP and ESP in UDP;
 *  - a rewritten one keeps its length, changes only the fields the
 *    rewrite owns (addresses, ports, checksums), parses again to the
 *    same kind, and carries the addresses xlate_packet reported;
 *  - every checksum that verified before still verifies after (IP,
 *    UDP, ICMP, quoted IP, quoted UDP when the whole datagram is
 *    quoted), a UDP checksum of zero stays zero and one that was not
 *    never becomes zero; with a partial L4 checksum the rewritten UDP
 *    checksum verifies in full;
 *  - a packet translated belongs to a session of the client, alias and
 *    server xlate_packet reported; an inbound one whose SPI one session
 *    of its alias and server owns goes to that session's client;
 *  - the table stays consistent: every session found by its client and
 *    server, counted, its client inside and its alias in the pool; with
 *    alias-clients 1 no two clients on one alias toward one server; no
 *    two sessions of an alias and server showing the server one NAT-T
 *    port.
 */
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_check.h"
#include "alias.h"
#include "config.h"
#include "fuzz_csum.h"
#include "packet.h"
#include "session.h"
#include "translate.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REC_HDR		10
#define MAX_PKT		2048
#define T0		100000u

/* Three set-ups: one client per alias, shared aliases with NAT-T ports of
 * their own, and aliases shared by two clients at most toward any server;
 * all small, so that the table and the pool fill. */
static const char *const conf_plain[] = {
	"inside 192.0.2.0/24",
	"alias 203.0.113.11-203.0.113.13",
	"pin 192.0.2.20 203.0.113.20",
	"server 203.0.113.96/27",
	"alias-clients 1",
	"mark 0x100/0xff00",
	"mark client 192.0.2.0/28 0x7",
	NULL,
};

static const char *const conf_shared[] = {
	"inside 192.0.2.0/24",
	"alias 203.0.113.11-203.0.113.12",
	"pin 192.0.2.20 203.0.113.20",
	"alias-clients unlimited",
	"natt-ports 40000-40001",
	"gate-hold 100",
	"timeout pending 5s",
	NULL,
};

static const char *const conf_pairs[] = {
	"inside 192.0.2.0/25",
	"alias 203.0.113.11",
	"alias 203.0.113.12",
	"alias-clients 2",
	"mark server 203.0.113.96/27 0x30000/0xf0000",
	NULL,
};

struct setup {
	struct config cfg;
	struct session_table *t;
	struct alias_pool *pool;
	struct xlate_ctx x;
};

static struct setup setups[3];
static bool trace;	/* FUZZ_TRACE set: one line per record on stderr */

static void setup_make(struct setup *s, const char *const *lines)
{
	struct config_errors e = { .n = 0 };
	struct session_limits lim = { 8, 12, 0 };
	unsigned i;

	config_init(&s->cfg);
	for (i = 0; lines[i]; i++)
		check(!config_line(&s->cfg, "fuzz.conf", i + 1, lines[i], &e));
	check(!config_finish(&s->cfg, "fuzz.conf", &e));
	s->t = session_table_new(&lim);
	s->pool = alias_pool_new(&s->cfg);
	check(s->t && s->pool);
	/* a tiny table too takes the prefetch, when asked for it */
	session_set_prefetch_from(s->t, 0);
	s->x = (struct xlate_ctx){ s->t, &s->cfg, s->pool, false };
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	setup_make(&setups[0], conf_plain);
	setup_make(&setups[1], conf_shared);
	setup_make(&setups[2], conf_pairs);
	trace = getenv("FUZZ_TRACE") != NULL;
	return 0;
}

/* Offsets and sizes parse_* would find, for the fix-up before parsing. */
static unsigned ihl_of(const uint8_t *p)
{
	return (p[0] & 0x0fu) * 4u;
}

/* Makes lengths agree and checksums right where the packet has room for
 * them, the way a sender would; with @partial the UDP checksum holds the
 * pseudo-header sum, as a sender with checksum offload leaves it. */
static void fixup(uint8_t *p, size_t len, bool partial)
{
	unsigned ihl = ihl_of(p);
	bool later, frag;

	if (len < 20 || ihl < 20 || ihl > len || len > 65535)
		return;
	fz_wr16(p + 2, (uint16_t)len);
	later = (fz_rd16(p + 6) & 0x1fff) != 0;
	frag = later || (p[6] & 0x20);
	if (p[9] == 17 && !later && len - ihl >= 8) {
		uint8_t *u = p + ihl;
		size_t ulen = len - ihl;

		if (!frag)
			fz_wr16(u + 4, (uint16_t)ulen);
		if (partial)
			fz_wr16(u + 6, fz_fold(fz_pseudo(p, fz_rd16(u + 4))));
		else if ((u[6] || u[7]) && !frag)
			fz_set_udp(p, u, ulen);
	} else if (p[9] == 1 && len - ihl >= 8) {
		uint8_t *q = p + ihl + 8;
		size_t qlen = len - ihl - 8;
		unsigned qihl = qlen >= 20 ? ihl_of(q) : 0;

		if (qihl >= 20 && qihl <= qlen) {
			/* a quoted datagram quoted whole gets its UDP
			 * checksum right too */
			if (q[9] == 17 && qlen - qihl >= 8 &&
			    fz_rd16(q + 2) == qlen &&
			    fz_rd16(q + qihl + 4) == qlen - qihl &&
			    (q[qihl + 6] || q[qihl + 7]))
				fz_set_udp(q, q + qihl, qlen - qihl);
			fz_set(q, qihl, q + 10, 0);
		}
		fz_set(p + ihl, len - ihl, p + ihl + 2, 0);
	}
	fz_set(p, ihl, p + 10, 0);
}

/* What verified in a packet, so that the same can be asked afterwards. */
struct sums {
	bool ip;
	bool udp_there;		/* a UDP header in this fragment */
	bool udp_whole;		/* ...and the whole datagram */
	bool udp_zero;
	bool udp;
	bool icmp;
	bool q_ip;
	bool q_udp_there;	/* the quoted UDP checksum field */
	bool q_udp_whole;	/* the quoted datagram is all there */
	bool q_udp_zero;
	bool q_udp;
};

static void sums_of(const uint8_t *p, const struct pkt_info *pi,
		    struct sums *s)
{
	const struct icmp_info *ic = &pi->icmp;

	memset(s, 0, sizeof(*s));
	s->ip = fz_ok(p, pi->l4off, 0);
	if (pi->proto == 17 && pi->frag != FRAG_LATER) {
		const uint8_t *u = p + pi->l4off;
		size_t ulen = (size_t)pi->len - pi->l4off;

		s->udp_there = true;
		s->udp_whole = pi->frag == FRAG_NONE;
		s->udp_zero = !u[6] && !u[7];
		/* zero is "no checksum", even where it would verify */
		s->udp = s->udp_whole && !s->udp_zero &&
			 fz_ok(u, ulen, fz_pseudo(p, ulen));
	}
	if (pi->kind != PKT_ICMP_ERR)
		return;
	s->icmp = fz_ok(p + pi->l4off, (size_t)pi->len - pi->l4off, 0);
	s->q_ip = fz_ok(p + ic->in_off, (size_t)(ic->in_l4off - ic->in_off),
			0);
	if (ic->in_ports) {
		const uint8_t *q = p + ic->in_off, *u = p + ic->in_l4off;
		size_t ulen = (size_t)(ic->in_end - ic->in_l4off);

		s->q_udp_there = true;
		s->q_udp_zero = !u[6] && !u[7];
		s->q_udp_whole = fz_rd16(q + 2) == ic->in_end - ic->in_off &&
				 fz_rd16(u + 4) == ulen;
		s->q_udp = s->q_udp_whole && !s->q_udp_zero &&
			   fz_ok(u, ulen, fz_pseudo(q, ulen));
	}
}

/* Marks the @n bytes at @off as ones the rewrite may change. */
static void allow(bool *may, size_t len, size_t off, size_t n)
{
	size_t i;

	for (i = off; i < off + n && i < len; i++)
		may[i] = true;
}

/*
 * Checks the rewritten packet @p against the original @o (both @pi's
 * length, @pi as parsed before the rewrite).  @partial: the L4 checksum
 * was flagged partial; @any_port: a port was
 * set to anything the input asked for, which may make the packet another
 * kind, or none espmasq takes.
 */
static void check_rewritten(const uint8_t *o, const uint8_t *p,
			    const struct pkt_info *pi, bool partial,
			    bool any_port)
{
	static bool may[65536];
	const struct icmp_info *ic = &pi->icmp;
	struct pkt_info after;
	struct sums b, a;
	size_t len = pi->len, i;

	if (!any_port) {
		check(pkt_parse(p, len, &after) == PKT_OK);
		check(after.kind == pi->kind && after.len == pi->len &&
		      after.l4off == pi->l4off && after.proto == pi->proto &&
		      after.frag == pi->frag);
	}

	memset(may, 0, len);
	allow(may, len, 10, 10);		/* checksum, addresses */
	if (pi->proto == 17 && pi->frag != FRAG_LATER) {
		allow(may, len, pi->l4off, 4);	/* ports */
		allow(may, len, pi->l4off + 6, 2);
	}
	if (pi->kind == PKT_ICMP_ERR) {
		allow(may, len, pi->l4off + 2, 2);
		allow(may, len, ic->in_off + 10, 10);
		if (ic->in_ports) {
			allow(may, len, ic->in_l4off, 4);
			allow(may, len, ic->in_l4off + 6, 2);
		}
	}
	for (i = 0; i < len; i++)
		check(may[i] || o[i] == p[i]);

	sums_of(o, pi, &b);
	sums_of(p, pi, &a);	/* same offsets: no length changed */
	check(!b.ip || a.ip);
	if (b.udp_there && b.udp_zero && !(partial && b.udp_whole))
		check(a.udp_zero);
	if (b.udp_there && !b.udp_zero)
		check(!a.udp_zero);
	if (partial && b.udp_whole && memcmp(o, p, len))
		check(a.udp);
	else
		check(!b.udp || a.udp);
	check(!b.icmp || a.icmp);
	check(!b.q_ip || a.q_ip);
	if (b.q_udp_there)
		check(b.q_udp_zero == a.q_udp_zero);
	check(!b.q_udp || a.q_udp);
}

/*
 * The one session that owns the SPI of inbound packet @pi in its alias
 * and server's group, or SESSION_NONE: a packet for one client must never
 * reach another.  Not asked when natt-ports gives each client a port of
 * its own, since the port then decides, whatever the SPI.
 */
static session_id spi_owner(const struct setup *s, const struct pkt_info *pi)
{
	uint32_t alias = ntohl(pi->daddr), server = ntohl(pi->saddr);
	unsigned owners;

	if (!alias_pool_has(s->pool, alias) ||
	    (s->cfg.natt_lo && pi->proto == 17 && pi->sport == 4500))
		return SESSION_NONE;
	switch (pi->kind) {
	case PKT_ESP:
	case PKT_ESP_UDP:
		return session_by_spi(s->t, alias, server, SA_ESP_IN, pi->spi,
				      &owners);
	case PKT_IKE:
	case PKT_NATT_IKE:
		return session_by_spi(s->t, alias, server, SA_IKE,
				      pi->ike.ispi, &owners);
	default:
		return SESSION_NONE;
	}
}

static void run_xlate(struct setup *s, uint8_t *p, struct pkt_info *pi,
		      bool partial, uint32_t now, uint32_t now_ms, bool fast,
		      bool hinted, bool offload)
{
	struct session_pf h = { 0 };
	static uint8_t orig[MAX_PKT];
	struct pkt_info before = *pi;
	struct xlate_out out = { .offload = false };
	enum xlate_result r = XL_MAX;
	session_id owner;
	uint8_t kind;
	uint32_t a;

	memcpy(orig, p, pi->len);
	owner = spi_owner(s, pi);
	s->x.offload = offload;
	if (fast) {
		if (hinted) {
			uint8_t *bp = p;
			uint32_t l = pi->len;

			check(xlate_prefetch(&s->x, &bp, &l, 1, &h));
			/* the prefetch only reads */
			check(!memcmp(orig, p, before.len));
		}
		r = xlate_esp_fast(&s->x, p, pi->len, partial, now, &out,
				   &kind, hinted ? &h : NULL);
		if (r == XL_MAX) {
			check(!memcmp(orig, p, before.len));
			/* looked up and not found: the full path must not
			 * need to again */
			pi->esp_missed = kind != PKT_KIND_MAX;
		} else {
			check(kind == before.kind);
			check(kind == PKT_ESP || kind == PKT_ESP_UDP);
			/* what the full path keeps in @pi */
			check(pkt_parse(p, before.len, pi) == PKT_OK);
		}
	}
	if (r == XL_MAX)
		r = xlate_packet(&s->x, p, pi, partial, now, now_ms, &out);
	if (r == XL_IN && owner != SESSION_NONE)
		check(out.client == session_client(s->t, owner));
	check((unsigned)r < XL_MAX);
	/* only a translated ESP packet, of an SA the table keeps, or an
	 * IKEv2 INFORMATIONAL message of an established IKE SA, whole and
	 * without IP options, on the server's IKE port, is handed to the
	 * kernel, and only when asked */
	if (out.offload && out.offload_ike) {
		check(offload);
		check(r == XL_IN || r == XL_OUT);
		check(before.kind == PKT_IKE || before.kind == PKT_NATT_IKE);
		check(before.ike.version == 2 &&
		      before.ike.exchange == IKE2_EXCH_INFORMATIONAL &&
		      before.ike.rspi != 0);
		check(before.frag == FRAG_NONE && before.l4off == 20);
		check(out.offload_spi == before.ike.ispi);
		check(out.offload_udp == (before.kind == PKT_NATT_IKE));
		check((r == XL_IN ? before.sport : before.dport) ==
		      (out.offload_udp ? NATT_PORT : IKE_PORT));
	} else if (out.offload) {
		check(offload);
		check(r == XL_IN || r == XL_OUT);
		check(before.kind == PKT_ESP || before.kind == PKT_ESP_UDP);
		check(out.offload_spi == before.spi);
		check(out.offload_udp == (before.kind == PKT_ESP_UDP));
	}
	if (trace)
		fprintf(stderr, "t=%u %s: %s\n", now,
			pkt_kind_name((enum pkt_kind)before.kind),
			xlate_result_name(r));
	if (r != XL_OUT && r != XL_IN) {
		check(!memcmp(orig, p, before.len));
		return;
	}
	check_rewritten(orig, p, &before, partial, false);
	check(alias_pool_has(s->pool, out.alias));
	if (before.kind == PKT_ICMP_ERR && r == XL_IN) {
		/* to the client, quoting what the client sent */
		memcpy(&a, p + 16, 4);
		check(ntohl(a) == out.client);
		memcpy(&a, p + before.icmp.in_off + 12, 4);
		check(ntohl(a) == out.client);
	} else if (before.kind == PKT_ICMP_ERR) {
		/* quoting the alias; from it if the client sent it */
		memcpy(&a, p + before.icmp.in_off + 16, 4);
		check(ntohl(a) == out.alias);
		memcpy(&a, p + 12, 4);
		check(before.saddr != before.icmp.in_daddr ||
		      ntohl(a) == out.alias);
	} else {
		memcpy(&a, p + (r == XL_IN ? 16 : 12), 4);
		check(ntohl(a) == (r == XL_IN ? out.client : out.alias));
	}
	/* it went by the session it was reported to belong to */
	{
		session_id id = session_lookup_out(s->t, out.client,
						   out.server);

		check(id != SESSION_NONE);
		check(session_alias(s->t, id) == out.alias);
	}
	/* the parse info follows the rewrite */
	memcpy(&a, p + 12, 4);
	check(a == pi->saddr);
	memcpy(&a, p + 16, 4);
	check(a == pi->daddr);
}

static void run_direct(uint8_t *p, struct pkt_info *pi, bool partial,
		       uint8_t op, uint32_t addr, uint16_t port)
{
	static uint8_t orig[MAX_PKT];
	struct pkt_info before = *pi;
	bool dst = op & 0x80, icmp = pi->kind == PKT_ICMP_ERR;

	memcpy(orig, p, pi->len);
	switch ((op & 0x7f) % 5) {
	case 0:
		pkt_rewrite_addr(p, pi, dst, addr, partial);
		break;
	case 1:
		pkt_rewrite_port(p, pi, dst, port, partial);
		break;
	case 2:
		if (!icmp)
			return;
		pkt_rewrite_icmp(p, pi, dst, addr);
		break;
	case 3:
		if (!icmp)
			return;
		pkt_rewrite_icmp_quote(p, pi, dst, addr);
		break;
	default:
		if (!icmp)
			return;
		pkt_rewrite_icmp_qport(p, pi, !dst, port);
		check_rewritten(orig, p, &before, false, false);
		return;
	}
	/* the addresses are meant as written, pkt_info following them */
	check_rewritten(orig, p, &before, partial, (op & 0x7f) % 5 == 1);
	check(!memcmp(&pi->saddr, p + 12, 4) && !memcmp(&pi->daddr, p + 16, 4));
}

static void check_table(const struct setup *s)
{
	struct session_counters c;
	struct session_view *sv;
	struct sa_view *av;
	size_t nsv, nav, i, j;
	session_id first;

	session_counters(s->t, &c);
	check(!session_snapshot(s->t, &sv, &nsv, &av, &nav));
	check(nsv == c.active && nav == c.sa_active);
	for (i = 0; i < nsv; i++) {
		const struct session_view *v = &sv[i];

		check(session_lookup_out(s->t, v->client, v->server) == v->id);
		check(session_alias(s->t, v->id) == v->alias);
		check(session_client(s->t, v->id) == v->client);
		check(config_is_inside(&s->cfg, v->client));
		check(alias_pool_has(s->pool, v->alias));
		check(v->first_sa + v->n_sa <= nav);
		for (j = 0; j < i; j++) {
			const struct session_view *o = &sv[j];

			if (o->alias != v->alias || o->server != v->server)
				continue;
			check(s->cfg.alias_clients != 1);
			if (s->cfg.alias_clients)
				check(session_group(s->t, v->alias, v->server,
						    &first) <=
				      s->cfg.alias_clients);
			check(!v->natt_xport || o->natt_xport != v->natt_xport);
		}
	}
	free(sv);
	free(av);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t pkt[MAX_PKT];
	struct setup *s;
	uint32_t now = T0, now_ms = T0 * 1000u;
	size_t off = 1;

	if (!size)
		return 0;
	s = &setups[data[0] % 3];
	session_flush(s->t);
	while (off + REC_HDR <= size) {
		const uint8_t *h = data + off;
		uint8_t flags = h[0], op = h[1], step = flags >> 3;
		bool partial = flags & 1;
		uint32_t addr;
		uint16_t port = fz_rd16(h + 6);
		size_t len = fz_rd16(h + 8);
		struct pkt_info pi;
		enum pkt_err err;

		memcpy(&addr, h + 2, 4);
		off += REC_HDR;
		if (len > size - off)
			len = size - off;
		if (len > MAX_PKT)
			len = MAX_PKT;
		memcpy(pkt, data + off, len);
		off += len;

		now += step == 31 ? 3600 : step;
		now_ms = now * 1000u + (uint32_t)(step & 7) * 100u;
		session_expire(s->t, now);
		if (flags & 2)
			fixup(pkt, len, partial);
		err = pkt_parse(pkt, len, &pi);
		if (err) {
			static uint8_t orig[MAX_PKT];
			struct xlate_out out;
			struct session_pf pf = { 0 };
			uint8_t *bp = pkt;
			uint32_t l = (uint32_t)len;
			uint8_t kind;

			memcpy(orig, pkt, len);
			check(xlate_prefetch(&s->x, &bp, &l, 1, &pf));
			check(!memcmp(orig, pkt, len));
			check(xlate_esp_fast(&s->x, pkt, (uint32_t)len, partial,
					     now, &out, &kind,
					     (op & 0x20) ? &pf : NULL) ==
			      XL_MAX);
			check(!memcmp(orig, pkt, len));
			if (trace)
				fprintf(stderr, "t=%u %s\n", now,
					pkt_err_name(err));
			continue;
		}
		if (flags & 4)
			run_direct(pkt, &pi, partial, op, addr, port);
		else
			run_xlate(s, pkt, &pi, partial, now, now_ms,
				  op & 0x40, op & 0x20, op & 0x80);
	}
	check_table(s);
	return 0;
}
