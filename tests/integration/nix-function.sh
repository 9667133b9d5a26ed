#!/usr/bin/env bash
# The Nix function (issue #5): nix/make-disk-image.nix called by tests/nix/minimal.nix (a
# minimal pkgs/lib/config from Nix builtins) and built with real nix-build (Debian's nix-bin,
# root, no daemon, offline). The outputs are where make-disk-image puts them ($out/nixos.<ext>,
# nix-support/hydra-build-products, efi-vars.fd, postVM ran) in raw, qcow2, qcow2-compressed and
# vpc; the image is e2fsck-clean, real Nix verifies the store inside it, the profiles,
# configuration.nix, channel and contents owners are nixos-install's; onlyNixStore; the root
# partition type follows hostPlatform; installBootLoader installs the configuration's
# systemd-boot or GRUB, the systemd-boot image boots under OVMF (efi-vars.fd read by
# tests/efivars-reader.sh) and the GRUB image under SeaBIOS; `nix-build --check`
# rebuilds to identical bytes, also under the sandbox; the tool's refusals fail the build. The
# flake (nixpkgs faked) and package.nix give the same tool and function.
. "$(dirname "$0")/../lib.sh"
nix_store_lock
. "$TESTS/efivars-reader.sh"
require nix-build nix-instantiate nix-store jq e2fsck debugfs blkid qemu-img sfdisk fsck.fat mtype
is_root || skip "needs root (nix-build without a daemon writes /nix/store)"

export NIX_REMOTE=
export NIX_CONFIG=$'sandbox = false\nbuild-users-group =\nsubstituters =
experimental-features = nix-command'
MIN=$REPO/tests/nix/minimal.nix
# one binary for every build here, whatever `make` does to $MKDISKIMAGE meanwhile
cp "$MKDISKIMAGE" "$T/mkdiskimage"
MKDISKIMAGE=$T/mkdiskimage
PROBE=$REPO/tests/nix/probe.nix

# Syntax: the flake cannot be evaluated offline (it needs nixpkgs), so parse only.
for f in flake.nix nix/package.nix nix/make-disk-image.nix tests/nix/minimal.nix \
	tests/nix/package-eval.nix tests/nix/probe.nix; do
	nix-instantiate --parse "$REPO/$f" >/dev/null 2>"$T/parse.err" ||
		fail "$f does not parse: $(head -n 3 "$T/parse.err")"
done
# make-disk-image's exact arguments (nixpkgs' list, plus baseName and our mkdiskimage); only
# pkgs, lib and config lack a default.
want=(OVMF:1 additionalPaths:1 additionalSpace:1 baseName:1 bootSize:1 config:0 configFile:1
	contents:1 copyChannel:1 deterministic:1 diskSize:1 efiFirmware:1 efiVariables:1 extraSpec:1 format:1
	fsType:1 installBootLoader:1 label:1 lib:0 memSize:1 mkdiskimage:1 name:1 onlyNixStore:1
	partitionTableType:1 pkgs:0 populateRootWith:1 postVM:1 reproducible:1 rootFSHashSeed:1
	rootFSUID:1 rootGPUID:1 touchEFIVars:1)
got=$(nix-instantiate --eval --strict --json \
	-E "builtins.functionArgs (import $REPO/nix/make-disk-image.nix)" |
	jq -r 'to_entries | map("\(.key):\(if .value then 1 else 0 end)") | join(" ")')
[ "$got" = "${want[*]}" ] || fail "arguments differ from make-disk-image's: $got"

# package.nix with a stand-in stdenv: the Makefile's inputs, its install, a source without
# build outputs.
pkg=$(nix-instantiate --eval --read-write-mode --strict --json "$REPO/tests/nix/package-eval.nix" \
	2>"$T/pkg.err") ||
	fail "package.nix: $(head -n 3 "$T/pkg.err")"
src_shape=$(jq -c '[.hasMakefile, .hasSources, .hasBuild, .hasCache]' <<<"$pkg")
[ "$src_shape" = '[true,true,false,false]' ] ||
	fail "package.nix source: $pkg"
