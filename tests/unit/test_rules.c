/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "rules.h"

static char *render(const char *const *lines, enum rules_format fmt, int *rc)
{
	struct config *c = calloc(1, sizeof(*c));
	struct config_errors e = { .n = 0 };
	char *buf = NULL;
	size_t len = 0;
	FILE *f;
	unsigned i;

	assert_non_null(c);
	config_init(c);
	for (i = 0; lines[i]; i++)
		assert_int_equal(config_line(c, "r.conf", i + 1, lines[i], &e), 0);
	assert_int_equal(config_finish(c, "r.conf", &e), 0);
	f = open_memstream(&buf, &len);
	assert_non_null(f);
	*rc = rules_print(f, c, fmt);
	fclose(f);
	free(c);
	return buf;
}

static const char *const conf[] = {
	"inside 192.0.2.0/25",
	"outside eth1",
	"alias 203.0.113.11-203.0.113.13",
	"pin 192.0.2.20 203.0.113.14",
	"pin 192.0.2.21 203.0.113.40",
	"server 198.51.100.0/24",
	"queues 0-1",
	NULL,
};

static const char *const conf_off[] = {
	"inside 192.0.2.0/25",
	"outside eth1",
	"alias 203.0.113.11-203.0.113.13",
	"pin 192.0.2.20 203.0.113.14",
	"pin 192.0.2.21 203.0.113.40",
	"server 198.51.100.0/24",
	"queues 0-1",
	"offload off",
	NULL,
};

