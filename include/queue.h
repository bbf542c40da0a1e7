/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One NFQUEUE queue over libmnl: bursts of packets in with recvmmsg(),
 * bursts of verdicts out in one sendmsg().  A verdict's payload is sent
 * straight from the receive buffer, so the packets of a burst must get
 * their verdicts (queue_flush) before the next queue_recv_burst().
 */
#ifndef ESPMASQ_QUEUE_H
#define ESPMASQ_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

struct queue_params {
	uint16_t num;
	uint32_t maxlen;	/* kernel queue length */
	uint32_t rcvbuf;	/* socket receive buffer, bytes */
	unsigned batch;		/* packets per burst */
};

struct queue_pkt {
	uint32_t id;
	uint8_t *data;		/* IPv4 packet, in the receive buffer */
	uint32_t len;		/* bytes present */
	uint32_t orig_len;	/* length on the wire (> len if truncated) */
	uint32_t mark;
	uint32_t skbinfo;	/* NFQA_SKB_* flags */
	uint8_t hook;		/* NF_INET_* hook it was queued from */
};

struct queue_counters {
	uint64_t recv_calls;
	uint64_t packets;
	uint64_t send_calls;
	uint64_t verdicts;
	uint64_t send_errors;	/* sendmsg failed (verdicts resent singly) */
	uint64_t nl_errors;	/* kernel refused a verdict (NLMSG_ERROR) */
	uint64_t enobufs;	/* socket overflow reported */
	uint64_t truncated;	/* messages cut by the receive buffer */
	uint64_t garbage;	/* unparseable netlink messages */
};

struct queue;

/*
 * Opens a netlink socket, binds queue @p->num, and configures copy mode,
 * queue length, flags and buffer sizes.  Returns a queue or NULL with errno
 * set (EBUSY: another process owns the queue; EPERM: not allowed).
 */
struct queue *queue_open(const struct queue_params *p);
void queue_close(struct queue *q);
int queue_fd(const struct queue *q);

/*
 * What a packet of up to 1500 bytes takes of the socket buffer while it
 * waits for its verdict: its message's truesize, 2304 bytes for a
 * 1400-byte packet and 832 for a 128-byte one, measured with the queue
 * full and the daemon stopped (/proc/net/netlink, Linux 6.18).
 */
#define QUEUE_PKT_BUF_MTU	2304u
/* How many such packets the socket buffer, as the kernel set it, holds
 * (0 if it cannot be read). */
uint32_t queue_packets_held(const struct queue *q);

/*
 * Receives up to the burst size of packets without blocking.  Fills
 * @pkts (capacity: the batch size) and returns how many, 0 when nothing was
 * waiting, or -errno on a socket error.
 */
int queue_recv_burst(struct queue *q, struct queue_pkt *pkts);

/*
 * Adds a verdict for packet @id: NF_ACCEPT or NF_DROP, with @mark when
 * @set_mark, with @payload (@len bytes) replacing the packet when non-NULL.
 */
void queue_verdict(struct queue *q, uint32_t id, uint32_t verdict,
		   bool set_mark, uint32_t mark, const void *payload,
		   uint32_t len);

/* Sends the verdicts added so far.  Returns 0 or -errno. */
int queue_flush(struct queue *q);

void queue_counters(const struct queue *q, struct queue_counters *out);

/*
 * The kernel's own view of queue @num (/proc/net/netfilter/nfnetlink_queue):
 * packets waiting, and packets it dropped because the queue was full
 * (@qdrop) or our socket buffer was (@udrop).  Returns false when the
 * queue is not listed.
 */
bool queue_kernel_counters(unsigned num, unsigned long *waiting,
			   unsigned long *qdrop, unsigned long *udrop);

#endif
