// SPDX-License-Identifier: MIT
/*
 * Unit tests for devices/pci/msix.c: the table, the PBA, masking, pending
 * bits, route()/fire() calls, and the capability wired through pci.c.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <linux/pci_regs.h>
#include "fake_msi.h"
#include "hostel/log.h"
#include "pci/msix.h"
#include "pci/pci.h"

#define NVEC 4
#define ADDR 0xfee00000u

struct fx {
	struct fake_msi msi;
	struct msix *m;
};

static int setup(void **state)
{
	static struct fx f;

	log_set_level(LOG_ERROR);
	fake_msi_init(&f.msi);
	f.m = msix_create(NVEC, &f.msi.ctl);
	if (!f.m)
		return -1;
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	msix_destroy(f->m);
	return 0;
}

static uint64_t trd(struct msix *m, uint64_t off, unsigned len)
{
	uint8_t b[8];

	memset(b, 0, sizeof(b));
	msix_table_read(m, off, b, len);
	return dev_data_get(b, len);
}

static void twr(struct msix *m, uint64_t off, uint64_t v, unsigned len)
{
	uint8_t b[8];

	dev_data_put(b, len, v);
	msix_table_write(m, off, b, len);
}

static uint64_t pba(struct msix *m, uint64_t off)
{
	uint8_t b[8];

	memset(b, 0, sizeof(b));
	msix_pba_read(m, off, b, 8);
	return dev_data_get(b, 8);
}

static uint64_t ent(unsigned vec, unsigned reg)
{
	return (uint64_t)vec * PCI_MSIX_ENTRY_SIZE + reg;
}

/* Program vector @vec as Linux does: address, data, then unmask. */
static void program(struct msix *m, unsigned vec, uint32_t data, bool unmask)
{
	twr(m, ent(vec, PCI_MSIX_ENTRY_LOWER_ADDR), ADDR | vec << 12, 4);
	twr(m, ent(vec, PCI_MSIX_ENTRY_UPPER_ADDR), 0, 4);
	twr(m, ent(vec, PCI_MSIX_ENTRY_DATA), data, 4);
	if (unmask)
		twr(m, ent(vec, PCI_MSIX_ENTRY_VECTOR_CTRL), 0, 4);
}

static void enable(struct msix *m, bool fmask)
{
	msix_control_write(m, PCI_MSIX_FLAGS_ENABLE | (fmask ? PCI_MSIX_FLAGS_MASKALL : 0));
}

static void test_create_args(void **state)
{
	struct fx *f = *state;
	struct msix *m;

	assert_null(msix_create(0, &f->msi.ctl));
	assert_null(msix_create(MSIX_MAX_VECTORS + 1, &f->msi.ctl));
	assert_null(msix_create(1, NULL));
	m = msix_create(MSIX_MAX_VECTORS, &f->msi.ctl);
	assert_non_null(m);
	assert_int_equal(msix_table_size(m), MSIX_MAX_VECTORS * 16);
	assert_int_equal(msix_pba_size(m), MSIX_MAX_VECTORS / 8);
	assert_int_equal(msix_control_read(m), 0x7ff);
	msix_destroy(m);
	m = msix_create(65, &f->msi.ctl);
	assert_int_equal(msix_pba_size(m), 16);
	msix_destroy(m);
	assert_int_equal(msix_pba_size(f->m), 8);
}

static void test_power_on(void **state)
{
	struct fx *f = *state;

	assert_int_equal(msix_control_read(f->m), NVEC - 1);
	assert_false(msix_enabled(f->m));
	for (unsigned v = 0; v < NVEC; v++) {
		assert_int_equal(trd(f->m, ent(v, 0), 8), 0);
		assert_int_equal(trd(f->m, ent(v, 8), 4), 0);
		assert_int_equal(trd(f->m, ent(v, 12), 4), PCI_MSIX_ENTRY_CTRL_MASKBIT);
	}
	assert_int_equal(pba(f->m, 0), 0);
	assert_false(msix_notify(f->m, 0));
	assert_int_equal(f->msi.fires, 0);
	assert_int_equal(f->msi.routes, 0);
}

