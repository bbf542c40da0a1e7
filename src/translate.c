/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <arpa/inet.h>
#include <string.h>

#include "csum.h"
#include "translate.h"

static unsigned users(void *ctx, uint32_t alias, uint32_t server)
{
	session_id first;

	return session_group(ctx, alias, server, &first);
}

static uint32_t kind_timeout(const struct config *c, const struct pkt_info *pi)
{
	switch (pi->kind) {
	case PKT_IKE:
	case PKT_NATT_IKE:
		return c->timeout_ike;
	case PKT_ESP:
		return c->timeout_esp;
	case PKT_ESP_UDP:
	case PKT_NATT_KEEPALIVE:
		return c->timeout_natt;
	default:
		return pi->proto == IPPROTO_ESP_ ? c->timeout_esp :
		       pi->sport == NATT_PORT || pi->dport == NATT_PORT ?
		       c->timeout_natt : c->timeout_ike;
	}
}

static void track_sa(const struct xlate_ctx *x, session_id s, uint32_t server,
		     const struct pkt_info *pi, bool inbound, bool own_port,
		     uint32_t now, uint32_t now_ms, struct xlate_out *out)
{
	const struct config *c = x->cfg;
	int created;

	switch (pi->kind) {
	case PKT_IKE:
	case PKT_NATT_IKE:
		/* the client speaks first on an established IKE SA new to
		 * the table (one it rekeyed): nothing to wait for */
		created = session_sa_touch(x->table, s, server, SA_IKE,
					   pi->ike.ispi, pi->ike.rspi,
					   pi->ike.version, pi->ike.exchange,
					   pi->kind == PKT_NATT_IKE ?
					   SA_F_NATT : 0, pi->len, now,
					   c->timeout_ike);
		if (created == 1) {
			out->sa_new = true;
			out->sa_kind = SA_IKE;
			out->sa_spi = pi->ike.ispi;
		}
		if (created == 1 && !inbound && pi->ike.rspi &&
		    pi->ike.version == 2)
			session_ike_learned(x->table, s,
					    !(pi->ike.flags &
					      IKE2_FLAG_INITIATOR));
		break;
	case PKT_ESP:
	case PKT_ESP_UDP:
		/* a new SA in use outbound: its inbound SPI is still to
		 * learn (on a NAT-T port of its own, it is its own) */
		created = session_sa_touch(x->table, s, server,
					   inbound ? SA_ESP_IN : SA_ESP_OUT,
					   pi->spi, 0, 0, 0,
					   pi->kind == PKT_ESP_UDP ?
					   SA_F_NATT : 0, pi->len, now,
					   pi->kind == PKT_ESP ?
					   c->timeout_esp : c->timeout_natt);
		if (created == 1) {
			out->sa_new = true;
			out->sa_kind = inbound ? SA_ESP_IN : SA_ESP_OUT;
			out->sa_spi = pi->spi;
		}
		if (created == 1 && !inbound && !own_port)
			session_spi_wait(x->table, s, now_ms, c->gate_hold_ms,
					 now + c->timeout_pending);
		break;
	default:
		break;
	}
}

/* Whether the quoted packet is IKE, NAT-T or ESP (a quoted later fragment
 * is judged by its addresses alone). */
static bool quotes_ipsec(const struct icmp_info *ic)
{
	if (ic->in_proto == IPPROTO_ESP_)
		return true;
	if (ic->in_proto != 17)
		return false;
	if (ic->in_later)
		return true;
	return ic->in_ports &&
	       (ic->in_sport == IKE_PORT || ic->in_sport == NATT_PORT ||
		ic->in_dport == IKE_PORT || ic->in_dport == NATT_PORT);
}

/* Whether the ICMP error quotes a NAT-T packet whose alias-side port
 * espmasq may have changed: to the server (@to_client false) from the
 * alias, or from the server to the client (@to_client true). */
static bool quotes_natt(const struct config *c, const struct icmp_info *ic,
			bool to_client)
{
	return c->natt_lo && ic->in_proto == 17 && ic->in_ports &&
	       (to_client ? ic->in_sport : ic->in_dport) == NATT_PORT;
}

static enum xlate_result xlate_icmp(const struct xlate_ctx *x, uint8_t *buf,
				    struct pkt_info *pi, struct xlate_out *out)
{
	const struct icmp_info *ic = &pi->icmp;
	uint32_t src = ntohl(pi->saddr), dst = ntohl(pi->daddr);
	uint32_t qsrc = ntohl(ic->in_saddr), qdst = ntohl(ic->in_daddr);
	session_id s;
	uint16_t cport, xport;
	bool shared;

