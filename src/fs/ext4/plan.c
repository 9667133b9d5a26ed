/* The ext4 planner: inode numbering, directory layouts, block allocation and exact sizing.
 * The tree fixes inodes, directories and xattr placement once; the size-dependent part
 * (geometry, allocation) is recomputed per candidate size. docs/formats/ext4.md. */
#include "fs/ext4/ext4.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "fs/ext4/ext4-plan.h"
#include "tree/tree.h"
#include "util/cleanup.h"
#include "util/diag.h"
#include "util/endian.h"
#include "util/xalloc.h"

#define EXT4_LINK_MAX 65000u

static uint8_t file_type_of(const struct tree_node *n)
{
	static const uint8_t ft[] = {
		[TREE_DIR] = EXT4_FT_DIR,   [TREE_REG] = EXT4_FT_REG,	[TREE_SYMLINK] = EXT4_FT_SYMLINK,
		[TREE_CHR] = EXT4_FT_CHR,   [TREE_BLK] = EXT4_FT_BLK,	[TREE_FIFO] = EXT4_FT_FIFO,
		[TREE_SOCK] = EXT4_FT_SOCK,
	};

	return ft[n->type];
}

static bool is_lpf(const struct tree_node *n)
{
	return n->parent && !n->parent->parent && n->name_len == 10 &&
	       !memcmp(n->name, "lost+found", 10);
}

struct dir_src {
	const struct ext4_plan *pl;
	const struct tree_node *dir;
};

/* Entry i of a directory: its children in tree order, then lost+found for the root when the
 * tree has none. */
static void dir_src_get(const void *ctx, size_t i, struct ext4_dirent *ret)
{
	const struct dir_src *s = ctx;
	const struct tree_node *c;

	if (i == s->dir->n_children) {
		*ret = (struct ext4_dirent){ (const uint8_t *)"lost+found", 10, EXT4_FT_DIR,
					     EXT4_FIRST_INO };
		return;
	}
	c = s->dir->children[i];
	*ret = (struct ext4_dirent){ (const uint8_t *)c->name, c->name_len, file_type_of(c),
				     s->pl->node_ino[c->index] };
}

/* Build the layout of directory inode ino from its tree node. plan_dir has checked the names,
 * so at emit time this only fails on a bug. */
static int dir_layout_build(const struct ext4_plan *pl, uint32_t ino, struct diag *d,
			    struct ext4_dir_layout **ret)
{
	const struct tree_node *n = ext4_plan_ino(pl, ino)->node;
	bool add_lpf = ino == EXT4_ROOT_INO && pl->ino[EXT4_FIRST_INO - 1].kind == EXT4_INO_LPF;
	uint32_t parent_ino = n->parent ? pl->node_ino[n->parent->index] : EXT4_ROOT_INO;
	struct dir_src src = { pl, n };

	return ext4_dir_layout_build(dir_src_get, &src, n->n_children + add_lpf, ino, parent_ino,
				     &pl->hash, /* csum= */ true, d, ret);
}

int ext4_plan_dir_layout(const struct ext4_plan *pl, uint32_t ino, struct diag *d,
			 const struct ext4_dir_layout **ret)
{
	struct ext4_dir_cache *c = pl->dir_cache;
	int r;

	if (c->l && c->ino == ino) {
		*ret = c->l;
		return 0;
	}
	c->l = ext4_dir_layout_free(c->l);
	r = dir_layout_build(pl, ino, d, &c->l);
	if (r < 0)
		return r;
	c->ino = ino;
	*ret = c->l;
	return 0;
}

static int plan_dir(struct ext4_plan *pl, uint32_t ino, const struct tree_node *n, struct diag *d)
{
	struct ext4_dir_layout *l = NULL;
	struct ext4_ino *e = &pl->ino[ino - 1];
	uint32_t subdirs = ino == EXT4_ROOT_INO && pl->ino[EXT4_FIRST_INO - 1].kind == EXT4_INO_LPF;
	int r;

	for (size_t i = 0; i < n->n_children; i++) {
		/* names fit ext4's 255 bytes: the tree holds no longer ones (TREE_NAME_MAX) */
		subdirs += n->children[i]->type == TREE_DIR;
	}
	r = dir_layout_build(pl, ino, d, &l);
	if (r < 0)
		return r;
	e->dir = (uint32_t)pl->n_dirs++;
	pl->dirs[e->dir] = (struct ext4_dir_info){ .blocks = ext4_dir_layout_blocks(l),
						   .indexed = ext4_dir_layout_indexed(l) };
	ext4_dir_layout_free(l);
	e->links = 2 + subdirs > EXT4_LINK_MAX ? 1 : 2 + subdirs;
	pl->fixed_blocks += pl->dirs[e->dir].blocks;
	return 0;
}

