/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"

static bool log_stderr = true;
static _Atomic int log_level = LOG_INFO;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

void log_init(const char *ident, bool to_stderr, int max_level)
{
	log_stderr = to_stderr;
	atomic_store(&log_level, max_level);
	if (!to_stderr)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void log_set_level(int max_level)
{
	atomic_store(&log_level, max_level);
}

static void vlog(int level, const char *fmt, va_list ap)
{
	static const char *const tag[] = {
		"emerg", "alert", "crit", "error", "warning", "notice", "info",
		"debug"
	};
	char line[1024];

	if (level > atomic_load(&log_level))
		return;
	vsnprintf(line, sizeof(line), fmt, ap);
	if (!log_stderr) {
		syslog(level, "%s", line);
		return;
	}
	pthread_mutex_lock(&log_lock);
	fprintf(stderr, "espmasqd: %s: %s\n", tag[level & 7], line);
	pthread_mutex_unlock(&log_lock);
}

void log_msg(int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(level, fmt, ap);
	va_end(ap);
}

#define LOG_FN(name, level)				\
	void name(const char *fmt, ...)			\
	{						\
		va_list ap;				\
		va_start(ap, fmt);			\
		vlog(level, fmt, ap);			\
		va_end(ap);				\
	}

LOG_FN(log_warnx, LOG_WARNING)
LOG_FN(log_info, LOG_INFO)
LOG_FN(log_debug, LOG_DEBUG)

static void vlog_errno(int level, int err, const char *fmt, va_list ap)
{
	char msg[900];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	log_msg(level, "%s: %s", msg, strerror(err));
}

void log_warn(const char *fmt, ...)
{
	int err = errno;
	va_list ap;

	va_start(ap, fmt);
	vlog_errno(LOG_WARNING, err, fmt, ap);
	va_end(ap);
}

void fatal(const char *fmt, ...)
{
	int err = errno;
	va_list ap;

	va_start(ap, fmt);
	vlog_errno(LOG_CRIT, err, fmt, ap);
	va_end(ap);
	exit(1);
}

void fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_CRIT, fmt, ap);
	va_end(ap);
	exit(1);
}

void log_limited(struct log_limit *l, uint32_t now, int level,
		 const char *fmt, ...)
{
	uint32_t suppressed = 0;
	bool emit = false;
	char msg[900];
	va_list ap;

	while (__atomic_exchange_n(&l->lock, 1, __ATOMIC_ACQUIRE))
		;
	if (now - l->window_start >= l->interval || !l->window_start) {
		suppressed = l->suppressed;
		l->suppressed = 0;
		l->window_start = now ? now : 1;
		l->in_window = 0;
	}
	if (l->in_window < l->burst) {
		l->in_window++;
		emit = true;
	} else {
		l->suppressed++;
	}
	__atomic_store_n(&l->lock, 0, __ATOMIC_RELEASE);
	if (!emit)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (suppressed)
		log_msg(level, "%s (%u similar messages suppressed)", msg,
			suppressed);
	else
		log_msg(level, "%s", msg);
}
