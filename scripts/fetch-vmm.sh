#!/usr/bin/env bash
# Fetch the VMM a Debian host runs, for the test kernel to run: bookworm's
# qemu-system-arm built for arm64, with every library it needs (Depends,
# no Recommends), unpacked into one root tree, build/vmm/root, that
# scripts/mkinitramfs.sh packs for a manifest that runs /vmm/ programs.
# apt runs with a configuration of its own under build/vmm/apt (arm64
# only, an empty dpkg state): the machine's sources, lists, dpkg state
# and architectures are read for nothing and changed in nothing. The
# packages stay in build/vmm/apt/cache; a second run unpacks nothing.
. "$(dirname "$0")/lib.sh"

VMM_DIR=$BUILD/vmm
APT_DIR=$VMM_DIR/apt
ROOT=$VMM_DIR/root
PACKAGE=qemu-system-arm
SUITES="bookworm bookworm-updates"
# What the guest never reads: documentation, translations
PRUNE=(usr/share/doc usr/share/man usr/share/locale usr/share/info usr/share/lintian)

arm64_apt() {
	private_apt "$APT_DIR" -o APT::Architecture=arm64 -o APT::Architectures::=arm64 \
		-o Dir::State::status="$APT_DIR/status" -o Debug::NoLocking=1 "$@"
}

download() {
	local keyring=/usr/share/keyrings/debian-archive-keyring.gpg mirror suite
	mirror=$(debian_mirror)
	mkdir -p "$APT_DIR/sources.list.d"
	: >"$APT_DIR/status"
	for suite in $SUITES; do
		printf 'deb [arch=arm64 signed-by=%s] %s %s main\n' "$keyring" "$mirror" "$suite"
	done >"$APT_DIR/sources.list.d/bookworm-arm64.list"
	arm64_apt update >/dev/null
	arm64_apt install -y --download-only --no-install-recommends "$PACKAGE" >/dev/null
}

unpack() {
	local tmp=$VMM_DIR/root.new deb
	rm -rf "$tmp" "$ROOT"
	mkdir -p "$tmp"
	for deb in "$APT_DIR"/cache/archives/*.deb; do
		dpkg-deb -x "$deb" "$tmp"
	done
	for dir in "${PRUNE[@]}"; do
		rm -rf "${tmp:?}/$dir"
	done
	[ -x "$tmp/usr/bin/qemu-system-aarch64" ] || die "$PACKAGE has no qemu-system-aarch64"
	dpkg-deb -f "$(ls "$APT_DIR"/cache/archives/"$PACKAGE"_*.deb)" Version >"$tmp/.qemu-version"
	mv "$tmp" "$ROOT"
}

main() {
	if [ -f "$ROOT/.qemu-version" ]; then
		note "$PACKAGE $(cat "$ROOT/.qemu-version") (arm64) already in ${ROOT#"$TOP"/}"
		return 0
	fi
	say "fetching $PACKAGE for arm64 and its libraries (private apt configuration)"
	ls "$APT_DIR"/cache/archives/"$PACKAGE"_*.deb >/dev/null 2>&1 || download
	say "unpacking $(ls "$APT_DIR"/cache/archives/*.deb | wc -l) packages"
	unpack
	note "$PACKAGE $(cat "$ROOT/.qemu-version") (arm64) in ${ROOT#"$TOP"/}:" \
		"$(du -sm "$ROOT" | cut -f1) MB"
}

main
