#!/usr/bin/env python3
"""Tree manifests for the integration tests: one line per path, sorted by bytes.

    manifest.py tree DIR      a directory (the source, or an image loop-mounted read-only)
    manifest.py debugfs IMG   an ext4 image file, read with e2fsprogs' debugfs (no root)

Both print the same fields, tab-separated:
    path type mode uid gid size mtime(sec.nsec) symlink-target rdev hardlink-group content xattrs
- path is relative ("." for the root), bytes outside printable ASCII as \\xNN;
- size is '-' for directories (their size depends on the filesystem);
- hardlink-group is the first path (in byte order) sharing the inode, '-' when alone;
- content is a SHA-256 over (offset, 64 KiB chunk) for every chunk that is not all zeros, plus
  the size: equal for equal bytes whatever the hole layout;
- xattrs are name=hexvalue, sorted, joined by ','.
"""
import hashlib
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile

CHUNK = 65536
ZERO = bytes(CHUNK)


def esc(b):
    out = []
    for c in b:
        if 0x21 <= c < 0x7f and c != 0x5c:
            out.append(chr(c))
        else:
            out.append('\\x%02x' % c)
    return ''.join(out)


def content_hash(path):
    h = hashlib.sha256()
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    try:
        size = os.fstat(fd).st_size
        done = 0  # every chunk below this offset is hashed
        pos = 0
        while pos < size:
            try:
                start = os.lseek(fd, pos, os.SEEK_DATA)
            except OSError:
                break  # only a hole remains
            end = os.lseek(fd, start, os.SEEK_HOLE)
            off = max(start - start % CHUNK, done)
            while off < end:
                buf = os.pread(fd, CHUNK, off)
                if not buf:
                    break
                if buf != ZERO[:len(buf)]:
                    h.update(b'%d:' % off)
                    h.update(buf)
                off += CHUNK
            done = off
            pos = max(end, off)
    finally:
        os.close(fd)
    h.update(b'size:%d' % size)
    return h.hexdigest()[:32]


TYPES = {
    stat.S_IFDIR: 'dir', stat.S_IFREG: 'file', stat.S_IFLNK: 'symlink', stat.S_IFCHR: 'chr',
    stat.S_IFBLK: 'blk', stat.S_IFIFO: 'fifo', stat.S_IFSOCK: 'sock',
}


def norm_xattr(name, value):
    """ACL entries without a qualifier carry an undefined id: the kernel reports -1, libext2fs 0."""
    if name not in (b'system.posix_acl_access', b'system.posix_acl_default') or len(value) < 4:
        return value
    v = bytearray(value)
    for off in range(4, len(v) - 7, 8):
        tag = int.from_bytes(v[off:off + 2], 'little')
        if tag not in (0x02, 0x08):  # ACL_USER, ACL_GROUP carry ids
            v[off + 4:off + 8] = b'\xff\xff\xff\xff'
    return bytes(v)


def line(rel, typ, mode, uid, gid, size, mtime_ns, target, rdev, group, content, xattrs):
    return '\t'.join([
        esc(rel), typ, '%04o' % mode, str(uid), str(gid),
        '-' if typ == 'dir' else str(size),
        '%d.%09d' % divmod(mtime_ns, 10**9),
        esc(target) if target is not None else '-',
        rdev or '-', esc(group) if group else '-', content or '-',
        ','.join('%s=%s' % (esc(n), norm_xattr(n, v).hex()) for n, v in sorted(xattrs)) or '-',
    ])


def walk(root):
    """Yield (relpath bytes, absolute path bytes) for every path under root, root first."""
    root = os.fsencode(root)
    yield b'.', root
    stack = [b'']
    while stack:
        rel = stack.pop()
        d = os.path.join(root, rel) if rel else root
        for name in sorted(os.listdir(d)):
            r = os.path.join(rel, name) if rel else name
            p = os.path.join(root, r)
            yield r, p
            if stat.S_ISDIR(os.lstat(p).st_mode):
                stack.append(r)


