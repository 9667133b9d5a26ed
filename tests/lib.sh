# Shared helpers for tests/integration/*.sh (STYLE.md §9). Source it first:
#	. "$(dirname "$0")/../lib.sh"
# Exit status: 0 pass, 1 fail, 77 skip. Every test gets a private temp dir $T, removed on exit
# (after unmounting whatever the test mounted and detaching its loop devices).
set -euo pipefail

TESTS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$TESTS/.." && pwd)
SPECS=$TESTS/specs
GOLDEN=$TESTS/golden
DATA=$TESTS/data
CACHE=$TESTS/.cache
MKDISKIMAGE=${MKDISKIMAGE:-$REPO/build/mkdiskimage}
TEST_NAME=$(basename "$0" .sh)
export LC_ALL=C

# The UUIDs nixpkgs' make-disk-image fixes (issue #2 §1-2) and the DPS / UEFI type GUIDs.
DEFAULT_ROOT_GPUID=F222513B-DED1-49FA-B591-20CE86A2FE7F
TYPE_ROOT_X86_64=4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709
TYPE_ROOT_AARCH64=B921B045-1DF0-41C3-AF44-4C6F280D3FAE
TYPE_BIOS_BOOT=21686148-6449-6E6F-744E-656564454649
TYPE_ESP=C12A7328-F81F-11D2-BA4B-00A0C93EC93B
TYPE_XBOOTLDR=BC13C2FF-59E6-4262-A352-B275FD6F7172
MIB=1048576

T=$(mktemp -d "${TMPDIR:-/tmp}/mkdiskimage-$TEST_NAME.XXXXXX")
chmod 755 "$T" # unprivileged builds (setpriv to nobody) must reach their own subdirectories
_MOUNTS=()
_LOOPS=()
_PIDS=()

