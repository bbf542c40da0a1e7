/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "l2tp.h"

/* Messages are built byte by byte here, from RFC 2661's layouts, rather
 * than with anything from src/l2tp.c, so a shared misreading of the RFC
 * cannot hide. */
struct msg {
	uint8_t b[512];
	size_t len;
};

#define AVP_M	0x8000
#define AVP_H	0x4000
#define VENDOR_MS	311	/* a vendor-specific AVP to skip */

static void put8(struct msg *m, uint8_t v)
{
	assert_true(m->len < sizeof(m->b));
	m->b[m->len++] = v;
}

static void put16(struct msg *m, uint16_t v)
{
	put8(m, (uint8_t)(v >> 8));
	put8(m, (uint8_t)v);
}

static void set16(struct msg *m, size_t at, uint16_t v)
{
	m->b[at] = (uint8_t)(v >> 8);
	m->b[at + 1] = (uint8_t)v;
}

/* Control header: T, L, S, version 2; Length filled by ctrl_end(). */
static void ctrl_begin(struct msg *m, uint16_t tid, uint16_t sid,
		       uint16_t ns, uint16_t nr)
{
	m->len = 0;
	put16(m, 0xc802);
	put16(m, 0);
	put16(m, tid);
	put16(m, sid);
	put16(m, ns);
	put16(m, nr);
}

static void ctrl_end(struct msg *m)
{
	set16(m, 2, (uint16_t)m->len);
}

/* An AVP: @bits (M, H, reserved) | length, vendor, type, value. */
static void avp(struct msg *m, uint16_t bits, uint16_t vendor, uint16_t attr,
		const uint8_t *val, size_t vlen)
{
	size_t i;

	put16(m, (uint16_t)(bits | (6 + vlen)));
	put16(m, vendor);
	put16(m, attr);
	for (i = 0; i < vlen; i++)
		put8(m, val[i]);
}

static void avp16(struct msg *m, uint16_t bits, uint16_t vendor,
		  uint16_t attr, uint16_t v)
{
	uint8_t val[2] = { (uint8_t)(v >> 8), (uint8_t)v };

	avp(m, bits, vendor, attr, val, 2);
}

static void avp32(struct msg *m, uint16_t attr, uint32_t v)
{
	uint8_t val[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16),
			   (uint8_t)(v >> 8), (uint8_t)v };

	avp(m, AVP_M, 0, attr, val, 4);
}

static void avp_str(struct msg *m, uint16_t attr, const char *s)
{
	avp(m, AVP_M, 0, attr, (const uint8_t *)s, strlen(s));
}

static void msg_type(struct msg *m, uint16_t type)
{
	avp16(m, AVP_M, 0, 0, type);
}

/* Parses a copy of @len bytes of @m in a buffer of exactly that size,
 * so ASan or valgrind see any read past the end. */
static enum l2tp_err parse_n(const struct msg *m, size_t len,
			     struct l2tp_info *li)
{
	uint8_t *copy = malloc(len ? len : 1);
	enum l2tp_err err;

	assert_non_null(copy);
	memcpy(copy, m->b, len);
	err = l2tp_parse(copy, len, li);
	free(copy);
	return err;
}

static enum l2tp_err parse(const struct msg *m, struct l2tp_info *li)
{
	return parse_n(m, m->len, li);
}

/* A PPP LCP Configure-Request, as a data message would carry it. */
static const uint8_t ppp[] = { 0xff, 0x03, 0xc0, 0x21, 0x01, 0x01, 0x00,
			       0x04 };

static void put_ppp(struct msg *m)
{
	size_t i;

	for (i = 0; i < sizeof(ppp); i++)
		put8(m, ppp[i]);
}

/* The message builders the truncation tests reuse. */
static void build_sccrq(struct msg *m)
{
	ctrl_begin(m, 0, 0, 0, 0);
	msg_type(m, L2TP_MT_SCCRQ);
	avp16(m, AVP_M, 0, 2, 0x0100);		/* Protocol Version 1.0 */
	avp32(m, 3, 3);				/* Framing Capabilities */
	avp_str(m, 7, "win-client");	/* Host Name */
	avp16(m, 0, VENDOR_MS, L2TP_ATTR_ASSIGNED_TUNNEL, 0xdead);
	avp16(m, AVP_M, 0, L2TP_ATTR_ASSIGNED_TUNNEL, 0x1234);
	avp16(m, AVP_M, 0, 10, 8);		/* Receive Window Size */
	ctrl_end(m);
}

