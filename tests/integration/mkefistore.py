#!/usr/bin/env python3
"""Craft a hostile UEFI variable store (authenticated, as OVMF_VARS.fd) of SIZE bytes for
inspect's linear-time checks, laid out by hand from edk2's VariableFormat.h and PI vol. 3
§3.2.1 (not by mkdiskimage):

  devpath     Boot#### variables, each with a 64 KiB device path of 4-byte nodes
  transition  tiny variables in "deleted transition" state, half with a completed copy

usage: mkefistore.py devpath|transition SIZE OUT
"""
import struct
import sys

FV_GUID = bytes.fromhex("8d2bf1ff96768b4ca9852747075b4f50")  # gEfiSystemNvDataFvGuid
AUTH_GUID = bytes.fromhex("782cf3aa7b949a43a1802e144ec37792")  # gEfiAuthenticatedVariableGuid
GLOBAL = bytes.fromhex("61dfe48bca93d211aa0d00e098032b8c")  # EFI_GLOBAL_VARIABLE
HDR = 60  # AUTHENTICATED_VARIABLE_HEADER


def var(state, name, data, vendor=GLOBAL):
    n = (name + "\0").encode("utf-16-le")
    h = struct.pack("<HBBI8x16xI", 0x55AA, state, 0, 7, 0)  # StartId State Rsvd Attr Mono Time PubKey
    h += struct.pack("<II", len(n), len(data)) + vendor
    assert len(h) == HDR
    v = h + n + data
    return v + b"\xff" * (-len(v) % 4)


def main():
    mode, size, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    fv = bytearray(72)
    fv[16:32] = FV_GUID
    struct.pack_into("<Q4sIHHHBB", fv, 32, size, b"_FVH", 0x0004FEFF, 72, 0, 0, 0, 2)
    struct.pack_into("<IIII", fv, 56, size // 4096, 4096, 0, 0)
    s = sum(struct.unpack("<36H", fv)) & 0xFFFF
    struct.pack_into("<H", fv, 50, (0x10000 - s) & 0xFFFF)
    store = bytearray(AUTH_GUID + struct.pack("<IBB6x", size - 72, 0x5A, 0xFE))
    body, room, i = [], size - 72 - 28, 0
    while True:
        if mode == "devpath":
            nodes = (0xFFFF - 4) // 4
            path = b"\x05\x01\x04\x00" * nodes + b"\x7f\xff\x04\x00"
            data = struct.pack("<IH", 1, len(path)) + "x\0".encode("utf-16-le") + path
            v = var(0x3F, "Boot%04X" % (i & 0xFFFF), data)
        else:  # ADDED & IN_DELETED_TRANSITION = 0x3e; every other one has a completed copy
            v = var(0x3E, "V%x" % i, b"t")
            if i % 2 == 0:
                v += var(0x3F, "V%x" % i, b"a")
        if len(v) > room:
            break
        body.append(v)
        room -= len(v)
        i += 1
    with open(out, "wb") as f:
        f.write(fv + store + b"".join(body) + b"\xff" * room)
    print(i)


main()
