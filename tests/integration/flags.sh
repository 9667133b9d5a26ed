#!/usr/bin/env bash
# The build flags no other test exercised, each judged by an independent oracle (the convert
# flags are in convert-flags.sh):
#   --compression-level   qemu-img check clean, compare equal to raw; level 9 and 12 are smaller
#                         than level 1 on compressible data (deflate), zstd 19 smaller than 1;
#                         a deflate level above 12 is refused
#   --reserved-percent    dumpe2fs "Reserved block count" = Block count * N / 100 (mke2fs -m)
#   --generic-root-type   sgdisk -i: the root partition's type is Linux filesystem data
#   --base-name           the file name in an -o directory, per format extension
#   --additional-paths    accepted and a no-op (the paths are in the closure info): same bytes
#   --spec FILE           the file's settings take effect (label, table, reserved blocks,
#                         format) and flags override them wherever they stand on the line
#   --cluster-size        qemu-img info's cluster-size for 512 .. 2M; check clean; compare equal
#   --fs                  ext4 is accepted (same bytes as without); anything else is refused
#   --help (every command), --output, --deterministic (the default: same bytes),
#   --progress / --no-progress: progress on stderr or none
# quick
. "$(dirname "$0")/../lib.sh"
require qemu-img python3 dumpe2fs sgdisk debugfs

small_text_tree "$T/root"
base=(--root "$T/root" --additional-space 4M --boot-size 16M)

build "${base[@]}" --partition-table efi -o "$T/raw.img"
raw=$T/raw.img

