/* The image spec: make-disk-image's arguments, from a JSON file and `mkdiskimage build` flags.
 *
 * Order of use: image_spec_new() (defaults), spec_parse_args() (loads every --spec FILE, then
 * applies the other flags, so flags override the files regardless of their order), then
 * spec_validate() (derived defaults, cross-checks). Every error is one line naming the key or
 * flag and the fix. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "format/format.h"
#include "part/part.h"
#include "tree/contents.h"
#include "util/cleanup.h"

struct diag;

#define SPEC_LABEL_MAX 16 /* ext4 s_volume_name */
#define SPEC_DEFAULT_LABEL "nixos"
#define SPEC_DEFAULT_BASE_NAME "nixos"
#define SPEC_DEFAULT_ROOT_GPUID "F222513B-DED1-49FA-B591-20CE86A2FE7F" /* as nixpkgs */
#define SPEC_DEFAULT_ADDITIONAL_SPACE (512ull << 20)
#define SPEC_DEFAULT_BOOT_SIZE (256ull << 20)
#define SPEC_DEFAULT_RESERVED_PERCENT 5u
#define SPEC_MAX_WARNINGS 4
#define SPEC_SEED_PREFIX "mkdiskimage:" /* default seed: SPEC_SEED_PREFIX + label */

enum spec_bootloader {
	SPEC_BOOTLOADER_AUTO,
	SPEC_BOOTLOADER_NONE,
	SPEC_BOOTLOADER_SYSTEMD_BOOT,
	SPEC_BOOTLOADER_GRUB,
	SPEC_BOOTLOADER_EXTLINUX, /* generic-extlinux-compatible: /boot/extlinux/extlinux.conf */
};

/* One entry of "partitions": the disk model's partition as the user wrote it (part/ turns it
 * into a placed partition; spec_validate() checks what can be checked without the disk). */
struct spec_partition {
	char *type;  /* "type": a role name (esp, xbootldr, bios-boot, swap, root, linux, home,
		      * ...), a GPT type GUID, or an MBR type byte ("0x83"); required */
	char *label; /* "label": GPT name, also the filesystem label unless "fsLabel" */
	char *fs_label;  /* "fsLabel" */
	bool uuid_set;   /* "uuid": PARTUUID (else derived from the seed) */
	uint8_t uuid[16];
	bool fs_uuid_set; /* "fsUuid": filesystem UUID */
	uint8_t fs_uuid[16];
	char *fs;        /* "fs": ext4, vfat, swap, raw, none (NULL: the role's default) */
	char *contents;  /* "contents": host dir (ext4, vfat) or file (raw); root: spec root */
	/* "size": a size, "auto" (fit the contents + additionalSpace) or "rest" (what is left
	 * of a fixed diskSize); minSize/maxSize bound auto and rest. */
	enum { SPEC_PART_SIZE_AUTO, SPEC_PART_SIZE_FIXED, SPEC_PART_SIZE_REST } size_kind;
	uint64_t size_bytes;
	uint64_t min_bytes, max_bytes;   /* "minSize", "maxSize" (0: none) */
	bool additional_space_set;       /* "additionalSpace": free space auto keeps */
	uint64_t additional_space_bytes;
	bool bootable;  /* "bootable": MBR active flag / GPT legacy BIOS bootable (bit 2) */
	bool required;  /* "required": GPT bit 0 */
	bool no_auto;   /* "noAuto": GPT bit 63 (Discoverable Partitions) */
	bool read_only; /* "readOnly": GPT bit 60 */
	bool grow_fs;   /* "growFileSystem": GPT bit 59 */
	/* Set by the definitions loader only (spec/repart.c), not JSON keys: */
	uint64_t start_bytes;      /* a fixed start (0: placed after the one before) */
	uint64_t attributes_extra; /* more GPT attribute bits (Flags=) */
	struct contents_entry *copies; /* CopyFiles=SRC:DST: sources under copySource */
	size_t n_copies;
	char **mkdirs;             /* MakeDirectories= */
	size_t n_mkdirs;
};

