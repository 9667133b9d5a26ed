/* ext4 emission: turns the plan into image ranges whose fill callbacks encode superblocks,
 * descriptors, bitmaps, inode tables, directory, extent-tree, xattr and symlink blocks on
 * demand, block by block; file contents are file ranges. docs/formats/ext4.md, "Emission". */
#include "fs/ext4/ext4.h"

#include <inttypes.h>
#include <string.h>

#include "fs/ext4/ext4-plan.h"
#include "image/plan.h"
#include "tree/tree.h"
#include "util/cleanup.h"
#include "util/diag.h"
#include "util/endian.h"

#define BS EXT4_BLOCK_SIZE

typedef void (*block_fn)(const struct ext4_plan *pl, uint64_t arg, uint64_t k, uint8_t *out);

/* Serve [off, off + len) of a range made of whole blocks, encoding each block once. */
static int fill_blocks(const struct ext4_plan *pl, uint64_t arg, uint64_t off, uint8_t *buf,
		       size_t len, block_fn fn)
{
	uint8_t tmp[BS];

	while (len) {
		uint64_t k = off / BS, in = off % BS;
		size_t n = (size_t)MIN((uint64_t)len, BS - in);

		if (!in && n == BS) {
			fn(pl, arg, k, buf);
		} else {
			memset(tmp, 0, BS);
			fn(pl, arg, k, tmp);
			memcpy(buf, tmp + in, n);
		}
		buf += n;
		off += n;
		len -= n;
	}
	return 0;
}

static int fill_super(const void *ctx, uint64_t arg, uint64_t off, uint8_t *buf, size_t len,
		      struct diag *d)
{
	uint8_t sb[1024] = { 0 };

	ext4_super_encode(ctx, (uint32_t)arg, sb);
	memcpy(buf, sb + off, len);
	return 0;
}

static void gdt_block(const struct ext4_plan *pl, uint64_t arg, uint64_t k, uint8_t *out)
{
	for (uint32_t i = 0; i < EXT4_DESC_PER_BLOCK; i++) {
		uint64_t g = k * EXT4_DESC_PER_BLOCK + i;

		if (g >= pl->g.n_groups)
			break;
		ext4_group_desc_encode(pl, (uint32_t)g, out + i * EXT4_DESC_SIZE);
	}
}

static int fill_gdt(const void *ctx, uint64_t arg, uint64_t off, uint8_t *buf, size_t len,
		    struct diag *d)
{
	return fill_blocks(ctx, arg, off, buf, len, gdt_block);
}

static void rsv_gdt_block(const struct ext4_plan *pl, uint64_t arg, uint64_t k, uint8_t *out)
{
	ext4_resize_gdt_encode(pl, (uint32_t)k, out);
}

static int fill_rsv_gdt(const void *ctx, uint64_t arg, uint64_t off, uint8_t *buf, size_t len,
			struct diag *d)
{
	return fill_blocks(ctx, arg, off, buf, len, rsv_gdt_block);
}

static void bitmap_block(const struct ext4_plan *pl, uint64_t arg, uint64_t k, uint8_t *out)
{
	uint32_t g = (uint32_t)(arg >> 1);

	if (arg & 1)
		ext4_inode_bitmap_encode(pl, g, out);
	else
		ext4_block_bitmap_encode(pl, g, out);
}

static int fill_bitmap(const void *ctx, uint64_t arg, uint64_t off, uint8_t *buf, size_t len,
		       struct diag *d)
{
	return fill_blocks(ctx, arg, off, buf, len, bitmap_block);
}

static void itable_block(const struct ext4_plan *pl, uint64_t g, uint64_t k, uint8_t *out)
{
	uint64_t first = g * pl->g.inodes_per_group + k * EXT4_INODES_PER_BLOCK + 1;

	for (uint32_t i = 0; i < EXT4_INODES_PER_BLOCK; i++) {
		if (first + i > pl->n_used)
			break;
		ext4_inode_encode(pl, (uint32_t)(first + i), out + i * EXT4_INODE_SIZE);
	}
}

static int fill_itable(const void *ctx, uint64_t arg, uint64_t off, uint8_t *buf, size_t len,
		       struct diag *d)
{
	return fill_blocks(ctx, arg, off, buf, len, itable_block);
}

static void misc_block(const struct ext4_plan *pl, uint64_t arg, uint64_t k, uint8_t *out)
{
	if (arg == EXT4_RESIZE_INO)
		ext4_resize_dind_encode(pl, out);
	else
		ext4_journal_super_encode(pl, out);
}

static int fill_misc(const void *ctx, uint64_t arg, uint64_t off, uint8_t *buf, size_t len,
		     struct diag *d)
{
	return fill_blocks(ctx, arg, off, buf, len, misc_block);
}

static uint32_t inode_seed(const struct ext4_plan *pl, uint32_t ino)
{
	return ext4_inode_seed(pl->csum_seed, ino, 0);
}

