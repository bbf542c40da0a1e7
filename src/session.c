/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "bigmem.h"
#include "hash.h"
#include "offload.h"
#include "session.h"

/* Links are index + 1 so that 0 ends a chain. */
struct binding {
	uint32_t client, server, alias;
	uint32_t next_out, next_in;	/* hash chains; next_out: free list */
	uint32_t sa_head;
	uint32_t created, last_seen, deadline;
	uint32_t mark_value, mark_mask;
	uint32_t gate_until_ms;		/* holds its group's gate until */
	uint32_t wait_until;		/* SESSION_F_SPI_WAIT lasts until */
	uint32_t ike_wait_until;	/* ike_pend counts until */
	uint32_t ccsa_key[2];		/* last CREATE_CHILD_SA counted */
	uint8_t ike_pend[2];		/* ...that may have made an IKE SA:
					 * started by the client, the server */
	uint16_t flags;
	uint16_t in_use;
	uint16_t natt_cport, natt_xport;	/* NAT-T port: client, alias */
	uint16_t n_sa;			/* SAs on its list */
	uint64_t pkts_out, pkts_in, bytes_out, bytes_in;
};

/*
 * One cache line.  An ESP SA holds what its packets need of their session
 * (its addresses, its mark, whether the fast path may take them) and
 * counts them itself, so that an ESP packet reads its hash bucket and its
 * SA and nothing else.  A session's totals are then its own counts plus
 * those of its ESP SAs (an SA's are added to it when it expires), and an
 * outbound SA of a session that has had a reply keeps it alive as long as
 * it lives itself (live_deadline()).
 */
struct sa {
	_Alignas(64) uint64_t key;	/* sa_key(): IKE, the initiator SPI;
					 * ESP, the server << 32 | the SPI */
	union {
		uint64_t spi_r;		/* IKE: the responder SPI */
		struct {
			uint32_t local;	/* out: the client; in: the alias */
			uint32_t peer;	/* ...and what its packets get */
		} esp;
	} u;
	uint32_t owner;			/* binding link */
	uint32_t next_hash;		/* also the free list */
	uint32_t next_sib;
	uint32_t last_seen, deadline;
	uint8_t kind, version, flags;
	union {
		uint8_t exchange;	/* IKE: the last exchange type seen */
		uint8_t state;		/* ESP: ESP_ALONE, ESP_REPLIED */
	} x;
	uint32_t mark_value, mark_mask;	/* ESP: its session's */
	uint64_t pkts, bytes;
};

_Static_assert(sizeof(struct sa) == 64, "an SA is one cache line");

/* What an ESP SA knows of its session (kept by fast_update()): alone on
 * its alias, session_esp_known() takes its packets; with a reply too, the
 * SA carries the session's life (ESP_FULL). */
#define ESP_ALONE	0x01
#define ESP_REPLIED	0x02
#define ESP_FULL	(ESP_ALONE | ESP_REPLIED)

static inline uint8_t esp_state(const struct binding *b)
{
	return (uint8_t)((b->flags & SESSION_F_SHARED ? 0 : ESP_ALONE) |
			 (b->flags & SESSION_F_REPLIED ? ESP_REPLIED : 0));
}

static inline uint64_t sa_key(uint32_t server, uint8_t kind, uint64_t spi)
{
	return kind == SA_IKE ? spi : (uint64_t)server << 32 | (uint32_t)spi;
}

static inline uint64_t sa_spi(const struct sa *a)
{
	return a->kind == SA_IKE ? a->key : (uint32_t)a->key;
}

/* Which client the first fragment of an inbound datagram went to, so its
 * later fragments (no ports, no SPI) follow on a shared alias. */
#define FRAG_SLOTS 256
#define FRAG_LIFE 30			/* seconds, as IP reassembly */

struct frag_owner {
	uint32_t server, alias, client;
	uint32_t owner;			/* binding link */
	uint32_t until;
	uint16_t ip_id;
	uint8_t proto;
};

/* Sessions per client, when they are limited: open addressing, at most
 * half full, n > 0 in every used slot. */
struct client_count {
	uint32_t client;
	uint32_t n;
};

struct session_table {
	struct frag_owner frag[FRAG_SLOTS];
	struct client_count *cc;
	uint32_t cc_mask, per_client;
	struct binding *b;
	struct sa *sa;
	uint32_t *out_bkt, *in_bkt, *sa_bkt;
	uint32_t nb_mask, nsa_mask;
	uint32_t max_b, max_sa;
	uint32_t free_b, free_sa;	/* slots given back, a list each */
	uint32_t top_b, top_sa;		/* slots ever handed out: those above
					 * are free and never written, so
					 * that an unused pool stays out of
					 * memory */
	uint64_t seed;
	uint32_t gate_hold_ms;		/* the hold of the last gate taken */
	uint32_t expire_at;		/* where session_expire_step() goes on */
	size_t pf_min;			/* see session_prefetch_worth() */
	struct offload_entry *gone;	/* kernel entries of SAs released */
	uint32_t n_gone;
	bool gone_lost;			/* ...more than GONE_MAX of them */
	uint32_t off_gen;		/* session_offload_forget() calls */
	struct session_counters cnt;
};

/* kernel entries of released SAs kept until session_offload_gone() */
#define GONE_MAX 65536u

/* below this much of SAs and sessions, the lookups hit the cache anyway */
#define PF_MIN_BYTES ((size_t)4 << 20)

static inline uint32_t hash_pair(const struct session_table *t, uint32_t a,
				 uint32_t b)
{
	return hash_mix((uint64_t)a << 32 | b, t->seed) & t->nb_mask;
}

/* SAs hash by what every packet of theirs shows: (server, kind, SPI), so
 * that one lookup finds the owner among clients sharing an alias, and the
 * bucket can be fetched before the session is. */
static inline uint32_t hash_sa(const struct session_table *t, uint32_t server,
			       uint8_t kind, uint64_t spi)
{
	/* the kind above the 32 bits of an ESP SPI: in the low bits it would
	 * make SPI n of one kind collide with SPI n^1 of another */
	return hash_mix(spi ^ (uint64_t)kind << 32 ^
		   server * 0x9e3779b97f4a7c15ull, t->seed) & t->nsa_mask;
}

static uint32_t pow2_at_least(uint32_t n)
{
	uint32_t p = 16;

	while (p < n && p < (1u << 30))
		p <<= 1;
	return p;
}

size_t session_table_bytes(const struct session_limits *lim)
{
	return sizeof(struct session_table) +
	       (lim->per_client ? 2 * (size_t)pow2_at_least(lim->max_sessions) *
				  sizeof(struct client_count) : 0) +
	       (size_t)lim->max_sessions * sizeof(struct binding) +
	       (size_t)lim->max_sas * sizeof(struct sa) +
	       2 * (size_t)pow2_at_least(lim->max_sessions) * sizeof(uint32_t) +
	       (size_t)pow2_at_least(lim->max_sas) * sizeof(uint32_t);
}

size_t session_table_reserved(const struct session_table *t)
{
	const struct session_limits lim = { t->max_b, t->max_sa,
					    t->per_client };

	return session_table_bytes(&lim);
}

size_t session_table_resident(const struct session_table *t)
{
	uint32_t nb = t->nb_mask + 1;

	return sizeof(*t) + big_resident(t->b, t->max_b, sizeof(*t->b)) +
	       big_resident(t->sa, t->max_sa, sizeof(*t->sa)) +
	       big_resident(t->out_bkt, nb, sizeof(uint32_t)) +
	       big_resident(t->in_bkt, nb, sizeof(uint32_t)) +
	       big_resident(t->sa_bkt, t->nsa_mask + 1, sizeof(uint32_t)) +
	       (t->cc ? big_resident(t->cc, t->cc_mask + 1, sizeof(*t->cc)) :
			0);
}

