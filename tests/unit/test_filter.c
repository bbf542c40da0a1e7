/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "filter.h"

#define C(i) (0xc0000200u + (i))	/* 192.0.2.i */
#define S(i) (0xcb007100u + (i))	/* 203.0.113.i */

#define WORDS(...) ((char *const[]){ __VA_ARGS__ })
#define NWORDS(...) ((int)(sizeof((char *const[]){ __VA_ARGS__ }) / \
			   sizeof(char *)))
#define PARSE(f, e, ...) \
	filter_parse(f, NWORDS(__VA_ARGS__), WORDS(__VA_ARGS__), e, sizeof(e))

static void expect_error(int argc, char *const *argv, const char *msg)
{
	struct session_filter f;
	char e[FILTER_ERR_LEN] = "";

	assert_int_equal(filter_parse(&f, argc, argv, e, sizeof(e)), -EINVAL);
	assert_string_equal(e, msg);
}

#define EXPECT_ERROR(msg, ...) \
	expect_error(NWORDS(__VA_ARGS__), WORDS(__VA_ARGS__), msg)

static void test_parse(void **state)
{
	struct session_filter f;
	char e[FILTER_ERR_LEN];

	(void)state;
	assert_int_equal(filter_parse(&f, 0, NULL, e, sizeof(e)), 0);
	assert_int_equal(f.have, 0);
	assert_int_equal(PARSE(&f, e, "spi", "0x00001001", "client",
			       "192.0.2.11", "alias", "203.0.113.11",
			       "server", "203.0.113.100"), 0);
	assert_int_equal(f.have, FILTER_CLIENT | FILTER_SERVER | FILTER_ALIAS |
			 FILTER_SPI);
	assert_int_equal(f.client, C(11));
	assert_int_equal(f.alias, S(11));
	assert_int_equal(f.server.addr, S(100));
	assert_int_equal(f.server.mask, 0xffffffffu);
	assert_true(f.spi == 0x1001);
	/* a network; host bits mean the network they are in */
	assert_int_equal(PARSE(&f, e, "server", "203.0.113.101/31"), 0);
	assert_int_equal(f.server.addr, S(100));
	assert_int_equal(f.server.mask, 0xfffffffeu);
	assert_int_equal(PARSE(&f, e, "server", "0.0.0.0/0"), 0);
	assert_int_equal(f.server.mask, 0);
	/* SPIs: any case, 0x optional, leading zeros free, 64 bits */
	assert_int_equal(PARSE(&f, e, "spi", "AbC"), 0);
	assert_true(f.spi == 0xabc);
	assert_int_equal(PARSE(&f, e, "spi",
			       "0X000000000000000000ffffffffffffffff"), 0);
	assert_true(f.spi == UINT64_MAX);
	assert_int_equal(PARSE(&f, e, "spi", "8000000000000001"), 0);
	assert_true(f.spi == 0x8000000000000001ull);
}

static void test_parse_errors(void **state)
{
	(void)state;
	EXPECT_ERROR("bad address 'x' for client", "client", "x");
	EXPECT_ERROR("bad address '192.0.2.0/24' for client", "client",
		     "192.0.2.0/24");
	EXPECT_ERROR("bad address '203.0.113.256' for alias", "alias",
		     "203.0.113.256");
	EXPECT_ERROR("bad address or network '203.0.113.100/33' for server",
		     "server", "203.0.113.100/33");
	EXPECT_ERROR("bad address or network '203.0.113.100/' for server",
		     "server", "203.0.113.100/");
	EXPECT_ERROR("bad address or network '203.0.113.100/2x' for server",
		     "server", "203.0.113.100/2x");
	EXPECT_ERROR("bad address or network 'x/24' for server", "server",
		     "x/24");
	EXPECT_ERROR("bad SPI 'xyz' for spi (hex, 0x optional, at most 16 "
		     "digits, not 0)", "spi", "xyz");
	EXPECT_ERROR("bad SPI '0x' for spi (hex, 0x optional, at most 16 "
		     "digits, not 0)", "spi", "0x");
	EXPECT_ERROR("bad SPI '0000' for spi (hex, 0x optional, at most 16 "
		     "digits, not 0)", "spi", "0000");
	EXPECT_ERROR("bad SPI '10000000000000000' for spi (hex, 0x optional, "
		     "at most 16 digits, not 0)", "spi", "10000000000000000");
	EXPECT_ERROR("bad SPI '-1' for spi (hex, 0x optional, at most 16 "
		     "digits, not 0)", "spi", "-1");
	EXPECT_ERROR("unknown filter 'port' (client, server, alias or spi)",
		     "port", "500");
	EXPECT_ERROR("unknown filter 'Client' (client, server, alias or spi)",
		     "Client", "192.0.2.11");
	EXPECT_ERROR("client given twice", "client", "192.0.2.11", "client",
		     "192.0.2.12");
	EXPECT_ERROR("client needs an address", "client");
	EXPECT_ERROR("server needs an address or network", "alias",
		     "203.0.113.11", "server");
	EXPECT_ERROR("spi needs a hex SPI", "spi");
	/* long values are cut in the message */
	EXPECT_ERROR("bad address '0123456789012345678901234567890123456789'"
		     " for client", "client",
		     "0123456789012345678901234567890123456789xxxxxxxxx");
}

