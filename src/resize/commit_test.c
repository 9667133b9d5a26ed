/* resize_commit_in_place: a write that fails part way puts the old bytes and size back. */
#include "resize/commit.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "format/reader.h"
#include "resize/view.h"
#include "util/cleanup.h"
#include "util/diag.h"
#include "util/fileio.h"
#include "util/test.h"

TEST(in_place_commit_restores_the_file_when_a_write_fails)
{
	char path[] = "/tmp/resize-commit-XXXXXX";
	_cleanup_(image_input_freep) struct image_input *in = NULL;
	uint8_t before[8192], after[8192];
	struct resize_view v;
	struct diag d = { 0 };
	struct stat st;
	int fd = mkstemp(path), r;

	for (size_t i = 0; i < sizeof(before); i++)
		before[i] = (uint8_t)(i * 7);
	ASSERT_OK(pwrite_full(fd, before, sizeof(before), 0));
	close(fd);
	ASSERT_OK(image_reader_open(path, "raw", &d, &in));
	resize_view_init(&v, in, 1ull << 20); /* grows the file to 1 MiB first */
	ASSERT_OK(resize_view_write(&v, 100, "first", 5, &d));
	ASSERT_OK(resize_view_write(&v, 8000, "crosses the old end", 19, &d));
	/* past any file size the kernel allows: the write fails after the others were made */
	resize_overlay_write(&v.ov, 1ull << 62, "x", 1);
	fd = open(path, O_RDWR | O_CLOEXEC);
	r = resize_commit_in_place(&v, fd, path, &d);
	close(fd);
	resize_view_done(&v);
	ASSERT_TRUE(r < 0);
	ASSERT_OK(stat(path, &st));
	ASSERT_EQ(st.st_size, sizeof(before));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	ASSERT_OK(pread_full(fd, after, sizeof(after), 0));
	close(fd);
	ASSERT_MEM_EQ(after, before, sizeof(before));
	(void)unlink(path);
}

TEST(in_place_commit_writes_in_order_and_grows_sparse)
{
	char path[] = "/tmp/resize-commit-XXXXXX";
	_cleanup_(image_input_freep) struct image_input *in = NULL;
	uint8_t buf[16];
	struct resize_view v;
	struct diag d = { 0 };
	struct stat st;
	int fd = mkstemp(path);

	ASSERT_OK(pwrite_full(fd, "0123456789abcdef", 16, 0));
	close(fd);
	ASSERT_OK(image_reader_open(path, "raw", &d, &in));
	resize_view_init(&v, in, 1ull << 30);
	ASSERT_OK(resize_view_write(&v, (1ull << 30) - 4, "tail", 4, &d));
	ASSERT_OK(resize_view_write(&v, 4, "AB", 2, &d));
	ASSERT_OK(resize_view_read(&v, 0, buf, 8, &d));
	ASSERT_MEM_EQ(buf, "0123AB67", 8);
	fd = open(path, O_RDWR | O_CLOEXEC);
	ASSERT_OK(resize_commit_in_place(&v, fd, path, &d));
	close(fd);
	resize_view_done(&v);
	ASSERT_OK(stat(path, &st));
	ASSERT_EQ(st.st_size, 1ull << 30);
	ASSERT_TRUE(st.st_blocks < 1024); /* sparse: the new space was not written */
	fd = open(path, O_RDONLY | O_CLOEXEC);
	ASSERT_OK(pread_full(fd, buf, 8, 0));
	ASSERT_MEM_EQ(buf, "0123AB67", 8);
	ASSERT_OK(pread_full(fd, buf, 4, (1ull << 30) - 4));
	ASSERT_MEM_EQ(buf, "tail", 4);
	close(fd);
	(void)unlink(path);
}