static void test_table_access(void **state)
{
	struct fx *f = *state;
	struct msix_stats st;

	/* Dwords. Address bits 1:0 and reserved control bits read 0. */
	twr(f->m, ent(1, 0), 0xfee01003, 4);
	twr(f->m, ent(1, 4), 0x12345678, 4);
	twr(f->m, ent(1, 8), 0xabcd, 4);
	twr(f->m, ent(1, 12), 0xfffffffe, 4);
	assert_int_equal(trd(f->m, ent(1, 0), 4), 0xfee01000);
	assert_int_equal(trd(f->m, ent(1, 4), 4), 0x12345678);
	assert_int_equal(trd(f->m, ent(1, 8), 4), 0xabcd);
	assert_int_equal(trd(f->m, ent(1, 12), 4), 0);
	/* Qwords: the address as one access, and data + control. */
	assert_int_equal(trd(f->m, ent(1, 0), 8), 0x12345678fee01000ull);
	assert_int_equal(trd(f->m, ent(1, 8), 8), 0xabcd);
	twr(f->m, ent(2, 0), 0x00000001fee02000ull, 8);
	twr(f->m, ent(2, 8), 0x0000000100000042ull, 8);
	assert_int_equal(trd(f->m, ent(2, 0), 4), 0xfee02000);
	assert_int_equal(trd(f->m, ent(2, 4), 4), 1);
	assert_int_equal(trd(f->m, ent(2, 8), 4), 0x42);
	assert_int_equal(trd(f->m, ent(2, 12), 4), 1);
	/* Other entries untouched. */
	assert_int_equal(trd(f->m, ent(0, 0), 8), 0);
	assert_int_equal(trd(f->m, ent(3, 0), 8), 0);

	/* Unsupported: bytes, words, misaligned, a qword at +4, past the table. */
	twr(f->m, ent(1, 8), 0xff, 1);
	twr(f->m, ent(1, 8), 0xffff, 2);
	twr(f->m, ent(1, 9), 0xffffffff, 4);
	twr(f->m, ent(1, 4), UINT64_MAX, 8);
	twr(f->m, ent(NVEC, 0), 0xffffffff, 4);
	twr(f->m, UINT64_MAX - 3, 0xffffffff, 4);
	assert_int_equal(trd(f->m, ent(1, 8), 4), 0xabcd);
	assert_int_equal(trd(f->m, ent(1, 4), 4), 0x12345678);
	assert_int_equal(trd(f->m, ent(1, 8), 2), 0xffff);
	assert_int_equal(trd(f->m, ent(1, 12), 8), UINT64_MAX);
	assert_int_equal(trd(f->m, ent(NVEC, 0), 4), 0xffffffff);
	assert_int_equal(trd(f->m, ent(NVEC - 1, 8), 8), 1ull << 32);
	assert_int_equal(trd(f->m, ent(NVEC - 1, 12), 8), UINT64_MAX);
	msix_get_stats(f->m, &st);
	assert_int_equal(st.bad_accesses, 10);
	/* MSI-X is off: none of this was routed. */
	assert_int_equal(f->msi.routes, 0);
}

