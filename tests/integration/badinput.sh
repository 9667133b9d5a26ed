#!/usr/bin/env bash
# Bad input: each build must fail with a one-line error naming the input, a non-zero exit, and
# leave no file (no output, no .NAME.XXXXXX temp) in the output directory (expect_fail).
# The unreadable-file case runs as nobody when we are root (root reads mode-000 files).
# quick
. "$(dirname "$0")/../lib.sh"
require python3

mkdir -p "$T/src/etc"
printf 'root:x:0:0::/root:/bin/sh\nalice:x:1000:100::/home/alice:/bin/sh\n' >"$T/src/etc/passwd"
printf 'root:x:0:\nusers:x:100:\n' >"$T/src/etc/group"
printf 'hello\n' >"$T/file"
chmod 755 "$T/src" "$T/src/etc"
ok=(--root "$T/src" --additional-space 4M)

# Sanity: the base arguments build, so each failure below is caused by its one bad input.
build "${ok[@]}" -o "$T/good.img"

expect_fail "$T/no-such-dir" --root "$T/no-such-dir"
expect_fail "$T/no-such-file" "${ok[@]}" --contents "$T/no-such-file:/etc/x"

# Inputs describing the disk that are not there name themselves; two at once are refused.
expect_fail "$T/no-such-defs" "${ok[@]}" --definitions "$T/no-such-defs"
expect_fail "$T/no-such.json" "${ok[@]}" --disko "$T/no-such.json"
expect_fail "definitions and disko" "${ok[@]}" --definitions "$T/src" --disko "$T/file"

# GRUB for UEFI's directory name and its no-Boot-entry switch name themselves.
expect_fail "grubEfiBootloaderId" "${ok[@]}" --grub-efi-id 'a/b'
expect_fail "grubEfiNoNvram" "${ok[@]}" --grub-efi-no-nvram

# An unreadable file inside the root.
mkdir -p "$T/unreadable"
printf 'secret\n' >"$T/unreadable/secret"
chmod 000 "$T/unreadable/secret"
chmod 755 "$T/unreadable"
if is_root; then
	EXPECT_FAIL_PREFIX=(as_user nobody)
	expect_fail "secret" --root "$T/unreadable" --owner 0:0 --additional-space 4M
	EXPECT_FAIL_PREFIX=()
else
	expect_fail "secret" --root "$T/unreadable" --additional-space 4M
fi

# A fixed disk size that is too small names the size that would fit.
expect_fail "diskSize 1 MiB too small" "${ok[@]}" --disk-size 1
grep -qE '[0-9]+ ?(M|MiB)' "$T/fail.err" || fail "too-small disk: no needed size in: $(cat "$T/fail.err")"

# Malformed values name themselves.
expect_fail "12X" "${ok[@]}" --additional-space 12X
expect_fail "12X" "${ok[@]}" --disk-size 12X
expect_fail "12X" "${ok[@]}" --boot-size 12X
expect_fail "not-a-uuid" "${ok[@]}" --root-gpuid not-a-uuid
expect_fail "F222513B-DED1-49FA-B591" "${ok[@]}" --root-fsuid F222513B-DED1-49FA-B591
expect_fail "gpt2" "${ok[@]}" --partition-table gpt2
expect_fail "foo" "${ok[@]}" --format foo
expect_fail "compression" "${ok[@]}" --compression zstd
expect_fail "cluster-size" "${ok[@]}" --cluster-size 3000
expect_fail "btrfs" "${ok[@]}" --fs btrfs
expect_fail "sparc" "${ok[@]}" --arch sparc
expect_fail "x:y" "${ok[@]}" --owner x:y

# contents: a target escaping the root, a user without a group, a duplicate target, an
# unknown user name.
expect_fail "escape" "${ok[@]}" --contents "$T/file:/../escape"
expect_fail "escape" "${ok[@]}" --contents "$T/file:/etc/../../escape"
expect_fail "group" "${ok[@]}" --contents "$T/file:/etc/x:0644:alice"
expect_fail "/etc/dup" "${ok[@]}" --contents "$T/file:/etc/dup" --contents "$T/file:/etc/dup"
expect_fail "nosuchuser" "${ok[@]}" --contents "$T/file:/etc/y:0644:nosuchuser:users"
# ...while the valid forms build (names resolve against the image's own /etc/passwd).
build "${ok[@]}" --contents "$T/file:/etc/x:0640:alice:users" -o "$T/good.img"

# A spec file that does not parse names itself.
printf '{"diskSize": ' >"$T/broken.json"
expect_fail "broken.json" --spec "$T/broken.json" --root "$T/src"

# Sizes too large for any disk name themselves (issue #11: 2^64-1 wrapped to a 1 MiB root).
expect_fail "--additional-space 18446744073709551615: too large" "${ok[@]}" \
	--additional-space 18446744073709551615
