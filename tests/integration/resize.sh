#!/usr/bin/env bash
# `mkdiskimage resize IMAGE SIZE` (issue #14): small images of every layout (efi, legacy,
# legacy+gpt, hybrid, none, and "partitions" lists with a FAT, swap or ext4 partition last) in
# raw, qcow2, vdi, vpc, vmdk, vhdx, a zstd raw and gce grow by +N and to an absolute size; 2 GiB → 100 GiB is metadata only
# (raw stays sparse, qcow2 small). Oracles: sgdisk -v (no problems), sfdisk --dump (the
# partition ends at the last MiB), qemu-img check and info (virtual size), qemu-img compare
# (the data before the old end is unchanged), fsck.fat -n, e2fsck -fn and dumpe2fs (block
# count) of the grown partition, mkswap's header read by blkid/swaplabel; as root a loop mount
# and df. Refusals (shrink, a partition followed by another, bad --partition) exit 1 with one
# line and leave the image byte-identical; SIGINT during a resize leaves the old image. While
# ext4_grow() is not implemented on this tree, the ext4 cases check that resize refuses cleanly.
. "$(dirname "$0")/../lib.sh"
require sgdisk sfdisk qemu-img e2fsck fsck.fat python3 cmp zstd tar

mkdir -p "$T/src/etc" "$T/esp/EFI"
echo hello >"$T/src/etc/hello"
echo marker >"$T/src/resize-marker"
echo esp >"$T/esp/EFI/readme.txt"
common=(--root "$T/src" --boot-size 16M --bootloader none -q)

# resize ARGS...: mkdiskimage resize; the summary line in $T/rz.err; fails the test on error.
resize()
{
	"$MKDISKIMAGE" resize "$@" >"$T/rz.out" 2>"$T/rz.err" ||
		fail "mkdiskimage resize $* failed: $(cat "$T/rz.err")"
	log "$(cat "$T/rz.err")"
}

# refused MESSAGE IMG ARGS...: resize exits 1 with one line holding MESSAGE; IMG unchanged.
refused()
{
	local msg=$1 img=$2 rc=0
	shift 2
	cp --sparse=always "$img" "$T/before"
	"$MKDISKIMAGE" resize "$img" "$@" >"$T/rz.out" 2>"$T/rz.err" || rc=$?
	[ "$rc" = 1 ] || fail "resize $img $*: exit $rc, not 1: $(cat "$T/rz.err")"
	[ "$(wc -l <"$T/rz.err")" = 1 ] || fail "resize $img $*: not one line: $(cat "$T/rz.err")"
	grep -qF -- "$msg" "$T/rz.err" || fail "resize $img $*: '$(cat "$T/rz.err")' lacks '$msg'"
	cmp "$img" "$T/before" || fail "resize $img $*: refused but changed the image"
	[ -z "$(ls -A "$(dirname "$img")" | grep "^\.$(basename "$img")\.")" ] ||
		fail "resize $img $*: left a temporary file"
	log "ok: refused: $(cat "$T/rz.err")"
}

# vsize IMG: the virtual size qemu-img reports (no python: its start-up is slow under load).
vsize() { qemu-img info --output=json "$1" | sed -n 's/^ *"virtual-size": \([0-9]*\),*$/\1/p'; }

# geometry IMG N: "START SECTORS" of partition N, from sfdisk --dump.
geometry()
{
	sfdisk --dump "$1" | awk -v n="$2" -F'[ ,=:]+' '
		$1 ~ "[^0-9]" n "$" { for (i = 2; i < NF; i++) { if ($i == "start") s = $(i + 1);
			if ($i == "size") z = $(i + 1) } print s, z; found = 1 }
		END { if (!found) exit 1 }'
}

# image_uuid IMG FORMAT: the VDI image UUID / VHD footer UUID bytes ("" for other formats).
image_uuid()
{
	case $2 in
	vdi) od -An -tx1 -j 392 -N 16 "$1" | tr -d ' \n' ;;
	vpc) tail -c 512 "$1" | od -An -tx1 -j 68 -N 16 | tr -d ' \n' ;;
	esac
}

