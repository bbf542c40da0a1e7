/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"

#define LINES(...) ((const char *const[]){ __VA_ARGS__, NULL })
#define IP(a, b, c, d) \
	((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))

struct fx {
	struct config c;
	struct config_errors e;
	char dir[64];		/* temporary directory, "" until made */
	char path[512];		/* last path fx_write() returned */
};

static int fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	config_init(&f->c);
	*state = f;
	return 0;
}

static int fx_rm(const char *path, const struct stat *st, int type,
		 struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return type == FTW_DP ? rmdir(path) : unlink(path);
}

static int fx_teardown(void **state)
{
	struct fx *f = *state;

	if (f->dir[0])
		nftw(f->dir, fx_rm, 8, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

/* Feeds @lines to config_line() as f.conf; returns how many failed. */
static unsigned parse(struct fx *f, const char *const *lines)
{
	unsigned i, bad = 0;
	int err;

	for (i = 0; lines[i]; i++) {
		err = config_line(&f->c, "f.conf", i + 1, lines[i], &f->e);
		assert_true(err == 0 || err == -EINVAL);
		if (err)
			bad++;
	}
	return bad;
}

/* @lines give exactly one error, @msg. */
static void expect_error(const char *const *lines, const char *msg)
{
	struct config_errors e = { .n = 0 };
	struct config cfg, *c = &cfg;	/* no heap: a failed assert leaks */
	unsigned i, bad = 0;

	config_init(c);
	for (i = 0; lines[i]; i++)
		if (config_line(c, "f.conf", i + 1, lines[i], &e))
			bad++;
	if (e.n != 1 || strcmp(e.msg[0], msg))
		print_error("expected: %s\n     got: %u errors, first '%s'\n",
			    msg, e.n, e.n ? e.msg[0] : "");
	assert_int_equal(bad, 1);
	assert_int_equal(e.n, 1);
	assert_string_equal(e.msg[0], msg);
}

/* The single line @line is fine. */
static void expect_ok(const char *line)
{
	struct config_errors e = { .n = 0 };
	struct config c;

	config_init(&c);
	if (config_line(&c, "f.conf", 1, line, &e))
		print_error("'%s': %s\n", line, e.msg[0]);
	assert_int_equal(e.n, 0);
}

static const char *fx_dir(struct fx *f)
{
	const char *tmp = getenv("TMPDIR");

	if (!f->dir[0]) {
		snprintf(f->dir, sizeof(f->dir), "%s/espmasq-test-XXXXXX",
			 tmp && tmp[0] && strlen(tmp) < 32 ? tmp : "/tmp");
		assert_non_null(mkdtemp(f->dir));
	}
	return f->dir;
}

/* Writes @len bytes of @text to DIR/@name; returns the path. */
static const char *fx_write_n(struct fx *f, const char *name,
			      const char *text, size_t len)
{
	FILE *fp;

	snprintf(f->path, sizeof(f->path), "%s/%s", fx_dir(f), name);
	fp = fopen(f->path, "w");
	assert_non_null(fp);
	assert_int_equal(fwrite(text, 1, len, fp), len);
	assert_int_equal(fclose(fp), 0);
	return f->path;
}

static const char *fx_write(struct fx *f, const char *name, const char *text)
{
	return fx_write_n(f, name, text, strlen(text));
}

static void fx_mkdir(struct fx *f, const char *name)
{
	char p[512];

	snprintf(p, sizeof(p), "%s/%s", fx_dir(f), name);
	assert_int_equal(mkdir(p, 0700), 0);
}

/* "DIR/@name" */
static const char *fx_path(struct fx *f, const char *name, char *buf,
			   size_t size)
{
	snprintf(buf, size, "%s/%s", fx_dir(f), name);
	return buf;
}

/* --- defaults, comments, tokens ------------------------------------ */

static void test_defaults(void **state)
{
	struct fx *f = *state;
	unsigned i;

	assert_int_equal(f->c.n_inside, 0);
	assert_int_equal(f->c.n_servers, 0);
	assert_string_equal(f->c.outside, "");
	assert_int_equal(f->c.n_aliases, 0);
	assert_int_equal(f->c.n_pins, 0);
	assert_int_equal(f->c.n_queues, 0);
	for (i = 0; i < CONFIG_MAX_QUEUES; i++)
		assert_int_equal(f->c.cpu[i], -1);
	assert_false(f->c.mark.set);
	assert_int_equal(f->c.n_marks, 0);
	assert_int_equal(f->c.timeout_ike, 3600);
	assert_int_equal(f->c.timeout_esp, 900);
	assert_int_equal(f->c.timeout_pending, 30);
	assert_int_equal(f->c.timeout_natt, 300);
	assert_int_equal(f->c.max_sessions, 65536);
	assert_int_equal(f->c.queue_maxlen, 4096);
	assert_int_equal(f->c.rcvbuf, 0);	/* auto */
	assert_int_equal(config_rcvbuf(&f->c), 8 * 1024 * 1024);
	assert_int_equal(f->c.batch, 64);
	assert_string_equal(f->c.control, CONFIG_DEFAULT_CONTROL);
	assert_string_equal(f->c.state, "");
	assert_int_equal(f->c.fail_policy, FAIL_POLICY_DROP);

	/* finish supplies the default queue */
	assert_int_equal(parse(f, LINES("inside 192.0.2.0/24",
					"alias 203.0.113.1")), 0);
	assert_int_equal(config_finish(&f->c, "f.conf", &f->e), 0);
	assert_int_equal(f->e.n, 0);
	assert_int_equal(f->c.n_queues, 1);
	assert_int_equal(f->c.queues[0], 0);
	assert_int_equal(f->c.cpu[0], -1);
}

static void test_comments_and_blanks(void **state)
{
	struct fx *f = *state;

	assert_int_equal(parse(f, LINES(
		"",
		"   \t  ",
		"# a comment",
		"\t# indented comment with inside 10.0.0.0/8",
		"inside 192.0.2.0/25 # trailing comment",
		"inside\t192.0.2.128/26#no space before the hash",
		"outside eth1\n",
		"alias 203.0.113.1\r\n",
		"   alias   203.0.113.2   ",
		"#",
		"\n")), 0);
	assert_int_equal(f->e.n, 0);
	assert_int_equal(f->c.n_inside, 2);
	assert_int_equal(f->c.inside[0].addr, IP(192, 0, 2, 0));
	assert_int_equal(f->c.inside[0].mask, 0xffffff80);
	assert_int_equal(f->c.inside[1].addr, IP(192, 0, 2, 128));
	assert_int_equal(f->c.inside[1].mask, 0xffffffc0);
	assert_string_equal(f->c.outside, "eth1");
	assert_int_equal(f->c.n_aliases, 2);
	assert_int_equal(f->c.aliases[0], IP(203, 0, 113, 1));
	assert_int_equal(f->c.aliases[1], IP(203, 0, 113, 2));

	/* a comment can hide what would be a second argument */
	expect_ok("outside eth0 # eth1");
	/* ...and a whole directive */
	expect_ok("#outside eth0 eth1 eth2");
	/* NULL is an empty line */
	assert_int_equal(config_line(&f->c, "f.conf", 99, NULL, &f->e), 0);
}

static void test_unknown_and_arg_count(void **state)
{
	struct fx *f = *state;

	expect_error(LINES("frobnicate 1"),
		     "f.conf:1: unknown directive 'frobnicate'");
	expect_error(LINES("", "Inside 192.0.2.0/24"),
		     "f.conf:2: unknown directive 'Inside'");
	expect_error(LINES("inside"),
		     "f.conf:1: wrong number of arguments to 'inside' "
		     "(expected: inside CIDR)");
	expect_error(LINES("inside 192.0.2.0/24 192.0.2.128/25"),
		     "f.conf:1: wrong number of arguments to 'inside' "
		     "(expected: inside CIDR)");
	expect_error(LINES("pin 192.0.2.1"),
		     "f.conf:1: wrong number of arguments to 'pin' "
		     "(expected: pin CLIENT ALIAS)");
	expect_error(LINES("timeout ike"),
		     "f.conf:1: wrong number of arguments to 'timeout' "
		     "(expected: timeout ike|esp|pending|nat-t|gateway "
		     "DURATION)");
	expect_error(LINES("cpu 1 2 3"),
		     "f.conf:1: wrong number of arguments to 'cpu' "
		     "(expected: cpu QUEUE CPU)");
	expect_error(LINES("fail-policy"),
		     "f.conf:1: wrong number of arguments to 'fail-policy' "
		     "(expected: fail-policy drop|bypass)");
	/* more tokens than the parser keeps */
	expect_error(LINES("batch 1 2 3 4 5 6 7 8 9 10 11 12"),
		     "f.conf:1: wrong number of arguments to 'batch' "
		     "(expected: batch N)");
	expect_error(LINES("include other.conf"),
		     "f.conf:1: 'include' is only possible in a file read "
		     "by config_load()");

	/* the config is untouched by rejected lines */
	assert_int_equal(parse(f, LINES("inside", "outside a b")), 2);
	assert_int_equal(f->c.n_inside, 0);
	assert_string_equal(f->c.outside, "");
}

static void test_errors_accumulate(void **state)
{
	struct fx *f = *state;
	char line[64];
	unsigned i;

	for (i = 1; i <= CONFIG_ERR_KEEP + 4; i++) {
		snprintf(line, sizeof(line), "bogus%u", i);
		assert_int_equal(config_line(&f->c, "f.conf", i, line, &f->e),
				 -EINVAL);
	}
	/* a good line in between changes nothing */
	assert_int_equal(config_line(&f->c, "f.conf", 100, "batch 2", &f->e),
			 0);
	assert_int_equal(f->e.n, CONFIG_ERR_KEEP + 4);
	assert_string_equal(f->e.msg[0],
			    "f.conf:1: unknown directive 'bogus1'");
	assert_string_equal(f->e.msg[CONFIG_ERR_KEEP - 1],
			    "f.conf:16: unknown directive 'bogus16'");
	assert_int_equal(f->c.batch, 2);

	/* no error list at all is allowed */
	assert_int_equal(config_line(&f->c, "f.conf", 1, "bogus", NULL),
			 -EINVAL);
}

static void test_message_sanitized(void **state)
{
	(void)state;
	expect_error(LINES("outside e\033[2Jx"),
		     "f.conf:1: invalid interface name 'e?[2Jx'");
}

static void test_long_line(void **state)
{
	struct fx *f = *state;
	char line[CONFIG_MAX_LINE + 8];

	/* exactly CONFIG_MAX_LINE characters (plus newline) is fine */
	memset(line, ' ', sizeof(line));
	memcpy(line, "batch 7 #", 9);
	line[CONFIG_MAX_LINE] = '\n';
	line[CONFIG_MAX_LINE + 1] = '\0';
	assert_int_equal(config_line(&f->c, "f.conf", 1, line, &f->e), 0);
	assert_int_equal(f->c.batch, 7);

	line[CONFIG_MAX_LINE] = 'x';
	assert_int_equal(config_line(&f->c, "f.conf", 2, line, &f->e),
			 -EINVAL);
	assert_int_equal(f->e.n, 1);
	assert_string_equal(f->e.msg[0], "f.conf:2: line too long (more than "
			    "1024 characters)");
}

/* --- networks --------------------------------------------------------- */

static void test_inside(void **state)
{
	struct fx *f = *state;

	assert_int_equal(parse(f, LINES("inside 192.0.2.0/24",
					"inside 192.0.2.77",
					"inside 0.0.0.0/0",
					"inside 192.0.2.128/32")), 0);
	assert_int_equal(f->c.n_inside, 4);
	assert_int_equal(f->c.inside[0].addr, IP(192, 0, 2, 0));
	assert_int_equal(f->c.inside[0].mask, 0xffffff00);
	assert_int_equal(f->c.inside[1].addr, IP(192, 0, 2, 77));
	assert_int_equal(f->c.inside[1].mask, 0xffffffff);
	assert_int_equal(f->c.inside[2].addr, 0);
	assert_int_equal(f->c.inside[2].mask, 0);
	assert_int_equal(f->c.inside[3].mask, 0xffffffff);

	expect_error(LINES("inside 192.0.2.1/24"),
		     "f.conf:1: host bits set in 192.0.2.1/24");
	expect_error(LINES("inside 192.0.3.0/23"),
		     "f.conf:1: host bits set in 192.0.3.0/23");
	expect_ok("inside 192.0.2.0/23");
	expect_error(LINES("inside 192.0.2.256/24"),
		     "f.conf:1: invalid address '192.0.2.256/24'");
	expect_error(LINES("inside 192.0.2/24"),
		     "f.conf:1: invalid address '192.0.2/24'");
	expect_error(LINES("inside 2001:db8::/32"),
		     "f.conf:1: invalid address '2001:db8::/32'");
	expect_error(LINES("inside 192.0.2.0.0.0.0.0.0/24"),
		     "f.conf:1: invalid address '192.0.2.0.0.0.0.0.0/24'");
	expect_error(LINES("inside 192.0.2.0/33"),
		     "f.conf:1: invalid prefix length in '192.0.2.0/33' "
		     "(0 to 32)");
	expect_error(LINES("inside 192.0.2.0/"),
		     "f.conf:1: invalid prefix length in '192.0.2.0/' "
		     "(0 to 32)");
	expect_error(LINES("inside 192.0.2.0/-8"),
		     "f.conf:1: invalid prefix length in '192.0.2.0/-8' "
		     "(0 to 32)");
	expect_error(LINES("inside 192.0.2.0/024"),
		     "f.conf:1: invalid prefix length in '192.0.2.0/024' "
		     "(0 to 32)");
	expect_error(LINES("inside 192.0.2.0/24x"),
		     "f.conf:1: invalid prefix length in '192.0.2.0/24x' "
		     "(0 to 32)");
}

static void test_too_many_nets(void **state)
{
	struct fx *f = *state;
	char line[64];
	unsigned i;

	for (i = 0; i < CONFIG_MAX_NETS; i++) {
		snprintf(line, sizeof(line), "server 198.51.%u.%u", i / 256,
			 i % 256);
		assert_int_equal(config_line(&f->c, "f.conf", i + 1, line,
					     &f->e), 0);
	}
	assert_int_equal(config_line(&f->c, "f.conf", 300, "server 10.0.0.0/8",
				     &f->e), -EINVAL);
	assert_string_equal(f->e.msg[0], "f.conf:300: too many 'server' "
			    "networks (at most 256)");
	assert_int_equal(f->c.n_servers, CONFIG_MAX_NETS);
}

static void test_server(void **state)
{
	struct fx *f = *state;

	/* no server line: every address is a server */
	assert_true(config_is_server(&f->c, IP(203, 0, 113, 9)));
	assert_true(config_is_server(&f->c, 0));

	assert_int_equal(parse(f, LINES("server 203.0.113.200/29",
					"server 203.0.113.250")), 0);
	assert_int_equal(f->c.n_servers, 2);
	assert_int_equal(f->c.servers[0].addr, IP(203, 0, 113, 200));
	assert_int_equal(f->c.servers[0].mask, 0xfffffff8);
	assert_true(config_is_server(&f->c, IP(203, 0, 113, 200)));
	assert_true(config_is_server(&f->c, IP(203, 0, 113, 207)));
	assert_false(config_is_server(&f->c, IP(203, 0, 113, 208)));
	assert_true(config_is_server(&f->c, IP(203, 0, 113, 250)));
	assert_false(config_is_server(&f->c, IP(203, 0, 113, 251)));
	assert_false(config_is_server(&f->c, IP(198, 51, 100, 1)));

	expect_error(LINES("server 203.0.113.201/29"),
		     "f.conf:1: host bits set in 203.0.113.201/29");
	expect_error(LINES("server example.com"),
		     "f.conf:1: invalid address 'example.com'");
}

static void test_cidr_helpers(void **state)
{
	struct fx *f = *state;
	struct cidr n = { .addr = IP(192, 0, 2, 0), .mask = 0xffffff00 };
	struct cidr any = { .addr = 0, .mask = 0 };

	assert_true(cidr_contains(&n, IP(192, 0, 2, 0)));
	assert_true(cidr_contains(&n, IP(192, 0, 2, 255)));
	assert_false(cidr_contains(&n, IP(192, 0, 3, 0)));
	assert_false(cidr_contains(&n, IP(192, 0, 1, 255)));
	assert_true(cidr_contains(&any, IP(255, 255, 255, 255)));

	assert_false(config_is_inside(&f->c, IP(192, 0, 2, 1)));
	assert_int_equal(parse(f, LINES("inside 192.0.2.0/25",
					"inside 192.0.2.200")), 0);
	assert_true(config_is_inside(&f->c, IP(192, 0, 2, 1)));
	assert_true(config_is_inside(&f->c, IP(192, 0, 2, 127)));
	assert_false(config_is_inside(&f->c, IP(192, 0, 2, 128)));
	assert_true(config_is_inside(&f->c, IP(192, 0, 2, 200)));
	assert_false(config_is_inside(&f->c, IP(192, 0, 2, 201)));
}

static void test_outside(void **state)
{
	struct fx *f = *state;

	assert_int_equal(parse(f, LINES("outside wan0.100")), 0);
	assert_string_equal(f->c.outside, "wan0.100");
	expect_ok("outside eth_1-a");
	expect_ok("outside abcdefghijklmno");	/* 15 characters */

	expect_error(LINES("outside abcdefghijklmnop"),
		     "f.conf:1: interface name 'abcdefghijklmnop' is too long "
		     "(at most 15 characters)");
	expect_error(LINES("outside eth/1"),
		     "f.conf:1: invalid interface name 'eth/1'");
	expect_error(LINES("outside eth+"),
		     "f.conf:1: invalid interface name 'eth+'");
	expect_error(LINES("outside eth:0"),
		     "f.conf:1: invalid interface name 'eth:0'");
	expect_error(LINES("outside .."),
		     "f.conf:1: invalid interface name '..'");
	expect_error(LINES("outside eth0", "", "outside eth1"),
		     "f.conf:3: duplicate 'outside' (first at line 1)");
	/* a rejected line does not count as the first */
	expect_error(LINES("outside eth!", "outside eth2"),
		     "f.conf:1: invalid interface name 'eth!'");
}

/* --- aliases and pins ------------------------------------------------- */

static void test_alias(void **state)
{
	static const uint32_t want[] = {
		IP(198, 51, 100, 255), IP(198, 51, 101, 0),
		IP(198, 51, 101, 1), IP(203, 0, 113, 5),
		IP(203, 0, 113, 11), IP(203, 0, 113, 12),
		IP(203, 0, 113, 13), IP(203, 0, 113, 14),
		IP(203, 0, 113, 20),
	};
	struct fx *f = *state;
	unsigned i;

	assert_int_equal(parse(f, LINES("alias 203.0.113.20",
					"alias 203.0.113.11-203.0.113.13",
					"alias 203.0.113.5-203.0.113.5",
					"alias 203.0.113.14",
					"alias 198.51.100.255-198.51.101.1")),
			 0);
	/* sorted, whatever the order of the lines */
	assert_int_equal(f->c.n_aliases, sizeof(want) / sizeof(want[0]));
	for (i = 0; i < f->c.n_aliases; i++)
		assert_int_equal(f->c.aliases[i], want[i]);
}

static void test_alias_errors(void **state)
{
	(void)state;
	expect_error(LINES("alias 203.0.113.13-203.0.113.11"),
		     "f.conf:1: reversed alias range "
		     "'203.0.113.13-203.0.113.11'");
	expect_error(LINES("alias 203.0.113.300"),
		     "f.conf:1: invalid alias '203.0.113.300' (ADDR or "
		     "ADDR-ADDR)");
	expect_error(LINES("alias 203.0.113.1-"),
		     "f.conf:1: invalid alias '203.0.113.1-' (ADDR or "
		     "ADDR-ADDR)");
	expect_error(LINES("alias -203.0.113.1"),
		     "f.conf:1: invalid alias '-203.0.113.1' (ADDR or "
		     "ADDR-ADDR)");
	expect_error(LINES("alias 203.0.113.1-203.0.113.2-203.0.113.3"),
		     "f.conf:1: invalid alias "
		     "'203.0.113.1-203.0.113.2-203.0.113.3' (ADDR or "
		     "ADDR-ADDR)");
	expect_error(LINES("alias 203.0.113.0/24"),
		     "f.conf:1: invalid alias '203.0.113.0/24' (ADDR or "
		     "ADDR-ADDR)");
	expect_error(LINES("alias 0.0.0.0"),
		     "f.conf:1: alias 0.0.0.0 is not usable");
	expect_error(LINES("alias 203.0.113.12",
			   "alias 203.0.113.10-203.0.113.14"),
		     "f.conf:2: duplicate alias 203.0.113.12");
	expect_error(LINES("alias 203.0.113.10-203.0.113.14",
			   "alias 203.0.113.1-203.0.113.10"),
		     "f.conf:2: duplicate alias 203.0.113.10");
	expect_error(LINES("alias 203.0.113.10-203.0.113.14",
			   "# other",
			   "alias 203.0.113.14"),
		     "f.conf:3: duplicate alias 203.0.113.14");
	/* 4097 addresses */
	expect_error(LINES("alias 10.0.0.0-10.0.16.0"),
		     "f.conf:1: too many aliases (at most 4096)");
	expect_error(LINES("alias 10.0.0.0-10.0.15.255", "alias 10.1.0.0"),
		     "f.conf:2: too many aliases (at most 4096)");
	expect_error(LINES("alias 0.0.0.1-255.255.255.255"),
		     "f.conf:1: too many aliases (at most 4096)");
	expect_ok("alias 10.0.0.0-10.0.15.255");
}

static void test_pin(void **state)
{
	struct fx *f = *state;

	assert_int_equal(parse(f, LINES("pin 192.0.2.11 203.0.113.11",
					"pin 192.0.2.12 203.0.113.99")), 0);
	assert_int_equal(f->c.n_pins, 2);
	assert_int_equal(f->c.pins[0].client, IP(192, 0, 2, 11));
	assert_int_equal(f->c.pins[0].alias, IP(203, 0, 113, 11));
	assert_int_equal(f->c.pins[0].line, 1);
	assert_int_equal(f->c.pins[1].line, 2);

	assert_int_equal(config_pin_for(&f->c, IP(192, 0, 2, 11)),
			 IP(203, 0, 113, 11));
	assert_int_equal(config_pin_for(&f->c, IP(192, 0, 2, 12)),
			 IP(203, 0, 113, 99));
	assert_int_equal(config_pin_for(&f->c, IP(192, 0, 2, 13)), 0);
	assert_int_equal(config_pin_for(&f->c, IP(203, 0, 113, 11)), 0);
	assert_true(config_alias_pinned(&f->c, IP(203, 0, 113, 11)));
	assert_true(config_alias_pinned(&f->c, IP(203, 0, 113, 99)));
	assert_false(config_alias_pinned(&f->c, IP(203, 0, 113, 12)));
	assert_false(config_alias_pinned(&f->c, IP(192, 0, 2, 11)));
	assert_int_equal(config_pin_client(&f->c, IP(203, 0, 113, 11)),
			 IP(192, 0, 2, 11));
	assert_int_equal(config_pin_client(&f->c, IP(203, 0, 113, 99)),
			 IP(192, 0, 2, 12));
	assert_int_equal(config_pin_client(&f->c, IP(203, 0, 113, 12)), 0);

	/* pinned aliases need not be in the alias list, but may be */
	assert_int_equal(parse(f, LINES("inside 192.0.2.0/24",
					"alias 203.0.113.11-203.0.113.12")),
			 0);
	assert_int_equal(config_finish(&f->c, "f.conf", &f->e), 0);
	assert_int_equal(f->e.n, 0);

	expect_error(LINES("pin 192.0.2.11 203.0.113.11", "",
			   "pin 192.0.2.11 203.0.113.12"),
		     "f.conf:3: client 192.0.2.11 is already pinned (first at "
		     "line 1)");
	expect_error(LINES("pin 192.0.2.11 203.0.113.11",
			   "pin 192.0.2.12 203.0.113.11"),
		     "f.conf:2: alias 203.0.113.11 is already pinned to "
		     "192.0.2.11 (at line 1)");
	expect_error(LINES("pin 192.0.2.x 203.0.113.11"),
		     "f.conf:1: invalid client address '192.0.2.x'");
	expect_error(LINES("pin 192.0.2.0/24 203.0.113.11"),
		     "f.conf:1: invalid client address '192.0.2.0/24'");
	expect_error(LINES("pin 192.0.2.1 203.0.113.11-203.0.113.12"),
		     "f.conf:1: invalid alias address "
		     "'203.0.113.11-203.0.113.12'");
	expect_error(LINES("pin 192.0.2.1 0.0.0.0"),
		     "f.conf:1: alias 0.0.0.0 is not usable");
}

static void test_pin_other_file(void **state)
{
	struct fx *f = *state;

	assert_int_equal(config_line(&f->c, "a.conf", 4,
				     "pin 192.0.2.11 203.0.113.11", &f->e), 0);
	assert_int_equal(config_line(&f->c, "b.conf", 9,
				     "pin 192.0.2.11 203.0.113.12", &f->e),
			 -EINVAL);
	assert_string_equal(f->e.msg[0], "b.conf:9: client 192.0.2.11 is "
			    "already pinned (first at a.conf:4)");
}

static void test_many_files(void **state)
{
	struct fx *f = *state;
	char name[32], line[64];
	unsigned i;

	/* more file names than the config keeps: messages still work */
	for (i = 0; i < CONFIG_MAX_FILES; i++) {
		snprintf(name, sizeof(name), "f%u.conf", i);
		snprintf(line, sizeof(line), "pin 192.0.2.%u 203.0.113.%u",
			 i + 1, i + 1);
		assert_int_equal(config_line(&f->c, name, 1, line, &f->e), 0);
	}
	assert_int_equal(config_line(&f->c, "last.conf", 7,
				     "pin 10.0.0.1 203.0.113.100", &f->e), 0);
	assert_int_equal(config_line(&f->c, "last.conf", 8,
				     "inside 192.0.2.0/24", &f->e), 0);
	assert_int_equal(config_line(&f->c, "f3.conf", 2, "cpu 4 0", &f->e),
			 0);
	assert_int_equal(config_finish(&f->c, "main.conf", &f->e), -EINVAL);
	assert_int_equal(f->e.n, 2);
	assert_string_equal(f->e.msg[0], "main.conf: pin 10.0.0.1 "
			    "203.0.113.100: client is not inside any 'inside' "
			    "network");
	assert_string_equal(f->e.msg[1], "f3.conf:2: cpu 4 0: queue 4 is not "
			    "in 'queues'");
}

/* --- queues and cpus -------------------------------------------------- */

static void test_queues(void **state)
{
	struct fx *f = *state;

	assert_int_equal(parse(f, LINES("queues 7,0-3,2,65535")), 0);
	assert_int_equal(f->c.n_queues, 6);
	assert_int_equal(f->c.queues[0], 0);
	assert_int_equal(f->c.queues[1], 1);
	assert_int_equal(f->c.queues[2], 2);
	assert_int_equal(f->c.queues[3], 3);
	assert_int_equal(f->c.queues[4], 7);
	assert_int_equal(f->c.queues[5], 65535);

	expect_ok("queues 5");
	expect_ok("queues 0-63");
	expect_ok("queues 100-163");
	expect_ok("queues 3-3");
	expect_error(LINES("queues 0-64"),
		     "f.conf:1: too many queues (at most 64)");
	expect_error(LINES("queues 0-65535"),
		     "f.conf:1: too many queues (at most 64)");
	expect_error(LINES("queues 3-1"),
		     "f.conf:1: reversed queue range 3-1");
	expect_error(LINES("queues 65536"),
		     "f.conf:1: queue numbers must be 0 to 65535 in '65536'");
	expect_error(LINES("queues 1-99999999999999999999"),
		     "f.conf:1: queue numbers must be 0 to 65535 in "
		     "'1-99999999999999999999'");
	expect_error(LINES("queues 0,,1"),
		     "f.conf:1: invalid queue list '0,,1' (N or N-M, "
		     "comma-separated)");
	expect_error(LINES("queues 1,"),
		     "f.conf:1: invalid queue list '1,' (N or N-M, "
		     "comma-separated)");
	expect_error(LINES("queues a"),
		     "f.conf:1: invalid queue list 'a' (N or N-M, "
		     "comma-separated)");
	expect_error(LINES("queues -1"),
		     "f.conf:1: invalid queue list '-1' (N or N-M, "
		     "comma-separated)");
	expect_error(LINES("queues 1-2-3"),
		     "f.conf:1: invalid queue list '1-2-3' (N or N-M, "
		     "comma-separated)");
	expect_error(LINES("queues 0", "queues 1"),
		     "f.conf:2: duplicate 'queues' (first at line 1)");
}

static void test_cpu(void **state)
{
	struct fx *f = *state;

	/* cpu before queues is fine: finish maps them */
	assert_int_equal(parse(f, LINES("inside 192.0.2.0/24",
					"alias 203.0.113.1",
					"cpu 5 3",
					"cpu 2 1023",
					"queues 2,4-5")), 0);
	assert_int_equal(config_finish(&f->c, "f.conf", &f->e), 0);
	assert_int_equal(f->e.n, 0);
	assert_int_equal(f->c.n_queues, 3);
	assert_int_equal(f->c.cpu[0], 1023);	/* queue 2 */
	assert_int_equal(f->c.cpu[1], -1);	/* queue 4 */
	assert_int_equal(f->c.cpu[2], 3);	/* queue 5 */
	assert_int_equal(f->c.cpu[3], -1);

	expect_error(LINES("cpu 0 1024"),
		     "f.conf:1: the CPU in 'cpu' must be 0 to 1023, not 1024");
	expect_error(LINES("cpu 65536 0"),
		     "f.conf:1: the queue in 'cpu' must be 0 to 65535, not "
		     "65536");
	expect_error(LINES("cpu x 0"),
		     "f.conf:1: invalid number 'x' for the queue in 'cpu'");
	expect_error(LINES("cpu 0 -1"),
		     "f.conf:1: invalid number '-1' for the CPU in 'cpu'");
	expect_error(LINES("cpu 1 0", "cpu 1 2"),
		     "f.conf:2: duplicate 'cpu 1' (first at line 1)");
}

static void test_cpu_default_queue(void **state)
{
	struct fx *f = *state;

	assert_int_equal(parse(f, LINES("inside 192.0.2.0/24",
					"alias 203.0.113.1",
					"cpu 0 2")), 0);
	assert_int_equal(config_finish(&f->c, "f.conf", &f->e), 0);
	assert_int_equal(f->c.n_queues, 1);
	assert_int_equal(f->c.cpu[0], 2);
}

static void test_cpu_unknown_queue(void **state)
{
	struct fx *f = *state;

	assert_int_equal(parse(f, LINES("inside 192.0.2.0/24",
					"alias 203.0.113.1",
					"queues 0-1",
					"cpu 1 1",
					"cpu 9 0")), 0);
	assert_int_equal(config_finish(&f->c, "f.conf", &f->e), -EINVAL);
	assert_int_equal(f->e.n, 1);
	assert_string_equal(f->e.msg[0], "f.conf:5: cpu 9 0: queue 9 is not in "
			    "'queues'");
	assert_int_equal(f->c.cpu[1], 1);
}

/* --- marks -------------------------------------------------------------- */

static void test_mark_global(void **state)
{
	struct fx *f = *state;

	assert_int_equal(parse(f, LINES("mark 0x100/0xff00")), 0);
	assert_true(f->c.mark.set);
	assert_int_equal(f->c.mark.value, 0x100);
	assert_int_equal(f->c.mark.mask, 0xff00);

	config_init(&f->c);
	assert_int_equal(parse(f, LINES("mark 4294967295")), 0);
	assert_int_equal(f->c.mark.value, 0xffffffff);
	assert_int_equal(f->c.mark.mask, 0xffffffff);

	config_init(&f->c);
	assert_int_equal(parse(f, LINES("mark 0/0XF")), 0);
	assert_true(f->c.mark.set);
	assert_int_equal(f->c.mark.value, 0);
	assert_int_equal(f->c.mark.mask, 0xf);

	config_init(&f->c);
	assert_int_equal(parse(f, LINES("mark 16/240")), 0);
	assert_int_equal(f->c.mark.value, 16);
	assert_int_equal(f->c.mark.mask, 240);

	expect_error(LINES("mark 0x1ff/0xff"),
		     "f.conf:1: mark value 0x1ff has bits outside mask 0xff");
	expect_error(LINES("mark 1/0"),
		     "f.conf:1: mark mask must not be 0 in '1/0'");
	expect_error(LINES("mark 0x100000000"),
		     "f.conf:1: mark '0x100000000' does not fit in 32 bits");
	expect_error(LINES("mark 4294967296"),
		     "f.conf:1: mark '4294967296' does not fit in 32 bits");
	expect_error(LINES("mark 1/0x1ffffffff"),
		     "f.conf:1: mark '1/0x1ffffffff' does not fit in 32 bits");
	expect_error(LINES("mark 0x"),
		     "f.conf:1: invalid mark '0x' (VALUE[/MASK], decimal or "
		     "0x hex)");
	expect_error(LINES("mark 0xg"),
		     "f.conf:1: invalid mark '0xg' (VALUE[/MASK], decimal or "
		     "0x hex)");
	expect_error(LINES("mark 1/"),
		     "f.conf:1: invalid mark '1/' (VALUE[/MASK], decimal or "
		     "0x hex)");
	expect_error(LINES("mark -1"),
		     "f.conf:1: invalid mark '-1' (VALUE[/MASK], decimal or "
		     "0x hex)");
	expect_error(LINES("mark 1/2/3"),
		     "f.conf:1: invalid mark '1/2/3' (VALUE[/MASK], decimal or "
		     "0x hex)");
	expect_error(LINES("mark 1", "mark client 192.0.2.0/24 2", "mark 3"),
		     "f.conf:3: duplicate 'mark' (first at line 1)");
}

static void test_mark_rules(void **state)
{
	struct fx *f = *state;

	assert_int_equal(parse(f, LINES(
		"mark client 192.0.2.0/28 0x4000/0xf000",
		"mark server 203.0.113.200/29 0x300",
		"mark alias 203.0.113.2 0x20/0xf0")), 0);
	assert_int_equal(f->c.n_marks, 3);
	assert_int_equal(f->c.marks[0].scope, MARK_SCOPE_CLIENT);
	assert_int_equal(f->c.marks[0].net.addr, IP(192, 0, 2, 0));
	assert_int_equal(f->c.marks[0].net.mask, 0xfffffff0);
	assert_true(f->c.marks[0].mark.set);
	assert_int_equal(f->c.marks[0].mark.value, 0x4000);
	assert_int_equal(f->c.marks[0].mark.mask, 0xf000);
	assert_int_equal(f->c.marks[1].scope, MARK_SCOPE_SERVER);
	assert_int_equal(f->c.marks[1].mark.mask, 0xffffffff);
	assert_int_equal(f->c.marks[2].scope, MARK_SCOPE_ALIAS);
	assert_int_equal(f->c.marks[2].net.addr, IP(203, 0, 113, 2));
	assert_int_equal(f->c.marks[2].net.mask, 0xffffffff);
	assert_false(f->c.mark.set);

	expect_error(LINES("mark peer 192.0.2.1 1"),
		     "f.conf:1: unknown mark scope 'peer' (client, server or "
		     "alias)");
	expect_error(LINES("mark client 1"),
		     "f.conf:1: wrong number of arguments to 'mark' "
		     "(expected: mark VALUE[/MASK] or mark client|server|alias "
		     "ADDR VALUE[/MASK])");
	expect_error(LINES("mark client 192.0.2.0/24 1 2"),
		     "f.conf:1: wrong number of arguments to 'mark' "
		     "(expected: mark VALUE[/MASK] or mark client|server|alias "
		     "ADDR VALUE[/MASK])");
	expect_error(LINES("mark client 192.0.2.1/24 1"),
		     "f.conf:1: host bits set in 192.0.2.1/24");
	expect_error(LINES("mark alias 203.0.113.0/24 1"),
		     "f.conf:1: invalid alias address '203.0.113.0/24'");
	expect_error(LINES("mark server 203.0.113.1 0xf0/0xf"),
		     "f.conf:1: mark value 0xf0 has bits outside mask 0xf");
	/* rules are repeatable, even for the same network */
	expect_ok("mark client 192.0.2.0/24 1");
}

static void test_mark_too_many(void **state)
{
	struct fx *f = *state;
	char line[64];
	unsigned i;

	for (i = 0; i < CONFIG_MAX_MARKS; i++) {
		snprintf(line, sizeof(line), "mark alias 203.0.113.%u %u",
			 i, i);
		assert_int_equal(config_line(&f->c, "f.conf", i + 1, line,
					     &f->e), 0);
	}
	assert_int_equal(config_line(&f->c, "f.conf", 999,
				     "mark client 192.0.2.1 1", &f->e),
			 -EINVAL);
	assert_string_equal(f->e.msg[0], "f.conf:999: too many mark rules (at "
			    "most 256)");
}

static void test_mark_precedence(void **state)
{
	struct fx *f = *state;
	struct mark m;

	/* nothing configured */
	m = config_mark_for(&f->c, IP(192, 0, 2, 5), IP(203, 0, 113, 201),
			    IP(203, 0, 113, 2));
	assert_false(m.set);

	assert_int_equal(parse(f, LINES(
		"mark alias 203.0.113.2 0x20/0xf0",
		"mark server 203.0.113.200/29 0x300/0xf00",
		"mark 0x1/0xf",
		"mark client 192.0.2.0/28 0x4000/0xf000",
		"mark client 192.0.2.0/24 0x5000/0xf000",
		"mark server 203.0.113.0/24 0x600/0xf00")), 0);

	/* client rule beats everything else */
	m = config_mark_for(&f->c, IP(192, 0, 2, 5), IP(203, 0, 113, 201),
			    IP(203, 0, 113, 2));
	assert_true(m.set);
	assert_int_equal(m.value, 0x4000);
	assert_int_equal(m.mask, 0xf000);
	/* first matching client rule in file order */
	m = config_mark_for(&f->c, IP(192, 0, 2, 100), IP(203, 0, 113, 201),
			    IP(203, 0, 113, 2));
	assert_int_equal(m.value, 0x5000);
	/* then server, first match */
	m = config_mark_for(&f->c, IP(10, 0, 0, 1), IP(203, 0, 113, 201),
			    IP(203, 0, 113, 2));
	assert_int_equal(m.value, 0x300);
	assert_int_equal(m.mask, 0xf00);
	m = config_mark_for(&f->c, IP(10, 0, 0, 1), IP(203, 0, 113, 9),
			    IP(203, 0, 113, 2));
	assert_int_equal(m.value, 0x600);
	/* then alias */
	m = config_mark_for(&f->c, IP(10, 0, 0, 1), IP(198, 51, 100, 1),
			    IP(203, 0, 113, 2));
	assert_int_equal(m.value, 0x20);
	assert_int_equal(m.mask, 0xf0);
	/* then the global mark */
	m = config_mark_for(&f->c, IP(10, 0, 0, 1), IP(198, 51, 100, 1),
			    IP(203, 0, 113, 3));
	assert_true(m.set);
	assert_int_equal(m.value, 0x1);
	assert_int_equal(m.mask, 0xf);
}

/* --- timeouts and numbers ----------------------------------------------- */

static void test_timeout(void **state)
{
	struct fx *f = *state;

	assert_int_equal(parse(f, LINES("timeout ike 2h",
					"timeout esp 90",
					"timeout pending 45s",
					"timeout nat-t 10m")), 0);
	assert_int_equal(f->c.timeout_ike, 7200);
	assert_int_equal(f->c.timeout_esp, 90);
	assert_int_equal(f->c.timeout_pending, 45);
	assert_int_equal(f->c.timeout_natt, 600);

	config_init(&f->c);
	assert_int_equal(parse(f, LINES("timeout ike 30d",
					"timeout esp 1",
					"timeout pending 2592000",
					"timeout nat-t 1d")), 0);
	assert_int_equal(f->c.timeout_ike, 2592000);
	assert_int_equal(f->c.timeout_esp, 1);
	assert_int_equal(f->c.timeout_pending, 2592000);
	assert_int_equal(f->c.timeout_natt, 86400);

	expect_error(LINES("timeout ike 0"),
		     "f.conf:1: 'timeout ike' must be 1s to 30d, not 0");
	expect_error(LINES("timeout esp 0m"),
		     "f.conf:1: 'timeout esp' must be 1s to 30d, not 0m");
	expect_error(LINES("timeout esp 31d"),
		     "f.conf:1: 'timeout esp' must be 1s to 30d, not 31d");
	expect_error(LINES("timeout esp 2592001"),
		     "f.conf:1: 'timeout esp' must be 1s to 30d, not 2592001");
	expect_error(LINES("timeout esp 721h"),
		     "f.conf:1: 'timeout esp' must be 1s to 30d, not 721h");
	expect_error(LINES("timeout esp 99999999999999999999999d"),
		     "f.conf:1: 'timeout esp' must be 1s to 30d, not "
		     "99999999999999999999999d");
	expect_error(LINES("timeout pending 5x"),
		     "f.conf:1: invalid duration '5x' (seconds, or a number "
		     "followed by s, m, h or d)");
	expect_error(LINES("timeout pending 5mm"),
		     "f.conf:1: invalid duration '5mm' (seconds, or a number "
		     "followed by s, m, h or d)");
	expect_error(LINES("timeout pending m"),
		     "f.conf:1: invalid duration 'm' (seconds, or a number "
		     "followed by s, m, h or d)");
	expect_error(LINES("timeout pending 5M"),
		     "f.conf:1: invalid duration '5M' (seconds, or a number "
		     "followed by s, m, h or d)");
	expect_error(LINES("timeout pending -5"),
		     "f.conf:1: invalid duration '-5' (seconds, or a number "
		     "followed by s, m, h or d)");
	expect_error(LINES("timeout natt 5"),
		     "f.conf:1: unknown timeout 'natt' (ike, esp, pending, "
		     "nat-t or gateway)");
	expect_error(LINES("timeout ike 1h", "timeout esp 1h",
			   "timeout ike 2h"),
		     "f.conf:3: duplicate 'timeout ike' (first at line 1)");
	expect_error(LINES("timeout nat-t 1h", "timeout nat-t 1h"),
		     "f.conf:2: duplicate 'timeout nat-t' (first at line 1)");
}

static void test_numbers(void **state)
{
	struct fx *f = *state;

	assert_int_equal(parse(f, LINES("max-sessions 16777216",
					"queue-maxlen 1048576",
					"batch 1024")), 0);
	assert_int_equal(f->c.max_sessions, 16777216);
	assert_int_equal(f->c.queue_maxlen, 1048576);
	assert_int_equal(f->c.batch, 1024);

	config_init(&f->c);
	assert_int_equal(parse(f, LINES("max-sessions 1", "queue-maxlen 1",
					"batch 001")), 0);
	assert_int_equal(f->c.max_sessions, 1);
	assert_int_equal(f->c.queue_maxlen, 1);
	assert_int_equal(f->c.batch, 1);

	expect_error(LINES("max-sessions 0"),
		     "f.conf:1: 'max-sessions' must be 1 to 16777216, not 0");
	expect_error(LINES("max-sessions 16777217"),
		     "f.conf:1: 'max-sessions' must be 1 to 16777216, not "
		     "16777217");
	expect_error(LINES("max-sessions 184467440737095516160"),
		     "f.conf:1: 'max-sessions' must be 1 to 16777216, not "
		     "184467440737095516160");
	expect_error(LINES("max-sessions -1"),
		     "f.conf:1: invalid number '-1' for 'max-sessions'");
	expect_error(LINES("max-sessions +5"),
		     "f.conf:1: invalid number '+5' for 'max-sessions'");
	expect_error(LINES("max-sessions 0x10"),
		     "f.conf:1: invalid number '0x10' for 'max-sessions'");
	expect_error(LINES("max-sessions 64k"),
		     "f.conf:1: invalid number '64k' for 'max-sessions'");
	expect_error(LINES("queue-maxlen 0"),
		     "f.conf:1: 'queue-maxlen' must be 1 to 1048576, not 0");
	expect_error(LINES("queue-maxlen 1048577"),
		     "f.conf:1: 'queue-maxlen' must be 1 to 1048576, not "
		     "1048577");
	expect_error(LINES("batch 0"),
		     "f.conf:1: 'batch' must be 1 to 1024, not 0");
	expect_error(LINES("batch 1025"),
		     "f.conf:1: 'batch' must be 1 to 1024, not 1025");
	expect_error(LINES("batch ten"),
		     "f.conf:1: invalid number 'ten' for 'batch'");
	expect_error(LINES("batch 1", "batch 1"),
		     "f.conf:2: duplicate 'batch' (first at line 1)");
	expect_error(LINES("max-sessions 9", "max-sessions 9"),
		     "f.conf:2: duplicate 'max-sessions' (first at line 1)");
	expect_error(LINES("queue-maxlen 9", "queue-maxlen 9"),
		     "f.conf:2: duplicate 'queue-maxlen' (first at line 1)");
}

static void test_rcvbuf(void **state)
{
	struct fx *f = *state;
	static const struct {
		const char *s;
		uint32_t v;
	} ok[] = {
		{ "rcvbuf 64k", 65536 },
		{ "rcvbuf 65536", 65536 },
		{ "rcvbuf 1g", 1073741824 },
		{ "rcvbuf 1G", 1073741824 },
		{ "rcvbuf 1024m", 1073741824 },
		{ "rcvbuf 8M", 8388608 },
		{ "rcvbuf 100K", 102400 },
		{ "rcvbuf 1073741824", 1073741824 },
	};
	unsigned i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		config_init(&f->c);
		assert_int_equal(config_line(&f->c, "f.conf", 1, ok[i].s,
					     &f->e), 0);
		assert_int_equal(f->c.rcvbuf, ok[i].v);
	}
	assert_int_equal(f->e.n, 0);

	expect_error(LINES("rcvbuf 65535"),
		     "f.conf:1: 'rcvbuf' must be auto or 64k to 1g, "
		     "not 65535");
	expect_error(LINES("rcvbuf 63k"),
		     "f.conf:1: 'rcvbuf' must be auto or 64k to 1g, "
		     "not 63k");
	expect_error(LINES("rcvbuf 1025m"),
		     "f.conf:1: 'rcvbuf' must be auto or 64k to 1g, "
		     "not 1025m");
	expect_error(LINES("rcvbuf 2g"),
		     "f.conf:1: 'rcvbuf' must be auto or 64k to 1g, "
		     "not 2g");
	expect_error(LINES("rcvbuf 99999999999999999999g"),
		     "f.conf:1: 'rcvbuf' must be auto or 64k to 1g, "
		     "not 99999999999999999999g");
	expect_error(LINES("rcvbuf 8x"),
		     "f.conf:1: invalid size '8x' (auto, bytes, or a number "
		     "followed by k, m or g)");
	expect_error(LINES("rcvbuf k"),
		     "f.conf:1: invalid size 'k' (auto, bytes, or a number "
		     "followed by k, m or g)");
	expect_error(LINES("rcvbuf 8mb"),
		     "f.conf:1: invalid size '8mb' (auto, bytes, or a number "
		     "followed by k, m or g)");
	expect_error(LINES("rcvbuf Auto"),
		     "f.conf:1: invalid size 'Auto' (auto, bytes, or a number "
		     "followed by k, m or g)");
	expect_error(LINES("rcvbuf 1m", "rcvbuf 2m"),
		     "f.conf:2: duplicate 'rcvbuf' (first at line 1)");
}

/* rcvbuf auto: 2 KiB a packet of queue-maxlen, 8m to 1g; written, as is */
static void test_rcvbuf_auto(void **state)
{
	struct fx *f = *state;
	static const struct {
		const char *maxlen, *rcvbuf;
		uint32_t v;
	} c[] = {
		{ NULL, "rcvbuf auto", 8u << 20 },
		{ "queue-maxlen 1", NULL, 8u << 20 },
		{ "queue-maxlen 4096", NULL, 8u << 20 },
		{ "queue-maxlen 4097", NULL, (8u << 20) + 2048 },
		{ "queue-maxlen 16384", "rcvbuf auto", 32u << 20 },
		{ "queue-maxlen 524288", NULL, 1u << 30 },
		{ "queue-maxlen 1048576", NULL, 1u << 30 },
		{ "queue-maxlen 16384", "rcvbuf 4m", 4u << 20 },
		{ "queue-maxlen 64", "rcvbuf 64k", 64u << 10 },
	};
	unsigned i;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		config_init(&f->c);
		if (c[i].maxlen)
			assert_int_equal(config_line(&f->c, "f.conf", 1,
						     c[i].maxlen, &f->e), 0);
		if (c[i].rcvbuf)
			assert_int_equal(config_line(&f->c, "f.conf", 2,
						     c[i].rcvbuf, &f->e), 0);
		assert_int_equal(config_rcvbuf(&f->c), c[i].v);
	}
	assert_int_equal(f->e.n, 0);
}

