// SPDX-License-Identifier: MIT
/* vCPUs: creation, CPUID, boot registers, the run loop and exit dispatch. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include "boot/boot.h"
#include "hostel/log.h"
#include "kvm/cpuid.h"
#include "kvm/kvm.h"

#define VCPU_KICK_SIGNAL SIGUSR1

static int get_supported_cpuid(struct vm *vm)
{
	for (int nent = 128; nent <= 4096; nent *= 2) {
		struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + (size_t)nent * sizeof(c->entries[0]));
		if (!c)
			return -ENOMEM;
		c->nent = (uint32_t)nent;
		if (ioctl(vm->kvm_fd, KVM_GET_SUPPORTED_CPUID, c) == 0) {
			vm->cpuid = c;
			return 0;
		}
		int err = errno;
		free(c);
		if (err != E2BIG)
			return -err;
	}
	return -E2BIG;
}

/* Per-vCPU CPUID: the supported table, patched (src/kvm/cpuid.c). */
static int vcpu_set_cpuid(struct vcpu *v)
{
	const struct kvm_cpuid2 *src = v->vm->cpuid;
	size_t sz = sizeof(*src) + src->nent * sizeof(src->entries[0]);
	struct kvm_cpuid2 *c = malloc(sz);
	int ret = 0;

	if (!c)
		return -ENOMEM;
	memcpy(c, src, sz);
	cpuid_patch(c, &(struct cpuid_vcpu){.id = v->id,
					    .nr_vcpus = v->vm->nr_vcpus,
					    .tsc_deadline = v->vm->tsc_deadline});
	if (ioctl(v->fd, KVM_SET_CPUID2, c) < 0)
		ret = -errno;
	free(c);
	return ret;
}

int vcpus_create(struct vm *vm, char *why, size_t whylen)
{
	int ret = get_supported_cpuid(vm);
	if (ret) {
		snprintf(why, whylen, "KVM_GET_SUPPORTED_CPUID failed: %s", strerror(-ret));
		return ret;
	}
	for (unsigned int i = 0; i < vm->nr_vcpus; i++) {
		struct vcpu *v = &vm->vcpus[i];
		v->vm = vm;
		v->id = i;
		v->fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, (unsigned long)i);
		if (v->fd < 0) {
			ret = -errno;
			snprintf(why, whylen, "KVM_CREATE_VCPU %u failed: %s", i, strerror(-ret));
			return ret;
		}
		v->run = mmap(NULL, (size_t)vm->vcpu_mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED,
			      v->fd, 0);
		if (v->run == MAP_FAILED) {
			v->run = NULL;
			ret = -errno;
			snprintf(why, whylen, "mmap of vCPU %u failed: %s", i, strerror(-ret));
			return ret;
		}
		ret = vcpu_set_cpuid(v);
		if (ret) {
			snprintf(why, whylen, "KVM_SET_CPUID2 failed: %s", strerror(-ret));
			return ret;
		}
	}
	return 0;
}

static void flat_seg(struct kvm_segment *s, uint16_t sel, uint8_t type)
{
	memset(s, 0, sizeof(*s));
	s->base = 0;
	s->limit = 0xffffffff;
	s->selector = sel;
	s->type = type;
	s->present = 1;
	s->dpl = 0;
	s->db = 1;
	s->s = 1;
	s->g = 1;
}

/*
 * The 32-bit boot protocol entry: flat segments, paging off, %esi = zero
 * page. Or the 64-bit one: long mode with the loader's identity map, a
 * 64-bit code segment, %rsi = zero page.
 */
