#!/usr/bin/env bash
# Runs every tests/integration/*.sh (or the ones named on the command line) with $MKDISKIMAGE,
# prints PASS/FAIL/SKIP per test, lists every skipped test and sub-case (tests/lib.sh's skip and
# skip_case) and ends with "integration: N passed, N failed, N skipped, N sub-cases skipped".
# With STRICT_SKIPS=1 (`make check`) a skip tests/skips-allowed does not allow fails its test.
# QUICK=1 runs only the tests marked with a "# quick" line (the sanitizer pass of `make check`).
# JOBS=N runs N tests at once (`make check`: 2), tests marked "# slow" first so the long ones
# overlap; results print as tests end. Tests share only tests/.cache, whose fillers lock it.
# A failing test's output is printed; KEEP_TEMP=1 keeps its temp dir. Exit 1 on any failure.
set -u
here=$(cd "$(dirname "$0")" && pwd)
: "${MKDISKIMAGE:=$here/../build/mkdiskimage}"
export MKDISKIMAGE
: "${JOBS:=1}"
. "$here/skip-policy.sh"
work=$(mktemp -d "${TMPDIR:-/tmp}/mkdiskimage-integration.XXXXXX")
trap 'rm -rf "$work"' EXIT
if [ $# -gt 0 ]; then
	given=("$@")
else
	given=("$here"/integration/*.sh)
fi
slow=() rest=()
for t in "${given[@]}"; do
	[ -e "$t" ] || t=$here/integration/$t.sh
	if [ -n "${QUICK:-}" ] && ! grep -qx '# quick' "$t"; then
		continue
	fi
	if grep -qx '# slow' "$t"; then
		slow+=("$t")
	else
		rest+=("$t")
	fi
done
tests=("${slow[@]+"${slow[@]}"}" "${rest[@]+"${rest[@]}"}")

# start T: run test T in the background, its output, skips, status and time under $work/NAME.
start()
{
	local name
	name=$(basename "$1" .sh)
	: >"$work/$name.skips"
	(
		s=$SECONDS
		MKDISKIMAGE_SKIP_LOG=$work/$name.skips bash "$1" >"$work/$name.out" 2>&1
		echo "$? $((SECONDS - s))" >"$work/$name.rc"
	) &
	eval "pid_$!=\$name"
}

# report NAME: judge and print an ended test.
report()
{
	local name=$1 rc secs out s
	local -a strict=()
	read -r rc secs <"$work/$name.rc"
	out=$(cat "$work/$name.out")
	if [ "$rc" -eq 77 ]; then
		s="$name: $(printf '%s\n' "$out" | grep ': SKIP: ' | tail -n1 | sed 's/^.*SKIP: //')"
		if skip_is_failure "$s"; then
			strict+=("$s")
			skips+=("SKIP (a failure: STRICT_SKIPS=1, not in tests/skips-allowed) $s")
		else
			skips+=("SKIP $s")
		fi
	fi
	while IFS= read -r s; do
		cases=$((cases + 1))
		if skip_is_failure "$s"; then
			strict+=("$s")
			skips+=("SKIP-CASE (a failure: STRICT_SKIPS=1, not in tests/skips-allowed) $s")
		else
			skips+=("SKIP-CASE $s")
		fi
	done <"$work/$name.skips"
	if [ ${#strict[@]} -gt 0 ] && { [ "$rc" -eq 0 ] || [ "$rc" -eq 77 ]; }; then
		out="$out
STRICT_SKIPS=1: skips not in tests/skips-allowed:$(printf '\n  %s' "${strict[@]}")"
		rc=1
	fi
	case $rc in
	0)
		echo "PASS $name (${secs}s)"
		passed=$((passed + 1))
		;;
	77)
		echo "SKIP $name: $(printf '%s\n' "$out" | grep ': SKIP: ' | tail -n1 | sed 's/^.*SKIP: //')"
		skipped=$((skipped + 1))
		;;
	*)
		printf '%s\n' "$out" | tail -n 60 | sed 's/^/    /'
		echo "FAIL $name (exit $rc, ${secs}s)"
		failed=$((failed + 1))
		;;
	esac
}

passed=0 failed=0 skipped=0 cases=0
skips=()
running=0
for t in "${tests[@]+"${tests[@]}"}"; do
	if [ "$running" -ge "$JOBS" ]; then
		wait -n -p done_pid
		eval "report \"\$pid_$done_pid\""
		running=$((running - 1))
	fi
	start "$t"
	running=$((running + 1))
done
while [ "$running" -gt 0 ]; do
	wait -n -p done_pid
	eval "report \"\$pid_$done_pid\""
	running=$((running - 1))
done
for s in "${skips[@]+"${skips[@]}"}"; do
	echo "$s"
done
echo "integration: $passed passed, $failed failed, $skipped skipped, $cases sub-cases skipped"
[ "$failed" -eq 0 ]
