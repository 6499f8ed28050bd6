// SPDX-License-Identifier: MIT
#include <ctype.h>
#include <errno.h>
#include <regex.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "config.h"
#include "jsonutil.h"

struct ctx {
	const char *name; /* the file, as named on the command line */
	const char *dir;  /* relative paths are relative to this; NULL: as they are */
	char *err;
	size_t errlen;
};

void text_one_line(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = '?';
}

static int __printf(2, 3) fail(struct ctx *c, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(c->err, c->errlen, "config '%s': %s", c->name, msg);
	/* A --net string or a path from the file may hold a newline. */
	text_one_line(c->err);
	return -EINVAL;
}

static int wrong_type(struct ctx *c, const char *key, const cJSON *it, const char *want)
{
	return fail(c, "key \"%s\": expected %s, got %s", key, want, json_type_name(it));
}

static int get_bool(struct ctx *c, const char *key, const cJSON *it, bool *out)
{
	if (!cJSON_IsBool(it))
		return wrong_type(c, key, it, "true or false");
	*out = cJSON_IsTrue(it);
	return 0;
}

static int get_int(struct ctx *c, const char *key, const cJSON *it, long long min, long long max,
		   long long *out)
{
	int r = json_get_int(it, min, max, out);
	if (r == 0)
		return 0;
	if (!cJSON_IsNumber(it))
		return wrong_type(c, key, it, "a number");
	if (r == -ERANGE)
		return fail(c, "key \"%s\": %g is not from %lld to %lld", key, it->valuedouble, min,
			    max);
	return fail(c, "key \"%s\": expected a whole number, got %g", key, it->valuedouble);
}

static int get_string(struct ctx *c, const char *key, const cJSON *it, const char **out)
{
	if (!cJSON_IsString(it))
		return wrong_type(c, key, it, "a string");
	*out = it->valuestring;
	return 0;
}

/* A string copied into @buf, at most @size - 1 bytes. */
static int get_text(struct ctx *c, const char *key, const cJSON *it, char *buf, size_t size)
{
	const char *s = NULL;
	if (get_string(c, key, it, &s))
		return -EINVAL;
	if (strlen(s) >= size)
		return fail(c, "key \"%s\": longer than %zu bytes", key, size - 1);
	memcpy(buf, s, strlen(s) + 1);
	return 0;
}

/* A path into @buf: relative ones are taken relative to the file's directory. */
static int resolve(struct ctx *c, const char *key, const char *path, char *buf, size_t size)
{
	int n;
	if (!*path)
		return fail(c, "key \"%s\": the path is empty", key);
	if (path[0] == '/' || !c->dir)
		n = snprintf(buf, size, "%s", path);
	else
		n = snprintf(buf, size, "%s%s%s", c->dir,
			     c->dir[strlen(c->dir) - 1] == '/' ? "" : "/", path);
	if (n < 0 || (size_t)n >= size)
		return fail(c, "key \"%s\": the path is longer than %zu bytes", key, size - 1);
	return 0;
}

static int get_path(struct ctx *c, const char *key, const cJSON *it, char *buf, size_t size)
{
	const char *s = NULL;
	if (get_string(c, key, it, &s))
		return -EINVAL;
	return resolve(c, key, s, buf, size);
}

static int get_memory(struct ctx *c, const cJSON *it, struct hostel_opts *o)
{
	char q[JSON_QUOTE_LEN];
	uint64_t bytes;
	if (cJSON_IsNumber(it)) {
		long long mib;
		int r = json_get_int(it, CLI_MIN_MEMORY >> 20, CLI_MAX_MEMORY >> 20, &mib);
		if (r == -ERANGE)
			return fail(c, "key \"memory\": %g MiB is not from 16M to 1T",
				    it->valuedouble);
		if (r)
			return fail(c, "key \"memory\": expected a whole number of MiB, got %g",
				    it->valuedouble);
		bytes = (uint64_t)mib << 20;
	} else if (cJSON_IsString(it)) {
		const char *s = it->valuestring;
		if (cli_parse_size(s, &bytes) || !cli_memory_ok(bytes))
			return fail(
				c,
				"key \"memory\": \"%s\" is not a size from 16M to 1T in whole MiB "
				"(examples: \"512M\", \"2G\", or a number of MiB)",
				json_quote(s, q, sizeof(q)));
	} else {
		return wrong_type(c, "memory", it, "a size (\"2G\") or a number of MiB");
	}
	o->memory = bytes;
	return 0;
}

