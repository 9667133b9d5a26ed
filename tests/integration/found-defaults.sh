#!/usr/bin/env bash
# Found by default (issue #13): without --systemd-boot-efi, --grub-dir, --grub-efi-dir or
# --efi-vars-template the build takes Debian's files (systemd-boot-efi, grub-pc-bin,
# grub-efi-amd64-bin, ovmf) from where the packages put them, and the result is byte for byte
# the build that names them (cmp). Oracles: mtype/mdir of the ESP (systemd-boot or GRUB's PE
# on the removable path), fsck.fat -n, GRUB's boot.img in the MBR pointing at core.img in the
# gap (od), GRUB's BOOTX64.EFI a PE32+ EFI application (od), `mkdiskimage inspect` of efi-vars.fd (Boot0000 and
# BootOrder). bootloader auto with a kernel on legacy and legacy+gpt installs GRUB for BIOS
# when its modules are there, nothing when they are not. With MKDISKIMAGE_SEARCH_ROOT at an
# empty tree nothing is found: each error is one line naming every path tried, the package and
# the flag. --help states each default.
# quick
. "$(dirname "$0")/../lib.sh"
require sgdisk fsck.fat mtype mdir cmp od
SDBOOT=/usr/lib/systemd/boot/efi/systemd-bootx64.efi
OVMF_VARS=/usr/share/OVMF/OVMF_VARS_4M.fd
GRUB_PC=/usr/lib/grub/i386-pc
GRUB_EFI=/usr/lib/grub/x86_64-efi
[ "$(uname -m)" = x86_64 ] || skip "the defaults checked are x86-64's (the build's arch)"
for f in "$SDBOOT" "$OVMF_VARS" "$GRUB_PC/boot.img" "$GRUB_EFI/kernel.img" /usr/bin/grub-mkimage; do
	[ -e "$f" ] || skip "needs $f (systemd-boot-efi, ovmf, grub-pc-bin, grub-efi-amd64-bin)"
done
export MTOOLS_SKIP_CHECK=1
unset MKDISKIMAGE_SEARCH_ROOT

mkdir -p "$T/root" "$T/none"
printf 'found-defaults\n' >"$T/root/motd"
head -c 70000 /dev/urandom >"$T/vmlinuz"
head -c 30000 /dev/urandom >"$T/initrd"
K=(--root "$T/root" --additional-space 4M --kernel "$T/vmlinuz" --initrd "$T/initrd"
	--cmdline "console=ttyS0")

# esp_of IMG: the ESP (partition 1) extracted to $T/esp.fat, checked by fsck.fat -n
esp_of()
{
	read -r start size < <(part_geometry "$1" 1)
	dd if="$1" of="$T/esp.fat" bs=512 skip="$start" count="$size" status=none
	out=$(fsck.fat -n "$T/esp.fat" 2>&1) || fail "$1: fsck.fat -n: $out"
}

# grub_bios_in IMG: boot.img's code in the MBR and core.img at LBA 1 (the MBR gap)
grub_bios_in()
{
	head -c 440 "$1" | grep -qa 'GRUB' || fail "$1: no GRUB boot.img in the MBR"
	[ "$(od -An -t u8 -j $((0x5c)) -N 8 "$1" | tr -d ' ')" = 1 ] ||
		fail "$1: boot.img does not point at LBA 1"
	[ "$(od -An -t x1 -j 512 -N 4 "$1" | tr -d ' ')" != 00000000 ] || fail "$1: no core.img"
}

log "efi, auto with a kernel, --touch-efi-vars: systemd-boot and the OVMF template by default"
mkdir -p "$T/d1" "$T/e1"
build "${K[@]}" --partition-table efi --boot-size 40M --touch-efi-vars -o "$T/d1/"
build "${K[@]}" --partition-table efi --boot-size 40M --touch-efi-vars \
	--systemd-boot-efi "$SDBOOT" --efi-vars-template "$OVMF_VARS" -o "$T/e1/"
