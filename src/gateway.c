/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Which side's ID is where (RFC 2661 section 3.1): L2TP tunnel and
 * session IDs have local significance only, each end names the tunnel
 * with its own ID, and the header of every message carries the ID of the
 * *receiver*.  Each end tells the other its ID in the Assigned Tunnel ID
 * AVP while the tunnel is set up:
 *
 *   client -> gw   SCCRQ  header tunnel 0,  Assigned Tunnel ID = C
 *   gw -> client   SCCRP  header tunnel C,  Assigned Tunnel ID = G
 *   client -> gw   SCCCN, ICRQ, HELLO, ZLB, data ...   header tunnel G
 *   gw -> client   everything                          header tunnel C
 *
 * So every outbound packet names the client's tunnel by C, which the
 * gateway only ever learns from the client's SCCRQ, and every later
 * inbound packet by G, which is unique on the gateway.  An entry is keyed
 * by (peer, port, C) for the outbound lookup, and also indexed by
 * (peer, port, G) once the outbound SCCRP shows G, so that the client's
 * ordinary traffic keeps it alive and carries it to the new mark after a
 * rekey.  Session IDs follow the same rule but add nothing: all sessions
 * of a tunnel belong to the client whose control connection it is.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "hash.h"
#include "gateway.h"

#define PROTO_TCP	6
#define PROTO_UDP	17

enum { KIND_L2TP = 1, KIND_FLOW = 2 };

/* Links are index + 1 so that 0 ends a chain. */
struct gw_entry {
	uint32_t peer;			/* network byte order */
	uint32_t mark;
	uint32_t last_seen, deadline;
	uint32_t next_key;		/* key chain; also the free list */
	uint32_t next_gid;		/* gateway-tunnel-ID chain */
	uint32_t created;
	uint32_t pkts_in, pkts_out;
	uint16_t pport;
	uint16_t id;			/* L2TP: client's tunnel ID;
					 * flow: local port */
	uint16_t gid;			/* L2TP: gateway's tunnel ID, 0
					 * while unknown */
	uint16_t csid, gsid;		/* L2TP: the newest call's session
					 * IDs (client's, gateway's) */
	uint16_t calls;			/* L2TP: calls seen set up */
	uint8_t kind;			/* 0: free */
	uint8_t proto;
};

struct gw_table {
	struct gw_entry *e;
	uint32_t *key_bkt, *gid_bkt;
	uint32_t mask, max, free;
	uint64_t seed;
	struct gw_counters cnt;
};

static inline uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t hash_key(const struct gw_table *t, uint8_t kind,
				uint8_t proto, uint32_t peer, uint16_t pport,
				uint16_t id)
{
	uint64_t x = (uint64_t)peer << 32 | (uint32_t)pport << 16 | id;

	/* kind and proto multiplied in, not or-ed into spare bits: there
	 * are none, and an L2TP ID equal to a local port must not share
	 * a bucket by construction */
	return hash_mix(x ^ ((uint64_t)kind << 8 | proto) * 0x9e3779b97f4a7c15ull,
		   t->seed) & t->mask;
}

static inline uint32_t hash_gid(const struct gw_table *t, uint32_t peer,
				uint16_t pport, uint16_t gid)
{
	uint64_t x = (uint64_t)peer << 32 | (uint32_t)pport << 16 | gid;

	return hash_mix(x, t->seed ^ 0x6a09e667f3bcc909ull) & t->mask;
}

static inline struct gw_entry *E(const struct gw_table *t, uint32_t link)
{
	return &t->e[link - 1];
}

static bool expired(uint32_t deadline, uint32_t now)
{
	return (int32_t)(now - deadline) >= 0;
}

struct gw_table *gw_new(uint32_t capacity)
{
	struct gw_table *t;
	uint32_t nb = 16, i;

