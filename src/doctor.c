// SPDX-License-Identifier: MIT
/* The boot doctor: see doctor.h. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "doctor.h"

#define CSI_MAX 32 /* an escape sequence longer than this is given up on */

/* @n bytes of @s into @out (size @size), always terminated. */
static void copy_n(char *out, size_t size, const char *s, size_t n)
{
	if (n >= size)
		n = size - 1;
	memcpy(out, s, n);
	out[n] = '\0';
}

/*
 * The value of the last "@key=VALUE" word of @cl into @out; false if none.
 * Words are split at blanks, as the kernel does (quotes are rare in the
 * keys read here and only cost a stray '"').
 */
static bool cmdline_get(const char *cl, const char *key, char *out, size_t size)
{
	size_t klen = strlen(key);
	bool found = false;
	while (cl && *cl) {
		while (*cl == ' ' || *cl == '\t' || *cl == '\n')
			cl++;
		size_t n = strcspn(cl, " \t\n");
		if (n > klen && !strncmp(cl, key, klen) && cl[klen] == '=') {
			copy_n(out, size, cl + klen + 1, n - klen - 1);
			found = true;
		}
		cl += n;
	}
	return found;
}

/* Whether @cl has the word @w on its own (no value). */
static bool cmdline_has(const char *cl, const char *w)
{
	size_t wl = strlen(w);
	while (cl && *cl) {
		while (*cl == ' ' || *cl == '\t' || *cl == '\n')
			cl++;
		size_t n = strcspn(cl, " \t\n");
		if (n == wl && !strncmp(cl, w, n))
			return true;
		cl += n;
	}
	return false;
}

/* console=ttyS0[,115200...] or console=uart[8250],io,0x3f8: hostel's COM1. */
static bool is_serial0(const char *v)
{
	return (!strncmp(v, "ttyS0", 5) && (v[5] == '\0' || v[5] == ',')) ||
	       (!strncmp(v, "uart", 4) && strstr(v, ",0x3f8"));
}

/* Whether any console= word of @cl names the serial port. */
static bool cmdline_serial_console(const char *cl)
{
	char v[48];
	while (cl && *cl) {
		while (*cl == ' ' || *cl == '\t' || *cl == '\n')
			cl++;
		size_t n = strcspn(cl, " \t\n");
		if (n > 8 && !strncmp(cl, "console=", 8)) {
			copy_n(v, sizeof(v), cl + 8, n - 8);
			if (is_serial0(v))
				return true;
		}
		cl += n;
	}
	return false;
}

void doctor_init(struct doctor *d, const struct doctor_facts *f)
{
	memset(d, 0, sizeof(*d));
	const char *cl = f->cmdline;
	d->have_root = cmdline_get(cl, "root", d->root, sizeof(d->root));
	d->have_init = cmdline_get(cl, "init", d->init, sizeof(d->init));
	d->have_rdinit = cmdline_get(cl, "rdinit", d->rdinit, sizeof(d->rdinit));
	d->have_console = cmdline_get(cl, "console", d->console_last, sizeof(d->console_last));
	d->serial_console = cmdline_serial_console(cl);
	d->quiet = cmdline_has(cl, "quiet");
	d->nr_disks = f->nr_disks;
	d->have_initrd = f->have_initrd;
	d->exec = f->exec;
	d->memory_mib = f->memory_mib;
}

void doctor_mark_up(struct doctor *d)
{
	d->up = true;
}

