// SPDX-License-Identifier: MIT
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include "console.h"
#include "evloop.h"
#include "hostel/log.h"
#include "serial/uart.h"

#define RING_SIZE    (256 * 1024)
#define TAIL_SIZE    16384 /* last console bytes kept for error reports */
#define ESCAPE_CHAR  0x01  /* Ctrl-A */
#define LINE_MAX_LEN 1024  /* longer lines are passed on in pieces */

struct console {
	struct byte_sink sink;
	enum console_mode mode;
	int out_fd;
	bool own_out_fd;
	int in_fd;

	/* Output ring: producers are vCPU threads, the consumer is the writer. */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	uint8_t *ring;
	size_t head, tail; /* head - tail bytes pending; indices mod RING_SIZE */
	bool quit;
	pthread_t writer;
	bool writer_started;
	_Atomic uint64_t dropped;
	uint8_t tailbuf[TAIL_SIZE]; /* last output, also with --console none */
	size_t tail_pos, tail_len;
	_Atomic uint64_t first_byte_ns; /* host clock at the first output byte; 0: none yet */
	_Atomic uint64_t last_byte_ns;	/* ... and at the latest one */
	pthread_cond_t drained;		/* the writer caught up with head */

	/* Writer-thread side: the full transcript and whole lines. */
	int log_fd;
	void (*line_fn)(void *opaque, const char *line);
	void (*bytes_fn)(void *opaque, const uint8_t *buf, size_t len);
	void *line_opaque;
	char line[LINE_MAX_LEN + 1];
	size_t line_len;

	/* Input. */
	struct evloop *el;
	struct uart *uart;
	struct timer *retry;
	bool escape_pending;
	void (*quit_fn)(void *);
	void *quit_opaque;
	uint8_t pend[256];
	size_t pend_len, pend_off;
	bool in_watched;
};

/* Saved terminal state for console_restore_terminal() (signal handlers). */
static struct termios saved_tio;
static volatile sig_atomic_t tio_saved;
static int tio_fd = -1;

void console_restore_terminal(void)
{
	if (tio_saved && tio_fd >= 0)
		tcsetattr(tio_fd, TCSAFLUSH, &saved_tio);
}

static void ring_write(struct byte_sink *s, const uint8_t *buf, size_t len)
{
	struct console *c = container_of(s, struct console, sink);

	pthread_mutex_lock(&c->lock);
	for (size_t i = 0; i < len; i++) {
		c->tailbuf[c->tail_pos] = buf[i];
		c->tail_pos = (c->tail_pos + 1) % TAIL_SIZE;
	}
	c->tail_len = c->tail_len + len > TAIL_SIZE ? TAIL_SIZE : c->tail_len + len;
	if (len) {
		uint64_t now = clock_now(clock_host());
		if (!atomic_load_explicit(&c->first_byte_ns, memory_order_relaxed))
			atomic_store(&c->first_byte_ns, now);
		atomic_store_explicit(&c->last_byte_ns, now, memory_order_relaxed);
	}
	if (!c->ring) { /* --console none, no log, no line watcher */
		pthread_mutex_unlock(&c->lock);
		return;
	}
	size_t used = c->head - c->tail;
	size_t room = RING_SIZE - used;
	size_t n = len < room ? len : room;
	for (size_t i = 0; i < n; i++)
		c->ring[(c->head + i) % RING_SIZE] = buf[i];
	c->head += n;
	if (n < len)
		atomic_fetch_add(&c->dropped, len - n);
	if (n)
		pthread_cond_signal(&c->cond);
	pthread_mutex_unlock(&c->lock);
}

/* Write all of @buf to @fd; false if the consumer is gone. */
static bool write_all(int fd, const uint8_t *buf, size_t n)
{
	size_t off = 0;
	while (off < n) {
		ssize_t w = write(fd, buf + off, n - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		off += (size_t)w;
	}
	return true;
}

/* Whole lines (without \r\n) to the watcher; over-long ones in pieces. */
static void feed_lines(struct console *c, const uint8_t *buf, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char ch = (char)buf[i];
		if (ch == '\r')
			continue;
		if (ch != '\n')
			c->line[c->line_len++] = ch ? ch : ' ';
		if (ch == '\n' || c->line_len == LINE_MAX_LEN) {
			c->line[c->line_len] = '\0';
			c->line_fn(c->line_opaque, c->line);
			c->line_len = 0;
		}
	}
}

