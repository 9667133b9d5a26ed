/* ext4 geometry and block groups: group count, inodes per group, reserved GDT blocks,
 * sparse_super backups, flex_bg placement of bitmaps and inode tables (as e2fsprogs'
 * lib/ext2fs/initialize.c and alloc_tables.c place them), the bitmaps themselves and the
 * 64-byte group descriptors. Layout: docs/formats/ext4.md, "Geometry". */
#include "fs/ext4/ext4-plan.h"

#include <errno.h>
#include <string.h>

#include "util/cleanup.h"
#include "util/endian.h"
#include "util/xalloc.h"

/* Group descriptor, 64 bytes (ext4 disk layout, "Block Group Descriptors"). */
enum {
	EXT4_BG_BLOCK_BITMAP_LO = 0x00,
	EXT4_BG_INODE_BITMAP_LO = 0x04,
	EXT4_BG_INODE_TABLE_LO = 0x08,
	EXT4_BG_FREE_BLOCKS_LO = 0x0c,
	EXT4_BG_FREE_INODES_LO = 0x0e,
	EXT4_BG_USED_DIRS_LO = 0x10,
	EXT4_BG_FLAGS = 0x12,
	EXT4_BG_BLOCK_BITMAP_CSUM_LO = 0x18,
	EXT4_BG_INODE_BITMAP_CSUM_LO = 0x1a,
	EXT4_BG_ITABLE_UNUSED_LO = 0x1c,
	EXT4_BG_CHECKSUM = 0x1e,
	EXT4_BG_BLOCK_BITMAP_HI = 0x20,
	EXT4_BG_INODE_BITMAP_HI = 0x24,
	EXT4_BG_INODE_TABLE_HI = 0x28,
	EXT4_BG_FREE_BLOCKS_HI = 0x2c,
	EXT4_BG_FREE_INODES_HI = 0x2e,
	EXT4_BG_USED_DIRS_HI = 0x30,
	EXT4_BG_ITABLE_UNUSED_HI = 0x32,
	EXT4_BG_BLOCK_BITMAP_CSUM_HI = 0x38,
	EXT4_BG_INODE_BITMAP_CSUM_HI = 0x3a,
};

#define EXT4_BG_ITABLE_ZEROED 0x4u

static bool is_power_of(uint32_t n, uint32_t base)
{
	while (n > 1 && n % base == 0)
		n /= base;
	return n == 1;
}

/* sparse_super: groups 0, 1 and powers of 3, 5 and 7 hold superblock + GDT backups. */
bool ext4_group_has_super(uint32_t group)
{
	if (group <= 1)
		return true;
	if (!(group & 1))
		return false;
	return is_power_of(group, 3) || is_power_of(group, 5) || is_power_of(group, 7);
}

/* mke2fs's calc_reserved_gdt_blocks(): room to grow to 1024 times the size (at most 2^32
 * blocks), at most one indirect block's worth of addresses. */
uint32_t ext4_rsv_gdt_blocks(uint64_t n_blocks, uint32_t desc_blocks)
{
	uint64_t max_blocks = EXT4_MAX_BLOCKS;
	uint64_t rsv_groups, want;

	if (n_blocks < max_blocks / 1024)
		max_blocks = n_blocks * 1024;
	rsv_groups = DIV_ROUND_UP(max_blocks, EXT4_BLOCKS_PER_GROUP);
	want = DIV_ROUND_UP(rsv_groups, EXT4_DESC_PER_BLOCK);
	if (want <= desc_blocks)
		return 0;
	return (uint32_t)MIN(want - desc_blocks, (uint64_t)EXT4_ADDR_PER_BLOCK);
}

/* mke2fs: spread the inodes evenly, then fill whole inode-table blocks, multiple of 8. */
uint32_t ext4_inodes_per_group(uint64_t n_inodes, uint32_t n_groups)
{
	uint64_t ipg = DIV_ROUND_UP(n_inodes, n_groups);
	uint64_t itb;

	if (ipg > 8 * EXT4_BLOCK_SIZE)
		return 0;
	itb = DIV_ROUND_UP(ipg * EXT4_INODE_SIZE, EXT4_BLOCK_SIZE);
	ipg = itb * EXT4_INODES_PER_BLOCK;
	if (ipg < 8)
		ipg = 8;
	ipg &= ~7ull;
	if (ipg > 8 * EXT4_BLOCK_SIZE)
		return 0;
	return (uint32_t)ipg;
}