# as_raw IMG FORMAT: the raw bytes of IMG in $T/check.raw.
as_raw()
{
	if [ "$2" = raw ]; then
		cp --sparse=always "$1" "$T/check.raw"
	else
		qemu-img convert -f "$2" -O raw "$1" "$T/check.raw"
	fi
}

# check_grown IMG FORMAT OLD_RAW NEW_BYTES TABLE PART FS: the oracles after a resize.
check_grown()
{
	local img=$1 fmt=$2 old=$3 size=$4 table=$5 part=$6 fs=$7 vs start n end
	vs=$(vsize "$img")
	[ "$vs" = "$size" ] || fail "$img: virtual size $vs, want $size"
	case $fmt in qcow2 | vdi | vmdk)
		qemu-img check -q -f "$fmt" "$img" || fail "$img: qemu-img check" ;;
	esac
	as_raw "$img" "$fmt"
	case $table in
	gpt)
		sgdisk -v "$T/check.raw" >"$T/sgdisk.out" 2>&1 || true
		grep -q "No problems found" "$T/sgdisk.out" ||
			fail "$img: sgdisk -v: $(cat "$T/sgdisk.out")"
		;;
	mbr) sfdisk --dump "$T/check.raw" >/dev/null || fail "$img: sfdisk cannot read the MBR" ;;
	esac
	if [ "$part" != 0 ]; then
		read -r start n < <(geometry "$T/check.raw" "$part")
		end=$((start + n))
		if [ "$table" = gpt ]; then
			[ "$end" = $((size / 512 - 2048)) ] ||
				fail "$img: partition $part ends at sector $end, not $((size / 512 - 2048))"
		else
			[ "$end" = $((size / 512)) ] ||
				fail "$img: partition $part ends at sector $end, not $((size / 512))"
		fi
	fi
	# the partition's old bytes are as they were (ext4 and the swap header change)
	check_kept "$old" "$T/check.raw" "$part" "$fs"
	if [ "$part" = 0 ]; then
		cp --sparse=always "$T/check.raw" "$T/part.bin"
	else
		read -r start n < <(geometry "$T/check.raw" "$part")
		dd if="$T/check.raw" of="$T/part.bin" bs=1M iflag=skip_bytes,count_bytes \
			skip=$((start * 512)) count=$((n * 512)) conv=sparse status=none
		truncate -s $((n * 512)) "$T/part.bin"
	fi
	case $fs in
	vfat) fsck.fat -n "$T/part.bin" >"$T/fsck.out" 2>&1 || fail "$img: fsck.fat: $(cat "$T/fsck.out")" ;;
	ext4)
		e2fsck_clean "$T/part.bin"
		blocks=$(dumpe2fs_field "$T/part.bin" 'Block count')
		bsize=$(dumpe2fs_field "$T/part.bin" 'Block size')
		[ $((blocks * bsize)) = "$(stat -c %s "$T/part.bin")" ] ||
			fail "$img: ext4 has $blocks blocks of $bsize, partition $(stat -c %s "$T/part.bin") bytes"
		;;
	swap)
			pages=$(($(od -An -t u4 -j 1028 -N 4 "$T/part.bin" | tr -d ' ') + 1))
		[ $((pages * 4096)) = "$(stat -c %s "$T/part.bin")" ] ||
			fail "$img: swap header says $pages pages, partition $(stat -c %s "$T/part.bin") bytes"
		;;
	esac
}

# check_kept OLD_RAW NEW_RAW PART FS: the partition's old bytes are unchanged (ext4: not
# compared, e2fsck judges it; swap: after its header page).
check_kept()
{
	local old=$1 new=$2 part=$3 fs=$4 start n
	[ "$fs" != ext4 ] || return 0
	if [ "$part" = 0 ]; then
		start=0 n=$(($(stat -c %s "$old") / 512))
	else
		read -r start n < <(geometry "$old" "$part")
	fi
	[ "$fs" != swap ] || start=$((start + 8)) n=$((n - 8))
	cmp <(dd if="$old" bs=1M iflag=skip_bytes,count_bytes skip=$((start * 512)) \
		count=$((n * 512)) status=none) \
		<(dd if="$new" bs=1M iflag=skip_bytes,count_bytes skip=$((start * 512)) \
			count=$((n * 512)) status=none) >/dev/null ||
		fail "$new: partition $part's old bytes changed"
}

