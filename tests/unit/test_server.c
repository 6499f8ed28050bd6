// SPDX-License-Identifier: MIT
/*
 * Unit tests for the control socket's server (src/api/server.c), on a real
 * event loop thread with clients over socketpair() and a real listening
 * socket: answers in order, errors that leave the connection usable, a
 * half-sent request dropped with its client, the client cap, a client that
 * does not read being cut off, and the socket file's mode and lifetime.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <cmocka.h>
#include "api/server.h"

#define WAIT_MS 10000 /* hang guard for one response */

static _Atomic int handled;
static size_t big_result; /* bytes of filler in each result; 0: none */

static int handler(void *ctx, const struct api_request *req, cJSON **result, struct api_error *err)
{
	(void)ctx;
	atomic_fetch_add(&handled, 1);
	if (req->cmd == API_CMD_SCREENSHOT) {
		err->code = API_ERR_UNAVAILABLE;
		snprintf(err->message, sizeof(err->message), "no display");
		return -1;
	}
	*result = cJSON_CreateObject();
	cJSON_AddStringToObject(*result, "command", api_command_name(req->cmd));
	if (big_result) {
		char *fill = malloc(big_result + 1);
		memset(fill, 'x', big_result);
		fill[big_result] = '\0';
		cJSON_AddStringToObject(*result, "fill", fill);
		free(fill);
	}
	return 0;
}

struct fixture {
	char dir[64];
	char path[128];
	struct evloop *el;
	struct api_server *srv;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char why[256];
	snprintf(f->dir, sizeof(f->dir), "/tmp/hostel-test-server.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/api.sock", f->dir);
	f->el = evloop_create();
	assert_non_null(f->el);
	f->srv = api_server_create(f->path, handler, NULL, why, sizeof(why));
	assert_non_null(f->srv);
	assert_int_equal(api_server_attach(f->srv, f->el), 0);
	assert_int_equal(evloop_start(f->el), 0);
	atomic_store(&handled, 0);
	big_result = 0;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	evloop_stop(f->el);
	api_server_destroy(f->srv);
	evloop_destroy(f->el);
	rmdir(f->dir);
	free(f);
	return 0;
}

