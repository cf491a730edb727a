#!/usr/bin/env bash
# Pack an initramfs whose PID 1 is guest/init.c, with the tests of one
# manifest. Usage: mkinitramfs.sh MANIFEST OUTPUT.cpio.gz
# Uses the kernel's own gen_init_cpio, so no root is needed for /dev nodes.
. "$(dirname "$0")/lib.sh"

manifest=$1
output=$2
INIT_BIN=$OUT/init

build_init() {
	"${CROSS_COMPILE}gcc" -static -O2 -Wall -Wextra -Werror \
		-o "$INIT_BIN" "$TOP/guest/init.c"
}

# Map a path inside the guest to the host file that provides it.
host_file() {
	case "$1" in
	/kvm/*) echo "$OUT/selftests/${1#/kvm/}" ;;
	/mainline/*) echo "$OUT/mainline-selftests/${1#/mainline/}" ;;
	/demo/*) echo "$OUT/demo/${1#/demo/}" ;;
	/bench/*) echo "$OUT/bench/${1#/bench/}" ;;
	/vmm/*) echo "$OUT/vmm/${1#/vmm/}" ;;
	/data/*) echo "$TOP/guest/data/${1#/data/}" ;;
	*) die "$manifest: no host file provides $1" ;;
	esac
}

# What the guest needs from the host: "path mode" for every program the
# manifest runs and every argument that names a file under /data/; a
# file named with @mode@ is packed for each mode of scripts/modes.tsv
# (guest/init.c puts the booted mode in its place).
guest_files() {
	manifest_entries "$manifest" | awk -F'\t' -v modes="$(mode_names | xargs)" '
		$3 !~ /^@/ { print $3, "0755" }
		{
			n = split($5, args, " ")
			for (i = 1; i <= n; i++) {
				if (args[i] !~ "^/data/")
					continue
				if (args[i] !~ /@mode@/) {
					print args[i], "0644"
					continue
				}
				m = split(modes, mode, " ")
				for (j = 1; j <= m; j++) {
					path = args[i]
					sub(/@mode@/, mode[j], path)
					print path, "0644"
				}
			}
		}' | sort -u
}

# A manifest that runs a /vmm/ program (guest/vmm-scenarios.c) also gets
# Debian's QEMU (scripts/fetch-vmm.sh): qemu-system-aarch64 and the
# libraries it loads, each at its path (a library's file under the name
# the loader asks for), and the nested guest (scripts/build-vmm-guest.sh)
# under /l2/. As "guest-path host-file mode" lines.
vmm_files() {
	local root=$BUILD/vmm/root l2=$BUILD/l2/out todo seen=" " path lib found dir
	manifest_entries "$manifest" | cut -f3 | grep -q '^/vmm/' || return 0
	[ -f "$root/.qemu-version" ] || die "no QEMU in ${root#"$TOP"/}; run scripts/fetch-vmm.sh"
	echo "/l2/Image $l2/Image 0644"
	echo "/l2/initramfs.cpio.gz $l2/initramfs.cpio.gz 0644"
	echo "/lib/ld-linux-aarch64.so.1 $(realpath "$root/lib/ld-linux-aarch64.so.1") 0755"
	todo=(/usr/bin/qemu-system-aarch64)
	while [ "${#todo[@]}" -gt 0 ]; do
		path=${todo[0]}
		todo=("${todo[@]:1}")
		case "$seen" in *" $path "*) continue ;; esac
		seen+="$path "
		# The program runs; a library is only mapped
		echo "$path $(realpath "$root$path") $([ -x "$root$path" ] && echo 0755 || echo 0644)"
		for lib in $("${CROSS_COMPILE}readelf" -d "$root$path" |
				sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
			found=
			for dir in /lib/aarch64-linux-gnu /usr/lib/aarch64-linux-gnu; do
				[ -e "$root$dir/$lib" ] && found=$dir/$lib && break
			done
			[ -n "$found" ] || die "$path needs $lib, which no package in ${root#"$TOP"/} has"
			todo+=("$found")
		done
	done
}

# A gen_init_cpio list: directories, device nodes, init, the manifest and
# the guest's files (with their parent directories).
cpio_list() {
	local path mode host
	printf 'dir /%s 0755 0 0\n' dev proc sys tmp etc bin
	echo "nod /dev/console 0600 0 0 c 5 1"
	echo "file /init $INIT_BIN 0755 0 0"
	echo "file /etc/tests.list $manifest 0644 0 0"
	{
		guest_files | while read -r path mode; do
			echo "$path $(host_file "$path") $mode"
		done
		vmm_files
	} | while read -r path host mode; do
		[ -f "$host" ] || die "$host is missing (built by the build steps)"
		[ "$mode" = 0644 ] || [ -x "$host" ] || die "$host is not executable"
		cpio_file "$path" "$host" "$mode"
	done
}

# cpio_file PATH HOST MODE: the file and each of its parent directories
cpio_file() {
	local dir
	dir=$(dirname "$1")
	while [ "$dir" != / ]; do
		echo "dir $dir 0755 0 0"
		dir=$(dirname "$dir")
	done
	echo "file $1 $2 $3 0 0"
}

# A guest limit from guest/init.c (#define NAME value)
guest_limit() {
	awk -v n="$1" '$1 == "#define" && $2 == n { print $3 }' "$TOP/guest/init.c"
}

# The guest must be able to hold the whole manifest: a test it cannot see
# would never run, and never be reported missing by the guest itself.
check_limits() {
	local tests bytes args max_tests max_bytes max_args
	max_tests=$(guest_limit MAX_TESTS)
	max_bytes=$(guest_limit MANIFEST_MAX)
	max_args=$(guest_limit MAX_ARGS)
	tests=$(manifest_entries "$manifest" | wc -l)
	bytes=$(wc -c <"$manifest")
	args=$(manifest_entries "$manifest" | cut -f4 | sort -n | tail -n1)
	[ "$tests" -le "$max_tests" ] ||
		die "$manifest has $tests tests; the guest holds $max_tests (MAX_TESTS in guest/init.c)"
	[ "$bytes" -lt "$max_bytes" ] ||
		die "$manifest is $bytes bytes; the guest reads $((max_bytes - 1)) (MANIFEST_MAX)"
	[ "${args:-0}" -le "$max_args" ] ||
		die "$manifest has a test with $args words of argv; the guest takes $max_args (MAX_ARGS)"
}

main() {
	local list=$output.list
	[ -x "$OBJ/usr/gen_init_cpio" ] || die "no gen_init_cpio; build the kernel first"
	check_limits
	build_init
	# Sorted, "dir" lines come first and a parent before its children.
	cpio_list | sort -u >"$list"
	"$OBJ/usr/gen_init_cpio" "$list" | gzip -1 >"$output"
}

main "$@"
