/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Kernel offload of established flows: elements of the nftables maps in
 * table OFFLOAD_TABLE, managed over raw nfnetlink (libmnl, no libnftnl).
 * The ruleset rewrites addresses from the address maps (ESP SAs, and the
 * INFORMATIONAL exchanges of IKEv2 SAs) and jumps to a mark chain from
 * the "_mark" verdict maps beside them.
 *
 * Packet workers append to a batch (offload_add, offload_del) and send it
 * without waiting; the kernel answers only errors, which offload_reap
 * collects later.  A batch is one nftables transaction: one failing
 * element (say, a mark chain that does not exist) drops every element of
 * that batch.  The main thread makes the synchronous calls (offload_flush,
 * offload_scan).  A struct offload is not thread-safe: one per thread.
 */
#ifndef ESPMASQ_OFFLOAD_H
#define ESPMASQ_OFFLOAD_H

#include <stddef.h>
#include <stdint.h>

struct nlmsghdr;

#define OFFLOAD_TABLE		"espmasq_offload"
/* The mark maps jump to chains named after the mark they set. */
#define OFFLOAD_MARK_CHAIN_FMT	"mark_%08x_%08x"

/* Keyed by source . destination . SPI: ESP maps by the 32-bit ESP SPI,
 * IKE maps by the 64-bit IKE initiator SPI (on udp/500, or on udp/4500
 * after the non-ESP marker). */
enum offload_map {
	OFFLOAD_IN_ESP,
	OFFLOAD_IN_UDP,
	OFFLOAD_OUT_ESP,
	OFFLOAD_OUT_UDP,
	OFFLOAD_IN_IKE,
	OFFLOAD_IN_IKE_NATT,
	OFFLOAD_OUT_IKE,
	OFFLOAD_OUT_IKE_NATT,
	OFFLOAD_MAPS
};

static inline int offload_map_inbound(enum offload_map m)
{
	return m == OFFLOAD_IN_ESP || m == OFFLOAD_IN_UDP ||
	       m == OFFLOAD_IN_IKE || m == OFFLOAD_IN_IKE_NATT;
}

/* In UDP on the NAT-T port 4500. */
static inline int offload_map_natt(enum offload_map m)
{
	return m == OFFLOAD_IN_UDP || m == OFFLOAD_OUT_UDP ||
	       m == OFFLOAD_IN_IKE_NATT || m == OFFLOAD_OUT_IKE_NATT;
}

static inline int offload_map_ike(enum offload_map m)
{
	return m >= OFFLOAD_IN_IKE && m < OFFLOAD_MAPS;
}

/* The map of an SA's flow: @in bound, @natt (udp/4500), @ike. */
static inline enum offload_map offload_map_of(int in, int natt, int ike)
{
	if (ike)
		return in ? (natt ? OFFLOAD_IN_IKE_NATT : OFFLOAD_IN_IKE) :
			    (natt ? OFFLOAD_OUT_IKE_NATT : OFFLOAD_OUT_IKE);
	return in ? (natt ? OFFLOAD_IN_UDP : OFFLOAD_IN_ESP) :
		    (natt ? OFFLOAD_OUT_UDP : OFFLOAD_OUT_ESP);
}

struct offload_entry {
	enum offload_map map;
	uint32_t src, dst;		/* the key, host byte order, */
	uint64_t spi;			/* ...with the SPI (ESP: 32 bits) */
	uint32_t addr;			/* the new address, host order */
	uint32_t mark_value, mark_mask;	/* mask 0: no mark element */
};

/*
 * The entry of map (@in, @natt, @ike) for an SA @spi of client @client's
 * session with @server on @alias, keyed as its packets arrive: inbound
 * server . alias to the client, outbound client . server to the alias.
 * The mark is left 0.
 */
static inline void offload_entry_of(struct offload_entry *e, int in,
				    int natt, int ike, uint32_t client,
				    uint32_t server, uint32_t alias,
				    uint64_t spi)
{
	e->map = offload_map_of(in, natt, ike);
	e->src = in ? server : client;
	e->dst = in ? alias : server;
	e->spi = spi;
	e->addr = in ? client : alias;
	e->mark_value = e->mark_mask = 0;
}

/* Of entry @e's key: the server, and the session's own address there
 * (the alias inbound, the client outbound). */
static inline uint32_t offload_entry_server(const struct offload_entry *e)
{
	return offload_map_inbound(e->map) ? e->src : e->dst;
}

static inline uint32_t offload_entry_local(const struct offload_entry *e)
{
	return offload_map_inbound(e->map) ? e->dst : e->src;
}

struct offload;

/* Called by offload_scan for each element; e->mark_* are 0. */
typedef void (*offload_seen_fn)(void *ctx, const struct offload_entry *e,
				uint64_t packets, uint64_t bytes);

/* The name of address map @m ("in_esp", ...), or NULL when @m is out of
 * range; its mark map is the same name with "_mark" appended. */
const char *offload_map_name(enum offload_map m);

/*
 * Opens a NETLINK_NETFILTER socket and allocates the batch and receive
 * buffers, the only allocation the module makes.  Returns NULL and sets
 * *err to -errno on failure.  Without CAP_NET_ADMIN it still opens: the
 * -EPERM comes back from offload_reap or the synchronous calls.
 */
struct offload *offload_open(int *err);

/* Closes the socket and frees @o; pending entries are dropped.  NULL is
 * a no-op. */
void offload_close(struct offload *o);

/* The socket's descriptor, to poll for error replies (POLLIN). */
int offload_fd(const struct offload *o);

