/* ext4_grow: filesystems made by our writer and by mkfs.ext4, grown through a file-backed
 * fs_io by several amounts, each judged by e2fsck -fn, dumpe2fs -h (against resize2fs on a
 * copy), debugfs (the resize inode, the files written before) and, as root, the kernel. */
#include "fs/ext4/ext4.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "fs/ext4/ext4-test.h"
#include "fs/fs-io.h"
#include "util/cleanup.h"
#include "util/crc.h"
#include "util/endian.h"
#include "util/test.h"

#define MiB (1ull << 20)
#define GiB (1ull << 30)

static char *work_dir;

struct file_io {
	int fd;
	uint64_t bytes_written;
};

static int fio_read(void *ctx, uint64_t off, void *buf, size_t len, struct diag *d)
{
	struct file_io *f = ctx;
	int r = pread_full(f->fd, buf, len, off);

	return r < 0 ? diag_fail(d, r, "read at %llu: %s", (unsigned long long)off, strerror(-r)) : 0;
}

static int fio_write(void *ctx, uint64_t off, const void *buf, size_t len, struct diag *d)
{
	struct file_io *f = ctx;
	int r = pwrite_full(f->fd, buf, len, off);

	f->bytes_written += len;
	return r < 0 ? diag_fail(d, r, "write at %llu: %s", (unsigned long long)off, strerror(-r)) : 0;
}

static void work_init(void)
{
	if (work_dir)
		return;
	work_dir = xstrdup("/tmp/ext4_grow.XXXXXX");
	if (!mkdtemp(work_dir))
		abort();
}

/* Grow the image file to new_bytes (the file first, as the resize command does). */
static int grow_file(const char *path, uint64_t new_bytes, struct ext4_grow_info *info,
		     char *msg, size_t msg_len, uint64_t *written)
{
	struct file_io f = { open(path, O_RDWR | O_CLOEXEC), 0 };
	struct fs_io io = { &f, fio_read, fio_write };
	struct diag d = { 0 };
	struct stat st;
	int r;

	if (f.fd < 0)
		return -errno;
	if (fstat(f.fd, &st) == 0 && (uint64_t)st.st_size < new_bytes &&
	    ftruncate(f.fd, (off_t)new_bytes) < 0)
		abort();
	r = ext4_grow(&io, new_bytes, info, &d);
	if (msg)
		snprintf(msg, msg_len, "%s", r < 0 ? diag_message(&d, r) : "");
	if (r < 0)
		fprintf(stderr, "  grow: %s\n", diag_message(&d, r));
	if (written)
		*written = f.bytes_written;
	close(f.fd);
	return r;
}

static char *run_capture(char *const argv[], int *ret)
{
	char *out = xasprintf("%s/cmd.out", work_dir), *s;

	*ret = test_run(argv, out);
	s = et_slurp(out);
	free(out);
	return s;
}

/* e2fsck -fn: exit 0 and no "Fix?" question. */
static bool fsck_clean(const char *img)
{
	char *const argv[] = { (char *)"e2fsck", (char *)"-fn", (char *)img, NULL };
	int r;
	char *s = run_capture(argv, &r);
	bool ok = r == 0 && !strstr(s, "Fix?") && !strstr(s, "Fix? no");

	if (!ok)
		fprintf(stderr, "  e2fsck -fn %s (exit %d):\n%s\n", img, r, s);
	free(s);
	return ok;
}

/* A "Name:   value" line of dumpe2fs -h, as a number (-1 when missing). */
static long long dumpe2fs_field(const char *img, const char *name)
{
	char *const argv[] = { (char *)"dumpe2fs", (char *)"-h", (char *)img, NULL };
	int r;
	char *s = run_capture(argv, &r), *p;
	char *key = xasprintf("\n%s:", name);
	long long v = -1;

	p = strstr(s, key);
	if (p)
		v = strtoll(p + strlen(key), NULL, 10);
	free(key);
	free(s);
	return v;
}

static char *debugfs_req(const char *img, const char *req)
{
	char *const argv[] = { (char *)"debugfs", (char *)"-R", (char *)req, (char *)img, NULL };
	int r;

	return run_capture(argv, &r);
}

