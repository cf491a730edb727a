#!/usr/bin/env bash
# Turn a guest's serial console into results, one line per check:
#   result<TAB>PASS|FAIL|XFAIL<TAB><label>: <check><TAB><detail>
# Usage: parse-console.sh MODE MANIFEST CONSOLE [KERNEL]
# boot.sh runs it after each boot; it can be re-run on any saved console
# log (build/logs/console-*.log), and scripts/test-parser.sh runs it on
# the recorded consoles of tests/consoles/. LABEL (environment) names the
# boot in each check (default: MODE).
#
# The guest's init prints a TAP plan with the name of every test it will
# run ("# harness plan: NAME"), then one TAP line per test followed by the
# test's output as "# " lines, in which a kselftest's own results are its
# subtests ("# ok 3 NAME", "# not ok 4 NAME: why", "# ok 5 # SKIP NAME").
# A test that drives a VMM says which one and which kernel ran it ("# #
# qemu: ...", "# # kernel: ...", guest/vmm-scenarios.c): both go into its
# result's detail.
# Fails:
#   - a TAP "not ok", or a result for a test the guest did not plan;
#   - a subtest that failed or skipped;
#   - a test of the manifest the guest did not plan (it could not hold it);
#   - a planned test with no result (a crash or a hang cut the guest off);
#   - no plan at all (init never started);
#   - the kernel reporting a problem on the console (panic, oops, BUG,
#     KASAN, UBSAN, ...) that init could not attribute to a test;
#   - KVM not printing the banner of MODE (scripts/modes.tsv).
# Except where the expectations (EXPECTATIONS, default
# oracle/expectations.tsv) name the failure or skip for this KERNEL
# (default "series"), the manifest's suite (its file name without .list)
# and MODE: then it is XFAIL, and an expected failure that did not happen
# is a FAIL. A test whose only failures are expected subtests (it exited
# with kselftest's failure status 1 and the kernel reported nothing) is
# XFAIL too. A whole test's evidence must show in its output, and in the
# first lines of each of its assertion failures. A kernel report is
# expected only where it is the evidence of a whole test's expectation (a
# report mainline makes and we do not).
. "$(dirname "$0")/lib.sh"

[ $# -eq 3 ] || [ $# -eq 4 ] || die "usage: parse-console.sh MODE MANIFEST CONSOLE [KERNEL]"
mode=$1
manifest=$2
console=$3
kernel=${4:-series}
suite=$(basename "$manifest" .list)
label=${LABEL:-$mode}
expectations=${EXPECTATIONS:-$TOP/oracle/expectations.tsv}
case "$kernel" in
series|core)	banner=$(mode_field "$mode" 3) ;;
mainline)	banner=$(mode_field "$mode" 4) ;;
*)		die "unknown kernel '$kernel' (series, core or mainline)" ;;
esac
[ "$banner" != none ] || die "mainline's kernel does not boot in $mode (scripts/modes.tsv)"

# Kernel messages that mean the kernel itself went wrong
REPORTS='Kernel panic|Unable to handle kernel|Internal error:|BUG:|WARNING: CPU|KASAN:|UBSAN:|kmemleak:.*new suspected|INFO: task .* blocked|rcu: INFO'

text=$(tr -d '\r' <"$console")

result() {
	printf 'result\t%s\t%s: %s\t%s\n' "$1" "$label" "$2" "${3:-}"
}

planned() {
	sed -n 's/^# harness plan: //p' <<<"$text"
}

# The expectations that apply to this boot: "test<TAB>subtest<TAB>expect
# <TAB>evidence<TAB>reason"
boot_expectations() {
	[ -f "$expectations" ] || return 0
	awk -F'\t' -v k="$kernel" -v s="$suite" -v m="$mode" -v modes=" $(mode_names | xargs) " '
		function bad(why) {
			printf "error: %s:%d: %s\n", FILENAME, NR, why > "/dev/stderr"
			failed = 1
		}
		/^#/ || NF == 0 { next }
		NF != 8 { bad("want 8 tab-separated fields"); next }
		$1 != "series" && $1 != "core" && $1 != "mainline" { bad("kernel \"" $1 "\" is series, core or mainline") }
		$3 != "*" && index(modes, " " $3 " ") == 0 { bad("mode \"" $3 "\" is not in scripts/modes.tsv") }
		$6 != "fail" && $6 != "skip" { bad("expect \"" $6 "\" is fail or skip") }
		$5 != "-" && $7 != "-" { bad("evidence goes with a whole test (subtest -)") }
		($1 SUBSEP $2 SUBSEP $3 SUBSEP $4 SUBSEP $5) in seen { bad("a second line for the same result") }
		{ seen[$1, $2, $3, $4, $5] = 1 }
		$1 == k && $2 == s && ($3 == "*" || $3 == m) { print $4 "\t" $5 "\t" $6 "\t" $7 "\t" $8 }
		END { exit failed }
	' "$expectations"
}