int vcpu_setup_boot(struct vcpu *v, const struct boot_entry *e)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs;

	if (ioctl(v->fd, KVM_GET_SREGS, &sregs) < 0)
		return -errno;
	flat_seg(&sregs.cs, 0x10, 0xb); /* execute/read, accessed */
	flat_seg(&sregs.ds, 0x18, 0x3); /* read/write, accessed */
	sregs.es = sregs.fs = sregs.gs = sregs.ss = sregs.ds;
	sregs.gdt.base = e->gdt_base;
	sregs.gdt.limit = e->gdt_limit;
	sregs.idt.base = 0;
	sregs.idt.limit = 0;
	sregs.cr0 = 0x11; /* PE | ET */
	sregs.cr4 = 0;
	sregs.efer = 0;
	if (e->long_mode) {
		sregs.cs.l = 1;
		sregs.cs.db = 0;
		sregs.cr3 = e->cr3;
		sregs.cr4 = 0x20;	/* PAE */
		sregs.cr0 = 0x80000011; /* PG | PE | ET */
		sregs.efer = 0x500;	/* LME | LMA */
	}
	if (ioctl(v->fd, KVM_SET_SREGS, &sregs) < 0)
		return -errno;

	memset(&regs, 0, sizeof(regs));
	regs.rflags = 0x2;
	regs.rip = e->long_mode ? e->rip : e->entry_eip;
	regs.rsi = e->esi;
	regs.rsp = e->esp;
	if (ioctl(v->fd, KVM_SET_REGS, &regs) < 0)
		return -errno;
	return 0;
}

enum vm_stop_reason vcpu_dispatch_exit(struct kvm_run *run, struct bus *pio, struct bus *mmio,
				       struct vcpu_stats *st)
{
	st->exits++;
	switch (run->exit_reason) {
	case KVM_EXIT_IO: {
		/*
		 * String I/O (rep ins/outs) arrives as count > 1 items of @size
		 * bytes at one fixed port. KVM checked data_offset itself, but it
		 * is still bounded here: the page is ours, the values KVM's.
		 */
		st->io++;
		uint8_t *data = (uint8_t *)run + run->io.data_offset;
		unsigned size = run->io.size;
		for (uint32_t i = 0; i < run->io.count; i++) {
			if (run->io.direction == KVM_EXIT_IO_OUT)
				bus_write(pio, run->io.port, data + (size_t)i * size, size);
			else
				bus_read(pio, run->io.port, data + (size_t)i * size, size);
		}
		return VM_STOP_NONE;
	}
	case KVM_EXIT_MMIO:
		st->mmio++;
		if (run->mmio.len > 8) {
			if (!run->mmio.is_write)
				memset(run->mmio.data, 0xff, sizeof(run->mmio.data));
			return VM_STOP_NONE;
		}
		if (run->mmio.is_write)
			bus_write(mmio, run->mmio.phys_addr, run->mmio.data, run->mmio.len);
		else
			bus_read(mmio, run->mmio.phys_addr, run->mmio.data, run->mmio.len);
		return VM_STOP_NONE;
	case KVM_EXIT_HLT:
		/* With the in-kernel LAPIC, HLT is handled in the kernel; a
		 * stray one (no irqchip) means the CPU stopped for good. */
		st->hlt++;
		return VM_STOP_CPU_FAIL;
	case KVM_EXIT_INTR:
		st->intr++;
		return VM_STOP_NONE;
	case KVM_EXIT_SHUTDOWN:
	case KVM_EXIT_FAIL_ENTRY:
	case KVM_EXIT_INTERNAL_ERROR:
		return VM_STOP_CPU_FAIL;
	case KVM_EXIT_SYSTEM_EVENT:
		if (run->system_event.type == KVM_SYSTEM_EVENT_RESET)
			return VM_STOP_RESET;
		return VM_STOP_POWEROFF;
	default:
		st->unknown++;
		return VM_STOP_CPU_FAIL;
	}
}

static const char *exit_name(uint32_t r)
{
	switch (r) {
	case KVM_EXIT_SHUTDOWN:
		return "triple fault (KVM_EXIT_SHUTDOWN)";
	case KVM_EXIT_FAIL_ENTRY:
		return "VM entry failed (KVM_EXIT_FAIL_ENTRY)";
	case KVM_EXIT_INTERNAL_ERROR:
		return "KVM internal error (KVM_EXIT_INTERNAL_ERROR)";
	case KVM_EXIT_HLT:
		return "CPU halted with no interrupt controller (KVM_EXIT_HLT)";
	default:
		return "unexpected exit";
	}
}

