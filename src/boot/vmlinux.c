// SPDX-License-Identifier: MIT
/*
 * The ELF vmlinux inside a bzImage: find it, unpack it on the host, check it.
 *
 * Spec: Documentation/arch/x86/boot.rst ("payload_offset", "payload_length":
 * the payload is the compressed vmlinux, its format told by its magic), the
 * kernel's arch/x86/boot/compressed build (the payload is followed by the
 * decompressed size, 4 bytes little-endian) and the System V ELF-64 object
 * file format (ELF header, program headers, PT_LOAD).
 */
#include <elf.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include "boot/boot.h"
#include "boot/vmlinux.h"
#include "hostel-config.h"

#if HOSTEL_HAVE_LZMA
#include <lzma.h>
#endif
#if HOSTEL_HAVE_ZLIB
#include <zlib.h>
#endif
#if HOSTEL_HAVE_ZSTD
#include <zstd.h>
#endif

#define fail boot_fail

bool vmlinux_is_elf(const void *data, size_t len)
{
	return data && len >= SELFMAG && memcmp(data, ELFMAG, SELFMAG) == 0;
}

int vmlinux_parse(const void *elf, size_t len, struct vmlinux_info *out, const char **why)
{
	const uint8_t *b = elf;
	Elf64_Ehdr eh;

	memset(out, 0, sizeof(*out));
	if (!vmlinux_is_elf(elf, len) || len < sizeof(eh))
		return fail(why, -EINVAL, "not an ELF file");
	memcpy(&eh, b, sizeof(eh));
	if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB)
		return fail(why, -EINVAL, "ELF kernel is not 64-bit little-endian");
	if (eh.e_machine != EM_X86_64)
		return fail(why, -EINVAL, "ELF kernel is for machine %u, not x86-64", eh.e_machine);
	if (eh.e_type != ET_EXEC)
		return fail(why, -EINVAL, "ELF kernel is not an executable (type %u)", eh.e_type);
	if (eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum == 0 || eh.e_phnum > 64)
		return fail(why, -EINVAL, "ELF kernel has %u program headers of %u bytes",
			    eh.e_phnum, eh.e_phentsize);
	if (eh.e_phoff > len || (len - eh.e_phoff) / sizeof(Elf64_Phdr) < eh.e_phnum)
		return fail(why, -EINVAL, "ELF program headers run past the end of the file");

	uint64_t entry = eh.e_entry;
	if (entry >= KERNEL_START_MAP)
		entry -= KERNEL_START_MAP;
	bool entry_ok = false;
	out->lo = UINT64_MAX;
	for (unsigned int i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;
		memcpy(&ph, b + eh.e_phoff + (uint64_t)i * sizeof(ph), sizeof(ph));
		if (ph.p_type != PT_LOAD || ph.p_memsz == 0)
			continue;
		if (out->nr_segs == VMLINUX_MAX_SEGS)
			return fail(why, -EINVAL, "ELF kernel has more than %u loadable segments",
				    VMLINUX_MAX_SEGS);
		if (ph.p_filesz > ph.p_memsz)
			return fail(why, -EINVAL, "ELF segment %u: file size above memory size", i);
		if (ph.p_offset > len || ph.p_filesz > len - ph.p_offset)
			return fail(why, -EINVAL, "ELF segment %u runs past the end of the file",
				    i);
		if (ph.p_paddr < BOOT_KERNEL_ADDR || ph.p_paddr >= BOOT_LOW_RAM_MAX ||
		    ph.p_memsz > BOOT_LOW_RAM_MAX - ph.p_paddr)
			return fail(why, -EINVAL,
				    "ELF segment %u at 0x%llx (+0x%llx) is outside [1 MiB, 3 GiB)",
				    i, (unsigned long long)ph.p_paddr,
				    (unsigned long long)ph.p_memsz);
		uint64_t end = ph.p_paddr + ph.p_memsz;
		for (unsigned int j = 0; j < out->nr_segs; j++) {
			const struct vmlinux_seg *s = &out->segs[j];
			if (ph.p_paddr < s->paddr + s->memsz && s->paddr < end)
				return fail(why, -EINVAL, "ELF segments overlap at 0x%llx",
					    (unsigned long long)ph.p_paddr);
		}
		out->segs[out->nr_segs++] = (struct vmlinux_seg){
			.paddr = ph.p_paddr,
			.offset = ph.p_offset,
			.filesz = ph.p_filesz,
			.memsz = ph.p_memsz,
		};
		out->lo = MIN(out->lo, ph.p_paddr);
		out->hi = MAX(out->hi, end);
		if (entry >= ph.p_paddr && entry - ph.p_paddr < ph.p_filesz)
			entry_ok = true;
	}
	if (out->nr_segs == 0)
		return fail(why, -EINVAL, "ELF kernel has no loadable segment");
	if (!entry_ok)
		return fail(why, -EINVAL, "ELF entry point 0x%llx is not in a loaded segment",
			    (unsigned long long)eh.e_entry);
	out->entry = entry;
	return 0;
}