# The results of the TAP: each test with its subtests, judged against the
# expectations, in the order the guest ran them. Reads the expectations,
# the manifest's limits and the planned names, then the console.
tap_results() {
	awk -F'\t' -v label="$label" '
	function out(verdict, name, detail) {
		printf "result\t%s\t%s: %s\t%s\n", verdict, label, name, detail
	}
	# A kernel report is expected only as the whole reason the test failed
	# ("kernel report", not an exit status), with every headline of it
	# holding the evidence
	function expected_reports(ev,   n, i, l) {
		if (ev == "-" || tap_why != "kernel report")
			return 0
		n = split(reports, l, "\n")
		for (i = 1; i <= n; i++)
			if (l[i] ~ /WARNING:|BUG:|KASAN:|UBSAN:|Oops|Kernel panic|suspected memory leak|circular locking|inconsistent lock/ && index(l[i], ev) == 0)
				return 0
		return 1
	}
	function margin(name) {
		return (name in took && name in limit) ? took[name] " s of " limit[name] " s" : ""
	}
	# Judge the test just read, then its subtests
	function finish(   key, sn, xfails, fails, e, v, why, sep) {
		if (test == "")
			return
		xfails = fails = 0
		for (i = 1; i <= nsubs; i++) {
			sn = subname[i]
			key = test SUBSEP sn
			if (key in expect) {
				seen_exp[key] = 1
				e = expect[key]
				if (substatus[i] == e) {
					out("XFAIL", test ": " sn, "expected " e ": " reason[key])
					xfails++
				} else {
					out("FAIL", test ": " sn, "expected to " e ", got " substatus[i] " (" reason[key] ")")
					fails++
				}
			} else if (substatus[i] == "fail") {
				out("FAIL", test ": " sn, "subtest failed")
				fails++
			} else if (substatus[i] == "skip") {
				out("FAIL", test ": " sn, "subtest skipped: a skip is not a pass")
				fails++
			}
		}
		for (key in expect) {
			split(key, part, SUBSEP)
			if (part[1] == test && part[2] != "-" && !(key in seen_exp)) {
				out("FAIL", test ": " part[2], "expected to " expect[key] ", did not report (" reason[key] ")")
				fails++
			}
		}
		key = test SUBSEP "-"
		v = verdict; why = tap_why
		if (key in expect) {
			e = expect[key]
			if (verdict == "PASS") {
				v = "FAIL"; why = "expected to " e ", passed (" reason[key] ")"
			} else if (reported && !expected_reports(evidence[key])) {
				v = "FAIL"; why = tap_why " (with a kernel report)"
			} else if ((e == "skip") != (tap_why ~ /^skipped/)) {
				v = "FAIL"; why = tap_why " (expected to " e ": " reason[key] ")"
			} else if (evidence[key] != "-" && (index(output, evidence[key]) == 0 || asserts > matched)) {
				v = "FAIL"; why = tap_why ", not every failure with \"" evidence[key] "\" (expected: " reason[key] ")"
			} else {
				v = "XFAIL"; why = "expected " e ": " reason[key]
			}
		} else if (verdict == "FAIL" && tap_why == "exit status 1" && !reported && xfails > 0 &&
			   fails == 0 && !bailed && plan == nsubs && (totals_fail == "" || totals_fail + 0 == xfails)) {
			v = "XFAIL"; why = "only expected subtests failed"
		} else if (verdict == "PASS") {
			why = margin(test)
		} else if (reported) {
			why = tap_why " (with a kernel report)"
		}
		if (v == "PASS" && fails > 0) {
			v = "FAIL"; why = "subtests failed"
		}
		if (!(test in planned)) {
			v = "FAIL"; why = "a result for no planned test (a line cut by kernel output?)"
		}
		if (ran != "")
			why = why (why != "" ? "; " : "") ran
		out(v, test, why)
		test = ""
	}
	FILENAME == ARGV[1] { expect[$1 SUBSEP $2] = $3; evidence[$1 SUBSEP $2] = $4; reason[$1 SUBSEP $2] = $5; next }
	FILENAME == ARGV[2] { limit[$1] = $2; inmanifest[$1] = 1; next }
	FILENAME == ARGV[3] { planned[$0] = 1; next }
	# The console: a test, then its output
	/^(not )?ok [0-9]+ - / {
		finish()
		verdict = /^ok/ ? "PASS" : "FAIL"
		line = $0
		sub(/^(not )?ok [0-9]+ - /, "", line)
		tap_why = ""
		if (verdict == "FAIL" && match(line, / *# */)) {
			tap_why = substr(line, RSTART + RLENGTH)
			line = substr(line, 1, RSTART - 1)
		}
		test = line; nsubs = 0; reported = 0; output = ""; reports = ""; ran = ""
		plan = -1; bailed = 0; totals_fail = ""
		# Each assertion failure of the test, and those that show the
		# evidence of its expectation in their first lines
		ev = (test SUBSEP "-") in evidence ? evidence[test SUBSEP "-"] : "-"
		asserts = matched = in_assert = 0
		next
	}
	test != "" && /^# / {
		line = substr($0, 3)
		output = output line "\n"
		if (line ~ /^kernel: /) {
			reported = 1
			reports = reports line "\n"
		}
		# What ran: a test that drives a VMM names it and the kernel
		if (line ~ /^# (qemu|kernel): /)
			ran = ran (ran != "" ? "; " : "") substr(line, 3)
		if (line ~ /^duration: [0-9]+ s$/) {
			split(line, d, " ")
			took[test] = d[2]
		}
		if (line ~ /==== Test Assertion Failure ====/) {
			asserts++
			in_assert = 4
		} else if (in_assert > 0) {
			in_assert--
			if (ev != "-" && index(line, ev)) {
				matched++
				in_assert = 0
			}
		}
		if (line ~ /^1\.\.[0-9]+/ && plan < 0) {
			plan = substr(line, 4) + 0
		}
		if (line ~ /^Bail out!/)
			bailed = 1
		if (line ~ /^# Totals: /) {
			totals_fail = line
			sub(/.* fail:/, "", totals_fail)
			sub(/ .*/, "", totals_fail)
		}
		if (line ~ /^(not )?ok [0-9]+ /) {
			status = line ~ /^ok/ ? "pass" : "fail"
			sub(/^(not )?ok [0-9]+ /, "", line)
			# "ok 3 # SKIP name" (kselftest.h) or "ok 3 name # SKIP why"
			if (line ~ /^# SKIP/) {
				status = "skip"
				sub(/^# SKIP */, "", line)
			} else if (match(line, / # SKIP/)) {
				status = "skip"
				line = substr(line, 1, RSTART - 1)
			}
			sub(/: .*/, "", line)
			sub(/ +$/, "", line)
			nsubs++
			subname[nsubs] = line
			substatus[nsubs] = status
		}
		next
	}
	END {
		finish()
		for (key in expect) {
			split(key, part, SUBSEP)
			if (!(part[1] in planned) && !(part[1] in inmanifest))
				out("FAIL", part[1], "an expectation for a test this manifest does not run")
		}
	}
	' <(boot_expectations) <(manifest_entries "$manifest" | cut -f1,2) <(planned) <(echo "$text")
}

main() {
	local name plan report results seen
	plan=$(planned)
	if [ -z "$plan" ]; then
		result FAIL "guest plan" "the guest printed no plan: init never ran"
	fi
	results=$(tap_results)
	[ -z "$results" ] || echo "$results"
	seen=$(grep -E '^(not )?ok [0-9]+ - ' <<<"$text" | sed -E 's/^(not )?ok [0-9]+ - //; s/ *# .*$//' || true)
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
