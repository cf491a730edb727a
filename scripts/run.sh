#!/usr/bin/env bash
# The main job: make sure the patched kernel is built, boot it with KVM in
# VHE mode and run what guest/run.list names (the demo VMM of demo/),
# showing the guest's report.
. "$(dirname "$0")/lib.sh"

RESULTS=$LOGS/run-results.tsv
export RESULTS
: >"$RESULTS"

say() {
	printf '==> %s\n' "$*"
}

main() {
	local s=$TOP/scripts initramfs=$OUT/run-initramfs.cpio.gz
	say "checking packages";		"$s/deps.sh"
	say "applying the series";		logged "$LOGS/apply-series.log" "$s/apply.sh"
	say "building the kernel (build/out/Image)"
	logged "$LOGS/build-kernel.log" "$s/build-kernel.sh"
	say "building the demo VMM (demo/)";	logged "$LOGS/build-demo.log" "$s/build-demo.sh"
	logged "$LOGS/initramfs.log" "$s/mkinitramfs.sh" "$TOP/guest/run.list" "$initramfs"
	say "booting under QEMU with EL2, KVM in VHE mode"
	"$s/boot.sh" --show vhe "$TOP/guest/run.list" "$initramfs" | sed 's/^# //; s/^/    /'
	if grep -q '^FAIL' "$RESULTS"; then
		say "FAILED: $(grep -c '^FAIL' "$RESULTS") check(s); console log: build/logs/console-vhe.log"
		exit 1
	fi
	say "all $(wc -l <"$RESULTS") checks passed"
}

main
