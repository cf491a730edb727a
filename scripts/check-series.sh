#!/usr/bin/env bash
# Series checks, one result per patch and check:
#   checkpatch: <patch>   scripts/checkpatch.pl --strict: no error, warning
#                         or check, except those in the
#                         topic's checkpatch-exceptions
#   builds W=1: <patch>   arch/arm64/kvm/ builds after this patch alone with
#                         no compiler warning the base does not have
#   builds W=1 x86: <patch>
#                         the same for arch/x86/kvm/ (x86_64, host gcc), for
#                         each patch that touches x86 or generic code
#   sparse                C=2 on arch/arm64/kvm/ at the tip reports nothing
#                         the base does not
#   rst headings: <file>  each section title of a reStructuredText file the
#                         series changes is no longer than its underline
#                         (and overline), which Sphinx would warn about
#   builds W=1 without a host PMU
#                         arch/arm64/kvm/ at the tip, with ARM_PMU (so
#                         HW_PERF_EVENTS) off, has no diagnostic the base
#                         has not in that configuration: KVM's PMU code is
#                         left out there, and the series calls into it
# The per-patch builds run in a separate worktree (build/bisect) so the main
# build is never disturbed. Exits 0 once every check ran, whatever the
# results; an error that stops the checks exits 1.
. "$(dirname "$0")/lib.sh"

EXCEPTIONS=checkpatch-exceptions	# in each topic directory
WT=$BUILD/bisect
WT_OBJ=$BUILD/obj-bisect
X86_OBJ=$BUILD/obj-x86
NOPMU_OBJ=$BUILD/obj-nopmu
CACHE=$BUILD/cache
KVM_DIR=arch/arm64/kvm/
X86_KVM_DIR=arch/x86/kvm/
# Paths whose change can break the x86 build: x86 itself and generic code
# (include/kvm/ holds arm64's KVM headers only)
X86_PATHS='^(arch/x86/|include/(linux|uapi|asm-generic|trace)/|virt/)'

# checkpatch types a patch ("topic/NNNN-name.patch") may trip, from its
# topic's exceptions file ("patch-file TYPE reason..."). Patches are
# matched without their number, so an exception follows its patch when the
# series is renumbered.
allowed_types() {
	local exceptions=$PATCHES/${1%%/*}/$EXCEPTIONS name=${1#*/}
	[ -f "$exceptions" ] || return 0
	awk -v p="${name#[0-9][0-9][0-9][0-9]-}" '
		/^#/ { next }
		{ name = $1; sub(/^[0-9][0-9][0-9][0-9]-/, "", name) }
		name == p { printf "%s,", $2 }' "$exceptions"
}

# Every exception must name a patch of its series: a stale one would
# silently excuse nothing, or the wrong patch after a rename.
check_exceptions() {
	local topic exceptions name
	for topic in $(topics); do
		exceptions=$PATCHES/$topic/$EXCEPTIONS
		[ -f "$exceptions" ] || continue
		while read -r name; do
			series_patches | sed -n "s|^$topic/[0-9]\{4\}-||p" |
				grep -qxF "${name#[0-9][0-9][0-9][0-9]-}" ||
				record FAIL "checkpatch exceptions" "$topic: $name is not in the series"
		done < <(awk '!/^#/ && NF { print $1 }' "$exceptions" | sort -u)
	done
}

# The log of check CHECK for patch "topic/name.patch"
patch_log() {
	mkdir -p "$LOGS/$1/${2%%/*}"
	echo "$LOGS/$1/$2.log"
}

checkpatch_one() {
	local patch=$1 log ignore
	log=$(patch_log checkpatch "$patch")
	ignore=$(allowed_types "$patch")
	# Debian's python3 first: spdxcheck.py needs its python3-ply/python3-git.
	(cd "$SRC" && PATH=/usr/bin:$PATH ./scripts/checkpatch.pl --strict --no-summary --show-types \
		${ignore:+--ignore "$ignore"} "$PATCHES/$patch") >"$log" 2>&1 && return 0
	grep -m1 -E '^(ERROR|WARNING|CHECK):' "$log" || echo "see ${log#"$TOP"/}"
	return 1
}

