/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ctlreq.h"

static const struct {
	const char *name;
	enum ctl_cmd cmd;
} commands[] = {
	{ "sessions", CTL_CMD_SESSIONS },
	{ "aliases", CTL_CMD_ALIASES },
	{ "flush", CTL_CMD_FLUSH },
	{ "stats", CTL_CMD_STATS },
	{ "reload", CTL_CMD_RELOAD },
	{ "watch", CTL_CMD_WATCH },
	{ "version", CTL_CMD_VERSION },
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

/* The words after the command, in @argv; -1 when more than @max. */
static int split_words(char **save, char **argv, int max)
{
	char *w;
	int n = 0;

	while ((w = strtok_r(NULL, " \t", save))) {
		if (n == max)
			return -1;
		argv[n++] = w;
	}
	return n;
}

int ctlreq_parse(char *line, size_t len, struct ctl_request *r, char *err,
		 size_t errlen)
{
	char *cmd, *save = NULL;
	unsigned i;

	/* the order of the checks is what clients have always been told:
	 * too long, empty, too many words, then the command */
	if (len > CTL_MAX_REQUEST) {
		snprintf(err, errlen, "request too long");
		return -EINVAL;
	}
	cmd = strtok_r(line, " \t", &save);
	if (!cmd) {
		snprintf(err, errlen, "empty request");
		return -EINVAL;
	}
	r->argc = split_words(&save, r->argv, CTL_MAX_WORDS);
	if (r->argc < 0) {
		snprintf(err, errlen, "too many words (at most %d after the "
			 "command)", CTL_MAX_WORDS);
		return -EINVAL;
	}
	for (i = 0; i < N_COMMANDS; i++)
		if (!strcmp(cmd, commands[i].name))
			break;
	if (i == N_COMMANDS) {
		snprintf(err, errlen, "unknown command '%.40s'", cmd);
		return -EINVAL;
	}
	r->cmd = commands[i].cmd;
	if (r->cmd == CTL_CMD_WATCH && r->argc) {
		snprintf(err, errlen, "watch takes no arguments");
		return -EINVAL;
	}
	return 0;
}

int ctlreq_flush(int argc, char *const *argv, struct session_filter *f,
		 char *err, size_t errlen)
{
	/* "all" is required, so that no stray request drops every
	 * tunnel's state */
	memset(f, 0, sizeof(*f));
	if (argc == 2 && !strcmp(argv[0], "client"))
		return filter_parse(f, argc, argv, err, errlen);
	if (argc != 1 || strcmp(argv[0], "all")) {
		snprintf(err, errlen, "flush needs 'all' or 'client ADDR'");
		return -EINVAL;
	}
	return 0;
}
