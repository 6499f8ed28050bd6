// SPDX-License-Identifier: MIT
/*
 * virtio-input tablet (virtio 1.x, section "Input Device"): configuration
 * space, the host event queue, eventq delivery, statusq consumption, the
 * worker thread and the display sinks. See input.h for the guest-visible
 * behaviour.
 */
#include <endian.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <linux/input.h>
#include <linux/virtio_config.h>
#include <linux/virtio_input.h>
#include <linux/virtio_ring.h>

#include "hostel/display.h"
#include "hostel/log.h"
#include "i8042/i8042.h"
#include "virtio/input/input.h"

#define CFG_SIZE   ((unsigned int)sizeof(struct virtio_input_config)) /* 136 */
#define CFG_UNION  8u						      /* offset of u */
#define EVENT_SIZE ((uint32_t)sizeof(struct virtio_input_event))      /* 8 */
#define QMASK	   (VINPUT_QUEUE_EVENTS - 1)
/* A report: X, Y, one key per button, SYN. */
#define REPORT_MAX (2 + 3 + 1)

_Static_assert((VINPUT_QUEUE_EVENTS & QMASK) == 0, "queue size must be a power of two");
_Static_assert(sizeof(struct virtio_input_config) == 136, "virtio_input_config layout");

static const char dev_name[] = "hostel tablet";
static const char dev_serial[] = "hostel-tablet-0";

/* Host-order event; encoded little-endian only when written to the guest. */
struct hev {
	uint16_t type, code;
	uint32_t value;
};

struct vinput {
	pthread_mutex_t lock; /* everything below, and the use of both virtqueues */
	uint8_t select, subsel;
	uint64_t offered, negotiated;

	struct virtq *evq, *stq;
	int ev_kick, st_kick;
	struct vinput_queue_cb cb;
	bool broken;

	/* Host event queue: sequence numbers, index = seq & QMASK. */
	struct hev q[VINPUT_QUEUE_EVENTS];
	uint64_t head, tail;
	bool tail_motion;    /* the last report queued is motion-only... */
	uint64_t tail_start; /* ...and starts here */
	/* State of the last report queued (what the guest will have seen). */
	bool have_pos;
	uint32_t x, y, buttons;

	/* Worker. */
	pthread_t thread;
	bool running;
	bool stop; /* under lock */
	int wake_fd;

	struct i8042 *pair_kbd; /* input_attach_display's keyboard and mouse */

	struct virtq_chain chain;
	struct vinput_stats st;
};

/* ---- config space ---------------------------------------------------------- */

unsigned int vinput_config_size(void)
{
	return CFG_SIZE;
}

static void set_bit8(uint8_t *bm, unsigned int bit)
{
	bm[bit / 8] |= (uint8_t)(1u << (bit % 8));
}