/* Session 0: client 11 via alias 11 to server 100, an IKE SA and an ESP
 * pair.  Session 1: client 12 via alias 11 to server 101, ESP only. */
static const struct sa_view av[] = {
	{ .kind = SA_IKE, .spi_i = 0x1122334455667788ull,
	  .spi_r = 0x99aabbccddeeff00ull },
	{ .kind = SA_ESP_OUT, .spi_i = 0x1001 },
	{ .kind = SA_ESP_IN, .spi_i = 0x2001 },
	{ .kind = SA_ESP_OUT, .spi_i = 0x1002 },
	{ .kind = SA_ESP_IN, .spi_i = 0x2002 },
};

static const struct session_view sv[] = {
	{ .client = C(11), .alias = S(11), .server = S(100), .first_sa = 0,
	  .n_sa = 3 },
	{ .client = C(12), .alias = S(11), .server = S(101), .first_sa = 3,
	  .n_sa = 2 },
};

/* Which sessions match, as a bit mask. */
static unsigned matching(int argc, char *const *argv)
{
	struct session_filter f;
	char e[FILTER_ERR_LEN];
	unsigned i, m = 0;

	assert_int_equal(filter_parse(&f, argc, argv, e, sizeof(e)), 0);
	for (i = 0; i < 2; i++)
		if (filter_match(&f, &sv[i], av, 5))
			m |= 1u << i;
	return m;
}

#define MATCHING(...) matching(NWORDS(__VA_ARGS__), WORDS(__VA_ARGS__))

static void test_match(void **state)
{
	(void)state;
	assert_int_equal(matching(0, NULL), 3);
	assert_int_equal(MATCHING("client", "192.0.2.11"), 1);
	assert_int_equal(MATCHING("client", "192.0.2.13"), 0);
	assert_int_equal(MATCHING("alias", "203.0.113.11"), 3);
	assert_int_equal(MATCHING("alias", "203.0.113.12"), 0);
	assert_int_equal(MATCHING("server", "203.0.113.101"), 2);
	assert_int_equal(MATCHING("server", "203.0.113.100/31"), 3);
	assert_int_equal(MATCHING("server", "203.0.113.0/24", "client",
				  "192.0.2.12"), 2);
	/* every kind of SA, by either IKE SPI */
	assert_int_equal(MATCHING("spi", "1122334455667788"), 1);
	assert_int_equal(MATCHING("spi", "0x99AABBCCDDEEFF00"), 1);
	assert_int_equal(MATCHING("spi", "1001"), 1);
	assert_int_equal(MATCHING("spi", "00002001"), 1);
	assert_int_equal(MATCHING("spi", "2002"), 2);
	assert_int_equal(MATCHING("spi", "2003"), 0);
	/* the half of an IKE SPI is not the SPI */
	assert_int_equal(MATCHING("spi", "55667788"), 0);
	/* AND: each right alone, not together */
	assert_int_equal(MATCHING("spi", "1001", "client", "192.0.2.12"), 0);
	assert_int_equal(MATCHING("spi", "1002", "alias", "203.0.113.11",
				  "server", "203.0.113.101"), 2);
}

/* An ESP SA's unused responder SPI field never matches, and SAs beyond
 * the rows given are not read. */
static void test_match_bounds(void **state)
{
	static const struct sa_view esp[] = {
		{ .kind = SA_ESP_OUT, .spi_i = 0x1001, .spi_r = 0x77 },
	};
	const struct session_view s = { .client = C(11), .first_sa = 0,
					.n_sa = 4 };
	struct session_filter f;
	char e[FILTER_ERR_LEN];

	(void)state;
	assert_int_equal(PARSE(&f, e, "spi", "77"), 0);
	assert_false(filter_match(&f, &s, esp, 1));
	assert_int_equal(PARSE(&f, e, "spi", "1001"), 0);
	assert_true(filter_match(&f, &s, esp, 1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_match),
		cmocka_unit_test(test_match_bounds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
