#!/usr/bin/env bash
# More "partitions" lists (issue #12), the cases partitions.sh does not cover; no boots.
#  a. fs raw: the partition holds the host file's bytes, then zeros (dd + cmp); "size": "auto"
#     is the file's size rounded up to 1 MiB; a file larger than the partition is refused,
#     naming the file and the size it needs (and that size then builds).
#  b. fs none: an empty partition (all zero) and a GPT BIOS boot partition (its type GUID).
#  c. a data ext4 partition (home, from a tree, auto + additionalSpace, fsLabel, fsUuid):
#     e2fsck -fn, debugfs (and, as root, a loop mount) hold the tree, blkid label and UUID,
#     the DPS home type GUID, at least additionalSpace free, a UUID other than the root's.
#  d. "rest" with a fixed diskSize: the middle partition takes what the others leave, the root
#     follows it; with maxSize it stops there (sfdisk for the sizes, sgdisk -v).
#  e. GPT attribute bits as sfdisk --dump names them (and as bits in the entry array), an
#     explicit PARTUUID and type GUIDs; --grow-on-boot (bit 59 on the root, refused on MBR);
#     --root-gpuid is the list root's PARTUUID and UUID; MBR
#     type 0x0c and the bootable flag (status byte 0x80).
#  f. two builds from different directories are identical; --seed changes the derived
#     identifiers (disk GUID, PARTUUIDs but the root's rootGPUID) and nothing else: the tables
#     but for those, raw/none partitions byte for byte, ext4 files (debugfs), types, labels,
#     sizes; an explicit fsUuid stays.
#  g. bad lists: one line naming the problem, non-zero, no output; diskSize too small names the
#     MiB needed, and that many MiB builds while one less does not; what would otherwise be
#     dropped silently (GPT-only keys on MBR, a PARTUUID twice, contents for fs none, minSize
#     on a fixed size, maxSize off "rest", contents over a rest's maxSize) is refused.
. "$(dirname "$0")/../lib.sh"
require sfdisk sgdisk blkid fsck.fat e2fsck debugfs dumpe2fs python3 cmp
TYPE_HOME=933AC7E1-2EB4-4F13-B844-0E14E2AEF915
TYPE_LINUX=0FC63DAF-8483-4772-8E79-3D69D8477DE4
HOME_UUID=6a1f2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d

S=$T/spec # the spec and the files it names, relative to it
mkdir -p "$S/root/etc" "$S/home/alice/docs" "$S/home/bob"
printf 'partitions-more\n' >"$S/root/etc/hostname"
printf 'alice notes\n' >"$S/home/alice/docs/notes.txt"
seq 1 20000 >"$S/home/bob/numbers.txt"
ln -s ../alice/docs/notes.txt "$S/home/bob/link"
# 5000000 and 3000000 bytes of decimal numbers (none of them zero)
python3 -c 'import sys; sys.stdout.write("".join("%d\n" % i for i in range(1, 10**6))[:5000000])' \
	>"$S/big.bin"
head -c 3000000 "$S/big.bin" >"$S/blob.bin"
BLOB=3000000

# geom IMG N: "START SECTORS" of partition N (sfdisk --dump; lib.sh's part_geometry starts a
# python per call, which costs a second each on a busy machine).
geom()
{
	local g
	g=$(sfdisk --dump "$1" | sed -n "s|^$1$2 : start= *\([0-9]*\), size= *\([0-9]*\),.*|\1 \2|p")
	[ -n "$g" ] || fail "$1: no partition $2"
	echo "$g"
}

# extract IMG N OUT: partition N as a file (extract_partition, with geom).
extract()
{
	local start size
	read -r start size < <(geom "$1" "$2")
	rm -f "$3"
	dd if="$1" of="$3" bs=1M iflag=skip_bytes,count_bytes skip=$((start * 512)) \
		count=$((size * 512)) conv=sparse status=none
	truncate -s $((size * 512)) "$3"
}

# dump_line IMG N: partition N's line of sfdisk --dump.
dump_line() { sfdisk --dump "$1" | grep "^$1$2 :" || fail "$1: sfdisk lists no partition $2"; }

