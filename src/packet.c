/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <arpa/inet.h>
#include <string.h>

#include "csum.h"
#include "packet.h"

static inline uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static inline uint64_t rd64(const uint8_t *p)
{
	return (uint64_t)rd32(p) << 32 | rd32(p + 4);
}

/* @avail: bytes of the IKE message present; @whole: the datagram is not
 * fragmented, so the IKE length must fit in it. */
static enum pkt_err parse_ike(const uint8_t *p, size_t avail, bool whole,
			      struct ike_info *ike)
{
	if (avail < IKE_HDR_LEN)
		return PKT_ERR_IKE_SHORT;
	ike->ispi = rd64(p);
	ike->rspi = rd64(p + 8);
	ike->next_payload = p[16];
	ike->version = p[17] >> 4;
	ike->exchange = p[18];
	ike->flags = p[19];
	ike->msgid = rd32(p + 20);
	ike->length = rd32(p + 24);
	if (ike->version != 1 && ike->version != 2)
		return PKT_ERR_IKE_VERSION;
	if (ike->length < IKE_HDR_LEN || (whole && ike->length > avail))
		return PKT_ERR_IKE_LEN;
	if (ike->ispi == 0)
		return PKT_ERR_IKE_SPI;
	return PKT_OK;
}

static enum pkt_err parse_esp(const uint8_t *p, size_t avail,
			      struct pkt_info *pi)
{
	if (avail < ESP_HDR_LEN)
		return PKT_ERR_ESP_SHORT;
	pi->spi = rd32(p);
	pi->seq = rd32(p + 4);
	if (pi->spi < 256)
		return PKT_ERR_ESP_SPI;
	return PKT_OK;
}

static enum pkt_err parse_udp(const uint8_t *buf, struct pkt_info *pi)
{
	const uint8_t *u = buf + pi->l4off;
	size_t avail = (size_t)pi->len - pi->l4off;
	bool whole = pi->frag == FRAG_NONE;
	size_t ulen, plen;
	const uint8_t *pl;
	enum pkt_err err;

	if (avail < 8)
		return PKT_ERR_UDP_SHORT;
	pi->sport = rd16(u);
	pi->dport = rd16(u + 2);
	ulen = rd16(u + 4);
	if (whole ? ulen != avail : (ulen < 8 || ulen < avail))
		return PKT_ERR_UDP_LEN;
	pl = u + 8;
	plen = avail - 8;

	if (pi->sport == NATT_PORT || pi->dport == NATT_PORT) {
		if (whole && plen == 1 && pl[0] == 0xff) {
			pi->kind = PKT_NATT_KEEPALIVE;
			return PKT_OK;
		}
		if (plen >= 4 && rd32(pl) == 0) {
			err = parse_ike(pl + 4, plen - 4, whole, &pi->ike);
			if (err == PKT_ERR_IKE_SHORT && !whole) {
				pi->kind = PKT_FRAG;
				return PKT_OK;
			}
			if (err)
				return err;
			pi->kind = PKT_NATT_IKE;
			pi->has_ike = 1;
			return PKT_OK;
		}
		err = parse_esp(pl, plen, pi);
		if (err)
			return err;
		pi->kind = PKT_ESP_UDP;
		return PKT_OK;
	}
	if (pi->sport == IKE_PORT || pi->dport == IKE_PORT) {
		err = parse_ike(pl, plen, whole, &pi->ike);
		if (err == PKT_ERR_IKE_SHORT && !whole) {
			pi->kind = PKT_FRAG;
			return PKT_OK;
		}
		if (err)
			return err;
		pi->kind = PKT_IKE;
		pi->has_ike = 1;
		return PKT_OK;
	}
	return PKT_ERR_PORT;
}

static bool icmp_is_error(uint8_t type)
{
	return type == ICMP_T_UNREACH || type == ICMP_T_SOURCE_QUENCH ||
	       type == ICMP_T_TIME_EXCEEDED || type == ICMP_T_PARAM_PROBLEM;
}

