#!/usr/bin/env bash
# vfat data partitions from a directory (issue #15), through a "partitions" list: a partition
# with "fs": "vfat" and no type (basic-data), "basic-data", "msftdata" and "linux", on GPT
# (beside an ESP and an ext4 root) and on MBR (beside an ESP), sized "auto" (+
# additionalSpace), fixed (8M FAT12, 100M FAT16, 600M FAT32) and "rest", and a sparse 1 TiB
# FAT32 alone. Oracles: sfdisk --json (GPT type Microsoft basic data EBD0A0A2-...; MBR bytes
# 0x01/0x0e/0x0c by the FAT type, 0x83 for "linux"; the sizes asked for), fsck.fat -n,
# blkid -p on the extracted partition (TYPE vfat, LABEL upper-cased, UUID, VERSION
# FAT12/16/32), the boot sector against mkfs.fat 4.2's for the same size (-g 64/32 -h START:
# BPB, FAT32 fields, type string, hidden sectors = the partition's start), mdir (long and
# mixed-case names) and a full mcopy -s round trip (diff -r: every byte, every name of a tree
# with long names, mixed case, a deep path, empty files, 300 files in one directory). "auto"
# keeps additionalSpace free and no MiB more. The 1 TiB partition's image stays a few MiB on
# disk. Two builds are identical; the raw image and its qcow2 from `convert` read the same
# (qemu-img compare). Bad labels, a file of 4 GiB, a partition of 2 TiB: one-line errors,
# exit 1, no output.
# quick
. "$(dirname "$0")/../lib.sh"
require sfdisk blkid fsck.fat mkfs.fat mcopy mdir e2fsck python3 qemu-img
export MTOOLS_SKIP_CHECK=1
TYPE_BASIC=EBD0A0A2-B9E5-4433-87C0-68B6B72699C7
TYPE_LINUX=0FC63DAF-8483-4772-8E79-3D69D8477DE4

S=$T/spec
mkdir -p "$S/root/etc" "$S/esp/EFI/BOOT" "$S/data/Mixed Case Dir/deep/a/b/c/d/e/f/g" \
	"$S/data/many" "$S/data/empty dir"
printf 'vfat-data\n' >"$S/root/etc/hostname"
printf 'MZ\n' >"$S/esp/EFI/BOOT/BOOTX64.EFI"
d=$S/data
printf 'readme\n' >"$d/README.TXT"
printf 'mixed\n' >"$d/Mixed Case Dir/CamelCase.Name"
printf 'a long name\n' >"$d/A rather long file name, with spaces and dots.tar.gz"
printf 'lower\n' >"$d/lower.txt"
printf 'leaf\n' >"$d/Mixed Case Dir/deep/a/b/c/d/e/f/g/leaf of the tree.txt"
: >"$d/empty"
: >"$d/Mixed Case Dir/another empty file"
for i in $(seq 1 300); do printf '%d\n' "$i" >"$d/many/file number $i.dat"; done
head -c $MIB /dev/urandom >"$d/random.bin"

# $T/tools.py IMG N [LABEL]: "START SECTORS TYPE HIDDEN GEOM [MKFS_GEOM]" of partition N
# (sfdisk --json; HIDDEN is the boot sector's BPB_HiddSec; GEOM the fields mkfs.fat chooses:
# jump, BPB, FAT32 fields, type string, signature, as hex words; MKFS_GEOM, with LABEL given,
# the same of `mkfs.fat -g 64/32 -h START -n LABEL` for that size), and the partition copied
# to $T/p, data extents only (a sparse copy: dd would read every byte of the 1 TiB one).
cat >"$T/tools.py" <<'EOF'
import json, os, struct, subprocess, sys
img, n = sys.argv[1], sys.argv[2]
pt = json.loads(subprocess.check_output(["sfdisk", "--json", img]))["partitiontable"]
p = [p for p in pt["partitions"] if p["node"][len(pt["device"]):] == n][0]
start, size = p["start"], p["size"]

def geom(path, sector):
    with open(path, "rb") as f:
        f.seek(sector * 512)
        b = f.read(512)
    fat32 = struct.unpack_from("<H", b, 22)[0] == 0
    out = [b[0:3].hex(), b[11:36].hex()]
    out += [b[36:52].hex(), b[82:90].decode()] if fat32 else [b[54:62].decode()]
    return struct.unpack_from("<I", b, 28)[0], "-".join(out + [b[510:512].hex()])

