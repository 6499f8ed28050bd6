/* SPDX-License-Identifier: MIT */
/*
 * The CPUID a vCPU gets: KVM_GET_SUPPORTED_CPUID's table, patched per vCPU.
 * Apart from the ioctls (src/kvm/vcpu.c) so that the unit tests check it.
 */
#ifndef HOSTEL_KVM_CPUID_H
#define HOSTEL_KVM_CPUID_H

#include <stdbool.h>
#include <linux/kvm.h>

/* KVM paravirtual CPUID leaves (Documentation/virt/kvm/x86/cpuid.rst). */
#define KVM_CPUID_SIG  0x40000000
#define KVM_CPUID_FEAT 0x40000001

#define CPUID_1_ECX_X2APIC	 (1u << 21)
#define CPUID_1_ECX_TSC_DEADLINE (1u << 24)
#define CPUID_1_ECX_HYPERVISOR	 (1u << 31)
#define CPUID_1_EDX_HTT		 (1u << 28)

struct cpuid_vcpu {
	unsigned int id;       /* the vCPU index: its APIC ID */
	unsigned int nr_vcpus; /* in the VM */
	/* KVM_CAP_TSC_DEADLINE_TIMER: KVM's local APIC emulates the TSC
	 * deadline mode, which KVM_GET_SUPPORTED_CPUID did not report before
	 * Linux 6.14 (userspace sets the bit itself, as the API says). */
	bool tsc_deadline;
};

/*
 * Patch @c (a copy of the supported table) for one vCPU, in place: the
 * hypervisor bit and KVM's signature so Linux uses kvm-clock and the PV
 * features KVM reports; the TSC deadline timer when KVM emulates it; the
 * initial APIC ID and logical count in leaf 1 and the x2APIC ID in leaves
 * 0xb/0x1f equal to the vCPU index, the APIC ID the MADT lists.
 */
void cpuid_patch(struct kvm_cpuid2 *c, const struct cpuid_vcpu *v);

#endif