static void test_route_calls(void **state)
{
	struct fx *f = *state;
	unsigned n;

	/* Writes to masked entries before enabling: no routes. */
	program(f->m, 0, 0x40, true);
	program(f->m, 1, 0x41, false);
	assert_int_equal(f->msi.routes, 0);

	/* Enable: only vector 0 (individually unmasked) changes state. */
	enable(f->m, false);
	assert_int_equal(f->msi.routes, 1);
	assert_int_equal(f->msi.last[0].vec, 0);
	assert_int_equal(f->msi.last[0].addr, ADDR);
	assert_int_equal(f->msi.last[0].data, 0x40);
	assert_false(f->msi.last[0].masked);

	/* Data change on an unmasked entry: rerouted; same value again: not. */
	twr(f->m, ent(0, 8), 0x50, 4);
	assert_int_equal(f->msi.routes, 2);
	assert_int_equal(fake_msi_recent(&f->msi, 0)->data, 0x50);
	twr(f->m, ent(0, 8), 0x50, 4);
	assert_int_equal(f->msi.routes, 2);
	/* Address change through a qword: one route with both halves. */
	twr(f->m, ent(0, 0), 0x00000002fee0f000ull, 8);
	assert_int_equal(f->msi.routes, 3);
	assert_int_equal(fake_msi_recent(&f->msi, 0)->addr, 0x00000002fee0f000ull);
	/* Changes on the masked vector 1: none. */
	twr(f->m, ent(1, 8), 0x99, 4);
	assert_int_equal(f->msi.routes, 3);
	/* Unmask vector 1: routed with its current message. */
	twr(f->m, ent(1, 12), 0, 4);
	assert_int_equal(f->msi.routes, 4);
	assert_int_equal(fake_msi_recent(&f->msi, 0)->vec, 1);
	assert_int_equal(fake_msi_recent(&f->msi, 0)->data, 0x99);
	assert_false(fake_msi_recent(&f->msi, 0)->masked);
	/* Mask it again: routed masked. Rewriting the mask bit: nothing. */
	twr(f->m, ent(1, 12), 1, 4);
	assert_int_equal(f->msi.routes, 5);
	assert_true(fake_msi_recent(&f->msi, 0)->masked);
	twr(f->m, ent(1, 12), 1, 4);
	assert_int_equal(f->msi.routes, 5);
	/* Data and unmask in one qword: one route with the new data. */
	twr(f->m, ent(1, 8), 0x77, 8);
	assert_int_equal(f->msi.routes, 6);
	assert_int_equal(fake_msi_recent(&f->msi, 0)->data, 0x77);
	assert_false(fake_msi_recent(&f->msi, 0)->masked);

	/* Function mask: every unmasked vector (0 and 1) routed masked, then back. */
	n = f->msi.routes;
	enable(f->m, true);
	assert_int_equal(f->msi.routes, n + 2);
	assert_true(f->msi.last[0].masked && f->msi.last[1].masked);
	assert_false(f->msi.routed[2] || f->msi.routed[3]);
	/* Under the function mask, entry writes are not routed. */
	twr(f->m, ent(0, 8), 0x60, 4);
	assert_int_equal(f->msi.routes, n + 2);
	enable(f->m, false);
	assert_int_equal(f->msi.routes, n + 4);
	assert_false(f->msi.last[0].masked || f->msi.last[1].masked);
	assert_int_equal(f->msi.last[0].data, 0x60);
	/* Same control value: nothing. */
	enable(f->m, false);
	assert_int_equal(f->msi.routes, n + 4);
	/* Disable: routed masked. */
	msix_control_write(f->m, 0);
	assert_int_equal(f->msi.routes, n + 6);
	assert_true(f->msi.last[0].masked && f->msi.last[1].masked);
	/* Table Size bits in a control write are ignored. */
	msix_control_write(f->m, 0x7ff);
	assert_int_equal(msix_control_read(f->m), NVEC - 1);
	assert_int_equal(f->msi.fires, 0);
}

static void test_pending_and_unmask(void **state)
{
	struct fx *f = *state;

	program(f->m, 0, 0x40, true);
	program(f->m, 2, 0x42, false);
	enable(f->m, false);

	/* Unmasked: fires at once. */
	assert_true(msix_notify(f->m, 0));
	assert_int_equal(f->msi.fired[0], 1);
	assert_int_equal(pba(f->m, 0), 0);
	/* Masked entry: pending, no fire; again: still one pending bit. */
	assert_true(msix_notify(f->m, 2));
	assert_true(msix_notify(f->m, 2));
	assert_int_equal(f->msi.fired[2], 0);
	assert_int_equal(pba(f->m, 0), 1u << 2);
	/* PBA is read only and takes dword reads too. */
	uint8_t b[8] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	msix_pba_write(f->m, 0, b, 8);
	assert_int_equal(pba(f->m, 0), 1u << 2);
	memset(b, 0, sizeof(b));
	msix_pba_read(f->m, 0, b, 4);
	assert_int_equal(dev_data_get(b, 4), 1u << 2);
	msix_pba_read(f->m, 4, b, 4);
	assert_int_equal(dev_data_get(b, 4), 0);
	msix_pba_read(f->m, 8, b, 8);
	assert_int_equal(dev_data_get(b, 8), UINT64_MAX);
	/* Unmask: routed first, then fired once, pending cleared. */
	unsigned routes = f->msi.routes;
	twr(f->m, ent(2, 12), 0, 4);
	assert_int_equal(f->msi.fired[2], 1);
	assert_int_equal(f->msi.routes, routes + 1);
	assert_int_equal(fake_msi_recent(&f->msi, 0)->vec, 2);
	assert_int_equal(pba(f->m, 0), 0);
	/* Unmasking does not fire a vector that was not pending. */
	twr(f->m, ent(2, 12), 1, 4);
	twr(f->m, ent(2, 12), 0, 4);
	assert_int_equal(f->msi.fired[2], 1);

	/* Function mask: everything pends; unmask fires each pending one once. */
	enable(f->m, true);
	assert_true(msix_notify(f->m, 0));
	assert_true(msix_notify(f->m, 2));
	assert_int_equal(pba(f->m, 0), (1u << 0) | (1u << 2));
	assert_int_equal(f->msi.fired[0], 1);
	/* Unmasking the entry alone does not fire while the function is masked. */
	twr(f->m, ent(2, 12), 1, 4);
	twr(f->m, ent(2, 12), 0, 4);
	assert_int_equal(f->msi.fired[2], 1);
	enable(f->m, false);
	assert_int_equal(f->msi.fired[0], 2);
	assert_int_equal(f->msi.fired[2], 2);
	assert_int_equal(pba(f->m, 0), 0);
	assert_int_equal(f->msi.fires, 4);

	/* A pending vector whose entry is still masked stays pending when the function unmasks. */
	twr(f->m, ent(2, 12), 1, 4);
	enable(f->m, true);
	assert_true(msix_notify(f->m, 2));
	enable(f->m, false);
	assert_int_equal(pba(f->m, 0), 1u << 2);
	assert_int_equal(f->msi.fired[2], 2);

	struct msix_stats st;
	msix_get_stats(f->m, &st);
	assert_int_equal(st.fired, f->msi.fires);
	assert_int_equal(st.pended, 5);
}

