/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The demo guest: position-independent A64 code that the VMM copies to
 * GUEST_RAM_BASE and runs at EL1 with the MMU off. vCPU 0 starts at
 * guest_image_start; vCPU 1 starts at secondary_entry once vCPU 0 turns it
 * on with PSCI CPU_ON. A check that fails reports its step number with
 * DEMO_SVC_FAIL and stops the vCPU.
 */
#include <linux/psci.h>
#include "demo.h"

#define SMCCC_ARCH_FEATURES	0x80000001
#define TRNG_VERSION		0x84000050
#define NOT_SUPPORTED		-1

/* Load a 32-bit constant without a literal pool. */
.macro movl reg, imm
	movz	\reg, #((\imm) & 0xffff)
	movk	\reg, #(((\imm) >> 16) & 0xffff), lsl #16
.endm

/* Stop with DEMO_SVC_FAIL(step) unless x0 == expected. */
.macro expect_x0 expected, step
	movl	w9, \expected
	cmp	x0, x9
	mov	x1, #\step
	b.ne	fail
.endm

	.section .rodata.demo_guest, "a"
	.balign	8
	.global	guest_image_start, guest_image_end

guest_image_start:
	/* Step 1: PSCI_VERSION, answered by the VMM */
	movl	w0, PSCI_0_2_FN_PSCI_VERSION
	hvc	#0
	expect_x0 DEMO_PSCI_VERSION, 1

	/* Step 2: PSCI_FEATURES(CPU_ON), answered by the VMM */
	movl	w0, PSCI_1_0_FN_PSCI_FEATURES
	movl	w1, PSCI_0_2_FN64_CPU_ON
	hvc	#0
	expect_x0 PSCI_RET_SUCCESS, 2

	/* Step 3: TRNG is denied by KVM: absent, over SMC as over HVC */
	movl	w0, TRNG_VERSION
	smc	#0
	mov	x9, #NOT_SUPPORTED
	cmp	x0, x9
	mov	x1, #3
	b.ne	fail

	/* Step 4: and discovery does not advertise it */
	movl	w0, SMCCC_ARCH_FEATURES
	movl	w1, TRNG_VERSION
	hvc	#0
	mov	x9, #NOT_SUPPORTED
	cmp	x0, x9
	mov	x1, #4
	b.ne	fail

	/* Step 5: turn on vCPU 1 (MPIDR 1) at secondary_entry, over SMC */
	movl	w0, PSCI_0_2_FN64_CPU_ON
	mov	x1, #1
	adr	x2, secondary_entry
	mov	x3, #DEMO_CPU_ON_CONTEXT
	smc	#0
	expect_x0 PSCI_RET_SUCCESS, 5

	/* Step 6: the VMM's own service */
	movl	w0, DEMO_SVC_WHOAMI
	hvc	#0
	expect_x0 0, 6
	movl	w0, DEMO_SVC_ADD
	mov	x1, #20
	mov	x2, #22
	hvc	#0
	expect_x0 42, 7

	/* Step 8: wait until vCPU 1 is done, then until it is off */
	adr	x5, secondary_done
1:	ldr	w6, [x5]
	cbz	w6, 1b
2:	movl	w0, PSCI_0_2_FN64_AFFINITY_INFO
	mov	x1, #1
	mov	x2, #0
	hvc	#0
	cmp	x0, #PSCI_0_2_AFFINITY_LEVEL_OFF
	b.ne	2b

	/* Step 9: power the system off; this does not return */
	movl	w0, PSCI_0_2_FN_SYSTEM_OFF
	hvc	#0
	mov	x1, #9
	b	fail

secondary_entry:
	/* Step 10: CPU_ON passed the context ID in x0 */
	mov	x9, #DEMO_CPU_ON_CONTEXT
	cmp	x0, x9
	mov	x1, #10
	b.ne	fail

	/* Step 11: the VMM's own service, over SMC this time */
	movl	w0, DEMO_SVC_WHOAMI
	smc	#0
	expect_x0 1, 11

	/* Step 12: tell vCPU 0, then turn this vCPU off (no return) */
	adr	x5, secondary_done
	mov	w6, #1
	str	w6, [x5]
	movl	w0, PSCI_0_2_FN_CPU_OFF
	hvc	#0
	mov	x1, #12
	b	fail

fail:	/* x1 holds the step that went wrong */
	movl	w0, DEMO_SVC_FAIL
	hvc	#0
	b	.

	.balign	4
secondary_done:
	.word	0
guest_image_end:
