// SPDX-License-Identifier: MIT
/* The control-socket client: one request, one response. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <cjson/cJSON.h>
#include "api/proto.h"
#include "ctl.h"
#include "exitcode.h"

#define CTL_WAIT_MS 120000 /* hang guard for a response */

static int send_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* One response line into @buf (NUL-terminated, no newline). 0 or -errno. */
static int read_line(int fd, char *buf, size_t cap)
{
	size_t len = 0;
	for (;;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		int r = poll(&p, 1, CTL_WAIT_MS);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r == 0 ? -ETIMEDOUT : -errno;
		ssize_t n = recv(fd, buf + len, cap - 1 - len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -ECONNRESET;
		char *nl = memchr(buf + len, '\n', (size_t)n);
		len += (size_t)n;
		if (nl) {
			*nl = '\0';
			return 0;
		}
		if (len >= cap - 1)
			return -EMSGSIZE;
	}
}

int ctl_main(const struct hostel_opts *o)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	cJSON *args = NULL;

	if (o->ctl_args && !strcmp(o->ctl_command, "screenshot") && o->ctl_args[0] != '{') {
		/* hostel ctl PATH screenshot FILE: the file, made absolute here
		 * (hostel's working directory may not be ours). */
		char cwd[4096], *abs = NULL;
		if (o->ctl_args[0] == '/')
			abs = strdup(o->ctl_args);
		else if (getcwd(cwd, sizeof(cwd)) && asprintf(&abs, "%s/%s", cwd, o->ctl_args) < 0)
			abs = NULL;
		args = cJSON_CreateObject();
		if (!abs || !args || !cJSON_AddStringToObject(args, "path", abs)) {
			fprintf(stderr, "hostel ctl: screenshot '%s': %s\n", o->ctl_args,
				abs ? "out of memory" : strerror(errno));
			free(abs);
			cJSON_Delete(args);
			return HOSTEL_EXIT_HOST;
		}
		free(abs);
	} else if (o->ctl_args) {
		args = cJSON_Parse(o->ctl_args);
		if (!args || !cJSON_IsObject(args)) {
			fprintf(stderr, "hostel ctl: ARGS-JSON '%s' is not a JSON object\n",
				o->ctl_args);
			cJSON_Delete(args);
			return HOSTEL_EXIT_USAGE;
		}
	}
	if (strlen(o->ctl_path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "hostel ctl: socket path '%s' is too long\n", o->ctl_path);
		cJSON_Delete(args);
		return HOSTEL_EXIT_USAGE;
	}
	cJSON *req = cJSON_CreateObject();
	cJSON_AddNumberToObject(req, "id", 1);
	cJSON_AddStringToObject(req, "command", o->ctl_command);
	if (args)
		cJSON_AddItemToObject(req, "args", args);
	char *text = cJSON_PrintUnformatted(req);
	cJSON_Delete(req);
	if (!text) {
		fprintf(stderr, "hostel ctl: out of memory\n");
		return HOSTEL_EXIT_HOST;
	}

	strcpy(sa.sun_path, o->ctl_path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, "hostel ctl: cannot connect to '%s': %s\n", o->ctl_path,
			strerror(errno));
		if (fd >= 0)
			close(fd);
		free(text);
		return HOSTEL_EXIT_HOST;
	}
	static char line[API_LINE_MAX + 2];
	size_t tlen = strlen(text);
	text[tlen] = '\n'; /* over the NUL: sent by length */
	int ret = send_all(fd, text, tlen + 1);
	free(text);
	if (!ret)
		ret = read_line(fd, line, sizeof(line));
	close(fd);
	if (ret) {
		fprintf(stderr, "hostel ctl: no response from '%s': %s\n", o->ctl_path,
			strerror(-ret));
		return HOSTEL_EXIT_HOST;
	}
	cJSON *resp = cJSON_Parse(line);
	const cJSON *ok = cJSON_GetObjectItemCaseSensitive(resp, "ok");
	if (!cJSON_IsBool(ok)) {
		fprintf(stderr, "hostel ctl: a malformed response from '%s'\n", o->ctl_path);
		cJSON_Delete(resp);
		return HOSTEL_EXIT_HOST;
	}
	int code = 0;
	if (cJSON_IsTrue(ok)) {
		const cJSON *result = cJSON_GetObjectItemCaseSensitive(resp, "result");
		char *out = result ? cJSON_PrintUnformatted(result) : NULL;
		printf("%s\n", out ? out : "{}");
		free(out);
	} else {
		const cJSON *e = cJSON_GetObjectItemCaseSensitive(resp, "error");
		const cJSON *c = cJSON_GetObjectItemCaseSensitive(e, "code");
		const cJSON *m = cJSON_GetObjectItemCaseSensitive(e, "message");
		fprintf(stderr, "hostel ctl: %s: %s\n",
			cJSON_IsString(c) ? c->valuestring : "error",
			cJSON_IsString(m) ? m->valuestring : "(no message)");
		code = CTL_EXIT_ERROR;
	}
	cJSON_Delete(resp);
	if (fflush(stdout) || ferror(stdout))
		return HOSTEL_EXIT_HOST;
	return code;
}
