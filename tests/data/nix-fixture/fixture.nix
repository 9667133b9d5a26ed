# A NixOS-shaped closure for tests/integration/nix-store.sh, built by real Nix with builders
# that are /bin/sh and the host's coreutils (sandbox off). `n` packages reference earlier ones;
# the toplevel has what bootspec readers look for and references every package.
{ n ? 200 }:
let
  sys = builtins.currentSystem;
  mkWith = extra: name: script: builtins.derivation ({
    inherit name;
    system = sys;
    builder = "/bin/sh";
    args = [ "-e" "-c" script ];
    PATH = "/usr/bin:/bin";
  } // extra);
  mk = mkWith { };
  pkg = i: deps: mk "pkg-${toString i}" ''
    mkdir -p $out/bin $out/share/doc "$out/share/with space" $out/lib/a/b/c/d/e/f/g/h
    printf '#!/bin/sh\necho pkg-${toString i}\n' > $out/bin/pkg-${toString i}
    chmod 755 $out/bin/pkg-${toString i}
    echo "shared license text" > $out/share/doc/LICENSE
    : > $out/share/doc/empty
    echo "${toString i}" > "$out/share/with space/grüße ${toString i}.txt"
    echo deep > $out/lib/a/b/c/d/e/f/g/h/file
    ln $out/bin/pkg-${toString i} $out/bin/pkg-${toString i}-hardlink
    ln -s ../bin/pkg-${toString i} $out/share/relative-link
    ${builtins.concatStringsSep "\n" (map (d: ''
      ln -sn ${d}/bin $out/lib/dep-${d.name}
      ln -sn ../../${builtins.baseNameOf (toString d)}/share $out/lib/rel-dep-${d.name}
      echo ${d} >> $out/share/deps
    '') deps)}
  '';
  pkgs = builtins.genList (i:
    pkg i (if i == 0 then [ ] else
      [ (builtins.elemAt pkgs (i / 2)) ]
      ++ (if i > 3 && i - 3 != i / 2 then [ (builtins.elemAt pkgs (i - 3)) ] else [ ])))
    n;
  big = mk "big-file" ''
    mkdir -p $out
    head -c 3000000 /dev/urandom > $out/random
    head -c 5000000 /dev/zero > $out/zeros
  '';
  # the package list goes through a file: thousands of paths overflow the argument list
  toplevel = mkWith {
    packages = builtins.concatStringsSep "\n" (map toString pkgs) + "\n";
    passAsFile = [ "packages" ];
  } "nixos-system-fixture-24.05" ''
    mkdir -p $out
    printf 'kernel\n' > $out/kernel
    printf 'initrd\n' > $out/initrd
    printf '#!/bin/sh\nexec ${builtins.elemAt pkgs 0}/bin/pkg-0\n' > $out/init
    chmod 755 $out/init
    printf 'loglevel=4' > $out/kernel-params
    printf '24.05' > $out/nixos-version
    ln -s ${big} $out/big
    cp "$packagesPath" $out/packages
  '';
  channel = mk "nixos-channel" ''
    mkdir -p $out/nixos
    echo '{ }' > $out/nixos/default.nix
  '';
in { inherit toplevel channel; }
