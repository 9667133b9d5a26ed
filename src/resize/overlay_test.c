/* resize_overlay: later writes win, pieces keep their write order, lookups. */
#include "resize/overlay.h"

#include <stdlib.h>
#include <string.h>

#include "util/test.h"

TEST(overlay_later_writes_replace_earlier_bytes)
{
	struct resize_overlay o;
	uint8_t buf[32];

	resize_overlay_init(&o);
	resize_overlay_write(&o, 10, "aaaaaaaaaa", 10); /* 10..19 */
	resize_overlay_write(&o, 14, "bb", 2);          /* splits it in three */
	resize_overlay_write(&o, 18, "cccc", 4);        /* 18..21: trims the tail */
	ASSERT_EQ(o.n, 4);
	memset(buf, '.', sizeof(buf));
	resize_overlay_apply(&o, 8, buf, 16);
	ASSERT_MEM_EQ(buf, "..aaaabbaacccc..", 16);
	ASSERT_EQ(resize_overlay_bytes(&o), 12);
	resize_overlay_write(&o, 0, "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzz", 30); /* covers all */
	ASSERT_EQ(o.n, 1);
	ASSERT_EQ(resize_overlay_bytes(&o), 30);
	resize_overlay_done(&o);
}

TEST(overlay_replays_in_write_order)
{
	struct resize_overlay o;
	const struct resize_extent **v;

	resize_overlay_init(&o);
	resize_overlay_write(&o, 1000, "backup", 6);
	resize_overlay_write(&o, 0, "primary", 7);
	resize_overlay_write(&o, 500, "superblock", 10);
	resize_overlay_write(&o, 1002, "X", 1); /* the backup split: its pieces keep seq 0 */
	v = resize_overlay_by_seq(&o);
	ASSERT_EQ(o.n, 5);
	ASSERT_EQ(v[0]->off, 1000);
	ASSERT_EQ(v[1]->off, 1003);
	ASSERT_EQ(v[2]->off, 0);
	ASSERT_EQ(v[3]->off, 500);
	ASSERT_EQ(v[4]->off, 1002);
	free(v);
	resize_overlay_done(&o);
}

TEST(overlay_next_finds_the_first_changed_byte)
{
	struct resize_overlay o;
	uint64_t at = 0;

	resize_overlay_init(&o);
	ASSERT_TRUE(!resize_overlay_next(&o, 0, &at));
	resize_overlay_write(&o, 4096, "x", 1);
	resize_overlay_write(&o, 100, "yy", 2);
	ASSERT_TRUE(resize_overlay_next(&o, 0, &at));
	ASSERT_EQ(at, 100);
	ASSERT_TRUE(resize_overlay_next(&o, 101, &at));
	ASSERT_EQ(at, 101);
	ASSERT_TRUE(resize_overlay_next(&o, 102, &at));
	ASSERT_EQ(at, 4096);
	ASSERT_TRUE(!resize_overlay_next(&o, 4097, &at));
	resize_overlay_done(&o);
}
