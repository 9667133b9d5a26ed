#include "util/suggest.h"

#include <stdint.h>

#include "util/cleanup.h"
#include "util/test.h"

TEST(suggest_distance_counts_edits_and_ignores_case)
{
	ASSERT_EQ(suggest_distance("diskSize", "diskSize"), (size_t)0);
	ASSERT_EQ(suggest_distance("diskSzie", "diskSize"), (size_t)2);
	ASSERT_EQ(suggest_distance("rootGpuid", "rootGPUID"), (size_t)0);
	ASSERT_EQ(suggest_distance("partion-table", "partition-table"), (size_t)2);
	ASSERT_EQ(suggest_distance("", "abc"), (size_t)3);
}

TEST(suggest_nearest_picks_close_names_only)
{
	static const char *const names[] = { "build", "inspect", NULL, "convert", "boot-test" };

	ASSERT_STR_EQ(suggest_nearest("biuld", names, ARRAY_SIZE(names)), "build");
	ASSERT_STR_EQ(suggest_nearest("boot-tset", names, ARRAY_SIZE(names)), "boot-test");
	ASSERT_STR_EQ(suggest_nearest("inspct", names, ARRAY_SIZE(names)), "inspect");
	ASSERT_TRUE(suggest_nearest("resize", names, ARRAY_SIZE(names)) == NULL);
	ASSERT_TRUE(suggest_nearest("xy", names, ARRAY_SIZE(names)) == NULL);
}
