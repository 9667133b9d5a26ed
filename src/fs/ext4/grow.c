/* Growing an ext4 filesystem offline (mkdiskimage resize), as resize2fs does when nothing has
 * to move: read and check the superblock and the group descriptors, fix the new geometry
 * (the last group completed, new groups, GDT blocks taken from the reserved ones), then write
 * new metadata first, the group descriptors next (backups, then the primary) and the
 * superblocks last (backups, then the primary). docs/formats/ext4.md, "Growing". */
#include "fs/ext4/ext4.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "fs/ext4/ext4-internal.h"
#include "fs/ext4/grow-internal.h"
#include "util/cleanup.h"
#include "util/crc.h"
#include "util/diag.h"
#include "util/endian.h"
#include "util/xalloc.h"

/* Superblock fields (ext4 disk layout, "The Super Block"). */
enum {
	SB_INODES_COUNT = 0x00,
	SB_BLOCKS_COUNT = 0x04,
	SB_R_BLOCKS_COUNT = 0x08,
	SB_FREE_BLOCKS_COUNT = 0x0c,
	SB_FREE_INODES_COUNT = 0x10,
	SB_FIRST_DATA_BLOCK = 0x14,
	SB_LOG_BLOCK_SIZE = 0x18,
	SB_LOG_CLUSTER_SIZE = 0x1c,
	SB_BLOCKS_PER_GROUP = 0x20,
	SB_CLUSTERS_PER_GROUP = 0x24,
	SB_INODES_PER_GROUP = 0x28,
	SB_MAGIC = 0x38,
	SB_STATE = 0x3a,
	SB_REV_LEVEL = 0x4c,
	SB_INODE_SIZE = 0x58,
	SB_BLOCK_GROUP_NR = 0x5a,
	SB_FEATURE_COMPAT = 0x5c,
	SB_FEATURE_INCOMPAT = 0x60,
	SB_FEATURE_RO_COMPAT = 0x64,
	SB_UUID = 0x68,
	SB_RESERVED_GDT_BLOCKS = 0xce,
	SB_LAST_ORPHAN = 0xe8,
	SB_DESC_SIZE = 0xfe,
	SB_BLOCKS_COUNT_HI = 0x150,
	SB_R_BLOCKS_COUNT_HI = 0x154,
	SB_FREE_BLOCKS_COUNT_HI = 0x158,
	SB_LOG_GROUPS_PER_FLEX = 0x174,
	SB_CHECKSUM_TYPE = 0x175,
	SB_OVERHEAD_CLUSTERS = 0x248,
	SB_CHECKSUM_SEED = 0x270,
	SB_CHECKSUM = 0x3fc,
};

#define SB_MAGIC_VALUE 0xef53
#define STATE_VALID 0x1
#define STATE_ERROR 0x2
#define MAX_BLOCKS 0xffffffffull /* the resize inode holds 32-bit block numbers */
#define MAX_GDT_BYTES (64u << 20) /* bounded memory on hostile input: 2^20 64-byte groups */

enum { COMPAT, INCOMPAT, RO_COMPAT };

struct feature {
	int kind;
	uint32_t mask;
	const char *name;
	const char *why; /* NULL: handled */
};

