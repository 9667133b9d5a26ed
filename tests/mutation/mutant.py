#!/usr/bin/env python3
"""A deliberately broken mkdiskimage, used as MKDISKIMAGE by tests/mutation/run.sh.

MUTANT names the defect, MUTANT_REAL the real binary, MUTANT_LOG a file that gets one line per
damage done ("applied NAME: what") or per failure of the wrapper itself ("error NAME: ...").
The wrapper runs the real tool and then damages one thing in its output (or changes its
arguments, or its stdout), so the damage is what a bug in that feature would produce. Outputs
a mutant cannot damage (another format, no such partition) are left alone; the runner
requires that each test run got at least one "applied" line.
MUTANT=none is the control: the wrapper changes nothing."""
import json
import os
import random
import re
import struct
import subprocess
import sys
import zlib

MUTANT = os.environ.get("MUTANT", "none")
REAL = os.environ["MUTANT_REAL"]
LOG = os.environ.get("MUTANT_LOG", "/dev/null")


def note(kind, msg):
    with open(LOG, "a") as f:
        f.write(f"{kind} {MUTANT}: {msg}\n")


class Skip(Exception):
    """This output has nothing the mutant can damage."""


# ---- reading the output

BUILD_VALUE_OPTS = None  # every build flag but these takes a value
BUILD_BOOL_OPTS = {"--deterministic", "--no-deterministic", "--generic-root-type",
                   "--only-nix-store", "--touch-efi-vars", "--json", "--progress",
                   "--no-progress", "--help", "-h"}
CONVERT_BOOL_OPTS = {"--progress", "--no-progress", "--help", "-h"}


def build_output(args):
    """The -o value of a build command line, or None."""
    out = None
    i = 0
    while i < len(args):
        a = args[i]
        if a in ("-o", "--output") and i + 1 < len(args):
            out = args[i + 1]
            i += 2
            continue
        if a.startswith("--output="):
            out = a[len("--output="):]
        elif a.startswith("-o") and len(a) > 2:
            out = a[2:]
        i += 1
    return out


def convert_positionals(args):
    pos = []
    i = 0
    while i < len(args):
        a = args[i]
        if a.startswith("-") and a not in CONVERT_BOOL_OPTS and "=" not in a:
            i += 2
            continue
        if not a.startswith("-"):
            pos.append(a)
        i += 1
    return pos


def file_format(path):
    with open(path, "rb") as f:
        head = f.read(512)
        f.seek(0, 2)
        size = f.tell()
        f.seek(max(0, size - 512))
        tail = f.read(512)
    if head[:4] == b"QFI\xfb":
        return "qcow2"
    if len(head) >= 0x44 and struct.unpack_from("<I", head, 0x40)[0] == 0xBEDA107F:
        return "vdi"
    if head[:8] == b"conectix" or tail[:8] == b"conectix":
        return "vhd"
    return "raw"


def read_at(path, off, n):
    with open(path, "rb") as f:
        f.seek(off)
        return f.read(n)


def write_at(path, off, data):
    with open(path, "r+b") as f:
        f.seek(off)
        f.write(data)


def flip(path, off, mask=0x01):
    b = read_at(path, off, 1)[0]
    write_at(path, off, bytes([b ^ mask]))


def partitions(img):
    """[(number, start_bytes, size_bytes, type)] from sfdisk, or [] for no table."""
    r = subprocess.run(["sfdisk", "--json", img], capture_output=True, text=True)
    if r.returncode != 0:
        return []
    t = json.loads(r.stdout)["partitiontable"]
    res = []
    for p in t["partitions"]:
        n = int(re.sub(r"^.*?(\d+)$", r"\1", p["node"]))
        res.append((n, p["start"] * 512, p["size"] * 512, p["type"]))
    return res


def is_ext4(img, off):
    return read_at(img, off + 1080, 2) == b"\x53\xef"


def is_fat(img, off):
    b = read_at(img, off, 512)
    return len(b) == 512 and b[510:512] == b"\x55\xaa" and (b[0x36:0x39] == b"FAT" or
                                                             b[0x52:0x55] == b"FAT")


