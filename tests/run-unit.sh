#!/usr/bin/env bash
# Runs every unit-test binary given; lists the skipped tests (name and reason) and prints the
# totals as "unit: N passed, N failed, N skipped". With STRICT_SKIPS=1 a skip that
# tests/skips-allowed does not allow is a failure.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/skip-policy.sh"
passed=0 failed=0 skipped=0
skips=()
for t in "$@"; do
	out=$("$t" 2>&1)
	rc=$?
	line=$(printf '%s\n' "$out" | tail -n1)
	re='^([0-9]+) passed, ([0-9]+) failed, ([0-9]+) skipped$'
	if [[ $line =~ $re ]] && [ $rc -eq 0 ]; then
		passed=$((passed + BASH_REMATCH[1]))
	else
		printf '%s\n' "$out" | grep -v '^ok  ' >&2
		echo "FAIL $t (exit $rc)" >&2
		if [[ $line =~ $re ]]; then
			passed=$((passed + BASH_REMATCH[1]))
			failed=$((failed + BASH_REMATCH[2]))
		else
			failed=$((failed + 1))
		fi
	fi
	while IFS= read -r s; do
		s=${s#SKIP }
		skipped=$((skipped + 1))
		if skip_is_failure "$s"; then
			skips+=("SKIP (a failure: STRICT_SKIPS=1, not in tests/skips-allowed) $s")
			failed=$((failed + 1))
		else
			skips+=("SKIP $s")
		fi
	done < <(printf '%s\n' "$out" | grep '^SKIP ')
done
for s in "${skips[@]+"${skips[@]}"}"; do
	echo "$s"
done
echo "unit: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
