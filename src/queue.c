/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <libnetfilter_queue/libnetfilter_queue.h>

#include "counter.h"
#include "queue.h"

/* Room for a 64 KiB packet plus every attribute the kernel adds. */
#define RX_BUF		(65536 + 4096)
#define VHDR_SLOT	64
/* A sendmsg carries at most this much; the socket buffer is twice it. */
#define TX_LIMIT	(1u << 21)

struct queue {
	struct mnl_socket *nl;
	int fd;
	uint16_t num;
	unsigned batch;
	uint32_t seq;

	uint8_t *rx;			/* batch * RX_BUF */
	struct mmsghdr *msgs;
	struct iovec *rx_iov;

	uint8_t *vhdr;			/* batch * VHDR_SLOT */
	struct iovec *tx_iov;		/* up to 3 per verdict */
	struct vrec {
		uint16_t iov;		/* first iovec */
		uint16_t n_iov;
		uint16_t hlen;		/* header bytes without payload */
	} *vrec;
	unsigned n_verdicts, n_iov;
	size_t tx_bytes;

	struct queue_counters cnt;	/* written by the owning thread only */
};

static const uint8_t zero_pad[4];


static int config_send(struct queue *q, struct nlmsghdr *nlh)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	unsigned portid = mnl_socket_get_portid(q->nl);
	int n;

	nlh->nlmsg_flags |= NLM_F_ACK;
	nlh->nlmsg_seq = ++q->seq;
	if (mnl_socket_sendto(q->nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	/* The ack is the next message for us: no packets flow before the
	 * queue is bound, and config changes come before any verdict. */
	for (;;) {
		n = (int)mnl_socket_recvfrom(q->nl, buf, sizeof(buf));
		if (n < 0)
			return -errno;
		n = mnl_cb_run(buf, (size_t)n, q->seq, portid, NULL, NULL);
		if (n < 0)
			return -errno;
		if (n == MNL_CB_STOP)
			return 0;
	}
}

static int setup(struct queue *q, const struct queue_params *p)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	uint32_t flags, mask;
	int one = 1, err, sz;

	/* the library's config helpers leave struct padding unset: send
	 * zeros, not stack garbage, to the kernel */
	memset(buf, 0, sizeof(buf));
	if (mnl_socket_setsockopt(q->nl, NETLINK_NO_ENOBUFS, &one,
				  sizeof(one)) < 0)
		return -errno;
	/* FORCE lets root exceed net.core.rmem_max; fall back quietly. */
	sz = (int)p->rcvbuf;
	if (setsockopt(q->fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz)) < 0)
		setsockopt(q->fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	sz = (int)(2 * TX_LIMIT);
	if (setsockopt(q->fd, SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof(sz)) < 0)
		setsockopt(q->fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));

	nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, p->num);
	nfq_nlmsg_cfg_put_cmd(nlh, AF_INET, NFQNL_CFG_CMD_BIND);
	err = config_send(q, nlh);
	if (err)
		return err;

	nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, p->num);
	nfq_nlmsg_cfg_put_params(nlh, NFQNL_COPY_PACKET, 0xffff);
	nfq_nlmsg_cfg_put_qmaxlen(nlh, p->maxlen);
	/* GSO: take packets as they are, partial checksums included (the
	 * rewrite completes them), instead of making the kernel checksum
	 * and segment every one before queueing. */
	flags = NFQA_CFG_F_GSO;
	/* never fail-open: a packet accepted because the queue was full
	 * would leave with its inside address, whatever the policy */
	mask = NFQA_CFG_F_GSO | NFQA_CFG_F_FAIL_OPEN;
	mnl_attr_put_u32(nlh, NFQA_CFG_FLAGS, htonl(flags));
	mnl_attr_put_u32(nlh, NFQA_CFG_MASK, htonl(mask));
	return config_send(q, nlh);
}

struct queue *queue_open(const struct queue_params *p)
{
	struct queue *q = calloc(1, sizeof(*q));
	unsigned i;
	int err;

