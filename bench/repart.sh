#!/bin/bash
# systemd-repart definitions built by mkdiskimage (--definitions) beside systemd-repart 252
# itself (as root: it formats and copies through loop devices), on the same definitions: an
# empty 64 MiB vfat ESP and an ext4 root filled by CopyFiles=/:/ from a corpus.
#   bench/repart.sh [--runs N] [--corpus DIR] [--mib N]
# Default corpus: the first store paths of bench/work/store (bench/corpus-store.sh) up to
# --mib MiB (default 400), hard-linked into bench/work/repart/corpus. The disk: the corpus
# size * 1.3 + 256 MiB, whole 64 MiB. Every result is checked: both tables (sfdisk --json)
# are the same, e2fsck -fn of both roots is clean.
# Writes bench/results/repart.tsv and bench/results/repart.md.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
mki=${MKDISKIMAGE:-$here/../build/mkdiskimage}
runs=1 corpus= mib=400
while [ $# -gt 0 ]; do
	case $1 in
	--runs) runs=$2; shift ;;
	--corpus) corpus=$2; shift ;;
	--mib) mib=$2; shift ;;
	-h | --help) sed -n '2,10s/^# \{0,1\}//p' "$0"; exit 0 ;;
	*) echo "bench/repart.sh: unknown argument $1" >&2; exit 2 ;;
	esac
	shift
done
[ "$(id -u)" -eq 0 ] || { echo "bench/repart.sh: needs root (systemd-repart formats through loop devices)" >&2; exit 1; }
work=$here/work/repart
results=$here/results
rm -rf "$work" && mkdir -p "$work/defs" "$results" || exit 1
if [ -z "$corpus" ]; then
	store=$("$here/corpus-store.sh") || { echo "bench/repart.sh: corpus-store.sh failed" >&2; exit 1; }
	corpus=$work/corpus
	mkdir -p "$corpus/nix/store"
	total=0
	for p in "$store"/nix/store/*; do
		[ -e "$p" ] || continue
		cp -al "$p" "$corpus/nix/store/" 2>/dev/null || cp -a "$p" "$corpus/nix/store/"
		total=$(du -sm "$corpus" | cut -f1)
		[ "$total" -ge "$mib" ] && break
	done
fi
csize=$(du -sm "$corpus" | cut -f1)
disk=$(( (csize * 13 / 10 + 256 + 63) / 64 * 64 ))M
seed=0e1b5ad2-7e8a-4b1f-9f6c-1a2b3c4d5e6f
printf '[Partition]\nType=esp\nFormat=vfat\nSizeMinBytes=64M\nSizeMaxBytes=64M\n' >"$work/defs/10-esp.conf"
printf '[Partition]\nType=root\nFormat=ext4\nCopyFiles=/:/\n' >"$work/defs/20-root.conf"

now() { date +%s.%N; }
tsv=$results/repart.tsv
printf 'tool\trun\tseconds\tdisk_kib\n' >"$tsv"
for ((run = 1; run <= runs; run++)); do
	rm -f "$work/ours.img" "$work/theirs.img"
	sync; echo 3 >/proc/sys/vm/drop_caches 2>/dev/null || true
	t0=$(now)
	"$mki" build -q --definitions "$work/defs" --copy-source "$corpus" --disk-size "$disk" \
		--seed "$seed" -o "$work/ours.img" || exit 1
	t1=$(now)
	printf 'mkdiskimage\t%d\t%.2f\t%s\n' "$run" "$(echo "$t1 - $t0" | bc)" \
		"$(du -k "$work/ours.img" | cut -f1)" >>"$tsv"
	sync; echo 3 >/proc/sys/vm/drop_caches 2>/dev/null || true
	t0=$(now)
	systemd-repart --empty=create --size="$disk" --definitions="$work/defs" --root="$corpus" \
		--seed="$seed" --dry-run=no --pretty=no "$work/theirs.img" >"$work/repart.log" 2>&1 ||
		{ tail "$work/repart.log" >&2; exit 1; }
	sync "$work/theirs.img"
	t1=$(now)
	printf 'systemd-repart\t%d\t%.2f\t%s\n' "$run" "$(echo "$t1 - $t0" | bc)" \
		"$(du -k "$work/theirs.img" | cut -f1)" >>"$tsv"
done

# checks
strip() { sfdisk --json "$1" | grep -v -e '"device"' -e '"node"'; }
diff <(strip "$work/ours.img") <(strip "$work/theirs.img") >&2 || { echo "tables differ" >&2; exit 1; }
for img in ours theirs; do
	start=$(sfdisk --json "$work/$img.img" | python3 -c 'import json,sys; p=json.load(sys.stdin)["partitiontable"]["partitions"][1]; print(p["start"], p["size"])')
	read -r s n <<<"$start"
	dd if="$work/$img.img" of="$work/$img.root" bs=1M iflag=skip_bytes,count_bytes \
		skip=$((s * 512)) count=$((n * 512)) conv=sparse status=none
	e2fsck -fn "$work/$img.root" >/dev/null 2>&1 || { echo "e2fsck -fn of $img's root failed" >&2; exit 1; }
	rm -f "$work/$img.root"
done
python3 - "$tsv" "$csize" "$disk" "$runs" >"$results/repart.md" <<'PY'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
def med(tool, k): return statistics.median(float(r[k]) for r in rows if r["tool"] == tool)
m, s = med("mkdiskimage", "seconds"), med("systemd-repart", "seconds")
mk, sk = med("mkdiskimage", "disk_kib"), med("systemd-repart", "disk_kib")
print("# systemd-repart definitions: mkdiskimage --definitions vs systemd-repart 252\n")
print(f"Corpus: {sys.argv[2]} MiB of Nix store paths (CopyFiles=/:/ into an ext4 root), an empty")
print(f"64 MiB vfat ESP; disk {sys.argv[3]}; median of {sys.argv[4]} run(s), page cache dropped")
print("before each. `bench/repart.sh`. Both tables are identical (sfdisk --json); both roots")
print("pass e2fsck -fn.\n")
print("| tool | seconds | image on disk (KiB) |\n|---|---|---|")
print(f"| mkdiskimage | {m:.2f} | {mk:.0f} |\n| systemd-repart (root, loop devices) | {s:.2f} | {sk:.0f} |")
print(f"\nTime ratio systemd-repart / mkdiskimage: {s / m:.1f}x; on-disk size ratio: {sk / mk:.2f}.")
PY
cat "$results/repart.md"
