#!/usr/bin/env bash
# Fault injection (issue #11): a source that fails with EIO, an output that fails with ENOSPC or
# EIO at each phase (first data write, the middle, the last write: trailing metadata and
# headers, fsync), and as root a really full output file system (tmpfs of several sizes). Every
# case ends with exactly one error line naming the file and the cause, a non-zero exit (not a
# signal), no temporary file, and the previous output byte-identical.
# Faults come from tests/fault/interpose.c (LD_PRELOAD, FAULT_* variables).
. "$(dirname "$0")/../lib.sh"
require cc python3 qemu-img

build_interposer interpose

mkdir -p "$T/src" "$T/out"
head -c $((6 << 20)) /dev/urandom >"$T/src/data"
printf 'hello\n' >"$T/src/hello"
args=(--root "$T/src" --disk-size 32)
build "${args[@]}" -o "$T/in.img"

# expect_fault OUT CAUSE NAME CMD...: with the FAULT_* variables exported by the caller, CMD
# fails with one line containing NAME and CAUSE, leaves the previous OUT as it was and no
# temporary file beside it.
checked=0
expect_fault()
{
	local out=$1 cause=$2 name=$3 rc=0 dir base err
	shift 3
	dir=$(dirname "$out") base=$(basename "$out")
	cp "$out" "$T/prev"
	LD_PRELOAD="$T/interpose.so" "$@" >"$T/fault.out" 2>"$T/fault.err" || rc=$?
	err=$(cat "$T/fault.err")
	[ "$rc" -ne 0 ] || fail "$* succeeded despite FAULT_OP=${FAULT_OP:-read} FAULT_NTH=$FAULT_NTH"
	[ "$rc" -lt 128 ] || fail "$* died of signal $((rc - 128)): $err"
	[ "$(printf '%s\n' "$err" | wc -l)" -eq 1 ] || fail "$*: error is not one line: $err"
	[[ $err == *"$name"* && $err == *"$cause"* ]] ||
		fail "$* (FAULT_NTH=$FAULT_NTH): '$err' lacks '$name' or '$cause'"
	if ls -A "$dir" | grep -q "^\.$base\."; then
		fail "$*: temporary file left: $(ls -A "$dir")"
	fi
	cmp "$out" "$T/prev" || fail "$*: the previous $out changed"
	checked=$((checked + 1))
	log "ok: ${FAULT_OP:-read} #$FAULT_NTH: $err"
}

# count_calls OP PATH CMD...: how many OP calls CMD makes on files whose path contains PATH.
count_calls()
{
	local op=$1 path=$2
	shift 2
	rm -f "$T/calls.log"
	LD_PRELOAD="$T/interpose.so" FAULT_OP=$op FAULT_PATH=$path FAULT_LOG=$T/calls.log \
		FAULT_ERRNO= FAULT_NTH= FAULT_COUNT= \
		"$@" >/dev/null 2>"$T/count.err" || fail "$* (counting): $(cat "$T/count.err")"
	[ -s "$T/calls.log" ] || fail "$*: no $op call on $path seen (interposer not effective?)"
	wc -l <"$T/calls.log"
}

# previous outputs
build "${args[@]}" --label previous -o "$T/out/disk.img"
build "${args[@]}" --label previous --format qcow2 -o "$T/out/disk.qcow2"
build "${args[@]}" --label previous --format qcow2-compressed -o "$T/out/disk-c.qcow2"
build "${args[@]}" --label previous --format vpc -o "$T/out/disk.vhd"

export FAULT_PATH FAULT_OP FAULT_ERRNO FAULT_NTH FAULT_COUNT

# 1. A source that fails with EIO: on the first read and later.
FAULT_PATH=$T/src/data FAULT_OP=read FAULT_ERRNO=EIO FAULT_COUNT=
for FAULT_NTH in 1 3; do
	for out in disk.img disk.qcow2 disk-c.qcow2 disk.vhd; do
		fmt=raw
		case $out in
		disk.qcow2) fmt=qcow2 ;;
		disk-c.qcow2) fmt=qcow2-compressed ;;
		disk.vhd) fmt=vpc ;;
		esac
		expect_fault "$T/out/$out" "Input/output error" "$T/src/data" \
			"$MKDISKIMAGE" build "${args[@]}" --format "$fmt" -o "$T/out/$out"
	done
done
# convert's input
FAULT_PATH=$T/in.img
for FAULT_NTH in 1 2 5; do
	expect_fault "$T/out/disk.img" "Input/output error" "$T/in.img" \
		"$MKDISKIMAGE" convert "$T/in.img" "$T/out/disk.img"
	expect_fault "$T/out/disk-c.qcow2" "Input/output error" "$T/in.img" \
		"$MKDISKIMAGE" convert "$T/in.img" "$T/out/disk-c.qcow2" --format qcow2-compressed
