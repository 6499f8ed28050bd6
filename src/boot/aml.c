// SPDX-License-Identifier: MIT
/*
 * AML byte-code emitter. Encodings are from ACPI 6.4, section 20.2 "AML
 * Grammar Definition" (opcode values in 20.3 "AML Byte Stream Byte Values")
 * and section 6.4 "Resource Data Types for ACPI". The input is host data
 * (names and values the board chooses), but everything is still checked so
 * a typo yields an error instead of byte code that a guest misparses.
 */
#include <errno.h>
#include <string.h>
#include "boot/aml.h"

/* 20.3: opcodes used here. */
#define AML_ZERO_OP	       0x00
#define AML_ONE_OP	       0x01
#define AML_NAME_OP	       0x08
#define AML_BYTE_PREFIX	       0x0a
#define AML_WORD_PREFIX	       0x0b
#define AML_DWORD_PREFIX       0x0c
#define AML_STRING_PREFIX      0x0d
#define AML_QWORD_PREFIX       0x0e
#define AML_SCOPE_OP	       0x10
#define AML_BUFFER_OP	       0x11
#define AML_PACKAGE_OP	       0x12
#define AML_METHOD_OP	       0x14
#define AML_DUAL_NAME_PREFIX   0x2e
#define AML_MULTI_NAME_PREFIX  0x2f
#define AML_EXT_OP_PREFIX      0x5b
#define AML_DEVICE_OP	       0x82 /* after AML_EXT_OP_PREFIX */
#define AML_ROOT_CHAR	       0x5c /* '\' */
#define AML_PARENT_PREFIX_CHAR 0x5e /* '^' */
#define AML_RETURN_OP	       0xa4

/* 20.3: opcodes of method bodies. */
#define AML_LOCAL0_OP	    0x60 /* Local0-Local7: 0x60-0x67 */
#define AML_ARG0_OP	    0x68 /* Arg0-Arg6: 0x68-0x6e */
#define AML_STORE_OP	    0x70
#define AML_AND_OP	    0x7b
#define AML_OR_OP	    0x7d
#define AML_CREATE_DWORD_OP 0x8a /* CreateDWordField */
#define AML_LNOT_OP	    0x92
#define AML_LEQUAL_OP	    0x93
#define AML_IF_OP	    0xa0
#define AML_ELSE_OP	    0xa1

/* 6.4.2: small resource items, tag byte = (item name << 3) | length. */
#define RES_IRQ_NOFLAGS 0x22 /* IRQ descriptor, length 2 (no information byte) */
#define RES_IO		0x47 /* I/O port descriptor, length 7 */
#define RES_IO_DECODE16 0x01 /* information byte: decodes all 16 address bits */
#define RES_END_TAG	0x79 /* End Tag, length 1 */

/* 6.4.3: large resource items, tag byte then a 16-bit length of what follows. */
#define RES_MEM32_FIXED	    0x86 /* 6.4.3.4, length 9 */
#define RES_DWORD_ADDR	    0x87 /* 6.4.3.5.2, length 23 without a resource source */
#define RES_WORD_ADDR	    0x88 /* 6.4.3.5.3, length 13 */
#define RES_QWORD_ADDR	    0x8a /* 6.4.3.5.1, length 43 */
#define RES_MEM32_FIXED_LEN 12
#define RES_QWORD_ADDR_LEN  46

/* 6.4.3.5 Address Space Resource Descriptors: Resource Type. */
#define RES_TYPE_MEMORY 0
#define RES_TYPE_IO	1
#define RES_TYPE_BUS	2
/* General Flags: bit 0 set = consumer only, clear = producer (this device
 * produces and consumes); bit 1 set = subtractive decode; bit 2 _MIF (min
 * address fixed); bit 3 _MAF (max address fixed). */
#define RES_GF_MIF    (1u << 2)
#define RES_GF_MAF    (1u << 3)
#define RES_GF_WINDOW (RES_GF_MIF | RES_GF_MAF) /* producer, positive decode */
/* Type Specific Flags. I/O: bits 1:0 _RNG = 3 (ISA and non-ISA ports),
 * bit 4 _TTP = 0 (static). Memory: bit 0 _RW = 1, bits 2:1 _MEM = 0
 * (non-cacheable), bits 4:3 _MTP = 0 (AddressRangeMemory), bit 5 _TTP = 0. */
