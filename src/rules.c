/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "rules.h"

struct range {
	uint32_t lo, hi;
};

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* Every alias, pinned ones included, merged into ranges. */
static size_t alias_ranges(const struct config *c, struct range *r)
{
	uint32_t all[CONFIG_MAX_ALIASES + CONFIG_MAX_PINS];
	size_t n = 0, nr = 0, i;

	for (i = 0; i < c->n_aliases; i++)
		all[n++] = c->aliases[i];
	for (i = 0; i < c->n_pins; i++)
		all[n++] = c->pins[i].alias;
	qsort(all, n, sizeof(all[0]), cmp_u32);
	for (i = 0; i < n; i++) {
		if (nr && (all[i] == r[nr - 1].hi ||
			   all[i] == r[nr - 1].hi + 1)) {
			r[nr - 1].hi = all[i];
			continue;
		}
		r[nr].lo = r[nr].hi = all[i];
		nr++;
	}
	return nr;
}

static const char *ip(uint32_t host, char *buf)
{
	uint32_t n = htonl(host);

	return inet_ntop(AF_INET, &n, buf, INET_ADDRSTRLEN);
}

static int prefix_len(uint32_t mask)
{
	return mask ? 32 - __builtin_ctz(mask) : 0;
}

static const char *cidr(const struct cidr *n, char *buf)
{
	char a[INET_ADDRSTRLEN];

	snprintf(buf, 24, "%s/%d", ip(n->addr, a), prefix_len(n->mask));
	return buf;
}

static const char *range_str(const struct range *r, char *buf)
{
	char a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN];

	snprintf(buf, 40, "%s-%s", ip(r->lo, a), ip(r->hi, b));
	return buf;
}

/*
 * Several queues are spread by flow hash, unless every worker is pinned
 * to a CPU that the kernel's CPU fanout (queue = first + cpu % count)
 * maps to its own queue: then each packet stays on the CPU it arrived
 * on, whose worker handles it, and no flow crosses CPUs.  bench-kernel.sh
 * measured that with traffic entering on both CPUs of a 2-CPU router.
 */
static bool queue_cpu_fanout(const struct config *c)
{
	unsigned i;

	if (c->n_queues < 2)
		return false;
	for (i = 0; i < c->n_queues; i++)
		if (c->cpu[i] < 0 || (unsigned)c->cpu[i] % c->n_queues != i)
			return false;
	return true;
}

/* NFQUEUE target / queue statement for the configured queues; @bypass:
 * the kernel accepts instead of dropping while no daemon listens. */
static int queue_target(const struct config *c, enum rules_format fmt,
			bool bypass, char *buf, size_t len)
{
	unsigned lo = c->queues[0], hi = c->queues[c->n_queues - 1];
	bool fanout = queue_cpu_fanout(c);

	if (hi - lo + 1 != c->n_queues) {
		fprintf(stderr, "espmasqd: queues must be contiguous to be "
			"balanced by the kernel (got %u queues in %u-%u)\n",
			c->n_queues, lo, hi);
		return -EINVAL;
	}
	if (fmt == RULES_NFT) {
		if (lo == hi)
			snprintf(buf, len, "queue num %u%s", lo,
				 bypass ? " bypass" : "");
		else
			snprintf(buf, len, "queue num %u-%u%s%s", lo, hi,
				 fanout ? " fanout" : "",
				 bypass ? " bypass" : "");
	} else if (lo == hi) {
		snprintf(buf, len, "-j NFQUEUE --queue-num %u%s", lo,
			 bypass ? " --queue-bypass" : "");
	} else {
		snprintf(buf, len, "-j NFQUEUE --queue-balance %u:%u%s%s", lo,
			 hi, fanout ? " --queue-cpu-fanout" : "",
			 bypass ? " --queue-bypass" : "");
	}
	return 0;
}

/* Where the kernel's NAT puts what bypassed the daemon: the first range
 * of pool aliases (pinned ones if there are none). */
static struct range fallback_range(const struct config *c,
				   const struct range *ar)
{
	struct range r;
	unsigned i;

	if (!c->n_aliases)
		return ar[0];
	r.lo = r.hi = c->aliases[0];
	for (i = 1; i < c->n_aliases && c->aliases[i] == r.hi + 1; i++)
		r.hi = c->aliases[i];
	return r;
}

/* The queue targets of one configuration: @q for inbound and for what
 * may bypass, @hard for what must never pass without the daemon. */
struct targets {
	char q[96];
	char hard[96];
	bool bypass;
};

/*
 * Offload on: most packets through the mangle chains are ones the offload
 * table rewrote (rules.h), which no rule there matches any more.  They
 * leave at once instead of failing every rule: those not on the outside
 * interface, those now to an inside client, those now from an alias.
 */
static void print_iptables_skip(FILE *f, const struct config *c,
				const struct range *ar, size_t nar)
{
	char s1[24], r1[40];
	size_t i;

	if (c->outside[0]) {
		fprintf(f, "-A %s ! -i %s -j RETURN\n", RULES_CHAIN_IN,
			c->outside);
		fprintf(f, "-A %s ! -o %s -j RETURN\n", RULES_CHAIN_OUT,
			c->outside);
	}
	for (i = 0; i < c->n_inside; i++)
		fprintf(f, "-A %s -d %s -j RETURN\n", RULES_CHAIN_IN,
			cidr(&c->inside[i], s1));
	if (c->n_inside == 1) {
		/* one inside network: what does not come from it is not
		 * queued here (iptables-nft matches that itself; iprange is
		 * a call into the xtables module) */
		cidr(&c->inside[0], s1);
		fprintf(f, "-A %s ! -s %s -p esp -j RETURN\n"
			"-A %s ! -s %s -p udp -j RETURN\n", RULES_CHAIN_OUT,
			s1, RULES_CHAIN_OUT, s1);
		return;
	}
	for (i = 0; i < nar; i++) {
		fprintf(f, "-A %s -m iprange --src-range %s -p esp -j "
			"RETURN\n", RULES_CHAIN_OUT, range_str(&ar[i], r1));
		fprintf(f, "-A %s -m iprange --src-range %s -p udp -j "
			"RETURN\n", RULES_CHAIN_OUT, range_str(&ar[i], r1));
	}
}

static void print_iptables(FILE *f, const struct config *c,
			   const struct targets *t, const struct range *ar,
			   size_t nar)
{
	/* outbound: one rule a port, as iptables-nft matches a port itself
	 * but calls the xtables module for multiport; ESP first, as the
	 * most common */
	static const char *const l4[] = {
		"-p esp", "-p udp --dport 4500", "-p udp --dport 500",
	};
	static const char *const l4_in[] = {
		"-p udp -m multiport --ports 500,4500", "-p esp",
	};
	/* later fragments carry no ports: they follow their session */
	static const char frag[] = "-p udp -f";
	static const char *const icmp_errors[] = {
		"destination-unreachable", "time-exceeded", "parameter-problem",
	};
	char s1[24], s2[24], r1[40];
	char oif[40] = "", iif[40] = "";
	size_t i, j, k, ns = c->n_servers ? c->n_servers : 1;
	const char *q = t->q;
	const char *out = t->bypass ? "-j " RULES_CHAIN_OUTQ : t->q;
	/* With bypass, espmasq's flows are untracked only while espmasqd
	 * beats (rules.h); then conntrack sees them, for the kernel's NAT. */
	char alive[128] = "";
	struct range fb;

	if (t->bypass)
		snprintf(alive, sizeof(alive), " -m recent --name %s --rcheck "
			 "--seconds %u --mask 0.0.0.0 --rsource",
			 RULES_HEARTBEAT_NAME, RULES_HEARTBEAT_SECONDS);
	if (c->outside[0]) {
		snprintf(oif, sizeof(oif), " -o %s", c->outside);
		snprintf(iif, sizeof(iif), " -i %s", c->outside);
	}
	fprintf(f, "*raw\n:%s - [0:0]\n", RULES_CHAIN_RAW);
	fprintf(f, "-I PREROUTING 1 -j %s\n", RULES_CHAIN_RAW);
	/* Every packet the router forwards comes through these chains:
	 * what cannot be espmasq's leaves each at its first rule instead
	 * of failing all of them (TCP everywhere, ICMP here, where only
	 * ESP and UDP are untracked) */
	fprintf(f, "-A %s -p tcp -j RETURN\n-A %s -p icmp -j RETURN\n",
		RULES_CHAIN_RAW, RULES_CHAIN_RAW);
	for (i = 0; i < c->n_inside; i++)
		for (j = 0; j < ns; j++)
			for (k = 0; k < 3; k++) {
				fprintf(f, "-A %s -s %s", RULES_CHAIN_RAW,
					cidr(&c->inside[i], s1));
				if (c->n_servers)
					fprintf(f, " -d %s",
						cidr(&c->servers[j], s2));
				fprintf(f, " %s%s -j CT --notrack\n", l4[k],
					alive);
			}
	for (i = 0; i < nar; i++)
		for (j = 0; j < ns; j++)
			for (k = 0; k < 2; k++) {
				fprintf(f, "-A %s%s -m iprange --dst-range %s",
					RULES_CHAIN_RAW, iif,
					range_str(&ar[i], r1));
				if (c->n_servers)
					fprintf(f, " -s %s",
						cidr(&c->servers[j], s2));
				fprintf(f, " %s%s -j CT --notrack\n",
					l4_in[k], alive);
			}
	fprintf(f, "COMMIT\n*mangle\n:%s - [0:0]\n:%s - [0:0]\n:%s - [0:0]\n"
		":%s - [0:0]\n:%s - [0:0]\n", RULES_CHAIN_IN, RULES_CHAIN_OUT,
		RULES_CHAIN_OUTQ, RULES_CHAIN_GWIN, RULES_CHAIN_GWOUT);
	fprintf(f, "-I PREROUTING 1 -j %s\n", RULES_CHAIN_IN);
	fprintf(f, "-I POSTROUTING 1 -j %s\n", RULES_CHAIN_OUT);
	fprintf(f, "-A %s -p tcp -j RETURN\n-A %s -p tcp -j RETURN\n",
		RULES_CHAIN_IN, RULES_CHAIN_OUT);
	if (c->offload)
		print_iptables_skip(f, c, ar, nar);
	for (i = 0; i < nar; i++) {
		for (j = 0; j < ns; j++)
			for (k = 0; k < 3; k++) {
				fprintf(f, "-A %s%s -m iprange --dst-range %s",
					RULES_CHAIN_IN, iif,
					range_str(&ar[i], r1));
				if (c->n_servers)
					fprintf(f, " -s %s",
						cidr(&c->servers[j], s2));
				fprintf(f, " %s %s\n",
					k < 2 ? l4_in[k] : frag, q);
			}
		/* errors about our flows come from any router on the path */
		for (k = 0; k < 3; k++)
			fprintf(f, "-A %s%s -m iprange --dst-range %s -p icmp "
				"--icmp-type %s %s\n", RULES_CHAIN_IN, iif,
				range_str(&ar[i], r1), icmp_errors[k], q);
	}
	for (i = 0; i < c->n_inside; i++)
		for (j = 0; j < ns; j++)
			for (k = 0; k < 4; k++) {
				fprintf(f, "-A %s%s -s %s", RULES_CHAIN_OUT,
					oif, cidr(&c->inside[i], s1));
				if (c->n_servers)
					fprintf(f, " -d %s",
						cidr(&c->servers[j], s2));
				fprintf(f, " %s %s\n", k < 3 ? l4[k] : frag,
					out);
			}
	/* errors to a server about what it sent a client, from the client
	 * or from this router */
	for (j = 0; j < ns; j++)
		for (k = 0; k < 3; k++) {
			fprintf(f, "-A %s%s", RULES_CHAIN_OUT, oif);
			if (c->n_servers)
				fprintf(f, " -d %s", cidr(&c->servers[j], s2));
			fprintf(f, " -p icmp --icmp-type %s %s\n",
				icmp_errors[k], out);
		}
	if (t->bypass) {
		/* Only two kinds may pass while no daemon listens: a flow
		 * the kernel's NAT already translates, and the first packet
		 * of a new one (the nat table below translates it).  A flow
		 * espmasqd was translating has a conntrack entry that NATs
		 * nothing: without the daemon it is dropped, not leaked. */
		fprintf(f, "-A %s -m conntrack --ctstate SNAT %s\n",
			RULES_CHAIN_OUTQ, t->q);
		fprintf(f, "-A %s -m conntrack ! --ctstatus CONFIRMED %s\n",
			RULES_CHAIN_OUTQ, t->q);
		fprintf(f, "-A %s %s\n", RULES_CHAIN_OUTQ, t->hard);
	}
	fprintf(f, "COMMIT\n*nat\n:%s - [0:0]\n", RULES_CHAIN_NAT);
	fprintf(f, "-I POSTROUTING 1 -j %s\n", RULES_CHAIN_NAT);
	if (t->bypass) {
		fb = fallback_range(c, ar);
		/* espmasqd's own: no NAT on top of its translation */
		fprintf(f, "-A %s -m mark --mark 0x%x/0x%x -j ACCEPT\n",
			RULES_CHAIN_NAT, c->bypass_mark.value,
			c->bypass_mark.mask);
		for (i = 0; i < c->n_inside; i++)
			for (j = 0; j < ns; j++)
				for (k = 0; k < 3; k++) {
					fprintf(f, "-A %s%s -s %s",
						RULES_CHAIN_NAT, oif,
						cidr(&c->inside[i], s1));
					if (c->n_servers)
						fprintf(f, " -d %s",
							cidr(&c->servers[j],
							     s2));
					fprintf(f, " %s -j SNAT --to-source "
						"%s\n", l4[k],
						range_str(&fb, r1));
				}
	}
	fprintf(f, "COMMIT\n");
}