/* Every feature e2fsprogs 1.47 knows, and whether growing handles it. */
static const struct feature features[] = {
	{ COMPAT, 0x0001, "dir_prealloc", NULL },
	{ COMPAT, 0x0002, "imagic_inodes", NULL },
	{ COMPAT, 0x0004, "has_journal", NULL },
	{ COMPAT, 0x0008, "ext_attr", NULL },
	{ COMPAT, 0x0010, "resize_inode", NULL },
	{ COMPAT, 0x0020, "dir_index", NULL },
	{ COMPAT, 0x0040, "lazy_bg", "is not supported" },
	{ COMPAT, 0x0080, "snapshot_exclude", "is not supported" },
	{ COMPAT, 0x0100, "exclude_bitmap", "is not supported" },
	{ COMPAT, 0x0200, "sparse_super2", "is not supported (use resize2fs)" },
	{ COMPAT, 0x0400, "fast_commit", NULL },
	{ COMPAT, 0x0800, "stable_inodes", NULL },
	{ COMPAT, 0x1000, "orphan_file", NULL },
	{ INCOMPAT, 0x0001, "compression", "is not supported" },
	{ INCOMPAT, 0x0002, "filetype", NULL },
	{ INCOMPAT, 0x0004, "needs_recovery", "is set: run e2fsck first" },
	{ INCOMPAT, 0x0008, "journal_dev", "is not supported (an external journal device)" },
	{ INCOMPAT, 0x0010, "meta_bg", "is not supported (use resize2fs)" },
	{ INCOMPAT, 0x0040, "extent", NULL },
	{ INCOMPAT, 0x0080, "64bit", NULL },
	{ INCOMPAT, 0x0100, "mmp", "is not supported" },
	{ INCOMPAT, 0x0200, "flex_bg", NULL },
	{ INCOMPAT, 0x0400, "ea_inode", NULL },
	{ INCOMPAT, 0x1000, "dirdata", NULL },
	{ INCOMPAT, 0x2000, "metadata_csum_seed", NULL },
	{ INCOMPAT, 0x4000, "large_dir", NULL },
	{ INCOMPAT, 0x8000, "inline_data", NULL },
	{ INCOMPAT, 0x10000, "encrypt", NULL },
	{ INCOMPAT, 0x20000, "casefold", NULL },
	{ RO_COMPAT, 0x0001, "sparse_super", NULL },
	{ RO_COMPAT, 0x0002, "large_file", NULL },
	{ RO_COMPAT, 0x0004, "btree_dir", NULL },
	{ RO_COMPAT, 0x0008, "huge_file", NULL },
	{ RO_COMPAT, 0x0010, "uninit_bg", NULL },
	{ RO_COMPAT, 0x0020, "dir_nlink", NULL },
	{ RO_COMPAT, 0x0040, "extra_isize", NULL },
	{ RO_COMPAT, 0x0080, "snapshot", "is not supported" },
	{ RO_COMPAT, 0x0100, "quota", NULL },
	{ RO_COMPAT, 0x0200, "bigalloc", "is not supported (use resize2fs)" },
	{ RO_COMPAT, 0x0400, "metadata_csum", NULL },
	{ RO_COMPAT, 0x0800, "replica", "is not supported" },
	{ RO_COMPAT, 0x1000, "read-only", "is set: the filesystem is marked read-only" },
	{ RO_COMPAT, 0x2000, "project", NULL },
	{ RO_COMPAT, 0x4000, "shared_blocks", "is not supported (shared blocks)" },
	{ RO_COMPAT, 0x8000, "verity", NULL },
	{ RO_COMPAT, 0x10000, "orphan_present", "is set: run e2fsck first" },
};

static const char *const kind_names[] = { "compat", "incompat", "ro_compat" };

/* ---- geometry helpers ------------------------------------------------------------------ */

static bool is_power_of(uint32_t n, uint32_t base)
{
	while (n > 1 && n % base == 0)
		n /= base;
	return n == 1;
}

bool ext4g_has_super(const struct ext4g *fs, uint32_t g)
{
	if (g <= 1 || !fs->sparse)
		return true;
	if (!(g & 1))
		return false;
	return is_power_of(g, 3) || is_power_of(g, 5) || is_power_of(g, 7);
}

uint64_t ext4g_group_first(const struct ext4g *fs, uint32_t g)
{
	return fs->fdb + (uint64_t)g * fs->bpg;
}

uint32_t ext4g_group_len(const struct ext4g *fs, uint32_t g, uint64_t n_blocks)
{
	uint64_t first = ext4g_group_first(fs, g);

	return (uint32_t)MIN((uint64_t)fs->bpg, n_blocks - first);
}

uint32_t ext4g_backup_len(const struct ext4g *fs, uint32_t g)
{
	return ext4g_has_super(fs, g) ? 1 + fs->new_desc + fs->new_rsv : 0;
}

uint8_t *ext4g_desc(const struct ext4g *fs, uint32_t g)
{
	return fs->gdt + (size_t)g * fs->desc_size;
}

uint64_t ext4g_desc_get(const struct ext4g *fs, const uint8_t *p, unsigned lo, unsigned hi,
			unsigned width)
{
	bool big = fs->desc_size >= 64;

	if (width == 4)
		return le32_get(p + lo) | (big ? (uint64_t)le32_get(p + hi) << 32 : 0);
	return le16_get(p + lo) | (big ? (uint64_t)le16_get(p + hi) << 16 : 0);
}

