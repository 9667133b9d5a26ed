/* ext4 end to end: plan a tree with every node type, emit it with a test-only emitter, and
 * let e2fsck, debugfs, resize2fs and (as root) the kernel judge the image. */
#include "fs/ext4/ext4.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include "fs/ext4/ext4-test.h"
#include "util/cleanup.h"
#include "util/test.h"

#define SPARSE_SIZE (5ull << 30)
#define SPARSE_TAIL 5000u

/* VFS capability v2: magic|effective, permitted cap_net_raw (13), inheritable 0. */
static uint8_t cap_value[20] = { 0x01, 0x00, 0x00, 0x02, 0x00, 0x20 };
/* POSIX ACL xattr v2: user::rw- user:1000:rwx group::r-- mask::rwx other::r-- */
static uint8_t acl_value[] = {
	0x02, 0, 0, 0,	  0x01, 0, 0x06, 0, 0xff, 0xff, 0xff, 0xff, 0x02, 0, 0x07, 0,
	0xe8, 0x03, 0, 0, 0x04, 0, 0x04, 0, 0xff, 0xff, 0xff, 0xff, 0x10, 0, 0x07, 0,
	0xff, 0xff, 0xff, 0xff, 0x20, 0, 0x04, 0, 0xff, 0xff, 0xff, 0xff,
};
static uint8_t big_value[3000];
static struct tree_xattr ping_x[] = { { (char *)"security.capability", cap_value, 20 } };
static struct tree_xattr acl_x[] = {
	{ (char *)"system.posix_acl_access", acl_value, sizeof(acl_value) },
	{ (char *)"user.comment", (uint8_t *)"hello", 5 },
};
static struct tree_xattr big_x[] = { { (char *)"user.big", big_value, sizeof(big_value) } };
static struct tree_extent sparse_data[2] = { { 0, 100 }, { SPARSE_SIZE - SPARSE_TAIL, SPARSE_TAIL } };
static struct tree_extent frag_data[6];

static char *work_dir;

static struct tree_node *add(struct tree *t, const char *path, const char *data, size_t len)
{
	struct diag d = { 0 };

	if (tree_add_data(t, path, data, len, 0644, 0, 0, 1600000000, &d) < 0)
		abort();
	return tree_lookup(t, path);
}

static void write_sparse(const char *path, const struct tree_extent *x, size_t n, uint64_t size,
			 uint8_t seed)
{
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	uint8_t *buf;

	if (fd < 0 || ftruncate(fd, (off_t)size) < 0)
		abort();
	for (size_t i = 0; i < n; i++) {
		buf = xmalloc(x[i].len);
		for (uint64_t k = 0; k < x[i].len; k++)
			buf[k] = (uint8_t)(seed + k * 7 + i);
		if (pwrite_full(fd, buf, x[i].len, x[i].off) < 0)
			abort();
		free(buf);
	}
	close(fd);
}

static struct tree *build_tree(void)
{
	struct tree *t = tree_new();
	struct tree_finalize_opts fo = { 0 };
	struct diag d = { 0 };
	struct tree_node *n, *h1, *h2;
	static char bigbuf[300 * 1024 + 17];
	char name[64];

