#include "fs/ext4/ext4-internal.h"

#include "fs/ext4/csum_test_vectors.h"
#include "util/endian.h"
#include "util/test.h"

static const uint8_t kat_uuid[16] = { 0x6b, 0xa7, 0xb8, 0x10, 0x9d, 0xad, 0x11, 0xd1,
				      0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8 };

static void kat_fill(uint8_t *buf, size_t size, const struct kat_run *r, size_t n)
{
	memset(buf, 0, size);
	for (size_t i = 0; i < n; i++)
		memcpy(buf + r[i].off, r[i].bytes, r[i].len);
}

#define KAT_FILL(buf, runs) kat_fill(buf, sizeof(buf), runs, ARRAY_SIZE_(runs))
#define ARRAY_SIZE_(a) (sizeof(a) / sizeof((a)[0]))

TEST(csum_seed_matches_superblock_uuid)
{
	uint8_t sb[1024];

	KAT_FILL(sb, kat_sb);
	ASSERT_MEM_EQ(sb + 0x68, kat_uuid, 16);
	ASSERT_EQ(le16_get(sb + 0x38), 0xEF53);
}

TEST(super_csum_known_answer)
{
	uint8_t sb[1024];
	uint32_t want;

	KAT_FILL(sb, kat_sb);
	want = le32_get(sb + 0x3fc);
	le32_put(sb + 0x3fc, 0);
	ext4_super_csum_set(sb);
	ASSERT_EQ(le32_get(sb + 0x3fc), want);
	sb[0] ^= 1;
	ext4_super_csum_set(sb);
	ASSERT_TRUE(le32_get(sb + 0x3fc) != want);
}

TEST(group_desc_csum_known_answer)
{
	uint8_t gd[64];
	uint32_t seed = ext4_csum_seed(kat_uuid);

	KAT_FILL(gd, kat_gd0);
	ASSERT_EQ(le16_get(gd + 0x1e), 0xf90a); /* dumpe2fs "Group 0: ... csum 0xf90a" */
	ASSERT_EQ(ext4_group_desc_csum(seed, 0, gd, 64), 0xf90a);
	le16_put(gd + 0x1e, 0x1234); /* the stored field does not take part */
	ASSERT_EQ(ext4_group_desc_csum(seed, 0, gd, 64), 0xf90a);
	ASSERT_TRUE(ext4_group_desc_csum(seed, 1, gd, 64) != 0xf90a);
}

TEST(bitmap_csum_known_answer)
{
	uint8_t gd[64], bb[4096], ib[512];
	uint32_t seed = ext4_csum_seed(kat_uuid);

	KAT_FILL(gd, kat_gd0);
	KAT_FILL(bb, kat_block_bitmap);
	KAT_FILL(ib, kat_inode_bitmap);
	ASSERT_EQ(ext4_bitmap_csum(seed, bb, sizeof(bb)), 0x48aca30du);
	ASSERT_EQ(ext4_bitmap_csum(seed, ib, sizeof(ib)), 0xbeb6b770u);
	/* and as the descriptor stores them (lo at 0x18/0x1a, hi at 0x38/0x3a) */
	ASSERT_EQ(le16_get(gd + 0x18) | (uint32_t)le16_get(gd + 0x38) << 16, 0x48aca30du);
	ASSERT_EQ(le16_get(gd + 0x1a) | (uint32_t)le16_get(gd + 0x3a) << 16, 0xbeb6b770u);
}

static void check_inode(int *_failed, const struct kat_run *r, size_t n, uint32_t ino,
			uint32_t gen, uint32_t want)
{
	uint8_t inode[256];
	uint32_t seed = ext4_csum_seed(kat_uuid);

	kat_fill(inode, sizeof(inode), r, n);
	ASSERT_EQ(le16_get(inode + 0x7c) | (uint32_t)le16_get(inode + 0x82) << 16, want);
	ASSERT_EQ(le32_get(inode + 0x64), gen);
	le16_put(inode + 0x7c, 0);
	le16_put(inode + 0x82, 0);
	ext4_inode_csum_set(inode, sizeof(inode), seed, ino, gen);
	ASSERT_EQ(le16_get(inode + 0x7c) | (uint32_t)le16_get(inode + 0x82) << 16, want);
	/* a stale checksum in place does not change the result */
	ext4_inode_csum_set(inode, sizeof(inode), seed, ino, gen);
	ASSERT_EQ(le16_get(inode + 0x7c) | (uint32_t)le16_get(inode + 0x82) << 16, want);
	ext4_inode_csum_set(inode, sizeof(inode), seed, ino + 1, gen);
	ASSERT_TRUE((le16_get(inode + 0x7c) | (uint32_t)le16_get(inode + 0x82) << 16) != want);
}

