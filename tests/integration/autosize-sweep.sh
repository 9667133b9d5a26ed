#!/usr/bin/env bash
# Exact automatic sizing over a sweep of --additional-space N (issue #11, "Exact automatic size").
# For every N (each multiple of 128 MiB +- 1 MiB up to 4 GiB, and more) with --disk-size auto:
#  - the space an unprivileged user can write is >= N. Judged by `dumpe2fs -h` on the root
#    filesystem in place (file?offset=...):
#      (Free blocks - Reserved block count - min(Block count / 50, 4096)) * Block size
#    the last term being what the kernel holds back (ext4_calculate_resv_clusters); a sample is
#    loop-mounted as root and `df --output=avail -B1` must say the same, and `df -i` >= N/16K;
#  - free inodes >= N / 16 KiB (what mke2fs gives that much free space), so the space is usable;
#  - the disk is the smallest whole MiB that gives it: the same build with --disk-size of one
#    MiB less either fails (contents do not fit) or leaves less than N (or fewer inodes);
#  - the disk size never decreases as N grows, nor as the contents grow (empty < tiny < data).
# Trees: empty, tiny, ~200 MiB of data, 100k small files; every partition table layout. Every N
# of the full list (ALL) for empty/none (each with one MiB less) and empty/efi; fewer elsewhere.
# Without root the mounts are left out and dumpe2fs judges alone. Cost: ~140 CPU-seconds (about
# 400 builds); the old planner fails it at empty/none +128M (265 MiB where 158 MiB suffice).
# Wider "one MiB less" meaning: with --disk-size the inode count follows inode_ratio, so for an
# inode-bound tree one MiB less may fail on inodes rather than space; both count as "less".
# slow
. "$(dirname "$0")/../lib.sh"
require dumpe2fs e2fsck sfdisk python3 df

n_checked=0 n_less=0

# root_part LAYOUT: the root partition's number (0: the whole disk).
root_part()
{
	case $1 in
	none) echo 0 ;;
	legacy) echo 1 ;;
	legacy+gpt | efi) echo 2 ;;
	efixbootldr | hybrid) echo 3 ;;
	*) fail "unknown layout $1" ;;
	esac
}

# root_offset IMG LAYOUT: byte offset of the root filesystem.
root_offset()
{
	local n start size
	n=$(root_part "$2")
	if [ "$n" -eq 0 ]; then
		echo 0
		return
	fi
	read -r start size < <(part_geometry "$1" "$n") || fail "$1: no partition $n"
	echo $((start * 512))
}

# The root's offset does not depend on the size: sfdisk reads it once per sweep (ROOT_OFF)
# and again for the sweep's last image.
ROOT_OFF=

# fs_facts IMG LAYOUT: sets AVAIL (bytes, as df will say), IFREE, OFF from dumpe2fs -h.
fs_facts()
{
	local h free reserved bsize blocks resv
	[ -n "$ROOT_OFF" ] || ROOT_OFF=$(root_offset "$1" "$2")
	OFF=$ROOT_OFF
	h=$(dumpe2fs -h "$1?offset=$OFF" 2>/dev/null) || fail "$1: dumpe2fs -h at offset $OFF failed"
	field() { printf '%s\n' "$h" | sed -n "s/^$1:[[:space:]]*//p"; }
	free=$(field 'Free blocks')
	reserved=$(field 'Reserved block count')
	bsize=$(field 'Block size')
	blocks=$(field 'Block count')
	IFREE=$(field 'Free inodes')
	[ -n "$free" ] && [ -n "$reserved" ] && [ -n "$bsize" ] && [ -n "$blocks" ] &&
		[ -n "$IFREE" ] || fail "$1: dumpe2fs -h gave no counts"
	resv=$((blocks / 50 < 4096 ? blocks / 50 : 4096))
	free=$((free - reserved - resv))
	AVAIL=$(((free < 0 ? 0 : free) * bsize)) # statfs clamps f_bavail at 0
}

