// SPDX-License-Identifier: MIT
/* The control socket: listening, clients, non-blocking bounded output. */
#include <errno.h>
#include <stdatomic.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include "api/server.h"
#include "hostel/log.h"

struct api_client {
	struct api_server *srv;
	int fd;
	struct api_linebuf lb;
	char *out; /* queued response bytes [out_off, out_len) */
	size_t out_len, out_off, out_cap;
	bool want_out; /* EPOLLOUT registered */
	bool dead;     /* to be closed once the current callback returns */
	bool eof;      /* the client sent all it will: close once flushed */
};

struct api_server {
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	int fd;
	struct evloop *el;
	api_handler_fn *fn;
	void *ctx;
	struct api_client *clients[API_MAX_CLIENTS];
	_Atomic unsigned int nr_clients; /* read by any thread */
};

static int set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -errno;
	return 0;
}

/* Is something listening at @path? A refused connection means a stale socket. */
static bool socket_is_live(const struct sockaddr_un *sa)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return true; /* cannot tell: do not remove it */
	int r = connect(fd, (const struct sockaddr *)sa, sizeof(*sa));
	int err = errno;
	close(fd);
	return r == 0 || (err != ECONNREFUSED && err != ENOENT);
}

struct api_server *api_server_create(const char *path, api_handler_fn *fn, void *ctx, char *why,
				     size_t whylen)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct stat st;

	if (!*path || strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(why, whylen, "--api-socket '%s': a socket path has 1 to %zu bytes", path,
			 sizeof(sa.sun_path) - 1);
		return NULL;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			snprintf(why, whylen, "--api-socket '%s': exists and is not a socket",
				 path);
			errno = EEXIST;
			return NULL;
		}
		if (socket_is_live(&sa)) {
			snprintf(why, whylen,
				 "--api-socket '%s': a socket in use (another hostel?)", path);
			errno = EEXIST;
			return NULL;
		}
		if (unlink(path) < 0) {
			snprintf(why, whylen,
				 "--api-socket '%s': cannot remove the stale socket: %s", path,
				 strerror(errno));
			return NULL;
		}
	}
	struct api_server *srv = calloc(1, sizeof(*srv));
	if (!srv) {
		snprintf(why, whylen, "--api-socket: out of memory");
		errno = ENOMEM;
		return NULL;
	}
	memcpy(srv->path, sa.sun_path, sizeof(srv->path));
	srv->fn = fn;
	srv->ctx = ctx;
	srv->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (srv->fd < 0)
		goto fail;
	/* The mode is set before the name exists: no window where others may connect. */
	if (fchmod(srv->fd, 0600) < 0)
		goto fail;
	mode_t old = umask(0177);
	int r = bind(srv->fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (r < 0)
		goto fail;
	if (chmod(path, 0600) < 0 || listen(srv->fd, API_MAX_CLIENTS) < 0) {
		int err = errno;
		unlink(path);
		errno = err;
		goto fail;
	}
	return srv;
fail : {
	int err = errno;
	snprintf(why, whylen, "--api-socket '%s': %s", path, strerror(err));
	if (srv->fd >= 0)
		close(srv->fd);
	free(srv);
	errno = err == EEXIST ? EIO : err; /* EEXIST means "refused", above */
	return NULL;
}
}

static void client_close(struct api_client *c)
{
	struct api_server *srv = c->srv;
	if (srv->el)
		evloop_del(srv->el, c->fd);
	close(c->fd);
	api_linebuf_destroy(&c->lb);
	free(c->out);
	for (unsigned int i = 0; i < API_MAX_CLIENTS; i++)
		if (srv->clients[i] == c)
			srv->clients[i] = NULL;
	srv->nr_clients--;
	free(c);
}

/* Write what is queued; register for EPOLLOUT while some is left. */
static void client_flush(struct api_client *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			c->dead = true; /* EPIPE, ECONNRESET: the client is gone */
			return;
		}
		c->out_off += (size_t)n;
	}
	if (c->out_off == c->out_len)
		c->out_off = c->out_len = 0;
	if (c->eof && !c->out_len) {
		c->dead = true; /* all answered */
		return;
	}
	bool want = c->out_len > 0;
	if ((want != c->want_out || c->eof) && c->srv->el) {
		/* After EOF only EPOLLOUT: a hung-up socket stays readable. */
		uint32_t ev = c->eof ? EPOLLOUT : EPOLLIN | EPOLLRDHUP | (want ? EPOLLOUT : 0);
		if (evloop_mod(c->srv->el, c->fd, ev))
			c->dead = true;
		c->want_out = want;
	}
}

