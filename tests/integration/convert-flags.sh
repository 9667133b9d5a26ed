#!/usr/bin/env bash
# The convert flags no other test exercised, each judged by an independent oracle:
#   --seed                the VDI/VHD UUIDs (at their documented offsets) follow the seed:
#                         same seed same bytes, another seed differs only in the UUID bytes
#   --cluster-size        qemu-img info's cluster-size; check clean; compare equal
#   OUT's name            .qcow2 .vdi .vhd .vpc .raw .img (any case) give qemu-img info's format,
#                         which inspect --json and convert (back to raw: the same bytes) detect
#                         too; an unknown extension is refused
#   --progress / --no-progress: progress on stderr or nothing on stderr
# quick
. "$(dirname "$0")/../lib.sh"
require qemu-img python3 xxd

small_text_tree "$T/root"
base=(--root "$T/root" --additional-space 4M --boot-size 16M)

build "${base[@]}" --partition-table efi -o "$T/raw.img"
raw=$T/raw.img

# --- convert
convert()
{
	"$MKDISKIMAGE" convert --no-progress "$@" >"$T/convert.out" 2>"$T/convert.err" || {
		cat "$T/convert.err" >&2
		fail "mkdiskimage convert $* failed"
	}
}

# output format from the name
for v in qcow2:qcow2 vdi:vdi vhd:vpc vpc:vpc raw:raw img:raw QCOW2:qcow2 VHD:vpc; do
	ext=${v%:*} fmt=${v#*:}
	convert "$raw" "$T/inf.$ext"
	[ "$(qemu_info "$T/inf.$ext" format)" = "$fmt" ] ||
		fail "convert to .$ext: qemu-img info says $(qemu_info "$T/inf.$ext" format), not $fmt"
	qcheck "$T/inf.$ext" "$fmt" "$raw"
	# and our own inspect detects what qemu-img sees
	got=$("$MKDISKIMAGE" inspect --json "$T/inf.$ext" | python3 -c 'import json,sys; print(json.load(sys.stdin)["format"])') ||
		fail "inspect --json $T/inf.$ext failed"
	[ "$got" = "$fmt" ] || fail "inspect says $T/inf.$ext is $got, qemu-img says $fmt"
	# and convert detects it as input: back to raw gives the same bytes
	convert "$T/inf.$ext" "$T/back.img"
	cmp "$raw" "$T/back.img" || fail "convert .$ext → .img: not the bytes of the raw image"
	rm -f "$T/back.img"
	rm -f "$T/inf.$ext"
done
rc=0
"$MKDISKIMAGE" convert --no-progress "$raw" "$T/out.foo" 2>"$T/convert.err" || rc=$?
[ "$rc" -ne 0 ] && [ "$rc" -lt 128 ] || fail "convert to .foo: exit $rc (expected an error)"
grep -q "cannot tell the output format from the name" "$T/convert.err" ||
	fail "convert to .foo: $(cat "$T/convert.err")"
[ ! -e "$T/out.foo" ] || fail "convert to .foo left a file"

# --cluster-size
for cs in 0.5K 16K 2M; do
	bytes=$(numfmt --from=iec "$cs")
	convert --cluster-size "$cs" "$raw" "$T/ccs-$cs.qcow2"
	[ "$(qemu_info "$T/ccs-$cs.qcow2" cluster-size)" = "$bytes" ] ||
		fail "convert --cluster-size $cs: qemu-img info says $(qemu_info "$T/ccs-$cs.qcow2" cluster-size)"
	qcheck "$T/ccs-$cs.qcow2" qcow2 "$raw"
done

# --seed: the UUIDs, read at the offsets the formats document (VDI header 0x188 image UUID,
# 0x198 last snapshot UUID; VHD footer byte 68, footer copy at 0 in a dynamic VHD)
uuid_at() { xxd -p -s "$2" -l 16 "$1"; }
# differ_only_in FILE1 FILE2 RANGES...: cmp -l's differing bytes all fall in [start, end)
differ_only_in()
{
	local a=$1 b=$2
	shift 2
	local rc=0
	cmp -l "$a" "$b" >"$T/cmp.out" 2>&1 || rc=$?
	[ "$rc" -le 1 ] || fail "cmp $a $b: $(cat "$T/cmp.out")"
	awk -v r="$*" '
		BEGIN { n = split(r, x, " ") }
		{ off = $1 - 1; ok = 0
		  for (i = 1; i <= n; i++) { split(x[i], se, "-"); if (off >= se[1] && off < se[2]) ok = 1 }
		  if (!ok) { print "byte " off " differs outside the UUIDs"; bad = 1 } }
		END { exit bad }' "$T/cmp.out" || fail "$a and $b differ outside the UUIDs"
}
for fmt in vdi vhd; do
	convert --seed one "$raw" "$T/s1.$fmt"
	convert --seed one "$raw" "$T/s1b.$fmt"
	convert --seed two "$raw" "$T/s2.$fmt"
	cmp "$T/s1.$fmt" "$T/s1b.$fmt" || fail "convert --seed one twice: $fmt files differ"
	! cmp -s "$T/s1.$fmt" "$T/s2.$fmt" || fail "convert --seed one / two: $fmt files are the same"
	qcheck "$T/s2.$fmt" "$(qemu_info "$T/s2.$fmt" format)" "$raw"
	size=$(stat -c %s "$T/s1.$fmt")
	if [ "$fmt" = vdi ]; then
		offs=(392 408) # 0x188, 0x198
		ranges="392-424"
	else
		offs=(68 $((size - 512 + 68)))
		ranges="68-84 $((size - 512 + 64))-$((size - 512 + 84))"
		# the footer's checksum (byte 64) covers the UUID
		ranges="64-84 $ranges"
	fi
	for o in "${offs[@]}"; do
		[ "$(uuid_at "$T/s1.$fmt" "$o")" != "$(uuid_at "$T/s2.$fmt" "$o")" ] ||
			fail "$fmt: the UUID at byte $o does not follow the seed"
		[ "$(uuid_at "$T/s1.$fmt" "$o")" != 00000000000000000000000000000000 ] ||
			fail "$fmt: the UUID at byte $o is null"
	done
	differ_only_in "$T/s1.$fmt" "$T/s2.$fmt" "$ranges"
	# without --seed, the seed is the output's name and size: same name same bytes
	mkdir -p "$T/n1" "$T/n2"
	convert "$raw" "$T/n1/x.$fmt"
	convert "$raw" "$T/n2/x.$fmt"
	cmp "$T/n1/x.$fmt" "$T/n2/x.$fmt" || fail "convert without --seed is not reproducible ($fmt)"
done
[ "$(uuid_at "$T/s1.vdi" 392)" != "$(uuid_at "$T/s1.vdi" 408)" ] ||
	fail "vdi: the image and last-snapshot UUIDs are the same"

"$MKDISKIMAGE" convert --progress "$raw" "$T/prog.qcow2" 2>"$T/prog.err" ||
	fail "convert --progress failed: $(cat "$T/prog.err")"
grep -q $'\r.*MiB' "$T/prog.err" || fail "convert --progress: no progress on stderr"
"$MKDISKIMAGE" convert --no-progress "$raw" "$T/noprog.qcow2" 2>"$T/prog.err" ||
	fail "convert --no-progress failed"
[ ! -s "$T/prog.err" ] || fail "convert --no-progress wrote to stderr: $(cat "$T/prog.err")"
log "ok"