/* --- paths and policy ----------------------------------------------------- */

static void test_paths(void **state)
{
	struct fx *f = *state;
	char line[CONFIG_SUN_PATH_MAX + 32], msg[CONFIG_ERR_LEN];

	assert_int_equal(parse(f, LINES("control /tmp/x.sock",
					"state /var/lib/espmasq/sessions")), 0);
	assert_string_equal(f->c.control, "/tmp/x.sock");
	assert_string_equal(f->c.state, "/var/lib/espmasq/sessions");

	/* 107 characters fit sun_path, 108 do not */
	strcpy(line, "control /");
	memset(line + 9, 'a', CONFIG_SUN_PATH_MAX - 2);
	line[9 + CONFIG_SUN_PATH_MAX - 2] = '\0';
	expect_ok(line);
	strcat(line, "b");
	expect_error((const char *const[]){ line, NULL },
		     "f.conf:1: control socket path is too long (at most 107 "
		     "characters)");

	expect_error(LINES("control run/espmasq.sock"),
		     "f.conf:1: control socket path 'run/espmasq.sock' is not "
		     "absolute");
	expect_error(LINES("control /a", "control /b"),
		     "f.conf:2: duplicate 'control' (first at line 1)");
	expect_error(LINES("state sessions"),
		     "f.conf:1: state path 'sessions' is not absolute");
	expect_error(LINES("state /a", "state /b"),
		     "f.conf:2: duplicate 'state' (first at line 1)");
	{
		char big[CONFIG_PATH_MAX + 16];

		strcpy(big, "state /");
		memset(big + 7, 's', CONFIG_PATH_MAX - 1);
		big[7 + CONFIG_PATH_MAX - 1] = '\0';
		snprintf(msg, sizeof(msg), "f.conf:1: state path is too long "
			 "(at most %d characters)", CONFIG_PATH_MAX - 1);
		expect_error((const char *const[]){ big, NULL }, msg);
		big[7 + CONFIG_PATH_MAX - 2] = '\0';
		expect_ok(big);
	}
}