/* "timeout": a duration string as --timeout takes, a number of seconds, or
 * false (none). */
static int get_timeout(struct ctx *c, const cJSON *it, struct hostel_opts *o)
{
	char q[JSON_QUOTE_LEN];
	uint64_t ms = 0;
	long long s;
	if (cJSON_IsFalse(it)) {
		o->timeout_ms = 0;
		return 0;
	}
	if (cJSON_IsNumber(it)) {
		if (json_get_int(it, 1, 7 * 24 * 3600, &s))
			return fail(c,
				    "key \"timeout\": %g is not a whole number of seconds "
				    "from 1 to a week",
				    it->valuedouble);
		o->timeout_ms = (uint64_t)s * 1000;
		return 0;
	}
	if (!cJSON_IsString(it))
		return wrong_type(c, "timeout", it, "a duration (\"30s\"), seconds or false");
	if (cli_parse_duration(it->valuestring, &ms) || !ms)
		return fail(c,
			    "key \"timeout\": \"%s\" is not a duration from 1ms to a week "
			    "(examples: \"90\", \"30s\", \"500ms\", \"5m\", \"1h\")",
			    json_quote(it->valuestring, q, sizeof(q)));
	o->timeout_ms = ms;
	return 0;
}

/* "doctor_after": a duration string as --doctor-after takes ("0" too), a
 * number of seconds, or false (no doctor). */
static int get_doctor_after(struct ctx *c, const cJSON *it, struct hostel_opts *o)
{
	char q[JSON_QUOTE_LEN];
	uint64_t ms = 0;
	long long s;
	if (cJSON_IsFalse(it)) {
		o->doctor_after_ms = 0;
		return 0;
	}
	if (cJSON_IsNumber(it)) {
		if (json_get_int(it, 0, 7 * 24 * 3600, &s))
			return fail(c,
				    "key \"doctor_after\": %g is not a whole number of seconds "
				    "from 0 to a week",
				    it->valuedouble);
		o->doctor_after_ms = (uint64_t)s * 1000;
		return 0;
	}
	if (!cJSON_IsString(it))
		return wrong_type(c, "doctor_after", it, "a duration (\"30s\"), seconds or false");
	if (cli_parse_duration(it->valuestring, &ms))
		return fail(c,
			    "key \"doctor_after\": \"%s\" is not a duration up to a week "
			    "(examples: \"30s\", \"2m\", \"0\")",
			    json_quote(it->valuestring, q, sizeof(q)));
	o->doctor_after_ms = ms;
	return 0;
}

static int get_ready(struct ctx *c, const cJSON *it, struct hostel_opts *o)
{
	char q[JSON_QUOTE_LEN];
	regex_t re;
	if (get_text(c, "ready", it, o->cfg.ready_re, sizeof(o->cfg.ready_re)))
		return -EINVAL;
	if (!o->cfg.ready_re[0] || regcomp(&re, o->cfg.ready_re, REG_EXTENDED | REG_NOSUB) != 0)
		return fail(c, "key \"ready\": \"%s\" is not an extended regular expression",
			    json_quote(o->cfg.ready_re, q, sizeof(q)));
	regfree(&re);
	o->ready_re = o->cfg.ready_re;
	return 0;
}

static int get_report_format(struct ctx *c, const cJSON *it, struct hostel_opts *o)
{
	char q[JSON_QUOTE_LEN];
	const char *s = NULL;
	if (get_string(c, "report_format", it, &s))
		return -EINVAL;
	if (strcmp(s, "json") && strcmp(s, "junit"))
		return fail(c, "key \"report_format\": \"%s\" is not \"json\" or \"junit\"",
			    json_quote(s, q, sizeof(q)));
	o->report_junit = !strcmp(s, "junit");
	return 0;
}

static int get_console(struct ctx *c, const cJSON *it, struct hostel_opts *o)
{
	char q[JSON_QUOTE_LEN];
	const char *s = NULL;
	if (get_string(c, "console", it, &s))
		return -EINVAL;
	if (!strcmp(s, "stdio")) {
		o->console = CON_STDIO;
	} else if (!strcmp(s, "none")) {
		o->console = CON_NONE;
	} else if (!strncmp(s, "file:", 5) && s[5]) {
		if (resolve(c, "console", s + 5, o->cfg.console_path, sizeof(o->cfg.console_path)))
			return -EINVAL;
		o->console = CON_FILE;
		o->console_path = o->cfg.console_path;
	} else {
		return fail(c,
			    "key \"console\": \"%s\" is not one of \"stdio\", \"file:PATH\", "
			    "\"none\"",
			    json_quote(s, q, sizeof(q)));
	}
	return 0;
}

