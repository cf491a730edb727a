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
#   boot           our tests (guest/test.list) on our kernel, per mode
#   core-kernel    the core series: every topic but the last (the
#                  extensions mainline lacks), test configuration
#   core           our tests on the core series' kernel, per mode of
#                  $CORE_MODES (default vhe): the extensions' tests skip
#   vmm-fetch      Debian's QEMU for arm64 and its libraries (apt)
#   vmm-guest      the nested guest QEMU runs, and the driver
#   vmm            Debian's QEMU runs a KVM guest on our kernel
#                  (guest/vmm.list), per mode of $VMM_MODES
#   base-kernel    the base kernel, test configuration (the stock kernel)
#   vmm-migrate    the nested guest migrates stock -> ours -> stock, per
#                  mode of $VMM_MODES: three boots, each restoring it from
#                  a disk and/or saving it there (guest/vmm-save.list,
#                  vmm-restore-save.list, vmm-restore.list)
#   mainline       mainline's tree, linux-source-6.12 (the oracle)
#   oracle-build   mainline's selftests (guest/mainline.list), adapted
#                  by oracle/patches
#   oracle         mainline's selftests on our kernel, per mode
#   reference-kernel  mainline's kernel, our test configuration
#   reference      our tests on mainline's kernel, per mode
#   reference-oracle  mainline's selftests on mainline's kernel, per mode:
#                  what makes an expected failure on ours credible
#
# Jobs:
#   test           every step; boot and oracle in every mode of
#                  scripts/modes.tsv, reference and reference-oracle in
#                  $REFERENCE_MODES (default vhe), vmm in $VMM_MODES
#                  (default vhe), core in $CORE_MODES (default vhe)
#   test-full      the same, vmm and core in every mode, the reference steps in
#                  every mode that scripts/modes.tsv gives mainline's
#                  kernel a banner for
#   check          deps, apply, kernel, checks
#   boot           deps .. demo, then guest/test.list in $MODE (default vhe)
#   run            deps, apply, kernel, demo, then guest/run.list in VHE,
#                  showing the guest's report (the main job)
#   vmm            deps .. kernel, then the vmm and vmm-migrate steps in
#                  $VMM_MODES (default vhe)
#
# A step prints its results ("result" lines, record in lib.sh) among its
# output, which goes to build/logs/<step>.log; this script alone collects
# them into build/logs/results.tsv. A step that fails stops every step
# that needs its output; what did not run is recorded as failed. Every job
# ends with the results table and "N passed, N failed" (with the expected
# failures of oracle/expectations.tsv counted apart), and exits 1 when any
# check failed.
. "$(dirname "$0")/lib.sh"

S=$TOP/scripts
RESULTS=$LOGS/results.tsv

# job_steps JOB: the steps of a job, in pipeline order
job_steps() {
	case "$1" in
	test|test-full)
		echo deps parser init apply kernel checks selftests demo boot \
			core-kernel core vmm-fetch vmm-guest vmm base-kernel \
			vmm-migrate mainline \
			oracle-build oracle reference-kernel reference \
			reference-oracle ;;
	check)	echo deps apply kernel checks ;;
	boot)	echo deps apply kernel selftests demo boot ;;
	run)	echo deps apply kernel demo boot ;;
	vmm)	echo deps apply kernel vmm-fetch vmm-guest vmm base-kernel \
			vmm-migrate ;;
	*)	die "unknown job '$1' (test, test-full, check, boot, run, vmm)" ;;
	esac
}

