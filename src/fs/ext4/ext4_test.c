/* ext4 planner unit tests: geometry against mke2fs, journal sizes, backups, superblock and
 * group descriptor fields, exact minimum size. */
#include "fs/ext4/ext4-plan.h"

#include <stdlib.h>
#include <string.h>

#include "fs/ext4/ext4-test.h"
#include "util/cleanup.h"
#include "util/crc.h"
#include "util/endian.h"
#include "util/test.h"

struct want_geom {
	uint64_t n_blocks;
	uint32_t rsv_gdt, ipg, n_groups, desc_blocks;
	uint64_t bb0, ib0, it0, it1;
};

/* Expected values from e2fsprogs 1.47.0:
 *   truncate -s SIZE g.img; mke2fs -q -F -t ext4 -b 4096 -I 256 -i 16384 g.img
 *   dumpe2fs g.img   (Reserved GDT blocks, Inodes per group, group 0/1 table locations) */
static const struct want_geom mke2fs_geoms[] = {
	{ 16384, 7, 4096, 1, 1, 9, 25, 41, 0 },                /* 64M */
	{ 76800, 37, 6400, 3, 1, 39, 42, 45, 445 },            /* 300M */
	{ 262144, 127, 8192, 8, 1, 129, 137, 145, 657 },       /* 1G */
	{ 5242880, 1024, 8192, 160, 3, 1028, 1044, 1060, 1572 }, /* 20G */
};

TEST(geometry_matches_mke2fs)
{
	for (size_t i = 0; i < ARRAY_SIZE(mke2fs_geoms); i++) {
		const struct want_geom *w = &mke2fs_geoms[i];
		struct ext4_plan *pl = xcalloc(1, sizeof(*pl));

		et_params(&pl->p);
		ASSERT_OK(ext4_geom_init(pl, w->n_blocks, 11));
		ASSERT_EQ(pl->g.n_blocks, w->n_blocks);
		ASSERT_EQ(pl->g.rsv_gdt_blocks, w->rsv_gdt);
		ASSERT_EQ(pl->g.inodes_per_group, w->ipg);
		ASSERT_EQ(pl->g.n_groups, w->n_groups);
		ASSERT_EQ(pl->g.desc_blocks, w->desc_blocks);
		ASSERT_EQ(pl->g.bb_loc[0], w->bb0);
		ASSERT_EQ(pl->g.ib_loc[0], w->ib0);
		ASSERT_EQ(pl->g.it_loc[0], w->it0);
		if (w->n_groups > 1)
			ASSERT_EQ(pl->g.it_loc[1], w->it1);
		ext4_plan_free(pl);
	}
}

TEST(journal_size_table)
{
	ASSERT_EQ(ext4_journal_default_blocks(2047), 0);
	ASSERT_EQ(ext4_journal_default_blocks(2048), 1024);
	ASSERT_EQ(ext4_journal_default_blocks(16384), 1024); /* mke2fs 64M: 1024 */
	ASSERT_EQ(ext4_journal_default_blocks(76800), 4096);  /* mke2fs 300M: 4096 */
	ASSERT_EQ(ext4_journal_default_blocks(262144), 8192); /* mke2fs 1G: 8192 */
	ASSERT_EQ(ext4_journal_default_blocks(5242880), 32768); /* mke2fs 20G: 32768 */
	ASSERT_EQ(ext4_journal_default_blocks(16384ull * 1024), 131072);
	ASSERT_EQ(ext4_journal_default_blocks(32768ull * 1024), 262144);
}

TEST(backup_groups_are_0_1_and_powers_of_3_5_7)
{
	static const uint32_t want[] = { 0, 1, 3, 5, 7, 9, 25, 27, 49, 81, 125, 243, 343 };
	size_t k = 0;

	for (uint32_t g = 0; g < 400; g++) {
		if (!ext4_group_has_super(g))
			continue;
		ASSERT_TRUE(k < ARRAY_SIZE(want));
		ASSERT_EQ(g, want[k]);
		k++;
	}
	ASSERT_EQ(k, ARRAY_SIZE(want));
}

TEST(inodes_per_group_rounding)
{
	ASSERT_EQ(ext4_inodes_per_group(4096, 1), 4096);
	ASSERT_EQ(ext4_inodes_per_group(19200, 3), 6400);
	ASSERT_EQ(ext4_inodes_per_group(100, 1), 112); /* whole inode-table blocks */
	ASSERT_EQ(ext4_inodes_per_group(40000, 1), 0);
}

static struct tree *small_tree(void)
{
	struct tree *t = tree_new();
	struct tree_finalize_opts fo = { 0 };
	struct diag d = { 0 };

	if (tree_add_data(t, "/hello", "hi\n", 3, 0644, 0, 0, 1600000000, &d) < 0 ||
	    tree_finalize(t, &fo, &d) < 0)
		abort();
	return t;
}

