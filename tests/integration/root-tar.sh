#!/usr/bin/env bash
# --root-tar (issue #13): a root-owned tree -- 0600 and 0000 files, a 0700 directory, setuid,
# capabilities, ACLs, trusted.* xattrs, hard links, multi-GiB sparse files, devices, pre-1970
# and post-2038 times (tests/data/mktree.sh) -- built by an unprivileged user from a tar of it.
# Oracles: the same tree built with --root as root gives the same image bytes; e2fsck -fn;
# debugfs's manifest against the source tree (tests/lib.sh compare_tree); debugfs stat/ea_list
# of the files nobody cannot read. Also: --root as nobody names every unreadable file in one
# error, and bad archives are refused with one line.
. "$(dirname "$0")/../lib.sh"
require e2fsck debugfs sfdisk tar zstd gzip python3 setfacl qemu-img
is_root || skip "needs root to make a root-owned tree (devices, capabilities, owners)"
require setpriv
as_user nobody true || skip "cannot switch to nobody"
unset SOURCE_DATE_EPOCH # keep the post-2038 and nanosecond times

src=$T/src
"$DATA/mktree.sh" "$src" >/dev/null
rm "$src/socket" # tar does not archive sockets ("socket ignored")
printf 'root:*:19000:0:99999:7:::\n' >"$src/shadow" && chmod 600 "$src/shadow"
printf 'root:*::\n' >"$src/gshadow" && chmod 640 "$src/gshadow"
mkdir -m 700 "$src/root-home"
printf 'PRIVATE KEY\n' >"$src/root-home/id_ed25519" && chmod 600 "$src/root-home/id_ed25519"
chmod 755 "$src"
mkdir -m 777 "$T/out"
args=(--partition-table efi --additional-space 16M)

# As nobody, --root names everything it cannot read, in one line, with the way out.
EXPECT_FAIL_PREFIX=(setpriv --reuid nobody --regid nogroup --clear-groups --)
expect_fail "cannot read 5 files of $src as uid 65534: gshadow, mode-000, setgid, shadow, root-home/; run as their owner, or pack the tree where it can be read: tar --xattrs -C $src -c . | mkdiskimage build --root-tar -" \
	--root "$src" "${args[@]}" -o "$T/out/fail.img"
EXPECT_FAIL_PREFIX=()

# Root packs the tree; nobody builds from the archive, from a file and from standard input.
tar --xattrs --sparse -C "$src" -c . | zstd -q >"$T/root.tar.zst"
chmod 644 "$T/root.tar.zst"
build_as nobody --root-tar "$T/root.tar.zst" "${args[@]}" -o "$T/out/tar.img"
tar --xattrs --sparse -C "$src" -c . | gzip -1 |
	as_user nobody "$MKDISKIMAGE" build --root-tar - "${args[@]}" -o "$T/out/stdin.img" \
		2>"$T/stdin.err" || { cat "$T/stdin.err" >&2; fail "--root-tar - as nobody failed"; }

# The oracle of oracles: root's build from the directory is the same image.
build --root "$src" "${args[@]}" -o "$T/out/dir.img"
cmp "$T/out/dir.img" "$T/out/tar.img" || fail "--root-tar and --root images differ"
cmp "$T/out/dir.img" "$T/out/stdin.img" || fail "--root-tar - and --root images differ"
# The spec key: rootTar, relative to the spec file's directory.
printf '{"rootTar": "root.tar.zst", "partitionTableType": "efi", "additionalSpace": "16M"}\n' \
	>"$T/spec.json"
build --spec "$T/spec.json" -o "$T/out/spec.img"
cmp "$T/out/dir.img" "$T/out/spec.img" || fail "rootTar in a spec gives another image"
# qcow2 reads the spill file with pread (raw output copies from it with copy_file_range)
build --root-tar "$T/root.tar.zst" "${args[@]}" --format qcow2 -o "$T/out/tar.qcow2"
qemu-img check -q "$T/out/tar.qcow2" || fail "qemu-img check $T/out/tar.qcow2"
qemu-img compare -q -f raw -F qcow2 "$T/out/dir.img" "$T/out/tar.qcow2" ||
	fail "--root-tar as qcow2 differs from --root"

extract_partition "$T/out/tar.img" 2 "$T/root.ext4"
e2fsck_clean "$T/root.ext4"
compare_tree "$src" "$T/root.ext4"
st() { debugfs -R "stat $1" "$T/root.ext4" 2>/dev/null; }
ea() { debugfs -R "ea_list $1" "$T/root.ext4" 2>/dev/null; }
st /shadow | grep -q 'Mode:  0600' || fail "/shadow: mode not 0600"
st /root-home/id_ed25519 | grep -q 'User:     0   Group:     0' || fail "/root-home/id_ed25519: owner"
st /setuid | grep -q 'Mode:  04755' || fail "/setuid: mode not 04755"
st /hard3 | grep -q 'Links: 3' || fail "/hard3: not 3 links"
st /chr-big | grep -q 'Device major/minor number: 259:1048575' || fail "/chr-big: device"
ea /cap-ping | grep -q 'security.capability (20)' || fail "/cap-ping: no capability"
ea /pair1 | grep -q 'system.posix_acl_access' || fail "/pair1: no ACL"
ea /dir-a | grep -q 'system.posix_acl_default' || fail "/dir-a: no default ACL"
ea /empty-dir | grep -q 'trusted.overlay.opaque' || fail "/empty-dir: no trusted.* xattr"
debugfs -R "dump /root-home/id_ed25519 $T/key" "$T/root.ext4" 2>/dev/null
cmp "$T/key" "$src/root-home/id_ed25519" || fail "/root-home/id_ed25519: bytes differ"

# Bad input: one line each, naming the input and the fix.
printf 'PK\003\004 not a tar' | gzip >"$T/x.zip.gz"
expect_fail "$T/x.zip.gz: not a tar archive" --root-tar "$T/x.zip.gz"
expect_fail "$T/missing.tar does not exist" --root-tar "$T/missing.tar"
mkdir "$T/evil" && printf 'x\n' >"$T/evil/f"
tar -C "$T/evil" --transform 's,^\./f,../../etc/f,' -cf "$T/evil.tar" ./f
expect_fail "$T/evil.tar: ../../etc/f: a \"..\" component; refused" --root-tar "$T/evil.tar"
expect_fail "root and rootTar are two root trees" --root "$src" --root-tar "$T/root.tar.zst"
