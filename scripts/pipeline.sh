#!/usr/bin/env bash
# The one pipeline of the harness. Every entry point of the Makefile runs
# a job, and a job is a selection of the steps below, always in this order:
#
#   deps           Debian packages (scripts/deps.sh)
#   parser         the console parser on the recorded consoles of tests/
#   init           the guest init's output capture (tests/init/), on the host
#   apply          the series on the base (build/linux)
#   kernel         the test kernel, published to build/out only if it built
#   checks         series checks (checkpatch, W=1 per patch, x86, sparse)
#   selftests      the KVM selftests the manifests name
#   demo           the demo VMM
#   boot           pack the manifest and boot each mode of the job
#
# Jobs:
#   test           every step; the manifest guest/test.list in every mode
#                  of scripts/modes.tsv
#   check          deps, apply, kernel, checks
#   boot           deps .. demo, then guest/test.list in $MODE (default vhe)
#   run            deps, apply, kernel, demo, then guest/run.list in VHE,
#                  showing the guest's report (the main job)
#
# A step that fails stops every step that needs its output; what did not
# run is recorded as failed. Every job ends with the results table and
# "N passed, N failed", and exits 1 when any check failed.
# Logs: build/logs/<step>.log, console-<mode>.log; results: results.tsv.
. "$(dirname "$0")/lib.sh"

S=$TOP/scripts

# job_steps JOB: the steps of a job, in pipeline order
job_steps() {
	case "$1" in
	test)	echo deps parser init apply kernel checks selftests demo boot ;;
	check)	echo deps apply kernel checks ;;
	boot)	echo deps apply kernel selftests demo boot ;;
	run)	echo deps apply kernel demo boot ;;
	*)	die "unknown job '$1' (test, check, boot, run)" ;;
	esac
}

job=${1:-test}
steps=$(job_steps "$job")
step_nr=0

case "$job" in
run)	MANIFEST=$TOP/guest/run.list ;;
*)	MANIFEST=$TOP/guest/test.list ;;
esac
case "$job" in
test)	BOOT_MODES=$(mode_names | xargs) ;;
boot)	BOOT_MODES=${MODE:-vhe}; mode_field "$BOOT_MODES" 2 >/dev/null ;;
run)	BOOT_MODES=vhe ;;
*)	BOOT_MODES= ;;
esac
INITRAMFS=$OUT/$job-initramfs.cpio.gz
# Printed as [n/N]: the boot step is the initramfs plus one boot per mode
nr_steps=$(($(wc -w <<<"$steps") + $(wc -w <<<"$BOOT_MODES")))

# The first "error:" line of a step's log, or where to look.
failure_reason() {
	local why
	why=$(grep -m1 '^error: ' "$1" | sed 's/^error: //')
	echo "${why:-see ${1#"$TOP"/}}"
}

# step NAME CHECK COMMAND...: run one step with its output in a log, print
# its time; CHECK is recorded as the step's own result. With CHECK empty
# the command records its own results, and only its failure to complete
# is recorded here, as "NAME".
step() {
	local name=$1 check=$2 start rc=0 log=$LOGS/$1.log
	shift 2
	step_nr=$((step_nr + 1))
	printf '[%d/%d] %-22s ' "$step_nr" "$nr_steps" "$name"
	start=$SECONDS
	"$@" >"$log" 2>&1 || rc=$?
	printf '%s (%ds)\n' "$([ $rc -eq 0 ] && echo done || echo FAILED)" $((SECONDS - start))
	if [ $rc -ne 0 ]; then
		grep -E '^(error|  )' "$log" | head -n 8 | sed 's/^/      /'
		printf '      log: %s\n' "${log#"$TOP"/}"
	fi
	if [ -n "$check" ]; then
		if [ $rc -eq 0 ]; then record PASS "$check"; else record FAIL "$check" "$(failure_reason "$log")"; fi
	elif [ $rc -ne 0 ]; then
		record FAIL "$name" "did not complete: $(failure_reason "$log")"
	fi
	return $rc
}

# skipped STEP BLOCKER: a step that cannot run because BLOCKER, a step it
# needs, failed or did not run
skipped() {
	step_nr=$((step_nr + 1))
	printf '[%d/%d] %-22s not run (%s did not succeed)\n' "$step_nr" "$nr_steps" "$1" "$2"
	record FAIL "$1" "not run: $2 did not succeed"
}

step_deps()	 { step deps "" "$S/deps.sh"; }
step_parser()	 { step parser "" "$S/test-parser.sh"; }
step_init()	 { step init "" "$S/test-init.sh"; }
step_apply()	 { step apply "series applies to $BASE_PKG" "$S/apply.sh"; }
step_kernel()	 { step kernel "kernel builds" "$S/build-kernel.sh"; }
step_checks()	 { step checks "" "$S/check-series.sh"; }
step_selftests() { step selftests "selftests build" "$S/build-selftests.sh"; }
step_demo()	 { step demo "demo VMM builds" "$S/build-demo.sh"; }

# boot.sh records every result of the boot and exits 1 when one failed;
# here only a boot.sh that recorded nothing (a usage error) fails.
boot_recording() {
	local mode=$1 before
	before=$(wc -l <"$RESULTS")
	"$S/boot.sh" "$mode" "$MANIFEST" "$INITRAMFS" || true
	[ "$(wc -l <"$RESULTS")" -gt "$before" ]
}

boot_mode() {
	local mode=$1
	step "boot-$mode" "" boot_recording "$mode" || true
	[ -f "$LOGS/console-$mode.log" ] || return 0
	case "$job" in
	run)	tr -d '\r' <"$LOGS/console-$mode.log" | sed -n '/^TAP version/,$p' |
			sed 's/^# //; s/^/    /' ;;
	boot)	tr -d '\r' <"$LOGS/console-$mode.log" | sed -n '/^TAP version/,$p' ;;
	esac
}

step_boot() {
	local mode
	step initramfs "initramfs packs" "$S/mkinitramfs.sh" "$MANIFEST" "$INITRAMFS" ||
		return 1
	for mode in $BOOT_MODES; do
		boot_mode "$mode"
	done
}

# What each step needs from the steps before it
needs() {
	case "$1" in
	deps)		echo "" ;;
	parser|init)	echo deps ;;
	apply)		echo deps ;;
	kernel)		echo apply ;;
	checks)		echo kernel ;;
	selftests|demo)	echo kernel ;;
	boot)		echo "kernel $(grep -wo -e selftests -e demo <<<"$steps" | xargs)" ;;
	esac
}

main() {
	local s dep ok=() blocked
	: >"$RESULTS"
	for s in $steps; do
		blocked=
		for dep in $(needs "$s"); do
			[[ " ${ok[*]} " == *" $dep "* ]] || blocked=$dep
		done
		if [ -n "$blocked" ]; then
			skipped "$s" "$blocked"
			continue
		fi
		if "step_$s"; then
			ok+=("$s")
		fi
	done
	summary
}

main