TEST(superblock_fields_and_checksum)
{
	struct tree *t = small_tree();
	struct ext4_params p;
	struct ext4_plan *pl = NULL;
	struct diag d = { 0 };
	uint8_t sb[1024];

	et_params(&p);
	p.size_bytes = 64 << 20;
	ASSERT_OK(ext4_plan(&p, t, &d, &pl));
	memset(sb, 0, sizeof(sb));
	ext4_super_encode(pl, 0, sb);
	ASSERT_EQ(le16_get(sb + 0x38), 0xef53);
	ASSERT_EQ(le32_get(sb + 0x04), 16384);
	ASSERT_EQ(le32_get(sb + 0x08), 819);
	ASSERT_EQ(le32_get(sb + 0x5c), 0x3c);  /* has_journal ext_attr resize_inode dir_index */
	ASSERT_EQ(le32_get(sb + 0x60), 0x2c2); /* filetype extent 64bit flex_bg */
	ASSERT_EQ(le32_get(sb + 0x64), 0x46b); /* sparse large huge dir_nlink extra_isize csum */
	ASSERT_EQ(le16_get(sb + 0xfe), 64);
	ASSERT_EQ(le16_get(sb + 0xce), 7);
	ASSERT_EQ(le32_get(sb + 0x160), 1);
	ASSERT_EQ(le32_get(sb + 0x100), 0x0c);
	ASSERT_EQ(sb[0x174], 4);
	ASSERT_EQ(sb[0x175], 1);
	ASSERT_EQ(le32_get(sb + 0xe0), 8);
	ASSERT_MEM_EQ(sb + 0x78, "nixos", 6);
	ASSERT_MEM_EQ(sb + 0x68, p.uuid, 16);
	ASSERT_EQ(le32_get(sb + 0x3fc), crc32c_le(~0u, sb, 1020));
	ASSERT_EQ(le32_get(sb + 0x10), 4096 - 12); /* inodes 1..12 in use */
	memset(sb, 0, sizeof(sb));
	ext4_super_encode(pl, 1, sb);
	ASSERT_EQ(le16_get(sb + 0x5a), 1);
	ext4_plan_free(pl);
	tree_free(t);
}

TEST(group_descriptor_fields)
{
	struct tree *t = small_tree();
	struct ext4_params p;
	struct ext4_plan *pl = NULL;
	struct diag d = { 0 };
	uint8_t gd[64], zero[64];

	et_params(&p);
	p.size_bytes = 300 << 20;
	ASSERT_OK(ext4_plan(&p, t, &d, &pl));
	ext4_group_desc_encode(pl, 1, gd);
	ASSERT_EQ(le32_get(gd + 0x00), 40);
	ASSERT_EQ(le32_get(gd + 0x04), 43);
	ASSERT_EQ(le32_get(gd + 0x08), 445);
	ASSERT_EQ(le16_get(gd + 0x0e), 6400);
	ASSERT_EQ(le16_get(gd + 0x1c), 6400);
	ASSERT_EQ(le16_get(gd + 0x12), 4);
	ASSERT_EQ(le16_get(gd + 0x1e), ext4_group_desc_csum(pl->csum_seed, 1, gd, 64));
	memset(zero, 0, sizeof(zero));
	ASSERT_TRUE(memcmp(gd + 0x20, zero, 8) == 0); /* high halves zero below 2^32 */
	ext4_plan_free(pl);
	tree_free(t);
}

static bool fits(const struct ext4_params *p0, const struct tree *t, uint64_t size,
		 uint64_t want_free)
{
	struct ext4_params p = *p0;
	struct ext4_plan *pl = NULL;
	struct diag d = { 0 };
	struct ext4_stats s;

	p.size_bytes = size;
	if (ext4_plan(&p, t, &d, &pl) < 0)
		return false;
	ext4_plan_stats(pl, &s);
	ext4_plan_free(pl);
	/* with free space asked for, the kernel's statfs reserve (2%, at most 4096 blocks) too */
	uint64_t held = s.reserved_blocks + (want_free ? MIN(s.n_blocks / 50, (uint64_t)4096) : 0);

	return s.size_bytes == size && s.free_blocks >= held && s.free_blocks - held >= want_free;
}

TEST(min_size_is_exact)
{
	static const uint64_t extras[] = { 0, 1 << 20, 100 << 20, 700ull << 20 };
	struct tree *t = small_tree();
	struct ext4_params p;

	et_params(&p);
	for (size_t i = 0; i < ARRAY_SIZE(extras); i++) {
		struct diag d = { 0 };
		uint64_t size;

		p.extra_bytes = extras[i];
		ASSERT_OK(ext4_min_size(&p, t, NULL, &d, &size));
		ASSERT_EQ(size % 4096, 0);
		ASSERT_TRUE(fits(&p, t, size, extras[i] / 4096));
		for (uint64_t less = 4096; less <= 16 * 4096; less += 4096)
			ASSERT_TRUE(!fits(&p, t, size - less, extras[i] / 4096));
	}
	tree_free(t);
}

