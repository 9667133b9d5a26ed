/* Shared between the FAT planner and its encoders. docs/formats/fat.md. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "fs/fat/fat.h"

struct tree;
struct tree_node;

#define FAT_SECT 512u
#define FAT_DIRENT_SIZE 32u
#define FAT_LFN_CHARS 13u   /* UTF-16 units per long-name entry */
#define FAT_NAME_MAX 255u   /* UTF-16 units in a long name */
#define FAT_FILE_MAX 0xffffffffull

/* Boot sector (BPB) offsets: Microsoft FAT specification 1.03, section 3. */
enum {
	FAT_BS_JMP = 0x00,          /* 3 bytes */
	FAT_BS_OEM = 0x03,          /* 8 bytes */
	FAT_BS_BYTES_PER_SEC = 0x0b, /* le16 */
	FAT_BS_SEC_PER_CLUS = 0x0d,
	FAT_BS_RSVD_SEC = 0x0e,     /* le16 */
	FAT_BS_NUM_FATS = 0x10,
	FAT_BS_ROOT_ENT = 0x11,     /* le16, 0 on FAT32 */
	FAT_BS_TOT_SEC16 = 0x13,    /* le16 */
	FAT_BS_MEDIA = 0x15,
	FAT_BS_FAT_SZ16 = 0x16,     /* le16, 0 on FAT32 */
	FAT_BS_SEC_PER_TRK = 0x18,  /* le16 */
	FAT_BS_NUM_HEADS = 0x1a,    /* le16 */
	FAT_BS_HIDD_SEC = 0x1c,     /* le32 */
	FAT_BS_TOT_SEC32 = 0x20,    /* le32 */
	/* FAT12/16 extended BPB */
	FAT_BS16_DRV_NUM = 0x24,
	FAT_BS16_BOOT_SIG = 0x26,   /* 0x29 */
	FAT_BS16_VOL_ID = 0x27,     /* le32 */
	FAT_BS16_VOL_LAB = 0x2b,    /* 11 bytes */
	FAT_BS16_FS_TYPE = 0x36,    /* 8 bytes */
	FAT_BS16_CODE = 0x3e,
	/* FAT32 extended BPB */
	FAT_BS32_FAT_SZ32 = 0x24,   /* le32 */
	FAT_BS32_EXT_FLAGS = 0x28,  /* le16 */
	FAT_BS32_FS_VER = 0x2a,     /* le16 */
	FAT_BS32_ROOT_CLUS = 0x2c,  /* le32 */
	FAT_BS32_FS_INFO = 0x30,    /* le16 */
	FAT_BS32_BK_BOOT = 0x32,    /* le16 */
	FAT_BS32_DRV_NUM = 0x40,
	FAT_BS32_BOOT_SIG = 0x42,
	FAT_BS32_VOL_ID = 0x43,
	FAT_BS32_VOL_LAB = 0x47,
	FAT_BS32_FS_TYPE = 0x52,
	FAT_BS32_CODE = 0x5a,
	FAT_BS_SIGNATURE = 0x1fe,   /* 0x55 0xaa */
};

/* FSInfo sector (FAT32), section 5. */
enum {
	FAT_FSI_LEAD_SIG = 0,       /* le32 0x41615252 */
	FAT_FSI_STRUC_SIG = 484,    /* le32 0x61417272 */
	FAT_FSI_FREE_COUNT = 488,   /* le32 */
	FAT_FSI_NXT_FREE = 492,     /* le32 */
	FAT_FSI_TRAIL_SIG = 508,    /* le32 0xaa550000 */
};

/* Directory entry, section 6; long-name entry, section 7. */
enum {
	FAT_DE_NAME = 0,            /* 11 bytes, 8.3 space padded */
	FAT_DE_ATTR = 11,
	FAT_DE_NTRES = 12,
	FAT_DE_CRT_TIME_TENTH = 13,
	FAT_DE_CRT_TIME = 14,       /* le16 */
	FAT_DE_CRT_DATE = 16,       /* le16 */
	FAT_DE_LST_ACC_DATE = 18,   /* le16 */
	FAT_DE_FST_CLUS_HI = 20,    /* le16 */
	FAT_DE_WRT_TIME = 22,       /* le16 */
	FAT_DE_WRT_DATE = 24,       /* le16 */
	FAT_DE_FST_CLUS_LO = 26,    /* le16 */
	FAT_DE_FILE_SIZE = 28,      /* le32 */