# buildInputs: the Makefile's pkg-config modules, by their nixpkgs names
want=$(sed -n 's/^PKGS := //p' "$REPO/Makefile" | tr ' ' '\n' |
	sed 's/^libzstd$/zstd/; s/^sqlite3$/sqlite/; s/^liblzma$/xz/; s/^liblz4$/lz4/' | sort | tr '\n' ' ')
got=$(jq -r '.buildInputs[]' <<<"$pkg" | sort | tr '\n' ' ')
[ "$got" = "$want" ] || fail "package.nix buildInputs ($got) are not the Makefile's PKGS ($want)"
jq -r .installPhase <<<"$pkg" | grep -qxF "make install PREFIX=\$out" ||
	fail "package.nix installPhase (make install: binary, man page, completions): $pkg"

# Environment: real Nix must build a trivial /bin/sh derivation here, or this test cannot run.
if ! nix-build --no-out-link "$PROBE" >"$T/probe.out" 2>"$T/probe.err"; then
	tail -n 3 "$T/probe.err" >&2
	skip "nix-build cannot build a trivial derivation here"
fi

# The flake (its nixpkgs input faked, tests/nix/minimal.nix): packages.<system>.default and the
# overlay's pkgs.mkdiskimage are nix/package.nix; lib.makeDiskImage and make-disk-image.nix with
# the overlay give the very derivation a direct import gives.
drvs=()
for via in import flake overlay; do
	drvs+=("$(nix-instantiate "$MIN" --arg mkdiskimage "$MKDISKIMAGE" --argstr via "$via" \
		2>"$T/via.err")") || fail "via $via: $(tail -n 3 "$T/via.err")"
done
[ "${drvs[0]}" = "${drvs[1]}" ] && [ "${drvs[0]}" = "${drvs[2]}" ] ||
	fail "the flake's lib.makeDiskImage or overlay gives another derivation: ${drvs[*]}"

# nixbuild OUTVAR ARGS...: nix-build the minimal expression with this mkdiskimage; fails the test
# (the environment works, so a failure is ours).
nixbuild()
{
	local var=$1 out
	shift
	if ! out=$(nix-build --no-out-link "$MIN" --arg mkdiskimage "$MKDISKIMAGE" "$@" \
		2>"$T/nix.err"); then
		tail -n 15 "$T/nix.err" >&2
		fail "nix-build $* failed"
	fi
	printf -v "$var" '%s' "$out"
}

# check_outputs OUT EXT FORMAT [efivars]: make-disk-image's outputs.
check_outputs()
{
	local out=$1 ext=$2 fmt=$3 efivars=${4:-}
	[ -f "$out/nixos.$ext" ] || fail "$out/nixos.$ext missing"
	[ "$(cat "$out/nix-support/hydra-build-products")" = "file $fmt-image $out/nixos.$ext" ] ||
		fail "hydra-build-products: $(cat "$out/nix-support/hydra-build-products")"
	[ "$(cat "$out/postvm.txt")" = "postVM ran on $out/nixos.$ext" ] || fail "postVM did not run"
	if [ -n "$efivars" ]; then
		[ -f "$out/efi-vars.fd" ] || fail "touchEFIVars: no $out/efi-vars.fd"
	else
		[ ! -e "$out/efi-vars.fd" ] || fail "efi-vars.fd without touchEFIVars"
	fi
}

# top_level FS: the names in an ext4 filesystem's root directory, but lost+found.
top_level()
{
	debugfs -R 'ls -p /' "$1" 2>/dev/null | cut -d/ -f6 | grep -v '^\(\.\|\.\.\|lost+found\|\)$' | sort
}

# rootfs IMG PART DIR: the root filesystem's files under DIR, through debugfs (no mount).
rootfs()
{
	local img=$1 part=$2 dir=$3 e
	extract_partition "$img" "$part" "$T/part.ext4"
	e2fsck_clean "$T/part.ext4"
	mkdir -p "$dir"
	for e in $(top_level "$T/part.ext4"); do
		debugfs -R "rdump /$e $dir" "$T/part.ext4" >/dev/null 2>"$T/rdump.err"
		if grep -qv '^debugfs [0-9.]* (' "$T/rdump.err"; then
			fail "debugfs rdump /$e: $(head -n 2 "$T/rdump.err")"
		fi
		[ -e "$dir/$e" ] || [ -L "$dir/$e" ] || fail "debugfs rdump /$e gave nothing"
	done
	rm -f "$T/part.ext4"
}

