#!/usr/bin/env bash
# The command line's conventions (issue #13), for every subcommand:
#   entry points  --version, -V and `version` print "mkdiskimage VERSION" (the Makefile's: git
#                 describe, or RELEASE outside a git checkout); --help, -h, `help`, `help CMD`,
#                 `CMD --help` and `CMD -h` (help CMD is CMD --help); the usage lists all commands
#   mistakes      an unknown command or flag of any subcommand names the nearest valid one
#   exit status   2 for every usage error (one line on stderr), 1 for every other failure,
#                 0 for success: per subcommand
#   tables        every flag the completions offer for a command is one its parser takes, and
#                 shows in its --help and in the man page
#   convert       takes every format option of build (--compression-level too) with build's
#                 values and checks; qemu-img judges the result
# The man page, completions and `make install` are cli-docs.sh's.
# quick
. "$(dirname "$0")/../lib.sh"
require qemu-img

COMMANDS=(build inspect convert resize boot-test help version)

# expect_exit RC SUBSTRING ARGS...: mkdiskimage ARGS exits RC with one line on stderr holding
# SUBSTRING (empty: any) and, for a failure, nothing on stdout.
expect_exit()
{
	local want=$1 msg=$2 rc=0
	shift 2
	"$MKDISKIMAGE" "$@" >"$T/x.out" 2>"$T/x.err" </dev/null || rc=$?
	[ "$rc" = "$want" ] || fail "mkdiskimage $*: exit $rc, not $want: $(cat "$T/x.err")"
	[ "$want" = 0 ] && return 0
	[ "$(wc -l <"$T/x.err")" = 1 ] || fail "mkdiskimage $*: stderr is not one line: $(cat "$T/x.err")"
	[[ $(cat "$T/x.err") == *"$msg"* ]] ||
		fail "mkdiskimage $*: '$(cat "$T/x.err")' lacks '$msg'"
	[ ! -s "$T/x.out" ] || fail "mkdiskimage $*: failed but wrote to stdout: $(cat "$T/x.out")"
}

# --- version
v=$("$MKDISKIMAGE" --version)
[[ $v =~ ^mkdiskimage\ [^\ ]+$ ]] || fail "--version: '$v'"
[ "$("$MKDISKIMAGE" -V)" = "$v" ] || fail "-V differs from --version"
[ "$("$MKDISKIMAGE" version)" = "$v" ] || fail "version differs from --version"
expect_exit 2 "unexpected argument 'x'" version x
# outside a git checkout (a tarball, Nix's source) the Makefile's RELEASE, whatever is around it
release=$(sed -n 's/^RELEASE := //p' "$REPO/Makefile")
[ -n "$release" ] || fail "no RELEASE in the Makefile"
mkdir "$T/tarball"
# (a make of its own: under `make check` the inherited MAKEFLAGS/MAKELEVEL would add
# "Entering directory" lines)
got=$(cd "$T/tarball" && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL \
	make -s --no-print-directory -f "$REPO/Makefile" print-version 2>/dev/null)
[ "$got" = "$release" ] || fail "VERSION outside git: '$got', not RELEASE '$release'"
log "version: $v"

# --- help and usage: every command listed
"$MKDISKIMAGE" --help >"$T/main.help" || fail "--help failed"
"$MKDISKIMAGE" -h | cmp -s - "$T/main.help" || fail "-h differs from --help"
"$MKDISKIMAGE" help | cmp -s - "$T/main.help" || fail "help differs from --help"
for c in "${COMMANDS[@]}"; do
	grep -q "^  $c " "$T/main.help" || fail "--help does not list $c"
done
rc=0
"$MKDISKIMAGE" >/dev/null 2>"$T/none.err" || rc=$?
[ "$rc" = 2 ] && cmp -s "$T/none.err" "$T/main.help" || fail "no command: exit $rc, or not the usage"
for c in "${COMMANDS[@]}"; do
	"$MKDISKIMAGE" "$c" --help >"$T/$c.help" || fail "$c --help failed"
	head -n1 "$T/$c.help" | grep -q "^Usage: mkdiskimage $c" || fail "$c --help: $(head -n1 "$T/$c.help")"
	"$MKDISKIMAGE" "$c" -h | cmp -s - "$T/$c.help" || fail "$c -h differs from $c --help"
	"$MKDISKIMAGE" help "$c" | cmp -s - "$T/$c.help" || fail "help $c differs from $c --help"