# Does this tree grow ext4? (ext4_grow() lands separately.)
ext4_grows=1
build "${common[@]}" --partition-table none --disk-size 16 -o "$T/probe.img"
if ! "$MKDISKIMAGE" resize "$T/probe.img" +8M 2>"$T/rz.err"; then
	grep -q "growing ext4 is not implemented" "$T/rz.err" || fail "resize: $(cat "$T/rz.err")"
	ext4_grows=0
	skip_case "ext4 growth (ext4_grow() is not implemented on this tree): ext4 images are only refused"
fi

ext() { case $1 in raw) echo img ;; vpc) echo vhd ;; *) echo "$1" ;; esac; }

# --- partitions lists whose last partition is FAT, swap (GPT) and FAT (MBR): every format
cat >"$T/gpt-fat.json" <<EOF2
{ "root": "$T/src", "partitionTableType": "gpt", "diskSize": 64, "bootloader": "none",
  "partitions": [
    {"type": "esp", "size": "16M", "fs": "vfat", "contents": "$T/esp/"},
    {"type": "root", "fs": "ext4", "size": "16M"},
    {"type": "linux", "fs": "vfat", "size": "rest", "label": "data"} ] }
EOF2
cat >"$T/gpt-swap.json" <<EOF2
{ "root": "$T/src", "partitionTableType": "gpt", "diskSize": 48, "bootloader": "none",
  "partitions": [
    {"type": "root", "fs": "ext4", "size": "16M"},
    {"type": "swap", "fs": "swap", "size": "rest", "label": "swap"} ] }
EOF2
cat >"$T/mbr-fat.json" <<EOF2
{ "root": "$T/src", "partitionTableType": "mbr", "diskSize": 48, "bootloader": "none",
  "partitions": [
    {"type": "root", "fs": "ext4", "size": "16M"},
    {"type": "linux", "fs": "vfat", "size": "rest"} ] }
EOF2
for fmt in raw qcow2 vdi vpc vmdk; do
	for c in "gpt-fat|gpt|3|vfat" "gpt-swap|gpt|2|swap" "mbr-fat|mbr|2|vfat"; do
		IFS='|' read -r name table part fs <<<"$c"
		# every table in raw; the other formats share the table code: one each
		[ "$fmt" = raw ] || [ "$name" = gpt-fat ] || continue
		img=$T/$name.$(ext "$fmt")
		build --spec "$T/$name.json" --format "$fmt" -q -o "$img"
		as_raw "$img" "$fmt" && mv "$T/check.raw" "$T/old.raw"
		old=$(vsize "$img")
		uuid=$(image_uuid "$img" "$fmt")
		add=20 # the brief's +100M for gpt-fat in raw and qcow2; less reading elsewhere
		[ "$name" != gpt-fat ] || [ "$fmt" = vdi ] || [ "$fmt" = vpc ] || [ "$fmt" = vmdk ] ||
			add=100
		resize "$img" +${add}M
		check_grown "$img" "$fmt" "$T/old.raw" $((old + add * MIB)) "$table" "$part" "$fs"
		[ "$(image_uuid "$img" "$fmt")" = "$uuid" ] || fail "$img: its UUID changed"
		[ "$fmt" = raw ] || [ "$fmt" = qcow2 ] || continue
		as_raw "$img" "$fmt" && mv "$T/check.raw" "$T/old.raw"
		resize "$img" 180
		check_grown "$img" "$fmt" "$T/old.raw" $((180 * MIB)) "$table" "$part" "$fs"
	done
	# the format options are kept
	case $fmt in
	qcow2) [ "$(qemu_info "$img" cluster-size)" = 65536 ] || fail "$img: cluster size changed" ;;
	esac
done
grep -q "rewritten" "$T/rz.err" || fail "a rewritten image's summary does not say so"
grep -q "FAT is not grown" "$T/rz.err" || fail "a FAT partition's summary does not say it keeps its size"

# compressed qcow2 (zstd, 128 KiB clusters) stays compressed with its options; fixed VHD stays fixed
build --spec "$T/gpt-fat.json" --format qcow2-compressed --compression zstd --cluster-size 128K \
	-q -o "$T/z.qcow2"
