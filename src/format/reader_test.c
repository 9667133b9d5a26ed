#include "format/reader.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/diag.h"
#include "util/fileio.h"
#include "util/test.h"

/* A sparse 16 MiB file with data at 4 MiB and in the last block. */
static const char *make_sparse(void)
{
	static char path[64];
	int fd;

	snprintf(path, sizeof(path), "/tmp/reader_test.XXXXXX");
	fd = mkstemp(path);
	if (fd < 0 || ftruncate(fd, 16 << 20) < 0 ||
	    pwrite_full(fd, "data", 4, 4 << 20) < 0 ||
	    pwrite_full(fd, "tail", 4, (16 << 20) - 4) < 0)
		abort();
	close(fd);
	return path;
}

TEST(reader_raw_is_the_fallback_and_skips_holes)
{
	const char *path = make_sparse();
	struct diag d = { 0 };
	struct image_input *in;
	uint64_t start, len, seen = 0;
	char buf[4];

	ASSERT_OK(image_reader_open(path, NULL, &d, &in));
	ASSERT_STR_EQ(in->reader->ops->name, "raw");
	ASSERT_EQ(in->reader->virtual_size, 16u << 20);
	ASSERT_OK(image_input_read(in, 4 << 20, buf, 4, &d));
	ASSERT_MEM_EQ(buf, "data", 4);
	/* every data range lies inside the disk; the data bytes are inside the ranges */
	for (uint64_t off = 0;; off = start + len) {
		ASSERT_OK(image_input_next_data(in, off, &start, &len, &d));
		if (len == 0)
			break;
		ASSERT_TRUE(start >= off && start + len <= (16u << 20));
		if (start <= (4u << 20) && start + len > (4u << 20))
			seen |= 1;
		if (start + len == (16u << 20))
			seen |= 2;
	}
	ASSERT_EQ(seen, 3u);
	ASSERT_ERR(image_input_read(in, (16 << 20) - 2, buf, 4, &d), -ERANGE);
	ASSERT_TRUE(strstr(d.msg, path) != NULL);
	in = image_input_free(in);
	unlink(path);
}

TEST(reader_missing_file_names_the_path)
{
	struct diag d = { 0 };
	struct image_input *in;

	ASSERT_ERR(image_reader_open("/nonexistent/x.qcow2", NULL, &d, &in), -ENOENT);
	ASSERT_STR_EQ(d.msg, "/nonexistent/x.qcow2: cannot open: No such file or directory");
}

TEST(reader_unknown_format_is_refused)
{
	const char *path = make_sparse();
	struct diag d = { 0 };
	struct image_input *in;

	ASSERT_ERR(image_reader_open(path, "cow", &d, &in), -EINVAL);
	unlink(path);
}

TEST(reader_probe_falls_back_to_raw)
{
	uint8_t head[512] = { 0 };

	ASSERT_STR_EQ(image_reader_probe(head, sizeof(head), 512)->name, "raw");
	ASSERT_TRUE(image_reader_find("raw") != NULL);
	ASSERT_TRUE(image_reader_find("nope") == NULL);
}
