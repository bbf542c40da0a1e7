/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <string.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nf_tables.h>

#include "offload.h"

#define NFT(msg)	((NFNL_SUBSYS_NFTABLES << 8) | (msg))
#define DESTROYSETELEM	30
#define GETSETELEM_RESET 33
#define MAXT		16

/* 192.0.2.1 -> 203.0.113.5, SPI 0x12345678, new address 198.51.100.7 */
static const uint8_t key_bytes[12] = {
	0xc0, 0x00, 0x02, 0x01, 0xcb, 0x00, 0x71, 0x05, 0x12, 0x34, 0x56, 0x78,
};
static const uint8_t addr_bytes[4] = { 0xc6, 0x33, 0x64, 0x07 };

static const struct offload_entry entry = {
	.map = OFFLOAD_IN_UDP, .src = 0xc0000201, .dst = 0xcb007105,
	.spi = 0x12345678, .addr = 0xc6336407,
};

static int table_cb(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;

	if (mnl_attr_get_type(a) < MAXT)
		tb[mnl_attr_get_type(a)] = a;
	return MNL_CB_OK;
}

static void msg_table(const struct nlmsghdr *nlh, const struct nlattr **tb)
{
	memset(tb, 0, MAXT * sizeof(*tb));
	assert_int_equal(mnl_attr_parse(nlh, sizeof(struct nfgenmsg), table_cb,
					tb), MNL_CB_OK);
}

static void nest_table(const struct nlattr *nest, const struct nlattr **tb)
{
	assert_non_null(nest);
	memset(tb, 0, MAXT * sizeof(*tb));
	assert_int_equal(mnl_attr_parse_nested(nest, table_cb, tb), MNL_CB_OK);
}

static void assert_str(const struct nlattr *a, const char *want)
{
	assert_non_null(a);
	assert_int_equal(mnl_attr_validate(a, MNL_TYPE_NUL_STRING), 0);
	assert_string_equal(mnl_attr_get_str(a), want);
}

static void assert_value(const struct nlattr *nest, const void *want,
			 size_t len)
{
	const struct nlattr *tb[MAXT];

	nest_table(nest, tb);
	assert_non_null(tb[NFTA_DATA_VALUE]);
	assert_int_equal(mnl_attr_get_payload_len(tb[NFTA_DATA_VALUE]), len);
	assert_memory_equal(mnl_attr_get_payload(tb[NFTA_DATA_VALUE]), want,
			    len);
}

/* Checks one set element message and returns its NFTA_LIST_ELEM. */
static const struct nlattr *check_elem_msg(const struct nlmsghdr *nlh,
					   uint16_t type, uint16_t flags,
					   uint32_t seq, const char *set)
{
	const struct nlattr *tb[MAXT], *el[MAXT];
	const struct nfgenmsg *nfg = mnl_nlmsg_get_payload(nlh);

	assert_int_equal(nlh->nlmsg_type, type);
	assert_int_equal(nlh->nlmsg_flags, NLM_F_REQUEST | flags);
	assert_int_equal(nlh->nlmsg_seq, seq);
	assert_int_equal(nfg->nfgen_family, NFPROTO_IPV4);
	assert_int_equal(nfg->version, NFNETLINK_V0);
	msg_table(nlh, tb);
	assert_str(tb[NFTA_SET_ELEM_LIST_TABLE], "espmasq_offload");
	assert_str(tb[NFTA_SET_ELEM_LIST_SET], set);
	nest_table(tb[NFTA_SET_ELEM_LIST_ELEMENTS], el);
	assert_non_null(el[NFTA_LIST_ELEM]);
	return el[NFTA_LIST_ELEM];
}

static void test_map_names(void **state)
{
	(void)state;
	assert_string_equal(offload_map_name(OFFLOAD_IN_ESP), "in_esp");
	assert_string_equal(offload_map_name(OFFLOAD_IN_UDP), "in_udp");
	assert_string_equal(offload_map_name(OFFLOAD_OUT_ESP), "out_esp");
	assert_string_equal(offload_map_name(OFFLOAD_OUT_UDP), "out_udp");
	assert_string_equal(offload_map_name(OFFLOAD_IN_IKE), "in_ike");
	assert_string_equal(offload_map_name(OFFLOAD_IN_IKE_NATT),
			    "in_ike_natt");
	assert_string_equal(offload_map_name(OFFLOAD_OUT_IKE), "out_ike");
	assert_string_equal(offload_map_name(OFFLOAD_OUT_IKE_NATT),
			    "out_ike_natt");
	assert_null(offload_map_name(OFFLOAD_MAPS));
}

