#!/usr/bin/env bash
# Build, statically, mainline's KVM selftests that guest/mainline.list
# names (/mainline/<path> there is tools/testing/selftests/kvm/<path> of
# linux-source-6.12), with the adaptations of oracle/patches applied as
# commits on the tag oracle-base, against mainline's own UAPI headers.
# Output: build/out/mainline-selftests/. Needs scripts/fetch-mainline.sh.
. "$(dirname "$0")/lib.sh"

SELFTESTS=$OUT/mainline-selftests
HEADERS=$MAINLINE_DIR/headers
STAMP=$MAINLINE_SRC/.git/harness-adapted

git_ml() {
	git -C "$MAINLINE_SRC" "$@"
}

# The adaptations, applied afresh whenever a patch file changes. The tree
# tracks only the selftests, so this is cheap; a commit made there and not
# exported (make export-oracle) is never thrown away.
adapt() {
	local digest
	digest=$(cat "$ORACLE_PATCHES"/*.patch | sha256sum | cut -d' ' -f1)
	[ "$digest" = "$(sed -n 1p "$STAMP" 2>/dev/null)" ] && return 0
	if [ -f "$STAMP" ] && [ "$(git_ml rev-parse HEAD)" != "$(sed -n 2p "$STAMP")" ]; then
		die "${MAINLINE_SRC#"$TOP"/} has commits that are not in oracle/patches (make export-oracle)"
	fi
	git_ml reset -q --hard oracle-base
	git_ml -c user.name=harness -c user.email=harness@localhost \
		am -q --committer-date-is-author-date "$ORACLE_PATCHES"/*.patch ||
		{ git_ml am --abort; die "oracle/patches do not apply to $MAINLINE_PKG"; }
	printf '%s\n%s\n' "$digest" "$(git_ml rev-parse HEAD)" >"$STAMP"
	rm -rf "$SELFTESTS"
}

# Mainline's UAPI headers, installed outside its tree (O=), which stays
# clean for the reference kernel's out-of-tree build.
headers() {
	local version
	version=$(cat "$MAINLINE_SRC/.debian-version")
	[ "$(cat "$HEADERS/.debian-version" 2>/dev/null)" = "$version" ] && return 0
	rm -rf "$HEADERS"
	make -C "$MAINLINE_SRC" O="$HEADERS" headers_install >/dev/null
	echo "$version" >"$HEADERS/.debian-version"
}

wanted_tests() {
	manifest_entries "$TOP/guest/mainline.list" |
		awk -F'\t' '$3 ~ "^/mainline/" { sub("^/mainline/", "", $3); print $3 }' | sort -u
}

main() {
	local targets=()
	[ -f "$MAINLINE_SRC/.debian-version" ] || die "no $MAINLINE_PKG; run scripts/fetch-mainline.sh"
	adapt
	headers
	mapfile -t targets < <(wanted_tests | sed "s|^|$SELFTESTS/|")
	mkdir -p "$SELFTESTS"
	make -C "$MAINLINE_SRC/tools/testing/selftests/kvm" -j"$(nproc)" \
		OUTPUT="$SELFTESTS" CC="ccache ${CROSS_COMPILE}gcc" \
		KHDR_INCLUDES="-isystem $HEADERS/usr/include" \
		EXTRA_CFLAGS="-static" "${targets[@]}"
}

main
