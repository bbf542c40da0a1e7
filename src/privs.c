/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "privs.h"

/* libcap would do; two system calls do not need it */
static int caps_get(struct __user_cap_data_struct d[2])
{
	struct __user_cap_header_struct h = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};

	return (int)syscall(SYS_capget, &h, d);
}

static int caps_set(struct __user_cap_data_struct d[2])
{
	struct __user_cap_header_struct h = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};

	return (int)syscall(SYS_capset, &h, d);
}

static int fail(char *why, size_t len, int err, const char *what)
{
	snprintf(why, len, "%s: %s", what, strerror(err));
	return -err;
}

int privs_drop(const char *user, char *why, size_t len)
{
	const uint32_t keep = 1u << CAP_NET_ADMIN;
	struct __user_cap_data_struct d[2];
	const struct passwd *pw = NULL;
	int cap;

	if (user) {
		errno = 0;
		pw = getpwnam(user);
		if (!pw) {
			snprintf(why, len, "no user '%s'", user);
			return errno ? -errno : -ENOENT;
		}
		if (pw->pw_uid == getuid() && pw->pw_uid == geteuid())
			pw = NULL;	/* started as that user already */
	}
	if (caps_get(d) < 0)
		return fail(why, len, errno, "capget");
	if (!(d[0].permitted & keep)) {
		snprintf(why, len, "CAP_NET_ADMIN is not permitted");
		return -EPERM;
	}
	/* the bounding set needs CAP_SETPCAP to shrink; a service manager
	 * may have shrunk it already (CapabilityBoundingSet=) */
	for (cap = 0; cap < 64; cap++) {
		int r = prctl(PR_CAPBSET_READ, cap, 0, 0, 0);

		if (r < 0)
			break;		/* past the kernel's last capability */
		if (r == 1 && cap != CAP_NET_ADMIN &&
		    prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EPERM)
			return fail(why, len, errno, "PR_CAPBSET_DROP");
	}
	if (pw) {
		if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
			return fail(why, len, errno, "PR_SET_KEEPCAPS");
		if (setgroups(0, NULL) < 0)
			return fail(why, len, errno, "setgroups");
		if (setgid(pw->pw_gid) < 0)
			return fail(why, len, errno, "setgid");
		if (setuid(pw->pw_uid) < 0)
			return fail(why, len, errno, "setuid");
		if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
			return fail(why, len, errno, "PR_SET_KEEPCAPS");
	}
	memset(d, 0, sizeof(d));
	d[0].effective = d[0].permitted = keep;
	if (caps_set(d) < 0)
		return fail(why, len, errno, "capset");
	/* EINVAL: a kernel without ambient capabilities has none to clear */
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 &&
	    errno != EINVAL)
		return fail(why, len, errno, "PR_CAP_AMBIENT");
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return fail(why, len, errno, "PR_SET_NO_NEW_PRIVS");
	/* what the kernel now says, not what was asked */
	if (caps_get(d) < 0)
		return fail(why, len, errno, "capget");
	if (d[0].effective != keep || d[0].permitted != keep || d[1].effective ||
	    d[1].permitted || d[0].inheritable || d[1].inheritable) {
		snprintf(why, len, "capabilities left: effective %08x%08x, "
			 "permitted %08x%08x", d[1].effective, d[0].effective,
			 d[1].permitted, d[0].permitted);
		return -EPERM;
	}
	return 0;
}
