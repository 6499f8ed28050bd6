// SPDX-License-Identifier: MIT
/*
 * Unit tests for the control-socket protocol (src/api/proto.c): every
 * command parsed, every reject with its error code and the id it still
 * carries, the exact text of responses, and line assembly over chunks of
 * every size: half-sent requests, several in one chunk, CRLF, blank lines,
 * an oversized line reported once and followed by a usable connection.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "api/proto.h"

static int parse(const char *line, struct api_request *req, struct api_error *err)
{
	return api_parse_request(line, strlen(line), req, err);
}

static void test_commands(void **state)
{
	static const struct {
		const char *name;
		enum api_command cmd;
	} cmds[] = {
		{"status", API_CMD_STATUS}, {"pause", API_CMD_PAUSE},
		{"resume", API_CMD_RESUME}, {"power-button", API_CMD_POWER_BUTTON},
		{"stop", API_CMD_STOP},	    {"stats", API_CMD_STATS},
	};
	struct api_request req;
	struct api_error err;
	char line[256];

	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		snprintf(line, sizeof(line), "{\"id\": %zu, \"command\": \"%s\"}", i, cmds[i].name);
		assert_int_equal(parse(line, &req, &err), 0);
		assert_int_equal(req.cmd, cmds[i].cmd);
		assert_int_equal(req.id.kind, API_ID_NUMBER);
		assert_true(req.id.num == (long long)i);
		assert_string_equal(api_command_name(cmds[i].cmd), cmds[i].name);
		/* An empty args object is the same as none. */
		snprintf(line, sizeof(line),
			 "{\"command\": \"%s\", \"args\": {}, \"id\": \"x%zu\"}", cmds[i].name, i);
		assert_int_equal(parse(line, &req, &err), 0);
		assert_int_equal(req.cmd, cmds[i].cmd);
		assert_int_equal(req.id.kind, API_ID_STRING);
		assert_int_equal(req.id.str[0], 'x');
	}
	assert_string_equal(api_command_name(API_CMD_SCREENSHOT), "screenshot");
	assert_null(api_command_name(API_CMD_COUNT));
	assert_null(api_command_name((enum api_command) - 1));

	assert_int_equal(parse("{\"id\":-7,\"command\":\"screenshot\",\"args\":{\"path\":\"/tmp/"
			       "s.ppm\"}}",
			       &req, &err),
			 0);
	assert_int_equal(req.cmd, API_CMD_SCREENSHOT);
	assert_true(req.id.num == -7);
	assert_string_equal(req.args.screenshot.path, "/tmp/s.ppm");

	/* Ids at the edges: 2^53-1, a float that is whole, an empty string, 128 bytes. */
	assert_int_equal(parse("{\"id\": 9007199254740991, \"command\": \"stop\"}", &req, &err), 0);
	assert_true(req.id.num == 9007199254740991LL);
	assert_int_equal(parse("{\"id\": -9007199254740991, \"command\": \"stop\"}", &req, &err),
			 0);
	assert_true(req.id.num == -9007199254740991LL);
	assert_int_equal(parse("{\"id\": 3.0, \"command\": \"stop\"}", &req, &err), 0);
	assert_true(req.id.num == 3);
	assert_int_equal(parse("{\"id\": \"\", \"command\": \"stop\"}", &req, &err), 0);
	assert_string_equal(req.id.str, "");
	snprintf(line, sizeof(line), "{\"id\": \"%0128d\", \"command\": \"stop\"}", 0);
	assert_int_equal(parse(line, &req, &err), 0);
	assert_int_equal(strlen(req.id.str), 128);
	/* Whitespace around the object is fine. */
	assert_int_equal(parse(" \t{\"id\":1,\"command\":\"status\"}\t ", &req, &err), 0);
}

static void expect_error(const char *line, size_t len, const char *code, const char *msg,
			 int id_kind, long long id_num)
{
	struct api_request req;
	struct api_error err;
	assert_int_equal(api_parse_request(line, len, &req, &err), -EINVAL);
	if (strcmp(err.code, code) || !strstr(err.message, msg))
		fail_msg("%.*s: got %s '%s', want %s '%s'", (int)len, line, err.code, err.message,
			 code, msg);
	assert_int_equal(req.id.kind, id_kind);
	if (id_kind == API_ID_NUMBER)
		assert_true(req.id.num == id_num);
	assert_null(strchr(err.message, '\n'));
}

