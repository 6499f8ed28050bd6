// SPDX-License-Identifier: MIT
/* hostel: command line, start-up, and the orderly stop of a VM. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "board.h"
#include "virtio/gpu/gpu.h"
#include "pci/pci.h"
#include <regex.h>
#include "boot/boot.h"
#include "config.h"
#include "report.h"
#include "virtio/console/vcon.h"
#include "boot/kcache.h"
#include "boot/vmlinux.h"
#include "cli.h"
#include "console.h"
#include "ctl.h"
#include "doctor.h"
#include "evloop.h"
#include "exitcode.h"
#include "hostel-config.h"
#include "hostel/log.h"
#include "kvm/kvm.h"
#include "serial/uart.h"
#include "virtio/blk/backend.h"
#include "virtio/blk/blk.h"
#include "vmctl.h"
#include "hostel/display.h"
#if HOSTEL_HAVE_SDL
#include "ui/sdl.h"
#endif

#define KERNEL_MAX (256ULL << 20)

struct mapped_file {
	void *data;
	size_t len;
};

/* Map a user-named input file read-only, or explain in one line why not. */
static int map_input(const char *what, const char *path, uint64_t max, struct mapped_file *f,
		     char *why, size_t whylen)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	f->data = NULL;
	f->len = 0;
	if (fd < 0) {
		snprintf(why, whylen, "%s '%s': %s", what, path, strerror(errno));
		return -errno;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(why, whylen, "%s '%s': %s", what, path,
			 S_ISDIR(st.st_mode) ? "is a directory" : "is not a regular file");
		close(fd);
		return -EINVAL;
	}
	if (st.st_size == 0) {
		snprintf(why, whylen, "%s '%s': file is empty", what, path);
		close(fd);
		return -EINVAL;
	}
	if ((uint64_t)st.st_size > max) {
		snprintf(why, whylen, "%s '%s': %llu MiB is larger than the %llu MiB limit", what,
			 path, (unsigned long long)(st.st_size >> 20),
			 (unsigned long long)(max >> 20));
		close(fd);
		return -E2BIG;
	}
	void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (p == MAP_FAILED) {
		snprintf(why, whylen, "%s '%s': %s", what, path, strerror(errno));
		return -errno;
	}
	f->data = p;
	f->len = (size_t)st.st_size;
	return 0;
}

static void unmap_input(struct mapped_file *f)
{
	if (f->data)
		munmap(f->data, f->len);
	f->data = NULL;
}

static const char *cache_dir(char *buf, size_t len)
{
	const char *c = getenv("HOSTEL_CACHE");
	if (c && *c) {
		snprintf(buf, len, "%s", c);
		return buf;
	}
	const char *x = getenv("XDG_CACHE_HOME");
	if (x && *x)
		snprintf(buf, len, "%s/hostel", x);
	else
		snprintf(buf, len, "%s/.cache/hostel", getenv("HOME") ? getenv("HOME") : "/tmp");
	return buf;
}

static int run_script(const char *script)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/images/%s", HOSTEL_SOURCE_ROOT, script);
	if (access(path, X_OK) != 0) {
		log_error("the default guest is not built and its recipe %s is not here: "
			  "pass --kernel and --initrd",
			  path);
		return -ENOENT;
	}
	pid_t pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		/* Progress lines go to stderr; stdout stays the console's. */
		dup2(STDERR_FILENO, STDOUT_FILENO);
		execl(path, path, (char *)NULL);
		_exit(127);
	}
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -EIO;
}

/*
 * The embedded default guest: images/ builds it on first use. Its display
 * modules (the DRM core, virtio-gpu, psmouse) are a second archive,
 * @display, which only a boot with a display loads after the first.
 */
static int default_guest(char *kernel, char *initrd, char *display, size_t len)
{
	char dir[3072];
	cache_dir(dir, sizeof(dir));
	snprintf(kernel, len, "%s/kernel/vmlinuz", dir);
	snprintf(initrd, len, "%s/initramfs.cpio.gz", dir);
	snprintf(display, len, "%s/initramfs-display.cpio.gz", dir);
	if (access(kernel, R_OK) != 0) {
		fprintf(stderr,
			"hostel: building the default guest's kernel (images/kernel.sh)...\n");
		if (run_script("kernel.sh"))
			return -EIO;
	}
	if (access(initrd, R_OK) != 0 || access(display, R_OK) != 0) {
		fprintf(stderr, "hostel: building the default guest's initramfs "
				"(images/initramfs.sh)...\n");
		if (run_script("initramfs.sh"))
			return -EIO;
	}
	return 0;
}

static void fatal_signal(int sig)
{
	static const char msg[] = "\r\nhostel: fatal signal, terminal restored\r\n";
	console_restore_terminal();
	if (write(STDERR_FILENO, msg, sizeof(msg) - 1) < 0) {
		/* nothing more to do */
	}
	_exit(HOSTEL_EXIT_HOST);
}

#define EXEC_CHANNELS 3 /* hostel exec: stdout, stderr, status */

/* Kernel parameters of the default guest (no --kernel), in front of
 * --cmdline's. */
#define DEFAULT_GUEST_CMDLINE "cryptomgr.notests"

/* State that lives across guest reboots. */
struct session {
	const struct hostel_opts *o;
	const char *kernel;
	const char *initrd;
	/* The default guest's display archive, loaded after @initrd by boots
	 * with a display; NULL for a guest of the user's. */
	const char *initrd_display;
	/* Mapped only while a boot loads them, so hostel's resident memory
	 * does not carry the kernel and initrd while the guest runs. */
	struct mapped_file kf, inf, inf_display;
	char *cmdline;
	char cache_dir[4096]; /* unpacked kernels ("" = no cache) */
	struct console *con;
	sigset_t mask;
	unsigned int signals; /* termination signals seen (event-loop thread only) */
	/* Disks live across reboots: the image lock and a snapshot's overlay
	 * belong to the session, not to one boot. */
	struct blk *disks[CLI_MAX_DISKS];
	unsigned int nr_disks;
	unsigned int boots;
	/* --timeout, --ready: host clock (clock_host()) times. */
	uint64_t t_start_ns;
	uint64_t deadline_ns; /* 0: no --timeout */
	regex_t ready_re;
	bool have_ready_re;
	_Atomic uint64_t ready_ns; /* first console line matching --ready; 0: none yet */
	char ready_line[256];
	/* hostel exec: stdout, stderr and status channels (virtio consoles). */
	struct vcon *exec_con[EXEC_CHANNELS];
	char status_line[32];
	size_t status_len;
	_Atomic int exec_status;  /* the command's status; -1 until reported */
	bool exec_stop_at_status; /* stop the VM once the status came (no writable disk) */
	/* --report: filled in as the run goes. */
	struct report *rep;
	char exit_detail[160];
	/* The running boot's VM, for the console's writer thread (panic lines). */
	pthread_mutex_t vm_lock;
	struct vm *cur_vm;
	struct vmctl ctl; /* --api-socket: lives across reboots */
	/* --display sdl: the screen and its window live across reboots; each
	 * boot's board attaches its devices to the display. */
	struct display *display;
	struct sdl_ui *ui;
	const struct sdl_ui_ops *ui_ops; /* the loaded window module, with ui */
	int close_fd;			 /* eventfd: the window's close button, counted */
	char title[256];
	/* The boot doctor: fed on the console's writer thread, asked on the
	 * event loop's (silence) and the main thread (stops); under doc_lock. */
	pthread_mutex_t doc_lock;
	struct doctor doc;
	bool doc_said;			/* this boot's diagnosis is out */
	char doc_text[DOCTOR_TEXT_MAX]; /* the latest diagnosis, for --report */
};

