/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "ctlproto.h"
#include "prom.h"

#define MAX_KV 96

struct record {
	char *type;
	char *key[MAX_KV];
	char *val[MAX_KV];
	unsigned n;
};

static void usage(FILE *f)
{
	fprintf(f,
"usage: espmasqctl [-s SOCKET] [-j] COMMAND\n"
"       espmasqctl [-s SOCKET] --prometheus stats\n"
"  -s SOCKET  control socket (default " CONFIG_DEFAULT_CONTROL ")\n"
"  -j         print JSON, one object per record\n"
"commands:\n"
"  sessions [client ADDR] [server ADDR|CIDR] [alias ADDR] [spi HEX]\n"
"             the live session table, or the sessions that match every\n"
"             filter given (spi: any of its IKE or ESP SPIs, hex)\n"
"  aliases    every alias: pinned (to whom), drained, shared or free, and\n"
"             the clients and servers of its sessions\n"
"  flush all  remove every session: each tunnel through espmasq must then\n"
"             negotiate again (its client may get another alias)\n"
"  flush client ADDR\n"
"             remove that client's sessions only\n"
"  stats      counters per queue and for the session table; with\n"
"             --prometheus, in Prometheus' text format\n"
"  reload     read the configuration file again (as SIGHUP does) and say\n"
"             what came of it\n"
"  watch      session events as they happen, one a line, until\n"
"             interrupted: created, refused, spi-learned, ike-learned,\n"
"             new-sa (a rekey), expired, flushed\n");
}

/* Splits "type k=v k=v" in place. */
static void parse_record(char *line, struct record *r)
{
	char *save = NULL, *tok;

	r->n = 0;
	r->type = strtok_r(line, " ", &save);
	while ((tok = strtok_r(NULL, " ", &save)) && r->n < MAX_KV) {
		char *eq = strchr(tok, '=');

		if (!eq)
			continue;
		*eq = '\0';
		r->key[r->n] = tok;
		r->val[r->n++] = eq + 1;
	}
}

static const char *get(const struct record *r, const char *key)
{
	unsigned i;

	for (i = 0; i < r->n; i++)
		if (!strcmp(r->key[i], key))
			return r->val[i];
	return "";
}

static uint64_t getu(const struct record *r, const char *key)
{
	return strtoull(get(r, key), NULL, 10);
}

static const char *human(uint64_t v, char *buf, size_t len)
{
	static const char units[] = "KMGTPE";
	double d = (double)v;
	int u = -1;

	if (v < 1000) {
		snprintf(buf, len, "%" PRIu64, v);
		return buf;
	}
	while (d >= 1000 && u < 5) {
		d /= 1000;
		u++;
	}
	snprintf(buf, len, "%.1f%c", d, units[u]);
	return buf;
}

static const char *duration(uint64_t s, char *buf, size_t len)
{
	if (s < 120)
		snprintf(buf, len, "%" PRIu64 "s", s);
	else if (s < 7200)
		snprintf(buf, len, "%" PRIu64 "m%02" PRIu64 "s", s / 60, s % 60);
	else
		snprintf(buf, len, "%" PRIu64 "h%02" PRIu64 "m", s / 3600,
			 (s / 60) % 60);
	return buf;
}

/* A JSON number, by the grammar: -?(0|[1-9][0-9]*), short enough for
 * 64 bits.  Hex identifiers (SPIs, marks) are strings whatever their
 * digits look like: "00012001" is not a number, and "12001000" is hex. */
