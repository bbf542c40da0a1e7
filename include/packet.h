/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Packet core: validation and parsing of the IPv4 packets espmasq handles
 * (IKE on udp/500, NAT-T on udp/4500, ESP), and address rewriting with
 * checksum update.  Pure functions: bytes in, result out.
 */
#ifndef ESPMASQ_PACKET_H
#define ESPMASQ_PACKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IKE_PORT	500
#define NATT_PORT	4500
#define IKE_HDR_LEN	28
#define ESP_HDR_LEN	8
#define IPPROTO_ESP_	50
#define IPPROTO_ICMP_	1

enum pkt_kind {
	PKT_IKE = 0,		/* udp/500 with an IKE header */
	PKT_NATT_IKE,		/* udp/4500, non-ESP marker, IKE header */
	PKT_NATT_KEEPALIVE,	/* udp/4500, the single 0xff byte */
	PKT_ESP_UDP,		/* udp/4500, ESP (RFC 3948) */
	PKT_ESP,		/* IP protocol 50 */
	PKT_FRAG,		/* non-first fragment or first one too short
				 * for the IKE header: addresses only */
	PKT_ICMP_ERR,		/* ICMP error quoting an IPv4 packet */
	PKT_KIND_MAX
};

enum pkt_frag {
	FRAG_NONE = 0,
	FRAG_FIRST,		/* offset 0, MF set: L4 header present */
	FRAG_LATER,		/* offset > 0: no L4 header */
};

/* Why a packet was refused; each one has its own counter. */
enum pkt_err {
	PKT_OK = 0,
	PKT_ERR_SHORT,		/* shorter than an IPv4 header */
	PKT_ERR_VERSION,	/* not IPv4 */
	PKT_ERR_IHL,		/* IHL < 5 or beyond the data */
	PKT_ERR_TOTLEN,		/* total length differs from the data */
	PKT_ERR_FRAG,		/* fragment runs past 65535 bytes */
	PKT_ERR_PROTO,		/* not UDP, ESP or ICMP */
	PKT_ERR_PORT,		/* UDP on neither 500 nor 4500 */
	PKT_ERR_UDP_SHORT,	/* no room for the UDP header */
	PKT_ERR_UDP_LEN,	/* UDP length disagrees with the IP length */
	PKT_ERR_IKE_SHORT,	/* no room for the IKE header */
	PKT_ERR_IKE_VERSION,	/* IKE major version not 1 or 2 */
	PKT_ERR_IKE_LEN,	/* IKE length < 28 or beyond the datagram */
	PKT_ERR_IKE_SPI,	/* initiator SPI of zero */
	PKT_ERR_ESP_SHORT,	/* no room for SPI and sequence number */
	PKT_ERR_ESP_SPI,	/* SPI in the reserved range 0..255 */
	PKT_ERR_ICMP_SHORT,	/* no room for the ICMP header */
	PKT_ERR_ICMP_TYPE,	/* ICMP that is not an error message */
	PKT_ERR_ICMP_FRAG,	/* fragmented ICMP error */
	PKT_ERR_ICMP_INNER,	/* quoted header missing, not IPv4, bad IHL */
	PKT_ERR_MAX
};

struct ike_info {
	uint64_t ispi;		/* host order */
	uint64_t rspi;
	uint32_t msgid;
	uint32_t length;
	uint8_t version;	/* major version: 1 or 2 */
	uint8_t exchange;
	uint8_t flags;
	uint8_t next_payload;
};

/*
 * An ICMP error (destination unreachable, time exceeded, parameter
 * problem, source quench) and the start of the packet it quotes.  Offsets
 * are from the start of the outer IP header.
 */
struct icmp_info {
	uint16_t in_off;	/* quoted IP header */
	uint16_t in_l4off;	/* quoted L4 header */
	uint16_t in_end;	/* end of the quoted bytes */
	uint16_t in_sport;	/* host order; valid with in_ports */
	uint16_t in_dport;
	uint32_t in_saddr;	/* as stored: network byte order */
	uint32_t in_daddr;
	uint32_t in_spi;	/* host order; valid with in_has_spi */
	uint64_t in_ispi;	/* quoted IKE initiator SPI, in_has_ispi */
	uint8_t type;
	uint8_t code;
	uint8_t in_proto;
	uint8_t in_later;	/* the quoted packet is a later fragment */
	uint8_t in_ports;	/* 8 bytes of quoted UDP header */
	uint8_t in_has_spi;	/* ESP SPI quoted (raw or in UDP) */
	uint8_t in_has_ispi;	/* IKE header quoted far enough */
};