static void build_sccrp(struct msg *m)
{
	static const uint8_t chal[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 };

	ctrl_begin(m, 0x1234, 0, 0, 1);
	msg_type(m, L2TP_MT_SCCRP);
	avp16(m, AVP_M, 0, 2, 0x0100);
	avp32(m, 3, 3);
	avp_str(m, 7, "gateway");
	avp(m, 0, VENDOR_MS, 77, chal, 5);	/* odd length, vendor */
	avp16(m, AVP_M, 0, L2TP_ATTR_ASSIGNED_TUNNEL, 0x0042);
	avp(m, AVP_M, 0, 11, chal, sizeof(chal));	/* Challenge */
	ctrl_end(m);
}

static void build_icrq(struct msg *m)
{
	ctrl_begin(m, 0x0042, 0, 1, 1);
	msg_type(m, L2TP_MT_ICRQ);
	avp16(m, AVP_M, 0, L2TP_ATTR_ASSIGNED_SESSION, 0x0007);
	avp32(m, 15, 0xcafe);			/* Call Serial Number */
	avp16(m, 0, VENDOR_MS, L2TP_ATTR_ASSIGNED_SESSION, 0x0bad);
	avp32(m, 18, 1);			/* Bearer Type */
	ctrl_end(m);
}

static void build_icrp(struct msg *m)
{
	ctrl_begin(m, 0x1234, 0x0007, 1, 2);
	msg_type(m, L2TP_MT_ICRP);
	avp16(m, AVP_M, 0, L2TP_ATTR_ASSIGNED_SESSION, 0x0099);
	ctrl_end(m);
}

static void build_hello(struct msg *m)
{
	ctrl_begin(m, 0x1234, 0, 5, 6);
	msg_type(m, L2TP_MT_HELLO);
	ctrl_end(m);
}

static void build_zlb(struct msg *m)
{
	ctrl_begin(m, 0x1234, 0, 7, 7);
	ctrl_end(m);
}

/* Random Vector, then an Assigned Tunnel ID hidden as RFC 2661 section
 * 4.3 does it: the value becomes an encrypted length, ID and padding.
 * Its first two bytes would read as 0xbeef. */
static void build_hidden_tunnel(struct msg *m)
{
	static const uint8_t rv[16] = { 0x11, 0x22, 0x33, 0x44 };
	static const uint8_t enc[12] = { 0xbe, 0xef, 0x01, 0x02, 0x03, 0x04,
					 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a };

	ctrl_begin(m, 0, 0, 0, 0);
	msg_type(m, L2TP_MT_SCCRQ);
	avp(m, AVP_M, 0, 36, rv, sizeof(rv));	/* Random Vector */
	avp(m, AVP_M | AVP_H, 0, L2TP_ATTR_ASSIGNED_TUNNEL, enc, sizeof(enc));
	avp16(m, AVP_M, 0, 10, 4);
	ctrl_end(m);
}

static void build_data_lso(struct msg *m)
{
	m->len = 0;
	put16(m, 0x4a02);		/* L, S, O, version 2 */
	put16(m, 0);
	put16(m, 0x0042);
	put16(m, 0x0099);
	put16(m, 3);
	put16(m, 4);
	put16(m, 5);			/* Offset Size */
	put8(m, 0xaa);
	put8(m, 0xbb);
	put8(m, 0xcc);
	put8(m, 0xdd);
	put8(m, 0xee);
	put_ppp(m);
	set16(m, 2, (uint16_t)m->len);
}

static void test_data_plain(void **state)
{
	struct l2tp_info li;
	struct msg m = { .len = 0 };

	(void)state;
	put16(&m, 0x0002);
	put16(&m, 0x0042);
	put16(&m, 0x0099);
	put_ppp(&m);
	assert_int_equal(parse(&m, &li), L2TP_OK);
	assert_false(li.control);
	assert_int_equal(li.tunnel_id, 0x0042);
	assert_int_equal(li.session_id, 0x0099);
	assert_int_equal(li.length, m.len);
	assert_int_equal(li.payload_off, 6);
	assert_memory_equal(m.b + li.payload_off, ppp, sizeof(ppp));
	assert_int_equal(li.n_avps, 0);
}

