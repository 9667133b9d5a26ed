#!/usr/bin/env bash
# Hash matrix: the outputs must not change while the code moves (issue #12). A fixed list of
# cases (below, "cases") builds small fixed-size images from a deterministic input tree made
# here (fixed contents, modes and mtimes, SOURCE_DATE_EPOCH, --owner 0:0): every layout (none,
# legacy, legacy+gpt, efi, efixbootldr, hybrid) x the formats (raw, qcow2, qcow2-compressed
# with deflate and zstd, vdi, vpc dynamic and fixed, vmdk), no bootloader, systemd-boot (efi,
# efixbootldr, hybrid), GRUB for BIOS (legacy, legacy+gpt, hybrid) and for UEFI, touchEFIVars
# (efi-vars.fd), --esp/--xbootldr trees, contents entries, a few identity flags, two
# automatically sized images, and `mkdiskimage convert` of some of them to every format. The sha256 of every output (the image, efi-vars.fd, the --json
# report with "timings" dropped and "output" reduced to its basename) must equal the line of
# tests/golden/hash-matrix.sha256; a mismatch names the case, the file and the command line.
#
# The golden file was made by the pre-refactor binary (main at 5f18fd8, the build of 9043242):
#	MKDISKIMAGE=/path/to/that/mkdiskimage MKDISKIMAGE_UPDATE_GOLDEN=1 \
#		tests/run-integration.sh hash-matrix
# MKDISKIMAGE_UPDATE_GOLDEN=1 rewrites it from $MKDISKIMAGE's outputs (every case must run:
# all inputs below installed). Only regenerate it when an output change is intended, and say
# so in the commit.
#
# Some cases read Debian 12's package files (systemd-boot-efi, ovmf, grub-pc-bin,
# grub-efi-amd64-bin + grub-common's grub-mkimage). The golden file's header records each
# input's digest and package version; a case whose input differs from the recorded one (a
# Debian point release) is skipped with skip_case, never failed, and the others still run
# (tests/skips-allowed allows exactly that skip; a missing input is not allowed under
# STRICT_SKIPS=1: scripts/install-deps.sh installs them). HASH_MATRIX_TIMES=1 logs a time
# stamp per case.
. "$(dirname "$0")/../lib.sh"
require sha256sum python3 find sort
GOLDEN_FILE=$GOLDEN/hash-matrix.sha256
UPDATE=${MKDISKIMAGE_UPDATE_GOLDEN:-}

export SOURCE_DATE_EPOCH=1700000000 # 2023-11-14 22:13:20 UTC
umask 022

# --- inputs from the host: name, path(s) hashed, packages ---------------------------------
SDBOOT=/usr/lib/systemd/boot/efi/systemd-bootx64.efi
OVMF_VARS=/usr/share/OVMF/OVMF_VARS_4M.fd
GRUB_PC=/usr/lib/grub/i386-pc
GRUB_EFI=/usr/lib/grub/x86_64-efi
GRUB_MKIMAGE=/usr/bin/grub-mkimage # what mkdiskimage runs: GRUBDIR/../../../bin/grub-mkimage
declare -A IN_PKGS=(
	[sdboot]="systemd-boot-efi"
	[ovmf]="ovmf"
	[grub-pc]="grub-pc-bin grub-common"
	[grub-efi]="grub-efi-amd64-bin grub-common"
)

# input_digest NAME: sha256 over the input's files (path-relative names and contents), or
# "missing".
input_digest()
{
	local paths=()
	case $1 in
	sdboot) paths=("$SDBOOT") ;;
	ovmf) paths=("$OVMF_VARS") ;;
	grub-pc) paths=("$GRUB_PC" "$GRUB_MKIMAGE") ;;
	grub-efi) paths=("$GRUB_EFI" "$GRUB_MKIMAGE") ;;
	*) fail "input_digest: unknown input $1" ;;
	esac
	local p
	for p in "${paths[@]}"; do
		[ -e "$p" ] || { echo missing; return; }
	done
	for p in "${paths[@]}"; do
		if [ -d "$p" ]; then
			(cd "$p" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum)
		else
			sha256sum <"$p" | sed "s|-\$|$(basename "$p")|"
		fi
	done | sha256sum | cut -d' ' -f1
}