void ext4g_desc_put(const struct ext4g *fs, uint8_t *p, unsigned lo, unsigned hi,
		    unsigned width, uint64_t v)
{
	bool big = fs->desc_size >= 64;

	if (width == 4) {
		le32_put(p + lo, (uint32_t)v);
		if (big)
			le32_put(p + hi, (uint32_t)(v >> 32));
	} else {
		le16_put(p + lo, (uint16_t)v);
		if (big)
			le16_put(p + hi, (uint16_t)(v >> 16));
	}
}

/* CRC-16 (poly 0x8005 reflected), e2fsprogs' ext2fs_crc16 for uninit_bg descriptors. */
static uint16_t crc16(uint16_t crc, const uint8_t *p, size_t len)
{
	while (len--) {
		crc ^= *p++;
		for (int k = 0; k < 8; k++)
			crc = (crc & 1) ? (uint16_t)((crc >> 1) ^ 0xa001) : (uint16_t)(crc >> 1);
	}
	return crc;
}

uint16_t ext4g_desc_csum(const struct ext4g *fs, uint32_t g, const uint8_t *desc)
{
	uint8_t b[4];
	uint16_t c;

	if (fs->csum)
		return ext4_group_desc_csum(fs->csum_seed, g, desc, fs->desc_size);
	if (!fs->gdt_csum)
		return 0;
	le32_put(b, g);
	c = crc16(0xffff, fs->sb + SB_UUID, 16);
	c = crc16(c, b, 4);
	c = crc16(c, desc, EXT4G_BG_CHECKSUM);
	return crc16(c, desc + EXT4G_BG_CHECKSUM + 2, fs->desc_size - EXT4G_BG_CHECKSUM - 2);
}

int ext4g_read(struct ext4g *fs, uint64_t blk, void *buf, size_t len, struct diag *d)
{
	return fs->io->read(fs->io->ctx, blk * fs->bs, buf, len, d);
}

int ext4g_write(struct ext4g *fs, uint64_t blk, const void *buf, size_t len, struct diag *d)
{
	return fs->io->write(fs->io->ctx, blk * fs->bs, buf, len, d);
}

/* ---- the old filesystem ---------------------------------------------------------------- */

static int check_features(const uint8_t *sb, struct diag *d)
{
	uint32_t have[3] = { le32_get(sb + SB_FEATURE_COMPAT), le32_get(sb + SB_FEATURE_INCOMPAT),
			     le32_get(sb + SB_FEATURE_RO_COMPAT) };

	for (size_t i = 0; i < ARRAY_SIZE(features); i++) {
		const struct feature *f = &features[i];

		if (have[f->kind] & f->mask && f->why)
			return diag_fail(d, -EOPNOTSUPP, "cannot grow ext4: feature %s %s", f->name,
					 f->why);
		have[f->kind] &= ~f->mask;
	}
	for (int k = 0; k < 3; k++)
		if (have[k])
			return diag_fail(d, -EOPNOTSUPP,
					 "cannot grow ext4: unknown %s feature 0x%" PRIx32,
					 kind_names[k], have[k] & -have[k]);
	return 0;
}

static int bad_super(struct diag *d, const char *what)
{
	return diag_fail(d, -EUCLEAN, "cannot grow ext4: corrupt superblock (%s)", what);
}