static void test_map_kinds(void **state)
{
	enum offload_map m;
	int in, natt, ike;

	(void)state;
	/* offload_map_of() and the three predicates agree on every map */
	for (ike = 0; ike < 2; ike++)
		for (natt = 0; natt < 2; natt++)
			for (in = 0; in < 2; in++) {
				m = offload_map_of(in, natt, ike);
				assert_true((unsigned)m < OFFLOAD_MAPS);
				assert_int_equal(!!offload_map_inbound(m), in);
				assert_int_equal(!!offload_map_natt(m), natt);
				assert_int_equal(!!offload_map_ike(m), ike);
			}
	assert_int_equal(offload_map_of(1, 1, 0), OFFLOAD_IN_UDP);
	assert_int_equal(offload_map_of(0, 1, 1), OFFLOAD_OUT_IKE_NATT);
}

/* An IKE map's key: the 8-byte initiator SPI as on the wire, 16 bytes in
 * all, in both the element and its mark element. */
static void test_add_ike(void **state)
{
	static const uint8_t ike_key[16] = {
		0xc0, 0x00, 0x02, 0x01, 0xcb, 0x00, 0x71, 0x05,
		0x1c, 0xe0, 0x00, 0x07, 0x00, 0x01, 0x00, 0x03,
	};
	struct offload_entry e = entry;
	uint8_t buf[1024];
	const struct nlattr *el, *tb[MAXT];
	const struct nlmsghdr *nlh = (const void *)buf;
	int n, len;

	(void)state;
	e.map = OFFLOAD_OUT_IKE;
	e.spi = 0x1ce0000700010003ull;
	e.mark_value = 1;
	e.mark_mask = 0xff;
	n = offload_build_add(buf, sizeof(buf), 4, &e);
	assert_true(n > (int)nlh->nlmsg_len);
	el = check_elem_msg(nlh, NFT(NFT_MSG_NEWSETELEM), NLM_F_CREATE, 4,
			    "out_ike");
	nest_table(el, tb);
	assert_value(tb[NFTA_SET_ELEM_KEY], ike_key, sizeof(ike_key));
	assert_value(tb[NFTA_SET_ELEM_DATA], addr_bytes, sizeof(addr_bytes));
	len = n;
	nlh = mnl_nlmsg_next(nlh, &len);
	assert_true(mnl_nlmsg_ok(nlh, len));
	el = check_elem_msg(nlh, NFT(NFT_MSG_NEWSETELEM), NLM_F_CREATE, 4,
			    "out_ike_mark");
	nest_table(el, tb);
	assert_value(tb[NFTA_SET_ELEM_KEY], ike_key, sizeof(ike_key));

	e.map = OFFLOAD_IN_IKE_NATT;
	n = offload_build_del(buf, sizeof(buf), 5, &e);
	assert_true(n > 0);
	nlh = (const void *)buf;
	el = check_elem_msg(nlh, NFT(DESTROYSETELEM), 0, 5, "in_ike_natt");
	nest_table(el, tb);
	assert_value(tb[NFTA_SET_ELEM_KEY], ike_key, sizeof(ike_key));
	len = n;
	nlh = mnl_nlmsg_next(nlh, &len);
	assert_true(mnl_nlmsg_ok(nlh, len));
	el = check_elem_msg(nlh, NFT(DESTROYSETELEM), 0, 5,
			    "in_ike_natt_mark");
	/* an ESP entry's SPI is 32 bits: the high ones are not sent */
	e.map = OFFLOAD_IN_ESP;
	e.spi = 0xffffffff12345678ull;
	n = offload_build_del(buf, sizeof(buf), 6, &e);
	nlh = (const void *)buf;
	el = check_elem_msg(nlh, NFT(DESTROYSETELEM), 0, 6, "in_esp");
	nest_table(el, tb);
	assert_value(tb[NFTA_SET_ELEM_KEY], key_bytes, sizeof(key_bytes));
}

static void test_add_plain(void **state)
{
	uint8_t buf[1024];
	const struct nlattr *el, *tb[MAXT];
	const struct nlmsghdr *nlh = (const void *)buf;
	int n;

	(void)state;
	n = offload_build_add(buf, sizeof(buf), 77, &entry);
	assert_true(n > 0);
	/* No mark: one message only. */
	assert_int_equal(n, nlh->nlmsg_len);
	el = check_elem_msg(nlh, NFT(NFT_MSG_NEWSETELEM), NLM_F_CREATE, 77,
			    "in_udp");
	nest_table(el, tb);
	assert_value(tb[NFTA_SET_ELEM_KEY], key_bytes, sizeof(key_bytes));
	assert_value(tb[NFTA_SET_ELEM_DATA], addr_bytes, sizeof(addr_bytes));
}

