# nix/package.nix evaluated with a stand-in stdenv and lib (nixpkgs is not available offline):
# the attributes it gives stdenv.mkDerivation, and the source it copies (no build outputs).
let
  lib = {
    cleanSourceWith = { src, filter }:
      builtins.path { path = src; inherit filter; name = "source"; };
    removePrefix = p: s:
      let n = builtins.stringLength p; in
      if builtins.substring 0 n s == p then builtins.substring n (-1) s else s;
    hasPrefix = p: s: builtins.substring 0 (builtins.stringLength p) s == p;
    platforms.linux = [ "x86_64-linux" ];
  };
  stdenv = {
    mkDerivation = attrs: attrs;
    cc.targetPrefix = "";
  };
  # every other argument (a package) stands for itself by name
  fn = import ../../nix/package.nix;
  pkg = fn (builtins.mapAttrs (name: _: name) (builtins.functionArgs fn) // {
    inherit lib stdenv;
  });
  src = toString pkg.src;
in
{
  inherit (pkg) pname nativeBuildInputs buildInputs installPhase makeFlags;
  hasMakefile = builtins.pathExists (src + "/Makefile");
  hasSources = builtins.pathExists (src + "/src/cli/main.c");
  hasBuild = builtins.pathExists (src + "/build");
  hasCache = builtins.pathExists (src + "/tests/.cache");
}
