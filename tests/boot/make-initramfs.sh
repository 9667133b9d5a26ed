#!/usr/bin/env bash
# make-initramfs.sh KERNELDIR OUT [BUSYBOX]: a tiny initramfs (uncompressed newc cpio, fixed times)
# with a static busybox and the virtio modules of the kernel unpacked in KERNELDIR (Debian's cloud
# kernel has ext4 built in, virtio as modules). Its /init mounts the root filesystem named by
# mdi.root= on the kernel command line (LABEL=x, UUID=x or a device), reads /mkdiskimage-marker from
# it and prints "MKDISKIMAGE-BOOT-OK <marker>" (or MKDISKIMAGE-BOOT-FAIL <why>) on the console (with
# mdi.stage2 it then runs the image's init= script and prints "MKDISKIMAGE-STAGE2 <marker> <its
# output>"), then powers off (with mdi.services it stays up instead, answering SSH banners and
# guest-agent commands for boot-test). Exit 77 when busybox-static is missing. An optional third
# argument is the static busybox to use (another architecture's: arm64).
set -euo pipefail
kdir=$1 out=$2 bb=${3:-}
[ -n "$bb" ] || bb=$(command -v busybox || true)
[ -n "$bb" ] && file -L "$bb" 2>/dev/null | grep -q 'statically linked' || {
	[ -x /bin/busybox ] && bb=/bin/busybox || exit 77
}
mods=$(ls -d "$kdir"/lib/modules/*/kernel | head -n1)
[ -d "$mods" ] || { echo "no modules in $kdir" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/bin" "$tmp/lib/modules" "$tmp/dev" "$tmp/proc" "$tmp/sys" "$tmp/mnt"
cp "$bb" "$tmp/bin/busybox"
# dependency order (modinfo depends=)
order="drivers/virtio/virtio_ring drivers/virtio/virtio drivers/virtio/virtio_pci_modern_dev
drivers/virtio/virtio_pci_legacy_dev drivers/virtio/virtio_pci drivers/block/virtio_blk
net/core/failover drivers/net/net_failover drivers/net/virtio_net drivers/char/virtio_console"
: >"$tmp/lib/modules/order"
for m in $order; do
	f="$mods/$m.ko"
	[ -f "$f" ] || continue # built in
	cp "$f" "$tmp/lib/modules/"
	echo "${m##*/}.ko" >>"$tmp/lib/modules/order"
done
cat >"$tmp/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
for m in $(cat /lib/modules/order); do insmod /lib/modules/$m; done
root=
for w in $(cat /proc/cmdline); do
	case $w in mdi.root=*) root=${w#mdi.root=} ;; esac
done
[ -n "$root" ] || root=LABEL=nixos
dev=
i=0
while [ $i -lt 100 ]; do
	case $root in
	LABEL=* | UUID=*) dev=$(findfs "$root" 2>/dev/null) ;;
	*) [ -b "$root" ] && dev=$root ;;
	esac
	[ -n "$dev" ] && break
	sleep 0.1
	i=$((i + 1))
done
if [ -z "$dev" ]; then
	echo "MKDISKIMAGE-BOOT-FAIL root $root not found"
elif ! mount -t ext4 -o ro "$dev" /mnt; then
	echo "MKDISKIMAGE-BOOT-FAIL cannot mount $dev"
elif [ -f /mnt/mkdiskimage-marker ]; then
	echo "MKDISKIMAGE-BOOT-OK $(cat /mnt/mkdiskimage-marker)"
	# the mounted root as df sees it: "MKDISKIMAGE-DF <1K-blocks> <available 1K-blocks>"
	echo "MKDISKIMAGE-DF $(df -k /mnt | tail -n 1 | awk '{print $2, $4}')"
	# mdi.stage2: run the system's own init= from the image (a NixOS toplevel's stage 2,
	# here a shell script), with this initramfs's shell, and print what it says.
	case " $(cat /proc/cmdline) " in
	*" mdi.stage2 "*)
		init=
		for w in $(cat /proc/cmdline); do
			case $w in init=*) init=${w#init=} ;; esac
		done
		if [ -n "$init" ] && [ -f "/mnt$init" ]; then
			echo "MKDISKIMAGE-STAGE2 $(cat /mnt/mkdiskimage-marker) $(sh "/mnt$init" 2>&1)"
		else
			echo "MKDISKIMAGE-BOOT-FAIL init=$init not in the image"
		fi
		;;
	esac
else
	echo "MKDISKIMAGE-BOOT-FAIL no /mkdiskimage-marker on $dev"
fi
sync
# mdi.services: stay up as a stand-in for a full system, for boot-test --ssh --guest-agent:
# an SSH-2.0- banner on port 22 and guest-agent answers on the virtio-serial port.
case " $(cat /proc/cmdline) " in
*" mdi.services "*)
	ip link set lo up
	ip addr add 10.0.2.15/24 dev eth0 && ip link set eth0 up
	(while :; do echo "SSH-2.0-mkdiskimage-test" | nc -l -p 22; done) </dev/null >/dev/null 2>&1 &
	port=$(grep -l org.qemu.guest_agent.0 /sys/class/virtio-ports/*/name | head -n1)
	port=/dev/$(basename "$(dirname "$port")")
	echo "MKDISKIMAGE-SERVICES-UP $port"
	exec 3<>"$port" # a virtio port opens once
	while :; do
		while read -r line <&3; do
			case $line in
			*guest-get-osinfo*)
				echo "{\"return\": {\"kernel-release\": \"$(uname -r)\", \"id\": \"busybox\"}}" >&3 ;;
			*guest-ping*) echo '{"return": {}}' >&3 ;;
			esac
		done
		sleep 0.2
	done
	;;
esac
poweroff -f
INIT
chmod 755 "$tmp/init"
python3 - "$tmp" "$out" <<'PY'
import os, sys
root, out = sys.argv[1], sys.argv[2]
entries = []
for d, dirs, files in os.walk(root):
    dirs.sort()
    for n in sorted(dirs + files):
        entries.append(os.path.join(d, n))
entries.sort()
buf = bytearray()
def add(name, mode, data=b"", rdev=(0, 0), ino=[1]):
    nb = name.encode() + b"\0"
    hdr = "070701" + "".join("%08x" % v for v in (
        ino[0], mode, 0, 0, 1, 0, len(data), 0, 0, rdev[0], rdev[1], len(nb), 0))
    ino[0] += 1
    buf.extend(hdr.encode() + nb)
    buf.extend(b"\0" * (-len(buf) % 4))
    buf.extend(data)
    buf.extend(b"\0" * (-len(buf) % 4))
for p in entries:
    rel = os.path.relpath(p, root)
    st = os.lstat(p)
    if os.path.isdir(p):
        add(rel, 0o040755)
    else:
        add(rel, 0o100000 | (st.st_mode & 0o777), open(p, "rb").read())
add("dev/console", 0o020600, rdev=(5, 1))
add("TRAILER!!!", 0)
open(out, "wb").write(bytes(buf))
PY