static int parse_super(struct ext4g *fs, struct diag *d)
{
	const uint8_t *sb = fs->sb;
	uint32_t log_bs = le32_get(sb + SB_LOG_BLOCK_SIZE), compat, incompat, ro, state, log_flex;
	uint64_t n_groups;
	int r;

	if (le16_get(sb + SB_MAGIC) != SB_MAGIC_VALUE)
		return diag_fail(d, -EINVAL, "cannot grow ext4: no ext4 superblock (bad magic)");
	if (le32_get(sb + SB_REV_LEVEL) < 1)
		return diag_fail(d, -EOPNOTSUPP, "cannot grow ext4: revision 0 filesystem");
	r = check_features(sb, d);
	if (r < 0)
		return r;
	compat = le32_get(sb + SB_FEATURE_COMPAT);
	incompat = le32_get(sb + SB_FEATURE_INCOMPAT);
	ro = le32_get(sb + SB_FEATURE_RO_COMPAT);
	fs->csum = ro & 0x400;
	if (fs->csum) {
		if (sb[SB_CHECKSUM_TYPE] != 1)
			return bad_super(d, "checksum type");
		if (le32_get(sb + SB_CHECKSUM) != crc32c_le(~0u, sb, SB_CHECKSUM))
			return diag_fail(d, -EUCLEAN, "cannot grow ext4: superblock checksum "
						      "mismatch: run e2fsck first");
		fs->csum_seed = (incompat & 0x2000) ? le32_get(sb + SB_CHECKSUM_SEED) :
						      ext4_csum_seed(sb + SB_UUID);
	}
	state = le16_get(sb + SB_STATE);
	if (!(state & STATE_VALID) || (state & STATE_ERROR) || le32_get(sb + SB_LAST_ORPHAN))
		return diag_fail(d, -EUCLEAN,
				 "cannot grow ext4: the filesystem was not cleanly unmounted or has "
				 "errors: run e2fsck first");
	if (log_bs > 6)
		return bad_super(d, "block size");
	fs->bs = 1024u << log_bs;
	if (le32_get(sb + SB_LOG_CLUSTER_SIZE) != log_bs)
		return bad_super(d, "cluster size differs from block size without bigalloc");
	fs->fdb = le32_get(sb + SB_FIRST_DATA_BLOCK);
	if (fs->fdb != (fs->bs == 1024 ? 1u : 0u))
		return bad_super(d, "first data block");
	fs->bpg = le32_get(sb + SB_BLOCKS_PER_GROUP);
	if (fs->bpg < 256 || fs->bpg > 8 * fs->bs || fs->bpg % 8 ||
	    le32_get(sb + SB_CLUSTERS_PER_GROUP) != fs->bpg)
		return bad_super(d, "blocks per group");
	fs->inode_size = le16_get(sb + SB_INODE_SIZE);
	if (fs->inode_size < 128 || fs->inode_size > fs->bs ||
	    (fs->inode_size & (fs->inode_size - 1)))
		return bad_super(d, "inode size");
	fs->ipg = le32_get(sb + SB_INODES_PER_GROUP);
	if (fs->ipg < 8 || fs->ipg > 8 * fs->bs || fs->ipg % 8)
		return bad_super(d, "inodes per group");
	fs->itb = (uint32_t)DIV_ROUND_UP((uint64_t)fs->ipg * fs->inode_size, fs->bs);
	if (incompat & 0x80) {
		fs->desc_size = le16_get(sb + SB_DESC_SIZE);
		if (fs->desc_size < 64 || fs->desc_size > 1024 ||
		    (fs->desc_size & (fs->desc_size - 1)))
			return bad_super(d, "descriptor size");
	} else {
		fs->desc_size = 32;
	}
	fs->dpb = fs->bs / fs->desc_size;
	log_flex = sb[SB_LOG_GROUPS_PER_FLEX];
	fs->flex = 1;
	if (incompat & 0x200) {
		if (log_flex > 31)
			return bad_super(d, "groups per flex group");
		fs->flex = 1u << log_flex;
	}
	fs->sparse = ro & 0x1;
	fs->gdt_csum = ro & 0x10;
	fs->resize_inode = compat & 0x10;

	fs->old_blocks = le32_get(sb + SB_BLOCKS_COUNT);
	if (incompat & 0x80)
		fs->old_blocks |= (uint64_t)le32_get(sb + SB_BLOCKS_COUNT_HI) << 32;
	if (fs->old_blocks <= fs->fdb || fs->old_blocks > MAX_BLOCKS)
		return fs->old_blocks > MAX_BLOCKS ?
			       diag_fail(d, -EOPNOTSUPP, "cannot grow ext4: filesystems over "
							 "2^32 blocks are not supported") :
			       bad_super(d, "block count");
	n_groups = DIV_ROUND_UP(fs->old_blocks - fs->fdb, fs->bpg);
	if (n_groups * fs->ipg != le32_get(sb + SB_INODES_COUNT))
		return bad_super(d, "inode count");
	fs->old_groups = (uint32_t)n_groups;
	fs->old_desc = (uint32_t)DIV_ROUND_UP(n_groups, fs->dpb);
	if ((uint64_t)fs->old_desc * fs->bs > MAX_GDT_BYTES)
		return diag_fail(d, -EOPNOTSUPP, "cannot grow ext4: %" PRIu32 " block groups are "
						 "too many", fs->old_groups);
	fs->old_rsv = le16_get(sb + SB_RESERVED_GDT_BLOCKS);
	if (fs->old_rsv && !fs->resize_inode)
		return bad_super(d, "reserved GDT blocks without resize_inode");
	if (fs->old_rsv > fs->bs / 4)
		return bad_super(d, "reserved GDT blocks");
	/* Every group has room for its backup and its own tables (mke2fs guarantees it). */
	if (1ull + fs->old_desc + fs->old_rsv + 2 + fs->itb > fs->bpg ||
	    fs->old_blocks < fs->fdb + 1ull + fs->old_desc + fs->old_rsv)
		return bad_super(d, "group descriptors do not fit in a group");
	fs->new_desc = fs->old_desc;
	fs->new_rsv = fs->old_rsv;
	return 0;
}

