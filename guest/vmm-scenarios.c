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
 *   save      at "ready", QMP "stop" and "migrate" to the disk /dev/vda
 *             (its file descriptor passed with "getfd"), then "quit"
 *   restore-save  QEMU -S -incoming from /dev/vda, where "save" left
 *             the state (on another kernel, in another boot); once QMP
 *             "query-status" says the state is loaded, "cont": the guest
 *             carries on from round 1's "ready" (it must not boot again),
 *             takes CPU 1 offline and back, its kernel finds CPU 1's ID
 *             registers as they were before the guest moved, and it
 *             waits at round 2's "ready", where QEMU saves it as "save"
 *             does: the middle of a migration there and back
 *   restore   the same restore, of what "restore-save" saved (round 2),
 *             and the guest runs to its end
 *
 * In every scenario the guest's round trip (CPU 1 offline and back, its
 * ID registers checked) must pass. "--on stock" or "--on ours" first
 * says which kernel the test kernel must be: the base's, whose release
 * ends in "-stock", or ours.
 *
 * A failure names the step and the last thing QEMU or the guest said.
 * Every line QEMU and the guest print is echoed, prefixed with "l2| ".
 */
#define _GNU_SOURCE
#include <dirent.h>
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
#define STATE_DISK	"/dev/vda"	/* the host's scratch disk: a migration stream */
#define INCOMING_FD	10		/* QEMU's -incoming INCOMING_URI */
#define INCOMING_URI	"fd:10"
/*
 * The longest wait for one step (boot to "ready", a QMP answer, a
 * migration, ...) under emulation, where a step takes seconds. A
 * scenario's steps together could outlast its manifest's timeout only
 * if several of them hung: the guest's init then reports the timeout.
 */
#define STEP_TIMEOUT_S	180
#define LINE_MAX_LEN	512

enum at_ready {
	GO,		/* let the guest carry on */
	SYNC,		/* stop, info registers, cont; then go */
	SAVE,		/* stop, migrate to STATE_DISK, quit */
};

struct scenario {
	const char *name;
	const char *cpu;	/* QEMU's -cpu */
	bool incoming;		/* the guest's state is on STATE_DISK */
	bool again;		/* the guest goes round once before "ready" */
	int round;		/* the guest's round at the first "ready" */
	enum at_ready at_ready;
	/* what the guest must say it has, or NULL */
	const char *expect;
};

static const struct scenario scenarios[] = {
	{ "boot", "host", false, false, 1, GO, NULL },
	{ "sync", "host", false, false, 1, SYNC, NULL },
	{ "pmu-off", "host,pmu=off", false, false, 1, GO, "l2: pmu none" },
	{ "sve-off", "host,sve=off", false, false, 1, GO, "l2: sve none" },
	{ "save", "host", false, false, 1, SAVE, NULL },
	{ "restore-save", "host", true, true, 1, SAVE, NULL },
	{ "restore", "host", true, false, 2, GO, NULL },
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
	const char *forbid;	/* a line that fails any wait, or NULL */
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
		"-append", "console=ttyAMA0 panic=-1 quiet",
		/* The same machine, its state read from the disk; paused once loaded */
		s->incoming ? "-S" : NULL, "-incoming", INCOMING_URI, NULL
	};
	int in[2], out[2], disk = -1;

	unlink(QMP_SOCKET);
	if (s->incoming) {
		disk = open(STATE_DISK, O_RDONLY | O_CLOEXEC);
		if (disk < 0)
			return fail("%s: %s", STATE_DISK, strerror(errno));
	}
	/* QEMU inherits none of these but as fds 0, 1, 2 and INCOMING_FD */
	if (pipe2(in, O_CLOEXEC)) {
		fail("pipe: %s", strerror(errno));
		goto err_disk;
	}
	if (pipe2(out, O_CLOEXEC)) {
		fail("pipe: %s", strerror(errno));
		goto err_in;
	}
	vm->pid = fork();
	if (vm->pid < 0) {
		fail("fork: %s", strerror(errno));
		goto err_out;
	}
	if (!vm->pid) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		dup2(out[1], 2);
		if (disk == INCOMING_FD)
			fcntl(disk, F_SETFD, 0);
		else if (disk >= 0)
			dup2(disk, INCOMING_FD);
		execv(QEMU, (char **)argv);
		printf("exec %s: %s\n", QEMU, strerror(errno));
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	if (disk >= 0)
		close(disk);
	vm->forbid = s->incoming ? "l2: up" : NULL;
	vm->in = in[1];
	vm->out = out[0];
	return true;

