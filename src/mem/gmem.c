// SPDX-License-Identifier: MIT
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "hostel/gmem.h"

static int ranges_overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	/* Both ranges are known not to wrap. */
	return a < b + blen && b < a + alen;
}

int gmem_add(struct gmem *gm, uint64_t gpa, uint64_t size, void *host)
{
	if (!size || !host || gpa + size < gpa)
		return -EINVAL;
	if (gm->nr >= GMEM_MAX_REGIONS)
		return -ENOSPC;
	for (unsigned int i = 0; i < gm->nr; i++)
		if (ranges_overlap(gpa, size, gm->r[i].gpa, gm->r[i].size))
			return -EINVAL;
	gm->r[gm->nr].gpa = gpa;
	gm->r[gm->nr].size = size;
	gm->r[gm->nr].host = host;
	gm->nr++;
	return 0;
}

void *gmem_ptr(const struct gmem *gm, uint64_t gpa, uint64_t len)
{
	for (unsigned int i = 0; i < gm->nr; i++) {
		const struct gmem_region *r = &gm->r[i];
		if (gpa < r->gpa)
			continue;
		uint64_t off = gpa - r->gpa;
		/* [gpa, gpa+len) must lie wholly inside: off <= size && len <= size - off. */
		if (off >= r->size && !(off == r->size && len == 0))
			continue;
		if (len > r->size - off)
			return NULL; /* straddles the end of this region (regions never touch in a way we merge) */
		return r->host + off;
	}
	return NULL;
}

int gmem_read(const struct gmem *gm, uint64_t gpa, void *dst, uint64_t len)
{
	const void *p = gmem_ptr(gm, gpa, len);
	if (!p)
		return -EFAULT;
	memcpy(dst, p, len);
	return 0;
}

int gmem_write(const struct gmem *gm, uint64_t gpa, const void *src, uint64_t len)
{
	void *p = gmem_ptr(gm, gpa, len);
	if (!p)
		return -EFAULT;
	memcpy(p, src, len);
	return 0;
}

uint64_t gmem_total(const struct gmem *gm)
{
	uint64_t t = 0;
	for (unsigned int i = 0; i < gm->nr; i++)
		t += gm->r[i].size;
	return t;
}

int gmem_map_ram(uint64_t size, uint8_t **out)
{
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);

	if (!size || size & (page - 1) || size > SIZE_MAX - GMEM_RAM_ALIGN - 2 * page)
		return -EINVAL;
	/* One alignment and two guard pages more are reserved; what lies
	 * outside the guards is cut off. */
	size_t span = (size_t)(size + GMEM_RAM_ALIGN + 2 * page);
	uint8_t *p = mmap(NULL, span, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return -errno;
	size_t head = (size_t)page + (size_t)(-(uintptr_t)(p + page) & (GMEM_RAM_ALIGN - 1));
	uint8_t *ram = p + head;
	size_t tail = span - head - (size_t)size - (size_t)page;
	if (head > page)
		munmap(p, head - page);
	if (tail)
		munmap(ram + size + page, tail);
	/* The guards: an access just outside guest RAM faults. They also keep
	 * the next mapping (a thread's stack, say) from ending on a 2 MiB
	 * boundary right below the RAM, where its first page would be a
	 * whole transparent huge page of hostel's own memory. */
	mprotect(ram - page, (size_t)page, PROT_NONE);
	mprotect(ram + size, (size_t)page, PROT_NONE);
	/* Advice only: a host without THP or KSM runs the guest all the same. */
	madvise(ram, size, MADV_HUGEPAGE);
	madvise(ram, size, MADV_MERGEABLE);
	*out = ram;
	return 0;
}

void gmem_unmap_ram(uint8_t *ram, uint64_t size)
{
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);

	if (ram)
		munmap(ram - page, (size_t)(size + 2 * page));
}
