#!/usr/bin/env bash
# quick
# nixosModules.default (nix/module.nix, issue #16): a configuration evaluated with the stand-in
# module system (tests/nix/module-lib.nix; nixpkgs is not available offline) over
# tests/nix/minimal.nix's pkgs and toplevel (tests/nix/module-eval.nix), and
# config.system.build.mkdiskimage built with real nix-build (Debian's nix-bin, root, no daemon)
# for the variants qcow2, proxmox, gce, azure and vmdk (raw-efi and vhdx: their specs only);
# each image checked by qemu-img info/check, sfdisk and e2fsck -fn, the proxmox
# qemu-server.conf by its lines. Explicit options win over the variant's; the module's types
# refuse bad values at evaluation.
. "$(dirname "$0")/../lib.sh"
nix_store_lock
require nix-build nix-instantiate jq e2fsck qemu-img sfdisk tar
is_root || skip "needs root (nix-build without a daemon writes /nix/store)"

export NIX_REMOTE=
export NIX_CONFIG=$'sandbox = false\nbuild-users-group =\nsubstituters =
experimental-features = nix-command'
EVAL=$REPO/tests/nix/module-eval.nix
cp "$MKDISKIMAGE" "$T/mkdiskimage"
MKDISKIMAGE=$T/mkdiskimage

for f in nix/module.nix tests/nix/module-lib.nix tests/nix/module-eval.nix; do
	nix-instantiate --parse "$REPO/$f" >/dev/null 2>"$T/parse.err" ||
		fail "$f does not parse: $(head -n 3 "$T/parse.err")"
done
if ! nix-build --no-out-link "$REPO/tests/nix/probe.nix" >/dev/null 2>"$T/probe.err"; then
	tail -n 3 "$T/probe.err" >&2
	skip "nix-build cannot build a trivial derivation here"
fi

# modbuild OUTVAR SETTINGS: nix-build config.system.build.mkdiskimage with mkdiskimage = SETTINGS
modbuild()
{
	local var=$1 out
	if ! out=$(nix-build --no-out-link "$EVAL" --arg mkdiskimage "$MKDISKIMAGE" \
		--arg settings "$2" 2>"$T/nix.err"); then
		tail -n 15 "$T/nix.err" >&2
		fail "nix-build with mkdiskimage = $2 failed"
	fi
	printf -v "$var" '%s' "$out"
}

# products OUT: hydra-build-products' lines
products() { cat "$1/nix-support/hydra-build-products"; }

# root_clean IMG N: partition N is an e2fsck-clean ext4 labelled nixos holding /etc/motd
root_clean()
{
	extract_partition "$1" "$2" "$T/root.ext4"
	e2fsck_clean "$T/root.ext4"
	[ "$(blkid -o value -s LABEL "$T/root.ext4")" = nixos ] || fail "$1: root label"
	[ "$(debugfs -R 'cat /etc/motd' "$T/root.ext4" 2>/dev/null)" = "hello from the module" ] ||
		fail "$1: the module's contents (/etc/motd) are not in the image"
	rm -f "$T/root.ext4"
}

# The flake's nixosModules.default is nix/module.nix: the same derivation.
a=$(nix-instantiate "$EVAL" --arg mkdiskimage "$MKDISKIMAGE" --argstr via flake 2>"$T/e.err") ||
	fail "eval via the flake: $(tail -n 3 "$T/e.err")"
b=$(nix-instantiate "$EVAL" --arg mkdiskimage "$MKDISKIMAGE" --argstr via import 2>"$T/e.err") ||
	fail "eval via import: $(tail -n 3 "$T/e.err")"
[ "$a" = "$b" ] || fail "nixosModules.default gives another derivation than nix/module.nix"

