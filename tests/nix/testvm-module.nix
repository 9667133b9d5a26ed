# nix/test-vm.nix evaluated without the module system (nixpkgs is not available offline): its
# function called with a stand-in lib (mkIf, mkOption, types, ... as plain markers), pkgs and a
# config holding qemu-vm.nix's virtualisation values; the result summarises what the module
# sets, for tests/integration/testvm-disk.sh:
#   nix-instantiate --eval --strict --json tests/nix/testvm-module.nix --arg useEFIBoot true
{ useEFIBoot ? false, enable ? true, useBootLoader ? true }:
let
  runCommand = name: env: script: derivation (builtins.removeAttrs env [ "passthru" ] // {
    inherit name;
    system = builtins.currentSystem;
    builder = "/bin/sh";
    args = [ "-c" script ];
  }) // (env.passthru or { });
  pkgs = {
    inherit runCommand;
    runtimeShell = "/bin/sh";
    closureInfo = { rootPaths }: runCommand "closure-info" { } "echo > $out";
    mkdiskimage = runCommand "mkdiskimage" { } "mkdir $out";
    grub2_efi = runCommand "grub2-efi" { } "mkdir $out";
    stdenv.hostPlatform.system = "x86_64-linux";
  };
  lib = {
    mkIf = condition: content: { _type = "if"; inherit condition content; };
    mkVMOverride = content: { _type = "override"; priority = 10; inherit content; };
    mkOption = o: o // { _type = "option"; };
    mkEnableOption = d: { _type = "option"; default = false; description = d; };
    optionalAttrs = c: a: if c then a else { };
    types = { nullOr = t: "nullOr ${t}"; str = "str"; bool = "bool"; package = "package"; };
  };
  OVMF = { variables = "/ovmf-vars"; firmware = "/ovmf-code"; };
  config = {
    mkdiskimage.testVm = { inherit enable; additionalSpace = null; installBootLoader = true;
      package = null; };
    virtualisation = {
      inherit useBootLoader useEFIBoot;
      useBIOSBoot = false;
      diskSize = 2048;
      diskImage = "./machine.qcow2";
      rootDevice = "/dev/disk/by-label/nixos";
      additionalPaths = [ ];
      host.pkgs = pkgs;
      qemu.package = "/qemu";
      efi.OVMF = OVMF;
    };
    system.build.toplevel = runCommand "toplevel" { } "mkdir $out";
    # GRUB as a UEFI test VM's configuration has it: for UEFI, at the removable path
    boot.loader.grub = { enable = true; }
      // (if useEFIBoot then { efiSupport = true; efiInstallAsRemovable = true; device = "nodev"; }
      else { });
  };
  m = import ../../nix/test-vm.nix { inherit config lib pkgs; };
  c = m.config.content;
  spec = builtins.fromJSON
    (builtins.unsafeDiscardStringContext c.system.build.mkdiskimageTestVmDisk.spec);
in
{
  options = builtins.attrNames m.options.mkdiskimage.testVm;
  condition = m.config.condition;
  useDefaultFilesystems = c.virtualisation.useDefaultFilesystems;
  root = c.virtualisation.fileSystems."/";
  efi = if c.virtualisation.efi.condition
    then builtins.baseNameOf c.virtualisation.efi.content.variables else null;
  keepVariables = c.virtualisation.efi.content.keepVariables;
  qemuOptions = map (o: builtins.replaceStrings [ builtins.storeDir ] [ "/STORE" ]
    (builtins.unsafeDiscardStringContext o)) c.virtualisation.qemu.options;
  disk = { inherit (spec) diskSize additionalSpace partitionTableType format label touchEFIVars
    copyChannel bootloader; };
}
