/* SPDX-License-Identifier: MIT */
/*
 * Logging. Messages go to stderr (or a file) prefixed with "hostel: ".
 * Anything a guest can trigger must use log_ratelimited() so that a hostile
 * guest cannot flood the host's log.
 */
#ifndef HOSTEL_LOG_H
#define HOSTEL_LOG_H

#include <stdint.h>
#include <stdio.h>
#include "compiler.h"

enum log_level { LOG_ERROR = 0, LOG_WARN, LOG_INFO, LOG_DEBUG };

extern enum log_level log_level;

void log_set_level(enum log_level lvl);
void log_set_file(FILE *f);
void log_msg(enum log_level lvl, const char *fmt, ...) __printf(2, 3);
/* A message without a level word ("hostel: doctor: ..."), shown at the
 * default level, as warnings are. */
void log_note(const char *fmt, ...) __printf(1, 2);

#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...)                                                                             \
	do {                                                                                       \
		if (log_level >= LOG_DEBUG)                                                        \
			log_msg(LOG_DEBUG, __VA_ARGS__);                                           \
	} while (0)

/*
 * A rate limit: at most @burst messages per second per call site; the number
 * suppressed is reported with the next message that gets through.
 */
struct ratelimit {
	uint64_t window_start_ns;
	unsigned int printed;
	unsigned long suppressed;
};

/* Returns 1 if a message may be printed now, counting it; 0 if suppressed. */
int ratelimit_ok(struct ratelimit *rl, unsigned int burst);

#define log_ratelimited(lvl, ...)                                                                  \
	do {                                                                                       \
		static struct ratelimit __rl;                                                      \
		if (log_level >= (lvl) && ratelimit_ok(&__rl, 5))                                  \
			log_msg((lvl), __VA_ARGS__);                                               \
	} while (0)

#endif
