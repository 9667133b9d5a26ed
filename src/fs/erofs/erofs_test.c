/* erofs encoders byte by byte (superblock, inodes, xattrs, directories), the layout of a tiny
 * tree (nids, tail packing, blocks), and end to end through the fs handler: emit, probe,
 * fsck.erofs (skipped without it), determinism. */
#include "fs/erofs/erofs.h"

#include <unistd.h>

#include "fs/erofs/probe.h"
#include "fs/fs-test.h"
#include "tree/tree.h"
#include "util/cleanup.h"
#include "util/diag.h"
#include "util/endian.h"
#include "util/test-spawn.h"
#include "util/test.h"
#include "util/xalloc.h"

TEST(inode_compact_bytes)
{
	struct erofs_inode in = { .layout = EROFS_INODE_FLAT_INLINE, .xattr_icount = 3,
				  .mode = 0100644, .nlink = 2, .size = 5000, .u = 7, .ino = 9,
				  .uid = 1000, .gid = 100 };
	uint8_t p[64];

	ASSERT_EQ(erofs_inode_encode(p, &in), 32);
	ASSERT_EQ(le16_get(p), 4); /* layout 2 << 1, compact */
	ASSERT_EQ(le16_get(p + 2), 3);
	ASSERT_EQ(le16_get(p + 4), 0100644);
	ASSERT_EQ(le16_get(p + 6), 2);
	ASSERT_EQ(le32_get(p + 8), 5000);
	ASSERT_EQ(le32_get(p + 12), 0);
	ASSERT_EQ(le32_get(p + 16), 7);
	ASSERT_EQ(le32_get(p + 20), 9);
	ASSERT_EQ(le16_get(p + 24), 1000);
	ASSERT_EQ(le16_get(p + 26), 100);
	ASSERT_EQ(le32_get(p + 28), 0);
	ASSERT_TRUE(!erofs_inode_needs_extended(&in, 0, 0));
	in.mtime = 5;
	ASSERT_TRUE(erofs_inode_needs_extended(&in, 0, 0));
	in.mtime = 0;
	in.uid = 70000;
	ASSERT_TRUE(erofs_inode_needs_extended(&in, 0, 0));
	in.uid = 0;
	in.size = 1ull << 32;
	ASSERT_TRUE(erofs_inode_needs_extended(&in, 0, 0));
}

TEST(inode_extended_bytes)
{
	struct erofs_inode in = { .extended = true, .mode = 040755, .nlink = 70000,
				  .size = 1ull << 33, .u = 12, .ino = 1, .uid = 70000,
				  .gid = 80000, .mtime = -5, .mtime_nsec = 999 };
	uint8_t p[64];

	ASSERT_EQ(erofs_inode_encode(p, &in), 64);
	ASSERT_EQ(le16_get(p), 1);
	ASSERT_EQ(le16_get(p + 4), 040755);
	ASSERT_EQ(le64_get(p + 8), 1ull << 33);
	ASSERT_EQ(le32_get(p + 16), 12);
	ASSERT_EQ(le32_get(p + 20), 1);
	ASSERT_EQ(le32_get(p + 24), 70000);
	ASSERT_EQ(le32_get(p + 28), 80000);
	ASSERT_EQ((int64_t)le64_get(p + 32), -5);
	ASSERT_EQ(le32_get(p + 40), 999);
	ASSERT_EQ(le32_get(p + 44), 70000);
}

TEST(encode_dev_as_linux)
{
	ASSERT_EQ(erofs_encode_dev(1, 3), 0x103);
	ASSERT_EQ(erofs_encode_dev(8, 0x123), 0x100823);
}

TEST(super_bytes_checksum_and_decode)
{
	uint8_t blk[EROFS_BS] = { 0 };
	struct erofs_super s = { .feature_compat = 3, .blkszbits = 12, .root_nid = 36, .inos = 4,
				 .build_time = 1, .blocks = 2, .uuid = { 1, 2, 3 },
				 .volume_name = "store" },
			   back;
	struct diag d = { 0 };

	erofs_super_encode(blk + EROFS_SB_OFFSET, &s);
	ASSERT_EQ(le32_get(blk + 1024), 0xE0F5E1E2);
	ASSERT_EQ(blk[1024 + 12], 12);
	ASSERT_EQ(le16_get(blk + 1024 + 14), 36);
	ASSERT_EQ(le32_get(blk + 1024 + 36), 2);
	ASSERT_MEM_EQ(blk + 1024 + 64, "store", 6);
	/* the checksum ignores its own field */
	uint32_t c = erofs_super_checksum(blk, EROFS_BS);
	le32_put(blk + 1024 + 4, c);
	ASSERT_EQ(erofs_super_checksum(blk, EROFS_BS), c);
	ASSERT_OK(erofs_super_decode(blk + 1024, &d, &back));
	ASSERT_EQ(back.root_nid, 36);
	ASSERT_EQ(back.blocks, 2);
	ASSERT_STR_EQ(back.volume_name, "store");
	blk[1024 + 12] = 30;
	ASSERT_ERR(erofs_super_decode(blk + 1024, &d, &back), -EBADMSG);
	blk[1024] = 0;
	ASSERT_ERR(erofs_super_decode(blk + 1024, &d, &back), -ENOENT);
}

