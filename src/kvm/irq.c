// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include "hostel/log.h"
#include "kvm/irq.h"

/*
 * The PC's static routes, as on a PC with KVM's PIC and IOAPIC: GSIs 0-15
 * go to the PIC (except the cascade, 2) and to the same IOAPIC pin, except
 * that the PIT's GSI 0 goes to IOAPIC pin 2, as the MADT's interrupt source
 * override says. GSIs 16-23 go to the IOAPIC only. Then every routed MSI.
 * KVM_SET_GSI_ROUTING replaces the whole table, so it is rebuilt each time.
 */
static int update_routing_locked(struct vm *vm)
{
	unsigned int max = 64 + KVM_MAX_MSI_DEVICES * KVM_MSI_MAX_VECTORS;
	struct kvm_irq_routing *rt = calloc(1, sizeof(*rt) + max * sizeof(rt->entries[0]));
	unsigned int n = 0;
	int ret = 0;

	if (!rt)
		return -ENOMEM;
	for (unsigned int gsi = 0; gsi < 16; gsi++) {
		if (gsi == 2)
			continue;
		rt->entries[n].gsi = gsi;
		rt->entries[n].type = KVM_IRQ_ROUTING_IRQCHIP;
		rt->entries[n].u.irqchip.irqchip =
			gsi < 8 ? KVM_IRQCHIP_PIC_MASTER : KVM_IRQCHIP_PIC_SLAVE;
		rt->entries[n].u.irqchip.pin = gsi % 8;
		n++;
	}
	for (unsigned int gsi = 0; gsi < 24; gsi++) {
		if (gsi == 2)
			continue;
		rt->entries[n].gsi = gsi;
		rt->entries[n].type = KVM_IRQ_ROUTING_IRQCHIP;
		rt->entries[n].u.irqchip.irqchip = KVM_IRQCHIP_IOAPIC;
		rt->entries[n].u.irqchip.pin = gsi == 0 ? 2 : gsi;
		n++;
	}
	for (unsigned int i = 0; i < vm->nr_msi; i++) {
		struct hostel_msi *m = vm->msi[i];
		for (unsigned int v = 0; v < m->nr && n < max; v++) {
			if (!m->v[v].routed)
				continue;
			rt->entries[n].gsi = m->v[v].gsi;
			rt->entries[n].type = KVM_IRQ_ROUTING_MSI;
			rt->entries[n].u.msi.address_lo = (uint32_t)m->v[v].addr;
			rt->entries[n].u.msi.address_hi = (uint32_t)(m->v[v].addr >> 32);
			rt->entries[n].u.msi.data = m->v[v].data;
			n++;
		}
	}
	rt->nr = n;
	if (ioctl(vm->vm_fd, KVM_SET_GSI_ROUTING, rt) < 0)
		ret = -errno;
	free(rt);
	return ret;
}

int vm_update_routing(struct vm *vm)
{
	pthread_mutex_lock(&vm->route_lock);
	int ret = update_routing_locked(vm);
	pthread_mutex_unlock(&vm->route_lock);
	return ret;
}

static int set_irqfd(struct vm *vm, int fd, unsigned int gsi, bool assign)
{
	struct kvm_irqfd irqfd = {
		.fd = (uint32_t)fd,
		.gsi = gsi,
		.flags = assign ? 0 : KVM_IRQFD_FLAG_DEASSIGN,
	};
	return ioctl(vm->vm_fd, KVM_IRQFD, &irqfd) < 0 ? -errno : 0;
}

/*
 * The guest (re)programmed a vector. Masked vectors keep no route; the
 * irqfd stays bound to its GSI for the device's life, and KVM injects
 * through whatever route the GSI has now.
 */
static int msi_route(struct msi_ctl *c, unsigned int vec, uint64_t addr, uint32_t data, bool masked)
{
	struct hostel_msi *m = container_of(c, struct hostel_msi, ctl);
	if (vec >= m->nr)
		return -EINVAL;
	pthread_mutex_lock(&m->vm->route_lock);
	m->v[vec].addr = addr;
	m->v[vec].data = data;
	m->v[vec].routed = !masked;
	int ret = update_routing_locked(m->vm);
	pthread_mutex_unlock(&m->vm->route_lock);
	if (ret)
		log_ratelimited(LOG_WARN, "KVM_SET_GSI_ROUTING for an MSI failed: %s",
				strerror(-ret));
	return ret;
}

