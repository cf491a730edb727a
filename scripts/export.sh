#!/usr/bin/env bash
# Export the commits of build/linux into patches/, one series per topic of
# patches/topics (its commit range: topic_range in lib.sh). For each topic:
# one format-patch file per commit, the series file, and
# 0000-cover-letter.patch built from the topic's cover-letter.txt (first
# line: subject; rest: text). The output does not churn: no commit hashes,
# a fixed signature, the cover letter dated like the newest patch, so a
# re-export of unchanged commits changes nothing in this repo.
. "$(dirname "$0")/lib.sh"

# A fixed signature instead of the git version: the "-- " separator stays
# (as in plain format-patch output) and nothing churns when git changes.
signature() {
	echo "$BASE_PKG $1 series"
}

format_patches() {
	local topic=$1 dir=$2 count=$3
	git -C "$SRC" format-patch -q -o "$dir" --zero-commit \
		--signature="$(signature "$topic")" \
		--numbered --subject-prefix=PATCH \
		$([ "$count" -gt 1 ] && echo --cover-letter) "$(topic_range "$topic")"
}

# Put the subject and the text of cover-letter.txt in place of git's
# placeholders and give the letter the date of the newest patch.
fill_cover_letter() {
	local letter=$1 newest=$2 text=$3 subject date
	subject=$(head -n1 "$text")
	date=$(sed -n 's/^Date: //p' "$newest" | head -n1)
	awk -v subject="$subject" -v date="$date" -v textfile="$text" '
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
		(cd "$dir" && ls -1 -- *.patch 2>/dev/null | grep -v '^0000-cover-letter' || true)
	} >"$dir/series"
}

# Each topic branch must lie on the history of the next one and of HEAD,
# or the ranges would overlap or miss commits.
check_topic_ends() {
	local topic prev=base end
	for topic in $(topics); do
		end=$(topic_end "$topic")
		git -C "$SRC" rev-parse -q --verify "$end^{commit}" >/dev/null ||
			die "build/linux has no branch '$topic' marking the end of that series (make apply FORCE=1 recreates it)"
		git -C "$SRC" merge-base --is-ancestor "$prev" "$end" ||
			die "'$end' does not contain '$prev': rebase with --update-refs (rebase.updateRefs is set by make apply)"
		prev=$end
	done
}

# export_topic TOPIC TMPDIR: write the topic's files into TMPDIR, echo the
# number of patches
export_topic() {
	local topic=$1 dir=$2 count cover newest text=$PATCHES/$1/cover-letter.txt
	count=$(git -C "$SRC" rev-list --count "$(topic_range "$topic")")
	mkdir -p "$dir"
	[ "$count" -eq 0 ] || format_patches "$topic" "$dir" "$count"
	cover=$dir/0000-cover-letter.patch
	if [ -f "$cover" ]; then
		[ -f "$text" ] || die "patches/$topic/cover-letter.txt is missing"
		newest=$(ls "$dir"/*.patch | tail -n1)
		fill_cover_letter "$cover" "$newest" "$text"
	fi
	write_series "$dir"
	echo "$count"
}

main() {
	local topic count summary=()
	[ -d "$SRC/.git" ] || die "no work tree to export"
	[ -z "$(git -C "$SRC" status --porcelain --untracked-files=no)" ] ||
		die "build/linux has uncommitted edits; commit them first"
	check_topic_ends
	tmp=$(mktemp -d)	# global: the EXIT trap outlives main
	trap 'rm -rf "$tmp"' EXIT
	for topic in $(topics); do
		count=$(export_topic "$topic" "$tmp/$topic")
		summary+=("$topic: $count")
	done
	for topic in $(topics); do
		mkdir -p "$PATCHES/$topic"
		rm -f "$PATCHES/$topic"/*.patch
		cp "$tmp/$topic"/*.patch "$PATCHES/$topic"/ 2>/dev/null || true
		cp "$tmp/$topic/series" "$PATCHES/$topic/series"
	done
	echo "$BASE_PKG $(base_version)" >"$BASE_RECORD"
	# The work tree now matches the patch files: record it as applied.
	"$TOP/scripts/apply.sh" --record
	note "exported to patches/ (${summary[*]})"
}

main
