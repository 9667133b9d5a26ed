#!/usr/bin/env bash
# Remakes the seed corpora of fuzz/corpus/ from images made by the reference tools (sgdisk,
# sfdisk, mkfs.fat, mke2fs, qemu-img) and hand-made ones (mkseeds.py: variable stores, load
# options, small-block VDI/VHD; vhdx-pages.py: VHDX files as fuzz_vhdx's page lists). Run from
# the repository root; the seeds are checked in, so this is documentation as much as a tool.
# Keep fuzz/corpus small (< 2 MB in all).
set -euo pipefail
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
c=fuzz/corpus
mkdir -p $c/part $c/ext4 $c/fat $c/qcow2 $c/image

# Partition tables: a 64 KiB GPT disk, the same with a hybrid MBR, an MBR disk.
truncate -s 64K $t/tiny.raw
sgdisk -n 1:34:+32 -t 1:ef00 -c 1:ESP -n 2:0:0 -t 2:8304 -c 2:root $t/tiny.raw >/dev/null
cp $t/tiny.raw $c/part/gpt
cp $t/tiny.raw $t/hybrid.raw
sgdisk -h 1 $t/hybrid.raw >/dev/null
cp $t/hybrid.raw $c/part/gpt-hybrid
truncate -s 64K $t/mbr.raw
printf 'label: dos\nstart=1, size=63, type=ef, bootable\nstart=64, type=83\n' |
	sfdisk -q $t/mbr.raw
cp $t/mbr.raw $c/part/mbr
head -c 17408 $t/tiny.raw >$c/part/gpt-no-backup # the primary table alone
# odd sizes: fuzz_part recomputes the CRCs (and fuzz_efivars the volume checksum)
(cat $t/tiny.raw && printf x) >$c/part/gpt-crcs-recomputed

