// SPDX-License-Identifier: GPL-2.0
/*
 * smccc-demo: a small VMM that owns part of its guest's firmware interface.
 *
 * It creates a VM with two vCPUs running the guest program of guest.S and
 * installs an SMCCC filter: PSCI and the VMM's own service (demo.h) are
 * forwarded to userspace and implemented here, TRNG is denied by KVM, and
 * everything else stays with KVM. It prints one line per call it handles
 * and exits 1 if the guest, or KVM, does anything the guest program does
 * not lead it to expect.
 *
 * Only documented UAPI is used: KVM_SET_DEVICE_ATTR on the VM fd (group
 * KVM_ARM_VM_SMCCC_CTRL), KVM_EXIT_HYPERCALL and KVM_GET/SET_ONE_REG.
 * Where the kernel offers KVM_CAP_SYNC_REGS with KVM_SYNC_ARM64_EXT_GPRS
 * (an extension of this kernel; mainline answers the probe with 0),
 * forwarded calls are read from and answered in kvm_run instead.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <linux/kvm.h>
#include <linux/psci.h>

#include "demo.h"

#define NR_VCPUS	2
#define WATCHDOG_S	60	/* a guest that hangs kills the demo */

#define TRNG_FIRST	0x84000050	/* VERSION, FEATURES, GET_UUID, RND32 */
#define TRNG_RND64	0xc4000053
#define SMCCC_NOT_SUPPORTED	((uint64_t)-1)

extern const char guest_image_start[], guest_image_end[];

struct vcpu {
	int index;
	int fd;
	struct kvm_run *run;
	pthread_t thread;
	/* PSCI power state and CPU_ON arguments, under vm.lock */
	bool on;
	bool on_requested;
	uint64_t entry;
	uint64_t context;
};

/* What a handler tells the vCPU: the value for x0, or that it stops. */
struct reply {
	uint64_t x0;
	bool stop;
	const char *note;
};

struct function {
	uint32_t id;
	const char *name;
	int nargs;
	int expected;		/* calls the guest program makes; -1: one or more */
	struct reply (*handle)(struct vcpu *vcpu, const uint64_t *args);
	int seen;
};

static struct {
	int kvm_fd;
	int fd;
	size_t run_size;
	struct vcpu vcpus[NR_VCPUS];
	pthread_mutex_t lock;
	pthread_cond_t changed;
	bool system_off;
	int failed_step;	/* reported by the guest with DEMO_SVC_FAIL */
	int problems;		/* what the VMM itself saw go wrong */
} vm = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.changed = PTHREAD_COND_INITIALIZER,
};

static void vreport(const char *fmt, va_list ap, int err)
{
	fprintf(stderr, "smccc-demo: ");
	vfprintf(stderr, fmt, ap);
	if (err)
		fprintf(stderr, ": %s", strerror(err));
	fprintf(stderr, "\n");
}

/* A system call failed (errno says why): stop */
static void die(const char *fmt, ...)
{
	int err = errno;
	va_list ap;

	va_start(ap, fmt);
	vreport(fmt, ap, err);
	va_end(ap);
	exit(1);
}

/* Something went differently from the plan; reported at the end. */
static void problem(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	printf("PROBLEM: ");
	vprintf(fmt, ap);
	printf("\n");
	va_end(ap);
	vm.problems++;
}

static uint64_t xreg_id(int n)
{
	return KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM_CORE |
	       KVM_REG_ARM_CORE_REG(regs.regs[n]);
}

static const uint64_t pc_reg_id = KVM_REG_ARM64 | KVM_REG_SIZE_U64 |
				  KVM_REG_ARM_CORE | KVM_REG_ARM_CORE_REG(regs.pc);

static uint64_t get_reg(struct vcpu *vcpu, uint64_t id)
{
	uint64_t val;
	struct kvm_one_reg reg = { .id = id, .addr = (uint64_t)&val };

	if (ioctl(vcpu->fd, KVM_GET_ONE_REG, &reg) < 0)
		die("vcpu%d: KVM_GET_ONE_REG %#lx", vcpu->index, id);
	return val;
}

static void set_reg(struct vcpu *vcpu, uint64_t id, uint64_t val)
{
	struct kvm_one_reg reg = { .id = id, .addr = (uint64_t)&val };

	if (ioctl(vcpu->fd, KVM_SET_ONE_REG, &reg) < 0)
		die("vcpu%d: KVM_SET_ONE_REG %#lx", vcpu->index, id);
}