/* What mode gateway queues: udp/1701 (L2TP) and the services, the
 * L4 match of each as "-p udp --%cport 1701" with 'd' or 's'. */
static void gw_match(char *buf, size_t len, const struct config *c,
		     unsigned i, char dir, bool nft)
{
	uint8_t proto = i ? c->services[i - 1].proto : 17;
	unsigned port = i ? c->services[i - 1].port : 1701;
	const char *p = proto == 17 ? "udp" : "tcp";

	if (nft)
		snprintf(buf, len, "%s %cport %u", p, dir, port);
	else
		snprintf(buf, len, "-p %s --%cport %u", p, dir, port);
}

/*
 * Mode gateway: packets from clients, after IPsec (INPUT), that carry an
 * SA mark, for learning; packets to them (OUTPUT), for the mark.  The
 * chains of the other mode are declared too, so that applying these
 * rules over them leaves them empty.
 */
static void print_gateway_iptables(FILE *f, const struct config *c,
				   const struct targets *t)
{
	char m[48];
	unsigned i;

	fprintf(f, "*raw\n:%s - [0:0]\nCOMMIT\n", RULES_CHAIN_RAW);
	fprintf(f, "*mangle\n:%s - [0:0]\n:%s - [0:0]\n:%s - [0:0]\n"
		":%s - [0:0]\n:%s - [0:0]\n", RULES_CHAIN_IN, RULES_CHAIN_OUT,
		RULES_CHAIN_OUTQ, RULES_CHAIN_GWIN, RULES_CHAIN_GWOUT);
	fprintf(f, "-I INPUT 1 -j %s\n", RULES_CHAIN_GWIN);
	fprintf(f, "-I OUTPUT 1 -j %s\n", RULES_CHAIN_GWOUT);
	for (i = 0; i <= c->n_services; i++) {
		gw_match(m, sizeof(m), c, i, 'd', false);
		fprintf(f, "-A %s %s -m mark ! --mark 0x0/0x%x %s\n",
			RULES_CHAIN_GWIN, m, c->gateway_mask, t->q);
	}
	/* the NAT-T port of each client's SA, shown by espmasqctl: one
	 * ESP-in-UDP packet a minute per client port is enough */
	fprintf(f, "-A %s -p udp --dport 4500 -m mark ! --mark 0x0/0x%x -m "
		"hashlimit --hashlimit-upto 1/min --hashlimit-burst 1 "
		"--hashlimit-mode srcip,srcport --hashlimit-name %s %s\n",
		RULES_CHAIN_GWIN, c->gateway_mask, RULES_NATT_METER, t->q);
	for (i = 0; i <= c->n_services; i++) {
		gw_match(m, sizeof(m), c, i, 's', false);
		fprintf(f, "-A %s %s %s\n", RULES_CHAIN_GWOUT, m, t->q);
	}
	fprintf(f, "COMMIT\n*nat\n:%s - [0:0]\nCOMMIT\n", RULES_CHAIN_NAT);
}