static bool starts(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

/* The message of a kernel line: without "<N>" and "[    1.234567] ". */
static const char *message(const char *s)
{
	if (s[0] == '<' && s[1] >= '0' && s[1] <= '9' && s[2] == '>')
		s += 3;
	while (*s == ' ')
		s++;
	if (*s == '[') {
		const char *e = strchr(s, ']');
		if (e)
			s = e + 1;
	}
	while (*s == ' ')
		s++;
	return s;
}

/* "(error -2)" anywhere in @s: -2; 0 if none. */
static int error_in(const char *s)
{
	const char *e = strstr(s, "(error ");
	if (!e)
		return 0;
	long v = strtol(e + 7, NULL, 10);
	return v < -4095 || v > 4095 ? 0 : (int)v;
}

/* Copy the text of @s up to the first @stop character (or the end). */
static void copy_until(char *out, size_t size, const char *s, const char *stop)
{
	copy_n(out, size, s, strcspn(s, stop));
}

/* A stage from a panic: terminal, so it replaces whatever came before. */
static void on_panic(struct doctor *d, const char *p)
{
	if (starts(p, "VFS: Unable to mount root fs on ")) {
		const char *blk = p + strlen("VFS: Unable to mount root fs on ");
		/* (0,0): no device at all. Otherwise a device was there, and
		 * either opening it failed ("Cannot open root device" came
		 * first, and set the stage) or no filesystem would mount. */
		if (strstr(blk, "(0,0)")) {
			d->stage = DOCTOR_ROOT_MISSING;
		} else if (d->stage != DOCTOR_ROOT_MISSING) {
			d->stage = DOCTOR_ROOT_UNMOUNTABLE;
			copy_until(d->stage_arg, sizeof(d->stage_arg), blk, " ");
		}
		return;
	}
	if (strstr(p, "No working init found")) {
		d->stage = DOCTOR_NO_INIT;
		d->stage_arg[0] = '\0';
		d->stage_err = 0;
		return;
	}
	if (starts(p, "Requested init ")) {
		const char *path = p + strlen("Requested init ");
		const char *end = strstr(path, " failed");
		d->stage = DOCTOR_NO_INIT;
		copy_n(d->stage_arg, sizeof(d->stage_arg), path,
		       end ? (size_t)(end - path) : strcspn(path, " "));
		d->stage_err = error_in(path);
		return;
	}
	if (starts(p, "Attempted to kill init!")) {
		const char *x = strstr(p, "exitcode=");
		d->stage = DOCTOR_INIT_DIED;
		d->stage_arg[0] = '\0';
		if (x)
			copy_until(d->stage_arg, sizeof(d->stage_arg), x + 9, " ");
		return;
	}
	if (strstr(p, "Out of memory and no killable processes") ||
	    strstr(p, "System is deadlocked on memory") || strstr(p, "Out of memory: ")) {
		d->stage = DOCTOR_OOM;
		return;
	}
}

static void on_line(struct doctor *d, const char *line)
{
	const char *m = message(line);

	if (starts(m, "Kernel panic - not syncing: ")) {
		on_panic(d, m + strlen("Kernel panic - not syncing: "));
		return;
	}
	if (starts(m, "VFS: Cannot open root device ")) {
		const char *q = m + strlen("VFS: Cannot open root device ");
		d->stage = DOCTOR_ROOT_MISSING;
		if (*q == '"')
			q++;
		copy_until(d->stage_arg, sizeof(d->stage_arg), q, "\" ");
		d->stage_err = error_in(q);
		return;
	}
	if (starts(m, "No filesystem could mount root")) {
		d->stage = DOCTOR_ROOT_UNMOUNTABLE;
		return;
	}
	/* Debian's initramfs-tools: it waited, gave up, and gives a shell. */
	if (starts(m, "Gave up waiting for root") ||
	    (starts(m, "ALERT!") && strstr(m, "does not exist"))) {
		d->stage = DOCTOR_ROOT_MISSING;
		if (starts(m, "ALERT!")) {
			const char *v = m + 6;
			while (*v == ' ')
				v++;
			copy_until(d->stage_arg, sizeof(d->stage_arg), v, " ");
		}
		return;
	}
	if (starts(m, "Waiting for root device ")) {
		if (d->stage == DOCTOR_NONE) {
			d->stage = DOCTOR_ROOT_WAIT;
			const char *v = m + strlen("Waiting for root device ");
			size_t n = strcspn(v, " ");
			while (n > 0 && v[n - 1] == '.') /* "/dev/vda..." */
				n--;
			copy_n(d->stage_arg, sizeof(d->stage_arg), v, n);
		}
		return;
	}
	/* The root filesystem came after all: the wait is over. */
	if (d->stage == DOCTOR_ROOT_WAIT &&
	    (starts(m, "VFS: Mounted root") || starts(m, "Freeing unused kernel") ||
	     (starts(m, "Run ") && strstr(m, " as init process")))) {
		d->stage = DOCTOR_NONE;
		d->stage_arg[0] = '\0';
	}
	if (starts(m, "Failed to execute ")) {
		const char *v = m + strlen("Failed to execute ");
		copy_until(d->failed_init, sizeof(d->failed_init), v, " ");
		d->failed_err = error_in(v);
		return;
	}
	if (starts(m, "Initramfs unpacking failed")) {
		d->initramfs_failed = true;
		return;
	}
	/* The default guest's ready line (images/guest-init). */
	if (starts(m, "hostel-guest: ready"))
		d->up = true;
}

static void line_done(struct doctor *d)
{
	d->line[d->line_len] = '\0';
	/* Trailing blanks carry nothing and would hide a prompt's shape. */
	size_t n = d->line_len;
	while (n > 0 && d->line[n - 1] == ' ')
		n--;
	if (n) {
		d->line[n] = '\0';
		on_line(d, d->line);
		memcpy(d->last, d->line, n + 1);
	}
	d->line_len = 0;
	d->line[0] = '\0';
}

void doctor_feed(struct doctor *d, const void *buf, size_t len)
{
	const unsigned char *p = buf;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = p[i];
		d->bytes++;
		if (d->esc && c != '\n') {
			/* ESC [ params final, or ESC and one more byte: dropped. */
			if (d->esc == 1)
				d->esc = c == '[' ? 2 : 0;
			else if ((c >= 0x40 && c <= 0x7e) || ++d->esc > CSI_MAX)
				d->esc = 0;
			continue;
		}
		d->esc = 0;
		if (c == 0x1b) {
			d->esc = 1;
			continue;
		}
		if (c == '\r')
			continue;
		if (c == '\n') {
			line_done(d);
			continue;
		}
		if (c == '\t')
			c = ' ';
		else if (c < 0x20 || c >= 0x7f)
			c = '?';
		if (d->line_len < DOCTOR_LINE_MAX) /* the rest of a long line is dropped */
			d->line[d->line_len++] = (char)c;
	}
	d->line[d->line_len] = '\0';
}