# What each step needs from the steps before it
needs() {
	case "$1" in
	deps)		echo "" ;;
	parser|init|apply) echo deps ;;
	kernel)		echo apply ;;
	checks|selftests|demo) echo kernel ;;
	boot)		echo "kernel $(grep -wo -e selftests -e demo <<<"$steps" | xargs)" ;;
	core-kernel)	echo apply ;;
	core)		echo core-kernel selftests demo ;;
	vmm-fetch)	echo deps ;;
	vmm-guest)	echo apply ;;
	vmm)		echo kernel vmm-fetch vmm-guest ;;
	base-kernel)	echo apply ;;
	vmm-migrate)	echo kernel base-kernel vmm-fetch vmm-guest ;;
	mainline)	echo deps ;;
	oracle-build)	echo mainline ;;
	oracle)		echo kernel oracle-build ;;
	reference-kernel) echo mainline ;;
	reference)	echo reference-kernel selftests demo ;;
	reference-oracle) echo reference-kernel oracle-build ;;
	esac
}

job=${1:-test}
steps=$(job_steps "$job")
step_nr=0

# The migration's hops: which kernel each boot runs and what QEMU does
# there (guest/vmm-<half>.list, whose driver checks it runs on that
# kernel): saved on the stock kernel, restored on ours and saved again,
# restored on the stock kernel (a rollback)
MIGRATION_HOPS="stock:save ours:restore-save stock:restore"

case "$job" in
run)	MANIFEST=$TOP/guest/run.list ;;
*)	MANIFEST=$TOP/guest/test.list ;;
esac
ALL_MODES=$(mode_names | xargs)
CORE_MODES_ASKED=${CORE_MODES:-vhe} CORE_MODES=
case "$job" in
test)	BOOT_MODES=$ALL_MODES REF_MODES=${REFERENCE_MODES:-vhe} VMM_MODES=${VMM_MODES:-vhe}
	CORE_MODES=$CORE_MODES_ASKED ;;
test-full) BOOT_MODES=$ALL_MODES REF_MODES=$(reference_mode_names | xargs) VMM_MODES=$ALL_MODES
	CORE_MODES=$ALL_MODES ;;
boot)	BOOT_MODES=${MODE:-vhe}; mode_field "$BOOT_MODES" 2 >/dev/null ;;
run)	BOOT_MODES=vhe ;;
vmm)	BOOT_MODES= VMM_MODES=${VMM_MODES:-vhe} ;;
*)	BOOT_MODES= ;;
esac
for mode in ${REF_MODES:-}; do
	[ "$(mode_field "$mode" 4)" != none ] ||
		die "mainline's kernel does not boot in $mode (scripts/modes.tsv)"
done
for mode in ${VMM_MODES:-} ${CORE_MODES:-}; do
	mode_field "$mode" 2 >/dev/null
done
# Printed as [n/N]: a boot step is its initramfs plus one boot per mode
nr_boots() {
	case "$1" in
	boot|oracle) wc -w <<<"$BOOT_MODES" ;;
	vmm)	wc -w <<<"$VMM_MODES" ;;
	core)	wc -w <<<"$CORE_MODES" ;;
	vmm-migrate) echo $(($(wc -w <<<"$MIGRATION_HOPS") * $(wc -w <<<"$VMM_MODES"))) ;;
	reference|reference-oracle) wc -w <<<"$REF_MODES" ;;
	*)	echo 0 ;;
	esac
}
nr_steps=0
for s in $steps; do
	nr_steps=$((nr_steps + 1 + $(nr_boots "$s")))
done

# The first "error:" line of a step's log, or where to look.
failure_reason() {
	local why
	why=$(grep -m1 '^error: ' "$1" | sed 's/^error: //')
	echo "${why:-see ${1#"$TOP"/}}"
}

# The one writer of the results table
collect() {
	printf '%s\t%s\t%s\n' "$1" "$2" "${3:-}" >>"$RESULTS"
}

# step NAME CHECK COMMAND...: run one step with its output in a log, print
# its time, and collect the results it printed. CHECK, if given, is the
# step's own result: PASS when it succeeded. Without CHECK, a step that
# failed without printing a failed result is recorded as "NAME".
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
	results_of "$log" >>"$RESULTS"
	if [ -n "$check" ]; then
		if [ $rc -eq 0 ]; then collect PASS "$check"; else collect FAIL "$check" "$(failure_reason "$log")"; fi
	elif [ $rc -ne 0 ] && ! results_of "$log" | grep -q '^FAIL'; then
		collect FAIL "$name" "did not complete: $(failure_reason "$log")"
	fi
	return $rc
}