static void test_data_length(void **state)
{
	struct l2tp_info li;
	struct msg m = { .len = 0 };

	(void)state;
	put16(&m, 0x4002);
	put16(&m, 0);
	put16(&m, 0x0042);
	put16(&m, 0x0099);
	put_ppp(&m);
	set16(&m, 2, (uint16_t)m.len);
	assert_int_equal(parse(&m, &li), L2TP_OK);
	assert_int_equal(li.flags, L2TP_F_L);
	assert_int_equal(li.tunnel_id, 0x0042);
	assert_int_equal(li.session_id, 0x0099);
	assert_int_equal(li.payload_off, 8);
}

static void test_data_sequence(void **state)
{
	struct l2tp_info li;
	struct msg m = { .len = 0 };

	(void)state;
	put16(&m, 0x0802);
	put16(&m, 0x0042);
	put16(&m, 0x0099);
	put16(&m, 0x0102);
	put16(&m, 0x0304);
	put_ppp(&m);
	assert_int_equal(parse(&m, &li), L2TP_OK);
	assert_int_equal(li.tunnel_id, 0x0042);
	assert_int_equal(li.session_id, 0x0099);
	assert_int_equal(li.ns, 0x0102);
	assert_int_equal(li.nr, 0x0304);
	assert_int_equal(li.payload_off, 10);
}

static void test_data_offset(void **state)
{
	struct l2tp_info li;
	struct msg m = { .len = 0 };

	(void)state;
	/* O alone, with the priority bit */
	put16(&m, 0x0302);
	put16(&m, 0x0042);
	put16(&m, 0x0099);
	put16(&m, 3);
	put8(&m, 0);
	put8(&m, 0);
	put8(&m, 0);
	put_ppp(&m);
	assert_int_equal(parse(&m, &li), L2TP_OK);
	assert_int_equal(li.flags, L2TP_F_O | L2TP_F_P);
	assert_int_equal(li.offset_size, 3);
	assert_int_equal(li.payload_off, 11);
	assert_memory_equal(m.b + li.payload_off, ppp, sizeof(ppp));

	/* L, S and O together */
	build_data_lso(&m);
	assert_int_equal(parse(&m, &li), L2TP_OK);
	assert_int_equal(li.tunnel_id, 0x0042);
	assert_int_equal(li.session_id, 0x0099);
	assert_int_equal(li.ns, 3);
	assert_int_equal(li.nr, 4);
	assert_int_equal(li.offset_size, 5);
	assert_int_equal(li.payload_off, 14 + 5);
	assert_memory_equal(m.b + li.payload_off, ppp, sizeof(ppp));
}

static void test_data_offset_bounds(void **state)
{
	struct l2tp_info li;
	struct msg m = { .len = 0 };

	(void)state;
	put16(&m, 0x0202);
	put16(&m, 0x0042);
	put16(&m, 0x0099);
	put16(&m, 4);
	put16(&m, 0);
	put16(&m, 0);
	/* padding up to the very end: an empty payload, still in bounds */
	assert_int_equal(parse(&m, &li), L2TP_OK);
	assert_int_equal(li.payload_off, m.len);
	/* one byte past the end */
	set16(&m, 6, 5);
	assert_int_equal(parse(&m, &li), L2TP_ERR_OFFSET);
	set16(&m, 6, 0xffff);
	assert_int_equal(parse(&m, &li), L2TP_ERR_OFFSET);
	/* Offset Size 0: payload right after the field */
	set16(&m, 6, 0);
	assert_int_equal(parse(&m, &li), L2TP_OK);
	assert_int_equal(li.payload_off, 8);
}

static void test_sccrq(void **state)
{
	struct l2tp_info li;
	struct msg m;

	(void)state;
	build_sccrq(&m);
	assert_int_equal(parse(&m, &li), L2TP_OK);
	assert_true(li.control);
	assert_false(li.zlb);
	assert_int_equal(li.flags, L2TP_F_T | L2TP_F_L | L2TP_F_S);
	assert_int_equal(li.tunnel_id, 0);
	assert_int_equal(li.session_id, 0);
	assert_int_equal(li.msg_type, L2TP_MT_SCCRQ);
	assert_int_equal(li.payload_off, 12);
	/* the Microsoft AVP of type 9 before it is not the IETF one */
	assert_true(li.has_assigned_tunnel);
	assert_int_equal(li.assigned_tunnel_id, 0x1234);
	assert_false(li.has_assigned_session);
	assert_false(li.hidden_assigned_tunnel);
	assert_int_equal(li.n_avps, 7);
	assert_int_equal(li.n_hidden, 0);
}

