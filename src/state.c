/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "daemon.h"
#include "state.h"

#define STATE_MAGIC	"espmasq-state"
#define STATE_VERSION	1
#define MAX_KV		24

static const char *const kind_names[SA_KIND_MAX] = {
	[SA_IKE] = "ike", [SA_ESP_OUT] = "esp-out", [SA_ESP_IN] = "esp-in",
};

static const char *addr(uint32_t host, char *buf)
{
	uint32_t n = htonl(host);

	return inet_ntop(AF_INET, &n, buf, INET_ADDRSTRLEN);
}

/* Seconds from @now until @deadline, 0 if past. */
static uint32_t left(uint32_t deadline, uint32_t now)
{
	return (int32_t)(deadline - now) > 0 ? deadline - now : 0;
}

static void put_session(FILE *f, const struct session_view *s, uint32_t now)
{
	char c[INET_ADDRSTRLEN], v[INET_ADDRSTRLEN], a[INET_ADDRSTRLEN];

	fprintf(f, "session client=%s server=%s alias=%s flags=%" PRIu32
		" mark=%" PRIu32 "/%" PRIu32 " age=%" PRIu32 " idle=%" PRIu32
		" left=%" PRIu32 " pkts_out=%" PRIu64 " pkts_in=%" PRIu64
		" bytes_out=%" PRIu64 " bytes_in=%" PRIu64 " natt_cport=%u"
		" natt_xport=%u ike_pend=%u/%u ike_left=%" PRIu32 "\n",
		addr(s->client, c), addr(s->server, v), addr(s->alias, a),
		s->flags & (SESSION_F_REPLIED | SESSION_F_PINNED),
		s->mark_value, s->mark_mask, now - s->created,
		now - s->last_seen, left(s->deadline, now), s->pkts_out,
		s->pkts_in, s->bytes_out, s->bytes_in, s->natt_cport,
		s->natt_xport, s->ike_pend[0], s->ike_pend[1],
		left(s->ike_wait_until, now));
}

static void put_sa(FILE *f, const struct sa_view *a, uint32_t now)
{
	fprintf(f, "sa kind=%s spi_i=%" PRIx64 " spi_r=%" PRIx64
		" version=%u exchange=%u flags=%u idle=%" PRIu32
		" left=%" PRIu32 " pkts=%" PRIu64 " bytes=%" PRIu64 "\n",
		kind_names[a->kind < SA_KIND_MAX ? a->kind : SA_IKE],
		a->spi_i, a->spi_r, a->version, a->exchange, a->flags,
		now - a->last_seen, left(a->deadline, now), a->pkts, a->bytes);
}

/* A client of mode gateway. */
static void put_gw(FILE *f, const struct gw_view *g, uint32_t now)
{
	char p[INET_ADDRSTRLEN];

	fprintf(f, "gw peer=%s port=%u kind=%s proto=%u id=%u gid=%u "
		"csid=%u gsid=%u calls=%u mark=%" PRIu32 " age=%" PRIu32
		" idle=%" PRIu32 " left=%" PRIu32 " pkts_in=%" PRIu32
		" pkts_out=%" PRIu32 "\n", addr(ntohl(g->peer), p), g->pport,
		g->l2tp ? "l2tp" : "flow", g->proto, g->id, g->gid, g->csid,
		g->gsid, g->calls, g->mark, now - g->created,
		now - g->last_seen, left(g->deadline, now), g->pkts_in,
		g->pkts_out);
}

/* Makes what was written to @fd durable, then puts it in place of
 * @path, and the rename itself durable. */
static int commit(FILE *f, const char *tmp, const char *path)
{
	char dir[PATH_MAX];
	int err = 0, dfd;

	if (fflush(f) || fsync(fileno(f)))
		err = -errno;
	if (fclose(f) && !err)
		err = -errno;
	if (!err && rename(tmp, path))
		err = -errno;
	if (err) {
		unlink(tmp);
		return err;
	}
	snprintf(dir, sizeof(dir), "%s", path);
	dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	return 0;
}

