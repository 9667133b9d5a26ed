#include "fs/fs.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fs/ext4/ext4.h"
#include "fs/fat/fat.h"
#include "fs/fs-test.h"
#include "fs/swap/swap.h"
#include "image/plan.h"
#include "tree/tree.h"
#include "util/diag.h"
#include "util/test.h"
#include "util/uuid.h"

static struct tree *small_tree(void)
{
	struct tree *t = tree_new();
	struct tree_finalize_opts fo = { 0 };
	struct diag d = { 0 };

	if (tree_add_data(t, "/etc/hello", "hi\n", 3, 0644, 0, 0, 1600000000, &d) < 0 ||
	    tree_add_data(t, "/EFI/BOOT/BOOTX64.EFI", "MZ", 2, 0644, 0, 0, 1600000000, &d) < 0 ||
	    tree_finalize(t, &fo, &d) < 0)
		abort();
	return t;
}

TEST(table_names_every_handler_once)
{
	static const char *const names[] = { "ext4", "vfat", "swap", "raw", "none" };

	for (size_t i = 0; i < 5; i++) {
		const struct fs_ops *o = fs_ops_find(names[i]);

		ASSERT_TRUE(o != NULL);
		ASSERT_STR_EQ(o->name, names[i]);
		ASSERT_TRUE(strstr(fs_names(), names[i]) != NULL);
		ASSERT_TRUE(o->min_size && o->plan && o->ranges && o->stats && o->free);
		ASSERT_EQ(o->needs_tree, i < 2);
		ASSERT_EQ(o->probe != NULL, i < 3);
	}
	ASSERT_TRUE(fs_ops_find("fat") == NULL);
	ASSERT_TRUE(fs_ops_find("EXT4") == NULL);
	ASSERT_TRUE(fs_ops_find("") == NULL);
	ASSERT_TRUE(fs_ops_find(NULL) == NULL);
}


TEST(probe_any_finds_swap_and_nothing_in_zeros)
{
	static uint8_t disk[64 << 10];
	struct fs_probe p;
	struct diag d = { 0 };
	uint8_t u[16] = { 1, 2, 3 };

	memset(disk, 0, sizeof(disk));
	ASSERT_EQ(fs_probe_any(fs_test_buf_read, &(struct fs_test_buf){ disk, sizeof(disk) }, sizeof(disk), &d, &p),
		  0);
	swap_header_encode(disk, sizeof(disk), u, "s");
	ASSERT_EQ(fs_probe_any(fs_test_buf_read, &(struct fs_test_buf){ disk, sizeof(disk) }, sizeof(disk), &d, &p),
		  1);
	ASSERT_TRUE(p.ops == fs_ops_find("swap"));
	ASSERT_STR_EQ(p.stats.type, "swap");
	ASSERT_STR_EQ(p.stats.label, "s");
	ASSERT_MEM_EQ(p.stats.uuid, u, 16);
	ASSERT_EQ(p.stats.size_bytes, sizeof(disk));
}

TEST(none_is_empty)
{
	const struct fs_ops *o = fs_ops_find("none");
	struct fs_request rq = { .what = "partition 4", .role = "part4", .size_bytes = 1 << 20 };
	struct image_plan *ip = image_plan_new(2 << 20);
	struct fs_plan *pl = NULL;
	struct fs_stats st;
	struct diag d = { 0 };
	uint64_t min = 1;

	ASSERT_OK(o->min_size(&rq, &d, &min));
	ASSERT_EQ(min, 0);
	ASSERT_OK(o->plan(&rq, &d, &pl));
	o->ranges(pl, 1 << 20, ip);
	ASSERT_EQ(ip->n_ranges, 0);
	o->stats(pl, &st);
	ASSERT_STR_EQ(st.type, "none");
	ASSERT_EQ(st.size_bytes, 1 << 20);
	ASSERT_TRUE(o->free(pl) == NULL);
	image_plan_free(ip);
}

/* The root as build.c made it before the handler table (build_ids, build_run): the adapter
 * must give the same bytes, with the same identifiers. */
static void ext4_same_as_direct(int *_failed, const char *role, bool uuid_set)
{
	const struct fs_ops *o = fs_ops_find("ext4");
	struct tree *t = small_tree();
	uint8_t given[16] = { 0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x47, 0x80,
			      0x90, 0xa0, 0xb0, 0xc0, 0xd0, 0xe0, 0xf0, 0x01 };
	struct fs_request rq = {
		.what = "root filesystem", .role = role, .seed = "seed:x", .label = "nixos",
		.uuid_set = uuid_set, .size_bytes = 48 << 20, .offset = 1 << 20,
		.extra_bytes = 1 << 20, .fs_time = 1700000000, .tree = t, .reserved_percent = 5,
	};
	struct ext4_params ep = {
		.size_bytes = 48 << 20, .extra_bytes = 1 << 20, .label = "nixos",
		.reserved_percent = 5, .inode_ratio = 16384, .fs_time = 1700000000, .journal = true,
	};
	bool root = strcmp(role, "root") == 0;
	char purpose[64], *dir = fs_test_tmpdir("fs_test"), a[128], b[128];
	struct ext4_plan *direct = NULL;
	struct fs_plan *pl = NULL;
	struct image_plan *ip = image_plan_new(50 << 20);
	struct fs_stats st;
	struct diag d = { 0 };
	uint64_t m1, m2;

	memcpy(rq.uuid, given, 16);
	if (uuid_set)
		memcpy(ep.uuid, given, 16);
	else {
		snprintf(purpose, sizeof(purpose), root ? "ext4-uuid" : "ext4-uuid:%s", role);
		uuid_derive("seed:x", purpose, ep.uuid);
	}
	snprintf(purpose, sizeof(purpose), root ? "ext4-hash-seed" : "ext4-hash-seed:%s", role);
	uuid_derive_bytes("seed:x", purpose, ep.hash_seed, sizeof(ep.hash_seed));

	ASSERT_OK(ext4_min_size(&ep, t, NULL, &d, &m1));
	ASSERT_OK(o->min_size(&rq, &d, &m2));
	ASSERT_EQ(m1, m2);
	ASSERT_OK(ext4_plan(&ep, t, &d, &direct));
	ext4_plan_ranges(direct, 1 << 20, ip);
	snprintf(a, sizeof(a), "%s/direct.img", dir);
	snprintf(b, sizeof(b), "%s/adapter.img", dir);
	ASSERT_OK(fs_test_emit_plan(ip, a, &d));
	ASSERT_OK(o->plan(&rq, &d, &pl));
	ASSERT_OK(fs_test_emit(o, pl, 50 << 20, 1 << 20, b, &d));
	ASSERT_TRUE(fs_test_same_file(a, b));
	o->stats(pl, &st);
	ASSERT_STR_EQ(st.type, "ext4");
	ASSERT_STR_EQ(st.label, "nixos");
	ASSERT_MEM_EQ(st.uuid, ep.uuid, 16);
	ASSERT_EQ(st.size_bytes, ext4_plan_size(direct));
	ASSERT_EQ(st.block_size, 4096);
	o->free(pl);
	ext4_plan_free(direct);
	tree_free(t);
	(void)unlink(a);
	(void)unlink(b);
	(void)rmdir(dir);
}

TEST(ext4_root_is_byte_identical_to_the_direct_plan)
{
	ext4_same_as_direct(_failed, "root", true);
}

TEST(ext4_root_with_derived_uuid_is_byte_identical)
{
	ext4_same_as_direct(_failed, "root", false);
}

TEST(ext4_other_role_derives_its_own_ids)
{
	ext4_same_as_direct(_failed, "home", false);
}

TEST(ext4_label_too_long_is_one_line)
{
	struct tree *t = small_tree();
	struct fs_request rq = { .what = "root filesystem", .role = "root", .seed = "s",
				 .label = "seventeen-bytes-x", .size_bytes = 48 << 20, .tree = t };
	struct fs_plan *pl = NULL;
	struct diag d = { 0 };

	ASSERT_ERR(fs_ops_find("ext4")->plan(&rq, &d, &pl), -EINVAL);
	ASSERT_STR_EQ(diag_message(&d, -EINVAL), "root filesystem: the label is 17 bytes long; "
		      "ext4 labels hold at most 16 bytes");
	tree_free(t);
}