# skipped STEP BLOCKER: a step that cannot run because BLOCKER, a step it
# needs, failed or did not run
skipped() {
	step_nr=$((step_nr + 1 + $(nr_boots "$1")))
	printf '[%d/%d] %-22s not run (%s did not succeed)\n' "$step_nr" "$nr_steps" "$1" "$2"
	collect FAIL "$1" "not run: $2 did not succeed"
}

step_deps()	 { step deps "" "$S/deps.sh"; }
step_parser()	 { step parser "" "$S/test-parser.sh"; }
step_init()	 { step init "" "$S/test-init.sh"; }
step_apply()	 { step apply "series applies to $BASE_PKG" "$S/apply.sh"; }
step_kernel()	 { step kernel "kernel builds" "$S/build-kernel.sh"; }
step_checks()	 { step checks "" "$S/check-series.sh"; }
step_selftests() { step selftests "selftests build" "$S/build-selftests.sh"; }
step_demo()	 { step demo "demo VMM builds" "$S/build-demo.sh"; }
step_vmm-fetch() { step vmm-fetch "Debian's QEMU for arm64 unpacks" "$S/fetch-vmm.sh"; }
step_vmm-guest() { step vmm-guest "the nested guest builds" "$S/build-vmm-guest.sh"; }
step_base-kernel() { step base-kernel "the base kernel builds (test configuration)" "$S/build-base-test-kernel.sh"; }
step_core-kernel() { step core-kernel "the core series' kernel builds (test configuration)" "$S/build-core-kernel.sh"; }
step_mainline()	 { step mainline "$MAINLINE_PKG unpacks" "$S/fetch-mainline.sh"; }
step_oracle-build() { step oracle-build "mainline's selftests build" "$S/build-mainline-selftests.sh"; }
step_reference-kernel() { step reference-kernel "mainline's kernel builds" "$S/build-reference-kernel.sh"; }

# boots STEP MANIFEST KERNEL_OUT KERNEL LABEL MODES...: pack the
# manifest's initramfs, then boot KERNEL_OUT/Image once per mode; each
# boot is a step of its own, named STEP-MODE, with its console in
# build/logs/console-STEP-MODE.log (console-MODE.log for our own boot).
boots() {
	local name=$1 manifest=$2 out=$3 kernel=$4 label=$5 mode tag initramfs
	shift 5
	initramfs=$OUT/$job-$(basename "$manifest" .list)-initramfs.cpio.gz
	if ! step "$name-initramfs" "initramfs packs: $(basename "$manifest")" \
		"$S/mkinitramfs.sh" "$manifest" "$initramfs"; then
		for mode in "$@"; do
			skipped "$name-$mode" "$name-initramfs"
		done
		return 1
	fi
	for mode in "$@"; do
		tag=$name-$mode
		[ "$name" = boot ] && tag=$mode
		OUT=$out KERNEL=$kernel LABEL="$label$mode" CONSOLE_TAG=$tag \
			step "$name-$mode" "" "$S/boot.sh" "$mode" "$manifest" "$initramfs" || true
		[ -f "$LOGS/console-$tag.log" ] || continue
		case "$job" in
		run)	tr -d '\r' <"$LOGS/console-$tag.log" | sed -n '/^TAP version/,$p' |
				sed 's/^# //; s/^/    /' ;;
		boot)	tr -d '\r' <"$LOGS/console-$tag.log" | sed -n '/^TAP version/,$p' ;;
		esac
	done
}

