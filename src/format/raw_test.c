#include "format/format.h"
#include "format/format-test.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/diag.h"
#include "util/fileio.h"
#include "util/outfile.h"
#include "util/test.h"

static char *tmpdir(void)
{
	static char dir[64];

	snprintf(dir, sizeof(dir), "/tmp/raw_test.XXXXXX");
	return mkdtemp(dir);
}

TEST(raw_sink_writes_sparse_file_of_virtual_size)
{
	struct diag d = { 0 };
	struct outfile *o;
	struct sink *s;
	struct format_params p = { .virtual_size = 1 << 20 };
	const struct format_ops *ops = format_find("raw");
	char *dir = tmpdir(), path[128];
	uint8_t *buf;
	size_t len;

	ASSERT_TRUE(ops != NULL);
	snprintf(path, sizeof(path), "%s/out.img", dir);
	ASSERT_OK(outfile_open(path, &d, &o));
	ASSERT_OK(sink_open(ops, &p, o, &d, &s));
	ASSERT_OK(sink_write(s, 512, "abc", 3, &d));
	ASSERT_ERR(sink_write(s, 100, "x", 1, &d), -ESPIPE);
	ASSERT_ERR(sink_write(s, (1 << 20) - 1, "xy", 2, &d), -ERANGE);
	ASSERT_OK(sink_write(s, 4096, "def", 3, &d));
	ASSERT_TRUE(access(path, F_OK) != 0); /* not there before finish */
	ASSERT_OK(sink_finish(s, &d));
	ASSERT_OK(read_file(path, 2 << 20, &buf, &len));
	ASSERT_EQ(len, 1 << 20);
	ASSERT_MEM_EQ(buf + 512, "abc", 3);
	ASSERT_MEM_EQ(buf + 4096, "def", 3);
	ASSERT_EQ(buf[0], 0);
	free(buf);
	(void)unlink(path);
	(void)rmdir(dir);
}

TEST(raw_sink_abort_leaves_no_file)
{
	struct diag d = { 0 };
	struct outfile *o;
	struct sink *s;
	struct format_params p = { .virtual_size = 4096 };
	char *dir = tmpdir(), path[128];

	snprintf(path, sizeof(path), "%s/out.img", dir);
	ASSERT_OK(outfile_open(path, &d, &o));
	ASSERT_OK(sink_open(format_find("raw"), &p, o, &d, &s));
	ASSERT_OK(sink_write(s, 0, "abc", 3, &d));
	sink_abort(s);
	ASSERT_EQ(rmdir(dir), 0); /* empty: neither the target nor the temporary remain */
}

/* ASSERT_* report through _failed. */
static void copy_from_file(int *_failed, bool buffered)
{
	struct diag d = { 0 };
	struct outfile *o;
	struct sink *s;
	struct format_params p = { .virtual_size = 1 << 20, .raw_buffered = buffered };
	char *dir = tmpdir(), path[128], src[128];
	uint8_t data[10000], *buf;
	size_t len;
	int fd;

	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 31 + 7);
	snprintf(src, sizeof(src), "%s/src", dir);
	fd = open(src, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	ASSERT_TRUE(fd >= 0);
	ASSERT_OK(pwrite_full(fd, data, sizeof(data), 0));
	snprintf(path, sizeof(path), "%s/out.img", dir);
	ASSERT_OK(outfile_open(path, &d, &o));
	ASSERT_OK(sink_open(format_find("raw"), &p, o, &d, &s));
	ASSERT_EQ(sink_copy_from_fd(s, 8192, fd, 100, 5000, &d), 5000);
	ASSERT_EQ(s->end, 8192 + 5000);
	ASSERT_ERR(sink_copy_from_fd(s, 4096, fd, 0, 10, &d), -ESPIPE);
	ASSERT_ERR(sink_copy_from_fd(s, (1 << 20) - 10, fd, 0, 20, &d), -ERANGE);
	/* the source ends after 5000 more bytes: a short copy, the rest is the caller's */
	ASSERT_EQ(sink_copy_from_fd(s, 65536, fd, 5000, 20000, &d), 5000);
	ASSERT_EQ(s->end, 65536 + 5000);
	ASSERT_EQ(s->bytes_written, 10000);
	ASSERT_OK(sink_finish(s, &d));
	ASSERT_OK(read_file(path, 2 << 20, &buf, &len));
	ASSERT_EQ(len, 1 << 20);
	ASSERT_MEM_EQ(buf + 8192, data + 100, 5000);
	ASSERT_MEM_EQ(buf + 65536, data + 5000, 5000);
	ASSERT_TRUE(mem_is_zero(buf, 8192));
	ASSERT_TRUE(mem_is_zero(buf + 65536 + 5000, (1 << 20) - 65536 - 5000));
	free(buf);
	(void)close(fd);
	(void)unlink(src);
	(void)unlink(path);
	(void)rmdir(dir);
}

TEST(raw_sink_copies_from_a_file_direct)
{
	copy_from_file(_failed, false);
}

