#!/usr/bin/env bash
# The console parser's own test: run scripts/parse-console.sh on every
# recorded console of tests/consoles/ (listed in cases.tsv with its mode,
# manifest and kernel) and compare with the recorded expectation, with the
# expectations file tests/consoles/expectations.tsv. One result per case:
# "parser: <case>". Regenerate an expectation only after reading the new
# output: tests/consoles/<case>.expected.
. "$(dirname "$0")/lib.sh"

CASES=$TOP/tests/consoles

main() {
	local name mode manifest kernel got
	while IFS=$'\t' read -r name mode manifest kernel; do
		got=$(EXPECTATIONS=$CASES/expectations.tsv "$TOP/scripts/parse-console.sh" \
			"$mode" "$CASES/$manifest" "$CASES/$name.console" "$kernel" 2>&1) || true
		if diff -u "$CASES/$name.expected" - <<<"$got" >"$LOGS/parser-$name.diff"; then
			record PASS "parser: $name"
		else
			record FAIL "parser: $name" "differs from $name.expected (build/logs/parser-$name.diff)"
		fi
	done < <(awk -F'\t' '!/^#/ && NF == 4' "$CASES/cases.tsv")
}

main
