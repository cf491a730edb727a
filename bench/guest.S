/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The benchmark guest: make the same SMCCC call x19 times, then write to
 * an unmapped address (x22) so that KVM_RUN returns with KVM_EXIT_MMIO.
 * x20 is the function ID, x21 the conduit: 0 HVC, 1 SMC, 2 no call at all
 * (the reference loop that measures how fast the emulated CPU runs).
 * Position-independent; the host sets the registers and the PC each run.
 */
	.section .rodata.bench_guest, "a"
	.balign	8
	.global	bench_guest_start, bench_guest_end

bench_guest_start:
1:	cbz	x19, 4f
	mov	w0, w20
	cmp	x21, #1
	b.eq	2f
	b.gt	3f
	hvc	#0
	b	3f
2:	smc	#0
3:	sub	x19, x19, #1
	b	1b
4:	str	xzr, [x22]
	b	4b
bench_guest_end:
