#!/usr/bin/env bash
# Builds a busybox initramfs for the BIOS (GRUB) boot tests: its init loads virtio-blk from the
# Debian cloud kernel's modules, mounts the root filesystem by label (mdi.label= on the kernel
# command line), and prints "MDI-RESULT ok <marker file>" (after "MDI-DF <KiB>", the root's
# size as df sees it) or "MDI-RESULT fail <why>" to the serial console; with init=PATH on the
# command line also "MDI-INIT ok PATH: <its output>" after running that executable file of the
# mounted root (a NixOS toplevel's stage-2 init, a shell script here) with the initramfs's
# shell. Then it powers off.
# Usage: bios-initramfs.sh KERNEL_DIR OUT.cpio.gz   (KERNEL_DIR from fetch-kernel.sh)
set -euo pipefail
kdir=$1
out=$2
bb=$(command -v busybox) || exit 77
file "$bb" 2>/dev/null | grep -q static || [ -x /bin/busybox ] || exit 77
mods=$(echo "$kdir"/lib/modules/*/kernel)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work"/{bin,dev,proc,sys,mnt,lib/modules}
cp "$bb" "$work/bin/busybox"
for m in drivers/virtio/virtio drivers/virtio/virtio_ring drivers/virtio/virtio_pci_modern_dev \
	drivers/virtio/virtio_pci_legacy_dev drivers/virtio/virtio_pci drivers/block/virtio_blk; do
	cp "$mods/$m.ko" "$work/lib/modules/"
done
cat >"$work/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci virtio_blk; do
	insmod /lib/modules/$m.ko
done
label=$(tr ' ' '\n' </proc/cmdline | sed -n 's/^mdi.label=//p')
echo "MDI-CMDLINE $(cat /proc/cmdline)"
ok=
for i in $(seq 1 100); do
	dev=$(findfs "LABEL=$label" 2>/dev/null) && mount -t ext4 -o ro "$dev" /mnt && ok=$dev && break
	sleep 0.1
done
if [ -z "$ok" ]; then
	echo "MDI-RESULT fail no ext4 with label '$label'"
elif [ -f /mnt/boot-marker ]; then
	# the mounted root's size as the guest sees it (resize's boot test): "MDI-DF <1K-blocks>"
	echo "MDI-DF $(df -k /mnt | tail -n 1 | awk '{print $2}')"
	echo "MDI-RESULT ok $(cat /mnt/boot-marker) from $ok"
	init=$(tr ' ' '\n' </proc/cmdline | sed -n 's/^init=//p')
	if [ -n "$init" ] && [ -f "/mnt$init" ] && [ -x "/mnt$init" ]; then
		# run the system's stage-2 init from the image with this initramfs's shell
		echo "MDI-INIT ok $init: $(sh "/mnt$init" 2>&1)"
	elif [ -n "$init" ]; then
		echo "MDI-INIT missing $init"
	fi
else
	echo "MDI-RESULT fail $ok has no /boot-marker"
fi
# mdi.hold: stay up until stopped (a boot-test that must time out, not see QEMU exit)
case " $(cat /proc/cmdline) " in *" mdi.hold "*) while :; do sleep 1; done ;; esac
poweroff -f
INIT
chmod 755 "$work/init"
(cd "$work" && find . | sort | busybox cpio -o -H newc 2>/dev/null) | gzip -9n >"$out.tmp"
mv "$out.tmp" "$out"
