#!/usr/bin/env bash
# hybrid boots both ways by default (issue #12): with bootloader auto and a kernel, a hybrid
# image gets systemd-boot on the ESP for UEFI and GRUB for BIOS (boot.img in the MBR, core.img in
# the BIOS boot partition, grub.cfg in the root). The image passes sgdisk -v, e2fsck -fn and
# fsck.fat -n, and boots to the initramfs's marker under SeaBIOS and OVMF (TCG); two builds are
# identical. An explicit --bootloader systemd-boot still installs systemd-boot alone. Without
# GRUB's i386-pc modules (none in an empty MKDISKIMAGE_SEARCH_ROOT) auto installs systemd-boot
# and warns that the image will not boot under BIOS.
. "$(dirname "$0")/../lib.sh"
require qemu-system-x86_64 sgdisk e2fsck debugfs blkid fsck.fat mtype python3 gzip busybox
SDBOOT=/usr/lib/systemd/boot/efi/systemd-bootx64.efi
[ -f "$SDBOOT" ] || skip "needs $SDBOOT (systemd-boot-efi)"
[ -f /usr/share/OVMF/OVMF_CODE_4M.fd ] || skip "needs OVMF (ovmf)"
grub_bios_fixture
# auto looks in /usr/lib/grub/i386-pc; GRUB elsewhere (GRUB_DIR) is given as grubDir
grub_args=()
[ -z "${GRUB_DIR:-}" ] || grub_args=(--grub-dir "$grub_dir")

mkdir -p "$T/root"
printf 'hybrid-both-marker\n' >"$T/root/boot-marker"
cmdline="console=ttyS0 mdi.label=nixos panic=-1"
args=(--root "$T/root" --partition-table hybrid --boot-size 64M --additional-space 4M
	--kernel "$kernel" --initrd "$T/initrd.gz" --cmdline "$cmdline" --systemd-boot-efi "$SDBOOT"
	"${grub_args[@]}")
img=$T/hybrid.img

build "${args[@]}" --json -o "$img"
! grep -q warning "$T/build.err" || fail "unexpected warning: $(cat "$T/build.err")"
# partitions from --json: ESP 1, BIOS boot 2, root 3
read -r esp_off esp_size bb_off root_off root_size < <(python3 -c '
import json, sys
p = {x["role"]: x for x in json.load(open(sys.argv[1]))["partitions"]}
print(p["esp"]["offset"], p["esp"]["size"], p["bios-boot"]["offset"], p["root"]["offset"],
      p["root"]["size"])' "$T/build.out")
sgdisk -v "$img" | grep -q "No problems found" || fail "sgdisk -v: $(sgdisk -v "$img")"

# GRUB for BIOS: boot.img's code in the MBR points at core.img in the BIOS boot partition
core_lba=$(od -An -t u8 -j $((0x5c)) -N 8 "$img" | tr -d ' ')
[ "$core_lba" = $((bb_off / 512)) ] || fail "core.img at LBA $core_lba, BIOS boot at $((bb_off / 512))"
[ "$(od -An -t x1 -j $((0x64)) -N 1 "$img" | tr -d ' ')" = ff ] || fail "boot.img: boot drive"
[ "$(head -c 4 <(tail -c +$((bb_off + 1)) "$img") | od -An -t x1 | tr -d ' ')" != 00000000 ] ||
	fail "the BIOS boot partition is empty"

# the root: clean, grub.cfg finds it by its UUID
dd if="$img" of="$T/root.ext4" bs=1M skip=$((root_off >> 20)) count=$((root_size >> 20)) status=none
e2fsck_clean "$T/root.ext4"
uuid=$(blkid -s UUID -o value "$T/root.ext4")
debugfs -R "cat /boot/grub/grub.cfg" "$T/root.ext4" 2>/dev/null >"$T/grub.cfg"
grep -q "search --no-floppy --fs-uuid --set=root $uuid" "$T/grub.cfg" ||
	fail "grub.cfg does not search for $uuid: $(cat "$T/grub.cfg")"

# the ESP: clean, systemd-boot on the removable path and its entry
dd if="$img" of="$T/esp.fat" bs=1M skip=$((esp_off >> 20)) count=$((esp_size >> 20)) status=none
out=$(fsck.fat -n "$T/esp.fat" 2>&1) || fail "fsck.fat -n: $out"
cmp <(MTOOLS_SKIP_CHECK=1 mtype -i "$T/esp.fat" ::/EFI/BOOT/BOOTX64.EFI) "$SDBOOT" ||
	fail "BOOTX64.EFI is not systemd-boot"
MTOOLS_SKIP_CHECK=1 mtype -i "$T/esp.fat" ::/loader/entries/nixos-generation-1.conf |
	grep -qx "options $cmdline" || fail "no systemd-boot entry with the cmdline"
rm -f "$T/root.ext4" "$T/esp.fat"

boot_expect "$img" hybrid bios "MDI-RESULT ok hybrid-both-marker"
boot_expect "$img" hybrid uefi "MDI-RESULT ok hybrid-both-marker"
assert_reproducible "${args[@]}"

# an explicit systemd-boot: no GRUB (boot code and BIOS boot partition stay zero)
build "${args[@]}" --bootloader systemd-boot -o "$T/sd.img"
cmp -s <(head -c 440 "$T/sd.img") <(head -c 440 /dev/zero) || fail "--bootloader systemd-boot: MBR boot code"
rm -f "$T/sd.img"

# no GRUB modules on the host (an empty MKDISKIMAGE_SEARCH_ROOT: systemd-boot is given): systemd-boot
# alone, and a warning naming the fix
if [ -n "${GRUB_DIR:-}" ]; then
	skip_case "no-GRUB case (GRUB_DIR set: the build is given grubDir)"
else
	mkdir -p "$T/nogrub-root"
	MKDISKIMAGE_SEARCH_ROOT=$T/nogrub-root "$MKDISKIMAGE" build "${args[@]}" -o "$T/nogrub.img" \
		>"$T/nogrub.out" 2>"$T/nogrub.err" ||
		fail "build without GRUB modules: $(cat "$T/nogrub.err")"
	grep -qF "warning: $T/nogrub.img: the image will not boot under BIOS: no GRUB i386-pc modules (give --grub-dir)" \
		"$T/nogrub.err" || fail "no BIOS warning: $(cat "$T/nogrub.err")"
	cmp -s <(head -c 440 "$T/nogrub.img") <(head -c 440 /dev/zero) ||
		fail "without GRUB: MBR boot code"
	sgdisk -v "$T/nogrub.img" | grep -q "No problems found" || fail "without GRUB: sgdisk -v"
	rm -f "$T/nogrub.img"
fi
log "ok"