static int connect_to(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

static void send_str(int fd, const char *s)
{
	size_t n = strlen(s);
	while (n) {
		ssize_t w = send(fd, s, n, MSG_NOSIGNAL);
		assert_true(w > 0);
		s += w;
		n -= (size_t)w;
	}
}

/* One response line (without its newline) into @buf; "" on EOF. */
static void recv_line(int fd, char *buf, size_t cap)
{
	size_t len = 0;
	for (;;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		assert_int_equal(poll(&p, 1, WAIT_MS), 1);
		char c;
		ssize_t n = recv(fd, &c, 1, 0);
		assert_true(n >= 0);
		if (n == 0 || c == '\n')
			break;
		assert_true(len < cap - 1);
		buf[len++] = c;
	}
	buf[len] = '\0';
}

static void expect(int fd, const char *want)
{
	char line[4096];
	recv_line(fd, line, sizeof(line));
	assert_string_equal(line, want);
}

static void test_answers_in_order(void **state)
{
	struct fixture *f = *state;
	int fd = connect_to(f->path);
	/* Two requests in one write, a third split in two. */
	send_str(fd, "{\"id\":1,\"command\":\"status\"}\n{\"id\":\"b\",\"command\":\"pause\"}\n"
		     "{\"id\":3,\"comm");
	expect(fd, "{\"id\":1,\"ok\":true,\"result\":{\"command\":\"status\"}}");
	expect(fd, "{\"id\":\"b\",\"ok\":true,\"result\":{\"command\":\"pause\"}}");
	send_str(fd, "and\":\"screenshot\",\"args\":{\"path\":\"/x.ppm\"}}\r\n");
	expect(fd, "{\"id\":3,\"ok\":false,\"error\":{\"code\":\"unavailable\",\"message\":\"no "
		   "display\"}}");
	close(fd);
}

static void test_errors_keep_connection(void **state)
{
	struct fixture *f = *state;
	char line[4096];
	int fd = connect_to(f->path);

	send_str(fd, "{not json\n");
	recv_line(fd, line, sizeof(line));
	assert_non_null(strstr(line, "\"id\":null,\"ok\":false"));
	assert_non_null(strstr(line, "\"code\":\"invalid-json\""));

	send_str(fd, "{\"id\":5,\"command\":\"paws\"}\n");
	recv_line(fd, line, sizeof(line));
	assert_non_null(strstr(line, "\"id\":5,\"ok\":false"));
	assert_non_null(strstr(line, "\"code\":\"unknown-command\""));

	/* More than API_LINE_MAX bytes, then a newline, then a good request. */
	size_t big = API_LINE_MAX + 1000;
	char *junk = malloc(big + 1);
	memset(junk, 'a', big);
	junk[big] = '\0';
	send_str(fd, junk);
	free(junk);
	recv_line(fd, line, sizeof(line));
	assert_non_null(strstr(line, "\"code\":\"line-too-long\""));
	send_str(fd, "tail of the long line\n{\"id\":6,\"command\":\"stats\"}\n");
	expect(fd, "{\"id\":6,\"ok\":true,\"result\":{\"command\":\"stats\"}}");
	assert_int_equal(atomic_load(&handled), 1);
	close(fd);
}

static void test_half_close_still_answered(void **state)
{
	struct fixture *f = *state;
	int fd = connect_to(f->path);
	/* Two requests and the end of the client's sending side: both are
	 * answered, then the server closes. A trailing half line is not run. */
	send_str(fd,
		 "{\"id\":1,\"command\":\"status\"}\n{\"id\":2,\"command\":\"stats\"}\n{\"id\":3,");
	assert_int_equal(shutdown(fd, SHUT_WR), 0);
	expect(fd, "{\"id\":1,\"ok\":true,\"result\":{\"command\":\"status\"}}");
	expect(fd, "{\"id\":2,\"ok\":true,\"result\":{\"command\":\"stats\"}}");
	expect(fd, ""); /* EOF */
	assert_int_equal(atomic_load(&handled), 2);
	close(fd);
}

static void wait_clients(struct api_server *srv, unsigned int n)
{
	/* A bounded wait on a condition the loop thread sets, not a delay. */
	for (int i = 0; i < WAIT_MS && api_server_nr_clients(srv) != n; i++)
		poll(NULL, 0, 1);
	assert_int_equal(api_server_nr_clients(srv), n);
}

static void test_half_sent_then_gone(void **state)
{
	struct fixture *f = *state;
	int fd = connect_to(f->path);
	send_str(fd, "{\"id\":1,\"command\":\"sto");
	wait_clients(f->srv, 1);
	close(fd);
	wait_clients(f->srv, 0);
	assert_int_equal(atomic_load(&handled), 0); /* the unfinished line never ran */
	fd = connect_to(f->path);
	send_str(fd, "{\"id\":2,\"command\":\"status\"}\n");
	expect(fd, "{\"id\":2,\"ok\":true,\"result\":{\"command\":\"status\"}}");
	assert_int_equal(atomic_load(&handled), 1);
	close(fd);
}

static void test_client_cap(void **state)
{
	struct fixture *f = *state;
	int fds[API_MAX_CLIENTS];
	char line[4096];
	for (int i = 0; i < API_MAX_CLIENTS; i++)
		fds[i] = connect_to(f->path);
	wait_clients(f->srv, API_MAX_CLIENTS);
	int extra = connect_to(f->path);
	recv_line(extra, line, sizeof(line));
	assert_non_null(strstr(line, "too many control-socket clients"));
	recv_line(extra, line, sizeof(line));
	assert_string_equal(line, ""); /* then closed */
	close(extra);
	/* The others still work. */
	send_str(fds[API_MAX_CLIENTS - 1], "{\"id\":9,\"command\":\"resume\"}\n");
	expect(fds[API_MAX_CLIENTS - 1],
	       "{\"id\":9,\"ok\":true,\"result\":{\"command\":\"resume\"}}");
	for (int i = 0; i < API_MAX_CLIENTS; i++)
		close(fds[i]);
	wait_clients(f->srv, 0);
}

static void test_slow_reader_cut_off(void **state)
{
	struct fixture *f = *state;
	int sv[2];
	const int nreq = 400;
	big_result = 16384; /* 400 x 16 KiB of responses: far past buffers and API_OUT_MAX */
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	int rcv = 4096;
	setsockopt(sv[0], SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
	/* Not yet reading: the loop must neither block nor grow without bound. */
	assert_int_equal(api_server_add_client(f->srv, sv[1]), 0);
	int sent = 0;
	for (; sent < nreq; sent++) {
		char req[64];
		snprintf(req, sizeof(req), "{\"id\":%d,\"command\":\"status\"}\n", sent);
		/* The server may cut us off before all are sent: that is the point. */
		if (send(sv[0], req, strlen(req), MSG_NOSIGNAL) != (ssize_t)strlen(req))
			break;
	}
	assert_true(sent > (int)(API_OUT_MAX / 16384)); /* enough to pass the cap */
	wait_clients(f->srv, 0);
	/* Another client is served meanwhile: the loop was never stuck. */
	big_result = 0;
	int fd = connect_to(f->path);
	send_str(fd, "{\"id\":1,\"command\":\"status\"}\n");
	expect(fd, "{\"id\":1,\"ok\":true,\"result\":{\"command\":\"status\"}}");
	close(fd);
	/* What the slow client gets is whole lines, then EOF, fewer than asked. */
	int lines = 0;
	char buf[65536];
	for (;;) {
		ssize_t n = recv(sv[0], buf, sizeof(buf), 0);
		if (n <= 0)
			break;
		for (ssize_t i = 0; i < n; i++)
			lines += buf[i] == '\n';
	}
	assert_true(lines < nreq);
	close(sv[0]);
}

static void test_socket_file(void **state)
{
	struct fixture *f = *state;
	struct stat st;
	char why[256], path[100];
	assert_int_equal(lstat(f->path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0600);

	/* A live socket is refused, and so is a regular file. */
	errno = 0;
	assert_null(api_server_create(f->path, handler, NULL, why, sizeof(why)));
	assert_int_equal(errno, EEXIST);
	assert_non_null(strstr(why, "in use"));
	snprintf(path, sizeof(path), "%s/file", f->dir);
	int fd = open(path, O_CREAT | O_WRONLY, 0644);
	close(fd);
	assert_null(api_server_create(path, handler, NULL, why, sizeof(why)));
	assert_int_equal(errno, EEXIST);
	assert_non_null(strstr(why, "not a socket"));
	unlink(path);

	/* A stale socket (its server gone without removing it) is replaced. */
	snprintf(path, sizeof(path), "%s/stale.sock", f->dir);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(fd);
	struct api_server *s2 = api_server_create(path, handler, NULL, why, sizeof(why));
	assert_non_null(s2);
	api_server_destroy(s2);
	assert_int_equal(lstat(path, &st), -1); /* removed at the end */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_answers_in_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_errors_keep_connection, setup, teardown),
		cmocka_unit_test_setup_teardown(test_half_sent_then_gone, setup, teardown),
		cmocka_unit_test_setup_teardown(test_half_close_still_answered, setup, teardown),
		cmocka_unit_test_setup_teardown(test_client_cap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_slow_reader_cut_off, setup, teardown),
		cmocka_unit_test_setup_teardown(test_socket_file, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