static void test_disabled_and_bad_vectors(void **state)
{
	struct fx *f = *state;

	program(f->m, 3, 0x43, true);
	/* Disabled: false whatever the vector, nothing pends. */
	assert_false(msix_notify(f->m, 3));
	assert_false(msix_notify(f->m, MSIX_NO_VECTOR));
	assert_int_equal(pba(f->m, 0), 0);
	enable(f->m, true);
	/* Out of range and "no vector": ignored, but handled (no INTx fallback). */
	assert_true(msix_notify(f->m, NVEC));
	assert_true(msix_notify(f->m, MSIX_NO_VECTOR));
	assert_true(msix_notify(f->m, UINT32_MAX));
	assert_int_equal(pba(f->m, 0), 0);
	assert_true(msix_notify(f->m, 3));
	assert_int_equal(pba(f->m, 0), 1u << 3);
	/* Disabling drops pending bits: enabling again does not fire them. */
	msix_control_write(f->m, PCI_MSIX_FLAGS_MASKALL);
	assert_int_equal(pba(f->m, 0), 0);
	assert_false(msix_notify(f->m, 3));
	enable(f->m, false);
	assert_int_equal(f->msi.fires, 0);
	assert_int_equal(f->msi.bad_vectors, 0);
	assert_true(msix_notify(f->m, 3));
	assert_int_equal(f->msi.fired[3], 1);
}

static void test_route_error(void **state)
{
	struct fx *f = *state;
	struct msix_stats st;

	f->msi.route_ret = -ENOSPC;
	program(f->m, 0, 0x40, true);
	enable(f->m, false);
	msix_get_stats(f->m, &st);
	assert_int_equal(st.route_errors, 1);
	/* The device keeps working: notify still reaches fire(). */
	assert_true(msix_notify(f->m, 0));
	assert_int_equal(f->msi.fired[0], 1);
}

static void test_reset(void **state)
{
	struct fx *f = *state;

	program(f->m, 0, 0x40, true);
	program(f->m, 1, 0x41, false);
	enable(f->m, true);
	assert_true(msix_notify(f->m, 1));
	enable(f->m, false);
	unsigned routes = f->msi.routes;

	msix_reset(f->m);
	/* Only vector 0 was live: it alone is routed masked. */
	assert_int_equal(f->msi.routes, routes + 1);
	assert_int_equal(fake_msi_recent(&f->msi, 0)->vec, 0);
	assert_true(fake_msi_recent(&f->msi, 0)->masked);
	assert_int_equal(msix_control_read(f->m), NVEC - 1);
	assert_int_equal(trd(f->m, ent(0, 0), 8), 0);
	assert_int_equal(trd(f->m, ent(0, 8), 8), 1ull << 32);
	assert_int_equal(pba(f->m, 0), 0);
	assert_false(msix_notify(f->m, 0));
}

static void test_devs(void **state)
{
	struct fx *f = *state;
	struct dev *t = msix_table_dev(f->m), *p = msix_pba_dev(f->m);
	uint8_t b[8];

	dev_data_put(b, 4, 0x1234);
	t->ops->write(t, ent(3, 8), b, 4);
	memset(b, 0, sizeof(b));
	t->ops->read(t, ent(3, 8), b, 4);
	assert_int_equal(dev_data_get(b, 4), 0x1234);
	enable(f->m, true);
	assert_true(msix_notify(f->m, 3));
	p->ops->read(p, 0, b, 8);
	assert_int_equal(dev_data_get(b, 8), 1u << 3);
}