static void test_iptables(void **state)
{
	int rc;
	char *out = render(conf, RULES_IPTABLES, &rc);

	(void)state;
	assert_int_equal(rc, 0);
	/* our chains, one jump each from the built-in chains */
	assert_non_null(strstr(out, "*raw\n:ESPMASQ-RAW - [0:0]\n"
				    "-I PREROUTING 1 -j ESPMASQ-RAW\n"));
	assert_non_null(strstr(out, "-I PREROUTING 1 -j ESPMASQ-IN\n"));
	assert_non_null(strstr(out, "-I POSTROUTING 1 -j ESPMASQ-OUT\n"));
	/* every forwarded packet comes through: what cannot be espmasq's
	 * leaves each chain at its first rule (ICMP errors are queued by
	 * the mangle chains, and untracked by none) */
	assert_non_null(strstr(out, "-I PREROUTING 1 -j ESPMASQ-RAW\n"
				    "-A ESPMASQ-RAW -p tcp -j RETURN\n"
				    "-A ESPMASQ-RAW -p icmp -j RETURN\n"));
	assert_non_null(strstr(out, "-I POSTROUTING 1 -j ESPMASQ-OUT\n"
				    "-A ESPMASQ-IN -p tcp -j RETURN\n"
				    "-A ESPMASQ-OUT -p tcp -j RETURN\n"));
	assert_null(strstr(out, "-A ESPMASQ-IN -p icmp -j RETURN"));
	assert_null(strstr(out, "-A ESPMASQ-OUT -p icmp -j RETURN"));
	/* outbound: untracked, then queued after routing */
	/* ESP first, then a rule a port: iptables-nft matches ports
	 * itself, multiport only through the xtables module */
	assert_non_null(strstr(out, "-A ESPMASQ-RAW -s 192.0.2.0/25 -d "
		"198.51.100.0/24 -p esp -j CT --notrack\n"
		"-A ESPMASQ-RAW -s 192.0.2.0/25 -d "
		"198.51.100.0/24 -p udp --dport 4500 -j CT --notrack\n"
		"-A ESPMASQ-RAW -s 192.0.2.0/25 -d "
		"198.51.100.0/24 -p udp --dport 500 -j CT --notrack\n"));
	assert_null(strstr(out, "--dports"));
	assert_non_null(strstr(out, "-A ESPMASQ-OUT -o eth1 -s 192.0.2.0/25 -d "
		"198.51.100.0/24 -p udp --dport 4500 -j NFQUEUE "
		"--queue-balance 0:1\n"));
	assert_non_null(strstr(out, "-A ESPMASQ-OUT -o eth1 -s 192.0.2.0/25 -d "
		"198.51.100.0/24 -p esp -j NFQUEUE --queue-balance 0:1\n"));
	/* inbound: the pool and the adjacent pin merge into one range, the
	 * distant pin is its own */
	assert_non_null(strstr(out, "-A ESPMASQ-IN -i eth1 -m iprange "
		"--dst-range 203.0.113.11-203.0.113.14 -s 198.51.100.0/24 "
		"-p udp -m multiport --ports 500,4500 -j NFQUEUE "
		"--queue-balance 0:1\n"));
	assert_non_null(strstr(out, "--dst-range 203.0.113.40-203.0.113.40 "
		"-s 198.51.100.0/24 -p esp -j NFQUEUE"));
	/* later UDP fragments both ways; ICMP errors to aliases from any
	 * source, from clients only to servers */
	assert_non_null(strstr(out, "-A ESPMASQ-IN -i eth1 -m iprange "
		"--dst-range 203.0.113.11-203.0.113.14 -s 198.51.100.0/24 "
		"-p udp -f -j NFQUEUE --queue-balance 0:1\n"));
	assert_non_null(strstr(out, "-A ESPMASQ-OUT -o eth1 -s 192.0.2.0/25 "
		"-d 198.51.100.0/24 -p udp -f -j NFQUEUE"));
	assert_non_null(strstr(out, "-A ESPMASQ-IN -i eth1 -m iprange "
		"--dst-range 203.0.113.40-203.0.113.40 -p icmp --icmp-type "
		"destination-unreachable -j NFQUEUE --queue-balance 0:1\n"));
	assert_non_null(strstr(out, "-A ESPMASQ-IN -i eth1 -m iprange "
		"--dst-range 203.0.113.11-203.0.113.14 -p icmp --icmp-type "
		"time-exceeded -j NFQUEUE"));
	assert_non_null(strstr(out, "-A ESPMASQ-OUT -o eth1 "
		"-d 198.51.100.0/24 -p icmp --icmp-type parameter-problem "
		"-j NFQUEUE"));
	/* ICMP errors are not untracked (they may be about kernel flows) */
	assert_null(strstr(out, "icmp-type destination-unreachable -j CT"));
	assert_null(strstr(out, "--queue-bypass"));
	assert_null(strstr(out, "203.0.113.15"));
	/* fail-policy drop: no heartbeat, the bypass chains stay empty */
	assert_null(strstr(out, "-m recent"));
	assert_null(strstr(out, "-A ESPMASQ-OUTQ"));
	assert_null(strstr(out, "-A ESPMASQ-NAT"));
	assert_non_null(strstr(out, "*nat\n:ESPMASQ-NAT - [0:0]\n"
		"-I POSTROUTING 1 -j ESPMASQ-NAT\nCOMMIT\n"));
	free(out);
}

