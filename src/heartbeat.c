/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "heartbeat.h"
#include "log.h"

void heartbeat_init(struct heartbeat *h)
{
	memset(h, 0, sizeof(*h));
	h->fd = -1;
}

int heartbeat_beat(struct heartbeat *h, const char *path)
{
	/* xt_recent reads "+ADDR" as: add ADDR, or refresh it if listed */
	static const char beat[] = "+0.0.0.0\n";
	int err;

	errno = 0;
	if (h->fd < 0)
		h->fd = open(path, O_WRONLY | O_CLOEXEC);
	if (h->fd >= 0 &&
	    write(h->fd, beat, sizeof(beat) - 1) == (ssize_t)sizeof(beat) - 1) {
		if (h->warned)
			log_info("heartbeat %s written again", path);
		h->warned = false;
		h->beats++;
		return 0;
	}
	err = errno ? -errno : -EIO;
	h->failures++;
	if (h->fd >= 0) {
		/* the list went away with its rules: reopen next time */
		close(h->fd);
		h->fd = -1;
	}
	if (!h->warned)
		log_msg(LOG_WARNING, "fail-policy bypass: cannot write the "
			"heartbeat %s (%s): until it is written, espmasq's "
			"flows stay tracked by conntrack; are the rules "
			"loaded?", path, strerror(-err));
	h->warned = true;
	return err;
}

void heartbeat_close(struct heartbeat *h)
{
	if (h->fd >= 0)
		close(h->fd);
	h->fd = -1;
}