void vcpu_dump_regs(struct vcpu *v)
{
	struct kvm_regs r;
	struct kvm_sregs s;

	if (ioctl(v->fd, KVM_GET_REGS, &r) < 0 || ioctl(v->fd, KVM_GET_SREGS, &s) < 0) {
		log_debug("vCPU %u: cannot read registers: %s", v->id, strerror(errno));
		return;
	}
	log_debug("vCPU %u registers:", v->id);
	log_debug(" rip=%016llx rsp=%016llx rflags=%016llx", r.rip, r.rsp, r.rflags);
	log_debug(" rax=%016llx rbx=%016llx rcx=%016llx rdx=%016llx", r.rax, r.rbx, r.rcx, r.rdx);
	log_debug(" rsi=%016llx rdi=%016llx rbp=%016llx", r.rsi, r.rdi, r.rbp);
	log_debug(" r8=%016llx r9=%016llx r10=%016llx r11=%016llx", r.r8, r.r9, r.r10, r.r11);
	log_debug(" r12=%016llx r13=%016llx r14=%016llx r15=%016llx", r.r12, r.r13, r.r14, r.r15);
	log_debug(" cs=%04x/%016llx ss=%04x ds=%04x cr0=%016llx cr2=%016llx cr3=%016llx "
		  "cr4=%016llx efer=%llx",
		  s.cs.selector, s.cs.base, s.ss.selector, s.ds.selector, s.cr0, s.cr2, s.cr3,
		  s.cr4, s.efer);
}

static void kick_handler(int sig)
{
	(void)sig;
}

/*
 * Wait outside KVM_RUN until resumed or stopped. KVM keeps the vCPU's
 * state; a pending exit was completed by the KVM_RUN that returned EINTR.
 */
static void vcpu_park(struct vcpu *v)
{
	struct vm *vm = v->vm;
	pthread_mutex_lock(&vm->pause_lock);
	vm->parked++;
	pthread_cond_broadcast(&vm->pause_cond);
	while (atomic_load(&vm->paused) && !atomic_load(&vm->stopping))
		pthread_cond_wait(&vm->pause_cond, &vm->pause_lock);
	vm->parked--;
	pthread_mutex_unlock(&vm->pause_lock);
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *v = arg;
	struct vm *vm = v->vm;
	char name[16];
	sigset_t set;

	snprintf(name, sizeof(name), "vcpu%u", v->id);
	pthread_setname_np(pthread_self(), name);
	/* Only the kick signal is delivered here; the event loop owns the rest. */
	sigemptyset(&set);
	sigaddset(&set, VCPU_KICK_SIGNAL);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);

	while (!atomic_load(&vm->stopping)) {
		if (atomic_load(&vm->paused)) {
			vcpu_park(v);
			continue;
		}
		if (ioctl(v->fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN) {
				v->run->immediate_exit = 0;
				continue;
			}
			char d[128];
			snprintf(d, sizeof(d), "KVM_RUN on vCPU %u failed: %s", v->id,
				 strerror(errno));
			vm_request_stop(vm, VM_STOP_HOST_ERR, 0, d);
			break;
		}
		uint32_t why = v->run->exit_reason;
		enum vm_stop_reason r = vcpu_dispatch_exit(v->run, &vm->pio, &vm->mmio, &v->stats);
		if (r == VM_STOP_NONE)
			continue;
		if (r == VM_STOP_CPU_FAIL) {
			char d[160];
			if (why == KVM_EXIT_FAIL_ENTRY)
				snprintf(d, sizeof(d), "vCPU %u: %s, hardware reason 0x%llx", v->id,
					 exit_name(why),
					 (unsigned long long)
						 v->run->fail_entry.hardware_entry_failure_reason);
			else if (why == KVM_EXIT_INTERNAL_ERROR)
				snprintf(d, sizeof(d), "vCPU %u: %s, suberror %u", v->id,
					 exit_name(why), v->run->internal.suberror);
			else
				snprintf(d, sizeof(d), "vCPU %u: %s (exit %u)", v->id,
					 exit_name(why), why);
			vcpu_dump_regs(v);
			vm_request_stop(vm, r, 0, d);
		} else {
			vm_request_stop(vm, r, 0,
					r == VM_STOP_RESET ? "guest reset" : "guest power-off");
		}
		break;
	}
	return NULL;
}

