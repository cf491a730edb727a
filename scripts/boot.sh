#!/usr/bin/env bash
# Boot build/out/Image under QEMU (TCG, emulated EL2) with an initramfs,
# keep the serial console log, and record one result per TAP line.
# Usage: boot.sh [--show] MODE MANIFEST INITRAMFS
#   MODE: vhe | nvhe | protected (kvm-arm.mode); --show echoes the TAP.
#   OUT (environment) picks another kernel; CONSOLE_TAG names the console
#   log (build/logs/console-<tag>.log, default the mode).
# A QEMU that outlives the manifest's timeouts is killed and recorded as a
# failure; a test that never reported (crash, hang) is a failure too.
. "$(dirname "$0")/lib.sh"

show=
if [ "${1:-}" = --show ]; then
	show=1
	shift
fi
mode=$1
manifest=$2
initramfs=$3
console=$LOGS/console-${CONSOLE_TAG:-$mode}.log

kernel_cmdline() {
	# slub_debug=A,maple_node lets failslab target the maple tree's nodes
	# (smccc_filter_faults); it does nothing until failslab is armed.
	# A debug kernel under emulation can take longer than RCU's default
	# 21 s stall timeout for one piece of work; that is not a stall.
	local args="console=ttyAMA0 panic=-1 quiet harness.kvm=$mode"
	args+=" slub_debug=A,maple_node rcupdate.rcu_cpu_stall_timeout=300"
	[ "$mode" = vhe ] || args+=" kvm-arm.mode=$mode"
	echo "$args ${APPEND:-}"
}

# Boot margin plus every test's own timeout: the guest enforces those, so
# only a hung kernel or QEMU reaches this limit.
qemu_timeout() {
	awk '!/^[[:space:]]*#/ && NF >= 3 { t += $2 } END { print t + 120 }' "$manifest"
}

run_qemu() {
	timeout -k 5 "$(qemu_timeout)" qemu-system-aarch64 \
		-M virt,virtualization=on,gic-version=3 -cpu max -smp 2 -m "${GUEST_MEM:-512}" \
		-nographic -no-reboot -nic none \
		-kernel "$OUT/Image" -initrd "$initramfs" \
		-append "$(kernel_cmdline)" </dev/null >"$console" 2>&1
}

# Test names in manifest order, after the two checks init always runs.
planned_tests() {
	printf '%s\n' "kernel boots without reports" "kvm initialised"
	awk '!/^[[:space:]]*#/ && NF >= 3 { print $1 }' "$manifest"
}

# One "PASS|FAIL<TAB>name<TAB>reason" line per TAP result on the console.
tap_results() {
	tr -d '\r' <"$console" | sed -n \
		-e 's/^ok [0-9]* - \(.*\)$/PASS\t\1\t/p' \
		-e 's/^not ok [0-9]* - \(.*[^ ]\) *# *\(.*\)$/FAIL\t\1\t\2/p'
}

record_tap() {
	local verdict name why seen
	while IFS=$'\t' read -r verdict name why; do
		record "$verdict" "$mode: $name" "$why"
	done < <(tap_results)
	seen=$(tap_results | cut -f2)
	while read -r name; do
		grep -qxF "$name" <<<"$seen" ||
			record FAIL "$mode: $name" "no result: the guest stopped early"
	done < <(planned_tests)
}

main() {
	local status=0
	run_qemu || status=$?
	if [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; then
		record FAIL "$mode: boot" "QEMU killed after $(qemu_timeout) s (hang)"
	elif [ "$status" -ne 0 ]; then
		record FAIL "$mode: boot" "QEMU exited with $status"
	fi
	record_tap
	[ -z "$show" ] || tr -d '\r' <"$console" | sed -n '/^TAP version/,$p'
	return 0
}

main
