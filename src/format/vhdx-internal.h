/* VHDX (Hyper-V, "Virtual Hard Disk v2") structures shared by the sink (vhdx.c) and the reader
 * (vhdx-read.c); their codecs are in vhdx-meta.c. Little-endian throughout. Microsoft
 * [MS-VHDX] "Virtual Hard Disk v2 (VHDX) File Format": 2.1 file layout, 2.2.1 file type
 * identifier, 2.2.2 headers, 2.2.3 region table, 2.5 BAT, 2.6 metadata region. GUIDs are
 * stored as Microsoft GUIDs (first three fields little-endian, uuid_to_guid()); the structs
 * below keep them in that on-disk order. See docs/formats/vhdx.md. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct diag;

#define VHDX_MIB (1u << 20)
#define VHDX_KIB64 (64u << 10)

/* The header section (2.1): 1 MiB of five 64 KiB structures, then reserved space. */
enum {
	VHDX_FILE_ID_OFFSET = 0,
	VHDX_HEADER1_OFFSET = 1 * VHDX_KIB64,
	VHDX_HEADER2_OFFSET = 2 * VHDX_KIB64,
	VHDX_REGION1_OFFSET = 3 * VHDX_KIB64,
	VHDX_REGION2_OFFSET = 4 * VHDX_KIB64,
	VHDX_HEADER_SECTION_SIZE = VHDX_MIB,
};

/* File type identifier (2.2.1): "vhdxfile", then a UTF-16LE creator of up to 256 units. */
enum {
	VHDX_FID_SIGNATURE = 0, /* "vhdxfile" */
	VHDX_FID_CREATOR = 8,   /* 512 bytes */
	VHDX_FID_SIZE = 8 + 512,
};

/* Header (2.2.2): 4 KiB, CRC-32C over all of it with the checksum field zero. */
enum {
	VHDX_HDR_SIGNATURE = 0,        /* "head" */
	VHDX_HDR_CHECKSUM = 4,         /* le32 */
	VHDX_HDR_SEQUENCE = 8,         /* le64: the valid header with the higher one is current */
	VHDX_HDR_FILE_WRITE_GUID = 16, /* changed before the first write of a session */
	VHDX_HDR_DATA_WRITE_GUID = 32, /* changed before the first write of disk data */
	VHDX_HDR_LOG_GUID = 48,        /* zero: the log is empty */
	VHDX_HDR_LOG_VERSION = 64,     /* le16, 0 */
	VHDX_HDR_VERSION = 66,         /* le16, 1 */
	VHDX_HDR_LOG_LENGTH = 68,      /* le32, a multiple of 1 MiB */
	VHDX_HDR_LOG_OFFSET = 72,      /* le64, a multiple of 1 MiB, at least 1 MiB */
	VHDX_HDR_USED = 80,            /* the rest, to 4 KiB, is reserved (zeros) */
	VHDX_HDR_SIZE = 4096,
};

/* Region table (2.2.3): 64 KiB, CRC-32C over all of it; a 16-byte header, 32-byte entries. */
enum {
	VHDX_RT_SIGNATURE = 0,   /* "regi" */
	VHDX_RT_CHECKSUM = 4,    /* le32 */
	VHDX_RT_ENTRY_COUNT = 8, /* le32, at most 2047 */
	VHDX_RT_ENTRIES = 16,
	VHDX_RT_SIZE = VHDX_KIB64,
	VHDX_RT_MAX_ENTRIES = 2047,

	VHDX_RTE_GUID = 0,
	VHDX_RTE_FILE_OFFSET = 16, /* le64, a multiple of 1 MiB, at least 1 MiB */
	VHDX_RTE_LENGTH = 24,      /* le32, a multiple of 1 MiB */
	VHDX_RTE_REQUIRED = 28,    /* le32, bit 0 */
	VHDX_RTE_SIZE = 32,
};

