#!/usr/bin/env bash
# SIGINT, SIGTERM, SIGHUP and SIGPIPE during build and convert (issue #11): the process exits
# with 128 + signal, one error line names the output and the signal, no temporary file is left
# and the previous output at the path is byte-identical. Raw and qcow2-compressed, build and
# convert. The source is slowed by tests/fault/interpose.c (FAULT_DELAY_MS per read), so each
# run is still writing when the signal comes; the test waits for the temporary file first.
. "$(dirname "$0")/../lib.sh"
require cc python3 qemu-img
env --default-signal=INT true 2>/dev/null || skip "env lacks --default-signal (coreutils 8.31)"

build_interposer interpose

mkdir -p "$T/src" "$T/out"
# incompressible data, so that qcow2-compressed has real work for its threads
head -c $((24 << 20)) /dev/urandom >"$T/src/data"
printf 'hello\n' >"$T/src/hello"
args=(--root "$T/src" --disk-size 64)
build "${args[@]}" -o "$T/in.img"

# run_interrupted SIG OUT SLOWPATH CMD...: start CMD with reads of SLOWPATH slowed, wait for its
# temporary file beside OUT, send SIG, check the outcome against the saved previous OUT.
checked=0
run_interrupted()
{
	local sig=$1 out=$2 slow=$3 dir base pid rc=0 i num err
	shift 3
	dir=$(dirname "$out") base=$(basename "$out")
	cp "$out" "$T/prev"
	# a non-interactive shell starts background jobs with SIGINT ignored: undo that (and any
	# inherited ignoring), as a terminal's ^C would find it
	env --default-signal=INT,TERM,HUP,PIPE LD_PRELOAD="$T/interpose.so" FAULT_PATH="$slow" \
		FAULT_DELAY_MS=150 "$@" >"$T/sig.out" 2>"$T/sig.err" &
	pid=$!
	_PIDS+=("$pid")
	for ((i = 0; i < 600; i++)); do
		ls -A "$dir" | grep -q "^\.$base\." && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	ls -A "$dir" | grep -q "^\.$base\." || fail "$*: no temporary file appeared"
	kill -s "$sig" "$pid"
	wait "$pid" || rc=$?
	num=$(kill -l "$sig")
	err=$(cat "$T/sig.err")
	[ "$rc" -eq $((128 + num)) ] || fail "SIG$sig during $*: exit $rc, want $((128 + num)): $err"
	[ "$(printf '%s\n' "$err" | wc -l)" -eq 1 ] || fail "SIG$sig during $*: not one line: $err"
	[[ $err == *"$out"*"interrupted by SIG$sig"* ]] ||
		fail "SIG$sig during $*: message does not name the output and signal: $err"
	if ls -A "$dir" | grep -q "^\.$base\."; then
		fail "SIG$sig during $*: temporary file left: $(ls -A "$dir")"
	fi
	cmp "$out" "$T/prev" || fail "SIG$sig during $*: the previous $out changed"
	checked=$((checked + 1))
	log "ok: SIG$sig $(basename "$1") ${*: -1}: $err"
}

# previous outputs: complete images of another label, which must survive
build "${args[@]}" --label previous -o "$T/out/disk.img"
build "${args[@]}" --label previous --format qcow2-compressed -o "$T/out/disk.qcow2"
"$MKDISKIMAGE" convert "$T/in.img" "$T/out/conv.img" 2>"$T/cmd.err" || fail "$(cat "$T/cmd.err")"
"$MKDISKIMAGE" convert "$T/in.img" "$T/out/conv.qcow2" --format qcow2-compressed \
	2>"$T/cmd.err" || fail "$(cat "$T/cmd.err")"

for sig in INT TERM HUP PIPE; do
	run_interrupted "$sig" "$T/out/disk.img" "$T/src/data" \
		"$MKDISKIMAGE" build "${args[@]}" -o "$T/out/disk.img"
	run_interrupted "$sig" "$T/out/disk.qcow2" "$T/src/data" \
		"$MKDISKIMAGE" build "${args[@]}" --format qcow2-compressed --threads 2 \
		-o "$T/out/disk.qcow2"
	run_interrupted "$sig" "$T/out/conv.img" "$T/in.img" \
		"$MKDISKIMAGE" convert "$T/in.img" "$T/out/conv.img"
	run_interrupted "$sig" "$T/out/conv.qcow2" "$T/in.img" \
		"$MKDISKIMAGE" convert "$T/in.img" "$T/out/conv.qcow2" --format qcow2-compressed
done

# with no previous output, nothing at all is left
rm -f "$T/out/new.img"
: >"$T/out/new.img" # run_interrupted compares with the previous file: an empty one here
run_interrupted TERM "$T/out/new.img" "$T/src/data" \
	"$MKDISKIMAGE" build "${args[@]}" -o "$T/out/new.img"

# the interrupted runs left the outputs valid: the same commands uninterrupted still work
qemu-img check -q "$T/out/disk.qcow2" || fail "disk.qcow2 is damaged"
qemu-img check -q "$T/out/conv.qcow2" || fail "conv.qcow2 is damaged"

[ "$checked" -eq 17 ] || fail "$checked interrupted runs checked, want 17"
log "$checked interrupted runs checked"
