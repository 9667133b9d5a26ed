#!/usr/bin/env bash
# Round trip of a generated tree covering every node type and edge case (tests/data/mktree.sh):
# the image's root filesystem must hold exactly the source tree — bytes, modes, owners, ns
# mtimes, symlink targets, devices, hard links, xattrs, ACLs, capabilities — as read by debugfs
# and, as root, by the kernel (read-only loop mount). Sparse files keep their holes.
# Root is optional: without it devices, foreign owners and trusted.* are left out of the tree.
# quick
. "$(dirname "$0")/../lib.sh"
require e2fsck debugfs sfdisk python3 setfattr setfacl

"$DATA/mktree.sh" "$T/src"
mkdir "$T/out"
build --root "$T/src" --additional-space 16M -o "$T/out"
img=$T/out/nixos.img
[ -f "$img" ] || fail "-o DIR did not produce DIR/nixos.img"

# The raw output itself is sparse: ~10 GiB of sparse input must not become ~10 GiB on disk.
alloc=$(($(stat -c %b "$img") * 512))
[ "$alloc" -lt $((256 * MIB)) ] || fail "image allocates $alloc bytes: holes were written"

extract_partition "$img" 1 "$T/root.ext4"
e2fsck_clean "$T/root.ext4"
compare_tree "$T/src" "$T/root.ext4"

# Holes stay holes in the filesystem: the 5 GiB file has 5 small islands, the 4.1 GiB one one.
blocks_of()
{
	debugfs -R "stat \"$1\"" "$T/root.ext4" 2>/dev/null | sed -n 's/.*Blockcount: \([0-9]*\).*/\1/p'
}
for f in sparse-5g sparse-4.1g-tail hole-at-end; do
	b=$(blocks_of "/$f")
	[ -n "$b" ] || fail "debugfs: no Blockcount for /$f"
	# Blockcount is in 512-byte sectors; allow extent-tree blocks besides the islands.
	[ "$b" -le 256 ] || fail "/$f occupies $b sectors: its holes were filled"
done
b=$(blocks_of /many-extents)
[ "$b" -ge $((1000 * 8)) ] && [ "$b" -le $((1000 * 8 + 64)) ] ||
	fail "/many-extents occupies $b sectors, expected 1000 data blocks plus a few tree blocks"
# `ex` lists tree levels as "level/depth": a depth-1 tree has "0/ 1" index and "1/ 1" leaf rows.
debugfs -R 'ex /many-extents' "$T/root.ext4" 2>/dev/null | grep -qE '^ *1/ *[1-9]' ||
	fail "/many-extents: no extent tree below the inode (1000 extents cannot fit in it)"
# The zero-filled (non-sparse) file may become a hole; its content was compared above.

# The htree of the 3000-entry directory.
debugfs -R 'htree /wide' "$T/root.ext4" 2>/dev/null | grep -q 'Root node dump' ||
	fail "/wide (3000 entries) has no htree index"

if can_loop_mount; then
	loop_mount "$T/root.ext4" "$T/mnt"
	du=$(du -k "$T/mnt/sparse-5g" | cut -f1)
	[ "$du" -lt 1024 ] || fail "mounted /sparse-5g uses $du KiB"
	[ "$(stat -c %h "$T/mnt/dir-a/hard1")" -eq 3 ] || fail "hard1 link count is not 3"
	[ "$(stat -c %h "$T/mnt/dir-a")" -eq 3 ] || fail "dir-a link count is not 3 (., .., sub)"
	cmp "$T/src/sparse-5g" "$T/mnt/sparse-5g" || fail "sparse-5g bytes differ"
	[ "$(cat "$T/mnt/deep$(printf '/d%.0s' {1..300})/file")" = bottom ] || fail "deep file lost"
	unmount "$T/mnt"
fi

assert_reproducible --root "$T/src" --additional-space 16M
