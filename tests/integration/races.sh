#!/usr/bin/env bash
# Sources that change under the build (issue #11, "Reading the inputs without races"). An
# LD_PRELOAD interposer (tests/fault/swap.c) changes a source at a chosen moment: swapped
# for a symlink to a root-only file or for a FIFO between the scan and the copy, modified in
# place, truncated or grown while it is copied. Each build must fail with one line naming the
# file ("changed since it was scanned"), exit non-zero and leave no output; `timeout` turns a
# hang into a failure. A tree deeper than PATH_MAX builds and its deepest file reads back
# (debugfs; a loop mount as root); inspect and convert refuse a FIFO at once and still read a
# block device (a loop device, as root).
# quick
. "$(dirname "$0")/../lib.sh"
require cc e2fsck debugfs python3 timeout mkfifo

build_interposer swap

# A fresh source tree: a 2.7 MB file (several reads in every sink) and a small one.
fixture()
{
	rm -rf "$T/src"
	mkdir -p "$T/src/d"
	seq 1 400000 >"$T/src/d/big"
	printf 'public\n' >"$T/src/d/small"
	touch -r "$T/secret" "$T/src/d/small"
}

# fault ACTION FILE FORMAT "MESSAGE": build with the interposer acting on FILE; the build must
# fail naming the file with MESSAGE, and the interposer must have acted.
checked=0
fault()
{
	local action=$1 file=$2 format=$3 msg=$4
	fixture
	rm -f "$T/fault.log"
	EXPECT_FAIL_PREFIX=(env LD_PRELOAD="$T/swap.so" FAULT_PATH="$T/src/d/$file"
		FAULT_ACTION="$action" FAULT_TARGET="${FAULT_TARGET:-}" FAULT_LOG="$T/fault.log"
		timeout 20)
	expect_fail "src/d/$file: changed since it was scanned ($msg); rerun the build" \
		--root "$T/src" --partition-table none --format "$format"
	grep -q "^fault: $action " "$T/fault.log" || fail "$action $file: the interposer did not act"
	checked=$((checked + 1))
}

# The root-only file the symlink points to: same size and mtime as the file it replaces, so
# only the identity check can tell (before the fix its bytes went into the image, exit 0).
printf 'SECRET\n' >"$T/secret"
chmod 600 "$T/secret"
touch -d '2020-01-01 00:00:00' "$T/secret"
for format in raw qcow2 qcow2-compressed; do
	FAULT_TARGET="$T/secret" fault swap-symlink small "$format" "now a symbolic link"
	fault swap-fifo small "$format" "now a FIFO"
	fault modify big "$format" "another file, or modified: device, inode, mtime or ctime differ"
	fault truncate big "$format" "it ended early: truncated while being read"
	FAULT_TARGET=4096 fault append big "$format" "size 2692991, scanned 2688895"
done
[ "$checked" -eq 15 ] || fail "checked $checked fault cases, want 15"

# A `contents` entry's file (opened by its own host path, not its directory's fd) is checked
# the same way.
mkdir -p "$T/empty"
for action in swap-symlink modify; do
	fixture
	rm -f "$T/fault.log"
	EXPECT_FAIL_PREFIX=(env LD_PRELOAD="$T/swap.so" FAULT_PATH="$T/src/d/big"
		FAULT_ACTION="$action" FAULT_TARGET="$T/secret" FAULT_LOG="$T/fault.log" timeout 20)
	expect_fail "src/d/big: changed since it was scanned (" \
		--root "$T/empty" --contents "$T/src/d/big:/etc/big" --partition-table none
	grep -q "^fault: $action " "$T/fault.log" || fail "contents $action: the interposer did not act"
	checked=$((checked + 1))
done
EXPECT_FAIL_PREFIX=()

# Unchanged sources still build through the same paths (the interposer loaded, acting on a
# file that is not in the tree), and the image holds them.
fixture
LD_PRELOAD="$T/swap.so" FAULT_PATH="$T/elsewhere" FAULT_ACTION=modify \
	"$MKDISKIMAGE" build --root "$T/src" --partition-table none -o "$T/ok.img" >/dev/null ||
	fail "a build with the interposer loaded and nothing changing failed"
e2fsck_clean "$T/ok.img"
debugfs -R 'cat /d/big' "$T/ok.img" 2>/dev/null | cmp -s - "$T/src/d/big" || fail "/d/big differs"

