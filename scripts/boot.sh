#!/usr/bin/env bash
# Boot build/out/Image under QEMU (TCG, emulated EL2) with an initramfs,
# keep the serial console log, and print the results of the boot
# (scripts/parse-console.sh; "result" lines, see record in lib.sh).
# Usage: boot.sh [--show] MODE MANIFEST INITRAMFS
#   MODE: a KVM mode of scripts/modes.tsv; --show echoes the TAP.
#   Environment: OUT picks another kernel, and KERNEL names it for the
#   expectations (series, the default, core or mainline); LABEL names the boot
#   in the results (default the mode); CONSOLE_TAG names the console log
#   (build/logs/console-<tag>.log, default the mode); QEMU_ARGS adds QEMU
#   arguments (make bench counts instructions with -icount).
# A QEMU that outlives the manifest's timeouts is killed and recorded as a
# failure; a test that never reported (crash, hang) is a failure too, and
# so is a boot where KVM did not print the mode's banner. Exits 1 when any
# result of this boot failed.
. "$(dirname "$0")/lib.sh"

show=
if [ "${1:-}" = --show ]; then
	show=1
	shift
fi
[ $# -eq 3 ] || die "usage: boot.sh [--show] MODE MANIFEST INITRAMFS"
mode=$1
manifest=$2
initramfs=$3
label=${LABEL:-$mode}
console=$LOGS/console-${CONSOLE_TAG:-$mode}.log
mode_args=$(mode_field "$mode" 2)
failures=0

kernel_cmdline() {
	# slub_debug=A,maple_node lets failslab target the maple tree's nodes
	# (smccc_filter_faults); it does nothing until failslab is armed.
	# A debug kernel under emulation can take longer than RCU's default
	# 21 s stall timeout for one piece of work; that is not a stall.
	# harness_mode: init replaces @mode@ in the tests' arguments with it
	local args="console=ttyAMA0 panic=-1 quiet harness_mode=$mode"
	args+=" slub_debug=A,maple_node rcupdate.rcu_cpu_stall_timeout=300"
	echo "$args $mode_args ${APPEND:-}"
}

# Boot margin plus every test's own timeout: the guest enforces those, so
# only a hung kernel or QEMU reaches this limit.
qemu_timeout() {
	manifest_entries "$manifest" | awk -F'\t' '{ t += $2 } END { print t + 120 }'
}

# The machine every boot gets. pauth-impdef: pointer authentication with
# QEMU's own algorithm instead of QARMA5, whose emulation took most of the
# time of a debug kernel (its every function signs and authenticates its
# return address): a boot of guest/test.list took 65 s instead of 302 s.
# The guest's instructions are the same; only ID_AA64ISAR1_EL1 says API
# instead of APA, and KVM hides both from vCPUs without pointer
# authentication, as the selftests' are.
QEMU_MACHINE=(-M virt,virtualization=on,gic-version=3 -cpu max,pauth-impdef=on -smp 2)

run_qemu() {
	local extra=()
	read -ra extra <<<"${QEMU_ARGS:-}"
	timeout -k 5 "$(qemu_timeout)" qemu-system-aarch64 \
		"${QEMU_MACHINE[@]}" -m "${GUEST_MEM:-512}" \
		-nographic -no-reboot -nic none "${extra[@]}" \
		-kernel "$OUT/Image" -initrd "$initramfs" \
		-append "$(kernel_cmdline)" </dev/null >"$console" 2>&1
}

# record, counting this boot's failures
boot_record() {
	[ "$1" = FAIL ] && failures=$((failures + 1))
	record "$@"
}

main() {
	local status=0 verdict name why results
	run_qemu || status=$?
	if [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; then
		boot_record FAIL "$label: boot" "QEMU killed after $(qemu_timeout) s (hang)"
	elif [ "$status" -ne 0 ]; then
		boot_record FAIL "$label: boot" "QEMU exited with $status"
	fi
	if results=$(LABEL=$label "$TOP/scripts/parse-console.sh" "$mode" "$manifest" \
			"$console" "${KERNEL:-series}" | results_of -); then
		while IFS=$'\t' read -r verdict name why; do
			boot_record "$verdict" "$name" "$why"
		done <<<"$results"
	else
		boot_record FAIL "$label: results" "the console could not be parsed"
	fi
	[ -z "$show" ] || tr -d '\r' <"$console" | sed -n '/^TAP version/,$p'
	[ "$failures" -eq 0 ]
}

main