static bool file_has(const char *img, const char *path, const char *want)
{
	char *req = xasprintf("cat %s", path), *s = debugfs_req(img, req);
	bool ok = strstr(s, want) != NULL;

	if (!ok)
		fprintf(stderr, "  %s: %s lost (got \"%.200s\")\n", img, path, s);
	free(req);
	free(s);
	return ok;
}

/* The whole of /big, as the writer wrote it. */
static bool big_intact(const char *img)
{
	char *out = xasprintf("%s/big.out", work_dir), *req = xasprintf("dump /big %s", out);
	char *s = debugfs_req(img, req), *got = et_slurp(out);
	bool ok = strlen(got) == 200000 - 1 + 1;

	for (size_t i = 0; ok && i + 1 < 200000; i++)
		ok = got[i] == (char)('a' + i % 26);
	if (!ok)
		fprintf(stderr, "  %s: /big differs\n", img);
	unlink(out);
	free(s);
	free(got);
	free(req);
	free(out);
	return ok;
}

static bool resize_inode_sane(const char *img)
{
	char *const argv[] = { (char *)"dumpe2fs", (char *)"-h", (char *)img, NULL };
	int r;
	char *s = run_capture(argv, &r);
	bool ok, has = strstr(s, " resize_inode") != NULL;

	free(s);
	s = debugfs_req(img, "stat <7>");
	ok = has ? strstr(s, "Type: regular") && strstr(s, "(DIND)") : strstr(s, "Blockcount: 0") != NULL;

	if (!ok)
		fprintf(stderr, "  stat <7>:\n%s\n", s);
	free(s);
	return ok;
}

static const char *fields[] = { "Block count", "Free blocks", "Inode count", "Free inodes",
				"Reserved block count", "Reserved GDT blocks" };

/* The same figures as resize2fs gives a copy of the original (itself e2fsck-clean). */
static bool same_as_resize2fs(const char *orig, const char *grown, uint64_t new_bytes)
{
	char *copy = xasprintf("%s/resize2fs.img", work_dir);
	char *size = xasprintf("%lluK", (unsigned long long)(new_bytes >> 10));
	char *const cp[] = { (char *)"cp", (char *)"--sparse=always", (char *)orig, copy, NULL };
	char *const rz[] = { (char *)"resize2fs", (char *)"-f", copy, size, NULL };
	bool ok = true;
	int r;
	char *s;

	if (test_run(cp, NULL) != 0 || truncate(copy, (off_t)new_bytes) < 0)
		abort();
	s = run_capture(rz, &r);
	if (r != 0) {
		fprintf(stderr, "  resize2fs failed: %s\n", s);
		ok = false;
	}
	free(s);
	ok = ok && fsck_clean(copy);
	for (size_t i = 0; ok && i < ARRAY_SIZE(fields); i++) {
		long long a = dumpe2fs_field(grown, fields[i]), b = dumpe2fs_field(copy, fields[i]);

		if (a != b) { /* "Reserved GDT blocks" is absent (-1) on both without any */
			fprintf(stderr, "  %s: ours %lld, resize2fs %lld\n", fields[i], a, b);
			ok = false;
		}
	}
	unlink(copy);
	free(copy);
	free(size);
	return ok;
}

/* ---- building filesystems ------------------------------------------------------------- */

/* Our writer: a few files, size_bytes. */
static char *writer_fs(const char *name, uint64_t size_bytes)
{
	struct tree *t = tree_new();
	struct tree_finalize_opts fo = { 0 };
	struct ext4_params p;
	struct ext4_plan *pl = NULL;
	struct diag d = { 0 };
	static char big[200000];
	char *img;

	work_init();
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (char)('a' + i % 26);
	big[sizeof(big) - 1] = '\n';
	if (tree_add_data(t, "/etc/hostname", "grown\n", 6, 0644, 0, 0, 1600000000, &d) < 0 ||
	    tree_add_data(t, "/big", big, sizeof(big), 0644, 0, 0, 1600000000, &d) < 0 ||
	    tree_finalize(t, &fo, &d) < 0)
		abort();
	et_params(&p);
	p.size_bytes = size_bytes;
	if (ext4_plan(&p, t, &d, &pl) < 0) {
		fprintf(stderr, "plan: %s\n", d.msg);
		abort();
	}
	img = xasprintf("%s/%s.img", work_dir, name);
	if (et_emit(pl, img) < 0)
		abort();
	ext4_plan_free(pl);
	tree_free(t);
	return img;
}