static void test_sccrp(void **state)
{
	struct l2tp_info li;
	struct msg m;

	(void)state;
	build_sccrp(&m);
	assert_int_equal(parse(&m, &li), L2TP_OK);
	assert_true(li.control);
	assert_int_equal(li.tunnel_id, 0x1234);
	assert_int_equal(li.ns, 0);
	assert_int_equal(li.nr, 1);
	assert_int_equal(li.msg_type, L2TP_MT_SCCRP);
	assert_true(li.has_assigned_tunnel);
	assert_int_equal(li.assigned_tunnel_id, 0x0042);
	assert_int_equal(li.n_avps, 7);
}

static void test_icrq(void **state)
{
	struct l2tp_info li;
	struct msg m;

	(void)state;
	build_icrq(&m);
	assert_int_equal(parse(&m, &li), L2TP_OK);
	assert_int_equal(li.tunnel_id, 0x0042);
	assert_int_equal(li.session_id, 0);
	assert_int_equal(li.msg_type, L2TP_MT_ICRQ);
	assert_false(li.has_assigned_tunnel);
	assert_true(li.has_assigned_session);
	assert_int_equal(li.assigned_session_id, 0x0007);
}

static void test_icrp(void **state)
{
	struct l2tp_info li;
	struct msg m;

	(void)state;
	build_icrp(&m);
	assert_int_equal(parse(&m, &li), L2TP_OK);
	assert_int_equal(li.tunnel_id, 0x1234);
	assert_int_equal(li.session_id, 0x0007);
	assert_int_equal(li.msg_type, L2TP_MT_ICRP);
	assert_true(li.has_assigned_session);
	assert_int_equal(li.assigned_session_id, 0x0099);
}

static void test_hello(void **state)
{
	struct l2tp_info li;
	struct msg m;

	(void)state;
	build_hello(&m);
	assert_int_equal(parse(&m, &li), L2TP_OK);
	assert_int_equal(li.msg_type, L2TP_MT_HELLO);
	assert_false(li.zlb);
	assert_int_equal(li.n_avps, 1);
	assert_false(li.has_assigned_tunnel);
	assert_false(li.has_assigned_session);
}

static void test_zlb(void **state)
{
	struct l2tp_info li;
	struct msg m;

	(void)state;
	build_zlb(&m);
	assert_int_equal(m.len, 12);
	assert_int_equal(parse(&m, &li), L2TP_OK);
	assert_true(li.control);
	assert_true(li.zlb);
	assert_int_equal(li.msg_type, L2TP_MT_ZLB);
	assert_int_equal(li.tunnel_id, 0x1234);
	assert_int_equal(li.ns, 7);
	assert_int_equal(li.n_avps, 0);
}

static void test_hidden_assigned_tunnel(void **state)
{
	struct l2tp_info li;
	struct msg m;

	(void)state;
	build_hidden_tunnel(&m);
	assert_int_equal(parse(&m, &li), L2TP_OK);
	assert_int_equal(li.msg_type, L2TP_MT_SCCRQ);
	/* its 12-byte value would be refused as an ID; hidden, it is not
	 * read at all */
	assert_false(li.has_assigned_tunnel);
	assert_true(li.hidden_assigned_tunnel);
	assert_int_equal(li.assigned_tunnel_id, 0);
	assert_int_equal(li.n_hidden, 1);
	assert_int_equal(li.n_avps, 4);
}

static void test_hidden_assigned_session(void **state)
{
	static const uint8_t enc[2] = { 0x00, 0x00 };
	struct l2tp_info li;
	struct msg m;

	(void)state;
	ctrl_begin(&m, 0x0042, 0, 1, 1);
	msg_type(&m, L2TP_MT_ICRQ);
	/* a zero value would be refused in the clear */
	avp(&m, AVP_M | AVP_H, 0, L2TP_ATTR_ASSIGNED_SESSION, enc, 2);
	ctrl_end(&m);
	assert_int_equal(parse(&m, &li), L2TP_OK);
	assert_false(li.has_assigned_session);
	assert_true(li.hidden_assigned_session);
	assert_int_equal(li.n_hidden, 1);
}

