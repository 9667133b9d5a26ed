# An independent reader of UEFI variable stores (Python, from the EDK II layout), sourced by
# tests/integration/efivars.sh and nix-function.sh after tests/lib.sh.

# read_store FILE: the variables as lines "STATE NAME GUID ATTRS OFFSET HEXBYTES", after
# checking the FV header (signature, checksum, block map) and the store header.
read_store()
{
	python3 - "$1" <<'PY'
import struct, sys, uuid
b = open(sys.argv[1], "rb").read()
assert b[40:44] == b"_FVH", "FV signature"
fv_len, = struct.unpack_from("<Q", b, 32)
hlen, = struct.unpack_from("<H", b, 48)
assert fv_len == len(b), "FvLength"
assert sum(struct.unpack_from("<%dH" % (hlen // 2), b, 0)) & 0xffff == 0, "FV checksum"
guid = uuid.UUID(bytes_le=b[hlen:hlen + 16])
assert guid == uuid.UUID("aaf32c78-947b-439a-a180-2e144ec37792"), guid
size, fmt, state = struct.unpack_from("<IBB", b, hlen + 16)
assert fmt == 0x5a and state == 0xfe, "store format/state"
end = hlen + size
off = (hlen + 28 + 3) & ~3
while off + 60 <= end and struct.unpack_from("<H", b, off)[0] == 0x55aa:
    st, attrs = b[off + 2], struct.unpack_from("<I", b, off + 4)[0]
    ns, ds = struct.unpack_from("<II", b, off + 36)
    vendor = uuid.UUID(bytes_le=b[off + 44:off + 60])
    name = b[off + 60:off + 60 + ns].decode("utf-16-le").rstrip("\0")
    nxt = off + 60 + ns + ds
    print("%02x %s %s %x %d %s" % (st, name, vendor, attrs, off, b[off + 3:nxt].hex()))
    off = (nxt + 3) & ~3
assert all(c == 0xff for c in b[off:end]), "free space not erased"
PY
}

# boot_entry FILE [NAME]: a Boot#### load option (Boot0000 by default), decoded:
# "ATTRS|DESCRIPTION|PART|START|SIZE|GUID|PATH".
boot_entry()
{
	read_store "$1" | awk -v n="${2:-Boot0000}" '$1 == "3f" && $2 == n { print $6 }' |
		python3 -c '
import struct, sys, uuid
raw = bytes.fromhex(sys.stdin.read().strip())
hdr = 60 - 3 + 2 * len("Boot0000\0")  # the dump starts at the Reserved byte
d = raw[hdr:]
attrs, plen = struct.unpack_from("<IH", d, 0)
desc_end = d.index(b"\0\0", 6)
while (desc_end - 6) % 2:
    desc_end = d.index(b"\0\0", desc_end + 1)
desc = d[6:desc_end].decode("utf-16-le")
p = d[desc_end + 2:desc_end + 2 + plen]
assert len(d) == desc_end + 2 + plen, "optional data"
t, s, l = struct.unpack_from("<BBH", p, 0)
assert (t, s, l) == (4, 1, 42), (t, s, l)
part, start, size = struct.unpack_from("<IQQ", p, 4)
sig = uuid.UUID(bytes_le=p[24:40])
assert p[40:42] == b"\x02\x02", "MBR type / signature type"
t, s, l = struct.unpack_from("<BBH", p, 42)
assert (t, s) == (4, 4), (t, s)
path = p[46:42 + l].decode("utf-16-le")
assert path.endswith("\0")
assert p[42 + l:] == b"\x7f\xff\x04\x00", "End node"
print("%x|%s|%d|%d|%d|%s|%s" % (attrs, desc, part, start, size, sig, path.rstrip("\0")))
'
}
