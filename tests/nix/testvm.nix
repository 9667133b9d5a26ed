# The useBootLoader test VM's system disk (nix/test-vm-disk.nix: qemu-vm.nix's make-disk-image
# arguments with virtualisation.diskSize honoured) built by nix/make-disk-image.nix with the
# stand-in pkgs/config of tests/nix/minimal.nix and GRUB for BIOS (useEFIBoot = false).
# Built by tests/integration/testvm-disk.sh:
#   nix-build tests/nix/testvm.nix --arg mkdiskimage $PWD/build/mkdiskimage --arg diskSize 1024
{ mkdiskimage ? ../../build/mkdiskimage
, diskSize ? 1024 # MiB, or "auto"
, additionalSpace ? null
, kernel ? null
, initrd ? null
, marker ? null
}:
import ./minimal.nix {
  inherit mkdiskimage kernel initrd marker;
  bootLoader = "grub";
  extraArgs = import ../../nix/test-vm-disk.nix { inherit diskSize additionalSpace; };
}
