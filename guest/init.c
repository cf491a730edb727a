// SPDX-License-Identifier: GPL-2.0
/*
 * PID 1 of the test initramfs.
 *
 * Mounts the pseudo file systems, runs every test listed in the manifest
 * with a timeout, and prints TAP on the console. A test passes only if it
 * exits 0 *and* the kernel logged no report (BUG, WARNING, lockdep,
 * KASAN, UBSAN, kmemleak...) while it ran. Then the machine powers off.
 *
 * Manifest lines (/etc/tests.list):  name timeout_seconds argv...
 * '#' starts a comment. An argv[0] starting with '@' is a check built into
 * init: @kmemleak scans for leaks of everything that ran before it. The
 * check "kvm initialised" prints the line KVM logged about its mode; the
 * host compares it with the mode it asked for (scripts/modes.tsv).
 * In an argument, @mode@ stands for that mode's name, which the host
 * passes on the kernel command line as harness_mode=NAME (the kernel
 * hands such parameters to init as environment variables).
 */
#define _GNU_SOURCE	/* asprintf() */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/wait.h>

#define MANIFEST	"/etc/tests.list"
#define KMEMLEAK	"/sys/kernel/debug/kmemleak"
#define KMEMLEAK_MIN_AGE_S	6	/* kmemleak skips younger objects (5 s) */
/* The guest's limits; scripts/mkinitramfs.sh reads them from here. */
#define MAX_TESTS	64
#define MAX_ARGS	16
#define MANIFEST_MAX	16384
#define OUTPUT_MAX	(256 * 1024)	/* test output kept for the TAP report */
#define KSFT_SKIP	4

struct test {
	char *name;
	int timeout;
	char *argv[MAX_ARGS + 1];
};

struct result {
	bool ok;
	char reason[128];
	char *output;		/* test output followed by kernel reports */
	size_t len;
	bool cut;		/* output beyond OUTPUT_MAX was dropped */
};

/* Substrings that mark a kernel report; any of them fails the test. */
static const char *const report_markers[] = {
	"WARNING:", "BUG:", "BUG ", "Oops", "Kernel panic", "Call trace:",
	"UBSAN:", "KASAN", "suspected memory leak", "INFO: ",
	"possible circular locking", "inconsistent lock state",
	"list_add corruption", "list_del corruption", "DEBUG_LOCKS_WARN_ON",
};

static int kmsg_fd = -1;

/* Keep output as it came; past OUTPUT_MAX, say where it was cut. */
static void append_bytes(struct result *r, const char *text, size_t n)
{
	static const char cut_note[] = "\n[output cut here: over OUTPUT_MAX]\n";

	if (r->cut)
		return;
	if (r->len + n + sizeof(cut_note) > OUTPUT_MAX) {
		text = cut_note;
		n = sizeof(cut_note) - 1;
		r->cut = true;
	}
	memcpy(r->output + r->len, text, n);
	r->len += n;
	r->output[r->len] = '\0';
}

