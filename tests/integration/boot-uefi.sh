#!/usr/bin/env bash
# systemd-boot installed natively, booted by OVMF (issue #6): Debian's cloud kernel and our
# busybox initramfs (tests/boot/) given with --kernel/--initrd/--cmdline, built into efi,
# efixbootldr (kernel, initrd and entry on XBOOTLDR) and hybrid images; each ESP passes
# fsck.fat -n, holds systemd-boot on the removable path, and `mkdiskimage boot-test --firmware
# uefi` sees the initramfs mount the root by label and print the image's marker. Two builds are
# identical; a missing kernel or systemd-boot binary is one line and no output. A qcow2 image
# whose initramfs stays up answers boot-test's SSH and guest-agent checks. Boot times under
# TCG go to the log. Skips (77) without qemu, OVMF, systemd-boot-efi or the kernel.
# slow
. "$(dirname "$0")/../lib.sh"

require qemu-system-x86_64 fsck.fat python3 mdir
SDBOOT=/usr/lib/systemd/boot/efi/systemd-bootx64.efi
[ -f "$SDBOOT" ] || skip "needs $SDBOOT (systemd-boot-efi)"
[ -f /usr/share/OVMF/OVMF_CODE_4M.fd ] && [ -f /usr/share/OVMF/OVMF_VARS_4M.fd ] ||
	skip "needs OVMF (ovmf)"
KDIR=$("$TESTS/boot/fetch-kernel.sh") || skip "cannot fetch Debian's cloud kernel"
KERNEL=$(ls "$KDIR"/boot/vmlinuz-* | head -n1)
rc=0
"$TESTS/boot/make-initramfs.sh" "$KDIR" "$T/initrd" || rc=$?
[ "$rc" -eq 77 ] && skip "needs busybox-static"
[ "$rc" -eq 0 ] || fail "make-initramfs.sh failed"

mkdir -p "$T/root"
BOOT=(--kernel "$KERNEL" --initrd "$T/initrd" --cmdline "console=ttyS0 mdi.root=LABEL=nixos"
	--systemd-boot-efi "$SDBOOT" --root "$T/root" --additional-space 1M)

# esp_file IMG ROLE: the FAT partition with that role (from build --json) into $T/ROLE.fat.
fat_of()
{
	python3 - "$T/build.out" "$2" "$1" "$T/$2.fat" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
p = [p for p in j["partitions"] if p["role"] == sys.argv[2]][0]
with open(sys.argv[3], "rb") as f, open(sys.argv[4], "wb") as o:
    f.seek(p["offset"])
    o.write(f.read(p["size"]))
PY
	local out
	out=$(fsck.fat -n "$T/$2.fat" 2>&1) || fail "fsck.fat -n on the $2 of $1: $out"
}

# has FAT PATH: mtools sees the file.
has() { MTOOLS_SKIP_CHECK=1 mdir -b -i "$1" "::$2" >/dev/null 2>&1; }

boot()
{
	local img=$1 marker=$2 out
	out=$("$MKDISKIMAGE" boot-test "$img" --firmware uefi \
		--expect-serial "MKDISKIMAGE-BOOT-OK $marker" --timeout 240) ||
		fail "boot-test $img: $out"
	log "boot $marker: $(printf '%s\n' "$out" | head -n1)"
}