TEST(dir_block_bytes_and_order)
{
	struct erofs_dirent_in e[] = {
		{ "b", 1, 40, EROFS_FT_REG_FILE },
		{ ".", 1, 36, EROFS_FT_DIR },
		{ "-x", 2, 38, EROFS_FT_SYMLINK },
		{ "..", 2, 36, EROFS_FT_DIR },
	};
	uint8_t out[EROFS_BS] = { 0 };

	erofs_dirents_sort(e, 4);
	ASSERT_STR_EQ(e[0].name, "-x"); /* '-' sorts before '.' */
	ASSERT_STR_EQ(e[1].name, ".");
	ASSERT_STR_EQ(e[2].name, "..");
	ASSERT_EQ(erofs_dir_size(e, 4), 4 * 12 + 6);
	erofs_dir_encode(out, e, 4);
	ASSERT_EQ(le64_get(out), 38);
	ASSERT_EQ(le16_get(out + 8), 48);
	ASSERT_EQ(out[10], EROFS_FT_SYMLINK);
	ASSERT_EQ(le16_get(out + 12 + 8), 50);
	ASSERT_EQ(le16_get(out + 36 + 8), 53);
	ASSERT_MEM_EQ(out + 48, "-x...b", 6);
}

TEST(dir_splits_blocks_without_splitting_entries)
{
	char names[40][200];
	struct erofs_dirent_in e[40];
	size_t per = EROFS_BS / (12 + 199); /* 19 entries of 211 bytes per block */

	for (int i = 0; i < 40; i++) {
		memset(names[i], 'a' + i / 26, 199);
		names[i][198] = (char)('a' + i % 26);
		names[i][199] = 0;
		e[i] = (struct erofs_dirent_in){ names[i], 199, (uint64_t)i, EROFS_FT_REG_FILE };
	}
	ASSERT_EQ(per, 19);
	/* 19 + 19 + 2 entries: two full blocks and 422 bytes */
	ASSERT_EQ(erofs_dir_size(e, 40), 2 * EROFS_BS + 2 * 211);
	uint8_t *out = xcalloc(3, EROFS_BS);
	erofs_dir_encode(out, e, 40);
	ASSERT_EQ(le16_get(out + 8), 19 * 12);
	ASSERT_EQ(le64_get(out + EROFS_BS), 19);
	ASSERT_EQ(le64_get(out + 2 * EROFS_BS), 38);
	ASSERT_EQ(le16_get(out + 2 * EROFS_BS + 8), 24);
	free(out);
}

static struct tree *tiny_tree(void)
{
	struct tree *t = tree_new();
	struct tree_finalize_opts fo = { 0 };
	struct diag d = { 0 };
	static uint8_t big[5000];
	static struct tree_xattr xa[] = {
		{ "security.capability", (uint8_t *)"\1\0\0\2", 4 },
		{ "user.k", (uint8_t *)"v", 1 },
	};
	struct tree_node *n;

	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i * 7);
	tree_mkdir_p(t, "/", 0755, 0, 0, 1, NULL);
	tree_add_data(t, "/a", "hello\n", 6, 0644, 0, 0, 1, &d);
	tree_add_data(t, "/dir/big", big, sizeof(big), 0600, 1000, 100, 1, &d);
	tree_add_symlink(t, "/dir/link", "../a", 0, 0, 1, &d);
	tree_add_data(t, "/late", "x", 1, 0644, 70000, 0, 2, &d);
	n = tree_lookup(t, "/a");
	tree_node_set_xattrs(t, n, xa, 2);
	tree_finalize(t, &fo, &d);
	return t;
}

