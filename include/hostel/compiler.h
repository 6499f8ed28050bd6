/* SPDX-License-Identifier: MIT */
#ifndef HOSTEL_COMPILER_H
#define HOSTEL_COMPILER_H

#include <stddef.h>

#define __must_check   __attribute__((warn_unused_result))
#define __printf(a, b) __attribute__((format(printf, a, b)))
#define __unused       __attribute__((unused))
#define ARRAY_SIZE(a)  (sizeof(a) / sizeof((a)[0]))
/* Via void * so clang -Wcast-align accepts it: the member really is inside a @type. */
#define container_of(ptr, type, member) ((type *)(void *)((char *)(ptr)-offsetof(type, member)))
#define MIN(a, b)			((a) < (b) ? (a) : (b))
#define MAX(a, b)			((a) > (b) ? (a) : (b))

#endif
