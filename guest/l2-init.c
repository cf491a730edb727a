// SPDX-License-Identifier: GPL-2.0
/*
 * PID 1 of the nested guest: the guest that Debian's QEMU runs with KVM
 * inside the test kernel (guest/vmm-scenarios.c drives it).
 *
 * It prints its ID registers as its kernel shows them to userspace (MRS
 * from EL0, which Linux emulates from the values it sanitised across its
 * CPUs) and whether it has a PMU and SVE, says "l2: ready (round 1)",
 * and waits for a line on its console: the VMM may stop, inspect or
 * migrate it meanwhile. Then it takes CPU 1 offline and back online
 * (PSCI CPU_OFF and CPU_ON). On its way up, CPU 1 reads its ID registers
 * at EL1 from the vCPU the VMM runs now, perhaps on another host after a
 * migration, and the guest's kernel checks them against what it found at
 * boot: a CPU that lacks a capability the kernel uses does not come
 * online; a field that must match across CPUs (a "strict" field of
 * arch/arm64/kernel/cpufeature.c) and differs from the boot CPU's taints
 * the kernel (TAINT_CPU_OUT_OF_SPEC) with a "SANITY CHECK" line naming
 * the register; any other field lowers what the kernel shows userspace.
 * Each of these is an error here: CPU 1 offline, the taint (with the
 * kernel's lines), a register that userspace now sees otherwise. After
 * the line "again", it says "l2: ready (round 2)" and waits once more;
 * after any other line, it says "l2: done" and powers off (PSCI
 * SYSTEM_OFF). The round in its lines tells the VMM which saved state
 * it resumed. Any failure is a line "l2: error: ..." followed by the
 * power-off.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/klog.h>
#include <sys/mount.h>
#include <sys/reboot.h>

#define NR_ID_REGS	11

static const char *const id_names[NR_ID_REGS] = {
	"MIDR_EL1", "ID_AA64PFR0_EL1", "ID_AA64PFR1_EL1", "ID_AA64ZFR0_EL1",
	"ID_AA64DFR0_EL1", "ID_AA64ISAR0_EL1", "ID_AA64ISAR1_EL1",
	"ID_AA64ISAR2_EL1", "ID_AA64MMFR0_EL1", "ID_AA64MMFR1_EL1",
	"ID_AA64MMFR2_EL1",
};

#define MRS(enc)							\
	({ unsigned long v; asm volatile("mrs %0, " enc : "=r" (v)); v; })

static void read_id_regs(unsigned long *v)
{
	v[0] = MRS("midr_el1");
	v[1] = MRS("id_aa64pfr0_el1");
	v[2] = MRS("id_aa64pfr1_el1");
	v[3] = MRS("s3_0_c0_c4_4");
	v[4] = MRS("id_aa64dfr0_el1");
	v[5] = MRS("id_aa64isar0_el1");
	v[6] = MRS("id_aa64isar1_el1");
	v[7] = MRS("s3_0_c0_c6_2");
	v[8] = MRS("id_aa64mmfr0_el1");
	v[9] = MRS("id_aa64mmfr1_el1");
	v[10] = MRS("s3_0_c0_c7_2");
}

static void print_id_regs(unsigned long *v)
{
	int i;

	read_id_regs(v);
	for (i = 0; i < NR_ID_REGS; i++)
		printf("l2: %s %016lx\n", id_names[i], v[i]);
}

/* An error for each register userspace sees otherwise than @then */
static int compare_id_regs(const unsigned long *then)
{
	unsigned long now[NR_ID_REGS];
	int i, changed = 0;

	read_id_regs(now);
	for (i = 0; i < NR_ID_REGS; i++) {
		if (now[i] == then[i])
			continue;
		printf("l2: error: %s, as userspace sees it, was %016lx and is %016lx\n",
		       id_names[i], then[i], now[i]);
		changed++;
	}
	return changed;
}

/* What the guest has: a PMU driver bound, SVE in ID_AA64PFR0_EL1 */
static void print_features(void)
{
	DIR *d = opendir("/sys/bus/event_source/devices");
	const char *pmu = "none";
	struct dirent *e;
	unsigned long pfr0;

	while (d && (e = readdir(d)))
		if (!strncmp(e->d_name, "armv8", 5))
			pmu = e->d_name;
	printf("l2: pmu %s\n", pmu);
	if (d)
		closedir(d);
	asm volatile("mrs %0, id_aa64pfr0_el1" : "=r" (pfr0));
	printf("l2: sve %s\n", (pfr0 >> 32) & 0xf ? "yes" : "none");
}