/* The ICMP header, the quoted IP header, and as much of the quoted
 * UDP/ESP header as is there. */
static enum pkt_err parse_icmp(const uint8_t *buf, struct pkt_info *pi)
{
	struct icmp_info *ic = &pi->icmp;
	size_t len = pi->len, in = (size_t)pi->l4off + 8, ihl, avail;
	const uint8_t *q, *l4;

	if (len - pi->l4off < 8)
		return PKT_ERR_ICMP_SHORT;
	ic->type = buf[pi->l4off];
	ic->code = buf[pi->l4off + 1];
	if (!icmp_is_error(ic->type))
		return PKT_ERR_ICMP_TYPE;
	if (len - in < 20)
		return PKT_ERR_ICMP_INNER;
	q = buf + in;
	ihl = (q[0] & 0x0f) * 4u;
	if (q[0] >> 4 != 4 || ihl < 20 || ihl > len - in)
		return PKT_ERR_ICMP_INNER;
	ic->in_off = (uint16_t)in;
	ic->in_l4off = (uint16_t)(in + ihl);
	ic->in_end = (uint16_t)len;
	ic->in_proto = q[9];
	memcpy(&ic->in_saddr, q + 12, 4);
	memcpy(&ic->in_daddr, q + 16, 4);
	ic->in_later = (rd16(q + 6) & 0x1fffu) != 0;
	pi->kind = PKT_ICMP_ERR;
	if (ic->in_later)
		return PKT_OK;
	l4 = buf + in + ihl;
	avail = len - in - ihl;
	if (ic->in_proto == 17 && avail >= 8) {
		ic->in_ports = 1;
		ic->in_sport = rd16(l4);
		ic->in_dport = rd16(l4 + 2);
		if (ic->in_sport == NATT_PORT || ic->in_dport == NATT_PORT) {
			if (avail >= 12 && rd32(l4 + 8) != 0) {
				ic->in_spi = rd32(l4 + 8);
				ic->in_has_spi = 1;
			} else if (avail >= 20) {
				ic->in_ispi = rd64(l4 + 12);
				ic->in_has_ispi = 1;
			}
		} else if (avail >= 16) {
			ic->in_ispi = rd64(l4 + 8);
			ic->in_has_ispi = 1;
		}
	} else if (ic->in_proto == IPPROTO_ESP_ && avail >= 4) {
		ic->in_spi = rd32(l4);
		ic->in_has_spi = 1;
	}
	return PKT_OK;
}

enum pkt_err pkt_parse(const uint8_t *buf, size_t len, struct pkt_info *pi)
{
	unsigned ihl, off;
	uint16_t fragw;

	memset(pi, 0, sizeof(*pi));
	if (len < 20)
		return PKT_ERR_SHORT;
	if (buf[0] >> 4 != 4)
		return PKT_ERR_VERSION;
	ihl = (buf[0] & 0x0f) * 4u;
	if (ihl < 20 || ihl > len)
		return PKT_ERR_IHL;
	pi->len = rd16(buf + 2);
	if (pi->len != len || pi->len < ihl)
		return PKT_ERR_TOTLEN;
	pi->l4off = (uint16_t)ihl;
	pi->proto = buf[9];
	memcpy(&pi->saddr, buf + 12, 4);
	memcpy(&pi->daddr, buf + 16, 4);

	fragw = rd16(buf + 6);
	off = (fragw & 0x1fffu) * 8u;
	if (off) {
		if (off + (len - ihl) > 65535)
			return PKT_ERR_FRAG;
		pi->frag = FRAG_LATER;
	} else if (fragw & 0x2000) {
		pi->frag = FRAG_FIRST;
	}