/* Many vectors: the PBA spans qwords, function-level changes walk them all. */
static void test_many_vectors(void **state)
{
	struct fx *f = *state;
	struct msix *m = msix_create(130, &f->msi.ctl);

	assert_non_null(m);
	assert_int_equal(msix_pba_size(m), 24);
	for (unsigned v = 0; v < 130; v += 43)
		program(m, v, v, true);
	enable(m, true);
	assert_int_equal(f->msi.routes, 0);
	for (unsigned v = 0; v < 130; v++)
		assert_true(msix_notify(m, v));
	assert_int_equal(pba(m, 0), UINT64_MAX);
	assert_int_equal(pba(m, 8), UINT64_MAX);
	assert_int_equal(pba(m, 16), 3);
	enable(m, false);
	/* Unmasked vectors 0, 43, 86, 129: routed and fired; the rest stay pending. */
	assert_int_equal(f->msi.routes, 4);
	assert_int_equal(f->msi.fires, 4);
	assert_int_equal(f->msi.fired[129], 1);
	assert_int_equal(pba(m, 16), 1);
	assert_int_equal(pba(m, 0), UINT64_MAX & ~1ull & ~(1ull << 43));
	msix_destroy(m);
}

/* Notify from another thread while the vCPU side toggles masks. */
struct race {
	struct msix *m;
	unsigned n;
};

static void *notifier(void *arg)
{
	struct race *r = arg;

	for (unsigned i = 0; i < r->n; i++)
		msix_notify(r->m, i % 2);
	return NULL;
}

static void test_notify_race(void **state)
{
	struct fx *f = *state;
	struct race r = {f->m, 20000};
	pthread_t t;
	struct msix_stats st;

	program(f->m, 0, 0x40, true);
	program(f->m, 1, 0x41, true);
	enable(f->m, false);
	assert_int_equal(pthread_create(&t, NULL, notifier, &r), 0);
	for (unsigned i = 0; i < 20000; i++) {
		twr(f->m, ent(i % 2, 12), i & 2 ? 1 : 0, 4);
		if (i % 97 == 0)
			enable(f->m, i & 1);
	}
	pthread_join(t, NULL);
	enable(f->m, false);
	twr(f->m, ent(0, 12), 0, 4);
	twr(f->m, ent(1, 12), 0, 4);
	/* Everything unmasked: nothing may be left pending, and every notify
	 * either fired or pended, each pending bit firing at most once. */
	assert_int_equal(pba(f->m, 0), 0);
	msix_get_stats(f->m, &st);
	assert_int_equal(st.fired, f->msi.fires);
	assert_true(f->msi.fires <= r.n);
	assert_true(f->msi.fires + st.pended >= r.n);
	assert_true(f->msi.fires >= r.n - st.pended);
}

/* --- Through the PCI framework --- */

static struct dev dummy;

