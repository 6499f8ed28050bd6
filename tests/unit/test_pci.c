// SPDX-License-Identifier: MIT
/*
 * Unit tests for devices/pci/pci.c: configuration mechanism #1, ECAM, the
 * type 0 header, the capability list, BAR sizing and assignment.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <linux/pci_regs.h>
#include "hostel/log.h"
#include "pci/pci.h"

#define MMIO_BASE 0xc0000000ull
#define MMIO_SIZE 0x10000000ull
#define IO_BASE	  0xc000ull
#define IO_SIZE	  0x1000ull

/* A device that records the last access; stands in for RST_CNT and BAR regions. */
struct rec_dev {
	struct dev dev;
	unsigned int reads, writes;
	uint64_t last_off;
	unsigned int last_len;
	uint8_t last_val;
};

static void rec_read(struct dev *d, uint64_t off, void *data, unsigned len)
{
	struct rec_dev *r = (struct rec_dev *)d;

	r->reads++;
	r->last_off = off;
	r->last_len = len;
	memset(data, 0x5a, len);
}

static void rec_write(struct dev *d, uint64_t off, const void *data, unsigned len)
{
	struct rec_dev *r = (struct rec_dev *)d;

	r->writes++;
	r->last_off = off;
	r->last_len = len;
	r->last_val = *(const uint8_t *)data;
}

static const struct dev_ops rec_ops = {.name = "rec", .read = rec_read, .write = rec_write};

struct fx {
	struct pci_host *h;
	struct dev *io, *ecam;
	struct rec_dev cf9, regions[8];
};

static int setup(void **state)
{
	static struct fx f;

	memset(&f, 0, sizeof(f));
	log_set_level(LOG_ERROR);
	f.h = pci_host_create();
	if (!f.h)
		return -1;
	f.io = pci_host_io_dev(f.h);
	f.ecam = pci_host_ecam_dev(f.h);
	f.cf9.dev.ops = &rec_ops;
	for (size_t i = 0; i < ARRAY_SIZE(f.regions); i++)
		f.regions[i].dev.ops = &rec_ops;
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	pci_host_destroy(f->h);
	return 0;
}

/* --- access helpers --- */

static uint32_t io_rd(struct fx *f, uint64_t off, unsigned len)
{
	uint8_t b[8];

	memset(b, 0, sizeof(b));
	f->io->ops->read(f->io, off, b, len);
	return (uint32_t)dev_data_get(b, len);
}

static void io_wr(struct fx *f, uint64_t off, uint32_t v, unsigned len)
{
	uint8_t b[8];

	dev_data_put(b, len, v);
	f->io->ops->write(f->io, off, b, len);
}

static uint32_t cfg_addr(unsigned bus, unsigned dev, unsigned fn, unsigned reg)
{
	return 0x80000000u | bus << 16 | dev << 11 | fn << 8 | (reg & 0xfc);
}

/* Mechanism #1: CONFIG_ADDRESS, then CONFIG_DATA at the register's byte lane. */
static uint32_t m1_rd(struct fx *f, unsigned dev, unsigned reg, unsigned len)
{
	io_wr(f, 0, cfg_addr(0, dev, 0, reg), 4);
	return io_rd(f, 4 + (reg & 3), len);
}

static void m1_wr(struct fx *f, unsigned dev, unsigned reg, uint32_t v, unsigned len)
{
	io_wr(f, 0, cfg_addr(0, dev, 0, reg), 4);
	io_wr(f, 4 + (reg & 3), v, len);
}

static uint64_t ecam_off(unsigned dev, unsigned fn, unsigned reg)
{
	return (uint64_t)dev << 15 | fn << 12 | reg;
}

static uint32_t ec_rd(struct fx *f, unsigned dev, unsigned reg, unsigned len)
{
	uint8_t b[8];

	memset(b, 0, sizeof(b));
	f->ecam->ops->read(f->ecam, ecam_off(dev, 0, reg), b, len);
	return (uint32_t)dev_data_get(b, len);
}

static void ec_wr(struct fx *f, unsigned dev, unsigned reg, uint32_t v, unsigned len)
{
	uint8_t b[8];

	dev_data_put(b, len, v);
	f->ecam->ops->write(f->ecam, ecam_off(dev, 0, reg), b, len);
}

static struct pci_func *add(struct fx *f, unsigned slot, uint16_t vendor, uint16_t device)
{
	struct pci_dev_info info = {
		.vendor = vendor,
		.device = device,
		.subsys_vendor = 0x1af4,
		.subsys_id = 0x1100 + slot,
		.revision = 0x01,
		.class = 0x020000,
		.irq_pin = 1,
		.irq_line = 11,
	};
	struct pci_func *fn = NULL;

	assert_int_equal(pci_host_add(f->h, slot, &info, &fn), 0);
	assert_non_null(fn);
	return fn;
}

static struct pci_host_stats stats(struct fx *f)
{
	struct pci_host_stats st;

	pci_host_get_stats(f->h, &st);
	return st;
}

/* --- tests --- */

