/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * nftables map elements over raw nfnetlink.  The messages are built and
 * parsed by pure functions (offload_build_*, offload_parse_elems) so the
 * unit tests check the encoding without a kernel.
 */
#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netlink.h>

#include "offload.h"

/* Message types from the Linux 6.5 uapi; the installed
 * <linux/netfilter/nf_tables.h> may predate them. */
#define ELEM_DESTROY		30	/* NFT_MSG_DESTROYSETELEM */
#define ELEM_GET_RESET		33	/* NFT_MSG_GETSETELEM_RESET */

/* One sendmsg to the kernel must stay below the socket's send buffer
 * (net.core.wmem_default, 208 KiB by default) or fails with EMSGSIZE. */
#define TX_SIZE			(128u * 1024)
/* Dump chunks are at most 32 KiB (netlink_recvmsg caps them); twice
 * that leaves room. */
#define RX_SIZE			(64u * 1024)
#define HDR_LEN			(MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(struct nfgenmsg)))
/* The kernel answers a request within its sendmsg, or within our recvmsg
 * for dumps: a wait this long means something is broken. */
#define SYNC_TIMEOUT_MS		5000
/* source . destination . SPI: 3 registers for ESP, 4 for IKE */
#define KEY_MAX			16

struct offload {
	struct mnl_socket *nl;
	uint32_t portid;
	uint32_t seq;
	uint8_t *tx;
	size_t tx_len;		/* 0, or BATCH_BEGIN and the entries */
	unsigned pending;
	uint8_t *rx;
	int held;		/* errors the synchronous calls read past */
	int held_last;
	size_t read_chunk;	/* elements per offload_read() request */
	uint8_t *rxv;		/* offload_read()'s receive buffers */
};

static const char *const map_names[OFFLOAD_MAPS] = {
	[OFFLOAD_IN_ESP] = "in_esp",
	[OFFLOAD_IN_UDP] = "in_udp",
	[OFFLOAD_OUT_ESP] = "out_esp",
	[OFFLOAD_OUT_UDP] = "out_udp",
	[OFFLOAD_IN_IKE] = "in_ike",
	[OFFLOAD_IN_IKE_NATT] = "in_ike_natt",
	[OFFLOAD_OUT_IKE] = "out_ike",
	[OFFLOAD_OUT_IKE_NATT] = "out_ike_natt",
};

static const char *const mark_names[OFFLOAD_MAPS] = {
	[OFFLOAD_IN_ESP] = "in_esp_mark",
	[OFFLOAD_IN_UDP] = "in_udp_mark",
	[OFFLOAD_OUT_ESP] = "out_esp_mark",
	[OFFLOAD_OUT_UDP] = "out_udp_mark",
	[OFFLOAD_IN_IKE] = "in_ike_mark",
	[OFFLOAD_IN_IKE_NATT] = "in_ike_natt_mark",
	[OFFLOAD_OUT_IKE] = "out_ike_mark",
	[OFFLOAD_OUT_IKE_NATT] = "out_ike_natt_mark",
};

const char *offload_map_name(enum offload_map m)
{
	return (unsigned)m < OFFLOAD_MAPS ? map_names[m] : NULL;
}

static struct nlmsghdr *msg_start(void *buf, size_t size, uint16_t type,
				  uint16_t flags, uint32_t seq, uint8_t family,
				  uint16_t res_id)
{
	struct nlmsghdr *nlh;
	struct nfgenmsg *nfg;

	if (size < HDR_LEN)
		return NULL;
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	nlh->nlmsg_seq = seq;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = family;
	nfg->version = NFNETLINK_V0;
	nfg->res_id = htons(res_id);
	return nlh;
}

static struct nlmsghdr *elem_start(void *buf, size_t size, uint8_t msg,
				   uint16_t flags, uint32_t seq,
				   const char *set)
{
	struct nlmsghdr *nlh;

	nlh = msg_start(buf, size, NFNL_SUBSYS_NFTABLES << 8 | msg, flags,
			seq, NFPROTO_IPV4, 0);
	if (!nlh ||
	    !mnl_attr_put_strz_check(nlh, size, NFTA_SET_ELEM_LIST_TABLE,
				     OFFLOAD_TABLE) ||
	    !mnl_attr_put_strz_check(nlh, size, NFTA_SET_ELEM_LIST_SET, set))
		return NULL;
	return nlh;
}

/* The key of @e as the kernel stores it: every field in network order,
 * the IKE SPI as its 8 bytes on the wire.  Returns its length. */
static size_t key_put(uint8_t *key, const struct offload_entry *e)
{
	uint32_t v[2] = { htonl(e->src), htonl(e->dst) };
	uint32_t spi32;
	uint64_t spi64;

	memcpy(key, v, sizeof(v));
	if (offload_map_ike(e->map)) {
		spi64 = htobe64(e->spi);
		memcpy(key + 8, &spi64, sizeof(spi64));
		return 16;
	}
	spi32 = htonl((uint32_t)e->spi);
	memcpy(key + 8, &spi32, sizeof(spi32));
	return 12;
}

