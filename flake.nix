{
  description = "mkdiskimage: disk images as nixpkgs' make-disk-image builds them, no VM";

  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-unstable";

  outputs = { self, nixpkgs }:
    let
      systems = [ "x86_64-linux" "aarch64-linux" "riscv64-linux" "i686-linux" ];
      forAllSystems = f: nixpkgs.lib.genAttrs systems (system: f nixpkgs.legacyPackages.${system});
    in
    {
      # pkgs.mkdiskimage, which nix/make-disk-image.nix picks up by default
      overlays.default = final: prev: {
        mkdiskimage = final.callPackage ./nix/package.nix { };
      };

      packages = forAllSystems (pkgs: rec {
        mkdiskimage = pkgs.callPackage ./nix/package.nix { };
        default = mkdiskimage;
      });

      # mkdiskimage.* options and config.system.build.mkdiskimage (docs/nix.md):
      #   modules = [ mkdiskimage.nixosModules.default { mkdiskimage.variant = "qcow2"; } ];
      nixosModules.default = ./nix/module.nix;
      # The useBootLoader test VM's system disk built by mkdiskimage, with free space
      # (mkdiskimage.testVm.enable; docs/nix.md "Test VMs with free space")
      nixosModules.testVm = import ./nix/test-vm.nix;

      # A drop-in for nixpkgs' make-disk-image.nix:
      #   mkdiskimage.lib.makeDiskImage { inherit pkgs lib config; format = "qcow2"; }
      # The tool runs on the build machine: it comes from pkgs.buildPackages.
      lib.makeDiskImage = args:
        import ./nix/make-disk-image.nix ({
          mkdiskimage = args.pkgs.buildPackages.callPackage ./nix/package.nix { };
        } // args);
    };
}
