#!/usr/bin/env python3
"""A VHDX file as fuzz_vhdx's input (fuzz/fuzz_vhdx.c): le16 the size in 4 KiB pages with bit
15 set (the harness recomputes the header and region table checksums), then each page that is
not all zeros as le16 page number, le16 length, its bytes up to its last non-zero one.

usage: vhdx-pages.py IN.vhdx OUT [--pending-log]
--pending-log gives the current header a LogGuid and puts a log entry header of that LogGuid
at the start of the log, which the reader must refuse."""
import struct
import sys

PAGE = 4096


def crc32c(b):
    crc = 0xFFFFFFFF
    for x in b:
        crc ^= x
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 & -(crc & 1))
    return crc ^ 0xFFFFFFFF


def pending_log(d):
    h = max((64 << 10, 128 << 10), key=lambda o: struct.unpack_from("<Q", d, o + 8)[0])
    guid = b"\x4c" * 16
    d[h + 48:h + 64] = guid
    d[h + 4:h + 8] = b"\0\0\0\0"
    struct.pack_into("<I", d, h + 4, crc32c(bytes(d[h:h + 4096])))
    log = struct.unpack_from("<Q", d, h + 72)[0]
    d[log:log + 4] = b"loge"
    d[log + 32:log + 48] = guid


def main():
    d = bytearray(open(sys.argv[1], "rb").read())
    if "--pending-log" in sys.argv[3:]:
        pending_log(d)
    n = (len(d) + PAGE - 1) // PAGE
    assert n <= 16384, "file too large"
    out = bytearray(struct.pack("<H", n | 0x8000))
    for i in range(n):
        p = bytes(d[i * PAGE:(i + 1) * PAGE]).rstrip(b"\0")
        if p:
            out += struct.pack("<HH", i, len(p)) + p
    open(sys.argv[2], "wb").write(out)


main()
