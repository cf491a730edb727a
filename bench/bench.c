// SPDX-License-Identifier: GPL-2.0
/*
 * smccc-bench: what an SMCCC call costs, with and without the filter.
 *
 * Runs inside a booted kernel (see scripts/bench.sh) and prints one line
 * per measurement, "bench: <metric> <value>", which the host collects from
 * the console. Every time is the median of REPEATS runs and is also given
 * relative to a loop without calls measured in the same boot, so that two
 * kernels booted one after the other can be compared despite emulation
 * speed drifting between boots. On a kernel without the filter, only the
 * unfiltered call is measured.
 *
 * A forwarded call is measured in three forms of VMM work per call:
 * "classic" reads x1..x3 and writes x0..x3 with the register ioctls, as a
 * VMM written for mainline does; "fwd_regs" answers through kvm_run with
 * KVM_SMCCC_OPT_FWD_REGS (this series' extension); "floor" re-enters
 * without touching any register, the least any VMM can do.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <linux/kvm.h>

#define RAM_BASE	0x40000000
#define RAM_SIZE	0x10000
#define MMIO_DONE	0x10000000	/* unmapped: the guest's "done" */

#define REPEATS		9
#define CALLS		4000		/* per run */
#define LOOP_FACTOR	50		/* reference loop runs this much longer */

#define FN_HANDLED	PSCI_0_2_FN_PSCI_VERSION	/* answered by KVM */
#define FN_DENIED	PSCI_1_0_FN_PSCI_FEATURES	/* denied where filtered */
#define SIP_FWD		0x82000000	/* forwarded to this program */
#define FILLER_BASE	0x01000000	/* where filler ranges go, two IDs apart */
#define MAX_RANGES	100000

enum conduit { HVC, SMC, NO_CALL };

/* What the VMM does for each forwarded call before it re-enters */
enum vmm_work {
	CLASSIC,	/* 3 KVM_GET_ONE_REG, 4 KVM_SET_ONE_REG */
	FWD_REGS,	/* kvm_run only (KVM_SMCCC_OPT_FWD_REGS) */
	FLOOR,		/* nothing */
};

extern const char bench_guest_start[], bench_guest_end[];

struct vm {
	int fd;
	int vcpu_fd;
	struct kvm_run *run;
};

static int kvm_fd;

/* A failure of the program's own logic: nothing in errno to report */
static void fatal(const char *what)
{
	fprintf(stderr, "smccc-bench: %s\n", what);
	exit(1);
}

/* A system call failed: say which, and why (errno) */
static void die(const char *what)
{
	fprintf(stderr, "smccc-bench: %s: %s\n", what, strerror(errno));
	exit(1);
}

static uint64_t core_reg(int n)
{
	return KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM_CORE |
	       (n < 31 ? KVM_REG_ARM_CORE_REG(regs.regs[n]) :
			 KVM_REG_ARM_CORE_REG(regs.pc));
}

#define PC	31

static void set_reg(struct vm *vm, int n, uint64_t val)
{
	struct kvm_one_reg reg = { .id = core_reg(n), .addr = (uint64_t)&val };

	if (ioctl(vm->vcpu_fd, KVM_SET_ONE_REG, &reg))
		die("KVM_SET_ONE_REG");
}

static uint64_t get_reg(struct vm *vm, int n)
{
	uint64_t val;
	struct kvm_one_reg reg = { .id = core_reg(n), .addr = (uint64_t)&val };

	if (ioctl(vm->vcpu_fd, KVM_GET_ONE_REG, &reg))
		die("KVM_GET_ONE_REG");
	return val;
}

static void create_vm(struct vm *vm)
{
	struct kvm_userspace_memory_region region = {
		.guest_phys_addr = RAM_BASE,
		.memory_size = RAM_SIZE,
	};
	struct kvm_vcpu_init init;
	void *ram;

	vm->fd = ioctl(kvm_fd, KVM_CREATE_VM, 0);
	if (vm->fd < 0)
		die("KVM_CREATE_VM");
	ram = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (ram == MAP_FAILED)
		die("mmap");
	memcpy(ram, bench_guest_start, bench_guest_end - bench_guest_start);
	region.userspace_addr = (uint64_t)ram;
	if (ioctl(vm->fd, KVM_SET_USER_MEMORY_REGION, &region))
		die("KVM_SET_USER_MEMORY_REGION");

	vm->vcpu_fd = ioctl(vm->fd, KVM_CREATE_VCPU, 0);
	if (vm->vcpu_fd < 0)
		die("KVM_CREATE_VCPU");
	vm->run = mmap(NULL, ioctl(kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0),
		       PROT_READ | PROT_WRITE, MAP_SHARED, vm->vcpu_fd, 0);
	if (vm->run == MAP_FAILED)
		die("mmap kvm_run");
	if (ioctl(vm->fd, KVM_ARM_PREFERRED_TARGET, &init))
		die("KVM_ARM_PREFERRED_TARGET");
	init.features[0] |= 1 << KVM_ARM_VCPU_PSCI_0_2;
	if (ioctl(vm->vcpu_fd, KVM_ARM_VCPU_INIT, &init))
		die("KVM_ARM_VCPU_INIT");
}

