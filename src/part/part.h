/* Partition layouts: make-disk-image's partitionTableType values, as MBR and GPT tables.
 * Sectors are 512 bytes; partitions are 1 MiB aligned. See docs/formats/gpt.md, mbr.md. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct diag;
struct image_plan;

#define PART_SECTOR 512u
#define PART_MIB (1024u * 1024u)

enum part_table {
	PART_TABLE_NONE,        /* bare filesystem */
	PART_TABLE_LEGACY,      /* MBR, root 1 MiB..end */
	PART_TABLE_LEGACY_GPT,  /* GPT, BIOS boot 1..2 MiB, root 2 MiB..end */
	PART_TABLE_EFI,         /* GPT, ESP 8 MiB..bootSize, root bootSize..end */
	PART_TABLE_EFIXBOOTLDR, /* GPT, ESP 8..100 MiB, XBOOTLDR 100 MiB..bootSize, root after */
	PART_TABLE_HYBRID,      /* GPT + hybrid MBR: ESP (1), BIOS boot (2), root (3) */
};

enum part_role {
	PART_ROLE_ROOT,
	PART_ROLE_ESP,
	PART_ROLE_XBOOTLDR,
	PART_ROLE_BIOS_BOOT,
};

enum part_arch {
	PART_ARCH_X86_64,
	PART_ARCH_X86,
	PART_ARCH_AARCH64,
	PART_ARCH_ARM,
	PART_ARCH_RISCV64,
	PART_ARCH_RISCV32,
	PART_ARCH_LOONGARCH64,
	PART_ARCH_PPC64LE,
	PART_ARCH_S390X,
};

struct part_entry {
	enum part_role role;
	uint32_t number;    /* 1-based, as the kernel names it */
	uint64_t first_lba; /* 512-byte sectors */
	uint64_t n_lba;
	uint8_t type_uuid[16]; /* RFC 4122 byte order (GPT) */
	uint8_t uuid[16];      /* PARTUUID, RFC 4122 byte order (GPT) */
	uint8_t mbr_type;      /* MBR type byte (legacy, hybrid) */
	bool bootable;         /* MBR active flag / GPT legacy BIOS bootable attribute */
	char name[72];         /* GPT partition name (ASCII subset of UTF-16LE) */
};

struct part_layout {
	enum part_table table;
	uint64_t disk_bytes; /* whole disk, a multiple of 1 MiB */
	struct part_entry parts[4]; /* in partition-number order */
	size_t n_parts;
	uint8_t disk_uuid[16]; /* GPT disk GUID, RFC 4122 byte order */
	uint32_t mbr_signature; /* MBR disk identifier at 0x1b8 */
};

struct part_params {
	enum part_table table;
	enum part_arch arch;
	bool generic_root_type; /* Linux filesystem data type instead of the DPS root type */
	uint64_t boot_bytes;    /* bootSize: end of the ESP (efi, hybrid) or XBOOTLDR */
	/* Exactly one of these is non-zero: a fixed disk size, or the bytes the root filesystem
	 * needs (the disk is then the smallest whole-MiB size that holds it). */
	uint64_t disk_bytes;
	uint64_t root_min_bytes;
	uint8_t root_uuid[16]; /* rootGPUID */
	const char *seed;      /* other GUIDs and the MBR signature: uuid_derive(seed, ...) */
};

/* Parse/print partitionTableType names: "none", "legacy", "legacy+gpt", "efi",
 * "efixbootldr", "hybrid". */
int part_table_from_name(const char *name, enum part_table *ret);
const char *part_table_name(enum part_table t);
int part_arch_from_name(const char *name, enum part_arch *ret); /* "x86-64", "aarch64", ... */

/* Lay out the disk. -ENOSPC (with the size that would fit) when disk_bytes is too small. */
int part_layout_plan(const struct part_params *p, struct diag *d, struct part_layout *ret);
/* The root partition (or, for PART_TABLE_NONE, the whole disk) in bytes. */
void part_layout_root(const struct part_layout *l, uint64_t *ret_off, uint64_t *ret_len);
const struct part_entry *part_layout_find(const struct part_layout *l, enum part_role role);
/* Add the table's bytes (MBR, primary and backup GPT headers and entry arrays) to the plan. */
void part_plan_ranges(const struct part_layout *l, struct image_plan *p);