static size_t key_len(enum offload_map m)
{
	return offload_map_ike(m) ? 16 : 12;
}

/* One element of @set keyed by @e, with address @addr (network order),
 * a jump to @chain, or neither. */
static int put_elem(void *buf, size_t size, uint8_t msg, uint16_t flags,
		    uint32_t seq, const char *set,
		    const struct offload_entry *e, const uint32_t *addr,
		    const char *chain)
{
	uint8_t key[KEY_MAX];
	size_t klen = key_put(key, e);
	struct nlattr *list, *elem, *nest, *verdict;
	struct nlmsghdr *nlh;

	nlh = elem_start(buf, size, msg, flags, seq, set);
	if (!nlh ||
	    !(list = mnl_attr_nest_start_check(nlh, size,
					       NFTA_SET_ELEM_LIST_ELEMENTS)) ||
	    !(elem = mnl_attr_nest_start_check(nlh, size, NFTA_LIST_ELEM)) ||
	    !(nest = mnl_attr_nest_start_check(nlh, size, NFTA_SET_ELEM_KEY)) ||
	    !mnl_attr_put_check(nlh, size, NFTA_DATA_VALUE, klen, key))
		return -ENOSPC;
	mnl_attr_nest_end(nlh, nest);
	if (addr || chain) {
		nest = mnl_attr_nest_start_check(nlh, size, NFTA_SET_ELEM_DATA);
		if (!nest)
			return -ENOSPC;
		if (addr) {
			if (!mnl_attr_put_check(nlh, size, NFTA_DATA_VALUE,
						sizeof(*addr), addr))
				return -ENOSPC;
		} else {
			verdict = mnl_attr_nest_start_check(nlh, size,
							    NFTA_DATA_VERDICT);
			if (!verdict ||
			    !mnl_attr_put_u32_check(nlh, size,
						    NFTA_VERDICT_CODE,
						    htonl((uint32_t)NFT_JUMP)) ||
			    !mnl_attr_put_strz_check(nlh, size,
						     NFTA_VERDICT_CHAIN, chain))
				return -ENOSPC;
			mnl_attr_nest_end(nlh, verdict);
		}
		mnl_attr_nest_end(nlh, nest);
	}
	mnl_attr_nest_end(nlh, elem);
	mnl_attr_nest_end(nlh, list);
	return (int)nlh->nlmsg_len;
}

int offload_build_batch(void *buf, size_t size, uint16_t type, uint32_t seq)
{
	struct nlmsghdr *nlh;

	nlh = msg_start(buf, size, type, 0, seq, AF_UNSPEC,
			NFNL_SUBSYS_NFTABLES);
	return nlh ? (int)nlh->nlmsg_len : -ENOSPC;
}

int offload_build_add(void *buf, size_t size, uint32_t seq,
		      const struct offload_entry *e)
{
	char chain[32];
	uint32_t addr;
	int n, m;

	if (!e || (unsigned)e->map >= OFFLOAD_MAPS)
		return -EINVAL;
	addr = htonl(e->addr);
	n = put_elem(buf, size, NFT_MSG_NEWSETELEM, NLM_F_CREATE, seq,
		     map_names[e->map], e, &addr, NULL);
	if (n < 0 || !e->mark_mask)
		return n;
	snprintf(chain, sizeof(chain), OFFLOAD_MARK_CHAIN_FMT, e->mark_value,
		 e->mark_mask);
	m = put_elem((uint8_t *)buf + n, size - (size_t)n, NFT_MSG_NEWSETELEM,
		     NLM_F_CREATE, seq, mark_names[e->map], e, NULL, chain);
	return m < 0 ? m : n + m;
}

int offload_build_del(void *buf, size_t size, uint32_t seq,
		      const struct offload_entry *e)
{
	int n, m;

	if (!e || (unsigned)e->map >= OFFLOAD_MAPS)
		return -EINVAL;
	n = put_elem(buf, size, ELEM_DESTROY, 0, seq, map_names[e->map], e,
		     NULL, NULL);
	if (n < 0)
		return n;
	m = put_elem((uint8_t *)buf + n, size - (size_t)n, ELEM_DESTROY, 0,
		     seq, mark_names[e->map], e, NULL, NULL);
	return m < 0 ? m : n + m;
}

int offload_build_flush(void *buf, size_t size, uint32_t seq)
{
	uint8_t *p = buf;
	size_t len = 0;
	struct nlmsghdr *nlh;
	unsigned i;
	int n;

	n = offload_build_batch(p, size, NFNL_MSG_BATCH_BEGIN, seq);
	if (n < 0)
		return n;
	len += (size_t)n;
	for (i = 0; i < 2 * OFFLOAD_MAPS; i++) {
		/* A DELSETELEM without elements empties the set. */
		nlh = elem_start(p + len, size - len, NFT_MSG_DELSETELEM,
				 NLM_F_ACK, seq,
				 i < OFFLOAD_MAPS ? map_names[i] :
				 mark_names[i - OFFLOAD_MAPS]);
		if (!nlh)
			return -ENOSPC;
		len += nlh->nlmsg_len;
	}
	n = offload_build_batch(p + len, size - len, NFNL_MSG_BATCH_END, seq);
	if (n < 0)
		return n;
	return (int)(len + (size_t)n);
}