int state_write(struct daemon *d)
{
	const char *path = d->cfg->state;
	struct session_view *sv = NULL;
	struct sa_view *av = NULL;
	struct gw_view *gv = NULL;
	size_t nsv = 0, nav = 0, ngv = 0, i, j;
	char tmp[CONFIG_PATH_MAX + 8];
	uint32_t now;
	FILE *f;
	int fd, err;

	if (!path[0])
		return 0;
	pthread_mutex_lock(&d->table_lock);
	now = daemon_now();
	err = session_snapshot(d->table, &sv, &nsv, &av, &nav);
	if (!err && d->gw)
		err = gw_snapshot(d->gw, now, &gv, &ngv);
	pthread_mutex_unlock(&d->table_lock);
	if (err < 0)
		goto out;
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || !(f = fdopen(fd, "w"))) {
		err = -errno;
		if (fd >= 0)
			close(fd);
		goto out;
	}
	fprintf(f, "%s %d written=%lld\n", STATE_MAGIC, STATE_VERSION,
		(long long)time(NULL));
	for (i = 0; i < nsv; i++) {
		put_session(f, &sv[i], now);
		for (j = sv[i].first_sa; j < sv[i].first_sa + sv[i].n_sa &&
		     j < nav; j++)
			put_sa(f, &av[j], now);
	}
	for (i = 0; i < ngv; i++)
		if (!gv[i].expired)
			put_gw(f, &gv[i], now);
	fprintf(f, "end\n");
	err = commit(f, tmp, path);
out:
	free(sv);
	free(av);
	free(gv);
	if (err)
		log_msg(LOG_ERR, "state %s: cannot write: %s", path,
			strerror(-err));
	else
		log_debug("state %s: %zu sessions, %zu gateway entries "
			  "written", path, nsv, ngv);
	return err;
}

/* ------------------------------------------------------------ reading */

struct kv {
	char *key[MAX_KV];
	char *val[MAX_KV];
	unsigned n;
};

static char *split(char *line, struct kv *r)
{
	char *save = NULL, *tok, *type = strtok_r(line, " \t\n", &save);

	r->n = 0;
	while ((tok = strtok_r(NULL, " \t\n", &save)) && r->n < MAX_KV) {
		char *eq = strchr(tok, '=');

		if (!eq)
			continue;
		*eq = '\0';
		r->key[r->n] = tok;
		r->val[r->n++] = eq + 1;
	}
	return type;
}

static const char *get(const struct kv *r, const char *key)
{
	unsigned i;

	for (i = 0; i < r->n; i++)
		if (!strcmp(r->key[i], key))
			return r->val[i];
	return NULL;
}

/* Reads @key as a number in @base no larger than @max. */
static bool num(const struct kv *r, const char *key, int base, uint64_t max,
		uint64_t *out)
{
	const char *v = get(r, key);
	char *end;

	if (!v || !*v || *v == '-')
		return false;
	errno = 0;
	*out = strtoull(v, &end, base);
	return !errno && !*end && *out <= max;
}

static bool u32(const struct kv *r, const char *key, uint32_t *out)
{
	uint64_t v;

	if (!num(r, key, 10, UINT32_MAX, &v))
		return false;
	*out = (uint32_t)v;
	return true;
}

static bool ip(const struct kv *r, const char *key, uint32_t *out)
{
	const char *v = get(r, key);
	struct in_addr a;

	if (!v || inet_pton(AF_INET, v, &a) != 1)
		return false;
	*out = ntohl(a.s_addr);
	return true;
}

/* "A/B" of two numbers no larger than @max. */
static bool pair(const struct kv *r, const char *key, uint32_t max,
		 uint32_t *a, uint32_t *b)
{
	const char *v = get(r, key);
	char *end;
	unsigned long x, y;

	if (!v || *v == '-')
		return false;
	errno = 0;
	x = strtoul(v, &end, 10);
	if (errno || *end != '/' || end[1] == '-')
		return false;
	y = strtoul(end + 1, &end, 10);
	if (errno || *end || x > max || y > max)
		return false;
	*a = (uint32_t)x;
	*b = (uint32_t)y;
	return true;
}

/* Times of a record written @elapsed seconds ago, on this run's clock:
 * false when its time ran out meanwhile. */
static bool times(uint32_t now, uint32_t elapsed, uint32_t age, uint32_t idle,
		  uint32_t rest, uint32_t *created, uint32_t *last_seen,
		  uint32_t *deadline)
{
	if (rest <= elapsed)
		return false;
	if (created)
		*created = now - age - elapsed;
	*last_seen = now - idle - elapsed;
	*deadline = now + (rest - elapsed);
	return true;
}

enum parsed { P_OK, P_BAD, P_EXPIRED, P_REFUSED };