/* The 12-byte fake dirent holding a leaf's checksum: inode 0, rec_len 12, type 0xde. */
static void dir_tail_set(const struct ext4_plan *pl, uint32_t ino, uint8_t *out)
{
	le16_put(out + BS - 12 + 4, 12);
	out[BS - 12 + 7] = 0xde;
	ext4_dir_leaf_csum_set(out, BS, inode_seed(pl, ino));
}

/* An empty directory leaf: one unused entry spanning the block, then the checksum tail. */
static void empty_dir_block(const struct ext4_plan *pl, uint32_t ino, uint8_t *out)
{
	le16_put(out + 4, BS - 12);
	dir_tail_set(pl, ino, out);
}

/* arg: inode number | extent index << 32; k counts blocks within the extent. */
static void dir_block(const struct ext4_plan *pl, uint64_t arg, uint64_t k, uint8_t *out)
{
	uint32_t ino = (uint32_t)arg;
	const struct ext4_ino *e = ext4_plan_ino(pl, ino);
	const struct ext4_extent *x = &pl->ext[arg >> 32];
	uint32_t lblk = x->lblk + (uint32_t)k;

	if (e->kind == EXT4_INO_LPF) {
		/* lost+found: "." and "..", then empty blocks, as mke2fs makes it */
		if (lblk == 0) {
			le32_put(out, EXT4_FIRST_INO);
			le16_put(out + 4, 12);
			out[6] = 1;
			out[7] = EXT4_FT_DIR;
			out[8] = '.';
			le32_put(out + 12, EXT4_ROOT_INO);
			le16_put(out + 16, BS - 12 - 12);
			out[18] = 2;
			out[19] = EXT4_FT_DIR;
			out[20] = '.';
			out[21] = '.';
			dir_tail_set(pl, ino, out);
		} else {
			empty_dir_block(pl, ino, out);
		}
		return;
	}
	/* fill_dir made it current */
	ext4_dir_block_encode(pl->dir_cache->l, lblk, inode_seed(pl, ino), out);
}

static int fill_dir(const void *ctx, uint64_t arg, uint64_t off, uint8_t *buf, size_t len,
		    struct diag *d)
{
	const struct ext4_plan *pl = ctx;
	const struct ext4_dir_layout *l;
	uint32_t ino = (uint32_t)arg;

	if (ext4_plan_ino(pl, ino)->kind != EXT4_INO_LPF) {
		int r = ext4_plan_dir_layout(pl, ino, d, &l);

		if (r < 0)
			return diag_prepend(d, r, "directory inode %" PRIu32, ino);
	}
	return fill_blocks(ctx, arg, off, buf, len, dir_block);
}

/* arg: inode number | tree block index << 32. */
static void tree_block(const struct ext4_plan *pl, uint64_t arg, uint64_t k, uint8_t *out)
{
	uint32_t ino = (uint32_t)arg;
	const struct ext4_ino *e = ext4_plan_ino(pl, ino);

	ext4_extent_tree_block_encode(out, (uint32_t)(arg >> 32), pl->ext + e->ext_first, e->n_ext,
				      pl->tree_blk + e->tree_first, inode_seed(pl, ino));
}

static int fill_tree(const void *ctx, uint64_t arg, uint64_t off, uint8_t *buf, size_t len,
		     struct diag *d)
{
	return fill_blocks(ctx, arg, off, buf, len, tree_block);
}

static void xattr_block(const struct ext4_plan *pl, uint64_t ino, uint64_t k, uint8_t *out)
{
	const struct ext4_ino *e = ext4_plan_ino(pl, (uint32_t)ino);

	ext4_xattr_block_encode(out, tree_node_xattrs(e->node), tree_node_n_xattrs(e->node),
				pl->csum_seed, e->xattr_blk);
}

static int fill_xattr(const void *ctx, uint64_t arg, uint64_t off, uint8_t *buf, size_t len,
		      struct diag *d)
{
	return fill_blocks(ctx, arg, off, buf, len, xattr_block);
}

static void symlink_block(const struct ext4_plan *pl, uint64_t ino, uint64_t k, uint8_t *out)
{
	const struct tree_node *n = ext4_plan_ino(pl, (uint32_t)ino)->node;

	memcpy(out, n->link_target, n->size);
}

static int fill_symlink(const void *ctx, uint64_t arg, uint64_t off, uint8_t *buf, size_t len,
			struct diag *d)
{
	return fill_blocks(ctx, arg, off, buf, len, symlink_block);
}