int offload_build_scan(void *buf, size_t size, uint32_t seq,
		       enum offload_map m)
{
	struct nlmsghdr *nlh;

	if ((unsigned)m >= OFFLOAD_MAPS)
		return -EINVAL;
	nlh = elem_start(buf, size, ELEM_GET_RESET, NLM_F_DUMP, seq,
			 map_names[m]);
	return nlh ? (int)nlh->nlmsg_len : -ENOSPC;
}

int offload_build_get(void *buf, size_t size, uint32_t seq,
		      const struct offload_entry *e, size_t n)
{
	struct nlattr *list, *elem, *key;
	struct nlmsghdr *nlh;
	uint8_t k[KEY_MAX];
	size_t i, klen;

	if (!e || !n || (unsigned)e->map >= OFFLOAD_MAPS)
		return -EINVAL;
	for (i = 1; i < n; i++)
		if (e[i].map != e->map)
			return -EINVAL;
	nlh = elem_start(buf, size, ELEM_GET_RESET, NLM_F_ACK, seq,
			 map_names[e->map]);
	if (!nlh ||
	    !(list = mnl_attr_nest_start_check(nlh, size,
					       NFTA_SET_ELEM_LIST_ELEMENTS)))
		return -ENOSPC;
	for (i = 0; i < n; i++) {
		klen = key_put(k, &e[i]);
		if (!(elem = mnl_attr_nest_start_check(nlh, size,
						       NFTA_LIST_ELEM)) ||
		    !(key = mnl_attr_nest_start_check(nlh, size,
						      NFTA_SET_ELEM_KEY)) ||
		    !mnl_attr_put_check(nlh, size, NFTA_DATA_VALUE, klen, k))
			return -ENOSPC;
		mnl_attr_nest_end(nlh, key);
		mnl_attr_nest_end(nlh, elem);
	}
	mnl_attr_nest_end(nlh, list);
	return (int)nlh->nlmsg_len;
}

/*
 * Attribute walking that fails on a truncated or overlong attribute:
 * mnl_attr_parse() and mnl_attr_for_each() stop there silently, which
 * would make a cut-off dump look like a short one.
 */
struct attr_iter {
	const char *p, *end;
};

static void iter_init(struct attr_iter *it, const void *start, size_t len)
{
	it->p = start;
	it->end = it->p + len;
}

static void iter_nest(struct attr_iter *it, const struct nlattr *nest)
{
	iter_init(it, mnl_attr_get_payload(nest),
		  mnl_attr_get_payload_len(nest));
}

/* The next attribute, or NULL at the end or (with *err = -EPROTO) when
 * what is left is not a whole attribute. */
static const struct nlattr *iter_next(struct attr_iter *it, int *err)
{
	const struct nlattr *a;

	if (it->p >= it->end)
		return NULL;
	a = (const struct nlattr *)it->p;
	if (!mnl_attr_ok(a, (int)(it->end - it->p))) {
		*err = -EPROTO;
		return NULL;
	}
	it->p += MNL_ALIGN(a->nla_len);
	return a;
}

/* Sorts the attributes of @it into @tb by type. */
static int iter_table(struct attr_iter *it, const struct nlattr **tb,
		      unsigned max)
{
	const struct nlattr *a;
	int err = 0;

	memset(tb, 0, (max + 1) * sizeof(*tb));
	while ((a = iter_next(it, &err)))
		if (mnl_attr_get_type(a) <= max)
			tb[mnl_attr_get_type(a)] = a;
	return err;
}

static int nest_table(const struct nlattr *nest, const struct nlattr **tb,
		      unsigned max)
{
	struct attr_iter it;

	iter_nest(&it, nest);
	return iter_table(&it, tb, max);
}

/* The NFTA_DATA_VALUE of an nft_data nest, exactly @len bytes. */
static int get_value(const struct nlattr *nest, void *out, size_t len)
{
	const struct nlattr *tb[NFTA_DATA_MAX + 1];

	if (!nest || nest_table(nest, tb, NFTA_DATA_MAX) < 0 ||
	    !tb[NFTA_DATA_VALUE] ||
	    mnl_attr_get_payload_len(tb[NFTA_DATA_VALUE]) != len)
		return -EPROTO;
	memcpy(out, mnl_attr_get_payload(tb[NFTA_DATA_VALUE]), len);
	return 0;
}