/* The output chain is of type route: a mark changed there routes the
 * packet again (and a queue verdict's mark, through nf_reinject). */
static void print_gateway_nft(FILE *f, const struct config *c,
			      const struct targets *t)
{
	char m[48];
	unsigned i;

	fprintf(f, "table ip %s\ndelete table ip %s\n", RULES_NFT_TABLE,
		RULES_NFT_TABLE);
	fprintf(f, "table ip %s {\n\tchain gw_in {\n\t\ttype filter hook "
		"input priority mangle; policy accept;\n", RULES_NFT_TABLE);
	for (i = 0; i <= c->n_services; i++) {
		gw_match(m, sizeof(m), c, i, 'd', true);
		fprintf(f, "\t\t%s meta mark & 0x%08x != 0x00000000 %s\n", m,
			c->gateway_mask, t->q);
	}
	fprintf(f, "\t\tudp dport 4500 meta mark & 0x%08x != 0x00000000 "
		"meter %s { ip saddr . udp sport limit rate 1/minute burst 1 "
		"packets } %s\n", c->gateway_mask, RULES_NATT_METER, t->q);
	fprintf(f, "\t}\n\tchain gw_out {\n\t\ttype route hook output "
		"priority mangle; policy accept;\n");
	for (i = 0; i <= c->n_services; i++) {
		gw_match(m, sizeof(m), c, i, 's', true);
		fprintf(f, "\t\t%s %s\n", m, t->q);
	}
	fprintf(f, "\t}\n}\n");
}

static void nft_set(FILE *f, const struct cidr *n, unsigned count)
{
	char s[24];
	unsigned i;

	fprintf(f, "{ ");
	for (i = 0; i < count; i++)
		fprintf(f, "%s%s", i ? ", " : "", cidr(&n[i], s));
	fprintf(f, " }");
}

static void nft_ranges(FILE *f, const struct range *ar, size_t nar)
{
	char r[40];
	size_t i;

	fprintf(f, "{ ");
	for (i = 0; i < nar; i++)
		fprintf(f, "%s%s", i ? ", " : "", range_str(&ar[i], r));
	fprintf(f, " }");
}

/* Start of a rule for packets arriving for the aliases (from the servers
 * with @from_servers). */