/* File bytes of one extent: only the data ranges, clipped to the file size. */
static void add_file_extent(const struct tree_node *n, const struct ext4_extent *x,
			    uint64_t base, struct image_plan *ip)
{
	uint64_t lo = (uint64_t)x->lblk * BS, hi = MIN(lo + (uint64_t)x->len * BS, n->size);
	struct tree_extent dense = { 0, n->size };
	size_t n_r = 1;
	const struct tree_extent *r = n->sparse ? tree_node_sparse_data(n, &n_r) : &dense;

	for (size_t i = 0; i < n_r; i++) {
		uint64_t s = MAX(lo, r[i].off), e = MIN(hi, r[i].off + r[i].len);

		if (s < e)
			image_plan_add_file(ip, base + x->pblk * BS + (s - lo), e - s, n, s);
	}
}

static void add_inode_ranges(const struct ext4_plan *pl, uint32_t ino, uint64_t base,
			     struct image_plan *ip)
{
	const struct ext4_ino *e = ext4_plan_ino(pl, ino);
	const struct tree_node *n = e->node;
	uint32_t n_tree = ext4_extent_tree_blocks(e->n_ext);

	if (e->xattr_block)
		image_plan_add_fill(ip, base + e->xattr_blk * BS, BS, fill_xattr, pl, ino);
	for (uint32_t k = 0; k < n_tree; k++)
		image_plan_add_fill(ip, base + pl->tree_blk[e->tree_first + k] * BS, BS,
				    fill_tree, pl, ino | (uint64_t)k << 32);
	for (uint32_t k = 0; k < e->n_ext; k++) {
		const struct ext4_extent *x = &pl->ext[e->ext_first + k];
		uint64_t off = base + x->pblk * BS, len = (uint64_t)x->len * BS;

		if (e->kind == EXT4_INO_LPF || (n && n->type == TREE_DIR))
			image_plan_add_fill(ip, off, len, fill_dir, pl,
					    ino | (uint64_t)(e->ext_first + k) << 32);
		else if (n && n->type == TREE_SYMLINK)
			image_plan_add_fill(ip, off, BS, fill_symlink, pl, ino);
		else if (n && n->type == TREE_REG)
			add_file_extent(n, x, base, ip);
	}
}

void ext4_plan_ranges(const struct ext4_plan *pl, uint64_t base, struct image_plan *ip)
{
	const struct ext4_geom *g = &pl->g;

	for (uint32_t i = 0; i < g->n_groups; i++) {
		uint64_t first = base + (uint64_t)i * EXT4_BLOCKS_PER_GROUP * BS;
		uint32_t used = 0;

		if (ext4_group_has_super(i)) {
			image_plan_add_fill(ip, first + (i ? 0 : 1024), 1024, fill_super, pl, i);
			image_plan_add_fill(ip, first + BS, (uint64_t)g->desc_blocks * BS, fill_gdt,
					    pl, 0);
		}
		image_plan_add_fill(ip, base + g->bb_loc[i] * BS, BS, fill_bitmap, pl, 2 * i);
		image_plan_add_fill(ip, base + g->ib_loc[i] * BS, BS, fill_bitmap, pl, 2 * i + 1);
		if (pl->n_used > (uint64_t)i * g->inodes_per_group)
			used = (uint32_t)MIN((uint64_t)pl->n_used - (uint64_t)i * g->inodes_per_group,
					     (uint64_t)g->inodes_per_group);
		if (used)
			image_plan_add_fill(ip, base + g->it_loc[i] * BS,
					    (uint64_t)DIV_ROUND_UP(used, EXT4_INODES_PER_BLOCK) * BS,
					    fill_itable, pl, i);
	}
	/* Reserved GDT blocks of group 0 list their backups; the backups stay zero. */
	if (g->rsv_gdt_blocks && g->n_groups > 1)
		image_plan_add_fill(ip, base + (1 + (uint64_t)g->desc_blocks) * BS,
				    (uint64_t)g->rsv_gdt_blocks * BS, fill_rsv_gdt, pl, 0);
	image_plan_add_fill(ip, base + pl->dind_blk * BS, BS, fill_misc, pl, EXT4_RESIZE_INO);
	if (g->journal_blocks) {
		const struct ext4_ino *j = ext4_plan_ino(pl, EXT4_JOURNAL_INO);
		uint32_t n_tree = ext4_extent_tree_blocks(j->n_ext);

		image_plan_add_fill(ip, base + pl->ext[j->ext_first].pblk * BS, BS, fill_misc, pl,
				    EXT4_JOURNAL_INO);
		for (uint32_t k = 0; k < n_tree; k++)
			image_plan_add_fill(ip, base + pl->tree_blk[j->tree_first + k] * BS, BS,
					    fill_tree, pl, EXT4_JOURNAL_INO | (uint64_t)k << 32);
	}
	for (uint32_t ino = EXT4_ROOT_INO; ino <= pl->n_used; ino++) {
		uint8_t kind = ext4_plan_ino(pl, ino)->kind;

		if (kind == EXT4_INO_ROOT || kind == EXT4_INO_NODE || kind == EXT4_INO_LPF)
			add_inode_ranges(pl, ino, base, ip);
	}
}
