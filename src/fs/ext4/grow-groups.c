/* Growing ext4: the old last group completed and the new groups' tables. The new groups'
 * block bitmaps, inode bitmaps and inode tables go inside the new groups: with flex_bg packed
 * at the start of each flex group's new part (all block bitmaps, then all inode bitmaps, then
 * the inode tables, as mke2fs packs a flex group), else each in its own group, after its
 * superblock backup. The new region reads as zeros, so inode tables are not written; with
 * checksums the new groups are INODE_UNINIT (and BLOCK_UNINIT when they hold no tables), so
 * only the bitmaps of groups holding tables (and the last group's) are written.
 * docs/formats/ext4.md, "Growing". */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "fs/ext4/ext4-internal.h"
#include "fs/ext4/grow-internal.h"
#include "util/cleanup.h"
#include "util/diag.h"
#include "util/endian.h"
#include "util/xalloc.h"

static void set_bits(uint8_t *bits, uint64_t from, uint64_t to)
{
	for (uint64_t b = from; b < to; b++)
		bits[b >> 3] |= (uint8_t)(1u << (b & 7));
}

static uint32_t count_bits(const uint8_t *bits, uint32_t n)
{
	uint32_t c = 0;

	for (uint32_t b = 0; b < n; b++)
		c += (bits[b >> 3] >> (b & 7)) & 1;
	return c;
}

static uint32_t group_of(const struct ext4g *fs, uint64_t blk)
{
	return (uint32_t)((blk - fs->fdb) / fs->bpg);
}

/* Mark [s, s + len) clipped to group h's blocks. */
static void mark_range(const struct ext4g *fs, uint32_t h, uint64_t s, uint64_t len,
		       uint8_t *bits)
{
	uint64_t first = ext4g_group_first(fs, h), end = first + fs->bpg;
	uint64_t a = MAX(s, first), b = MIN(s + len, end);

	if (a < b)
		set_bits(bits, a - first, b - first);
}

/* ---- the old last group ---------------------------------------------------------------- */

int ext4g_extend_last_group(struct ext4g *fs, struct diag *d)
{
	uint32_t l = fs->old_groups - 1;
	uint32_t old_len = ext4g_group_len(fs, l, fs->old_blocks);
	uint32_t new_len = ext4g_group_len(fs, l, fs->new_blocks);
	uint8_t *p = ext4g_desc(fs, l);
	uint16_t flags = le16_get(p + EXT4G_BG_FLAGS);
	uint64_t bb = EXT4G_GET32(fs, p, BLOCK_BITMAP);
	uint8_t *bits;
	int r;

	if (old_len == new_len)
		return 0;
	bits = fs->last_bb = xcalloc(1, fs->bs);
	if ((fs->csum || fs->gdt_csum) && (flags & EXT4G_BG_BLOCK_UNINIT)) {
		/* As libext2fs reads an uninitialized bitmap: the backup, every group's tables. */
		if (ext4g_has_super(fs, l))
			set_bits(bits, 0, 1ull + fs->old_desc + fs->old_rsv);
		for (uint32_t g = 0; g < fs->old_groups; g++) {
			const uint8_t *q = ext4g_desc(fs, g);

			mark_range(fs, l, EXT4G_GET32(fs, q, BLOCK_BITMAP), 1, bits);
			mark_range(fs, l, EXT4G_GET32(fs, q, INODE_BITMAP), 1, bits);
			mark_range(fs, l, EXT4G_GET32(fs, q, INODE_TABLE), fs->itb, bits);
		}
		set_bits(bits, new_len, 8ull * fs->bs);
		le16_put(p + EXT4G_BG_FLAGS, flags & ~EXT4G_BG_BLOCK_UNINIT);
		EXT4G_PUT16(fs, p, FREE_BLOCKS, new_len - count_bits(bits, new_len));
	} else {
		r = ext4g_read(fs, bb, bits, fs->bs, d);
		if (r < 0)
			return diag_prepend(d, r, "reading the block bitmap of group %" PRIu32, l);
		if (count_bits(bits, 8 * fs->bs) - count_bits(bits, old_len) !=
		    8 * fs->bs - old_len)
			return diag_fail(d, -EUCLEAN, "cannot grow ext4: the padding of group %" PRIu32
						      "'s block bitmap is not set: run e2fsck first",
					 l);
		for (uint32_t b = old_len; b < new_len; b++)
			bits[b >> 3] &= (uint8_t)~(1u << (b & 7));
		EXT4G_PUT16(fs, p, FREE_BLOCKS,
			    EXT4G_GET16(fs, p, FREE_BLOCKS) + (new_len - old_len));
	}
	if (fs->csum)
		EXT4G_PUT16(fs, p, BLOCK_BITMAP_CSUM,
			    ext4_bitmap_csum(fs->csum_seed, bits, fs->bpg / 8));
	le16_put(p + EXT4G_BG_CHECKSUM, ext4g_desc_csum(fs, l, p));
	return 0;
}

/* ---- placement ------------------------------------------------------------------------- */

/* First b >= *cur with [b, b + len) below end and clear of every backup area; *cur moves past
 * it. */
static int alloc_run(const struct ext4g *fs, uint64_t *cur, uint64_t end, uint32_t len,
		     uint64_t *ret)
{
	uint64_t b = *cur;

	for (;;) {
		uint32_t g = group_of(fs, b), h;
		uint64_t first = ext4g_group_first(fs, g);
		bool moved = false;

		if (b + len > end)
			return -ENOSPC;
		if (b < first + ext4g_backup_len(fs, g)) {
			b = first + ext4g_backup_len(fs, g);
			continue;
		}
		for (h = g + 1; ext4g_group_first(fs, h) < b + len; h++) {
			if (ext4g_backup_len(fs, h)) {
				b = ext4g_group_first(fs, h) + ext4g_backup_len(fs, h);
				moved = true;
				break;
			}
		}
		if (!moved) {
			*ret = b;
			*cur = b + len;
			return 0;
		}
	}
}

/* Groups a..b (new, one flex group): all block bitmaps, all inode bitmaps, all inode tables
 * from the first free block of group a on; or, when they do not fit, each group's own. */
static int place_chunk(struct ext4g *fs, uint32_t a, uint32_t b)
{
	uint32_t o = fs->old_groups;
	uint64_t end = ext4g_group_first(fs, b) + ext4g_group_len(fs, b, fs->new_blocks);
	uint64_t cur = ext4g_group_first(fs, a);
	int r = 0;

	for (uint32_t g = a; g <= b && r >= 0; g++)
		r = alloc_run(fs, &cur, end, 1, &fs->bb[g - o]);
	for (uint32_t g = a; g <= b && r >= 0; g++)
		r = alloc_run(fs, &cur, end, 1, &fs->ib[g - o]);
	for (uint32_t g = a; g <= b && r >= 0; g++)
		r = alloc_run(fs, &cur, end, fs->itb, &fs->it[g - o]);
	if (r >= 0 || a == b)
		return r;
	for (uint32_t g = a; g <= b && r >= 0; g++) {
		cur = ext4g_group_first(fs, g);
		end = cur + ext4g_group_len(fs, g, fs->new_blocks);
		r = alloc_run(fs, &cur, end, 1, &fs->bb[g - o]);
		if (r >= 0)
			r = alloc_run(fs, &cur, end, 1, &fs->ib[g - o]);
		if (r >= 0)
			r = alloc_run(fs, &cur, end, fs->itb, &fs->it[g - o]);
	}
	return r;
}

