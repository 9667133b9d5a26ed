/* ext4 at scale: 200,000 files in one directory (a /nix/store) with an exact auto size;
 * e2fsck must find the htree and every count right, and the free space must be exactly the
 * extra space asked for. */
#include "fs/ext4/ext4.h"

#include "fs/ext4/ext4-test.h"
#include "util/test.h"

TEST(store_of_200k_entries)
{
	struct tree *t = tree_new();
	struct tree_finalize_opts fo = { 0 };
	struct diag d = { 0 };
	struct ext4_params p;
	struct ext4_plan *pl = NULL;
	struct ext4_stats s;
	char name[64], *img, *out;
	char dir[] = "/tmp/ext4_scale.XXXXXX";
	char *argv[] = { (char *)"e2fsck", (char *)"-fn", NULL, NULL };
	uint64_t size;

	if (!test_have("e2fsck"))
		TEST_SKIP("e2fsck missing");
	ASSERT_TRUE(mkdtemp(dir) != NULL);
	for (int i = 0; i < 200000; i++) {
		snprintf(name, sizeof(name), "/nix/store/%08x-package-name-%d", i * 2654435761u, i);
		ASSERT_OK(tree_add_data(t, name, name, 20, 0644, 0, 0, 1, &d));
	}
	ASSERT_OK(tree_finalize(t, &fo, &d));
	et_params(&p);
	p.extra_bytes = 100 << 20;
	ASSERT_OK(ext4_min_size(&p, t, NULL, &d, &size));
	ASSERT_OK(ext4_plan(&p, t, &d, &pl));
	ext4_plan_stats(pl, &s);
	ASSERT_EQ(s.size_bytes, size);
	ASSERT_TRUE(s.free_blocks - s.reserved_blocks >= (100 << 20) / 4096);
	img = xasprintf("%s/fs.img", dir);
	out = xasprintf("%s/e2fsck.out", dir);
	ASSERT_OK(et_emit(pl, img));
	ext4_plan_free(pl);
	argv[2] = img;
	ASSERT_EQ(test_run(argv, out), 0);
	(void)unlink(img);
	(void)unlink(out);
	(void)rmdir(dir);
	free(img);
	free(out);
	tree_free(t);
}
