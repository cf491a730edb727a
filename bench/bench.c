// SPDX-License-Identifier: GPL-2.0
/*
 * smccc-bench: what an SMCCC call costs, with and without the filter.
 *
 * Runs inside a booted kernel (see scripts/bench.sh) and prints one line
 * per measurement, "bench: <metric> <value>", which the host collects from
 * the console. Every time is the median of REPEATS runs and is also given
 * relative to a loop without calls measured in the same boot, so that two
 * kernels booted one after the other can be compared despite emulation
 * speed drifting between boots. make bench runs QEMU with -icount
 * shift=0, where the guest's clock counts emulated instructions: there,
 * every "ns" below is an instruction. On a kernel without the filter,
 * only the unfiltered call is measured.
 *
 * A forwarded call is measured in three forms of VMM work per call:
 * "classic" reads x1..x3 and writes x0..x3 with the register ioctls, as a
 * VMM written for mainline does; "fwd_regs" answers through kvm_run with
 * KVM_SMCCC_OPT_FWD_REGS (this series' extension); "floor" re-enters
 * without touching any register, the least any VMM can do.
 *
 * VMs, vCPUs, the guest and the filter ranges come from the KVM selftest
 * library, built with the selftests of the series.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <linux/arm-smccc.h>
#include <linux/psci.h>
#include <asm/kvm.h>
#include <kvm_util.h>

#include "processor.h"

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

/* One run of the guest: @iterations calls of @func_id over @conduit */
static struct {
	uint64_t iterations;
	uint32_t func_id;
	uint32_t conduit;
} job;

static void guest_main(void)
{
	struct arm_smccc_res res;
	uint64_t i;

	for (;;) {
		uint64_t n = READ_ONCE(job.iterations);
		uint32_t func_id = READ_ONCE(job.func_id);

		switch (READ_ONCE(job.conduit)) {
		case HVC:
			for (i = 0; i < n; i++)
				smccc_hvc(func_id, 0, 0, 0, 0, 0, 0, 0, &res);
			break;
		case SMC:
			for (i = 0; i < n; i++)
				smccc_smc(func_id, 0, 0, 0, 0, 0, 0, 0, &res);
			break;
		default:	/* the reference: how fast the emulated CPU loops */
			for (i = 0; i < n; i++)
				asm volatile("" : : : "memory");
			break;
		}
		GUEST_SYNC(0);
	}
}

static struct kvm_vm *create_vm(struct kvm_vcpu **vcpu)
{
	struct kvm_vcpu_init init;
	struct kvm_vm *vm = vm_create(1);

	ucall_init(vm, NULL);
	vm_ioctl(vm, KVM_ARM_PREFERRED_TARGET, &init);
	init.features[0] |= 1 << KVM_ARM_VCPU_PSCI_0_2;
	*vcpu = aarch64_vcpu_add(vm, 0, &init, guest_main);
	return vm;
}

/* Set KVM_SMCCC_OPT_FWD_REGS; false on a kernel without the options */
static bool enable_fwd_regs(struct kvm_vm *vm)
{
	struct kvm_smccc_options options = { .flags = KVM_SMCCC_OPT_FWD_REGS };

	if (__kvm_has_device_attr(vm->fd, KVM_ARM_VM_SMCCC_CTRL,
				  KVM_ARM_VM_SMCCC_OPTIONS))
		return false;
	kvm_device_attr_set(vm->fd, KVM_ARM_VM_SMCCC_CTRL,
			    KVM_ARM_VM_SMCCC_OPTIONS, &options);
	return true;
}

/* Filler ranges that no measured call falls into */
static void add_fillers(struct kvm_vm *vm, int count)
{
	int i;

	for (i = 0; i < count; i++)
		vm_smccc_filter_add(vm, FILLER_BASE + 2 * i, 1, KVM_SMCCC_FILTER_DENY);
}

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static uint64_t get_x(struct kvm_vcpu *vcpu, int n)
{
	uint64_t val;

	vcpu_get_reg(vcpu, ARM64_CORE_REG(regs.regs[n]), &val);
	return val;
}

static void set_x(struct kvm_vcpu *vcpu, int n, uint64_t val)
{
	vcpu_set_reg(vcpu, ARM64_CORE_REG(regs.regs[n]), val);
}

/* Answer a forwarded call: x0..x3 = x1, x2, x3, x1 */
static void answer(struct kvm_vcpu *vcpu, enum vmm_work work)
{
	struct kvm_run *run = vcpu->run;
	uint64_t x1, x2, x3;

	switch (work) {
	case CLASSIC:
		x1 = get_x(vcpu, 1);
		x2 = get_x(vcpu, 2);
		x3 = get_x(vcpu, 3);
		set_x(vcpu, 0, x1);
		set_x(vcpu, 1, x2);
		set_x(vcpu, 2, x3);
		set_x(vcpu, 3, x1);
		break;
	case FWD_REGS:
		x1 = run->hypercall.args[0];
		run->hypercall.ret = x1;
		run->hypercall.args[0] = run->hypercall.args[1];
		run->hypercall.args[1] = run->hypercall.args[2];
		run->hypercall.args[2] = x1;
		break;
	case FLOOR:
		break;
	}
}

