// SPDX-License-Identifier: MIT
/*
 * Device memory slots (memslot.h). KVM API: Documentation/virt/kvm/api.rst,
 * 4.35 KVM_SET_USER_MEMORY_REGION and 4.8 KVM_GET_DIRTY_LOG. Without
 * KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2 enabled, KVM_GET_DIRTY_LOG returns and
 * clears the log in one call and write-protects the pages again, so an
 * idle framebuffer costs one ioctl per refresh and no faults.
 */
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>
#include "hostel/compiler.h"
#include "hostel/log.h"
#include "kvm/memslot.h"

static struct kvm_memslots *to_slots(struct memslot_ctl *c)
{
	return container_of(c, struct kvm_memslots, ctl);
}

static int set_region(struct vm *vm, unsigned int i, uint64_t gpa, uint64_t size, void *host,
		      uint32_t flags)
{
	struct kvm_userspace_memory_region r = {
		.slot = KVM_MEMSLOT_FIRST + i,
		.flags = flags,
		.guest_phys_addr = gpa,
		.memory_size = size,
		.userspace_addr = (uint64_t)(uintptr_t)host,
	};

	if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &r) < 0)
		return -errno;
	return 0;
}

static int ms_map(struct memslot_ctl *c, uint64_t gpa, uint64_t size, void *host, bool log_dirty)
{
	struct kvm_memslots *m = to_slots(c);
	const uint64_t mask = MEMSLOT_PAGE - 1;
	int ret = -ENOSPC;

	if (!size || (gpa & mask) || (size & mask) || ((uintptr_t)host & mask) || gpa + size < gpa)
		return -EINVAL;
	pthread_mutex_lock(&m->lock);
	for (unsigned int i = 0; i < KVM_MEMSLOT_MAX; i++) {
		if (m->s[i].used)
			continue;
		ret = set_region(m->vm, i, gpa, size, host,
				 log_dirty ? KVM_MEM_LOG_DIRTY_PAGES : 0);
		if (ret) {
			log_error("KVM_SET_USER_MEMORY_REGION (slot %u at %#llx) failed: %s",
				  KVM_MEMSLOT_FIRST + i, (unsigned long long)gpa, strerror(-ret));
			break;
		}
		m->s[i] = (struct kvm_memslot){.used = true, .gpa = gpa, .size = size};
		ret = (int)i;
		break;
	}
	pthread_mutex_unlock(&m->lock);
	return ret;
}

static void ms_unmap(struct memslot_ctl *c, int handle)
{
	struct kvm_memslots *m = to_slots(c);
	int ret;

	if (!m->vm || handle < 0 || handle >= KVM_MEMSLOT_MAX)
		return; /* after kvm_memslots_fini: the slots are gone already */
	pthread_mutex_lock(&m->lock);
	if (m->s[handle].used) {
		/* A size of 0 deletes the slot. */
		ret = set_region(m->vm, (unsigned int)handle, m->s[handle].gpa, 0, NULL, 0);
		if (ret)
			log_error("KVM_SET_USER_MEMORY_REGION (delete slot %u) failed: %s",
				  KVM_MEMSLOT_FIRST + handle, strerror(-ret));
		m->s[handle].used = false;
	}
	pthread_mutex_unlock(&m->lock);
}

static int ms_get_dirty(struct memslot_ctl *c, int handle, uint64_t *bitmap)
{
	struct kvm_memslots *m = to_slots(c);
	struct kvm_dirty_log log;

	if (!m->vm || handle < 0 || handle >= KVM_MEMSLOT_MAX || !m->s[handle].used)
		return -EINVAL;
	memset(&log, 0, sizeof(log));
	log.slot = KVM_MEMSLOT_FIRST + (uint32_t)handle;
	log.dirty_bitmap = bitmap;
	if (ioctl(m->vm->vm_fd, KVM_GET_DIRTY_LOG, &log) < 0) {
		int e = errno;

		log_ratelimited(LOG_WARN, "KVM_GET_DIRTY_LOG (slot %u) failed: %s",
				KVM_MEMSLOT_FIRST + handle, strerror(e));
		return -e;
	}
	return 0;
}

static const struct memslot_ops kvm_memslot_ops = {
	.map = ms_map,
	.unmap = ms_unmap,
	.get_dirty = ms_get_dirty,
};

void kvm_memslots_init(struct kvm_memslots *m, struct vm *vm)
{
	memset(m, 0, sizeof(*m));
	m->ctl.ops = &kvm_memslot_ops;
	m->vm = vm;
	pthread_mutex_init(&m->lock, NULL);
}

void kvm_memslots_fini(struct kvm_memslots *m)
{
	if (!m->vm)
		return;
	for (int i = 0; i < KVM_MEMSLOT_MAX; i++)
		ms_unmap(&m->ctl, i);
	pthread_mutex_destroy(&m->lock);
	m->vm = NULL;
}