/* State of one boot: everything here is created and destroyed per boot, so
 * a guest reboot starts from scratch (fresh RAM, devices, kernel load). */
struct boot {
	struct session *s;
	struct vm vm;
	bool vm_up;
	struct evloop *el;
	struct board board;
	bool board_up;
	bool console_attached;
	int sigfd;
	bool close_watched; /* the session's close_fd is on this boot's loop */
	struct timer *grace;
	struct timer *timeout;
	struct timer *doctor; /* the doctor's silence timer */
	uint64_t quiet_from;  /* host clock the current silence is counted from */
};

static void on_timeout(void *opaque)
{
	struct boot *b = opaque;
	char d[96];
	snprintf(d, sizeof(d), "timed out after %.1f s (--timeout)",
		 (double)b->s->o->timeout_ms / 1000.0);
	vm_request_stop(&b->vm, VM_STOP_TIMEOUT, 0, d);
}

/*
 * The kernel's panic line, with or without its printk time stamp. A guest
 * without a pvpanic driver (or one that panics before loading it) is
 * caught here; a guest that prints the line itself only ends itself.
 */
static bool is_panic_line(const char *line)
{
	if (line[0] == '[') {
		const char *e = strchr(line, ']');
		if (!e)
			return false;
		line = e + 1 + (e[1] == ' ');
	}
	return !strncmp(line, "Kernel panic - not syncing", 26);
}

/* Print a diagnosis, a line each, and keep it for the report; doc_lock held. */
static void doctor_say(struct session *s, const char *text)
{
	s->doc_said = true;
	snprintf(s->doc_text, sizeof(s->doc_text), "%s", text);
	for (const char *p = text; *p;) {
		size_t n = strcspn(p, "\n");
		log_note("doctor: %.*s", (int)n, p);
		p += n + (p[n] == '\n');
	}
}

/* Console output, on the console's writer thread: to the doctor. */
static void on_console_bytes(void *opaque, const uint8_t *buf, size_t len)
{
	struct session *s = opaque;
	pthread_mutex_lock(&s->doc_lock);
	doctor_feed(&s->doc, buf, len);
	pthread_mutex_unlock(&s->doc_lock);
}

/*
 * The doctor's timer, on the event loop: the silence is counted from the
 * latest console byte (or the boot's start, or the end of a pause), so the
 * timer only moves its deadline on until the guest has been quiet for the
 * whole --doctor-after period.
 */
static void on_doctor_timer(void *opaque)
{
	struct boot *b = opaque;
	struct session *s = b->s;
	uint64_t now = clock_now(clock_host());
	uint64_t period = s->o->doctor_after_ms * 1000000ULL;
	uint64_t last = console_last_byte_ns(s->con);
	char text[DOCTOR_TEXT_MAX];

	if (atomic_load(&b->vm.paused))
		b->quiet_from = now; /* paused on request: not the guest's silence */
	if (last > b->quiet_from)
		b->quiet_from = last;
	if (now - b->quiet_from < period) {
		timer_arm(b->doctor, b->quiet_from + period);
		return;
	}
	pthread_mutex_lock(&s->doc_lock);
	bool said = s->doc_said;
	if (!said && doctor_silence(&s->doc, (now - b->quiet_from) / 1000000, text, sizeof(text))) {
		doctor_say(s, text);
		said = true;
	}
	pthread_mutex_unlock(&s->doc_lock);
	/* Up and idle (at a prompt, after --ready): look again a period on. */
	if (!said)
		timer_arm(b->doctor, now + period);
}

/* The guest stopped (panic, timeout...): a known stage's diagnosis, once. */
static void doctor_after_stop(struct session *s)
{
	char text[DOCTOR_TEXT_MAX];
	if (!s->o->doctor_after_ms || !s->con)
		return;
	/* The writer thread may still hold the last lines (the panic's own). */
	console_sync(s->con, 1000);
	pthread_mutex_lock(&s->doc_lock);
	if (!s->doc_said && doctor_stopped(&s->doc, text, sizeof(text)))
		doctor_say(s, text);
	pthread_mutex_unlock(&s->doc_lock);
}

/* Console lines, on the console's writer thread: panics, --ready. */
static void on_console_line(void *opaque, const char *line)
{
	struct session *s = opaque;
	if (is_panic_line(line)) {
		pthread_mutex_lock(&s->vm_lock);
		if (s->cur_vm)
			vm_request_stop(s->cur_vm, VM_STOP_PANIC, 0,
					"the guest kernel panicked (its panic line)");
		pthread_mutex_unlock(&s->vm_lock);
		return;
	}
	if (!s->have_ready_re || atomic_load(&s->ready_ns) ||
	    regexec(&s->ready_re, line, 0, NULL, 0) != 0)
		return;
	uint64_t now = clock_now(clock_host());
	if (s->rep)
		snprintf(s->ready_line, sizeof(s->ready_line), "%s", line);
	atomic_store(&s->ready_ns, now);
	pthread_mutex_lock(&s->doc_lock);
	doctor_mark_up(&s->doc);
	pthread_mutex_unlock(&s->doc_lock);
	log_info("ready after %.3f s: %s", (double)(now - s->t_start_ns) / 1e9, line);
}

/* The exec status channel (hvc2): "exit-status=N\n" from the guest. */
static void on_exec_status(void *opaque, const uint8_t *buf, size_t len)
{
	struct session *s = opaque;
	for (size_t i = 0; i < len; i++) {
		if (buf[i] == '\r')
			continue;
		if (buf[i] != '\n') {
			if (s->status_len < sizeof(s->status_line) - 1)
				s->status_line[s->status_len++] = (char)buf[i];
			continue;
		}
		s->status_line[s->status_len] = '\0';
		s->status_len = 0;
		unsigned int st;
		char end;
		if (sscanf(s->status_line, "exit-status=%u%c", &st, &end) != 1 || st > 255) {
			log_warn("exec: bad status line from the guest");
			continue;
		}
		atomic_store(&s->exec_status, (int)st);
		/* The command's output is all out (each hvc write returns only
		 * once hostel wrote it) and nothing of the guest is kept: no
		 * need to wait for its power-off (a second or more in a nested
		 * boot). With a writable disk the guest's own shutdown (sync)
		 * still decides when the disk is complete. */
		if (s->exec_stop_at_status) {
			pthread_mutex_lock(&s->vm_lock);
			if (s->cur_vm)
				vm_request_stop(s->cur_vm, VM_STOP_POWEROFF, 0,
						"exec: the command reported its status");
			pthread_mutex_unlock(&s->vm_lock);
		}
	}
}

