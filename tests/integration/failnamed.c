/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * LD_PRELOAD for test_offload.sh: a kernel that resets set elements in a
 * dump but not when they are named.  Every nf_tables GETSETELEM_RESET
 * request sent without NLM_F_DUMP goes out with a message type the
 * kernel does not know, so that it answers EINVAL, as a kernel without
 * the named reset would; everything else goes out as it was.
 */
#include <dlfcn.h>
#include <errno.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>

typedef ssize_t (*sendto_fn)(int, const void *, size_t, int,
			     const struct sockaddr *, socklen_t);

/* NFT_MSG_GETSETELEM_RESET, Linux 6.5 (newer than Debian 12's headers) */
#define RESET_TYPE (NFNL_SUBSYS_NFTABLES << 8 | 33)
#define UNKNOWN_TYPE (NFNL_SUBSYS_NFTABLES << 8 | 0xff)

static _Thread_local unsigned char copy[1 << 17];

ssize_t sendto(int fd, const void *buf, size_t len, int flags,
	       const struct sockaddr *to, socklen_t tolen)
{
	static sendto_fn real;
	struct nlmsghdr *nlh;
	size_t off;

	if (!real)
		real = (sendto_fn)dlsym(RTLD_NEXT, "sendto");
	if (!real) {
		errno = ENOSYS;
		return -1;
	}
	if (!to || to->sa_family != AF_NETLINK || len > sizeof(copy))
		return real(fd, buf, len, flags, to, tolen);
	memcpy(copy, buf, len);
	for (off = 0; off + sizeof(*nlh) <= len;
	     off += NLMSG_ALIGN(nlh->nlmsg_len)) {
		nlh = (struct nlmsghdr *)(copy + off);
		if (nlh->nlmsg_len < sizeof(*nlh) || nlh->nlmsg_len > len - off)
			break;
		if (nlh->nlmsg_type == RESET_TYPE &&
		    !(nlh->nlmsg_flags & NLM_F_DUMP))
			nlh->nlmsg_type = UNKNOWN_TYPE;
	}
	return real(fd, copy, len, flags, to, tolen);
}