/* mkfs.ext4 (Debian's defaults plus opts) of size_bytes, with /hello written by debugfs. */
static char *mkfs_fs(const char *name, uint64_t size_bytes, const char *opt1, const char *opt2)
{
	char *img, *src, *size = xasprintf("%lluk", (unsigned long long)(size_bytes >> 10));
	char *argv[10] = { (char *)"mkfs.ext4", (char *)"-q", (char *)"-F", (char *)"-E",
			   (char *)"root_owner=0:0" };
	int n = 5, fd;

	work_init();
	img = xasprintf("%s/%s.img", work_dir, name);
	src = xasprintf("%s/hello.src", work_dir);
	unlink(img);
	if (opt1)
		argv[n++] = (char *)opt1;
	if (opt2)
		argv[n++] = (char *)opt2;
	argv[n++] = img;
	argv[n++] = size;
	fd = open(src, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, "hello, grown world\n", 19) != 19)
		abort();
	close(fd);
	if (test_run(argv, NULL) != 0) {
		fprintf(stderr, "mkfs.ext4 failed\n");
		abort();
	}
	{
		char *req = xasprintf("write %s hello", src);
		char *const dw[] = { (char *)"debugfs", (char *)"-w", (char *)"-R", req, img, NULL };

		if (test_run(dw, NULL) != 0)
			abort();
		free(req);
	}
	free(src);
	free(size);
	return img;
}

static bool have_tools(void)
{
	return test_have("e2fsck") && test_have("dumpe2fs") && test_have("debugfs") &&
	       test_have("mkfs.ext4") && test_have("resize2fs");
}

/* Copy src (sparse) to a fresh image named name. */
static char *copy_img(const char *src, const char *name)
{
	char *dst = xasprintf("%s/%s.img", work_dir, name);
	char *const cp[] = { (char *)"cp", (char *)"--sparse=always", (char *)src, dst, NULL };

	if (test_run(cp, NULL) != 0)
		abort();
	return dst;
}

/* Grow a copy of orig to new_bytes and judge it; compare with resize2fs when asked. */
static bool grow_and_check(const char *orig, const char *name, uint64_t new_bytes,
			   const char *file, const char *content, bool vs_resize2fs)
{
	char *img = copy_img(orig, name);
	struct ext4_grow_info info;
	uint64_t written;
	bool ok;
	int r = grow_file(img, new_bytes, &info, NULL, 0, &written);

	ok = r == 0 && info.new_blocks > info.old_blocks;
	if (ok)
		fprintf(stderr, "  %s: %llu -> %llu blocks, %u -> %u groups, %llu bytes written\n",
			name, (unsigned long long)info.old_blocks,
			(unsigned long long)info.new_blocks, info.old_groups, info.new_groups,
			(unsigned long long)written);
	ok = ok && fsck_clean(img);
	ok = ok && dumpe2fs_field(img, "Block count") == (long long)info.new_blocks;
	ok = ok && (long long)info.new_blocks * info.block_size > (long long)(new_bytes - 2 * 128 * MiB);
	ok = ok && resize_inode_sane(img);
	ok = ok && file_has(img, file, content);
	ok = ok && (strcmp(file, "/big") || big_intact(img));
	ok = ok && (!vs_resize2fs || same_as_resize2fs(orig, img, new_bytes));
	if (ok)
		unlink(img);
	free(img);
	return ok;
}

/* ---- our writer ------------------------------------------------------------------------ */

TEST(writer_within_last_group)
{
	char *img;

	if (!have_tools())
		TEST_SKIP("e2fsprogs missing");
	img = writer_fs("w64", 64 * MiB);
	ASSERT_TRUE(fsck_clean(img));
	ASSERT_TRUE(grow_and_check(img, "w64-100", 100 * MiB, "/etc/hostname", "grown\n", true));
	ASSERT_TRUE(grow_and_check(img, "w64-600", 600 * MiB, "/big", "abcdefghijklmnopqrstuvwxyzabc", true));
	unlink(img);
	free(img);
}

