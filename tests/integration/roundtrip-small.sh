#!/usr/bin/env bash
# A small tree with one of each thing a file carries — bytes (empty, one byte, one block, a few
# blocks), modes (600, 755, setuid, sticky), owners (as root), user.* xattrs, fast and slow
# symlinks, a hard link, an empty directory — round-trips exactly (compare_tree: debugfs and, as
# root, a loop mount) with e2fsck -fn clean, on a bare filesystem, MBR and GPT (sfdisk's partition
# types, sgdisk -v clean). The fast counterpart of roundtrip-generated.sh,
# used by the mutation check (tests/mutation) for every ext4 tree mutant.
# quick
. "$(dirname "$0")/../lib.sh"
require e2fsck debugfs sfdisk sgdisk python3 setfattr

s=$T/src
mkdir -p "$s/etc" "$s/bin" "$s/empty" "$s/tmp" "$s/home/alice"
: >"$s/etc/empty-file"
printf x >"$s/etc/one-byte"
head -c 4096 /dev/urandom >"$s/etc/block"
head -c 50000 /dev/urandom >"$s/bin/tool"
seq 1 3000 >"$s/etc/numbers"
chmod 600 "$s/etc/numbers"
chmod 4755 "$s/bin/tool"
chmod 1777 "$s/tmp"
setfattr -n user.comment -v "small tree" "$s/etc/block"
setfattr -n user.other -v 42 "$s/bin/tool"
ln -s ../etc/numbers "$s/bin/fast-link"
ln -s "/$(printf 'long%.0s' {1..30})/target" "$s/bin/slow-link"
ln "$s/etc/block" "$s/home/alice/block-link"
if is_root; then
	chown 1000:100 "$s/home/alice" "$s/etc/one-byte"
	chown 0:5 "$s/bin/tool"
fi
touch -d '2021-05-06 07:08:09.123456789' "$s/etc/one-byte"

# types IMG: the partition type of each entry, as sfdisk reads the table
types() { sfdisk --json "$1" | python3 -c '
import json, sys
print(" ".join(p["type"].upper() for p in json.load(sys.stdin)["partitiontable"]["partitions"]))'; }

for layout in none legacy efi; do
	build --root "$s" --partition-table "$layout" --boot-size 16M --additional-space 2M \
		-o "$T/$layout.img"
	case $layout in
	none) n=0 ;;
	legacy)
		n=1
		[ "$(types "$T/$layout.img")" = 83 ] || fail "legacy: partition types $(types "$T/$layout.img")"
		;;
	efi)
		n=2
		sgdisk -v "$T/$layout.img" | grep -q "No problems found" || fail "efi: sgdisk -v"
		[[ "$(types "$T/$layout.img")" == "$TYPE_ESP "* ]] ||
			fail "efi: partition types $(types "$T/$layout.img")"
		[ "$(types "$T/$layout.img" | wc -w)" -eq 2 ] || fail "efi: not two partitions"
		;;
	esac
	extract_partition "$T/$layout.img" "$n" "$T/$layout.ext4"
	e2fsck_clean "$T/$layout.ext4"
	compare_tree "$s" "$T/$layout.ext4"
	log "$layout: the tree round-trips"
done
