/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Session table.  A session binds (client, server) to an alias; under it
 * hang the SAs seen for it: IKE SAs by initiator SPI, ESP SAs by SPI and
 * direction.  Fixed-size pools allocated once, hash chains linked by index,
 * so the packet path never allocates.  Addresses are host byte order, times
 * are seconds on a monotonic clock.
 *
 * Not thread-safe by itself: callers serialize access (the workers hold
 * the table lock for a whole burst).
 */
#ifndef ESPMASQ_SESSION_H
#define ESPMASQ_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct session_table;

enum sa_kind {
	SA_IKE = 0,
	SA_ESP_OUT,		/* SPI seen leaving the client */
	SA_ESP_IN,		/* SPI seen arriving for the client */
	SA_KIND_MAX
};

#define SESSION_F_REPLIED	0x01	/* something came back from the server */
#define SESSION_F_PINNED	0x02
#define SESSION_F_SPI_WAIT	0x04	/* has an inbound SPI still to learn */
#define SESSION_F_NEW_OUT	0x08	/* ...and uses the new SA outbound */
#define SESSION_F_SHARED	0x10	/* others use its alias toward its server */
/* SAs one session may have on its list: rekeys overlap a few at a time,
 * and a spoofed flood of SPIs must not take the whole pool. */
#define SESSION_MAX_SAS		32

#define SESSION_F_IN_FRESH	0x20	/* learned a new inbound SPI that no new
					 * outbound SPI has paired with yet */

#define SA_F_NATT		0x01	/* IKE on 4500 / ESP in UDP */
/* handed to the kernel (offload): raw ESP, ESP in UDP (one SPI may come
 * both ways; each is its own entry there) */
#define SA_F_OFFLOADED		0x02
#define SA_F_OFFLOADED_UDP	0x04
/* an IKE SA's INFORMATIONAL exchanges handed to the kernel, per
 * direction, on udp/500 or (NATT) on udp/4500 */
#define SA_F_IKE_OFF_OUT	0x08
#define SA_F_IKE_OFF_IN		0x10
#define SA_F_IKE_OFF_NATT_OUT	0x20
#define SA_F_IKE_OFF_NATT_IN	0x40
#define SA_F_OFFLOAD_ANY	(SA_F_OFFLOADED | SA_F_OFFLOADED_UDP | \
				 SA_F_IKE_OFF_OUT | SA_F_IKE_OFF_IN | \
				 SA_F_IKE_OFF_NATT_OUT | SA_F_IKE_OFF_NATT_IN)

static inline uint8_t sa_ike_off_flag(int inbound, int natt)
{
	return natt ? (inbound ? SA_F_IKE_OFF_NATT_IN : SA_F_IKE_OFF_NATT_OUT) :
		      (inbound ? SA_F_IKE_OFF_IN : SA_F_IKE_OFF_OUT);
}

struct session_limits {
	uint32_t max_sessions;
	uint32_t max_sas;		/* SA entries in all */
	uint32_t per_client;		/* sessions one client may have; 0: any */
};

/* Snapshot rows, for the control socket. */
struct session_view {
	uint32_t id;
	uint32_t client, server, alias;
	uint32_t flags;
	uint32_t mark_value, mark_mask;
	uint32_t created, last_seen, deadline;
	uint64_t pkts_out, pkts_in, bytes_out, bytes_in;
	uint32_t first_sa;		/* index into the SA rows */
	uint32_t n_sa;
	uint32_t gate_until_ms;		/* 0: not holding the gate */
	uint32_t wait_until;
	uint16_t natt_cport, natt_xport;	/* 0: no NAT-T port yet */
	uint32_t ike_wait_until;
	uint8_t ike_pend[2];		/* see session_ccsa() */
};

struct sa_view {
	uint64_t spi_i;			/* IKE initiator SPI, or ESP SPI */
	uint64_t spi_r;			/* IKE responder SPI */
	uint8_t kind;			/* enum sa_kind */
	uint8_t version;		/* IKE major version */
	uint8_t flags;
	uint8_t exchange;		/* last IKE exchange type seen */
	uint32_t last_seen, deadline;
	uint64_t pkts, bytes;
};

