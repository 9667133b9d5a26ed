#!/bin/bash
# Large-file corpus: a few GiB-sized files of the three kinds a disk image carries.
#   bench/corpus-large.sh [--quick] [DIR]      prints the corpus directory on stdout
#
#   random.bin        1 GiB of AES-256-CTR keystream with a fixed key (incompressible, and the
#                     same bytes on every machine: openssl enc over /dev/zero)
#   numbers.txt       1 GiB of `seq` output (text that deflate shrinks ~4x)
#   sparse.img        8 GiB apparent, 3 x 64 MiB of data at 0, 3 GiB and the last 64 MiB: a VM
#                     disk or database file with holes
# --quick: 64 MiB, 64 MiB and 1 GiB apparent with 3 x 4 MiB of data. Deterministic: only
# coreutils and openssl. DIR.complete marks a finished corpus.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
quick=0
if [ "${1:-}" = --quick ]; then
	quick=1
	shift
fi
if [ "$quick" = 1 ]; then
	dir=${1:-$here/work/large-quick}
	mib=64 sparse_mib=1024 chunk_mib=4
else
	dir=${1:-$here/work/large}
	mib=1024 sparse_mib=8192 chunk_mib=64
fi
if [ -e "$dir.complete" ]; then
	echo "$dir"
	exit 0
fi
command -v openssl >/dev/null || { echo "corpus-large: needs openssl (apt-get install openssl)" >&2; exit 1; }
rm -rf "$dir"
mkdir -p "$dir"

# The producers die of SIGPIPE when head has enough: not a failure.
set +o pipefail
openssl enc -aes-256-ctr -nosalt -K "$(printf '%064d' 0)" -iv "$(printf '%032d' 0)" \
	</dev/zero 2>/dev/null | head -c $((mib << 20)) >"$dir/random.bin"
seq 1 1000000000 | head -c $((mib << 20)) >"$dir/numbers.txt"

truncate -s $((sparse_mib << 20)) "$dir/sparse.img"
for at_mib in 0 $((sparse_mib * 3 / 8)) $((sparse_mib - chunk_mib)); do
	# data that compresses (text) in each chunk, different per chunk
	seq "$at_mib" 1000000000 | head -c $((chunk_mib << 20)) |
		dd of="$dir/sparse.img" bs=1M seek="$at_mib" conv=notrunc status=none
done
set -o pipefail
[ "$(stat -c %s "$dir/random.bin")" = $((mib << 20)) ] &&
	[ "$(stat -c %s "$dir/numbers.txt")" = $((mib << 20)) ] ||
	{ echo "corpus-large: short output in $dir" >&2; exit 1; }
chmod 0644 "$dir"/*
touch -d @1 "$dir"/* "$dir"
touch "$dir.complete"
echo "$dir"
