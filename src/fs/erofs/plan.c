/* erofs layout: every decision before the first byte. Inodes go in tree preorder (the root
 * first, right after the superblock: nid 36) from block 0 on; an inode's record is the inode,
 * its inline xattrs and, with FLAT_INLINE, the file's last partial block (tail packing). A
 * record that fits a block never crosses one (the kernel wants inline data within one block);
 * a tail is packed when that wastes less than giving it a block of its own. Data blocks follow
 * the metadata, in the same order: each file's, directory's or long symlink's full blocks (and
 * its tail when not packed). Sparse files keep their holes as zero blocks (no tail packing). */
#include "fs/erofs/erofs.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tree/tree.h"
#include "util/cleanup.h"
#include "util/diag.h"
#include "util/xalloc.h"

static const struct tree_node *primary(const struct tree_node *n)
{
	return n->hardlink ? n->hardlink : n;
}

struct erofs_dirent_in *erofs_plan_dirents(const struct erofs_plan *pl, const struct tree_node *n,
					   size_t *ret_n)
{
	struct erofs_dirent_in *e = xcalloc((size_t)n->n_children + 2, sizeof(*e));
	const struct tree_node *up = n->parent ? n->parent : n;

	e[0] = (struct erofs_dirent_in){ ".", 1, pl->ino[n->index].nid, EROFS_FT_DIR };
	e[1] = (struct erofs_dirent_in){ "..", 2, pl->ino[up->index].nid, EROFS_FT_DIR };
	for (uint32_t i = 0; i < n->n_children; i++) {
		const struct tree_node *c = n->children[i];

		e[i + 2] = (struct erofs_dirent_in){ c->name, c->name_len,
						     pl->ino[primary(c)->index].nid,
						     erofs_file_type(c->type) };
	}
	erofs_dirents_sort(e, (size_t)n->n_children + 2);
	*ret_n = (size_t)n->n_children + 2;
	return e;
}

static uint32_t dir_nlink(const struct tree_node *n)
{
	uint32_t k = 2;

	for (uint32_t i = 0; i < n->n_children; i++)
		k += n->children[i]->type == TREE_DIR;
	return k;
}

void erofs_plan_inode(const struct erofs_plan *pl, const struct tree_node *n,
		      struct erofs_inode *ret)
{
	const struct erofs_ino *e = &pl->ino[n->index];

	*ret = (struct erofs_inode){
		.extended = e->extended,
		.layout = e->compressed    ? EROFS_INODE_COMPRESSED_FULL
			  : e->inline_tail ? EROFS_INODE_FLAT_INLINE
					   : EROFS_INODE_FLAT_PLAIN,
		.xattr_icount = erofs_xattr_icount(e->xsize),
		.mode = tree_node_st_mode(n),
		.nlink = n->type == TREE_DIR ? dir_nlink(n) : n->n_links,
		.size = e->size,
		.u = e->blkaddr,
		.ino = e->ino,
		.uid = n->uid,
		.gid = n->gid,
		.mtime = n->mtime_sec,
		.mtime_nsec = n->mtime_nsec,
	};
	if (n->type == TREE_CHR || n->type == TREE_BLK)
		ret->u = erofs_encode_dev(n->rdev_major, n->rdev_minor);
	if (e->compressed)
		ret->u = e->nz; /* i_compressed_blocks */
}

/* Compress a regular file's bytes to find its extents (compress.c's rule); kept only when
 * they take fewer blocks than the file's full blocks would. Reads the file in 1 MiB windows. */
static int plan_compress(struct erofs_plan *pl, const struct tree_node *n, struct erofs_ino *e,
			 struct erofs_z *z, uint8_t *buf, struct diag *d)
{
	const size_t cap = 1u << 20;
	uint64_t s = 0, lo = 0, hi = 0, first = pl->n_zext;
	uint8_t block[EROFS_BS];

