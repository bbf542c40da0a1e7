/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Packet generator for the through-the-kernel benchmark: prebuilt
 * Ethernet/IPv4 frames from many clients (consecutive source addresses,
 * several SPIs each) in a mix of ESP, ESP-in-UDP and IKEv2, sent with
 * AF_PACKET sendmmsg past the qdisc at a paced rate.  Every frame ends in
 * a stamp (stamp.h: sequence number and CLOCK_MONOTONIC send time) so a
 * receiver in another namespace of this host can compute one-way latency.
 *
 *   gen -i IFNAME -M DSTMAC [-c CLIENTS] [-a FIRST_CLIENT] [-d DST]
 *       [-k SPIS] [-m ESP,UDP,IKE[,TCP]] [-s IPLEN] [-r PPS] [-t SECONDS]
 *       [-n PACKETS] [-b BATCH]
 *
 * -r 0 sends as fast as the socket takes packets.  It prints one line,
 * "sent=N seconds=S pps=R errors=E", and exits 0 unless set-up failed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "stamp.h"

#define ETH_LEN		14
#define IP_LEN		20
#define UDP_LEN		8
#define MAX_BATCH	256
#define MAX_FRAMES	65536
#define MAX_SECONDS	600
#define MIN_IPLEN	(IP_LEN + UDP_LEN + 28 + STAMP_LEN)
#define MAX_IPLEN	1500

/* K_TCP: traffic that is not IPsec (a TCP segment to port 443), to
 * measure what espmasq's rules cost the router's other traffic */
enum kind { K_ESP, K_UDP, K_IKE, K_TCP, K_MAX };
#define TCP_LEN		20

struct frame {
	uint8_t *buf;
	size_t len;
	uint32_t udp_sum;	/* partial sum with the stamp zeroed; 0: no UDP
				 * or TCP checksum */
	uint8_t csum_off;	/* where that checksum is, from the L4 header */
};

struct opts {
	const char *ifname;
	uint8_t dmac[6];
	unsigned clients, spis, weight[K_MAX];
	uint32_t first, dst;	/* host order */
	unsigned iplen, batch;
	double rate, seconds;
	uint64_t max_pkts;
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint32_t sum16(const uint8_t *p, size_t len, uint32_t sum)
{
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	return sum;
}

static uint16_t fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void put16(uint8_t *p, uint16_t v) { p[0] = v >> 8; p[1] = v & 0xff; }
static void put32(uint8_t *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, v & 0xffff);
}

/* One frame; the SPI (and IKE SPI pair) is derived from client and index
 * so that every flow is distinct and the same from run to run. */
static void build(struct frame *f, const struct opts *o, const uint8_t *smac,
		  unsigned client, unsigned spi_ix, enum kind k, uint16_t ipid)
{
	uint8_t *e = f->buf, *ip = e + ETH_LEN, *l4 = ip + IP_LEN;
	uint32_t src = o->first + client, spi = 0x10000u + client * 256 + spi_ix;
	size_t l4len = o->iplen - IP_LEN;
	uint8_t *pl;

	memset(e, 0, ETH_LEN + o->iplen);
	memcpy(e, o->dmac, 6);
	memcpy(e + 6, smac, 6);
	put16(e + 12, ETHERTYPE_IP);
	ip[0] = 0x45;
	put16(ip + 2, (uint16_t)o->iplen);
	put16(ip + 4, ipid);
	ip[8] = 64;
	ip[9] = k == K_ESP ? 50 : k == K_TCP ? IPPROTO_TCP : IPPROTO_UDP;
	put32(ip + 12, src);
	put32(ip + 16, o->dst);
	put16(ip + 10, fold(sum16(ip, IP_LEN, 0)));
	f->len = ETH_LEN + o->iplen;
	f->udp_sum = 0;
	if (k == K_ESP) {
		put32(l4, spi);
		put32(l4 + 4, 1);
		pl = l4 + 8;
	} else if (k == K_TCP) {
		/* an ACK of an established connection, one per SPI index */
		put16(l4, (uint16_t)(40000 + spi_ix));
		put16(l4 + 2, 443);
		put32(l4 + 4, spi);
		put32(l4 + 8, 1);
		l4[12] = TCP_LEN / 4 << 4;
		l4[13] = 0x10;
		put16(l4 + 14, 65535);
		f->csum_off = 16;
		f->udp_sum = sum16(ip + 12, 8, IPPROTO_TCP + (uint32_t)l4len);
		f->udp_sum = sum16(l4, l4len, f->udp_sum);
	} else {
		put16(l4, k == K_IKE ? 500 : 4500);
		put16(l4 + 2, k == K_IKE ? 500 : 4500);
		put16(l4 + 4, (uint16_t)l4len);
		pl = l4 + UDP_LEN;
		if (k == K_UDP) {
			put32(pl, spi);
			put32(pl + 4, 1);
		} else {
			/* an established IKEv2 SA: both SPIs set, an
			 * INFORMATIONAL request (a liveness check) */
			put32(pl, 0x1ce00000u | client);
			put32(pl + 4, spi);
			put32(pl + 8, 0x2e500000u | client);
			put32(pl + 12, spi);
			pl[16] = 46;	/* SK */
			pl[17] = 0x20;
			pl[18] = 37;	/* INFORMATIONAL */
			pl[19] = 0x08;	/* initiator */
			put32(pl + 24, (uint32_t)(l4len - UDP_LEN));
		}
		/* pseudo header, UDP header and payload with the stamp
		 * still zero; gen adds the stamp per packet */
		f->csum_off = 6;
		f->udp_sum = sum16(ip + 12, 8, IPPROTO_UDP + (uint32_t)l4len);
		f->udp_sum = sum16(l4, l4len, f->udp_sum);
	}
}