static void nft_to_aliases(FILE *f, const struct config *c,
			   const struct range *ar, size_t nar, bool from_servers)
{
	fprintf(f, "\t\t");
	if (c->outside[0])
		fprintf(f, "iifname \"%s\" ", c->outside);
	fprintf(f, "ip daddr ");
	nft_ranges(f, ar, nar);
	if (from_servers && c->n_servers) {
		fprintf(f, " ip saddr ");
		nft_set(f, c->servers, c->n_servers);
	}
}

static void print_nft(FILE *f, const struct config *c,
		      const struct targets *t, const struct range *ar,
		      size_t nar)
{
	static const char *const l4_out[] = {
		"udp dport { 500, 4500 }", "meta l4proto esp",
	};
	static const char *const l4_in[] = {
		"udp sport { 500, 4500 }", "udp dport { 500, 4500 }",
		"meta l4proto esp",
	};
	static const char nft_frag[] =
		"ip frag-off & 0x1fff != 0 meta l4proto udp";
	static const char nft_icmp[] = "icmp type { destination-unreachable, "
		"time-exceeded, parameter-problem }";
	const char *q = t->q;
	const char *phase[2] = { "notrack", q };
	unsigned k, p;

	/* "table; delete table; table" replaces our table atomically, and
	 * works whether it existed or not. */
	fprintf(f, "table ip %s\ndelete table ip %s\n", RULES_NFT_TABLE,
		RULES_NFT_TABLE);
	fprintf(f, "table ip %s {\n", RULES_NFT_TABLE);
	for (p = 0; p < 2; p++) {
		if (p == 0)
			fprintf(f, "\tchain raw_pre {\n\t\ttype filter hook "
				"prerouting priority raw; policy accept;\n");
		else
			fprintf(f, "\tchain mangle_pre {\n\t\ttype filter hook "
				"prerouting priority mangle; policy accept;\n");
		if (p == 1 && c->offload) {
			/* as print_iptables_skip() */
			if (c->outside[0])
				fprintf(f, "\t\tiifname != \"%s\" return\n",
					c->outside);
			fprintf(f, "\t\tip daddr ");
			nft_set(f, c->inside, c->n_inside);
			fprintf(f, " return\n");
		}
		for (k = 0; k < 3; k++) {
			nft_to_aliases(f, c, ar, nar, true);
			fprintf(f, " %s %s\n", l4_in[k], phase[p]);
		}
		if (p == 1) {
			nft_to_aliases(f, c, ar, nar, true);
			fprintf(f, " %s %s\n", nft_frag, q);
			/* errors about our flows come from any router */
			nft_to_aliases(f, c, ar, nar, false);
			fprintf(f, " %s %s\n", nft_icmp, q);
		}
		if (p == 0) {
			for (k = 0; k < 2; k++) {
				fprintf(f, "\t\tip saddr ");
				nft_set(f, c->inside, c->n_inside);
				if (c->n_servers) {
					fprintf(f, " ip daddr ");
					nft_set(f, c->servers, c->n_servers);
				}
				fprintf(f, " %s notrack\n", l4_out[k]);
			}
		}
		fprintf(f, "\t}\n");
	}
	fprintf(f, "\tchain mangle_post {\n\t\ttype filter hook postrouting "
		"priority mangle; policy accept;\n");
	if (c->offload) {
		if (c->outside[0])
			fprintf(f, "\t\toifname != \"%s\" return\n",
				c->outside);
		fprintf(f, "\t\tip saddr ");
		nft_ranges(f, ar, nar);
		fprintf(f, " meta l4proto { esp, udp } return\n");
	}
	for (k = 0; k < 4; k++) {
		fprintf(f, "\t\t");
		if (c->outside[0])
			fprintf(f, "oifname \"%s\" ", c->outside);
		/* ICMP errors: from the clients or from this router */
		if (k < 3) {
			fprintf(f, "ip saddr ");
			nft_set(f, c->inside, c->n_inside);
			fprintf(f, " ");
		}
		if (c->n_servers) {
			fprintf(f, "ip daddr ");
			nft_set(f, c->servers, c->n_servers);
			fprintf(f, " ");
		}
		fprintf(f, "%s %s\n", k < 2 ? l4_out[k] :
			k == 2 ? nft_frag : nft_icmp, q);
	}
	fprintf(f, "\t}\n");
	fprintf(f, "}\n");
}