static struct vcpu *vcpu_by_mpidr(uint64_t mpidr)
{
	/* KVM gives vCPU n the MPIDR affinity n for the first 16 vCPUs. */
	return mpidr < NR_VCPUS ? &vm.vcpus[mpidr] : NULL;
}

/* PSCI, as far as the guest program uses it */

static struct reply psci_version(struct vcpu *vcpu, const uint64_t *args)
{
	return (struct reply) { .x0 = DEMO_PSCI_VERSION, .note = "PSCI 1.1" };
}

static bool psci_implemented(uint32_t func_id);

static struct reply psci_features(struct vcpu *vcpu, const uint64_t *args)
{
	if (psci_implemented(args[0]))
		return (struct reply) { .x0 = PSCI_RET_SUCCESS, .note = "implemented" };
	return (struct reply) { .x0 = PSCI_RET_NOT_SUPPORTED, .note = "not implemented" };
}

static struct reply psci_cpu_on(struct vcpu *vcpu, const uint64_t *args)
{
	struct vcpu *target = vcpu_by_mpidr(args[0]);

	if (!target)
		return (struct reply) { .x0 = PSCI_RET_INVALID_PARAMS, .note = "no such CPU" };
	if (target->on || target->on_requested)
		return (struct reply) { .x0 = PSCI_RET_ALREADY_ON, .note = "already on" };

	target->entry = args[1];
	target->context = args[2];
	target->on_requested = true;
	pthread_cond_broadcast(&vm.changed);
	return (struct reply) { .x0 = PSCI_RET_SUCCESS, .note = "starting it" };
}

static struct reply psci_cpu_off(struct vcpu *vcpu, const uint64_t *args)
{
	vcpu->on = false;
	pthread_cond_broadcast(&vm.changed);
	return (struct reply) { .stop = true, .note = "vCPU off" };
}

static struct reply psci_affinity_info(struct vcpu *vcpu, const uint64_t *args)
{
	struct vcpu *target = vcpu_by_mpidr(args[0]);

	if (!target || args[1] != 0)
		return (struct reply) { .x0 = PSCI_RET_INVALID_PARAMS };
	if (target->on)
		return (struct reply) { .x0 = PSCI_0_2_AFFINITY_LEVEL_ON, .note = "on" };
	if (target->on_requested)
		return (struct reply) { .x0 = PSCI_0_2_AFFINITY_LEVEL_ON_PENDING,
					.note = "on pending" };
	return (struct reply) { .x0 = PSCI_0_2_AFFINITY_LEVEL_OFF, .note = "off" };
}

static struct reply psci_system_off(struct vcpu *vcpu, const uint64_t *args)
{
	int i;

	for (i = 0; i < NR_VCPUS; i++)
		if (&vm.vcpus[i] != vcpu && vm.vcpus[i].on)
			problem("SYSTEM_OFF while vcpu%d is on", i);
	vm.system_off = true;
	pthread_cond_broadcast(&vm.changed);
	return (struct reply) { .stop = true, .note = "system off" };
}

/* The VMM's own service */

static struct reply svc_whoami(struct vcpu *vcpu, const uint64_t *args)
{
	return (struct reply) { .x0 = vcpu->index };
}

static struct reply svc_add(struct vcpu *vcpu, const uint64_t *args)
{
	return (struct reply) { .x0 = args[0] + args[1] };
}

static struct reply svc_fail(struct vcpu *vcpu, const uint64_t *args)
{
	vm.failed_step = args[0];
	return (struct reply) { .stop = true, .note = "the guest reports a failed check" };
}

#define FUNCTION(_id, _name, _nargs, _expected, _handle)		\
	{ .id = _id, .name = _name, .nargs = _nargs,			\
	  .expected = _expected, .handle = _handle }

