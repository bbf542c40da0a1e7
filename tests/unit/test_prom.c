/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Prometheus text from stat records: names, types, labels, grouping. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prom.h"

/* Feeds "k=v k=v ..." (cut up in place) as one record. */
static void feed(struct prom *p, char *rec)
{
	char *key[32], *val[32], *save = NULL, *tok;
	unsigned n = 0;

	for (tok = strtok_r(rec, " ", &save); tok && n < 32;
	     tok = strtok_r(NULL, " ", &save)) {
		char *eq = strchr(tok, '=');

		assert_non_null(eq);
		*eq = '\0';
		key[n] = tok;
		val[n++] = eq + 1;
	}
	prom_record(p, key, val, n);
}

static char *render(const char *const *recs)
{
	struct prom p = { .n = 0 };
	char *buf = NULL, line[512];
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	unsigned i;

	assert_non_null(f);
	for (i = 0; recs[i]; i++) {
		snprintf(line, sizeof(line), "%s", recs[i]);
		feed(&p, line);
	}
	assert_int_equal(prom_print(&p, f), 0);
	fclose(f);
	return buf;
}

static void test_names_types_labels(void **state)
{
	static const char *const recs[] = {
		"scope=sessions active=3 created=7",
		"scope=queue queue=0 cpu=1 packets=10 drop_no-alias=2 "
		"kind_esp=6 batch_4=1 kernel_waiting=0",
		"scope=queue queue=1 cpu=-1 packets=20 drop_no-alias=0 "
		"kind_esp=9 batch_4=3 kernel_waiting=5",
		NULL,
	};
	char *out = render(recs);

	(void)state;
	assert_non_null(strstr(out, "# TYPE espmasq_sessions_active gauge\n"
				    "espmasq_sessions_active 3\n"));
	assert_non_null(strstr(out, "# TYPE espmasq_sessions_created_total "
				    "counter\nespmasq_sessions_created_total 7\n"));
	/* both queues' samples under one HELP and TYPE, in order */
	assert_non_null(strstr(out,
		"# TYPE espmasq_queue_packets_total counter\n"
		"espmasq_queue_packets_total{queue=\"0\"} 10\n"
		"espmasq_queue_packets_total{queue=\"1\"} 20\n"));
	assert_non_null(strstr(out,
		"espmasq_queue_dropped_by_reason_total{queue=\"0\","
		"reason=\"no-alias\"} 2\n"
		"espmasq_queue_dropped_by_reason_total{queue=\"1\","
		"reason=\"no-alias\"} 0\n"));
	assert_non_null(strstr(out,
		"espmasq_queue_packets_by_kind_total{queue=\"1\",kind=\"esp\"} 9\n"));
	assert_non_null(strstr(out,
		"espmasq_queue_bursts_by_size_total{queue=\"1\",size=\"4\"} 3\n"));
	assert_non_null(strstr(out, "# TYPE espmasq_queue_kernel_waiting gauge\n"));
	/* the cpu is no metric, and no family is described twice */
	assert_null(strstr(out, "cpu"));
	{
		const char *first = strstr(out, "# HELP espmasq_queue_packets_total");

		assert_non_null(first);
		assert_null(strstr(first + 1, "# HELP espmasq_queue_packets_total"));
	}
	free(out);
}

/* words in a stats line (offload state=off why=table-missing) are for
 * people: no sample, while the numbers beside them are exported */
static void test_words_skipped(void **state)
{
	static const char *const recs[] = {
		"scope=offload state=off entries=0 ike_entries=0 scans=4 "
		"ike_packets=7 why=table-missing",
		NULL,
	};
	char *out = render(recs);

	(void)state;
	assert_null(strstr(out, "state"));
	assert_null(strstr(out, "why"));
	assert_non_null(strstr(out, "# TYPE espmasq_offload_entries gauge\n"
				    "espmasq_offload_entries 0\n"));
	assert_non_null(strstr(out, "espmasq_offload_scans_total 4\n"));
	/* how many of the entries are IKE flows: a level too */
	assert_non_null(strstr(out, "# TYPE espmasq_offload_ike_entries gauge\n"
				    "espmasq_offload_ike_entries 0\n"));
	assert_non_null(strstr(out, "espmasq_offload_ike_packets_total 7\n"));
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names_types_labels),
		cmocka_unit_test(test_words_skipped),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