/* Metadata region (2.6): a 64 KiB table (32-byte header, 32-byte entries), then the items at
 * offsets of at least 64 KiB from the region's start. */
enum {
	VHDX_MT_SIGNATURE = 0,    /* "metadata" */
	VHDX_MT_ENTRY_COUNT = 10, /* le16, at most 2047 */
	VHDX_MT_ENTRIES = 32,
	VHDX_MT_SIZE = VHDX_KIB64,
	VHDX_MT_MAX_ENTRIES = 2047,

	VHDX_MTE_ITEM_ID = 0,
	VHDX_MTE_OFFSET = 16, /* le32, from the region's start; 0 when the length is 0 */
	VHDX_MTE_LENGTH = 20, /* le32, at most 1 MiB */
	VHDX_MTE_FLAGS = 24,  /* le32: VHDX_MTE_IS_* */
	VHDX_MTE_SIZE = 32,

	VHDX_MTE_IS_USER = 1u << 0,
	VHDX_MTE_IS_VIRTUAL_DISK = 1u << 1,
	VHDX_MTE_IS_REQUIRED = 1u << 2,

	VHDX_MT_ITEM_MAX = VHDX_MIB,
};

/* The metadata items we know (2.6.2), in the order we write them. */
enum vhdx_item {
	VHDX_ITEM_FILE_PARAMETERS, /* le32 BlockSize, le32 flags: bit 0 LeaveBlockAllocated,
				    * bit 1 HasParent */
	VHDX_ITEM_VIRTUAL_DISK_SIZE, /* le64 bytes */
	VHDX_ITEM_PAGE83,            /* GUID: the virtual disk's identifier (SCSI page 0x83) */
	VHDX_ITEM_LOGICAL_SECTOR,    /* le32, 512 or 4096 */
	VHDX_ITEM_PHYSICAL_SECTOR,   /* le32, 512 or 4096 */
	VHDX_ITEM_PARENT_LOCATOR,    /* differencing disks only */
	VHDX_N_ITEMS,
};

#define VHDX_FP_LEAVE_BLOCK_ALLOCATED 1u
#define VHDX_FP_HAS_PARENT 2u

/* BAT entries (2.5.1): bits 0-2 the state, 20-63 the file offset in MiB. */
enum vhdx_bat_state {
	VHDX_PAYLOAD_NOT_PRESENT = 0,
	VHDX_PAYLOAD_UNDEFINED = 1,
	VHDX_PAYLOAD_ZERO = 2,
	VHDX_PAYLOAD_UNMAPPED = 3,
	VHDX_PAYLOAD_UNMAPPED_V1 = 5, /* UNMAPPED in the 2012 specification 1.00 (qemu's value) */
	VHDX_PAYLOAD_FULLY_PRESENT = 6,
	VHDX_PAYLOAD_PARTIALLY_PRESENT = 7, /* differencing disks only */
	VHDX_SB_NOT_PRESENT = 0,
	VHDX_SB_PRESENT = 6,
};

#define VHDX_BAT_STATE_MASK 7u
#define VHDX_BAT_OFFSET_SHIFT 20

#define VHDX_BLOCK_MIN VHDX_MIB
#define VHDX_BLOCK_MAX (256u << 20)
#define VHDX_BLOCK_DEFAULT VHDX_MIB
#define VHDX_MAX_SIZE (64ull << 40) /* 2.6.2.2: 64 TiB */
#define VHDX_SECTORS_PER_CHUNK (1ull << 23) /* 2.5: 2^23 sectors per sector bitmap block */

extern const uint8_t vhdx_guid_bat[16];
extern const uint8_t vhdx_guid_metadata[16];
extern const uint8_t vhdx_item_guids[VHDX_N_ITEMS][16];

struct vhdx_header {
	uint64_t sequence;
	uint8_t file_write_guid[16];
	uint8_t data_write_guid[16];
	uint8_t log_guid[16];
	uint16_t log_version;
	uint16_t version;
	uint32_t log_length;
	uint64_t log_offset;
};