step_boot()	 { boots boot "$MANIFEST" "$OUT" series "" $BOOT_MODES; }
step_oracle()	 { boots oracle "$TOP/guest/mainline.list" "$OUT" series "mainline tests, " $BOOT_MODES; }
step_core()	 { boots core "$MANIFEST" "$CORE_KERNEL/out" core "core series, " $CORE_MODES; }
# QEMU and its libraries in the initramfs, and the nested guest's memory
VMM_MEM=1024
step_vmm()	 { GUEST_MEM=$VMM_MEM boots vmm "$TOP/guest/vmm.list" "$OUT" series "Debian's QEMU, " $VMM_MODES; }

# migration_boot N KERNEL HALF MODE DISK: the Nth boot of the migration,
# on KERNEL (stock or ours), doing HALF, with the disk DISK that carries
# the guest's state from one boot to the next
migration_boot() {
	local n=$1 on=$2 half=$3 mode=$4 disk=$5 out
	out=$([ "$on" = stock ] && echo "$BASE_TEST_KERNEL/out" || echo "$OUT")
	OUT=$out KERNEL=series LABEL="migration stock -> ours -> stock, $mode, $n. $half on $on" \
		CONSOLE_TAG=vmm-migrate-$mode-$n-$half-$on GUEST_MEM=$VMM_MEM \
		QEMU_ARGS="-drive file=$disk,if=none,format=raw,id=state -device virtio-blk-device,drive=state" \
		step "vmm-migrate-$mode-$n-$half" "" "$S/boot.sh" "$mode" \
		"$TOP/guest/vmm-$half.list" "$OUT/$job-vmm-$half-initramfs.cpio.gz"
}

step_vmm-migrate() {
	local mode hop n disk blocker= rc=0 lists=()
	for hop in $MIGRATION_HOPS; do
		lists+=("$TOP/guest/vmm-${hop#*:}.list" "$OUT/$job-vmm-${hop#*:}-initramfs.cpio.gz")
	done
	step vmm-migrate-initramfs "initramfs packs: vmm-save, vmm-restore-save, vmm-restore" \
		sh -c 'while [ $# -gt 1 ]; do "$0" "$1" "$2" || exit; shift 2; done' \
		"$S/mkinitramfs.sh" "${lists[@]}" || blocker=vmm-migrate-initramfs rc=1
	for mode in $VMM_MODES; do
		disk=$BUILD/vmm/state-$mode.img
		n=0
		if [ "$blocker" != vmm-migrate-initramfs ]; then
			blocker=
			rm -f "$disk"
			truncate -s 256M "$disk" || blocker="creating ${disk#"$TOP"/}" rc=1
		fi
		for hop in $MIGRATION_HOPS; do
			n=$((n + 1))
			if [ -n "$blocker" ]; then
				skipped "vmm-migrate-$mode-$n-${hop#*:}" "$blocker"
			elif ! migration_boot "$n" "${hop%%:*}" "${hop#*:}" "$mode" "$disk"; then
				blocker=vmm-migrate-$mode-$n-${hop#*:}
				rc=1
			fi
		done
	done
	return $rc
}

step_reference() { boots reference "$MANIFEST" "$REFERENCE_OUT" mainline "mainline kernel, " $REF_MODES; }
step_reference-oracle() {
	boots reference-oracle "$TOP/guest/mainline.list" "$REFERENCE_OUT" mainline \
		"mainline kernel, mainline tests, " $REF_MODES
}

# The results table, then the counts; the last line is "N passed, N
# failed". False unless every check passed or failed as expected, and at
# least one passed.
summary() {
	local passed failed expected
	passed=$(grep -c '^PASS' "$RESULTS" || true)
	failed=$(grep -c '^FAIL' "$RESULTS" || true)
	expected=$(grep -c '^XFAIL' "$RESULTS" || true)
	echo
	printf '%-6s %-52s %s\n' RESULT CHECK DETAIL
	awk -F'\t' '{ printf "%-6s %-52s %s\n", $1, $2, $3 }' "$RESULTS"
	echo
	echo "summary: $passed passed, $expected expected failures, $failed failed"
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
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