struct session_table *session_table_new(const struct session_limits *lim)
{
	struct session_table *t;
	uint32_t nb, nsa;

	if (!lim->max_sessions || !lim->max_sas ||
	    lim->max_sessions > (1u << 26) || lim->max_sas > (1u << 28)) {
		errno = EINVAL;
		return NULL;
	}
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->max_b = lim->max_sessions;
	t->max_sa = lim->max_sas;
	nb = pow2_at_least(t->max_b);
	nsa = pow2_at_least(t->max_sa);
	t->nb_mask = nb - 1;
	t->nsa_mask = nsa - 1;
	t->b = big_calloc(t->max_b, sizeof(*t->b));
	t->sa = big_calloc(t->max_sa, sizeof(*t->sa));
	t->out_bkt = big_calloc(nb, sizeof(uint32_t));
	t->in_bkt = big_calloc(nb, sizeof(uint32_t));
	t->sa_bkt = big_calloc(nsa, sizeof(uint32_t));
	t->per_client = lim->per_client;
	t->pf_min = PF_MIN_BYTES;
	if (t->per_client) {
		t->cc_mask = 2 * nb - 1;
		t->cc = big_calloc(2 * (size_t)nb, sizeof(*t->cc));
	}
	if (!t->b || !t->sa || !t->out_bkt || !t->in_bkt || !t->sa_bkt ||
	    (t->per_client && !t->cc)) {
		session_table_free(t);
		errno = ENOMEM;
		return NULL;
	}
	if (getrandom(&t->seed, sizeof(t->seed), GRND_NONBLOCK) !=
	    sizeof(t->seed))
		t->seed = (uint64_t)(uintptr_t)t ^ 0x5851f42d4c957f2dull;
	return t;
}

void session_table_free(struct session_table *t)
{
	if (!t)
		return;
	big_free(t->b, t->max_b, sizeof(*t->b));
	big_free(t->sa, t->max_sa, sizeof(*t->sa));
	big_free(t->out_bkt, t->nb_mask + 1, sizeof(uint32_t));
	big_free(t->in_bkt, t->nb_mask + 1, sizeof(uint32_t));
	big_free(t->sa_bkt, t->nsa_mask + 1, sizeof(uint32_t));
	if (t->cc)
		big_free(t->cc, (size_t)t->cc_mask + 1, sizeof(*t->cc));
	free(t->gone);
	free(t);
}

static inline struct binding *B(const struct session_table *t, uint32_t link)
{
	return &t->b[link - 1];
}

static inline bool later(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) > 0;
}

/* Tells @b's ESP SAs what its flags now say.  An SA that stops carrying
 * its life hands @b the life and the last use it gave it. */
static void fast_update(struct session_table *t, struct binding *b)
{
	uint8_t st = esp_state(b);
	uint32_t l;

	for (l = b->sa_head; l; l = t->sa[l - 1].next_sib) {
		struct sa *a = &t->sa[l - 1];

		if (a->kind == SA_IKE)
			continue;
		if (a->x.state == ESP_FULL && st != ESP_FULL) {
			if (a->kind == SA_ESP_OUT &&
			    later(a->deadline, b->deadline))
				b->deadline = a->deadline;
			if (later(a->last_seen, b->last_seen))
				b->last_seen = a->last_seen;
		}
		a->x.state = st;
	}
}

/* When @b is due: its own deadline, or a later one of an outbound SA
 * that carries its life (ESP_FULL: after a reply, so the full life, as
 * touch() would give). */
static uint32_t live_deadline(const struct session_table *t,
			      const struct binding *b)
{
	uint32_t d = b->deadline, l;

	for (l = b->sa_head; l; l = t->sa[l - 1].next_sib) {
		const struct sa *a = &t->sa[l - 1];

		if (a->kind == SA_ESP_OUT && a->x.state == ESP_FULL &&
		    later(a->deadline, d))
			d = a->deadline;
	}
	return d;
}

/* ESP SA @a, going, leaves its counts to its session @b. */
static void sa_fold(struct binding *b, const struct sa *a)
{
	if (a->kind == SA_ESP_OUT) {
		b->pkts_out += a->pkts;
		b->bytes_out += a->bytes;
	} else if (a->kind == SA_ESP_IN) {
		b->pkts_in += a->pkts;
		b->bytes_in += a->bytes;
	} else {
		return;
	}
	if (later(a->last_seen, b->last_seen))
		b->last_seen = a->last_seen;
}

/* ESP SA @a now counts @pkts packets and @bytes bytes that @b counted. */
static void sa_takes(struct binding *b, const struct sa *a, uint64_t pkts,
		     uint64_t bytes)
{
	uint64_t *p = a->kind == SA_ESP_OUT ? &b->pkts_out : &b->pkts_in;
	uint64_t *y = a->kind == SA_ESP_OUT ? &b->bytes_out : &b->bytes_in;

	/* never below 0: a caller that did not count them there first (or
	 * a state file that says so) loses nothing but its own mistake */
	*p -= *p < pkts ? *p : pkts;
	*y -= *y < bytes ? *y : bytes;
}

/* The slot of @client in the count map: its own, or the empty one where
 * it would go. */
static uint32_t cc_slot(const struct session_table *t, uint32_t client)
{
	uint32_t h = (uint32_t)hash_mix(client, t->seed) & t->cc_mask;

	while (t->cc[h].n && t->cc[h].client != client)
		h = (h + 1) & t->cc_mask;
	return h;
}

static void cc_add(struct session_table *t, uint32_t client)
{
	uint32_t h;

	if (!t->cc)
		return;
	h = cc_slot(t, client);
	t->cc[h].client = client;
	t->cc[h].n++;
}

static void cc_remove(struct session_table *t, uint32_t client)
{
	uint32_t h, j, home;

	if (!t->cc)
		return;
	h = cc_slot(t, client);
	if (!t->cc[h].n || --t->cc[h].n)
		return;
	/* the slot is free: move back what probed past it (backward-shift
	 * deletion keeps every probe chain unbroken without tombstones) */
	for (j = (h + 1) & t->cc_mask; t->cc[j].n; j = (j + 1) & t->cc_mask) {
		home = (uint32_t)hash_mix(t->cc[j].client, t->seed) & t->cc_mask;
		if (((j - home) & t->cc_mask) >= ((j - h) & t->cc_mask)) {
			t->cc[h] = t->cc[j];
			t->cc[j].n = 0;
			h = j;
		}
	}
}

bool session_client_full(struct session_table *t, uint32_t client)
{
	const struct client_count *c;

	if (!t->cc)
		return false;
	c = &t->cc[cc_slot(t, client)];
	if (c->n < t->per_client)
		return false;
	t->cnt.refused_client++;
	return true;
}

session_id session_lookup_out(const struct session_table *t, uint32_t client,
			      uint32_t server)
{
	uint32_t l = t->out_bkt[hash_pair(t, client, server)];

	while (l) {
		const struct binding *b = B(t, l);

		if (b->client == client && b->server == server)
			return l;
		l = b->next_out;
	}
	return SESSION_NONE;
}

session_id session_lookup_in(const struct session_table *t, uint32_t alias,
			     uint32_t server, bool *shared)
{
	uint32_t l = t->in_bkt[hash_pair(t, alias, server)];

	for (; l; l = B(t, l)->next_in) {
		const struct binding *b = B(t, l);

		if (b->alias == alias && b->server == server) {
			*shared = b->flags & SESSION_F_SHARED;
			return l;
		}
	}
	*shared = false;
	return SESSION_NONE;
}