/* Every message with a Length field: each shorter datagram is an error
 * (and, in a buffer of exactly that size, never a read past it). */
static void test_truncations(void **state)
{
	void (*const builders[])(struct msg *) = {
		build_sccrq, build_sccrp, build_icrq, build_icrp, build_hello,
		build_zlb, build_hidden_tunnel, build_data_lso,
	};
	struct l2tp_info li;
	struct msg m;
	size_t b, n;

	(void)state;
	for (b = 0; b < sizeof(builders) / sizeof(builders[0]); b++) {
		builders[b](&m);
		assert_int_equal(parse(&m, &li), L2TP_OK);
		for (n = 0; n < m.len; n++)
			assert_int_not_equal(parse_n(&m, n, &li), L2TP_OK);
	}
}

/* Without a Length field a cut payload looks like a whole one: the
 * header must still be there, and the IDs read are the same. */
static void test_truncations_without_length(void **state)
{
	struct l2tp_info li;
	struct msg m = { .len = 0 };
	size_t n;

	(void)state;
	put16(&m, 0x0a02);		/* S and O */
	put16(&m, 0x0042);
	put16(&m, 0x0099);
	put16(&m, 1);
	put16(&m, 2);
	put16(&m, 2);
	put16(&m, 0);
	put_ppp(&m);
	for (n = 0; n < m.len; n++) {
		enum l2tp_err err = parse_n(&m, n, &li);

		if (n < 12) {
			assert_int_equal(err, L2TP_ERR_SHORT);
		} else if (n < 14) {
			/* the 2 bytes of padding cut */
			assert_int_equal(err, L2TP_ERR_OFFSET);
		} else {
			assert_int_equal(err, L2TP_OK);
			assert_int_equal(li.tunnel_id, 0x0042);
			assert_int_equal(li.session_id, 0x0099);
			assert_int_equal(li.payload_off, 14);
		}
	}
}

static void test_length_larger(void **state)
{
	struct l2tp_info li;
	struct msg m;

	(void)state;
	build_sccrq(&m);
	set16(&m, 2, (uint16_t)(m.len + 1));
	assert_int_equal(parse(&m, &li), L2TP_ERR_LENGTH);
	set16(&m, 2, 0xffff);
	assert_int_equal(parse(&m, &li), L2TP_ERR_LENGTH);
	build_data_lso(&m);
	set16(&m, 2, (uint16_t)(m.len + 1));
	assert_int_equal(parse(&m, &li), L2TP_ERR_LENGTH);
}

static void test_length_smaller(void **state)
{
	struct l2tp_info li;
	struct msg m;

	(void)state;
	/* bytes past a shorter Length are refused, not ignored: they
	 * could carry AVPs only some parsers see */
	build_sccrq(&m);
	set16(&m, 2, (uint16_t)(m.len - 1));
	assert_int_equal(parse(&m, &li), L2TP_ERR_LENGTH);
	set16(&m, 2, 12);		/* as if a ZLB */
	assert_int_equal(parse(&m, &li), L2TP_ERR_LENGTH);
	set16(&m, 2, 4);		/* below the header */
	assert_int_equal(parse(&m, &li), L2TP_ERR_LENGTH);
	set16(&m, 2, 0);
	assert_int_equal(parse(&m, &li), L2TP_ERR_LENGTH);
	build_data_lso(&m);
	set16(&m, 2, (uint16_t)(m.len - 1));
	assert_int_equal(parse(&m, &li), L2TP_ERR_LENGTH);
}

/* An ICRQ whose second AVP has length @alen and @vlen value bytes. */
static enum l2tp_err parse_bad_avp(uint16_t alen, size_t vlen)
{
	struct l2tp_info li;
	struct msg m;
	size_t i;

	ctrl_begin(&m, 0x0042, 0, 1, 1);
	msg_type(&m, L2TP_MT_ICRQ);
	put16(&m, (uint16_t)(AVP_M | alen));
	put16(&m, 0);
	put16(&m, 15);
	for (i = 0; i < vlen; i++)
		put8(&m, 0x5a);
	ctrl_end(&m);
	return parse(&m, &li);
}

static void test_avp_len_zero(void **state)
{
	(void)state;
	/* would never advance the walk */
	assert_int_equal(parse_bad_avp(0, 4), L2TP_ERR_AVP_LEN);
}

