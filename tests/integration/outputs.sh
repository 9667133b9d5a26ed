#!/usr/bin/env bash
# Writing the output safely (issue #11): -o naming a character device, FIFO, socket or directory
# is refused and left as it was (build and convert); a block device only with --output-device,
# in place, raw only, checked against its size, mounted devices refused; modes follow the umask
# for a new file and a replaced file keeps its mode. -o DIR still means DIR/<baseName>.<ext>.
# quick
. "$(dirname "$0")/../lib.sh"
require python3 qemu-img

mkdir -p "$T/src" "$T/out"
printf 'hello\n' >"$T/src/hello"
ok=(--root "$T/src" --disk-size 64)
build "${ok[@]}" -o "$T/ref.img"

# node_id PATH: type, mode, device numbers, inode: what must not change.
node_id() { stat -c '%F %a %t:%T %i %s' "$1"; }

# expect_refused OUTPUT MESSAGE CMD...: CMD must fail with one line naming OUTPUT and MESSAGE,
# leave OUTPUT as it was and no temporary file beside it.
checked=0
expect_refused()
{
	local out=$1 msg=$2 rc=0 before dir listing err
	shift 2
	before=$(node_id "$out")
	dir=$(dirname "$out")
	listing=$(ls -A "$dir")
	"$@" >"$T/cmd.out" 2>"$T/cmd.err" || rc=$?
	err=$(cat "$T/cmd.err")
	[ "$rc" -ne 0 ] && [ "$rc" -lt 128 ] || fail "$* exited $rc (want a plain failure): $err"
	[ "$(printf '%s\n' "$err" | wc -l)" -eq 1 ] || fail "$*: error is not one line: $err"
	[[ $err == *"$out"* && $err == *"$msg"* ]] || fail "$*: '$err' lacks '$out' or '$msg'"
	[ "$(node_id "$out")" = "$before" ] || fail "$*: $out changed: $(node_id "$out")"
	[ "$(ls -A "$dir")" = "$listing" ] || fail "$*: left files in $dir: $(ls -A "$dir")"
	checked=$((checked + 1))
	log "ok: $err"
}

# A character device like /dev/null (a private node: the real one is never at risk here), a
# FIFO, a socket, a directory.
nodes=()
if is_root; then
	mknod "$T/out/null" c 1 3
	nodes+=("$T/out/null:character device")
else
	log "not root: no private character device (mknod); the FIFO and socket cases run"
