/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The verdict path without the kernel: worker_decide() on prepared
 * packets, with the real config, table, pool and translation. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "worker.h"

static struct daemon *mkd(void)
{
	static const char *const lines[] = {
		"inside 192.0.2.0/24", "alias 203.0.113.11", "alias-clients 1",
		"mark 0x100/0xff00", NULL,
	};
	struct daemon *d = calloc(1, sizeof(*d));
	struct config_errors e = { .n = 0 };
	struct session_limits lim = { 16, 64 };
	unsigned i;

	assert_non_null(d);
	d->cfg = calloc(1, sizeof(*d->cfg));
	config_init(d->cfg);
	for (i = 0; lines[i]; i++)
		assert_int_equal(config_line(d->cfg, "w", i + 1, lines[i], &e), 0);
	assert_int_equal(config_finish(d->cfg, "w", &e), 0);
	d->table = session_table_new(&lim);
	d->pool = alias_pool_new(d->cfg);
	d->xlate = (struct xlate_ctx){ d->table, d->cfg, d->pool };
	log_init("test", true, LOG_ERR);
	return d;
}

static void freed(struct daemon *d)
{
	session_table_free(d->table);
	alias_pool_free(d->pool);
	free(d->cfg);
	free(d);
}

/* raw ESP, 36 bytes, valid IP checksum not needed for the decision */
static void esp(uint8_t *p, uint32_t src, uint32_t dst, uint32_t spi)
{
	uint32_t s = htonl(src), t = htonl(dst), v = htonl(spi);

	memset(p, 0, 36);
	p[0] = 0x45;
	p[3] = 36;
	p[8] = 64;
	p[9] = 50;
	memcpy(p + 12, &s, 4);
	memcpy(p + 16, &t, 4);
	memcpy(p + 20, &v, 4);
}

static void test_decide(void **state)
{
	struct daemon *d = mkd();
	struct worker_counters c;
	uint8_t buf[64];
	struct queue_pkt pkt = { .id = 1, .data = buf, .len = 36,
				 .orig_len = 36, .mark = 0x12345 };
	bool payload, set_mark;
	uint32_t mark = 0, a;

	(void)state;
	memset(&c, 0, sizeof(c));
	esp(buf, 0xc000020b, 0xcb007164, 0x1001);
	assert_int_equal(worker_decide(d, &c, &pkt, 5, 5000, &payload, &set_mark,
				       &mark), NF_ACCEPT);
	assert_true(payload);
	assert_true(set_mark);
	/* bits outside the mask survive, the masked part is ours */
	assert_int_equal(mark, 0x10145);
	memcpy(&a, buf + 12, 4);
	assert_int_equal(ntohl(a), 0xcb00710b);
	assert_int_equal(c.rewritten, 1);
	assert_int_equal(c.kind[PKT_ESP], 1);

	/* a second client finds no free alias: dropped, counted, unchanged */
	esp(buf, 0xc000020c, 0xcb007164, 0x1002);
	assert_int_equal(worker_decide(d, &c, &pkt, 5, 5000, &payload, &set_mark,
				       &mark), NF_DROP);
	assert_false(payload);
	memcpy(&a, buf + 12, 4);
	assert_int_equal(ntohl(a), 0xc000020c);
	assert_int_equal(c.xlate[XL_DROP_NO_ALIAS], 1);

	/* malformed: counted under its reason */
	esp(buf, 0xc000020b, 0xcb007164, 0x10);
	assert_int_equal(worker_decide(d, &c, &pkt, 5, 5000, &payload, &set_mark,
				       &mark), NF_DROP);
	assert_int_equal(c.malformed[PKT_ERR_ESP_SPI], 1);

	/* only part of the packet was copied: never rewritten or passed */
	esp(buf, 0xc000020b, 0xcb007164, 0x1001);
	pkt.orig_len = 1500;
	assert_int_equal(worker_decide(d, &c, &pkt, 5, 5000, &payload, &set_mark,
				       &mark), NF_DROP);
	assert_int_equal(c.truncated, 1);
	pkt.orig_len = 36;
	pkt.data = NULL;
	assert_int_equal(worker_decide(d, &c, &pkt, 5, 5000, &payload, &set_mark,
				       &mark), NF_DROP);
	assert_int_equal(c.truncated, 2);

	assert_int_equal(c.packets, 5);
	assert_int_equal(c.accepted + c.dropped, c.packets);
	freed(d);
}

static void test_partial_checksum_counted(void **state)
{
	struct daemon *d = mkd();
	struct worker_counters c;
	uint8_t buf[64];
	struct queue_pkt pkt = { .id = 2, .data = buf, .len = 57,
				 .orig_len = 57,
				 .skbinfo = NFQA_SKB_CSUMNOTREADY };
	bool payload, set_mark;
	uint32_t mark;
	uint32_t s = htonl(0xc000020b), t = htonl(0xcb007164);

	(void)state;
	memset(&c, 0, sizeof(c));
	memset(buf, 0, sizeof(buf));
	buf[0] = 0x45;
	buf[3] = 57;
	buf[9] = 17;
	memcpy(buf + 12, &s, 4);
	memcpy(buf + 16, &t, 4);
	buf[20] = 0x11;		/* 4500 -> 4500, a keepalive */
	buf[21] = 0x94;
	buf[22] = 0x11;
	buf[23] = 0x94;
	buf[25] = 37;
	buf[28] = 0;		/* non-ESP marker, then an IKE header */
	buf[32 + 7] = 1;	/* ispi 1 */
	buf[32 + 17] = 0x20;
	buf[32 + 27] = 28;
	pkt.len = pkt.orig_len = 57 + 3;
	buf[3] = 60;
	buf[25] = 40;
	assert_int_equal(worker_decide(d, &c, &pkt, 5, 5000, &payload, &set_mark,
				       &mark), NF_ACCEPT);
	assert_int_equal(c.csum_partial, 1);
	assert_int_equal(c.kind[PKT_NATT_IKE], 1);
	/* the completed checksum is not the partial one left in place */
	assert_false(buf[26] == 0 && buf[27] == 0);
	freed(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decide),
		cmocka_unit_test(test_partial_checksum_counted),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
