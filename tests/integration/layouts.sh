#!/usr/bin/env bash
# Every partition layout (issue #2 §2), judged by util-linux and gdisk: start sectors, sizes,
# type GUIDs and the root PARTUUID exactly as make-disk-image lays them out; `sgdisk -v` clean
# on GPT; the root filesystem `e2fsck -fn` clean; `blkid -p` reports ext4, the label and UUID.
# Sizes: a fixed 1024 MiB disk, bootSize 256 MiB (the default): 1 MiB = LBA 2048.
# quick
. "$(dirname "$0")/../lib.sh"
require sfdisk sgdisk e2fsck blkid python3

mkdir -p "$T/src/etc"
printf 'nixos\n' >"$T/src/etc/hostname"

# describe IMG: one line per partition, "N START SIZE TYPE UUID", where the last partition's
# SIZE is printed as "END" when it runs to the end of the disk (to the last usable LBA for
# GPT, the last sector for MBR, rounded down to at most 1 MiB less for alignment), and every
# UUID but root's (given as $2) is printed as "uuid" after checking they are distinct.
describe()
{
	sfdisk --json "$1" | python3 -c '
import json, sys
pt = json.load(sys.stdin)["partitiontable"]
dev, root = pt["device"], sys.argv[1].upper()
total = int(sys.argv[2]) // 512
gpt = pt["label"] == "gpt"
last = pt["lastlba"] if gpt else total - 1
print("label", pt["label"])
uuids = set()
parts = pt["partitions"]
for i, p in enumerate(parts):
    n = int(p["node"][len(dev):])
    start, size = p["start"], p["size"]
    end = start + size - 1
    if i == len(parts) - 1 and last - 2047 <= end <= last:
        size = "END"
    u = p.get("uuid", "-").upper()
    if gpt:
        assert u not in uuids, "duplicate partition GUID " + u
        uuids.add(u)
        if u != root:
            u = "uuid"
    print(n, start, size, p["type"].upper(), u)
if gpt:
    disk = pt["id"].upper()
    assert disk not in uuids and disk.count("-") == 4, "bad disk GUID " + disk
' "$2" "$(stat -c %s "$1")"
}

# check_root_fs IMG N UUID: partition N (0: the whole image) is a clean ext4 filling it.
check_root_fs()
{
	local img=$1 n=$2 uuid=$3 out part_bytes blocks bsize
	extract_partition "$img" "$n" "$T/root.ext4"
	e2fsck_clean "$T/root.ext4"
	out=$(blkid -p -o export "$T/root.ext4")
	grep -qx 'TYPE=ext4' <<<"$out" || fail "blkid: not ext4: $out"
	grep -qx 'LABEL=nixos' <<<"$out" || fail "blkid: label is not nixos: $out"
	grep -qix "UUID=$uuid" <<<"$out" || fail "blkid: UUID is not $uuid: $out"
	part_bytes=$(stat -c %s "$T/root.ext4")
	blocks=$(dumpe2fs_field "$T/root.ext4" 'Block count')
	bsize=$(dumpe2fs_field "$T/root.ext4" 'Block size')
	[ "$bsize" -eq 4096 ] || fail "block size $bsize, expected 4096"
	[ $((blocks * bsize)) -le "$part_bytes" ] || fail "filesystem larger than its partition"
	[ $((blocks * bsize)) -gt $((part_bytes - bsize)) ] ||
		fail "filesystem ($blocks blocks) does not fill its partition ($part_bytes bytes)"
}

gpt_verify()
{
	local out
	out=$(sgdisk -v "$1" 2>&1) || true
	grep -q 'No problems found' <<<"$out" || { echo "$out" >&2; fail "sgdisk -v: $1"; }
}

R=$DEFAULT_ROOT_GPUID
layout()
{
	local name=$1
	shift
	build --root "$T/src" --partition-table "$name" --disk-size 1024 "$@" -o "$T/$name.img"
	[ "$(stat -c %s "$T/$name.img")" -eq $((1024 * MIB)) ] || fail "$name: disk is not 1024 MiB"
	log "layout $name"
}

expect_table()
{
	local img=$1 want=$2 root=${3:-$R}
	describe "$img" "$root" >"$T/got" || fail "$img: sfdisk --json failed"
	diff -u <(printf '%s\n' "$want") "$T/got" || fail "$img: partition table differs"
}

# none: the bare filesystem.
layout none
sfdisk --json "$T/none.img" >/dev/null 2>&1 && fail "none: has a partition table"
check_root_fs "$T/none.img" 0 "$R"

# legacy: MBR, one Linux partition from 1 MiB to the end.
layout legacy
expect_table "$T/legacy.img" "label dos
1 2048 END 83 -"
check_root_fs "$T/legacy.img" 1 "$R"

