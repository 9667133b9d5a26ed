# nix/make-disk-image.nix called with a minimal pkgs/lib/config made from Nix builtins only
# (nixpkgs is not available offline): derivations whose builder is the host's /bin/sh, run
# with the sandbox off so host tools (coreutils, jq) work. Built by
# tests/integration/nix-function.sh with Debian's nix-bin:
#   nix-build tests/nix/minimal.nix --arg mkdiskimage /path/to/mkdiskimage --argstr format qcow2
{ mkdiskimage ? ../../build/mkdiskimage
, format ? "raw"
, partitionTableType ? "legacy"
, onlyNixStore ? false
, copyChannel ? true
, installBootLoader ? false
, fsType ? "ext4"
, via ? "import" # "flake": the flake's lib.makeDiskImage; "overlay": its pkgs.mkdiskimage
  # "parts": { pkgs lib config tool } for tests/nix/module-eval.nix
, hostSystem ? builtins.currentSystem # the image's: pkgs.stdenv.hostPlatform.system
, kernel ? null # host files for the toplevel's kernel and initrd (zeros without)
, initrd ? null
, marker ? null # /mkdiskimage-marker's text, for tests/boot's initramfs
, bootLoader ? null # "systemd-boot", "grub", "generic-extlinux-compatible": boot.loader.<it>.enable
, extraArgs ? { } # more make-disk-image arguments, e.g. { diskSize = 64; baseName = "disk"; }
, contentsUser ? "nginx" # a name without a uid in config: an evaluation error
, loaderConfig ? { } # merged into config.boot.loader.<loader>, e.g. { grub.efiSupport = true; }
}:
let
  system = builtins.currentSystem;
  hostPath = "/usr/bin:/bin";

  # nixpkgs' runCommand: name, environment, script (POSIX sh here, bash in nixpkgs).
  runCommand = name: env: script:
    let
      drv = derivation (builtins.removeAttrs env [ "passthru" ] // {
        inherit name system;
        builder = "/bin/sh";
        args = [ "-c" ("set -eu\n" + script) ];
        PATH = hostPath;
      });
    in
    drv // (env.passthru or { });

  # nixpkgs' closureInfo (pkgs/build-support/closure-info.nix): exportReferencesGraph with
  # structured attributes gives each path's narHash, narSize and references; registration is
  # what `nix-store --load-db` reads, store-paths one path a line.
  closureInfo = { rootPaths }: derivation {
    name = "closure-info";
    inherit system;
    builder = "/bin/sh";
    __structuredAttrs = true;
    exportReferencesGraph.closure = rootPaths;
    args = [
      "-c"
      ''
        set -eu
        export PATH=${hostPath}
        attrs=''${NIX_ATTRS_JSON_FILE:-$NIX_BUILD_TOP/.attrs.json}
        out=$(jq -r .outputs.out "$attrs")
        mkdir "$out"
        jq -r '.closure | map(.narSize) | add' <"$attrs" >"$out/total-nar-size"
        jq -r '.closure | map([.path, .narHash, .narSize, "", (.references | length)]
          + .references) | add | map("\(.)\n") | add' <"$attrs" | head -n -1 >"$out/registration"
        jq -r '.closure[].path' <"$attrs" >"$out/store-paths"
      ''
    ];
  };

  # lib.cleanSource, minus the version-control and build-result filters nixpkgs adds
  cleanSource = src: builtins.path {
    path = src;
    name = "source";
    filter = p: type: !(type == "directory" && baseNameOf p == ".git");
  };

  # the tool, as a store path with bin/mkdiskimage
  bin = builtins.path { path = mkdiskimage; name = "mkdiskimage-bin"; };
  tool = runCommand "mkdiskimage" { inherit bin; } ''
    mkdir -p $out/bin
    cp $bin $out/bin/mkdiskimage
    chmod 555 $out/bin/mkdiskimage
  '';

  # A NixOS-shaped toplevel: init, kernel, initrd, kernel-params, nixos-version, and a
  # dependency it references (so the closure has more than one path).
  sw = runCommand "sw" { } ''
    mkdir -p $out/bin $out/share/doc
    printf '#!/bin/sh\necho hello\n' >$out/bin/hello
    chmod 555 $out/bin/hello
    printf 'licence text\n' >$out/share/doc/LICENSE
    ln -s ../share/doc/LICENSE $out/bin/licence
  '';
  # systemd's EFI binaries, from the host (Debian's systemd-boot-efi), where a NixOS toplevel's
  # systemd link finds them; empty when the host has none.
  systemd = runCommand "systemd-minimal" { } ''
    mkdir -p $out/lib/systemd/boot/efi
    if [ -f /usr/lib/systemd/boot/efi/systemd-bootx64.efi ]; then
      cp /usr/lib/systemd/boot/efi/systemd-bootx64.efi $out/lib/systemd/boot/efi/
    fi
  '';
  # GRUB's BIOS modules and grub-mkimage, from the host (Debian's grub-pc-bin, grub-common),
  # where a grub package has them
  # GRUB's x86_64-efi modules (Debian's grub-efi-amd64-bin), where nixpkgs' grub2_efi has them
  grubEfi = runCommand "grub-efi-minimal" { } ''
    mkdir -p $out/lib/grub $out/bin
    cp -r /usr/lib/grub/x86_64-efi $out/lib/grub/
    cp /usr/bin/grub-mkimage $out/bin/
  '';
  grub = runCommand "grub-minimal" { } ''
    mkdir -p $out/lib/grub $out/bin
    cp -r /usr/lib/grub/i386-pc $out/lib/grub/
    cp /usr/bin/grub-mkimage $out/bin/
  '';
  # kernel-params as NixOS writes them: without init= (the bootloader adds it)
  toplevel = runCommand "nixos-system-minimal-24.11"
    { kernelSrc = toString kernel; initrdSrc = toString initrd; } ''
    mkdir -p $out
    printf '#!/bin/sh\nexec ${sw}/bin/hello\n' >$out/init
    chmod 555 $out/init
    head -c 4096 /dev/zero >$out/kernel
    head -c 2048 /dev/zero >$out/initrd
    [ -z "$kernelSrc" ] || cp "$kernelSrc" $out/kernel
    [ -z "$initrdSrc" ] || cp "$initrdSrc" $out/initrd
    printf 'console=ttyS0 mdi.root=LABEL=nixos' >$out/kernel-params
    printf '24.11' >$out/nixos-version
    ln -s ${sw} $out/sw
    ln -s ${systemd} $out/systemd
  '';
  extra = runCommand "extra" { } ''
    mkdir -p $out
    printf 'an additional path\n' >$out/data
  '';

  pkgs = {
    inherit runCommand closureInfo;
    path = ./fake-nixpkgs;
    stdenv.hostPlatform.system = hostSystem;
    grub2_efi = grubEfi;
    # nixpkgs' OVMF.fd, from the host's (Debian's ovmf); read only with touchEFIVars
    OVMF.fd = {
      variables = builtins.path { path = /usr/share/OVMF/OVMF_VARS_4M.fd; name = "OVMF_VARS.fd"; };
      firmware = builtins.path { path = /usr/share/OVMF/OVMF_CODE_4M.fd; name = "OVMF.fd"; };
    };
  };
  lib = { inherit cleanSource; };
  config = baseConfig // {
    boot.loader = builtins.mapAttrs (k: v: (baseConfig.boot.loader.${k} or { }) // v)
      ((baseConfig.boot.loader or { }) // loaderConfig);
  };
  baseConfig = {
    system.build.toplevel = toplevel;
    system.nixos.version = "24.11";
    system.nixos.versionSuffix = ".minimal";
    users.users.root.uid = 0;
    users.users.nginx.uid = 60;
    users.groups.root.gid = 0;
    users.groups.nginx.gid = 61;
  } // (if bootLoader == null then { } else {
    boot.loader.${bootLoader}.enable = true;
  }) // (if bootLoader == "grub" then { boot.loader.grub = { enable = true; package = grub; }; }
  else { });

  # The flake, its nixpkgs input faked: callPackage ./nix/package.nix gives the tool above.
  callPackage = p: args:
    assert baseNameOf p == "package.nix" && builtins.pathExists p; tool;
  fakeNixpkgs = {
    lib.genAttrs = names: f: builtins.listToAttrs (map (n: { name = n; value = f n; }) names);
    legacyPackages.${system} = { inherit callPackage; };
  };
  flake = (import ../../flake.nix).outputs { self = flake; nixpkgs = fakeNixpkgs; };
  flakeChecks = builtins.all (x: x) [
    (flake.packages.${system}.default.drvPath == tool.drvPath)
    ((flake.overlays.default { inherit callPackage; } { }).mkdiskimage.drvPath == tool.drvPath)
  ];
  makeDiskImage = {
    import = args: import ../../nix/make-disk-image.nix (args // { mkdiskimage = tool; });
    flake = args: flake.lib.makeDiskImage
      (args // { pkgs = args.pkgs // { buildPackages = { inherit callPackage; }; }; });
    overlay = args: import ../../nix/make-disk-image.nix (args // {
      pkgs =
        let final = args.pkgs // { inherit callPackage; } // flake.overlays.default final args.pkgs;
        in final;
    });
    # tests/nix/module-eval.nix: the pieces, for a module evaluation
    parts = args: { inherit pkgs lib config tool; };
  }.${via};
in
assert flakeChecks;
makeDiskImage ({
  inherit pkgs lib config format partitionTableType onlyNixStore copyChannel installBootLoader
    fsType;
  additionalSpace = "16M";
  additionalPaths = [ extra ];
  postVM = ''
    echo "postVM ran on $diskImage" >$out/postvm.txt
  '';
} // (if onlyNixStore then { } else {
  configFile = builtins.toFile "configuration.nix"
    "{ ... }: { boot.loader.grub.enable = false; }\n";
  contents = [
    {
      source = builtins.toFile "motd" "hello from make-disk-image\n";
      target = "/etc/motd";
      mode = "0644";
    }
    {
      source = ./fake-nixpkgs;
      target = "/srv/www";
      mode = "0750";
      user = contentsUser;
      group = "nginx";
    }
  ] ++ (if marker == null then [ ] else [{
    source = builtins.toFile "mkdiskimage-marker" "${marker}\n";
    target = "/mkdiskimage-marker";
  }]);
}) // extraArgs)
