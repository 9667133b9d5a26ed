#!/usr/bin/env bash
# The main job on the bundled example: build a bootable GPT disk image from
# examples/example.json (root tree, contents with owners from the image's /etc/passwd) plus
# systemd-boot, Debian's cloud kernel and a small busybox initramfs — as the invoking user, no
# root, no VM — then let independent tools verify it and boot it under QEMU (OVMF, TCG).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$here/..
bin=${MKDISKIMAGE:-$repo/build/mkdiskimage}
out=${OUT:-$repo/build/example}
mkdir -p "$out"
rm -f "$out/nixos.img"

sdboot=/usr/lib/systemd/boot/efi/systemd-bootx64.efi
kdir=$("$repo/tests/boot/fetch-kernel.sh") || {
	echo "cannot fetch Debian's cloud kernel (needs apt-get download); run scripts/install-deps.sh" >&2
	exit 1
}
kernel=$(ls "$kdir"/boot/vmlinuz-* | head -n1)
"$repo/tests/boot/make-initramfs.sh" "$kdir" "$out/initrd"

# git does not keep owners: --owner 0:0 makes the example tree root-owned in the image
"$bin" build --spec "$here/example.json" --owner 0:0 \
	--kernel "$kernel" --initrd "$out/initrd" --cmdline "console=ttyS0 mdi.root=LABEL=nixos" \
	--bootloader systemd-boot --systemd-boot-efi "$sdboot" -o "$out"
img="$out/nixos.img"
echo "== sfdisk --dump $img"
sfdisk --dump "$img"
echo "== sgdisk -v"
sgdisk -v "$img" | grep -q "No problems found" && echo "GPT: no problems found"
geom()
{
	sfdisk --json "$img" | python3 -c 'import json,sys; p=json.load(sys.stdin)["partitiontable"]["partitions"]['"$1"']; print(p["start"], p["size"])'
}
read -r start size < <(geom 0)
dd if="$img" of="$out/esp.fat" bs=512 skip="$start" count="$size" status=none
echo "== fsck.fat -n (ESP)"
fsck.fat -n "$out/esp.fat"
read -r start size < <(geom -1)
dd if="$img" of="$out/root.ext4" bs=512 skip="$start" count="$size" status=none
echo "== e2fsck -fn (root partition)"
e2fsck -fn "$out/root.ext4"
echo "== debugfs: /home/alice/notes.txt"
debugfs -R "stat /home/alice/notes.txt" "$out/root.ext4" 2>/dev/null | head -3
rm -f "$out/root.ext4" "$out/esp.fat"
echo "== boot under QEMU (OVMF, TCG): systemd-boot → kernel → initramfs mounts the root by label"
"$bin" boot-test "$img" --firmware uefi --expect-serial "MKDISKIMAGE-BOOT-OK example" --timeout 240
echo "example image: $img ($(du -h --apparent-size "$img" | cut -f1) apparent, $(du -h "$img" | cut -f1) allocated) — built, verified and booted"