# check_store DIR CLOSUREINFO: real Nix accepts the store under DIR.
check_store()
{
	local r=$1 ci=$2 out
	out=$(nix-store --store "local?root=$r" --verify --check-contents 2>&1) ||
		fail "nix-store --verify --check-contents: $out"
	local quiet='^(reading the Nix store|checking path existence|checking (link|store) hashes)\.\.\.$'
	if grep -Eiv "$quiet" <<<"$out" | grep -q .; then
		fail "nix-store --verify reports: $out"
	fi
	rm -rf "$T/ref"
	mkdir -p "$T/ref"
	nix-store --store "local?root=$T/ref" --load-db <"$ci/registration"
	diff -u <(nix-store --store "local?root=$T/ref" --dump-db) \
		<(nix-store --store "local?root=$r" --dump-db) >&2 ||
		fail "--dump-db differs from the closure info's registration"
}

# raw, legacy: the full NixOS layout
nixbuild OUT
nixbuild CI -A closureInfo
check_outputs "$OUT" img raw
TOPLEVEL=$(grep -- '-nixos-system-minimal-24.11$' "$CI/store-paths") || fail "no toplevel"
CHANNEL=$(grep -- '-nixos-24.11$' "$CI/store-paths") || fail "no channel in the closure"
EXTRA=$(grep -- '-extra$' "$CI/store-paths") || fail "additionalPaths not in the closure"
[ "$(sfdisk -J "$OUT/nixos.img" | jq -r '.partitiontable.label')" = dos ] || fail "not MBR (legacy)"
rootfs "$OUT/nixos.img" 1 "$T/root"
check_store "$T/root" "$CI"
r=$T/root
[ "$(readlink "$r/nix/var/nix/profiles/system")" = system-1-link ] || fail "system profile"
[ "$(readlink "$r/nix/var/nix/profiles/system-1-link")" = "$TOPLEVEL" ] || fail "system-1-link"
[ -f "$r/etc/NIXOS" ] || fail "/etc/NIXOS missing"
grep -q 'grub.enable = false' "$r/etc/nixos/configuration.nix" || fail "configuration.nix"
[ "$(readlink "$r/nix/var/nix/profiles/per-user/root/channels-1-link")" = "$CHANNEL" ] ||
	fail "channels profile"
[ "$(cat "$r$CHANNEL/nixos/.version-suffix")" = .minimal ] || fail "channel .version-suffix"
[ "$(readlink "$r$CHANNEL/nixos/nixpkgs")" = . ] || fail "channel nixos/nixpkgs link"
[ -f "$r$EXTRA/data" ] || fail "additional path missing"
[ "$(cat "$r/etc/motd")" = "hello from make-disk-image" ] || fail "contents /etc/motd"
[ "$(stat -c '%u:%g %a' "$r/etc/motd")" = "0:0 644" ] || fail "contents /etc/motd metadata"
[ "$(stat -c '%u:%g %a' "$r/srv/www")" = "60:61 750" ] ||
	fail "contents owner (users.users.nginx.uid:users.groups.nginx.gid): $(stat -c %u:%g "$r/srv/www")"
[ ! -e "$r/etc/passwd" ] || fail "the generated passwd must not land in the image"
rm -rf "$r"
log "ok: raw legacy ($(stat -c %s "$OUT/nixos.img") bytes)"

# qcow2, efi: same filesystem content, make-disk-image's file name and product line
nixbuild OUTQ --argstr format qcow2 --argstr partitionTableType efi
check_outputs "$OUTQ" qcow2 qcow2
qemu-img check -q "$OUTQ/nixos.qcow2" || fail "qemu-img check"
qemu-img convert -f qcow2 -O raw "$OUTQ/nixos.qcow2" "$T/q.img"
[ "$(sfdisk -J "$T/q.img" | jq -r '.partitiontable.label')" = gpt ] || fail "not GPT (efi)"
rootfs "$T/q.img" 2 "$T/rootq"
check_store "$T/rootq" "$CI"
rm -rf "$T/rootq" "$T/q.img"
log "ok: qcow2 efi"

