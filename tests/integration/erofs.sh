#!/usr/bin/env bash
# erofs (issue #15): a tree with every node type — files of 0 bytes to several blocks (tail
# packing, exact blocks), a sparse file, a multi-block directory, names sorting before ".",
# short and long symlinks, hard links, devices and a FIFO, owners over 65535, differing
# mtimes with nanoseconds, user./security. xattrs and a POSIX ACL — as an erofs partition of
# a "partitions" list, the root of layout none, and --only-nix-store --fs erofs. Oracles:
# sfdisk (the partition), blkid (TYPE=erofs, label, UUID), fsck.erofs (clean) and its
# --extract compared with the source (content, type, mode, owner, mtime in ns, symlinks,
# devices: what fsck.erofs 1.5 restores), dump.erofs -s (superblock fields) and --path (hard
# links share a nid), inspect (the probe); as root the kernel: a loop mount compared with
# the source in every byte and attribute, xattrs and ACLs included. Two builds are
# identical. The same with lz4 and lz4hc compression (and the same bytes for any --threads).
# Bad requests fail with one line.
# quick
. "$(dirname "$0")/../lib.sh"
require sfdisk blkid fsck.erofs dump.erofs python3

S=$T/spec
TREE=$S/tree
mkdir -p "$TREE/dir/sub" "$TREE/big" "$TREE/empty"
: >"$TREE/zero"
printf x >"$TREE/one"
head -c 4095 /dev/urandom >"$TREE/dir/b4095"
head -c 4096 /dev/urandom >"$TREE/dir/b4096"
head -c 4097 /dev/urandom >"$TREE/dir/b4097"
head -c 70000 /dev/urandom >"$TREE/dir/sub/b70000"
truncate -s 1M "$TREE/sparse"
printf 'middle' | dd of="$TREE/sparse" bs=1 seek=500000 conv=notrunc status=none
printf 'minus\n' >"$TREE/-sorts-before-dot"
seq 1 60000 >"$TREE/dir/seq.txt" # compressible: lz4 extents of up to 64 KiB
{ seq 1 3000; head -c 9000 /dev/urandom; seq 1 5000; } >"$TREE/mixed" # plain extents between
for i in $(seq 1 300); do printf '%s\n' "$i" >"$TREE/big/entry-with-a-longish-name-$i"; done
ln -s one "$TREE/link"
ln -s "$(printf 'l%.0s' $(seq 1 3000))" "$TREE/dir/longlink"
ln "$TREE/dir/b4097" "$TREE/hard1"
ln "$TREE/dir/b4097" "$TREE/dir/sub/hard2"
mkfifo "$TREE/fifo"
touch -d '2001-02-03 04:05:06.123456789' "$TREE/one" "$TREE/dir/b4095"
if is_root; then
	mknod "$TREE/chr" c 1 3
	mknod "$TREE/blk" b 8 300
	chown 70000:70001 "$TREE/dir/b4096"
	chown 1000:100 "$TREE/one"
	setfattr -n security.capability -v 0sAQAAAgAgAAAAAAAAAAAAAAAAAAA= "$TREE/dir/sub/b70000"
fi
if setfattr -n user.note -v hello "$TREE/zero" 2>/dev/null; then
	setfattr -n user.big -v "0x$(head -c 300 /dev/urandom | od -An -tx1 | tr -d ' \n')" "$TREE/dir"
	command -v setfacl >/dev/null && setfacl -m u:1234:rwx "$TREE/dir/sub"
else
	skip_case "xattrs (the test directory's filesystem takes no user xattrs)"
fi
chmod 4755 "$TREE/dir/b4095"
touch -d '2020-01-01 00:00:00' "$TREE/dir/sub" "$TREE/dir" "$TREE/big" "$TREE"

# strip_extract MANIFEST: drop the hard-link and xattr columns and the setuid/setgid/sticky
# bits (fsck.erofs 1.5 --extract restores none of them: dump.erofs and the loop mount check).
strip_extract()
{
	awk -F'\t' -v OFS='\t' '{ $3 = substr($3, length($3) - 2); $10 = "-"; $12 = "-"; print }' "$1"
}