	if (alias_pool_has(x->pool, dst)) {
		/* about a packet the alias sent to a server */
		out->alias = dst;
		out->server = qdst;
		out->client = 0;
		if (qsrc != dst || !quotes_ipsec(ic))
			return XL_PASS;
		if (quotes_natt(x->cfg, ic, false) &&
		    (s = session_by_natt_port(x->table, dst, qdst,
					      ic->in_sport, &cport)) !=
		    SESSION_NONE) {
			/* its own NAT-T port says whose packet it was */
			shared = false;
		} else {
			s = session_lookup_in(x->table, dst, qdst, &shared);
			cport = 0;
		}
		if (s == SESSION_NONE)
			return XL_DROP_UNKNOWN;
		if (shared) {
			/* shared: the quoted SPI says whose packet it was */
			unsigned owners = 0;

			s = SESSION_NONE;
			if (ic->in_has_spi)
				s = session_by_spi(x->table, dst, qdst,
						   SA_ESP_OUT, ic->in_spi,
						   &owners);
			else if (ic->in_has_ispi)
				s = session_by_spi(x->table, dst, qdst, SA_IKE,
						   ic->in_ispi, &owners);
			if (s == SESSION_NONE)
				return owners ? XL_DROP_AMBIGUOUS :
				       XL_DROP_UNKNOWN;
		}
		out->client = session_client(x->table, s);
		session_mark(x->table, s, &out->mark_value, &out->mark_mask);
		if (cport)
			pkt_rewrite_icmp_qport(buf, pi, true, cport);
		pkt_rewrite_icmp(buf, pi, true, htonl(out->client));
		return XL_IN;
	}
	/* to a server, about a packet it sent a client: from the client
	 * itself, or from a router that could not deliver it (this one) */
	if (!config_is_server(x->cfg, dst))
		return XL_DROP_NOT_OURS;
	out->client = qdst;
	out->server = dst;
	out->alias = 0;
	if (qsrc != dst || !config_is_inside(x->cfg, qdst) || !quotes_ipsec(ic))
		return XL_PASS;
	if (config_is_inside(x->cfg, src) && src != qdst)
		return XL_DROP_NOT_OURS;	/* about another client's flow */
	s = session_lookup_out(x->table, qdst, dst);
	if (s == SESSION_NONE)
		return XL_DROP_UNKNOWN;	/* would show an inside address */
	out->alias = session_alias(x->table, s);
	session_mark(x->table, s, &out->mark_value, &out->mark_mask);
	if (quotes_natt(x->cfg, ic, true)) {
		xport = session_natt_xport(x->table, s, &cport);
		if (xport && cport == ic->in_dport)
			pkt_rewrite_icmp_qport(buf, pi, false, xport);
	}
	if (src == qdst)
		pkt_rewrite_icmp(buf, pi, false, htonl(out->alias));
	else
		pkt_rewrite_icmp_quote(buf, pi, false, htonl(out->alias));
	return XL_OUT;
}

static uint16_t ip_id(const uint8_t *buf)
{
	return (uint16_t)(buf[4] << 8 | buf[5]);
}

/* A NAT-T packet with its UDP header, @port being the server's side. */
static bool natt_flow(const struct pkt_info *pi, uint16_t port)
{
	return pi->proto == 17 && pi->frag != FRAG_LATER && port == NATT_PORT;
}

/* Session @s gets an ESP packet that is surely its own: an inbound SPI
 * nobody in the group has yet ends its wait for one. */
static void own_spi(const struct xlate_ctx *x, session_id s, uint32_t alias,
		    uint32_t server, const struct pkt_info *pi, uint32_t now_ms)
{
	unsigned owners;

	if ((pi->kind == PKT_ESP || pi->kind == PKT_ESP_UDP) &&
	    (session_flags(x->table, s) & SESSION_F_SPI_WAIT) &&
	    session_by_spi(x->table, alias, server, SA_ESP_IN, pi->spi,
			   &owners) == SESSION_NONE)
		session_spi_learned(x->table, s, now_ms);
}

/*
 * An IKE request that may create CHILD SAs, whose inbound SPIs espmasq
 * cannot read (they travel encrypted): IKEv2 IKE_AUTH and CREATE_CHILD_SA,
 * IKEv1 Quick Mode.
 */
