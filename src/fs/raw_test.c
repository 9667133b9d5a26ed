#include "fs/fs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs/fs-test.h"
#include "image/plan.h"
#include "util/diag.h"
#include "util/fileio.h"
#include "util/test.h"
#include "util/xalloc.h"

#define PART_OFF (1u << 20)
#define PART_SIZE (2u << 20)

static char *dir_path(const char *dir, const char *name)
{
	return xasprintf("%s/%s", dir, name);
}

static void write_pattern(const char *path, uint64_t off, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	uint8_t *b = xmalloc(len);

	for (size_t i = 0; i < len; i++)
		b[i] = (uint8_t)(i * 7 + 1);
	if (fd < 0 || pwrite_full(fd, b, len, off) < 0)
		abort();
	close(fd);
	free(b);
}

/* Plan source into a PART_SIZE partition at PART_OFF and emit the disk to out. */
static int raw_build(const char *source, uint64_t part_size, const char *out, struct diag *d,
		     size_t *ret_ranges)
{
	const struct fs_ops *o = fs_ops_find("raw");
	struct fs_request rq = { .what = "partition 2", .role = "part2", .source = source,
				 .size_bytes = part_size };
	struct image_plan *ip = image_plan_new(PART_OFF + part_size);
	struct fs_plan *pl = NULL;
	int r;

	r = o->plan(&rq, d, &pl);
	if (r < 0) {
		image_plan_free(ip);
		return r;
	}
	o->ranges(pl, PART_OFF, ip);
	if (ret_ranges)
		*ret_ranges = ip->n_ranges;
	r = fs_test_emit_plan(ip, out, d);
	o->free(pl);
	return r;
}

/* The disk holds the file's bytes at PART_OFF and zeros everywhere else. */
static void check_disk(int *_failed, const char *disk, const char *file)
{
	uint8_t *a = NULL, *b = NULL;
	size_t al, bl;

	ASSERT_OK(read_file(disk, 64 << 20, &a, &al));
	ASSERT_OK(read_file(file, 64 << 20, &b, &bl));
	ASSERT_EQ(al, PART_OFF + PART_SIZE);
	for (size_t i = 0; i < al; i++)
		if (i < PART_OFF || i >= PART_OFF + bl)
			ASSERT_EQ(a[i], 0);
	ASSERT_MEM_EQ(a + PART_OFF, b, bl);
	free(a);
	free(b);
}

TEST(file_fills_the_start_of_the_partition)
{
	char *dir = fs_test_tmpdir("raw_test"), *src = dir_path(dir, "fw.bin"),
	     *link = dir_path(dir, "link"), *disk = dir_path(dir, "disk.img");
	const struct fs_ops *o = fs_ops_find("raw");
	struct fs_request rq = { .what = "partition 2", .role = "part2", .source = link };
	struct diag d = { 0 };
	uint64_t min;

	write_pattern(src, 0, 10000);
	ASSERT_EQ(symlink("fw.bin", link), 0); /* as a Nix result link: followed */
	ASSERT_OK(o->min_size(&rq, &d, &min));
	ASSERT_EQ(min, 10240);
	ASSERT_OK(raw_build(link, PART_SIZE, disk, &d, NULL));
	check_disk(_failed, disk, src);
	(void)unlink(src);
	(void)unlink(link);
	(void)unlink(disk);
	(void)rmdir(dir);
	free(src);
	free(link);
	free(disk);
}

TEST(holes_stay_holes)
{
	char *dir = fs_test_tmpdir("raw_test"), *src = dir_path(dir, "sparse.img"),
	     *disk = dir_path(dir, "disk.img");
	struct diag d = { 0 };
	struct stat st;
	size_t n = 0;
	int fd;

	write_pattern(src, 0, 4096);
	write_pattern(src, 1 << 20, 4096);
	fd = open(src, O_WRONLY | O_CLOEXEC);
	ASSERT_TRUE(fd >= 0 && ftruncate(fd, (3 << 19)) == 0);
	close(fd);
	ASSERT_OK(raw_build(src, PART_SIZE, disk, &d, &n));
	check_disk(_failed, disk, src);
	/* two data ranges where the file system keeps holes (one where it has none) */
	ASSERT_EQ(stat(src, &st), 0);
	ASSERT_EQ(n, (uint64_t)st.st_blocks * 512 < (uint64_t)st.st_size ? 2 : 1);
	(void)unlink(src);
	(void)unlink(disk);
	(void)rmdir(dir);
	free(src);
	free(disk);
}