#define REJECT(line, code, msg, kind, num) expect_error(line, strlen(line), code, msg, kind, num)

static void test_rejects(void **state)
{
	const int none = API_ID_NONE, num = API_ID_NUMBER;

	/* Not JSON. */
	REJECT("status", API_ERR_INVALID_JSON, "invalid JSON at line 1, column 1", none, 0);
	REJECT("{\"id\": 1, \"command\": \"status\"", API_ERR_INVALID_JSON, "invalid JSON", none,
	       0);
	REJECT("{\"id\": 1} {\"id\": 2}", API_ERR_INVALID_JSON, "invalid JSON", none, 0);
	REJECT("   ", API_ERR_INVALID_JSON, "no JSON value", none, 0);
	REJECT("{\"id\": 1, \"command\": \"st\xff\"}", API_ERR_INVALID_JSON, "invalid UTF-8", none,
	       0);
	REJECT("{\"id\": 1, \"command\": \"status\\u0000\"}", API_ERR_INVALID_JSON,
	       "a \\u0000 escape", none, 0);
	expect_error("{\"id\": 1, \"command\": \"status\"}\0", 31, API_ERR_INVALID_JSON,
		     "a NUL byte at line 1, column 31", none, 0);
	/* Not a request. */
	REJECT("[1, 2]", API_ERR_INVALID_REQUEST, "a request is a JSON object", none, 0);
	REJECT("42", API_ERR_INVALID_REQUEST, "got a number", none, 0);
	REJECT("{\"command\": \"status\"}", API_ERR_INVALID_REQUEST, "missing key \"id\"", none, 0);
	REJECT("{\"id\": 5}", API_ERR_INVALID_REQUEST, "missing key \"command\"", num, 5);
	REJECT("{\"id\": 5, \"command\": 1}", API_ERR_INVALID_REQUEST,
	       "key \"command\": expected a string, got a number", num, 5);
	REJECT("{\"id\": 5, \"command\": \"status\", \"extra\": 1}", API_ERR_INVALID_REQUEST,
	       "unknown key \"extra\"", num, 5);
	REJECT("{\"id\": 5, \"command\": \"status\", \"command\": \"stop\"}",
	       API_ERR_INVALID_REQUEST, "key \"command\" given more than once", num, 5);
	REJECT("{\"id\": 5, \"id\": 6, \"command\": \"status\"}", API_ERR_INVALID_REQUEST,
	       "key \"id\" given more than once", num, 5);
	REJECT("{\"id\": 5, \"Command\": \"status\"}", API_ERR_INVALID_REQUEST,
	       "unknown key \"Command\"", num, 5);
	/* Bad ids: the error carries none. */
	REJECT("{\"id\": null, \"command\": \"status\"}", API_ERR_INVALID_REQUEST,
	       "key \"id\": expected a number or a string, got null", none, 0);
	REJECT("{\"id\": [1], \"command\": \"status\"}", API_ERR_INVALID_REQUEST, "got an array",
	       none, 0);
	REJECT("{\"id\": true, \"command\": \"status\"}", API_ERR_INVALID_REQUEST, "got true", none,
	       0);
	REJECT("{\"id\": 1.5, \"command\": \"status\"}", API_ERR_INVALID_REQUEST,
	       "a whole number of at most 2^53-1", none, 0);
	REJECT("{\"id\": 9007199254740992, \"command\": \"status\"}", API_ERR_INVALID_REQUEST,
	       "a whole number", none, 0);
	REJECT("{\"id\": 1e400, \"command\": \"status\"}", API_ERR_INVALID_REQUEST,
	       "a whole number", none, 0);
	char line[512];
	snprintf(line, sizeof(line), "{\"id\": \"%0129d\", \"command\": \"stop\"}", 0);
	REJECT(line, API_ERR_INVALID_REQUEST, "at most 128 bytes, got 129", none, 0);
	/* Commands. */
	REJECT("{\"id\": 5, \"command\": \"reboot\"}", API_ERR_UNKNOWN_COMMAND,
	       "unknown command \"reboot\" (status, pause", num, 5);
	REJECT("{\"id\": 5, \"command\": \"STATUS\"}", API_ERR_UNKNOWN_COMMAND, "\"STATUS\"", num,
	       5);
	REJECT("{\"id\": 5, \"command\": \"\"}", API_ERR_UNKNOWN_COMMAND, "unknown command \"\"",
	       num, 5);
	/* Arguments. */
	REJECT("{\"id\": 5, \"command\": \"pause\", \"args\": []}", API_ERR_INVALID_ARGS,
	       "key \"args\": expected an object, got an array", num, 5);
	REJECT("{\"id\": 5, \"command\": \"pause\", \"args\": null}", API_ERR_INVALID_ARGS,
	       "got null", num, 5);
	REJECT("{\"id\": 5, \"command\": \"stop\", \"args\": {\"force\": true}}",
	       API_ERR_INVALID_ARGS, "\"stop\" takes no arguments, got \"force\"", num, 5);
	REJECT("{\"id\": 5, \"command\": \"screenshot\"}", API_ERR_INVALID_ARGS,
	       "screenshot needs \"args\": {\"path\"", num, 5);
	REJECT("{\"id\": 5, \"command\": \"screenshot\", \"args\": {}}", API_ERR_INVALID_ARGS,
	       "screenshot needs", num, 5);
	REJECT("{\"id\": 5, \"command\": \"screenshot\", \"args\": {\"path\": 1}}",
	       API_ERR_INVALID_ARGS, "argument \"path\": expected a string, got a number", num, 5);
	REJECT("{\"id\": 5, \"command\": \"screenshot\", \"args\": {\"path\": \"s.ppm\"}}",
	       API_ERR_INVALID_ARGS, "\"s.ppm\" is not an absolute path", num, 5);
	REJECT("{\"id\": 5, \"command\": \"screenshot\", \"args\": {\"path\": \"\"}}",
	       API_ERR_INVALID_ARGS, "is not an absolute path", num, 5);
	REJECT("{\"id\": 5, \"command\": \"screenshot\", \"args\": {\"path\": \"/a\", \"fmt\": 1}}",
	       API_ERR_INVALID_ARGS, "unknown argument \"fmt\"", num, 5);
	REJECT("{\"id\": 5, \"command\": \"screenshot\", \"args\": {\"path\": \"/a\", \"path\": "
	       "\"/b\"}}",
	       API_ERR_INVALID_ARGS, "argument \"path\" given more than once", num, 5);
	char *big = malloc(API_PATH_MAX + 128);
	int n = snprintf(big, API_PATH_MAX + 128,
			 "{\"id\": 5, \"command\": \"screenshot\", \"args\": {\"path\": \"/");
	memset(big + n, 'p', API_PATH_MAX - 1);
	strcpy(big + n + API_PATH_MAX - 1, "\"}}");
	REJECT(big, API_ERR_INVALID_ARGS, "argument \"path\": longer than 4095 bytes", num, 5);
	big[n + API_PATH_MAX - 2] = '"'; /* "/" and 4094 bytes: 4095, which fits */
	strcpy(big + n + API_PATH_MAX - 1, "}}");
	struct api_request req;
	struct api_error err;
	assert_int_equal(parse(big, &req, &err), 0);
	assert_int_equal(strlen(req.args.screenshot.path), API_PATH_MAX - 1);
	free(big);

	/* A long unknown key or command is quoted short and whole characters only. */
	char *longkey = malloc(1024);
	n = snprintf(longkey, 1024, "{\"id\": 5, \"command\": \"");
	for (int i = 0; i < 300; i++)
		n += snprintf(longkey + n, 1024 - n, "\xc3\xa9"); /* é, two bytes */
	snprintf(longkey + n, 1024 - n, "\"}");
	assert_int_equal(parse(longkey, &req, &err), -EINVAL);
	assert_string_equal(err.code, API_ERR_UNKNOWN_COMMAND);
	assert_non_null(strstr(err.message, "\xc3\xa9...\" (status"));
	/* Control characters in quoted text are escaped: the message is one line. */
	REJECT("{\"id\": 5, \"command\": \"a\\nb\"}", API_ERR_UNKNOWN_COMMAND,
	       "unknown command \"a\\u000ab\"", num, 5);
	REJECT("{\"id\": 5, \"command\": \"stop\", \"x\\ry\": 1}", API_ERR_INVALID_REQUEST,
	       "unknown key \"x\\u000dy\"", num, 5);
	free(longkey);

	/* Longer than a line may be, even when the caller did not use the linebuf. */
	char *huge = malloc(API_LINE_MAX + 1);
	memset(huge, ' ', API_LINE_MAX + 1);
	memcpy(huge, "{\"id\": 1, \"command\": \"stop\"}", 28);
	assert_int_equal(api_parse_request(huge, API_LINE_MAX, &req, &err), 0);
	expect_error(huge, API_LINE_MAX + 1, API_ERR_LINE_TOO_LONG, "at most 65536 bytes", none, 0);
	free(huge);
}