static bool negotiates(const struct pkt_info *pi)
{
	if (pi->kind != PKT_IKE && pi->kind != PKT_NATT_IKE)
		return false;
	if (pi->ike.version == 2)
		return (pi->ike.exchange == IKE2_EXCH_IKE_AUTH ||
			pi->ike.exchange == IKE2_EXCH_CREATE_CHILD_SA) &&
		       !(pi->ike.flags & IKE2_FLAG_RESPONSE);
	return pi->ike.exchange == IKE1_EXCH_QUICK_MODE;
}

/*
 * The first outbound packet of a new ESP SA of a client that shares its
 * alias, and not one that pairs with an inbound SPI already learned.
 */
static bool first_use(const struct xlate_ctx *x, session_id s, uint32_t alias,
		      uint32_t server, const struct pkt_info *pi)
{
	unsigned owners;

	return (pi->kind == PKT_ESP || pi->kind == PKT_ESP_UDP) &&
	       (session_flags(x->table, s) &
		(SESSION_F_SHARED | SESSION_F_IN_FRESH)) == SESSION_F_SHARED &&
	       session_by_spi(x->table, alias, server, SA_ESP_OUT, pi->spi,
			      &owners) == SESSION_NONE && !owners;
}

/*
 * Gate of session @s's group for a negotiation: taken if free, kept if
 * @s holds it.  Returns false when another client holds it: the packet
 * waits (the worker holds it and asks again; counted there, once).
 */
static bool gate_pass(const struct xlate_ctx *x, session_id s,
		      uint32_t alias, uint32_t server, uint32_t now,
		      uint32_t now_ms)
{
	session_id h = session_gate_holder(x->table, alias, server, now_ms);

	if (h == s)
		return true;
	if (h != SESSION_NONE)
		return false;
	session_gate_take(x->table, s, now_ms, x->cfg->gate_hold_ms,
			  now + x->cfg->timeout_pending);
	return true;
}

/* A negotiation through the gate.  An IKEv2 CREATE_CHILD_SA may rekey the
 * IKE SA: until a new inbound SPI shows it made a CHILD SA, or the client
 * speaks on a new IKE SA, the session may own a new IKE SA. */
static bool negotiation_pass(const struct xlate_ctx *x, session_id s,
			     uint32_t alias, uint32_t server,
			     const struct pkt_info *pi, bool inbound,
			     uint32_t now, uint32_t now_ms)
{
	if (!gate_pass(x, s, alias, server, now, now_ms))
		return false;
	if (pi->ike.version == 2 &&
	    pi->ike.exchange == IKE2_EXCH_CREATE_CHILD_SA)
		session_ccsa(x->table, s, inbound,
			     (uint32_t)(pi->ike.ispi ^ pi->ike.ispi >> 32) ^
			     pi->ike.msgid,
			     now + x->cfg->timeout_ike);
	return true;
}

/*
 * Which client of a shared (alias, server) an inbound packet is for: the
 * owner of its SPI; for an ESP SPI nobody owns yet, the one client that
 * waits for one; for an IKE SA nobody owns yet, the client holding the
 * gate.  Anything else is refused (XL_DROP_AMBIGUOUS or XL_DROP_UNKNOWN,
 * in *@r): never delivered on a guess.
 */
static session_id demux(const struct xlate_ctx *x, const struct pkt_info *pi,
			uint32_t alias, uint32_t server, uint32_t now,
			uint32_t now_ms, struct xlate_out *out,
			enum xlate_result *r)
{
	struct session_table *t = x->table;
	unsigned owners, n;
	bool by_server;
	session_id s;

	*r = XL_DROP_AMBIGUOUS;
	switch (pi->kind) {
	case PKT_IKE:
	case PKT_NATT_IKE:
		s = session_by_spi(t, alias, server, SA_IKE, pi->ike.ispi,
				   &owners);
		if (s != SESSION_NONE || owners)
			return s;
		/* a new IKE SA the server opens (no responder SPI yet)
		 * could be anyone's */
		if (!pi->ike.rspi)
			return SESSION_NONE;
		/* an established IKE SA the server speaks first on: made
		 * by a CREATE_CHILD_SA exchange that made no CHILD SA,
		 * started by the side its initiator flag names */
		if (pi->ike.version != 2) {
			*r = XL_DROP_UNKNOWN;
			return SESSION_NONE;
		}
		by_server = pi->ike.flags & IKE2_FLAG_INITIATOR;
		s = session_ike_waiter(t, alias, server, by_server, now, &n);
		if (s == SESSION_NONE) {
			*r = n ? XL_DROP_AMBIGUOUS : XL_DROP_UNKNOWN;
			return SESSION_NONE;
		}
		/* counted once it passes the gate (it may wait there, and
		 * be asked about again) */
		out->ike_learned = true;
		return s;
	case PKT_ESP:
	case PKT_ESP_UDP:
		s = session_by_spi(t, alias, server, SA_ESP_IN, pi->spi,
				   &owners);
		if (s != SESSION_NONE || owners) {
			if (owners > 1)
				session_count_event(t,
						    SESSION_EV_SPI_AMBIGUOUS);
			return s;
		}
		session_gate_holder(t, alias, server, now_ms);	/* expiry */
		s = session_spi_waiter(t, alias, server, now, &n);
		if (s == SESSION_NONE) {
			session_count_event(t, n ? SESSION_EV_SPI_AMBIGUOUS :
					       SESSION_EV_SPI_UNKNOWN);
			*r = n ? XL_DROP_AMBIGUOUS : XL_DROP_UNKNOWN;
			return SESSION_NONE;
		}
		session_spi_learned(t, s, now_ms);
		session_count_event(t, SESSION_EV_SPI_ASSIGNED);
		out->spi_learned = true;
		return s;
	default:
		/* keepalives and later fragments name no SA */
		return SESSION_NONE;
	}
}