	if (!capacity || capacity > (1u << 26)) {
		errno = EINVAL;
		return NULL;
	}
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	while (nb < capacity)
		nb <<= 1;
	t->mask = nb - 1;
	t->max = capacity;
	t->e = calloc(capacity, sizeof(*t->e));
	t->key_bkt = calloc(nb, sizeof(uint32_t));
	t->gid_bkt = calloc(nb, sizeof(uint32_t));
	if (!t->e || !t->key_bkt || !t->gid_bkt) {
		gw_free(t);
		errno = ENOMEM;
		return NULL;
	}
	if (getrandom(&t->seed, sizeof(t->seed), GRND_NONBLOCK) !=
	    sizeof(t->seed))
		t->seed = (uint64_t)(uintptr_t)t ^ 0x5851f42d4c957f2dull;
	for (i = 0; i < capacity; i++)
		t->e[i].next_key = i + 2 <= capacity ? i + 2 : 0;
	t->free = 1;
	t->cnt.capacity = capacity;
	return t;
}

void gw_free(struct gw_table *t)
{
	if (!t)
		return;
	free(t->e);
	free(t->key_bkt);
	free(t->gid_bkt);
	free(t);
}

static uint32_t find_key(const struct gw_table *t, uint8_t kind,
			 uint8_t proto, uint32_t peer, uint16_t pport,
			 uint16_t id)
{
	uint32_t l = t->key_bkt[hash_key(t, kind, proto, peer, pport, id)];

	while (l) {
		const struct gw_entry *e = E(t, l);

		if (e->kind == kind && e->proto == proto && e->peer == peer &&
		    e->pport == pport && e->id == id)
			return l;
		l = e->next_key;
	}
	return 0;
}

static uint32_t find_gid(const struct gw_table *t, uint32_t peer,
			 uint16_t pport, uint16_t gid)
{
	uint32_t l = t->gid_bkt[hash_gid(t, peer, pport, gid)];

	while (l) {
		const struct gw_entry *e = E(t, l);

		if (e->peer == peer && e->pport == pport && e->gid == gid)
			return l;
		l = e->next_gid;
	}
	return 0;
}

static void unlink_chain(struct gw_table *t, uint32_t *head, uint32_t link,
			 bool gid_chain)
{
	uint32_t *p = head;

	while (*p) {
		struct gw_entry *e = E(t, *p);

		if (*p == link) {
			*p = gid_chain ? e->next_gid : e->next_key;
			return;
		}
		p = gid_chain ? &e->next_gid : &e->next_key;
	}
}

/* Takes @l off the gateway-ID index (it keeps its key). */
static void drop_gid(struct gw_table *t, uint32_t l)
{
	struct gw_entry *e = E(t, l);

	if (!e->gid)
		return;
	unlink_chain(t, &t->gid_bkt[hash_gid(t, e->peer, e->pport, e->gid)],
		     l, true);
	e->gid = 0;
	e->next_gid = 0;
}

/* Gives @l the gateway ID @gid.  The gateway picks its IDs unique among
 * its live tunnels, so an older entry still holding @gid is a tunnel that
 * went without our seeing it: it loses the ID, not the new one. */
static void set_gid(struct gw_table *t, uint32_t l, uint16_t gid)
{
	struct gw_entry *e = E(t, l);
	uint32_t old, h;

	if (e->gid == gid)
		return;
	old = find_gid(t, e->peer, e->pport, gid);
	if (old)
		drop_gid(t, old);
	drop_gid(t, l);
	h = hash_gid(t, e->peer, e->pport, gid);
	e->gid = gid;
	e->next_gid = t->gid_bkt[h];
	t->gid_bkt[h] = l;
	t->cnt.l2tp_gw_tid++;
}

static void keep(struct gw_table *t, struct gw_entry *e, uint32_t mark,
		 uint32_t now, uint32_t timeout)
{
	/* follow the newest: a rekey moves the client to a new SA, whose
	 * inbound packets come with the new mark, and the old SA will go */
	if (e->mark != mark) {
		e->mark = mark;
		t->cnt.updated++;
	}
	e->last_seen = now;
	e->deadline = now + timeout;
	e->pkts_in++;
	t->cnt.refreshed++;
}

static void fresh(struct gw_entry *e, uint32_t mark, uint32_t now,
		  uint32_t timeout)
{
	e->mark = mark;
	e->created = e->last_seen = now;
	e->deadline = now + timeout;
	e->pkts_in = 1;
}