static void destroy_vm(struct vm *vm)
{
	close(vm->vcpu_fd);
	close(vm->fd);
}

static bool have_filter(struct vm *vm)
{
	struct kvm_device_attr attr = {
		.group = KVM_ARM_VM_SMCCC_CTRL,
		.attr = KVM_ARM_VM_SMCCC_FILTER,
	};

	return !ioctl(vm->fd, KVM_HAS_DEVICE_ATTR, &attr);
}

static int add_range(struct vm *vm, uint32_t base, uint32_t nr, uint8_t action)
{
	struct kvm_smccc_filter filter = {
		.base = base,
		.nr_functions = nr,
		.action = action,
	};
	struct kvm_device_attr attr = {
		.group = KVM_ARM_VM_SMCCC_CTRL,
		.attr = KVM_ARM_VM_SMCCC_FILTER,
		.addr = (uint64_t)&filter,
	};

	return ioctl(vm->fd, KVM_SET_DEVICE_ATTR, &attr);
}

/* Set KVM_SMCCC_OPT_FWD_REGS; false on a kernel without the options */
static bool enable_fwd_regs(struct vm *vm)
{
	struct kvm_smccc_options options = { .flags = KVM_SMCCC_OPT_FWD_REGS };
	struct kvm_device_attr attr = {
		.group = KVM_ARM_VM_SMCCC_CTRL,
		.attr = KVM_ARM_VM_SMCCC_OPTIONS,
		.addr = (uint64_t)&options,
	};

	if (ioctl(vm->fd, KVM_HAS_DEVICE_ATTR, &attr))
		return false;
	if (ioctl(vm->fd, KVM_SET_DEVICE_ATTR, &attr))
		die("KVM_SMCCC_OPT_FWD_REGS");
	return true;
}

/* Filler ranges that no measured call falls into */
static void add_fillers(struct vm *vm, int count)
{
	int i;

	for (i = 0; i < count; i++)
		if (add_range(vm, FILLER_BASE + 2 * i, 1, KVM_SMCCC_FILTER_DENY))
			die("filler range");
}

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* Answer a forwarded call: x0..x3 = x1, x2, x3, x1 */
static void answer(struct vm *vm, enum vmm_work work)
{
	uint64_t x1, x2, x3;

	switch (work) {
	case CLASSIC:
		x1 = get_reg(vm, 1);
		x2 = get_reg(vm, 2);
		x3 = get_reg(vm, 3);
		set_reg(vm, 0, x1);
		set_reg(vm, 1, x2);
		set_reg(vm, 2, x3);
		set_reg(vm, 3, x1);
		break;
	case FWD_REGS:
		x1 = vm->run->hypercall.args[0];
		vm->run->hypercall.ret = x1;
		vm->run->hypercall.args[0] = vm->run->hypercall.args[1];
		vm->run->hypercall.args[1] = vm->run->hypercall.args[2];
		vm->run->hypercall.args[2] = x1;
		break;
	case FLOOR:
		break;
	}
}

/* One run of @iterations calls, forwarded ones answered as @work says */
static double run_once(struct vm *vm, uint32_t func_id, enum conduit conduit,
		       enum vmm_work work, uint64_t iterations)
{
	double start;

	set_reg(vm, PC, RAM_BASE);
	set_reg(vm, 19, iterations);
	set_reg(vm, 20, func_id);
	set_reg(vm, 21, conduit);
	set_reg(vm, 22, MMIO_DONE);

	start = now_ns();
	for (;;) {
		if (ioctl(vm->vcpu_fd, KVM_RUN, 0))
			die("KVM_RUN");
		if (vm->run->exit_reason == KVM_EXIT_MMIO)
			break;
		if (vm->run->exit_reason != KVM_EXIT_HYPERCALL) {
			fatal("unexpected exit from KVM_RUN");
		}
		answer(vm, work);
	}
	return (now_ns() - start) / iterations;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Median cost of one iteration, in ns */
static double measure_work(struct vm *vm, uint32_t func_id,
			   enum conduit conduit, enum vmm_work work)
{
	uint64_t iterations = conduit == NO_CALL ? CALLS * LOOP_FACTOR : CALLS;
	double samples[REPEATS];
	int i;