static void msi_fire(struct msi_ctl *c, unsigned int vec)
{
	struct hostel_msi *m = container_of(c, struct hostel_msi, ctl);
	uint64_t one = 1;
	if (vec >= m->nr)
		return;
	if (write(m->v[vec].fd, &one, sizeof(one)) != sizeof(one))
		log_ratelimited(LOG_WARN, "irqfd write failed: %s", strerror(errno));
}

static const struct msi_ops kvm_msi_ops = {
	.route = msi_route,
	.fire = msi_fire,
};

int kvm_msi_init(struct hostel_msi *m, struct vm *vm, unsigned int nr)
{
	int ret = 0;

	memset(m, 0, sizeof(*m));
	m->ctl.ops = &kvm_msi_ops;
	m->vm = vm;
	if (nr > KVM_MSI_MAX_VECTORS)
		return -E2BIG;
	pthread_mutex_lock(&vm->route_lock);
	if (vm->nr_msi >= ARRAY_SIZE(vm->msi)) {
		pthread_mutex_unlock(&vm->route_lock);
		return -ENOSPC;
	}
	for (unsigned int i = 0; i < nr; i++) {
		m->v[i].fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		m->v[i].gsi = vm->next_gsi++;
		if (m->v[i].fd < 0) {
			ret = -errno;
			break;
		}
		m->nr = i + 1;
		ret = set_irqfd(vm, m->v[i].fd, m->v[i].gsi, true);
		if (ret)
			break;
	}
	if (!ret)
		vm->msi[vm->nr_msi++] = m;
	pthread_mutex_unlock(&vm->route_lock);
	if (ret)
		kvm_msi_fini(m);
	return ret;
}

void kvm_msi_fini(struct hostel_msi *m)
{
	struct vm *vm = m->vm;
	if (!vm)
		return;
	pthread_mutex_lock(&vm->route_lock);
	for (unsigned int i = 0; i < vm->nr_msi; i++) {
		if (vm->msi[i] == m) {
			vm->msi[i] = vm->msi[--vm->nr_msi];
			break;
		}
	}
	pthread_mutex_unlock(&vm->route_lock);
	for (unsigned int i = 0; i < m->nr; i++) {
		if (m->v[i].fd >= 0) {
			set_irqfd(vm, m->v[i].fd, m->v[i].gsi, false);
			close(m->v[i].fd);
		}
	}
	m->nr = 0;
	m->vm = NULL;
}

static int ioev_set(struct kvm_ioevent *io, uint64_t addr, unsigned int len, bool use_match,
		    uint64_t match, int fd, bool assign)
{
	struct kvm_ioeventfd e = {
		.datamatch = match,
		.addr = addr,
		.len = len,
		.fd = fd,
		.flags = (use_match ? KVM_IOEVENTFD_FLAG_DATAMATCH : 0) |
			 (assign ? 0 : KVM_IOEVENTFD_FLAG_DEASSIGN),
	};
	return ioctl(io->vm->vm_fd, KVM_IOEVENTFD, &e) < 0 ? -errno : 0;
}

static int ioev_add(struct ioevent_ctl *c, uint64_t addr, unsigned int len, bool use_match,
		    uint64_t match, int fd)
{
	return ioev_set(container_of(c, struct kvm_ioevent, ctl), addr, len, use_match, match, fd,
			true);
}

static void ioev_del(struct ioevent_ctl *c, uint64_t addr, unsigned int len, bool use_match,
		     uint64_t match, int fd)
{
	int ret = ioev_set(container_of(c, struct kvm_ioevent, ctl), addr, len, use_match, match,
			   fd, false);
	if (ret)
		log_debug("KVM_IOEVENTFD deassign at 0x%llx: %s", (unsigned long long)addr,
			  strerror(-ret));
}

static const struct ioevent_ops kvm_ioevent_ops = {
	.add = ioev_add,
	.del = ioev_del,
};

void kvm_ioevent_init(struct kvm_ioevent *io, struct vm *vm)
{
	io->ctl.ops = &kvm_ioevent_ops;
	io->vm = vm;
}