/* The whole structure for the current select/subsel. */
static void build_config(const struct vinput *v, struct virtio_input_config *c)
{
	unsigned int size = 0;

	memset(c, 0, sizeof(*c));
	c->select = v->select;
	c->subsel = v->subsel;
	switch (v->select) {
	case VIRTIO_INPUT_CFG_ID_NAME:
		if (v->subsel == 0) {
			size = sizeof(dev_name) - 1;
			memcpy(c->u.string, dev_name, size);
		}
		break;
	case VIRTIO_INPUT_CFG_ID_SERIAL:
		if (v->subsel == 0) {
			size = sizeof(dev_serial) - 1;
			memcpy(c->u.string, dev_serial, size);
		}
		break;
	case VIRTIO_INPUT_CFG_ID_DEVIDS:
		if (v->subsel == 0) {
			c->u.ids.bustype = htole16(BUS_VIRTUAL);
			c->u.ids.vendor = htole16(VINPUT_VENDOR);
			c->u.ids.product = htole16(VINPUT_PRODUCT);
			c->u.ids.version = htole16(VINPUT_VERSION);
			size = sizeof(c->u.ids);
		}
		break;
	case VIRTIO_INPUT_CFG_PROP_BITS:
		if (v->subsel == 0) {
			set_bit8(c->u.bitmap, INPUT_PROP_POINTER);
			size = INPUT_PROP_POINTER / 8 + 1;
		}
		break;
	case VIRTIO_INPUT_CFG_EV_BITS:
		if (v->subsel == EV_SYN) {
			set_bit8(c->u.bitmap, SYN_REPORT);
			size = SYN_REPORT / 8 + 1;
		} else if (v->subsel == EV_KEY) {
			set_bit8(c->u.bitmap, BTN_LEFT);
			set_bit8(c->u.bitmap, BTN_RIGHT);
			set_bit8(c->u.bitmap, BTN_MIDDLE);
			size = BTN_MIDDLE / 8 + 1;
		} else if (v->subsel == EV_ABS) {
			set_bit8(c->u.bitmap, ABS_X);
			set_bit8(c->u.bitmap, ABS_Y);
			size = ABS_Y / 8 + 1;
		}
		break;
	case VIRTIO_INPUT_CFG_ABS_INFO:
		if (v->subsel == ABS_X || v->subsel == ABS_Y) {
			c->u.abs.min = htole32(0);
			c->u.abs.max = htole32(DISPLAY_ABS_MAX);
			size = sizeof(c->u.abs);
		}
		break;
	default:
		break;
	}
	c->size = (uint8_t)size;
}

void vinput_config_read(struct vinput *v, uint64_t off, void *data, unsigned int len)
{
	struct virtio_input_config c;

	memset(data, 0, len);
	if (off >= CFG_SIZE)
		return;
	pthread_mutex_lock(&v->lock);
	build_config(v, &c);
	pthread_mutex_unlock(&v->lock);
	memcpy(data, (const uint8_t *)&c + off, MIN((uint64_t)len, CFG_SIZE - off));
}

void vinput_config_write(struct vinput *v, uint64_t off, const void *data, unsigned int len)
{
	const uint8_t *p = data;

	pthread_mutex_lock(&v->lock);
	if (off == 0 && len == 1) {
		v->select = p[0];
	} else if (off == 1 && len == 1) {
		v->subsel = p[0];
	} else if (off == 0 && len == 2) {
		v->select = p[0];
		v->subsel = p[1];
	} else {
		/* size, reserved and the union are read-only; wider writes are not fields. */
		v->st.config_bad++;
		pthread_mutex_unlock(&v->lock);
		log_ratelimited(LOG_DEBUG,
				"virtio-input: config write of %u bytes at %#llx ignored", len,
				(unsigned long long)off);
		return;
	}
	pthread_mutex_unlock(&v->lock);
}

uint64_t vinput_features(const struct vinput *v)
{
	return v->offered;
}

void vinput_set_features(struct vinput *v, uint64_t negotiated)
{
	pthread_mutex_lock(&v->lock);
	v->negotiated = negotiated & v->offered;
	pthread_mutex_unlock(&v->lock);
}

void vinput_get_stats(struct vinput *v, struct vinput_stats *st)
{
	pthread_mutex_lock(&v->lock);
	*st = v->st;
	pthread_mutex_unlock(&v->lock);
}

/* ---- queues (lock held) ------------------------------------------------------- */

static void queue_broken(struct vinput *v, const char *which)
{
	v->broken = true;
	v->st.broken++;
	log_ratelimited(LOG_WARN, "virtio-input: %s broken, needs reset", which);
	if (v->cb.needs_reset)
		v->cb.needs_reset(v->cb.opaque);
}

/* A popped eventq chain that can take one event: writable only, >= 8 bytes. */
static bool event_chain_ok(const struct virtq_chain *ch)
{
	return ch->nr_read == 0 && ch->nr_segs > 0 && ch->write_len >= EVENT_SIZE;
}