/* Number inodes (root 2, lost+found 11, then the tree's inodes in preorder from 12), plan
 * every directory and decide where xattrs go. */
static int plan_inodes(struct ext4_plan *pl, struct diag *d)
{
	const struct tree *t = pl->tree;
	uint32_t next = EXT4_FIRST_INO + 1;
	size_t n_dirs = 1; /* lost+found when the tree has none */
	bool tree_lpf = false;
	int r;

	pl->node_ino = xcalloc(t->n_nodes, sizeof(*pl->node_ino));
	for (size_t i = 0; i < t->n_nodes; i++) {
		const struct tree_node *n = t->nodes[i];

		n_dirs += n->type == TREE_DIR;
		if (i == 0)
			pl->node_ino[i] = EXT4_ROOT_INO;
		else if (n->hardlink)
			pl->node_ino[i] = pl->node_ino[n->hardlink->index];
		else if (is_lpf(n) && n->type == TREE_DIR)
			pl->node_ino[i] = EXT4_FIRST_INO, tree_lpf = true;
		else if (is_lpf(n))
			return diag_fail(d, -EINVAL, "/lost+found: must be a directory in an ext4 "
					 "root filesystem; remove it from the contents");
		else
			pl->node_ino[i] = next++;
	}
	pl->n_used = next - 1;
	pl->ino = xcalloc(pl->n_used, sizeof(*pl->ino));
	pl->dirs = xcalloc(n_dirs, sizeof(*pl->dirs));
	pl->dir_cache = xcalloc(1, sizeof(*pl->dir_cache));
	for (uint32_t ino = 1; ino <= pl->n_used; ino++)
		pl->ino[ino - 1].dir = UINT32_MAX;
	pl->ino[EXT4_RESIZE_INO - 1].kind = EXT4_INO_RESIZE;
	pl->ino[EXT4_RESIZE_INO - 1].links = 1;
	if (pl->p.journal) {
		pl->ino[EXT4_JOURNAL_INO - 1].kind = EXT4_INO_JOURNAL;
		pl->ino[EXT4_JOURNAL_INO - 1].links = 1;
	}
	if (!tree_lpf) {
		pl->ino[EXT4_FIRST_INO - 1].kind = EXT4_INO_LPF;
		pl->ino[EXT4_FIRST_INO - 1].links = 2;
		pl->ino[EXT4_FIRST_INO - 1].dir = UINT32_MAX - 1; /* no layout: 4 empty blocks */
		pl->fixed_blocks += EXT4_LPF_BLOCKS;
	}

	for (size_t i = 0; i < t->n_nodes; i++) {
		const struct tree_node *n = t->nodes[i];
		uint32_t ino = pl->node_ino[i];
		struct ext4_ino *e = &pl->ino[ino - 1];

		if (n->hardlink)
			continue;
		e->node = n;
		e->kind = i == 0 ? EXT4_INO_ROOT : EXT4_INO_NODE;
		if (n->n_links > EXT4_LINK_MAX) {
			_cleanup_free_ char *path = tree_node_path(n);

			return diag_fail(d, -EMLINK, "%s: %u hard links; ext4 allows at most %u "
					 "names for one file (copy it instead of linking)",
					 path, n->n_links, EXT4_LINK_MAX);
		}
		e->links = n->n_links ? n->n_links : 1;
		if (n->type == TREE_DIR) {
			r = plan_dir(pl, ino, n, d);
			if (r < 0)
				return diag_prepend(d, r, "directory #%zu", i);
		} else if (n->type == TREE_SYMLINK && n->size >= 60) {
			if (n->size >= EXT4_BLOCK_SIZE)
				return diag_fail(d, -ENAMETOOLONG, "symlink target of %" PRIu64
						 " bytes: at most 4095 fit", n->size);
			pl->fixed_blocks++;
		}
		if (tree_node_n_xattrs(n)) {
			bool in_block;

			r = ext4_xattr_placement(tree_node_xattrs(n), tree_node_n_xattrs(n), d,
						 &in_block);
			if (r < 0)
				return r;
			e->xattr_block = in_block;
			pl->fixed_blocks += e->xattr_block;
		}
	}
	return 0;
}