/* Read the GDT and check every descriptor: checksum, table locations, counts. */
static int read_gdt(struct ext4g *fs, uint64_t *ret_free_blocks, uint64_t *ret_free_inodes,
		    struct diag *d)
{
	uint64_t free_blocks = 0, free_inodes = 0;
	int r;

	r = ext4g_read(fs, fs->fdb + 1, fs->gdt, (size_t)fs->old_desc * fs->bs, d);
	if (r < 0)
		return diag_prepend(d, r, "reading the ext4 group descriptors");
	for (uint32_t g = 0; g < fs->old_groups; g++) {
		const uint8_t *p = ext4g_desc(fs, g);
		uint64_t bb = EXT4G_GET32(fs, p, BLOCK_BITMAP), ib = EXT4G_GET32(fs, p, INODE_BITMAP);
		uint64_t it = EXT4G_GET32(fs, p, INODE_TABLE);
		uint64_t fb = EXT4G_GET16(fs, p, FREE_BLOCKS), fi = EXT4G_GET16(fs, p, FREE_INODES);

		if ((fs->csum || fs->gdt_csum) &&
		    le16_get(p + EXT4G_BG_CHECKSUM) != ext4g_desc_csum(fs, g, p))
			return diag_fail(d, -EUCLEAN, "cannot grow ext4: group descriptor %" PRIu32
						      " checksum mismatch: run e2fsck first", g);
		if (bb < fs->fdb || bb >= fs->old_blocks || ib < fs->fdb || ib >= fs->old_blocks ||
		    it < fs->fdb || it >= fs->old_blocks || fs->old_blocks - it < fs->itb ||
		    fb > ext4g_group_len(fs, g, fs->old_blocks) || fi > fs->ipg)
			return diag_fail(d, -EUCLEAN, "cannot grow ext4: group descriptor %" PRIu32
						      " is corrupt: run e2fsck first", g);
		free_blocks += fb;
		free_inodes += fi;
	}
	*ret_free_blocks = free_blocks;
	*ret_free_inodes = free_inodes;
	return 0;
}

/* ---- the new geometry ------------------------------------------------------------------ */

static uint32_t groups_for(const struct ext4g *fs, uint64_t n_blocks)
{
	return (uint32_t)DIV_ROUND_UP(n_blocks - fs->fdb, fs->bpg);
}

/* resize2fs's adjust_fs_info(): a last group too small for its metadata plus 50 blocks is
 * dropped (unless that would shrink the filesystem). */
static uint64_t fit_blocks(const struct ext4g *fs, uint64_t n)
{
	for (;;) {
		uint32_t groups = groups_for(fs, n);
		uint64_t desc = DIV_ROUND_UP(groups, fs->dpb), rem = (n - fs->fdb) % fs->bpg;
		uint64_t overhead = 2 + fs->itb;

		if (ext4g_has_super(fs, groups - 1))
			overhead += 1 + MAX(desc, (uint64_t)fs->old_desc + fs->old_rsv);
		if (groups > 1 && rem && rem < overhead + 50 && n - rem >= fs->old_blocks) {
			n -= rem;
			continue;
		}
		return n;
	}
}

