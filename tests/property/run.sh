#!/usr/bin/env bash
# Property tests: seeded random trees (tests/property/gen.py) built in a random layout and
# format, each judged by independent oracles:
#   - e2fsck -fn on the root filesystem; fsck.fat -n and an mcopy round trip on the ESP;
#   - sgdisk -v on GPT layouts;
#   - qemu-img check on the qcow2/vdi build, and qemu-img compare of it against the raw build of
#     the same seed (the tool is deterministic: both must hold the same disk);
#   - the round trip of every path: bytes, type, mode, uid/gid, ns mtime, symlink target, device
#     numbers, hard-link identity, xattrs, read back by debugfs and, as root, a loop mount
#     (tests/data/manifest.py).
#   tests/property/run.sh [--seeds N] [--seed S]... [--first K] [--small] [--keep]
# --seeds N runs seeds K..K+N-1 (K from --first, default 1); --seed S runs S (any string; may be
# repeated). --small bounds the trees (the CI run). --keep keeps the work directory. A failing
# seed prints the one command that replays it. MKDISKIMAGE names the binary. Exit 1 on any
# failure, 0 when every seed passed.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
mki=${MKDISKIMAGE:-$repo/build/mkdiskimage}
data=$repo/tests/data
export LC_ALL=C

seeds=()
nseeds=0
first=1
small=
keep=0
while [ $# -gt 0 ]; do
	case $1 in
	--seeds) nseeds=$2; shift ;;
	--seed) seeds+=("$2"); shift ;;
	--first) first=$2; shift ;;
	--small) small=--small ;;
	--keep) keep=1 ;;
	-h | --help) sed -n '2,15s/^# \{0,1\}//p' "$0"; exit 0 ;;
	*) echo "property: unknown argument $1 (see --help)" >&2; exit 2 ;;
	esac
	shift
