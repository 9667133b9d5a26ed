#!/usr/bin/env bash
# GRUB without a VM: legacy, legacy+gpt and hybrid images built with --bootloader grub boot under
# SeaBIOS (`mkdiskimage boot-test --firmware bios`, TCG) through GRUB into a Debian cloud kernel
# and a busybox initramfs that mounts the root by label and prints the image's marker file on
# the serial console; a boot.json toplevel through --system boots its store kernel; GRUB for
# UEFI (--grub-efi-dir) boots efi and hybrid images under OVMF. The images pass sgdisk -v /
# sfdisk, e2fsck -fn and fsck.fat -n; grub.cfg finds the root by its filesystem UUID; MBR bytes
# 440..511 (and the GPT sectors) equal a build without GRUB; two builds are identical; bad
# inputs fail with one line and no output. Boot times (TCG) are logged, never asserted.
# slow
. "$(dirname "$0")/../lib.sh"
nix_store_lock
require qemu-system-x86_64 sgdisk sfdisk e2fsck debugfs blkid gzip busybox python3
grub_efi_dir=${GRUB_EFI_DIR:-/usr/lib/grub/x86_64-efi}
grub_bios_fixture

mkdir -p "$T/root/etc"
printf 'grub-bios-marker\n' >"$T/root/boot-marker"
printf 'image\n' >"$T/root/etc/hostname"
cmdline="console=ttyS0 mdi.label=nixos panic=-1"
common=(--root "$T/root" --disk-size 64M --boot-size 24M --kernel "$kernel" --initrd "$T/initrd.gz"
	--cmdline "$cmdline")
grub=(--bootloader grub --grub-dir "$grub_dir")

# boot IMG NAME FIRMWARE [REGEX]: `mkdiskimage boot-test` (SeaBIOS or OVMF, TCG) must see the
# initramfs mount the root by the label GRUB passed on the command line and print the marker.
boot() { boot_expect "$1" "$2" "$3" "${4:-"MDI-RESULT ok grub-bios-marker"}"; }

for layout in legacy legacy+gpt hybrid; do
	name=${layout/+/-}
	img=$T/$name.img
	build "${common[@]}" "${grub[@]}" --partition-table "$layout" -o "$img"
	build "${common[@]}" --bootloader none --partition-table "$layout" -o "$T/$name-none.img"
	case $layout in
	legacy) rootpart=1 ;;
	legacy+gpt) rootpart=2 ;;
	hybrid) rootpart=3 ;;
	esac
	# partition tables: the oracles, and the same bytes as without GRUB
	assert_tables_kept "$img" "$T/$name-none.img" "$layout" "$name"
	# boot.img's code is there, with the core's LBA at 0x5c and boot drive 0xff at 0x64
	core_lba=$(od -An -t u8 -j $((0x5c)) -N 8 "$img" | tr -d ' ')
	[ "$(od -An -t x1 -j $((0x64)) -N 1 "$img" | tr -d ' ')" = ff ] || fail "$name: boot drive"
	case $layout in
	legacy) [ "$core_lba" = 1 ] || fail "$name: core.img at LBA $core_lba, not 1" ;;
	*)
		read -r bb_start _ < <(part_geometry "$img" $([ "$layout" = hybrid ] && echo 2 || echo 1))
		[ "$core_lba" = "$bb_start" ] || fail "$name: core at $core_lba, BIOS boot at $bb_start"
		;;
	esac
	# the root filesystem: clean, grub.cfg finds it by its UUID, the kernel is copied in
	extract_partition "$img" "$rootpart" "$T/root.ext4"
	e2fsck_clean "$T/root.ext4"
	uuid=$(blkid -s UUID -o value "$T/root.ext4")
	debugfs -R "cat /boot/grub/grub.cfg" "$T/root.ext4" 2>/dev/null >"$T/grub.cfg"
	grep -q "search --no-floppy --fs-uuid --set=root $uuid" "$T/grub.cfg" ||
		fail "$name: grub.cfg does not search for $uuid: $(cat "$T/grub.cfg")"
	grep -q "linux /boot/kernel $cmdline" "$T/grub.cfg" || fail "$name: grub.cfg linux line"
	debugfs -R "dump /boot/kernel $T/kernel.out" "$T/root.ext4" 2>/dev/null
	cmp "$kernel" "$T/kernel.out" || fail "$name: /boot/kernel differs from --kernel"
	boot "$img" "$name" bios
	rm -f "$T/$name-none.img" "$T/root.ext4"
done

assert_reproducible "${common[@]}" "${grub[@]}" --partition-table legacy+gpt