const char *kcomp_name(enum kcomp c)
{
	switch (c) {
	case KCOMP_NONE:
		return "none";
	case KCOMP_GZIP:
		return "gzip";
	case KCOMP_XZ:
		return "xz";
	case KCOMP_ZSTD:
		return "zstd";
	default:
		return "other";
	}
}

enum kcomp kcomp_detect(const uint8_t *p, size_t len)
{
	static const uint8_t xz[] = {0xfd, '7', 'z', 'X', 'Z', 0x00};
	static const uint8_t zstd[] = {0x28, 0xb5, 0x2f, 0xfd};

	if (!p)
		return KCOMP_OTHER;
	if (vmlinux_is_elf(p, len))
		return KCOMP_NONE;
	if (len >= 2 && p[0] == 0x1f && (p[1] == 0x8b || p[1] == 0x9e))
		return KCOMP_GZIP;
	if (len >= sizeof(xz) && memcmp(p, xz, sizeof(xz)) == 0)
		return KCOMP_XZ;
	if (len >= sizeof(zstd) && memcmp(p, zstd, sizeof(zstd)) == 0)
		return KCOMP_ZSTD;
	return KCOMP_OTHER;
}

void vmlinux_free(uint8_t *buf, size_t len)
{
	if (buf)
		munmap(buf, len ? len : 1);
}

/* Each decoder fills exactly @olen bytes of @o from @in or fails. */
#if HOSTEL_HAVE_LZMA
static int unxz(const uint8_t *in, size_t ilen, uint8_t *o, size_t olen, const char **why)
{
	lzma_stream s = LZMA_STREAM_INIT;
	if (lzma_stream_decoder(&s, UINT64_MAX, 0) != LZMA_OK)
		return fail(why, -ENOMEM, "cannot start the xz decoder");
	s.next_in = in;
	s.avail_in = ilen;
	s.next_out = o;
	s.avail_out = olen;
	lzma_ret r = LZMA_OK;
	/* With the output full, liblzma may still have the index to read. */
	for (int i = 0; i < 4 && r == LZMA_OK; i++)
		r = lzma_code(&s, LZMA_FINISH);
	size_t got = olen - s.avail_out;
	lzma_end(&s);
	if (r != LZMA_STREAM_END || got != olen)
		return fail(why, -EINVAL,
			    "xz payload is corrupt (liblzma status %d, %zu of %zu bytes)", (int)r,
			    got, olen);
	return 0;
}
#endif

#if HOSTEL_HAVE_ZLIB
static int ungzip(const uint8_t *in, size_t ilen, uint8_t *o, size_t olen, const char **why)
{
	z_stream s;
	memset(&s, 0, sizeof(s));
	if (inflateInit2(&s, 16 + MAX_WBITS) != Z_OK)
		return fail(why, -ENOMEM, "cannot start the gzip decoder");
	int r = Z_OK;
	size_t got = 0;
	/* zlib counts in uInt: feed at most 1 GiB at a time. */
	while (r == Z_OK) {
		size_t ci = ilen - (size_t)s.total_in, co = olen - got;
		s.next_in = (Bytef *)(uintptr_t)(in + s.total_in);
		s.avail_in = (uInt)MIN(ci, 1u << 30);
		s.next_out = o + got;
		s.avail_out = (uInt)MIN(co, 1u << 30);
		if (s.avail_out == 0)
			break;
		uLong before = s.total_out;
		r = inflate(&s, Z_FINISH);
		got += s.total_out - before;
		if (r == Z_BUF_ERROR && s.avail_out == 0)
			r = Z_OK; /* more room needed: loop */
	}
	inflateEnd(&s);
	if (r != Z_STREAM_END || got != olen)
		return fail(why, -EINVAL,
			    "gzip payload is corrupt (zlib status %d, %zu of %zu bytes)", r, got,
			    olen);
	return 0;
}
#endif