/*
 * The lookup of an ESP packet (@spi, in UDP when @udp) from @src to @dst
 * (host order) of an SA the table knows, of a session alone on its alias:
 * XL_IN or XL_OUT, the session touched and @out's addresses and mark set,
 * or XL_MAX (nothing changed).
 */
static inline __attribute__((always_inline)) enum xlate_result
esp_lookup_as(const struct xlate_ctx *x, uint32_t src, uint32_t dst,
	      uint32_t spi, bool udp, bool in, session_sa_hint hint,
	      uint32_t len, uint32_t now, struct xlate_out *out, bool offload)
{
	const struct config *c = x->cfg;
	struct session_hit hit;
	uint8_t flags = udp ? SA_F_NATT : 0;

	if (!in && (!config_is_inside(c, src) || !config_is_server(c, dst)))
		return XL_MAX;
	/* the kernel rewrites addresses, not ports */
	if (offload && (!udp || !c->natt_lo))
		flags |= SESSION_ESP_CLAIM;
	if (session_esp_known(x->table, hint, in ? src : dst,
			      in ? SA_ESP_IN : SA_ESP_OUT, spi, in ? dst : src,
			      flags, len, now,
			      udp ? c->timeout_natt : c->timeout_esp,
			      c->timeout_pending, &hit) == SESSION_NONE)
		return XL_MAX;
	if (flags & SESSION_ESP_CLAIM) {
		out->offload = hit.offload_new;
		out->offload_udp = udp;
		out->offload_ike = false;
		out->offload_spi = spi;
	}
	out->client = in ? hit.peer : src;
	out->alias = in ? dst : hit.peer;
	out->server = in ? src : dst;
	out->mark_value = hit.mark_value;
	out->mark_mask = hit.mark_mask;
	return in ? XL_IN : XL_OUT;
}

/* Two copies, so that without offload the packet pays for one test. */
static inline __attribute__((always_inline)) enum xlate_result
esp_lookup(const struct xlate_ctx *x, uint32_t src, uint32_t dst, uint32_t spi,
	   bool udp, bool in, session_sa_hint hint, uint32_t len, uint32_t now,
	   struct xlate_out *out)
{
	if (x->offload)
		return esp_lookup_as(x, src, dst, spi, udp, in, hint, len, now,
				     out, true);
	return esp_lookup_as(x, src, dst, spi, udp, in, hint, len, now, out,
			     false);
}

/*
 * An ESP packet, raw or in UDP with the ports kept, of an SA the table
 * knows, of a session alone on its alias: the common case, done with one
 * lookup.  It does what the full path would with such a packet.  Returns
 * XL_MAX when the packet needs the full path.
 */
static enum xlate_result xlate_esp_known(const struct xlate_ctx *x,
					 uint8_t *buf, struct pkt_info *pi,
					 bool l4_partial, uint32_t now,
					 struct xlate_out *out)
{
	uint32_t dst = ntohl(pi->daddr);
	enum xlate_result r = esp_lookup(x, ntohl(pi->saddr), dst, pi->spi,
					 pi->kind == PKT_ESP_UDP,
					 alias_pool_has(x->pool, dst), 0,
					 pi->len, now, out);

	if (r != XL_MAX)
		pkt_rewrite_addr(buf, pi, r == XL_IN,
				 htonl(r == XL_IN ? out->client : out->alias),
				 l4_partial);
	return r;
}

