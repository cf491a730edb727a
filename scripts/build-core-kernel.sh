#!/usr/bin/env bash
# Build the core series (every topic of patches/topics but the last) with
# the test configuration, into build/core/out: what a distro that leaves
# the extensions out carries, booted with our tests by the "core" step.
# Its release ends in "-core" (uname -r).
. "$(dirname "$0")/lib.sh"

core_worktree
SRC=$CORE_SRC OBJ=$CORE_KERNEL/obj OUT=$CORE_KERNEL/out LOCALVERSION=-core \
	exec "$TOP/scripts/build-kernel.sh"
