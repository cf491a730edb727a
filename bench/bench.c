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
 * A forwarded call is measured in four forms of VMM work per call:
 * "classic" reads x1..x3 and writes x0..x3 with the register ioctls, as a
 * VMM written for mainline does; "sync" reads and writes them in kvm_run
 * with KVM_CAP_SYNC_REGS (KVM_SYNC_ARM64_EXT_GPRS, this kernel's
 * extension), the registers synced both ways on every call; "floor"
 * re-enters without touching any register, the least any VMM can do;
 * "floor_sync" does the same with the registers synced out on each exit,
 * which is what a VMM that keeps them in kvm_run pays on every exit.
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
	SYNC,		/* kvm_run only (KVM_SYNC_ARM64_EXT_GPRS) */
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

/* Whether the kernel syncs x0..x30 through kvm_run (mainline: no) */
static bool have_sync_regs(void)
{
	return kvm_check_cap(KVM_CAP_SYNC_REGS) & KVM_SYNC_ARM64_EXT_GPRS;
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
	case SYNC:
		x1 = run->s.regs.ext_gprs.regs[1];
		run->s.regs.ext_gprs.regs[0] = x1;
		run->s.regs.ext_gprs.regs[1] = run->s.regs.ext_gprs.regs[2];
		run->s.regs.ext_gprs.regs[2] = run->s.regs.ext_gprs.regs[3];
		run->s.regs.ext_gprs.regs[3] = x1;
		run->kvm_dirty_regs = KVM_SYNC_ARM64_EXT_GPRS;
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

/* Median cost of a forwarded call, kvm_run's registers synced out or not */
static double measure_synced(struct kvm_vcpu *vcpu, enum vmm_work work,
			     bool synced)
{
	double ns;

	vcpu->run->kvm_valid_regs = synced ? KVM_SYNC_ARM64_EXT_GPRS : 0;
	ns = measure_work(vcpu, SIP_FWD, HVC, work);
	vcpu->run->kvm_valid_regs = 0;
	return ns;
}

/*
 * The forms of a forwarded call. They alternate, run by run, so that
 * drift within the boot spreads over all of them alike.
 */
static void measure_forwarded(void)
{
	double classic[REPEATS], sync[REPEATS], floor_ns[REPEATS];
	double floor_sync[REPEATS];
	bool sync_regs = have_sync_regs();
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;
	int i;

	vm = create_vm(&vcpu);
	vm_smccc_filter_add(vm, SIP_FWD, 1, KVM_SMCCC_FILTER_FWD_TO_USER);

	/* Without sync regs (mainline), the classic forms only */
	for (i = 0; i < REPEATS; i++) {
		classic[i] = measure_synced(vcpu, CLASSIC, false);
		if (sync_regs) {
			sync[i] = measure_synced(vcpu, SYNC, true);
			floor_sync[i] = measure_synced(vcpu, FLOOR, true);
		}
		floor_ns[i] = measure_synced(vcpu, FLOOR, false);
	}
	report("fwd_classic", median(classic));
	if (sync_regs) {
		report("fwd_sync", median(sync));
		report("fwd_floor_sync", median(floor_sync));
	}
	report("fwd_floor", median(floor_ns));
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
