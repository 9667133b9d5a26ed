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
#           boot.loader.* (installBootLoader: see docs/nix.md "Bootloaders": grub's package,
#           efiPackage, device(s), efiSupport, efiInstallAsRemovable, mirroredBoots; efi's
#           canTouchEfiVariables, efiSysMountPoint; systemd-boot's extraEntries, extraFiles)
#           boot.loader.generic-extlinux-compatible.{enable,useGenerationDeviceTree,copyKernels},
#           boot.loader.timeout, hardware.deviceTree.name (extlinux)
#   pkgs (installBootLoader with GRUB, when the configuration names no package): grub2, grub2_efi
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
  # Newer nixpkgs' arguments (see docs/nix.md): mkdiskimage's images are always bit-for-bit
  # reproducible and its filesystem is written in one pass, so these change nothing but are
  # checked as nixpkgs checks them.
, reproducible ? false
, populateRootWith ? if reproducible then "mke2fs" else "cptofs"
, rootFSHashSeed ? rootFSUID
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
    (check (elem populateRootWith [ "cptofs" "mke2fs" ])
      "populateRootWith must be one of [\"cptofs\",\"mke2fs\"], not ${builtins.toJSON populateRootWith}")
    (check (populateRootWith == "mke2fs" -> elem fsType [ "ext2" "ext3" "ext4" ])
      "populateRootWith = \"mke2fs\" needs an ext2, ext3 or ext4 root filesystem")
    (check (reproducible -> deterministic && populateRootWith == "mke2fs"
      && elem fsType [ "ext2" "ext3" "ext4" ])
      ("reproducible = true needs deterministic = true and an ext2, ext3 or ext4 root "
        + "filesystem populated with mke2fs"))
    (check (rootFSHashSeed == null || builtins.isString rootFSHashSeed)
      "rootFSHashSeed must be a UUID string or null")
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
  hasEsp = elem partitionTableType [ "efi" "efixbootldr" "hybrid" ];
  hasBiosPlace = elem partitionTableType [ "legacy" "legacy+boot" "legacy+gpt" "hybrid" ];

  # GRUB (boot.loader.grub): install-grub.pl installs i386-pc on the configuration's devices
  # unless they are only "nodev", and x86_64-efi into the ESP with efiSupport. The packages:
  # boot.loader.grub.package/efiPackage where the configuration has them (older nixpkgs), else
  # pkgs.grub2 and pkgs.grub2_efi (what grub.nix uses: grub2, grub2.override { efiSupport }).
  grubCfg = loader.grub or { };
  efiCfg = loader.efi or { };
  grubDevices = (grubCfg.devices or [ ])
    ++ (if (grubCfg.device or "") != "" then [ grubCfg.device ] else [ ]);
  grubBios = hasBiosPlace && !(grubDevices != [ ] && builtins.all (x: x == "nodev") grubDevices);
  grubEfi = hasEsp && (grubCfg.efiSupport or false);
  grubPkg = grubCfg.package or (pkgs.grub2 or null);
  grubEfiPkg = grubCfg.efiPackage or (pkgs.grub2_efi or null);
  canTouchEfiVariables = efiCfg.canTouchEfiVariables or false;
  removable = grubCfg.efiInstallAsRemovable or false;
  # grub.nix: efiBootloaderId, else distroName and efiSysMountPoint with "/" as "-" ("NixOS-boot")
  efiSysMountPoint = efiCfg.efiSysMountPoint or "/boot";
  mirrored = grubCfg.mirroredBoots or [ ];
  bootloaderId =
    if mirrored != [ ] && (builtins.head mirrored).efiBootloaderId or null != null
    then (builtins.head mirrored).efiBootloaderId
    else (config.system.nixos.distroName or "NixOS")
      + builtins.replaceStrings [ "/" ] [ "-" ] efiSysMountPoint;
  grubKeys =
    if !grubBios && !grubEfi then
      throw ("make-disk-image: installBootLoader: boot.loader.grub on partitionTableType "
        + "\"${partitionTableType}\": "
        + (if hasEsp then "set boot.loader.grub.efiSupport = true (GRUB for UEFI), or a device "
        + "other than \"nodev\" on hybrid"
        else "its devices are only \"nodev\"; set boot.loader.grub.device"))
    else if grubEfi && canTouchEfiVariables && removable then
      throw ("make-disk-image: installBootLoader: boot.loader.grub.efiInstallAsRemovable needs "
        + "boot.loader.efi.canTouchEfiVariables = false (as grub.nix asserts)")
    else if grubEfi && canTouchEfiVariables && !touchEFIVars then
      throw ("make-disk-image: installBootLoader: boot.loader.efi.canTouchEfiVariables: "
        + "grub-install registers GRUB in the firmware's variables: set touchEFIVars = true "
        + "(they go into $out/efi-vars.fd), or boot.loader.grub.efiInstallAsRemovable = true "
        + "with canTouchEfiVariables = false")
    else { bootloader = "grub"; }
      // (if grubBios && grubPkg != null then { grubDir = "${grubPkg}/lib/grub/i386-pc"; } else { })
      // (if grubEfi && grubEfiPkg != null
    then { grubEfiDir = "${grubEfiPkg}/lib/grub/x86_64-efi"; } else { })
      # removable: EFI/BOOT/BOOTX64.EFI; canTouchEfiVariables: EFI/<id>/grubx64.efi and its
      # Boot entry (grub-install --bootloader-id); neither: grub-install --no-nvram without an
      # id, EFI/grub/grubx64.efi and no entry
      // (if !grubEfi || removable then { }
    else if canTouchEfiVariables then { grubEfiBootloaderId = bootloaderId; }
    else { grubEfiBootloaderId = "grub"; grubEfiNoNvram = true; });

  # systemd-boot's extraEntries (loader/entries/NAME) and extraFiles (NAME), with the empty
  # markers under EFI/nixos/.extra-files/ systemd-boot-builder keeps for them, on the XBOOTLDR
  # partition when the configuration mounts one (xbootldrMountPoint), else on the ESP.
  sdCfg = loader.systemd-boot or { };
  sdEntries = sdCfg.extraEntries or { };
  sdFiles = sdCfg.extraFiles or { };
  sdOnXbootldr = partitionTableType == "efixbootldr" && (sdCfg.xbootldrMountPoint or null) != null;
  sdEntryNames = builtins.attrNames sdEntries;
  entryVar = i: "entry${toString i}";
  sdExtra = pkgs.runCommand "systemd-boot-extra"
    ({
      entryNames = builtins.concatStringsSep "\n" sdEntryNames;
      # NAME and SOURCE lines, a pair a file
      files = builtins.concatStringsSep "" (map (n: "${n}\n${toString sdFiles.${n}}\n")
        (builtins.attrNames sdFiles));
      passAsFile = [ "files" ] ++ builtins.genList entryVar (builtins.length sdEntryNames);
    } // builtins.listToAttrs (builtins.genList
      (i: { name = entryVar i; value = sdEntries.${builtins.elemAt sdEntryNames i}; })
      (builtins.length sdEntryNames))) ''
    mkdir -p $out
    # FAT does not tell "efi" from "EFI": as on the mounted ESP, one directory (the loaders')
    put() {
      dst=$(printf '%s\n' "$1" | sed 's,^[eE][fF][iI]/,EFI/,; s,^EFI/[bB][oO][oO][tT]/,EFI/BOOT/,')
      mkdir -p "$out/$(dirname "$dst")" "$out/EFI/nixos/.extra-files/$(dirname "$1")"
      cp -L "$2" "$out/$dst"
      chmod 0644 "$out/$dst"
      : >"$out/EFI/nixos/.extra-files/$1"
    }
    i=0
    printf '%s\n' "$entryNames" | while IFS= read -r name; do
      [ -n "$name" ] || continue
      eval "src=\$entry''${i}Path"
      put "loader/entries/$name" "$src"
      i=$((i + 1))
    done
    while IFS= read -r name && IFS= read -r src; do
      put "$name" "$src"
    done <"$filesPath"
  '';
  sdKeys = { bootloader = "systemd-boot"; }
    // (if sdEntries == { } && sdFiles == { } then { }
  else if sdOnXbootldr then { xbootldr = sdExtra; } else { esp = sdExtra; });

  unsupported = builtins.filter enabled
    [ "refind" "limine" "raspberryPi" "external" ];
  bootKeys =
    if !installBootLoader then { installBootLoader = false; }
    else if enabled "systemd-boot" then sdKeys
    else if enabled "grub" then grubKeys
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
    else if unsupported != [ ]
    then
      throw ("make-disk-image: installBootLoader: boot.loader.${builtins.head unsupported}.enable: "
        + "mkdiskimage installs boot.loader.systemd-boot (with extraEntries, extraFiles), "
        + "boot.loader.grub (BIOS, efiSupport, efiInstallAsRemovable) or "
        + "boot.loader.generic-extlinux-compatible, not the boot loader this "
        + "configuration enables; set installBootLoader = false, or enable one of those")
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
  '' + (if touchEFIVars then ''
    efiVars=$out/efi-vars.fd
  '' else "") + ''
    mkdir -p $out/nix-support
    echo "file ${actualFormat}-image $out/${filename}" >> $out/nix-support/hydra-build-products
  '' + postVM)