/* The entry for the key, found or added; 0 when the table is full. */
static uint32_t get_entry(struct gw_table *t, uint8_t kind, uint8_t proto,
			  uint32_t peer, uint16_t pport, uint16_t id,
			  bool *created)
{
	uint32_t l = find_key(t, kind, proto, peer, pport, id), h;
	struct gw_entry *e;

	*created = false;
	if (l)
		return l;
	if (!t->free) {
		t->cnt.refused_full++;
		return 0;
	}
	l = t->free;
	e = E(t, l);
	t->free = e->next_key;
	memset(e, 0, sizeof(*e));
	e->kind = kind;
	e->proto = proto;
	e->peer = peer;
	e->pport = pport;
	e->id = id;
	h = hash_key(t, kind, proto, peer, pport, id);
	e->next_key = t->key_bkt[h];
	t->key_bkt[h] = l;
	t->cnt.learned++;
	t->cnt.active++;
	*created = true;
	return l;
}

int gw_learn_l2tp(struct gw_table *t, uint32_t peer, uint16_t pport,
		  uint16_t client_tid, uint16_t gw_tid, uint32_t mark,
		  uint32_t now, uint32_t timeout)
{
	struct gw_entry *e;
	bool created;
	uint32_t l;

	if (!mark || !client_tid)
		return -EINVAL;
	l = get_entry(t, KIND_L2TP, PROTO_UDP, peer, pport, client_tid,
		      &created);
	if (!l)
		return -ENOSPC;
	e = E(t, l);
	if (created) {
		fresh(e, mark, now, timeout);
	} else {
		/* A live entry that had its gateway ID and another mark
		 * gets a new SCCRQ: either that client restarted its
		 * tunnel or another client behind the same NAT picked the
		 * same ID.  The newest wins either way (the old tunnel's
		 * outbound packets are not told apart from the new one's),
		 * but it is worth a counter. */
		if (e->gid && e->mark != mark && !gw_tid &&
		    !expired(e->deadline, now)) {
			t->cnt.l2tp_rebound++;
			drop_gid(t, l);
		}
		keep(t, e, mark, now, timeout);
	}
	if (gw_tid)
		set_gid(t, l, gw_tid);
	return created ? 1 : 0;
}

int gw_pair_l2tp(struct gw_table *t, uint32_t peer, uint16_t pport,
		 uint16_t client_tid, uint16_t gw_tid, uint32_t now)
{
	uint32_t l;

	if (!client_tid || !gw_tid)
		return -EINVAL;
	l = find_key(t, KIND_L2TP, PROTO_UDP, peer, pport, client_tid);
	if (!l || expired(E(t, l)->deadline, now))
		return -ENOENT;
	set_gid(t, l, gw_tid);
	return 0;
}

int gw_touch_l2tp(struct gw_table *t, uint32_t peer, uint16_t pport,
		  uint16_t gw_tid, uint32_t mark, uint32_t now,
		  uint32_t timeout)
{
	uint32_t l;

	if (!mark)
		return -EINVAL;
	if (!gw_tid)
		return -ENOENT;
	l = find_gid(t, peer, pport, gw_tid);
	if (!l)
		return -ENOENT;
	keep(t, E(t, l), mark, now, timeout);
	return 0;
}

int gw_learn_flow(struct gw_table *t, uint8_t proto, uint32_t peer,
		  uint16_t pport, uint16_t lport, uint32_t mark, uint32_t now,
		  uint32_t timeout)
{
	struct gw_entry *e;
	bool created;
	uint32_t l;

	if (!mark || (proto != PROTO_UDP && proto != PROTO_TCP))
		return -EINVAL;
	l = get_entry(t, KIND_FLOW, proto, peer, pport, lport, &created);
	if (!l)
		return -ENOSPC;
	e = E(t, l);
	if (created)
		fresh(e, mark, now, timeout);
	else
		keep(t, e, mark, now, timeout);
	return created ? 1 : 0;
}

static int lookup(struct gw_table *t, uint8_t kind, uint8_t proto,
		  uint32_t peer, uint16_t pport, uint16_t id, uint32_t now,
		  uint32_t *mark)
{
	uint32_t l = find_key(t, kind, proto, peer, pport, id);

	/* past its deadline the client has been silent too long for its
	 * SA to be trusted, even before gw_expire() runs */
	if (!l || expired(E(t, l)->deadline, now)) {
		t->cnt.lookup_miss++;
		return -ENOENT;
	}
	*mark = E(t, l)->mark;
	E(t, l)->pkts_out++;
	t->cnt.lookup_hit++;
	return 0;
}

int gw_lookup_l2tp(struct gw_table *t, uint32_t peer, uint16_t pport,
		   uint16_t client_tid, uint32_t now, uint32_t *mark)
{
	return lookup(t, KIND_L2TP, PROTO_UDP, peer, pport, client_tid, now,
		      mark);
}

int gw_lookup_flow(struct gw_table *t, uint8_t proto, uint32_t peer,
		   uint16_t pport, uint16_t lport, uint32_t now,
		   uint32_t *mark)
{
	return lookup(t, KIND_FLOW, proto, peer, pport, lport, now, mark);
}

/* Takes entry @l off both indexes and back to the free list. */
static void free_entry(struct gw_table *t, uint32_t l)
{
	struct gw_entry *e = E(t, l);

	drop_gid(t, l);
	unlink_chain(t, &t->key_bkt[hash_key(t, e->kind, e->proto, e->peer,
					     e->pport, e->id)], l, false);
	memset(e, 0, sizeof(*e));
	e->next_key = t->free;
	t->free = l;
	t->cnt.active--;
}

unsigned gw_expire(struct gw_table *t, uint32_t now)
{
	unsigned n = 0;
	uint32_t i;

	for (i = 0; i < t->max && t->cnt.active; i++) {
		if (!t->e[i].kind || !expired(t->e[i].deadline, now))
			continue;
		free_entry(t, i + 1);
		t->cnt.expired++;
		n++;
	}
	return n;
}

unsigned gw_flush(struct gw_table *t, bool all, uint32_t peer)
{
	unsigned n = 0;
	uint32_t i;

	for (i = 0; i < t->max && t->cnt.active; i++) {
		if (!t->e[i].kind || (!all && t->e[i].peer != peer))
			continue;
		free_entry(t, i + 1);
		t->cnt.flushed++;
		n++;
	}
	return n;
}

/* The parts of an IPv4 UDP/TCP packet this module reads. */
struct gw_pkt {
	uint32_t saddr, daddr;		/* network byte order */
	uint16_t sport, dport;
	uint8_t proto;
	const uint8_t *payload;		/* UDP payload (UDP only) */
	size_t plen;
};

/* pkt_parse() takes only what the NAT core handles (udp/500, udp/4500,
 * ESP, ICMP errors) and refuses udp/1701 and TCP, so this reads the few
 * header fields gateway mode needs, as strictly. */
static enum gw_res read_pkt(const uint8_t *buf, size_t len, struct gw_pkt *p)
{
	size_t ihl, tot, avail;
	const uint8_t *l4;

	memset(p, 0, sizeof(*p));
	if (len < 20 || buf[0] >> 4 != 4)
		return GW_MALFORMED;
	ihl = (buf[0] & 0x0fu) * 4u;
	tot = rd16(buf + 2);
	if (ihl < 20 || tot != len || tot < ihl)
		return GW_MALFORMED;
	/* MF or an offset: after defragmentation in PREROUTING and before
	 * fragmentation after OUTPUT we should never see one, and a piece
	 * does not hold the whole L2TP message to check */
	if (rd16(buf + 6) & 0x3fffu)
		return GW_FRAGMENT;
	p->proto = buf[9];
	memcpy(&p->saddr, buf + 12, 4);
	memcpy(&p->daddr, buf + 16, 4);
	l4 = buf + ihl;
	avail = len - ihl;
	if (p->proto == PROTO_UDP) {
		if (avail < 8 || rd16(l4 + 4) != avail)
			return GW_MALFORMED;
		p->payload = l4 + 8;
		p->plen = avail - 8;
	} else if (p->proto == PROTO_TCP) {
		size_t doff;

		if (avail < 20)
			return GW_MALFORMED;
		doff = (l4[12] >> 4) * 4u;
		if (doff < 20 || doff > avail)
			return GW_MALFORMED;
	} else {
		return GW_PROTO;
	}
	p->sport = rd16(l4);
	p->dport = rd16(l4 + 2);
	return GW_OK;
}

/* A message that assigns a session ID for a new call. */
static bool call_setup(const struct l2tp_info *li)
{
	return li->msg_type == L2TP_MT_ICRQ || li->msg_type == L2TP_MT_ICRP ||
	       li->msg_type == L2TP_MT_OCRQ || li->msg_type == L2TP_MT_OCRP;
}

/* Records the session ID one side assigned to a call of entry @e
 * (@client: the client's side; a call starts with the requester's). */
static void note_call(struct gw_entry *e, uint16_t sid, bool client)
{
	if (client) {
		if (e->csid != sid) {
			e->csid = sid;
			e->gsid = 0;
			e->calls++;
		}
	} else {
		e->gsid = sid;
	}
}

static enum gw_res l2tp_in(struct gw_table *t, const struct gw_pkt *p,
			   const struct l2tp_info *li, uint32_t mark,
			   uint32_t now, uint32_t timeout)
{
	uint16_t gid = 0;
	int rc;

	/* The client's own tunnel ID comes only in the messages that set a
	 * tunnel up: its SCCRQ, or its SCCRP when the gateway started the
	 * tunnel (whose header then already carries the gateway's ID).
	 * StopCCN carries one too, but only names a tunnel going away. */
	if (li->control && (li->msg_type == L2TP_MT_SCCRQ ||
			    li->msg_type == L2TP_MT_SCCRP)) {
		if (li->hidden_assigned_tunnel)
			return GW_HIDDEN;
		if (!li->has_assigned_tunnel)
			return GW_UNKNOWN;
		if (li->msg_type == L2TP_MT_SCCRP)
			gid = li->tunnel_id;
		rc = gw_learn_l2tp(t, p->saddr, p->sport,
				   li->assigned_tunnel_id, gid, mark, now,
				   timeout);
		return rc == -ENOSPC ? GW_FULL : rc < 0 ? GW_UNKNOWN : GW_OK;
	}
	rc = gw_touch_l2tp(t, p->saddr, p->sport, li->tunnel_id, mark, now,
			   timeout);
	if (rc)
		return GW_UNKNOWN;
	/* the client's session ID of a call (shown, not needed to pick a
	 * mark: every call of a tunnel is its client's) */
	if (li->control && li->has_assigned_session && call_setup(li))
		note_call(E(t, find_gid(t, p->saddr, p->sport, li->tunnel_id)),
			  li->assigned_session_id, true);
	return GW_OK;
}

static enum gw_res l2tp_out(struct gw_table *t, const struct gw_pkt *p,
			    const struct l2tp_info *li, uint32_t now,
			    uint32_t *out)
{
	/* the gateway's SCCRP tells the client the gateway's ID: pair it
	 * with the client's ID its header carries */
	if (li->control && li->msg_type == L2TP_MT_SCCRP &&
	    li->has_assigned_tunnel && li->tunnel_id)
		(void)gw_pair_l2tp(t, p->daddr, p->dport, li->tunnel_id,
				   li->assigned_tunnel_id, now);
	if (!li->tunnel_id) {
		/* an SCCRQ the gateway starts names no client tunnel yet */
		t->cnt.lookup_miss++;
		return GW_UNKNOWN;
	}
	if (gw_lookup_l2tp(t, p->daddr, p->dport, li->tunnel_id, now, out))
		return GW_UNKNOWN;
	if (li->control && li->has_assigned_session && call_setup(li))
		note_call(E(t, find_key(t, KIND_L2TP, PROTO_UDP, p->daddr,
					p->dport, li->tunnel_id)),
			  li->assigned_session_id, false);
	return GW_OK;
}

