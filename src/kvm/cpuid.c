// SPDX-License-Identifier: MIT
/* Per-vCPU CPUID (see cpuid.h). */
#include <stdint.h>
#include <string.h>
#include "kvm/cpuid.h"

void cpuid_patch(struct kvm_cpuid2 *c, const struct cpuid_vcpu *v)
{
	unsigned int count = v->nr_vcpus > 255 ? 255 : v->nr_vcpus;

	for (uint32_t i = 0; i < c->nent; i++) {
		struct kvm_cpuid_entry2 *e = &c->entries[i];
		switch (e->function) {
		case 1:
			e->ecx |= CPUID_1_ECX_HYPERVISOR;
			if (v->tsc_deadline)
				e->ecx |= CPUID_1_ECX_TSC_DEADLINE;
			else
				e->ecx &= ~CPUID_1_ECX_TSC_DEADLINE;
			e->ebx = (e->ebx & 0x0000ffffu) | ((v->id & 0xffu) << 24) | (count << 16);
			if (v->nr_vcpus > 1)
				e->edx |= CPUID_1_EDX_HTT; /* the logical-count field is valid */
			break;
		case 0xb:
		case 0x1f:
			e->edx = v->id;
			break;
		case KVM_CPUID_SIG:
			e->eax = KVM_CPUID_FEAT;
			memcpy(&e->ebx, "KVMK", 4);
			memcpy(&e->ecx, "VMKV", 4);
			memcpy(&e->edx, "M\0\0\0", 4);
			break;
		default:
			break;
		}
	}
}
