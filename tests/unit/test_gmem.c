// SPDX-License-Identifier: MIT
/* Unit tests for src/mem/gmem.c: whole-range translation of guest addresses. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <cmocka.h>
#include "hostel/gmem.h"

/* Two regions with a hole, as below and above a PCI hole: [0, 64K) and [1M, 1M+64K). */
#define LO_SIZE 0x10000ULL
#define HI_GPA	0x100000ULL
#define HI_SIZE 0x10000ULL

static uint8_t lo[LO_SIZE], hi[HI_SIZE];

static void setup_two(struct gmem *gm)
{
	memset(gm, 0, sizeof(*gm));
	assert_int_equal(gmem_add(gm, 0, LO_SIZE, lo), 0);
	assert_int_equal(gmem_add(gm, HI_GPA, HI_SIZE, hi), 0);
}

static void test_translate_inside(void **state)
{
	struct gmem gm;

	(void)state;
	setup_two(&gm);
	assert_ptr_equal(gmem_ptr(&gm, 0, 1), lo);
	assert_ptr_equal(gmem_ptr(&gm, 0, LO_SIZE), lo);
	assert_ptr_equal(gmem_ptr(&gm, LO_SIZE - 1, 1), lo + LO_SIZE - 1);
	assert_ptr_equal(gmem_ptr(&gm, HI_GPA, HI_SIZE), hi);
	assert_ptr_equal(gmem_ptr(&gm, HI_GPA + 0x1234, 0x100), hi + 0x1234);
	assert_ptr_equal(gmem_ptr(&gm, HI_GPA + HI_SIZE - 8, 8), hi + HI_SIZE - 8);
	assert_int_equal(gmem_total(&gm), LO_SIZE + HI_SIZE);
}

static void test_straddle_region_end(void **state)
{
	struct gmem gm;

	(void)state;
	setup_two(&gm);
	/* One byte too long, at either region's end. */
	assert_null(gmem_ptr(&gm, 0, LO_SIZE + 1));
	assert_null(gmem_ptr(&gm, LO_SIZE - 1, 2));
	assert_null(gmem_ptr(&gm, HI_GPA + HI_SIZE - 8, 9));
	/* Spanning the hole from the low region into the high one. */
	assert_null(gmem_ptr(&gm, LO_SIZE - 0x10, HI_GPA - LO_SIZE + 0x20));
	/* Starting in the hole and running into RAM. */
	assert_null(gmem_ptr(&gm, HI_GPA - 1, 2));
}

static void test_holes(void **state)
{
	struct gmem gm;

	(void)state;
	setup_two(&gm);
	assert_null(gmem_ptr(&gm, LO_SIZE, 1));
	assert_null(gmem_ptr(&gm, (LO_SIZE + HI_GPA) / 2, 1));
	assert_null(gmem_ptr(&gm, HI_GPA - 1, 1));
	assert_null(gmem_ptr(&gm, HI_GPA + HI_SIZE, 1));
	assert_null(gmem_ptr(&gm, UINT64_MAX, 1));
}

static void test_wrap_past_2_64(void **state)
{
	struct gmem gm;

	(void)state;
	setup_two(&gm);
	/* gpa + len wraps to a small number that looks in range. */
	assert_null(gmem_ptr(&gm, 0x10, UINT64_MAX));
	assert_null(gmem_ptr(&gm, HI_GPA + 1, UINT64_MAX - HI_GPA));
	assert_null(gmem_ptr(&gm, HI_GPA, UINT64_MAX));
	assert_null(gmem_ptr(&gm, UINT64_MAX, 2));
	assert_null(gmem_ptr(&gm, UINT64_MAX - 0xf, 0x20));

	/* A region at the very top of a smaller space still refuses wraps. */
	static uint8_t top[0x1000];
	memset(&gm, 0, sizeof(gm));
	assert_int_equal(gmem_add(&gm, UINT64_MAX - 0x1fff, sizeof(top), top), 0);
	assert_ptr_equal(gmem_ptr(&gm, UINT64_MAX - 0x1fff, 0x1000), top);
	assert_null(gmem_ptr(&gm, UINT64_MAX - 0x1000, 0x10));
	assert_null(gmem_ptr(&gm, UINT64_MAX - 0x1001, UINT64_MAX));
}