static void test_host_bridge(void **state)
{
	struct fx *f = *state;

	assert_int_equal(m1_rd(f, 0, PCI_VENDOR_ID, 4), 0x29c08086);
	assert_int_equal(m1_rd(f, 0, PCI_CLASS_REVISION, 4) >> 8, 0x060000);
	assert_int_equal(m1_rd(f, 0, PCI_HEADER_TYPE, 1), PCI_HEADER_TYPE_NORMAL);
	/* No capabilities, no BARs. */
	assert_int_equal(m1_rd(f, 0, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST, 0);
	assert_int_equal(m1_rd(f, 0, PCI_CAPABILITY_LIST, 1), 0);
	for (unsigned r = PCI_BASE_ADDRESS_0; r <= PCI_BASE_ADDRESS_5; r += 4) {
		m1_wr(f, 0, r, 0xffffffff, 4);
		assert_int_equal(m1_rd(f, 0, r, 4), 0);
	}
}

static void test_config_address_register(void **state)
{
	struct fx *f = *state;

	/* Reserved bits 30:24 (AMD's extended register bits) and 1:0 read 0. */
	io_wr(f, 0, 0xffffffff, 4);
	assert_int_equal(io_rd(f, 0, 4), 0x80fffffc);
	/* Linux's pci_check_type1(): a byte at 0xCFB, then 0x80000000 reads back. */
	io_wr(f, 3, 0x01, 1);
	io_wr(f, 0, 0x80000000, 4);
	assert_int_equal(io_rd(f, 0, 4), 0x80000000);
	/* Only dword accesses at 0xCF8 are CONFIG_ADDRESS. */
	io_wr(f, 0, 0x1234, 2);
	io_wr(f, 0, 0x12, 1);
	io_wr(f, 2, 0x12, 1);
	assert_int_equal(io_rd(f, 0, 4), 0x80000000);
	assert_int_equal(io_rd(f, 0, 2), 0xffff);
	assert_int_equal(io_rd(f, 0, 1), 0xff);
	assert_int_equal(io_rd(f, 2, 2), 0xffff);
	assert_true(stats(f).bad_accesses >= 7);
	/* Extended register bits do not reach the extended space: 0x100 -> 0x00. */
	io_wr(f, 0, 0x81000000, 4);
	assert_int_equal(io_rd(f, 4, 4), 0x29c08086);
}

static void test_enable_bit(void **state)
{
	struct fx *f = *state;
	struct pci_func *fn = add(f, 3, 0x1af4, 0x1000);

	io_wr(f, 0, cfg_addr(0, 3, 0, PCI_VENDOR_ID) & ~0x80000000u, 4);
	assert_int_equal(io_rd(f, 4, 4), 0xffffffff);
	assert_int_equal(io_rd(f, 4, 2), 0xffff);
	io_wr(f, 0, cfg_addr(0, 3, 0, PCI_COMMAND) & ~0x80000000u, 4);
	io_wr(f, 4, PCI_COMMAND_MEMORY, 2);
	assert_int_equal(pci_func_command(fn), 0);
	/* With the enable bit the same accesses work. */
	assert_int_equal(m1_rd(f, 3, PCI_VENDOR_ID, 4), 0x10001af4);
	m1_wr(f, 3, PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
	assert_int_equal(pci_func_command(fn), PCI_COMMAND_MEMORY);
}

static void test_byte_lanes(void **state)
{
	struct fx *f = *state;

	add(f, 7, 0x1af4, 0x1041);
	/* Every register through every lane and width equals the ECAM dword's bytes. */
	for (unsigned reg = 0; reg < 0x40; reg += 4) {
		uint32_t dw = ec_rd(f, 7, reg, 4);

		assert_int_equal(m1_rd(f, 7, reg, 4), dw);
		for (unsigned lane = 0; lane < 4; lane++)
			assert_int_equal(m1_rd(f, 7, reg + lane, 1), (dw >> (8 * lane)) & 0xff);
		for (unsigned lane = 0; lane < 3; lane++)
			assert_int_equal(m1_rd(f, 7, reg + lane, 2), (dw >> (8 * lane)) & 0xffff);
	}
	assert_int_equal(m1_rd(f, 7, PCI_DEVICE_ID, 2), 0x1041);
	assert_int_equal(m1_rd(f, 7, PCI_SUBSYSTEM_ID, 2), 0x1107);
	assert_int_equal(m1_rd(f, 7, PCI_REVISION_ID, 1), 0x01);
	assert_int_equal(m1_rd(f, 7, PCI_CLASS_DEVICE, 2), 0x0200);
	assert_int_equal(m1_rd(f, 7, PCI_INTERRUPT_PIN, 1), 1);
	assert_int_equal(m1_rd(f, 7, PCI_INTERRUPT_LINE, 1), 11);

	/* Writes land on their lane: Cache Line Size is lane 0 of 0x0c. */
	m1_wr(f, 7, PCI_CACHE_LINE_SIZE, 0x10, 1);
	assert_int_equal(ec_rd(f, 7, 0x0c, 4) & 0xff, 0x10);
	/* Command high byte (INTx disable) through lane 1 (port 0xCFD). */
	m1_wr(f, 7, PCI_COMMAND + 1, PCI_COMMAND_INTX_DISABLE >> 8, 1);
	assert_int_equal(ec_rd(f, 7, PCI_COMMAND, 2), PCI_COMMAND_INTX_DISABLE);
	/* Word at lane 2 of 0x3c (Min_Gnt/Max_Lat) is read only; lane 0 word
	 * changes Interrupt Line but not Interrupt Pin. */
	m1_wr(f, 7, PCI_MIN_GNT, 0xabcd, 2);
	assert_int_equal(ec_rd(f, 7, PCI_INTERRUPT_LINE, 4), 0x0000010b);
	m1_wr(f, 7, PCI_INTERRUPT_LINE, 0x0405, 2);
	assert_int_equal(ec_rd(f, 7, PCI_INTERRUPT_LINE, 4), 0x00000105);
	/* A word write at lane 1 (0xCFD-0xCFE) spans Line and Pin. */
	m1_wr(f, 7, PCI_INTERRUPT_LINE + 1, 0x0303, 2);
	assert_int_equal(ec_rd(f, 7, PCI_INTERRUPT_LINE, 4), 0x00000105);
	/* Accesses that would leave CONFIG_DATA are not config accesses. */
	io_wr(f, 0, cfg_addr(0, 7, 0, 0), 4);
	assert_int_equal(io_rd(f, 7, 2), 0xffff);
	assert_int_equal(io_rd(f, 6, 4), 0xffffffff);
	assert_int_equal(io_rd(f, 4, 8), 0xffffffff);
}

static void test_absent(void **state)
{
	struct fx *f = *state;
	uint64_t before = stats(f).absent_accesses;

	for (unsigned len = 1; len <= 4; len *= 2) {
		uint32_t ones = len == 4 ? 0xffffffff : (1u << (8 * len)) - 1;

		assert_int_equal(m1_rd(f, 5, 0, len), ones);
		assert_int_equal(ec_rd(f, 31, 0, len), ones);
		/* Bus 1 and function 1 of a present device. */
		io_wr(f, 0, cfg_addr(1, 0, 0, 0), 4);
		assert_int_equal(io_rd(f, 4, len), ones);
		io_wr(f, 0, cfg_addr(0, 0, 1, 0), 4);
		assert_int_equal(io_rd(f, 4, len), ones);
		uint8_t b[4] = {0};
		f->ecam->ops->read(f->ecam, ecam_off(0, 3, 0), b, len);
		assert_int_equal(dev_data_get(b, len), ones);
	}
	m1_wr(f, 5, PCI_COMMAND, 0x7, 2);
	ec_wr(f, 5, PCI_COMMAND, 0x7, 2);
	assert_int_equal(m1_rd(f, 5, PCI_COMMAND, 2), 0xffff);
	/* Adding it later shows a fresh device: the writes were dropped. */
	add(f, 5, 0x1af4, 0x1000);
	assert_int_equal(m1_rd(f, 5, PCI_COMMAND, 2), 0);
	assert_true(stats(f).absent_accesses >= before + 18);
}

static void test_cf9_forwarding(void **state)
{
	struct fx *f = *state;

	/* Without a reset device 0xCF9 is unclaimed. */
	assert_int_equal(io_rd(f, 1, 1), 0xff);
	io_wr(f, 1, 0x06, 1);

	pci_host_set_cf9(f->h, &f->cf9.dev);
	io_wr(f, 1, 0x06, 1);
	assert_int_equal(f->cf9.writes, 1);
	assert_int_equal(f->cf9.last_off, 0);
	assert_int_equal(f->cf9.last_len, 1);
	assert_int_equal(f->cf9.last_val, 0x06);
	assert_int_equal(io_rd(f, 1, 1), 0x5a);
	assert_int_equal(f->cf9.reads, 1);
	/* Not forwarded: wider accesses at 0xCF9, bytes at 0xCF8/0xCFA, dword at 0xCF8. */
	io_wr(f, 1, 0x0606, 2);
	io_wr(f, 0, 0x06, 1);
	io_wr(f, 2, 0x06, 1);
	io_wr(f, 0, 0x80000000, 4);
	(void)io_rd(f, 0, 2);
	(void)io_rd(f, 0, 4);
	assert_int_equal(f->cf9.writes, 1);
	assert_int_equal(f->cf9.reads, 1);
	/* And the dword at 0xCF8 did not go to RST_CNT but to CONFIG_ADDRESS. */
	assert_int_equal(io_rd(f, 0, 4), 0x80000000);
}

static void test_ecam_equivalence(void **state)
{
	struct fx *f = *state;
	struct pci_func *a = add(f, 2, 0x1af4, 0x1041);
	struct pci_func *b = add(f, 31, 0x1af4, 0x1042);
	static const uint8_t cap[] = {PCI_CAP_ID_VNDR, 0, 8, 1, 2, 3, 4, 5};
	struct pci_placements pl;

	assert_int_equal(pci_func_add_cap(a, cap, sizeof(cap), NULL), 0);
	assert_int_equal(pci_func_add_bar(a, 0, 0x1000, PCI_BAR_MEM32, &f->regions[0].dev), 0);
	assert_int_equal(pci_func_add_bar(b, 2, 0x4000, PCI_BAR_MEM64 | PCI_BAR_PREFETCH,
					  &f->regions[1].dev),
			 0);
	assert_int_equal(pci_func_add_bar(b, 5, 0x20, PCI_BAR_IO, &f->regions[2].dev), 0);
	assert_int_equal(pci_host_assign_bars(f->h, MMIO_BASE, MMIO_SIZE, IO_BASE, IO_SIZE, &pl),
			 0);
	m1_wr(f, 2, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2);
	ec_wr(f, 31, PCI_COMMAND, PCI_COMMAND_IO, 2);

	for (unsigned dev = 0; dev < 32; dev++) {
		for (unsigned reg = 0; reg < PCI_CFG_SPACE_SIZE; reg += 4)
			assert_int_equal(m1_rd(f, dev, reg, 4), ec_rd(f, dev, reg, 4));
		/* The extended space: 0 on present devices, all-ones on absent ones. */
		bool present = dev == 0 || dev == 2 || dev == 31;
		assert_int_equal(ec_rd(f, dev, 0x100, 4), present ? 0 : 0xffffffff);
		assert_int_equal(ec_rd(f, dev, 0xffc, 4), present ? 0 : 0xffffffff);
	}
	assert_int_equal(m1_rd(f, 31, PCI_COMMAND, 2), PCI_COMMAND_IO);
	assert_int_equal(ec_rd(f, 2, PCI_COMMAND, 2), PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	/* Writes to the extended space are dropped. */
	ec_wr(f, 2, 0x100, 0x12345678, 4);
	assert_int_equal(ec_rd(f, 2, 0x100, 4), 0);
}

static void test_ecam_bad_accesses(void **state)
{
	struct fx *f = *state;
	uint64_t before = stats(f).bad_accesses;
	uint8_t b[8];

	/* Crossing a dword, 8 bytes, past the window. */
	memset(b, 0, sizeof(b));
	f->ecam->ops->read(f->ecam, 3, b, 2);
	assert_int_equal(dev_data_get(b, 2), 0xffff);
	f->ecam->ops->read(f->ecam, 0, b, 8);
	assert_int_equal(dev_data_get(b, 8), UINT64_MAX);
	f->ecam->ops->read(f->ecam, 2, b, 4);
	assert_int_equal(dev_data_get(b, 4), 0xffffffff);
	f->ecam->ops->read(f->ecam, PCI_ECAM_BUS_SIZE, b, 1);
	assert_int_equal(b[0], 0xff);
	f->ecam->ops->read(f->ecam, UINT64_MAX, b, 1);
	assert_int_equal(b[0], 0xff);
	/* Unaligned but inside a dword is fine. */
	f->ecam->ops->read(f->ecam, 1, b, 2);
	assert_int_equal(dev_data_get(b, 2), 0xc080);
	f->ecam->ops->read(f->ecam, 3, b, 1);
	assert_int_equal(b[0], 0x29);
	memset(b, 0xff, sizeof(b));
	f->ecam->ops->write(f->ecam, PCI_COMMAND + 3, b, 2); /* crosses a dword: dropped */
	f->ecam->ops->write(f->ecam, PCI_COMMAND, b, 8);
	f->ecam->ops->write(f->ecam, PCI_ECAM_BUS_SIZE + PCI_COMMAND, b, 4);
	f->ecam->ops->write(f->ecam, PCI_COMMAND, b, 3);
	assert_int_equal(ec_rd(f, 0, PCI_COMMAND, 2), 0);
	assert_int_equal(stats(f).bad_accesses, before + 9);
}

static void test_bar_sizing(void **state)
{
	struct fx *f = *state;
	struct pci_func *fn = add(f, 4, 0x1af4, 0x1000);
	struct pci_placements pl;

	assert_int_equal(pci_func_add_bar(fn, 0, 0x100, PCI_BAR_IO, &f->regions[0].dev), 0);
	assert_int_equal(pci_func_add_bar(fn, 1, 0x2000, PCI_BAR_MEM32, &f->regions[1].dev), 0);
	assert_int_equal(pci_func_add_bar(fn, 2, 0x100000, PCI_BAR_MEM64 | PCI_BAR_PREFETCH,
					  &f->regions[2].dev),
			 0);
	/* Before assignment: type bits only; sizing already works. */
	assert_int_equal(ec_rd(f, 4, PCI_BASE_ADDRESS_0, 4), PCI_BASE_ADDRESS_SPACE_IO);
	ec_wr(f, 4, PCI_BASE_ADDRESS_1, 0xffffffff, 4);
	assert_int_equal(ec_rd(f, 4, PCI_BASE_ADDRESS_1, 4), 0xffffe000);
	ec_wr(f, 4, PCI_BASE_ADDRESS_1, 0, 4);
	assert_int_equal(ec_rd(f, 4, PCI_BASE_ADDRESS_1, 4), 0);

	assert_int_equal(pci_host_assign_bars(f->h, MMIO_BASE, MMIO_SIZE, IO_BASE, IO_SIZE, &pl),
			 0);
	uint32_t io = m1_rd(f, 4, PCI_BASE_ADDRESS_0, 4);
	uint32_t m32 = m1_rd(f, 4, PCI_BASE_ADDRESS_1, 4);
	uint32_t lo = m1_rd(f, 4, PCI_BASE_ADDRESS_2, 4), hi = m1_rd(f, 4, PCI_BASE_ADDRESS_3, 4);

	assert_int_equal(io, pci_func_bar_addr(fn, 0) | PCI_BASE_ADDRESS_SPACE_IO);
	assert_int_equal(m32, pci_func_bar_addr(fn, 1));
	assert_int_equal(lo, pci_func_bar_addr(fn, 2) | PCI_BASE_ADDRESS_MEM_TYPE_64 |
				     PCI_BASE_ADDRESS_MEM_PREFETCH);
	assert_int_equal(hi, 0);
	assert_int_equal(pci_func_bar_size(fn, 3), 0); /* the upper half is no BAR */

	/* Linux's __pci_read_base(): save, write all-ones, read, restore. */
	m1_wr(f, 4, PCI_BASE_ADDRESS_0, 0xffffffff, 4);
	assert_int_equal(m1_rd(f, 4, PCI_BASE_ADDRESS_0, 4), 0xffffff01);
	m1_wr(f, 4, PCI_BASE_ADDRESS_0, io, 4);
	assert_int_equal(m1_rd(f, 4, PCI_BASE_ADDRESS_0, 4), io);

	m1_wr(f, 4, PCI_BASE_ADDRESS_1, 0xffffffff, 4);
	assert_int_equal(m1_rd(f, 4, PCI_BASE_ADDRESS_1, 4), 0xffffe000);
	m1_wr(f, 4, PCI_BASE_ADDRESS_1, m32, 4);
	assert_int_equal(m1_rd(f, 4, PCI_BASE_ADDRESS_1, 4), m32);

	/* 64-bit: both halves sized (Linux 6.x writes all BARs first, then reads). */
	m1_wr(f, 4, PCI_BASE_ADDRESS_2, 0xffffffff, 4);
	m1_wr(f, 4, PCI_BASE_ADDRESS_3, 0xffffffff, 4);
	assert_int_equal(m1_rd(f, 4, PCI_BASE_ADDRESS_2, 4), 0xfff0000c);
	assert_int_equal(m1_rd(f, 4, PCI_BASE_ADDRESS_3, 4), 0xffffffff);
	m1_wr(f, 4, PCI_BASE_ADDRESS_2, lo, 4);
	m1_wr(f, 4, PCI_BASE_ADDRESS_3, hi, 4);
	assert_int_equal(m1_rd(f, 4, PCI_BASE_ADDRESS_2, 4), lo);
	assert_int_equal(m1_rd(f, 4, PCI_BASE_ADDRESS_3, 4), hi);

	/* Unused BARs read 0 even while "sized". */
	m1_wr(f, 4, PCI_BASE_ADDRESS_4, 0xffffffff, 4);
	assert_int_equal(m1_rd(f, 4, PCI_BASE_ADDRESS_4, 4), 0);
	/* Nothing was refused. */
	assert_int_equal(stats(f).bar_moves_refused, 0);
}

static void test_bar_move_refused(void **state)
{
	struct fx *f = *state;
	struct pci_func *fn = add(f, 4, 0x1af4, 0x1000);
	struct pci_placements pl;

	assert_int_equal(pci_func_add_bar(fn, 0, 0x1000, PCI_BAR_MEM64, &f->regions[0].dev), 0);
	assert_int_equal(pci_func_add_bar(fn, 4, 0x40, PCI_BAR_IO, &f->regions[1].dev), 0);
	assert_int_equal(pci_host_assign_bars(f->h, MMIO_BASE, MMIO_SIZE, IO_BASE, IO_SIZE, &pl),
			 0);
	uint32_t lo = ec_rd(f, 4, PCI_BASE_ADDRESS_0, 4), io = ec_rd(f, 4, PCI_BASE_ADDRESS_4, 4);

	ec_wr(f, 4, PCI_BASE_ADDRESS_0, 0xd0000000, 4);
	assert_int_equal(ec_rd(f, 4, PCI_BASE_ADDRESS_0, 4), lo);
	ec_wr(f, 4, PCI_BASE_ADDRESS_1, 0x1, 4); /* above 4 GiB */
	assert_int_equal(ec_rd(f, 4, PCI_BASE_ADDRESS_1, 4), 0);
	ec_wr(f, 4, PCI_BASE_ADDRESS_4, 0x0, 4);
	assert_int_equal(ec_rd(f, 4, PCI_BASE_ADDRESS_4, 4), io);
	assert_int_equal(stats(f).bar_moves_refused, 3);
	/* A refused write during sizing ends sizing: the placement reads again. */
	ec_wr(f, 4, PCI_BASE_ADDRESS_0, 0xffffffff, 4);
	ec_wr(f, 4, PCI_BASE_ADDRESS_0, 0x12345670, 4);
	assert_int_equal(ec_rd(f, 4, PCI_BASE_ADDRESS_0, 4), lo);
	assert_int_equal(stats(f).bar_moves_refused, 4);
	/* Byte writes merge into the register: rewriting a byte of it is no move. */
	ec_wr(f, 4, PCI_BASE_ADDRESS_0 + 3, lo >> 24, 1);
	assert_int_equal(stats(f).bar_moves_refused, 4);
	ec_wr(f, 4, PCI_BASE_ADDRESS_0 + 3, (lo >> 24) ^ 0x01, 1);
	assert_int_equal(stats(f).bar_moves_refused, 5);
	assert_int_equal(ec_rd(f, 4, PCI_BASE_ADDRESS_0, 4), lo);
	/* Type bits in the written value are ignored. */
	ec_wr(f, 4, PCI_BASE_ADDRESS_0, lo & ~0xfu, 4);
	assert_int_equal(stats(f).bar_moves_refused, 5);
	assert_int_equal(pci_func_bar_addr(fn, 0), lo & ~0xfu);
}

static bool overlap(uint64_t a, uint64_t as, uint64_t b, uint64_t bs)
{
	return a < b + bs && b < a + as;
}

static void test_assign_alignment(void **state)
{
	struct fx *f = *state;
	static const uint64_t sizes[] = {0x1000, 0x100000, 0x10, 0x4000, 0x800000, 0x80};
	struct pci_placements pl;
	struct pci_func *fns[4];
	unsigned nbars = 0;

	for (unsigned d = 0; d < 4; d++) {
		fns[d] = add(f, 10 + d, 0x1af4, (uint16_t)(0x1000 + d));
		for (unsigned i = 0; i < 3; i++) {
			uint64_t sz = sizes[(d + i) % ARRAY_SIZE(sizes)];

			assert_int_equal(pci_func_add_bar(fns[d], 2 * i, sz,
							  i == 1 ? PCI_BAR_MEM64 : PCI_BAR_MEM32,
							  &f->regions[d].dev),
					 0);
			nbars++;
		}
	}
	assert_int_equal(pci_func_add_bar(fns[0], 1, 0x20, PCI_BAR_IO, &f->regions[5].dev), 0);
	assert_int_equal(pci_func_add_bar(fns[1], 1, 0x100, PCI_BAR_IO, &f->regions[6].dev), 0);
	nbars += 2;
	/* An unaligned window start: placements still align naturally. */
	assert_int_equal(
		pci_host_assign_bars(f->h, MMIO_BASE + 0x10, MMIO_SIZE, IO_BASE + 4, IO_SIZE, &pl),
		0);
	assert_int_equal(pl.nr, nbars);
	for (unsigned i = 0; i < pl.nr; i++) {
		const struct pci_bar_placement *p = &pl.p[i];
		struct pci_func *fn = fns[p->slot - 10];

		assert_int_equal(p->base % p->size, 0);
		if (p->io) {
			assert_true(p->base >= IO_BASE + 4 &&
				    p->base + p->size <= IO_BASE + 4 + IO_SIZE);
			assert_int_equal(m1_rd(f, p->slot, PCI_BASE_ADDRESS_0 + 4 * p->bar, 4),
					 p->base | 1);
		} else {
			assert_true(p->base >= MMIO_BASE + 0x10 &&
				    p->base + p->size <= MMIO_BASE + 0x10 + MMIO_SIZE);
			assert_int_equal(m1_rd(f, p->slot, PCI_BASE_ADDRESS_0 + 4 * p->bar, 4) &
						 ~0xfu,
					 p->base);
		}
		assert_int_equal(p->size, pci_func_bar_size(fn, p->bar));
		assert_int_equal(p->base, pci_func_bar_addr(fn, p->bar));
		assert_ptr_equal(p->dev,
				 p->io ? (p->slot == 10 ? &f->regions[5].dev : &f->regions[6].dev)
				       : &f->regions[p->slot - 10].dev);
		for (unsigned j = 0; j < i; j++)
			if (pl.p[j].io == p->io)
				assert_false(overlap(p->base, p->size, pl.p[j].base, pl.p[j].size));
	}
	/* Once only; no devices or BARs after it. */
	assert_int_equal(pci_host_assign_bars(f->h, MMIO_BASE, MMIO_SIZE, IO_BASE, IO_SIZE, &pl),
			 -EBUSY);
	struct pci_dev_info info = {.vendor = 0x1af4, .device = 1};
	struct pci_func *x;
	assert_int_equal(pci_host_add(f->h, 20, &info, &x), -EBUSY);
	assert_int_equal(pci_func_add_bar(fns[3], 1, 0x10, PCI_BAR_IO, &f->regions[0].dev), -EBUSY);
}

static void test_assign_no_fit(void **state)
{
	struct fx *f = *state;
	struct pci_func *fn = add(f, 1, 0x1af4, 0x1000);
	struct pci_placements pl;

	assert_int_equal(pci_func_add_bar(fn, 0, 0x10000, PCI_BAR_MEM32, &f->regions[0].dev), 0);
	assert_int_equal(pci_func_add_bar(fn, 1, 0x10000, PCI_BAR_MEM32, &f->regions[1].dev), 0);
	assert_int_equal(pci_func_add_bar(fn, 2, 0x10, PCI_BAR_IO, &f->regions[2].dev), 0);
	/* One byte short. */
	assert_int_equal(pci_host_assign_bars(f->h, MMIO_BASE, 0x1ffff, IO_BASE, IO_SIZE, &pl),
			 -ENOSPC);
	/* Alignment eats the window: 128 KiB from an unaligned base does not hold both. */
	assert_int_equal(
		pci_host_assign_bars(f->h, MMIO_BASE + 0x8000, 0x20000, IO_BASE, IO_SIZE, &pl),
		-ENOSPC);
	/* No room for I/O. */
	assert_int_equal(pci_host_assign_bars(f->h, MMIO_BASE, MMIO_SIZE, IO_BASE, 8, &pl),
			 -ENOSPC);
	/* Memory above 4 GiB and I/O above 64 KiB are not usable. */
	assert_int_equal(pci_host_assign_bars(f->h, 0xffff0000, MMIO_SIZE, IO_BASE, IO_SIZE, &pl),
			 -ENOSPC);
	assert_int_equal(pci_host_assign_bars(f->h, MMIO_BASE, MMIO_SIZE, 0xfff8, IO_SIZE, &pl),
			 -ENOSPC);
	/* Wrapping windows and windows at 0. */
	assert_int_equal(pci_host_assign_bars(f->h, UINT64_MAX - 4, 16, IO_BASE, IO_SIZE, &pl),
			 -EINVAL);
	assert_int_equal(pci_host_assign_bars(f->h, 0, MMIO_SIZE, IO_BASE, IO_SIZE, &pl), -EINVAL);
	/* Nothing was placed by the failures. */
	assert_int_equal(pci_func_bar_addr(fn, 0), 0);
	assert_int_equal(ec_rd(f, 1, PCI_BASE_ADDRESS_0, 4), 0);
	assert_int_equal(ec_rd(f, 1, PCI_BASE_ADDRESS_2, 4), PCI_BASE_ADDRESS_SPACE_IO);
	/* Exactly enough. */
	assert_int_equal(pci_host_assign_bars(f->h, MMIO_BASE, 0x20000, IO_BASE, 0x10, &pl), 0);
	assert_int_equal(pl.nr, 3);
	assert_int_equal(pci_func_bar_addr(fn, 0), MMIO_BASE);
	assert_int_equal(pci_func_bar_addr(fn, 1), MMIO_BASE + 0x10000);
	assert_int_equal(pci_func_bar_addr(fn, 2), IO_BASE);
}

static void test_assign_window_end_at_4g(void **state)
{
	struct fx *f = *state;
	struct pci_func *fn = add(f, 1, 0x1af4, 0x1000);
	struct pci_placements pl;

	assert_int_equal(pci_func_add_bar(fn, 0, 0x1000, PCI_BAR_MEM64, &f->regions[0].dev), 0);
	/* The window runs past 4 GiB; the BAR still lands below it, in the last page. */
	assert_int_equal(pci_host_assign_bars(f->h, 0xfffff000, 0x100000, 0, 0, &pl), 0);
	assert_int_equal(pci_func_bar_addr(fn, 0), 0xfffff000);
	assert_int_equal(ec_rd(f, 1, PCI_BASE_ADDRESS_0, 4), 0xfffff004);
	assert_int_equal(ec_rd(f, 1, PCI_BASE_ADDRESS_1, 4), 0);
}

static void test_add_validation(void **state)
{
	struct fx *f = *state;
	struct pci_dev_info ok = {.vendor = 0x1af4, .device = 0x1000, .class = 0x020000};
	struct pci_dev_info bad = ok;
	struct pci_func *fn = NULL;
	struct dev *r = &f->regions[0].dev;

	assert_int_equal(pci_host_add(f->h, 0, &ok, &fn), -EINVAL);
	assert_int_equal(pci_host_add(f->h, 32, &ok, &fn), -EINVAL);
	assert_int_equal(pci_host_add(f->h, 1, NULL, &fn), -EINVAL);
	bad.vendor = 0xffff;
	assert_int_equal(pci_host_add(f->h, 1, &bad, &fn), -EINVAL);
	bad = ok;
	bad.class = 0x1000000;
	assert_int_equal(pci_host_add(f->h, 1, &bad, &fn), -EINVAL);
	bad = ok;
	bad.irq_pin = 5;
	assert_int_equal(pci_host_add(f->h, 1, &bad, &fn), -EINVAL);
	assert_int_equal(pci_host_add(f->h, 1, &ok, &fn), 0);
	assert_int_equal(pci_func_slot(fn), 1);
	struct pci_func *dup;
	assert_int_equal(pci_host_add(f->h, 1, &ok, &dup), -EEXIST);

	assert_int_equal(pci_func_add_bar(fn, 6, 0x1000, PCI_BAR_MEM32, r), -EINVAL);
	assert_int_equal(pci_func_add_bar(fn, 0, 0x1800, PCI_BAR_MEM32, r), -EINVAL);
	assert_int_equal(pci_func_add_bar(fn, 0, 8, PCI_BAR_MEM32, r), -EINVAL);
	assert_int_equal(pci_func_add_bar(fn, 0, 1ull << 32, PCI_BAR_MEM64, r), -EINVAL);
	assert_int_equal(pci_func_add_bar(fn, 0, 2, PCI_BAR_IO, r), -EINVAL);
	assert_int_equal(pci_func_add_bar(fn, 0, 512, PCI_BAR_IO, r), -EINVAL);
	assert_int_equal(pci_func_add_bar(fn, 0, 16, PCI_BAR_IO | PCI_BAR_PREFETCH, r), -EINVAL);
	assert_int_equal(pci_func_add_bar(fn, 0, 16, 0x2, r), -EINVAL); /* "below 1M" type */
	assert_int_equal(pci_func_add_bar(fn, 5, 0x1000, PCI_BAR_MEM64, r), -EINVAL);
	assert_int_equal(pci_func_add_bar(fn, 0, 0x1000, PCI_BAR_MEM32, NULL), -EINVAL);
	assert_int_equal(pci_func_add_bar(fn, 1, 0x1000, PCI_BAR_MEM64, r), 0);
	assert_int_equal(pci_func_add_bar(fn, 2, 0x1000, PCI_BAR_MEM32, r), -EEXIST);
	assert_int_equal(pci_func_add_bar(fn, 1, 0x1000, PCI_BAR_MEM32, r), -EEXIST);
	assert_int_equal(pci_func_add_bar(fn, 0, 0x1000, PCI_BAR_MEM64, r), -EEXIST);
	assert_int_equal(pci_func_add_bar(fn, 0, 0x1000, PCI_BAR_MEM32, r), 0);
	assert_int_equal(pci_func_bar_size(fn, 1), 0x1000);
	assert_int_equal(pci_func_bar_flags(fn, 1), PCI_BAR_MEM64);
	assert_int_equal(pci_func_bar_size(fn, 2), 0);
	assert_int_equal(pci_func_bar_size(fn, 99), 0);
}

static void test_cap_list(void **state)
{
	struct fx *f = *state;
	struct pci_func *fn = add(f, 6, 0x1af4, 0x1000);
	/* Lengths 5 and 14 are not dword multiples: the next one must still be aligned. */
	static const uint8_t c1[] = {PCI_CAP_ID_VNDR, 0xee, 5, 0xaa, 0xbb};
	static const uint8_t c2[] = {PCI_CAP_ID_VNDR, 0xee, 14, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
	static const uint8_t c3[] = {PCI_CAP_ID_PM, 0xee, 0x03, 0x00, 0, 0, 0, 0};
	const uint8_t *caps[] = {c1, c2, c3};
	const unsigned lens[] = {sizeof(c1), sizeof(c2), sizeof(c3)};
	unsigned offs[3];

	assert_int_equal(ec_rd(f, 6, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST, 0);
	assert_int_equal(ec_rd(f, 6, PCI_CAPABILITY_LIST, 1), 0);
	for (unsigned i = 0; i < 3; i++)
		assert_int_equal(pci_func_add_cap(fn, caps[i], lens[i], &offs[i]), 0);
	assert_int_equal(offs[0], 0x40);
	assert_true(m1_rd(f, 6, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST);

	/* Walk as an OS does: from 0x34, dword-aligned pointers, ID then next. */
	unsigned pos = m1_rd(f, 6, PCI_CAPABILITY_LIST, 1), n = 0;
	while (pos) {
		assert_true(n < 3);
		assert_int_equal(pos % 4, 0);
		assert_true(pos >= 0x40 && pos < PCI_CFG_SPACE_SIZE);
		assert_int_equal(pos, offs[n]);
		assert_int_equal(m1_rd(f, 6, pos + PCI_CAP_LIST_ID, 1), caps[n][0]);
		for (unsigned b = 2; b < lens[n]; b++)
			assert_int_equal(ec_rd(f, 6, pos + b, 1), caps[n][b]);
		pos = m1_rd(f, 6, pos + PCI_CAP_LIST_NEXT, 1);
		n++;
	}
	assert_int_equal(n, 3);
	/* Capabilities without hooks are read only, next pointers included. */
	for (unsigned r = offs[0]; r < offs[2] + sizeof(c3); r += 4)
		ec_wr(f, 6, r, 0, 4);
	assert_int_equal(ec_rd(f, 6, offs[0], 4), 0xaa050000u | offs[1] << 8 | PCI_CAP_ID_VNDR);

	/* Filling config space: 192 bytes from 0x40, so the rest does not fit. */
	static uint8_t big[192];
	struct pci_func *g = add(f, 8, 0x1af4, 0x1000);
	big[0] = PCI_CAP_ID_VNDR;
	assert_int_equal(pci_func_add_cap(g, big, 1, NULL), -EINVAL);
	assert_int_equal(pci_func_add_cap(g, big, 193, NULL), -EINVAL);
	assert_int_equal(pci_func_add_cap(g, big, 190, NULL), 0);
	assert_int_equal(pci_func_add_cap(g, big, 4, NULL), -ENOSPC);
	assert_int_equal(pci_func_add_cap(fn, big, 192, NULL), -ENOSPC);
}

static void test_read_only(void **state)
{
	struct fx *f = *state;
	struct pci_func *fn = add(f, 9, 0x1af4, 0x1000);
	static const uint8_t cap[] = {PCI_CAP_ID_VNDR, 0, 8, 1, 2, 3, 4, 5};
	uint8_t before[PCI_CFG_SPACE_SIZE], after[PCI_CFG_SPACE_SIZE];
	struct pci_placements pl;

	assert_int_equal(pci_func_add_cap(fn, cap, sizeof(cap), NULL), 0);
	assert_int_equal(pci_func_add_bar(fn, 0, 0x1000, PCI_BAR_MEM32, &f->regions[0].dev), 0);
	assert_int_equal(pci_host_assign_bars(f->h, MMIO_BASE, MMIO_SIZE, IO_BASE, IO_SIZE, &pl),
			 0);
	for (unsigned r = 0; r < PCI_CFG_SPACE_SIZE; r++)
		before[r] = (uint8_t)ec_rd(f, 9, r, 1);

	for (uint32_t pat = 0; pat < 2; pat++) {
		uint32_t v = pat ? 0xffffffff : 0;

		for (unsigned r = 0; r < PCI_CFG_SPACE_SIZE; r += 4)
			if (r < PCI_BASE_ADDRESS_0 || r > PCI_BASE_ADDRESS_5)
				m1_wr(f, 9, r, v, 4);
		for (unsigned r = 0; r < PCI_CFG_SPACE_SIZE; r++)
			after[r] = (uint8_t)ec_rd(f, 9, r, 1);
		for (unsigned r = 0; r < PCI_CFG_SPACE_SIZE; r++) {
			uint8_t exp = before[r];

			if (r == PCI_COMMAND)
				exp = pat ? 0x07 : 0;
			else if (r == PCI_COMMAND + 1)
				exp = pat ? 0x04 : 0;
			else if (r == PCI_CACHE_LINE_SIZE || r == PCI_INTERRUPT_LINE)
				exp = (uint8_t)v;
			if (after[r] != exp)
				fail_msg("reg 0x%02x: 0x%02x, expected 0x%02x", r, after[r], exp);
		}
	}
	assert_true(stats(f).ro_writes > 0);
	assert_int_equal(stats(f).bar_moves_refused, 0);
}

/* A capability whose byte 2 is a register, and which tries to clobber its header. */
struct hook_rec {
	unsigned writes, reads, resets;
	unsigned last_off, last_len;
};

static void hook_write(void *opaque, uint8_t *cap, unsigned cap_len, unsigned off,
		       const uint8_t *data, unsigned len)
{
	struct hook_rec *h = opaque;

	h->writes++;
	h->last_off = off;
	h->last_len = len;
	assert_true(off + len <= cap_len);
	for (unsigned i = 0; i < len; i++)
		if (off + i == 2)
			cap[2] = data[i];
	cap[0] = 0x99; /* must be undone by the framework */
	cap[1] = 0x99;
}

static void hook_read(void *opaque, uint8_t *cap, unsigned cap_len, unsigned off, unsigned len)
{
	struct hook_rec *h = opaque;

	h->reads++;
	h->last_off = off;
	h->last_len = len;
	cap[3] = (uint8_t)h->reads;
}

static void hook_reset(void *opaque, uint8_t *cap, unsigned cap_len)
{
	struct hook_rec *h = opaque;

	h->resets++;
	cap[2] = 0;
}

static const struct pci_cap_ops hook_ops = {
	.write = hook_write,
	.read = hook_read,
	.reset = hook_reset,
};

static void test_cap_hooks(void **state)
{
	struct fx *f = *state;
	struct pci_func *fn = add(f, 12, 0x1af4, 0x1000);
	static const uint8_t plain[] = {PCI_CAP_ID_VNDR, 0, 6, 0, 0, 0};
	static const uint8_t hooked[] = {PCI_CAP_ID_VNDR, 0, 5, 0, 0x77};
	struct hook_rec rec = {0};
	unsigned off;

	assert_int_equal(pci_func_add_cap(fn, plain, sizeof(plain), NULL), 0);
	assert_int_equal(pci_func_add_cap_hooked(fn, hooked, sizeof(hooked), &hook_ops, &rec, &off),
			 0);
	assert_int_equal(off, 0x48);
	/* A dword write covers ID, next, byte 2 and byte 3 of the hooked capability. */
	m1_wr(f, 12, off, 0x44332211, 4);
	assert_int_equal(rec.writes, 1);
	assert_int_equal(rec.last_off, 0);
	assert_int_equal(rec.last_len, 4);
	assert_int_equal(ec_rd(f, 12, off, 1), PCI_CAP_ID_VNDR);
	assert_int_equal(ec_rd(f, 12, off + 1, 1), 0);
	assert_int_equal(ec_rd(f, 12, off + 2, 1), 0x33);
	/* The read hook sees the clipped range: a dword at off + 4 covers 1 byte of the cap. */
	unsigned r0 = rec.reads;
	assert_int_equal(ec_rd(f, 12, off + 4, 4), 0x77);
	assert_int_equal(rec.reads, r0 + 1);
	assert_int_equal(rec.last_off, 4);
	assert_int_equal(rec.last_len, 1);
	assert_int_equal(ec_rd(f, 12, off + 3, 1), (uint8_t)(r0 + 2));
	/* Writes past the capability end (its dword padding) do not reach the hook. */
	ec_wr(f, 12, off + 5, 0xff, 1);
	ec_wr(f, 12, off + 6, 0xffff, 2);
	assert_int_equal(rec.writes, 1);
	/* Nor do writes to the unhooked capability before it. */
	ec_wr(f, 12, 0x40, 0xffffffff, 4);
	assert_int_equal(rec.writes, 1);
	assert_int_equal(ec_rd(f, 12, 0x42, 1), 6);
	/* Reset runs the hook. */
	pci_host_reset(f->h);
	assert_int_equal(rec.resets, 1);
	assert_int_equal(ec_rd(f, 12, off + 2, 1), 0);
}

static void test_reset(void **state)
{
	struct fx *f = *state;
	struct pci_func *fn = add(f, 3, 0x1af4, 0x1000);
	struct pci_placements pl;
	struct dev *io = f->io;

	assert_int_equal(pci_func_add_bar(fn, 0, 0x1000, PCI_BAR_MEM32, &f->regions[0].dev), 0);
	assert_int_equal(pci_host_assign_bars(f->h, MMIO_BASE, MMIO_SIZE, IO_BASE, IO_SIZE, &pl),
			 0);
	uint32_t bar = ec_rd(f, 3, PCI_BASE_ADDRESS_0, 4);

	m1_wr(f, 3, PCI_COMMAND, 0xffff, 2);
	m1_wr(f, 3, PCI_CACHE_LINE_SIZE, 0x10, 1);
	m1_wr(f, 3, PCI_INTERRUPT_LINE, 0x05, 1);
	m1_wr(f, 3, PCI_BASE_ADDRESS_0, 0xffffffff, 4);
	assert_int_equal(pci_func_command(fn), 0x0407);
	io->ops->reset(io);
	assert_int_equal(io_rd(f, 0, 4), 0);
	assert_int_equal(ec_rd(f, 3, PCI_COMMAND, 2), 0);
	assert_int_equal(pci_func_command(fn), 0);
	assert_int_equal(ec_rd(f, 3, PCI_CACHE_LINE_SIZE, 1), 0);
	assert_int_equal(ec_rd(f, 3, PCI_INTERRUPT_LINE, 1), 11);
	/* Sizing cancelled, placement kept. */
	assert_int_equal(ec_rd(f, 3, PCI_BASE_ADDRESS_0, 4), bar);
	f->ecam->ops->reset(f->ecam);
	assert_int_equal(ec_rd(f, 3, PCI_VENDOR_ID, 2), 0x1af4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_host_bridge, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config_address_register, setup, teardown),
		cmocka_unit_test_setup_teardown(test_enable_bit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_byte_lanes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_absent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cf9_forwarding, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ecam_equivalence, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ecam_bad_accesses, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bar_sizing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bar_move_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_assign_alignment, setup, teardown),
		cmocka_unit_test_setup_teardown(test_assign_no_fit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_assign_window_end_at_4g, setup, teardown),
		cmocka_unit_test_setup_teardown(test_add_validation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cap_list, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_only, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cap_hooks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