static struct function functions[] = {
	FUNCTION(PSCI_0_2_FN_PSCI_VERSION, "PSCI_VERSION", 0, 1, psci_version),
	FUNCTION(PSCI_1_0_FN_PSCI_FEATURES, "PSCI_FEATURES", 1, 1, psci_features),
	FUNCTION(PSCI_0_2_FN64_CPU_ON, "CPU_ON", 3, 1, psci_cpu_on),
	FUNCTION(PSCI_0_2_FN_CPU_OFF, "CPU_OFF", 0, 1, psci_cpu_off),
	FUNCTION(PSCI_0_2_FN64_AFFINITY_INFO, "AFFINITY_INFO", 2, -1,
		 psci_affinity_info),
	FUNCTION(PSCI_0_2_FN_SYSTEM_OFF, "SYSTEM_OFF", 0, 1, psci_system_off),
	FUNCTION(DEMO_SVC_WHOAMI, "DEMO_WHOAMI", 0, 2, svc_whoami),
	FUNCTION(DEMO_SVC_ADD, "DEMO_ADD", 2, 1, svc_add),
	FUNCTION(DEMO_SVC_FAIL, "DEMO_FAIL", 1, 0, svc_fail),
};

#define NR_FUNCTIONS	(sizeof(functions) / sizeof(functions[0]))

static struct function *find_function(uint32_t func_id)
{
	size_t i;

	for (i = 0; i < NR_FUNCTIONS; i++)
		if (functions[i].id == func_id)
			return &functions[i];
	return NULL;
}

/* PSCI functions are owned by the standard secure service (owner 4). */
static bool psci_implemented(uint32_t func_id)
{
	return find_function(func_id) && ((func_id >> 24) & 0x3f) == 4;
}

static void print_call(struct vcpu *vcpu, bool smc, const char *name,
		       const uint64_t *args, int nargs, const struct reply *reply)
{
	char text[160];
	int i, len;

	len = snprintf(text, sizeof(text), "vcpu%d %s %s(", vcpu->index,
		       smc ? "smc" : "hvc", name);
	for (i = 0; i < nargs; i++)
		len += snprintf(text + len, sizeof(text) - len, "%s%#lx",
				i ? ", " : "", args[i]);
	if (reply->stop)
		printf("%s) -> (%s)\n", text, reply->note);
	else
		printf("%s) -> %#lx%s%s%s\n", text, reply->x0,
		       reply->note ? " (" : "", reply->note ? reply->note : "",
		       reply->note ? ")" : "");
	fflush(stdout);
}

/*
 * The kernel syncs the general-purpose registers through kvm_run: forwarded
 * calls bring their arguments there and take the answer from there, with
 * no register ioctl.
 */
static bool sync_regs;

/* A forwarded call: answer it in x0, or stop the vCPU. */
static bool handle_hypercall(struct vcpu *vcpu)
{
	uint32_t func_id = vcpu->run->hypercall.nr;
	uint64_t flags = vcpu->run->hypercall.flags;
	bool smc = flags & KVM_HYPERCALL_EXIT_SMC;
	struct reply reply = { .x0 = SMCCC_NOT_SUPPORTED };
	uint64_t args[3];
	struct function *fn;
	int i;

	for (i = 0; i < 3; i++)
		args[i] = sync_regs ? vcpu->run->s.regs.ext_gprs.regs[i + 1] :
				      get_reg(vcpu, xreg_id(i + 1));

	pthread_mutex_lock(&vm.lock);
	if (flags & ~(uint64_t)KVM_HYPERCALL_EXIT_SMC)
		problem("vcpu%d: unexpected exit flags %#lx", vcpu->index, flags);
	fn = find_function(func_id);
	if (fn) {
		reply = fn->handle(vcpu, args);
		fn->seen++;
		print_call(vcpu, smc, fn->name, args, fn->nargs, &reply);
	} else {
		problem("vcpu%d: forwarded call %#x the VMM did not ask for",
			vcpu->index, func_id);
	}
	pthread_mutex_unlock(&vm.lock);

	if (reply.stop)
		return false;
	if (sync_regs) {
		/* x0 on the next KVM_RUN, with the other registers unchanged */
		vcpu->run->s.regs.ext_gprs.regs[0] = reply.x0;
		vcpu->run->kvm_dirty_regs |= KVM_SYNC_ARM64_EXT_GPRS;
	} else {
		set_reg(vcpu, xreg_id(0), reply.x0);
	}
	return true;
}

static void run_vcpu(struct vcpu *vcpu)
{
	for (;;) {
		if (ioctl(vcpu->fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR)
				continue;
			die("vcpu%d: KVM_RUN", vcpu->index);
		}
		if (vcpu->run->exit_reason != KVM_EXIT_HYPERCALL) {
			pthread_mutex_lock(&vm.lock);
			problem("vcpu%d: unexpected exit reason %u", vcpu->index,
				vcpu->run->exit_reason);
			pthread_mutex_unlock(&vm.lock);
			return;
		}
		if (!handle_hypercall(vcpu))
			return;
	}
}