/* A message of the harness (one line or a few) */
static void append(struct result *r, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	append_bytes(r, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
}

static void fail(struct result *r, const char *reason)
{
	/* Keep the first reason: it is usually the cause of the rest. */
	if (r->ok) {
		r->ok = false;
		snprintf(r->reason, sizeof(r->reason), "%s", reason);
	}
}

static bool is_report(const char *msg)
{
	size_t i;

	for (i = 0; i < sizeof(report_markers) / sizeof(report_markers[0]); i++)
		if (strstr(msg, report_markers[i]))
			return true;
	return false;
}

/*
 * Read the kernel log records printed since the last call. Records that
 * look like a report fail the result; all of a failing window's records
 * are kept so the report is readable in the TAP output.
 */
static void collect_kernel_reports(struct result *r)
{
	char rec[2048];
	bool reported = false;
	ssize_t n;

	for (;;) {
		char *msg;

		n = read(kmsg_fd, rec, sizeof(rec) - 1);
		if (n < 0 && errno == EPIPE)
			continue;	/* records overwritten: keep reading */
		if (n <= 0)
			break;
		rec[n] = '\0';
		msg = strchr(rec, ';');
		msg = msg ? msg + 1 : rec;
		if (is_report(msg)) {
			reported = true;
			fail(r, "kernel report");
		}
		if (reported)
			append(r, "kernel: %s", msg);
	}
}

static void print_result(int nr, const char *name, struct result *r)
{
	char *line, *save = NULL;

	if (r->ok)
		printf("ok %d - %s\n", nr, name);
	else
		printf("not ok %d - %s # %s\n", nr, name, r->reason);
	for (line = strtok_r(r->output, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save))
		printf("# %s\n", line);
	fflush(stdout);
}

static void result_init(struct result *r)
{
	r->ok = true;
	r->reason[0] = '\0';
	r->len = 0;
	r->cut = false;
	r->output[0] = '\0';
}

#define MODE_PLACEHOLDER	"@mode@"

/*
 * @word with MODE_PLACEHOLDER replaced by the KVM mode's name; NULL if
 * the host did not name the mode.
 */
static char *expand_mode(const char *word)
{
	const char *at = strstr(word, MODE_PLACEHOLDER), *mode = getenv("harness_mode");
	char *out;

	if (!at)
		return strdup(word);
	if (!mode || !*mode)
		return NULL;
	if (asprintf(&out, "%.*s%s%s", (int)(at - word), word, mode,
		     at + strlen(MODE_PLACEHOLDER)) < 0)
		return NULL;
	return out;
}

static void run_child(const struct test *t, int out_fd)
{
	char *argv[MAX_ARGS + 1] = { NULL };
	int i;

	dup2(out_fd, STDOUT_FILENO);
	dup2(out_fd, STDERR_FILENO);
	setsid();
	for (i = 0; t->argv[i]; i++) {
		argv[i] = expand_mode(t->argv[i]);
		if (!argv[i]) {
			fprintf(stderr, "%s: no harness_mode for %s\n", t->argv[i],
				MODE_PLACEHOLDER);
			_exit(127);
		}
	}
	execv(argv[0], argv);
	fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

/* Drain the pipe until the test closes it or the deadline passes. */
static bool read_output(int fd, struct result *r, time_t deadline)
{
	char buf[4096];
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	ssize_t n;

	for (;;) {
		time_t left = deadline - time(NULL);

		if (left <= 0)
			return false;
		if (poll(&pfd, 1, left * 1000) <= 0)
			continue;
		n = read(fd, buf, sizeof(buf));
		if (n <= 0)
			return true;
		append_bytes(r, buf, n);
	}
}

static void judge_exit(int status, struct result *r)
{
	char reason[64];

	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return;
	if (WIFEXITED(status) && WEXITSTATUS(status) == KSFT_SKIP)
		snprintf(reason, sizeof(reason), "skipped: a skip is not a pass");
	else if (WIFEXITED(status))
		snprintf(reason, sizeof(reason), "exit status %d", WEXITSTATUS(status));
	else
		snprintf(reason, sizeof(reason), "killed by signal %d", WTERMSIG(status));
	fail(r, reason);
}

static bool write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY);
	bool ok;

	if (fd < 0)
		return false;
	ok = write(fd, text, strlen(text)) == (ssize_t)strlen(text);
	close(fd);
	return ok;
}

/*
 * Leaks of everything that ran so far: kmemleak was cleared at boot, so
 * any unreferenced object it now reports was allocated by the tests.
 */
static void check_kmemleak(struct result *r)
{
	char buf[4096];
	ssize_t n;
	int fd;

	sleep(KMEMLEAK_MIN_AGE_S);
	if (!write_file(KMEMLEAK, "scan")) {
		fail(r, "kmemleak unavailable");
		return;
	}
	fd = open(KMEMLEAK, O_RDONLY);
	while (fd >= 0 && (n = read(fd, buf, sizeof(buf))) > 0) {
		append_bytes(r, buf, n);
		fail(r, "unreferenced objects");
	}
	if (fd >= 0)
		close(fd);
}

static void run_builtin(const struct test *t, struct result *r)
{
	if (!strcmp(t->argv[0], "@kmemleak"))
		check_kmemleak(r);
	else
		fail(r, "unknown built-in check");
}

static void run_test(const struct test *t, struct result *r)
{
	int pipefd[2], status;
	pid_t pid;

	if (t->argv[0][0] == '@') {
		run_builtin(t, r);
		return;
	}
	if (pipe(pipefd) < 0 || (pid = fork()) < 0) {
		fail(r, "cannot start");
		return;
	}
	if (pid == 0) {
		close(pipefd[0]);
		run_child(t, pipefd[1]);
	}
	close(pipefd[1]);
	if (!read_output(pipefd[0], r, time(NULL) + t->timeout)) {
		kill(-pid, SIGKILL);
		kill(pid, SIGKILL);
		append(r, "\ntimed out after %d s\n", t->timeout);
		fail(r, "timeout");
	}
	close(pipefd[0]);
	waitpid(pid, &status, 0);
	judge_exit(status, r);
}