/* 0 and the counts for a counter expression, 1 for another expression. */
static int get_counter(const struct nlattr *expr, uint64_t *packets,
		       uint64_t *bytes)
{
	const struct nlattr *tb[NFTA_EXPR_MAX + 1];
	const struct nlattr *ct[NFTA_COUNTER_MAX + 1];

	if (nest_table(expr, tb, NFTA_EXPR_MAX) < 0 || !tb[NFTA_EXPR_NAME] ||
	    mnl_attr_validate(tb[NFTA_EXPR_NAME], MNL_TYPE_NUL_STRING) < 0)
		return -EPROTO;
	if (strcmp(mnl_attr_get_str(tb[NFTA_EXPR_NAME]), "counter"))
		return 1;
	if (!tb[NFTA_EXPR_DATA] ||
	    nest_table(tb[NFTA_EXPR_DATA], ct, NFTA_COUNTER_MAX) < 0 ||
	    !ct[NFTA_COUNTER_PACKETS] || !ct[NFTA_COUNTER_BYTES] ||
	    mnl_attr_validate(ct[NFTA_COUNTER_PACKETS], MNL_TYPE_U64) < 0 ||
	    mnl_attr_validate(ct[NFTA_COUNTER_BYTES], MNL_TYPE_U64) < 0)
		return -EPROTO;
	*packets = be64toh(mnl_attr_get_u64(ct[NFTA_COUNTER_PACKETS]));
	*bytes = be64toh(mnl_attr_get_u64(ct[NFTA_COUNTER_BYTES]));
	return 0;
}

static int parse_one(const struct nlattr *el, enum offload_map map,
		     struct offload_entry *e, uint64_t *packets,
		     uint64_t *bytes)
{
	const struct nlattr *tb[NFTA_SET_ELEM_MAX + 1], *a;
	uint8_t key[KEY_MAX];
	uint32_t addr, v[2], spi32;
	uint64_t spi64;
	struct attr_iter it;
	int ret = 1, err = 0;

	if (mnl_attr_get_type(el) != NFTA_LIST_ELEM ||
	    nest_table(el, tb, NFTA_SET_ELEM_MAX) < 0 ||
	    get_value(tb[NFTA_SET_ELEM_KEY], key, key_len(map)) < 0 ||
	    get_value(tb[NFTA_SET_ELEM_DATA], &addr, sizeof(addr)) < 0)
		return -EPROTO;
	/* One expression comes alone, several as a list (nf_tables_api.c,
	 * nft_set_elem_expr_dump). */
	if (tb[NFTA_SET_ELEM_EXPR]) {
		ret = get_counter(tb[NFTA_SET_ELEM_EXPR], packets, bytes);
	} else if (tb[NFTA_SET_ELEM_EXPRESSIONS]) {
		iter_nest(&it, tb[NFTA_SET_ELEM_EXPRESSIONS]);
		while (ret == 1 && (a = iter_next(&it, &err)))
			ret = mnl_attr_get_type(a) == NFTA_LIST_ELEM ?
			      get_counter(a, packets, bytes) : -EPROTO;
		if (err)
			ret = err;
	}
	/* Without its counter the daemon cannot tell a live flow from a
	 * dead one: that is a ruleset to fix, not an idle element. */
	if (ret != 0)
		return -EPROTO;
	memset(e, 0, sizeof(*e));
	e->map = map;
	memcpy(v, key, sizeof(v));
	e->src = ntohl(v[0]);
	e->dst = ntohl(v[1]);
	if (offload_map_ike(map)) {
		memcpy(&spi64, key + 8, sizeof(spi64));
		e->spi = be64toh(spi64);
	} else {
		memcpy(&spi32, key + 8, sizeof(spi32));
		e->spi = ntohl(spi32);
	}
	e->addr = ntohl(addr);
	return 0;
}

