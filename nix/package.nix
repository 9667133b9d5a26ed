# mkdiskimage, built with the project's own Makefile.
#   pkgs.callPackage ./nix/package.nix { }
{ lib
, stdenv
, pkg-config
, zlib
, nettle
, json-c
, zstd
, libdeflate
, sqlite
, libarchive
, xz
}:

stdenv.mkDerivation {
  pname = "mkdiskimage";
  version = "0-unstable";

  # The repository without build outputs, caches or Nix results.
  src = lib.cleanSourceWith {
    src = ../.;
    filter = path: type:
      let rel = lib.removePrefix (toString ../. + "/") (toString path); in
      !(builtins.elem rel [ ".git" "build" "build-san" "bench/work" "tests/.cache" ])
      && !(lib.hasPrefix "result" (baseNameOf path));
  };

  nativeBuildInputs = [ pkg-config ];
  buildInputs = [ zlib nettle json-c zstd libdeflate sqlite libarchive xz ];

  makeFlags = [ "CC=${stdenv.cc.targetPrefix}cc" ];
  enableParallelBuilding = true;

  installPhase = ''
    runHook preInstall
    install -Dm755 build/mkdiskimage $out/bin/mkdiskimage
    runHook postInstall
  '';

  meta = {
    description = "Bootable disk images as make-disk-image makes them, without root or a VM";
    mainProgram = "mkdiskimage";
    platforms = lib.platforms.linux;
  };
}