	for (size_t i = 0; i < sizeof(bigbuf); i++)
		bigbuf[i] = (char)(i * 31 + (i >> 12));
	add(t, "/etc/hostname", "test\n", 5);
	add(t, "/empty", "", 0);
	add(t, "/big", bigbuf, sizeof(bigbuf));
	n = add(t, "/sparse", "", 0);
	n->src_data = NULL;
	n->src_path = xasprintf("%s/sparse.src", work_dir);
	n->size = SPARSE_SIZE;
	tree_node_set_sparse(t, n, sparse_data, 2);
	write_sparse(n->src_path, sparse_data, 2, SPARSE_SIZE, 3);
	n = add(t, "/frag", "", 0);
	n->src_data = NULL;
	n->src_path = xasprintf("%s/frag.src", work_dir);
	for (int i = 0; i < 6; i++)
		frag_data[i] = (struct tree_extent){ (uint64_t)i * 1048576, 8192 + 100 };
	n->size = 5 * 1048576 + 8192 + 100;
	tree_node_set_sparse(t, n, frag_data, 6);
	write_sparse(n->src_path, frag_data, 6, n->size, 9);
	if (tree_add_symlink(t, "/link-fast", "etc/hostname", 0, 0, 1600000000, &d) < 0 ||
	    tree_add_symlink(t, "/link-slow",
			     "a/very/long/symlink/target/that/does/not/fit/in/the/inode/body/"
			     "because/it/is/longer/than/sixty/bytes",
			     0, 0, 1600000000, &d) < 0)
		abort();
	h1 = add(t, "/hard1", "shared\n", 7);
	h2 = add(t, "/sub/hard2", "shared\n", 7);
	n = add(t, "/dev/null", "", 0);
	n->type = TREE_CHR, n->rdev_major = 1, n->rdev_minor = 3, n->mode = 0666;
	n = add(t, "/dev/sda", "", 0);
	n->type = TREE_BLK, n->rdev_major = 8, n->rdev_minor = 0, n->mode = 0660;
	n = add(t, "/dev/huge", "", 0);
	n->type = TREE_CHR, n->rdev_major = 300, n->rdev_minor = 70000;
	n = add(t, "/fifo", "", 0);
	n->type = TREE_FIFO;
	n = add(t, "/sock", "", 0);
	n->type = TREE_SOCK, n->mode = 0755;
	n = add(t, "/ping", "ELF", 3);
	n->mode = 0755, n->uid = 70000, n->gid = 100;
	n->mtime_nsec = 123456789;
	tree_node_set_xattrs(t, n, ping_x, 1);
	n = add(t, "/acl", "acl\n", 4);
	tree_node_set_xattrs(t, n, acl_x, 2);
	n = add(t, "/bigx", "x", 1);
	tree_node_set_xattrs(t, n, big_x, 1);
	add(t, "/a/b/c/d/e/f/deep", "deep\n", 5);
	for (int i = 0; i < 3000; i++) {
		snprintf(name, sizeof(name), "/many/entry-with-a-longish-name-%05d", i);
		add(t, name, "", 0);
	}
	if (tree_finalize(t, &fo, &d) < 0)
		abort();
	/* Hard links made by hand: the host-identity grouping is tree/'s business. */
	h1 = tree_lookup(t, "/hard1");
	h2 = tree_lookup(t, "/sub/hard2");
	h2->hardlink = h1;
	h1->n_links = 2;
	return t;
}

static int run_out(const char *out, const char *a0, const char *a1, const char *a2,
		   const char *a3, const char *a4)
{
	char *argv[] = { (char *)a0, (char *)a1, (char *)a2, (char *)a3, (char *)a4, NULL };

	return test_run(argv, out);
}

static char *debugfs(const char *img, const char *req)
{
	char *out = xasprintf("%s/debugfs.out", work_dir);
	char *s;

	static char *last; /* the previous answer, freed on the next call */

	(void)run_out(out, "debugfs", "-R", req, img, NULL);
	s = et_slurp(out);
	free(out);
	free(last);
	last = s;
	return s;
}

static struct tree *tree;
static char *img;

static void print_file(const char *path)
{
	char *text = et_slurp(path);

	fprintf(stderr, "%s", text);
	free(text);
}

/* mnt + rel in a string that lives until the next call. */
static const char *in_mnt(const char *mnt, const char *rel)
{
	static char *last;

	free(last);
	last = xasprintf("%s%s", mnt, rel);
	return last;
}

static void setup(void)
{
	struct ext4_params p;
	struct ext4_plan *pl = NULL;
	struct diag d = { 0 };
	int r;

	if (img)
		return;
	for (size_t i = 0; i < sizeof(big_value); i++)
		big_value[i] = (uint8_t)i;
	work_dir = xstrdup("/tmp/ext4_e2e.XXXXXX");
	if (!mkdtemp(work_dir))
		abort();
	tree = build_tree();
	et_params(&p);
	p.size_bytes = 64 << 20;
	r = ext4_plan(&p, tree, &d, &pl);
	if (r < 0) {
		fprintf(stderr, "plan: %s\n", diag_message(&d, r));
		abort();
	}
	img = xasprintf("%s/fs.img", work_dir);
	if (et_emit(pl, img) < 0)
		abort();
	ext4_plan_free(pl);
}

TEST(e2fsck_clean)
{
	char *out, *text;
	int r;

	if (!test_have("e2fsck")) {
		TEST_SKIP("e2fsck missing");
	}
	setup();
	out = xasprintf("%s/e2fsck.out", work_dir);
	r = run_out(out, "e2fsck", "-fn", img, NULL, NULL);
	text = et_slurp(out);
	fprintf(stderr, "%s", text);
	free(text);
	free(out);
	ASSERT_EQ(r, 0);
}

