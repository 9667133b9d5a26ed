#!/usr/bin/env bash
# Every installBootLoader path of nix/make-disk-image.nix (issue #16), built with real nix-build
# against tests/nix/minimal.nix: GRUB for UEFI (boot.loader.grub.efiSupport) removable
# (EFI/BOOT/BOOTX64.EFI, efi-vars.fd the template) and registered (canTouchEfiVariables:
# EFI/NixOS-boot/grubx64.efi and its Boot0000 "NixOS-boot"); GRUB on hybrid for both
# firmwares; GRUB on legacy+boot; systemd-boot's extraEntries and extraFiles on the ESP;
# make-disk-image's legacy+gpt touchEFIVars example (efi-vars.fd the template's variables, one
# line saying so); $efiVars for postVM; newer nixpkgs' reproducible/populateRootWith; the
# evaluation errors (unsupported loaders, canTouchEfiVariables without touchEFIVars). The
# removable GRUB-EFI image boots under OVMF (TCG) to the marker.
. "$(dirname "$0")/../lib.sh"
nix_store_lock
. "$TESTS/efivars-reader.sh"
require nix-build nix-instantiate jq e2fsck debugfs sfdisk fsck.fat mtype
is_root || skip "needs root (nix-build without a daemon writes /nix/store)"
[ -d /usr/lib/grub/x86_64-efi ] && [ -d /usr/lib/grub/i386-pc ] && [ -x /usr/bin/grub-mkimage ] ||
	skip "needs GRUB's i386-pc and x86_64-efi modules (grub-pc-bin, grub-efi-amd64-bin)"
VARS=/usr/share/OVMF/OVMF_VARS_4M.fd
[ -f "$VARS" ] || skip "needs ovmf"

export NIX_REMOTE=
export NIX_CONFIG=$'sandbox = false\nbuild-users-group =\nsubstituters =
experimental-features = nix-command'
MIN=$REPO/tests/nix/minimal.nix
cp "$MKDISKIMAGE" "$T/mkdiskimage"
MKDISKIMAGE=$T/mkdiskimage
if ! nix-build --no-out-link "$REPO/tests/nix/probe.nix" >/dev/null 2>"$T/probe.err"; then
	tail -n 3 "$T/probe.err" >&2
	skip "nix-build cannot build a trivial derivation here"
fi

nixbuild()
{
	local var=$1 out
	shift
	out=$(nix-build --no-out-link "$MIN" --arg mkdiskimage "$MKDISKIMAGE" \
		--arg installBootLoader true "$@" 2>"$T/nix.err") || {
		tail -n 15 "$T/nix.err" >&2
		fail "nix-build $* failed"
	}
	printf -v "$var" '%s' "$out"
}
# eval_fails MESSAGE ARGS...: the expression does not evaluate, and says MESSAGE.
eval_fails()
{
	local msg=$1
	shift
	if nix-instantiate "$MIN" --arg mkdiskimage "$MKDISKIMAGE" --arg installBootLoader true \
		"$@" >/dev/null 2>"$T/eval.err"; then
		fail "evaluated: $*"
	fi
	grep -qF -- "$msg" "$T/eval.err" || fail "$*: $(tail -n 3 "$T/eval.err")"
}
# esp IMG N: partition N as $T/esp.fat, fsck.fat-clean
esp()
{
	extract_partition "$1" "$2" "$T/esp.fat"
	fsck.fat -n "$T/esp.fat" >"$T/fsck.out" 2>&1 || fail "fsck.fat -n: $(tail -n 3 "$T/fsck.out")"
}
mt() { MTOOLS_SKIP_CHECK=1 mtype -i "$T/esp.fat" "::$1"; }
# is_grub_efi: stdin is a GRUB x86_64-efi image (PE32+ for x86-64 with GRUB's modules)
is_grub_efi()
{
	python3 -c '
import struct, sys
b = sys.stdin.buffer.read()
assert b[:2] == b"MZ", "no MZ"
pe, = struct.unpack_from("<I", b, 0x3c)
assert b[pe:pe + 4] == b"PE\0\0", "no PE"
assert struct.unpack_from("<H", b, pe + 4)[0] == 0x8664, "not x86-64"
assert b"search_fs_uuid" in b and b"set prefix=($root)/boot/grub" in b, "not GRUB"
'
}
# root_grub_cfg IMG N: the root filesystem's /boot/grub/grub.cfg boots the toplevel's init
root_grub_cfg()
{
	extract_partition "$1" "$2" "$T/root.ext4"
	e2fsck_clean "$T/root.ext4"
	debugfs -R 'cat /boot/grub/grub.cfg' "$T/root.ext4" 2>/dev/null >"$T/grub.cfg"
	grep -q 'init=/nix/store/[a-z0-9]*-nixos-system-minimal-24.11/init' "$T/grub.cfg" ||
		fail "grub.cfg does not boot the toplevel: $(cat "$T/grub.cfg")"
	rm -f "$T/root.ext4"
}

