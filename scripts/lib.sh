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
TOPICS=$PATCHES/topics		# the series (one per topic), in the order they apply
BASE_RECORD=$PATCHES/base-version	# the base the patches were exported on
MODES_TABLE=$TOP/scripts/modes.tsv

BASE_SRC=$BUILD/base-src	# the base alone: a worktree of $SRC at its tag "base"
BASE_KERNEL=$BUILD/base-kernel	# the base's kernel (kvm.config, distro.config): obj/, out/Image
BASE_TEST_KERNEL=$BUILD/base-test	# the base's kernel, test configuration: obj/, out/Image
CORE_SRC=$BUILD/core-src	# the series without its last topic: a worktree of $SRC
CORE_KERNEL=$BUILD/core	# its kernel, test configuration: obj/, out/Image

BASE_PKG=linux-source-6.1
BASE_TARBALL=/usr/src/linux-source-6.1.tar.xz

# Mainline's implementation, the tests' oracle (scripts/fetch-mainline.sh)
MAINLINE_PKG=linux-source-6.12
MAINLINE_DIR=$BUILD/mainline
MAINLINE_SRC=$MAINLINE_DIR/src	# the unpacked tree (kernels build out of it)
ORACLE_PATCHES=$TOP/oracle/patches	# adaptations of its selftests, with reasons
REFERENCE_DIR=${REFERENCE_DIR:-$MAINLINE_DIR/kernel}	# its kernel, our test configuration
REFERENCE_OUT=$REFERENCE_DIR/out	# ... its Image and UAPI headers

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

# A stage of a long command, as a heading
say() {
	printf '==> %s\n' "$*"
}

note() {
	printf '  %s\n' "$*"
}

# The Debian version of the base, e.g. 6.1.192-2; it names the base commit.
base_version() {
	dpkg-query -W -f='${Version}' "$BASE_PKG" 2>/dev/null
}

# Lines of a list file, comments and blank lines skipped
list_entries() {
	sed -e 's/#.*//' -e 's/[[:space:]]*$//' -e '/^[[:space:]]*$/d' "$1"
}

# The topics of patches/topics in apply order; each is a directory of
# patches/ holding one series.
topics() {
	[ -f "$TOPICS" ] || die "patches/topics is missing"
	list_entries "$TOPICS"
}

# Every patch of every series in apply order, as "topic/NNNN-name.patch"
# (relative to patches/).
series_patches() {
	local topic
	for topic in $(topics); do
		[ -f "$PATCHES/$topic/series" ] || continue
		list_entries "$PATCHES/$topic/series" | sed "s|^|$topic/|"
	done
}

# The work tree marks where each series but the last ends with a branch
# named after its topic; the last one ends at HEAD. rebase.updateRefs
# (set by apply.sh) moves these branches along when commits are rebased.
topic_end() {
	if [ "$1" = "$(topics | tail -n1)" ]; then
		echo HEAD
	else
		echo "refs/heads/$1"
	fi
}

# The commit range of a topic's series in the work tree, "from..to"
topic_range() {
	local topic prev=base
	for topic in $(topics); do
		if [ "$topic" = "$1" ]; then
			echo "$prev..$(topic_end "$topic")"
			return 0
		fi
		prev=$(topic_end "$topic")
	done
	die "no topic '$1' in patches/topics"
}

# worktree_at DIR REV: DIR holds the work tree's REV, checked out detached.
# A clean worktree there moves in place, so that the files REV does not
# change keep their times and a build from it stays incremental; anything
# else in DIR (a checkout cut short, edits) is made afresh.
worktree_at() {
	local dir=$1 commit
	commit=$(git -C "$SRC" rev-parse "$2^{commit}")
	if [ -d "$dir" ] &&
	   [ "$(git -C "$dir" rev-parse --show-toplevel 2>/dev/null)" = "$(cd "$dir" && pwd -P)" ] &&
	   [ -z "$(git -C "$dir" status --porcelain)" ]; then
		git -C "$dir" checkout -q --detach "$commit"
		return 0
	fi
	rm -rf "$dir"
	git -C "$SRC" worktree prune
	git -C "$SRC" worktree add -q --detach "$dir" "$commit"
}

# The base alone, in $BASE_SRC: a worktree that follows the tag "base" of
# the work tree
base_worktree() {
	worktree_at "$BASE_SRC" base
}