/*
 * Offload on: an INFORMATIONAL exchange (liveness checks, deletes) of an
 * established IKEv2 SA of session @s, alone on its alias, with the ports
 * kept, on the server's port 500 or 4500, claims that SA's flow in this
 * direction for the kernel, once (from a whole packet without IP options,
 * as the ESP fast path; the kernel then takes the flow's every shape but
 * fragments).  Every exchange that sets up SAs still
 * comes here: the kernel carries only INFORMATIONAL ones.  Called only
 * with x->offload.
 */
static void ike_claim(const struct xlate_ctx *x, session_id s,
		      uint32_t server, const struct pkt_info *pi, bool inbound,
		      struct xlate_out *out)
{
	bool natt = pi->kind == PKT_NATT_IKE;
	uint16_t port = inbound ? pi->sport : pi->dport;

	if ((pi->kind != PKT_IKE && !natt) ||
	    (natt && x->cfg->natt_lo) || port != (natt ? NATT_PORT : IKE_PORT) ||
	    pi->ike.version != 2 || pi->ike.exchange != IKE2_EXCH_INFORMATIONAL ||
	    !pi->ike.rspi || pi->frag != FRAG_NONE || pi->l4off != 20 ||
	    (session_flags(x->table, s) & SESSION_F_SHARED))
		return;
	if (session_ike_claim(x->table, s, server, pi->ike.ispi,
			      sa_ike_off_flag(inbound, natt)) != 1)
		return;
	out->offload = true;
	out->offload_udp = natt;
	out->offload_ike = true;
	out->offload_spi = pi->ike.ispi;
}

static enum xlate_result xlate_one(const struct xlate_ctx *x, uint8_t *buf,
				   struct pkt_info *pi, bool l4_partial,
				   uint32_t now, uint32_t now_ms,
				   struct xlate_out *out)
{
	const struct config *c = x->cfg;
	uint32_t src = ntohl(pi->saddr), dst = ntohl(pi->daddr);
	uint16_t xport = 0;
	session_id s;

	out->created = false;
	out->spi_learned = false;
	out->ike_learned = false;
	out->sa_new = false;
	out->offload = false;
	out->mark_mask = 0;
	if (pi->kind == PKT_ICMP_ERR)
		return xlate_icmp(x, buf, pi, out);
	if ((pi->kind == PKT_ESP || (pi->kind == PKT_ESP_UDP && !c->natt_lo)) &&
	    pi->frag == FRAG_NONE && !pi->esp_missed) {
		enum xlate_result r = xlate_esp_known(x, buf, pi, l4_partial,
						      now, out);

		if (r != XL_MAX)
			return r;
	}
	if (alias_pool_has(x->pool, dst)) {
		enum xlate_result r;
		uint16_t cport = 0;
		bool shared, own_port = false;

		out->alias = dst;
		out->server = src;
		out->client = 0;
		s = SESSION_NONE;
		if (c->natt_lo && natt_flow(pi, pi->sport)) {
			/* every NAT-T flow shows the server a port of its
			 * own: one nobody shows is nobody's */
			s = session_by_natt_port(x->table, dst, src, pi->dport,
						 &cport);
			if (s == SESSION_NONE)
				return XL_DROP_UNKNOWN;
		}
		if (s != SESSION_NONE) {
			/* a NAT-T port of one client's own: it is that
			 * client's, SPIs new or not */
			own_port = true;
			own_spi(x, s, dst, src, pi, now_ms);
		} else {
			s = session_lookup_in(x->table, dst, src, &shared);
			if (s == SESSION_NONE)
				return XL_DROP_UNKNOWN;
			if (shared && pi->frag == FRAG_LATER) {
				/* it follows its first fragment */
				s = session_frag_owner(x->table, dst, src,
						       ip_id(buf), pi->proto,
						       now);
				if (s == SESSION_NONE)
					return XL_DROP_AMBIGUOUS;
			} else if (shared) {
				s = demux(x, pi, dst, src, now, now_ms, out,
					  &r);
				if (s == SESSION_NONE)
					return r;
			} else {
				/* alone on the alias: a new inbound SPI is
				 * its own */
				own_spi(x, s, dst, src, pi, now_ms);
			}
		}
		out->client = session_client(x->table, s);
		if (negotiates(pi) && !(own_port && pi->kind == PKT_NATT_IKE) &&
		    !negotiation_pass(x, s, dst, src, pi, true, now, now_ms))
			return XL_DROP_GATE;
		if (out->ike_learned) {
			session_ike_learned(x->table, s, pi->ike.flags &
					    IKE2_FLAG_INITIATOR);
			session_count_event(x->table, SESSION_EV_IKE_ASSIGNED);
		}
		session_touch(x->table, s, true, pi->len, now,
			      kind_timeout(c, pi), c->timeout_pending);
		track_sa(x, s, src, pi, true, own_port, now, now_ms, out);
		if (x->offload && !own_port)
			ike_claim(x, s, src, pi, true, out);
		session_mark(x->table, s, &out->mark_value, &out->mark_mask);
		if (pi->frag == FRAG_FIRST)
			session_frag_note(x->table, s, ip_id(buf), pi->proto,
					  now);
		if (own_port)
			pkt_rewrite_port(buf, pi, true, cport, l4_partial);
		pkt_rewrite_addr(buf, pi, true, htonl(out->client), l4_partial);
		return XL_IN;
	}
	if (!config_is_inside(c, src) || !config_is_server(c, dst))
		return XL_DROP_NOT_OURS;