TEST(inode_csum_known_answer)
{
	uint8_t inode[256];

	KAT_FILL(inode, kat_inode12);
	check_inode(_failed, kat_inode12, ARRAY_SIZE_(kat_inode12), 12, 0x9abcdef1u,
		    le16_get(inode + 0x7c) | (uint32_t)le16_get(inode + 0x82) << 16);
	KAT_FILL(inode, kat_inode313);
	check_inode(_failed, kat_inode313, ARRAY_SIZE_(kat_inode313), 313, 0x12345678u,
		    le16_get(inode + 0x7c) | (uint32_t)le16_get(inode + 0x82) << 16);
}

TEST(inode_seed_chains_ino_then_gen)
{
	uint32_t s = ext4_csum_seed(kat_uuid);

	ASSERT_TRUE(ext4_inode_seed(s, 12, 1) != ext4_inode_seed(s, 1, 12));
}

TEST(dx_csum_known_answer)
{
	uint8_t blk[4096];
	uint32_t want, seed = ext4_inode_seed(ext4_csum_seed(kat_uuid), 12, 0x9abcdef1u);

	KAT_FILL(blk, kat_dx_root);
	ASSERT_EQ(le16_get(blk + 0x20), 507); /* limit */
	ASSERT_EQ(le16_get(blk + 0x22), 4);   /* count */
	want = le32_get(blk + 4092);
	ASSERT_EQ(want, 0x025c873eu); /* debugfs htree "Checksum:" */
	memset(blk + 4088, 0xaa, 8);
	ext4_dx_csum_set(blk, sizeof(blk), seed, 0x20);
	ASSERT_EQ(le32_get(blk + 4088), 0);
	ASSERT_EQ(le32_get(blk + 4092), want);
}

TEST(dir_leaf_csum_known_answer)
{
	uint8_t blk[4096];
	uint32_t want, seed = ext4_inode_seed(ext4_csum_seed(kat_uuid), 12, 0x9abcdef1u);

	KAT_FILL(blk, kat_dir_leaf);
	/* the fake dirent tail */
	ASSERT_EQ(le32_get(blk + 4084), 0);
	ASSERT_EQ(le16_get(blk + 4088), 12);
	ASSERT_EQ(blk[4090], 0);
	ASSERT_EQ(blk[4091], 0xde);
	want = le32_get(blk + 4092);
	le32_put(blk + 4092, 0);
	ext4_dir_leaf_csum_set(blk, sizeof(blk), seed);
	ASSERT_EQ(le32_get(blk + 4092), want);
	ASSERT_TRUE(want != 0);
}

TEST(extent_block_csum_known_answer)
{
	uint8_t blk[4096];
	uint32_t want, seed = ext4_inode_seed(ext4_csum_seed(kat_uuid), 313, 0x12345678u);

	KAT_FILL(blk, kat_extent_blk);
	ASSERT_EQ(le16_get(blk + 4), 340); /* eh_max */
	want = le32_get(blk + 12 + 12 * 340);
	le32_put(blk + 12 + 12 * 340, 0);
	ext4_extent_block_csum_set(blk, sizeof(blk), seed);
	ASSERT_EQ(le32_get(blk + 12 + 12 * 340), want);
	ASSERT_TRUE(want != 0);
}

TEST(xattr_block_csum_known_answer)
{
	uint8_t blk[4096];
	uint32_t want, seed = ext4_csum_seed(kat_uuid);

	KAT_FILL(blk, kat_xattr_blk);
	ASSERT_EQ(le32_get(blk), 0xEA020000u);
	want = le32_get(blk + 16);
	le32_put(blk + 16, 0x5555);
	ext4_xattr_block_csum_set(blk, sizeof(blk), seed, 22);
	ASSERT_EQ(le32_get(blk + 16), want);
	ext4_xattr_block_csum_set(blk, sizeof(blk), seed, 23);
	ASSERT_TRUE(le32_get(blk + 16) != want);
}
