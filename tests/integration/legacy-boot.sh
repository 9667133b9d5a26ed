#!/usr/bin/env bash
# partitionTableType legacy+boot (issue #12), nixpkgs' layout for Limine and Raspberry Pi
# loaders: an MBR with a bootable FAT partition labelled BOOT from 1 MiB to bootSize and the
# ext4 root from bootSize to the end, as make-disk-image's
#	parted --script IMG -- mklabel msdos mkpart primary fat32 1MiB BOOTSIZE set 1 boot on \
#		mkpart primary ext4 BOOTSIZE 100%
#	mkfs.vfat -n BOOT /dev/vda1
# makes it. Oracles: sfdisk (label dos, starts, sizes, type c = W95 FAT32 (LBA), which is what
# parted writes for `fat32` on msdos, the active flag) and, when parted is installed, the same
# table as parted's on a file of the same size; fsck.fat -n; the FAT is the one `mkfs.vfat -n
# BOOT` makes on that partition (FAT32 where it fits, as our ESPs, and mkfs.fat -F 32's geometry:
# fsck.fat -v and minfo agree, serial number aside); blkid: vfat BOOT, ext4 nixos; e2fsck -fn.
# The flag and the JSON key give the same bytes, two builds are identical, automatic sizing
# works. Then GRUB (core.img in the MBR gap, as for legacy) boots the image under SeaBIOS into
# a Debian cloud kernel and busybox initramfs that mounts the root by label.
. "$(dirname "$0")/../lib.sh"
require sfdisk fsck.fat mkfs.fat minfo blkid e2fsck debugfs dumpe2fs python3 od

mkdir -p "$T/root/etc"
printf 'legacy-boot-marker\n' >"$T/root/boot-marker"
printf 'legacy-boot\n' >"$T/root/etc/hostname"
DISK=300 # MiB
BOOT_END=$((128 * 2048)) # bootSize 128M in sectors

# describe IMG: "label L" then one line per partition: "N START SIZE TYPE [bootable]".
describe()
{
	sfdisk --json "$1" | python3 -c '
import json, sys
pt = json.load(sys.stdin)["partitiontable"]
print("label", pt["label"])
for p in pt["partitions"]:
    n = int(p["node"][len(pt["device"]):])
    print(n, p["start"], p["size"], p["type"].lower(), "bootable" if p.get("bootable") else "-")
'
}

log "flag: --partition-table legacy+boot --boot-size 128M"
build --root "$T/root" --partition-table legacy+boot --boot-size 128M --disk-size "$DISK" \
	-o "$T/lb.img"
[ "$(stat -c %s "$T/lb.img")" -eq $((DISK * MIB)) ] || fail "the disk is not $DISK MiB"
describe "$T/lb.img" >"$T/got"
diff -u - "$T/got" <<EOF || fail "partition table differs"
label dos
1 2048 $((BOOT_END - 2048)) c bootable
2 $BOOT_END $((DISK * 2048 - BOOT_END)) 83 -
EOF
# the MBR itself: signature, exactly two entries, the active flag 0x80 on the first only
python3 - "$T/lb.img" <<'PY' || fail "MBR entries"
import sys
m = open(sys.argv[1], "rb").read(512)
assert m[510:512] == b"\x55\xaa", "no 55 AA"
e = [m[446 + 16 * i:462 + 16 * i] for i in range(4)]
assert [x[0] for x in e] == [0x80, 0, 0, 0], "status bytes %r" % [x[0] for x in e]
assert [x[4] for x in e] == [0x0c, 0x83, 0, 0], "types %r" % [x[4] for x in e]
assert e[2] == e[3] == bytes(16), "entries 3 and 4 are not empty"
PY

if command -v parted >/dev/null; then
	truncate -s "${DISK}M" "$T/parted.img"
	parted --script "$T/parted.img" -- mklabel msdos mkpart primary fat32 1MiB 128MiB \
		set 1 boot on mkpart primary ext4 128MiB 100% 2>/dev/null ||
		fail "parted could not make the reference table"
	describe "$T/parted.img" | diff -u - "$T/got" || fail "the table differs from parted's"
	rm -f "$T/parted.img"
else
	skip_case "the comparison with parted's table (apt-get install parted)"
fi

log "JSON: \"partitionTableType\": \"legacy+boot\""
cat >"$T/spec.json" <<EOF
{ "root": "root", "partitionTableType": "legacy+boot", "bootSize": "128M", "diskSize": $DISK }
EOF
build --spec "$T/spec.json" -o "$T/lb-json.img"
cmp "$T/lb.img" "$T/lb-json.img" || fail "the JSON key and the flag give different images"
rm -f "$T/lb-json.img"