struct vhdx_region {
	uint64_t offset;
	uint32_t length;
};

struct vhdx_regions {
	struct vhdx_region bat;
	struct vhdx_region meta;
};

/* The metadata every dynamic VHDX carries. */
struct vhdx_meta {
	uint32_t block_size;
	uint32_t fp_flags; /* VHDX_FP_* */
	uint64_t virtual_size;
	uint8_t page83[16];
	uint32_t logical_sector;
	uint32_t physical_sector;
};

/* Where the metadata table says each known item is (offset from the region's start). */
struct vhdx_meta_items {
	bool present[VHDX_N_ITEMS];
	uint32_t offset[VHDX_N_ITEMS];
	uint32_t length[VHDX_N_ITEMS];
};

/* The BAT's shape for a disk (2.5). */
struct vhdx_geometry {
	uint32_t block_size;
	uint64_t chunk_ratio; /* payload blocks per sector bitmap block */
	uint64_t n_blocks;    /* payload blocks */
	uint64_t n_bat;       /* BAT entries, sector bitmap entries included */
};

/* The CRC-32C of len bytes with the 4-byte checksum field at csum_off counted as zero. */
uint32_t vhdx_checksum(const uint8_t *buf, size_t len, size_t csum_off);

/* block_size and logical_sector must be valid (a power of two in range, 512 or 4096). */
struct vhdx_geometry vhdx_geometry_for(uint64_t virtual_size, uint32_t block_size,
				       uint32_t logical_sector);
/* The BAT index of payload block blk and whether index idx is a sector bitmap entry. */
static inline uint64_t vhdx_bat_index(const struct vhdx_geometry *g, uint64_t blk)
{
	return blk + blk / g->chunk_ratio;
}
/* A BAT entry: state and a file offset (a multiple of 1 MiB). */
static inline uint64_t vhdx_bat_entry(unsigned state, uint64_t off)
{
	return (off & ~(uint64_t)(VHDX_MIB - 1)) | state;
}
static inline bool vhdx_bat_is_bitmap(const struct vhdx_geometry *g, uint64_t idx)
{
	return (idx + 1) % (g->chunk_ratio + 1) == 0;
}

/* The file type identifier with a creator string (ASCII, stored as UTF-16LE). */
void vhdx_file_id_encode(uint8_t *buf, const char *creator);

void vhdx_header_encode(uint8_t *buf, const struct vhdx_header *h);
/* -EBADMSG naming the field: signature, checksum, version. */
int vhdx_header_decode(const uint8_t *buf, struct diag *d, struct vhdx_header *ret);

void vhdx_region_table_encode(uint8_t *buf, const struct vhdx_regions *r);
/* Both regions present once, aligned, at least 1 MiB in and not overlapping each other or
 * the header section; -ENOTSUP for an unknown required region. */
int vhdx_region_table_decode(const uint8_t *buf, struct diag *d, struct vhdx_regions *ret);

/* The table and the items after it: VHDX_META_ENCODED_SIZE bytes from the region's start. */
#define VHDX_META_ENCODED_SIZE (VHDX_MT_SIZE + 4096)
void vhdx_meta_encode(uint8_t *buf, const struct vhdx_meta *m);
/* The table of a region of region_length bytes: every entry inside the region, known items
 * once each, the five required ones present; -ENOTSUP for an unknown required item. */
int vhdx_meta_table_decode(const uint8_t *buf, uint32_t region_length, struct diag *d,
			   struct vhdx_meta_items *ret);
/* The items' values, item[i] pointing at the bytes of item i (length as in the table):
 * checks block size, sector sizes, the virtual size; -ENOTSUP for a differencing disk. */
int vhdx_meta_values_decode(const uint8_t *const item[VHDX_N_ITEMS],
			    const struct vhdx_meta_items *items, struct diag *d,
			    struct vhdx_meta *ret);
