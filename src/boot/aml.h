/* SPDX-License-Identifier: MIT */
/*
 * A tiny AML byte-code emitter (ACPI 6.4, section 20 "ACPI Machine Language
 * (AML) Specification", and section 6.4 "Resource Data Types for ACPI").
 *
 * It writes into a caller-supplied buffer of fixed capacity and never
 * allocates. Objects with a PkgLength (Scope, Device, Method, Package,
 * Buffer) are opened with aml_*_begin() and closed with aml_end(); the
 * emitter back-patches the PkgLength (and a Buffer's size) when the object
 * is closed, choosing the shortest encoding, so callers never count bytes.
 *
 * Errors are sticky: the first bad name, overflow or unbalanced end sets
 * the error, later calls do nothing, and aml_finish() reports it. Callers
 * emit a whole block and check once.
 *
 * Example, Device (COM1) { Name (_HID, EisaId ("PNP0501")) }:
 *
 *	aml_device_begin(a, "COM1");
 *	aml_name(a, "_HID");
 *	aml_eisaid(a, "PNP0501");
 *	aml_end(a);
 *
 * Resource templates (_CRS) are Buffers of resource descriptors:
 *
 *	aml_name(a, "_CRS");
 *	aml_resource_begin(a);
 *	aml_res_io(a, 0x3f8, 8);
 *	aml_res_irq(a, 4);
 *	aml_resource_end(a);    // appends the End Tag, closes the Buffer
 *
 * More descriptors (e.g. the Word/DWord/QWord Address Space descriptors a
 * PCI host bridge _CRS needs, section 6.4.3.5) are added as further
 * aml_res_*() functions that append bytes with aml_raw().
 */
#ifndef HOSTEL_AML_H
#define HOSTEL_AML_H

#include <stddef.h>
#include <stdint.h>
#include "hostel/compiler.h"

#define AML_MAX_DEPTH 16

/* Longest PkgLength the encoding can express (section 20.2.4): 2^28 - 1. */
#define AML_PKGLEN_MAX 0x0fffffffu

enum aml_kind {
	AML_K_SCOPE,
	AML_K_DEVICE,
	AML_K_METHOD,
	AML_K_PACKAGE,
	AML_K_BUFFER,
};

struct aml {
	uint8_t *buf;
	size_t len;
	size_t cap;
	int err; /* 0, -ENOSPC (out of room) or -EINVAL (bad name, value, nesting) */
	unsigned int depth;
	struct {
		size_t start; /* offset where the PkgLength goes */
		enum aml_kind kind;
	} open[AML_MAX_DEPTH];
};

/* Emit into @buf, at most @cap bytes. */
void aml_init(struct aml *a, void *buf, size_t cap);

/* Bytes emitted, or the sticky error; also -EINVAL if an object is still open. */
long aml_finish(const struct aml *a) __must_check;

/* Raw bytes, for resource descriptors and opcodes not wrapped here. */
void aml_raw(struct aml *a, const void *p, size_t n);

/* ---- Data objects (section 20.2.3) ---- */

/* The shortest of ZeroOp, OneOp, BytePrefix, WordPrefix, DWordPrefix, QWordPrefix. */
void aml_integer(struct aml *a, uint64_t v);

/* StringPrefix AsciiCharList NullChar; characters 0x01-0x7f only. */
void aml_string(struct aml *a, const char *s);

/*
 * A compressed EISA ID such as "PNP0501" as a DWord integer (section 19.6,
 * "EISAID (EISA ID String To Integer Conversion Macro)"): three upper-case
 * letters, then four upper-case hex digits.
 */
void aml_eisaid(struct aml *a, const char *id);

/* The 32-bit value aml_eisaid() emits, or 0 if @id is malformed. */
uint32_t aml_eisaid_value(const char *id);

/*
 * A NameString (section 20.2.2): an optional leading '\' (root) or '^'s
 * (parent), then one or more '.'-separated segments of 1-4 characters
 * [A-Z_][A-Z0-9_]*; short segments are padded with '_' ("RTC" -> "RTC_").
 */
void aml_namestring(struct aml *a, const char *path);

/* ---- Named objects and statements ---- */

/* NameOp NameString; the caller then emits exactly one data object. */
void aml_name(struct aml *a, const char *name);

/* ReturnOp; the caller then emits the value (e.g. aml_integer). */
void aml_return(struct aml *a);

void aml_scope_begin(struct aml *a, const char *path);
void aml_device_begin(struct aml *a, const char *name);
/* @nargs 0-7; @serialized sets the SerializeFlag (sync level 0). */
void aml_method_begin(struct aml *a, const char *name, unsigned int nargs, int serialized);
/* Package of @nelems elements (1-255); the caller emits them, then aml_end(). */
void aml_package_begin(struct aml *a, unsigned int nelems);
/* Buffer whose size is the number of bytes emitted before aml_end(). */
void aml_buffer_begin(struct aml *a);

/* Close the innermost open object, writing its PkgLength. */
void aml_end(struct aml *a);

/* ---- Resource templates (section 6.4) ---- */

void aml_resource_begin(struct aml *a);
/* I/O Port Descriptor (6.4.2.5), 16-bit decode, fixed at @port, @len bytes. */
void aml_res_io(struct aml *a, uint16_t port, uint8_t len);
/* IRQ Descriptor without flags (6.4.2.1): edge, active high, exclusive. @irq 0-15. */
void aml_res_irq(struct aml *a, unsigned int irq);
/* Appends the End Tag (6.4.2.9) and closes the Buffer. */
void aml_resource_end(struct aml *a);

#endif
