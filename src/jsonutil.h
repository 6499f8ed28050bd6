/* SPDX-License-Identifier: MIT */
/*
 * What the config loader and the control protocol need around cJSON: the
 * strictness it lacks (it accepts NUL bytes, invalid UTF-8 and a \u0000
 * escape that silently cuts a string short, and it keeps duplicate keys),
 * error positions as line and column, whole-number checks, and type names
 * for error messages.
 */
#ifndef HOSTEL_JSONUTIL_H
#define HOSTEL_JSONUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <cjson/cJSON.h>
#include "hostel/compiler.h"

/* 2^53 - 1: the largest whole number a JSON double holds exactly. */
#define JSON_MAX_EXACT_INT 9007199254740991LL

/*
 * Parse @len bytes of JSON text (no NUL needed at the end). Rejects, before
 * cJSON sees them, NUL bytes, invalid UTF-8 (overlong forms, surrogates,
 * code points past U+10FFFF) and \u0000 escapes; then anything cJSON rejects,
 * and trailing text after the value. On error returns NULL and writes one
 * line into @why ("invalid JSON at line 3, column 7").
 */
cJSON *json_parse_strict(const char *text, size_t len, char *why, size_t whylen) __must_check;

/* Whether @len bytes are valid UTF-8 (and free of NUL bytes). */
bool json_utf8_valid(const char *s, size_t len);

/* The longest prefix of the NUL-terminated @s, at most @max bytes, that does
 * not cut a UTF-8 sequence in half. */
int json_utf8_prefix(const char *s, size_t max);

/*
 * User text for a one-line message: @s written as inside a JSON string
 * (quotes, backslashes and control characters escaped, so never a
 * newline), cut on a character boundary to fit @len bytes with "..." at
 * the cut. Returns @buf.
 */
#define JSON_QUOTE_LEN 72
const char *json_quote(const char *s, char *buf, size_t len);

/* "a string", "a number", "an object", ... for "expected X, got Y". */
const char *json_type_name(const cJSON *item);

/*
 * A whole number from @min to @max. Returns 0, -EINVAL when @item is not a
 * number or not a whole finite one, -ERANGE when it is outside the range.
 */
int json_get_int(const cJSON *item, long long min, long long max, long long *out) __must_check;

/*
 * Check the keys of @obj: each must be in the NULL-terminated @allowed and
 * appear once. On a bad key returns -EINVAL and points *@bad at it (with
 * *@dup telling a duplicate from an unknown key).
 */
int json_check_keys(const cJSON *obj, const char *const *allowed, const cJSON **bad,
		    bool *dup) __must_check;

#endif