static bool json_number(const char *key, const char *v)
{
	static const char *const ids[] = { "spi", "ispi", "rspi", "mark" };
	const char *d = v;
	unsigned i;

	for (i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
		if (!strcmp(key, ids[i]))
			return false;
	if (*d == '-')
		d++;
	if (*d < '0' || *d > '9' || (*d == '0' && d[1]) || strlen(d) > 19)
		return false;
	for (; *d; d++)
		if (*d < '0' || *d > '9')
			return false;
	return true;
}

static void print_json(const struct record *r)
{
	unsigned i;

	printf("{\"type\":\"%s\"", r->type);
	for (i = 0; i < r->n; i++) {
		/* values never hold quotes or backslashes: the daemon
		 * prints addresses, hex and decimal numbers and names */
		if (json_number(r->key[i], r->val[i]))
			printf(",\"%s\":%s", r->key[i], r->val[i]);
		else
			printf(",\"%s\":\"%s\"", r->key[i], r->val[i]);
	}
	printf("}\n");
	if (!strcmp(r->type, "event"))
		fflush(stdout);
}

static void print_session(const struct record *r, bool *header)
{
	char p[64], by[64], b1[24], b2[24], b3[24], b4[24], id[24];

	if (!*header) {
		printf("%-15s  %-15s  %-15s  %-12s  %-13s  %-15s  %s\n",
		       "CLIENT", "ALIAS", "SERVER", "STATE", "PKTS OUT/IN",
		       "BYTES OUT/IN", "IDLE");
		*header = true;
	}
	snprintf(p, sizeof(p), "%s/%s", human(getu(r, "pkts_out"), b1, sizeof(b1)),
		 human(getu(r, "pkts_in"), b2, sizeof(b2)));
	human(getu(r, "bytes_out"), b3, sizeof(b3));
	human(getu(r, "bytes_in"), b4, sizeof(b4));
	snprintf(by, sizeof(by), "%s/%s", b3, b4);
	snprintf(id, sizeof(id), "%s%s", get(r, "state"),
		 !strcmp(get(r, "pinned"), "1") ? "*" : "");
	printf("%-15s  %-15s  %-15s  %-12s  %-13s  %-15s  %s\n",
	       get(r, "client"), get(r, "alias"), get(r, "server"), id, p,
	       by,
	       duration(getu(r, "idle"), b2, sizeof(b2)));
	if (*get(r, "natt_port"))
		printf("    NAT-T port %s on the alias (client's: %s)\n",
		       get(r, "natt_port"), get(r, "client_port"));
	if (*get(r, "gate_ms"))
		printf("    holds the alias's gate: %s ms left\n",
		       get(r, "gate_ms"));
	if (*get(r, "ike_wait")) {
		unsigned c = 0, sv = 0;

		sscanf(get(r, "ike_wait"), "%u/%u", &c, &sv);
		printf("    may own a rekeyed IKE SA not seen yet: %u "
		       "exchange(s) it started, %u the server started\n", c,
		       sv);
	}
	if (*get(r, "spi_wait"))
		printf("    waits for a new inbound SPI: %s left\n",
		       duration(getu(r, "spi_wait"), b1, sizeof(b1)));
}

/* A client mode gateway learned (a "client" record). */
static void print_gw_client(const struct record *r, bool *header)
{
	char p[64], ids[32], sids[32], b1[24], b2[24];
	bool l2tp = !strcmp(get(r, "kind"), "l2tp");

	if (!*header) {
		printf("%-15s  %-5s  %-10s  %-4s  %-13s  %-13s  %-5s  %-13s  "
		       "%s\n", "PEER", "PORT", "MARK", "KIND", "TUNNEL/GW",
		       "SESSION/GW", "CALLS", "PKTS IN/OUT", "IDLE");
		*header = true;
	}
	snprintf(p, sizeof(p), "%s/%s", human(getu(r, "pkts_in"), b1,
					      sizeof(b1)),
		 human(getu(r, "pkts_out"), b2, sizeof(b2)));
	if (l2tp) {
		snprintf(ids, sizeof(ids), "%s/%s", get(r, "tunnel"),
			 getu(r, "gw_tunnel") ? get(r, "gw_tunnel") : "-");
		if (*get(r, "session"))
			snprintf(sids, sizeof(sids), "%s/%s", get(r, "session"),
				 getu(r, "gw_session") ? get(r, "gw_session") :
				 "-");
		else
			snprintf(sids, sizeof(sids), "-");
	} else {
		snprintf(ids, sizeof(ids), "port %s", get(r, "local_port"));
		snprintf(sids, sizeof(sids), "-");
	}
	printf("%-15s  %-5s  %-10s  %-4s  %-13s  %-13s  %-5s  %-13s  %s\n",
	       get(r, "peer"), get(r, "port"), get(r, "mark"), get(r, "kind"),
	       ids, sids, l2tp ? get(r, "calls") : "-", p,
	       duration(getu(r, "idle"), b1, sizeof(b1)));
}

static void print_sa(const struct record *r)
{
	char n[24], idle[24];
	const char *kind = get(r, "kind");
	bool natt = !strcmp(get(r, "natt"), "1");
	const char *off = get(r, "offloaded");
	bool offl = *off && strcmp(off, "no");

	human(getu(r, "pkts"), n, sizeof(n));
	duration(getu(r, "idle"), idle, sizeof(idle));
	if (!strcmp(kind, "ike"))
		printf("    ike v%s  %s:%s%s  exch %s  pkts %s  idle %s%s%s\n",
		       get(r, "version"), get(r, "ispi"), get(r, "rspi"),
		       natt ? "  (nat-t)" : "", get(r, "exchange"), n, idle,
		       /* the kernel carries its INFORMATIONAL exchanges */
		       offl ? "  offloaded " : "", offl ? off : "");
	else
		printf("    %-7s spi %s%s  pkts %s  idle %s%s%s\n", kind,
		       get(r, "spi"), natt ? "  (udp)" : "", n, idle,
		       /* the kernel rewrites it (offload on) */
		       offl ? "  offloaded " : "", offl ? off : "");
}

static void print_reload(const struct record *r)
{
	printf("configuration reloaded: %s alias(es)\n", get(r, "aliases"));
	if (getu(r, "draining"))
		printf("%s alias(es) no longer listed stay with their sessions "
		       "until these expire\n", get(r, "draining"));
	if (getu(r, "rules_changed"))
		printf("the netfilter rules differ for this configuration: "
		       "apply them (espmasq-rules apply) once drained aliases "
		       "have no sessions left\n");
}

static void print_stat(const struct record *r)
{
	unsigned i;

	printf("%s", get(r, "scope"));
	for (i = 0; i < r->n; i++) {
		if (!strcmp(r->key[i], "scope"))
			continue;
		/* zero drop counters are noise */
		if (!strncmp(r->key[i], "drop_", 5) && !strcmp(r->val[i], "0"))
			continue;
		printf("%s%s=%s", i % 6 == 5 ? "\n   " : " ", r->key[i],
		       r->val[i]);
	}
	printf("\n");
}

/* The alias table is printed once every row is in, to align it. */
#define ALIAS_COLS 6

struct alias_rows {
	char *(*cell)[ALIAS_COLS];
	size_t n, cap;
};

/* A comma-separated list made readable: ", " between items. */
static char *spaced_list(const char *v)
{
	size_t i, o = 0, commas = 0;
	char *s;

	if (!*v)
		return strdup("-");
	for (i = 0; v[i]; i++)
		commas += v[i] == ',';
	s = malloc(i + commas + 1);
	if (!s)
		return NULL;
	for (i = 0; v[i]; i++) {
		s[o++] = v[i];
		if (v[i] == ',')
			s[o++] = ' ';
	}
	s[o] = '\0';
	return s;
}

static const char *alias_use(const struct record *r)
{
	bool drained = !strcmp(get(r, "drained"), "1");

	if (!getu(r, "sessions"))
		return drained ? "free, drained" : "free";
	if (!strcmp(get(r, "shared"), "1"))
		return drained ? "shared, drained" : "shared";
	return drained ? "in use, drained" : "in use";
}

/* Returns 0 or -ENOMEM. */
static int alias_row(struct alias_rows *t, const struct record *r)
{
	char **c;
	unsigned i;

	if (t->n == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 64;
		void *p = realloc(t->cell, cap * sizeof(*t->cell));

		if (!p)
			return -ENOMEM;
		t->cell = p;
		t->cap = cap;
	}
	c = t->cell[t->n];
	c[0] = strdup(get(r, "addr"));
	c[1] = strdup(alias_use(r));
	c[2] = strdup(*get(r, "pinned_to") ? get(r, "pinned_to") : "-");
	c[3] = strdup(get(r, "sessions"));
	c[4] = spaced_list(get(r, "clients"));
	c[5] = spaced_list(get(r, "servers"));
	for (i = 0; i < ALIAS_COLS; i++) {
		if (!c[i]) {
			while (i--)
				free(c[i]);
			return -ENOMEM;
		}
	}
	t->n++;
	return 0;
}

static void put_cell(const char *s, int w, bool last)
{
	if (last)
		printf("%s\n", s);
	else
		printf("%-*s  ", w, s);
}

static void alias_table(struct alias_rows *t)
{
	static const char *const head[ALIAS_COLS] = {
		"ALIAS", "USE", "PINNED TO", "SESSIONS", "CLIENTS", "SERVERS"
	};
	int w[ALIAS_COLS];
	size_t i;
	unsigned k;

	for (k = 0; k < ALIAS_COLS; k++) {
		w[k] = (int)strlen(head[k]);
		for (i = 0; i < t->n; i++)
			if ((int)strlen(t->cell[i][k]) > w[k])
				w[k] = (int)strlen(t->cell[i][k]);
	}
	for (k = 0; k < ALIAS_COLS; k++)
		put_cell(head[k], w[k], k + 1 == ALIAS_COLS);
	for (i = 0; i < t->n; i++) {
		for (k = 0; k < ALIAS_COLS; k++) {
			put_cell(t->cell[i][k], w[k], k + 1 == ALIAS_COLS);
			free(t->cell[i][k]);
		}
	}
	free(t->cell);
	t->cell = NULL;
	t->n = t->cap = 0;
}

static void print_flush(const struct record *r)
{
	if (*get(r, "entries"))
		printf("removed %s gateway entries; a flow is learned again "
		       "from its next packet, an L2TP tunnel when its client "
		       "sets it up again\n", get(r, "entries"));
	else
		printf("removed %s session(s); their clients get an alias "
		       "again with their next packet\n", get(r, "sessions"));
}

/* Prints @r, or keeps it for a table.  Returns 0 or -ENOMEM. */
/* One line per event: local time, what, who. */
static void print_event(const struct record *r)
{
	time_t t = (time_t)strtoll(get(r, "time"), NULL, 10);
	const char *kind = get(r, "kind");
	char when[16] = "--:--:--";
	struct tm tm;

	if (!strcmp(kind, "missed")) {
		printf("(%s events missed: this client read too slowly)\n",
		       get(r, "count"));
		fflush(stdout);
		return;
	}
	if (localtime_r(&t, &tm))
		strftime(when, sizeof(when), "%H:%M:%S", &tm);
	printf("%s  %-11s %-15s", when, kind,
	       *get(r, "client") ? get(r, "client") : "-");
	if (*get(r, "server"))
		printf(" -> %-15s", get(r, "server"));
	if (*get(r, "alias"))
		printf(" on %s", get(r, "alias"));
	if (*get(r, "sa"))
		printf("  %s spi %s", get(r, "sa"), get(r, "spi"));
	else if (*get(r, "spi"))
		printf("  spi %s", get(r, "spi"));
	if (*get(r, "reason"))
		printf("  (%s)", get(r, "reason"));
	if (*get(r, "sessions"))
		printf("  %s session(s)", get(r, "sessions"));
	printf("\n");
	/* a live stream: each line as it comes */
	fflush(stdout);
}

static int print_record(const struct record *r, bool json, bool *header,
			struct alias_rows *rows)
{
	if (json)
		print_json(r);
	else if (!strcmp(r->type, "session"))
		print_session(r, header);
	else if (!strcmp(r->type, "sa"))
		print_sa(r);
	else if (!strcmp(r->type, "client"))
		print_gw_client(r, header);
	else if (!strcmp(r->type, "stat"))
		print_stat(r);
	else if (!strcmp(r->type, "reload"))
		print_reload(r);
	else if (!strcmp(r->type, "flush"))
		print_flush(r);
	else if (!strcmp(r->type, "alias"))
		return alias_row(rows, r);
	else if (!strcmp(r->type, "event"))
		print_event(r);
	return 0;
}

static int connect_to(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "espmasqctl: socket path too long: %s\n", path);
		return -1;
	}
	strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		fprintf(stderr, "espmasqctl: cannot connect to %s: %s%s\n",
			path, strerror(errno),
			errno == ENOENT || errno == ECONNREFUSED ?
			" (is espmasqd running?)" : "");
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

