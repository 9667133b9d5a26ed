#!/usr/bin/env bash
# What `mkdiskimage build` tells the user and how it reads what it is told (issue #13): the
# summary line (its sizes checked against stat, dumpe2fs and qemu-img), --quiet, --verbose's
# plan, no progress on a non-terminal, -o DIR/, the format from -o's extension (qemu-img info)
# and the warning when format disagrees, an empty build refused unless --allow-empty, strict
# JSON specs with FILE:LINE:COLUMN, and a number for any size key meaning MiB.
# quick
. "$(dirname "$0")/../lib.sh"
require qemu-img dumpe2fs jq stat

mkdir -p "$T/src"
printf 'hello\n' >"$T/src/hello"
head -c 300000 /dev/urandom >"$T/src/blob"

# human BYTES: the summary's sizes ("4.0 GiB", "912 MiB", "3.5 MiB", "12 KiB", "512 bytes").
human()
{
	awk -v n="$1" 'BEGIN {
		if (n >= 1073741824) printf "%.1f GiB\n", n / 1073741824
		else if (n >= 10485760) printf "%.0f MiB\n", n / 1048576
		else if (n >= 1048576) printf "%.1f MiB\n", n / 1048576
		else if (n >= 1024) printf "%.0f KiB\n", n / 1024
		else printf "%d bytes\n", n }'
}
dumpe2fs_num() { dumpe2fs -h "$1" 2>/dev/null | sed -n "s/^$2: *//p"; }

# --- the summary line: one line, the last on stderr; every number from an independent oracle
build --root "$T/src" --partition-table none --disk-size 64 -o "$T/a.img"
[ ! -s "$T/build.out" ] || fail "build wrote to stdout without --json: $(cat "$T/build.out")"
[ "$(wc -l <"$T/build.err")" -eq 1 ] || fail "want one line on stderr, got: $(cat "$T/build.err")"
free=$(dumpe2fs_num "$T/a.img" 'Free blocks')
resv=$(dumpe2fs_num "$T/a.img" 'Reserved block count')
bs=$(dumpe2fs_num "$T/a.img" 'Block size')
want_free=$(human $(((free - resv) * bs)))
want_disk=$(human $(($(stat -c '%b' "$T/a.img") * $(stat -c '%B' "$T/a.img"))))
line=$(cat "$T/build.err")
re="^wrote $T/a.img: raw, 64 MiB virtual, $want_disk on disk, root $want_free free, [0-9]+\.[0-9] s\$"
[[ $line =~ $re ]] || fail "summary '$line' does not match '$re'"
log "ok: $line"
! grep -q $'\r' "$T/build.err" || fail "progress on a stderr that is not a terminal"

# qcow2 from the extension; --json keeps stdout to itself, the summary stays on stderr
build --root "$T/src" --partition-table efi --disk-size 300 --json -o "$T/b.qcow2"
jq -e '.format == "qcow2" and .diskSize == 314572800' "$T/build.out" >/dev/null ||
	fail "--json report: $(cat "$T/build.out")"
[ "$(qemu-img info --output=json "$T/b.qcow2" | jq -r .format)" = qcow2 ] ||
	fail "-o b.qcow2 without --format is not qcow2"
qemu-img check -q "$T/b.qcow2" || fail "qemu-img check b.qcow2"
grep -qE "^wrote $T/b.qcow2: qcow2, 300 MiB virtual, .* on disk, root .* free, " "$T/build.err" ||
	fail "qcow2 summary: $(cat "$T/build.err")"

# --- --quiet: nothing on stderr (automatic size notes and summary included)
build --root "$T/src" --partition-table none -q -o "$T/q.img"
[ ! -s "$T/build.err" ] || fail "--quiet printed: $(cat "$T/build.err")"
e2fsck -fn "$T/q.img" >/dev/null 2>&1 || fail "--quiet image fails e2fsck"

# --- --verbose: the plan before the summary, partitions as sfdisk sees them
build --root "$T/src" --partition-table efi --disk-size 300 -v -o "$T/v.img"
grep -q "^plan: $T/v.img, raw, 300 MiB, partition table efi\$" "$T/build.err" ||
	fail "--verbose: no plan line: $(cat "$T/build.err")"