# check_erofs FILE LABEL: the oracles on one erofs filesystem image.
check_erofs()
{
	local fs=$1 label=$2 sb blocks uuid x
	fsck.erofs "$fs" >"$T/fsck.log" 2>&1 || { cat "$T/fsck.log" >&2; fail "fsck.erofs $fs"; }
	[ "$(blkid -p -o value -s TYPE "$fs")" = erofs ] || fail "blkid: not erofs"
	[ "$(blkid -p -o value -s LABEL "$fs")" = "$label" ] || fail "blkid: label"
	uuid=$(blkid -p -o value -s UUID "$fs")
	sb=$(dump.erofs -s "$fs")
	grep -q 'magic number:[[:space:]]*0xE0F5E1E2' <<<"$sb" || fail "dump.erofs: magic"
	grep -q 'root nid:[[:space:]]*36$' <<<"$sb" || fail "dump.erofs: root nid"
	grep -q 'features:[[:space:]]*sb_csum mtime' <<<"$sb" || fail "dump.erofs: features"
	grep -qi "UUID:[[:space:]]*$uuid" <<<"$sb" || fail "dump.erofs: UUID is not blkid's"
	blocks=$(sed -n 's/^Filesystem blocks:[[:space:]]*//p' <<<"$sb")
	[ $((blocks * 4096)) -le "$(stat -c %s "$fs")" ] || fail "erofs blocks run past the partition"
	x=$T/extract
	rm -rf "$x"
	fsck.erofs --extract="$x" "$fs" >"$T/fsck.log" 2>&1 ||
		{ cat "$T/fsck.log" >&2; fail "fsck.erofs --extract"; }
	manifest "$TREE" >"$T/src.manifest"
	manifest "$x" >"$T/x.manifest"
	diff -u <(strip_extract "$T/src.manifest") <(strip_extract "$T/x.manifest") >&2 ||
		fail "fsck.erofs --extract differs from the source"
	rm -rf "$x"
	[ "$(dump.erofs --path=/hard1 "$fs" | sed -n 's/^NID: \([0-9]*\).*/\1/p')" = \
		"$(dump.erofs --path=/dir/sub/hard2 "$fs" | sed -n 's/^NID: \([0-9]*\).*/\1/p')" ] ||
		fail "hard links do not share a nid"
	dump.erofs --path=/hard1 "$fs" | grep -q 'Links: 3' || fail "hard link count"
	if can_loop_mount; then
		mkdir -p "$T/mnt"
		mount -t erofs -o loop,ro "$fs" "$T/mnt" || fail "the kernel refuses to mount $fs"
		_MOUNTS+=("$T/mnt")
		manifest "$T/mnt" | grep -v '^\.	' >"$T/mnt.manifest"
		unmount "$T/mnt"
		diff -u <(grep -v '^\.	' "$T/src.manifest") "$T/mnt.manifest" >&2 ||
			fail "the mounted erofs differs from the source"
	else
		skip_case "erofs loop mount of $(basename "$fs") (needs root and loop devices)"
	fi
}

# 1. An erofs partition in a GPT "partitions" list, beside swap.
cat >"$S/list.json" <<EOF
{ "partitionTableType": "gpt",
  "partitions": [
    {"type": "swap", "size": "4M", "fs": "swap"},
    {"type": "linux", "fs": "erofs", "size": "auto", "contents": "tree/", "label": "data"}
  ] }
EOF
build "$S/list.json" "$T/list.img"
sfdisk --json "$T/list.img" | python3 -c '
import json, sys
p = json.load(sys.stdin)["partitiontable"]["partitions"]
assert len(p) == 2 and p[1]["type"] == "0FC63DAF-8483-4772-8E79-3D69D8477DE4", p
' || fail "sfdisk: the partitions"
extract_partition "$T/list.img" 2 "$T/part.erofs"
check_erofs "$T/part.erofs" data
"$MKDISKIMAGE" inspect "$T/list.img" >"$T/inspect.out" || fail "inspect"
grep -q 'filesystem: erofs, label "data"' "$T/inspect.out" || fail "inspect does not see erofs"
assert_reproducible "$S/list.json" "$T/x.img"

# 2. The root of layout none as erofs: the smallest whole MiB that holds it.
build --root "$TREE" --fs erofs --partition-table none --label rootfs -o "$T/root.img"
check_erofs "$T/root.img" rootfs
blocks=$(dump.erofs -s "$T/root.img" | sed -n 's/^Filesystem blocks:[[:space:]]*//p')
[ "$(stat -c %s "$T/root.img")" -eq $(((blocks * 4096 + 1048575) / 1048576 * 1048576)) ] ||
	fail "layout none: the image is not the smallest whole MiB holding the filesystem"

