#!/usr/bin/env bash
# Runs every unit-test binary given; prints the totals as "N passed, N failed".
set -u
passed=0 failed=0
for t in "$@"; do
	out=$("$t" 2>&1)
	rc=$?
	line=$(printf '%s\n' "$out" | tail -n1)
	p=$(sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\1/p' <<<"$line")
	f=$(sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\2/p' <<<"$line")
	if [ -z "$p" ] || [ $rc -ne 0 ]; then
		printf '%s\n' "$out" | grep -v '^ok  ' >&2
		echo "FAIL $t (exit $rc)" >&2
		failed=$((failed + ${f:-1}))
		passed=$((passed + ${p:-0}))
	else
		passed=$((passed + p))
	fi
done
echo "unit: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
