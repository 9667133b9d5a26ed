#!/usr/bin/env bash
# `mkdiskimage convert`: raw → each format → raw is identical; images made by qemu-img
# (qcow2, compressed with deflate and zstd, vdi, vpc dynamic and fixed) convert to the same raw
# bytes as qemu-img's own conversion back; truncated and corrupted qcow2/VDI/VHD files make
# convert and inspect fail with one line (exit 1, never a signal) and leave no output file.
# Every format is required: a format refused or not detected fails the test (no skips).
# quick
. "$(dirname "$0")/../lib.sh"
require qemu-img python3

mkdir -p "$T/root/etc" "$T/root/data"
echo hello >"$T/root/etc/hello"
head -c 1500000 /dev/urandom >"$T/root/data/random.bin"
seq 1 100000 >"$T/root/data/numbers.txt"
build --root "$T/root" --additional-space 2M --boot-size 16M --partition-table efi -o "$T/disk.img"
raw=$T/disk.img

# convert ARGS...: run mkdiskimage convert; fail the test on error.
convert()
{
	if ! "$MKDISKIMAGE" convert --no-progress "$@" >"$T/convert.out" 2>"$T/convert.err"; then
		cat "$T/convert.err" >&2
		fail "mkdiskimage convert $* failed"
	fi
}

# reads_as FILE: the format our reader detects; the test fails if inspect fails.
reads_as()
{
	"$MKDISKIMAGE" inspect --json "$1" >"$T/reads_as.json" 2>"$T/reads_as.err" ||
		fail "inspect --json $1 failed: $(cat "$T/reads_as.err")"
	python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["format"])' \
		"$T/reads_as.json" || fail "inspect --json $1: no format in its output"
}

# Files made by qemu-img; our reader must detect each format (a fixed VHD has no magic at its
# start, for us as for qemu-img: it is read with --input-format vpc).
for v in "qcow2|qcow2|-O qcow2" "qcow2-c|qcow2|-c -O qcow2" \
	"qcow2-zstd|qcow2|-c -O qcow2 -o compression_type=zstd" "vdi|vdi|-O vdi" \
	"vpc|vpc|-O vpc" "vpc-fixed|vpc|-O vpc -o subformat=fixed"; do
	IFS='|' read -r name fmt args <<<"$v"
	read -r -a qargs <<<"$args"
	qemu-img convert -f raw "${qargs[@]}" "$raw" "$T/qemu-$name.$fmt"
done
for fmt in qcow2 vdi vpc; do
	got=$(reads_as "$T/qemu-$fmt.$fmt")
	[ "$got" = "$fmt" ] || fail "qemu-img's $fmt file is detected as '$got'"
done
roundtrips=0 qemu_files=0 rejected=0

# 1. raw → FORMAT → raw
for v in "qcow2|qcow2|" "qcow2-compressed|qcow2|" "qcow2-compressed|qcow2|--compression zstd" \
	"vdi|vdi|" "vpc|vpc|" "vpc|vpc|--vpc-subformat fixed"; do
	IFS='|' read -r f qf extra <<<"$v"
	read -r -a flags <<<"$extra"
	label="$f${extra:+ $extra}"
	convert --format "$f" "${flags[@]}" "$raw" "$T/out.$qf"
	qemu-img compare -f raw -F "$qf" "$raw" "$T/out.$qf" >/dev/null ||
		fail "raw → $label: qemu-img compare says the contents differ"
	in_flags=()
	[ "$extra" = "--vpc-subformat fixed" ] && in_flags=(--input-format vpc)
	if [ -z "${in_flags[*]}" ]; then
		got=$(reads_as "$T/out.$qf")
		[ "$got" = "$qf" ] || fail "$label: our own output is detected as '$got', not $qf"
	fi
	# inspect sees through the format: the same table and filesystem as in the raw image
	"$MKDISKIMAGE" inspect --json "$raw" >"$T/inspect-raw.json"
	"$MKDISKIMAGE" inspect --json "$T/out.$qf" >"$T/inspect-$qf.json" ||
		fail "$label: inspect failed"
	python3 - "$T/inspect-raw.json" "$T/inspect-$qf.json" "$qf" <<'PY' ||
import json, sys
a, b = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
assert b["format"] == sys.argv[3], b["format"]
for k in ("image", "format", "fileSize", "size"):
    a.pop(k), b.pop(k)
assert a == b, (a, b)
assert b["partitions"][-1]["filesystem"]["type"] == "ext4", b
PY
		fail "$label: inspect of the $qf file differs from the raw image's"
	convert "${in_flags[@]}" "$T/out.$qf" "$T/back.img"
	if [ "$extra" = "--vpc-subformat fixed" ]; then
		# fixed VHDs are a whole number of MiB: compare the disk, then the padding is zero
		cmp -n "$(stat -c %s "$raw")" "$raw" "$T/back.img" || fail "raw → $label → raw differs"
	else
		cmp "$raw" "$T/back.img" || fail "raw → $label → raw differs"
	fi
	log "raw → $label → raw: identical"
	roundtrips=$((roundtrips + 1))
