#!/bin/bash
# Limits: how mkdiskimage behaves at the edges of what it must handle. Not a timed test.
#   bench/limits.sh [--files N] [--only million|sparse|qcow2-16t]...
# (a) a tree of N (default 1,000,000) small and empty files in a wide and deep layout, built by
#     mkdiskimage and, side by side, by mkfs.ext4 -d on a file of the same size; both images are
#     checked by e2fsck -fn;
# (b) a 1 TiB sparse file with 4 x 1 MiB of data, raw (e2fsck -fn) and qcow2 (qemu-img check),
#     auto-sized and on a 2 TiB disk;
# (c) the largest virtual qcow2 the tool accepts: 16 TiB is tried first (its message is kept if
#     refused), then 16 TiB minus 1 MiB; qemu-img check, and the same tree at 1 GiB as the
#     memory baseline; and mkfs.ext4 on a 16 TiB - 1 MiB sparse file for comparison.
# Reports wall time, peak RSS (/usr/bin/time %M), bytes of RSS per entry, output size (apparent
# and allocated) and the load average, to bench/work/limits/results.tsv and stdout.
# MKDISKIMAGE names the binary (default build/mkdiskimage). The trees are generated once into
# bench/work/limits/ (gitignored) and reused.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
mki=${MKDISKIMAGE:-$here/../build/mkdiskimage}
nfiles=1000000
only=()
while [ $# -gt 0 ]; do
	case $1 in
	--files) nfiles=$2; shift ;;
	--only) only+=("$2"); shift ;;
	-h | --help) sed -n '2,14s/^# \{0,1\}//p' "$0"; exit 0 ;;
	*) echo "bench/limits.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
	esac
	shift
