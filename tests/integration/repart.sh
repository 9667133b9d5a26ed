#!/usr/bin/env bash
# --definitions DIR: systemd-repart partition definitions (issue #15), side by side with
# systemd-repart 252 itself (`--empty=create --size=N --seed=UUID --dry-run=no` on an image
# file; it formats through loop devices, so that half needs root). Three definition sets:
#   A  esp (vfat, fixed 32M) + root (ext4, CopyFiles=, MakeDirectories=, Label=) + swap (16M)
#   B  swap + two home (weights, the second's UUID counter and "home-2" label) + srv
#      (PaddingWeight=, PaddingMinBytes=, ReadOnly=, NoAuto=, Flags=) + var (UUID=) + a
#      Priority=10 partition too large for the disk, which both drop
#   C  diskSize auto: ours is repart's --size=auto rounded up to a whole MiB; repart is given
#      that size
# Oracles: `sfdisk --json` field by field (disk GUID, the header's first usable LBA, every
# partition's type, label, UUID, start, size, attributes), blkid -p per partition (filesystem type, label, UUID — the same as repart's mkfs
# gets), every ext4's files (debugfs rdump: paths, types, modes, bytes, symlink targets)
# against repart's, e2fsck -fn and fsck.fat -n clean, mcopy round trip of the ESP's files.
# Without root (or systemd-repart), ours is checked against the values repart 252 gave when
# this test was written. Bad definitions fail with one line naming file:line and key.
. "$(dirname "$0")/../lib.sh"
require sfdisk blkid e2fsck debugfs fsck.fat mcopy python3
SEED=0e1b5ad2-7e8a-4b1f-9f6c-1a2b3c4d5e6f
SRC=$T/src # the copy source (repart's --root, our --copy-source)
mkdir -p "$SRC/etc/ssh" "$SRC/boot/EFI/BOOT" "$SRC/data/sub"
printf 'repart-host\n' >"$SRC/etc/hostname"
printf 'Port 22\n' >"$SRC/etc/ssh/sshd_config"
chmod 600 "$SRC/etc/ssh/sshd_config"
ln -s hostname "$SRC/etc/name-link"
head -c 200000 /dev/urandom >"$SRC/data/sub/blob"
printf 'efi loader\n' >"$SRC/boot/EFI/BOOT/BOOTX64.EFI"

vfat_kernel=0
grep -qw vfat /proc/filesystems 2>/dev/null && vfat_kernel=1

defs()
{
	local set=$1 dir=$T/$1
	rm -rf "$dir"
	mkdir -p "$dir"
	case $set in
	A)
		printf '[Partition]\nType=esp\nFormat=vfat\nSizeMinBytes=32M\nSizeMaxBytes=32M\n' \
			>"$dir/00-esp.conf"
		# repart copies into vfat through a kernel mount: only where the kernel has vfat
		[ "${2:-}" = copy-esp ] && printf 'CopyFiles=/boot:/\n' >>"$dir/00-esp.conf"
		cat >"$dir/10-root.conf" <<'EOF'
# the root: files from the copy source
[Partition]
Type=root-x86-64
Format=ext4
Label=myroot
CopyFiles=/etc:/etc
CopyFiles=/data/sub/blob:/blob
MakeDirectories=/var /srv/a \
  /home
