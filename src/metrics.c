/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>

#include "control.h"
#include "daemon.h"
#include "metrics.h"
#include "prom.h"

#define MAX_KV	128

/* Feeds each "stat k=v ..." line of @text to @p (@text is cut up). */
static void take(struct prom *p, char *text)
{
	char *save = NULL, *line;

	for (line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *key[MAX_KV], *val[MAX_KV], *s2 = NULL, *tok;
		unsigned n = 0;

		tok = strtok_r(line, " ", &s2);
		if (!tok || strcmp(tok, "stat"))
			continue;
		while ((tok = strtok_r(NULL, " ", &s2)) && n < MAX_KV) {
			char *eq = strchr(tok, '=');

			if (!eq)
				continue;
			*eq = '\0';
			key[n] = tok;
			val[n++] = eq + 1;
		}
		prom_record(p, key, val, n);
	}
}

int metrics_write(struct daemon *d)
{
	static struct log_limit lim = LOG_LIMIT_INIT(60, 1);
	const char *path = d->cfg->metrics;
	struct evbuffer *b;
	struct prom p = { .n = 0 };
	char tmp[CONFIG_PATH_MAX + 8], *text;
	size_t len;
	FILE *f;
	int err = 0;

	if (!path[0])
		return 0;
	b = evbuffer_new();
	if (!b)
		return -ENOMEM;
	control_stats(d, b);
	len = evbuffer_get_length(b);
	text = malloc(len + 1);
	if (!text) {
		evbuffer_free(b);
		return -ENOMEM;
	}
	evbuffer_remove(b, text, len);
	text[len] = '\0';
	evbuffer_free(b);
	take(&p, text);
	free(text);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "we");
	if (!f) {
		err = -errno;
		prom_free(&p);
	} else {
		err = prom_print(&p, f);
		if (fclose(f) && !err)
			err = -errno;
		if (!err && rename(tmp, path))
			err = -errno;
		if (err)
			unlink(tmp);
	}
	if (err)
		log_limited(&lim, daemon_now(), LOG_ERR,
			    "metrics-file %s: cannot write: %s", path,
			    strerror(-err));
	return err;
}
