/* The option table (options.h): one entry per spec key and `mkdiskimage build` flag, in the
 * order --help lists them, and the --help text made from it. */
#include "spec/options.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/cleanup.h"
#include "util/diag.h"
#include "util/strbuf.h"
#include "util/xalloc.h"

#define F(member) offsetof(struct image_spec, member)

const struct spec_option spec_options[] = {
	/* Flags only: where the spec comes from and goes to, and how the build talks. */
	{ .flag = "spec", .arg = "FILE", .type = SPEC_OPT_PATH,
	  .help = "read a JSON spec (repeatable; later files override)" },
	{ .flag = "output", .short_flag = 'o', .arg = "OUT", .type = SPEC_OPT_PATH, .field = F(output),
	  .help = "the image file, or a directory to hold BASENAME.img (.qcow2, .vdi, .vhd, "
		  ".vmdk, .vhdx): an existing one, or DIR/ with a slash, created if missing "
		  "(required). Without format, the file's extension gives it (.qcow2, .vdi, .vhd, "
		  ".vmdk, .vhdx, .img, .raw). An "
		  "existing file is replaced when the image is complete; devices, FIFOs and "
		  "sockets are refused" },
	{ .flag = "output-device", .type = SPEC_OPT_BOOL, .field = F(output_device),
	  .help = "-o is a block device: write the raw image onto it in place (its first diskSize "
		  "bytes; it must not be mounted)" },

	/* What goes into the image. */
	{ .key = "root", .flag = "root", .arg = "DIR", .type = SPEC_OPT_PATH, .set = spec_set_root,
	  .help = "staging tree copied whole onto /" },
	{ .key = "rootTar", .flag = "root-tar", .arg = "FILE", .type = SPEC_OPT_PATH,
	  .set = spec_set_root_tar,
	  .help = "tar archive (plain, gzip, bzip2, xz, lzma, zstd or lz4) unpacked onto / instead "
		  "of --root, keeping its owners, modes, xattrs, ACLs, capabilities, hard links, "
		  "sparse files and devices: a root-owned tree without root (tar --xattrs -C DIR -c . "
		  "| mkdiskimage build --root-tar -). - reads standard input; file data is "
		  "spilled to one unlinked file in TMPDIR" },
	{ .key = "esp", .flag = "esp", .arg = "DIR", .type = SPEC_OPT_PATH, .set = spec_set_esp,
	  .help = "tree copied onto the ESP (FAT; efi, efixbootldr, hybrid); without it the ESP "
		  "is empty" },
	{ .key = "xbootldr", .flag = "xbootldr", .arg = "DIR", .type = SPEC_OPT_PATH,
	  .set = spec_set_xbootldr,
	  .help = "tree copied onto the /boot partition: XBOOTLDR (efixbootldr) or BOOT "
		  "(legacy+boot)" },
	{ .key = "contents", .flag = "contents", .arg = "SRC:TARGET[:MODE[:USER:GROUP]]",
	  .type = SPEC_OPT_LIST, .set = spec_set_contents_flag, .set_json = spec_json_contents,
	  .bracket = "[contents: list of {source, target, mode, user, group}]",
	  .help = "repeatable; replaces the spec's list. Fields split at ':'; write ':' in a path "
		  "as '\\:' and '\\' as '\\\\'. An empty MODE, USER or GROUP is unset." },

	/* The disk. */
	{ .key = "partitionTableType", .flag = "partition-table", .arg = "TYPE",
	  .type = SPEC_OPT_ENUM, .set = spec_set_part_table,
	  .values = "none legacy legacy+boot legacy+gpt efi efixbootldr hybrid gpt mbr",
	  .help = "none, legacy (default), legacy+boot, legacy+gpt, efi, efixbootldr or hybrid; "
		  "gpt or mbr with partitions" },
	{ .key = "partitions", .type = SPEC_OPT_LIST, .set_json = spec_json_partitions,
	  .help = "the disk's own partitions (with partitionTableType gpt or mbr): a list of "
		  "{type, label, fsLabel, uuid, fsUuid, fs, contents, size, minSize, maxSize, "
		  "additionalSpace, bootable, required, noAuto, readOnly, growFileSystem}" },
	{ .key = "definitions", .flag = "definitions", .arg = "DIR", .type = SPEC_OPT_PATH,
	  .field = F(definitions),
	  .help = "the partitions as systemd-repart definitions (repart.d/*.conf), read as "
		  "systemd-repart --empty=create does; instead of partitionTableType/partitions" },
	{ .key = "copySource", .flag = "copy-source", .arg = "DIR", .type = SPEC_OPT_PATH,
	  .field = F(copy_source),
	  .help = "where --definitions' CopyFiles= sources are (systemd-repart's --root); "
		  "default /" },
	{ .key = "disko", .flag = "disko", .arg = "FILE", .type = SPEC_OPT_PATH,
	  .field = F(disko),
	  .help = "the partitions as a disko.devices JSON (nix eval --json "
		  ".#nixosConfigurations.HOST.config.disko.devices); instead of "
		  "partitionTableType/partitions" },
	{ .key = "growOnBoot", .flag = "grow-on-boot", .type = SPEC_OPT_BOOL,
	  .field = F(grow_on_boot), .bracket = "[growOnBoot: true]",
	  .help = "set the GPT grow-file-system attribute (bit 59) on the root partition: "
		  "systemd-repart and systemd-growfs grow it to the disk the cloud gives" },
	{ .key = "fsType", .flag = "fs", .arg = "TYPE", .type = SPEC_OPT_STRING,
	  .set = spec_set_fs_type,
	  .help = "the root filesystem: ext4, or erofs (read-only, sized exactly by its contents)" },
	{ .key = "label", .flag = "label", .arg = "LABEL", .type = SPEC_OPT_STRING,
	  .set = spec_set_label, .def = SPEC_DEFAULT_LABEL,
	  .help = "filesystem label, at most 16 bytes" },
	{ .key = "diskSize", .flag = "disk-size", .arg = "auto|MIB", .type = SPEC_OPT_SIZE_OR_AUTO,
	  .set = spec_set_disk_size, .expected = "\"auto\" or a number of MiB",
	  .help = "\"auto\" (default) or MiB, e.g. 2048; a size with a suffix (4G) must be a "
		  "whole number of MiB" },
	{ .key = "additionalSpace", .flag = "additional-space", .arg = "SIZE",
	  .type = SPEC_OPT_SIZE, .set = spec_set_additional_space,
	  .expected = "a size such as \"512M\" or a number of MiB", .def = "512M",
	  .help = "free space auto sizing adds" },
	{ .key = "bootSize", .flag = "boot-size", .arg = "SIZE", .type = SPEC_OPT_SIZE,
	  .set = spec_set_boot_size, .expected = "a size such as \"256M\" or a number of MiB", .def = "256M",
	  .help = "end of the ESP, XBOOTLDR or legacy+boot's BOOT partition" },

	/* The output format and its options (format/format.c says which format takes which). */
	{ .key = "format", .flag = "format", .arg = "FORMAT", .type = SPEC_OPT_ENUM,
	  .set = spec_set_format,
	  .format_option = true,
	  .help = "raw, qcow2, qcow2-compressed, vdi, vpc (VHD), vmdk, vhdx (Hyper-V), gce (disk.raw "
		  "in a .tar.gz) or ova; default: from -o's extension (.img.zst: raw compressed), "
		  "else raw" },
	{ .key = "clusterSize", .flag = "cluster-size", .arg = "SIZE", .type = SPEC_OPT_SIZE,
	  .set = spec_set_cluster_size, .expected = "a size such as \"64K\"", .def = "64K",
	  .format_option = true,
	  .help = "qcow2 cluster size, a power of two from 0.5K to 2M (a number without a suffix "
		  "is MiB here too: 1 or 2)" },
	{ .key = "compression", .flag = "compression", .arg = "ALG", .type = SPEC_OPT_ENUM,
	  .set = spec_set_compression,
	  .values = "deflate zstd lz4 lz4hc", .format_option = true,
	  .help = "qcow2-compressed: deflate (default, as qemu-img -c) or zstd; erofs "
		  "filesystems: lz4 or lz4hc (compressionLevel 1-12)" },
	{ .key = "compressionLevel", .flag = "compression-level", .arg = "N", .type = SPEC_OPT_UINT,
	  .set = spec_set_compression_level, .expected = "a compression level",
	  .format_option = true,
	  .help = "1-12 for deflate, 1-22 for zstd; 0 (default): deflate 2, zstd 1 (fast; deflate "
		  "is still no larger than qemu-img -c on OS trees). Higher: smaller. raw --compress "
		  "and gce: zstd 1-22, gzip 1-12, xz 0-9; default as the tools: 3, 6, 6" },
	{ .key = "threads", .flag = "threads", .arg = "N", .type = SPEC_OPT_UINT,
	  .set = spec_set_threads, .expected = "a number of threads",
	  .format_option = true,
	  .help = "compression threads (0: one per core); the output is the same for any N" },
	{ .key = "vpcSubformat", .flag = "vpc-subformat", .arg = "TYPE", .type = SPEC_OPT_ENUM,
	  .set = spec_set_vpc_subformat,
	  .values = "dynamic fixed", .format_option = true,
	  .help = "vpc: dynamic (default) or fixed (rounded up to a whole MiB, as Azure "
		  "requires)" },
	{ .key = "vmdkSubformat", .flag = "vmdk-subformat", .arg = "TYPE", .type = SPEC_OPT_ENUM,
	  .set = spec_set_vmdk_subformat,
	  .values = "monolithicSparse streamOptimized", .format_option = true,
	  .help = "vmdk: monolithicSparse (default, as qemu-img -O vmdk) or streamOptimized "
		  "(compressed, what VMware and OVA imports want)" },
	{ .key = "vhdxBlockSize", .flag = "vhdx-block-size", .arg = "SIZE", .type = SPEC_OPT_SIZE,
	  .set = spec_set_vhdx_block_size, .expected = "a size such as \"1M\"", .def = "1M",
	  .format_option = true,
	  .help = "vhdx block size, a power of two from 1M to 256M" },
	{ .key = "compress", .flag = "compress", .arg = "ALG", .type = SPEC_OPT_ENUM,
	  .set = spec_set_file_compress,
	  .values = "zstd gzip xz none", .format_option = true,
	  .help = "raw: compress the whole file with zstd, gzip or xz (nixos.img.zst, ...); "
		  "default: from -o's extension, else none" },
	{ .key = "vmCpus", .flag = "vm-cpus", .arg = "N", .type = SPEC_OPT_UINT,
	  .set = spec_set_vm_cpus, .expected = "a number of CPUs", .format_option = true,
	  .help = "ova: virtual CPUs in the OVF descriptor (default 2)" },
	{ .key = "vmMemory", .flag = "vm-memory", .arg = "SIZE", .type = SPEC_OPT_SIZE,
	  .set = spec_set_vm_memory, .expected = "a size such as \"2G\" or a number of MiB",
	  .format_option = true,
	  .help = "ova: memory in the OVF descriptor (default 2G)" },
	{ .key = "baseName", .flag = "base-name", .arg = "NAME", .type = SPEC_OPT_STRING,
	  .set = spec_set_base_name, .def = SPEC_DEFAULT_BASE_NAME,
	  .help = "file name in an output directory" },

	/* Identifiers and ownership. */
	{ .key = "deterministic", .flag = "deterministic", .type = SPEC_OPT_BOOL,
	  .field = F(deterministic), .bracket = "[deterministic: true]",
	  .help = "fixed identifiers (default)" },
	{ .flag = "no-deterministic", .type = SPEC_OPT_BOOL, .off = true, .field = F(deterministic),
	  .bracket = "[deterministic: false]", .help = "random identifiers" },
	{ .key = "seed", .flag = "seed", .arg = "SEED", .type = SPEC_OPT_STRING,
	  .set = spec_set_seed,
	  .help = "derives every identifier (default \"" SPEC_SEED_PREFIX "\" followed by the "
		  "label)" },
	{ .key = "rootGPUID", .flag = "root-gpuid", .arg = "UUID", .type = SPEC_OPT_UUID,
	  .set = spec_set_root_gpuid, .def = SPEC_DEFAULT_ROOT_GPUID,
	  .help = "root partition GUID" },
	{ .key = "rootFSUID", .flag = "root-fsuid", .arg = "UUID", .type = SPEC_OPT_UUID,
	  .set = spec_set_root_fsuid, .help = "root filesystem UUID (the root GPUID)" },
	{ .key = "owner", .flag = "owner", .arg = "UID:GID", .type = SPEC_OPT_STRING,
	  .set = spec_set_owner, .expected = "a string \"UID:GID\"",
	  .help = "owner of every file in the image" },
	{ .key = "arch", .flag = "arch", .arg = "ARCH", .type = SPEC_OPT_ENUM, .set = spec_set_arch,
	  .values = "x86-64 x86 aarch64 arm riscv64 riscv32 loongarch64 ppc64le s390x",
	  .help = "root partition type: x86-64, x86, aarch64, arm, riscv64, riscv32, loongarch64, "
		  "ppc64le, s390x (default: the architecture mkdiskimage was built for)" },
	{ .key = "genericRootType", .flag = "generic-root-type", .type = SPEC_OPT_BOOL,
	  .field = F(generic_root_type), .bracket = "[genericRootType: true]",
	  .help = "root partition with the generic Linux filesystem type instead of the "
		  "architecture's" },
	{ .key = "reservedPercent", .flag = "reserved-percent", .arg = "N", .type = SPEC_OPT_UINT,
	  .set = spec_set_reserved_percent, .expected = "a whole number from 0 to 50", .def = "5",
	  .help = "ext4 reserved blocks, 0-50" },

	/* NixOS (issue #5). */
	{ .key = "closureInfo", .flag = "closure-info", .arg = "DIR", .type = SPEC_OPT_PATH,
	  .field = F(closure_info),
	  .help = "nixpkgs' closureInfo (store-paths, registration): copied into /nix/store with "
		  "its database" },
	{ .key = "system", .flag = "system", .arg = "TOPLEVEL", .type = SPEC_OPT_PATH,
	  .field = F(system), .help = "NixOS toplevel: the system profile, /etc/NIXOS" },
	{ .key = "configFile", .flag = "config-file", .arg = "F", .type = SPEC_OPT_PATH,
	  .field = F(config_file), .help = "installed as /etc/nixos/configuration.nix" },
	{ .key = "channel", .flag = "channel", .arg = "PATH", .type = SPEC_OPT_PATH,
	  .set = spec_set_channel, .bracket = "[channel, copyChannel]",
	  .help = "root's channel (a store path)" },
	{ .key = "copyChannel", .type = SPEC_OPT_BOOL, .field = F(copy_channel),
	  .help = "copy the channel (channel sets it)" },
	{ .key = "onlyNixStore", .flag = "only-nix-store", .type = SPEC_OPT_BOOL,
	  .field = F(only_nix_store),
	  .help = "the store at the filesystem root, label nix-store" },
	{ .key = "additionalPaths", .flag = "additional-paths", .arg = "PATH", .type = SPEC_OPT_LIST,
	  .set = spec_set_additional_path, .set_json = spec_json_additional_paths,
	  .help = "accepted: they are in the closure info" },
	{ .key = "passwd", .flag = "passwd", .arg = "FILE", .type = SPEC_OPT_PATH,
	  .field = F(passwd_file), .help = "resolves contents users (not /etc/passwd)" },
	{ .key = "group", .flag = "group", .arg = "FILE", .type = SPEC_OPT_PATH,
	  .field = F(group_file), .help = "resolves contents groups (not /etc/group)" },

	/* EFI variables and bootloaders (issue #6). */
	{ .key = "touchEFIVars", .flag = "touch-efi-vars", .type = SPEC_OPT_BOOL,
	  .field = F(touch_efi_vars), .bracket = "[touchEFIVars: true]",
	  .help = "write efi-vars.fd: the template with Boot0000 for systemd-boot on the ESP "
		  "(or for GRUB at grubEfiBootloaderId), BootOrder; the template alone for GRUB "
		  "on the removable path and for legacy+gpt (no ESP)" },
	{ .key = "efiVariables", .flag = "efi-vars-template", .arg = "F", .type = SPEC_OPT_PATH,
	  .field = F(efi_vars_template),
	  .help = "the firmware's variable-store template touchEFIVars starts from (default: "
		  "the first there of /usr/share/OVMF/OVMF_VARS_4M.fd, "
		  "/usr/share/OVMF/OVMF_VARS.fd, /usr/share/edk2/ovmf/OVMF_VARS.fd, "
		  "/usr/share/edk2/x64/OVMF_VARS.4m.fd, /usr/share/qemu/edk2-i386-vars.fd; "
		  "aarch64: /usr/share/AAVMF/AAVMF_VARS.fd, "
		  "/usr/share/edk2/aarch64/vars-template-pflash.raw, "
		  "/usr/share/qemu/edk2-arm-vars.fd)" },
	{ .key = "efiVarsOut", .flag = "efi-vars-out", .arg = "F", .type = SPEC_OPT_PATH,
	  .field = F(efi_vars_out),
	  .help = "where efi-vars.fd goes (default: in the -o directory)" },
	{ .key = "bootloader", .flag = "bootloader", .arg = "NAME", .type = SPEC_OPT_ENUM,
	  .set = spec_set_bootloader,
	  .values = "auto systemd-boot grub extlinux none",
	  .help = "auto (default: when a kernel is known, systemd-boot where there is an ESP and "
		  "systemdBootEfi is there, GRUB where there is only a BIOS place and grubDir is "
		  "there; hybrid gets both when grubDir is there), systemd-boot, grub, extlinux "
		  "(/boot/extlinux/extlinux.conf on the root, as NixOS's "
		  "generic-extlinux-compatible writes it, for U-Boot) or none [installBootLoader]" },
	{ .key = "installBootLoader", .type = SPEC_OPT_BOOL, .set = spec_set_install_bootloader,
	  .help = "false: no bootloader" },
	{ .key = "kernel", .flag = "kernel", .arg = "F", .type = SPEC_OPT_PATH, .field = F(kernel),
	  .help = "kernel to boot (in the root tree or on the host)" },
	{ .key = "initrd", .flag = "initrd", .arg = "F", .type = SPEC_OPT_PATH, .field = F(initrd),
	  .help = "its initrd" },
	{ .key = "cmdline", .flag = "cmdline", .arg = "S", .type = SPEC_OPT_STRING,
	  .field = F(cmdline), .help = "its kernel parameters" },
	{ .key = "systemdBootEfi", .flag = "systemd-boot-efi", .arg = "F", .type = SPEC_OPT_PATH,
	  .field = F(systemd_boot_efi),
	  .help = "systemd-boot's EFI binary (default: the first there of the system's "
		  "systemd/lib/systemd/boot/efi/systemd-bootARCH.efi, "
		  "/usr/lib/systemd/boot/efi/systemd-bootARCH.efi, "
		  "/run/current-system/sw/lib/systemd/boot/efi/systemd-bootARCH.efi; ARCH: x64 "
		  "or aa64)" },
	{ .key = "grubDir", .flag = "grub-dir", .arg = "DIR", .type = SPEC_OPT_PATH,
	  .field = F(grub_dir),
	  .help = "GRUB's i386-pc modules, GRUB on BIOS (legacy, legacy+gpt, hybrid; default "
		  "when grubEfiDir is not given either: the first of /usr/lib/grub/i386-pc, "
		  "/run/current-system/sw/lib/grub/i386-pc with boot.img and "
		  "../../../bin/grub-mkimage or grub2-mkimage)" },
	{ .key = "grubEfiDir", .flag = "grub-efi-dir", .arg = "DIR", .type = SPEC_OPT_PATH,
	  .field = F(grub_efi_dir),
	  .help = "GRUB's x86_64-efi modules: GRUB for UEFI as EFI/BOOT/BOOTX64.EFI, or at "
		  "grubEfiBootloaderId (efi, "
		  "efixbootldr, hybrid; default with bootloader grub when grubDir is not given "
		  "either: the first of /usr/lib/grub/x86_64-efi, "
		  "/run/current-system/sw/lib/grub/x86_64-efi with kernel.img and "
		  "../../../bin/grub-mkimage or grub2-mkimage)" },
	{ .key = "bootTimeout", .flag = "boot-timeout", .arg = "N", .type = SPEC_OPT_UINT,
	  .set = spec_set_boot_timeout, .expected = "seconds, or \"none\"", .def = "5",
	  .help = "extlinux: boot.loader.timeout in seconds (TIMEOUT 10N; 0: boot at once), or "
		  "none (wait for a choice)" },
	{ .key = "deviceTreeName", .flag = "device-tree-name", .arg = "F", .type = SPEC_OPT_STRING,
	  .field = F(device_tree_name),
	  .help = "extlinux: hardware.deviceTree.name, FDT DTBS/F instead of FDTDIR DTBS" },
	{ .key = "useGenerationDeviceTree", .type = SPEC_OPT_BOOL,
	  .field = F(use_generation_device_tree),
	  .help = "extlinux: FDTDIR/FDT for the system's dtbs (default true)" },
	{ .flag = "no-generation-device-tree", .type = SPEC_OPT_BOOL, .off = true,
	  .field = F(use_generation_device_tree), .bracket = "[useGenerationDeviceTree: false]",
	  .help = "extlinux: no FDTDIR/FDT line" },
	{ .key = "copyKernels", .flag = "copy-kernels", .type = SPEC_OPT_BOOL,
	  .field = F(copy_kernels),
	  .help = "extlinux: copy the kernel, initrd and device trees to /boot/nixos even when "
		  "they are in the image" },
	{ .key = "grubEfiBootloaderId", .flag = "grub-efi-id", .arg = "ID", .type = SPEC_OPT_STRING,
	  .field = F(grub_efi_id),
	  .help = "GRUB for UEFI at EFI/ID/grubx64.efi instead of the removable path, as "
		  "grub-install --bootloader-id=ID; with touchEFIVars a Boot entry titled ID "
		  "(letters, digits, . _ -)" },
	{ .key = "grubEfiNoNvram", .flag = "grub-efi-no-nvram", .type = SPEC_OPT_BOOL,
	  .field = F(grub_efi_no_nvram),
	  .help = "with grubEfiBootloaderId and touchEFIVars: no Boot entry (grub-install "
		  "--no-nvram); efi-vars.fd is the template" },
	{ .key = "allowEmpty", .flag = "allow-empty", .type = SPEC_OPT_BOOL, .field = F(allow_empty),
	  .help = "build even with nothing to put in the image (no root, rootTar, closureInfo, system, "
		  "contents, esp, xbootldr, kernel or partition contents): an empty filesystem on "
		  "purpose" },
	{ .key = "memSize", .type = SPEC_OPT_IGNORED, .set_json = spec_json_mem_size,
	  .help = "ignored: there is no VM" },

	/* Flags only: how the build talks. */
	{ .flag = "json", .type = SPEC_OPT_BOOL, .field = F(json),
	  .help = "print a machine-readable summary on stdout (the summary line stays on stderr)" },
	{ .flag = "quiet", .short_flag = 'q', .type = SPEC_OPT_BOOL, .field = F(quiet),
	  .help = "no summary line (\"wrote OUT: ...\") and no progress; warnings and errors "
		  "still go to stderr" },
	{ .flag = "verbose", .short_flag = 'v', .type = SPEC_OPT_BOOL, .field = F(verbose),
	  .help = "print the plan on stderr before writing: partitions (start, size, type, "
		  "label) and filesystems (size, free space, inodes)" },
	{ .flag = "progress", .type = SPEC_OPT_BOOL, .set = spec_set_progress,
	  .usage = "--progress, --no-progress",
	  .help = "force progress on stderr on or off (default: on when stderr is a terminal)" },
	{ .flag = "no-progress", .type = SPEC_OPT_BOOL, .off = true, .set = spec_set_progress },
	{ .flag = "help", .short_flag = 'h', .type = SPEC_OPT_BOOL, .field = F(help),
	  .help = "show this help" },
};