log "BOOT: FAT as mkfs.vfat -n BOOT makes it"
extract_partition "$T/lb.img" 1 "$T/boot.fat"
fsck.fat -n "$T/boot.fat" >"$T/fsck.out" 2>&1 || { cat "$T/fsck.out" >&2; fail "fsck.fat -n BOOT"; }
out=$(blkid -p -o export "$T/boot.fat")
grep -qx 'TYPE=vfat' <<<"$out" || fail "blkid: BOOT is not vfat: $out"
grep -qx 'LABEL=BOOT' <<<"$out" || fail "blkid: the label is not BOOT: $out"
# nixpkgs runs mkfs.vfat without -F (FAT16 at this size); like our ESPs (docs/formats/fat.md)
# BOOT is FAT32 wherever FAT32 fits, as the issue asks ("a bootable FAT32 partition"): the
# reference is mkfs.fat -F 32 on that partition (LBA 2048 of a virtio disk, 64 heads, 32 sectors).
mkfs.fat -F 32 -n BOOT -g 64/32 -h 2048 -C "$T/ref.fat" $(((BOOT_END - 2048) / 2)) >/dev/null
bits() { fsck.fat -n -v "$1" | sed -n 's/^ *2 FATs, \([0-9]*\) bit entries$/\1/p'; }
want=$(bits "$T/ref.fat")
got=$(bits "$T/boot.fat")
[ -n "$want" ] && [ "$got" = "$want" ] ||
	fail "BOOT is FAT$got; mkfs.vfat -F 32 -n BOOT makes FAT$want on this partition"
for f in boot ref; do
	fsck.fat -n -v "$T/$f.fat" | sed 1d | grep -v "^$T/$f.fat" >"$T/$f.fsck"
	minfo -i "$T/$f.fat" :: | grep -v -e '^filename=' -e '^serial number' -e 'mformat' \
		>"$T/$f.minfo"
done
diff -u "$T/ref.fsck" "$T/boot.fsck" >&2 || fail "fsck.fat -v differs from mkfs.vfat's"
diff -u "$T/ref.minfo" "$T/boot.minfo" >&2 || fail "minfo differs from mkfs.vfat's"
rm -f "$T/boot.fat" "$T/ref.fat"

log "root: ext4 nixos from bootSize to the end"
extract_partition "$T/lb.img" 2 "$T/root.ext4"
e2fsck_clean "$T/root.ext4"
out=$(blkid -p -o export "$T/root.ext4")
grep -qx 'TYPE=ext4' <<<"$out" || fail "blkid: root is not ext4: $out"
grep -qx 'LABEL=nixos' <<<"$out" || fail "blkid: root label: $out"
debugfs -R "cat /boot-marker" "$T/root.ext4" 2>/dev/null | grep -qx legacy-boot-marker ||
	fail "the root tree is not on partition 2"
blocks=$(dumpe2fs_field "$T/root.ext4" 'Block count')
[ $((blocks * 4096)) -gt $(($(stat -c %s "$T/root.ext4") - 4096)) ] ||
	fail "the root filesystem does not fill its partition"
rm -f "$T/root.ext4"

assert_reproducible --root "$T/root" --partition-table legacy+boot --boot-size 128M \
	--disk-size "$DISK"

log "automatic size"
build --root "$T/root" --partition-table legacy+boot --boot-size 64M --additional-space 8M \
	-o "$T/auto.img"
size=$(stat -c %s "$T/auto.img")
[ $((size % MIB)) -eq 0 ] || fail "auto: $size bytes, not whole MiB"
describe "$T/auto.img" >"$T/got"
diff -u - "$T/got" <<EOF || fail "auto: partition table differs"
label dos
1 2048 $((64 * 2048 - 2048)) c bootable
2 $((64 * 2048)) $((size / 512 - 64 * 2048)) 83 -
EOF
extract_partition "$T/auto.img" 2 "$T/root.ext4"
e2fsck_clean "$T/root.ext4"
extract_partition "$T/auto.img" 1 "$T/boot.fat"
fsck.fat -n "$T/boot.fat" >/dev/null || fail "auto: fsck.fat -n BOOT"
rm -f "$T/auto.img" "$T/root.ext4" "$T/boot.fat"

# GRUB for BIOS: core.img in the gap before partition 1, as for legacy; SeaBIOS boots it.
require qemu-system-x86_64 gzip busybox
grub_bios_fixture
cmdline="console=ttyS0 mdi.label=nixos panic=-1"
common=(--root "$T/root" --partition-table legacy+boot --boot-size 128M --disk-size 200
	--kernel "$kernel" --initrd "$T/initrd.gz" --cmdline "$cmdline")
build "${common[@]}" --bootloader grub --grub-dir "$grub_dir" -o "$T/grub.img"
build "${common[@]}" --bootloader none -o "$T/none.img"
assert_tables_kept "$T/grub.img" "$T/none.img" legacy legacy-boot
describe "$T/grub.img" | sed -n 2p | grep -qx "1 2048 $((BOOT_END - 2048)) c bootable" ||
	fail "grub: partition 1: $(describe "$T/grub.img")"
core_lba=$(od -An -t u8 -j $((0x5c)) -N 8 "$T/grub.img" | tr -d ' ')
[ "$core_lba" = 1 ] || fail "grub: core.img at LBA $core_lba, not 1 (the MBR gap)"
[ "$(od -An -t x1 -j $((0x64)) -N 1 "$T/grub.img" | tr -d ' ')" = ff ] || fail "grub: boot drive"
extract_partition "$T/grub.img" 1 "$T/boot.fat"
fsck.fat -n "$T/boot.fat" >"$T/fsck.out" 2>&1 || { cat "$T/fsck.out" >&2; fail "grub: fsck.fat -n BOOT"; }
extract_partition "$T/grub.img" 2 "$T/root.ext4"
e2fsck_clean "$T/root.ext4"
rm -f "$T/none.img" "$T/boot.fat" "$T/root.ext4"
boot_expect "$T/grub.img" legacy-boot bios "MDI-RESULT ok legacy-boot-marker"
log "ok"
