#!/usr/bin/env bash
# slow
# The useBootLoader test VM's disk with free space (issue #16): nix/test-vm-disk.nix (the
# make-disk-image arguments nix/test-vm.nix gives, qemu-vm.nix's with virtualisation.diskSize
# honoured) built with real nix-build against the stand-in tests/nix/testvm.nix: a 1 GiB qcow2
# whose root partition fills it, costing only its metadata; qemu-vm.nix's own sizing ("auto",
# "0M") leaves almost no free space, and additionalSpace adds it. The VM's disk is made as
# qemu-vm.nix's run script makes it (an empty qcow2 of diskSize) and attached by
# nix/test-vm-attach.sh, as the module does; ONE boot (SeaBIOS, GRUB, TCG) of that disk, whose
# guest must see the free space in `df`.
. "$(dirname "$0")/../lib.sh"
nix_store_lock
require nix-build nix-instantiate qemu-img jq debugfs dumpe2fs
is_root || skip "needs root (nix-build without a daemon writes /nix/store)"

export NIX_REMOTE=
export NIX_CONFIG=$'sandbox = false\nbuild-users-group =\nsubstituters =
experimental-features = nix-command'
cp "$MKDISKIMAGE" "$T/mkdiskimage"
MKDISKIMAGE=$T/mkdiskimage
TV=$REPO/tests/nix/testvm.nix
for f in flake.nix nix/test-vm.nix nix/test-vm-disk.nix tests/nix/testvm.nix \
	tests/nix/testvm-module.nix; do
	nix-instantiate --parse "$REPO/$f" >/dev/null 2>"$T/parse.err" ||
		fail "$f does not parse: $(head -n 3 "$T/parse.err")"
done
# The module, evaluated with a stand-in lib and qemu-vm.nix's virtualisation values
# (tests/nix/testvm-module.nix): what it sets, for BIOS and for UEFI.
modeval()
{
	nix-instantiate --eval --strict --json -E "import $REPO/tests/nix/testvm-module.nix $1" \
		2>"$T/mod.err" || fail "nix/test-vm.nix with $1: $(grep -v nixbld "$T/mod.err" | head -n 5)"
}
m=$(modeval '{ }')
# shellcheck disable=SC2016 # the run script's text, not expanded here
attach='$(/bin/sh /STORE/*-test-vm-attach.sh /qemu/bin/qemu-img "$NIX_DISK_IMAGE" /STORE/*-nixos-disk-image/nixos.qcow2)'
# shellcheck disable=SC2053 # a pattern on the right
[[ "$(jq -r '.qemuOptions | join("|")' <<<"$m")" == $attach ]] ||
	fail "module: virtualisation.qemu.options: $(jq -c .qemuOptions <<<"$m")"
[ "$(jq -c '[.condition, .useDefaultFilesystems, .root, .efi, .disk]' <<<"$m")" = \
	'[true,false,{"device":"/dev/disk/by-label/nixos","fsType":"ext4"},null,{"additionalSpace":"0M","bootloader":"grub","copyChannel":false,"diskSize":2048,"format":"qcow2","label":"nixos","partitionTableType":"legacy","touchEFIVars":false}]' ] ||
	fail "module (BIOS): $m"
m=$(modeval '{ useEFIBoot = true; }')
[ "$(jq -c '[.efi, .keepVariables, .disk.partitionTableType, .disk.touchEFIVars]' <<<"$m")" = \
	'["efi-vars.fd",false,"efi",true]' ] || fail "module (UEFI): $m"
[ "$(modeval '{ enable = false; }' | jq .condition)" = false ] || fail "module: enable = false"
[ "$(modeval '{ useBootLoader = false; }' | jq .condition)" = false ] ||
	fail "module: without useBootLoader"
log "ok: nixosModules.testVm sets the disk, the attach step and the filesystems"

if ! nix-build --no-out-link "$REPO/tests/nix/probe.nix" >/dev/null 2>"$T/probe.err"; then
	tail -n 3 "$T/probe.err" >&2
	skip "nix-build cannot build a trivial derivation here"
fi
if [ ! -d /usr/lib/grub/i386-pc ] || [ ! -x /usr/bin/grub-mkimage ]; then
	skip "no grub-pc-bin"
fi

# tvbuild OUTVAR ARGS...: nix-build the test-VM disk
tvbuild()
{
	local var=$1 out
	shift
	out=$(nix-build --no-out-link "$TV" --arg mkdiskimage "$MKDISKIMAGE" "$@" 2>"$T/nix.err") || {
		tail -n 15 "$T/nix.err" >&2
		fail "nix-build testvm.nix $* failed"
	}
	printf -v "$var" '%s' "$out"
}
# root_free QCOW2: the root filesystem's (partition 1, legacy) free bytes, from its superblock
root_free()
{
	qemu-img convert -f qcow2 -O raw "$1" "$T/free.img"
	extract_partition "$T/free.img" 1 "$T/free.ext4"
	e2fsck_clean "$T/free.ext4"
	dumpe2fs -h "$T/free.ext4" 2>/dev/null |
		awk -F: '/^Free blocks:/ { f = $2 } /^Block size:/ { b = $2 } END { print f * b }'
	rm -f "$T/free.img" "$T/free.ext4"
}

# qemu-vm.nix's own sizing: "auto" and "0M", the root holds the closure and nearly nothing else
tvbuild AUTO --argstr diskSize auto
free=$(root_free "$AUTO/nixos.qcow2")
[ "$free" -lt $((16 * MIB)) ] || fail "auto + 0M: $free bytes free, expected nearly none"
log "ok: qemu-vm.nix's sizing (auto, 0M) leaves $((free / 1024)) KiB free"
# additionalSpace: "auto" plus it
tvbuild ADD --argstr diskSize auto --argstr additionalSpace 256M
free=$(root_free "$ADD/nixos.qcow2")
if [ "$free" -lt $((240 * MIB)) ] || [ "$free" -ge $((300 * MIB)) ]; then
	fail "additionalSpace = 256M: $free bytes free"