/* ---- allocation ---------------------------------------------------------------------- */

struct alloc {
	uint64_t pos;     /* next candidate block */
	uint64_t used;    /* blocks handed out */
	uint64_t journal; /* of which journal blocks (when it could not be contiguous) */
};

static void ext_push(struct ext4_plan *pl, struct ext4_ino *e, uint32_t lblk, uint64_t pblk,
		     uint32_t len)
{
	if (e->n_ext) {
		struct ext4_extent *last = &pl->ext[pl->n_ext - 1];

		if (last->lblk + last->len == lblk && last->pblk + last->len == pblk &&
		    last->len + len <= EXT4_MAX_EXTENT_LEN) {
			last->len += len;
			return;
		}
	}
	if (pl->n_ext == pl->cap_ext) {
		pl->cap_ext = pl->cap_ext ? 2 * pl->cap_ext : 1024;
		pl->ext = xreallocarray(pl->ext, pl->cap_ext, sizeof(*pl->ext));
	}
	pl->ext[pl->n_ext++] = (struct ext4_extent){ .lblk = lblk, .pblk = pblk, .len = len };
	e->n_ext++;
}

/* Next free block at or after a->pos (first fit through the free space, in order). */
static int next_free(const struct ext4_plan *pl, struct alloc *a, uint64_t *ret_run_end)
{
	for (;;) {
		size_t i = ext4_used_find(pl, a->pos);

		if (a->pos >= pl->g.n_blocks)
			return -ENOSPC;
		if (i < pl->n_used_ival && pl->used[i].start <= a->pos) {
			a->pos = pl->used[i].end;
			continue;
		}
		*ret_run_end = i < pl->n_used_ival ? pl->used[i].start : pl->g.n_blocks;
		return 0;
	}
}

static int alloc_blocks(struct ext4_plan *pl, struct alloc *a, struct ext4_ino *e,
			uint64_t lblk, uint64_t n)
{
	while (n) {
		uint64_t run_end, take;
		int r = next_free(pl, a, &run_end);

		if (r < 0)
			return r;
		take = MIN(n, run_end - a->pos);
		take = MIN(take, (uint64_t)EXT4_MAX_EXTENT_LEN);
		ext_push(pl, e, (uint32_t)lblk, a->pos, (uint32_t)take);
		a->pos += take;
		a->used += take;
		e->n_blocks += take;
		lblk += take;
		n -= take;
	}
	return 0;
}

static int alloc_one_block(struct ext4_plan *pl, struct alloc *a, uint64_t *ret)
{
	uint64_t run_end;
	int r = next_free(pl, a, &run_end);

	if (r < 0)
		return r;
	*ret = a->pos++;
	a->used++;
	return 0;
}

/* Tree blocks for inodes with more than 4 extents. */
static int alloc_tree(struct ext4_plan *pl, struct alloc *a, struct ext4_ino *e)
{
	uint32_t n = ext4_extent_tree_blocks(e->n_ext);

	e->tree_first = (uint32_t)pl->n_tree_blk;
	for (uint32_t k = 0; k < n; k++) {
		int r;

		if (pl->n_tree_blk == pl->cap_tree_blk) {
			pl->cap_tree_blk = pl->cap_tree_blk ? 2 * pl->cap_tree_blk : 256;
			pl->tree_blk = xreallocarray(pl->tree_blk, pl->cap_tree_blk,
						     sizeof(*pl->tree_blk));
		}
		r = alloc_one_block(pl, a, &pl->tree_blk[pl->n_tree_blk]);
		if (r < 0)
			return r;
		pl->n_tree_blk++;
		e->n_blocks++;
	}
	return 0;
}

/* A regular file's data blocks: every block touched by a data range (all of them for a
 * dense file); holes stay unmapped. */
