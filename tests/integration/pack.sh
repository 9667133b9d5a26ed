#!/usr/bin/env bash
# Whole-file packaging: raw --compress zstd|gzip|xz (-o x.img.zst/.gz/.xz) and gce (disk.raw in
# an oldgnu sparse tar.gz). The stock tools judge: zstd -t, gzip -t, xz -t, decompressed bytes
# cmp'd with the raw build and qemu-img compare; tar -tvzf lists disk.raw with the disk's size,
# tar -xSzf extracts it identical and sparse. Two builds and any --threads give the same
# bytes; convert reads each back to the raw bytes and writes them again identically; truncated
# inputs fail with one line and leave no output.
# quick
. "$(dirname "$0")/../lib.sh"
require qemu-img zstd gzip xz tar python3
# the tar members' mtime (and the vmdk's): fixed, so that builds compare byte for byte
export SOURCE_DATE_EPOCH=1700000000

mkdir -p "$T/root/etc" "$T/root/usr/share/doc"
echo hello >"$T/root/etc/hello"
head -c 300000 /dev/urandom >"$T/root/usr/share/doc/random.bin"
seq 1 100000 >"$T/root/usr/share/doc/numbers.txt"
base=(--root "$T/root" --additional-space 4M --boot-size 16M --partition-table efi)

build "${base[@]}" -o "$T/disk.img"
size=$(stat -c %s "$T/disk.img")

unpack()
{
	case $1 in
	*.zst) zstd -q -t "$1" && zstd -q -dc "$1" ;;
	*.gz) gzip -t "$1" && gzip -dc "$1" ;;
	*.xz) xz -t "$1" && xz -dc "$1" ;;
	esac
}

for ext in zst gz xz; do
	out=$T/disk.img.$ext
	build "${base[@]}" -o "$out"
	grep -q "raw" "$T/build.out" "$T/build.err" || fail "$ext: build did not say raw"
	unpack "$out" >"$T/unpacked" || fail "$ext: the stock tool rejects $out"
	cmp "$T/unpacked" "$T/disk.img" || fail "$ext: decompressed bytes differ from the raw build"
	qemu-img compare -f raw -F raw "$T/unpacked" "$T/disk.img" >/dev/null ||
		fail "$ext: qemu-img compare"
	[ "$(stat -c %s "$out")" -lt $((size / 10)) ] || fail "$ext: not compressed"
	for threads in 1 3; do
		build "${base[@]}" --threads "$threads" -o "$T/t$threads.img.$ext"
		cmp "$out" "$T/t$threads.img.$ext" || fail "$ext: --threads $threads changes the bytes"
	done
	# convert reads it back, and writes the same file from the raw image
	"$MKDISKIMAGE" convert "$out" "$T/back.img" >/dev/null 2>&1 || fail "$ext: convert in"
	cmp "$T/back.img" "$T/disk.img" || fail "$ext: convert to raw differs"
	"$MKDISKIMAGE" inspect "$out" >"$T/inspect.out" 2>&1 || fail "$ext: inspect"
	grep -q "format raw-compressed" "$T/inspect.out" || fail "$ext: inspect: $(cat "$T/inspect.out")"
	rm -f "$T/back.img"
	# a truncated file: one line, no output
	head -c 20000 "$out" >"$T/trunc.$ext"
	if "$MKDISKIMAGE" convert "$T/trunc.$ext" "$T/trunc.img" 2>"$T/err"; then
		fail "$ext: a truncated file converted"
	fi
	[ "$(wc -l <"$T/err")" -eq 1 ] && grep -q truncated "$T/err" ||
		fail "$ext: truncated input: $(cat "$T/err")"
	[ ! -e "$T/trunc.img" ] || fail "$ext: output left behind"
	rm -f "$T/unpacked" "$T/t1.img.$ext" "$T/t3.img.$ext"
done

# --compress with a plain name; a level of the compressor's own range
build "${base[@]}" --compress xz --compression-level 1 -o "$T/plain.img"
xz -t "$T/plain.img" || fail "--compress xz with a .img name is not xz"
mkdir -p "$T/fail"
expect_fail "compressionLevel 13: gzip levels go from 1 to 12" "${base[@]}" \
	--compression-level 13 -o "$T/fail/x.img.gz"
expect_fail "compress applies to format raw, not qcow2" "${base[@]}" --compress zstd \
	--format qcow2
rm -f "$T/plain.img"

# gce: what `tar --format=oldgnu -Sczf disk.raw` makes, by GNU tar's judgement
gce=$T/nixos-image.raw.tar.gz
build "${base[@]}" -o "$gce"
grep -q ": gce," "$T/build.out" "$T/build.err" || fail "gce: build did not say gce"
gzip -t "$gce" || fail "gce: gzip -t"
listing=$(tar -tvzf "$gce")
[ "$(printf '%s\n' "$listing" | wc -l)" -eq 1 ] || fail "gce: more than one member: $listing"
read -r mode owner fsize _ _ name <<<"$listing"
[ "$mode" = "-rw-r--r--" ] && [ "$owner" = root/root ] && [ "$fsize" = "$size" ] &&
	[ "$name" = disk.raw ] || fail "gce: tar lists '$listing'"