static int fit_mib(void *ctx, uint64_t min_bytes, uint64_t *ret)
{
	(void)ctx;
	*ret = DIV_ROUND_UP(min_bytes, 1u << 20) << 20;
	return 0;
}

static uint32_t free_inodes_at(const struct ext4_params *p0, const struct tree *t, uint64_t size)
{
	struct ext4_params p = *p0;
	struct ext4_plan *pl = NULL;
	struct diag d = { 0 };
	struct ext4_stats s = { 0 };

	p.size_bytes = size;
	if (ext4_plan(&p, t, &d, &pl) == 0)
		ext4_plan_stats(pl, &s);
	ext4_plan_free(pl);
	return s.free_inodes;
}

/* Issue #11: 128M, 256M, 512M, 1G... gave about twice the space (a dropped short last group
 * counted as no free space at all), and a size at a journal tier could be one that does not
 * fit. In whole MiB: the size fits, every smaller whole MiB does not, sizes never shrink as
 * the space asked for grows, and extra / inode_ratio inodes are free. */
TEST(min_size_in_whole_mib_is_minimal_and_monotone)
{
	static const uint64_t extras_mib[] = { 1,   127,  128,  129,  255,  256,  257,  511,
					       512, 513,  1000, 1023, 1024, 1025, 2047, 2048 };
	struct ext4_size_fit fit = { fit_mib, NULL };
	struct tree *t = small_tree();
	struct ext4_params p;
	uint64_t prev = 0;

	et_params(&p);
	/* and every MiB around the 1 GiB journal tier (4096 -> 8192 blocks at 2^18 blocks) */
	for (size_t i = 0; i < ARRAY_SIZE(extras_mib) + 40; i++) {
		uint64_t mib = i < ARRAY_SIZE(extras_mib) ? extras_mib[i]
							  : 900 + i - ARRAY_SIZE(extras_mib);
		uint64_t extra = mib << 20, size, want = extra / 4096;
		struct diag d = { 0 };

		p.extra_bytes = extra;
		ASSERT_OK(ext4_min_size(&p, t, &fit, &d, &size));
		size = DIV_ROUND_UP(size, 1u << 20) << 20;
		ASSERT_TRUE(fits(&p, t, size, want));
		ASSERT_TRUE(free_inodes_at(&p, t, size) >= extra / 16384);
		ASSERT_TRUE(size >= prev);
		ASSERT_TRUE(size < extra + extra / 4 + (64u << 20)); /* not doubled */
		for (uint64_t m = extra; m < size; m += 1u << 20)
			ASSERT_TRUE(!fits(&p, t, m, want));
		prev = size;
		if (i + 1 == ARRAY_SIZE(extras_mib))
			prev = 0; /* the tier scan starts lower */
	}
	tree_free(t);
}

TEST(min_size_of_huge_extra_is_an_error)
{
	static const uint64_t extras[] = { UINT64_MAX, UINT64_MAX - 4095, 16ull << 40 };
	struct tree *t = small_tree();
	struct ext4_params p;

	et_params(&p);
	for (size_t i = 0; i < ARRAY_SIZE(extras); i++) {
		struct diag d = { 0 };
		uint64_t size = 0;

		p.extra_bytes = extras[i];
		ASSERT_ERR(ext4_min_size(&p, t, NULL, &d, &size), -EOVERFLOW);
		ASSERT_EQ(size, 0);
	}
	tree_free(t);
}

TEST(too_small_names_needed_size)
{
	struct tree *t = small_tree();
	struct ext4_params p;
	struct ext4_plan *pl = NULL;
	struct diag d = { 0 };

	et_params(&p);
	p.size_bytes = 32 * 4096;
	ASSERT_ERR(ext4_plan(&p, t, &d, &pl), -ENOSPC);
	ASSERT_TRUE(strstr(d.msg, "root filesystem needs ") != NULL);
	ASSERT_TRUE(strstr(d.msg, " MiB)") != NULL);
	tree_free(t);
}

/* i_links_count has 16 bits: more names than ext4 allows is an error naming the file, not
 * a count that wraps. */
TEST(too_many_hard_links_refused)
{
	struct tree *t = small_tree();
	struct ext4_params p;
	struct ext4_plan *pl = NULL;
	struct diag d = { 0 };

	tree_lookup(t, "/hello")->n_links = 65001;
	et_params(&p);
	p.size_bytes = 8 << 20;
	ASSERT_ERR(ext4_plan(&p, t, &d, &pl), -EMLINK);
	ASSERT_STR_EQ(d.msg, "/hello: 65001 hard links; ext4 allows at most 65000 names for one "
			     "file (copy it instead of linking)");
	tree_lookup(t, "/hello")->n_links = 65000;
	ASSERT_OK(ext4_plan(&p, t, &d, &pl));
	ext4_plan_free(pl);
	tree_free(t);
}
