#!/usr/bin/env bash
# VMDK, both subformats (docs/formats/vmdk.md), judged by qemu-img: `check` clean, `compare`
# with the raw build identical, `info` says vmdk and the create type; `inspect` reads them;
# convert vmdk → raw and raw → vmdk round trips; two builds (and --threads 1 and 3) are
# byte-identical; qemu-img's own vmdk files (both subformats) convert to the same raw bytes;
# truncated or damaged files fail with one line and no output file.
# quick
. "$(dirname "$0")/../lib.sh"
require qemu-img python3

small_text_tree "$T/root"
head -c 200000 /dev/urandom >"$T/root/data/random.bin"
base=(--root "$T/root" --additional-space 2M --partition-table efi)

build "${base[@]}" -o "$T/disk.img"
raw=$T/disk.img

# subformat flags, qemu's create type
for v in "|monolithicSparse" "--vmdk-subformat streamOptimized|streamOptimized"; do
	read -r -a flags <<<"${v%%|*}"
	ct=${v#*|}
	out=$T/$ct.vmdk
	# the format from the extension; streamOptimized also by name
	build "${base[@]}" "${flags[@]}" -o "$out"
	qemu-img check -f vmdk "$out" >"$T/check.out" 2>&1 ||
		{ cat "$T/check.out" >&2; fail "$ct: qemu-img check is not clean"; }
	qemu-img compare -f raw -F vmdk "$raw" "$out" >"$T/cmp.out" 2>&1 ||
		{ cat "$T/cmp.out" >&2; fail "$ct: differs from the raw build"; }
	[ "$(qemu_info "$out" format)" = vmdk ] || fail "$ct: qemu-img info: not vmdk"
	got=$(qemu_info "$out" format-specific.data.create-type)
	[ "$got" = "$ct" ] || fail "$ct: qemu-img info says create type '$got'"
	[ "$(qemu_info "$out" virtual-size)" = "$(stat -c %s "$raw")" ] ||
		fail "$ct: virtual size differs from the raw image's"
	# the extent line names the file
	grep -aq "^RW [0-9]* SPARSE \"$ct.vmdk\"$" "$out" || fail "$ct: no extent line for $ct.vmdk"

	"$MKDISKIMAGE" inspect "$out" >"$T/inspect.out" 2>&1 ||
		{ cat "$T/inspect.out" >&2; fail "$ct: inspect failed"; }
	grep -q "format vmdk" "$T/inspect.out" || fail "$ct: inspect does not say vmdk"
	grep -q "ESP" "$T/inspect.out" || fail "$ct: inspect finds no ESP: $(cat "$T/inspect.out")"

	# the same build again, elsewhere, with another thread count: the same bytes
	mkdir -p "$T/again"
	build "${base[@]}" --format vmdk "${flags[@]}" --threads 3 -o "$T/again/$ct.vmdk"
	cmp "$out" "$T/again/$ct.vmdk" || fail "$ct: a second build differs"

	# convert: vmdk → raw is the raw build; raw → vmdk is the build's file
	"$MKDISKIMAGE" convert --no-progress "$out" "$T/back.img" || fail "$ct: convert to raw"
	cmp "$raw" "$T/back.img" || fail "$ct: convert to raw differs from the raw build"
	mkdir -p "$T/conv"
	"$MKDISKIMAGE" convert --no-progress --input-format raw "${flags[@]}" --threads 1 \
		"$raw" "$T/conv/$ct.vmdk" || fail "$ct: convert raw to vmdk"
	qemu-img compare -f raw -F vmdk "$raw" "$T/conv/$ct.vmdk" >/dev/null ||
		fail "$ct: convert raw → vmdk differs"
	[ "$(qemu_info "$T/conv/$ct.vmdk" format-specific.data.create-type)" = "$ct" ] ||
		fail "$ct: convert wrote another create type"

	# reader interop: qemu-img's own vmdk
	qsub=$ct
	qemu-img convert -f raw -O vmdk -o subformat="$qsub" "$raw" "$T/q-$ct.vmdk"
	"$MKDISKIMAGE" convert --no-progress "$T/q-$ct.vmdk" "$T/q-back.img" ||
		fail "$ct: cannot read qemu-img's vmdk"
	cmp "$raw" "$T/q-back.img" || fail "$ct: qemu-img's vmdk reads differently"
	rm -f "$T/back.img" "$T/q-back.img"
done

# monolithicSparse is laid out as qemu-img lays it out: the same bytes but for the CID and the
# file name in the descriptor
python3 - "$T/monolithicSparse.vmdk" "$T/q-monolithicSparse.vmdk" <<'EOF' ||
import re, sys
a, b = (open(p, "rb").read() for p in sys.argv[1:3])
desc = lambda x: re.sub(rb'"[^"\n]*\.vmdk"', b'"x"',
                        re.sub(rb"\nCID=[0-9a-f]+\n", b"\n", x[512:512 * 21].rstrip(b"\0")))
same = a[:512] == b[:512] and a[512 * 21:] == b[512 * 21:] and desc(a) == desc(b)
sys.exit(0 if same else 1)
EOF
	fail "monolithicSparse: not laid out as qemu-img's"

# damaged files: one line, exit 1, no output
s=$T/streamOptimized.vmdk
head -c $(($(stat -c %s "$s") - 512)) "$s" >"$T/trunc.vmdk"
cp "$T/monolithicSparse.vmdk" "$T/badver.vmdk"
printf '\x09' | dd of="$T/badver.vmdk" bs=1 seek=4 conv=notrunc 2>/dev/null
for bad in trunc badver; do
	if "$MKDISKIMAGE" convert --no-progress "$T/$bad.vmdk" "$T/$bad.img" 2>"$T/err"; then
		fail "$bad.vmdk: convert succeeded"
	fi
	[ "$(wc -l <"$T/err")" -eq 1 ] || fail "$bad.vmdk: not one line: $(cat "$T/err")"
	grep -q "$bad.vmdk" "$T/err" || fail "$bad.vmdk: the message does not name the file"
	[ ! -e "$T/$bad.img" ] || fail "$bad.vmdk: an output file remains"
done
grep -q "version 9" "$T/err" || fail "badver: $(cat "$T/err")"