resize "$T/z.qcow2" +64M
[ "$(qemu_info "$T/z.qcow2" cluster-size)" = 131072 ] || fail "z.qcow2: cluster size changed"
[ "$(qemu_info "$T/z.qcow2" format-specific.data.compression-type)" = zstd ] ||
	fail "z.qcow2: compression type changed"
grep -q "zstd-compressed" "$T/rz.err" || fail "z.qcow2: summary does not say zstd: $(cat "$T/rz.err")"
# qemu-img's own compressed qcow2 (where a cluster that does not shrink is stored plain)
build --spec "$T/gpt-fat.json" -q -o "$T/q.img"
qemu-img convert -c -O qcow2 "$T/q.img" "$T/q.qcow2"
resize "$T/q.qcow2" +16M
grep -q "qcow2-compressed rewritten" "$T/rz.err" || fail "q.qcow2: not kept compressed: $(cat "$T/rz.err")"
qemu-img check -q "$T/q.qcow2" || fail "q.qcow2: qemu-img check"
build --spec "$T/gpt-fat.json" --format vpc --vpc-subformat fixed -q -o "$T/f.vhd"
resize "$T/f.vhd" +64M --format vpc
[ "$(stat -c %s "$T/f.vhd")" = $((128 * MIB + 512)) ] || fail "f.vhd: not a fixed VHD of 128 MiB"
qemu-img info -f vpc "$T/f.vhd" | grep -q "virtual size: 128 MiB" || fail "f.vhd: virtual size"
build --spec "$T/gpt-fat.json" --format vmdk --vmdk-subformat streamOptimized -q -o "$T/s.vmdk"
resize "$T/s.vmdk" +64M
qemu-img check -q "$T/s.vmdk" || fail "s.vmdk: qemu-img check"
[ "$(qemu_info "$T/s.vmdk" format-specific.data.create-type)" = streamOptimized ] ||
	fail "s.vmdk: no longer streamOptimized"
# a VHDX keeps its block size
build --spec "$T/gpt-fat.json" --format vhdx --vhdx-block-size 32M -q -o "$T/b.vhdx"
as_raw "$T/b.vhdx" vhdx && mv "$T/check.raw" "$T/old.raw"
resize "$T/b.vhdx" +64M
qemu-img check -q "$T/b.vhdx" || fail "b.vhdx: qemu-img check"
[ "$(qemu_info "$T/b.vhdx" cluster-size)" = $((32 * MIB)) ] || fail "b.vhdx: block size changed"
grep -q "block size 33554432" "$T/rz.err" || fail "b.vhdx: summary: $(cat "$T/rz.err")"
check_grown "$T/b.vhdx" vhdx "$T/old.raw" $((128 * MIB)) gpt 3 vfat
# packed formats: a zstd raw stays zstd, gce stays gce (rewritten, then unpacked and checked)
build --spec "$T/gpt-fat.json" -q -o "$T/c.img.zst"
zstd -dcq "$T/c.img.zst" >"$T/old.raw"
resize "$T/c.img.zst" +64M
grep -q "zstd compression" "$T/rz.err" || fail "c.img.zst: summary: $(cat "$T/rz.err")"
[ "$(head -c 4 "$T/c.img.zst" | od -An -tx1 | tr -d ' ')" = 28b52ffd ] ||
	fail "c.img.zst: no longer zstd"
zstd -dcq "$T/c.img.zst" >"$T/c.raw" || fail "c.img.zst: zstd -d"
check_grown "$T/c.raw" raw "$T/old.raw" $((128 * MIB)) gpt 3 vfat
build --spec "$T/gpt-fat.json" -q -o "$T/g.raw.tar.gz"
mkdir -p "$T/g" && tar -xzf "$T/g.raw.tar.gz" -C "$T/g" && mv "$T/g/disk.raw" "$T/old.raw"
resize "$T/g.raw.tar.gz" +64M
grep -q "gce rewritten" "$T/rz.err" || fail "g.raw.tar.gz: summary: $(cat "$T/rz.err")"
[ "$(tar -tzf "$T/g.raw.tar.gz")" = disk.raw ] || fail "g.raw.tar.gz: members: $(tar -tzf "$T/g.raw.tar.gz")"
tar -xzf "$T/g.raw.tar.gz" -C "$T/g" || fail "g.raw.tar.gz: tar -x"
check_grown "$T/g/disk.raw" raw "$T/old.raw" $((128 * MIB)) gpt 3 vfat