int vcpus_start(struct vm *vm)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = kick_handler; /* no SA_RESTART: KVM_RUN must return EINTR */
	sigaction(VCPU_KICK_SIGNAL, &sa, NULL);

	for (unsigned int i = 0; i < vm->nr_vcpus; i++) {
		struct vcpu *v = &vm->vcpus[i];
		int ret = pthread_create(&v->thread, NULL, vcpu_thread, v);
		if (ret)
			return -ret;
		v->started = true;
	}
	return 0;
}

static unsigned int vcpus_running(const struct vm *vm)
{
	unsigned int n = 0;
	for (unsigned int i = 0; i < vm->nr_vcpus; i++)
		n += vm->vcpus[i].started;
	return n;
}

static void vcpus_kick(struct vm *vm)
{
	for (unsigned int i = 0; i < vm->nr_vcpus; i++) {
		struct vcpu *v = &vm->vcpus[i];
		if (!v->started)
			continue;
		/* immediate_exit closes the race with a kick that lands just
		 * before KVM_RUN is entered (Documentation/virt/kvm/api.rst). */
		v->run->immediate_exit = 1;
		pthread_kill(v->thread, VCPU_KICK_SIGNAL);
	}
}

void vm_pause(struct vm *vm)
{
	pthread_mutex_lock(&vm->pause_lock);
	if (atomic_load(&vm->paused)) {
		pthread_mutex_unlock(&vm->pause_lock);
		return;
	}
	/* paused before the kick: a vCPU that clears immediate_exit after an
	 * EINTR checks paused next and parks. */
	atomic_store(&vm->paused, 1);
	vcpus_kick(vm);
	unsigned int n = vcpus_running(vm);
	while (vm->parked < n && !atomic_load(&vm->stopping))
		pthread_cond_wait(&vm->pause_cond, &vm->pause_lock);
	/* As QEMU does on stop: hold kvmclock, so the guest's time does not
	 * jump by the pause's length when it resumes. */
	memset(&vm->paused_clock, 0, sizeof(vm->paused_clock));
	vm->clock_held = ioctl(vm->vm_fd, KVM_GET_CLOCK, &vm->paused_clock) == 0;
	if (!vm->clock_held)
		log_debug("pause: KVM_GET_CLOCK: %s; the guest's clock runs on", strerror(errno));
	pthread_mutex_unlock(&vm->pause_lock);
}

void vm_resume(struct vm *vm)
{
	pthread_mutex_lock(&vm->pause_lock);
	if (atomic_load(&vm->paused) && vm->clock_held) {
		struct kvm_clock_data cd = {.clock = vm->paused_clock.clock};
		if (ioctl(vm->vm_fd, KVM_SET_CLOCK, &cd) < 0)
			log_debug("resume: KVM_SET_CLOCK: %s", strerror(errno));
		vm->clock_held = false;
	}
	atomic_store(&vm->paused, 0);
	pthread_cond_broadcast(&vm->pause_cond);
	pthread_mutex_unlock(&vm->pause_lock);
}

void vcpus_stop(struct vm *vm)
{
	atomic_store(&vm->stopping, 1);
	pthread_mutex_lock(&vm->pause_lock);
	pthread_cond_broadcast(&vm->pause_cond); /* parked vCPUs see the stop */
	pthread_mutex_unlock(&vm->pause_lock);
	vcpus_kick(vm);
	for (unsigned int i = 0; i < vm->nr_vcpus; i++) {
		struct vcpu *v = &vm->vcpus[i];
		if (!v->started)
			continue;
		pthread_join(v->thread, NULL);
		v->started = false;
	}
}
