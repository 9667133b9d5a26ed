#include "util/fileio.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/test-dir.h"
#include "util/test.h"

/* The temporary file holds data and leaves no name behind; a missing directory is an errno. */
TEST(tmpfile_open_leaves_no_name)
{
	char dir[] = "/tmp/fileio_test.XXXXXX";
	uint8_t back[5] = { 0 };
	int fd;

	ASSERT_TRUE(mkdtemp(dir) != NULL);
	fd = tmpfile_open(dir, "test");
	ASSERT_TRUE(fd >= 0);
	ASSERT_EQ(test_count_entries(dir), 0);
	ASSERT_OK(pwrite_full(fd, "hello", 5, 1 << 20));
	ASSERT_OK(pread_full(fd, back, 5, 1 << 20));
	ASSERT_TRUE(memcmp(back, "hello", 5) == 0);
	close(fd);
	ASSERT_EQ(test_count_entries(dir), 0);
	ASSERT_OK(rmdir(dir));
	ASSERT_EQ(tmpfile_open(dir, "test"), -ENOENT);
}