# Deeper than PATH_MAX: 40 levels of 200-byte names (8 KB of path).
rm -rf "$T/deep"
mkdir "$T/deep"
python3 - "$T/deep" <<'PY'
import os, sys
os.chdir(sys.argv[1])
for i in range(40):
    n = 'd%02d' % i + 'x' * 197
    os.mkdir(n)
    open('f', 'w').write('level %d\n' % i) # copied after the levels below: emit comes back up
    os.chdir(n)
open('leaf', 'w').write('deep leaf\n')
os.mkdir('under')
open('under/second', 'w').write('second\n')
PY
deep=$(python3 -c "print('/'.join('d%02d' % i + 'x' * 197 for i in range(40)))")
build --root "$T/deep" --partition-table none -o "$T/deep.img"
e2fsck_clean "$T/deep.img"
[ "$(debugfs -R "cat /$deep/leaf" "$T/deep.img" 2>/dev/null)" = "deep leaf" ] ||
	fail "the deepest file does not read back"
[ "$(debugfs -R "cat /$deep/under/second" "$T/deep.img" 2>/dev/null)" = "second" ] ||
	fail "a file below the deepest directory does not read back"
for i in 0 1 17 23 38 39; do
	f=$(python3 -c "import sys; print(''.join('/d%02d' % i + 'x' * 197 for i in range(int(sys.argv[1]))) + '/f')" "$i")
	[ "$(debugfs -R "cat $f" "$T/deep.img" 2>/dev/null)" = "level $i" ] ||
		fail "the file at level $i does not read back"
done
if can_loop_mount; then
	loop_mount "$T/deep.img" "$T/mnt"
	(cd "$T/mnt" && python3 - "$deep" <<'PY'
import os, sys
for n in sys.argv[1].split('/'):
    os.chdir(n)
assert open('leaf').read() == 'deep leaf\n'
assert open('under/second').read() == 'second\n'
for i in range(39, -1, -1):
    os.chdir('..')
    assert open('f').read() == 'level %d\n' % i, i
PY
	) || fail "the kernel does not read the deep files back"
	unmount "$T/mnt"
fi

# A source deep in that tree that changes: the message names it with the middle of its path
# elided ("…") and keeps the reason.
rm -f "$T/fault.log"
EXPECT_FAIL_PREFIX=(env LD_PRELOAD="$T/swap.so" FAULT_PATH=second FAULT_ACTION=swap-fifo
	FAULT_LOG="$T/fault.log" timeout 20)
expect_fail "/under/second: changed since it was scanned (now a FIFO); rerun the build" \
	--root "$T/deep" --partition-table none
grep -q '…' "$T/fail.err" || fail "the long path is not elided: $(cat "$T/fail.err")"
grep -qF "error: $T/deep/d00x" "$T/fail.err" || fail "the message lost its start: $(cat "$T/fail.err")"
EXPECT_FAIL_PREFIX=()

# inspect / convert on a FIFO: an error at once, not a wait for a writer.
mkfifo "$T/fifo"
for cmd in "inspect $T/fifo" "convert $T/fifo $T/conv.qcow2"; do
	rc=0
	# shellcheck disable=SC2086 # word splitting intended
	timeout 10 "$MKDISKIMAGE" $cmd >"$T/out" 2>"$T/err" || rc=$?
	[ "$rc" -ne 124 ] || fail "$cmd blocked on the FIFO"
	[ "$rc" -ne 0 ] || fail "$cmd succeeded on a FIFO"
	grep -q "fifo: not a regular file or block device" "$T/err" ||
		fail "$cmd: unexpected message: $(cat "$T/err")"
	[ ! -e "$T/conv.qcow2" ] || fail "convert left an output"
done

# A block device stays a valid input.
if is_root && command -v losetup >/dev/null 2>&1 && loop=$(losetup -f --show "$T/ok.img" 2>/dev/null); then
	_LOOPS+=("$loop")
	"$MKDISKIMAGE" inspect "$loop" >"$T/out" 2>&1 || fail "inspect $loop failed: $(cat "$T/out")"
	grep -qi ext4 "$T/out" || fail "inspect $loop does not show the ext4 file system"
	"$MKDISKIMAGE" convert "$loop" "$T/conv.qcow2" >/dev/null 2>"$T/err" ||
		fail "convert $loop failed: $(cat "$T/err")"
	qemu-img compare -q "$T/ok.img" "$T/conv.qcow2" || fail "convert $loop: not the same disk"
else
	log "no loop device (not root or no losetup): the block-device input is not checked"
fi
log "ok: $checked fault cases (2 through contents), a tree deeper than PATH_MAX, FIFO inputs"
