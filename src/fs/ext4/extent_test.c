#include "fs/ext4/ext4-internal.h"

#include <stdlib.h>

#include "fs/ext4/csum_test_vectors.h"
#include "util/endian.h"
#include "util/test.h"

static void kat_fill(uint8_t *buf, size_t size, const struct kat_run *r, size_t n)
{
	memset(buf, 0, size);
	for (size_t i = 0; i < n; i++)
		memcpy(buf + r[i].off, r[i].bytes, r[i].len);
}

TEST(extent_tree_blocks_counts)
{
	ASSERT_EQ(ext4_extent_tree_blocks(0), 0);
	ASSERT_EQ(ext4_extent_tree_blocks(4), 0);
	ASSERT_EQ(ext4_extent_tree_blocks(5), 1);
	ASSERT_EQ(ext4_extent_tree_blocks(340), 1);
	ASSERT_EQ(ext4_extent_tree_blocks(341), 2);
	ASSERT_EQ(ext4_extent_tree_blocks(1360), 4);
	ASSERT_EQ(ext4_extent_tree_blocks(1361), 5 + 1);
	ASSERT_EQ(ext4_extent_tree_blocks(4 * 340 * 340), 1360 + 4);
	ASSERT_EQ(ext4_extent_tree_blocks(4 * 340 * 340 + 1), 1361 + 5 + 1);
}

TEST(extent_depth0_in_i_block)
{
	struct ext4_extent e[2] = { { .lblk = 0, .pblk = 0x123456789aull, .len = 100 },
				    { .lblk = 200, .pblk = 5000, .len = 32768 } };
	uint8_t ib[60];

	memset(ib, 0xaa, sizeof(ib));
	ext4_extent_root_encode(ib, e, 2, NULL);
	ASSERT_MEM_EQ(ib, "\x0a\xf3\x02\x00\x04\x00\x00\x00\x00\x00\x00\x00", 12);
	ASSERT_MEM_EQ(ib + 12, "\x00\x00\x00\x00\x64\x00\x12\x00\x9a\x78\x56\x34", 12);
	ASSERT_MEM_EQ(ib + 24, "\xc8\x00\x00\x00\x00\x80\x00\x00\x88\x13\x00\x00", 12);
	for (int i = 36; i < 60; i++)
		ASSERT_EQ(ib[i], 0);
}

/* /sparse in csum_test_vectors.h: six 1-block extents, a depth-1 tree in block 18. */
TEST(extent_depth1_matches_mke2fs)
{
	static const uint8_t uuid[16] = { 0x6b, 0xa7, 0xb8, 0x10, 0x9d, 0xad, 0x11, 0xd1,
					  0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8 };
	static const struct ext4_extent e[6] = {
		{ .lblk = 0, .pblk = 13, .len = 1 },  { .lblk = 16, .pblk = 14, .len = 1 },
		{ .lblk = 32, .pblk = 15, .len = 1 }, { .lblk = 48, .pblk = 16, .len = 1 },
		{ .lblk = 64, .pblk = 17, .len = 1 }, { .lblk = 80, .pblk = 20, .len = 1 },
	};
	static const uint64_t tree[1] = { 18 };
	uint8_t want[4096], got[4096], inode[256], ib[60];

	ASSERT_EQ(ext4_extent_tree_blocks(6), 1);
	kat_fill(want, sizeof(want), kat_extent_blk, sizeof(kat_extent_blk) / sizeof(kat_extent_blk[0]));
	memset(got, 0x55, sizeof(got));
	ext4_extent_tree_block_encode(got, 0, e, 6, tree,
				      ext4_inode_seed(ext4_csum_seed(uuid), 313, 0x12345678u));
	ASSERT_MEM_EQ(got, want, sizeof(got));

	kat_fill(inode, sizeof(inode), kat_inode313, sizeof(kat_inode313) / sizeof(kat_inode313[0]));
	ext4_extent_root_encode(ib, e, 6, tree);
	/* header + one index entry; mke2fs leaves stale depth-0 entries behind, we zero them */
	ASSERT_MEM_EQ(ib, inode + 0x28, 24);
	for (int i = 24; i < 60; i++)
		ASSERT_EQ(ib[i], 0);
}

/* Test-only decoder: walk the tree from i_block, check every header, collect the extents. */
struct walk {
	const uint8_t *blocks; /* tree block k at blocks + k * 4096, pblk = 1000 + k */
	size_t n_tree;
	struct ext4_extent *out;
	size_t n_out;
	size_t visits;
};