done
for ((i = 0; i < nseeds; i++)); do seeds+=($((first + i))); done
[ ${#seeds[@]} -gt 0 ] || seeds=(1 2 3 4 5 6 7 8 9 10)
[ -x "$mki" ] || { echo "property: $mki is not built (run make)" >&2; exit 2; }
mki=$(cd "$(dirname "$mki")" && pwd)/$(basename "$mki")
for t in python3 e2fsck debugfs sfdisk sgdisk qemu-img; do
	command -v $t >/dev/null || { echo "property: needs $t" >&2; exit 77; }
done
have_fat=1
command -v fsck.fat >/dev/null && command -v mcopy >/dev/null || have_fat=0
can_mount=0
[ "$(id -u)" -eq 0 ] && [ -e /dev/loop-control ] && can_mount=1

W=$(mktemp -d "${TMPDIR:-/tmp}/mkdiskimage-property.XXXXXX")
chmod 755 "$W"
MNT=
cleanup() {
	[ -n "$MNT" ] && { umount "$MNT" 2>/dev/null || umount -l "$MNT" 2>/dev/null; }
	if [ $keep = 1 ]; then echo "property: kept $W" >&2; else rm -rf "$W"; fi
}
trap cleanup EXIT

# parts IMG: "N START SIZE ROLE" per partition; ROLE is root, esp, xbootldr or other.
parts() {
	sfdisk --json "$1" | python3 -c '
import json, sys
pt = json.load(sys.stdin)["partitiontable"]
assert pt.get("sectorsize", 512) == 512
ROOT = {"83", "4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709", "0FC63DAF-8483-4772-8E79-3D69D8477DE4",
        "B921B045-1DF0-41C3-AF44-4C6F280D3FAE"}
ESP = {"ef", "C12A7328-F81F-11D2-BA4B-00A0C93EC93B"}
XBL = {"BC13C2FF-59E6-4262-A352-B275FD6F7172", "ea"}
for p in pt["partitions"]:
    t = p["type"].upper() if len(p["type"]) > 2 else p["type"].lower()
    role = "root" if t in ROOT else "esp" if t in ESP else "xbootldr" if t in XBL else "other"
    print(p["node"][len(pt["device"]):], p["start"], p["size"], role)
'
}

# extract IMG START SECTORS OUT: copy a partition out, keeping holes; only the data regions
# (SEEK_DATA) are read, so a mostly empty multi-GiB partition costs nothing.
extract() {
	rm -f "$4"
	python3 - "$@" <<-'EOF'
	import os, sys
	img, start, n, out = sys.argv[1], int(sys.argv[2]) * 512, int(sys.argv[3]) * 512, sys.argv[4]
	src = os.open(img, os.O_RDONLY)
	dst = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
	pos, end = start, start + n
	while pos < end:
	    try:
	        data = os.lseek(src, pos, os.SEEK_DATA)
	    except OSError:
	        break
	    if data >= end:
	        break
	    hole = min(os.lseek(src, data, os.SEEK_HOLE), end)
	    while data < hole:
	        buf = os.pread(src, min(1 << 20, hole - data), data)
	        os.pwrite(dst, buf, data - start)
	        data += len(buf)
	    pos = hole
	os.ftruncate(dst, n)
	EOF
}

# expected_manifest SRC OWNER: the source manifest, with every uid:gid replaced by OWNER when
# --owner was given; without /lost+found lines the image adds.
src_manifest() {
	python3 "$data/manifest.py" tree "$1" | python3 -c '
import sys
owner = sys.argv[1]
for l in sys.stdin:
    f = l.rstrip("\n").split("\t")
    if owner:
        f[3], f[4] = owner.split(":")
    print("\t".join(f))
' "$2"
}
no_lost_found() { grep -v -e '^lost+found	' -e '^lost+found/'; }

# seed_fail MESSAGE: record the failure of the current seed.
seed_fail() {
	echo "property: seed $seed: FAIL: $*" >&2
	ok=0
}

# run_seed SEED: 0 when every oracle agrees.
run_seed() {
	local d=$W/s ext raw img p n start size role checked
	ok=1
	chmod -R u+rwx "$d" 2>/dev/null
	rm -rf "$d"
	mkdir -p "$d"
	chmod 755 "$d"
	local layout format owner esp common fmtargs
	local params
	params=$(python3 "$here/gen.py" "$seed" "$d/in" $small) || { seed_fail "gen.py failed"; return; }
	eval "$params"
	echo "property: seed $seed: layout $layout, format $format ${fmtargs[*]}," \
		"${common[*]//$d\/in\//}" >&2
	raw=$d/raw.img
	if ! "$mki" build --root "$d/in/root" --partition-table "$layout" "${common[@]}" \
		-o "$raw" >"$d/build.out" 2>"$d/build.err"; then
		seed_fail "raw build failed: $(cat "$d/build.err")"
		return
	fi
	case $format in qcow2*) ext=qcow2 ;; vpc) ext=vhd ;; *) ext=$format ;; esac
	img=$d/disk.$ext
	if ! "$mki" build --root "$d/in/root" --partition-table "$layout" "${common[@]}" \
		--format "$format" "${fmtargs[@]}" -o "$img" >"$d/build.out" 2>"$d/build.err"; then
		seed_fail "$format build failed: $(cat "$d/build.err")"
		return
	fi

	# The container: qemu-img check (vpc has no check in qemu-img) and the same disk as raw.
	local qfmt=$format
	case $format in qcow2-compressed) qfmt=qcow2 ;; esac
	if [ "$format" != vpc ]; then
		qemu-img check -f "$qfmt" "$img" >"$d/check.out" 2>&1 ||
			seed_fail "qemu-img check $format: $(tail -n 5 "$d/check.out")"
	fi
	qemu-img compare -f raw -F "$qfmt" "$raw" "$img" >"$d/cmp.out" 2>&1 ||
		seed_fail "qemu-img compare raw vs $format: $(cat "$d/cmp.out")"

	# The partition table.
	case $layout in
	legacy+gpt | efi | efixbootldr | hybrid)
		sgdisk -v "$raw" >"$d/sgdisk.out" 2>&1
		grep -q 'No problems found' "$d/sgdisk.out" || seed_fail "sgdisk -v: $(cat "$d/sgdisk.out")"
		;;
	legacy) sfdisk -d "$raw" >/dev/null 2>&1 || seed_fail "sfdisk cannot read the MBR" ;;
	esac

	# The filesystems.
	checked=0
	if [ "$layout" = none ]; then
		extract "$raw" 0 $(($(stat -c %s "$raw") / 512)) "$d/root.ext4"
		checked=1
	else
		while read -r n start size role; do
			case $role in
			root)
				extract "$raw" "$start" "$size" "$d/root.ext4"
				checked=$((checked + 1))
				;;
			esp | xbootldr)
				[ $have_fat = 1 ] || continue
				extract "$raw" "$start" "$size" "$d/$role.fat"
				fsck.fat -n "$d/$role.fat" >"$d/fsck.out" 2>&1 ||
					seed_fail "fsck.fat -n $role: $(tail -n 5 "$d/fsck.out")"
				if [ "$role" = esp ] && [ -n "$(ls -A "$d/in/esp")" ]; then
					mkdir -p "$d/esp.out"
					LC_ALL=C.UTF-8 mcopy -s -n -i "$d/$role.fat" ::/ "$d/esp.out/" ||
						seed_fail "mcopy -s of the ESP failed"
					diff -r "$d/in/esp" "$d/esp.out" >"$d/esp.diff" 2>&1 ||
						seed_fail "ESP contents differ: $(head -n 5 "$d/esp.diff")"
				fi
				;;
			esac
		done < <(parts "$raw")
	fi
	[ "$checked" -eq 1 ] || { seed_fail "found $checked root partitions in $layout"; return; }
	e2fsck -fn "$d/root.ext4" >"$d/e2fsck.out" 2>&1 ||
		seed_fail "e2fsck -fn: $(head -n 20 "$d/e2fsck.out")"

	# The round trip.
	src_manifest "$d/in/root" "$owner" >"$d/src.manifest" || seed_fail "manifest of the source"
	python3 "$data/manifest.py" debugfs "$d/root.ext4" | no_lost_found >"$d/debugfs.manifest" ||
		seed_fail "debugfs manifest"
	[ "$(wc -l <"$d/src.manifest")" -gt 1 ] || seed_fail "empty source manifest"
	diff -u "$d/src.manifest" "$d/debugfs.manifest" >"$d/debugfs.diff" ||
		seed_fail "image (debugfs) differs from the source:
$(head -n 30 "$d/debugfs.diff")"
	if [ $can_mount = 1 ]; then
		MNT=$d/mnt
		mkdir -p "$MNT"
		if mount -t ext4 -o loop,ro "$d/root.ext4" "$MNT"; then
			python3 "$data/manifest.py" tree "$MNT" | no_lost_found >"$d/mnt.manifest" ||
				seed_fail "manifest of the mounted image"
			umount "$MNT"
			diff -u "$d/src.manifest" "$d/mnt.manifest" >"$d/mnt.diff" ||
				seed_fail "image (mounted) differs from the source:
$(head -n 30 "$d/mnt.diff")"
		else
			seed_fail "mount -o loop,ro of the root filesystem failed"
		fi
		MNT=
	fi
}

failed=()
for seed in "${seeds[@]}"; do
	start=$SECONDS
	run_seed
	if [ $ok = 1 ]; then
		echo "property: seed $seed: ok ($((SECONDS - start))s)" >&2
	else
		failed+=("$seed")
		echo "property: replay: MKDISKIMAGE=$mki $here/run.sh --seed $seed $small --keep" >&2
		[ $keep = 1 ] && cp -a "$W/s" "$W/failed-$seed"
	fi
done
echo "property: ${#seeds[@]} seeds, ${#failed[@]} failed${failed:+: ${failed[*]}}"
[ ${#failed[@]} -eq 0 ]
