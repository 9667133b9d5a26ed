/* Growing ext4: the resize inode (7). Its double-indirect block maps the reserved GDT blocks
 * (slot (desc_blocks + k) % addr_per_block holds reserved block k), each of which is an
 * indirect block listing its copies in the backup groups, as e2fsprogs' res_gdt.c builds it
 * and e2fsck's check_resize_inode() expects. Growing takes the first reserved blocks as GDT
 * blocks (they leave the inode: the slots keep their place since desc_blocks grows by as
 * much) and lists the new backup groups in the blocks that stay. */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "fs/ext4/ext4-internal.h"
#include "fs/ext4/grow-internal.h"
#include "util/cleanup.h"
#include "util/diag.h"
#include "util/endian.h"
#include "util/xalloc.h"

#define RESIZE_INO 7u
#define I_MODE 0x00
#define I_BLOCKS_LO 0x1c
#define I_FLAGS 0x20
#define I_BLOCK 0x28
#define I_GENERATION 0x64
#define I_BLOCKS_HI 0x74
#define DIND 13
#define FL_HUGE_FILE 0x40000u
#define FL_EXTENTS 0x80000u

static int corrupt(struct diag *d, const char *what)
{
	return diag_fail(d, -EUCLEAN, "cannot grow ext4: the resize inode is corrupt (%s): run "
				      "e2fsck first", what);
}

static void inode_csum(const struct ext4g *fs, uint8_t *inode)
{
	ext4_inode_csum_set(inode, fs->inode_size, fs->csum_seed, RESIZE_INO,
			    le32_get(inode + I_GENERATION));
}

int ext4g_resize_inode_check(struct ext4g *fs, struct diag *d)
{
	uint32_t apb = fs->bs / 4, idx = (RESIZE_INO - 1) % fs->ipg;
	const uint8_t *desc = ext4g_desc(fs, (RESIZE_INO - 1) / fs->ipg);
	_cleanup_free_ uint8_t *ind = xmalloc(fs->bs);
	uint32_t n_old = 0;
	uint8_t *in;
	int r;

	/* The backup groups past 0, in ascending order (ext2fs_list_backups). */
	for (uint32_t g = 1; g < fs->new_groups; g++) {
		if (!ext4g_has_super(fs, g))
			continue;
		if (fs->n_backups == apb)
			return diag_fail(d, -EOPNOTSUPP, "cannot grow ext4: more backup groups than "
							 "a resize inode block lists (no sparse_super)");
		if (!fs->backups)
			fs->backups = xcalloc(apb, sizeof(*fs->backups));
		fs->backups[fs->n_backups++] = g;
		n_old += g < fs->old_groups;
	}
	fs->res_off = EXT4G_GET32(fs, desc, INODE_TABLE) * fs->bs + (uint64_t)idx * fs->inode_size;
	in = fs->res_inode = xmalloc(fs->inode_size);
	r = fs->io->read(fs->io->ctx, fs->res_off, in, fs->inode_size, d);
	if (r < 0)
		return diag_prepend(d, r, "reading the resize inode");
	if (fs->csum) {
		uint8_t *copy = xmalloc(fs->inode_size);
		bool ok;

		memcpy(copy, in, fs->inode_size);
		inode_csum(fs, copy);
		ok = !memcmp(copy, in, fs->inode_size);
		free(copy);
		if (!ok)
			return corrupt(d, "checksum");
	}
	if ((le16_get(in + I_MODE) & 0170000) != 0100000 ||
	    (le32_get(in + I_FLAGS) & (FL_HUGE_FILE | FL_EXTENTS)))
		return corrupt(d, "mode or flags");
	for (int i = 0; i < 15; i++)
		if (i != DIND && le32_get(in + I_BLOCK + 4 * i))
			return corrupt(d, "blocks besides the double-indirect one");
	fs->res_dind_blk = le32_get(in + I_BLOCK + 4 * DIND);
	if (fs->res_dind_blk < fs->fdb || fs->res_dind_blk >= fs->old_blocks)
		return corrupt(d, "double-indirect block");
	fs->res_dind = xmalloc(fs->bs);
	r = ext4g_read(fs, fs->res_dind_blk, fs->res_dind, fs->bs, d);
	if (r < 0)
		return diag_prepend(d, r, "reading the resize inode");
	for (uint32_t k = 0; k < fs->old_rsv; k++) {
		uint64_t pblk = fs->fdb + 1ull + fs->old_desc + k;
		uint32_t last = 0;

		if (le32_get(fs->res_dind + 4 * ((fs->old_desc + k) % apb)) != pblk)
			return corrupt(d, "reserved GDT block map");
		r = ext4g_read(fs, pblk, ind, fs->bs, d);
		if (r < 0)
			return diag_prepend(d, r, "reading reserved GDT block %" PRIu32, k);
		for (uint32_t i = 0; i < n_old; i++, last++) {
			if (le32_get(ind + 4 * last) != pblk + (uint64_t)fs->backups[i] * fs->bpg)
				return corrupt(d, "backup list");
		}
	}
	return 0;
}

/* The reserved GDT blocks that stay list every backup group of the new geometry. */
int ext4g_resize_inode_write_lists(struct ext4g *fs, struct diag *d)
{
	_cleanup_free_ uint8_t *ind = xmalloc(fs->bs);

	if (fs->new_groups == fs->old_groups)
		return 0;
	for (uint32_t k = 0; k < fs->new_rsv; k++) {
		uint64_t pblk = fs->fdb + 1ull + fs->new_desc + k;
		int r;

		memset(ind, 0, fs->bs);
		for (uint32_t i = 0; i < fs->n_backups; i++)
			le32_put(ind + 4 * i, (uint32_t)(pblk + (uint64_t)fs->backups[i] * fs->bpg));
		r = ext4g_write(fs, pblk, ind, fs->bs, d);
		if (r < 0)
			return diag_prepend(d, r, "writing reserved GDT block %" PRIu32, k);
	}
	return 0;
}

/* Drop the blocks now in the GDT from the double-indirect block, recount i_blocks. */
int ext4g_resize_inode_write_inode(struct ext4g *fs, struct diag *d)
{
	uint32_t apb = fs->bs / 4;
	uint64_t blocks = 1 + (uint64_t)fs->new_rsv * (1 + fs->n_backups);
	uint64_t sectors = blocks * (fs->bs / 512);
	uint8_t *in = fs->res_inode;
	int r;

	if (fs->new_desc != fs->old_desc) {
		for (uint32_t k = 0; k < fs->new_desc - fs->old_desc; k++)
			le32_put(fs->res_dind + 4 * ((fs->old_desc + k) % apb), 0);
		r = ext4g_write(fs, fs->res_dind_blk, fs->res_dind, fs->bs, d);
		if (r < 0)
			return diag_prepend(d, r, "writing the resize inode");
	}
	le32_put(in + I_BLOCKS_LO, (uint32_t)sectors);
	le16_put(in + I_BLOCKS_HI, (uint16_t)(sectors >> 32));
	if (fs->csum)
		inode_csum(fs, in);
	r = fs->io->write(fs->io->ctx, fs->res_off, in, fs->inode_size, d);
	return r < 0 ? diag_prepend(d, r, "writing the resize inode") : 0;
}