run_checkpatch() {
	local p why
	while read -r p; do
		if why=$(checkpatch_one "$p"); then
			record PASS "checkpatch: $p"
		else
			record FAIL "checkpatch: $p" "$why"
		fi
	done < <(series_patches)
}

wt_make() {
	make -C "$WT" O="$WT_OBJ" -j"$(nproc)" CC="ccache ${CROSS_COMPILE}gcc" W=1 "$@"
}

x86_make() {
	make -C "$WT" O="$X86_OBJ" ARCH=x86_64 CROSS_COMPILE= -j"$(nproc)" \
		CC="ccache gcc" W=1 "$@"
}

# allnoconfig + kernel-config/x86-kvm.config, every option checked
prepare_x86() {
	local fragment=$TOP/kernel-config/x86-kvm.config line
	mkdir -p "$X86_OBJ"
	x86_make allnoconfig >/dev/null
	(cd "$X86_OBJ" && "$WT/scripts/kconfig/merge_config.sh" -m -O "$X86_OBJ" \
		.config "$fragment" >/dev/null)
	x86_make olddefconfig >/dev/null
	while read -r line; do
		case "$line" in
		CONFIG_*=*) grep -qxF "$line" "$X86_OBJ/.config" ||
			die "x86 config: $line did not take effect" ;;
		esac
	done <"$fragment"
}

prepare_worktree() {
	if [ ! -e "$WT/.git" ]; then
		git -C "$SRC" worktree prune
		git -C "$SRC" worktree add -q --detach "$WT" base
	fi
	mkdir -p "$WT_OBJ" "$CACHE"
	cmp -s "$OBJ/.config.ok" "$WT_OBJ/.config" || cp "$OBJ/.config.ok" "$WT_OBJ/.config"
	wt_make olddefconfig >/dev/null
}

# Cached base results hold for one base and one configuration.
cache_key() {
	echo "$(base_version)-$(sha256sum <"$OBJ/.config.ok" | cut -c1-12)"
}

# Diagnostics as "file: warning: text", the file relative to the source
# tree (ccache's CCACHE_BASEDIR makes the compiler print relative paths,
# sparse prints absolute ones) and without line and column numbers, so that
# code moving down a file does not count as a new warning.
diagnostics() {
	sed -n -E 's/^([^ :]+):[0-9]+:([0-9]+:)? (warning|error): /\1: \3: /p' "$1" |
		sed -E 's|^[^ :]*/bisect/||' | sort -u
}

# Build arch/arm64/kvm/ at a commit; print the diagnostics its build shows.
build_at() {
	local commit=$1 log=$2
	git -C "$WT" checkout -q --detach "$commit"
	wt_make "$KVM_DIR" >"$log" 2>&1
}

# An object built before is not rebuilt, and its file's diagnostics (the
# kernel-doc ones too) do not show: a build whose diagnostics must all
# show starts without KVM's objects (ccache keeps it quick).
drop_kvm_objects() {
	rm -rf "${1:?}/$KVM_DIR"
}

base_diagnostics() {
	local cache=$CACHE/w1-$(cache_key).txt
	if [ ! -s "$cache" ]; then
		drop_kvm_objects "$WT_OBJ"
		build_at base "$LOGS/w1-base.log" || die "the base does not build"
		{ echo "# W=1 diagnostics of the base"; diagnostics "$LOGS/w1-base.log"; } >"$cache"
	fi
	cat "$cache"
}

run_bisect_builds() {
	local base_diag commit p
	prepare_worktree
	base_diag=$(base_diagnostics)
	build_at base "$LOGS/w1-base.log" || die "the base does not build"
	paste <(git -C "$SRC" rev-list --reverse base..HEAD) <(series_patches) |
		while IFS=$'\t' read -r commit p; do
			judge_build "builds W=1: $p" "$(patch_log w1 "$p")" "$base_diag" \
				build_at "$commit"
		done
}