struct session_counters {
	uint64_t created;
	uint64_t expired;
	uint64_t refused_full;		/* session table full */
	uint64_t refused_client;	/* the client has its most sessions */
	uint64_t flushed;		/* removed by session_flush*() */
	uint64_t sa_created;
	uint64_t sa_expired;
	uint64_t sa_refused_full;	/* SA pool full: not tracked */
	uint64_t sa_refused_session;	/* the session has SESSION_MAX_SAS */
	uint32_t active;
	uint32_t sa_active;
	/* shared aliases */
	uint64_t gate_holds;		/* negotiations and first uses of
					 * new SAs that took a gate */
	uint64_t gate_released;		/* ...released by their new SPI */
	uint64_t gate_timeouts;		/* ...released by the hold limit */
	uint64_t gate_deferred;		/* negotiations made to wait */
	uint64_t gate_held_ms_total;	/* hold times of released gates */
	uint64_t gate_held_ms_max;
	uint64_t spi_assigned;		/* unknown inbound SPIs learned */
	uint64_t spi_ambiguous;		/* ...dropped: several candidates */
	uint64_t spi_unknown;		/* ...dropped: no candidate */
	uint64_t spi_wait_cancelled;	/* waits ended by another's gate */
	uint64_t ike_assigned;		/* rekeyed IKE SAs the server spoke
					 * first on, learned */
};

enum session_event {
	SESSION_EV_GATE_DEFERRED,
	SESSION_EV_SPI_AMBIGUOUS,
	SESSION_EV_SPI_UNKNOWN,
	SESSION_EV_SPI_ASSIGNED,
	SESSION_EV_IKE_ASSIGNED,
};

/* Returns a new table, or NULL with errno set (ENOMEM, EINVAL). */
struct session_table *session_table_new(const struct session_limits *lim);
void session_table_free(struct session_table *t);

/* Bytes a table with @lim allocates (pools and hash buckets). */
size_t session_table_bytes(const struct session_limits *lim);
/* Bytes of @t in memory now: the pools' slots are written only when first
 * used, so an unused part of them takes none (a page at a time).  It reads
 * only what is set when @t is made: no lock needed. */
size_t session_table_resident(const struct session_table *t);
/* What @t allocated: session_table_bytes() of its limits. */
size_t session_table_reserved(const struct session_table *t);

/* Opaque handle of a session: valid until the next expiry or delete. */
typedef uint32_t session_id;
#define SESSION_NONE 0u

session_id session_lookup_out(const struct session_table *t, uint32_t client,
			      uint32_t server);
/* A session on (alias, server); *@shared: it is not the only one. */
session_id session_lookup_in(const struct session_table *t, uint32_t alias,
			     uint32_t server, bool *shared);

/*
 * Adds a session.  The caller has checked that (client, server) is not
 * present; (alias, server) may be, when the alias is shared.  Returns its
 * handle, or SESSION_NONE when the table is full (counted).
 */
session_id session_add(struct session_table *t, uint32_t client,
		       uint32_t server, uint32_t alias, uint32_t flags,
		       uint32_t mark_value, uint32_t mark_mask, uint32_t now,
		       uint32_t pending_timeout);

/* Accessors for the packet path. */
uint32_t session_client(const struct session_table *t, session_id s);
uint32_t session_alias(const struct session_table *t, session_id s);
uint32_t session_flags(const struct session_table *t, session_id s);
void session_mark(const struct session_table *t, session_id s,
		  uint32_t *value, uint32_t *mask);

/*
 * Accounts one packet of @bytes to @s in direction @inbound.  An outbound
 * packet extends the session's life to now + @timeout, or only to now +
 * @pending while nothing came back.  Inbound packets do not extend it,
 * except the first one, which extends it to now + @timeout.
 */
void session_touch(struct session_table *t, session_id s, bool inbound,
		   uint32_t bytes, uint32_t now, uint32_t timeout,
		   uint32_t pending);