static void test_bypass_single_queue_any_server(void **state)
{
	static const char *const c2[] = {
		"inside 192.0.2.0/24", "alias 203.0.113.11-203.0.113.12",
		"alias 203.0.113.20", "queues 3", "fail-policy bypass",
		"bypass-mark 0x8/0x8", NULL,
	};
	int rc;
	char *out = render(c2, RULES_IPTABLES, &rc);

	(void)state;
	assert_int_equal(rc, 0);
	/* untracked only while the daemon's heartbeat is fresh */
	assert_non_null(strstr(out, "-A ESPMASQ-RAW -s 192.0.2.0/24 -p esp "
		"-m recent --name espmasq --rcheck --seconds 3 --mask 0.0.0.0 "
		"--rsource -j CT --notrack\n"));
	assert_non_null(strstr(out, "-A ESPMASQ-RAW -m iprange --dst-range "
		"203.0.113.20-203.0.113.20 -p esp -m recent --name espmasq "
		"--rcheck --seconds 3 --mask 0.0.0.0 --rsource -j CT "
		"--notrack\n"));
	/* inbound may bypass; outbound only when the kernel NATs it */
	assert_non_null(strstr(out, "-A ESPMASQ-IN -m iprange --dst-range "
		"203.0.113.11-203.0.113.12 -p esp -j NFQUEUE --queue-num 3 "
		"--queue-bypass\n"));
	assert_non_null(strstr(out, "-A ESPMASQ-OUT -s 192.0.2.0/24 -p esp "
		"-j ESPMASQ-OUTQ\n"));
	assert_non_null(strstr(out, "-A ESPMASQ-OUT -p icmp --icmp-type "
		"time-exceeded -j ESPMASQ-OUTQ\n"));
	assert_non_null(strstr(out, ":ESPMASQ-OUTQ - [0:0]\n"));
	assert_non_null(strstr(out,
		"-A ESPMASQ-OUTQ -m conntrack --ctstate SNAT -j NFQUEUE "
		"--queue-num 3 --queue-bypass\n"
		"-A ESPMASQ-OUTQ -m conntrack ! --ctstatus CONFIRMED -j NFQUEUE "
		"--queue-num 3 --queue-bypass\n"
		"-A ESPMASQ-OUTQ -j NFQUEUE --queue-num 3\n"));
	/* the kernel's NAT: not on espmasqd's packets, the first alias
	 * range for the rest */
	assert_non_null(strstr(out, "*nat\n:ESPMASQ-NAT - [0:0]\n"
		"-I POSTROUTING 1 -j ESPMASQ-NAT\n"
		"-A ESPMASQ-NAT -m mark --mark 0x8/0x8 -j ACCEPT\n"
		"-A ESPMASQ-NAT -s 192.0.2.0/24 -p esp -j SNAT --to-source "
		"203.0.113.11-203.0.113.12\n"
		"-A ESPMASQ-NAT -s 192.0.2.0/24 -p udp --dport 4500 -j SNAT "
		"--to-source 203.0.113.11-203.0.113.12\n"
		"-A ESPMASQ-NAT -s 192.0.2.0/24 -p udp --dport 500 -j SNAT "
		"--to-source 203.0.113.11-203.0.113.12\nCOMMIT\n"));
	assert_null(strstr(out, " -d "));	/* any server */
	assert_null(strstr(out, " -o "));	/* any interface */
	free(out);
	/* nft cannot match the heartbeat */
	out = render(c2, RULES_NFT, &rc);
	assert_int_equal(rc, -EINVAL);
	free(out);
}

static void test_noncontiguous_queues(void **state)
{
	static const char *const c3[] = {
		"inside 192.0.2.0/24", "alias 203.0.113.11",
		"queues 0,2", NULL,
	};
	int rc;
	char *out = render(c3, RULES_IPTABLES, &rc);

	(void)state;
	assert_int_equal(rc, -EINVAL);
	free(out);
}

static void test_nft(void **state)
{
	int rc;
	char *out = render(conf, RULES_NFT, &rc);

	(void)state;
	assert_int_equal(rc, 0);
	assert_non_null(strstr(out, "table ip espmasq {\n"));
	assert_non_null(strstr(out, "delete table ip espmasq\n"));
	assert_non_null(strstr(out, "type filter hook prerouting priority raw;"));
	assert_non_null(strstr(out, "iifname \"eth1\" ip daddr { "
		"203.0.113.11-203.0.113.14, 203.0.113.40-203.0.113.40 } "
		"ip saddr { 198.51.100.0/24 } meta l4proto esp queue num 0-1\n"));
	assert_non_null(strstr(out, "ip saddr { 192.0.2.0/25 } ip daddr { "
		"198.51.100.0/24 } udp dport { 500, 4500 } notrack\n"));
	assert_non_null(strstr(out, "oifname \"eth1\" ip saddr { 192.0.2.0/25 "
		"} ip daddr { 198.51.100.0/24 } ip frag-off & "
		"0x1fff != 0 meta l4proto udp queue num 0-1\n"));
	assert_non_null(strstr(out, "iifname \"eth1\" ip daddr { "
		"203.0.113.11-203.0.113.14, 203.0.113.40-203.0.113.40 } icmp "
		"type { destination-unreachable, time-exceeded, "
		"parameter-problem } queue num 0-1\n"));
	assert_non_null(strstr(out, "oifname \"eth1\" ip daddr { "
		"198.51.100.0/24 } icmp type { destination-unreachable, "
		"time-exceeded, parameter-problem } queue num 0-1\n"));
	/* unpinned workers: flows are hashed, not fanned out by CPU */
	assert_null(strstr(out, "fanout"));
	free(out);
}

