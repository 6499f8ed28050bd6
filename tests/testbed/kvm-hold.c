// SPDX-License-Identifier: MIT
/*
 * kvm-hold: started by the test bed's init, holds one idle KVM VM open for
 * the bed's whole life, so that the outer kernel never rewrites its own
 * code when the tests' VMs come and go.
 *
 * Why: KVM flips static keys on its first VM and vCPU and back after the
 * last (preempt_notifier_key, used in __schedule; the local APIC's
 * apic_hw_disabled and apic_sw_disabled). Each flip is live code patching
 * with int3 (text_poke_bp). Under QEMU/TCG with several vCPUs, the outer
 * kernel was seen stuck for good in that patching: both CPUs looping in
 * exc_int3 with interrupts off, one of them in __schedule, the bed frozen
 * until its time limit. A VM held open keeps those keys' counts above
 * zero, so the tests' VMs only move counts and no code changes.
 *
 * The VM has an in-kernel irqchip and one vCPU that never runs, its local
 * APIC disabled in APIC_BASE (holding apic_hw_disabled) and never enabled
 * by software (holding apic_sw_disabled). It costs a few pages and no CPU.
 *
 * Exit status: only on failure, 1, with one line on stderr; otherwise it
 * sleeps until killed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/kvm.h>

#define MSR_IA32_APICBASE 0x1b
#define APIC_DEFAULT_BASE 0xfee00000u
#define APICBASE_BSP	  (1u << 8)

static int fail(const char *what)
{
	fprintf(stderr, "kvm-hold: %s: %s\n", what, strerror(errno));
	return 1;
}

int main(void)
{
	int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0)
		return fail("/dev/kvm");
	int vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0)
		return fail("KVM_CREATE_VM");
	if (ioctl(vm, KVM_CREATE_IRQCHIP, 0) < 0)
		return fail("KVM_CREATE_IRQCHIP");
	int vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	if (vcpu < 0)
		return fail("KVM_CREATE_VCPU");
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry e;
	} msrs = {
		.hdr.nmsrs = 1,
		.e = {.index = MSR_IA32_APICBASE, .data = APIC_DEFAULT_BASE | APICBASE_BSP},
	};
	if (ioctl(vcpu, KVM_SET_MSRS, &msrs) != 1)
		return fail("KVM_SET_MSRS (APIC_BASE, disabled)");
	for (;;)
		pause();
}
