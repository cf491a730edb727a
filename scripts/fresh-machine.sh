#!/usr/bin/env bash
# make fresh-check: the README's two commands on a bare Debian machine, as
# a new user would run them. Builds a bookworm root with debootstrap
# (--variant=minbase), clones this repository's committed state into it,
# installs nothing but make and git, and runs "make run" and "make test"
# there as root, with /proc, /sys and /dev bound in. Catches what a
# developer's machine hides: a package the harness uses but deps.sh does
# not install. Needs root and about 6 GB; a cold run takes about 25 minutes.
# Not part of make test. Log: build/logs/fresh-machine.log.
. "$(dirname "$0")/lib.sh"

ROOT=$BUILD/fresh-root
SUITE=bookworm
MIRROR=http://deb.debian.org/debian
MOUNTS=(proc sys dev)

# Unmount whatever is mounted under the root, deepest first; runs on every
# exit path, so that a failed run never leaves the host's /dev bound in.
unmount_all() {
	local m
	for m in $(awk -v r="$ROOT/" 'index($2, r) == 1 { print $2 }' /proc/mounts | sort -r); do
		umount -l "$m" || printf 'warning: could not unmount %s\n' "$m" >&2
	done
}

make_root() {
	command -v debootstrap >/dev/null || {
		say "installing debootstrap"
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q debootstrap >/dev/null
	}
	unmount_all
	rm -rf "$ROOT"
	say "debootstrap --variant=minbase $SUITE"
	debootstrap --variant=minbase "$SUITE" "$ROOT" "$MIRROR" >"$LOGS/fresh-debootstrap.log" 2>&1 ||
		die "debootstrap failed (build/logs/fresh-debootstrap.log)"
	# The same archive as the host: its sources and apt settings
	cp /etc/apt/sources.list.d/*.sources "$ROOT/etc/apt/sources.list.d/" 2>/dev/null || true
	cp /etc/apt/sources.list "$ROOT/etc/apt/" 2>/dev/null || true
	cp /etc/apt/apt.conf.d/99* "$ROOT/etc/apt/apt.conf.d/" 2>/dev/null || true
	cp /etc/resolv.conf "$ROOT/etc/resolv.conf"
}

bind_mounts() {
	local m
	for m in "${MOUNTS[@]}"; do
		mount --rbind "/$m" "$ROOT/$m"
		mount --make-rslave "$ROOT/$m"
	done
}

# What a new user types, after cloning: the README's first step and its
# two commands
in_root() {
	chroot "$ROOT" /usr/bin/env -i HOME=/root PATH=/usr/sbin:/usr/bin:/sbin:/bin \
		TERM=dumb LANG=C.UTF-8 /bin/bash -c "$1"
}

# fresh_command COMMAND: run it in the clone, log it, show its last lines
# and its time (the first command runs with an empty ccache: cold)
fresh_command() {
	local start=$SECONDS rc
	say "$1 (log: build/logs/fresh-machine.log)"
	in_root "cd /root/repo && $1" 2>&1 | tee -a "$LOGS/fresh-machine.log" | tail -n 5
	rc=${PIPESTATUS[0]}
	say "$1: exit $rc after $(((SECONDS - start) / 60)) min $(((SECONDS - start) % 60)) s" |
		tee -a "$LOGS/fresh-machine.log"
	[ "$rc" -eq 0 ] || die "$1 failed on the fresh machine"
}

main() {
	[ "$(id -u)" -eq 0 ] || die "run as root: debootstrap and chroot need it"
	[ -z "$(git -C "$TOP" status --porcelain --untracked-files=no)" ] ||
		note "uncommitted changes are not in the check: it clones what is committed"
	trap unmount_all EXIT
	make_root
	bind_mounts
	say "installing make and git, nothing else"
	in_root "apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q make git" \
		>"$LOGS/fresh-apt.log" 2>&1 || die "apt-get in the root failed (build/logs/fresh-apt.log)"
	git clone -q "$TOP" "$ROOT/root/repo"
	: >"$LOGS/fresh-machine.log"
	fresh_command "make run"
	fresh_command "make test"
	say "fresh machine: both commands passed"
}

main
