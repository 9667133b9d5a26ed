/* The FAT planner end to end: plan a tree, emit it into a file with a test emitter, and let
 * fsck.fat and mtools judge it (skipped when they are missing); errors for trees FAT cannot
 * hold; sizing. */
#include "fs/fat/fat.h"

#include <fcntl.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fs/fat/fat-internal.h"
#include "image/plan.h"
#include "tree/tree.h"
#include "util/cleanup.h"
#include "util/diag.h"
#include "util/endian.h"
#include "util/fileio.h"
#include "util/test-spawn.h"
#include "util/test.h"
#include "util/xalloc.h"


static struct tree *sample_tree(size_t n_files)
{
	struct tree *t = tree_new();
	struct tree_finalize_opts fo = { 0 };
	struct diag d = { 0 };
	char path[128];

	tree_mkdir_p(t, "/", 0755, 0, 0, 0, NULL);
	tree_add_data(t, "/EFI/BOOT/BOOTX64.EFI", "MZ", 2, 0644, 0, 0, 1700000000, &d);
	tree_add_data(t, "/loader/loader.conf", "timeout 3\n", 10, 0644, 0, 0, 1700000000, &d);
	tree_add_data(t, "/loader/entries/nixos-generation-1.conf", "title NixOS\n", 12, 0644, 0,
		      0, 1700000000, &d);
	tree_add_data(t, "/\xc3\x9c" "bersicht \xe2\x82\xac.txt", "", 0, 0644, 0, 0, 0, &d);
	for (size_t i = 0; i < n_files; i++) {
		snprintf(path, sizeof(path), "/many/file number %zu.data", i);
		tree_add_data(t, path, path, strlen(path), 0644, 0, 0, 1700000000, &d);
	}
	tree_finalize(t, &fo, &d);
	return t;
}

static int emit_to(const struct fat_plan *pl, uint64_t size, const char *path)
{
	struct image_plan *ip = image_plan_new(size);
	struct diag d = { 0 };
	uint8_t *buf = xmalloc(1 << 16);
	int fd, r;

	fat_plan_ranges(pl, 0, ip);
	r = image_plan_seal(ip, &d);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (r < 0 || fd < 0 || ftruncate(fd, (off_t)size) < 0) {
		r = r < 0 ? r : -EIO;
		goto out;
	}
	for (size_t i = 0; i < ip->n_ranges && r >= 0; i++) {
		const struct image_range *g = &ip->ranges[i];

		for (uint64_t off = 0; off < g->len && r >= 0; off += 1000) {
			/* an odd chunk size: fills must serve any split */
			size_t n = (size_t)(g->len - off < 1000 ? g->len - off : 1000);

			memset(buf, 0, n);
			if (!image_range_is_file(g))
				r = image_range_fill(ip, g, off, buf, n, &d);
			else
				memcpy(buf, image_range_node(g)->src_data + g->arg + off, n);
			if (r >= 0)
				r = pwrite_full(fd, buf, n, g->off + off);
		}
	}
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	image_plan_free(ip);
	return r;
}

static void check_image(int *_failed, uint64_t mib, size_t n_files, enum fat_type type)
{
	struct tree *t = sample_tree(n_files);
	struct fat_params p = { .size_bytes = mib << 20, .label = "ESP", .volume_id = 0xfeedf00d,
				.what = "ESP" };
	struct fat_plan *pl = NULL;
	struct diag d = { 0 };
	char img[] = "/tmp/fat_test_XXXXXX";
	int fd = mkstemp(img);

	ASSERT_TRUE(fd >= 0);
	close(fd);
	ASSERT_OK(fat_plan(&p, t, &d, &pl));
	ASSERT_EQ(fat_plan_geom(pl)->type, type);
	ASSERT_OK(emit_to(pl, p.size_bytes, img));
	if (test_have("fsck.fat")) {
		char *const fsck[] = { (char *)"fsck.fat", (char *)"-n", img, NULL };

		ASSERT_EQ(test_run(fsck, NULL), 0);
	} else {
		test_skip("fsck.fat missing");
	}
	if (test_have("mtype")) {
		char out[] = "/tmp/fat_test_out_XXXXXX";
		char *const mtype[] = { (char *)"mtype", (char *)"-i", img,
					(char *)"::/loader/entries/nixos-generation-1.conf", NULL };
		_cleanup_free_ uint8_t *got = NULL;
		size_t len = 0;
		int ofd = mkstemp(out);

		close(ofd);
		ASSERT_EQ(test_run(mtype, out), 0);
		ASSERT_OK(read_file(out, 4096, &got, &len));
		ASSERT_EQ(len, 12);
		ASSERT_MEM_EQ(got, "title NixOS\n", 12);
		unlink(out);
	} else {
		test_skip("mtype missing");
	}
	unlink(img);
	fat_plan_free(pl);
	tree_free(t);
}

TEST(fat32_image_is_clean)
{
	check_image(_failed, 600, 300, FAT_TYPE_32);
}

