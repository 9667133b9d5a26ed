# nix/module.nix in a configuration evaluated by the stand-in module system
# (tests/nix/module-lib.nix) over tests/nix/minimal.nix's pkgs and toplevel; the result is
# config.system.build.mkdiskimage (with .config). Built by tests/integration/nix-module.sh:
#   nix-build tests/nix/module-eval.nix --arg mkdiskimage build/mkdiskimage \
#     --arg settings '{ variant = "proxmox"; }'
{ mkdiskimage ? ../../build/mkdiskimage
, settings ? { } # mkdiskimage.* definitions
, bootLoader ? null
, hostSystem ? builtins.currentSystem
, via ? "flake" # "flake": the flake's nixosModules.default; "import": ../../nix/module.nix
}:
let
  parts = import ./minimal.nix { inherit mkdiskimage bootLoader hostSystem; via = "parts"; };
  lib = import ./module-lib.nix // { inherit (parts.lib) cleanSource; };
  inherit (lib) types mkOption;
  flake = (import ../../flake.nix).outputs { self = flake; nixpkgs = { }; };
  module = { flake = flake.nixosModules.default; import = ../../nix/module.nix; }.${via};
  # the NixOS options nix/module.nix reads, declared loosely; their values are minimal.nix's
  nixosStub = {
    options = {
      system.build = mkOption { type = types.attrsOf types.unspecified; default = { }; };
      system.nixos.version = mkOption { type = types.str; };
      system.nixos.versionSuffix = mkOption { type = types.str; };
      system.nixos.label = mkOption { type = types.str; default = parts.config.system.nixos.version; };
      users = mkOption { type = types.unspecified; default = { }; };
      boot = mkOption { type = types.unspecified; default = { }; };
    };
    config = parts.config;
  };
  nixos = lib.evalModules {
    # pkgs.mkdiskimage as the flake's overlay gives it
    specialArgs.pkgs = parts.pkgs // { mkdiskimage = parts.tool; };
    modules = [
      nixosStub
      module
      {
        mkdiskimage = {
          additionalSpace = "16M";
          installBootLoader = bootLoader != null;
          copyChannel = false;
          contents = [{
            source = builtins.toFile "motd" "hello from the module\n";
            target = "/etc/motd";
            mode = "0644";
          }];
        } // settings;
      }
    ];
  };
in
nixos.config.system.build.mkdiskimage // { inherit (nixos) config; }