# legacy+gpt: BIOS boot 1..2 MiB, root from 2 MiB.
layout legacy+gpt
expect_table "$T/legacy+gpt.img" "label gpt
1 2048 2048 $TYPE_BIOS_BOOT uuid
2 4096 END $TYPE_ROOT_X86_64 $R"
gpt_verify "$T/legacy+gpt.img"
check_root_fs "$T/legacy+gpt.img" 2 "$R"

# efi: ESP 8 MiB..bootSize, root from bootSize.
layout efi
expect_table "$T/efi.img" "label gpt
1 16384 507904 $TYPE_ESP uuid
2 524288 END $TYPE_ROOT_X86_64 $R"
gpt_verify "$T/efi.img"
check_root_fs "$T/efi.img" 2 "$R"

# efixbootldr: ESP 8..100 MiB, XBOOTLDR 100 MiB..bootSize, root after.
layout efixbootldr
expect_table "$T/efixbootldr.img" "label gpt
1 16384 188416 $TYPE_ESP uuid
2 204800 319488 $TYPE_XBOOTLDR uuid
3 524288 END $TYPE_ROOT_X86_64 $R"
gpt_verify "$T/efixbootldr.img"
check_root_fs "$T/efixbootldr.img" 3 "$R"

# hybrid: ESP (1) 8 MiB..bootSize, BIOS boot (2) inside the first MiB after the GPT entries,
# root (3) from bootSize. nixpkgs' "hybrid" means BIOS + UEFI boot: parted's `mklabel gpt`, so
# the MBR is the ordinary protective one (one 0xEE entry), not a hybrid MBR.
layout hybrid
describe "$T/hybrid.img" "$R" >"$T/got"
sed -n 2p "$T/got" | grep -qx "1 16384 507904 $TYPE_ESP uuid" || fail "hybrid: ESP: $(cat "$T/got")"
read -r n start size type _ < <(sed -n 3p "$T/got")
[ "$n" = 2 ] && [ "$type" = "$TYPE_BIOS_BOOT" ] && [ "$start" -ge 34 ] &&
	[ $((start + size)) -le 2048 ] || fail "hybrid: BIOS boot partition: $(cat "$T/got")"
sed -n 4p "$T/got" | grep -qx "3 524288 END $TYPE_ROOT_X86_64 $R" || fail "hybrid: root: $(cat "$T/got")"
[ "$(wc -l <"$T/got")" -eq 4 ] || fail "hybrid: $(cat "$T/got")"
gpt_verify "$T/hybrid.img"
python3 - "$T/hybrid.img" <<'PY' || fail "hybrid: no protective MBR"
import struct, sys
mbr = open(sys.argv[1], 'rb').read(512)
assert mbr[510:512] == b'\x55\xaa', 'no MBR signature'
types = [mbr[0x1be + 16 * i + 4] for i in range(4)]
assert types == [0xee, 0, 0, 0], 'MBR types %r' % types
assert struct.unpack_from('<I', mbr, 0x1be + 8)[0] == 1, 'protective entry does not start at LBA 1'
PY
check_root_fs "$T/hybrid.img" 3 "$R"

# --arch aarch64: the DPS root type for arm64.
layout efi --arch aarch64
expect_table "$T/efi.img" "label gpt
1 16384 507904 $TYPE_ESP uuid
2 524288 END $TYPE_ROOT_AARCH64 $R"

# --root-gpuid sets the PARTUUID and, by default, the filesystem UUID; --root-fsuid overrides.
G=0B2C8A4E-1111-4222-8333-444455556666
F=9d7c3f10-aaaa-4bbb-8ccc-dddddddddddd
layout efi --root-gpuid "$G"
expect_table "$T/efi.img" "label gpt
1 16384 507904 $TYPE_ESP uuid
2 524288 END $TYPE_ROOT_X86_64 $G" "$G"
check_root_fs "$T/efi.img" 2 "$G"
layout efi --root-gpuid "$G" --root-fsuid "$F" --label otherlabel
extract_partition "$T/efi.img" 2 "$T/root.ext4"
blkid -p -o export "$T/root.ext4" | grep -qix "UUID=$F" || fail "--root-fsuid not used"
blkid -p -o export "$T/root.ext4" | grep -qx "LABEL=otherlabel" || fail "--label not used"

# Automatic size, every GPT layout clean; --json prints one JSON document.
for l in legacy legacy+gpt efi efixbootldr hybrid; do
	build --root "$T/src" --partition-table "$l" --additional-space 8M --json -o "$T/auto.img"
	python3 -c 'import json, sys; json.load(open(sys.argv[1]))' "$T/build.out" ||
		fail "$l: --json output is not JSON: $(head -c 300 "$T/build.out")"
	[ $(($(stat -c %s "$T/auto.img") % MIB)) -eq 0 ] || fail "$l: auto size not whole MiB"
	[ "$l" = legacy ] || gpt_verify "$T/auto.img"
done
assert_reproducible --root "$T/src" --partition-table hybrid --disk-size 1024