static void expect_text(char *got, const char *want)
{
	assert_non_null(got);
	assert_string_equal(got, want);
	free(got);
}

static void test_format(void **state)
{
	struct api_id num = {.kind = API_ID_NUMBER, .num = 42};
	struct api_id big = {.kind = API_ID_NUMBER, .num = 9007199254740991LL};
	struct api_id e15 = {.kind = API_ID_NUMBER, .num = 1000000000000000LL};
	struct api_id none = {.kind = API_ID_NONE};
	struct api_id str = {.kind = API_ID_STRING};
	strcpy(str.str, "a\"b\\c\n\xc3\xa9");

	expect_text(api_format_ok(&num, NULL), "{\"id\":42,\"ok\":true,\"result\":{}}\n");
	expect_text(api_format_ok(&big, NULL),
		    "{\"id\":9007199254740991,\"ok\":true,\"result\":{}}\n");
	expect_text(api_format_ok(&e15, NULL),
		    "{\"id\":1000000000000000,\"ok\":true,\"result\":{}}\n");
	expect_text(api_format_ok(&str, NULL),
		    "{\"id\":\"a\\\"b\\\\c\\n\xc3\xa9\",\"ok\":true,\"result\":{}}\n");
	cJSON *r = cJSON_CreateObject();
	cJSON_AddStringToObject(r, "state", "running");
	cJSON_AddNumberToObject(r, "vcpus", 2);
	expect_text(api_format_ok(&num, r),
		    "{\"id\":42,\"ok\":true,\"result\":{\"state\":\"running\",\"vcpus\":2}}\n");

	struct api_error err = {.code = API_ERR_UNKNOWN_COMMAND};
	strcpy(err.message, "unknown command \"x\"");
	expect_text(api_format_error(&num, &err),
		    "{\"id\":42,\"ok\":false,\"error\":{\"code\":\"unknown-command\",\"message\":"
		    "\"unknown command \\\"x\\\"\"}}\n");
	expect_text(api_format_error_msg(&none, API_ERR_LINE_TOO_LONG, "at most %u bytes", 65536u),
		    "{\"id\":null,\"ok\":false,\"error\":{\"code\":\"line-too-long\",\"message\":"
		    "\"at most 65536 bytes\"}}\n");

	/* A message cut at its buffer's end stays valid UTF-8. */
	char msg[700] = "";
	for (int i = 0; i < 200; i++)
		strcat(msg, "\xe2\x82\xac"); /* €, three bytes */
	char *line = api_format_error_msg(&none, API_ERR_FAILED, "%s", msg);
	assert_non_null(line);
	cJSON *j = cJSON_Parse(line);
	assert_non_null(j);
	const char *m =
		cJSON_GetObjectItem(cJSON_GetObjectItem(j, "error"), "message")->valuestring;
	assert_int_equal(strlen(m) % 3, 0);
	assert_true(strlen(m) >= 250);
	cJSON_Delete(j);
	free(line);

	/* Parse a request, answer it: the response carries the same id. */
	struct api_request req;
	assert_int_equal(parse("{\"id\": \"req-1\", \"command\": \"status\"}", &req, &err), 0);
	expect_text(api_format_ok(&req.id, NULL), "{\"id\":\"req-1\",\"ok\":true,\"result\":{}}\n");
	assert_int_equal(parse("{\"id\": 9, \"command\": \"nap\"}", &req, &err), -EINVAL);
	line = api_format_error(&req.id, &err);
	assert_non_null(
		strstr(line, "{\"id\":9,\"ok\":false,\"error\":{\"code\":\"unknown-command\""));
	free(line);
}