static void test_fail_policy(void **state)
{
	struct fx *f = *state;

	assert_int_equal(parse(f, LINES("fail-policy bypass")), 0);
	assert_int_equal(f->c.fail_policy, FAIL_POLICY_BYPASS);
	config_init(&f->c);
	assert_int_equal(parse(f, LINES("fail-policy drop")), 0);
	assert_int_equal(f->c.fail_policy, FAIL_POLICY_DROP);

	expect_error(LINES("fail-policy accept"),
		     "f.conf:1: unknown fail-policy 'accept' (drop or bypass)");
	expect_error(LINES("fail-policy drop", "fail-policy bypass"),
		     "f.conf:2: duplicate 'fail-policy' (first at line 1)");
}

/* finish() on @lines; the errors are in f->e. */
static int parse_finish(struct fx *f, const char *const *lines)
{
	assert_int_equal(parse(f, lines), 0);
	return config_finish(&f->c, "f.conf", &f->e);
}

static void test_mode_gateway(void **state)
{
	struct fx *f = *state;

	assert_int_equal(f->c.mode, MODE_MASQUERADE);
	assert_int_equal(f->c.gateway_mask, 0xffffffffu);
	assert_int_equal(f->c.timeout_gateway, 300);
	/* no inside, alias or pin needed */
	assert_int_equal(parse_finish(f, LINES("mode gateway",
		"gateway-mark 0xff00", "timeout gateway 2m",
		"gateway-service tcp 8080", "gateway-service udp 53",
		"queues 0-1", "cpu 1 1")), 0);
	assert_int_equal(f->e.n, 0);
	assert_int_equal(f->c.mode, MODE_GATEWAY);
	assert_int_equal(f->c.gateway_mask, 0xff00);
	assert_int_equal(f->c.timeout_gateway, 120);
	assert_int_equal(f->c.n_services, 2);
	assert_int_equal(f->c.services[0].proto, 6);
	assert_int_equal(f->c.services[0].port, 8080);
	assert_int_equal(f->c.services[1].proto, 17);
	assert_int_equal(f->c.services[1].port, 53);
	assert_int_equal(f->c.cpu[1], 1);

	expect_error(LINES("mode router"),
		     "f.conf:1: unknown mode 'router' (masquerade or gateway)");
	expect_error(LINES("mode gateway", "mode masquerade"),
		     "f.conf:2: duplicate 'mode' (first at line 1)");
	expect_error(LINES("gateway-mark 0"),
		     "f.conf:1: 'gateway-mark' must have at least one bit "
		     "set");
	expect_error(LINES("gateway-mark 0xff/0xff"),
		     "f.conf:1: 'gateway-mark' takes one MASK (the bits of "
		     "the mark that name an SA), not VALUE/MASK");
	expect_error(LINES("gateway-service sctp 9"),
		     "f.conf:1: unknown protocol 'sctp' in 'gateway-service' "
		     "(udp or tcp)");
	expect_error(LINES("gateway-service udp 0"),
		     "f.conf:1: the port of 'gateway-service' must be 1 to "
		     "65535, not 0");
	expect_error(LINES("gateway-service udp 1701"),
		     "f.conf:1: 'gateway-service udp 1701' is L2TP, which "
		     "gateway mode always handles");
	expect_error(LINES("gateway-service tcp 80", "gateway-service tcp 80"),
		     "f.conf:2: duplicate 'gateway-service tcp 80'");
	expect_error(LINES("timeout gateway 0"),
		     "f.conf:1: 'timeout gateway' must be 1s to 30d, not 0");
}