# gpt_clean IMG: sgdisk -v finds no problems.
gpt_clean()
{
	local out
	out=$(sgdisk -v "$1" 2>&1) || true
	grep -q 'No problems found' <<<"$out" || { echo "$out" >&2; fail "$1: sgdisk -v"; }
}

# zero_from FILE OFFSET: every byte of FILE from OFFSET on is zero.
zero_from()
{
	local size
	size=$(stat -c %s "$1")
	[ "$size" -gt "$2" ] || return 0
	tail -c +$(($2 + 1)) "$1" | cmp -s -n $((size - $2)) - /dev/zero ||
		fail "$1: not zero after byte $2"
}

# blkid_field FILE KEY: one value of blkid -p.
blkid_field() { blkid -p -o export "$1" | sed -n "s/^$2=//p"; }

cat >"$S/list.json" <<EOF
{
  "root": "root",
  "partitionTableType": "gpt",
  "partitions": [
    {"type": "linux", "fs": "raw", "contents": "blob.bin", "size": "4M", "label": "blob"},
    {"type": "linux", "fs": "raw", "contents": "blob.bin", "size": "auto"},
    {"type": "linux", "fs": "none", "size": "3M"},
    {"type": "bios-boot", "size": "1M"},
    {"type": "home", "fs": "ext4", "contents": "home/", "size": "auto",
     "additionalSpace": "16M", "fsLabel": "home", "fsUuid": "$HOME_UUID"},
    {"type": "root", "fs": "ext4", "size": "auto", "additionalSpace": "8M"}
  ]
}
EOF

log "a/b/c: raw, none, bios-boot and a home partition on GPT"
build --spec "$S/list.json" -o "$T/list.img"
gpt_clean "$T/list.img"
read -r _ n < <(geom "$T/list.img" 1)
[ "$n" -eq 8192 ] || fail "raw 4M: partition 1 has $n sectors"
read -r _ n < <(geom "$T/list.img" 2)
[ "$n" -eq $(((BLOB + MIB - 1) / MIB * 2048)) ] ||
	fail "raw auto: partition 2 has $n sectors, not $BLOB bytes rounded up to 1 MiB"
read -r _ n < <(geom "$T/list.img" 3)
[ "$n" -eq 6144 ] || fail "none 3M: partition 3 has $n sectors"
read -r _ n < <(geom "$T/list.img" 4)
[ "$n" -eq 2048 ] || fail "bios-boot 1M: partition 4 has $n sectors"
dump_line "$T/list.img" 1 | grep -q "type=$TYPE_LINUX.*name=\"blob\"" ||
	fail "partition 1: $(dump_line "$T/list.img" 1)"
dump_line "$T/list.img" 4 | grep -q "type=$TYPE_BIOS_BOOT" ||
	fail "partition 4 is not BIOS boot: $(dump_line "$T/list.img" 4)"
dump_line "$T/list.img" 5 | grep -q "type=$TYPE_HOME" ||
	fail "partition 5 is not home: $(dump_line "$T/list.img" 5)"
dump_line "$T/list.img" 6 | grep -q "type=$TYPE_ROOT_X86_64" ||
	fail "partition 6 is not the root: $(dump_line "$T/list.img" 6)"

for i in 1 2; do
	extract "$T/list.img" $i "$T/p$i"
	cmp -n $BLOB "$T/p$i" "$S/blob.bin" || fail "raw partition $i does not hold blob.bin"
	zero_from "$T/p$i" $BLOB
done
for i in 3 4; do
	extract "$T/list.img" $i "$T/p$i"
	zero_from "$T/p$i" 0
	[ -z "$(blkid -p -o export "$T/p$i" 2>/dev/null)" ] || fail "partition $i: blkid finds something"
done