int offload_parse_elems(const struct nlmsghdr *nlh, offload_seen_fn fn,
			void *ctx)
{
	const struct nlattr *tb[NFTA_SET_ELEM_LIST_MAX + 1], *el;
	const struct nfgenmsg *nfg;
	struct offload_entry e;
	uint64_t packets, bytes;
	struct attr_iter it;
	enum offload_map map;
	int pass, n = 0, err = 0;

	if (!nlh || nlh->nlmsg_len < HDR_LEN ||
	    nlh->nlmsg_type != (NFNL_SUBSYS_NFTABLES << 8 | NFT_MSG_NEWSETELEM))
		return -EPROTO;
	nfg = mnl_nlmsg_get_payload(nlh);
	if (nfg->nfgen_family != NFPROTO_IPV4)
		return -EPROTO;
	iter_init(&it, mnl_nlmsg_get_payload_offset(nlh, sizeof(*nfg)),
		  nlh->nlmsg_len - HDR_LEN);
	if (iter_table(&it, tb, NFTA_SET_ELEM_LIST_MAX) < 0 ||
	    !tb[NFTA_SET_ELEM_LIST_TABLE] || !tb[NFTA_SET_ELEM_LIST_SET] ||
	    mnl_attr_validate(tb[NFTA_SET_ELEM_LIST_TABLE],
			      MNL_TYPE_NUL_STRING) < 0 ||
	    mnl_attr_validate(tb[NFTA_SET_ELEM_LIST_SET],
			      MNL_TYPE_NUL_STRING) < 0 ||
	    strcmp(mnl_attr_get_str(tb[NFTA_SET_ELEM_LIST_TABLE]),
		   OFFLOAD_TABLE))
		return -EPROTO;
	for (map = 0; map < OFFLOAD_MAPS; map++)
		if (!strcmp(mnl_attr_get_str(tb[NFTA_SET_ELEM_LIST_SET]),
			    map_names[map]))
			break;
	if (map == OFFLOAD_MAPS)
		return -EPROTO;
	/* The kernel sends the nest even when it is empty (the last message
	 * of a dump): without it the message was cut short. */
	if (!tb[NFTA_SET_ELEM_LIST_ELEMENTS])
		return -EPROTO;
	/* Check every element before reporting any, so that a bad message
	 * reports nothing rather than part of itself. */
	for (pass = 0; pass < 2; pass++) {
		n = 0;
		iter_nest(&it, tb[NFTA_SET_ELEM_LIST_ELEMENTS]);
		while ((el = iter_next(&it, &err))) {
			if (parse_one(el, map, &e, &packets, &bytes) < 0)
				return -EPROTO;
			if (pass && fn)
				fn(ctx, &e, packets, bytes);
			n++;
		}
		if (err)
			return err;
	}
	return n;
}

static uint32_t next_seq(struct offload *o)
{
	/* libmnl takes sequence 0 as "do not check". */
	if (++o->seq == 0)
		o->seq = 1;
	return o->seq;
}

void offload_close(struct offload *o)
{
	if (!o)
		return;
	if (o->nl)
		mnl_socket_close(o->nl);
	free(o->tx);
	free(o->rx);
	free(o->rxv);
	free(o);
}

/*
 * The kernel answers each element offload_read() asks for with a message
 * in an skb of its own, about 5 KiB of receive buffer each (truesize of a
 * page-sized netlink skb); when they do not fit, replies and the closing
 * error are lost.  So the buffer is raised (CAP_NET_ADMIN may exceed
 * rmem_max) and the requests ask for what it holds, with room to spare.
 */
#define READ_RCVBUF		(2 * 1024 * 1024)
#define READ_REPLY_SIZE		(8 * 1024)
#define READ_CHUNK_MAX		128

static size_t read_chunk(int fd)
{
	int sz = READ_RCVBUF;
	socklen_t len = sizeof(sz);

	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	if (getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, &len) < 0 || sz <= 0)
		return 4;
	/* the kernel reports twice what it was set to; use half of that */
	sz /= 2 * READ_REPLY_SIZE;
	return sz < 4 ? 4 : sz > READ_CHUNK_MAX ? READ_CHUNK_MAX : (size_t)sz;
}

struct offload *offload_open(int *err)
{
	struct offload *o;
	int one = 1, ret;

