/* SPDX-License-Identifier: MIT */
/*
 * The KVM core: /dev/kvm, the VM, guest RAM slots, the in-kernel irqchip and
 * vCPU threads, through raw ioctls from <linux/kvm.h>.
 */
#ifndef HOSTEL_KVM_H
#define HOSTEL_KVM_H

#include <linux/kvm.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include "hostel/bus.h"
#include "hostel/compiler.h"
#include "hostel/gmem.h"
#include "hostel/irq.h"

/* MSI-X devices per VM: 8 disks, 3 consoles, the screen's 2 and 4 NICs fit. */
#define KVM_MAX_MSI_DEVICES 32

/* Guest physical layout. RAM is split around the hole below 4 GiB. */
#define MEM_HOLE_START (3ULL << 30) /* 0xc0000000: devices from here to 4 GiB */
#define MEM_4G	       (1ULL << 32)
#define KVM_TSS_ADDR   0xfffbd000ULL /* 3 pages, inside the hole (Intel VMX needs it) */
#define KVM_IDMAP_ADDR 0xfffbc000ULL

#define MAX_VCPUS 256

struct vm;

/* Why the VM stopped; set once, by the first vm_request_stop() caller. */
enum vm_stop_reason {
	VM_STOP_NONE = 0,
	VM_STOP_POWEROFF, /* guest powered off, or user stop */
	VM_STOP_RESET,	  /* guest asked for a reset */
	VM_STOP_PANIC,	  /* guest kernel panic (pvpanic) */
	VM_STOP_CPU_FAIL, /* triple fault, internal error, failed entry */
	VM_STOP_HOST_ERR, /* hostel-side failure */
	VM_STOP_SIGNAL,	  /* a signal asked for a hard stop */
	VM_STOP_DEBUG_EXIT,
	VM_STOP_TIMEOUT,
};

struct vcpu_stats {
	_Atomic uint64_t exits, io, mmio, hlt, intr, unknown;
};

struct vcpu {
	struct vm *vm;
	unsigned int id;
	int fd;
	struct kvm_run *run;
	pthread_t thread;
	bool started;
	struct vcpu_stats stats;
};

struct vm {
	int kvm_fd;
	int vm_fd;
	int vcpu_mmap_size;
	int max_vcpus;

	uint64_t ram_size;
	uint8_t *ram_low; /* [0, low_size) */
	uint64_t low_size;
	uint8_t *ram_high; /* [4 GiB, 4 GiB + high_size) */
	uint64_t high_size;
	struct gmem gmem;

	struct bus pio;
	struct bus mmio;

	/* MSI routes (src/kvm/irq.c): devices' vectors, GSIs from 24 up. */
	pthread_mutex_t route_lock;
	struct hostel_msi *msi[KVM_MAX_MSI_DEVICES];
	unsigned int nr_msi;
	unsigned int next_gsi;
	pthread_mutex_t bus_lock; /* devices serialise themselves; this guards nothing hot */

	unsigned int nr_vcpus;
	struct vcpu vcpus[MAX_VCPUS];
	struct kvm_cpuid2 *cpuid; /* supported CPUID, patched per vCPU */
	bool tsc_deadline;	  /* KVM_CAP_TSC_DEADLINE_TIMER */

	/* Stop protocol: the first requester sets reason/status, wakes the waiter. */
	pthread_mutex_t stop_lock;
	pthread_cond_t stop_cond;
	_Atomic int stopping;
	enum vm_stop_reason stop_reason;
	int stop_status; /* e.g. debug-exit value */
	char stop_detail[160];

	/* Pause: vCPUs park outside KVM_RUN while @paused (see vm_pause()). */
	pthread_mutex_t pause_lock;
	pthread_cond_t pause_cond; /* parked count changed, or paused/stopping did */
	_Atomic int paused;
	unsigned int parked; /* vCPU threads waiting in the park */
	/* kvmclock when the pause began, set again on resume: a paused guest's
	 * clock stands still (guests on kvm-clock see no jump in time). */
	struct kvm_clock_data paused_clock;
	bool clock_held;
};

/* An interrupt line that drives a GSI with KVM_IRQ_LINE. */
struct kvm_irq {
	struct irq_line line;
	struct vm *vm;
	unsigned int gsi;
};

/*
 * Open /dev/kvm and check the API version and every capability hostel uses.
 * On failure returns -errno and writes a one-line explanation (what is
 * missing and what to do) into @why.
 */
int vm_create(struct vm *vm, uint64_t ram_size, unsigned int nr_vcpus, char *why,
	      size_t whylen) __must_check;
void vm_destroy(struct vm *vm);

void kvm_irq_init(struct kvm_irq *irq, struct vm *vm, unsigned int gsi);

/* vCPUs: create all, set up the boot CPU's registers for the 32-bit entry. */
int vcpus_create(struct vm *vm, char *why, size_t whylen) __must_check;
struct boot_entry;
int vcpu_setup_boot(struct vcpu *v, const struct boot_entry *e) __must_check;
int vcpus_start(struct vm *vm) __must_check;
/* Kick every vCPU out of KVM_RUN and join the threads. */
void vcpus_stop(struct vm *vm);

/*
 * Pause: kick every vCPU out of KVM_RUN and wait until all are parked (or
 * the VM is stopping). Resume lets them go. Both are no-ops when the VM is
 * already in that state; any thread but a vCPU's may call them. A stop
 * (vm_request_stop + vcpus_stop) works while paused.
 */
void vm_pause(struct vm *vm);
void vm_resume(struct vm *vm);

/* Ask the VM to stop; the first call wins. Safe from any thread. */
void vm_request_stop(struct vm *vm, enum vm_stop_reason reason, int status, const char *detail);
/* Wait until a stop was requested. */
enum vm_stop_reason vm_wait_stop(struct vm *vm);

/*
 * The exit dispatcher, a pure function over a kvm_run: I/O and MMIO go to
 * the buses. Returns 0 to re-enter the guest, or a stop reason.
 */
enum vm_stop_reason vcpu_dispatch_exit(struct kvm_run *run, struct bus *pio, struct bus *mmio,
				       struct vcpu_stats *st);

/* Register dump at debug level, with a one-line summary at error level. */
void vcpu_dump_regs(struct vcpu *v);

#endif