# judge_build CHECK LOG BASE_DIAGNOSTICS BUILD_COMMAND...: run the build
# with its output in LOG; CHECK passes if it builds with no diagnostic the
# base does not have
judge_build() {
	local check=$1 log=$2 base_diag=$3 new
	shift 3
	if ! "$@" "$log"; then
		record FAIL "$check" "$(grep -m1 -E 'error:|Error' "$log")"
		return 0
	fi
	new=$(comm -13 <(echo "$base_diag") <(diagnostics "$log"))
	if [ -n "$new" ]; then
		record FAIL "$check" "new warning: $(head -n1 <<<"$new")"
	else
		record PASS "$check"
	fi
}

# Patches that touch x86 or generic code, as "commit<TAB>patch" lines
x86_patches() {
	local commit p
	paste <(git -C "$SRC" rev-list --reverse base..HEAD) <(series_patches) |
		while IFS=$'\t' read -r commit p; do
			git -C "$SRC" diff --name-only "$commit^" "$commit" |
				grep -qE "$X86_PATHS" && printf '%s\t%s\n' "$commit" "$p"
		done
	return 0
}

x86_build_at() {
	git -C "$WT" checkout -q --detach "$1"
	x86_make "$X86_KVM_DIR" >"$2" 2>&1
}

run_x86_builds() {
	local todo cache base_diag commit p
	todo=$(x86_patches)
	[ -n "$todo" ] || return 0
	git -C "$WT" checkout -q --detach base
	prepare_x86
	cache=$CACHE/w1-x86-$(base_version)-$(sha256sum <"$X86_OBJ/.config" | cut -c1-12).txt
	if [ ! -s "$cache" ]; then
		x86_build_at base "$LOGS/w1-x86-base.log" || die "the base does not build for x86"
		{ echo "# x86 W=1 diagnostics of the base"; diagnostics "$LOGS/w1-x86-base.log"; } >"$cache"
	fi
	base_diag=$(cat "$cache")
	while IFS=$'\t' read -r commit p; do
		judge_build "builds W=1 x86: $p" "$(patch_log w1-x86 "$p")" "$base_diag" \
			x86_build_at "$commit"
	done <<<"$todo"
}

sparse_report() {
	wt_make C=2 "$KVM_DIR" 2>&1 | diagnostics /dev/stdin
}

run_sparse() {
	local cache=$CACHE/sparse-$(cache_key).txt new
	if [ ! -s "$cache" ]; then
		build_at base "$LOGS/w1-base.log"
		{ echo "# sparse on the base"; sparse_report; } >"$cache"
	fi
	build_at HEAD "$LOGS/w1-tip.log" || true
	sparse_report >"$LOGS/sparse-tip.txt"
	new=$(comm -13 <(sort -u "$cache") "$LOGS/sparse-tip.txt")
	if [ -n "$new" ]; then
		printf '%s\n' "$new" >"$LOGS/sparse-new.txt"
		record FAIL "sparse: $KVM_DIR" "new: $(head -n1 <<<"$new")"
	else
		record PASS "sparse: $KVM_DIR"
	fi
}

nopmu_make() {
	make -C "$WT" O="$NOPMU_OBJ" -j"$(nproc)" CC="ccache ${CROSS_COMPILE}gcc" W=1 "$@"
}