static int get_display(struct ctx *c, const cJSON *it, struct hostel_opts *o)
{
	const char *s = NULL;
	char q[JSON_QUOTE_LEN];
	if (get_string(c, "display", it, &s))
		return -EINVAL;
	if (!strcmp(s, "sdl"))
		o->display = DISP_SDL;
	else if (!strcmp(s, "none"))
		o->display = DISP_NONE;
	else
		return fail(c, "key \"display\": \"%s\" is not one of \"sdl\", \"none\"",
			    json_quote(s, q, sizeof(q)));
	return 0;
}

static int get_debug_exit(struct ctx *c, const cJSON *it, struct hostel_opts *o)
{
	char q[JSON_QUOTE_LEN];
	if (cJSON_IsBool(it)) {
		o->debug_exit = cJSON_IsTrue(it) ? 0x501 : 0; /* QEMU's default port */
		return 0;
	}
	if (cJSON_IsNumber(it)) {
		long long port;
		if (get_int(c, "debug_exit", it, 1, 0xfffc, &port))
			return -EINVAL;
		o->debug_exit = (uint16_t)port;
		return 0;
	}
	if (cJSON_IsString(it)) {
		const char *s = it->valuestring;
		char *end;
		errno = 0;
		unsigned long port = strtoul(s, &end, 0);
		if (!isdigit((unsigned char)s[0]) || errno || *end || port == 0 || port > 0xfffc)
			return fail(c,
				    "key \"debug_exit\": \"%s\" is not an I/O port from 0x1 to "
				    "0xfffc",
				    json_quote(s, q, sizeof(q)));
		o->debug_exit = (uint16_t)port;
		return 0;
	}
	return wrong_type(c, "debug_exit", it, "true, false or an I/O port");
}

static int get_disk(struct ctx *c, unsigned int i, const cJSON *it, struct disk_opts *d)
{
	static const char *const keys[] = {"path", "readonly", "snapshot", "cache", "aio", NULL};
	char key[64], q[JSON_QUOTE_LEN];
	const cJSON *bad, *f;
	bool dup, have_path = false;

	snprintf(key, sizeof(key), "disks[%u]", i);
	if (!cJSON_IsObject(it))
		return wrong_type(c, key, it, "an object");
	if (json_check_keys(it, keys, &bad, &dup))
		return fail(c, dup ? "key \"%s.%s\" given more than once" : "unknown key \"%s.%s\"",
			    key, json_quote(bad->string, q, sizeof(q)));
	memset(d, 0, sizeof(*d));
	d->cache = DISK_CACHE_WRITEBACK;
	cJSON_ArrayForEach(f, it)
	{
		snprintf(key, sizeof(key), "disks[%u].%s", i, f->string);
		int r = 0;
		if (!strcmp(f->string, "path")) {
			r = get_path(c, key, f, d->path, sizeof(d->path));
			have_path = true;
		} else if (!strcmp(f->string, "readonly")) {
			r = get_bool(c, key, f, &d->readonly);
		} else if (!strcmp(f->string, "snapshot")) {
			r = get_bool(c, key, f, &d->snapshot);
		} else if (!strcmp(f->string, "aio")) {
			const char *s = NULL;
			r = get_string(c, key, f, &s);
			if (!r && !strcmp(s, "uring"))
				d->aio = DISK_AIO_URING;
			else if (!r && !strcmp(s, "thread"))
				d->aio = DISK_AIO_THREAD;
			else if (!r)
				r = fail(c, "key \"%s\": \"%s\" is not \"uring\" or \"thread\"",
					 key, json_quote(s, q, sizeof(q)));
		} else { /* cache */
			const char *s = NULL;
			r = get_string(c, key, f, &s);
			if (!r && !strcmp(s, "writeback"))
				d->cache = DISK_CACHE_WRITEBACK;
			else if (!r && !strcmp(s, "none"))
				d->cache = DISK_CACHE_NONE;
			else if (!r)
				r = fail(c, "key \"%s\": \"%s\" is not \"writeback\" or \"none\"",
					 key, json_quote(s, q, sizeof(q)));
		}
		if (r)
			return r;
	}
	if (!have_path)
		return fail(c, "key \"disks[%u]\": needs a \"path\"", i);
	return 0;
}