# onlyNixStore: the store paths at the filesystem root, label nix-store
nixbuild OUTS --arg onlyNixStore true --argstr partitionTableType none
check_outputs "$OUTS" img raw
[ "$(blkid -o value -s LABEL "$OUTS/nixos.img")" = nix-store ] || fail "onlyNixStore label"
nixbuild CIS --arg onlyNixStore true --argstr partitionTableType none -A closureInfo
e2fsck_clean "$OUTS/nixos.img"
diff -u <(sed 's|^/nix/store/||' "$CIS/store-paths" | sort) \
	<(top_level "$OUTS/nixos.img") >&2 ||
	fail "onlyNixStore: the top level is not exactly the store paths"
log "ok: onlyNixStore"

# vpc with a fixed size and another base name: nixos.vhd becomes disk.vhd, "vpc-image"
nixbuild OUTV --argstr format vpc --arg extraArgs '{ diskSize = 64; baseName = "disk"; }'
[ -f "$OUTV/disk.vhd" ] || fail "baseName: $OUTV/disk.vhd missing"
[ "$(cat "$OUTV/nix-support/hydra-build-products")" = "file vpc-image $OUTV/disk.vhd" ] ||
	fail "vpc hydra-build-products: $(cat "$OUTV/nix-support/hydra-build-products")"
[ "$(qemu-img info --output=json "$OUTV/disk.vhd" | jq -r '.format')" = vpc ] || fail "not VHD"
# diskSize is MiB; VHD's geometry may round it up a little, never down
vsize=$(qemu-img info --output=json "$OUTV/disk.vhd" | jq -r '."virtual-size"')
if [ "$vsize" -lt $((64 * MIB)) ] || [ "$vsize" -ge $((65 * MIB)) ]; then
	fail "diskSize = 64: $vsize bytes"
fi
log "ok: vpc, diskSize, baseName"

# qcow2-compressed: still nixos.qcow2 and "qcow2-image", with compressed clusters
nixbuild OUTC --argstr format qcow2-compressed
check_outputs "$OUTC" qcow2 qcow2
qemu-img check -q "$OUTC/nixos.qcow2" || fail "qcow2-compressed: qemu-img check"
qemu-img compare -q "$OUT/nixos.img" "$OUTC/nixos.qcow2" ||
	fail "qcow2-compressed holds other bytes than raw"
[ "$(stat -c %s "$OUTC/nixos.qcow2")" -lt "$(stat -c %s "$OUTQ/nixos.qcow2")" ] ||
	fail "qcow2-compressed is not smaller than qcow2"
log "ok: qcow2-compressed"

# The root partition type is the image's architecture (pkgs.stdenv.hostPlatform), not the
# builder's.
nixbuild OUTA --argstr partitionTableType efi --argstr hostSystem aarch64-linux
[ "$(sfdisk -J "$OUTA/nixos.img" | jq -r '.partitiontable.partitions[1].type')" = \
	"$TYPE_ROOT_AARCH64" ] || fail "aarch64-linux: root partition type is not aarch64's"
nixbuild OUTX --argstr partitionTableType efi --argstr hostSystem x86_64-linux
[ "$(sfdisk -J "$OUTX/nixos.img" | jq -r '.partitiontable.partitions[1].type')" = \
	"$TYPE_ROOT_X86_64" ] || fail "x86_64-linux: root partition type is not x86-64's"
log "ok: root partition type from hostPlatform"

# Under the sandbox, as nixpkgs builds it: the builder sees only its inputs' closures, so the
# store paths must come in through closureInfo's references (host tools are let in).
sandbox_conf=$'\nsandbox = true\nextra-sandbox-paths = /bin /usr /lib /lib64'
touch "$T/outside" # a sandboxed builder cannot see it
if NIX_CONFIG=$NIX_CONFIG$sandbox_conf nix-build --no-out-link "$PROBE" \
	--argstr hidden "$T/outside" \
	>/dev/null 2>"$T/sbprobe.err"; then
	NIX_CONFIG=$NIX_CONFIG$sandbox_conf nix-build --no-out-link --check "$MIN" \
		--arg mkdiskimage "$MKDISKIMAGE" >/dev/null 2>"$T/sandbox.err" ||
		fail "sandboxed rebuild: $(tail -n 5 "$T/sandbox.err")"
	log "ok: sandboxed rebuild gives the same bytes"