	while (s < n->size) {
		uint64_t r = n->size - s, want = MIN(r, (uint64_t)EROFS_Z_WINDOW);
		bool plain;
		int ret;

		if (s + want > hi) {
			lo = s;
			hi = MIN(n->size, s + cap);
			ret = tree_node_pread(n, buf, hi - lo, lo);
			if (ret < 0) {
				_cleanup_free_ char *path = tree_node_path(n);

				return diag_fail(d, ret, "%s: cannot read it to compress it", path);
			}
		}
		if (pl->n_zext == pl->cap_zext) {
			pl->cap_zext = pl->cap_zext ? 2 * pl->cap_zext : 4096;
			pl->zext = xreallocarray(pl->zext, pl->cap_zext, sizeof(*pl->zext));
		}
		pl->zext[pl->n_zext++] = s << 1;
		s += erofs_z_block(z, buf + (s - lo), r, block, &plain);
		pl->zext[pl->n_zext - 1] |= plain;
	}
	if (pl->n_zext - first >= n->size / EROFS_BS) {
		pl->n_zext = first; /* no gain: flat */
		return 0;
	}
	e->compressed = true;
	e->zfirst = first;
	e->nz = (uint32_t)(pl->n_zext - first);
	return 0;
}

struct erofs_plan *erofs_plan_free(struct erofs_plan *pl)
{
	if (!pl)
		return NULL;
	free(pl->ino);
	free(pl->order);
	free(pl->zext);
	free(pl);
	return NULL;
}

struct mtime {
	int64_t sec;
	uint32_t nsec;
};

static int mtime_cmp(const void *a, const void *b)
{
	const struct mtime *x = a, *y = b;

	if (x->sec != y->sec)
		return x->sec < y->sec ? -1 : 1;
	return (x->nsec > y->nsec) - (x->nsec < y->nsec);
}

/* The build time: the mtime most inodes share (the earliest of equals), so that they can be
 * compact (a Nix store's are all 1). A function of the tree alone: deterministic. */
static void plan_build_time(struct erofs_plan *pl)
{
	const struct tree *t = pl->t;
	_cleanup_free_ struct mtime *m = xcalloc(t->n_nodes ? t->n_nodes : 1, sizeof(*m));
	size_t n = 0, best = 0, run = 0;

	for (size_t i = 0; i < t->n_nodes; i++)
		if (!t->nodes[i]->hardlink)
			m[n++] = (struct mtime){ t->nodes[i]->mtime_sec, t->nodes[i]->mtime_nsec };
	qsort(m, n, sizeof(*m), mtime_cmp);
	for (size_t i = 0; i < n; i++) {
		run = i && mtime_cmp(&m[i], &m[i - 1]) == 0 ? run + 1 : 1;
		if (run > best) {
			best = run;
			pl->build_time = m[i].sec;
			pl->build_time_nsec = m[i].nsec;
		}
	}
}

/* Sizes, xattrs and inode versions of every inode. */
static int plan_inodes(struct erofs_plan *pl, struct diag *d)
{
	const struct tree *t = pl->t;
	struct erofs_z *z = NULL;
	_cleanup_free_ uint8_t *buf = NULL;
	int r;

	if (pl->p.compression != EROFS_Z_NONE) {
		z = erofs_z_new(pl->p.compression, pl->p.level);
		buf = xmalloc(1u << 20);
	}
	for (size_t i = 0; i < t->n_nodes; i++) {
		const struct tree_node *n = t->nodes[i];
		struct erofs_ino *e = &pl->ino[i];
		struct erofs_inode in;

		if (n->hardlink)
			continue;
		if (n->type == TREE_DIR) {
			size_t cnt;
			_cleanup_free_ struct erofs_dirent_in *de = erofs_plan_dirents(pl, n, &cnt);

			e->size = erofs_dir_size(de, cnt);
		} else if (n->type == TREE_REG || n->type == TREE_SYMLINK)
			e->size = n->size;
		r = erofs_xattr_size(n, d, &e->xsize);
		if (r < 0) {
			_cleanup_free_ char *path = tree_node_path(n);

			erofs_z_free(z);
			return diag_prepend(d, r, "%s", path);
		}
		if (z && n->type == TREE_REG && !n->sparse && n->size > EROFS_BS) {
			r = plan_compress(pl, n, e, z, buf, d);
			if (r < 0) {
				erofs_z_free(z);
				return r;
			}
		}
		e->ino = (uint32_t)pl->n_order + 1;
		pl->order[pl->n_order++] = (uint32_t)i;
		erofs_plan_inode(pl, n, &in);
		e->extended = erofs_inode_needs_extended(&in, pl->build_time, pl->build_time_nsec);
	}
	erofs_z_free(z);
	return 0;
}

