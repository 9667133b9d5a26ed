/* FAT entries: packing of 12-, 16- and 32-bit entries, chains of contiguous runs, end-of-chain
 * marks, and fills served in any chunking. */
#include "fs/fat/fat-internal.h"

#include "util/test.h"

/* Two runs: node 0 at clusters 2..3, node 1 at cluster 4. */
static void two_runs(struct fat_plan *pl, struct fat_node nodes[2], uint32_t runs[2],
		     enum fat_type type)
{
	memset(pl, 0, sizeof(*pl));
	memset(nodes, 0, 2 * sizeof(*nodes));
	nodes[0].first_clus = 2;
	nodes[0].n_clus = 2;
	nodes[1].first_clus = 4;
	nodes[1].n_clus = 1;
	runs[0] = 0;
	runs[1] = 1;
	pl->nodes = nodes;
	pl->runs = runs;
	pl->n_runs = 2;
	pl->used_clus = 3;
	pl->g.type = type;
	pl->g.n_clus = 100;
}

TEST(fat12_packing)
{
	struct fat_plan pl;
	struct fat_node nodes[2];
	uint32_t runs[2];
	uint8_t b[12] = { 0 }, c[12] = { 0 };

	two_runs(&pl, nodes, runs, FAT_TYPE_12);
	fat_table_fill(&pl, 0, b, sizeof(b));
	/* entries ff8 fff 003 fff fff 000: two entries per three bytes, low nibble first */
	ASSERT_MEM_EQ(b, "\xf8\xff\xff\x03\xf0\xff\xff\x0f\x00\x00\x00\x00", 12);
	/* the same bytes one at a time */
	for (size_t i = 0; i < sizeof(c); i++)
		fat_table_fill(&pl, i, c + i, 1);
	ASSERT_MEM_EQ(b, c, sizeof(b));
}

TEST(fat16_entries)
{
	struct fat_plan pl;
	struct fat_node nodes[2];
	uint32_t runs[2];
	uint8_t b[12] = { 0 };

	two_runs(&pl, nodes, runs, FAT_TYPE_16);
	fat_table_fill(&pl, 0, b, sizeof(b));
	ASSERT_MEM_EQ(b, "\xf8\xff\xff\xff\x03\x00\xff\xff\xff\xff\x00\x00", 12);
}

TEST(fat32_entries)
{
	struct fat_plan pl;
	struct fat_node nodes[2];
	uint32_t runs[2];
	uint8_t b[24] = { 0 }, c[24] = { 0 };

	two_runs(&pl, nodes, runs, FAT_TYPE_32);
	fat_table_fill(&pl, 0, b, sizeof(b));
	ASSERT_MEM_EQ(b,
		      "\xf8\xff\xff\x0f\xff\xff\xff\x0f\x03\x00\x00\x00\xff\xff\xff\x0f"
		      "\xff\xff\xff\x0f\x00\x00\x00\x00",
		      24);
	fat_table_fill(&pl, 0, c, 7);
	fat_table_fill(&pl, 7, c + 7, 17);
	ASSERT_MEM_EQ(b, c, sizeof(b));
	ASSERT_EQ(fat_table_entry(&pl, 5), 0);
	ASSERT_EQ(fat_table_entry(&pl, 99), 0);
}
