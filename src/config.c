/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Configuration.  config_line() does no I/O and no allocation, so unit
 * tests and fuzzers drive it directly; config_load() adds files and
 * `include`.  Every error is reported and parsing goes on, so one run of
 * `espmasqd -t` lists everything that is wrong.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "config.h"
#include "packet.h"

#define CONFIG_MAX_TOKENS	8
#define CONFIG_FILE_NONE	CONFIG_MAX_FILES
#define CONFIG_CIDR_STRLEN	(INET_ADDRSTRLEN + 3)

/* Singular directives: the index into seen_line[] and seen_file[]. */
enum config_once {
	ONCE_OUTSIDE,
	ONCE_QUEUES,
	ONCE_MARK,
	ONCE_TIMEOUT_IKE,
	ONCE_TIMEOUT_ESP,
	ONCE_TIMEOUT_PENDING,
	ONCE_TIMEOUT_NATT,
	ONCE_MAX_SESSIONS,
	ONCE_QUEUE_MAXLEN,
	ONCE_RCVBUF,
	ONCE_BATCH,
	ONCE_CONTROL,
	ONCE_STATE,
	ONCE_FAIL_POLICY,
	ONCE_ALIAS_CLIENTS,
	ONCE_GATE_HOLD,
	ONCE_NATT_PORTS,
	ONCE_METRICS,
	ONCE_CONTROL_GROUP,
	ONCE_BYPASS_MARK,
	ONCE_USER,
	ONCE_CLIENT_SESSIONS,
	ONCE_MODE,
	ONCE_GATEWAY_MARK,
	ONCE_TIMEOUT_GATEWAY,
	ONCE_OFFLOAD,
	ONCE_OFFLOAD_SCAN,
	ONCE_OFFLOAD_READ,
	ONCE_COUNT,
	ONCE_NONE = -1,
};

_Static_assert(ONCE_COUNT <= sizeof(((struct config *)0)->seen_line) /
			     sizeof(((struct config *)0)->seen_line[0]),
	       "seen_line[] too small");

/* One line being parsed. */
struct config_ctx {
	struct config *c;
	const char *file;
	unsigned line;
	unsigned file_id;	/* CONFIG_FILE_NONE + 1 until looked up */
	struct config_errors *errs;
};

struct config_tokens {
	char buf[CONFIG_MAX_LINE + 1];
	char *v[CONFIG_MAX_TOKENS + 1];	/* NULL after the last kept */
	unsigned n;		/* all tokens, also those not kept in v[] */
};

