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
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "board.h"
#include "boot/boot.h"
#include "cli.h"
#include "console.h"
#include "evloop.h"
#include "exitcode.h"
#include "hostel-config.h"
#include "hostel/log.h"
#include "kvm/kvm.h"
#include "serial/uart.h"

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

/* The embedded default guest: images/ builds it on first use. */
static int default_guest(char *kernel, char *initrd, size_t len)
{
	char dir[3072];
	cache_dir(dir, sizeof(dir));
	snprintf(kernel, len, "%s/kernel/vmlinuz", dir);
	snprintf(initrd, len, "%s/initramfs.cpio.gz", dir);
	if (access(kernel, R_OK) != 0) {
		fprintf(stderr,
			"hostel: building the default guest's kernel (images/kernel.sh)...\n");
		if (run_script("kernel.sh"))
			return -EIO;
	}
	if (access(initrd, R_OK) != 0) {
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

struct run_ctx {
	struct vm *vm;
	int sigfd;
};

static void on_signal(void *opaque, uint32_t events)
{
	struct run_ctx *ctx = opaque;
	struct signalfd_siginfo si;
	(void)events;
	while (read(ctx->sigfd, &si, sizeof(si)) == sizeof(si)) {
		char d[64];
		snprintf(d, sizeof(d), "stopped by signal %s", strsignal((int)si.ssi_signo));
		vm_request_stop(ctx->vm, VM_STOP_SIGNAL, (int)si.ssi_signo, d);
	}
}

static void on_console_quit(void *opaque)
{
	vm_request_stop(opaque, VM_STOP_SIGNAL, 0, "stopped from the console (Ctrl-A x)");
}

static int exit_code_for(struct vm *vm)
{
	switch (vm->stop_reason) {
	case VM_STOP_POWEROFF:
	case VM_STOP_SIGNAL:
	case VM_STOP_RESET: /* until reboot exists, a guest reset ends the VM cleanly */
		return HOSTEL_EXIT_OK;
	case VM_STOP_PANIC:
		return HOSTEL_EXIT_PANIC;
	case VM_STOP_CPU_FAIL:
		return HOSTEL_EXIT_CPU_FAILURE;
	case VM_STOP_TIMEOUT:
		return HOSTEL_EXIT_TIMEOUT;
	case VM_STOP_DEBUG_EXIT:
		return (vm->stop_status << 1) | 1;
	case VM_STOP_HOST_ERR:
	case VM_STOP_NONE:
	default:
		return HOSTEL_EXIT_HOST;
	}
}

static int vmm_run(const struct hostel_opts *o)
{
	char why[512] = "";
	char kpath[4096], ipath[4096];
	const char *kernel = o->kernel, *initrd = o->initrd;
	struct mapped_file kf = {0}, inf = {0};
	struct bzimage_info bz;
	const char *bwhy = NULL;
	struct vm *vm = NULL;
	struct evloop *el = NULL;
	struct console *con = NULL;
	struct board board;
	bool board_up = false;
	int code = HOSTEL_EXIT_HOST;
	int sigfd = -1;
	char *cmdline = NULL;

	if (!kernel) {
		if (default_guest(kpath, ipath, sizeof(kpath)))
			return HOSTEL_EXIT_HOST;
		kernel = kpath;
		if (!initrd)
			initrd = ipath;
	}

	/* Inputs first: a bad file is reported before any KVM work. */
	if (map_input("kernel", kernel, KERNEL_MAX, &kf, why, sizeof(why))) {
		log_error("%s", why);
		return HOSTEL_EXIT_BAD_INPUT;
	}
	if (bzimage_parse(kf.data, kf.len, &bz, &bwhy)) {
		log_error("kernel '%s': %s", kernel, bwhy);
		code = HOSTEL_EXIT_BAD_INPUT;
		goto out;
	}
	if (initrd && map_input("initrd", initrd, o->memory, &inf, why, sizeof(why))) {
		log_error("%s", why);
		code = HOSTEL_EXIT_BAD_INPUT;
		goto out;
	}
	size_t cl = (o->cmdline ? strlen(o->cmdline) : 0) + strlen(board_cmdline()) + 2;
	cmdline = malloc(cl);
	if (!cmdline)
		goto out;
	if (o->auto_cmdline)
		snprintf(cmdline, cl, "%s%s%s", o->cmdline ? o->cmdline : "", o->cmdline ? " " : "",
			 board_cmdline());
	else
		snprintf(cmdline, cl, "%s", o->cmdline ? o->cmdline : "");

	/* Signals: the event loop takes SIGINT/SIGTERM/SIGHUP through a
	 * signalfd; every thread created from here on inherits the mask. */
	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);

	vm = calloc(1, sizeof(*vm));
	if (!vm)
		goto out;
	int ret = vm_create(vm, o->memory, o->cpus, why, sizeof(why));
	if (ret) {
		log_error("%s", why);
		code = ret == -ERANGE ? HOSTEL_EXIT_USAGE : HOSTEL_EXIT_HOST;
		free(vm);
		vm = NULL;
		goto out;
	}
	struct e820_entry e820[BOOT_E820_MAX];
	unsigned int ne = boot_e820_build(vm->low_size, vm->high_size, e820, BOOT_E820_MAX);
	struct boot_config bc = {
		.kernel = kf.data,
		.kernel_len = kf.len,
		.initrd = inf.data,
		.initrd_len = inf.len,
		.cmdline = cmdline,
		.e820 = e820,
		.nr_e820 = ne,
	};
	struct boot_entry be;
	if (boot_load(&vm->gmem, &bc, &be, &bwhy)) {
		log_error("cannot boot '%s': %s", kernel, bwhy);
		code = HOSTEL_EXIT_BAD_INPUT;
		goto out;
	}
	unmap_input(&kf);
	unmap_input(&inf);

	el = evloop_create();
	if (!el) {
		log_error("cannot create the event loop");
		goto out;
	}
	enum console_mode cm = o->console == CON_FILE	? CONSOLE_FILE
			       : o->console == CON_NONE ? CONSOLE_NONE
							: CONSOLE_STDIO;
	con = console_create(cm, o->console_path, why, sizeof(why));
	if (!con) {
		log_error("%s", why);
		goto out;
	}
	if (board_create(&board, vm, el, console_sink(con), why, sizeof(why))) {
		log_error("%s", why);
		goto out;
	}
	board_up = true;
	if (vcpus_create(vm, why, sizeof(why))) {
		log_error("%s", why);
		goto out;
	}
	ret = vcpu_setup_boot(&vm->vcpus[0], &be);
	if (ret) {
		log_error("cannot set the boot CPU's registers: %s", strerror(-ret));
		goto out;
	}

	sigfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	struct run_ctx ctx = {.vm = vm, .sigfd = sigfd};
	if (sigfd < 0 || evloop_add(el, sigfd, EPOLLIN, on_signal, &ctx)) {
		log_error("cannot watch signals: %s", strerror(errno));
		goto out;
	}
	if (console_start(con, el, board.uart, on_console_quit, vm)) {
		log_error("cannot start the console");
		goto out;
	}
	if (evloop_start(el)) {
		log_error("cannot start the event loop thread");
		goto out;
	}
	log_debug("booting %s (protocol %u.%02u) with %llu MiB, %u vCPU(s), cmdline '%s'", kernel,
		  bz.protocol >> 8, bz.protocol & 0xff, (unsigned long long)(o->memory >> 20),
		  o->cpus, cmdline);
	if (vcpus_start(vm)) {
		log_error("cannot start vCPU threads");
		vm_request_stop(vm, VM_STOP_HOST_ERR, 0, "vCPU threads");
	}

	vm_wait_stop(vm);
	vcpus_stop(vm);
	evloop_stop(el);
	code = exit_code_for(vm);
	switch (vm->stop_reason) {
	case VM_STOP_CPU_FAIL:
		log_error("guest CPU failure: %s", vm->stop_detail);
		break;
	case VM_STOP_HOST_ERR:
		log_error("%s", vm->stop_detail);
		break;
	default:
		log_info("%s", vm->stop_detail);
		break;
	}
out:
	if (el)
		evloop_stop(el);
	if (board_up)
		board_destroy(&board);
	if (con)
		console_destroy(con);
	if (sigfd >= 0)
		close(sigfd);
	if (el)
		evloop_destroy(el);
	if (vm) {
		vm_destroy(vm);
		free(vm);
	}
	unmap_input(&kf);
	unmap_input(&inf);
	free(cmdline);
	return code;
}

int main(int argc, char **argv)
{
	struct hostel_opts o;
	char err[256];

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
	case CMD_RUN:
		if (o.help_run) {
			fputs(cli_run_usage, stdout);
			return 0;
		}
		break;
	default:
		return HOSTEL_EXIT_USAGE;
	}
	log_set_level(o.verbose >= 2 ? LOG_DEBUG : o.verbose == 1 ? LOG_INFO : LOG_WARN);

	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = fatal_signal;
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
	sigaction(SIGABRT, &sa, NULL);
	return vmm_run(&o);
}
