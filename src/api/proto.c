// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "api/proto.h"
#include "jsonutil.h"

static const char *const command_names[API_CMD_COUNT] = {
	[API_CMD_STATUS] = "status",
	[API_CMD_PAUSE] = "pause",
	[API_CMD_RESUME] = "resume",
	[API_CMD_POWER_BUTTON] = "power-button",
	[API_CMD_STOP] = "stop",
	[API_CMD_STATS] = "stats",
	[API_CMD_SCREENSHOT] = "screenshot",
};

const char *api_command_name(enum api_command cmd)
{
	return (unsigned int)cmd < API_CMD_COUNT ? command_names[cmd] : NULL;
}

static int __printf(3, 4) set_error(struct api_error *err, const char *code, const char *fmt, ...)
{
	va_list ap;
	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static int parse_id(const cJSON *it, struct api_id *id, struct api_error *err)
{
	long long n;
	if (cJSON_IsString(it)) {
		size_t len = strlen(it->valuestring);
		if (len > API_ID_MAX)
			return set_error(err, API_ERR_INVALID_REQUEST,
					 "key \"id\": a string id has at most %d bytes, got %zu",
					 API_ID_MAX, len);
		memcpy(id->str, it->valuestring, len + 1);
		id->kind = API_ID_STRING;
		return 0;
	}
	if (json_get_int(it, -JSON_MAX_EXACT_INT, JSON_MAX_EXACT_INT, &n) == 0) {
		id->num = n;
		id->kind = API_ID_NUMBER;
		return 0;
	}
	if (cJSON_IsNumber(it))
		return set_error(err, API_ERR_INVALID_REQUEST,
				 "key \"id\": a number id is a whole number of at most 2^53-1");
	return set_error(err, API_ERR_INVALID_REQUEST,
			 "key \"id\": expected a number or a string, got %s", json_type_name(it));
}

static int parse_args(const cJSON *args, struct api_request *req, struct api_error *err)
{
	static const char *const screenshot_keys[] = {"path", NULL};
	static const char *const no_keys[] = {NULL};
	const char *name = command_names[req->cmd];
	char q[JSON_QUOTE_LEN];
	const cJSON *bad;
	bool dup;

	if (args && !cJSON_IsObject(args))
		return set_error(err, API_ERR_INVALID_ARGS,
				 "key \"args\": expected an object, got %s", json_type_name(args));
	if (req->cmd != API_CMD_SCREENSHOT) {
		if (args && json_check_keys(args, no_keys, &bad, &dup))
			return set_error(err, API_ERR_INVALID_ARGS,
					 "\"%s\" takes no arguments, got \"%s\"", name,
					 json_quote(bad->string, q, sizeof(q)));
		return 0;
	}
	if (args && json_check_keys(args, screenshot_keys, &bad, &dup))
		return set_error(err, API_ERR_INVALID_ARGS,
				 dup ? "argument \"%s\" given more than once"
				     : "unknown argument \"%s\" (screenshot takes \"path\")",
				 json_quote(bad->string, q, sizeof(q)));
	const cJSON *path = args ? cJSON_GetObjectItemCaseSensitive(args, "path") : NULL;
	if (!path)
		return set_error(err, API_ERR_INVALID_ARGS,
				 "screenshot needs \"args\": {\"path\": \"/absolute/file.ppm\"}");
	if (!cJSON_IsString(path))
		return set_error(err, API_ERR_INVALID_ARGS,
				 "argument \"path\": expected a string, got %s",
				 json_type_name(path));
	const char *p = path->valuestring;
	if (p[0] != '/')
		return set_error(err, API_ERR_INVALID_ARGS,
				 "argument \"path\": \"%s\" is not an absolute path",
				 json_quote(p, q, sizeof(q)));
	if (strlen(p) >= sizeof(req->args.screenshot.path))
		return set_error(err, API_ERR_INVALID_ARGS,
				 "argument \"path\": longer than %d bytes", API_PATH_MAX - 1);
	memcpy(req->args.screenshot.path, p, strlen(p) + 1);
	return 0;
}

static int parse_root(const cJSON *root, struct api_request *req, struct api_error *err)
{
	static const char *const keys[] = {"id", "command", "args", NULL};
	char q[JSON_QUOTE_LEN];
	const cJSON *bad, *it;
	bool dup;

	if (!cJSON_IsObject(root))
		return set_error(
			err, API_ERR_INVALID_REQUEST,
			"a request is a JSON object {\"id\": ..., \"command\": ...}, got %s",
			json_type_name(root));
	/* The id first, so that every later error carries it. */
	it = cJSON_GetObjectItemCaseSensitive(root, "id");
	if (!it)
		return set_error(err, API_ERR_INVALID_REQUEST, "missing key \"id\"");
	if (parse_id(it, &req->id, err))
		return -EINVAL;
	if (json_check_keys(root, keys, &bad, &dup))
		return set_error(err, API_ERR_INVALID_REQUEST,
				 dup ? "key \"%s\" given more than once"
				     : "unknown key \"%s\" (a request has \"id\", \"command\", "
				       "\"args\")",
				 json_quote(bad->string, q, sizeof(q)));
	it = cJSON_GetObjectItemCaseSensitive(root, "command");
	if (!it)
		return set_error(err, API_ERR_INVALID_REQUEST, "missing key \"command\"");
	if (!cJSON_IsString(it))
		return set_error(err, API_ERR_INVALID_REQUEST,
				 "key \"command\": expected a string, got %s", json_type_name(it));
	unsigned int c;
	for (c = 0; c < API_CMD_COUNT; c++)
		if (!strcmp(it->valuestring, command_names[c]))
			break;
	if (c == API_CMD_COUNT)
		return set_error(err, API_ERR_UNKNOWN_COMMAND,
				 "unknown command \"%s\" (status, pause, resume, power-button, "
				 "stop, stats, screenshot)",
				 json_quote(it->valuestring, q, sizeof(q)));
	req->cmd = (enum api_command)c;
	return parse_args(cJSON_GetObjectItemCaseSensitive(root, "args"), req, err);
}

int api_parse_request(const char *line, size_t len, struct api_request *req, struct api_error *err)
{
	char why[128];

	memset(&req->id, 0, sizeof(req->id));
	req->id.kind = API_ID_NONE;
	req->cmd = API_CMD_STATUS;
	err->code = NULL;
	err->message[0] = 0;
	if (len > API_LINE_MAX)
		return set_error(err, API_ERR_LINE_TOO_LONG, "a request has at most %u bytes",
				 API_LINE_MAX);
	cJSON *root = json_parse_strict(line, len, why, sizeof(why));
	if (!root)
		return set_error(err, API_ERR_INVALID_JSON, "%s", why);
	int r = parse_root(root, req, err);
	cJSON_Delete(root);
	return r;
}

static cJSON *id_json(const struct api_id *id)
{
	char num[32];
	switch (id->kind) {
	case API_ID_NUMBER:
		/* Raw: the digits exactly, never "1e+15". */
		snprintf(num, sizeof(num), "%lld", id->num);
		return cJSON_CreateRaw(num);
	case API_ID_STRING:
		return cJSON_CreateString(id->str);
	case API_ID_NONE:
	default:
		return cJSON_CreateNull();
	}
}

/* {"id": ..., "ok": @ok, @key: @val} as one line with '\n'; frees @val. */
static char *envelope(const struct api_id *id, bool ok, const char *key, cJSON *val)
{
	cJSON *root = cJSON_CreateObject(), *jid = id_json(id);
	char *line = NULL, *text = NULL;

	if (!root || !jid || !val) {
		cJSON_Delete(jid);
		cJSON_Delete(val);
		goto out;
	}
	cJSON_AddItemToObject(root, "id", jid);
	if (!cJSON_AddBoolToObject(root, "ok", ok)) {
		cJSON_Delete(val);
		goto out;
	}
	cJSON_AddItemToObject(root, key, val);
	text = cJSON_PrintUnformatted(root);
	if (!text)
		goto out;
	size_t n = strlen(text);
	line = malloc(n + 2);
	if (line) {
		memcpy(line, text, n);
		line[n] = '\n';
		line[n + 1] = 0;
	}
out:
	cJSON_free(text);
	cJSON_Delete(root);
	return line;
}

char *api_format_ok(const struct api_id *id, cJSON *result)
{
	return envelope(id, true, "result", result ? result : cJSON_CreateObject());
}

char *api_format_error(const struct api_id *id, const struct api_error *err)
{
	cJSON *e = cJSON_CreateObject();
	if (e && (!cJSON_AddStringToObject(e, "code", err->code ? err->code : API_ERR_FAILED) ||
		  !cJSON_AddStringToObject(e, "message", err->message))) {
		cJSON_Delete(e);
		e = NULL;
	}
	return envelope(id, false, "error", e);
}

char *api_format_error_msg(const struct api_id *id, const char *code, const char *fmt, ...)
{
	struct api_error err = {.code = code};
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err.message, sizeof(err.message), fmt, ap);
	va_end(ap);
	/* A message cut at the end of the buffer must not end mid-character. */
	err.message[json_utf8_prefix(err.message, sizeof(err.message) - 1)] = 0;
	return api_format_error(id, &err);
}

