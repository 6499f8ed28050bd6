// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "board.h"
#include "evloop.h"
#include "hostel/log.h"
#include "i8042/i8042.h"
#include "pit/pit.h"
#include "rtc/rtc.h"
#include "serial/uart.h"

/* Ports Linux writes for delays or POST codes: no device, no log. */
static void ignore_read(struct dev *d, uint64_t off, void *data, unsigned len)
{
	memset(data, 0xff, len);
}

static void ignore_write(struct dev *d, uint64_t off, const void *data, unsigned len)
{
}

static const struct dev_ops ignore_ops = {
	.name = "ignore",
	.read = ignore_read,
	.write = ignore_write,
};

static void kbd_reset(void *opaque)
{
	struct board *b = opaque;
	vm_request_stop(b->vm, VM_STOP_RESET, 0, "guest reset through the i8042");
}

const char *board_cmdline(void)
{
	/* COM1 is the console; a reset goes through the keyboard controller. */
	return "console=ttyS0 reboot=k";
}

static void set_cmos_memory(struct rtc *rtc, struct vm *vm)
{
	/* CMOS 0x34/0x35: RAM above 16 MiB below 4 GiB in 64 KiB units;
	 * 0x5b-0x5d: RAM above 4 GiB in 64 KiB units (the BIOS convention). */
	uint64_t low = vm->low_size > (16 << 20) ? (vm->low_size - (16 << 20)) >> 16 : 0;
	if (low > 0xffff)
		low = 0xffff;
	rtc_cmos_set(rtc, 0x34, (uint8_t)low);
	rtc_cmos_set(rtc, 0x35, (uint8_t)(low >> 8));
	uint64_t high = vm->high_size >> 16;
	if (high > 0xffffff)
		high = 0xffffff;
	rtc_cmos_set(rtc, 0x5b, (uint8_t)high);
	rtc_cmos_set(rtc, 0x5c, (uint8_t)(high >> 8));
	rtc_cmos_set(rtc, 0x5d, (uint8_t)(high >> 16));
}

int board_create(struct board *b, struct vm *vm, struct evloop *el, struct byte_sink *console,
		 const struct board_config *cfg, char *why, size_t whylen)
{
	int ret = -ENOMEM;

	memset(b, 0, sizeof(*b));
	b->vm = vm;
	b->el = el;
	for (unsigned int i = 0; i < ARRAY_SIZE(b->irq); i++)
		kvm_irq_init(&b->irq[i], vm, i);
	b->ignore.ops = &ignore_ops;

	b->uart = uart_create(&b->irq[4].line, console);
	b->pit_timer = evloop_timer_create(el, NULL, NULL);
	b->rtc_timer = evloop_timer_create(el, NULL, NULL);
	if (!b->uart || !b->pit_timer || !b->rtc_timer)
		goto fail;
	b->pit = pit_create(&b->irq[0].line, clock_host(), b->pit_timer);
	b->rtc = rtc_create(&b->irq[8].line, clock_host(), b->rtc_timer);
	b->kbd = i8042_create(&b->irq[1].line, &b->irq[12].line, kbd_reset, b);
	if (!b->pit || !b->rtc || !b->kbd)
		goto fail;
	set_cmos_memory(b->rtc, vm);

	struct {
		uint64_t base, len;
		struct dev *dev;
	} map[] = {
		{0x3f8, 8, uart_dev(b->uart)},
		{0x40, 4, pit_dev(b->pit)},
		{0x61, 1, pit_port61_dev(b->pit)},
		{0x60, 1, i8042_data_dev(b->kbd)},
		{0x64, 1, i8042_cmd_dev(b->kbd)},
		{0x70, 2, rtc_dev(b->rtc)},
		{0x80, 1, &b->ignore},
		{0xed, 1, &b->ignore},
	};
	for (size_t i = 0; i < ARRAY_SIZE(map); i++) {
		ret = bus_add(&vm->pio, map[i].base, map[i].len, map[i].dev);
		if (ret) {
			snprintf(why, whylen, "board: cannot place %s at port 0x%llx: %s",
				 map[i].dev->ops->name, (unsigned long long)map[i].base,
				 strerror(-ret));
			goto fail_quiet;
		}
	}
	return 0;
fail:
	snprintf(why, whylen, "board: cannot create devices: %s", strerror(-ret));
fail_quiet:
	board_destroy(b);
	return ret;
}

void board_destroy(struct board *b)
{
	/* Timers first: their callbacks touch the devices. The event loop is
	 * stopped by now, so no callback is running. */
	if (b->pit_timer)
		evloop_timer_destroy(b->el, b->pit_timer);
	if (b->rtc_timer)
		evloop_timer_destroy(b->el, b->rtc_timer);
	b->pit_timer = b->rtc_timer = NULL;
	if (b->kbd)
		i8042_destroy(b->kbd);
	if (b->rtc)
		rtc_destroy(b->rtc);
	if (b->pit)
		pit_destroy(b->pit);
	if (b->uart)
		uart_destroy(b->uart);
	b->kbd = NULL;
	b->rtc = NULL;
	b->pit = NULL;
	b->uart = NULL;
}

bool board_power_button(struct board *b)
{
	return false;
}