	FAT_LFN_ORD = 0,
	FAT_LFN_NAME1 = 1,          /* 5 UTF-16 units */
	FAT_LFN_ATTR = 11,          /* 0x0f */
	FAT_LFN_TYPE = 12,
	FAT_LFN_CHKSUM = 13,
	FAT_LFN_NAME2 = 14,         /* 6 units */
	FAT_LFN_FST_CLUS_LO = 26,   /* 0 */
	FAT_LFN_NAME3 = 28,         /* 2 units */
};

enum {
	FAT_ATTR_READ_ONLY = 0x01,
	FAT_ATTR_VOLUME_ID = 0x08,
	FAT_ATTR_DIRECTORY = 0x10,
	FAT_ATTR_ARCHIVE = 0x20,
	FAT_ATTR_LONG_NAME = 0x0f,
	FAT_LFN_LAST = 0x40,
};

/* Per tree node (indexed by node->index). */
struct fat_node {
	uint8_t short_name[11];
	uint8_t n_lfn;       /* long-name entries before the short entry (0: none) */
	uint32_t slot;       /* index of its first entry in the parent directory */
	uint32_t n_slots;    /* directories: entries in this directory */
	uint32_t first_clus; /* 0: empty file, or the FAT12/16 root */
	uint32_t n_clus;
};

struct fat_plan {
	struct fat_params p;
	struct fat_geom g;
	const struct tree *t;
	struct fat_node *nodes;
	uint32_t *runs;     /* node indices owning clusters, in ascending cluster order */
	uint32_t n_runs;
	uint32_t used_clus; /* clusters 2 .. used_clus + 1 are allocated */
};

/* bpb.c */
void fat_boot_sector_encode(const struct fat_plan *pl, uint8_t out[FAT_SECT]);
void fat_fsinfo_encode(const struct fat_plan *pl, uint8_t out[FAT_SECT]);

/* table.c: bytes [off, off + len) of one FAT (zeroed buffer). */
void fat_table_fill(const struct fat_plan *pl, uint64_t off, uint8_t *buf, size_t len);
uint32_t fat_table_entry(const struct fat_plan *pl, uint32_t clus);

/* lfn.c */
/* UTF-8 → UTF-16 units; -EILSEQ for malformed UTF-8, -ENAMETOOLONG past FAT_NAME_MAX. */
int fat_utf16_from_utf8(const char *s, size_t len, uint16_t out[FAT_NAME_MAX], size_t *ret_n);
uint8_t fat_lfn_checksum(const uint8_t short_name[11]);
size_t fat_lfn_count(size_t n_units);
/* Long-name entry k (0 = the one right before the short entry, holding units 0..12). */
void fat_lfn_encode(uint8_t out[FAT_DIRENT_SIZE], const uint16_t *units, size_t n_units,
		    size_t k, uint8_t checksum);

/* dir.c */
/* -EINVAL (with why in *ret_why) for a name FAT cannot store. */
int fat_name_check(const char *name, size_t len, const char **ret_why);
/* The 8.3 basis (section 7.2): upper case, invalid characters replaced; *ret_lossy when the
 * long name is not exactly this short name (it then needs a long-name entry), *ret_tail when a
 * numeric tail ~N is required (characters lost or the name truncated). */
void fat_short_basis(const char *name, size_t len, uint8_t out[11], bool *ret_lossy,
		     bool *ret_tail);
/* Put ~n into a basis (n >= 1), shortening the base part to fit. */
void fat_short_tail(uint8_t name[11], uint32_t n);
void fat_dos_time(int64_t t, uint16_t *ret_date, uint16_t *ret_time);
void fat_dirent_encode(uint8_t out[FAT_DIRENT_SIZE], const uint8_t name[11], uint8_t attr,
		       int64_t mtime, uint32_t clus, uint32_t size);
/* Bytes [off, off + len) of directory node dir's entries (zeroed buffer). */
void fat_dir_fill(const struct fat_plan *pl, const struct tree_node *dir, uint64_t off,
		  uint8_t *buf, size_t len);
