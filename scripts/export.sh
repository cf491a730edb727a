#!/usr/bin/env bash
# Export the commits of build/linux (base..HEAD) into patches/: one
# format-patch file per commit, the series file, and 0000-cover-letter.patch
# built from patches/cover-letter.txt (first line: subject; rest: text).
# The output does not churn: no commit hashes, a fixed signature, the cover
# letter dated like the newest patch, so a re-export of unchanged commits
# changes nothing in this repo.
. "$(dirname "$0")/lib.sh"

COVER_TEXT=$PATCHES/cover-letter.txt
# A fixed signature instead of the git version: the "-- " separator stays
# (as in plain format-patch output) and nothing churns when git changes.
SIGNATURE="$BASE_PKG SMCCC filter series"

format_patches() {
	local dir=$1 count=$2
	git -C "$SRC" format-patch -q -o "$dir" --zero-commit \
		--signature="$SIGNATURE" \
		--numbered --subject-prefix=PATCH \
		$([ "$count" -gt 1 ] && echo --cover-letter) base..HEAD
}

# Put the subject and the text of cover-letter.txt in place of git's
# placeholders and give the letter the date of the newest patch.
fill_cover_letter() {
	local letter=$1 newest=$2 subject date
	subject=$(head -n1 "$COVER_TEXT")
	date=$(sed -n 's/^Date: //p' "$newest" | head -n1)
	awk -v subject="$subject" -v date="$date" -v textfile="$COVER_TEXT" '
		/^Date: / && !dated { print "Date: " date; dated = 1; next }
		/\*\*\* SUBJECT HERE \*\*\*/ { sub(/\*\*\* SUBJECT HERE \*\*\*/, subject) }
		/^\*\*\* BLURB HERE \*\*\*$/ {
			getline line < textfile	# skip the subject line
			while ((getline line < textfile) > 0)
				if (started || line != "") { print line; started = 1 }
			next
		}
		{ print }' "$letter" >"$letter.new"
	mv "$letter.new" "$letter"
}

write_series() {
	local dir=$1
	{
		echo "# Patches in the order git am applies them (written by make export)."
		(cd "$dir" && ls -1 -- *.patch | grep -v '^0000-cover-letter')
	} >"$dir/series"
}

main() {
	local count cover newest
	[ -d "$SRC/.git" ] || die "no work tree to export"
	[ -z "$(git -C "$SRC" status --porcelain --untracked-files=no)" ] ||
		die "build/linux has uncommitted edits; commit them first"
	count=$(git -C "$SRC" rev-list --count base..HEAD)
	tmp=$(mktemp -d)	# global: the EXIT trap outlives main
	trap 'rm -rf "$tmp"' EXIT
	[ "$count" -eq 0 ] || format_patches "$tmp" "$count"
	cover=$tmp/0000-cover-letter.patch
	if [ -f "$cover" ]; then
		[ -f "$COVER_TEXT" ] || die "patches/cover-letter.txt is missing"
		newest=$(ls "$tmp"/*.patch | tail -n1)
		fill_cover_letter "$cover" "$newest"
	fi
	write_series "$tmp"
	rm -f "$PATCHES"/*.patch
	cp "$tmp"/*.patch "$PATCHES"/ 2>/dev/null || true
	cp "$tmp/series" "$SERIES"
	echo "$BASE_PKG $(base_version)" >"$BASE_RECORD"
	# The work tree now matches the patch files: record it as applied.
	"$TOP/scripts/apply.sh" --record
	note "exported $count patches to patches/"
}

main
