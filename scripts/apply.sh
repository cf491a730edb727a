#!/usr/bin/env bash
# Make build/linux a git work tree holding the pristine base as its first
# commit (tagged "base") and one commit per patch of each series of
# patches/topics on top, in that order. A branch named after each topic but
# the last marks the series' last commit (see topic_end in lib.sh).
#
# Idempotent: a stamp records which patch files were applied and the HEAD
# that resulted, so a re-run with nothing changed returns at once, and
# commits a developer made in the work tree are never thrown away unless
# FORCE=1 is given. A patch that fails to apply leaves the tree as it was.
# "apply.sh --record" marks the current work tree as the applied series
# (make export uses it after writing the patch files).
. "$(dirname "$0")/lib.sh"

STAMP=$SRC/.git/harness-applied

git_src() {
	git -C "$SRC" "$@"
}

# A digest of everything that decides the applied result.
series_digest() {
	{
		base_version
		topics
		series_patches | while read -r p; do
			[ -f "$PATCHES/$p" ] || die "series names $p, which is not in patches/"
			sha256sum "$PATCHES/$p"
		done
	} | sha256sum | cut -d' ' -f1
}

have_identity() {
	git_src config user.email >/dev/null 2>&1
}

unpack_base() {
	local version=$1 tmp=$BUILD/linux.unpack
	note "unpacking $BASE_PKG $version (once)"
	rm -rf "$tmp" "$SRC"
	mkdir -p "$tmp"
	tar -xJf "$BASE_TARBALL" -C "$tmp" --strip-components=1
	git -C "$tmp" init -q -b base-tree
	git -C "$tmp" config gc.auto 0
	git -C "$tmp" config core.untrackedCache true
	git -C "$tmp" add -f -A  # Debian's .gitignore ignores the top level
	# The harness makes this commit, not the user: a fixed identity, so
	# that a machine without a git identity can unpack the base.
	git -C "$tmp" -c user.name=harness -c user.email=harness@localhost \
		commit -q -m "Debian $BASE_PKG $version (pristine base)"
	git -C "$tmp" tag base
	mv "$tmp" "$SRC"
}

# Nonempty when the work tree holds commits, edits or new files not in the
# patch files. New files count even where Debian's .gitignore hides them:
# the builds are out of tree, so nothing else is ever untracked there, and
# re-applying (git clean -x) would delete them.
local_work() {
	local recorded_head
	recorded_head=$(sed -n 2p "$STAMP" 2>/dev/null)
	[ "$(git_src rev-parse HEAD)" != "$recorded_head" ] && echo "commits since the last apply"
	git_src status --porcelain --ignored --untracked-files=all | head -3
}

write_stamp() {
	printf '%s\n%s\n' "$1" "$(git_src rev-parse HEAD)" >"$STAMP"
}

# Report the patch git am stopped on and the files it could not patch.
report_conflict() {
	local name=$1
	printf 'error: %s does not apply to %s %s\n' "$name" "$BASE_PKG" "$(base_version)" >&2
	git_src apply --check "$PATCHES/$name" 2>&1 |
		sed -n 's/^error: patch failed: \(.*\):[0-9]*$/\1/p; s/^error: \(.*\): does not exist in index$/\1/p' |
		sort -u | sed 's/^/  conflicting file: /' >&2
}

apply_series() {
	local topic p
	git_src reset -q --hard base
	git_src clean -qfdx
	for topic in $(topics); do
		while read -r p; do
			if ! git_src am -q --committer-date-is-author-date "$PATCHES/$p" >>"$LOGS/apply.log" 2>&1; then
				report_conflict "$p"
				git_src am --abort >/dev/null 2>&1 || true
				return 1
			fi
		done < <(series_patches | grep "^$topic/")
		[ "$(topic_end "$topic")" = HEAD ] || git_src branch -f "$topic" HEAD
	done
}

main() {
	local version want have old_head work
	version=$(base_version)
	[ -n "$version" ] || die "$BASE_PKG is not installed (run scripts/deps.sh)"

	if ! git_src log -1 --format=%s base 2>/dev/null | grep -qF " $version "; then
		unpack_base "$version"
	fi
	# A rebase moves the topic branches with the commits they mark.
	git_src config rebase.updateRefs true
	have_identity || export GIT_COMMITTER_NAME=${GIT_COMMITTER_NAME:-harness} \
		GIT_COMMITTER_EMAIL=${GIT_COMMITTER_EMAIL:-harness@localhost}

	want=$(series_digest)
	if [ "${1:-}" = --record ]; then	# make export: the tree *is* the series
		write_stamp "$want"
		return 0
	fi
	have=$(sed -n 1p "$STAMP" 2>/dev/null || true)
	work=$(local_work || true)
	if [ "$want" = "$have" ]; then
		[ -n "$work" ] && note "work tree has changes not yet exported (make export)"
		return 0
	fi
	if [ -n "$work" ] && [ -z "${FORCE:-}" ] && [ -n "$have" ]; then
		die "build/linux has work not in patches/ and patches/ changed too:
  export it (make export) or drop it (make apply FORCE=1)"
	fi

	old_head=$(git_src rev-parse HEAD)
	: >"$LOGS/apply.log"
	if ! apply_series; then
		git_src reset -q --hard "$old_head"
		exit 1
	fi
	write_stamp "$want"
	note "applied $(series_patches | wc -l) patches on $BASE_PKG $version"
}

# The base the patches were made on, next to the one installed: Debian
# updates linux-source-6.1 in place, and a newer base may need a rebase.
report_base() {
	local recorded
	recorded=$(cat "$BASE_RECORD" 2>/dev/null || echo "unknown")
	note "base: $BASE_PKG $(base_version); patches exported on: $recorded"
	[ "$recorded" = "$BASE_PKG $(base_version)" ] ||
		note "warning: the installed base differs from the one the patches were exported on"
	return 0
}

main "$@"
report_base