#if HOSTEL_HAVE_ZSTD
static int unzstd(const uint8_t *in, size_t ilen, uint8_t *o, size_t olen, const char **why)
{
	ZSTD_DStream *d = ZSTD_createDStream();
	if (!d)
		return fail(why, -ENOMEM, "cannot start the zstd decoder");
	ZSTD_inBuffer ib = {in, ilen, 0};
	ZSTD_outBuffer ob = {o, olen, 0};
	size_t r = 1;
	while (r != 0 && ib.pos < ib.size && ob.pos < ob.size) {
		r = ZSTD_decompressStream(d, &ob, &ib);
		if (ZSTD_isError(r))
			break;
	}
	/* One more call: a frame that filled the buffer exactly may still end. */
	if (r != 0 && !ZSTD_isError(r) && ob.pos == ob.size)
		r = ZSTD_decompressStream(d, &ob, &ib);
	ZSTD_freeDStream(d);
	if (r != 0 || ob.pos != olen)
		return fail(why, -EINVAL, "zstd payload is corrupt (%s, %zu of %zu bytes)",
			    ZSTD_isError(r) ? ZSTD_getErrorName(r) : "truncated", ob.pos, olen);
	return 0;
}
#endif

int vmlinux_unpack(const uint8_t *payload, size_t len, uint8_t **out, size_t *out_len,
		   const char **why)
{
	*out = NULL;
	*out_len = 0;
	enum kcomp c = kcomp_detect(payload, len);
	int (*dec)(const uint8_t *, size_t, uint8_t *, size_t, const char **) = NULL;

	switch (c) {
#if HOSTEL_HAVE_LZMA
	case KCOMP_XZ:
		dec = unxz;
		break;
#endif
#if HOSTEL_HAVE_ZLIB
	case KCOMP_GZIP:
		dec = ungzip;
		break;
#endif
#if HOSTEL_HAVE_ZSTD
	case KCOMP_ZSTD:
		dec = unzstd;
		break;
#endif
	default:
		break;
	}
	if (!dec)
		return fail(why, -ENOTSUP, "hostel does not unpack %s kernel payloads",
			    kcomp_name(c));
	if (len < 8)
		return fail(why, -EINVAL, "kernel payload is only %zu bytes", len);

	/* The build appends the decompressed size: 4 bytes little-endian. */
	const uint8_t *t = payload + len - 4;
	size_t olen = (size_t)t[0] | (size_t)t[1] << 8 | (size_t)t[2] << 16 | (size_t)t[3] << 24;
	if (olen < sizeof(Elf64_Ehdr))
		return fail(why, -EINVAL, "kernel payload says it unpacks to %zu bytes", olen);
	if (olen > VMLINUX_MAX_SIZE)
		return fail(why, -E2BIG,
			    "kernel payload unpacks to %zu MiB, above the %llu MiB limit",
			    olen >> 20, VMLINUX_MAX_SIZE >> 20);
	uint8_t *o = mmap(NULL, olen, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (o == MAP_FAILED)
		return fail(why, -ENOMEM, "no memory to unpack a %zu MiB kernel", olen >> 20);
	int ret = dec(payload, len - 4, o, olen, why);
	if (ret) {
		munmap(o, olen);
		return ret;
	}
	*out = o;
	*out_len = olen;
	return 0;
}

uint64_t vmlinux_hash(const void *data, size_t len)
{
	/* FNV-1a over 8-byte words, then the tail bytes: fast enough for the
	 * few MiB of a kernel, and any change to them changes the name. */
	const uint8_t *p = data;
	uint64_t h = 0xcbf29ce484222325ULL ^ len;
	size_t i = 0;

	for (; i + 8 <= len; i += 8) {
		uint64_t w;
		memcpy(&w, p + i, 8);
		h = (h ^ w) * 0x100000001b3ULL;
		h ^= h >> 29;
	}
	for (; i < len; i++)
		h = (h ^ p[i]) * 0x100000001b3ULL;
	return h;
}
