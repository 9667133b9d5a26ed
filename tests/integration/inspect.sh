#!/usr/bin/env bash
# `mkdiskimage inspect` (text and --json) agrees with independent tools: sfdisk for the table,
# blkid and dumpe2fs for the root filesystem; and `build --json` reports the same figures.
# quick
. "$(dirname "$0")/../lib.sh"
require sfdisk blkid dumpe2fs python3

mkdir -p "$T/root/etc"
echo hello >"$T/root/etc/hello"
for layout in none legacy efi efixbootldr; do
	img=$T/$layout.img
	build --root "$T/root" --partition-table "$layout" --boot-size 128M \
		--additional-space 8M --label inspectme --json -o "$img"
	cp "$T/build.out" "$T/build-$layout.json"
	"$MKDISKIMAGE" inspect --json "$img" >"$T/inspect.json" || fail "$layout: inspect failed"
	"$MKDISKIMAGE" inspect "$img" >"$T/inspect.txt" || fail "$layout: inspect (text) failed"
	grep -q 'label "inspectme"' "$T/inspect.txt" || fail "$layout: text output lacks the label"

	# the root filesystem as the independent tools see it
	if [ "$layout" = none ]; then
		cp "$img" "$T/rootfs"
		nparts=0
	else
		n=$(sfdisk --json "$img" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["partitiontable"]["partitions"]))')
		extract_partition "$img" "$n" "$T/rootfs"
		nparts=$n
	fi
	uuid=$(blkid -p -o value -s UUID "$T/rootfs")
	free=$(dumpe2fs -h "$T/rootfs" 2>/dev/null | sed -n 's/^Free blocks: *//p')
	blocks=$(dumpe2fs -h "$T/rootfs" 2>/dev/null | sed -n 's/^Block count: *//p')
	python3 - "$T/inspect.json" "$T/build-$layout.json" "$uuid" "$free" "$blocks" "$nparts" "$img" <<'PY' || fail "$layout: inspect/build --json disagree with blkid/dumpe2fs/sfdisk"
import json, subprocess, sys
ins, bld = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
uuid, free, blocks, nparts, img = sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6]), sys.argv[7]
parts = ins["partitions"]
fs = parts[-1]["filesystem"]
assert fs["type"] == "ext4" and fs["label"] == "inspectme", fs
assert fs["uuid"] == uuid.lower(), (fs["uuid"], uuid)
assert fs["free"] == free * 4096 and fs["size"] == blocks * 4096, (fs, free, blocks)
assert bld["rootFilesystem"]["uuid"] == fs["uuid"]
assert bld["rootFilesystem"]["freeBlocks"] == free, (bld["rootFilesystem"], free)
if nparts:
    table = json.loads(subprocess.check_output(["sfdisk", "--json", img]))["partitiontable"]
    assert len(parts) == nparts == len(bld["partitions"]), (parts, nparts)
    for p, s, b in zip(parts, table["partitions"], bld["partitions"]):
        assert p["offset"] == s["start"] * 512 == b["offset"], (p, s, b)
        assert p["size"] == s["size"] * 512 == b["size"], (p, s, b)
PY
	# FAT boot partitions: label and volume id as blkid reads them
	if [ "$layout" = efi ] || [ "$layout" = efixbootldr ]; then
		extract_partition "$img" 1 "$T/esp"
		label=$(blkid -p -o value -s LABEL "$T/esp")
		fuuid=$(blkid -p -o value -s UUID "$T/esp")
		python3 - "$T/inspect.json" "$label" "$fuuid" <<'PY' || fail "$layout: inspect disagrees with blkid on the ESP"
import json, sys
fs = json.load(open(sys.argv[1]))["partitions"][0]["filesystem"]
assert fs["type"] == "vfat" and fs["label"] == sys.argv[2] and fs["uuid"] == sys.argv[3], fs
PY
		rm -f "$T/esp"
	fi
	log "$layout: inspect agrees"
done
echo "not an image" >"$T/junk.img"
truncate -s 1M "$T/junk.img"
# junk: no table, no filesystem, and inspect says so (exit 0) in text and JSON
out=$("$MKDISKIMAGE" inspect "$T/junk.img" 2>&1) || fail "inspect of a junk image failed: $out"
grep -q "partition table: none" <<<"$out" || fail "junk: no 'partition table: none' in: $out"
grep -q "filesystem: unknown or empty" <<<"$out" || fail "junk: a filesystem seen in: $out"
"$MKDISKIMAGE" inspect --json "$T/junk.img" >"$T/junk.json" || fail "inspect --json of junk failed"
python3 - "$T/junk.json" <<'PY' || fail "junk: inspect --json: $(cat "$T/junk.json")"
import json, sys
j = json.load(open(sys.argv[1]))
assert j["format"] == "raw" and j["partitionTableType"] == "none", j
assert j["partitions"] == [{"offset": 0, "size": 1048576}], j
PY
log "junk: $out"