/* A secondary vCPU waits for CPU_ON, then starts where it was told. */
static bool wait_for_cpu_on(struct vcpu *vcpu)
{
	struct kvm_mp_state runnable = { .mp_state = KVM_MP_STATE_RUNNABLE };
	bool start;

	pthread_mutex_lock(&vm.lock);
	while (!vcpu->on_requested && !vm.system_off && !vm.failed_step)
		pthread_cond_wait(&vm.changed, &vm.lock);
	start = vcpu->on_requested;
	if (start) {
		set_reg(vcpu, pc_reg_id, vcpu->entry);
		set_reg(vcpu, xreg_id(0), vcpu->context);
		if (ioctl(vcpu->fd, KVM_SET_MP_STATE, &runnable) < 0)
			die("vcpu%d: KVM_SET_MP_STATE", vcpu->index);
		vcpu->on_requested = false;
		vcpu->on = true;
	}
	pthread_mutex_unlock(&vm.lock);
	return start;
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *vcpu = arg;

	if (vcpu->index == 0 || wait_for_cpu_on(vcpu))
		run_vcpu(vcpu);

	/* Whatever ended this vCPU, no other one waits for it any longer. */
	pthread_mutex_lock(&vm.lock);
	vcpu->on = false;
	if (vcpu->index == 0)
		vm.system_off = true;
	pthread_cond_broadcast(&vm.changed);
	pthread_mutex_unlock(&vm.lock);
	return NULL;
}