static void test_len_zero(void **state)
{
	struct gmem gm;

	(void)state;
	setup_two(&gm);
	/* An empty range inside RAM, or at a region's end, is valid. */
	assert_ptr_equal(gmem_ptr(&gm, 0x10, 0), lo + 0x10);
	assert_ptr_equal(gmem_ptr(&gm, LO_SIZE, 0), lo + LO_SIZE);
	assert_ptr_equal(gmem_ptr(&gm, HI_GPA + HI_SIZE, 0), hi + HI_SIZE);
	/* In a hole it is not. */
	assert_null(gmem_ptr(&gm, LO_SIZE + 1, 0));
	assert_null(gmem_ptr(&gm, UINT64_MAX, 0));
}

static void test_add_rejects(void **state)
{
	struct gmem gm;
	static uint8_t buf[0x1000];

	(void)state;
	setup_two(&gm);
	assert_int_equal(gmem_add(&gm, 0x20000, 0, buf), -EINVAL);
	assert_int_equal(gmem_add(&gm, 0x20000, 0x1000, NULL), -EINVAL);
	assert_int_equal(gmem_add(&gm, UINT64_MAX - 0xff, 0x1000, buf), -EINVAL);
	/* Overlaps: identical, head, tail, containing, contained. */
	assert_int_equal(gmem_add(&gm, 0, LO_SIZE, buf), -EINVAL);
	assert_int_equal(gmem_add(&gm, LO_SIZE - 1, 0x1000, buf), -EINVAL);
	assert_int_equal(gmem_add(&gm, HI_GPA - 0xfff, 0x1000, buf), -EINVAL);
	assert_int_equal(gmem_add(&gm, LO_SIZE - 1, HI_GPA, buf), -EINVAL);
	assert_int_equal(gmem_add(&gm, HI_GPA + 0x10, 0x10, buf), -EINVAL);
	assert_int_equal(gm.nr, 2);
	/* Touching both neighbours, filling the hole exactly, is fine. */
	assert_int_equal(gmem_add(&gm, LO_SIZE, HI_GPA - LO_SIZE, buf), 0);
	assert_int_equal(gm.nr, 3);
	/* Even then, a range never crosses from one region into the next. */
	assert_null(gmem_ptr(&gm, LO_SIZE - 1, 2));
	assert_ptr_equal(gmem_ptr(&gm, LO_SIZE, 1), buf);
}

static void test_too_many_regions(void **state)
{
	struct gmem gm;
	static uint8_t buf[GMEM_MAX_REGIONS + 1][0x100];

	(void)state;
	memset(&gm, 0, sizeof(gm));
	for (unsigned int i = 0; i < GMEM_MAX_REGIONS; i++)
		assert_int_equal(gmem_add(&gm, i * 0x1000ULL, 0x100, buf[i]), 0);
	assert_int_equal(gmem_add(&gm, 0x100000, 0x100, buf[GMEM_MAX_REGIONS]), -ENOSPC);
	assert_int_equal(gm.nr, GMEM_MAX_REGIONS);
	for (unsigned int i = 0; i < GMEM_MAX_REGIONS; i++)
		assert_ptr_equal(gmem_ptr(&gm, i * 0x1000ULL + 0xff, 1), &buf[i][0xff]);
	assert_int_equal(gmem_total(&gm), GMEM_MAX_REGIONS * 0x100ULL);
}

static void test_copy_helpers(void **state)
{
	struct gmem gm;
	uint8_t out[16], in[16];

	(void)state;
	setup_two(&gm);
	for (unsigned i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)(i * 3 + 1);
	assert_int_equal(gmem_write(&gm, HI_GPA + 0x40, in, sizeof(in)), 0);
	assert_memory_equal(hi + 0x40, in, sizeof(in));
	assert_int_equal(gmem_read(&gm, HI_GPA + 0x40, out, sizeof(out)), 0);
	assert_memory_equal(out, in, sizeof(in));

	/* Straddling the end: nothing is copied at all. */
	memset(out, 0x5a, sizeof(out));
	memset(lo + LO_SIZE - 8, 0, 8);
	assert_int_equal(gmem_read(&gm, LO_SIZE - 8, out, sizeof(out)), -EFAULT);
	assert_int_equal(out[0], 0x5a);
	assert_int_equal(gmem_write(&gm, LO_SIZE - 8, in, sizeof(in)), -EFAULT);
	for (unsigned i = 0; i < 8; i++)
		assert_int_equal(lo[LO_SIZE - 8 + i], 0);
	assert_int_equal(gmem_read(&gm, UINT64_MAX - 4, out, sizeof(out)), -EFAULT);
}

