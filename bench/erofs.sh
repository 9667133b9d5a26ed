#!/bin/bash
# erofs: `mkdiskimage build --fs erofs --partition-table none` beside mkfs.erofs (erofs-utils)
# on the same tree, uncompressed, lz4 and lz4hc (our compressed rows only when this build
# takes --compression lz4).
#   bench/erofs.sh [--runs N] [--corpus DIR]
# The corpus defaults to bench/work/store (bench/corpus-store.sh's Nix store; /work/main's when
# this tree has none), else a generated tree. Measures wall time and peak RSS (/usr/bin/time
# -v, the best of N runs), the output (file) size and the filesystem's (blocks x 4 KiB from
# dump.erofs -s); every output is checked with fsck.erofs. Writes bench/results/erofs.tsv
# and bench/results/erofs.md.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
mki=${MKDISKIMAGE:-$here/../build/mkdiskimage}
runs=3 corpus=
while [ $# -gt 0 ]; do
	case $1 in
	--runs) runs=$2; shift ;;
	--corpus) corpus=$2; shift ;;
	-h | --help) sed -n '2,10s/^# \{0,1\}//p' "$0"; exit 0 ;;
	*) echo "bench/erofs.sh: unknown argument $1" >&2; exit 2 ;;
	esac
	shift
done
work=$here/work/erofs
results=$here/results
rm -rf "$work" && mkdir -p "$work" "$results" || exit 1
if [ -z "$corpus" ]; then
	for c in "$here/work/store" /work/main/bench/work/store; do
		[ -d "$c/nix/store" ] && { corpus=$c/nix/store; break; }
	done
fi
if [ -z "$corpus" ]; then
	corpus=$work/tree
	mkdir -p "$corpus"
	for i in $(seq 1 2000); do
		mkdir -p "$corpus/d$((i % 50))"
		head -c $((i * 37 % 20000)) /dev/urandom >"$corpus/d$((i % 50))/f$i"
		seq 1 $((i % 3000)) >"$corpus/d$((i % 50))/t$i"
	done
fi
for tool in mkfs.erofs fsck.erofs dump.erofs /usr/bin/time; do
	command -v "$tool" >/dev/null || { echo "bench/erofs.sh: $tool missing" >&2; exit 1; }
done
src_bytes=$(du -sb "$corpus" | cut -f1)
src_files=$(find "$corpus" | wc -l)

ours_lz4=0
"$mki" build --root "$here" --fs erofs --partition-table none --compression lz4 -q \
	-o "$work/probe.img" >/dev/null 2>&1 && ours_lz4=1
rm -f "$work/probe.img"

# run NAME CMD...: the best of $runs runs; prints "wall_s rss_kib".
run()
{
	local name=$1 best_w= best_r= w r i
	shift
	for ((i = 0; i < runs; i++)); do
		rm -f "$work/$name.img"
		/usr/bin/time -v -o "$work/$name.time" "$@" >"$work/$name.log" 2>&1 ||
			{ echo "bench/erofs.sh: $name failed: $(tail -n 3 "$work/$name.log")" >&2; return 1; }
		w=$(awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, a, ":"); s = 0;
			for (i = 1; i <= n; i++) s = s * 60 + a[i]; print s }' "$work/$name.time")
		r=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$work/$name.time")
		if [ -z "$best_w" ] || awk -v a="$w" -v b="$best_w" 'BEGIN { exit !(a < b) }'; then
			best_w=$w best_r=$r
		fi
	done
	echo "$best_w $best_r"
}

tsv=$results/erofs.tsv
printf 'tool\tcompression\twall_s\trss_kib\tfile_bytes\tfs_bytes\tfsck\n' >"$tsv"
for comp in none lz4 lz4hc; do
	for tool in mkdiskimage mkfs.erofs; do
		name=$tool-$comp
		if [ "$tool" = mkdiskimage ]; then
			[ "$comp" = none ] || [ "$ours_lz4" = 1 ] || continue
			args=("$mki" build --root "$corpus" --fs erofs --partition-table none -q)
			[ "$comp" = none ] || args+=(--compression "$comp")
			args+=(-o "$work/$name.img")
		else
			args=(mkfs.erofs --quiet)
			[ "$comp" = none ] || args+=("-z$comp")
			args+=("$work/$name.img" "$corpus")
		fi
		res=$(run "$name" "${args[@]}") || { printf '%s\t%s\tFAILED\t-\t-\t-\t-\n' "$tool" "$comp" >>"$tsv"; continue; }
		read -r wall rss <<<"$res"
		blocks=$(dump.erofs -s "$work/$name.img" | sed -n 's/^Filesystem blocks:[[:space:]]*//p')
		check=ok
		fsck.erofs "$work/$name.img" >/dev/null 2>&1 || check=FAILED
		printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$tool" "$comp" "$wall" "$rss" \
			"$(stat -c %s "$work/$name.img")" $((blocks * 4096)) "$check" >>"$tsv"
		rm -f "$work/$name.img"
	done
done

python3 - "$tsv" "$results/erofs.md" "$corpus" "$src_bytes" "$src_files" "$runs" <<'PY'
import sys, platform, os
tsv, md, corpus, src_bytes, src_files, runs = sys.argv[1:]
rows = [l.rstrip("\n").split("\t") for l in open(tsv)][1:]
by = {(r[0], r[1]): r for r in rows}
out = ["# erofs: mkdiskimage vs mkfs.erofs", "",
       "`bench/erofs.sh --runs %s` on %s (%.1f MiB in %s paths), %s, %d cores, mkfs.erofs %s." % (
           runs, corpus, int(src_bytes) / 2**20, src_files, platform.machine(), os.cpu_count(),
           os.popen("fsck.erofs -V 2>&1 | head -n 1").read().split()[-1]),
       "Best of the runs; RSS is the peak resident set; fs is the filesystem's blocks x 4 KiB,",
       "file the output (ours: whole MiB); every output passed fsck.erofs unless marked.", "",
       "| compression | tool | wall s | peak RSS MiB | fs MiB | file MiB | fsck | time vs mkfs.erofs | fs size vs mkfs.erofs |",
       "|---|---|---|---|---|---|---|---|---|"]
for r in rows:
    tool, comp, wall, rss, fb, fs, ck = r
    if wall == "FAILED":
        out.append("| %s | %s | failed | | | | | | |" % (comp, tool)); continue
    ref = by.get(("mkfs.erofs", comp))
    tr = sr = ""
    if tool == "mkdiskimage" and ref and ref[2] != "FAILED":
        tr = "%.2fx" % (float(wall) / float(ref[2]))
        sr = "%.3fx" % (int(fs) / int(ref[5]))
    out.append("| %s | %s | %s | %.0f | %.1f | %.1f | %s | %s | %s |" % (
        comp, tool, wall, int(rss) / 1024, int(fs) / 2**20, int(fb) / 2**20, ck, tr, sr))
open(md, "w").write("\n".join(out) + "\n")
print("\n".join(out))
PY