# Filesystems: FAT12/16/32 boot sector, FSInfo and the start of the FAT; ext4/ext2
# superblocks.
for f in 12:200K 16:8M 32:33M; do
	truncate -s ${f#*:} $t/fat.img
	mkfs.fat -F ${f%%:*} -s 1 -n ESP -i 12345678 $t/fat.img >/dev/null
	head -c 12288 $t/fat.img >$c/fat/fat${f%%:*}
	rm $t/fat.img
done
truncate -s 256K $t/ext.img
mke2fs -q -t ext4 -b 1024 -N 32 -O ^has_journal,^resize_inode -L root $t/ext.img
dd if=$t/ext.img of=$c/ext4/ext4-1k bs=1024 skip=1 count=1 status=none
truncate -s 4M $t/ext2.img
mke2fs -q -t ext2 -L old $t/ext2.img
dd if=$t/ext2.img of=$c/ext4/ext2 bs=1024 skip=1 count=1 status=none
truncate -s 8M $t/ext64.img
mke2fs -q -t ext4 -b 4096 -O 64bit,metadata_csum $t/ext64.img
dd if=$t/ext64.img of=$c/ext4/ext4-64bit bs=1024 skip=1 count=1 status=none

# ext4_grow: whole small filesystems (trailing zeros cut: reads past the input are zeros), the
# first four bytes (the unused boot block) asking for 3 MiB more.
mkdir -p $c/ext4_grow
grow_seed() {
	local name=$1 size=$2
	shift 2
	truncate -s $size $t/$name.img
	mke2fs -q -t ext4 -N 64 -O ^has_journal "$@" $t/$name.img
	python3 -c 'import sys
b = bytearray(open(sys.argv[1], "rb").read().rstrip(b"\0"))
b[0:4] = (3 << 20).to_bytes(4, "little")
open(sys.argv[2], "wb").write(b)' $t/$name.img $c/ext4_grow/$name
}
grow_seed mkfs-1k 300K -b 1024 -g 256
grow_seed mkfs-4k 1M -b 4096 -g 256
grow_seed uninit-bg-32bit 256K -b 1024 -g 256 -O ^64bit,^metadata_csum,uninit_bg
grow_seed no-csum-no-flex 256K -b 1024 -g 256 -O ^metadata_csum,^flex_bg

# Swap: mkswap's first page (4 KiB pages), a 64 KiB-page area's, and the first as a big-endian
# host would write it (util-linux 2.38's mkswap has no --endianness).
mkdir -p $c/swap
truncate -s 1M $t/swap.img
mkswap -L swap -U 01234567-89ab-4def-8123-456789abcdef $t/swap.img >/dev/null 2>&1
head -c 4096 $t/swap.img >$c/swap/swap-4k
python3 -c 'import struct, sys
b = bytearray(open(sys.argv[1], "rb").read())
struct.pack_into(">II", b, 1024, *struct.unpack_from("<II", b, 1024))
open(sys.argv[2], "wb").write(b)' $c/swap/swap-4k $c/swap/swap-4k-big-endian
truncate -s 2M $t/swap64.img
mkswap -p 65536 -U 11111111-2222-4333-8444-555555555555 $t/swap64.img >/dev/null 2>&1
head -c 65536 $t/swap64.img >$c/swap/swap-64k-page

# erofs: mkfs.erofs's first block (with and without the superblock checksum: 1.5 sets it by
# default) and ours (a partition of a list), first 8 KiB.
mkdir -p $c/erofs $t/erofs-tree/d
printf 'erofs seed\n' >$t/erofs-tree/d/f
ln -s f $t/erofs-tree/d/l
mkfs.erofs -T 1 -U 01234567-89ab-4def-8123-456789abcdef $t/erofs.img $t/erofs-tree >/dev/null 2>&1
head -c 4096 $t/erofs.img >$c/erofs/mkfs-erofs
python3 -c 'import struct, sys
b = bytearray(open(sys.argv[1], "rb").read())
struct.pack_into("<II", b, 1028, 0, struct.unpack_from("<I", b, 1032)[0] & ~1)
open(sys.argv[2], "wb").write(b)' $c/erofs/mkfs-erofs $c/erofs/mkfs-erofs-no-csum
if [ -x build/mkdiskimage ]; then
	build/mkdiskimage build --root $t/erofs-tree --fs erofs --partition-table none \
		-o $t/ours.erofs >/dev/null
	head -c 8192 $t/ours.erofs >$c/erofs/ours
fi

# A 512 KiB GPT disk with a FAT12 ESP and an ext4 root, as qcow2 of 512-byte clusters (plain,
# zlib- and zstd-compressed), VDI and VHD (mkseeds.py), and raw for the probing harness.
cp $t/tiny.raw $t/disk.raw
truncate -s 0 $t/disk.raw
truncate -s 512K $t/disk.raw
sgdisk -n 1:40:439 -t 1:ef00 -c 1:ESP -n 2:448:959 -t 2:8304 -c 2:root $t/disk.raw >/dev/null
truncate -s 200K $t/fat.img
mkfs.fat -F 12 -n ESP -i 12345678 $t/fat.img >/dev/null
dd if=$t/fat.img of=$t/disk.raw bs=512 seek=40 conv=notrunc status=none
dd if=$t/ext.img of=$t/disk.raw bs=512 seek=448 conv=notrunc status=none
qemu-img convert -O qcow2 -o cluster_size=512 $t/disk.raw $c/qcow2/disk.qcow2
qemu-img convert -c -O qcow2 -o cluster_size=512 $t/disk.raw $c/qcow2/disk-zlib.qcow2
qemu-img convert -c -O qcow2 -o cluster_size=512,compression_type=zstd $t/disk.raw \
	$c/qcow2/disk-zstd.qcow2
qemu-img convert -O qcow2 -o cluster_size=4096 $t/tiny.raw $c/qcow2/tiny.qcow2
python3 fuzz/mkseeds.py $t/tiny.raw $t/disk.raw
# VHDX (fuzz_vhdx reads a page list: a VHDX is MiB of holes): qemu-img's with 1 MiB and its
# default 8 MiB blocks, ours (build/mkdiskimage when built), ours with a pending log.
mkdir -p $c/vhdx
qemu-img convert -O vhdx -o block_size=1M $t/disk.raw $t/q1.vhdx
qemu-img convert -O vhdx $t/disk.raw $t/q8.vhdx
python3 fuzz/vhdx-pages.py $t/q1.vhdx $c/vhdx/qemu-1m
python3 fuzz/vhdx-pages.py $t/q8.vhdx $c/vhdx/qemu-8m
if [ -x build/mkdiskimage ]; then
	build/mkdiskimage convert --no-progress --seed fuzz $t/disk.raw $t/m.vhdx
	python3 fuzz/vhdx-pages.py $t/m.vhdx $c/vhdx/mkdiskimage-1m
	python3 fuzz/vhdx-pages.py $t/m.vhdx $c/vhdx/pending-log --pending-log
fi
(cat $c/efivars/auth-boot.fd && printf '\377') >$c/efivars/auth-boot-checksum-recomputed.fd
# The probing harness: one of each format, and a bare FAT filesystem.
cp $c/part/gpt $c/image/tiny.raw
cp $c/qcow2/disk-zlib.qcow2 $c/vdi/tiny-4k.vdi $c/vhd/tiny-4k.vhd $c/vhd/tiny-fixed.vhd \
	$c/vmdk/tiny-stream.vmdk $c/image/
cp $c/fat/fat12 $c/image/fat12.raw

# What boots (fuzz_boot): an ESP with systemd-boot's files (up to its last non-zero byte) and a
# GRUB i386-pc core.img (LZMA-compressed kernel and modules).
mkdir -p $c/boot
mkfs.fat -C $t/esp.img 1024 >/dev/null
MTOOLS_SKIP_CHECK=1 mmd -i $t/esp.img ::/EFI ::/EFI/BOOT ::/EFI/systemd ::/loader ::/loader/entries
printf 'MZ #### LoaderInfo: systemd-boot 252 ####\0' >$t/bx
printf 'default nixos-generation-1.conf\ntimeout 5\n' >$t/lc
printf 'title NixOS\nlinux /EFI/nixos/k.efi\n' >$t/en
MTOOLS_SKIP_CHECK=1 mcopy -i $t/esp.img $t/bx ::/EFI/BOOT/BOOTX64.EFI
MTOOLS_SKIP_CHECK=1 mcopy -i $t/esp.img $t/lc ::/loader/loader.conf
MTOOLS_SKIP_CHECK=1 mcopy -i $t/esp.img $t/en ::/loader/entries/nixos-generation-1.conf
MTOOLS_SKIP_CHECK=1 mcopy -i $t/esp.img $t/en "::/loader/entries/a very long entry name.conf"
python3 -c 'import sys; d = open(sys.argv[1], "rb").read(); open(sys.argv[2], "wb").write(d[:len(d.rstrip(b"\0"))])' \
	$t/esp.img $c/boot/esp-fat12
grub-mkimage -O i386-pc -d /usr/lib/grub/i386-pc -p /boot/grubXYZ -o $c/boot/grub-core-i386-pc \
	biosdisk part_msdos
du -sh $c

# The tar reader (--root-tar): pax with xattrs, ACLs, a hard link, a symlink, a device, a
# FIFO; GNU and pax sparse members; a gzip-compressed one. 512-byte records keep them small.
mkdir -p $c/tar $t/tar/d
printf 'hello\n' >$t/tar/d/f
ln $t/tar/d/f $t/tar/d/hard
ln -s f $t/tar/d/sym
mkfifo $t/tar/fifo
[ "$(id -u)" -ne 0 ] || mknod $t/tar/null c 1 3
setfattr -n user.x -v 1 $t/tar/d/f 2>/dev/null || true
setfacl -m u:1000:r $t/tar/d/f 2>/dev/null || true
printf 'a' | dd of=$t/tar/sparse bs=1 seek=20000 status=none
tar --format=pax --xattrs --acls --numeric-owner -b1 -C $t/tar -cf $c/tar/pax.tar d fifo \
	$([ -e $t/tar/null ] && echo null)
tar --format=pax --sparse -b1 -C $t/tar -cf $c/tar/sparse-pax.tar sparse
tar --format=gnu --sparse -b1 -C $t/tar -cf $c/tar/sparse-gnu.tar sparse
tar --format=ustar -b1 -C $t/tar -cf - d | gzip -9n >$c/tar/ustar.tar.gz