/* The most groups the reserved GDT blocks, the inode count and 2^32 blocks allow. */
static uint64_t max_blocks(const struct ext4g *fs, const char **ret_why)
{
	uint64_t groups = (uint64_t)(fs->old_desc + fs->old_rsv) * fs->dpb;
	uint64_t n;

	*ret_why = fs->resize_inode ? "the reserved GDT blocks are used up" :
				      "no reserved GDT blocks (no resize_inode)";
	if (groups > UINT32_MAX / fs->ipg) {
		groups = UINT32_MAX / fs->ipg;
		*ret_why = "the inode count would pass 2^32";
	}
	if (groups > MAX_GDT_BYTES / fs->desc_size) {
		groups = MAX_GDT_BYTES / fs->desc_size;
		*ret_why = "too many block groups";
	}
	n = fs->fdb + groups * fs->bpg;
	if (n > MAX_BLOCKS) {
		n = MAX_BLOCKS;
		*ret_why = "the resize inode addresses at most 2^32 blocks";
	}
	return fit_blocks(fs, n);
}

static int set_geometry(struct ext4g *fs, uint64_t new_bytes, struct diag *d)
{
	uint64_t want = new_bytes / fs->bs, limit;
	const char *why;

	if (want < fs->old_blocks)
		return diag_fail(d, -EINVAL,
				 "cannot shrink ext4: %" PRIu64 " bytes is less than its size, %" PRIu64
				 " bytes", new_bytes, fs->old_blocks * fs->bs);
	limit = max_blocks(fs, &why);
	if (want > limit)
		return diag_fail(d, -ENOSPC,
				 "cannot grow ext4 to %" PRIu64 " bytes: %s; the largest size "
				 "reachable is %" PRIu64 " bytes (%" PRIu64 " MiB)",
				 new_bytes, why, limit * fs->bs, limit * fs->bs >> 20);
	fs->new_blocks = fit_blocks(fs, want);
	fs->new_groups = groups_for(fs, fs->new_blocks);
	fs->new_desc = (uint32_t)DIV_ROUND_UP(fs->new_groups, fs->dpb);
	fs->new_rsv = fs->old_desc + fs->old_rsv - fs->new_desc; /* >= 0 by max_blocks */
	if (!fs->resize_inode)
		fs->new_rsv = 0;
	return 0;
}

/* ---- writing --------------------------------------------------------------------------- */

static int write_gdts(struct ext4g *fs, struct diag *d)
{
	size_t len = (size_t)fs->new_desc * fs->bs;
	int r;

	/* Backups in ascending group order, then the primary. */
	for (uint32_t g = 1; g < fs->new_groups; g++) {
		if (!ext4g_has_super(fs, g))
			continue;
		r = ext4g_write(fs, ext4g_group_first(fs, g) + 1, fs->gdt, len, d);
		if (r < 0)
			return diag_prepend(d, r, "writing the GDT backup in group %" PRIu32, g);
	}
	r = ext4g_write(fs, fs->fdb + 1, fs->gdt, len, d);
	return r < 0 ? diag_prepend(d, r, "writing the ext4 group descriptors") : 0;
}

static void super_update(struct ext4g *fs, uint64_t free_blocks, uint64_t free_inodes)
{
	uint8_t *sb = fs->sb;
	bool is64 = le32_get(sb + SB_FEATURE_INCOMPAT) & 0x80;
	uint64_t r_blocks = le32_get(sb + SB_R_BLOCKS_COUNT);

	if (is64)
		r_blocks |= (uint64_t)le32_get(sb + SB_R_BLOCKS_COUNT_HI) << 32;
	/* resize2fs keeps the reserved percentage; both counts are below 2^32 */
	r_blocks = MIN(r_blocks, fs->old_blocks) * fs->new_blocks / fs->old_blocks;
	le32_put(sb + SB_BLOCKS_COUNT, (uint32_t)fs->new_blocks);
	le32_put(sb + SB_R_BLOCKS_COUNT, (uint32_t)r_blocks);
	le32_put(sb + SB_FREE_BLOCKS_COUNT, (uint32_t)free_blocks);
	if (is64) {
		le32_put(sb + SB_BLOCKS_COUNT_HI, (uint32_t)(fs->new_blocks >> 32));
		le32_put(sb + SB_R_BLOCKS_COUNT_HI, (uint32_t)(r_blocks >> 32));
		le32_put(sb + SB_FREE_BLOCKS_COUNT_HI, (uint32_t)(free_blocks >> 32));
	}
	le32_put(sb + SB_INODES_COUNT, fs->new_groups * fs->ipg);
	le32_put(sb + SB_FREE_INODES_COUNT, (uint32_t)free_inodes);
	le16_put(sb + SB_RESERVED_GDT_BLOCKS, (uint16_t)fs->new_rsv);
	/* the kernel recomputes a zero overhead; a stale one would be wrong */
	le32_put(sb + SB_OVERHEAD_CLUSTERS, 0);
}

