#!/usr/bin/env bash
# Runs the libFuzzer harnesses built into DIR (make fuzz / fuzz-smoke / fuzz-regress).
#   run.sh regress DIR fuzz_T...   each harness once over fuzz/corpus/T and fuzz/regress/T
#   run.sh fuzz DIR fuzz_T...      the same, then FUZZ_SECONDS (default 30) of fuzzing each,
#                                  on a copy of fuzz/corpus/T (the tree is not modified)
# FUZZ_JOBS (default 1) harnesses run at once. Fails on a crash, leak, timeout or out-of-memory
# (after the running harnesses end); the input is kept in FUZZ_ARTIFACTS (default
# build-fuzz/artifacts/T/) to be added to fuzz/regress/T.
set -euo pipefail
mode=$1 dir=$2
shift 2
here=$(cd "$(dirname "$0")" && pwd)
seconds=${FUZZ_SECONDS:-30}
jobs=${FUZZ_JOBS:-1}
artifacts=${FUZZ_ARTIFACTS:-build-fuzz/artifacts}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
common=(-rss_limit_mb=2048 -timeout=10 -print_final_stats=1)
# one T: replay (and fuzz) harness fuzz_T; messages on stdout, failures on stderr; exit 1 on
# a failure.
one()
{
	local t=$1 bin=$dir/fuzz_$1 log=$work/$1.log s inputs=() dict=()
	[ -x "$bin" ] || { echo "fuzz: $bin: not built" >&2; return 1; }
	for s in corpus regress; do
		[ -d "$here/$s/$t" ] && inputs+=("$here/$s/$t")
	done
	[ ${#inputs[@]} -gt 0 ] || { echo "fuzz: $t: no fuzz/corpus/$t" >&2; return 1; }
	mkdir -p "$artifacts/$t"
	# Replay: -runs=0 runs every input once and stops.
	if ! "$bin" "${common[@]}" -artifact_prefix="$artifacts/$t/" -runs=0 "${inputs[@]}" \
		>"$log" 2>&1; then
		tail -n 40 "$log" >&2
		echo "fuzz: $t: a corpus or regression input fails (log above)" >&2
		return 1
	fi
	echo "fuzz: $t: replayed $(find "${inputs[@]}" -type f | wc -l) inputs"
	[ "$mode" = fuzz ] || return 0
	mkdir -p "$work/corpus/$t"
	cp -r "$here/corpus/$t/." "$work/corpus/$t/"
	[ -f "$here/$t.dict" ] && dict=(-dict="$here/$t.dict")
	if ! "$bin" "${common[@]}" "${dict[@]+"${dict[@]}"}" -artifact_prefix="$artifacts/$t/" \
		-max_total_time="$seconds" "$work/corpus/$t" >"$log" 2>&1; then
		tail -n 60 "$log" >&2
		echo "fuzz: $t: failed after fuzzing; the input is in $artifacts/$t/" >&2
		return 1
	fi
	echo "fuzz: $t: ${seconds}s, $(grep -E '^stat::number_of_executed_units' "$log" |
		awk '{print $2}') runs, $(grep -oE 'cov: [0-9]+ ft: [0-9]+' "$log" | tail -n 1)"
}

# FUZZ_JOBS harnesses at once (libFuzzer runs one process each); each one's messages are
# printed together when it ends.
n=0 running=0 failed=0
finish()
{
	local pid
	wait -n -p pid || failed=1
	eval "cat \"\$work/\$out_$pid\""
	running=$((running - 1))
}
for bin in "$@"; do
	t=${bin#fuzz_}
	if [ "$running" -ge "$jobs" ]; then
		finish
	fi
	one "$t" >"$work/$t.msg" 2>&1 &
	eval "out_$!=\$t.msg"
	running=$((running + 1))
	n=$((n + 1))
done
while [ "$running" -gt 0 ]; do
	finish
done
[ "$failed" -eq 0 ] || exit 1
[ "$n" -gt 0 ] || { echo "fuzz: no harnesses given" >&2; exit 1; }