/* Line assembly: what the callback saw. */
struct seen {
	int lines, too_long;
	char text[8][256];
	size_t len[8];
	int stop_after; /* return non-zero after this many events (0: never) */
	int events;
};

static int on_line(void *ctx, enum api_line_kind kind, const char *line, size_t len)
{
	struct seen *s = ctx;
	s->events++;
	if (kind == API_LINE_TOO_LONG) {
		assert_null(line);
		s->too_long++;
	} else {
		assert_int_equal(line[len], 0);
		assert_true(len <= API_LINE_MAX);
		if (s->lines < 8) {
			snprintf(s->text[s->lines], sizeof(s->text[0]), "%.*s", (int)len, line);
			s->len[s->lines] = len;
		}
		s->lines++;
	}
	return s->stop_after && s->events >= s->stop_after;
}

static void test_linebuf_chunks(void **state)
{
	struct api_linebuf lb;
	struct seen s;
	const char *req = "{\"id\": 1, \"command\": \"status\"}\n";

	assert_int_equal(api_linebuf_init(&lb), 0);
	/* One byte at a time: nothing until the newline. */
	memset(&s, 0, sizeof(s));
	for (size_t i = 0; i < strlen(req); i++) {
		assert_int_equal(api_linebuf_feed(&lb, req + i, 1, on_line, &s), 1);
		if (i + 1 < strlen(req)) {
			assert_int_equal(s.lines, 0);
			assert_int_equal(api_linebuf_pending(&lb), i + 1);
		}
	}
	assert_int_equal(s.lines, 1);
	assert_string_equal(s.text[0], "{\"id\": 1, \"command\": \"status\"}");
	assert_int_equal(api_linebuf_pending(&lb), 0);

	/* Several in one chunk, CRLF, blank lines, and a tail left pending. */
	memset(&s, 0, sizeof(s));
	const char *many = "a\nbb\r\n\n  \r\n\t\nccc\ndd";
	assert_int_equal(api_linebuf_feed(&lb, many, strlen(many), on_line, &s), strlen(many));
	assert_int_equal(s.lines, 3);
	assert_string_equal(s.text[0], "a");
	assert_string_equal(s.text[1], "bb");
	assert_string_equal(s.text[2], "ccc");
	assert_int_equal(api_linebuf_pending(&lb), 2);
	assert_int_equal(api_linebuf_feed(&lb, "d\r", 2, on_line, &s), 2);
	assert_int_equal(s.lines, 3);
	assert_int_equal(api_linebuf_feed(&lb, "\n", 1, on_line, &s), 1);
	assert_int_equal(s.lines, 4);
	assert_string_equal(s.text[3], "ddd");
	/* Only a trailing CR goes; one inside the line stays. */
	assert_int_equal(api_linebuf_feed(&lb, "x\ry\r\r\n", 6, on_line, &s), 6);
	assert_int_equal(s.len[4], 4);
	assert_memory_equal(s.text[4], "x\ry\r", 4);

	/* A NUL byte inside a line is delivered (the length tells), then rejected by the parser. */
	memset(&s, 0, sizeof(s));
	assert_int_equal(api_linebuf_feed(&lb, "a\0b\n", 4, on_line, &s), 4);
	assert_int_equal(s.lines, 1);
	assert_int_equal(s.len[0], 3);

	/* The callback stops the feed: the rest is the caller's to feed again. */
	memset(&s, 0, sizeof(s));
	s.stop_after = 1;
	const char *two = "first\nsecond\n";
	size_t took = api_linebuf_feed(&lb, two, strlen(two), on_line, &s);
	assert_int_equal(took, 6);
	assert_int_equal(s.lines, 1);
	s.stop_after = 0;
	assert_int_equal(api_linebuf_feed(&lb, two + took, strlen(two) - took, on_line, &s),
			 strlen(two) - took);
	assert_int_equal(s.lines, 2);
	assert_string_equal(s.text[1], "second");

	/* A client that goes away mid-request: the half line is never delivered. */
	memset(&s, 0, sizeof(s));
	assert_int_equal(api_linebuf_feed(&lb, "{\"id\": 2, \"comm", 15, on_line, &s), 15);
	assert_int_equal(s.events, 0);
	assert_int_equal(api_linebuf_pending(&lb), 15);
	api_linebuf_destroy(&lb);
	assert_int_equal(s.events, 0);
}

