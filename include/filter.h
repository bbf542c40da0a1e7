/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Session filters of the control socket:
 *
 *   sessions [client ADDR] [server ADDR|CIDR] [alias ADDR] [spi HEX]
 *
 * any combination, each at most once, a session shown when it matches
 * all of them.  Parsing and matching are pure (words in, verdict out), so
 * unit tests call them directly; the daemon matches a snapshot, outside
 * the table lock.
 */
#ifndef ESPMASQ_FILTER_H
#define ESPMASQ_FILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "session.h"

#define FILTER_CLIENT	0x01
#define FILTER_SERVER	0x02
#define FILTER_ALIAS	0x04
#define FILTER_SPI	0x08

#define FILTER_ERR_LEN	160

struct session_filter {
	unsigned have;		/* FILTER_* given */
	uint32_t client;	/* host order, as the table's */
	uint32_t alias;
	struct cidr server;	/* a bare address is a /32 */
	uint64_t spi;		/* never 0 */
};

/*
 * Parses @argc words, pairs of a filter name and its value ("client",
 * "192.0.2.11", ...).  A server network with host bits set means the
 * network they are in.  An SPI is hexadecimal, 0x optional, any case,
 * leading zeros optional, at most 64 bits, not zero.  Returns 0, or
 * -EINVAL with a one-line message in @err (@len bytes).
 */
int filter_parse(struct session_filter *f, int argc, char *const *argv,
		 char *err, size_t len);

/*
 * True if session @s matches every filter in @f.  Its SAs are
 * @av[s->first_sa] onwards (@n_av rows in all): the spi filter matches
 * an IKE SA by its initiator or responder SPI, an ESP SA (in or out) by
 * its SPI.
 */
bool filter_match(const struct session_filter *f,
		  const struct session_view *s, const struct sa_view *av,
		  size_t n_av);

#endif
