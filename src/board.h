/* SPDX-License-Identifier: MIT */
/*
 * The board: the one place that wires every device to its port, IRQ and
 * address on hostel's PC.
 *
 *   port 0x3f8-0x3ff  16550A UART (COM1)     IRQ 4
 *   port 0x40-0x43    8254 PIT               IRQ 0 (IOAPIC pin 2)
 *   port 0x61         PIT ch.2 gate / speaker
 *   port 0x60, 0x64   i8042                  IRQ 1, 12
 *   port 0x70-0x71    CMOS RTC               IRQ 8
 *   port 0x80, 0xed   POST / io-delay: ignored quietly
 *   port 0x92, 0xcf9  system control A / reset control: guest reset
 *   port 0x505        pvpanic                 (guest panic -> exit 83)
 *   port 0x501-0x504  isa-debug-exit, with --debug-exit (port is settable)
 *   port 0x600-0x603  ACPI PM1a event block   SCI = IRQ 9 (level)
 *   port 0x604-0x605  ACPI PM1a control block (S5 -> power-off)
 *   port 0x608-0x60b  ACPI PM timer
 *   port 0xcf8-0xcff  PCI configuration mechanism #1 (0xcf9 forwarded to reset control)
 *   0xe0000000 1 MiB  PCI ECAM, bus 0 (MCFG; reserved in e820 and PNP0C02)
 *   0xc0000000-0xdfffffff  PCI 32-bit BAR window; I/O BARs 0xc000-0xffff
 *   PCI slot 1+i      virtio-blk for --disk i (vda, vdb, ...), MSI-X only
 *   next slots        virtio consoles (hostel exec: hvc0, hvc1, hvc2)
 *   PCI slot 16+i     virtio-net for --net i (eth0, eth1, ...), MSI-X only
 *   PCI slot 24, 25   virtio-gpu and the virtio-input tablet, with a display
 *                     (--display sdl); the i8042's keyboard and mouse take
 *                     the display's keys and relative (grabbed) motion
 *   0xe0000-0xfffff   ACPI tables (RSDP found by scanning or the zero page)
 *   PIC, IOAPIC, LAPIC: KVM's in-kernel irqchip
 */
#ifndef HOSTEL_BOARD_H
#define HOSTEL_BOARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "hostel/compiler.h"
#include "hostel/device.h"
#include "kvm/irq.h"
#include "kvm/kvm.h"
#include "kvm/memslot.h"
#include "net/netopts.h"

struct evloop;
struct byte_sink;

#define BOARD_ECAM_BASE	    0xe0000000ULL
#define BOARD_PCI_MMIO_BASE 0xc0000000ULL
#define BOARD_PCI_MMIO_SIZE 0x20000000ULL
#define BOARD_PCI_IO_BASE   0xc000
#define BOARD_PCI_IO_SIZE   0x4000
#define BOARD_MAX_DISKS	    8
#define BOARD_MAX_CONSOLES  3
#define BOARD_MAX_VIRTIO    (BOARD_MAX_DISKS + BOARD_MAX_CONSOLES)
#define BOARD_NET_SLOT	    16 /* NICs at 16.. : clear of the slots counted up from 1 */
/* Fixed slots, clear of the numbered ones, so other devices can be added
 * after the consoles without moving the screen. */
#define BOARD_GPU_SLOT	  24
#define BOARD_TABLET_SLOT 25

struct blk;
struct vcon;
struct display;
struct gpu;
struct vinput;

struct board_config {
	unsigned int nr_cpus;
	uint16_t debug_exit_port; /* 0: none */
	struct blk *const *disks; /* owned by the caller; they outlive the board */
	unsigned int nr_disks;
	struct vcon *const *consoles; /* virtio consoles after the disks; owned by the caller */
	unsigned int nr_consoles;
	const struct net_opts *nets; /* --net, in order */
	unsigned int nr_nets;
	const char *net_seed; /* default MACs derive from it (the kernel's path) */
	/* The guest's screen (NULL: none, no GPU, no tablet). Owned by the
	 * caller; it outlives every board, so the window survives reboots. */
	struct display *display;
};

struct board {
	struct vm *vm;
	struct evloop *el;
	struct kvm_irq irq[24];
	struct uart *uart;
	struct pit *pit;
	struct rtc *rtc;
	struct i8042 *kbd;
	struct timer *pit_timer;
	struct timer *rtc_timer;
	struct acpi_pm *pm;
	struct pvpanic *pvpanic;
	struct debugexit *debugexit;
	struct sysctl *sysctl;
	struct pci_host *pci;
	struct kvm_ioevent ioev;
	struct hostel_msi msi[BOARD_MAX_VIRTIO];
	bool msi_up[BOARD_MAX_VIRTIO];
	struct vpci *vpci[BOARD_MAX_VIRTIO];
	struct board_nic {
		struct netbe *be;
		struct vnet *dev;
		struct vpci *vpci;
		struct hostel_msi msi;
		bool msi_up;
	} nic[NET_MAX_NICS];
	struct dev ignore;
	uint64_t rsdp_addr; /* ACPI RSDP, 0 if none */
	/* With a display (board_add_display): made per boot, as guest RAM is. */
	struct display *display;
	bool input_attached; /* the display's sinks point at kbd and tablet */
	struct gpu *gpu;
	struct vinput *tablet;
	struct vpci *gpu_vpci, *tablet_vpci;
	struct hostel_msi gpu_msi, tablet_msi;
	bool gpu_msi_up, tablet_msi_up;
	/* The gpu's boot framebuffer: its video RAM as a KVM memory slot, refreshed on a timer. */
	struct kvm_memslots memslots;
	bool memslots_up;
	struct timer *gpu_fb_timer;
};

int board_create(struct board *b, struct vm *vm, struct evloop *el, struct byte_sink *console,
		 const struct board_config *cfg, char *why, size_t whylen) __must_check;
/* Press the ACPI power button; false if the board has none. */
bool board_power_button(struct board *b);
void board_destroy(struct board *b);

/* What the kernel command line needs for this board's devices. */
const char *board_cmdline(void);

#endif