/* A file written for one mode is refused in the other, line by line. */
static void test_mode_mismatch(void **state)
{
	struct fx *f = *state;

	assert_int_equal(parse_finish(f, LINES("mode gateway",
		"inside 192.0.2.0/24", "alias 203.0.113.11",
		"natt-ports 40000-40999", "state /var/lib/espmasq/s",
		"mark 0x100")), -EINVAL);
	assert_int_equal(f->e.n, 4);
	assert_string_equal(f->e.msg[0], "f.conf: 'inside' has no meaning "
			    "in mode gateway");
	assert_string_equal(f->e.msg[1], "f.conf: 'alias' has no meaning "
			    "in mode gateway");
	assert_string_equal(f->e.msg[2], "f.conf: 'mark' has no meaning in "
			    "mode gateway");
	assert_string_equal(f->e.msg[3], "f.conf:4: 'natt-ports' has no "
			    "meaning in mode gateway");
	assert_string_equal(f->c.state, "/var/lib/espmasq/s");

	config_init(&f->c);
	f->e.n = 0;
	assert_int_equal(parse_finish(f, LINES("inside 192.0.2.0/24",
		"alias 203.0.113.11", "gateway-mark 0xff",
		"gateway-service tcp 22", "timeout gateway 1h")), -EINVAL);
	assert_int_equal(f->e.n, 3);
	assert_string_equal(f->e.msg[0], "f.conf:3: 'gateway-mark' has no "
			    "meaning in mode masquerade");
	assert_string_equal(f->e.msg[1], "f.conf:5: 'timeout gateway' has "
			    "no meaning in mode masquerade");
	assert_string_equal(f->e.msg[2], "f.conf: 'gateway-service' has no "
			    "meaning in mode masquerade");
}