/* Whether @client has as many sessions as it may have (never with a
 * per_client limit of 0); counted as refused_client when it has. */
bool session_client_full(struct session_table *t, uint32_t client);

/*
 * The fast path of an ESP packet (@kind SA_ESP_OUT or SA_ESP_IN, SPI @spi)
 * of an SA already in the table, whose session is not shared and has
 * @server and, outbound, client @local or, inbound, alias @local: both the
 * session and the SA are touched as session_touch() and session_sa_touch()
 * would (@timeout for both, @pending before the first reply, SA_F_NATT of
 * @flags added to the SA's flags).  Returns that session, or SESSION_NONE
 * (nothing changed) when the packet needs the full path.  With
 * SESSION_ESP_CLAIM in @flags, hit->offload_new is set for the first such
 * packet of the SA in each encapsulation (raw, or in UDP with SA_F_NATT):
 * the caller hands it to the kernel.  Without, it is left alone.  @hint:
 * the SA session_esp_prefetch() found for the packet, or 0 (looked up).
 */
#define SESSION_ESP_CLAIM	0x80
struct session_hit {
	uint32_t peer;			/* inbound: the client; out: the alias */
	uint32_t mark_value, mark_mask;
	bool offload_new;		/* see SESSION_ESP_CLAIM */
};
typedef uint32_t session_sa_hint;
session_id session_esp_known(struct session_table *t, session_sa_hint hint,
			     uint32_t server, enum sa_kind kind, uint32_t spi,
			     uint32_t local, uint8_t flags, uint32_t bytes,
			     uint32_t now, uint32_t timeout, uint32_t pending,
			     struct session_hit *hit);

/*
 * What the kernel counted, @pkts packets and @bytes bytes since the last
 * call, of an SA offloaded with session_esp_known(..., claim, ...) (in UDP
 * when @natt_flag is SA_F_NATT), whose packets from @server's side
 * (inbound) or @local's (outbound) were given @peer's address.  The
 * session and the SA are touched as by session_esp_known(), once for all.
 * Returns 0; -ENOENT when the table knows no such SA; -ESTALE when it does
 * but would not translate it so (not offloaded so, or to another peer):
 * either way the kernel's entry is to go.
 */
int session_esp_credit(struct session_table *t, uint32_t server,
		       enum sa_kind kind, uint32_t spi, uint32_t local,
		       uint32_t peer, uint8_t natt_flag, uint64_t pkts,
		       uint64_t bytes, uint32_t now, uint32_t timeout,
		       uint32_t pending);

/*
 * IKE SAs.  session_ike_claim() marks IKE SA @spi_i of session @s (whose
 * server is @server) as handed to the kernel in the flow @bit says
 * (sa_ike_off_flag()): 1 when it was not yet, 0 when it was, -ENOENT when
 * the session has no such SA.  session_ike_credit() is
 * session_esp_credit() for such an SA: the packets the kernel carried of
 * it @inbound (from @server to alias @local) or outbound (from client
 * @local), given @peer's address; -ENOENT, -ESTALE as there.
 */
int session_ike_claim(struct session_table *t, session_id s, uint32_t server,
		      uint64_t spi_i, uint8_t bit);
int session_ike_credit(struct session_table *t, uint32_t server,
		       uint64_t spi_i, bool inbound, uint32_t local,
		       uint32_t peer, uint8_t bit, uint64_t pkts,
		       uint64_t bytes, uint32_t now, uint32_t timeout,
		       uint32_t pending);

/* Forgets which SAs were offloaded (after the kernel's entries went):
 * each is offloaded again by its next packet. */
void session_offload_forget(struct session_table *t);

/* How many times session_offload_forget() was called: an SA claimed for
 * the kernel under one generation is not handed over under another. */
uint32_t session_offload_gen(const struct session_table *t);

struct offload_entry;

/*
 * The kernel entries (map, key and address) of the SAs offloaded, from
 * SA slot *@at on, into @out (at most @max, at least 4), looking at 16384
 * slots at most: an SA's entries all or none.  *@at becomes where the
 * next call goes on, 0 once the last slot was listed.  When @count is not NULL, count[map] is raised
 * by each entry listed.  Returns the number of entries.
 */
