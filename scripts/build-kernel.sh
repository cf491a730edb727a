#!/usr/bin/env bash
# Build the patched kernel out of tree: allnoconfig plus fragments of
# kernel-config/, then the Image and the UAPI headers at fixed paths:
#   build/out/Image            the kernel QEMU boots
#   build/out/usr/include      installed UAPI headers (selftests, demo VMM)
# Usage: build-kernel.sh [FRAGMENT...]; the default is the test kernel,
# kvm.config + debug.config + vmm.config. OBJ and OUT in the environment
# move the objects and outputs elsewhere (make bench builds its kernels
# so).
. "$(dirname "$0")/lib.sh"

if [ $# -eq 0 ]; then
	set -- kvm.config debug.config vmm.config
fi
FRAGMENTS=()
for fragment in "$@"; do
	FRAGMENTS+=("$TOP/kernel-config/$fragment")
done

# Write .config only when its content changes, so that an unchanged
# configuration never triggers a rebuild.
configure() {
	local tmp=$OBJ/.config.new merged=$OBJ/.config-merged
	mkdir -p "$OBJ" "$merged"
	"${KMAKE[@]}" KCONFIG_CONFIG=.config.new allnoconfig >/dev/null
	# merge_config.sh writes DIR/.config: never the build's own .config
	(cd "$OBJ" && "$SRC/scripts/kconfig/merge_config.sh" -m -O "$merged" \
		.config.new "${FRAGMENTS[@]}" >/dev/null)
	mv "$merged/.config" "$tmp"
	"${KMAKE[@]}" KCONFIG_CONFIG=.config.new olddefconfig >/dev/null
	check_fragments "$tmp"
	if [ -f "$OBJ/.config" ] && cmp -s "$tmp" "$OBJ/.config.ok"; then
		rm -f "$tmp"
	else
		cp "$tmp" "$OBJ/.config.ok"
		mv "$tmp" "$OBJ/.config"
	fi
	# Without it, make builds from the stale include/config/auto.conf
	cmp -s "$OBJ/.config" "$OBJ/.config.ok" ||
		die "$OBJ/.config is not the configuration just made"
}

# Every option a fragment asks for must survive olddefconfig; a silently
# dropped dependency would otherwise test a different kernel than intended.
check_fragments() {
	local config=$1 line bad=0
	while read -r line; do
		case "$line" in
		CONFIG_*=*) grep -qxF "$line" "$config" ;;
		"# CONFIG_"*" is not set") ! grep -q "^${line:2:-11}=" "$config" ;;
		*) continue ;;
		esac || { printf '  config: %s did not take effect\n' "$line" >&2; bad=1; }
	done < <(cat "${FRAGMENTS[@]}")
	return $bad
}

# Nothing downstream may use an Image or headers of an earlier build: take
# them down first, and publish the new ones only once both are built.
main() {
	[ -e "$SRC/.git" ] || die "no work tree; run scripts/apply.sh first"
	mkdir -p "$OUT"
	rm -rf "$OUT/Image" "$OUT/usr" "$OUT/usr.new"
	configure
	"${KMAKE[@]}" Image
	"${KMAKE[@]}" headers_install INSTALL_HDR_PATH="$OUT/usr.new" >/dev/null
	cp "$OBJ/arch/arm64/boot/Image" "$OUT/Image"
	mv "$OUT/usr.new" "$OUT/usr"
}

main