static int alloc_file(struct ext4_plan *pl, struct alloc *a, struct ext4_ino *e)
{
	const struct tree_node *n = e->node;
	uint64_t last_end = 0; /* first block not yet mapped */
	size_t n_data;
	const struct tree_extent *data = tree_node_sparse_data(n, &n_data);
	int r;

	e->ext_first = (uint32_t)pl->n_ext;
	if (!n->sparse) {
		r = alloc_blocks(pl, a, e, 0, DIV_ROUND_UP(n->size, EXT4_BLOCK_SIZE));
		if (r < 0)
			return r;
	}
	for (size_t i = 0; n->sparse && i < n_data; i++) {
		uint64_t end = MIN(data[i].off + data[i].len, n->size);
		uint64_t b0 = data[i].off / EXT4_BLOCK_SIZE, b1;

		if (data[i].off >= end)
			continue;
		b1 = DIV_ROUND_UP(end, EXT4_BLOCK_SIZE);
		b0 = MAX(b0, last_end);
		if (b0 < b1) {
			r = alloc_blocks(pl, a, e, b0, b1 - b0);
			if (r < 0)
				return r;
			last_end = b1;
		}
	}
	return alloc_tree(pl, a, e);
}

/* The first free run of n blocks, for a contiguous journal. */
static bool find_run(const struct ext4_plan *pl, uint64_t n, uint64_t *ret)
{
	uint64_t pos = 0;

	for (size_t i = 0; i <= pl->n_used_ival; i++) {
		uint64_t end = i < pl->n_used_ival ? pl->used[i].start : pl->g.n_blocks;

		if (end >= pos + n) {
			*ret = pos;
			return true;
		}
		if (i < pl->n_used_ival)
			pos = pl->used[i].end;
	}
	return false;
}

static int layout_journal(struct ext4_plan *pl, struct alloc *a)
{
	struct ext4_ino *e = &pl->ino[EXT4_JOURNAL_INO - 1];
	uint32_t n = pl->g.journal_blocks;
	uint64_t start;
	int r;

	e->ext_first = (uint32_t)pl->n_ext;
	if (find_run(pl, n, &start)) {
		for (uint32_t lblk = 0; lblk < n; lblk += EXT4_MAX_EXTENT_LEN)
			ext_push(pl, e, lblk, start + lblk, MIN(n - lblk, EXT4_MAX_EXTENT_LEN));
		ext4_used_add(pl, start, n);
		e->n_blocks = n;
	} else {
		r = alloc_blocks(pl, a, e, 0, n);
		if (r < 0)
			return r;
		a->journal = n;
	}
	return alloc_tree(pl, a, e);
}

static void layout_reset(struct ext4_plan *pl)
{
	pl->n_ext = 0;
	pl->n_tree_blk = 0;
	for (uint32_t ino = 1; ino <= pl->n_used; ino++) {
		struct ext4_ino *e = &pl->ino[ino - 1];

		e->n_ext = e->ext_first = e->tree_first = 0;
		e->n_blocks = 0;
		e->xattr_blk = 0;
	}
}

static uint64_t used_total(const struct ext4_plan *pl)
{
	uint64_t n = 0;

	for (size_t i = 0; i < pl->n_used_ival; i++)
		n += pl->used[i].end - pl->used[i].start;
	return n;
}

/* Inodes the layout must have: the tree's, plus one per inode_ratio bytes of extra space (what
 * mke2fs gives a filesystem of that much free space), so the added space is usable. */
static uint64_t min_inodes(const struct ext4_plan *pl)
{
	uint64_t extra = pl->p.extra_bytes;

	/* no DIV_ROUND_UP: extra + ratio - 1 may overflow */
	return (uint64_t)pl->n_used + extra / pl->p.inode_ratio + (extra % pl->p.inode_ratio != 0);
}

/* Lay the filesystem out on n_blocks. -EDOM when the metadata does not fit, -ENOSPC when
 * the contents do not. */