fi
mkfifo "$T/out/fifo"
nodes+=("$T/out/fifo:FIFO")
python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$T/out/sock"
nodes+=("$T/out/sock:socket")
mkdir "$T/out/dir.img"
for n in "${nodes[@]}"; do
	p=${n%%:*} what=${n#*:}
	expect_refused "$p" "$what" "$MKDISKIMAGE" build "${ok[@]}" -o "$p"
	expect_refused "$p" "$what" "$MKDISKIMAGE" convert "$T/ref.img" "$p" --format raw
	expect_refused "$p" "$what" "$MKDISKIMAGE" convert "$T/ref.img" "$p" --format qcow2
done
# a directory named like an image: convert does not replace it (build writes into it, below)
expect_refused "$T/out/dir.img" "is a directory" "$MKDISKIMAGE" convert "$T/ref.img" \
	"$T/out/dir.img"
# a symlink to a device is judged by what it points at
ln -s "$T/out/fifo" "$T/out/link.img"
expect_refused "$T/out/link.img" "FIFO" "$MKDISKIMAGE" build "${ok[@]}" -o "$T/out/link.img"
[ -L "$T/out/link.img" ] || fail "the symlink to the FIFO was replaced"

# -o DIR and -o DIR/ keep meaning DIR/<baseName>.<ext>.
mkdir "$T/d1" "$T/d2"
build "${ok[@]}" -o "$T/d1"
build "${ok[@]}" -o "$T/d2/" --format qcow2 --base-name disk
cmp "$T/d1/nixos.img" "$T/ref.img" || fail "-o DIR: DIR/nixos.img differs from -o FILE"
qemu-img compare -q "$T/d2/disk.qcow2" "$T/ref.img" || fail "-o DIR/ --format qcow2 differs"
checked=$((checked + 1))

# Modes: a new file gets 0666 & ~umask; a replaced file keeps its mode.
for case in 022:644 077:600 002:664 027:640; do
	um=${case%%:*} want=${case#*:}
	rm -f "$T/mode.img" "$T/mode.qcow2"
	(umask "$um" && build "${ok[@]}" -o "$T/mode.img")
	[ "$(stat -c %a "$T/mode.img")" = "$want" ] ||
		fail "umask $um: new image has mode $(stat -c %a "$T/mode.img"), want $want"
	(umask "$um" && "$MKDISKIMAGE" convert "$T/ref.img" "$T/mode.qcow2" 2>"$T/cmd.err") ||
		fail "convert: $(cat "$T/cmd.err")"
	[ "$(stat -c %a "$T/mode.qcow2")" = "$want" ] ||
		fail "umask $um: converted image has mode $(stat -c %a "$T/mode.qcow2"), want $want"
	checked=$((checked + 1))
done
for m in 600 640 444; do
	cp "$T/ref.img" "$T/keep.img"
	chmod "$m" "$T/keep.img"
	(umask 022 && build "${ok[@]}" -o "$T/keep.img" --label other)
	[ "$(stat -c %a "$T/keep.img")" = "$m" ] ||
		fail "replacing a $m image left mode $(stat -c %a "$T/keep.img")"
	! cmp -s "$T/keep.img" "$T/ref.img" || fail "the $m image was not replaced"
	checked=$((checked + 1))
done
if is_root && id nobody >/dev/null 2>&1; then
	# root replacing a user's image keeps its owner, as cp would
	cp "$T/ref.img" "$T/owned.img"
	chown nobody "$T/owned.img"
	build "${ok[@]}" -o "$T/owned.img" --label other
	[ "$(stat -c %U "$T/owned.img")" = nobody ] ||
		fail "replaced image is owned by $(stat -c %U "$T/owned.img"), not nobody"
	checked=$((checked + 1))
fi

# Block devices: refused without --output-device; with it the raw image is written in place.
if can_loop_mount && command -v mkfs.ext4 >/dev/null; then
	truncate -s 80M "$T/dev.back"
	# garbage first: holes of the image must read as zeros on the device too
	python3 -c 'import sys; open(sys.argv[1], "r+b").write(b"\xa5" * (80 << 20))' "$T/dev.back"
	loop=$(losetup -f --show "$T/dev.back") || fail "losetup failed"
	_LOOPS+=("$loop")
	expect_refused "$loop" "add --output-device" "$MKDISKIMAGE" build "${ok[@]}" -o "$loop"
	expect_refused "$loop" "add --output-device" "$MKDISKIMAGE" convert "$T/ref.img" "$loop" \
		--format raw
	expect_refused "$loop" "raw images only" "$MKDISKIMAGE" build "${ok[@]}" -o "$loop" \
		--output-device --format qcow2
	expect_refused "$loop" "the image needs" "$MKDISKIMAGE" build --root "$T/src" \
		--disk-size 100 -o "$loop" --output-device
	expect_refused "$T/ref.img" "not a block device" "$MKDISKIMAGE" build "${ok[@]}" \
		-o "$T/ref.img" --output-device
	build "${ok[@]}" -o "$loop" --output-device
	[ -b "$loop" ] || fail "$loop is no longer a block device"
	cmp -n $((64 << 20)) "$loop" "$T/ref.img" || fail "--output-device: device differs from -o FILE"
	# the rest of the device is not touched
	cmp -s -i $((64 << 20)):0 -n $((16 << 20)) "$loop" <(python3 -c \
		'import sys; sys.stdout.buffer.write(b"\xa5" * (16 << 20))') ||
		fail "--output-device wrote past the image"
	# convert: the format defaults to raw
	python3 -c 'import sys; open(sys.argv[1], "r+b").write(b"\x5a" * (80 << 20))' "$loop"
	"$MKDISKIMAGE" convert "$T/ref.img" "$loop" --output-device 2>"$T/cmd.err" ||
		fail "convert --output-device: $(cat "$T/cmd.err")"
	cmp -n $((64 << 20)) "$loop" "$T/ref.img" || fail "convert --output-device: device differs"
	# a mounted device is refused (O_EXCL)
	mkfs.ext4 -q -F "$loop" >/dev/null 2>&1 || fail "mkfs.ext4 $loop failed"
	mkdir -p "$T/mnt"
	mount "$loop" "$T/mnt" || fail "mount $loop failed"
	_MOUNTS+=("$T/mnt")
	expect_refused "$loop" "in use" "$MKDISKIMAGE" build "${ok[@]}" -o "$loop" --output-device
	unmount "$T/mnt"
	checked=$((checked + 3))
else
	log "no loop devices (needs root) or no mkfs.ext4: block-device cases not run"
fi

[ "$checked" -ge 10 ] || fail "only $checked cases checked"
log "$checked cases checked"
