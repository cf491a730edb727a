#!/usr/bin/env bash
# make record-base-regs: record, once, the registers a VMM saves from a vCPU
# of the unpatched base kernel under this QEMU's -cpu max, as test data for
# the restore test of guest/test.list (restore_from_base). Then check the
# data on the base itself: the base must restore what it saved, or the test
# would hold the patched kernel to more than the base can do.
#   1. the base kernel (kvm.config), the patched tree's selftests
#   2. boot the base: restore_regs -s - prints the registers, saved to
#      guest/data/<file of the test>
#   3. boot the base again with the test's own manifest line
# Commit the data file after reading its diff.
. "$(dirname "$0")/lib.sh"

WORK=$BUILD/record-base-regs
TEST=restore_from_base

# The test's manifest line, and the /data/ file it restores
test_line() {
	grep -E "^$TEST[[:space:]]" "$TOP/guest/test.list" ||
		die "guest/test.list has no test $TEST"
}

data_file() {
	manifest_entries <(test_line) | cut -f5 | tr ' ' '\n' | sed -n 's|^/data/||p'
}

# boot_base NAME MANIFEST_LINE: boot the base kernel with one test; its
# console is build/logs/console-record-NAME.log
boot_base() {
	local name=$1 manifest=$WORK/$1.list results=$WORK/$1.tsv
	printf '%s\n' "$2" >"$manifest"
	"$TOP/scripts/mkinitramfs.sh" "$manifest" "$WORK/$name.cpio.gz"
	: >"$results"
	OUT=$BASE_KERNEL/out CONSOLE_TAG=record-$name RESULTS=$results \
		"$TOP/scripts/boot.sh" vhe "$manifest" "$WORK/$name.cpio.gz" || true
	if grep -q '^FAIL' "$results"; then
		cut -f2,3 "$results" | sed 's/^/  /' >&2
		die "$name failed on the base kernel (build/logs/console-record-$name.log)"
	fi
}

# The lines restore_regs -s - printed, from the TAP report of test "save"
saved_lines() {
	tr -d '\r' <"$LOGS/console-record-save.log" |
		sed -n '/^ok [0-9]* - save$/,/^\(not \)\{0,1\}ok /p' |
		sed -n 's/^# //p' | grep -E '^(# restore_regs|# [a-z]+: not on this host|config |[0-9a-f]{16} )'
}

header() {
	echo "# Registers of a vCPU of the unpatched base ($BASE_PKG $(base_version)),"
	echo "# saved under $(qemu-system-aarch64 --version | head -n1), -cpu max,"
	echo "# by scripts/record-base-regs.sh on $(date -u +%F). Test data: do not edit."
}

main() {
	local data
	data=$(data_file)
	[ -n "$data" ] || die "$TEST in guest/test.list restores no /data/ file"
	mkdir -p "$WORK" "$TOP/guest/data"
	say "building the patched kernel, its selftests and the base kernel"
	logged "$LOGS/apply.log" "$TOP/scripts/apply.sh"
	logged "$LOGS/kernel.log" "$TOP/scripts/build-kernel.sh"
	logged "$LOGS/selftests.log" "$TOP/scripts/build-selftests.sh"
	build_base_kernel
	say "saving the registers on the base kernel"
	boot_base save "$(printf 'save\t300\t/kvm/aarch64/restore_regs -s -')"
	{ header; saved_lines; } >"$WORK/$data"
	grep -q '^config ' "$WORK/$data" || die "no registers in the console of the save"
	mv "$WORK/$data" "$TOP/guest/data/$data"
	say "restoring them on the base kernel ($TEST)"
	boot_base restore "$(test_line)"
	say "recorded guest/data/$data: $(grep -c '^[0-9a-f]' "$TOP/guest/data/$data") registers"
}

main