static int layout(struct ext4_plan *pl, uint64_t n_blocks)
{
	struct alloc a = { 0 };
	uint64_t goal;
	int r;

	layout_reset(pl);
	r = ext4_geom_init(pl, n_blocks, min_inodes(pl));
	if (r < 0)
		return r == -ENOSPC ? -EDOM : r; /* the metadata alone does not fit */
	/* res_gdt.c's goal for the resize inode's dind block. */
	goal = pl->g.desc_blocks + pl->g.rsv_gdt_blocks + 2 + pl->g.itable_blocks;
	r = ext4_find_free(pl, goal, pl->g.n_blocks, 1, &pl->dind_blk);
	if (r < 0)
		return r;
	ext4_used_add(pl, pl->dind_blk, 1);
	pl->ino[EXT4_RESIZE_INO - 1].n_blocks = ext4_resize_inode_blocks(&pl->g);
	if (pl->g.journal_blocks) {
		r = layout_journal(pl, &a);
		if (r < 0)
			return r;
	}

	/* Directories, symlink blocks and xattr blocks first, then file data. */
	for (int pass = 0; pass < 2; pass++) {
		for (uint32_t ino = EXT4_ROOT_INO; ino <= pl->n_used; ino++) {
			struct ext4_ino *e = &pl->ino[ino - 1];
			const struct tree_node *n = e->node;
			bool file = n && n->type == TREE_REG;

			if (e->kind == EXT4_INO_UNUSED || e->kind == EXT4_INO_RESIZE ||
			    e->kind == EXT4_INO_JOURNAL)
				continue;
			if (pass == 0 && e->xattr_block) {
				uint64_t blk;

				r = alloc_one_block(pl, &a, &blk);
				if (r < 0)
					return r;
				e->xattr_blk = blk;
				e->n_blocks++;
			}
			if (file != (pass == 1))
				continue;
			if (file) {
				r = alloc_file(pl, &a, e);
				if (r < 0)
					return r;
				continue;
			}
			e->ext_first = (uint32_t)pl->n_ext;
			if (e->kind == EXT4_INO_LPF)
				r = alloc_blocks(pl, &a, e, 0, EXT4_LPF_BLOCKS);
			else if (n->type == TREE_DIR)
				r = alloc_blocks(pl, &a, e, 0,
						 pl->dirs[e->dir].blocks);
			else if (n->type == TREE_SYMLINK && n->size >= 60)
				r = alloc_blocks(pl, &a, e, 0, 1);
			if (r < 0)
				return r;
			r = alloc_tree(pl, &a, e);
			if (r < 0)
				return r;
		}
	}
	pl->data_end = a.pos;
	pl->data_blocks = a.used - a.journal;
	pl->free_blocks = pl->g.n_blocks - used_total(pl) - a.used;
	return 0;
}

/* ---- sizing -------------------------------------------------------------------------- */

static uint64_t tree_file_blocks(const struct tree *t)
{
	uint64_t n = 0;

	for (size_t i = 0; i < t->n_nodes; i++) {
		const struct tree_node *f = t->nodes[i];
		const struct tree_extent *data;
		size_t n_data;

		if (f->type != TREE_REG || f->hardlink)
			continue;
		if (!f->sparse)
			n += DIV_ROUND_UP(f->size, EXT4_BLOCK_SIZE);
		/* whole blocks inside a data range: a lower bound */
		data = tree_node_sparse_data(f, &n_data);
		for (size_t k = 0; f->sparse && k < n_data; k++)
			n += data[k].len / EXT4_BLOCK_SIZE;
	}
	return n;
}

/* Blocks the Linux kernel holds back from statfs's available count on a mounted ext4 with
 * extents (fs/ext4/super.c, ext4_calculate_resv_clusters): 2% of the blocks, at most 4096. */
static uint64_t kernel_resv_blocks(uint64_t n_blocks)
{
	return MIN(n_blocks / 50, (uint64_t)4096);
}

/* The smallest n >= from such that a filesystem made on n blocks (mke2fs's rule may drop a
 * short last group, so it can be smaller) leaves free - reserved >= want; with want > 0 also
 * after the kernel's own reserve, so that df's "Avail" on the mounted image shows `want`.
 *
 * free(n) is not monotone (the journal grows in tiers, a group appears with its metadata),
 * but it never grows faster than n: free(m) <= free(n) + (m - n) for m >= n when n keeps
 * its last group, and the blocks held back never shrink as n grows. So when n lacks k
 * blocks, no size below n + k can fit, and stepping by the deficit finds the smallest size;
 * sizes whose last group is dropped make the same filesystem as the group boundary and are
 * skipped to the first size that could keep that group. */
