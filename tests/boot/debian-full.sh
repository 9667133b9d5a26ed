#!/usr/bin/env bash
# A bootable Debian bookworm root for a VM: systemd, networkd (DHCP on en*), sshd,
# qemu-guest-agent, the cloud kernel and an initramfs-tools initrd with virtio. Made once with
# debootstrap into DIR (default tests/.cache/debian-full) and reused; DIR.complete (beside DIR,
# not in it) marks a finished tree. Prints DIR on stdout. Needs root, debootstrap and the Debian
# mirror the machine's apt uses; exits 77 when one is missing.
#   tests/boot/debian-full.sh [DIR]
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
dir=${1:-$(cd "$here/.." && pwd)/.cache/debian-full}
if [ -e "$dir.complete" ]; then
	echo "$dir"
	exit 0
fi
[ "$(id -u)" -eq 0 ] || { echo "debian-full: needs root (debootstrap chroots)" >&2; exit 77; }
command -v debootstrap >/dev/null || { echo "debian-full: needs debootstrap" >&2; exit 77; }

# The mirror the machine already uses (deb822 URIs: or one-line deb entries).
mirror=$({ cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list \
	/etc/apt/sources.list.d/*.sources 2>/dev/null || true; } | awk '
	/^URIs:/ { for (i = 2; i <= NF; i++) if ($i ~ /\/debian\/?$/) { print $i; exit } }
	/^deb / { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\/.*\/debian\/?$/) { print $i; exit } }')
mirror=${mirror:-http://deb.debian.org/debian}
if ! python3 - "$mirror/dists/bookworm/Release" <<'PY'; then
import sys, urllib.request
urllib.request.urlopen(sys.argv[1], timeout=20).read(100)
PY
	echo "debian-full: the Debian mirror $mirror is unreachable" >&2
	exit 77
fi

mkdir -p "$(dirname "$dir")"
rm -rf "$dir"
tmp=$(mktemp -d "$(dirname "$dir")/.debian-full.XXXXXX")
chmod 755 "$tmp" # the image's /: mktemp's 0700 would lock out every service user
trap 'rm -rf "$tmp"' EXIT
echo "debian-full: debootstrap bookworm from $mirror (once; cached in $dir)" >&2
pkgs=systemd,systemd-sysv,udev,openssh-server,qemu-guest-agent,linux-image-cloud-amd64
pkgs=$pkgs,initramfs-tools,kmod
if ! debootstrap --variant=minbase --include="$pkgs" bookworm "$tmp" "$mirror" \
	>"$tmp.log" 2>&1; then
	tail -n 20 "$tmp.log" >&2
	rm -f "$tmp.log"
	echo "debian-full: debootstrap failed" >&2
	exit 77
fi
rm -f "$tmp.log"

# Configure it for a VM whose root filesystem is labelled nixos.
printf 'LABEL=nixos / ext4 defaults 0 1\n' >"$tmp/etc/fstab"
printf 'mdi-debian\n' >"$tmp/etc/hostname"
printf '127.0.0.1 localhost\n127.0.1.1 mdi-debian\n' >"$tmp/etc/hosts"
mkdir -p "$tmp/etc/systemd/network" "$tmp/etc/systemd/system/multi-user.target.wants" \
	"$tmp/etc/systemd/system/sockets.target.wants"
printf '[Match]\nName=en*\n\n[Network]\nDHCP=yes\n' >"$tmp/etc/systemd/network/50-en.network"
ln -sf /lib/systemd/system/systemd-networkd.service \
	"$tmp/etc/systemd/system/multi-user.target.wants/systemd-networkd.service"
ln -sf /lib/systemd/system/systemd-networkd.socket \
	"$tmp/etc/systemd/system/sockets.target.wants/systemd-networkd.socket"
ln -sf /lib/systemd/system/ssh.service "$tmp/etc/systemd/system/multi-user.target.wants/ssh.service"
# qemu-guest-agent needs no enabling: the package's udev rule (60-qemu-guest-agent.rules)
# starts it when the virtio port org.qemu.guest_agent.0 appears.
[ -e "$tmp/lib/udev/rules.d/60-qemu-guest-agent.rules" ] ||
	{ echo "debian-full: qemu-guest-agent has no udev rule" >&2; exit 1; }
# A machine-id on first boot, not one baked into the image.
: >"$tmp/etc/machine-id"
# virtio_blk/virtio_pci in the initrd (MODULES=most has them; list them to be sure).
printf 'virtio_pci\nvirtio_blk\nvirtio_net\next4\n' >>"$tmp/etc/initramfs-tools/modules"
chroot "$tmp" update-initramfs -u -k all >&2
# Leave no caches that vary between runs.
rm -rf "$tmp"/var/cache/apt/archives/*.deb "$tmp"/var/lib/apt/lists/*_Packages
mv "$tmp" "$dir"
trap - EXIT
touch "$dir.complete"
echo "$dir"
