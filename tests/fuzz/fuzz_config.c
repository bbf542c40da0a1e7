/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer harness for the configuration parser: the input is a file,
 * fed line by line to config_line(), then config_finish().  A line
 * "@file NAME" (a harness convention, never passed to the parser) makes
 * the following lines come from NAME, as an included file's do, so the
 * file bookkeeping behind the messages is exercised too.
 *
 * Checked on every input: kept messages are NUL-terminated, not empty and
 * free of control characters; an accepted configuration keeps every
 * table within its bounds, sorted and unique where the header says so,
 * and an alias pool can be built from it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_check.h"
#include "alias.h"
#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_errors(const struct config_errors *e)
{
	unsigned i;

	const char *p;

	for (i = 0; i < e->n && i < CONFIG_ERR_KEEP; i++) {
		check(memchr(e->msg[i], '\0', CONFIG_ERR_LEN) != NULL &&
		      e->msg[i][0]);
		/* messages quote the input: nothing a terminal acts on */
		for (p = e->msg[i]; *p; p++)
			check((unsigned char)*p >= 0x20 && *p != 0x7f);
	}
}

static void check_config(const struct config *c)
{
	struct alias_pool *p;
	unsigned i;

	check(c->n_inside <= CONFIG_MAX_NETS);
	check(c->n_servers <= CONFIG_MAX_NETS);
	check(c->n_aliases <= CONFIG_MAX_ALIASES);
	check(c->n_pins <= CONFIG_MAX_PINS);
	check(c->n_marks <= CONFIG_MAX_MARKS);
	check(c->n_queues >= 1 && c->n_queues <= CONFIG_MAX_QUEUES);
	check(c->n_files <= CONFIG_MAX_FILES);
	for (i = 1; i < c->n_aliases; i++)
		check(c->aliases[i - 1] < c->aliases[i]);
	for (i = 1; i < c->n_queues; i++)
		check(c->queues[i - 1] < c->queues[i]);
	for (i = 0; i < c->n_inside; i++)
		check(!(c->inside[i].addr & ~c->inside[i].mask));
	for (i = 0; i < c->n_servers; i++)
		check(!(c->servers[i].addr & ~c->servers[i].mask));
	for (i = 0; i < c->n_marks; i++)
		check(!(c->marks[i].mark.value & ~c->marks[i].mark.mask));
	check(!(c->mark.value & ~c->mark.mask));
	for (i = 0; i < c->n_aliases; i++)
		check(!config_is_inside(c, c->aliases[i]));
	check(c->natt_lo <= c->natt_hi);
	check(memchr(c->control, '\0', sizeof(c->control)) != NULL);
	check(memchr(c->state, '\0', sizeof(c->state)) != NULL);
	check(memchr(c->metrics, '\0', sizeof(c->metrics)) != NULL);
	check(memchr(c->outside, '\0', sizeof(c->outside)) != NULL);
	check(memchr(c->control_group, '\0', sizeof(c->control_group)) != NULL);
	/* what the daemon builds from it at start and on every packet */
	p = alias_pool_new(c);
	check(p != NULL);
	for (i = 0; i < c->n_aliases; i++)
		check(alias_pool_has(p, c->aliases[i]));
	for (i = 0; i < c->n_pins; i++) {
		check(config_pin_for(c, c->pins[i].client) == c->pins[i].alias);
		check(config_pin_client(c, c->pins[i].alias) ==
		      c->pins[i].client);
		check(alias_pool_has(p, c->pins[i].alias));
	}
	for (i = 0; i < c->n_marks; i++) {
		const struct cidr *n = &c->marks[i].net;
		struct mark m = config_mark_for(c, n->addr, n->addr, n->addr);

		check(m.set && !(m.value & ~m.mask));
	}
	alias_pool_free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct config c;
	static struct config_errors e;
	/* longer than the parser keeps, to reach what it does then */
	char file[2 * CONFIG_PATH_MAX] = "fuzz.conf", *line;
	size_t off = 0;
	unsigned lineno = 0;
	int bad = 0;

	config_init(&c);
	e.n = 0;
	line = malloc(size + 1);
	if (!line)
		return 0;
	while (off < size) {
		const uint8_t *nl = memchr(data + off, '\n', size - off);
		size_t n = nl ? (size_t)(nl - (data + off)) + 1 : size - off;

		/* exactly the line, so ASan sees a read past its end */
		memcpy(line, data + off, n);
		line[n] = '\0';
		off += n;
		lineno++;
		if (!strncmp(line, "@file ", 6)) {
			size_t k = strcspn(line + 6, "\n");

			if (k >= sizeof(file))
				k = sizeof(file) - 1;
			memcpy(file, line + 6, k);
			file[k] = '\0';
			lineno = 0;
			continue;
		}
		if (config_line(&c, file, lineno, line, &e))
			bad = 1;
		check_errors(&e);
	}
	free(line);
	if (config_finish(&c, "fuzz.conf", &e) == 0 && !bad && !e.n)
		check_config(&c);
	check_errors(&e);
	return 0;
}