/* Place the inode records from the superblock's end on; then the data blocks. */
static int plan_place(struct erofs_plan *pl, struct diag *d)
{
	uint64_t pos = EROFS_SB_OFFSET + EROFS_SB_SIZE, blk;

	for (size_t k = 0; k < pl->n_order; k++) {
		const struct tree_node *n = pl->t->nodes[pl->order[k]];
		struct erofs_ino *e = &pl->ino[n->index];
		uint64_t base = (e->extended ? EROFS_INODE_EXTENDED_SIZE : EROFS_INODE_COMPACT_SIZE) +
				e->xsize,
			 tail = e->size % EROFS_BS, room, rec;
		bool sparse = n->type == TREE_REG && n->sparse;

		if (e->compressed) {
			base = ROUND_UP(base, 8) + erofs_z_index_size(e->size);
			tail = 0;
		}
		pos = ROUND_UP(pos, EROFS_SLOT);
		room = EROFS_BS - pos % EROFS_BS;
		e->inline_tail = false;
		if (tail && !sparse && base + tail <= EROFS_BS) {
			/* pack the tail unless moving to a fresh block wastes more than a block
			 * of its own would */
			if (base + tail <= room || room <= EROFS_BS - tail)
				e->inline_tail = true;
		}
		rec = base + (e->inline_tail ? tail : 0);
		if (rec > room && rec <= EROFS_BS)
			pos += room;
		e->nid = pos / EROFS_SLOT;
		pos += rec;
	}
	if (pl->n_order && pl->ino[0].nid > UINT16_MAX)
		return diag_fail(d, -EFBIG, "%s: the root inode does not fit erofs' 16-bit root "
				 "nid", pl->p.what);
	pl->meta_end = pos;
	blk = DIV_ROUND_UP(pos, EROFS_BS);
	for (size_t k = 0; k < pl->n_order; k++) {
		struct erofs_ino *e = &pl->ino[pl->order[k]];
		uint64_t nb = e->compressed    ? e->nz
			      : e->inline_tail ? e->size / EROFS_BS
					       : DIV_ROUND_UP(e->size, EROFS_BS);

		if (pl->t->nodes[pl->order[k]]->type != TREE_REG &&
		    pl->t->nodes[pl->order[k]]->type != TREE_DIR &&
		    pl->t->nodes[pl->order[k]]->type != TREE_SYMLINK)
			nb = 0;
		e->blkaddr = nb ? (uint32_t)blk : 0;
		blk += nb;
		if (blk > UINT32_MAX)
			return diag_fail(d, -EFBIG, "%s: over 2^32 blocks of 4 KiB (16 TiB), erofs' "
					 "limit", pl->p.what);
	}
	pl->blocks = (uint32_t)blk;
	return 0;
}

int erofs_plan_new(const struct erofs_params *p, const struct tree *t, struct diag *d,
		   struct erofs_plan **ret)
{
	struct erofs_plan *pl = xcalloc(1, sizeof(*pl));
	int r;

	pl->p = *p;
	pl->t = t;
	pl->ino = xcalloc(t->n_nodes ? t->n_nodes : 1, sizeof(*pl->ino));
	pl->order = xcalloc(t->n_nodes ? t->n_nodes : 1, sizeof(*pl->order));
	pl->build_time = p->build_time;
	plan_build_time(pl);
	r = plan_inodes(pl, d);
	if (r >= 0)
		r = plan_place(pl, d);
	if (r < 0) {
		erofs_plan_free(pl);
		return r;
	}
	*ret = pl;
	return 0;
}