static void create_vm(void)
{
	size_t image_size = guest_image_end - guest_image_start;
	struct kvm_userspace_memory_region region = {
		.slot = 0,
		.guest_phys_addr = GUEST_RAM_BASE,
		.memory_size = GUEST_RAM_SIZE,
	};
	void *ram;

	vm.kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (vm.kvm_fd < 0)
		die("open /dev/kvm");
	vm.fd = ioctl(vm.kvm_fd, KVM_CREATE_VM, 0);
	if (vm.fd < 0)
		die("KVM_CREATE_VM");
	vm.run_size = ioctl(vm.kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);

	ram = mmap(NULL, GUEST_RAM_SIZE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (ram == MAP_FAILED)
		die("mmap guest RAM");
	memcpy(ram, guest_image_start, image_size);
	region.userspace_addr = (uint64_t)ram;
	if (ioctl(vm.fd, KVM_SET_USER_MEMORY_REGION, &region) < 0)
		die("KVM_SET_USER_MEMORY_REGION");
	printf("VM: %d vCPUs, %zu-byte guest at %#x\n", NR_VCPUS, image_size,
	       GUEST_RAM_BASE);
}

static void add_filter_range(uint32_t base, uint32_t nr, uint8_t action,
			     const char *what)
{
	static const char *const action_name[] = {
		[KVM_SMCCC_FILTER_HANDLE] = "handle in KVM",
		[KVM_SMCCC_FILTER_DENY] = "deny",
		[KVM_SMCCC_FILTER_FWD_TO_USER] = "forward to the VMM",
	};
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

	if (ioctl(vm.fd, KVM_SET_DEVICE_ATTR, &attr) < 0)
		die("filter range %#x+%u", base, nr);
	printf("filter: %#010x..%#010x %-13s -> %s\n", base, base + nr - 1,
	       what, action_name[action]);
}

/*
 * This kernel's extension: probe for it, and use it when it is there. A
 * mainline kernel answers the probe with 0, and the VMM then reads and
 * writes the registers as it would anyway.
 */
static void probe_sync_regs(void)
{
	int sets = ioctl(vm.kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_SYNC_REGS);

	if (sets < 0 || !(sets & KVM_SYNC_ARM64_EXT_GPRS)) {
		printf("registers: KVM_GET/SET_ONE_REG (no KVM_SYNC_ARM64_EXT_GPRS, as on mainline)\n");
		return;
	}
	sync_regs = true;
	printf("registers: KVM_SYNC_ARM64_EXT_GPRS: calls complete through kvm_run\n");
}

static void install_filter(void)
{
	struct kvm_device_attr probe = {
		.group = KVM_ARM_VM_SMCCC_CTRL,
		.attr = KVM_ARM_VM_SMCCC_FILTER,
	};

	if (ioctl(vm.fd, KVM_HAS_DEVICE_ATTR, &probe) < 0)
		die("this kernel has no SMCCC filter: KVM_HAS_DEVICE_ATTR");

	add_filter_range(PSCI_0_2_FN_BASE, 0x20, KVM_SMCCC_FILTER_FWD_TO_USER,
			 "PSCI (SMC32)");
	add_filter_range(PSCI_0_2_FN64_BASE, 0x20, KVM_SMCCC_FILTER_FWD_TO_USER,
			 "PSCI (SMC64)");
	add_filter_range(DEMO_SVC_BASE, DEMO_SVC_COUNT,
			 KVM_SMCCC_FILTER_FWD_TO_USER, "demo service");
	add_filter_range(TRNG_FIRST, 4, KVM_SMCCC_FILTER_DENY, "TRNG");
	add_filter_range(TRNG_RND64, 1, KVM_SMCCC_FILTER_DENY, "TRNG_RND64");
}

static void create_vcpu(struct vcpu *vcpu, int index)
{
	struct kvm_vcpu_init init;

	vcpu->index = index;
	vcpu->fd = ioctl(vm.fd, KVM_CREATE_VCPU, index);
	if (vcpu->fd < 0)
		die("KVM_CREATE_VCPU %d", index);
	vcpu->run = mmap(NULL, vm.run_size, PROT_READ | PROT_WRITE, MAP_SHARED,
			 vcpu->fd, 0);
	if (vcpu->run == MAP_FAILED)
		die("mmap kvm_run");

	if (ioctl(vm.fd, KVM_ARM_PREFERRED_TARGET, &init) < 0)
		die("KVM_ARM_PREFERRED_TARGET");
	init.features[0] |= 1 << KVM_ARM_VCPU_PSCI_0_2;
	if (index)	/* secondaries wait for CPU_ON */
		init.features[0] |= 1 << KVM_ARM_VCPU_POWER_OFF;
	if (ioctl(vcpu->fd, KVM_ARM_VCPU_INIT, &init) < 0)
		die("KVM_ARM_VCPU_INIT %d", index);

	if (sync_regs)
		vcpu->run->kvm_valid_regs = KVM_SYNC_ARM64_EXT_GPRS;
	vcpu->on = !index;
	if (!index)
		set_reg(vcpu, pc_reg_id, GUEST_RAM_BASE);
}

/* Did every call the guest program makes happen, as often as planned? */
static void check_calls(void)
{
	size_t i;

	if (vm.failed_step)
		problem("the guest's check at step %d failed (guest.S)", vm.failed_step);
	if (!vm.system_off)
		problem("the guest never powered off");
	for (i = 0; i < NR_FUNCTIONS; i++) {
		const struct function *fn = &functions[i];

		if (fn->expected >= 0 ? fn->seen != fn->expected : !fn->seen)
			problem("%s: %d calls, expected %d", fn->name, fn->seen,
				fn->expected);
	}
}

static void watchdog(int sig)
{
	static const char msg[] = "smccc-demo: FAILED: the guest hung (watchdog)\n";

	write(STDOUT_FILENO, msg, sizeof(msg) - 1);
	_exit(1);
}

int main(void)
{
	int i;

	signal(SIGALRM, watchdog);
	alarm(WATCHDOG_S);
	setvbuf(stdout, NULL, _IOLBF, 0);
	create_vm();
	install_filter();
	probe_sync_regs();
	for (i = 0; i < NR_VCPUS; i++)
		create_vcpu(&vm.vcpus[i], i);

	for (i = 0; i < NR_VCPUS; i++) {
		errno = pthread_create(&vm.vcpus[i].thread, NULL, vcpu_thread,
				       &vm.vcpus[i]);
		if (errno)
			die("pthread_create");
	}
	for (i = 0; i < NR_VCPUS; i++) {
		errno = pthread_join(vm.vcpus[i].thread, NULL);
		if (errno)
			die("pthread_join");
	}

	check_calls();
	if (vm.problems) {
		printf("smccc-demo: FAILED (%d problems)\n", vm.problems);
		return 1;
	}
	printf("smccc-demo: the guest ran as planned\n");
	return 0;
}