EOF
		printf '[Partition]\nType=swap\nFormat=swap\nSizeMinBytes=16M\nSizeMaxBytes=16M\n' \
			>"$dir/20-swap.conf"
		;;
	B)
		printf '[Partition]\nType=swap\nFormat=swap\nSizeMinBytes=8M\nSizeMaxBytes=8M\n' \
			>"$dir/10-swap.conf"
		printf '[Partition]\nType=home\nFormat=ext4\nWeight=2000\n' >"$dir/20-home.conf"
		printf '[Partition]\n; a second home\nType=home\nWeight=500\nSizeMaxBytes=20M\n' \
			>"$dir/21-home.conf"
		printf '[Partition]\nType=srv\nPaddingWeight=500\nPaddingMinBytes=1M\nReadOnly=yes\nNoAuto=on\nFlags=1125899906842624\n' \
			>"$dir/30-srv.conf"
		printf '[Partition]\nType=var\nFormat=ext4\nUUID=4f3a6e2b-1c2d-4e5f-8a9b-0c1d2e3f4a5b\nSizeMinBytes=12M\n' \
			>"$dir/40-var.conf"
		printf '[Partition]\nType=linux-generic\nSizeMinBytes=1G\nPriority=10\n' \
			>"$dir/50-big.conf"
		: >"$dir/60-masked.conf" # empty: masked, as systemd's conf-files
		printf 'not a definition\n' >"$dir/README"
		;;
	C)
		printf '[Partition]\nType=xbootldr\nFormat=vfat\nSizeMinBytes=20M\n' >"$dir/1.conf"
		printf '[Partition]\nType=usr-arm64\nSizeMinBytes=5M\nSizeMaxBytes=5M\n' >"$dir/2.conf"
		printf '[Partition]\nType=root-x86-64\nFormat=ext4\nCopyFiles=/etc\n' >"$dir/3.conf"
		;;
	esac
}

# table IMG: sfdisk --json without what names the file.
table()
{
	sfdisk --json "$1" | python3 -c '
import json, sys
pt = json.load(sys.stdin)["partitiontable"]
pt.pop("device")
for i, p in enumerate(pt["partitions"]):
    p["node"] = i + 1
print(json.dumps(pt, indent=1, sort_keys=True))'
}