static enum parsed read_session(struct daemon *d, const struct kv *r,
				uint32_t now, uint32_t elapsed,
				session_id *cur)
{
	const struct config *c = d->cfg;
	struct session_view v = { .id = 0 };
	uint32_t age, idle, rest, ike_left, cport, xport, p0, p1, pin;
	uint64_t x;

	*cur = SESSION_NONE;
	if (!ip(r, "client", &v.client) || !ip(r, "server", &v.server) ||
	    !ip(r, "alias", &v.alias) || !u32(r, "flags", &v.flags) ||
	    !pair(r, "mark", UINT32_MAX, &v.mark_value, &v.mark_mask) ||
	    !u32(r, "age", &age) || !u32(r, "idle", &idle) ||
	    !u32(r, "left", &rest) || !num(r, "pkts_out", 10, UINT64_MAX,
					   &v.pkts_out) ||
	    !num(r, "pkts_in", 10, UINT64_MAX, &v.pkts_in) ||
	    !num(r, "bytes_out", 10, UINT64_MAX, &v.bytes_out) ||
	    !num(r, "bytes_in", 10, UINT64_MAX, &v.bytes_in) ||
	    !u32(r, "natt_cport", &cport) || cport > 65535 ||
	    !u32(r, "natt_xport", &xport) || xport > 65535 ||
	    !pair(r, "ike_pend", 8, &p0, &p1) ||
	    !num(r, "ike_left", 10, UINT32_MAX, &x))
		return P_BAD;
	ike_left = (uint32_t)x;
	if (!times(now, elapsed, age, idle, rest, &v.created, &v.last_seen,
		   &v.deadline))
		return P_EXPIRED;
	/* the configuration may have changed in between: only what it
	 * still allows comes back */
	pin = config_pin_for(c, v.client);
	if (!config_is_inside(c, v.client) || !config_is_server(c, v.server) ||
	    !alias_pool_has(d->pool, v.alias) || (pin && pin != v.alias) ||
	    (!pin && config_alias_pinned(c, v.alias)))
		return P_REFUSED;
	v.flags &= SESSION_F_REPLIED;
	if (pin)
		v.flags |= SESSION_F_PINNED;
	v.natt_cport = (uint16_t)cport;
	v.natt_xport = (uint16_t)xport;
	if (ike_left > elapsed) {
		v.ike_pend[0] = (uint8_t)p0;
		v.ike_pend[1] = (uint8_t)p1;
		v.ike_wait_until = now + (ike_left - elapsed);
	}
	*cur = session_restore(d->table, &v);
	return *cur == SESSION_NONE ? P_REFUSED : P_OK;
}

static enum parsed read_sa(struct daemon *d, const struct kv *r, uint32_t now,
			   uint32_t elapsed, session_id s)
{
	struct sa_view a = { .spi_i = 0 };
	const char *kind = get(r, "kind");
	uint32_t idle, rest, version, exch, flags;
	unsigned k;

	for (k = 0; k < SA_KIND_MAX; k++)
		if (kind && !strcmp(kind, kind_names[k]))
			break;
	if (k == SA_KIND_MAX ||
	    !num(r, "spi_i", 16, UINT64_MAX, &a.spi_i) ||
	    !num(r, "spi_r", 16, UINT64_MAX, &a.spi_r) ||
	    !u32(r, "version", &version) || version > 255 ||
	    !u32(r, "exchange", &exch) || exch > 255 ||
	    !u32(r, "flags", &flags) || flags > 255 ||
	    !u32(r, "idle", &idle) || !u32(r, "left", &rest) ||
	    !num(r, "pkts", 10, UINT64_MAX, &a.pkts) ||
	    !num(r, "bytes", 10, UINT64_MAX, &a.bytes))
		return P_BAD;
	if (s == SESSION_NONE)
		return P_REFUSED;	/* its session did not come back */
	if (!times(now, elapsed, 0, idle, rest, NULL, &a.last_seen,
		   &a.deadline))
		return P_EXPIRED;
	a.kind = (uint8_t)k;
	a.version = (uint8_t)version;
	a.exchange = (uint8_t)exch;
	/* the kernel's offload maps start empty */
	a.flags = (uint8_t)(flags & ~SA_F_OFFLOAD_ANY);
	return session_sa_restore(d->table, s, &a) ? P_REFUSED : P_OK;
}