err_out:
	close(out[0]);
	close(out[1]);
err_in:
	close(in[0]);
	close(in[1]);
err_disk:
	if (disk >= 0)
		close(disk);
	return false;
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

/*
 * Read on until a line holding @text; a line "l2: error" fails, and so
 * does the line vm->forbid (a restored guest that boots afresh)
 */
static bool wait_for(struct vm *vm, const char *text)
{
	char line[LINE_MAX_LEN];
	time_t end = time(NULL) + STEP_TIMEOUT_S;

	while (time(NULL) < end && next_line(vm, line, end - time(NULL))) {
		if (strstr(line, "l2: error"))
			return fail("the guest: %s", line);
		if (vm->forbid && strstr(line, vm->forbid))
			return fail("the guest booted again: %s", line);
		if (strstr(line, text))
			return true;
	}
	return fail("no \"%s\"; last line: %s", text, vm->last[0] ? vm->last : "(none)");
}

/* Echo what QEMU and the guest print for @seconds */
static void drain(struct vm *vm, int seconds)
{
	char line[LINE_MAX_LEN];
	time_t end = time(NULL) + seconds;

	while (time(NULL) < end && next_line(vm, line, end - time(NULL)))
		;
}

/* Where QEMU's threads wait in the kernel, for a step that timed out */
static void show_threads(pid_t pid)
{
	char path[320], line[LINE_MAX_LEN];
	struct dirent *d;
	DIR *dir;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	dir = opendir(path);
	while (dir && (d = readdir(dir))) {
		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%s/comm", pid, d->d_name);
		f = fopen(path, "r");
		if (f && fgets(line, sizeof(line), f))
			printf("l2| thread %s: %s", d->d_name, line);
		if (f)
			fclose(f);
		snprintf(path, sizeof(path), "/proc/%d/task/%s/stack", pid, d->d_name);
		f = fopen(path, "r");
		while (f && fgets(line, sizeof(line), f))
			printf("l2|   %s", line);
		if (f)
			fclose(f);
	}
	if (dir)
		closedir(dir);
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

struct qmp {
	struct vm *vm;		/* QEMU, whose output is read between questions */
	int fd;
	FILE *f;
	char answer[4096];	/* the last answer */
};

/*
 * One QMP command, with file descriptor @pass (-1: none) in the same
 * message, and its answer, which must not be an error
 */
static bool qmp_fd(struct qmp *q, const char *cmd, int pass)
{
	char buf[CMSG_SPACE(sizeof(int))] = { 0 };
	struct iovec iov[2] = {
		{ .iov_base = (void *)cmd, .iov_len = strlen(cmd) },
		{ .iov_base = "\n", .iov_len = 1 },
	};
	struct msghdr msg = { .msg_iov = iov, .msg_iovlen = 2 };
	struct cmsghdr *c;
	char *line = q->answer;

	printf("l2| qmp> %s\n", cmd);
	if (pass >= 0) {
		msg.msg_control = buf;
		msg.msg_controllen = sizeof(buf);
		c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &pass, sizeof(int));
	}
	if (sendmsg(q->fd, &msg, MSG_NOSIGNAL) != (ssize_t)strlen(cmd) + 1)
		return fail("QMP %s: %s", cmd, strerror(errno));
	while (fgets(line, sizeof(q->answer), q->f)) {
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

static bool qmp(struct qmp *q, const char *cmd)
{
	return qmp_fd(q, cmd, -1);
}

/*
 * Connect to QEMU's QMP socket, past the greeting and the handshake;
 * QEMU may not have made the socket yet
 */
static bool qmp_open(struct qmp *q, struct vm *vm)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX, .sun_path = QMP_SOCKET };
	struct timeval tv = { .tv_sec = STEP_TIMEOUT_S };
	int i;

	q->vm = vm;
	q->f = NULL;
	q->fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (q->fd < 0)
		return fail("QMP socket: %s", strerror(errno));
	for (i = 0; connect(q->fd, (struct sockaddr *)&addr, sizeof(addr)); i++) {
		siginfo_t info = { .si_pid = 0 };

		if (i == STEP_TIMEOUT_S || (errno != ENOENT && errno != ECONNREFUSED))
			return fail("QMP socket %s: %s", QMP_SOCKET, strerror(errno));
		/* QEMU's status stays for wait_exit() */
		if (!waitid(P_PID, vm->pid, &info, WEXITED | WNOHANG | WNOWAIT) && info.si_pid)
			return fail("QEMU ended before it opened %s", QMP_SOCKET);
		sleep(1);
	}
	/* An answer that does not come fails the step */
	if (setsockopt(q->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)))
		return fail("QMP socket: %s", strerror(errno));
	q->f = fdopen(dup(q->fd), "r");
	if (!q->f || !fgets(q->answer, sizeof(q->answer), q->f))
		return fail("QMP: no greeting");
	return qmp(q, "{\"execute\": \"qmp_capabilities\"}");
}

