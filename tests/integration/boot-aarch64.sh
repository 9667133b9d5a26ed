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
# slow
. "$(dirname "$0")/../lib.sh"

require qemu-system-aarch64 fsck.fat e2fsck sgdisk sfdisk python3 mdir mtype mdel
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
# The PE reader sees Debian's real arm64 loader as aarch64: refused for an x86-64 image.
mkdir -p "$T/pe-root"
expect_fail "systemd-boot $SDBOOT: built for aarch64 (PE machine 0xaa64), but the image is for x86-64" \
	--root "$T/pe-root" --partition-table efi --kernel "$KERNEL" --initrd "$T/initrd" \
	--systemd-boot-efi "$SDBOOT"

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
assert_not_running "file=$T/svc.qcow2" "boot-test left QEMU running"

# aarch64 has no BIOS: refused before QEMU starts.
rc=0
out=$("$MKDISKIMAGE" boot-test "$T/svc.qcow2" --firmware bios 2>&1) || rc=$?
[ "$rc" -eq 1 ] || fail "boot-test --firmware bios on aarch64: exit $rc: $out"
grep -q "an aarch64 image boots only with --firmware uefi" <<<"$out" || fail "message: $out"
rm -f "$T/svc.qcow2" "$T/a.img"

# touchEFIVars on aarch64: Debian's AAVMF_VARS.fd is 64 MiB of zeros, which the build formats as
# AAVMF does on first boot before adding Boot0000 and BootOrder. An independent reader checks
# the store; then AAVMF boots a copy of the disk without EFI/BOOT/BOOTAA64.EFI, so only
# Boot0000 (HD(ESP)/\EFI\systemd\systemd-bootaa64.efi) can start systemd-boot; the same disk
# with the pristine template falls through to AAVMF's shell instead.
AAVARS=/usr/share/AAVMF/AAVMF_VARS.fd
echo efivars >"$T/root/mkdiskimage-marker"
mkdir -p "$T/ev" "$T/ev2"
build "${BOOT[@]}" --touch-efi-vars --efi-vars-template "$AAVARS" -o "$T/ev"
build "${BOOT[@]}" --touch-efi-vars --efi-vars-template "$AAVARS" -o "$T/ev2"
cmp "$T/ev/efi-vars.fd" "$T/ev2/efi-vars.fd" || fail "two builds give different efi-vars.fd"
rm -rf "$T/ev2"
read -r start size < <(part_geometry "$T/ev/nixos.img" 1)
partuuid=$(sfdisk --part-uuid "$T/ev/nixos.img" 1 | tr 'A-Z' 'a-z')
python3 - "$T/ev/efi-vars.fd" "$start" "$size" "$partuuid" <<'PY' || fail "efi-vars.fd"
import struct, sys, uuid
b = open(sys.argv[1], "rb").read()
start, size, partuuid = int(sys.argv[2]), int(sys.argv[3]), uuid.UUID(sys.argv[4])
assert len(b) == 64 << 20, len(b)
assert b[40:44] == b"_FVH" and b[55] == 2, "FV signature/revision"
fv_len, = struct.unpack_from("<Q", b, 32)
hlen, = struct.unpack_from("<H", b, 48)
assert fv_len == 0xc0000 and hlen == 0x48, (fv_len, hlen)  # ArmVirtQemu: 3 x 256 KiB
assert uuid.UUID(bytes_le=b[16:32]) == uuid.UUID("fff12b8d-7696-4c8b-a985-2747075b4f50")
assert sum(struct.unpack_from("<36H", b, 0)) & 0xffff == 0, "FV checksum"
assert uuid.UUID(bytes_le=b[hlen:hlen + 16]) == uuid.UUID("aaf32c78-947b-439a-a180-2e144ec37792")
ssize, fmt, state = struct.unpack_from("<IBB", b, hlen + 16)
assert (ssize, fmt, state) == (0x40000 - hlen, 0x5a, 0xfe), (ssize, fmt, state)
assert uuid.UUID(bytes_le=b[0x40000:0x40010]) == uuid.UUID("9e58292b-7c68-497d-a0ce-6500fd9f1b95")
assert all(c == 0 for c in b[0xc0000:]), "bytes past the NV range are not the template's"
off, found = (hlen + 28 + 3) & ~3, {}
while struct.unpack_from("<H", b, off)[0] == 0x55aa:
    ns, ds = struct.unpack_from("<II", b, off + 36)
    name = b[off + 60:off + 60 + ns].decode("utf-16-le").rstrip("\0")
    assert b[off + 2] == 0x3f and uuid.UUID(bytes_le=b[off + 44:off + 60]) == \
        uuid.UUID("8be4df61-93ca-11d2-aa0d-00e098032b8c"), name
    found[name] = b[off + 60 + ns:off + 60 + ns + ds]
    off = (off + 60 + ns + ds + 3) & ~3
assert sorted(found) == ["Boot0000", "BootOrder"], sorted(found)
assert found["BootOrder"] == b"\0\0", found["BootOrder"]
opt = found["Boot0000"]
hd = struct.pack("<BBHIQQ", 4, 1, 42, 1, start, size) + partuuid.bytes_le + b"\2\2"
path = "\\EFI\\systemd\\systemd-bootaa64.efi\0".encode("utf-16-le")
assert hd + struct.pack("<BBH", 4, 4, 4 + len(path)) + path + b"\x7f\xff\4\0" in opt, opt.hex()
assert all(c == 0xff for c in b[off:0x40000]), "free space not erased"
PY
hd=$(printf 'HD(1,GPT,%s,0x%x,0x%x)' "$partuuid" "$start" "$size")
out=$("$MKDISKIMAGE" inspect "$T/ev/efi-vars.fd") || fail "inspect efi-vars.fd: $out"
grep -qF ": \"Linux Boot Manager\" $hd/\EFI\systemd\systemd-bootaa64.efi" <<<"$out" ||
	fail "inspect: want Boot0000 $hd: $out"
cp --sparse=always "$T/ev/nixos.img" "$T/noremovable.img"
MTOOLS_SKIP_CHECK=1 mdel -i "$T/noremovable.img@@$((start * 512))" ::/EFI/BOOT/BOOTAA64.EFI ||
	fail "mdel BOOTAA64.EFI"
! MTOOLS_SKIP_CHECK=1 mdir -b -i "$T/noremovable.img@@$((start * 512))" ::/EFI/BOOT/BOOTAA64.EFI \
	>/dev/null 2>&1 || fail "BOOTAA64.EFI still on the ESP copy"
out=$("$MKDISKIMAGE" boot-test "$T/noremovable.img" --efi-vars "$T/ev/efi-vars.fd" --expect-serial \
	"MKDISKIMAGE-BOOT-OK efivars" --timeout 600) ||
	fail "boot-test through Boot0000 (no BOOTAA64.EFI): $out"
log "boot aarch64 through efi-vars.fd's Boot0000: $(tail -n1 <<<"$out")"
# the control: with systemd-boot started the shell never comes, so this cannot pass by luck
# (--no-boot-check: boot-test would refuse an image it sees nothing to boot on)
out=$("$MKDISKIMAGE" boot-test "$T/noremovable.img" --no-boot-check --efi-vars "$AAVARS" --expect-serial \
	"Shell> " --timeout 300) ||
	fail "control: the pristine AAVMF_VARS.fd did not fall through to the shell: $out"
rm -rf "$T/ev" "$T/noremovable.img"

echo repro >"$T/root/mkdiskimage-marker"
assert_reproducible "${BOOT[@]}"
log "ok"