static void test_avp_len_five(void **state)
{
	(void)state;
	assert_int_equal(parse_bad_avp(5, 4), L2TP_ERR_AVP_LEN);
	/* 6, a header and no value, is a valid length */
	assert_int_equal(parse_bad_avp(6, 0), L2TP_OK);
}

static void test_avp_len_beyond_end(void **state)
{
	struct l2tp_info li;
	struct msg m;

	(void)state;
	assert_int_equal(parse_bad_avp(11, 4), L2TP_ERR_AVP_LEN);
	assert_int_equal(parse_bad_avp(0x3ff, 4), L2TP_ERR_AVP_LEN);
	/* the first AVP, too */
	ctrl_begin(&m, 0, 0, 0, 0);
	put16(&m, AVP_M | 9);
	put16(&m, 0);
	put16(&m, 0);
	put16(&m, L2TP_MT_SCCRQ);
	ctrl_end(&m);
	assert_int_equal(parse(&m, &li), L2TP_ERR_AVP_LEN);
	/* fewer bytes than an AVP header after the last AVP */
	build_hello(&m);
	put16(&m, 0);
	put16(&m, 0);
	ctrl_end(&m);
	assert_int_equal(parse(&m, &li), L2TP_ERR_AVP_LEN);
}

static void test_version3(void **state)
{
	struct l2tp_info li;
	struct msg m = { .len = 0 };

	(void)state;
	/* L2TPv3 control over UDP: T, L, S, version 3 */
	put16(&m, 0xc803);
	put16(&m, 12);
	put16(&m, 0);
	put16(&m, 0);
	put16(&m, 0);
	put16(&m, 0);
	assert_int_equal(parse(&m, &li), L2TP_ERR_VERSION3);
	/* L2TPv3 data over UDP */
	set16(&m, 0, 0x0003);
	assert_int_equal(parse(&m, &li), L2TP_ERR_VERSION3);
	/* L2F and others */
	set16(&m, 0, 0xc801);
	assert_int_equal(parse(&m, &li), L2TP_ERR_VERSION);
	set16(&m, 0, 0xc800);
	assert_int_equal(parse(&m, &li), L2TP_ERR_VERSION);
	set16(&m, 0, 0xc80f);
	assert_int_equal(parse(&m, &li), L2TP_ERR_VERSION);
}

static void test_control_flags(void **state)
{
	struct l2tp_info li;
	struct msg m;

	(void)state;
	build_hello(&m);
	set16(&m, 0, 0x8802);		/* no L */
	assert_int_equal(parse(&m, &li), L2TP_ERR_CTRL_FLAGS);
	set16(&m, 0, 0xc002);		/* no S */
	assert_int_equal(parse(&m, &li), L2TP_ERR_CTRL_FLAGS);
	set16(&m, 0, 0x8002);		/* neither */
	assert_int_equal(parse(&m, &li), L2TP_ERR_CTRL_FLAGS);
	set16(&m, 0, 0xca02);		/* with O */
	assert_int_equal(parse(&m, &li), L2TP_ERR_CTRL_FLAGS);
	/* reserved x bits are ignored, as the RFC asks */
	set16(&m, 0, 0xc802 | 0x3000 | 0x0400 | 0x00f0);
	assert_int_equal(parse(&m, &li), L2TP_OK);
	assert_int_equal(li.msg_type, L2TP_MT_HELLO);
}

static void test_short(void **state)
{
	struct l2tp_info li;
	struct msg m = { .len = 0 };

	(void)state;
	assert_int_equal(parse(&m, &li), L2TP_ERR_SHORT);
	put8(&m, 0x00);
	assert_int_equal(parse(&m, &li), L2TP_ERR_SHORT);
	put8(&m, 0x02);
	assert_int_equal(parse(&m, &li), L2TP_ERR_SHORT);
	put16(&m, 1);
	put8(&m, 2);
	assert_int_equal(parse(&m, &li), L2TP_ERR_SHORT);
	put8(&m, 2);
	assert_int_equal(parse(&m, &li), L2TP_OK);
	assert_int_equal(li.payload_off, 6);
}

