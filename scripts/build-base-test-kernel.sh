#!/usr/bin/env bash
# Build the unpatched base kernel with the test configuration (the same
# fragments as the test kernel), into build/base-test/out/Image: the
# stock kernel a guest migrates from and back to in the vmm-migrate step.
# Its release ends in "-stock" (uname -r), so that a console log says
# which of the two kernels it came from.
. "$(dirname "$0")/lib.sh"

base_worktree
SRC=$BASE_SRC OBJ=$BASE_TEST_KERNEL/obj OUT=$BASE_TEST_KERNEL/out LOCALVERSION=-stock \
	exec "$TOP/scripts/build-kernel.sh"
