#!/usr/bin/env bash
# FAT boot partitions: for efi, efixbootldr and hybrid, the ESP (and XBOOTLDR) built from --esp /
# --xbootldr trees must be clean for fsck.fat, listed by mdir and extracted by mcopy identical
# to the source (long and UTF-8 names, deep directories, 2000 files in one directory, empty
# files, a large file), labelled ESP / BOOT for blkid, reproducible; bad trees and a bootSize
# too small fail with one line and no output. QUICK=1 shrinks the many-files directory and the
# large file so the sanitizer pass stays fast.
# quick
. "$(dirname "$0")/../lib.sh"
require fsck.fat mkfs.fat mdir mcopy minfo blkid sfdisk python3

n_many=2000
big_mib=100
hybrid_boot=600M # a 592 MiB ESP: FAT32 with 4 KiB clusters
if [ -n "${QUICK:-}" ]; then
	n_many=300
	big_mib=3
	hybrid_boot=24M # a 16 MiB ESP: FAT16 (comparing two 600 MiB images is slow)
fi

# gen DIR BIG_MIB: the sample tree.
gen()
{
	local d=$1 big=$2
	mkdir -p "$d/EFI/BOOT" "$d/loader/entries" "$d/empty dir" "$d/many"
	printf 'MZ fake loader\n' >"$d/EFI/BOOT/BOOTX64.EFI"
	printf 'timeout 3\ndefault nixos-*\n' >"$d/loader/loader.conf"
	printf 'title NixOS\nlinux /EFI/nixos/kernel.efi\n' \
		>"$d/loader/entries/nixos-generation-1.conf"
	: >"$d/empty file"
	: >"$d/EMPTY.TXT"
	printf 'utf-8\n' >"$d/Übersicht – ünïcödé 日本語.txt"
	# (no astral-plane names: mtools reads UTF-16 surrogate pairs as two '_'; the kernel reads
	# them fine, and lfn.c's unit test covers their encoding)
	printf 'long\n' >"$d/$(printf 'a%.0s' $(seq 1 200)) long name.conf"
	printf 'chars\n' >"$d/a+b;c=d[1],e.txt"
	printf 'hidden\n' >"$d/.hidden"
	printf 'tar\n' >"$d/x.tar.gz"
	printf 'mixed\n' >"$d/Mixed.Txt"
	ln "$d/loader/loader.conf" "$d/loader/hard link.conf" # copied: FAT has no links
	printf 'dated\n' >"$d/dated.txt"
	touch -d '2001-02-03 04:05:06 UTC' "$d/dated.txt"
	printf 'old\n' >"$d/old.txt"
	touch -d '1970-01-02 00:00:00 UTC' "$d/old.txt" # FAT starts in 1980
	for i in $(seq 1 12); do printf '%d\n' "$i" >"$d/longfilename$i.txt"; done
	local p=$d
	for i in $(seq 1 20); do p=$p/level-$i; done
	mkdir -p "$p"
	printf 'deep\n' >"$p/deep file.txt"
	python3 - "$d/many" "$n_many" <<'PY'
import os, sys
d, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    with open(os.path.join(d, "file number %04d.data" % i), "w") as f:
        f.write("%d\n" % i * (i % 7))
PY
	if [ "$big" -gt 0 ]; then
		python3 -c '
import sys, hashlib
n = int(sys.argv[2]) << 20
with open(sys.argv[1], "wb") as f:
    block = b"".join(hashlib.sha256(b"%d" % i).digest() for i in range(32768))
    while n > 0:
        f.write(block[:n]); n -= len(block)
' "$d/big file.bin" "$big"
	fi
}

# check_fat IMG N LABEL SRC: partition N of IMG is a clean FAT labelled LABEL holding SRC.
check_fat()
{
	local img=$1 n=$2 label=$3 src=$4 part=$T/part$2.img out=$T/out$2
	extract_partition "$img" "$n" "$part"
	fsck.fat -n "$part" >"$T/fsck.out" 2>&1 || { cat "$T/fsck.out" >&2; fail "fsck.fat -n $img part $n"; }
	grep -q 'TYPE="vfat"' < <(blkid "$part") || fail "blkid: $(blkid "$part")"
	grep -q "LABEL=\"$label\"" < <(blkid "$part") || fail "blkid label: $(blkid "$part")"
	if [ -n "$(ls -A "$src")" ]; then
		# (mdir -/ exits 1 on an empty root, for mkfs.fat's images too)
		LC_ALL=C.UTF-8 mdir -/ -i "$part" :: >"$T/mdir.out" || fail "mdir -/ $img part $n"
		grep -q "file number 0001.data" "$T/mdir.out" || fail "mdir does not list long names"
	else
		mdir -i "$part" :: >"$T/mdir.out" || fail "mdir $img part $n"
	fi
	rm -rf "$out"
	mkdir -p "$out"
	LC_ALL=C.UTF-8 mcopy -s -n -i "$part" ::/ "$out/" || fail "mcopy -s $img part $n"
	diff -r "$src" "$out" >&2 || fail "$img part $n: extracted tree differs from $src"
	if [ -e "$src/dated.txt" ]; then
		# write times in UTC, 2-second resolution; before 1980 clamps to 1980-01-01
		mdir -i "$part" ::dated.txt | grep -q '2001-02-03   4:05' || fail "dated.txt time"
		mdir -i "$part" ::old.txt | grep -q '1980-01-01   0:00' || fail "old.txt time"
	fi
	rm -rf "$out" "$part"
}