/* The stamp sits at an even offset from the UDP or TCP header (iplen is
 * even), so its bytes add to the precomputed sum as whole 16-bit words. */
static void stamp_frame(struct frame *f, uint64_t seq, uint64_t now)
{
	struct stamp s = { STAMP_MAGIC, seq, now };
	uint8_t *end = f->buf + f->len;
	uint8_t *l4 = f->buf + ETH_LEN + IP_LEN;
	uint16_t c;

	stamp_put(end, &s);
	if (!f->udp_sum)
		return;
	c = fold(sum16(end - STAMP_LEN, STAMP_LEN, f->udp_sum));
	put16(l4 + f->csum_off, c ? c : 0xffff);
}

static int parse_mac(const char *s, uint8_t *m)
{
	unsigned v[6];
	int i;

	if (sscanf(s, "%x:%x:%x:%x:%x:%x", &v[0], &v[1], &v[2], &v[3],
		   &v[4], &v[5]) != 6)
		return -EINVAL;
	for (i = 0; i < 6; i++) {
		if (v[i] > 255)
			return -EINVAL;
		m[i] = (uint8_t)v[i];
	}
	return 0;
}

static int parse_addr(const char *s, uint32_t *a)
{
	struct in_addr in;

	if (inet_pton(AF_INET, s, &in) != 1)
		return -EINVAL;
	*a = ntohl(in.s_addr);
	return 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: gen -i IFNAME -M DSTMAC [-c CLIENTS] "
		"[-a FIRST_CLIENT] [-d DST] [-k SPIS] [-m ESP,UDP,IKE[,TCP]] "
		"[-s IPLEN] [-r PPS] [-t SECONDS] [-n PACKETS] [-b BATCH]\n");
	exit(2);
}

static void parse_opts(int argc, char **argv, struct opts *o)
{
	bool mac = false;
	int c;

	*o = (struct opts){ .clients = 16, .spis = 4, .weight = { 6, 3, 1 },
			    .iplen = 128, .batch = 64, .seconds = 1 };
	parse_addr("192.0.2.128", &o->first);
	parse_addr("203.0.113.200", &o->dst);
	while ((c = getopt(argc, argv, "i:M:c:a:d:k:m:s:r:t:n:b:")) != -1) {
		switch (c) {
		case 'i': o->ifname = optarg; break;
		case 'M':
			if (parse_mac(optarg, o->dmac))
				usage();
			mac = true;
			break;
		case 'c': o->clients = (unsigned)atoi(optarg); break;
		case 'a': if (parse_addr(optarg, &o->first)) usage(); break;
		case 'd': if (parse_addr(optarg, &o->dst)) usage(); break;
		case 'k': o->spis = (unsigned)atoi(optarg); break;
		case 'm':
			if (sscanf(optarg, "%u,%u,%u,%u", &o->weight[0],
				   &o->weight[1], &o->weight[2],
				   &o->weight[3]) < 3)
				usage();
			break;
		case 's': o->iplen = (unsigned)atoi(optarg); break;
		case 'r': o->rate = atof(optarg); break;
		case 't': o->seconds = atof(optarg); break;
		case 'n': o->max_pkts = strtoull(optarg, NULL, 0); break;
		case 'b': o->batch = (unsigned)atoi(optarg); break;
		default: usage();
		}
	}
	o->iplen &= ~1u;
	if (!o->ifname || !mac || !o->clients || o->clients > 250 ||
	    !o->spis || o->spis > 256 || o->iplen < MIN_IPLEN ||
	    o->iplen > MAX_IPLEN || !o->batch || o->batch > MAX_BATCH ||
	    o->rate < 0 || o->seconds <= 0 || o->seconds > MAX_SECONDS ||
	    o->weight[0] + o->weight[1] + o->weight[2] + o->weight[3] == 0 ||
	    o->weight[0] + o->weight[1] + o->weight[2] + o->weight[3] > 100)
		usage();
}