static int walk_node(struct walk *w, const uint8_t *p, size_t max, unsigned depth,
		     uint32_t first_lblk)
{
	size_t entries = le16_get(p + 2);

	if (le16_get(p) != 0xf30a || le16_get(p + 4) != max || le16_get(p + 6) != depth ||
	    le32_get(p + 8) != 0 || entries == 0 || entries > max)
		return -1;
	for (size_t i = 0; i < entries; i++) {
		const uint8_t *q = p + 12 + 12 * i;

		if (i == 0 && le32_get(q) != first_lblk)
			return -2;
		if (depth == 0) {
			struct ext4_extent *x = &w->out[w->n_out++];

			x->lblk = le32_get(q);
			x->len = le16_get(q + 4);
			x->pblk = le32_get(q + 8) | (uint64_t)le16_get(q + 6) << 32;
		} else {
			uint64_t pblk = le32_get(q + 4) | (uint64_t)le16_get(q + 8) << 32;
			int r;

			if (pblk < 1000 || pblk - 1000 >= w->n_tree || le16_get(q + 10) != 0)
				return -3;
			w->visits++;
			r = walk_node(w, w->blocks + (pblk - 1000) * 4096, 340, depth - 1,
				      le32_get(q));
			if (r < 0)
				return r;
		}
	}
	return 0;
}

static void roundtrip(int *_failed, size_t n)
{
	size_t n_tree = ext4_extent_tree_blocks(n);
	struct ext4_extent *e = calloc(n, sizeof(*e));
	uint64_t *tree = calloc(n_tree + 1, sizeof(*tree));
	uint8_t *blocks = calloc(n_tree + 1, 4096);
	struct walk w = { blocks, n_tree, calloc(n, sizeof(struct ext4_extent)), 0, 0 };
	uint8_t ib[60];

	for (size_t i = 0; i < n; i++)
		e[i] = (struct ext4_extent){ .lblk = (uint32_t)(i * 3), .pblk = 0x100000000ull + i * 7,
					     .len = 1 + i % 2 };
	for (size_t k = 0; k < n_tree; k++)
		tree[k] = 1000 + k;
	for (size_t k = 0; k < n_tree; k++) {
		uint8_t *b = blocks + k * 4096;

		ext4_extent_tree_block_encode(b, (uint32_t)k, e, n, tree, 77);
		/* checksum tail after eh_max entries */
		uint32_t c = le32_get(b + 4092);
		ext4_extent_block_csum_set(b, 4096, 77);
		ASSERT_EQ(le32_get(b + 4092), c);
	}
	ext4_extent_root_encode(ib, e, n, tree);
	ASSERT_EQ(walk_node(&w, ib, 4, le16_get(ib + 6), 0), 0);
	ASSERT_EQ(w.n_out, n);
	ASSERT_EQ(w.visits, n_tree); /* every tree block referenced exactly once overall */
	for (size_t i = 0; i < n; i++) {
		ASSERT_EQ(w.out[i].lblk, e[i].lblk);
		ASSERT_EQ(w.out[i].pblk, e[i].pblk);
		ASSERT_EQ(w.out[i].len, e[i].len);
	}
	free(e);
	free(tree);
	free(blocks);
	free(w.out);
}

TEST(extent_roundtrip_depths)
{
	roundtrip(_failed, 1);
	roundtrip(_failed, 4);
	roundtrip(_failed, 5);
	roundtrip(_failed, 341);
	roundtrip(_failed, 1360);
	roundtrip(_failed, 1361);
	roundtrip(_failed, 340 * 340 + 17);
	roundtrip(_failed, 4 * 340 * 340 + 1); /* depth 3 */
}

TEST(extent_depth2_block_order)
{
	/* 1361 extents: block 0 is the index node, blocks 1..5 the leaves */
	size_t n = 1361;
	struct ext4_extent *e = calloc(n, sizeof(*e));
	uint64_t tree[6] = { 50, 51, 52, 53, 54, 55 };
	uint8_t b[4096], ib[60];

	for (size_t i = 0; i < n; i++)
		e[i] = (struct ext4_extent){ .lblk = (uint32_t)i, .pblk = 100 + i, .len = 1 };
	ext4_extent_root_encode(ib, e, n, tree);
	ASSERT_EQ(le16_get(ib + 2), 1);
	ASSERT_EQ(le16_get(ib + 6), 2);
	ASSERT_EQ(le32_get(ib + 16), 50);
	ext4_extent_tree_block_encode(b, 0, e, n, tree, 0);
	ASSERT_EQ(le16_get(b + 2), 5);
	ASSERT_EQ(le16_get(b + 6), 1);
	ASSERT_EQ(le32_get(b + 12 + 4 * 12), 1360); /* ei_block of the 5th leaf */
	ASSERT_EQ(le32_get(b + 12 + 4 * 12 + 4), 55);
	ext4_extent_tree_block_encode(b, 5, e, n, tree, 0);
	ASSERT_EQ(le16_get(b + 2), 1);
	ASSERT_EQ(le16_get(b + 6), 0);
	ASSERT_EQ(le32_get(b + 12), 1360);
	free(e);
}
