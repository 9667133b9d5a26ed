/* erofs bytes at emit time: the superblock and inode records (with xattrs and packed tails)
 * as one fill range from byte 1024, directory and long-symlink blocks as fill ranges, file
 * blocks as file ranges read from their sources. Nothing is buffered beyond one record or one
 * directory. The superblock's CRC-32C covers the rest of block 0, so it is computed from the
 * records placed there. */
#include "fs/erofs/erofs.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "image/plan.h"
#include "tree/tree.h"
#include "util/cleanup.h"
#include "util/diag.h"
#include "util/endian.h"
#include "util/xalloc.h"

/* A directory's blocks (DIV_ROUND_UP(size, BS) of them, caller frees). */
static uint8_t *dir_blocks(const struct erofs_plan *pl, const struct tree_node *n)
{
	const struct erofs_ino *e = &pl->ino[n->index];
	size_t cnt;
	_cleanup_free_ struct erofs_dirent_in *de = erofs_plan_dirents(pl, n, &cnt);
	uint8_t *out = xcalloc(DIV_ROUND_UP(e->size, EROFS_BS) + 1, EROFS_BS);

	erofs_dir_encode(out, de, cnt);
	return out;
}

/* Bytes [from, from + len) of node n's data (file, directory or symlink). */
static int data_read(const struct erofs_plan *pl, const struct tree_node *n, uint64_t from,
		     uint8_t *buf, size_t len, struct diag *d)
{
	int r;

	if (n->type == TREE_SYMLINK) {
		memcpy(buf, n->link_target + from, len);
		return 0;
	}
	if (n->type == TREE_DIR) {
		_cleanup_free_ uint8_t *blocks = dir_blocks(pl, n);

		memcpy(buf, blocks + from, len);
		return 0;
	}
	r = tree_node_pread(n, buf, len, from);
	if (r < 0) {
		_cleanup_free_ char *path = tree_node_path(n);

		return diag_fail(d, r, "%s: cannot read bytes %llu to %llu", path,
				 (unsigned long long)from, (unsigned long long)(from + len));
	}
	return 0;
}

static uint64_t record_size(const struct erofs_ino *e)
{
	uint64_t base = (e->extended ? EROFS_INODE_EXTENDED_SIZE : EROFS_INODE_COMPACT_SIZE) +
			e->xsize;

	if (e->compressed)
		return ROUND_UP(base, 8) + erofs_z_index_size(e->size);
	return base + (e->inline_tail ? e->size % EROFS_BS : 0);
}

/* Inode record k (the inode, xattrs, packed tail) into rec (record_size bytes). */
static int record_encode(const struct erofs_plan *pl, size_t k, uint8_t *rec, struct diag *d)
{
	const struct tree_node *n = pl->t->nodes[pl->order[k]];
	const struct erofs_ino *e = &pl->ino[n->index];
	struct erofs_inode in;
	size_t pos;

	erofs_plan_inode(pl, n, &in);
	pos = erofs_inode_encode(rec, &in);
	if (e->xsize) {
		erofs_xattr_encode(rec + pos, n);
		pos += e->xsize;
	}
	if (e->compressed) {
		pos = ROUND_UP(pos, 8);
		erofs_z_index_encode(rec + pos, e->size, pl->zext + e->zfirst, e->nz, e->blkaddr);
		return 0;
	}
	if (!e->inline_tail)
		return 0;
	return data_read(pl, n, e->size - e->size % EROFS_BS, rec + pos, e->size % EROFS_BS, d);
}

/* Records' bytes in [off, off + len) (absolute filesystem offsets, past the superblock). */
static int records_fill(const struct erofs_plan *pl, uint64_t off, uint8_t *buf, size_t len,
			struct diag *d)
{
	size_t lo = 0, hi = pl->n_order;
	uint8_t small[8192];

	/* the last record starting at or before off */
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (pl->ino[pl->order[mid]].nid * EROFS_SLOT <= off)
			lo = mid;
		else
			hi = mid;
	}
	for (size_t k = lo; k < pl->n_order; k++) {
		const struct erofs_ino *e = &pl->ino[pl->order[k]];
		uint64_t start = e->nid * EROFS_SLOT, size = record_size(e), s, t;
		_cleanup_free_ uint8_t *big = NULL;
		uint8_t *rec = small;
		int r;

		if (start >= off + len)
			break;
		if (start + size <= off)
			continue;
		if (size > sizeof(small))
			rec = big = xmalloc(size);
		r = record_encode(pl, k, rec, d);
		if (r < 0)
			return r;
		s = start > off ? start : off;
		t = start + size < off + len ? start + size : off + len;
		memcpy(buf + (s - off), rec + (s - start), t - s);
	}
	return 0;
}

int erofs_meta_fill(const struct erofs_plan *pl, uint64_t off, uint8_t *buf, size_t len,
		    struct diag *d)
{
	const uint64_t sb_end = EROFS_SB_OFFSET + EROFS_SB_SIZE;
	int r;