static void test_client_sessions(void **state)
{
	struct fx *f = *state;

	assert_int_equal(f->c.client_sessions, 256);
	assert_int_equal(parse(f, LINES("max-sessions-per-client 4")), 0);
	assert_int_equal(f->c.client_sessions, 4);
	config_init(&f->c);
	assert_int_equal(parse(f, LINES("max-sessions-per-client unlimited")),
			 0);
	assert_int_equal(f->c.client_sessions, 0);
	expect_error(LINES("max-sessions-per-client 0"),
		     "f.conf:1: 'max-sessions-per-client' (or 'unlimited') "
		     "must be 1 to 16777216, not 0");
}

static void test_user_and_group(void **state)
{
	struct fx *f = *state;

	assert_int_equal(parse(f, LINES("user _espmasq", "control-group adm")),
			 0);
	assert_string_equal(f->c.user, "_espmasq");
	assert_string_equal(f->c.control_group, "adm");
	expect_error(LINES("user Root"),
		     "f.conf:1: user 'Root' is not a user name");
	expect_error(LINES("control-group 1x"),
		     "f.conf:1: control-group '1x' is not a group name");
	expect_error(LINES("user abcdefghijklmnopqrstuvwxyz0123456"),
		     "f.conf:1: user name is too long (at most 32 characters)");
	expect_error(LINES("user a", "user b"),
		     "f.conf:2: duplicate 'user' (first at line 1)");
}

static void test_bypass_mark(void **state)
{
	struct fx *f = *state;

	assert_int_equal(f->c.bypass_mark.value, CONFIG_BYPASS_MARK);
	assert_int_equal(f->c.bypass_mark.mask, CONFIG_BYPASS_MARK);
	assert_int_equal(parse(f, LINES("bypass-mark 0x100/0x300")), 0);
	assert_int_equal(f->c.bypass_mark.value, 0x100);
	assert_int_equal(f->c.bypass_mark.mask, 0x300);
	expect_error(LINES("bypass-mark 0x100/0x10"),
		     "f.conf:1: mark value 0x100 has bits outside mask 0x10");
	expect_error(LINES("bypass-mark 1", "bypass-mark 2"),
		     "f.conf:2: duplicate 'bypass-mark' (first at line 1)");
}

/* --- config_finish ------------------------------------------------------- */

/* with fail-policy bypass no other mark espmasqd sets may touch its bits;
 * without it, bypass-mark is not used and nothing is checked */
static void test_bypass_mark_overlap(void **state)
{
	struct fx *f = *state;

	assert_int_equal(parse(f, LINES("inside 192.0.2.0/24",
					"alias 203.0.113.1",
					"mark 0x40000000",
					"mark client 192.0.2.5 0x1/0x40000001",
					"mark server 198.51.100.0/24 0x2/0xff")), 0);
	assert_int_equal(config_finish(&f->c, "f.conf", &f->e), 0);
	assert_int_equal(parse(f, LINES("fail-policy bypass")), 0);
	assert_int_equal(config_finish(&f->c, "f.conf", &f->e), -EINVAL);
	assert_int_equal(f->e.n, 2);
	assert_string_equal(f->e.msg[0], "f.conf: 'mark 0x40000000/0xffffffff'"
			    " overlaps bypass-mark 0x40000000/0x40000000");
	assert_string_equal(f->e.msg[1], "f.conf: mark rule 1 (0x1/0x40000001) "
			    "overlaps bypass-mark 0x40000000/0x40000000");
}

