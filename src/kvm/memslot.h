/* SPDX-License-Identifier: MIT */
/*
 * The memslot_ctl of include/hostel/memslot.h over KVM memory slots: a
 * device's host memory mapped at a guest address with
 * KVM_SET_USER_MEMORY_REGION (optionally KVM_MEM_LOG_DIRTY_PAGES), its
 * written pages read with KVM_GET_DIRTY_LOG. One per VM: it hands out the
 * slot numbers after the RAM's (kvm.c uses 0 and 1).
 */
#ifndef HOSTEL_KVM_MEMSLOT_H
#define HOSTEL_KVM_MEMSLOT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include "hostel/memslot.h"
#include "kvm/kvm.h"

#define KVM_MEMSLOT_FIRST 2 /* slots 0 and 1 hold RAM (kvm.c) */
#define KVM_MEMSLOT_MAX	  8 /* device slots; KVM offers at least 32 in all */

struct kvm_memslots {
	struct memslot_ctl ctl;
	struct vm *vm;
	pthread_mutex_t lock;
	struct kvm_memslot {
		bool used;
		uint64_t gpa, size;
	} s[KVM_MEMSLOT_MAX];
};

void kvm_memslots_init(struct kvm_memslots *m, struct vm *vm);
/* Removes every slot still mapped. Call with the vCPUs stopped. */
void kvm_memslots_fini(struct kvm_memslots *m);

#endif
