# shellcheck shell=sh
# Gives the useBootLoader test VM's fresh disk (qemu-vm.nix's run script creates it empty, with
# no backing file, when useDefaultFilesystems is off) the mkdiskimage-built system disk as its
# backing file, once, before QEMU starts; an image with a backing file is left alone (it is
# attached already, or another one's). Run by nix/test-vm.nix from virtualisation.qemu.options
# and by tests/integration/testvm-disk.sh.
# Usage: sh test-vm-attach.sh QEMU_IMG IMAGE BACKING.qcow2   (prints nothing on stdout, or a
# bad QEMU option when it fails, so QEMU refuses to start rather than boot an empty disk)
qemu_img=$1
img=$2
backing=$3
fail()
{
	echo "mkdiskimage testVm: $*" >&2
	echo "-mkdiskimage-testvm-attach-failed"
	exit 1
}
[ -n "$img" ] || exit 0 # no root disk (virtualisation.diskImage = null)
info=$("$qemu_img" info --output=json "$img") || fail "cannot read $img"
case $info in *'"backing-filename"'*) exit 0 ;; esac
map=$("$qemu_img" map --output=json "$img") || fail "cannot map $img"
case $map in *'"data": true'*)
	fail "$img has data and no backing file; remove it to start from $backing" ;;
esac
"$qemu_img" rebase -u -b "$backing" -F qcow2 "$img" >&2 || fail "cannot attach $backing to $img"