/* Each distinct mark a session can get: a chain that sets it. */
static unsigned offload_marks(const struct config *c, struct mark *out)
{
	unsigned i, j, n = 0;

	for (i = 0; i <= c->n_marks; i++) {
		const struct mark *m = i < c->n_marks ? &c->marks[i].mark :
				       &c->mark;

		if (!m->set || !m->mask)
			continue;
		for (j = 0; j < n; j++)
			if (out[j].value == m->value && out[j].mask == m->mask)
				break;
		if (j == n)
			out[n++] = *m;
	}
	return n;
}

/*
 * The offload table: for each direction, raw ESP and ESP in UDP on the
 * server's port 4500, whole packets (a first fragment's later ones go to
 * the daemon, which must see the first), looked up by source .
 * destination . SPI;
 * then the INFORMATIONAL exchanges of IKEv2 SAs on the server's port 500
 * or 4500 (after the non-ESP marker), by source . destination . IKE
 * initiator SPI.  The mark goes first: its vmap jumps to a chain that
 * sets it; then the address map rewrites (checksums included) or, on a
 * miss, ends the rule.
 */
static void print_offload(FILE *f, const struct config *c)
{
	static const char *const dir[2] = { "in", "out" };
	static const char *const proto[4] = { "esp", "udp", "ike",
					      "ike_natt" };
	/* the SPI: ESP's, the IKE initiator's (udp/500, udp/4500) */
	static const char *const spi[4] = { "esp spi", "@th,64,32",
					    "@th,64,64", "@th,96,64" };
	/* IKEv2 (version 0x20), exchange INFORMATIONAL (37) */
	static const char *const port[2][4] = {
		{ "meta l4proto esp", "udp sport 4500",
		  "udp sport 500 @th,200,16 0x2025",
		  "udp sport 4500 @th,64,32 0 @th,232,16 0x2025" },
		{ "meta l4proto esp", "udp dport 4500",
		  "udp dport 500 @th,200,16 0x2025",
		  "udp dport 4500 @th,64,32 0 @th,232,16 0x2025" },
	};
	struct mark marks[CONFIG_MAX_MARKS + 1];
	unsigned d, k, i, n = offload_marks(c, marks);

	fprintf(f, "table ip %s\ndelete table ip %s\n", RULES_OFFLOAD_TABLE,
		RULES_OFFLOAD_TABLE);
	if (!c->offload)
		return;
	fprintf(f, "table ip %s {\n", RULES_OFFLOAD_TABLE);
	for (d = 0; d < 2; d++)
		for (k = 0; k < 4; k++) {
			fprintf(f, "\tmap %s_%s {\n\t\ttypeof ip saddr . ip "
				"daddr . %s : ip %s\n\t\tcounter\n\t}\n",
				dir[d], proto[k], spi[k],
				d ? "saddr" : "daddr");
			fprintf(f, "\tmap %s_%s_mark {\n\t\ttypeof ip saddr . "
				"ip daddr . %s : verdict\n\t}\n", dir[d],
				proto[k], spi[k]);
		}
	for (i = 0; i < n; i++) {
		fprintf(f, "\tchain mark_%08x_%08x {\n\t\tmeta mark set ",
			marks[i].value, marks[i].mask);
		if (marks[i].mask == 0xffffffffu)
			fprintf(f, "0x%08x\n\t}\n", marks[i].value);
		else
			fprintf(f, "meta mark & 0x%08x | 0x%08x\n\t}\n",
				~marks[i].mask, marks[i].value);
	}
	/* every forwarded packet passes these chains: what is not for
	 * them leaves at the first test that fails, each test made once */
	for (d = 0; d < 2; d++) {
		fprintf(f, "\tchain %s {\n\t\ttype filter hook %s priority "
			"mangle - 10; policy accept;\n", d ? "post" : "pre",
			d ? "postrouting" : "prerouting");
		if (c->outside[0])
			fprintf(f, "\t\t%s != \"%s\" return\n",
				d ? "oifname" : "iifname", c->outside);
		/* IP options are no matter: the SPI and ports are read at
		 * the transport header, and the checksums are updated */
		fprintf(f, "\t\tip frag-off & 0x3fff != 0 return\n");
		for (k = 0; k < 4; k++) {
			if (n)
				fprintf(f, "\t\t%s ip saddr . ip daddr . %s "
					"vmap @%s_%s_mark\n", port[d][k],
					spi[k], dir[d], proto[k]);
			fprintf(f, "\t\t%s ip %s set ip saddr . ip daddr . %s "
				"map @%s_%s\n", port[d][k],
				d ? "saddr" : "daddr", spi[k], dir[d],
				proto[k]);
		}
		fprintf(f, "\t}\n");
	}
	fprintf(f, "}\n");
}

