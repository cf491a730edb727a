#!/usr/bin/env bash
# The guest init's own test: tests/init/output.c builds guest/init.c into a
# host program and checks how it keeps a test's output (long output whole,
# output over its limit cut and marked). One result per case: "init: ...".
. "$(dirname "$0")/lib.sh"

main() {
	local program=$BUILD/init-test verdict name why
	gcc -O2 -Wall -Wextra -Werror -Wno-unused-function \
		-o "$program" "$TOP/tests/init/output.c" || die "tests/init/output.c does not build"
	"$program" >"$LOGS/init-test.tsv" || true	# its lines say what failed
	[ -s "$LOGS/init-test.tsv" ] || die "the init test reported nothing"
	while IFS=$'\t' read -r verdict name why; do
		record "$verdict" "$name" "$why"
	done <"$LOGS/init-test.tsv"
}

main