	o = calloc(1, sizeof(*o));
	if (!o) {
		ret = -ENOMEM;
		goto fail;
	}
	o->tx = calloc(1, TX_SIZE);	/* as in offload_flush() */
	o->rx = malloc(RX_SIZE);
	if (!o->tx || !o->rx) {
		ret = -ENOMEM;
		goto fail;
	}
	o->nl = mnl_socket_open(NETLINK_NETFILTER);
	if (!o->nl) {
		ret = -errno;
		goto fail;
	}
	/* A refused batch brings one error per message; without a copy of
	 * each request many more of them fit in the receive buffer before
	 * it overflows. */
	if (mnl_socket_setsockopt(o->nl, NETLINK_CAP_ACK, &one,
				  sizeof(one)) < 0 ||
	    mnl_socket_bind(o->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		ret = -errno;
		goto fail;
	}
	o->portid = mnl_socket_get_portid(o->nl);
	o->read_chunk = read_chunk(offload_fd(o));
	return o;
fail:
	offload_close(o);
	if (err)
		*err = ret;
	return NULL;
}

int offload_fd(const struct offload *o)
{
	return mnl_socket_get_fd(o->nl);
}

unsigned offload_pending(const struct offload *o)
{
	return o->pending;
}

static int append(struct offload *o, const struct offload_entry *e,
		  int (*build)(void *, size_t, uint32_t,
			       const struct offload_entry *))
{
	size_t len = o->tx_len;
	int n;

	if (!len) {
		n = offload_build_batch(o->tx, TX_SIZE, NFNL_MSG_BATCH_BEGIN,
					next_seq(o));
		if (n < 0)
			return n;
		len = (size_t)n;
	}
	/* Keep room for BATCH_END so that offload_send cannot fail to
	 * close the batch. */
	n = build(o->tx + len, TX_SIZE - HDR_LEN - len, next_seq(o), e);
	if (n < 0)
		return n;
	o->tx_len = len + (size_t)n;
	o->pending++;
	return 0;
}

int offload_add(struct offload *o, const struct offload_entry *e)
{
	return append(o, e, offload_build_add);
}

int offload_del(struct offload *o, const struct offload_entry *e)
{
	return append(o, e, offload_build_del);
}

int offload_send(struct offload *o)
{
	unsigned sent = o->pending;
	size_t len = o->tx_len;
	int n;

	o->tx_len = 0;
	o->pending = 0;
	if (!sent)
		return 0;
	n = offload_build_batch(o->tx + len, TX_SIZE - len, NFNL_MSG_BATCH_END,
				next_seq(o));
	if (n < 0)
		return n;
	if (mnl_socket_sendto(o->nl, o->tx, len + (size_t)n) < 0)
		return -errno;
	return (int)sent;
}

/* One datagram from the kernel, waiting up to @timeout_ms (0: not at
 * all).  Its length, -EAGAIN when there is none, or -errno. */
/* 0 once @pfd may be read (or a signal came), -ETIMEDOUT after
 * @timeout_ms, or -errno. */
static int wait_readable(struct pollfd *pfd, int timeout_ms)
{
	int r = poll(pfd, 1, timeout_ms);

	if (r < 0)
		return errno == EINTR ? 0 : -errno;
	return r ? 0 : -ETIMEDOUT;
}

static int recv_one(struct offload *o, int timeout_ms)
{
	struct pollfd pfd = { .fd = offload_fd(o), .events = POLLIN };
	struct sockaddr_nl sa;
	struct iovec iov = { o->rx, RX_SIZE };
	struct msghdr msg = {
		.msg_name = &sa, .msg_namelen = sizeof(sa),
		.msg_iov = &iov, .msg_iovlen = 1,
	};
	ssize_t n;
	int r;

	for (;;) {
		/* what is there already is read without a poll first */
		n = recvmsg(pfd.fd, &msg, MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EWOULDBLOCK && timeout_ms > 0) {
			r = wait_readable(&pfd, timeout_ms);
			if (r < 0)
				return r;
			continue;
		}
		if (n < 0)
			return errno == EWOULDBLOCK ? -EAGAIN : -errno;
		if (msg.msg_flags & MSG_TRUNC)
			return -EMSGSIZE;
		/* Another process may write to our port id; only the
		 * kernel (port 0) speaks for nf_tables. */
		if (sa.nl_pid == 0)
			return (int)n;
	}
}

static const struct nlmsgerr *get_error(const struct nlmsghdr *nlh)
{
	if (nlh->nlmsg_type != NLMSG_ERROR ||
	    mnl_nlmsg_get_payload_len(nlh) < sizeof(struct nlmsgerr))
		return NULL;
	return mnl_nlmsg_get_payload(nlh);
}

static void hold(struct offload *o, int err)
{
	o->held++;
	/* Lost replies matter more to the caller than which came last. */
	if (o->held_last != -ENOBUFS)
		o->held_last = err;
}

int offload_reap(struct offload *o, int *last)
{
	const struct nlmsghdr *nlh;
	const struct nlmsgerr *e;
	int n, len;

	for (;;) {
		len = recv_one(o, 0);
		if (len == -EAGAIN)
			break;
		if (len < 0) {
			hold(o, len);
			if (len == -ENOBUFS || len == -EMSGSIZE)
				continue;
			break;
		}
		for (nlh = (const void *)o->rx; mnl_nlmsg_ok(nlh, len);
		     nlh = mnl_nlmsg_next(nlh, &len)) {
			e = get_error(nlh);
			if (e && e->error < 0)
				hold(o, e->error);
		}
	}
	n = o->held;
	if (last)
		*last = n ? o->held_last : 0;
	o->held = 0;
	o->held_last = 0;
	return n;
}

/* Replies to earlier batches are all queued by now (the kernel handles a
 * batch within sendmsg): set them aside for offload_reap, so that what
 * follows reads only answers to the request it makes. */
static void stash_stale(struct offload *o)
{
	int last, n = offload_reap(o, &last);

	o->held = n;
	o->held_last = last;
}

/* Waits for the @want acknowledgements of the batch @seq; the first
 * error, or 0. */
static int wait_acks(struct offload *o, uint32_t seq, int want)
{
	const struct nlmsghdr *nlh;
	const struct nlmsgerr *e;
	int got = 0, err = 0, len;

	while (got < want) {
		len = recv_one(o, SYNC_TIMEOUT_MS);
		if (len < 0)
			return err ? err : len;
		for (nlh = (const void *)o->rx; mnl_nlmsg_ok(nlh, len);
		     nlh = mnl_nlmsg_next(nlh, &len)) {
			e = get_error(nlh);
			if (!e)
				continue;
			if (nlh->nlmsg_seq != seq) {
				if (e->error < 0)
					hold(o, e->error);
				continue;
			}
			if (e->error < 0 && !err)
				err = e->error;
			/* A batch failing as a whole (say, ENOMEM) answers
			 * once, for its BATCH_BEGIN. */
			if (e->msg.nlmsg_type == NFNL_MSG_BATCH_BEGIN)
				got = want;
			else
				got++;
		}
	}
	return err;
}

int offload_flush(struct offload *o)
{
	/* zeroed: libmnl need not clear the padding of attributes */
	uint8_t buf[4096] = { 0 };
	uint32_t seq = next_seq(o);
	int len;

	len = offload_build_flush(buf, sizeof(buf), seq);
	if (len < 0)
		return len;
	stash_stale(o);
	if (mnl_socket_sendto(o->nl, buf, (size_t)len) < 0)
		return -errno;
	return wait_acks(o, seq, 2 * OFFLOAD_MAPS);
}

struct scan_state {
	offload_seen_fn fn;
	void *ctx;
	int count;
	int kernel_err;		/* ends the scan */
	int parse_err;		/* reported once the scan is over */
};

static int scan_data_cb(const struct nlmsghdr *nlh, void *data)
{
	struct scan_state *st = data;
	int n = offload_parse_elems(nlh, st->fn, st->ctx);

	/* Carry on: the rest of the dump is on its way to this socket and
	 * must be read before the next request. */
	if (n < 0)
		st->parse_err = n;
	else
		st->count += n;
	return MNL_CB_OK;
}

static int scan_noop_cb(const struct nlmsghdr *nlh, void *data)
{
	(void)nlh;
	(void)data;
	return MNL_CB_OK;
}

static int scan_error_cb(const struct nlmsghdr *nlh, void *data)
{
	struct scan_state *st = data;
	const struct nlmsgerr *e = get_error(nlh);

	if (!e)
		st->kernel_err = -EPROTO;
	else if (e->error < 0)
		st->kernel_err = e->error;
	return MNL_CB_STOP;
}

static int scan_done_cb(const struct nlmsghdr *nlh, void *data)
{
	struct scan_state *st = data;
	int err;

	/* A dump failing once started says why in NLMSG_DONE. */
	if (mnl_nlmsg_get_payload_len(nlh) >= sizeof(err)) {
		memcpy(&err, mnl_nlmsg_get_payload(nlh), sizeof(err));
		if (err < 0)
			st->kernel_err = err;
	}
	return MNL_CB_STOP;
}

static int scan_map(struct offload *o, enum offload_map m,
		    struct scan_state *st)
{
	/* mnl_cb_run2 ignores control messages whose slot is NULL. */
	static const mnl_cb_t ctl[NLMSG_MIN_TYPE] = {
		[NLMSG_NOOP] = scan_noop_cb,
		[NLMSG_ERROR] = scan_error_cb,
		[NLMSG_DONE] = scan_done_cb,
		[NLMSG_OVERRUN] = scan_noop_cb,
	};
	uint8_t req[256] = { 0 };	/* as in offload_flush() */
	uint32_t seq = next_seq(o);
	int len, ret;