/* First index i of the n sorted starts a[] with a[i] + w > v (binary search). */
static uint32_t lower(const uint64_t *a, uint32_t n, uint64_t w, uint64_t v)
{
	uint32_t lo = 0, hi = n;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (a[mid] + w <= v)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static void mark_tables(const struct ext4g *fs, uint32_t h, const uint64_t *a, uint64_t w,
			uint8_t *bits)
{
	uint32_t n = fs->new_groups - fs->old_groups;
	uint64_t first = ext4g_group_first(fs, h), end = first + fs->bpg;

	for (uint32_t i = lower(a, n, w, first); i < n && a[i] < end; i++)
		mark_range(fs, h, a[i], w, bits);
}

/* New group h's block bitmap (bs bytes, zeroed by the caller); the blocks it uses. The tables
 * are sorted in each of bb, ib and it (placement runs forward), so this is linear overall. */
static uint32_t new_block_bitmap(const struct ext4g *fs, uint32_t h, uint8_t *bits)
{
	uint32_t len = ext4g_group_len(fs, h, fs->new_blocks);

	set_bits(bits, 0, ext4g_backup_len(fs, h));
	mark_tables(fs, h, fs->bb, 1, bits);
	mark_tables(fs, h, fs->ib, 1, bits);
	mark_tables(fs, h, fs->it, fs->itb, bits);
	set_bits(bits, len, 8ull * fs->bs);
	return count_bits(bits, len);
}

int ext4g_layout_new_groups(struct ext4g *fs, struct diag *d)
{
	uint32_t o = fs->old_groups, n = fs->new_groups - o;
	bool uninit = fs->csum || fs->gdt_csum;
	_cleanup_free_ uint8_t *bits = xmalloc(fs->bs);
	int r;

	if (!n)
		return 0;
	fs->bb = xcalloc(n, sizeof(*fs->bb));
	fs->ib = xcalloc(n, sizeof(*fs->ib));
	fs->it = xcalloc(n, sizeof(*fs->it));
	for (uint32_t a = o; a < fs->new_groups;) {
		uint32_t b = MIN(a | (fs->flex - 1), fs->new_groups - 1);

		r = place_chunk(fs, a, b);
		if (r < 0)
			return diag_fail(d, r, "cannot grow ext4: no room for the tables of groups %"
					 PRIu32 "-%" PRIu32, a, b);
		a = b + 1;
	}
	for (uint32_t g = o; g < fs->new_groups; g++) {
		uint8_t *p = ext4g_desc(fs, g);
		uint32_t len = ext4g_group_len(fs, g, fs->new_blocks), used, flags = 0;

		memset(bits, 0, fs->bs);
		used = new_block_bitmap(fs, g, bits);
		memset(p, 0, fs->desc_size);
		EXT4G_PUT32(fs, p, BLOCK_BITMAP, fs->bb[g - o]);
		EXT4G_PUT32(fs, p, INODE_BITMAP, fs->ib[g - o]);
		EXT4G_PUT32(fs, p, INODE_TABLE, fs->it[g - o]);
		EXT4G_PUT16(fs, p, FREE_BLOCKS, len - used);
		EXT4G_PUT16(fs, p, FREE_INODES, fs->ipg);
		if (uninit) {
			flags = EXT4G_BG_INODE_UNINIT | EXT4G_BG_ITABLE_ZEROED;
			/* BLOCK_UNINIT: the kernel marks only the backup and the group's own
			 * tables, so not for a group holding others' (nor the last group) */
			if (g != fs->new_groups - 1 && used == ext4g_backup_len(fs, g))
				flags |= EXT4G_BG_BLOCK_UNINIT;
			EXT4G_PUT16(fs, p, ITABLE_UNUSED, fs->ipg);
		}
		le16_put(p + EXT4G_BG_FLAGS, (uint16_t)flags);
		if (fs->csum && !(flags & EXT4G_BG_BLOCK_UNINIT))
			EXT4G_PUT16(fs, p, BLOCK_BITMAP_CSUM,
				    ext4_bitmap_csum(fs->csum_seed, bits, fs->bpg / 8));
		le16_put(p + EXT4G_BG_CHECKSUM, ext4g_desc_csum(fs, g, p));
	}
	return 0;
}

int ext4g_write_new_bitmaps(struct ext4g *fs, struct diag *d)
{
	uint32_t o = fs->old_groups;
	_cleanup_free_ uint8_t *bits = xmalloc(fs->bs);
	int r;

	if (fs->last_bb) {
		uint64_t bb = EXT4G_GET32(fs, ext4g_desc(fs, o - 1), BLOCK_BITMAP);

		r = ext4g_write(fs, bb, fs->last_bb, fs->bs, d);
		if (r < 0)
			return diag_prepend(d, r, "writing the block bitmap of group %" PRIu32,
					    o - 1);
	}
	for (uint32_t g = o; g < fs->new_groups; g++) {
		uint16_t flags = le16_get(ext4g_desc(fs, g) + EXT4G_BG_FLAGS);

		if (!(flags & EXT4G_BG_BLOCK_UNINIT)) {
			memset(bits, 0, fs->bs);
			new_block_bitmap(fs, g, bits);
			r = ext4g_write(fs, fs->bb[g - o], bits, fs->bs, d);
			if (r < 0)
				return diag_prepend(d, r, "writing the block bitmap of group %" PRIu32,
						    g);
		}
		/* An initialized inode bitmap is zero but for its padding past the group's
		 * inodes (the new region already reads as zeros). */
		if (!(flags & EXT4G_BG_INODE_UNINIT) && fs->ipg < 8 * fs->bs) {
			memset(bits, 0, fs->bs);
			set_bits(bits, fs->ipg, 8ull * fs->bs);
			r = ext4g_write(fs, fs->ib[g - o], bits, fs->bs, d);
			if (r < 0)
				return diag_prepend(d, r, "writing the inode bitmap of group %" PRIu32,
						    g);
		}
	}
	return 0;
}
