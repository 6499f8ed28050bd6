/* SPDX-License-Identifier: MIT */
/*
 * The control-socket protocol (docs/api.md): line-delimited JSON requests
 * {"id": 7, "command": "pause", "args": {...}} and their responses
 * {"id": 7, "ok": true, "result": {...}} or
 * {"id": 7, "ok": false, "error": {"code": "...", "message": "..."}}.
 *
 * This is the part without sockets: assembling lines from whatever chunks
 * a connection delivers, parsing one request into a struct, and formatting
 * responses. Everything a client sends is hostile: every reject is an error
 * response, never an abort, and no allocation is proportional to anything
 * but the (capped) line.
 */
#ifndef HOSTEL_API_PROTO_H
#define HOSTEL_API_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <cjson/cJSON.h>
#include "hostel/compiler.h"

#define API_LINE_MAX (64u * 1024) /* bytes of one request, without its newline */
#define API_ID_MAX   128	  /* bytes of a string id */
#define API_PATH_MAX 4096	  /* bytes of a path argument, with its NUL */

enum api_command {
	API_CMD_STATUS,
	API_CMD_PAUSE,
	API_CMD_RESUME,
	API_CMD_POWER_BUTTON,
	API_CMD_STOP,
	API_CMD_STATS,
	API_CMD_SCREENSHOT,
	API_CMD_COUNT,
};

/* Error codes (the "code" of an error object). */
#define API_ERR_INVALID_JSON	"invalid-json"	  /* not JSON, not UTF-8, a NUL byte */
#define API_ERR_LINE_TOO_LONG	"line-too-long"	  /* more than API_LINE_MAX bytes */
#define API_ERR_INVALID_REQUEST "invalid-request" /* not an object; bad or missing id/command */
#define API_ERR_UNKNOWN_COMMAND "unknown-command"
#define API_ERR_INVALID_ARGS	"invalid-args" /* args wrong for the command */
#define API_ERR_UNAVAILABLE	"unavailable"  /* valid, but not possible here (no display) */
#define API_ERR_FAILED		"failed"       /* the command was tried and failed */

/* A request's id, echoed in its response: a whole number or a string. */
struct api_id {
	enum { API_ID_NONE, API_ID_NUMBER, API_ID_STRING } kind; /* NONE: "id": null */
	long long num;
	char str[API_ID_MAX + 1];
};

struct api_request {
	struct api_id id;
	enum api_command cmd;
	union {
		struct {
			char path[API_PATH_MAX]; /* absolute; the image is written there */
		} screenshot;
	} args;
};

struct api_error {
	const char *code; /* one of API_ERR_* */
	char message[256];
};

/* "status", "power-button", ...; NULL for an unknown value. */
const char *api_command_name(enum api_command cmd);

/*
 * Parse one request line (@len bytes, without its newline; need not be
 * NUL-terminated). Returns 0 and fills @req, or -EINVAL and fills @err; on
 * error @req->id is still the request's id when that much could be read
 * (API_ID_NONE otherwise), so the error response carries it.
 */
int api_parse_request(const char *line, size_t len, struct api_request *req,
		      struct api_error *err) __must_check;

/*
 * Responses: one line of JSON ending in '\n', to free(); NULL when out of
 * memory. api_format_ok takes @result (an object; NULL means {}) and frees it.
 */
char *api_format_ok(const struct api_id *id, cJSON *result);
char *api_format_error(const struct api_id *id, const struct api_error *err);
char *api_format_error_msg(const struct api_id *id, const char *code, const char *fmt, ...)
	__printf(3, 4);

/*
 * Line assembly for one connection. Bytes come in chunks of any size;
 * complete lines go out through a callback: a request split over many
 * chunks, several requests in one chunk, "\r\n" endings (the "\r" is
 * dropped) and blank lines (skipped) are all fine. A line that grows past
 * API_LINE_MAX is reported once, as soon as it does, and the rest of it
 * up to the next newline is dropped: the connection stays usable. A
 * partial line left at the end of a connection is simply never delivered.
 */
struct api_linebuf {
	char *buf; /* API_LINE_MAX + 1 bytes */
	size_t len;
	bool discarding; /* inside an oversized line */
};

enum api_line_kind {
	API_LINE,	   /* @line: @len bytes, NUL-terminated, no newline */
	API_LINE_TOO_LONG, /* @line is NULL */
};

/* Return 0 to go on, anything else to stop api_linebuf_feed() after this line. */
typedef int api_line_fn(void *ctx, enum api_line_kind kind, const char *line, size_t len);

int api_linebuf_init(struct api_linebuf *lb) __must_check;
void api_linebuf_destroy(struct api_linebuf *lb);

/*
 * Take up to @n bytes of @data, calling @fn for each line they complete.
 * Returns how many bytes were taken: @n, or fewer when @fn asked to stop
 * (the bytes after that line are the caller's to feed again later).
 */
size_t api_linebuf_feed(struct api_linebuf *lb, const void *data, size_t n, api_line_fn *fn,
			void *ctx);

/* Bytes of an unfinished line held (0 while discarding an oversized one). */
size_t api_linebuf_pending(const struct api_linebuf *lb);

#endif