static enum parsed read_gw(struct daemon *d, const struct kv *r,
			   uint32_t now, uint32_t elapsed)
{
	struct gw_view v = { .peer = 0 };
	const char *kind = get(r, "kind");
	uint32_t port, proto, id, gid, csid, gsid, calls, age, idle, rest;
	uint32_t host;

	if (!kind || (strcmp(kind, "l2tp") && strcmp(kind, "flow")) ||
	    !ip(r, "peer", &host) || !u32(r, "port", &port) ||
	    port > 65535 || !u32(r, "proto", &proto) || proto > 255 ||
	    !u32(r, "id", &id) || id > 65535 || !u32(r, "gid", &gid) ||
	    gid > 65535 || !u32(r, "csid", &csid) || csid > 65535 ||
	    !u32(r, "gsid", &gsid) || gsid > 65535 ||
	    !u32(r, "calls", &calls) || calls > 65535 ||
	    !u32(r, "mark", &v.mark) || !u32(r, "age", &age) ||
	    !u32(r, "idle", &idle) || !u32(r, "left", &rest) ||
	    !u32(r, "pkts_in", &v.pkts_in) || !u32(r, "pkts_out", &v.pkts_out))
		return P_BAD;
	if (!d->gw)
		return P_REFUSED;	/* written in mode gateway */
	if (!times(now, elapsed, age, idle, rest, &v.created, &v.last_seen,
		   &v.deadline))
		return P_EXPIRED;
	v.peer = htonl(host);
	v.pport = (uint16_t)port;
	v.proto = (uint8_t)proto;
	v.l2tp = !strcmp(kind, "l2tp");
	v.id = (uint16_t)id;
	v.gid = (uint16_t)gid;
	v.csid = (uint16_t)csid;
	v.gsid = (uint16_t)gsid;
	v.calls = (uint16_t)calls;
	v.mark &= d->cfg->gateway_mask;
	switch (gw_restore(d->gw, &v)) {
	case 0:
		return P_OK;
	case -EINVAL:
		return P_BAD;
	default:
		return P_REFUSED;
	}
}

/* The header line: the writing time, or -1 when it is not a state file
 * this version reads. */
static long long header(char *line)
{
	struct kv r;
	char *type = split(line, &r);
	uint64_t w;

	if (!type || strcmp(type, STATE_MAGIC) || !r.n ||
	    !num(&r, "written", 10, INT64_MAX, &w))
		return -1;
	/* the version is the bare word after the magic */
	return (long long)w;
}

int state_load(struct daemon *d, struct state_counts *n)
{
	const char *path = d->cfg->state;
	session_id cur = SESSION_NONE;
	char *line = NULL, *type;
	size_t cap = 0;
	long long written, wall;
	uint32_t now, elapsed;
	bool ended = false;
	unsigned lineno = 1;
	FILE *f;

	memset(n, 0, sizeof(*n));
	if (!path[0])
		return 0;
	f = fopen(path, "re");
	if (!f) {
		if (errno == ENOENT)
			return 0;
		log_msg(LOG_ERR, "state %s: cannot read: %s", path,
			strerror(errno));
		return -errno;
	}
	if (getline(&line, &cap, f) < 0 ||
	    strncmp(line, STATE_MAGIC " 1 ", sizeof(STATE_MAGIC " 1 ") - 1) ||
	    (written = header(line)) < 0) {
		log_msg(LOG_ERR, "state %s: not an espmasq state file of "
			"version %d; sessions start empty", path,
			STATE_VERSION);
		free(line);
		fclose(f);
		return -EINVAL;
	}
	wall = (long long)time(NULL);
	elapsed = wall > written ? (uint32_t)(wall - written) : 0;
	now = daemon_now();
	while (getline(&line, &cap, f) >= 0) {
		struct kv r;
		enum parsed p;

		lineno++;
		type = split(line, &r);
		if (!type)
			continue;
		if (!strcmp(type, "end")) {
			ended = true;
			break;
		}
		if (!strcmp(type, "session")) {
			p = read_session(d, &r, now, elapsed, &cur);
			n->sessions += p == P_OK;
		} else if (!strcmp(type, "sa")) {
			p = read_sa(d, &r, now, elapsed, cur);
			n->sas += p == P_OK;
		} else if (!strcmp(type, "gw")) {
			p = read_gw(d, &r, now, elapsed);
			n->gw += p == P_OK;
			n->gw_dropped += p == P_EXPIRED || p == P_REFUSED;
		} else {
			p = P_BAD;
		}
		if (p == P_BAD && n->bad++ < 5)
			log_warnx("state %s:%u: not understood, skipped", path,
				  lineno);
		if (!strcmp(type, "session")) {
			n->expired += p == P_EXPIRED;
			n->refused += p == P_REFUSED;
		}
	}
	free(line);
	fclose(f);
	if (!ended)
		log_warnx("state %s: ends early (no 'end' line): what it "
			  "held so far is kept", path);
	if (d->gw)
		log_info("state %s: %u gateway entries restored (written %u "
			 "s ago); %u expired meanwhile or refused, %u lines "
			 "not understood", path, n->gw, elapsed,
			 n->gw_dropped, n->bad);
	else
		log_info("state %s: %u sessions and %u SAs restored (written "
			 "%u s ago); %u expired meanwhile, %u no longer "
			 "allowed by the configuration, %u lines not "
			 "understood", path, n->sessions, n->sas, elapsed,
			 n->expired, n->refused, n->bad);
	return 0;
}
