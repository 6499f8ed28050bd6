// SPDX-License-Identifier: MIT
/* The run report: JSON fields and their types, null for what did not
 * happen, each disk's counters, JUnit XML escaping, and writing the file
 * whole. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <cjson/cJSON.h>
#include "report.h"

static struct report sample(void)
{
	struct report r;
	memset(&r, 0, sizeof(r));
	r.version = "0.1.0";
	r.command = "exec";
	r.machine_json = "{\"memory\": \"512M\", \"cpus\": 2}";
	r.exec_command = "sh -c 'exit 3' <&>";
	r.wall_start_ns = 1700000000123456789ULL;
	r.t_start = 1000000000ULL;
	r.t_first_insn = 1100000000ULL;
	r.t_first_byte = 1200000000ULL;
	r.t_end = 4000000000ULL; /* no ready line */
	r.boots = 1;
	r.exit_reason = "command";
	r.exit_status = 3;
	r.command_status = 3;
	r.nr_vcpus = 2;
	r.vcpus[0] = (struct report_vcpu){100, 60, 30, 5, 5};
	r.vcpus[1] = (struct report_vcpu){7, 1, 2, 3, 1};
	r.nr_ranges = 1;
	r.ranges[0] = (struct report_range){"pio", 0x3f8, 8, 10, 20};
	r.nr_disks = 2;
	r.disks[0] = (struct report_disk){"/img/root.img", {.reads = 40, .read_bytes = 40 * 4096}};
	r.disks[1] = (struct report_disk){"/img/data.img",
					  {.writes = 3,
					   .flushes = 2,
					   .discards = 1,
					   .write_bytes = 3 * 512,
					   .io_errors = 1,
					   .host_errors = 1}};
	r.console_tail = "line one\nKernel <panic> & \"quotes\"\x01\n";
	return r;
}

static double num(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	if (!cJSON_IsNumber(v))
		fail_msg("%s is not a number", k);
	return v->valuedouble;
}

static void test_json_fields(void **state)
{
	struct report r = sample();
	char *text = report_render(&r, REPORT_JSON);
	assert_non_null(text);
	cJSON *j = cJSON_Parse(text);
	assert_non_null(j);
	assert_string_equal(cJSON_GetObjectItem(j, "hostel_version")->valuestring, "0.1.0");
	assert_string_equal(cJSON_GetObjectItem(j, "command")->valuestring, "exec");
	assert_int_equal(num(cJSON_GetObjectItem(j, "machine"), "cpus"), 2);
	assert_string_equal(cJSON_GetObjectItem(j, "started_at")->valuestring,
			    "2023-11-14T22:13:20.123Z");
	const cJSON *t = cJSON_GetObjectItem(j, "times_s");
	assert_true(num(t, "vmm_start") == 0);
	assert_true(num(t, "first_guest_instruction") > 0.09 &&
		    num(t, "first_guest_instruction") < 0.11);
	assert_true(num(t, "first_console_byte") > num(t, "first_guest_instruction"));
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(t, "ready"))); /* did not happen */
	assert_true(num(t, "end") > 2.99 && num(t, "end") < 3.01);
	const cJSON *x = cJSON_GetObjectItem(j, "exit");
	assert_string_equal(cJSON_GetObjectItem(x, "reason")->valuestring, "command");
	assert_int_equal(num(x, "status"), 3);
	assert_int_equal(num(x, "command_status"), 3);
	const cJSON *vc = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "stats"), "vcpus");
	assert_int_equal(cJSON_GetArraySize(vc), 2);
	assert_int_equal(num(cJSON_GetArrayItem(vc, 0), "exits"), 100);
	assert_int_equal(num(cJSON_GetArrayItem(vc, 1), "hlt"), 3);
	const cJSON *dv = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "stats"), "devices");
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(dv, 0), "base")->valuestring,
			    "0x3f8");
	const cJSON *dk = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "stats"), "disks");
	assert_int_equal(cJSON_GetArraySize(dk), 2);
	const cJSON *d0 = cJSON_GetArrayItem(dk, 0), *d1 = cJSON_GetArrayItem(dk, 1);
	assert_string_equal(cJSON_GetObjectItem(d0, "name")->valuestring, "vda");
	assert_string_equal(cJSON_GetObjectItem(d0, "path")->valuestring, "/img/root.img");
	assert_int_equal(num(d0, "reads"), 40);
	assert_int_equal(num(d0, "read_bytes"), 40 * 4096);
	assert_int_equal(num(d0, "writes"), 0);
	assert_string_equal(cJSON_GetObjectItem(d1, "name")->valuestring, "vdb");
	assert_int_equal(num(d1, "index"), 1);
	assert_int_equal(num(d1, "writes"), 3);
	assert_int_equal(num(d1, "write_bytes"), 3 * 512);
	assert_int_equal(num(d1, "flushes"), 2);
	assert_int_equal(num(d1, "discards"), 1);
	assert_int_equal(num(d1, "write_zeroes"), 0);
	assert_int_equal(num(d1, "io_errors"), 1);
	assert_int_equal(num(d1, "host_errors"), 1);
	assert_int_equal(num(d1, "rejected"), 0);
	assert_non_null(strstr(cJSON_GetObjectItem(j, "console_tail")->valuestring, "<panic>"));
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(j, "doctor"))); /* no diagnosis */
	cJSON_Delete(j);
	free(text);

	/* The boot doctor's diagnosis, both lines, as a string. */
	r.doctor = "the kernel cannot find its root device: root=/dev/vda\n\"add\" --disk";
	text = report_render(&r, REPORT_JSON);
	j = cJSON_Parse(text);
	assert_non_null(j);
	assert_string_equal(cJSON_GetObjectItem(j, "doctor")->valuestring, r.doctor);
	cJSON_Delete(j);
	free(text);
	r.doctor = NULL;

	/* A run whose command did not end: command_status is null. No disk:
	 * an empty list. */
	r.command_status = -1;
	r.machine_json = NULL;
	r.nr_disks = 0;
	text = report_render(&r, REPORT_JSON);
	j = cJSON_Parse(text);
	assert_non_null(j);
	assert_int_equal(
		cJSON_GetArraySize(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "stats"), "disks")),
		0);
	assert_true(cJSON_IsArray(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "stats"), "disks")));
	assert_true(cJSON_IsNull(
		cJSON_GetObjectItem(cJSON_GetObjectItem(j, "exit"), "command_status")));
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(j, "machine")));
	cJSON_Delete(j);
	free(text);
}