	if (off < sb_end) {
		_cleanup_free_ uint8_t *blk = xcalloc(1, EROFS_BS);
		struct erofs_super s = {
			.feature_compat = EROFS_FEATURE_COMPAT_SB_CHKSUM | EROFS_FEATURE_COMPAT_MTIME,
			.feature_incompat = pl->n_zext ? EROFS_FEATURE_INCOMPAT_LZ4_0PADDING : 0,
			.blkszbits = EROFS_BLKBITS,
			.root_nid = (uint16_t)pl->ino[0].nid,
			.inos = pl->n_order,
			.build_time = pl->build_time,
			.build_time_nsec = pl->build_time_nsec,
			.blocks = pl->blocks,
		};
		size_t n = (size_t)(sb_end - off) < len ? (size_t)(sb_end - off) : len;

		memcpy(s.uuid, pl->p.uuid, 16);
		memcpy(s.volume_name, pl->p.label, sizeof(pl->p.label));
		r = records_fill(pl, sb_end, blk + sb_end, EROFS_BS - sb_end, d);
		if (r < 0)
			return r;
		erofs_super_encode(blk + EROFS_SB_OFFSET, &s);
		le32_put(blk + EROFS_SB_OFFSET + EROFS_SB_CHECKSUM,
			 erofs_super_checksum(blk, EROFS_BS));
		memcpy(buf, blk + off, n);
		buf += n;
		off += n;
		len -= n;
	}
	return len ? records_fill(pl, off, buf, len, d) : 0;
}

static int meta_fill(const void *ctx, uint64_t arg, uint64_t off, uint8_t *buf, size_t len,
		     struct diag *d)
{
	return erofs_meta_fill(ctx, arg + off, buf, len, d);
}

/* A directory's or symlink's data blocks (arg: its tree index). */
static int data_fill(const void *ctx, uint64_t arg, uint64_t off, uint8_t *buf, size_t len,
		     struct diag *d)
{
	const struct erofs_plan *pl = ctx;

	return data_read(pl, pl->t->nodes[arg], off, buf, len, d);
}

/* A compressed file's blocks (arg: its tree index): each block's extent compressed again from
 * the same window as at plan time (the bytes must come out the same). */
static int zdata_fill(const void *ctx, uint64_t arg, uint64_t off, uint8_t *buf, size_t len,
		      struct diag *d)
{
	const struct erofs_plan *pl = ctx;
	const struct tree_node *n = pl->t->nodes[arg];
	const struct erofs_ino *e = &pl->ino[arg];
	const uint64_t *x = pl->zext + e->zfirst;
	uint32_t b0 = (uint32_t)(off / EROFS_BS), b1 = (uint32_t)DIV_ROUND_UP(off + len, EROFS_BS);
	uint64_t lo = x[b0] >> 1, hi = MIN(n->size, (x[b1 - 1] >> 1) + EROFS_Z_WINDOW);
	_cleanup_free_ uint8_t *in = xmalloc(hi - lo);
	struct erofs_z *z = erofs_z_new(pl->p.compression, pl->p.level);
	uint8_t block[EROFS_BS];
	int r = tree_node_pread(n, in, hi - lo, lo);

	for (uint32_t b = b0; r >= 0 && b < b1; b++) {
		uint64_t s = x[b] >> 1, t = b + 1 < e->nz ? x[b + 1] >> 1 : n->size;
		uint64_t from = MAX((uint64_t)b * EROFS_BS, off), to;
		bool plain;

		if (erofs_z_block(z, in + (s - lo), n->size - s, block, &plain) != t - s ||
		    plain != (bool)(x[b] & 1))
			r = -EIO;
		to = MIN((uint64_t)(b + 1) * EROFS_BS, off + len);
		memcpy(buf + (from - off), block + (from - (uint64_t)b * EROFS_BS), to - from);
	}
	erofs_z_free(z);
	if (r < 0) {
		_cleanup_free_ char *path = tree_node_path(n);

		return diag_fail(d, r, "%s: changed since it was planned (its compressed extents "
				 "differ) or cannot be read", path);
	}
	return 0;
}

void erofs_plan_ranges(const struct erofs_plan *pl, uint64_t base, struct image_plan *ip)
{
	image_plan_add_fill(ip, base + EROFS_SB_OFFSET, pl->meta_end - EROFS_SB_OFFSET, meta_fill,
			    pl, EROFS_SB_OFFSET);
	for (size_t k = 0; k < pl->n_order; k++) {
		const struct tree_node *n = pl->t->nodes[pl->order[k]];
		const struct erofs_ino *e = &pl->ino[n->index];
		uint64_t at = base + (uint64_t)e->blkaddr * EROFS_BS,
			 bytes = e->inline_tail ? e->size - e->size % EROFS_BS : e->size;
		struct tree_extent dense = { 0, n->size };
		const struct tree_extent *x = &dense;
		size_t n_x = 1;

		if (!e->blkaddr || !bytes)
			continue;
		if (e->compressed) {
			image_plan_add_fill(ip, at, (uint64_t)e->nz * EROFS_BS, zdata_fill, pl,
					    n->index);
			continue;
		}
		if (n->type != TREE_REG) {
			image_plan_add_fill(ip, at, bytes, data_fill, pl, n->index);
			continue;
		}
		if (n->sparse)
			x = tree_node_sparse_data(n, &n_x);
		for (size_t i = 0; i < n_x; i++) {
			uint64_t s = x[i].off, t = MIN(x[i].off + x[i].len, bytes);

			if (s < t)
				image_plan_add_file(ip, at + s, t - s, n, s);
		}
	}
}