static int get_disks(struct ctx *c, const cJSON *it, struct hostel_opts *o)
{
	const cJSON *d;
	unsigned int n = 0;
	char q[JSON_QUOTE_LEN];

	if (!cJSON_IsArray(it))
		return wrong_type(c, "disks", it, "an array");
	if (cJSON_GetArraySize(it) > CLI_MAX_DISKS)
		return fail(c, "key \"disks\": %d disks, at most %d", cJSON_GetArraySize(it),
			    CLI_MAX_DISKS);
	cJSON_ArrayForEach(d, it)
	{
		if (get_disk(c, n, d, &o->disks[n]))
			return -EINVAL;
		for (unsigned int i = 0; i < n; i++)
			if (!strcmp(o->disks[i].path, o->disks[n].path))
				return fail(
					c,
					"key \"disks[%u].path\": disk \"%s\" given more than once",
					n, json_quote(o->disks[n].path, q, sizeof(q)));
		n++;
	}
	o->nr_disks = n;
	return 0;
}

static int parse_fwd_at(const char *s, struct net_opts *n, unsigned int i, char *why, size_t len)
{
	return net_parse_fwd(s, &n->fwds[i], why, len);
}

static int parse_gfwd_at(const char *s, struct net_opts *n, unsigned int i, char *why, size_t len)
{
	return net_parse_gfwd(s, &n->gfwds[i], why, len);
}

/*
 * "hostfwd" or "guestfwd" of a "net" entry: one string or an array of at
 * most @max strings, each parsed by @parse into slot i; *@count is set.
 */
static int get_fwds(struct ctx *c, const char *key, const cJSON *f, struct net_opts *n,
		    unsigned int max, unsigned int *count,
		    int (*parse)(const char *, struct net_opts *, unsigned int, char *, size_t))
{
	char why[384];
	const cJSON *h;
	int r = 0;

	*count = 0;
	if (cJSON_IsString(f)) {
		if (parse(f->valuestring, n, 0, why, sizeof(why)))
			return fail(c, "key \"%s\": %s", key, why);
		*count = 1;
		return 0;
	}
	if (!cJSON_IsArray(f))
		return wrong_type(c, key, f, "a string or an array of strings");
	if (cJSON_GetArraySize(f) > (int)max)
		return fail(c, "key \"%s\": at most %u forwards", key, max);
	cJSON_ArrayForEach(h, f)
	{
		if (!cJSON_IsString(h))
			r = wrong_type(c, key, h, "an array of strings");
		else if (parse(h->valuestring, n, *count, why, sizeof(why)))
			r = fail(c, "key \"%s\": %s", key, why);
		if (r)
			return r;
		(*count)++;
	}
	return 0;
}