size_t session_offload_list(const struct session_table *t, uint32_t *at,
			    struct offload_entry *out, size_t max,
			    size_t *count);

/*
 * The kernel entries of SAs released since the last call (at most @max
 * of them, into @out; the rest on the next call), for the kernel to drop
 * too.  *@lost is true when more went than the table keeps (65536), so
 * that only a flush of the maps removes them all.
 */
size_t session_offload_gone(struct session_table *t,
			    struct offload_entry *out, size_t max, bool *lost);

/* Entry @e, which the kernel no longer has, no longer counts as
 * offloaded: its SA is offloaded again by its next packet.  0, or
 * -ENOENT when no SA has it. */
int session_offload_lost(struct session_table *t,
			 const struct offload_entry *e);

/*
 * The lookups of session_esp_known() for a burst of @n packets (at most
 * SESSION_PF_MAX), each given by its @pf (server and SPI, kind, local
 * address as there; kind SA_KIND_MAX: none), done one step for all at a time, so
 * that the cache misses of many packets overlap instead of following one
 * another: the hash buckets of all, then their first SAs, then the next
 * SAs of the chains that go on, to their ends.  Each packet's @hint is
 * then the SA it found, or 0 (none): given to session_esp_known() it
 * spares it the lookup, and stays right whatever the table does meanwhile
 * (a hint to an SA gone or moved is only not taken).
 */
#define SESSION_PF_MAX 64
struct session_pf {
	uint64_t key;			/* server << 32 | SPI */
	uint32_t local;
	uint32_t v;			/* the lookup's own */
	session_sa_hint hint;		/* out */
	uint8_t kind;			/* enum sa_kind; SA_KIND_MAX: none */
	uint8_t tag;			/* the caller's */
};
void session_esp_prefetch(const struct session_table *t,
			  struct session_pf *pf, unsigned n);
/*
 * The same for packets of the full path that will look up a session by
 * (@a, @server), @in: alias and server by the inbound hash, else client
 * and server by the outbound one, and an IKE SA by (@server, @spi): IKE
 * and NAT-T IKE, which read the session's lines too.  Only reads, and
 * only warms the cache (nothing is handed over): a guess that turns out
 * wrong costs its prefetches, nothing else.  session_warm_start() hashes
 * and prefetches the buckets of all; session_warm_finish() then reads
 * them, prefetches the first sessions and SAs, and follows every chain to
 * its end a step for all at a time, as session_esp_prefetch() does.  In
 * between, the caller may do other lookups (the ESP ones) while the
 * buckets arrive.  At most SESSION_PF_MAX entries.  Each entry's @s is
 * then the session the pair found (as session_lookup_out() or
 * session_lookup_in() would), and @ike the owner of the first IKE SA of
 * that initiator SPI on its chain, or SESSION_NONE.
 */
struct session_warm {
	uint64_t spi;
	uint32_t a, server;
	bool in;
	uint32_t vb, vs;		/* the lookups' own */
	session_id s, ike;		/* out */
};
void session_warm_start(const struct session_table *t,
			struct session_warm *w, unsigned n);
void session_warm_finish(const struct session_table *t,
			 struct session_warm *w, unsigned n);
/* Whether the table has outgrown the cache enough for prefetching to pay
 * for itself (below that, it only costs instructions). */
bool session_prefetch_worth(const struct session_table *t);
/* From how many bytes of sessions and SAs in use it does (4 MiB unless
 * set; tests set 0 to take that path whatever the size). */
void session_set_prefetch_from(struct session_table *t, size_t bytes);

/*
 * Records an SA of session @s (found or created): IKE by @spi_i (the
 * initiator SPI) learning @spi_r when it becomes known, ESP by @spi_i.
 * @server is the session's server, as the packet shows it: the SA's bucket
 * is then found without waiting for the session to be read.
 * Returns 0, 1 when the SA is new, or -ENOSPC when the SA pool is full
 * (counted; the packet is still translated, only not itemized).
 * An ESP SA counts its packets for its session (snapshots add them to the
 * session's totals, and the session keeps them when the SA expires): it
 * takes this packet over from the session, so call this after
 * session_touch() for the same packet.
 */
