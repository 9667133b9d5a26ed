#!/usr/bin/env python3
"""Writes the hand-made seeds of fuzz/corpus/efivars and fuzz/corpus/loadopt: small variable
stores (a firmware volume of 512-byte blocks, as OVMF_VARS.fd is laid out but 2 KiB instead
of 128 KiB) holding Boot####, BootOrder, Timeout and deleted copies, and the load options in
them. Layouts: docs/formats/efivars.md. Run from the repository root."""
import os
import struct
import uuid

def guid(s):
    return uuid.UUID(s).bytes_le

NV_FV = guid("fff12b8d-7696-4c8b-a985-2747075b4f50")
AUTH_STORE = guid("aaf32c78-947b-439a-a180-2e144ec37792")
PLAIN_STORE = guid("ddcf3616-3275-4164-98b6-fe85707ffe7d")
FTW = guid("9e58292b-7c68-497d-a0ce-6500fd9f1b95")
GLOBAL = guid("8be4df61-93ca-11d2-aa0d-00e098032b8c")

def ucs2(s):
    return (s + "\0").encode("utf-16-le")

def devpath(file, part=1, start=2048, size=204800):
    hd = struct.pack("<BBHIQQ16sBB", 4, 1, 42, part, start, size,
                     guid("12345678-9abc-4def-8123-456789abcdef"), 2, 2)
    name = ucs2(file)
    fp = struct.pack("<BBH", 4, 4, 4 + len(name)) + name
    return hd + fp + b"\x7f\xff\x04\x00"

def loadopt(desc, path, optional=b"", attrs=1):
    return struct.pack("<IH", attrs, len(path)) + ucs2(desc) + path + optional

def var(auth, name, data, state=0x3f, attrs=7, vendor=GLOBAL):
    n = ucs2(name)
    if auth:
        h = struct.pack("<HBBIQ16sI", 0x55aa, state, 0, attrs, 0, b"\0" * 16, 0)
        h += struct.pack("<II", len(n), len(data)) + vendor
    else:
        h = struct.pack("<HBBIII", 0x55aa, state, 0, attrs, len(n), len(data)) + vendor
    b = h + n + data
    return b + b"\xff" * (-len(b) % 4)

def store(auth, vars, blocks=4, ftw=False):
    fv_len = 512 * blocks
    hdr = bytearray(b"\0" * 16 + NV_FV + struct.pack("<Q", fv_len) + b"_FVH" +
                    struct.pack("<IHHHBB", 0x4feff, 72, 0, 0, 0, 2) +
                    struct.pack("<IIII", blocks, 512, 0, 0))
    csum = (-sum(struct.unpack("<36H", hdr))) & 0xffff
    struct.pack_into("<H", hdr, 50, csum)
    store_len = 512 * (blocks - 1 if ftw else blocks) - 72
    st = (AUTH_STORE if auth else PLAIN_STORE) + struct.pack("<IBBHI", store_len, 0x5a, 0xfe, 0, 0)
    body = st + b"".join(vars)
    assert len(body) <= store_len
    out = bytes(hdr) + body + b"\xff" * (store_len - len(body))
    if ftw:
        out += FTW + struct.pack("<IIQ", 0xffffffff, 0xfffffffe, 512 - 32) + b"\xff" * (512 - 32)
    assert len(out) == fv_len
    return out

def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)

boot1 = loadopt("Linux Boot Manager", devpath("\\EFI\\systemd\\systemd-bootx64.efi"))
boot2 = loadopt("UEFI Shell", devpath("\\EFI\\shell.efi", part=2), optional=b"\x01\x02\x03\x04",
                attrs=0)
order = struct.pack("<HH", 1, 2)
for auth in (True, False):
    k = "auth" if auth else "plain"
    write(f"fuzz/corpus/efivars/{k}-empty.fd", store(auth, []))
    write(f"fuzz/corpus/efivars/{k}-boot.fd", store(auth, [
        var(auth, "Boot0001", boot1), var(auth, "Boot0002", boot2),
        var(auth, "BootOrder", order), var(auth, "Timeout", b"\x05\x00"),
        var(auth, "BootOrder", b"\x02\x00", state=0x3c),
        var(auth, "Boot0003", boot1, state=0x3e),
        var(auth, "Lang", b"eng\0", attrs=3)], ftw=True, blocks=5))