static int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY);
	int ok;

	if (fd < 0)
		return -1;
	ok = write(fd, text, strlen(text)) == (ssize_t)strlen(text);
	close(fd);
	return ok ? 0 : -1;
}

static int cpu1_online(void)
{
	char c = '?';
	int fd = open("/sys/devices/system/cpu/cpu1/online", O_RDONLY);

	if (fd < 0)
		return -1;
	if (read(fd, &c, 1) != 1)
		c = '?';
	close(fd);
	return c == '1' ? 1 : c == '0' ? 0 : -1;
}

static int hotplug_cpu1(void)
{
	const char *path = "/sys/devices/system/cpu/cpu1/online";

	if (cpu1_online() != 1) {
		printf("l2: error: CPU 1 is not online at start\n");
		return -1;
	}
	if (write_file(path, "0") || cpu1_online() != 0) {
		printf("l2: error: CPU 1 did not go offline (%s)\n", strerror(errno));
		return -1;
	}
	if (write_file(path, "1") || cpu1_online() != 1) {
		printf("l2: error: CPU 1 did not come back online (%s)\n", strerror(errno));
		return -1;
	}
	return 0;
}

#define TAINT_CPU_OUT_OF_SPEC	2	/* include/linux/panic.h */
#define SYSLOG_ACTION_READ_ALL	3

/*
 * Whether the kernel found a CPU out of spec (its taint), with its log
 * lines that say which register; -1 if the taint cannot be read
 */
static int cpu_out_of_spec(void)
{
	static char log[1 << 17];
	char buf[32] = "";
	unsigned long taint;
	char *line, *save;
	ssize_t len = -1;
	int fd, n;

	fd = open("/proc/sys/kernel/tainted", O_RDONLY);
	if (fd >= 0) {
		len = read(fd, buf, sizeof(buf) - 1);
		close(fd);
	}
	if (len <= 0) {
		printf("l2: error: cannot read /proc/sys/kernel/tainted\n");
		return -1;
	}
	taint = strtoul(buf, NULL, 10);
	if (!(taint & (1UL << TAINT_CPU_OUT_OF_SPEC)))
		return 0;
	printf("l2: error: the kernel found a CPU out of spec (taint %lu)\n", taint);
	n = klogctl(SYSLOG_ACTION_READ_ALL, log, sizeof(log) - 1);
	log[n > 0 ? n : 0] = 0;
	for (line = strtok_r(log, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		if (strstr(line, "SANITY CHECK"))
			printf("l2: error: %s\n", line);
	return 1;
}

int main(void)
{
	unsigned long boot_view[NR_ID_REGS];
	char line[64];
	int round = 1;
	long cpus;

	mount("proc", "/proc", "proc", 0, NULL);
	mount("sysfs", "/sys", "sysfs", 0, NULL);
	setvbuf(stdout, NULL, _IOLBF, 0);

	cpus = sysconf(_SC_NPROCESSORS_ONLN);
	printf("l2: up, %ld CPUs online\n", cpus);
	print_id_regs(boot_view);
	print_features();
	if (cpus < 2)
		printf("l2: error: %ld CPU online, 2 expected\n", cpus);
	else if (!cpu_out_of_spec())
		for (;; round++) {
			printf("l2: ready (round %d)\n", round);
			if (!fgets(line, sizeof(line), stdin)) {
				printf("l2: error: no line on the console\n");
				break;
			}
			if (hotplug_cpu1())
				break;
			printf("l2: CPU 1 went offline and came back (round %d)\n", round);
			if (cpu_out_of_spec() || compare_id_regs(boot_view))
				break;
			printf("l2: CPU 1's ID registers pass the kernel's checks (round %d)\n",
			       round);
			if (strcmp(line, "again\n"))
				break;
		}
	printf("l2: done\n");
	fflush(stdout);
	sync();
	reboot(RB_POWER_OFF);
	return 0;
}