	if (!q)
		return NULL;
	q->num = p->num;
	q->batch = p->batch ? p->batch : 1;
	q->rx = malloc((size_t)q->batch * RX_BUF);
	q->msgs = calloc(q->batch, sizeof(*q->msgs));
	q->rx_iov = calloc(q->batch, sizeof(*q->rx_iov));
	q->vhdr = calloc(q->batch, VHDR_SLOT);
	q->tx_iov = calloc((size_t)q->batch * 3, sizeof(*q->tx_iov));
	q->vrec = calloc(q->batch, sizeof(*q->vrec));
	if (!q->rx || !q->msgs || !q->rx_iov || !q->vhdr || !q->tx_iov ||
	    !q->vrec) {
		err = -ENOMEM;
		goto fail;
	}
	for (i = 0; i < q->batch; i++) {
		q->rx_iov[i].iov_base = q->rx + (size_t)i * RX_BUF;
		q->rx_iov[i].iov_len = RX_BUF;
		q->msgs[i].msg_hdr.msg_iov = &q->rx_iov[i];
		q->msgs[i].msg_hdr.msg_iovlen = 1;
	}
	q->nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (!q->nl) {
		err = -errno;
		goto fail;
	}
	if (mnl_socket_bind(q->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		err = -errno;
		goto fail;
	}
	q->fd = mnl_socket_get_fd(q->nl);
	err = setup(q, p);
	if (err)
		goto fail;
	return q;
fail:
	queue_close(q);
	errno = -err;
	return NULL;
}

void queue_close(struct queue *q)
{
	if (!q)
		return;
	if (q->nl)
		mnl_socket_close(q->nl);
	free(q->rx);
	free(q->msgs);
	free(q->rx_iov);
	free(q->vhdr);
	free(q->tx_iov);
	free(q->vrec);
	free(q);
}

int queue_fd(const struct queue *q)
{
	return q->fd;
}

uint32_t queue_packets_held(const struct queue *q)
{
	int sz = 0;
	socklen_t len = sizeof(sz);

	if (getsockopt(q->fd, SOL_SOCKET, SO_RCVBUF, &sz, &len) < 0 || sz < 0)
		return 0;
	return (uint32_t)sz / QUEUE_PKT_BUF_MTU;
}

static bool parse_packet(const struct nlmsghdr *nlh, struct queue_pkt *pkt)
{
	struct nlattr *attr[NFQA_MAX + 1] = { 0 };
	struct nfqnl_msg_packet_hdr *ph;

	if (nfq_nlmsg_parse(nlh, attr) < 0 || !attr[NFQA_PACKET_HDR] ||
	    mnl_attr_get_payload_len(attr[NFQA_PACKET_HDR]) < sizeof(*ph))
		return false;
	ph = mnl_attr_get_payload(attr[NFQA_PACKET_HDR]);
	pkt->id = ntohl(ph->packet_id);
	pkt->hook = ph->hook;
	if (attr[NFQA_PAYLOAD]) {
		pkt->data = mnl_attr_get_payload(attr[NFQA_PAYLOAD]);
		pkt->len = mnl_attr_get_payload_len(attr[NFQA_PAYLOAD]);
	} else {
		pkt->data = NULL;
		pkt->len = 0;
	}
	pkt->orig_len = attr[NFQA_CAP_LEN] ?
		ntohl(mnl_attr_get_u32(attr[NFQA_CAP_LEN])) : pkt->len;
	pkt->mark = attr[NFQA_MARK] ? ntohl(mnl_attr_get_u32(attr[NFQA_MARK])) : 0;
	pkt->skbinfo = attr[NFQA_SKB_INFO] ?
		ntohl(mnl_attr_get_u32(attr[NFQA_SKB_INFO])) : 0;
	return true;
}

int queue_recv_burst(struct queue *q, struct queue_pkt *pkts)
{
	unsigned i, n_pkts = 0;
	int n;

	for (i = 0; i < q->batch; i++) {
		q->msgs[i].msg_hdr.msg_flags = 0;
		q->msgs[i].msg_len = 0;
	}
	n = recvmmsg(q->fd, q->msgs, q->batch, MSG_DONTWAIT, NULL);
	counter_add(&q->cnt.recv_calls, 1);
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return 0;
		if (errno == ENOBUFS) {
			counter_add(&q->cnt.enobufs, 1);
			return 0;
		}
		return -errno;
	}
	for (i = 0; i < (unsigned)n; i++) {
		const struct nlmsghdr *nlh = q->rx_iov[i].iov_base;
		int left = (int)q->msgs[i].msg_len;

		if (q->msgs[i].msg_hdr.msg_flags & MSG_TRUNC) {
			counter_add(&q->cnt.truncated, 1);
			continue;
		}
		for (; mnl_nlmsg_ok(nlh, left); nlh = mnl_nlmsg_next(nlh, &left)) {
			if (nlh->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);

				if (nlh->nlmsg_len >= mnl_nlmsg_size(sizeof(*e)) &&
				    e->error)
					counter_add(&q->cnt.nl_errors, 1);
				continue;
			}
			if (nlh->nlmsg_type !=
			    ((NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_PACKET))
				continue;
			if (n_pkts == q->batch ||
			    !parse_packet(nlh, &pkts[n_pkts])) {
				counter_add(&q->cnt.garbage, 1);
				continue;
			}
			n_pkts++;
		}
	}
	counter_add(&q->cnt.packets, n_pkts);
	return (int)n_pkts;
}