def tree_manifest(root):
    entries = []
    inodes = {}
    for rel, p in walk(root):
        st = os.lstat(p)
        entries.append((rel, p, st))
        if not stat.S_ISDIR(st.st_mode):
            inodes.setdefault((st.st_dev, st.st_ino), []).append(rel)
    out = []
    for rel, p, st in entries:
        typ = TYPES[stat.S_IFMT(st.st_mode)]
        names = inodes.get((st.st_dev, st.st_ino), [])
        group = min(names) if len(names) > 1 else None
        target = os.readlink(p) if typ == 'symlink' else None
        size = len(target) if target is not None else st.st_size
        rdev = '%d:%d' % (os.major(st.st_rdev), os.minor(st.st_rdev)) \
            if typ in ('chr', 'blk') else None
        content = content_hash(p) if typ == 'file' else None
        xattrs = []
        for n in os.listxattr(p, follow_symlinks=False):
            xattrs.append((os.fsencode(n), os.getxattr(p, n, follow_symlinks=False)))
        out.append((rel, line(rel, typ, stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid, size,
                              st.st_mtime_ns, target, rdev, group, content, xattrs)))
    out.sort()
    return [l for _, l in out]


# ---- debugfs ----

def debugfs(img, cmds):
    """Run commands in one debugfs process; return {command: output}."""
    script = ''.join(c + '\n' for c in cmds)
    r = subprocess.run(['debugfs', '-f', '-', img], input=script.encode(), capture_output=True)
    if r.returncode != 0:
        sys.exit('debugfs failed: ' + r.stderr.decode(errors='replace'))
    out = {}
    parts = re.split(rb'^debugfs: (.*)\n', r.stdout, flags=re.M)
    for i in range(1, len(parts) - 1, 2):
        out[parts[i].decode()] = parts[i + 1]
    return out


LS_RE = re.compile(rb'/(\d+)/(\d{6})/(-?\d+)/(-?\d+)/([^/]*)/(\d*)/\n')
DFS_TYPES = {
    b'regular': 'file', b'directory': 'dir', b'symlink': 'symlink',
    b'character special': 'chr', b'block special': 'blk', b'FIFO': 'fifo', b'socket': 'sock',
}


def parse_stat(text):
    m = re.search(rb'Type: (.+?)\s+Mode:\s+(\d+)', text)
    typ, mode = DFS_TYPES[m.group(1)], int(m.group(2), 8)
    # debugfs prints 32-bit ids with %d: ids above 2^31 come out negative.
    uid = int(re.search(rb'User:\s+(-?\d+)', text).group(1)) & 0xffffffff
    gid = int(re.search(rb'Group:\s+(-?\d+)', text).group(1)) & 0xffffffff
    size = int(re.search(rb'Size: (\d+)', text).group(1))
    m = re.search(rb'mtime: 0x([0-9a-f]+)(?::([0-9a-f]+))?', text)
    sec = int(m.group(1), 16)
    sec = sec - (1 << 32) if sec >= 1 << 31 else sec
    nsec = 0
    if m.group(2):
        extra = int(m.group(2), 16)
        sec += (extra & 3) << 32
        nsec = extra >> 2
    rdev = None
    m = re.search(rb'Device major/minor number: ([0-9]+):([0-9]+)', text)
    if m and typ in ('chr', 'blk'):
        rdev = '%d:%d' % (int(m.group(1)), int(m.group(2)))
    names = []
    m = re.search(rb'Extended attributes:\n((?:  .*\n)*)', text)
    if m:
        for l in m.group(1).splitlines():
            n = re.match(rb'  (\S+) \(\d+\)', l)
            if n:
                names.append(n.group(1).decode())
    return typ, mode, uid, gid, size, sec * 10**9 + nsec, rdev, names