done

# --- unknown commands and flags: the nearest valid one, exit 2
expect_exit 2 "unknown command 'biuld'; did you mean 'build'? (commands: build, inspect, convert, resize, boot-test, help and version)" biuld
expect_exit 2 "did you mean 'boot-test'" boot-tset
expect_exit 2 "unknown command 'frobnicate' (commands: build, inspect" frobnicate
expect_exit 2 "did you mean 'convert'" help cnvert
expect_exit 2 "unexpected argument" help build x
expect_exit 2 "unknown option --verison; did you mean --version?" --verison
expect_exit 2 "unknown option --partion-table; did you mean --partition-table? (see mkdiskimage build --help)" \
	build --partion-table efi -o "$T/x.img"
expect_exit 2 "unknown option --compresion-level; did you mean --compression-level?" \
	convert --compresion-level 3 a b
expect_exit 2 "unknown option --jsn; did you mean --json?" inspect --jsn x
expect_exit 2 "unknown option --timout; did you mean --timeout?" boot-test --timout 3 x
expect_exit 2 "unknown option --hlp; did you mean --help?" version --hlp
expect_exit 2 "unknown option --zzzzzzzz (see mkdiskimage inspect --help)" inspect --zzzzzzzz x
expect_exit 2 "--json takes no value" build --json=1 -o "$T/x.img"

# --- usage errors of every subcommand: exit 2
expect_exit 2 "--label needs a value" build --label
expect_exit 2 "--disk-size 12X" build --disk-size 12X -o "$T/x.img"
expect_exit 2 "unexpected argument" build -o "$T/x.img" extra.img
# the format options' values are checked as the flags are read
expect_exit 2 "--vmdk-subformat sparse: unknown (use monolithicSparse or streamOptimized)" \
	build --vmdk-subformat sparse -o "$T/x.img"
expect_exit 2 "--vhdx-block-size 3M: not a power of two from 1M to 256M" \
	build --vhdx-block-size 3M -o "$T/x.img"
expect_exit 2 "--compress lz4: unknown (use zstd, gzip, xz or none)" build --compress lz4 -o "$T/x.img"
expect_exit 2 "--vm-cpus 0: not a number of CPUs from 1 to 256" build --vm-cpus 0 -o "$T/x.img"
expect_exit 2 "--vm-memory 1.5M: not a memory size from 4M to 4T in whole MiB" \
	build --vm-memory 1.5M -o "$T/x.img"
expect_exit 2 "no output" build --label x
expect_exit 2 "unknown option -x" build -x
expect_exit 2 "convert takes IN and OUT" convert only-in.img
expect_exit 2 "--format qcow3: unknown" convert --format qcow3 a.img b.img
expect_exit 2 "cannot tell the output format" convert a.img b.foo
expect_exit 2 "--compression-level 99" convert --compression-level 99 a.img b.qcow2
expect_exit 2 "--compression-level applies to format raw, qcow2-compressed, vmdk, gce or ova, not vdi (remove it or use --format qcow2-compressed)" \
	convert --compression-level 5 a.img b.vdi
expect_exit 2 "--compression-level 13: deflate levels go from 1 to 12 (22 is zstd's highest: use --compression zstd)" convert --compression-level 13 --compression deflate a.img b.qcow2
expect_exit 2 "--threads needs a value" convert a.img b.img --threads
expect_exit 2 "inspect takes exactly one IMAGE" inspect
expect_exit 2 "resize takes IMAGE and SIZE" resize a.img
expect_exit 2 "SIZE '12Q' is not a size" resize a.img 12Q
expect_exit 2 "--partition 'x': give a partition number" resize --partition x a.img +1G
expect_exit 2 "unknown option --partiton; did you mean --partition?" resize --partiton 2 a.img 1G
expect_exit 2 "inspect takes exactly one IMAGE" inspect a.img b.img
expect_exit 2 "boot-test takes one IMAGE" boot-test
expect_exit 2 "--firmware floppy" boot-test --firmware floppy x.img
expect_exit 2 "--timeout 0" boot-test --timeout 0 x.img
[ ! -e "$T/x.img" ] || fail "a usage error left $T/x.img"