write("fuzz/corpus/loadopt/boot-sdboot", boot1)
write("fuzz/corpus/loadopt/boot-optional", boot2)
write("fuzz/corpus/loadopt/devpath-hd-file", devpath("\\EFI\\BOOT\\BOOTX64.EFI"))

# VDI and dynamic VHD with 4 KiB blocks (both readers accept 512 B..256 MiB; qemu-img writes
# 1 MiB and 2 MiB ones, too large for seeds) of each raw disk given on the command line.
def blocks(raw, bs):
    return [raw[i:i + bs] for i in range(0, len(raw), bs)]

def vdi(raw, bs=4096):
    bl = blocks(raw, bs)
    used = [b for b in bl if any(b)]
    bmap_len = (4 * len(bl) + 511) // 512 * 512
    h = bytearray(512)
    t = b"<<< Oracle VM VirtualBox Disk Image >>>\n"
    h[0:len(t)] = t
    struct.pack_into("<IIIII", h, 0x40, 0xbeda107f, 0x00010001, 0x180, 1, 0)
    struct.pack_into("<II", h, 0x154, 512, 512 + bmap_len)
    struct.pack_into("<I", h, 0x168, 512)
    struct.pack_into("<QIIII", h, 0x170, len(raw), bs, 0, len(bl), len(used))
    h[0x188:0x198] = guid("0e0f1f2f-3f4f-4f5f-8f6f-7f8f9fafbfcf")
    bmap, data, k = b"", b"", 0
    for b in bl:
        if any(b):
            bmap += struct.pack("<I", k)
            data += b
            k += 1
        else:
            bmap += struct.pack("<I", 0xffffffff)
    return bytes(h) + bmap + b"\0" * (bmap_len - len(bmap)) + data

def vhd_csum(b, off):
    b[off:off + 4] = b"\0\0\0\0"
    struct.pack_into(">I", b, off, (~sum(b)) & 0xffffffff)

def vhd_footer(size, dyn_off, disk_type):
    f = bytearray(512)
    f[0:8] = b"conectix"
    struct.pack_into(">IIQI4sI4sQQHBBI", f, 8, 2, 0x10000, dyn_off, 0, b"mkdi", 0x10000,
                     b"Wi2k", size, size, 65535, 16, 255, disk_type)  # max CHS: current_size counts
    f[68:84] = guid("0e0f1f2f-3f4f-4f5f-8f6f-7f8f9fafbfcf")
    vhd_csum(f, 64)
    return bytes(f)