static void on_grace_expired(void *opaque)
{
	struct boot *b = opaque;
	vm_request_stop(&b->vm, VM_STOP_SIGNAL, 0,
			"the guest did not shut down within the grace period: stopped hard");
}

/*
 * A request from outside to end the VM (a signal, the window's close
 * button): the first asks the guest to shut down (ACPI power button) and
 * stops hard after the grace period; a later one stops now. @who starts
 * the log line, @detail is the stop's, @signo its status (0: none).
 */
static void request_shutdown(struct boot *b, const char *who, const char *detail, int signo)
{
	b->s->signals++;
	if (b->s->signals == 1 && b->s->o->grace_s > 0 && board_power_button(&b->board)) {
		log_info("%s: pressing the power button; stopping hard in %u s", who,
			 b->s->o->grace_s);
		timer_arm(b->grace, clock_now(clock_host()) + b->s->o->grace_s * 1000000000ULL);
		return;
	}
	vm_request_stop(&b->vm, VM_STOP_SIGNAL, signo, detail);
}

static void on_signal(void *opaque, uint32_t events)
{
	struct boot *b = opaque;
	struct signalfd_siginfo si;
	(void)events;
	while (read(b->sigfd, &si, sizeof(si)) == sizeof(si)) {
		char d[96];
		snprintf(d, sizeof(d), "stopped by signal %s", strsignal((int)si.ssi_signo));
		request_shutdown(b, strsignal((int)si.ssi_signo), d, (int)si.ssi_signo);
	}
}

/* The window's close button, as counted by on_window_close (UI thread). */
static void on_close_fd(void *opaque, uint32_t events)
{
	struct boot *b = opaque;
	uint64_t n;
	(void)events;
	if (read(b->s->close_fd, &n, sizeof(n)) != sizeof(n))
		return;
	while (n--)
		request_shutdown(b, "the window was closed", "stopped by closing the window", 0);
}

static void on_console_quit(void *opaque)
{
	struct boot *b = opaque;
	vm_request_stop(&b->vm, VM_STOP_SIGNAL, 0, "stopped from the console (Ctrl-A x)");
}

static void boot_teardown(struct boot *b)
{
	if (b->el)
		evloop_stop(b->el);
	if (b->console_attached)
		console_detach(b->s->con);
	b->console_attached = false;
	if (b->grace)
		evloop_timer_destroy(b->el, b->grace);
	b->grace = NULL;
	if (b->timeout)
		evloop_timer_destroy(b->el, b->timeout);
	b->timeout = NULL;
	if (b->doctor)
		evloop_timer_destroy(b->el, b->doctor);
	b->doctor = NULL;
	if (b->board_up)
		board_destroy(&b->board);
	b->board_up = false;
	if (b->sigfd >= 0) {
		if (b->el)
			evloop_del(b->el, b->sigfd);
		close(b->sigfd);
	}
	b->sigfd = -1;
	if (b->close_watched)
		evloop_del(b->el, b->s->close_fd);
	b->close_watched = false;
	if (b->el)
		evloop_destroy(b->el);
	b->el = NULL;
	if (b->vm_up)
		vm_destroy(&b->vm);
	b->vm_up = false;
}

/* Unpacked kernels: $HOSTEL_KERNEL_CACHE, else <cache>/vmlinux. */
static void kernel_cache_init(char *dir, size_t len)
{
	const char *e = getenv("HOSTEL_KERNEL_CACHE");
	char root[4096];

	if (e && *e)
		snprintf(dir, len, "%s", e);
	else if ((size_t)snprintf(dir, len, "%s/vmlinux", cache_dir(root, sizeof(root))) >= len)
		dir[0] = '\0';
}

/* Every input map_inputs may have mapped (unmapping one that is not is a no-op). */
static void unmap_inputs(struct session *s)
{
	unmap_input(&s->kf);
	unmap_input(&s->inf);
	unmap_input(&s->inf_display);
}

static int map_inputs(struct session *s, char *why, size_t whylen)
{
	const char *bwhy;
	struct bzimage_info bz;

	if (map_input("kernel", s->kernel, KERNEL_MAX, &s->kf, why, whylen))
		return -EINVAL;
	if (vmlinux_is_elf(s->kf.data, s->kf.len)) {
		struct vmlinux_info vi;
		if (vmlinux_parse(s->kf.data, s->kf.len, &vi, &bwhy)) {
			snprintf(why, whylen, "kernel '%s': %s", s->kernel, bwhy);
			unmap_inputs(s);
			return -EINVAL;
		}
	} else if (bzimage_parse(s->kf.data, s->kf.len, &bz, &bwhy)) {
		snprintf(why, whylen, "kernel '%s': %s", s->kernel, bwhy);
		unmap_inputs(s);
		return -EINVAL;
	}
	/* initrd_display is set only along with the default initrd. */
	if ((s->initrd && map_input("initrd", s->initrd, s->o->memory, &s->inf, why, whylen)) ||
	    (s->initrd_display && s->display &&
	     map_input("initrd", s->initrd_display, s->o->memory, &s->inf_display, why, whylen))) {
		unmap_inputs(s);
		return -EINVAL;
	}
	return 0;
}

/*
 * Boot the guest once and run it until it stops. Returns the stop reason,
 * or VM_STOP_NONE with *code set when start-up failed.
 */
/* Sum each vCPU's exits into the report; keep this boot's busiest ranges. */
static void report_boot_stats(struct report *r, const struct vm *vm)
{
	r->nr_vcpus = MIN(vm->nr_vcpus, (unsigned int)REPORT_MAX_VCPUS);
	for (unsigned int i = 0; i < r->nr_vcpus; i++) {
		const struct vcpu_stats *st = &vm->vcpus[i].stats;
		r->vcpus[i].exits += st->exits;
		r->vcpus[i].io += st->io;
		r->vcpus[i].mmio += st->mmio;
		r->vcpus[i].hlt += st->hlt;
		r->vcpus[i].intr += st->intr;
	}
	r->nr_ranges = 0;
	const struct bus *buses[] = {&vm->pio, &vm->mmio};
	for (unsigned int b = 0; b < 2; b++)
		for (unsigned int i = 0; i < buses[b]->nr && r->nr_ranges < REPORT_MAX_RANGES;
		     i++) {
			const struct bus_range *g = &buses[b]->ranges[i];
			if (g->reads + g->writes)
				r->ranges[r->nr_ranges++] = (struct report_range){
					buses[b]->name, g->base, g->len, g->reads, g->writes};
		}
	r->unclaimed_pio += vm->pio.unclaimed_reads + vm->pio.unclaimed_writes;
	r->unclaimed_mmio += vm->mmio.unclaimed_reads + vm->mmio.unclaimed_writes;
}

