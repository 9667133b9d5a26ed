#!/usr/bin/env bash
# A directory of 50,000 entries (issue #2 §3: htree like the kernel builds, /nix/store-sized):
# e2fsck -fn clean (it checks the htree: hashes, ordering, counts), `debugfs htree` shows an
# index, debugfs lists every name, and (as root) the kernel finds 200 random names through the
# index in a read-only loop mount — and does not find names that are not there.
# quick
. "$(dirname "$0")/../lib.sh"
require e2fsck debugfs python3 shuf

mkdir -p "$T/src/bigdir"
# Names of 16..70 bytes (store-path-like), enough for a two-level index.
python3 - "$T/src/bigdir" <<'PY'
import hashlib, os, sys
os.chdir(sys.argv[1])
for i in range(50000):
    h = hashlib.sha256(b'%d' % i).hexdigest()
    name = h[:32] + '-' + 'pkg-%d' % i + '-x' * (i % 16)
    open(name[:16 + i % 55] if i % 3 else name, 'wb').close()
PY
[ "$(find "$T/src/bigdir" -type f | wc -l)" -eq 50000 ] || fail "tree generation made the wrong count"
build --root "$T/src" --partition-table none --additional-space 8M -o "$T/big.img"
e2fsck_clean "$T/big.img"

debugfs -R 'htree /bigdir' "$T/big.img" >"$T/htree" 2>&1 || fail "debugfs htree failed"
grep -q 'Root node dump' "$T/htree" || { head -n 20 "$T/htree" >&2; fail "/bigdir has no htree index"; }
grep -q 'Number of entries' "$T/htree" || fail "/bigdir: htree dump has no entry counts"
log "$(grep -m1 'Indirect levels' "$T/htree")"

# (ls also prints the empty dirents of htree interior blocks as inode 0: not counted)
debugfs -R 'ls -p /bigdir' "$T/big.img" 2>/dev/null | grep -c '^/[1-9]' >"$T/count" || true
[ "$(cat "$T/count")" -eq 50002 ] || fail "debugfs lists $(cat "$T/count") entries, want 50000 + . and .."

if can_loop_mount; then
	loop_mount "$T/big.img" "$T/mnt"
	ls "$T/src/bigdir" | shuf -n 200 --random-source=<(yes) >"$T/names"
	while read -r n; do
		stat "$T/mnt/bigdir/$n" >/dev/null 2>&1 || fail "the kernel cannot find bigdir/$n"
	done <"$T/names"
	while read -r n; do
		[ ! -e "$T/mnt/bigdir/${n}-absent" ] || fail "the kernel finds a name that is not there"
	done < <(head -n 20 "$T/names")
	[ "$(ls -f "$T/mnt/bigdir" | wc -l)" -eq 50002 ] || fail "readdir through the mount misses entries"
	unmount "$T/mnt"
else
	skip_case "kernel lookups through a loop mount (needs root and loop devices)"
fi
