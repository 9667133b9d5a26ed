/* ext4 superblock: the primary at byte 1024 and the sparse_super backups at the start of
 * groups 1, 3^n, 5^n, 7^n (ext4 disk layout, "The Super Block"). docs/formats/ext4.md. */
#include "fs/ext4/ext4-plan.h"

#include <string.h>

#include "util/endian.h"

enum {
	EXT4_SB_INODES_COUNT = 0x00,
	EXT4_SB_BLOCKS_COUNT_LO = 0x04,
	EXT4_SB_R_BLOCKS_COUNT_LO = 0x08,
	EXT4_SB_FREE_BLOCKS_COUNT_LO = 0x0c,
	EXT4_SB_FREE_INODES_COUNT = 0x10,
	EXT4_SB_FIRST_DATA_BLOCK = 0x14,
	EXT4_SB_LOG_BLOCK_SIZE = 0x18,
	EXT4_SB_LOG_CLUSTER_SIZE = 0x1c,
	EXT4_SB_BLOCKS_PER_GROUP = 0x20,
	EXT4_SB_CLUSTERS_PER_GROUP = 0x24,
	EXT4_SB_INODES_PER_GROUP = 0x28,
	EXT4_SB_MTIME = 0x2c,
	EXT4_SB_WTIME = 0x30,
	EXT4_SB_MNT_COUNT = 0x34,
	EXT4_SB_MAX_MNT_COUNT = 0x36,
	EXT4_SB_MAGIC = 0x38,
	EXT4_SB_STATE = 0x3a,
	EXT4_SB_ERRORS = 0x3c,
	EXT4_SB_LASTCHECK = 0x40,
	EXT4_SB_CHECKINTERVAL = 0x44,
	EXT4_SB_CREATOR_OS = 0x48,
	EXT4_SB_REV_LEVEL = 0x4c,
	EXT4_SB_FIRST_INO = 0x54,
	EXT4_SB_INODE_SIZE = 0x58,
	EXT4_SB_BLOCK_GROUP_NR = 0x5a,
	EXT4_SB_FEATURE_COMPAT = 0x5c,
	EXT4_SB_FEATURE_INCOMPAT = 0x60,
	EXT4_SB_FEATURE_RO_COMPAT = 0x64,
	EXT4_SB_UUID = 0x68,
	EXT4_SB_VOLUME_NAME = 0x78,
	EXT4_SB_RESERVED_GDT_BLOCKS = 0xce,
	EXT4_SB_JOURNAL_INUM = 0xe0,
	EXT4_SB_HASH_SEED = 0xec,
	EXT4_SB_DEF_HASH_VERSION = 0xfc,
	EXT4_SB_JNL_BACKUP_TYPE = 0xfd,
	EXT4_SB_DESC_SIZE = 0xfe,
	EXT4_SB_DEFAULT_MOUNT_OPTS = 0x100,
	EXT4_SB_MKFS_TIME = 0x108,
	EXT4_SB_JNL_BLOCKS = 0x10c, /* 17 x le32: i_block[15], i_size_high, i_size */
	EXT4_SB_BLOCKS_COUNT_HI = 0x150,
	EXT4_SB_R_BLOCKS_COUNT_HI = 0x154,
	EXT4_SB_FREE_BLOCKS_COUNT_HI = 0x158,
	EXT4_SB_MIN_EXTRA_ISIZE = 0x15c,
	EXT4_SB_WANT_EXTRA_ISIZE = 0x15e,
	EXT4_SB_FLAGS = 0x160,
	EXT4_SB_LOG_GROUPS_PER_FLEX = 0x174,
	EXT4_SB_CHECKSUM_TYPE = 0x175,
};

