/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "heartbeat.h"

static void read_back(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY);
	ssize_t n;

	assert_true(fd >= 0);
	n = read(fd, buf, len - 1);
	assert_true(n >= 0);
	buf[n] = '\0';
	close(fd);
}

/* A list that is not there yet (rules not loaded) is retried on every
 * beat; each beat is one "+0.0.0.0" line, which xt_recent reads as "add
 * or refresh". */
static void test_beats(void **state)
{
	char dir[] = "/tmp/espmasq-hb-XXXXXX", path[64], buf[64];
	struct heartbeat h;
	int fd;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/espmasq", dir);
	heartbeat_init(&h);
	assert_int_equal(heartbeat_beat(&h, path), -ENOENT);
	assert_int_equal(heartbeat_beat(&h, path), -ENOENT);
	assert_int_equal(h.failures, 2);
	assert_int_equal(h.beats, 0);
	assert_true(h.warned);

	fd = open(path, O_WRONLY | O_CREAT, 0600);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(heartbeat_beat(&h, path), 0);
	assert_int_equal(heartbeat_beat(&h, path), 0);
	assert_int_equal(h.beats, 2);
	assert_false(h.warned);
	read_back(path, buf, sizeof(buf));
	assert_string_equal(buf, "+0.0.0.0\n+0.0.0.0\n");
	heartbeat_close(&h);
	assert_int_equal(h.fd, -1);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_beats),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
