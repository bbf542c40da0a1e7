/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Receiver for the through-the-kernel benchmark: captures IPv4 on one
 * interface (AF_PACKET, recvmmsg) and, for every packet that ends in a
 * bench/gen stamp, the one-way latency from the stamp's CLOCK_MONOTONIC
 * send time to the kernel's receive timestamp on this interface.
 *
 *   sink -i IFNAME [-t SECONDS] [-q IDLE_SECONDS] [-r READY_FILE]
 *
 * It stops after SECONDS, or IDLE_SECONDS without a packet once one came,
 * and prints one line: "received=N p50_us=X p99_us=Y max_us=Z
 * over_100ms=O max_seq=S sink_drops=D inside_src=I" (sink_drops: packets
 * the capture socket itself lost, not the path's loss; inside_src: packets
 * that still had a 192.0.2.0/24 source, i.e. were not translated).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "stamp.h"

#define BATCH		64
#define SNAP		2048
#define HIST_US		100000		/* 1 us buckets up to 100 ms */
#define MAX_SECONDS	600

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Kernel receive timestamps are CLOCK_REALTIME; the stamps are
 * CLOCK_MONOTONIC.  The difference is taken with the tightest of a few
 * samples; both clocks are slewed alike, so it holds for a run. */
static int64_t realtime_minus_mono(void)
{
	int64_t best = 0, best_gap = INT64_MAX;
	int i;

	for (i = 0; i < 16; i++) {
		int64_t m0 = clock_ns(CLOCK_MONOTONIC);
		int64_t r = clock_ns(CLOCK_REALTIME);
		int64_t m1 = clock_ns(CLOCK_MONOTONIC);

		if (m1 - m0 < best_gap) {
			best_gap = m1 - m0;
			best = r - (m0 + (m1 - m0) / 2);
		}
	}
	return best;
}

/* Beyond the histogram counts as its end: a lower bound, and loud. */
static double percentile(const uint64_t *hist, uint64_t n, double q)
{
	uint64_t want = (uint64_t)(q * (double)n), acc = 0;
	size_t i;

	if (!n)
		return 0;
	if (want >= n)
		want = n - 1;
	for (i = 0; i < HIST_US; i++) {
		acc += hist[i];
		if (acc > want)
			return (double)i;
	}
	return HIST_US;
}

