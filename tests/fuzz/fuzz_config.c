// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for configuration files (src/config.c): arbitrary bytes
 * as the text of a --config file.
 *
 * Checked: a reject is one line that names the file; an accepted file gives
 * a machine within the documented ranges, with every path made absolute
 * against the file's directory; and that machine printed as JSON
 * (--print-config) reads back as a config file giving the same machine.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond)
{
	if (!cond)
		__builtin_trap();
}

static void check_str(const char *s, size_t max)
{
	check(s == NULL || strnlen(s, max) < max);
}

static int same_str(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

static void check_same(const struct hostel_opts *a, const struct hostel_opts *b)
{
	check(same_str(a->kernel, b->kernel));
	check(same_str(a->initrd, b->initrd));
	check(same_str(a->cmdline, b->cmdline));
	check(a->auto_cmdline == b->auto_cmdline);
	check(a->memory == b->memory);
	check(a->cpus == b->cpus);
	check(a->console == b->console);
	check(a->console != CON_FILE || same_str(a->console_path, b->console_path));
	check(a->no_reboot == b->no_reboot);
	check(a->no_unpack == b->no_unpack);
	check(a->debug_exit == b->debug_exit);
	check(a->grace_s == b->grace_s);
	check(a->doctor_after_ms == b->doctor_after_ms);
	check(a->nr_disks == b->nr_disks);
	for (unsigned int i = 0; i < a->nr_disks; i++) {
		check(!strcmp(a->disks[i].path, b->disks[i].path));
		check(a->disks[i].readonly == b->disks[i].readonly);
		check(a->disks[i].snapshot == b->disks[i].snapshot);
		check(a->disks[i].cache == b->disks[i].cache);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct hostel_opts o, back;
	static const char prefix[] = "config 'fuzz.json': ";
	char err[256];

	cli_defaults(&o);
	err[0] = 0;
	if (config_parse((const char *)data, size, "fuzz.json", "/cfg", &o, err, sizeof(err))) {
		check(!strncmp(err, prefix, strlen(prefix)) && err[strlen(prefix)]);
		check(!strchr(err, '\n'));
		return 0;
	}
	check(o.cpus >= 1 && o.cpus <= CLI_MAX_CPUS);
	check(o.memory >= CLI_MIN_MEMORY && o.memory <= CLI_MAX_MEMORY);
	check(o.grace_s <= 3600);
	check(o.debug_exit <= 0xfffc);
	check(o.nr_disks <= CLI_MAX_DISKS);
	check_str(o.kernel, CLI_MAX_PATH);
	check_str(o.initrd, CLI_MAX_PATH);
	check_str(o.cmdline, CLI_MAX_PATH);
	check(!o.kernel || o.kernel[0] == '/');
	check(!o.initrd || o.initrd[0] == '/');
	check(o.console != CON_FILE || (o.console_path && o.console_path[0] == '/'));
	for (unsigned int i = 0; i < o.nr_disks; i++) {
		check_str(o.disks[i].path, CLI_MAX_PATH);
		check(o.disks[i].path[0] == '/');
		for (unsigned int j = 0; j < i; j++)
			check(strcmp(o.disks[i].path, o.disks[j].path));
	}

	char *text = config_to_json(&o);
	check(text != NULL);
	cli_defaults(&back);
	check(config_parse(text, strlen(text), "printed.json", NULL, &back, err, sizeof(err)) == 0);
	check_same(&o, &back);
	free(text);
	return 0;
}