static void *writer_thread(void *arg)
{
	struct console *c = arg;
	uint8_t chunk[4096];

	pthread_setname_np(pthread_self(), "console-out");
	pthread_mutex_lock(&c->lock);
	for (;;) {
		while (c->head == c->tail && !c->quit)
			pthread_cond_wait(&c->cond, &c->lock);
		if (c->head == c->tail && c->quit)
			break;
		size_t n = c->head - c->tail;
		if (n > sizeof(chunk))
			n = sizeof(chunk);
		for (size_t i = 0; i < n; i++)
			chunk[i] = c->ring[(c->tail + i) % RING_SIZE];
		pthread_mutex_unlock(&c->lock);
		/* Blocking writes outside the lock: only this thread waits on them. */
		if (c->out_fd >= 0 && !write_all(c->out_fd, chunk, n))
			atomic_fetch_add(&c->dropped, n); /* consumer gone (EPIPE...) */
		if (c->log_fd >= 0 && !write_all(c->log_fd, chunk, n)) {
			log_ratelimited(LOG_WARN, "the serial log cannot be written: %s",
					strerror(errno));
		}
		if (c->bytes_fn)
			c->bytes_fn(c->line_opaque, chunk, n);
		if (c->line_fn)
			feed_lines(c, chunk, n);
		pthread_mutex_lock(&c->lock);
		c->tail += n;
		if (c->head == c->tail)
			pthread_cond_broadcast(&c->drained);
	}
	pthread_mutex_unlock(&c->lock);
	return NULL;
}

struct console *console_create(const struct console_opts *o, char *why, size_t whylen)
{
	enum console_mode mode = o->mode;
	const char *path = o->path;
	struct console *c = calloc(1, sizeof(*c));
	if (!c) {
		snprintf(why, whylen, "out of memory");
		return NULL;
	}
	c->mode = mode;
	c->sink.write = ring_write;
	c->in_fd = -1;
	c->out_fd = -1;
	c->log_fd = -1;
	c->line_fn = o->line_fn;
	c->bytes_fn = o->bytes_fn;
	c->line_opaque = o->line_opaque;
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->cond, NULL);
	pthread_cond_init(&c->drained, NULL);
	if (mode == CONSOLE_NONE && !o->log_path && !o->line_fn && !o->bytes_fn)
		return c;
	c->ring = malloc(RING_SIZE);
	if (!c->ring) {
		snprintf(why, whylen, "out of memory");
		goto fail;
	}
	if (mode == CONSOLE_FILE) {
		c->out_fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (c->out_fd < 0) {
			snprintf(why, whylen, "cannot open console file %s: %s", path,
				 strerror(errno));
			goto fail;
		}
		c->own_out_fd = true;
	} else if (mode == CONSOLE_STDIO) {
		c->out_fd = STDOUT_FILENO;
		c->in_fd = STDIN_FILENO;
	}
	if (o->log_path) {
		c->log_fd = open(o->log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (c->log_fd < 0) {
			snprintf(why, whylen, "cannot open the serial log %s: %s", o->log_path,
				 strerror(errno));
			goto fail;
		}
	}
	if (pthread_create(&c->writer, NULL, writer_thread, c)) {
		snprintf(why, whylen, "cannot start the console writer thread");
		goto fail;
	}
	c->writer_started = true;
	return c;
fail:
	console_destroy(c);
	return NULL;
}

struct byte_sink *console_sink(struct console *c)
{
	return &c->sink;
}

uint64_t console_first_byte_ns(struct console *c)
{
	return atomic_load(&c->first_byte_ns);
}

uint64_t console_last_byte_ns(struct console *c)
{
	return atomic_load_explicit(&c->last_byte_ns, memory_order_relaxed);
}

bool console_sync(struct console *c, unsigned int ms)
{
	struct timespec deadline;
	bool done;

	if (!c->writer_started)
		return true;
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += ms / 1000;
	deadline.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&c->lock);
	while (c->head != c->tail)
		if (pthread_cond_timedwait(&c->drained, &c->lock, &deadline) == ETIMEDOUT)
			break;
	done = c->head == c->tail;
	pthread_mutex_unlock(&c->lock);
	return done;
}

uint64_t console_dropped(struct console *c)
{
	return atomic_load(&c->dropped);
}

static void input_pause(struct console *c)
{
	if (c->in_watched && evloop_mod(c->el, c->in_fd, 0) == 0)
		c->in_watched = false;
	/* The UART has no "room again" callback: poll for room every 5 ms
	 * while input waits (only when the guest is not reading its FIFO). */
	timer_arm(c->retry, clock_now(clock_host()) + 5000000ULL);
}

/* Feed what is pending into the UART; returns true if all of it went in. */
static bool feed_pending(struct console *c)
{
	while (c->pend_off < c->pend_len) {
		size_t n = uart_receive(c->uart, c->pend + c->pend_off, c->pend_len - c->pend_off);
		if (!n)
			return false;
		c->pend_off += n;
	}
	c->pend_len = c->pend_off = 0;
	return true;
}

static void input_resume(void *opaque)
{
	struct console *c = opaque;
	if (!feed_pending(c)) {
		input_pause(c);
		return;
	}
	if (!c->in_watched && c->in_fd >= 0 && evloop_mod(c->el, c->in_fd, EPOLLIN) == 0)
		c->in_watched = true;
}