static void test_junit(void **state)
{
	struct report r = sample();
	char *x = report_render(&r, REPORT_JUNIT);
	assert_non_null(x);
	assert_non_null(strstr(x, "<testsuite name=\"hostel\" tests=\"1\" failures=\"1\""));
	assert_non_null(strstr(x, "name=\"sh -c &apos;exit 3&apos; &lt;&amp;&gt;\""));
	assert_non_null(strstr(x, "<failure message=\"command (exit status 3)\""));
	assert_non_null(strstr(x, "Kernel &lt;panic&gt; &amp; &quot;quotes&quot;\n"));
	assert_null(strchr(x, '\x01'));
	assert_null(strstr(x, "<system-err>")); /* no diagnosis: no element */
	free(x);
	r.exit_status = 0;
	x = report_render(&r, REPORT_JUNIT);
	assert_non_null(strstr(x, "failures=\"0\""));
	assert_null(strstr(x, "<failure"));
	free(x);
	/* The doctor's diagnosis goes to system-err, escaped. */
	r.doctor = "no root device: root=/dev/vda <none given>";
	x = report_render(&r, REPORT_JUNIT);
	assert_non_null(strstr(x, "<system-err>doctor: no root device: root=/dev/vda &lt;none "
				  "given&gt;</system-err>"));
	free(x);
}

static void test_write(void **state)
{
	char dir[] = "/tmp/hostel-report.XXXXXX", path[128], why[256];
	struct report r = sample();
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/r.json", dir);
	assert_int_equal(report_write(&r, REPORT_JSON, path, why, sizeof(why)), 0);
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	char buf[8192];
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	cJSON *j = cJSON_Parse(buf);
	assert_non_null(j);
	cJSON_Delete(j);
	unlink(path);
	snprintf(path, sizeof(path), "%s/missing/r.json", dir);
	assert_true(report_write(&r, REPORT_JSON, path, why, sizeof(why)) < 0);
	assert_non_null(strstr(why, "cannot write the report"));
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_fields),
		cmocka_unit_test(test_junit),
		cmocka_unit_test(test_write),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
