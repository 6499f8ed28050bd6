// SPDX-License-Identifier: MIT
/*
 * kvm-smoke: the smallest end-to-end check that this host's KVM runs guest
 * code, with raw ioctls from <linux/kvm.h> and nothing of hostel's.
 *
 * A VM with one 64 KiB memory slot and one vCPU runs a few real-mode
 * instructions at 0x1000: three byte writes to the COM1 data port, a
 * 16-bit write to another port, a byte read whose value this program
 * supplies and the guest writes back, then HLT. The test passes only if
 * KVM reports exactly those KVM_EXIT_IO exits (port, size, direction,
 * count, data) followed by KVM_EXIT_HLT.
 *
 * Exit status: 0 on an exact match, 77 (meson's SKIP) when there is no
 * usable /dev/kvm, 1 on any mismatch or KVM error.
 */
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/kvm.h>

#define MEM_SIZE  0x10000
#define CODE_ADDR 0x1000
#define MAX_EXITS 32

/* Ports the guest code uses, and the byte it reads from IN_PORT. */
#define COM1_PORT 0x3f8
#define WIDE_PORT 0x510
#define WIDE_DATA 0xbeef
#define IN_PORT	  0x1234
#define IN_DATA	  'K'

/*
 * 16-bit real-mode code (operand size 16 by default, so opcode 0xEF writes
 * AX). Hand-assembled; each line gives the instruction it encodes.
 */
static const uint8_t guest_code[] = {
	0xba, 0xf8, 0x03, /* mov $0x3f8, %dx */
	0xb0, 'H',	  /* mov $'H', %al */
	0xee,		  /* out %al, (%dx) */
	0xb0, 'i',	  /* mov $'i', %al */
	0xee,		  /* out %al, (%dx) */
	0xb0, '\n',	  /* mov $'\n', %al */
	0xee,		  /* out %al, (%dx) */
	0xba, 0x10, 0x05, /* mov $0x510, %dx */
	0xb8, 0xef, 0xbe, /* mov $0xbeef, %ax */
	0xef,		  /* out %ax, (%dx) */
	0xba, 0x34, 0x12, /* mov $0x1234, %dx */
	0xec,		  /* in (%dx), %al */
	0xba, 0xf8, 0x03, /* mov $0x3f8, %dx */
	0xee,		  /* out %al, (%dx) */
	0xf4,		  /* hlt */
};

struct io_exit {
	uint16_t port;
	uint8_t size;
	uint8_t direction;
	uint32_t count;
	uint32_t data; /* OUT: what the guest wrote; IN: what we supply */
};

static const struct io_exit expected[] = {
	{COM1_PORT, 1, KVM_EXIT_IO_OUT, 1, 'H'},  {COM1_PORT, 1, KVM_EXIT_IO_OUT, 1, 'i'},
	{COM1_PORT, 1, KVM_EXIT_IO_OUT, 1, '\n'}, {WIDE_PORT, 2, KVM_EXIT_IO_OUT, 1, WIDE_DATA},
	{IN_PORT, 1, KVM_EXIT_IO_IN, 1, IN_DATA}, {COM1_PORT, 1, KVM_EXIT_IO_OUT, 1, IN_DATA},
};
#define N_EXPECTED (sizeof(expected) / sizeof(expected[0]))

static int skip(const char *why, int err)
{
	printf("SKIP: no usable /dev/kvm: %s: %s\n", why, strerror(err));
	return 77;
}

static int fail_errno(const char *what)
{
	printf("FAIL: %s failed: %s\n", what, strerror(errno));
	return 1;
}

static const char *dir_name(uint8_t d)
{
	return d == KVM_EXIT_IO_OUT ? "out" : "in";
}

static void print_io(const char *tag, unsigned i, const struct io_exit *e)
{
	printf("%s %u: io %-3s port 0x%04x size %u count %u data 0x%0*x\n", tag, i,
	       dir_name(e->direction), e->port, e->size, e->count, e->size * 2, e->data);
}

static bool io_equal(const struct io_exit *a, const struct io_exit *b)
{
	return a->port == b->port && a->size == b->size && a->direction == b->direction &&
	       a->count == b->count && a->data == b->data;
}