# --- --compression-level
declare -A csize=()
for v in deflate:1 deflate:9 deflate:12 zstd:1 zstd:19; do
	alg=${v%:*} lvl=${v#*:}
	out=$T/c-$alg-$lvl.qcow2
	build "${base[@]}" --partition-table efi --format qcow2-compressed --compression "$alg" \
		--compression-level "$lvl" -o "$out"
	qcheck "$out" qcow2 "$raw"
	csize[$v]=$(stat -c %s "$out")
	log "compression $alg level $lvl: ${csize[$v]} bytes"
done
[ "${csize[deflate:9]}" -lt "${csize[deflate:1]}" ] ||
	fail "deflate level 9 (${csize[deflate:9]}) is not smaller than level 1 (${csize[deflate:1]})"
[ "${csize[deflate:12]}" -lt "${csize[deflate:1]}" ] ||
	fail "deflate level 12 (${csize[deflate:12]}) is not smaller than level 1"
[ "${csize[zstd:19]}" -lt "${csize[zstd:1]}" ] ||
	fail "zstd level 19 (${csize[zstd:19]}) is not smaller than level 1 (${csize[zstd:1]})"
expect_fail "deflate levels go from 1 to 12" "${base[@]}" --format qcow2-compressed \
	--compression-level 13
expect_fail "compressionLevel applies to format raw, qcow2-compressed, vmdk, gce or ova, not qcow2 (remove it or set format = qcow2-compressed)" \
	"${base[@]}" --format qcow2 \
	--compression-level 5

# --- --reserved-percent (mke2fs -m: reserved = blocks * N / 100, rounded down)
for pct in 0 1 5 17 50; do
	build "${base[@]}" --partition-table none --reserved-percent "$pct" -o "$T/r$pct.img"
	e2fsck_clean "$T/r$pct.img"
	blocks=$(dumpe2fs_field "$T/r$pct.img" 'Block count')
	got=$(dumpe2fs_field "$T/r$pct.img" 'Reserved block count')
	[ "$got" = $((blocks * pct / 100)) ] ||
		fail "--reserved-percent $pct: $got reserved blocks of $blocks (expected $((blocks * pct / 100)))"
done
[ "$(dumpe2fs_field "$T/r0.img" 'Reserved block count')" = 0 ] || fail "reserved 0 is not 0"
expect_fail "not a whole percentage from 0 to 50" "${base[@]}" --reserved-percent 51

# --- --generic-root-type: the root partition (the last one on efi) gets 0FC63DAF-...
LINUX_FS=0FC63DAF-8483-4772-8E79-3D69D8477DE4
root_type() { sgdisk -i "$2" "$1" | sed -n 's/^Partition GUID code: \([0-9A-F-]*\).*/\1/p'; }
build "${base[@]}" --partition-table efi --generic-root-type -o "$T/generic.img"
sgdisk -v "$T/generic.img" | grep -q "No problems found" || fail "generic.img: sgdisk -v"
[ "$(root_type "$T/generic.img" 2)" = "$LINUX_FS" ] ||
	fail "--generic-root-type: root type is $(root_type "$T/generic.img" 2), not $LINUX_FS"
# the default is the architecture's root type, and the ESP keeps its type either way
[ "$(root_type "$raw" 2)" != "$LINUX_FS" ] || fail "without --generic-root-type the type is generic"
[ "$(root_type "$T/generic.img" 1)" = "$TYPE_ESP" ] || fail "--generic-root-type changed the ESP"
build "${base[@]}" --partition-table efi --arch aarch64 -o "$T/arm.img"
[ "$(root_type "$T/arm.img" 2)" = "$TYPE_ROOT_AARCH64" ] || fail "--arch aarch64: wrong root type"

# --- --base-name: the name of the file in an -o directory
for v in raw:img qcow2:qcow2 vdi:vdi vpc:vhd; do
	fmt=${v%:*} ext=${v#*:}
	mkdir "$T/dir-$fmt"
	build "${base[@]}" --format "$fmt" --base-name my-disk -o "$T/dir-$fmt"
	[ "$(ls -A "$T/dir-$fmt")" = "my-disk.$ext" ] ||
		fail "--base-name my-disk --format $fmt: the directory holds $(ls -A "$T/dir-$fmt")"
	[ "$(qemu_info "$T/dir-$fmt/my-disk.$ext" format)" = "$fmt" ] || fail "my-disk.$ext: format"
done
mkdir "$T/dir-default"
build "${base[@]}" -o "$T/dir-default"
[ "$(ls -A "$T/dir-default")" = nixos.img ] || fail "default base name: $(ls -A "$T/dir-default")"
expect_fail "not a file name" "${base[@]}" --base-name a/b

# --- --additional-paths: accepted (make-disk-image's flag), and changes nothing
build "${base[@]}" --partition-table efi --additional-paths /nix/store/aaaa-x \
	--additional-paths /nix/store/bbbb-y -o "$T/addl.img"
cmp "$raw" "$T/addl.img" || fail "--additional-paths changed the image"

# --- --fs: ext4 accepted (same bytes), others refused
build "${base[@]}" --partition-table efi --fs ext4 -o "$T/fs-ext4.img"
cmp "$raw" "$T/fs-ext4.img" || fail "--fs ext4 changed the image"
for fs in xfs btrfs vfat; do
	expect_fail "fsType \"$fs\" is not supported (use ext4, or erofs for a read-only root)" "${base[@]}" --fs "$fs"
done
expect_fail "empty (use ext4)" "${base[@]}" --fs ""

# --- --spec FILE: its settings take effect; flags override it wherever they stand
cat >"$T/spec.json" <<EOF
{
  "root": "root",
  "partitionTableType": "efi",
  "label": "from-spec",
  "reservedPercent": 10,
  "additionalSpace": "4M",
  "bootSize": "16M",
  "format": "qcow2",
  "clusterSize": "4K"
}
EOF
build --spec "$T/spec.json" -o "$T/spec.qcow2"
[ "$(qemu_info "$T/spec.qcow2" format)" = qcow2 ] || fail "spec format qcow2 not applied"
[ "$(qemu_info "$T/spec.qcow2" cluster-size)" = 4096 ] || fail "spec clusterSize 4K not applied"
qemu-img convert -f qcow2 -O raw "$T/spec.qcow2" "$T/spec.raw"
sgdisk -v "$T/spec.raw" | grep -q "No problems found" || fail "spec.raw: sgdisk -v"
[ "$(root_type "$T/spec.raw" 1)" = "$TYPE_ESP" ] || fail "spec partitionTableType efi not applied"
extract_partition "$T/spec.raw" 2 "$T/spec.root"
e2fsck_clean "$T/spec.root"
[ "$(dumpe2fs_field "$T/spec.root" 'Filesystem volume name')" = from-spec ] ||
	fail "spec label not applied"
blocks=$(dumpe2fs_field "$T/spec.root" 'Block count')
[ "$(dumpe2fs_field "$T/spec.root" 'Reserved block count')" = $((blocks / 10)) ] ||
	fail "spec reservedPercent 10 not applied"
debugfs -R 'cat /etc/hello' "$T/spec.root" 2>/dev/null | grep -qx hello ||
	fail "spec root (relative to the spec's directory) not copied"
# flags override, before or after --spec
build --label from-flag --format raw --spec "$T/spec.json" --reserved-percent 0 -o "$T/over.img"
[ "$(qemu_info "$T/over.img" format)" = raw ] || fail "--format raw did not override the spec"
extract_partition "$T/over.img" 2 "$T/over.root"
[ "$(dumpe2fs_field "$T/over.root" 'Filesystem volume name')" = from-flag ] ||
	fail "--label did not override the spec"
[ "$(dumpe2fs_field "$T/over.root" 'Reserved block count')" = 0 ] ||
	fail "--reserved-percent 0 did not override the spec"
# a later spec file overrides an earlier one
echo '{"label": "second"}' >"$T/second.json"
build --spec "$T/spec.json" --spec "$T/second.json" --format raw -o "$T/two.img"
extract_partition "$T/two.img" 2 "$T/two.root"
[ "$(dumpe2fs_field "$T/two.root" 'Filesystem volume name')" = second ] ||
	fail "the second --spec did not override the first"

# --- --cluster-size (build)
for cs in 0.5K 4K 64K 512K 2M; do
	bytes=$(numfmt --from=iec "$cs")
	build "${base[@]}" --partition-table efi --format qcow2 --cluster-size "$cs" -o "$T/cs-$cs.qcow2"
	[ "$(qemu_info "$T/cs-$cs.qcow2" cluster-size)" = "$bytes" ] ||
		fail "--cluster-size $cs: qemu-img info says $(qemu_info "$T/cs-$cs.qcow2" cluster-size)"
	qcheck "$T/cs-$cs.qcow2" qcow2 "$raw"
done
expect_fail "not a power of two from 0.5K to 2M" "${base[@]}" --format qcow2 --cluster-size 4M

# --- --help of every command, --output, --deterministic, --progress / --no-progress
for c in build convert inspect boot-test; do
	"$MKDISKIMAGE" "$c" --help >"$T/help.out" 2>&1 || fail "$c --help exits non-zero"
	grep -qi "^usage: mkdiskimage $c" "$T/help.out" || fail "$c --help: no usage: $(head -1 "$T/help.out")"
done
build "${base[@]}" --partition-table efi --deterministic --output "$T/det.img"
cmp "$raw" "$T/det.img" || fail "--deterministic --output changed the image"
"$MKDISKIMAGE" build "${base[@]}" --progress -o "$T/prog.img" 2>"$T/prog.err" ||
	fail "build --progress failed: $(cat "$T/prog.err")"
grep -q $'\r.*files' "$T/prog.err" || fail "build --progress: no progress on stderr"
build "${base[@]}" --no-progress -o "$T/noprog.img"
! grep -q $'\r' "$T/build.err" || fail "build --no-progress: progress on stderr"
cmp "$T/prog.img" "$T/noprog.img" || fail "--progress changed the image"
log "ok"
