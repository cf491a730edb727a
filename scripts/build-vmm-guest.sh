#!/usr/bin/env bash
# Build what the VMM scenarios (guest/vmm.list) run inside the test
# kernel, next to Debian's QEMU (scripts/fetch-vmm.sh):
#   build/l2/out/Image               the nested guest's kernel: the patched
#                                    tree without the debug options
#                                    (kvm.config + vmm.config), which boots
#                                    in seconds where the test kernel takes
#                                    a minute
#   build/l2/out/initramfs.cpio.gz   its init, guest/l2-init.c
#   build/out/vmm/vmm-scenarios      the driver, guest/vmm-scenarios.c
. "$(dirname "$0")/lib.sh"

L2=$BUILD/l2

static_cc() {
	"${CROSS_COMPILE}gcc" -static -O2 -Wall -Wextra -Werror -o "$1" "$2"
}

main() {
	OBJ=$L2/obj OUT=$L2/out logged "$LOGS/build-l2-kernel.log" \
		"$TOP/scripts/build-kernel.sh" kvm.config vmm.config
	static_cc "$L2/out/init" "$TOP/guest/l2-init.c"
	printf '%s\n' "dir /dev 0755 0 0" "dir /proc 0755 0 0" "dir /sys 0755 0 0" \
		"nod /dev/console 0600 0 0 c 5 1" "file /init $L2/out/init 0755 0 0" \
		>"$L2/out/initramfs.list"
	"$L2/obj/usr/gen_init_cpio" "$L2/out/initramfs.list" | gzip -1 >"$L2/out/initramfs.cpio.gz"
	mkdir -p "$OUT/vmm"
	static_cc "$OUT/vmm/vmm-scenarios" "$TOP/guest/vmm-scenarios.c"
	note "nested guest: ${L2#"$TOP"/}/out/Image and initramfs; driver: ${OUT#"$TOP"/}/vmm/vmm-scenarios"
}

main