/* Marks every session of (alias, server) shared or not, by their number,
 * so that the packet path needs one lookup to know. */
static void group_mark(struct session_table *t, uint32_t alias,
		       uint32_t server)
{
	session_id first;
	bool shared = session_group(t, alias, server, &first) > 1;
	uint32_t l = t->in_bkt[hash_pair(t, alias, server)];

	for (; l; l = B(t, l)->next_in) {
		struct binding *b = B(t, l);

		if (b->alias != alias || b->server != server)
			continue;
		if (!shared == !(b->flags & SESSION_F_SHARED))
			continue;
		if (shared)
			b->flags |= SESSION_F_SHARED;
		else
			b->flags &= (uint16_t)~SESSION_F_SHARED;
		fast_update(t, b);
	}
}

session_id session_add(struct session_table *t, uint32_t client,
		       uint32_t server, uint32_t alias, uint32_t flags,
		       uint32_t mark_value, uint32_t mark_mask, uint32_t now,
		       uint32_t pending_timeout)
{
	uint32_t l = t->free_b, h;
	struct binding *b;

	if (l) {
		b = B(t, l);
		t->free_b = b->next_out;
	} else if (t->top_b < t->max_b) {
		l = ++t->top_b;
		b = B(t, l);
	} else {
		t->cnt.refused_full++;
		return SESSION_NONE;
	}
	memset(b, 0, sizeof(*b));
	b->client = client;
	b->server = server;
	b->alias = alias;
	b->flags = (uint16_t)flags;
	b->in_use = 1;
	b->mark_value = mark_value;
	b->mark_mask = mark_mask;
	b->created = b->last_seen = now;
	b->deadline = now + pending_timeout;
	h = hash_pair(t, client, server);
	b->next_out = t->out_bkt[h];
	t->out_bkt[h] = l;
	h = hash_pair(t, alias, server);
	b->next_in = t->in_bkt[h];
	t->in_bkt[h] = l;
	t->cnt.created++;
	t->cnt.active++;
	cc_add(t, client);
	if (b->next_in)		/* maybe not alone on its alias */
		group_mark(t, alias, server);
	return l;
}

static struct sa *sa_get(struct session_table *t, session_id s,
			 uint32_t server, enum sa_kind kind, uint64_t spi,
			 int *created);

session_id session_restore(struct session_table *t,
			   const struct session_view *v)
{
	struct binding *b;
	session_id s;

	if (session_lookup_out(t, v->client, v->server) != SESSION_NONE)
		return SESSION_NONE;
	s = session_add(t, v->client, v->server, v->alias,
			v->flags & (SESSION_F_REPLIED | SESSION_F_PINNED),
			v->mark_value, v->mark_mask, v->created, 0);
	if (s == SESSION_NONE)
		return s;
	b = B(t, s);
	b->last_seen = v->last_seen;
	b->deadline = v->deadline;
	b->pkts_out = v->pkts_out;
	b->pkts_in = v->pkts_in;
	b->bytes_out = v->bytes_out;
	b->bytes_in = v->bytes_in;
	b->natt_cport = v->natt_cport;
	b->natt_xport = v->natt_xport;
	b->ike_pend[0] = v->ike_pend[0];
	b->ike_pend[1] = v->ike_pend[1];
	b->ike_wait_until = v->ike_wait_until;
	return s;
}

int session_sa_restore(struct session_table *t, session_id s,
		       const struct sa_view *a)
{
	struct binding *b = B(t, s);
	struct sa *x;
	int created;

	/* an ESP SPI has 32 bits */
	if (a->kind >= SA_KIND_MAX ||
	    (a->kind != SA_IKE && (a->spi_i >> 32 || a->spi_r)))
		return -EINVAL;
	x = sa_get(t, s, b->server, (enum sa_kind)a->kind, a->spi_i, &created);
	if (!x)
		return -ENOSPC;
	if (!created)
		return -EEXIST;
	if (a->kind == SA_IKE) {
		x->u.spi_r = a->spi_r;
		x->x.exchange = a->exchange;
	}
	x->version = a->version;
	x->flags |= a->flags;
	x->last_seen = a->last_seen;
	x->deadline = a->deadline;
	x->pkts = a->pkts;
	x->bytes = a->bytes;
	/* the session's totals, restored, include the SA's */
	if (a->kind != SA_IKE)
		sa_takes(b, x, a->pkts, a->bytes);
	return 0;
}

uint32_t session_client(const struct session_table *t, session_id s)
{
	return B(t, s)->client;
}

uint32_t session_flags(const struct session_table *t, session_id s)
{
	return B(t, s)->flags;
}

uint32_t session_alias(const struct session_table *t, session_id s)
{
	return B(t, s)->alias;
}

void session_mark(const struct session_table *t, session_id s,
		  uint32_t *value, uint32_t *mask)
{
	*value = B(t, s)->mark_value;
	*mask = B(t, s)->mark_mask;
}

/* Returns whether this was the first reply (fast_update() is then due). */
static bool touch(struct binding *b, bool inbound, uint32_t bytes,
		  uint32_t now, uint32_t timeout, uint32_t pending)
{
	bool first = false;
	uint32_t until;

	b->last_seen = now;
	if (inbound) {
		b->pkts_in++;
		b->bytes_in += bytes;
		/* replies do not hold the alias for a client that is gone;
		 * only the first one turns the pending life into a full one */
		if (b->flags & SESSION_F_REPLIED)
			return false;
		b->flags |= SESSION_F_REPLIED;
		first = true;
		until = now + timeout;
	} else {
		b->pkts_out++;
		b->bytes_out += bytes;
		until = now + ((b->flags & SESSION_F_REPLIED) ? timeout :
			       pending);
	}
	if (later(until, b->deadline))
		b->deadline = until;
	return first;
}

void session_touch(struct session_table *t, session_id s, bool inbound,
		   uint32_t bytes, uint32_t now, uint32_t timeout,
		   uint32_t pending)
{
	struct binding *b = B(t, s);

	if (touch(b, inbound, bytes, now, timeout, pending))
		fast_update(t, b);
}

static void sa_unhash(struct session_table *t, uint32_t l)
{
	struct sa *a = &t->sa[l - 1];
	const struct binding *b = B(t, a->owner);
	uint32_t *pp = &t->sa_bkt[hash_sa(t, b->server, a->kind, sa_spi(a))];

	while (*pp && *pp != l)
		pp = &t->sa[*pp - 1].next_hash;
	if (*pp)
		*pp = a->next_hash;
}

/* One kernel entry of an SA of @b, as the worker asked for it */
static void entry_of(struct offload_entry *e, const struct binding *b,
		     bool in, bool natt, bool ike, uint64_t spi)
{
	offload_entry_of(e, in, natt, ike, b->client, b->server, b->alias,
			 spi);
}

/* The kernel entries SA @a of @b has, by its flags, in @e (room for 4). */
static unsigned sa_entries(const struct binding *b, const struct sa *a,
			   struct offload_entry *e)
{
	unsigned n = 0, i;

	if (a->kind == SA_IKE) {
		for (i = 0; i < 4; i++)
			if (a->flags & sa_ike_off_flag(i & 1, i >> 1))
				entry_of(&e[n++], b, i & 1, i >> 1, true,
					 a->key);
	} else if (a->kind == SA_ESP_OUT || a->kind == SA_ESP_IN) {
		bool in = a->kind == SA_ESP_IN;

		if (a->flags & SA_F_OFFLOADED)
			entry_of(&e[n++], b, in, false, false, sa_spi(a));
		if (a->flags & SA_F_OFFLOADED_UDP)
			entry_of(&e[n++], b, in, true, false, sa_spi(a));
	}
	return n;
}

