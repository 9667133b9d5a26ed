#!/usr/bin/env bash
# systemd-boot from a NixOS toplevel (issue #6): a toplevel-shaped store path with a bootspec
# (boot.json: kernel and initrd in their own store paths, init, kernelParams, label), given
# with --system, gets NixOS's entry (options "init=<init> <kernelParams>", kernel and initrd
# under EFI/nixos/ named <hash>-<name>-<file>.efi) and boots under OVMF: Debian's cloud kernel
# and the busybox initramfs of tests/boot/ mount the image's root and run the system's init (the
# bootspec's, or the toplevel's own) from the image's store. The same toplevel without
# boot.json falls back to its kernel, initrd, init and kernel-params files; with neither,
# installBootLoader is refused in one line.
. "$(dirname "$0")/../lib.sh"
nix_store_lock

require nix-store qemu-system-x86_64 python3 mdir fsck.fat
can_loop_mount || skip "needs root (store paths are added to /nix/store)"
SDBOOT=/usr/lib/systemd/boot/efi/systemd-bootx64.efi
[ -f "$SDBOOT" ] || skip "needs $SDBOOT (systemd-boot-efi)"
[ -f /usr/share/OVMF/OVMF_VARS_4M.fd ] || skip "needs OVMF (ovmf)"
KDIR=$("$TESTS/boot/fetch-kernel.sh") || skip "cannot fetch Debian's cloud kernel"
rc=0
"$TESTS/boot/make-initramfs.sh" "$KDIR" "$T/initrd" || rc=$?
[ "$rc" -eq 77 ] && skip "needs busybox-static"
[ "$rc" -eq 0 ] || fail "make-initramfs.sh failed"
export NIX_REMOTE=
export NIX_CONFIG=$'sandbox = false\nbuild-users-group =\nsubstituters ='

mkdir -p "$T/linux-6.1-test" "$T/initrd-linux-6.1-test"
cp "$(ls "$KDIR"/boot/vmlinuz-* | head -n1)" "$T/linux-6.1-test/bzImage"
cp "$T/initrd" "$T/initrd-linux-6.1-test/initrd"
K=$(nix-store --add "$T/linux-6.1-test") || skip "nix-store --add fails here"
I=$(nix-store --add "$T/initrd-linux-6.1-test")
# The bootspec's stage 2: an init in a store path of its own (a toplevel cannot name itself).
mkdir -p "$T/stage-2-init"
printf '#!/bin/sh\necho stage-2 from the bootspec\n' >"$T/stage-2-init/init"
chmod 755 "$T/stage-2-init/init"
S=$(nix-store --add "$T/stage-2-init")

# toplevel_with NAME BOOTJSON(0/1): a toplevel store path and its closure info in $T/NAME.ci
toplevel_with()
{
	local d=$T/$1 tl
	mkdir -p "$d"
	printf '#!/bin/sh\necho stage-2 from the toplevel\n' >"$d/init"
	chmod 755 "$d/init"
	printf '24.05' >"$d/nixos-version"
	if [ "$2" = 1 ]; then
		cat >"$d/boot.json" <<JSON
{"org.nixos.bootspec.v1": {"kernel": "$K/bzImage", "initrd": "$I/initrd",
 "init": "$S/init",
 "kernelParams": ["console=ttyS0", "mdi.root=LABEL=nixos", "mdi.stage2"],
 "label": "NixOS 24.05 (Linux 6.1)",
 "system": "x86_64-linux"}, "org.nixos.specialisation.v1": {}}
JSON
	elif [ "$2" = 0 ]; then
		ln -s "$K/bzImage" "$d/kernel"
		ln -s "$I/initrd" "$d/initrd"
		printf 'console=ttyS0 mdi.root=LABEL=nixos mdi.stage2' >"$d/kernel-params"
	fi
	tl=$(nix-store --add "$d")
	mkdir -p "$T/$1.ci"
	printf '%s\n%s\n%s\n%s\n' "$tl" "$K" "$I" "$S" | sort >"$T/$1.ci/store-paths"
	nix-store --dump-db $(cat "$T/$1.ci/store-paths") >"$T/$1.ci/registration"
	echo "$tl"
}

mkdir -p "$T/root"
for kind in bootspec files; do
	bj=1
	[ "$kind" = files ] && bj=0
	TL=$(toplevel_with "tl-$kind" "$bj")
	echo "$kind" >"$T/root/mkdiskimage-marker"
	build --closure-info "$T/tl-$kind.ci" --system "$TL" --root "$T/root" \
		--systemd-boot-efi "$SDBOOT" --partition-table efi --boot-size 64M --json \
		-o "$T/$kind.img"
	python3 - "$T/build.out" "$T/$kind.img" "$T/esp.fat" <<'PY'
import json, sys
p = [p for p in json.load(open(sys.argv[1]))["partitions"] if p["role"] == "esp"][0]
with open(sys.argv[2], "rb") as f, open(sys.argv[3], "wb") as o:
    f.seek(p["offset"]); o.write(f.read(p["size"]))
PY
	fsck.fat -n "$T/esp.fat" >/dev/null || fail "$kind: fsck.fat -n"
	conf=$(MTOOLS_SKIP_CHECK=1 mtype -i "$T/esp.fat" ::/loader/entries/nixos-generation-1.conf)
	kn=$(basename "$K")-bzImage.efi
	in=$(basename "$I")-initrd.efi
	if [ "$kind" = bootspec ]; then
		init=$S/init
		said="stage-2 from the bootspec"
		ver="Generation 1 NixOS 24.05 (Linux 6.1), built on 1970-01-01"
	else
		init=$TL/init
		said="stage-2 from the toplevel"
		ver="Generation 1 NixOS 24.05, built on 1970-01-01"
	fi
	want=$(printf 'title NixOS\nsort-key nixos\nversion %s\nlinux /EFI/nixos/%s\ninitrd /EFI/nixos/%s\noptions init=%s console=ttyS0 mdi.root=LABEL=nixos mdi.stage2' \
		"$ver" "$kn" "$in" "$init")
	[ "$conf" = "$want" ] || fail "$kind: entry is
$conf
want
$want"
	MTOOLS_SKIP_CHECK=1 mtype -i "$T/esp.fat" "::/EFI/nixos/$kn" | cmp - "$K/bzImage" ||
		fail "$kind: kernel copy differs"
	# the initramfs mounts the image's root and runs the system's init from the image's store
	out=$("$MKDISKIMAGE" boot-test "$T/$kind.img" --expect-serial "MKDISKIMAGE-STAGE2 $kind $said" \
		--timeout 240) || fail "boot-test $kind: $out"
	log "boot $kind: $(printf '%s\n' "$out" | head -n1)"
	rm -f "$T/$kind.img" "$T/esp.fat"
done

TL=$(toplevel_with tl-none none)
expect_fail "system $TL has neither" --closure-info "$T/tl-none.ci" --system "$TL" \
	--partition-table efi --bootloader systemd-boot --systemd-boot-efi "$SDBOOT"
log "ok"
