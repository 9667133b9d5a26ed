#!/usr/bin/env bash
# vhdx (Hyper-V): a small image built raw and vhdx (1 MiB blocks, and --vhdx-block-size 32M)
# is judged by qemu-img check, compare and info and by our inspect; convert round trips
# vhdx ↔ raw; a vhdx written by qemu-img reads back through our reader; two builds and two
# conversions are byte-identical; bad block sizes and damaged files fail with one line and
# leave no output.
# quick
. "$(dirname "$0")/../lib.sh"
require qemu-img python3

small_text_tree "$T/root"
head -c 1500000 /dev/urandom >"$T/root/data/random.bin"
args=(--root "$T/root" --additional-space 2M --boot-size 16M --partition-table efi)
build "${args[@]}" -o "$T/disk.img"
build "${args[@]}" -o "$T/disk.vhdx"
build "${args[@]}" --vhdx-block-size 32M -o "$T/disk32.vhdx"
raw=$T/disk.img
size=$(stat -c %s "$raw")

# convert ARGS...: run mkdiskimage convert; fail the test on error.
convert()
{
	"$MKDISKIMAGE" convert --no-progress "$@" >"$T/convert.out" 2>"$T/convert.err" ||
		fail "mkdiskimage convert $* failed: $(cat "$T/convert.err")"
}

# judge FILE BLOCK_SIZE: qemu-img check clean, the raw image's contents and size, the block
# size as qemu-img reads it.
judge()
{
	qemu-img check -f vhdx "$1" >"$T/check.out" 2>&1 ||
		fail "qemu-img check $1: $(cat "$T/check.out")"
	qemu-img compare -q -f raw -F vhdx "$raw" "$1" || fail "$1 differs from $raw"
	[ "$(qemu_info "$1" format)" = vhdx ] || fail "$1: qemu-img does not read it as vhdx"
	[ "$(qemu_info "$1" virtual-size)" = "$size" ] ||
		fail "$1: virtual size $(qemu_info "$1" virtual-size), want $size"
	[ "$(qemu_info "$1" cluster-size)" = "$2" ] ||
		fail "$1: block size $(qemu_info "$1" cluster-size), want $2"
}
judge "$T/disk.vhdx" $MIB
judge "$T/disk32.vhdx" $((32 * MIB))
# zero blocks stay unallocated: the vhdx is no larger than the raw image's data
used=$(du -B1 "$T/disk.vhdx" | cut -f1)
[ "$used" -lt "$size" ] || fail "disk.vhdx uses $used bytes of $size"

# inspect sees through the format: the same table and filesystems as in the raw image
"$MKDISKIMAGE" inspect --json "$raw" >"$T/inspect-raw.json"
"$MKDISKIMAGE" inspect --json "$T/disk.vhdx" >"$T/inspect-vhdx.json" || fail "inspect failed"
python3 - "$T/inspect-raw.json" "$T/inspect-vhdx.json" <<'PY' ||
import json, sys
a, b = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
assert b["format"] == "vhdx", b["format"]
for k in ("image", "format", "fileSize", "size"):
    a.pop(k), b.pop(k)
assert a == b, (a, b)
assert b["partitions"][-1]["filesystem"]["type"] == "ext4", b
PY
	fail "inspect of the vhdx file differs from the raw image's"

# convert: vhdx → raw is the raw image; raw → vhdx is checked as the build's
for f in disk.vhdx disk32.vhdx; do
	convert "$T/$f" "$T/back.img"
	cmp "$T/back.img" "$raw" || fail "$f → raw differs from the raw image"
done
convert "$raw" "$T/conv.vhdx"
judge "$T/conv.vhdx" $MIB
convert --vhdx-block-size 32M "$raw" "$T/conv32.vhdx"
judge "$T/conv32.vhdx" $((32 * MIB))
convert --format vhdx "$T/disk32.vhdx" "$T/conv-from-vhdx.out"
judge "$T/conv-from-vhdx.out" $MIB
# the same conversion twice: the same bytes
convert --seed s "$raw" "$T/a.vhdx"
convert --seed s "$raw" "$T/b.vhdx"
cmp "$T/a.vhdx" "$T/b.vhdx" || fail "two conversions to vhdx differ"

# qemu-img's own vhdx files (its default 8 MiB blocks and 1 MiB), detected and read by us
for o in "" "-o block_size=1M"; do
	read -r -a qargs <<<"$o"
	qemu-img convert -f raw -O vhdx "${qargs[@]}" "$raw" "$T/qemu.vhdx"
	convert "$T/qemu.vhdx" "$T/from-qemu.img"
	cmp "$T/from-qemu.img" "$raw" || fail "qemu-img's vhdx ($o) reads differently"
	convert --input-format vhdx "$T/qemu.vhdx" "$T/from-qemu.img"
	cmp "$T/from-qemu.img" "$raw" || fail "qemu-img's vhdx ($o) with --input-format differs"
done

assert_reproducible "${args[@]}" --format vhdx

# refusals: one line, no output file
mkdir -p "$T/fail"
expect_fail "not a power of two from 1M to 256M" "${args[@]}" --vhdx-block-size 3M \
	-o "$T/fail/x.vhdx"
mkdir -p "$T/bad"
head -c $((5 * MIB)) "$T/disk.vhdx" >"$T/bad/cut.vhdx"
cp "$T/disk.vhdx" "$T/bad/headers.vhdx"
printf 'XXXX' | dd of="$T/bad/headers.vhdx" bs=1 seek=$((64 * 1024)) conv=notrunc 2>/dev/null
printf 'XXXX' | dd of="$T/bad/headers.vhdx" bs=1 seek=$((128 * 1024)) conv=notrunc 2>/dev/null
for f in cut headers; do
	rc=0
	"$MKDISKIMAGE" convert --no-progress "$T/bad/$f.vhdx" "$T/bad/$f.img" 2>"$T/bad.err" ||
		rc=$?
	err=$(cat "$T/bad.err")
	[ "$rc" -eq 1 ] || fail "convert of $f.vhdx: exit $rc, want 1"
	[ "$(wc -l <"$T/bad.err")" -eq 1 ] || fail "convert of $f.vhdx: not one line: $err"
	grep -q "$f.vhdx (vhdx)" "$T/bad.err" || fail "convert of $f.vhdx: $err"
	[ ! -e "$T/bad/$f.img" ] || fail "convert of $f.vhdx left an output file"
	"$MKDISKIMAGE" inspect "$T/bad/$f.vhdx" >/dev/null 2>&1 &&
		fail "inspect of $f.vhdx succeeded"
done
grep -q "no valid header" "$T/bad.err" || fail "damaged headers: $(cat "$T/bad.err")"
log "ok: vhdx $(du -h "$T/disk.vhdx" | cut -f1) for a $((size / MIB)) MiB disk"