/* SA @a of @b goes: what the kernel holds of it is to be removed. */
static void sa_gone(struct session_table *t, const struct binding *b,
		    const struct sa *a)
{
	struct offload_entry e[4];
	unsigned n = sa_entries(b, a, e), i;

	if (!n)
		return;
	if (!t->gone) {
		t->gone = malloc(GONE_MAX * sizeof(*t->gone));
		if (!t->gone) {
			t->gone_lost = true;
			return;
		}
	}
	for (i = 0; i < n; i++) {
		if (t->n_gone == GONE_MAX) {
			t->gone_lost = true;
			return;
		}
		t->gone[t->n_gone++] = e[i];
	}
}

static void sa_release(struct session_table *t, uint32_t l)
{
	struct sa *a = &t->sa[l - 1];

	if (a->flags & SA_F_OFFLOAD_ANY)
		sa_gone(t, B(t, a->owner), a);
	a->owner = 0;
	a->kind = SA_KIND_MAX;		/* found by no lookup, no hint */
	a->next_hash = t->free_sa;
	t->free_sa = l;
	t->cnt.sa_active--;
}

/* SA (@kind, @spi) of session @s, on @server, found or made (*@created
 * then 1); NULL when it cannot be made (counted). */
static struct sa *sa_get(struct session_table *t, session_id s,
			 uint32_t server, enum sa_kind kind, uint64_t spi,
			 int *created)
{
	struct binding *b = B(t, s);
	uint32_t h = hash_sa(t, server, (uint8_t)kind,
			     kind == SA_IKE ? spi : (uint32_t)spi);
	uint64_t key = sa_key(server, (uint8_t)kind, spi);
	uint32_t l = t->sa_bkt[h];
	struct sa *a;

	*created = 0;
	for (; l; l = a->next_hash) {
		a = &t->sa[l - 1];
		if (a->owner == s && a->kind == kind && a->key == key)
			return a;
	}
	/* one session cannot take the pool: a sender of random SPIs posing
	 * as its server would, on an alias of its own */
	if (b->n_sa >= SESSION_MAX_SAS) {
		t->cnt.sa_refused_session++;
		return NULL;
	}
	l = t->free_sa;
	if (l) {
		a = &t->sa[l - 1];
		t->free_sa = a->next_hash;
	} else if (t->top_sa < t->max_sa) {
		l = ++t->top_sa;
		a = &t->sa[l - 1];
	} else {
		t->cnt.sa_refused_full++;
		return NULL;
	}
	memset(a, 0, sizeof(*a));
	a->key = key;
	a->owner = s;
	a->kind = (uint8_t)kind;
	if (kind != SA_IKE) {
		a->u.esp.local = kind == SA_ESP_OUT ? b->client : b->alias;
		a->u.esp.peer = kind == SA_ESP_OUT ? b->alias : b->client;
		a->mark_value = b->mark_value;
		a->mark_mask = b->mark_mask;
		a->x.state = esp_state(b);
	}
	a->next_hash = t->sa_bkt[h];
	t->sa_bkt[h] = l;
	a->next_sib = b->sa_head;
	b->sa_head = l;
	b->n_sa++;
	t->cnt.sa_created++;
	t->cnt.sa_active++;
	*created = 1;
	return a;
}

int session_sa_touch(struct session_table *t, session_id s, uint32_t server,
		     enum sa_kind kind, uint64_t spi_i, uint64_t spi_r,
		     uint8_t version, uint8_t exchange, uint8_t flags,
		     uint32_t bytes, uint32_t now, uint32_t timeout)
{
	int created;
	struct sa *a = sa_get(t, s, server, kind, spi_i, &created);

	if (!a)
		return -ENOSPC;
	if (kind == SA_IKE) {
		if (spi_r && !a->u.spi_r)
			a->u.spi_r = spi_r;
		a->x.exchange = exchange;
	}
	if (version)
		a->version = version;
	a->flags |= flags;
	a->pkts++;
	a->bytes += bytes;
	a->last_seen = now;
	a->deadline = now + timeout;
	/* an ESP SA counts its packets for its session */
	if (kind != SA_IKE)
		sa_takes(B(t, s), a, 1, bytes);
	return created;
}

/* The ESP SA (@kind, @spi) of @server's session with, outbound, client
 * @local or, inbound, alias @local, and in *@bp that session; or NULL. */
static struct sa *esp_find(const struct session_table *t, uint32_t server,
			   enum sa_kind kind, uint32_t spi, uint32_t local,
			   struct binding **bp)
{
	uint32_t l = t->sa_bkt[hash_sa(t, server, (uint8_t)kind, spi)];
	uint64_t key = sa_key(server, (uint8_t)kind, spi);
	struct sa *a;

	for (; l; l = a->next_hash) {
		a = &t->sa[l - 1];
		if (a->key == key && a->kind == kind &&
		    a->u.esp.local == local) {
			*bp = B(t, a->owner);
			return a;
		}
	}
	return NULL;
}

/* The hash bucket, then the SA, or only the SA @hint names when it is
 * still the one: the session is read only before its first reply, for its
 * pending life (see struct sa). */
session_id session_esp_known(struct session_table *t, session_sa_hint hint,
			     uint32_t server, enum sa_kind kind, uint32_t spi,
			     uint32_t local, uint8_t flags, uint32_t bytes,
			     uint32_t now, uint32_t timeout, uint32_t pending,
			     struct session_hit *hit)
{
	uint64_t key = (uint64_t)server << 32 | spi;
	struct sa *a;
	uint32_t l;

	/* a released SA has no kind (sa_release()), so a hint to one that
	 * went since matches nothing, and one to its slot's next SA
	 * matches only that SA's own packets */
	if (hint) {
		a = &t->sa[hint - 1];
		if (a->key == key && a->kind == kind &&
		    a->u.esp.local == local)
			goto found;
	}
	for (l = t->sa_bkt[hash_sa(t, server, (uint8_t)kind, spi)]; l;
	     l = a->next_hash) {
		a = &t->sa[l - 1];
		if (a->key == key && a->kind == kind &&
		    a->u.esp.local == local)
			goto found;
	}
	return SESSION_NONE;
found:
	if (a->x.state != ESP_FULL) {
		struct binding *b = B(t, a->owner);

		/* shared, or the first reply, which makes the session's
		 * life a full one: the full path's */
		if (!(a->x.state & ESP_ALONE) || kind == SA_ESP_IN)
			return SESSION_NONE;
		/* no reply yet: the pending life, as touch() */
		b->last_seen = now;
		if (later(now + pending, b->deadline))
			b->deadline = now + pending;
	}
	a->flags |= flags & SA_F_NATT;
	a->pkts++;
	a->bytes += bytes;
	a->last_seen = now;
	a->deadline = now + timeout;
	hit->peer = a->u.esp.peer;
	hit->mark_value = a->mark_value;
	hit->mark_mask = a->mark_mask;
	if (flags & SESSION_ESP_CLAIM) {
		uint8_t off = flags & SA_F_NATT ? SA_F_OFFLOADED_UDP :
				  SA_F_OFFLOADED;

		hit->offload_new = !(a->flags & off);
		a->flags |= off;
	}
	return a->owner;
}

/* @pkts packets (at least 1) and @bytes bytes the kernel carried of SA @a
 * of session @b, as if they had been seen now. */
static void credit(struct session_table *t, struct binding *b, struct sa *a,
		   bool in, uint64_t pkts, uint64_t bytes, uint32_t now,
		   uint32_t timeout, uint32_t pending)
{
	a->pkts += pkts;
	a->bytes += bytes;
	a->last_seen = now;
	a->deadline = now + timeout;
	/* an ESP SA that carries its session's life keeps it so (see
	 * struct sa) */
	if (a->kind != SA_IKE && a->x.state == ESP_FULL)
		return;
	if (touch(b, in, 0, now, timeout, pending))
		fast_update(t, b);
	/* touch() counted one packet and no bytes */
	if (a->kind != SA_IKE) {
		sa_takes(b, a, 1, 0);
	} else if (in) {
		b->pkts_in += pkts - 1;
		b->bytes_in += bytes;
	} else {
		b->pkts_out += pkts - 1;
		b->bytes_out += bytes;
	}
}

int session_esp_credit(struct session_table *t, uint32_t server,
		       enum sa_kind kind, uint32_t spi, uint32_t local,
		       uint32_t peer, uint8_t natt_flag, uint64_t pkts,
		       uint64_t bytes, uint32_t now, uint32_t timeout,
		       uint32_t pending)
{
	bool in = kind == SA_ESP_IN;
	struct binding *b;
	struct sa *a;

	if (kind != SA_ESP_OUT && kind != SA_ESP_IN)
		return -EINVAL;
	a = esp_find(t, server, kind, spi, local, &b);
	if (!a)
		return -ENOENT;
	/* what the kernel did must be what this table would do */
	if (!(a->flags & (natt_flag ? SA_F_OFFLOADED_UDP : SA_F_OFFLOADED)) ||
	    (in ? b->client : b->alias) != peer)
		return -ESTALE;
	if (!pkts)
		return 0;
	credit(t, b, a, in, pkts, bytes, now, timeout, pending);
	return 0;
}

/* IKE SA @spi of @server's session with, inbound, alias @local or,
 * outbound, client @local (@local 0 with @s: session @s's), or NULL. */
static struct sa *ike_find(const struct session_table *t, uint32_t server,
			   uint64_t spi, bool inbound, uint32_t local,
			   session_id s, struct binding **bp)
{
	uint32_t l = t->sa_bkt[hash_sa(t, server, SA_IKE, spi)];
	struct binding *b;
	struct sa *a;

	for (; l; l = a->next_hash) {
		a = &t->sa[l - 1];
		if (a->key != spi || a->kind != SA_IKE)
			continue;
		b = B(t, a->owner);
		if (b->server != server)
			continue;
		if (s ? a->owner == s :
		    (inbound ? b->alias : b->client) == local) {
			*bp = b;
			return a;
		}
	}
	return NULL;
}

int session_ike_claim(struct session_table *t, session_id s, uint32_t server,
		      uint64_t spi_i, uint8_t bit)
{
	struct binding *b;
	struct sa *a = ike_find(t, server, spi_i, false, 0, s, &b);

	if (!a)
		return -ENOENT;
	if (a->flags & bit)
		return 0;
	a->flags |= bit;
	return 1;
}

int session_ike_credit(struct session_table *t, uint32_t server,
		       uint64_t spi_i, bool inbound, uint32_t local,
		       uint32_t peer, uint8_t bit, uint64_t pkts,
		       uint64_t bytes, uint32_t now, uint32_t timeout,
		       uint32_t pending)
{
	struct binding *b;
	struct sa *a = ike_find(t, server, spi_i, inbound, local, SESSION_NONE,
				&b);

	if (!a)
		return -ENOENT;
	if (!(a->flags & bit) || (inbound ? b->client : b->alias) != peer)
		return -ESTALE;
	if (!pkts)
		return 0;
	credit(t, b, a, inbound, pkts, bytes, now, timeout, pending);
	return 0;
}

void session_offload_forget(struct session_table *t)
{
	uint32_t i;

	for (i = 0; i < t->top_sa; i++)
		t->sa[i].flags &= (uint8_t)~SA_F_OFFLOAD_ANY;
	/* the kernel's entries went with the maps */
	t->n_gone = 0;
	t->gone_lost = false;
	t->off_gen++;
}

uint32_t session_offload_gen(const struct session_table *t)
{
	return t->off_gen;
}

/* SA slots session_offload_list() looks at per call, at most: the lock
 * it is called under is held for one slice (as for expiry) */
#define LIST_SLICE 16384u

size_t session_offload_list(const struct session_table *t, uint32_t *at,
			    struct offload_entry *out, size_t max,
			    size_t *count)
{
	size_t n = 0;
	uint32_t i, end = *at + LIST_SLICE;

	if (end > t->top_sa || end < *at)
		end = t->top_sa;
	for (i = *at; i < end && n + 4 <= max; i++) {
		const struct sa *a = &t->sa[i];
		unsigned k;

		if (!a->owner || !(a->flags & SA_F_OFFLOAD_ANY))
			continue;
		k = sa_entries(B(t, a->owner), a, &out[n]);
		if (count)
			for (unsigned j = 0; j < k; j++)
				count[out[n + j].map]++;
		n += k;
	}
	*at = i < t->top_sa ? i : 0;
	return n;
}

size_t session_offload_gone(struct session_table *t,
			    struct offload_entry *out, size_t max, bool *lost)
{
	size_t n = t->n_gone < max ? t->n_gone : max;

	/* from the end: what is left stays where it is */
	t->n_gone -= (uint32_t)n;
	if (n)
		memcpy(out, &t->gone[t->n_gone], n * sizeof(*out));
	*lost = t->gone_lost;
	t->gone_lost = false;
	return n;
}

int session_offload_lost(struct session_table *t, const struct offload_entry *e)
{
	bool in = offload_map_inbound(e->map), natt = offload_map_natt(e->map);
	uint32_t server = offload_entry_server(e);
	uint32_t local = offload_entry_local(e);
	struct binding *b;
	struct sa *a;
	uint8_t bit;

	if (offload_map_ike(e->map)) {
		a = ike_find(t, server, e->spi, in, local, SESSION_NONE, &b);
		bit = sa_ike_off_flag(in, natt);
	} else {
		a = esp_find(t, server, in ? SA_ESP_IN : SA_ESP_OUT,
			     (uint32_t)e->spi, local, &b);
		bit = natt ? SA_F_OFFLOADED_UDP : SA_F_OFFLOADED;
	}
	if (!a || !(a->flags & bit))
		return -ENOENT;
	a->flags &= (uint8_t)~bit;
	return 0;
}


bool session_prefetch_worth(const struct session_table *t)
{
	return (size_t)t->cnt.sa_active * sizeof(struct sa) +
	       (size_t)t->cnt.active * sizeof(struct binding) >= t->pf_min;
}

void session_set_prefetch_from(struct session_table *t, size_t bytes)
{
	t->pf_min = bytes;
}

void session_esp_prefetch(const struct session_table *t,
			  struct session_pf *pf, unsigned n)
{
	uint8_t at[SESSION_PF_MAX];	/* the packets still looked up */
	unsigned i, k, m = 0, j;

	if (n > SESSION_PF_MAX)
		n = SESSION_PF_MAX;
	for (i = 0; i < n; i++) {
		pf[i].hint = 0;
		if (pf[i].kind >= SA_KIND_MAX)
			continue;
		pf[i].v = hash_sa(t, (uint32_t)(pf[i].key >> 32), pf[i].kind,
				  (uint32_t)pf[i].key);
		__builtin_prefetch(&t->sa_bkt[pf[i].v]);
		at[m++] = (uint8_t)i;
	}
	for (k = j = 0; k < m; k++) {
		struct session_pf *p = &pf[at[k]];
		uint32_t l = t->sa_bkt[p->v];

		if (!l)
			continue;
		p->v = l;
		__builtin_prefetch(&t->sa[l - 1]);
		at[j++] = at[k];
	}
	/* to the end of every chain: each step is the few packets whose
	 * chains go on so far */
	for (m = j; m; m = j)
		for (k = j = 0; k < m; k++) {
			struct session_pf *p = &pf[at[k]];
			const struct sa *a = &t->sa[p->v - 1];

			if (a->key == p->key && a->kind == p->kind &&
			    a->u.esp.local == p->local) {
				p->hint = p->v;
				continue;
			}
			if (!a->next_hash)
				continue;
			p->v = a->next_hash;
			__builtin_prefetch(&t->sa[p->v - 1]);
			at[j++] = at[k];
		}
}

/* every line of binding link @l (112 bytes: two or three lines) */
static inline void prefetch_binding(const struct session_table *t,
				    uint32_t l)
{
	const char *p = (const char *)B(t, l);

	__builtin_prefetch(p);
	__builtin_prefetch(p + 64);
	__builtin_prefetch(p + sizeof(struct binding) - 1);
}

void session_warm_start(const struct session_table *t,
			struct session_warm *w, unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++) {
		w[i].vb = hash_pair(t, w[i].a, w[i].server);
		__builtin_prefetch(w[i].in ? &t->in_bkt[w[i].vb] :
					     &t->out_bkt[w[i].vb]);
		w[i].vs = hash_sa(t, w[i].server, SA_IKE, w[i].spi);
		__builtin_prefetch(&t->sa_bkt[w[i].vs]);
	}
}

void session_warm_finish(const struct session_table *t,
			 struct session_warm *w, unsigned n)
{
	uint8_t at[SESSION_PF_MAX];
	unsigned i, k, m = 0, j;

	if (n > SESSION_PF_MAX)
		n = SESSION_PF_MAX;
	for (i = 0; i < n; i++) {
		w[i].s = w[i].ike = SESSION_NONE;
		w[i].vb = w[i].in ? t->in_bkt[w[i].vb] : t->out_bkt[w[i].vb];
		w[i].vs = t->sa_bkt[w[i].vs];
		if (w[i].vb)
			prefetch_binding(t, w[i].vb);
		if (w[i].vs)
			__builtin_prefetch(&t->sa[w[i].vs - 1]);
		if (w[i].vb || w[i].vs)
			at[m++] = (uint8_t)i;
	}
	/* a step: each packet's session chain and SA chain one link on,
	 * until every one has found its own or come to an end */
	for (; m; m = j)
		for (k = j = 0; k < m; k++) {
			struct session_warm *p = &w[at[k]];

			if (p->vb) {
				const struct binding *b = B(t, p->vb);

				if ((p->in ? b->alias : b->client) == p->a &&
				    b->server == p->server) {
					p->s = p->vb;
					p->vb = 0;
				} else if ((p->vb = p->in ? b->next_in :
							    b->next_out)) {
					prefetch_binding(t, p->vb);
				}
			}
			if (p->vs) {
				const struct sa *a = &t->sa[p->vs - 1];

				if (a->kind == SA_IKE && a->key == p->spi) {
					p->ike = a->owner;
					p->vs = 0;
				} else if ((p->vs = a->next_hash)) {
					__builtin_prefetch(&t->sa[p->vs - 1]);
				}
			}
			if (p->vb || p->vs)
				at[j++] = at[k];
		}
}

unsigned session_group(const struct session_table *t, uint32_t alias,
		       uint32_t server, session_id *first)
{
	uint32_t l = t->in_bkt[hash_pair(t, alias, server)];
	unsigned n = 0;

	*first = SESSION_NONE;
	for (; l; l = B(t, l)->next_in) {
		const struct binding *b = B(t, l);

		if (b->alias != alias || b->server != server)
			continue;
		if (!n++)
			*first = l;
	}
	return n;
}

session_id session_by_spi(const struct session_table *t, uint32_t alias,
			  uint32_t server, enum sa_kind kind, uint64_t spi,
			  unsigned *owners)
{
	uint32_t l;
	uint64_t key = sa_key(server, (uint8_t)kind, spi);
	session_id found = SESSION_NONE;

	*owners = 0;
	if (kind != SA_IKE && spi >> 32)
		return SESSION_NONE;
	l = t->sa_bkt[hash_sa(t, server, (uint8_t)kind, spi)];
	for (; l; l = t->sa[l - 1].next_hash) {
		const struct sa *a = &t->sa[l - 1];
		const struct binding *b;

		if (a->kind != kind || a->key != key)
			continue;
		b = B(t, a->owner);
		if (b->alias != alias || b->server != server ||
		    a->owner == found)
			continue;
		found = a->owner;
		++*owners;
	}
	return *owners == 1 ? found : SESSION_NONE;
}

static bool gate_live(const struct binding *b, uint32_t now_ms)
{
	return b->gate_until_ms && (int32_t)(b->gate_until_ms - now_ms) > 0;
}

session_id session_gate_holder(struct session_table *t, uint32_t alias,
			       uint32_t server, uint32_t now_ms)
{
	uint32_t l = t->in_bkt[hash_pair(t, alias, server)];

	for (; l; l = B(t, l)->next_in) {
		struct binding *b = B(t, l);

		if (b->alias != alias || b->server != server ||
		    !b->gate_until_ms)
			continue;
		if (gate_live(b, now_ms))
			return l;
		/* the hold ran out: a negotiation that left no new SA in
		 * use (an IKE rekey, a failure) waits for nothing */
		b->gate_until_ms = 0;
		if (!(b->flags & SESSION_F_NEW_OUT))
			b->flags &= (uint16_t)~SESSION_F_SPI_WAIT;
		t->cnt.gate_timeouts++;
	}
	return SESSION_NONE;
}

/* Another session of @b's group takes the gate: waits whose hold ran out
 * end, so that at most one session claims the next unknown SPI. */
static void cancel_stale_waits(struct session_table *t, const struct binding *b,
			       uint32_t now_ms)
{
	uint32_t l = t->in_bkt[hash_pair(t, b->alias, b->server)];

	for (; l; l = B(t, l)->next_in) {
		struct binding *o = B(t, l);

		if (o == b || o->alias != b->alias || o->server != b->server ||
		    !(o->flags & SESSION_F_SPI_WAIT) || gate_live(o, now_ms))
			continue;
		o->flags &= (uint16_t)~(SESSION_F_SPI_WAIT | SESSION_F_NEW_OUT);
		o->gate_until_ms = 0;
		t->cnt.spi_wait_cancelled++;
	}
}

static void gate_take(struct session_table *t, struct binding *b,
		      uint32_t now_ms, uint32_t hold_ms)
{
	uint32_t until_ms = now_ms + hold_ms;

	if (b->flags & SESSION_F_SHARED)
		cancel_stale_waits(t, b, now_ms);
	t->gate_hold_ms = hold_ms;
	b->gate_until_ms = until_ms ? until_ms : 1;
	t->cnt.gate_holds++;
}

void session_gate_take(struct session_table *t, session_id s,
		       uint32_t now_ms, uint32_t hold_ms, uint32_t wait_until)
{
	struct binding *b = B(t, s);

	gate_take(t, b, now_ms, hold_ms);
	b->flags = (uint16_t)((b->flags | SESSION_F_SPI_WAIT) &
			      ~(SESSION_F_NEW_OUT | SESSION_F_IN_FRESH));
	b->wait_until = wait_until;
}

