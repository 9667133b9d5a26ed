#!/usr/bin/env bash
# Mutation check: runs integration tests against deliberately broken mkdiskimages and requires
# each to FAIL. tests/mutation/mutants lists each mutant (a defect tests/mutation/mutant.py
# injects into the real tool's output, arguments or report) and the tests that must catch it.
#   tests/mutation/run.sh [MUTANT...]     (MKDISKIMAGE: the real binary, default build/)
# First a control pass runs every named test through the wrapper with MUTANT=none: each must
# pass, so a failure later is the mutant's doing. Then, per mutant and test: the test must exit
# 1 (a skip or a pass is a surviving mutant) and the wrapper must have applied the damage at
# least once (its log); a wrapper error fails the run. Tests run with QUICK=1, MUTATION_JOBS
# (default 2) at a time. Exit 1 if any mutant survives or any control fails.
set -u
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
real=${MKDISKIMAGE:-$repo/build/mkdiskimage}
[ -x "$real" ] || { echo "mutation: $real is not an executable (run make first)" >&2; exit 1; }
real=$(cd "$(dirname "$real")" && pwd)/$(basename "$real")
jobs_max=${MUTATION_JOBS:-2}
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

# run MUTANT TEST (in a subshell): one test through the wrapper; writes $work/M.T.rc as
# "EXIT WALL_SECONDS CPU_SECONDS" (CPU: `times` of this subshell's children, i.e. the test
# and all it ran; the wall time depends on the machine's load).
run()
{
	local m=$1 t=$2 start=$SECONDS
	: >"$work/$m.$t.log"
	MUTANT=$m MUTANT_REAL=$real MUTANT_LOG=$work/$m.$t.log MKDISKIMAGE=$here/mutant.py \
		QUICK=1 bash "$repo/tests/integration/$t.sh" >"$work/$m.$t.out" 2>&1
	local rc=$?
	times >"$work/$m.$t.times"
	echo "$rc $((SECONDS - start)) $(sed -n 2p "$work/$m.$t.times" | awk '{ n = 0
		for (i = 1; i <= 2; i++) { split($i, p, "m"); n += p[1] * 60 + p[2] }
		printf "%.1f", n }')" >"$work/$m.$t.rc"
}

# launch MUTANT TEST: run it in the background, at most jobs_max at once.
launch()
{
	while [ "$(jobs -rp | wc -l)" -ge "$jobs_max" ]; do
		wait -n
	done
	(run "$1" "$2") &
}

# result MUTANT TEST: sets rc, took ("Ns, cpu Ns").
result()
{
	local w c
	read -r rc w c <"$work/$1.$2.rc"
	took="${w}s, cpu ${c}s"
}

start_all=$SECONDS
declare -A control=()
ctests=()
for m in "${order[@]}"; do
	for t in ${tests_of[$m]}; do
		[ -n "${control[$t]+x}" ] && continue
		control[$t]=pending
		ctests+=("$t")
		launch none "$t"
	done
done
for m in "${order[@]}"; do
	for t in ${tests_of[$m]}; do
		launch "$m" "$t"
	done
done
wait

failed=0 killed=0 survived=0 cpu=0
for t in "${ctests[@]}"; do
	result none "$t"
	cpu=$(awk -v a="$cpu" -v b="${took##* }" 'BEGIN { printf "%.1f", a + b }')
	control[$t]=$rc
	if [ "$rc" -ne 0 ]; then
		tail -n 20 "$work/none.$t.out" | sed 's/^/    /'
		echo "CONTROL-FAIL $t: exit $rc without a mutant ($took)"
		failed=1
	else
		echo "control $t passes through the wrapper ($took)"
	fi
done
for m in "${order[@]}"; do
	for t in ${tests_of[$m]}; do
		result "$m" "$t"
		cpu=$(awk -v a="$cpu" -v b="${took##* }" 'BEGIN { printf "%.1f", a + b }')
		if [ "${control[$t]}" -ne 0 ]; then
			echo "SURVIVED $m: $t cannot judge it (its control failed)"
			survived=$((survived + 1))
		elif grep -q "^error " "$work/$m.$t.log"; then
			sed 's/^/    /' "$work/$m.$t.log"
			echo "ERROR $m: the wrapper failed while running $t"
			survived=$((survived + 1))
		elif ! grep -q "^applied " "$work/$m.$t.log"; then
			echo "SURVIVED $m: $t never gave it anything to damage ($took)"
			survived=$((survived + 1))
		elif [ "$rc" -eq 1 ]; then
			why=$(grep -m1 'FAIL' "$work/$m.$t.out" | cut -c1-160)
			echo "killed $m by $t ($took): $why"
			killed=$((killed + 1))
		else
			sed -n '1,3p' "$work/$m.$t.log" | sed 's/^/    /'
			echo "SURVIVED $m: $t exited $rc with the damage applied ($took)"
			survived=$((survived + 1))
		fi
	done
done
echo "mutation: $killed killed, $survived survived (${MUTATION_JOBS:-2} jobs:" \
	"$((SECONDS - start_all))s, cpu ${cpu%s}s)"
[ "$survived" -eq 0 ] && [ "$failed" -eq 0 ]
