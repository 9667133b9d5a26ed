#!/usr/bin/env bash
# bootloader extlinux (boot.loader.generic-extlinux-compatible, issue #16): /boot/extlinux/
# extlinux.conf on the ext4 root, byte for byte as NixOS's extlinux-conf-builder.sh writes it for
# generation 1. A kernel and initrd from the host are copied to /boot/nixos/ and referenced as
# ../nixos/NAME (the bytes compared with the host files); ones already in the image (a store path
# in the root tree, reached through the toplevel's symlinks) are referenced where they are, as the
# builder does when /boot and the store share a filesystem; copyKernels copies them under their
# store names. e2fsck -fn passes on each. Then U-Boot (Debian's u-boot-qemu, qemu_arm64, distro
# boot scanning virtio disks) boots the store-path image under qemu-system-aarch64 (TCG): its
# serial log shows it found /boot/extlinux/extlinux.conf on the root and fetched the store-path
# kernel, and our test initramfs prints the marker it read from the root found by label. The
# extlinux-only keys are refused without bootloader extlinux; two builds are identical. Skips
# (77) without qemu-system-aarch64, u-boot-qemu or the arm64 packages.
# slow
. "$(dirname "$0")/../lib.sh"

require qemu-system-aarch64 e2fsck debugfs sfdisk timeout
UBOOT=/usr/lib/u-boot/qemu_arm64/u-boot.bin
[ -f "$UBOOT" ] || skip "needs u-boot-qemu ($UBOOT)"
ADIR=$("$TESTS/boot/fetch-kernel.sh" arm64 busybox-static) ||
	skip "cannot fetch Debian's arm64 packages (dpkg --add-architecture arm64; apt-get update)"
KERNEL=$(ls "$ADIR"/boot/vmlinuz-* | head -n1)
rc=0
"$TESTS/boot/make-initramfs.sh" "$ADIR" "$T/initrd" "$ADIR/bin/busybox" || rc=$?
[ "$rc" -eq 0 ] || fail "make-initramfs.sh failed (exit $rc)"
CMDLINE="console=ttyAMA0 mdi.root=LABEL=nixos"
COMMON=(--arch aarch64 --partition-table legacy --additional-space 8M --bootloader extlinux)

# extlinux.conf of an image's root (partition 1 of a legacy layout); e2fsck -fn first.
conf_of()
{
	extract_partition "$1" 1 "$T/root.ext4"
	out=$(e2fsck -fn "$T/root.ext4" 2>&1) || fail "e2fsck -fn on $1's root: $out"
	debugfs -R "cat /boot/extlinux/extlinux.conf" "$T/root.ext4" 2>/dev/null >"$T/conf"
}

HEAD='# Generated file, all changes will be lost on nixos-rebuild!

# Change this to e.g. nixos-42 to temporarily boot to an older configuration.
DEFAULT nixos-default

MENU TITLE ------------------------------------------------------------'

# 1. Host files: copied to /boot/nixos under their base names.
mkdir -p "$T/host"
echo host >"$T/host/mkdiskimage-marker"
build "${COMMON[@]}" --root "$T/host" --kernel "$KERNEL" --initrd "$T/initrd" \
	--cmdline "$CMDLINE" --boot-timeout 1 -o "$T/host.img"
conf_of "$T/host.img"
K=$(basename "$KERNEL")
cmp "$T/conf" <(printf '%s\nTIMEOUT 10\n\nLABEL nixos-default\n  MENU LABEL NixOS - Default\n  LINUX ../nixos/%s\n  INITRD ../nixos/initrd\n  APPEND %s\n' \
	"$HEAD" "$K" "$CMDLINE") || fail "host-file extlinux.conf: $(cat "$T/conf")"
debugfs -R "dump /boot/nixos/$K $T/k" "$T/root.ext4" 2>/dev/null
debugfs -R "dump /boot/nixos/initrd $T/i" "$T/root.ext4" 2>/dev/null
cmp "$T/k" "$KERNEL" || fail "/boot/nixos/$K is not the kernel"
cmp "$T/i" "$T/initrd" || fail "/boot/nixos/initrd is not the initrd"
rm -f "$T/host.img" "$T/k" "$T/i"

# 2. A NixOS-shaped root: kernel and initrd in store paths, the toplevel's kernel/initrd
# symlinks into them. Referenced in place (absolute store paths), no /boot/nixos.
KS=nix/store/0123456789abcdfghijklmnpqrsvwxyz-linux-6.1.0
IS=nix/store/zyxwvsrqpnmlkjihgfdcba9876543210-initrd-linux-6.1.0
SYS=nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-nixos-system-test
R=$T/store-root
mkdir -p "$R/$KS" "$R/$IS" "$R/$SYS"
cp "$KERNEL" "$R/$KS/Image"
cp "$T/initrd" "$R/$IS/initrd"
ln -s "/$KS/Image" "$R/$SYS/kernel"
ln -s "/$IS/initrd" "$R/$SYS/initrd"
echo extlinux >"$R/mkdiskimage-marker"
STORE=("${COMMON[@]}" --root "$R" --kernel "/$SYS/kernel" --initrd "/$SYS/initrd"
	--cmdline "$CMDLINE")
