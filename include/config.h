/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Configuration: a pure init / line / finish parser (no I/O in the line
 * parser, so unit tests and fuzzers drive it directly) plus a file loader
 * that handles `include`.
 *
 * All addresses in struct config are IPv4 in host byte order.
 */
#ifndef ESPMASQ_CONFIG_H
#define ESPMASQ_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CONFIG_MAX_NETS		256	/* inside / server networks, each */
#define CONFIG_MAX_ALIASES	4096
#define CONFIG_MAX_PINS		4096
#define CONFIG_MAX_MARKS	256
#define CONFIG_MAX_QUEUES	64
#define CONFIG_MAX_INCLUDE	8	/* include nesting depth */
#define CONFIG_MAX_LINE		1024
#define CONFIG_PATH_MAX		256
#define CONFIG_SUN_PATH_MAX	108	/* sizeof(sockaddr_un.sun_path) */
#define CONFIG_IFNAME_MAX	16	/* IFNAMSIZ */
#define CONFIG_ERR_KEEP		16	/* error messages kept verbatim */
#define CONFIG_ERR_LEN		256
#define CONFIG_MAX_FILES	16	/* file names kept for messages */
#define CONFIG_MAX_SERVICES	64	/* gateway-service lines */

#define CONFIG_DEFAULT_PATH	"/etc/espmasq/espmasq.conf"
#define CONFIG_BYPASS_MARK	0x40000000u
#define CONFIG_DEFAULT_CONTROL	"/run/espmasq/espmasq.sock"

struct cidr {
	uint32_t addr;		/* already masked */
	uint32_t mask;		/* e.g. 0xffffff00 for /24 */
};

/* A mark is applied as: new = (old & ~mask) | value.  value & ~mask == 0. */
struct mark {
	uint32_t value;
	uint32_t mask;
	bool set;
};

enum mark_scope {
	MARK_SCOPE_CLIENT,	/* mark client CIDR VALUE[/MASK] */
	MARK_SCOPE_SERVER,	/* mark server CIDR VALUE[/MASK] */
	MARK_SCOPE_ALIAS,	/* mark alias ADDR VALUE[/MASK]  */
};

struct mark_rule {
	enum mark_scope scope;
	struct cidr net;	/* for ALIAS a /32 */
	struct mark mark;
};

struct pin {
	uint32_t client;
	uint32_t alias;
	unsigned line;		/* where it was defined, for messages */
	unsigned file;		/* index into config.files[] */
};

/* A `cpu QUEUE CPU` line; config_finish() maps it onto config.cpu[]. */
struct cpu_pin {
	uint16_t queue;
	uint16_t cpu;
	unsigned line;
	unsigned file;		/* index into config.files[] */
};

enum config_mode {
	MODE_MASQUERADE = 0,	/* a NAT router: clients inside, servers out */
	MODE_GATEWAY,		/* on the VPN gateway: marks for replies */
};

/* A `gateway-service PROTO PORT` line: a local service whose replies to
 * transport-mode clients are marked per client flow (udp/1701 is L2TP
 * and always handled). */
struct gw_service {
	uint8_t proto;		/* 17 or 6 */
	uint16_t port;
};

enum fail_policy {
	FAIL_POLICY_DROP = 0,
	FAIL_POLICY_BYPASS,
};

/* 'offload on|off|auto': auto is on unless fail-policy bypass or a
 * timeout too short for the counter reads rules it out (config_finish()
 * decides; offload_why says why not). */
enum offload_mode { OFFLOAD_OFF, OFFLOAD_ON, OFFLOAD_AUTO };

/* How the offload counters are read: each map by a dump while small
 * (auto), always by a dump, or always entry by entry. */
enum offload_read { OFFLOAD_READ_AUTO, OFFLOAD_READ_DUMP, OFFLOAD_READ_EACH };

/* auto: the most entries a map is dumped with (bench/bench-offload.sh:
 * a dump costs the square of the map's size, a named read the same for
 * each entry; on Linux 6.18 they cross near 50,000) */
