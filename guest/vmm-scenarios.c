// SPDX-License-Identifier: GPL-2.0
/*
 * vmm-scenarios - Debian's QEMU runs a KVM guest on the test kernel
 *
 * Runs qemu-system-aarch64 (bookworm's, packed by scripts/mkinitramfs.sh)
 * with -accel kvm on the nested guest of /l2/ (guest/l2-init.c), once
 * per scenario named on the command line, and prints one KTAP result
 * per scenario:
 *
 *   boot      2 vCPUs; the guest takes CPU 1 offline and back through
 *             PSCI, then powers off; QEMU exits 0
 *   sync      the same, and while the guest waits, QMP "stop", "info
 *             registers" (QEMU reads every register) and "cont" (QEMU
 *             writes them all back before the vCPUs run again): no
 *             command fails and the guest carries on
 *   pmu-off   -cpu host,pmu=off: the guest has no PMU
 *   sve-off   -cpu host,sve=off: the guest has no SVE
 *
 * A failure names the step and the last thing QEMU or the guest said.
 * Every line QEMU and the guest print is echoed, prefixed with "l2| ".
 */
#define _GNU_SOURCE
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
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/utsname.h>
#include <sys/wait.h>

#define QEMU		"/usr/bin/qemu-system-aarch64"
#define L2_KERNEL	"/l2/Image"
#define L2_INITRAMFS	"/l2/initramfs.cpio.gz"
#define QMP_SOCKET	"/tmp/qmp.sock"
#define STEP_TIMEOUT_S	600	/* one step (boot to "ready", ...) under emulation */
#define LINE_MAX_LEN	512

struct scenario {
	const char *name;
	const char *cpu;	/* QEMU's -cpu */
	bool sync;		/* stop, info registers, cont at "ready" */
	/* what the guest must say it has, or NULL */
	const char *expect;
};

static const struct scenario scenarios[] = {
	{ "boot", "host", false, NULL },
	{ "sync", "host", true, NULL },
	{ "pmu-off", "host,pmu=off", false, "l2: pmu none" },
	{ "sve-off", "host,sve=off", false, "l2: sve none" },
};

struct vm {
	pid_t pid;
	int in;			/* the guest's console input */
	int out;		/* QEMU's output and the guest's console */
	char buf[LINE_MAX_LEN];
	size_t len;
	char last[LINE_MAX_LEN];	/* the last line read */
	const char *expect;	/* a line to look out for */
	bool seen;		/* it was printed */
	int status;
};

static char why[LINE_MAX_LEN + 128];

static bool fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	return false;
}

static bool start_qemu(struct vm *vm, const struct scenario *s)
{
	const char *argv[] = {
		QEMU, "-M", "virt,gic-version=3", "-accel", "kvm", "-cpu", s->cpu,
		"-smp", "2", "-m", "128", "-nodefaults", "-display", "none",
		"-no-reboot", "-serial", "stdio",
		"-qmp", "unix:" QMP_SOCKET ",server=on,wait=off",
		"-kernel", L2_KERNEL, "-initrd", L2_INITRAMFS,
		"-append", "console=ttyAMA0 panic=-1 quiet", NULL
	};
	int in[2], out[2];

	unlink(QMP_SOCKET);
	if (pipe(in) || pipe(out))
		return fail("pipe: %s", strerror(errno));
	vm->pid = fork();
	if (vm->pid < 0)
		return fail("fork: %s", strerror(errno));
	if (!vm->pid) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		dup2(out[1], 2);
		close(in[1]);
		close(out[0]);
		execv(QEMU, (char **)argv);
		printf("exec %s: %s\n", QEMU, strerror(errno));
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	vm->in = in[1];
	vm->out = out[0];
	return true;
}

/*
 * The next line QEMU or the guest prints, echoed; false at the end of
 * the output or after @timeout_s seconds.
 */
static bool next_line(struct vm *vm, char *line, int timeout_s)
{
	time_t end = time(NULL) + timeout_s;

	for (;;) {
		char *nl = memchr(vm->buf, '\n', vm->len);
		struct pollfd pfd = { .fd = vm->out, .events = POLLIN };
		ssize_t n;

		if (nl || vm->len == sizeof(vm->buf) - 1) {
			size_t take = nl ? (size_t)(nl - vm->buf) + 1 : vm->len;

			memcpy(line, vm->buf, take);
			line[take] = 0;
			memmove(vm->buf, vm->buf + take, vm->len - take);
			vm->len -= take;
			line[strcspn(line, "\r\n")] = 0;
			printf("l2| %s\n", line);
			snprintf(vm->last, sizeof(vm->last), "%s", line);
			if (vm->expect && strstr(line, vm->expect))
				vm->seen = true;
			return true;
		}
		if (time(NULL) >= end || poll(&pfd, 1, 1000) < 0)
			return false;
		if (!(pfd.revents & (POLLIN | POLLHUP)))
			continue;
		n = read(vm->out, vm->buf + vm->len, sizeof(vm->buf) - 1 - vm->len);
		if (n <= 0)
			return false;
		vm->len += n;
	}
}

/* Read on until a line holding @text; a line "l2: error" fails */
static bool wait_for(struct vm *vm, const char *text)
{
	char line[LINE_MAX_LEN];

	while (next_line(vm, line, STEP_TIMEOUT_S)) {
		if (strstr(line, "l2: error"))
			return fail("the guest: %s", line);
		if (strstr(line, text))
			return true;
	}
	return fail("no \"%s\"; last line: %s", text, vm->last[0] ? vm->last : "(none)");
}

