#!/usr/bin/env bash
# Round trip of a real root filesystem: a Debian minbase tree made once by debootstrap and kept
# in tests/.cache (delete it to refresh). Oracles: e2fsck -fn and the full manifest (debugfs and
# a read-only loop mount). Needs root (debootstrap chroots and makes device nodes) and the Debian
# mirror; skips (77) when either is missing.
# slow
. "$(dirname "$0")/../lib.sh"
require e2fsck debugfs python3
SUITE=${DEBOOTSTRAP_SUITE:-bookworm}
MIRROR=${DEBOOTSTRAP_MIRROR:-http://deb.debian.org/debian}
cached=$CACHE/debootstrap-$SUITE-minbase

if [ ! -d "$cached" ]; then
	require_root
	require debootstrap
	python3 - "$MIRROR/dists/$SUITE/Release" <<'PY' || skip "the Debian mirror $MIRROR is unreachable"
import sys, urllib.request
urllib.request.urlopen(sys.argv[1], timeout=20).read(100)
PY
	mkdir -p "$CACHE"
	tmp=$(mktemp -d "$CACHE/.debootstrap.XXXXXX")
	log "debootstrap --variant=minbase $SUITE (once; cached in $cached)"
	if ! debootstrap --variant=minbase "$SUITE" "$tmp" "$MIRROR" >"$T/debootstrap.log" 2>&1; then
		tail -n 20 "$T/debootstrap.log" >&2
		rm -rf "$tmp"
		skip "debootstrap failed (see above)"
	fi
	# Drop caches that differ between runs; the tree is otherwise as debootstrap left it.
	rm -rf "$tmp"/var/cache/apt/archives/*.deb
	mv "$tmp" "$cached"
fi
is_root || skip "the cached Debian tree holds root-only files"

build --root "$cached" --partition-table efi --additional-space 64M -o "$T/debian.img"
extract_partition "$T/debian.img" 2 "$T/root.ext4"
rm "$T/debian.img"
e2fsck_clean "$T/root.ext4"
compare_tree "$cached" "$T/root.ext4"
assert_reproducible --root "$cached" --partition-table efi --additional-space 64M