TEST(raw_sink_copies_from_a_file_buffered)
{
	copy_from_file(_failed, true);
}

TEST(raw_sink_copy_from_a_pipe_is_unsupported_and_writes_nothing)
{
	struct diag d = { 0 };
	struct outfile *o;
	struct sink *s;
	/* copy_file_range, the buffered mode's copy, takes regular files only */
	struct format_params p = { .virtual_size = 4096, .raw_buffered = true };
	char *dir = tmpdir(), path[128];
	int pipefd[2];
	ssize_t r;

	ASSERT_EQ(pipe2(pipefd, O_CLOEXEC), 0);
	ASSERT_EQ(write(pipefd[1], "abc", 3), 3);
	snprintf(path, sizeof(path), "%s/out.img", dir);
	ASSERT_OK(outfile_open(path, &d, &o));
	ASSERT_OK(sink_open(format_find("raw"), &p, o, &d, &s));
	r = sink_copy_from_fd(s, 0, pipefd[0], 0, 3, &d);
	ASSERT_TRUE(r < 0 && sink_copy_unsupported(r));
	ASSERT_EQ(s->end, 0);
	ASSERT_EQ(s->bytes_written, 0);
	sink_abort(s);
	(void)close(pipefd[0]);
	(void)close(pipefd[1]);
	ASSERT_EQ(rmdir(dir), 0);
}

TEST(sink_without_copy_op_says_unsupported)
{
	struct diag d = { 0 };
	struct outfile *o;
	struct sink *s;
	struct format_params p = { .virtual_size = 1 << 20 };
	char *dir = tmpdir(), path[128];

	snprintf(path, sizeof(path), "%s/out.vdi", dir);
	ASSERT_OK(outfile_open(path, &d, &o));
	ASSERT_OK(sink_open(format_find("vdi"), &p, o, &d, &s));
	ASSERT_ERR(sink_copy_from_fd(s, 0, 0, 0, 1, &d), -EOPNOTSUPP);
	sink_abort(s);
	ASSERT_EQ(rmdir(dir), 0);
}

/* Direct and buffered output agree byte for byte with a plain mirror of the writes, across
 * window boundaries and partial blocks, and an untouched stretch stays a hole. */
static void writes_match_mirror(int *_failed, bool buffered)
{
	static const struct ftest_range rg[] = {
		{ 512, 3, false },
		{ 4096 + 100, 5000, false },
		{ 2 << 20, 64, true },
		{ (3 << 20) - 1, (5 << 20) + 2, false },
		{ (10 << 20) + 1, 1, false },
		{ (16 << 20) - 100, 612, false },
	};
	struct format_params p = { .virtual_size = (16 << 20) + 512, .raw_buffered = buffered };
	struct diag d = { 0 };
	char *dir = ftest_tmpdir("raw_test"), path[128], mirror[128];
	uint8_t *a, *b;
	size_t alen, blen;
	off_t data;
	int fd;

	snprintf(path, sizeof(path), "%s/out.img", dir);
	snprintf(mirror, sizeof(mirror), "%s/mirror.img", dir);
	ASSERT_OK(ftest_write(format_find("raw"), &p, path, mirror, rg, sizeof(rg) / sizeof(rg[0]),
			      &d));
	ASSERT_OK(read_file(path, 32 << 20, &a, &alen));
	ASSERT_OK(read_file(mirror, 32 << 20, &b, &blen));
	ASSERT_EQ(alen, p.virtual_size);
	ASSERT_EQ(blen, p.virtual_size);
	ASSERT_TRUE(memcmp(a, b, alen) == 0);
	free(a);
	free(b);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	ASSERT_TRUE(fd >= 0);
	data = lseek(fd, 11 << 20, SEEK_DATA);
	ASSERT_TRUE(data >= (16 << 20) - 4096);
	(void)close(fd);
	(void)unlink(path);
	(void)unlink(mirror);
	(void)rmdir(dir);
}

TEST(raw_sink_direct_writes_match_a_mirror)
{
	writes_match_mirror(_failed, false);
}

TEST(raw_sink_buffered_writes_match_a_mirror)
{
	writes_match_mirror(_failed, true);
}

TEST(raw_sink_abort_with_a_window_in_flight_leaves_no_file)
{
	static uint8_t buf[3 << 20];
	struct diag d = { 0 };
	struct outfile *o;
	struct sink *s;
	struct format_params p = { .virtual_size = 8 << 20 };
	char *dir = tmpdir(), path[128];

	memset(buf, 0x5a, sizeof(buf));
	snprintf(path, sizeof(path), "%s/out.img", dir);
	ASSERT_OK(outfile_open(path, &d, &o));
	ASSERT_OK(sink_open(format_find("raw"), &p, o, &d, &s));
	ASSERT_OK(sink_write(s, 4096, buf, sizeof(buf), &d)); /* hands windows to the writer */
	sink_abort(s);
	ASSERT_EQ(rmdir(dir), 0);
}
