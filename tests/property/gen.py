#!/usr/bin/env python3
"""Seeded random inputs for the property tests (tests/property/run.sh).

    gen.py SEED DIR [--small]

makes DIR/root (the root tree), DIR/esp (an ESP tree, for layouts with one) and prints the build
parameters as shell assignments (layout=..., format=..., args=(...), owner=...). The same seed
gives the same tree and parameters on every machine; what needs root (device nodes, foreign
owners, trusted.* and security.* xattrs) is added only as root, after everything else, so the
rest of the tree does not depend on it. --small bounds the tree for the CI run.

The tree mixes: names in UTF-8 and of exactly 255 bytes, file sizes at block and inline
boundaries, sparse files with data islands at block edges and extent-length edges, hard-link
groups across directories, user.* xattrs (in-inode and block-sized), fast and slow symlinks,
FIFOs, sockets, devices, a wide directory (htree) and a deep chain, odd modes and timestamps
(ns, before 1970, after 2038).
"""
import os
import random
import shlex
import socket
import stat
import sys

LAYOUTS = ['none', 'legacy', 'legacy+gpt', 'efi', 'efixbootldr', 'hybrid']
FORMATS = ['qcow2', 'qcow2-compressed', 'vdi', 'vpc']
B = 4096
EXT4_MAX_TIME = (1 << 34) - (1 << 31) - 1
# Sizes at the edges the ext4 writer cares about: empty, inline-sized (60 bytes in i_block),
# one block, two, the 4 extents an inode holds, 12 direct blocks, an extent's 32768-block max.
SIZES = [0, 1, 59, 60, 61, 100, 4095, 4096, 4097, 8191, 8192, 8193, 12 * B - 1, 12 * B,
         12 * B + 1, 65535, 65536, 65537, 300000]
MAX_EXTENT = 32768 * B

ASCII = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-+,=@~ '
UNI = 'äöüßéèñçøåœ名前日本語中文한국어ДЖЯΩπ🙂🚀\u200b'


