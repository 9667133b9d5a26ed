#include "fs/ext4/probe.h"

#include <errno.h>
#include <string.h>

#include "util/diag.h"
#include "util/endian.h"

/* Superblock fields we read (ext4 disk layout, "The Super Block"). */
enum {
	SB_INODES_COUNT = 0x00,
	SB_BLOCKS_COUNT_LO = 0x04,
	SB_R_BLOCKS_COUNT_LO = 0x08,
	SB_FREE_BLOCKS_COUNT_LO = 0x0C,
	SB_FREE_INODES_COUNT = 0x10,
	SB_LOG_BLOCK_SIZE = 0x18,
	SB_MAGIC = 0x38,
	SB_FEATURE_COMPAT = 0x5C,
	SB_FEATURE_INCOMPAT = 0x60,
	SB_FEATURE_RO_COMPAT = 0x64,
	SB_UUID = 0x68,
	SB_VOLUME_NAME = 0x78,
	SB_BLOCKS_COUNT_HI = 0x150,
	SB_R_BLOCKS_COUNT_HI = 0x154,
	SB_FREE_BLOCKS_COUNT_HI = 0x158,
};

#define EXT4_MAGIC 0xEF53
#define EXT4_INCOMPAT_64BIT 0x80u

int ext4_probe(const uint8_t sb[EXT4_PROBE_SB_SIZE], struct diag *d, struct ext4_probe_info *ret)
{
	struct ext4_probe_info info = { 0 };
	uint32_t log_bs;

	if (le16_get(sb + SB_MAGIC) != EXT4_MAGIC)
		return -ENOENT;
	log_bs = le32_get(sb + SB_LOG_BLOCK_SIZE);
	if (log_bs > 6)
		return diag_fail(d, -EBADMSG, "ext4 superblock: s_log_block_size %u out of range",
				 log_bs);
	info.block_size = 1024u << log_bs;
	info.feature_compat = le32_get(sb + SB_FEATURE_COMPAT);
	info.feature_incompat = le32_get(sb + SB_FEATURE_INCOMPAT);
	info.feature_ro_compat = le32_get(sb + SB_FEATURE_RO_COMPAT);
	info.n_blocks = le32_get(sb + SB_BLOCKS_COUNT_LO);
	info.reserved_blocks = le32_get(sb + SB_R_BLOCKS_COUNT_LO);
	info.free_blocks = le32_get(sb + SB_FREE_BLOCKS_COUNT_LO);
	if (info.feature_incompat & EXT4_INCOMPAT_64BIT) {
		info.n_blocks |= (uint64_t)le32_get(sb + SB_BLOCKS_COUNT_HI) << 32;
		info.reserved_blocks |= (uint64_t)le32_get(sb + SB_R_BLOCKS_COUNT_HI) << 32;
		info.free_blocks |= (uint64_t)le32_get(sb + SB_FREE_BLOCKS_COUNT_HI) << 32;
	}
	if (info.free_blocks > info.n_blocks || info.reserved_blocks > info.n_blocks)
		return diag_fail(d, -EBADMSG, "ext4 superblock: free or reserved block count "
				 "exceeds s_blocks_count");
	info.n_inodes = le32_get(sb + SB_INODES_COUNT);
	info.free_inodes = le32_get(sb + SB_FREE_INODES_COUNT);
	if (info.free_inodes > info.n_inodes)
		return diag_fail(d, -EBADMSG, "ext4 superblock: s_free_inodes_count exceeds "
				 "s_inodes_count");
	memcpy(info.uuid, sb + SB_UUID, 16);
	memcpy(info.label, sb + SB_VOLUME_NAME, 16);
	info.label[16] = '\0';
	*ret = info;
	return 0;
}
