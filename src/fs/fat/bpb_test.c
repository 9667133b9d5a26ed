/* FAT geometry against mkfs.fat 4.2 (`mkfs.fat -C f KiB`, boot sector fields read back), and
 * the boot and FSInfo sectors at their named offsets. */
#include "fs/fat/fat.h"

#include "fs/fat/fat-internal.h"
#include "util/endian.h"
#include "util/test.h"

struct geom_case {
	uint32_t mib;
	enum fat_type type;
	uint32_t spc, rsvd, fat_sect, root_entries, n_clus;
};

/* for m in ...; do mkfs.fat -g 64/32 -C f $((m*1024)); done (dosfstools 4.2, Debian 12);
 * -g 64/32 is the geometry mkfs.vfat sees on virtio-blk, where make-disk-image runs it. */
static const struct geom_case mkfs_fat_cases[] = {
	{ 1, FAT_TYPE_12, 4, 1, 2, 512, 502 },
	{ 2, FAT_TYPE_12, 4, 1, 3, 512, 1014 },
	{ 4, FAT_TYPE_12, 4, 1, 6, 512, 2036 },
	{ 5, FAT_TYPE_12, 4, 4, 8, 512, 2547 },
	{ 8, FAT_TYPE_12, 4, 4, 12, 512, 4081 },
	{ 9, FAT_TYPE_16, 4, 4, 20, 512, 4589 },
	{ 16, FAT_TYPE_16, 4, 4, 32, 512, 8167 },
	{ 32, FAT_TYPE_16, 4, 4, 64, 512, 16343 },
	/* from 33 MiB on FAT32 has its 65525 clusters: mkfs.fat -F 32 -g 64/32 -C f KiB */
	{ 33, FAT_TYPE_32, 1, 32, 520, 0, 66512 },
	{ 64, FAT_TYPE_32, 1, 32, 1009, 0, 129022 },
	{ 92, FAT_TYPE_32, 1, 32, 1450, 0, 185484 },
	{ 100, FAT_TYPE_32, 1, 32, 1576, 0, 201616 },
	{ 128, FAT_TYPE_32, 1, 32, 2017, 0, 258078 },
	{ 156, FAT_TYPE_32, 1, 32, 2458, 0, 314540 },
	{ 200, FAT_TYPE_32, 1, 32, 3151, 0, 403266 },
	{ 248, FAT_TYPE_32, 1, 32, 3907, 0, 500058 },
	{ 256, FAT_TYPE_32, 1, 32, 4033, 0, 516190 },
	{ 260, FAT_TYPE_32, 1, 32, 4096, 0, 524256 },
	{ 261, FAT_TYPE_32, 8, 32, 528, 0, 66680 },
	{ 300, FAT_TYPE_32, 8, 32, 600, 0, 76646 },
	{ 511, FAT_TYPE_32, 8, 32, 1024, 0, 130556 },
	{ 512, FAT_TYPE_32, 8, 32, 1024, 0, 130812 },
	{ 513, FAT_TYPE_32, 8, 32, 1024, 0, 131068 },
	{ 1024, FAT_TYPE_32, 8, 32, 2048, 0, 261628 },
	{ 2048, FAT_TYPE_32, 8, 32, 4088, 0, 523262 },
	{ 8192, FAT_TYPE_32, 8, 32, 16360, 0, 2093058 },
	{ 8193, FAT_TYPE_32, 16, 32, 8192, 0, 1047678 },
	{ 16385, FAT_TYPE_32, 32, 32, 8192, 0, 1048127 },
	{ 32769, FAT_TYPE_32, 64, 64, 8192, 0, 1048351 },
};

TEST(geometry_matches_mkfs_fat)
{
	for (size_t i = 0; i < sizeof(mkfs_fat_cases) / sizeof(mkfs_fat_cases[0]); i++) {
		const struct geom_case *c = &mkfs_fat_cases[i];
		struct fat_geom g;

		ASSERT_OK(fat_geom_choose((uint64_t)c->mib << 11, &g));
		if (g.type != c->type || g.sect_per_clus != c->spc || g.reserved_sect != c->rsvd ||
		    g.fat_sect != c->fat_sect || g.root_entries != c->root_entries ||
		    g.n_clus != c->n_clus) {
			fprintf(stderr, "  %u MiB: FAT%d spc %u rsvd %u fat %u root %u clus %u\n",
				c->mib, g.type, g.sect_per_clus, g.reserved_sect, g.fat_sect,
				g.root_entries, g.n_clus);
			ASSERT_TRUE(false);
		}
		ASSERT_EQ(g.data_sect, c->rsvd + 2 * c->fat_sect + c->root_entries * 32 / 512);
	}
}

/* Plain mkfs.fat (no -F: data partitions): for m in ...; do mkfs.fat -g 64/32 -C f
 * $((m*1024)); done (dosfstools 4.2): FAT16 up to 511 MiB, FAT32 from 512 MiB, up to the
 * largest whole-MiB size below 2 TiB. */
