#!/usr/bin/env bash
# Build, statically, the KVM selftests that the guest manifests name
# (/kvm/<path> there is tools/testing/selftests/kvm/<path> here), against
# the UAPI headers of the patched kernel. Output: build/out/selftests/.
. "$(dirname "$0")/lib.sh"

SELFTESTS=$OUT/selftests

# Unique /kvm/... paths named in the manifests, relative to the KVM folder.
wanted_tests() {
	local manifest
	for manifest in "$TOP"/guest/*.list; do
		manifest_entries "$manifest"
	done | awk -F'\t' '$3 ~ "^/kvm/" { sub("^/kvm/", "", $3); print $3 }' | sort -u
}

# The selftest Makefile does not track the UAPI headers: start afresh
# (cheap, with ccache) whenever the installed headers change.
drop_stale_build() {
	local digest stamp=$SELFTESTS/.headers
	digest=$(find "$OUT/usr/include" -type f -print0 | sort -z | xargs -0 cat | sha256sum)
	[ "$digest" = "$(cat "$stamp" 2>/dev/null)" ] && return 0
	rm -rf "$SELFTESTS"
	mkdir -p "$SELFTESTS"
	echo "$digest" >"$stamp"
}

main() {
	local targets=()
	[ -d "$OUT/usr/include" ] || die "no UAPI headers; run scripts/build-kernel.sh first"
	drop_stale_build
	mapfile -t targets < <(wanted_tests | sed "s|^|$SELFTESTS/|")
	mkdir -p "$SELFTESTS"
	make -C "$SRC/tools/testing/selftests/kvm" -j"$(nproc)" \
		OUTPUT="$SELFTESTS" CC="ccache ${CROSS_COMPILE}gcc" \
		INSTALL_HDR_PATH="$OUT/usr" KHDR_INCLUDES="-isystem $OUT/usr/include" \
		EXTRA_CFLAGS="-static" "${targets[@]}"
}

main
