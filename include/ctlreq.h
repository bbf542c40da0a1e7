/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Parsing of one control request line (see ctlproto.h): the command and
 * the words after it, and the arguments of "flush".  Pure (a line in, a
 * request or a one-line message out), so unit tests and the fuzzer call it
 * without a socket; control.c answers what it returns.
 */
#ifndef ESPMASQ_CTLREQ_H
#define ESPMASQ_CTLREQ_H

#include <stddef.h>

#include "ctlproto.h"
#include "filter.h"

enum ctl_cmd {
	CTL_CMD_SESSIONS = 0,
	CTL_CMD_ALIASES,
	CTL_CMD_FLUSH,
	CTL_CMD_STATS,
	CTL_CMD_RELOAD,
	CTL_CMD_WATCH,
	CTL_CMD_VERSION,
};

/* Longest message ctlreq_parse() writes, with its NUL. */
#define CTLREQ_ERR_LEN	80

struct ctl_request {
	enum ctl_cmd cmd;
	int argc;
	char *argv[CTL_MAX_WORDS];	/* point into the parsed line */
};

/*
 * Parses the request @line of @len bytes (without its newline; as the
 * socket delivered it, so @len counts bytes past an embedded NUL too),
 * NUL-terminated at @len.  Splits it in place on spaces and tabs.
 * Returns 0 and fills @r, or -EINVAL with the message to send after
 * "error " in @err (@errlen bytes): too long, empty, too many words,
 * unknown command, watch with arguments.  The arguments of "sessions"
 * and "flush" are checked by filter_parse() and ctlreq_flush().
 */
int ctlreq_parse(char *line, size_t len, struct ctl_request *r, char *err,
		 size_t errlen);

/*
 * The arguments of "flush": "all" (@f->have stays 0) or "client ADDR"
 * (@f->have is FILTER_CLIENT).  Returns 0, or -EINVAL with a one-line
 * message in @err (@errlen bytes; FILTER_ERR_LEN is enough).
 */
int ctlreq_flush(int argc, char *const *argv, struct session_filter *f,
		 char *err, size_t errlen);

#endif