cmp "$T/d1/nixos.img" "$T/e1/nixos.img" || fail "default systemd-boot: image differs from --systemd-boot-efi's"
cmp "$T/d1/efi-vars.fd" "$T/e1/efi-vars.fd" || fail "default template: efi-vars.fd differs"
esp_of "$T/d1/nixos.img"
cmp <(mtype -i "$T/esp.fat" ::/EFI/BOOT/BOOTX64.EFI) "$SDBOOT" || fail "BOOTX64.EFI is not $SDBOOT"
mdir -i "$T/esp.fat" ::/EFI/systemd | grep -qi 'systemd-bootx64' || fail "no EFI/systemd/systemd-bootx64.efi"
"$MKDISKIMAGE" inspect "$T/d1/efi-vars.fd" >"$T/vars.txt" || fail "inspect efi-vars.fd"
grep -q "540672 bytes" "$T/vars.txt" || fail "efi-vars.fd is not OVMF_VARS_4M.fd's size: $(cat "$T/vars.txt")"
grep -q 'Boot0000 .*"Linux Boot Manager" HD(1,GPT,.*\\EFI\\systemd\\systemd-bootx64.efi' "$T/vars.txt" ||
	fail "no Boot0000 for systemd-boot: $(cat "$T/vars.txt")"
grep -q 'BootOrder .*: 0000$' "$T/vars.txt" || fail "BootOrder: $(cat "$T/vars.txt")"

log "legacy and legacy+gpt, auto with a kernel: GRUB for BIOS when its modules are there"
for t in legacy legacy+gpt; do
	build "${K[@]}" --partition-table "$t" -o "$T/auto.img"
	build "${K[@]}" --partition-table "$t" --bootloader grub --grub-dir "$GRUB_PC" -o "$T/grub.img"
	cmp "$T/auto.img" "$T/grub.img" || fail "$t: auto differs from --bootloader grub --grub-dir"
	if [ "$t" = legacy ]; then
		grub_bios_in "$T/auto.img"
	else # core.img in the BIOS boot partition
		head -c 440 "$T/auto.img" | grep -qa GRUB || fail "$t: no GRUB boot.img in the MBR"
		sgdisk -v "$T/auto.img" | grep -q "No problems found" || fail "$t: sgdisk -v"
	fi
done
rm -f "$T/auto.img" "$T/grub.img"
# no kernel: nothing, as before
build --root "$T/root" --additional-space 4M --partition-table legacy -o "$T/nok.img"
cmp -s <(head -c 440 "$T/nok.img") <(head -c 440 /dev/zero) || fail "no kernel: MBR boot code"
rm -f "$T/nok.img"

log "hybrid, --bootloader grub without dirs: GRUB for BIOS and for UEFI"
build "${K[@]}" --partition-table hybrid --boot-size 40M --bootloader grub -o "$T/hg.img"
build "${K[@]}" --partition-table hybrid --boot-size 40M --bootloader grub \
	--grub-dir "$GRUB_PC" --grub-efi-dir "$GRUB_EFI" -o "$T/hg2.img"
cmp "$T/hg.img" "$T/hg2.img" || fail "hybrid grub: default differs from --grub-dir --grub-efi-dir"
head -c 440 "$T/hg.img" | grep -qa GRUB || fail "hybrid grub: no boot.img in the MBR"
esp_of "$T/hg.img"
mtype -i "$T/esp.fat" ::/EFI/BOOT/BOOTX64.EFI >"$T/grubx64.efi" || fail "no EFI/BOOT/BOOTX64.EFI"
# a PE32+ EFI application for x86-64: MZ, PE\0\0 at e_lfanew, machine 0x8664, subsystem 10
pe=$(od -An -t u4 -j 60 -N 4 "$T/grubx64.efi" | tr -d ' ')
[ "$(head -c 2 "$T/grubx64.efi")" = MZ ] && [ "$(od -An -c -j "$pe" -N 4 "$T/grubx64.efi" | tr -d ' ')" = 'PE\0\0' ] &&
	[ "$(od -An -t x2 -j $((pe + 4)) -N 2 "$T/grubx64.efi" | tr -d ' ')" = 8664 ] &&
	[ "$(od -An -t u2 -j $((pe + 24 + 68)) -N 2 "$T/grubx64.efi" | tr -d ' ')" = 10 ] ||
	fail "BOOTX64.EFI is not an x86-64 EFI application"