# input_versions NAME: "pkg=version ..." from dpkg (or "pkg=?").
input_versions()
{
	local p v out=()
	for p in ${IN_PKGS[$1]}; do
		v=$(dpkg-query -W -f='${Version}' "$p" 2>/dev/null) || v='?'
		out+=("$p=${v:-?}")
	done
	echo "${out[*]}"
}

declare -A HAVE_DIGEST GOLD_DIGEST GOLD_VERSIONS
for i in "${!IN_PKGS[@]}"; do
	HAVE_DIGEST[$i]=$(input_digest "$i")
done

# --- the deterministic input tree -----------------------------------------------------------
IN=$T/in
# pseudo FILE BYTES SEED: deterministic incompressible bytes (made by pseudo_make, one Python
# run for all).
pseudo() { printf '%s\t%s\t%s\n' "$1" "$2" "$3" >>"$T/pseudo.list"; }
pseudo_make()
{
	python3 - "$T/pseudo.list" <<'PY'
import hashlib, sys
for line in open(sys.argv[1], encoding="utf-8"):
    path, n, seed = line.rstrip("\n").split("\t")
    n, seed, out, i = int(n), seed.encode(), bytearray(), 0
    while len(out) < n:
        out += hashlib.sha256(seed + b"%d" % i).digest()
        i += 1
    open(path, "wb").write(bytes(out[:n]))
PY
}

make_inputs()
{
	local r=$IN/root e=$IN/esp x=$IN/xbootldr c=$IN/contents i
	mkdir -p "$r/etc" "$r/usr/share/doc" "$r/usr/bin" "$r/var/empty" "$r/tmp" "$r/srv/many" \
		"$r/home/alice" "$r/deep"
	printf 'root:x:0:0:root:/root:/bin/sh\nalice:x:1000:100:Alice:/home/alice:/bin/sh\n' \
		>"$r/etc/passwd"
	printf 'root:x:0:\nusers:x:100:alice\nwheel:x:10:alice\n' >"$r/etc/group"
	printf 'matrix\n' >"$r/etc/hostname"
	seq 1 50000 >"$r/usr/share/doc/numbers.txt"
	for i in $(seq 1 400); do echo "line $i of a compressible text"; done >"$r/usr/share/doc/text"
	pseudo "$r/usr/share/doc/random.bin" 1500000 root
	printf '#!/bin/sh\necho hello\n' >"$r/usr/bin/hello"
	chmod 755 "$r/usr/bin/hello"
	printf 'suid\n' >"$r/usr/bin/suid"
	chmod 4755 "$r/usr/bin/suid"
	printf 'secret\n' >"$r/home/alice/secret"
	chmod 600 "$r/home/alice/secret"
	chmod 1777 "$r/tmp"
	: >"$r/etc/empty"
	ln "$r/usr/bin/hello" "$r/usr/bin/hello-link"
	ln -s hello "$r/usr/bin/hi"
	ln -s "../../$(printf 'long-target-%.0s' $(seq 1 8))/x" "$r/usr/bin/long-symlink"
	ln -s /nonexistent/absolute "$r/etc/dangling"
	for i in $(seq -w 1 400); do printf '%s\n' "$i" >"$r/srv/many/entry-$i"; done
	local p=$r/deep
	for i in $(seq 1 12); do p=$p/d$i; done
	mkdir -p "$p"
	printf 'deep\n' >"$p/file"

	mkdir -p "$e/EFI/BOOT" "$e/loader/entries" "$e/many"
	printf 'MZ not a loader\n' >"$e/EFI/BOOT/BOOTX64.EFI"
	printf 'timeout 3\ndefault nixos-*\n' >"$e/loader/loader.conf"
	printf 'title NixOS\nlinux /EFI/nixos/kernel.efi\n' >"$e/loader/entries/nixos-generation-1.conf"
	printf 'utf-8\n' >"$e/Übersicht ünïcödé.txt"
	printf 'long\n' >"$e/$(printf 'a%.0s' $(seq 1 120)) long name.conf"
	: >"$e/EMPTY.TXT"
	for i in $(seq -w 1 60); do printf '%s\n' "$i" >"$e/many/file number $i.data"; done
	pseudo "$e/EFI/BOOT/blob.bin" 300000 esp

	# for the systemd-boot cases: no loader files of its own
	mkdir -p "$IN/esp-sdb/EFI/vendor" "$IN/esp-sdb/misc"
	printf 'vendor\n' >"$IN/esp-sdb/EFI/vendor/tool.efi"
	pseudo "$IN/esp-sdb/misc/blob" 100000 esp-sdb

	mkdir -p "$x/loader/entries" "$x/EFI/nixos"
	printf 'title XBOOTLDR\n' >"$x/loader/entries/x.conf"
	pseudo "$x/EFI/nixos/kernel.efi" 200000 xbootldr

	mkdir -p "$c/dir/sub"
	printf 'motd from contents\n' >"$c/motd"
	printf 'a\n' >"$c/dir/a"
	printf 'b\n' >"$c/dir/sub/b"
	pseudo "$IN/kernel" 70000 kernel
	pseudo "$IN/initrd" 50000 initrd

	pseudo_make
	# mtimes: fixed, some with nanoseconds, some after SOURCE_DATE_EPOCH (clamped to it),
	# FAT's pre-1980; directories last, deepest first.
	find "$IN" -exec touch -h -d '2021-06-07 08:09:10.123456789 UTC' {} +
	touch -d '2030-01-01 00:00:00 UTC' "$r/etc/hostname"
	touch -d '1975-05-05 05:05:05 UTC' "$e/EMPTY.TXT" "$r/etc/empty"
	touch -h -d '2001-02-03 04:05:06 UTC' "$r/usr/bin/hi"
	find "$IN" -depth -type d -exec touch -d '2022-02-02 02:02:02.5 UTC' {} +
}
make_inputs