/* One "net" entry: a --net string, or an object with the same options as keys. */
static int get_net(struct ctx *c, unsigned int i, const cJSON *it, struct net_opts *n)
{
	static const char *const keys[] = {"type", "hostfwd", "guestfwd", "restrict",
					   "mac",  "ifname",  NULL};
	char key[64], q[JSON_QUOTE_LEN], why[384];
	const cJSON *bad, *f;
	bool dup, have_type = false;
	const char *s = NULL;
	bool user_only = false; /* hostfwd, guestfwd or restrict given */
	int r = 0;

	snprintf(key, sizeof(key), "net[%u]", i);
	if (cJSON_IsString(it)) {
		if (net_parse(it->valuestring, n, why, sizeof(why)))
			return fail(c, "key \"%s\": %s", key, why);
		return 0;
	}
	if (!cJSON_IsObject(it))
		return wrong_type(c, key, it, "a string or an object");
	if (json_check_keys(it, keys, &bad, &dup))
		return fail(c, dup ? "key \"%s.%s\" given more than once" : "unknown key \"%s.%s\"",
			    key, json_quote(bad->string, q, sizeof(q)));
	memset(n, 0, sizeof(*n));
	n->kind = NET_USER;
	cJSON_ArrayForEach(f, it)
	{
		snprintf(key, sizeof(key), "net[%u].%s", i, f->string);
		if (!strcmp(f->string, "type")) {
			r = get_string(c, key, f, &s);
			if (!r && !strcmp(s, "tap"))
				n->kind = NET_TAP;
			else if (!r && strcmp(s, "user"))
				r = fail(c, "key \"%s\": \"%s\" is not \"user\" or \"tap\"", key,
					 json_quote(s, q, sizeof(q)));
			have_type = true;
		} else if (!strcmp(f->string, "ifname")) {
			r = get_string(c, key, f, &s);
			if (!r && net_check_ifname(s))
				r = fail(c,
					 "key \"%s\": \"%s\" is not an interface name (1-15 "
					 "characters without '/', ':' or spaces)",
					 key, json_quote(s, q, sizeof(q)));
			if (!r)
				memcpy(n->ifname, s, strlen(s) + 1);
		} else if (!strcmp(f->string, "restrict")) {
			r = get_bool(c, key, f, &n->restricted);
			user_only = true;
		} else if (!strcmp(f->string, "mac")) {
			r = get_string(c, key, f, &s);
			if (!r && net_parse_mac(s, n->mac))
				r = fail(c, "key \"%s\": \"%s\" is not a unicast aa:bb:cc:dd:ee:ff",
					 key, json_quote(s, q, sizeof(q)));
			n->has_mac = !r;
		} else if (!strcmp(f->string, "guestfwd")) {
			user_only = true;
			r = get_fwds(c, key, f, n, NET_MAX_GFWDS, &n->nr_gfwds, parse_gfwd_at);
			if (!r && net_check_gfwds(n, why, sizeof(why)))
				r = fail(c, "key \"%s\": %s", key, why);
		} else {
			user_only = true;
			r = get_fwds(c, key, f, n, NET_MAX_FWDS, &n->nr_fwds, parse_fwd_at);
		}
		if (r)
			return r;
	}
	if (!have_type)
		return fail(c, "key \"net[%u]\": needs a \"type\" (\"user\" or \"tap\")", i);
	if (n->kind == NET_TAP && user_only)
		return fail(c,
			    "key \"net[%u]\": \"hostfwd\", \"guestfwd\" and \"restrict\" are for "
			    "\"user\", not "
			    "\"tap\"",
			    i);
	if (n->kind == NET_TAP && !n->ifname[0])
		return fail(c, "key \"net[%u]\": a \"tap\" needs an \"ifname\"", i);
	if (n->kind == NET_USER && n->ifname[0])
		return fail(c, "key \"net[%u]\": \"ifname\" is for \"tap\", not \"user\"", i);
	return 0;
}

static int get_nets(struct ctx *c, const cJSON *it, struct hostel_opts *o)
{
	const cJSON *d;
	unsigned int n = 0;

	if (!cJSON_IsArray(it))
		return wrong_type(c, "net", it, "an array");
	if (cJSON_GetArraySize(it) > NET_MAX_NICS)
		return fail(c, "key \"net\": %d NICs, at most %d", cJSON_GetArraySize(it),
			    NET_MAX_NICS);
	cJSON_ArrayForEach(d, it)
	{
		if (get_net(c, n, d, &o->nets[n]))
			return -EINVAL;
		n++;
	}
	o->nr_nets = n;
	return 0;
}

int config_parse(const char *text, size_t len, const char *name, const char *dir,
		 struct hostel_opts *o, char *err, size_t errlen)
{
	static const char *const keys[] = {
		"kernel",	 "initrd",     "cmdline",	 "auto_cmdline",
		"memory",	 "cpus",       "console",	 "disks",
		"reboot",	 "debug_exit", "shutdown_grace", "kernel_unpack",
		"timeout",	 "ready",      "serial_log",	 "report",
		"report_format", "api_socket", "doctor_after",	 "display",
		"net",		 NULL,
	};
	struct ctx c = {
		.name = name, .dir = dir && *dir ? dir : NULL, .err = err, .errlen = errlen};
	char why[128], q[JSON_QUOTE_LEN];
	const cJSON *bad, *it;
	bool dup, b = false;
	long long n;
	int r = 0;