/* One worker pinned per CPU so that CPU c feeds queue c % n: CPU fanout,
 * in both formats; any other pinning keeps the flow hash. */
static void test_cpu_fanout(void **state)
{
	static const char *const pinned[] = {
		"inside 192.0.2.0/24", "alias 203.0.113.11", "queues 4-5",
		"cpu 4 2", "cpu 5 1", "fail-policy bypass", NULL,
	};
	static const char *const pinned_drop[] = {
		"inside 192.0.2.0/24", "alias 203.0.113.11", "queues 4-5",
		"cpu 4 2", "cpu 5 1", NULL,
	};
	static const char *const crossed[] = {
		"inside 192.0.2.0/24", "alias 203.0.113.11", "queues 0-1",
		"cpu 0 1", "cpu 1 0", NULL,
	};
	static const char *const half[] = {
		"inside 192.0.2.0/24", "alias 203.0.113.11", "queues 0-1",
		"cpu 0 0", NULL,
	};
	static const char *const one[] = {
		"inside 192.0.2.0/24", "alias 203.0.113.11", "queues 3",
		"cpu 3 0", NULL,
	};
	int rc;
	char *out;

	(void)state;
	out = render(pinned, RULES_IPTABLES, &rc);
	assert_int_equal(rc, 0);
	assert_non_null(strstr(out, "-p esp -j NFQUEUE --queue-balance 4:5 "
		"--queue-cpu-fanout --queue-bypass\n"));
	free(out);
	out = render(pinned_drop, RULES_NFT, &rc);
	assert_int_equal(rc, 0);
	assert_non_null(strstr(out, "meta l4proto esp queue num 4-5 "
		"fanout\n"));
	free(out);
	out = render(crossed, RULES_IPTABLES, &rc);
	assert_int_equal(rc, 0);
	assert_non_null(strstr(out, "--queue-balance 0:1\n"));
	assert_null(strstr(out, "fanout"));
	free(out);
	out = render(half, RULES_NFT, &rc);
	assert_int_equal(rc, 0);
	assert_null(strstr(out, "fanout"));
	free(out);
	out = render(one, RULES_IPTABLES, &rc);
	assert_int_equal(rc, 0);
	assert_non_null(strstr(out, "-j NFQUEUE --queue-num 3\n"));
	assert_null(strstr(out, "fanout"));
	free(out);
}

static const char *const gw_conf[] = {
	"mode gateway", "gateway-mark 0xff00", "gateway-service tcp 8080",
	"queues 2", NULL,
};

/* Mode gateway: INPUT queues what comes with an SA mark, OUTPUT what
 * goes back; the NAT's chains are declared (emptied) but not jumped to. */
