#!/usr/bin/env bash
# Determinism (issue #2 §6): identical bytes from copies of a tree made in a different order,
# at a different path, with different atimes; from root and from nobody with --owner 0:0;
# SOURCE_DATE_EPOCH clamps newer mtimes; --no-deterministic gives fresh UUIDs; --seed changes
# the derived ones. The ownership case needs root (to make a tree owned by nobody and to
# switch users); the rest runs anywhere.
# quick
. "$(dirname "$0")/../lib.sh"
require cmp blkid sfdisk dumpe2fs python3 setfattr

# gen DIR forward|reverse: the same tree, its entries created in the given order.
gen()
{
	local d=$1 order=$2 names i
	mkdir -p "$d"
	names=$(seq -f 'n%03g' 1 120)
	[ "$order" = reverse ] && names=$(printf '%s\n' "$names" | tac)
	for i in $names; do
		mkdir -p "$d/dir-${i: -1}"
		printf 'content %s\n' "$i" >"$d/dir-${i: -1}/$i"
		touch -d "2020-01-01 00:00:$((10#${i:1} % 60)).${i:1}" "$d/dir-${i: -1}/$i"
	done
	printf 'x\n' >"$d/a" && ln "$d/a" "$d/dir-1/a-link" && ln -s ../a "$d/dir-2/sym"
	chmod 600 "$d/dir-3/n003"
	setfattr -n user.k -v v "$d/dir-4/n004"
	touch -h -d '2020-02-02' "$d/dir-2/sym" "$d/a"
	for i in "$d"/dir-* "$d"; do touch -d '2020-03-03 03:03:03.3' "$i"; done
}

args=(--partition-table efi --additional-space 8M)

gen "$T/one" forward
gen "$T/some/other/place/two" reverse
# Different atimes: read every file of one copy, set old atimes on the other.
find "$T/some" -type f -exec cat {} + >/dev/null
find "$T/one" -exec touch -a -h -d '2001-01-01' {} +
(cd "$T" && build --root one "${args[@]}" -o "$T/one.img")
build --root "$T/some/other/place/two" "${args[@]}" -o "$T/two.img"
cmp "$T/one.img" "$T/two.img" || fail "copies in another order/path/atime give different images"
# ...and building did not change what the next build sees (atimes never reach the image).
build --root "$T/some/other/place/two" "${args[@]}" -o "$T/two-again.img"
cmp "$T/one.img" "$T/two-again.img" || fail "a second build of the same tree differs"

# Root vs nobody with --owner 0:0.
if is_root; then
	cp -a "$T/one" "$T/nobodys"
	chown -R nobody:nogroup "$T/nobodys"
	mkdir -m 777 "$T/nobody-out"
	build_as nobody --root "$T/nobodys" --owner 0:0 "${args[@]}" -o "$T/nobody-out/n.img"
	cmp "$T/one.img" "$T/nobody-out/n.img" ||
		fail "root's build and nobody's build with --owner 0:0 differ"
	# The owner really is mapped: a tree owned by nobody without --owner differs.
	build --root "$T/nobodys" "${args[@]}" -o "$T/mapped.img"
	cmp -s "$T/one.img" "$T/mapped.img" && fail "owners do not reach the image"
else
	skip_case "root-vs-nobody case (needs root)"
fi

# SOURCE_DATE_EPOCH clamps mtimes newer than it and leaves older ones.
mkdir -p "$T/sde"
printf 'old\n' >"$T/sde/old" && touch -d '2000-01-01 00:00:00.5' "$T/sde/old"
printf 'new\n' >"$T/sde/new" && touch -d '2030-01-01 00:00:00.5' "$T/sde/new"
touch -d '2030-01-01' "$T/sde"
SOURCE_DATE_EPOCH=1600000000 build --root "$T/sde" --partition-table none -o "$T/sde.img"
debugfs_manifest "$T/sde.img" >"$T/sde.manifest"
grep -q "^old	file	0644	[0-9]*	[0-9]*	4	946684800.500000000	" "$T/sde.manifest" ||
	fail "SOURCE_DATE_EPOCH changed an older mtime: $(cat "$T/sde.manifest")"
grep -q "^new	file	0644	[0-9]*	[0-9]*	4	1600000000.000000000	" "$T/sde.manifest" ||
	fail "SOURCE_DATE_EPOCH did not clamp a newer mtime: $(cat "$T/sde.manifest")"
grep -q "^\.	dir	[0-9]*	[0-9]*	[0-9]*	-	1600000000.000000000	" "$T/sde.manifest" ||
	fail "SOURCE_DATE_EPOCH did not clamp the root directory: $(cat "$T/sde.manifest")"
SOURCE_DATE_EPOCH=1600000000 assert_reproducible --root "$T/sde" --partition-table none

# ids IMG: disk GUID, every PARTUUID, the root filesystem UUID and its hash seed.
ids()
{
	sfdisk --json "$1" | python3 -c '
import json, sys
pt = json.load(sys.stdin)["partitiontable"]
print("disk", pt["id"])
for p in pt["partitions"]:
    print("part", p["uuid"])'
	extract_partition "$1" 2 "$T/ids.ext4"
	echo "fs $(dumpe2fs_field "$T/ids.ext4" 'Filesystem UUID')"
	echo "hash $(dumpe2fs_field "$T/ids.ext4" 'Directory Hash Seed')"
}

# --no-deterministic: every identifier is fresh on each build.
build --root "$T/one" "${args[@]}" --no-deterministic -o "$T/nd1.img"
build --root "$T/one" "${args[@]}" --no-deterministic -o "$T/nd2.img"
ids "$T/nd1.img" >"$T/nd1.ids"
ids "$T/nd2.img" >"$T/nd2.ids"
common=$(comm -12 <(sort "$T/nd1.ids") <(sort "$T/nd2.ids"))
[ -z "$common" ] || fail "--no-deterministic builds share identifiers: $common"

# --seed: the derived identifiers change with it, rootGPUID/rootFSUID (fixed) do not.
build --root "$T/one" "${args[@]}" --seed alpha -o "$T/sa.img"
build --root "$T/one" "${args[@]}" --seed beta -o "$T/sb.img"
ids "$T/sa.img" >"$T/sa.ids"
ids "$T/sb.img" >"$T/sb.ids"
diff "$T/sa.ids" "$T/sb.ids" >"$T/seed.diff" && fail "--seed alpha and beta give the same ids"
for k in disk hash; do
	[ "$(grep "^$k " "$T/sa.ids")" != "$(grep "^$k " "$T/sb.ids")" ] ||
		fail "--seed does not change the $k id"
done
grep -qi "part $DEFAULT_ROOT_GPUID" "$T/sb.ids" || fail "--seed changed the root PARTUUID"
grep -qi "fs $DEFAULT_ROOT_GPUID" "$T/sb.ids" || fail "--seed changed the root filesystem UUID"
assert_reproducible --root "$T/one" "${args[@]}" --seed alpha