static void test_add_mark(void **state)
{
	struct offload_entry e = entry;
	uint8_t buf[1024];
	const struct nlattr *el, *tb[MAXT], *data[MAXT], *verdict[MAXT];
	const struct nlmsghdr *nlh = (const void *)buf;
	int n, len = (int)sizeof(buf);

	(void)state;
	e.map = OFFLOAD_OUT_ESP;
	e.mark_value = 0x100;
	e.mark_mask = 0xff00;
	n = offload_build_add(buf, sizeof(buf), 78, &e);
	assert_true(n > (int)nlh->nlmsg_len);
	el = check_elem_msg(nlh, NFT(NFT_MSG_NEWSETELEM), NLM_F_CREATE, 78,
			    "out_esp");
	nest_table(el, tb);
	assert_value(tb[NFTA_SET_ELEM_KEY], key_bytes, sizeof(key_bytes));
	assert_value(tb[NFTA_SET_ELEM_DATA], addr_bytes, sizeof(addr_bytes));

	len = n;
	nlh = mnl_nlmsg_next(nlh, &len);
	assert_true(mnl_nlmsg_ok(nlh, len));
	assert_int_equal(len, nlh->nlmsg_len);
	el = check_elem_msg(nlh, NFT(NFT_MSG_NEWSETELEM), NLM_F_CREATE, 78,
			    "out_esp_mark");
	nest_table(el, tb);
	assert_value(tb[NFTA_SET_ELEM_KEY], key_bytes, sizeof(key_bytes));
	nest_table(tb[NFTA_SET_ELEM_DATA], data);
	assert_null(data[NFTA_DATA_VALUE]);
	nest_table(data[NFTA_DATA_VERDICT], verdict);
	assert_non_null(verdict[NFTA_VERDICT_CODE]);
	assert_int_equal(mnl_attr_validate(verdict[NFTA_VERDICT_CODE],
					   MNL_TYPE_U32), 0);
	assert_int_equal((int32_t)ntohl(mnl_attr_get_u32(
				verdict[NFTA_VERDICT_CODE])), NFT_JUMP);
	assert_str(verdict[NFTA_VERDICT_CHAIN], "mark_00000100_0000ff00");
}

static void test_del(void **state)
{
	struct offload_entry e = entry;
	uint8_t buf[1024];
	const struct nlattr *el, *tb[MAXT];
	const struct nlmsghdr *nlh = (const void *)buf;
	int n, len;

	(void)state;
	/* Both elements go, whether or not the entry says it has a mark. */
	e.map = OFFLOAD_IN_ESP;
	n = offload_build_del(buf, sizeof(buf), 9, &e);
	assert_true(n > 0);
	el = check_elem_msg(nlh, NFT(DESTROYSETELEM), 0, 9, "in_esp");
	nest_table(el, tb);
	assert_value(tb[NFTA_SET_ELEM_KEY], key_bytes, sizeof(key_bytes));
	assert_null(tb[NFTA_SET_ELEM_DATA]);
	len = n;
	nlh = mnl_nlmsg_next(nlh, &len);
	assert_true(mnl_nlmsg_ok(nlh, len));
	assert_int_equal(len, nlh->nlmsg_len);
	el = check_elem_msg(nlh, NFT(DESTROYSETELEM), 0, 9, "in_esp_mark");
	nest_table(el, tb);
	assert_value(tb[NFTA_SET_ELEM_KEY], key_bytes, sizeof(key_bytes));
	assert_null(tb[NFTA_SET_ELEM_DATA]);
}

static void test_build_limits(void **state)
{
	struct offload_entry e = entry;
	uint8_t buf[1024];
	size_t size;
	int n;

	(void)state;
	e.mark_mask = 0xff;
	n = offload_build_add(buf, sizeof(buf), 1, &e);
	assert_true(n > 0);
	for (size = 0; size < (size_t)n; size++)
		assert_int_equal(offload_build_add(buf, size, 1, &e), -ENOSPC);
	assert_int_equal(offload_build_add(buf, (size_t)n, 1, &e), n);
	n = offload_build_del(buf, sizeof(buf), 1, &e);
	for (size = 0; size < (size_t)n; size++)
		assert_int_equal(offload_build_del(buf, size, 1, &e), -ENOSPC);
	e.map = OFFLOAD_MAPS;
	assert_int_equal(offload_build_add(buf, sizeof(buf), 1, &e), -EINVAL);
	assert_int_equal(offload_build_del(buf, sizeof(buf), 1, &e), -EINVAL);
	assert_int_equal(offload_build_scan(buf, sizeof(buf), 1, OFFLOAD_MAPS),
			 -EINVAL);
}

