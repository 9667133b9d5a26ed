/* Partition layouts: make-disk-image's partitionTableType values, as MBR and GPT tables.
 * Sectors are 512 bytes; partitions are 1 MiB aligned. See docs/formats/gpt.md, mbr.md. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/cleanup.h"

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

#define PART_MAX 128u     /* GPT entries; an MBR holds 4 (no extended partitions) */

/* GPT partition attribute bits (UEFI 2.10 table 5-8; Discoverable Partitions spec). */
#define PART_ATTR_REQUIRED (1ull << 0)
#define PART_ATTR_LEGACY_BIOS_BOOTABLE (1ull << 2)
#define PART_ATTR_GROWFS (1ull << 59)
#define PART_ATTR_READ_ONLY (1ull << 60)
#define PART_ATTR_NO_AUTO (1ull << 63)

/* How a requested partition's size is found. */
enum part_size_rule {
	PART_SIZE_FIXED, /* size_bytes */
	PART_SIZE_FIT,   /* the contents' need (min_bytes); last on the disk: up to its end */
	PART_SIZE_REST,  /* what a fixed disk leaves (at least min_bytes); auto disk: as FIT */
};

/* One partition of the disk model, as a preset or the spec's "partitions" list asks for it. */
struct part_request {
	enum part_role role;
	const char *name;     /* GPT partition name ("" none) */
	const char *uuid_key; /* PARTUUID = uuid_derive(seed, "gpt-partition:<key>") */
	bool type_set;        /* type_uuid / mbr_type given, else from the role */
	uint8_t type_uuid[16];
	uint8_t mbr_type;
	bool mbr_type_by_fs;  /* basic-data on MBR: the builder sets the byte by the FAT type */
	bool uuid_set;
	uint8_t uuid[16];
	uint64_t start_lba; /* fixed first sector; 0: 1 MiB aligned after the partitions before */
	enum part_size_rule size_rule;
	uint64_t size_bytes; /* FIXED */
	uint64_t min_bytes;  /* FIT, REST: the contents' need */
	uint64_t max_bytes;  /* REST: at most (0: no bound) */
	uint64_t attributes; /* GPT PART_ATTR_* */
	bool bootable;       /* MBR active flag (GPT: PART_ATTR_LEGACY_BIOS_BOOTABLE) */
};

struct part_entry {
	enum part_role role;
	uint32_t number;    /* 1-based, as the kernel names it */
	uint64_t first_lba; /* 512-byte sectors */
	uint64_t n_lba;
	uint8_t type_uuid[16]; /* RFC 4122 byte order (GPT) */
	uint8_t uuid[16];      /* PARTUUID, RFC 4122 byte order (GPT) */
	uint8_t mbr_type;      /* MBR type byte (MBR tables) */
	bool bootable;         /* MBR active flag / GPT legacy BIOS bootable attribute */
	uint64_t attributes;   /* GPT attribute bits besides legacy BIOS bootable */
	char name[72];         /* GPT partition name (ASCII subset of UTF-16LE) */
};

struct part_layout {
	enum part_table table;
	uint64_t disk_bytes; /* whole disk, a multiple of 1 MiB */
	struct part_entry parts[PART_MAX]; /* in partition-number order */
	size_t n_parts;
	uint8_t disk_uuid[16]; /* GPT disk GUID, RFC 4122 byte order */
	uint32_t mbr_signature; /* MBR disk identifier at 0x1b8 */
};

struct part_params {
	enum part_table table;
	enum part_arch arch;
	bool generic_root_type; /* Linux filesystem data type instead of the DPS root type */
	uint64_t boot_bytes;    /* bootSize: end of the ESP (efi, hybrid), XBOOTLDR or BOOT */
	/* A fixed disk size, or 0: the smallest whole-MiB disk that holds every partition. */
	uint64_t disk_bytes;
	/* The bytes the root filesystem needs (the preset's root, or the list's root partition
	 * when it is sized "auto"/"rest"), also checked against a fixed disk (-ENOSPC naming the
	 * size that fits). */
	uint64_t root_min_bytes;
	uint8_t root_uuid[16]; /* rootGPUID (presets; all zero: derived) */
	uint64_t root_attributes; /* GPT attribute bits of the preset's root (growOnBoot) */
	const char *seed;      /* other GUIDs and the MBR signature: uuid_derive(seed, ...) */
	/* PART_TABLE_GPT, PART_TABLE_MBR: the partitions, in number order (presets: NULL). */
	const struct part_request *parts;
	size_t n_parts;
};

/* GPT tables (legacy+gpt, efi, efixbootldr, hybrid, gpt) and MBR tables (legacy,
 * legacy+boot, mbr). */
bool part_table_is_gpt(enum part_table t);
bool part_table_is_mbr(enum part_table t);

/* A preset's partitions (make-disk-image's partitionTableType), in number order; at most
 * PART_PRESET_MAX. -EINVAL for PART_TABLE_GPT/MBR (those have their own list). */
#define PART_PRESET_MAX 3u
int part_preset(const struct part_params *p, struct part_request ret[PART_PRESET_MAX],
		size_t *ret_n);

/* Whether the disk p describes has a partition of this role (preset or list); and a place
 * for GRUB's core.img: an MBR gap or a BIOS boot partition. Only table, boot_bytes and the
 * list are read. */
bool part_params_has_role(const struct part_params *p, enum part_role role);
bool part_params_bios_place(const struct part_params *p);

/* A role's name in identifier keys and messages: "root", "esp", "bios-boot", ... */
const char *part_role_key(enum part_role role);

/* The role of a "partitions" type name (esp, xbootldr, bios-boot, swap, root, linux, home,
 * srv, var, tmp, linux-generic, basic-data/msftdata), a GPT type GUID or an MBR type byte
 * ("0x83", "83"): fills
 * r->role and, for GUIDs/bytes and names with a type of their own, r->type_set and the type.
 * -EINVAL when not recognised. */
int part_request_set_type(struct part_request *r, const char *type, bool gpt, enum part_arch a);

/* The MBR type byte of a FAT data partition (basic-data): 0x01 FAT12, 0x0e FAT16 (LBA),
 * 0x0c FAT32 (LBA); 0x07 (Microsoft basic data's MBR twin) when fat_bits is 0 (not FAT). */
uint8_t part_mbr_type_basic_data(uint32_t fat_bits);

/* Parse/print partitionTableType names: "none", "legacy", "legacy+gpt", "efi",
 * "efixbootldr", "hybrid". */
int part_table_from_name(const char *name, enum part_table *ret);
const char *part_table_name(enum part_table t);
int part_arch_from_name(const char *name, enum part_arch *ret); /* "x86-64", "aarch64", ... */

/* Lay out the disk: the preset's or the given partitions, placed in order (fixed starts
 * where given, else 1 MiB aligned after the previous ones), sized by their rules. -ENOSPC
 * (with the size that would fit) when disk_bytes is too small. */
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
DEFINE_CLEANUP_FUNC(struct part_probe, part_probe_free)