static void test_gateway(void **state)
{
	static const char *const bypass[] = {
		"mode gateway", "queues 0-1", "fail-policy bypass", NULL,
	};
	int rc;
	char *out = render(gw_conf, RULES_IPTABLES, &rc);

	(void)state;
	assert_int_equal(rc, 0);
	assert_non_null(strstr(out, "*raw\n:ESPMASQ-RAW - [0:0]\nCOMMIT\n"));
	assert_non_null(strstr(out, ":ESPMASQ-IN - [0:0]\n:ESPMASQ-OUT - "
			       "[0:0]\n:ESPMASQ-OUTQ - [0:0]\n:ESPMASQ-GWIN - "
			       "[0:0]\n:ESPMASQ-GWOUT - [0:0]\n"));
	assert_non_null(strstr(out, "-I INPUT 1 -j ESPMASQ-GWIN\n"
			       "-I OUTPUT 1 -j ESPMASQ-GWOUT\n"));
	assert_non_null(strstr(out, "-A ESPMASQ-GWIN -p udp --dport 1701 -m "
			       "mark ! --mark 0x0/0xff00 -j NFQUEUE "
			       "--queue-num 2\n"));
	assert_non_null(strstr(out, "-A ESPMASQ-GWIN -p tcp --dport 8080 -m "
			       "mark ! --mark 0x0/0xff00 -j NFQUEUE "
			       "--queue-num 2\n"));
	assert_non_null(strstr(out, "-A ESPMASQ-GWOUT -p udp --sport 1701 -j "
			       "NFQUEUE --queue-num 2\n"));
	/* NAT-T ports, shown by espmasqctl: a packet a minute per port */
	assert_non_null(strstr(out, "-A ESPMASQ-GWIN -p udp --dport 4500 -m "
			       "mark ! --mark 0x0/0xff00 -m hashlimit "
			       "--hashlimit-upto 1/min --hashlimit-burst 1 "
			       "--hashlimit-mode srcip,srcport --hashlimit-name "
			       "espmasq-natt -j NFQUEUE --queue-num 2\n"));
	assert_null(strstr(out, "--sport 4500"));
	assert_non_null(strstr(out, "-A ESPMASQ-GWOUT -p tcp --sport 8080 -j "
			       "NFQUEUE --queue-num 2\n"));
	assert_non_null(strstr(out, "*nat\n:ESPMASQ-NAT - [0:0]\nCOMMIT\n"));
	assert_null(strstr(out, "PREROUTING"));
	assert_null(strstr(out, "POSTROUTING"));
	assert_null(strstr(out, "-A ESPMASQ-IN"));
	assert_null(strstr(out, "--queue-bypass"));
	free(out);

	out = render(gw_conf, RULES_NFT, &rc);
	assert_int_equal(rc, 0);
	assert_non_null(strstr(out, "type filter hook input priority mangle"));
	assert_non_null(strstr(out, "udp dport 1701 meta mark & 0x0000ff00 != "
			       "0x00000000 queue num 2\n"));
	/* a mark changed in a route chain routes the packet again */
	assert_non_null(strstr(out, "type route hook output priority mangle"));
	assert_non_null(strstr(out, "tcp sport 8080 queue num 2\n"));
	free(out);

	/* bypass: replies pass with the mark they have (nft too: there
	 * is no heartbeat in this mode) */
	out = render(bypass, RULES_IPTABLES, &rc);
	assert_int_equal(rc, 0);
	assert_non_null(strstr(out, "-A ESPMASQ-GWOUT -p udp --sport 1701 -j "
			       "NFQUEUE --queue-balance 0:1 --queue-bypass\n"));
	assert_null(strstr(out, "recent"));
	free(out);
	out = render(bypass, RULES_NFT, &rc);
	assert_int_equal(rc, 0);
	assert_non_null(strstr(out, "udp sport 1701 queue num 0-1 bypass\n"));
	free(out);
}

/* Offload: one map per direction and kind keyed as the packets arrive,
 * a chain per distinct mark, the shape the daemon's fast path takes, and
 * only the outside interface; with iptables rules it comes apart. */
