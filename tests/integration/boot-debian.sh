#!/usr/bin/env bash
# One full system: a Debian bookworm root made by debootstrap (systemd, networkd, sshd,
# qemu-guest-agent, the cloud kernel and its initramfs-tools initrd; tests/boot/debian-full.sh,
# cached in tests/.cache/debian-full) is built by an unprivileged user (nobody, --owner 0:0)
# into qcow2 with GRUB for BIOS, and `mkdiskimage boot-test --firmware bios --ssh --guest-agent`
# must see a login prompt on the serial console, an SSH banner on the forwarded port and the
# guest agent answer guest-ping and guest-get-osinfo. Oracles: qemu-img check, e2fsck -fn of
# the root partition (converted by qemu-img), sfdisk, the boot itself. The boot time under TCG
# is logged, never asserted. The same tree on efi with systemd-boot boots under OVMF too, built
# by nobody from a tar of the tree on stdin (--root-tar -), loaders found by default.
# Needs root, debootstrap and the mirror (first run), QEMU, SeaBIOS and GRUB's i386-pc
# modules; skips (77) otherwise.
# slow
. "$(dirname "$0")/../lib.sh"
require_root
require qemu-system-x86_64 qemu-img e2fsck debugfs blkid sfdisk python3 setpriv
[ -f /usr/share/seabios/bios-256k.bin ] || [ -f /usr/share/qemu/bios-256k.bin ] ||
	skip "needs SeaBIOS (apt-get install seabios)"
grub_dir=${GRUB_DIR:-/usr/lib/grub/i386-pc}
[ -f "$grub_dir/boot.img" ] || skip "no GRUB i386-pc in $grub_dir (apt-get install grub-pc-bin)"
id nobody >/dev/null 2>&1 || skip "needs the user nobody"

rc=0
cached=$("$TESTS/boot/debian-full.sh") || rc=$?
[ "$rc" -eq 0 ] || { [ "$rc" -eq 77 ] && skip "no Debian tree (tests/boot/debian-full.sh)"; fail \
	"tests/boot/debian-full.sh failed ($rc)"; }