class Gen:
    def __init__(self, seed, small):
        self.r = random.Random('mkdiskimage-property:%s' % seed)
        self.small = small
        self.root = os.geteuid() == 0
        self.files = []     # regular files (for hard links, xattrs)
        self.dirs = []      # directories, parents before children
        self.nodes = []     # every path but the root (for owners, times)
        self.used = set()

    # ---- names ----
    def name(self, d):
        r = self.r
        for _ in range(100):
            k = r.random()
            if k < 0.05:
                n = self.name255()
            elif k < 0.25:
                n = ''.join(r.choice(UNI + ASCII) for _ in range(r.randint(1, 20)))
            elif k < 0.28:
                n = r.choice(['-dash', '...', '..a', ' lead', 'trail ', 'new\nline', 'tab\tx',
                              'back\\slash', 'q"uote', "a'po", '$dollar', '#hash', '*star'])
            else:
                n = ''.join(r.choice(ASCII) for _ in range(r.randint(1, 24)))
            n = n.replace('/', '_')
            b = n.encode()
            if b in (b'.', b'..') or len(b) > 255 or b == b'lost+found':
                continue
            p = os.path.join(d, n)
            if p not in self.used:
                self.used.add(p)
                return p
        raise RuntimeError('no free name')

    def name255(self):
        """A name of exactly 255 bytes, ASCII or with multi-byte UTF-8 characters."""
        r = self.r
        if r.random() < 0.5:
            return ''.join(r.choice('abcdefghij') for _ in range(255))
        s = b''
        while True:
            c = r.choice(UNI + 'abc').encode()
            if len(s) + len(c) > 255:
                break
            s += c
        return (s + b'z' * (255 - len(s))).decode()

    # ---- content ----
    def data(self, n):
        """n bytes: random, a repeated pattern or zeros (zeros may become holes)."""
        r = self.r
        k = r.random()
        if k < 0.1:
            return bytes(n)
        if k < 0.4:
            pat = bytes(r.getrandbits(8) for _ in range(r.randint(1, 64)))
            return (pat * (n // len(pat) + 1))[:n]
        return r.getrandbits(8 * n).to_bytes(n, 'little') if n else b''

    def regular(self, p):
        r = self.r
        with open(p, 'wb') as f:
            if r.random() < 0.8:
                f.write(self.data(r.choice(SIZES) if r.random() < 0.7 else r.randint(0, 200000)))
            else:
                self.sparse(f)
        self.files.append(p)

    def sparse(self, f):
        r = self.r
        size = r.choice([1 << 20, 8 << 20, MAX_EXTENT + 2 * B, 1 << 30, (4 << 30) + 5 * B,
                         (5 << 30) + 1])
        if self.small:
            size = min(size, 1 << 30)
        f.truncate(size)
        for _ in range(r.randint(0, 7 if r.random() < 0.8 else 40)):
            edge = r.choice([0, B, MAX_EXTENT, size // 2, size])
            off = max(0, min(size - 1, edge + r.choice([-B - 1, -1, 0, 1, B + 1, 3 * B])
                             + r.randint(0, 3) * B))
            n = min(size - off, r.choice([1, 100, B - 1, B, B + 1, 5 * B + 7]))
            f.seek(off)
            f.write(self.data(n) or b'\1')
        if r.random() < 0.3:  # sometimes the last byte too: data at the very end
            f.seek(size - 1)
            f.write(b'\xff')

    def symlink(self, p):
        r = self.r
        n = r.choice([1, 2, 58, 59, 60, 61, 62, 100, 255, 1000, 4095, r.randint(1, 300)])
        t = ''.join(r.choice(ASCII.replace(' ', '') + '/') for _ in range(n))
        if r.random() < 0.3 and self.files:
            t = os.path.relpath(r.choice(self.files), os.path.dirname(p))
        os.symlink(t, p)

    # ---- the tree ----
    def build(self, top):
        r = self.r
        os.mkdir(top)
        self.dirs.append(top)
        n_entries = r.randint(30, 120) if self.small else r.randint(100, 600)
        for _ in range(n_entries):
            d = r.choice(self.dirs)
            p = self.name(d)
            k = r.random()
            if k < 0.55:
                self.regular(p)
            elif k < 0.72:
                os.mkdir(p)
                self.dirs.append(p)
            elif k < 0.85:
                self.symlink(p)
            elif k < 0.92 and self.files:
                os.link(r.choice(self.files), p)  # a hard link (maybe into another directory)
            elif k < 0.96:
                os.mkfifo(p)
            else:
                s = socket.socket(socket.AF_UNIX)
                try:
                    s.bind(p)
                except OSError:  # path too long for sun_path: a FIFO instead
                    os.mkfifo(p)
                finally:
                    s.close()
            self.nodes.append(p)
        if r.random() < 0.5:  # a wide directory: an htree with several leaf blocks
            w = self.name(r.choice(self.dirs))
            os.mkdir(w)
            n = r.randint(200, 1500) if self.small else r.randint(1000, 6000)
            long = r.random() < 0.5
            for i in range(n):
                nm = ('e%06d' % i) + ('-' + 'x' * r.randint(0, 200) if long else '')
                open(os.path.join(w, nm), 'wb').close()
            self.nodes.append(w)
        if r.random() < 0.5:  # a deep chain
            p = r.choice(self.dirs)
            for i in range(r.randint(20, 120 if self.small else 400)):
                p = os.path.join(p, 'd')
                os.mkdir(p)
                self.nodes.append(p)
            with open(os.path.join(p, 'bottom'), 'wb') as f:
                f.write(b'bottom\n')
            self.nodes.append(os.path.join(p, 'bottom'))
        self.xattrs()
        self.acls()
        if self.root:
            self.root_only(top)
        self.modes_times(top)

    def xattrs(self):
        r = self.r
        targets = self.files + self.dirs[1:]
        for p in r.sample(targets, min(len(targets), r.randint(0, 12))):
            budget = 3000  # one ext4 xattr block holds ~4 KiB of names, values and headers
            for i in range(r.randint(1, 6)):
                n = r.choice([1, 10, 100, 1000, 2500]) if r.random() < 0.8 else 0
                name = 'user.%d-%s' % (i, 'n' * r.randint(0, 40))
                if n + len(name) + 32 > budget:
                    continue
                budget -= n + len(name) + 32
                os.setxattr(p, name, self.data(n), follow_symlinks=False)

    def acls(self):
        """POSIX ACLs as the kernel stores them: access ACLs on files and directories, default
        ACLs on directories (the xattr format: version 2, then tag/perm/id entries in order)."""
        r = self.r

        def acl():
            e = [(0x01, r.randint(0, 7), 0xffffffff)]
            for _ in range(r.randint(0, 3)):
                e.append((0x02, r.randint(0, 7), r.randint(0, 70000)))
            e.append((0x04, r.randint(0, 7), 0xffffffff))
            for _ in range(r.randint(0, 2)):
                e.append((0x08, r.randint(0, 7), r.randint(0, 70000)))
            e = sorted({(t, i): (t, p, i) for t, p, i in e}.values(), key=lambda x: (x[0], x[2]))
            e.append((0x10, r.randint(0, 7), 0xffffffff))
            e.append((0x20, r.randint(0, 7), 0xffffffff))
            return (2).to_bytes(4, 'little') + b''.join(
                t.to_bytes(2, 'little') + p.to_bytes(2, 'little') + i.to_bytes(4, 'little')
                for t, p, i in e)
        for p in r.sample(self.files, min(len(self.files), r.randint(0, 3))):
            os.setxattr(p, 'system.posix_acl_access', acl())
        for p in r.sample(self.dirs[1:], min(len(self.dirs) - 1, r.randint(0, 2))):
            os.setxattr(p, 'system.posix_acl_default', acl())

    def root_only(self, top):
        r = self.r
        for _ in range(r.randint(0, 6)):
            p = self.name(r.choice(self.dirs))
            kind = r.choice([stat.S_IFCHR, stat.S_IFBLK])
            dev = os.makedev(r.choice([1, 8, 259, 4095]), r.choice([0, 3, 255, 256, 1048575]))
            os.mknod(p, kind | 0o600, dev)
            self.nodes.append(p)
        for p in r.sample(self.files, min(len(self.files), r.randint(0, 3))):
            os.setxattr(p, 'trusted.t', self.data(r.randint(1, 50)))
        links = [p for p in self.nodes if os.path.islink(p)]
        for p in r.sample(links, min(len(links), r.randint(0, 2))):
            os.setxattr(p, 'trusted.on-link', self.data(r.randint(1, 30)), follow_symlinks=False)
        for p in r.sample(self.files, min(len(self.files), r.randint(0, 2))):
            # v2 file capabilities: cap_net_raw permitted and effective.
            os.setxattr(p, 'security.capability',
                        bytes.fromhex('0100000200200000000000000000000000000000'))
        for p in self.nodes + [top]:
            if r.random() < 0.3:
                uid = r.choice([0, 1, 1000, 65534, 65535, 65536, 4000000000, r.randint(0, 1 << 20)])
                gid = r.choice([0, 1, 100, 65534, 65536, 4000000001, r.randint(0, 1 << 20)])
                os.lchown(p, uid, gid)

    def modes_times(self, top):
        r = self.r

        def t():
            k = r.random()
            # ext4's range with the extra epoch bits: -2^31 .. 2^34 - 2^31 - 1 (year 2446).
            sec = r.choice([0, 1, -1, 1 << 31, (1 << 31) - 1, 1 << 32, -(1 << 31), 4102444800,
                            EXT4_MAX_TIME, r.randint(-(1 << 31), EXT4_MAX_TIME),
                            r.randint(1500000000, 1800000000)]) \
                if k < 0.5 else r.randint(0, 2000000000)
            return sec * 10**9 + (r.choice([0, 1, 999999999, r.randint(0, 10**9 - 1)]))

        for p in self.nodes:
            st = os.lstat(p)
            if stat.S_ISREG(st.st_mode) or stat.S_ISFIFO(st.st_mode) or stat.S_ISSOCK(st.st_mode):
                m = r.randint(0, 0o7777)
                if not self.root:
                    m |= 0o400  # the builder must read it
                os.chmod(p, m)
            elif stat.S_ISDIR(st.st_mode):
                m = r.choice([0o755, 0o700, 0o1777, 0o2775, 0o711, 0o555])
                os.chmod(p, m | (0 if self.root else 0o700))
        # Times last, deepest first, directories after their entries.
        for p in sorted(self.nodes + [top], key=lambda x: -x.count('/')):
            ns = t()
            os.utime(p, ns=(ns, ns), follow_symlinks=False)


def esp_tree(r, top, small):
    """A FAT-friendly tree: long names, nested directories, sizes at cluster edges."""
    os.mkdir(top)
    dirs = [top]
    for i in range(r.randint(0, 20 if small else 60)):
        d = r.choice(dirs)
        if r.random() < 0.2:
            p = os.path.join(d, 'dir %d%s' % (i, ' L' * r.randint(0, 20)))
            os.mkdir(p)
            dirs.append(p)
            continue
        name = r.choice(['file%d.txt' % i, 'F%d.EFI' % i, 'long name number %d.data' % i,
                         'ünï %d.conf' % i])
        n = r.choice([0, 1, 511, 512, 513, 2047, 2048, 2049, 4096, 65536, r.randint(0, 300000)])
        with open(os.path.join(d, name), 'wb') as f:
            f.write(r.getrandbits(8 * n).to_bytes(n, 'little') if n else b'')
    if r.random() < 0.3:
        # A wide directory: many long names sharing a prefix (short-name tails past ~9, ~99)
        # spread over several clusters.
        w = os.path.join(top, 'wide directory')
        os.mkdir(w)
        for i in range(r.randint(10, 300 if small else 1500)):
            open(os.path.join(w, 'same long prefix %d.txt' % i), 'wb').close()


def main():
    args = [a for a in sys.argv[1:] if not a.startswith('--')]
    small = '--small' in sys.argv
    if len(args) != 2:
        sys.exit('usage: gen.py SEED DIR [--small]')
    seed, out = args
    os.umask(0o022)
    os.makedirs(out, exist_ok=True)
    g = Gen(seed, small)
    r = random.Random('mkdiskimage-property-params:%s' % seed)
    layout = r.choice(LAYOUTS)
    fmt = r.choice(FORMATS)
    build = []
    if fmt == 'qcow2' and r.random() < 0.5:
        build += ['--cluster-size', r.choice(['512', '4K', '64K', '2M'])]
    if fmt == 'qcow2-compressed':
        build += ['--compression', r.choice(['deflate', 'zstd'])]
        build += ['--threads', str(r.choice([0, 1, 2, 3]))]
    if fmt == 'vpc':
        build += ['--vpc-subformat', r.choice(['dynamic', 'fixed'])]
    common = ['--label', r.choice(['nixos', 'p', 'sixteen-bytes-xx'])]
    if r.random() < 0.3:
        common += ['--reserved-percent', str(r.choice([0, 1, 5, 50]))]
    if r.random() < 0.5:
        common += ['--additional-space', r.choice(['0', '1M', '7M', '64M'])]
    else:
        common += ['--disk-size', str(r.choice([2048, 3000, 6144]))]
    owner = ''
    if r.random() < 0.25:
        owner = '%d:%d' % (r.choice([0, 1000, 65534, 4000000000]), r.choice([0, 100, 65534]))
        common += ['--owner', owner]
    g.build(os.path.join(out, 'root'))
    esp = layout in ('efi', 'efixbootldr', 'hybrid')
    if esp:
        esp_tree(r, os.path.join(out, 'esp'), small)
        common += ['--esp', os.path.join(out, 'esp')]
    q = lambda a: ' '.join(shlex.quote(x) for x in a)
    print('layout=%s' % shlex.quote(layout))
    print('format=%s' % shlex.quote(fmt))
    print('owner=%s' % shlex.quote(owner))
    print('esp=%d' % esp)
    print('common=(%s)' % q(common))
    print('fmtargs=(%s)' % q(build))


if __name__ == '__main__':
    main()