# check TREE LAYOUT N_MIB [mount]: auto size for N; sets DISK to the disk size in MiB.
check()
{
	local tree=$1 layout=$2 nm=$3 mnt=${4:-} n disk less ino
	n=$((nm * MIB))
	ino=$(((n + 16383) / 16384))
	build --root "$T/$tree" --partition-table "$layout" --additional-space "${nm}M" \
		-o "$T/a.img"
	disk=$(stat -c %s "$T/a.img")
	[ $((disk % MIB)) -eq 0 ] || fail "$tree $layout +${nm}M: disk of $disk bytes, not whole MiB"
	fs_facts "$T/a.img" "$layout"
	[ "$AVAIL" -ge "$n" ] || fail "$tree $layout +${nm}M: $AVAIL bytes available < $n"
	[ "$IFREE" -ge "$ino" ] || fail "$tree $layout +${nm}M: $IFREE free inodes < $ino"
	if [ -n "$mnt" ] && can_loop_mount; then
		e2fsck -fn "$T/a.img?offset=$OFF" >"$T/fsck.out" 2>&1 ||
			{ cat "$T/fsck.out" >&2; fail "$tree $layout +${nm}M: e2fsck -fn"; }
		loop_mount "$T/a.img" "$T/mnt" "$OFF"
		local avail ifree
		avail=$(df --output=avail -B1 "$T/mnt" | tail -n1 | tr -d ' ')
		ifree=$(df --output=iavail "$T/mnt" | tail -n1 | tr -d ' ')
		unmount "$T/mnt"
		[ "$avail" -ge "$n" ] || fail "$tree $layout +${nm}M: df avail $avail < $n"
		[ "$avail" -eq "$AVAIL" ] || fail "$tree $layout +${nm}M: df avail $avail != $AVAIL"
		[ "$ifree" -ge "$ino" ] || fail "$tree $layout +${nm}M: df ifree $ifree < $ino"
		log "$tree $layout +${nm}M: mounted, df avail $avail, ifree $ifree"
	fi
	# One MiB less: does not build, or leaves less than N (or too few inodes).
	less=$((disk / MIB - 1))
	if [ -z "${LESS_ALL:-}" ] && [ -z "${LESS_AT[$nm]:-}" ]; then
		: # one MiB less: checked for a sample of this sweep only (time)
	elif [ "$less" -lt 1 ]; then
		[ "$nm" -eq 0 ] || fail "$tree $layout +${nm}M: a 1 MiB disk"
	elif "$MKDISKIMAGE" build --root "$T/$tree" --partition-table "$layout" \
		--disk-size "$less" -o "$T/l.img" >/dev/null 2>"$T/l.err"; then
		fs_facts "$T/l.img" "$layout"
		[ "$AVAIL" -lt "$n" ] || [ "$IFREE" -lt "$ino" ] ||
			fail "$tree $layout +${nm}M: auto gave $((disk / MIB)) MiB but $less MiB" \
				"leaves $AVAIL bytes, $IFREE inodes free"
		n_less=$((n_less + 1))
	else
		grep -qE "too small|leaves no room" "$T/l.err" ||
			fail "$tree $layout --disk-size $less: unexpected error: $(cat "$T/l.err")"
		n_less=$((n_less + 1))
	fi
	n_checked=$((n_checked + 1))
	DISK=$((disk / MIB))
}

# sweep TREE LAYOUT N_MIB...: check each N (ascending) and that the disk never shrinks.
# Records the sizes in $T/sizes.TREE.LAYOUT ("N DISK" lines).
sweep()
{
	local tree=$1 layout=$2 prev=0 d nm
	shift 2
	: >"$T/sizes.$tree.$layout"
	ROOT_OFF=
	for nm in "$@"; do
		check "$tree" "$layout" "$nm" "${MOUNT_AT[$nm]:-}"
		d=$DISK
		[ "$d" -ge "$prev" ] || fail "$tree $layout: +${nm}M gives $d MiB, less than $prev MiB"
		prev=$d
		echo "$nm $d" >>"$T/sizes.$tree.$layout"
	done
	[ "$(root_offset "$T/a.img" "$layout")" -eq "$ROOT_OFF" ] ||
		fail "$tree $layout: the root moved: $(root_offset "$T/a.img" "$layout") != $ROOT_OFF"
	log "$tree $layout: $# sizes, $(head -n1 "$T/sizes.$tree.$layout") .. $(tail -n1 "$T/sizes.$tree.$layout")"
}

