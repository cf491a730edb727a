// SPDX-License-Identifier: GPL-2.0-only
/*
 * How guest/init.c keeps a test's output, checked on the host: it is
 * built into this program (its main() left out) and runs shell commands
 * as tests (the shell's -c script is one argument of the test, so
 * @mode@ in it is replaced as in any argument). One line per case: "PASS|FAIL<TAB>init: <case><TAB>detail".
 */
#define INIT_UNDER_TEST
#include "../../guest/init.c"

static int failures;

static void verdict(bool ok, const char *name, const char *detail)
{
	printf("%s\tinit: %s\t%s\n", ok ? "PASS" : "FAIL", name, ok ? "" : detail);
	failures += !ok;
}

static void run_shell(const char *script, struct result *r)
{
	struct test t = {
		.name = "shell",
		.timeout = 60,
		.argv = { "/bin/sh", "-c", (char *)script, NULL },
	};

	result_init(r);
	run_test(&t, r);
}

/* Output far longer than one read: every line arrives, whole and in order */
static void long_output(struct result *r)
{
	char want[64], *at = r->output;
	int i, lines = 8000;
	bool ok = true;

	run_shell("i=0; while [ $i -lt 8000 ]; do echo \"line $i of a test\"; i=$((i + 1)); done", r);
	for (i = 0; i < lines && ok; i++) {
		snprintf(want, sizeof(want), "line %d of a test\n", i);
		ok = !strncmp(at, want, strlen(want));
		at += strlen(want);
	}
	verdict(ok && r->ok && !*at, "8000 lines (150 kB) are kept whole",
		"a line is missing or cut");
}

/* Past OUTPUT_MAX the output is cut where it says so, and nothing overflows */
static void output_over_limit(struct result *r)
{
	run_shell("head -c 400000 /dev/zero | tr '\\0' x", r);
	verdict(r->len < OUTPUT_MAX && r->ok &&
		strstr(r->output, "[output cut here: over OUTPUT_MAX]") &&
		!strchr(strstr(r->output, "[output cut"), 'x'),
		"output over OUTPUT_MAX is cut and marked", "not cut, or not marked");
}

/* The exit status still decides, whatever the output */
static void failure_after_output(struct result *r)
{
	run_shell("echo some output; exit 3", r);
	verdict(!r->ok && strstr(r->output, "some output"),
		"a failing test keeps its output and fails", "passed, or output lost");
}

/* @mode@ in an argument becomes the mode the host named, or fails */
static void mode_in_arguments(struct result *r)
{
	setenv("harness_mode", "nvhe", 1);
	run_shell("echo data-@mode@.regs", r);
	verdict(r->ok && !strcmp(r->output, "data-nvhe.regs\n"),
		"@mode@ in an argument is the host's mode", r->output);
	unsetenv("harness_mode");
	run_shell("echo data-@mode@.regs", r);
	verdict(!r->ok && strstr(r->output, "no harness_mode"),
		"@mode@ without harness_mode fails the test", r->output);
}

int main(void)
{
	struct result r = { .output = malloc(OUTPUT_MAX) };

	long_output(&r);
	output_over_limit(&r);
	failure_after_output(&r);
	mode_in_arguments(&r);
	return failures != 0;
}