expect_fail "--additional-space 99999999999999999999999: too large" "${ok[@]}" \
	--additional-space 99999999999999999999999
expect_fail "--additional-space 17T: too large" "${ok[@]}" --additional-space 17T
expect_fail "ext4's 16 TiB" "${ok[@]}" --additional-space 16T
expect_fail "MBR addresses at most 2 TiB" "${ok[@]}" --partition-table legacy --additional-space 3T
expect_fail "--boot-size 18446744073709551615: too large" "${ok[@]}" --partition-table efi \
	--boot-size 18446744073709551615
expect_fail "--boot-size 16E: too large" "${ok[@]}" --partition-table efi --boot-size 16E
expect_fail "--disk-size 99999999999: too large" "${ok[@]}" --disk-size 99999999999
expect_fail "--disk-size 18446744073709551615: too large" "${ok[@]}" \
	--disk-size 18446744073709551615
expect_fail "--cluster-size 18446744073709551615" "${ok[@]}" --format qcow2 \
	--cluster-size 18446744073709551615
# ...and in a JSON spec, naming the key and its line:column.
n_huge=0
for kv in 'additionalSpace 18446744073709551615' 'additionalSpace "16E"' \
	'bootSize 18446744073709551615' 'diskSize 99999999999'; do
	printf '{"%s": %s, "partitionTableType": "efi"}\n' "${kv%% *}" "${kv#* }" >"$T/huge.json"
	expect_fail "huge.json:1:2: $kv: too large" --spec "$T/huge.json" --root "$T/src"
	n_huge=$((n_huge + 1))
done
[ "$n_huge" -eq 4 ] || fail "only $n_huge JSON size cases ran"

# Spec text: a NUL in a label is refused (it used to empty the label), a label is UTF-8.
printf '{"label": "ab\\u0000cd"}\n' >"$T/nul.json"
expect_fail "label: contains a NUL character" --spec "$T/nul.json" --root "$T/src"
printf '{"label": "ab\xff"}\n' >"$T/latin.json"
expect_fail "label: not valid UTF-8" --spec "$T/latin.json" --root "$T/src"
expect_fail "label: not valid UTF-8" "${ok[@]}" --label $'ab\xffcd'
expect_fail "label: not valid UTF-8" "${ok[@]}" --label $'\xc0\xafx' # overlong "/"
build "${ok[@]}" --label $'\xc3\xa9t\xc3\xa9' -o "$T/utf8.img"
# Numeric ids past 32 bits are out of range, not unknown names.
expect_fail "user id 4294967296 is out of range" "${ok[@]}" \
	--contents "$T/file:/etc/z:0644:4294967296:users"
expect_fail "group id 99999999999 is out of range" "${ok[@]}" \
	--contents "$T/file:/etc/z:0644:alice:99999999999"
printf '{"contents": [{"source": "%s", "target": "/etc/z", "user": "99999999999", "group": "0"}]}\n' \
	"$T/file" >"$T/uid.json"
expect_fail "user id 99999999999 is out of range" --spec "$T/uid.json" --root "$T/src"
printf '{"contents": [{"source": "%s", "target": "/etc/z", "user": 4294967296, "group": 0}]}\n' \
	"$T/file" >"$T/uid.json"
expect_fail "user id 4294967296 is out of range" --spec "$T/uid.json" --root "$T/src"

# A source that changes size between plan and emit. We cannot pause the build between the two,
# so a background writer appends to a file in a ~400 MB tree while it builds: the build must
# fail naming the file with "changed", or (if it happened to see a stable file) succeed.
# Tried up to 4 times; the test fails if no attempt caught the change (the writer never stops,
# so a stable read is all but impossible).
mkdir -p "$T/busy"
for i in $(seq 1 40); do head -c $((10 * MIB)) /dev/urandom >"$T/busy/data-$i"; done
: >"$T/busy/zz-growing"
(while :; do printf '%01024d' 0 >>"$T/busy/zz-growing"; done) &
_PIDS+=($!)
caught=false
for try in 1 2 3 4; do
	rm -rf "$T/busyout" && mkdir "$T/busyout"
	if "$MKDISKIMAGE" build --root "$T/busy" --additional-space 64M -o "$T/busyout/x.img" \
		2>"$T/busy.err" >/dev/null; then
		log "try $try: the build saw a stable file"
		continue
	fi
	[ "$(wc -l <"$T/busy.err")" -eq 1 ] || fail "changing source: not one line: $(cat "$T/busy.err")"
	grep -q 'changed' "$T/busy.err" || fail "changing source: no 'changed' in: $(cat "$T/busy.err")"
	grep -q 'zz-growing' "$T/busy.err" || fail "changing source: file not named: $(cat "$T/busy.err")"
	[ -z "$(ls -A "$T/busyout")" ] || fail "changing source: left $(ls -A "$T/busyout")"
	caught=true
	break
done
$caught || fail "4 builds raced a file growing nonstop and none noticed"