/* Appends to a diagnosis; the text is cut, never overrun. */
struct out {
	char *buf;
	size_t len, used;
};

static void __attribute__((format(printf, 2, 3))) put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	if (o->used + 1 >= o->len)
		return;
	va_start(ap, fmt);
	int n = vsnprintf(o->buf + o->used, o->len - o->used, fmt, ap);
	va_end(ap);
	if (n > 0)
		o->used += (size_t)n < o->len - o->used ? (size_t)n : o->len - o->used - 1;
}

static const char *errno_text(int err)
{
	switch (-err) {
	case ENOENT:
		return "no such file";
	case ENOEXEC:
		return "not an executable for this machine";
	case EACCES:
		return "not executable";
	case ENXIO:
		return "no such device";
	case ENODEV:
		return "no such device";
	case ENOMEM:
		return "out of memory";
	case ENOTDIR:
		return "a directory in the path is not one";
	case ELIBBAD:
		return "its interpreter is unusable";
	default:
		return "see errno";
	}
}

/* "no disk (no --disk given)", "1 disk (vda)", "3 disks (vda, vdb, vdc)". */
static void put_disks(struct out *o, unsigned int n)
{
	if (n == 0) {
		put(o, "no disk (no --disk given)");
		return;
	}
	put(o, "%u disk%s (", n, n == 1 ? "" : "s");
	for (unsigned int i = 0; i < n && i < 26; i++)
		put(o, "%svd%c", i ? ", " : "", 'a' + i);
	put(o, ")");
}

/* What root= names: a vdX index (-1: not one), or a non-virtio disk. */
static int root_vd_index(const char *root)
{
	if (starts(root, "/dev/vd") && root[7] >= 'a' && root[7] <= 'z')
		return root[7] - 'a';
	if (starts(root, "vd") && root[2] >= 'a' && root[2] <= 'z')
		return root[2] - 'a';
	return -1;
}

static bool root_other_disk(const char *root)
{
	static const char *const others[] = {"/dev/sd",	    "/dev/hd", "/dev/nvme", "/dev/xvd",
					     "/dev/mmcblk", "sd",      "hd"};
	for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++)
		if (starts(root, others[i]))
			return true;
	return false;
}

static void put_root(struct out *o, const struct doctor *d)
{
	if (d->have_root)
		put(o, "root=%.80s", d->root);
	else
		put(o, "no root= on the command line");
}