static const struct geom_case mkfs_fat_plain_cases[] = {
	{ 1, FAT_TYPE_12, 4, 1, 2, 512, 502 },
	{ 4, FAT_TYPE_12, 4, 1, 6, 512, 2036 },
	{ 8, FAT_TYPE_12, 4, 4, 12, 512, 4081 },
	{ 9, FAT_TYPE_16, 4, 4, 20, 512, 4589 },
	{ 16, FAT_TYPE_16, 4, 4, 32, 512, 8167 },
	{ 33, FAT_TYPE_16, 4, 4, 68, 512, 16853 },
	{ 64, FAT_TYPE_16, 4, 4, 128, 512, 32695 },
	{ 100, FAT_TYPE_16, 4, 4, 200, 512, 51091 },
	{ 200, FAT_TYPE_16, 8, 8, 200, 512, 51145 },
	{ 256, FAT_TYPE_16, 8, 8, 256, 512, 65467 },
	{ 260, FAT_TYPE_16, 16, 16, 144, 512, 33259 },
	{ 261, FAT_TYPE_16, 16, 16, 144, 512, 33387 },
	{ 300, FAT_TYPE_16, 16, 16, 160, 512, 38377 },
	{ 500, FAT_TYPE_16, 16, 16, 256, 512, 63965 },
	{ 511, FAT_TYPE_16, 16, 16, 256, 512, 65373 },
	{ 512, FAT_TYPE_32, 8, 32, 1024, 0, 130812 },
	{ 513, FAT_TYPE_32, 8, 32, 1024, 0, 131068 },
	{ 1024, FAT_TYPE_32, 8, 32, 2048, 0, 261628 },
	{ 8192, FAT_TYPE_32, 8, 32, 16360, 0, 2093058 },
	{ 8193, FAT_TYPE_32, 16, 32, 8192, 0, 1047678 },
	{ 16385, FAT_TYPE_32, 32, 32, 8192, 0, 1048127 },
	{ 32769, FAT_TYPE_32, 64, 64, 8192, 0, 1048351 },
	{ 1048576, FAT_TYPE_32, 64, 64, 262144, 0, 33546239 },
	{ 2097151, FAT_TYPE_32, 64, 64, 524160, 0, 67092451 },
};

TEST(geometry_plain_matches_mkfs_fat)
{
	for (size_t i = 0; i < sizeof(mkfs_fat_plain_cases) / sizeof(mkfs_fat_plain_cases[0]);
	     i++) {
		const struct geom_case *c = &mkfs_fat_plain_cases[i];
		struct fat_geom g;

		ASSERT_OK(fat_geom_choose_plain((uint64_t)c->mib << 11, &g));
		if (g.type != c->type || g.sect_per_clus != c->spc || g.reserved_sect != c->rsvd ||
		    g.fat_sect != c->fat_sect || g.root_entries != c->root_entries ||
		    g.n_clus != c->n_clus) {
			fprintf(stderr, "  %u MiB: FAT%d spc %u rsvd %u fat %u root %u clus %u\n",
				c->mib, g.type, g.sect_per_clus, g.reserved_sect, g.fat_sect,
				g.root_entries, g.n_clus);
			ASSERT_TRUE(false);
		}
	}
	/* FAT's 32-bit sector count: 2 TiB is one sector too many */
	{
		struct fat_geom g;

		ASSERT_ERR(fat_geom_choose_plain(1ull << 32, &g), -ENOSPC);
	}
}

TEST(label_as_mkfs_fat)
{
	char out[12];
	const char *why = NULL;

	ASSERT_OK(fat_label_make("data-1 x", out, &why));
	ASSERT_STR_EQ(out, "DATA-1 X");
	ASSERT_OK(fat_label_make("", out, &why));
	ASSERT_STR_EQ(out, "");
	ASSERT_ERR(fat_label_make("a.b", out, &why), -EINVAL);
	ASSERT_ERR(fat_label_make(" lead", out, &why), -EINVAL);
	ASSERT_ERR(fat_label_make("twelve bytes", out, &why), -EINVAL);
	ASSERT_ERR(fat_label_make("caf\xc3\xa9", out, &why), -EINVAL);
	ASSERT_ERR(fat_label_make("tab\there", out, &why), -EINVAL);
}

TEST(geometry_too_small)
{
	struct fat_geom g;

	ASSERT_ERR(fat_geom_choose(8, &g), -ENOSPC);
}

static void plan_with(struct fat_plan *pl, uint32_t mib)
{
	memset(pl, 0, sizeof(*pl));
	fat_geom_choose((uint64_t)mib << 11, &pl->g);
	pl->p = (struct fat_params){ .hidden_sect = 16384, .label = "ESP", .volume_id = 0x12345678 };
	pl->used_clus = 1;
}