TEST(file_of_exactly_the_partition_size_fits_and_one_byte_more_does_not)
{
	char *dir = fs_test_tmpdir("raw_test"), *src = dir_path(dir, "big.img"),
	     *disk = dir_path(dir, "disk.img"), *want;
	struct diag d = { 0 };

	write_pattern(src, 0, PART_SIZE);
	ASSERT_OK(raw_build(src, PART_SIZE, disk, &d, NULL));
	check_disk(_failed, disk, src);
	write_pattern(src, PART_SIZE, 1);
	ASSERT_ERR(raw_build(src, PART_SIZE, disk, &d, NULL), -ENOSPC);
	want = xasprintf("%s: 2097153 bytes do not fit in partition 2 of 2097152 bytes; it needs "
			 "at least 3 MiB", src);
	ASSERT_STR_EQ(diag_message(&d, -ENOSPC), want);
	free(want);
	(void)unlink(src);
	(void)unlink(disk);
	(void)rmdir(dir);
	free(src);
	free(disk);
}

TEST(not_a_regular_file_is_one_line_naming_it)
{
	char *dir = fs_test_tmpdir("raw_test"), *fifo = dir_path(dir, "fifo"),
	     *missing = dir_path(dir, "missing"), *want;
	const struct fs_ops *o = fs_ops_find("raw");
	struct fs_request rq = { .what = "partition 2", .role = "part2", .size_bytes = PART_SIZE };
	struct fs_plan *pl = NULL;
	struct diag d = { 0 };
	uint64_t min;

	rq.source = dir;
	ASSERT_ERR(o->plan(&rq, &d, &pl), -EINVAL);
	want = xasprintf("%s: a directory; partition 2 is filled from a regular file", dir);
	ASSERT_STR_EQ(diag_message(&d, -EINVAL), want);
	free(want);
	ASSERT_EQ(mkfifo(fifo, 0600), 0);
	rq.source = fifo; /* never opened: no wait for a writer */
	ASSERT_ERR(o->min_size(&rq, &d, &min), -EINVAL);
	ASSERT_TRUE(strstr(diag_message(&d, -EINVAL), "a FIFO") != NULL);
	rq.source = missing;
	ASSERT_ERR(o->plan(&rq, &d, &pl), -ENOENT);
	want = xasprintf("%s: cannot open: No such file or directory", missing);
	ASSERT_STR_EQ(diag_message(&d, -ENOENT), want);
	free(want);
	rq.source = NULL;
	ASSERT_ERR(o->plan(&rq, &d, &pl), -EINVAL);
	ASSERT_STR_EQ(diag_message(&d, -EINVAL), "partition 2: filesystem raw needs a source file");
	(void)unlink(fifo);
	(void)rmdir(dir);
	free(fifo);
	free(missing);
}

TEST(file_changed_after_planning_is_stale)
{
	char *dir = fs_test_tmpdir("raw_test"), *src = dir_path(dir, "fw.bin"),
	     *disk = dir_path(dir, "disk.img");
	const struct fs_ops *o = fs_ops_find("raw");
	struct fs_request rq = { .what = "partition 2", .role = "part2", .source = src,
				 .size_bytes = PART_SIZE };
	struct image_plan *ip = image_plan_new(PART_OFF + PART_SIZE);
	struct fs_plan *pl = NULL;
	struct diag d = { 0 };

	write_pattern(src, 0, 10000);
	ASSERT_OK(o->plan(&rq, &d, &pl));
	o->ranges(pl, PART_OFF, ip);
	write_pattern(src, 10000, 100); /* grown between plan and emit */
	ASSERT_ERR(fs_test_emit_plan(ip, disk, &d), -ESTALE);
	ASSERT_TRUE(strstr(diag_message(&d, -ESTALE), "fw.bin") != NULL);
	ASSERT_TRUE(access(disk, F_OK) != 0); /* no output left behind */
	o->free(pl);
	(void)unlink(src);
	(void)rmdir(dir);
	free(src);
	free(disk);
}