static int run_guest(int kvm, int vm, uint8_t *mem)
{
	struct kvm_userspace_memory_region slot = {
		.slot = 0,
		.guest_phys_addr = 0,
		.memory_size = MEM_SIZE,
		.userspace_addr = (uint64_t)(uintptr_t)mem,
	};
	if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &slot) < 0)
		return fail_errno("KVM_SET_USER_MEMORY_REGION");
	memcpy(mem + CODE_ADDR, guest_code, sizeof(guest_code));

	int vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	if (vcpu < 0)
		return fail_errno("KVM_CREATE_VCPU");

	int rc = 1;
	struct kvm_run *run = MAP_FAILED;
	int run_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (run_size < (int)sizeof(*run)) {
		rc = fail_errno("KVM_GET_VCPU_MMAP_SIZE");
		goto out_vcpu;
	}
	run = mmap(NULL, (size_t)run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
	if (run == MAP_FAILED) {
		rc = fail_errno("mmap(kvm_run)");
		goto out_vcpu;
	}

	/* Real mode, CS base 0: the first instruction is at linear CODE_ADDR. */
	struct kvm_sregs sregs;
	if (ioctl(vcpu, KVM_GET_SREGS, &sregs) < 0) {
		rc = fail_errno("KVM_GET_SREGS");
		goto out_run;
	}
	sregs.cs.base = 0;
	sregs.cs.selector = 0;
	if (ioctl(vcpu, KVM_SET_SREGS, &sregs) < 0) {
		rc = fail_errno("KVM_SET_SREGS");
		goto out_run;
	}
	struct kvm_regs regs = {
		.rip = CODE_ADDR,
		.rflags = 0x2, /* bit 1 is reserved and reads as 1 (SDM vol. 1, 3.4.3) */
	};
	if (ioctl(vcpu, KVM_SET_REGS, &regs) < 0) {
		rc = fail_errno("KVM_SET_REGS");
		goto out_run;
	}

	unsigned seen = 0;
	bool ok = true, halted = false;
	for (unsigned n = 0; n < MAX_EXITS && !halted; n++) {
		if (ioctl(vcpu, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			rc = fail_errno("KVM_RUN");
			goto out_run;
		}
		switch (run->exit_reason) {
		case KVM_EXIT_IO: {
			/* The data lives in the kvm_run page, at data_offset. */
			uint8_t *data = (uint8_t *)run + run->io.data_offset;
			struct io_exit got = {
				.port = run->io.port,
				.size = run->io.size,
				.direction = run->io.direction,
				.count = run->io.count,
			};
			if (got.size > sizeof(got.data) || got.count != 1) {
				printf("FAIL: exit %u: io port 0x%x size %u count %u: not what the "
				       "code does\n",
				       n, got.port, got.size, got.count);
				ok = false;
				halted = true;
				break;
			}
			if (got.direction == KVM_EXIT_IO_IN) {
				/* Only IN_PORT is read; any other port reads all-ones. */
				uint32_t v = got.port == IN_PORT ? IN_DATA : 0xffffffffu;
				memcpy(data, &v, got.size);
				got.data = v & (got.size == 4 ? 0xffffffffu
							      : (1u << (8 * got.size)) - 1);
			} else {
				memcpy(&got.data, data, got.size);
			}
			print_io("exit", n, &got);
			if (seen >= N_EXPECTED || !io_equal(&got, &expected[seen])) {
				if (seen < N_EXPECTED)
					print_io("  want", seen, &expected[seen]);
				else
					printf("  want: HLT\n");
				ok = false;
			}
			seen++;
			break;
		}
		case KVM_EXIT_HLT:
			printf("exit %u: hlt\n", n);
			halted = true;
			break;
		case KVM_EXIT_FAIL_ENTRY:
			printf("FAIL: exit %u: KVM_EXIT_FAIL_ENTRY, hardware reason 0x%llx\n", n,
			       (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
			ok = false;
			halted = true;
			break;
		case KVM_EXIT_INTERNAL_ERROR:
			printf("FAIL: exit %u: KVM_EXIT_INTERNAL_ERROR, suberror %u\n", n,
			       run->internal.suberror);
			ok = false;
			halted = true;
			break;
		default:
			printf("FAIL: exit %u: unexpected exit reason %u\n", n, run->exit_reason);
			ok = false;
			halted = true;
			break;
		}
	}

	if (!halted) {
		printf("FAIL: no HLT within %d exits\n", MAX_EXITS);
		ok = false;
	} else if (seen != N_EXPECTED) {
		printf("FAIL: saw %u io exits, want %zu\n", seen, N_EXPECTED);
		ok = false;
	}
	if (ok) {
		printf("PASS: %zu io exits and hlt, exactly as expected\n", N_EXPECTED);
		rc = 0;
	}
out_run:
	munmap(run, (size_t)run_size);
out_vcpu:
	close(vcpu);
	return rc;
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);

	int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0)
		return skip("cannot open /dev/kvm read-write", errno);
	/* A stray regular file (a shell's <> redirection creates one) is no KVM. */
	struct stat st;
	if (fstat(kvm, &st) < 0 || !S_ISCHR(st.st_mode)) {
		close(kvm);
		return skip("/dev/kvm is not a character device", ENODEV);
	}

	/* 12 is the only stable KVM API version (Documentation/virt/kvm/api.rst 4.1). */
	_Static_assert(KVM_API_VERSION == 12, "unexpected <linux/kvm.h>");
	int api = ioctl(kvm, KVM_GET_API_VERSION, 0);
	if (api != 12) {
		printf("FAIL: KVM_GET_API_VERSION is %d, want 12\n", api);
		close(kvm);
		return 1;
	}
	printf("KVM API version %d\n", api);

	int vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0) {
		int rc = fail_errno("KVM_CREATE_VM");
		close(kvm);
		return rc;
	}

	int rc = 1;
	uint8_t *mem =
		mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED) {
		rc = fail_errno("mmap(guest memory)");
	} else {
		rc = run_guest(kvm, vm, mem);
		munmap(mem, MEM_SIZE);
	}
	close(vm);
	close(kvm);
	return rc;
}
