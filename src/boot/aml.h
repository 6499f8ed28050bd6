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
 * Methods use prefix notation, as AML does: a call emits an operator's
 * opcode and the caller then emits its operands in the order the grammar
 * lists them. Method (M000, 1) { If (LEqual (Arg0, 1)) { Return (0x0F) } }:
 *
 *	aml_method_begin(a, "M000", 1, 0);
 *	aml_if_begin(a);
 *	aml_lequal(a);          // LEqual (
 *	aml_arg(a, 0);          //   Arg0,
 *	aml_integer(a, 1);      //   1)
 *	aml_return(a);
 *	aml_integer(a, 0x0f);
 *	aml_end(a);             // closes the If
 *	aml_end(a);             // closes the Method
 *
 * Only the operators hostel's tables use are wrapped; aml_raw() reaches
 * the rest.
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
	AML_K_IF,
	AML_K_ELSE,
};

struct aml {
	uint8_t *buf;
	size_t len;
	size_t cap;
	int err; /* 0, -ENOSPC (out of room) or -EINVAL (bad name, value, nesting) */
	unsigned int depth;
	size_t after_if; /* len right after the last If closed, else SIZE_MAX */
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

/* ---- Statements and expressions (sections 20.2.5.3, 20.2.5.4, 20.2.6) ---- */

/* If: the caller emits the predicate, then the body, then aml_end(). */
void aml_if_begin(struct aml *a);
/* Else: only directly after an If's aml_end(); the body, then aml_end(). */
void aml_else_begin(struct aml *a);

void aml_arg(struct aml *a, unsigned int n);   /* Arg0-Arg6 */
void aml_local(struct aml *a, unsigned int n); /* Local0-Local7 */

/* Operators: each emits its opcode; the caller emits the operands listed.
 * A Target is a SuperName: a NameString (aml_namestring), ArgN or LocalN. */
void aml_store(struct aml *a);		    /* Store (Source, Target) */
void aml_and(struct aml *a);		    /* And (Operand, Operand, Target) */
void aml_or(struct aml *a);		    /* Or (Operand, Operand, Target) */
void aml_lequal(struct aml *a);		    /* LEqual (Operand, Operand) */
void aml_lnot(struct aml *a);		    /* LNot (Operand) */
void aml_create_dword_field(struct aml *a); /* CreateDWordField (Buffer, ByteIndex, NameString) */

/*
 * ToUUID ("xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx") (section 19.6, "ToUUID"): a
 * 16-byte Buffer, the first three fields little-endian, the last two in
 * string order. Hex digits in either case.
 */
void aml_uuid(struct aml *a, const char *uuid);

/* ---- Resource templates (section 6.4) ---- */

void aml_resource_begin(struct aml *a);
/* I/O Port Descriptor (6.4.2.5), 16-bit decode, fixed at @port, @len bytes. */
void aml_res_io(struct aml *a, uint16_t port, uint8_t len);
/* IRQ Descriptor without flags (6.4.2.1): edge, active high, exclusive. @irq 0-15. */
void aml_res_irq(struct aml *a, unsigned int irq);

/*
 * Windows a bridge passes on to its children (6.4.3.5 Address Space
 * Descriptors): ResourceProducer, PosDecode, MinFixed, MaxFixed, granularity
 * 0, no translation, length @max - @min + 1: the "fixed size, fixed
 * location" combination 6.4.3.5 allows (a non-zero length with _MIF and
 * _MAF set requires granularity 0). -EINVAL if @min > @max or the length
 * does not fit the descriptor's length field.
 */
void aml_res_word_bus_number(struct aml *a, uint16_t min, uint16_t max);
/* WordIO, EntireRange (ISA and non-ISA ports), TypeStatic. */
void aml_res_word_io(struct aml *a, uint16_t min, uint16_t max);
/* DWordMemory / QWordMemory: NonCacheable, ReadWrite, AddressRangeMemory. */
void aml_res_dword_memory(struct aml *a, uint32_t min, uint32_t max);
void aml_res_qword_memory(struct aml *a, uint64_t min, uint64_t max);
/* Memory32Fixed (ReadWrite, @base, @len) (6.4.3.4): memory the device itself
 * decodes. -EINVAL if @len is 0 or the range passes 4 GiB. */
void aml_res_memory32_fixed(struct aml *a, uint32_t base, uint32_t len);
/* Appends the End Tag (6.4.2.9) and closes the Buffer. */
void aml_resource_end(struct aml *a);

#endif
