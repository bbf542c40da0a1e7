/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer harness for the control protocol: the input is what a client
 * sends, one request per line as the daemon reads it (the bytes up to a
 * newline, NUL-terminated, embedded NULs kept), parsed by ctlreq_parse(),
 * then the arguments of sessions and flush by filter_parse() and
 * ctlreq_flush(), as control.c does.
 *
 * Checked: every message fits its buffer and is one line; accepted
 * requests have their words inside the line, none empty and none with a
 * separator in it; a parsed filter has an SPI only when it is not zero and
 * server networks without host bits.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_check.h"
#include "ctlreq.h"
#include "filter.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_msg(const char *m, size_t len)
{
	const char *end = memchr(m, '\0', len);

	check(end && end != m && !memchr(m, '\n', (size_t)(end - m)));
}

static void check_filter(const struct session_filter *f)
{
	check(!(f->have & ~(unsigned)(FILTER_CLIENT | FILTER_SERVER |
				      FILTER_ALIAS | FILTER_SPI)));
	if (f->have & FILTER_SPI)
		check(f->spi != 0);
	if (f->have & FILTER_SERVER)
		check(!(f->server.addr & ~f->server.mask));
}

static void one(char *line, size_t n)
{
	char err[CTLREQ_ERR_LEN], ferr[FILTER_ERR_LEN];
	struct session_filter f;
	struct ctl_request r;
	int i;

	memset(err, 'x', sizeof(err));
	if (ctlreq_parse(line, n, &r, err, sizeof(err))) {
		check_msg(err, sizeof(err));
		return;
	}
	check(r.argc >= 0 && r.argc <= CTL_MAX_WORDS);
	check(r.cmd <= CTL_CMD_VERSION);
	for (i = 0; i < r.argc; i++) {
		check(r.argv[i] > line && r.argv[i] < line + n);
		check(r.argv[i][0] && !strpbrk(r.argv[i], " \t"));
	}
	memset(ferr, 'x', sizeof(ferr));
	if (r.cmd == CTL_CMD_SESSIONS) {
		if (filter_parse(&f, r.argc, r.argv, ferr, sizeof(ferr)))
			check_msg(ferr, sizeof(ferr));
		else
			check_filter(&f);
	} else if (r.cmd == CTL_CMD_FLUSH) {
		if (ctlreq_flush(r.argc, r.argv, &f, ferr, sizeof(ferr)))
			check_msg(ferr, sizeof(ferr));
		else
			check(f.have == 0 || f.have == FILTER_CLIENT);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t off = 0;

	while (off < size) {
		const uint8_t *nl = memchr(data + off, '\n', size - off);
		size_t n = nl ? (size_t)(nl - (data + off)) : size - off;

		/* a copy of exactly the line and its NUL, as
		 * evbuffer_readln() hands it over */
		char *l = malloc(n + 1);

		if (!l)
			break;
		memcpy(l, data + off, n);
		l[n] = '\0';
		one(l, n);
		free(l);
		off += n + 1;
	}
	return 0;
}