static int min_blocks(struct ext4_plan *pl, uint64_t want, uint64_t from, uint64_t *ret)
{
	uint64_t data_min = pl->fixed_blocks + tree_file_blocks(pl->tree);
	uint64_t n;

	if (min_inodes(pl) > UINT32_MAX || want > EXT4_MAX_BLOCKS || data_min > EXT4_MAX_BLOCKS)
		return -EOVERFLOW;
	n = MAX(MAX((uint64_t)64, data_min + want), from);
	for (;;) {
		int r = layout(pl, n);
		uint64_t have, need;

		if (r == -EOVERFLOW)
			return r;
		if (r == -EDOM) {
			uint64_t groups = DIV_ROUND_UP(min_inodes(pl), 8 * EXT4_BLOCK_SIZE);
			uint64_t floor_blocks = (groups - 1) * EXT4_BLOCKS_PER_GROUP + 64;

			n = MAX(n + 1, floor_blocks);
			continue;
		}
		if (r < 0) {
			/* Contents did not fit: the metadata placed so far plus all data is a
			 * lower bound of what this size lacks. */
			need = used_total(pl) + data_min + pl->g.reserved_blocks + want;
			n += need > n ? need - n : 1;
			continue;
		}
		have = pl->free_blocks;
		need = want + pl->g.reserved_blocks + (want ? kernel_resv_blocks(pl->g.n_blocks) : 0);
		if (have >= need) {
			*ret = n;
			return 0;
		}
		if (pl->g.n_blocks < n)
			n = MAX(n + 1, pl->g.keep_last_from);
		else
			n += need - have;
	}
}

static void ext4_plan_fixed_free(struct ext4_plan *pl)
{
	if (pl->dir_cache)
		ext4_dir_layout_free(pl->dir_cache->l);
	free(pl->dir_cache);
	free(pl->dirs);
	free(pl->ino);
	free(pl->node_ino);
}

struct ext4_plan *ext4_plan_free(struct ext4_plan *pl)
{
	if (!pl)
		return NULL;
	ext4_plan_fixed_free(pl);
	free(pl->g.bb_loc);
	free(pl->g.ib_loc);
	free(pl->g.it_loc);
	free(pl->used);
	free(pl->ext);
	free(pl->tree_blk);
	free(pl->grp_free_blocks);
	free(pl->grp_free_inodes);
	free(pl->grp_dirs);
	free(pl->grp_bb_csum);
	free(pl->grp_ib_csum);
	free(pl);
	return NULL;
}

static int plan_new(const struct ext4_params *p, const struct tree *t, struct diag *d,
		    struct ext4_plan **ret)
{
	_cleanup_(ext4_plan_freep) struct ext4_plan *pl = xcalloc(1, sizeof(*pl));
	int r;

	if (!t->root || !t->nodes || t->n_nodes == 0 || t->root->type != TREE_DIR)
		return diag_fail(d, -EINVAL, "ext4: the tree has no root directory (not finalized)");
	if (p->reserved_percent > 50)
		return diag_fail(d, -EINVAL, "ext4: reserved blocks of %u%% (at most 50%%)",
				 p->reserved_percent);
	pl->p = *p;
	if (!pl->p.inode_ratio)
		pl->p.inode_ratio = 16384;
	if (pl->p.inode_ratio < 1024 || pl->p.inode_ratio > 64 * 1024 * 1024)
		return diag_fail(d, -EINVAL, "ext4: inode ratio %u out of range [1024, 64M]",
				 pl->p.inode_ratio);
	pl->tree = t;
	pl->csum_seed = ext4_csum_seed(p->uuid);
	pl->hash.version = EXT4_HASH_HALF_MD4;
	pl->hash.unsigned_chars = false;
	for (int i = 0; i < 4; i++)
		pl->hash.seed[i] = le32_get(p->hash_seed + 4 * i);
	r = plan_inodes(pl, d);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(pl);
	return 0;
}

/* Blocks of extra_bytes, rounded up. */
static uint64_t extra_blocks(const struct ext4_plan *pl)
{
	uint64_t extra = pl->p.extra_bytes;

	return extra / EXT4_BLOCK_SIZE + (extra % EXT4_BLOCK_SIZE != 0); /* cannot overflow */
}

