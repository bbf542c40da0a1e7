/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer harness for gateway mode: a small gw_table fed a sequence of
 * inbound and outbound packets, with gw_expire(), gw_flush() and
 * gw_snapshot() + gw_restore() round trips in between, checked step by
 * step against a model of the table kept here; and l2tp_parse() on the
 * raw bytes of every record.
 *
 * An input is one set-up byte, then records:
 *
 *   u8 setup   bits 0-2: capacity - 1 (1 .. 8 entries, so that the table
 *              fills); bits 3-5: timeout (1 s .. 30 d); bit 6: the clock
 *              starts just before it wraps
 *   records:
 *   u8 ctl     bit 0: outbound (else inbound); bits 1-3: the mark it
 *              comes with (mark 0 included); bits 4-6: seconds to
 *              advance the clock (0, 1, 2, timeout - 1, timeout, ...)
 *   u8 op      bits 0-2: what to do first: 3 restart (the table replaced
 *              by one restored from its snapshot), 4 gw_expire(),
 *              5 gw_flush() of all, 6 gw_flush() of the packet's peer,
 *              7 a shadow table restored from the snapshot that then
 *              gets every later step too and must answer the same;
 *              else nothing
 *              bit 3: the bytes are an L2TP/UDP/TCP payload, wrapped
 *              here in IPv4 and UDP or TCP headers with lengths right
 *              (an L2TP Length too, where the L bit asks for one):
 *                bits 4-5 the peer (four addresses), bits 6-7 the ports
 *                (udp 1701-1701, udp 1024-1701, udp 4500-4500, tcp)
 *              else the bytes are the IP packet: bit 4 sets its IP and
 *              UDP lengths, bit 5 its L2TP Length, where there is room
 *   u16 len    bytes that follow (cut to what is left)
 *
 * The table is made anew for each input, its hash key taken from the
 * set-up byte, so an input replays alone and exactly.
 *
 * Invariants (abort() on violation):
 *  - after every step the table's snapshot equals the model: the same
 *    entries with the same marks, times, IDs and counts; gw_packet()'s
 *    result and outbound mark are the model's; every counter moved as the
 *    model says (so learned - expired - flushed == active <= capacity,
 *    and res[dir][*] sums to the packets of that direction);
 *  - an outbound GW_OK gives a non-zero mark that an inbound packet the
 *    table accepted carried;
 *  - a snapshot holds exactly `active` entries, none with mark 0, keys
 *    unique, every L2TP entry with a non-zero ID and a gateway ID no
 *    other entry of its peer holds, flows without L2TP fields;
 *  - a table restored from a snapshot has the same snapshot, and gives
 *    the same results and marks for every later packet (shadow);
 *    restoring a key it holds says -EEXIST, a view with mark 0, a
 *    protocol other than UDP and TCP, L2TP over TCP or tunnel ID 0
 *    -EINVAL, a new key into a full table -ENOSPC (a flow to local
 *    port 0 restores like any other);
 *  - gw_expire() and gw_flush() free exactly the entries they should;
 *  - gw_packet() leaves the packet as it was, and reads nothing outside
 *    it (each packet is a heap copy of its exact length, for ASan);
 *  - l2tp_parse(): the header fields where the flags put them,
 *    payload_off <= len, a ZLB exactly when a control message ends
 *    after its header, the AVP walk's counts and IDs as walked here, no
 *    control fields in a data message.
 *
 * FUZZ_TRACE in the environment prints one line per step on stderr.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fuzz_check.h"
#include "fuzz_csum.h"
#include "gateway.h"
#include "l2tp.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CAP_MAX		8
#define REC_HDR		4
#define MAX_PKT		2048
#define GW_ADDR		0xc0000201u	/* 192.0.2.1, host order */

static const uint32_t marks[8] = {
	0, 1, 2, 3, 0x10, 0x100, 0x80000000u, 0xffffffffu,
};
static const uint32_t timeouts[8] = {
	1, 2, 5, 30, 300, 3600, 86400, 30 * 86400,
};
static const uint32_t peers[4] = {	/* host order */
	0xc6336407u,	/* 198.51.100.7: a NAT with several clients */
	0xcb00710au,	/* 203.0.113.10 */
	0x0a000001u,	/* 10.0.0.1 */
	0xffffffffu,
};
static const struct {
	uint8_t proto;
	uint16_t pport, lport;
} ports[4] = {
	{ 17, 1701, 1701 }, { 17, 1024, 1701 }, { 17, 4500, 4500 },
	{ 6, 50000, 22 },
};

enum { ACT_RESTART = 3, ACT_EXPIRE, ACT_FLUSH_ALL, ACT_FLUSH_PEER,
	ACT_SHADOW };

static bool trace;

/*
 * gw_new() keys its hash with getrandom(): while a table is made here,
 * the key comes from the input instead (a different one for each table
 * of an input), so that an input replays exactly, which entries share a
 * bucket included.  Any other caller gets the real thing.
 */
