/* ext4 metadata_csum checksums (crc32c). Every formula follows the kernel's fs/ext4
 * (super.c ext4_superblock_csum, inode.c ext4_inode_csum, super.c ext4_group_desc_csum,
 * bitmap.c, extents.c ext4_extent_block_csum, namei.c ext4_dirblock_csum / ext4_dx_csum,
 * xattr.c ext4_xattr_block_csum) and the ext4 disk-layout document, "Checksums".
 * Checksummed fields are skipped by hashing zeros in their place. See docs/formats/ext4-dir.md. */
#include "fs/ext4/ext4-internal.h"

#include <assert.h>

#include "util/crc.h"
#include "util/endian.h"

enum {
	EXT4_SB_CHECKSUM = 0x3fc,
	EXT4_GD_CHECKSUM = 0x1e,
	EXT4_INODE_CHECKSUM_LO = 0x7c,
	EXT4_INODE_EXTRA_ISIZE = 0x80,
	EXT4_INODE_CHECKSUM_HI = 0x82,
	EXT4_GOOD_OLD_INODE_SIZE = 128,
	EXT4_EH_MAX = 4,
	EXT4_EXTENT_HDR_SIZE = 12,
	EXT4_EXTENT_ENTRY_SIZE = 12,
	EXT4_DIR_TAIL_SIZE = 12,
	EXT4_DX_ENTRY_SIZE = 8,
	EXT4_XATTR_H_CHECKSUM = 16,
};

static const uint8_t zeros[4];

uint32_t ext4_csum_seed(const uint8_t uuid[16])
{
	return crc32c_le(~0u, uuid, 16);
}

uint32_t ext4_inode_seed(uint32_t csum_seed, uint32_t ino, uint32_t gen)
{
	uint8_t b[4];

	le32_put(b, ino);
	csum_seed = crc32c_le(csum_seed, b, 4);
	le32_put(b, gen);
	return crc32c_le(csum_seed, b, 4);
}

void ext4_super_csum_set(uint8_t sb[1024])
{
	le32_put(sb + EXT4_SB_CHECKSUM, crc32c_le(~0u, sb, EXT4_SB_CHECKSUM));
}

uint16_t ext4_group_desc_csum(uint32_t csum_seed, uint32_t group, const uint8_t *desc,
			      size_t desc_size)
{
	uint8_t b[4];
	uint32_t c;

	assert(desc_size >= EXT4_GD_CHECKSUM + 2);
	le32_put(b, group);
	c = crc32c_le(csum_seed, b, 4);
	c = crc32c_le(c, desc, EXT4_GD_CHECKSUM);
	c = crc32c_le(c, zeros, 2);
	c = crc32c_le(c, desc + EXT4_GD_CHECKSUM + 2, desc_size - EXT4_GD_CHECKSUM - 2);
	return (uint16_t)c;
}

void ext4_inode_csum_set(uint8_t *inode, size_t inode_size, uint32_t csum_seed, uint32_t ino,
			 uint32_t gen)
{
	uint32_t c = ext4_inode_seed(csum_seed, ino, gen);
	/* i_checksum_hi exists only when i_extra_isize covers it (kernel: EXT4_FITS_IN_INODE). */
	bool has_hi = inode_size > EXT4_GOOD_OLD_INODE_SIZE &&
		      EXT4_GOOD_OLD_INODE_SIZE + le16_get(inode + EXT4_INODE_EXTRA_ISIZE) >=
			      EXT4_INODE_CHECKSUM_HI + 2;

	c = crc32c_le(c, inode, EXT4_INODE_CHECKSUM_LO);
	c = crc32c_le(c, zeros, 2);
	c = crc32c_le(c, inode + EXT4_INODE_CHECKSUM_LO + 2,
		      EXT4_GOOD_OLD_INODE_SIZE - EXT4_INODE_CHECKSUM_LO - 2);
	if (inode_size > EXT4_GOOD_OLD_INODE_SIZE) {
		c = crc32c_le(c, inode + EXT4_GOOD_OLD_INODE_SIZE,
			      EXT4_INODE_CHECKSUM_HI - EXT4_GOOD_OLD_INODE_SIZE);
		if (has_hi) {
			c = crc32c_le(c, zeros, 2);
			c = crc32c_le(c, inode + EXT4_INODE_CHECKSUM_HI + 2,
				      inode_size - EXT4_INODE_CHECKSUM_HI - 2);
		} else {
			c = crc32c_le(c, inode + EXT4_INODE_CHECKSUM_HI,
				      inode_size - EXT4_INODE_CHECKSUM_HI);
		}
	}
	le16_put(inode + EXT4_INODE_CHECKSUM_LO, (uint16_t)c);
	if (has_hi)
		le16_put(inode + EXT4_INODE_CHECKSUM_HI, (uint16_t)(c >> 16));
}

uint32_t ext4_bitmap_csum(uint32_t csum_seed, const uint8_t *bitmap, size_t len)
{
	return crc32c_le(csum_seed, bitmap, len);
}

void ext4_extent_block_csum_set(uint8_t *blk, size_t block_size, uint32_t inode_seed)
{
	size_t tail = EXT4_EXTENT_HDR_SIZE + EXT4_EXTENT_ENTRY_SIZE * (size_t)le16_get(blk + EXT4_EH_MAX);

	assert(tail + 4 <= block_size);
	le32_put(blk + tail, crc32c_le(inode_seed, blk, tail));
}

void ext4_dir_leaf_csum_set(uint8_t *blk, size_t block_size, uint32_t inode_seed)
{
	size_t tail = block_size - EXT4_DIR_TAIL_SIZE;

	le32_put(blk + tail + 8, crc32c_le(inode_seed, blk, tail));
}

void ext4_dx_csum_set(uint8_t *blk, size_t block_size, uint32_t inode_seed, size_t count_off)
{
	size_t limit = le16_get(blk + count_off), count = le16_get(blk + count_off + 2);
	size_t tail = count_off + limit * EXT4_DX_ENTRY_SIZE;
	uint32_t c;

	assert(count <= limit && tail + 8 <= block_size);
	le32_put(blk + tail, 0); /* dt_reserved */
	c = crc32c_le(inode_seed, blk, count_off + count * EXT4_DX_ENTRY_SIZE);
	/* the kernel hashes dt_reserved and then a zero dt_checksum (ext4_dx_csum's dummy_csum) */
	c = crc32c_le(c, blk + tail, 4);
	c = crc32c_le(c, zeros, 4);
	le32_put(blk + tail + 4, c);
}

void ext4_xattr_block_csum_set(uint8_t *blk, size_t block_size, uint32_t csum_seed,
			       uint64_t blocknr)
{
	uint8_t b[8];
	uint32_t c;

	le64_put(b, blocknr);
	c = crc32c_le(csum_seed, b, 8);
	c = crc32c_le(c, blk, EXT4_XATTR_H_CHECKSUM);
	c = crc32c_le(c, zeros, 4);
	c = crc32c_le(c, blk + EXT4_XATTR_H_CHECKSUM + 4, block_size - EXT4_XATTR_H_CHECKSUM - 4);
	le32_put(blk + EXT4_XATTR_H_CHECKSUM, c);
}
