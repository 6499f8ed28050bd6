// SPDX-License-Identifier: MIT
/* Unit tests for src/kvm/cpuid.c: the CPUID each vCPU gets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "kvm/cpuid.h"

/* A supported table as KVM gives it: leaves 0, 1, 0xb (two subleaves),
 * the KVM signature leaf with KVM's values, 0x80000001. */
static struct kvm_cpuid2 *table(uint32_t leaf1_ecx)
{
	static const struct kvm_cpuid_entry2 src[] = {
		{.function = 0, .eax = 0x1f, .ebx = 0x68747541},
		{.function = 1, .eax = 0x00a50f00, .ebx = 0x00000800, .ecx = 0, .edx = 0x078bfbff},
		{.function = 0xb, .index = 0, .eax = 1, .ebx = 1, .ecx = 0x100, .edx = 7},
		{.function = 0xb, .index = 1, .eax = 4, .ebx = 1, .ecx = 0x201, .edx = 7},
		{.function = KVM_CPUID_SIG, .eax = 0x40000001, .ebx = 0x4b4d564b},
		{.function = 0x80000001, .ecx = 0x75c237ff, .edx = 0x2fd3fbff},
	};
	size_t n = sizeof(src) / sizeof(src[0]);
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + n * sizeof(c->entries[0]));
	assert_non_null(c);
	c->nent = (uint32_t)n;
	memcpy(c->entries, src, sizeof(src));
	c->entries[1].ecx = leaf1_ecx;
	return c;
}

static const struct kvm_cpuid_entry2 *leaf(const struct kvm_cpuid2 *c, uint32_t fn, uint32_t idx)
{
	uint32_t i = 0;
	while (i < c->nent && (c->entries[i].function != fn || c->entries[i].index != idx))
		i++;
	assert_true(i < c->nent); /* the leaf is still there */
	return &c->entries[i];
}

static void test_tsc_deadline_when_kvm_has_it(void **state)
{
	(void)state;
	struct kvm_cpuid2 *c = table(CPUID_1_ECX_X2APIC);
	cpuid_patch(c, &(struct cpuid_vcpu){.id = 0, .nr_vcpus = 1, .tsc_deadline = true});
	uint32_t ecx = leaf(c, 1, 0)->ecx;
	assert_true(ecx & CPUID_1_ECX_TSC_DEADLINE);
	assert_true(ecx & CPUID_1_ECX_HYPERVISOR);
	assert_true(ecx & CPUID_1_ECX_X2APIC); /* the rest stays */
	free(c);
}

static void test_no_tsc_deadline_without_the_cap(void **state)
{
	(void)state;
	/* Even where the table had it: KVM would not deliver the timer. */
	struct kvm_cpuid2 *c = table(CPUID_1_ECX_TSC_DEADLINE | CPUID_1_ECX_X2APIC);
	cpuid_patch(c, &(struct cpuid_vcpu){.id = 0, .nr_vcpus = 1, .tsc_deadline = false});
	uint32_t ecx = leaf(c, 1, 0)->ecx;
	assert_false(ecx & CPUID_1_ECX_TSC_DEADLINE);
	assert_true(ecx & CPUID_1_ECX_X2APIC);
	free(c);
}

static void test_apic_ids_and_count(void **state)
{
	(void)state;
	struct kvm_cpuid2 *c = table(0);
	cpuid_patch(c, &(struct cpuid_vcpu){.id = 3, .nr_vcpus = 4, .tsc_deadline = true});
	const struct kvm_cpuid_entry2 *e = leaf(c, 1, 0);
	assert_int_equal(e->ebx >> 24, 3);
	assert_int_equal((e->ebx >> 16) & 0xff, 4);
	assert_int_equal(e->ebx & 0xffff, 0x0800); /* CLFLUSH size kept */
	assert_true(e->edx & CPUID_1_EDX_HTT);
	assert_int_equal(leaf(c, 0xb, 0)->edx, 3);
	assert_int_equal(leaf(c, 0xb, 1)->edx, 3);
	free(c);

	c = table(0);
	cpuid_patch(c, &(struct cpuid_vcpu){.id = 0, .nr_vcpus = 1});
	assert_int_equal((leaf(c, 1, 0)->ebx >> 16) & 0xff, 1);
	assert_false(leaf(c, 1, 0)->edx & CPUID_1_EDX_HTT); /* one vCPU: left as KVM had it */
	free(c);

	/* More than 255: the 8-bit count field saturates. */
	c = table(0);
	cpuid_patch(c, &(struct cpuid_vcpu){.id = 300, .nr_vcpus = 400});
	assert_int_equal((leaf(c, 1, 0)->ebx >> 16) & 0xff, 255);
	assert_int_equal(leaf(c, 0xb, 0)->edx, 300);
	free(c);
}

static void test_kvm_signature(void **state)
{
	(void)state;
	struct kvm_cpuid2 *c = table(0);
	cpuid_patch(c, &(struct cpuid_vcpu){.id = 0, .nr_vcpus = 1});
	const struct kvm_cpuid_entry2 *e = leaf(c, KVM_CPUID_SIG, 0);
	char sig[13] = {0};
	memcpy(sig, &e->ebx, 4);
	memcpy(sig + 4, &e->ecx, 4);
	memcpy(sig + 8, &e->edx, 4);
	assert_string_equal(sig, "KVMKVMKVM");
	assert_int_equal(e->eax, KVM_CPUID_FEAT);
	/* Leaves hostel does not own pass through untouched. */
	assert_int_equal(leaf(c, 0x80000001, 0)->ecx, 0x75c237ff);
	assert_int_equal(leaf(c, 0, 0)->eax, 0x1f);
	free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tsc_deadline_when_kvm_has_it),
		cmocka_unit_test(test_no_tsc_deadline_without_the_cap),
		cmocka_unit_test(test_apic_ids_and_count),
		cmocka_unit_test(test_kvm_signature),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
