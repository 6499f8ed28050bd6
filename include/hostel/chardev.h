/* SPDX-License-Identifier: MIT */
/*
 * A byte sink for console output. write() must never block the caller (a
 * vCPU thread): a sink that cannot keep up drops bytes and counts them.
 */
#ifndef HOSTEL_CHARDEV_H
#define HOSTEL_CHARDEV_H

#include <stddef.h>
#include <stdint.h>

struct byte_sink {
	void (*write)(struct byte_sink *s, const uint8_t *buf, size_t len);
};

static inline void sink_write(struct byte_sink *s, const uint8_t *buf, size_t len)
{
	if (s && s->write)
		s->write(s, buf, len);
}

#endif
