#include "format/format.h"

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
