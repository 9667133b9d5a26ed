/* ext4 extent trees (ext4 disk-layout document, "Extent Tree"; kernel fs/ext4/ext4_extents.h).
 *
 * Up to 4 extents live in i_block (depth 0). More go into full tree blocks of 340 entries:
 * leaves hold ceil(n / 340) runs of consecutive extents, each index level above holds
 * ceil(below / 340) nodes, until at most 4 remain, which the root in i_block points to.
 * Every block is packed full except the last of its level, so the tree is as narrow and as
 * shallow as possible (e2fsck does not offer to "optimize" it).
 *
 * Tree block numbering (tree_pblk[k]): breadth-first from the top, the level just below the
 * root first, left to right, leaves last. With depth 1 the blocks are just the leaves. */
#include "fs/ext4/ext4-internal.h"

#include <assert.h>
#include <string.h>

#include "util/endian.h"

enum {
	EXT4_EH_MAGIC = 0,      /* le16 0xf30a */
	EXT4_EH_ENTRIES = 2,    /* le16 */
	EXT4_EH_MAX = 4,        /* le16 */
	EXT4_EH_DEPTH = 6,      /* le16 */
	EXT4_EH_GENERATION = 8, /* le32 */
	EXT4_EH_SIZE = 12,

	EXT4_EE_BLOCK = 0,    /* le32 first logical block */
	EXT4_EE_LEN = 4,      /* le16 */
	EXT4_EE_START_HI = 6, /* le16 */
	EXT4_EE_START_LO = 8, /* le32 */

	EXT4_EI_BLOCK = 0,   /* le32 */
	EXT4_EI_LEAF_LO = 4, /* le32 */
	EXT4_EI_LEAF_HI = 8, /* le16 */

	EXT4_EXT_ENTRY_SIZE = 12,
	EXT4_EXT_ROOT_MAX = 4,
	EXT4_EXT_BLOCK_MAX = (EXT4_BLOCK_SIZE - EXT4_EH_SIZE) / EXT4_EXT_ENTRY_SIZE, /* 340 */
	EXT4_EXT_MAX_DEPTH = 5,
};

#define EXT4_EH_MAGIC_VALUE 0xf30au

struct ext_shape {
	unsigned depth;                      /* 0: all extents in i_block */
	size_t nodes[EXT4_EXT_MAX_DEPTH];    /* nodes[0] leaves, nodes[j] index level j */
	size_t first_k[EXT4_EXT_MAX_DEPTH];  /* tree block number of level j's first node */
};

static void ext_shape(size_t n, struct ext_shape *s)
{
	size_t below = n, k = 0;

	memset(s, 0, sizeof(*s));
	while (below > EXT4_EXT_ROOT_MAX) {
		assert(s->depth < EXT4_EXT_MAX_DEPTH);
		below = (below + EXT4_EXT_BLOCK_MAX - 1) / EXT4_EXT_BLOCK_MAX;
		s->nodes[s->depth++] = below;
	}
	for (unsigned j = s->depth; j-- > 0;) {
		s->first_k[j] = k;
		k += s->nodes[j];
	}
}

/* Index of the first extent under node m of level j (leaves: j = 0). */
static size_t ext_first(unsigned j, size_t m)
{
	for (unsigned i = 0; i <= j; i++)
		m *= EXT4_EXT_BLOCK_MAX;
	return m;
}

uint32_t ext4_extent_tree_blocks(size_t n_extents)
{
	struct ext_shape s;
	size_t t = 0;

	ext_shape(n_extents, &s);
	for (unsigned j = 0; j < s.depth; j++)
		t += s.nodes[j];
	return (uint32_t)t;
}

static void ext_header_encode(uint8_t *p, size_t entries, size_t max, unsigned depth)
{
	le16_put(p + EXT4_EH_MAGIC, EXT4_EH_MAGIC_VALUE);
	le16_put(p + EXT4_EH_ENTRIES, (uint16_t)entries);
	le16_put(p + EXT4_EH_MAX, (uint16_t)max);
	le16_put(p + EXT4_EH_DEPTH, (uint16_t)depth);
	le32_put(p + EXT4_EH_GENERATION, 0);
}

