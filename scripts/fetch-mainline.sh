#!/usr/bin/env bash
# Fetch mainline's implementation, the oracle of the tests: Debian's
# linux-source-6.12 from bookworm-backports, unpacked once under
# build/mainline/ (MAINLINE_SRC in lib.sh). apt runs with a configuration
# of its own under build/mainline/apt: the machine's sources, lists and
# dpkg state are read for nothing and changed in nothing. The mirror is
# the one the machine's own Debian sources name.
. "$(dirname "$0")/lib.sh"

APT_DIR=$MAINLINE_DIR/apt
SUITE=bookworm-backports

download() {
	local keyring=/usr/share/keyrings/debian-archive-keyring.gpg mirror
	mirror=$(debian_mirror)
	mkdir -p "$APT_DIR/sources.list.d" "$MAINLINE_DIR/debs"
	printf 'deb [signed-by=%s] %s %s main\n' "$keyring" "$mirror" "$SUITE" \
		>"$APT_DIR/sources.list.d/backports.list"
	private_apt "$APT_DIR" update >/dev/null
	rm -f "$MAINLINE_DIR"/debs/*.deb
	(cd "$MAINLINE_DIR/debs" && private_apt "$APT_DIR" download "$MAINLINE_PKG")
}

unpack() {
	local deb tmp=$MAINLINE_DIR/unpack
	deb=$(ls "$MAINLINE_DIR"/debs/"$MAINLINE_PKG"_*.deb)
	rm -rf "$tmp" "$MAINLINE_SRC"
	mkdir -p "$tmp"
	dpkg-deb --fsys-tarfile "$deb" |
		tar -xO "./usr/src/$MAINLINE_PKG.tar.xz" | tar -xJ -C "$tmp" --strip-components=1
	dpkg-deb -f "$deb" Version >"$tmp/.debian-version"
	track_selftests "$tmp"
	mv "$tmp" "$MAINLINE_SRC"
}

# The KVM selftests alone under git, tagged oracle-base, so that the
# adaptations of oracle/patches apply (and export) as commits. The rest of
# the tree stays untracked and is never changed.
track_selftests() {
	git -C "$1" init -q -b work
	git -C "$1" config gc.auto 0
	git -C "$1" config status.showUntrackedFiles no
	git -C "$1" add -f tools/testing/selftests/kvm
	git -C "$1" -c user.name=harness -c user.email=harness@localhost \
		commit -q -m "$MAINLINE_PKG $(cat "$1/.debian-version"): KVM selftests"
	git -C "$1" tag oracle-base
}

main() {
	if [ -f "$MAINLINE_SRC/.debian-version" ]; then
		note "$MAINLINE_PKG $(cat "$MAINLINE_SRC/.debian-version") already unpacked"
		return 0
	fi
	say "fetching $MAINLINE_PKG from $SUITE (private apt configuration)"
	ls "$MAINLINE_DIR"/debs/"$MAINLINE_PKG"_*.deb >/dev/null 2>&1 || download
	say "unpacking $MAINLINE_PKG"
	unpack
	note "$MAINLINE_PKG $(cat "$MAINLINE_SRC/.debian-version") in ${MAINLINE_SRC#"$TOP"/}"
}

main