	out->client = src;
	out->server = dst;
	s = session_lookup_out(x->table, src, dst);
	if (s == SESSION_NONE && session_client_full(x->table, src))
		return XL_DROP_CLIENT_LIMIT;
	if (s == SESSION_NONE) {
		bool pinned, shared;
		uint32_t alias = alias_pick(x->pool, src, dst, users,
					    x->table, c->alias_clients,
					    &pinned, &shared);
		struct mark m;

		out->alias = alias;
		if (!alias)
			return XL_DROP_NO_ALIAS;
		m = config_mark_for(c, src, dst, alias);
		s = session_add(x->table, src, dst, alias,
				pinned ? SESSION_F_PINNED : 0,
				m.set ? m.value : 0, m.set ? m.mask : 0, now,
				c->timeout_pending);
		if (s == SESSION_NONE)
			return XL_DROP_FULL;
		out->created = true;
	}
	out->alias = session_alias(x->table, s);
	if (c->natt_lo && natt_flow(pi, pi->dport)) {
		xport = session_natt_port(x->table, s, pi->sport, c->natt_lo,
					  c->natt_hi);
		if (!xport)
			return XL_DROP_NO_PORT;
	}
	/* a negotiation over a NAT-T port of the client's own needs no
	 * gate: what it sets up comes back to that port */
	if (negotiates(pi) && !(xport && pi->kind == PKT_NATT_IKE) &&
	    !negotiation_pass(x, s, out->alias, dst, pi, false, now,
				      now_ms))
		return XL_DROP_GATE;
	/* so does the first packet of a new SA: its sender is then the one
	 * client of the alias waiting for a new inbound SPI */
	if (!xport && first_use(x, s, out->alias, dst, pi) &&
	    !gate_pass(x, s, out->alias, dst, now, now_ms))
		return XL_DROP_GATE;
	session_touch(x->table, s, false, pi->len, now, kind_timeout(c, pi),
		      c->timeout_pending);
	track_sa(x, s, dst, pi, false, xport != 0, now, now_ms, out);
	if (x->offload && !xport)
		ike_claim(x, s, dst, pi, false, out);
	session_mark(x->table, s, &out->mark_value, &out->mark_mask);
	if (xport)
		pkt_rewrite_port(buf, pi, false, xport, l4_partial);
	pkt_rewrite_addr(buf, pi, false, htonl(out->alias), l4_partial);
	return XL_OUT;
}

/* What leaves translated carries bypass-mark, so the kernel's NAT (the
 * fallback of fail-policy bypass) leaves it alone. */
static inline enum xlate_result with_bypass_mark(const struct xlate_ctx *x,
						 enum xlate_result r,
						 struct xlate_out *out)
{
	const struct mark *bm = &x->cfg->bypass_mark;

	if (r == XL_OUT && x->cfg->fail_policy == FAIL_POLICY_BYPASS) {
		out->mark_value = (out->mark_value & ~bm->mask) | bm->value;
		out->mark_mask |= bm->mask;
	}
	return r;
}

enum xlate_result xlate_packet(const struct xlate_ctx *x, uint8_t *buf,
			       struct pkt_info *pi, bool l4_partial,
			       uint32_t now, uint32_t now_ms,
			       struct xlate_out *out)
{
	return with_bypass_mark(x, xlate_one(x, buf, pi, l4_partial, now,
					     now_ms, out), out);
}