# --- presets (ext4 root last) and a bare filesystem
for fmt in raw qcow2; do
	for c in "efi|gpt|2" "legacy|mbr|1" "legacy+gpt|gpt|2" "hybrid|gpt|3" "none|none|0"; do
		IFS='|' read -r layout table part <<<"$c"
		img=$T/${layout/+/-}.$(ext "$fmt")
		build "${common[@]}" --partition-table "$layout" --disk-size 48 --format "$fmt" -o "$img"
		as_raw "$img" "$fmt" && mv "$T/check.raw" "$T/old.raw"
		if [ "$ext4_grows" = 0 ]; then
			refused "growing ext4 is not implemented" "$img" +100M
			continue
		fi
		resize "$img" +32M
		check_grown "$img" "$fmt" "$T/old.raw" $((80 * MIB)) "$table" "$part" ext4
		grep -q "ext4 grown from" "$T/rz.err" || fail "$img: summary: $(cat "$T/rz.err")"
	done
done

# --- after `qemu-img resize` (the file grown, the GPT backup left behind): +0 moves the backup,
# zeros the old one and grows the partition into the space
build "${common[@]}" --partition-table efi --disk-size 48 -o "$T/q0.img"
qemu-img resize -q -f raw "$T/q0.img" +50M
resize "$T/q0.img" +0
[ "$(od -An -tx1 -j $(((48 * 2048 - 1) * 512)) -N 8 "$T/q0.img" | tr -d ' ')" = 0000000000000000 ] ||
	fail "q0.img: the old backup GPT header is still there"
if [ "$ext4_grows" = 1 ]; then
	cp "$T/q0.img" "$T/old.raw" # (check_kept does not compare ext4)
	check_grown "$T/q0.img" raw "$T/old.raw" $((98 * MIB)) gpt 2 ext4
fi

# --- refusals: shrinking, a partition followed directly by another, bad numbers
img=$T/gpt-fat.img
build --spec "$T/gpt-fat.json" -q -o "$img"
refused "is 64 MiB (67108864 bytes): resize only grows" "$img" 32M
refused "partition 2 cannot grow: partition 3 (data) follows it directly" "$img" +10M --partition 2
refused "there is no partition 9" "$img" +10M --partition 9
build "${common[@]}" --partition-table none --disk-size 16 -o "$T/bare.img"
refused "there is no partition table, so no partition 1" "$T/bare.img" +10M --partition 1
build --spec "$T/mbr-fat.json" -q -o "$T/mbr.img"
refused "past the 2 TiB an MBR can address" "$T/mbr.img" 3T
# rounding: a size that is not whole MiB is rounded up and said so
resize "$img" 97657K
grep -q "rounded up to whole MiB" "$T/rz.err" || fail "rounding not reported: $(cat "$T/rz.err")"
[ "$(stat -c %s "$img")" = $((96 * MIB)) ] || fail "$img: $(stat -c %s "$img") bytes, not 96 MiB"
# the same size again: nothing to do, nothing written
cp "$img" "$T/before"
resize "$img" 96M
grep -q "nothing to do" "$T/rz.err" || fail "same size: $(cat "$T/rz.err")"
cmp "$img" "$T/before" || fail "same size: the image changed"
# --json and -q
"$MKDISKIMAGE" resize --json -q "$img" +1M >"$T/rz.json" 2>"$T/rz.err" || fail "--json: $(cat "$T/rz.err")"
[ ! -s "$T/rz.err" ] || fail "-q printed: $(cat "$T/rz.err")"
python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); assert j["newSize"] == 97 << 20 and j["partition"]["number"] == 3 and j["filesystem"]["action"] == "kept", j' \
	"$T/rz.json" || fail "--json: $(cat "$T/rz.json")"

