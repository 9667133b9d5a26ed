#!/usr/bin/env bash
# GRUB for BIOS without a VM: legacy, legacy+gpt and hybrid images built with --bootloader grub
# boot under SeaBIOS (QEMU's default BIOS, TCG) through GRUB into a Debian cloud kernel and a
# busybox initramfs that mounts the root by label and prints the image's marker file on the
# serial console. The images pass sgdisk -v / sfdisk and e2fsck -fn; grub.cfg finds the root by
# its filesystem UUID; MBR bytes 440..511 (and the GPT sectors) equal a build without GRUB;
# two builds are identical; bad inputs fail with one line and no output. Boot times (TCG) are
# logged, never asserted.
. "$(dirname "$0")/../lib.sh"
require qemu-system-x86_64 sgdisk sfdisk e2fsck debugfs blkid gzip busybox
grub_dir=${GRUB_DIR:-/usr/lib/grub/i386-pc}
[ -f "$grub_dir/boot.img" ] && [ -x "$grub_dir/../../../bin/grub-mkimage" ] ||
	skip "no GRUB i386-pc in $grub_dir (apt-get install grub-pc-bin)"
kdir=$("$TESTS/boot/fetch-kernel.sh") || skip "no Debian cloud kernel (tests/boot/fetch-kernel.sh)"
kernel=$(echo "$kdir"/boot/vmlinuz-*)
[ -f "$kernel" ] || skip "no kernel in $kdir"
"$TESTS/boot/bios-initramfs.sh" "$kdir" "$T/initrd.gz" || skip "cannot build the initramfs"

mkdir -p "$T/root/etc"
printf 'grub-bios-marker\n' >"$T/root/boot-marker"
printf 'image\n' >"$T/root/etc/hostname"
cmdline="console=ttyS0 mdi.label=nixos panic=-1"
common=(--root "$T/root" --disk-size 64M --boot-size 24M --kernel "$kernel" --initrd "$T/initrd.gz"
	--cmdline "$cmdline")
grub=(--bootloader grub --grub-dir "$grub_dir")

# boot IMG NAME: SeaBIOS → GRUB → kernel → initramfs; the marker must come back.
boot()
{
	local img=$1 name=$2 t0 t1 rc=0
	t0=$(date +%s.%N)
	timeout 120 qemu-system-x86_64 -accel tcg -m 512 -nographic -no-reboot -monitor none \
		-drive "file=$img,format=raw,if=virtio" -serial "file:$T/$name.serial" \
		>"$T/$name.qemu" 2>&1 || rc=$?
	t1=$(date +%s.%N)
	grep -aq "MDI-RESULT ok grub-bios-marker" "$T/$name.serial" || {
		tail -c 3000 "$T/$name.serial" >&2
		fail "$name: no boot marker on the serial console (qemu exit $rc)"
	}
	grep -aq "MDI-CMDLINE BOOT_IMAGE=/boot/kernel $cmdline" "$T/$name.serial" ||
		fail "$name: the kernel did not get GRUB's command line"
	log "$name: SeaBIOS + GRUB booted to the marker in" \
		"$(awk "BEGIN { printf \"%.1f\", $t1 - $t0 }") s (TCG)"
}

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
	if [ "$layout" = legacy ]; then
		sfdisk -d "$img" >/dev/null || fail "$name: sfdisk cannot read the table"
	else
		sgdisk -v "$img" | grep -q "No problems found" ||
			fail "$name: sgdisk -v: $(sgdisk -v "$img")"
		cmp <(dd if="$img" bs=512 skip=1 count=33 status=none) \
			<(dd if="$T/$name-none.img" bs=512 skip=1 count=33 status=none) ||
			fail "$name: primary GPT differs from a build without GRUB"
		cmp <(tail -c $((33 * 512)) "$img") <(tail -c $((33 * 512)) "$T/$name-none.img") ||
			fail "$name: backup GPT differs from a build without GRUB"
	fi
	cmp <(dd if="$img" bs=1 skip=440 count=72 status=none) \
		<(dd if="$T/$name-none.img" bs=1 skip=440 count=72 status=none) ||
		fail "$name: MBR bytes 440..511 differ from a build without GRUB"
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
	boot "$img" "$name"
	rm -f "$T/$name-none.img" "$T/root.ext4"
done

assert_reproducible "${common[@]}" "${grub[@]}" --partition-table legacy+gpt

# A NixOS-shaped toplevel with a boot.json, through --system and --closure-info: grub.cfg boots
# the kernel and initrd from the image's /nix/store (not copied) with init=<toplevel's init>, and
# the initramfs finds that init in the mounted root. Needs root and Debian's nix-bin.
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
	timeout 120 qemu-system-x86_64 -accel tcg -m 512 -nographic -no-reboot -monitor none \
		-drive "file=$img,format=raw,if=virtio" -serial "file:$T/toplevel.serial" \
		>/dev/null 2>&1 || true
	grep -aq "MDI-RESULT ok grub-bios-marker" "$T/toplevel.serial" &&
		grep -aq "MDI-INIT ok $inp" "$T/toplevel.serial" || {
		tail -c 3000 "$T/toplevel.serial" >&2
		fail "toplevel: no boot marker / init on the serial console"
	}
	log "toplevel: GRUB booted the store kernel; the initramfs found the toplevel's init"
}
if is_root && command -v nix-store >/dev/null; then
	toplevel_case || fail "toplevel: nix-store could not add the fixture paths"
else
	log "toplevel case skipped (needs root and nix-store)"
fi

# bad inputs
mkdir -p "$T/nogrub"
expect_fail "--grub-dir $T/nogrub: no boot.img" "${common[@]}" --bootloader grub \
	--grub-dir "$T/nogrub"
expect_fail "GRUB for BIOS needs a BIOS boot partition: use legacy, legacy+gpt or hybrid" \
	"${common[@]}" "${grub[@]}" --partition-table efi
expect_fail "set grubDir" "${common[@]}" --bootloader grub
expect_fail "$T/missing" --root "$T/root" "${grub[@]}" --kernel "$T/missing"
log "ok"