struct image_spec {
	char *root; /* "root" / --root: staging tree copied whole onto / (NULL: none) */
	char *root_tar; /* "rootTar" / --root-tar: tar archive unpacked onto / ("-": stdin) */
	char *esp;      /* "esp" / --esp: host tree copied onto the ESP (NULL: an empty ESP) */
	char *xbootldr; /* "xbootldr" / --xbootldr: host tree copied onto XBOOTLDR */
	struct contents_entry *contents; /* "contents" / --contents, in order */
	size_t n_contents;
	enum part_table partition_table; /* "partitionTableType", default legacy; gpt or mbr
					  * with "partitions" */
	struct spec_partition *partitions; /* "partitions": the disk's own list (or NULL: the
					    * partitionTableType preset) */
	size_t n_partitions;
	char *definitions; /* "definitions" / --definitions DIR: systemd-repart's repart.d
			    * partition definitions; spec_validate() fills "partitions" from them
			    * (spec/repart.c) */
	char *copy_source; /* "copySource" / --copy-source DIR: where CopyFiles= sources are
			    * (systemd-repart's --root); NULL: / */
	bool disk_uuid_set; /* the GPT disk GUID (the definitions loader: repart's) */
	uint8_t disk_uuid[16];
	uint64_t gpt_first_usable_lba; /* the GPT header's, 0: 34 (definitions: libfdisk's 2048) */
	char *disko;       /* "disko" / --disko FILE: a disko.devices JSON; spec_validate() fills
			    * "partitions" from it (spec/disko.c) */
	char *fs_type;                   /* "fsType": only "ext4" passes spec_validate() */
	char *label;                     /* "label", at most SPEC_LABEL_MAX bytes */
	bool disk_size_auto;             /* "diskSize": "auto" (default) ... */
	uint64_t disk_size_bytes;        /* ... or a fixed size, a whole number of MiB */
	uint64_t additional_space_bytes; /* "additionalSpace", free space added by auto sizing */
	uint64_t boot_size_bytes;        /* "bootSize": where the ESP (or XBOOTLDR) ends */
	char *format;    /* "format": raw, qcow2, qcow2-compressed, vdi or vpc (with a sink) */
	bool format_set; /* "format" given: else spec_validate() takes it from -o's extension */
	uint32_t cluster_size; /* "clusterSize": qcow2 cluster bytes, 0 = the sink's default */
	enum format_compression compression; /* "compression": NONE = deflate, for
					      * qcow2-compressed only */
	uint32_t threads;      /* "threads": compression workers, 0 = one per core */
	uint32_t compression_level; /* "compressionLevel": 0 = the sink's default (speed first) */
	uint8_t fs_compression; /* "compression" lz4/lz4hc: erofs's (enum fs_compression) */
	enum format_vpc_subformat vpc_subformat; /* "vpcSubformat": dynamic or fixed */
	enum format_vmdk_subformat vmdk_subformat; /* "vmdkSubformat" */
	uint32_t vhdx_block_size; /* "vhdxBlockSize": bytes, 0 = the sink's default (1 MiB) */
	enum format_file_compress file_compress; /* "compress": raw's whole-file compression */
	bool file_compress_set;                  /* else -o's extension (.zst, .gz, .xz) says */
	uint32_t vm_cpus;         /* "vmCpus": ova's virtual CPUs, 0 = default */
	uint64_t vm_memory_bytes; /* "vmMemory": ova's memory, 0 = default */
	bool grow_on_boot; /* "growOnBoot": GPT grow-file-system attribute (bit 59) on the root */
	char *base_name; /* "baseName": file name (without extension) in an output directory */
	char *output;    /* -o: the image file; spec_validate() resolves a directory */
	bool deterministic;  /* "deterministic", default true */
	char *seed;          /* "seed"; spec_validate() defaults it to SPEC_SEED_PREFIX + label */
	uint8_t root_gpuid[16]; /* "rootGPUID", RFC 4122 byte order */
	bool root_gpuid_set;    /* given explicitly (honoured even without deterministic) */
	uint8_t root_fsuid[16]; /* "rootFSUID"; spec_validate() defaults it to root_gpuid */
	bool root_fsuid_set;
	bool owner_set; /* "owner" / --owner UID:GID: every file's owner */
	uint32_t owner_uid, owner_gid;
	enum part_arch arch;    /* "arch": root partition type; default: the build host's */
	bool generic_root_type; /* "genericRootType": Linux filesystem data type for root */
	uint32_t reserved_percent; /* "reservedPercent": ext4 reserved blocks, 0..50, default 5 */

	/* Later make-disk-image keys, accepted so the format is stable; spec_validate() refuses
	 * the values that are not supported yet. */
	bool install_bootloader; /* "installBootLoader" */
	bool touch_efi_vars;     /* "touchEFIVars" */
	bool only_nix_store;     /* "onlyNixStore" */
	bool copy_channel;       /* "copyChannel" */
	size_t n_additional_paths; /* "additionalPaths" */
	char *config_file;         /* "configFile" / --config-file F */
	char *closure_info; /* "closureInfo" / --closure-info DIR: nixpkgs' closureInfo output */
	char *system;       /* "system" / --system TOPLEVEL: config.system.build.toplevel */
	char *channel;      /* "channel" / --channel PATH: root's channel (sets copyChannel) */
	bool label_set;     /* "label" given: onlyNixStore defaults it to "nix-store" instead */
	char *passwd_file;  /* "passwd" / --passwd FILE: resolves contents users instead of the
			     * image's /etc/passwd */
	char *group_file;   /* "group" / --group FILE: the same for groups */
	char *efi_vars_template; /* "efiVariables" / --efi-vars-template F: the firmware's
				  * variable store (OVMF_VARS.fd) touchEFIVars starts from */
	char *efi_vars_out; /* "efiVarsOut" / --efi-vars-out F; spec_validate() defaults it
			     * to efi-vars.fd in the -o directory */