static void diag_root(const struct doctor *d, struct out *o, uint64_t silent_ms)
{
	int vd = d->have_root ? root_vd_index(d->root) : -1;

	if (d->stage == DOCTOR_ROOT_WAIT)
		put(o, "the kernel has waited %llu s for its root device %.60s: ",
		    (unsigned long long)(silent_ms / 1000), d->stage_arg);
	else
		put(o, "the kernel cannot find its root device: ");
	put_root(o, d);
	put(o, ", and hostel gave ");
	put_disks(o, d->nr_disks);
	put(o, "\n");
	if (d->initramfs_failed)
		put(o, "the initrd could not be unpacked ('Initramfs unpacking failed' above): "
		       "is it a cpio archive, in a compression this kernel has, that fits in "
		       "--memory?");
	else if (d->nr_disks == 0)
		put(o, "add --disk IMAGE (the guest sees it as /dev/vda), or fix root=");
	else if (d->have_root && root_other_disk(d->root))
		put(o, "hostel's disks are virtio-blk, named vda, vdb, ...: use root=/dev/vda "
		       "(or its partition, or UUID=)");
	else if (vd >= 0 && (unsigned int)vd >= d->nr_disks)
		put(o, "root= names a disk hostel does not have: fix root= or add --disk");
	else if (d->have_initrd)
		put(o, "root= may be wrong, or the initramfs lacks virtio_pci and virtio_blk "
		       "(Debian builds them as modules): add them to the initramfs");
	else
		put(o, "root= may be wrong, or the kernel lacks virtio_pci and virtio_blk "
		       "(Debian builds them as modules): boot it with its initramfs (--initrd)");
}

static void diag_unmountable(const struct doctor *d, struct out *o)
{
	put(o, "the kernel found a root device%s%.40s but could not mount it (",
	    d->stage_arg[0] ? " " : "", d->stage_arg);
	put_root(o, d);
	put(o, ")\n");
	if (d->have_initrd)
		put(o, "the initramfs may lack the filesystem's module (ext4, xfs, ...), or root= "
		       "names the wrong partition (the whole disk instead of vda1?)");
	else
		put(o, "without an initrd the filesystem (ext4, ...) must be built into the "
		       "kernel: add --initrd, or check root= names the right partition (vda1?)");
}

static void diag_no_init(const struct doctor *d, struct out *o)
{
	if (d->stage_arg[0]) { /* init=PATH failed */
		put(o, "init=%.60s could not be run", d->stage_arg);
		if (d->stage_err)
			put(o, " (error %d: %s)", d->stage_err, errno_text(d->stage_err));
		put(o,
		    "\ncheck that %.60s exists on the root filesystem and is an x86-64 "
		    "executable whose #! interpreter and libraries are there too",
		    d->stage_arg);
		return;
	}
	put(o, "the kernel found no init to run");
	if (d->failed_init[0])
		put(o, ": %.60s failed (error %d: %s)", d->failed_init, d->failed_err,
		    errno_text(d->failed_err));
	put(o, "\n");
	if (d->have_initrd)
		put(o,
		    "the initramfs's %.60s is missing or cannot run (not executable, for "
		    "another CPU, or its #! interpreter or libraries missing)",
		    d->have_rdinit ? d->rdinit : "/init");
	else
		put(o,
		    "the root filesystem (%.60s) has no /sbin/init, /etc/init, /bin/init or "
		    "/bin/sh it can run: check the image, or pass init=PATH",
		    d->have_root ? d->root : "no root=");
}

static const char *signal_name(unsigned int sig)
{
	switch (sig) {
	case 4:
		return "SIGILL";
	case 6:
		return "SIGABRT";
	case 7:
		return "SIGBUS";
	case 9:
		return "SIGKILL";
	case 11:
		return "SIGSEGV";
	case 15:
		return "SIGTERM";
	default:
		return "a signal";
	}
}

static void diag_init_died(const struct doctor *d, struct out *o)
{
	char *end;
	unsigned long code = strtoul(d->stage_arg, &end, 16);
	if (!d->stage_arg[0] || *end)
		put(o, "init (PID 1) ended, and the kernel cannot go on without it\n");
	else if (code & 0x7f)
		put(o, "init (PID 1) was killed by signal %lu (%s)\n", code & 0x7f,
		    signal_name((unsigned int)(code & 0x7f)));
	else
		put(o,
		    "init (PID 1) exited with status %lu, and the kernel cannot go on "
		    "without it\n",
		    (code >> 8) & 0xff);
	if (d->exec)
		put(o, "with hostel exec, init runs the command's shell: it ended before the "
		       "command's status came back; the console lines above show why");
	else
		put(o, "PID 1 must never end (end an init script with poweroff -f); a crash often "
		       "means a missing library or a binary for another CPU");
}