static void test_linebuf_oversized(void **state)
{
	struct api_linebuf lb;
	struct seen s;
	char *big = malloc(3 * API_LINE_MAX);
	memset(big, 'x', 3 * API_LINE_MAX);

	assert_int_equal(api_linebuf_init(&lb), 0);

	/* Exactly API_LINE_MAX bytes is a line. */
	memset(&s, 0, sizeof(s));
	assert_int_equal(api_linebuf_feed(&lb, big, API_LINE_MAX, on_line, &s), API_LINE_MAX);
	assert_int_equal(api_linebuf_feed(&lb, "\n", 1, on_line, &s), 1);
	assert_int_equal(s.lines, 1);
	assert_int_equal(s.len[0], API_LINE_MAX);
	assert_int_equal(s.too_long, 0);

	/* One byte more is reported as soon as it arrives, before any newline ... */
	memset(&s, 0, sizeof(s));
	assert_int_equal(api_linebuf_feed(&lb, big, API_LINE_MAX, on_line, &s), API_LINE_MAX);
	assert_int_equal(s.events, 0);
	assert_int_equal(api_linebuf_feed(&lb, big, 1, on_line, &s), 1);
	assert_int_equal(s.too_long, 1);
	assert_int_equal(api_linebuf_pending(&lb), 0);
	/* ... once, however much more comes, and the next line is whole. */
	for (int i = 0; i < 5; i++)
		assert_int_equal(api_linebuf_feed(&lb, big, 1000, on_line, &s), 1000);
	assert_int_equal(api_linebuf_feed(&lb, big, 3 * API_LINE_MAX, on_line, &s),
			 3 * API_LINE_MAX);
	const char *rest = "xxxx\n{\"id\":3}\n";
	assert_int_equal(api_linebuf_feed(&lb, rest, strlen(rest), on_line, &s), strlen(rest));
	assert_int_equal(s.too_long, 1);
	assert_int_equal(s.lines, 1);
	assert_string_equal(s.text[0], "{\"id\":3}");

	/* Oversized in one chunk, between two good lines, and two in a row. */
	memset(&s, 0, sizeof(s));
	size_t n = 0;
	char *chunk = malloc(3 * API_LINE_MAX + 64);
	if (!chunk)
		abort();
	n += (size_t)sprintf(chunk + n, "a\n");
	memset(chunk + n, 'y', API_LINE_MAX + 10);
	n += API_LINE_MAX + 10;
	n += (size_t)sprintf(chunk + n, "\nb\n");
	memset(chunk + n, 'z', API_LINE_MAX + 1);
	n += API_LINE_MAX + 1;
	chunk[n++] = '\n';
	memset(chunk + n, 'w', API_LINE_MAX + 1);
	n += API_LINE_MAX + 1;
	n += (size_t)sprintf(chunk + n, "\nc\n");
	assert_int_equal(api_linebuf_feed(&lb, chunk, n, on_line, &s), n);
	assert_int_equal(s.too_long, 3);
	assert_int_equal(s.lines, 3);
	assert_string_equal(s.text[0], "a");
	assert_string_equal(s.text[1], "b");
	assert_string_equal(s.text[2], "c");

	/* A stop on the oversize report: the feed returns right after the byte that overflowed. */
	memset(&s, 0, sizeof(s));
	s.stop_after = 1;
	size_t took = api_linebuf_feed(&lb, chunk + 2, n - 2, on_line, &s);
	assert_int_equal(took, API_LINE_MAX + 1);
	assert_int_equal(s.too_long, 1);
	s.stop_after = 0;
	assert_int_equal(api_linebuf_feed(&lb, chunk + 2 + took, n - 2 - took, on_line, &s),
			 n - 2 - took);
	assert_int_equal(s.too_long, 3);
	assert_int_equal(s.lines, 2); /* b and c */

	free(chunk);
	free(big);
	api_linebuf_destroy(&lb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_commands),
		cmocka_unit_test(test_rejects),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_linebuf_chunks),
		cmocka_unit_test(test_linebuf_oversized),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