# Booting needs Debian's cloud kernel, tests/boot's initramfs and QEMU.
boot_skip=""
command -v qemu-system-x86_64 >/dev/null || boot_skip="no qemu-system-x86_64"
[ -n "$boot_skip" ] || [ "$(uname -m)" = x86_64 ] || boot_skip="not x86-64"
[ -n "$boot_skip" ] || KDIR=$("$TESTS/boot/fetch-kernel.sh") || boot_skip="no Debian kernel"
if [ -z "$boot_skip" ]; then
	rc=0
	"$TESTS/boot/make-initramfs.sh" "$KDIR" "$T/initrd" || rc=$?
	[ "$rc" -eq 77 ] && boot_skip="no busybox-static"
	[ "$rc" -eq 0 ] || [ "$rc" -eq 77 ] || fail "make-initramfs.sh failed"
fi
kargs=()
[ -n "$boot_skip" ] || kargs=(--argstr kernel "$(ls "$KDIR"/boot/vmlinuz-* | head -n 1)"
	--argstr initrd "$T/initrd" --argstr marker nix-loaders-grub-efi)

# 1. GRUB for UEFI, removable (device nodev: no BIOS GRUB), touchEFIVars: EFI/BOOT/BOOTX64.EFI
# is GRUB, no other loader on the ESP, efi-vars.fd is the template byte for byte (nixpkgs
# adds no entry for a removable install), $efiVars is set for postVM.
nixbuild OUT1 --argstr bootLoader grub --argstr partitionTableType efi "${kargs[@]}" \
	--arg loaderConfig '{ grub = { efiSupport = true; efiInstallAsRemovable = true;
		device = "nodev"; }; }' \
	--arg extraArgs '{ touchEFIVars = true; postVM = "echo \"$efiVars\" >$out/efivars-path"; }'
esp "$OUT1/nixos.img" 1
mt /EFI/BOOT/BOOTX64.EFI | is_grub_efi || fail "removable: BOOTX64.EFI is not GRUB's"
! mt /EFI/systemd/systemd-bootx64.efi >/dev/null 2>&1 || fail "removable: systemd-boot too"
[ "$(head -c 440 "$OUT1/nixos.img" | tr -d '\0' | wc -c)" = 0 ] ||
	fail "device nodev: boot code in the MBR"
root_grub_cfg "$OUT1/nixos.img" 2
cmp -s "$OUT1/efi-vars.fd" "$VARS" || fail "removable: efi-vars.fd is not the template"
[ "$(cat "$OUT1/efivars-path")" = "$OUT1/efi-vars.fd" ] ||
	fail "postVM's \$efiVars: '$(cat "$OUT1/efivars-path")'"
log "ok: GRUB for UEFI, efiInstallAsRemovable: EFI/BOOT/BOOTX64.EFI, efi-vars.fd the template"

# 2. canTouchEfiVariables: EFI/NixOS-boot/grubx64.efi and Boot0000 "NixOS-boot" for it, first in
# BootOrder (grub-install --bootloader-id=NixOS-boot).
nixbuild OUT2 --argstr bootLoader grub --argstr partitionTableType efi \
	--arg loaderConfig '{ grub = { efiSupport = true; device = "nodev"; };
		efi.canTouchEfiVariables = true; }' --arg extraArgs '{ touchEFIVars = true; }'
