#!/usr/bin/env bash
# A grown image boots and its guest sees the grown root (issue #14): a legacy+gpt image with
# GRUB for BIOS, built at 64 MiB as qcow2, is grown by `mkdiskimage resize` to 1 GiB (the qcow2
# rewritten; GPT backup moved; ext4 grown by ext4_grow) and booted under SeaBIOS (TCG) into a
# Debian cloud kernel and the BIOS test initramfs, which mounts the root by label and prints
# df's size of it: it must be the grown size, with no first-boot script. The boot time is
# logged, never asserted.
. "$(dirname "$0")/../lib.sh"
require qemu-system-x86_64 qemu-img sgdisk e2fsck gzip busybox
grub_bios_fixture

mkdir -p "$T/root/etc"
printf 'resize-marker\n' >"$T/root/boot-marker"
printf 'image\n' >"$T/root/etc/hostname"
img=$T/disk.qcow2
build --root "$T/root" --disk-size 64M --partition-table legacy+gpt --bootloader grub \
	--grub-dir "$grub_dir" --kernel "$kernel" --initrd "$T/initrd.gz" \
	--cmdline "console=ttyS0 mdi.label=nixos panic=-1" --format qcow2 -o "$img"
"$MKDISKIMAGE" resize "$img" 1G 2>"$T/resize.err" || fail "resize: $(cat "$T/resize.err")"
log "$(cat "$T/resize.err")"
grep -q "ext4 grown from" "$T/resize.err" || fail "the root was not grown: $(cat "$T/resize.err")"
qemu-img check -q "$img" || fail "qemu-img check of the grown image"

"$MKDISKIMAGE" boot-test "$img" --firmware bios --expect-serial "MDI-RESULT ok resize-marker" \
	--timeout 150 --serial-log "$T/serial.log" --json >"$T/boot.json" 2>"$T/boot.err" || {
	cat "$T/boot.json" "$T/boot.err" >&2
	tail -n 20 "$T/serial.log" >&2 || true
	fail "the grown image did not boot to its marker"
}
kib=$(sed -n 's/^MDI-DF \([0-9]*\).*/\1/p' "$T/serial.log" | tr -d '\r' | head -n 1)
[ -n "$kib" ] || fail "the guest printed no MDI-DF line: $(tail -n 20 "$T/serial.log")"
# 1 GiB less the BIOS boot partition, the GPT's last MiB and ext4's own metadata
[ "$kib" -gt $((900 * 1024)) ] || fail "the guest's root is $kib KiB, not grown to about 1 GiB"
log "ok: the guest sees a $kib KiB root after growing 64 MiB → 1 GiB; booted in" \
	"$(sed -n 's/.*"seconds": *\([0-9.]*\).*/\1/p' "$T/boot.json") s (TCG)"