build "${STORE[@]}" -o "$T/store.img"
conf_of "$T/store.img"
cmp "$T/conf" <(printf '%s\nTIMEOUT 50\n\nLABEL nixos-default\n  MENU LABEL NixOS - Default\n  LINUX /%s/Image\n  INITRD /%s/initrd\n  APPEND %s\n' \
	"$HEAD" "$KS" "$IS" "$CMDLINE") || fail "store-path extlinux.conf: $(cat "$T/conf")"
out=$(debugfs -R "ls /boot" "$T/root.ext4" 2>/dev/null)
[[ $out != *nixos* ]] || fail "/boot/nixos made although nothing was copied: $out"

# 3. copyKernels: the same root, copies under the builder's cleanName; timeout 0 -> -10.
build "${STORE[@]}" --copy-kernels --boot-timeout 0 -o "$T/copy.img"
conf_of "$T/copy.img"
cmp "$T/conf" <(printf '%s\nTIMEOUT -10\n\nLABEL nixos-default\n  MENU LABEL NixOS - Default\n  LINUX ../nixos/%s-Image\n  INITRD ../nixos/%s-initrd\n  APPEND %s\n' \
	"$HEAD" "${KS#nix/store/}" "${IS#nix/store/}" "$CMDLINE") ||
	fail "copyKernels extlinux.conf: $(cat "$T/conf")"
debugfs -R "dump /boot/nixos/${KS#nix/store/}-Image $T/k" "$T/root.ext4" 2>/dev/null
cmp "$T/k" "$KERNEL" || fail "copyKernels: the copied kernel differs"
rm -f "$T/copy.img" "$T/k" "$T/root.ext4"

# 4. bootTimeout none (boot.loader.timeout = null) -> TIMEOUT 0; --no-generation-device-tree
# keeps the entry as it is without device trees (its FDT lines: src/boot/extlinux_test.c, the
# dtbs of a real toplevel: nix-function.sh's closure has none).
build "${COMMON[@]}" --root "$T/host" --kernel "$KERNEL" --cmdline "$CMDLINE" \
	--boot-timeout none --no-generation-device-tree -o "$T/none.img"
conf_of "$T/none.img"
cmp "$T/conf" <(printf '%s\nTIMEOUT 0\n\nLABEL nixos-default\n  MENU LABEL NixOS - Default\n  LINUX ../nixos/%s\n  APPEND %s\n' \
	"$HEAD" "$K" "$CMDLINE") || fail "bootTimeout none extlinux.conf: $(cat "$T/conf")"
rm -f "$T/none.img" "$T/root.ext4"

# Refused: the extlinux keys with another loader, and the builder's dtbName-without-dtbs error.
expect_fail "deviceTreeName: needs bootloader extlinux" --root "$T/host" --kernel "$KERNEL" \
	--device-tree-name foo.dtb
expect_fail "copyKernels: needs bootloader extlinux" --root "$T/host" --kernel "$KERNEL" \
	--bootloader grub --copy-kernels
expect_fail "deviceTreeName qemu.dtb: the system has no dtbs directory" \
	"${COMMON[@]}" --root "$T/host" --kernel "$KERNEL" --device-tree-name qemu.dtb
expect_fail "--boot-timeout soon: not a timeout in seconds" "${COMMON[@]}" --root "$T/host" --kernel "$KERNEL" --boot-timeout soon

# The boot: U-Boot's distro boot scans the virtio disk, reads /boot/extlinux/extlinux.conf from
# the ext4 root, loads the store-path kernel and initrd; the initramfs prints the marker.
rc=0
timeout 600 qemu-system-aarch64 -M virt -cpu cortex-a57 -accel tcg -m 1024 -nographic \
	-bios "$UBOOT" -drive "if=none,id=d0,file=$T/store.img,format=raw,snapshot=on" \
	-device virtio-blk-pci,drive=d0 -nic none -no-reboot >"$T/serial.log" 2>&1 </dev/null || rc=$?
[ "$rc" -eq 0 ] || fail "qemu-system-aarch64 exit $rc: $(tail -n 20 "$T/serial.log")"
for want in "Found /boot/extlinux/extlinux.conf" "Retrieving file: /$KS/Image" \
	"Retrieving file: /$IS/initrd" "append: $CMDLINE" "MKDISKIMAGE-BOOT-OK extlinux"; do
	grep -aqF "$want" "$T/serial.log" || fail "U-Boot boot: no '$want' in: $(tail -n 30 "$T/serial.log")"
done
log "U-Boot booted the extlinux image: $(grep -acF 'Retrieving file' "$T/serial.log") files retrieved"
rm -f "$T/store.img"

assert_reproducible "${STORE[@]}"
log "ok"
