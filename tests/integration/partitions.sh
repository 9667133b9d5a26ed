#!/usr/bin/env bash
# A disk given as a "partitions" list in the JSON spec (issue #12): ESP (64M, vfat, from a
# tree), swap (32M, label swap) and an automatically sized ext4 root with additionalSpace 64M,
# on "partitionTableType": "gpt" and on "mbr". Oracles: sgdisk -v and sfdisk (GPT types ESP,
# Linux swap, the x86-64 root of the Discoverable Partitions Specification; MBR types ef, 82,
# 83; 1 MiB-aligned, in order, not overlapping, the sizes asked for), blkid -p per partition
# (vfat ESP, swap labelled swap, ext4 nixos), fsck.fat -n and mcopy (the ESP holds the tree),
# swaplabel, e2fsck -fn, and dumpe2fs (the root has at least 64 MiB available to users: the
# additionalSpace guarantee, computed as tests/integration/autosize.sh does). Two builds are
# identical. Boots: the GPT list with systemd-boot under OVMF, the MBR list with GRUB (core.img
# in the gap before partition 1 at 1 MiB) under SeaBIOS, each into a Debian cloud kernel and a
# busybox initramfs that mounts the root by label. Bad lists fail with one line and no output.
. "$(dirname "$0")/../lib.sh"
require sfdisk sgdisk blkid fsck.fat mcopy mtype swaplabel e2fsck debugfs dumpe2fs python3
TYPE_SWAP=0657FD6D-A4AB-43C4-84E5-0933C84B4F4F
SDBOOT=/usr/lib/systemd/boot/efi/systemd-bootx64.efi

S=$T/spec # the spec and the trees it names, relative to it
mkdir -p "$S/root/etc" "$S/esp/EFI/tools" "$S/esp/notes"
printf 'partitions-marker\n' >"$S/root/mkdiskimage-marker"
printf 'partitions\n' >"$S/root/etc/hostname"
printf 'MZ a tool\n' >"$S/esp/EFI/tools/tool.efi"
printf 'from the esp tree\n' >"$S/esp/notes/readme.txt"

# spec TABLE [EXTRA JSON MEMBERS]: the three-partition spec as $S/TABLE.json.
spec()
{
	cat >"$S/$1.json" <<EOF
{
  "root": "root",
  "partitionTableType": "$1",
  "partitions": [
    {"type": "esp", "size": "64M", "fs": "vfat", "contents": "esp/"},
    {"type": "swap", "size": "32M", "fs": "swap", "label": "swap"},
    {"type": "root", "fs": "ext4", "size": "auto", "additionalSpace": "64M"}
  ]${2:+,
  $2}
}
EOF
}

# describe IMG: "label L", then "N START SIZE TYPE NAME" per partition (NAME "-" on MBR), and
# checks: 1 MiB-aligned starts, in number order, no overlap, within the disk.
describe()
{
	sfdisk --json "$1" | python3 -c '
import json, sys
pt = json.load(sys.stdin)["partitiontable"]
total = int(sys.argv[1]) // 512
gpt = pt["label"] == "gpt"
last = pt["lastlba"] if gpt else total - 1
print("label", pt["label"])
end = 0
for p in pt["partitions"]:
    n = int(p["node"][len(pt["device"]):])
    s, z = p["start"], p["size"]
    assert s % 2048 == 0, "partition %d starts at %d: not 1 MiB-aligned" % (n, s)
    assert s >= max(end, 2048), "partition %d at %d overlaps or precedes the one before" % (n, s)
    assert s + z - 1 <= last, "partition %d ends past the last usable sector" % n
    end = s + z
    print(n, s, z, p["type"].upper(), p.get("name", "-") if gpt else "-")
' "$(stat -c %s "$1")"
}