/* Move queued events into the guest's eventq buffers. */
static bool deliver_locked(struct vinput *v)
{
	bool pushed = false;

	if (!v->evq || v->broken)
		return false;
	while (v->head != v->tail) {
		const struct hev *e = &v->q[v->head & QMASK];
		struct virtio_input_event le;
		int r = virtq_pop(v->evq, &v->chain);

		if (r == 0)
			break;
		if (r == -EIO) {
			queue_broken(v, "eventq");
			break;
		}
		pushed = true;
		if (r != 1 || !event_chain_ok(&v->chain)) {
			v->st.bad_buffers++;
			log_ratelimited(LOG_DEBUG, "virtio-input: eventq buffer %u rejected",
					v->chain.head);
			virtq_push(v->evq, v->chain.head, 0);
			continue;
		}
		le.type = htole16(e->type);
		le.code = htole16(e->code);
		le.value = htole32(e->value);
		virtq_chain_write(&v->chain, 0, &le, EVENT_SIZE);
		virtq_push(v->evq, v->chain.head, EVENT_SIZE);
		v->head++;
		v->st.events++;
	}
	return pushed;
}

/* Consume what the driver sent on statusq. */
static bool status_locked(struct vinput *v)
{
	bool pushed = false;
	int r;

	if (!v->stq || v->broken)
		return false;
	while ((r = virtq_pop(v->stq, &v->chain)) != 0) {
		if (r == -EIO) {
			queue_broken(v, "statusq");
			break;
		}
		pushed = true;
		if (r == 1 && v->chain.nr_read == v->chain.nr_segs &&
		    v->chain.read_len >= EVENT_SIZE) {
			/* LED or sound state: a tablet has neither; the content is not used. */
			v->st.status_events++;
		} else {
			v->st.bad_buffers++;
			log_ratelimited(LOG_DEBUG, "virtio-input: statusq buffer %u rejected",
					v->chain.head);
		}
		virtq_push(v->stq, v->chain.head, 0);
	}
	return pushed;
}

static void process_locked(struct vinput *v)
{
	bool ev = deliver_locked(v);
	bool st = status_locked(v);
	bool irq = false;

	/* Both checks run: each records the used index it has seen. */
	if (ev && v->evq)
		irq |= virtq_should_notify(v->evq);
	if (st && v->stq)
		irq |= virtq_should_notify(v->stq);
	if (irq && v->cb.notify)
		v->cb.notify(v->cb.opaque);
}

void vinput_process(struct vinput *v)
{
	pthread_mutex_lock(&v->lock);
	process_locked(v);
	pthread_mutex_unlock(&v->lock);
}

static void clear_state_locked(struct vinput *v)
{
	v->head = v->tail = 0;
	v->tail_motion = false;
	v->tail_start = 0;
	v->have_pos = false;
	v->x = v->y = v->buttons = 0;
	v->select = v->subsel = 0;
}

/* ---- host events ----------------------------------------------------------------- */

static void put(struct vinput *v, uint16_t type, uint16_t code, uint32_t value)
{
	v->q[v->tail & QMASK] = (struct hev){.type = type, .code = code, .value = value};
	v->tail++;
}