size_t ext4_used_find(const struct ext4_plan *pl, uint64_t blk)
{
	size_t lo = 0, hi = pl->n_used_ival;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (pl->used[mid].end <= blk)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

bool ext4_block_in_use(const struct ext4_plan *pl, uint64_t blk)
{
	size_t i = ext4_used_find(pl, blk);

	return i < pl->n_used_ival && pl->used[i].start <= blk;
}

void ext4_used_add(struct ext4_plan *pl, uint64_t start, uint64_t len)
{
	uint64_t end = start + len;
	size_t i = ext4_used_find(pl, start), j;

	if (!len)
		return;
	/* Merge with every interval touching [start, end). */
	if (i > 0 && pl->used[i - 1].end == start)
		i--;
	j = i;
	while (j < pl->n_used_ival && pl->used[j].start <= end) {
		start = MIN(start, pl->used[j].start);
		end = MAX(end, pl->used[j].end);
		j++;
	}
	if (j == i) {
		if (pl->n_used_ival == pl->cap_used_ival) {
			pl->cap_used_ival = pl->cap_used_ival ? 2 * pl->cap_used_ival : 64;
			pl->used = xreallocarray(pl->used, pl->cap_used_ival, sizeof(*pl->used));
		}
		memmove(pl->used + i + 1, pl->used + i, (pl->n_used_ival - i) * sizeof(*pl->used));
		pl->n_used_ival++;
	} else if (j > i + 1) {
		memmove(pl->used + i + 1, pl->used + j, (pl->n_used_ival - j) * sizeof(*pl->used));
		pl->n_used_ival -= j - i - 1;
	}
	pl->used[i] = (struct ext4_ival){ start, end };
}

/* ext2fs_get_free_blocks2() without wrap-around: first fit of n blocks starting below
 * finish. */
int ext4_find_free(const struct ext4_plan *pl, uint64_t start, uint64_t finish, uint64_t n,
		   uint64_t *ret)
{
	uint64_t b = start;

	if (!n)
		n = 1;
	for (;;) {
		size_t i;

		if (b >= finish || b + n > pl->g.n_blocks)
			return -ENOSPC;
		i = ext4_used_find(pl, b);
		if (i == pl->n_used_ival || pl->used[i].start >= b + n) {
			*ret = b;
			return 0;
		}
		b = pl->used[i].end;
	}
}

static uint64_t group_last_block(const struct ext4_geom *g, uint32_t group)
{
	uint64_t last = (uint64_t)(group + 1) * EXT4_BLOCKS_PER_GROUP - 1;

	return MIN(last, g->n_blocks - 1);
}

/* alloc_tables.c flexbg_offset(): where a flex group's run of elem_size tables goes. */
static uint64_t flexbg_offset(const struct ext4_plan *pl, uint32_t group, uint64_t start_blk,
			      uint32_t rem_grp, uint32_t elem_size)
{
	uint64_t size = (uint64_t)rem_grp * elem_size, first_free = 0, last_blk;
	uint32_t last_grp;

	if (size > EXT4_BLOCKS_PER_GROUP / 4)
		size = EXT4_BLOCKS_PER_GROUP / 4;
	if (start_blk && start_blk < pl->g.n_blocks &&
	    ext4_find_free(pl, start_blk, start_blk + size, elem_size, &first_free) == 0)
		return first_free;
	start_blk = (uint64_t)(group & ~(EXT4_FLEX_SIZE - 1)) * EXT4_BLOCKS_PER_GROUP;
	last_grp = MIN(group | (EXT4_FLEX_SIZE - 1), pl->g.n_groups - 1);
	last_blk = group_last_block(&pl->g, last_grp);
	if (ext4_find_free(pl, start_blk, last_blk, size, &first_free) == 0)
		return first_free;
	if (ext4_find_free(pl, start_blk, last_blk, elem_size, &first_free) == 0)
		return first_free;
	if (ext4_find_free(pl, 0, last_blk, elem_size, &first_free) == 0)
		return first_free;
	return first_free;
}

static int alloc_one(struct ext4_plan *pl, uint64_t start, uint64_t group_blk, uint64_t last_blk,
		     uint64_t n, uint64_t *ret)
{
	int r = ext4_find_free(pl, start, last_blk, n, ret);

	if (r < 0 && group_blk != start)
		r = ext4_find_free(pl, group_blk, last_blk, n, ret);
	if (r < 0)
		return r;
	ext4_used_add(pl, *ret, n);
	return 0;
}

/* alloc_tables.c ext2fs_allocate_group_table() with flex_bg. */
static int place_group_tables(struct ext4_plan *pl, uint32_t group)
{
	struct ext4_geom *g = &pl->g;
	uint64_t group_blk = (uint64_t)group * EXT4_BLOCKS_PER_GROUP, start, last_blk, prev;
	uint32_t last_grp = MIN(group | (EXT4_FLEX_SIZE - 1), g->n_groups - 1);
	uint32_t rem_grps = last_grp - group + 1, table_offset = EXT4_FLEX_SIZE;
	int r;

	prev = 0;
	if (group % EXT4_FLEX_SIZE) {
		prev = g->bb_loc[group - 1] + 1;
	} else if (last_grp == g->n_groups - 1) {
		/* the last flex group keeps its tables contiguous */
		table_offset = last_grp & (EXT4_FLEX_SIZE - 1);
		table_offset = table_offset ? table_offset + 1 : EXT4_FLEX_SIZE;
	}
	start = flexbg_offset(pl, group, prev, rem_grps, 1);
	last_blk = group_last_block(g, last_grp);
	r = alloc_one(pl, start, group_blk, last_blk, 1, &g->bb_loc[group]);
	if (r < 0)
		return r;

	prev = group % EXT4_FLEX_SIZE ? g->ib_loc[group - 1] + 1 : g->bb_loc[group] + table_offset;
	start = flexbg_offset(pl, group, prev, rem_grps, 1);
	r = alloc_one(pl, start, group_blk, last_blk, 1, &g->ib_loc[group]);
	if (r < 0)
		return r;

	prev = group % EXT4_FLEX_SIZE ? g->it_loc[group - 1] + g->itable_blocks :
					g->ib_loc[group] + table_offset;
	start = flexbg_offset(pl, group, prev, rem_grps, g->itable_blocks);
	return alloc_one(pl, start, start, last_blk, g->itable_blocks, &g->it_loc[group]);
}

static void geom_reset(struct ext4_plan *pl)
{
	free(pl->g.bb_loc);
	free(pl->g.ib_loc);
	free(pl->g.it_loc);
	memset(&pl->g, 0, sizeof(pl->g));
	pl->n_used_ival = 0;
}

/* Counts for n_blocks, with mke2fs's rule that a last group too small for its own
 * metadata (plus 50 blocks) is dropped. */
static int geom_counts(struct ext4_plan *pl, uint64_t n_blocks, uint64_t min_inodes)
{
	struct ext4_geom *g = &pl->g;

	for (;;) {
		uint64_t want_inodes, rem, overhead;

		if (n_blocks < 64 || n_blocks > EXT4_MAX_BLOCKS)
			return n_blocks < 64 ? -ENOSPC : -EOVERFLOW;
		g->n_blocks = n_blocks;
		g->n_groups = (uint32_t)DIV_ROUND_UP(n_blocks, EXT4_BLOCKS_PER_GROUP);
		g->desc_blocks = DIV_ROUND_UP(g->n_groups, EXT4_DESC_PER_BLOCK);
		g->rsv_gdt_blocks = ext4_rsv_gdt_blocks(n_blocks, g->desc_blocks);
		want_inodes = n_blocks * EXT4_BLOCK_SIZE / pl->p.inode_ratio;
		want_inodes = MAX(want_inodes, min_inodes);
		g->inodes_per_group = ext4_inodes_per_group(want_inodes, g->n_groups);
		if (!g->inodes_per_group ||
		    (uint64_t)g->inodes_per_group * g->n_groups > UINT32_MAX)
			return -ENOSPC;
		g->itable_blocks = g->inodes_per_group / EXT4_INODES_PER_BLOCK;
		g->n_inodes = g->inodes_per_group * g->n_groups;
		overhead = 3 + g->itable_blocks + g->rsv_gdt_blocks;
		rem = n_blocks % EXT4_BLOCKS_PER_GROUP;
		if (g->n_groups == 1 && rem && rem < overhead)
			return -ENOSPC;
		if (rem && rem < overhead + 50) {
			/* overhead does not shrink as the last group grows */
			if (!g->keep_last_from)
				g->keep_last_from = n_blocks - rem + overhead + 50;
			n_blocks -= rem;
			continue;
		}
		return 0;
	}
}

int ext4_geom_init(struct ext4_plan *pl, uint64_t n_blocks, uint64_t min_inodes)
{
	struct ext4_geom *g = &pl->g;
	int r;

	geom_reset(pl);
	r = geom_counts(pl, n_blocks, min_inodes);
	if (r < 0)
		return r;
	g->reserved_blocks = g->n_blocks * pl->p.reserved_percent / 100;
	g->journal_blocks = pl->p.journal ? ext4_journal_default_blocks(g->n_blocks) : 0;
	g->bb_loc = xcalloc(g->n_groups, sizeof(*g->bb_loc));
	g->ib_loc = xcalloc(g->n_groups, sizeof(*g->ib_loc));
	g->it_loc = xcalloc(g->n_groups, sizeof(*g->it_loc));

	for (uint32_t i = 0; i < g->n_groups; i++) {
		uint64_t len = 1 + g->desc_blocks + g->rsv_gdt_blocks;
		uint64_t first = (uint64_t)i * EXT4_BLOCKS_PER_GROUP;

		if (!ext4_group_has_super(i))
			continue;
		if (len > group_last_block(g, i) + 1 - first)
			return -ENOSPC;
		ext4_used_add(pl, first, len);
	}
	for (uint32_t i = 0; i < g->n_groups; i++) {
		r = place_group_tables(pl, i);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Used blocks of [first, first + n): metadata intervals plus the data prefix. */
static void mark_block_bits(const struct ext4_plan *pl, uint64_t first, uint64_t n,
			    uint8_t *bits)
{
	uint64_t end = first + n;
	uint64_t data_end = MIN(pl->data_end, end);

	/* The data allocator hands out every free block below data_end. */
	for (uint64_t b = first; b < data_end; b++)
		bits[(b - first) >> 3] |= (uint8_t)(1u << ((b - first) & 7));
	for (size_t i = ext4_used_find(pl, first); i < pl->n_used_ival; i++) {
		const struct ext4_ival *v = &pl->used[i];
		uint64_t s = MAX(v->start, first), e = MIN(v->end, end);

		if (v->start >= end)
			break;
		for (uint64_t b = s; b < e; b++)
			bits[(b - first) >> 3] |= (uint8_t)(1u << ((b - first) & 7));
	}
}

void ext4_block_bitmap_encode(const struct ext4_plan *pl, uint32_t g, uint8_t *buf)
{
	uint64_t first = (uint64_t)g * EXT4_BLOCKS_PER_GROUP;
	uint64_t n = group_last_block(&pl->g, g) + 1 - first;

	mark_block_bits(pl, first, n, buf);
	/* Bits past the end of a short last group are set. */
	for (uint64_t b = n; b < EXT4_BLOCKS_PER_GROUP; b++)
		buf[b >> 3] |= (uint8_t)(1u << (b & 7));
}

static uint32_t group_used_inodes(const struct ext4_plan *pl, uint32_t g)
{
	uint64_t first = (uint64_t)g * pl->g.inodes_per_group; /* inode first + 1 */

	if (pl->n_used <= first)
		return 0;
	return (uint32_t)MIN((uint64_t)pl->n_used - first, (uint64_t)pl->g.inodes_per_group);
}

void ext4_inode_bitmap_encode(const struct ext4_plan *pl, uint32_t g, uint8_t *buf)
{
	uint32_t used = group_used_inodes(pl, g);

	memset(buf, 0xff, used / 8);
	for (uint32_t i = used & ~7u; i < used; i++)
		buf[i >> 3] |= (uint8_t)(1u << (i & 7));
	/* Bits past inodes_per_group are set, to the end of the block. */
	memset(buf + pl->g.inodes_per_group / 8, 0xff,
	       EXT4_BLOCK_SIZE - pl->g.inodes_per_group / 8);
}

void ext4_group_stats(struct ext4_plan *pl)
{
	const struct ext4_geom *g = &pl->g;
	_cleanup_free_ uint8_t *buf = xmalloc(EXT4_BLOCK_SIZE);

	free(pl->grp_free_blocks);
	free(pl->grp_free_inodes);
	free(pl->grp_dirs);
	free(pl->grp_bb_csum);
	free(pl->grp_ib_csum);
	pl->grp_free_blocks = xcalloc(g->n_groups, sizeof(uint32_t));
	pl->grp_free_inodes = xcalloc(g->n_groups, sizeof(uint32_t));
	pl->grp_dirs = xcalloc(g->n_groups, sizeof(uint32_t));
	pl->grp_bb_csum = xcalloc(g->n_groups, sizeof(uint32_t));
	pl->grp_ib_csum = xcalloc(g->n_groups, sizeof(uint32_t));

	for (uint32_t i = 0; i < g->n_groups; i++) {
		uint64_t first = (uint64_t)i * EXT4_BLOCKS_PER_GROUP;
		uint64_t n = group_last_block(g, i) + 1 - first;
		uint32_t used = 0;

		memset(buf, 0, EXT4_BLOCK_SIZE);
		mark_block_bits(pl, first, n, buf);
		for (uint64_t k = 0; k < EXT4_BLOCK_SIZE; k++)
			used += (uint32_t)__builtin_popcount(buf[k]);
		pl->grp_free_blocks[i] = (uint32_t)(n - used);
		ext4_block_bitmap_encode(pl, i, buf);
		pl->grp_bb_csum[i] = ext4_bitmap_csum(pl->csum_seed, buf, EXT4_BLOCKS_PER_GROUP / 8);

		memset(buf, 0, EXT4_BLOCK_SIZE);
		ext4_inode_bitmap_encode(pl, i, buf);
		pl->grp_ib_csum[i] = ext4_bitmap_csum(pl->csum_seed, buf, g->inodes_per_group / 8);
		pl->grp_free_inodes[i] = g->inodes_per_group - group_used_inodes(pl, i);
	}
	for (uint32_t ino = 1; ino <= pl->n_used; ino++) {
		const struct ext4_ino *e = ext4_plan_ino(pl, ino);
		bool dir = e->kind == EXT4_INO_ROOT || e->kind == EXT4_INO_LPF ||
			   (e->kind == EXT4_INO_NODE && e->dir != UINT32_MAX);

		if (dir)
			pl->grp_dirs[(ino - 1) / g->inodes_per_group]++;
	}
}

void ext4_group_desc_encode(const struct ext4_plan *pl, uint32_t g, uint8_t *p)
{
	const struct ext4_geom *geo = &pl->g;
	uint32_t unused = geo->inodes_per_group - group_used_inodes(pl, g);

	memset(p, 0, EXT4_DESC_SIZE);
	le32_put(p + EXT4_BG_BLOCK_BITMAP_LO, (uint32_t)geo->bb_loc[g]);
	le32_put(p + EXT4_BG_BLOCK_BITMAP_HI, (uint32_t)(geo->bb_loc[g] >> 32));
	le32_put(p + EXT4_BG_INODE_BITMAP_LO, (uint32_t)geo->ib_loc[g]);
	le32_put(p + EXT4_BG_INODE_BITMAP_HI, (uint32_t)(geo->ib_loc[g] >> 32));
	le32_put(p + EXT4_BG_INODE_TABLE_LO, (uint32_t)geo->it_loc[g]);
	le32_put(p + EXT4_BG_INODE_TABLE_HI, (uint32_t)(geo->it_loc[g] >> 32));
	le16_put(p + EXT4_BG_FREE_BLOCKS_LO, (uint16_t)pl->grp_free_blocks[g]);
	le16_put(p + EXT4_BG_FREE_BLOCKS_HI, (uint16_t)(pl->grp_free_blocks[g] >> 16));
	le16_put(p + EXT4_BG_FREE_INODES_LO, (uint16_t)pl->grp_free_inodes[g]);
	le16_put(p + EXT4_BG_FREE_INODES_HI, (uint16_t)(pl->grp_free_inodes[g] >> 16));
	le16_put(p + EXT4_BG_USED_DIRS_LO, (uint16_t)pl->grp_dirs[g]);
	le16_put(p + EXT4_BG_USED_DIRS_HI, (uint16_t)(pl->grp_dirs[g] >> 16));
	le16_put(p + EXT4_BG_FLAGS, EXT4_BG_ITABLE_ZEROED);
	le16_put(p + EXT4_BG_ITABLE_UNUSED_LO, (uint16_t)unused);
	le16_put(p + EXT4_BG_ITABLE_UNUSED_HI, (uint16_t)(unused >> 16));
	le16_put(p + EXT4_BG_BLOCK_BITMAP_CSUM_LO, (uint16_t)pl->grp_bb_csum[g]);
	le16_put(p + EXT4_BG_BLOCK_BITMAP_CSUM_HI, (uint16_t)(pl->grp_bb_csum[g] >> 16));
	le16_put(p + EXT4_BG_INODE_BITMAP_CSUM_LO, (uint16_t)pl->grp_ib_csum[g]);
	le16_put(p + EXT4_BG_INODE_BITMAP_CSUM_HI, (uint16_t)(pl->grp_ib_csum[g] >> 16));
	le16_put(p + EXT4_BG_CHECKSUM, ext4_group_desc_csum(pl->csum_seed, g, p, EXT4_DESC_SIZE));
}
