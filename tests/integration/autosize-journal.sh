#!/usr/bin/env bash
# Auto sizing across mke2fs's journal steps: a filesystem under 2048 blocks has no journal, one
# of 2048 blocks gets 1024 journal blocks. A tree whose minimum lay just under 2048 blocks was
# sized to that minimum, the partition rounded it up to 8 MiB = 2048 blocks, and the build then
# failed with "needs 7364608 bytes (8 MiB); 8388608 bytes are too small" — every tree whose
# minimum was 7-8 MiB (found by the property tests, seed 18). Every size of a sweep across the
# step must build, e2fsck clean, with a journal exactly when it has 2048 blocks or more; and the
# minimum the error message names for too small a diskSize must build.
# quick
. "$(dirname "$0")/../lib.sh"
require e2fsck dumpe2fs

mkdir -p "$T/src"
built=0
for kb in $(seq 6400 80 7600); do
	head -c "${kb}K" /dev/zero | tr '\0' 'x' >"$T/src/f"
	build --root "$T/src" --partition-table none --additional-space 0 -o "$T/a.img"
	e2fsck_clean "$T/a.img"
	blocks=$(dumpe2fs_field "$T/a.img" 'Block count')
	if dumpe2fs -h "$T/a.img" 2>/dev/null | grep -q '^Filesystem features:.*has_journal'; then
		[ "$blocks" -ge 2048 ] || fail "$kb KiB: a journal in $blocks blocks"
	else
		[ "$blocks" -lt 2048 ] || fail "$kb KiB: no journal in $blocks blocks"
	fi
	# A fixed diskSize below the minimum names the minimum, and the minimum builds.
	expect_fail "is too small" --root "$T/src" --partition-table none --disk-size 1
	need=$(sed -n 's/.*need at least \([0-9]*\) MiB.*/\1/p' "$T/fail.err")
	[ -n "$need" ] || fail "$kb KiB: no minimum in: $(cat "$T/fail.err")"
	build --root "$T/src" --partition-table none --disk-size "$need" -o "$T/b.img"
	e2fsck_clean "$T/b.img"
	built=$((built + 1))
done
[ "$built" -ge 15 ] || fail "only $built sizes built"