TEST(writer_flex_and_gdt_block)
{
	char *img;

	if (!have_tools())
		TEST_SKIP("e2fsprogs missing");
	img = writer_fs("w1g", 1 * GiB);
	/* 8 -> 24 groups: across a flex group boundary */
	ASSERT_TRUE(grow_and_check(img, "w1g-3g", 3 * GiB, "/etc/hostname", "grown\n", true));
	/* 8 -> 72 groups: a second GDT block from the reserve */
	ASSERT_TRUE(grow_and_check(img, "w1g-9g", 9 * GiB, "/big", "abcdefghijklmnopqrstuvwxyzabc", true));
	/* a partial last group, and a size whose last group would be too small */
	ASSERT_TRUE(grow_and_check(img, "w1g-odd", 5 * GiB + 7 * MiB + 4096, "/big", "abcdefghijklmnopqrstuvwxyzabc",
				   true));
	unlink(img);
	free(img);
}

TEST(writer_2g_to_100g)
{
	char *img;

	if (!have_tools())
		TEST_SKIP("e2fsprogs missing");
	img = writer_fs("w2g", 2 * GiB);
	ASSERT_TRUE(grow_and_check(img, "w2g-100g", 100 * GiB, "/etc/hostname", "grown\n", true));
	unlink(img);
	free(img);
}

TEST(writer_twice)
{
	char *img, *g;
	struct ext4_grow_info info;

	if (!have_tools())
		TEST_SKIP("e2fsprogs missing");
	img = writer_fs("wtw", 200 * MiB);
	g = copy_img(img, "wtw-grown");
	ASSERT_OK(grow_file(g, 1 * GiB, &info, NULL, 0, NULL));
	ASSERT_OK(grow_file(g, 20 * GiB, &info, NULL, 0, NULL));
	ASSERT_TRUE(fsck_clean(g));
	ASSERT_TRUE(file_has(g, "/etc/hostname", "grown\n"));
	/* the same size again: nothing to do */
	ASSERT_OK(grow_file(g, 20 * GiB, &info, NULL, 0, NULL));
	ASSERT_EQ(info.old_blocks, info.new_blocks);
	unlink(g);
	unlink(img);
	free(g);
	free(img);
}

/* ---- mkfs.ext4 ------------------------------------------------------------------------- */

TEST(mkfs_default_4k)
{
	char *img;

	if (!have_tools())
		TEST_SKIP("e2fsprogs missing");
	img = mkfs_fs("m1g", 1 * GiB, "-b", "4096");
	ASSERT_TRUE(grow_and_check(img, "m1g-1.5g", 1536 * MiB, "/hello", "hello, grown", true));
	ASSERT_TRUE(grow_and_check(img, "m1g-9g", 9 * GiB, "/hello", "hello, grown", true));
	unlink(img);
	free(img);
}

TEST(mkfs_small_1k_blocks)
{
	char *img;

	if (!have_tools())
		TEST_SKIP("e2fsprogs missing");
	/* "small": 1 KiB blocks, 8192 blocks per group, 16 descriptors a block */
	img = mkfs_fs("m32", 32 * MiB, NULL, NULL);
	ASSERT_EQ(dumpe2fs_field(img, "Block size"), 1024);
	ASSERT_TRUE(grow_and_check(img, "m32-40", 40 * MiB, "/hello", "hello, grown", true));
	ASSERT_TRUE(grow_and_check(img, "m32-300", 300 * MiB, "/hello", "hello, grown", true));
	unlink(img);
	free(img);
}

TEST(mkfs_uninit_bg_32bit)
{
	char *img;

	if (!have_tools())
		TEST_SKIP("e2fsprogs missing");
	/* crc16 descriptor checksums, 32-byte descriptors */
	img = mkfs_fs("mu", 256 * MiB, "-O", "^64bit,^metadata_csum,uninit_bg");
	ASSERT_TRUE(grow_and_check(img, "mu-6g", 6 * GiB, "/hello", "hello, grown", true));
	unlink(img);
	free(img);
}