/* QEMU's exit status, once its output ended (killed after a timeout) */
static bool wait_exit(struct vm *vm)
{
	char line[LINE_MAX_LEN];
	int i;

	while (next_line(vm, line, STEP_TIMEOUT_S))
		;
	for (i = 0; i < 30 && !waitpid(vm->pid, &vm->status, WNOHANG); i++)
		sleep(1);
	if (i == 30) {
		kill(vm->pid, SIGKILL);
		waitpid(vm->pid, &vm->status, 0);
		close(vm->in);
		close(vm->out);
		return fail("QEMU did not exit; last line: %s", vm->last);
	}
	close(vm->in);
	close(vm->out);
	if (!WIFEXITED(vm->status) || WEXITSTATUS(vm->status))
		return fail("QEMU %s %d; last line: %s",
			    WIFEXITED(vm->status) ? "exited with" : "was killed by signal",
			    WIFEXITED(vm->status) ? WEXITSTATUS(vm->status) : WTERMSIG(vm->status),
			    vm->last);
	return true;
}

/* One QMP command and its answer, which must not be an error */
static bool qmp(int fd, FILE *f, const char *cmd)
{
	char line[4096];

	printf("l2| qmp> %s\n", cmd);
	if (write(fd, cmd, strlen(cmd)) != (ssize_t)strlen(cmd) || write(fd, "\n", 1) != 1)
		return fail("QMP %s: %s", cmd, strerror(errno));
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\r\n")] = 0;
		if (strstr(line, "\"event\""))
			continue;
		printf("l2| qmp< %.300s\n", line);
		if (strstr(line, "\"error\""))
			return fail("QMP %s: %.200s", cmd, line);
		if (strstr(line, "\"return\""))
			return true;
	}
	return fail("QMP %s: no answer", cmd);
}

/* QMP: stop, info registers, cont, as a person at QEMU's monitor would */
static bool sync_state(void)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX, .sun_path = QMP_SOCKET };
	char greeting[1024];
	bool ok = false;
	FILE *f;
	int fd;

	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)))
		return fail("QMP socket %s: %s", QMP_SOCKET, strerror(errno));
	f = fdopen(dup(fd), "r");
	if (f && fgets(greeting, sizeof(greeting), f) &&
	    qmp(fd, f, "{\"execute\": \"qmp_capabilities\"}") &&
	    qmp(fd, f, "{\"execute\": \"stop\"}") &&
	    qmp(fd, f, "{\"execute\": \"human-monitor-command\", "
		       "\"arguments\": {\"command-line\": \"info registers\"}}") &&
	    qmp(fd, f, "{\"execute\": \"cont\"}"))
		ok = true;
	else if (!f)
		fail("QMP: %s", strerror(errno));
	if (f)
		fclose(f);
	close(fd);
	return ok;
}

static bool run(const struct scenario *s)
{
	struct vm vm = { .expect = s->expect };
	bool ok;

	if (!start_qemu(&vm, s))
		return false;
	ok = wait_for(&vm, "l2: ready") &&
	     (!s->sync || sync_state()) &&
	     (write(vm.in, "go\n", 3) == 3 || fail("console: %s", strerror(errno))) &&
	     wait_for(&vm, "l2: CPU 1 went offline and came back") &&
	     wait_for(&vm, "l2: done");
	if (!ok) {
		kill(vm.pid, SIGKILL);
		wait_exit(&vm);
		return false;
	}
	if (!wait_exit(&vm))
		return false;
	return !s->expect || vm.seen || fail("the guest did not say \"%s\"", s->expect);
}

/* Which QEMU and which kernel: "# qemu: ...", "# kernel: ..." */
static void print_versions(void)
{
	char line[256] = "";
	struct utsname u;
	int fds[2], status;
	ssize_t n;
	pid_t pid;

	if (pipe(fds) || (pid = fork()) < 0)
		return;
	if (!pid) {
		dup2(fds[1], 1);
		execl(QEMU, QEMU, "--version", NULL);
		_exit(127);
	}
	close(fds[1]);
	n = read(fds[0], line, sizeof(line) - 1);
	line[n > 0 ? n : 0] = 0;
	line[strcspn(line, "\n")] = 0;
	close(fds[0]);
	waitpid(pid, &status, 0);
	printf("# qemu: %s\n", line);
	if (!uname(&u))
		printf("# kernel: %s %s\n", u.release, u.version);
}

int main(int argc, char *argv[])
{
	int i, j, failed = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("TAP version 13\n1..%d\n", argc - 1);
	print_versions();
	for (i = 1; i < argc; i++) {
		const struct scenario *s = NULL;
		bool ok;

		for (j = 0; j < (int)(sizeof(scenarios) / sizeof(scenarios[0])); j++)
			if (!strcmp(argv[i], scenarios[j].name))
				s = &scenarios[j];
		if (!s) {
			printf("not ok %d %s: no such scenario\n", i, argv[i]);
			failed++;
			continue;
		}
		why[0] = 0;
		ok = run(s);
		if (ok) {
			printf("ok %d %s\n", i, s->name);
		} else {
			printf("not ok %d %s: %s\n", i, s->name, why);
			failed++;
		}
	}
	return failed ? 1 : 0;
}