	len = offload_build_scan(req, sizeof(req), seq, m);
	if (len < 0)
		return len;
	if (mnl_socket_sendto(o->nl, req, (size_t)len) < 0)
		return -errno;
	for (;;) {
		len = recv_one(o, SYNC_TIMEOUT_MS);
		if (len < 0)
			return len;
		ret = mnl_cb_run2(o->rx, (size_t)len, seq, o->portid,
				  scan_data_cb, st, (mnl_cb_t *)ctl,
				  NLMSG_MIN_TYPE);
		if (ret == MNL_CB_ERROR)
			return -errno;
		if (ret == MNL_CB_STOP)
			return st->kernel_err;
	}
}

int offload_scan(struct offload *o, offload_seen_fn fn, void *ctx)
{
	return offload_scan_maps(o, (1u << OFFLOAD_MAPS) - 1, fn, ctx);
}

int offload_scan_maps(struct offload *o, unsigned maps, offload_seen_fn fn,
		      void *ctx)
{
	struct scan_state st = { .fn = fn, .ctx = ctx };
	enum offload_map m;
	int ret;

	stash_stale(o);
	for (m = 0; m < OFFLOAD_MAPS; m++) {
		if (!(maps & 1u << m))
			continue;
		ret = scan_map(o, m, &st);
		if (ret < 0)
			return ret;
	}
	return st.parse_err ? st.parse_err : st.count;
}

/* offload_read() takes the answers (one message each, a few hundred
 * bytes) this many at a time */
#define READ_RX			64
#define READ_RX_SIZE		2048

/* Like recv_one(), up to READ_RX messages at once into o->rxv: returns
 * how many, each one's length in @len. */
static int recv_many(struct offload *o, int timeout_ms, unsigned *len)
{
	struct pollfd pfd = { .fd = offload_fd(o), .events = POLLIN };
	struct sockaddr_nl sa[READ_RX];
	struct mmsghdr mm[READ_RX];
	struct iovec iov[READ_RX];
	int n, i, k, r;

	for (i = 0; i < READ_RX; i++) {
		iov[i].iov_base = o->rxv + (size_t)i * READ_RX_SIZE;
		iov[i].iov_len = READ_RX_SIZE;
		memset(&mm[i], 0, sizeof(mm[i]));
		mm[i].msg_hdr.msg_name = &sa[i];
		mm[i].msg_hdr.msg_namelen = sizeof(sa[i]);
		mm[i].msg_hdr.msg_iov = &iov[i];
		mm[i].msg_hdr.msg_iovlen = 1;
	}
	for (;;) {
		n = recvmmsg(pfd.fd, mm, READ_RX, MSG_DONTWAIT, NULL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EWOULDBLOCK) {
			r = wait_readable(&pfd, timeout_ms);
			if (r < 0)
				return r;
			continue;
		}
		if (n < 0)
			return -errno;
		for (i = k = 0; i < n; i++) {
			if (mm[i].msg_hdr.msg_flags & MSG_TRUNC)
				return -EMSGSIZE;
			/* only the kernel (port 0) speaks for nf_tables */
			if (sa[i].nl_pid != 0)
				continue;
			if (k != i)
				memmove(o->rxv + (size_t)k * READ_RX_SIZE,
					o->rxv + (size_t)i * READ_RX_SIZE,
					mm[i].msg_len);
			len[k++] = mm[i].msg_len;
		}
		if (k)
			return k;
	}
}

/* One message of the answers to request @seq: an entry (*@got raised),
 * or the error that closes them (*@done set, *@err the error). */
static int read_answer(struct offload *o, const struct nlmsghdr *nlh,
		       uint32_t seq, offload_seen_fn fn, void *ctx,
		       size_t *got, int *err, int *done)
{
	const struct nlmsgerr *er = get_error(nlh);

	if (nlh->nlmsg_seq != seq) {
		if (er && er->error < 0)
			hold(o, er->error);
		return 0;
	}
	if (er) {
		*err = er->error;
		*done = 1;
		return 0;
	}
	if (nlh->nlmsg_type == NLMSG_ERROR ||
	    offload_parse_elems(nlh, fn, ctx) != 1)
		return -EPROTO;
	++*got;
	return 0;
}

/*
 * Reads @n entries of one map with one request, the rest of them again
 * after one the kernel does not have.  The kernel answers each element
 * with a message of its own, in the order asked, and stops at the first
 * it cannot answer: its error then closes the request.
 */
static int read_run(struct offload *o, const struct offload_entry *e,
		    size_t n, offload_seen_fn fn, offload_gone_fn gone,
		    void *ctx, size_t *seen)
{
	const struct nlmsghdr *nlh;
	unsigned lens[READ_RX];
	size_t got;
	uint32_t seq;
	int len, err, done, m, j, r;

	while (n) {
		seq = next_seq(o);
		len = offload_build_get(o->tx, TX_SIZE, seq, e, n);
		if (len < 0)
			return len;
		if (mnl_socket_sendto(o->nl, o->tx, (size_t)len) < 0)
			return -errno;
		got = 0;
		err = 0;
		done = 0;
		while (!done) {
			m = recv_many(o, SYNC_TIMEOUT_MS, lens);
			if (m < 0)
				return m;
			for (j = 0; j < m; j++) {
				len = (int)lens[j];
				for (nlh = (const void *)(o->rxv + (size_t)j *
							  READ_RX_SIZE);
				     mnl_nlmsg_ok(nlh, len);
				     nlh = mnl_nlmsg_next(nlh, &len)) {
					r = read_answer(o, nlh, seq, fn, ctx,
							&got, &err, &done);
					if (r < 0)
						return r;
				}
			}
		}
		*seen += got;
		if (!err && got == n)
			return 0;
		/* the one after the last answered is what stopped it */
		if (err != -ENOENT || got >= n)
			return err ? err : -EPROTO;
		if (gone)
			gone(ctx, &e[got]);
		e += got + 1;
		n -= got + 1;
	}
	return 0;
}

int offload_read(struct offload *o, const struct offload_entry *e, size_t n,
		 offload_seen_fn fn, offload_gone_fn gone, void *ctx)
{
	size_t i = 0, m, seen = 0;
	int ret;

	if (!o->rxv) {
		o->rxv = malloc((size_t)READ_RX * READ_RX_SIZE);
		if (!o->rxv)
			return -ENOMEM;
	}
	stash_stale(o);
	while (i < n) {
		if ((unsigned)e[i].map >= OFFLOAD_MAPS)
			return -EINVAL;
		for (m = 1; i + m < n && m < o->read_chunk &&
			    e[i + m].map == e[i].map; m++)
			;
		ret = read_run(o, &e[i], m, fn, gone, ctx, &seen);
		if (ret < 0)
			return ret;
		i += m;
	}
	return (int)seen;
}
