// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include "board.h"
#include "evloop.h"
#include "hostel/log.h"
#include "acpi_pm/pm.h"
#include "boot/acpi.h"
#include "debugexit/debugexit.h"
#include "i8042/i8042.h"
#include "pci/pci.h"
#include "pvpanic/pvpanic.h"
#include "virtio/console/vcon.h"
#include "virtio/net/net.h"
#include "net/tap.h"
#include "net/user.h"
#include "virtio/gpu/gpu.h"
#include "virtio/input/input.h"
#include "hostel/display.h"
#include "virtio/pci/vpci.h"
#include "sysctl/sysctl.h"
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

#define ACPI_TABLES_BASE 0xe0000ULL
#define ACPI_TABLES_SIZE 0x20000ULL
#define PM1A_EVT_PORT	 0x600
#define PM1A_CNT_PORT	 0x604
#define PM_TMR_PORT	 0x608
#define SCI_IRQ		 9

static void kbd_reset(void *opaque)
{
	struct board *b = opaque;
	vm_request_stop(b->vm, VM_STOP_RESET, 0, "guest reset through the i8042");
}

static void sysctl_reset_cb(void *opaque)
{
	struct board *b = opaque;
	vm_request_stop(b->vm, VM_STOP_RESET, 0, "guest reset through the reset control register");
}

static void pm_sleep(void *opaque, unsigned slp_typ)
{
	struct board *b = opaque;
	if (slp_typ == ACPI_S5_SLP_TYP) {
		vm_request_stop(b->vm, VM_STOP_POWEROFF, 0, "the guest powered off");
		return;
	}
	/* No other sleep state exists here: wake at once so the guest's
	 * wait for WAK_STS ends. */
	log_ratelimited(LOG_INFO, "guest asked for sleep type %u: not supported, waking", slp_typ);
	acpi_pm_wake(b->pm);
}

static void guest_panicked(void *opaque)
{
	struct board *b = opaque;
	vm_request_stop(b->vm, VM_STOP_PANIC, 0, "the guest kernel panicked (pvpanic)");
}

static void debug_exit(void *opaque, uint32_t value)
{
	struct board *b = opaque;
	char d[64];
	snprintf(d, sizeof(d), "the guest wrote 0x%x to the debug-exit port", value);
	vm_request_stop(b->vm, VM_STOP_DEBUG_EXIT, (int)(value & 0x7fffffff), d);
}