# The tree as an unprivileged user sees it: owned by nobody, modes kept (/etc/shadow and the
# SSH host keys stay 0600/0640, readable by their owner only).
log "copying $cached for nobody"
cp -a "$cached" "$T/root"
chown -R nobody:"$(id -gn nobody)" "$T/root"
[ "$(stat -c %a "$T/root")" = 755 ] || fail "$cached: / is not 0755 (services would fail)"
kernels=("$T"/root/boot/vmlinuz-*)
initrds=("$T"/root/boot/initrd.img-*)
[ -f "${kernels[0]}" ] || fail "$cached: no /boot/vmlinuz-*"
[ -f "${initrds[0]}" ] || fail "$cached: no /boot/initrd.img-*"
# their paths in the tree: GRUB reads them from the root filesystem as they are
kernel=${kernels[0]#"$T/root/"}
initrd=${initrds[0]#"$T/root/"}
mkdir -p "$T/out"
chown nobody "$T/out"

img=$T/out/debian.qcow2
start=$(date +%s)
build_as nobody --root "$T/root" --owner 0:0 --format qcow2 --partition-table legacy \
	--label nixos --additional-space 256M --bootloader grub --grub-dir "$grub_dir" \
	--kernel "/$kernel" --initrd "/$initrd" --cmdline "root=LABEL=nixos ro console=ttyS0" \
	-o "$img"
log "built $(du -h "$img" | cut -f1) qcow2 as nobody in $(($(date +%s) - start)) s"
[ "$(stat -c %U "$img")" = nobody ] || fail "$img is not nobody's"

qemu-img check "$img" >"$T/check.out" 2>&1 || { cat "$T/check.out" >&2; fail "qemu-img check"; }
qemu-img convert -O raw "$img" "$T/debian.raw"
sfdisk -d "$T/debian.raw" >/dev/null || fail "sfdisk cannot read the partition table"
extract_partition "$T/debian.raw" 1 "$T/root.ext4"
rm "$T/debian.raw"
e2fsck_clean "$T/root.ext4"
[ "$(blkid -s LABEL -o value "$T/root.ext4")" = nixos ] || fail "root filesystem label"
# Root-only files the unprivileged build read: same bytes, root-owned, modes kept.
for f in etc/shadow etc/ssh/ssh_host_ed25519_key; do
	debugfs -R "dump /$f $T/dump" "$T/root.ext4" 2>/dev/null
	cmp "$cached/$f" "$T/dump" || fail "/$f differs from $cached/$f"
	want="$(stat -c %a "$cached/$f") 0 0"
	got=$(debugfs -R "stat /$f" "$T/root.ext4" 2>/dev/null | python3 -c '
import re, sys
s = sys.stdin.read()
mode, uid, gid = (re.search(k + r": +(\d+)", s).group(1) for k in ("Mode", "User", "Group"))
print("%o %s %s" % (int(mode, 8) & 0o7777, uid, gid))')
	[ "$got" = "$want" ] || fail "/$f: mode uid gid $got, not $want"
done
# GRUB boots the tree's own kernel and initrd (no copies at /boot/kernel, /boot/initrd)
debugfs -R "cat /boot/grub/grub.cfg" "$T/root.ext4" 2>/dev/null >"$T/grub.cfg"
grep -q "linux /$kernel root=LABEL=nixos ro console=ttyS0" "$T/grub.cfg" ||
	fail "grub.cfg: no linux /$kernel line: $(cat "$T/grub.cfg")"
grep -q "initrd /$initrd" "$T/grub.cfg" || fail "grub.cfg: no initrd /$initrd line"
rm "$T/root.ext4" "$T/dump"

# boot_full IMG FIRMWARE WHAT: boot-test must see the login prompt on ttyS0 (getty with the
# tree's hostname), sshd behind the forwarded port and the guest agent. On failure, the
# console's last 4000 bytes follow the report.
boot_full()
{
	local img=$1 fw=$2 what=$3 check
	if ! MKDISKIMAGE_SERIAL_TAIL=1 "$MKDISKIMAGE" boot-test "$img" --firmware "$fw" --ssh \
		--guest-agent --expect-serial 'mdi-debian login:' --timeout "${BOOT_TIMEOUT:-300}" \
		>"$T/boot.out" 2>"$T/boot.err"; then
		cat "$T/boot.out" "$T/boot.err" >&2
		fail "$what: boot-test --ssh --guest-agent did not pass"
	fi
	cat "$T/boot.out" >&2
	for check in serial ssh guest-ping guest-get-osinfo; do
		grep -q "^PASS $check " "$T/boot.out" || fail "$what: no PASS for $check"
	done
	log "ok: Debian booted under $what (TCG); $(tail -n 1 "$T/boot.out")"
}
boot_full "$img" bios "SeaBIOS + GRUB"
rm "$img"

# The same tree on efi with systemd-boot under OVMF, the README's "Get a bootable root" recipe:
# root packs the root-owned tree (`tar --xattrs --acls`), nobody builds it from the archive on
# stdin with --root-tar (no copy, no --owner), the kernel and initrd are the tree's /vmlinuz and
# /initrd.img symlinks, systemd-boot and the OVMF template are found by default.
if [ -f /usr/lib/systemd/boot/efi/systemd-bootx64.efi ] &&
	[ -f /usr/share/OVMF/OVMF_CODE_4M.fd ] && command -v sgdisk >/dev/null; then
	img=$T/out/debian-efi.qcow2
	tar --xattrs --acls -C "$cached" -c . | as_user nobody "$MKDISKIMAGE" build --root-tar - \
		--format qcow2 --partition-table efi --additional-space 256M \
		--kernel /vmlinuz --initrd /initrd.img --cmdline "root=LABEL=nixos ro console=ttyS0" \
		-o "$img" >"$T/build.out" 2>"$T/build.err" ||
		{ cat "$T/build.err" >&2; fail "efi: build --root-tar - as nobody failed"; }
	grep -q "^wrote $img: qcow2, " "$T/build.err" || fail "efi: no summary line: $(cat "$T/build.err")"
	qemu-img convert -O raw "$img" "$T/debian.raw"
	sgdisk -v "$T/debian.raw" | grep -q "No problems found" || fail "efi: sgdisk -v"
	extract_partition "$T/debian.raw" 2 "$T/root.ext4"
	rm "$T/debian.raw"
	e2fsck_clean "$T/root.ext4"
	# root-only files from the archive: same bytes, root-owned
	debugfs -R "dump /etc/shadow $T/dump" "$T/root.ext4" 2>/dev/null
	cmp "$cached/etc/shadow" "$T/dump" || fail "efi: /etc/shadow differs"
	debugfs -R "stat /etc/shadow" "$T/root.ext4" 2>/dev/null | grep -Eq "User: +0 +Group: +[0-9]+" ||
		fail "efi: /etc/shadow is not root's"
	rm "$T/root.ext4" "$T/dump"
	boot_full "$img" uefi "OVMF + systemd-boot, built by nobody from a tar on stdin"
else
	skip_case "efi + systemd-boot case (needs systemd-boot-efi, ovmf and sgdisk)"
fi