int main(int argc, char **argv)
{
	static struct mmsghdr msg[MAX_BATCH];
	static struct iovec iov[MAX_BATCH];
	struct sockaddr_ll sll = { .sll_family = AF_PACKET };
	struct opts o;
	struct ifreq ifr;
	struct frame *fr;
	uint8_t smac[6], *mem;
	unsigned nf, w, i, j, k, batch;
	uint64_t sent = 0, errors = 0, t0, end, now, seq = 0;
	int fd, one = 1;

	parse_opts(argc, argv, &o);
	fd = socket(AF_PACKET, SOCK_RAW, 0);
	if (fd < 0) {
		perror("gen: socket");
		return 1;
	}
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", o.ifname);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0) {
		perror("gen: SIOCGIFHWADDR");
		return 1;
	}
	memcpy(smac, ifr.ifr_hwaddr.sa_data, 6);
	sll.sll_ifindex = (int)if_nametoindex(o.ifname);
	sll.sll_protocol = htons(ETH_P_IP);
	if (!sll.sll_ifindex ||
	    bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		perror("gen: bind");
		return 1;
	}
	/* the sender's own qdisc is not what is measured */
	if (setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one,
		       sizeof(one)) < 0)
		perror("gen: PACKET_QDISC_BYPASS (going on without)");

	/* frames cycle client fastest, then SPI, then kind, so each batch
	 * spreads over all clients (and queues, with --queue-balance) */
	w = o.weight[0] + o.weight[1] + o.weight[2] + o.weight[3];
	nf = o.clients * o.spis * w;
	if (nf > MAX_FRAMES)
		nf = MAX_FRAMES - MAX_FRAMES % o.clients;
	fr = calloc(nf, sizeof(*fr));
	mem = calloc(nf, ETH_LEN + o.iplen);
	if (!fr || !mem) {
		fprintf(stderr, "gen: out of memory\n");
		return 1;
	}
	for (i = 0; i < nf; i++) {
		unsigned slot = (i / (o.clients * o.spis)) % w;
		enum kind kd = K_ESP;

		while (kd < K_TCP && slot >= o.weight[kd])
			slot -= o.weight[kd++];

		fr[i].buf = mem + (size_t)i * (ETH_LEN + o.iplen);
		build(&fr[i], &o, smac, i % o.clients,
		      (i / o.clients) % o.spis, kd, (uint16_t)i);
	}
	for (i = 0; i < MAX_BATCH; i++) {
		msg[i].msg_hdr.msg_iov = &iov[i];
		msg[i].msg_hdr.msg_iovlen = 1;
	}

	/* Pacing: packet n is due at t0 + n / rate.  A batch goes as soon
	 * as its first packet is due, so the burst is at most one batch
	 * (a token bucket of that depth); the batch shrinks at low rates
	 * so bursts stay under ~50 us of traffic. */
	batch = o.batch;
	if (o.rate > 0 && o.rate * 50e-6 < batch)
		batch = o.rate * 50e-6 < 1 ? 1 : (unsigned)(o.rate * 50e-6);
	if (batch > nf)
		batch = nf;
	t0 = mono_ns();
	end = t0 + (uint64_t)(o.seconds * 1e9);
	for (now = t0; now < end && (!o.max_pkts || sent < o.max_pkts);) {
		unsigned n = batch;
		int r;

		if (o.rate > 0) {
			uint64_t due = t0 + (uint64_t)(sent * 1e9 / o.rate);

			if (due > now) {
				struct timespec ts = {
					(time_t)(due / 1000000000u),
					(long)(due % 1000000000u)
				};

				clock_nanosleep(CLOCK_MONOTONIC,
						TIMER_ABSTIME, &ts, NULL);
			}
		}
		if (o.max_pkts && o.max_pkts - sent < n)
			n = (unsigned)(o.max_pkts - sent);
		now = mono_ns();
		for (j = 0; j < n; j++) {
			k = (unsigned)((seq + j) % nf);
			stamp_frame(&fr[k], seq + j, now);
			iov[j].iov_base = fr[k].buf;
			iov[j].iov_len = fr[k].len;
		}
		r = sendmmsg(fd, msg, n, 0);
		if (r < 0) {
			/* a full device queue: count it and pace on */
			errors++;
			r = 0;
		}
		/* unsent packets keep their sequence numbers for the next
		 * try, so the receiver sees no gap that was never sent */
		seq += (unsigned)r;
		sent += (unsigned)r;
		now = mono_ns();
	}
	printf("sent=%llu seconds=%.3f pps=%.0f errors=%llu\n",
	       (unsigned long long)sent, (now - t0) / 1e9,
	       sent / ((now - t0) / 1e9), (unsigned long long)errors);
	free(mem);
	free(fr);
	close(fd);
	return 0;
}
