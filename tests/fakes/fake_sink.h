/* SPDX-License-Identifier: MIT */
/* A byte sink that records what it is given (bounded). */
#ifndef FAKE_SINK_H
#define FAKE_SINK_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "hostel/chardev.h"

struct fake_sink {
	struct byte_sink sink;
	uint8_t buf[65536];
	size_t len;
	size_t dropped;
};

static inline void fake_sink_write(struct byte_sink *s, const uint8_t *b, size_t n)
{
	struct fake_sink *f = (struct fake_sink *)s;
	for (size_t i = 0; i < n; i++) {
		if (f->len < sizeof(f->buf))
			f->buf[f->len++] = b[i];
		else
			f->dropped++;
	}
}

static inline void fake_sink_init(struct fake_sink *f)
{
	memset(f, 0, sizeof(*f));
	f->sink.write = fake_sink_write;
}

#endif
