/* The resize inode (7): a double-indirect map of the reserved GDT blocks and their backups,
 * exactly as e2fsprogs' lib/ext2fs/res_gdt.c builds it (e2fsck compares it block by block),
 * so resize2fs and the kernel's online resize can grow the filesystem.
 * docs/formats/ext4.md, "Resize inode". */
#include "fs/ext4/ext4-plan.h"

#include <string.h>

#include "util/endian.h"

#define EXT4_DIND_BLOCK 13

static uint32_t n_backup_groups(const struct ext4_geom *g)
{
	uint32_t n = 0;

	for (uint32_t i = 1; i < g->n_groups; i++)
		n += ext4_group_has_super(i);
	return n;
}

uint64_t ext4_resize_inode_blocks(const struct ext4_geom *g)
{
	return 1 + (uint64_t)g->rsv_gdt_blocks * (1 + n_backup_groups(g));
}

/* dind[(desc_blocks + k) % addr_per_block] = primary reserved GDT block k. */
void ext4_resize_dind_encode(const struct ext4_plan *pl, uint8_t *buf)
{
	const struct ext4_geom *g = &pl->g;

	for (uint32_t k = 0; k < g->rsv_gdt_blocks; k++) {
		uint32_t off = (g->desc_blocks + k) % EXT4_ADDR_PER_BLOCK;

		le32_put(buf + 4 * off, 1 + g->desc_blocks + k);
	}
}

/* Primary reserved GDT block k acts as an indirect block listing its copies in the backup
 * groups, in ascending group order (ext2fs_list_backups). */
void ext4_resize_gdt_encode(const struct ext4_plan *pl, uint32_t k, uint8_t *buf)
{
	const struct ext4_geom *g = &pl->g;
	uint32_t gdt_blk = 1 + g->desc_blocks + k, last = 0;

	for (uint32_t i = 1; i < g->n_groups; i++) {
		if (!ext4_group_has_super(i))
			continue;
		le32_put(buf + 4 * last, gdt_blk + i * EXT4_BLOCKS_PER_GROUP);
		last++;
	}
}

void ext4_resize_inode_fill(const struct ext4_plan *pl, uint8_t *inode)
{
	uint64_t size = ((uint64_t)EXT4_ADDR_PER_BLOCK * EXT4_ADDR_PER_BLOCK +
			 EXT4_ADDR_PER_BLOCK + 12) * EXT4_BLOCK_SIZE;
	uint64_t sectors = ext4_resize_inode_blocks(&pl->g) * (EXT4_BLOCK_SIZE / 512);

	le16_put(inode + 0x00, 0100600);
	le32_put(inode + 0x04, (uint32_t)size);
	le32_put(inode + 0x6c, (uint32_t)(size >> 32));
	le16_put(inode + 0x1a, 1);
	le32_put(inode + 0x1c, (uint32_t)sectors);
	le16_put(inode + 0x74, (uint16_t)(sectors >> 32));
	le32_put(inode + 0x28 + 4 * EXT4_DIND_BLOCK, (uint32_t)pl->dind_blk);
}