# check_disk IMG TABLE: every partition of the three-partition disk, by its oracles.
check_disk()
{
	local img=$1 table=$2 out n t1 t2 t3 got
	if [ "$table" = gpt ]; then
		out=$(sgdisk -v "$img" 2>&1) || true
		grep -q 'No problems found' <<<"$out" || { echo "$out" >&2; fail "$table: sgdisk -v"; }
		t1=$TYPE_ESP t2=$TYPE_SWAP t3=$TYPE_ROOT_X86_64
	else
		sfdisk --dump "$img" >/dev/null || fail "$table: sfdisk cannot read the table"
		t1=EF t2=82 t3=83
	fi
	describe "$img" >"$T/got" || fail "$table: partition table: $(cat "$T/got")"
	cat "$T/got" >&2
	[ "$(wc -l <"$T/got")" -eq 4 ] || fail "$table: want 3 partitions"
	[ "$(sed -n 1p "$T/got")" = "label $([ "$table" = gpt ] && echo gpt || echo dos)" ] ||
		fail "$table: label"
	read -r n _ size type _ < <(sed -n 2p "$T/got")
	[ "$n $size $type" = "1 131072 $t1" ] || fail "$table: partition 1 is not a 64 MiB ESP"
	read -r n _ size type name < <(sed -n 3p "$T/got")
	[ "$n $size $type" = "2 65536 $t2" ] || fail "$table: partition 2 is not 32 MiB swap"
	[ "$table" != gpt ] || [ "$name" = swap ] || fail "$table: partition 2's GPT name is '$name'"
	read -r n _ _ type _ < <(sed -n 4p "$T/got")
	[ "$n $type" = "3 $t3" ] || fail "$table: partition 3 is not the root"

	extract_partition "$img" 1 "$T/p1"
	fsck.fat -n "$T/p1" >"$T/fsck.out" 2>&1 || { cat "$T/fsck.out" >&2; fail "$table: fsck.fat -n"; }
	out=$(blkid -p -o export "$T/p1")
	grep -qx 'TYPE=vfat' <<<"$out" || fail "$table: partition 1 is not vfat: $out"
	grep -qx 'LABEL=ESP' <<<"$out" || fail "$table: the ESP's label is not ESP: $out"
	rm -rf "$T/esp.out" && mkdir "$T/esp.out"
	MTOOLS_SKIP_CHECK=1 mcopy -s -n -i "$T/p1" ::/ "$T/esp.out/" ||
		fail "$table: mcopy from the ESP"
	diff -r "$S/esp" "$T/esp.out" >&2 || fail "$table: the ESP does not hold esp/"

	extract_partition "$img" 2 "$T/p2"
	out=$(blkid -p -o export "$T/p2")
	grep -qx 'TYPE=swap' <<<"$out" || fail "$table: partition 2 is not swap: $out"
	grep -qx 'LABEL=swap' <<<"$out" || fail "$table: swap label: $out"
	out=$(swaplabel "$T/p2") || fail "$table: swaplabel cannot read partition 2"
	grep -qx 'LABEL: swap' <<<"$out" || fail "$table: swaplabel: $out"
	grep -q '^UUID: *[0-9a-f-]\{36\}$' <<<"$out" || fail "$table: swaplabel UUID: $out"

	extract_partition "$img" 3 "$T/p3"
	e2fsck_clean "$T/p3"
	out=$(blkid -p -o export "$T/p3")
	grep -qx 'TYPE=ext4' <<<"$out" || fail "$table: partition 3 is not ext4: $out"
	grep -qx 'LABEL=nixos' <<<"$out" || fail "$table: root label: $out"
	debugfs -R "cat /mkdiskimage-marker" "$T/p3" 2>/dev/null | grep -qx partitions-marker ||
		fail "$table: the root does not hold root/"
	got=$(user_free "$T/p3")
	[ "$got" -ge $((64 * MIB)) ] || fail "$table: the root has $got bytes free, less than 64M"
	log "$table: root has $((got / MIB)) MiB available (additionalSpace 64M)"
	rm -f "$T/p1" "$T/p2" "$T/p3"
}

for table in gpt mbr; do
	log "partitionTableType $table with a partitions list"
	spec "$table"
	build --spec "$S/$table.json" -o "$T/$table.img"
	[ $(($(stat -c %s "$T/$table.img") % MIB)) -eq 0 ] || fail "$table: size not whole MiB"
	check_disk "$T/$table.img" "$table"
	assert_reproducible --spec "$S/$table.json"
done

log "bad lists: one line, no output"
cat >"$S/bad-preset.json" <<'EOF'
{"partitionTableType": "efi", "partitions": [{"type": "root", "size": "auto"}]}
EOF
expect_fail "partitions" --spec "$S/bad-preset.json"
grep -q "efi" "$T/fail.err" || fail "the error does not name partitionTableType efi: $(cat "$T/fail.err")"
cat >"$S/bad-rest.json" <<'EOF'
{"partitionTableType": "gpt", "diskSize": 256,
 "partitions": [{"type": "linux", "fs": "ext4", "size": "rest"},
                {"type": "root", "fs": "ext4", "size": "rest"}]}