void session_spi_wait(struct session_table *t, session_id s,
		      uint32_t now_ms, uint32_t hold_ms, uint32_t wait_until)
{
	struct binding *b = B(t, s);

	if (b->flags & SESSION_F_IN_FRESH) {
		/* its inbound SPI came first: the pair is complete */
		b->flags &= (uint16_t)~SESSION_F_IN_FRESH;
		return;
	}
	if (!gate_live(b, now_ms) &&
	    session_gate_holder(t, b->alias, b->server, now_ms) ==
	    SESSION_NONE)
		gate_take(t, b, now_ms, hold_ms);
	if (!(b->flags & SESSION_F_SPI_WAIT) ||
	    (int32_t)(wait_until - b->wait_until) > 0)
		b->wait_until = wait_until;
	b->flags |= SESSION_F_SPI_WAIT | SESSION_F_NEW_OUT;
}

void session_ccsa(struct session_table *t, session_id s, bool by_server,
		  uint32_t key, uint32_t until)
{
	struct binding *b = B(t, s);

	b->ike_wait_until = until;
	if (b->ike_pend[by_server] && b->ccsa_key[by_server] == key)
		return;			/* a retransmission */
	b->ccsa_key[by_server] = key;
	if (b->ike_pend[by_server] < 8)
		b->ike_pend[by_server]++;
}

void session_ike_learned(struct session_table *t, session_id s,
			 bool by_server)
{
	struct binding *b = B(t, s);

	if (b->ike_pend[by_server])
		b->ike_pend[by_server]--;
}

session_id session_ike_waiter(const struct session_table *t, uint32_t alias,
			      uint32_t server, bool by_server, uint32_t now,
			      unsigned *n)
{
	uint32_t l = t->in_bkt[hash_pair(t, alias, server)];
	session_id found = SESSION_NONE;

	*n = 0;
	for (; l; l = B(t, l)->next_in) {
		const struct binding *b = B(t, l);

		if (b->alias != alias || b->server != server ||
		    !b->ike_pend[by_server] ||
		    (int32_t)(now - b->ike_wait_until) >= 0)
			continue;
		found = l;
		++*n;
	}
	return *n == 1 ? found : SESSION_NONE;
}

session_id session_spi_waiter(const struct session_table *t, uint32_t alias,
			      uint32_t server, uint32_t now, unsigned *n)
{
	uint32_t l = t->in_bkt[hash_pair(t, alias, server)];
	session_id found = SESSION_NONE;

	*n = 0;
	for (; l; l = B(t, l)->next_in) {
		const struct binding *b = B(t, l);

		if (b->alias != alias || b->server != server ||
		    !(b->flags & SESSION_F_SPI_WAIT) ||
		    (int32_t)(now - b->wait_until) >= 0)
			continue;
		found = l;
		++*n;
	}
	return *n == 1 ? found : SESSION_NONE;
}

/* Whether another session of @b's group shows the server port @port. */
static bool xport_taken(const struct session_table *t,
			const struct binding *b, uint16_t port)
{
	uint32_t l = t->in_bkt[hash_pair(t, b->alias, b->server)];

	for (; l; l = B(t, l)->next_in) {
		const struct binding *o = B(t, l);

		if (o != b && o->alias == b->alias && o->server == b->server &&
		    o->natt_xport == port)
			return true;
	}
	return false;
}

uint16_t session_natt_port(struct session_table *t, session_id s,
			   uint16_t cport, uint16_t lo, uint16_t hi)
{
	struct binding *b = B(t, s);
	uint32_t n, i, start;

	if (b->natt_xport && b->natt_cport == cport)
		return b->natt_xport;
	b->natt_cport = cport;
	b->natt_xport = 0;
	if (!xport_taken(t, b, cport)) {
		b->natt_xport = cport;
		return cport;
	}
	if (!lo)
		return 0;
	/* start from a point of the client's own, so a client that comes
	 * back tends to get its old port */
	n = (uint32_t)hi - lo + 1;
	start = hash_mix((uint64_t)b->client << 32 | b->server, t->seed) % n;
	for (i = 0; i < n; i++) {
		uint16_t p = (uint16_t)(lo + (start + i) % n);

		if (!xport_taken(t, b, p)) {
			b->natt_xport = p;
			return p;
		}
	}
	return 0;
}

uint16_t session_natt_xport(const struct session_table *t, session_id s,
			    uint16_t *cport)
{
	const struct binding *b = B(t, s);

	*cport = b->natt_cport;
	return b->natt_xport;
}

session_id session_by_natt_port(const struct session_table *t, uint32_t alias,
				uint32_t server, uint16_t xport,
				uint16_t *cport)
{
	uint32_t l = t->in_bkt[hash_pair(t, alias, server)];

	for (; l; l = B(t, l)->next_in) {
		const struct binding *b = B(t, l);

		if (b->alias == alias && b->server == server &&
		    b->natt_xport == xport) {
			*cport = b->natt_cport;
			return l;
		}
	}
	return SESSION_NONE;
}

static struct frag_owner *frag_slot(struct session_table *t, uint32_t server,
				     uint32_t alias, uint16_t ip_id,
				     uint8_t proto)
{
	uint64_t k = (uint64_t)server << 32 | (uint32_t)ip_id << 8 | proto;

	return &t->frag[hash_mix(k ^ (uint64_t)alias << 40, t->seed) %
			FRAG_SLOTS];
}

void session_frag_note(struct session_table *t, session_id s,
		       uint16_t ip_id, uint8_t proto, uint32_t now)
{
	const struct binding *b = B(t, s);
	struct frag_owner *f = frag_slot(t, b->server, b->alias, ip_id,
					 proto);

	*f = (struct frag_owner){
		.server = b->server, .alias = b->alias, .client = b->client,
		.owner = s, .until = now + FRAG_LIFE, .ip_id = ip_id,
		.proto = proto,
	};
}

session_id session_frag_owner(struct session_table *t, uint32_t alias,
			      uint32_t server, uint16_t ip_id, uint8_t proto,
			      uint32_t now)
{
	const struct frag_owner *f = frag_slot(t, server, alias, ip_id,
					       proto);
	const struct binding *b;

	if (!f->owner || f->server != server || f->alias != alias ||
	    f->ip_id != ip_id || f->proto != proto ||
	    (int32_t)(now - f->until) >= 0)
		return SESSION_NONE;
	/* the session may have gone, and its slot been reused */
	b = B(t, f->owner);
	if (!b->in_use || b->client != f->client || b->alias != alias ||
	    b->server != server)
		return SESSION_NONE;
	return f->owner;
}

void session_spi_learned(struct session_table *t, session_id s,
			 uint32_t now_ms)
{
	struct binding *b = B(t, s);
	bool by_server = !(b->flags & SESSION_F_NEW_OUT);

	/* the inbound SPI of a new SA in use outbound completes a pair;
	 * one that came first waits for its outbound SPI to pair with */
	if (b->flags & SESSION_F_NEW_OUT)
		b->flags &= (uint16_t)~SESSION_F_IN_FRESH;
	else
		b->flags |= SESSION_F_IN_FRESH;
	/* an exchange made a CHILD SA, not an IKE SA: the initiator of a
	 * CHILD SA uses it first, so one the client started if it did */
	if (!b->ike_pend[by_server])
		by_server = !by_server;
	if (b->ike_pend[by_server])
		b->ike_pend[by_server]--;
	b->flags &= (uint16_t)~(SESSION_F_SPI_WAIT | SESSION_F_NEW_OUT);
	if (b->gate_until_ms) {
		/* how long it was held: from the take to now */
		uint32_t held = now_ms - (b->gate_until_ms - t->gate_hold_ms);

		if (held > t->gate_hold_ms)
			held = t->gate_hold_ms;
		t->cnt.gate_held_ms_total += held;
		if (held > t->cnt.gate_held_ms_max)
			t->cnt.gate_held_ms_max = held;
		b->gate_until_ms = 0;
		t->cnt.gate_released++;
	}
}

