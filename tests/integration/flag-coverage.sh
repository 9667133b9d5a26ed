#!/usr/bin/env bash
# Coverage of flags: every long option in the option tables (`.flag = "NAME"` in
# src/spec/options.c, struct option in src/cli/*.c) must be named as --NAME by at least one other
# test (tests/integration/*.sh, tests/boot/*). A flag added without a test fails here, naming the
# flag and its file.
# Limits: a mention is textual (a flag shared by two commands, like --json, counts once), and
# short options are not listed.
# quick
. "$(dirname "$0")/../lib.sh"

sources=("$REPO/src/spec/options.c" "$REPO"/src/cli/*.c)
mapfile -t tests < <(ls "$TESTS"/integration/*.sh "$TESTS"/boot/* 2>/dev/null |
	grep -v '/flag-coverage\.sh$')
[ "${#tests[@]}" -gt 0 ] || fail "no tests found"

n=0 missing=()
for src in "${sources[@]}"; do
	while read -r flag; do
		n=$((n + 1))
		grep -qE -- "--$flag([^a-zA-Z0-9-]|\$)" "${tests[@]}" ||
			missing+=("--$flag (${src#"$REPO"/})")
	done < <(sed -n -e 's/^[[:space:]]*{ *"\([a-z0-9-]*\)", *\(no\|required\|optional\)_argument.*/\1/p' \
		-e 's/.*[{,] *\.flag = "\([a-z0-9-]*\)".*/\1/p' "$src")
done
# the tables are where we think: a change of their syntax must not make this test vacuous
[ "$n" -ge 60 ] || fail "found only $n long options in ${sources[*]}: did the table syntax change?"
[ "${#missing[@]}" -eq 0 ] || fail "flags no test mentions: ${missing[*]}"
log "$n long options, each mentioned by a test"
