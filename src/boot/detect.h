/* What an existing image boots with, read back from its bytes (hostile input): the MBR boot
 * code and GRUB's core.img (BIOS), the FAT partitions' EFI removable path, systemd-boot's
 * loader.conf and loader entries on the ESP and XBOOTLDR (UEFI). For `inspect`, and for
 * boot-test's refusal of an image the firmware has nothing to boot on. Every read is bounded:
 * at most BOOT_DETECT_FILE_MAX bytes of a file, BOOT_DETECT_ENTRIES_MAX entries. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct diag;
struct efivars;
struct part_probe;

#define BOOT_DETECT_FILE_MAX (16u << 20)   /* an EFI binary read to identify it */
#define BOOT_DETECT_TEXT_MAX (64u << 10)   /* loader.conf, an entry */
#define BOOT_DETECT_ENTRIES_MAX 64u

/* Reads [off, off + len) of the disk. */
typedef int (*boot_read_fn)(void *ctx, uint64_t off, void *buf, size_t len, struct diag *d);

struct boot_loader_entry {
	char file[64];     /* "nixos-generation-1.conf" */
	uint32_t part;     /* the partition it is on */
	char title[128];   /* "" none */
	char version[64];
	char kernel[256]; /* the "linux" key */
};

/* An EFI binary found on a FAT partition. */
struct boot_efi_binary {
	char path[64];     /* "EFI/BOOT/BOOTX64.EFI" (as we looked it up) */
	uint32_t size;
	char what[96];     /* "systemd-boot 252.22", "GRUB", "" unknown */
	char prefix[128];  /* GRUB: its embedded prefix, "" none */
	char root_uuid[64]; /* GRUB: the UUID its early config's `search --fs-uuid` looks for */
};

struct boot_info {
	/* BIOS */
	bool mbr_signature;  /* 0x55 0xaa at 510 */
	bool mbr_code;       /* bytes 0..439 are not all zero */
	bool grub_bios;      /* the MBR code is GRUB's boot.img */
	uint64_t core_lba;   /* GRUB: core.img's first sector (0: not found) */
	uint64_t core_sectors; /* its sectors, from diskboot.img's block list */
	uint32_t core_part;  /* the BIOS boot partition holding it, 0: the MBR gap */
	char grub_bios_prefix[128]; /* "" unknown */
	char grub_bios_root_uuid[64]; /* its early config's `search --fs-uuid`, "" none */
	/* UEFI: the first FAT partition with an EFI directory (the ESP) */
	uint32_t esp_part;   /* 0: none found */
	uint32_t xbootldr_part;
	struct boot_efi_binary removable[2]; /* BOOTX64.EFI, BOOTAA64.EFI */
	size_t n_removable;
	struct boot_efi_binary sdboot; /* EFI/systemd/systemd-boot{x64,aa64}.efi; path "" none */
	bool has_loader_conf;
	char loader_default[128];
	char loader_timeout[32];
	struct boot_loader_entry entries[BOOT_DETECT_ENTRIES_MAX];
	size_t n_entries;
	char problem[256]; /* the first thing that could not be read, "" none */
};

/* Fill *ret. Partitions or files that cannot be read are skipped and the first reason is kept
 * in ret->problem; a negative errno only when p is NULL. p: the image's table (part_probe_io);
 * kind NONE is a bare disk. */
int boot_detect(boot_read_fn read, void *ctx, uint64_t size, const struct part_probe *p,
		struct diag *d, struct boot_info *ret);

/* Whether the firmware has something to boot: -ENOEXEC with the reason (naming image and the
 * fix) when not. bios: MBR boot code and signature. uefi: the removable path for the
 * architecture (aarch64: BOOTAA64.EFI, else BOOTX64.EFI) on a FAT partition, or an active
 * Boot#### in vars (may be NULL) pointing at one of p's partitions. */
int boot_detect_check(const struct boot_info *b, const char *image, bool uefi, bool aarch64,
		      const struct efivars *vars, const struct part_probe *p, struct diag *d);

/* Whether loader.conf's default (a glob, as systemd-boot matches it) names entry e: its file
 * name with or without ".conf". The first matching entry only, as systemd-boot picks one. */
bool boot_entry_is_default(const struct boot_info *b, size_t i);

/* Parsers (exposed for tests and fuzzing); all bounded by len. */
/* GRUB i386-pc: the prefix in an embedded core.img (len bytes: the core and its Reed-Solomon
 * parity, the block list's sectors). The kernel and modules are LZMA-compressed after the
 * decompressor; their sizes are in the decompressor's header (include/grub/offsets.h), the
 * parity length in GRUB_KERNEL_RS_REDUNDANCY. -EBADMSG naming the field when malformed, 0 and
 * out "" when there is no prefix module. root_uuid (may be NULL): boot_grub_root_uuid's. */
int boot_grub_core_prefix(const uint8_t *core, size_t len, char *out, size_t size,
			  char *root_uuid, size_t root_size, struct diag *d);
/* "systemd-boot 252.22" from the "#### LoaderInfo: ... ####" marker; false when none. */
bool boot_sdboot_version(const uint8_t *buf, size_t len, char *out, size_t size);
/* GRUB's embedded prefix from an uncompressed image's module area ('mimg' header, a
 * module of type OBJ_TYPE_PREFIX); false when none. */
bool boot_grub_prefix(const uint8_t *buf, size_t len, char *out, size_t size);
/* The UUID the early config (module OBJ_TYPE_CONFIG) searches the root by: the last non-option
 * word of its line with "--fs-uuid"; false when none. */
bool boot_grub_root_uuid(const uint8_t *buf, size_t len, char *out, size_t size);
/* The value of `key` in a systemd-boot config text (loader.conf, an entry): "key value"
 * lines, '#' comments; the first occurrence. false when absent. */
bool boot_conf_value(const char *text, size_t len, const char *key, char *out, size_t size);