#define OFFLOAD_DUMP_MAX_DEFAULT 49152u
#define OFFLOAD_DUMP_MAX_MAX (1u << 30)

struct config {
	enum config_mode mode;
	/* mode gateway: which bits of a packet's mark name its SA */
	uint32_t gateway_mask;
	uint32_t timeout_gateway;		/* seconds, idle */
	struct gw_service services[CONFIG_MAX_SERVICES];
	unsigned n_services;

	struct cidr inside[CONFIG_MAX_NETS];
	unsigned n_inside;
	struct cidr servers[CONFIG_MAX_NETS];	/* none = any server */
	unsigned n_servers;
	char outside[CONFIG_IFNAME_MAX];	/* "" = any interface */

	uint32_t aliases[CONFIG_MAX_ALIASES];	/* sorted, unique */
	unsigned n_aliases;
	struct pin pins[CONFIG_MAX_PINS];
	unsigned n_pins;

	uint16_t queues[CONFIG_MAX_QUEUES];	/* sorted, unique */
	unsigned n_queues;
	int cpu[CONFIG_MAX_QUEUES];		/* per index of queues[], -1 = any */
	unsigned cpu_line[CONFIG_MAX_QUEUES];	/* parser bookkeeping */

	struct mark mark;			/* global default mark */
	struct mark_rule marks[CONFIG_MAX_MARKS];
	unsigned n_marks;

	uint32_t timeout_ike;		/* seconds, idle */
	uint32_t timeout_esp;
	uint32_t timeout_pending;
	uint32_t timeout_natt;

	uint32_t max_sessions;
	uint32_t client_sessions;	/* per client; 0 = any */
	uint32_t alias_clients;		/* per alias and server; 0 = any */
	uint32_t gate_hold_ms;		/* longest hold of a shared gate */
	uint16_t natt_lo, natt_hi;	/* NAT-T ports for clients sharing an
					 * alias; 0: ports kept */
	uint32_t queue_maxlen;		/* kernel queue length per queue */
	uint32_t rcvbuf;		/* netlink socket buffer, bytes; 0:
					 * auto, see config_rcvbuf() */
	uint32_t batch;			/* packets per receive / verdict burst */
	bool offload;			/* established ESP rewritten by nft:
					 * what offload_mode came to */
	uint8_t offload_mode;		/* enum offload_mode, as written */
	uint32_t offload_scan;		/* seconds between counter reads */
	uint32_t offload_scan_max;	/* ...at most, when not written */
	bool offload_scan_fixed;	/* written: exactly */
	uint8_t offload_read;		/* enum offload_read */
	uint32_t offload_dump_max;	/* auto: dump maps up to this many */
	const char *offload_why;	/* auto and off: why (static text) */

	char control[CONFIG_SUN_PATH_MAX];
	char state[CONFIG_PATH_MAX];	/* "" = not kept */
	char metrics[CONFIG_PATH_MAX];	/* Prometheus textfile; "" = none */
	char control_group[33];		/* may use the socket; "" = none */
	char user[33];			/* runs as, once started; "" = as is */
	enum fail_policy fail_policy;
	/* set on every packet espmasqd translated outward, so that with
	 * fail-policy bypass the kernel's NAT leaves those alone */
	struct mark bypass_mark;

	/* parser bookkeeping: line where each singular directive was set */
	unsigned seen_line[32];
	unsigned seen_file[32];			/* index into files[] */
	/* `cpu` lines may come before `queues`, so they wait for finish */
	struct cpu_pin cpu_pins[CONFIG_MAX_QUEUES];
	unsigned n_cpu_pins;
	/* names passed to config_line(), so that messages about a line
	 * read from an included file name that file; an index of
	 * CONFIG_MAX_FILES means the name was not kept */
	char files[CONFIG_MAX_FILES][CONFIG_PATH_MAX];
	unsigned n_files;
};

/* Errors collected while parsing: every one is counted, the first
 * CONFIG_ERR_KEEP are kept as "file:line: message". */