for layout in efi efixbootldr hybrid; do
	echo "$layout" >"$T/root/mkdiskimage-marker"
	size=64M
	[ "$layout" = efixbootldr ] && size=200M
	build "${BOOT[@]}" --partition-table "$layout" --boot-size "$size" --json \
		-o "$T/$layout.img"
	fat_of "$T/$layout.img" esp
	for f in /EFI/BOOT/BOOTX64.EFI /EFI/systemd/systemd-bootx64.efi /loader/loader.conf; do
		has "$T/esp.fat" "$f" || fail "$layout: $f missing on the ESP"
	done
	cmp <(MTOOLS_SKIP_CHECK=1 mtype -i "$T/esp.fat" ::/EFI/BOOT/BOOTX64.EFI) "$SDBOOT" ||
		fail "$layout: BOOTX64.EFI is not systemd-boot"
	entries=$T/esp.fat
	if [ "$layout" = efixbootldr ]; then
		fat_of "$T/$layout.img" xbootldr
		entries=$T/xbootldr.fat
		! has "$T/esp.fat" /loader/entries/nixos-generation-1.conf ||
			fail "efixbootldr: the entry belongs on XBOOTLDR"
		! has "$T/esp.fat" /EFI/nixos || fail "efixbootldr: the kernel belongs on XBOOTLDR"
	fi
	conf=$(MTOOLS_SKIP_CHECK=1 mtype -i "$entries" ::/loader/entries/nixos-generation-1.conf) ||
		fail "$layout: no loader/entries/nixos-generation-1.conf"
	kname=boot-$(basename "$KERNEL").efi
	grep -qx "linux /EFI/nixos/$kname" <<<"$conf" || fail "$layout: entry: $conf"
	grep -qx "options console=ttyS0 mdi.root=LABEL=nixos" <<<"$conf" ||
		fail "$layout: entry options: $conf"
	has "$entries" "/EFI/nixos/$kname" || fail "$layout: kernel not under EFI/nixos"
	sgdisk -v "$T/$layout.img" >/dev/null || fail "$layout: sgdisk -v"
	boot "$T/$layout.img" "$layout"
	rm -f "$T/$layout.img" "$T"/*.fat
done

# boot-test's SSH and guest-agent checks against a guest that answers them (the initramfs's
# mdi.services stand-in), from a qcow2 image; then a serial regex that never matches fails,
# and QEMU is gone afterwards either way.
echo services >"$T/root/mkdiskimage-marker"
SVC=("${BOOT[@]}")
SVC[5]="console=ttyS0 mdi.root=LABEL=nixos mdi.services"
build "${SVC[@]}" --partition-table efi --boot-size 64M --format qcow2 -o "$T/svc.qcow2"
out=$("$MKDISKIMAGE" boot-test "$T/svc.qcow2" --expect-serial "MKDISKIMAGE-BOOT-OK services" \
	--ssh --guest-agent --timeout 240) || fail "boot-test --ssh --guest-agent: $out"
for c in serial ssh guest-ping guest-get-osinfo; do
	grep -q "^PASS $c " <<<"$out" || fail "boot-test: no PASS for $c: $out"
done
log "boot services (qcow2): $(tail -n1 <<<"$out")"
rc=0
out=$("$MKDISKIMAGE" boot-test "$T/svc.qcow2" --expect-serial "NEVER-PRINTED" --timeout 20 \
	--json) || rc=$?
[ "$rc" -eq 1 ] || fail "boot-test with an unmatched regex: exit $rc, want 1: $out"
python3 -c 'import json, sys; j = json.load(sys.stdin); assert not j["pass"], j' <<<"$out" ||
	fail "boot-test --json: $out"
assert_not_running "file=$T/svc.qcow2" "boot-test left QEMU running"
rm -f "$T/svc.qcow2"

# Determinism.
echo repro >"$T/root/mkdiskimage-marker"
assert_reproducible "${BOOT[@]}" --partition-table efi --boot-size 64M

# Bad input: one line, no output.
expect_fail "no kernel to boot" --partition-table efi --bootloader systemd-boot
expect_fail "systemdBootEfi $T/none.efi: no such file" --partition-table efi \
	--kernel "$KERNEL" --systemd-boot-efi "$T/none.efi"
expect_fail "kernel $T/nokernel: not found" --partition-table efi --kernel "$T/nokernel" \
	--systemd-boot-efi "$SDBOOT"
expect_fail "bootloader systemd-boot: partitionTableType legacy has no ESP" \
	--bootloader systemd-boot --kernel "$KERNEL" --systemd-boot-efi "$SDBOOT"
expect_fail "initrd: needs kernel" --partition-table efi --initrd "$T/initrd"
expect_fail "ESP needs" "${BOOT[@]}" --partition-table efi --boot-size 10M
log "ok"