static void stdin_ready(void *opaque, uint32_t events)
{
	struct console *c = opaque;
	uint8_t buf[128];

	(void)events;
	if (c->pend_len) {
		input_resume(c);
		return;
	}
	ssize_t n = read(c->in_fd, buf, sizeof(buf));
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		/* EOF or error: stop reading; the guest keeps running. */
		evloop_del(c->el, c->in_fd);
		c->in_fd = -1;
		c->in_watched = false;
		return;
	}
	for (ssize_t i = 0; i < n; i++) {
		uint8_t ch = buf[i];
		if (tio_saved) { /* escapes only on a terminal */
			if (c->escape_pending) {
				c->escape_pending = false;
				if (ch == 'x' || ch == 'X') {
					if (c->quit_fn)
						c->quit_fn(c->quit_opaque);
					return;
				}
				if (ch == 'h' || ch == 'H' || ch == '?') {
					static const char help[] =
						"\r\nhostel: Ctrl-A x  quit\r\n"
						"hostel: Ctrl-A Ctrl-A  send Ctrl-A\r\n";
					if (write(STDERR_FILENO, help, sizeof(help) - 1) < 0)
						log_debug("help write failed");
					continue;
				}
				if (ch != ESCAPE_CHAR)
					continue; /* unknown escape: swallowed */
			} else if (ch == ESCAPE_CHAR) {
				c->escape_pending = true;
				continue;
			}
		}
		if (c->pend_len < sizeof(c->pend))
			c->pend[c->pend_len++] = ch;
	}
	if (!feed_pending(c))
		input_pause(c);
}

int console_attach(struct console *c, struct evloop *el, struct uart *uart, void (*quit)(void *),
		   void *opaque)
{
	c->el = el;
	c->uart = uart;
	c->quit_fn = quit;
	c->quit_opaque = opaque;
	c->pend_len = c->pend_off = 0;
	if (c->mode != CONSOLE_STDIO || c->in_fd < 0)
		return 0;
	c->retry = evloop_timer_create(el, input_resume, c);
	if (!c->retry)
		return -ENOMEM;
	if (!tio_saved && isatty(c->in_fd)) {
		struct termios tio;
		if (tcgetattr(c->in_fd, &saved_tio) == 0) {
			tio_fd = c->in_fd;
			tio_saved = 1;
			tio = saved_tio;
			cfmakeraw(&tio);
			tcsetattr(c->in_fd, TCSAFLUSH, &tio);
		}
	}
	int ret = evloop_add(el, c->in_fd, EPOLLIN, stdin_ready, c);
	if (ret == -EPERM) {
		/* A regular file or /dev/null cannot be polled: no input. */
		c->in_fd = -1;
		return 0;
	}
	if (ret == 0)
		c->in_watched = true;
	return ret;
}

void console_detach(struct console *c)
{
	if (c->el && c->in_fd >= 0)
		evloop_del(c->el, c->in_fd);
	c->in_watched = false;
	if (c->retry)
		evloop_timer_destroy(c->el, c->retry);
	c->retry = NULL;
	c->el = NULL;
	c->uart = NULL;
}

size_t console_tail(struct console *c, unsigned int n, char *buf, size_t len)
{
	if (!len)
		return 0;
	pthread_mutex_lock(&c->lock);
	size_t have = c->tail_len;
	/* Walk back over @n newlines (a trailing newline does not count). */
	size_t start = have;
	unsigned int lines = 0;
	while (start > 0) {
		char ch =
			(char)c->tailbuf[(c->tail_pos + TAIL_SIZE - have + start - 1) % TAIL_SIZE];
		if (ch == '\n' && start != have && ++lines == n)
			break;
		start--;
	}
	size_t out = 0;
	for (size_t i = start; i < have && out + 1 < len; i++) {
		char ch = (char)c->tailbuf[(c->tail_pos + TAIL_SIZE - have + i) % TAIL_SIZE];
		if (ch != '\r')
			buf[out++] = ch;
	}
	buf[out] = 0;
	pthread_mutex_unlock(&c->lock);
	return out;
}

void console_destroy(struct console *c)
{
	if (!c)
		return;
	console_detach(c);
	if (c->writer_started) {
		pthread_mutex_lock(&c->lock);
		c->quit = true;
		pthread_cond_signal(&c->cond);
		pthread_mutex_unlock(&c->lock);
		/* A consumer that stopped reading must not hang the exit: give
		 * the writer two seconds, then cancel it (it sits in write()). */
		struct timespec deadline;
		clock_gettime(CLOCK_REALTIME, &deadline);
		deadline.tv_sec += 2;
		if (pthread_timedjoin_np(c->writer, NULL, &deadline) != 0) {
			pthread_cancel(c->writer);
			pthread_join(c->writer, NULL);
		}
	}
	console_restore_terminal();
	tio_saved = 0;
	if (c->own_out_fd)
		close(c->out_fd);
	if (c->line_fn && c->line_len) { /* a last line without its newline */
		c->line[c->line_len] = '\0';
		c->line_fn(c->line_opaque, c->line);
	}
	if (c->log_fd >= 0)
		close(c->log_fd);
	free(c->ring);
	free(c);
}
