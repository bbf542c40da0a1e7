/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Control request lines: commands, words, and the messages clients get. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "ctlreq.h"

/* Parses a copy of @s (the socket's line has no newline). */
static int parse(const char *s, struct ctl_request *r, char *buf, char *err)
{
	size_t n = strlen(s);

	memcpy(buf, s, n + 1);
	return ctlreq_parse(buf, n, r, err, CTLREQ_ERR_LEN);
}

static void expect_error(const char *line, const char *msg)
{
	char buf[2 * CTL_MAX_REQUEST], err[CTLREQ_ERR_LEN] = "";
	struct ctl_request r;

	assert_int_equal(parse(line, &r, buf, err), -EINVAL);
	assert_string_equal(err, msg);
}

static void test_commands(void **state)
{
	static const struct {
		const char *line;
		enum ctl_cmd cmd;
		int argc;
	} ok[] = {
		{ "sessions", CTL_CMD_SESSIONS, 0 },
		{ "sessions client 192.0.2.11 spi 1001", CTL_CMD_SESSIONS, 4 },
		{ "  \tsessions\t client  192.0.2.11 ", CTL_CMD_SESSIONS, 2 },
		{ "aliases", CTL_CMD_ALIASES, 0 },
		{ "flush all", CTL_CMD_FLUSH, 1 },
		/* refused later, by ctlreq_flush() */
		{ "flush", CTL_CMD_FLUSH, 0 },
		{ "stats", CTL_CMD_STATS, 0 },
		{ "reload", CTL_CMD_RELOAD, 0 },
		{ "watch", CTL_CMD_WATCH, 0 },
		{ "watch ", CTL_CMD_WATCH, 0 },
		{ "version", CTL_CMD_VERSION, 0 },
		/* other commands ignore their words, as they always did */
		{ "version please", CTL_CMD_VERSION, 1 },
	};
	char buf[2 * CTL_MAX_REQUEST], err[CTLREQ_ERR_LEN];
	struct ctl_request r;
	unsigned i;

	(void)state;
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		assert_int_equal(parse(ok[i].line, &r, buf, err), 0);
		assert_int_equal(r.cmd, ok[i].cmd);
		assert_int_equal(r.argc, ok[i].argc);
	}
	assert_int_equal(parse("sessions client 192.0.2.11\tspi 1001", &r, buf,
			       err), 0);
	assert_string_equal(r.argv[0], "client");
	assert_string_equal(r.argv[1], "192.0.2.11");
	assert_string_equal(r.argv[2], "spi");
	assert_string_equal(r.argv[3], "1001");
}

static void test_errors(void **state)
{
	char line[CTL_MAX_REQUEST + 2], buf[2 * CTL_MAX_REQUEST];
	char err[CTLREQ_ERR_LEN];
	struct ctl_request r;
	int i;

	(void)state;
	expect_error("", "empty request");
	expect_error(" \t ", "empty request");
	expect_error("Sessions", "unknown command 'Sessions'");
	expect_error("sessions\r", "unknown command 'sessions\r'");
	expect_error("watch now", "watch takes no arguments");
	/* long commands are cut in the message */
	expect_error("0123456789012345678901234567890123456789xyz",
		     "unknown command "
		     "'0123456789012345678901234567890123456789'");
	/* 16 words after the command pass, 17 do not, whatever the command */
	strcpy(line, "sessions");
	for (i = 0; i < CTL_MAX_WORDS; i++)
		strcat(line, " w");
	assert_int_equal(parse(line, &r, buf, err), 0);
	assert_int_equal(r.argc, CTL_MAX_WORDS);
	strcat(line, " w");
	expect_error(line, "too many words (at most 16 after the command)");
	line[0] = 'x';
	expect_error(line, "too many words (at most 16 after the command)");
	/* the limit counts every byte the socket delivered */
	memset(line, ' ', CTL_MAX_REQUEST);
	memcpy(line, "stats", 5);
	line[CTL_MAX_REQUEST] = '\0';
	assert_int_equal(parse(line, &r, buf, err), 0);
	line[CTL_MAX_REQUEST] = ' ';
	line[CTL_MAX_REQUEST + 1] = '\0';
	expect_error(line, "request too long");
	/* an embedded NUL ends the words but not the length */
	memcpy(buf, "stats\0xx", 9);
	assert_int_equal(ctlreq_parse(buf, 8, &r, err, sizeof(err)), 0);
	assert_int_equal(r.cmd, CTL_CMD_STATS);
	assert_int_equal(r.argc, 0);
}

static void test_flush(void **state)
{
	struct session_filter f;
	char e[FILTER_ERR_LEN];

	(void)state;
	assert_int_equal(ctlreq_flush(1, (char *const[]){ "all" }, &f, e,
				      sizeof(e)), 0);
	assert_int_equal(f.have, 0);
	assert_int_equal(ctlreq_flush(2, (char *const[]){ "client",
				      "192.0.2.11" }, &f, e, sizeof(e)), 0);
	assert_int_equal(f.have, FILTER_CLIENT);
	assert_int_equal(f.client, 0xc000020bu);
	assert_int_equal(ctlreq_flush(0, NULL, &f, e, sizeof(e)), -EINVAL);
	assert_string_equal(e, "flush needs 'all' or 'client ADDR'");
	assert_int_equal(ctlreq_flush(2, (char *const[]){ "all", "x" }, &f, e,
				      sizeof(e)), -EINVAL);
	assert_string_equal(e, "flush needs 'all' or 'client ADDR'");
	assert_int_equal(ctlreq_flush(1, (char *const[]){ "client" }, &f, e,
				      sizeof(e)), -EINVAL);
	assert_string_equal(e, "flush needs 'all' or 'client ADDR'");
	assert_int_equal(ctlreq_flush(2, (char *const[]){ "server",
				      "203.0.113.1" }, &f, e, sizeof(e)),
			 -EINVAL);
	assert_string_equal(e, "flush needs 'all' or 'client ADDR'");
	assert_int_equal(ctlreq_flush(2, (char *const[]){ "client", "x" }, &f,
				      e, sizeof(e)), -EINVAL);
	assert_string_equal(e, "bad address 'x' for client");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_commands),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_flush),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