static int write_supers(struct ext4g *fs, struct diag *d)
{
	uint8_t *blk = xcalloc(1, fs->bs);
	int r = 0;

	/* Backups (a superblock at the start of its group's first block), then the primary. */
	for (uint32_t g = 1; g < fs->new_groups && r >= 0; g++) {
		if (!ext4g_has_super(fs, g))
			continue;
		memcpy(blk, fs->sb, 1024);
		le16_put(blk + SB_BLOCK_GROUP_NR, (uint16_t)g);
		if (fs->csum)
			ext4_super_csum_set(blk);
		r = fs->io->write(fs->io->ctx, ext4g_group_first(fs, g) * fs->bs, blk, 1024, d);
		if (r < 0)
			r = diag_prepend(d, r, "writing the superblock backup in group %" PRIu32, g);
	}
	free(blk);
	if (r < 0)
		return r;
	le16_put(fs->sb + SB_BLOCK_GROUP_NR, 0);
	if (fs->csum)
		ext4_super_csum_set(fs->sb);
	r = fs->io->write(fs->io->ctx, 1024, fs->sb, 1024, d);
	return r < 0 ? diag_prepend(d, r, "writing the ext4 superblock") : 0;
}

static void ext4g_free(struct ext4g *fs)
{
	free(fs->gdt);
	free(fs->bb);
	free(fs->ib);
	free(fs->it);
	free(fs->last_bb);
	free(fs->res_inode);
	free(fs->res_dind);
	free(fs->backups);
}

int ext4_grow(const struct fs_io *io, uint64_t new_bytes, struct ext4_grow_info *ret,
	      struct diag *d)
{
	struct ext4g fs = { .io = io };
	uint64_t free_blocks, free_inodes;
	int r;

	r = io->read(io->ctx, 1024, fs.sb, sizeof(fs.sb), d);
	if (r < 0)
		return diag_prepend(d, r, "reading the ext4 superblock");
	r = parse_super(&fs, d);
	if (r < 0)
		return r;
	r = set_geometry(&fs, new_bytes, d);
	if (r < 0)
		return r;
	if (ret)
		*ret = (struct ext4_grow_info){ .old_blocks = fs.old_blocks,
						.new_blocks = fs.old_blocks,
						.old_groups = fs.old_groups,
						.new_groups = fs.old_groups,
						.block_size = fs.bs };
	fs.gdt = xcalloc(fs.new_desc, fs.bs);
	r = read_gdt(&fs, &free_blocks, &free_inodes, d);
	if (r < 0 || fs.new_blocks == fs.old_blocks)
		goto out;
	if (fs.resize_inode) {
		r = ext4g_resize_inode_check(&fs, d);
		if (r < 0)
			goto out;
	}
	r = ext4g_extend_last_group(&fs, d);
	if (r < 0)
		goto out;
	r = ext4g_layout_new_groups(&fs, d);
	if (r < 0)
		goto out;
	/* The free counts are those of the descriptors (what e2fsck counts). */
	free_blocks = free_inodes = 0;
	for (uint32_t g = 0; g < fs.new_groups; g++) {
		free_blocks += EXT4G_GET16(&fs, ext4g_desc(&fs, g), FREE_BLOCKS);
		free_inodes += EXT4G_GET16(&fs, ext4g_desc(&fs, g), FREE_INODES);
	}
	super_update(&fs, free_blocks, free_inodes);

	r = ext4g_write_new_bitmaps(&fs, d);
	if (r >= 0 && fs.resize_inode)
		r = ext4g_resize_inode_write_lists(&fs, d);
	if (r >= 0)
		r = write_gdts(&fs, d);
	if (r >= 0 && fs.resize_inode)
		r = ext4g_resize_inode_write_inode(&fs, d);
	if (r >= 0)
		r = write_supers(&fs, d);
	if (r >= 0 && ret) {
		ret->new_blocks = fs.new_blocks;
		ret->new_groups = fs.new_groups;
	}
out:
	ext4g_free(&fs);
	return r < 0 ? r : 0;
}
