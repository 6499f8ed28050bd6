// SPDX-License-Identifier: MIT
/* The VM: /dev/kvm checks, guest RAM, in-kernel irqchip and GSI routing. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include "hostel/log.h"
#include "kvm/irq.h"
#include "kvm/kvm.h"

/* Capabilities hostel relies on, with the reason it needs each. */
static const struct {
	int cap;
	const char *name;
} required_caps[] = {
	{KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY"},
	{KVM_CAP_IRQCHIP, "KVM_CAP_IRQCHIP"},
	{KVM_CAP_IRQ_ROUTING, "KVM_CAP_IRQ_ROUTING"},
	{KVM_CAP_EXT_CPUID, "KVM_CAP_EXT_CPUID"},
	{KVM_CAP_SET_TSS_ADDR, "KVM_CAP_SET_TSS_ADDR"},
	{KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT"},
	{KVM_CAP_MP_STATE, "KVM_CAP_MP_STATE"},
};

static int set_slot(struct vm *vm, uint32_t slot, uint64_t gpa, uint64_t size, void *host)
{
	struct kvm_userspace_memory_region r = {
		.slot = slot,
		.guest_phys_addr = gpa,
		.memory_size = size,
		.userspace_addr = (uint64_t)(uintptr_t)host,
	};
	if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &r) < 0)
		return -errno;
	return 0;
}

int vm_create(struct vm *vm, uint64_t ram_size, unsigned int nr_vcpus, char *why, size_t whylen)
{
	int ret;

	memset(vm, 0, sizeof(*vm));
	vm->kvm_fd = vm->vm_fd = -1;
	pthread_mutex_init(&vm->stop_lock, NULL);
	pthread_cond_init(&vm->stop_cond, NULL);
	pthread_mutex_init(&vm->pause_lock, NULL);
	pthread_cond_init(&vm->pause_cond, NULL);
	pthread_mutex_init(&vm->bus_lock, NULL);
	pthread_mutex_init(&vm->route_lock, NULL);
	bus_init(&vm->pio, "pio");
	bus_init(&vm->mmio, "mmio");

	vm->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (vm->kvm_fd < 0) {
		ret = -errno;
		if (ret == -ENOENT)
			snprintf(why, whylen,
				 "/dev/kvm does not exist: this machine has no KVM (enable "
				 "virtualization "
				 "in the firmware, load kvm-intel or kvm-amd, or use "
				 "tests/testbed/run "
				 "to boot inside QEMU/TCG)");
		else if (ret == -EACCES || ret == -EPERM)
			snprintf(why, whylen,
				 "cannot open /dev/kvm: %s (add your user to the 'kvm' group)",
				 strerror(-ret));
		else
			snprintf(why, whylen, "cannot open /dev/kvm: %s", strerror(-ret));
		goto fail;
	}
	/* PVM, a software KVM for guests built for it, answers every check
	 * below, then runs an unmodified kernel at a crawl until an internal
	 * error: say so once, before the guest seems to hang. */
	if (access("/sys/module/kvm_pvm", F_OK) == 0)
		log_warn("/dev/kvm here is PVM (module kvm_pvm): unmodified guest kernels boot "
			 "very slowly or stop with a KVM internal error; use a host with hardware "
			 "KVM, or tests/testbed/run");
	ret = ioctl(vm->kvm_fd, KVM_GET_API_VERSION, 0);
	if (ret != KVM_API_VERSION) {
		snprintf(why, whylen, "KVM API version %d, hostel needs %d: update the host kernel",
			 ret, KVM_API_VERSION);
		ret = -ENOTSUP;
		goto fail;
	}
	for (size_t i = 0; i < ARRAY_SIZE(required_caps); i++) {
		if (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, required_caps[i].cap) <= 0) {
			snprintf(why, whylen,
				 "KVM lacks %s, which hostel needs: the host kernel is too old "
				 "(update it)",
				 required_caps[i].name);
			ret = -ENOTSUP;
			goto fail;
		}
	}
	vm->max_vcpus = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPUS);
	if (vm->max_vcpus <= 0)
		vm->max_vcpus = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_NR_VCPUS);
	if (vm->max_vcpus <= 0)
		vm->max_vcpus = 4;
	if (vm->max_vcpus > MAX_VCPUS)
		vm->max_vcpus = MAX_VCPUS;
	if (nr_vcpus < 1 || nr_vcpus > (unsigned int)vm->max_vcpus) {
		snprintf(why, whylen, "--cpus %u is out of range: KVM allows 1 to %d here",
			 nr_vcpus, vm->max_vcpus);
		ret = -ERANGE;
		goto fail;
	}
	vm->nr_vcpus = nr_vcpus;
	/* The local APIC is KVM's (KVM_CREATE_IRQCHIP below): its TSC
	 * deadline mode is there whenever KVM says so. */
	vm->tsc_deadline = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_TSC_DEADLINE_TIMER) > 0;

	vm->vcpu_mmap_size = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (vm->vcpu_mmap_size < (int)sizeof(struct kvm_run)) {
		snprintf(why, whylen, "KVM_GET_VCPU_MMAP_SIZE failed: %s", strerror(errno));
		ret = -ENOTSUP;
		goto fail;
	}

	vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
	if (vm->vm_fd < 0) {
		ret = -errno;
		snprintf(why, whylen, "KVM_CREATE_VM failed: %s", strerror(-ret));
		goto fail;
	}
	if (ioctl(vm->vm_fd, KVM_SET_TSS_ADDR, (unsigned long)KVM_TSS_ADDR) < 0) {
		ret = -errno;
		snprintf(why, whylen, "KVM_SET_TSS_ADDR failed: %s", strerror(-ret));
		goto fail;
	}
	uint64_t idmap = KVM_IDMAP_ADDR;
	if (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_SET_IDENTITY_MAP_ADDR) > 0 &&
	    ioctl(vm->vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &idmap) < 0) {
		ret = -errno;
		snprintf(why, whylen, "KVM_SET_IDENTITY_MAP_ADDR failed: %s", strerror(-ret));
		goto fail;
	}
	if (ioctl(vm->vm_fd, KVM_CREATE_IRQCHIP, 0) < 0) {
		ret = -errno;
		snprintf(why, whylen, "KVM_CREATE_IRQCHIP failed: %s", strerror(-ret));
		goto fail;
	}
	vm->next_gsi = 24;
	ret = vm_update_routing(vm);
	if (ret) {
		snprintf(why, whylen, "KVM_SET_GSI_ROUTING failed: %s", strerror(-ret));
		goto fail;
	}

	/* RAM: [0, min(size, hole)) low, the rest from 4 GiB up. */
	vm->ram_size = ram_size;
	vm->low_size = ram_size < MEM_HOLE_START ? ram_size : MEM_HOLE_START;
	vm->high_size = ram_size - vm->low_size;
	ret = gmem_map_ram(vm->low_size, &vm->ram_low);
	if (!ret && vm->high_size)
		ret = gmem_map_ram(vm->high_size, &vm->ram_high);
	if (ret) {
		snprintf(why, whylen, "cannot allocate %llu MiB of guest RAM: %s",
			 (unsigned long long)(ram_size >> 20), strerror(-ret));
		goto fail;
	}
	ret = set_slot(vm, 0, 0, vm->low_size, vm->ram_low);
	if (!ret && vm->high_size)
		ret = set_slot(vm, 1, MEM_4G, vm->high_size, vm->ram_high);
	if (ret) {
		snprintf(why, whylen, "KVM_SET_USER_MEMORY_REGION failed: %s", strerror(-ret));
		goto fail;
	}
	ret = gmem_add(&vm->gmem, 0, vm->low_size, vm->ram_low);
	if (!ret && vm->high_size)
		ret = gmem_add(&vm->gmem, MEM_4G, vm->high_size, vm->ram_high);
	if (ret) {
		snprintf(why, whylen, "guest memory map: %s", strerror(-ret));
		goto fail;
	}
	return 0;