_cleanup()
{
	local i
	for i in "${_PIDS[@]+"${_PIDS[@]}"}"; do
		kill "$i" 2>/dev/null || true
		wait "$i" 2>/dev/null || true
	done
	for ((i = ${#_MOUNTS[@]} - 1; i >= 0; i--)); do
		umount "${_MOUNTS[i]}" 2>/dev/null || umount -l "${_MOUNTS[i]}" 2>/dev/null || true
	done
	for i in "${_LOOPS[@]+"${_LOOPS[@]}"}"; do
		losetup -d "$i" 2>/dev/null || true
	done
	if [ -n "${KEEP_TEMP:-}" ]; then
		echo "kept $T" >&2
	else
		rm -rf "$T"
	fi
}
trap _cleanup EXIT

log() { printf '%s: %s\n' "$TEST_NAME" "$*" >&2; }

# nix_store_lock: hold, until the test ends, the lock every test that writes the machine's
# /nix/store takes: under JOBS=2 one test's Nix builds must not run while another test's
# build reads store paths (a store file's ctime moving makes mkdiskimage refuse it).
nix_store_lock()
{
	exec 7>"${TMPDIR:-/tmp}/mkdiskimage-tests-nix-store.lock"
	flock 7
}

# fail MESSAGE: the test fails now.
fail()
{
	printf '%s: FAIL: %s\n' "$TEST_NAME" "$*" >&2
	exit 1
}

# skip REASON: exit 77.
skip()
{
	printf '%s: SKIP: %s\n' "$TEST_NAME" "$*" >&2
	exit 77
}

# skip_case REASON: one sub-case did not run (a missing tool, privilege or device). Logged, and
# recorded in $MKDISKIMAGE_SKIP_LOG (set by tests/run-integration.sh, which lists every
# recorded case in its summary and, with STRICT_SKIPS=1, fails the test unless
# tests/skips-allowed allows "NAME: REASON").
skip_case()
{
	log "SKIP-CASE: $*"
	[ -z "${MKDISKIMAGE_SKIP_LOG:-}" ] || printf '%s: %s\n' "$TEST_NAME" "$*" >>"$MKDISKIMAGE_SKIP_LOG"
}

# assert_not_running PATTERN WHAT: no process's command line matches PATTERN (pgrep -f, from
# procps). A missing pgrep or a pgrep error fails the check: it never passes unchecked.
assert_not_running()
{
	local rc=0
	command -v pgrep >/dev/null 2>&1 || fail "pgrep missing (apt-get install procps): cannot check $2"
	pgrep -f "$1" >/dev/null || rc=$?
	[ "$rc" -ne 0 ] || fail "$2: $(pgrep -af "$1")"
	[ "$rc" -eq 1 ] || fail "pgrep -f '$1' failed (exit $rc): cannot check $2"
}

# require TOOL...: skip (77) unless every tool is on PATH.
require()
{
	local t
	for t in "$@"; do
		command -v "$t" >/dev/null 2>&1 || skip "needs $t"
	done
}

is_root() { [ "$(id -u)" -eq 0 ]; }

require_root() { is_root || skip "needs root (loop mounts / ownership)"; }

# Loop mounts need root and a kernel that lets us (containers may not).
can_loop_mount()
{
	is_root || return 1
	[ -e /dev/loop-control ] || return 1
	command -v losetup >/dev/null 2>&1
}

[ -x "$MKDISKIMAGE" ] || fail "MKDISKIMAGE=$MKDISKIMAGE is not an executable (run make first)"

# _build_args ARGS...: STYLE.md's short form `build SPEC.json OUT` becomes --spec SPEC -o OUT.
_build_args()
{
	if [ $# -eq 2 ] && [[ $1 == *.json ]] && [[ $2 != -* ]]; then
		BUILD_ARGS=(--spec "$1" -o "$2")
	else
		BUILD_ARGS=("$@")
	fi
}

# build ARGS...: run `$MKDISKIMAGE build ARGS`; on failure the test fails with its stderr.
# stdout is left in $T/build.out, stderr in $T/build.err.
build()
{
	_build_args "$@"
	if ! "$MKDISKIMAGE" build "${BUILD_ARGS[@]}" >"$T/build.out" 2>"$T/build.err"; then
		cat "$T/build.err" >&2
		fail "mkdiskimage build ${BUILD_ARGS[*]} failed"
	fi
}

# as_user USER CMD...: run a command as an unprivileged user with no supplementary groups.
as_user()
{
	local user=$1 group
	shift
	group=$(id -gn "$user")
	setpriv --reuid "$user" --regid "$group" --clear-groups -- "$@"
}

# build_as USER ARGS...: build as another user (root only).
build_as()
{
	local user=$1
	shift
	_build_args "$@"
	if ! as_user "$user" "$MKDISKIMAGE" build "${BUILD_ARGS[@]}" >"$T/build.out" 2>"$T/build.err"; then
		cat "$T/build.err" >&2
		fail "mkdiskimage build as $user ${BUILD_ARGS[*]} failed"
	fi
}

# part_geometry IMG N: print "START_SECTOR SECTORS" of partition N (from sfdisk --json).
part_geometry()
{
	sfdisk --json "$1" | python3 -c '
import json, sys
n = int(sys.argv[1])
pt = json.load(sys.stdin)["partitiontable"]
ss = pt.get("sectorsize", 512)
assert ss == 512, "sector size %d" % ss
for p in pt["partitions"]:
    if int(p["node"][len(sys.argv[2]):]) == n:
        print(p["start"], p["size"])
        break
else:
    sys.exit("no partition %d" % n)
' "$2" "$1"
}

# extract_partition IMG N OUT: copy partition N (1-based; 0 = the whole image, for layout
# "none") to OUT, keeping holes.
extract_partition()
{
	local img=$1 n=$2 out=$3 start size
	if [ "$n" -eq 0 ]; then
		cp --sparse=always "$img" "$out"
		return
	fi
	read -r start size < <(part_geometry "$img" "$n") || fail "$img: no partition $n"
	rm -f "$out"
	dd if="$img" of="$out" bs=1M iflag=skip_bytes,count_bytes skip=$((start * 512)) \
		count=$((size * 512)) conv=sparse status=none
	truncate -s $((size * 512)) "$out"
}

# loop_mount FILE DIR [OFFSET [SIZE]]: mount an ext4 image read-only (root only).
loop_mount()
{
	local file=$1 dir=$2 off=${3:-0} size=${4:-} opts
	opts=loop,ro,offset=$off
	[ -n "$size" ] && opts=$opts,sizelimit=$size
	mkdir -p "$dir"
	mount -t ext4 -o "$opts" "$file" "$dir" || fail "mount -o $opts $file failed"
	_MOUNTS+=("$dir")
}

# unmount DIR: undo loop_mount now.
unmount()
{
	local m keep=()
	umount "$1" || fail "umount $1 failed"
	for m in "${_MOUNTS[@]}"; do
		[ "$m" = "$1" ] || keep+=("$m")
	done
	_MOUNTS=("${keep[@]+"${keep[@]}"}")
}

# e2fsck_clean FILE: e2fsck -fn must exit 0 (and say nothing is wrong).
e2fsck_clean()
{
	local out
	if ! out=$(e2fsck -fn "$1" 2>&1); then
		printf '%s\n' "$out" | head -n 60 >&2
		fail "e2fsck -fn $1 is not clean"
	fi
}

# assert_reproducible ARGS...: two builds of the same arguments (from different working
# directories, with different output names) must be byte-identical.
assert_reproducible()
{
	local d=$T/repro
	rm -rf "$d"
	mkdir -p "$d/a" "$d/b"
	_build_args "$@"
	local args=("${BUILD_ARGS[@]}") i out=()
	# Drop an -o OUT the caller may have passed: we choose the outputs.
	for ((i = 0; i < ${#args[@]}; i++)); do
		if [ "${args[i]}" = -o ]; then
			i=$((i + 1))
			continue
		fi
		out+=("${args[i]}")
	done
	(cd "$d/a" && build "${out[@]}" -o "$d/a/one.img")
	(cd "$d/b" && build "${out[@]}" -o "$d/b/two.img")
	cmp "$d/a/one.img" "$d/b/two.img" || fail "two builds of ${out[*]} differ"
	rm -rf "$d"
}

# expect_fail "MESSAGE SUBSTRING" ARGS...: the build must exit non-zero with a one-line stderr
# containing the substring, and leave nothing (no output, no .NAME.XXXXXX temp) in the output
# directory. Without -o in ARGS, an output in a fresh empty directory is added.
expect_fail()
{
	local msg=$1 rc=0 outdir= i err
	shift
	[ -n "$msg" ] || fail "expect_fail: an empty expected message matches any error"
	local args=("$@")
	for ((i = 0; i < ${#args[@]}; i++)); do
		if [ "${args[i]}" = -o ] && [ $((i + 1)) -lt ${#args[@]} ]; then
			outdir=${args[i + 1]}
			[ -d "$outdir" ] || outdir=$(dirname "$outdir")
		fi
	done
	if [ -z "$outdir" ]; then
		outdir=$(mktemp -d "$T/fail.XXXXXX")
		chmod 777 "$outdir"
		args+=(-o "$outdir/nixos.img")
	fi
	local before
	before=$(ls -A "$outdir")
	"${EXPECT_FAIL_PREFIX[@]+"${EXPECT_FAIL_PREFIX[@]}"}" "$MKDISKIMAGE" build "${args[@]}" \
		>"$T/fail.out" 2>"$T/fail.err" || rc=$?
	err=$(cat "$T/fail.err")
	[ "$rc" -ne 0 ] || fail "build ${args[*]} succeeded; expected an error containing '$msg'"
	[ "$rc" -lt 128 ] || fail "build ${args[*]} died with signal $((rc - 128)): $err"
	[ -n "$err" ] || fail "build ${args[*]} failed (exit $rc) without a message"
	[ "$(printf '%s\n' "$err" | wc -l)" -eq 1 ] ||
		fail "build ${args[*]}: error is not one line: $err"
	[[ $err == *"$msg"* ]] || fail "build ${args[*]}: error '$err' does not contain '$msg'"
	[ "$(ls -A "$outdir")" = "$before" ] ||
		fail "build ${args[*]} left files behind: $(ls -A "$outdir")"
	log "ok: refused ($err)"
}

# manifest DIR: the per-path manifest of tests/data/manifest.sh.
manifest() { "$DATA/manifest.sh" "$@"; }

# debugfs_manifest IMG: the same manifest read from an ext4 image file with debugfs (no root).
debugfs_manifest() { "$DATA/debugfs-manifest.sh" "$@"; }

# compare_tree SRC PARTITION_FILE: the image's filesystem holds exactly SRC's tree — content,
# type, mode, owner, mtime (ns), symlink targets, devices, hard links, xattrs. Oracles:
# debugfs (always) and, as root, the kernel through a read-only loop mount.
compare_tree()
{
	local src=$1 img=$2 tag
	tag=$(basename "$img")
	manifest "$src" >"$T/$tag.src.manifest" || fail "manifest of $src failed"
	debugfs_manifest "$img" >"$T/$tag.debugfs.manifest" || fail "debugfs manifest of $img failed"
	_filter_lost_found "$src" <"$T/$tag.debugfs.manifest" >"$T/$tag.debugfs.filtered"
	diff -u "$T/$tag.src.manifest" "$T/$tag.debugfs.filtered" | head -n 80 >"$T/$tag.diff" || true
	[ ! -s "$T/$tag.diff" ] || { cat "$T/$tag.diff" >&2; fail "$img (debugfs) differs from $src"; }
	if can_loop_mount; then
		loop_mount "$img" "$T/$tag.mnt"
		manifest "$T/$tag.mnt" | _filter_lost_found "$src" >"$T/$tag.mnt.manifest"
		unmount "$T/$tag.mnt"
		diff -u "$T/$tag.src.manifest" "$T/$tag.mnt.manifest" | head -n 80 >"$T/$tag.diff" || true
		[ ! -s "$T/$tag.diff" ] || { cat "$T/$tag.diff" >&2; fail "$img (mounted) differs from $src"; }
	else
		skip_case "loop-mount comparison of $(basename "$img") (needs root and loop devices)"
	fi
}

# The image has /lost+found even when the source has none.
_filter_lost_found()
{
	if [ -e "$1/lost+found" ]; then
		cat
	else
		grep -v -e '^lost+found	' -e '^lost+found/'
	fi
}

# dumpe2fs_field FILE "Field name": one value from `dumpe2fs -h`.
dumpe2fs_field()
{
	dumpe2fs -h "$1" 2>/dev/null | sed -n "s/^$2:[[:space:]]*//p"
}

# user_free FS: bytes available to an unprivileged user, as df will report them.
user_free()
{
	local free reserved bsize blocks resv
	free=$(dumpe2fs_field "$1" 'Free blocks')
	reserved=$(dumpe2fs_field "$1" 'Reserved block count')
	bsize=$(dumpe2fs_field "$1" 'Block size')
	blocks=$(dumpe2fs_field "$1" 'Block count')
	resv=$((blocks / 50 < 4096 ? blocks / 50 : 4096))
	free=$((free - reserved - resv))
	echo $(((free < 0 ? 0 : free) * bsize)) # statfs clamps f_bavail at 0
}

# grub_bios_fixture: GRUB i386-pc ($grub_dir, GRUB_DIR overrides), a Debian cloud kernel ($kdir,
# $kernel) and the BIOS test initramfs ($T/initrd.gz, tests/boot/bios-initramfs.sh), or skip.
grub_bios_fixture()
{
	grub_dir=${GRUB_DIR:-/usr/lib/grub/i386-pc}
	[ -f "$grub_dir/boot.img" ] && [ -x "$grub_dir/../../../bin/grub-mkimage" ] ||
		skip "no GRUB i386-pc in $grub_dir (apt-get install grub-pc-bin)"
	kdir=$("$TESTS/boot/fetch-kernel.sh") || skip "no Debian cloud kernel (tests/boot/fetch-kernel.sh)"
	kernel=$(echo "$kdir"/boot/vmlinuz-*)
	[ -f "$kernel" ] || skip "no kernel in $kdir"
	"$TESTS/boot/bios-initramfs.sh" "$kdir" "$T/initrd.gz" || skip "cannot build the initramfs"
}

# boot_expect IMG NAME FIRMWARE REGEX: `mkdiskimage boot-test` (SeaBIOS or OVMF, TCG) must see
# REGEX on the serial console; the time is logged, never asserted.
boot_expect()
{
	local img=$1 name=$2 fw=$3 re=$4
	"$MKDISKIMAGE" boot-test "$img" --firmware "$fw" --expect-serial "$re" --timeout 150 \
		--json >"$T/$name.$fw.json" 2>"$T/$name.$fw.err" || {
		cat "$T/$name.$fw.json" "$T/$name.$fw.err" >&2
		fail "$name: $fw did not boot to /$re/"
	}
	log "$name: $fw booted to /$re/ in" \
		"$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["seconds"])' \
			"$T/$name.$fw.json") s (TCG)"
}

# assert_tables_kept IMG REF LAYOUT NAME: IMG's partition table passes sfdisk (legacy) or
# sgdisk -v, and its MBR bytes 440..511 and GPT sectors equal REF's (the same build without a
# bootloader in the gaps).
assert_tables_kept()
{
	local img=$1 ref=$2 layout=$3 name=$4
	if [ "$layout" = legacy ]; then
		sfdisk -d "$img" >/dev/null || fail "$name: sfdisk cannot read the table"
	else
		sgdisk -v "$img" | grep -q "No problems found" ||
			fail "$name: sgdisk -v: $(sgdisk -v "$img")"
		cmp <(dd if="$img" bs=512 skip=1 count=33 status=none) \
			<(dd if="$ref" bs=512 skip=1 count=33 status=none) ||
			fail "$name: primary GPT differs from $ref"
		cmp <(tail -c $((33 * 512)) "$img") <(tail -c $((33 * 512)) "$ref") ||
			fail "$name: backup GPT differs from $ref"
	fi
	cmp <(dd if="$img" bs=1 skip=440 count=72 status=none) \
		<(dd if="$ref" bs=1 skip=440 count=72 status=none) ||
		fail "$name: MBR bytes 440..511 differ from $ref"
}

# qemu_info FILE KEY: one field of `qemu-img info --output=json` (KEY may be dotted:
# format-specific.data.compression-type).
qemu_info()
{
	qemu-img info --output=json "$1" | python3 -c '
import json, sys
v = json.load(sys.stdin)
for k in sys.argv[1].split("."):
    v = v.get(k, {}) if isinstance(v, dict) else {}
print(v if v != {} else "")' "$2"
}

# qcheck FILE FORMAT RAW: qemu-img check clean (qcow2, vdi) and compare equal to RAW.
qcheck()
{
	local f=$1 fmt=$2 raw=$3
	if [ "$fmt" = qcow2 ] || [ "$fmt" = vdi ]; then
		qemu-img check -f "$fmt" "$f" >"$T/qcheck.out" 2>&1 ||
			{ cat "$T/qcheck.out" >&2; fail "qemu-img check $f is not clean"; }
	fi
	qemu-img compare -f raw -F "$fmt" "$raw" "$f" >/dev/null ||
		fail "$f: qemu-img compare says it differs from $raw"
}

# small_text_tree DIR: a few files, one of them compressible text (the flag tests' tree).
small_text_tree()
{
	local i
	mkdir -p "$1/etc" "$1/data"
	echo hello >"$1/etc/hello"
	seq 1 200000 >"$1/data/numbers.txt"
	for i in $(seq 1 300); do echo "line $i of a compressible text file, again and again"; done \
		>"$1/data/text.txt"
}

# build_interposer NAME: compile the LD_PRELOAD fault interposer tests/fault/NAME.c to
# $T/NAME.so (interpose: errors and delays; swap: a source changed at a chosen moment).
build_interposer()
{
	cc -shared -fPIC -O1 -o "$T/$1.so" "$TESTS/fault/$1.c" -ldl || fail "cannot compile tests/fault/$1.c"
	# under AddressSanitizer (make SANITIZE=1) the preloaded library comes before its runtime
	export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
}