static void test_flush_and_scan_requests(void **state)
{
	static const char *const sets[] = {
		"in_esp", "in_udp", "out_esp", "out_udp", "in_ike",
		"in_ike_natt", "out_ike", "out_ike_natt", "in_esp_mark",
		"in_udp_mark", "out_esp_mark", "out_udp_mark", "in_ike_mark",
		"in_ike_natt_mark", "out_ike_mark", "out_ike_natt_mark",
	};
	uint8_t buf[4096];
	const struct nlmsghdr *nlh = (const void *)buf;
	const struct nfgenmsg *nfg;
	const struct nlattr *tb[MAXT];
	int n, len, i;

	(void)state;
	n = offload_build_flush(buf, sizeof(buf), 5);
	assert_true(n > 0);
	len = n;
	assert_int_equal(nlh->nlmsg_type, NFNL_MSG_BATCH_BEGIN);
	nfg = mnl_nlmsg_get_payload(nlh);
	assert_int_equal(ntohs(nfg->res_id), NFNL_SUBSYS_NFTABLES);
	for (i = 0; i < 16; i++) {
		nlh = mnl_nlmsg_next(nlh, &len);
		assert_true(mnl_nlmsg_ok(nlh, len));
		assert_int_equal(nlh->nlmsg_type, NFT(NFT_MSG_DELSETELEM));
		assert_int_equal(nlh->nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK);
		msg_table(nlh, tb);
		assert_str(tb[NFTA_SET_ELEM_LIST_TABLE], "espmasq_offload");
		assert_str(tb[NFTA_SET_ELEM_LIST_SET], sets[i]);
		/* No elements: the whole set. */
		assert_null(tb[NFTA_SET_ELEM_LIST_ELEMENTS]);
	}
	nlh = mnl_nlmsg_next(nlh, &len);
	assert_true(mnl_nlmsg_ok(nlh, len));
	assert_int_equal(nlh->nlmsg_type, NFNL_MSG_BATCH_END);
	assert_int_equal(len, nlh->nlmsg_len);

	n = offload_build_scan(buf, sizeof(buf), 6, OFFLOAD_OUT_UDP);
	nlh = (const void *)buf;
	assert_int_equal(n, nlh->nlmsg_len);
	assert_int_equal(nlh->nlmsg_type, NFT(GETSETELEM_RESET));
	assert_int_equal(nlh->nlmsg_flags, NLM_F_REQUEST | NLM_F_DUMP);
	msg_table(nlh, tb);
	assert_str(tb[NFTA_SET_ELEM_LIST_TABLE], "espmasq_offload");
	assert_str(tb[NFTA_SET_ELEM_LIST_SET], "out_udp");
}

/* offload_read's request: every entry's key, in order, one map, an
 * acknowledgement asked for and no dump. */
static void test_read_request(void **state)
{
	struct offload_entry e[3] = { entry, entry, entry };
	const struct nlattr *tb[MAXT], *el, *key[MAXT], *a;
	const struct nlmsghdr *nlh;
	uint8_t buf[1024], want[12];
	uint32_t spi;
	size_t size;
	int n, i = 0;

	(void)state;
	e[1].spi = 0x01020304;
	e[2].src = 0x0a000001;
	n = offload_build_get(buf, sizeof(buf), 12, e, 3);
	nlh = (const void *)buf;
	assert_int_equal(n, nlh->nlmsg_len);
	el = check_elem_msg(nlh, NFT(GETSETELEM_RESET), NLM_F_ACK, 12,
			    "in_udp");
	(void)el;
	msg_table(nlh, tb);
	mnl_attr_for_each_nested(a, tb[NFTA_SET_ELEM_LIST_ELEMENTS]) {
		assert_true(i < 3);
		assert_int_equal(mnl_attr_get_type(a), NFTA_LIST_ELEM);
		nest_table(a, key);
		memcpy(want, key_bytes, sizeof(want));
		spi = htonl((uint32_t)e[i].spi);
		memcpy(want + 8, &spi, 4);
		if (i == 2) {
			want[0] = 10;
			want[1] = want[2] = 0;
			want[3] = 1;
		}
		assert_value(key[NFTA_SET_ELEM_KEY], want, sizeof(want));
		/* a key alone: no data, no expression */
		assert_null(key[NFTA_SET_ELEM_DATA]);
		i++;
	}
	assert_int_equal(i, 3);
	for (size = 0; size < (size_t)n; size++)
		assert_int_equal(offload_build_get(buf, size, 12, e, 3),
				 -ENOSPC);
	/* one map a request */
	e[1].map = OFFLOAD_IN_ESP;
	assert_int_equal(offload_build_get(buf, sizeof(buf), 12, e, 3),
			 -EINVAL);
	assert_int_equal(offload_build_get(buf, sizeof(buf), 12, e, 0),
			 -EINVAL);
	e[0].map = OFFLOAD_MAPS;
	assert_int_equal(offload_build_get(buf, sizeof(buf), 12, e, 1),
			 -EINVAL);
	/* IKE keys are 16 bytes: the 8 of the SPI */
	e[0] = entry;
	e[0].map = OFFLOAD_OUT_IKE;
	e[0].spi = 0x1122334455667788ull;
	n = offload_build_get(buf, sizeof(buf), 13, e, 1);
	assert_true(n > 0);
	el = check_elem_msg(nlh, NFT(GETSETELEM_RESET), NLM_F_ACK, 13,
			    "out_ike");
	nest_table(el, key);
	{
		uint8_t ike[16];
		uint64_t be = htobe64(e[0].spi);

		memcpy(ike, key_bytes, 8);
		memcpy(ike + 8, &be, 8);
		assert_value(key[NFTA_SET_ELEM_KEY], ike, sizeof(ike));
	}
}

