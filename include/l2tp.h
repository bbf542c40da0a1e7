/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * L2TPv2 (RFC 2661) header and control-message parsing, for gateway mode:
 * several L2TP clients behind one NAT all use udp/1701 on both ends, so
 * only their tunnel and session IDs tell them apart.  Pure functions:
 * the UDP payload in, a struct out, nothing allocated.
 */
#ifndef ESPMASQ_L2TP_H
#define ESPMASQ_L2TP_H

#include <stddef.h>
#include <stdint.h>

#define L2TP_PORT	1701

/* Flag bits of the header's first word (RFC 2661 section 3.1). */
#define L2TP_F_T	0x8000	/* control message */
#define L2TP_F_L	0x4000	/* Length field present */
#define L2TP_F_S	0x0800	/* Ns and Nr present */
#define L2TP_F_O	0x0200	/* Offset Size present */
#define L2TP_F_P	0x0100	/* priority (data messages) */
#define L2TP_VER_MASK	0x000f

#define L2TP_AVP_HDR_LEN	6

/* Message Type AVP values (RFC 2661 section 6).  0 is not a message
 * type there; here it stands for the ZLB, a control message without
 * AVPs, which only acknowledges. */
enum l2tp_msg_type {
	L2TP_MT_ZLB = 0,
	L2TP_MT_SCCRQ = 1,
	L2TP_MT_SCCRP = 2,
	L2TP_MT_SCCCN = 3,
	L2TP_MT_STOPCCN = 4,
	L2TP_MT_HELLO = 6,
	L2TP_MT_OCRQ = 7,
	L2TP_MT_OCRP = 8,
	L2TP_MT_OCCN = 9,
	L2TP_MT_ICRQ = 10,
	L2TP_MT_ICRP = 11,
	L2TP_MT_ICCN = 12,
	L2TP_MT_CDN = 14,
	L2TP_MT_WEN = 15,
	L2TP_MT_SLI = 16,
};

/* Attribute types this parser acts on (vendor 0). */
#define L2TP_ATTR_MSG_TYPE		0
#define L2TP_ATTR_ASSIGNED_TUNNEL	9
#define L2TP_ATTR_ASSIGNED_SESSION	14

/* Why a message was refused; each one can have its own counter. */
enum l2tp_err {
	L2TP_OK = 0,
	L2TP_ERR_SHORT,		/* shorter than its flags' header */
	L2TP_ERR_VERSION,	/* version neither 2 nor 3 */
	L2TP_ERR_VERSION3,	/* L2TPv3 over UDP (RFC 3931): not parsed */
	L2TP_ERR_CTRL_FLAGS,	/* control without L or S, or with O */
	L2TP_ERR_LENGTH,	/* Length field differs from the datagram */
	L2TP_ERR_OFFSET,	/* offset padding runs past the message */
	L2TP_ERR_AVP_LEN,	/* AVP length < 6 or beyond the message */
	L2TP_ERR_MSG_TYPE,	/* first AVP not a plain Message Type, or a
				 * second Message Type later */
	L2TP_ERR_AVP_VALUE,	/* Assigned Tunnel/Session ID of the wrong
				 * length, or zero */
	L2TP_ERR_AVP_DUP,	/* Assigned Tunnel/Session ID given twice */
	L2TP_ERR_MAX
};

/*
 * What l2tp_parse() found.  Integers are in host order.  The has_ and
 * hidden_ fields are 0 or 1.
 */
struct l2tp_info {
	uint16_t flags;		/* first word without the version */
	uint16_t length;	/* message length (the datagram's) */
	uint16_t tunnel_id;	/* the receiver's tunnel ID */
	uint16_t session_id;	/* the receiver's session ID */
	uint16_t ns;		/* with L2TP_F_S */
	uint16_t nr;
	uint16_t offset_size;	/* with L2TP_F_O */
	uint16_t payload_off;	/* data: PPP frame; control: first AVP */
	uint8_t control;	/* T bit: control message */
	uint8_t zlb;		/* control message without AVPs */
	/* Control messages only: */
	uint16_t msg_type;	/* enum l2tp_msg_type, or a value this file
				 * does not name; L2TP_MT_ZLB for a ZLB */
	uint16_t assigned_tunnel_id;	/* with has_assigned_tunnel */
	uint16_t assigned_session_id;	/* with has_assigned_session */
	uint8_t has_assigned_tunnel;
	uint8_t has_assigned_session;
	/* A hidden AVP's value is encrypted with the tunnel secret: it is
	 * skipped, never read; these say an ID was there but is unknown. */
	uint8_t hidden_assigned_tunnel;
	uint8_t hidden_assigned_session;
	uint16_t n_avps;	/* AVPs walked, Message Type included */
	uint16_t n_hidden;	/* of which hidden (H bit) */
};

/*
 * Validates and parses the L2TPv2 message in @buf (@len bytes: the UDP
 * payload).  For a control message, also walks its AVPs for the Message
 * Type, Assigned Tunnel ID and Assigned Session ID.  Reads nothing
 * outside @buf[0..@len).  Returns L2TP_OK and fills @li, or the reason
 * the message was refused (@li then holds what was parsed before it).
 * An Assigned ID is reported in whatever message carries it; which
 * message types it means something in (SCCRQ/SCCRP/StopCCN for the
 * tunnel, ICRQ/ICRP/OCRQ/OCRP/CDN for the session) is the caller's call.
 */
enum l2tp_err l2tp_parse(const uint8_t *buf, size_t len,
			 struct l2tp_info *li);

/* A short fixed name for @err ("avp-length"), "?" when out of range. */
const char *l2tp_err_name(enum l2tp_err err);

/* The RFC's abbreviation for @type ("SCCRQ", "ZLB"), "?" when unknown. */
const char *l2tp_msg_type_name(unsigned type);

#endif
