#!/usr/bin/env bash
# make bench: what the series costs, measured. Builds three kernels from
# kernel-config/kvm.config and distro.config (no debug options): the base, the series
# and mainline's (linux-source-6.12, the reference), boots each in turn
# (VHE) with the benchmark program of bench/, and prints a table of ratios
# against the targets. Also writes
# build/bench/results.csv and, if gnuplot is installed,
# build/bench/filter-size.png (call cost against filter size).
#
# BENCH_CLOCK says what the guest's clock counts while it measures:
#   instructions  (the default) QEMU's -icount shift=0 moves guest time on
#                 by 1 ns per emulated instruction, so every cost is a
#                 count of instructions, the same from boot to boot
#   host          the host's time: mostly what QEMU spends on each world
#                 switch, which hides the kernel's own work, and it drifts
#                 by several percent between boots
. "$(dirname "$0")/lib.sh"

BENCH=$BUILD/bench
SIZES=(1 100 10000 100000)

case "${BENCH_CLOCK:=instructions}" in
instructions)	BENCH_QEMU_ARGS="-icount shift=0,sleep=off" UNIT=instructions ;;
host)		BENCH_QEMU_ARGS="" UNIT="ns (host)" ;;
*)		die "BENCH_CLOCK is instructions or host, not '$BENCH_CLOCK'" ;;
esac

build_series_kernel() {
	OBJ=$BENCH/series/obj OUT=$BENCH/series/out \
		logged "$LOGS/bench-build-series.log" "$TOP/scripts/build-kernel.sh" kvm.config distro.config
}

build_mainline_kernel() {
	logged "$LOGS/bench-fetch-mainline.log" "$TOP/scripts/fetch-mainline.sh"
	REFERENCE_DIR=$BENCH/mainline logged "$LOGS/bench-build-mainline.log" \
		"$TOP/scripts/build-reference-kernel.sh" kvm.config distro.config
}

