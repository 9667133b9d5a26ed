/* Virtual Hard Disk (VHD, qemu's "vpc") footer and dynamic-disk-header codecs, shared by the
 * sink (vhd.c) and the reader (vhd-read.c). Big-endian throughout. Microsoft "Virtual Hard Disk
 * Image Format Specification" 1.0 (2006), "Hard Disk Footer Format" and "Dynamic Disk Header
 * Format". See docs/formats/vhd.md. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct diag;

enum {
	VHD_FTR_COOKIE = 0,           /* "conectix" */
	VHD_FTR_FEATURES = 8,         /* be32, 2 = reserved bit always set */
	VHD_FTR_VERSION = 12,         /* be32 0x00010000 */
	VHD_FTR_DATA_OFFSET = 16,     /* be64, dynamic header; all ones for fixed */
	VHD_FTR_TIMESTAMP = 24,       /* be32, seconds since 2000-01-01 00:00 UTC */
	VHD_FTR_CREATOR_APP = 28,     /* 4 bytes */
	VHD_FTR_CREATOR_VERSION = 32, /* be32 */
	VHD_FTR_CREATOR_OS = 36,      /* 4 bytes */
	VHD_FTR_ORIG_SIZE = 40,       /* be64 bytes */
	VHD_FTR_CURRENT_SIZE = 48,    /* be64 bytes */
	VHD_FTR_CYLINDERS = 56,       /* be16 */
	VHD_FTR_HEADS = 58,           /* u8 */
	VHD_FTR_SECTORS = 59,         /* u8, per track */
	VHD_FTR_DISK_TYPE = 60,       /* be32 */
	VHD_FTR_CHECKSUM = 64,        /* be32 */
	VHD_FTR_UUID = 68,            /* 16 bytes */
	VHD_FTR_SAVED_STATE = 84,     /* u8 */
	VHD_FTR_SIZE = 512,
};

enum {
	VHD_DYN_COOKIE = 0,           /* "cxsparse" */
	VHD_DYN_DATA_OFFSET = 8,      /* be64, all ones */
	VHD_DYN_TABLE_OFFSET = 16,    /* be64, BAT */
	VHD_DYN_VERSION = 24,         /* be32 0x00010000 */
	VHD_DYN_MAX_TABLE_ENTRIES = 28, /* be32 */
	VHD_DYN_BLOCK_SIZE = 32,      /* be32 */
	VHD_DYN_CHECKSUM = 36,        /* be32 */
	VHD_DYN_PARENT_UUID = 40,     /* 16 bytes */
	VHD_DYN_PARENT_TIMESTAMP = 56,
	VHD_DYN_PARENT_NAME = 64,     /* 512 bytes UTF-16BE */
	VHD_DYN_PARENT_LOCATORS = 576, /* 8 x 24 bytes */
	VHD_DYN_SIZE = 1024,
};

enum vhd_disk_type {
	VHD_TYPE_FIXED = 2,
	VHD_TYPE_DYNAMIC = 3,
	VHD_TYPE_DIFF = 4,
};

#define VHD_VERSION 0x00010000u
#define VHD_BLOCK_SIZE (2u << 20)
#define VHD_UNALLOCATED 0xffffffffu
#define VHD_EPOCH 946684800 /* 2000-01-01T00:00:00Z in Unix time */
/* qemu's VHD_MAX_SECTORS: 2040 GiB, the most a BAT of 32-bit sector offsets addresses. */
#define VHD_MAX_SIZE (0xff000000ull * 512)

struct vhd_geometry {
	uint16_t cylinders;
	uint8_t heads;
	uint8_t sectors;
};

struct vhd_footer {
	uint64_t data_offset;
	uint32_t timestamp;
	char creator_app[4];
	uint32_t creator_version;
	char creator_os[4];
	uint64_t orig_size;
	uint64_t current_size;
	struct vhd_geometry geom;
	uint32_t disk_type;
	uint8_t uuid[16];
	bool saved_state;
};

struct vhd_dyn_header {
	uint64_t table_offset;
	uint32_t max_table_entries;
	uint32_t block_size;
};

/* One's complement of the byte sum, the checksum field counted as zero. */
uint32_t vhd_checksum(const uint8_t *buf, size_t len, size_t checksum_off);
/* CHS for a sector count, the specification's algorithm (appendix "CHS Calculation"). */
struct vhd_geometry vhd_geometry_for(uint64_t n_sectors);
/* The virtual size qemu derives from a footer: CHS for creators "vpc " and "qemu" unless the
 * geometry is the maximum, current_size otherwise. */
uint64_t vhd_footer_virtual_size(const struct vhd_footer *f);

void vhd_footer_encode(uint8_t *buf, const struct vhd_footer *f);
/* -EBADMSG naming the field, -ENOTSUP for differencing disks. */
int vhd_footer_decode(const uint8_t *buf, struct diag *d, struct vhd_footer *ret);
void vhd_dyn_header_encode(uint8_t *buf, const struct vhd_dyn_header *h);
int vhd_dyn_header_decode(const uint8_t *buf, struct diag *d, struct vhd_dyn_header *ret);