	if (pi->proto == IPPROTO_ICMP_)
		return pi->frag ? PKT_ERR_ICMP_FRAG : parse_icmp(buf, pi);
	if (pi->proto != 17 && pi->proto != IPPROTO_ESP_)
		return PKT_ERR_PROTO;
	if (pi->frag == FRAG_LATER) {
		pi->kind = PKT_FRAG;
		return PKT_OK;
	}
	if (pi->proto == IPPROTO_ESP_) {
		enum pkt_err err = parse_esp(buf + ihl, len - ihl, pi);

		if (err)
			return err;
		pi->kind = PKT_ESP;
		return PKT_OK;
	}
	return parse_udp(buf, pi);
}

/* Sets the outer source or destination, fixing the IP header checksum;
 * returns the old address. */
static uint32_t set_ip_addr(uint8_t *buf, struct pkt_info *pi, bool dst,
			    uint32_t addr)
{
	uint32_t *field = dst ? &pi->daddr : &pi->saddr;
	uint32_t old = *field;
	uint16_t check;

	memcpy(buf + (dst ? 16 : 12), &addr, 4);
	*field = addr;
	memcpy(&check, buf + 10, 2);
	check = csum_replace4(check, old, addr);
	memcpy(buf + 10, &check, 2);
	return old;
}

void pkt_rewrite_addr(uint8_t *buf, struct pkt_info *pi, bool dst,
		      uint32_t addr, bool l4_partial)
{
	uint32_t old = dst ? pi->daddr : pi->saddr;
	uint16_t check;

	if (old == addr)
		return;
	set_ip_addr(buf, pi, dst, addr);

	if (pi->proto != 17 || pi->frag == FRAG_LATER)
		return;
	uint8_t *u = buf + pi->l4off;

	if (l4_partial && pi->frag == FRAG_NONE) {
		check = csum_udp4(pi->saddr, pi->daddr, u,
				  (size_t)pi->len - pi->l4off);
	} else {
		memcpy(&check, u + 6, 2);
		if (check == 0)
			return;
		check = csum_replace4(check, old, addr);
		if (check == 0)
			check = 0xffff;
	}
	memcpy(u + 6, &check, 2);
}

void pkt_rewrite_port(uint8_t *buf, struct pkt_info *pi, bool dst,
		      uint16_t port, bool l4_partial)
{
	uint16_t *cur = dst ? &pi->dport : &pi->sport;
	uint8_t *u = buf + pi->l4off;
	uint16_t from, to = htons(port), check;

	if (*cur == port || pi->proto != 17 || pi->frag == FRAG_LATER)
		return;
	memcpy(&from, u + (dst ? 2 : 0), 2);
	memcpy(u + (dst ? 2 : 0), &to, 2);
	*cur = port;
	if (l4_partial && pi->frag == FRAG_NONE) {
		check = csum_udp4(pi->saddr, pi->daddr, u,
				  (size_t)pi->len - pi->l4off);
	} else {
		memcpy(&check, u + 6, 2);
		if (check == 0)
			return;
		check = csum_replace2(check, from, to);
		if (check == 0)
			check = 0xffff;
	}
	memcpy(u + 6, &check, 2);
}

void pkt_rewrite_icmp_qport(uint8_t *buf, struct pkt_info *pi, bool src,
			    uint16_t port)
{
	struct icmp_info *ic = &pi->icmp;
	uint16_t *cur = src ? &ic->in_sport : &ic->in_dport;
	uint8_t *icmp = buf + pi->l4off, *u = buf + ic->in_l4off;
	uint16_t from, to = htons(port), ick, uck, nuck;

	if (!ic->in_ports || *cur == port)
		return;
	/* the quoted UDP header starts 4-aligned from the ICMP header, so
	 * the port and the UDP checksum are words of the ICMP checksum */
	memcpy(&from, u + (src ? 0 : 2), 2);
	memcpy(u + (src ? 0 : 2), &to, 2);
	*cur = port;
	memcpy(&ick, icmp + 2, 2);
	ick = csum_replace2(ick, from, to);
	/* the quoted UDP checksum covers the port, as it covers the
	 * addresses pkt_rewrite_icmp_quote() changes: it follows both, so
	 * that the quote stays what the peer sent; zero (none) stays */
	memcpy(&uck, u + 6, 2);
	if (uck != 0) {
		nuck = csum_replace2(uck, from, to);
		if (nuck == 0)
			nuck = 0xffff;
		memcpy(u + 6, &nuck, 2);
		ick = csum_replace2(ick, uck, nuck);
	}
	memcpy(icmp + 2, &ick, 2);
}

