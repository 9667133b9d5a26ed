#!/usr/bin/env bash
# The main job on the bundled example: build a GPT disk image from examples/example.json
# (as the invoking user, no root needed), then let independent tools verify it.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=${MKDISKIMAGE:-$here/../build/mkdiskimage}
out=${OUT:-$here/../build/example}
mkdir -p "$out"
rm -f "$out/nixos.img"
# git does not keep owners: the example tree is owned by root in the image
"$bin" build --spec "$here/example.json" --owner 0:0 -o "$out"
img="$out/nixos.img"
echo "== sfdisk --dump $img"
sfdisk --dump "$img"
echo "== sgdisk -v"
sgdisk -v "$img" | grep -q "No problems found" && echo "GPT: no problems found"
start=$(sfdisk --json "$img" | python3 -c 'import json,sys; p=json.load(sys.stdin)["partitiontable"]["partitions"][-1]; print(p["start"], p["size"])')
set -- $start
dd if="$img" of="$out/root.ext4" bs=512 skip="$1" count="$2" status=none
echo "== e2fsck -fn (root partition)"
e2fsck -fn "$out/root.ext4"
echo "== debugfs: /home/alice/notes.txt"
debugfs -R "stat /home/alice/notes.txt" "$out/root.ext4" 2>/dev/null | head -3
rm -f "$out/root.ext4"
echo "example image: $img ($(du -h --apparent-size "$img" | cut -f1) apparent, $(du -h "$img" | cut -f1) allocated) — OK"
