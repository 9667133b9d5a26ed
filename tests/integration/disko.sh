#!/usr/bin/env bash
# --disko FILE.json (issue #15): the disko.devices JSON of disko's own examples
# (tests/data/disko/README.md says which file and commit each comes from) builds the disk disko
# would partition. Oracles per fixture: sfdisk --json (partition order as disko sorts it by
# priority then name, type GUIDs / MBR bytes, GPT names disk-main-NAME, starts and sizes in
# sectors, attributes, active flags), the image size (imageSize 2G), blkid -p per partition
# (vfat ESP labelled ESP, ext4 root labelled nixos, swap; randomEncryption's swap left empty),
# e2fsck -fn, fsck.fat -n, debugfs (the root holds --root) and mtype (the ESP holds
# systemd-boot). Bad fixtures (LUKS, LVM, two disks) fail with one line naming the JSON path
# and write no output. Boots (3, TCG): simple-efi with systemd-boot under OVMF, gpt-bios-compat
# with GRUB in its EF02 partition under SeaBIOS, hybrid (EF02 + ESP) under SeaBIOS.
# slow
. "$(dirname "$0")/../lib.sh"
require sfdisk sgdisk blkid fsck.fat mtype e2fsck debugfs python3
F=$DATA/disko
TYPE_LINUX=0FC63DAF-8483-4772-8E79-3D69D8477DE4
TYPE_BIOS=21686148-6449-6E6F-744E-656564454649
TYPE_SWAP=0657FD6D-A4AB-43C4-84E5-0933C84B4F4F
SDBOOT=/usr/lib/systemd/boot/efi/systemd-bootx64.efi
END=4194304 # imageSize 2G in sectors

mkdir -p "$T/root/etc"
printf 'disko-marker\n' >"$T/root/mkdiskimage-marker"
printf 'disko\n' >"$T/root/etc/hostname"

# table IMG: "label L", then "START SIZE TYPE NAME ATTRS BOOTABLE" per partition.
table()
{
	sfdisk --json "$1" | python3 -c '
import json, sys
pt = json.load(sys.stdin)["partitiontable"]
print("label", pt["label"])
for p in pt["partitions"]:
    print(p["start"], p["size"], p["type"].upper(), p.get("name", "-"), p.get("attrs", "-"),
          "boot" if p.get("bootable") else "-")'
}

# expect_table IMG WANT: the table is exactly WANT (the last partition's size is checked by
# the caller's END arithmetic: it runs to the last usable sector).
expect_table()
{
	table "$1" >"$T/table.got" || fail "$1: sfdisk --json"
	diff -u <(printf '%s\n' "$2") "$T/table.got" >&2 || fail "$1: partition table"
	[ "$(stat -c %s "$1")" -eq $((END * 512)) ] || fail "$1: not imageSize 2G"
}

# extract IMG N OUT: partition N as a sparse file, copying only the image's data extents (the
# 2G images are almost all holes; dd would read every zero).
extract()
{
	local start size
	read -r start size < <(part_geometry "$1" "$2") || fail "$1: no partition $2"
	python3 -c '
import os, sys
src, dst, off, n = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
i, o = os.open(src, os.O_RDONLY), os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
pos, end = off, off + n
while pos < end:
    try:
        pos = os.lseek(i, pos, os.SEEK_DATA)
    except OSError:
        break
    if pos >= end:
        break
    hole = min(os.lseek(i, pos, os.SEEK_HOLE), end)
    while pos < hole:
        b = os.pread(i, min(hole - pos, 1 << 20), pos)
        os.pwrite(o, b, pos - off)
        pos += len(b)
os.ftruncate(o, n)' "$1" "$3" $((start * 512)) $((size * 512))
}