def ext4_offset(img):
    """Byte offset of the root ext4 filesystem in a raw image (the last ext4 partition)."""
    parts = partitions(img)
    if not parts:
        if is_ext4(img, 0):
            return 0
        raise Skip("no ext4")
    for n, start, size, typ in reversed(parts):
        if is_ext4(img, start):
            return start
    raise Skip("no ext4 partition")


def fat_offset(img):
    for n, start, size, typ in partitions(img):
        if is_fat(img, start):
            return start
    raise Skip("no FAT partition")


def debugfs(img, off, cmds, write=False):
    spec = f"{img}?offset={off}"
    args = ["debugfs"] + (["-w"] if write else []) + ["-f", "-", spec]
    r = subprocess.run(args, input="\n".join(cmds) + "\n", capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"debugfs {cmds[:2]}: {r.stderr.strip()}")
    return r.stdout


def inode_stats(img, off, first=12, last=600):
    """{ino: stat text} for inodes first..last that are in use."""
    out = debugfs(img, off, [f"stat <{i}>" for i in range(first, last + 1)])
    res = {}
    for chunk in re.split(r"^debugfs: ", out, flags=re.M):
        m = re.match(r"stat <(\d+)>\n(Inode: .*)", chunk, flags=re.S)
        if m and "Links: 0" not in m.group(2):
            res[int(m.group(1))] = m.group(2)
    return res


def find_inode(img, off, typ, pred=lambda s: True):
    for ino, st in sorted(inode_stats(img, off).items()):
        if re.search(rf"Type: {typ}\b", st) and pred(st):
            return ino, st
    raise Skip(f"no {typ} inode")


def has_data(st):
    return re.search(r"Size: [1-9]", st) and re.search(r"EXTENTS:\n\(\d+[-\d]*\):\d+", st)


def path_of(img, off, ino):
    out = debugfs(img, off, [f"ncheck {ino}"])
    for line in out.splitlines():
        m = re.match(rf"^{ino}\s+(\S.*)$", line)
        if m:
            return m.group(1)
    raise RuntimeError(f"ncheck {ino}: {out}")


def block_size(img, off):
    r = subprocess.run(["dumpe2fs", "-h", f"{img}?offset={off}"], capture_output=True, text=True)
    return int(re.search(r"^Block size:\s+(\d+)", r.stdout, re.M).group(1))


# ---- the mutants that damage an output file

def m_ext4_data(img):
    off = ext4_offset(img)
    ino, st = find_inode(img, off, "regular", has_data)
    blk = int(re.search(r"EXTENTS:\n\(\d+[-\d]*\):(\d+)", st).group(1))
    flip(img, off + blk * block_size(img, off))
    return f"flipped the first byte of inode {ino}'s data block {blk}"


def m_ext4_meta(img):
    off = ext4_offset(img)
    out = debugfs(img, off, ["imap <2>"])
    m = re.search(r"located at block (\d+), offset (0x[0-9a-f]+)", out)
    pos = off + int(m.group(1)) * block_size(img, off) + int(m.group(2), 16) + 0x1A
    flip(img, pos, 0x04)  # i_links_count of /
    return "flipped a bit of the root directory's link count"


def m_file_mode(img):
    off = ext4_offset(img)
    ino, st = find_inode(img, off, "regular")
    mode = int(re.search(r"Mode:\s+(\d+)", st).group(1), 8)
    debugfs(img, off, [f"sif <{ino}> mode 0{0o100000 | (mode ^ 0o004):o}"], write=True)
    return f"inode {ino}: mode {mode:o} -> {mode ^ 0o004:o}"


def m_file_owner(img):
    off = ext4_offset(img)
    ino, st = find_inode(img, off, "regular")
    uid = int(re.search(r"User:\s+(\d+)", st).group(1))
    debugfs(img, off, [f"sif <{ino}> uid {uid + 1}"], write=True)
    return f"inode {ino}: uid {uid} -> {uid + 1}"


def m_xattr(img):
    off = ext4_offset(img)
    stats = inode_stats(img, off)
    out = debugfs(img, off, [f"ea_list <{i}>" for i in sorted(stats)])
    for chunk in re.split(r"^debugfs: ", out, flags=re.M):
        m = re.match(r"ea_list <(\d+)>\nExtended attributes:\n\s+(user\.[^ =]+)", chunk)
        if m:
            ino, name = m.group(1), m.group(2)
            debugfs(img, off, [f"ea_rm <{ino}> {name}"], write=True)
            return f"inode {ino}: removed xattr {name}"
    raise Skip("no user.* xattr")


