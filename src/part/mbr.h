/* Master Boot Record: the legacy table and GPT's protective MBR (UEFI 2.10 §5.2).
 * Little-endian. See docs/formats/mbr.md. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

struct diag;
struct part_layout;

/* Sector 0. */
enum {
	MBR_BOOT_CODE = 0x000,	     /* 440 bytes: left to boot code (GRUB's boot.img) */
	MBR_DISK_SIGNATURE = 0x1b8,  /* le32 */
	MBR_RESERVED = 0x1bc,	     /* 2 bytes, zero */
	MBR_PARTITION_TABLE = 0x1be, /* 4 entries of MBR_PE_SIZE */
	MBR_BOOT_SIGNATURE = 0x1fe,  /* 0x55 0xaa */
	MBR_SIZE = 512,
};

/* MBR partition entry: 16 bytes at 0x1be + 16 * i (UEFI 2.10, 5.2.1). */
enum {
	MBR_PE_STATUS = 0,    /* 0x80 = active */
	MBR_PE_CHS_FIRST = 1, /* 3 bytes */
	MBR_PE_TYPE = 4,
	MBR_PE_CHS_LAST = 5,   /* 3 bytes */
	MBR_PE_LBA_FIRST = 8,  /* le32 */
	MBR_PE_LBA_COUNT = 12, /* le32 */
	MBR_PE_SIZE = 16,
};

#define MBR_N_ENTRIES 4
#define MBR_TYPE_LINUX 0x83
#define MBR_TYPE_SWAP 0x82
#define MBR_TYPE_FAT32_LBA 0x0c /* W95 FAT32 (LBA), as parted writes fat32 */
#define MBR_TYPE_ESP 0xef
#define MBR_TYPE_XBOOTLDR 0xea /* Linux extended boot (systemd) */
#define MBR_TYPE_GPT_PROTECTIVE 0xee

/* The part of sector 0 part_plan_ranges() owns: signature, table and boot signature. */
#define MBR_TABLE_OFF MBR_DISK_SIGNATURE
#define MBR_TABLE_LEN (MBR_SIZE - MBR_DISK_SIGNATURE)

struct mbr_entry {
	bool active;
	uint8_t type; /* 0 = unused */
	uint32_t lba_first;
	uint32_t lba_count;
};

struct mbr {
	uint32_t signature;
	struct mbr_entry entries[MBR_N_ENTRIES];
};

/* CHS with 255 heads and 63 sectors per track, saturating at 1023/254/63. */
void mbr_chs_encode(uint8_t p[3], uint64_t lba);
void mbr_entry_encode(uint8_t *p, const struct mbr_entry *e);
/* -EBADMSG when the status byte is neither 0x00 nor 0x80. */
int mbr_entry_decode(const uint8_t *p, struct diag *d, struct mbr_entry *ret);
/* A whole sector with zero boot code. */
void mbr_encode(uint8_t sector[MBR_SIZE], const struct mbr *m);
/* -EBADMSG without the 0x55 0xaa signature or with a bad entry status. */
int mbr_decode(const uint8_t sector[MBR_SIZE], struct diag *d, struct mbr *ret);
/* The MBR of a layout: the legacy table, or the protective MBR of a GPT disk. */
void mbr_from_layout(const struct part_layout *l, struct mbr *ret);
