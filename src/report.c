// SPDX-License-Identifier: MIT
/* The run report: see report.h. */
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cjson/cJSON.h>
#include "report.h"

/* Seconds since the start, or null when the event did not happen. */
static cJSON *rel_time(const struct report *r, uint64_t t)
{
	if (!t || t < r->t_start)
		return cJSON_CreateNull();
	return cJSON_CreateNumber((double)(t - r->t_start) / 1e9);
}

static void iso_time(uint64_t wall_ns, char *buf, size_t len)
{
	time_t s = (time_t)(wall_ns / 1000000000ULL);
	struct tm tm;
	if (!gmtime_r(&s, &tm) || !strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm)) {
		snprintf(buf, len, "unknown");
		return;
	}
	size_t n = strlen(buf);
	snprintf(buf + n, len - n, ".%03uZ", (unsigned)(wall_ns / 1000000ULL % 1000));
}

struct cJSON *report_disk_json(unsigned int index, const char *path, const struct blk_stats *st)
{
	cJSON *d = cJSON_CreateObject();
	char name[8];
	if (!d)
		return NULL;
	/* Linux names virtio disks in probe order; hostel's are probed in slot order. */
	snprintf(name, sizeof(name), "vd%c", index < 26 ? 'a' + (int)index : '?');
	cJSON_AddNumberToObject(d, "index", index);
	cJSON_AddStringToObject(d, "name", name);
	cJSON_AddStringToObject(d, "path", path ? path : "");
	const struct {
		const char *key;
		uint64_t v;
	} n[] = {
		{"reads", st->reads},
		{"writes", st->writes},
		{"flushes", st->flushes},
		{"discards", st->discards},
		{"write_zeroes", st->write_zeroes},
		{"get_ids", st->get_ids},
		{"read_bytes", st->read_bytes},
		{"write_bytes", st->write_bytes},
		{"unsupported", st->unsupported},
		{"io_errors", st->io_errors},
		{"host_errors", st->host_errors},
		{"rejected", st->rejected},
	};
	for (size_t i = 0; i < sizeof(n) / sizeof(n[0]); i++)
		cJSON_AddNumberToObject(d, n[i].key, (double)n[i].v);
	return d;
}

static char *render_json(const struct report *r)
{
	cJSON *root = cJSON_CreateObject(), *o;
	char when[64];

	if (!root)
		return NULL;
	cJSON_AddStringToObject(root, "hostel_version", r->version ? r->version : "");
	cJSON_AddStringToObject(root, "command", r->command ? r->command : "run");
	if (r->exec_command)
		cJSON_AddStringToObject(root, "exec_command", r->exec_command);
	cJSON *machine = r->machine_json ? cJSON_Parse(r->machine_json) : NULL;
	cJSON_AddItemToObject(root, "machine", machine ? machine : cJSON_CreateNull());

	iso_time(r->wall_start_ns, when, sizeof(when));
	cJSON_AddStringToObject(root, "started_at", when);
	o = cJSON_AddObjectToObject(root, "times_s");
	if (o) {
		cJSON_AddItemToObject(o, "vmm_start", cJSON_CreateNumber(0));
		cJSON_AddItemToObject(o, "first_guest_instruction", rel_time(r, r->t_first_insn));
		cJSON_AddItemToObject(o, "first_console_byte", rel_time(r, r->t_first_byte));
		cJSON_AddItemToObject(o, "ready", rel_time(r, r->t_ready));
		cJSON_AddItemToObject(o, "end", rel_time(r, r->t_end));
	}
	if (r->ready_line)
		cJSON_AddStringToObject(root, "ready_line", r->ready_line);
	cJSON_AddNumberToObject(root, "boots", r->boots);

	o = cJSON_AddObjectToObject(root, "exit");
	if (o) {
		cJSON_AddStringToObject(o, "reason", r->exit_reason ? r->exit_reason : "unknown");
		if (r->exit_detail)
			cJSON_AddStringToObject(o, "detail", r->exit_detail);
		cJSON_AddNumberToObject(o, "status", r->exit_status);
		if (r->command_status >= 0)
			cJSON_AddNumberToObject(o, "command_status", r->command_status);
		else
			cJSON_AddNullToObject(o, "command_status");
	}

	cJSON *stats = cJSON_AddObjectToObject(root, "stats");
	cJSON *vc = stats ? cJSON_AddArrayToObject(stats, "vcpus") : NULL;
	for (unsigned int i = 0; vc && i < r->nr_vcpus && i < REPORT_MAX_VCPUS; i++) {
		cJSON *v = cJSON_CreateObject();
		if (!v)
			break;
		cJSON_AddNumberToObject(v, "exits", (double)r->vcpus[i].exits);
		cJSON_AddNumberToObject(v, "io", (double)r->vcpus[i].io);
		cJSON_AddNumberToObject(v, "mmio", (double)r->vcpus[i].mmio);
		cJSON_AddNumberToObject(v, "hlt", (double)r->vcpus[i].hlt);
		cJSON_AddNumberToObject(v, "interrupted", (double)r->vcpus[i].intr);
		cJSON_AddItemToArray(vc, v);
	}
	cJSON *dv = stats ? cJSON_AddArrayToObject(stats, "devices") : NULL;
	for (unsigned int i = 0; dv && i < r->nr_ranges && i < REPORT_MAX_RANGES; i++) {
		const struct report_range *g = &r->ranges[i];
		cJSON *d = cJSON_CreateObject();
		char hex[24];
		if (!d)
			break;
		cJSON_AddStringToObject(d, "bus", g->bus ? g->bus : "?");
		snprintf(hex, sizeof(hex), "0x%llx", (unsigned long long)g->base);
		cJSON_AddStringToObject(d, "base", hex);
		cJSON_AddNumberToObject(d, "size", (double)g->len);
		cJSON_AddNumberToObject(d, "reads", (double)g->reads);
		cJSON_AddNumberToObject(d, "writes", (double)g->writes);
		cJSON_AddItemToArray(dv, d);
	}
	cJSON *dk = stats ? cJSON_AddArrayToObject(stats, "disks") : NULL;
	for (unsigned int i = 0; dk && i < r->nr_disks && i < REPORT_MAX_DISKS; i++) {
		cJSON *d = report_disk_json(i, r->disks[i].path, &r->disks[i].st);
		if (!d)
			break;
		cJSON_AddItemToArray(dk, d);
	}
	if (stats) {
		cJSON_AddNumberToObject(stats, "unclaimed_pio", (double)r->unclaimed_pio);
		cJSON_AddNumberToObject(stats, "unclaimed_mmio", (double)r->unclaimed_mmio);
		cJSON_AddNumberToObject(stats, "console_bytes_dropped",
					(double)r->console_bytes_dropped);
	}
	cJSON_AddStringToObject(root, "console_tail", r->console_tail ? r->console_tail : "");
	if (r->doctor)
		cJSON_AddStringToObject(root, "doctor", r->doctor);
	else
		cJSON_AddNullToObject(root, "doctor");
	char *text = cJSON_Print(root);
	cJSON_Delete(root);
	return text;
}

