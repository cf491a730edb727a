/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the demo guest and the demo VMM agree on; included by guest.S and
 * vmm.c, so only preprocessor definitions.
 */
#ifndef DEMO_H
#define DEMO_H

/* Guest physical layout: the image is copied to GUEST_RAM_BASE. */
#define GUEST_RAM_BASE		0x40000000
#define GUEST_RAM_SIZE		0x100000

/*
 * The VMM's own service, in the OEM service range (owner 3), which KVM
 * does not implement: the filter forwards it to the VMM.
 */
#define DEMO_SVC_BASE		0x83000000
#define DEMO_SVC_WHOAMI		(DEMO_SVC_BASE + 0)	/* -> index of the calling vCPU */
#define DEMO_SVC_ADD		(DEMO_SVC_BASE + 1)	/* (a, b) -> a + b */
#define DEMO_SVC_FAIL		(DEMO_SVC_BASE + 2)	/* (step): the guest saw something wrong */
#define DEMO_SVC_COUNT		3

/* The context ID the primary hands to the secondary through CPU_ON */
#define DEMO_CPU_ON_CONTEXT	0x5ec0
#define DEMO_PSCI_VERSION	0x10001	/* what the VMM implements: PSCI 1.1 */

#endif