static enum gw_res packet(struct gw_table *t, const uint8_t *buf, size_t len,
			  enum gw_dir dir, uint32_t mark, uint32_t now,
			  uint32_t timeout, uint32_t *out)
{
	struct l2tp_info li;
	struct gw_pkt p;
	enum l2tp_err le;
	enum gw_res r;
	int rc;

	r = read_pkt(buf, len, &p);
	if (r)
		return r;
	if (dir == GW_IN && !mark)
		return GW_UNMARKED;
	if (p.proto == PROTO_UDP &&
	    (p.sport == L2TP_PORT || p.dport == L2TP_PORT)) {
		le = l2tp_parse(p.payload, p.plen, &li);
		if (le != L2TP_OK) {
			if ((unsigned)le < L2TP_ERR_MAX)
				t->cnt.l2tp_err[le]++;
			return GW_L2TP_BAD;
		}
		return dir == GW_IN ? l2tp_in(t, &p, &li, mark, now, timeout)
				    : l2tp_out(t, &p, &li, now, out);
	}
	if (dir == GW_IN) {
		rc = gw_learn_flow(t, p.proto, p.saddr, p.sport, p.dport, mark,
				   now, timeout);
		return rc == -ENOSPC ? GW_FULL : rc < 0 ? GW_UNKNOWN : GW_OK;
	}
	return gw_lookup_flow(t, p.proto, p.daddr, p.dport, p.sport, now, out)
	       ? GW_UNKNOWN : GW_OK;
}

enum gw_res gw_packet(struct gw_table *t, const uint8_t *buf, size_t len,
		      enum gw_dir dir, uint32_t mark, uint32_t now,
		      uint32_t timeout, uint32_t *out)
{
	enum gw_res r;

	if ((unsigned)dir >= GW_DIR_MAX)
		return GW_MALFORMED;
	r = packet(t, buf, len, dir, mark, now, timeout, out);
	t->cnt.res[dir][r]++;
	return r;
}

int gw_restore(struct gw_table *t, const struct gw_view *v)
{
	struct gw_entry *e;
	bool created;
	uint32_t l;

	/* a flow may be to local port 0 (gw_learn_flow takes it); an L2TP
	 * tunnel ID never is 0 */
	if (!v->mark || (v->proto != PROTO_UDP && v->proto != PROTO_TCP) ||
	    (v->l2tp && (v->proto != PROTO_UDP || !v->id)))
		return -EINVAL;
	l = get_entry(t, v->l2tp ? KIND_L2TP : KIND_FLOW, v->proto, v->peer,
		      v->pport, v->id, &created);
	if (!l)
		return -ENOSPC;
	if (!created)
		return -EEXIST;
	e = E(t, l);
	e->mark = v->mark;
	e->created = v->created;
	e->last_seen = v->last_seen;
	e->deadline = v->deadline;
	e->pkts_in = v->pkts_in;
	e->pkts_out = v->pkts_out;
	if (v->l2tp) {
		e->csid = v->csid;
		e->gsid = v->gsid;
		e->calls = v->calls;
		if (v->gid)
			set_gid(t, l, v->gid);
	}
	return 0;
}

int gw_snapshot(const struct gw_table *t, uint32_t now,
		struct gw_view **out, size_t *n)
{
	struct gw_view *v;
	size_t k = 0;
	uint32_t i;

	*out = NULL;
	*n = 0;
	if (!t->cnt.active)
		return 0;
	v = calloc(t->cnt.active, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (i = 0; i < t->max && k < t->cnt.active; i++) {
		const struct gw_entry *e = &t->e[i];

		if (!e->kind)
			continue;
		v[k++] = (struct gw_view){
			.peer = e->peer, .mark = e->mark,
			.created = e->created, .last_seen = e->last_seen,
			.deadline = e->deadline, .pkts_in = e->pkts_in,
			.pkts_out = e->pkts_out, .pport = e->pport,
			.id = e->id, .gid = e->gid, .csid = e->csid,
			.gsid = e->gsid, .calls = e->calls,
			.l2tp = e->kind == KIND_L2TP, .proto = e->proto,
			.expired = expired(e->deadline, now),
		};
	}
	*out = v;
	*n = k;
	return 0;
}

void gw_counters(const struct gw_table *t, struct gw_counters *out)
{
	*out = t->cnt;
}

const char *gw_res_name(enum gw_res res)
{
	static const char *const names[GW_RES_MAX] = {
		[GW_OK] = "ok",
		[GW_MALFORMED] = "malformed",
		[GW_FRAGMENT] = "fragment",
		[GW_PROTO] = "protocol",
		[GW_L2TP_BAD] = "l2tp-refused",
		[GW_UNMARKED] = "unmarked",
		[GW_HIDDEN] = "l2tp-hidden-id",
		[GW_UNKNOWN] = "unknown",
		[GW_FULL] = "table-full",
	};

	return (unsigned)res < GW_RES_MAX ? names[res] : "?";
}