static const char *stop_name(enum vm_stop_reason r)
{
	switch (r) {
	case VM_STOP_POWEROFF:
		return "poweroff";
	case VM_STOP_RESET:
		return "reset";
	case VM_STOP_PANIC:
		return "panic";
	case VM_STOP_CPU_FAIL:
		return "cpu-failure";
	case VM_STOP_HOST_ERR:
		return "host-error";
	case VM_STOP_SIGNAL:
		return "stopped";
	case VM_STOP_DEBUG_EXIT:
		return "debug-exit";
	case VM_STOP_TIMEOUT:
		return "timeout";
	default:
		return "start-up-failed";
	}
}

static enum vm_stop_reason boot_once(struct session *s, struct boot *b, int *code)
{
	const struct hostel_opts *o = s->o;
	char why[512] = "";
	const char *bwhy = NULL;
	int ret;

	memset(b, 0, sizeof(*b));
	b->s = s;
	b->sigfd = -1;
	*code = HOSTEL_EXIT_HOST;

	ret = vm_create(&b->vm, o->memory, o->cpus, why, sizeof(why));
	if (ret) {
		log_error("%s", why);
		*code = ret == -ERANGE ? HOSTEL_EXIT_USAGE : HOSTEL_EXIT_HOST;
		return VM_STOP_NONE;
	}
	b->vm_up = true;
	/* A fresh load from the files at every boot, as a PC's firmware does. */
	if (map_inputs(s, why, sizeof(why))) {
		log_error("%s", why);
		*code = HOSTEL_EXIT_BAD_INPUT;
		return VM_STOP_NONE;
	}
	struct e820_entry e820[BOOT_E820_MAX];
	unsigned int ne = boot_e820_build(b->vm.low_size, b->vm.high_size, e820, BOOT_E820_MAX - 1);
	/* PCI ECAM: reserved, so Linux trusts the MCFG (the BAR window is not:
	 * Linux would cut reserved ranges out of the host bridge's windows). */
	e820[ne++] = (struct e820_entry){BOARD_ECAM_BASE, PCI_ECAM_BUS_SIZE, E820_RESERVED};
	b->el = evloop_create();
	if (!b->el) {
		log_error("cannot create the event loop");
		return VM_STOP_NONE;
	}
	struct board_config bcfg = {
		.nr_cpus = o->cpus,
		.debug_exit_port = o->debug_exit,
		.disks = s->disks,
		.nr_disks = s->nr_disks,
		.consoles = s->exec_con,
		.nr_consoles = o->cmd == CMD_EXEC ? EXEC_CHANNELS : 0,
		.nets = o->nets,
		.nr_nets = o->nr_nets,
		.net_seed = cli_vm_name(s->o) ? cli_vm_name(s->o) : s->kernel,
		.display = s->display,
	};
	if (board_create(&b->board, &b->vm, b->el, console_sink(s->con), &bcfg, why, sizeof(why))) {
		log_error("%s", why);
		return VM_STOP_NONE;
	}
	b->board_up = true;
	const struct boot_blob more = {s->inf_display.data, s->inf_display.len};
	struct boot_config bc = {
		.kernel = s->kf.data,
		.kernel_len = s->kf.len,
		.initrd = s->inf.data,
		.initrd_len = s->inf.len,
		.initrd_more = &more,
		.nr_initrd_more = s->inf_display.data ? 1 : 0,
		.cmdline = s->cmdline,
		.e820 = e820,
		.nr_e820 = ne,
		.rsdp_addr = b->board.rsdp_addr,
		/* vm_create mapped fresh RAM; board_create wrote only below 1 MiB. */
		.ram_zeroed = true,
	};
	/* The gpu's boot framebuffer in screen_info: vesafb shows the boot on it. */
	struct gpu_fb_info fbi;
	struct boot_fb bfb;
	if (b->board.gpu && gpu_fb_info(b->board.gpu, &fbi)) {
		bfb = (struct boot_fb){.base = fbi.base,
				       .size = fbi.size,
				       .width = fbi.width,
				       .height = fbi.height,
				       .stride = fbi.stride};
		bc.fb = &bfb;
	}
	/* The vmlinux inside, unpacked on the host (or from the cache): the
	 * guest's decompressor is the slowest part of a boot under KVM. */
	struct kimage ki = KIMAGE_INIT;
	if (!o->no_unpack && !vmlinux_is_elf(s->kf.data, s->kf.len)) {
		ret = kcache_get(s->cache_dir[0] ? s->cache_dir : NULL, s->kf.data, s->kf.len, &ki,
				 &bwhy);
		if (ret == 0) {
			log_debug("kernel: %s payload, vmlinux of %zu KiB %s", kcomp_name(ki.comp),
				  ki.len >> 10,
				  ki.from_cache ? "from the cache"
				  : ki.stored	? "unpacked and cached"
						: "unpacked");
			bc.vmlinux = ki.data;
			bc.vmlinux_len = ki.len;
			bc.vmlinux_from_fd = ki.fd >= 0;
			bc.vmlinux_fd = ki.fd;
		} else {
			/* The guest's own decompressor gets its chance (and reports). */
			log_debug("kernel: booting the bzImage as is: %s",
				  ret == -ENOTSUP ? "no payload hostel unpacks" : bwhy);
		}
	}
	struct boot_entry be;
	ret = boot_load(&b->vm.gmem, &bc, &be, &bwhy);
	kcache_put(&ki);
	unmap_inputs(s);
	if (ret) {
		log_error("cannot boot '%s': %s", s->kernel, bwhy);
		*code = HOSTEL_EXIT_BAD_INPUT;
		return VM_STOP_NONE;
	}
	if (vcpus_create(&b->vm, why, sizeof(why))) {
		log_error("%s", why);
		return VM_STOP_NONE;
	}
	ret = vcpu_setup_boot(&b->vm.vcpus[0], &be);
	if (ret) {
		log_error("cannot set the boot CPU's registers: %s", strerror(-ret));
		return VM_STOP_NONE;
	}
	b->grace = evloop_timer_create(b->el, on_grace_expired, b);
	if (s->deadline_ns) {
		b->timeout = evloop_timer_create(b->el, on_timeout, b);
		if (!b->timeout) {
			log_error("cannot create the --timeout timer");
			return VM_STOP_NONE;
		}
		timer_arm(b->timeout, s->deadline_ns);
	}
	if (o->doctor_after_ms) {
		b->doctor = evloop_timer_create(b->el, on_doctor_timer, b);
		if (!b->doctor) {
			log_error("cannot create the boot doctor's timer");
			return VM_STOP_NONE;
		}
	}
	b->sigfd = signalfd(-1, &s->mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (!b->grace || b->sigfd < 0 || evloop_add(b->el, b->sigfd, EPOLLIN, on_signal, b)) {
		log_error("cannot watch signals: %s", strerror(errno));
		return VM_STOP_NONE;
	}
	if (s->close_fd >= 0) {
		if (evloop_add(b->el, s->close_fd, EPOLLIN, on_close_fd, b)) {
			log_error("cannot watch the window");
			return VM_STOP_NONE;
		}
		b->close_watched = true;
	}
	if (console_attach(s->con, b->el, b->board.uart, on_console_quit, b)) {
		log_error("cannot start the console");
		return VM_STOP_NONE;
	}
	b->console_attached = true;
	if (evloop_start(b->el)) {
		log_error("cannot start the event loop thread");
		return VM_STOP_NONE;
	}
	log_debug("boot %u: %s with %llu MiB, %u vCPU(s), cmdline '%s'", s->boots + 1, s->kernel,
		  (unsigned long long)(o->memory >> 20), o->cpus, s->cmdline);
	if (s->rep && !s->rep->t_first_insn)
		s->rep->t_first_insn = clock_now(clock_host());
	if (b->doctor) {
		/* A fresh doctor per boot; the last boot's bytes are all in. */
		console_sync(s->con, 1000);
		struct doctor_facts df = {
			.cmdline = s->cmdline,
			.nr_disks = s->nr_disks,
			.have_initrd = s->initrd != NULL,
			.exec = o->cmd == CMD_EXEC,
			.memory_mib = o->memory >> 20,
		};
		pthread_mutex_lock(&s->doc_lock);
		doctor_init(&s->doc, &df);
		s->doc_said = false;
		pthread_mutex_unlock(&s->doc_lock);
		b->quiet_from = clock_now(clock_host());
		timer_arm(b->doctor, b->quiet_from + o->doctor_after_ms * 1000000ULL);
	}
	if (vcpus_start(&b->vm)) {
		log_error("cannot start vCPU threads");
		vm_request_stop(&b->vm, VM_STOP_HOST_ERR, 0, "cannot start vCPU threads");
	}
	s->boots++;
	pthread_mutex_lock(&s->vm_lock);
	s->cur_vm = &b->vm;
	pthread_mutex_unlock(&s->vm_lock);
	vmctl_set_vm(&s->ctl, &b->vm, &b->board, s->boots);
	enum vm_stop_reason r = vm_wait_stop(&b->vm);
	vmctl_set_vm(&s->ctl, NULL, NULL, s->boots); /* before the vCPUs go */
	pthread_mutex_lock(&s->vm_lock);
	s->cur_vm = NULL;
	pthread_mutex_unlock(&s->vm_lock);
	vcpus_stop(&b->vm);
	if (s->rep)
		report_boot_stats(s->rep, &b->vm);
	if (log_level >= LOG_DEBUG) {
		for (unsigned int i = 0; i < b->vm.nr_vcpus; i++) {
			const struct vcpu_stats *st = &b->vm.vcpus[i].stats;
			log_debug("vCPU %u: %llu exits: %llu I/O, %llu MMIO, %llu HLT, %llu "
				  "interrupted",
				  i, (unsigned long long)st->exits, (unsigned long long)st->io,
				  (unsigned long long)st->mmio, (unsigned long long)st->hlt,
				  (unsigned long long)st->intr);
		}
		bus_log_stats(&b->vm.pio, 8);
		bus_log_stats(&b->vm.mmio, 4);
	}
	return r;
}

/*
 * The last console lines, for a guest that died: from the kernel's panic
 * line when the tail holds one (the stack dump follows it), else the last 10.
 */
static void print_console_tail(struct session *s)
{
	static char tail[16384];
	if (console_tail(s->con, 80, tail, sizeof(tail)) == 0)
		return;
	char *from = strstr(tail, "Kernel panic");
	if (from) {
		while (from > tail && from[-1] != '\n')
			from--;
	} else {
		from = tail + strlen(tail);
		for (int lines = 0; from > tail; from--)
			if (from[-1] == '\n' && ++lines > 10)
				break;
	}
	fprintf(stderr, "hostel: last console lines:\r\n");
	for (char *line = strtok(from, "\n"); line; line = strtok(NULL, "\n"))
		fprintf(stderr, "  | %s\r\n", line);
}

/* Standard base64 (RFC 4648) of @len bytes into @out (4 * ceil(len / 3) + 1 bytes). */
static void base64(const uint8_t *in, size_t len, char *out)
{
	static const char tab[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t o = 0;
	for (size_t i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16;
		if (i + 1 < len)
			v |= (uint32_t)in[i + 1] << 8;
		if (i + 2 < len)
			v |= in[i + 2];
		out[o++] = tab[(v >> 18) & 63];
		out[o++] = tab[(v >> 12) & 63];
		out[o++] = i + 1 < len ? tab[(v >> 6) & 63] : '=';
		out[o++] = i + 2 < len ? tab[v & 63] : '=';
	}
	out[o] = '\0';
}

/*
 * "hostel.exec=<base64>" for hostel exec: the command's words, each
 * single-quoted for sh (a ' becomes '\''), joined by spaces. The guest's
 * init runs it with sh -c. NULL when out of memory.
 */
static char *exec_cmdline_arg(const struct hostel_opts *o)
{
	size_t n = 1;
	for (int i = 0; i < o->exec_argc; i++)
		n += 4 * strlen(o->exec_argv[i]) + 3;
	char *script = malloc(n), *p = script;
	if (!script)
		return NULL;
	for (int i = 0; i < o->exec_argc; i++) {
		if (i)
			*p++ = ' ';
		*p++ = '\'';
		for (const char *c = o->exec_argv[i]; *c; c++) {
			if (*c == '\'') {
				memcpy(p, "'\\''", 4);
				p += 4;
			} else {
				*p++ = *c;
			}
		}
		*p++ = '\'';
	}
	*p = '\0';
	size_t len = (size_t)(p - script);
	char *arg = malloc(sizeof("hostel.exec=") + 4 * (len / 3 + 1) + 1);
	if (arg) {
		strcpy(arg, "hostel.exec=");
		base64((const uint8_t *)script, len, arg + strlen(arg));
	}
	free(script);
	return arg;
}

static void write_report(struct session *s, int code)
{
	struct report *r = s->rep;
	const struct hostel_opts *o = s->o;
	static char tail[16384];
	char why[256], *machine = config_to_json(o), *cmd = NULL;

	if (o->cmd == CMD_EXEC) {
		size_t n = 1;
		for (int i = 0; i < o->exec_argc; i++)
			n += strlen(o->exec_argv[i]) + 1;
		cmd = calloc(1, n);
		for (int i = 0; cmd && i < o->exec_argc; i++) {
			if (i)
				strcat(cmd, " ");
			strcat(cmd, o->exec_argv[i]);
		}
	}
	r->version = HOSTEL_VERSION;
	r->command = o->cmd == CMD_EXEC ? "exec" : "run";
	r->machine_json = machine;
	r->exec_command = cmd;
	r->t_first_byte = s->con ? console_first_byte_ns(s->con) : 0;
	r->t_ready = atomic_load(&s->ready_ns);
	r->ready_line = r->t_ready ? s->ready_line : NULL;
	r->t_end = clock_now(clock_host());
	r->boots = s->boots;
	r->exit_status = code;
	r->command_status = atomic_load(&s->exec_status);
	r->console_bytes_dropped = s->con ? console_dropped(s->con) : 0;
	r->console_tail = s->con && console_tail(s->con, 20, tail, sizeof(tail)) ? tail : NULL;
	r->doctor = s->doc_text[0] ? s->doc_text : NULL;
	/* Whole-run counters: the disks outlive reboots. */
	r->nr_disks = MIN(s->nr_disks, (unsigned int)REPORT_MAX_DISKS);
	for (unsigned int i = 0; i < r->nr_disks; i++) {
		r->disks[i].path = o->disks[i].path;
		blk_get_stats(s->disks[i], &r->disks[i].st);
	}
	if (report_write(r, o->report_junit ? REPORT_JUNIT : REPORT_JSON, o->report, why,
			 sizeof(why)))
		log_error("%s", why);
	free(machine);
	free(cmd);
}

/*
 * Boot the guest again and again until it stops for good (anything but a
 * reboot). Returns hostel's exit status. On the main thread, or, with a
 * window, on a thread of its own (SDL keeps the main thread).
 */
static int boot_loop(struct session *s)
{
	const struct hostel_opts *o = s->o;
	int code = HOSTEL_EXIT_HOST;

	for (;;) {
		struct boot *b = calloc(1, sizeof(*b));
		if (!b) {
			log_error("out of memory");
			break;
		}
		enum vm_stop_reason r = boot_once(s, b, &code);
		bool again = false;
		if (s->rep) {
			s->rep->exit_reason = stop_name(r);
			snprintf(s->exit_detail, sizeof(s->exit_detail), "%s", b->vm.stop_detail);
			s->rep->exit_detail = s->exit_detail[0] ? s->exit_detail : NULL;
		}
		switch (r) {
		case VM_STOP_NONE:
			break; /* start-up failed; code says why */
		case VM_STOP_POWEROFF:
		case VM_STOP_SIGNAL:
			code = HOSTEL_EXIT_OK;
			log_info("%s", b->vm.stop_detail);
			if (o->cmd == CMD_EXEC && r == VM_STOP_SIGNAL && b->vm.stop_status > 0 &&
			    atomic_load(&s->exec_status) < 0)
				code = 128 +
				       b->vm.stop_status; /* as a shell reports a killed command */
			break;
		case VM_STOP_RESET:
			if (o->cmd == CMD_EXEC) {
				code = HOSTEL_EXIT_OK; /* exec ends with the guest, reset or not */
			} else if (o->no_reboot) {
				code = HOSTEL_EXIT_REBOOT;
				log_info("the guest rebooted (--no-reboot): exiting");
			} else if (s->signals) {
				code = HOSTEL_EXIT_OK; /* asked to stop: do not come back */
			} else {
				log_info("the guest rebooted: starting it again");
				again = true;
			}
			break;
		case VM_STOP_PANIC:
			code = HOSTEL_EXIT_PANIC;
			log_error("the guest kernel panicked");
			print_console_tail(s);
			doctor_after_stop(s);
			break;
		case VM_STOP_CPU_FAIL:
			code = HOSTEL_EXIT_CPU_FAILURE;
			log_error("guest CPU failure: %s", b->vm.stop_detail);
			break;
		case VM_STOP_DEBUG_EXIT:
			code = ((b->vm.stop_status << 1) | 1) & 0xff;
			log_info("debug-exit: the guest wrote 0x%x", b->vm.stop_status);
			break;
		case VM_STOP_TIMEOUT:
			code = HOSTEL_EXIT_TIMEOUT;
			log_error("%s", b->vm.stop_detail);
			print_console_tail(s);
			doctor_after_stop(s);
			break;
		case VM_STOP_HOST_ERR:
		default:
			code = HOSTEL_EXIT_HOST;
			log_error("%s", b->vm.stop_detail);
			break;
		}
		boot_teardown(b);
		free(b);
		if (!again)
			break;
	}
	if (o->cmd == CMD_EXEC && code == HOSTEL_EXIT_OK) {
		int st = atomic_load(&s->exec_status);
		if (st >= 0) {
			code = st;
			if (s->rep)
				s->rep->exit_reason = "command";
		} else {
			if (s->rep)
				s->rep->exit_reason = "no-command-status";
			code = HOSTEL_EXIT_NO_STATUS;
			log_error("exec: the guest stopped before the command reported its status");
			print_console_tail(s);
			doctor_after_stop(s);
		}
	}
	return code;
}

static bool display_server(void)
{
	const char *x = getenv("DISPLAY"), *w = getenv("WAYLAND_DISPLAY");
	return (x && *x) || (w && *w);
}

/* The window's title: the VM's name, from what the user named it by. */
static void vm_title(const struct hostel_opts *o, char *buf, size_t len)
{
	const char *name = cli_vm_name(o);
	if (!name) {
		snprintf(buf, len, "default guest - hostel");
		return;
	}
	const char *base = strrchr(name, '/');
	base = base ? base + 1 : name;
	size_t n = strlen(base);
	if (o->config && n > 5 && !strcmp(base + n - 5, ".json"))
		n -= 5;
	snprintf(buf, len, "%.*s - hostel", (int)n, base);
}

static void ui_close(struct session *s)
{
#if HOSTEL_HAVE_SDL
	if (s->ui)
		s->ui_ops->destroy(s->ui);
	s->ui = NULL;
#endif
	display_destroy(s->display);
	s->display = NULL;
	if (s->close_fd >= 0)
		close(s->close_fd);
	s->close_fd = -1;
}

#if HOSTEL_HAVE_SDL
/* The UI thread: the window's close button, passed to the boot's loop. */
static void on_window_close(void *opaque, unsigned count)
{
	struct session *s = opaque;
	uint64_t one = 1;
	(void)count;
	if (write(s->close_fd, &one, sizeof(one)) != sizeof(one))
		log_warn("the window's close request was lost: %s", strerror(errno));
}

struct loop_thread {
	struct session *s;
	int code;
};

static void *boot_loop_thread(void *arg)
{
	struct loop_thread *lt = arg;
	lt->code = boot_loop(lt->s);
	lt->s->ui_ops->quit(lt->s->ui); /* the VM is over: so is the window */
	return NULL;
}
#endif

/*
 * --display: open the window (on the main thread: SDL's rule) when asked
 * for, or by default when a display server is there. 0, or an exit status.
 */
static int ui_open(struct session *s)
{
	const struct hostel_opts *o = s->o;
	bool want = o->display == DISP_SDL ||
		    (o->display == DISP_AUTO && HOSTEL_HAVE_SDL && display_server());
	if (!want)
		return 0;
#if HOSTEL_HAVE_SDL
	s->display = display_create();
	s->close_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (!s->display || s->close_fd < 0) {
		log_error("cannot set up the display: %s", strerror(s->display ? errno : ENOMEM));
		ui_close(s);
		return HOSTEL_EXIT_HOST;
	}
	/* Never a dummy or offscreen driver chosen quietly: a real server or
	 * an error. The user's own choice stands. */
	setenv("SDL_VIDEODRIVER", "x11,wayland", 0);
	vm_title(o, s->title, sizeof(s->title));
	struct sdl_ui_config cfg = {
		.title = s->title,
		.ungrabbed_hint = " (Ctrl+Alt+G grabs the mouse)",
		.on_close = on_window_close,
		.opaque = s,
	};
	s->ui_ops = sdl_ui_load();
	s->ui = s->ui_ops ? s->ui_ops->create(s->display, &cfg) : NULL;
	if (s->ui)
		return 0;
	ui_close(s);
	if (o->display == DISP_SDL) {
		/* A module that did not load has said so, in one line. */
		if (s->ui_ops)
			log_error("--display sdl: cannot open the window (see above)");
		return HOSTEL_EXIT_HOST;
	}
	log_warn("no window (the display server did not answer): running without a screen "
		 "(--display none says so quietly)");
#endif
	return 0;
}

/* The boots: on this thread, or with a window on their own, while this
 * (main) thread runs the window until they end. */
static int boot_loop_run(struct session *s)
{
#if HOSTEL_HAVE_SDL
	if (s->ui) {
		struct loop_thread lt = {.s = s, .code = HOSTEL_EXIT_HOST};
		pthread_t t;
		if (pthread_create(&t, NULL, boot_loop_thread, &lt)) {
			log_error("cannot start the VM's thread");
			return HOSTEL_EXIT_HOST;
		}
		s->ui_ops->run(s->ui);
		pthread_join(t, NULL);
		return lt.code;
	}
#endif
	return boot_loop(s);
}

static int vmm_run(const struct hostel_opts *o)
{
	char why[512] = "";
	char kpath[4096], ipath[4096], dpath[4096];
	struct session s;
	int code = HOSTEL_EXIT_HOST, ret;

	memset(&s, 0, sizeof(s));
	s.o = o;
	s.close_fd = -1;
	s.t_start_ns = clock_now(clock_host());
	if (o->report) {
		s.rep = calloc(1, sizeof(*s.rep));
		if (!s.rep) {
			log_error("out of memory");
			return HOSTEL_EXIT_HOST;
		}
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		s.rep->wall_start_ns = (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
		s.rep->t_start = s.t_start_ns;
		s.rep->command_status = -1;
		s.rep->exit_reason = "start-up-failed";
	}
	if (o->timeout_ms)
		s.deadline_ns = s.t_start_ns + o->timeout_ms * 1000000ULL;
	atomic_store(&s.exec_status, -1);
	s.exec_stop_at_status = o->cmd == CMD_EXEC;
	for (unsigned int i = 0; i < o->nr_disks; i++)
		if (!o->disks[i].readonly && !o->disks[i].snapshot)
			s.exec_stop_at_status = false;
	pthread_mutex_init(&s.vm_lock, NULL);
	pthread_mutex_init(&s.doc_lock, NULL);
	if (o->ready_re) {
		if (regcomp(&s.ready_re, o->ready_re, REG_EXTENDED | REG_NOSUB) != 0) {
			log_error("--ready: '%s' is not a valid extended regular expression",
				  o->ready_re);
			return HOSTEL_EXIT_USAGE;
		}
		s.have_ready_re = true;
	}
	kernel_cache_init(s.cache_dir, sizeof(s.cache_dir));
	s.kernel = o->kernel;
	s.initrd = o->initrd;
	if (!s.kernel) {
		if (default_guest(kpath, ipath, dpath, sizeof(kpath))) {
			code = HOSTEL_EXIT_HOST;
			goto out;
		}
		s.kernel = kpath;
		if (!s.initrd) {
			s.initrd = ipath;
			s.initrd_display = dpath;
		}
	}

	/* Inputs first: a bad file is reported before any KVM work. */
	if (map_inputs(&s, why, sizeof(why))) {
		log_error("%s", why);
		code = HOSTEL_EXIT_BAD_INPUT;
		goto out;
	}
	unmap_inputs(&s);
	/* Signals: each boot's event loop takes SIGINT/SIGTERM/SIGHUP through
	 * a signalfd; every thread created from here on inherits the mask. */
	sigemptyset(&s.mask);
	sigaddset(&s.mask, SIGINT);
	sigaddset(&s.mask, SIGTERM);
	sigaddset(&s.mask, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &s.mask, NULL);
	signal(SIGPIPE, SIG_IGN);

	for (unsigned int i = 0; i < o->nr_disks; i++) {
		const struct disk_opts *d = &o->disks[i];
		struct blk_backend *be;
		char serial[24];
		if (blk_file_open(d->path, d->readonly, d->snapshot,
				  d->cache == DISK_CACHE_NONE ? BLK_CACHE_NONE
							      : BLK_CACHE_WRITEBACK,
				  &be, why, sizeof(why))) {
			log_error("%s", why);
			code = HOSTEL_EXIT_BAD_INPUT;
			goto out;
		}
		snprintf(serial, sizeof(serial), "hostel-vd%c", 'a' + i);
		struct blk_opts bo = {
			.readonly = d->readonly,
			.serial = serial,
			.discard = !d->readonly,
			.write_zeroes = !d->readonly,
			.aio = d->aio == DISK_AIO_URING ? BLK_AIO_URING : BLK_AIO_THREAD,
		};
		s.disks[i] = blk_create(be, &bo);
		if (!s.disks[i]) {
			be->ops->close(be);
			log_error("disk '%s': cannot create the virtio-blk device", d->path);
			code = HOSTEL_EXIT_BAD_INPUT;
			goto out;
		}
		log_info("disk '%s' (vd%c): I/O engine %s", d->path, 'a' + i,
			 blk_aio_engine(s.disks[i]));
		s.nr_disks++;
	}

	if (o->cmd == CMD_EXEC) {
		/* hvc0, hvc1, hvc2 in the guest: stdout, stderr, status. */
		const struct vcon_out outs[EXEC_CHANNELS] = {
			{.fd = STDOUT_FILENO},
			{.fd = STDERR_FILENO},
			{.fd = -1, .fn = on_exec_status, .opaque = &s},
		};
		for (unsigned int i = 0; i < EXEC_CHANNELS; i++) {
			s.exec_con[i] = vcon_create(&outs[i]);
			if (!s.exec_con[i]) {
				log_error("cannot create the exec channels");
				goto out;
			}
		}
	}

	/* After the signal mask: the socket's thread must not take SIGINT. */
	ret = o->api_socket ? vmctl_start(&s.ctl, o->api_socket, s.t_start_ns, why, sizeof(why))
			    : 0;
	if (ret) {
		log_error("%s", why);
		code = ret == -EEXIST ? HOSTEL_EXIT_USAGE : HOSTEL_EXIT_HOST;
		goto out;
	}
	const char *disk_paths[CLI_MAX_DISKS];
	for (unsigned int i = 0; i < s.nr_disks; i++)
		disk_paths[i] = o->disks[i].path;
	vmctl_set_disks(&s.ctl, s.disks, disk_paths, s.nr_disks);

	enum console_mode cm = o->console == CON_FILE	? CONSOLE_FILE
			       : o->console == CON_NONE ? CONSOLE_NONE
							: CONSOLE_STDIO;
	struct console_opts co = {
		.mode = cm,
		.path = o->console_path,
		.log_path = o->serial_log,
		.line_fn = on_console_line,
		.line_opaque = &s,
		.bytes_fn = o->doctor_after_ms ? on_console_bytes : NULL,
	};
	s.con = console_create(&co, why, sizeof(why));
	if (!s.con) {
		log_error("%s", why);
		goto out;
	}

	/* The window last, once nothing else can fail before the boots. */
	code = ui_open(&s);
	if (code)
		goto out;
	vmctl_set_display(&s.ctl, s.display);
	code = HOSTEL_EXIT_HOST;
	/* With a screen, tty0 gets the kernel's messages too; ttyS0, named
	 * last, stays /dev/console (the console, the doctor, exec). */
	char extra[64];
	snprintf(extra, sizeof(extra), "%s%s", s.display ? "console=tty0 " : "", board_cmdline());
	char *exec_arg = NULL;
	if (o->cmd == CMD_EXEC && !(exec_arg = exec_cmdline_arg(o))) {
		log_error("out of memory");
		goto out;
	}
	/* exec with the console nowhere (no --console, no --serial-log):
	 * nobody reads the kernel's boot messages, and each byte of them is
	 * two exits on the 16550. quiet keeps errors and panics (the console
	 * tail, the doctor); it comes first, so a loglevel= or debug in
	 * --cmdline still wins. */
	const char *quiet =
		o->cmd == CMD_EXEC && o->auto_cmdline && o->console == CON_NONE && !o->serial_log
			? "quiet "
			: "";
	/* The default guest, hostel's own, skips the kernel's crypto
	 * self-tests: they check the kernel's algorithms, not the machine,
	 * and are about a second of a nested boot. Before --cmdline, so a
	 * cryptomgr.notests=0 there still wins; a kernel of the user's boots
	 * as it is. */
	const char *guest = !o->kernel && o->auto_cmdline ? DEFAULT_GUEST_CMDLINE " " : "";
	size_t cl = strlen(quiet) + strlen(guest) + (o->cmdline ? strlen(o->cmdline) : 0) +
		    strlen(extra) + (exec_arg ? strlen(exec_arg) : 0) + 3;
	s.cmdline = malloc(cl);
	if (!s.cmdline) {
		free(exec_arg);
		goto out;
	}
	snprintf(s.cmdline, cl, "%s%s%s%s%s%s%s", quiet, guest, o->cmdline ? o->cmdline : "",
		 o->cmdline && exec_arg ? " " : "", exec_arg ? exec_arg : "",
		 (o->cmdline || exec_arg) && o->auto_cmdline ? " " : "",
		 o->auto_cmdline ? extra : "");
	free(exec_arg);

	code = boot_loop_run(&s);

out:
	vmctl_stop(&s.ctl);
	ui_close(&s); /* every board is gone: nothing uses the display */
	if (s.rep)
		write_report(&s, code);
	free(s.rep);
	for (unsigned int i = 0; i < EXEC_CHANNELS; i++)
		if (s.exec_con[i])
			vcon_destroy(s.exec_con[i]);
	if (s.have_ready_re)
		regfree(&s.ready_re);
	/* Last: blk_destroy flushes nothing the guest did not ask for, but
	 * closes (and unlocks) each image only after every boot is gone. */
	for (unsigned int i = 0; i < s.nr_disks; i++)
		blk_destroy(s.disks[i]);
	if (s.con)
		console_destroy(s.con);
	unmap_inputs(&s);
	free(s.cmdline);
	return code;
}

int main(int argc, char **argv)
{
	struct hostel_opts o;
	char err[1024];

	if (cli_parse(argc, argv, &o, err, sizeof(err))) {
		fprintf(stderr, "hostel: %s\n", err);
		return HOSTEL_EXIT_USAGE;
	}
	switch (o.cmd) {
	case CMD_HELP:
		fputs(o.help_run ? cli_run_usage : cli_usage, stdout);
		return 0;
	case CMD_VERSION:
		printf("hostel %s\n", HOSTEL_VERSION);
		return 0;
	case CMD_CTL:
		signal(SIGPIPE, SIG_IGN);
		return ctl_main(&o);
	case CMD_RUN:
	case CMD_EXEC:
		if (o.help_run) {
			fputs(cli_run_usage, stdout);
			return 0;
		}
		break;
	default:
		return HOSTEL_EXIT_USAGE;
	}
	log_set_level(o.verbose >= 2 ? LOG_DEBUG : o.verbose == 1 ? LOG_INFO : LOG_WARN);
	if (o.display == DISP_SDL && !HOSTEL_HAVE_SDL) {
		fprintf(stderr, "hostel: --display sdl: this hostel was built without SDL2 "
				"(install libsdl2-dev and build again)\n");
		return HOSTEL_EXIT_USAGE;
	}
	if (o.display == DISP_SDL && !display_server()) {
		fprintf(stderr, "hostel: --display sdl: no display server (neither DISPLAY nor "
				"WAYLAND_DISPLAY is set); use --display none\n");
		return HOSTEL_EXIT_USAGE;
	}

	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = fatal_signal;
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
	sigaction(SIGABRT, &sa, NULL);
	return vmm_run(&o);
}