static bool key_from_input;
static uint64_t key_next;

ssize_t getrandom(void *buf, size_t len, unsigned int flags)
{
	uint8_t *b = buf;
	size_t i;

	if (!key_from_input)
		return syscall(SYS_getrandom, buf, len, flags);
	for (i = 0; i < len; i++) {
		uint64_t x = (key_next += 0x9e3779b97f4a7c15ull);

		x = (x ^ x >> 31) * 0xbf58476d1ce4e5b9ull;
		b[i] = (uint8_t)(x >> 56);
	}
	return (ssize_t)len;
}

static struct gw_table *table_new(uint32_t cap)
{
	struct gw_table *t;

	key_from_input = true;
	t = gw_new(cap);
	key_from_input = false;
	check(t != NULL);
	return t;
}

static void wr32be(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static bool past(uint32_t deadline, uint32_t now)
{
	return (int32_t)(now - deadline) >= 0;
}

/* ---- l2tp_parse() on its own ---- */

/* Walks the AVPs of a control message parsed OK, apart from l2tp.c, and
 * checks what it reported. */
static void check_avps(const uint8_t *b, size_t len,
		       const struct l2tp_info *li)
{
	size_t off = li->payload_off;
	unsigned n = 0, hidden = 0;
	bool tun = false, ses = false, htun = false, hses = false;

	while (off < len) {
		uint16_t w, alen, vendor, attr;

		check(len - off >= 6);
		w = fz_rd16(b + off);
		alen = w & 0x3ff;
		check(alen >= 6 && alen <= len - off);
		vendor = fz_rd16(b + off + 2);
		attr = fz_rd16(b + off + 4);
		if (!n) {
			check(!vendor && attr == 0 && alen == 8 &&
			      !(w & 0x4000) && !(w & 0x3c00));
			check(li->msg_type == fz_rd16(b + off + 6));
		} else if (!vendor && !(w & 0x3c00) && (attr == 9 ||
							 attr == 14)) {
			bool *has = attr == 9 ? &tun : &ses;
			bool *hid = attr == 9 ? &htun : &hses;

			check(!*has && !*hid);
			if (w & 0x4000) {
				*hid = true;
			} else {
				uint16_t v = alen == 8 ?
					     fz_rd16(b + off + 6) : 0;

				check(v != 0);
				check(v == (attr == 9 ? li->assigned_tunnel_id
						      : li->assigned_session_id));
				*has = true;
			}
		} else if (!vendor && !(w & 0x3c00)) {
			/* a second Message Type is refused, hidden or not */
			check(attr != 0);
		}
		if (w & 0x4000)
			hidden++;
		n++;
		off += alen;
	}
	check(off == len);
	check(n >= 1 && n == li->n_avps && hidden == li->n_hidden);
	check(tun == li->has_assigned_tunnel &&
	      htun == li->hidden_assigned_tunnel);
	check(ses == li->has_assigned_session &&
	      hses == li->hidden_assigned_session);
}

/* l2tp_parse() on a copy of exactly @len bytes, so ASan sees a read
 * past them; returns its result and fills @li. */
static enum l2tp_err parse_l2tp(const uint8_t *data, size_t len,
				struct l2tp_info *li)
{
	uint8_t *b = malloc(len ? len : 1);
	enum l2tp_err err;
	uint16_t w;
	size_t off, hdr;

	check(b != NULL);
	memcpy(b, data, len);
	err = l2tp_parse(b, len, li);
	check((unsigned)err < L2TP_ERR_MAX);
	check(l2tp_err_name(err)[0] != '?');
	check(l2tp_msg_type_name(li->msg_type) != NULL);
	if (len < 2) {
		check(err == L2TP_ERR_SHORT);
		goto out;
	}
	w = fz_rd16(b);
	if ((w & 15) == 3)
		check(err == L2TP_ERR_VERSION3);
	else if ((w & 15) != 2)
		check(err == L2TP_ERR_VERSION);
	if (err != L2TP_OK)
		goto out;

	check(li->flags == (w & 0xfff0));
	check(li->control == !!(w & 0x8000));
	hdr = 6 + (w & 0x4000 ? 2 : 0) + (w & 0x0800 ? 4 : 0) +
	      (w & 0x0200 ? 2 : 0);
	check(len >= hdr);
	check(li->length == len);
	off = w & 0x4000 ? 4 : 2;
	if (w & 0x4000)
		check(fz_rd16(b + 2) == len);
	check(li->tunnel_id == fz_rd16(b + off));
	check(li->session_id == fz_rd16(b + off + 2));
	off += 4;
	if (w & 0x0800) {
		check(li->ns == fz_rd16(b + off) &&
		      li->nr == fz_rd16(b + off + 2));
		off += 4;
	} else {
		check(!li->ns && !li->nr);
	}
	if (w & 0x0200) {
		check(li->offset_size == fz_rd16(b + off));
		off += 2 + (size_t)li->offset_size;
	} else {
		check(!li->offset_size);
	}
	check(li->payload_off == off && off <= len);
	if (!li->control) {
		check(!li->zlb && !li->msg_type && !li->n_avps &&
		      !li->n_hidden && !li->has_assigned_tunnel &&
		      !li->has_assigned_session &&
		      !li->hidden_assigned_tunnel &&
		      !li->hidden_assigned_session &&
		      !li->assigned_tunnel_id && !li->assigned_session_id);
		goto out;
	}
	check((w & 0x4800) == 0x4800 && !(w & 0x0200));
	check(li->zlb == (off == len));
	if (li->zlb) {
		check(li->msg_type == L2TP_MT_ZLB && !li->n_avps &&
		      !li->has_assigned_tunnel && !li->has_assigned_session);
		goto out;
	}
	check(!(li->has_assigned_tunnel && li->hidden_assigned_tunnel));
	check(!(li->has_assigned_session && li->hidden_assigned_session));
	check(!li->has_assigned_tunnel || li->assigned_tunnel_id);
	check(!li->has_assigned_session || li->assigned_session_id);
	check(li->n_hidden < li->n_avps);
	check_avps(b, len, li);
out:
	free(b);
	return err;
}

/* ---- packets ---- */

/* The IPv4 packet as this harness reads it (RFC 791, 768, 793): what
 * gw_packet() must make of it before any table is looked at. */
struct dec {
	enum gw_res res;	/* GW_OK: an unfragmented UDP/TCP packet */
	uint8_t proto;
	uint32_t src, dst;	/* network order, as in the packet */
	uint16_t sport, dport;
	const uint8_t *pl;	/* UDP payload */
	size_t plen;
};

static void decode(const uint8_t *b, size_t len, struct dec *d)
{
	size_t ihl, l4len;
	const uint8_t *l4;

	memset(d, 0, sizeof(*d));
	d->res = GW_MALFORMED;
	if (len < 20 || (b[0] >> 4) != 4)
		return;
	ihl = (size_t)(b[0] & 15) * 4;
	if (ihl < 20 || ihl > len || fz_rd16(b + 2) != len)
		return;
	if ((fz_rd16(b + 6) & 0x1fff) || (b[6] & 0x20)) {
		d->res = GW_FRAGMENT;
		return;
	}
	d->proto = b[9];
	memcpy(&d->src, b + 12, 4);
	memcpy(&d->dst, b + 16, 4);
	l4 = b + ihl;
	l4len = len - ihl;
	if (d->proto == 17) {
		if (l4len < 8 || fz_rd16(l4 + 4) != l4len)
			return;
		d->pl = l4 + 8;
		d->plen = l4len - 8;
	} else if (d->proto == 6) {
		if (l4len < 20 || (size_t)(l4[12] >> 4) * 4 < 20 ||
		    (size_t)(l4[12] >> 4) * 4 > l4len)
			return;
	} else {
		d->res = GW_PROTO;
		return;
	}
	d->sport = fz_rd16(l4);
	d->dport = fz_rd16(l4 + 2);
	d->res = GW_OK;
}

/* Wraps @pl in IPv4 and UDP or TCP headers, lengths set, an L2TP Length
 * too when the L bit asks for one. */
static size_t wrap(uint8_t *b, const uint8_t *pl, size_t plen, bool out,
		   uint32_t peer, unsigned pi)
{
	uint8_t proto = ports[pi].proto;
	size_t hl = proto == 6 ? 40 : 28, len = hl + plen;
	uint16_t sport = out ? ports[pi].lport : ports[pi].pport;
	uint16_t dport = out ? ports[pi].pport : ports[pi].lport;

	memset(b, 0, hl);
	b[0] = 0x45;
	fz_wr16(b + 2, (uint16_t)len);
	fz_wr16(b + 4, 0x1234);
	fz_wr16(b + 6, 0x4000);			/* DF */
	b[8] = 64;
	b[9] = proto;
	wr32be(b + 12, out ? GW_ADDR : peer);
	wr32be(b + 16, out ? peer : GW_ADDR);
	fz_wr16(b + 20, sport);
	fz_wr16(b + 22, dport);
	if (proto == 6) {
		b[32] = 0x50;			/* data offset 5 */
		b[33] = 0x10;			/* ACK */
	} else {
		fz_wr16(b + 24, (uint16_t)(8 + plen));
	}
	memcpy(b + hl, pl, plen);
	if (proto == 17 && (sport == L2TP_PORT || dport == L2TP_PORT) &&
	    plen >= 4 && (pl[0] & 0x40))
		fz_wr16(b + hl + 2, (uint16_t)plen);
	return len;
}

/* The raw-packet fix-ups: IP total length and UDP length, L2TP Length. */
static void fix_raw(uint8_t *b, size_t len, bool lens, bool l2tp_len)
{
	size_t ihl;
	uint8_t *u;

	if (len < 20)
		return;
	ihl = (size_t)(b[0] & 15) * 4;
	if (lens)
		fz_wr16(b + 2, (uint16_t)len);
	if (b[9] != 17 || ihl < 20 || len - ihl < 8 || ihl > len)
		return;
	u = b + ihl;
	if (lens)
		fz_wr16(u + 4, (uint16_t)(len - ihl));
	if (l2tp_len && len - ihl >= 12 && (u[8] & 0x40) &&
	    (fz_rd16(u) == L2TP_PORT || fz_rd16(u + 2) == L2TP_PORT))
		fz_wr16(u + 10, (uint16_t)(len - ihl - 8));
}

/* ---- the model ---- */

struct model {
	struct gw_view e[CAP_MAX];
	unsigned n, cap;
};

/* What one step should add to the counters (both tables get the same). */
struct delta {
	struct gw_counters c;	/* active, capacity unused */
};

static int key_cmp(const struct gw_view *a, const struct gw_view *b)
{
	if (a->l2tp != b->l2tp)
		return a->l2tp < b->l2tp ? -1 : 1;
	if (a->proto != b->proto)
		return a->proto < b->proto ? -1 : 1;
	if (a->peer != b->peer)
		return a->peer < b->peer ? -1 : 1;
	if (a->pport != b->pport)
		return a->pport < b->pport ? -1 : 1;
	if (a->id != b->id)
		return a->id < b->id ? -1 : 1;
	return 0;
}

static int view_qcmp(const void *a, const void *b)
{
	return key_cmp(a, b);
}

static bool view_eq(const struct gw_view *a, const struct gw_view *b)
{
	return !key_cmp(a, b) && a->mark == b->mark &&
	       a->created == b->created && a->last_seen == b->last_seen &&
	       a->deadline == b->deadline && a->pkts_in == b->pkts_in &&
	       a->pkts_out == b->pkts_out && a->gid == b->gid &&
	       a->csid == b->csid && a->gsid == b->gsid &&
	       a->calls == b->calls && a->expired == b->expired;
}

static void view_print(const char *tag, const struct gw_view *v)
{
	fprintf(stderr, "  %s %s p%u %08x:%u id %u gid %u mark %#x "
		"c/l/d %u/%u/%u in %u out %u csid %u gsid %u calls %u%s\n",
		tag, v->l2tp ? "l2tp" : "flow", v->proto, v->peer, v->pport,
		v->id, v->gid, v->mark, v->created, v->last_seen, v->deadline,
		v->pkts_in, v->pkts_out, v->csid, v->gsid, v->calls,
		v->expired ? " expired" : "");
}

static int m_find(const struct model *m, bool l2tp, uint8_t proto,
		  uint32_t peer, uint16_t pport, uint16_t id)
{
	struct gw_view k = { .l2tp = l2tp, .proto = proto, .peer = peer,
			     .pport = pport, .id = id };
	unsigned i;

	for (i = 0; i < m->n; i++)
		if (!key_cmp(&m->e[i], &k))
			return (int)i;
	return -1;
}

static int m_find_gid(const struct model *m, uint32_t peer, uint16_t pport,
		      uint16_t gid)
{
	unsigned i;

	if (!gid)
		return -1;
	for (i = 0; i < m->n; i++)
		if (m->e[i].l2tp && m->e[i].peer == peer &&
		    m->e[i].pport == pport && m->e[i].gid == gid)
			return (int)i;
	return -1;
}

static void m_remove(struct model *m, unsigned i)
{
	m->e[i] = m->e[--m->n];
}

/* set_gid(): an older holder of the ID loses it. */
static void m_set_gid(struct model *m, unsigned i, uint16_t gid,
		      struct delta *d)
{
	struct gw_view *e = &m->e[i];
	int old;

	if (e->gid == gid)
		return;
	old = m_find_gid(m, e->peer, e->pport, gid);
	if (old >= 0)
		m->e[old].gid = 0;
	e->gid = gid;
	d->c.l2tp_gw_tid++;
}

/* A new entry, or -1 with the table full (counted). */
static int m_add(struct model *m, bool l2tp, uint8_t proto, uint32_t peer,
		 uint16_t pport, uint16_t id, uint32_t mark, uint32_t now,
		 uint32_t timeout, struct delta *d)
{
	struct gw_view *e;

	if (m->n == m->cap) {
		d->c.refused_full++;
		return -1;
	}
	e = &m->e[m->n];
	memset(e, 0, sizeof(*e));
	e->l2tp = l2tp;
	e->proto = proto;
	e->peer = peer;
	e->pport = pport;
	e->id = id;
	e->mark = mark;
	e->created = e->last_seen = now;
	e->deadline = now + timeout;
	e->pkts_in = 1;
	d->c.learned++;
	return (int)m->n++;
}

static void m_keep(struct model *m, unsigned i, uint32_t mark, uint32_t now,
		   uint32_t timeout, struct delta *d)
{
	struct gw_view *e = &m->e[i];

	if (e->mark != mark) {
		e->mark = mark;
		d->c.updated++;
	}
	e->last_seen = now;
	e->deadline = now + timeout;
	e->pkts_in++;
	d->c.refreshed++;
}

static bool call_setup(const struct l2tp_info *li)
{
	return li->control && li->has_assigned_session &&
	       (li->msg_type == L2TP_MT_ICRQ || li->msg_type == L2TP_MT_ICRP ||
		li->msg_type == L2TP_MT_OCRQ || li->msg_type == L2TP_MT_OCRP);
}

/* An outbound lookup; -1 and a miss counted without a live entry. */
static int m_lookup(struct model *m, bool l2tp, uint8_t proto, uint32_t peer,
		    uint16_t pport, uint16_t id, uint32_t now, uint32_t *out,
		    struct delta *d)
{
	int i = m_find(m, l2tp, proto, peer, pport, id);

	if (i < 0 || past(m->e[i].deadline, now)) {
		d->c.lookup_miss++;
		return -1;
	}
	*out = m->e[i].mark;
	m->e[i].pkts_out++;
	d->c.lookup_hit++;
	return i;
}

/* What gw_packet() should do with @b: its result, the model and @d
 * updated, *@out set on an outbound GW_OK. */
static enum gw_res m_packet(struct model *m, const uint8_t *b, size_t len,
			    bool outbound, uint32_t mark, uint32_t now,
			    uint32_t timeout, uint32_t *out, struct delta *d)
{
	struct l2tp_info li;
	enum l2tp_err le;
	struct dec p;
	int i;

	decode(b, len, &p);
	if (p.res != GW_OK)
		return p.res;
	if (!outbound && !mark)
		return GW_UNMARKED;
	if (p.proto == 17 &&
	    (p.sport == L2TP_PORT || p.dport == L2TP_PORT)) {
		le = parse_l2tp(p.pl, p.plen, &li);
		if (le != L2TP_OK) {
			d->c.l2tp_err[le]++;
			return GW_L2TP_BAD;
		}
		if (!outbound && li.control &&
		    (li.msg_type == L2TP_MT_SCCRQ ||
		     li.msg_type == L2TP_MT_SCCRP)) {
			uint16_t gid = li.msg_type == L2TP_MT_SCCRP ?
				       li.tunnel_id : 0;

			if (li.hidden_assigned_tunnel)
				return GW_HIDDEN;
			if (!li.has_assigned_tunnel)
				return GW_UNKNOWN;
			i = m_find(m, true, 17, p.src, p.sport,
				   li.assigned_tunnel_id);
			if (i < 0) {
				i = m_add(m, true, 17, p.src, p.sport,
					  li.assigned_tunnel_id, mark, now,
					  timeout, d);
				if (i < 0)
					return GW_FULL;
			} else {
				struct gw_view *e = &m->e[i];

				if (e->gid && e->mark != mark && !gid &&
				    !past(e->deadline, now)) {
					d->c.l2tp_rebound++;
					e->gid = 0;
				}
				m_keep(m, (unsigned)i, mark, now, timeout, d);
			}
			if (gid)
				m_set_gid(m, (unsigned)i, gid, d);
			return GW_OK;
		}
		if (!outbound) {
			i = m_find_gid(m, p.src, p.sport, li.tunnel_id);
			if (i < 0)
				return GW_UNKNOWN;
			m_keep(m, (unsigned)i, mark, now, timeout, d);
			if (call_setup(&li) &&
			    m->e[i].csid != li.assigned_session_id) {
				m->e[i].csid = li.assigned_session_id;
				m->e[i].gsid = 0;
				m->e[i].calls++;
			}
			return GW_OK;
		}
		if (li.control && li.msg_type == L2TP_MT_SCCRP &&
		    li.has_assigned_tunnel && li.tunnel_id) {
			i = m_find(m, true, 17, p.dst, p.dport, li.tunnel_id);
			if (i >= 0 && !past(m->e[i].deadline, now))
				m_set_gid(m, (unsigned)i,
					  li.assigned_tunnel_id, d);
		}
		if (!li.tunnel_id) {
			d->c.lookup_miss++;
			return GW_UNKNOWN;
		}
		i = m_lookup(m, true, 17, p.dst, p.dport, li.tunnel_id, now,
			     out, d);
		if (i < 0)
			return GW_UNKNOWN;
		if (call_setup(&li))
			m->e[i].gsid = li.assigned_session_id;
		return GW_OK;
	}
	if (!outbound) {
		i = m_find(m, false, p.proto, p.src, p.sport, p.dport);
		if (i >= 0) {
			m_keep(m, (unsigned)i, mark, now, timeout, d);
			return GW_OK;
		}
		return m_add(m, false, p.proto, p.src, p.sport, p.dport, mark,
			     now, timeout, d) < 0 ? GW_FULL : GW_OK;
	}
	return m_lookup(m, false, p.proto, p.dst, p.dport, p.sport, now, out,
			d) < 0 ? GW_UNKNOWN : GW_OK;
}

/* ---- the tables ---- */

struct tbl {
	struct gw_table *t;
	struct gw_counters exp;		/* what its counters should say */
	uint64_t calls[GW_DIR_MAX];	/* gw_packet() calls, by direction */
};

struct run {
	struct model m;
	struct tbl a, s;		/* the table, its shadow (s.t NULL
					 * until an ACT_SHADOW) */
	uint32_t timeout, now;
	uint8_t given;			/* marks[] an accepted inbound
					 * packet carried, by index */
};

static void cnt_add(struct gw_counters *c, const struct delta *d)
{
	unsigned i, j;

	c->learned += d->c.learned;
	c->updated += d->c.updated;
	c->refreshed += d->c.refreshed;
	c->expired += d->c.expired;
	c->flushed += d->c.flushed;
	c->refused_full += d->c.refused_full;
	c->lookup_hit += d->c.lookup_hit;
	c->lookup_miss += d->c.lookup_miss;
	c->l2tp_gw_tid += d->c.l2tp_gw_tid;
	c->l2tp_rebound += d->c.l2tp_rebound;
	for (i = 0; i < GW_DIR_MAX; i++)
		for (j = 0; j < GW_RES_MAX; j++)
			c->res[i][j] += d->c.res[i][j];
	for (i = 0; i < L2TP_ERR_MAX; i++)
		c->l2tp_err[i] += d->c.l2tp_err[i];
}

static void cnt_print(const char *tag, const struct gw_counters *c)
{
	unsigned i, j;

	fprintf(stderr, "  %s: learned %llu updated %llu refreshed %llu "
		"expired %llu flushed %llu full %llu hit %llu miss %llu "
		"gw_tid %llu rebound %llu active %u capacity %u\n    res",
		tag, (unsigned long long)c->learned,
		(unsigned long long)c->updated,
		(unsigned long long)c->refreshed,
		(unsigned long long)c->expired,
		(unsigned long long)c->flushed,
		(unsigned long long)c->refused_full,
		(unsigned long long)c->lookup_hit,
		(unsigned long long)c->lookup_miss,
		(unsigned long long)c->l2tp_gw_tid,
		(unsigned long long)c->l2tp_rebound, c->active, c->capacity);
	for (i = 0; i < GW_DIR_MAX; i++)
		for (j = 0; j < GW_RES_MAX; j++)
			fprintf(stderr, " %llu",
				(unsigned long long)c->res[i][j]);
	fprintf(stderr, "\n    l2tp_err");
	for (i = 0; i < L2TP_ERR_MAX; i++)
		fprintf(stderr, " %llu", (unsigned long long)c->l2tp_err[i]);
	fprintf(stderr, "\n");
}

/* The counters of @x against what they should be, and the identities
 * they keep whatever the model says. */
static void check_counters(const struct tbl *x, const char *name)
{
	struct gw_counters c;
	uint64_t sum;
	unsigned i, j;

	gw_counters(x->t, &c);
	if (memcmp(&c, &x->exp, sizeof(c))) {
		fprintf(stderr, "counters of %s:\n", name);
		cnt_print("got", &c);
		cnt_print("expected", &x->exp);
		fuzz_fail("counters as the model says", __FILE__, __LINE__);
	}
	check(c.active <= c.capacity);
	check(c.learned - c.expired - c.flushed == c.active);
	for (i = 0; i < GW_DIR_MAX; i++) {
		for (sum = 0, j = 0; j < GW_RES_MAX; j++)
			sum += c.res[i][j];
		check(sum == x->calls[i]);
		check(i == GW_IN || !c.res[i][GW_UNMARKED]);
		check(i == GW_IN || !c.res[i][GW_HIDDEN]);
		check(i == GW_IN || !c.res[i][GW_FULL]);
	}
	for (sum = 0, i = 0; i < L2TP_ERR_MAX; i++)
		sum += c.l2tp_err[i];
	check(!c.l2tp_err[L2TP_OK]);
	check(sum == c.res[GW_IN][GW_L2TP_BAD] + c.res[GW_OUT][GW_L2TP_BAD]);
}

/* A sorted snapshot of @t (NULL when empty, to free()). */
static struct gw_view *snap(struct gw_table *t, uint32_t now, size_t *n)
{
	struct gw_view *v;

	check(!gw_snapshot(t, now, &v, n));
	check(!*n == !v);
	if (*n)
		qsort(v, *n, sizeof(*v), view_qcmp);
	return v;
}

/* The snapshot of @x equals the model, and is one a table can have. */
static void check_table(struct run *r, const struct tbl *x, const char *name)
{
	struct gw_view exp[CAP_MAX], *v;
	struct gw_counters c;
	size_t n, i, j;
	bool same;

	v = snap(x->t, r->now, &n);
	gw_counters(x->t, &c);
	check(n == c.active);
	for (i = 0; i < n; i++) {
		const struct gw_view *e = &v[i];

		check(e->mark);
		check(e->proto == 17 || e->proto == 6);
		if (e->l2tp) {
			check(e->id && e->proto == 17);
		} else {
			check(!e->gid && !e->csid && !e->gsid && !e->calls);
		}
		check(e->expired == past(e->deadline, r->now));
		check(!i || key_cmp(&v[i - 1], e) < 0);
		for (j = 0; j < i && e->gid; j++)
			check(v[j].gid != e->gid || v[j].peer != e->peer ||
			      v[j].pport != e->pport);
	}
	memcpy(exp, r->m.e, r->m.n * sizeof(exp[0]));
	for (i = 0; i < r->m.n; i++)
		exp[i].expired = past(exp[i].deadline, r->now);
	if (r->m.n)
		qsort(exp, r->m.n, sizeof(exp[0]), view_qcmp);
	same = n == r->m.n;
	for (i = 0; same && i < n; i++)
		same = view_eq(&v[i], &exp[i]);
	if (!same) {
		fprintf(stderr, "table %s at %u:\n", name, r->now);
		for (i = 0; i < n; i++)
			view_print("got", &v[i]);
		for (i = 0; i < r->m.n; i++)
			view_print("expected", &exp[i]);
		fuzz_fail("snapshot as the model says", __FILE__, __LINE__);
	}
	free(v);
	check_counters(x, name);
}

static void check_all(struct run *r)
{
	check_table(r, &r->a, "table");
	if (r->s.t)
		check_table(r, &r->s, "shadow");
}

/* A new table with the snapshot of the table restored into it. */
static void restore_into(struct run *r, struct tbl *x)
{
	struct gw_view *v, k;
	size_t n, i;
	int rc;

	v = snap(r->a.t, r->now, &n);
	gw_free(x->t);
	x->t = table_new(r->m.cap);
	memset(&x->exp, 0, sizeof(x->exp));
	memset(x->calls, 0, sizeof(x->calls));
	x->exp.capacity = r->m.cap;
	for (i = 0; i < n; i++) {
		rc = gw_restore(x->t, &v[i]);
		if (rc) {
			fprintf(stderr, "gw_restore: %d\n", rc);
			view_print("view", &v[i]);
			fuzz_fail("a snapshot's view restores", __FILE__,
				  __LINE__);
		}
		x->exp.learned++;
		x->exp.active++;
		if (v[i].gid)
			x->exp.l2tp_gw_tid++;
	}
	if (n) {
		/* views no packet makes are refused before their key is
		 * looked at, so even one the table holds */
		check(gw_restore(x->t, &v[0]) == -EEXIST);
		k = v[0];
		k.mark = 0;
		check(gw_restore(x->t, &k) == -EINVAL);
		k = v[0];
		k.proto = 1;
		check(gw_restore(x->t, &k) == -EINVAL);
		k = v[0];
		k.l2tp = 1;
		k.proto = 6;
		check(gw_restore(x->t, &k) == -EINVAL);
		k = v[0];
		k.l2tp = 1;
		k.proto = 17;
		k.id = 0;
		check(gw_restore(x->t, &k) == -EINVAL);
	}
	if (n == r->m.cap) {
		/* a key none of the entries has */
		memset(&k, 0, sizeof(k));
		k.proto = 6;
		k.peer = htonl(0x01020304);
		k.id = 9;
		k.mark = 1;
		while (m_find(&r->m, false, 6, k.peer, 0, k.id) >= 0)
			k.id++;
		check(gw_restore(x->t, &k) == -ENOSPC);
		x->exp.refused_full++;
	}
	free(v);
}

static void table_act(struct run *r, unsigned act, uint32_t peer)
{
	struct tbl *x[2] = { &r->a, &r->s };
	unsigned i, k, want = 0;

	switch (act) {
	case ACT_RESTART:
		gw_free(r->s.t);
		r->s.t = NULL;
		restore_into(r, &r->s);
		gw_free(r->a.t);
		r->a = r->s;
		r->s.t = NULL;
		break;
	case ACT_SHADOW:
		restore_into(r, &r->s);
		break;
	case ACT_EXPIRE:
		for (i = 0; i < r->m.n;) {
			if (past(r->m.e[i].deadline, r->now)) {
				m_remove(&r->m, i);
				want++;
			} else {
				i++;
			}
		}
		for (k = 0; k < 2; k++) {
			if (!x[k]->t)
				continue;
			check(gw_expire(x[k]->t, r->now) == want);
			x[k]->exp.expired += want;
			x[k]->exp.active -= want;
		}
		break;
	case ACT_FLUSH_ALL:
	case ACT_FLUSH_PEER:
		for (i = 0; i < r->m.n;) {
			if (act == ACT_FLUSH_ALL || r->m.e[i].peer == peer) {
				m_remove(&r->m, i);
				want++;
			} else {
				i++;
			}
		}
		for (k = 0; k < 2; k++) {
			if (!x[k]->t)
				continue;
			check(gw_flush(x[k]->t, act == ACT_FLUSH_ALL, peer) ==
			      want);
			x[k]->exp.flushed += want;
			x[k]->exp.active -= want;
		}
		break;
	default:
		return;
	}
	check_all(r);
}

/* gw_packet() on a copy of exactly @len bytes of @b. */
static enum gw_res feed(struct gw_table *t, const uint8_t *b, size_t len,
			bool outbound, uint32_t mark, uint32_t now,
			uint32_t timeout, uint32_t *out)
{
	uint8_t *c = malloc(len ? len : 1);
	enum gw_res res;

	check(c != NULL);
	memcpy(c, b, len);
	res = gw_packet(t, c, len, outbound ? GW_OUT : GW_IN, mark, now,
			timeout, out);
	check(!memcmp(c, b, len));	/* read only */
	free(c);
	return res;
}

static void step_packet(struct run *r, const uint8_t *b, size_t len,
			bool outbound, unsigned mi)
{
	const uint32_t none = 0x5eed5eedu;
	uint32_t mark = marks[mi], mout = none, out = none, sout = none;
	enum gw_res want, got, sgot;
	struct delta d;

	memset(&d, 0, sizeof(d));
	want = m_packet(&r->m, b, len, outbound, mark, r->now, r->timeout,
			&mout, &d);
	d.c.res[outbound][want]++;
	got = feed(r->a.t, b, len, outbound, mark, r->now, r->timeout, &out);
	check((unsigned)got < GW_RES_MAX);
	check(gw_res_name(got)[0] != '?');
	if (trace)
		fprintf(stderr, "t=%u %s mark %#x len %zu: %s (model %s) "
			"out %#x\n", r->now, outbound ? "out" : "in", mark,
			len, gw_res_name(got), gw_res_name(want), out);
	check(got == want);
	check(out == mout);
	if (got == GW_OK && outbound) {
		unsigned i;
		bool seen = false;

		check(out != 0 && out != none);
		for (i = 0; i < 8; i++)
			if ((r->given >> i & 1) && marks[i] == out)
				seen = true;
		check(seen);
	}
	if (got == GW_OK && !outbound)
		r->given |= (uint8_t)(1u << mi);
	cnt_add(&r->a.exp, &d);
	r->a.exp.active = r->m.n;
	r->a.calls[outbound]++;
	if (r->s.t) {
		sgot = feed(r->s.t, b, len, outbound, mark, r->now,
			    r->timeout, &sout);
		check(sgot == got && sout == out);
		cnt_add(&r->s.exp, &d);
		r->s.exp.active = r->m.n;
		r->s.calls[outbound]++;
	}
	check_all(r);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	trace = getenv("FUZZ_TRACE") != NULL;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t empty[1];
	static uint8_t pkt[MAX_PKT];
	struct run r;
	size_t off = 1;

	if (!size)
		return 0;
	memset(&r, 0, sizeof(r));
	r.m.cap = 1 + (data[0] & 7u);
	r.timeout = timeouts[data[0] >> 3 & 7];
	r.now = data[0] & 0x40 ? 0xffffff00u : 1000u;
	key_next = data[0];
	r.a.t = table_new(r.m.cap);
	r.a.exp.capacity = r.m.cap;
	/* nothing learned from an empty table */
	check(gw_expire(r.a.t, r.now) == 0 && gw_flush(r.a.t, true, 0) == 0);
	check_all(&r);

	while (off + REC_HDR <= size) {
		const uint8_t *h = data + off;
		uint8_t ctl = h[0], op = h[1];
		size_t len = fz_rd16(h + 2), plen;
		const uint8_t *raw;
		bool outbound = ctl & 1;
		unsigned steps[8] = { 0, 0, 1, 2, r.timeout - 1, r.timeout,
				      r.timeout + 1, 3600 };
		uint32_t peer = 0;
		struct l2tp_info li;

		off += REC_HDR;
		if (len > size - off)
			len = size - off;
		raw = len ? data + off : empty;
		off += len;

		/* the record's bytes as an L2TP message, whatever they are */
		(void)parse_l2tp(raw, len, &li);

		if (op & 8) {
			if (len > MAX_PKT - 40)
				len = MAX_PKT - 40;
			peer = peers[op >> 4 & 3];
			plen = wrap(pkt, raw, len, outbound, peer, op >> 6);
			peer = htonl(peer);
		} else {
			if (len > MAX_PKT)
				len = MAX_PKT;
			memcpy(pkt, raw, len);
			plen = len;
			fix_raw(pkt, plen, op & 0x10, op & 0x20);
			if (plen >= 20)
				memcpy(&peer, pkt + (outbound ? 16 : 12), 4);
		}

		r.now += steps[ctl >> 4 & 7];
		if (trace && (op & 7) >= ACT_RESTART)
			fprintf(stderr, "t=%u action %u\n", r.now, op & 7);
		table_act(&r, op & 7, peer);
		step_packet(&r, pkt, plen, outbound, ctl >> 1 & 7);
	}
	gw_free(r.a.t);
	gw_free(r.s.t);
	return 0;
}