int session_sa_touch(struct session_table *t, session_id s, uint32_t server,
		     enum sa_kind kind, uint64_t spi_i, uint64_t spi_r,
		     uint8_t version, uint8_t exchange, uint8_t flags,
		     uint32_t bytes, uint32_t now, uint32_t timeout);

/*
 * Sharing an alias.  A group is the sessions on one (alias, server).
 * session_group() returns how many there are and the first one.
 */
unsigned session_group(const struct session_table *t, uint32_t alias,
		       uint32_t server, session_id *first);

/* The one session of the group with an SA of @kind and @spi (IKE: the
 * initiator SPI), or SESSION_NONE; *@owners says how many sessions have
 * one (more than 1: ambiguous). */
session_id session_by_spi(const struct session_table *t, uint32_t alias,
			  uint32_t server, enum sa_kind kind, uint64_t spi,
			  unsigned *owners);

/*
 * The gate of a group serializes the negotiations of new SAs, so that an
 * unknown inbound SPI has one candidate owner.  The holder holds it until
 * an unknown SPI is assigned to it or until @until_ms (a millisecond
 * clock), whichever comes first.  session_gate_holder() returns the live
 * holder, if any, and releases expired holds (counted).
 */
session_id session_gate_holder(struct session_table *t, uint32_t alias,
			       uint32_t server, uint32_t now_ms);
void session_gate_take(struct session_table *t, session_id s,
		       uint32_t now_ms, uint32_t hold_ms, uint32_t wait_until);

/*
 * A session waits for an inbound SPI while it holds the gate, and again
 * whenever it starts using a new outbound SPI (a new SA whose inbound SPI
 * has not been seen), until @wait_until (seconds).  A new outbound SPI
 * that follows a new inbound SPI learned since the last negotiation pairs
 * with it and waits for nothing.  Otherwise the wait takes the gate if
 * the session does not hold it yet (the caller has made sure nobody else
 * does), so that one client at a time has a new SA in first use.  A hold
 * that runs out without a new outbound SPI ends the wait; one that runs
 * out with it leaves the wait until another session of the group takes
 * the gate, which ends it (counted: spi_wait_cancelled).
 * session_spi_waiter() returns the one waiting session of a group, with
 * *@n the number waiting.
 */
void session_spi_wait(struct session_table *t, session_id s,
		      uint32_t now_ms, uint32_t hold_ms, uint32_t wait_until);
/*
 * IKE SAs rekeyed on a shared alias.  An IKEv2 CREATE_CHILD_SA exchange
 * makes either a CHILD SA or a new IKE SA, and which one is encrypted.
 * Each session counts, per side that started them (@by_server), the
 * CREATE_CHILD_SA exchanges that may have made a new IKE SA:
 * session_ccsa() counts one (its retransmissions, same @key, once), until
 * @until (seconds).  A new inbound SPI learned uncounts one (that
 * exchange made a CHILD SA: one the client started if the client used it
 * first, else one the server started), and so does session_ike_learned()
 * when the new IKE SA is seen.  session_ike_waiter() returns the one
 * session of a group with an exchange counted on side @by_server, with
 * *@n the number: the owner of an established IKE SA the server speaks
 * first on, that side having started it (the IKEv2 initiator flag).
 */
void session_ccsa(struct session_table *t, session_id s, bool by_server,
		  uint32_t key, uint32_t until);
void session_ike_learned(struct session_table *t, session_id s,
			 bool by_server);
session_id session_ike_waiter(const struct session_table *t, uint32_t alias,
			      uint32_t server, bool by_server, uint32_t now,
			      unsigned *n);
session_id session_spi_waiter(const struct session_table *t, uint32_t alias,
			      uint32_t server, uint32_t now, unsigned *n);
