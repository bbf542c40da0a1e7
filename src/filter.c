/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "filter.h"

/* Values are quoted back in messages; a request holds 512 bytes at most,
 * but one line of reply should stay readable. */
#define SHOW "%.40s"

static int fail(char *err, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static bool parse_addr(const char *s, uint32_t *out)
{
	struct in_addr in;

	if (inet_pton(AF_INET, s, &in) != 1)
		return false;
	*out = ntohl(in.s_addr);
	return true;
}

/* ADDR or ADDR/LEN; host bits are cleared, as the network is meant. */
static bool parse_cidr(const char *s, struct cidr *out)
{
	const char *slash = strchr(s, '/');
	char buf[INET_ADDRSTRLEN];
	size_t alen = slash ? (size_t)(slash - s) : strlen(s);
	unsigned plen = 32;
	uint32_t addr;

	if (alen >= sizeof(buf))
		return false;
	memcpy(buf, s, alen);
	buf[alen] = '\0';
	if (!parse_addr(buf, &addr))
		return false;
	if (slash) {
		const char *p = slash + 1;

		if (!*p || strlen(p) > 2)
			return false;
		for (plen = 0; *p; p++) {
			if (*p < '0' || *p > '9')
				return false;
			plen = plen * 10 + (unsigned)(*p - '0');
		}
		if (plen > 32)
			return false;
	}
	out->mask = plen ? UINT32_MAX << (32 - plen) : 0;
	out->addr = addr & out->mask;
	return true;
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Hex, 0x optional, leading zeros free, 1 to 64 bits, not zero (no SA
 * has SPI 0: an IKE SA shows it only while its responder SPI is not
 * known). */
static bool parse_spi(const char *s, uint64_t *out)
{
	uint64_t v = 0;
	unsigned sig = 0;
	int d;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		s += 2;
	if (!*s)
		return false;
	for (; *s; s++) {
		d = hex_digit(*s);
		if (d < 0)
			return false;
		if (v || d)
			sig++;
		if (sig > 16)
			return false;
		v = v << 4 | (uint64_t)d;
	}
	*out = v;
	return v != 0;
}

static const struct {
	const char *name;
	unsigned bit;
	const char *value;	/* what it takes, for messages */
} filters[] = {
	{ "client", FILTER_CLIENT, "an address" },
	{ "server", FILTER_SERVER, "an address or network" },
	{ "alias", FILTER_ALIAS, "an address" },
	{ "spi", FILTER_SPI, "a hex SPI" },
};

#define N_FILTERS (sizeof(filters) / sizeof(filters[0]))

/* Parses the value @v of filter @i into @f. */
static int parse_one(struct session_filter *f, unsigned i, const char *v,
		     char *err, size_t len)
{
	bool ok;

	switch (filters[i].bit) {
	case FILTER_CLIENT:
		ok = parse_addr(v, &f->client);
		break;
	case FILTER_SERVER:
		ok = parse_cidr(v, &f->server);
		break;
	case FILTER_ALIAS:
		ok = parse_addr(v, &f->alias);
		break;
	default:
		if (!parse_spi(v, &f->spi))
			return fail(err, len, "bad SPI '" SHOW "' for spi "
				    "(hex, 0x optional, at most 16 digits, "
				    "not 0)", v);
		ok = true;
		break;
	}
	if (!ok)
		return fail(err, len, "bad %s '" SHOW "' for %s",
			    filters[i].bit == FILTER_SERVER ?
			    "address or network" : "address", v,
			    filters[i].name);
	f->have |= filters[i].bit;
	return 0;
}

int filter_parse(struct session_filter *f, int argc, char *const *argv,
		 char *err, size_t len)
{
	unsigned i;
	int k, r;

	memset(f, 0, sizeof(*f));
	for (k = 0; k < argc; k += 2) {
		for (i = 0; i < N_FILTERS; i++)
			if (!strcmp(argv[k], filters[i].name))
				break;
		if (i == N_FILTERS)
			return fail(err, len, "unknown filter '" SHOW "' "
				    "(client, server, alias or spi)",
				    argv[k]);
		if (f->have & filters[i].bit)
			return fail(err, len, "%s given twice",
				    filters[i].name);
		if (k + 1 >= argc)
			return fail(err, len, "%s needs %s", filters[i].name,
				    filters[i].value);
		r = parse_one(f, i, argv[k + 1], err, len);
		if (r)
			return r;
	}
	return 0;
}

static bool spi_match(uint64_t spi, const struct session_view *s,
		      const struct sa_view *av, size_t n_av)
{
	size_t j;

	for (j = s->first_sa; j < (size_t)s->first_sa + s->n_sa && j < n_av;
	     j++) {
		const struct sa_view *a = &av[j];

		if (a->spi_i == spi || (a->kind == SA_IKE && a->spi_r == spi))
			return true;
	}
	return false;
}

bool filter_match(const struct session_filter *f,
		  const struct session_view *s, const struct sa_view *av,
		  size_t n_av)
{
	if ((f->have & FILTER_CLIENT) && s->client != f->client)
		return false;
	if ((f->have & FILTER_SERVER) && !cidr_contains(&f->server, s->server))
		return false;
	if ((f->have & FILTER_ALIAS) && s->alias != f->alias)
		return false;
	if ((f->have & FILTER_SPI) && !spi_match(f->spi, s, av, n_av))
		return false;
	return true;
}