done
[ "$roundtrips" -eq 6 ] || fail "$roundtrips of 6 round trips checked"
# conversions are reproducible: the same bytes from another directory and thread count
for f in qcow2-compressed vdi vpc; do
	mkdir -p "$T/r1" "$T/r2"
	convert --format "$f" --threads 1 "$raw" "$T/r1/disk"
	(cd "$T/r2" && convert --format "$f" --threads 2 "$raw" disk)
	cmp "$T/r1/disk" "$T/r2/disk" || fail "raw → $f: two conversions differ"
	rm -rf "$T/r1" "$T/r2"
done

# raw → raw keeps holes
convert "$raw" "$T/copy.img"
cmp "$raw" "$T/copy.img" || fail "raw → raw differs"
[ "$(du -k "$T/copy.img" | cut -f1)" -le "$(du -k "$raw" | cut -f1)" ] ||
	fail "raw → raw is less sparse than its input"

# 2. files made by qemu-img, back to raw: ours and qemu-img's agree
for v in "qcow2|qcow2|-O qcow2" "qcow2-c|qcow2|-c -O qcow2" \
	"qcow2-zstd|qcow2|-c -O qcow2 -o compression_type=zstd" "vdi|vdi|-O vdi" \
	"vpc|vpc|-O vpc" "vpc-fixed|vpc|-O vpc -o subformat=fixed"; do
	IFS='|' read -r name fmt args <<<"$v"
	q=$T/qemu-$name.$fmt
	in_flags=()
	[ "$name" = vpc-fixed ] && in_flags=(--input-format vpc)
	convert "${in_flags[@]}" "$q" "$T/ours.img"
	qemu-img convert -f "$fmt" -O raw "$q" "$T/theirs.img"
	cmp "$T/ours.img" "$T/theirs.img" || fail "qemu-img $args → raw: ours and qemu-img's differ"
	log "qemu-img $args → raw: identical to qemu-img's"
	qemu_files=$((qemu_files + 1))
done
[ "$qemu_files" -eq 6 ] || fail "$qemu_files of 6 qemu-img files checked"

# 3. hostile input: must fail (exit 1) with one line, leave no output, never crash.
# expect_reject WHAT FILE [STRICT]: convert and inspect of FILE. STRICT 1 (default) requires
# both to fail; "convert" only convert (inspect reads only the headers and tables it shows, so
# a file cut after them is fine for it); 0 allows success (random damage may hit only data).
# Any failure must be a clean one.
expect_reject()
{
	local what=$1 file=$2 strict=${3:-1} rc err cmd first=
	for cmd in convert inspect; do
		rm -rf "$T/rej" && mkdir "$T/rej"
		rc=0
		if [ "$cmd" = convert ]; then
			"$MKDISKIMAGE" convert --no-progress "$file" "$T/rej/out.img" \
				>/dev/null 2>"$T/rej.err" || rc=$?
		else
			"$MKDISKIMAGE" inspect "$file" >/dev/null 2>"$T/rej.err" || rc=$?
		fi
		err=$(cat "$T/rej.err")
		[ "$rc" -lt 128 ] || fail "$what: $cmd died with signal $((rc - 128)): $err"
		if [ "$rc" -eq 0 ]; then
			[ "$strict" = 0 ] || [ "$strict:$cmd" = convert:inspect ] ||
				fail "$what: $cmd succeeded on a damaged file"
			continue
		fi
		[ "$rc" -eq 1 ] || fail "$what: $cmd exited $rc (want 1): $err"
		[ "$(printf '%s\n' "$err" | wc -l)" -eq 1 ] || fail "$what: $cmd: not one line: $err"
		[[ $err == *"$file"* ]] || fail "$what: $cmd: the message does not name the file: $err"
		[ -z "$(ls -A "$T/rej")" ] || fail "$what: $cmd left $(ls -A "$T/rej")"
		[ -n "$first" ] || first=$err
	done
	[ "$strict" = 0 ] || log "$what: rejected: $first"
	rejected=$((rejected + 1))
}

# poke FILE OFFSET HEXBYTES: overwrite bytes in place.
poke()
{
	python3 - "$@" <<'PY'
import sys
path, off, data = sys.argv[1], int(sys.argv[2], 0), bytes.fromhex(sys.argv[3])
with open(path, "r+b") as f:
    f.seek(off)
    f.write(data)
PY
}

# fuzz FILE SEED N LIMIT: flip N random bytes among the first LIMIT bytes.
fuzz()
{
	python3 - "$@" <<'PY'
import random, sys
path, seed, n, limit = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
rng = random.Random(seed)
with open(path, "r+b") as f:
    data = bytearray(f.read(limit))
    for _ in range(n):
        i = rng.randrange(len(data))
        data[i] ^= 1 << rng.randrange(8)
    f.seek(0)
    f.write(data)
PY
}