fi
log "ok: additionalSpace = 256M leaves $((free / MIB)) MiB free"

# diskSize = 1024: the qcow2's virtual size is exactly that, its file only metadata and closure
kargs=()
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
[ -n "$boot_skip" ] || kargs=(--argstr kernel "$(ls "$KDIR"/boot/vmlinuz-* | head -n 1)"
	--argstr initrd "$T/initrd" --argstr marker testvm-disk)
tvbuild DISK --arg diskSize 1024 "${kargs[@]}"
img=$DISK/nixos.qcow2
qemu-img check -q "$img" || fail "qemu-img check"
vsize=$(qemu-img info --output=json "$img" | jq -r '."virtual-size"')
[ "$vsize" -eq $((1024 * MIB)) ] || fail "diskSize = 1024: virtual size $vsize"
fsize=$(stat -c %s "$img")
[ "$fsize" -lt $((64 * MIB)) ] || fail "the 1 GiB qcow2 takes $fsize bytes"
free=$(root_free "$img")
[ "$free" -ge $((900 * MIB)) ] || fail "diskSize = 1024: root has $free bytes free"
log "ok: diskSize = 1024: virtual $vsize bytes, file $fsize bytes, root $((free / MIB)) MiB free"

# The VM's disk as qemu-vm.nix's run script makes it without useDefaultFilesystems, attached by
# the module's nix/test-vm-attach.sh: backed by the image, identical to it, attached once.
ATTACH=$REPO/nix/test-vm-attach.sh
vmdisk=$T/testvm.qcow2
qemu-img create -q -f qcow2 "$vmdisk" 1024M
out=$(sh "$ATTACH" "$(command -v qemu-img)" "$vmdisk" "$img" 2>"$T/attach.err") ||
	fail "test-vm-attach.sh: $(cat "$T/attach.err")"
[ -z "$out" ] || fail "test-vm-attach.sh printed '$out' (it lands on QEMU's command line)"
[ "$(qemu-img info --output=json "$vmdisk" | jq -r '."backing-filename"')" = "$img" ] ||
	fail "the VM's disk is not backed by the image"
qemu-img compare -q "$vmdisk" "$img" || fail "the VM's disk reads other bytes than the image"
sh "$ATTACH" "$(command -v qemu-img)" "$vmdisk" /nonexistent >/dev/null 2>&1 ||
	fail "test-vm-attach.sh on an attached disk failed"
[ "$(qemu-img info --output=json "$vmdisk" | jq -r '."backing-filename"')" = "$img" ] ||
	fail "test-vm-attach.sh re-attached an attached disk"
# a disk with data and no backing file is refused, with a bad QEMU option so QEMU stops
qemu-img create -q -f qcow2 "$T/used.qcow2" 16M
qemu-io -c 'write -P 0x55 0 64k' "$T/used.qcow2" >/dev/null 2>&1 || fail "qemu-io write"
if out=$(sh "$ATTACH" "$(command -v qemu-img)" "$T/used.qcow2" "$img" 2>"$T/used.err"); then
	fail "test-vm-attach.sh attached a disk that has data"
fi
[ "$out" = "-mkdiskimage-testvm-attach-failed" ] || fail "refusal printed '$out'"
grep -q "has data and no backing file" "$T/used.err" || fail "refusal: $(cat "$T/used.err")"
log "ok: test-vm-attach.sh backs the VM's fresh disk with the image, once"

# ONE boot: the VM's disk under SeaBIOS (TCG) through GRUB to the kernel and initramfs, whose
# df of the root must show the free space
if [ -n "$boot_skip" ]; then
	skip_case "booting the test-VM disk ($boot_skip)"
	exit 0
fi
# QEMU as qemu-vm.nix's run script starts it (boot-test flattens no backing chains): the disk on
# virtio-blk-pci with bootindex=1, no -kernel; snapshot=on keeps the test's disk unchanged. The
# initramfs powers off after printing.
start=$(date +%s)
timeout 300 qemu-system-x86_64 -accel tcg -m 512 -display none -monitor none -no-reboot \
	-drive "file=$vmdisk,if=none,id=drive1,format=qcow2,snapshot=on" \
	-device virtio-blk-pci,drive=drive1,bootindex=1 \
	-serial "file:$T/serial.log" >"$T/qemu.out" 2>&1 || {
	cat "$T/qemu.out" >&2
	tail -n 20 "$T/serial.log" >&2 || true
	fail "QEMU did not boot the test-VM disk to power-off"
}
grep -q "MKDISKIMAGE-BOOT-OK testvm-disk" "$T/serial.log" || fail "no marker from the image's root"
read -r size avail < <(sed -n 's/^MKDISKIMAGE-DF \([0-9]*\) \([0-9]*\).*/\1 \2/p' "$T/serial.log" |
	tr -d '\r' | head -n 1)
[ -n "$avail" ] || fail "the guest printed no MKDISKIMAGE-DF line"
[ "$size" -gt $((950 * 1024)) ] || fail "the guest's root is $size KiB, not about 1 GiB"
[ "$avail" -ge $((900 * 1024)) ] || fail "the guest's root has $avail KiB available, not ≥ 900 MiB"
log "ok: the guest's root: $size KiB, $avail KiB available (df); booted in" \
	"$(($(date +%s) - start)) s (TCG)"
