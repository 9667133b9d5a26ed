#!/usr/bin/env bash
# Round trip of a real tree: the host's /usr/share (~1 GB, ~65k paths on Debian; a subset when
# it is larger than USR_SHARE_MAX_MB, 2000 by default). Oracles: e2fsck -fn; every file's bytes
# through `debugfs rdump` + `diff -r`; the full manifest (modes, owners, ns mtimes, links,
# xattrs) through debugfs and, as root, through a read-only loop mount.
# slow
. "$(dirname "$0")/../lib.sh"
require e2fsck debugfs python3 diff
src=/usr/share
[ -d "$src" ] || skip "no $src"
max=${USR_SHARE_MAX_MB:-2000}
mb=$(du -sm "$src" 2>/dev/null | cut -f1)
if [ "$mb" -gt "$max" ]; then
	# Too big for a quick suite: take the largest subdirectories that fit, copied with
	# everything preserved (cp -a keeps ns mtimes, links, xattrs).
	log "$src is $mb MB: using a subset of at most $max MB"
	mkdir -p "$T/share"
	total=0
	while read -r size dir; do
		[ $((total + size)) -le "$max" ] || continue
		cp -a "$dir" "$T/share/" && total=$((total + size))
	done < <(du -sm "$src"/*/ 2>/dev/null | sort -k2)
	src=$T/share
fi
if ! is_root; then
	unreadable=$(find "$src" ! -readable -print -quit 2>/dev/null)
	[ -z "$unreadable" ] || skip "$unreadable is unreadable to $(id -un)"
fi

build --root "$src" --partition-table legacy+gpt --additional-space 16M -o "$T/share.img"
extract_partition "$T/share.img" 2 "$T/root.ext4"
rm "$T/share.img"
e2fsck_clean "$T/root.ext4"

# Content: every byte, through debugfs's own file reader.
mkdir "$T/rdump"
debugfs -R "rdump / $T/rdump" "$T/root.ext4" >"$T/rdump.log" 2>&1 || {
	tail "$T/rdump.log" >&2
	fail "debugfs rdump failed"
}
rm -rf "$T/rdump/lost+found"
diff -r --no-dereference "$src" "$T/rdump" >"$T/diff" 2>&1 || { head -n 40 "$T/diff" >&2; fail "contents differ"; }
rm -rf "$T/rdump"

# Metadata and hard links, through debugfs and the kernel.
compare_tree "$src" "$T/root.ext4"