# --- failures: exit 1
echo '{' >"$T/broken.json"
expect_exit 1 "broken.json" build --spec "$T/broken.json" -o "$T/x.img"
expect_exit 1 "nonexistent.json" build --spec "$T/nonexistent.json" -o "$T/x.img"
expect_exit 1 "does not exist" build --root "$T/nonexistent" -o "$T/x.img"
echo "just some text" >"$T/text.txt"
expect_exit 1 "text.txt: not a disk image we know" inspect "$T/text.txt"
expect_exit 1 "text.txt: not a disk image we know" inspect --json "$T/text.txt"
expect_exit 1 "cannot open" inspect "$T/nonexistent.img"
expect_exit 1 "cannot open" convert "$T/nonexistent.img" "$T/y.qcow2"
expect_exit 1 "cannot open" resize "$T/nonexistent.img" +1G
expect_exit 1 "cannot open" boot-test "$T/nonexistent.img"
[ ! -e "$T/x.img" ] && [ ! -e "$T/y.qcow2" ] || fail "a failure left an output"
log "usage errors exit 2, failures 1, each with one line"

# --- the tables: every flag the bash completion offers for a command is one its parser takes
# (never "unknown option"), and its --help names it
. "$(dirname "$MKDISKIMAGE")/completions/mkdiskimage.bash" ||
	fail "no completions next to $MKDISKIMAGE (make docs)"
comp() { COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMPREPLY=(); _mkdiskimage; }
# (build's parser and table are both spec/options.c's: every 8th of its flags is run, which keeps
# this cheap under the sanitizers)
n=0 ran=0
for c in "${COMMANDS[@]}"; do
	comp mkdiskimage "$c" --
	[ "${#COMPREPLY[@]}" -gt 0 ] || fail "no flags completed for $c"
	i=0
	for f in "${COMPREPLY[@]}"; do
		n=$((n + 1)) i=$((i + 1))
		grep -qE -- "$f([^a-z0-9-]|\$)" "$T/$c.help" || fail "$c --help lacks $f"
		[ "$c" != build ] || [ $((i % 8)) = 1 ] || continue
		ran=$((ran + 1))
		"$MKDISKIMAGE" "$c" "$f" </dev/null >/dev/null 2>"$T/f.err" || true
		! grep -q "unknown option" "$T/f.err" || fail "$c takes no $f: $(cat "$T/f.err")"
	done
done
[ "$n" -ge 70 ] || fail "only $n flags completed"
log "$n flags, each in its command's --help; $ran of them run: each taken by its parser"

# --- convert: build's format options (the same table entries) with build's values
for f in format cluster-size compression compression-level threads vpc-subformat; do
	grep -q -- "--$f " "$T/convert.help" || fail "convert --help lacks --$f"
	grep -q -- "--$f " "$T/build.help" || fail "build --help lacks --$f"
done
small_text_tree "$T/root"
build --root "$T/root" --additional-space 4M --partition-table efi --boot-size 16M -o "$T/raw.img"
declare -A size=()
# as qemu-img -c, a compression level makes a .qcow2 output compressed (deflate by default)
for lvl in 1 12; do
	"$MKDISKIMAGE" convert --compression-level "$lvl" "$T/raw.img" "$T/l$lvl.qcow2" ||
		fail "convert --compression-level $lvl failed"
	qcheck "$T/l$lvl.qcow2" qcow2 "$T/raw.img"
	qemu-img info "$T/l$lvl.qcow2" | grep -q "compression type: zlib" || fail "l$lvl: not deflate"
	size[$lvl]=$(stat -c %s "$T/l$lvl.qcow2")
done
"$MKDISKIMAGE" convert "$T/raw.img" "$T/plain.qcow2" || fail "convert to qcow2 failed"
[ "${size[1]}" -lt "$(stat -c %s "$T/plain.qcow2")" ] ||
	fail "convert --compression-level 1 (${size[1]}) is not smaller than plain qcow2"
[ "${size[12]}" -lt "${size[1]}" ] || fail "convert --compression-level 12 (${size[12]}) is not smaller than 1 (${size[1]})"
"$MKDISKIMAGE" convert --compression zstd --compression-level 19 --threads 2 "$T/raw.img" \
	"$T/z.qcow2" || fail "convert --compression zstd --compression-level 19 failed"
qcheck "$T/z.qcow2" qcow2 "$T/raw.img"
qemu-img info "$T/z.qcow2" | grep -q "compression type: zstd" || fail "z.qcow2: not zstd"
log "convert --compression-level: 1 ${size[1]} bytes, 12 ${size[12]} bytes; zstd 19 checked"
log "ok"