EOF
expect_fail "rest" --spec "$S/bad-rest.json"
cat >"$S/bad-key.json" <<'EOF'
{"partitionTableType": "gpt",
 "partitions": [{"type": "esp", "size": "64M"}, {"type": "swap", "size": "32M", "colour": "blue"},
                {"type": "root", "size": "auto"}]}
EOF
expect_fail 'partitions[1]' --spec "$S/bad-key.json"
grep -q 'colour' "$T/fail.err" || fail "the error does not name the key: $(cat "$T/fail.err")"

# Boots: one per firmware, with the same kernel and initramfs (tests/boot/make-initramfs.sh).
require qemu-system-x86_64
kdir=$("$TESTS/boot/fetch-kernel.sh") || skip "no Debian cloud kernel (tests/boot/fetch-kernel.sh)"
kernel=$(ls "$kdir"/boot/vmlinuz-* | head -n1)
rc=0
"$TESTS/boot/make-initramfs.sh" "$kdir" "$T/initrd" || rc=$?
[ "$rc" -ne 77 ] || skip "needs busybox-static"
[ "$rc" -eq 0 ] || fail "make-initramfs.sh failed"
kargs=(--kernel "$kernel" --initrd "$T/initrd" --cmdline "console=ttyS0 mdi.root=LABEL=nixos")

log "GPT list + systemd-boot under OVMF"
if [ -f "$SDBOOT" ] && [ -f /usr/share/OVMF/OVMF_CODE_4M.fd ]; then
	build --spec "$S/gpt.json" "${kargs[@]}" --bootloader systemd-boot --systemd-boot-efi "$SDBOOT" \
		-o "$T/gpt-boot.img"
	sgdisk -v "$T/gpt-boot.img" | grep -q 'No problems found' || fail "gpt boot: sgdisk -v"
	extract_partition "$T/gpt-boot.img" 1 "$T/p1"
	fsck.fat -n "$T/p1" >/dev/null || fail "gpt boot: fsck.fat -n"
	MTOOLS_SKIP_CHECK=1 mtype -i "$T/p1" ::/EFI/BOOT/BOOTX64.EFI | cmp - "$SDBOOT" ||
		fail "gpt boot: BOOTX64.EFI is not systemd-boot"
	rm -f "$T/p1"
	boot_expect "$T/gpt-boot.img" gpt uefi "MKDISKIMAGE-BOOT-OK partitions-marker"
else
	skip_case "GPT list boot under OVMF (needs systemd-boot-efi and ovmf)"
fi

log "MBR list + GRUB under SeaBIOS"
grub_dir=${GRUB_DIR:-/usr/lib/grub/i386-pc}
if [ -f "$grub_dir/boot.img" ]; then
	# a fixed size: GRUB copies the kernel and initrd into the root, which auto sizing would
	# follow, and the tables are compared with the build without GRUB
	build --spec "$S/mbr.json" "${kargs[@]}" --bootloader grub --grub-dir "$grub_dir" \
		--disk-size 512 -o "$T/mbr-boot.img"
	build --spec "$S/mbr.json" "${kargs[@]}" --bootloader none --disk-size 512 \
		-o "$T/mbr-none.img"
	assert_tables_kept "$T/mbr-boot.img" "$T/mbr-none.img" legacy mbr
	core_lba=$(od -An -t u8 -j $((0x5c)) -N 8 "$T/mbr-boot.img" | tr -d ' ')
	[ "$core_lba" = 1 ] || fail "mbr boot: core.img at LBA $core_lba, not in the gap at 1"
	read -r first _ < <(part_geometry "$T/mbr-boot.img" 1)
	[ "$first" -ge 2048 ] || fail "mbr boot: partition 1 at $first leaves no MBR gap"
	extract_partition "$T/mbr-boot.img" 3 "$T/p3"
	e2fsck_clean "$T/p3"
	rm -f "$T/p3" "$T/mbr-none.img"
	boot_expect "$T/mbr-boot.img" mbr bios "MKDISKIMAGE-BOOT-OK partitions-marker"
else
	skip_case "MBR list boot under SeaBIOS (needs grub-pc-bin)"
fi
log "ok"