/*
 * NAT-T ports on a shared alias.  The server sees every client of an alias
 * at the alias's address; when clients also keep their NAT-T source port
 * (4500), their UDP flows look the same to it.  session_natt_port() gives
 * session @s, whose client sends NAT-T from @cport, the port it shows the
 * server: @cport itself while no other session of its group shows that,
 * otherwise one of @lo..@hi no other session of the group uses (0 when
 * @lo is 0 or none is free: the port is kept, and replies are told apart
 * by SPI).  session_by_natt_port() finds the session showing @xport, and
 * the client's port in *@cport.
 */
uint16_t session_natt_port(struct session_table *t, session_id s,
			   uint16_t cport, uint16_t lo, uint16_t hi);
session_id session_by_natt_port(const struct session_table *t, uint32_t alias,
				uint32_t server, uint16_t xport,
				uint16_t *cport);
/* The port @s shows the server (0: none yet), its client's in *@cport. */
uint16_t session_natt_xport(const struct session_table *t, session_id s,
			    uint16_t *cport);

/*
 * Later IP fragments show neither ports nor SPI.  On a shared alias they
 * follow the first fragment of their datagram: session_frag_note()
 * records that the first inbound fragment with IP ID @ip_id and protocol
 * @proto went to session @s; session_frag_owner() finds that session for
 * a later fragment (for 30 s; SESSION_NONE when unknown, e.g. when a
 * later fragment overtook the first).  A small fixed cache: a slot is
 * overwritten by a newer datagram that hashes to it.
 */
void session_frag_note(struct session_table *t, session_id s,
		       uint16_t ip_id, uint8_t proto, uint32_t now);
session_id session_frag_owner(struct session_table *t, uint32_t alias,
			      uint32_t server, uint16_t ip_id, uint8_t proto,
			      uint32_t now);

/* An unknown inbound SPI was assigned to @s: it waits no more, and its
 * gate is released. */
void session_spi_learned(struct session_table *t, session_id s,
			 uint32_t now_ms);
void session_count_event(struct session_table *t, enum session_event e);

/* Drops sessions and SAs whose deadline has passed.  Returns how many
 * sessions went. */
unsigned session_expire(struct session_table *t, uint32_t now);
/* ...telling @gone about each session that expires, before it goes. */
typedef void (*session_gone_fn)(void *ctx, uint32_t client, uint32_t server,
				uint32_t alias);
unsigned session_expire_cb(struct session_table *t, uint32_t now,
			   session_gone_fn gone, void *ctx);
/*
 * The same over the next @budget session slots only (0: all of them),
 * from where the previous call stopped, wrapping round: called often with
 * a small budget, it bounds how long one call holds the table (a scan of a
 * million sessions takes tens of milliseconds) and still visits every
 * session once per max_sessions / @budget calls.
 */
unsigned session_expire_step(struct session_table *t, uint32_t now,
			     uint32_t budget, session_gone_fn gone, void *ctx);
/* The daemon's budget: a slice it expires every 100 ms. */
#define SESSION_EXPIRE_SLICE 16384u

/* Removes every session (counted: flushed), with its SAs.  Returns how
 * many sessions went. */
unsigned session_flush(struct session_table *t);
/* ...only the sessions of @client, toward every server. */
unsigned session_flush_client(struct session_table *t, uint32_t client);

void session_counters(const struct session_table *t,
		      struct session_counters *out);

/*
 * Copies the table into newly allocated arrays (free both with free()).
 * Returns 0 or -ENOMEM.
 */
/*
 * Puts back a session an earlier run wrote (see state.h): @v's times are
 * already on this run's clock; only its REPLIED and PINNED flags count.
 * Returns the session, or SESSION_NONE when the table is full or the
 * (client, server) pair is already there.  session_sa_restore() adds one
 * of its SAs (0, or -EEXIST / -ENOSPC).
 */
session_id session_restore(struct session_table *t,
			   const struct session_view *v);
int session_sa_restore(struct session_table *t, session_id s,
		       const struct sa_view *a);

int session_snapshot(const struct session_table *t, struct session_view **sv,
		     size_t *n_sv, struct sa_view **av, size_t *n_av);

#endif