extract "$T/list.img" 5 "$T/p5"
extract "$T/list.img" 6 "$T/p6"
e2fsck_clean "$T/p5"
e2fsck_clean "$T/p6"
[ "$(blkid_field "$T/p5" TYPE)" = ext4 ] || fail "home is not ext4"
[ "$(blkid_field "$T/p5" LABEL)" = home ] || fail "home's label: $(blkid_field "$T/p5" LABEL)"
[ "$(blkid_field "$T/p5" UUID)" = "$HOME_UUID" ] || fail "home's fsUuid: $(blkid_field "$T/p5" UUID)"
[ "$(blkid_field "$T/p6" LABEL)" = nixos ] || fail "root's label: $(blkid_field "$T/p6" LABEL)"
[ "$(blkid_field "$T/p5" UUID)" != "$(blkid_field "$T/p6" UUID)" ] ||
	fail "home and root share the filesystem UUID"
compare_tree "$S/home" "$T/p5"
debugfs -R "cat /alice/docs/notes.txt" "$T/p5" 2>/dev/null | cmp - "$S/home/alice/docs/notes.txt" ||
	fail "debugfs: home's notes.txt"
debugfs -R "cat /etc/hostname" "$T/p6" 2>/dev/null | grep -qx partitions-more ||
	fail "the root does not hold root/"
! debugfs -R "stat /alice" "$T/p6" 2>/dev/null | grep -q Inode: || fail "home's files in the root"
got=$(user_free "$T/p5")
[ "$got" -ge $((16 * MIB)) ] || fail "home has $got bytes free, less than additionalSpace 16M"
log "home: $((got / MIB)) MiB available (additionalSpace 16M)"
rm -f "$T"/p[1-6]

log "a: a raw file larger than its partition"
sed 's/"blob.bin", "size": "4M"/"big.bin", "size": "4M"/' "$S/list.json" >"$S/big.json"
grep -q big.bin "$S/big.json" || fail "test: big.json"
expect_fail "big.bin" --spec "$S/big.json"
grep -q '5 MiB' "$T/fail.err" || fail "the error does not name the 5 MiB needed: $(cat "$T/fail.err")"
sed 's/"big.bin", "size": "4M"/"big.bin", "size": "5M"/' "$S/big.json" >"$S/big5.json"
build --spec "$S/big5.json" -o "$T/big5.img"
extract "$T/big5.img" 1 "$T/p1"
cmp -n 5000000 "$T/p1" "$S/big.bin" || fail "5M raw partition does not hold big.bin"
zero_from "$T/p1" 5000000
rm -f "$T/p1" "$T/big5.img"

log "d: size rest with a fixed diskSize, then with maxSize"
rest_spec()
{
	cat >"$S/rest$1.json" <<EOF
{"root": "root", "partitionTableType": "gpt", "diskSize": 256,
 "partitions": [{"type": "esp", "fs": "vfat", "size": "64M"},
                {"type": "linux", "fs": "ext4", "size": "rest", "label": "data"$2},
                {"type": "root", "fs": "ext4", "size": "64M"}]}
EOF
}
rest_spec "" ""
rest_spec "-max" ', "maxSize": "100M"'
for v in "" -max; do
	build --spec "$S/rest$v.json" -o "$T/rest$v.img"
	img=$T/rest$v.img
	[ "$(stat -c %s "$img")" -eq $((256 * MIB)) ] || fail "rest$v: not diskSize 256 MiB"
	gpt_clean "$img"
	last=$(sfdisk --dump "$img" | sed -n 's/^last-lba: *//p')
	read -r s1 n1 < <(geom "$img" 1)
	read -r s2 n2 < <(geom "$img" 2)
	read -r s3 n3 < <(geom "$img" 3)
	[ "$n1 $n3" = "131072 131072" ] || fail "rest$v: ESP $n1, root $n3 sectors, not 64 MiB each"
	[ "$s2" -eq $((s1 + n1)) ] && [ "$s3" -eq $((s2 + n2)) ] ||
		fail "rest$v: partitions not back to back: $s1+$n1 $s2+$n2 $s3"
	[ $((s3 + n3 - 1)) -le "$last" ] || fail "rest$v: the root ends past the last usable LBA"
	if [ -z "$v" ]; then
		# rest: all that is left, but for the last MiB alignment
		[ $((last + 1 - (s3 + n3))) -lt 2048 ] ||
			fail "rest: $((last + 1 - (s3 + n3))) sectors left unused after the root"
	else
		[ "$n2" -eq 204800 ] || fail "rest with maxSize 100M: $n2 sectors"
	fi
	extract "$img" 2 "$T/p2"
	e2fsck_clean "$T/p2"
	[ "$(blkid_field "$T/p2" LABEL)" = data ] || fail "rest$v: label of partition 2"
	extract "$img" 3 "$T/p3"
	e2fsck_clean "$T/p3"
	[ "$(blkid_field "$T/p3" LABEL)" = nixos ] || fail "rest$v: the root is not partition 3"
	log "rest$v: partition 2 has $((n2 / 2048)) MiB"
	rm -f "$T/p2" "$T/p3" "$img"
