#!/usr/bin/env bash
# Growth (issue #2 §3 resize_inode): enlarge the disk by 512 MiB, grow the root partition to
# the end (sfdisk -N; for GPT `sgdisk -e` first moves the backup header to the new end), then
# resize2fs the filesystem — offline on the extracted partition, and (as root) online through a
# loop mount, which is what NixOS autoResize/growpart rely on — and e2fsck -fn must be clean.
. "$(dirname "$0")/../lib.sh"
require sfdisk sgdisk resize2fs e2fsck dumpe2fs python3

mkdir -p "$T/src/etc" "$T/src/data"
printf 'nixos\n' >"$T/src/etc/hostname"
for i in $(seq 1 50); do head -c 100000 /dev/urandom >"$T/src/data/f$i"; done

grow()
{
	local layout=$1 n=$2 img=$T/$1.img before after start size
	build --root "$T/src" --partition-table "$layout" --additional-space 16M -o "$img"
	extract_partition "$img" "$n" "$T/before.ext4"
	before=$(dumpe2fs_field "$T/before.ext4" 'Block count')
	[ "$(dumpe2fs_field "$T/before.ext4" 'Reserved GDT blocks')" -gt 0 ] ||
		fail "$layout: no reserved GDT blocks: the filesystem cannot grow online"
	truncate -s +512M "$img"
	if [ "$layout" != legacy ]; then
		sgdisk -e "$img" >/dev/null || fail "$layout: sgdisk -e failed"
	fi
	echo ', +' | sfdisk -q --no-reread --no-tell-kernel -N "$n" "$img" ||
		fail "$layout: sfdisk could not grow partition $n"
	if [ "$layout" != legacy ]; then
		out=$(sgdisk -v "$img" 2>&1) || true
		grep -q 'No problems found' <<<"$out" || { echo "$out" >&2; fail "$layout: sgdisk -v"; }
	fi
	read -r start size < <(part_geometry "$img" "$n")
	[ $((size * 512)) -gt $((512 * MIB)) ] || fail "$layout: partition did not grow ($size)"

	# Offline.
	extract_partition "$img" "$n" "$T/grown.ext4"
	resize2fs "$T/grown.ext4" >"$T/resize.log" 2>&1 || { cat "$T/resize.log" >&2; fail "$layout: resize2fs"; }
	e2fsck_clean "$T/grown.ext4"
	after=$(dumpe2fs_field "$T/grown.ext4" 'Block count')
	[ $((after * 4096)) -gt $((before * 4096 + 500 * MIB)) ] ||
		fail "$layout: grew from $before to only $after blocks"
	log "$layout: offline $before -> $after blocks"

	# Online, through the kernel's resize (uses the reserved GDT blocks).
	# Online resizing needs CAP_SYS_RESOURCE (containers often drop it).
	if can_loop_mount && [ $((0x$(sed -n 's/^CapEff:\t//p' /proc/self/status) >> 24 & 1)) -eq 1 ]; then
		local dev
		dev=$(losetup -f --show -o $((start * 512)) --sizelimit $((size * 512)) "$img") ||
			fail "losetup failed"
		_LOOPS+=("$dev")
		mkdir -p "$T/mnt"
		mount -t ext4 "$dev" "$T/mnt" || fail "$layout: mount $dev failed"
		_MOUNTS+=("$T/mnt")
		resize2fs "$dev" >"$T/resize.log" 2>&1 || { cat "$T/resize.log" >&2; fail "$layout: online resize2fs"; }
		head -c $((300 * MIB)) /dev/zero >"$T/mnt/fill" || fail "$layout: cannot use the grown space"
		cmp -s "$T/mnt/data/f7" "$T/src/data/f7" || fail "$layout: data changed by the resize"
		unmount "$T/mnt"
		e2fsck_clean "$dev"
		log "$layout: online resize to $(dumpe2fs_field "$dev" 'Block count') blocks"
		losetup -d "$dev"
	else
		skip_case "$layout: online resize (needs root, loop devices and CAP_SYS_RESOURCE)"
	fi
}

grow legacy 1
grow efi 2
grow hybrid 3