esp "$OUT2/nixos.img" 1
mt /EFI/NixOS-boot/grubx64.efi | is_grub_efi || fail "registered: no GRUB at EFI/NixOS-boot"
! mt /EFI/BOOT/BOOTX64.EFI >/dev/null 2>&1 || fail "registered: a removable copy too"
read -r start size < <(part_geometry "$OUT2/nixos.img" 1)
partuuid=$(sfdisk --part-uuid "$OUT2/nixos.img" 1 | tr 'A-Z' 'a-z')
want="1|NixOS-boot|1|$start|$size|$partuuid|\\EFI\\NixOS-boot\\grubx64.efi"
got=$(boot_entry "$OUT2/efi-vars.fd") || fail "registered: no readable Boot0000"
[ "$got" = "$want" ] || fail "registered Boot0000: got $got, want $want"
order=$(read_store "$OUT2/efi-vars.fd" |
	awk '$1 == "3f" && $2 == "BootOrder" { print substr($6, length($6) - 3) }')
[ "$order" = 0000 ] || fail "registered: BootOrder '$order'"
log "ok: GRUB for UEFI, canTouchEfiVariables: EFI/NixOS-boot/grubx64.efi, Boot0000 $got"

# 3. hybrid with a device and efiSupport: GRUB for both firmwares (boot.img in the MBR, core.img
# in the BIOS boot partition, BOOTX64.EFI on the ESP).
nixbuild OUT3 --argstr bootLoader grub --argstr partitionTableType hybrid \
	--arg loaderConfig '{ grub = { efiSupport = true; efiInstallAsRemovable = true;
		device = "/dev/vda"; }; }'
[ "$(head -c 440 "$OUT3/nixos.img" | tr -d '\0' | wc -c)" -gt 100 ] ||
	fail "hybrid: no boot code in the MBR"
extract_partition "$OUT3/nixos.img" 2 "$T/bios.bin"
head -c 512 "$T/bios.bin" | tr -d '\0' | grep -q . || fail "hybrid: BIOS boot partition empty"
rm -f "$T/bios.bin"
esp "$OUT3/nixos.img" 1
mt /EFI/BOOT/BOOTX64.EFI | is_grub_efi || fail "hybrid: BOOTX64.EFI is not GRUB's"
root_grub_cfg "$OUT3/nixos.img" 3
log "ok: GRUB on hybrid for BIOS and UEFI"

# 4. legacy+boot (newer nixpkgs' MBR with a FAT BOOT partition): GRUB for BIOS in the MBR gap.
nixbuild OUT4 --argstr bootLoader grub --argstr partitionTableType legacy+boot
sfdisk --dump "$OUT4/nixos.img" >"$T/dump" || fail "legacy+boot: sfdisk --dump"
[ "$(grep -c '^/' "$T/dump")" = 2 ] || fail "legacy+boot: $(cat "$T/dump")"
[ "$(head -c 440 "$OUT4/nixos.img" | tr -d '\0' | wc -c)" -gt 100 ] ||
	fail "legacy+boot: no boot code in the MBR"
root_grub_cfg "$OUT4/nixos.img" 2
log "ok: legacy+boot with GRUB"

# 5. systemd-boot's extraEntries and extraFiles: on the ESP, with systemd-boot's own files.
if [ -f /usr/lib/systemd/boot/efi/systemd-bootx64.efi ]; then
	nixbuild OUT5 --argstr bootLoader systemd-boot --argstr partitionTableType efi \
		--arg loaderConfig '{ systemd-boot = {
			extraEntries."memtest86.conf" = "title MemTest86\nefi /efi/memtest86/memtest.efi\n";
			extraFiles."efi/memtest86/memtest.efi" = builtins.toFile "memtest" "not really\n"; }; }'
	esp "$OUT5/nixos.img" 1
	[ "$(mt /loader/entries/memtest86.conf)" = $'title MemTest86\nefi /efi/memtest86/memtest.efi' ] ||
		fail "extraEntries: $(mt /loader/entries/memtest86.conf)"
	[ "$(mt /efi/memtest86/memtest.efi)" = "not really" ] || fail "extraFiles"
	mt /EFI/nixos/.extra-files/loader/entries/memtest86.conf >/dev/null ||
		fail "no .extra-files marker"
	mt /loader/entries/nixos-generation-1.conf >/dev/null || fail "no systemd-boot entry"
	log "ok: systemd-boot extraEntries and extraFiles on the ESP"
