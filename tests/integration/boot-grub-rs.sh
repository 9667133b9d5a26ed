#!/usr/bin/env bash
# GRUB's Reed-Solomon parity on an embedded core.img (docs/formats/grub-embed.md): legacy and
# legacy+gpt images built with --bootloader grub carry core.img, its parity right after it and
# the parity length in the kernel header (0x10 of core.img's second sector), with a block list
# that loads both; Debian's grub-bios-setup, run on a copy of the image with the same core.img
# (root and a loop device: GRUB needs its module directory on a disk it can name), writes the
# same bytes; the image boots under SeaBIOS (TCG, `mkdiskimage boot-test`) through GRUB into the
# initramfs, and so does a copy whose core.img has whole sectors, a burst and some parity bytes
# overwritten (GRUB's startup code repairs them); the same damage with the parity length zeroed
# (no repair) does not boot. Partition tables stay clean and the MBR bytes 440..511 (and the GPT
# sectors) equal a build without GRUB.
# slow
. "$(dirname "$0")/../lib.sh"
require qemu-system-x86_64 sgdisk sfdisk gzip busybox python3
grub_bios_fixture

mkdir -p "$T/root/etc"
printf 'grub-rs-marker\n' >"$T/root/boot-marker"
printf 'image\n' >"$T/root/etc/hostname"
common=(--root "$T/root" --disk-size 64M --kernel "$kernel" --initrd "$T/initrd.gz"
	--cmdline "console=ttyS0 mdi.label=nixos panic=-1")
marker="MDI-RESULT ok grub-rs-marker"

# u16|u32|u64 FILE OFFSET: a little-endian field.
u16() { od -An -t u2 -j "$2" -N 2 "$1" | tr -d ' '; }
u32() { od -An -t u4 -j "$2" -N 4 "$1" | tr -d ' '; }
u64() { od -An -t u8 -j "$2" -N 8 "$1" | tr -d ' '; }

# flip FILE OFFSET LEN: invert LEN bytes in place (every byte changes).
flip()
{
	python3 -c '
import sys
path, off, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
with open(path, "r+b") as f:
    f.seek(off)
    b = f.read(n)
    f.seek(off)
    f.write(bytes(x ^ 0xff for x in b))
' "$1" "$2" "$3"
}

# boot IMG NAME: SeaBIOS + GRUB must reach the initramfs marker.
boot() { boot_expect "$1" "$2" bios "$marker"; }

# grub_bios_setup_oracle IMG CORE OUT: OUT is IMG with the MBR code and the embedding area
# [CORE_LBA, AREA_END) zeroed, then set up by grub-bios-setup with the raw core.img CORE.
grub_bios_setup_oracle()
{
	local img=$1 core=$2 out=$3 lba=$4 end=$5 loopdev
	mkdir -p "$T/gd"
	cp "$grub_dir/boot.img" "$T/gd/boot.img"
	cp "$core" "$T/gd/core.img"
	rm -f "$T/gd.ext4"
	truncate -s 4M "$T/gd.ext4"
	mke2fs -q -F -t ext4 -d "$T/gd" "$T/gd.ext4"
	loop_mount "$T/gd.ext4" "$T/gdm"
	loopdev=$(findmnt -n -o SOURCE "$T/gdm")
	cp --sparse=always "$img" "$out"
	dd if=/dev/zero of="$out" bs=440 count=1 conv=notrunc status=none
	dd if=/dev/zero of="$out" bs=512 seek="$lba" count=$((end - lba)) conv=notrunc status=none
	printf '(hd0) %s\n(hd1) %s\n' "$out" "$loopdev" >"$T/device.map"
	"$grub_dir/grub-bios-setup" --directory="$T/gdm" --skip-fs-probe \
		--device-map="$T/device.map" "$out" >"$T/setup.log" 2>&1 || {
		cat "$T/setup.log" >&2
		fail "grub-bios-setup failed on $out"
	}
	unmount "$T/gdm"
}

for layout in legacy legacy+gpt; do
	name=${layout/+/-}
	img=$T/$name.img
	build "${common[@]}" --bootloader grub --grub-dir "$grub_dir" --partition-table "$layout" \
		-o "$img"
	build "${common[@]}" --bootloader none --partition-table "$layout" -o "$T/$name-none.img"
	assert_tables_kept "$img" "$T/$name-none.img" "$layout" "$name"
	rm -f "$T/$name-none.img"
	if [ "$layout" = legacy ]; then
		area_end=2048
	else
		read -r bb_start bb_size < <(part_geometry "$img" 1)
		area_end=$((bb_start + bb_size))
	fi

	# the layout: core, then its parity, all loaded by the one block list entry
	lba=$(u64 "$img" $((0x5c)))
	core=$((lba * 512))
	nsec=$(($(u16 "$img" $((core + 0x1fc))) + 1))
	red=$(u32 "$img" $((core + 512 + 0x10)))
	head=$(u16 "$img" $((core + 512 + 0x14)))
	raw=$((nsec * 512 - red))
	[ "$red" -gt 0 ] || fail "$name: no Reed-Solomon parity recorded in core.img"
	want=$((2 * ((raw + 511) / 512)))
	[ "$want" -le 888 ] || want=888
	[ "$nsec" -eq "$want" ] || fail "$name: $nsec sectors embedded, grub-bios-setup takes $want"
	[ $((lba + nsec)) -le "$area_end" ] || fail "$name: core + parity pass the area end"
	[ "$(u64 "$img" $((core + 0x1f4)))" -eq $((lba + 1)) ] || fail "$name: block list start"
	log "$name: core.img $raw bytes + $red bytes of parity = $nsec sectors at LBA $lba" \
		"(unprotected head $head bytes)"

	# oracle: grub-bios-setup embeds the same core.img into the same disk, byte for byte
	if can_loop_mount && command -v mke2fs >/dev/null && [ -x "$grub_dir/grub-bios-setup" ]; then
		dd if="$img" of="$T/core.img" bs=512 skip="$lba" count="$nsec" status=none
		truncate -s "$raw" "$T/core.img"
		grub_bios_setup_oracle "$img" "$T/core.img" "$T/$name-setup.img" "$lba" "$area_end"
		cmp "$img" "$T/$name-setup.img" ||
			fail "$name: grub-bios-setup embeds other bytes than ours"
		log "$name: identical to grub-bios-setup's embedding of the same core.img"
		rm -f "$T/$name-setup.img"
	else
		skip_case "$name: grub-bios-setup comparison (needs root, loop devices, mke2fs and" \
			"$grub_dir/grub-bios-setup)"
	fi

	boot "$img" "$name"

	# damage inside the protected part: two whole sectors, a 300-byte burst near the end,
	# and parity bytes; GRUB's startup code must repair it in memory before decompressing
	prot=$((core + 512 + head))
	cp --sparse=always "$img" "$T/$name-bad.img"
	flip "$T/$name-bad.img" $((core + 8 * 512)) 512
	flip "$T/$name-bad.img" $((core + 100 * 512)) 512
	flip "$T/$name-bad.img" $((core + raw - 400)) 300
	flip "$T/$name-bad.img" $((prot + 7)) 1
	flip "$T/$name-bad.img" $((core + raw + 1000)) 64
	[ $((core + 8 * 512)) -ge "$prot" ] || fail "$name: damage below the protected part"
	cmp -s "$img" "$T/$name-bad.img" && fail "$name: the damage changed nothing"
	boot "$T/$name-bad.img" "$name-damaged"

	# the controls: with the parity length zeroed (GRUB then skips the repair) the intact
	# core boots and the damaged one does not (it crashes; QEMU ends on the reset)
	if [ "$layout" = legacy ]; then
		for v in "" -bad; do
			cp --sparse=always "$T/$name$v.img" "$T/$name$v-norepair.img"
			printf '\0\0\0\0' | dd of="$T/$name$v-norepair.img" bs=1 conv=notrunc \
				seek=$((core + 512 + 0x10)) status=none
		done
		boot "$T/$name-norepair.img" "$name-no-parity-length"
		if "$MKDISKIMAGE" boot-test "$T/$name-bad-norepair.img" --firmware bios \
			--expect-serial "$marker" --timeout 60 >"$T/norepair.out" 2>&1; then
			fail "$name: the damaged core booted without its parity: the damage proves nothing"
		fi
		log "$name: without the parity length the same damage does not boot:" \
			"$(tr '\n' ' ' <"$T/norepair.out")"
		rm -f "$T/$name-norepair.img" "$T/$name-bad-norepair.img"
	fi
	rm -f "$T/$name-bad.img"
done
log "ok"