const size_t spec_n_options = ARRAY_SIZE(spec_options);

const struct spec_option *spec_option_by_key(const char *key)
{
	for (size_t i = 0; i < spec_n_options; i++)
		if (spec_options[i].key && strcmp(spec_options[i].key, key) == 0)
			return &spec_options[i];
	return NULL;
}

int spec_option_set(struct image_spec *s, const struct spec_option *o, const struct spec_arg *a,
		    struct diag *d)
{
	void *field = (char *)s + o->field;

	if (o->set)
		return o->set(s, a, d);
	switch (o->type) {
	case SPEC_OPT_BOOL:
		*(bool *)field = a->on;
		return 0;
	case SPEC_OPT_PATH:
		spec_set_path(field, a->text, a->base_dir);
		return 0;
	case SPEC_OPT_STRING:
		spec_set_path(field, a->text, /* base_dir= */ NULL); /* a copy, as given */
		return 0;
	default:
		return diag_fail(d, -EINVAL, "%s: no setter (an option table bug)",
				 o->key ? o->key : o->flag);
	}
}

const char *spec_option_expected(const struct spec_option *o)
{
	if (o->expected)
		return o->expected;
	switch (o->type) {
	case SPEC_OPT_PATH:
		return "a path";
	case SPEC_OPT_BOOL:
		return "true or false";
	case SPEC_OPT_UUID:
		return "a UUID string";
	case SPEC_OPT_SIZE:
	case SPEC_OPT_SIZE_OR_AUTO:
		return "a size";
	case SPEC_OPT_UINT:
		return "a whole number";
	default:
		return "a string";
	}
}