# The core series, in $CORE_SRC: every topic but the last, which holds what
# mainline lacks (patches/topics) and which a distro may leave out. Its end
# must be part of the series under test: a topic branch left behind by a
# rebase without --update-refs would boot something else.
core_worktree() {
	local topics_but_last end
	topics_but_last=$(topics | head -n -1)
	[ -n "$topics_but_last" ] || die "patches/topics has one topic: there is no core series"
	end=$(topic_end "$(tail -n1 <<<"$topics_but_last")")
	git -C "$SRC" merge-base --is-ancestor "$end" HEAD ||
		die "$end is not part of the series in build/linux (make apply FORCE=1 recreates the topic branches)"
	worktree_at "$CORE_SRC" "$end"
}

# The unpatched base kernel from kernel-config/kvm.config and distro.config, in
# $BASE_KERNEL/out/Image: what make bench and record-base-regs.sh compare
# with.
build_base_kernel() {
	base_worktree
	SRC=$BASE_SRC OBJ=$BASE_KERNEL/obj OUT=$BASE_KERNEL/out \
		logged "$LOGS/build-base-kernel.log" "$TOP/scripts/build-kernel.sh" kvm.config distro.config
}

# The first http(s) Debian mirror of the machine's sources (deb822 or
# one-line), else Debian's own
debian_mirror() {
	local uri
	uri=$({ grep -hs '^URIs:' /etc/apt/sources.list.d/*.sources | sed 's/^URIs://' | tr ' ' '\n'
		grep -hs -E '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list |
			sed -E 's/^deb +(\[[^]]*\] +)?//' | awk '{ print $1 }'
	      } | grep -m1 -E '^https?://[^ ]*/debian/?$' || true)
	echo "${uri:-http://deb.debian.org/debian}" | sed 's|/*$||'
}

# private_apt DIR ARGS...: apt-get with a configuration of its own under
# DIR (sources.list.d/, lists/, cache/): the machine's sources, lists and
# dpkg state are read for nothing and changed in nothing.
private_apt() {
	local dir=$1
	shift
	mkdir -p "$dir/sources.list.d" "$dir/lists/partial" "$dir/cache/archives/partial"
	apt-get -q -o Dir::Etc::sourcelist=/dev/null \
		-o Dir::Etc::sourceparts="$dir/sources.list.d" \
		-o Dir::State::Lists="$dir/lists" \
		-o Dir::Cache="$dir/cache" "$@"
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

# The one reader of the test manifests (guest/*.list): for each test,
# "name<TAB>timeout_s<TAB>argv0<TAB>argument count<TAB>argv1 argv2 ...",
# comments and blank lines skipped. Lines with fewer than three words are
# an error.
manifest_entries() {
	awk -v f="$1" '
		{ sub(/#.*/, "") }
		NF == 0 { next }
		NF < 3 { printf "error: %s:%d: want \"name timeout argv...\"\n", f, NR > "/dev/stderr"; bad = 1; next }
		$2 !~ /^[0-9]+$/ { printf "error: %s:%d: timeout \"%s\" is not a number\n", f, NR, $2 > "/dev/stderr"; bad = 1; next }
		{
			args = ""
			for (i = 4; i <= NF; i++)
				args = args (i > 4 ? " " : "") $i
			printf "%s\t%s\t%s\t%d\t%s\n", $1, $2, $3, NF - 2, args
		}
		END { exit bad }' "$1"
}

# A result of a check, printed on standard output among a step's other
# lines: "result<TAB>PASS|FAIL|XFAIL<TAB>name<TAB>detail". Steps only print
# them; the pipeline collects them (results_of) into one table.
record() {
	printf 'result\t%s\t%s\t%s\n' "$1" "$2" "${3:-}"
}

# The results in a step's output (a file, or - for standard input), as
# "PASS|FAIL|XFAIL<TAB>name<TAB>detail"
results_of() {
	sed -n 's/^result\t//p' "$1"
}

# The KVM modes of scripts/modes.tsv, in order
mode_names() {
	awk -F'\t' '!/^#/ && NF { print $1 }' "$MODES_TABLE"
}

# The modes mainline's kernel boots in (a banner for it in the table)
reference_mode_names() {
	awk -F'\t' '!/^#/ && NF && $4 != "none" { print $1 }' "$MODES_TABLE"
}

# mode_field MODE 2|3|4: its kernel arguments, its banner, or mainline's
# banner; an unknown mode is an error, never a default
mode_field() {
	local value
	value=$(awk -F'\t' -v m="$1" -v f="$2" '!/^#/ && $1 == m { print $f }' "$MODES_TABLE")
	[ -n "$value" ] || die "unknown KVM mode '$1' (scripts/modes.tsv has: $(mode_names | xargs))"
	[ "$value" = - ] || echo "$value"
}