void queue_verdict(struct queue *q, uint32_t id, uint32_t verdict,
		   bool set_mark, uint32_t mark, const void *payload,
		   uint32_t len)
{
	uint8_t *slot;
	struct nlmsghdr *nlh;
	struct nlattr *pa;
	size_t hlen;

	if (q->n_verdicts == q->batch ||
	    (payload && q->tx_bytes + len + VHDR_SLOT > TX_LIMIT))
		queue_flush(q);
	slot = q->vhdr + (size_t)q->n_verdicts * VHDR_SLOT;
	nlh = nfq_nlmsg_put((char *)slot, NFQNL_MSG_VERDICT, q->num);
	nfq_nlmsg_verdict_put(nlh, (int)id, (int)verdict);
	if (set_mark)
		nfq_nlmsg_verdict_put_mark(nlh, mark);
	hlen = nlh->nlmsg_len;
	q->vrec[q->n_verdicts] = (struct vrec){ (uint16_t)q->n_iov, 1,
						(uint16_t)hlen };
	q->tx_iov[q->n_iov++] = (struct iovec){ slot, hlen };
	if (payload) {
		/* The attribute header goes in the slot; the data is sent
		 * from where it was received. */
		pa = (struct nlattr *)(slot + hlen);
		pa->nla_type = NFQA_PAYLOAD;
		pa->nla_len = (uint16_t)(sizeof(*pa) + len);
		q->tx_iov[q->n_iov - 1].iov_len += sizeof(*pa);
		q->tx_iov[q->n_iov++] = (struct iovec){ (void *)payload, len };
		if (MNL_ALIGN(len) != len)
			q->tx_iov[q->n_iov++] = (struct iovec){
				(void *)zero_pad, MNL_ALIGN(len) - len };
		q->vrec[q->n_verdicts].n_iov =
			(uint16_t)(q->n_iov - q->vrec[q->n_verdicts].iov);
		nlh->nlmsg_len = (uint32_t)(hlen + sizeof(*pa) + MNL_ALIGN(len));
	}
	q->tx_bytes += nlh->nlmsg_len;
	q->n_verdicts++;
}

static int send_iov(struct queue *q, struct iovec *iov, size_t n)
{
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	struct msghdr msg = {
		.msg_name = &kernel, .msg_namelen = sizeof(kernel),
		.msg_iov = iov, .msg_iovlen = n,
	};
	ssize_t r;

	do {
		r = sendmsg(q->fd, &msg, 0);
	} while (r < 0 && errno == EINTR);
	counter_add(&q->cnt.send_calls, 1);
	return r < 0 ? -errno : 0;
}

/* Turns verdict @v into a plain drop without payload or mark change. */
static void make_drop(struct queue *q, unsigned v)
{
	struct iovec *iov = &q->tx_iov[q->vrec[v].iov];
	struct nlmsghdr *nlh = iov->iov_base;
	struct nlattr *attr;

	nlh->nlmsg_len = q->vrec[v].hlen;
	iov->iov_len = q->vrec[v].hlen;
	q->vrec[v].n_iov = 1;
	mnl_attr_for_each(attr, nlh, sizeof(struct nfgenmsg)) {
		if (mnl_attr_get_type(attr) == NFQA_VERDICT_HDR) {
			struct nfqnl_msg_verdict_hdr *vh =
				mnl_attr_get_payload(attr);

			vh->verdict = htonl(NF_DROP);
		}
	}
}

int queue_flush(struct queue *q)
{
	unsigned v;
	int err;

	if (!q->n_verdicts)
		return 0;
	err = send_iov(q, q->tx_iov, q->n_iov);
	if (err) {
		/* One refused sendmsg must not leave a burst of packets
		 * without verdicts: resend them one by one, and drop a
		 * packet whose rewritten payload still cannot go. */
		counter_add(&q->cnt.send_errors, 1);
		for (v = 0; v < q->n_verdicts; v++) {
			if (!send_iov(q, &q->tx_iov[q->vrec[v].iov],
				      q->vrec[v].n_iov))
				continue;
			counter_add(&q->cnt.send_errors, 1);
			make_drop(q, v);
			send_iov(q, &q->tx_iov[q->vrec[v].iov], 1);
		}
	}
	counter_add(&q->cnt.verdicts, q->n_verdicts);
	q->n_verdicts = 0;
	q->n_iov = 0;
	q->tx_bytes = 0;
	return err;
}

void queue_counters(const struct queue *q, struct queue_counters *out)
{
	counters_load(out, &q->cnt, sizeof(*out));
}

/*
 * The kernel's own view of queue @num: packets waiting, and packets it
 * dropped because the queue was full (queue_dropped) or our socket buffer
 * was (user_dropped; hidden from us by NETLINK_NO_ENOBUFS).  Returns false
 * when the queue is not listed.
 */
bool queue_kernel_counters(unsigned num, unsigned long *waiting,
			   unsigned long *qdrop, unsigned long *udrop)
{
	FILE *f = fopen("/proc/net/netfilter/nfnetlink_queue", "re");
	unsigned long q, portid, total, mode, range, qd, ud;
	bool found = false;
	char line[256];

	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lu %lu %lu %lu %lu %lu %lu", &q, &portid,
			   &total, &mode, &range, &qd, &ud) == 7 && q == num) {
			*waiting = total;
			*qdrop = qd;
			*udrop = ud;
			found = true;
			break;
		}
	}
	fclose(f);
	return found;
}