gen "$T/esp" "$big_mib"
gen "$T/small" 0
mkdir -p "$T/root"
printf 'root\n' >"$T/root/hello"

for layout in efi efixbootldr hybrid; do
	log "layout $layout"
	case $layout in
	efi)
		args=(--esp "$T/esp")
		;;
	efixbootldr)
		args=(--esp "$T/small" --xbootldr "$T/esp")
		;;
	hybrid)
		args=(--esp "$T/esp" --boot-size "$hybrid_boot")
		;;
	esac
	common=(--root "$T/root" --partition-table "$layout" --additional-space 1M "${args[@]}")
	build "${common[@]}" -o "$T/$layout.img"
	case $layout in
	efi)
		check_fat "$T/$layout.img" 1 ESP "$T/esp"
		;;
	efixbootldr)
		check_fat "$T/$layout.img" 1 ESP "$T/small"
		check_fat "$T/$layout.img" 2 BOOT "$T/esp"
		;;
	hybrid)
		check_fat "$T/$layout.img" 1 ESP "$T/esp"
		if [ "$hybrid_boot" = 600M ]; then
			extract_partition "$T/$layout.img" 1 "$T/p.img"
			fsck.fat -n -v "$T/p.img" | grep -q "32 bit entries" ||
				fail "the 592 MiB ESP is not FAT32"
			rm -f "$T/p.img"
		fi
		;;
	esac
	assert_reproducible "${common[@]}"
	rm -f "$T/$layout.img"
done

# Without --esp the ESP is still formatted: an empty FAT labelled ESP.
build --root "$T/root" --partition-table efi --additional-space 1M -o "$T/empty.img"
mkdir -p "$T/nothing"
check_fat "$T/empty.img" 1 ESP "$T/nothing"
# ... with mkfs.fat's geometry: same fsck.fat -v and minfo reports as `mkfs.fat -F 32 -n ESP`
# on a 248 MiB virtio partition at LBA 16384 (-g 64/32 -h 16384), serial number aside.
extract_partition "$T/empty.img" 1 "$T/ours.img"
mkfs.fat -F 32 -n ESP -g 64/32 -h 16384 -C "$T/ref.img" $((248 * 1024)) >/dev/null
for f in ours ref; do
	fsck.fat -n -v "$T/$f.img" | sed 1d | grep -v "^$T/$f.img" >"$T/$f.fsck"
	minfo -i "$T/$f.img" :: | grep -v -e '^filename=' -e '^serial number' -e 'mformat' \
		>"$T/$f.minfo"
done
diff -u "$T/ref.fsck" "$T/ours.fsck" >&2 || fail "fsck.fat -v differs from mkfs.fat's"
diff -u "$T/ref.minfo" "$T/ours.minfo" >&2 || fail "minfo differs from mkfs.fat's"
rm -f "$T/empty.img" "$T/ours.img" "$T/ref.img"

# Bad input: one line, no output file.
mkdir -p "$T/withlink/EFI"
ln -s /etc/passwd "$T/withlink/EFI/link"
expect_fail "/EFI/link: a symlink" --root "$T/root" --partition-table efi --esp "$T/withlink"
mkdir -p "$T/badname"
printf 'x\n' >"$T/badname/what?.txt"
expect_fail "forbids" --root "$T/root" --partition-table efi --esp "$T/badname"
mkdir -p "$T/bigesp"
truncate -s 0 "$T/bigesp/f"
head -c $((20 * MIB)) /dev/zero >"$T/bigesp/f"
expect_fail "set bootSize to at least 29M" --root "$T/root" --partition-table efi \
	--boot-size 16M --esp "$T/bigesp"
truncate -s 95M "$T/bigesp/f" # sparse: FAT stores all of it
expect_fail "the efixbootldr ESP is 92 MiB" --root "$T/root" --partition-table efixbootldr \
	--esp "$T/bigesp"
expect_fail "has no ESP" --root "$T/root" --partition-table legacy --esp "$T/esp"
expect_fail "has no XBOOTLDR" --root "$T/root" --partition-table efi --xbootldr "$T/esp"
log "ok"
