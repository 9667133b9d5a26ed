#!/usr/bin/env bash
# Builds fixture.nix with Debian's nix-bin into the host's /nix/store (root, no daemon, sandbox
# off) and writes closureInfo's files as nixpkgs' closureInfo does (store-paths; registration:
# path, "sha256:" + Nix base32 narHash, narSize, empty deriver, reference count, references).
#	make-fixture.sh OUTDIR [N [drvs]]
# OUTDIR gets closure/{store-paths,registration}, toplevel, channel (store paths, one a line);
# with "drvs" the closure also holds the toplevel's derivation and every .drv it needs.
set -euo pipefail
out=$1
n=${2:-200}
with_drvs=${3:-}
here=$(cd "$(dirname "$0")" && pwd)
export NIX_REMOTE=local
export NIX_CONFIG=$'sandbox = false\nbuild-users-group =\nsubstituters =\nmax-jobs = 4'
mkdir -p "$out/closure"
nix-build --no-out-link "$here/fixture.nix" --arg n "$n" -A toplevel > "$out/toplevel"
nix-build --no-out-link "$here/fixture.nix" --arg n "$n" -A channel > "$out/channel"
# identical files across paths become hard links, as on an optimised store
nix-store --optimise >/dev/null 2>&1
roots=("$(cat "$out/toplevel")" "$(cat "$out/channel")")
[ "$with_drvs" = drvs ] && roots+=("$(nix-store -qd "$(cat "$out/toplevel")")")
mapfile -t paths < <(nix-store -qR "${roots[@]}" | LC_ALL=C sort)
printf '%s\n' "${paths[@]}" > "$out/closure/store-paths"
nix-store --dump-db "${paths[@]}" | python3 -c '
import sys
chars = "0123456789abcdfghijklmnpqrsvwxyz"
def b32(h):
    out = []
    for n in range(51, -1, -1):
        b = n * 5; i = b // 8; j = b % 8
        c = h[i] >> j
        if i + 1 < len(h):
            c |= h[i + 1] << (8 - j)
        out.append(chars[c & 31])
    return "".join(out)
lines = sys.stdin.read().split("\n")
recs = {}
k = 0
while k < len(lines) and lines[k]:
    path, h, size, deriver, cnt = lines[k:k + 5]
    refs = lines[k + 5:k + 5 + int(cnt)]
    k += 5 + int(cnt)
    recs[path] = ["sha256:" + b32(bytes.fromhex(h)), size, "", str(len(refs))] + sorted(refs)
out = []
for p in sorted(recs):
    out += [p] + recs[p]
sys.stdout.write("\n".join(out) + "\n")
' > "$out/closure/registration"
