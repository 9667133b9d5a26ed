#!/usr/bin/env bash
# Mutation check: runs integration tests against deliberately broken mkdiskimages and requires
# each to FAIL. tests/mutation/mutants lists each mutant (a defect tests/mutation/mutant.py
# injects into the real tool's output, arguments or report) and the tests that must catch it.
#   tests/mutation/run.sh [MUTANT...]     (MKDISKIMAGE: the real binary, default build/)
# First a control pass runs every named test through the wrapper with MUTANT=none: each must
# pass, so a failure later is the mutant's doing. Then, per mutant and test: the test must exit
# 1 (a skip or a pass is a surviving mutant) and the wrapper must have applied the damage at
# least once (its log); a wrapper error fails the run. Tests run with QUICK=1.
# Exit 1 if any mutant survives.
set -u
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
real=${MKDISKIMAGE:-$repo/build/mkdiskimage}
[ -x "$real" ] || { echo "mutation: $real is not an executable (run make first)" >&2; exit 1; }
real=$(cd "$(dirname "$real")" && pwd)/$(basename "$real")
work=$(mktemp -d "${TMPDIR:-/tmp}/mkdiskimage-mutation.XXXXXX")
trap 'rm -rf "$work"' EXIT

declare -A tests_of=()
order=()
while read -r name rest; do
	[ -z "$name" ] || [[ $name == \#* ]] && continue
	tests_of[$name]=$rest
	order+=("$name")
done <"$here/mutants"
if [ $# -gt 0 ]; then
	for m in "$@"; do
		[ -n "${tests_of[$m]+x}" ] || { echo "mutation: unknown mutant $m" >&2; exit 1; }
	done
	order=("$@")
fi

# run MUTANT TEST: run one test through the wrapper; sets rc and secs, the log in $work.
run()
{
	local m=$1 t=$2 start=$SECONDS
	: >"$work/$m.$t.log"
	MUTANT=$m MUTANT_REAL=$real MUTANT_LOG=$work/$m.$t.log MKDISKIMAGE=$here/mutant.py \
		QUICK=1 bash "$repo/tests/integration/$t.sh" >"$work/$m.$t.out" 2>&1
	rc=$?
	secs="$((SECONDS - start))s"
	# CPU seconds of the test and all it ran (wall time depends on the machine's load)
	cpu_now
	secs="$secs, cpu $(awk -v a="$CPU" -v b="$cpu_before" 'BEGIN { printf "%.1f", a - b }')s"
	cpu_before=$CPU
}

# cpu_now: CPU=user + system seconds of this shell's finished children (`times` must run in
# this shell, not in a $(...) subshell).
cpu_now()
{
	times >"$work/times"
	CPU=$(sed -n 2p "$work/times" | awk '{ n = 0; for (i = 1; i <= 2; i++) { split($i, p, "m");
		n += p[1] * 60 + p[2] } printf "%.2f", n }')
}
cpu_now
cpu_before=$CPU

failed=0 start_all=$SECONDS
declare -A control=()
for m in "${order[@]}"; do
	for t in ${tests_of[$m]}; do
		[ -n "${control[$t]+x}" ] && continue
		run none "$t"
		control[$t]=$rc
		if [ "$rc" -ne 0 ]; then
			tail -n 20 "$work/none.$t.out" | sed 's/^/    /'
			echo "CONTROL-FAIL $t: exit $rc without a mutant (${secs})"
			failed=1
		else
			echo "control $t passes through the wrapper (${secs})"
		fi
	done
done

killed=0 survived=0
for m in "${order[@]}"; do
	for t in ${tests_of[$m]}; do
		[ "${control[$t]}" -eq 0 ] || { echo "SURVIVED $m: $t cannot judge it (control failed)"; survived=$((survived + 1)); continue; }
		run "$m" "$t"
		if grep -q "^error " "$work/$m.$t.log"; then
			cat "$work/$m.$t.log" | sed 's/^/    /'
			echo "ERROR $m: the wrapper failed while running $t"
			survived=$((survived + 1))
		elif ! grep -q "^applied " "$work/$m.$t.log"; then
			echo "SURVIVED $m: $t never gave it anything to damage (${secs})"
			survived=$((survived + 1))
		elif [ "$rc" -eq 1 ]; then
			why=$(grep -m1 'FAIL' "$work/$m.$t.out" | cut -c1-150)
			echo "killed $m by $t (${secs}): $why"
			killed=$((killed + 1))
		else
			sed -n '1,3p' "$work/$m.$t.log" | sed 's/^/    /'
			echo "SURVIVED $m: $t exited $rc with the damage applied (${secs})"
			survived=$((survived + 1))
		fi
	done
done
cpu_now
echo "mutation: $killed killed, $survived survived ($((SECONDS - start_all))s, cpu ${CPU}s)"
[ "$survived" -eq 0 ] && [ "$failed" -eq 0 ]