TEST(mkfs_no_checksums_no_flex)
{
	char *img;

	if (!have_tools())
		TEST_SKIP("e2fsprogs missing");
	img = mkfs_fs("mn", 256 * MiB, "-O", "^metadata_csum,^flex_bg,^uninit_bg");
	ASSERT_TRUE(grow_and_check(img, "mn-3g", 3 * GiB, "/hello", "hello, grown", true));
	unlink(img);
	free(img);
	img = mkfs_fs("mn1k", 20 * MiB, "-O", "^metadata_csum,^flex_bg,^uninit_bg");
	ASSERT_TRUE(grow_and_check(img, "mn1k-200m", 200 * MiB, "/hello", "hello, grown", true));
	unlink(img);
	free(img);
}

TEST(mkfs_orphan_file_csum_seed)
{
	char *img;

	if (!have_tools())
		TEST_SKIP("e2fsprogs missing");
	img = mkfs_fs("mo", 512 * MiB, "-O", "orphan_file,metadata_csum_seed");
	ASSERT_TRUE(grow_and_check(img, "mo-2g", 2 * GiB, "/hello", "hello, grown", true));
	unlink(img);
	free(img);
}

/* ---- refusals -------------------------------------------------------------------------- */

TEST(refuse_shrink_and_limits)
{
	char *img, *g;
	char msg[1024];
	struct ext4_grow_info info;

	if (!have_tools())
		TEST_SKIP("e2fsprogs missing");
	img = writer_fs("wr", 64 * MiB);
	g = copy_img(img, "wr-g");
	ASSERT_ERR(grow_file(g, 32 * MiB, &info, msg, sizeof(msg), NULL), -EINVAL);
	ASSERT_TRUE(strstr(msg, "shrink") != NULL);
	/* 64 MiB reserves GDT blocks for 1024 times the size: 8 GDT blocks, 512 groups */
	ASSERT_ERR(grow_file(g, 65 * GiB, &info, msg, sizeof(msg), NULL), -ENOSPC);
	ASSERT_TRUE(strstr(msg, "largest size reachable is 68719476736 bytes") != NULL);
	ASSERT_TRUE(fsck_clean(g)); /* refused before any write */
	ASSERT_OK(grow_file(g, 64 * GiB, &info, NULL, 0, NULL));
	ASSERT_EQ(info.new_groups, 512);
	ASSERT_TRUE(fsck_clean(g));
	unlink(g);
	free(g);
	unlink(img);
	free(img);
}

TEST(refuse_features)
{
	char *img;
	char msg[1024];

	if (!have_tools())
		TEST_SKIP("e2fsprogs missing");
	img = mkfs_fs("mb", 64 * MiB, "-O", "meta_bg,^resize_inode");
	ASSERT_ERR(grow_file(img, 128 * MiB, NULL, msg, sizeof(msg), NULL), -EOPNOTSUPP);
	ASSERT_TRUE(strstr(msg, "meta_bg") != NULL);
	free(img);
	img = mkfs_fs("mbig", 64 * MiB, "-Obigalloc", "-b4096");
	if (img) {
		ASSERT_ERR(grow_file(img, 128 * MiB, NULL, msg, sizeof(msg), NULL), -EOPNOTSUPP);
		ASSERT_TRUE(strstr(msg, "bigalloc") != NULL);
		free(img);
	}
	/* no resize_inode: grows while the GDT block has room, not past it */
	img = mkfs_fs("mnr", 1 * GiB, "-O", "^resize_inode");
	ASSERT_ERR(grow_file(img, 9 * GiB, NULL, msg, sizeof(msg), NULL), -ENOSPC);
	ASSERT_TRUE(strstr(msg, "largest size reachable is 8589934592 bytes") != NULL);
	ASSERT_TRUE(grow_and_check(img, "mnr-8g", 8 * GiB, "/hello", "hello, grown", true));
	free(img);
}

