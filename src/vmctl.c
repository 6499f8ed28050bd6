// SPDX-License-Identifier: MIT
/* Control-socket commands: status, pause, resume, power-button, stop, stats, screenshot. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "api/server.h"
#include "hostel/display.h"
#include "ui/png.h"
#include "board.h"
#include "virtio/net/net.h"
#include "evloop.h"
#include "hostel/clock.h"
#include "hostel/log.h"
#include "kvm/kvm.h"
#include "report.h"
#include "vmctl.h"

static int err_no_vm(struct api_error *err)
{
	err->code = API_ERR_UNAVAILABLE;
	snprintf(err->message, sizeof(err->message), "the machine is not running (between boots)");
	return -1;
}

static cJSON *status_json(struct vmctl *c)
{
	cJSON *r = cJSON_CreateObject();
	uint64_t now = clock_now(clock_host());
	cJSON_AddStringToObject(r, "state", atomic_load(&c->vm->paused) ? "paused" : "running");
	cJSON_AddNumberToObject(r, "uptime_ms", (double)((now - c->t_start_ns) / 1000000));
	cJSON_AddNumberToObject(r, "boot_uptime_ms", (double)((now - c->t_boot_ns) / 1000000));
	cJSON_AddNumberToObject(r, "boots", c->boots);
	cJSON_AddNumberToObject(r, "vcpus", c->vm->nr_vcpus);
	cJSON_AddNumberToObject(r, "memory", (double)c->vm->ram_size);
	return r;
}

static cJSON *stats_json(struct vmctl *c)
{
	cJSON *r = cJSON_CreateObject();
	cJSON *vcpus = cJSON_AddArrayToObject(r, "vcpus");
	for (unsigned int i = 0; i < c->vm->nr_vcpus; i++) {
		const struct vcpu_stats *st = &c->vm->vcpus[i].stats;
		cJSON *v = cJSON_CreateObject();
		cJSON_AddNumberToObject(v, "id", i);
		cJSON_AddNumberToObject(v, "exits", (double)atomic_load(&st->exits));
		cJSON_AddNumberToObject(v, "io", (double)atomic_load(&st->io));
		cJSON_AddNumberToObject(v, "mmio", (double)atomic_load(&st->mmio));
		cJSON_AddNumberToObject(v, "hlt", (double)atomic_load(&st->hlt));
		cJSON_AddNumberToObject(v, "intr", (double)atomic_load(&st->intr));
		cJSON_AddItemToArray(vcpus, v);
	}
	cJSON *nics = cJSON_AddArrayToObject(r, "nics");
	for (unsigned int i = 0; c->board && i < NET_MAX_NICS; i++) {
		struct vnet *dev = c->board->nic[i].dev;
		struct vnet_stats ns;
		char feat[24];
		if (!dev)
			continue;
		vnet_get_stats(dev, &ns);
		snprintf(feat, sizeof(feat), "0x%llx", (unsigned long long)vnet_negotiated(dev));
		cJSON *v = cJSON_CreateObject();
		cJSON_AddNumberToObject(v, "index", i);
		cJSON_AddStringToObject(v, "features", feat);
		cJSON_AddNumberToObject(v, "tx_frames", (double)ns.tx_frames);
		cJSON_AddNumberToObject(v, "tx_bytes", (double)ns.tx_bytes);
		cJSON_AddNumberToObject(v, "tx_gso", (double)ns.tx_gso);
		cJSON_AddNumberToObject(
			v, "tx_dropped",
			(double)(ns.tx_malformed + ns.tx_bad_chains + ns.tx_errors));
		cJSON_AddNumberToObject(v, "rx_frames", (double)ns.rx_frames);
		cJSON_AddNumberToObject(v, "rx_bytes", (double)ns.rx_bytes);
		cJSON_AddNumberToObject(v, "rx_gso", (double)ns.rx_gso);
		cJSON_AddNumberToObject(v, "rx_dropped",
					(double)(ns.rx_dropped_full + ns.rx_dropped_idle +
						 ns.rx_dropped_oversize + ns.rx_dropped_nobuf +
						 ns.rx_dropped_offload));
		cJSON_AddItemToArray(nics, v);
	}
	/* Since hostel started: the disks outlive reboots. */
	cJSON *disks = cJSON_AddArrayToObject(r, "disks");
	for (unsigned int i = 0; disks && i < c->nr_disks; i++) {
		struct blk_stats bs;
		blk_get_stats(c->disks[i], &bs);
		cJSON *d = report_disk_json(i, c->disk_paths[i], &bs);
		if (d)
			cJSON_AddItemToArray(disks, d);
	}
	cJSON *ranges = cJSON_AddArrayToObject(r, "devices");
	const struct bus *buses[] = {&c->vm->pio, &c->vm->mmio};
	for (unsigned int b = 0; b < 2; b++) {
		for (unsigned int i = 0; i < buses[b]->nr; i++) {
			const struct bus_range *g = &buses[b]->ranges[i];
			uint64_t rd = __atomic_load_n(&g->reads, __ATOMIC_RELAXED);
			uint64_t wr = __atomic_load_n(&g->writes, __ATOMIC_RELAXED);
			char base[24];
			cJSON *d = cJSON_CreateObject();
			snprintf(base, sizeof(base), "0x%llx", (unsigned long long)g->base);
			cJSON_AddStringToObject(d, "bus", buses[b]->name);
			cJSON_AddStringToObject(d, "base", base);
			cJSON_AddNumberToObject(d, "len", (double)g->len);
			cJSON_AddNumberToObject(d, "reads", (double)rd);
			cJSON_AddNumberToObject(d, "writes", (double)wr);
			cJSON_AddItemToArray(ranges, d);
		}
	}
	return r;
}