/* @s with &, <, >, " and ' escaped, and control bytes other than \n and \t dropped. */
static void xml_text(FILE *f, const char *s)
{
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;
		switch (c) {
		case '&':
			fputs("&amp;", f);
			break;
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '"':
			fputs("&quot;", f);
			break;
		case '\'':
			fputs("&apos;", f);
			break;
		default:
			if (c >= 0x20 || c == '\n' || c == '\t')
				fputc(c, f);
		}
	}
}

static char *render_junit(const struct report *r)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return NULL;
	double secs = r->t_end > r->t_start ? (double)(r->t_end - r->t_start) / 1e9 : 0;
	bool failed = r->exit_status != 0;
	fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
	fprintf(f, "<testsuites tests=\"1\" failures=\"%d\" time=\"%.3f\">\n", failed, secs);
	fprintf(f, "  <testsuite name=\"hostel\" tests=\"1\" failures=\"%d\" time=\"%.3f\">\n",
		failed, secs);
	fprintf(f, "    <testcase classname=\"hostel.%s\" name=\"",
		r->command ? r->command : "run");
	xml_text(f, r->exec_command ? r->exec_command : "boot");
	fprintf(f, "\" time=\"%.3f\">\n", secs);
	if (failed) {
		fprintf(f, "      <failure message=\"");
		char msg[160];
		snprintf(msg, sizeof(msg), "%s (exit status %d)%s%s",
			 r->exit_reason ? r->exit_reason : "failed", r->exit_status,
			 r->exit_detail ? ": " : "", r->exit_detail ? r->exit_detail : "");
		xml_text(f, msg);
		fprintf(f, "\" type=\"");
		xml_text(f, r->exit_reason ? r->exit_reason : "failure");
		fprintf(f, "\"/>\n");
	}
	fprintf(f, "      <system-out>");
	xml_text(f, r->console_tail);
	fprintf(f, "</system-out>\n");
	/* The boot doctor's diagnosis, where CI systems show a test's errors. */
	if (r->doctor) {
		fprintf(f, "      <system-err>doctor: ");
		xml_text(f, r->doctor);
		fprintf(f, "</system-err>\n");
	}
	fprintf(f, "    </testcase>\n  </testsuite>\n</testsuites>\n");
	if (fclose(f)) {
		free(buf);
		return NULL;
	}
	return buf;
}

char *report_render(const struct report *r, enum report_format fmt)
{
	return fmt == REPORT_JUNIT ? render_junit(r) : render_json(r);
}

int report_write(const struct report *r, enum report_format fmt, const char *path, char *why,
		 size_t whylen)
{
	char *text = report_render(r, fmt);
	if (!text) {
		snprintf(why, whylen, "report: out of memory");
		return -ENOMEM;
	}
	/* Written next to the target and renamed: never a half report. */
	char tmp[4200];
	int ret = 0;
	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid()) >= (int)sizeof(tmp)) {
		free(text);
		snprintf(why, whylen, "report: path too long");
		return -ENAMETOOLONG;
	}
	FILE *f = fopen(tmp, "w");
	if (!f) {
		ret = -errno;
	} else {
		fputs(text, f);
		fputc('\n', f);
		if (fclose(f))
			ret = -errno;
		else if (rename(tmp, path))
			ret = -errno;
	}
	if (ret) {
		snprintf(why, whylen, "cannot write the report %s: %s", path, strerror(-ret));
		unlink(tmp);
	}
	free(text);
	return ret;
}