/* What offload_parse_elems reported. */
struct seen {
	unsigned n;
	struct offload_entry e[4];
	uint64_t packets[4], bytes[4];
};

static void seen_fn(void *ctx, const struct offload_entry *e,
		    uint64_t packets, uint64_t bytes)
{
	struct seen *s = ctx;

	assert_true(s->n < 4);
	s->e[s->n] = *e;
	s->packets[s->n] = packets;
	s->bytes[s->n] = bytes;
	s->n++;
}

/* A dump message from Linux 6.18 (GETSETELEM_RESET on in_esp holding
 * 1.2.3.4 . 5.6.7.8 . 0x11223344 : 9.9.9.9), the counter patched to 3
 * packets and 204 bytes. */
static const uint8_t kernel_msg[] = {
	0x88, 0x00, 0x00, 0x00, 0x0c, 0x0a, 0x02, 0x00, 0x07, 0x00, 0x00, 0x00,
	0x57, 0x50, 0x00, 0x00, 0x02, 0x00, 0x00, 0x7a, 0x14, 0x00, 0x01, 0x00,
	0x65, 0x73, 0x70, 0x6d, 0x61, 0x73, 0x71, 0x5f, 0x6f, 0x66, 0x66, 0x6c,
	0x6f, 0x61, 0x64, 0x00, 0x0b, 0x00, 0x02, 0x00, 0x69, 0x6e, 0x5f, 0x65,
	0x73, 0x70, 0x00, 0x00, 0x54, 0x00, 0x03, 0x00, 0x50, 0x00, 0x01, 0x00,
	0x14, 0x00, 0x01, 0x00, 0x10, 0x00, 0x01, 0x00, 0x01, 0x02, 0x03, 0x04,
	0x05, 0x06, 0x07, 0x08, 0x11, 0x22, 0x33, 0x44, 0x0c, 0x00, 0x02, 0x00,
	0x08, 0x00, 0x01, 0x00, 0x09, 0x09, 0x09, 0x09, 0x2c, 0x00, 0x07, 0x00,
	0x0c, 0x00, 0x01, 0x00, 0x63, 0x6f, 0x75, 0x6e, 0x74, 0x65, 0x72, 0x00,
	0x1c, 0x00, 0x02, 0x00, 0x0c, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0xcc, 0x0c, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x03,
};

static void test_parse_kernel(void **state)
{
	uint32_t buf[sizeof(kernel_msg) / 4];
	struct seen s = { 0 };

	(void)state;
	memcpy(buf, kernel_msg, sizeof(kernel_msg));
	assert_int_equal(offload_parse_elems((const void *)buf, seen_fn, &s),
			 1);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.e[0].map, OFFLOAD_IN_ESP);
	assert_int_equal(s.e[0].src, 0x01020304);
	assert_int_equal(s.e[0].dst, 0x05060708);
	assert_int_equal(s.e[0].spi, 0x11223344);
	assert_int_equal(s.e[0].addr, 0x09090909);
	assert_int_equal(s.e[0].mark_mask, 0);
	assert_int_equal(s.packets[0], 3);
	assert_int_equal(s.bytes[0], 204);
}

enum counter_form { COUNTER_EXPR, COUNTER_LIST, COUNTER_NONE };