static void ext_leaf_entries_encode(uint8_t *p, const struct ext4_extent *e, size_t n)
{
	for (size_t i = 0; i < n; i++, p += EXT4_EXT_ENTRY_SIZE) {
		assert(e[i].len >= 1 && e[i].len <= EXT4_MAX_EXTENT_LEN);
		assert(e[i].pblk < (1ull << 48));
		le32_put(p + EXT4_EE_BLOCK, e[i].lblk);
		le16_put(p + EXT4_EE_LEN, (uint16_t)e[i].len);
		le16_put(p + EXT4_EE_START_HI, (uint16_t)(e[i].pblk >> 32));
		le32_put(p + EXT4_EE_START_LO, (uint32_t)e[i].pblk);
	}
}

/* Index entries for children [c0, c1) of level j (their first extents give ei_block). */
static void ext_index_entries_encode(uint8_t *p, const struct ext4_extent *e,
				     const struct ext_shape *s, unsigned j, size_t c0, size_t c1,
				     const uint64_t *tree_pblk)
{
	for (size_t c = c0; c < c1; c++, p += EXT4_EXT_ENTRY_SIZE) {
		uint64_t pblk = tree_pblk[s->first_k[j] + c];

		le32_put(p + EXT4_EI_BLOCK, e[ext_first(j, c)].lblk);
		le32_put(p + EXT4_EI_LEAF_LO, (uint32_t)pblk);
		le16_put(p + EXT4_EI_LEAF_HI, (uint16_t)(pblk >> 32));
	}
}

void ext4_extent_root_encode(uint8_t i_block[60], const struct ext4_extent *e, size_t n,
			     const uint64_t *tree_pblk)
{
	struct ext_shape s;

	ext_shape(n, &s);
	memset(i_block, 0, 60);
	if (s.depth == 0) {
		ext_header_encode(i_block, n, EXT4_EXT_ROOT_MAX, 0);
		ext_leaf_entries_encode(i_block + EXT4_EH_SIZE, e, n);
		return;
	}
	ext_header_encode(i_block, s.nodes[s.depth - 1], EXT4_EXT_ROOT_MAX, s.depth);
	ext_index_entries_encode(i_block + EXT4_EH_SIZE, e, &s, s.depth - 1, 0,
				 s.nodes[s.depth - 1], tree_pblk);
}

void ext4_extent_tree_block_encode(uint8_t *buf, uint32_t k, const struct ext4_extent *e,
				   size_t n, const uint64_t *tree_pblk, uint32_t inode_seed)
{
	struct ext_shape s;
	unsigned j;
	size_t m, below, c0, c1;

	ext_shape(n, &s);
	assert(s.depth > 0);
	for (j = 0; j < s.depth && k < s.first_k[j]; j++)
		;
	assert(j < s.depth && k - s.first_k[j] < s.nodes[j]);
	m = k - s.first_k[j];
	below = j == 0 ? n : s.nodes[j - 1];
	c0 = m * EXT4_EXT_BLOCK_MAX;
	c1 = c0 + EXT4_EXT_BLOCK_MAX < below ? c0 + EXT4_EXT_BLOCK_MAX : below;

	memset(buf, 0, EXT4_BLOCK_SIZE);
	ext_header_encode(buf, c1 - c0, EXT4_EXT_BLOCK_MAX, j);
	if (j == 0)
		ext_leaf_entries_encode(buf + EXT4_EH_SIZE, e + c0, c1 - c0);
	else
		ext_index_entries_encode(buf + EXT4_EH_SIZE, e, &s, j - 1, c0, c1, tree_pblk);
	ext4_extent_block_csum_set(buf, EXT4_BLOCK_SIZE, inode_seed);
}