def debugfs_manifest(img):
    tmp = tempfile.mkdtemp(prefix='dfsmanifest.')
    try:
        # 1. Names: a breadth-first walk with `ls -p`, one debugfs per depth.
        paths = {2: [b'.']}  # inode -> relative paths (dirs have one)
        entries = [(b'.', 2)]
        level = [(b'', 2)]
        while level:
            outs = debugfs(img, ['ls -p <%d>' % ino for _, ino in level])
            nxt = []
            for rel, ino in level:
                for m in LS_RE.finditer(outs['ls -p <%d>' % ino]):
                    cino, mode, name = int(m.group(1)), int(m.group(2), 8), m.group(5)
                    if name in (b'.', b'..') or cino == 0:
                        continue
                    r = os.path.join(rel, name) if rel else name
                    entries.append((r, cino))
                    paths.setdefault(cino, []).append(r)
                    if stat.S_ISDIR(mode):
                        nxt.append((r, cino))
            level = nxt
        # 2. Inode metadata, all in one debugfs run.
        inos = sorted(paths)
        outs = debugfs(img, ['stat <%d>' % i for i in inos] + ['stats -h'])
        bsize = int(re.search(rb'Block size:\s+(\d+)', outs['stats -h']).group(1))
        meta = {i: parse_stat(outs['stat <%d>' % i]) for i in inos}
        # 3. xattr values dumped to files (exact bytes); slow symlink targets read below.
        cmds = []
        for i in inos:
            typ, names = meta[i][0], meta[i][7]
            for k, n in enumerate(names):
                cmds.append('ea_get -f %s/x%d.%d <%d> %s' % (tmp, i, k, i, n))
        for i in inos:
            if meta[i][0] == 'symlink':
                cmds.append('stat <%d>' % i)
        dumped = debugfs(img, cmds)
        out = []
        for rel, ino in entries:
            typ, mode, uid, gid, size, mtime, rdev, names = meta[ino]
            target = None
            if typ == 'symlink':
                target = symlink_target(img, ino, dumped.get('stat <%d>' % ino, b''), size, tmp)
            content = extent_hash(img, outs['stat <%d>' % ino], size, bsize) \
                if typ == 'file' else None
            xattrs = []
            for k, n in enumerate(names):
                with open('%s/x%d.%d' % (tmp, ino, k), 'rb') as f:
                    xattrs.append((n.encode(), f.read()))
            group = min(paths[ino]) if typ != 'dir' and len(paths[ino]) > 1 else None
            out.append((rel, line(rel, typ, mode, uid, gid, size, mtime, target, rdev, group,
                                  content, xattrs)))
        out.sort()
        return [l for _, l in out]
    finally:
        shutil.rmtree(tmp)


MAP_RE = re.compile(rb'\((\d+)(?:-(\d+))?(\[u\])?\):(\d+)(?:-(\d+))?')


def extent_hash(img, stat_text, size, bsize):
    """content_hash() of a file whose block map debugfs printed: the data is read straight
    from the image at the physical blocks debugfs names (uninitialised extents read as zeros)."""
    m = re.search(rb'\n(?:EXTENTS|BLOCKS):\n(.*)', stat_text, flags=re.S)
    blocks = {}
    if m:
        for e in MAP_RE.finditer(m.group(1)):
            if e.group(3):
                continue
            lo = int(e.group(1))
            hi = int(e.group(2)) if e.group(2) else lo
            phys = int(e.group(4))
            for k in range(hi - lo + 1):
                blocks[lo + k] = phys + k
    h = hashlib.sha256()
    per = CHUNK // bsize
    with open(img, 'rb') as f:
        for c in sorted({b // per for b in blocks}):
            off = c * CHUNK
            if off >= size:
                break
            buf = bytearray(CHUNK)
            for k in range(per):
                phys = blocks.get(c * per + k)
                if phys is not None:
                    f.seek(phys * bsize)
                    buf[k * bsize:(k + 1) * bsize] = f.read(bsize).ljust(bsize, b'\0')
            buf = bytes(buf[:min(CHUNK, size - off)])
            if buf != ZERO[:len(buf)]:
                h.update(b'%d:' % off)
                h.update(buf)
    h.update(b'size:%d' % size)
    return h.hexdigest()[:32]


def symlink_target(img, ino, stat_text, size, tmp):
    m = re.search(rb'Fast link dest: "(.*)"\n', stat_text, flags=re.S)
    if m and len(m.group(1)) == size:
        return m.group(1)
    # A slow symlink: its target is in its data block.
    f = '%s/l%d' % (tmp, ino)
    debugfs(img, ['dump <%d> %s' % (ino, f)])
    with open(f, 'rb') as fh:
        return fh.read()[:size]


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ('tree', 'debugfs'):
        sys.exit('usage: manifest.py tree DIR | debugfs IMG')
    lines = tree_manifest(sys.argv[2]) if sys.argv[1] == 'tree' else debugfs_manifest(sys.argv[2])
    sys.stdout.write(''.join(l + '\n' for l in lines))


if __name__ == '__main__':
    main()