static void put_counter(struct nlmsghdr *nlh, uint16_t type, const char *name,
			uint64_t packets, uint64_t bytes)
{
	struct nlattr *expr = mnl_attr_nest_start(nlh, type);
	struct nlattr *data;

	mnl_attr_put_strz(nlh, NFTA_EXPR_NAME, name);
	data = mnl_attr_nest_start(nlh, NFTA_EXPR_DATA);
	mnl_attr_put_u64(nlh, NFTA_COUNTER_BYTES, htobe64(bytes));
	mnl_attr_put_u64(nlh, NFTA_COUNTER_PACKETS, htobe64(packets));
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, expr);
}

/* An element as nf_tables_fill_setelem writes it. */
static void put_dump_elem_n(struct nlmsghdr *nlh, const uint8_t *key,
			    size_t klen, const uint8_t addr[4],
			    enum counter_form form, uint64_t packets,
			    uint64_t bytes)
{
	struct nlattr *el = mnl_attr_nest_start(nlh, NFTA_LIST_ELEM);
	struct nlattr *nest;

	nest = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_KEY);
	mnl_attr_put(nlh, NFTA_DATA_VALUE, klen, key);
	mnl_attr_nest_end(nlh, nest);
	nest = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_DATA);
	mnl_attr_put(nlh, NFTA_DATA_VALUE, 4, addr);
	mnl_attr_nest_end(nlh, nest);
	if (form == COUNTER_EXPR) {
		put_counter(nlh, NFTA_SET_ELEM_EXPR, "counter", packets,
			    bytes);
	} else if (form == COUNTER_LIST) {
		nest = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_EXPRESSIONS);
		put_counter(nlh, NFTA_LIST_ELEM, "quota", 1, 1);
		put_counter(nlh, NFTA_LIST_ELEM, "counter", packets, bytes);
		mnl_attr_nest_end(nlh, nest);
	}
	mnl_attr_nest_end(nlh, el);
}

static void put_dump_elem(struct nlmsghdr *nlh, const uint8_t key[12],
			  const uint8_t addr[4], enum counter_form form,
			  uint64_t packets, uint64_t bytes)
{
	put_dump_elem_n(nlh, key, 12, addr, form, packets, bytes);
}

static struct nlmsghdr *dump_start(void *buf, const char *table,
				   const char *set)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nfgenmsg *nfg;

	nlh->nlmsg_type = NFT(NFT_MSG_NEWSETELEM);
	nlh->nlmsg_flags = NLM_F_MULTI;
	nlh->nlmsg_seq = 3;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = NFPROTO_IPV4;
	nfg->res_id = htons(0x1234);
	mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_TABLE, table);
	mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_SET, set);
	return nlh;
}

static const uint8_t key2[12] = { 10, 0, 0, 1, 10, 0, 0, 2, 0, 0, 0, 9 };
static const uint8_t addr2[4] = { 10, 0, 0, 3 };

/* Two elements of out_udp, the counter in each form the kernel uses. */
static struct nlmsghdr *dump_two(void *buf)
{
	struct nlmsghdr *nlh = dump_start(buf, "espmasq_offload", "out_udp");
	struct nlattr *list = mnl_attr_nest_start(nlh,
						  NFTA_SET_ELEM_LIST_ELEMENTS);

	put_dump_elem(nlh, key_bytes, addr_bytes, COUNTER_EXPR, 5, 420);
	put_dump_elem(nlh, key2, addr2, COUNTER_LIST, 1ull << 33, 7ull << 40);
	mnl_attr_nest_end(nlh, list);
	return nlh;
}

static void test_parse_handmade(void **state)
{
	uint32_t buf[256];
	struct seen s = { 0 };
	struct nlmsghdr *nlh = dump_two(buf);

	(void)state;
	assert_int_equal(offload_parse_elems(nlh, seen_fn, &s), 2);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.e[0].map, OFFLOAD_OUT_UDP);
	assert_int_equal(s.e[0].src, entry.src);
	assert_int_equal(s.e[0].dst, entry.dst);
	assert_int_equal(s.e[0].spi, entry.spi);
	assert_int_equal(s.e[0].addr, entry.addr);
	assert_int_equal(s.packets[0], 5);
	assert_int_equal(s.bytes[0], 420);
	assert_int_equal(s.e[1].map, OFFLOAD_OUT_UDP);
	assert_int_equal(s.e[1].src, 0x0a000001);
	assert_int_equal(s.e[1].dst, 0x0a000002);
	assert_int_equal(s.e[1].spi, 9);
	assert_int_equal(s.e[1].addr, 0x0a000003);
	assert_true(s.packets[1] == 1ull << 33);
	assert_true(s.bytes[1] == 7ull << 40);
	/* No callback: still counts. */
	assert_int_equal(offload_parse_elems(nlh, NULL, NULL), 2);
}