else
	skip_case "sandboxed rebuild (no sandbox here: $(tail -n 1 "$T/sbprobe.err"))"
fi

# Determinism: nix-build --check rebuilds and compares the outputs bit for bit.
for args in "" "--argstr format qcow2 --argstr partitionTableType efi"; do
	# shellcheck disable=SC2086
	nix-build --no-out-link --check "$MIN" --arg mkdiskimage "$MKDISKIMAGE" $args \
		>/dev/null 2>"$T/check.err" ||
		fail "nix-build --check $args: $(grep -i determin "$T/check.err" | head -n 2)"
done
log "ok: nix-build --check"

# What the tool cannot do it refuses, and the build fails with its one-line message.
if nix-build --no-out-link "$MIN" --arg mkdiskimage "$MKDISKIMAGE" --argstr fsType xfs \
	--argstr partitionTableType none >/dev/null 2>"$T/fs.err"; then
	fail "fsType = xfs built an image"
fi
grep -q 'mkdiskimage: error: fsType "xfs" is not supported' "$T/fs.err" ||
	fail "fsType = xfs: $(tail -n 2 "$T/fs.err")"
# Booting the images below needs Debian's cloud kernel, tests/boot's initramfs and QEMU.
boot_skip=""
command -v qemu-system-x86_64 >/dev/null || boot_skip="no qemu-system-x86_64"
[ -n "$boot_skip" ] || [ "$(uname -m)" = x86_64 ] || boot_skip="not x86-64"
[ -n "$boot_skip" ] || KDIR=$("$TESTS/boot/fetch-kernel.sh") || boot_skip="no Debian kernel"
if [ -z "$boot_skip" ]; then
	rc=0
	"$TESTS/boot/make-initramfs.sh" "$KDIR" "$T/initrd" || rc=$?
	[ "$rc" -eq 77 ] && boot_skip="no busybox-static"
	[ "$rc" -eq 0 ] || [ "$rc" -eq 77 ] || fail "make-initramfs.sh failed"
fi
# installBootLoader = true installs the loader the configuration enables, natively.
if [ -f /usr/lib/systemd/boot/efi/systemd-bootx64.efi ]; then
	nixbuild OUTB --argstr partitionTableType efi --argstr bootLoader systemd-boot \
		--arg installBootLoader true
	check_outputs "$OUTB" img raw
	extract_partition "$OUTB/nixos.img" 1 "$T/esp.fat"
	fsck.fat -n "$T/esp.fat" >"$T/fsck.out" 2>&1 || fail "fsck.fat -n: $(tail -n 3 "$T/fsck.out")"
	MTOOLS_SKIP_CHECK=1 mtype -i "$T/esp.fat" ::/EFI/BOOT/BOOTX64.EFI |
		cmp - /usr/lib/systemd/boot/efi/systemd-bootx64.efi || fail "ESP: BOOTX64.EFI"
	MTOOLS_SKIP_CHECK=1 mtype -i "$T/esp.fat" ::/loader/entries/nixos-generation-1.conf \
		>"$T/entry.conf" || fail "ESP: no loader/entries/nixos-generation-1.conf"
	grep -q "init=$TOPLEVEL/init" "$T/entry.conf" || fail "boot entry: $(cat "$T/entry.conf")"
	rm -f "$T/esp.fat"
	log "ok: installBootLoader with boot.loader.systemd-boot.enable"
else
	skip_case "installBootLoader with systemd-boot (needs systemd-boot-efi)"