TEST(xattr_area_bytes)
{
	_cleanup_(tree_freep) struct tree *t = tiny_tree();
	const struct tree_node *n = tree_lookup(t, "/a");
	struct diag d = { 0 };
	uint32_t size;
	uint8_t p[64];

	ASSERT_OK(erofs_xattr_size(n, &d, &size));
	/* 12 header + (4 + 10 "capability" + 4) + (4 + 1 "k" + 1 -> 8) */
	ASSERT_EQ(size, 12 + 20 + 8);
	ASSERT_EQ(erofs_xattr_icount(size), 8);
	erofs_xattr_encode(p, n);
	ASSERT_EQ(p[12], 10);
	ASSERT_EQ(p[13], 6);
	ASSERT_EQ(le16_get(p + 14), 4);
	ASSERT_MEM_EQ(p + 16, "capability\1\0\0\2", 14);
	ASSERT_EQ(p[32], 1);
	ASSERT_EQ(p[33], 1);
	ASSERT_MEM_EQ(p + 36, "kv\0\0", 4);
}

TEST(xattr_unknown_prefix_refused)
{
	_cleanup_(tree_freep) struct tree *t = tiny_tree();
	struct tree_node *n = tree_lookup(t, "/late");
	static struct tree_xattr xa[] = { { "system.foo", (uint8_t *)"v", 1 } };
	struct diag d = { 0 };
	uint32_t size;

	tree_node_set_xattrs(t, n, xa, 1);
	ASSERT_ERR(erofs_xattr_size(n, &d, &size), -ENOTSUP);
	ASSERT_TRUE(strstr(diag_message(&d, -ENOTSUP), "system.foo") != NULL);
}

TEST(plan_layout_of_a_tiny_tree)
{
	_cleanup_(tree_freep) struct tree *t = tiny_tree();
	struct erofs_params p = { .what = "test" };
	struct erofs_plan *pl;
	struct diag d = { 0 };
	const struct tree_node *a = tree_lookup(t, "/a"), *big = tree_lookup(t, "/dir/big"),
			       *late = tree_lookup(t, "/late");

	ASSERT_OK(erofs_plan_new(&p, t, &d, &pl));
	ASSERT_EQ(pl->build_time, 1); /* the common mtime */
	ASSERT_EQ(pl->ino[0].nid, 36);
	ASSERT_EQ(pl->n_order, 6);
	ASSERT_TRUE(!pl->ino[a->index].extended);
	ASSERT_TRUE(pl->ino[late->index].extended); /* uid 70000, mtime 2 */
	ASSERT_TRUE(pl->ino[a->index].inline_tail);
	ASSERT_EQ(pl->ino[a->index].xsize, 40);
	/* big: one full block after the metadata block, the 904-byte tail packed */
	ASSERT_TRUE(pl->ino[big->index].inline_tail);
	ASSERT_EQ(pl->ino[big->index].blkaddr, 1);
	ASSERT_EQ(pl->blocks, 2);
	erofs_plan_free(pl);
}

static int file_read(void *ctx, uint64_t off, void *buf, size_t len, struct diag *d)
{
	return pread(*(int *)ctx, buf, len, (off_t)off) == (ssize_t)len ? 0 : -EIO;
}

TEST(handler_end_to_end)
{
	_cleanup_(tree_freep) struct tree *t = tiny_tree();
	const struct fs_ops *ops = fs_ops_find("erofs");
	struct fs_request rq = { .what = "test", .role = "part2", .seed = "s", .label = "data",
				 .tree = t };
	struct fs_plan *plan;
	struct fs_stats st;
	struct fs_probe pr;
	struct diag d = { 0 };
	char *dir = fs_test_tmpdir("erofs-test"), a[128], b[128], log[128];
	uint64_t min;
	int fd;

	ASSERT_TRUE(ops && dir);
	ASSERT_OK(ops->min_size(&rq, &d, &min));
	ASSERT_EQ(min, 2 * EROFS_BS);
	rq.size_bytes = min - 1;
	ASSERT_ERR(ops->plan(&rq, &d, &plan), -ENOSPC);
	rq.size_bytes = 1 << 20;
	ASSERT_OK(ops->plan(&rq, &d, &plan));
	ops->stats(plan, &st);
	ASSERT_STR_EQ(st.label, "data");
	ASSERT_EQ(st.size_bytes, min);
	snprintf(a, sizeof(a), "%s/a.img", dir);
	snprintf(b, sizeof(b), "%s/b.img", dir);
	snprintf(log, sizeof(log), "%s/fsck.log", dir);
	ASSERT_OK(fs_test_emit(ops, plan, 1 << 20, 0, a, &d));
	ASSERT_OK(fs_test_emit(ops, plan, 1 << 20, 0, b, &d));
	ASSERT_TRUE(fs_test_same_file(a, b));
	ops->free(plan);
	fd = open(a, O_RDONLY | O_CLOEXEC);
	ASSERT_TRUE(fd >= 0);
	ASSERT_EQ(fs_probe_any(file_read, &fd, 1 << 20, &d, &pr), 1);
	close(fd);
	ASSERT_STR_EQ(pr.stats.type, "erofs");
	ASSERT_STR_EQ(pr.stats.label, "data");
	ASSERT_EQ(pr.stats.n_inodes, 6);
	ASSERT_MEM_EQ(pr.stats.uuid, st.uuid, 16);
	if (!test_have("fsck.erofs"))
		TEST_SKIP("fsck.erofs not installed");
	char *argv[] = { "fsck.erofs", a, NULL };
	ASSERT_EQ(test_run(argv, log), 0);
	unlink(a);
	unlink(b);
	unlink(log);
	rmdir(dir);
}