# bigger_or_equal A B LAYOUT: tree B's disk >= tree A's for every N both swept.
bigger_or_equal()
{
	local nm da db k=0
	while read -r nm da; do
		db=$(awk -v n="$nm" '$1 == n { print $2 }' "$T/sizes.$2.$3")
		[ -n "$db" ] || continue
		[ "$db" -ge "$da" ] || fail "$3 +${nm}M: $2 gives $db MiB, less than $1's $da MiB"
		k=$((k + 1))
	done <"$T/sizes.$1.$3"
	[ "$k" -gt 0 ] || fail "$1 vs $2 ($3): nothing compared"
}

# Trees.
mkdir -p "$T/empty" "$T/tiny/etc" "$T/data" "$T/many"
echo hello >"$T/tiny/etc/hostname"
head -c 5000 /dev/urandom >"$T/tiny/etc/blob"
cp -r "$T/tiny/etc" "$T/data/etc"
for i in $(seq 1 8); do head -c $((25 * MIB + i)) /dev/zero >"$T/data/zero$i"; done
head -c $((3 * MIB)) /dev/urandom >"$T/data/random"
truncate -s $((64 * MIB)) "$T/data/sparse" # a hole: no blocks

# N: 0, 1, and every multiple of 128 MiB +- 1 MiB up to 4 GiB.
ALL=(0 1)
for k in $(seq 1 32); do ALL+=($((k * 128 - 1)) $((k * 128)) $((k * 128 + 1))); done
SOME=(0 1 127 128 129 511 512 513 1023 1024 1025 2048 4096)
FEW=(0 128 512 1024)
# One MiB less is built for every N where LESS_ALL is set, else where LESS_AT says.
declare -A LESS_AT=()
for nm in "${SOME[@]}"; do LESS_AT[$nm]=1; done
# Loop-mounted (as root) where MOUNT_AT says.
declare -A MOUNT_AT=([128]=1 [512]=1 [1024]=1 [4096]=1)

LESS_ALL=1 sweep empty none "${ALL[@]}"
sweep empty efi "${ALL[@]}"
for layout in legacy legacy+gpt efixbootldr hybrid; do sweep empty "$layout" "${FEW[@]}" 4096; done
for layout in none legacy legacy+gpt efi efixbootldr hybrid; do
	LESS_ALL=1 sweep tiny "$layout" "${FEW[@]}" 4096
done
MOUNT_AT=([0]=1 [128]=1 [512]=1 [1024]=1)
LESS_ALL=1 sweep data none "${FEW[@]}"
LESS_ALL=1 sweep data efi "${FEW[@]}"
cp -r "$T/tiny/etc" "$T/many/etc"
python3 - "$T/many" <<'EOF'
import os, sys
for d in range(100):
    p = os.path.join(sys.argv[1], "d%02d" % d)
    os.mkdir(p)
    for f in range(1000):
        with open(os.path.join(p, "f%03d" % f), "w") as fh:
            fh.write("%d\n" % f)
EOF
LESS_ALL=1 sweep many legacy "${FEW[@]}"
LESS_ALL=1 sweep many hybrid 0 512

for layout in none efi; do
	bigger_or_equal empty tiny "$layout"
	bigger_or_equal tiny data "$layout"
done
bigger_or_equal tiny many legacy
log "$n_checked sizes checked, $n_less of them with one MiB less"
[ "$n_checked" -gt 250 ] && [ "$n_less" -gt 150 ] || fail "only $n_checked/$n_less checks ran"