static void poke_sb(const char *img, size_t off, const void *bytes, size_t len, bool fix_csum)
{
	int fd = open(img, O_RDWR | O_CLOEXEC);
	uint8_t sb[1024];

	if (fd < 0 || pread_full(fd, sb, sizeof(sb), 1024) < 0)
		abort();
	memcpy(sb + off, bytes, len);
	if (fix_csum)
		le32_put(sb + 0x3fc, crc32c_le(~0u, sb, 0x3fc));
	if (pwrite_full(fd, sb, sizeof(sb), 1024) < 0)
		abort();
	close(fd);
}

TEST(refuse_corrupt_or_unclean)
{
	char *img;
	char msg[1024];
	uint8_t zero[2] = { 0, 0 };

	if (!have_tools())
		TEST_SKIP("e2fsprogs missing");
	img = mkfs_fs("mc", 64 * MiB, NULL, NULL);
	poke_sb(img, 0x3a, zero, 2, true); /* s_state: not clean */
	ASSERT_ERR(grow_file(img, 128 * MiB, NULL, msg, sizeof(msg), NULL), -EUCLEAN);
	ASSERT_TRUE(strstr(msg, "run e2fsck first") != NULL);
	free(img);
	img = mkfs_fs("mc2", 64 * MiB, NULL, NULL);
	poke_sb(img, 0x38, zero, 2, true); /* magic */
	ASSERT_ERR(grow_file(img, 128 * MiB, NULL, msg, sizeof(msg), NULL), -EINVAL);
	free(img);
	img = mkfs_fs("mc3", 64 * MiB, NULL, NULL);
	poke_sb(img, 0x28, zero, 2, false); /* inodes per group, under the checksum */
	ASSERT_ERR(grow_file(img, 128 * MiB, NULL, msg, sizeof(msg), NULL), -EUCLEAN);
	ASSERT_TRUE(strstr(msg, "checksum") != NULL);
	free(img);
}

/* ---- the kernel ------------------------------------------------------------------------ */

TEST(kernel_mount_grown)
{
	char *img, *g, *mnt, *file;
	char *df_out;
	int r, fd;
	static char buf[1 << 20];

	if (geteuid() != 0)
		TEST_SKIP("not root");
	if (!have_tools())
		TEST_SKIP("e2fsprogs missing");
	img = writer_fs("wk", 256 * MiB);
	g = copy_img(img, "wk-g");
	ASSERT_OK(grow_file(g, 6 * GiB, NULL, NULL, 0, NULL));
	mnt = xasprintf("%s/mnt", work_dir);
	mkdir(mnt, 0755);
	{
		char *const m[] = { (char *)"mount", (char *)"-o", (char *)"loop", g, mnt, NULL };

		if (test_run(m, NULL) != 0) {
			unlink(g);
			TEST_SKIP("cannot loop-mount");
		}
	}
	{
		char *const df[] = { (char *)"df", (char *)"-B1", (char *)"--output=size", mnt, NULL };

		df_out = run_capture(df, &r);
	}
	/* 6 GiB less the metadata: more than 5.5 GiB */
	{
		char *p = strchr(df_out, '\n');
		long long size = p ? strtoll(p + 1, NULL, 10) : 0;

		fprintf(stderr, "  df size %lld\n", size);
		if (size < (long long)(5 * GiB + 512 * MiB))
			r = -1;
	}
	free(df_out);
	/* 1 GiB of data: most of it lands past the old end */
	file = xasprintf("%s/new", mnt);
	fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	memset(buf, 0x5a, sizeof(buf));
	for (int i = 0; fd >= 0 && i < 1024; i++)
		if (write(fd, buf, sizeof(buf)) != (ssize_t)sizeof(buf))
			r = -1;
	if (fd < 0 || fsync(fd) < 0)
		r = -1;
	if (fd >= 0)
		close(fd);
	{
		char *const um[] = { (char *)"umount", mnt, NULL };

		if (test_run(um, NULL) != 0)
			r = -1;
	}
	ASSERT_EQ(r, 0);
	ASSERT_TRUE(fsck_clean(g));
	ASSERT_TRUE(file_has(g, "/etc/hostname", "grown\n"));
	unlink(g);
	unlink(img);
	free(file);
	free(mnt);
	free(g);
	free(img);
}
