#!/usr/bin/env bash
# Build mainline's kernel (linux-source-6.12, unmodified) with our test
# configuration, kernel-config/kvm.config + debug.config + vmm.config, out
# of its tree: the reference our own tests run on
# (build/mainline/kernel/out/Image).
# Usage: build-reference-kernel.sh [FRAGMENT...] (as build-kernel.sh);
# REFERENCE_DIR in the environment moves it (make bench builds one
# without the debug options).
. "$(dirname "$0")/lib.sh"

[ -f "$MAINLINE_SRC/.debian-version" ] || die "no $MAINLINE_PKG; run scripts/fetch-mainline.sh"
SRC=$MAINLINE_SRC OBJ=$REFERENCE_DIR/obj OUT=$REFERENCE_DIR/out \
	exec "$TOP/scripts/build-kernel.sh" "$@"