TEST(z_index_bytes)
{
	/* 3 extents of a 20000-byte file: compressed [0, 9000), plain [9000, 13096),
	 * compressed [13096, 20000); blocks 100..102; 5 lclusters */
	uint64_t ext[] = { 0 << 1, 9000 << 1 | 1, 13096 << 1 };
	uint8_t p[64];

	ASSERT_EQ(erofs_z_index_size(20000), 16 + 5 * 8);
	erofs_z_index_encode(p, 20000, ext, 3, 100);
	ASSERT_EQ(le64_get(p), 0); /* map header: lz4, 4 KiB lclusters, legacy */
	ASSERT_EQ(le64_get(p + 8), 0);
	uint8_t *di = p + 16;
	ASSERT_EQ(le16_get(di), 1); /* lcn 0: HEAD at 0, block 100 */
	ASSERT_EQ(le16_get(di + 2), 0);
	ASSERT_EQ(le32_get(di + 4), 100);
	ASSERT_EQ(le16_get(di + 8), 2); /* lcn 1: NONHEAD, head 1 back, next head 1 on */
	ASSERT_EQ(le16_get(di + 12), 1);
	ASSERT_EQ(le16_get(di + 14), 1);
	ASSERT_EQ(le16_get(di + 16), 0); /* lcn 2: PLAIN at 9000 - 8192 = 808, block 101 */
	ASSERT_EQ(le16_get(di + 18), 808);
	ASSERT_EQ(le32_get(di + 20), 101);
	ASSERT_EQ(le16_get(di + 24), 1); /* lcn 3: HEAD at 13096 - 12288 = 808, block 102 */
	ASSERT_EQ(le16_get(di + 26), 808);
	ASSERT_EQ(le32_get(di + 28), 102);
	ASSERT_EQ(le16_get(di + 32), 0); /* lcn 4: the end of the file, 20000 - 16384 */
	ASSERT_EQ(le16_get(di + 34), 3616);
	ASSERT_EQ(le32_get(di + 36), 0);
}

TEST(z_block_rule)
{
	struct erofs_z *z = erofs_z_new(EROFS_Z_LZ4, 0);
	static uint8_t zeros[100000], rnd[10000], block[EROFS_BS];
	bool plain;
	uint32_t x = 1;

	for (size_t i = 0; i < sizeof(rnd); i++) {
		x = x * 1103515245 + 12345;
		rnd[i] = (uint8_t)(x >> 16);
	}
	/* compressible: up to the window, the bytes ending the block */
	ASSERT_EQ(erofs_z_block(z, zeros, sizeof(zeros), block, &plain), EROFS_Z_WINDOW);
	ASSERT_TRUE(!plain);
	ASSERT_EQ(block[0], 0);
	size_t nz = 0;
	while (nz < EROFS_BS && !block[nz])
		nz++;
	ASSERT_TRUE(nz > 0 && nz < EROFS_BS); /* zeros, then the lz4 stream to the end */
	/* incompressible: one block as it is */
	ASSERT_EQ(erofs_z_block(z, rnd, sizeof(rnd), block, &plain), EROFS_BS);
	ASSERT_TRUE(plain);
	ASSERT_MEM_EQ(block, rnd, EROFS_BS);
	/* the last 4 KiB or less: plain */
	ASSERT_EQ(erofs_z_block(z, zeros, 3000, block, &plain), 3000);
	ASSERT_TRUE(plain);
	erofs_z_free(z);
}