plan_line=$(grep -n '^plan:' "$T/build.err" | cut -d: -f1)
wrote_line=$(grep -n '^wrote ' "$T/build.err" | cut -d: -f1)
[ "$plan_line" -lt "$wrote_line" ] || fail "--verbose: the plan comes after the summary"
while read -r node start size _; do
	n=${node##*[!0-9]}
	grep -qF "  partition $n: " "$T/build.err" || fail "--verbose: no partition $n"
	grep -F "  partition $n: " "$T/build.err" |
		grep -qF "start $(human $((start * 512))), size $(human $((size * 512)))," ||
		fail "--verbose partition $n: $(grep -F "  partition $n: " "$T/build.err") (sfdisk: start $start, size $size sectors)"
done < <(sfdisk -d "$T/v.img" | sed -n 's/^\([^ ]*\) : start= *\([0-9]*\), size= *\([0-9]*\),.*/\1 \2 \3/p')
grep -q '^  root filesystem: ext4 "nixos", ' "$T/build.err" || fail "--verbose: no root filesystem"
grep -q '^  ESP filesystem: FAT' "$T/build.err" || fail "--verbose: no ESP filesystem"

# --- progress: on a terminal by default (script(1) gives the build a pty), never with -q
if command -v script >/dev/null; then
	script -qec "'$MKDISKIMAGE' build --root '$T/src' --disk-size 64 -o '$T/tty.img'" /dev/null \
		>"$T/tty.out" </dev/null || fail "build on a pty failed: $(cat "$T/tty.out")"
	grep -q $'\r[0-9]*/[0-9]* files, ' "$T/tty.out" || fail "no progress on a terminal: $(od -c "$T/tty.out" | head)"
	grep -q "wrote $T/tty.img: raw" "$T/tty.out" || fail "no summary on a terminal"
	script -qec "'$MKDISKIMAGE' build --root '$T/src' --disk-size 64 -q -o '$T/tty.img'" /dev/null \
		>"$T/tty.out" </dev/null || fail "build -q on a pty failed: $(cat "$T/tty.out")"
	[ ! -s "$T/tty.out" ] || fail "-q on a terminal printed: $(od -c "$T/tty.out" | head)"
else
	skip_case "no script(1) for a pty"
fi

# --- -o DIR/: created (one level), DIR/<baseName>.<ext>; a missing parent is refused
build --root "$T/src" --disk-size 64 --format vdi -o "$T/newdir/"
[ -f "$T/newdir/nixos.vdi" ] || fail "-o newdir/: no nixos.vdi in $(ls -A "$T/newdir" 2>&1)"
[ "$(stat -c %a "$T/newdir")" = 755 ] || fail "-o newdir/: mode $(stat -c %a "$T/newdir")"
[ "$(qemu-img info --output=json "$T/newdir/nixos.vdi" | jq -r .format)" = vdi ] ||
	fail "-o newdir/ --format vdi is not vdi"
rc=0
"$MKDISKIMAGE" build --root "$T/src" -o "$T/no/such/" 2>"$T/no.err" || rc=$?
[ "$rc" -eq 1 ] && grep -qF "$T/no/such/: cannot create the directory: No such file or directory (its parent must exist)" \
	"$T/no.err" || fail "-o no/such/: exit $rc, $(cat "$T/no.err")"
[ ! -e "$T/no" ] || fail "-o no/such/ created no/"

# --- the format from -o's extension, and the warning when format says otherwise
for pair in vhd:vpc vdi:vdi img:raw raw:raw; do
	ext=${pair%%:*} fmt=${pair#*:}
	build --root "$T/src" --disk-size 64 -o "$T/x.$ext"
	got=$(qemu-img info --output=json "$T/x.$ext" | jq -r .format)
	[ "$got" = "$fmt" ] || fail "-o x.$ext: qemu-img says $got, want $fmt"
	grep -q warning "$T/build.err" && fail "-o x.$ext: $(cat "$T/build.err")"
done
build --root "$T/src" --disk-size 64 --format raw -o "$T/w.qcow2"
grep -qF "mkdiskimage: warning: -o $T/w.qcow2: the extension says format qcow2, but format is raw" \
	"$T/build.err" || fail "no warning for --format raw -o w.qcow2: $(cat "$T/build.err")"
[ "$(qemu-img info --output=json "$T/w.qcow2" | jq -r .format)" = raw ] ||
	fail "--format raw -o w.qcow2 is not raw"
# ...also with -q (warnings are not the summary)
build --root "$T/src" --disk-size 64 --format raw -q -o "$T/w.qcow2"
grep -q 'warning: ' "$T/build.err" || fail "-q dropped the warning"

# --- nothing to put in the image
expect_fail "nothing to put in the image: give --root DIR, --root-tar FILE, --closure-info DIR, --system TOPLEVEL or --contents (an empty image on purpose: --allow-empty)"
expect_fail "nothing to put in the image" --partition-table efi --disk-size 300
build --allow-empty --partition-table none --disk-size 8 -o "$T/empty.img"
e2fsck -fn "$T/empty.img" >/dev/null 2>&1 || fail "--allow-empty image fails e2fsck"
printf '{"allowEmpty": true, "diskSize": 8, "partitionTableType": "none"}\n' >"$T/empty.json"
build --spec "$T/empty.json" -o "$T/empty2.img"
cmp "$T/empty.img" "$T/empty2.img" || fail "allowEmpty (key) and --allow-empty differ"

# --- strict JSON: FILE:LINE:COLUMN and what was expected; exit 1
spec_fails()
{
	local msg=$1 rc=0
	printf '%b' "$2" >"$T/s.json"
	"$MKDISKIMAGE" build --spec "$T/s.json" --root "$T/src" -o "$T/s.img" 2>"$T/s.err" || rc=$?
	[ "$rc" -eq 1 ] || fail "spec $2: exit $rc, want 1: $(cat "$T/s.err")"
	[ "$(wc -l <"$T/s.err")" -eq 1 ] || fail "spec $2: not one line: $(cat "$T/s.err")"
	grep -qF -- "mkdiskimage: error: $T/s.json:$msg" "$T/s.err" ||
		fail "spec $2: '$(cat "$T/s.err")' does not contain '$T/s.json:$msg'"
	[ ! -e "$T/s.img" ] || fail "spec $2 wrote an image"
}
spec_fails "3:17: not valid JSON: a trailing comma before '}'" \
	'{\n  "label": "x",\n  "diskSize": 64,\n}\n'
spec_fails "2:3: not valid JSON: expected a key in double quotes or '}', got '/' (JSON has no comments)" \
	'{\n  // size\n  "diskSize": 64\n}\n'
spec_fails "1:11: not valid JSON: expected a value (a string in double quotes" \
	"{\"label\": 'x'}"
spec_fails '3:3: not valid JSON: duplicate key "label" (also at line 1, column 2; give each key once)' \
	'{"label": "a",\n  "diskSize": 64,\n  "label": "b"}'
spec_fails '2:3: additionalSpace "12X": not a size' '{"diskSize": 64,\n  "additionalSpace": "12X"}'

# --- a number for any size key is MiB (as diskSize): 16 and "16M" give the same image
printf '{"additionalSpace": 16, "bootSize": 40, "partitionTableType": "efi"}\n' >"$T/n.json"
printf '{"additionalSpace": "16M", "bootSize": "40M", "partitionTableType": "efi"}\n' >"$T/m.json"
build --spec "$T/n.json" --root "$T/src" -o "$T/n.img"
build --spec "$T/m.json" --root "$T/src" -o "$T/m.img"
cmp "$T/n.img" "$T/m.img" || fail "additionalSpace 16 and \"16M\" differ"
build --root "$T/src" --additional-space 16 --boot-size 40 --partition-table efi -o "$T/f.img"
cmp "$T/n.img" "$T/f.img" || fail "--additional-space 16 and additionalSpace 16 differ"
[ "$(sfdisk --json "$T/n.img" | jq '.partitiontable.partitions[0] | .start + .size')" = \
	$((40 * 2048)) ] || fail "bootSize 40: the ESP does not end at 40 MiB"
log "all cases passed"