static inline uint32_t rd32be(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static inline uint64_t rd64be(const uint8_t *p)
{
	uint64_t w;

	memcpy(&w, p, 8);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	w = __builtin_bswap64(w);
#endif
	return w;
}

static inline uint16_t rd16be(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/*
 * The packets the fast path takes, checked as pkt_parse() would check them
 * (this shape only): a whole IPv4 packet, IHL 5, the total length the
 * data's, neither MF nor an offset, of ESP or, natt-ports off, of ESP in
 * UDP to or from port 4500 with an SPI that is not a reserved one.  Sets
 * @h as xlate_prefetch() says, its SA none; h->kind is SA_KIND_MAX, and
 * h->tag PKT_KIND_MAX, for any other packet (pkt_parse() says why, if it
 * is bad).
 */
static inline __attribute__((always_inline)) void
esp_shape(const struct xlate_ctx *x, const uint8_t *buf, uint32_t len,
	  struct session_pf *h)
{
	const uint8_t *l4 = buf + 20;
	uint32_t src, dst, spi;
	uint64_t w;
	bool in;

	h->hint = 0;
	if (len < 28)
		goto other;
	/* version and IHL, the total length, the flags and offset at once:
	 * 0x45, @len, neither MF nor an offset */
	w = rd64be(buf);
	if ((w & 0xff00ffff00003fffull) != (0x45ull << 56 | (uint64_t)len << 32))
		goto other;
	if (buf[9] == IPPROTO_ESP_) {
		spi = rd32be(l4);
	} else if (buf[9] == 17 && !x->cfg->natt_lo && len >= 36 &&
		   rd16be(l4 + 4) == len - 20 &&
		   (rd16be(l4) == NATT_PORT || rd16be(l4 + 2) == NATT_PORT) &&
		   rd32be(l4 + 8) != 0) {
		spi = rd32be(l4 + 8);
	} else {
		goto other;
	}
	if (spi < 256)
		goto other;
	src = rd32be(buf + 12);
	dst = rd32be(buf + 16);
	in = alias_pool_has(x->pool, dst);
	h->tag = buf[9] == IPPROTO_ESP_ ? PKT_ESP : PKT_ESP_UDP;
	h->kind = in ? SA_ESP_IN : SA_ESP_OUT;
	h->key = (uint64_t)(in ? src : dst) << 32 | spi;
	h->local = in ? dst : src;
	return;
other:
	h->kind = SA_KIND_MAX;
	h->tag = PKT_KIND_MAX;
}

/*
 * What the full path of an IKE packet will look up, for
 * session_warm_start(): a whole or first-fragment IPv4 packet of UDP from
 * or to port 500, or 4500 with the non-ESP marker, long enough for the
 * initiator SPI.  Its session is guessed by the destination: an alias,
 * inbound.  Returns false for other packets (or a NULL one).
 */
static inline bool ike_shape(const struct xlate_ctx *x, const uint8_t *buf,
			     uint32_t len, struct session_warm *w)
{
	const uint8_t *l4, *ike;
	uint32_t src, dst, hl;
	uint16_t sp, dp;

	if (len < 28 || (buf[0] >> 4) != 4 || buf[9] != 17 ||
	    (rd16be(buf + 6) & 0x1fff))
		return false;
	hl = (buf[0] & 15) * 4u;
	if (hl < 20 || len < hl + 8 + 8)
		return false;
	l4 = buf + hl;
	sp = rd16be(l4);
	dp = rd16be(l4 + 2);
	if (sp == IKE_PORT || dp == IKE_PORT) {
		ike = l4 + 8;
	} else if (sp == NATT_PORT || dp == NATT_PORT ||
		   (x->cfg->natt_lo && dp >= x->cfg->natt_lo &&
		    dp <= x->cfg->natt_hi)) {
		if (len < hl + 8 + 12 || rd32be(l4 + 8) != 0)
			return false;
		ike = l4 + 12;
	} else {
		return false;
	}
	src = rd32be(buf + 12);
	dst = rd32be(buf + 16);
	w->in = alias_pool_has(x->pool, dst);
	w->a = w->in ? dst : src;
	w->server = w->in ? src : dst;
	w->spi = rd64be(ike);
	return true;
}

bool xlate_prefetch(const struct xlate_ctx *x, uint8_t *const *bufs,
		    const uint32_t *lens, unsigned n, struct session_pf *hints)
{
	struct session_warm w[SESSION_PF_MAX];
	unsigned at, i, m, nw;

	/* a table in the cache: each packet's own lookup costs less than
	 * handing it over */
	if (!session_prefetch_worth(x->table))
		return false;
	for (at = 0; at < n; at += m) {
		m = n - at < SESSION_PF_MAX ? n - at : SESSION_PF_MAX;
		nw = 0;
		for (i = 0; i < m; i++) {
			esp_shape(x, bufs[at + i], lens[at + i], &hints[at + i]);
			if (hints[at + i].tag == PKT_KIND_MAX &&
			    ike_shape(x, bufs[at + i], lens[at + i], &w[nw]))
				nw++;
		}
		/* the IKE packets' buckets arrive while the ESP ones are
		 * looked up */
		session_warm_start(x->table, w, nw);
		session_esp_prefetch(x->table, &hints[at], m);
		session_warm_finish(x->table, w, nw);
	}
	return true;
}

/* Sets the address at @off (12: source, 16: destination) of a whole
 * IPv4 packet without options to @addr (as stored), updating the IP
 * checksum and, for UDP, a UDP checksum that is not 0: what
 * pkt_rewrite_addr() does with such a packet and a computed checksum. */
static inline void fast_set_addr(uint8_t *buf, unsigned off, uint32_t addr,
				 bool udp)
{
	uint32_t old;
	uint16_t c;

	memcpy(&old, buf + off, 4);
	if (old == addr)
		return;
	memcpy(buf + off, &addr, 4);
	memcpy(&c, buf + 10, 2);
	c = csum_replace4(c, old, addr);
	memcpy(buf + 10, &c, 2);
	if (!udp)
		return;
	memcpy(&c, buf + 26, 2);
	if (!c)
		return;
	c = csum_replace4(c, old, addr);
	if (!c)
		c = 0xffff;
	memcpy(buf + 26, &c, 2);
}

/* xlate_esp_fast() of a packet whose shape is @h's */
static inline __attribute__((always_inline)) enum xlate_result
esp_fast(const struct xlate_ctx *x, uint8_t *buf, uint32_t len,
	 bool l4_partial, uint32_t now, struct xlate_out *out, uint8_t *kind,
	 const struct session_pf *h)
{
	enum xlate_result r;
	uint32_t peer;
	bool udp;

	/* a packet of this shape the full path would look up the same way:
	 * *@kind tells it not to again */
	*kind = h->tag;
	if (h->tag == PKT_KIND_MAX)
		return XL_MAX;
	udp = h->tag == PKT_ESP_UDP;
	r = esp_lookup(x, rd32be(buf + 12), rd32be(buf + 16),
		       (uint32_t)h->key, udp, h->kind == SA_ESP_IN, h->hint,
		       len, now, out);
	if (r == XL_MAX)
		return XL_MAX;
	out->created = false;
	out->spi_learned = false;
	out->ike_learned = false;
	out->sa_new = false;
	peer = r == XL_IN ? out->client : out->alias;
	if (udp && l4_partial) {
		/* the UDP checksum is the kernel's to finish: the general
		 * rewriter knows how */
		struct pkt_info pi;

		memcpy(&pi.saddr, buf + 12, 4);
		memcpy(&pi.daddr, buf + 16, 4);
		pi.len = (uint16_t)len;
		pi.l4off = 20;
		pi.proto = 17;
		pi.frag = FRAG_NONE;
		pkt_rewrite_addr(buf, &pi, r == XL_IN, htonl(peer), true);
	} else {
		fast_set_addr(buf, r == XL_IN ? 16 : 12, htonl(peer), udp);
	}
	return with_bypass_mark(x, r, out);
}

/* flattened: the lookup and the rewrite in one piece, without calls */
__attribute__((flatten)) enum xlate_result
xlate_esp_fast(const struct xlate_ctx *x, uint8_t *buf, uint32_t len,
	       bool l4_partial, uint32_t now, struct xlate_out *out,
	       uint8_t *kind, const struct session_pf *hint)
{
	struct session_pf own;

	if (hint)
		return esp_fast(x, buf, len, l4_partial, now, out, kind, hint);
	esp_shape(x, buf, len, &own);
	return esp_fast(x, buf, len, l4_partial, now, out, kind, &own);
}

const char *xlate_result_name(enum xlate_result r)
{
	static const char *const names[XL_MAX] = {
		[XL_OUT] = "out",
		[XL_IN] = "in",
		[XL_DROP_NOT_OURS] = "not-ours",
		[XL_DROP_NO_ALIAS] = "no-alias",
		[XL_DROP_FULL] = "table-full",
		[XL_DROP_UNKNOWN] = "unknown-inbound",
		[XL_PASS] = "pass",
		[XL_DROP_AMBIGUOUS] = "ambiguous",
		[XL_DROP_GATE] = "gate-held",
		[XL_DROP_NO_PORT] = "no-natt-port",
		[XL_DROP_CLIENT_LIMIT] = "client-limit",
	};

	return (unsigned)r < XL_MAX ? names[r] : "?";
}