# vhd_fix_checksum FILE: recompute the dynamic header's checksum (at 512 + 36), so that a
# poked field reaches the reader's field checks instead of failing the checksum.
vhd_fix_checksum()
{
	python3 - "$1" <<'PY'
import struct, sys
with open(sys.argv[1], "r+b") as f:
    f.seek(512)
    h = bytearray(f.read(1024))
    h[36:40] = b"\0\0\0\0"
    f.seek(512 + 36)
    f.write(struct.pack(">I", ~sum(h) & 0xffffffff))
PY
}

# damaged NAME SRC: a fresh copy of SRC at $T/bad-NAME.
damaged()
{
	cp "$2" "$T/bad-$1"
	echo "$T/bad-$1"
}

q=$T/qemu-qcow2.qcow2
f=$(damaged q-trunc-header "$q") && truncate -s 50 "$f" && expect_reject "qcow2 cut to 50 bytes" "$f"
f=$(damaged q-trunc-half "$q") && truncate -s $(($(stat -c %s "$q") / 2)) "$f" &&
	expect_reject "qcow2 cut in half" "$f" convert
f=$(damaged q-cluster-bits "$q") && poke "$f" 20 00000028 &&
	expect_reject "qcow2 cluster_bits 40" "$f"
f=$(damaged q-l1-offset "$q") && poke "$f" 40 1000000000000000 &&
	expect_reject "qcow2 L1 table past the end" "$f"
f=$(damaged q-size "$q") && poke "$f" 24 4000000000000000 &&
	expect_reject "qcow2 size 2^62 with a small L1" "$f"
f=$(damaged q-l1-size "$q") && poke "$f" 36 ffffffff &&
	expect_reject "qcow2 l1_size 2^32-1" "$f"
for s in 1 2 3 4 5 6 7 8; do
	f=$(damaged q-fuzz-$s "$q") && fuzz "$f" "$s" 8 65536 &&
		expect_reject "qcow2 fuzz $s" "$f" 0
done
qc=$T/qemu-qcow2-c.qcow2
f=$(damaged qc-trunc "$qc") && truncate -s $(($(stat -c %s "$qc") - 4096)) "$f" &&
	expect_reject "compressed qcow2 missing its last 4 KiB" "$f" convert

v=$T/qemu-vdi.vdi
f=$(damaged v-trunc-header "$v") && truncate -s 200 "$f" && expect_reject "VDI cut to 200 bytes" "$f"
f=$(damaged v-trunc-half "$v") && truncate -s $(($(stat -c %s "$v") / 2)) "$f" &&
	expect_reject "VDI cut in half" "$f" convert
f=$(damaged v-block-size "$v") && poke "$f" 0x178 03000000 &&
	expect_reject "VDI block size 3" "$f"
f=$(damaged v-blocks "$v") && poke "$f" 0x180 ffffffff &&
	expect_reject "VDI 2^32-1 blocks" "$f"
f=$(damaged v-bmap "$v") && poke "$f" 0x154 f0ffffff &&
	expect_reject "VDI block map past the end" "$f"
for s in 1 2 3 4 5 6 7 8; do
	f=$(damaged v-fuzz-$s "$v") && fuzz "$f" "$s" 8 2048 && expect_reject "VDI fuzz $s" "$f" 0
done

h=$T/qemu-vpc.vpc
f=$(damaged h-trunc-header "$h") && truncate -s 700 "$f" && expect_reject "VHD cut to 700 bytes" "$f"
f=$(damaged h-trunc-half "$h") && truncate -s $(($(stat -c %s "$h") / 2)) "$f" &&
	expect_reject "VHD cut in half" "$f" convert
# dynamic header (at 512): table offset, entry count, block size
f=$(damaged h-checksum "$h") && poke "$f" $((512 + 32)) 00000003 &&
	expect_reject "VHD dynamic header with a bad checksum" "$f"
f=$(damaged h-table "$h") && poke "$f" $((512 + 16)) 1000000000000000 &&
	vhd_fix_checksum "$f" && expect_reject "VHD block table past the end" "$f"
f=$(damaged h-entries "$h") && poke "$f" $((512 + 28)) 00000001 && vhd_fix_checksum "$f" &&
	expect_reject "VHD table of 1 entry for a larger disk" "$f"
f=$(damaged h-block-size "$h") && poke "$f" $((512 + 32)) 00000003 &&
	vhd_fix_checksum "$f" && expect_reject "VHD block size 3" "$f"
for s in 1 2 3 4 5 6 7 8; do
	f=$(damaged h-fuzz-$s "$h") && fuzz "$f" "$s" 8 4096 && expect_reject "VHD fuzz $s" "$f" 0
done
# qcow2 6 + 8 fuzzed + 1 compressed, VDI 5 + 8, VHD 6 + 8
[ "$rejected" -eq 42 ] || fail "$rejected of 42 damaged files checked"
