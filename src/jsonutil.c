// SPDX-License-Identifier: MIT
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "jsonutil.h"

/* Length of the valid UTF-8 sequence at @s (at most @len bytes), or 0. */
static size_t utf8_seq(const unsigned char *s, size_t len)
{
	unsigned char c = s[0];
	size_t n;
	unsigned char lo = 0x80, hi = 0xbf; /* range of the second byte */

	if (c == 0)
		return 0;
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		if (c == 0xe0)
			lo = 0xa0; /* overlong */
		else if (c == 0xed)
			hi = 0x9f; /* UTF-16 surrogates */
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		if (c == 0xf0)
			lo = 0x90; /* overlong */
		else if (c == 0xf4)
			hi = 0x8f; /* past U+10FFFF */
	} else {
		return 0;
	}
	if (len < n || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return n;
}

/* Offset of the first byte that is not valid UTF-8 (or a NUL), or @len. */
static size_t utf8_bad_at(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0;
	while (i < len) {
		size_t n = utf8_seq(u + i, len - i);
		if (!n)
			return i;
		i += n;
	}
	return len;
}

bool json_utf8_valid(const char *s, size_t len)
{
	return utf8_bad_at(s, len) == len;
}

int json_utf8_prefix(const char *s, size_t max)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t len = strnlen(s, max), i = 0;
	while (i < len) {
		size_t n = utf8_seq(u + i, len - i);
		if (!n)
			break;
		i += n;
	}
	return (int)i;
}

/* The text of the byte(s) at @s[@i] inside a JSON string: @esc or @s itself. */
static const char *quote_piece(const char *s, size_t i, size_t slen, char *esc, size_t *plen,
			       size_t *n)
{
	const unsigned char *u = (const unsigned char *)s;
	*n = 1;
	if (u[i] == '"' || u[i] == '\\') {
		esc[0] = '\\';
		esc[1] = (char)u[i];
		*plen = 2;
	} else if (u[i] < 0x20 || u[i] == 0x7f) {
		*plen = (size_t)snprintf(esc, 8, "\\u%04x", u[i]);
	} else if ((*n = utf8_seq(u + i, slen - i)) == 0) {
		esc[0] = '?'; /* not UTF-8: never after a checked parse */
		*plen = 1;
		*n = 1;
	} else {
		*plen = *n;
		return s + i;
	}
	return esc;
}

const char *json_quote(const char *s, char *buf, size_t len)
{
	size_t slen = strlen(s), total = 0, o = 0, plen, n;
	char esc[8];

	if (!len)
		return buf;
	for (size_t i = 0; i < slen; i += n) {
		quote_piece(s, i, slen, esc, &plen, &n);
		total += plen;
	}
	for (size_t i = 0; i < slen; i += n) {
		const char *piece = quote_piece(s, i, slen, esc, &plen, &n);
		/* All of it fits, or this piece and the "..." that marks a cut. */
		if (total >= len && o + plen + 3 >= len) {
			if (o + 3 < len) {
				memcpy(buf + o, "...", 3);
				o += 3;
			}
			break;
		}
		memcpy(buf + o, piece, plen);
		o += plen;
	}
	buf[o] = 0;
	return buf;
}

/*
 * A \u0000 escape inside a string. The scan follows string boundaries only,
 * which is exact for valid JSON; text it misreads is rejected by cJSON anyway.
 */
static const char *find_nul_escape(const char *s, size_t len)
{
	bool in_string = false;
	for (size_t i = 0; i < len; i++) {
		if (!in_string) {
			in_string = s[i] == '"';
			continue;
		}
		if (s[i] == '"') {
			in_string = false;
		} else if (s[i] == '\\' && i + 1 < len) {
			if (s[i + 1] == 'u' && len - i >= 6 && !memcmp(s + i + 2, "0000", 4))
				return s + i;
			i++; /* the escaped character */
		}
	}
	return NULL;
}

static void position(const char *text, const char *at, unsigned int *line, unsigned int *col)
{
	*line = 1;
	*col = 1;
	for (const char *p = text; p < at; p++) {
		if (*p == '\n') {
			(*line)++;
			*col = 1;
		} else if (((unsigned char)*p & 0xc0) != 0x80) {
			(*col)++; /* count characters, not UTF-8 continuation bytes */
		}
	}
}

cJSON *json_parse_strict(const char *text, size_t len, char *why, size_t whylen)
{
	unsigned int line, col;
	size_t bad = utf8_bad_at(text, len);

	if (bad < len) {
		position(text, text + bad, &line, &col);
		snprintf(why, whylen, "%s at line %u, column %u",
			 text[bad] ? "invalid UTF-8" : "a NUL byte", line, col);
		return NULL;
	}
	const char *esc = find_nul_escape(text, len);
	if (esc) {
		position(text, esc, &line, &col);
		snprintf(why, whylen, "a \\u0000 escape at line %u, column %u", line, col);
		return NULL;
	}
	char *copy = malloc(len + 1);
	if (!copy) {
		snprintf(why, whylen, "out of memory");
		return NULL;
	}
	memcpy(copy, text, len);
	copy[len] = 0;
	const char *end = NULL;
	cJSON *root = cJSON_ParseWithOpts(copy, &end, 1);
	if (!root) {
		size_t off = end && end >= copy && end <= copy + len ? (size_t)(end - copy) : 0;
		bool blank = strspn(copy, " \t\r\n") == len;
		position(text, text + off, &line, &col);
		if (blank)
			snprintf(why, whylen, "no JSON value (the text is empty)");
		else
			snprintf(why, whylen, "invalid JSON at line %u, column %u", line, col);
	}
	free(copy);
	return root;
}

const char *json_type_name(const cJSON *item)
{
	if (cJSON_IsString(item))
		return "a string";
	if (cJSON_IsNumber(item))
		return "a number";
	if (cJSON_IsBool(item))
		return cJSON_IsTrue(item) ? "true" : "false";
	if (cJSON_IsNull(item))
		return "null";
	if (cJSON_IsArray(item))
		return "an array";
	if (cJSON_IsObject(item))
		return "an object";
	return "an invalid value";
}

int json_get_int(const cJSON *item, long long min, long long max, long long *out)
{
	if (!cJSON_IsNumber(item))
		return -EINVAL;
	double d = item->valuedouble;
	/* Whole: every double past 2^63 is, and below that the cast is exact.
	 * (No floor(): hostel does not link libm.) */
	if (!isfinite(d) || (d > -9.2e18 && d < 9.2e18 && (double)(long long)d != d))
		return -EINVAL;
	/* Compare as doubles first: a huge value must not overflow the cast. */
	if (d < (double)min || d > (double)max)
		return -ERANGE;
	long long v = (long long)d;
	if (v < min || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

int json_check_keys(const cJSON *obj, const char *const *allowed, const cJSON **bad, bool *dup)
{
	const cJSON *it;
	cJSON_ArrayForEach(it, obj)
	{
		bool known = false;
		for (const char *const *a = allowed; *a; a++)
			if (!strcmp(it->string, *a))
				known = true;
		if (!known) {
			*bad = it;
			*dup = false;
			return -EINVAL;
		}
		for (const cJSON *prev = obj->child; prev != it; prev = prev->next) {
			if (!strcmp(prev->string, it->string)) {
				*bad = it;
				*dup = true;
				return -EINVAL;
			}
		}
	}
	return 0;
}