# 3. lz4 and lz4hc (level 12): compressed files (fixed 4 KiB pclusters, 0padding), same oracles;
# deterministic.
for z in lz4 lz4hc; do
	lvl=()
	[ "$z" = lz4hc ] && lvl=(--compression-level 12)
	build --root "$TREE" --fs erofs --partition-table none --label "$z" --compression "$z" \
		"${lvl[@]}" -o "$T/$z.img"
	dump.erofs -s "$T/$z.img" | grep -q 'features:.*0padding' || fail "$z: no 0padding feature"
	dump.erofs --path=/dir/seq.txt "$T/$z.img" | grep -q 'Layout: 1' ||
		fail "$z: /dir/seq.txt is not compressed"
	zb=$(dump.erofs -s "$T/$z.img" | sed -n 's/^Filesystem blocks:[[:space:]]*//p')
	[ "$zb" -lt "$blocks" ] || fail "$z: $zb blocks, uncompressed $blocks"
	[ "$z" = lz4 ] || [ "$zb" -le "$lz4_blocks" ] || fail "lz4hc: $zb blocks, lz4 $lz4_blocks"
	lz4_blocks=$zb
	check_erofs "$T/$z.img" "$z"
done
assert_reproducible --root "$TREE" --fs erofs --partition-table none --compression lz4hc \
	--threads 1 -o "$T/x.img"
build --root "$TREE" --fs erofs --partition-table none --label lz4hc --compression lz4hc \
	--compression-level 12 --threads 3 -o "$T/threads.img"
cmp "$T/lz4hc.img" "$T/threads.img" || fail "lz4hc: --threads changed the bytes"

# 4. --only-nix-store --fs erofs on a small store (nix-store --add writes /nix/store: root).
if is_root && command -v nix-store >/dev/null; then
	export NIX_REMOTE=
	export NIX_CONFIG=$'sandbox = false\nbuild-users-group =\nsubstituters ='
	mkdir -p "$T/pkg/bin" "$T/ci"
	printf '#!/bin/sh\necho erofs-test\n' >"$T/pkg/bin/hello"
	chmod 755 "$T/pkg/bin/hello"
	head -c 9000 /dev/urandom >"$T/pkg/data"
	p=$(nix-store --add "$T/pkg") || fail "nix-store --add"
	printf '%s\n' "$p" >"$T/ci/store-paths"
	nix-store --dump-db "$p" >"$T/ci/registration"
	build --closure-info "$T/ci" --only-nix-store --fs erofs --partition-table none \
		-o "$T/store.img"
	[ "$(blkid -p -o value -s TYPE "$T/store.img")" = erofs ] || fail "store: not erofs"
	[ "$(blkid -p -o value -s LABEL "$T/store.img")" = nix-store ] || fail "store: label"
	fsck.erofs "$T/store.img" >/dev/null 2>&1 || fail "store: fsck.erofs"
	mkdir -p "$T/smnt"
	mount -t erofs -o loop,ro "$T/store.img" "$T/smnt" || fail "store: mount"
	_MOUNTS+=("$T/smnt")
	[ "$(ls -A "$T/smnt")" = "${p#/nix/store/}" ] || fail "store: the top level is not the path"
	diff -r "$p" "$T/smnt/${p#/nix/store/}" || fail "store: content differs"
	[ "$(stat -c '%Y %a' "$T/smnt/${p#/nix/store/}/bin/hello")" = "1 555" ] || fail "store: metadata"
	unmount "$T/smnt"
else
	skip_case "--only-nix-store --fs erofs (needs root and nix-store)"
fi

# 5. Bad requests.
expect_fail "compression lz4: compresses erofs filesystems and the image has none" \
	--root "$TREE" --partition-table none --compression lz4
expect_fail "compressionLevel: lz4 has no levels" \
	--root "$TREE" --fs erofs --partition-table none --compression lz4 --compression-level 3
expect_fail "compressionLevel 13: lz4hc levels go from 1 to 12" \
	--root "$TREE" --fs erofs --partition-table none --compression lz4hc --compression-level 13
cat >"$S/space.json" <<EOF
{ "partitionTableType": "gpt",
  "partitions": [ {"type": "linux", "fs": "erofs", "contents": "tree/", "additionalSpace": "1M"} ] }
EOF
expect_fail "partitions[0].additionalSpace: erofs is read-only" --spec "$S/space.json"
cat >"$S/label.json" <<EOF
{ "partitionTableType": "gpt",
  "partitions": [ {"type": "linux", "fs": "erofs", "contents": "tree/", "fsLabel": "a-label-of-16-ch"} ] }
EOF
expect_fail "erofs labels hold at most 15 bytes" --spec "$S/label.json"
