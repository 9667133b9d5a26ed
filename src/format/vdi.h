/* VirtualBox Disk Image (VDI) header codec, shared by the sink (vdi.c) and the reader
 * (vdi-read.c). Little-endian throughout. Layout: VirtualBox's VDIPREHEADER + VDIHEADER1PLUS
 * (src/VBox/Storage/VDICore.h), as qemu's block/vdi.c reads it. See docs/formats/vdi.md. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct diag;

enum {
	VDI_HDR_TEXT = 0x000,            /* 64 bytes, NUL-padded */
	VDI_HDR_SIGNATURE = 0x040,       /* le32 0xbeda107f */
	VDI_HDR_VERSION = 0x044,         /* le32, major << 16 | minor */
	VDI_HDR_HEADER_SIZE = 0x048,     /* le32, bytes from 0x48 */
	VDI_HDR_IMAGE_TYPE = 0x04c,      /* le32 */
	VDI_HDR_IMAGE_FLAGS = 0x050,     /* le32 */
	VDI_HDR_DESCRIPTION = 0x054,     /* 256 bytes */
	VDI_HDR_OFFSET_BMAP = 0x154,     /* le32, byte offset of the block map */
	VDI_HDR_OFFSET_DATA = 0x158,     /* le32, byte offset of block 0 */
	VDI_HDR_LEGACY_CYLINDERS = 0x15c, /* le32 */
	VDI_HDR_LEGACY_HEADS = 0x160,    /* le32 */
	VDI_HDR_LEGACY_SECTORS = 0x164,  /* le32 */
	VDI_HDR_SECTOR_SIZE = 0x168,     /* le32, 512 */
	VDI_HDR_DISK_SIZE = 0x170,       /* le64, bytes */
	VDI_HDR_BLOCK_SIZE = 0x178,      /* le32 */
	VDI_HDR_BLOCK_EXTRA = 0x17c,     /* le32 */
	VDI_HDR_BLOCKS_IN_IMAGE = 0x180, /* le32 */
	VDI_HDR_BLOCKS_ALLOCATED = 0x184, /* le32 */
	VDI_HDR_UUID_IMAGE = 0x188,      /* 16 bytes each, GUID byte order */
	VDI_HDR_UUID_LAST_SNAP = 0x198,
	VDI_HDR_UUID_LINK = 0x1a8,
	VDI_HDR_UUID_PARENT = 0x1b8,
	VDI_HDR_LCHS_CYLINDERS = 0x1c8, /* VDIHEADER1PLUS only (header size 400) */
	VDI_HDR_LCHS_HEADS = 0x1cc,
	VDI_HDR_LCHS_SECTORS = 0x1d0,
	VDI_HDR_LCHS_SECTOR_SIZE = 0x1d4,
	VDI_HDR_SIZE = 0x200, /* the header sector; the block map follows */
};

#define VDI_SIGNATURE 0xbeda107fu
#define VDI_VERSION_1_1 0x00010001u
#define VDI_HEADER_SIZE_V1 0x180u      /* VDIHEADER1, what qemu writes */
#define VDI_HEADER_SIZE_V1PLUS 0x190u  /* VDIHEADER1PLUS, what VirtualBox writes */
#define VDI_TEXT "<<< Oracle VM VirtualBox Disk Image >>>\n"
#define VDI_BLOCK_SIZE (1u << 20)
#define VDI_UNALLOCATED 0xffffffffu
#define VDI_DISCARDED 0xfffffffeu      /* reads as zeros */
#define VDI_BLOCKS_MAX 0x3fffffffu     /* qemu's VDI_BLOCKS_IN_IMAGE_MAX */

enum vdi_image_type {
	VDI_TYPE_DYNAMIC = 1,
	VDI_TYPE_STATIC = 2,
	VDI_TYPE_UNDO = 3,
	VDI_TYPE_DIFF = 4,
};

struct vdi_header {
	uint32_t version;
	uint32_t header_size;
	uint32_t image_type;
	uint32_t image_flags;
	uint32_t offset_bmap;
	uint32_t offset_data;
	uint32_t sector_size;
	uint64_t disk_size;
	uint32_t block_size;
	uint32_t block_extra;
	uint32_t blocks_in_image;
	uint32_t blocks_allocated;
	uint8_t uuid_image[16];     /* RFC 4122 order; stored as a GUID */
	uint8_t uuid_last_snap[16];
	uint8_t uuid_link[16];
	uint8_t uuid_parent[16];
};

/* Fill buf[VDI_HDR_SIZE] (zeroed first). */
void vdi_header_encode(uint8_t *buf, const struct vdi_header *h);
/* Decode and check the header sector against file_size: -EBADMSG naming the field, -ENOTSUP
 * for valid images we do not read (differencing, undo, other versions). */
int vdi_header_decode(const uint8_t *buf, size_t len, uint64_t file_size, struct diag *d,
		      struct vdi_header *ret);
