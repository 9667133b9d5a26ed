# A drop-in for nixpkgs' nixos/lib/make-disk-image.nix: the same arguments, defaults and
# outputs ($out/<baseName>.<ext>, $out/nix-support/hydra-build-products, then postVM), built by
# ONE derivation that runs mkdiskimage on a JSON spec. No VM, no kvm system feature, no root.
#
#   import ./make-disk-image.nix { inherit pkgs lib config; format = "qcow2"; ... }
#
# What it needs from its arguments (see docs/nix.md):
#   pkgs: runCommand, closureInfo; path (copyChannel only); OVMF (touchEFIVars only);
#         mkdiskimage or buildPackages.callPackage (unless mkdiskimage is passed)
#   lib:  cleanSource (copyChannel only)
#   config: system.build.toplevel; system.nixos.version, .versionSuffix (copyChannel only);
#           users.users.<name>.uid, users.groups.<name>.gid (contents with user/group only);
#           boot.loader.{systemd-boot,grub}.enable, boot.loader.grub.package (installBootLoader)
#           boot.loader.generic-extlinux-compatible.{enable,useGenerationDeviceTree,copyKernels},
#           boot.loader.timeout, hardware.deviceTree.name (extlinux)
# What mkdiskimage cannot do it refuses at build time with a one-line message (a loader the
# layout cannot hold, fsType other than ext4); the build fails with it.
{ pkgs
, lib
, config
, diskSize ? "auto"
, additionalSpace ? "512M"
, bootSize ? "256M"
, contents ? [ ]
, partitionTableType ? "legacy"
, installBootLoader ? true
, touchEFIVars ? false
, OVMF ? pkgs.OVMF.fd
, efiFirmware ? OVMF.firmware
, efiVariables ? OVMF.variables
, fsType ? "ext4"
, label ? if onlyNixStore then "nix-store" else "nixos"
, configFile ? null
, postVM ? ""
, memSize ? 1024 # accepted and ignored: there is no VM
, onlyNixStore ? false
, name ? "nixos-disk-image"
, baseName ? "nixos"
, format ? "raw"
, deterministic ? true
, rootGPUID ? "F222513B-DED1-49FA-B591-20CE86A2FE7F"
, rootFSUID ? (if fsType == "ext4" then rootGPUID else null)
, copyChannel ? true
, additionalPaths ? [ ]
  # Not in nixpkgs: more keys for the tool's JSON spec (vmdkSubformat, vpcSubformat,
  # compression, compressionLevel, growOnBoot, ...; see `mkdiskimage options`), as nix/module.nix
  # passes them.
, extraSpec ? { }
  # Not in nixpkgs: the mkdiskimage package that builds the image (runs on the build machine).
, mkdiskimage ? pkgs.mkdiskimage or (pkgs.buildPackages.callPackage ./package.nix { })
}:

let
  check = cond: msg: if cond then true else throw "make-disk-image: ${msg}";
  elem = x: xs: builtins.elem x xs;
  isSet = v: v != null;

  partitionTableTypes = [ "legacy" "legacy+boot" "legacy+gpt" "efi" "efixbootldr" "hybrid" "none" ];
  checks = builtins.all (x: x) [
    (check (elem partitionTableType partitionTableTypes)
      ("partitionTableType must be one of ${builtins.toJSON partitionTableTypes}, "
        + "not ${builtins.toJSON partitionTableType}"))
    (check (fsType == "ext4" && deterministic -> rootFSUID != null)
      ("in deterministic mode with an ext4 partition, rootFSUID must be non-null "
        + "(by default it is rootGPUID)"))
    (check (partitionTableType != "none" -> fsType == "ext4")
      "a partition table needs fsType = \"ext4\"")
    (check (touchEFIVars -> elem partitionTableType [ "hybrid" "efi" "efixbootldr" "legacy+gpt" ])
      ("EFI variables can be used only with a partition table of type: "
        + "hybrid, efi, efixbootldr, or legacy+gpt"))
    (check (onlyNixStore -> contents == [ ] && configFile == null && !installBootLoader)
      ("in an only-Nix-store image, contents must be empty, configFile null and "
        + "installBootLoader false"))
    (check (builtins.all (e: isSet (e.user or null) == isSet (e.group or null)) contents)
      "contents entries set both of user and group, or neither")
  ];

  actualFormat = if format == "qcow2-compressed" then "qcow2" else format;
  filename = "${baseName}." + ({
    qcow2 = "qcow2";
    vdi = "vdi";
    vpc = "vhd";
    raw = "img";
    gce = "raw.tar.gz"; # the tool's gce: disk.raw in a gzip'd tar, as google-compute-image.nix
  }.${actualFormat} or actualFormat);

  # As nixpkgs makes it: the channel is the cleaned nixpkgs source under nixos/.
  channelSources = pkgs.runCommand "nixos-${config.system.nixos.version}" { } ''
    mkdir -p $out
    cp -prd ${lib.cleanSource pkgs.path} $out/nixos
    chmod -R u+w $out/nixos
    if [ ! -e $out/nixos/nixpkgs ]; then
      ln -s . $out/nixos/nixpkgs
    fi
    rm -rf $out/nixos/.git
    echo -n ${config.system.nixos.versionSuffix} > $out/nixos/.version-suffix
  '';

  toplevel = config.system.build.toplevel;
  basePaths = [ toplevel ] ++ (if copyChannel then [ channelSources ] else [ ]);
  # nixpkgs' subtractLists, on the paths' strings
  baseStrings = map toString basePaths;
  additionalPaths' = builtins.filter (p: !(elem (toString p) baseStrings)) additionalPaths;

  closureInfo = pkgs.closureInfo { rootPaths = basePaths ++ additionalPaths'; };

  # Contents owners: NixOS images have no /etc/passwd before first boot, so the names resolve
  # to the ids the configuration declares, through generated passwd and group files.
  isNumeric = s: builtins.isInt s || builtins.match "[0-9]+" s != null;
  owners = kind: builtins.filter (n: !(isNumeric n))
    (map (e: e.${kind}) (builtins.filter (e: isSet (e.${kind} or null)) contents));
  uniq = builtins.foldl' (acc: x: if elem x acc then acc else acc ++ [ x ]) [ ];
  declaredId = set: attr: what: n:
    let id = (config.users.${set}.${n} or { }).${attr} or null; in
    if id == null
    then
      throw ("make-disk-image: contents: ${what} \"${n}\" has no fixed ${attr} in the "
        + "configuration; set users.${set}.${n}.${attr} or give the ${what} as a number")
    else toString id;
  passwdText = builtins.concatStringsSep "" (map
    (n: "${n}:x:${declaredId "users" "uid" "user" n}:0::/var/empty:/bin/false\n")
    (uniq (owners "user")));
  groupText = builtins.concatStringsSep "" (map
    (n: "${n}:x:${declaredId "groups" "gid" "group" n}:\n")
    (uniq (owners "group")));
  hasOwners = owners "user" != [ ] || owners "group" != [ ];

  # installBootLoader: nixpkgs runs switch-to-configuration boot, which installs the loader the
  # configuration enables; here mkdiskimage installs it natively, or refuses.
  loader = config.boot.loader or { };
  enabled = l: loader.${l}.enable or false;
  bootKeys =
    if !installBootLoader then { installBootLoader = false; }
    else if enabled "systemd-boot" then { bootloader = "systemd-boot"; }
    else if enabled "grub" then {
      bootloader = "grub";
    } // (if loader.grub.package or null != null
    then { grubDir = "${loader.grub.package}/lib/grub/i386-pc"; } else { })
    else if enabled "generic-extlinux-compatible" then
      let
        ext = loader.generic-extlinux-compatible;
        timeout = loader.timeout or 5;
        dtName = config.hardware.deviceTree.name or null;
      in
      {
        # /boot/extlinux/extlinux.conf as the module's builder writes it (docs/formats/extlinux.md)
        bootloader = "extlinux";
        bootTimeout = if timeout == null then "none" else timeout;
        useGenerationDeviceTree = ext.useGenerationDeviceTree or true;
        copyKernels = ext.copyKernels or false;
      } // (if dtName != null then { deviceTreeName = dtName; } else { })
    else if builtins.any enabled [ "refind" "limine" ]
    then
      throw ("make-disk-image: installBootLoader: mkdiskimage installs systemd-boot, GRUB or extlinux, "
        + "not the boot loader this configuration enables; set installBootLoader = false")
    else
    # switch-to-configuration only warns when no loader is enabled: so does this.
      builtins.trace "make-disk-image: installBootLoader: the configuration enables no boot loader"
        { bootloader = "none"; };

  arch = {
    x86_64-linux = "x86-64";
    i686-linux = "x86";
    aarch64-linux = "aarch64";
    armv7l-linux = "arm";
    armv6l-linux = "arm";
    riscv64-linux = "riscv64";
    riscv32-linux = "riscv32";
    loongarch64-linux = "loongarch64";
    powerpc64le-linux = "ppc64le";
    s390x-linux = "s390x";
  }.${pkgs.stdenv.hostPlatform.system or ""} or null;

  spec = {
    inherit partitionTableType fsType label diskSize additionalSpace bootSize format baseName
      deterministic rootGPUID touchEFIVars onlyNixStore;
    closureInfo = closureInfo;
    contents = map
      (e: { inherit (e) source target; } // builtins.listToAttrs (map
        (k: { name = k; value = toString e.${k}; })
        (builtins.filter (k: isSet (e.${k} or null)) [ "mode" "user" "group" ])))
      contents;
  } // bootKeys
    // (if rootFSUID != null then { inherit rootFSUID; } else { })
    # the firmware's variable store, with Boot0000 for the installed loader, as $out/efi-vars.fd
    // (if touchEFIVars then {
    inherit efiVariables;
    efiVarsOut = builtins.placeholder "out" + "/efi-vars.fd";
  } else { })
    // (if arch != null then { inherit arch; } else { })
    // (if onlyNixStore then { copyChannel = false; } else {
    system = toplevel;
    copyChannel = copyChannel;
  } // (if copyChannel then { channel = channelSources; } else { })
    // (if configFile != null then { inherit configFile; } else { })
    // (if additionalPaths' != [ ] then { additionalPaths = additionalPaths'; } else { }))
    // extraSpec;

  ownerFlags = if hasOwners then ''--passwd "$passwdPath" --group "$groupPath"'' else "";
in
assert checks;
pkgs.runCommand name
  ({
    spec = builtins.toJSON spec;
    passAsFile = [ "spec" ] ++ (if hasOwners then [ "passwd" "group" ] else [ ]);
    passthru = { inherit closureInfo; };
  } // (if hasOwners then { passwd = passwdText; group = groupText; } else { }))
  (''
    mkdir -p $out
    ${mkdiskimage}/bin/mkdiskimage build --spec "$specPath" ${ownerFlags} -o $out/${filename}
    diskImage=$out/${filename}
  '' + ''
    mkdir -p $out/nix-support
    echo "file ${actualFormat}-image $out/${filename}" >> $out/nix-support/hydra-build-products
  '' + postVM)
