/* Growing ext4 offline: the state shared by grow.c (driver: superblock, limits, write order),
 * grow-groups.c (the new groups' layout, bitmaps and descriptors) and grow-resize-inode.c
 * (the resize inode after GDT blocks were taken from the reserve). docs/formats/ext4.md,
 * "Growing". Generic over the filesystems mke2fs makes (1-64 KiB blocks, 32- or 64-byte
 * descriptors, with or without flex_bg and checksums), unlike the writer's fixed geometry. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "fs/fs-io.h"

struct diag;

/* Group descriptor flags. */
#define EXT4G_BG_INODE_UNINIT 0x1u
#define EXT4G_BG_BLOCK_UNINIT 0x2u
#define EXT4G_BG_ITABLE_ZEROED 0x4u

struct ext4g {
	const struct fs_io *io;
	uint8_t sb[1024];
	uint32_t bs;           /* block size */
	uint32_t fdb;          /* s_first_data_block */
	uint32_t bpg, ipg;     /* blocks / inodes per group */
	uint32_t inode_size, itb; /* inode table blocks per group */
	uint32_t desc_size, dpb;  /* descriptor size, descriptors per block */
	uint32_t flex;            /* groups per flex group (1 without flex_bg) */
	bool sparse, csum, gdt_csum, resize_inode;
	uint32_t csum_seed;

	uint64_t old_blocks, new_blocks;
	uint32_t old_groups, new_groups;
	uint32_t old_desc, new_desc; /* GDT blocks */
	uint32_t old_rsv, new_rsv;   /* s_reserved_gdt_blocks */

	uint8_t *gdt; /* new_desc blocks: the old descriptors, then the new groups' */
	/* Per new group (index g - old_groups): where its tables go. */
	uint64_t *bb, *ib, *it;
	uint8_t *last_bb; /* the old last group's new block bitmap, when it grew */
	/* The resize inode (inode_size bytes, read at res_off) and its double-indirect block. */
	uint8_t *res_inode, *res_dind;
	uint64_t res_off, res_dind_blk;
	uint32_t *backups, n_backups; /* the backup groups past 0 (at most block_size / 4) */
};

/* ---- grow.c ---- */
bool ext4g_has_super(const struct ext4g *fs, uint32_t g);
uint64_t ext4g_group_first(const struct ext4g *fs, uint32_t g);
/* Blocks of group g in a filesystem of n_blocks. */
uint32_t ext4g_group_len(const struct ext4g *fs, uint32_t g, uint64_t n_blocks);
/* Superblock + GDT + reserved GDT blocks at the start of group g (0 without a backup). */
uint32_t ext4g_backup_len(const struct ext4g *fs, uint32_t g);
uint8_t *ext4g_desc(const struct ext4g *fs, uint32_t g);
uint64_t ext4g_desc_get(const struct ext4g *fs, const uint8_t *desc, unsigned lo_off,
			unsigned hi_off, unsigned width);
void ext4g_desc_put(const struct ext4g *fs, uint8_t *desc, unsigned lo_off, unsigned hi_off,
		    unsigned width, uint64_t v);
uint16_t ext4g_desc_csum(const struct ext4g *fs, uint32_t g, const uint8_t *desc);
int ext4g_read(struct ext4g *fs, uint64_t blk, void *buf, size_t len, struct diag *d);
int ext4g_write(struct ext4g *fs, uint64_t blk, const void *buf, size_t len, struct diag *d);

/* ---- grow-groups.c ---- */
/* Place the new groups' bitmaps and inode tables and fill their descriptors. */
int ext4g_layout_new_groups(struct ext4g *fs, struct diag *d);
/* The old last group made longer: its bitmap's padding bits cleared, its free count. */
int ext4g_extend_last_group(struct ext4g *fs, struct diag *d);
/* Write the new groups' block (and, without checksums, inode) bitmaps. */
int ext4g_write_new_bitmaps(struct ext4g *fs, struct diag *d);

/* ---- grow-resize-inode.c ---- */
/* Check the resize inode against the old geometry; then, for the new one: extend the backup
 * lists of the reserved GDT blocks that stay (write_lists), and drop the ones that became GDT
 * blocks from the double-indirect block and recount i_blocks (write_inode). */
int ext4g_resize_inode_check(struct ext4g *fs, struct diag *d);
int ext4g_resize_inode_write_lists(struct ext4g *fs, struct diag *d);
int ext4g_resize_inode_write_inode(struct ext4g *fs, struct diag *d);

/* Group descriptor fields (ext4 disk layout, "Block Group Descriptors"): lo, hi offsets. */
enum {
	EXT4G_BG_BLOCK_BITMAP = 0x00, EXT4G_BG_BLOCK_BITMAP_HI = 0x20,
	EXT4G_BG_INODE_BITMAP = 0x04, EXT4G_BG_INODE_BITMAP_HI = 0x24,
	EXT4G_BG_INODE_TABLE = 0x08, EXT4G_BG_INODE_TABLE_HI = 0x28,
	EXT4G_BG_FREE_BLOCKS = 0x0c, EXT4G_BG_FREE_BLOCKS_HI = 0x2c,
	EXT4G_BG_FREE_INODES = 0x0e, EXT4G_BG_FREE_INODES_HI = 0x2e,
	EXT4G_BG_USED_DIRS = 0x10, EXT4G_BG_USED_DIRS_HI = 0x30,
	EXT4G_BG_FLAGS = 0x12,
	EXT4G_BG_BLOCK_BITMAP_CSUM = 0x18, EXT4G_BG_BLOCK_BITMAP_CSUM_HI = 0x38,
	EXT4G_BG_INODE_BITMAP_CSUM = 0x1a, EXT4G_BG_INODE_BITMAP_CSUM_HI = 0x3a,
	EXT4G_BG_ITABLE_UNUSED = 0x1c, EXT4G_BG_ITABLE_UNUSED_HI = 0x32,
	EXT4G_BG_CHECKSUM = 0x1e,
};

/* Accessors for one field: 32-bit (width 4) or 16-bit (width 2) low half, high half only in
 * descriptors of 64 bytes or more. */
#define EXT4G_GET32(fs, p, f) ext4g_desc_get(fs, p, EXT4G_BG_##f, EXT4G_BG_##f##_HI, 4)
#define EXT4G_GET16(fs, p, f) ext4g_desc_get(fs, p, EXT4G_BG_##f, EXT4G_BG_##f##_HI, 2)
#define EXT4G_PUT32(fs, p, f, v) ext4g_desc_put(fs, p, EXT4G_BG_##f, EXT4G_BG_##f##_HI, 4, v)
#define EXT4G_PUT16(fs, p, f, v) ext4g_desc_put(fs, p, EXT4G_BG_##f, EXT4G_BG_##f##_HI, 2, v)