static void test_message_type_rules(void **state)
{
	struct l2tp_info li;
	struct msg m;

	(void)state;
	/* not first */
	ctrl_begin(&m, 0, 0, 0, 0);
	avp16(&m, AVP_M, 0, L2TP_ATTR_ASSIGNED_TUNNEL, 0x1234);
	msg_type(&m, L2TP_MT_SCCRQ);
	ctrl_end(&m);
	assert_int_equal(parse(&m, &li), L2TP_ERR_MSG_TYPE);
	/* a vendor's type 0 */
	ctrl_begin(&m, 0, 0, 0, 0);
	avp16(&m, AVP_M, VENDOR_MS, 0, L2TP_MT_SCCRQ);
	ctrl_end(&m);
	assert_int_equal(parse(&m, &li), L2TP_ERR_MSG_TYPE);
	/* hidden */
	ctrl_begin(&m, 0, 0, 0, 0);
	avp16(&m, AVP_M | AVP_H, 0, 0, L2TP_MT_SCCRQ);
	ctrl_end(&m);
	assert_int_equal(parse(&m, &li), L2TP_ERR_MSG_TYPE);
	/* reserved bits set */
	ctrl_begin(&m, 0, 0, 0, 0);
	avp16(&m, AVP_M | 0x0400, 0, 0, L2TP_MT_SCCRQ);
	ctrl_end(&m);
	assert_int_equal(parse(&m, &li), L2TP_ERR_MSG_TYPE);
	/* value not 2 bytes */
	ctrl_begin(&m, 0, 0, 0, 0);
	avp32(&m, 0, L2TP_MT_SCCRQ);
	ctrl_end(&m);
	assert_int_equal(parse(&m, &li), L2TP_ERR_MSG_TYPE);
	/* a second one */
	build_icrp(&m);
	msg_type(&m, L2TP_MT_CDN);
	ctrl_end(&m);
	assert_int_equal(parse(&m, &li), L2TP_ERR_MSG_TYPE);
	/* a type this parser does not name is still reported */
	build_hello(&m);
	set16(&m, 18, 0x7777);
	assert_int_equal(parse(&m, &li), L2TP_OK);
	assert_int_equal(li.msg_type, 0x7777);
}

static void test_assigned_id_values(void **state)
{
	struct l2tp_info li;
	struct msg m;

	(void)state;
	/* wrong value length */
	ctrl_begin(&m, 0, 0, 0, 0);
	msg_type(&m, L2TP_MT_SCCRQ);
	avp32(&m, L2TP_ATTR_ASSIGNED_TUNNEL, 0x1234);
	ctrl_end(&m);
	assert_int_equal(parse(&m, &li), L2TP_ERR_AVP_VALUE);
	/* zero */
	ctrl_begin(&m, 0, 0, 0, 0);
	msg_type(&m, L2TP_MT_SCCRQ);
	avp16(&m, AVP_M, 0, L2TP_ATTR_ASSIGNED_TUNNEL, 0);
	ctrl_end(&m);
	assert_int_equal(parse(&m, &li), L2TP_ERR_AVP_VALUE);
	ctrl_begin(&m, 0x42, 0, 0, 0);
	msg_type(&m, L2TP_MT_ICRQ);
	avp16(&m, AVP_M, 0, L2TP_ATTR_ASSIGNED_SESSION, 0);
	ctrl_end(&m);
	assert_int_equal(parse(&m, &li), L2TP_ERR_AVP_VALUE);
	/* twice, even with the same value */
	build_sccrq(&m);
	avp16(&m, AVP_M, 0, L2TP_ATTR_ASSIGNED_TUNNEL, 0x1234);
	ctrl_end(&m);
	assert_int_equal(parse(&m, &li), L2TP_ERR_AVP_DUP);
	build_icrp(&m);
	avp16(&m, AVP_M, 0, L2TP_ATTR_ASSIGNED_SESSION, 0x0098);
	ctrl_end(&m);
	assert_int_equal(parse(&m, &li), L2TP_ERR_AVP_DUP);
	/* hidden, then in the clear */
	build_hidden_tunnel(&m);
	avp16(&m, AVP_M, 0, L2TP_ATTR_ASSIGNED_TUNNEL, 0x1234);
	ctrl_end(&m);
	assert_int_equal(parse(&m, &li), L2TP_ERR_AVP_DUP);
	/* reserved bits set: unrecognised, so skipped, not learned */
	ctrl_begin(&m, 0, 0, 0, 0);
	msg_type(&m, L2TP_MT_SCCRQ);
	avp16(&m, AVP_M | 0x0800, 0, L2TP_ATTR_ASSIGNED_TUNNEL, 0x1234);
	ctrl_end(&m);
	assert_int_equal(parse(&m, &li), L2TP_OK);
	assert_false(li.has_assigned_tunnel);
	assert_int_equal(li.n_avps, 2);
}