TEST(debugfs_contents)
{
	char *s;

	if (!test_have("debugfs"))
		TEST_SKIP("debugfs missing");
	setup();
	s = debugfs(img, "cat /etc/hostname");
	ASSERT_TRUE(strstr(s, "test\n") != NULL);
	s = debugfs(img, "stat /sparse");
	ASSERT_TRUE(strstr(s, "Size: 5368709120") != NULL);
	s = debugfs(img, "stat /ping");
	ASSERT_TRUE(strstr(s, "User: 70000") != NULL);
	ASSERT_TRUE(strstr(s, "security.capability") != NULL);
	s = debugfs(img, "stat /link-slow");
	ASSERT_TRUE(strstr(s, "EXTENTS") != NULL);
	s = debugfs(img, "stat /frag");
	ASSERT_TRUE(strstr(s, "(ETB0)") != NULL); /* an extent tree below the inode */
	s = debugfs(img, "htree /many");
	ASSERT_TRUE(strstr(s, "Root node dump") != NULL);
	s = debugfs(img, "stat /dev/huge");
	ASSERT_TRUE(strstr(s, "Device major/minor number: 300:70000") != NULL);
	s = debugfs(img, "ea_list /bigx");
	ASSERT_TRUE(strstr(s, "user.big") != NULL);
}

static bool file_equals_tree(const char *mnt, const struct tree_node *n)
{
	char *path = tree_node_path(n), *full = xasprintf("%s%s", mnt, path);
	int fd = open(full, O_RDONLY | O_CLOEXEC), sfd = -1;
	uint8_t *a = xmalloc(1 << 20), *b = xmalloc(1 << 20);
	bool ok = fd >= 0;

	if (ok && !n->src_data)
		sfd = open(n->src_path, O_RDONLY | O_CLOEXEC);
	for (uint64_t off = 0; ok && off < n->size; off += 1 << 20) {
		size_t len = (size_t)MIN((uint64_t)1 << 20, n->size - off);

		/* The sparse file: only compare around its data. */
		if (n->size > (1ull << 30) && off > (1 << 20) && off + (2 << 20) < n->size)
			continue;
		ok = pread_full(fd, a, len, off) == 0;
		if (n->src_data)
			memcpy(b, n->src_data + off, len);
		else
			ok = ok && pread_full(sfd, b, len, off) == 0;
		ok = ok && memcmp(a, b, len) == 0;
	}
	if (fd >= 0)
		close(fd);
	if (sfd >= 0)
		close(sfd);
	free(a);
	free(b);
	free(path);
	free(full);
	return ok;
}

TEST(kernel_mount_matches_tree)
{
	const char *p;
	char *mnt, buf[256];
	struct stat st, st2;
	ssize_t len;

	if (geteuid() != 0) {
		TEST_SKIP("not root: no loop mount");
	}
	setup();
	mnt = xasprintf("%s/mnt", work_dir);
	mkdir(mnt, 0755);
	/* Without loop devices (a container) nothing can be mounted; with them, a mount the kernel
	 * refuses is a failure (the image is bad), never a skip. */
	if (access("/dev/loop-control", F_OK) != 0)
		TEST_SKIP("no /dev/loop-control: loop mounts unavailable");
	if (run_out(NULL, "mount", "-o", "loop,ro", img, mnt) != 0)
		TEST_FAIL_("the kernel refused to mount %s (mount -o loop,ro)", img);
	for (size_t i = 0; i < tree->n_nodes; i++) {
		const struct tree_node *n = tree->nodes[i];

		if (n->type == TREE_REG && !file_equals_tree(mnt, n)) {
			char *path = tree_node_path(n);

			fprintf(stderr, "  differs: %s\n", path);
			free(path);
			*_failed = 1;
		}
	}
	p = in_mnt(mnt, "/link-slow");
	len = readlink(p, buf, sizeof(buf));
	ASSERT_EQ(len, (ssize_t)tree_lookup(tree, "/link-slow")->size);
	p = in_mnt(mnt, "/hard1");
	ASSERT_OK(stat(p, &st));
	p = in_mnt(mnt, "/sub/hard2");
	ASSERT_OK(stat(p, &st2));
	ASSERT_EQ(st.st_ino, st2.st_ino);
	ASSERT_EQ(st.st_nlink, 2);
	p = in_mnt(mnt, "/dev/huge");
	ASSERT_OK(lstat(p, &st));
	ASSERT_EQ(major(st.st_rdev), 300);
	ASSERT_EQ(minor(st.st_rdev), 70000);
	p = in_mnt(mnt, "/ping");
	ASSERT_OK(lstat(p, &st));
	ASSERT_EQ(st.st_mtim.tv_nsec, 123456789);
	ASSERT_EQ(lgetxattr(p, "security.capability", buf, sizeof(buf)), 20);
	ASSERT_MEM_EQ(buf, cap_value, 20);
	p = in_mnt(mnt, "/acl");
	ASSERT_EQ(lgetxattr(p, "system.posix_acl_access", buf, sizeof(buf)),
		  (ssize_t)sizeof(acl_value));
	ASSERT_MEM_EQ(buf, acl_value, sizeof(acl_value));
	p = in_mnt(mnt, "/many/entry-with-a-longish-name-02718");
	ASSERT_OK(lstat(p, &st));
	(void)umount(mnt);
	free(mnt);
}