__attribute__((format(printf, 4, 0)))
static void config_verr(struct config_errors *errs, const char *file,
			unsigned line, const char *fmt, va_list ap)
{
	char *m, *p;
	int n;

	if (!errs)
		return;
	if (errs->n < CONFIG_ERR_KEEP) {
		m = errs->msg[errs->n];
		if (line)
			n = snprintf(m, CONFIG_ERR_LEN, "%s:%u: ", file, line);
		else
			n = snprintf(m, CONFIG_ERR_LEN, "%s: ", file);
		if (n >= 0 && n < CONFIG_ERR_LEN)
			vsnprintf(m + n, CONFIG_ERR_LEN - (size_t)n, fmt, ap);
		/* messages quote the input; keep them safe for a terminal */
		for (p = m; *p; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				*p = '?';
	}
	if (errs->n < UINT_MAX)
		errs->n++;
}

__attribute__((format(printf, 4, 5)))
static int config_err(struct config_errors *errs, const char *file,
		      unsigned line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	config_verr(errs, file, line, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* An error about the line in @x; returns -EINVAL. */
__attribute__((format(printf, 2, 3)))
static int config_error(struct config_ctx *x, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	config_verr(x->errs, x->file, x->line, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static unsigned config_file_id(struct config *c, const char *file)
{
	unsigned i;

	if (strnlen(file, CONFIG_PATH_MAX) >= CONFIG_PATH_MAX)
		return CONFIG_FILE_NONE;
	for (i = 0; i < c->n_files; i++)
		if (!strcmp(c->files[i], file))
			return i;
	if (c->n_files >= CONFIG_MAX_FILES)
		return CONFIG_FILE_NONE;
	strcpy(c->files[c->n_files], file);
	return c->n_files++;
}

static unsigned config_ctx_file(struct config_ctx *x)
{
	if (x->file_id > CONFIG_FILE_NONE)
		x->file_id = config_file_id(x->c, x->file);
	return x->file_id;
}

/* "line 3" for the current file, "other.conf:3" for another one. */
static const char *config_where(struct config_ctx *x, unsigned file,
				unsigned line, char *buf, size_t size)
{
	const struct config *c = x->c;

	if (file != config_ctx_file(x) && file < c->n_files)
		snprintf(buf, size, "%s:%u", c->files[file], line);
	else
		snprintf(buf, size, "line %u", line);
	return buf;
}

static const char *config_ntoa(uint32_t addr, char *buf)
{
	struct in_addr in = { .s_addr = htonl(addr) };

	return inet_ntop(AF_INET, &in, buf, INET_ADDRSTRLEN);
}

static int config_prefix_len(uint32_t mask)
{
	return mask ? 32 - __builtin_ctz(mask) : 0;
}

static const char *config_cidr_str(const struct cidr *n, char *buf)
{
	char a[INET_ADDRSTRLEN];

	snprintf(buf, CONFIG_CIDR_STRLEN, "%s/%d", config_ntoa(n->addr, a),
		 config_prefix_len(n->mask));
	return buf;
}

/*
 * Splits @line into whitespace-separated tokens, dropping a trailing
 * newline and everything from '#'.  -E2BIG if the line is too long.
 */
static int config_split(const char *line, struct config_tokens *t)
{
	size_t len = line ? strlen(line) : 0;
	char *p, *save = NULL;

	if (len && line[len - 1] == '\n')
		len--;
	if (len && line[len - 1] == '\r')
		len--;
	t->n = 0;
	if (len > CONFIG_MAX_LINE)
		return -E2BIG;
	if (len)
		memcpy(t->buf, line, len);
	t->buf[len] = '\0';
	p = strchr(t->buf, '#');
	if (p)
		*p = '\0';
	for (p = strtok_r(t->buf, " \t\r\n", &save); p;
	     p = strtok_r(NULL, " \t\r\n", &save)) {
		if (t->n < CONFIG_MAX_TOKENS)
			t->v[t->n] = p;
		t->n++;
	}
	t->v[t->n < CONFIG_MAX_TOKENS ? t->n : CONFIG_MAX_TOKENS] = NULL;
	return 0;
}

/*
 * Leading decimal digits of @s into @out, saturating above 2^33 so that
 * callers can multiply by a suffix without overflow.  Returns the end,
 * or NULL if there is no digit.
 */
static const char *config_digits(const char *s, uint64_t *out)
{
	const uint64_t cap = 1ULL << 33;
	uint64_t v = 0;
	const char *p;

	for (p = s; *p >= '0' && *p <= '9'; p++)
		v = v >= cap ? cap : v * 10 + (uint64_t)(*p - '0');
	*out = v;
	return p == s ? NULL : p;
}

/* A whole-token decimal number; 0 or -EINVAL. */
static int config_dec(const char *s, uint64_t *out)
{
	const char *end = config_digits(s, out);

	return end && !*end ? 0 : -EINVAL;
}

/* A whole-token 32-bit number, decimal or 0x hex; 0, -EINVAL or -ERANGE. */
static int config_u32(const char *s, uint32_t *out)
{
	uint64_t v = 0;
	const char *p;
	int d;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		for (p = s + 2; *p; p++) {
			if (*p >= '0' && *p <= '9')
				d = *p - '0';
			else if (*p >= 'a' && *p <= 'f')
				d = *p - 'a' + 10;
			else if (*p >= 'A' && *p <= 'F')
				d = *p - 'A' + 10;
			else
				return -EINVAL;
			if (v <= UINT32_MAX)
				v = v * 16 + (uint64_t)d;
		}
		if (p == s + 2)
			return -EINVAL;
	} else if (config_dec(s, &v)) {
		return -EINVAL;
	}
	if (v > UINT32_MAX)
		return -ERANGE;
	*out = (uint32_t)v;
	return 0;
}

static int config_addr(const char *s, uint32_t *out)
{
	struct in_addr in;

	if (inet_pton(AF_INET, s, &in) != 1)
		return -EINVAL;
	*out = ntohl(in.s_addr);
	return 0;
}

/* @what names the address in messages ("client", "alias", ...). */
static int config_parse_addr(struct config_ctx *x, const char *what,
			     const char *s, uint32_t *out)
{
	if (config_addr(s, out))
		return config_error(x, "invalid %s address '%s'", what, s);
	return 0;
}

/* ADDR/LEN or a bare ADDR (a /32); host bits must be clear. */
static int config_parse_cidr(struct config_ctx *x, const char *s,
			     struct cidr *out)
{
	const char *slash = strchr(s, '/');
	size_t alen = slash ? (size_t)(slash - s) : strlen(s);
	char buf[INET_ADDRSTRLEN];
	uint64_t len = 32;
	uint32_t addr, mask;

	if (alen >= sizeof(buf))
		return config_error(x, "invalid address '%s'", s);
	memcpy(buf, s, alen);
	buf[alen] = '\0';
	if (config_addr(buf, &addr))
		return config_error(x, "invalid address '%s'", s);
	if (slash && (config_dec(slash + 1, &len) || len > 32 ||
		      strlen(slash + 1) > 2))
		return config_error(x, "invalid prefix length in '%s' "
				    "(0 to 32)", s);
	mask = len ? UINT32_MAX << (32 - len) : 0;
	if (addr & ~mask)
		return config_error(x, "host bits set in %s", s);
	out->addr = addr;
	out->mask = mask;
	return 0;
}

/* VALUE[/MASK] */
static int config_parse_mark(struct config_ctx *x, const char *s,
			     struct mark *out)
{
	const char *slash = strchr(s, '/');
	uint32_t value, mask = UINT32_MAX;
	char buf[24];
	size_t vlen = slash ? (size_t)(slash - s) : strlen(s);
	int err;

	if (vlen >= sizeof(buf))
		return config_error(x, "invalid mark '%s'", s);
	memcpy(buf, s, vlen);
	buf[vlen] = '\0';
	err = config_u32(buf, &value);
	if (!err && slash)
		err = config_u32(slash + 1, &mask);
	if (err == -ERANGE)
		return config_error(x, "mark '%s' does not fit in 32 bits", s);
	if (err)
		return config_error(x, "invalid mark '%s' (VALUE[/MASK], "
				    "decimal or 0x hex)", s);
	if (!mask)
		return config_error(x, "mark mask must not be 0 in '%s'", s);
	if (value & ~mask)
		return config_error(x, "mark value 0x%x has bits outside "
				    "mask 0x%x", value, mask);
	out->value = value;
	out->mask = mask;
	out->set = true;
	return 0;
}

/* A decimal count in [min, max]; @what names it, quotes included. */
static int config_parse_number(struct config_ctx *x, const char *what,
			       const char *s, uint32_t min, uint32_t max,
			       uint32_t *out)
{
	uint64_t v;

	if (config_dec(s, &v))
		return config_error(x, "invalid number '%s' for %s", s, what);
	if (v < min || v > max)
		return config_error(x, "%s must be %u to %u, not %s", what,
				    min, max, s);
	*out = (uint32_t)v;
	return 0;
}

static bool config_seen(struct config_ctx *x, enum config_once k,
			const char *name)
{
	char where[CONFIG_PATH_MAX + 16];

	if (!x->c->seen_line[k])
		return false;
	config_error(x, "duplicate '%s' (first at %s)", name,
		     config_where(x, x->c->seen_file[k], x->c->seen_line[k],
				  where, sizeof(where)));
	return true;
}

static void config_set_seen(struct config_ctx *x, enum config_once k)
{
	/* a caller numbering lines from 0 still gets duplicates caught */
	x->c->seen_line[k] = x->line ? x->line : 1;
	x->c->seen_file[k] = config_ctx_file(x);
}

static int config_do_inside(struct config_ctx *x, char **argv)
{
	struct config *c = x->c;
	struct cidr n;

	if (config_parse_cidr(x, argv[0], &n))
		return -EINVAL;
	if (c->n_inside >= CONFIG_MAX_NETS)
		return config_error(x, "too many 'inside' networks "
				    "(at most %d)", CONFIG_MAX_NETS);
	c->inside[c->n_inside++] = n;
	return 0;
}

static int config_do_server(struct config_ctx *x, char **argv)
{
	struct config *c = x->c;
	struct cidr n;

	if (config_parse_cidr(x, argv[0], &n))
		return -EINVAL;
	if (c->n_servers >= CONFIG_MAX_NETS)
		return config_error(x, "too many 'server' networks "
				    "(at most %d)", CONFIG_MAX_NETS);
	c->servers[c->n_servers++] = n;
	return 0;
}

static int config_do_outside(struct config_ctx *x, char **argv)
{
	const char *s = argv[0];
	size_t i, len = strlen(s);

	if (len >= CONFIG_IFNAME_MAX)
		return config_error(x, "interface name '%s' is too long "
				    "(at most %d characters)", s,
				    CONFIG_IFNAME_MAX - 1);
	for (i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		      (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') ||
		      s[i] == '-' || s[i] == '_' || s[i] == '.'))
			break;
	if (i < len || !strcmp(s, ".") || !strcmp(s, ".."))
		return config_error(x, "invalid interface name '%s'", s);
	memcpy(x->c->outside, s, len + 1);
	return 0;
}

/* First index in sorted @a[0..n) whose value is >= @v. */
static unsigned config_lower_bound(const uint32_t *a, unsigned n, uint32_t v)
{
	unsigned lo = 0, hi = n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (a[mid] < v)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int config_do_alias(struct config_ctx *x, char **argv)
{
	struct config *c = x->c;
	const char *s = argv[0], *dash = strchr(s, '-');
	char buf[INET_ADDRSTRLEN], a[INET_ADDRSTRLEN];
	uint32_t lo = 0, hi = 0, i;
	uint64_t count;
	unsigned pos;
	size_t len;

	len = dash ? (size_t)(dash - s) : strlen(s);
	if (len >= sizeof(buf))
		return config_error(x, "invalid alias '%s' (ADDR or "
				    "ADDR-ADDR)", s);
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (config_addr(buf, &lo) || config_addr(dash ? dash + 1 : buf, &hi))
		return config_error(x, "invalid alias '%s' (ADDR or "
				    "ADDR-ADDR)", s);
	if (lo > hi)
		return config_error(x, "reversed alias range '%s'", s);
	if (!lo)
		return config_error(x, "alias 0.0.0.0 is not usable");
	pos = config_lower_bound(c->aliases, c->n_aliases, lo);
	if (pos < c->n_aliases && c->aliases[pos] <= hi)
		return config_error(x, "duplicate alias %s",
				    config_ntoa(c->aliases[pos], a));
	count = (uint64_t)hi - lo + 1;
	if (count > CONFIG_MAX_ALIASES - c->n_aliases)
		return config_error(x, "too many aliases (at most %d)",
				    CONFIG_MAX_ALIASES);
	memmove(&c->aliases[pos + count], &c->aliases[pos],
		(c->n_aliases - pos) * sizeof(c->aliases[0]));
	for (i = 0; i < count; i++)
		c->aliases[pos + i] = lo + i;
	c->n_aliases += (unsigned)count;
	return 0;
}

static int config_do_pin(struct config_ctx *x, char **argv)
{
	struct config *c = x->c;
	char where[CONFIG_PATH_MAX + 16], a[INET_ADDRSTRLEN];
	uint32_t client = 0, alias = 0;
	const struct pin *p;
	unsigned i;

	if (config_parse_addr(x, "client", argv[0], &client) ||
	    config_parse_addr(x, "alias", argv[1], &alias))
		return -EINVAL;
	if (!alias)
		return config_error(x, "alias 0.0.0.0 is not usable");
	for (i = 0; i < c->n_pins; i++) {
		p = &c->pins[i];
		if (p->client == client)
			return config_error(x, "client %s is already pinned "
					    "(first at %s)", argv[0],
					    config_where(x, p->file, p->line,
							 where, sizeof(where)));
		if (p->alias == alias)
			return config_error(x, "alias %s is already pinned to "
					    "%s (at %s)", argv[1],
					    config_ntoa(p->client, a),
					    config_where(x, p->file, p->line,
							 where, sizeof(where)));
	}
	if (c->n_pins >= CONFIG_MAX_PINS)
		return config_error(x, "too many pins (at most %d)",
				    CONFIG_MAX_PINS);
	c->pins[c->n_pins++] = (struct pin){
		.client = client,
		.alias = alias,
		.line = x->line,
		.file = config_ctx_file(x),
	};
	return 0;
}

/* Adds @q to sorted, unique @q[0..*n); -ENOSPC when full. */
static int config_queue_add(uint16_t *queues, unsigned *n, uint16_t q)
{
	unsigned pos = 0;

	while (pos < *n && queues[pos] < q)
		pos++;
	if (pos < *n && queues[pos] == q)
		return 0;
	if (*n >= CONFIG_MAX_QUEUES)
		return -ENOSPC;
	memmove(&queues[pos + 1], &queues[pos], (*n - pos) * sizeof(*queues));
	queues[pos] = q;
	(*n)++;
	return 0;
}

static int config_do_queues(struct config_ctx *x, char **argv)
{
	struct config *c = x->c;
	uint16_t q[CONFIG_MAX_QUEUES];
	const char *p = argv[0], *comma;
	char item[24], *dash;
	uint64_t lo = 0, hi = 0, v;
	unsigned n = 0;
	size_t len;

	for (;;) {
		comma = strchr(p, ',');
		len = comma ? (size_t)(comma - p) : strlen(p);
		if (!len || len >= sizeof(item))
			return config_error(x, "invalid queue list '%s' "
					    "(N or N-M, comma-separated)",
					    argv[0]);
		memcpy(item, p, len);
		item[len] = '\0';
		dash = strchr(item, '-');
		if (dash)
			*dash = '\0';
		if (config_dec(item, &lo) ||
		    (dash && config_dec(dash + 1, &hi)))
			return config_error(x, "invalid queue list '%s' "
					    "(N or N-M, comma-separated)",
					    argv[0]);
		if (!dash)
			hi = lo;
		if (lo > UINT16_MAX || hi > UINT16_MAX)
			return config_error(x, "queue numbers must be 0 to "
					    "65535 in '%s'", argv[0]);
		if (lo > hi)
			return config_error(x, "reversed queue range %s-%s",
					    item, dash + 1);
		for (v = lo; v <= hi; v++)
			if (config_queue_add(q, &n, (uint16_t)v))
				return config_error(x, "too many queues "
						    "(at most %d)",
						    CONFIG_MAX_QUEUES);
		if (!comma)
			break;
		p = comma + 1;
	}
	memcpy(c->queues, q, n * sizeof(q[0]));
	c->n_queues = n;
	return 0;
}

static int config_do_cpu(struct config_ctx *x, char **argv)
{
	struct config *c = x->c;
	char where[CONFIG_PATH_MAX + 16];
	const struct cpu_pin *p;
	uint32_t queue = 0, cpu = 0;
	unsigned i;

	if (config_parse_number(x, "the queue in 'cpu'", argv[0], 0,
				UINT16_MAX, &queue) ||
	    config_parse_number(x, "the CPU in 'cpu'", argv[1], 0, 1023,
				&cpu))
		return -EINVAL;
	for (i = 0; i < c->n_cpu_pins; i++) {
		p = &c->cpu_pins[i];
		if (p->queue == queue)
			return config_error(x, "duplicate 'cpu %u' (first at "
					    "%s)", queue,
					    config_where(x, p->file, p->line,
							 where, sizeof(where)));
	}
	if (c->n_cpu_pins >= CONFIG_MAX_QUEUES)
		return config_error(x, "too many 'cpu' lines (at most %d)",
				    CONFIG_MAX_QUEUES);
	c->cpu_pins[c->n_cpu_pins++] = (struct cpu_pin){
		.queue = (uint16_t)queue,
		.cpu = (uint16_t)cpu,
		.line = x->line,
		.file = config_ctx_file(x),
	};
	return 0;
}

static int config_do_mark(struct config_ctx *x, char **argv)
{
	static const char *const scopes[] = {
		[MARK_SCOPE_CLIENT] = "client",
		[MARK_SCOPE_SERVER] = "server",
		[MARK_SCOPE_ALIAS] = "alias",
	};
	struct config *c = x->c;
	struct mark_rule r = { .scope = MARK_SCOPE_CLIENT };
	unsigned s;

	if (!argv[1]) {
		if (config_seen(x, ONCE_MARK, "mark") ||
		    config_parse_mark(x, argv[0], &c->mark))
			return -EINVAL;
		config_set_seen(x, ONCE_MARK);
		return 0;
	}
	if (!argv[2])
		return config_error(x, "wrong number of arguments to 'mark' "
				    "(expected: mark VALUE[/MASK] or mark "
				    "client|server|alias ADDR VALUE[/MASK])");
	for (s = 0; s < sizeof(scopes) / sizeof(scopes[0]); s++)
		if (!strcmp(argv[0], scopes[s]))
			break;
	if (s == sizeof(scopes) / sizeof(scopes[0]))
		return config_error(x, "unknown mark scope '%s' (client, "
				    "server or alias)", argv[0]);
	r.scope = (enum mark_scope)s;
	if (r.scope == MARK_SCOPE_ALIAS) {
		if (config_parse_addr(x, "alias", argv[1], &r.net.addr))
			return -EINVAL;
		r.net.mask = UINT32_MAX;
	} else if (config_parse_cidr(x, argv[1], &r.net)) {
		return -EINVAL;
	}
	if (config_parse_mark(x, argv[2], &r.mark))
		return -EINVAL;
	if (c->n_marks >= CONFIG_MAX_MARKS)
		return config_error(x, "too many mark rules (at most %d)",
				    CONFIG_MAX_MARKS);
	c->marks[c->n_marks++] = r;
	return 0;
}

static int config_do_timeout(struct config_ctx *x, char **argv)
{
	static const struct {
		const char *name;
		enum config_once once;
	} kinds[] = {
		{ "ike", ONCE_TIMEOUT_IKE },
		{ "esp", ONCE_TIMEOUT_ESP },
		{ "pending", ONCE_TIMEOUT_PENDING },
		{ "nat-t", ONCE_TIMEOUT_NATT },
		{ "gateway", ONCE_TIMEOUT_GATEWAY },
	};
	struct config *c = x->c;
	uint32_t *const dst[] = {
		&c->timeout_ike, &c->timeout_esp, &c->timeout_pending,
		&c->timeout_natt, &c->timeout_gateway,
	};
	const uint64_t max = 30 * 86400;
	char name[24];
	const char *end;
	uint64_t v, unit = 1;
	unsigned k;

	for (k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++)
		if (!strcmp(argv[0], kinds[k].name))
			break;
	if (k == sizeof(kinds) / sizeof(kinds[0]))
		return config_error(x, "unknown timeout '%s' (ike, esp, "
				    "pending, nat-t or gateway)", argv[0]);
	snprintf(name, sizeof(name), "timeout %s", kinds[k].name);
	if (config_seen(x, kinds[k].once, name))
		return -EINVAL;

	end = config_digits(argv[1], &v);
	if (end && *end && !end[1]) {
		unit = *end == 's' ? 1 : *end == 'm' ? 60 :
		       *end == 'h' ? 3600 : *end == 'd' ? 86400 : 0;
		if (unit)
			end++;
	}
	if (!end || *end)
		return config_error(x, "invalid duration '%s' (seconds, or a "
				    "number followed by s, m, h or d)",
				    argv[1]);
	v *= unit;
	if (v < 1 || v > max)
		return config_error(x, "'%s' must be 1s to 30d, not %s", name,
				    argv[1]);
	*dst[k] = (uint32_t)v;
	config_set_seen(x, kinds[k].once);
	return 0;
}

static int config_do_max_sessions(struct config_ctx *x, char **argv)
{
	return config_parse_number(x, "'max-sessions'", argv[0], 1, 1U << 24,
				   &x->c->max_sessions);
}

static int config_do_client_sessions(struct config_ctx *x, char **argv)
{
	if (!strcmp(argv[0], "unlimited")) {
		x->c->client_sessions = 0;
		return 0;
	}
	return config_parse_number(x, "'max-sessions-per-client' (or "
				   "'unlimited')", argv[0], 1, 1U << 24,
				   &x->c->client_sessions);
}

static int config_do_alias_clients(struct config_ctx *x, char **argv)
{
	if (!strcmp(argv[0], "unlimited")) {
		x->c->alias_clients = 0;
		return 0;
	}
	return config_parse_number(x, "'alias-clients' (or 'unlimited')",
				   argv[0], 1, 65535, &x->c->alias_clients);
}

static int config_do_natt_ports(struct config_ctx *x, char **argv)
{
	char *dash = strchr(argv[0], '-');
	uint32_t lo, hi;

	if (!strcmp(argv[0], "off")) {
		x->c->natt_lo = x->c->natt_hi = 0;
		return 0;
	}
	if (!dash)
		return config_error(x, "'natt-ports' takes LOW-HIGH or off, "
				    "not %s", argv[0]);
	*dash = '\0';
	if (config_parse_number(x, "the low port of 'natt-ports'", argv[0],
				1024, 65535, &lo) ||
	    config_parse_number(x, "the high port of 'natt-ports'", dash + 1,
				1024, 65535, &hi))
		return -1;
	if (lo > hi)
		return config_error(x, "'natt-ports' %u-%u: the low port is "
				    "above the high one", lo, hi);
	if (lo <= NATT_PORT && NATT_PORT <= hi)
		return config_error(x, "'natt-ports' %u-%u must not contain "
				    "4500, the port clients keep when they "
				    "can", lo, hi);
	x->c->natt_lo = (uint16_t)lo;
	x->c->natt_hi = (uint16_t)hi;
	return 0;
}

static int config_do_gate_hold(struct config_ctx *x, char **argv)
{
	return config_parse_number(x, "'gate-hold' (milliseconds)", argv[0],
				   10, 60000, &x->c->gate_hold_ms);
}

static int config_do_offload(struct config_ctx *x, char **argv)
{
	if (!strcmp(argv[0], "on"))
		x->c->offload_mode = OFFLOAD_ON;
	else if (!strcmp(argv[0], "off"))
		x->c->offload_mode = OFFLOAD_OFF;
	else if (!strcmp(argv[0], "auto"))
		x->c->offload_mode = OFFLOAD_AUTO;
	else
		return config_error(x, "'offload' takes on, off or auto, not "
				    "%s", argv[0]);
	return 0;
}

static int config_do_offload_scan(struct config_ctx *x, char **argv)
{
	return config_parse_number(x, "'offload-scan' (seconds)", argv[0], 1,
				   60, &x->c->offload_scan);
}

static int config_do_offload_read(struct config_ctx *x, char **argv)
{
	if (argv[1] && strcmp(argv[0], "auto"))
		return config_error(x, "'offload-read' takes a number of "
				    "entries after auto only, not after %s",
				    argv[0]);
	if (!strcmp(argv[0], "auto")) {
		x->c->offload_read = OFFLOAD_READ_AUTO;
		if (argv[1])
			return config_parse_number(
				x, "'offload-read auto' (entries)", argv[1], 0,
				OFFLOAD_DUMP_MAX_MAX, &x->c->offload_dump_max);
	} else if (!strcmp(argv[0], "dump"))
		x->c->offload_read = OFFLOAD_READ_DUMP;
	else if (!strcmp(argv[0], "each"))
		x->c->offload_read = OFFLOAD_READ_EACH;
	else
		return config_error(x, "'offload-read' takes auto, dump or "
				    "each, not %s", argv[0]);
	return 0;
}

static int config_do_queue_maxlen(struct config_ctx *x, char **argv)
{
	return config_parse_number(x, "'queue-maxlen'", argv[0], 1, 1U << 20,
				   &x->c->queue_maxlen);
}

static int config_do_batch(struct config_ctx *x, char **argv)
{
	return config_parse_number(x, "'batch'", argv[0], 1, 1024,
				   &x->c->batch);
}

static int config_do_rcvbuf(struct config_ctx *x, char **argv)
{
	const uint64_t min = 64 << 10, max = CONFIG_RCVBUF_MAX;
	const char *end;
	uint64_t v, unit = 1;

	if (!strcmp(argv[0], "auto")) {
		x->c->rcvbuf = 0;
		return 0;
	}
	end = config_digits(argv[0], &v);
	if (end && *end && !end[1]) {
		unit = (*end | 0x20) == 'k' ? 1 << 10 :
		       (*end | 0x20) == 'm' ? 1 << 20 :
		       (*end | 0x20) == 'g' ? 1 << 30 : 0;
		if (unit)
			end++;
	}
	if (!end || *end)
		return config_error(x, "invalid size '%s' (auto, bytes, or a "
				    "number followed by k, m or g)", argv[0]);
	v *= unit;
	if (v < min || v > max)
		return config_error(x, "'rcvbuf' must be auto or 64k to 1g, "
				    "not %s", argv[0]);
	x->c->rcvbuf = (uint32_t)v;
	return 0;
}

static int config_do_control(struct config_ctx *x, char **argv)
{
	size_t len = strlen(argv[0]);

	if (argv[0][0] != '/')
		return config_error(x, "control socket path '%s' is not "
				    "absolute", argv[0]);
	if (len >= CONFIG_SUN_PATH_MAX)
		return config_error(x, "control socket path is too long (at "
				    "most %d characters)",
				    CONFIG_SUN_PATH_MAX - 1);
	memcpy(x->c->control, argv[0], len + 1);
	return 0;
}

static int config_do_metrics(struct config_ctx *x, char **argv)
{
	size_t len = strlen(argv[0]);

	if (argv[0][0] != '/')
		return config_error(x, "metrics-file path '%s' is not absolute",
				    argv[0]);
	if (len >= CONFIG_PATH_MAX)
		return config_error(x, "metrics-file path is too long (at most "
				    "%d characters)", CONFIG_PATH_MAX - 1);
	memcpy(x->c->metrics, argv[0], len + 1);
	return 0;
}

/* A group name as useradd takes them: [a-z_][a-z0-9_-]*, at most 32. */
/* A user or group name as Debian allows them; into @out (33 bytes). */
static int config_name(struct config_ctx *x, const char *what, const char *g,
		       char *out)
{
	size_t i, len = strlen(g);

	if (len > 32)
		return config_error(x, "%s name is too long (at most 32 "
				    "characters)", what);
	for (i = 0; i < len; i++)
		if (!((g[i] >= 'a' && g[i] <= 'z') || g[i] == '_' ||
		      (i && ((g[i] >= '0' && g[i] <= '9') || g[i] == '-'))))
			return config_error(x, "%s '%s' is not a %s name",
					    what, g, strcmp(what, "user") ?
					    "group" : "user");
	memcpy(out, g, len + 1);
	return 0;
}

static int config_do_control_group(struct config_ctx *x, char **argv)
{
	return config_name(x, "control-group", argv[0], x->c->control_group);
}

static int config_do_user(struct config_ctx *x, char **argv)
{
	return config_name(x, "user", argv[0], x->c->user);
}

static int config_do_state(struct config_ctx *x, char **argv)
{
	size_t len = strlen(argv[0]);

	if (argv[0][0] != '/')
		return config_error(x, "state path '%s' is not absolute",
				    argv[0]);
	if (len >= CONFIG_PATH_MAX)
		return config_error(x, "state path is too long (at most %d "
				    "characters)", CONFIG_PATH_MAX - 1);
	memcpy(x->c->state, argv[0], len + 1);
	return 0;
}

static int config_do_fail_policy(struct config_ctx *x, char **argv)
{
	if (!strcmp(argv[0], "drop"))
		x->c->fail_policy = FAIL_POLICY_DROP;
	else if (!strcmp(argv[0], "bypass"))
		x->c->fail_policy = FAIL_POLICY_BYPASS;
	else
		return config_error(x, "unknown fail-policy '%s' (drop or "
				    "bypass)", argv[0]);
	return 0;
}

static int config_do_bypass_mark(struct config_ctx *x, char **argv)
{
	return config_parse_mark(x, argv[0], &x->c->bypass_mark);
}

static int config_do_mode(struct config_ctx *x, char **argv)
{
	if (!strcmp(argv[0], "masquerade"))
		x->c->mode = MODE_MASQUERADE;
	else if (!strcmp(argv[0], "gateway"))
		x->c->mode = MODE_GATEWAY;
	else
		return config_error(x, "unknown mode '%s' (masquerade or "
				    "gateway)", argv[0]);
	return 0;
}

static int config_do_gateway_mark(struct config_ctx *x, char **argv)
{
	struct mark m;

	if (strchr(argv[0], '/'))
		return config_error(x, "'gateway-mark' takes one MASK (the "
				    "bits of the mark that name an SA), not "
				    "VALUE/MASK");
	if (config_parse_mark(x, argv[0], &m))
		return -EINVAL;
	if (!m.value)
		return config_error(x, "'gateway-mark' must have at least one "
				    "bit set");
	x->c->gateway_mask = m.value;
	return 0;
}

static int config_do_gateway_service(struct config_ctx *x, char **argv)
{
	struct config *c = x->c;
	uint32_t port;
	uint8_t proto;
	unsigned i;

	if (!strcmp(argv[0], "udp"))
		proto = 17;
	else if (!strcmp(argv[0], "tcp"))
		proto = 6;
	else
		return config_error(x, "unknown protocol '%s' in "
				    "'gateway-service' (udp or tcp)", argv[0]);
	if (config_parse_number(x, "the port of 'gateway-service'", argv[1],
				1, 65535, &port))
		return -EINVAL;
	if (proto == 17 && port == 1701)
		return config_error(x, "'gateway-service udp 1701' is L2TP, "
				    "which gateway mode always handles");
	for (i = 0; i < c->n_services; i++)
		if (c->services[i].proto == proto &&
		    c->services[i].port == port)
			return config_error(x, "duplicate 'gateway-service "
					    "%s %u'", argv[0], port);
	if (c->n_services >= CONFIG_MAX_SERVICES)
		return config_error(x, "too many 'gateway-service' lines (at "
				    "most %d)", CONFIG_MAX_SERVICES);
	c->services[c->n_services++] = (struct gw_service){
		.proto = proto, .port = (uint16_t)port,
	};
	return 0;
}

struct config_directive {
	const char *name;
	unsigned min_args, max_args;
	int once;		/* enum config_once, ONCE_NONE if repeatable */
	const char *usage;
	/* @argv holds min_args to max_args words, then NULL */
	int (*parse)(struct config_ctx *x, char **argv);
};

static const struct config_directive config_directives[] = {
	{ "inside", 1, 1, ONCE_NONE, "inside CIDR", config_do_inside },
	{ "outside", 1, 1, ONCE_OUTSIDE, "outside IFNAME",
	  config_do_outside },
	{ "alias", 1, 1, ONCE_NONE, "alias ADDR or alias ADDR-ADDR",
	  config_do_alias },
	{ "pin", 2, 2, ONCE_NONE, "pin CLIENT ALIAS", config_do_pin },
	{ "server", 1, 1, ONCE_NONE, "server CIDR", config_do_server },
	{ "queues", 1, 1, ONCE_QUEUES, "queues N[-M][,N[-M]...]",
	  config_do_queues },
	{ "cpu", 2, 2, ONCE_NONE, "cpu QUEUE CPU", config_do_cpu },
	/* singular only in its one-argument form: config_do_mark checks */
	{ "mark", 1, 3, ONCE_NONE, "mark VALUE[/MASK] or mark "
	  "client|server|alias ADDR VALUE[/MASK]", config_do_mark },
	/* singular per kind: config_do_timeout checks */
	{ "timeout", 2, 2, ONCE_NONE, "timeout ike|esp|pending|nat-t|gateway "
	  "DURATION", config_do_timeout },
	{ "max-sessions", 1, 1, ONCE_MAX_SESSIONS, "max-sessions N",
	  config_do_max_sessions },
	{ "max-sessions-per-client", 1, 1, ONCE_CLIENT_SESSIONS,
	  "max-sessions-per-client N|unlimited", config_do_client_sessions },
	{ "alias-clients", 1, 1, ONCE_ALIAS_CLIENTS,
	  "alias-clients N|unlimited", config_do_alias_clients },
	{ "natt-ports", 1, 1, ONCE_NATT_PORTS, "natt-ports LOW-HIGH|off",
	  config_do_natt_ports },
	{ "offload", 1, 1, ONCE_OFFLOAD, "offload on|off|auto",
	  config_do_offload },
	{ "offload-scan", 1, 1, ONCE_OFFLOAD_SCAN, "offload-scan SECONDS",
	  config_do_offload_scan },
	{ "offload-read", 1, 2, ONCE_OFFLOAD_READ,
	  "offload-read auto [ENTRIES]|dump|each", config_do_offload_read },
	{ "gate-hold", 1, 1, ONCE_GATE_HOLD, "gate-hold MILLISECONDS",
	  config_do_gate_hold },
	{ "queue-maxlen", 1, 1, ONCE_QUEUE_MAXLEN, "queue-maxlen N",
	  config_do_queue_maxlen },
	{ "rcvbuf", 1, 1, ONCE_RCVBUF, "rcvbuf auto|SIZE", config_do_rcvbuf },
	{ "batch", 1, 1, ONCE_BATCH, "batch N", config_do_batch },
	{ "control", 1, 1, ONCE_CONTROL, "control PATH", config_do_control },
	{ "state", 1, 1, ONCE_STATE, "state PATH", config_do_state },
	{ "metrics-file", 1, 1, ONCE_METRICS, "metrics-file PATH",
	  config_do_metrics },
	{ "control-group", 1, 1, ONCE_CONTROL_GROUP, "control-group GROUP",
	  config_do_control_group },
	{ "fail-policy", 1, 1, ONCE_FAIL_POLICY, "fail-policy drop|bypass",
	  config_do_fail_policy },
	{ "bypass-mark", 1, 1, ONCE_BYPASS_MARK, "bypass-mark VALUE[/MASK]",
	  config_do_bypass_mark },
	{ "user", 1, 1, ONCE_USER, "user NAME", config_do_user },
	{ "mode", 1, 1, ONCE_MODE, "mode masquerade|gateway", config_do_mode },
	{ "gateway-mark", 1, 1, ONCE_GATEWAY_MARK, "gateway-mark MASK",
	  config_do_gateway_mark },
	{ "gateway-service", 2, 2, ONCE_NONE, "gateway-service udp|tcp PORT",
	  config_do_gateway_service },
};

void config_init(struct config *c)
{
	unsigned i;

	memset(c, 0, sizeof(*c));
	for (i = 0; i < CONFIG_MAX_QUEUES; i++)
		c->cpu[i] = -1;
	c->timeout_ike = 3600;
	c->timeout_esp = 900;
	c->timeout_pending = 30;
	c->timeout_natt = 300;
	c->timeout_gateway = 300;
	c->gateway_mask = UINT32_MAX;
	c->max_sessions = 65536;
	c->client_sessions = 256;
	c->gate_hold_ms = 2000;
	c->offload = false;
	c->offload_mode = OFFLOAD_AUTO;
	c->offload_scan = 2;
	c->offload_dump_max = OFFLOAD_DUMP_MAX_DEFAULT;
	c->alias_clients = 0;
	c->queue_maxlen = 4096;
	c->rcvbuf = 0;			/* auto */
	c->batch = 64;
	strcpy(c->control, CONFIG_DEFAULT_CONTROL);
	c->fail_policy = FAIL_POLICY_DROP;
	c->bypass_mark = (struct mark){
		.value = CONFIG_BYPASS_MARK, .mask = CONFIG_BYPASS_MARK,
		.set = true,
	};
}

int config_line(struct config *c, const char *file, unsigned lineno,
		const char *line, struct config_errors *errs)
{
	struct config_ctx x = {
		.c = c,
		.file = file ? file : "(config)",
		.line = lineno,
		.file_id = CONFIG_FILE_NONE + 1,
		.errs = errs,
	};
	const struct config_directive *d = NULL;
	struct config_tokens t;
	unsigned i, argc;
	int err;

	if (config_split(line, &t))
		return config_error(&x, "line too long (more than %d "
				    "characters)", CONFIG_MAX_LINE);
	if (!t.n)
		return 0;
	for (i = 0; i < sizeof(config_directives) /
			sizeof(config_directives[0]) && !d; i++)
		if (!strcmp(t.v[0], config_directives[i].name))
			d = &config_directives[i];
	if (!d) {
		if (!strcmp(t.v[0], "include"))
			return config_error(&x, "'include' is only possible "
					    "in a file read by config_load()");
		return config_error(&x, "unknown directive '%s'", t.v[0]);
	}
	argc = t.n - 1;
	if (argc < d->min_args || argc > d->max_args)
		return config_error(&x, "wrong number of arguments to '%s' "
				    "(expected: %s)", d->name, d->usage);
	if (d->once != ONCE_NONE &&
	    config_seen(&x, (enum config_once)d->once, d->name))
		return -EINVAL;
	err = d->parse(&x, t.v + 1);
	if (!err && d->once != ONCE_NONE)
		config_set_seen(&x, (enum config_once)d->once);
	return err;
}

/* The inside network holding @addr, or NULL. */
static const struct cidr *config_inside_net(const struct config *c,
					    uint32_t addr)
{
	unsigned i;

	for (i = 0; i < c->n_inside; i++)
		if (cidr_contains(&c->inside[i], addr))
			return &c->inside[i];
	return NULL;
}

static bool config_check_aliases(const struct config *c, const char *file,
				 struct config_errors *errs)
{
	char a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN], n[CONFIG_CIDR_STRLEN];
	const struct cidr *net;
	bool ok = true;
	unsigned i, j;

	/* one message per run of addresses, not one per address */
	for (i = 0; i < c->n_aliases; i = j) {
		j = i + 1;
		net = config_inside_net(c, c->aliases[i]);
		if (!net)
			continue;
		while (j < c->n_aliases &&
		       c->aliases[j] == c->aliases[j - 1] + 1 &&
		       cidr_contains(net, c->aliases[j]))
			j++;
		ok = false;
		if (j - i == 1)
			config_err(errs, file, 0, "alias %s is inside "
				   "'inside %s'", config_ntoa(c->aliases[i], a),
				   config_cidr_str(net, n));
		else
			config_err(errs, file, 0, "aliases %s-%s are inside "
				   "'inside %s'", config_ntoa(c->aliases[i], a),
				   config_ntoa(c->aliases[j - 1], b),
				   config_cidr_str(net, n));
	}
	return ok;
}

/*
 * The file a pin or cpu line came from, for messages from
 * config_finish(); @fallback, and no line number, if it was not kept.
 */
static const char *config_origin(const struct config *c, unsigned file,
				 const char *fallback, unsigned *line)
{
	if (file < c->n_files)
		return c->files[file];
	*line = 0;
	return fallback;
}

static bool config_check_pins(const struct config *c, const char *file,
			      struct config_errors *errs)
{
	char a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN], n[CONFIG_CIDR_STRLEN];
	const struct cidr *net;
	const struct pin *p;
	const char *f;
	bool ok = true;
	unsigned i, line;

	for (i = 0; i < c->n_pins; i++) {
		p = &c->pins[i];
		line = p->line;
		f = config_origin(c, p->file, file, &line);
		if (!config_inside_net(c, p->client)) {
			config_err(errs, f, line, "pin %s %s: client is not "
				   "inside any 'inside' network",
				   config_ntoa(p->client, a),
				   config_ntoa(p->alias, b));
			ok = false;
		}
		net = config_inside_net(c, p->alias);
		if (net) {
			config_err(errs, f, line, "pin %s %s: alias is inside "
				   "'inside %s'", config_ntoa(p->client, a),
				   config_ntoa(p->alias, b),
				   config_cidr_str(net, n));
			ok = false;
		}
	}
	return ok;
}

static bool config_check_cpus(struct config *c, const char *file,
			      struct config_errors *errs)
{
	const struct cpu_pin *p;
	bool ok = true;
	unsigned i, q, line;
	const char *f;

	for (i = 0; i < CONFIG_MAX_QUEUES; i++)
		c->cpu[i] = -1;
	for (i = 0; i < c->n_cpu_pins; i++) {
		p = &c->cpu_pins[i];
		for (q = 0; q < c->n_queues; q++)
			if (c->queues[q] == p->queue)
				break;
		if (q < c->n_queues) {
			c->cpu[q] = p->cpu;
			continue;
		}
		line = p->line;
		f = config_origin(c, p->file, file, &line);
		config_err(errs, f, line, "cpu %u %u: queue %u is not in "
			   "'queues'", p->queue, p->cpu, p->queue);
		ok = false;
	}
	return ok;
}

/* With fail-policy bypass, the kernel's NAT tells espmasq's packets from
 * the ones that bypassed it by bypass-mark alone: no other mark espmasqd
 * sets may touch those bits. */
static bool config_check_bypass_mark(const struct config *c, const char *file,
				     struct config_errors *errs)
{
	uint32_t bm = c->bypass_mark.mask;
	bool ok = true;
	unsigned i;

	if (c->fail_policy != FAIL_POLICY_BYPASS)
		return true;
	if (c->mark.set && (c->mark.mask & bm)) {
		config_err(errs, file, 0, "'mark 0x%x/0x%x' overlaps "
			   "bypass-mark 0x%x/0x%x", c->mark.value, c->mark.mask,
			   c->bypass_mark.value, bm);
		ok = false;
	}
	for (i = 0; i < c->n_marks; i++)
		if (c->marks[i].mark.mask & bm) {
			config_err(errs, file, 0, "mark rule %u (0x%x/0x%x) "
				   "overlaps bypass-mark 0x%x/0x%x", i + 1,
				   c->marks[i].mark.value,
				   c->marks[i].mark.mask,
				   c->bypass_mark.value, bm);
			ok = false;
		}
	if (!c->bypass_mark.value) {
		config_err(errs, file, 0, "bypass-mark 0x0/0x%x: the value "
			   "must set at least one bit", bm);
		ok = false;
	}
	return ok;
}

/* The kernel's offload copies translations, not the heartbeat that
 * fail-policy bypass stands on; and it must report activity well before
 * any session it carries would time out.  'offload auto' (the default)
 * is on where 'offload on' would be allowed, the counters then read at
 * most every half of the shortest timeout. */
static bool config_check_offload(struct config *c, const char *file,
				 struct config_errors *errs)
{
	uint32_t shortest = c->timeout_esp;
	bool ok = true;

	c->offload = false;
	c->offload_why = NULL;
	if (c->timeout_natt < shortest)
		shortest = c->timeout_natt;
	if (c->timeout_pending < shortest)
		shortest = c->timeout_pending;
	/* the kernel carries IKE liveness checks too */
	if (c->timeout_ike < shortest)
		shortest = c->timeout_ike;
	if (c->offload_mode == OFFLOAD_OFF) {
		c->offload_why = "offload off";
		return true;
	}
	if (c->offload_mode == OFFLOAD_AUTO) {
		if (c->fail_policy == FAIL_POLICY_BYPASS) {
			c->offload_why = "fail-policy bypass";
			return true;
		}
		if (!c->seen_line[ONCE_OFFLOAD_SCAN]) {
			if (shortest < 2) {
				c->offload_why = "a timeout under 2 s";
				return true;
			}
			if (2 * c->offload_scan > shortest)
				c->offload_scan = shortest / 2;
		}
	}
	c->offload = true;
	c->offload_scan_fixed = c->seen_line[ONCE_OFFLOAD_SCAN] != 0;
	c->offload_scan_max = shortest / 2 > c->offload_scan ? shortest / 2 :
							       c->offload_scan;
	if (c->fail_policy == FAIL_POLICY_BYPASS) {
		config_err(errs, file, 0,
			   "'offload on' does not work with fail-policy "
			   "bypass (not implemented)");
		ok = false;
	}
	if (2 * c->offload_scan > shortest) {
		config_err(errs, file, 0,
			   "'offload-scan %u' must be at most half the "
			   "shortest ESP, IKE or pending timeout (%u s)",
			   c->offload_scan, shortest);
		ok = false;
	}
	return ok;
}

/* A directive of the other mode: an error naming its line when the
 * parser kept one (@once), as the whole directive otherwise. */
static bool config_wrong_mode(const struct config *c, const char *file,
			      struct config_errors *errs, bool present,
			      int once, const char *name)
{
	unsigned line = 0;
	const char *f = file;

	if (!present)
		return true;
	if (once != ONCE_NONE) {
		line = c->seen_line[once];
		f = config_origin(c, c->seen_file[once], file, &line);
	}
	config_err(errs, f, line, "'%s' has no meaning in mode %s", name,
		   c->mode == MODE_GATEWAY ? "gateway" : "masquerade");
	return false;
}

/* Mode gateway: nothing is translated, so none of the NAT settings
 * apply; a file that has them was written for the other mode. */
static bool config_check_gateway(const struct config *c, const char *file,
				 struct config_errors *errs)
{
	bool ok = true;

	ok &= config_wrong_mode(c, file, errs, c->n_inside, ONCE_NONE,
				"inside");
	ok &= config_wrong_mode(c, file, errs, c->n_aliases, ONCE_NONE,
				"alias");
	ok &= config_wrong_mode(c, file, errs, c->n_pins, ONCE_NONE, "pin");
	ok &= config_wrong_mode(c, file, errs, c->n_servers, ONCE_NONE,
				"server");
	ok &= config_wrong_mode(c, file, errs, c->seen_line[ONCE_OUTSIDE],
				ONCE_OUTSIDE, "outside");
	ok &= config_wrong_mode(c, file, errs,
				c->seen_line[ONCE_MARK] || c->n_marks,
				ONCE_NONE, "mark");
	ok &= config_wrong_mode(c, file, errs, c->seen_line[ONCE_NATT_PORTS],
				ONCE_NATT_PORTS, "natt-ports");
	ok &= config_wrong_mode(c, file, errs,
				c->seen_line[ONCE_ALIAS_CLIENTS],
				ONCE_ALIAS_CLIENTS, "alias-clients");
	ok &= config_wrong_mode(c, file, errs, c->seen_line[ONCE_GATE_HOLD],
				ONCE_GATE_HOLD, "gate-hold");
	ok &= config_wrong_mode(c, file, errs,
				c->seen_line[ONCE_CLIENT_SESSIONS],
				ONCE_CLIENT_SESSIONS,
				"max-sessions-per-client");
	ok &= config_wrong_mode(c, file, errs, c->seen_line[ONCE_BYPASS_MARK],
				ONCE_BYPASS_MARK, "bypass-mark");
	ok &= config_wrong_mode(c, file, errs, c->seen_line[ONCE_OFFLOAD],
				ONCE_OFFLOAD, "offload");
	ok &= config_wrong_mode(c, file, errs, c->seen_line[ONCE_OFFLOAD_SCAN],
				ONCE_OFFLOAD_SCAN, "offload-scan");
	ok &= config_wrong_mode(c, file, errs, c->seen_line[ONCE_OFFLOAD_READ],
				ONCE_OFFLOAD_READ, "offload-read");
	return ok;
}

static bool config_check_masquerade(const struct config *c, const char *file,
				    struct config_errors *errs)
{
	bool ok = true;

	ok &= config_wrong_mode(c, file, errs,
				c->seen_line[ONCE_GATEWAY_MARK],
				ONCE_GATEWAY_MARK, "gateway-mark");
	ok &= config_wrong_mode(c, file, errs,
				c->seen_line[ONCE_TIMEOUT_GATEWAY],
				ONCE_TIMEOUT_GATEWAY, "timeout gateway");
	ok &= config_wrong_mode(c, file, errs, c->n_services, ONCE_NONE,
				"gateway-service");
	return ok;
}

int config_finish(struct config *c, const char *file,
		  struct config_errors *errs)
{
	bool ok = true;

	if (!file)
		file = "(config)";
	if (!c->n_queues) {
		c->queues[0] = 0;
		c->n_queues = 1;
	}
	if (c->mode == MODE_GATEWAY) {
		ok = config_check_gateway(c, file, errs);
		if (!config_check_cpus(c, file, errs))
			ok = false;
		return ok ? 0 : -EINVAL;
	}
	if (!config_check_masquerade(c, file, errs))
		ok = false;
	if (!c->n_inside) {
		config_err(errs, file, 0, "no 'inside' network (at least one "
			   "is needed)");
		ok = false;
	}
	if (!c->n_aliases && !c->n_pins) {
		config_err(errs, file, 0, "no 'alias' or 'pin' (at least one "
			   "is needed)");
		ok = false;
	}
	if (!config_check_aliases(c, file, errs))
		ok = false;
	if (!config_check_pins(c, file, errs))
		ok = false;
	if (!config_check_cpus(c, file, errs))
		ok = false;
	if (!config_check_bypass_mark(c, file, errs))
		ok = false;
	if (!config_check_offload(c, file, errs))
		ok = false;
	return ok ? 0 : -EINVAL;
}

struct config_loader {
	struct config *c;
	struct config_errors *errs;
	struct {
		dev_t dev;
		ino_t ino;
	} open[CONFIG_MAX_INCLUDE + 1];	/* the files being read, for loops */
	unsigned depth;
	bool failed;
};

static int config_read(struct config_loader *ld, const char *path,
		       const char *from, unsigned from_line);

/* @name relative to the directory of @from, unless it is absolute. */
static int config_resolve(char *out, size_t size, const char *from,
			  const char *name)
{
	const char *slash = strrchr(from, '/');
	int n;

	if (name[0] == '/' || !slash)
		n = snprintf(out, size, "%s", name);
	else
		n = snprintf(out, size, "%.*s/%s", (int)(slash - from), from,
			     name);
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

static void config_load_line(struct config_loader *ld, const char *path,
			     unsigned lineno, const char *line)
{
	char inc[PATH_MAX];
	struct config_tokens t;

	if (config_split(line, &t) || !t.n || strcmp(t.v[0], "include")) {
		if (config_line(ld->c, path, lineno, line, ld->errs))
			ld->failed = true;
		return;
	}
	/* an include that cannot be read is a config error of @path */
	if (t.n != 2)
		config_err(ld->errs, path, lineno, "wrong number of arguments "
			   "to 'include' (expected: include FILE)");
	else if (ld->depth > CONFIG_MAX_INCLUDE)
		config_err(ld->errs, path, lineno, "include %s: nested too "
			   "deeply (at most %d levels)", t.v[1],
			   CONFIG_MAX_INCLUDE);
	else if (config_resolve(inc, sizeof(inc), path, t.v[1]))
		config_err(ld->errs, path, lineno, "include %s: path too long",
			   t.v[1]);
	else if (!config_read(ld, inc, path, lineno))
		return;
	ld->failed = true;
}

/*
 * Reads one file, recursing for `include`.  Errors inside the file set
 * ld->failed; the return value only says whether the file could be read.
 */
static int config_read(struct config_loader *ld, const char *path,
		       const char *from, unsigned from_line)
{
	char line[CONFIG_MAX_LINE + 1];
	unsigned lineno = 0, i;
	bool too_long, nul;
	struct stat st;
	size_t len;
	FILE *f;
	int ch, err = 0;

	f = fopen(path, "re");
	if (!f) {
		err = -errno;
		goto fail;
	}
	if (fstat(fileno(f), &st)) {
		err = -errno;
		goto fail;
	}
	if (S_ISDIR(st.st_mode)) {
		err = -EISDIR;
		goto fail;
	}
	/* anyone could then choose the aliases, the control group or the
	 * files a root daemon writes */
	if (st.st_mode & S_IWOTH) {
		config_err(ld->errs, from ? from : path, from ? from_line : 0,
			   "%s is writable by "
			   "everyone (mode %04o): refused; chmod o-w it",
			   path, (unsigned)(st.st_mode & 07777));
		err = -EPERM;
		goto out;
	}
	for (i = 0; i < ld->depth; i++) {
		if (ld->open[i].dev == st.st_dev &&
		    ld->open[i].ino == st.st_ino) {
			config_err(ld->errs, from, from_line, "include %s: "
				   "include loop (the file is already being "
				   "read)", path);
			err = -ELOOP;
			goto out;
		}
	}
	ld->open[ld->depth].dev = st.st_dev;
	ld->open[ld->depth].ino = st.st_ino;
	ld->depth++;
	for (;;) {
		len = 0;
		too_long = nul = false;
		while ((ch = getc(f)) != EOF && ch != '\n') {
			if (!ch)
				nul = true;
			if (len < CONFIG_MAX_LINE)
				line[len++] = (char)ch;
			else
				too_long = true;
		}
		if (ch == EOF && !len)
			break;
		line[len] = '\0';
		lineno++;
		if (too_long) {
			config_err(ld->errs, path, lineno, "line too long "
				   "(more than %d characters)",
				   CONFIG_MAX_LINE);
			ld->failed = true;
		} else if (nul) {
			config_err(ld->errs, path, lineno, "NUL byte in line");
			ld->failed = true;
		} else {
			config_load_line(ld, path, lineno, line);
		}
		if (ch == EOF)
			break;
	}
	ld->depth--;
	if (ferror(f)) {
		err = -EIO;
		goto fail;
	}
	goto out;
fail:
	if (from)
		config_err(ld->errs, from, from_line, "include %s: %s", path,
			   strerror(-err));
	else
		config_err(ld->errs, path, 0, "%s", strerror(-err));
out:
	if (f)
		fclose(f);
	return err;
}

int config_load(struct config *c, const char *path, struct config_errors *errs)
{
	struct config_loader ld = { .c = c, .errs = errs };
	int err;

	err = config_read(&ld, path, NULL, 0);
	if (err)
		return err;
	if (config_finish(c, path, errs))
		ld.failed = true;
	return ld.failed ? -EINVAL : 0;
}

bool cidr_contains(const struct cidr *n, uint32_t addr)
{
	return (addr & n->mask) == n->addr;
}

uint32_t config_offload_wait_ms(const struct config *c, uint32_t last_ms)
{
	uint64_t ms = (uint64_t)c->offload_scan * 1000, want;

	if (c->offload_scan_fixed)
		return (uint32_t)ms;
	want = 10 * (uint64_t)last_ms;
	if (want > ms)
		ms = want < (uint64_t)c->offload_scan_max * 1000 ?
		     want : (uint64_t)c->offload_scan_max * 1000;
	return (uint32_t)ms;
}

bool config_is_inside(const struct config *c, uint32_t addr)
{
	return config_inside_net(c, addr) != NULL;
}

bool config_is_server(const struct config *c, uint32_t addr)
{
	unsigned i;

	if (!c->n_servers)
		return true;
	for (i = 0; i < c->n_servers; i++)
		if (cidr_contains(&c->servers[i], addr))
			return true;
	return false;
}

uint32_t config_pin_for(const struct config *c, uint32_t client)
{
	unsigned i;

	for (i = 0; i < c->n_pins; i++)
		if (c->pins[i].client == client)
			return c->pins[i].alias;
	return 0;
}

uint32_t config_pin_client(const struct config *c, uint32_t alias)
{
	unsigned i;

	/* config_line() refuses a second pin on one alias */
	for (i = 0; i < c->n_pins; i++)
		if (c->pins[i].alias == alias)
			return c->pins[i].client;
	return 0;
}

bool config_alias_pinned(const struct config *c, uint32_t alias)
{
	unsigned i;

	for (i = 0; i < c->n_pins; i++)
		if (c->pins[i].alias == alias)
			return true;
	return false;
}

static const struct mark *config_mark_scope(const struct config *c,
					    enum mark_scope scope,
					    uint32_t addr)
{
	unsigned i;

	for (i = 0; i < c->n_marks; i++)
		if (c->marks[i].scope == scope &&
		    cidr_contains(&c->marks[i].net, addr))
			return &c->marks[i].mark;
	return NULL;
}

struct mark config_mark_for(const struct config *c, uint32_t client,
			    uint32_t server, uint32_t alias)
{
	const struct mark *m;

	m = config_mark_scope(c, MARK_SCOPE_CLIENT, client);
	if (!m)
		m = config_mark_scope(c, MARK_SCOPE_SERVER, server);
	if (!m)
		m = config_mark_scope(c, MARK_SCOPE_ALIAS, alias);
	if (!m)
		m = &c->mark;
	return *m;
}