#define RES_IO_ENTIRE_RANGE 0x03
#define RES_MEM_RW	    0x01

#define NAMESEG_LEN   4
#define MAX_SEGMENTS  255 /* MultiNamePrefix SegCount is one byte */
#define MAX_PKG_ELEMS 255 /* Package NumElements is one byte */

static void fail(struct aml *a, int err)
{
	if (!a->err)
		a->err = err;
}

void aml_init(struct aml *a, void *buf, size_t cap)
{
	memset(a, 0, sizeof(*a));
	a->buf = buf;
	a->cap = cap;
	a->after_if = SIZE_MAX;
}

long aml_finish(const struct aml *a)
{
	if (a->err)
		return a->err;
	if (a->depth)
		return -EINVAL;
	return (long)a->len;
}

void aml_raw(struct aml *a, const void *p, size_t n)
{
	if (a->err)
		return;
	if (n > a->cap - a->len) {
		fail(a, -ENOSPC);
		return;
	}
	memcpy(a->buf + a->len, p, n);
	a->len += n;
}

static void emit1(struct aml *a, uint8_t b)
{
	aml_raw(a, &b, 1);
}

/* 20.2.3 ComputationalData: the shortest encoding of @v; returns its length. */
static size_t encode_integer(uint64_t v, uint8_t out[9])
{
	size_t n;

	if (v == 0) {
		out[0] = AML_ZERO_OP;
		return 1;
	}
	if (v == 1) {
		out[0] = AML_ONE_OP;
		return 1;
	}
	if (v <= 0xff) {
		out[0] = AML_BYTE_PREFIX;
		n = 1;
	} else if (v <= 0xffff) {
		out[0] = AML_WORD_PREFIX;
		n = 2;
	} else if (v <= 0xffffffffu) {
		out[0] = AML_DWORD_PREFIX;
		n = 4;
	} else {
		out[0] = AML_QWORD_PREFIX;
		n = 8;
	}
	for (size_t i = 0; i < n; i++)
		out[1 + i] = (uint8_t)(v >> (8 * i));
	return 1 + n;
}

void aml_integer(struct aml *a, uint64_t v)
{
	uint8_t b[9];
	aml_raw(a, b, encode_integer(v, b));
}