else
	skip_case "systemd-boot extraEntries/extraFiles (needs systemd-boot-efi)"
fi

# 6. make-disk-image's documented example: legacy+gpt, GRUB, touchEFIVars. efi-vars.fd holds the
# template's variables (no entry added); the tool says so in one line. With newer nixpkgs'
# reproducible = true.
nixbuild OUT6 --argstr bootLoader grub --argstr partitionTableType legacy+gpt \
	--arg extraArgs '{ touchEFIVars = true; reproducible = true; }'
read_store "$OUT6/efi-vars.fd" >"$T/got.txt" || fail "legacy+gpt: efi-vars.fd does not parse"
read_store "$VARS" >"$T/want.txt"
cmp -s "$T/got.txt" "$T/want.txt" || fail "legacy+gpt: efi-vars.fd is not the template's variables"
root_grub_cfg "$OUT6/nixos.img" 2
"$MKDISKIMAGE" build --partition-table legacy+gpt --kernel /dev/null --bootloader grub \
	--grub-dir /usr/lib/grub/i386-pc --touch-efi-vars --efi-vars-template "$VARS" -o "$T/lg/" \
	2>"$T/lg.err" >/dev/null || fail "legacy+gpt touchEFIVars: $(cat "$T/lg.err")"
[ "$(grep -c 'touchEFIVars: legacy+gpt has no ESP: efi-vars.fd is the template, no boot entry added' \
	"$T/lg.err")" = 1 ] || fail "legacy+gpt note: $(cat "$T/lg.err")"
rm -rf "$T/lg"
log "ok: legacy+gpt touchEFIVars: efi-vars.fd the template's variables, said in one line"

# 7. Evaluation errors naming the option.
eval_fails 'boot.loader.refind.enable: mkdiskimage installs boot.loader.systemd-boot' \
	--argstr bootLoader refind
eval_fails 'boot.loader.limine.enable' --argstr bootLoader limine
eval_fails 'boot.loader.efi.canTouchEfiVariables: grub-install registers GRUB' \
	--argstr bootLoader grub --argstr partitionTableType efi \
	--arg loaderConfig '{ grub.efiSupport = true; efi.canTouchEfiVariables = true; }'
eval_fails 'set boot.loader.grub.efiSupport = true' --argstr bootLoader grub \
	--argstr partitionTableType efi
eval_fails 'populateRootWith must be one of' --arg extraArgs '{ populateRootWith = "dd"; }'
eval_fails 'reproducible = true needs deterministic = true' \
	--arg extraArgs '{ reproducible = true; deterministic = false; }'
log "ok: evaluation errors"

# 8. OVMF (TCG) boots the removable GRUB-EFI image of case 1 through GRUB to the toplevel's
# kernel and initramfs, with the function's efi-vars.fd.
if [ -z "$boot_skip" ]; then
	cp "$OUT1/efi-vars.fd" "$T/efi-vars.fd"
	out=$("$MKDISKIMAGE" boot-test "$OUT1/nixos.img" --firmware uefi --accel tcg \
		--efi-vars "$T/efi-vars.fd" --expect-serial "MKDISKIMAGE-BOOT-OK nix-loaders-grub-efi" \
		--timeout 300 2>&1) || fail "GRUB-EFI image: boot-test: $out"
	log "ok: OVMF boots the function's GRUB-EFI image ($(head -n 1 <<<"$out"))"
else
	skip_case "booting the GRUB-EFI image ($boot_skip)"
fi
