// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for the control protocol (src/api/proto.c): a byte
 * stream as a client connection would send it, cut into chunks.
 *
 * Input: a sequence of operations, each an opcode byte:
 *   0x00-0xef  a chunk of (op % 64) + 1 bytes taken from the input;
 *   0xf0-0xfe  a run: 2 bytes of length (little endian, times 4) of the
 *              next byte, so that lines past the 64 KiB limit are cheap;
 *   0xff       the callback asks the feed to stop after its next event
 *              (the caller then feeds the rest again).
 *
 * Checked: the events (lines and "too long" reports) are the same however
 * the stream is cut, and the same as feeding it in one piece; a delivered
 * line is at most API_LINE_MAX bytes, NUL-terminated; every line parses
 * or fails with a known error code and a one-line message; the response
 * line for it is valid JSON that carries the request's id.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "api/proto.h"
#include "jsonutil.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define STREAM_MAX (1u << 20)

static void check(int cond)
{
	if (!cond)
		__builtin_trap();
}

/* Events as a byte log: 'L' len(4) bytes..., or 'T'. */
struct log {
	uint8_t *buf;
	size_t len, cap;
	bool stop_next; /* ask the feed to stop after the next event */
	unsigned int stops;
};

static void log_put(struct log *l, const void *p, size_t n)
{
	if (l->len + n > l->cap) {
		size_t cap = (l->len + n) * 2;
		l->buf = realloc(l->buf, cap);
		check(l->buf != NULL);
		l->cap = cap;
	}
	memcpy(l->buf + l->len, p, n);
	l->len += n;
}

static bool known_code(const char *c)
{
	static const char *const codes[] = {
		API_ERR_INVALID_JSON,	 API_ERR_LINE_TOO_LONG, API_ERR_INVALID_REQUEST,
		API_ERR_UNKNOWN_COMMAND, API_ERR_INVALID_ARGS,
	};
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		if (c && !strcmp(c, codes[i]))
			return true;
	return false;
}

/* The response to @line is one valid JSON line that carries @id. */
static void check_response(char *resp, const struct api_id *id, bool ok)
{
	char why[128];
	check(resp != NULL);
	size_t n = strlen(resp);
	check(n > 0 && resp[n - 1] == '\n' && !memchr(resp, '\n', n - 1));
	cJSON *j = json_parse_strict(resp, n - 1, why, sizeof(why));
	check(j != NULL);
	const cJSON *jid = cJSON_GetObjectItemCaseSensitive(j, "id");
	if (id->kind == API_ID_NONE)
		check(cJSON_IsNull(jid));
	else if (id->kind == API_ID_STRING)
		check(cJSON_IsString(jid) && !strcmp(jid->valuestring, id->str));
	else
		check(cJSON_IsNumber(jid) && jid->valuedouble == (double)id->num);
	check(cJSON_IsBool(cJSON_GetObjectItemCaseSensitive(j, "ok")) &&
	      cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "ok")) == ok);
	cJSON_Delete(j);
	free(resp);
}

static int on_line(void *ctx, enum api_line_kind kind, const char *line, size_t len)
{
	struct log *l = ctx;
	struct api_request req;
	struct api_error err;

	if (kind == API_LINE_TOO_LONG) {
		check(line == NULL);
		log_put(l, "T", 1);
		struct api_id none = {.kind = API_ID_NONE};
		check_response(api_format_error_msg(&none, API_ERR_LINE_TOO_LONG, "too long"),
			       &none, false);
	} else {
		uint32_t n = (uint32_t)len;
		check(kind == API_LINE && line && len <= API_LINE_MAX && line[len] == 0);
		log_put(l, "L", 1);
		log_put(l, &n, sizeof(n));
		log_put(l, line, len);
		if (api_parse_request(line, len, &req, &err) == 0) {
			check(api_command_name(req.cmd) != NULL);
			check(req.id.kind != API_ID_NONE);
			check(req.cmd != API_CMD_SCREENSHOT || req.args.screenshot.path[0] == '/');
			check_response(api_format_ok(&req.id, NULL), &req.id, true);
		} else {
			check(known_code(err.code));
			check(err.message[0] && !strchr(err.message, '\n'));
			check(json_utf8_valid(err.message, strlen(err.message)));
			check_response(api_format_error(&req.id, &err), &req.id, false);
		}
	}
	if (l->stop_next) {
		l->stop_next = false;
		l->stops++;
		return 1;
	}
	return 0;
}

/* Feed all of @p, again and again when the callback stops the feed. */
static void feed_all(struct api_linebuf *lb, const uint8_t *p, size_t n, struct log *l)
{
	while (n) {
		size_t took = api_linebuf_feed(lb, p, n, on_line, l);
		check(took <= n);
		check(took > 0 || n == 0);
		p += took;
		n -= took;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t *stream, *run;
	struct api_linebuf lb, whole;
	struct log chunked = {0}, ref = {0};
	size_t slen = 0, i = 0;

	if (!stream) {
		stream = malloc(STREAM_MAX);
		run = malloc(4 * 65535);
		check(stream && run);
	}
	check(api_linebuf_init(&lb) == 0);
	while (i < size) {
		uint8_t op = data[i++];
		const uint8_t *p;
		size_t n;
		if (op == 0xff) {
			chunked.stop_next = true;
			continue;
		}
		if (op >= 0xf0) {
			if (size - i < 3)
				break;
			n = 4 * (size_t)(data[i] | data[i + 1] << 8);
			memset(run, data[i + 2], n);
			p = run;
			i += 3;
		} else {
			n = (op % 64) + 1;
			if (n > size - i)
				n = size - i;
			p = data + i;
			i += n;
		}
		if (n > STREAM_MAX - slen)
			break;
		memcpy(stream + slen, p, n);
		slen += n;
		feed_all(&lb, p, n, &chunked);
	}
	size_t pending = api_linebuf_pending(&lb);
	check(pending <= API_LINE_MAX);
	api_linebuf_destroy(&lb); /* the client went away */

	/* The same stream in one piece gives the same events. */
	check(api_linebuf_init(&whole) == 0);
	feed_all(&whole, stream, slen, &ref);
	check(api_linebuf_pending(&whole) == pending);
	api_linebuf_destroy(&whole);
	check(chunked.len == ref.len && (ref.len == 0 || !memcmp(chunked.buf, ref.buf, ref.len)));
	free(chunked.buf);
	free(ref.buf);
	return 0;
}