# The test configuration without ARM_PMU; the object folder's .config is
# replaced only when that changes, so that its build stays incremental.
prepare_nopmu() {
	local new=$NOPMU_OBJ/.config.new
	mkdir -p "$NOPMU_OBJ"
	cp "$OBJ/.config.ok" "$new"
	"$WT/scripts/config" --file "$new" --disable ARM_PMU
	cmp -s "$new" "$NOPMU_OBJ/.config.in" || {
		cp "$new" "$NOPMU_OBJ/.config.in"
		cp "$new" "$NOPMU_OBJ/.config"
	}
	rm -f "$new"
	nopmu_make olddefconfig >/dev/null
	grep -qx 'CONFIG_KVM=y' "$NOPMU_OBJ/.config" || die "no-PMU config: KVM is off"
	! grep -q '^CONFIG_HW_PERF_EVENTS=y' "$NOPMU_OBJ/.config" ||
		die "no-PMU config: HW_PERF_EVENTS is still on"
}

nopmu_build_at() {
	git -C "$WT" checkout -q --detach "$1"
	nopmu_make "$KVM_DIR" >"$2" 2>&1
}

run_nopmu_build() {
	local cache base_diag
	git -C "$WT" checkout -q --detach base
	prepare_nopmu
	cache=$CACHE/w1-nopmu-$(base_version)-$(sha256sum <"$NOPMU_OBJ/.config" | cut -c1-12).txt
	if [ ! -s "$cache" ]; then
		drop_kvm_objects "$NOPMU_OBJ"
		nopmu_build_at base "$LOGS/w1-nopmu-base.log" ||
			die "the base does not build without ARM_PMU"
		{ echo "# W=1 diagnostics of the base without ARM_PMU"
		  diagnostics "$LOGS/w1-nopmu-base.log"; } >"$cache"
	fi
	base_diag=$(cat "$cache")
	drop_kvm_objects "$NOPMU_OBJ"
	judge_build "builds W=1 without a host PMU: $KVM_DIR" "$LOGS/w1-nopmu-tip.log" \
		"$base_diag" nopmu_build_at HEAD
}

# rst_heading_errors: "LINE: why" for each section title of the rst text
# on stdin that is longer than its underline, or whose overline differs
# from its underline. A title is a non-blank line followed by a line of
# one punctuation character repeated (at least three of them).
rst_heading_errors() {
	awk '
	function adornment(s,   i, c) {
		c = substr(s, 1, 1)
		if (length(s) < 3 || index("=-~^\"`#*+:._\047", c) == 0)
			return ""
		for (i = 2; i <= length(s); i++)
			if (substr(s, i, 1) != c)
				return ""
		return c
	}
	{ text[NR] = $0 }
	END {
		for (i = 2; i <= NR; i++) {
			title = text[i - 1]
			if (adornment(text[i]) == "" || title ~ /^[ \t]*$/ ||
			    adornment(title) != "")
				continue
			if (length(text[i]) < length(title))
				printf "%d: underline shorter than \"%s\"\n", i, title
			if (i > 2 && adornment(text[i - 2]) != "" && text[i - 2] != text[i])
				printf "%d: overline and underline differ\n", i - 2
		}
	}'
}

run_rst_headings() {
	local file why
	# The checker on a page with one short underline finds just that one
	why=$(printf 'Good\n====\n\nShort title\n----\n' | rst_heading_errors)
	[ "$why" = '5: underline shorter than "Short title"' ] ||
		die "the rst heading check does not find a short underline: $why"
	while read -r file; do
		why=$(git -C "$SRC" show "HEAD:$file" | rst_heading_errors)
		if [ -z "$why" ]; then
			record PASS "rst headings: $file"
		else
			record FAIL "rst headings: $file" "line $(head -n1 <<<"$why")"
		fi
	done < <(git -C "$SRC" diff --name-only base HEAD -- '*.rst')
}

main() {
	[ -f "$OBJ/.config.ok" ] || die "no kernel configuration; build the kernel first"
	[ "$(series_patches | wc -l)" -eq "$(git -C "$SRC" rev-list --count base..HEAD)" ] ||
		die "build/linux holds commits not in patches/: make export first"
	check_exceptions
	run_checkpatch
	run_rst_headings
	run_bisect_builds
	run_x86_builds
	run_sparse
	run_nopmu_build
}

main