done
[ ${#only[@]} -gt 0 ] || only=(million sparse qcow2-16t)
[ -x "$mki" ] || { echo "bench/limits.sh: $mki is not built; run make first" >&2; exit 2; }
if [ ! -x /usr/bin/time ]; then
	sudo=""
	[ "$(id -u)" -eq 0 ] || sudo="sudo"
	$sudo apt-get install -y -qq --no-install-recommends time >&2 ||
		{ echo "bench/limits.sh: needs /usr/bin/time (apt-get install time)" >&2; exit 2; }
fi
for t in e2fsck mkfs.ext4 qemu-img python3; do
	command -v $t >/dev/null || { echo "bench/limits.sh: needs $t" >&2; exit 2; }
done

work=$here/work/limits
mkdir -p "$work"
res=$work/results.tsv
printf '%s\t' case wall_s peak_rss_kib entries rss_bytes_per_entry apparent_bytes \
	allocated_bytes check >"$res"
printf 'load\n' >>"$res"

# measure NAME ENTRIES OUT CMD...: run CMD under /usr/bin/time; record wall, peak RSS, size.
measure() {
	local name=$1 entries=$2 out=$3 rc
	shift 3
	local load
	load=$(cut -d' ' -f1-3 /proc/loadavg)
	/usr/bin/time -f '%e %M' -o "$work/$name.time" "$@" >"$work/$name.out" 2>"$work/$name.err"
	rc=$?
	if [ $rc -ne 0 ]; then
		echo "$name: FAILED (exit $rc): $(tail -n 3 "$work/$name.err")" >&2
		printf '%s\tFAIL\t-\t%s\t-\t-\t-\t%s\t%s\n' "$name" "$entries" \
			"$(tail -n 1 "$work/$name.err" | tr '\t' ' ')" "$load" >>"$res"
		return 1
	fi
	local wall rss app alloc per
	read -r wall rss <"$work/$name.time"
	app=$(stat -c %s "$out")
	alloc=$(($(stat -c %b "$out") * 512))
	per=$((rss * 1024 / entries))
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t' "$name" "$wall" "$rss" "$entries" "$per" "$app" \
		"$alloc" >>"$res"
	LAST_LOAD=$load
	echo "$name: ${wall}s, peak RSS ${rss} KiB ($per B/entry), $app bytes" \
		"($alloc allocated), load $load" >&2
}

# verdict CHECK-RESULT: finish the row measure started.
verdict() { printf '%s\t%s\n' "$1" "$LAST_LOAD" >>"$res"; }

fsck_verdict() {
	local out
	if out=$(e2fsck -fn "$1" 2>&1); then
		verdict "e2fsck-clean"
	else
		printf '%s\n' "$out" | head -n 20 >&2
		verdict "E2FSCK-FAILED"
	fi
}

qcheck_verdict() {
	if qemu-img check "$1" >"$work/qcheck.out" 2>&1; then
		verdict "qemu-img-check-clean"
	else
		cat "$work/qcheck.out" >&2
		verdict "QEMU-IMG-CHECK-FAILED"
	fi
}

want() { [[ " ${only[*]} " == *" $1 "* ]]; }

# (a) N files: directories of 100 files, 100 directories per parent, so every level is wide,
# and a chain 200 deep at the end. Every 10th file holds 100 bytes (one inline-able block).
if want million; then
	tree=$work/tree-$nfiles
	if [ ! -e "$tree.complete" ]; then
		rm -rf "$tree"
		echo "generating $nfiles files in $tree" >&2
		python3 - "$tree" "$nfiles" <<-'EOF'
		import os, sys
		root, n = sys.argv[1], int(sys.argv[2])
		os.makedirs(root)
		data = b'x' * 99 + b'\n'
		made = 0
		i = 0
		while made < n:
		    d = os.path.join(root, 'a%03d' % (i // 100), 'b%03d' % (i % 100))
		    os.makedirs(d)
		    for k in range(min(100, n - made)):
		        with open(os.path.join(d, 'f%03d' % k), 'wb') as f:
		            if made % 10 == 0:
		                f.write(data)
		        made += 1
		    i += 1
		deep = root
		for k in range(200):
		    deep = os.path.join(deep, 'd')
		os.makedirs(deep)
		open(os.path.join(deep, 'bottom'), 'wb').close()
		EOF
		touch "$tree.complete"
	fi
	entries=$(find "$tree" | wc -l)
	img=$work/million.img
	rm -f "$img"
	if measure "million-mkdiskimage" "$entries" "$img" \
		"$mki" build --root "$tree" --partition-table none --additional-space 64M --owner 0:0 \
		-o "$img"; then
		fsck_verdict "$img"
	fi
	# mkfs.ext4 -d on a file of the same size and the same inode count.
	size=$(stat -c %s "$img")
	inodes=$(dumpe2fs -h "$img" 2>/dev/null | sed -n 's/^Inode count:[[:space:]]*//p')
	mimg=$work/million-mkfs.img
	rm -f "$mimg"
	truncate -s "$size" "$mimg"
	if measure "million-mkfs.ext4-d" "$entries" "$mimg" \
		mkfs.ext4 -q -F -d "$tree" -b 4096 -I 256 -N "$inodes" -E root_owner=0:0 "$mimg"; then
		fsck_verdict "$mimg"
	fi
	rm -f "$mimg"
fi

# (b) A 1 TiB sparse file with 1 MiB of data at 0, 1 GiB + 12345, 512 GiB and the end.
if want sparse; then
	stree=$work/tree-sparse
	if [ ! -e "$stree.complete" ]; then
		rm -rf "$stree"
		mkdir -p "$stree"
		python3 - "$stree/one-tib" <<-'EOF'
		import os, sys
		G = 1 << 30
		T = 1 << 40
		with open(sys.argv[1], 'wb') as f:
		    f.truncate(T)
		    for i, off in enumerate([0, G + 12345, 512 * G, T - (1 << 20)]):
		        f.seek(off)
		        f.write(os.urandom(1 << 20))
		EOF
		touch "$stree.complete"
	fi
	for fmt in raw qcow2; do
		img=$work/sparse-1t.$fmt
		rm -f "$img"
		if measure "sparse-1t-$fmt" 2 "$img" \
			"$mki" build --root "$stree" --partition-table none --format "$fmt" -o "$img"; then
			if [ $fmt = raw ]; then fsck_verdict "$img"; else qcheck_verdict "$img"; fi
		fi
		rm -f "$img"
	done
	# The same file on a 2 TiB filesystem (auto sizing counts allocated blocks, not holes).
	img=$work/sparse-1t-disk2t.raw
	rm -f "$img"
	if measure "sparse-1t-raw-disk2t" 2 "$img" \
		"$mki" build --root "$stree" --partition-table none --disk-size 2097152 -o "$img"; then
		fsck_verdict "$img"
	fi
	rm -f "$img"
fi

# (c) The largest virtual qcow2: 16 TiB (2^32 ext4 blocks) first, then 16 TiB - 1 MiB. A small
# tree (this script) so the cost is the disk's, not the contents'; the 1 GiB build is the baseline.
if want qcow2-16t; then
	ctree=$work/tree-small
	rm -rf "$ctree"
	mkdir -p "$ctree"
	cp "$0" "$ctree/"
	for spec in 1G:1024:efi 16T:16777216:efi 16T-1M:16777215:efi 16T-none:16777216:none \
		16T-1M-none:16777215:none; do
		IFS=: read -r tag mib layout <<<"$spec"
		img=$work/virtual-$tag.qcow2
		rm -f "$img"
		if measure "qcow2-$tag-$layout" 2 "$img" \
			"$mki" build --root "$ctree" --partition-table "$layout" --format qcow2 \
			--disk-size "$mib" -o "$img"; then
			qcheck_verdict "$img"
			qemu-img info "$img" | grep 'virtual size' >&2
		fi
		rm -f "$img"
	done
	# mkfs.ext4 on the largest raw file the host's ext4 holds (16 TiB - 4 KiB, rounded down
	# to 16 TiB - 1 MiB): its memory and allocated bytes for the same empty filesystem.
	img=$work/mkfs-16t.raw
	rm -f "$img"
	truncate -s $(((16777216 - 1) * 1048576)) "$img" &&
		if measure "mkfs.ext4-16T-1M-raw" 2 "$img" \
			mkfs.ext4 -q -F -d "$ctree" -b 4096 -I 256 -E root_owner=0:0 "$img"; then
			fsck_verdict "$img"
		fi
	rm -f "$img"
fi

echo >&2
column -t -s $'\t' "$res"