struct config_errors {
	char msg[CONFIG_ERR_KEEP][CONFIG_ERR_LEN];
	unsigned n;		/* total errors seen */
};

/* Fills @c with defaults. */
void config_init(struct config *c);

/*
 * Parses one line (without or with its trailing newline). @file and
 * @lineno name it in error messages. `include` needs I/O, so
 * config_load() handles it before calling this; here it is an error.
 * Returns 0, or -EINVAL after appending a message to @errs.
 */
int config_line(struct config *c, const char *file, unsigned lineno,
		const char *line, struct config_errors *errs);

/*
 * Checks the whole configuration once every line is in (defaults for
 * missing queues, cross-references such as `cpu` naming a configured
 * queue, pins not clashing, aliases outside the inside networks).
 * Returns 0 or -EINVAL with messages in @errs naming @file.
 */
int config_finish(struct config *c, const char *file,
		  struct config_errors *errs);

/*
 * Reads @path (following `include FILE`, relative to the including
 * file's directory, at most CONFIG_MAX_INCLUDE deep), then calls
 * config_finish(). @c must have been config_init()ed.
 * Returns 0, -EINVAL (messages in @errs) or -errno when @path cannot be
 * read (a message is appended too).
 */
int config_load(struct config *c, const char *path, struct config_errors *errs);

/* Helpers other modules use. */
bool cidr_contains(const struct cidr *n, uint32_t addr);
/*
 * Milliseconds from one offload scan to the next, after one that took
 * @last_ms: offload-scan when it was written; otherwise ten times the
 * last scan (reading the counters then takes at most a tenth of the main
 * thread), but at least offload-scan's default and at most half the
 * shortest timeout, which keeps the sessions of the SAs the kernel
 * carries alive.
 */
uint32_t config_offload_wait_ms(const struct config *c, uint32_t last_ms);

bool config_is_inside(const struct config *c, uint32_t addr);
bool config_is_server(const struct config *c, uint32_t addr); /* true if no server lines */
/* Returns the pinned alias for @client or 0. */
uint32_t config_pin_for(const struct config *c, uint32_t client);
/* Returns the client @alias is pinned to, or 0. */
uint32_t config_pin_client(const struct config *c, uint32_t alias);
/* True if @alias is pinned to some client. */
bool config_alias_pinned(const struct config *c, uint32_t alias);
/* Mark for a translated packet of (client, server, alias): client rule,
 * then server rule, then alias rule, then the global mark; first match
 * in file order within a scope.  Returns a mark with set == false when
 * none applies. */
struct mark config_mark_for(const struct config *c, uint32_t client,
			    uint32_t server, uint32_t alias);

/*
 * The socket buffer of each queue.  A queued packet waits in it as a
 * message until its verdict, so it must hold queue-maxlen of them, or the
 * kernel drops the rest (user_dropped) before the queue is full.  rcvbuf
 * auto (not written) is 2 KiB a packet of queue-maxlen, at least 8m, at
 * most 1g: bench-kernel.sh measured a 1400-byte packet's message at 2304
 * bytes of the buffer (QUEUE_PKT_BUF_MTU), which the kernel counts against
 * twice the size set.
 */
#define CONFIG_RCVBUF_AUTO_PER_PKT	2048u
#define CONFIG_RCVBUF_AUTO_MIN		(8u << 20)
#define CONFIG_RCVBUF_MAX		(1u << 30)
static inline uint32_t config_rcvbuf(const struct config *c)
{
	uint64_t v = (uint64_t)c->queue_maxlen * CONFIG_RCVBUF_AUTO_PER_PKT;

	if (c->rcvbuf)
		return c->rcvbuf;
	return v < CONFIG_RCVBUF_AUTO_MIN ? CONFIG_RCVBUF_AUTO_MIN :
	       v > CONFIG_RCVBUF_MAX ? CONFIG_RCVBUF_MAX : (uint32_t)v;
}

#endif
