#!/usr/bin/env bash
# mktree.sh DIR: make a tree that covers every node type and edge case the ext4 writer must
# handle (issue #2 §3). Devices, foreign owners and trusted.* xattrs only when run as root.
# Used by tests/integration/roundtrip-generated.sh; the tree is ~15 MB on disk despite its
# multi-GiB sparse files.
set -euo pipefail
d=$1
mkdir -p "$d"
cd "$d"
root=false
[ "$(id -u)" -eq 0 ] && root=true

# Regular files around block boundaries.
: >empty
printf x >one-byte
head -c 4096 /dev/urandom >block-4096
head -c 4097 /dev/urandom >block-4097
head -c 65536 /dev/zero >zeros-64k # all zeros, not sparse in the source
head -c 300000 /dev/urandom >multi-block

# Sparse files: a 5 GiB file with data at a few offsets (holes must stay holes), a 4.1 GiB one
# with data only at the end (the >4 GiB size path), and one with 1000 data islands (an extent
# tree deeper than the 4 extents the inode holds).
python3 - <<'EOF'
import os
def island_file(name, size, offsets):
    with open(name, 'wb') as f:
        f.truncate(size)
        for i, off in enumerate(offsets):
            f.seek(off)
            f.write(b'island %d at %d\n' % (i, off) * 8)
G = 1 << 30
island_file('sparse-5g', 5 * G, [0, 123456789, 2 * G + 4096, 4 * G + 12345, 5 * G - 100])
island_file('sparse-4.1g-tail', 4 * G + 100 * (1 << 20), [4 * G + 100 * (1 << 20) - 4000])
island_file('many-extents', 1000 * 65536, [i * 65536 for i in range(1000)])
island_file('hole-at-end', 1 << 20, [0])
os.truncate('hole-at-end', 8 << 20)
EOF

# Symlinks: fast (< 60 bytes), slow (target > 60 bytes), dangling, to a directory, exactly 60.
ln -s one-byte link-fast
ln -s "$(printf 'long/%.0s' {1..30})target" link-slow
ln -s does/not/exist link-dangling
ln -s dir-a link-to-dir
ln -s "$(printf 'x%.0s' {1..60})" link-60
ln -s "$(printf 'y%.0s' {1..59})" link-59

# Hard links: three names in three directories, and a pair in one.
mkdir -p dir-a/sub dir-b empty-dir
printf 'linked content\n' >dir-a/hard1
ln dir-a/hard1 dir-b/hard2
ln dir-a/hard1 hard3
printf 'pair\n' >pair1
ln pair1 pair2

# Special files.
mkfifo fifo
python3 -c 'import socket, sys; s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' socket
if $root; then
	mknod chr-null c 1 3
	mknod blk-dev b 8 17
	mknod chr-big c 259 1048575 # major > 255 and a 20-bit minor: the new_encode_dev form
fi

# Names: spaces, a newline, UTF-8, a 255-byte name, leading dash, only dots.
printf 'a\n' >'name with spaces'
printf 'b\n' >$'new\nline'
printf 'c\n' >'ünïcödé-名前-🙂'
printf 'd\n' >"$(printf 'n%.0s' {1..255})"
printf 'e\n' >-dash
printf 'f\n' >...

# A deep tree (depth 300) and a 3000-entry directory (htree, several leaf blocks).
p=deep
for i in $(seq 1 300); do p=$p/d; done
mkdir -p "$p"
printf 'bottom\n' >"$p/file"
mkdir wide
(cd wide && seq -f 'entry-%05g' 1 3000 | xargs touch)

# Modes: setuid, setgid, sticky, unusual permission bits.
printf '#!/bin/sh\n' >setuid && chmod 4755 setuid
printf '#!/bin/sh\n' >setgid && chmod 2711 setgid
mkdir sticky && chmod 1777 sticky
mkdir setgid-dir && chmod 2775 setgid-dir
$root && printf 'g\n' >mode-000 && chmod 000 mode-000 # unreadable to anyone else
printf 'h\n' >mode-7777 && chmod 7777 mode-7777

# Owners.
if $root; then
	chown 1234:5678 dir-b multi-block
	chown -h 4321:8765 link-fast
	chown 65534:65534 empty
	chown 4000000000:4000000001 one-byte # 32-bit ids (the high 16 bits live elsewhere)
fi

# Extended attributes: user.* in the inode, a large value (xattr block), security.capability,
# POSIX ACLs (access and default), trusted.* as root.
setfattr -n user.small -v hello block-4096
setfattr -n user.empty block-4096
setfattr -n user.binary -v 0x00ff00ff00 block-4097
setfattr -n user.big -v "0x$(head -c 3000 /dev/urandom | od -An -v -tx1 | tr -d ' \n')" block-4097
for i in $(seq 1 20); do setfattr -n "user.many-$i" -v "value-$i" multi-block; done
setfattr -n user.on-dir -v yes dir-a
printf 'ping\n' >cap-ping
if $root; then
	# v2 file capabilities: cap_net_raw (bit 13) permitted, effective.
	setcap cap_net_raw+ep cap-ping 2>/dev/null ||
		setfattr -n security.capability -v 0x0100000200200000000000000000000000000000 cap-ping
fi
setfacl -m u:1234:rwx,g:5678:r-x pair1
setfacl -d -m u:1234:rx,g::r-x dir-a
if $root; then
	setfattr -n trusted.overlay.opaque -v y empty-dir
fi

# Timestamps: nanoseconds, before 1970, after 2038 (the extra epoch bits), on every kind of node.
touch -d '2021-02-03 04:05:06.123456789' one-byte
touch -d '1960-06-01 12:00:00.5' block-4096
touch -d '2100-01-01 00:00:00.999999999' block-4097
touch -h -d '2019-12-31 23:59:59.000000001' link-fast link-slow
touch -d '2000-01-01 00:00:00.25' fifo
# Directory times last (creating entries changes them).
touch -d '2010-10-10 10:10:10.101010101' dir-a/sub dir-a dir-b wide empty-dir
