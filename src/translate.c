/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <arpa/inet.h>

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

static void track_sa(const struct xlate_ctx *x, session_id s,
		     const struct pkt_info *pi, bool inbound, uint32_t now)
{
	const struct config *c = x->cfg;

	switch (pi->kind) {
	case PKT_IKE:
	case PKT_NATT_IKE:
		session_sa_touch(x->table, s, SA_IKE, pi->ike.ispi,
				 pi->ike.rspi, pi->ike.version,
				 pi->ike.exchange,
				 pi->kind == PKT_NATT_IKE ? SA_F_NATT : 0,
				 pi->len, now, c->timeout_ike);
		break;
	case PKT_ESP:
	case PKT_ESP_UDP:
		session_sa_touch(x->table, s, inbound ? SA_ESP_IN : SA_ESP_OUT,
				 pi->spi, 0, 0, 0,
				 pi->kind == PKT_ESP_UDP ? SA_F_NATT : 0,
				 pi->len, now,
				 pi->kind == PKT_ESP ? c->timeout_esp :
				 c->timeout_natt);
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

static enum xlate_result xlate_icmp(const struct xlate_ctx *x, uint8_t *buf,
				    struct pkt_info *pi, struct xlate_out *out)
{
	const struct icmp_info *ic = &pi->icmp;
	uint32_t src = ntohl(pi->saddr), dst = ntohl(pi->daddr);
	uint32_t qsrc = ntohl(ic->in_saddr), qdst = ntohl(ic->in_daddr);
	session_id s;

	if (alias_pool_has(x->pool, dst)) {
		/* about a packet the alias sent to a server */
		out->alias = dst;
		out->server = qdst;
		out->client = 0;
		if (qsrc != dst || !quotes_ipsec(ic))
			return XL_PASS;
		s = session_lookup_in(x->table, dst, qdst);
		if (s == SESSION_NONE)
			return XL_DROP_UNKNOWN;
		out->client = session_client(x->table, s);
		session_mark(x->table, s, &out->mark_value, &out->mark_mask);
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
	if (src == qdst)
		pkt_rewrite_icmp(buf, pi, false, htonl(out->alias));
	else
		pkt_rewrite_icmp_quote(buf, pi, false, htonl(out->alias));
	return XL_OUT;
}

enum xlate_result xlate_packet(const struct xlate_ctx *x, uint8_t *buf,
			       struct pkt_info *pi, bool l4_partial,
			       uint32_t now, struct xlate_out *out)
{
	const struct config *c = x->cfg;
	uint32_t src = ntohl(pi->saddr), dst = ntohl(pi->daddr);
	session_id s;

	out->created = false;
	out->mark_mask = 0;
	if (pi->kind == PKT_ICMP_ERR)
		return xlate_icmp(x, buf, pi, out);
	if (alias_pool_has(x->pool, dst)) {
		s = session_lookup_in(x->table, dst, src);
		out->alias = dst;
		out->server = src;
		out->client = 0;
		if (s == SESSION_NONE)
			return XL_DROP_UNKNOWN;
		out->client = session_client(x->table, s);
		session_touch(x->table, s, true, pi->len, now,
			      kind_timeout(c, pi), c->timeout_pending);
		track_sa(x, s, pi, true, now);
		session_mark(x->table, s, &out->mark_value, &out->mark_mask);
		pkt_rewrite_addr(buf, pi, true, htonl(out->client), l4_partial);
		return XL_IN;
	}
	if (!config_is_inside(c, src) || !config_is_server(c, dst))
		return XL_DROP_NOT_OURS;

	out->client = src;
	out->server = dst;
	s = session_lookup_out(x->table, src, dst);
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
	session_touch(x->table, s, false, pi->len, now, kind_timeout(c, pi),
		      c->timeout_pending);
	track_sa(x, s, pi, false, now);
	session_mark(x->table, s, &out->mark_value, &out->mark_mask);
	pkt_rewrite_addr(buf, pi, false, htonl(out->alias), l4_partial);
	return XL_OUT;
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
	};

	return (unsigned)r < XL_MAX ? names[r] : "?";
}