# variant = "qcow2" (nixpkgs' qemu-efi): nixos.qcow2, GPT with ESP and root
modbuild OQ '{ variant = "qcow2"; }'
[ "$(products "$OQ")" = "file qcow2-image $OQ/nixos.qcow2" ] || fail "qcow2: $(products "$OQ")"
qemu-img check -q "$OQ/nixos.qcow2" || fail "qcow2: qemu-img check"
[ "$(qemu_info "$OQ/nixos.qcow2" format)" = qcow2 ] || fail "qcow2: not qcow2"
qemu-img convert -f qcow2 -O raw "$OQ/nixos.qcow2" "$T/q.img"
sfdisk -J "$T/q.img" >"$T/q.json"
[ "$(jq -r '.partitiontable.label' "$T/q.json")" = gpt ] || fail "qcow2: not GPT"
[ "$(jq -r '.partitiontable.partitions[0].type' "$T/q.json")" = \
	C12A7328-F81F-11D2-BA4B-00A0C93EC93B ] || fail "qcow2: partition 1 is not an ESP"
root_clean "$T/q.img" 2
rm -f "$T/q.img"
log "ok: variant qcow2"

# proxmox: qcow2 on legacy (SeaBIOS) and $out/qemu-server.conf with proxmox-image.nix's keys
modbuild OP '{ variant = "proxmox"; }'
[ "$(products "$OP")" = "file qcow2-image $OP/nixos.qcow2
file proxmox-conf $OP/qemu-server.conf" ] || fail "proxmox: $(products "$OP")"
qemu-img check -q "$OP/nixos.qcow2" || fail "proxmox: qemu-img check"
qemu-img convert -f qcow2 -O raw "$OP/nixos.qcow2" "$T/p.img"
[ "$(sfdisk -J "$T/p.img" | jq -r '.partitiontable.label')" = dos ] || fail "proxmox: not MBR"
root_clean "$T/p.img" 1
rm -f "$T/p.img"
conf=$OP/qemu-server.conf
for line in "bios: seabios" "scsihw: virtio-scsi-single" "ostype: l26" "cores: 1" \
	"memory: 1024" "agent: 1" "serial0: socket" "virtio0: local-lvm:vm-9999-disk-0" \
	"net0: virtio=00:00:00:00:00:00,bridge=vmbr0,firewall=1" "name: nixos-24.11"; do
	grep -qxF "$line" "$conf" || fail "qemu-server.conf has no '$line': $(cat "$conf")"
done
[ "$(grep -vc '^#' "$conf")" = 11 ] || fail "qemu-server.conf: $(cat "$conf")"
# the conf follows the options: qemuConf overrides, bios from an efi layout
modbuild OP2 '{ variant = "proxmox"; partitionTableType = "efi";
	proxmox.qemuConf = { cores = 4; bios = "ovmf"; }; }'
if [ "$(grep -c . "$OP2/qemu-server.conf")" != 3 ] ||
	! grep -qxF "cores: 4" "$OP2/qemu-server.conf" ||
	! grep -qxF "bios: ovmf" "$OP2/qemu-server.conf"; then
	fail "proxmox.qemuConf: $(cat "$OP2/qemu-server.conf")"
fi
log "ok: variant proxmox (qemu-server.conf)"

# gce: disk.raw in nixos.raw.tar.gz, MBR
modbuild OG '{ variant = "gce"; }'
[ "$(products "$OG")" = "file gce-image $OG/nixos.raw.tar.gz" ] || fail "gce: $(products "$OG")"
[ "$(tar -tzf "$OG/nixos.raw.tar.gz")" = disk.raw ] || fail "gce: the tar holds not just disk.raw"
tar -xzf "$OG/nixos.raw.tar.gz" -C "$T"
[ "$(sfdisk -J "$T/disk.raw" | jq -r '.partitiontable.label')" = dos ] || fail "gce: not MBR"
root_clean "$T/disk.raw" 1
rm -f "$T/disk.raw"
log "ok: variant gce"

# azure: a fixed VHD (virtual size a whole MiB, the file that plus the 512-byte footer), MBR
modbuild OA '{ variant = "azure"; }'
[ "$(products "$OA")" = "file vpc-image $OA/nixos.vhd" ] || fail "azure: $(products "$OA")"
# a fixed VHD is the raw disk and a footer (qemu-img probes it as raw): the footer's cookie and
# disk type 2 (fixed), big-endian at byte 60
vhd=$OA/nixos.vhd
[ "$(tail -c 512 "$vhd" | head -c 8)" = conectix ] || fail "azure: no VHD footer"
[ "$(tail -c 512 "$vhd" | od -An -tx1 -j60 -N4 | tr -d ' ')" = 00000002 ] ||
	fail "azure: the VHD footer's disk type is not fixed"