void vinput_tablet_event(struct vinput *v, uint32_t x, uint32_t y, uint32_t buttons)
{
	static const struct {
		uint32_t mask;
		uint16_t code;
	} btn[] = {
		{DISPLAY_BTN_LEFT, BTN_LEFT},
		{DISPLAY_BTN_RIGHT, BTN_RIGHT},
		{DISPLAY_BTN_MIDDLE, BTN_MIDDLE},
	};
	uint32_t changed;
	unsigned int n;

	x = MIN(x, DISPLAY_ABS_MAX);
	y = MIN(y, DISPLAY_ABS_MAX);
	buttons &= DISPLAY_BTN_LEFT | DISPLAY_BTN_RIGHT | DISPLAY_BTN_MIDDLE;

	pthread_mutex_lock(&v->lock);
	if (!v->evq) {
		v->st.dropped_idle++;
		goto out;
	}
	changed = buttons ^ v->buttons;
	if (v->have_pos && x == v->x && y == v->y && !changed)
		goto out;
	if (!changed && v->tail_motion && v->head <= v->tail_start) {
		/* The queued motion report has not started going out: move it. */
		v->q[v->tail_start & QMASK].value = x;
		v->q[(v->tail_start + 1) & QMASK].value = y;
		v->x = x;
		v->y = y;
		v->st.coalesced++;
		goto deliver;
	}
	n = 3 + (unsigned int)__builtin_popcount(changed);
	if (VINPUT_QUEUE_EVENTS - (v->tail - v->head) < n) {
		/* Whole reports only; v->buttons stays, so the change is sent later. */
		v->st.dropped_reports++;
		log_ratelimited(LOG_DEBUG, "virtio-input: event queue full, report dropped");
		goto out;
	}
	v->tail_start = v->tail;
	v->tail_motion = !changed;
	put(v, EV_ABS, ABS_X, x);
	put(v, EV_ABS, ABS_Y, y);
	for (size_t i = 0; i < ARRAY_SIZE(btn); i++)
		if (changed & btn[i].mask)
			put(v, EV_KEY, btn[i].code, !!(buttons & btn[i].mask));
	put(v, EV_SYN, SYN_REPORT, 0);
	v->have_pos = true;
	v->x = x;
	v->y = y;
	v->buttons = buttons;
	v->st.reports++;
deliver:
	process_locked(v);
out:
	pthread_mutex_unlock(&v->lock);
}

/* ---- worker --------------------------------------------------------------------- */

static void drain_fd(int fd)
{
	uint64_t c;

	if (fd >= 0 && read(fd, &c, sizeof(c)) < 0 && errno != EAGAIN && errno != EINTR)
		log_ratelimited(LOG_WARN, "virtio-input: reading an eventfd: %s", strerror(errno));
}

