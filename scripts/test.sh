#!/usr/bin/env bash
# The test command: every check, in order, one progress line per step.
# Logs: build/logs/<step>.log and console-<mode>.log; results: results.tsv.
# Last line: "N passed, N failed". Exit status 1 on any failure.
. "$(dirname "$0")/lib.sh"

MODES=(vhe nvhe)
STEPS=9
step_nr=0

: >"$RESULTS"

# The first "error:" line of a step's log, or where to look.
failure_reason() {
	local why
	why=$(grep -m1 '^error: ' "$1" | sed 's/^error: //')
	echo "${why:-see ${1#"$TOP"/}}"
}

# step NAME CHECK-NAME COMMAND...: run a step, print its time, and record
# CHECK-NAME as a result (an empty CHECK-NAME records nothing: the step
# records its own results).
step() {
	local name=$1 check=$2 start rc=0 log
	shift 2
	log=$LOGS/${name// /-}.log
	step_nr=$((step_nr + 1))
	printf '[%d/%d] %-22s ' "$step_nr" "$STEPS" "$name"
	start=$SECONDS
	"$@" >"$log" 2>&1 || rc=$?
	printf '%s (%ds)\n' "$([ $rc -eq 0 ] && echo done || echo FAILED)" $((SECONDS - start))
	if [ $rc -ne 0 ]; then
		grep -E '^(error|  )' "$log" | head -n 8 | sed 's/^/      /'
		printf '      log: %s\n' "${log#"$TOP"/}"
	fi
	if [ -n "$check" ]; then
		if [ $rc -eq 0 ]; then record PASS "$check"; else record FAIL "$check" "$(failure_reason "$log")"; fi
	fi
	return $rc
}

summary() {
	local passed failed
	passed=$(grep -c '^PASS' "$RESULTS" || true)
	failed=$(grep -c '^FAIL' "$RESULTS" || true)
	echo
	printf '%-6s %-52s %s\n' RESULT CHECK DETAIL
	awk -F'\t' '{ printf "%-6s %-52s %s\n", $1, $2, $3 }' "$RESULTS"
	echo
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
}

boot_all_modes() {
	local mode
	for mode in "${MODES[@]}"; do
		step "boot $mode" "" "$TOP/scripts/boot.sh" "$mode" \
			"$TOP/guest/test.list" "$OUT/test-initramfs.cpio.gz" || true
	done
}

main() {
	local s=$TOP/scripts
	step "dependencies" "" "$s/deps.sh" || { summary; exit 1; }
	step "apply series" "series applies to $BASE_PKG" "$s/apply.sh" || { summary; exit 1; }
	if step "build kernel" "kernel builds" "$s/build-kernel.sh"; then
		step "series checks" "" "$s/check-series.sh" || true
	else
		record FAIL "series checks" "not run: the kernel does not build"
		step_nr=$((step_nr + 1))
	fi
	if step "build selftests" "selftests build" "$s/build-selftests.sh" &&
		step "build demo" "demo VMM builds" "$s/build-demo.sh" &&
		step "initramfs" "" "$s/mkinitramfs.sh" "$TOP/guest/test.list" \
			"$OUT/test-initramfs.cpio.gz"; then
		boot_all_modes
	else
		record FAIL "boot" "not run: nothing to boot"
	fi
	summary
}

main