mkdir "$T/x"
tar -xSzf "$gce" -C "$T/x"
cmp "$T/x/disk.raw" "$T/disk.img" || fail "gce: extracted disk.raw differs from the raw build"
[ "$(du -k "$T/x/disk.raw" | cut -f1)" -lt $((size / 1024 / 2)) ] || fail "gce: not sparse"
python3 -c 'import sys, tarfile; m = tarfile.open(sys.argv[1]).getmembers()
assert [x.name for x in m] == ["disk.raw"] and m[0].sparse, m' "$gce" ||
	fail "gce: Python tarfile does not see one sparse disk.raw"
build "${base[@]}" --threads 1 -o "$T/t1.raw.tar.gz"
cmp "$gce" "$T/t1.raw.tar.gz" || fail "gce: --threads 1 changes the bytes"
build "${base[@]}" --format gce -o "$T/named.tgz"
cmp "$gce" "$T/named.tgz" || fail "gce: --format gce differs"
assert_reproducible "${base[@]}" --format gce
"$MKDISKIMAGE" convert "$gce" "$T/back.img" >/dev/null 2>&1 || fail "gce: convert in"
cmp "$T/back.img" "$T/disk.img" || fail "gce: convert to raw differs"
SOURCE_DATE_EPOCH=0 "$MKDISKIMAGE" convert --seed s "$T/disk.img.xz" "$T/conv.raw.tar.gz" \
	>/dev/null 2>&1 || fail "gce: convert out"
tar -xSzf "$T/conv.raw.tar.gz" -O | cmp - "$T/disk.img" || fail "gce: converted gce differs"
# GNU tar's own sparse archive (4 KiB extents, extension blocks) reads back as the disk
(cd "$T/x" && tar --format=oldgnu -Sczf "$T/gnu.tar.gz" disk.raw)
"$MKDISKIMAGE" convert "$T/gnu.tar.gz" "$T/gnu.img" >/dev/null 2>&1 || fail "gce: convert GNU tar's"
cmp "$T/gnu.img" "$T/disk.img" || fail "gce: GNU tar's archive reads back different"
head -c 30000 "$gce" >"$T/trunc.tar.gz"
if "$MKDISKIMAGE" convert "$T/trunc.tar.gz" "$T/trunc.img" 2>"$T/err"; then
	fail "gce: a truncated file converted"
fi
[ "$(wc -l <"$T/err")" -eq 1 ] || fail "gce: truncated input: $(cat "$T/err")"
[ ! -e "$T/trunc.img" ] || fail "gce: output left behind"

# ova: needs the vmdk writer
ova=$T/nixos.ova
if ! "$MKDISKIMAGE" build "${base[@]}" --label nixos -o "$ova" >/dev/null 2>"$T/err"; then
	grep -q "needs the vmdk writer" "$T/err" || fail "ova: $(cat "$T/err")"
	skip_case "ova: no vmdk writer in this build"
else
	require xmllint
	names=$(tar -tf "$ova" | tr '\n' ' ')
	[ "$names" = "nixos.ovf nixos-disk1.vmdk nixos.mf " ] || fail "ova: members '$names'"
	[ "$(tar -tvf "$ova" | grep -c "^-rw-r--r-- root/root ")" -eq 3 ] || fail "ova: owner or mode"
	mkdir "$T/ova" && tar -xf "$ova" -C "$T/ova"
	xmllint --noout "$T/ova/nixos.ovf" || fail "ova: the descriptor is not well-formed XML"
	grep -q "ovf:size=\"$(stat -c %s "$T/ova/nixos-disk1.vmdk")\"" "$T/ova/nixos.ovf" ||
		fail "ova: ovf:size is not the vmdk's size"
	grep -q 'vmw:value="efi"' "$T/ova/nixos.ovf" || fail "ova: an efi layout without firmware efi"
	(cd "$T/ova" && sed -E 's/^SHA256\((.*)\)= (.*)$/\2  \1/' nixos.mf | sha256sum -c --quiet) ||
		fail "ova: the manifest's digests"
	qemu-img check -f vmdk "$T/ova/nixos-disk1.vmdk" >/dev/null || fail "ova: qemu-img check"
	qemu-img compare -f vmdk -F raw "$T/ova/nixos-disk1.vmdk" "$T/disk.img" >/dev/null ||
		fail "ova: the vmdk differs from the raw build"
	"$MKDISKIMAGE" convert "$ova" "$T/ova.img" >/dev/null 2>&1 || fail "ova: convert in"
	cmp "$T/ova.img" "$T/disk.img" || fail "ova: convert to raw differs"
	build "${base[@]}" --label nixos --threads 1 -o "$T/t1.ova"
	cmp "$ova" "$T/t1.ova" || fail "ova: --threads 1 changes the bytes"
fi
log "ok"
