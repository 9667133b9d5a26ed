#!/usr/bin/env bash
# Runs every tests/integration/*.sh (or the ones named on the command line) with $MKDISKIMAGE,
# prints PASS/FAIL/SKIP per test and ends with "integration: N passed, N failed, N skipped".
# QUICK=1 runs only the tests marked with a "# quick" line (the sanitizer pass of `make check`).
# A failing test's output is printed; KEEP_TEMP=1 keeps its temp dir. Exit 1 on any failure.
set -u
here=$(cd "$(dirname "$0")" && pwd)
: "${MKDISKIMAGE:=$here/../build/mkdiskimage}"
export MKDISKIMAGE
if [ $# -gt 0 ]; then
	tests=("$@")
else
	tests=("$here"/integration/*.sh)
fi
passed=0 failed=0 skipped=0
for t in "${tests[@]}"; do
	[ -e "$t" ] || t=$here/integration/$t.sh
	name=$(basename "$t" .sh)
	if [ -n "${QUICK:-}" ] && ! grep -qx '# quick' "$t"; then
		continue
	fi
	start=$SECONDS
	out=$(bash "$t" 2>&1)
	rc=$?
	secs=$((SECONDS - start))
	case $rc in
	0)
		echo "PASS $name (${secs}s)"
		passed=$((passed + 1))
		;;
	77)
		echo "SKIP $name: $(printf '%s\n' "$out" | grep 'SKIP' | tail -n1 | sed 's/^.*SKIP: //')"
		skipped=$((skipped + 1))
		;;
	*)
		printf '%s\n' "$out" | tail -n 60 | sed 's/^/    /'
		echo "FAIL $name (exit $rc, ${secs}s)"
		failed=$((failed + 1))
		;;
	esac
done
echo "integration: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
