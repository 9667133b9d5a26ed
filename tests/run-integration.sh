#!/usr/bin/env bash
# Runs every tests/integration/*.sh (or the ones named on the command line) with $MKDISKIMAGE,
# prints PASS/FAIL/SKIP per test, lists every skipped test and sub-case (tests/lib.sh's skip and
# skip_case) and ends with "integration: N passed, N failed, N skipped, N sub-cases skipped".
# With STRICT_SKIPS=1 (`make check`) a skip tests/skips-allowed does not allow fails its test.
# QUICK=1 runs only the tests marked with a "# quick" line (the sanitizer pass of `make check`).
# A failing test's output is printed; KEEP_TEMP=1 keeps its temp dir. Exit 1 on any failure.
set -u
here=$(cd "$(dirname "$0")" && pwd)
: "${MKDISKIMAGE:=$here/../build/mkdiskimage}"
export MKDISKIMAGE
. "$here/skip-policy.sh"
skiplog=$(mktemp "${TMPDIR:-/tmp}/mkdiskimage-skips.XXXXXX")
trap 'rm -f "$skiplog"' EXIT
if [ $# -gt 0 ]; then
	tests=("$@")
else
	tests=("$here"/integration/*.sh)
fi
passed=0 failed=0 skipped=0 cases=0
skips=()
for t in "${tests[@]}"; do
	[ -e "$t" ] || t=$here/integration/$t.sh
	name=$(basename "$t" .sh)
	if [ -n "${QUICK:-}" ] && ! grep -qx '# quick' "$t"; then
		continue
	fi
	start=$SECONDS
	: >"$skiplog"
	out=$(MKDISKIMAGE_SKIP_LOG=$skiplog bash "$t" 2>&1)
	rc=$?
	secs=$((SECONDS - start))
	strict=()
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
	done <"$skiplog"
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
done
for s in "${skips[@]+"${skips[@]}"}"; do
	echo "$s"
done
echo "integration: $passed passed, $failed failed, $skipped skipped, $cases sub-cases skipped"
[ "$failed" -eq 0 ]