/* offload: auto by default; on, it cannot stand with fail-policy bypass,
 * and its counters must come back well within the shortest timeout */
/* offload_dump_max after @line alone, which must be taken and be auto */
static uint32_t dump_max_of(const char *line)
{
	struct config_errors e = { .n = 0 };
	struct config c;

	config_init(&c);
	assert_int_equal(config_line(&c, "f.conf", 1, line, &e), 0);
	assert_int_equal(c.offload_read, OFFLOAD_READ_AUTO);
	return c.offload_dump_max;
}

static void test_offload(void **state)
{
	struct fx *f = *state;

	assert_int_equal(f->c.offload_mode, OFFLOAD_AUTO);
	assert_int_equal(f->c.offload_scan, 2);
	expect_error(LINES("offload yes"),
		     "f.conf:1: 'offload' takes on, off or auto, not yes");
	expect_error(LINES("offload-scan 0"), "f.conf:1: 'offload-scan' "
		     "(seconds) must be 1 to 60, not 0");
	assert_int_equal(f->c.offload_read, OFFLOAD_READ_AUTO);
	expect_error(LINES("offload-read all"), "f.conf:1: 'offload-read' "
		     "takes auto, dump or each, not all");
	expect_error(LINES("offload-read each", "offload-read dump"),
		     "f.conf:2: duplicate 'offload-read' (first at line 1)");
	/* auto dumps maps of at most 49152 entries unless told */
	assert_int_equal(dump_max_of("offload-read auto"), 49152);
	assert_int_equal(dump_max_of("offload-read auto 0"), 0);
	assert_int_equal(dump_max_of("offload-read auto 1073741824"),
			 1073741824);
	expect_error(LINES("offload-read auto 1073741825"),
		     "f.conf:1: 'offload-read auto' (entries) must be 0 to "
		     "1073741824, not 1073741825");
	expect_error(LINES("offload-read auto many"),
		     "f.conf:1: invalid number 'many' for 'offload-read auto' "
		     "(entries)");
	expect_error(LINES("offload-read each 10"),
		     "f.conf:1: 'offload-read' takes a number of entries "
		     "after auto only, not after each");
	expect_error(LINES("offload-read auto 1 2"),
		     "f.conf:1: wrong number of arguments to 'offload-read' "
		     "(expected: offload-read auto [ENTRIES]|dump|each)");
	assert_int_equal(parse(f, LINES("inside 192.0.2.0/24",
					"alias 203.0.113.1", "offload on",
					"offload-scan 15",
					"offload-read each")), 0);
	assert_int_equal(f->c.offload_mode, OFFLOAD_ON);
	assert_int_equal(f->c.offload_scan, 15);
	assert_int_equal(f->c.offload_read, OFFLOAD_READ_EACH);
	/* the default pending timeout is 30 s */
	assert_int_equal(config_finish(&f->c, "f.conf", &f->e), 0);
	assert_true(f->c.offload);
	assert_int_equal(parse(f, LINES("timeout pending 29s",
					"fail-policy bypass")), 0);
	assert_int_equal(config_finish(&f->c, "f.conf", &f->e), -EINVAL);
	assert_int_equal(f->e.n, 2);
	assert_string_equal(f->e.msg[0], "f.conf: 'offload on' does not work "
			    "with fail-policy bypass (not implemented)");
	assert_string_equal(f->e.msg[1], "f.conf: 'offload-scan 15' must be "
			    "at most half the shortest ESP, IKE or pending "
			    "timeout (29 s)");
}

/* what 'offload off' and 'offload auto' (the default, no line) come to */
static const struct {
	const char *l1, *l2;		/* after inside and alias; NULL: none */
	bool offload;
	uint32_t scan;
	const char *why;		/* NULL: on */
} offload_cases[] = {
	{ NULL, NULL, true, 2, NULL },
	{ "offload auto", NULL, true, 2, NULL },
	{ "offload off", NULL, false, 2, "offload off" },
	{ "fail-policy bypass", NULL, false, 2, "fail-policy bypass" },
	{ "offload off", "fail-policy bypass", false, 2, "offload off" },
	/* the counters read at half the shortest timeout, at most */
	{ "timeout esp 3s", NULL, true, 1, NULL },
	{ "timeout ike 5s", NULL, true, 2, NULL },
	{ "timeout pending 2s", NULL, true, 1, NULL },
	{ "timeout nat-t 1s", NULL, false, 2, "a timeout under 2 s" },
	/* an offload-scan written is kept, and checked as with on */
	{ "offload-scan 4", NULL, true, 4, NULL },
	{ "offload-scan 4", "fail-policy bypass", false, 4,
	  "fail-policy bypass" },
};

static void test_offload_auto(void **state)
{
	struct fx *f = *state;
	size_t i;

	for (i = 0; i < sizeof(offload_cases) / sizeof(offload_cases[0]);
	     i++) {
		const char *lines[5] = { "inside 192.0.2.0/24",
					 "alias 203.0.113.1",
					 offload_cases[i].l1,
					 offload_cases[i].l1 ?
					 offload_cases[i].l2 : NULL, NULL };

		config_init(&f->c);
		f->e.n = 0;
		assert_int_equal(parse(f, lines), 0);
		assert_int_equal(config_finish(&f->c, "f.conf", &f->e), 0);
		assert_int_equal(f->e.n, 0);
		if (f->c.offload != offload_cases[i].offload ||
		    f->c.offload_scan != offload_cases[i].scan)
			fail_msg("case %zu (%s): offload %d scan %u", i,
				 offload_cases[i].l1 ? offload_cases[i].l1 :
				 "-", f->c.offload, f->c.offload_scan);
		if (offload_cases[i].why)
			assert_string_equal(f->c.offload_why,
					    offload_cases[i].why);
		else
			assert_null(f->c.offload_why);
	}
	/* a scan too slow for a timeout is an error with auto too */
	config_init(&f->c);
	f->e.n = 0;
	assert_int_equal(parse(f, LINES("inside 192.0.2.0/24",
					"alias 203.0.113.1", "offload-scan 4",
					"timeout esp 7s")), 0);
	assert_int_equal(config_finish(&f->c, "f.conf", &f->e), -EINVAL);
	assert_int_equal(f->e.n, 1);
	assert_string_equal(f->e.msg[0], "f.conf: 'offload-scan 4' must be "
			    "at most half the shortest ESP, IKE or pending "
			    "timeout (7 s)");
	/* gateway mode has no offload */
	config_init(&f->c);
	f->e.n = 0;
	assert_int_equal(parse(f, LINES("mode gateway")), 0);
	assert_int_equal(config_finish(&f->c, "f.conf", &f->e), 0);
	assert_false(f->c.offload);
}

/* Not written, the wait between scans follows what they take (ten
 * times), from 2 s to half the shortest timeout; written, it is what it
 * says. */
static void test_offload_wait(void **state)
{
	struct fx *f = *state;

	assert_int_equal(parse(f, LINES("inside 192.0.2.0/24",
					"alias 203.0.113.1")), 0);
	assert_int_equal(config_finish(&f->c, "f.conf", &f->e), 0);
	/* the pending timeout, 30 s by default, is the shortest */
	assert_false(f->c.offload_scan_fixed);
	assert_int_equal(f->c.offload_scan_max, 15);
	assert_int_equal(config_offload_wait_ms(&f->c, 0), 2000);
	assert_int_equal(config_offload_wait_ms(&f->c, 150), 2000);
	assert_int_equal(config_offload_wait_ms(&f->c, 420), 4200);
	assert_int_equal(config_offload_wait_ms(&f->c, 1499), 14990);
	assert_int_equal(config_offload_wait_ms(&f->c, 90000), 15000);
	assert_int_equal(config_offload_wait_ms(&f->c, UINT32_MAX), 15000);

	config_init(&f->c);
	f->e.n = 0;
	assert_int_equal(parse(f, LINES("inside 192.0.2.0/24",
					"alias 203.0.113.1", "offload-scan 4")),
			 0);
	assert_int_equal(config_finish(&f->c, "f.conf", &f->e), 0);
	assert_true(f->c.offload_scan_fixed);
	assert_int_equal(config_offload_wait_ms(&f->c, 0), 4000);
	assert_int_equal(config_offload_wait_ms(&f->c, 90000), 4000);

	/* with a short timeout the default itself is the longest wait */
	config_init(&f->c);
	f->e.n = 0;
	assert_int_equal(parse(f, LINES("inside 192.0.2.0/24",
					"alias 203.0.113.1",
					"timeout esp 3s")), 0);
	assert_int_equal(config_finish(&f->c, "f.conf", &f->e), 0);
	assert_int_equal(f->c.offload_scan, 1);
	assert_int_equal(config_offload_wait_ms(&f->c, 500), 1000);
}

/* the kernel carries IKE liveness checks too: the IKE timeout counts */
static void test_offload_ike_timeout(void **state)
{
	struct fx *f = *state;

	assert_int_equal(parse(f, LINES("inside 192.0.2.0/24",
					"alias 203.0.113.1", "offload on",
					"offload-scan 15", "timeout ike 20s")),
			 0);
	assert_int_equal(config_finish(&f->c, "f.conf", &f->e), -EINVAL);
	assert_int_equal(f->e.n, 1);
	assert_string_equal(f->e.msg[0], "f.conf: 'offload-scan 15' must be "
			    "at most half the shortest ESP, IKE or pending "
			    "timeout (20 s)");
}

static void test_finish_empty(void **state)
{
	struct fx *f = *state;

	assert_int_equal(config_finish(&f->c, "f.conf", &f->e), -EINVAL);
	assert_int_equal(f->e.n, 2);
	assert_string_equal(f->e.msg[0], "f.conf: no 'inside' network (at "
			    "least one is needed)");
	assert_string_equal(f->e.msg[1], "f.conf: no 'alias' or 'pin' (at "
			    "least one is needed)");
}

static void test_finish_pin_only(void **state)
{
	struct fx *f = *state;

	assert_int_equal(parse(f, LINES("inside 192.0.2.0/24",
					"pin 192.0.2.11 203.0.113.11")), 0);
	assert_int_equal(config_finish(&f->c, "f.conf", &f->e), 0);
	assert_int_equal(f->e.n, 0);
}

static void test_finish_alias_inside(void **state)
{
	struct fx *f = *state;

	assert_int_equal(parse(f, LINES("inside 192.0.2.0/24",
					"inside 203.0.113.12",
					"alias 192.0.2.250-192.0.2.255",
					"alias 192.0.3.0",
					"alias 203.0.113.11-203.0.113.13",
					"alias 192.0.2.7")), 0);
	assert_int_equal(config_finish(&f->c, "f.conf", &f->e), -EINVAL);
	assert_int_equal(f->e.n, 3);
	assert_string_equal(f->e.msg[0], "f.conf: alias 192.0.2.7 is inside "
			    "'inside 192.0.2.0/24'");
	assert_string_equal(f->e.msg[1], "f.conf: aliases 192.0.2.250-"
			    "192.0.2.255 are inside 'inside 192.0.2.0/24'");
	assert_string_equal(f->e.msg[2], "f.conf: alias 203.0.113.12 is "
			    "inside 'inside 203.0.113.12/32'");
}