const char *board_cmdline(void)
{
	/* COM1 is the console. Reset and power-off come from ACPI. */
	return "console=ttyS0";
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

/*
 * The NICs: for each --net a backend, a virtio-net device on it and its
 * virtio-pci function at BOARD_NET_SLOT + i. A backend that cannot start
 * (a forward's port in use) fails the board with @why.
 */
static int board_add_net(struct board *b, const struct board_config *cfg, char *why, size_t whylen)
{
	if (cfg->nr_nets > NET_MAX_NICS) {
		snprintf(why, whylen, "board: at most %d NICs", NET_MAX_NICS);
		return -E2BIG;
	}
	for (unsigned int i = 0; i < cfg->nr_nets; i++) {
		const struct net_opts *o = &cfg->nets[i];
		struct board_nic *n = &b->nic[i];
		uint8_t mac[6];
		int ret;

		if (o->has_mac)
			memcpy(mac, o->mac, 6);
		else
			vnet_mac_from_seed(cfg->net_seed, i, mac);
		n->be = o->kind == NET_TAP ? net_tap_create(o, why, whylen)
					   : net_user_create(o, why, whylen);
		if (!n->be)
			return -EINVAL;
		n->dev = vnet_create(n->be, mac);
		if (!n->dev) {
			snprintf(why, whylen, "board: cannot create the virtio-net device %u", i);
			return -ENOMEM;
		}
		ret = kvm_msi_init(&n->msi, b->vm, VPCI_NR_VECTORS(VNET_NR_QUEUES));
		if (ret) {
			snprintf(why, whylen, "board: MSI-X vectors for NIC %u: %s", i,
				 strerror(-ret));
			return ret;
		}
		n->msi_up = true;
		n->vpci = vnet_create_vpci(b->pci, BOARD_NET_SLOT + i, n->dev, &b->vm->gmem,
					   &n->msi.ctl, &b->ioev.ctl);
		if (!n->vpci) {
			snprintf(why, whylen, "board: cannot create the virtio-net function %u", i);
			return -EINVAL;
		}
		ret = netbe_start(n->be);
		if (ret) {
			snprintf(why, whylen, "board: cannot start the network backend %u: %s", i,
				 strerror(-ret));
			return ret;
		}
	}
	return 0;
}

/* Transport first (stops the device), then the backend's thread, then the device. */
static void board_del_net(struct board *b)
{
	for (unsigned int i = 0; i < NET_MAX_NICS; i++) {
		struct board_nic *n = &b->nic[i];

		if (n->vpci)
			vpci_destroy(n->vpci);
		netbe_destroy(n->be);
		vnet_destroy(n->dev);
		if (n->msi_up)
			kvm_msi_fini(&n->msi);
		memset(n, 0, sizeof(*n));
	}
}

/*
 * The screen and its input: virtio-gpu drawing into @cfg->display, the
 * virtio tablet for the absolute pointer, the i8042's keyboard and PS/2
 * mouse for keys and grabbed motion. Before BAR placement. 0, or -errno
 * with @why set; board_destroy undoes a partial setup.
 */
static int board_add_display(struct board *b, const struct board_config *cfg, char *why,
			     size_t whylen)
{
	struct vm *vm = b->vm;
	int ret;

	b->display = cfg->display;
	kvm_memslots_init(&b->memslots, vm);
	b->memslots_up = true;
	b->gpu_fb_timer = evloop_timer_create(b->el, NULL, NULL);
	if (!b->gpu_fb_timer) {
		snprintf(why, whylen, "board: cannot create the display devices: out of memory");
		return -ENOMEM;
	}
	/* A boot framebuffer in BAR 0 (VGA class), mapped after BAR placement. */
	struct gpu_opts go = {
		.vram_size = GPU_VRAM_SIZE_DEFAULT,
		.memslot = &b->memslots.ctl,
		.refresh_timer = b->gpu_fb_timer,
		.clock = clock_host(),
	};
	b->gpu = gpu_create(&vm->gmem, cfg->display, &go);
	b->tablet = vinput_create();
	if (!b->gpu || !b->tablet) {
		snprintf(why, whylen, "board: cannot create the display devices: out of memory");
		return -ENOMEM;
	}
	ret = kvm_msi_init(&b->gpu_msi, vm, VPCI_NR_VECTORS(GPU_NR_QUEUES));
	if (ret)
		goto msi_fail;
	b->gpu_msi_up = true;
	ret = kvm_msi_init(&b->tablet_msi, vm, VPCI_NR_VECTORS(VINPUT_NR_QUEUES));
	if (ret)
		goto msi_fail;
	b->tablet_msi_up = true;
	b->gpu_vpci = gpu_create_vpci(b->pci, BOARD_GPU_SLOT, b->gpu, &vm->gmem, &b->gpu_msi.ctl,
				      &b->ioev.ctl);
	if (!b->gpu_vpci) {
		snprintf(why, whylen, "board: cannot create the virtio-gpu");
		return -EINVAL;
	}
	b->tablet_vpci = vpci_create_input(b->pci, BOARD_TABLET_SLOT, b->tablet, &vm->gmem,
					   &b->tablet_msi.ctl, &b->ioev.ctl);
	if (!b->tablet_vpci) {
		snprintf(why, whylen, "board: cannot create the virtio tablet");
		return -EINVAL;
	}
	/* Keys and grabbed motion to the i8042, the absolute pointer to the
	 * tablet: from here the UI thread may call into both. */
	input_attach_display(cfg->display, b->tablet, b->kbd);
	b->input_attached = true;
	return 0;
msi_fail:
	snprintf(why, whylen, "board: MSI-X vectors for the display devices: %s", strerror(-ret));
	return ret;
}

/* Undo board_add_display, the UI thread's way in first. */
static void board_remove_display(struct board *b)
{
	if (!b->display)
		return;
	/* Both wait for a sink or resize call under way (display.h), so
	 * nothing of this boot is in use by the UI thread once they return. */
	if (b->input_attached)
		display_set_input(b->display, NULL, NULL);
	b->input_attached = false;
	display_set_resize_hook(b->display, NULL, NULL);
	/* gpu.h's order: no config notify to a freed transport. */
	if (b->gpu)
		gpu_set_config_notify(b->gpu, NULL, NULL);
	if (b->gpu_vpci)
		vpci_destroy(b->gpu_vpci);
	if (b->tablet_vpci)
		vpci_destroy(b->tablet_vpci);
	b->gpu_vpci = b->tablet_vpci = NULL;
	gpu_destroy(b->gpu); /* cancels its timer, unmaps its memory slot */
	if (b->gpu_fb_timer)
		evloop_timer_destroy(b->el, b->gpu_fb_timer);
	b->gpu_fb_timer = NULL;
	if (b->memslots_up)
		kvm_memslots_fini(&b->memslots);
	b->memslots_up = false;
	vinput_destroy(b->tablet);
	b->gpu = NULL;
	b->tablet = NULL;
	if (b->gpu_msi_up)
		kvm_msi_fini(&b->gpu_msi);
	if (b->tablet_msi_up)
		kvm_msi_fini(&b->tablet_msi);
	b->gpu_msi_up = b->tablet_msi_up = false;
	b->display = NULL;
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
	b->pm = acpi_pm_create(&b->irq[SCI_IRQ].line, clock_host(), pm_sleep, b);
	b->pvpanic = pvpanic_create(guest_panicked, NULL, b);
	b->sysctl = sysctl_create(sysctl_reset_cb, b);
	if (!b->pit || !b->rtc || !b->kbd || !b->pm || !b->pvpanic || !b->sysctl)
		goto fail;
	if (cfg->debug_exit_port) {
		b->debugexit = debugexit_create(DEBUGEXIT_MAX_LEN, debug_exit, b);
		if (!b->debugexit)
			goto fail;
	}
	set_cmos_memory(b->rtc, vm);

	/* PCI: the host bridge, one virtio-blk per disk, then BAR placement
	 * (hostel does the firmware's job: there is no BIOS). */
	b->pci = pci_host_create();
	if (!b->pci)
		goto fail;
	pci_host_set_cf9(b->pci, sysctl_rst_cnt_dev(b->sysctl));
	kvm_ioevent_init(&b->ioev, vm);
	if (cfg->nr_disks > BOARD_MAX_DISKS || cfg->nr_consoles > BOARD_MAX_CONSOLES) {
		ret = -E2BIG;
		goto fail;
	}
	/* Disks, then consoles, in consecutive slots from 1: the guest finds
	 * them in this order (vda..., hvc0...). */
	for (unsigned int i = 0; i < cfg->nr_disks + cfg->nr_consoles; i++) {
		bool disk = i < cfg->nr_disks;
		unsigned int j = disk ? i : i - cfg->nr_disks;
		ret = kvm_msi_init(&b->msi[i], vm, VPCI_NR_VECTORS(disk ? 1 : 2));
		if (ret) {
			snprintf(why, whylen, "board: MSI-X vectors for %s %u: %s",
				 disk ? "disk" : "console", j, strerror(-ret));
			goto fail_quiet;
		}
		b->msi_up[i] = true;
		b->vpci[i] = disk ? vpci_create_blk(b->pci, 1 + i, cfg->disks[j], &vm->gmem,
						    &b->msi[i].ctl, &b->ioev.ctl)
				  : vpci_create_console(b->pci, 1 + i, cfg->consoles[j], &vm->gmem,
							&b->msi[i].ctl, &b->ioev.ctl);
		if (!b->vpci[i]) {
			snprintf(why, whylen, "board: cannot create the virtio %s %u",
				 disk ? "disk" : "console", j);
			ret = -EINVAL;
			goto fail_quiet;
		}
	}
	ret = board_add_net(b, cfg, why, whylen);
	if (ret)
		goto fail_quiet;
	if (cfg->display) {
		ret = board_add_display(b, cfg, why, whylen);
		if (ret)
			goto fail_quiet;
	}
	struct pci_placements *pl = calloc(1, sizeof(*pl));
	if (!pl)
		goto fail;
	ret = pci_host_assign_bars(b->pci, BOARD_PCI_MMIO_BASE, BOARD_PCI_MMIO_SIZE,
				   BOARD_PCI_IO_BASE, BOARD_PCI_IO_SIZE, pl);
	for (unsigned int i = 0; !ret && i < pl->nr; i++)
		ret = bus_add(pl->p[i].io ? &vm->pio : &vm->mmio, pl->p[i].base, pl->p[i].size,
			      pl->p[i].dev);
	free(pl);
	if (!ret)
		ret = bus_add(&vm->mmio, BOARD_ECAM_BASE, PCI_ECAM_BUS_SIZE,
			      pci_host_ecam_dev(b->pci));
	if (ret) {
		snprintf(why, whylen, "board: cannot place PCI BARs: %s", strerror(-ret));
		goto fail_quiet;
	}
	/* The boot framebuffer's video RAM at its BAR as a memory slot: no exit per pixel. */
	if (b->gpu && (ret = gpu_fb_map(b->gpu))) {
		snprintf(why, whylen, "board: cannot map the boot framebuffer: %s", strerror(-ret));
		goto fail_quiet;
	}

	struct acpi_config acfg;
	acpi_config_pc_default(&acfg, cfg->nr_cpus);
	acfg.pm1a_evt_port = PM1A_EVT_PORT;
	acfg.pm1a_cnt_port = PM1A_CNT_PORT;
	acfg.pm_tmr_port = PM_TMR_PORT;
	acfg.sci_irq = SCI_IRQ;
	acfg.reset_port = 0xcf9;
	acfg.reset_value = 0x06; /* RST_CPU | SYS_RST */
	acfg.pvpanic = true;
	/* The PS/2 mouse's only input is the window (grabbed motion). */
	acfg.ps2_mouse = cfg->display != NULL;
	acfg.pvpanic_port = PVPANIC_PORT;
	acfg.pci.enabled = true;
	acfg.ecam_base = BOARD_ECAM_BASE;
	acfg.ecam_bus_start = 0;
	acfg.ecam_bus_end = 0;
	acfg.pci.mmio32_base = BOARD_PCI_MMIO_BASE;
	acfg.pci.mmio32_size = BOARD_PCI_MMIO_SIZE;
	acfg.pci.io_base = BOARD_PCI_IO_BASE;
	acfg.pci.io_size = BOARD_PCI_IO_SIZE;
	acfg.pci.mmio64_base = 0;
	acfg.pci.mmio64_size = 0;
	ret = acpi_build(&vm->gmem, ACPI_TABLES_BASE, ACPI_TABLES_SIZE, &acfg, &b->rsdp_addr);
	if (ret) {
		snprintf(why, whylen, "board: cannot build the ACPI tables: %s", strerror(-ret));
		goto fail_quiet;
	}

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
		{0x92, 1, sysctl_port_a_dev(b->sysctl)},
		{PCI_HOST_IO_BASE, PCI_HOST_IO_LEN, pci_host_io_dev(b->pci)},
		{PVPANIC_PORT, PVPANIC_LEN, pvpanic_dev(b->pvpanic)},
		{PM1A_EVT_PORT, ACPI_PM1_EVT_LEN, acpi_pm_evt_dev(b->pm)},
		{PM1A_CNT_PORT, ACPI_PM1_CNT_LEN, acpi_pm_cnt_dev(b->pm)},
		{PM_TMR_PORT, ACPI_PM_TMR_LEN, acpi_pm_tmr_dev(b->pm)},
		{cfg->debug_exit_port, DEBUGEXIT_MAX_LEN,
		 b->debugexit ? debugexit_dev(b->debugexit) : NULL},
	};
	for (size_t i = 0; i < ARRAY_SIZE(map); i++) {
		if (!map[i].dev)
			continue;
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
	/* The display's devices first: the UI thread stops reaching into
	 * this boot's i8042 and tablet before either goes. */
	board_remove_display(b);
	/* virtio first: it stops the disks' I/O before anything goes away. */
	for (unsigned int i = 0; i < BOARD_MAX_VIRTIO; i++) {
		if (b->vpci[i])
			vpci_destroy(b->vpci[i]);
		b->vpci[i] = NULL;
		if (b->msi_up[i])
			kvm_msi_fini(&b->msi[i]);
		b->msi_up[i] = false;
	}
	board_del_net(b);
	if (b->pci)
		pci_host_destroy(b->pci);
	b->pci = NULL;
	/* Devices first: they cancel their timers as they go. The event loop
	 * is stopped by now, so no timer callback is running. */
	if (b->debugexit)
		debugexit_destroy(b->debugexit);
	if (b->sysctl)
		sysctl_destroy(b->sysctl);
	if (b->pvpanic)
		pvpanic_destroy(b->pvpanic);
	if (b->pm)
		acpi_pm_destroy(b->pm);
	b->debugexit = NULL;
	b->sysctl = NULL;
	b->pvpanic = NULL;
	b->pm = NULL;
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
	if (b->pit_timer)
		evloop_timer_destroy(b->el, b->pit_timer);
	if (b->rtc_timer)
		evloop_timer_destroy(b->el, b->rtc_timer);
	b->pit_timer = b->rtc_timer = NULL;
}

bool board_power_button(struct board *b)
{
	if (!b->pm)
		return false;
	acpi_pm_power_button(b->pm);
	return true;
}
