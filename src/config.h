/* SPDX-License-Identifier: MIT */
/*
 * Machine configuration files (hostel run --config FILE): a JSON object
 * whose keys mirror the options of 'hostel run' (schema in README.md and in
 * 'hostel run --help'), and the reverse, the effective machine as JSON
 * (--print-config), which is itself a valid configuration file.
 */
#ifndef HOSTEL_CONFIG_H
#define HOSTEL_CONFIG_H

#include <stddef.h>
#include <cjson/cJSON.h>
#include "cli.h"
#include "hostel/compiler.h"

#define CONFIG_MAX_BYTES (1u << 20) /* a larger file is refused unread */

/*
 * Make @s one printable line: every control byte (a newline, a tab, an
 * escape) becomes '?'. Error messages quote user input (a file's strings,
 * an option's value), and an error is one line.
 */
void text_one_line(char *s);

/*
 * Apply the keys of a configuration to @o (which holds the defaults, or
 * whatever the caller wants the file to override). @text is @len bytes
 * of JSON read from the file @name; relative paths in it are taken relative
 * to @dir (NULL: as they are). Strings land in @o->cfg. Returns 0, or
 * -EINVAL with one line in @err ("config 'vm.json': key "cpus": expected a
 * number, got a string"); @o is then partly updated.
 */
int config_parse(const char *text, size_t len, const char *name, const char *dir,
		 struct hostel_opts *o, char *err, size_t errlen) __must_check;

/* Read the file @path (at most CONFIG_MAX_BYTES) and config_parse() it,
 * with relative paths relative to the file's directory. */
int config_load(const char *path, struct hostel_opts *o, char *err, size_t errlen) __must_check;

/* The machine @o describes, as a configuration object (every key, defaults
 * included; no "kernel" means the default guest). NULL when out of memory. */
cJSON *config_to_cjson(const struct hostel_opts *o);

/* The same as formatted JSON text ending in a newline; free() it. */
char *config_to_json(const struct hostel_opts *o);

#endif