# check_part IMG N TYPE [LABEL]: blkid -p's TYPE (and LABEL) of partition N and its fsck.
check_part()
{
	local img=$1 n=$2 type=$3 label=${4:-} out
	extract "$img" "$n" "$T/p"
	out=$(blkid -p -o export "$T/p") || true
	grep -qx "TYPE=$type" <<<"$out" || fail "$img: partition $n is not $type: $out"
	[ -z "$label" ] || grep -qx "LABEL=$label" <<<"$out" || fail "$img: partition $n label: $out"
	case $type in
	ext4)
		e2fsck_clean "$T/p"
		debugfs -R "cat /mkdiskimage-marker" "$T/p" 2>/dev/null | grep -qx disko-marker ||
			fail "$img: the root does not hold --root"
		;;
	vfat) fsck.fat -n "$T/p" >"$T/fsck.out" 2>&1 || { cat "$T/fsck.out" >&2; fail "$img: fsck.fat -n"; } ;;
	esac
	rm -f "$T/p"
}

log "simple-efi: ESP 500M at /boot, ext4 root 100%"
build --disko "$F/simple-efi.json" --root "$T/root" -o "$T/simple-efi.img"
sgdisk -v "$T/simple-efi.img" | grep -q 'No problems found' || fail "simple-efi: sgdisk -v"
expect_table "$T/simple-efi.img" "label gpt
2048 1024000 $TYPE_ESP disk-main-ESP - -
1026048 $((END - 34 - 1026048 + 1)) $TYPE_LINUX disk-main-root - -"
check_part "$T/simple-efi.img" 1 vfat ESP
check_part "$T/simple-efi.img" 2 ext4 nixos
assert_reproducible --disko "$F/simple-efi.json" --root "$T/root" --disk-size 560 # cmp reads every byte

log "hybrid: EF02 first (priority 100), then ESP, then root"
build --disko "$F/hybrid.json" --root "$T/root" --bootloader none -o "$T/hybrid.img"
expect_table "$T/hybrid.img" "label gpt
2048 2048 $TYPE_BIOS disk-main-boot - -
4096 1048576 $TYPE_ESP disk-main-ESP - -
1052672 $((END - 34 - 1052672 + 1)) $TYPE_LINUX disk-main-root - -"
check_part "$T/hybrid.img" 2 vfat ESP
check_part "$T/hybrid.img" 3 ext4 nixos
rm -f "$T/hybrid.img"

log "gpt-bios-compat: EF02 with attribute 0, root"
build --disko "$F/gpt-bios-compat.json" --root "$T/root" --bootloader none -o "$T/bios.img"
expect_table "$T/bios.img" "label gpt
2048 2048 $TYPE_BIOS disk-main-boot RequiredPartition -
4096 $((END - 34 - 4096 + 1)) $TYPE_LINUX disk-main-root - -"
check_part "$T/bios.img" 2 ext4 nixos
rm -f "$T/bios.img"

log "swap: ESP, encryptedSwap (empty), root ending 1G before the end, plainSwap the last 1G"
build --disko "$F/swap.json" --root "$T/root" -o "$T/swap.img"
expect_table "$T/swap.img" "label gpt
2048 1024000 $TYPE_ESP disk-main-ESP - -
1026048 20480 $TYPE_SWAP disk-main-encryptedSwap - -
1046528 1048576 $TYPE_LINUX disk-main-root - -
2095104 2097152 $TYPE_SWAP disk-main-plainSwap - -"
check_part "$T/swap.img" 1 vfat ESP
check_part "$T/swap.img" 3 ext4 nixos
check_part "$T/swap.img" 4 swap
extract "$T/swap.img" 2 "$T/p"
blkid -p "$T/p" >/dev/null && fail "swap: the randomEncryption swap has a signature"
rm -f "$T/p" "$T/swap.img"

log "legacy-table (format msdos): parted's 1M..500M is 1MiB..477MiB, both active"
build --disko "$F/legacy-table-msdos.json" --root "$T/root" --bootloader none -o "$T/msdos.img"
expect_table "$T/msdos.img" "label dos
2048 974848 EF - - boot
976896 $((END - 976896)) 83 - - boot"
check_part "$T/msdos.img" 1 vfat ESP
check_part "$T/msdos.img" 2 ext4 nixos
rm -f "$T/msdos.img"