# --- 2 GiB → 100 GiB: metadata only (raw stays sparse, qcow2 small); ext4 where it grows
bigfs=ext4
[ "$ext4_grows" = 1 ] || bigfs=vfat
cat >"$T/big.json" <<EOF2
{ "root": "$T/src", "partitionTableType": "gpt", "diskSize": 2048, "bootloader": "none",
  "partitions": [
    {"type": "esp", "size": "16M", "fs": "vfat"},
    {"type": "root", "fs": "$bigfs", "size": "rest"} ] }
EOF2
for fmt in raw qcow2; do
	img=$T/big.$(ext "$fmt")
	build --spec "$T/big.json" --format "$fmt" -q -o "$img"
	before=$(du -k "$img" | cut -f1)
	resize "$img" 100G
	after=$(du -k "$img" | cut -f1)
	[ "$(vsize "$img")" = $((100 << 30)) ] || fail "$img: not 100 GiB"
	# ext4's new group descriptors, bitmaps and backup superblocks: a few MiB at most
	[ "$after" -lt $((before + 16384)) ] || fail "$img: grew from $before to $after KiB on disk"
	log "$img: 2 GiB → 100 GiB, $before → $after KiB on disk"
	[ "$fmt" = raw ] || { qemu-img check -q "$img" || fail "$img: qemu-img check"; continue; }
	sgdisk -v "$img" 2>/dev/null | grep -q "No problems found" || fail "$img: sgdisk -v: $(sgdisk -v "$img")"
	read -r start n < <(geometry "$img" 2)
	[ $((start + n)) = $(((100 << 30) / 512 - 2048)) ] || fail "$img: root ends at $((start + n))"
	[ "$bigfs" = ext4 ] || continue
	# e2fsprogs reads the partition in place (?offset=): no 100 GiB copy
	e2fsck_clean "$img?offset=$((start * 512))"
	blocks=$(dumpe2fs_field "$img?offset=$((start * 512))" 'Block count')
	[ $((blocks * 4096)) = $((n * 512)) ] || fail "$img: ext4 has $blocks blocks for $n sectors"
	if can_loop_mount; then
		loop_mount "$img" "$T/mnt" $((start * 512)) $((n * 512))
		dfsize=$(df -B1 --output=size "$T/mnt" | tail -1 | tr -d ' ')
		unmount "$T/mnt"
		[ "$dfsize" -gt $((95 << 30)) ] || fail "$img: df says $dfsize bytes after growing to 100 GiB"
		log "ok: df of the grown root: $dfsize bytes"
	else
		skip_case "loop mount and df of the grown 100 GiB root (needs root and loop devices)"
	fi
done

# --- SIGINT during a resize leaves the old image (reads of the image slowed by the interposer)
if command -v cc >/dev/null && env --default-signal=INT true 2>/dev/null; then
	build_interposer interpose
	for fmt in qcow2 raw; do
		img=$T/sig.$(ext "$fmt")
		build --spec "$T/gpt-fat.json" --format "$fmt" -q -o "$img"
		cp --sparse=always "$img" "$T/sig.prev"
		env --default-signal=INT LD_PRELOAD="$T/interpose.so" FAULT_PATH="$img" \
			FAULT_DELAY_MS=100 "$MKDISKIMAGE" resize "$img" +100M >"$T/sig.out" 2>"$T/sig.err" &
		pid=$!
		_PIDS+=("$pid")
		if [ "$fmt" = qcow2 ]; then # wait for the temporary file: the rewrite has begun
			for ((i = 0; i < 300; i++)); do
				ls -A "$T" | grep -q "^\.sig\.qcow2\." && break
				sleep 0.1
			done
		else
			sleep 0.3
		fi
		kill -INT "$pid"
		rc=0
		wait "$pid" || rc=$?
		[ "$rc" = 130 ] || fail "SIGINT during resize $fmt: exit $rc: $(cat "$T/sig.err")"
		grep -q "interrupted by SIGINT; not changed" "$T/sig.err" ||
			fail "SIGINT during resize $fmt: $(cat "$T/sig.err")"
		cmp "$img" "$T/sig.prev" || fail "SIGINT during resize $fmt changed the image"
		[ -z "$(ls -A "$T" | grep '^\.sig\.')" ] || fail "SIGINT left a temporary file"
		log "ok: SIGINT during resize ($fmt): $(cat "$T/sig.err")"
	done
else
	skip_case "SIGINT during resize (needs cc and env --default-signal)"
fi