static void test_finish_pins(void **state)
{
	struct fx *f = *state;

	assert_int_equal(parse(f, LINES("inside 192.0.2.0/25",
					"alias 203.0.113.1",
					"pin 192.0.2.11 203.0.113.11",
					"pin 192.0.2.200 203.0.113.12",
					"pin 192.0.2.12 192.0.2.13",
					"pin 198.51.100.1 192.0.2.14")), 0);
	assert_int_equal(config_finish(&f->c, "f.conf", &f->e), -EINVAL);
	assert_int_equal(f->e.n, 4);
	assert_string_equal(f->e.msg[0], "f.conf:4: pin 192.0.2.200 "
			    "203.0.113.12: client is not inside any 'inside' "
			    "network");
	assert_string_equal(f->e.msg[1], "f.conf:5: pin 192.0.2.12 "
			    "192.0.2.13: alias is inside 'inside "
			    "192.0.2.0/25'");
	assert_string_equal(f->e.msg[2], "f.conf:6: pin 198.51.100.1 "
			    "192.0.2.14: client is not inside any 'inside' "
			    "network");
	assert_string_equal(f->e.msg[3], "f.conf:6: pin 198.51.100.1 "
			    "192.0.2.14: alias is inside 'inside "
			    "192.0.2.0/25'");
}

static void test_finish_twice(void **state)
{
	struct fx *f = *state;

	assert_int_equal(parse(f, LINES("inside 192.0.2.0/24",
					"alias 203.0.113.1",
					"queues 3", "cpu 3 1")), 0);
	assert_int_equal(config_finish(&f->c, "f.conf", &f->e), 0);
	assert_int_equal(config_finish(&f->c, "f.conf", &f->e), 0);
	assert_int_equal(f->e.n, 0);
	assert_int_equal(f->c.n_queues, 1);
	assert_int_equal(f->c.queues[0], 3);
	assert_int_equal(f->c.cpu[0], 1);
}

/* --- config_load --------------------------------------------------------- */

static void test_load(void **state)
{
	struct fx *f = *state;
	const char *p;

	p = fx_write(f, "main.conf",
		     "# test\n"
		     "inside 192.0.2.0/24\n"
		     "\n"
		     "alias 203.0.113.1-203.0.113.4\n"
		     "queues 0-1\r\n"
		     "cpu 1 0\n"
		     "fail-policy bypass");	/* no final newline */
	assert_int_equal(config_load(&f->c, p, &f->e), 0);
	assert_int_equal(f->e.n, 0);
	assert_int_equal(f->c.n_inside, 1);
	assert_int_equal(f->c.n_aliases, 4);
	assert_int_equal(f->c.n_queues, 2);
	assert_int_equal(f->c.cpu[0], -1);
	assert_int_equal(f->c.cpu[1], 0);
	assert_int_equal(f->c.fail_policy, FAIL_POLICY_BYPASS);
}

static void test_load_errors_keep_going(void **state)
{
	struct fx *f = *state;
	char want[600];
	const char *p;

	p = fx_write(f, "bad.conf",
		     "inside 192.0.2.1/24\n"
		     "alias 203.0.113.1\n"
		     "batch 0\n"
		     "outside eth0\n"
		     "outside eth1\n");
	assert_int_equal(config_load(&f->c, p, &f->e), -EINVAL);
	assert_int_equal(f->e.n, 4);
	snprintf(want, sizeof(want), "%s:1: host bits set in 192.0.2.1/24", p);
	assert_string_equal(f->e.msg[0], want);
	snprintf(want, sizeof(want), "%s:3: 'batch' must be 1 to 1024, not 0",
		 p);
	assert_string_equal(f->e.msg[1], want);
	snprintf(want, sizeof(want), "%s:5: duplicate 'outside' (first at "
		 "line 4)", p);
	assert_string_equal(f->e.msg[2], want);
	/* finish still runs */
	snprintf(want, sizeof(want), "%s: no 'inside' network (at least one "
		 "is needed)", p);
	assert_string_equal(f->e.msg[3], want);
	assert_string_equal(f->c.outside, "eth0");
}

static void test_load_missing(void **state)
{
	struct fx *f = *state;
	char p[512], want[600];

	fx_path(f, "nope.conf", p, sizeof(p));
	assert_int_equal(config_load(&f->c, p, &f->e), -ENOENT);
	assert_int_equal(f->e.n, 1);
	snprintf(want, sizeof(want), "%s: No such file or directory", p);
	assert_string_equal(f->e.msg[0], want);

	/* a directory is not a config file */
	f->e.n = 0;
	assert_int_equal(config_load(&f->c, fx_dir(f), &f->e), -EISDIR);
	assert_int_equal(f->e.n, 1);
	snprintf(want, sizeof(want), "%s: Is a directory", fx_dir(f));
	assert_string_equal(f->e.msg[0], want);
}

/* a file anyone may write is not trusted, nor is an include like it */
static void test_load_world_writable(void **state)
{
	struct fx *f = *state;
	char p[512], inc[512], want[1200];

	fx_path(f, "open.conf", p, sizeof(p));
	fx_write(f, "open.conf", "inside 192.0.2.0/24\nalias 203.0.113.1\n");
	assert_int_equal(chmod(p, 0666), 0);
	assert_int_equal(config_load(&f->c, p, &f->e), -EPERM);
	assert_int_equal(f->e.n, 1);
	snprintf(want, sizeof(want), "%s: %s is writable by everyone (mode "
		 "0666): refused; chmod o-w it", p, p);
	assert_string_equal(f->e.msg[0], want);

	/* group-writable is the admin's choice */
	assert_int_equal(chmod(p, 0664), 0);
	f->e.n = 0;
	config_init(&f->c);
	assert_int_equal(config_load(&f->c, p, &f->e), 0);

	fx_path(f, "inc.conf", inc, sizeof(inc));
	fx_write(f, "inc.conf", "batch 8\n");
	assert_int_equal(chmod(inc, 0602), 0);
	fx_write(f, "main.conf", "inside 192.0.2.0/24\ninclude inc.conf\n"
		 "alias 203.0.113.1\n");
	fx_path(f, "main.conf", p, sizeof(p));
	config_init(&f->c);
	f->e.n = 0;
	assert_int_equal(config_load(&f->c, p, &f->e), -EINVAL);
	assert_int_equal(f->e.n, 1);
	snprintf(want, sizeof(want), "%s:2: %s is writable by everyone (mode "
		 "0602): refused; chmod o-w it", p, inc);
	assert_string_equal(f->e.msg[0], want);
}

static void test_load_long_line(void **state)
{
	struct fx *f = *state;
	size_t n = 3 * CONFIG_MAX_LINE;
	char *text = malloc(n + 200), want[600];
	const char *p;
	size_t len;

	assert_non_null(text);
	len = (size_t)sprintf(text, "inside 192.0.2.0/24\n");
	memset(text + len, 'x', n);
	len += n;
	len += (size_t)sprintf(text + len, "\nalias 203.0.113.1\n"
			       "batch 0\n");
	p = fx_write_n(f, "long.conf", text, len);
	free(text);
	assert_int_equal(config_load(&f->c, p, &f->e), -EINVAL);
	assert_int_equal(f->e.n, 2);
	snprintf(want, sizeof(want), "%s:2: line too long (more than 1024 "
		 "characters)", p);
	assert_string_equal(f->e.msg[0], want);
	/* the rest of the file is read, with the right line numbers */
	assert_int_equal(f->c.n_aliases, 1);
	snprintf(want, sizeof(want), "%s:4: 'batch' must be 1 to 1024, not 0",
		 p);
	assert_string_equal(f->e.msg[1], want);
}

static void test_load_max_line(void **state)
{
	struct fx *f = *state;
	char text[CONFIG_MAX_LINE + 64];
	const char *p;
	size_t len;

	/* a line of exactly CONFIG_MAX_LINE characters is fine */
	len = (size_t)sprintf(text, "inside 192.0.2.0/24\nalias 203.0.113.1 #");
	memset(text + len, '-', CONFIG_MAX_LINE - 19);
	len += CONFIG_MAX_LINE - 19;
	text[len++] = '\n';
	p = fx_write_n(f, "max.conf", text, len);
	assert_int_equal(config_load(&f->c, p, &f->e), 0);
	assert_int_equal(f->e.n, 0);
	assert_int_equal(f->c.n_aliases, 1);
}

static void test_load_nul(void **state)
{
	struct fx *f = *state;
	static const char text[] = "inside 192.0.2.0/24\n"
				   "alias 203.0.113.1\0 # hidden\n";
	char want[600];
	const char *p;

	p = fx_write_n(f, "nul.conf", text, sizeof(text) - 1);
	assert_int_equal(config_load(&f->c, p, &f->e), -EINVAL);
	assert_int_equal(f->e.n, 2);
	snprintf(want, sizeof(want), "%s:2: NUL byte in line", p);
	assert_string_equal(f->e.msg[0], want);
}

static void test_load_include(void **state)
{
	struct fx *f = *state;
	char main_p[512], want[1200];

	fx_mkdir(f, "conf.d");
	fx_mkdir(f, "other");
	fx_write(f, "conf.d/pins.conf",
		 "pin 192.0.2.11 203.0.113.11\n"
		 "include ../other/tuning.conf # relative to conf.d\n"
		 "pin 192.0.2.12 203.0.113.12\n");
	fx_write(f, "other/tuning.conf", "batch 32\ntimeout ike 5m\n");
	fx_path(f, "main.conf", main_p, sizeof(main_p));
	fx_write(f, "main.conf",
		 "inside 192.0.2.0/24\n"
		 "include conf.d/pins.conf\n"
		 "alias 203.0.113.1\n");
	assert_int_equal(config_load(&f->c, main_p, &f->e), 0);
	if (f->e.n)
		print_error("%s\n", f->e.msg[0]);
	assert_int_equal(f->e.n, 0);
	assert_int_equal(f->c.n_pins, 2);
	assert_int_equal(f->c.pins[1].line, 3);
	assert_int_equal(f->c.batch, 32);
	assert_int_equal(f->c.timeout_ike, 300);
	assert_int_equal(f->c.n_aliases, 1);

	/* an absolute include works as well */
	config_init(&f->c);
	snprintf(want, sizeof(want), "inside 192.0.2.0/24\n"
		 "include %s/conf.d/pins.conf\n", fx_dir(f));
	fx_write(f, "abs.conf", want);
	assert_int_equal(config_load(&f->c, f->path, &f->e), 0);
	assert_int_equal(f->e.n, 0);
	assert_int_equal(f->c.n_pins, 2);
}

static void test_load_include_errors_name_file(void **state)
{
	struct fx *f = *state;
	char main_p[512], inc_p[512], want[1200];

	fx_path(f, "main.conf", main_p, sizeof(main_p));
	fx_path(f, "inc.conf", inc_p, sizeof(inc_p));
	fx_write(f, "inc.conf",
		 "outside eth1\n"
		 "pin 10.0.0.1 203.0.113.9\n"
		 "bogus\n");
	fx_write(f, "main.conf",
		 "outside eth0\n"
		 "inside 192.0.2.0/24\n"
		 "alias 203.0.113.1\n"
		 "include inc.conf\n"
		 "pin 10.0.0.1 203.0.113.10\n");
	assert_int_equal(config_load(&f->c, main_p, &f->e), -EINVAL);
	assert_int_equal(f->e.n, 4);
	snprintf(want, sizeof(want), "%s:1: duplicate 'outside' (first at "
		 "%s:1)", inc_p, main_p);
	assert_string_equal(f->e.msg[0], want);
	snprintf(want, sizeof(want), "%s:3: unknown directive 'bogus'", inc_p);
	assert_string_equal(f->e.msg[1], want);
	snprintf(want, sizeof(want), "%s:5: client 10.0.0.1 is already pinned "
		 "(first at %s:2)", main_p, inc_p);
	assert_string_equal(f->e.msg[2], want);
	/* finish names the file the pin came from */
	snprintf(want, sizeof(want), "%s:2: pin 10.0.0.1 203.0.113.9: client "
		 "is not inside any 'inside' network", inc_p);
	assert_string_equal(f->e.msg[3], want);
}