int main(int argc, char **argv)
{
	static uint8_t buf[BATCH][SNAP];
	static char ctl[BATCH][CMSG_SPACE(sizeof(struct timespec))];
	static struct mmsghdr msg[BATCH];
	static struct iovec iov[BATCH];
	static uint64_t hist[HIST_US];
	struct sockaddr_ll sll = { .sll_family = AF_PACKET };
	struct tpacket_stats st;
	struct timeval tv = { 0, 100000 };
	struct sigaction sa;
	const char *ifname = NULL, *ready = NULL;
	double seconds = 10, idle = 0;
	uint64_t received = 0, over = 0, max_seq = 0, max_us = 0, drops = 0;
	uint64_t inside = 0;
	int64_t off, start, last = 0, end;
	socklen_t sl = sizeof(st);
	int fd, c, one = 1, rcvbuf = 32 << 20, i;

	while ((c = getopt(argc, argv, "i:t:q:r:")) != -1) {
		switch (c) {
		case 'i': ifname = optarg; break;
		case 't': seconds = atof(optarg); break;
		case 'q': idle = atof(optarg); break;
		case 'r': ready = optarg; break;
		default: goto usage;
		}
	}
	if (!ifname || seconds <= 0 || seconds > MAX_SECONDS || idle < 0)
		goto usage;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	fd = socket(AF_PACKET, SOCK_DGRAM, htons(ETH_P_IP));
	if (fd < 0) {
		perror("sink: socket");
		return 1;
	}
	sll.sll_protocol = htons(ETH_P_IP);
	sll.sll_ifindex = (int)if_nametoindex(ifname);
	if (!sll.sll_ifindex ||
	    bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		perror("sink: bind");
		return 1;
	}
	/* a deep buffer so the sink's own hiccups are not the path's loss;
	 * the receive timeout lets the loop look at the clock */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf,
		       sizeof(rcvbuf)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	getsockopt(fd, SOL_PACKET, PACKET_STATISTICS, &st, &sl);
	for (i = 0; i < BATCH; i++) {
		iov[i].iov_base = buf[i];
		iov[i].iov_len = SNAP;
		msg[i].msg_hdr.msg_iov = &iov[i];
		msg[i].msg_hdr.msg_iovlen = 1;
	}
	off = realtime_minus_mono();
	if (ready) {
		FILE *f = fopen(ready, "w");

		if (f)
			fclose(f);
	}
	start = clock_ns(CLOCK_MONOTONIC);
	end = start + (int64_t)(seconds * 1e9);
	while (!stop) {
		int64_t now = clock_ns(CLOCK_MONOTONIC);
		int n;

		if (now >= end ||
		    (idle > 0 && last && now - last > (int64_t)(idle * 1e9)))
			break;
		for (i = 0; i < BATCH; i++) {
			msg[i].msg_hdr.msg_control = ctl[i];
			msg[i].msg_hdr.msg_controllen = sizeof(ctl[i]);
		}
		n = recvmmsg(fd, msg, BATCH, MSG_WAITFORONE, NULL);
		if (n <= 0)
			continue;
		last = clock_ns(CLOCK_MONOTONIC);
		for (i = 0; i < n; i++) {
			const uint8_t *p = buf[i];
			size_t len = msg[i].msg_len, tot;
			struct cmsghdr *cm;
			struct stamp s;
			int64_t rx = last, lat;

			if (len < 20 || (p[0] >> 4) != 4)
				continue;
			tot = (size_t)p[2] << 8 | p[3];
			if (tot > len || tot > SNAP || tot < 20 + STAMP_LEN)
				continue;
			stamp_get(p + tot, &s);
			if (s.magic != STAMP_MAGIC)
				continue;
			for (cm = CMSG_FIRSTHDR(&msg[i].msg_hdr); cm;
			     cm = CMSG_NXTHDR(&msg[i].msg_hdr, cm)) {
				struct timespec ts;

				if (cm->cmsg_level != SOL_SOCKET ||
				    cm->cmsg_type != SCM_TIMESTAMPNS)
					continue;
				memcpy(&ts, CMSG_DATA(cm), sizeof(ts));
				rx = (int64_t)ts.tv_sec * 1000000000 +
				     ts.tv_nsec - off;
			}
			received++;
			/* an inside source here means nothing translated it */
			if (p[12] == 192 && p[13] == 0 && p[14] == 2)
				inside++;
			if (s.seq > max_seq)
				max_seq = s.seq;
			lat = rx - (int64_t)s.mono_ns;
			if (lat < 0)
				lat = 0;
			if ((uint64_t)lat / 1000 > max_us)
				max_us = (uint64_t)lat / 1000;
			if (lat / 1000 < HIST_US)
				hist[lat / 1000]++;
			else
				over++;
		}
	}
	sl = sizeof(st);
	if (getsockopt(fd, SOL_PACKET, PACKET_STATISTICS, &st, &sl) == 0)
		drops = st.tp_drops;
	printf("received=%llu p50_us=%.0f p99_us=%.0f max_us=%llu "
	       "over_100ms=%llu max_seq=%llu sink_drops=%llu inside_src=%llu\n",
	       (unsigned long long)received,
	       percentile(hist, received, 0.50),
	       percentile(hist, received, 0.99),
	       (unsigned long long)max_us, (unsigned long long)over,
	       (unsigned long long)max_seq, (unsigned long long)drops,
	       (unsigned long long)inside);
	close(fd);
	return 0;
usage:
	fprintf(stderr, "usage: sink -i IFNAME [-t SECONDS] [-q IDLE_SECONDS] "
		"[-r READY_FILE]\n");
	return 2;
}