int api_linebuf_init(struct api_linebuf *lb)
{
	lb->buf = malloc(API_LINE_MAX + 1);
	lb->len = 0;
	lb->discarding = false;
	return lb->buf ? 0 : -ENOMEM;
}

void api_linebuf_destroy(struct api_linebuf *lb)
{
	free(lb->buf);
	lb->buf = NULL;
	lb->len = 0;
}

size_t api_linebuf_pending(const struct api_linebuf *lb)
{
	return lb->len;
}

static bool blank(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
			return false;
	return true;
}

size_t api_linebuf_feed(struct api_linebuf *lb, const void *data, size_t n, api_line_fn *fn,
			void *ctx)
{
	const char *p = data;
	size_t off = 0;

	while (off < n) {
		const char *nl = memchr(p + off, '\n', n - off);
		size_t seg = nl ? (size_t)(nl - (p + off)) : n - off; /* bytes before the newline */

		if (lb->discarding) {
			off += seg;
			if (nl) {
				off++;
				lb->discarding = false;
			}
			continue;
		}
		if (seg > API_LINE_MAX - lb->len) {
			/* Too long: report now, drop the rest up to the next newline. */
			off += API_LINE_MAX - lb->len + 1;
			lb->len = 0;
			lb->discarding = true;
			if (fn(ctx, API_LINE_TOO_LONG, NULL, 0))
				return off;
			continue;
		}
		memcpy(lb->buf + lb->len, p + off, seg);
		lb->len += seg;
		off += seg;
		if (!nl)
			break;
		off++; /* the newline */
		size_t len = lb->len;
		lb->len = 0;
		if (len && lb->buf[len - 1] == '\r')
			len--;
		if (blank(lb->buf, len))
			continue;
		lb->buf[len] = 0;
		if (fn(ctx, API_LINE, lb->buf, len))
			return off;
	}
	return off;
}