/*
 * Appends @e to the pending batch: a NEWSETELEM into its address map and,
 * when e->mark_mask != 0, one into its mark map.  No system call.  Adding
 * an element that exists with the same data is not an error; with other
 * data the kernel refuses it (EEXIST), so change an entry with
 * offload_del then offload_add.  Returns 0, -ENOSPC when the batch is
 * full (send it and retry), or -EINVAL for a bad map.
 */
int offload_add(struct offload *o, const struct offload_entry *e);

/*
 * Appends the removal of @e's address and mark elements (whatever
 * e->mark_mask says) with NFT_MSG_DESTROYSETELEM, which ignores missing
 * elements (Linux 6.3 and later).  Only e->map and the key are used.
 * Returns 0, -ENOSPC or -EINVAL as offload_add.
 */
int offload_del(struct offload *o, const struct offload_entry *e);

/* Entries (offload_add and offload_del calls) appended since the last
 * offload_send. */
unsigned offload_pending(const struct offload *o);

/*
 * Sends the pending batch in one sendmsg, without asking for
 * acknowledgements: the kernel queues an error reply for each element it
 * refused, and then applies none of the batch.  The batch is emptied
 * whether or not the send works.  Returns the number of entries sent (0
 * when none were pending) or -errno from sendmsg.
 */
int offload_send(struct offload *o);

/*
 * Reads, without blocking, the error replies to earlier batches, plus
 * those the synchronous calls met on the way.  Returns how many it read
 * (0 when none) and stores the last one's -errno (0 when none) in *last
 * when @last is not NULL.  An overflow of the receive buffer, which loses
 * replies, counts as one error and makes *last -ENOBUFS.
 */
int offload_reap(struct offload *o, int *last);

/*
 * Removes every element of the maps in one transaction and waits
 * for the kernel.  Returns 0, or -errno: -ENOENT when the table or a map
 * is missing (then nothing was removed).
 */
int offload_flush(struct offload *o);

/*
 * Dumps the address maps with NFT_MSG_GETSETELEM_RESET (Linux 6.5
 * and later), which zeroes each counter as it reads it, and calls @fn for
 * each element with what it counted since the last reset.  Elements added
 * or removed during the scan may be missed or seen twice.  Returns the
 * number of elements seen or -errno: the kernel's error (-ENOENT without
 * the table, -EINVAL or -EOPNOTSUPP on kernels without the reset dump),
 * -EPROTO for a message it cannot decode (the others are still reported),
 * -ETIMEDOUT when the kernel stops answering.
 */
int offload_scan(struct offload *o, offload_seen_fn fn, void *ctx);
/* offload_scan of the maps whose bits (1 << map) are set in @maps. */
int offload_scan_maps(struct offload *o, unsigned maps, offload_seen_fn fn,
		      void *ctx);

/* Called by offload_read for an entry the kernel does not have. */
typedef void (*offload_gone_fn)(void *ctx, const struct offload_entry *e);

/*
 * Reads and resets the counters of the @n entries @e (their maps and
 * keys; the rest is not looked at) one by one, with GETSETELEM_RESET
 * requests naming them, as many as the receive buffer holds answers to
 * per request; entries of one map should come together, each run of one
 * map being a request of its own.  Calls @fn for each entry the kernel
 * has, with what it counted since the last reset, and @gone (when not
 * NULL) for each it does not have.  Unlike offload_scan, which the kernel
 * resumes by walking its map again from the start for each 32 KiB of
 * answer (so that a scan costs the square of the map's size), this costs
 * the same per entry at any size, but more than a small map's scan, and
 * finds nothing it was not asked for.  Returns the number of entries
 * read, or -errno as offload_scan.
 */
int offload_read(struct offload *o, const struct offload_entry *e, size_t n,
		 offload_seen_fn fn, offload_gone_fn gone, void *ctx);

/*
 * For tests: the pure message builders and parser offload_* uses.  The
 * builders write into @buf of @size bytes and return the bytes written,
 * -ENOSPC when they do not fit, or -EINVAL for a bad map.
 */

/* NFNL_MSG_BATCH_BEGIN or NFNL_MSG_BATCH_END (@type) for nf_tables. */
int offload_build_batch(void *buf, size_t size, uint16_t type, uint32_t seq);
/* The NEWSETELEM message(s) of offload_add, each with sequence @seq. */
int offload_build_add(void *buf, size_t size, uint32_t seq,
		      const struct offload_entry *e);
/* The two DESTROYSETELEM messages of offload_del. */
int offload_build_del(void *buf, size_t size, uint32_t seq,
		      const struct offload_entry *e);
/* A whole batch emptying every map, each message asking for an
 * acknowledgement. */
int offload_build_flush(void *buf, size_t size, uint32_t seq);
/* The GETSETELEM_RESET dump request for address map @m. */
int offload_build_scan(void *buf, size_t size, uint32_t seq,
		       enum offload_map m);
/* The GETSETELEM_RESET request of offload_read for the @n entries @e,
 * all of one map (else -EINVAL), asking for an acknowledgement. */
int offload_build_get(void *buf, size_t size, uint32_t seq,
		      const struct offload_entry *e, size_t n);
/*
 * Decodes one dump message (NEWSETELEM from an address map of
 * OFFLOAD_TABLE) whose nlmsg_len has been checked against what was
 * received, and calls @fn for each element in it, only once all of them
 * decoded.  Returns the number of elements, or -EPROTO for a message that
 * is not such a dump, is truncated or malformed, or lacks a counter.
 */
int offload_parse_elems(const struct nlmsghdr *nlh, offload_seen_fn fn,
			void *ctx);

#endif