# A NixOS-shaped toplevel with a boot.json, through --system and --closure-info: grub.cfg boots
# the kernel and initrd from the image's /nix/store (not copied) with init=<toplevel's init>, and
# the initramfs runs that init from the mounted root. Needs root and Debian's nix-bin.
toplevel_case()
{
	export NIX_REMOTE=
	export NIX_CONFIG=$'sandbox = false\nbuild-users-group =\nsubstituters ='
	local kp ip inp tp tl=$T/toplevel ci=$T/closure img=$T/toplevel.img
	kp=$(nix-store --add "$kernel") && ip=$(nix-store --add "$T/initrd.gz") || return 1
	printf '#!/bin/sh\necho stage 2\n' >"$T/stage2-init"
	chmod 755 "$T/stage2-init"
	inp=$(nix-store --add "$T/stage2-init") || return 1
	mkdir -p "$tl" "$ci"
	ln -s "$inp" "$tl/init"
	ln -s "$kp" "$tl/kernel"
	ln -s "$ip" "$tl/initrd"
	printf '%s' "$cmdline" >"$tl/kernel-params"
	cat >"$tl/boot.json" <<JSON
{"org.nixos.bootspec.v1": {"kernel": "$kp", "initrd": "$ip", "init": "$inp",
 "kernelParams": ["console=ttyS0", "mdi.label=nixos", "panic=-1"],
 "label": "NixOS test (Linux)", "system": "x86_64-linux"}}
JSON
	tp=$(nix-store --add "$tl") || return 1
	printf '%s\n' "$kp" "$ip" "$inp" "$tp" >"$ci/store-paths"
	nix-store --dump-db "$kp" "$ip" "$inp" "$tp" >"$ci/registration" || return 1
	build --root "$T/root" --closure-info "$ci" --system "$tp" "${grub[@]}" \
		--partition-table legacy+gpt --additional-space 4M -o "$img"
	extract_partition "$img" 2 "$T/root.ext4"
	e2fsck_clean "$T/root.ext4"
	debugfs -R "cat /boot/grub/grub.cfg" "$T/root.ext4" 2>/dev/null >"$T/grub.cfg"
	grep -q "linux $kp init=$inp $cmdline" "$T/grub.cfg" ||
		fail "toplevel: grub.cfg does not boot the store kernel: $(cat "$T/grub.cfg")"
	grep -q "initrd $ip" "$T/grub.cfg" || fail "toplevel: grub.cfg initrd"
	grep -q 'menuentry "NixOS test (Linux)"' "$T/grub.cfg" || fail "toplevel: label"
	boot "$img" toplevel bios "MDI-INIT ok $inp: stage 2"
	log "toplevel: GRUB booted the store kernel; the initramfs ran the toplevel's init"
}
if is_root && command -v nix-store >/dev/null; then
	toplevel_case || fail "toplevel: nix-store could not add the fixture paths"
else
	skip_case "toplevel case (needs root and nix-store)"
fi

# GRUB for UEFI (x86_64-efi) as the ESP's removable path: efi alone under OVMF; hybrid with both
# GRUBs boots under SeaBIOS and OVMF.
if [ -f "$grub_efi_dir/kernel.img" ] && [ -f /usr/share/OVMF/OVMF_CODE_4M.fd ]; then
	build "${common[@]}" --bootloader grub --grub-efi-dir "$grub_efi_dir" --partition-table efi \
		-o "$T/efi.img"
	sgdisk -v "$T/efi.img" | grep -q "No problems found" || fail "efi: sgdisk -v"
	extract_partition "$T/efi.img" 1 "$T/esp.fat"
	if command -v fsck.fat >/dev/null; then
		fsck.fat -n "$T/esp.fat" >/dev/null || fail "efi: fsck.fat -n"
	fi
	if command -v mcopy >/dev/null; then
		mcopy -i "$T/esp.fat" ::/EFI/BOOT/BOOTX64.EFI "$T/bootx64.efi"
		[ "$(head -c 2 "$T/bootx64.efi")" = MZ ] || fail "efi: BOOTX64.EFI is not a PE image"
	fi
	boot "$T/efi.img" efi uefi
	build "${common[@]}" "${grub[@]}" --grub-efi-dir "$grub_efi_dir" --partition-table hybrid \
		-o "$T/hybrid-both.img"
	boot "$T/hybrid-both.img" hybrid-both bios
	boot "$T/hybrid-both.img" hybrid-both uefi
	assert_reproducible "${common[@]}" "${grub[@]}" --grub-efi-dir "$grub_efi_dir" \
		--partition-table hybrid
	expect_fail "--grub-efi-dir $grub_dir: not GRUB's x86_64-efi module directory" \
		"${common[@]}" --bootloader grub --grub-efi-dir "$grub_dir" --partition-table efi
	expect_fail "grubEfiDir: partitionTableType legacy has no ESP" "${common[@]}" \
		"${grub[@]}" --grub-efi-dir "$grub_efi_dir"
else
	skip_case "GRUB x86_64-efi cases (needs grub-efi-amd64-bin and ovmf)"
fi

# bad inputs
mkdir -p "$T/nogrub"
expect_fail "--grub-dir $T/nogrub: no boot.img" "${common[@]}" --bootloader grub \
	--grub-dir "$T/nogrub"
expect_fail "GRUB for BIOS needs a BIOS boot partition: use legacy, legacy+gpt or hybrid" \
	"${common[@]}" "${grub[@]}" --partition-table efi
# GRUB found nowhere (an empty search root stands for a host without grub-pc-bin): the error
# names the places tried and the flag
mkdir -p "$T/noroot"
MKDISKIMAGE_SEARCH_ROOT=$T/noroot expect_fail \
	"bootloader grub: no GRUB i386-pc modules found (tried $T/noroot/usr/lib/grub/i386-pc, " \
	"${common[@]}" --bootloader grub
MKDISKIMAGE_SEARCH_ROOT=$T/noroot expect_fail "install grub-pc-bin or give --grub-dir DIR)" \
	"${common[@]}" --bootloader grub
expect_fail "$T/missing" --root "$T/root" "${grub[@]}" --kernel "$T/missing"
log "ok"
