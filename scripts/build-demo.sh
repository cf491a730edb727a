#!/usr/bin/env bash
# Build the demo VMM (demo/vmm.c) and its guest (demo/guest.S), statically,
# against the UAPI headers of the patched kernel: build/out/demo/smccc-demo.
. "$(dirname "$0")/lib.sh"

[ -d "$OUT/usr/include" ] || die "no UAPI headers; run scripts/build-kernel.sh first"
mkdir -p "$OUT/demo"
rm -f "$OUT/demo/smccc-demo"	# never boot the demo of an earlier build
"${CROSS_COMPILE}gcc" -static -O2 -Wall -Wextra -Werror -Wno-unused-parameter \
	-isystem "$OUT/usr/include" -I "$TOP/demo" \
	-o "$OUT/demo/smccc-demo" "$TOP/demo/vmm.c" "$TOP/demo/guest.S" -pthread