	run_once(vm, func_id, conduit, work, iterations / 10);	/* warm up */
	for (i = 0; i < REPEATS; i++)
		samples[i] = run_once(vm, func_id, conduit, work, iterations);
	qsort(samples, REPEATS, sizeof(samples[0]), cmp_double);
	return samples[REPEATS / 2];
}

static double measure(struct vm *vm, uint32_t func_id, enum conduit conduit)
{
	return measure_work(vm, func_id, conduit, FLOOR);
}

static double median(double *samples)
{
	qsort(samples, REPEATS, sizeof(samples[0]), cmp_double);
	return samples[REPEATS / 2];
}

static double loop_ns;	/* the reference: one iteration without a call */

static void report(const char *metric, double ns)
{
	printf("bench: %s_ns %.1f\n", metric, ns);
	printf("bench: %s_loops %.2f\n", metric, ns / loop_ns);
}

/* A VM with @fillers ranges plus one denied function */
static void measure_filter_size(int fillers)
{
	char name[64];
	struct vm vm;

	create_vm(&vm);
	if (fillers) {
		add_fillers(&vm, fillers - 1);
		if (add_range(&vm, FN_DENIED, 1, KVM_SMCCC_FILTER_DENY))
			die("deny range");
	}
	snprintf(name, sizeof(name), "handled_r%d", fillers);
	report(name, measure(&vm, FN_HANDLED, HVC));
	if (fillers) {
		snprintf(name, sizeof(name), "denied_r%d", fillers);
		report(name, measure(&vm, FN_DENIED, HVC));
	}
	destroy_vm(&vm);
}

static long slab_kb(void)
{
	char line[128];
	long kb = -1;
	FILE *f = fopen("/proc/meminfo", "r");

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "Slab: %ld kB", &kb) == 1)
			break;
	if (f)
		fclose(f);
	return kb;
}

/* Insert cost and the slab memory that 100 000 ranges take */
static void measure_inserts(void)
{
	double start, per_insert;
	long before, after;
	struct vm vm;

	create_vm(&vm);
	add_range(&vm, SIP_FWD, 1, KVM_SMCCC_FILTER_FWD_TO_USER);
	before = slab_kb();
	start = now_ns();
	add_fillers(&vm, MAX_RANGES);
	per_insert = (now_ns() - start) / MAX_RANGES;
	after = slab_kb();
	report("insert", per_insert);
	printf("bench: bytes_per_range %.1f\n", (after - before) * 1024.0 / MAX_RANGES);
	destroy_vm(&vm);
}

int main(void)
{
	static const int sizes[] = { 0, 1, 100, 10000, 100000 };
	double classic[REPEATS], regs[REPEATS], floor_ns[REPEATS];
	struct vm vm, regs_vm;
	size_t i;

	setvbuf(stdout, NULL, _IOLBF, 0);
	kvm_fd = open("/dev/kvm", O_RDWR);
	if (kvm_fd < 0)
		die("/dev/kvm");

	create_vm(&vm);
	loop_ns = measure(&vm, 0, NO_CALL);
	printf("bench: loop_ns %.2f\n", loop_ns);
	if (!have_filter(&vm)) {
		report("handled_r0", measure(&vm, FN_HANDLED, HVC));
		printf("bench: filter no\n");
		return 0;
	}
	destroy_vm(&vm);
	printf("bench: filter yes\n");

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		measure_filter_size(sizes[i]);

	/*
	 * The three forms alternate, run by run, so that drift within the
	 * boot spreads over all of them alike.
	 */
	create_vm(&vm);
	if (add_range(&vm, SIP_FWD, 1, KVM_SMCCC_FILTER_FWD_TO_USER))
		die("forward range");
	create_vm(&regs_vm);
	if (add_range(&regs_vm, SIP_FWD, 1, KVM_SMCCC_FILTER_FWD_TO_USER))
		die("forward range");
	if (!enable_fwd_regs(&regs_vm)) {
		fatal("the series kernel lacks KVM_ARM_VM_SMCCC_OPTIONS");
	}
	for (i = 0; i < REPEATS; i++) {
		classic[i] = measure_work(&vm, SIP_FWD, HVC, CLASSIC);
		regs[i] = measure_work(&regs_vm, SIP_FWD, HVC, FWD_REGS);
		floor_ns[i] = measure_work(&vm, SIP_FWD, HVC, FLOOR);
	}
	report("fwd_classic", median(classic));
	report("fwd_regs", median(regs));
	report("fwd_floor", median(floor_ns));
	destroy_vm(&regs_vm);
	destroy_vm(&vm);

	measure_inserts();
	return 0;
}