static void test_attach(void **state)
{
	struct fx *f = *state;
	struct pci_host *h = pci_host_create();
	struct pci_dev_info info = {.vendor = 0x1af4, .device = 0x1041, .class = 0x020000};
	struct pci_func *fn;
	struct pci_placements pl;
	struct dev *ecam;
	unsigned cap;
	uint8_t b[4];

	assert_non_null(h);
	ecam = pci_host_ecam_dev(h);
	assert_int_equal(pci_host_add(h, 1, &info, &fn), 0);
	assert_int_equal(pci_func_add_bar(fn, 1, 0x1000, PCI_BAR_MEM32, &dummy), 0);
	assert_int_equal(pci_func_add_bar(fn, 2, 0x100, PCI_BAR_IO, &dummy), 0);
	/* Bad placements. */
	assert_int_equal(msix_attach(f->m, fn, 0, 0, 1, 0x800, NULL), -EINVAL);	    /* no BAR0 */
	assert_int_equal(msix_attach(f->m, fn, 2, 0, 1, 0x800, NULL), -EINVAL);	    /* I/O BAR */
	assert_int_equal(msix_attach(f->m, fn, 1, 0xfd0, 1, 0x800, NULL), -EINVAL); /* past end */
	assert_int_equal(msix_attach(f->m, fn, 1, 0x4, 1, 0x800, NULL), -EINVAL);   /* unaligned */
	assert_int_equal(msix_attach(f->m, fn, 1, 0, 1, 0x38, NULL), -EINVAL);	    /* overlap */
	assert_int_equal(msix_attach(f->m, fn, 1, 0, 1, 0xffc, NULL), -EINVAL);
	assert_int_equal(msix_attach(f->m, fn, 7, 0, 1, 0x800, NULL), -EINVAL);
	assert_int_equal(msix_attach(f->m, fn, 1, 0, 1, 0x40, &cap), 0);
	assert_int_equal(pci_host_assign_bars(h, 0xc0000000, 0x100000, 0xc000, 0x100, &pl), 0);

	/* The capability as a guest finds it. */
	ecam->ops->read(ecam, (1 << 15) | PCI_CAPABILITY_LIST, b, 1);
	assert_int_equal(b[0], cap);
	ecam->ops->read(ecam, (1 << 15) | cap, b, 4);
	assert_int_equal(dev_data_get(b, 4), (NVEC - 1) << 16 | PCI_CAP_ID_MSIX);
	ecam->ops->read(ecam, (1 << 15) | (cap + PCI_MSIX_TABLE), b, 4);
	assert_int_equal(dev_data_get(b, 4), 0x0 | 1);
	ecam->ops->read(ecam, (1 << 15) | (cap + PCI_MSIX_PBA), b, 4);
	assert_int_equal(dev_data_get(b, 4), 0x40 | 1);

	/* Enable + function mask with a word write at Message Control. */
	dev_data_put(b, 2, PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL | 0x7ff);
	ecam->ops->write(ecam, (1 << 15) | (cap + PCI_MSIX_FLAGS), b, 2);
	assert_true(msix_enabled(f->m));
	assert_int_equal(msix_control_read(f->m), 0xc000 | (NVEC - 1));
	ecam->ops->read(ecam, (1 << 15) | cap, b, 4);
	assert_int_equal(dev_data_get(b, 4), (0xc000u | (NVEC - 1)) << 16 | PCI_CAP_ID_MSIX);
	/* A byte write at the high byte clears the function mask only. */
	b[0] = PCI_MSIX_FLAGS_ENABLE >> 8;
	ecam->ops->write(ecam, (1 << 15) | (cap + PCI_MSIX_FLAGS + 1), b, 1);
	assert_int_equal(msix_control_read(f->m), 0x8000 | (NVEC - 1));
	/* Table/PBA offsets, ID and next pointer are read only. */
	dev_data_put(b, 4, 0xffffffff);
	ecam->ops->write(ecam, (1 << 15) | (cap + PCI_MSIX_TABLE), b, 4);
	ecam->ops->write(ecam, (1 << 15) | (cap + PCI_MSIX_PBA), b, 4);
	dev_data_put(b, 4, 0x8000ffff);
	ecam->ops->write(ecam, (1 << 15) | cap, b, 4);
	ecam->ops->read(ecam, (1 << 15) | (cap + PCI_MSIX_TABLE), b, 4);
	assert_int_equal(dev_data_get(b, 4), 1);
	ecam->ops->read(ecam, (1 << 15) | (cap + PCI_MSIX_PBA), b, 4);
	assert_int_equal(dev_data_get(b, 4), 0x41);
	ecam->ops->read(ecam, (1 << 15) | cap, b, 4);
	assert_int_equal(dev_data_get(b, 4), (0x8000u | (NVEC - 1)) << 16 | PCI_CAP_ID_MSIX);
	/* The guest's view follows msix's own state. */
	msix_control_write(f->m, 0);
	ecam->ops->read(ecam, (1 << 15) | (cap + PCI_MSIX_FLAGS), b, 2);
	assert_int_equal(dev_data_get(b, 2), NVEC - 1);

	/* pci_host_reset() resets the msix through its capability. */
	msix_control_write(f->m, PCI_MSIX_FLAGS_ENABLE);
	program(f->m, 0, 1, true);
	pci_host_reset(h);
	assert_false(msix_enabled(f->m));
	assert_int_equal(trd(f->m, ent(0, 12), 4), PCI_MSIX_ENTRY_CTRL_MASKBIT);
	pci_host_destroy(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_create_args, setup, teardown),
		cmocka_unit_test_setup_teardown(test_power_on, setup, teardown),
		cmocka_unit_test_setup_teardown(test_table_access, setup, teardown),
		cmocka_unit_test_setup_teardown(test_route_calls, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pending_and_unmask, setup, teardown),
		cmocka_unit_test_setup_teardown(test_disabled_and_bad_vectors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_route_error, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_devs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_many_vectors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_notify_race, setup, teardown),
		cmocka_unit_test_setup_teardown(test_attach, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