# The program is built against the series' headers and the KVM selftest
# library of the series (its objects come from the selftest build); on the
# base kernel it finds no filter and measures the unfiltered call only.
build_program() {
	local out=$BENCH/series/out kvm=$SRC/tools/testing/selftests/kvm objs
	OUT=$out logged "$LOGS/bench-build-selftests.log" "$TOP/scripts/build-selftests.sh"
	mapfile -t objs < <(find "$out/selftests/lib" -name '*.o' | sort)
	[ ${#objs[@]} -gt 0 ] || die "no selftest library objects in $out/selftests/lib"
	mkdir -p "$out/bench"
	"${CROSS_COMPILE}gcc" -static -O2 -std=gnu99 -D_GNU_SOURCE \
		-Wall -Wstrict-prototypes -Wuninitialized -Werror -fno-stack-protector \
		-I "$SRC/tools/include" -I "$SRC/tools/arch/arm64/include" \
		-isystem "$out/usr/include" -I "$SRC/tools/testing/selftests" \
		-I "$kvm/include" -I "$kvm/include/aarch64" \
		-o "$out/bench/smccc-bench" "$TOP/bench/bench.c" "${objs[@]}" -pthread
	OBJ=$BENCH/series/obj OUT=$out "$TOP/scripts/mkinitramfs.sh" \
		"$TOP/bench/bench.list" "$BENCH/initramfs.cpio.gz"
}

# Boot one kernel (its build's out/) with the benchmark; its "bench: key
# value" lines land in build/bench/<name>/metrics.txt.
run_in() {
	local name=$1 out=$2 results=$BENCH/$1/results.tsv
	mkdir -p "$BENCH/$name"
	OUT=$out CONSOLE_TAG=bench-$name QEMU_ARGS=$BENCH_QEMU_ARGS \
		"$TOP/scripts/boot.sh" vhe "$TOP/bench/bench.list" "$BENCH/initramfs.cpio.gz" |
		results_of - >"$results" || true	# the results say what failed
	[ -s "$results" ] || die "the $name kernel's boot gave no result (build/logs/console-bench-$name.log)"
	if grep -q '^FAIL' "$results"; then
		cut -f2,3 "$results" | sed 's/^/  /' >&2
		die "the benchmark failed in the $name kernel (build/logs/console-bench-$name.log)"
	fi
	tr -d '\r' <"$LOGS/console-bench-$name.log" |
		sed -n 's/^# bench: //p' >"$BENCH/$name/metrics.txt"
}

metric() {
	awk -v k="$2" '$1 == k { print $2 }' "$BENCH/$1/metrics.txt"
}

ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'
}

# One table row and CSV line: what, value, target (max ratio or bytes)
row() {
	local what=$1 value=$2 target=${3:-} verdict=
	if [ -n "$target" ]; then
		verdict=$(awk -v v="$value" -v t="$target" 'BEGIN { print (v <= t) ? "met" : "MISSED" }')
	fi
	printf '%-52s %10s %8s %s\n' "$what" "$value" "${target:--}" "$verdict"
	# "what" holds commas: quoted, as RFC 4180 has it
	printf '"%s",%s,%s,%s\n' "$what" "$value" "$target" "$verdict" >>"$BENCH/results.csv"
}

# The filter's own cost per handled call with N ranges, in the unit:
# (N ranges) - (no filter), in one kernel
filter_cost() {
	awk -v a="$(metric "$1" "handled_r${2}_ns")" -v b="$(metric "$1" handled_r0_ns)" \
		'BEGIN { printf "%.1f", a - b }'
}

report() {
	local base0 series0 n
	base0=$(metric base handled_r0_loops)
	series0=$(metric series handled_r0_loops)
	echo "what,value,target,verdict" >"$BENCH/results.csv"
	printf '\n%-52s %10s %8s %s\n' "measurement (BENCH_CLOCK=$BENCH_CLOCK)" value target verdict
	row "handled call, base, $UNIT" "$(metric base handled_r0_ns)"
	row "handled call, series no filter, $UNIT" "$(metric series handled_r0_ns)"
	row "handled call, 100000 ranges, $UNIT" "$(metric series handled_r100000_ns)"
	row "handled call, mainline no filter, $UNIT" "$(metric mainline handled_r0_ns)"
	row "handled call, series no filter / base" "$(ratio "$series0" "$base0")" 1.01
	# Our filter against mainline's: what N ranges add to a handled call
	for n in "${SIZES[@]}"; do
		row "filter cost per call, $n ranges, series, $UNIT" "$(filter_cost series "$n")"
		row "filter cost per call, $n ranges, mainline, $UNIT" "$(filter_cost mainline "$n")"
		row "filter cost per call, $n ranges, series / mainline" \
			"$(ratio "$(filter_cost series "$n")" "$(filter_cost mainline "$n")")" 1.00
	done
	for n in "${SIZES[@]}"; do
		row "handled call, $n ranges / no filter" \
			"$(ratio "$(metric series "handled_r${n}_loops")" "$series0")"
	done
	for n in "${SIZES[@]}"; do
		row "denied call, $n ranges / handled, no filter" \
			"$(ratio "$(metric series "denied_r${n}_loops")" "$series0")"
	done
	row "forwarded, sync regs / floor (no register work)" \
		"$(ratio "$(metric series fwd_sync_loops)" "$(metric series fwd_floor_loops)")" 1.05
	row "forwarded, classic 3 GET + 4 SET / floor" \
		"$(ratio "$(metric series fwd_classic_loops)" "$(metric series fwd_floor_loops)")"
	row "forwarded, sync regs / in-kernel round trip" \
		"$(ratio "$(metric series fwd_sync_loops)" "$series0")"
	row "exit, registers synced out / not" \
		"$(ratio "$(metric series fwd_floor_sync_loops)" "$(metric series fwd_floor_loops)")"
	row "insert / in-kernel round trip" "$(ratio "$(metric series insert_loops)" "$series0")"
	row "insert, $UNIT" "$(metric series insert_ns)"
	row "kernel memory per range, bytes (100000 ranges)" "$(metric series bytes_per_range)" 64
	printf '\nCSV: %s\n' "${BENCH#"$TOP"/}/results.csv"
}

plot() {
	command -v gnuplot >/dev/null || return 0
	for n in 0 "${SIZES[@]}"; do
		echo "$n $(metric series "handled_r${n}_ns") $(metric series "denied_r${n}_ns")"
	done | sed 's/^0 /0.5 /' >"$BENCH/filter-size.dat"
	gnuplot <<-EOF
		set terminal png size 800,500
		set output "$BENCH/filter-size.png"
		set logscale x
		set xlabel "ranges in the filter (0 plotted at 0.5)"
		set ylabel "$UNIT per call"
		plot "$BENCH/filter-size.dat" using 1:2 with linespoints title "handled", \
		     "" using 1:3 with linespoints title "denied"
	EOF
	echo "plot: ${BENCH#"$TOP"/}/filter-size.png"
}

main() {
	say "checking packages"; "$TOP/scripts/deps.sh"
	say "applying the series"; logged "$LOGS/apply-series.log" "$TOP/scripts/apply.sh"
	say "building the base kernel (no debug options)"; build_base_kernel
	say "building the series kernel (no debug options)"; build_series_kernel
	say "building mainline's kernel (no debug options)"; build_mainline_kernel
	say "building the benchmark program"; build_program
	say "booting the base kernel"; run_in base "$BASE_KERNEL/out"
	say "booting the series kernel"; run_in series "$BENCH/series/out"
	say "booting mainline's kernel"; run_in mainline "$BENCH/mainline/out"
	report
	plot
}

main
