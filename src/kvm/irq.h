/* SPDX-License-Identifier: MIT */
/*
 * KVM interrupt plumbing for PCI devices: MSI routes in the GSI routing
 * table with one irqfd per vector (an interrupt is an eventfd write; the
 * guest gets it with no exit), and ioeventfds for doorbells.
 */
#ifndef HOSTEL_KVM_IRQ_H
#define HOSTEL_KVM_IRQ_H

#include "hostel/compiler.h"
#include "hostel/ioevent.h"
#include "hostel/msi.h"
#include "kvm/kvm.h"

#define KVM_MSI_MAX_VECTORS 64 /* per device */

struct hostel_msi {
	struct msi_ctl ctl;
	struct vm *vm;
	unsigned int nr;
	struct hostel_msi_vec {
		int fd; /* irqfd */
		unsigned int gsi;
		bool routed; /* route installed and irqfd bound */
		uint64_t addr;
		uint32_t data;
	} v[KVM_MSI_MAX_VECTORS];
};

/* An msi_ctl for one device with @nr vectors (GSIs allocated from the VM). */
int kvm_msi_init(struct hostel_msi *m, struct vm *vm, unsigned int nr) __must_check;
void kvm_msi_fini(struct hostel_msi *m);

struct kvm_ioevent {
	struct ioevent_ctl ctl;
	struct vm *vm;
};

void kvm_ioevent_init(struct kvm_ioevent *io, struct vm *vm);

/* (Re)install the VM's whole GSI routing table: the PC's static routes plus
 * every routed MSI vector. */
int vm_update_routing(struct vm *vm) __must_check;

#endif