static void test_load_include_missing(void **state)
{
	struct fx *f = *state;
	char main_p[512], want[1200];

	fx_path(f, "main.conf", main_p, sizeof(main_p));
	fx_write(f, "main.conf",
		 "inside 192.0.2.0/24\n"
		 "include missing.conf\n"
		 "include\n"
		 "include a.conf b.conf\n"
		 "alias 203.0.113.1\n");
	assert_int_equal(config_load(&f->c, main_p, &f->e), -EINVAL);
	assert_int_equal(f->e.n, 3);
	snprintf(want, sizeof(want), "%s:2: include %s/missing.conf: No such "
		 "file or directory", main_p, fx_dir(f));
	assert_string_equal(f->e.msg[0], want);
	snprintf(want, sizeof(want), "%s:3: wrong number of arguments to "
		 "'include' (expected: include FILE)", main_p);
	assert_string_equal(f->e.msg[1], want);
	snprintf(want, sizeof(want), "%s:4: wrong number of arguments to "
		 "'include' (expected: include FILE)", main_p);
	assert_string_equal(f->e.msg[2], want);
	/* the lines after the failed include were read */
	assert_int_equal(f->c.n_aliases, 1);
}

static void test_load_include_loop(void **state)
{
	struct fx *f = *state;
	char a[512], b[512], want[1200];

	fx_path(f, "a.conf", a, sizeof(a));
	fx_path(f, "b.conf", b, sizeof(b));
	fx_write(f, "a.conf", "inside 192.0.2.0/24\n"
			      "include b.conf\n"
			      "alias 203.0.113.1\n");
	fx_write(f, "b.conf", "batch 5\n"
			      "include ./a.conf\n");
	assert_int_equal(config_load(&f->c, a, &f->e), -EINVAL);
	assert_int_equal(f->e.n, 1);
	snprintf(want, sizeof(want), "%s:2: include %s/./a.conf: include loop "
		 "(the file is already being read)", b, fx_dir(f));
	assert_string_equal(f->e.msg[0], want);
	assert_int_equal(f->c.batch, 5);
	assert_int_equal(f->c.n_inside, 1);
	assert_int_equal(f->c.n_aliases, 1);

	/* a file including itself */
	config_init(&f->c);
	f->e.n = 0;
	fx_write(f, "self.conf", "include self.conf\n");
	assert_int_equal(config_load(&f->c, f->path, &f->e), -EINVAL);
	assert_non_null(strstr(f->e.msg[0], ":1: include "));
	assert_non_null(strstr(f->e.msg[0], "self.conf: include loop"));
}

static void test_load_include_diamond(void **state)
{
	struct fx *f = *state;
	char main_p[512];

	/* the same file twice, but not nested: no loop */
	fx_write(f, "common.conf", "inside 192.0.2.0/24\n");
	fx_write(f, "x.conf", "include common.conf\n");
	fx_path(f, "main.conf", main_p, sizeof(main_p));
	fx_write(f, "main.conf", "include x.conf\n"
				 "include common.conf\n"
				 "alias 203.0.113.1\n");
	assert_int_equal(config_load(&f->c, main_p, &f->e), 0);
	assert_int_equal(f->e.n, 0);
	assert_int_equal(f->c.n_inside, 2);
}

static void test_load_include_depth(void **state)
{
	struct fx *f = *state;
	char name[32], text[64], main_p[512], want[1200];
	unsigned i;

	/* main.conf -> d1 -> ... -> d9: nine levels, one too many */
	for (i = 1; i <= CONFIG_MAX_INCLUDE + 1; i++) {
		snprintf(name, sizeof(name), "d%u.conf", i);
		snprintf(text, sizeof(text), "batch %u\ninclude d%u.conf\n", i,
			 i + 1);
		fx_write(f, name, i == CONFIG_MAX_INCLUDE + 1 ?
			 "max-sessions 9\n" : text);
	}
	fx_path(f, "main.conf", main_p, sizeof(main_p));
	fx_write(f, "main.conf", "inside 192.0.2.0/24\n"
				 "alias 203.0.113.1\n"
				 "include d1.conf\n");
	assert_int_equal(config_load(&f->c, main_p, &f->e), -EINVAL);
	/* d2..d8 repeat `batch` */
	assert_int_equal(f->e.n, CONFIG_MAX_INCLUDE - 1 + 1);
	snprintf(want, sizeof(want), "%s/d%u.conf:2: include d%u.conf: nested "
		 "too deeply (at most %d levels)", fx_dir(f),
		 CONFIG_MAX_INCLUDE, CONFIG_MAX_INCLUDE + 1,
		 CONFIG_MAX_INCLUDE);
	assert_string_equal(f->e.msg[CONFIG_MAX_INCLUDE - 1], want);
	assert_int_equal(f->c.batch, 1);
	assert_int_equal(f->c.max_sessions, 65536);

	/* eight levels are allowed */
	config_init(&f->c);
	f->e.n = 0;
	snprintf(text, sizeof(text), "max-sessions 8\n");
	fx_write(f, "d8.conf", text);
	assert_int_equal(config_load(&f->c, main_p, &f->e), -EINVAL);
	/* only the repeated `batch` lines remain */
	assert_int_equal(f->e.n, CONFIG_MAX_INCLUDE - 2);
	assert_int_equal(f->c.max_sessions, 8);
}

static void test_load_unreadable_include_dir(void **state)
{
	struct fx *f = *state;
	char main_p[512], want[1200];

	fx_mkdir(f, "sub");
	fx_path(f, "main.conf", main_p, sizeof(main_p));
	fx_write(f, "main.conf", "inside 192.0.2.0/24\n"
				 "alias 203.0.113.1\n"
				 "include sub\n");
	assert_int_equal(config_load(&f->c, main_p, &f->e), -EINVAL);
	assert_int_equal(f->e.n, 1);
	snprintf(want, sizeof(want), "%s:3: include %s/sub: Is a directory",
		 main_p, fx_dir(f));
	assert_string_equal(f->e.msg[0], want);
}

/* --- the shipped example ------------------------------------------------- */

static void test_example_conf(void **state)
{
	struct fx *f = *state;
	const char *env = getenv("ESPMASQ_CONF_EXAMPLE");
	const char *path = NULL;
	struct config *one;
	struct config_errors e = { .n = 0 };
	char line[CONFIG_MAX_LINE + 2];
	unsigned i, lineno = 0, optional = 0;
	FILE *fp;

	if (env && env[0] && !access(env, R_OK))
		path = env;
	else if (!access("../../conf/espmasq.conf", R_OK))
		path = "../../conf/espmasq.conf";
	if (!path) {
		print_message("conf/espmasq.conf not found (set "
			      "ESPMASQ_CONF_EXAMPLE); skipped\n");
		skip();
	}

	assert_int_equal(config_load(&f->c, path, &f->e), 0);
	for (i = 0; i < f->e.n && i < CONFIG_ERR_KEEP; i++)
		print_error("%s\n", f->e.msg[i]);
	assert_int_equal(f->e.n, 0);
	assert_true(f->c.n_inside >= 1);
	assert_true(f->c.n_aliases + f->c.n_pins >= 1);
	for (i = 0; i < f->c.n_inside; i++) {
		/* documentation addresses only */
		assert_int_equal(f->c.inside[i].addr & 0xffffff00,
				 IP(192, 0, 2, 0));
	}
	for (i = 0; i < f->c.n_aliases; i++)
		assert_int_equal(f->c.aliases[i] & 0xffffff00,
				 IP(203, 0, 113, 0));
	for (i = 0; i < f->c.n_pins; i++) {
		assert_int_equal(f->c.pins[i].client & 0xffffff00,
				 IP(192, 0, 2, 0));
		assert_int_equal(f->c.pins[i].alias & 0xffffff00,
				 IP(203, 0, 113, 0));
	}

	/*
	 * Optional directives are written "#directive ..." (no space);
	 * each must parse on its own too.
	 */
	one = calloc(1, sizeof(*one));
	assert_non_null(one);
	fp = fopen(path, "r");
	assert_non_null(fp);
	while (fgets(line, sizeof(line), fp)) {
		lineno++;
		if (line[0] != '#' || line[1] < 'a' || line[1] > 'z' ||
		    !strncmp(line, "#include ", 9))
			continue;
		config_init(one);
		if (config_line(one, path, lineno, line + 1, &e))
			print_error("%s\n", e.msg[0]);
		optional++;
	}
	fclose(fp);
	free(one);
	assert_int_equal(e.n, 0);
	assert_true(optional > 0);
}

static void test_sharing(void **state)
{
	struct fx *f = *state;

	/* sharing is on unless limited; NAT-T ports are kept unless asked */
	assert_int_equal(f->c.alias_clients, 0);
	assert_int_equal(f->c.natt_lo, 0);
	assert_int_equal(parse(f, LINES("alias-clients 3",
					"natt-ports 40000-40999")), 0);
	assert_int_equal(f->c.alias_clients, 3);
	assert_int_equal(f->c.natt_lo, 40000);
	assert_int_equal(f->c.natt_hi, 40999);
	expect_ok("alias-clients unlimited");
	expect_ok("natt-ports off");
	expect_ok("natt-ports 4501-4501");
	expect_error(LINES("alias-clients 0"),
		     "f.conf:1: 'alias-clients' (or 'unlimited') must be 1 "
		     "to 65535, not 0");
	expect_error(LINES("natt-ports 40000"),
		     "f.conf:1: 'natt-ports' takes LOW-HIGH or off, not 40000");
	expect_error(LINES("natt-ports 4000-5000"),
		     "f.conf:1: 'natt-ports' 4000-5000 must not contain 4500, "
		     "the port clients keep when they can");
	expect_error(LINES("natt-ports 500-600"),
		     "f.conf:1: the low port of 'natt-ports' must be 1024 to "
		     "65535, not 500");
	expect_error(LINES("natt-ports 41000-40000"),
		     "f.conf:1: 'natt-ports' 41000-40000: the low port is "
		     "above the high one");
	expect_error(LINES("natt-ports 40000-x"),
		     "f.conf:1: invalid number 'x' for the high port of "
		     "'natt-ports'");
	expect_error(LINES("natt-ports off", "natt-ports off"),
		     "f.conf:2: duplicate 'natt-ports' (first at line 1)");
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)
	const struct CMUnitTest tests[] = {
		T(test_defaults),
		T(test_comments_and_blanks),
		T(test_unknown_and_arg_count),
		T(test_errors_accumulate),
		T(test_message_sanitized),
		T(test_long_line),
		T(test_inside),
		T(test_too_many_nets),
		T(test_server),
		T(test_cidr_helpers),
		T(test_outside),
		T(test_alias),
		T(test_alias_errors),
		T(test_pin),
		T(test_pin_other_file),
		T(test_many_files),
		T(test_queues),
		T(test_cpu),
		T(test_cpu_default_queue),
		T(test_cpu_unknown_queue),
		T(test_mark_global),
		T(test_mark_rules),
		T(test_mark_too_many),
		T(test_mark_precedence),
		T(test_timeout),
		T(test_numbers),
		T(test_rcvbuf),
		T(test_rcvbuf_auto),
		T(test_paths),
		T(test_fail_policy),
		T(test_mode_gateway),
		T(test_mode_mismatch),
		T(test_bypass_mark),
		T(test_user_and_group),
		T(test_client_sessions),
		T(test_bypass_mark_overlap),
		T(test_offload),
		T(test_offload_auto),
		T(test_offload_wait),
		T(test_offload_ike_timeout),
		T(test_sharing),
		T(test_finish_empty),
		T(test_finish_pin_only),
		T(test_finish_alias_inside),
		T(test_finish_pins),
		T(test_finish_twice),
		T(test_load),
		T(test_load_errors_keep_going),
		T(test_load_missing),
		T(test_load_world_writable),
		T(test_load_long_line),
		T(test_load_max_line),
		T(test_load_nul),
		T(test_load_include),
		T(test_load_include_errors_name_file),
		T(test_load_include_missing),
		T(test_load_include_loop),
		T(test_load_include_diamond),
		T(test_load_include_depth),
		T(test_load_unreadable_include_dir),
		T(test_example_conf),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
