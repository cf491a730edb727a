#!/usr/bin/env bash
# make export-oracle: write the commits of mainline's tree on top of its
# tag oracle-base (build/mainline/src, the adaptations of its selftests)
# back to oracle/patches, one file per commit, without hashes or a git
# version, so that an unchanged commit exports to an unchanged file.
. "$(dirname "$0")/lib.sh"

main() {
	[ -d "$MAINLINE_SRC/.git" ] || die "no $MAINLINE_PKG tree; run scripts/fetch-mainline.sh"
	rm -f "$ORACLE_PATCHES"/*.patch
	git -C "$MAINLINE_SRC" format-patch -q -o "$ORACLE_PATCHES" --zero-commit \
		--signature="adaptation of $MAINLINE_PKG selftests" oracle-base..HEAD
	# The work tree now matches the patch files
	printf '%s\n%s\n' "$(cat "$ORACLE_PATCHES"/*.patch | sha256sum | cut -d' ' -f1)" \
		"$(git -C "$MAINLINE_SRC" rev-parse HEAD)" >"$MAINLINE_SRC/.git/harness-adapted"
	ls "$ORACLE_PATCHES"
}

main