int rules_print(FILE *f, const struct config *c, enum rules_format fmt)
{
	struct targets t = {
		.bypass = c->fail_policy == FAIL_POLICY_BYPASS,
	};
	struct range *ar;
	size_t nar;
	int err;

	if (fmt == RULES_OFFLOAD) {
		fprintf(f, "# espmasq offload table (nft -f); generated by "
			"espmasqd --print-rules=offload\n");
		/* espmasq-rules reads this line: with auto, a kernel or an
		 * nft that cannot load the table is no error */
		if (c->offload && c->offload_mode == OFFLOAD_AUTO)
			fprintf(f, "# offload auto\n");
		print_offload(f, c);
		return 0;
	}
	if (c->mode == MODE_GATEWAY) {
		/* nothing is translated: without a daemon, bypass lets
		 * replies go with the mark they have, drop stops them */
		err = queue_target(c, fmt, t.bypass, t.q, sizeof(t.q));
		if (err)
			return err;
		fprintf(f, "# espmasq rules for mode gateway (%s); generated "
			"by espmasqd --print-rules\n",
			fmt == RULES_NFT ? "nft -f" :
			"iptables-restore --noflush");
		if (fmt == RULES_NFT)
			print_gateway_nft(f, c, &t);
		else
			print_gateway_iptables(f, c, &t);
		return 0;
	}
	if (t.bypass && fmt == RULES_NFT) {
		fprintf(stderr, "espmasqd: fail-policy bypass needs the "
			"iptables rules: its heartbeat is an xt_recent list, "
			"which nft cannot match\n");
		return -EINVAL;
	}
	err = queue_target(c, fmt, t.bypass, t.q, sizeof(t.q));
	if (!err)
		err = queue_target(c, fmt, false, t.hard, sizeof(t.hard));
	if (err)
		return err;
	ar = calloc(CONFIG_MAX_ALIASES + CONFIG_MAX_PINS, sizeof(*ar));
	if (!ar)
		return -ENOMEM;
	nar = alias_ranges(c, ar);
	fprintf(f, "# espmasq rules (%s); generated by espmasqd --print-rules\n",
		fmt == RULES_NFT ? "nft -f" : "iptables-restore --noflush");
	if (fmt == RULES_NFT) {
		print_nft(f, c, &t, ar, nar);
		if (c->offload)
			print_offload(f, c);
	} else {
		print_iptables(f, c, &t, ar, nar);
		if (c->offload)
			fprintf(f, "# offload on: the table %s comes from "
				"espmasqd --print-rules=offload (nft -f)\n",
				RULES_OFFLOAD_TABLE);
	}
	free(ar);
	return 0;
}