# fsinfo IMG: per partition "N TYPE LABEL UUID" from blkid -p.
fsinfo()
{
	local img=$1 n=0 start size
	while read -r start size; do
		n=$((n + 1))
		printf '%s %s\n' "$n" "$(blkid -p -o export --offset $((start * 512)) \
			--size $((size * 512)) "$img" | grep -E '^(TYPE|LABEL|UUID)=' | sort | tr '\n' ' ')"
	done < <(sfdisk --json "$img" | python3 -c '
import json, sys
for p in json.load(sys.stdin)["partitiontable"]["partitions"]:
    print(p["start"], p["size"])')
}

# files DIR: path, type, mode, sha256 / link target of every file below DIR (no lost+found).
files()
{
	python3 - "$1" <<'EOF'
import hashlib, os, stat, sys
root = sys.argv[1]
for dp, dns, fns in os.walk(root):
    dns.sort()
    for name in sorted(dns + fns):
        p = os.path.join(dp, name)
        rel = os.path.relpath(p, root)
        if rel == "lost+found" or rel.startswith("lost+found/"):
            continue
        st = os.lstat(p)
        if stat.S_ISLNK(st.st_mode):
            what = "-> " + os.readlink(p)
        elif stat.S_ISREG(st.st_mode):
            what = hashlib.sha256(open(p, "rb").read()).hexdigest()
        else:
            what = ""
        print(rel, oct(st.st_mode), what)
EOF
}

# ext4_files IMG N OUT: the files of partition N's ext4 (debugfs rdump: no mount needed).
ext4_files()
{
	local img=$1 n=$2 out=$3
	extract_partition "$img" "$n" "$T/part.img"
	e2fsck_clean "$T/part.img"
	rm -rf "$T/dump"
	mkdir -p "$T/dump"
	debugfs -R "rdump / $T/dump" "$T/part.img" >/dev/null 2>&1 || fail "debugfs rdump of $img#$n"
	files "$T/dump" >"$out"
}

ours()
{
	local set=$1 out=$2
	shift 2
	build --definitions "$T/$set" --copy-source "$SRC" --seed "$SEED" -o "$out" "$@"
}

# Our images, checked on their own.
defs A
ours A "$T/a.img" --disk-size 128M
fsck.fat -n "$(extract_partition "$T/a.img" 1 "$T/esp.img" && echo "$T/esp.img")" >/dev/null ||
	fail "fsck.fat -n of the ESP"
ext4_files "$T/a.img" 2 "$T/a.ours.files"
grep -q '^etc/ssh/sshd_config 0o100600 ' "$T/a.ours.files" || fail "CopyFiles /etc: $(cat "$T/a.ours.files")"
grep -q '^etc/name-link 0o120777 -> hostname' "$T/a.ours.files" || fail "CopyFiles: the symlink"
grep -q "^blob 0o100644 $(sha256sum <"$SRC/data/sub/blob" | cut -c1-64)" "$T/a.ours.files" ||
	fail "CopyFiles=/data/sub/blob:/blob"
for dir in var srv/a home; do
	grep -q "^$dir 0o40755 " "$T/a.ours.files" || fail "MakeDirectories=: no /$dir"
done
defs A copy-esp
ours A "$T/a2.img" --disk-size 128M
extract_partition "$T/a2.img" 1 "$T/esp2.img"
fsck.fat -n "$T/esp2.img" >/dev/null || fail "fsck.fat -n of the populated ESP"
mtype -i "$T/esp2.img" ::/EFI/BOOT/BOOTX64.EFI | cmp - "$SRC/boot/EFI/BOOT/BOOTX64.EFI" ||
	fail "the ESP's CopyFiles=/boot:/ (mcopy round trip)"
assert_reproducible --definitions "$T/A" --copy-source "$SRC" --seed "$SEED" --disk-size 128M

# What systemd-repart 252 gave for set B (the table is all it takes: no formatting needed to
# check ours without root).
defs B
ours B "$T/b.img" --disk-size 96M
table "$T/b.img" >"$T/b.ours.table"
python3 - "$T/b.ours.table" <<'EOF' || fail "set B differs from systemd-repart 252's table"
import json, sys
t = json.load(open(sys.argv[1]))
want = [
 # start, size, type, uuid, name, attrs
 (2048, 16384, "0657FD6D-A4AB-43C4-84E5-0933C84B4F4F", "04B23BEA-3E9F-4F20-939F-52C90A1C72AD", "swap", None),
 (18432, 70064, "933AC7E1-2EB4-4F13-B844-0E14E2AEF915", "B21C38C3-ABFE-4ECF-8342-8224ACEEE213", "home", "GUID:59"),
 (88496, 20480, "933AC7E1-2EB4-4F13-B844-0E14E2AEF915", "E3FE2499-F8B8-499E-A3AA-C7E27FD63738", "home-2", "GUID:59"),
 (108976, 35032, "3B8F8425-20E0-4F3B-907F-1A25A76F98E8", "F548CD1B-5D80-428C-B1DC-C7E48FA52E98", "srv", "GUID:50,60,63"),
 (161528, 35040, "4D21B016-B534-45C2-A9FB-5C16E091FD2D", "4F3A6E2B-1C2D-4E5F-8A9B-0C1D2E3F4A5B", "var", "GUID:59"),
]
assert t["id"] == "F170921A-BC1E-4DF6-BA00-7F849A6E7127", t["id"]
assert t["firstlba"] == 2048 and t["lastlba"] == 196574, t
for w, p in zip(want, t["partitions"]):
    got = (p["start"], p["size"], p["type"], p["uuid"], p["name"], p.get("attrs"))
    assert got == w, (got, w)
assert len(t["partitions"]) == 5, len(t["partitions"])
EOF

# Bad definitions: one line naming the file, line and key; no output.
bad()
{
	local msg=$1
	rm -rf "$T/bad"
	mkdir -p "$T/bad"
	printf '%b' "$2" >"$T/bad/10-x.conf"
	expect_fail "$msg" --definitions "$T/bad" --seed "$SEED" --disk-size 64M
}
bad "10-x.conf:3: Foo=1: unknown key in [Partition]" '[Partition]\nType=home\nFoo=1\n'
bad "10-x.conf:2: Format=btrfs: filesystem not supported" '[Partition]\nFormat=btrfs\nType=home\n'
bad "10-x.conf:3: CopyBlocks=auto: not supported" '[Partition]\nType=home\nCopyBlocks=auto\n'
bad "10-x.conf:3: Encrypt=tpm2: encryption is not supported" '[Partition]\nType=home\nEncrypt=tpm2\n'
bad "10-x.conf:3: Verity=data: dm-verity is not supported" '[Partition]\nType=root\nVerity=data\n'
bad "10-x.conf:2: SizeMinBytes=12X: not a size" '[Partition]\nSizeMinBytes=12X\nType=home\n'
bad "10-x.conf:1: \"Type=home\": assignment outside [Partition]" 'Type=home\n'
bad "10-x.conf:1: [Disk]: unknown section" '[Disk]\nType=home\n'
bad "10-x.conf: Type= missing" '[Partition]\nLabel=x\n'
bad "10-x.conf:2: Type=root-vax: unknown partition type" '[Partition]\nType=root-vax\n'
bad "10-x.conf:3: ReadOnly=maybe: not a boolean" '[Partition]\nType=home\nReadOnly=maybe\n'
bad "10-x.conf:3: CopyFiles=etc:/etc: SOURCE and TARGET must be absolute" \
	'[Partition]\nType=home\nCopyFiles=etc:/etc\n'
bad "10-x.conf:3: Flags=7: bits 0..47 are not supported" '[Partition]\nType=home\nFlags=7\n'
# Format=erofs: the erofs handler's, or one line saying the build has none
mkdir -p "$T/erofs"
printf '[Partition]\nType=home\nFormat=erofs\n' >"$T/erofs/1.conf"
if "$MKDISKIMAGE" build --definitions "$T/erofs" --disk-size 64M -o "$T/erofs.img" 2>"$T/erofs.err"; then
	blkid -p -o value -s TYPE --offset 1048576 "$T/erofs.img" | grep -qx erofs ||
		fail "Format=erofs made no erofs"
else
	[ "$(cat "$T/erofs.err")" = "mkdiskimage: error: $T/erofs/1.conf: Format=erofs: this build has no erofs writer (use ext4, vfat or swap)" ] ||
		fail "Format=erofs: $(cat "$T/erofs.err")"
	[ ! -e "$T/erofs.img" ] || fail "Format=erofs left an output"
fi
bad "the partitions need at least" '[Partition]\nType=home\nSizeMinBytes=100M\n'

# Side by side with systemd-repart 252.
if ! is_root || ! command -v systemd-repart >/dev/null 2>&1 || ! can_loop_mount; then
	skip_case "systemd-repart side by side (needs root, loop devices and systemd-repart)"
	exit 0
fi
theirs()
{
	local set=$1 out=$2 size=$3
	rm -f "$out"
	systemd-repart --empty=create --size="$size" --definitions="$T/$set" --root="$SRC" \
		--seed="$SEED" --dry-run=no --pretty=no "$out" >"$T/repart.out" 2>&1 ||
		{ cat "$T/repart.out" >&2; fail "systemd-repart on set $set failed"; }
}
compare()
{
	local set=$1 ext4_parts=$2
	table "$T/$set.ours.img" >"$T/$set.ours.table"
	table "$T/$set.theirs.img" >"$T/$set.theirs.table"
	diff -u "$T/$set.theirs.table" "$T/$set.ours.table" >&2 ||
		fail "set $set: the partition table differs from systemd-repart's"
	fsinfo "$T/$set.ours.img" >"$T/$set.ours.fs"
	fsinfo "$T/$set.theirs.img" >"$T/$set.theirs.fs"
	diff -u "$T/$set.theirs.fs" "$T/$set.ours.fs" >&2 ||
		fail "set $set: filesystem types, labels or UUIDs differ from systemd-repart's"
	for n in $ext4_parts; do
		ext4_files "$T/$set.ours.img" "$n" "$T/$set.$n.ours.files"
		ext4_files "$T/$set.theirs.img" "$n" "$T/$set.$n.theirs.files"
		diff -u "$T/$set.$n.theirs.files" "$T/$set.$n.ours.files" >&2 ||
			fail "set $set: partition $n's files differ from systemd-repart's"
	done
	log "ok: set $set matches systemd-repart 252"
}
if [ "$vfat_kernel" = 1 ]; then defs A copy-esp; else defs A; fi
ours A "$T/A.ours.img" --disk-size 128M
theirs A "$T/A.theirs.img" 128M
compare A 2
defs B
ours B "$T/B.ours.img" --disk-size 96M
theirs B "$T/B.theirs.img" 96M
compare B "2 5"
defs C
ours C "$T/C.ours.img" --disk-size auto
theirs C "$T/C.theirs.img" "$(stat -c %s "$T/C.ours.img")"
compare C 3