done

log "d: an \"auto\" root after a \"rest\" partition keeps its own additionalSpace"
cat >"$S/rest-auto.json" <<EOF
{"root": "root", "partitionTableType": "gpt", "diskSize": 256,
 "partitions": [{"type": "linux", "fs": "ext4", "size": "rest", "label": "data"},
                {"type": "root", "fs": "ext4", "size": "auto", "additionalSpace": "64M"}]}
EOF
build --spec "$S/rest-auto.json" -o "$T/rest-auto.img"
gpt_clean "$T/rest-auto.img"
extract "$T/rest-auto.img" 2 "$T/p2"
e2fsck_clean "$T/p2"
free=$(user_free "$T/p2")
[ "$free" -ge $((64 * MIB)) ] || fail "rest-auto: the root has $free bytes available, not 64 MiB"
extract "$T/rest-auto.img" 1 "$T/p1"
e2fsck_clean "$T/p1"
rm -f "$T/p1" "$T/p2" "$T/rest-auto.img"

log "e: GPT attributes, explicit PARTUUID and type GUID"
cat >"$S/attrs.json" <<EOF
{"root": "root", "partitionTableType": "gpt",
 "partitions": [{"type": "esp", "fs": "vfat", "size": "64M", "required": true,
                 "bootable": true, "uuid": "11111111-2222-4333-8444-555555555555"},
                {"type": "$TYPE_LINUX", "fs": "none", "size": "2M", "noAuto": true,
                 "readOnly": true, "growFileSystem": true},
                {"type": "8DA63339-0007-60C0-C436-083AC8230908", "size": "1M"},
                {"type": "root", "fs": "ext4", "size": "auto", "additionalSpace": "8M"}]}
EOF
build --spec "$S/attrs.json" -o "$T/attrs.img"
gpt_clean "$T/attrs.img"
sfdisk --dump "$T/attrs.img" >&2
l=$(dump_line "$T/attrs.img" 1)
grep -q 'uuid=11111111-2222-4333-8444-555555555555' <<<"$l" || fail "explicit uuid: $l"
grep -q 'attrs="RequiredPartition LegacyBIOSBootable"' <<<"$l" || fail "required+bootable: $l"
l=$(dump_line "$T/attrs.img" 2)
grep -q "type=$TYPE_LINUX" <<<"$l" || fail "type GUID: $l"
grep -q 'attrs="GUID:59,60,63"' <<<"$l" || fail "growFileSystem+readOnly+noAuto: $l"
l=$(dump_line "$T/attrs.img" 3)
grep -q 'type=8DA63339-0007-60C0-C436-083AC8230908' <<<"$l" || fail "a foreign type GUID: $l"
! grep -q "attrs=" <<<"$l" || fail "partition 3 has attributes: $l"
! dump_line "$T/attrs.img" 4 | grep -q "attrs=" || fail "the root has attributes"
# the bits themselves, from the entry array (LBA 2, 128-byte entries, attributes at 48)
for i in 1 2 3; do
	od -An -t x8 -j $((1024 + (i - 1) * 128 + 48)) -N 8 "$T/attrs.img" | tr -d ' '
