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
	PART_TABLE_HYBRID,      /* GPT (protective MBR, as nixpkgs): ESP (1), BIOS boot (2), root (3) */
	PART_TABLE_LEGACY_BOOT, /* MBR, bootable FAT32 BOOT 1 MiB..bootSize, root after */
	PART_TABLE_GPT,         /* GPT with the spec's own "partitions" list */
	PART_TABLE_MBR,         /* MBR with the spec's own "partitions" list */
};

enum part_role {
	PART_ROLE_ROOT,
	PART_ROLE_ESP,
	PART_ROLE_XBOOTLDR,
	PART_ROLE_BIOS_BOOT,
	PART_ROLE_SWAP,
	PART_ROLE_BOOT,  /* legacy+boot's FAT /boot (MBR) */
	PART_ROLE_OTHER, /* any other partition: its type is given */
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
	/* A fixed disk size, or the bytes the root filesystem needs (the disk is then the
	 * smallest whole-MiB size that holds it). When both are set, disk_bytes is checked
	 * against root_min_bytes (-ENOSPC naming the size that fits). */
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
/* Add the table's bytes (MBR, primary and backup GPT headers and entry arrays) to the plan.
 * The MBR range is bytes 440..511 of sector 0 only (disk signature, table, 0x55aa): bytes
 * 0..439 are left to boot code (GRUB's boot.img). The ranges point at *l: keep it alive
 * until the plan has been emitted. */
void part_plan_ranges(const struct part_layout *l, struct image_plan *p);

/* Type name for printing ("EFI System", "Linux root (x86-64)", ...), NULL when unknown. */
const char *part_type_name(const uint8_t type_uuid[16]);

/* Decoding an existing image's table (for `inspect`); the input is hostile. */
enum part_probe_kind {
	PART_PROBE_NONE, /* no MBR signature, or not a valid MBR: a bare filesystem? */
	PART_PROBE_MBR,
	PART_PROBE_GPT,
};

struct part_probe_entry {
	uint32_t number; /* 1-based: GPT entry index + 1, MBR slot + 1 */
	uint64_t first_lba;
	uint64_t n_lba;
	uint8_t type_uuid[16]; /* GPT, RFC 4122 byte order */
	uint8_t uuid[16];      /* GPT PARTUUID, RFC 4122 byte order */
	uint64_t attributes;   /* GPT */
	uint8_t mbr_type;      /* MBR */
	bool bootable;         /* MBR active flag / GPT legacy BIOS bootable attribute */
	char name[112];        /* GPT name as UTF-8 */
};

struct part_probe {
	enum part_probe_kind kind;
	/* The make-disk-image layout these partitions match, else PART_TABLE_NONE. */
	enum part_table layout;
	uint64_t disk_bytes;
	uint8_t disk_uuid[16]; /* GPT */
	uint32_t mbr_signature;
	uint64_t first_usable_lba, last_usable_lba; /* GPT */
	bool backup_used; /* GPT: the primary header was bad, the backup was read */
	bool backup_bad;  /* GPT: the backup header or array is missing, corrupt or misplaced */
	/* GPT: what is wrong with the copy not used (or with the backup's place, or how the
	 * copies disagree), "" when both copies are sound and agree. */
	char gpt_problem[256];
	struct part_probe_entry *parts; /* used entries, in number order */
	size_t n_parts;
};

/* Read the MBR/GPT of an image of size bytes. -EBADMSG naming the field when a table is
 * there but malformed; kind PART_PROBE_NONE when there is none. */
int part_probe(int fd, uint64_t size, struct diag *d, struct part_probe **ret);
/* The same through a read callback, for images that are not raw files (qcow2, VDI, VHD):
 * read fills [off, off + len) or records a message in d and returns a negative errno. */
struct part_probe_io {
	int (*read)(void *ctx, void *buf, size_t len, uint64_t off, struct diag *d);
	void *ctx;
};
int part_probe_io(const struct part_probe_io *io, uint64_t size, struct diag *d,
		  struct part_probe **ret);
struct part_probe *part_probe_free(struct part_probe *p);
