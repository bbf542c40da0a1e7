/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdbool.h>
#include <string.h>

#include "l2tp.h"

/* AVP header, first word (RFC 2661 section 4.1) */
#define AVP_M		0x8000
#define AVP_H		0x4000
#define AVP_RSVD	0x3c00
#define AVP_LEN_MASK	0x03ff

static inline uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/*
 * One 2-byte ID AVP (Assigned Tunnel ID or Assigned Session ID) at @p,
 * @alen bytes long.  A second one in the same message is refused: the
 * peer's daemon keeps one of them and we cannot tell which, so learning
 * either could attribute the tunnel to the wrong client.
 */
static enum l2tp_err take_id(const uint8_t *p, size_t alen, bool hidden,
			     uint16_t *id, uint8_t *has, uint8_t *hid)
{
	uint16_t v;

	if (*has || *hid)
		return L2TP_ERR_AVP_DUP;
	if (hidden) {
		/* encrypted with the tunnel secret: not an ID we can read */
		*hid = 1;
		return L2TP_OK;
	}
	if (alen != L2TP_AVP_HDR_LEN + 2)
		return L2TP_ERR_AVP_VALUE;
	v = rd16(p + L2TP_AVP_HDR_LEN);
	/* 0 means "not assigned yet" in the header, never a real ID */
	if (v == 0)
		return L2TP_ERR_AVP_VALUE;
	*id = v;
	*has = 1;
	return L2TP_OK;
}

/* The AVPs of a control message: @left bytes from @p, at least one. */
static enum l2tp_err walk_avps(const uint8_t *p, size_t left,
			       struct l2tp_info *li)
{
	bool first = true;
	enum l2tp_err err;

	while (left > 0) {
		uint16_t w, vendor, attr;
		size_t alen;
		bool hidden;

		if (left < L2TP_AVP_HDR_LEN)
			return L2TP_ERR_AVP_LEN;
		w = rd16(p);
		alen = w & AVP_LEN_MASK;
		/* a length below the header would never advance the walk,
		 * one past the end would read outside the message */
		if (alen < L2TP_AVP_HDR_LEN || alen > left)
			return L2TP_ERR_AVP_LEN;
		vendor = rd16(p + 2);
		attr = rd16(p + 4);
		hidden = (w & AVP_H) != 0;
		li->n_avps++;
		if (hidden)
			li->n_hidden++;

		if (first) {
			/* the RFC's Message Type: first, IETF, never hidden,
			 * 2-byte value; anything else is not a message a
			 * daemon would act on */
			if (vendor != 0 || attr != L2TP_ATTR_MSG_TYPE ||
			    hidden || (w & AVP_RSVD) ||
			    alen != L2TP_AVP_HDR_LEN + 2)
				return L2TP_ERR_MSG_TYPE;
			li->msg_type = rd16(p + L2TP_AVP_HDR_LEN);
			first = false;
		} else if (vendor == 0 && !(w & AVP_RSVD)) {
			/* an AVP with reserved bits set is an unrecognised
			 * one for the peer (MS-L2TPIE 3.1.5.2): skipped
			 * here too, so we never learn what it ignores */
			switch (attr) {
			case L2TP_ATTR_MSG_TYPE:
				return L2TP_ERR_MSG_TYPE;
			case L2TP_ATTR_ASSIGNED_TUNNEL:
				err = take_id(p, alen, hidden,
					      &li->assigned_tunnel_id,
					      &li->has_assigned_tunnel,
					      &li->hidden_assigned_tunnel);
				if (err)
					return err;
				break;
			case L2TP_ATTR_ASSIGNED_SESSION:
				err = take_id(p, alen, hidden,
					      &li->assigned_session_id,
					      &li->has_assigned_session,
					      &li->hidden_assigned_session);
				if (err)
					return err;
				break;
			default:
				break;
			}
		}
		p += alen;
		left -= alen;
	}
	return L2TP_OK;
}

enum l2tp_err l2tp_parse(const uint8_t *buf, size_t len,
			 struct l2tp_info *li)
{
	size_t hdr, off = 2;
	uint16_t w;

