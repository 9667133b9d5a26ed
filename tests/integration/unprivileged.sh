#!/usr/bin/env bash
# A complete build by an unprivileged user (issue #2: "at least one image is built by an
# unprivileged user"): as root we drop to nobody with setpriv (no capabilities, no groups);
# without root we already are unprivileged. The image is then judged like any other.
# quick
. "$(dirname "$0")/../lib.sh"
require e2fsck sfdisk sgdisk debugfs python3

"$DATA/mktree.sh" "$T/src" >/dev/null
mkdir -m 777 "$T/out"
if is_root; then
	require setpriv
	chown -R nobody:nogroup "$T/src"
	# nobody owns and reads the tree; a mode-000 file would be unreadable even to its owner.
	find "$T/src" -type f -perm 000 -delete
	# trusted.* xattrs are invisible to nobody: they cannot be expected in its image.
	setfattr -h -x trusted.overlay.opaque "$T/src/empty-dir" 2>/dev/null || true
	as_user nobody true || skip "cannot switch to nobody"
	[ "$(as_user nobody id -u)" -eq 65534 ] || fail "setpriv did not drop to nobody"
	build_as nobody --root "$T/src" --partition-table efi --additional-space 16M -o "$T/out"
	[ "$(stat -c %U "$T/out/nixos.img")" = nobody ] || fail "the image was not written by nobody"
else
	build --root "$T/src" --partition-table efi --additional-space 16M -o "$T/out"
fi
img=$T/out/nixos.img
out=$(sgdisk -v "$img" 2>&1) || true
grep -q 'No problems found' <<<"$out" || { echo "$out" >&2; fail "sgdisk -v"; }
extract_partition "$img" 2 "$T/root.ext4"
e2fsck_clean "$T/root.ext4"
compare_tree "$T/src" "$T/root.ext4"