static void test_offload(void **state)
{
	static const char *const off[] = {
		"inside 192.0.2.0/25",
		"outside eth1",
		"alias 203.0.113.11-203.0.113.13",
		"mark 0x100/0xff00",
		"mark client 192.0.2.64/26 0x200/0xff00",
		"mark alias 203.0.113.12 0x100/0xff00",
		"mark server 198.51.100.7 0x7",
		"offload on",
		NULL,
	};
	char *out, *p;
	int rc;

	(void)state;
	out = render(off, RULES_OFFLOAD, &rc);
	assert_int_equal(rc, 0);
	assert_non_null(strstr(out, "table ip espmasq_offload\n"
				    "delete table ip espmasq_offload\n"
				    "table ip espmasq_offload {\n"));
	assert_non_null(strstr(out, "\tmap in_esp {\n\t\ttypeof ip saddr . "
				    "ip daddr . esp spi : ip daddr\n"
				    "\t\tcounter\n\t}\n"));
	assert_non_null(strstr(out, "\tmap out_udp {\n\t\ttypeof ip saddr . "
				    "ip daddr . @th,64,32 : ip saddr\n"
				    "\t\tcounter\n\t}\n"));
	assert_non_null(strstr(out, "\tmap out_esp_mark {\n\t\ttypeof ip "
				    "saddr . ip daddr . esp spi : verdict\n"));
	/* three distinct marks: the alias rule repeats the global one */
	assert_non_null(strstr(out, "\tchain mark_00000100_0000ff00 {\n\t\tmeta "
				    "mark set meta mark & 0xffff00ff | "
				    "0x00000100\n\t}\n"));
	assert_non_null(strstr(out, "\tchain mark_00000200_0000ff00 {\n"));
	assert_non_null(strstr(out, "\tchain mark_00000007_ffffffff {\n\t\tmeta "
				    "mark set 0x00000007\n\t}\n"));
	p = strstr(out, "chain mark_00000100_0000ff00");
	assert_null(strstr(p + 1, "chain mark_00000100_0000ff00"));
	/* what is not for the chain leaves at its first failed test; IP
	 * options do not keep a packet from it */
	assert_null(strstr(out, "hdrlength"));
	assert_non_null(strstr(out, "mangle - 10; policy accept;\n"
				    "\t\tiifname != \"eth1\" return\n"
				    "\t\tip frag-off & 0x3fff != 0 return\n"
				    "\t\tmeta l4proto esp ip saddr . ip daddr . "
				    "esp spi vmap @in_esp_mark\n"
				    "\t\tmeta l4proto esp ip daddr set ip saddr "
				    ". ip daddr . esp spi map @in_esp\n"));
	assert_non_null(strstr(out, "\t\toifname != \"eth1\" return\n"));
	assert_non_null(strstr(out, "\t\tudp dport 4500 ip saddr set ip saddr "
				    ". ip daddr . @th,64,32 map @out_udp\n"));
	/* IKEv2 INFORMATIONAL exchanges by initiator SPI, after ESP */
	assert_non_null(strstr(out, "\tmap in_ike {\n\t\ttypeof ip saddr . "
				    "ip daddr . @th,64,64 : ip daddr\n"
				    "\t\tcounter\n\t}\n"));
	assert_non_null(strstr(out, "\tmap out_ike_natt {\n\t\ttypeof ip "
				    "saddr . ip daddr . @th,96,64 : ip saddr\n"
				    "\t\tcounter\n\t}\n"));
	assert_non_null(strstr(out, "\tmap out_ike_natt_mark {\n\t\ttypeof "
				    "ip saddr . ip daddr . @th,96,64 : "
				    "verdict\n"));
	assert_non_null(strstr(out, "map @out_udp\n"
				    "\t\tudp dport 500 @th,200,16 0x2025 ip "
				    "saddr . ip daddr . @th,64,64 vmap "
				    "@out_ike_mark\n"
				    "\t\tudp dport 500 @th,200,16 0x2025 ip "
				    "saddr set ip saddr . ip daddr . @th,64,64 "
				    "map @out_ike\n"));
	assert_non_null(strstr(out, "\t\tudp sport 4500 @th,64,32 0 "
				    "@th,232,16 0x2025 ip daddr set ip saddr . "
				    "ip daddr . @th,96,64 map @in_ike_natt\n"));
	assert_non_null(strstr(out, "type filter hook prerouting priority "
				    "mangle - 10;"));
	assert_non_null(strstr(out, "type filter hook postrouting priority "
				    "mangle - 10;"));
	free(out);

	/* in the nft script too; the iptables rules only point at it */
	{
		static const char *const nomark[] = {
			"inside 192.0.2.0/25", "alias 203.0.113.11",
			"offload on", NULL,
		};

		out = render(nomark, RULES_OFFLOAD, &rc);
		assert_int_equal(rc, 0);
		/* no mark: no lookup for one, no interface to test */
		assert_null(strstr(out, "vmap"));
		assert_null(strstr(out, "ifname"));
		assert_non_null(strstr(out, "map in_esp_mark {"));
		free(out);
	}
	out = render(off, RULES_NFT, &rc);
	assert_int_equal(rc, 0);
	assert_non_null(strstr(out, "table ip espmasq {\n"));
	assert_non_null(strstr(out, "table ip espmasq_offload {\n"));
	assert_non_null(strstr(out, "priority mangle; policy accept;\n"
				    "\t\tiifname != \"eth1\" return\n"
				    "\t\tip daddr { 192.0.2.0/25 } return\n"));
	assert_non_null(strstr(out, "priority mangle; policy accept;\n"
				    "\t\toifname != \"eth1\" return\n"
				    "\t\tip saddr { 203.0.113.11-203.0.113.13 } "
				    "meta l4proto { esp, udp } return\n"));
	free(out);
	out = render(off, RULES_IPTABLES, &rc);
	assert_int_equal(rc, 0);
	assert_null(strstr(out, "espmasq_offload {"));
	/* what the offload table rewrote leaves the mangle chains at once,
	 * before their first rule */
	assert_non_null(strstr(out, "-I POSTROUTING 1 -j ESPMASQ-OUT\n"
				    "-A ESPMASQ-IN -p tcp -j RETURN\n"
				    "-A ESPMASQ-OUT -p tcp -j RETURN\n"
				    "-A ESPMASQ-IN ! -i eth1 -j RETURN\n"
				    "-A ESPMASQ-OUT ! -o eth1 -j RETURN\n"
				    "-A ESPMASQ-IN -d 192.0.2.0/25 -j RETURN\n"
				    "-A ESPMASQ-OUT ! -s 192.0.2.0/25 -p esp "
				    "-j RETURN\n-A ESPMASQ-OUT ! -s "
				    "192.0.2.0/25 -p udp -j RETURN\n"
				    "-A ESPMASQ-IN -i eth1"));
	assert_null(strstr(out, "--src-range"));
	assert_non_null(strstr(out, "# offload on: the table espmasq_offload "
				    "comes from espmasqd --print-rules=offload"));
	free(out);
	/* several inside networks: from an alias (iprange) instead */
	{
		static const char *const two[] = {
			"inside 192.0.2.0/25", "inside 198.51.100.0/24",
			"alias 203.0.113.11-203.0.113.13", "offload on",
			NULL,
		};

		out = render(two, RULES_IPTABLES, &rc);
		assert_int_equal(rc, 0);
		assert_non_null(strstr(out, "-A ESPMASQ-OUT -m iprange "
					    "--src-range 203.0.113.11-"
					    "203.0.113.13 -p esp -j RETURN\n"
					    "-A ESPMASQ-OUT -m iprange "
					    "--src-range 203.0.113.11-"
					    "203.0.113.13 -p udp -j RETURN\n"));
		assert_null(strstr(out, "! -s"));
		free(out);
	}

	/* offload off: the table goes, and nothing else mentions it */
	out = render(conf_off, RULES_OFFLOAD, &rc);
	assert_int_equal(rc, 0);
	assert_non_null(strstr(out, "delete table ip espmasq_offload\n"));
	assert_null(strstr(out, "espmasq_offload {"));
	free(out);
	out = render(conf_off, RULES_NFT, &rc);
	assert_null(strstr(out, "espmasq_offload"));
	free(out);
	out = render(conf_off, RULES_IPTABLES, &rc);
	/* no skips for what the table rewrote: only the protocol gates */
	assert_null(strstr(out, "! -i eth1 -j RETURN"));
	assert_null(strstr(out, "! -o eth1 -j RETURN"));
	assert_null(strstr(out, "-d 192.0.2.0/25 -j RETURN"));
	assert_non_null(strstr(out, "-A ESPMASQ-OUT -p tcp -j RETURN\n"));
	free(out);

	/* no offload line: auto, the table comes, marked so that
	 * espmasq-rules goes on without it where nft cannot load it */
	out = render(conf, RULES_OFFLOAD, &rc);
	assert_int_equal(rc, 0);
	assert_non_null(strstr(out, "table ip espmasq_offload {\n"));
	assert_non_null(strstr(out, "\n# offload auto\n"));
	free(out);
	out = render(off, RULES_OFFLOAD, &rc);
	assert_null(strstr(out, "# offload auto"));
	free(out);
	out = render(conf, RULES_IPTABLES, &rc);
	assert_non_null(strstr(out, "-A ESPMASQ-OUT ! -o eth1 -j RETURN\n"));
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_iptables),
		cmocka_unit_test(test_bypass_single_queue_any_server),
		cmocka_unit_test(test_noncontiguous_queues),
		cmocka_unit_test(test_nft),
		cmocka_unit_test(test_cpu_fanout),
		cmocka_unit_test(test_gateway),
		cmocka_unit_test(test_offload),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