# --- the cases -------------------------------------------------------------------------------
# name|inputs (comma-separated, or -)|arguments (split at spaces; @IN@ = the input dir,
# @OUT@ = the case's output dir, @SP@ = a space inside one argument). Every case gets
# --owner 0:0 --json and -o @OUT@/disk.EXT.
R="--root @IN@/root"
ESP="--esp @IN@/esp"
ESPSDB="--esp @IN@/esp-sdb"
KERN="--kernel @IN@/kernel --initrd @IN@/initrd --cmdline console=ttyS0,115200n8@SP@root=LABEL=nixos"
SDB="--bootloader systemd-boot --systemd-boot-efi $SDBOOT"
VARS="--touch-efi-vars --efi-vars-template $OVMF_VARS --efi-vars-out @OUT@/efi-vars.fd"
GRUB="--bootloader grub --grub-dir $GRUB_PC"
GRUBEFI="--grub-efi-dir $GRUB_EFI"
CONT="--contents @IN@/contents/motd:/etc/motd:0640:alice:users --contents @IN@/contents/dir:/opt/dir::1000:wheel"
cases=(
	"none-raw|-|$R --partition-table none --disk-size 64"
	"none-qcow2-zstd|-|$R --partition-table none --disk-size 64 --format qcow2-compressed --compression zstd"
	"none-vpc-fixed|-|$R --partition-table none --disk-size 64 --format vpc --vpc-subformat fixed --label matrixlabel"
	"legacy-raw|-|$R --partition-table legacy --disk-size 64 $CONT"
	"legacy-vdi|-|$R --partition-table legacy --disk-size 72 --reserved-percent 0 --format vdi"
	"legacy-grub-raw|grub-pc|$R --partition-table legacy --disk-size 64 $KERN $GRUB"
	"legacy-grub-qcow2-deflate|grub-pc|$R --partition-table legacy --disk-size 64 $KERN $GRUB --format qcow2-compressed"
	"legacygpt-raw|-|$R --partition-table legacy+gpt --disk-size 64 --seed matrix-seed"
	"legacygpt-qcow2-deflate|-|$R --partition-table legacy+gpt --disk-size 80 --format qcow2-compressed --compression-level 6 $CONT"
	"legacygpt-grub-vpc|grub-pc|$R --partition-table legacy+gpt --disk-size 64 $KERN $GRUB --format vpc"
	"efi-raw|-|$R --partition-table efi --disk-size 96 --boot-size 40M $ESP"
	"efi-fat32-raw|-|$R --partition-table efi --disk-size 300 $ESP --arch aarch64"
	"efi-vpc|-|$R --partition-table efi --disk-size 96 --boot-size 40M --generic-root-type --root-gpuid 0B2C8A4E-1111-4222-8333-444455556666 --format vpc"
	"efi-vmdk|-|$R --partition-table efi --disk-size 96 --boot-size 40M --format vmdk"
	"efi-sdboot-qcow2-zstd|sdboot,ovmf|$R --partition-table efi --disk-size 96 --boot-size 40M $ESPSDB $KERN $SDB $VARS --format qcow2-compressed --compression zstd"
	"efi-grubefi-raw|grub-efi|$R --partition-table efi --disk-size 96 --boot-size 40M $KERN --bootloader grub $GRUBEFI"
	"efixbootldr-raw|-|$R --partition-table efixbootldr --disk-size 160 --boot-size 120M $ESP --xbootldr @IN@/xbootldr $CONT"
	"efixbootldr-sdboot-vdi|sdboot,ovmf|$R --partition-table efixbootldr --disk-size 160 --boot-size 120M $KERN $SDB $VARS --format vdi"
	"hybrid-raw|-|$R --partition-table hybrid --disk-size 96 --boot-size 40M $ESP --root-fsuid 9d7c3f10-aaaa-4bbb-8ccc-dddddddddddd"
	"hybrid-qcow2|-|$R --partition-table hybrid --disk-size 96 --boot-size 40M --format qcow2 --cluster-size 4K"
	"hybrid-grub-raw|grub-pc|$R --partition-table hybrid --disk-size 96 --boot-size 40M $KERN $GRUB"
	"hybrid-sdboot-vpc-fixed|sdboot,ovmf|$R --partition-table hybrid --disk-size 96 --boot-size 48M $ESPSDB $KERN $SDB $VARS --format vpc --vpc-subformat fixed"
	"hybrid-grub2-qcow2|grub-pc,grub-efi|$R --partition-table hybrid --disk-size 96 --boot-size 40M $KERN $GRUB $GRUBEFI --format qcow2 $CONT"
	"auto-legacy-raw|-|$R --partition-table legacy --additional-space 8M"
	"auto-efi-vdi|-|$R --partition-table efi --boot-size 40M $ESP --additional-space 16M --format vdi"
	# mkdiskimage convert (@CONVERT@ CASE: that case's image, from its own build above)
	"convert-efi-qcow2-zstd|-|@CONVERT@ efi-raw --format qcow2-compressed --compression zstd --threads 2"
	"convert-legacy-qcow2-deflate|-|@CONVERT@ legacy-raw --format qcow2-compressed --cluster-size 16K"
	"convert-hybrid-vdi|-|@CONVERT@ hybrid-raw --format vdi"
	"convert-hybrid-vpc-fixed|-|@CONVERT@ hybrid-raw --format vpc --vpc-subformat fixed"
	"convert-qcow2-raw|-|@CONVERT@ hybrid-qcow2 --format raw"
	"convert-vdi-vpc|-|@CONVERT@ legacy-vdi --format vpc --seed matrix"
	"convert-vhd-qcow2|-|@CONVERT@ efi-vpc --format qcow2"
	"convert-legacy-vmdk-stream|-|@CONVERT@ legacy-raw --format vmdk --vmdk-subformat streamOptimized --threads 2"
)
CONVERT_SOURCES=(efi-raw legacy-raw hybrid-raw hybrid-qcow2 legacy-vdi efi-vpc)