done >"$T/attrs.got"
printf '%s\n' 0000000000000005 9800000000000000 0000000000000000 >"$T/attrs.want"
diff "$T/attrs.want" "$T/attrs.got" >&2 || fail "GPT attribute bits"
rm -f "$T/attrs.img"

log "e: --grow-on-boot sets GPT bit 59 on the root (preset and list), refused on MBR"
build --root "$S/root" --partition-table efi --grow-on-boot -o "$T/gob.img"
gpt_clean "$T/gob.img"
dump_line "$T/gob.img" 2 | grep -q 'attrs="GUID:59"' || fail "--grow-on-boot: $(dump_line "$T/gob.img" 2)"
! dump_line "$T/gob.img" 1 | grep -q "attrs=" || fail "--grow-on-boot: the ESP got attributes"
build --spec "$S/attrs.json" --grow-on-boot -o "$T/gob.img"
dump_line "$T/gob.img" 4 | grep -q 'attrs="GUID:59"' || fail "--grow-on-boot (list): $(dump_line "$T/gob.img" 4)"
if "$MKDISKIMAGE" build --root "$S/root" --partition-table legacy --grow-on-boot -o "$T/gob.img" 2>"$T/gob.err"; then
	fail "--grow-on-boot on an MBR table was accepted"
fi
grep -q "growOnBoot: partitionTableType legacy has no GPT" "$T/gob.err" || fail "gob: $(cat "$T/gob.err")"
[ "$(wc -l <"$T/gob.err")" -eq 1 ] || fail "gob: not one line: $(cat "$T/gob.err")"
rm -f "$T/gob.img"

log "e: MBR type 0x0c and the bootable flag"
cat >"$S/mbr.json" <<'EOF'
{"root": "root", "partitionTableType": "mbr",
 "partitions": [{"type": "0x0c", "fs": "vfat", "size": "64M"},
                {"type": "linux", "fs": "none", "size": "1M"},
                {"type": "root", "fs": "ext4", "size": "auto", "additionalSpace": "8M",
                 "bootable": true}]}
EOF
build --spec "$S/mbr.json" -o "$T/mbr.img"
sfdisk --dump "$T/mbr.img" >&2
[ "$(sfdisk --dump "$T/mbr.img" | sed -n 's/^label: //p')" = dos ] || fail "mbr: not a dos label"
l=$(dump_line "$T/mbr.img" 1)
grep -q 'type=c$' <<<"$l" || fail "mbr: partition 1 is not type 0x0c: $l"
l=$(dump_line "$T/mbr.img" 2)
grep -q 'type=83$' <<<"$l" || fail "mbr: partition 2 is not type 0x83: $l"
l=$(dump_line "$T/mbr.img" 3)
grep -q 'type=83, bootable$' <<<"$l" || fail "mbr: the root is not 83 and bootable: $l"
[ "$(sfdisk --dump "$T/mbr.img" | grep -c bootable)" -eq 1 ] || fail "mbr: more than one bootable"
[ "$(od -An -t x1 -j $((446 + 2 * 16)) -N 1 "$T/mbr.img" | tr -d ' ')" = 80 ] ||
	fail "mbr: entry 3's status byte is not 0x80"
extract "$T/mbr.img" 1 "$T/p1"
fsck.fat -n "$T/p1" >"$T/fsck.out" 2>&1 || { cat "$T/fsck.out" >&2; fail "mbr: fsck.fat -n"; }
extract "$T/mbr.img" 3 "$T/p3"
e2fsck_clean "$T/p3"
rm -f "$T/p1" "$T/p3" "$T/mbr.img"

log "e: an explicit rootGPUID is the list's root PARTUUID (and, as rootFSUID's default, its UUID)"
RG=22222222-3333-4444-8555-666666666666
build --spec "$S/attrs.json" --root-gpuid $RG -o "$T/attrs.img"
dump_line "$T/attrs.img" 4 | grep -q "uuid=$RG" || fail "--root-gpuid: $(dump_line "$T/attrs.img" 4)"
dump_line "$T/attrs.img" 1 | grep -q 'uuid=11111111-2222-4333-8444-555555555555' ||
	fail "--root-gpuid changes the ESP's explicit uuid"