fail:
	vm_destroy(vm);
	return ret < 0 ? ret : -EINVAL;
}

void vm_destroy(struct vm *vm)
{
	for (unsigned int i = 0; i < vm->nr_vcpus; i++) {
		struct vcpu *v = &vm->vcpus[i];
		if (v->run)
			munmap(v->run, (size_t)vm->vcpu_mmap_size);
		if (v->fd > 0)
			close(v->fd);
		v->run = NULL;
		v->fd = -1;
	}
	free(vm->cpuid);
	vm->cpuid = NULL;
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);
	if (vm->kvm_fd >= 0)
		close(vm->kvm_fd);
	vm->vm_fd = vm->kvm_fd = -1;
	gmem_unmap_ram(vm->ram_low, vm->low_size);
	gmem_unmap_ram(vm->ram_high, vm->high_size);
	vm->ram_low = vm->ram_high = NULL;
	bus_fini(&vm->pio);
	bus_fini(&vm->mmio);
}

static void kvm_irq_set_level(struct irq_line *line, bool level)
{
	struct kvm_irq *irq = container_of(line, struct kvm_irq, line);
	struct kvm_irq_level l = {.irq = irq->gsi, .level = level};

	if (ioctl(irq->vm->vm_fd, KVM_IRQ_LINE, &l) < 0)
		log_ratelimited(LOG_WARN, "KVM_IRQ_LINE gsi %u failed: %s", irq->gsi,
				strerror(errno));
}

void kvm_irq_init(struct kvm_irq *irq, struct vm *vm, unsigned int gsi)
{
	irq->line.set_level = kvm_irq_set_level;
	irq->vm = vm;
	irq->gsi = gsi;
}

void vm_request_stop(struct vm *vm, enum vm_stop_reason reason, int status, const char *detail)
{
	pthread_mutex_lock(&vm->stop_lock);
	if (vm->stop_reason == VM_STOP_NONE) {
		vm->stop_reason = reason;
		vm->stop_status = status;
		snprintf(vm->stop_detail, sizeof(vm->stop_detail), "%s", detail ? detail : "");
		atomic_store(&vm->stopping, 1);
		pthread_cond_broadcast(&vm->stop_cond);
	}
	pthread_mutex_unlock(&vm->stop_lock);
	/* Parked vCPUs (and a vm_pause() waiting for them) see the stop. */
	pthread_mutex_lock(&vm->pause_lock);
	pthread_cond_broadcast(&vm->pause_cond);
	pthread_mutex_unlock(&vm->pause_lock);
}

enum vm_stop_reason vm_wait_stop(struct vm *vm)
{
	pthread_mutex_lock(&vm->stop_lock);
	while (vm->stop_reason == VM_STOP_NONE)
		pthread_cond_wait(&vm->stop_cond, &vm->stop_lock);
	enum vm_stop_reason r = vm->stop_reason;
	pthread_mutex_unlock(&vm->stop_lock);
	return r;
}
