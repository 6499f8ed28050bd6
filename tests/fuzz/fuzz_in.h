/* SPDX-License-Identifier: MIT */
/*
 * What the fuzz targets read libFuzzer's input with: a cursor over the
 * bytes that yields 0 once they run out (so every input, however short,
 * is a whole program of operations), little-endian multi-byte reads, and
 * CHECK, which ends the run as a crash libFuzzer saves.
 */
#ifndef FUZZ_IN_H
#define FUZZ_IN_H

#include <stddef.h>
#include <stdint.h>

#define CHECK(c)                                                                                   \
	do {                                                                                       \
		if (!(c))                                                                          \
			__builtin_trap();                                                          \
	} while (0)

struct in {
	const uint8_t *p;
	size_t n;
};

static inline uint8_t get8(struct in *in)
{
	uint8_t v = 0;

	if (in->n) {
		v = *in->p++;
		in->n--;
	}
	return v;
}

/* @bytes (at most 8), little endian: the first is the lowest. */
static inline uint64_t getn(struct in *in, unsigned int bytes)
{
	uint64_t v = 0;

	for (unsigned int i = 0; i < bytes && i < 8; i++)
		v |= (uint64_t)get8(in) << (8 * i);
	return v;
}

static inline uint16_t get16(struct in *in)
{
	return (uint16_t)getn(in, 2);
}

static inline uint32_t get32(struct in *in)
{
	return (uint32_t)getn(in, 4);
}

#endif