extract "$T/attrs.img" 4 "$T/p4"
[ "$(blkid_field "$T/p4" UUID)" = "${RG,,}" ] || fail "--root-gpuid: root UUID $(blkid_field "$T/p4" UUID)"
rm -f "$T/p4" "$T/attrs.img"

log "f: determinism, and what --seed changes"
assert_reproducible --spec "$S/list.json"
build --spec "$S/list.json" --seed other -o "$T/seed.img"
# the tables agree but for the disk GUID and the derived PARTUUIDs
tables()
{
	sfdisk --dump "$1" | sed -e '/^device:/d' -e '/^label-id:/d' -e "s|^$1||" -e 's/, uuid=[0-9A-F-]*//'
}
diff <(tables "$T/list.img") <(tables "$T/seed.img") >&2 || fail "--seed changes the table"
[ "$(sfdisk --dump "$T/list.img" | grep label-id)" != "$(sfdisk --dump "$T/seed.img" | grep label-id)" ] ||
	fail "--seed keeps the disk GUID"
for i in 1 2 3 4 5 6; do
	a=$(dump_line "$T/list.img" $i | sed -n 's/.*uuid=\([0-9A-F-]*\).*/\1/p')
	b=$(dump_line "$T/seed.img" $i | sed -n 's/.*uuid=\([0-9A-F-]*\).*/\1/p')
	if [ $i = 6 ]; then # the root's is rootGPUID, as in the presets
		[ "$a $b" = "$DEFAULT_ROOT_GPUID $DEFAULT_ROOT_GPUID" ] || fail "root PARTUUIDs $a $b"
	else
		[ -n "$a" ] && [ "$a" != "$b" ] || fail "--seed keeps partition $i's PARTUUID $a"
	fi
	extract "$T/list.img" $i "$T/a"
	extract "$T/seed.img" $i "$T/b"
	case $i in
	1 | 2 | 3 | 4) cmp "$T/a" "$T/b" || fail "--seed changes raw/none partition $i" ;;
	*)
		e2fsck_clean "$T/b"
		debugfs_manifest "$T/a" >"$T/a.manifest"
		debugfs_manifest "$T/b" >"$T/b.manifest"
		diff "$T/a.manifest" "$T/b.manifest" >&2 || fail "--seed changes partition $i's files"
		for k in TYPE LABEL BLOCK_SIZE; do
			[ "$(blkid_field "$T/a" $k)" = "$(blkid_field "$T/b" $k)" ] ||
				fail "--seed changes partition $i's $k"
		done
		[ "$(dumpe2fs_field "$T/a" 'Block count')" = "$(dumpe2fs_field "$T/b" 'Block count')" ] ||
			fail "--seed changes partition $i's block count"
		;;
	esac
