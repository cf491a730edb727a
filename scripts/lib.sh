# shellcheck shell=bash
# Shared paths and helpers for the harness scripts. Sourced, never run.

set -euo pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD:-$TOP/build}
SRC=${SRC:-$BUILD/linux}	# generated git work tree: base + one commit per patch
OBJ=${OBJ:-$BUILD/obj}		# out-of-tree kernel objects
OUT=${OUT:-$BUILD/out}		# fixed outputs: Image, usr/include, selftests, initramfs
LOGS=$BUILD/logs
PATCHES=$TOP/patches
SERIES=$PATCHES/series

BASE_PKG=linux-source-6.1
BASE_TARBALL=/usr/src/linux-source-6.1.tar.xz

export ARCH=arm64
export CROSS_COMPILE=aarch64-linux-gnu-
export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/ccache}
# Paths relative to the checkout, so that a fresh clone elsewhere (CI) hits
# the cache that an earlier clone filled.
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$TOP}
KMAKE=(make -C "$SRC" O="$OBJ" -j"$(nproc)" CC="ccache ${CROSS_COMPILE}gcc")

mkdir -p "$LOGS"

die() {
	printf 'error: %s\n' "$*" >&2
	exit 1
}

note() {
	printf '  %s\n' "$*"
}

# The Debian version of the base, e.g. 6.1.192-2; it names the base commit.
base_version() {
	dpkg-query -W -f='${Version}' "$BASE_PKG" 2>/dev/null
}

# Patch file names in series order, comments and blank lines skipped.
series_patches() {
	[ -f "$SERIES" ] || return 0
	sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$SERIES"
}

# Run a command with its output going to a log file; on failure show the
# log's tail so the cause is on screen, not only in the file.
logged() {
	local log=$1
	shift
	if ! "$@" >"$log" 2>&1; then
		printf '  failed: %s (last lines of %s)\n' "$*" "${log#"$TOP"/}" >&2
		tail -n 25 "$log" | sed 's/^/  | /' >&2
		return 1
	fi
}

# Results of the checks of one test run: "PASS|FAIL<TAB>name<TAB>detail".
RESULTS=${RESULTS:-$LOGS/results.tsv}

record() {
	printf '%s\t%s\t%s\n' "$1" "$2" "${3:-}" >>"$RESULTS"
}