fi
# GRUB: SeaBIOS boots the image through GRUB to the toplevel's kernel and initramfs, which
# prints the marker from the root it mounted by label.
if [ -d /usr/lib/grub/i386-pc ] && [ -x /usr/bin/grub-mkimage ]; then
	kargs=()
	[ -n "$boot_skip" ] || kargs=(--argstr kernel "$(ls "$KDIR"/boot/vmlinuz-* | head -n 1)"
		--argstr initrd "$T/initrd" --argstr marker nix-function-grub)
	nixbuild OUTG --argstr bootLoader grub --arg installBootLoader true "${kargs[@]}"
	nixbuild CIG --argstr bootLoader grub --arg installBootLoader true "${kargs[@]}" -A closureInfo
	TOPLEVEL_G=$(grep -- '-nixos-system-minimal-24.11$' "$CIG/store-paths") ||
		fail "GRUB: no toplevel"
	check_outputs "$OUTG" img raw
	extract_partition "$OUTG/nixos.img" 1 "$T/grub.ext4"
	e2fsck_clean "$T/grub.ext4"
	debugfs -R 'cat /boot/grub/grub.cfg' "$T/grub.ext4" 2>/dev/null >"$T/grub.cfg"
	grep -q "init=$TOPLEVEL_G/init" "$T/grub.cfg" ||
		fail "grub.cfg does not boot the toplevel: $(cat "$T/grub.cfg")"
	rm -f "$T/grub.ext4"
	if [ -z "$boot_skip" ]; then
		out=$("$MKDISKIMAGE" boot-test "$OUTG/nixos.img" --firmware bios \
			--expect-serial "MKDISKIMAGE-BOOT-OK nix-function-grub" --timeout 240 2>&1) ||
			fail "GRUB image: boot-test --firmware bios: $out"
		log "ok: SeaBIOS boots the function's GRUB image ($(head -n 1 <<<"$out"))"
	else
		skip_case "booting the GRUB image ($boot_skip)"
	fi
	log "ok: installBootLoader with boot.loader.grub (grubDir from boot.loader.grub.package)"
else
	skip_case "installBootLoader with GRUB (needs grub-pc-bin)"
fi
# generic-extlinux-compatible: /boot/extlinux/extlinux.conf on the root, as the module's builder
# writes it (the kernel and initrd referenced at their store paths in the image); booted by
# U-Boot in boot-extlinux.sh.
nixbuild OUTX --argstr bootLoader generic-extlinux-compatible --arg installBootLoader true
nixbuild CIX --argstr bootLoader generic-extlinux-compatible --arg installBootLoader true \
	-A closureInfo
TOPLEVEL_X=$(grep -- '-nixos-system-minimal-24.11$' "$CIX/store-paths") || fail "extlinux: no toplevel"
check_outputs "$OUTX" img raw
extract_partition "$OUTX/nixos.img" 1 "$T/x.ext4"
e2fsck_clean "$T/x.ext4"
debugfs -R 'cat /boot/extlinux/extlinux.conf' "$T/x.ext4" 2>/dev/null >"$T/extlinux.conf"
for want in "DEFAULT nixos-default" "TIMEOUT 50" "LABEL nixos-default" \
	"  LINUX $(readlink -f "$TOPLEVEL_X/kernel")" "  APPEND init=$TOPLEVEL_X/init "; do
	grep -qxF -- "$want" <(sed 's/init=\([^ ]*\) .*/init=\1 /' "$T/extlinux.conf") ||
		fail "extlinux.conf has no line '$want': $(cat "$T/extlinux.conf")"
done
rm -f "$T/x.ext4"
log "ok: installBootLoader with boot.loader.generic-extlinux-compatible"
# touchEFIVars: $out/efi-vars.fd, the template (OVMF.fd.variables) with Boot0000 added.
VARS=/usr/share/OVMF/OVMF_VARS_4M.fd
if [ -f /usr/lib/systemd/boot/efi/systemd-bootx64.efi ] && [ -f "$VARS" ]; then
	nixbuild OUTE --argstr partitionTableType efi --argstr bootLoader systemd-boot \
		--arg installBootLoader true --arg extraArgs '{ touchEFIVars = true; }'
	check_outputs "$OUTE" img raw efivars
	[ "$(stat -c %s "$OUTE/efi-vars.fd")" = "$(stat -c %s "$VARS")" ] ||
		fail "efi-vars.fd is not the template's size"
	# the independent reader: the store parses, Boot0000 points at this image's ESP and
	# systemd-boot, BootOrder is 0000
	read_store "$OUTE/efi-vars.fd" >"$T/vars.txt" || fail "efi-vars.fd does not parse"
	order=$(awk '$1 == "3f" && $2 == "BootOrder" { print substr($6, length($6) - 3) }' \
		"$T/vars.txt")
	[ "$order" = 0000 ] || fail "efi-vars.fd: BootOrder '$order'"
	read -r start size < <(part_geometry "$OUTE/nixos.img" 1)
	partuuid=$(sfdisk --part-uuid "$OUTE/nixos.img" 1 | tr 'A-Z' 'a-z')
	want="1|Linux Boot Manager|1|$start|$size|$partuuid|\\EFI\\systemd\\systemd-bootx64.efi"
	got=$(boot_entry "$OUTE/efi-vars.fd") || fail "efi-vars.fd: no readable Boot0000"
	[ "$got" = "$want" ] || fail "efi-vars.fd Boot0000: got $got, want $want"
	log "ok: touchEFIVars gives \$out/efi-vars.fd with Boot0000 ($got)"