/* An IKE map's elements have 16-byte keys; a 12-byte one there is not
 * one of ours. */
static void test_parse_ike(void **state)
{
	static const uint8_t k16[16] = {
		198, 51, 100, 9, 203, 0, 113, 5,
		0x2e, 0x50, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00,
	};
	uint32_t buf[256];
	struct seen s = { 0 };
	struct nlmsghdr *nlh = dump_start(buf, "espmasq_offload",
					  "in_ike_natt");
	struct nlattr *list = mnl_attr_nest_start(nlh,
						  NFTA_SET_ELEM_LIST_ELEMENTS);

	(void)state;
	put_dump_elem_n(nlh, k16, sizeof(k16), addr2, COUNTER_EXPR, 2, 180);
	mnl_attr_nest_end(nlh, list);
	assert_int_equal(offload_parse_elems(nlh, seen_fn, &s), 1);
	assert_int_equal(s.e[0].map, OFFLOAD_IN_IKE_NATT);
	assert_int_equal(s.e[0].src, 0xc6336409);
	assert_int_equal(s.e[0].dst, 0xcb007105);
	assert_true(s.e[0].spi == 0x2e50000100010000ull);
	assert_int_equal(s.e[0].addr, 0x0a000003);
	assert_int_equal(s.packets[0], 2);
	assert_int_equal(s.bytes[0], 180);

	s.n = 0;
	nlh = dump_start(buf, "espmasq_offload", "out_ike");
	list = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_LIST_ELEMENTS);
	put_dump_elem(nlh, key2, addr2, COUNTER_EXPR, 1, 1);
	mnl_attr_nest_end(nlh, list);
	assert_int_equal(offload_parse_elems(nlh, seen_fn, &s), -EPROTO);
	/* ...and a 16-byte key in an ESP map neither */
	nlh = dump_start(buf, "espmasq_offload", "out_esp");
	list = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_LIST_ELEMENTS);
	put_dump_elem_n(nlh, k16, sizeof(k16), addr2, COUNTER_EXPR, 1, 1);
	mnl_attr_nest_end(nlh, list);
	assert_int_equal(offload_parse_elems(nlh, seen_fn, &s), -EPROTO);
	assert_int_equal(s.n, 0);
}

static void test_parse_empty(void **state)
{
	uint32_t buf[64];
	struct seen s = { 0 };
	struct nlmsghdr *nlh = dump_start(buf, "espmasq_offload", "in_udp");
	struct nlattr *list;

	(void)state;
	/* Missing the ELEMENTS nest: cut short. */
	assert_int_equal(offload_parse_elems(nlh, seen_fn, &s), -EPROTO);
	/* The last message of a dump: an empty nest. */
	list = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_LIST_ELEMENTS);
	mnl_attr_nest_end(nlh, list);
	assert_int_equal(offload_parse_elems(nlh, seen_fn, &s), 0);
	assert_int_equal(s.n, 0);
}

static void test_parse_truncated(void **state)
{
	uint32_t buf[256];
	struct seen s = { 0 };
	struct nlmsghdr *nlh = dump_two(buf);
	uint32_t full = nlh->nlmsg_len, len;

	(void)state;
	/* Every shorter length, as if the rest had not been received. */
	for (len = 0; len < full; len++) {
		nlh->nlmsg_len = len;
		assert_int_equal(offload_parse_elems(nlh, seen_fn, &s),
				 -EPROTO);
	}
	assert_int_equal(s.n, 0);
	nlh->nlmsg_len = full;
	assert_int_equal(offload_parse_elems(nlh, seen_fn, &s), 2);
}

static void test_parse_garbled(void **state)
{
	uint32_t buf[256], good[256];
	uint8_t *p = (uint8_t *)buf;
	struct seen s = { 0 };
	struct nlmsghdr *nlh = dump_two(good);
	uint32_t full = nlh->nlmsg_len, i;
	int v, n;

	(void)state;
	/* Any byte of the message set to any of these values: no crash, and
	 * either an error or elements that were reported in full.  Not
	 * nlmsg_len: the caller checked it against what it received. */
	static const uint8_t vals[] = { 0x00, 0x01, 0x03, 0x05, 0x7f, 0xff };
	for (i = sizeof(nlh->nlmsg_len); i < full; i++) {
		for (v = 0; v < (int)sizeof(vals); v++) {
			memcpy(buf, good, full);
			p[i] = vals[v];
			s.n = 0;
			n = offload_parse_elems((const void *)buf, seen_fn, &s);
			if (n < 0)
				assert_int_equal(s.n, 0);
			else
				assert_int_equal((unsigned)n, s.n);
		}
	}
}