/* Random flips and lengths over valid messages: whatever comes back,
 * an accepted message's offsets lie inside it. */
static void test_mutations(void **state)
{
	void (*const builders[])(struct msg *) = {
		build_sccrq, build_sccrp, build_icrq, build_icrp, build_hello,
		build_zlb, build_hidden_tunnel, build_data_lso,
	};
	const size_t nb = sizeof(builders) / sizeof(builders[0]);
	struct l2tp_info li;
	struct msg m;
	unsigned i, seed = 12345, ok = 0;

	(void)state;
	for (i = 0; i < 200000; i++) {
		size_t at, n;

		seed = seed * 1103515245u + 12345u;
		builders[(seed >> 16) % nb](&m);
		seed = seed * 1103515245u + 12345u;
		at = (seed >> 16) % m.len;
		seed = seed * 1103515245u + 12345u;
		m.b[at] ^= (uint8_t)(1u << ((seed >> 16) % 8));
		seed = seed * 1103515245u + 12345u;
		n = (seed >> 16) % 4 ? m.len : (seed >> 18) % (m.len + 1);
		if (parse_n(&m, n, &li) != L2TP_OK)
			continue;
		ok++;
		assert_true(li.payload_off <= n);
		assert_true(li.length == n);
		if (li.control)
			assert_true(li.payload_off == 12);
	}
	/* flips in values or unknown AVPs leave most messages valid */
	assert_true(ok > 0);
}

static void test_names(void **state)
{
	unsigned i, j;

	(void)state;
	for (i = 0; i < L2TP_ERR_MAX; i++) {
		assert_non_null(l2tp_err_name(i));
		assert_string_not_equal(l2tp_err_name(i), "?");
		for (j = 0; j < i; j++)
			assert_string_not_equal(l2tp_err_name(i),
						l2tp_err_name(j));
	}
	assert_string_equal(l2tp_err_name(L2TP_ERR_MAX), "?");
	assert_string_equal(l2tp_err_name(L2TP_ERR_VERSION3), "l2tpv3");
	assert_string_equal(l2tp_err_name(L2TP_ERR_AVP_LEN), "avp-length");
	assert_string_equal(l2tp_msg_type_name(L2TP_MT_ZLB), "ZLB");
	assert_string_equal(l2tp_msg_type_name(L2TP_MT_SCCRQ), "SCCRQ");
	assert_string_equal(l2tp_msg_type_name(L2TP_MT_ICRP), "ICRP");
	assert_string_equal(l2tp_msg_type_name(5), "?");
	assert_string_equal(l2tp_msg_type_name(13), "?");
	assert_string_equal(l2tp_msg_type_name(17), "?");
	assert_string_equal(l2tp_msg_type_name(0xffff), "?");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_data_plain),
		cmocka_unit_test(test_data_length),
		cmocka_unit_test(test_data_sequence),
		cmocka_unit_test(test_data_offset),
		cmocka_unit_test(test_data_offset_bounds),
		cmocka_unit_test(test_sccrq),
		cmocka_unit_test(test_sccrp),
		cmocka_unit_test(test_icrq),
		cmocka_unit_test(test_icrp),
		cmocka_unit_test(test_hello),
		cmocka_unit_test(test_zlb),
		cmocka_unit_test(test_hidden_assigned_tunnel),
		cmocka_unit_test(test_hidden_assigned_session),
		cmocka_unit_test(test_truncations),
		cmocka_unit_test(test_truncations_without_length),
		cmocka_unit_test(test_length_larger),
		cmocka_unit_test(test_length_smaller),
		cmocka_unit_test(test_avp_len_zero),
		cmocka_unit_test(test_avp_len_five),
		cmocka_unit_test(test_avp_len_beyond_end),
		cmocka_unit_test(test_version3),
		cmocka_unit_test(test_control_flags),
		cmocka_unit_test(test_short),
		cmocka_unit_test(test_message_type_rules),
		cmocka_unit_test(test_assigned_id_values),
		cmocka_unit_test(test_mutations),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