enum {
	EXT4_COMPAT_HAS_JOURNAL = 0x4,
	EXT4_COMPAT_EXT_ATTR = 0x8,
	EXT4_COMPAT_RESIZE_INODE = 0x10,
	EXT4_COMPAT_DIR_INDEX = 0x20,
	EXT4_INCOMPAT_FILETYPE = 0x2,
	EXT4_INCOMPAT_EXTENTS = 0x40,
	EXT4_INCOMPAT_64BIT = 0x80,
	EXT4_INCOMPAT_FLEX_BG = 0x200,
	EXT4_RO_COMPAT_SPARSE_SUPER = 0x1,
	EXT4_RO_COMPAT_LARGE_FILE = 0x2,
	EXT4_RO_COMPAT_HUGE_FILE = 0x8,
	EXT4_RO_COMPAT_DIR_NLINK = 0x20,
	EXT4_RO_COMPAT_EXTRA_ISIZE = 0x40,
	EXT4_RO_COMPAT_METADATA_CSUM = 0x400,
};

#define EXT4_SUPER_MAGIC 0xef53
#define EXT4_FLAGS_SIGNED_HASH 0x1
#define EXT4_DEFM_XATTR_USER 0x4
#define EXT4_DEFM_ACL 0x8
#define EXT4_ERRORS_CONTINUE 1
#define EXT4_STATE_VALID 1
#define EXT4_JNL_BACKUP_BLOCKS 1

