/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Least privilege: once its queues, sockets and files are open, espmasqd
 * keeps CAP_NET_ADMIN (verdicts on the queues need it) and nothing else,
 * optionally as an unprivileged user.
 */
#ifndef ESPMASQ_PRIVS_H
#define ESPMASQ_PRIVS_H

#include <stddef.h>

/*
 * Leaves the process with CAP_NET_ADMIN alone in its effective and
 * permitted sets (and, where it may, in its bounding set), no ambient
 * capabilities and no_new_privs; as @user (its uid and primary group, no
 * supplementary groups) unless @user is NULL or already the user.  To be
 * called before any thread starts: capabilities are per thread, and the
 * threads created later inherit these.  Returns 0, or -errno with the
 * reason in @why.
 */
int privs_drop(const char *user, char *why, size_t len);

#endif
