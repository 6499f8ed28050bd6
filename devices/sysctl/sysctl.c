// SPDX-License-Identifier: MIT
/*
 * Reset Control Register (0xCF9) and System Control Port A (0x92).
 *
 * References: Intel I/O Controller Hub / Platform Controller Hub datasheets,
 * "Reset Control Register (RST_CNT), I/O 0xCF9" and "Port 92h: Alternate
 * Fast A20 and INIT"; IBM PS/2 Hardware Interface Technical Reference,
 * "System Control Port A".
 *
 * Model:
 *  - RST_CNT: any write with RST_CPU set requests a reset. Datasheets start
 *    the reset when RST_CPU goes 0->1, but RST_CPU is never stored here (the
 *    reset it asks for has happened by the time the guest could read it),
 *    so every such write is a 0->1 edge. SYS_RST and FULL_RST are stored and
 *    read back; the reset kind they select makes no difference for a VM.
 *  - Port A: ALT_RST resets on a 0->1 transition of the stored bit, so
 *    writing 1 twice resets once (until sysctl_reset() clears it); ALT_A20
 *    is stored. Reserved bits and the HDD LED / security-lock bits read 0.
 *
 * Trust: the guest writes single bytes; only the defined bits are kept.
 * Other widths or offsets read all-ones and are dropped on write.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include "sysctl.h"
#include "hostel/log.h"

/* RST_CNT (0xCF9). */
#define RST_CNT_SYS_RST	 (1u << 1)
#define RST_CNT_RST_CPU	 (1u << 2)
#define RST_CNT_FULL_RST (1u << 3)
#define RST_CNT_STORED	 (RST_CNT_SYS_RST | RST_CNT_FULL_RST)

/* System Control Port A (0x92). */
#define PORT_A_ALT_RST	(1u << 0)
#define PORT_A_ALT_A20	(1u << 1)
#define PORT_A_STORED	(PORT_A_ALT_RST | PORT_A_ALT_A20)
#define PORT_A_POWER_ON PORT_A_ALT_A20

struct sysctl {
	struct dev rst_cnt_dev, port_a_dev;
	pthread_mutex_t lock;
	void (*reset_cb)(void *opaque);
	void *opaque;

	/* Protected by @lock. */
	uint8_t rst_cnt, port_a;
	uint64_t resets;
};

static bool access_ok(uint64_t off, unsigned len)
{
	return off == 0 && len == 1;
}

static void request_reset(struct sysctl *s, const char *why)
{
	pthread_mutex_lock(&s->lock);
	s->resets++;
	pthread_mutex_unlock(&s->lock);
	log_ratelimited(LOG_INFO, "sysctl: reset requested through %s", why);
	if (s->reset_cb)
		s->reset_cb(s->opaque);
}

static void rst_cnt_read(struct dev *d, uint64_t off, void *data, unsigned len)
{
	struct sysctl *s = container_of(d, struct sysctl, rst_cnt_dev);
	uint8_t v;

	if (!access_ok(off, len)) {
		dev_data_put(data, len, ~0ULL);
		return;
	}
	pthread_mutex_lock(&s->lock);
	v = s->rst_cnt;
	pthread_mutex_unlock(&s->lock);
	dev_data_put(data, 1, v);
}

static void rst_cnt_write(struct dev *d, uint64_t off, const void *data, unsigned len)
{
	struct sysctl *s = container_of(d, struct sysctl, rst_cnt_dev);
	uint8_t v;

	if (!access_ok(off, len)) {
		log_ratelimited(LOG_DEBUG, "sysctl: dropped RST_CNT write of %u bytes", len);
		return;
	}
	v = (uint8_t)dev_data_get(data, 1);
	pthread_mutex_lock(&s->lock);
	s->rst_cnt = v & RST_CNT_STORED;
	pthread_mutex_unlock(&s->lock);
	if (v & RST_CNT_RST_CPU)
		request_reset(s, "0xcf9");
}

static void port_a_read(struct dev *d, uint64_t off, void *data, unsigned len)
{
	struct sysctl *s = container_of(d, struct sysctl, port_a_dev);
	uint8_t v;

	if (!access_ok(off, len)) {
		dev_data_put(data, len, ~0ULL);
		return;
	}
	pthread_mutex_lock(&s->lock);
	v = s->port_a;
	pthread_mutex_unlock(&s->lock);
	dev_data_put(data, 1, v);
}

static void port_a_write(struct dev *d, uint64_t off, const void *data, unsigned len)
{
	struct sysctl *s = container_of(d, struct sysctl, port_a_dev);
	uint8_t v, old;

	if (!access_ok(off, len)) {
		log_ratelimited(LOG_DEBUG, "sysctl: dropped port A write of %u bytes", len);
		return;
	}
	v = (uint8_t)dev_data_get(data, 1) & PORT_A_STORED;
	pthread_mutex_lock(&s->lock);
	old = s->port_a;
	s->port_a = v;
	pthread_mutex_unlock(&s->lock);
	if (!(old & PORT_A_ALT_RST) && (v & PORT_A_ALT_RST))
		request_reset(s, "port 0x92");
}

static void rst_cnt_dev_reset(struct dev *d)
{
	sysctl_reset(container_of(d, struct sysctl, rst_cnt_dev));
}

static void port_a_dev_reset(struct dev *d)
{
	sysctl_reset(container_of(d, struct sysctl, port_a_dev));
}

static const struct dev_ops rst_cnt_ops = {
	.name = "rst-cnt",
	.read = rst_cnt_read,
	.write = rst_cnt_write,
	.reset = rst_cnt_dev_reset,
};

static const struct dev_ops port_a_ops = {
	.name = "port-a",
	.read = port_a_read,
	.write = port_a_write,
	.reset = port_a_dev_reset,
};

struct sysctl *sysctl_create(void (*reset)(void *opaque), void *opaque)
{
	struct sysctl *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	if (pthread_mutex_init(&s->lock, NULL)) {
		free(s);
		return NULL;
	}
	s->rst_cnt_dev.ops = &rst_cnt_ops;
	s->port_a_dev.ops = &port_a_ops;
	s->reset_cb = reset;
	s->opaque = opaque;
	s->port_a = PORT_A_POWER_ON;
	return s;
}

void sysctl_destroy(struct sysctl *s)
{
	if (!s)
		return;
	pthread_mutex_destroy(&s->lock);
	free(s);
}

struct dev *sysctl_rst_cnt_dev(struct sysctl *s)
{
	return &s->rst_cnt_dev;
}

struct dev *sysctl_port_a_dev(struct sysctl *s)
{
	return &s->port_a_dev;
}

void sysctl_reset(struct sysctl *s)
{
	pthread_mutex_lock(&s->lock);
	s->rst_cnt = 0;
	s->port_a = PORT_A_POWER_ON;
	pthread_mutex_unlock(&s->lock);
}

uint64_t sysctl_resets(struct sysctl *s)
{
	uint64_t n;

	pthread_mutex_lock(&s->lock);
	n = s->resets;
	pthread_mutex_unlock(&s->lock);
	return n;
}