else
	skip_case "touchEFIVars (needs systemd-boot-efi and ovmf)"
fi
# The systemd-boot image boots: OVMF with the function's efi-vars.fd, Debian's cloud kernel and
# tests/boot's initramfs as the toplevel's kernel and initrd; the initramfs mounts the root by
# label and prints the marker the contents put there.
[ -n "$boot_skip" ] || [ -n "${OUTE:-}" ] || boot_skip="no systemd-boot-efi or ovmf"
if [ -z "$boot_skip" ]; then
	nixbuild OUTK --argstr partitionTableType efi --argstr bootLoader systemd-boot \
		--arg installBootLoader true --arg extraArgs '{ touchEFIVars = true; }' \
		--argstr kernel "$(ls "$KDIR"/boot/vmlinuz-* | head -n 1)" --argstr initrd "$T/initrd" \
		--argstr marker nix-function
	cp "$OUTK/efi-vars.fd" "$T/efi-vars.fd"
	out=$("$MKDISKIMAGE" boot-test "$OUTK/nixos.img" --firmware uefi --efi-vars "$T/efi-vars.fd" \
		--expect-serial "MKDISKIMAGE-BOOT-OK nix-function" --timeout 240 2>&1) ||
		fail "boot-test: $out"
	log "ok: the function's systemd-boot image boots ($(head -n 1 <<<"$out"))"
else
	skip_case "booting the systemd-boot image ($boot_skip)"
fi

# ... or the tool refuses it, with its message.
if nix-build --no-out-link "$MIN" --arg mkdiskimage "$MKDISKIMAGE" --arg installBootLoader true \
	--argstr bootLoader systemd-boot >/dev/null 2>"$T/boot.err"; then
	fail "systemd-boot on a legacy (MBR) layout built an image"
fi
grep -q 'mkdiskimage: error: bootloader systemd-boot: partitionTableType legacy has no ESP' \
	"$T/boot.err" || fail "systemd-boot on legacy: $(tail -n 2 "$T/boot.err")"
# A loader mkdiskimage does not install is an evaluation error, not an image without it.
if nix-instantiate "$MIN" --arg mkdiskimage "$MKDISKIMAGE" --arg installBootLoader true \
	--argstr bootLoader refind >/dev/null 2>"$T/refind.err"; then
	fail "installBootLoader with rEFInd evaluated"
fi
grep -q 'not the boot loader this configuration enables' "$T/refind.err" ||
	fail "refind: $(cat "$T/refind.err")"
# A contents owner the configuration gives no id is an evaluation error naming the option.
if nix-instantiate "$MIN" --arg mkdiskimage "$MKDISKIMAGE" --argstr contentsUser www \
	>/dev/null 2>"$T/eval.err"; then
	fail "a contents user without a uid evaluated"
fi
grep -q "set users.users.www.uid or give the user as a number" "$T/eval.err" ||
	fail "unknown user: $(cat "$T/eval.err")"
# nixpkgs' assertions stay: touchEFIVars needs a GPT layout.
if nix-instantiate "$MIN" --arg mkdiskimage "$MKDISKIMAGE" \
	--arg extraArgs '{ touchEFIVars = true; }' \
	>/dev/null 2>"$T/efivars.err"; then
	fail "touchEFIVars with a legacy layout evaluated"
fi
grep -q 'EFI variables can be used only with a partition table of type' "$T/efivars.err" ||
	fail "touchEFIVars: $(cat "$T/efivars.err")"
log "ok: refusals"
