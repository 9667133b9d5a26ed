#!/usr/bin/env bash
# The bounded CI run of the property tests (tests/property/run.sh; `make property` is the long
# run): seven fixed seeds that between them cover every layout (none, legacy, legacy+gpt, efi,
# efixbootldr, hybrid) and format (raw for every seed, plus qcow2, qcow2-compressed, vdi, vpc),
# and one seed derived from the commit, printed with the command that replays it. Small trees.
. "$(dirname "$0")/../lib.sh"
require python3 e2fsck debugfs sfdisk sgdisk qemu-img fsck.fat mcopy

commit=$(git -C "$REPO" rev-parse --short=12 HEAD 2>/dev/null) || commit=unknown
seeds=(3 5 9 10 14 15 22 "commit-$commit")
log "seeds ${seeds[*]}; replay one with: tests/property/run.sh --seed SEED --small --keep"
args=()
for s in "${seeds[@]}"; do args+=(--seed "$s"); done
TMPDIR=$T "$REPO/tests/property/run.sh" --small "${args[@]}" >"$T/property.out" 2>&1 || {
	cat "$T/property.out" >&2
	fail "property seeds failed (replay commands above)"
}
cat "$T/property.out" >&2
grep -qx "property: ${#seeds[@]} seeds, 0 failed" "$T/property.out" ||
	fail "run.sh did not check ${#seeds[@]} seeds"