def vhd_dynamic(raw, bs=4096):
    bl = blocks(raw, bs)
    foot = vhd_footer(len(raw), 512, 3)
    bat_off = 512 + 1024
    bat_len = (4 * len(bl) + 511) // 512 * 512
    dh = bytearray(1024)
    dh[0:8] = b"cxsparse"
    struct.pack_into(">QQIII", dh, 8, 0xffffffffffffffff, bat_off, 0x10000, len(bl), bs)
    vhd_csum(dh, 36)
    bitmap = b"\xff" * 512  # bs / 512 / 8 bits, rounded up to a sector
    bat, data = b"", b""
    pos = bat_off + bat_len
    for b in bl:
        if any(b):
            bat += struct.pack(">I", (pos + len(data)) // 512)
            data += bitmap + b
        else:
            bat += struct.pack(">I", 0xffffffff)
    return foot + bytes(dh) + bat + b"\xff" * (bat_len - len(bat)) + data + foot

def vhd_fixed(raw):
    return raw + vhd_footer(len(raw), 0xffffffffffffffff, 2)

def vmdk_header(cap, grain, gtes, gd, rgd, overhead, stream):
    h = bytearray(512)
    flags = 0x30001 if stream else 3
    struct.pack_into("<4sIIQQQQIQQQ", h, 0, b"KDMV", 3 if stream else 1, flags, cap, grain,
                     1, 2, gtes, rgd, gd, overhead)
    h[73:77] = b"\n \r\n"
    struct.pack_into("<H", h, 77, 1 if stream else 0)
    return h

def vmdk_desc(kind, cap):
    d = (f'# Disk DescriptorFile\nversion=1\nCID=12345678\nparentCID=ffffffff\n'
         f'createType="{kind}"\n\nRW {cap} SPARSE "x.vmdk"\n').encode()
    return d + b"\0" * (1024 - len(d))

def vmdk(raw, stream, grain=8, gtes=16):
    """A VMDK sparse extent with 4 KiB grains and 16-entry grain tables (docs/formats/vmdk.md):
    monolithicSparse (plain grains, both directories) or streamOptimized (zlib grains behind
    markers, tables after their grains, the directory and footer at the end)."""
    import zlib
    gb = grain * 512
    raw = raw + b"\0" * (-len(raw) % gb)
    cap = len(raw) // 512
    gl = blocks(raw, gb)
    n_gt = (len(gl) + gtes - 1) // gtes
    gt_sect = (gtes * 4 + 511) // 512
    gd_sect = (n_gt * 4 + 511) // 512
    if not stream:
        rgd = 3
        gd = rgd + gd_sect + n_gt * gt_sect
        over = gd + gd_sect + n_gt * gt_sect
        gts, data = [[0] * gtes for _ in range(n_gt)], b""
        for i, b in enumerate(gl):
            if any(b):
                gts[i // gtes][i % gtes] = over + len(data) // 512
                data += b
        out = bytearray(over * 512)
        out[0:512] = vmdk_header(cap, grain, gtes, gd, rgd, over, False)
        out[512:1536] = vmdk_desc("monolithicSparse", cap)
        for base in (rgd, gd):
            for t in range(n_gt):
                struct.pack_into("<I", out, base * 512 + 4 * t, base + gd_sect + t * gt_sect)
                struct.pack_into(f"<{gtes}I", out, (base + gd_sect + t * gt_sect) * 512, *gts[t])
        return bytes(out) + data
    out = bytearray(vmdk_header(cap, grain, gtes, 0xffffffffffffffff, 0, 3, True))
    out += vmdk_desc("streamOptimized", cap)
    gdl = [0] * n_gt
    def marker(val, typ):
        return struct.pack("<QII", val, 0, typ) + b"\0" * 496
    for t in range(n_gt):
        gt = [0] * gtes
        for i in range(t * gtes, min(len(gl), (t + 1) * gtes)):
            if any(gl[i]):
                z = zlib.compress(gl[i])
                g = struct.pack("<QI", i * grain, len(z)) + z
                gt[i % gtes] = len(out) // 512
                out += g + b"\0" * (-len(g) % 512)
        if any(gt):
            out += marker(gt_sect, 1)
            gdl[t] = len(out) // 512
            out += struct.pack(f"<{gtes}I", *gt) + b"\0" * (-gtes * 4 % 512)
    out += marker(gd_sect, 2)
    gd = len(out) // 512
    out += struct.pack(f"<{n_gt}I", *gdl) + b"\0" * (-n_gt * 4 % 512)
    out += marker(1, 3) + vmdk_header(cap, grain, gtes, gd, 0, 3, True) + marker(0, 0)
    return bytes(out)

import sys
for path in sys.argv[1:]:
    name = os.path.splitext(os.path.basename(path))[0]
    raw = open(path, "rb").read()
    write(f"fuzz/corpus/vdi/{name}-4k.vdi", vdi(raw))
    write(f"fuzz/corpus/vhd/{name}-4k.vhd", vhd_dynamic(raw))
    write(f"fuzz/corpus/vmdk/{name}-sparse.vmdk", vmdk(raw, False))
    write(f"fuzz/corpus/vmdk/{name}-stream.vmdk", vmdk(raw, True))
    if len(raw) <= 64 << 10:
        write(f"fuzz/corpus/vhd/{name}-fixed.vhd", vhd_fixed(raw))