void pkt_rewrite_icmp_quote(uint8_t *buf, struct pkt_info *pi, bool src,
			    uint32_t addr)
{
	struct icmp_info *ic = &pi->icmp;
	uint8_t *icmp = buf + pi->l4off, *q = buf + ic->in_off;
	uint32_t *inner = src ? &ic->in_saddr : &ic->in_daddr;
	uint32_t old = *inner;
	uint16_t ick, from, to;

	/* every field changed below sits at an even offset from the ICMP
	 * header, so the ICMP checksum can follow word by word */
	memcpy(&ick, icmp + 2, 2);
	memcpy(q + (src ? 12 : 16), &addr, 4);
	*inner = addr;
	ick = csum_replace4(ick, old, addr);
	memcpy(&from, q + 10, 2);
	to = csum_replace4(from, old, addr);
	memcpy(q + 10, &to, 2);
	ick = csum_replace2(ick, from, to);
	if (ic->in_ports) {
		uint8_t *u = buf + ic->in_l4off;

		memcpy(&from, u + 6, 2);
		if (from != 0) {
			to = csum_replace4(from, old, addr);
			if (to == 0)
				to = 0xffff;
			memcpy(u + 6, &to, 2);
			ick = csum_replace2(ick, from, to);
		}
	}
	memcpy(icmp + 2, &ick, 2);
}

void pkt_rewrite_icmp(uint8_t *buf, struct pkt_info *pi, bool to_client,
		      uint32_t addr)
{
	set_ip_addr(buf, pi, to_client, addr);
	pkt_rewrite_icmp_quote(buf, pi, to_client, addr);
}

const char *pkt_err_name(enum pkt_err err)
{
	static const char *const names[PKT_ERR_MAX] = {
		[PKT_OK] = "ok",
		[PKT_ERR_SHORT] = "ip-short",
		[PKT_ERR_VERSION] = "ip-version",
		[PKT_ERR_IHL] = "ip-ihl",
		[PKT_ERR_TOTLEN] = "ip-length",
		[PKT_ERR_FRAG] = "ip-fragment",
		[PKT_ERR_PROTO] = "protocol",
		[PKT_ERR_PORT] = "udp-port",
		[PKT_ERR_UDP_SHORT] = "udp-short",
		[PKT_ERR_UDP_LEN] = "udp-length",
		[PKT_ERR_IKE_SHORT] = "ike-short",
		[PKT_ERR_IKE_VERSION] = "ike-version",
		[PKT_ERR_IKE_LEN] = "ike-length",
		[PKT_ERR_IKE_SPI] = "ike-spi",
		[PKT_ERR_ESP_SHORT] = "esp-short",
		[PKT_ERR_ESP_SPI] = "esp-spi",
		[PKT_ERR_ICMP_SHORT] = "icmp-short",
		[PKT_ERR_ICMP_TYPE] = "icmp-type",
		[PKT_ERR_ICMP_FRAG] = "icmp-fragment",
		[PKT_ERR_ICMP_INNER] = "icmp-quote",
	};

	return (unsigned)err < PKT_ERR_MAX ? names[err] : "?";
}

const char *pkt_kind_name(enum pkt_kind kind)
{
	static const char *const names[PKT_KIND_MAX] = {
		[PKT_IKE] = "ike",
		[PKT_NATT_IKE] = "natt-ike",
		[PKT_NATT_KEEPALIVE] = "natt-keepalive",
		[PKT_ESP_UDP] = "esp-udp",
		[PKT_ESP] = "esp",
		[PKT_FRAG] = "fragment",
		[PKT_ICMP_ERR] = "icmp-error",
	};

	return (unsigned)kind < PKT_KIND_MAX ? names[kind] : "?";
}