hidden, g = geom(img, start)
line = [start, size, p["type"].upper(), hidden, g]
if len(sys.argv) > 3:
    mk = os.path.join(os.path.dirname(sys.argv[0]), "mkfs.img")
    if os.path.exists(mk):
        os.unlink(mk)
    subprocess.check_call(["mkfs.fat", "-g", "64/32", "-h", str(start), "-n", sys.argv[3],
                           "-C", mk, str(size // 2)], stdout=subprocess.DEVNULL)
    line.append(geom(mk, 0)[1])
    os.unlink(mk)
print(" ".join(str(x).replace(" ", "_") for x in line))
fi = os.open(img, os.O_RDONLY)
fo = os.open(os.path.join(os.path.dirname(sys.argv[0]), "p"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
os.ftruncate(fo, size * 512)
pos, end = start * 512, (start + size) * 512
while pos < end:
    try:
        d = os.lseek(fi, pos, os.SEEK_DATA)
    except OSError:
        break
    if d >= end:
        break
    h = min(os.lseek(fi, d, os.SEEK_HOLE), end)
    while d < h:
        b = os.pread(fi, min(1 << 20, h - d), d)
        os.pwrite(fo, b, d - start * 512)
        d += len(b)
    pos = h
EOF

# check_fat IMG N TYPE SECTORS LABEL BITS [roundtrip]: partition N is a FAT BITS vfat of
# SECTORS with type TYPE and label LABEL ("" none), hidden sectors = its start, its boot
# sector as mkfs.fat writes it there, fsck.fat clean; with "roundtrip", data/ read back whole
# (mdir, mcopy -s, diff -r). The partition stays in $T/p.
check_fat()
{
	local img=$1 n=$2 type=$3 size=$4 label=$5 bits=$6 start got_size got_type hid geom want out
	python3 "$T/tools.py" "$img" "$n" "${label:-NO NAME}" >"$T/info" ||
		fail "$img $n: $(cat "$T/info")"
	read -r start got_size got_type hid geom want <"$T/info"
	[ "$got_size $got_type" = "$size $type" ] ||
		fail "$img $n: $got_size sectors type $got_type, want $size $type"
	[ "$hid" = "$start" ] || fail "$img $n: hidden sectors $hid, not $start"
	[ "$geom" = "$want" ] || fail "$img $n: boot sector differs from mkfs.fat's: $geom / $want"
	fsck.fat -n "$T/p" >"$T/fsck.out" 2>&1 || { cat "$T/fsck.out" >&2; fail "$img $n: fsck.fat -n"; }
	out=$(blkid -p -o export "$T/p")
	grep -qx 'TYPE=vfat' <<<"$out" || fail "$img $n: not vfat: $out"
	grep -qx "VERSION=FAT$bits" <<<"$out" || fail "$img $n: not FAT$bits: $out"
	grep -qx 'UUID=[0-9A-F]\{4\}-[0-9A-F]\{4\}' <<<"$out" || fail "$img $n: UUID: $out"
	if [ -n "$label" ]; then
		grep -qx "LABEL=$label" <<<"$out" || fail "$img $n: label is not $label: $out"
	else
		! grep -q '^LABEL=' <<<"$out" || fail "$img $n: a label: $out"
	fi
	if [ "${7:-}" = roundtrip ]; then
		mdir -i "$T/p" "::/Mixed Case Dir" >"$T/mdir.out" || fail "$img $n: mdir"
		grep -q ' CamelCase.Name$' "$T/mdir.out" || fail "$img $n: mdir: $(cat "$T/mdir.out")"
		rm -rf "$T/out" && mkdir "$T/out"
		mcopy -s -n -i "$T/p" ::/ "$T/out/" || fail "$img $n: mcopy"
		diff -r "$d" "$T/out" >&2 || fail "$img $n: the tree read back differs from data/"
		[ "$(find "$T/out" | wc -l)" = "$(find "$d" | wc -l)" ] || fail "$img $n: entries"
		rm -rf "$T/out"
	fi
	log "$img $n: FAT$bits, $type, $size sectors, label '$label' ${7:-}"
}

log "GPT: no type, basic-data, msftdata, linux; beside an ESP and an ext4 root"
cat >"$S/gpt.json" <<'EOF'
{"root": "root", "partitionTableType": "gpt", "partitions": [
  {"type": "esp", "fs": "vfat", "size": "16M", "contents": "esp/"},
  {"fs": "vfat", "contents": "data/", "size": "auto", "additionalSpace": "2M", "fsLabel": "data"},
  {"type": "basic-data", "fs": "vfat", "contents": "data/", "size": "100M", "label": "Fat16"},
  {"type": "msftdata", "fs": "vfat", "contents": "data/", "size": "600M"},
  {"type": "linux", "fs": "vfat", "contents": "data/", "size": "8M", "label": "tiny"},
  {"type": "root", "fs": "ext4", "size": "auto"}
]}
EOF
build "$S/gpt.json" "$T/gpt.img"
sfdisk --dump "$T/gpt.img" >&2
read -r _ auto < <(part_geometry "$T/gpt.img" 2) || fail "gpt: no partition 2"
[ $((auto % 2048)) -eq 0 ] || fail "auto: $auto sectors is not whole MiB"
check_fat "$T/gpt.img" 2 $TYPE_BASIC "$auto" DATA 12 roundtrip
free=$(mdir -i "$T/p" :: | sed -n 's/^ *\([0-9 ]*\) bytes free$/\1/p' | tr -d ' ')
check_fat "$T/gpt.img" 3 $TYPE_BASIC 204800 FAT16 16 roundtrip
check_fat "$T/gpt.img" 4 $TYPE_BASIC 1228800 "" 32 roundtrip
check_fat "$T/gpt.img" 5 $TYPE_LINUX 16384 TINY 12
extract_partition "$T/gpt.img" 1 "$T/p1"
fsck.fat -n "$T/p1" >/dev/null || fail "gpt: the ESP: fsck.fat -n"
[ "$(blkid -p -s VERSION -o value "$T/p1")" = FAT16 ] || fail "gpt: the 16M ESP is not FAT16"
extract_partition "$T/gpt.img" 6 "$T/p6"
e2fsck_clean "$T/p6"
rm -f "$T/p1" "$T/p6"

log "auto keeps additionalSpace (2M) free, and less than a MiB more"
[ "$free" -ge $((2 * MIB)) ] || fail "auto: $free bytes free, less than 2M"
[ "$free" -lt $((3 * MIB)) ] || fail "auto: $free bytes free: a MiB too large"
log "auto: $((auto / 2048)) MiB, $free bytes free"

log "MBR: type bytes by the FAT type (0x01, 0x0e, 0x0c), beside an ESP"
cat >"$S/mbr.json" <<'EOF'
{"partitionTableType": "mbr", "partitions": [
  {"type": "esp", "fs": "vfat", "size": "16M", "contents": "esp/"},
  {"fs": "vfat", "contents": "data/", "size": "8M", "fsLabel": "small"},
  {"type": "basic-data", "fs": "vfat", "contents": "data/", "size": "511M"},
  {"type": "basic-data", "fs": "vfat", "contents": "data/", "size": "rest", "label": "rest"}
], "diskSize": "1100M"}
EOF
build "$S/mbr.json" "$T/mbr.img"
sfdisk --dump "$T/mbr.img" >&2
check_fat "$T/mbr.img" 2 1 16384 SMALL 12 roundtrip
check_fat "$T/mbr.img" 3 E 1046528 "" 16
check_fat "$T/mbr.img" 4 C $(((1100 - 1 - 16 - 8 - 511) * 2048)) REST 32 roundtrip
sfdisk --dump "$T/mbr.img" | grep -q 'mbr.img1 : start=.*type=ef$' || fail "mbr: the ESP is not 0xef"

log "the FAT12/16 and FAT16/32 boundaries, as mkfs.fat chooses them; minSize"
cat >"$S/edges.json" <<'EOF'
{"partitionTableType": "gpt", "partitions": [
  {"fs": "vfat", "contents": "data/", "size": "9M"},
  {"fs": "vfat", "contents": "data/", "size": "auto", "minSize": "20M"},
  {"fs": "vfat", "contents": "data/", "size": "512M"}
]}
EOF
build "$S/edges.json" "$T/edges.img"
check_fat "$T/edges.img" 1 $TYPE_BASIC 18432 "" 16
check_fat "$T/edges.img" 2 $TYPE_BASIC 40960 "" 16 # auto, at least minSize
check_fat "$T/edges.img" 3 $TYPE_BASIC 1048576 "" 32

log "a sparse 1 TiB FAT32"
cat >"$S/tib.json" <<'EOF'
{"partitionTableType": "gpt", "partitions": [
  {"fs": "vfat", "contents": "data/", "size": "1T", "fsLabel": "huge"}]}
EOF
build "$S/tib.json" "$T/tib.img"
used=$(du -k "$T/tib.img" | cut -f1)
[ "$used" -lt 65536 ] || fail "1 TiB: $used KiB on disk"
python3 "$T/tools.py" "$T/tib.img" 1 >"$T/info" || fail "1 TiB: $(cat "$T/info")"
read -r start size type hid geom <"$T/info"
[ "$size $type $hid" = "$((1 << 31)) $TYPE_BASIC $start" ] || fail "1 TiB: $(cat "$T/info")"
# 64 sectors a cluster (32 KiB, as mkfs.fat above 32 GiB), 64 reserved sectors
[ "${geom:7:10}" = 0002404000 ] || fail "1 TiB: BPB $geom"
fsck.fat -n "$T/p" >"$T/fsck.out" 2>&1 || { cat "$T/fsck.out" >&2; fail "1 TiB: fsck.fat -n"; }
out=$(blkid -p -o export "$T/p")
grep -qx 'VERSION=FAT32' <<<"$out" && grep -qx 'LABEL=HUGE' <<<"$out" || fail "1 TiB: $out"
rm -rf "$T/out" "$T/p" && mkdir "$T/out"
mcopy -s -n -i "$T/tib.img@@$((start * 512))" ::/ "$T/out/" || fail "1 TiB: mcopy"
diff -r "$d" "$T/out" >&2 || fail "1 TiB: the tree read back differs"
rm -rf "$T/out"
log "1 TiB: $used KiB on disk, fsck.fat clean, round trip ok"

log "determinism, and convert to qcow2"
assert_reproducible --spec "$S/mbr.json"
"$MKDISKIMAGE" convert "$T/mbr.img" "$T/mbr.qcow2" >/dev/null 2>&1 || fail "convert to qcow2"
qemu-img compare -q -f raw -F qcow2 "$T/mbr.img" "$T/mbr.qcow2" || fail "convert: contents differ"
rm -f "$T/mbr.qcow2" "$T/mbr.img"

log "refused: bad labels, a 4 GiB file, 2 TiB"
for bad in 'a.b|holds one of' 'twelve chars|at most 11 bytes' ' lead|starts with a space' \
	'caf\u00e9|non-ASCII' 'x*y|holds one of'; do
	IFS='|' read -r label msg <<<"$bad"
	printf '{"partitionTableType": "gpt", "partitions": [{"fs": "vfat", "contents": "data/", "size": "8M", "fsLabel": "%s"}]}\n' \
		"$label" >"$S/bad.json"
	expect_fail "$msg" --spec "$S/bad.json"
done
mkdir -p "$S/huge"
truncate -s 4G "$S/huge/disc.iso"
printf '{"partitionTableType": "gpt", "partitions": [{"fs": "vfat", "contents": "huge/", "size": "auto"}]}\n' >"$S/bad.json"
expect_fail "/disc.iso: 4 GiB or larger, which FAT cannot hold" --spec "$S/bad.json"
printf '{"partitionTableType": "gpt", "partitions": [{"fs": "vfat", "contents": "data/", "size": "2T"}]}\n' >"$S/bad.json"
expect_fail "past FAT's 2 TiB limit" --spec "$S/bad.json"
printf '{"partitionTableType": "gpt", "partitions": [{"fs": "ext4", "size": "8M"}]}\n' >"$S/bad.json"
expect_fail "a vfat partition may leave it out" --spec "$S/bad.json"
log "ok"