/* --help: the flag column is 31 wide, the text wraps at column 87. */
#define USAGE_COLUMN 31
#define USAGE_WIDTH 87

static char *usage_build(void)
{
	struct strbuf b = { 0 };

	strbuf_append(&b, "Usage: mkdiskimage build [--spec FILE.json] [FLAGS] -o OUT\n\n");
	strbuf_wrap(&b, SPEC_BUILD_DESCRIPTION, 0, 0, USAGE_WIDTH);
	strbuf_append(&b, "\n");
	for (size_t i = 0; i < spec_n_options; i++) {
		const struct spec_option *o = &spec_options[i];
		_cleanup_free_ char *left = NULL, *text = NULL, *bracket = NULL;

		if (!o->flag || !o->help)
			continue;
		if (o->usage)
			left = xasprintf("      %s", o->usage);
		else if (o->short_flag)
			left = xasprintf("  -%c, --%s%s%s", o->short_flag, o->flag, o->arg ? " " : "",
					 o->arg ? o->arg : "");
		else
			left = xasprintf("      --%s%s%s", o->flag, o->arg ? " " : "",
					 o->arg ? o->arg : "");
		bracket = o->bracket ? xstrdup(o->bracket)
			  : o->key   ? xasprintf("[%s]", o->key)
				     : NULL;
		text = xasprintf("%s%s%s%s%s%s", bracket ? bracket : "", bracket ? " " : "",
				 o->help, o->def ? " (" : "", o->def ? o->def : "",
				 o->def ? ")" : "");
		strbuf_append(&b, left);
		if (strlen(left) + 2 > USAGE_COLUMN) {
			strbuf_append(&b, "\n");
			strbuf_wrap(&b, text, 0, USAGE_COLUMN, USAGE_WIDTH);
		} else
			strbuf_wrap(&b, text, strlen(left), USAGE_COLUMN, USAGE_WIDTH);
	}
	strbuf_append(&b, "\nSpec keys without a flag:\n");
	for (size_t i = 0; i < spec_n_options; i++) {
		const struct spec_option *o = &spec_options[i];
		_cleanup_free_ char *left = NULL;

		if (o->flag)
			continue;
		left = xasprintf("  %s", o->key);
		strbuf_append(&b, left);
		strbuf_wrap(&b, o->help, strlen(left), USAGE_COLUMN, USAGE_WIDTH);
	}
	strbuf_append(&b, "\n");
	strbuf_wrap(&b, SPEC_SIZES_HELP, 0, 0, USAGE_WIDTH);
	return strbuf_steal(&b);
}

const char *spec_usage(void)
{
	static char *text;

	if (!text)
		text = usage_build(); /* once; kept for the process's life */
	return text;
}