#define ICMP_T_UNREACH		3
#define ICMP_T_SOURCE_QUENCH	4
#define ICMP_T_TIME_EXCEEDED	11
#define ICMP_T_PARAM_PROBLEM	12
#define ICMP_C_FRAG_NEEDED	4

#define IKE2_EXCH_IKE_AUTH		35
#define IKE2_EXCH_CREATE_CHILD_SA	36
#define IKE2_EXCH_INFORMATIONAL		37
#define IKE1_EXCH_QUICK_MODE		32

/* IKEv2 header flags */
#define IKE2_FLAG_INITIATOR	0x08
#define IKE2_FLAG_RESPONSE	0x20

struct pkt_info {
	uint32_t saddr;		/* as stored: network byte order */
	uint32_t daddr;
	uint16_t len;		/* IP total length */
	uint16_t l4off;		/* IP header length */
	uint16_t sport;		/* host order; 0 without a UDP header */
	uint16_t dport;
	uint8_t proto;
	uint8_t kind;		/* enum pkt_kind */
	uint8_t frag;		/* enum pkt_frag */
	uint8_t has_ike;	/* ike is filled */
	uint8_t esp_missed;	/* not the parser's: xlate_esp_fast() found
				 * no plain known SA for it (translate.h) */
	uint32_t spi;		/* ESP SPI, host order (PKT_ESP, PKT_ESP_UDP) */
	uint32_t seq;
	struct ike_info ike;
	struct icmp_info icmp;	/* PKT_ICMP_ERR */
};

/*
 * Validates and parses the IPv4 packet in @buf (@len bytes, starting at the
 * IP header).  Returns PKT_OK and fills @pi, or the reason it was refused.
 */
enum pkt_err pkt_parse(const uint8_t *buf, size_t len, struct pkt_info *pi);

/*
 * Rewrites the source (@dst false) or destination address of the packet
 * parsed into @pi to @addr (network byte order), updating the IP header
 * checksum and, for UDP with a header in this fragment, the UDP checksum:
 * a zero UDP checksum stays zero; with @l4_partial (the kernel handed the
 * packet over with the checksum not yet computed, NFQA_SKB_CSUMNOTREADY)
 * the UDP checksum is computed in full, because the kernel takes a
 * rewritten payload as complete.  Updates @pi's address.
 */
void pkt_rewrite_addr(uint8_t *buf, struct pkt_info *pi, bool dst,
		      uint32_t addr, bool l4_partial);

/*
 * Rewrites the UDP source (@dst false) or destination port of the packet
 * parsed into @pi to @port (host order), with the UDP checksum kept right
 * as pkt_rewrite_addr() does.  The packet must carry its UDP header (not a
 * later fragment).  Updates @pi's port.
 */
void pkt_rewrite_port(uint8_t *buf, struct pkt_info *pi, bool dst,
		      uint16_t port, bool l4_partial);

/*
 * Rewrites the source (@src) or destination port of the UDP header an ICMP
 * error quotes (when it quotes one) to @port (host order), with the ICMP
 * checksum kept right.  The quoted UDP checksum (unless zero) is updated
 * incrementally, as for the quoted addresses, so a quote of a whole
 * datagram still verifies.
 */
void pkt_rewrite_icmp_qport(uint8_t *buf, struct pkt_info *pi, bool src,
			    uint16_t port);

/*
 * Rewrites the address an ICMP error is about, keeping it consistent with
 * the packet it quotes: with @to_client, the outer destination and the
 * quoted source become @addr (an error sent to an alias, forwarded to the
 * client); otherwise the outer source and the quoted destination (an error
 * a client sends about a packet that reached it).  IP, quoted IP, quoted
 * UDP and ICMP checksums are updated incrementally, so a checksum that was
 * wrong stays wrong.
 */
void pkt_rewrite_icmp(uint8_t *buf, struct pkt_info *pi, bool to_client,
		      uint32_t addr);

/* The same for the quoted source (@src) or destination only, for an error
 * whose outer addresses stay (one the router itself sends). */
void pkt_rewrite_icmp_quote(uint8_t *buf, struct pkt_info *pi, bool src,
			    uint32_t addr);

const char *pkt_err_name(enum pkt_err err);
const char *pkt_kind_name(enum pkt_kind kind);

#endif