/* One run of @iterations calls, forwarded ones answered as @work says */
static double run_once(struct kvm_vcpu *vcpu, uint32_t func_id,
		       enum conduit conduit, enum vmm_work work,
		       uint64_t iterations)
{
	struct ucall uc;
	double start;

	job.iterations = iterations;
	job.func_id = func_id;
	job.conduit = conduit;
	sync_global_to_guest(vcpu->vm, job);

	start = now_ns();
	for (;;) {
		vcpu_run(vcpu);
		if (vcpu->run->exit_reason != KVM_EXIT_HYPERCALL)
			break;
		answer(vcpu, work);
	}
	TEST_ASSERT(get_ucall(vcpu, &uc) == UCALL_SYNC, "unexpected exit %s",
		    exit_reason_str(vcpu->run->exit_reason));
	return (now_ns() - start) / iterations;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *samples)
{
	qsort(samples, REPEATS, sizeof(samples[0]), cmp_double);
	return samples[REPEATS / 2];
}

/* Median cost of one iteration, in ns */
static double measure_work(struct kvm_vcpu *vcpu, uint32_t func_id,
			   enum conduit conduit, enum vmm_work work)
{
	uint64_t iterations = conduit == NO_CALL ? CALLS * LOOP_FACTOR : CALLS;
	double samples[REPEATS];
	int i;

	run_once(vcpu, func_id, conduit, work, iterations / 10);	/* warm up */
	for (i = 0; i < REPEATS; i++)
		samples[i] = run_once(vcpu, func_id, conduit, work, iterations);
	return median(samples);
}

static double measure(struct kvm_vcpu *vcpu, uint32_t func_id,
		      enum conduit conduit)
{
	return measure_work(vcpu, func_id, conduit, FLOOR);
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
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm = create_vm(&vcpu);
	char name[64];

	if (fillers) {
		add_fillers(vm, fillers - 1);
		vm_smccc_filter_add(vm, FN_DENIED, 1, KVM_SMCCC_FILTER_DENY);
	}
	snprintf(name, sizeof(name), "handled_r%d", fillers);
	report(name, measure(vcpu, FN_HANDLED, HVC));
	if (fillers) {
		snprintf(name, sizeof(name), "denied_r%d", fillers);
		report(name, measure(vcpu, FN_DENIED, HVC));
	}
	kvm_vm_free(vm);
}

static long slab_kb(void)
{
	char line[128];
	long kb = -1;
	FILE *f = fopen("/proc/meminfo", "r");

	TEST_ASSERT(f, "open /proc/meminfo: %s", strerror(errno));
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Slab: %ld kB", &kb) == 1)
			break;
	fclose(f);
	TEST_ASSERT(kb >= 0, "no Slab line in /proc/meminfo");
	return kb;
}

/* Insert cost and the slab memory that 100 000 ranges take */
static void measure_inserts(void)
{
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm = create_vm(&vcpu);
	double start, per_insert;
	long before, after;

	vm_smccc_filter_add(vm, SIP_FWD, 1, KVM_SMCCC_FILTER_FWD_TO_USER);
	before = slab_kb();
	start = now_ns();
	add_fillers(vm, MAX_RANGES);
	per_insert = (now_ns() - start) / MAX_RANGES;
	after = slab_kb();
	report("insert", per_insert);
	printf("bench: bytes_per_range %.1f\n", (after - before) * 1024.0 / MAX_RANGES);
	kvm_vm_free(vm);
}

/*
 * The three forms of a forwarded call. They alternate, run by run, so
 * that drift within the boot spreads over all of them alike.
 */
static void measure_forwarded(void)
{
	double classic[REPEATS], regs[REPEATS], floor_ns[REPEATS];
	struct kvm_vcpu *vcpu, *regs_vcpu;
	struct kvm_vm *vm, *regs_vm;
	bool have_regs;
	int i;

	vm = create_vm(&vcpu);
	vm_smccc_filter_add(vm, SIP_FWD, 1, KVM_SMCCC_FILTER_FWD_TO_USER);
	regs_vm = create_vm(&regs_vcpu);
	vm_smccc_filter_add(regs_vm, SIP_FWD, 1, KVM_SMCCC_FILTER_FWD_TO_USER);
	/* Mainline has no KVM_ARM_VM_SMCCC_OPTIONS: the classic forms only */
	have_regs = enable_fwd_regs(regs_vm);

	for (i = 0; i < REPEATS; i++) {
		classic[i] = measure_work(vcpu, SIP_FWD, HVC, CLASSIC);
		if (have_regs)
			regs[i] = measure_work(regs_vcpu, SIP_FWD, HVC, FWD_REGS);
		floor_ns[i] = measure_work(vcpu, SIP_FWD, HVC, FLOOR);
	}
	report("fwd_classic", median(classic));
	if (have_regs)
		report("fwd_regs", median(regs));
	report("fwd_floor", median(floor_ns));
	kvm_vm_free(regs_vm);
	kvm_vm_free(vm);
}

int main(void)
{
	static const int sizes[] = { 0, 1, 100, 10000, 100000 };
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;
	size_t i;

	setvbuf(stdout, NULL, _IOLBF, 0);

	vm = create_vm(&vcpu);
	loop_ns = measure(vcpu, 0, NO_CALL);
	printf("bench: loop_ns %.2f\n", loop_ns);
	if (!kvm_has_smccc_filter()) {
		report("handled_r0", measure(vcpu, FN_HANDLED, HVC));
		printf("bench: filter no\n");
		kvm_vm_free(vm);
		return 0;
	}
	kvm_vm_free(vm);
	printf("bench: filter yes\n");

	for (i = 0; i < ARRAY_SIZE(sizes); i++)
		measure_filter_size(sizes[i]);
	measure_forwarded();
	measure_inserts();
	return 0;
}