TEST(resize2fs_grows_it)
{
	char *copy, *out, *cmd;
	int r;

	if (!test_have("resize2fs") || !test_have("e2fsck"))
		TEST_SKIP("resize2fs or e2fsck missing");
	setup();
	copy = xasprintf("%s/grow.img", work_dir);
	cmd = xasprintf("cp --sparse=always %s %s && truncate -s +1G %s", img, copy, copy);
	ASSERT_EQ(run_out(NULL, "sh", "-c", cmd, NULL, NULL), 0);
	out = xasprintf("%s/resize.out", work_dir);
	r = run_out(out, "resize2fs", copy, NULL, NULL, NULL);
	if (r)
		print_file(out);
	ASSERT_EQ(r, 0);
	r = run_out(out, "e2fsck", "-fn", copy, NULL, NULL);
	if (r)
		print_file(out);
	ASSERT_EQ(r, 0);
	(void)unlink(copy);
	free(copy);
	free(out);
	free(cmd);
}

/* Several groups, a short last group, a journal across the flex group: e2fsck must agree
 * with every bitmap, descriptor and backup. */
TEST(multi_group_sizes_e2fsck_clean)
{
	static const uint64_t sizes[] = { 300ull << 20, (1ull << 30) + (7ull << 20), 5ull << 30,
					  130ull << 30 /* 1 GiB journal: an extent tree */ };

	if (!test_have("e2fsck"))
		TEST_SKIP("e2fsck missing");
	setup();
	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
		struct ext4_params p;
		struct ext4_plan *pl = NULL;
		struct diag d = { 0 };
		char *path = xasprintf("%s/multi.img", work_dir), *out;
		int r;

		et_params(&p);
		p.size_bytes = sizes[i];
		ASSERT_OK(ext4_plan(&p, tree, &d, &pl));
		ASSERT_OK(et_emit(pl, path));
		ext4_plan_free(pl);
		out = xasprintf("%s/multi.out", work_dir);
		r = run_out(out, "e2fsck", "-fn", path, NULL, NULL);
		if (r)
			print_file(out);
		ASSERT_EQ(r, 0);
		if (i == ARRAY_SIZE(sizes) - 1 && getenv("EXT4_KEEP")) /* for manual inspection */
			(void)link(path, getenv("EXT4_KEEP"));
		(void)unlink(path);
		free(path);
		free(out);
	}
}

/* Below 2048 blocks mke2fs makes no journal: inode 8 must then be unused (zero, as e2fsck
 * checks), and the journal appears from 8 MiB. */
TEST(small_sizes_without_journal_e2fsck_clean)
{
	static const uint64_t sizes[] = { 1ull << 20, 2ull << 20, 5ull << 20, 8ull << 20 };
	struct tree *t = tree_new();
	struct tree_finalize_opts fo = { 0 };

	if (!test_have("e2fsck"))
		TEST_SKIP("e2fsck missing");
	setup();
	add(t, "/hello", "hi\n", 3);
	ASSERT_OK(tree_finalize(t, &fo, &(struct diag){ 0 }));
	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
		struct ext4_params p;
		struct ext4_plan *pl = NULL;
		struct ext4_stats st;
		struct diag d = { 0 };
		char *path = xasprintf("%s/small.img", work_dir), *out;
		int r;

		et_params(&p);
		p.size_bytes = sizes[i];
		ASSERT_OK(ext4_plan(&p, t, &d, &pl));
		ext4_plan_stats(pl, &st);
		ASSERT_EQ(st.journal_blocks != 0, sizes[i] >= (8ull << 20));
		ASSERT_OK(et_emit(pl, path));
		ext4_plan_free(pl);
		out = xasprintf("%s/small.out", work_dir);
		r = run_out(out, "e2fsck", "-fn", path, NULL, NULL);
		if (r)
			print_file(out);
		ASSERT_EQ(r, 0);
		(void)unlink(path);
		free(path);
		free(out);
	}
	tree_free(t);
}

__attribute__((destructor)) static void cleanup(void)
{
	if (work_dir)
		(void)run_out(NULL, "rm", "-rf", work_dir, NULL, NULL);
}