# --- the golden file --------------------------------------------------------------------------
declare -A GOLD_HASH GOLD_CASE
if [ -z "$UPDATE" ]; then
	[ -f "$GOLDEN_FILE" ] || fail "no $GOLDEN_FILE (make it with MKDISKIMAGE_UPDATE_GOLDEN=1)"
	while read -r a b c d e; do
		case $a in
		'#')
			if [ "$b" = input ]; then
				GOLD_DIGEST[$c]=$d
				GOLD_VERSIONS[$c]=$e
			fi
			;;
		'') ;;
		*)
			GOLD_HASH[$b]=$a
			GOLD_CASE[${b%%/*}]=1
			;;
		esac
	done <"$GOLDEN_FILE"
fi

# --- run --------------------------------------------------------------------------------------
ext_of()
{
	case " $* " in
	*" --format qcow2"*) echo qcow2 ;;
	*" --format vdi "*) echo vdi ;;
	*" --format vpc "*) echo vhd ;;
	*" --format vmdk "*) echo vmdk ;;
	*) echo img ;;
	esac
}

declare -A SEEN CMD
ran=0 skipped=0
mkdir -p "$T/reports"
: >"$T/hashes"
for c in "${cases[@]}"; do
	name=${c%%|*}
	rest=${c#*|}
	inputs=${rest%%|*}
	argstr=${rest#*|}
	[ -z "${SEEN[$name]:-}" ] || fail "case $name defined twice"
	SEEN[$name]=1
	# inputs: present, and (checking) the ones the golden file was made with
	why=
	if [ "$inputs" != - ]; then
		IFS=, read -r -a ins <<<"$inputs"
		for i in "${ins[@]}"; do
			[ -n "${IN_PKGS[$i]:-}" ] || fail "case $name: unknown input $i"
			if [ "${HAVE_DIGEST[$i]}" = missing ]; then
				[ -z "$UPDATE" ] || fail "case $name: input $i missing (install ${IN_PKGS[$i]})"
				why="input $i is missing (install ${IN_PKGS[$i]})"
			elif [ -z "$UPDATE" ] && [ "${HAVE_DIGEST[$i]}" != "${GOLD_DIGEST[$i]:-}" ]; then
				gd=${GOLD_DIGEST[$i]:-none}
				why="input $i differs from the golden's: digest ${HAVE_DIGEST[$i]:0:12}, $(input_versions "$i"); recorded ${gd:0:12}, ${GOLD_VERSIONS[$i]:-no versions}"
			fi
		done
	fi
	if [ -n "$why" ]; then
		skip_case "$name: $why"
		skipped=$((skipped + 1))
		continue
	fi
	[ -n "$UPDATE" ] || [ -n "${GOLD_CASE[$name]:-}" ] ||
		fail "case $name has no lines in $GOLDEN_FILE (regenerate it: see the header)"
	odir=$T/out/$name
	rm -rf "$odir"
	mkdir -p "$odir"
	args=()
	read -r -a words <<<"$argstr"
	for w in "${words[@]}"; do
		w=${w//@IN@/$IN}
		w=${w//@OUT@/$odir}
		args+=("${w//@SP@/ }")
	done
	# build from a directory of its own: nothing may depend on the working directory
	mkdir -p "$T/cwd/$name"
	if [ "${args[0]}" = @CONVERT@ ]; then
		# convert SOURCE_CASE's image (kept below)
		src=$(ls "$T/keep/${args[1]}"/disk.* 2>/dev/null) ||
			fail "case $name: case ${args[1]} has not run before it"
		args=("$src" "$odir/disk.$(ext_of "$argstr")" "${args[@]:2}")
		CMD[$name]="SOURCE_DATE_EPOCH=$SOURCE_DATE_EPOCH mkdiskimage convert ${args[*]}"
		(cd "$T/cwd/$name" && "$MKDISKIMAGE" convert "${args[@]}" >"$T/convert.out" 2>&1) ||
			{ cat "$T/convert.out" >&2; fail "case $name: ${CMD[$name]} failed"; }
	else
		args+=(--owner 0:0 --json -o "$odir/disk.$(ext_of "$argstr")")
		CMD[$name]="SOURCE_DATE_EPOCH=$SOURCE_DATE_EPOCH mkdiskimage build ${args[*]}"
		(cd "$T/cwd/$name" && build "${args[@]}")
		mv "$T/build.out" "$T/reports/$name.json"
	fi
	(cd "$odir" && find . -type f | sed 's|^\./||' | LC_ALL=C sort | while read -r f; do
		printf '%s  %s/%s\n' "$(sha256sum <"$f" | cut -d' ' -f1)" "$name" "$f"
	done) >>"$T/hashes"
	ran=$((ran + 1))
	[ -z "${HASH_MATRIX_TIMES:-}" ] || log "$name: $(date +%s.%N)"
	if [[ " ${CONVERT_SOURCES[*]} " == *" $name "* ]]; then
		mkdir -p "$T/keep"
		mv "$odir" "$T/keep/$name"
	fi
	rm -rf "$odir" "$T/cwd/$name"
done

# The --json reports (one Python run for all): "timings" dropped, "output" made a basename.
python3 - "$T/reports" <<'PY' >>"$T/hashes" || fail "a --json report does not parse"
import hashlib, json, os, sys
d = sys.argv[1]
for f in sorted(os.listdir(d)):
    j = json.load(open(os.path.join(d, f)))
    j.pop("timings", None)
    j["output"] = os.path.basename(j["output"])
    text = json.dumps(j) + "\n"
    print("%s  %s/report.json" % (hashlib.sha256(text.encode()).hexdigest(), f[:-5]))
PY
LC_ALL=C sort -k2 "$T/hashes" -o "$T/hashes"

if [ -n "$UPDATE" ]; then
	mkdir -p "$GOLDEN"
	{
		echo "# tests/integration/hash-matrix.sh: sha256 of every output; regenerate with"
		echo "# MKDISKIMAGE_UPDATE_GOLDEN=1 (see the script's header). Made with Debian's packages:"
		for i in $(printf '%s\n' "${!IN_PKGS[@]}" | LC_ALL=C sort); do
			echo "# input $i ${HAVE_DIGEST[$i]} $(input_versions "$i")"
		done
		cat "$T/hashes"
	} >"$GOLDEN_FILE.tmp"
	mv "$GOLDEN_FILE.tmp" "$GOLDEN_FILE"
	log "wrote $GOLDEN_FILE: $ran cases, $(wc -l <"$T/hashes") outputs"
	exit 0
fi

# compare: every output of every case that ran, and nothing the golden file has left out
declare -A BAD=([.]=1) # (a placeholder: an empty array is "unbound" to older bash's set -u)
while read -r h f; do
	if [ "${GOLD_HASH[$f]:-}" != "$h" ]; then
		log "MISMATCH $f: sha256 $h, golden ${GOLD_HASH[$f]:-(none)}"
		BAD[${f%%/*}]=1
	fi
	unset "GOLD_HASH[$f]"
done <"$T/hashes"
for f in "${!GOLD_HASH[@]}"; do
	n=${f%%/*}
	[ -n "${SEEN[$n]:-}" ] || fail "$GOLDEN_FILE has $f, and no case $n exists"
	if [ -n "${CMD[$n]:-}" ]; then # (not a skipped case)
		log "MISSING $f: in the golden file, not made by the build"
		BAD[$n]=1
	fi
done
unset "BAD[.]"
bad=()
for n in "${!BAD[@]}"; do
	log "case $n differs; its build: ${CMD[$n]}"
	bad+=("$n")
done
[ ${#bad[@]} -eq 0 ] || fail "${#bad[@]} of $ran cases differ from $GOLDEN_FILE: ${bad[*]}"
log "$ran cases ($(wc -l <"$T/hashes") outputs) match the golden hashes; $skipped skipped"