vsize=$(qemu-img info -f vpc --output=json "$vhd" | jq -r '."virtual-size"')
[ $((vsize % MIB)) -eq 0 ] || fail "azure: virtual size $vsize is not a whole MiB"
[ "$(stat -c %s "$OA/nixos.vhd")" -eq $((vsize + 512)) ] ||
	fail "azure: not a fixed VHD ($(stat -c %s "$OA/nixos.vhd") bytes for $vsize)"
qemu-img convert -f vpc -O raw "$vhd" "$T/a.img"
[ "$(sfdisk -J "$T/a.img" | jq -r '.partitiontable.label')" = dos ] || fail "azure: not MBR"
root_clean "$T/a.img" 1
rm -f "$T/a.img"
log "ok: variant azure (fixed VHD)"

# vmdk with an explicit partitionTableType: the explicit option wins over the variant's efi
modbuild OK '{ variant = "vmdk"; partitionTableType = "legacy"; }'
[ "$(products "$OK")" = "file vmdk-image $OK/nixos.vmdk" ] || fail "vmdk: $(products "$OK")"
qemu-img check -q "$OK/nixos.vmdk" || fail "vmdk: qemu-img check"
[ "$(qemu_info "$OK/nixos.vmdk" format-specific.data.create-type)" = monolithicSparse ] ||
	fail "vmdk: not monolithicSparse"
qemu-img convert -f vmdk -O raw "$OK/nixos.vmdk" "$T/k.img"
[ "$(sfdisk -J "$T/k.img" | jq -r '.partitiontable.label')" = dos ] ||
	fail "vmdk: partitionTableType = legacy did not win over the variant's efi"
root_clean "$T/k.img" 1
rm -f "$T/k.img"
log "ok: variant vmdk, explicit options win"

# raw-efi and vhdx, evaluated only: the spec the tool gets (its formats have their own tests)
spec_of()
{
	nix-instantiate --eval --strict --json "$EVAL" --arg mkdiskimage "$MKDISKIMAGE" \
		--arg settings "$1" -A spec 2>"$T/spec.err" |
		jq -r . | jq -c '[.format, .partitionTableType, .diskSize]' ||
		fail "spec of $1: $(tail -n 3 "$T/spec.err")"
}
[ "$(spec_of '{ variant = "raw-efi"; }')" = '["raw","efi","auto"]' ] ||
	fail "raw-efi: $(spec_of '{ variant = "raw-efi"; }')"
[ "$(spec_of '{ variant = "vhdx"; }')" = '["vhdx","efi",4096]' ] ||
	fail "vhdx: $(spec_of '{ variant = "vhdx"; }')"
[ "$(spec_of '{ }')" = '["raw","legacy","auto"]' ] || fail "no variant: $(spec_of '{ }')"
log "ok: raw-efi, vhdx and no variant give their specs"

# The module's types refuse bad values at evaluation, naming the option.
expect_eval_error()
{
	if nix-instantiate "$EVAL" --arg mkdiskimage "$MKDISKIMAGE" --arg settings "$1" \
		>/dev/null 2>"$T/bad.err"; then
		fail "mkdiskimage = $1 evaluated"
	fi
	grep -qF "$2" "$T/bad.err" || fail "mkdiskimage = $1: $(grep error "$T/bad.err")"
}
expect_eval_error '{ variant = "amazon"; }' "option \`mkdiskimage.variant' is not of type"
expect_eval_error '{ format = "iso"; }' "option \`mkdiskimage.format' is not of type"
expect_eval_error '{ fromat = "raw"; }' "option \`mkdiskimage.fromat' does not exist"
expect_eval_error '{ contents = [ { target = "/x"; } ]; }' \
	"option \`mkdiskimage.contents.[0].source' is used but not defined"
log "ok: type errors"