done

# 2. The output fails: ENOSPC on the first write, in the middle, on the last one (the trailing
# metadata and header of qcow2/VHD, raw's size), EIO from fsync.
for out in disk.img disk.qcow2 disk-c.qcow2 disk.vhd; do
	fmt=raw
	case $out in
	disk.qcow2) fmt=qcow2 ;;
	disk-c.qcow2) fmt=qcow2-compressed ;;
	disk.vhd) fmt=vpc ;;
	esac
	cmd=("$MKDISKIMAGE" build "${args[@]}" --format "$fmt" -o "$T/out/$out")
	n=$(count_calls write "/out/.$out." "${cmd[@]}")
	FAULT_PATH=/out/.$out. FAULT_OP=write FAULT_ERRNO=ENOSPC FAULT_COUNT=1
	for FAULT_NTH in 1 $(((n + 1) / 2)) "$n"; do
		expect_fault "$T/out/$out" "No space left on device" "$T/out/$out" "${cmd[@]}"
	done
	FAULT_OP=fsync FAULT_ERRNO=EIO FAULT_NTH=1
	expect_fault "$T/out/$out" "Input/output error" "$T/out/$out" "${cmd[@]}"
	# convert to the same format
	cmd=("$MKDISKIMAGE" convert "$T/in.img" "$T/out/$out" --format "$fmt")
	n=$(count_calls write "/out/.$out." "${cmd[@]}")
	FAULT_OP=write FAULT_ERRNO=ENOSPC
	for FAULT_NTH in 1 "$n"; do
		expect_fault "$T/out/$out" "No space left on device" "$T/out/$out" "${cmd[@]}"
	done
done
FAULT_PATH= FAULT_OP= FAULT_ERRNO= FAULT_NTH= FAULT_COUNT=

# 3. A really full file system (root: tmpfs), from too small for the data to a few KiB short
# of the image. The previous output lives there too (rename needs the same file system).
full=0
if is_root && mkdir -p "$T/full" && mount -t tmpfs -o size=64M tmpfs "$T/full" 2>/dev/null; then
	_MOUNTS+=("$T/full")
	for fmt in raw qcow2 qcow2-compressed vpc; do
		# how much the image takes on tmpfs
		build "${args[@]}" --format "$fmt" -o "$T/full/probe"
		need=$(du -B1 "$T/full/probe" | cut -f1)
		rm -f "$T/full/probe"
		unmount "$T/full"
		for size in $((need / 8)) $((need / 2)) $((need - 256 * 1024)) $((need - 8192)); do
			size=$((size / 4096 * 4096 + 65536)) # the previous file takes 64 KiB
			mount -t tmpfs -o "size=$size" tmpfs "$T/full" || fail "mount tmpfs size=$size"
			_MOUNTS+=("$T/full")
			head -c 65536 /dev/urandom >"$T/full/disk.img"
			cp "$T/full/disk.img" "$T/prev.full"
			rc=0
			"$MKDISKIMAGE" build "${args[@]}" --format "$fmt" -o "$T/full/disk.img" \
				>/dev/null 2>"$T/full.err" || rc=$?
			err=$(cat "$T/full.err")
			if [ "$rc" -eq 0 ]; then
				# the page cache may round in our favour near the limit: then the image
				# must be whole
				[ "$size" -ge $((need / 2)) ] || fail "$fmt fits in $size bytes, needs $need?"
				log "$fmt: tmpfs of $size bytes was enough"
			else
				[ "$rc" -lt 128 ] || fail "$fmt, tmpfs $size: died of signal $((rc - 128))"
				[ "$(printf '%s\n' "$err" | wc -l)" -eq 1 ] ||
					fail "$fmt, tmpfs $size: error is not one line: $err"
				[[ $err == *"$T/full/disk.img"*"No space left on device"* ]] ||
					fail "$fmt, tmpfs $size: '$err' does not name the output and ENOSPC"
				[ "$(ls -A "$T/full")" = disk.img ] ||
					fail "$fmt, tmpfs $size: files left: $(ls -A "$T/full")"
				cmp "$T/full/disk.img" "$T/prev.full" ||
					fail "$fmt, tmpfs $size: the previous output changed"
				full=$((full + 1))
				log "ok: $fmt, tmpfs of $size bytes (image needs $need): $err"
			fi
			unmount "$T/full"
		done
		mount -t tmpfs -o size=64M tmpfs "$T/full" || fail "mount tmpfs"
		_MOUNTS+=("$T/full")
	done
	[ "$full" -ge 8 ] || fail "only $full full-file-system cases failed as they should"
else
	log "not root (or no tmpfs mounts here): the real full-file-system cases did not run"
fi

[ "$checked" -eq 38 ] || fail "$checked interposed faults checked, want 38"
log "$checked interposed faults and $full full file systems checked"