/* The ESP and XBOOTLDR as build_boot_plan made them. */
static void fat_same_as_direct(int *_failed, const char *role, const char *label,
			       const char *what)
{
	const struct fs_ops *o = fs_ops_find("vfat");
	struct tree *t = small_tree();
	struct fs_request rq = { .what = what, .role = role, .seed = "seed:x", .label = label,
				 .size_bytes = 40 << 20, .offset = 2048 * 512,
				 .fs_time = 1700000000, .tree = t };
	struct fat_params fp = { .size_bytes = 40 << 20, .hidden_sect = 2048,
				 .fs_time = 1700000000, .what = what };
	char purpose[64], *dir = fs_test_tmpdir("fs_test"), a[128], b[128];
	struct fat_plan *direct = NULL;
	struct fs_plan *pl = NULL;
	struct image_plan *ip = image_plan_new(41 << 20);
	struct fs_stats st;
	struct diag d = { 0 };
	uint64_t m1, m2;

	snprintf(fp.label, sizeof(fp.label), "%s", label);
	snprintf(purpose, sizeof(purpose), "fat-volume-id:%s", role);
	uuid_derive_bytes("seed:x", purpose, &fp.volume_id, sizeof(fp.volume_id));
	ASSERT_OK(fat_min_size(&fp, t, &d, &m1));
	ASSERT_OK(o->min_size(&rq, &d, &m2));
	ASSERT_EQ(m1, m2);
	ASSERT_OK(fat_plan(&fp, t, &d, &direct));
	fat_plan_ranges(direct, 1 << 20, ip);
	snprintf(a, sizeof(a), "%s/direct.img", dir);
	snprintf(b, sizeof(b), "%s/adapter.img", dir);
	ASSERT_OK(fs_test_emit_plan(ip, a, &d));
	ASSERT_OK(o->plan(&rq, &d, &pl));
	ASSERT_OK(fs_test_emit(o, pl, 41 << 20, 1 << 20, b, &d));
	ASSERT_TRUE(fs_test_same_file(a, b));
	o->stats(pl, &st);
	ASSERT_STR_EQ(st.type, "vfat");
	ASSERT_STR_EQ(st.label, label);
	ASSERT_EQ(st.volume_id, fp.volume_id);
	ASSERT_EQ(st.fat_bits, fat_plan_geom(direct)->type);
	ASSERT_EQ(st.free_clusters, fat_plan_free_clusters(direct));
	o->free(pl);
	fat_plan_free(direct);
	tree_free(t);
	(void)unlink(a);
	(void)unlink(b);
	(void)rmdir(dir);
}

TEST(vfat_esp_is_byte_identical_to_the_direct_plan)
{
	fat_same_as_direct(_failed, "esp", "ESP", "ESP");
}

TEST(vfat_xbootldr_is_byte_identical_to_the_direct_plan)
{
	fat_same_as_direct(_failed, "xbootldr", "BOOT", "XBOOTLDR");
}

TEST(vfat_unlabelled_is_byte_identical_to_the_direct_plan)
{
	fat_same_as_direct(_failed, "part5", "", "partition 5");
}

TEST(vfat_past_2_tib_is_refused_not_truncated)
{
	struct tree *t = small_tree();
	struct fs_request rq = { .what = "partition 5", .role = "part5", .seed = "s",
				 .size_bytes = 40 << 20, .offset = (uint64_t)512 << 32, .tree = t };
	struct fs_plan *pl = NULL;
	struct diag d = { 0 };

	ASSERT_ERR(fs_ops_find("vfat")->plan(&rq, &d, &pl), -EOVERFLOW);
	ASSERT_STR_EQ(diag_message(&d, -EOVERFLOW),
		      "partition 5: starts at byte 2199023255552; FAT's hidden-sectors field "
		      "needs a start below 2 TiB: place it earlier on the disk");
	rq.offset -= 512; /* the last start that fits */
	ASSERT_OK(fs_ops_find("vfat")->plan(&rq, &d, &pl));
	fs_ops_find("vfat")->free(pl);
	tree_free(t);
}

TEST(probe_any_stops_at_a_malformed_filesystem)
{
	static uint8_t disk[64 << 10];
	struct fs_probe p;
	struct diag d = { 0 };
	uint8_t u[16] = { 1 };

	memset(disk, 0, sizeof(disk));
	swap_header_encode(disk, sizeof(disk), u, "");
	disk[SWAP_HDR_VERSION] = 2;
	ASSERT_ERR(fs_probe_any(fs_test_buf_read, &(struct fs_test_buf){ disk, sizeof(disk) }, sizeof(disk), &d,
				&p),
		   -EBADMSG);
	ASSERT_STR_EQ(diag_message(&d, -EBADMSG), "swap header: version 2, not 1");
}