/* The smallest request that the caller's fit turns into a filesystem that fits: the first
 * size where the filesystem fits, then, while what the caller offers for it does not (its
 * journal tier or a group's metadata may take more than the rounding adds), the first size
 * at or above that offer that fits. */
static int min_fit(struct ext4_plan *pl, const struct ext4_size_fit *fit, struct diag *d,
		   uint64_t *ret)
{
	uint64_t want = extra_blocks(pl), n, m, offer;
	int r;

	r = min_blocks(pl, want, 0, &n);
	for (; r >= 0;) {
		if (!fit || !fit->fn) {
			*ret = n * EXT4_BLOCK_SIZE;
			return 0;
		}
		r = fit->fn(fit->ctx, n * EXT4_BLOCK_SIZE, &offer);
		if (r < 0)
			return r; /* the caller's message */
		offer /= EXT4_BLOCK_SIZE;
		if (offer < n)
			return diag_fail(d, -ERANGE, "root filesystem: offered %" PRIu64 " blocks "
					 "for %" PRIu64, offer, n); /* a caller bug */
		r = offer == n ? 0 : min_blocks(pl, want, offer, &m);
		if (r >= 0 && (offer == n || m == offer)) {
			*ret = n * EXT4_BLOCK_SIZE;
			return 0;
		}
		n = m;
	}
	return diag_fail(d, r, "root filesystem: contents need more than 16 TiB");
}

int ext4_min_size(const struct ext4_params *p, const struct tree *t,
		  const struct ext4_size_fit *fit, struct diag *d, uint64_t *ret)
{
	_cleanup_(ext4_plan_freep) struct ext4_plan *pl = NULL;
	int r;

	r = plan_new(p, t, d, &pl);
	if (r < 0)
		return r;
	return min_fit(pl, fit, d, ret);
}

int ext4_plan(const struct ext4_params *p, const struct tree *t, struct diag *d,
	      struct ext4_plan **ret)
{
	_cleanup_(ext4_plan_freep) struct ext4_plan *pl = NULL;
	uint64_t n = p->size_bytes / EXT4_BLOCK_SIZE;
	int r;

	r = plan_new(p, t, d, &pl);
	if (r < 0)
		return r;
	if (!p->size_bytes) {
		r = min_blocks(pl, extra_blocks(pl), 0, &n);
		if (r < 0)
			return diag_fail(d, r, "root filesystem: contents need more than 16 TiB");
	}
	r = layout(pl, n);
	if (r == -EOVERFLOW)
		return diag_fail(d, r, "root filesystem of %" PRIu64 " bytes: at most 16 TiB "
				 "(2^32 blocks) are supported", p->size_bytes);
	if (r < 0) {
		uint64_t need;

		r = min_blocks(pl, 0, 0, &need);
		if (r < 0)
			return diag_fail(d, r, "root filesystem: contents need more than 16 TiB");
		return diag_fail(d, -ENOSPC, "root filesystem needs %" PRIu64 " bytes (%" PRIu64
				 " MiB); %" PRIu64 " bytes are too small: raise diskSize or use "
				 "\"auto\"", need * EXT4_BLOCK_SIZE,
				 DIV_ROUND_UP(need * EXT4_BLOCK_SIZE, 1024 * 1024), p->size_bytes);
	}
	ext4_group_stats(pl);
	*ret = TAKE_PTR(pl);
	return 0;
}

uint64_t ext4_plan_size(const struct ext4_plan *pl)
{
	return pl->g.n_blocks * EXT4_BLOCK_SIZE;
}

void ext4_plan_stats(const struct ext4_plan *pl, struct ext4_stats *ret)
{
	memset(ret, 0, sizeof(*ret));
	ret->size_bytes = ext4_plan_size(pl);
	ret->n_blocks = pl->g.n_blocks;
	ret->free_blocks = pl->free_blocks;
	ret->reserved_blocks = pl->g.reserved_blocks;
	ret->n_inodes = pl->g.n_inodes;
	ret->free_inodes = pl->g.n_inodes - pl->n_used;
	ret->n_groups = pl->g.n_groups;
	ret->journal_blocks = pl->g.journal_blocks;
	ret->data_blocks = pl->data_blocks;
	ret->metadata_blocks = pl->g.n_blocks - pl->free_blocks - pl->data_blocks -
			       pl->g.journal_blocks;
}