done
# home's fsUuid is explicit: the seed does not touch it
extract "$T/seed.img" 5 "$T/b"
[ "$(blkid_field "$T/b" UUID)" = "$HOME_UUID" ] || fail "--seed overrides home's fsUuid"
rm -f "$T/a" "$T/b" "$T"/*.manifest "$T/seed.img"

log "g: bad lists"
# bad NAME PARTITIONS [MEMBERS]: a spec with that partitions list.
bad()
{
	printf '{"root": "root", "partitionTableType": "%s", %s"partitions": [%s]}\n' \
		"${4:-gpt}" "${3:+$3, }" "$2" >"$S/bad-$1.json"
}
ROOT='{"type": "root", "fs": "ext4", "size": "auto"}'
bad type '{"type": "frob", "size": "4M"}, '"$ROOT"
expect_fail '"frob"' --spec "$S/bad-type.json"
bad fs '{"type": "linux", "fs": "btrfs", "size": "4M"}, '"$ROOT"
expect_fail 'btrfs' --spec "$S/bad-fs.json"
bad roots "$ROOT, $ROOT"
expect_fail 'root' --spec "$S/bad-roots.json"
bad mbr5 "$(printf '{"type": "linux", "size": "1M"}, %.0s' 1 2 3 4)$ROOT" "" mbr
expect_fail '5 partitions' --spec "$S/bad-mbr5.json"
bad biosmbr '{"type": "bios-boot", "size": "1M"}, '"$ROOT" "" mbr
expect_fail 'BIOS boot' --spec "$S/bad-biosmbr.json"
bad noroot '{"type": "linux", "fs": "ext4", "size": "64M"}'
expect_fail 'no root partition for the image' --spec "$S/bad-noroot.json"
sed 's/"root": "root", //' "$S/bad-noroot.json" >"$S/noroot.json"
expect_fail 'no root partition for the image' --spec "$S/noroot.json" --root "$S/root"
build --spec "$S/noroot.json" --allow-empty -o "$T/noroot.img" # no files: empty on purpose
rm -f "$T/noroot.img"
bad label '{"type": "esp", "fs": "vfat", "size": "64M", "fsLabel": "ABCDEFGHIJKL"}, '"$ROOT"
expect_fail '11' --spec "$S/bad-label.json"
bad small '{"type": "linux", "fs": "none", "size": "200M"}, '"$ROOT" '"diskSize": 100'
expect_fail 'diskSize 100' --spec "$S/bad-small.json"
need=$(sed -n 's/.*at least \([0-9]*\) MiB.*/\1/p' "$T/fail.err")
[ -n "$need" ] || fail "the diskSize error names no MiB: $(cat "$T/fail.err")"
bad need '{"type": "linux", "fs": "none", "size": "200M"}, '"$ROOT" "\"diskSize\": $need"
build --spec "$S/bad-need.json" -o "$T/need.img"
[ "$(stat -c %s "$T/need.img")" -eq $((need * MIB)) ] || fail "diskSize $need: wrong size"
extract "$T/need.img" 2 "$T/p2"
e2fsck_clean "$T/p2"
rm -f "$T/p2" "$T/need.img"
bad need1 '{"type": "linux", "fs": "none", "size": "200M"}, '"$ROOT" "\"diskSize\": $((need - 1))"
expect_fail "at least $need MiB" --spec "$S/bad-need1.json"
# what would otherwise be dropped silently
bad mbruuid '{"type": "linux", "size": "4M", "uuid": "11111111-2222-4333-8444-555555555555"}, '"$ROOT" "" mbr
expect_fail 'uuid is GPT only' --spec "$S/bad-mbruuid.json"
bad mbrattr '{"type": "linux", "size": "4M", "noAuto": true}, '"$ROOT" "" mbr
expect_fail 'noAuto is GPT only' --spec "$S/bad-mbrattr.json"
U='"uuid": "11111111-2222-4333-8444-555555555555"'
bad dupuuid '{"type": "linux", "size": "4M", '"$U"'}, {"type": "root", "fs": "ext4", "size": "auto", '"$U"'}'
expect_fail 'partitions[1].uuid' --spec "$S/bad-dupuuid.json"
bad nonecontents '{"type": "linux", "fs": "none", "contents": "blob.bin", "size": "4M"}, '"$ROOT"
expect_fail 'partitions[0].contents' --spec "$S/bad-nonecontents.json"
bad fixedmin '{"type": "linux", "fs": "none", "size": "4M", "minSize": "8M"}, '"$ROOT"
expect_fail 'partitions[0].minSize' --spec "$S/bad-fixedmin.json"
bad rawmax '{"type": "linux", "fs": "raw", "contents": "blob.bin", "size": "auto", "maxSize": "2M"}, '"$ROOT"
expect_fail 'maxSize' --spec "$S/bad-rawmax.json"
mkdir "$S/bigdir" && cp "$S/big.bin" "$S/bigdir/"
bad restmax '{"type": "linux", "fs": "ext4", "contents": "bigdir", "size": "rest", "maxSize": "2M"}, {"type": "root", "fs": "ext4", "size": "64M"}' '"diskSize": 256'
expect_fail 'maxSize' --spec "$S/bad-restmax.json"
log "ok"