static void qmp_close(struct qmp *q)
{
	if (q->f)
		fclose(q->f);
	if (q->fd >= 0)
		close(q->fd);
}

/*
 * Ask @cmd every second until its answer holds @done (true) or @bad, or
 * the step's time is up
 */
static bool qmp_until(struct qmp *q, const char *cmd, const char *done, const char *bad)
{
	time_t end = time(NULL) + STEP_TIMEOUT_S;

	while (time(NULL) < end) {
		if (!qmp(q, cmd))
			return false;
		if (strstr(q->answer, done))
			return true;
		if (bad && strstr(q->answer, bad))
			return fail("QMP %s: %.200s", cmd, q->answer);
		drain(q->vm, 1);
	}
	return fail("QMP %s: not %s after %d s", cmd, done, STEP_TIMEOUT_S);
}

/* QMP: stop, info registers, cont, as a person at QEMU's monitor would */
static bool sync_state(struct vm *vm)
{
	struct qmp q;
	bool ok;

	ok = qmp_open(&q, vm) &&
	     qmp(&q, "{\"execute\": \"stop\"}") &&
	     qmp(&q, "{\"execute\": \"human-monitor-command\", "
		     "\"arguments\": {\"command-line\": \"info registers\"}}") &&
	     qmp(&q, "{\"execute\": \"cont\"}");
	qmp_close(&q);
	return ok;
}

/* QMP: stop, migrate to the disk, quit; the state is on the disk after */
static bool save_state(struct vm *vm)
{
	int disk = open(STATE_DISK, O_WRONLY);
	struct qmp q;
	bool ok;

	if (disk < 0)
		return fail("%s: %s", STATE_DISK, strerror(errno));
	ok = qmp_open(&q, vm) &&
	     qmp(&q, "{\"execute\": \"stop\"}") &&
	     qmp_fd(&q, "{\"execute\": \"getfd\", \"arguments\": {\"fdname\": \"state\"}}",
		    disk) &&
	     qmp(&q, "{\"execute\": \"migrate\", \"arguments\": {\"uri\": \"fd:state\"}}") &&
	     qmp_until(&q, "{\"execute\": \"query-migrate\"}", "\"status\": \"completed\"",
			"\"status\": \"failed\"");
	if (ok && fsync(disk))
		ok = fail("%s: fsync: %s", STATE_DISK, strerror(errno));
	if (ok)
		qmp(&q, "{\"execute\": \"quit\"}");	/* QEMU may exit before it answers */
	close(disk);
	qmp_close(&q);
	return ok;
}

/*
 * QMP: wait until the incoming state is loaded (QEMU -S leaves the guest
 * paused; while it loads, the status is "inmigrate"), then cont
 */
static bool restore_state(struct vm *vm)
{
	struct qmp q;
	bool ok;

	ok = qmp_open(&q, vm) &&
	     qmp_until(&q, "{\"execute\": \"query-status\"}",
			"\"status\": \"paused\"", "\"status\": \"running\"") &&
	     qmp(&q, "{\"execute\": \"cont\"}");
	qmp_close(&q);
	return ok;
}

/* A line on the guest's console */
static bool say(struct vm *vm, const char *text)
{
	ssize_t n = write(vm->in, text, strlen(text));

	return n == (ssize_t)strlen(text) || fail("console: %s", strerror(errno));
}

/* Wait for the guest's line @what in round @round */
static bool wait_round(struct vm *vm, const char *what, int round)
{
	char text[128];

	snprintf(text, sizeof(text), "l2: %s (round %d)", what, round);
	return wait_for(vm, text);
}

/*
 * The guest, at "ready" in round @round, told @text: it takes CPU 1
 * offline and back, its ID registers checked
 */
static bool round_trip(struct vm *vm, const char *text, int round)
{
	return say(vm, text) &&
	       wait_round(vm, "CPU 1 went offline and came back", round) &&
	       wait_round(vm, "CPU 1's ID registers pass the kernel's checks", round);
}

static bool run(const struct scenario *s)
{
	struct vm vm = { .expect = s->expect };
	bool ok;

	if (!start_qemu(&vm, s))
		return false;
	/* The guest at "ready": booted here, or restored as it was saved */
	ok = s->incoming ? restore_state(&vm) : wait_round(&vm, "ready", s->round);
	if (ok && s->again)
		ok = round_trip(&vm, "again\n", s->round) &&
		     wait_round(&vm, "ready", s->round + 1);
	if (ok && s->at_ready == SYNC)
		ok = sync_state(&vm);
	if (ok && s->at_ready == SAVE)
		ok = save_state(&vm);
	else if (ok)
		ok = round_trip(&vm, "go\n", s->round + s->again) &&
		     wait_for(&vm, "l2: done");
	if (!ok) {
		char first[sizeof(why)];

		/* Report the step that failed, not how QEMU ended */
		snprintf(first, sizeof(first), "%s", why);
		drain(&vm, 2);
		show_threads(vm.pid);
		kill(vm.pid, SIGKILL);
		wait_exit(&vm);
		return fail("%.*s; QEMU's last line: %.200s", (int)sizeof(first) - 256,
			    first, vm.last[0] ? vm.last : "(none)");
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

/* Why the running kernel is not @on ("stock" or "ours"), or NULL */
static const char *wrong_kernel(const char *on)
{
	static char msg[256];
	struct utsname u;
	bool stock;

	if (strcmp(on, "stock") && strcmp(on, "ours"))
		return "--on takes stock or ours";
	if (uname(&u))
		return "uname failed";
	stock = strstr(u.release, "-stock");
	if (stock == !strcmp(on, "stock"))
		return NULL;
	snprintf(msg, sizeof(msg), "the test kernel is %s, not %s", u.release, on);
	return msg;
}

int main(int argc, char *argv[])
{
	const char *wrong = NULL;
	int i, j, first = 1, failed = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	/* QEMU may exit while a QMP command or a console line is on its way */
	signal(SIGPIPE, SIG_IGN);
	if (argc > 2 && !strcmp(argv[1], "--on")) {
		wrong = wrong_kernel(argv[2]);
		first = 3;
	}
	printf("TAP version 13\n1..%d\n", argc - first);
	print_versions();
	for (i = first; i < argc; i++) {
		const struct scenario *s = NULL;
		int nr = i - first + 1;
		bool ok;

		for (j = 0; j < (int)(sizeof(scenarios) / sizeof(scenarios[0])); j++)
			if (!strcmp(argv[i], scenarios[j].name))
				s = &scenarios[j];
		if (!s || wrong) {
			printf("not ok %d %s: %s\n", nr, argv[i], wrong ? wrong : "no such scenario");
			failed++;
			continue;
		}
		why[0] = 0;
		ok = run(s);
		if (ok) {
			printf("ok %d %s\n", nr, s->name);
		} else {
			printf("not ok %d %s: %s\n", nr, s->name, why);
			failed++;
		}
	}
	return failed ? 1 : 0;
}
