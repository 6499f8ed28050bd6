// SPDX-License-Identifier: MIT
#include <stdarg.h>
#include <stdio.h>
#include <time.h>
#include "hostel/log.h"

enum log_level log_level = LOG_WARN;
static FILE *log_file;

void log_set_level(enum log_level lvl)
{
	log_level = lvl;
}

void log_set_file(FILE *f)
{
	log_file = f;
}

static void __printf(3, 0) vlog(enum log_level lvl, const char *word, const char *fmt, va_list ap)
{
	FILE *f = log_file ? log_file : stderr;

	if (lvl > log_level)
		return;
	/* One line per message, written with one call so threads do not interleave. */
	char line[1024];
	int n = snprintf(line, sizeof(line), "hostel: %s", word);
	if (n >= 0 && (size_t)n < sizeof(line))
		vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	fprintf(f, "%s\r\n", line);
	fflush(f);
}

void log_msg(enum log_level lvl, const char *fmt, ...)
{
	static const char *const prefix[] = {"error: ", "warning: ", "", "debug: "};
	va_list ap;

	va_start(ap, fmt);
	vlog(lvl, prefix[lvl], fmt, ap);
	va_end(ap);
}

void log_note(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_WARN, "", fmt, ap);
	va_end(ap);
}

int ratelimit_ok(struct ratelimit *rl, unsigned int burst)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	uint64_t now = (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;

	/* Not thread-safe by design: a lost update only misprints a count. */
	if (now - rl->window_start_ns >= 1000000000ULL) {
		if (rl->suppressed)
			log_msg(LOG_WARN, "%lu messages suppressed", rl->suppressed);
		rl->window_start_ns = now;
		rl->printed = 0;
		rl->suppressed = 0;
	}
	if (rl->printed < burst) {
		rl->printed++;
		return 1;
	}
	rl->suppressed++;
	return 0;
}