/* Is the page at @p mapped? mincore says ENOMEM for an unmapped one. */
static bool mapped(const void *p)
{
	unsigned char vec;

	return mincore((void *)p, 1, &vec) == 0;
}

/* The VmFlags line of the mapping that starts at @p, from /proc/self/smaps. */
static bool vm_flags(const void *p, char *flags, size_t len)
{
	char line[512], start[32];
	bool found = false;
	FILE *f = fopen("/proc/self/smaps", "r");

	if (!f)
		return false;
	snprintf(start, sizeof(start), "%lx-", (unsigned long)(uintptr_t)p);
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, start, strlen(start)))
			found = true;
		else if (found && !strncmp(line, "VmFlags:", 8)) {
			snprintf(flags, len, "%s", line + 8);
			fclose(f);
			return true;
		}
	}
	fclose(f);
	return false;
}

/* The mapping that starts at @p can be neither read nor written. */
static void assert_no_access(const void *p)
{
	char flags[512];

	assert_true(vm_flags(p, flags, sizeof(flags)));
	assert_null(strstr(flags, " rd"));
	assert_null(strstr(flags, " wr"));
}

static void test_map_ram_aligned(void **state)
{
	(void)state;
	const size_t page = (size_t)sysconf(_SC_PAGESIZE);
	/* Sizes below, at and past one alignment unit, and a large one never touched. */
	const uint64_t sizes[] = {page,
				  GMEM_RAM_ALIGN - page,
				  GMEM_RAM_ALIGN,
				  GMEM_RAM_ALIGN + page,
				  3 * GMEM_RAM_ALIGN + 5 * page,
				  8ULL << 30};

	for (unsigned int i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		uint8_t *p = NULL;
		char flags[512];

		assert_int_equal(gmem_map_ram(sizes[i], &p), 0);
		assert_non_null(p);
		assert_int_equal((uintptr_t)p % GMEM_RAM_ALIGN, 0);
		/* [p, p + size) and one inaccessible guard page on each side:
		 * the rest of the reserved slack is gone. */
		for (uint64_t off = 0; off < sizes[i]; off += GMEM_RAM_ALIGN)
			assert_true(mapped(p + off));
		assert_true(mapped(p + sizes[i] - page));
		assert_true(mapped(p - page));
		assert_true(mapped(p + sizes[i]));
		assert_false(mapped(p - 2 * page));
		assert_false(mapped(p + sizes[i] + page));
		assert_no_access(p - page);
		assert_no_access(p + sizes[i]);
		/* Zeroed and writable at both ends. */
		assert_int_equal(p[0], 0);
		assert_int_equal(p[sizes[i] - 1], 0);
		p[0] = 0xa5;
		p[sizes[i] - 1] = 0x5a;
		assert_int_equal(p[0] + p[sizes[i] - 1], 0xa5 + 0x5a);
		/* Advised huge pages (VmFlags "hg"), as the host's THP needs in "madvise" mode. */
		assert_true(vm_flags(p, flags, sizeof(flags)));
		assert_non_null(strstr(flags, " hg"));
		gmem_unmap_ram(p, sizes[i]);
		assert_false(mapped(p - page));
		assert_false(mapped(p));
		assert_false(mapped(p + sizes[i] - page));
		assert_false(mapped(p + sizes[i]));
	}
}

static void test_map_ram_rejects(void **state)
{
	(void)state;
	uint8_t *p = (uint8_t *)&p;

	assert_int_equal(gmem_map_ram(0, &p), -EINVAL);
	assert_int_equal(gmem_map_ram(GMEM_RAM_ALIGN + 1, &p), -EINVAL);
	assert_int_equal(gmem_map_ram(UINT64_MAX & ~0xfffULL, &p), -EINVAL);
	/* Untouched on failure. */
	assert_ptr_equal(p, (uint8_t *)&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_translate_inside),
		cmocka_unit_test(test_straddle_region_end),
		cmocka_unit_test(test_holes),
		cmocka_unit_test(test_wrap_past_2_64),
		cmocka_unit_test(test_len_zero),
		cmocka_unit_test(test_add_rejects),
		cmocka_unit_test(test_too_many_regions),
		cmocka_unit_test(test_copy_helpers),
		cmocka_unit_test(test_map_ram_aligned),
		cmocka_unit_test(test_map_ram_rejects),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