int main(int argc, char **argv)
{
	const char *sock = CONFIG_DEFAULT_CONTROL;
	char req[CTL_MAX_REQUEST + 2], *line = NULL;
	bool json = false, header = false, ok = false, ended = false;
	bool failed = false;
	struct alias_rows rows = { .n = 0 };
	size_t cap = 0;
	ssize_t len;
	static const struct option longopts[] = {
		{ "prometheus", no_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct prom prom = { .n = 0 };
	bool prometheus = false;
	FILE *in;
	int opt, fd, i, n = 0;

	while ((opt = getopt_long(argc, argv, "s:jh", longopts, NULL)) != -1) {
		switch (opt) {
		case 's':
			sock = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 'p':
			prometheus = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	if (prometheus && (json || strcmp(argv[optind], "stats"))) {
		fprintf(stderr, "espmasqctl: --prometheus goes with stats, "
			"and not with -j\n");
		return 2;
	}
	if (!strcmp(argv[optind], "flush") && optind + 1 == argc) {
		fprintf(stderr, "espmasqctl: flush drops every session: each "
			"tunnel through espmasq must\n"
			"then negotiate again, and its client may get another "
			"alias.  Use\n"
			"'espmasqctl flush all' to mean it, or 'espmasqctl "
			"flush client ADDR'\nfor one client.\n");
		return 2;
	}
	for (i = optind; i < argc; i++) {
		int w = snprintf(req + n, sizeof(req) - (size_t)n, "%s%s",
				 i > optind ? " " : "", argv[i]);

		if (w < 0 || (size_t)(n + w) >= sizeof(req) - 1) {
			fprintf(stderr, "espmasqctl: request too long\n");
			return 2;
		}
		n += w;
	}
	req[n++] = '\n';

	fd = connect_to(sock);
	if (fd < 0)
		return 1;
	if (write(fd, req, (size_t)n) != n) {
		fprintf(stderr, "espmasqctl: write: %s\n", strerror(errno));
		return 1;
	}
	in = fdopen(fd, "r");
	if (!in)
		return 1;
	while ((len = getline(&line, &cap, in)) > 0) {
		struct record r;

		if (line[len - 1] == '\n')
			line[len - 1] = '\0';
		if (!ok) {
			if (!strncmp(line, "error", 5)) {
				fprintf(stderr, "espmasqctl: %s\n",
					line[5] ? line + 6 : "error");
				failed = true;
				continue;
			}
			if (failed) {
				/* the problems behind the error */
				if (!strncmp(line, "detail ", 7))
					fprintf(stderr, "  %s\n", line + 7);
				continue;
			}
			ok = !strcmp(line, "ok");
			continue;
		}
		if (!strcmp(line, "end")) {
			ended = true;
			break;
		}
		if (!strncmp(line, "error", 5)) {
			fprintf(stderr, "espmasqctl: %s\n", line);
			continue;
		}
		parse_record(line, &r);
		if (prometheus) {
			if (r.type && !strcmp(r.type, "stat"))
				prom_record(&prom, r.key, r.val, r.n);
			continue;
		}
		if (r.type && print_record(&r, json, &header, &rows) < 0) {
			fprintf(stderr, "espmasqctl: out of memory\n");
			failed = true;
			break;
		}
	}
	free(line);
	fclose(in);
	if (rows.n)
		alias_table(&rows);
	if (prometheus && prom_print(&prom, stdout) < 0) {
		fprintf(stderr, "espmasqctl: out of memory: some metrics "
			"left out\n");
		failed = true;
	}
	if (failed)
		return 1;
	if (!ended) {
		fprintf(stderr, "espmasqctl: the daemon closed the connection "
			"early\n");
		return 1;
	}
	if (!json && !header && !strcmp(argv[optind], "sessions"))
		printf(optind + 1 < argc ? "no sessions match\n" :
		       "no sessions\n");
	return 0;
}
