# NixOS module: the system disk of a `virtualisation.useBootLoader` VM (the NixOS test driver's,
# or `nixos-rebuild build-vm-with-bootloader`'s) built by mkdiskimage, with free space.
#
# nixpkgs' qemu-vm.nix builds that disk in a VM with make-disk-image, diskSize = "auto" and
# additionalSpace = "0M": the root holds only the closure. With
#
#   imports = [ mkdiskimage.nixosModules.testVm ];
#   mkdiskimage.testVm.enable = true;
#   virtualisation.useBootLoader = true;
#   virtualisation.diskSize = 4096; # MiB: the disk, and so about the root's free space
#
# the disk is virtualisation.diskSize MiB (or "auto" plus mkdiskimage.testVm.additionalSpace),
# built without a VM. Wiring (qemu-vm.nix keeps its system image in a `let`, so it is not
# replaced but never built): useDefaultFilesystems is turned off, so the run script creates the
# VM's disk empty and qemu-vm.nix no longer refers to its own image; this module declares the
# root filesystem as qemu-vm.nix would, and before QEMU starts nix/test-vm-attach.sh gives
# the fresh disk this image as its backing file (as qemu-vm.nix's `qemu-img create -b` would);
# with useEFIBoot the variable store is the image's efi-vars.fd (efi.keepVariables's meaning).
{ config, lib, pkgs, ... }:
let
  cfg = config.mkdiskimage.testVm;
  vm = config.virtualisation;
  hostPkgs = vm.host.pkgs;
  # qemu-vm.nix's regInfo, the same derivation
  regInfo = hostPkgs.closureInfo { rootPaths = vm.additionalPaths; };
  disk = import ./make-disk-image.nix ({
    inherit pkgs lib config;
    OVMF = vm.efi.OVMF;
  } // import ./test-vm-disk.nix {
    inherit (vm) diskSize useEFIBoot useBIOSBoot;
    inherit (cfg) additionalSpace installBootLoader;
    additionalPaths = [ regInfo ];
  } // lib.optionalAttrs (cfg.package != null) { mkdiskimage = cfg.package; });
in
{
  options.mkdiskimage.testVm = {
    enable = lib.mkEnableOption ("the useBootLoader VM's system disk built by mkdiskimage, "
      + "virtualisation.diskSize MiB, so the guest's root has free space at first boot");
    additionalSpace = lib.mkOption {
      type = lib.types.nullOr lib.types.str;
      default = null;
      example = "2G";
      description = ''
        Free space added to the closure's size, as make-disk-image's additionalSpace
        (disk size "auto"). null: the disk is virtualisation.diskSize MiB and the root
        partition fills it.
      '';
    };
    installBootLoader = lib.mkOption {
      type = lib.types.bool;
      default = true;
      description = "Install the configuration's boot loader (qemu-vm.nix's default).";
    };
    package = lib.mkOption {
      type = lib.types.nullOr lib.types.package;
      default = null;
      description = "The mkdiskimage package; null: pkgs.mkdiskimage or nix/package.nix.";
    };
  };

  config = lib.mkIf (cfg.enable && vm.useBootLoader) {
    system.build.mkdiskimageTestVmDisk = disk;
    virtualisation.useDefaultFilesystems = false;
    # what qemu-vm.nix sets with useDefaultFilesystems
    virtualisation.fileSystems."/" =
      if vm.diskImage == null
      then { device = "tmpfs"; fsType = "tmpfs"; options = [ "mode=755" ]; }
      else { device = vm.rootDevice; fsType = "ext4"; };
    swapDevices = lib.mkVMOverride [ ];
    boot.initrd.luks.devices = lib.mkVMOverride { };
    virtualisation.efi = lib.mkIf vm.useEFIBoot {
      keepVariables = false;
      variables = "${disk}/efi-vars.fd";
    };
    # expanded on the run script's exec line, after it created "$NIX_DISK_IMAGE"
    virtualisation.qemu.options = [
      ''$(${hostPkgs.runtimeShell} ${./test-vm-attach.sh} ${vm.qemu.package}/bin/qemu-img "$NIX_DISK_IMAGE" ${disk}/nixos.qcow2)''
    ];
  };
}