static void parse_fails(const struct nlmsghdr *nlh)
{
	struct seen s = { 0 };

	assert_int_equal(offload_parse_elems(nlh, seen_fn, &s), -EPROTO);
	assert_int_equal(s.n, 0);
}

static void test_parse_rejects(void **state)
{
	uint32_t buf[256];
	struct nlmsghdr *nlh;
	struct nfgenmsg *nfg;
	struct nlattr *list;

	(void)state;
	nlh = dump_two(buf);
	nlh->nlmsg_type = NFT(NFT_MSG_NEWSET);
	parse_fails(nlh);
	nlh = dump_two(buf);
	nfg = mnl_nlmsg_get_payload(nlh);
	nfg->nfgen_family = NFPROTO_IPV6;
	parse_fails(nlh);

	nlh = dump_start(buf, "other", "in_esp");
	list = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_LIST_ELEMENTS);
	mnl_attr_nest_end(nlh, list);
	parse_fails(nlh);

	/* The mark maps carry verdicts, not addresses. */
	nlh = dump_start(buf, "espmasq_offload", "in_esp_mark");
	list = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_LIST_ELEMENTS);
	mnl_attr_nest_end(nlh, list);
	parse_fails(nlh);

	/* A good element, then one without its counter: neither reported. */
	nlh = dump_start(buf, "espmasq_offload", "in_esp");
	list = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_LIST_ELEMENTS);
	put_dump_elem(nlh, key_bytes, addr_bytes, COUNTER_EXPR, 1, 2);
	put_dump_elem(nlh, key2, addr2, COUNTER_NONE, 0, 0);
	mnl_attr_nest_end(nlh, list);
	parse_fails(nlh);

	/* A good element, then one whose length runs past its list: the
	 * list is cut, not shorter. */
	nlh = dump_start(buf, "espmasq_offload", "in_esp");
	list = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_LIST_ELEMENTS);
	put_dump_elem(nlh, key_bytes, addr_bytes, COUNTER_EXPR, 1, 2);
	{
		uint8_t zero[8] = { 0 };
		struct nlattr *bad = mnl_nlmsg_get_payload_tail(nlh);

		mnl_attr_put(nlh, NFTA_LIST_ELEM, sizeof(zero), zero);
		bad->nla_len = 256;
	}
	mnl_attr_nest_end(nlh, list);
	parse_fails(nlh);

	/* A key of the wrong size. */
	nlh = dump_start(buf, "espmasq_offload", "in_esp");
	list = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_LIST_ELEMENTS);
	put_dump_elem(nlh, key_bytes, addr_bytes, COUNTER_EXPR, 1, 2);
	mnl_attr_nest_end(nlh, list);
	assert_int_equal(offload_parse_elems(nlh, NULL, NULL), 1);
	/* Shrink the key's NFTA_DATA_VALUE from 12 to 8 bytes of payload
	 * in place. */
	{
		uint8_t *p = mnl_nlmsg_get_payload_offset(nlh,
						sizeof(struct nfgenmsg));
		uint8_t *end = (uint8_t *)mnl_nlmsg_get_payload_tail(nlh);
		int found = 0;

		for (; p + 16 <= end; p += 4)
			if (!memcmp(p + 4, key_bytes, 12) && p[0] == 16) {
				p[0] = 12;
				found = 1;
				break;
			}
		assert_true(found);
	}
	parse_fails(nlh);
	assert_int_equal(offload_parse_elems(NULL, NULL, NULL), -EPROTO);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_map_names),
		cmocka_unit_test(test_map_kinds),
		cmocka_unit_test(test_add_ike),
		cmocka_unit_test(test_add_plain),
		cmocka_unit_test(test_add_mark),
		cmocka_unit_test(test_del),
		cmocka_unit_test(test_build_limits),
		cmocka_unit_test(test_flush_and_scan_requests),
		cmocka_unit_test(test_read_request),
		cmocka_unit_test(test_parse_kernel),
		cmocka_unit_test(test_parse_handmade),
		cmocka_unit_test(test_parse_ike),
		cmocka_unit_test(test_parse_empty),
		cmocka_unit_test(test_parse_truncated),
		cmocka_unit_test(test_parse_garbled),
		cmocka_unit_test(test_parse_rejects),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