! cmp -s "$T/grubx64.efi" "$SDBOOT" || fail "BOOTX64.EFI is systemd-boot, not GRUB"
# one of the two given: the other is not looked up (hash-matrix's hybrid-grub-raw)
build "${K[@]}" --partition-table hybrid --boot-size 40M --bootloader grub --grub-dir "$GRUB_PC" \
	-o "$T/hg3.img"
esp_of "$T/hg3.img"
! mtype -i "$T/esp.fat" ::/EFI/BOOT/BOOTX64.EFI >/dev/null 2>&1 ||
	fail "--grub-dir alone installed GRUB for UEFI too"
rm -f "$T/hg.img" "$T/hg2.img" "$T/hg3.img"

log "nothing found (MKDISKIMAGE_SEARCH_ROOT=$T/none): the paths tried, the package, the flag"
EXPECT_FAIL_PREFIX=(env "MKDISKIMAGE_SEARCH_ROOT=$T/none")
N=$T/none
expect_fail "touchEFIVars: no firmware variable store template found (tried $N/usr/share/OVMF/OVMF_VARS_4M.fd, $N/usr/share/OVMF/OVMF_VARS.fd, $N/usr/share/edk2/ovmf/OVMF_VARS.fd, $N/usr/share/edk2/x64/OVMF_VARS.4m.fd, $N/usr/share/qemu/edk2-i386-vars.fd; install ovmf or give --efi-vars-template F)" \
	--root "$T/root" --partition-table efi --touch-efi-vars -o "$T/none/"
expect_fail "systemd-boot: no systemd-bootx64.efi found (tried $N/usr/lib/systemd/boot/efi/systemd-bootx64.efi, $N/run/current-system/sw/lib/systemd/boot/efi/systemd-bootx64.efi; install systemd-boot-efi or give --systemd-boot-efi F)" \
	"${K[@]}" --partition-table efi --bootloader systemd-boot
expect_fail "bootloader grub: no GRUB i386-pc modules found (tried $N/usr/lib/grub/i386-pc, $N/run/current-system/sw/lib/grub/i386-pc; install grub-pc-bin or give --grub-dir DIR)" \
	"${K[@]}" --partition-table legacy --bootloader grub
expect_fail "bootloader grub: no GRUB x86_64-efi modules found (tried $N/usr/lib/grub/x86_64-efi, $N/run/current-system/sw/lib/grub/x86_64-efi; install grub-efi-amd64-bin or give --grub-efi-dir DIR)" \
	"${K[@]}" --partition-table efi --bootloader grub
EXPECT_FAIL_PREFIX=()
# auto with a kernel and no GRUB: no bootloader (as before), and the flags still work there
MKDISKIMAGE_SEARCH_ROOT=$N "$MKDISKIMAGE" build "${K[@]}" --partition-table legacy -o "$T/ng.img" \
	2>"$T/ng.err" || fail "auto without GRUB: $(cat "$T/ng.err")"
cmp -s <(head -c 440 "$T/ng.img") <(head -c 440 /dev/zero) || fail "auto without GRUB: MBR boot code"
MKDISKIMAGE_SEARCH_ROOT=$N "$MKDISKIMAGE" build "${K[@]}" --partition-table legacy \
	--bootloader grub --grub-dir "$GRUB_PC" -o "$T/ng.img" 2>"$T/ng.err" ||
	fail "--grub-dir with nothing found: $(cat "$T/ng.err")"
grub_bios_in "$T/ng.img"
rm -f "$T/ng.img"

log "--help states the defaults"
help=$("$MKDISKIMAGE" build --help | tr -s ' \n' '  ')
for p in "$OVMF_VARS" /usr/share/OVMF/OVMF_VARS.fd /usr/share/AAVMF/AAVMF_VARS.fd \
	/usr/lib/systemd/boot/efi/systemd-bootARCH.efi \
	/run/current-system/sw/lib/systemd/boot/efi/systemd-bootARCH.efi \
	"$GRUB_PC" /run/current-system/sw/lib/grub/i386-pc "$GRUB_EFI" \
	/run/current-system/sw/lib/grub/x86_64-efi; do
	[[ $help == *"$p"* ]] || fail "build --help does not name $p"
done
log "ok"
