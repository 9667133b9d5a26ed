#!/usr/bin/env bash
# An aarch64 image boots (issue #6): Debian's arm64 cloud kernel, systemd-bootaa64.efi and a
# static arm64 busybox (tests/boot/fetch-kernel.sh arm64 ...), our test initramfs
# (make-initramfs.sh with that busybox), built with --arch aarch64 into an efi image: the ESP
# holds systemd-boot as EFI/BOOT/BOOTAA64.EFI (no BOOTX64.EFI), the root has the aarch64 root
# type, fsck.fat -n, e2fsck -fn and sgdisk -v pass, and `boot-test --arch aarch64`
# (qemu-system-aarch64 -machine virt -cpu cortex-a57, AAVMF, TCG) sees the initramfs mount the
# root by label and print the marker. A qcow2 build is booted without --arch (inferred from the
# root type) and answers the SSH and guest-agent checks. --firmware bios is refused for it; two
# builds are identical. Boot times under TCG go to the log. Skips (77) without
# qemu-system-aarch64, AAVMF or the arm64 packages.
. "$(dirname "$0")/../lib.sh"

require qemu-system-aarch64 fsck.fat e2fsck sgdisk python3 mdir mtype
[ -f /usr/share/AAVMF/AAVMF_CODE.fd ] && [ -f /usr/share/AAVMF/AAVMF_VARS.fd ] ||
	skip "needs AAVMF (qemu-efi-aarch64)"
ADIR=$("$TESTS/boot/fetch-kernel.sh" arm64 systemd-boot-efi busybox-static) ||
	skip "cannot fetch Debian's arm64 packages (dpkg --add-architecture arm64; apt-get update)"
KERNEL=$(ls "$ADIR"/boot/vmlinuz-* | head -n1)
SDBOOT=$ADIR/usr/lib/systemd/boot/efi/systemd-bootaa64.efi
[ -f "$SDBOOT" ] || fail "fetch-kernel.sh arm64 gave no $SDBOOT"
rc=0
"$TESTS/boot/make-initramfs.sh" "$ADIR" "$T/initrd" "$ADIR/bin/busybox" || rc=$?
[ "$rc" -eq 0 ] || fail "make-initramfs.sh failed (exit $rc)"

mkdir -p "$T/root"
CMDLINE="console=ttyAMA0 mdi.root=LABEL=nixos"
BOOT=(--arch aarch64 --kernel "$KERNEL" --initrd "$T/initrd" --cmdline "$CMDLINE"
	--systemd-boot-efi "$SDBOOT" --root "$T/root" --additional-space 8M
	--partition-table efi --boot-size 64M)

has() { MTOOLS_SKIP_CHECK=1 mdir -b -i "$1" "::$2" >/dev/null 2>&1; }

echo aarch64 >"$T/root/mkdiskimage-marker"
build "${BOOT[@]}" -o "$T/a.img"
extract_partition "$T/a.img" 1 "$T/esp.fat"
extract_partition "$T/a.img" 2 "$T/root.ext4"
out=$(fsck.fat -n "$T/esp.fat" 2>&1) || fail "fsck.fat -n on the ESP: $out"
out=$(e2fsck -fn "$T/root.ext4" 2>&1) || fail "e2fsck -fn on the root: $out"
out=$(sgdisk -v "$T/a.img" 2>&1) || fail "sgdisk -v: $out"
sgdisk -i 2 "$T/a.img" | grep -q "$TYPE_ROOT_AARCH64" || fail "root is not the aarch64 type"
for f in /EFI/BOOT/BOOTAA64.EFI /EFI/systemd/systemd-bootaa64.efi /loader/loader.conf; do
	has "$T/esp.fat" "$f" || fail "$f missing on the ESP"
done
! has "$T/esp.fat" /EFI/BOOT/BOOTX64.EFI || fail "an x86-64 loader on an aarch64 ESP"
cmp <(MTOOLS_SKIP_CHECK=1 mtype -i "$T/esp.fat" ::/EFI/BOOT/BOOTAA64.EFI) "$SDBOOT" ||
	fail "BOOTAA64.EFI is not systemd-bootaa64.efi"
conf=$(MTOOLS_SKIP_CHECK=1 mtype -i "$T/esp.fat" ::/loader/entries/nixos-generation-1.conf) ||
	fail "no loader/entries/nixos-generation-1.conf"
grep -qx "options $CMDLINE" <<<"$conf" || fail "entry options: $conf"
rm -f "$T/esp.fat" "$T/root.ext4"

# The boot: AAVMF -> BOOTAA64.EFI (systemd-boot) -> the entry's kernel and initrd, whose init
# prints the marker it read from the root found by label. TCG emulating arm64: a generous
# timeout.
out=$("$MKDISKIMAGE" boot-test "$T/a.img" --arch aarch64 --expect-serial \
	"MKDISKIMAGE-BOOT-OK aarch64" --timeout 600 --json) || fail "boot-test --arch aarch64: $out"
python3 - "$out" <<'PY' || fail "boot-test --json: $out"
import json, sys
j = json.loads(sys.argv[1])
assert j["pass"] and j["arch"] == "aarch64" and j["accel"] == "tcg", j
assert j["accel_reason"] == "an aarch64 guest: KVM runs only the host's architecture", j
PY
log "boot aarch64 (raw, AAVMF, TCG): $(python3 -c \
	'import json, sys; print("%.1f s" % json.loads(sys.argv[1])["seconds"])' "$out")"

# qcow2, the architecture inferred from the root partition type; the initramfs stays up
# (mdi.services) for the SSH and guest-agent checks over virtio-net and virtio-serial.
echo services >"$T/root/mkdiskimage-marker"
SVC=("${BOOT[@]}")
[ "${SVC[7]}" = "$CMDLINE" ] || fail "BOOT[7] is not the command line"
SVC[7]="$CMDLINE mdi.services"
build "${SVC[@]}" --format qcow2 -o "$T/svc.qcow2"
out=$("$MKDISKIMAGE" boot-test "$T/svc.qcow2" --expect-serial "MKDISKIMAGE-BOOT-OK services" \
	--ssh --guest-agent --timeout 600) || fail "boot-test (inferred aarch64) --ssh: $out"
for c in serial ssh guest-ping guest-get-osinfo; do
	grep -q "^PASS $c " <<<"$out" || fail "boot-test: no PASS for $c: $out"
done
grep -q "^accel: tcg (.*), arch aarch64$" <<<"$out" || fail "arch not inferred: $out"
grep -q "cloud-arm64" <<<"$out" || fail "guest-get-osinfo is not the arm64 kernel: $out"
log "boot aarch64 services (qcow2): $(tail -n1 <<<"$out")"
! pgrep -f "file=$T/svc.qcow2" >/dev/null || fail "boot-test left QEMU running"

# aarch64 has no BIOS: refused before QEMU starts.
rc=0
out=$("$MKDISKIMAGE" boot-test "$T/svc.qcow2" --firmware bios 2>&1) || rc=$?
[ "$rc" -eq 1 ] || fail "boot-test --firmware bios on aarch64: exit $rc: $out"
grep -q "an aarch64 image boots only with --firmware uefi" <<<"$out" || fail "message: $out"
rm -f "$T/svc.qcow2" "$T/a.img"

echo repro >"$T/root/mkdiskimage-marker"
assert_reproducible "${BOOT[@]}"
log "ok"
