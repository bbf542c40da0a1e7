/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer harness: pkt_parse() on arbitrary bytes.  Besides the
 * sanitizers, it checks that what the parser reports stays inside the
 * packet, since the rewriters trust those offsets without checking them.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_check.h"
#include "packet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pkt_info pi;
	enum pkt_err err;
	uint8_t *buf;

	/* a copy of exactly @size bytes, so ASan sees any read past it */
	buf = malloc(size ? size : 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	err = pkt_parse(buf, size, &pi);
	check((unsigned)err < PKT_ERR_MAX);
	check(pkt_err_name(err)[0] != '?');
	if (err == PKT_OK) {
		const struct icmp_info *ic = &pi.icmp;

		check(pi.len == size);
		check(pi.l4off >= 20 && pi.l4off <= 60 && pi.l4off <= pi.len);
		check(pi.kind < PKT_KIND_MAX);
		check(pi.frag <= FRAG_LATER);
		check(!memcmp(&pi.saddr, buf + 12, 4));
		check(!memcmp(&pi.daddr, buf + 16, 4));
		check(pi.proto == buf[9]);
		/* a UDP header is there whenever the kind needs one */
		if (pi.proto == 17 && pi.frag != FRAG_LATER)
			check(pi.len - pi.l4off >= 8);
		if (pi.has_ike)
			check(pi.kind == PKT_IKE || pi.kind == PKT_NATT_IKE);
		if (pi.kind == PKT_ESP || pi.kind == PKT_ESP_UDP)
			check(pi.spi >= 256);
		if (pi.kind == PKT_IKE || pi.kind == PKT_NATT_IKE)
			check(pi.ike.ispi && pi.ike.length >= IKE_HDR_LEN &&
			      (pi.ike.version == 1 || pi.ike.version == 2));
		if (pi.kind == PKT_ICMP_ERR) {
			check(pi.proto == 1 && pi.frag == FRAG_NONE);
			check(ic->in_off == pi.l4off + 8);
			check(ic->in_l4off >= ic->in_off + 20);
			check(ic->in_l4off <= ic->in_end);
			check(ic->in_end == pi.len);
			/* the rewriters write the quoted ports and UDP
			 * checksum: all 8 bytes must be there */
			if (ic->in_ports)
				check(ic->in_end - ic->in_l4off >= 8 &&
				      ic->in_proto == 17 && !ic->in_later);
			if (ic->in_has_spi || ic->in_has_ispi)
				check(!ic->in_later);
			/* every field the ICMP rewriters change must sit
			 * at an even offset from the ICMP header */
			check((ic->in_off - pi.l4off) % 2 == 0);
			check((ic->in_l4off - pi.l4off) % 2 == 0);
		}
		check(pkt_kind_name((enum pkt_kind)pi.kind)[0] != '?');
	}
	free(buf);
	return 0;
}