static void client_queue(struct api_client *c, char *line)
{
	if (!line) {
		c->dead = true; /* out of memory: drop the client rather than a response */
		return;
	}
	size_t len = strlen(line);
	size_t pending = c->out_len - c->out_off;
	if (pending + len > API_OUT_MAX) {
		log_warn("control socket: a client does not read its responses: disconnected");
		c->dead = true;
		free(line);
		return;
	}
	if (c->out_off) {
		memmove(c->out, c->out + c->out_off, pending);
		c->out_off = 0;
		c->out_len = pending;
	}
	if (c->out_len + len > c->out_cap) {
		size_t cap = c->out_cap ? c->out_cap : 4096;
		while (cap < c->out_len + len)
			cap *= 2;
		char *p = realloc(c->out, cap);
		if (!p) {
			c->dead = true;
			free(line);
			return;
		}
		c->out = p;
		c->out_cap = cap;
	}
	memcpy(c->out + c->out_len, line, len);
	c->out_len += len;
	free(line);
}

static int on_line(void *ctx, enum api_line_kind kind, const char *line, size_t len)
{
	struct api_client *c = ctx;
	static const struct api_id none = {.kind = API_ID_NONE};
	struct api_request req;
	struct api_error err = {0};

	if (kind == API_LINE_TOO_LONG) {
		client_queue(c, api_format_error_msg(&none, API_ERR_LINE_TOO_LONG,
						     "a request line has at most %u bytes",
						     API_LINE_MAX));
		return c->dead;
	}
	if (api_parse_request(line, len, &req, &err)) {
		client_queue(c, api_format_error(&req.id, &err));
		return c->dead;
	}
	cJSON *result = NULL;
	if (c->srv->fn(c->srv->ctx, &req, &result, &err)) {
		cJSON_Delete(result);
		if (!err.code)
			err.code = API_ERR_FAILED;
		client_queue(c, api_format_error(&req.id, &err));
	} else {
		client_queue(c, api_format_ok(&req.id, result));
	}
	return c->dead;
}

static void on_client(void *opaque, uint32_t events)
{
	struct api_client *c = opaque;
	char buf[16384];

	if (c->eof && (events & (EPOLLHUP | EPOLLERR)))
		c->dead = true; /* fully gone: nothing more can be delivered */
	else if (events & EPOLLOUT)
		client_flush(c);
	if (!c->dead && !c->eof && (events & (EPOLLIN | EPOLLHUP | EPOLLERR | EPOLLRDHUP))) {
		/* A bounded number of reads per wake-up keeps one client from starving the loop. */
		for (int i = 0; i < 16 && !c->dead; i++) {
			ssize_t n = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
				break;
			if (n < 0) {
				c->dead = true;
				break;
			}
			if (n == 0) {
				/* EOF: an unfinished line is dropped; what was asked is
				 * still answered (the client may only have shut down its
				 * sending side). */
				c->eof = true;
				client_flush(c);
				break;
			}
			api_linebuf_feed(&c->lb, buf, (size_t)n, on_line, c);
			if (!c->dead)
				client_flush(c);
		}
	}
	if (!c->dead && (events & EPOLLERR))
		c->dead = true;
	if (c->dead)
		client_close(c);
}

int api_server_add_client(struct api_server *srv, int fd)
{
	int ret;
	if (srv->nr_clients >= API_MAX_CLIENTS)
		return -EMFILE;
	struct api_client *c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->srv = srv;
	c->fd = fd;
	ret = set_nonblock(fd);
	if (!ret)
		ret = api_linebuf_init(&c->lb);
	if (ret) {
		free(c);
		return ret;
	}
	/* Listed before the loop can see it: its first event may close it. */
	unsigned int slot = 0;
	while (srv->clients[slot])
		slot++;
	srv->clients[slot] = c;
	srv->nr_clients++;
	if (srv->el) {
		ret = evloop_add(srv->el, fd, EPOLLIN | EPOLLRDHUP, on_client, c);
		if (ret) {
			srv->clients[slot] = NULL;
			srv->nr_clients--;
			api_linebuf_destroy(&c->lb);
			free(c);
			return ret;
		}
	}
	return 0;
}

static void on_listen(void *opaque, uint32_t events)
{
	struct api_server *srv = opaque;
	(void)events;
	for (;;) {
		int fd = accept4(srv->fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				log_warn("control socket: accept: %s", strerror(errno));
			return;
		}
		int ret = api_server_add_client(srv, fd);
		if (ret) {
			static const char full[] =
				"{\"id\":null,\"ok\":false,\"error\":{\"code\":\"failed\","
				"\"message\":\"too many control-socket clients\"}}\n";
			if (ret == -EMFILE &&
			    send(fd, full, sizeof(full) - 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
				log_debug("control socket: %s", strerror(errno));
			close(fd);
		}
	}
}

int api_server_attach(struct api_server *srv, struct evloop *el)
{
	srv->el = el;
	int ret = evloop_add(el, srv->fd, EPOLLIN, on_listen, srv);
	if (ret)
		srv->el = NULL;
	return ret;
}

unsigned int api_server_nr_clients(const struct api_server *srv)
{
	return srv->nr_clients;
}

void api_server_destroy(struct api_server *srv)
{
	if (!srv)
		return;
	for (unsigned int i = 0; i < API_MAX_CLIENTS; i++)
		if (srv->clients[i])
			client_close(srv->clients[i]);
	if (srv->el)
		evloop_del(srv->el, srv->fd);
	close(srv->fd);
	unlink(srv->path);
	free(srv);
}
