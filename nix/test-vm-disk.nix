# The make-disk-image arguments of the useBootLoader test VM's system disk: those of
# nixpkgs' qemu-vm.nix (systemImage), but sized so the guest's root has free space. With
# additionalSpace = null the disk is virtualisation.diskSize MiB (the root partition fills it;
# a qcow2 costs only its metadata); otherwise "auto" plus additionalSpace, as make-disk-image
# sizes it. Used by nix/test-vm.nix; tests/integration/testvm-disk.sh builds it through
# tests/nix/testvm.nix.
{ diskSize # virtualisation.diskSize: MiB, or "auto"
, additionalSpace ? null # e.g. "2G"; null: the disk is diskSize
, useEFIBoot ? false
, useBIOSBoot ? false
, installBootLoader ? true
, additionalPaths ? [ ]
}:
{
  inherit additionalPaths installBootLoader;
  format = "qcow2";
  onlyNixStore = false;
  label = "nixos"; # qemu-vm.nix's rootFilesystemLabel
  # qemu-vm.nix's selectPartitionTableLayout with useDefaultFilesystems
  partitionTableType =
    if useEFIBoot then "efi" else if useBIOSBoot then "legacy+boot" else "legacy";
  touchEFIVars = useEFIBoot;
  diskSize = if additionalSpace == null then diskSize else "auto";
  additionalSpace = if additionalSpace == null then "0M" else additionalSpace;
  copyChannel = false;
}