static void *worker_main(void *arg)
{
	struct vinput *v = arg;

	for (;;) {
		struct pollfd p[3];

		pthread_mutex_lock(&v->lock);
		if (v->stop) {
			pthread_mutex_unlock(&v->lock);
			break;
		}
		p[0] = (struct pollfd){.fd = v->wake_fd, .events = POLLIN};
		p[1] = (struct pollfd){.fd = v->ev_kick, .events = POLLIN};
		p[2] = (struct pollfd){.fd = v->st_kick, .events = POLLIN};
		/* Buffers published before a start, or before this poll, are served first. */
		process_locked(v);
		pthread_mutex_unlock(&v->lock);

		if (poll(p, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			log_error("virtio-input: worker poll failed: %s", strerror(errno));
			break;
		}
		for (int i = 0; i < 3; i++) {
			if (p[i].revents & POLLIN)
				drain_fd(p[i].fd);
			if (i && (p[i].revents & (POLLERR | POLLNVAL))) {
				log_ratelimited(LOG_ERROR, "virtio-input: queue notify fd failed");
				pthread_mutex_lock(&v->lock);
				if (i == 1)
					v->ev_kick = -1;
				else
					v->st_kick = -1;
				pthread_mutex_unlock(&v->lock);
			}
		}
	}
	return NULL;
}

static void wake(struct vinput *v)
{
	uint64_t one = 1;

	if (write(v->wake_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_error("virtio-input: waking the worker: %s", strerror(errno));
}

int vinput_start(struct vinput *v, unsigned int q, struct virtq *vq, int kick_fd,
		 const struct vinput_queue_cb *cb)
{
	sigset_t all, old;
	int r = 0;

	if (!vq || kick_fd < 0 || q >= VINPUT_NR_QUEUES)
		return -EINVAL;
	pthread_mutex_lock(&v->lock);
	if ((q == VINPUT_EVENT_QUEUE ? v->evq : v->stq) != NULL) {
		pthread_mutex_unlock(&v->lock);
		return -EBUSY;
	}
	if (!v->evq && !v->stq) {
		v->cb = cb ? *cb : (struct vinput_queue_cb){0};
		v->broken = false;
	}
	if (q == VINPUT_EVENT_QUEUE) {
		v->evq = vq;
		v->ev_kick = kick_fd;
	} else {
		v->stq = vq;
		v->st_kick = kick_fd;
	}
	if (!v->running) {
		v->stop = false;
		sigfillset(&all);
		pthread_sigmask(SIG_BLOCK, &all, &old);
		r = -pthread_create(&v->thread, NULL, worker_main, v);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		if (r) {
			if (q == VINPUT_EVENT_QUEUE) {
				v->evq = NULL;
				v->ev_kick = -1;
			} else {
				v->stq = NULL;
				v->st_kick = -1;
			}
		} else {
			pthread_setname_np(v->thread, "vinput");
			v->running = true;
		}
	}
	pthread_mutex_unlock(&v->lock);
	/* The worker re-reads the kick fds and serves the new queue. */
	if (!r)
		wake(v);
	return r;
}

void vinput_stop(struct vinput *v)
{
	bool running;

	pthread_mutex_lock(&v->lock);
	running = v->running;
	v->stop = true;
	pthread_mutex_unlock(&v->lock);
	if (running) {
		wake(v);
		pthread_join(v->thread, NULL);
		drain_fd(v->wake_fd);
	}
	pthread_mutex_lock(&v->lock);
	v->running = false;
	v->stop = false;
	v->evq = v->stq = NULL;
	v->ev_kick = v->st_kick = -1;
	v->broken = false;
	v->cb = (struct vinput_queue_cb){0};
	clear_state_locked(v);
	pthread_mutex_unlock(&v->lock);
}

/* ---- create / destroy -------------------------------------------------------------- */

struct vinput *vinput_create(void)
{
	struct vinput *v = calloc(1, sizeof(*v));

	if (!v)
		return NULL;
	if (pthread_mutex_init(&v->lock, NULL)) {
		free(v);
		return NULL;
	}
	v->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (v->wake_fd < 0) {
		log_error("virtio-input: eventfd: %s", strerror(errno));
		pthread_mutex_destroy(&v->lock);
		free(v);
		return NULL;
	}
	v->ev_kick = v->st_kick = -1;
	v->offered = 1ull << VIRTIO_F_VERSION_1 | 1ull << VIRTIO_RING_F_EVENT_IDX |
		     1ull << VIRTIO_RING_F_INDIRECT_DESC;
	return v;
}

void vinput_destroy(struct vinput *v)
{
	if (!v)
		return;
	vinput_stop(v);
	close(v->wake_fd);
	pthread_mutex_destroy(&v->lock);
	free(v);
}

/* ---- display sinks ------------------------------------------------------------------- */

static void tablet_abs(void *opaque, uint32_t x, uint32_t y, uint32_t buttons)
{
	vinput_tablet_event(opaque, x, y, buttons);
}

void vinput_attach_display(struct vinput *v, struct display *d)
{
	static const struct display_input_ops ops = {.abs = tablet_abs};

	display_set_input(d, &ops, v);
}

/*
 * Both devices behind the one opaque pointer the display keeps: the pair
 * lives in the tablet (struct vinput.pair). Sinks of a missing device stay
 * NULL, so the display counts its events as dropped.
 */
static void pair_key(void *opaque, const uint8_t *set2, size_t len)
{
	struct vinput *v = opaque;

	i8042_kbd_bytes(v->pair_kbd, set2, len);
}

static void pair_rel(void *opaque, int32_t dx, int32_t dy, int32_t wheel, uint32_t buttons)
{
	struct vinput *v = opaque;

	i8042_aux_motion(v->pair_kbd, dx, dy, wheel, buttons);
}

void input_attach_display(struct display *d, struct vinput *v, struct i8042 *k)
{
	static const struct display_input_ops both = {
		.key = pair_key,
		.abs = tablet_abs,
		.rel = pair_rel,
	};

	if (!v) {
		if (k)
			i8042_attach_display(k, d);
		else
			display_set_input(d, NULL, NULL);
		return;
	}
	if (!k) {
		vinput_attach_display(v, d);
		return;
	}
	/* Written before the display can call a sink with it (display_set_input locks). */
	v->pair_kbd = k;
	display_set_input(d, &both, v);
}