log "refused: one line naming the JSON path, no output"
expect_fail 'disko.devices.disk.main.content.partitions.luks.content.type "luks": not supported' \
	--disko "$F/bad-luks.json" --root "$T/root"
expect_fail 'disko.devices.lvm_vg.mainpool: lvm_vg devices are not supported' \
	--disko "$F/bad-lvm.json" --root "$T/root"
expect_fail 'disko.devices.disk: 2 disks (one, two)' --disko "$F/bad-two-disks.json" --root "$T/root"
printf '{"disk": {"main": {"content": {"type": "gpt", "partitions": {}},}}}' >"$T/bad.json"
expect_fail "$T/bad.json:1:" --disko "$T/bad.json" --root "$T/root"
printf '{"partitionTableType": "gpt", "partitions": [{"type": "root"}]}' >"$T/spec.json"
expect_fail 'the spec has a "partitions" list too' --spec "$T/spec.json" --disko "$F/swap.json"

# Boots (tests/boot/make-initramfs.sh: mounts LABEL=nixos, prints the marker).
require qemu-system-x86_64
kdir=$("$TESTS/boot/fetch-kernel.sh") || skip "no Debian cloud kernel (tests/boot/fetch-kernel.sh)"
kernel=$(ls "$kdir"/boot/vmlinuz-* | head -n1)
rc=0
"$TESTS/boot/make-initramfs.sh" "$kdir" "$T/initrd" || rc=$?
[ "$rc" -ne 77 ] || skip "needs busybox-static"
[ "$rc" -eq 0 ] || fail "make-initramfs.sh failed"
kargs=(--kernel "$kernel" --initrd "$T/initrd" --cmdline "console=ttyS0 mdi.root=LABEL=nixos")

log "boot simple-efi: systemd-boot on the ESP under OVMF"
if [ -f "$SDBOOT" ] && [ -f /usr/share/OVMF/OVMF_CODE_4M.fd ]; then
	build --disko "$F/simple-efi.json" --root "$T/root" "${kargs[@]}" --bootloader systemd-boot \
		--systemd-boot-efi "$SDBOOT" -o "$T/efi-boot.img"
	extract "$T/efi-boot.img" 1 "$T/p"
	MTOOLS_SKIP_CHECK=1 mtype -i "$T/p" ::/EFI/BOOT/BOOTX64.EFI | cmp - "$SDBOOT" ||
		fail "simple-efi: BOOTX64.EFI is not systemd-boot"
	rm -f "$T/p"
	boot_expect "$T/efi-boot.img" simple-efi uefi "MKDISKIMAGE-BOOT-OK disko-marker"
	rm -f "$T/efi-boot.img"
else
	skip_case "simple-efi boot under OVMF (needs systemd-boot-efi and ovmf)"
fi

grub_dir=${GRUB_DIR:-/usr/lib/grub/i386-pc}
if [ -f "$grub_dir/boot.img" ]; then
	for fx in gpt-bios-compat hybrid; do
		log "boot $fx: GRUB's core in the EF02 partition under SeaBIOS"
		build --disko "$F/$fx.json" --root "$T/root" "${kargs[@]}" --bootloader grub \
			--grub-dir "$grub_dir" -o "$T/$fx-boot.img"
		core_lba=$(od -An -t u8 -j $((0x5c)) -N 8 "$T/$fx-boot.img" | tr -d ' ')
		[ "$core_lba" = 2048 ] || fail "$fx: core.img at LBA $core_lba, not in EF02 at 2048"
		sgdisk -v "$T/$fx-boot.img" | grep -q 'No problems found' || fail "$fx boot: sgdisk -v"
		boot_expect "$T/$fx-boot.img" "$fx" bios "MKDISKIMAGE-BOOT-OK disko-marker"
		rm -f "$T/$fx-boot.img"
	done
else
	skip_case "BIOS boots (needs grub-pc-bin)"
fi
log "ok"