	memset(li, 0, sizeof(*li));
	if (len < 2)
		return L2TP_ERR_SHORT;
	w = rd16(buf);
	/* L2TPv3 shares udp/1701 (RFC 3931 section 4.1.2.1); its header
	 * is another layout, so it gets its own counter, not a misparse */
	if ((w & L2TP_VER_MASK) == 3)
		return L2TP_ERR_VERSION3;
	if ((w & L2TP_VER_MASK) != 2)
		return L2TP_ERR_VERSION;
	/* no UDP payload is larger; beyond it, offsets would not fit the
	 * 16-bit fields of struct l2tp_info */
	if (len > 65535)
		return L2TP_ERR_LENGTH;
	/* the reserved x bits are kept in flags but otherwise ignored, as
	 * RFC 2661 asks of a receiver */
	li->flags = w & (uint16_t)~L2TP_VER_MASK;
	li->control = (w & L2TP_F_T) != 0;
	/* L and S are what make a control message's length and sequence
	 * checkable; an Offset would put the AVPs where no peer looks */
	if (li->control && ((w & (L2TP_F_L | L2TP_F_S)) !=
			    (L2TP_F_L | L2TP_F_S) || (w & L2TP_F_O)))
		return L2TP_ERR_CTRL_FLAGS;

	hdr = 6u + (w & L2TP_F_L ? 2u : 0u) + (w & L2TP_F_S ? 4u : 0u) +
	      (w & L2TP_F_O ? 2u : 0u);
	if (len < hdr)
		return L2TP_ERR_SHORT;

	li->length = (uint16_t)len;
	if (w & L2TP_F_L) {
		li->length = rd16(buf + 2);
		/* One message per datagram: the UDP length is exact, so a
		 * Length that differs is a broken or crafted message (and
		 * a Length below the header differs too, since len >= hdr).
		 * Bytes past a shorter Length could hold AVPs that another
		 * parser reads and we do not, so no slack either way. */
		if (li->length != len || li->length < hdr)
			return L2TP_ERR_LENGTH;
		off += 2;
	}
	li->tunnel_id = rd16(buf + off);
	li->session_id = rd16(buf + off + 2);
	off += 4;
	if (w & L2TP_F_S) {
		li->ns = rd16(buf + off);
		li->nr = rd16(buf + off + 2);
		off += 4;
	}
	if (w & L2TP_F_O) {
		li->offset_size = rd16(buf + off);
		off += 2;
		if (li->offset_size > len - off)
			return L2TP_ERR_OFFSET;
		off += li->offset_size;
	}
	li->payload_off = (uint16_t)off;
	if (!li->control)
		return L2TP_OK;
	if (off == len) {
		li->zlb = 1;
		li->msg_type = L2TP_MT_ZLB;
		return L2TP_OK;
	}
	return walk_avps(buf + off, len - off, li);
}

const char *l2tp_err_name(enum l2tp_err err)
{
	static const char *const names[L2TP_ERR_MAX] = {
		[L2TP_OK] = "ok",
		[L2TP_ERR_SHORT] = "l2tp-short",
		[L2TP_ERR_VERSION] = "l2tp-version",
		[L2TP_ERR_VERSION3] = "l2tpv3",
		[L2TP_ERR_CTRL_FLAGS] = "l2tp-control-flags",
		[L2TP_ERR_LENGTH] = "l2tp-length",
		[L2TP_ERR_OFFSET] = "l2tp-offset",
		[L2TP_ERR_AVP_LEN] = "avp-length",
		[L2TP_ERR_MSG_TYPE] = "avp-message-type",
		[L2TP_ERR_AVP_VALUE] = "avp-value",
		[L2TP_ERR_AVP_DUP] = "avp-duplicate",
	};

	return (unsigned)err < L2TP_ERR_MAX ? names[err] : "?";
}

const char *l2tp_msg_type_name(unsigned type)
{
	static const char *const names[] = {
		[L2TP_MT_ZLB] = "ZLB",
		[L2TP_MT_SCCRQ] = "SCCRQ",
		[L2TP_MT_SCCRP] = "SCCRP",
		[L2TP_MT_SCCCN] = "SCCCN",
		[L2TP_MT_STOPCCN] = "StopCCN",
		[L2TP_MT_HELLO] = "HELLO",
		[L2TP_MT_OCRQ] = "OCRQ",
		[L2TP_MT_OCRP] = "OCRP",
		[L2TP_MT_OCCN] = "OCCN",
		[L2TP_MT_ICRQ] = "ICRQ",
		[L2TP_MT_ICRP] = "ICRP",
		[L2TP_MT_ICCN] = "ICCN",
		[L2TP_MT_CDN] = "CDN",
		[L2TP_MT_WEN] = "WEN",
		[L2TP_MT_SLI] = "SLI",
	};

	if (type >= sizeof(names) / sizeof(names[0]) || !names[type])
		return "?";
	return names[type];
}