static void diag_oom(const struct doctor *d, struct out *o)
{
	put(o, "the guest ran out of memory with nothing left to kill");
	if (d->memory_mib)
		put(o, " (--memory is %llu MiB)", (unsigned long long)d->memory_mib);
	put(o, "\ngive it more with --memory");
	if (d->memory_mib)
		put(o, " %lluM", (unsigned long long)d->memory_mib * 2);
	if (d->have_initrd)
		put(o, ", or make the initramfs smaller (it is unpacked into RAM)");
}

static bool diag_stage(const struct doctor *d, struct out *o, uint64_t silent_ms)
{
	switch (d->stage) {
	case DOCTOR_ROOT_WAIT:
	case DOCTOR_ROOT_MISSING:
		diag_root(d, o, silent_ms);
		return true;
	case DOCTOR_ROOT_UNMOUNTABLE:
		diag_unmountable(d, o);
		return true;
	case DOCTOR_NO_INIT:
		diag_no_init(d, o);
		return true;
	case DOCTOR_INIT_DIED:
		diag_init_died(d, o);
		return true;
	case DOCTOR_OOM:
		diag_oom(d, o);
		return true;
	default:
		return false;
	}
}

static bool ends_with(const char *s, size_t n, const char *suffix)
{
	size_t k = strlen(suffix);
	return n >= k && !strncmp(s + n - k, suffix, k);
}

/* A partial line that waits for input: "login: ", "hostel:~# ", "$ ". */
static bool at_prompt(const struct doctor *d)
{
	size_t n = d->line_len;
	while (n > 0 && d->line[n - 1] == ' ')
		n--;
	if (n == 0 || n > 120)
		return false;
	char c = d->line[n - 1];
	return c == '#' || c == '$' || c == '>' || ends_with(d->line, n, "login:") ||
	       ends_with(d->line, n, "assword:");
}

static void diag_no_output(const struct doctor *d, struct out *o, unsigned long long s)
{
	if (!d->have_console) {
		put(o,
		    "the guest printed nothing on the serial console in %llu s: the command "
		    "line has no console= (--no-auto-cmdline?), so Linux writes to a screen "
		    "hostel does not show\n"
		    "add console=ttyS0 to --cmdline, or drop --no-auto-cmdline",
		    s);
	} else if (!d->serial_console) {
		put(o,
		    "the guest printed nothing on the serial console in %llu s: console=%.40s "
		    "sends the kernel's output to another device\n"
		    "add console=ttyS0 (hostel's serial port) to --cmdline, last if init's "
		    "output should come there too",
		    s, d->console_last);
	} else {
		put(o,
		    "the guest printed nothing in %llu s although console=ttyS0 is set%s: "
		    "the kernel hangs before its console comes up, or is not built for this "
		    "machine\n"
		    "add earlyprintk=serial,ttyS0 to --cmdline to see its first messages; -v -v "
		    "prints what the vCPUs did when hostel stops",
		    s, d->quiet ? " (and quiet hides most messages)" : "");
	}
}

bool doctor_silence(const struct doctor *d, uint64_t silent_ms, char *out, size_t len)
{
	struct out o = {out, len, 0};
	unsigned long long s = (unsigned long long)(silent_ms / 1000);

	if (!len)
		return false;
	out[0] = '\0';
	if (d->bytes == 0) {
		diag_no_output(d, &o, s);
		return true;
	}
	if (diag_stage(d, &o, silent_ms))
		return true;
	if (d->up || at_prompt(d))
		return false;
	put(&o, "the guest has printed nothing for %llu s; its last line: \"%.160s\"\n", s,
	    d->line_len ? d->line : d->last);
	if (d->serial_console && !is_serial0(d->console_last))
		put(&o,
		    "the last console= is %.40s, so init's output goes there, not to ttyS0: "
		    "put console=ttyS0 last",
		    d->console_last);
	else
		put(&o, "if it is stuck, -v -v makes hostel print what the vCPUs did when it "
			"stops (Ctrl-A x, --timeout); --serial-log FILE keeps the transcript");
	return true;
}

bool doctor_stopped(const struct doctor *d, char *out, size_t len)
{
	struct out o = {out, len, 0};
	if (!len)
		return false;
	out[0] = '\0';
	/* A wait seen just before a stop is no lasting wait. */
	if (d->stage == DOCTOR_ROOT_WAIT)
		return false;
	return diag_stage(d, &o, 0);
}