/*
 * The screen as it is now, to @path (PNG, written whole or not at all).
 * Works between boots too: the display keeps the last picture. c->lock held.
 */
static int screenshot(struct vmctl *c, const char *path, cJSON **result, struct api_error *err)
{
	uint32_t w, h;
	uint64_t gen;

	if (!c->display) {
		err->code = API_ERR_UNAVAILABLE;
		snprintf(err->message, sizeof(err->message),
			 "no display (this machine runs with --display none)");
		return -1;
	}
	display_mode(c->display, &w, &h, &gen);
	int r = png_write_display(c->display, path);
	if (r == -ENODATA) {
		err->code = API_ERR_UNAVAILABLE;
		snprintf(err->message, sizeof(err->message),
			 "the guest has not set a display mode yet");
		return -1;
	}
	if (r) {
		err->code = API_ERR_FAILED;
		snprintf(err->message, sizeof(err->message), "cannot write '%.200s': %s", path,
			 strerror(-r));
		return -1;
	}
	*result = cJSON_CreateObject();
	if (*result) {
		cJSON_AddStringToObject(*result, "path", path);
		cJSON_AddNumberToObject(*result, "width", w);
		cJSON_AddNumberToObject(*result, "height", h);
	}
	if (!*result) {
		err->code = API_ERR_FAILED;
		snprintf(err->message, sizeof(err->message), "out of memory");
		return -1;
	}
	return 0;
}

static int handle(void *ctx, const struct api_request *req, cJSON **result, struct api_error *err)
{
	struct vmctl *c = ctx;
	int ret = 0;

	/* Held throughout: the boot cannot take its VM away mid-command. */
	pthread_mutex_lock(&c->lock);
	if (req->cmd == API_CMD_SCREENSHOT) {
		ret = screenshot(c, req->args.screenshot.path, result, err);
		goto out;
	}
	if (!c->vm) {
		ret = err_no_vm(err);
		goto out;
	}
	switch (req->cmd) {
	case API_CMD_STATUS:
		*result = status_json(c);
		break;
	case API_CMD_PAUSE:
		vm_pause(c->vm);
		*result = status_json(c);
		break;
	case API_CMD_RESUME:
		vm_resume(c->vm);
		*result = status_json(c);
		break;
	case API_CMD_POWER_BUTTON:
		if (!board_power_button(c->board)) {
			err->code = API_ERR_UNAVAILABLE;
			snprintf(err->message, sizeof(err->message),
				 "this machine has no power button");
			ret = -1;
		}
		break;
	case API_CMD_STOP:
		vm_request_stop(c->vm, VM_STOP_SIGNAL, 0, "stopped over the control socket");
		break;
	case API_CMD_STATS:
		*result = stats_json(c);
		break;
	default:
		err->code = API_ERR_UNKNOWN_COMMAND;
		snprintf(err->message, sizeof(err->message), "command not implemented");
		ret = -1;
		break;
	}
	if (!ret && req->cmd != API_CMD_POWER_BUTTON && req->cmd != API_CMD_STOP && !*result) {
		err->code = API_ERR_FAILED;
		snprintf(err->message, sizeof(err->message), "out of memory");
		ret = -1;
	}
out:
	pthread_mutex_unlock(&c->lock);
	return ret;
}

int vmctl_start(struct vmctl *c, const char *path, uint64_t t_start_ns, char *why, size_t whylen)
{
	memset(c, 0, sizeof(*c));
	pthread_mutex_init(&c->lock, NULL);
	c->t_start_ns = t_start_ns;
	c->srv = api_server_create(path, handle, c, why, whylen);
	if (!c->srv)
		return errno == EEXIST ? -EEXIST : -EIO;
	c->el = evloop_create();
	if (!c->el || api_server_attach(c->srv, c->el) || evloop_start(c->el)) {
		snprintf(why, whylen, "--api-socket '%s': cannot start serving it", path);
		vmctl_stop(c);
		return -EIO;
	}
	return 0;
}

void vmctl_set_vm(struct vmctl *c, struct vm *vm, struct board *board, unsigned int boots)
{
	if (!c->srv)
		return;
	pthread_mutex_lock(&c->lock);
	c->vm = vm;
	c->board = board;
	c->boots = boots;
	if (vm)
		c->t_boot_ns = clock_now(clock_host());
	pthread_mutex_unlock(&c->lock);
}

void vmctl_set_display(struct vmctl *c, struct display *d)
{
	if (!c->srv)
		return;
	pthread_mutex_lock(&c->lock);
	c->display = d;
	pthread_mutex_unlock(&c->lock);
}

void vmctl_set_disks(struct vmctl *c, struct blk *const *disks, const char *const *paths,
		     unsigned int n)
{
	if (!c->srv)
		return;
	pthread_mutex_lock(&c->lock);
	c->nr_disks = n < VMCTL_MAX_DISKS ? n : VMCTL_MAX_DISKS;
	for (unsigned int i = 0; i < c->nr_disks; i++) {
		c->disks[i] = disks[i];
		c->disk_paths[i] = paths[i];
	}
	pthread_mutex_unlock(&c->lock);
}

void vmctl_stop(struct vmctl *c)
{
	if (c->el)
		evloop_stop(c->el);
	api_server_destroy(c->srv);
	c->srv = NULL;
	if (c->el)
		evloop_destroy(c->el);
	c->el = NULL;
}