	if (len > CONFIG_MAX_BYTES)
		return fail(&c, "larger than the %u KiB limit", CONFIG_MAX_BYTES >> 10);
	cJSON *root = json_parse_strict(text, len, why, sizeof(why));
	if (!root)
		return fail(&c, "%s", why);
	if (!cJSON_IsObject(root)) {
		r = fail(&c, "expected a JSON object ({...}) at the top, got %s",
			 json_type_name(root));
		goto out;
	}
	if (json_check_keys(root, keys, &bad, &dup)) {
		r = fail(&c, dup ? "key \"%s\" given more than once" : "unknown key \"%s\"",
			 json_quote(bad->string, q, sizeof(q)));
		goto out;
	}
	cJSON_ArrayForEach(it, root)
	{
		const char *k = it->string;
		if (!strcmp(k, "kernel")) {
			r = get_path(&c, k, it, o->cfg.kernel, sizeof(o->cfg.kernel));
			o->kernel = o->cfg.kernel;
		} else if (!strcmp(k, "initrd")) {
			r = get_path(&c, k, it, o->cfg.initrd, sizeof(o->cfg.initrd));
			o->initrd = o->cfg.initrd;
		} else if (!strcmp(k, "cmdline")) {
			r = get_text(&c, k, it, o->cfg.cmdline, sizeof(o->cfg.cmdline));
			o->cmdline = o->cfg.cmdline;
		} else if (!strcmp(k, "auto_cmdline")) {
			r = get_bool(&c, k, it, &o->auto_cmdline);
		} else if (!strcmp(k, "memory")) {
			r = get_memory(&c, it, o);
		} else if (!strcmp(k, "cpus")) {
			r = get_int(&c, k, it, 1, CLI_MAX_CPUS, &n);
			if (!r)
				o->cpus = (unsigned int)n;
		} else if (!strcmp(k, "console")) {
			r = get_console(&c, it, o);
		} else if (!strcmp(k, "display")) {
			r = get_display(&c, it, o);
		} else if (!strcmp(k, "disks")) {
			r = get_disks(&c, it, o);
		} else if (!strcmp(k, "net")) {
			r = get_nets(&c, it, o);
		} else if (!strcmp(k, "reboot")) {
			r = get_bool(&c, k, it, &b);
			o->no_reboot = !b;
		} else if (!strcmp(k, "debug_exit")) {
			r = get_debug_exit(&c, it, o);
		} else if (!strcmp(k, "shutdown_grace")) {
			r = get_int(&c, k, it, 0, 3600, &n);
			if (!r)
				o->grace_s = (unsigned int)n;
		} else if (!strcmp(k, "kernel_unpack")) {
			r = get_bool(&c, k, it, &b);
			o->no_unpack = !b;
		} else if (!strcmp(k, "timeout")) {
			r = get_timeout(&c, it, o);
		} else if (!strcmp(k, "doctor_after")) {
			r = get_doctor_after(&c, it, o);
		} else if (!strcmp(k, "ready")) {
			r = get_ready(&c, it, o);
		} else if (!strcmp(k, "serial_log")) {
			r = get_path(&c, k, it, o->cfg.serial_log, sizeof(o->cfg.serial_log));
			o->serial_log = o->cfg.serial_log;
		} else if (!strcmp(k, "report")) {
			r = get_path(&c, k, it, o->cfg.report, sizeof(o->cfg.report));
			o->report = o->cfg.report;
		} else if (!strcmp(k, "report_format")) {
			r = get_report_format(&c, it, o);
		} else { /* api_socket */
			r = get_path(&c, k, it, o->cfg.api_socket, sizeof(o->cfg.api_socket));
			o->api_socket = o->cfg.api_socket;
		}
		if (r)
			break;
	}
out:
	cJSON_Delete(root);
	return r;
}