void session_count_event(struct session_table *t, enum session_event e)
{
	switch (e) {
	case SESSION_EV_GATE_DEFERRED:
		t->cnt.gate_deferred++;
		break;
	case SESSION_EV_SPI_AMBIGUOUS:
		t->cnt.spi_ambiguous++;
		break;
	case SESSION_EV_SPI_UNKNOWN:
		t->cnt.spi_unknown++;
		break;
	case SESSION_EV_SPI_ASSIGNED:
		t->cnt.spi_assigned++;
		break;
	case SESSION_EV_IKE_ASSIGNED:
		t->cnt.ike_assigned++;
		break;
	}
}

static void binding_delete(struct session_table *t, uint32_t l)
{
	struct binding *b = B(t, l);
	uint32_t *pp, sl, next;

	for (sl = b->sa_head; sl; sl = next) {
		next = t->sa[sl - 1].next_sib;
		sa_unhash(t, sl);
		sa_release(t, sl);
	}
	pp = &t->out_bkt[hash_pair(t, b->client, b->server)];
	while (*pp && *pp != l)
		pp = &B(t, *pp)->next_out;
	if (*pp)
		*pp = b->next_out;
	pp = &t->in_bkt[hash_pair(t, b->alias, b->server)];
	while (*pp && *pp != l)
		pp = &B(t, *pp)->next_in;
	if (*pp)
		*pp = b->next_in;
	b->in_use = 0;
	b->next_out = t->free_b;
	t->free_b = l;
	t->cnt.active--;
	cc_remove(t, b->client);
	if (b->flags & SESSION_F_SHARED)
		group_mark(t, b->alias, b->server);
}

static bool expired(uint32_t deadline, uint32_t now)
{
	return (int32_t)(now - deadline) >= 0;
}

unsigned session_expire(struct session_table *t, uint32_t now)
{
	return session_expire_cb(t, now, NULL, NULL);
}

/* Expires session slot @i if it is due, else its SAs that are.  Returns
 * 1 when the session went. */
static unsigned expire_slot(struct session_table *t, uint32_t i, uint32_t now,
			    session_gone_fn fn, void *ctx)
{
	struct binding *b = &t->b[i];
	uint32_t *pp;

	if (!b->in_use)
		return 0;
	if (expired(b->deadline, now))
		b->deadline = live_deadline(t, b);
	if (expired(b->deadline, now)) {
		if (fn)
			fn(ctx, b->client, b->server, b->alias);
		binding_delete(t, i + 1);
		t->cnt.expired++;
		return 1;
	}
	pp = &b->sa_head;
	while (*pp) {
		uint32_t sl = *pp;
		struct sa *a = &t->sa[sl - 1];

		if (expired(a->deadline, now)) {
			*pp = a->next_sib;
			sa_fold(b, a);
			sa_unhash(t, sl);
			sa_release(t, sl);
			b->n_sa--;
			t->cnt.sa_expired++;
		} else {
			pp = &a->next_sib;
		}
	}
	return 0;
}


unsigned session_expire_step(struct session_table *t, uint32_t now,
			     uint32_t budget, session_gone_fn fn, void *ctx)
{
	unsigned gone = 0;
	uint32_t n;

	/* slots above top_b were never used */
	if (!budget || budget > t->top_b)
		budget = t->top_b;
	for (n = 0; n < budget; n++) {
		gone += expire_slot(t, t->expire_at, now, fn, ctx);
		if (++t->expire_at >= t->top_b)
			t->expire_at = 0;
	}
	return gone;
}

unsigned session_expire_cb(struct session_table *t, uint32_t now,
			   session_gone_fn fn, void *ctx)
{
	/* the whole table, from where the slices are: they stay there */
	return session_expire_step(t, now, 0, fn, ctx);
}

/* Removes the sessions of @client, or every session when @all. */
static unsigned remove_where(struct session_table *t, bool all,
			     uint32_t client)
{
	unsigned gone = 0;
	uint32_t i;

	for (i = 0; i < t->top_b; i++) {
		if (!t->b[i].in_use || (!all && t->b[i].client != client))
			continue;
		binding_delete(t, i + 1);
		gone++;
	}
	t->cnt.flushed += gone;
	return gone;
}

unsigned session_flush(struct session_table *t)
{
	return remove_where(t, true, 0);
}

unsigned session_flush_client(struct session_table *t, uint32_t client)
{
	return remove_where(t, false, client);
}

void session_counters(const struct session_table *t,
		      struct session_counters *out)
{
	*out = t->cnt;
}

int session_snapshot(const struct session_table *t, struct session_view **sv,
		     size_t *n_sv, struct sa_view **av, size_t *n_av)
{
	size_t nb = t->cnt.active, na = t->cnt.sa_active, bi = 0, ai = 0;
	struct session_view *v;
	struct sa_view *w;
	uint32_t i;

	v = calloc(nb ? nb : 1, sizeof(*v));
	w = calloc(na ? na : 1, sizeof(*w));
	if (!v || !w) {
		free(v);
		free(w);
		return -ENOMEM;
	}
	for (i = 0; i < t->top_b && bi < nb; i++) {
		const struct binding *b = &t->b[i];
		uint32_t sl;

		if (!b->in_use)
			continue;
		v[bi] = (struct session_view){
			.id = i + 1, .client = b->client, .server = b->server,
			.alias = b->alias, .flags = b->flags,
			.mark_value = b->mark_value, .mark_mask = b->mark_mask,
			.created = b->created, .last_seen = b->last_seen,
			.deadline = live_deadline(t, b), .pkts_out = b->pkts_out,
			.pkts_in = b->pkts_in, .bytes_out = b->bytes_out,
			.bytes_in = b->bytes_in, .first_sa = (uint32_t)ai,
			.gate_until_ms = b->gate_until_ms,
			.wait_until = b->wait_until,
			.natt_cport = b->natt_cport,
			.natt_xport = b->natt_xport,
			.ike_wait_until = b->ike_wait_until,
			.ike_pend = { b->ike_pend[0], b->ike_pend[1] },
		};
		for (sl = b->sa_head; sl && ai < na; sl = t->sa[sl - 1].next_sib) {
			const struct sa *a = &t->sa[sl - 1];

			/* the session's totals include its ESP SAs' */
			if (a->kind == SA_ESP_OUT) {
				v[bi].pkts_out += a->pkts;
				v[bi].bytes_out += a->bytes;
			} else if (a->kind == SA_ESP_IN) {
				v[bi].pkts_in += a->pkts;
				v[bi].bytes_in += a->bytes;
			}
			if (a->kind != SA_IKE &&
			    later(a->last_seen, v[bi].last_seen))
				v[bi].last_seen = a->last_seen;
			w[ai++] = (struct sa_view){
				.spi_i = sa_spi(a),
				.spi_r = a->kind == SA_IKE ? a->u.spi_r : 0,
				.kind = a->kind, .version = a->version,
				.flags = a->flags,
				.exchange = a->kind == SA_IKE ?
					    a->x.exchange : 0,
				.last_seen = a->last_seen,
				.deadline = a->deadline, .pkts = a->pkts,
				.bytes = a->bytes,
			};
			v[bi].n_sa++;
		}
		bi++;
	}
	*sv = v;
	*n_sv = bi;
	*av = w;
	*n_av = ai;
	return 0;
}