static int parse_manifest(struct test *tests)
{
	static char text[MANIFEST_MAX];
	char *line, *save = NULL;
	int fd, n, count = 0;

	fd = open(MANIFEST, O_RDONLY);
	if (fd < 0)
		return 0;
	n = read(fd, text, sizeof(text) - 1);
	close(fd);
	text[n > 0 ? n : 0] = '\0';

	for (line = strtok_r(text, "\n", &save); line && count < MAX_TESTS;
	     line = strtok_r(NULL, "\n", &save)) {
		struct test *t = &tests[count];
		char *word, *wsave = NULL;
		int argc = 0;

		if (strchr(line, '#'))
			*strchr(line, '#') = '\0';
		t->name = strtok_r(line, " \t", &wsave);
		word = strtok_r(NULL, " \t", &wsave);
		if (!t->name || !word)
			continue;
		t->timeout = atoi(word);
		while (argc < MAX_ARGS && (word = strtok_r(NULL, " \t", &wsave)))
			t->argv[argc++] = word;
		t->argv[argc] = NULL;
		if (argc)
			count++;
	}
	return count;
}

/* Find the line KVM prints when it comes up, to check the mode it chose. */
static bool kvm_init_line(char *line, size_t size)
{
	char buf[512];
	FILE *f;
	bool found = false;

	/* /dev/kmsg was consumed by the boot check; re-read it from the start. */
	f = fopen("/dev/kmsg", "r");
	if (!f)
		return false;
	fcntl(fileno(f), F_SETFL, O_NONBLOCK);
	while (!found && fgets(buf, sizeof(buf), f)) {
		char *msg = strchr(buf, ';');

		if (msg && strstr(msg, "mode initialized successfully")) {
			snprintf(line, size, "%s", msg + 1);
			found = true;
		}
	}
	fclose(f);
	return found;
}

static void check_kvm(struct result *r)
{
	char line[256] = "";

	if (access("/dev/kvm", R_OK | W_OK)) {
		fail(r, "/dev/kvm missing");
		return;
	}
	if (!kvm_init_line(line, sizeof(line))) {
		fail(r, "KVM did not report its mode");
		return;
	}
	append(r, "%s", line);
}

static void mount_fs(void)
{
	mount("proc", "/proc", "proc", 0, NULL);
	mount("sysfs", "/sys", "sysfs", 0, NULL);
	mount("devtmpfs", "/dev", "devtmpfs", 0, NULL);
	mount("debugfs", "/sys/kernel/debug", "debugfs", 0, NULL);
	mount("tmpfs", "/tmp", "tmpfs", 0, NULL);
	mount("tracefs", "/sys/kernel/tracing", "tracefs", 0, NULL);
}

/* tests/init/ builds this file into a host program with its own main() */
#ifndef INIT_UNDER_TEST
int main(void)
{
	static struct test tests[MAX_TESTS];
	struct result r = { .output = malloc(OUTPUT_MAX) };
	int i, count, nr = 0;

	mount_fs();
	kmsg_fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK);
	write_file(KMEMLEAK, "clear");	/* boot-time objects are not the tests' */
	count = parse_manifest(tests);

	/* The plan, by name: the host checks it against the manifest. */
	printf("TAP version 13\n1..%d\n", count + 2);
	printf("# harness plan: kernel boots without reports\n");
	printf("# harness plan: kvm initialised\n");
	for (i = 0; i < count; i++)
		printf("# harness plan: %s\n", tests[i].name);
	fflush(stdout);

	result_init(&r);
	if (kmsg_fd < 0)
		fail(&r, "cannot read /dev/kmsg");
	collect_kernel_reports(&r);
	print_result(++nr, "kernel boots without reports", &r);

	result_init(&r);
	check_kvm(&r);
	print_result(++nr, "kvm initialised", &r);

	for (i = 0; i < count; i++) {
		time_t start = time(NULL);

		result_init(&r);
		run_test(&tests[i], &r);
		collect_kernel_reports(&r);
		append(&r, "duration: %ld s\n", (long)(time(NULL) - start));
		print_result(++nr, tests[i].name, &r);
	}

	sync();
	reboot(RB_POWER_OFF);
	return 0;
}
#endif