TEST(boot_sector_fat32_fields)
{
	struct fat_plan pl;
	uint8_t b[FAT_SECT];

	plan_with(&pl, 1024);
	fat_boot_sector_encode(&pl, b);
	ASSERT_MEM_EQ(b, "\xeb\x58\x90mkfs.fat", 11);
	ASSERT_EQ(le16_get(b + FAT_BS_BYTES_PER_SEC), 512);
	ASSERT_EQ(b[FAT_BS_SEC_PER_CLUS], 8);
	ASSERT_EQ(le16_get(b + FAT_BS_RSVD_SEC), 32);
	ASSERT_EQ(b[FAT_BS_NUM_FATS], 2);
	ASSERT_EQ(le16_get(b + FAT_BS_ROOT_ENT), 0);
	ASSERT_EQ(le16_get(b + FAT_BS_TOT_SEC16), 0);
	ASSERT_EQ(b[FAT_BS_MEDIA], 0xf8);
	ASSERT_EQ(le16_get(b + FAT_BS_FAT_SZ16), 0);
	ASSERT_EQ(le16_get(b + FAT_BS_SEC_PER_TRK), 32);
	ASSERT_EQ(le16_get(b + FAT_BS_NUM_HEADS), 64);
	ASSERT_EQ(le32_get(b + FAT_BS_HIDD_SEC), 16384);
	ASSERT_EQ(le32_get(b + FAT_BS_TOT_SEC32), 1024u << 11);
	ASSERT_EQ(le32_get(b + FAT_BS32_FAT_SZ32), 2048);
	ASSERT_EQ(le32_get(b + FAT_BS32_ROOT_CLUS), 2);
	ASSERT_EQ(le16_get(b + FAT_BS32_FS_INFO), 1);
	ASSERT_EQ(le16_get(b + FAT_BS32_BK_BOOT), 6);
	ASSERT_EQ(b[FAT_BS32_DRV_NUM], 0x80);
	ASSERT_EQ(b[FAT_BS32_BOOT_SIG], 0x29);
	ASSERT_MEM_EQ(b + FAT_BS32_VOL_ID, "\x78\x56\x34\x12", 4);
	ASSERT_MEM_EQ(b + FAT_BS32_VOL_LAB, "ESP        FAT32   ", 19);
	ASSERT_MEM_EQ(b + FAT_BS_SIGNATURE, "\x55\xaa", 2);
}

TEST(boot_sector_fat16_fields)
{
	struct fat_plan pl;
	uint8_t b[FAT_SECT];

	plan_with(&pl, 32);
	fat_boot_sector_encode(&pl, b);
	ASSERT_MEM_EQ(b, "\xeb\x3c\x90", 3);
	ASSERT_EQ(le16_get(b + FAT_BS_ROOT_ENT), 512);
	ASSERT_EQ(le16_get(b + FAT_BS_FAT_SZ16), 64);
	ASSERT_EQ(le16_get(b + FAT_BS_TOT_SEC16), 0);
	ASSERT_EQ(le32_get(b + FAT_BS_TOT_SEC32), 32u << 11);
	ASSERT_EQ(le16_get(b + FAT_BS_SEC_PER_TRK), 32);
	ASSERT_EQ(le16_get(b + FAT_BS_NUM_HEADS), 64);
	ASSERT_EQ(b[FAT_BS16_BOOT_SIG], 0x29);
	ASSERT_MEM_EQ(b + FAT_BS16_VOL_LAB, "ESP        FAT16   ", 19);
	ASSERT_MEM_EQ(b + FAT_BS_SIGNATURE, "\x55\xaa", 2);
}

TEST(boot_sector_small_total_in_16_bits)
{
	struct fat_plan pl;
	uint8_t b[FAT_SECT];

	plan_with(&pl, 16);
	fat_boot_sector_encode(&pl, b);
	ASSERT_EQ(le16_get(b + FAT_BS_TOT_SEC16), 32768);
	ASSERT_EQ(le32_get(b + FAT_BS_TOT_SEC32), 0);
}

TEST(fsinfo_fields)
{
	struct fat_plan pl;
	uint8_t b[FAT_SECT];

	plan_with(&pl, 1024);
	pl.used_clus = 10;
	fat_fsinfo_encode(&pl, b);
	ASSERT_MEM_EQ(b + FAT_FSI_LEAD_SIG, "RRaA", 4);
	ASSERT_MEM_EQ(b + FAT_FSI_STRUC_SIG, "rrAa", 4);
	ASSERT_EQ(le32_get(b + FAT_FSI_FREE_COUNT), 261628 - 10);
	ASSERT_EQ(le32_get(b + FAT_FSI_NXT_FREE), 11); /* clusters 2..11 used */
	ASSERT_MEM_EQ(b + FAT_FSI_TRAIL_SIG, "\x00\x00\x55\xaa", 4);
}
