#!/usr/bin/env bash
# Turn a guest's serial console into results, one line per check:
#   PASS|FAIL<TAB><mode>: <check><TAB><reason>
# Usage: parse-console.sh MODE MANIFEST CONSOLE
# boot.sh runs it after each boot; it can be re-run on any saved console
# log (build/logs/console-<mode>.log), and scripts/test-parser.sh runs it
# on the recorded consoles of tests/consoles/.
#
# The guest's init prints a TAP plan with the name of every test it will
# run ("# harness plan: NAME"), then one TAP line per test. Fails:
#   - a TAP "not ok", or a result for a test the guest did not plan;
#   - a test of the manifest the guest did not plan (it could not hold it);
#   - a planned test with no result (a crash or a hang cut the guest off);
#   - no plan at all (init never started);
#   - the kernel reporting a problem on the console (panic, oops, BUG,
#     KASAN, UBSAN, ...) that init could not attribute to a test;
#   - KVM not printing the banner of MODE (scripts/modes.tsv).
. "$(dirname "$0")/lib.sh"

[ $# -eq 3 ] || die "usage: parse-console.sh MODE MANIFEST CONSOLE"
mode=$1
manifest=$2
console=$3
banner=$(mode_field "$mode" 3)

# Kernel messages that mean the kernel itself went wrong
REPORTS='Kernel panic|Unable to handle kernel|Internal error:|BUG:|WARNING: CPU|KASAN:|UBSAN:|kmemleak:.*new suspected|INFO: task .* blocked|rcu: INFO'

text=$(tr -d '\r' <"$console")

result() {
	printf '%s\t%s: %s\t%s\n' "$1" "$mode" "$2" "${3:-}"
}

tap_results() {
	sed -n -e 's/^ok [0-9]* - \(.*\)$/PASS\t\1\t/p' \
		-e 's/^not ok [0-9]* - \(.*[^ ]\) *# *\(.*\)$/FAIL\t\1\t\2/p' <<<"$text"
}

planned() {
	sed -n 's/^# harness plan: //p' <<<"$text"
}

# "name<TAB>seconds" for each test that reported its duration
durations() {
	awk '/^(not )?ok [0-9]+ - / { sub(/^(not )?ok [0-9]+ - /, ""); sub(/ *#.*$/, ""); name = $0; next }
	     /^# duration: [0-9]+ s$/ && name != "" { print name "\t" $3; name = "" }' <<<"$text"
}

# The detail of a passed test: its time against its limit, so that the
# margin shows in the results table
margin() {
	local took limit
	took=$(awk -F'\t' -v n="$1" '$1 == n { print $2 }' <<<"$times")
	limit=$(awk -F'\t' -v n="$1" '$1 == n { print $2 }' <<<"$limits")
	[ -n "$took" ] && [ -n "$limit" ] && echo "$took s of $limit s"
	return 0
}

main() {
	local verdict name why seen plan report times limits
	plan=$(planned)
	times=$(durations)
	limits=$(manifest_entries "$manifest" | cut -f1,2)
	if [ -z "$plan" ]; then
		result FAIL "guest plan" "the guest printed no plan: init never ran"
	fi
	while IFS=$'\t' read -r verdict name why; do
		if [ -n "$plan" ] && ! grep -qxF "$name" <<<"$plan"; then
			verdict=FAIL
			why="a result for no planned test (a line cut by kernel output?)"
		fi
		[ "$verdict" = FAIL ] || why=$(margin "$name")
		result "$verdict" "$name" "$why"
	done < <(tap_results)
	seen=$(tap_results | cut -f2)
	while IFS= read -r name; do
		[ -n "$name" ] || continue
		grep -qxF "$name" <<<"$seen" ||
			result FAIL "$name" "no result: the guest stopped early"
	done <<<"$plan"
	if [ -n "$plan" ]; then
		while IFS=$'\t' read -r name _; do
			grep -qxF "$name" <<<"$plan" ||
				result FAIL "$name" "not in the guest's plan: the guest could not hold the manifest"
		done < <(manifest_entries "$manifest")
	fi
	# Outside the TAP (whose "# " lines quote the reports init attributed)
	report=$(grep -v '^#' <<<"$text" | grep -m1 -E "$REPORTS" || true)
	if [ -n "$report" ]; then
		result FAIL "console" "kernel report: $report"
	else
		result PASS "console"
	fi
	if grep -qF "kvm [1]: $banner" <<<"$text"; then
		result PASS "KVM mode banner"
	else
		result FAIL "KVM mode banner" "no \"$banner\" on the console"
	fi
}

main
