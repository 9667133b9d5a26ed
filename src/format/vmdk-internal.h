/* VMDK sparse extents (hosted sparse extent format, "KDMV"), shared by the sink (vmdk.c) and
 * the reader (vmdk-read.c). Little-endian throughout. VMware "Virtual Disk Format 5.0",
 * "Hosted Sparse Extents" and "Stream-Optimized Compressed Sparse Extents"; QEMU
 * block/vmdk.c. Layout and choices: docs/formats/vmdk.md. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "format/format.h"

struct diag;

/* SparseExtentHeader: one sector, at sector 0 (and as the footer of a stream). */
enum {
	VMDK_HDR_MAGIC = 0,         /* "KDMV" */
	VMDK_HDR_VERSION = 4,       /* le32: 1, 2 or 3 (3: streamOptimized) */
	VMDK_HDR_FLAGS = 8,         /* le32 VMDK_FLAG_* */
	VMDK_HDR_CAPACITY = 12,     /* le64 sectors */
	VMDK_HDR_GRAIN_SIZE = 20,   /* le64 sectors per grain */
	VMDK_HDR_DESC_OFFSET = 28,  /* le64 sector of the embedded descriptor */
	VMDK_HDR_DESC_SIZE = 36,    /* le64 sectors */
	VMDK_HDR_NUM_GTES = 44,     /* le32 entries per grain table */
	VMDK_HDR_RGD_OFFSET = 48,   /* le64 sector of the redundant grain directory */
	VMDK_HDR_GD_OFFSET = 56,    /* le64 sector of the grain directory; VMDK_GD_AT_END */
	VMDK_HDR_OVERHEAD = 64,     /* le64 sectors before the first grain */
	VMDK_HDR_UNCLEAN = 72,      /* u8 */
	VMDK_HDR_NL_CHECK = 73,     /* "\n \r\n" */
	VMDK_HDR_COMPRESS = 77,     /* le16: 0 none, 1 deflate */
	VMDK_HDR_SIZE = 512,
};

#define VMDK_MAGIC "KDMV"
#define VMDK_NL_CHECK "\n \r\n"
#define VMDK_FLAG_NL_DETECT (1u << 0)
#define VMDK_FLAG_RGD (1u << 1)
#define VMDK_FLAG_ZERO_GRAIN (1u << 2) /* a grain table entry of 1 reads as zeros */
#define VMDK_FLAG_COMPRESSED (1u << 16)
#define VMDK_FLAG_MARKERS (1u << 17)
#define VMDK_COMPRESS_DEFLATE 1
#define VMDK_GD_AT_END UINT64_MAX

#define VMDK_SECTOR 512u
#define VMDK_GRAIN_SECT 128u /* 64 KiB grains, as qemu and VMware write */
#define VMDK_GRAIN_SIZE (VMDK_GRAIN_SECT * VMDK_SECTOR)
#define VMDK_GTES 512u       /* grain table entries per table: 2 KiB, 4 sectors */
#define VMDK_GT_SECT (VMDK_GTES * 4 / VMDK_SECTOR)
#define VMDK_DESC_OFFSET 1u
#define VMDK_DESC_SECT 20u   /* qemu's: 10 KiB */

/* Markers of a stream (one sector, but for grains): le64 val, le32 size, le32 type. A grain's
 * marker has size > 0 and is followed by its compressed bytes at offset 12. */
enum {
	VMDK_MARKER_VAL = 0,  /* le64: the grain's LBA, else sectors of metadata that follow */
	VMDK_MARKER_SIZE = 8, /* le32: compressed bytes of a grain, 0 for the others */
	VMDK_MARKER_TYPE = 12, /* le32 VMDK_MARKER_* (not for grains) */
	VMDK_GRAIN_MARKER_SIZE = 12,
};

enum vmdk_marker_type {
	VMDK_MARKER_EOS = 0,
	VMDK_MARKER_GT = 1,
	VMDK_MARKER_GD = 2,
	VMDK_MARKER_FOOTER = 3,
};

/* The reader's bounds (hostile input): qemu's limits, or tighter where they bound memory. */
#define VMDK_MAX_GRAIN_SECT 2048u      /* 1 MiB grains */
#define VMDK_MAX_GTES 4096u            /* 16 KiB grain tables */
#define VMDK_MAX_GD_BYTES (32u << 20)  /* as qcow2's L1 */

struct vmdk_header {
	uint32_t version;
	uint32_t flags;
	uint64_t capacity; /* sectors */
	uint64_t grain_sect;
	uint64_t desc_offset, desc_sect;
	uint32_t n_gtes;
	uint64_t rgd_offset, gd_offset; /* sectors */
	uint64_t overhead;              /* sectors */
	uint16_t compress;
};

void vmdk_header_encode(uint8_t *buf, const struct vmdk_header *h);
/* Checks every field but the offsets against the file (the reader does, knowing its size):
 * -EBADMSG naming the field, -ENOTSUP for a valid but unsupported version. */
int vmdk_header_decode(const uint8_t *buf, struct diag *d, struct vmdk_header *ret);

/* The embedded text descriptor (NUL-padded to VMDK_DESC_SECT sectors by the caller):
 * createType, CID from the seed, the extent line naming extent_name, and qemu's DDB. Returns
 * its length (< VMDK_DESC_SECT * 512). */
size_t vmdk_descriptor(char *buf, size_t size, enum format_vmdk_subformat sub, const char *seed,
		       uint64_t capacity, const char *extent_name);