def m_symlink(img):
    off = ext4_offset(img)
    ino, st = find_inode(img, off, "symlink", lambda s: "Fast link dest" in s)
    m = re.search(r'Fast link dest: "(.*)"', st)
    target = m.group(1).encode()
    word = struct.unpack("<I", (target + b"\0" * 4)[:4])[0] ^ 0x01  # first byte: 'a' -> '`'
    debugfs(img, off, [f"sif <{ino}> block[0] 0x{word:x}"], write=True)
    return f"inode {ino}: symlink target {target!r} changed in its first byte"


def m_drop_file(img):
    off = ext4_offset(img)
    ino, st = find_inode(img, off, "regular", lambda s: "Links: 1\n" in s or "Links: 1 " in s)
    path = path_of(img, off, ino)
    debugfs(img, off, [f'rm "{path}"'], write=True)
    return f"removed {path} (inode {ino}) with debugfs"


def m_label(img):
    off = ext4_offset(img)
    debugfs(img, off, ["ssv volume_name mutated"], write=True)
    return "set the ext4 label to 'mutated'"


def gpt_rewrite(img, fn):
    """Apply fn(entries bytearray, entry_size) to both GPT arrays; fix the CRCs."""
    size = os.path.getsize(img)
    hdr = read_at(img, 512, 92)
    if hdr[:8] != b"EFI PART":
        raise Skip("no GPT")
    for lba in (1, size // 512 - 1):
        h = bytearray(read_at(img, lba * 512, 512))
        hsize = struct.unpack_from("<I", h, 12)[0]
        ent_lba, n, esz = struct.unpack_from("<QII", h, 72)
        ents = bytearray(read_at(img, ent_lba * 512, n * esz))
        fn(ents, esz)
        write_at(img, ent_lba * 512, bytes(ents))
        struct.pack_into("<I", h, 88, zlib.crc32(ents) & 0xFFFFFFFF)
        struct.pack_into("<I", h, 16, 0)
        struct.pack_into("<I", h, 16, zlib.crc32(bytes(h[:hsize])) & 0xFFFFFFFF)
        write_at(img, lba * 512, bytes(h))


def m_gpt_entry(img):
    def clear_first(ents, esz):
        ents[0:esz] = bytes(esz)
    gpt_rewrite(img, clear_first)
    return "cleared GPT entry 1 in both arrays (CRCs fixed: a consistent table)"


def m_mbr(img):
    if read_at(img, 510, 2) != b"\x55\xaa":
        raise Skip("no MBR")
    if read_at(img, 512, 8) == b"EFI PART":
        raise Skip("GPT disk (protective MBR)")
    t = read_at(img, 446 + 4, 1)[0]
    if t == 0:
        raise Skip("MBR entry 1 empty")
    write_at(img, 446 + 4, bytes([0x8E if t != 0x8E else 0x83]))
    return f"MBR entry 1 type 0x{t:02x} -> LVM"


def m_fat_content(img):
    off = fat_offset(img)
    spec = f"{img}@@{off}"
    env = dict(os.environ, MTOOLS_SKIP_CHECK="1")
    r = subprocess.run(["mdir", "-/", "-b", "-i", spec, "::"], capture_output=True, text=True,
                       env=env)
    files = [l.strip() for l in r.stdout.splitlines() if l.strip() and not l.strip().endswith("/")]
    for f in files:
        data = subprocess.run(["mtype", "-i", spec, f], capture_output=True, env=env).stdout
        if data:
            tmp = os.environ.get("TMPDIR", "/tmp") + f"/mutant-fat.{os.getpid()}"
            with open(tmp, "wb") as o:
                o.write(bytes([data[0] ^ 0x01]) + data[1:])
            subprocess.run(["mcopy", "-o", "-i", spec, tmp, f], check=True, env=env,
                           capture_output=True)
            os.unlink(tmp)
            return f"ESP file {f}: first byte flipped"
    raise Skip("no non-empty file on the FAT partition")


def m_qcow2_l2(img):
    h = read_at(img, 0, 104)
    cbits = struct.unpack_from(">I", h, 20)[0]
    l1_size = struct.unpack_from(">I", h, 36)[0]
    l1_off = struct.unpack_from(">Q", h, 40)[0]
    l1 = struct.unpack(f">{l1_size}Q", read_at(img, l1_off, 8 * l1_size))
    csize = 1 << cbits
    for e in l1:
        l2_off = e & 0x00FFFFFFFFFFFE00
        if not l2_off:
            continue
        l2 = list(struct.unpack(f">{csize // 8}Q", read_at(img, l2_off, csize)))
        used = [i for i, v in enumerate(l2) if v & 0x3FFFFFFFFFFFFFFF]
        if len(used) >= 2:
            a, b = used[0], used[1]
            l2[a], l2[b] = l2[b], l2[a]
            write_at(img, l2_off, struct.pack(f">{csize // 8}Q", *l2))
            return f"swapped L2 entries {a} and {b} at 0x{l2_off:x}"
    raise Skip("fewer than two mapped clusters in one L2 table")


def m_vdi_vhd_map(img):
    fmt = file_format(img)
    if fmt == "vdi":
        h = read_at(img, 0, 512)
        off_bmap = struct.unpack_from("<I", h, 0x154)[0]
        n = struct.unpack_from("<I", h, 0x180)[0]
        bm = list(struct.unpack(f"<{n}I", read_at(img, off_bmap, 4 * n)))
        used = [i for i, v in enumerate(bm) if v < 0xFFFFFFFE]
        if len(used) < 2:
            raise Skip("fewer than two VDI blocks")
        a, b = used[0], used[1]
        bm[a], bm[b] = bm[b], bm[a]
        write_at(img, off_bmap, struct.pack(f"<{n}I", *bm))
        return f"swapped VDI block map entries {a} and {b}"
    if fmt == "vhd" and read_at(img, 0, 8) == b"conectix":
        dyn = read_at(img, 512, 1024)
        if dyn[:8] != b"cxsparse":
            raise Skip("no VHD dynamic header")
        bat_off = struct.unpack_from(">Q", dyn, 16)[0]
        n = struct.unpack_from(">I", dyn, 28)[0]
        bat = list(struct.unpack(f">{n}I", read_at(img, bat_off, 4 * n)))
        used = [i for i, v in enumerate(bat) if v != 0xFFFFFFFF]
        if len(used) < 2:
            raise Skip("fewer than two VHD blocks")
        a, b = used[0], used[1]
        bat[a], bat[b] = bat[b], bat[a]
        write_at(img, bat_off, struct.pack(f">{n}I", *bat))
        return f"swapped VHD BAT entries {a} and {b}"
    raise Skip("not a VDI or dynamic VHD")


def m_random_bytes(img):
    # bytes 16..31: MBR boot code (unused without a BIOS bootloader) or ext4's boot area
    if read_at(img, 16, 16) != bytes(16):
        raise Skip("bytes 16..31 are in use")
    write_at(img, 16, os.urandom(16))
    return "16 random bytes at offset 16 (boot code area)"


FILE_MUTANTS = {
    "ext4-data": ("raw", m_ext4_data),
    "ext4-meta": ("raw", m_ext4_meta),
    "file-mode": ("raw", m_file_mode),
    "file-owner": ("raw", m_file_owner),
    "xattr": ("raw", m_xattr),
    "symlink": ("raw", m_symlink),
    "drop-file": ("raw", m_drop_file),
    "label": ("raw", m_label),
    "gpt-entry": ("raw", m_gpt_entry),
    "mbr": ("raw", m_mbr),
    "fat-content": ("raw", m_fat_content),
    "qcow2-l2": ("qcow2", m_qcow2_l2),
    "vdi-vhd-map": (None, m_vdi_vhd_map),
    "random-bytes": ("raw", m_random_bytes),
}

# ---- the mutants that change the command line or the output text

ARG_MUTANTS = {"autosize-no-space", "refuse-vdi", "convert-no-detect", "partial-output",
               "inspect-format"}


def mutate_args(cmd, args):
    if MUTANT == "autosize-no-space" and cmd == "build":
        out = []
        i = 0
        changed = False
        while i < len(args):
            if args[i] == "--additional-space" and i + 1 < len(args):
                out += ["--additional-space", "0"]
                changed = True
                i += 2
                continue
            out.append(args[i])
            i += 1
        if changed:
            note("applied", "--additional-space replaced by 0")
        return out
    if MUTANT == "convert-no-detect" and cmd == "convert" and "--input-format" not in args:
        pos = convert_positionals(args)
        if pos and file_format(pos[0]) != "raw":
            note("applied", f"convert {pos[0]} read as raw (detection skipped)")
            return ["--input-format", "raw"] + args
    return args


def refuses(cmd, args):
    """refuse-vdi: build and convert say vdi is not supported (as a build without it would)."""
    if MUTANT != "refuse-vdi" or cmd not in ("build", "convert"):
        return False
    fmt = None
    for i, a in enumerate(args):
        if a == "--format" and i + 1 < len(args):
            fmt = args[i + 1]
    if cmd == "convert" and fmt is None:
        pos = convert_positionals(args)
        if len(pos) == 2 and pos[1].lower().endswith(".vdi"):
            fmt = "vdi"
    if fmt != "vdi":
        return False
    note("applied", f"{cmd}: refused vdi")
    sys.stderr.write("mkdiskimage: error: format vdi is not supported by this build (use one "
                     "of raw, qcow2, qcow2-compressed, vpc)\n")
    return True


def outputs_of(cmd, args, before):
    if cmd == "convert":
        pos = convert_positionals(args)
        return [pos[1]] if len(pos) == 2 and os.path.isfile(pos[1]) else []
    out = build_output(args)
    if not out:
        return []
    if os.path.isdir(out):
        return [os.path.join(out, f) for f in sorted(set(os.listdir(out)) - before)
                if os.path.isfile(os.path.join(out, f)) and not f.endswith(".fd")]
    return [out] if os.path.isfile(out) else []


def main():
    args = sys.argv[1:]
    cmd = args[0] if args else ""
    rest = mutate_args(cmd, args[1:])
    if refuses(cmd, rest):
        return 1
    before = set()
    out = build_output(rest) if cmd == "build" else None
    if out and os.path.isdir(out):
        before = set(os.listdir(out))
    if MUTANT == "inspect-format" and cmd == "inspect":
        r = subprocess.run([REAL, cmd] + rest, stdout=subprocess.PIPE)
        text = r.stdout.decode()
        swap = {"qcow2": "vdi", "vdi": "vpc", "vpc": "raw", "raw": "qcow2"}
        new = re.sub(r'("format":\s*")(\w+)(")',
                     lambda m: m.group(1) + swap.get(m.group(2), "raw") + m.group(3), text)
        new = re.sub(r"\b(format:?\s+)(raw|qcow2|vdi|vpc)\b",
                     lambda m: m.group(1) + swap[m.group(2)], new)
        if new != text:
            note("applied", "inspect reported another format")
        sys.stdout.write(new)
        return r.returncode
    rc = subprocess.run([REAL, cmd] + rest).returncode
    if MUTANT == "partial-output" and rc != 0 and cmd == "build":
        o = build_output(rest)
        if o:
            path = os.path.join(o, "nixos.img") if os.path.isdir(o) else o
            if os.path.isdir(os.path.dirname(path) or "."):
                with open(path, "wb") as f:
                    f.write(b"\0" * 4096)
                note("applied", f"left a partial {path} after a failed build")
        return rc
    if rc != 0 or MUTANT not in FILE_MUTANTS or cmd not in ("build", "convert"):
        return rc
    want, fn = FILE_MUTANTS[MUTANT]
    for path in outputs_of(cmd, rest, before):
        fmt = file_format(path)
        if want and fmt != want:
            continue
        try:
            note("applied", f"{path}: {fn(path)}")
        except Skip as e:
            pass
        except Exception as e:  # the wrapper is broken: say so, the runner fails
            note("error", f"{path}: {type(e).__name__}: {e}")
    return rc


if __name__ == "__main__":
    sys.exit(main())
