#!/usr/bin/env bash
# Install the Debian packages the harness needs; as non-root, print the
# exact apt-get line instead. Nothing is downloaded from anywhere else.
. "$(dirname "$0")/lib.sh"

PACKAGES=(
	linux-source-6.1 gcc-aarch64-linux-gnu libc6-dev-arm64-cross
	qemu-system-arm bc flex bison libssl-dev libelf-dev cpio kmod
	ccache sparse make gcc git perl
	rsync				# the kernel's headers_install
	gnuplot-nox			# make bench draws its plot
	python3 python3-ply python3-git	# checkpatch's SPDX check (spdxcheck.py)
)

missing=()
for pkg in "${PACKAGES[@]}"; do
	dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'ok installed' ||
		missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	printf 'error: missing packages; run as root:\n  apt-get update && apt-get install -y %s\n' \
		"${missing[*]}" >&2
	exit 1
fi
note "installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
logged "$LOGS/apt.log" sh -c "apt-get update -q && apt-get install -y -q --no-install-recommends ${missing[*]}"