void aml_string(struct aml *a, const char *s)
{
	/* 20.2.3: AsciiChar is 0x01-0x7F. */
	for (const char *p = s; *p; p++) {
		if ((unsigned char)*p > 0x7f) {
			fail(a, -EINVAL);
			return;
		}
	}
	emit1(a, AML_STRING_PREFIX);
	aml_raw(a, s, strlen(s) + 1);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

uint32_t aml_eisaid_value(const char *id)
{
	uint8_t b[4];
	int h[4];

	if (strlen(id) != 7)
		return 0;
	for (int i = 0; i < 3; i++)
		if (id[i] < 'A' || id[i] > 'Z')
			return 0;
	for (int i = 0; i < 4; i++) {
		h[i] = hexval(id[3 + i]);
		if (h[i] < 0)
			return 0;
	}
	/*
	 * Each letter is 5 bits ('A' = 1), packed big-endian into the first
	 * two bytes; the product ID's hex digits follow, two per byte.
	 */
	unsigned int c1 = id[0] - 0x40, c2 = id[1] - 0x40, c3 = id[2] - 0x40;
	b[0] = (uint8_t)((c1 << 2) | (c2 >> 3));
	b[1] = (uint8_t)(((c2 & 7) << 5) | c3);
	b[2] = (uint8_t)((h[0] << 4) | h[1]);
	b[3] = (uint8_t)((h[2] << 4) | h[3]);
	return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

void aml_eisaid(struct aml *a, const char *id)
{
	uint32_t v = aml_eisaid_value(id);
	uint8_t b[5] = {AML_DWORD_PREFIX, (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16),
			(uint8_t)(v >> 24)};

	if (!v) {
		fail(a, -EINVAL);
		return;
	}
	/* Always a DWord, as the ASL macro produces, even if the value were small. */
	aml_raw(a, b, sizeof(b));
}

static int lead_char(char c)
{
	return (c >= 'A' && c <= 'Z') || c == '_';
}

static int name_char(char c)
{
	return lead_char(c) || (c >= '0' && c <= '9');
}

void aml_namestring(struct aml *a, const char *path)
{
	uint8_t segs[MAX_SEGMENTS][NAMESEG_LEN];
	unsigned int nseg = 0;
	const char *p = path;

	if (a->err)
		return;
	/* 20.2.2: NameString := <RootChar NamePath> | <PrefixPath NamePath>. */
	if (*p == '\\') {
		emit1(a, AML_ROOT_CHAR);
		p++;
	} else {
		while (*p == '^') {
			emit1(a, AML_PARENT_PREFIX_CHAR);
			p++;
		}
	}
	if (*p == '\0' && p != path) {
		emit1(a, 0x00); /* NullName: "\" alone names the root scope */
		return;
	}
	for (;;) {
		size_t n = 0;
		if (nseg == MAX_SEGMENTS || !lead_char(*p)) {
			fail(a, -EINVAL);
			return;
		}
		while (name_char(p[n]) && n < NAMESEG_LEN) {
			segs[nseg][n] = (uint8_t)p[n];
			n++;
		}
		/* Trailing underscores pad a short NameSeg (20.2.2). */
		for (size_t i = n; i < NAMESEG_LEN; i++)
			segs[nseg][i] = '_';
		nseg++;
		p += n;
		if (*p == '\0')
			break;
		if (*p != '.') {
			fail(a, -EINVAL); /* bad character or a segment longer than 4 */
			return;
		}
		p++;
	}
	if (nseg == 2) {
		emit1(a, AML_DUAL_NAME_PREFIX);
	} else if (nseg > 2) {
		emit1(a, AML_MULTI_NAME_PREFIX);
		emit1(a, (uint8_t)nseg);
	}
	aml_raw(a, segs, (size_t)nseg * NAMESEG_LEN);
}

void aml_name(struct aml *a, const char *name)
{
	emit1(a, AML_NAME_OP);
	aml_namestring(a, name);
}

void aml_return(struct aml *a)
{
	emit1(a, AML_RETURN_OP);
}

/* Remember where the PkgLength of a new object goes; aml_end() inserts it. */
static void open_obj(struct aml *a, enum aml_kind kind)
{
	if (a->err)
		return;
	if (a->depth == AML_MAX_DEPTH) {
		fail(a, -EINVAL);
		return;
	}
	a->open[a->depth].start = a->len;
	a->open[a->depth].kind = kind;
	a->depth++;
}

void aml_scope_begin(struct aml *a, const char *path)
{
	emit1(a, AML_SCOPE_OP);
	open_obj(a, AML_K_SCOPE);
	aml_namestring(a, path);
}

void aml_device_begin(struct aml *a, const char *name)
{
	emit1(a, AML_EXT_OP_PREFIX);
	emit1(a, AML_DEVICE_OP);
	open_obj(a, AML_K_DEVICE);
	aml_namestring(a, name);
}

void aml_method_begin(struct aml *a, const char *name, unsigned int nargs, int serialized)
{
	if (nargs > 7) {
		fail(a, -EINVAL);
		return;
	}
	emit1(a, AML_METHOD_OP);
	open_obj(a, AML_K_METHOD);
	aml_namestring(a, name);
	/* 20.2.5.2 MethodFlags: bits 0-2 ArgCount, bit 3 SerializeFlag, 4-7 SyncLevel. */
	emit1(a, (uint8_t)(nargs | (serialized ? 0x08 : 0)));
}

void aml_package_begin(struct aml *a, unsigned int nelems)
{
	if (nelems == 0 || nelems > MAX_PKG_ELEMS) {
		fail(a, -EINVAL);
		return;
	}
	emit1(a, AML_PACKAGE_OP);
	open_obj(a, AML_K_PACKAGE);
	emit1(a, (uint8_t)nelems);
}

void aml_buffer_begin(struct aml *a)
{
	emit1(a, AML_BUFFER_OP);
	open_obj(a, AML_K_BUFFER);
}

/*
 * 20.2.4 PkgLength: the length counts itself and everything after it up to
 * the end of the object. One byte holds up to 63; otherwise bits 7-6 of the
 * lead byte say how many bytes follow (1-3), bits 3-0 are the low nibble and
 * each following byte holds the next 8 bits. Returns the encoded length, 0
 * if @body is too long to express.
 */
static size_t encode_pkglen(size_t body, uint8_t out[4])
{
	static const size_t max[] = {0, 0x3f, 0xfff, 0xfffff, AML_PKGLEN_MAX};

	for (size_t n = 1; n <= 4; n++) {
		if (body > max[n] - n)
			continue;
		size_t total = body + n;
		if (n == 1) {
			out[0] = (uint8_t)total;
			return 1;
		}
		out[0] = (uint8_t)(((n - 1) << 6) | (total & 0x0f));
		for (size_t i = 1; i < n; i++)
			out[i] = (uint8_t)(total >> (4 + 8 * (i - 1)));
		return n;
	}
	return 0;
}

void aml_end(struct aml *a)
{
	uint8_t hdr[4 + 9];
	size_t hlen = 0;

	if (a->err)
		return;
	if (!a->depth) {
		fail(a, -EINVAL);
		return;
	}
	a->depth--;
	size_t start = a->open[a->depth].start;
	size_t body = a->len - start;
	uint8_t size_enc[9];
	size_t size_len = 0;

	/* 20.2.5.4 DefBuffer := BufferOp PkgLength BufferSize ByteList. */
	if (a->open[a->depth].kind == AML_K_BUFFER)
		size_len = encode_integer(body, size_enc);
	hlen = encode_pkglen(body + size_len, hdr);
	if (!hlen) {
		fail(a, -ENOSPC);
		return;
	}
	memcpy(hdr + hlen, size_enc, size_len);
	hlen += size_len;
	if (hlen > a->cap - a->len) {
		fail(a, -ENOSPC);
		return;
	}
	memmove(a->buf + start + hlen, a->buf + start, body);
	memcpy(a->buf + start, hdr, hlen);
	a->len += hlen;
	/* 20.2.5.3 DefIfElse: an Else belongs to the If just before it. */
	a->after_if = a->open[a->depth].kind == AML_K_IF ? a->len : SIZE_MAX;
}

void aml_if_begin(struct aml *a)
{
	emit1(a, AML_IF_OP);
	open_obj(a, AML_K_IF);
}

void aml_else_begin(struct aml *a)
{
	if (!a->err && a->after_if != a->len) {
		fail(a, -EINVAL);
		return;
	}
	emit1(a, AML_ELSE_OP);
	open_obj(a, AML_K_ELSE);
}

void aml_arg(struct aml *a, unsigned int n)
{
	if (n > 6) {
		fail(a, -EINVAL);
		return;
	}
	emit1(a, (uint8_t)(AML_ARG0_OP + n));
}

void aml_local(struct aml *a, unsigned int n)
{
	if (n > 7) {
		fail(a, -EINVAL);
		return;
	}
	emit1(a, (uint8_t)(AML_LOCAL0_OP + n));
}

void aml_store(struct aml *a)
{
	emit1(a, AML_STORE_OP);
}

void aml_and(struct aml *a)
{
	emit1(a, AML_AND_OP);
}

void aml_or(struct aml *a)
{
	emit1(a, AML_OR_OP);
}

void aml_lequal(struct aml *a)
{
	emit1(a, AML_LEQUAL_OP);
}

void aml_lnot(struct aml *a)
{
	emit1(a, AML_LNOT_OP);
}

void aml_create_dword_field(struct aml *a)
{
	emit1(a, AML_CREATE_DWORD_OP);
}

void aml_uuid(struct aml *a, const char *uuid)
{
	/* Byte i of the buffer comes from the hex pair at string offset pos[i]. */
	static const uint8_t pos[16] = {6, 4, 2, 0, 11, 9, 16, 14, 19, 21, 24, 26, 28, 30, 32, 34};
	uint8_t b[16];

	if (strlen(uuid) != 36 || uuid[8] != '-' || uuid[13] != '-' || uuid[18] != '-' ||
	    uuid[23] != '-') {
		fail(a, -EINVAL);
		return;
	}
	for (size_t i = 0; i < 16; i++) {
		char hi = uuid[pos[i]], lo = uuid[pos[i] + 1];
		int h = hexval(hi >= 'a' && hi <= 'f' ? (char)(hi - 32) : hi);
		int l = hexval(lo >= 'a' && lo <= 'f' ? (char)(lo - 32) : lo);
		if (h < 0 || l < 0) {
			fail(a, -EINVAL);
			return;
		}
		b[i] = (uint8_t)(h << 4 | l);
	}
	aml_buffer_begin(a);
	aml_raw(a, b, sizeof(b));
	aml_end(a);
}

void aml_resource_begin(struct aml *a)
{
	aml_buffer_begin(a);
}

void aml_res_io(struct aml *a, uint16_t port, uint8_t len)
{
	/* 6.4.2.5: min base = max base = @port, alignment 1, range length @len. */
	uint8_t d[8] = {RES_IO,
			RES_IO_DECODE16,
			(uint8_t)port,
			(uint8_t)(port >> 8),
			(uint8_t)port,
			(uint8_t)(port >> 8),
			1,
			len};

	if (!len || (uint32_t)port + len > 0x10000) {
		fail(a, -EINVAL);
		return;
	}
	aml_raw(a, d, sizeof(d));
}

void aml_res_irq(struct aml *a, unsigned int irq)
{
	/* 6.4.2.1: a 16-bit mask of ISA IRQs; without the information byte the
	 * interrupt is edge-triggered, active high and not shared. */
	if (irq > 15) {
		fail(a, -EINVAL);
		return;
	}
	uint16_t mask = (uint16_t)(1u << irq);
	uint8_t d[3] = {RES_IRQ_NOFLAGS, (uint8_t)mask, (uint8_t)(mask >> 8)};
	aml_raw(a, d, sizeof(d));
}

static void put_le(uint8_t *p, uint64_t v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/*
 * 6.4.3.5: tag, length, resource type, general flags, type specific flags,
 * then granularity, minimum, maximum, translation offset and length, each
 * @w bytes. No resource source index or string follows.
 */
static void addr_space(struct aml *a, uint8_t tag, size_t w, uint8_t type, uint8_t tflags,
		       uint64_t min, uint64_t max)
{
	uint8_t d[RES_QWORD_ADDR_LEN] = {0};
	uint64_t field_max = w == 8 ? UINT64_MAX : (1ULL << (8 * w)) - 1;
	size_t n = 6 + 5 * w;

	/* The length, max - min + 1, must fit the field (so 0..field_max cannot). */
	if (min > max || max > field_max || max - min == field_max) {
		fail(a, -EINVAL);
		return;
	}
	d[0] = tag;
	put_le(d + 1, n - 3, 2);
	d[3] = type;
	d[4] = RES_GF_WINDOW;
	d[5] = tflags;
	/* Granularity 0 and translation 0: d[6..] and d[6 + 3w..] stay zero. */
	put_le(d + 6 + w, min, w);
	put_le(d + 6 + 2 * w, max, w);
	put_le(d + 6 + 4 * w, max - min + 1, w);
	aml_raw(a, d, n);
}

void aml_res_word_bus_number(struct aml *a, uint16_t min, uint16_t max)
{
	addr_space(a, RES_WORD_ADDR, 2, RES_TYPE_BUS, 0, min, max);
}

void aml_res_word_io(struct aml *a, uint16_t min, uint16_t max)
{
	addr_space(a, RES_WORD_ADDR, 2, RES_TYPE_IO, RES_IO_ENTIRE_RANGE, min, max);
}

void aml_res_dword_memory(struct aml *a, uint32_t min, uint32_t max)
{
	addr_space(a, RES_DWORD_ADDR, 4, RES_TYPE_MEMORY, RES_MEM_RW, min, max);
}

void aml_res_qword_memory(struct aml *a, uint64_t min, uint64_t max)
{
	addr_space(a, RES_QWORD_ADDR, 8, RES_TYPE_MEMORY, RES_MEM_RW, min, max);
}

void aml_res_memory32_fixed(struct aml *a, uint32_t base, uint32_t len)
{
	uint8_t d[RES_MEM32_FIXED_LEN] = {RES_MEM32_FIXED, RES_MEM32_FIXED_LEN - 3, 0, RES_MEM_RW};

	if (!len || (uint64_t)base + len > 0x100000000ULL) {
		fail(a, -EINVAL);
		return;
	}
	put_le(d + 4, base, 4);
	put_le(d + 8, len, 4);
	aml_raw(a, d, sizeof(d));
}

void aml_resource_end(struct aml *a)
{
	/* 6.4.2.9: a checksum of 0 means "treat the template as checksummed". */
	uint8_t end[2] = {RES_END_TAG, 0};

	if (!a->err && (!a->depth || a->open[a->depth - 1].kind != AML_K_BUFFER)) {
		fail(a, -EINVAL);
		return;
	}
	aml_raw(a, end, sizeof(end));
	aml_end(a);
}