TEST(fat16_image_is_clean)
{
	check_image(_failed, 20, 300, FAT_TYPE_16);
}

TEST(fat12_image_is_clean)
{
	check_image(_failed, 5, 300, FAT_TYPE_12);
}

TEST(fat16_root_overflow_needs_more_space)
{
	struct tree *t = tree_new();
	struct tree_finalize_opts fo = { 0 };
	struct fat_params p = { .size_bytes = 20u << 20, .label = "ESP", .what = "ESP" };
	struct fat_plan *pl = NULL;
	struct diag d = { 0 };
	uint64_t min = 0;
	char path[64];

	/* 300 long names: 600 root slots > 512 on FAT16 */
	for (int i = 0; i < 300; i++) {
		snprintf(path, sizeof(path), "/long name %d", i);
		tree_add_data(t, path, "x", 1, 0644, 0, 0, 0, &d);
	}
	ASSERT_OK(tree_finalize(t, &fo, &d));
	ASSERT_ERR(fat_plan(&p, t, &d, &pl), -ENOSPC);
	ASSERT_OK(fat_min_size(&p, t, &d, &min));
	ASSERT_EQ(min, 33u << 20); /* the first size with the 65525 clusters FAT32 needs */
	tree_free(t);
}

TEST(symlink_is_an_error_naming_the_path)
{
	struct tree *t = tree_new();
	struct tree_finalize_opts fo = { 0 };
	struct fat_params p = { .size_bytes = 64u << 20, .what = "ESP" };
	struct fat_plan *pl = NULL;
	struct diag d = { 0 };
	int r;

	tree_add_symlink(t, "/EFI/link", "target", 0, 0, 0, &d);
	ASSERT_OK(tree_finalize(t, &fo, &d));
	r = fat_plan(&p, t, &d, &pl);
	ASSERT_ERR(r, -EINVAL);
	ASSERT_TRUE(strstr(diag_message(&d, r), "/EFI/link: a symlink") != NULL);
	tree_free(t);
}

TEST(case_duplicates_are_an_error)
{
	struct tree *t = tree_new();
	struct tree_finalize_opts fo = { 0 };
	struct fat_params p = { .size_bytes = 64u << 20, .what = "ESP" };
	struct fat_plan *pl = NULL;
	struct diag d = { 0 };

	tree_add_data(t, "/EFI", "", 0, 0644, 0, 0, 0, &d);
	tree_add_data(t, "/efi", "", 0, 0644, 0, 0, 0, &d);
	ASSERT_OK(tree_finalize(t, &fo, &d));
	ASSERT_ERR(fat_plan(&p, t, &d, &pl), -EEXIST);
	tree_free(t);
}

TEST(short_names_are_unique_and_numbered_in_order)
{
	struct tree *t = sample_tree(20);
	struct fat_params p = { .size_bytes = 64u << 20, .what = "ESP" };
	struct fat_plan *pl = NULL;
	struct diag d = { 0 };
	const struct tree_node *many = tree_lookup(t, "/many");

	ASSERT_OK(fat_plan(&p, t, &d, &pl));
	/* children sort bytewise: "file number 0", "file number 1", "file number 10", ... */
	ASSERT_MEM_EQ(pl->nodes[many->children[0]->index].short_name, "FILENU~1DAT", 11);
	ASSERT_MEM_EQ(pl->nodes[many->children[1]->index].short_name, "FILENU~2DAT", 11);
	ASSERT_MEM_EQ(pl->nodes[many->children[9]->index].short_name, "FILEN~10DAT", 11);
	for (size_t i = 0; i < many->n_children; i++)
		for (size_t j = 0; j < i; j++)
			ASSERT_TRUE(memcmp(pl->nodes[many->children[i]->index].short_name,
					   pl->nodes[many->children[j]->index].short_name, 11));
	fat_plan_free(pl);
	tree_free(t);
}

TEST(too_small_names_the_size_needed)
{
	struct tree *t = tree_new();
	struct tree_finalize_opts fo = { 0 };
	struct fat_params p = { .size_bytes = 8u << 20, .what = "ESP" };
	struct fat_plan *pl = NULL;
	struct diag d = { 0 };
	static uint8_t big[20u << 20];
	uint64_t min = 0;
	int r;

	tree_add_data(t, "/big", big, sizeof(big), 0644, 0, 0, 0, &d);
	ASSERT_OK(tree_finalize(t, &fo, &d));
	r = fat_plan(&p, t, &d, &pl);
	ASSERT_ERR(r, -ENOSPC);
	ASSERT_OK(fat_min_size(&p, t, &d, &min));
	ASSERT_EQ(min, 21u << 20);
	ASSERT_TRUE(strstr(diag_message(&d, r), "ESP needs 21 MiB") != NULL);
	p.size_bytes = min;
	ASSERT_OK(fat_plan(&p, t, &d, &pl));
	fat_plan_free(pl);
	tree_free(t);
}
