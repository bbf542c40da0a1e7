/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Logging to syslog, or to stderr in the foreground.  Thread-safe.
 * log_warn() appends strerror(errno).  fatal() is for start-up only.
 */
#ifndef ESPMASQ_LOG_H
#define ESPMASQ_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <syslog.h>

void log_init(const char *ident, bool to_stderr, int max_level);
void log_set_level(int max_level);

void log_msg(int level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
_Noreturn void fatal(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
_Noreturn void fatalx(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

/*
 * A rate limit for one kind of message: at most @burst lines per
 * @interval seconds; the lines held back are counted and reported with
 * the next one let through.
 */
struct log_limit {
	uint32_t interval;
	uint32_t burst;
	uint32_t window_start;
	uint32_t in_window;
	uint32_t suppressed;
	int lock;		/* spin flag: workers share limits */
};

#define LOG_LIMIT_INIT(iv, b) { .interval = (iv), .burst = (b) }

void log_limited(struct log_limit *l, uint32_t now, int level,
		 const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#endif