int config_load(const char *path, struct hostel_opts *o, char *err, size_t errlen)
{
	struct ctx c = {.name = path, .err = err, .errlen = errlen};
	struct stat st;
	char dir[CLI_MAX_PATH];
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return fail(&c, "%s", strerror(errno));
	if (fstat(fd, &st) < 0 || S_ISDIR(st.st_mode)) {
		int e = errno;
		close(fd);
		return fail(&c, "%s", S_ISDIR(st.st_mode) ? "is a directory" : strerror(e));
	}
	if (S_ISREG(st.st_mode) && (uint64_t)st.st_size > CONFIG_MAX_BYTES) {
		close(fd);
		return fail(&c, "larger than the %u KiB limit", CONFIG_MAX_BYTES >> 10);
	}
	/* Not trusting st_size: a pipe has none, and a file may grow. */
	char *buf = malloc(CONFIG_MAX_BYTES + 1);
	if (!buf) {
		close(fd);
		return fail(&c, "out of memory");
	}
	size_t len = 0;
	while (len <= CONFIG_MAX_BYTES) {
		ssize_t n = read(fd, buf + len, CONFIG_MAX_BYTES + 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			close(fd);
			free(buf);
			return fail(&c, "%s", strerror(e));
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);

	/* The file's directory: "vm.json" -> none (the working directory). */
	const char *slash = strrchr(path, '/');
	dir[0] = 0;
	if (slash) {
		size_t dl = slash == path ? 1 : (size_t)(slash - path);
		if (dl >= sizeof(dir)) {
			free(buf);
			return fail(&c, "the file's name is too long");
		}
		memcpy(dir, path, dl);
		dir[dl] = 0;
	}
	int r = config_parse(buf, len, path, dir, o, err, errlen);
	free(buf);
	return r;
}

static const char *size_text(uint64_t bytes, char *buf, size_t len)
{
	static const char units[] = "KMGT";
	int u = -1;
	while (u < 3 && bytes && bytes % 1024 == 0) {
		bytes /= 1024;
		u++;
	}
	if (u < 0) /* not a whole KiB: not from cli_parse_size, but exact anyway */
		snprintf(buf, len, "%lluB", (unsigned long long)bytes);
	else
		snprintf(buf, len, "%llu%c", (unsigned long long)bytes, units[u]);
	return buf;
}

static bool add_string(cJSON *array, const char *s)
{
	cJSON *it = cJSON_CreateString(s);

	if (!it || !cJSON_AddItemToArray(array, it)) {
		cJSON_Delete(it);
		return false;
	}
	return true;
}

/* "net": one object per NIC, in the object form get_net() takes back. */
static bool config_add_nets(cJSON *root, const struct hostel_opts *o)
{
	cJSON *nets = cJSON_AddArrayToObject(root, "net");
	char buf[NET_GFWD_MAX + 40];

	if (!nets)
		return false;
	for (unsigned int i = 0; i < o->nr_nets && i < NET_MAX_NICS; i++) {
		const struct net_opts *n = &o->nets[i];
		cJSON *jn = cJSON_CreateObject(), *fw, *gw;

		if (!jn || !cJSON_AddItemToArray(nets, jn)) {
			cJSON_Delete(jn);
			return false;
		}
		if (n->kind == NET_TAP) {
			if (!cJSON_AddStringToObject(jn, "type", "tap") ||
			    !cJSON_AddStringToObject(jn, "ifname", n->ifname))
				return false;
		} else if (!cJSON_AddStringToObject(jn, "type", "user") ||
			   !cJSON_AddBoolToObject(jn, "restrict", n->restricted)) {
			return false;
		}
		if (n->has_mac) {
			net_format_mac(n->mac, buf, sizeof(buf));
			if (!cJSON_AddStringToObject(jn, "mac", buf))
				return false;
		}
		if (n->kind == NET_TAP)
			continue;
		fw = cJSON_AddArrayToObject(jn, "hostfwd");
		for (unsigned int k = 0; fw && k < n->nr_fwds && k < NET_MAX_FWDS; k++) {
			net_format_fwd(&n->fwds[k], buf, sizeof(buf));
			if (!add_string(fw, buf))
				return false;
		}
		gw = fw ? cJSON_AddArrayToObject(jn, "guestfwd") : NULL;
		for (unsigned int k = 0; gw && k < n->nr_gfwds && k < NET_MAX_GFWDS; k++) {
			net_format_gfwd(&n->gfwds[k], buf, sizeof(buf));
			if (!add_string(gw, buf))
				return false;
		}
		if (!gw)
			return false;
	}
	return true;
}

cJSON *config_to_cjson(const struct hostel_opts *o)
{
	cJSON *root = cJSON_CreateObject(), *disks;
	char buf[CLI_MAX_PATH + 8];
	bool ok = root != NULL;

	if (ok && o->kernel)
		ok = cJSON_AddStringToObject(root, "kernel", o->kernel);
	if (ok && o->initrd)
		ok = cJSON_AddStringToObject(root, "initrd", o->initrd);
	if (ok && o->cmdline)
		ok = cJSON_AddStringToObject(root, "cmdline", o->cmdline);
	ok = ok && cJSON_AddBoolToObject(root, "auto_cmdline", o->auto_cmdline);
	ok = ok && cJSON_AddStringToObject(root, "memory", size_text(o->memory, buf, sizeof(buf)));
	ok = ok && cJSON_AddNumberToObject(root, "cpus", o->cpus);
	if (o->console == CON_FILE)
		snprintf(buf, sizeof(buf), "file:%s", o->console_path ? o->console_path : "");
	else
		snprintf(buf, sizeof(buf), "%s", o->console == CON_NONE ? "none" : "stdio");
	ok = ok && cJSON_AddStringToObject(root, "console", buf);
	/* Unset (auto) is no key: the file then follows the environment too. */
	if (o->display != DISP_AUTO)
		ok = ok && cJSON_AddStringToObject(root, "display",
						   o->display == DISP_SDL ? "sdl" : "none");
	ok = ok && (disks = cJSON_AddArrayToObject(root, "disks"));
	for (unsigned int i = 0; ok && i < o->nr_disks && i < CLI_MAX_DISKS; i++) {
		const struct disk_opts *d = &o->disks[i];
		cJSON *jd = cJSON_CreateObject();
		ok = jd && cJSON_AddItemToArray(disks, jd);
		if (!ok) {
			cJSON_Delete(jd);
			break;
		}
		ok = cJSON_AddStringToObject(jd, "path", d->path) &&
		     cJSON_AddBoolToObject(jd, "readonly", d->readonly) &&
		     cJSON_AddBoolToObject(jd, "snapshot", d->snapshot) &&
		     cJSON_AddStringToObject(jd, "cache",
					     d->cache == DISK_CACHE_NONE ? "none" : "writeback") &&
		     cJSON_AddStringToObject(jd, "aio",
					     d->aio == DISK_AIO_THREAD ? "thread" : "uring");
	}
	ok = ok && config_add_nets(root, o);
	ok = ok && cJSON_AddBoolToObject(root, "reboot", !o->no_reboot);
	if (o->debug_exit) {
		snprintf(buf, sizeof(buf), "0x%x", o->debug_exit);
		ok = ok && cJSON_AddStringToObject(root, "debug_exit", buf);
	} else {
		ok = ok && cJSON_AddFalseToObject(root, "debug_exit");
	}
	ok = ok && cJSON_AddNumberToObject(root, "shutdown_grace", o->grace_s);
	ok = ok && cJSON_AddBoolToObject(root, "kernel_unpack", !o->no_unpack);
	if (o->timeout_ms % 1000)
		snprintf(buf, sizeof(buf), "%llums", (unsigned long long)o->timeout_ms);
	else
		snprintf(buf, sizeof(buf), "%llus", (unsigned long long)(o->timeout_ms / 1000));
	if (o->timeout_ms)
		ok = ok && cJSON_AddStringToObject(root, "timeout", buf);
	else
		ok = ok && cJSON_AddFalseToObject(root, "timeout");
	if (o->doctor_after_ms % 1000)
		snprintf(buf, sizeof(buf), "%llums", (unsigned long long)o->doctor_after_ms);
	else
		snprintf(buf, sizeof(buf), "%llus",
			 (unsigned long long)(o->doctor_after_ms / 1000));
	if (o->doctor_after_ms)
		ok = ok && cJSON_AddStringToObject(root, "doctor_after", buf);
	else
		ok = ok && cJSON_AddFalseToObject(root, "doctor_after");
	if (ok && o->ready_re)
		ok = cJSON_AddStringToObject(root, "ready", o->ready_re);
	if (ok && o->serial_log)
		ok = cJSON_AddStringToObject(root, "serial_log", o->serial_log);
	if (ok && o->report)
		ok = cJSON_AddStringToObject(root, "report", o->report);
	ok = ok &&
	     cJSON_AddStringToObject(root, "report_format", o->report_junit ? "junit" : "json");
	if (ok && o->api_socket)
		ok = cJSON_AddStringToObject(root, "api_socket", o->api_socket);
	if (!ok) {
		cJSON_Delete(root);
		return NULL;
	}
	return root;
}

char *config_to_json(const struct hostel_opts *o)
{
	cJSON *root = config_to_cjson(o);
	if (!root)
		return NULL;
	char *text = cJSON_Print(root);
	cJSON_Delete(root);
	if (!text)
		return NULL;
	size_t n = strlen(text);
	char *out = malloc(n + 2);
	if (out) {
		/* "key":<tab>value -> "key": value. cJSON escapes a tab inside a
		 * string, so a raw one is always its own layout. */
		size_t j = 0;
		for (size_t i = 0; i < n; i++) {
			if (text[i] == '\t' && i > 0 && text[i - 1] == ':')
				out[j++] = ' ';
			else
				out[j++] = text[i];
		}
		out[j++] = '\n';
		out[j] = 0;
	}
	cJSON_free(text);
	return out;
}