void ext4_super_encode(const struct ext4_plan *pl, uint32_t group, uint8_t sb[1024])
{
	const struct ext4_geom *g = &pl->g;
	uint64_t free_blocks = pl->free_blocks;
	uint32_t free_inodes = g->n_inodes - pl->n_used;
	uint32_t compat = EXT4_COMPAT_EXT_ATTR | EXT4_COMPAT_RESIZE_INODE | EXT4_COMPAT_DIR_INDEX;
	uint32_t fs_time = (uint32_t)pl->p.fs_time;

	memset(sb, 0, 1024);
	if (g->journal_blocks)
		compat |= EXT4_COMPAT_HAS_JOURNAL;
	le32_put(sb + EXT4_SB_INODES_COUNT, g->n_inodes);
	le32_put(sb + EXT4_SB_BLOCKS_COUNT_LO, (uint32_t)g->n_blocks);
	le32_put(sb + EXT4_SB_BLOCKS_COUNT_HI, (uint32_t)(g->n_blocks >> 32));
	le32_put(sb + EXT4_SB_R_BLOCKS_COUNT_LO, (uint32_t)g->reserved_blocks);
	le32_put(sb + EXT4_SB_R_BLOCKS_COUNT_HI, (uint32_t)(g->reserved_blocks >> 32));
	le32_put(sb + EXT4_SB_FREE_BLOCKS_COUNT_LO, (uint32_t)free_blocks);
	le32_put(sb + EXT4_SB_FREE_BLOCKS_COUNT_HI, (uint32_t)(free_blocks >> 32));
	le32_put(sb + EXT4_SB_FREE_INODES_COUNT, free_inodes);
	le32_put(sb + EXT4_SB_FIRST_DATA_BLOCK, 0);
	le32_put(sb + EXT4_SB_LOG_BLOCK_SIZE, 2); /* 1024 << 2 */
	le32_put(sb + EXT4_SB_LOG_CLUSTER_SIZE, 2);
	le32_put(sb + EXT4_SB_BLOCKS_PER_GROUP, EXT4_BLOCKS_PER_GROUP);
	le32_put(sb + EXT4_SB_CLUSTERS_PER_GROUP, EXT4_BLOCKS_PER_GROUP);
	le32_put(sb + EXT4_SB_INODES_PER_GROUP, g->inodes_per_group);
	le32_put(sb + EXT4_SB_WTIME, fs_time);
	le16_put(sb + EXT4_SB_MAX_MNT_COUNT, 0xffff); /* -1: no mount-count checks */
	le16_put(sb + EXT4_SB_MAGIC, EXT4_SUPER_MAGIC);
	le16_put(sb + EXT4_SB_STATE, EXT4_STATE_VALID);
	le16_put(sb + EXT4_SB_ERRORS, EXT4_ERRORS_CONTINUE);
	le32_put(sb + EXT4_SB_LASTCHECK, fs_time);
	le32_put(sb + EXT4_SB_REV_LEVEL, 1);
	le32_put(sb + EXT4_SB_FIRST_INO, EXT4_FIRST_INO);
	le16_put(sb + EXT4_SB_INODE_SIZE, EXT4_INODE_SIZE);
	le16_put(sb + EXT4_SB_BLOCK_GROUP_NR, (uint16_t)group);
	le32_put(sb + EXT4_SB_FEATURE_COMPAT, compat);
	le32_put(sb + EXT4_SB_FEATURE_INCOMPAT, EXT4_INCOMPAT_FILETYPE | EXT4_INCOMPAT_EXTENTS |
							EXT4_INCOMPAT_64BIT | EXT4_INCOMPAT_FLEX_BG);
	le32_put(sb + EXT4_SB_FEATURE_RO_COMPAT,
		 EXT4_RO_COMPAT_SPARSE_SUPER | EXT4_RO_COMPAT_LARGE_FILE | EXT4_RO_COMPAT_HUGE_FILE |
			 EXT4_RO_COMPAT_DIR_NLINK | EXT4_RO_COMPAT_EXTRA_ISIZE |
			 EXT4_RO_COMPAT_METADATA_CSUM);
	memcpy(sb + EXT4_SB_UUID, pl->p.uuid, 16);
	memcpy(sb + EXT4_SB_VOLUME_NAME, pl->p.label, strnlen(pl->p.label, 16));
	le16_put(sb + EXT4_SB_RESERVED_GDT_BLOCKS, (uint16_t)g->rsv_gdt_blocks);
	memcpy(sb + EXT4_SB_HASH_SEED, pl->p.hash_seed, 16);
	sb[EXT4_SB_DEF_HASH_VERSION] = EXT4_HASH_HALF_MD4;
	le16_put(sb + EXT4_SB_DESC_SIZE, EXT4_DESC_SIZE);
	le32_put(sb + EXT4_SB_DEFAULT_MOUNT_OPTS, EXT4_DEFM_XATTR_USER | EXT4_DEFM_ACL);
	le32_put(sb + EXT4_SB_MKFS_TIME, fs_time);
	if (g->journal_blocks) {
		uint8_t inode[EXT4_INODE_SIZE];

		/* s_jnl_blocks: the journal inode's i_block, i_size_high and i_size. */
		le32_put(sb + EXT4_SB_JOURNAL_INUM, EXT4_JOURNAL_INO);
		sb[EXT4_SB_JNL_BACKUP_TYPE] = EXT4_JNL_BACKUP_BLOCKS;
		memset(inode, 0, sizeof(inode));
		ext4_inode_encode(pl, EXT4_JOURNAL_INO, inode);
		memcpy(sb + EXT4_SB_JNL_BLOCKS, inode + 0x28, 60);
		memcpy(sb + EXT4_SB_JNL_BLOCKS + 60, inode + 0x6c, 4);
		memcpy(sb + EXT4_SB_JNL_BLOCKS + 64, inode + 0x04, 4);
	}
	le16_put(sb + EXT4_SB_MIN_EXTRA_ISIZE, EXT4_EXTRA_ISIZE);
	le16_put(sb + EXT4_SB_WANT_EXTRA_ISIZE, EXT4_EXTRA_ISIZE);
	le32_put(sb + EXT4_SB_FLAGS, EXT4_FLAGS_SIGNED_HASH);
	sb[EXT4_SB_LOG_GROUPS_PER_FLEX] = EXT4_LOG_GROUPS_PER_FLEX;
	sb[EXT4_SB_CHECKSUM_TYPE] = 1; /* crc32c */
	ext4_super_csum_set(sb);
}
