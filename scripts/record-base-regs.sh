#!/usr/bin/env bash
# make record-base-regs: record, once, the registers a VMM saves from the
# vCPUs of the unpatched base kernel under this QEMU's -cpu max, in each
# KVM mode of scripts/modes.tsv, as test data for restore_from_base of
# guest/test.list. The modes differ (nVHE hides VH from the guest), and
# the base takes back only the values it reports itself. Then check the
# data on the base: the base must restore what it saved, or the test
# would hold the patched kernel to more than the base can do.
#   1. the base kernel (kvm.config), the patched tree's selftests
#   2. for each mode, boot the base: restore_regs -s - prints the
#      registers, kept as guest/data/<the test's file, @mode@ replaced>
#   3. boot the base in each mode with the test's own manifest line
# Commit the data files after reading their diff.
. "$(dirname "$0")/lib.sh"

WORK=$BUILD/record-base-regs
TEST=restore_from_base

# The test's manifest line, and the /data/ file it restores (with @mode@)
test_line() {
	grep -E "^$TEST[[:space:]]" "$TOP/guest/test.list" ||
		die "guest/test.list has no test $TEST"
}

data_file() {
	manifest_entries <(test_line) | cut -f5 | tr ' ' '\n' | sed -n 's|^/data/||p'
}

# boot_base MODE NAME MANIFEST_LINE: boot the base kernel in MODE with one
# test; its console is build/logs/console-record-NAME-MODE.log
boot_base() {
	local mode=$1 name=$2-$1 manifest=$WORK/$2.list results=$WORK/$2-$1.tsv
	printf '%s\n' "$3" >"$manifest"
	"$TOP/scripts/mkinitramfs.sh" "$manifest" "$WORK/$name.cpio.gz"
	OUT=$BASE_KERNEL/out CONSOLE_TAG=record-$name \
		"$TOP/scripts/boot.sh" "$mode" "$manifest" "$WORK/$name.cpio.gz" |
		results_of - >"$results" || true
	[ -s "$results" ] || die "$name gave no result on the base kernel (build/logs/console-record-$name.log)"
	if grep -q '^FAIL' "$results"; then
		cut -f2,3 "$results" | sed 's/^/  /' >&2
		die "$name failed on the base kernel (build/logs/console-record-$name.log)"
	fi
}

# The lines restore_regs -s - printed in MODE, from the TAP report of
# test "save"
saved_lines() {
	tr -d '\r' <"$LOGS/console-record-save-$1.log" |
		sed -n '/^ok [0-9]* - save$/,/^\(not \)\{0,1\}ok /p' |
		sed -n 's/^# //p' | grep -E '^(# restore_regs|# [a-z]+: not on this host|config |[0-9a-f]{16} )'
}

header() {
	echo "# Registers of the vCPUs of the unpatched base ($BASE_PKG $(base_version)),"
	echo "# KVM mode $1, saved under $(qemu-system-aarch64 --version | head -n1),"
	echo "# -cpu max, by scripts/record-base-regs.sh on $(date -u +%F). Test data: do not edit."
}

main() {
	local data mode file
	data=$(data_file)
	[[ "$data" == *@mode@* ]] || die "$TEST in guest/test.list restores no /data/ file per @mode@"
	mkdir -p "$WORK" "$TOP/guest/data"
	say "building the patched kernel, its selftests and the base kernel"
	logged "$LOGS/apply.log" "$TOP/scripts/apply.sh"
	logged "$LOGS/kernel.log" "$TOP/scripts/build-kernel.sh"
	logged "$LOGS/selftests.log" "$TOP/scripts/build-selftests.sh"
	build_base_kernel
	for mode in $(mode_names); do
		file=${data//@mode@/$mode}
		say "saving the registers on the base kernel ($mode)"
		boot_base "$mode" save "$(printf 'save\t300\t/kvm/aarch64/restore_regs -s -')"
		{ header "$mode"; saved_lines "$mode"; } >"$WORK/$file"
		grep -q '^config ' "$WORK/$file" || die "no registers in the console of the save"
		mv "$WORK/$file" "$TOP/guest/data/$file"
	done
	for mode in $(mode_names); do
		say "restoring them on the base kernel ($mode, $TEST)"
		boot_base "$mode" restore "$(test_line)"
	done
	for mode in $(mode_names); do
		file=${data//@mode@/$mode}
		note "guest/data/$file: $(grep -c '^[0-9a-f]' "$TOP/guest/data/$file") registers"
	done
}

main