	/* Bootloaders (issue #6). */
	enum spec_bootloader bootloader;   /* "bootloader" / --bootloader, as given */
	enum spec_bootloader boot_install; /* spec_validate(): what build installs (never AUTO) */
	bool install_grub_bios; /* spec_validate(): GRUB for BIOS too, next to systemd-boot
				 * (hybrid's auto, with GRUB's i386-pc modules in grubDir) */
	bool install_bootloader_set;     /* "installBootLoader" given explicitly */
	char *kernel;           /* "kernel" / --kernel F: in the root tree or on the host */
	char *initrd;           /* "initrd" / --initrd F */
	char *cmdline;          /* "cmdline" / --cmdline S: kernel parameters with --kernel */
	char *systemd_boot_efi; /* "systemdBootEfi" / --systemd-boot-efi F */
	char *grub_dir; /* "grubDir" / --grub-dir DIR: GRUB's i386-pc module directory */
	char *grub_efi_dir; /* "grubEfiDir" / --grub-efi-dir DIR: GRUB's x86_64-efi modules */
	/* bootloader extlinux (boot.loader.generic-extlinux-compatible and what it reads) */
	int32_t boot_timeout; /* "bootTimeout": boot.loader.timeout in seconds, default 5;
			       * -1 (EXTLINUX_TIMEOUT_NONE): null, wait for a choice */
	char *device_tree_name; /* "deviceTreeName": hardware.deviceTree.name (FDT) */
	bool use_generation_device_tree; /* "useGenerationDeviceTree", default true */
	bool copy_kernels; /* "copyKernels": to /boot/nixos even when in the image */
	char *grub_efi_id;  /* "grubEfiBootloaderId": GRUB for UEFI at EFI/ID/grubx64.efi */
	bool grub_efi_no_nvram; /* "grubEfiNoNvram": no Boot entry for it with touchEFIVars */
	/* spec_validate() fills the three above and efiVariables from boot/find.c's places when
	 * they are needed and not given; search_root prefixes those places (not owned: cli
	 * sets it from build_env's MKDISKIMAGE_SEARCH_ROOT, tests to a fake tree). NULL: / */
	const char *search_root;

	bool allow_empty; /* "allowEmpty" / --allow-empty: build with nothing to put in the image */

	/* Things the user should know (spec_validate(): -o's extension against "format"); the
	 * CLI prints them. Owned. */
	char *warnings[SPEC_MAX_WARNINGS];
	size_t n_warnings;

	/* Flags only. */
	bool json;                   /* --json: machine-readable summary on stdout */
	bool quiet;                  /* -q: no summary line, no auto size notes, no progress */
	bool verbose;                /* -v: the plan on stderr before the image is written */
	bool output_device;          /* --output-device: -o is a block device, written in place */
	bool progress_set, progress; /* --progress / --no-progress override the tty check */
	bool help;                   /* --help: print spec_usage() and stop */
	bool usage_error;            /* spec_parse_args failed on the command line itself (an
				      * unknown flag, a bad value: exit 2), not on a spec file */
};

struct image_spec *image_spec_new(void);
struct image_spec *image_spec_free(struct image_spec *s);
DEFINE_CLEANUP_FUNC(struct image_spec, image_spec_free)

/* Merge a JSON spec file into s: keys present in the file replace earlier values (null keeps
 * them). Relative paths in it resolve against the file's directory. Unknown keys and wrong
 * types are -EINVAL naming the key. */
int spec_load_json(struct image_spec *s, const char *path, struct diag *d);
/* Parse the flags of `mkdiskimage build` (argv[0] is the subcommand name): every --spec FILE
 * is loaded first, in order, then the other flags override. Relative paths on the command line
 * stay relative to the working directory. Sets s->help and returns 0 on --help. */
int spec_parse_args(struct image_spec *s, int argc, char **argv, struct diag *d);
/* Fill derived defaults (seed, rootFSUID, output file in a directory) and cross-check.
 * -EINVAL for a bad spec, -ENOTSUP for a valid but unimplemented choice. */
int spec_validate(struct image_spec *s, struct diag *d);
/* The `mkdiskimage build --help` text. */
const char *spec_usage(void);
/* The format and its options alone (spec_validate() checks them too): the format is built in
 * and accepts every format option set (`convert` checks its flags with it). */
int spec_validate_format(const struct image_spec *s, struct diag *d);

/* A size as `numfmt --from=iec` reads it: digits with an optional decimal fraction and an
 * optional suffix K M G T P E (powers of 1024); fractions of a byte round up ("1.1K" = 1127).
 * -EINVAL when malformed, -ERANGE past 2^64 - 1. */
int size_parse(const char *s, uint64_t *ret);
/* A spec's size: as size_parse(), but a number without a suffix is MiB ("512" = "512M"), as
 * make-disk-image's diskSize is, for every size key and flag alike. */
int size_parse_mib(const char *s, uint64_t *ret);

/* The sink that writes a spec format ("qcow2-compressed" is qcow2 with compression), NULL when
 * none is built in: format_find() (format/format.c's table is the one list of formats). */
const struct format_ops *spec_format_ops(const char *format);
/* make-disk-image's file name extension for a spec format ("vpc" → "vhd"), NULL if unknown:
 * the format table's. */
const char *spec_format_extension(const char *format);
